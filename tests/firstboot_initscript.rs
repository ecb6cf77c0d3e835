//! The SysV init script: chkconfig header, shellcheck-clean, `start`
//! returns at once with the helper in the background, `status` and `stop`.

#[cfg(not(feature = "sim"))]
compile_error!("this test runs the helper against the simulator: build it with --features sim (scripts/test.sh does)");

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};
use support::*;

fn script() -> PathBuf {
    repo().join("overlays/el5-xen/rootfs/etc/rc.d/init.d/clusterkick-firstboot")
}

#[test]
fn firstboot_initscript_header_and_shellcheck() {
    let text = std::fs::read_to_string(script()).expect("init script");
    assert!(text.starts_with("#!/bin/bash\n"));
    let chk = text
        .lines()
        .find(|l| l.starts_with("# chkconfig: "))
        .expect("chkconfig header");
    let parts: Vec<&str> = chk.split_whitespace().collect();
    assert_eq!(parts[2], "345", "{chk}");
    let start: u32 = parts[3].parse().expect("start priority");
    let stop: u32 = parts[4].parse().expect("stop priority");
    // After the network (S10) and after cman/drbd/clvmd/gfs2 would start.
    assert!(start > 26 && stop < 90, "{chk}");
    assert!(text.contains("\n# description: "));
    let sc = Command::new("shellcheck")
        .args(["-s", "bash"])
        .arg(script())
        .output()
        .unwrap_or_else(|e| panic!("shellcheck is missing ({e}): apt-get install -y --no-install-recommends shellcheck"));
    assert!(
        sc.status.success(),
        "{}",
        String::from_utf8_lossy(&sc.stdout)
    );
    let n = Command::new("bash")
        .arg("-n")
        .arg(script())
        .status()
        .expect("bash -n");
    assert!(n.success());
}

fn init(pair: &Pair, dir: &Path, action: &str) -> Output {
    Command::new("bash")
        .arg(script())
        .arg(action)
        .env("CLUSTERKICK_FIRSTBOOT_BIN", HELPER_SIM)
        .env("CLUSTERKICK_FIRSTBOOT_CONFIG", &pair.cfg_paths[0])
        .env("CLUSTERKICK_FIRSTBOOT_LOG", &pair.cfgs[0].log_file)
        .env(
            "CLUSTERKICK_FIRSTBOOT_PIDFILE",
            dir.join("run/clusterkick-firstboot.pid"),
        )
        .env(
            "CLUSTERKICK_FIRSTBOOT_LOCKFILE",
            dir.join("lock/subsys/clusterkick-firstboot"),
        )
        .env(clusterkick::firstboot::sim::WORLD_ENV, &pair.world_dir)
        .output()
        .expect("init script runs")
}

#[test]
fn firstboot_initscript_start_returns_at_once_status_stop() {
    // The peer never comes: the helper waits (in the background) at meet.
    let pair = Pair::new(|_, c| c.timeouts.peer_secs = 60);
    let dir = pair.dir.path().to_path_buf();
    let t = Instant::now();
    let out = init(&pair, &dir, "start");
    assert!(
        t.elapsed() < Duration::from_secs(3),
        "start held up for {:?}",
        t.elapsed()
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("started in the background"));
    let pid: u32 = std::fs::read_to_string(dir.join("run/clusterkick-firstboot.pid"))
        .expect("pid file")
        .trim()
        .parse()
        .expect("pid");
    assert!(dir.join("lock/subsys/clusterkick-firstboot").exists());

    // The helper is really there, waiting for its peer, logging to the file.
    let start = Instant::now();
    while !pair.log(0).contains("waiting up to 60 s at barrier meet") {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "no log: {}",
            pair.log(0)
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let st = init(&pair, &dir, "status");
    assert_eq!(st.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&st.stdout).contains(&format!("(pid {pid}) is running...")));
    // What it did before it blocked reaches its state file (and `status`)
    // within a second of waiting (docs/firstboot.md, "State file").
    let start = Instant::now();
    loop {
        let text = String::from_utf8_lossy(&init(&pair, &dir, "status").stdout).into_owned();
        if text.contains("status: in progress, 1 of 26 items done") {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "status never caught up: {text}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // Starting again does not start a second helper.
    let again = init(&pair, &dir, "start");
    assert!(String::from_utf8_lossy(&again.stdout).contains("already running"));

    let stop = init(&pair, &dir, "stop");
    assert!(stop.status.success());
    let start = Instant::now();
    while Path::new(&format!("/proc/{pid}")).exists()
        && !std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .unwrap_or_default()
            .contains(") Z ")
    {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "helper still running after stop"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let st = init(&pair, &dir, "status");
    assert_eq!(st.status.code(), Some(3));
    let text = String::from_utf8_lossy(&st.stdout);
    assert!(
        text.contains("clusterkick-firstboot is stopped")
            && text.contains("status: in progress, 1 of 26 items done, next: step:inspect"),
        "{text}"
    );
    assert_eq!(init(&pair, &dir, "bogus").status.code(), Some(2));
}

#[test]
fn firstboot_initscript_bad_config_is_logged() {
    let pair = Pair::new(|_, _| {});
    std::fs::write(&pair.cfg_paths[0], "not = [valid").expect("write");
    std::fs::create_dir_all(pair.cfgs[0].log_file.parent().expect("dir")).expect("mkdir");
    let dir = pair.dir.path().to_path_buf();
    let out = init(&pair, &dir, "start");
    assert!(out.status.success());
    let start = Instant::now();
    while !pair.log(0).contains("parsing first-boot config") {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "no error logged: {:?}",
            pair.log(0)
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}
