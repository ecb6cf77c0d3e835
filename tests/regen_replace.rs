//! `clusterkick node replace` and `node rejoined` (issue 9): the profile
//! edited in place (only the edited lines change), checked as `check`
//! checks it, and a rebuild that changes only the replaced node's files,
//! its helper config saying `role = "replacement"`. Bad arguments change
//! nothing.

mod support;
use support::*;

use clusterkick::firstboot::config::{FirstbootConfig, NodeRole};
use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Output;

/// node02's MAC line in the example, and the fence line its role follows.
const OLD_MACS: &str =
    "mac = { eth0 = \"00:00:5E:00:53:20\", eth1 = \"00:00:5E:00:53:21\", eth2 = \"00:00:5E:00:53:22\" }";
const NEW_MACS: &str =
    "mac = { eth0 = \"52:54:00:AB:CD:01\", eth1 = \"00:00:5E:00:53:21\", eth2 = \"52:54:00:AB:CD:03\" }";
const FENCE_02: &str = "fence = [ { method = \"node_assassin\", device = \"motoko\", port = \"02\", action = \"off\" } ]\n";
const ROLE: &str = "# New hardware for a dead node (clusterkick node replace): its first-boot\n\
# helper joins the peer, which holds the data, and never initializes.\n\
# `clusterkick node rejoined` removes this once the node is back.\n\
role = \"replacement\"\n";

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A workspace whose example profile and secrets are private (0640, 0600),
/// as a user keeps them.
fn workspace() -> (Workspace, PathBuf) {
    let ws = Workspace::new();
    for e in fs::read_dir(ws.path().join("profiles/an-cluster.secrets")).unwrap() {
        fs::set_permissions(e.unwrap().path(), fs::Permissions::from_mode(0o600)).unwrap();
    }
    let p = ws.profile();
    fs::set_permissions(&p, fs::Permissions::from_mode(0o640)).unwrap();
    (ws, p)
}

fn replace(ws: &Workspace, extra: &[&str]) -> Output {
    let mut args = vec!["node", "replace", "profiles/an-cluster.toml"];
    args.extend_from_slice(extra);
    ws.run(&args)
}

/// Every file under `dir`, by relative path.
fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            let rel = e.path().strip_prefix(dir).unwrap().display().to_string();
            (rel, fs::read(e.path()).unwrap())
        })
        .collect()
}

