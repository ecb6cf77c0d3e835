//! Two helper processes, one per node (127.0.1.71 and 127.0.1.72), against
//! the model, run to completion: each node's command sequence matches its
//! golden file and the seed's order, and `plan` lists the same commands.
//! `UPDATE_GOLDEN=1 cargo test --test firstboot_pair` rewrites the goldens.

#[cfg(not(feature = "sim"))]
compile_error!("this test runs the helper against the simulator: build it with --features sim (scripts/test.sh does)");

mod support;

use support::*;

fn plan_commands(pair: &Pair, i: usize) -> Vec<String> {
    let out = pair.command(i, &["plan"]).output().expect("plan runs");
    assert!(
        out.status.success(),
        "plan failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(str::to_string)
        .collect()
}

fn is_subsequence(needles: &[String], hay: &[String]) -> Result<(), String> {
    let mut it = hay.iter();
    for n in needles {
        if !it.any(|h| h == n) {
            return Err(n.clone());
        }
    }
    Ok(())
}

#[test]
fn firstboot_pair_runs_to_completion_in_the_seeds_order() {
    let pair = Pair::new(|_, _| {});
    // One node prints /proc/drbd like 8.3.2, the other like 8.3.12.
    pair.update_world(|w| w.node_mut("an-node02").drbd_version = "8.3.12".into());
    let plans = [plan_commands(&pair, 0), plan_commands(&pair, 1)];

    let codes = pair.run_both();
    if std::env::var_os("FIRSTBOOT_SHOW_LOGS").is_some() {
        eprintln!("{}", pair.dump());
    }
    assert_eq!(codes, [0, 0], "{}", pair.dump());
    assert_finished(&pair);

    let w = pair.world();
    for (i, short) in SHORTS.iter().enumerate() {
        let mut text = non_poll_commands(&w, short).join("\n");
        text.push('\n');
        golden(&format!("firstboot/pair-{short}.txt"), text.as_bytes());
        // `plan` on a fresh node lists exactly the commands run, in order.
        let all = w.commands(short, "");
        if let Err(missing) = is_subsequence(&plans[i], &all) {
            panic!("{short}: plan line {missing:?} not run in that order:\n{all:#?}");
        }
        // Each destructive command once.
        let d = destructive_lines(&w, short);
        let mut dedup = d.clone();
        dedup.dedup();
        assert_eq!(d, dedup, "{short}: a destructive command ran twice");
    }

    // The seed's order on the primary: cman, DRBD, clvmd, PV, GFS2.
    let p = w.commands("an-node01", "");
    let order = [
        "/etc/init.d/cman start",
        "lvcreate -L 400G -n lv02 an-lvm01",
        "drbdadm -- --force create-md r0",
        "/etc/init.d/clusterkick-drbd start",
        "drbdadm -- --overwrite-data-of-peer primary r0",
        "/etc/init.d/clvmd start",
        "pvcreate /dev/drbd0",
        "vgcreate -c y drbd_vg0 /dev/drbd0",
        "lvcreate -L 20G -n iso_store drbd_vg0",
        "mkfs.gfs2 ",
        "/etc/init.d/gfs2 start",
    ];
    let idx: Vec<usize> = order.iter().map(|o| pos(&p, o)).collect();
    assert!(
        idx.windows(2).all(|w| w[0] < w[1]),
        "primary order {idx:?}: {p:#?}"
    );
    // The create-md guard ran right before create-md, the mkfs guard right
    // before mkfs.
    let cm = pos(&p, "drbdadm -- --force create-md r0");
    assert!(
        p[..cm]
            .iter()
            .rev()
            .take(3)
            .any(|l| l == "drbdadm dump-md r0"),
        "{p:#?}"
    );
    let mk = pos(&p, "mkfs.gfs2 ");
    assert_eq!(p[mk - 1], "gfs2_tool sb /dev/drbd_vg0/iso_store proto");
    assert_eq!(
        p[mk],
        "mkfs.gfs2 -O -p lock_dlm -j 2 -t an-cluster:iso_store /dev/drbd_vg0/iso_store"
    );
    let pv = pos(&p, "pvcreate /dev/drbd0");
    assert_eq!(p[pv - 1], "pvs --noheadings -o pv_name,vg_name");

    // Across nodes: the secondary promotes after the primary started the
    // sync; clvmd runs on both before the VG is made; both mount after mkfs.
    let s = "an-node02";
    assert!(
        seq_of(&w, "an-node01", "drbdadm -- --overwrite") < seq_of(&w, s, "drbdadm primary r0")
    );
    assert!(seq_of(&w, s, "/etc/init.d/clvmd start") < seq_of(&w, "an-node01", "vgcreate"));
    assert!(seq_of(&w, "an-node01", "mkfs.gfs2") < seq_of(&w, s, "/etc/init.d/gfs2 start"));
    assert!(
        seq_of(
            &w,
            s,
            "write /shared/iso_store/.clusterkick-firstboot.an-node02"
        ) < seq_of(
            &w,
            "an-node01",
            "read /shared/iso_store/.clusterkick-firstboot.an-node02"
        )
    );
    // The secondary never runs the primary's commands.
    let sc = w.commands(s, "");
    for never in [
        "pvcreate",
        "vgcreate",
        "mkfs.gfs2",
        "drbdadm -- --overwrite",
    ] {
        assert!(
            !sc.iter().any(|l| l.starts_with(never)),
            "secondary ran {never}"
        );
    }

    // cman started on both at about the same moment (well inside
    // post_join_delay).
    let t1 = w.node("an-node01").cman_started_ms.expect("cman started");
    let t2 = w.node(s).cman_started_ms.expect("cman started");
    let skew = t1.abs_diff(t2);
    assert!(skew < 5_000, "cman starts {skew} ms apart");

    // Logs: syslog-style lines for steps, waits, barriers and the resync.
    let log = pair.log(0);
    let first = log.lines().next().expect("log lines");
    // "Mmm dd hh:mm:ss host tag[pid]: msg": syslog pads a one-digit day with
    // a space ("Dec  1"), so fields are split on runs of spaces.
    let parts: Vec<&str> = first.split_whitespace().collect();
    assert!(
        parts.len() > 5 && parts[3] == "an-node01",
        "syslog line: {first}"
    );
    assert!(
        first.contains(" an-node01 clusterkick-firstboot["),
        "{first}"
    );
    for want in [
        "step cman: start cman",
        "waiting up to 30 s at barrier meet for an-node02.alteeve.com",
        "passed barrier inspected",
        "step initial-sync",
        "DRBD resync (SyncSource): ",
        "DRBD resync finished",
        "first-boot setup is done on this node",
        "the cluster stack is up on this node; staying to answer an-node02.alteeve.com",
    ] {
        assert!(log.contains(want), "log lacks {want:?}:\n{log}");
    }
    assert!(
        !log.contains(&example_key_hex()) && !pair.log(1).contains(&example_key_hex()),
        "key logged"
    );
    let log2 = pair.log(1);
    assert!(
        log2.contains("a file written on an-node01.alteeve.com is visible here"),
        "{log2}"
    );

    let st = pair.command(0, &["status"]).output().expect("status");
    assert!(String::from_utf8_lossy(&st.stdout).contains("status: done"));

    // A later boot of both nodes: the boot sequence. Nothing of the cluster
    // starts at boot (rc), each helper meets the other, then starts the
    // stack through the init scripts; nothing is created again.
    let before: Vec<usize> = SHORTS.iter().map(|s| w.commands(s, "").len()).collect();
    pair.update_world(|w| {
        for s in SHORTS {
            w.reboot(s);
        }
    });
    for s in SHORTS {
        let started: Vec<String> = pair.world().node(s).subsys.iter().cloned().collect();
        assert_eq!(
            started,
            ["clusterkick-firstboot", "xend"],
            "{s}: rc started more than xend and the helper"
        );
    }
    assert_eq!(pair.run_both(), [0, 0], "{}", pair.dump());
    assert_finished(&pair);
    let w = pair.world();
    for (i, short) in SHORTS.iter().enumerate() {
        let boot: Vec<String> = w.commands(short, "")[before[i]..]
            .iter()
            .filter(|l| !POLLS.contains(&l.as_str()))
            .cloned()
            .collect();
        let mut text = boot.join("\n");
        text.push('\n');
        golden(&format!("firstboot/boot-{short}.txt"), text.as_bytes());
        assert!(
            !boot
                .iter()
                .any(|l| DESTRUCTIVE.iter().any(|d| l.starts_with(d))),
            "{short} ran a destructive command at boot: {boot:#?}"
        );
        assert!(pair
            .log(i)
            .contains("first-boot setup was done before: this is the boot sequence"));
    }
    assert!(w.fences.is_empty(), "nobody is fenced: {:?}", w.fences);
}

#[test]
fn firstboot_pair_skip_initial_sync_uses_clear_bitmap() {
    let pair = Pair::new(|_, c| c.drbd.skip_initial_sync = true);
    let codes = pair.run_both();
    assert_eq!(codes, [0, 0], "{}", pair.dump());
    assert_finished(&pair);
    let w = pair.world();
    let p = w.commands("an-node01", "");
    assert!(p.contains(&"drbdadm -- --clear-bitmap new-current-uuid r0".to_string()));
    assert!(!p.iter().any(|l| l.contains("--overwrite-data-of-peer")));
    for short in SHORTS {
        let mut text = non_poll_commands(&w, short).join("\n");
        text.push('\n');
        golden(&format!("firstboot/skip-sync-{short}.txt"), text.as_bytes());
    }
}
