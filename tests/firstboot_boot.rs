//! Issue 8, items 7 and 9, the helper's side: what a node does at every
//! boot once it was set up, run against the simulator.
//!
//! - A node that boots while its peer stays away (a RAID resync, an fsck)
//!   starts nothing of the cluster, promotes nothing and fences nobody,
//!   however long it waits: hours of simulated time pass (the simulator's
//!   clock runs 3600 times faster for it), and every minute it says whom it
//!   waits for. When the peer comes, both start the stack.
//! - `start-alone` is the operator's way out: it refuses while the boot
//!   helper runs and without its confirmation; with it, the peer is fenced
//!   (through DRBD's fence-peer handler: our `drbd-fence-peer` code running
//!   `fence_node`) only then, and the node runs alone.
//! - The control: a node whose runlevels start cman at boot (the old
//!   design) fences its merely slow peer after post_join_delay.
//! - The boot order: xend's links moved by a package update are repaired
//!   at the next boot with chkconfig (the simulator applies chkconfig
//!   1.3.30's rules); DRBD comes up through clusterkick-drbd, never the
//!   package's script, whose update adds no link; rc stops the services
//!   at shutdown in order.

#[cfg(not(feature = "sim"))]
compile_error!("this test runs the helper against the simulator: build it with --features sim (scripts/test.sh does)");

mod support;

use clusterkick::firstboot::sim::el5::World;
use std::process::Child;
use std::time::{Duration, Instant};
use support::*;

const N1: &str = "an-node01";
const N2: &str = "an-node02";
/// The simulated clock of a helper started while this is the world's
/// time_scale: one real second is one simulated hour.
const FAST: u64 = 3600;

/// A pair after its first boot, both nodes powered off and on again
/// (nothing of the cluster runs). `tweak` changes the configs, e.g. waits
/// long enough for a clock 3600 times faster.
fn set_up_and_rebooted(
    tweak: impl Fn(usize, &mut clusterkick::firstboot::config::FirstbootConfig),
) -> Pair {
    let pair = Pair::new(tweak);
    assert_eq!(pair.run_both(), [0, 0], "{}", pair.dump());
    assert_finished(&pair);
    pair.update_world(|w| {
        for s in SHORTS {
            w.reboot(s);
        }
    });
    pair
}

/// Node 0's waits, long enough on a clock 3600 times faster (10^6 s: 280
/// simulated hours, about five real minutes).
fn slow_waits(i: usize, c: &mut clusterkick::firstboot::config::FirstbootConfig) {
    if i == 0 {
        let t = &mut c.timeouts;
        for s in [
            &mut t.peer_secs,
            &mut t.cman_secs,
            &mut t.drbd_connect_secs,
            &mut t.drbd_primary_secs,
            &mut t.barrier_secs,
        ] {
            *s = 1_000_000;
        }
    }
}

/// The changes a node made since `from` (an index into its command log).
fn changes_since(w: &World, short: &str, from: usize) -> Vec<String> {
    w.node(short).log[from..]
        .iter()
        .filter(|e| e.kind == "change")
        .map(|e| e.line.clone())
        .collect()
}

/// The simulated minutes node `i` logged it has waited at meet.
fn minutes_waited(pair: &Pair, i: usize) -> Vec<u64> {
    pair.log(i)
        .lines()
        .filter(|l| l.contains("still waiting at barrier meet for"))
        .filter_map(|l| {
            let after = l.split(" after ").nth(1)?;
            after.split(" min").next()?.trim().parse().ok()
        })
        .collect()
}

