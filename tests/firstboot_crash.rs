//! Crash at every step and still finish, with no destructive command run
//! twice (asserted over the model's command log):
//! - a crash (the process exits) right after every change command of
//!   either node, then a restart;
//! - a real SIGKILL of a process hung right after a chosen command;
//! - a power loss (services, DRBD and mounts gone) after chosen commands.

#[cfg(not(feature = "sim"))]
compile_error!("this test runs the helper against the simulator: build it with --features sim (scripts/test.sh does)");

mod support;

use std::collections::HashSet;
use std::time::{Duration, Instant};
use support::*;

fn change_counts() -> ([u64; 2], [Vec<String>; 2]) {
    let clean = Pair::new(|_, _| {});
    assert_eq!(clean.run_both(), [0, 0], "{}", clean.dump());
    let w = clean.world();
    (
        [w.node(SHORTS[0]).changes, w.node(SHORTS[1]).changes],
        [
            w.commands(SHORTS[0], "change"),
            w.commands(SHORTS[1], "change"),
        ],
    )
}

fn assert_no_destructive_twice(pair: &Pair, what: &str) {
    let w = pair.world();
    for short in SHORTS {
        let d = destructive_lines(&w, short);
        let set: HashSet<&String> = d.iter().collect();
        assert_eq!(
            set.len(),
            d.len(),
            "{what}: {short} ran a destructive command twice: {d:#?}"
        );
    }
}

/// Crashes node `node` right after each of its change commands in turn.
fn crash_everywhere(node: usize) {
    let (counts, changes) = change_counts();
    let other = 1 - node;
    for k in 1..=counts[node] {
        let what = format!(
            "{} crashed after change {k} ({:?})",
            SHORTS[node],
            changes[node][k as usize - 1]
        );
        let pair = Pair::new(|_, _| {});
        pair.update_world(|w| w.node_mut(SHORTS[node]).faults.crash_after_change = Some(k));
        let a = pair.spawn(node, &[]);
        let b = pair.spawn(other, &[]);
        let first = pair.finish(node, a);
        assert_eq!(
            first,
            exit::SIM_CRASH,
            "{what}: expected the injected crash\n{}",
            pair.dump()
        );
        let again = pair.spawn(node, &[]);
        let ca = pair.finish(node, again);
        let cb = pair.finish(other, b);
        assert_eq!((ca, cb), (0, 0), "{what}\n{}", pair.dump());
        assert_finished(&pair);
        assert_no_destructive_twice(&pair, &what);
    }
}

#[test]
fn firstboot_crash_primary_after_every_change() {
    crash_everywhere(0);
}

#[test]
fn firstboot_crash_secondary_after_every_change() {
    crash_everywhere(1);
}

