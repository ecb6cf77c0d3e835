//! The pacemaker family refuses where data may exist: DRBD metadata with a
//! history or a signature on either node's backing LV (before anything is
//! written on either node), a PV on the DRBD device that wipefs missed
//! (the `pvs` guard before pvcreate), an old GFS2 on a new LV (the wipefs
//! guard before mkfs.gfs2), a live CIB that already holds resources (the
//! guard before cibadmin --replace). Nothing destructive runs; the
//! refusing node exits 10 and its peer 12. Also: a CIB file that does not
//! hold DRBD back is not loaded, and `--dry-run run`.

#[cfg(not(feature = "sim"))]
compile_error!("this test runs the helper against the simulator: build it with --features sim (scripts/test.sh does)");

mod support;

use clusterkick::firstboot::platform::PlatformId;
use support::*;

const P: PlatformId = PlatformId::Debian12Kvm;

fn refused_before_any_change(pair: &Pair, refuser: usize, reason: &str) {
    let codes = pair.run_both();
    let mut want = [exit::PEER_STOPPED; 2];
    want[refuser] = exit::REFUSED;
    assert_eq!(codes, want, "{}", pair.dump());
    let w = pair.pcmk_world();
    for short in SHORTS {
        let changes = w.commands(short, "change");
        assert!(
            changes.is_empty(),
            "{short} changed something: {changes:#?}"
        );
    }
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
}

#[test]
fn firstboot_pcmk_refuse_metadata_with_history() {
    for (i, short) in SHORTS.iter().enumerate() {
        for platform in PLATFORMS {
            let pair = pcmk_pair(platform, |_, _| {});
            pair.update_pcmk_world(|w| w.inject_metadata_with_history(short));
            refused_before_any_change(
                &pair,
                i,
                &format!(
                    "DRBD metadata on /dev/an-lvm0{}/lv02 has a data generation history",
                    i + 1
                ),
            );
        }
    }
}

#[test]
fn firstboot_pcmk_refuse_signatures_on_the_backing_lv() {
    let pair = pcmk_pair(P, |_, _| {});
    pair.update_pcmk_world(|w| w.inject_pv_signature("an-node01", false));
    refused_before_any_change(
        &pair,
        0,
        "/dev/an-lvm01/lv02 carries a LVM2_member signature at offset 0x218: it may hold data",
    );
    let pair = pcmk_pair(P, |_, _| {});
    pair.update_pcmk_world(|w| w.inject_raw_fs("an-node02", "gfs2"));
    refused_before_any_change(&pair, 1, "/dev/an-lvm02/lv02 carries a gfs2 signature");
}

#[test]
fn firstboot_pcmk_refuse_pv_on_drbd_at_pvcreate() {
    let pair = pcmk_pair(P, |_, _| {});
    pair.update_pcmk_world(|w| w.inject_pv_signature("an-node01", true));
    assert_eq!(
        pair.run_both(),
        [exit::REFUSED, exit::PEER_STOPPED],
        "{}",
        pair.dump()
    );
    let w = pair.pcmk_world();
    for short in SHORTS {
        for never in ["pvcreate", "vgcreate", "mkfs.gfs2"] {
            assert!(
                !w.commands(short, "").iter().any(|l| l.starts_with(never)),
                "{short} ran {never}"
            );
        }
    }
    let log = pair.log(0);
    assert!(
        log.contains("REFUSED: /dev/drbd0 already carries an LVM2 PV signature; not running `pvcreate /dev/drbd0`"),
        "{log}"
    );
}

#[test]
fn firstboot_pcmk_refuse_gfs2_left_on_a_new_lv() {
    let pair = pcmk_pair(P, |_, _| {});
    pair.update_pcmk_world(|w| {
        w.node_mut("an-node01").faults.stale_gfs2_on_lvcreate = vec!["iso_store".into()]
    });
    assert_eq!(
        pair.run_both(),
        [exit::REFUSED, exit::PEER_STOPPED],
        "{}",
        pair.dump()
    );
    let w = pair.pcmk_world();
    assert!(!w
        .commands("an-node01", "")
        .iter()
        .any(|l| l.starts_with("mkfs.gfs2")));
    let p = w.commands("an-node01", "");
    assert_eq!(
        p.last().map(String::as_str),
        Some("wipefs --json /dev/drbd_vg0/iso_store"),
        "{p:#?}"
    );
    assert!(
        pair.log(0).contains("REFUSED: /dev/drbd_vg0/iso_store already holds a gfs2 signature (label \"an-cluster:old_iso_store\")"),
        "{}",
        pair.log(0)
    );
}

