//! The real node: runs commands with `std::process::Command`, reads and
//! writes real files. No threads: the child's output goes to unlinked temp
//! files and the child is polled, so a command that hangs (e.g. `drbd start`
//! waiting for a peer that died) is killed, with its process group, after
//! the timeout.

use crate::firstboot::config::FirstbootConfig;
use crate::firstboot::error::Result;
use crate::firstboot::file::write_atomic;
use crate::firstboot::host::{Argv, CmdResult, Host};
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// EL5 keeps the cluster tools in /sbin and /usr/sbin; init scripts at boot
/// run with a minimal PATH.
const PATH: &str = "/sbin:/usr/sbin:/bin:/usr/bin";

pub struct RealHost {
    timeout: Duration,
}

/// Numbers the scratch files of every command this process runs (one
/// counter per process, not per node value: two values in one process, as
/// in the unit tests, must not pick the same name).
static SCRATCH: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

/// The [`crate::firstboot::OpenHost`] of the helper that ships: this machine.
pub fn open(cfg: &FirstbootConfig) -> Result<Box<dyn Host>> {
    Ok(Box::new(RealHost::new(crate::firstboot::command_timeout(
        cfg,
    ))))
}

impl RealHost {
    pub fn new(timeout: Duration) -> Self {
        RealHost { timeout }
    }

    /// An anonymous temp file for a child's output (created, then unlinked).
    fn scratch(&self) -> io::Result<File> {
        let n = SCRATCH.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::var_os("TMPDIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("/tmp"));
        let path = dir.join(format!(
            ".clusterkick-firstboot.{}.{}",
            std::process::id(),
            n
        ));
        let f = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)?;
        let _ = std::fs::remove_file(&path);
        Ok(f)
    }

    fn spawn_and_wait(&mut self, argv: &Argv) -> io::Result<CmdResult> {
        let (program, args) = argv
            .split_first()
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "empty command"))?;
        let mut out = self.scratch()?;
        let mut err = self.scratch()?;
        let mut child = Command::new(program)
            .args(args)
            .env("PATH", PATH)
            .env("LANG", "C")
            .env("LC_ALL", "C")
            .stdin(Stdio::null())
            .stdout(Stdio::from(out.try_clone()?))
            .stderr(Stdio::from(err.try_clone()?))
            .process_group(0)
            .spawn()?;
        let start = Instant::now();
        let mut sleep = Duration::from_millis(5);
        let status = loop {
            if let Some(st) = child.try_wait()? {
                break Some(st);
            }
            if start.elapsed() >= self.timeout {
                // Kill the whole group (init scripts start children).
                let _ = Command::new("kill")
                    .args(["-KILL", "--", &format!("-{}", child.id())])
                    .env("PATH", PATH)
                    .stdin(Stdio::null())
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .status();
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            std::thread::sleep(sleep);
            sleep = (sleep * 2).min(Duration::from_millis(200));
        };
        let mut stdout = String::new();
        let mut stderr = String::new();
        out.seek(SeekFrom::Start(0))?;
        out.read_to_string(&mut stdout)?;
        err.seek(SeekFrom::Start(0))?;
        err.read_to_string(&mut stderr)?;
        Ok(match status {
            Some(st) => CmdResult {
                // Killed by a signal: 128 + signal, as a shell reports it.
                code: st.code().unwrap_or_else(|| {
                    use std::os::unix::process::ExitStatusExt;
                    128 + st.signal().unwrap_or(0)
                }),
                stdout,
                stderr,
            },
            None => CmdResult {
                code: 124,
                stdout,
                stderr: format!(
                    "{stderr}clusterkick-firstboot: killed after {} s\n",
                    self.timeout.as_secs()
                ),
            },
        })
    }
}

impl Host for RealHost {
    fn run(&mut self, argv: &Argv) -> CmdResult {
        match self.spawn_and_wait(argv) {
            Ok(r) => r,
            Err(e) => CmdResult {
                code: 127,
                stdout: String::new(),
                stderr: format!("{}: {e}\n", argv.first().map(String::as_str).unwrap_or("")),
            },
        }
    }

    fn read_file(&mut self, path: &str) -> io::Result<String> {
        std::fs::read_to_string(path)
    }

    fn read_head(&mut self, path: &str, len: usize) -> io::Result<Vec<u8>> {
        let mut f = File::open(path)?;
        let mut buf = vec![0u8; len];
        let mut got = 0;
        while got < len {
            match f.read(&mut buf[got..]) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        buf.truncate(got);
        Ok(buf)
    }

    fn write_file(&mut self, path: &str, contents: &str) -> io::Result<()> {
        // Keep the mode of an existing file (e.g. /etc/fstab).
        let mode = std::fs::metadata(path).ok().map(|m| m.permissions());
        write_atomic(Path::new(path), contents.as_bytes())?;
        if let Some(p) = mode {
            std::fs::set_permissions(path, p)?;
        }
        Ok(())
    }

    fn sleep(&mut self, duration: Duration) {
        std::thread::sleep(duration);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_commands_and_reports_codes() {
        let mut n = RealHost::new(Duration::from_secs(10));
        let r = n.run(&Argv::new(["sh", "-c", "echo out; echo err >&2; exit 3"]));
        assert_eq!(
            (r.code, r.stdout.as_str(), r.stderr.as_str()),
            (3, "out\n", "err\n")
        );
        let r = n.run(&Argv::new(["/nonexistent/tool"]));
        assert_eq!(r.code, 127);
    }

    #[test]
    fn kills_after_timeout() {
        let mut n = RealHost::new(Duration::from_millis(300));
        let start = Instant::now();
        let r = n.run(&Argv::new(["sh", "-c", "sleep 30 & sleep 30"]));
        assert_eq!(r.code, 124);
        assert!(start.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn files() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        let ps = p.to_str().unwrap();
        let mut n = RealHost::new(Duration::from_secs(1));
        n.write_file(ps, "hello\n").unwrap();
        assert_eq!(n.read_file(ps).unwrap(), "hello\n");
        assert_eq!(n.read_head(ps, 3).unwrap(), b"hel");
        assert_eq!(n.read_head(ps, 100).unwrap(), b"hello\n");
    }
}