/// The folder's entries: nothing left behind by an edit.
fn entries(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn test_replace_edits_only_that_nodes_lines_and_check_passes() {
    let (ws, p) = workspace();
    let old = fs::read_to_string(&p).unwrap();
    // By FQDN, MACs in lower case and with dashes: written as check
    // reads them.
    let o = replace(
        &ws,
        &[
            "an-node02.alteeve.com",
            "--mac",
            "eth0=52:54:00:ab:cd:01",
            "--mac",
            "eth2=52-54-00-AB-CD-03",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stderr(&o).contains(
            "next: clusterkick build profiles/an-cluster.toml --out DIR; then install an-node02"
        ),
        "{}",
        stderr(&o)
    );
    assert!(
        stderr(&o).contains("On an-node01: nothing"),
        "{}",
        stderr(&o)
    );
    let new = fs::read_to_string(&p).unwrap();
    assert_eq!(old.matches(OLD_MACS).count(), 1);
    assert_eq!(old.matches(FENCE_02).count(), 1);
    let want = old
        .replace(OLD_MACS, NEW_MACS)
        .replace(FENCE_02, &format!("{FENCE_02}{ROLE}"));
    assert_eq!(new, want, "only node02's MAC line and its role changed");
    assert_eq!(
        fs::metadata(&p).unwrap().permissions().mode() & 0o7777,
        0o640,
        "mode kept"
    );
    assert_eq!(
        entries(&ws.path().join("profiles")),
        entries(&repo().join("profiles")),
        "no temporary file left"
    );
    let o = ws.run(&["check", "profiles/an-cluster.toml"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(!stderr(&o).contains("error"), "{}", stderr(&o));

    // Once the node is back, `rejoined` drops the role and its comment,
    // and nothing else; a second time it has nothing to do.
    let o = ws.run(&["node", "rejoined", "profiles/an-cluster.toml", "an-node02"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        fs::read_to_string(&p).unwrap(),
        old.replace(OLD_MACS, NEW_MACS)
    );
    let o = ws.run(&["node", "rejoined", "profiles/an-cluster.toml", "an-node02"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains("nothing changed"), "{}", stderr(&o));
}

#[test]
fn test_a_rebuild_changes_only_the_replaced_nodes_files() {
    let (ws, p) = workspace();
    let before = tree(&ws.build(&p));
    let o = replace(
        &ws,
        &[
            "an-node02",
            "--mac",
            "eth0=52:54:00:AB:CD:01",
            "--mac",
            "eth2=52:54:00:AB:CD:03",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = ws.build(&p);
    let after = tree(&out);

    let changed: Vec<&String> = before
        .keys()
        .chain(after.keys())
        .filter(|k| before.get(*k) != after.get(*k))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    // The PXE entry is named after the boot NIC's MAC (eth2, the back
    // channel): the old one goes, the new one comes; the menu names it.
    let want = [
        ".clusterkick-manifest",
        "SHA256SUMS",
        "SUMMARY.md",
        "ks/an-node02.ks",
        "network-map.svg",
        "overlay/an-node02.tar.gz",
        "tftpboot/pxelinux.cfg/01-00-00-5e-00-53-22",
        "tftpboot/pxelinux.cfg/01-52-54-00-ab-cd-03",
        "tftpboot/pxelinux.cfg/default",
    ];
    assert_eq!(changed, want);
    // The new PXE entry is the old one with the new MAC; the cluster-wide
    // files differ only by node02's MACs; the sums only in node02's lines.
    // ... and by its overlay's sha256 (SUMMARY.md shows it).
    let sha = |b: &[u8]| {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(b))
    };
    let (old_sha, new_sha) = (
        sha(&before["overlay/an-node02.tar.gz"]),
        sha(&after["overlay/an-node02.tar.gz"]),
    );
    let with_old_macs = |b: &[u8]| {
        String::from_utf8_lossy(b)
            .replace(&new_sha, &old_sha)
            .replace("52:54:00:AB:CD:01", "00:00:5E:00:53:20")
            .replace("52:54:00:AB:CD:03", "00:00:5E:00:53:22")
            .replace("52:54:00:ab:cd:01", "00:00:5e:00:53:20")
            .replace("52:54:00:ab:cd:03", "00:00:5e:00:53:22")
    };
    assert_eq!(
        with_old_macs(&after["tftpboot/pxelinux.cfg/01-52-54-00-ab-cd-03"]),
        String::from_utf8_lossy(&before["tftpboot/pxelinux.cfg/01-00-00-5e-00-53-22"])
    );
    // SUMMARY.md: also the DRBD role row, which names the replacement and
    // the survivor.
    let (b, a) = (
        String::from_utf8_lossy(&before["SUMMARY.md"]).into_owned(),
        with_old_macs(&after["SUMMARY.md"]),
    );
    let differing: Vec<&str> = a.lines().filter(|l| !b.lines().any(|x| x == *l)).collect();
    assert_eq!(
        differing,
        ["| DRBD role at first boot | **survivor**: holds the data; nothing to run on it, its first boot is done | **replacement** (new hardware): joins an-node01, becomes the sync target of its data, never initializes | "],
        "{a}"
    );
    assert_eq!(a.lines().count(), b.lines().count());
    for f in ["network-map.svg", "tftpboot/pxelinux.cfg/default"] {
        assert_eq!(
            with_old_macs(&after[f]),
            String::from_utf8_lossy(&before[f]),
            "{f}"
        );
    }
    for f in ["SHA256SUMS", ".clusterkick-manifest"] {
        let (b, a) = (
            String::from_utf8_lossy(&before[f]).into_owned(),
            String::from_utf8_lossy(&after[f]).into_owned(),
        );
        let differing: Vec<&str> = a.lines().filter(|l| !b.lines().any(|x| x == *l)).collect();
        assert!(!differing.is_empty(), "{f}");
        for l in differing {
            assert!(
                l.contains("an-node02")
                    || l.contains("01-52-54-00-ab-cd-03")
                    || l.contains("pxelinux.cfg/default")
                    || l.contains("SUMMARY.md")
                    || l.contains("network-map.svg")
                    || l.contains("SHA256SUMS"),
                "{f}: {l}"
            );
        }
    }

    // In node02's overlay: its NICs' files and its helper config; node01's
    // overlay is the same bytes (checked above).
    let (old_tar, new_tar) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    fs::write(
        old_tar.path().join("o.tgz"),
        &before["overlay/an-node02.tar.gz"],
    )
    .unwrap();
    fs::write(
        new_tar.path().join("o.tgz"),
        &after["overlay/an-node02.tar.gz"],
    )
    .unwrap();
    let (o, n) = (
        untar(&old_tar.path().join("o.tgz")),
        untar(&new_tar.path().join("o.tgz")),
    );
    let (o, n) = (tree(o.path()), tree(n.path()));
    let members: Vec<&String> = n.keys().filter(|k| o.get(*k) != n.get(*k)).collect();
    assert_eq!(
        members,
        [
            "etc/clusterkick/firstboot.toml",
            "etc/sysconfig/network-scripts/ifcfg-eth0",
            "etc/sysconfig/network-scripts/ifcfg-eth2",
        ]
    );
    assert_eq!(o.len(), n.len());
    let cfg = String::from_utf8(n["etc/clusterkick/firstboot.toml"].clone()).unwrap();
    assert!(cfg.contains("\nrole = \"replacement\"\n"), "{cfg}");
    let cfg = FirstbootConfig::parse(&cfg).unwrap();
    assert_eq!(cfg.role, NodeRole::Replacement);
    assert_eq!(cfg.node.short, "an-node02");
    let old_cfg = String::from_utf8(o["etc/clusterkick/firstboot.toml"].clone()).unwrap();
    assert_eq!(
        FirstbootConfig::parse(&old_cfg).unwrap().role,
        NodeRole::Initial
    );
    assert!(
        String::from_utf8_lossy(&n["etc/sysconfig/network-scripts/ifcfg-eth0"])
            .contains("HWADDR=52:54:00:AB:CD:01"),
    );
}

#[test]
fn test_bad_arguments_exit_2_and_leave_the_profile_as_it_was() {
    let (ws, p) = workspace();
    let old = fs::read(&p).unwrap();
    let cases: [(&[&str], &str); 6] = [
        (
            &["an-node02", "--mac", "eth0=52:54:00:AB:CD"],
            "--mac eth0=\"52:54:00:AB:CD\": not a MAC address",
        ),
        (
            &[
                "an-node02",
                "--mac",
                "eth0=52:54:00:AB:CD:01",
                "--mac",
                "eth1=zz:54:00:AB:CD:02",
            ],
            "--mac eth1=\"zz:54:00:AB:CD:02\": not a MAC address",
        ),
        (
            &["an-node02", "--mac", "eth3=52:54:00:AB:CD:01"],
            "an-node02 has no interface \"eth3\"; its interfaces are eth0, eth1, eth2",
        ),
        (
            &["an-node03", "--mac", "eth0=52:54:00:AB:CD:01"],
            "no node \"an-node03\" in profiles/an-cluster.toml; nodes: an-node01, an-node02",
        ),
        (
            &["an-node02", "--mac", "52:54:00:AB:CD:01"],
            "give IFACE=MAC",
        ),
        (
            &[
                "an-node02",
                "--mac",
                "eth0=52:54:00:AB:CD:01",
                "--mac",
                "eth0=52:54:00:AB:CD:02",
            ],
            "--mac eth0=... is given twice",
        ),
    ];
    for (args, said) in cases {
        let o = replace(&ws, args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(said), "{args:?}: {}", stderr(&o));
        assert_eq!(fs::read(&p).unwrap(), old, "{args:?}");
    }
    // No --mac at all: clap's own refusal.
    let o = replace(&ws, &["an-node02"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    // A MAC the other node has: the edited profile would not pass check.
    let o = replace(&ws, &["an-node02", "--mac", "eth1=90:e6:ba:71:82:d8"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains(
            "error: `nodes[1].mac.eth1`: MAC 90:E6:BA:71:82:D8 is also nodes[0].mac.eth0"
        ),
        "{}",
        stderr(&o)
    );
    assert!(stderr(&o).contains("nothing written"), "{}", stderr(&o));
    assert_eq!(fs::read(&p).unwrap(), old);
    assert_eq!(
        entries(&ws.path().join("profiles")),
        entries(&repo().join("profiles"))
    );
}

#[test]
fn test_both_nodes_replaced_is_refused() {
    let (ws, p) = workspace();
    let o = replace(&ws, &["an-node02", "--mac", "eth0=52:54:00:AB:CD:01"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let once = fs::read(&p).unwrap();
    let o = replace(&ws, &["an-node01", "--mac", "eth0=52:54:00:AB:CD:09"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains(
            "both nodes are replacements, but a replacement joins a peer that holds the data"
        ),
        "{}",
        stderr(&o)
    );
    assert_eq!(fs::read(&p).unwrap(), once);
}

#[test]
fn test_a_replacement_on_the_pacemaker_family_builds_a_joining_helper() {
    let ws = Workspace::new();
    let p = ws.path().join("profiles/an-cluster-el9.toml");
    let o = ws.run(&[
        "node",
        "replace",
        "profiles/an-cluster-el9.toml",
        "an-node02",
        "--mac",
        "ifn0=52:54:00:AB:CD:01",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("On an-node01: nothing"),
        "{}",
        stderr(&o)
    );
    let o = ws.run(&["check", "profiles/an-cluster-el9.toml"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = ws.build_cluster(&p, "an-cluster-el9");
    let t = untar(&out.join("overlay/an-node02.tar.gz"));
    let cfg = fs::read_to_string(t.path().join("etc/clusterkick/firstboot.toml")).unwrap();
    let cfg = FirstbootConfig::parse(&cfg).unwrap();
    assert_eq!(cfg.role, NodeRole::Replacement);
    assert_eq!(
        cfg.platform,
        clusterkick::firstboot::platform::PlatformId::El9Kvm
    );
    cfg.check().expect("the helper accepts its config");
    let t = untar(&out.join("overlay/an-node01.tar.gz"));
    let cfg = fs::read_to_string(t.path().join("etc/clusterkick/firstboot.toml")).unwrap();
    assert_eq!(
        FirstbootConfig::parse(&cfg).unwrap().role,
        NodeRole::Initial
    );

    // A role that is neither.
    let o = ws.run(&["check", "profiles/an-cluster.toml"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v = ws.variant("survivor", |t| {
        t.replace(
            "port = \"02\", action = \"off\" } ]\n",
            "port = \"02\", action = \"off\" } ]\nrole = \"survivor\"\n",
        )
    });
    let o = ws.run(&["check", v.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("error: `nodes[1].role`: \"survivor\" is not a node role"),
        "{}",
        stderr(&o)
    );
}