#[test]
fn firstboot_pcmk_refuse_a_live_cib_with_resources() {
    let pair = pcmk_pair(P, |_, _| {});
    pair.update_pcmk_world(|w| w.inject_live_cib());
    assert_eq!(
        pair.run_both(),
        [exit::REFUSED, exit::PEER_STOPPED],
        "{}",
        pair.dump()
    );
    let w = pair.pcmk_world();
    for short in SHORTS {
        for never in ["cibadmin --replace", "drbdadm create-md"] {
            assert!(
                !w.commands(short, "").iter().any(|l| l.starts_with(never)),
                "{short} ran {never}"
            );
        }
    }
    assert!(
        w.cib
            .as_deref()
            .is_some_and(|c| c.contains("someone-elses-ip")),
        "the live CIB was replaced"
    );
    assert!(
        pair.log(0).contains("REFUSED: the live CIB already holds resources (someone-elses-ip); not running `cibadmin --replace"),
        "{}",
        pair.log(0)
    );
}

#[test]
fn firstboot_pcmk_a_cib_that_does_not_hold_drbd_back_is_not_loaded() {
    let cib = cib_fixture().replace(
        "<nvpair id=\"drbd_r0-clone-meta-target-role\" name=\"target-role\" value=\"Stopped\"/>",
        "",
    );
    let pair = pcmk_pair_with(P, &cib, |_, _| {});
    assert_eq!(
        pair.run_both(),
        [exit::FAILED, exit::PEER_STOPPED],
        "{}",
        pair.dump()
    );
    let w = pair.pcmk_world();
    assert!(w.cib.is_none(), "loaded anyway");
    assert!(
        pair.log(0).contains("/etc/clusterkick/cib.xml is not what this helper can load: drbd_r0-clone must start with meta target-role=Stopped"),
        "{}",
        pair.log(0)
    );
}

#[test]
fn firstboot_pcmk_dry_run_runs_nothing_destructive() {
    for platform in PLATFORMS {
        let pair = pcmk_pair(platform, |_, _| {});
        let before = pair.pcmk_world();
        let out = pair
            .command(0, &["--dry-run", "run"])
            .output()
            .expect("dry run");
        let text = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{text}");
        let w = pair.pcmk_world();
        assert!(
            w.commands("an-node01", "change").is_empty(),
            "dry run changed: {:#?}",
            w.commands("an-node01", "change")
        );
        let mut after = w.clone();
        if let Some(n) = after.nodes.get_mut("an-node01") {
            n.log.clear();
        }
        after.seq = before.seq;
        assert_eq!(after, before);
        for want in [
            "dry-run: would run: systemctl start corosync.service",
            "dry-run: would run: lvcreate -L 400G -n lv02 an-lvm01",
            "dry-run: would wait at barrier inspected",
            "dry-run: would run: systemctl disable --no-reload clusterkick-firstboot.service",
        ] {
            assert!(
                text.contains(want),
                "{platform}: dry run output lacks {want:?}:\n{text}"
            );
        }
        assert!(!pair.cfgs[0].state_file.exists());
        // On a node with data the dry run reports the refusal.
        pair.update_pcmk_world(|w| w.inject_metadata_with_history("an-node01"));
        let out = pair
            .command(0, &["--dry-run", "run"])
            .output()
            .expect("dry run");
        assert_eq!(out.status.code(), Some(exit::REFUSED));
        assert!(String::from_utf8_lossy(&out.stderr)
            .contains("REFUSED: DRBD metadata on /dev/an-lvm01/lv02"));
    }
}
