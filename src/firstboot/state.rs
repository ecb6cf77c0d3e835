//! The persisted progress of the helper on one node.
//!
//! Written atomically after every step and around every destructive command
//! (temp file in the same directory, fsync, rename, fsync of the directory),
//! so that a power loss leaves either the old or the new state, never a torn
//! one. The ledger records a destructive operation as `started` before it
//! runs and `done` after: together with a check of the real state this is
//! what keeps a destructive command from ever running twice.

use crate::firstboot::file::{read_regular, write_atomic_as, Durability};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

pub const STATE_VERSION: u32 = 1;

/// A state file is a few KiB (one line per item, one entry per destructive
/// command); anything larger is not one.
pub const STATE_FILE_MAX: u64 = 1 << 20;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct State {
    pub version: u32,
    /// The node this state belongs to (`uname -n`).
    pub node: String,
    /// Completed items (steps and barriers), by id, in order.
    #[serde(default)]
    pub completed: Vec<String>,
    /// Set once the last step ran: later boots do nothing.
    #[serde(default)]
    pub done: bool,
    /// Seconds since the epoch of the last write.
    #[serde(default)]
    pub updated: u64,
    #[serde(default)]
    pub ledger: Vec<LedgerEntry>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OpStatus {
    /// Recorded just before the command ran: it may or may not have taken
    /// effect.
    Started,
    /// The command finished successfully, or its effect was found in place.
    Done,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerEntry {
    /// Operation id, e.g. `create-md`, `lvcreate:iso_store`.
    pub op: String,
    pub status: OpStatus,
    /// The command line, for humans.
    pub command: String,
    pub at: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("reading state file {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("state file {path} is damaged ({message}); move it away only if you know the node holds no data")]
    Parse { path: PathBuf, message: String },
    #[error("state file {path} belongs to node {found}, not {expected}")]
    WrongNode {
        path: PathBuf,
        found: String,
        expected: String,
    },
    #[error("writing state file {path}: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

impl State {
    pub fn new(node: &str) -> Self {
        State {
            version: STATE_VERSION,
            node: node.to_string(),
            completed: Vec::new(),
            done: false,
            updated: 0,
            ledger: Vec::new(),
        }
    }

    /// Loads the state, or a fresh one when the file does not exist. A file
    /// that exists but cannot be parsed is an error: starting over could
    /// repeat destructive commands. Only a regular file of at most
    /// [`STATE_FILE_MAX`] bytes is read (a FIFO or a device is refused).
    pub fn load(path: &Path, node: &str) -> Result<Self, StateError> {
        let text = match read_regular(path, STATE_FILE_MAX) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(State::new(node)),
            Err(source) => {
                return Err(StateError::Read {
                    path: path.to_path_buf(),
                    source,
                })
            }
        };
        let st: State = toml::from_str(&text).map_err(|e| StateError::Parse {
            path: path.to_path_buf(),
            message: e.to_string().trim().to_string(),
        })?;
        if st.node != node {
            return Err(StateError::WrongNode {
                path: path.to_path_buf(),
                found: st.node,
                expected: node.to_string(),
            });
        }
        Ok(st)
    }

    /// Writes the state atomically (temp file, fsync, rename), and then, for
    /// [`Durability::Durable`], fsyncs the directory.
    pub fn save(&mut self, path: &Path, durability: Durability) -> Result<(), StateError> {
        self.updated = now();
        let text = toml::to_string(self).map_err(|e| StateError::Write {
            path: path.to_path_buf(),
            source: std::io::Error::other(e.to_string()),
        })?;
        write_atomic_as(path, text.as_bytes(), durability).map_err(|source| StateError::Write {
            path: path.to_path_buf(),
            source,
        })
    }

    pub fn is_completed(&self, id: &str) -> bool {
        self.completed.iter().any(|c| c == id)
    }

    pub fn complete(&mut self, id: &str) {
        if !self.is_completed(id) {
            self.completed.push(id.to_string());
        }
    }

    pub fn op(&self, op: &str) -> Option<OpStatus> {
        self.ledger.iter().find(|e| e.op == op).map(|e| e.status)
    }

    pub fn set_op(&mut self, op: &str, status: OpStatus, command: &str) {
        let at = now();
        match self.ledger.iter_mut().find(|e| e.op == op) {
            Some(e) => {
                e.status = status;
                e.at = at;
            }
            None => self.ledger.push(LedgerEntry {
                op: op.to_string(),
                status,
                command: command.to_string(),
                at,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_ledger() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("sub/firstboot.state");
        let mut s = State::load(&p, "a").unwrap();
        assert!(s.completed.is_empty());
        s.complete("cman");
        s.complete("cman");
        s.set_op(
            "create-md",
            OpStatus::Started,
            "drbdadm -- --force create-md r0",
        );
        s.save(&p, Durability::Durable).unwrap();
        s.set_op("create-md", OpStatus::Done, "");
        s.save(&p, Durability::Durable).unwrap();
        let back = State::load(&p, "a").unwrap();
        assert_eq!(back.completed, vec!["cman".to_string()]);
        assert_eq!(back.op("create-md"), Some(OpStatus::Done));
        assert_eq!(back.ledger[0].command, "drbdadm -- --force create-md r0");
        assert!(matches!(
            State::load(&p, "b"),
            Err(StateError::WrongNode { .. })
        ));
        std::fs::write(&p, "garbage = [").unwrap();
        assert!(matches!(
            State::load(&p, "a"),
            Err(StateError::Parse { .. })
        ));
        // No temp files left behind.
        let names: Vec<_> = std::fs::read_dir(p.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1);
    }
}
