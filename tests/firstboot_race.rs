//! Issue 8, item 2: both nodes lose each other at the same moment; only
//! the loser is fenced. Run in the simulator's race model
//! (`clusterkick::firstboot::sim::race`), in virtual time: the outcome
//! depends on the modelled timings (cman and DRBD noticing, the fence
//! devices' lag, the agents' polls), never on this machine's speed, and
//! two runs give the same log. What decides is the helper's own code: the
//! Node Assassin agent (`fence_na`), the wrapper (`fence_clusterkick`) and
//! DRBD's handler (`drbd-fence-peer`), fed cluster.conf as fenced reads it.
//!
//! Both paths: fenced (the cluster's link cut) and DRBD's handler (DRBD's
//! link cut: both Primary, both freeze I/O and fence through fence_node),
//! alone and together; both agents. The controls show the model reproduces
//! the original bugs: without a `delay` both nodes die; a `delay` given to
//! a shipped agent directly (no wrapper) makes every fence fail (fencing.py
//! exits 2 on it), and both nodes hang frozen.

#[cfg(not(feature = "sim"))]
compile_error!("this test runs the helper against the simulator: build it with --features sim (scripts/test.sh does)");

mod support;

use clusterkick::firstboot::fence_peer::DEFAULT_LIMIT_SECS;
use clusterkick::firstboot::sim::race::{self, Report, Scenario};
use std::process::Command;
use std::time::Duration;
use support::*;

const N1: &str = "an-node01.alteeve.com";
const N2: &str = "an-node02.alteeve.com";

