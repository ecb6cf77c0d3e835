//! The pacemaker family (`debian12-kvm`: DRBD 8.4, `el9-kvm`: DRBD 9): a
//! replacement node (`role = "replacement"`) joins the survivor and never
//! initializes. The pair is set up by the helpers themselves; then
//! an-node02 dies for good: the survivor's pacemaker fences it and runs on
//! alone, DRBD's crm-fence-peer handler leaves its constraint (only the
//! survivor may be Promoted), an application on the survivor writes a file
//! on GFS2. New hardware comes up in an-node02's place with an empty disk,
//! and no helper runs on the survivor (pacemaker owns its boot):
//! - the newcomer joins: both Promoted, the resync done, the constraint
//!   lifted by DRBD's own handler, every resource Started on both, the
//!   survivor's file read back on the newcomer, none of the commands that
//!   create shared data in its command log, no command at all on the
//!   survivor; its command sequence and `plan` match their goldens;
//! - it refuses (exit 13) when the survivor's disk is not UpToDate, with
//!   its DRBD down again and the cluster stack never started here;
//! - a crash after each of its change commands, then a restart: it still
//!   joins, and nothing destructive runs twice.

#[cfg(not(feature = "sim"))]
compile_error!("this test runs the helper against the simulator: build it with --features sim (scripts/test.sh does)");

mod support;

use clusterkick::firstboot::config::NodeRole;
use clusterkick::firstboot::platform::PlatformId;
use clusterkick::firstboot::sim::pcmk::World;
use support::*;

const SURVIVOR: usize = 0;
const NEWCOMER: usize = 1;
const KNOWN_FILE: &str = "/shared/iso_store/written-by-the-survivor-alone.txt";
const KNOWN_TEXT: &str = "an-node01 wrote this after an-node02 died\n";

/// What a replacement node must never run: everything that creates or
/// overwrites shared data, and the cluster configuration.
const NEVER: &[&str] = &[
    "drbdadm primary --force",
    "drbdadm -- --clear-bitmap",
    "drbdadm new-current-uuid",
    "drbdadm -- --overwrite-data-of-peer",
    "cibadmin --replace",
    "crm_resource ",
    "pvcreate ",
    "vgcreate ",
    "lvcreate --activate n",
    "vgchange --lock-start",
    "mkfs.gfs2 ",
];

