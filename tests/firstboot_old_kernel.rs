//! The static helper's engine, built as it ships (musl, the same RUSTFLAGS),
//! run as CentOS 5's kernel would treat its system calls
//! (scripts/el5-syscalls.py: everything newer than Linux 2.6.18 answers
//! ENOSYS/EINVAL): both nodes still run the whole first boot, barriers over
//! TCP included. The binary is `clusterkick-firstboot-sim`, the shipped
//! helper's twin acting on the simulated world (scripts/test.sh builds both
//! for x86_64-unknown-linux-musl); only the code answering for the node
//! differs from what ships.

#[cfg(not(feature = "sim"))]
compile_error!("this test runs the helper against the simulator: build it with --features sim (scripts/test.sh does)");

mod support;

use std::process::{Command, Stdio};
use support::*;

fn el5(pair: &Pair, i: usize, args: &[&str]) -> Command {
    let helper = musl_helper_sim();
    let seccomp = std::process::Command::new("/usr/bin/python3")
        .args(["-c", "import seccomp"])
        .status()
        .expect("python3");
    assert!(
        seccomp.success(),
        "python3-seccomp is missing: run scripts/test-deps.sh (apt-get install python3-seccomp)"
    );
    let mut c = Command::new(repo().join("scripts/el5-syscalls.py"));
    c.arg(helper)
        .arg("--config")
        .arg(&pair.cfg_paths[i])
        .args(args)
        .env(clusterkick::firstboot::sim::WORLD_ENV, &pair.world_dir)
        .stdin(Stdio::null());
    c
}

#[test]
fn test_static_helper_finishes_a_pair_under_2_6_18_syscalls() {
    let pair = Pair::new(|_, _| {});
    let spawn = |i: usize| {
        let out =
            std::fs::File::create(pair.dir.path().join(format!("{}.out", SHORTS[i]))).unwrap();
        el5(&pair, i, &["run"])
            .stdout(Stdio::from(out.try_clone().unwrap()))
            .stderr(Stdio::from(out))
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn(0), spawn(1));
    let codes = [pair.finish(0, a), pair.finish(1, b)];
    assert_eq!(codes, [0, 0], "{}", pair.dump());
    assert_finished(&pair);
    let w = pair.world();
    // The same command sequence as on a current kernel.
    for short in SHORTS {
        let mut text = non_poll_commands(&w, short).join("\n");
        text.push('\n');
        golden(&format!("firstboot/pair-{short}.txt"), text.as_bytes());
    }
}

#[test]
fn test_filter_really_refuses_newer_syscalls() {
    // A glibc program that asks for pipe2 must see it fail: the filter is on.
    let o = Command::new(repo().join("scripts/el5-syscalls.py"))
        .args([
            "/usr/bin/python3",
            "-c",
            "import os\ntry:\n    os.pipe2(0)\nexcept OSError as e:\n    print(e.errno)",
        ])
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    let err = String::from_utf8_lossy(&o.stderr);
    // Either pipe2 answers ENOSYS (38), or glibc itself gives up first on
    // the refused private futexes; anything else (the filter not loading,
    // pipe2 working) fails.
    assert!(
        out.trim() == "38" || err.contains("futex facility returned an unexpected error"),
        "pipe2 was not refused:\nstdout: {out}\nstderr: {err}"
    );
}
