//! xorriso, run as a program: the one tool that both reads an ISO and adds
//! a session to it while replaying its boot records as they were (lorax's
//! mkksiso does the same job with it).

use std::ffi::OsString;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// How many of xorriso's last stderr lines an error quotes.
const STDERR_TAIL_LINES: usize = 8;

#[derive(Debug, thiserror::Error)]
pub enum XorrisoError {
    #[error("xorriso is not installed (or not on PATH): clusterkick iso needs it to rewrite the ISO; install the `xorriso` package (apt-get install xorriso, dnf install xorriso)")]
    Missing,
    #[error("running xorriso")]
    Spawn(#[source] io::Error),
    #[error("xorriso failed while {what} (exit status {status}):\n{stderr}")]
    Failed {
        what: String,
        status: String,
        stderr: String,
    },
}

/// One file or folder to put into the image.
#[derive(Debug, Clone)]
pub struct Graft {
    pub disk: PathBuf,
    pub iso: String,
}

/// What [`Xorriso::add_session`] changes in the image.
#[derive(Debug, Clone)]
pub struct Session {
    /// Folders removed first when they exist (stale files of an earlier run).
    pub remove: Vec<String>,
    pub grafts: Vec<Graft>,
    /// Keep a Joliet tree (the base had one).
    pub joliet: bool,
}

pub struct Xorriso {
    program: PathBuf,
}

impl Default for Xorriso {
    fn default() -> Self {
        Self::new()
    }
}

fn tail(stderr: &[u8]) -> String {
    let text = String::from_utf8_lossy(stderr);
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(STDERR_TAIL_LINES)..].join("\n")
}

impl Xorriso {
    /// xorriso from PATH. Whether it is there shows on the first run: a
    /// missing program is [`XorrisoError::Missing`].
    pub fn new() -> Self {
        Self {
            program: PathBuf::from("xorriso"),
        }
    }

    fn run(&self, what: &str, args: Vec<OsString>) -> Result<Output, XorrisoError> {
        // -no_rc: no start-up files, so that a site's xorriso.conf cannot
        // change what is written.
        let out = Command::new(&self.program)
            .arg("-no_rc")
            .args(args)
            .output()
            .map_err(|e| match e.kind() {
                io::ErrorKind::NotFound => XorrisoError::Missing,
                _ => XorrisoError::Spawn(e),
            })?;
        if out.status.success() {
            Ok(out)
        } else {
            Err(XorrisoError::Failed {
                what: what.to_string(),
                status: out
                    .status
                    .code()
                    .map_or_else(|| "killed by a signal".into(), |c| c.to_string()),
                stderr: tail(&out.stderr),
            })
        }
    }

    /// Copies one file out of an ISO image.
    pub fn extract(&self, image: &Path, iso_path: &str, dest: &Path) -> Result<(), XorrisoError> {
        let args: Vec<OsString> = vec![
            "-osirrox".into(),
            "on".into(),
            "-indev".into(),
            image.into(),
            "-extract".into(),
            iso_path.into(),
            dest.into(),
        ];
        self.run(
            &format!("reading {iso_path} from {}", image.display()),
            args,
        )
        .map(drop)
    }

    /// Adds a session to the image file in place (xorriso's growing mode):
    /// the base's bytes stay where they are, the new files and a new
    /// directory tree go after them, and the volume descriptors at the start
    /// point at the new tree. `-boot_image any replay` writes the base's
    /// El Torito boot catalog and system area again as they were, and
    /// patches the boot image's info table for its new place.
    pub fn add_session(&self, image: &Path, s: &Session) -> Result<(), XorrisoError> {
        let mut args: Vec<OsString> = vec![
            // No forced flushes, as with cp: the default syncs every 16 MiB,
            // which on a fresh copy of a DVD means waiting for the disk.
            "-stdio_sync".into(),
            "off".into(),
            "-dev".into(),
            image.into(),
            "-boot_image".into(),
            "any".into(),
            "replay".into(),
            "-joliet".into(),
            if s.joliet { "on" } else { "off" }.into(),
        ];
        for dir in &s.remove {
            // -find from / always succeeds; -rm_r on a missing path would not.
            args.extend(
                ["-find", "/", "-wholename", dir, "-exec", "rm_r", "--"]
                    .iter()
                    .map(OsString::from),
            );
        }
        for g in &s.grafts {
            args.extend(["-map".into(), g.disk.clone().into(), g.iso.clone().into()]);
        }
        args.push("-commit".into());
        self.run(&format!("writing {}", image.display()), args)
            .map(drop)
    }
}