/// A pair set up by the helpers, then an-node02 replaced by new hardware
/// whose config says `replacement` (its state and log went with its old
/// disk), and the survivor's file written alone.
fn replaced(platform: PlatformId) -> Pair {
    let mut pair = pcmk_pair(platform, |_, _| {});
    assert_eq!(pair.run_both(), [0, 0], "{}", pair.dump());
    assert_pcmk_finished(&pair);
    pair.update_pcmk_world(|w| {
        w.replace_node(SHORTS[NEWCOMER]);
        w.write_as(SHORTS[SURVIVOR], KNOWN_FILE, KNOWN_TEXT)
            .expect("the survivor writes on GFS2 alone");
    });
    let w = pair.pcmk_world();
    let s = w.node(SHORTS[SURVIVOR]);
    assert_eq!(
        (
            s.drbd.role.as_str(),
            s.drbd.net.as_str(),
            s.drbd.disk.as_str()
        ),
        ("Primary", "Connecting", "UpToDate"),
        "the survivor runs alone"
    );
    assert_eq!(w.fence_constraint.as_deref(), Some(SHORTS[SURVIVOR]));

    let mut cfg = pair.cfgs[NEWCOMER].clone();
    cfg.role = NodeRole::Replacement;
    for f in [&cfg.state_file, &cfg.log_file] {
        let _ = std::fs::remove_file(f);
    }
    let _ = std::fs::remove_file(pair.dir.path().join("an-node02.out"));
    std::fs::write(
        &pair.cfg_paths[NEWCOMER],
        toml::to_string(&cfg).expect("config serializes"),
    )
    .expect("write config");
    pair.cfgs[NEWCOMER] = cfg;
    pair
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

/// Both Promoted, connected and UpToDate, every resource Started on
/// both, the constraint gone, the survivor's file readable on the
/// newcomer, the newcomer finished as an initial node does.
fn assert_joined(pair: &Pair) {
    let mut w = pair.pcmk_world();
    assert!(w.sync.is_none(), "resync still running\n{}", pair.dump());
    assert_eq!(w.fence_constraint, None, "{:?}", w.events);
    for short in SHORTS {
        let n = w.node(short);
        assert_eq!(n.drbd.role, "Primary", "{short}\n{}", pair.dump());
        assert_eq!(n.drbd.net, "Connected", "{short}");
        assert_eq!(n.drbd.disk, "UpToDate", "{short}");
        assert_resources_running(n, short);
    }
    let n = w.node(SHORTS[NEWCOMER]);
    assert!(n.drbd.by_pacemaker, "DRBD is pacemaker's on the newcomer");
    for unit in ["corosync.service", "pacemaker.service"] {
        assert!(n.enabled.contains(unit), "{unit} enabled");
    }
    assert!(!n.enabled.contains("clusterkick-firstboot.service"));
    let read = w
        .read_as(SHORTS[NEWCOMER], KNOWN_FILE)
        .expect("the survivor's file is readable on the newcomer");
    assert_eq!(read, KNOWN_TEXT);
    let files = &w.node(SHORTS[NEWCOMER]).data.vg.as_ref().expect("VG").lvs[0].files;
    assert_eq!(
        files.keys().collect::<Vec<_>>(),
        [KNOWN_FILE],
        "the check file is removed"
    );
    let state =
        std::fs::read_to_string(&pair.cfgs[NEWCOMER].state_file).expect("newcomer's state file");
    assert!(state.contains("done = true"), "{state}");
}

fn plan_text(pair: &Pair) -> String {
    let out = pair
        .command(NEWCOMER, &["plan"])
        .output()
        .expect("plan runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

fn joins(platform: PlatformId) {
    let pair = replaced(platform);
    let survivor_log = pair.pcmk_world().node(SHORTS[SURVIVOR]).log.len();
    let plan = plan_text(&pair);
    golden(
        &format!("firstboot/{platform}/replace-plan-an-node02.txt"),
        pair.masked(&plan).as_bytes(),
    );
    assert!(plan.contains("replacement node: joins an-node01.alteeve.com"));

    let b = pair.spawn(NEWCOMER, &[]);
    assert_eq!(pair.finish(NEWCOMER, b), 0, "{}", pair.dump());
    if std::env::var_os("FIRSTBOOT_SHOW_LOGS").is_some() {
        eprintln!("{}", pair.dump());
    }
    assert_joined(&pair);
    let w = pair.pcmk_world();
    assert_never_initialized(&w);
    assert_eq!(
        w.node(SHORTS[SURVIVOR]).log.len(),
        survivor_log,
        "a command ran on the survivor"
    );

    let mut text = pcmk_non_poll(&w, SHORTS[NEWCOMER]).join("\n");
    text.push('\n');
    let text = pair.masked(&text);
    golden(
        &format!("firstboot/{platform}/replace-an-node02.txt"),
        text.as_bytes(),
    );
    assert_eq!(
        pcmk_destructive(&w, SHORTS[NEWCOMER]),
        ["lvcreate -L 400G -n lv02 an-lvm02", "drbdadm create-md r0"],
        "only its own backing LV and metadata"
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
    // DRBD was down again before the cluster stack started here.
    let pos = |p: &str| {
        all.iter()
            .position(|l| l.starts_with(p))
            .unwrap_or_else(|| panic!("{p:?} never ran: {all:#?}"))
    };
    assert!(pos("drbdadm create-md") < pos("drbdadm up r0"));
    assert!(pos("drbdadm down r0") < pos("systemctl start corosync.service"));
    let log = pair.log(NEWCOMER);
    assert!(
        log.contains("this node receives an-node01.alteeve.com's data"),
        "{log}"
    );
    assert!(w
        .events
        .iter()
        .any(|e| e.contains("crm-unfence-peer removed the fence constraint")));
}

#[test]
fn pcmk_a_replacement_joins_the_survivor_debian12() {
    joins(PlatformId::Debian12Kvm);
}

#[test]
fn pcmk_a_replacement_joins_the_survivor_el9() {
    joins(PlatformId::El9Kvm);
}

#[test]
fn pcmk_a_replacement_refuses_a_survivor_whose_disk_is_not_uptodate() {
    for platform in PLATFORMS {
        let pair = replaced(platform);
        pair.update_pcmk_world(|w| {
            let s = w.node_mut(SHORTS[SURVIVOR]);
            s.drbd.role = "Secondary".into();
            s.drbd.disk = "Outdated".into();
            if let Some(md) = s.drbd.md.as_mut() {
                md.uptodate = false;
            }
            w.converge();
        });
        let b = pair.spawn(NEWCOMER, &[]);
        assert_eq!(
            pair.finish(NEWCOMER, b),
            exit::SURVIVOR_NOT_READY,
            "{platform}: {}",
            pair.dump()
        );
        let log = pair.log(NEWCOMER);
        assert!(
            log.contains("the survivor's disk is Outdated, not UpToDate"),
            "{platform}: {log}"
        );
        let w = pair.pcmk_world();
        let n = w.node(SHORTS[NEWCOMER]);
        assert!(!n.drbd.up, "{platform}: DRBD left up");
        assert!(n.running.is_empty(), "{platform}: {:?} started", n.running);
        assert_eq!(w.node(SHORTS[SURVIVOR]).drbd.disk, "Outdated");
        assert_never_initialized(&w);
        let cmds = w.commands(SHORTS[NEWCOMER], "change");
        assert!(
            !cmds.iter().any(|l| l.starts_with("systemctl start")),
            "{platform}: {cmds:#?}"
        );
    }
}

#[test]
fn pcmk_a_replacement_crashed_after_each_change_still_joins() {
    for platform in PLATFORMS {
        let pair = replaced(platform);
        let snapshot = pair.pcmk_world();
        let cfg = pair.cfgs[NEWCOMER].clone();
        // How many changes a clean join makes.
        let b = pair.spawn(NEWCOMER, &[]);
        assert_eq!(pair.finish(NEWCOMER, b), 0, "{}", pair.dump());
        let changes = pair.pcmk_world().commands(SHORTS[NEWCOMER], "change");
        assert!(changes.len() > 8, "{changes:#?}");
        for k in 1..=changes.len() as u64 {
            let what = format!(
                "{platform}: crashed after change {k} ({:?})",
                changes[k as usize - 1]
            );
            let mut w = snapshot.clone();
            w.node_mut(SHORTS[NEWCOMER]).faults.crash_after_change = Some(k);
            w.save(&pair.world_dir).expect("restore the world");
            for f in [&cfg.state_file, &cfg.log_file] {
                let _ = std::fs::remove_file(f);
            }
            let b = pair.spawn(NEWCOMER, &[]);
            assert_eq!(
                pair.finish(NEWCOMER, b),
                exit::SIM_CRASH,
                "{what}\n{}",
                pair.dump()
            );
            let b = pair.spawn(NEWCOMER, &[]);
            assert_eq!(pair.finish(NEWCOMER, b), 0, "{what}\n{}", pair.dump());
            assert_joined(&pair);
            let w = pair.pcmk_world();
            assert_never_initialized(&w);
            assert_eq!(
                pcmk_destructive(&w, SHORTS[NEWCOMER]),
                ["lvcreate -L 400G -n lv02 an-lvm02", "drbdadm create-md r0"],
                "{what}: a destructive command ran twice, or another one ran"
            );
        }
    }
}