/// Starts node 0's boot helper on the fast clock and lets it wait until
/// its log says it has waited `hours` simulated hours. The wait is read
/// from the helper's own log, not from the wall clock, so a loaded machine
/// only makes it take longer (bounded by a generous real limit).
fn lone_node_waits(pair: &Pair, hours: u64) -> Child {
    pair.update_world(|w| w.time_scale = FAST);
    let child = pair.spawn(0, &[]);
    let start = Instant::now();
    while minutes_waited(pair, 0).into_iter().max().unwrap_or(0) < hours * 60 {
        assert!(
            start.elapsed() < Duration::from_secs(600),
            "the lone helper logged no {hours} simulated hours of waiting in 10 real minutes:\n{}",
            pair.log(0)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    child
}

fn assert_waiting_and_nothing_done(pair: &Pair, child: &mut Child, from: usize, hours: u64) {
    assert!(
        child.try_wait().expect("try_wait").is_none(),
        "the lone helper stopped waiting:\n{}",
        pair.dump()
    );
    let w = pair.world();
    let changed = changes_since(&w, N1, from);
    assert!(changed.is_empty(), "the lone node changed: {changed:#?}");
    let n = w.node(N1);
    assert!(!n.is_running("cman"), "cman runs on the lone node");
    assert!(!n.drbd.loaded, "DRBD was started on the lone node");
    assert!(w.fences.is_empty(), "fenced: {:?}", w.fences);
    assert!(w.node(N2).powered, "the slow peer lost its power");
    let log = pair.log(0);
    assert!(
        log.contains("waiting at barrier meet for an-node02.alteeve.com")
            && log.contains("as long as it takes"),
        "{log}"
    );
    // Once a minute, whom it waits for; lower bounds only.
    let minutes = minutes_waited(pair, 0);
    let longest = minutes.iter().copied().max().unwrap_or(0);
    assert!(
        longest >= hours * 60,
        "waited only {longest} simulated minutes (want {} or more):\n{log}",
        hours * 60
    );
    assert!(
        minutes.len() as u64 * 2 >= longest,
        "{} lines for {longest} minutes: not once a minute",
        minutes.len()
    );
    assert!(minutes.windows(2).all(|m| m[0] <= m[1]));
}

#[test]
fn boot_a_lone_node_waits_for_its_peer_then_both_come_up() {
    let pair = set_up_and_rebooted(slow_waits);
    let from = pair.world().node(N1).log.len();
    // Five simulated hours alone at the meeting.
    let mut lone = lone_node_waits(&pair, 5);
    assert_waiting_and_nothing_done(&pair, &mut lone, from, 5);

    // The peer comes (its own clock and fenced's timers at wall-clock
    // speed): the two meet and start the stack together.
    pair.update_world(|w| w.time_scale = 1);
    let peer = pair.spawn(1, &[]);
    assert_eq!(
        [pair.finish(0, lone), pair.finish(1, peer)],
        [0, 0],
        "{}",
        pair.dump()
    );
    assert_finished(&pair);
    let w = pair.world();
    assert!(w.fences.is_empty(), "{:?}", w.fences);
    // cman started only after the meeting, on both.
    let first_cman = w.node(N1).log[from..]
        .iter()
        .find(|e| e.line == "/etc/init.d/cman start")
        .map(|e| e.seq)
        .expect("cman started");
    let peer_first = w
        .node(N2)
        .log
        .iter()
        .rev()
        .find(|e| e.line == "read /etc/rc.d/init.d/xend");
    assert!(peer_first.is_some_and(|e| e.seq < first_cman));
}

#[test]
fn boot_start_alone_fences_the_peer_only_when_asked() {
    let pair = set_up_and_rebooted(slow_waits);
    let from = pair.world().node(N1).log.len();
    let mut lone = lone_node_waits(&pair, 2);
    assert_waiting_and_nothing_done(&pair, &mut lone, from, 2);
    pair.update_world(|w| w.time_scale = 1);

    // While the boot helper waits, start-alone refuses: it holds the lock.
    let busy = pair
        .command(0, &["start-alone", "--yes-fence-the-peer"])
        .output()
        .expect("start-alone");
    let err = String::from_utf8_lossy(&busy.stderr);
    assert_eq!(busy.status.code(), Some(exit::FAILED), "{err}");
    assert!(
        err.contains("Stop it first (service clusterkick-firstboot stop)"),
        "{err}"
    );
    terminate(&mut lone);

    // Without the confirmation: says what it would do, does nothing.
    let ask = pair
        .command(0, &["start-alone"])
        .output()
        .expect("start-alone");
    let err = String::from_utf8_lossy(&ask.stderr);
    assert_eq!(ask.status.code(), Some(exit::USAGE), "{err}");
    for want in [
        "start-alone: brings the cluster stack up on an-node01.alteeve.com WITHOUT an-node02.alteeve.com",
        "fences an-node02.alteeve.com (the fence devices in cluster.conf) after post_join_delay (60 s)",
        "DRBD calls its fence-peer handler, which fences an-node02.alteeve.com",
        "nothing was done: run `clusterkick-firstboot start-alone --yes-fence-the-peer`",
    ] {
        assert!(err.contains(want), "lacks {want:?}:\n{err}");
    }
    let w = pair.world();
    assert!(changes_since(&w, N1, from).is_empty());
    assert!(w.fences.is_empty() && w.node(N2).powered);

    // With it: cman, our DRBD script, the promotion (the handler fences the
    // peer), clvmd, the LVs, GFS2; then the boot helper's service again.
    let go = pair
        .command(0, &["start-alone", "--yes-fence-the-peer"])
        .output()
        .expect("start-alone");
    let err = String::from_utf8_lossy(&go.stderr);
    assert_eq!(go.status.code(), Some(exit::OK), "{err}\n{}", pair.dump());
    let w = pair.world();
    let changed = changes_since(&w, N1, from);
    let order = [
        "/etc/init.d/cman start",
        "/etc/init.d/clusterkick-drbd start",
        "fence_node an-node02.alteeve.com",
        "drbdadm primary r0",
        "/etc/init.d/clvmd start",
        "lvchange -a y /dev/drbd_vg0/iso_store",
        "/etc/init.d/gfs2 start",
        "/etc/init.d/clusterkick-firstboot start",
    ];
    let idx: Vec<usize> = order.iter().map(|o| pos(&changed, o)).collect();
    assert!(idx.windows(2).all(|p| p[0] < p[1]), "{changed:#?}");
    assert!(!changed.iter().any(|l| l.starts_with("/etc/init.d/drbd ")));
    // The peer was fenced once, by the handler, after start-alone began.
    assert_eq!(w.fences.len(), 1, "{:?}", w.fences);
    let f = &w.fences[0];
    assert_eq!(
        (f.by.as_str(), f.victim.as_str(), f.how.as_str()),
        (N1, N2, "fence_node")
    );
    assert!(f.seq > seq_of(&w, N1, "/etc/init.d/cman start"));
    assert!(w.fences.iter().all(|f| f.seq > w.node(N1).log[from].seq));
    assert!(!w.node(N2).powered);
    let n = w.node(N1);
    assert_eq!(n.drbd.role, "Primary");
    assert!(n.mounts.iter().any(|m| m.dir == "/shared/iso_store"));
    assert!(n.subsys.contains("clusterkick-drbd") && !n.subsys.contains("drbd"));
    let log = pair.log(0);
    for want in [
        "drbd-fence-peer: run: fence_node an-node02.alteeve.com",
        "drbd-fence-peer: an-node02.alteeve.com was fenced",
        "start-alone: an-node01.alteeve.com runs the cluster stack without an-node02.alteeve.com",
    ] {
        assert!(log.contains(want), "log lacks {want:?}:\n{log}");
    }
}

#[test]
fn boot_control_cman_on_at_boot_fences_a_slow_peer() {
    // The old design: cman on in the runlevels. The lone node's rc starts
    // it, and fenced fences the absent peer after post_join_delay: no
    // helper involved at all.
    let pair = Pair::new(|_, _| {});
    pair.update_world(|w| {
        w.time_scale = FAST;
        let n = w.node_mut(N1);
        n.chkconfig(&["cman", "on"]);
        w.reboot(N1);
    });
    assert!(pair.world().node(N1).is_running("cman"));
    // 60 s of post_join_delay are 17 ms at this speed; let time pass.
    std::thread::sleep(Duration::from_millis(200));
    pair.update_world(|w| w.tick());
    let w = pair.world();
    assert_eq!(w.fences.len(), 1, "{:?}", w.events);
    assert_eq!(w.fences[0].victim, N2);
    assert!(w.fences[0].how.starts_with("fenced (startup fencing"));
    assert!(!w.node(N2).powered);
}

#[test]
fn boot_order_survives_package_updates() {
    let pair = Pair::new(|_, _| {});
    assert_eq!(pair.run_both(), [0, 0], "{}", pair.dump());
    // Updates after the install: xen and drbd83 put their own init scripts
    // back (their %post: chkconfig --add, which leaves existing links);
    // then someone runs `chkconfig xend on`, which rewrites xend's links
    // from the package's header: S98xend. On an-node02 only the xen update.
    pair.update_world(|w| {
        w.update_xen_package(N1);
        w.update_drbd_package(N1);
        w.node_mut(N1).chkconfig(&["xend", "on"]);
        w.update_xen_package(N2);
        for s in SHORTS {
            w.reboot(s);
        }
    });
    let w = pair.world();
    assert!(w.node(N1).is_on("xend", 3) && !w.list_rc(N1, 3).contains(&"S11xend".to_string()));
    // The package's DRBD script stays off: its update added no link.
    for s in SHORTS {
        assert!(!w.node(s).is_on("drbd", 3), "{s}: drbd on at boot");
    }
    let from: Vec<usize> = SHORTS.iter().map(|s| w.node(s).log.len()).collect();

    // The next boot: the helper checks xend first thing and repairs.
    assert_eq!(pair.run_both(), [0, 0], "{}", pair.dump());
    assert_finished(&pair);
    let w = pair.world();
    for s in SHORTS {
        let header = &w.node(s).files["/etc/rc.d/init.d/xend"];
        assert!(header.contains("# chkconfig: 2345 11 89"), "{s}: {header}");
        for level in 0..=6u8 {
            let want = if (2..=5).contains(&level) {
                "S11xend"
            } else {
                "K89xend"
            };
            assert!(
                w.list_rc(s, level).contains(&want.to_string()),
                "{s} rc{level}.d"
            );
        }
    }
    let c1 = changes_since(&w, N1, from[0]);
    assert_eq!(
        &c1[..3],
        [
            "write /etc/rc.d/init.d/xend",
            "chkconfig xend resetpriorities",
            "chkconfig --add xend"
        ],
        "{c1:#?}"
    );
    // On an-node02 the links were right: only the header is set back.
    let c2 = changes_since(&w, N2, from[1]);
    assert_eq!(c2[0], "write /etc/rc.d/init.d/xend");
    assert!(!c2.iter().any(|l| l.starts_with("chkconfig")), "{c2:#?}");
    let log = pair.log(0);
    for want in [
        "xend: /etc/rc.d/init.d/xend says `# chkconfig: 2345 98 01` again",
        "xend: its rc links are rc0.d/K89xend rc1.d/K89xend rc2.d/S98xend rc3.d/S98xend",
        "repairing with chkconfig",
        "xend: repaired: rc0.d/K89xend rc1.d/K89xend rc2.d/S11xend",
    ] {
        assert!(log.contains(want), "log lacks {want:?}:\n{log}");
    }
    // xend starts before cman (S11 < S21 would be cman's place, which the
    // helper takes after meeting), and rc stops the stack in order; the
    // package's drbd holds no lock, so its K08 runs nothing.
    for s in SHORTS {
        assert!(!w.node(s).subsys.contains("drbd"));
        let stops = w.shutdown_order(s);
        let at = |name: &str| stops.iter().position(|l| l.ends_with(name)).expect(name);
        assert!(
            at("gfs2") < at("clvmd")
                && at("clvmd") < at("clusterkick-drbd")
                && at("clusterkick-drbd") < at("cman"),
            "{stops:?}"
        );
    }
}
