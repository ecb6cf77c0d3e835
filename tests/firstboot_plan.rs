//! `plan --config FILE` prints this node's commands in order (one per line;
//! notes start with `#`) and where it is, runs nothing, needs no key, no
//! network and no model, and answers in milliseconds.

#[cfg(not(feature = "sim"))]
compile_error!("this test runs the helper against the simulator: build it with --features sim (scripts/test.sh does)");

mod support;

use std::process::Command;
use std::time::{Duration, Instant};
use support::*;

fn plan(pair: &Pair, i: usize) -> String {
    // The helper that ships, no key file: exactly what the build host has.
    let out = Command::new(HELPER)
        .args(["plan", "--config"])
        .arg(&pair.cfg_paths[i])
        .output()
        .expect("plan");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Make it independent of the temp dir and the ports.
    pair.masked(&String::from_utf8_lossy(&out.stdout))
}

fn files_under(dir: &std::path::Path) -> Vec<String> {
    let mut v: Vec<String> = walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .map(|e| e.path().display().to_string())
        .collect();
    v.sort();
    v
}

#[test]
fn firstboot_plan_prints_the_commands_in_order() {
    let pair = Pair::new(|_, _| {});
    std::fs::remove_file(pair.dir.path().join("firstboot.key")).expect("rm key");
    let before = files_under(pair.dir.path());
    for (i, short) in SHORTS.iter().enumerate() {
        let text = plan(&pair, i);
        golden(&format!("firstboot/plan-{short}.txt"), text.as_bytes());
        assert!(text.contains("# at: step:xend-order (next)"), "{text}");
    }
    // Nothing written: no state, no lock, no log.
    assert_eq!(files_under(pair.dir.path()), before);

    // The primary's command lines.
    let text = plan(&pair, 0);
    let cmds: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(
        cmds,
        vec![
            "/etc/init.d/cman start",
            "lvcreate -L 400G -n lv02 an-lvm01",
            "drbdadm -- --force create-md r0",
            "/etc/init.d/clusterkick-drbd start",
            "drbdadm -- --overwrite-data-of-peer primary r0",
            "/etc/init.d/clvmd start",
            "pvcreate /dev/drbd0",
            "vgcreate -c y drbd_vg0 /dev/drbd0",
            "lvcreate -L 20G -n iso_store drbd_vg0",
            "lvcreate -L 20G -n vm01 drbd_vg0",
            "vgscan",
            "lvchange -a y /dev/drbd_vg0/iso_store",
            "lvchange -a y /dev/drbd_vg0/vm01",
            "mkfs.gfs2 -O -p lock_dlm -j 2 -t an-cluster:iso_store /dev/drbd_vg0/iso_store",
            "mkdir -p /shared/iso_store",
            "/etc/init.d/gfs2 start",
            "rm -f /shared/iso_store/.clusterkick-firstboot.an-node01",
        ]
    );
    // Nothing turns a cluster service on (or the helper off) at boot, and
    // the package's DRBD script is never used.
    for l in &cmds {
        assert!(!l.starts_with("chkconfig"), "{l}");
        assert!(!l.starts_with("/etc/init.d/drbd "), "{l}");
    }
}

#[test]
fn firstboot_plan_shows_where_a_node_is_and_is_fast() {
    let pair = Pair::new(|_, c| c.timeouts.barrier_secs = 5);
    // Run the pair to the end, then cut node 1's state back to "passed the
    // drbd-md barrier".
    assert_eq!(pair.run_both(), [0, 0], "{}", pair.dump());
    let state_path = &pair.cfgs[0].state_file;
    let text = std::fs::read_to_string(state_path).expect("state");
    let mut st: clusterkick::firstboot::state::State = toml::from_str(&text).expect("parse state");
    let keep = st
        .completed
        .iter()
        .position(|c| c == "barrier:drbd-md")
        .expect("drbd-md passed")
        + 1;
    st.completed.truncate(keep);
    st.done = false;
    st.save(
        state_path,
        clusterkick::firstboot::file::Durability::Durable,
    )
    .expect("save");

    let start = Instant::now();
    let text = plan(&pair, 0);
    let took = start.elapsed();
    assert!(took < Duration::from_millis(500), "plan took {took:?}");
    assert!(text.contains("# at: step:drbd-start (next)"), "{text}");
    assert!(
        text.contains("#   done: drbdadm -- --force create-md r0"),
        "{text}"
    );
    assert!(text.contains("# step cman: start cman, wait for both members and quorum [done; re-checked on every run]"), "{text}");
    let next = text.find("# >>> next").expect("next marker");
    let drbd_start = text
        .find("\n/etc/init.d/clusterkick-drbd start")
        .expect("drbd start");
    assert!(next < drbd_start);
    assert!(!text[..next]
        .lines()
        .any(|l| l == "drbdadm -- --force create-md r0"));

    // A damaged state file is reported, not guessed around.
    std::fs::write(state_path, "completed = [").expect("write");
    let text = plan(&pair, 0);
    assert!(text.contains("# state: unreadable"), "{text}");
}

#[test]
fn firstboot_plan_rejects_a_bad_config() {
    let dir = tempfile::tempdir().expect("tmp");
    let p = dir.path().join("bad.toml");
    std::fs::write(&p, "cluster = \"x\"\n").expect("write");
    let out = Command::new(HELPER)
        .args(["plan", "--config"])
        .arg(&p)
        .output()
        .expect("plan");
    assert_eq!(out.status.code(), Some(exit::CONFIG));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("parsing first-boot config") && err.contains("missing field"),
        "{err}"
    );
    let out = Command::new(HELPER)
        .args(["recover", "--config"])
        .arg(&p)
        .output()
        .expect("recover");
    assert_eq!(
        out.status.code(),
        Some(exit::USAGE),
        "recover needs --trust-this-node or --peer-is-trusted"
    );
}

#[test]
fn firstboot_exit_codes_are_documented_once_and_agree() {
    use clusterkick::firstboot::error::exit as code;
    let doc = std::fs::read_to_string(repo().join("docs/firstboot.md")).expect("docs");
    let table = doc
        .split("## Exit codes\n")
        .nth(1)
        .expect("docs/firstboot.md has an Exit codes section");
    let documented: Vec<i32> = table
        .lines()
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .filter_map(|l| l.trim_matches('|').split('|').next()?.trim().parse().ok())
        .collect();
    assert_eq!(
        documented,
        exit::ALL,
        "docs/firstboot.md vs tests/support/exit.rs"
    );
    let in_code = [
        code::OK,
        code::FAILED,
        code::USAGE,
        code::CONFIG,
        code::LOCKED,
        code::PEER_FENCED,
        code::REFUSED,
        code::TIMEOUT,
        code::PEER_STOPPED,
        code::SURVIVOR_NOT_READY,
    ];
    assert_eq!(in_code, exit::ALL, "firstboot::error::exit vs the docs");
    // The simulator's crash is not the helper's.
    assert!(!documented.contains(&exit::SIM_CRASH));
}
