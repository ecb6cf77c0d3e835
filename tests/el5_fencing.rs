//! What an EL5 node is given to fence with and to talk on (issue 8, items
//! 1, 2 and 4, builder side): cluster.conf's fence entries in the form the
//! agents that read them accept, the Node Assassin agent's config agreeing
//! with cluster.conf, one totem ring in cluster.conf, and SUMMARY.md saying
//! who survives a split and what makes it so. Read back with xmllint (and
//! the cman schema), the agent's own config parser and GNU tar.

mod support;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use support::*;

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// `xmllint --xpath 'string(EXPR)' FILE`.
fn xpath(file: &Path, expr: &str) -> String {
    let o = Command::new(require("xmllint", "libxml2-utils"))
        .arg("--xpath")
        .arg(format!("string({expr})"))
        .arg(file)
        .output()
        .unwrap();
    assert!(o.status.success(), "xmllint --xpath {expr}: {}", text(&o));
    String::from_utf8_lossy(&o.stdout).trim_end().to_string()
}

fn relaxng(file: &Path) -> Output {
    Command::new(require("xmllint", "libxml2-utils"))
        .args(["--noout", "--relaxng"])
        .arg(fixtures().join("schema/cluster.rng"))
        .arg(file)
        .output()
        .unwrap()
}

/// A build of `profile`; returns the output and an-node01's unpacked overlay.
fn build(ws: &Workspace, profile: &Path) -> (PathBuf, tempfile::TempDir) {
    let out = ws.build(profile);
    let overlay = untar(&out.join("overlay/an-node01.tar.gz"));
    (out, overlay)
}

/// The example fenced by a management board per node through fence_ipmilan
/// (a shipped Python agent): an-node01's entry has the delay.
fn ipmi_profile(ws: &Workspace) -> PathBuf {
    ws.variant("ipmi", |s| {
        let s = s.replace(
            r#"fence = [ { method = "node_assassin", device = "motoko", port = "01", action = "off", delay = 15 } ]"#,
            r#"fence = [ { method = "ipmi", device = "ipmi_n01", action = "off", delay = 15 } ]"#,
        );
        let s = s.replace(
            r#"fence = [ { method = "node_assassin", device = "motoko", port = "02", action = "off" } ]"#,
            r#"fence = [ { method = "ipmi", device = "ipmi_n02", action = "off" } ]"#,
        );
        let start = s.find("[[fence_devices]]").unwrap();
        let end = s[start..].find("\n\n").unwrap() + start;
        let devices = r#"[[fence_devices]]
name = "ipmi_n01"
agent = "fence_ipmilan"
ipaddr = "10.0.1.81"
login = "admin"
passwd_file = "an-cluster.secrets/motoko.passwd"
options = { lanplus = "1" }

[[fence_devices]]
name = "ipmi_n02"
agent = "fence_ipmilan"
ipaddr = "10.0.1.82"
login = "admin"
passwd_file = "an-cluster.secrets/motoko.passwd"
options = { lanplus = "1" }"#;
        format!("{}{devices}{}", &s[..start], &s[end..])
    })
}

