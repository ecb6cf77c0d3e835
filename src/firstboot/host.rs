//! The small interface through which the steps act on the machine they run
//! on: [`Host`], and [`Argv`], one command as it is run and as it is shown.
//!
//! [`crate::firstboot::real::RealHost`] runs real commands and reads real
//! files; the test-only simulator (`sim`, cargo feature `sim`) answers from
//! a simulated pair with the same text and exit codes the tools print.

use crate::firstboot::redact::redact;
use std::fmt;
use std::io;
use std::os::fd::BorrowedFd;
use std::time::{Duration, Instant};

/// One command: the program and its arguments, run without a shell. Shown
/// (in logs, plans, errors) as the line one would type in a shell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Argv(Vec<String>);

impl Argv {
    pub fn new<S: AsRef<str>>(parts: impl IntoIterator<Item = S>) -> Argv {
        Argv(parts.into_iter().map(|s| s.as_ref().to_string()).collect())
    }
}

/// The words: the program, then its arguments.
impl std::ops::Deref for Argv {
    type Target = [String];

    fn deref(&self) -> &[String] {
        &self.0
    }
}

impl fmt::Display for Argv {
    /// Quotes an argument only when a shell would need it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, a) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            if !a.is_empty()
                && a.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./:=,@%+".contains(c))
            {
                f.write_str(a)?;
            } else {
                write!(f, "'{}'", a.replace('\'', "'\\''"))?;
            }
        }
        Ok(())
    }
}

/// What a command did: its exit code and its output.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CmdResult {
    /// Exit code; 127 when the command could not be started (as a shell
    /// reports it), 124 when it was killed for running too long.
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl CmdResult {
    pub fn success(&self) -> bool {
        self.code == 0
    }

    /// A successful result with the given stdout (dry runs, the simulator).
    pub fn ok(stdout: impl Into<String>) -> Self {
        CmdResult {
            code: 0,
            stdout: stdout.into(),
            stderr: String::new(),
        }
    }

    /// The last non-empty line of stderr (or stdout), for error messages,
    /// with any secret the tool echoed hidden ([`redact`]).
    pub fn last_line(&self) -> String {
        let pick = |s: &str| {
            s.lines()
                .rev()
                .map(str::trim)
                .find(|l| !l.is_empty())
                .map(|l| redact(l).into_owned())
        };
        pick(&self.stderr)
            .or_else(|| pick(&self.stdout))
            .unwrap_or_default()
    }
}

/// The machine, as the steps see it.
pub trait Host {
    /// Runs a command with stdin closed (killed, exit 124, after the
    /// helper's longest wait).
    fn run(&mut self, argv: &Argv) -> CmdResult;
    /// Runs a command with stdin closed, killing it (with its process
    /// group; exit 124) after `limit`.
    fn run_for(&mut self, argv: &Argv, limit: Duration) -> CmdResult;
    /// Reads a whole (small) file, e.g. /proc/drbd or /etc/fstab.
    fn read_file(&mut self, path: &str) -> io::Result<String>;
    /// Reads at most `len` bytes from the start of a file or block device.
    fn read_head(&mut self, path: &str, len: usize) -> io::Result<Vec<u8>>;
    /// Replaces a file's contents (atomically where the file system allows).
    fn write_file(&mut self, path: &str, contents: &str) -> io::Result<()>;
    /// The names in a directory (e.g. the rc links in /etc/rc.d/rc3.d).
    fn list_dir(&mut self, path: &str) -> io::Result<Vec<String>>;
    /// Now, on the clock every wait and deadline of the helper reads.
    fn now(&self) -> Instant;
    /// Waits. The simulator's clock may run faster than the wall clock
    /// (what `now` says after a sleep is what counts).
    fn sleep(&mut self, duration: Duration);
    /// Waits until one of `fds` is readable (the back channel: a peer
    /// connecting or writing) or `duration` has passed on this host's
    /// clock, whichever comes first. It may return earlier: callers look
    /// at the clock and wait again. The default sleeps a short slice (for
    /// hosts with no real sockets, whose clock is not the wall clock);
    /// [`poll_readable`] blocks in poll(2).
    fn wait_readable(&mut self, fds: &[BorrowedFd<'_>], duration: Duration) {
        let _ = fds;
        self.sleep(duration.min(WAIT_SLICE));
    }
}

/// The longest a [`Host::wait_readable`] that cannot poll sleeps at once.
pub const WAIT_SLICE: Duration = Duration::from_millis(20);

/// Blocks in poll(2) until one of `fds` is readable (or hung up, or in
/// error: the caller's next read says which) or `timeout` (real time) has
/// passed. An interrupted or failed poll returns at once: callers loop.
pub fn poll_readable(fds: &[BorrowedFd<'_>], timeout: Duration) {
    use rustix::event::{poll, PollFd, PollFlags, Timespec};
    let mut set: Vec<PollFd<'_>> = fds
        .iter()
        .map(|fd| PollFd::from_borrowed_fd(*fd, PollFlags::IN))
        .collect();
    let t = Timespec {
        tv_sec: i64::try_from(timeout.as_secs()).unwrap_or(i64::MAX),
        tv_nsec: i64::from(timeout.subsec_nanos()),
    };
    let _ = poll(&mut set, Some(&t));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argv_shows_as_a_shell_line_quoting_only_when_needed() {
        assert_eq!(
            Argv::new(["drbdadm", "--", "--force", "create-md", "r0"]).to_string(),
            "drbdadm -- --force create-md r0"
        );
        assert_eq!(Argv::new(["echo", "a b"]).to_string(), "echo 'a b'");
        assert_eq!(
            Argv::new(["echo", "it's", ""]).to_string(),
            "echo 'it'\\''s' ''"
        );
    }

    #[test]
    fn last_line_prefers_stderr() {
        let r = CmdResult {
            code: 1,
            stdout: "out\n".into(),
            stderr: "first\nsecond\n\n".into(),
        };
        assert_eq!(r.last_line(), "second");
    }
}
