//! The helper's errors, and the exit code each one maps to.

use crate::firstboot::barrier::BarrierError;
use crate::firstboot::config::ConfigError;
use crate::firstboot::state::StateError;
use std::path::PathBuf;

/// Exit codes of `clusterkick-firstboot` (see docs/firstboot.md).
pub mod exit {
    /// Done, or nothing to do.
    pub const OK: i32 = 0;
    /// A command failed or the node is in a state the helper did not expect.
    pub const FAILED: i32 = 1;
    /// Bad command line (clap's own code).
    pub const USAGE: i32 = 2;
    /// The config or the key file cannot be read.
    pub const CONFIG: i32 = 3;
    /// Another helper holds the lock on this node.
    pub const LOCKED: i32 = 4;
    /// `drbd-fence-peer` only: the peer was fenced (DRBD 8.3 reads 7 as
    /// "peer was stonithed"; the handler's only other code is 1).
    pub const PEER_FENCED: i32 = 7;
    /// A guard found data that may be in use; nothing destructive ran.
    pub const REFUSED: i32 = 10;
    /// A wait ran out of time (the message names what it waited for).
    pub const TIMEOUT: i32 = 11;
    /// The peer's helper stopped (refused or failed) and told us.
    pub const PEER_STOPPED: i32 = 12;
    /// A replacement node refused to join: its survivor's data is not
    /// UpToDate, or the survivor is not in a state to be joined. Nothing
    /// that touches shared data ran.
    pub const SURVIVOR_NOT_READY: i32 = 13;
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Barrier(#[from] BarrierError),
    #[error(transparent)]
    State(#[from] StateError),
    #[error("another clusterkick-firstboot holds {0}")]
    Locked(PathBuf),
    /// A command line that cannot be run as given (e.g. a confirmation
    /// flag missing).
    #[error("{0}")]
    Usage(String),
    #[error("REFUSED: {0}")]
    Refused(String),
    /// A replacement node's survivor cannot be joined (see
    /// [`exit::SURVIVOR_NOT_READY`]).
    #[error("REFUSED: {0}")]
    SurvivorNotReady(String),
    #[error("timed out after {secs} s waiting for {what} (last seen: {last})")]
    Timeout {
        what: String,
        secs: u64,
        last: String,
    },
    #[error("peer {peer} stopped: {reason}")]
    PeerStopped { peer: String, reason: String },
    #[error("`{command}` failed with exit code {code}: {detail}")]
    Command {
        command: String,
        code: i32,
        detail: String,
    },
    #[error("{0}")]
    Unexpected(String),
    #[error(transparent)]
    Parse(#[from] ParseError),
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    /// Dry run only: the step would wait for something that only a real run
    /// brings about.
    #[error("would wait for {0}")]
    DryRunWait(String),
}

impl Error {
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Config(_) => exit::CONFIG,
            Error::Barrier(BarrierError::Key { .. }) => exit::CONFIG,
            Error::Locked(_) => exit::LOCKED,
            Error::Usage(_) => exit::USAGE,
            Error::Refused(_) => exit::REFUSED,
            Error::SurvivorNotReady(_) => exit::SURVIVOR_NOT_READY,
            Error::Timeout { .. } => exit::TIMEOUT,
            Error::PeerStopped { .. } => exit::PEER_STOPPED,
            _ => exit::FAILED,
        }
    }

    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A tool printed something its parser does not understand.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("cannot parse {what}: {detail}")]
pub struct ParseError {
    /// The tool or file, e.g. `/proc/drbd`, `cman_tool status`.
    pub what: &'static str,
    pub detail: String,
}

pub fn perr(what: &'static str, detail: impl Into<String>) -> ParseError {
    ParseError {
        what,
        detail: detail.into(),
    }
}
