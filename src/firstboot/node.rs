//! The small interface through which the steps talk to a node.
//!
//! [`crate::firstboot::real::RealNode`] runs real commands and reads real
//! files; [`crate::firstboot::model::ModelNode`] answers from a model of both
//! nodes, with the same text and exit codes the EL5 tools print.

use std::io;
use std::time::Duration;

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

    /// A successful result with the given stdout (dry runs, models).
    pub fn ok(stdout: impl Into<String>) -> Self {
        CmdResult {
            code: 0,
            stdout: stdout.into(),
            stderr: String::new(),
        }
    }

    /// The last non-empty line of stderr (or stdout), for error messages.
    pub fn last_line(&self) -> String {
        let pick = |s: &str| {
            s.lines()
                .rev()
                .map(str::trim)
                .find(|l| !l.is_empty())
                .map(str::to_string)
        };
        pick(&self.stderr)
            .or_else(|| pick(&self.stdout))
            .unwrap_or_default()
    }
}

/// One node, as the steps see it.
pub trait Node {
    /// Runs a command (argv[0] is the program) with stdin closed.
    fn run(&mut self, argv: &[&str]) -> CmdResult;
    /// Reads a whole (small) file, e.g. /proc/drbd or /etc/fstab.
    fn read_file(&mut self, path: &str) -> io::Result<String>;
    /// Reads at most `len` bytes from the start of a file or block device.
    fn read_head(&mut self, path: &str, len: usize) -> io::Result<Vec<u8>>;
    /// Replaces a file's contents (atomically where the file system allows).
    fn write_file(&mut self, path: &str, contents: &str) -> io::Result<()>;
    /// Waits; the model may shorten it.
    fn sleep(&mut self, duration: Duration);
}

/// Joins an argv for logs and plans: one command line, as typed in a shell.
pub fn cmdline(argv: &[&str]) -> String {
    argv.iter()
        .map(|a| {
            if !a.is_empty()
                && a.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./:=,@%+".contains(c))
            {
                (*a).to_string()
            } else {
                format!("'{}'", a.replace('\'', "'\\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cmdline_quotes_only_when_needed() {
        assert_eq!(
            cmdline(&["drbdadm", "--", "--force", "create-md", "r0"]),
            "drbdadm -- --force create-md r0"
        );
        assert_eq!(cmdline(&["echo", "a b"]), "echo 'a b'");
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
