//! el5-xen: a replacement node (`role = "replacement"`) joins the survivor
//! and never initializes. The pair is set up by the helpers themselves;
//! then an-node02 dies, the survivor (an-node01, its helper still up and
//! answering, as after every boot) writes a file on GFS2 alone, and new
//! hardware comes up in an-node02's place with an empty disk:
//! - its helper joins: both Primary, the survivor's file read back on the
//!   newcomer through the simulator, none of the commands that create
//!   shared data in its command log, the survivor changes nothing; its
//!   command sequence and `plan` match their goldens; a later boot of the
//!   newcomer is the ordinary boot sequence;
//! - it refuses (exit 13), before its DRBD connects, when the survivor's
//!   disk is not UpToDate, when the survivor's DRBD does not accept a
//!   peer, and when its peer is no survivor at all (a new pair);
//! - a crash after each of its change commands, then a restart: it still
//!   joins, and nothing destructive runs twice.

#[cfg(not(feature = "sim"))]
compile_error!("this test runs the helper against the simulator: build it with --features sim (scripts/test.sh does)");

mod support;

use clusterkick::firstboot::config::{FirstbootConfig, NodeRole};
use clusterkick::firstboot::host::Host;
use clusterkick::firstboot::sim::el5::{SimHost, World};
use std::collections::HashSet;
use std::process::Child;
use std::time::{Duration, Instant};
use support::*;

const SURVIVOR: usize = 0;
const NEWCOMER: usize = 1;
const KNOWN_FILE: &str = "/shared/iso_store/written-by-the-survivor-alone.txt";
const KNOWN_TEXT: &str = "an-node01 wrote this after an-node02 died\n";

/// What a replacement node must never run: everything that creates shared
/// data. (Its own backing LV, `lvcreate ... an-lvm02`, and its own DRBD
/// metadata are allowed.)
const NEVER: &[&str] = &[
    "drbdadm -- --overwrite-data-of-peer",
    "drbdadm -- --clear-bitmap",
    "pvcreate ",
    "vgcreate ",
    "lvcreate -L 20G -n iso_store drbd_vg0",
    "lvcreate -L 100G -n vm01 drbd_vg0",
    "mkfs.gfs2 ",
];

/// A pair set up by the helpers, an-node02 dead and replaced by new
/// hardware, the survivor's helper still running (returned) and its file
/// written alone; an-node02's config says `replacement` and its state file
/// is gone with its old disk.
struct Replaced {
    pair: Pair,
    survivor: Child,
}

impl Drop for Replaced {
    fn drop(&mut self) {
        let _ = self.survivor.kill();
        let _ = self.survivor.wait();
    }
}

