//! The pacemaker family, crashed at every step: a crash (the process
//! exits) right after every change command of either node, then a restart;
//! a real SIGKILL of a process hung right after chosen commands; a power
//! loss (units, DRBD, lockspaces and mounts gone; enabled units come back)
//! after chosen commands. Each time the pair still finishes and no
//! destructive command runs twice (asserted over the simulator's log).

#[cfg(not(feature = "sim"))]
compile_error!("this test runs the helper against the simulator: build it with --features sim (scripts/test.sh does)");

mod support;

use clusterkick::firstboot::platform::PlatformId;
use std::collections::HashSet;
use std::time::{Duration, Instant};
use support::*;

fn change_counts(platform: PlatformId) -> ([u64; 2], [Vec<String>; 2]) {
    let clean = pcmk_pair(platform, |_, _| {});
    assert_eq!(clean.run_both(), [0, 0], "{}", clean.dump());
    let w = clean.pcmk_world();
    (
        [w.node(SHORTS[0]).changes, w.node(SHORTS[1]).changes],
        [
            w.commands(SHORTS[0], "change"),
            w.commands(SHORTS[1], "change"),
        ],
    )
}

fn assert_no_destructive_twice(pair: &Pair, what: &str) {
    let w = pair.pcmk_world();
    for short in SHORTS {
        let d = pcmk_destructive(&w, short);
        let set: HashSet<&String> = d.iter().collect();
        assert_eq!(
            set.len(),
            d.len(),
            "{what}: {short} ran a destructive command twice: {d:#?}"
        );
    }
}

fn crash_everywhere(platform: PlatformId, node: usize) {
    let (counts, changes) = change_counts(platform);
    let other = 1 - node;
    for k in 1..=counts[node] {
        let what = format!(
            "{platform}: {} crashed after change {k} ({:?})",
            SHORTS[node],
            changes[node][k as usize - 1]
        );
        let pair = pcmk_pair(platform, |_, _| {});
        pair.update_pcmk_world(|w| w.node_mut(SHORTS[node]).faults.crash_after_change = Some(k));
        let a = pair.spawn(node, &[]);
        let b = pair.spawn(other, &[]);
        let first = code(wait(a, RUN_TIMEOUT));
        assert_eq!(
            first,
            exit::SIM_CRASH,
            "{what}: expected the injected crash\n{}",
            pair.dump()
        );
        let again = pair.spawn(node, &[]);
        let ca = code(wait(again, RUN_TIMEOUT));
        let cb = code(wait(b, RUN_TIMEOUT));
        assert_eq!((ca, cb), (0, 0), "{what}\n{}", pair.dump());
        assert_pcmk_finished(&pair);
        assert_no_destructive_twice(&pair, &what);
    }
}

#[test]
fn firstboot_pcmk_crash_primary_after_every_change() {
    crash_everywhere(PlatformId::Debian12Kvm, 0);
}

#[test]
fn firstboot_pcmk_crash_secondary_after_every_change() {
    crash_everywhere(PlatformId::Debian12Kvm, 1);
}

#[test]
fn firstboot_pcmk_crash_el9_primary_after_every_change() {
    crash_everywhere(PlatformId::El9Kvm, 0);
}

fn change_no(changes: &[String], prefix: &str) -> u64 {
    changes
        .iter()
        .position(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no change {prefix:?}")) as u64
        + 1
}

#[test]
fn firstboot_pcmk_crash_sigkill_and_restart() {
    let platform = PlatformId::Debian12Kvm;
    let (_, changes) = change_counts(platform);
    let points = [
        (0, "cibadmin --replace"),
        (0, "drbdadm create-md"),
        (0, "drbdadm primary --force"),
        (1, "drbdadm down r0"),
        (0, "crm_resource --resource drbd_r0-clone"),
        (0, "vgcreate"),
        (0, "mkfs.gfs2"),
        (1, "vgchange --lock-start"),
    ];
    for (node, prefix) in points {
        let k = change_no(&changes[node], prefix);
        let what = format!("{} killed after {prefix}", SHORTS[node]);
        let pair = pcmk_pair(platform, |_, _| {});
        pair.update_pcmk_world(|w| w.node_mut(SHORTS[node]).faults.hang_after_change = Some(k));
        let mut a = pair.spawn(node, &[]);
        let b = pair.spawn(1 - node, &[]);
        let start = Instant::now();
        loop {
            let w = pair.pcmk_world();
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
        let ca = code(wait(again, RUN_TIMEOUT));
        let cb = code(wait(b, RUN_TIMEOUT));
        assert_eq!((ca, cb), (0, 0), "{what}\n{}", pair.dump());
        assert_pcmk_finished(&pair);
        assert_no_destructive_twice(&pair, &what);
    }
}

#[test]
fn firstboot_pcmk_crash_power_loss_and_reboot() {
    for platform in PLATFORMS {
        let (_, changes) = change_counts(platform);
        let points = [
            (0, "systemctl start pacemaker.service"),
            (0, "cibadmin --replace"),
            (1, "drbdadm up r0"),
            (0, "drbdadm primary --force"),
            (0, "crm_resource --resource drbd_r0-clone"),
            (0, "pvcreate"),
            (0, "mkfs.gfs2"),
            (1, "vgchange --lock-start"),
            (0, "crm_resource --resource storage_drbd_vg0-clone"),
            (1, "systemctl enable"),
        ];
        for (node, prefix) in points {
            let k = change_no(&changes[node], prefix);
            let what = format!("{platform}: {} lost power after {prefix}", SHORTS[node]);
            let pair = pcmk_pair(platform, |_, _| {});
            pair.update_pcmk_world(|w| {
                w.node_mut(SHORTS[node]).faults.reboot_after_change = Some(k)
            });
            let a = pair.spawn(node, &[]);
            let b = pair.spawn(1 - node, &[]);
            assert_eq!(
                code(wait(a, RUN_TIMEOUT)),
                exit::SIM_CRASH,
                "{what}\n{}",
                pair.dump()
            );
            let again = pair.spawn(node, &[]);
            let ca = code(wait(again, RUN_TIMEOUT));
            let cb = code(wait(b, RUN_TIMEOUT));
            assert_eq!((ca, cb), (0, 0), "{what}\n{}", pair.dump());
            assert_pcmk_finished(&pair);
            assert_no_destructive_twice(&pair, &what);
            assert!(pair
                .pcmk_world()
                .events
                .iter()
                .any(|e| e.ends_with("rebooted")));
        }
    }
}
