//! The CLI's edge: the one error type every subcommand returns, how it is
//! printed, the exit codes, and writes to stderr that survive a closed pipe.
//!
//! An error prints as `error: <what failed>: <cause>: <its cause>...`, each
//! cause once (the typed errors below never repeat their source in their
//! own message). An invalid profile prints its diagnostics, one a line.
//!
//! Standard error may be a closed pipe (`clusterkick check p.toml 2>&1 |
//! true`): `eprintln!` would then panic, and the release build aborts on a
//! panic. Everything here writes with `write!` and drops a failed write: the
//! exit code still says what happened.

use crate::build::BuildError;
use crate::chain::with_causes;
use crate::diag::InvalidProfile;
use crate::helper_blob::HelperError;
use crate::iso::IsoError;
use crate::node_edit::NodeEditError;
use crate::outdir::OutdirError;
use crate::render::RenderError;
use std::io::Write;
use std::path::PathBuf;

/// Exit codes of `clusterkick` (README, "Exit codes").
pub mod exit {
    /// Done; for `check`, the profile is valid (warnings may have been
    /// printed).
    pub const OK: u8 = 0;
    /// Refused or failed: an invalid profile, a helper that cannot run on
    /// the nodes, a failed build or ISO, a node or file `render` does not
    /// know. Nothing was written (a build or ISO replaces its output only
    /// when complete).
    pub const FAILED: u8 = 1;
    /// Bad command line (clap's own code): unknown subcommand or option,
    /// missing argument.
    pub const USAGE: u8 = 2;
}

/// Exit codes of `clusterkick diff` (README, "clusterkick diff"): diff(1)'s.
pub mod diff_exit {
    /// A build would change nothing.
    pub const SAME: u8 = 0;
    /// A build would change something (shown on standard output).
    pub const CHANGES: u8 = 1;
    /// No answer: an invalid profile, a DIR a build would refuse, a bad
    /// command line, ...
    pub const ERROR: u8 = 2;
}

/// `diff`'s result as its exit code, the error printed as for any command.
pub fn finish_diff(r: Result<bool, CliError>) -> std::process::ExitCode {
    std::process::ExitCode::from(match r {
        Ok(false) => diff_exit::SAME,
        Ok(true) => diff_exit::CHANGES,
        Err(e) => {
            if let Some(text) = e.report() {
                say(text);
            }
            diff_exit::ERROR
        }
    })
}

/// Why a subcommand failed.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Printed as its diagnostics, not as `error: ...`.
    #[error(transparent)]
    Invalid(#[from] InvalidProfile),
    #[error(transparent)]
    Helper(#[from] HelperError),
    #[error(transparent)]
    Build(#[from] BuildError),
    #[error(transparent)]
    Render(#[from] RenderError),
    #[error(transparent)]
    Iso(#[from] IsoError),
    #[error(transparent)]
    Outdir(#[from] OutdirError),
    #[error(transparent)]
    Diff(#[from] crate::diff::DiffError),
    #[error(transparent)]
    WebGroup(#[from] crate::webgroup::WebGroupError),
    #[error("{first} and {second} both name cluster {name:?}; each writes DIR/<cluster>/")]
    SameCluster {
        first: PathBuf,
        second: PathBuf,
        name: String,
    },
    #[error("no node {node:?} in {profile}; nodes: {nodes}")]
    NoSuchNode {
        node: String,
        profile: PathBuf,
        nodes: String,
    },
    #[error("{path:?} is not a generated file; choose ks, post or one of: {files}")]
    NotGenerated { path: String, files: String },
    #[error(transparent)]
    Profiles(#[from] crate::profile::ExpandError),
    #[error(transparent)]
    Lock(#[from] crate::lockfile::LockError),
    #[error(transparent)]
    Init(#[from] crate::init::InitError),
    #[error(transparent)]
    NodeEdit(#[from] crate::node_edit::NodeEditError),
    #[error("a build thread panicked")]
    Panicked,
    #[error("writing to standard output")]
    Stdout(#[source] std::io::Error),
}

impl CliError {
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Init(e) if e.is_usage() => exit::USAGE,
            CliError::NodeEdit(e) if e.is_usage() => exit::USAGE,
            _ => exit::FAILED,
        }
    }

    /// What `main` prints for this error: the diagnostics of an invalid
    /// profile, else `error: ` and the chain of causes on one line. Nothing
    /// for a closed standard output: the reader has gone, and said so.
    pub fn report(&self) -> Option<String> {
        match self {
            CliError::Invalid(d) | CliError::NodeEdit(NodeEditError::Profile(d)) => {
                Some(d.to_string())
            }
            CliError::NodeEdit(e @ NodeEditError::Invalid(_, d)) => {
                Some(format!("{d}\nerror: {e}"))
            }
            CliError::Stdout(e) if e.kind() == std::io::ErrorKind::BrokenPipe => None,
            e => Some(format!("error: {}", with_causes(e))),
        }
    }
}

/// One line on standard error; a write that fails (a closed pipe) is
/// dropped.
pub fn say(line: impl std::fmt::Display) {
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_cause_is_printed_once_after_its_error() {
        let denied = |path: &str| OutdirError::Io {
            what: "writing",
            path: path.into(),
            source: std::io::Error::from(std::io::ErrorKind::PermissionDenied),
        };
        let e = CliError::Outdir(denied("/out/an-cluster"));
        assert_eq!(
            e.report().unwrap(),
            "error: writing /out/an-cluster: permission denied"
        );
        // Several failures: each with its cause, one a line.
        let e = CliError::Outdir(OutdirError::Several(vec![denied("/a"), denied("/b")]));
        assert_eq!(
            e.report().unwrap(),
            "error: writing /a: permission denied\nwriting /b: permission denied"
        );
        let e = CliError::Stdout(std::io::Error::from(std::io::ErrorKind::BrokenPipe));
        assert_eq!(e.report(), None);
        let e = CliError::Stdout(std::io::Error::from(std::io::ErrorKind::StorageFull));
        assert_eq!(
            e.report().unwrap(),
            "error: writing to standard output: no storage space"
        );
    }
}
