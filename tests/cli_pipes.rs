//! The binary as it ships (release profile, where `panic = "abort"`) with
//! its standard error or output a pipe nobody reads any more, as in
//! `clusterkick check bad.toml 2>&1 | true` (issue 7): exit codes as
//! documented, never an abort (134) or a panic.

mod support;
use std::path::PathBuf;
use std::process::{Command, ExitStatus, Stdio};
use support::*;

/// target/release/clusterkick, which scripts/test.sh builds; refused when
/// older than the sources it is built from.
fn shipped() -> PathBuf {
    let bin = repo().join("target/release/clusterkick");
    let built = std::fs::metadata(&bin)
        .and_then(|m| m.modified())
        .unwrap_or_else(|e| {
            panic!(
                "{} is missing ({e}): scripts/test.sh builds it (cargo build --release --bin clusterkick)",
                bin.display()
            )
        });
    for dir in ["src", "overlays"] {
        for e in walkdir::WalkDir::new(repo().join(dir)) {
            let e = e.unwrap();
            let changed = e.metadata().unwrap().modified().unwrap();
            assert!(
                changed <= built,
                "{} is older than {}: rebuild it (cargo build --release --bin clusterkick)",
                bin.display(),
                e.path().display()
            );
        }
    }
    bin
}

/// A pipe whose reading end is already closed.
fn closed_pipe() -> Stdio {
    let (reader, writer) = std::io::pipe().expect("pipe");
    drop(reader);
    Stdio::from(writer)
}

fn run(ws: &Workspace, args: &[&str], stdout: Stdio, stderr: Stdio) -> ExitStatus {
    Command::new(shipped())
        .args(args)
        .current_dir(ws.path())
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr)
        .status()
        .expect("run the release clusterkick")
}

fn assert_exit(status: ExitStatus, code: i32, what: &str) {
    assert_eq!(
        status.code(),
        Some(code),
        "{what}: {status} (134 or a signal is an abort)"
    );
}

#[test]
fn test_diagnostics_into_a_closed_pipe_exit_1() {
    let ws = Workspace::new();
    let bad = ws.variant("bad", |s| s.replacen("id = 2", "id = 1", 1));
    let bad = bad.to_str().unwrap();
    let st = run(&ws, &["check", bad], Stdio::null(), closed_pipe());
    assert_exit(st, 1, "check of an invalid profile, stderr closed");
    // Both closed, as in `... 2>&1 | true`.
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let st = run(
        &ws,
        &["check", bad],
        Stdio::from(writer.try_clone().unwrap()),
        Stdio::from(writer),
    );
    assert_exit(
        st,
        1,
        "check of an invalid profile, stdout and stderr closed",
    );
}

#[test]
fn test_warnings_and_progress_into_a_closed_pipe_still_succeed() {
    let ws = Workspace::new();
    let nodelay = ws.variant("nodelay", |s| s.replacen(", delay = 15", "", 1));
    let st = run(
        &ws,
        &["check", nodelay.to_str().unwrap()],
        Stdio::null(),
        closed_pipe(),
    );
    assert_exit(st, 0, "check with a warning, stderr closed");
    let out = ws.path().join("out");
    let st = run(
        &ws,
        &[
            "build",
            ws.profile().to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--helper",
            ws.helper().to_str().unwrap(),
        ],
        Stdio::null(),
        closed_pipe(),
    );
    assert_exit(st, 0, "build, stderr closed");
    assert!(out.join("an-cluster/SHA256SUMS").is_file());
    // A failed build says so by its exit code alone.
    let st = run(
        &ws,
        &[
            "build",
            ws.profile().to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--helper",
            "/nonexistent/helper",
        ],
        Stdio::null(),
        closed_pipe(),
    );
    assert_exit(st, 1, "build with a missing helper, stderr closed");
}

#[test]
fn test_render_into_a_closed_pipe_exits_1_quietly() {
    let ws = Workspace::new();
    let profile = ws.profile();
    let helper = ws.helper();
    let args = [
        "render",
        profile.to_str().unwrap(),
        "--node",
        "an-node01",
        "ks",
        "--helper",
        helper.to_str().unwrap(),
    ];
    let o = Command::new(shipped())
        .args(args)
        .current_dir(ws.path())
        .stdout(closed_pipe())
        .output()
        .unwrap();
    assert_exit(o.status, 1, "render, stdout closed");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        !err.contains("error"),
        "a reader that went away is not an error to report: {err}"
    );
    let st = run(&ws, &args, closed_pipe(), closed_pipe());
    assert_exit(st, 1, "render, stdout and stderr closed");
}

#[test]
fn test_usage_and_help_into_a_closed_pipe() {
    let ws = Workspace::new();
    let st = run(&ws, &["frobnicate"], Stdio::null(), closed_pipe());
    assert_exit(st, 2, "usage error, stderr closed");
    let st = run(&ws, &["build", "--help"], closed_pipe(), Stdio::null());
    assert_exit(st, 0, "--help, stdout closed");
}