/// Waits until node `i`'s helper logged that its stack is up, leaving it
/// running.
fn wait_stack_up(pair: &Pair, i: usize, child: &mut Child) {
    let marker = format!(
        "[{}]: {}",
        child.id(),
        clusterkick::firstboot::runner::STACK_UP
    );
    let start = Instant::now();
    while !pair.log(i).contains(&marker) {
        if let Some(st) = child.try_wait().expect("try_wait") {
            panic!("{}'s helper exited ({st:?})\n{}", SHORTS[i], pair.dump());
        }
        assert!(start.elapsed() < RUN_TIMEOUT, "{}", pair.dump());
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn write_config(pair: &Pair, i: usize, cfg: &FirstbootConfig) {
    std::fs::write(
        &pair.cfg_paths[i],
        toml::to_string(cfg).expect("config serializes"),
    )
    .expect("write config");
}

fn sim_host(pair: &Pair, i: usize) -> SimHost {
    SimHost::open(&pair.world_dir, &pair.cfgs[i]).expect("open the simulated node")
}

fn replaced(tweak: impl Fn(&mut FirstbootConfig)) -> Replaced {
    let mut pair = Pair::new(|_, _| {});
    let mut survivor = pair.spawn(SURVIVOR, &[]);
    let b = pair.spawn(NEWCOMER, &[]);
    assert_eq!(pair.finish(NEWCOMER, b), 0, "{}", pair.dump());
    wait_stack_up(&pair, SURVIVOR, &mut survivor);
    assert_finished(&pair);

    // an-node02 dies; the survivor goes on alone and writes.
    pair.update_world(|w| w.power_off(SHORTS[NEWCOMER]));
    sim_host(&pair, SURVIVOR)
        .write_file(KNOWN_FILE, KNOWN_TEXT)
        .expect("the survivor writes on GFS2");
    let w = pair.world();
    let n1 = w.node(SHORTS[SURVIVOR]);
    assert_eq!(
        (n1.drbd.role.as_str(), n1.drbd.net.as_str()),
        ("Primary", "WFConnection")
    );

    // New hardware, and its config from the build: role = "replacement".
    let mut cfg = pair.cfgs[NEWCOMER].clone();
    cfg.role = NodeRole::Replacement;
    tweak(&mut cfg);
    pair.update_world(|w| w.replace_node(&cfg));
    for f in [&cfg.state_file, &cfg.log_file] {
        let _ = std::fs::remove_file(f);
    }
    let _ = std::fs::remove_file(pair.dir.path().join("an-node02.out"));
    write_config(&pair, NEWCOMER, &cfg);
    pair.cfgs[NEWCOMER] = cfg;
    Replaced { pair, survivor }
}

fn plan_text(pair: &Pair, i: usize) -> String {
    let out = pair.command(i, &["plan"]).output().expect("plan runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

fn assert_never_initialized(w: &World) {
    let cmds = w.commands(SHORTS[NEWCOMER], "");
    for never in NEVER {
        assert!(
            !cmds.iter().any(|l| l.starts_with(never)),
            "the replacement ran {never:?}: {cmds:#?}"
        );
    }
}

fn survivor_changes_since(w: &World, from: usize) -> Vec<String> {
    w.node(SHORTS[SURVIVOR]).log[from..]
        .iter()
        .filter(|e| e.kind == "change")
        .map(|e| e.line.clone())
        .collect()
}

/// Both Primary and connected, the newcomer has the survivor's file
/// (read through the simulated node), GFS2 mounted on both.
fn assert_joined(pair: &Pair) {
    let w = pair.world();
    for short in SHORTS {
        let n = w.node(short);
        assert_eq!(n.drbd.role, "Primary", "{short}\n{}", pair.dump());
        assert_eq!(n.drbd.net, "Connected", "{short}");
        assert!(
            n.mounts.iter().any(|m| m.dir == "/shared/iso_store"),
            "{short} has GFS2 mounted"
        );
        assert!(n.is_running("cman") && n.is_running("clvmd"), "{short}");
    }
    assert_eq!(
        w.node(SHORTS[SURVIVOR]).drbd.disk,
        "UpToDate",
        "the survivor's disk"
    );
    let read = sim_host(pair, NEWCOMER)
        .read_file(KNOWN_FILE)
        .expect("the survivor's file is readable on the newcomer");
    assert_eq!(read, KNOWN_TEXT);
    assert!(w.fences.is_empty(), "nobody fenced: {:?}", w.fences);
    let state =
        std::fs::read_to_string(&pair.cfgs[NEWCOMER].state_file).expect("newcomer's state file");
    assert!(state.contains("done = true"), "{state}");
}

#[test]
fn a_replacement_joins_the_survivor_and_reads_its_data() {
    let r = replaced(|_| {});
    let pair = &r.pair;
    let from = pair.world().node(SHORTS[SURVIVOR]).log.len();
    let plan = plan_text(pair, NEWCOMER);
    // Independent of the temp dir and the ports.
    golden(
        "firstboot/replace-plan-an-node02.txt",
        pair.masked(&plan).as_bytes(),
    );
    assert!(plan.contains("replacement node: joins an-node01.alteeve.com"));

    let b = pair.spawn(NEWCOMER, &[]);
    assert_eq!(pair.finish(NEWCOMER, b), 0, "{}", pair.dump());
    let w = pair.world();
    assert_joined(pair);
    assert_never_initialized(&w);
    let changed = survivor_changes_since(&w, from);
    assert!(changed.is_empty(), "the survivor changed: {changed:#?}");

    let mut text = non_poll_commands(&w, SHORTS[NEWCOMER]).join("\n");
    text.push('\n');
    golden("firstboot/replace-an-node02.txt", text.as_bytes());
    // Its only destructive commands: its own backing LV and metadata, once.
    assert_eq!(
        destructive_lines(&w, SHORTS[NEWCOMER]),
        [
            "lvcreate -L 400G -n lv02 an-lvm02",
            "drbdadm -- --force create-md r0"
        ]
    );
    // `plan` lists what ran, in order.
    let all = w.commands(SHORTS[NEWCOMER], "");
    let mut it = all.iter();
    for line in plan.lines().filter(|l| !l.starts_with('#')) {
        assert!(
            it.any(|h| h == line),
            "plan line {line:?} not run in that order: {all:#?}"
        );
    }
    let log = pair.log(NEWCOMER);
    assert!(log.contains("an-node01.alteeve.com (the survivor) says its setup is done"));
    assert!(log.contains("this node receives an-node01.alteeve.com's data"));

    // A later boot of the newcomer: the ordinary boot sequence, which meets
    // the survivor (still up) and joins again.
    pair.update_world(|w| w.reboot(SHORTS[NEWCOMER]));
    let b = pair.spawn(NEWCOMER, &[]);
    assert_eq!(pair.finish(NEWCOMER, b), 0, "{}", pair.dump());
    assert_joined(pair);
    assert!(pair
        .log(NEWCOMER)
        .contains("first-boot setup was done before: this is the boot sequence"));
    assert_never_initialized(&pair.world());
    assert_eq!(destructive_lines(&pair.world(), SHORTS[NEWCOMER]).len(), 2);
}

/// The newcomer refused with exit 13 and created nothing: no backing LV,
/// no DRBD metadata, DRBD never started; the survivor changed nothing.
fn assert_refused(r: &Replaced, from: usize, why: &str) {
    let pair = &r.pair;
    let b = pair.spawn(NEWCOMER, &[]);
    let code = pair.finish(NEWCOMER, b);
    assert_eq!(code, exit::SURVIVOR_NOT_READY, "{}", pair.dump());
    let log = pair.log(NEWCOMER);
    assert!(log.contains("REFUSED: ") && log.contains(why), "{log}");
    let w = pair.world();
    let n = w.node(SHORTS[NEWCOMER]);
    assert!(n.drbd.md.is_none(), "metadata made");
    assert!(!n.drbd.loaded, "DRBD started");
    assert!(destructive_lines(&w, SHORTS[NEWCOMER]).is_empty());
    assert_never_initialized(&w);
    let changed = survivor_changes_since(&w, from);
    assert!(changed.is_empty(), "the survivor changed: {changed:#?}");
    assert_eq!(
        w.node(SHORTS[SURVIVOR])
            .data
            .vg
            .as_ref()
            .map(|v| v.lvs[0].files.get(KNOWN_FILE).cloned()),
        Some(Some(KNOWN_TEXT.to_string())),
        "the survivor's data"
    );
}

#[test]
fn a_replacement_refuses_a_survivor_whose_disk_is_not_uptodate() {
    for disk in ["Outdated", "Inconsistent"] {
        let r = replaced(|_| {});
        let from = r.pair.world().node(SHORTS[SURVIVOR]).log.len();
        r.pair.update_world(|w| {
            let d = &mut w.node_mut(SHORTS[SURVIVOR]).drbd;
            d.disk = disk.into();
        });
        assert_refused(&r, from, &format!("DRBD disk is {disk}, not UpToDate"));
    }
}

#[test]
fn a_replacement_refuses_a_survivor_that_accepts_no_peer() {
    // StandAlone (disconnected by hand): the newcomer waits
    // drbd_connect_secs for it to accept a connection, then refuses.
    let r = replaced(|c| c.timeouts.drbd_connect_secs = 2);
    let from = r.pair.world().node(SHORTS[SURVIVOR]).log.len();
    r.pair
        .update_world(|w| w.node_mut(SHORTS[SURVIVOR]).drbd.net = "StandAlone".into());
    assert_refused(&r, from, "is StandAlone and accepts no connection");
}

#[test]
fn a_replacement_refuses_a_peer_that_is_no_survivor() {
    // Both nodes new, one built as a replacement by mistake: it refuses at
    // once (its peer's setup is not done); the peer stops too. Neither
    // touched its disk.
    let pair = Pair::new(|i, c| {
        if i == NEWCOMER {
            c.role = NodeRole::Replacement;
        }
    });
    let codes = pair.run_both();
    assert_eq!(
        codes,
        [exit::PEER_STOPPED, exit::SURVIVOR_NOT_READY],
        "{}",
        pair.dump()
    );
    assert!(pair
        .log(NEWCOMER)
        .contains("says its first-boot setup is not done"));
    let w = pair.world();
    for short in SHORTS {
        assert!(destructive_lines(&w, short).is_empty(), "{short}");
        assert!(w.node(short).drbd.md.is_none(), "{short}");
    }
}

#[test]
fn a_replacement_crashed_after_each_change_still_joins() {
    // How many changes a clean join makes.
    let clean = replaced(|_| {});
    let b = clean.pair.spawn(NEWCOMER, &[]);
    assert_eq!(clean.pair.finish(NEWCOMER, b), 0, "{}", clean.pair.dump());
    let changes = clean.pair.world().commands(SHORTS[NEWCOMER], "change");
    drop(clean);
    assert!(changes.len() > 5, "{changes:#?}");

    let r = replaced(|_| {});
    let pair = &r.pair;
    let snapshot = pair.world();
    let cfg = pair.cfgs[NEWCOMER].clone();
    for k in 1..=changes.len() as u64 {
        let what = format!("crashed after change {k} ({:?})", changes[k as usize - 1]);
        let mut w = snapshot.clone();
        w.node_mut(SHORTS[NEWCOMER]).faults.crash_after_change = Some(k);
        w.save(&pair.world_dir).expect("restore the world");
        let _ = std::fs::remove_file(&cfg.state_file);
        let b = pair.spawn(NEWCOMER, &[]);
        assert_eq!(
            pair.finish(NEWCOMER, b),
            exit::SIM_CRASH,
            "{what}\n{}",
            pair.dump()
        );
        let b = pair.spawn(NEWCOMER, &[]);
        assert_eq!(pair.finish(NEWCOMER, b), 0, "{what}\n{}", pair.dump());
        assert_joined(pair);
        let w = pair.world();
        assert_never_initialized(&w);
        let d = destructive_lines(&w, SHORTS[NEWCOMER]);
        let set: HashSet<&String> = d.iter().collect();
        assert_eq!(
            set.len(),
            d.len(),
            "{what}: a destructive command ran twice: {d:#?}"
        );
        assert_eq!(d.len(), 2, "{what}: {d:#?}");
    }
}