/// The change number of a node's first change command starting with
/// `prefix` in a clean run.
fn change_no(changes: &[String], prefix: &str) -> u64 {
    changes
        .iter()
        .position(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no change {prefix:?}")) as u64
        + 1
}

#[test]
fn firstboot_crash_sigkill_and_restart() {
    let (_, changes) = change_counts();
    let points = [
        (0, "drbdadm -- --force create-md"),
        (0, "drbdadm -- --overwrite-data-of-peer"),
        (0, "pvcreate"),
        (0, "mkfs.gfs2"),
        (1, "drbdadm primary r0"),
    ];
    for (node, prefix) in points {
        let k = change_no(&changes[node], prefix);
        let what = format!("{} killed after {prefix}", SHORTS[node]);
        let pair = Pair::new(|_, _| {});
        pair.update_world(|w| w.node_mut(SHORTS[node]).faults.hang_after_change = Some(k));
        let mut a = pair.spawn(node, &[]);
        let b = pair.spawn(1 - node, &[]);
        // Wait until it hangs right after the command, then SIGKILL it.
        let start = Instant::now();
        loop {
            let w = pair.world();
            let n = w.node(SHORTS[node]);
            if n.changes >= k && n.faults.hang_after_change.is_none() {
                break;
            }
            assert!(
                start.elapsed() < RUN_TIMEOUT,
                "{what}: never reached the hang"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(
            a.try_wait().expect("try_wait").is_none(),
            "{what}: not hanging"
        );
        a.kill().expect("SIGKILL");
        let _ = a.wait();
        let again = pair.spawn(node, &[]);
        let ca = pair.finish(node, again);
        let cb = pair.finish(1 - node, b);
        assert_eq!((ca, cb), (0, 0), "{what}\n{}", pair.dump());
        assert_finished(&pair);
        assert_no_destructive_twice(&pair, &what);
    }
}

#[test]
fn firstboot_crash_power_loss_and_reboot() {
    let (_, changes) = change_counts();
    let points = [
        (0, "/etc/init.d/cman start"),
        (0, "drbdadm -- --overwrite-data-of-peer"),
        (0, "pvcreate"),
        (0, "mkfs.gfs2"),
        (1, "/etc/init.d/clusterkick-drbd start"),
        (1, "drbdadm primary r0"),
        (1, "/etc/init.d/gfs2 start"),
    ];
    for (node, prefix) in points {
        let k = change_no(&changes[node], prefix);
        let what = format!("{} lost power after {prefix}", SHORTS[node]);
        let pair = Pair::new(|_, _| {});
        pair.update_world(|w| w.node_mut(SHORTS[node]).faults.reboot_after_change = Some(k));
        let a = pair.spawn(node, &[]);
        let b = pair.spawn(1 - node, &[]);
        assert_eq!(
            pair.finish(node, a),
            exit::SIM_CRASH,
            "{what}\n{}",
            pair.dump()
        );
        let again = pair.spawn(node, &[]);
        let ca = pair.finish(node, again);
        let cb = pair.finish(1 - node, b);
        assert_eq!((ca, cb), (0, 0), "{what}\n{}", pair.dump());
        assert_finished(&pair);
        assert_no_destructive_twice(&pair, &what);
        assert!(pair.world().events.iter().any(|e| e.ends_with("rebooted")));
    }
}

/// A helper that passed a barrier and stopped before its state file said so
/// (power lost during that write) meets the barrier again, while its peer,
/// past it, waits for this node in the next step (cman's quorum) and sends
/// nothing: the peer's `passed=` fact lets it through at once. Without it
/// both wait until a timeout stops them.
#[test]
fn firstboot_crash_a_passed_barrier_the_state_file_lost_is_passed_again() {
    let (_, changes) = change_counts();
    let k = change_no(&changes[0], "/etc/init.d/cman start");
    let pair = Pair::new(|_, _| {});
    // Power lost: cman stops with it, so the peer waits for quorum.
    pair.update_world(|w| w.node_mut(SHORTS[0]).faults.reboot_after_change = Some(k));
    let a = pair.spawn(0, &[]);
    let b = pair.spawn(1, &[]);
    assert_eq!(pair.finish(0, a), exit::SIM_CRASH, "{}", pair.dump());
    // The record of barrier `inspected`, lost.
    let path = &pair.cfgs[0].state_file;
    let mut state: toml::Table = std::fs::read_to_string(path)
        .expect("state file")
        .parse()
        .expect("state file is TOML");
    let completed = state
        .get_mut("completed")
        .and_then(toml::Value::as_array_mut)
        .expect("completed");
    let before = completed.len();
    completed.retain(|c| c.as_str() != Some("barrier:inspected"));
    assert_eq!(completed.len(), before - 1, "{state}");
    std::fs::write(path, toml::to_string(&state).unwrap()).unwrap();
    let again = pair.spawn(0, &[]);
    let ca = pair.finish(0, again);
    let cb = pair.finish(1, b);
    assert_eq!((ca, cb), (0, 0), "{}", pair.dump());
    assert_finished(&pair);
    assert_no_destructive_twice(&pair, "a lost barrier record");
    let log = pair.log(0);
    let restarted = &log[log
        .find("2 of 26 items done")
        .expect("the restart, 2 items done")..];
    assert!(
        restarted.contains("passed barrier inspected"),
        "{restarted}"
    );
}
