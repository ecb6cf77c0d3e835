//! The helper's own files (issue 7): a config, key or state file that is a
//! FIFO or a device is refused without a byte read, never waited on and
//! never read without end; an oversized one is refused too. Each run is
//! bounded (10 s, 512 MiB of address space) so that a helper that did hang
//! or read /dev/zero fails the test instead of the machine.

#[cfg(not(feature = "sim"))]
compile_error!("this test runs the helper against the simulator: build it with --features sim (scripts/test.sh does)");

mod support;

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;
use support::*;

/// The shipped helper (host build) with `args`, bounded in time and memory.
fn helper(args: &[&str], config: &Path) -> Output {
    let mut c = Command::new("sh");
    c.args([
        "-c",
        "ulimit -v 524288 && exec \"$0\" \"$@\"",
        HELPER,
        "--config",
    ])
    .arg(config)
    .args(args)
    .stdin(Stdio::null())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    c.spawn()
        .expect("spawn clusterkick-firstboot")
        .wait_with_output_within(Duration::from_secs(10))
}

trait WaitWithin {
    fn wait_with_output_within(self, d: Duration) -> Output;
}

impl WaitWithin for std::process::Child {
    /// Like `wait_with_output`, but kills the child (failing the test)
    /// after `d`.
    fn wait_with_output_within(mut self, d: Duration) -> Output {
        let start = std::time::Instant::now();
        while self.try_wait().expect("try_wait").is_none() {
            if start.elapsed() > d {
                let _ = self.kill();
                let _ = self.wait();
                panic!("clusterkick-firstboot still running after {d:?}: it waited on a file");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        self.wait_with_output().expect("output")
    }
}

fn mkfifo(p: &Path) {
    let st = Command::new("mkfifo").arg(p).status().expect("mkfifo");
    assert!(st.success(), "mkfifo {}", p.display());
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn firstboot_files_config_that_is_not_a_small_regular_file() {
    let pair = Pair::new(|_, _| {});
    let fifo = pair.dir.path().join("config.fifo");
    mkfifo(&fifo);
    for (path, what) in [
        (
            Path::new("/dev/zero"),
            "is a character device, not a regular file",
        ),
        (fifo.as_path(), "is a FIFO, not a regular file"),
        (pair.dir.path(), "is a directory, not a regular file"),
    ] {
        for cmd in ["run", "plan", "status"] {
            let o = helper(&[cmd], path);
            assert_eq!(
                o.status.code(),
                Some(3),
                "{cmd} {}: {}",
                path.display(),
                err(&o)
            );
            assert!(
                err(&o).contains(&format!(
                    "reading first-boot config {}: {what}",
                    path.display()
                )),
                "{}",
                err(&o)
            );
        }
    }
    // A regular file past the cap: refused, not parsed.
    let big = pair.dir.path().join("big.toml");
    let mut text = std::fs::read_to_string(&pair.cfg_paths[0]).expect("config");
    text.push_str(&format!("# {}\n", "x".repeat(70 * 1024)));
    std::fs::write(&big, text).expect("write");
    let o = helper(&["plan"], &big);
    assert_eq!(o.status.code(), Some(exit::CONFIG), "{}", err(&o));
    assert!(
        err(&o).contains("is larger than 65536 bytes"),
        "{}",
        err(&o)
    );
}

#[test]
fn firstboot_files_state_file_that_is_not_a_regular_file() {
    let fifo_pair = Pair::new(|_, c| {
        let dir = c.state_file.parent().expect("dir").to_path_buf();
        c.state_file = dir.join("state.fifo");
    });
    let fifo = &fifo_pair.cfgs[0].state_file;
    std::fs::create_dir_all(fifo.parent().expect("dir")).expect("mkdir");
    mkfifo(fifo);
    let cfg = &fifo_pair.cfg_paths[0];
    let o = helper(&["run"], cfg);
    assert_eq!(o.status.code(), Some(exit::FAILED), "{}", err(&o));
    assert!(
        err(&o).contains(&format!(
            "reading state file {}: is a FIFO, not a regular file",
            fifo.display()
        )),
        "{}",
        err(&o)
    );
    // Refused before anything was made next to it (no lock file).
    let mut lock = fifo.clone().into_os_string();
    lock.push(".lock");
    assert!(!Path::new(&lock).exists(), "a lock file was made");
    let o = helper(&["status"], cfg);
    assert_eq!(o.status.code(), Some(exit::FAILED), "{}", err(&o));
    let o = helper(&["plan"], cfg);
    assert!(o.status.success(), "{}", err(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("# state: unreadable (reading state file"),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );

    // /dev/zero as the state file: read-only commands only (a run would
    // want to make /dev/zero.lock before the fix).
    let zero_pair = Pair::new(|_, c| c.state_file = "/dev/zero".into());
    let o = helper(&["plan"], &zero_pair.cfg_paths[0]);
    assert!(o.status.success(), "{}", err(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains(
            "# state: unreadable (reading state file /dev/zero: is a character device, not a regular file)"
        ),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    let o = helper(&["status"], &zero_pair.cfg_paths[0]);
    assert_eq!(o.status.code(), Some(exit::FAILED), "{}", err(&o));
}

#[test]
fn firstboot_files_key_file_that_is_not_a_regular_file() {
    let pair = Pair::new(|_, c| c.key_file = "/dev/zero".into());
    let o = helper(&["run"], &pair.cfg_paths[0]);
    assert_eq!(o.status.code(), Some(exit::CONFIG), "{}", err(&o));
    assert!(
        err(&o).contains("reading key file /dev/zero: is a character device, not a regular file"),
        "{}",
        err(&o)
    );
}
