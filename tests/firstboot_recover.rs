//! `recover` after a split brain (seed 7.3 done right): the operator names
//! the node with the good data; the other one goes Secondary and reconnects
//! with `--discard-my-data`; both end Primary/Primary with the survivor's
//! data, the clustered LVs active and GFS2 mounted.

#[cfg(not(feature = "sim"))]
compile_error!("this test runs the helper against the simulator: build it with --features sim (scripts/test.sh does)");

mod support;

use support::*;

#[test]
fn firstboot_recover_split_brain_with_the_named_survivor() {
    let pair = Pair::new(|_, _| {});
    pair.update_world(|w| w.inject_split_brain(&pair.cfgs[0]));
    let a = pair
        .command(0, &["recover", "--trust-this-node"])
        .spawn()
        .expect("spawn");
    let b = pair
        .command(1, &["recover", "--peer-is-trusted"])
        .spawn()
        .expect("spawn");
    let (ca, cb) = (code(wait(a, RUN_TIMEOUT)), code(wait(b, RUN_TIMEOUT)));
    assert_eq!((ca, cb), (0, 0), "{}", pair.dump());

    let w = pair.world();
    for short in SHORTS {
        let n = w.node(short);
        assert_eq!(
            (n.drbd.role.as_str(), n.drbd.net.as_str()),
            ("Primary", "Connected"),
            "{short}"
        );
        assert!(
            n.mounts.iter().any(|m| m.dir == "/shared/iso_store"),
            "{short} mounted"
        );
        assert!(n.active.contains("drbd_vg0/vm01"), "{short} vm01 active");
    }
    // The victim now holds the survivor's data.
    let files = |s: &str| {
        w.node(s).data.vg.as_ref().expect("vg").lvs[0]
            .files
            .keys()
            .cloned()
            .collect::<Vec<_>>()
    };
    assert_eq!(
        files("an-node02"),
        vec!["/shared/iso_store/written-on-an-node01".to_string()]
    );
    assert_eq!(files("an-node01"), files("an-node02"));

    let victim = w.commands("an-node02", "");
    let order = [
        "umount /shared/iso_store",
        "lvchange -a ln /dev/drbd_vg0/iso_store",
        "drbdadm secondary r0",
        "drbdadm -- --discard-my-data connect r0",
        "drbdadm primary r0",
        "pvscan",
        "vgscan",
        "lvscan",
        "lvchange -a y /dev/drbd_vg0/iso_store",
        "/etc/init.d/gfs2 start",
    ];
    let idx: Vec<usize> = order.iter().map(|o| pos(&victim, o)).collect();
    assert!(idx.windows(2).all(|w| w[0] < w[1]), "{victim:#?}");
    let survivor = w.commands("an-node01", "");
    assert!(
        survivor.contains(&"drbdadm connect r0".to_string()),
        "{survivor:#?}"
    );
    for s in [&victim, &survivor] {
        assert!(
            !s.iter().any(|l| l.contains("--overwrite-data-of-peer")),
            "{s:#?}"
        );
    }
    assert!(!survivor
        .iter()
        .any(|l| l.contains("--discard-my-data") || l == "drbdadm secondary r0"));
    assert!(pair
        .log(0)
        .contains("recover: the operator named an-node01.alteeve.com as holding the good data"));
}

#[test]
fn firstboot_recover_dry_run_changes_nothing() {
    let pair = Pair::new(|_, _| {});
    pair.update_world(|w| w.inject_split_brain(&pair.cfgs[0]));
    let out = pair
        .command(1, &["--dry-run", "recover", "--peer-is-trusted"])
        .output()
        .expect("recover");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("dry-run: would run: drbdadm -- --discard-my-data connect r0"),
        "{err}"
    );
    assert!(pair.world().commands("an-node02", "change").is_empty());
}
