//! Generated files checked by tools nobody here wrote: pykickstart,
//! xmllint with the cman schema, DRBD's 8.3 parser, corosync's config
//! parser, shellcheck and the shells' own syntax checks.

mod support;
use std::path::Path;
use std::process::Command;
use support::*;

fn ok(cmd: &mut Command, what: &str) -> String {
    let o = cmd
        .output()
        .unwrap_or_else(|e| panic!("running {what}: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        o.status.success(),
        "{what} rejected it (exit {:?}):\n{text}",
        o.status.code()
    );
    text
}

struct Built {
    _ws: Workspace,
    out: std::path::PathBuf,
    overlays: Vec<(String, tempfile::TempDir)>,
}

fn built(profile_edit: Option<fn(String) -> String>) -> Built {
    let ws = Workspace::new();
    let profile = match profile_edit {
        Some(f) => ws.variant("an-cluster", f),
        None => ws.profile(),
    };
    let out = ws.build(&profile);
    let overlays = ["an-node01", "an-node02"]
        .iter()
        .map(|n| {
            (
                n.to_string(),
                untar(&out.join(format!("overlay/{n}.tar.gz"))),
            )
        })
        .collect();
    Built {
        _ws: ws,
        out,
        overlays,
    }
}

#[test]
fn test_kickstarts_pass_ksvalidator_rhel5() {
    let ksv = require("ksvalidator", "pykickstart (pip, in /opt/ksvenv)");
    for b in [
        built(None),
        built(Some(|s| {
            s.replace(r#"devices = ["sda", "sdb"]"#, r#"devices = ["sda"]"#)
        })),
    ] {
        for n in ["an-node01", "an-node02"] {
            let ks = b.out.join(format!("ks/{n}.ks"));
            let text = ok(
                Command::new(&ksv).args(["-v", "RHEL5"]).arg(&ks),
                "ksvalidator -v RHEL5",
            );
            assert!(!text.contains("problem"), "{text}");
        }
    }
}

#[test]
fn test_cluster_conf_validates_against_cman_schema() {
    let xmllint = require("xmllint", "libxml2-utils");
    let rng = fixtures().join("schema/cluster.rng");
    let b = built(None);
    let mut confs = Vec::new();
    for (n, x) in &b.overlays {
        let conf = x.path().join("etc/cluster/cluster.conf");
        let text = ok(
            Command::new(&xmllint)
                .args(["--noout", "--relaxng"])
                .arg(&rng)
                .arg(&conf),
            "xmllint --relaxng cluster.rng",
        );
        assert!(text.contains("validates"), "{n}: {text}");
        confs.push(std::fs::read(&conf).unwrap());
    }
    assert_eq!(
        confs[0], confs[1],
        "both nodes must get the same cluster.conf"
    );
}

#[test]
fn test_cluster_conf_escapes_xml_in_values() {
    let xmllint = require("xmllint", "libxml2-utils");
    let rng = fixtures().join("schema/cluster.rng");
    let b = built(Some(|s| {
        s.replace(r#"login = "motoko""#, r#"login = "mo\"to<ko>&'""#)
    }));
    let conf = b.overlays[0].1.path().join("etc/cluster/cluster.conf");
    ok(
        Command::new(&xmllint)
            .args(["--noout", "--relaxng"])
            .arg(&rng)
            .arg(&conf),
        "xmllint",
    );
    // Read the attribute back through a real XML parser.
    let v = ok(
        Command::new(&xmllint)
            .args(["--xpath", "string(//fencedevice/@login)"])
            .arg(&conf),
        "xmllint --xpath",
    );
    assert_eq!(v.trim_end(), r#"mo"to<ko>&'"#);
}

#[test]
fn test_drbd_conf_parses_with_drbdadm_83_on_both_nodes() {
    let drbdadm = require("/lib/drbd/drbdadm-83", "drbd-utils");
    for fencing in [true, false] {
        let b = if fencing {
            built(None)
        } else {
            built(Some(|s| {
                s.replace(
                    "primary = \"an-node01\"",
                    "primary = \"an-node01\"\nfencing = false",
                )
            }))
        };
        for (n, x) in &b.overlays {
            let conf = x.path().join("etc/drbd.conf");
            let dump = ok(
                Command::new(&drbdadm)
                    .args(["-d", "-c"])
                    .arg(&conf)
                    .args(["dump", "all"])
                    .env("__DRBD_NODE__", format!("{n}.alteeve.com")),
                "drbdadm-83 dump all",
            );
            assert!(dump.contains("allow-two-primaries"), "{dump}");
            assert_eq!(dump.contains("resource-and-stonith"), fencing, "{dump}");
            // The exact drbdsetup calls this node would make.
            let up = ok(
                Command::new(&drbdadm)
                    .args(["-d", "-c"])
                    .arg(&conf)
                    .args(["up", "r0"])
                    .env("__DRBD_NODE__", format!("{n}.alteeve.com")),
                "drbdadm-83 up r0",
            );
            let me = if n == "an-node01" {
                "10.0.0.71"
            } else {
                "10.0.0.72"
            };
            assert!(up.contains(&format!("ipv4:{me}:7789")), "{up}");
            assert!(
                up.contains(&format!("/dev/an-lvm0{}/lv02", &n[8..])),
                "{up}"
            );
        }
    }
}

#[test]
fn test_openais_conf_parses_with_corosync() {
    let corosync = require("corosync", "corosync");
    let b = built(None);
    let conf = b.overlays[0].1.path().join("etc/ais/openais.conf");
    // corosync 3 needs a nodelist to get past its own checks; the syntax
    // check is what we want from it (see tests/fixtures/INDEX).
    let t = tempfile::tempdir().unwrap();
    let copy = t.path().join("openais.conf");
    let mut text = std::fs::read_to_string(&conf).unwrap();
    text.push_str("nodelist {\n\tnode {\n\t\tring0_addr: 127.0.0.1\n\t\tnodeid: 1\n\t}\n}\n");
    std::fs::write(&copy, text).unwrap();
    ok(
        Command::new(corosync).arg("-t").arg("-c").arg(&copy),
        "corosync -t",
    );
}

fn check_script(path: &Path, shell: &str) {
    let shellcheck = require("shellcheck", "shellcheck");
    ok(
        Command::new(&shellcheck)
            .args(["-s", shell, "-S", "style"])
            .arg(path),
        &format!("shellcheck -s {shell} {}", path.display()),
    );
    ok(
        Command::new(shell).arg("-n").arg(path),
        &format!("{shell} -n"),
    );
    if shell == "sh" {
        ok(Command::new("dash").arg("-n").arg(path), "dash -n");
    }
}

#[test]
fn test_generated_scripts_pass_shellcheck() {
    let b = built(None);
    for (_, x) in &b.overlays {
        check_script(&x.path().join("etc/xen/scripts/an-network-script"), "sh");
        check_script(&x.path().join("etc/rc.d/init.d/clusterkick-drbd"), "bash");
        check_script(
            &x.path().join("etc/rc.d/init.d/clusterkick-firstboot"),
            "bash",
        );
    }
    let t = tempfile::tempdir().unwrap();
    for n in ["an-node01", "an-node02"] {
        let ks = std::fs::read_to_string(b.out.join(format!("ks/{n}.ks"))).unwrap();
        let post = t.path().join(format!("{n}-post.sh"));
        std::fs::write(&post, post_body(&ks)).unwrap();
        check_script(&post, "bash");
    }
}

#[test]
fn test_network_map_is_well_formed_svg() {
    let xmllint = require("xmllint", "libxml2-utils");
    let b = built(None);
    let svg = b.out.join("network-map.svg");
    ok(
        Command::new(&xmllint).arg("--noout").arg(&svg),
        "xmllint (well-formed)",
    );
    let text = std::fs::read_to_string(&svg).unwrap();
    for must in [
        "an-node01.alteeve.com",
        "an-node02.alteeve.com",
        "10.0.1.71",
        "10.0.0.72",
        "192.168.1.71",
        "xenbr0",
        "xenbr1",
        "xenbr2",
        "motoko",
        "10.0.1.0/24",
        "10.0.0.0/24",
        "192.168.1.0/24",
        "00:0E:0C:59:45:78",
    ] {
        assert!(text.contains(must), "network map lacks {must}");
    }
}

#[test]
fn test_fence_methods_and_devices_keep_their_order() {
    let xmllint = require("xmllint", "libxml2-utils");
    let rng = fixtures().join("schema/cluster.rng");
    // Three methods for an-node01 (IPMI first, then two PDUs together, then
    // the Node Assassin), three devices.
    let b = built(Some(|s| {
        let s = s.replace(
            "fence = [ { method = \"node_assassin\", device = \"motoko\", port = \"01\", action = \"off\", delay = 15 } ]",
            "fence = [\n  { method = \"ipmi\", device = \"ipmi01\", action = \"reboot\", delay = 15 },\n  { method = \"pdu\", device = \"pdu_a\", port = \"1\" },\n  { method = \"pdu\", device = \"pdu_b\", port = \"1\" },\n  { method = \"node_assassin\", device = \"motoko\", port = \"01\", action = \"off\" },\n]",
        );
        s + "\n[[fence_devices]]\nname = \"ipmi01\"\nagent = \"fence_ipmilan\"\nipaddr = \"10.0.1.171\"\nlogin = \"admin\"\npasswd_file = \"an-cluster.secrets/motoko.passwd\"\n\n[[fence_devices]]\nname = \"pdu_a\"\nagent = \"fence_apc\"\nipaddr = \"10.0.1.201\"\nlogin = \"apc\"\npasswd_file = \"an-cluster.secrets/motoko.passwd\"\n\n[[fence_devices]]\nname = \"pdu_b\"\nagent = \"fence_apc\"\nipaddr = \"10.0.1.202\"\nlogin = \"apc\"\npasswd_file = \"an-cluster.secrets/motoko.passwd\"\n"
    }));
    let conf = b.overlays[0].1.path().join("etc/cluster/cluster.conf");
    // The IPMI entry has the delay, so its device goes through the delay
    // wrapper; the schema knows no `wrap_agent` (tests/el5_fencing.rs), so
    // it checks the file without that one attribute.
    let written = std::fs::read_to_string(&conf).unwrap();
    let wrap = r#" wrap_agent="fence_ipmilan""#;
    assert_eq!(written.matches(wrap).count(), 1, "{written}");
    let checked = b.overlays[0].1.path().join("cluster.conf.for-schema");
    std::fs::write(&checked, written.replace(wrap, "")).unwrap();
    ok(
        Command::new(&xmllint)
            .args(["--noout", "--relaxng"])
            .arg(&rng)
            .arg(&checked),
        "xmllint --relaxng",
    );
    let q = |xpath: &str| {
        ok(
            Command::new(&xmllint).args(["--xpath", xpath]).arg(&conf),
            "xmllint --xpath",
        )
    };
    let methods = q("//clusternode[@nodeid='1']/fence/method/@name");
    let names: Vec<&str> = methods.split_whitespace().collect();
    assert_eq!(
        names,
        ["name=\"ipmi\"", "name=\"pdu\"", "name=\"node_assassin\""]
    );
    let pdu = q("//clusternode[@nodeid='1']/fence/method[@name='pdu']/device/@name");
    assert_eq!(
        pdu.split_whitespace().collect::<Vec<_>>(),
        ["name=\"pdu_a\"", "name=\"pdu_b\""]
    );
    let devices = q("//fencedevices/fencedevice/@name");
    assert_eq!(
        devices.split_whitespace().collect::<Vec<_>>(),
        [
            "name=\"motoko\"",
            "name=\"ipmi01\"",
            "name=\"pdu_a\"",
            "name=\"pdu_b\""
        ]
    );
}