/// The example's cluster.conf as `clusterkick render` writes it: the Node
/// Assassin, `delay="15"` on an-node01's device (an-node01 survives).
fn rendered_cluster_conf() -> String {
    let ws = Workspace::new();
    let o = Command::new(CLUSTERKICK)
        .arg("render")
        .arg(ws.profile())
        .args(["--node", "an-node01", "etc/cluster/cluster.conf"])
        .output()
        .expect("run clusterkick render");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = String::from_utf8(o.stdout).expect("UTF-8");
    assert!(
        text.contains(r#"agent="fence_na""#) && text.contains(r#"delay="15""#),
        "the example no longer fences with fence_na and a delay:\n{text}"
    );
    text
}

/// A pair fenced by per-node management boards with a shipped agent
/// (`fence_ilo`, fencing.py), through the wrapper as the contract with the
/// builder says: the victim's `<device>` carries `delay`, the
/// `<fencedevice>` names `fence_clusterkick` and the real agent in
/// `wrap_agent`. `delay` is what goes on an-node01's device (empty: none).
fn wrapped_cluster_conf(delay: &str, agent: &str) -> String {
    let wrap = |name: &str, ip: &str| {
        if agent == "fence_clusterkick" {
            format!(
                r#"<fencedevice name="{name}" agent="fence_clusterkick" wrap_agent="fence_ilo" ipaddr="{ip}" login="admin" passwd="Ilo-pass-7q"/>"#
            )
        } else {
            format!(
                r#"<fencedevice name="{name}" agent="{agent}" ipaddr="{ip}" login="admin" passwd="Ilo-pass-7q"/>"#
            )
        }
    };
    format!(
        r#"<?xml version="1.0"?>
<cluster name="an-cluster" config_version="1">
  <cman two_node="1" expected_votes="1"/>
  <clusternodes>
    <clusternode name="{N1}" nodeid="1">
      <fence><method name="ilo"><device name="ilo_n01" action="off"{delay}/></method></fence>
    </clusternode>
    <clusternode name="{N2}" nodeid="2">
      <fence><method name="ilo"><device name="ilo_n02" action="off"/></method></fence>
    </clusternode>
  </clusternodes>
  <fencedevices>
    {}
    {}
  </fencedevices>
  <fence_daemon post_join_delay="60"/>
</cluster>
"#,
        wrap("ilo_n01", "10.20.1.71"),
        wrap("ilo_n02", "10.20.1.72")
    )
}

#[derive(Clone, Copy)]
enum Cut {
    /// The cluster's link and DRBD's together: fenced and the handler.
    Both,
    /// DRBD's only (the seed's crossover cable): the handler alone.
    Drbd,
    /// The cluster's only: fenced; DRBD then loses a peer that has no
    /// power.
    Cluster,
}

fn scenario(conf: &str, cut: Cut, notice_later: [u64; 2]) -> Scenario {
    Scenario {
        cluster_conf: conf.to_string(),
        nodes: example_configs().clone(),
        installed: ["fence_na", "fence_clusterkick", "fence_ilo"]
            .iter()
            .map(|s| s.to_string())
            .collect(),
        cut_cluster: matches!(cut, Cut::Both | Cut::Cluster),
        cut_drbd: matches!(cut, Cut::Both | Cut::Drbd),
        notice_later: notice_later.map(Duration::from_secs),
        handler_limit: Duration::from_secs(DEFAULT_LIMIT_SECS),
        until: Duration::from_secs(900),
    }
}

fn play(conf: &str, cut: Cut, notice_later: [u64; 2]) -> Report {
    let s = scenario(conf, cut, notice_later);
    let r = race::run(&s).unwrap_or_else(|e| panic!("race model: {e}"));
    // Deterministic: the same run again gives the same story.
    let again = race::run(&s).expect("second run");
    assert_eq!(r.log, again.log, "two runs differ");
    if std::env::var_os("FIRSTBOOT_SHOW_LOGS").is_some() {
        eprintln!("{}", r.log.join("\n"));
    }
    r
}

/// an-node01 (the node whose device carries `delay`) survives, an-node02
/// is fenced, DRBD lets I/O go on only on the survivor and only after the
/// loser lost its power, and the loser's own fence never completed.
fn assert_node01_survives(r: &Report, what: &str) {
    let story = r.log.join("\n");
    assert_eq!(r.survivors(), [N1], "{what}: survivors\n{story}");
    assert!(!r.split_brain, "{what}: split brain\n{story}");
    assert!(
        r.fences.iter().all(|f| f.victim == N2 && f.by == N1),
        "{what}: fences {:?}\n{story}",
        r.fences
    );
    assert!(!r.fences.is_empty(), "{what}: nobody fenced\n{story}");
    let loser_off = r.nodes[N2].off_at.expect("an-node02 lost its power");
    for f in &r.fences {
        assert!(
            f.at >= loser_off,
            "{what}: a fence reported before the power went: {f:?}"
        );
    }
    if let Some(resumed) = r.nodes[N1].resumed_at {
        assert!(
            resumed >= loser_off,
            "{what}: I/O resumed before the peer was off\n{story}"
        );
    }
    assert_eq!(
        r.nodes[N2].resumed_at, None,
        "{what}: the loser resumed I/O"
    );
}

fn assert_paths(r: &Report, want: &[&str], what: &str) {
    let mut paths: Vec<&str> = r.fences.iter().map(|f| f.path.as_str()).collect();
    paths.sort();
    paths.dedup();
    assert_eq!(paths, want, "{what}: paths\n{}", r.log.join("\n"));
}

#[test]
fn race_fence_na_delay_decides_through_both_paths() {
    let conf = rendered_cluster_conf();
    let r = play(&conf, Cut::Both, [0, 0]);
    assert_node01_survives(&r, "fence_na, both links cut");
    // DRBD notices first (10.5 s): the handler fences; fenced (14.8 s)
    // then finds the port already off.
    assert_paths(
        &r,
        &["drbd-fence-peer", "fenced"],
        "fence_na, both links cut",
    );
    let n1 = &r.nodes[N1];
    assert!(n1.frozen_at.is_some() && n1.resumed_at.is_some(), "{n1:?}");
    // The loser was already waiting out its delay when it lost its power:
    // its own fence of an-node01 started, and never finished.
    let story = r.log.join("\n");
    assert!(
        !story.contains("fence_na for an-node01.alteeve.com (method node_assassin) exited 0"),
        "{story}"
    );
    // Time, as a lower bound only: the loser's power went no earlier than
    // DRBD noticed plus the Node Assassin's lag.
    assert!(r.nodes[N2].off_at.unwrap() >= race::DRBD_DETECT + race::NA_OFF_LAG);
}

#[test]
fn race_fence_na_drbd_link_alone() {
    let r = play(&rendered_cluster_conf(), Cut::Drbd, [0, 0]);
    assert_node01_survives(&r, "fence_na, DRBD's link cut");
    // cman still sees both until an-node02 loses its power; after that,
    // fenced on an-node01 fences it too (already off: at once).
    assert!(r.fences[0].path == "drbd-fence-peer", "{:?}", r.fences);
}

#[test]
fn race_fence_na_cluster_link_alone() {
    let r = play(&rendered_cluster_conf(), Cut::Cluster, [0, 0]);
    assert_node01_survives(&r, "fence_na, the cluster's link cut");
    assert!(r.fences[0].path == "fenced", "{:?}", r.fences);
    // DRBD lost a peer without power: the handler's fence succeeds at once.
    assert!(r.nodes[N1].resumed_at.is_some());
}

#[test]
fn race_wrapped_shipped_agent_delay_decides_through_both_paths() {
    let conf = wrapped_cluster_conf(r#" delay="15""#, "fence_clusterkick");
    for (cut, name) in [
        (Cut::Both, "both links"),
        (Cut::Drbd, "DRBD's link"),
        (Cut::Cluster, "the cluster's link"),
    ] {
        let what = format!("fence_clusterkick + fence_ilo, {name} cut");
        let r = play(&conf, cut, [0, 0]);
        assert_node01_survives(&r, &what);
        // Whichever path notices first fences; the other then finds the
        // board already off.
        assert_paths(&r, &["drbd-fence-peer", "fenced"], &what);
    }
}

#[test]
fn race_delay_is_a_head_start_of_its_length() {
    let conf = rendered_cluster_conf();
    // an-node02 notices 5 s earlier: still inside the 15 s head start.
    let r = play(&conf, Cut::Both, [5, 0]);
    assert_node01_survives(&r, "an-node01 notices 5 s later");
    // 20 s later: beyond it, an-node02 wins (the model is not rigged).
    let r = play(&conf, Cut::Both, [20, 0]);
    assert_eq!(r.survivors(), [N2], "{}", r.log.join("\n"));
    assert!(!r.split_brain);
}

#[test]
fn race_control_without_delay_both_nodes_die() {
    // The original bug: no delay anywhere, both fence at once.
    let conf = rendered_cluster_conf().replace(r#" delay="15""#, "");
    let r = play(&conf, Cut::Both, [0, 0]);
    assert!(r.survivors().is_empty(), "{}", r.log.join("\n"));
    let r = play(
        &wrapped_cluster_conf("", "fence_clusterkick"),
        Cut::Drbd,
        [0, 0],
    );
    assert!(r.survivors().is_empty(), "{}", r.log.join("\n"));
}

#[test]
fn race_control_delay_on_a_shipped_agent_breaks_every_fence_of_that_node() {
    // `delay` given to the 2009 Python agent itself: a parse error, exit 2,
    // on every attempt to fence the node whose device carries it. Here
    // an-node01 is slow to notice (20 s): an-node02, which does the right
    // thing, cannot fence it however often it tries; an-node01 fences
    // an-node02 later. Through the wrapper the same timing lets an-node02
    // fence an-node01 (race_delay_is_a_head_start_of_its_length).
    let conf = wrapped_cluster_conf(r#" delay="15""#, "fence_ilo");
    let r = play(&conf, Cut::Both, [20, 0]);
    let story = r.log.join("\n");
    assert!(r.fences.iter().all(|f| f.victim != N1), "{story}");
    assert!(
        story.contains("exited 2: fence_ilo: Parse error: Ignoring unknown option 'delay=15'"),
        "{story}"
    );
    let r = play(
        &wrapped_cluster_conf(r#" delay="15""#, "fence_clusterkick"),
        Cut::Both,
        [20, 0],
    );
    assert_eq!(r.survivors(), [N2], "{}", r.log.join("\n"));
}
