//! Existing data on either node makes the helper refuse: nothing destructive
//! runs, the exit code is non-zero (10 on the refusing node, 12 on the peer
//! it told), and the log names the reason. Also `--dry-run run`.

#[cfg(not(feature = "sim"))]
compile_error!("this test runs the helper against the simulator: build it with --features sim (scripts/test.sh does)");

mod support;

use support::*;

fn assert_nothing_destructive(pair: &Pair) {
    let w = pair.world();
    for short in SHORTS {
        let d = destructive_lines(&w, short);
        assert!(
            d.is_empty(),
            "{short} ran destructive commands: {d:#?}\n{}",
            pair.dump()
        );
    }
}

/// Refused during `inspect`, before either node changed anything.
fn refused_before_any_change(pair: &Pair, refuser: usize, reason: &str) {
    let codes = pair.run_both();
    if std::env::var_os("FIRSTBOOT_SHOW_LOGS").is_some() {
        eprintln!("{}", pair.dump());
    }
    let mut want = [exit::PEER_STOPPED; 2];
    want[refuser] = exit::REFUSED;
    assert_eq!(codes, want, "{}", pair.dump());
    let w = pair.world();
    for short in SHORTS {
        let changes = w.commands(short, "change");
        assert!(
            changes.is_empty(),
            "{short} changed something: {changes:#?}"
        );
    }
    assert_nothing_destructive(pair);
    let log = pair.log(refuser);
    assert!(
        log.contains("REFUSED: ") && log.contains(reason),
        "log lacks {reason:?}:\n{log}"
    );
    let other = pair.log(1 - refuser);
    assert!(
        other.contains(&format!(
            "peer {} stopped: REFUSED",
            pair.cfgs[refuser].node.name
        )),
        "{other}"
    );
    // The refusing node's state file records nothing done but the check
    // that runs at every start (xend's order), and no destructive command.
    let text = std::fs::read_to_string(&pair.cfgs[refuser].state_file).unwrap_or_default();
    let st: clusterkick::firstboot::state::State =
        toml::from_str(&text).expect("state file parses");
    assert_eq!(st.completed, ["step:xend-order"], "{text}");
    assert!(st.ledger.is_empty(), "{text}");
}

#[test]
fn firstboot_refuse_metadata_with_history_on_secondary() {
    let pair = Pair::new(|_, _| {});
    pair.update_world(|w| w.inject_metadata_with_history("an-node02"));
    refused_before_any_change(
        &pair,
        1,
        "DRBD metadata on /dev/an-lvm02/lv02 has a data generation history",
    );
}

#[test]
fn firstboot_refuse_metadata_with_history_on_primary() {
    let pair = Pair::new(|_, _| {});
    pair.update_world(|w| w.inject_metadata_with_history("an-node01"));
    refused_before_any_change(
        &pair,
        0,
        "DRBD metadata on /dev/an-lvm01/lv02 has a data generation history",
    );
}

#[test]
fn firstboot_refuse_pv_signature_seen_by_the_probe() {
    let pair = Pair::new(|_, _| {});
    pair.update_world(|w| w.inject_pv_signature("an-node01", false));
    refused_before_any_change(
        &pair,
        0,
        "/dev/an-lvm01/lv02 carries an LVM2 physical volume label",
    );
}

#[test]
fn firstboot_refuse_gfs2_on_the_backing_device() {
    let pair = Pair::new(|_, _| {});
    pair.update_world(|w| w.inject_raw_gfs2("an-node02"));
    refused_before_any_change(&pair, 1, "/dev/an-lvm02/lv02 carries a GFS/GFS2 superblock");
}

