//! The persisted progress of the helper on one node.
//!
//! Written atomically after every step and around every destructive command
//! (temp file in the same directory, fsync, rename, fsync of the directory),
//! so that a power loss leaves either the old or the new state, never a torn
//! one. The ledger records a destructive operation as `started` before it
//! runs and `done` after: together with a check of the real state this is
//! what keeps a destructive command from ever running twice.

use crate::firstboot::file::{read_regular, write_atomic_as, write_via_spare, Durability};
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

    /// Writes the state atomically: [`Durability::Durable`] through the
    /// spare file ([`write_via_spare`]: fsync, exchange, fsync of the
    /// directory), [`Durability::Whole`] as a new temp file renamed over it
    /// (fsync, rename).
    pub fn save(&mut self, path: &Path, durability: Durability) -> Result<(), StateError> {
        self.updated = now();
        let text = self.to_toml();
        // A durable write goes through the spare; a whole one makes a new
        // file, leaving the spare alone (see write_via_spare: the spare is
        // written over in place only after a durable swap).
        match durability {
            Durability::Durable => write_via_spare(path, text.as_bytes()),
            Durability::Whole => write_atomic_as(path, text.as_bytes(), Durability::Whole),
        }
        .map_err(|source| StateError::Write {
            path: path.to_path_buf(),
            source,
        })
    }

    /// The state as TOML, written by hand: the layout `toml::to_string`
    /// gives this struct (the state file reads as before), at a fraction of
    /// its cost, since the file is written up to 30 times a run (on the
    /// test VMs the generic serializer was a sixth of a write's CPU). Every
    /// string is a basic string with TOML's escapes; read back with
    /// [`State::load`] it is the same state (tested).
    pub fn to_toml(&self) -> String {
        use std::fmt::Write as _;
        let mut t =
            String::with_capacity(256 + 32 * self.completed.len() + 128 * self.ledger.len());
        let _ = writeln!(t, "version = {}", self.version);
        t.push_str("node = ");
        basic_string(&mut t, &self.node);
        t.push_str("\ncompleted = [");
        for (i, c) in self.completed.iter().enumerate() {
            if i > 0 {
                t.push_str(", ");
            }
            basic_string(&mut t, c);
        }
        let _ = write!(t, "]\ndone = {}\nupdated = {}\n", self.done, self.updated);
        for e in &self.ledger {
            t.push_str("\n[[ledger]]\nop = ");
            basic_string(&mut t, &e.op);
            t.push_str("\nstatus = ");
            basic_string(
                &mut t,
                match e.status {
                    OpStatus::Started => "started",
                    OpStatus::Done => "done",
                },
            );
            t.push_str("\ncommand = ");
            basic_string(&mut t, &e.command);
            let _ = writeln!(t, "\nat = {}", e.at);
        }
        t
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

/// `s` as a TOML basic string: `"` and `\` escaped, and every control
/// character (TOML allows none in a basic string but tab) as an escape.
fn basic_string(t: &mut String, s: &str) {
    use std::fmt::Write as _;
    t.push('"');
    for ch in s.chars() {
        match ch {
            '"' => t.push_str("\\\""),
            '\\' => t.push_str("\\\\"),
            '\n' => t.push_str("\\n"),
            '\t' => t.push_str("\\t"),
            '\r' => t.push_str("\\r"),
            c if c.is_ascii_control() => {
                let _ = write!(t, "\\u{:04X}", c as u32);
            }
            c => t.push(c),
        }
    }
    t.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The hand-written TOML is what the generic serializer writes for an
    /// ordinary state, and reads back as the same state whatever its
    /// strings hold.
    #[test]
    fn hand_written_toml_matches_the_serializer_and_reads_back() {
        let mut s = State::new("an-node01.alteeve.com");
        s.updated = 1_795_631_122;
        s.complete("step:inspect");
        s.complete("barrier:inspected");
        s.set_op(
            "create-md",
            OpStatus::Started,
            "drbdadm -- --force create-md r0",
        );
        s.set_op(
            "lvcreate:lv1",
            OpStatus::Done,
            "lvcreate --activate n -L 512M -n lv1 vgc",
        );
        for e in &mut s.ledger {
            e.at = 1_795_631_120;
        }
        assert_eq!(s.to_toml(), toml::to_string(&s).unwrap());
        let empty = State::new("n");
        let back: State = toml::from_str(&empty.to_toml()).unwrap();
        assert_eq!(back, empty);

        let odd = "q\"uote \\ back 'single' tab\t nl\n cr\r nul\0 esc\u{1b} del\u{7f} é \u{85} ]#=";
        let mut s = State::new(odd);
        s.complete(odd);
        s.complete("[[ledger]]");
        s.done = true;
        s.set_op(odd, OpStatus::Started, odd);
        s.set_op("\"\"\"", OpStatus::Done, "'''");
        let text = s.to_toml();
        let back: State = toml::from_str(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert_eq!(back, s);
    }

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
        // Nothing left behind but the file and its spare.
        let mut names: Vec<_> = std::fs::read_dir(p.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(names, [".firstboot.state.spare", "firstboot.state"]);
    }
}
