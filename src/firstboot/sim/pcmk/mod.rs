//! The pacemaker-family simulator: both nodes of an `el9-kvm` or
//! `debian12-kvm` pair. systemd units (corosync, pacemaker), corosync's
//! quorum, pacemaker running the loaded CIB (stonith, the DRBD promotable
//! clone, dlm + lvmlockd, LVM-activate + Filesystem), DRBD 8.4 or 9
//! (metadata, UUIDs, connection, roles, disk states, resync), LVM with
//! lvmlockd (the shared VG, lockspaces, shared activation), GFS2 and the
//! files on it.
//!
//! Commands are answered with the text and exit codes the real tools
//! print (tests/fixtures/pcmk/ holds real outputs), so the real parsers
//! run on it. The world lives in one TOML file shared by the two helper
//! processes, under a lock; every command a node runs is appended to that
//! node's log in the world, marked `query` or `change`; after each one
//! pacemaker "acts" ([`World::converge`]). Faults are injected by editing
//! the world.
//!
//! One file per subsystem: [`world`] (the state and its file), [`exec`]
//! (which command goes where; systemd, corosync), `pacemaker`, `drbd`,
//! `storage` (LVM, wipefs, GFS2, files, mounts), [`faults`].

mod drbd;
mod exec;
pub mod faults;
mod pacemaker;
mod storage;
pub mod world;

pub use world::*;

use super::CRASH_EXIT;
use crate::firstboot::config::{DrbdGeneration, FirstbootConfig};
use crate::firstboot::error::{Error, Result};
use crate::firstboot::host::{Argv, CmdResult, Host};
use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::os::fd::BorrowedFd;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The host of node `cfg.node.short` in the world in `dir`.
pub fn open(dir: &Path, cfg: &FirstbootConfig) -> Result<Box<dyn Host>> {
    let node = SimHost::open(dir, &cfg.node.short)
        .map_err(|e| Error::io(format!("opening simulated world {}", dir.display()), e))?;
    Ok(Box::new(node))
}

pub const WORLD_FILE: &str = "world.toml";
pub const LOCK_FILE: &str = "world.lock";

fn res(code: i32, stdout: impl Into<String>, stderr: impl Into<String>) -> CmdResult {
    CmdResult {
        code,
        stdout: stdout.into(),
        stderr: stderr.into(),
    }
}

/// A node answering from the world in a directory.
pub struct SimHost {
    dir: PathBuf,
    me: String,
}

impl SimHost {
    pub fn open(dir: &Path, short: &str) -> io::Result<SimHost> {
        let w = World::load(dir)?;
        if !w.nodes.contains_key(short) {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("simulated world has no node {short}"),
            ));
        }
        Ok(SimHost {
            dir: dir.to_path_buf(),
            me: short.to_string(),
        })
    }

    /// Runs `f` on the world under the lock, logs the entry, lets
    /// pacemaker act, applies crash faults after the world is stored.
    fn act<R>(&mut self, line: String, f: impl FnOnce(&mut World, &str) -> (R, bool)) -> R {
        enum After {
            Nothing,
            Crash,
            Hang,
        }
        let me = self.me.clone();
        let out = World::update(&self.dir, |w| {
            let (r, change) = f(w, &me);
            w.seq += 1;
            let seq = w.seq;
            let n = w.node_mut(&me);
            n.log.push(LogEntry {
                seq,
                kind: if change { "change" } else { "query" }.into(),
                line,
            });
            let mut after = After::Nothing;
            if change {
                n.changes += 1;
                let c = n.changes;
                if n.faults.crash_after_change == Some(c) {
                    n.faults.crash_after_change = None;
                    after = After::Crash;
                } else if n.faults.hang_after_change == Some(c) {
                    n.faults.hang_after_change = None;
                    after = After::Hang;
                } else if n.faults.reboot_after_change == Some(c) {
                    n.faults.reboot_after_change = None;
                    w.reboot(&me);
                    after = After::Crash;
                }
            }
            w.converge();
            (r, after)
        });
        match out {
            Ok((r, After::Nothing)) => r,
            Ok((_, After::Crash)) => std::process::exit(CRASH_EXIT),
            Ok((_, After::Hang)) => loop {
                std::thread::sleep(Duration::from_secs(3600));
            },
            Err(e) => {
                eprintln!("simulated world {}: {e}", self.dir.display());
                std::process::exit(CRASH_EXIT);
            }
        }
    }
}

impl Host for SimHost {
    fn run(&mut self, argv: &Argv) -> CmdResult {
        let line = argv.to_string();
        let parts: Vec<&str> = argv.iter().map(String::as_str).collect();
        self.act(line, |w, me| w.exec(me, &parts))
    }

    /// The pacemaker family's commands all return within the simulator's
    /// step; the limit never bites.
    fn run_for(&mut self, argv: &Argv, _limit: Duration) -> CmdResult {
        self.run(argv)
    }

    fn list_dir(&mut self, path: &str) -> io::Result<Vec<String>> {
        // No pacemaker-family step lists a folder.
        self.act(format!("list {path}"), |_, _| {
            (
                Err(io::Error::new(io::ErrorKind::Unsupported, "not simulated")),
                false,
            )
        })
    }

    fn now(&self) -> Instant {
        Instant::now()
    }

    fn read_file(&mut self, path: &str) -> io::Result<String> {
        let path = path.to_string();
        self.act(format!("read {path}"), |w, me| (w.read(me, &path), false))
    }

    fn read_head(&mut self, path: &str, _len: usize) -> io::Result<Vec<u8>> {
        // The pacemaker family probes with wipefs, never raw.
        self.act(format!("probe {path}"), |_, _| {
            (
                Err(io::Error::new(io::ErrorKind::Unsupported, "not simulated")),
                false,
            )
        })
    }

    fn write_file(&mut self, path: &str, contents: &str) -> io::Result<()> {
        let path = path.to_string();
        let contents = contents.to_string();
        self.act(format!("write {path}"), |w, me| {
            (w.write(me, &path, &contents), true)
        })
    }

    fn sleep(&mut self, duration: Duration) {
        std::thread::sleep(duration);
    }

    /// The back channel is real sockets, the clock the wall clock: as the
    /// real host, poll(2).
    fn wait_readable(&mut self, fds: &[BorrowedFd<'_>], duration: Duration) {
        crate::firstboot::host::poll_readable(fds, duration);
    }
}