#[test]
fn firstboot_refuse_pv_signature_on_drbd0_at_pvcreate() {
    // A PV the raw probe cannot see (fault `probe_blind`): the pvs guard
    // right before pvcreate refuses.
    let pair = Pair::new(|_, _| {});
    pair.update_world(|w| w.inject_pv_signature("an-node01", true));
    let codes = pair.run_both();
    assert_eq!(
        codes,
        [exit::REFUSED, exit::PEER_STOPPED],
        "{}",
        pair.dump()
    );
    let w = pair.world();
    for short in SHORTS {
        for never in ["pvcreate", "vgcreate", "mkfs.gfs2"] {
            assert!(
                !w.commands(short, "").iter().any(|l| l.starts_with(never)),
                "{short} ran {never}"
            );
        }
    }
    let p = w.commands("an-node01", "");
    assert_eq!(
        p.last().map(String::as_str),
        Some("pvs --noheadings -o pv_name,vg_name"),
        "{p:#?}"
    );
    let log = pair.log(0);
    assert!(
        log.contains("REFUSED: /dev/drbd0 already carries an LVM2 PV signature; not running `pvcreate /dev/drbd0`"),
        "{log}"
    );
}

#[test]
fn firstboot_refuse_gfs2_left_on_a_new_lv() {
    // lvcreate zeroes only the first 4 KiB: an old GFS2 superblock at 64 KiB
    // survives. The gfs2_tool guard right before mkfs.gfs2 refuses.
    let pair = Pair::new(|_, _| {});
    pair.update_world(|w| {
        w.node_mut("an-node01").faults.stale_gfs2_on_lvcreate = vec!["iso_store".into()]
    });
    let codes = pair.run_both();
    assert_eq!(
        codes,
        [exit::REFUSED, exit::PEER_STOPPED],
        "{}",
        pair.dump()
    );
    let w = pair.world();
    assert!(!w
        .commands("an-node01", "")
        .iter()
        .any(|l| l.starts_with("mkfs.gfs2")));
    let log = pair.log(0);
    assert!(
        log.contains("REFUSED: /dev/drbd_vg0/iso_store already holds a GFS2 file system (lock protocol \"lock_dlm\", lock table \"an-cluster:old_iso_store\")"),
        "{log}"
    );
    assert!(pair.log(1).contains("stopped (exit 12)"), "{}", pair.log(1));
}

#[test]
fn firstboot_dry_run_runs_nothing_destructive() {
    let pair = Pair::new(|_, _| {});
    let before = pair.world();
    let out = pair
        .command(0, &["--dry-run", "run"])
        .output()
        .expect("dry run");
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{text}");
    let w = pair.world();
    assert!(
        w.commands("an-node01", "change").is_empty(),
        "dry run changed: {:#?}",
        w.commands("an-node01", "change")
    );
    assert!(w.commands("an-node02", "").is_empty());
    // Only queries were run, so the world is as it was (but for the log).
    let mut after = w.clone();
    if let Some(n) = after.nodes.get_mut("an-node01") {
        n.log.clear();
    }
    after.seq = before.seq;
    assert_eq!(after, before);
    for want in [
        "dry-run: would run: /etc/init.d/cman start",
        "dry-run: would run: lvcreate -L 400G -n lv02 an-lvm01",
        "dry-run: would wait at barrier inspected",
        "dry-run: would run: mkfs.gfs2 -O -p lock_dlm -j 2 -t an-cluster:iso_store /dev/drbd_vg0/iso_store",
    ] {
        assert!(text.contains(want), "dry run output lacks {want:?}:\n{text}");
    }
    // No state, lock or log file written.
    assert!(!pair.cfgs[0].state_file.exists());
    assert!(!pair.cfgs[0].log_file.exists());
    assert!(!pair.cfgs[0].state_file.parent().is_some_and(|d| d.exists()));

    // On a node with data the dry run reports the refusal.
    pair.update_world(|w| w.inject_metadata_with_history("an-node01"));
    let out = pair
        .command(0, &["--dry-run", "run"])
        .output()
        .expect("dry run");
    assert_eq!(out.status.code(), Some(exit::REFUSED));
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("REFUSED: DRBD metadata on /dev/an-lvm01/lv02"));
    assert!(pair.world().commands("an-node01", "change").is_empty());
}