#[test]
fn test_a_shipped_agent_with_a_delay_goes_through_the_wrapper() {
    let ws = Workspace::new();
    let (out, overlay) = build(&ws, &ipmi_profile(&ws));
    let conf = overlay.path().join("etc/cluster/cluster.conf");
    let dev = |n: &str, a: &str| xpath(&conf, &format!("//fencedevice[@name='{n}']/@{a}"));
    // The device whose node has the delay: the wrapper, naming the agent.
    assert_eq!(dev("ipmi_n01", "agent"), "fence_clusterkick");
    assert_eq!(dev("ipmi_n01", "wrap_agent"), "fence_ipmilan");
    // The one without: the agent itself, nothing added.
    assert_eq!(dev("ipmi_n02", "agent"), "fence_ipmilan");
    assert_eq!(
        xpath(&conf, "count(//fencedevice[@name='ipmi_n02']/@wrap_agent)"),
        "0"
    );
    // The survivor's entry keeps its delay (fencing an-node01 waits).
    let entry = |node: &str, a: &str| {
        xpath(
            &conf,
            &format!("//clusternode[@name='{node}.alteeve.com']//device/@{a}"),
        )
    };
    assert_eq!(entry("an-node01", "delay"), "15");
    assert_eq!(entry("an-node01", "name"), "ipmi_n01");
    // No delay ever reaches a shipped agent: on entries of devices written
    // as the agent itself there is none.
    assert_eq!(
        xpath(
            &conf,
            "count(//device[@delay][@name=//fencedevice[@agent!='fence_clusterkick' and @agent!='fence_na']/@name])"
        ),
        "0"
    );
    // The cman schema (cluster 3's, generated from the agents' metadata)
    // has no group for clusterkick's wrapper and refuses `wrap_agent`; CentOS
    // 5's cman reads cluster.conf without a schema. What the schema can
    // check is what each shipped agent receives: the entries as the wrapper
    // hands them on (agent = the real one, no wrap_agent, no delay).
    let refused = relaxng(&conf);
    assert!(!refused.status.success(), "{}", text(&refused));
    // ... and `wrap_agent` is all it refuses: without it the file validates.
    let written = std::fs::read_to_string(&conf).unwrap();
    let without = overlay.path().join("without-wrap_agent.conf");
    std::fs::write(
        &without,
        written.replace(r#" wrap_agent="fence_ipmilan""#, ""),
    )
    .unwrap();
    let o = relaxng(&without);
    assert!(o.status.success(), "{}", text(&o));
    let as_seen = written
        .replace(
            r#"agent="fence_clusterkick" wrap_agent="fence_ipmilan""#,
            r#"agent="fence_ipmilan""#,
        )
        .replace(r#" delay="15""#, "");
    let seen = overlay.path().join("as-the-agents-see-it.conf");
    std::fs::write(&seen, as_seen).unwrap();
    let o = relaxng(&seen);
    assert!(o.status.success(), "{}", text(&o));
    // No Node Assassin: no config for it; the %post still links both agents.
    assert!(!overlay
        .path()
        .join("etc/clusterkick/fence_na.toml")
        .exists());
    let post = post_body(&std::fs::read_to_string(out.join("ks/an-node01.ks")).unwrap());
    assert!(post.contains("link=/sbin/fence_clusterkick"), "{post}");
    assert!(!post.contains("fence_na.toml"), "{post}");
    // SUMMARY.md: who survives, and which program sleeps the delay.
    let summary = std::fs::read_to_string(out.join("SUMMARY.md")).unwrap();
    assert!(
        summary.contains("an-node01 survives. Fencing it waits 15 s")
            && summary.contains("fence_clusterkick (clusterkick's delay wrapper) sleeps it, then runs /sbin/fence_ipmilan"),
        "{summary}"
    );
}

#[test]
fn test_fence_na_config_agrees_with_cluster_conf() {
    let ws = Workspace::new();
    let (out, overlay) = build(&ws, &ws.profile());
    let conf = overlay.path().join("etc/cluster/cluster.conf");
    let na = overlay.path().join("etc/clusterkick/fence_na.toml");
    let cfg = clusterkick::fence_na::config::parse(&std::fs::read_to_string(&na).unwrap())
        .unwrap_or_else(|e| panic!("fence_na refuses its config: {e}"));
    // fence_na picks its device by fenced's ipaddr= and checks login and
    // passwd against its config: the two files must agree.
    let ipaddr = xpath(&conf, "//fencedevice[@name='motoko']/@ipaddr");
    let d = cfg
        .device(&ipaddr)
        .expect("a [[device]] for cluster.conf's ipaddr");
    assert_eq!(
        d.login,
        xpath(&conf, "//fencedevice[@name='motoko']/@login")
    );
    let passwd = xpath(&conf, "//fencedevice[@name='motoko']/@passwd");
    assert!(d
        .passwd
        .matches(&clusterkick::fence_na::secret::Secret::new(passwd)));
    // Every port a node's entry names is one the device has.
    for n in ["an-node01", "an-node02"] {
        let port: u8 = xpath(
            &conf,
            &format!("//clusternode[@name='{n}.alteeve.com']//device/@port"),
        )
        .parse()
        .unwrap();
        assert!(port >= 1 && port <= d.max_nodes, "{n}: port {port}");
        assert_eq!(d.alias(port), Some(format!("{n}.alteeve.com").as_str()));
    }
    // The survivor's entry keeps the delay, for fence_na to sleep.
    assert_eq!(
        xpath(
            &conf,
            "//clusternode[@name='an-node01.alteeve.com']//device/@delay"
        ),
        "15"
    );
    // Mode 0600 in the tarball, root's; the same file on both nodes.
    let list = Command::new("tar")
        .args(["-tvzf"])
        .arg(out.join("overlay/an-node01.tar.gz"))
        .output()
        .unwrap();
    let list = String::from_utf8_lossy(&list.stdout);
    let line = list
        .lines()
        .find(|l| l.ends_with(" etc/clusterkick/fence_na.toml"))
        .unwrap_or_else(|| panic!("{list}"));
    assert!(line.starts_with("-rw------- root/root "), "{line}");
    let other = untar(&out.join("overlay/an-node02.tar.gz"));
    assert_eq!(
        std::fs::read(&na).unwrap(),
        std::fs::read(other.path().join("etc/clusterkick/fence_na.toml")).unwrap()
    );
}

#[test]
fn test_one_ring_in_cluster_conf_and_a_second_gets_a_warning() {
    let ws = Workspace::new();
    let (out, overlay) = build(&ws, &ws.profile());
    let conf = overlay.path().join("etc/cluster/cluster.conf");
    assert_eq!(xpath(&conf, "/cluster/cman/multicast/@addr"), "226.94.1.1");
    assert_eq!(xpath(&conf, "/cluster/cman/@port"), "5405");
    assert_eq!(xpath(&conf, "count(//altname)"), "0");
    let o = relaxng(&conf);
    assert!(o.status.success(), "{}", text(&o));
    let one_ring = std::fs::read(&conf).unwrap();
    drop(out);

    // The seed's second ring: `check` warns why, and says nothing else.
    let p = ws.variant("tworings", |s| {
        s.replace(r#"rrp_mode = "none""#, r#"rrp_mode = "passive""#).replace(
            "{ network = \"back_channel\", mcastaddr = \"226.94.1.1\", mcastport = 5405 },\n",
            "{ network = \"back_channel\", mcastaddr = \"226.94.1.1\", mcastport = 5405 },\n  { network = \"drbd\", mcastaddr = \"227.94.1.1\", mcastport = 5406 },\n",
        )
    });
    let o = ws.run(&["check", p.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    let warning = err
        .lines()
        .find(|l| l.contains("`totem.rings[1]`"))
        .unwrap_or_else(|| panic!("no warning for the second ring: {err}"));
    assert!(warning.contains("tworings.toml:"), "{warning}");
    assert!(warning.contains(": warning: "), "{warning}");
    for why in [
        "DLM",
        "first address only",
        "hang GFS2 on both nodes without any fencing",
        "never supported redundant rings on RHEL 5",
        "bond",
    ] {
        assert!(warning.contains(why), "{why:?} missing: {warning}");
    }
    // The build: cluster.conf as with one ring; openais.conf (not read by
    // cman) keeps both; SUMMARY.md and the map say the second is unused.
    let (out, overlay) = build(&ws, &p);
    let conf = overlay.path().join("etc/cluster/cluster.conf");
    assert_eq!(std::fs::read(&conf).unwrap(), one_ring);
    let ais = std::fs::read_to_string(overlay.path().join("etc/ais/openais.conf")).unwrap();
    assert!(ais.contains("NOT READ BY CMAN"), "{ais}");
    assert!(ais.contains("mcastaddr: 227.94.1.1"), "{ais}");
    let summary = std::fs::read_to_string(out.join("SUMMARY.md")).unwrap();
    assert!(
        summary.contains("one totem ring, on the back-channel network")
            && summary.contains("ring 1 (the DRBD network, 227.94.1.1:5406) is not used"),
        "{summary}"
    );
    assert!(!summary.contains("secauth off"), "{summary}");
    let map = std::fs::read_to_string(out.join("network-map.svg")).unwrap();
    assert!(!map.contains("227.94.1.1"), "the map shows the unused ring");
    assert!(map.contains("226.94.1.1:5405"), "the map lost ring 0");
}

#[test]
fn test_summary_says_who_survives_a_split_and_how() {
    let ws = Workspace::new();
    let (out, _) = build(&ws, &ws.profile());
    let summary = std::fs::read_to_string(out.join("SUMMARY.md")).unwrap();
    assert!(
        summary.contains("an-node01 survives. Fencing it waits 15 s, the delay on its own fence entry: fence_na (clusterkick's Node Assassin agent) sleeps it before off and reboot. Fencing an-node02 waits 0 s"),
        "{summary}"
    );
    assert!(
        summary.contains("through DRBD's fence-peer handler"),
        "{summary}"
    );
    // With the delay on the other node, the other node survives.
    let p = ws.variant("n02wins", |s| {
        s.replace(", action = \"off\", delay = 15 }", ", action = \"off\" }")
            .replace(
                "port = \"02\", action = \"off\" }",
                "port = \"02\", action = \"off\", delay = 20 }",
            )
    });
    let (out, overlay) = build(&ws, &p);
    let summary = std::fs::read_to_string(out.join("SUMMARY.md")).unwrap();
    assert!(
        summary.contains("an-node02 survives. Fencing it waits 20 s"),
        "{summary}"
    );
    let conf = overlay.path().join("etc/cluster/cluster.conf");
    assert_eq!(
        xpath(
            &conf,
            "//clusternode[@name='an-node02.alteeve.com']//device/@delay"
        ),
        "20"
    );
    assert_eq!(xpath(&conf, "count(//device[@delay])"), "1");
}
