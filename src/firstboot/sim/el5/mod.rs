//! The el5 simulator: both nodes of an `el5-xen` pair. DRBD (metadata, UUIDs, connection,
//! roles, disk states, resync), LVM (local VG, the clustered VG on
//! /dev/drbd0, activation per node), GFS2 superblocks and files, cman
//! membership, services and chkconfig, /etc/fstab and mounts.
//!
//! Commands are answered with the text and exit codes the EL5 tools print
//! (`shared/reference/el5-tool-outputs.md`), so the real parsers run on it.
//! The world lives in one TOML file shared by the two helper processes,
//! guarded by an advisory lock; every command a node runs is appended to
//! that node's log in the world, marked `query` or `change`. Faults are
//! injected by editing the world: existing metadata, a PV signature, a GFS2
//! file system, a split brain, a crash or a hang after the n-th change.
//!
//! One file per subsystem: [`world`] (the state and its file), [`exec`]
//! (which command goes where), `cman`, `lvm`, `gfs2`, `drbd`, `files`
//! (what reads and writes see), [`faults`] (what tests inject).

mod cman;
mod drbd;
mod exec;
pub mod faults;
mod files;
mod gfs2;
mod lvm;
pub mod power;
pub mod rc;
pub mod world;

pub use power::FenceEvent;
pub use world::*;

use super::{CRASH_EXIT, POWERED_OFF_EXIT};
use crate::firstboot::config::FirstbootConfig;
use crate::firstboot::ctx::Ctx;
use crate::firstboot::error::{Error, Result};
use crate::firstboot::host::{Argv, CmdResult, Host};
use crate::firstboot::log::Logger;
use crate::firstboot::platform::el5::parse::drbdmeta::UUID_JUST_CREATED;
use crate::firstboot::state::State;
use crate::firstboot::step::FencePeerRequest;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::os::fd::BorrowedFd;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The host of node `cfg.node.short` in the world in `dir`.
pub fn open(dir: &Path, cfg: &FirstbootConfig) -> Result<Box<dyn Host>> {
    let node = SimHost::open(dir, cfg)
        .map_err(|e| Error::io(format!("opening simulated world {}", dir.display()), e))?;
    Ok(Box::new(node))
}

pub const WORLD_FILE: &str = "world.toml";
pub const LOCK_FILE: &str = "world.lock";

/// The sync speed the model reports (the seed's `rate 33M`), K/sec.
const SYNC_KPS: u64 = 33_792;

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

fn res(code: i32, stdout: impl Into<String>, stderr: impl Into<String>) -> CmdResult {
    CmdResult {
        code,
        stdout: stdout.into(),
        stderr: stderr.into(),
    }
}

fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `400G` -> MiB (lvcreate -L units, default M).
pub fn size_to_m(size: &str) -> Option<u64> {
    let (num, unit) = match size.char_indices().find(|(_, c)| c.is_ascii_alphabetic()) {
        Some((i, _)) => (&size[..i], &size[i..]),
        None => (size, "m"),
    };
    let n: f64 = num.parse().ok()?;
    let mult = match unit.to_ascii_lowercase().as_str() {
        "k" => 1.0 / 1024.0,
        "m" => 1.0,
        "g" => 1024.0,
        "t" => 1024.0 * 1024.0,
        _ => return None,
    };
    (n > 0.0).then_some((n * mult) as u64)
}

/// A node answering from the world in a directory, on a clock that runs
/// `time_scale` times faster than the wall clock (read at open).
pub struct SimHost {
    dir: PathBuf,
    me: String,
    cfg: FirstbootConfig,
    base: Instant,
    scale: u32,
}

/// What happens to the process after a command.
enum After {
    Nothing,
    Crash,
    Hang,
    PoweredOff,
}

impl SimHost {
    /// The real time `duration` of this host's clock takes (a
    /// `time_scale`-th of it, at least 2 ms unless shorter).
    fn real(&self, duration: Duration) -> Duration {
        (duration / self.scale).max(duration.min(Duration::from_millis(2)))
    }

    pub fn open(dir: &Path, cfg: &FirstbootConfig) -> io::Result<SimHost> {
        let short = &cfg.node.short;
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
            cfg: cfg.clone(),
            base: Instant::now(),
            scale: u32::try_from(w.time_scale.max(1)).unwrap_or(u32::MAX),
        })
    }

    /// Runs `f` on the world under the lock (after what time did on its
    /// own: [`World::tick`]), logs the entry, applies crash faults after
    /// the world is stored. A node without power runs nothing: its process
    /// stops.
    fn act<R>(&mut self, line: String, f: impl FnOnce(&mut World, &str) -> (R, bool)) -> R {
        let me = self.me.clone();
        let out = World::update(&self.dir, |w| {
            w.tick();
            if !w.node(&me).powered {
                return (None, After::PoweredOff);
            }
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
            if !w.node(&me).powered {
                after = After::PoweredOff;
            }
            (Some(r), after)
        });
        match out {
            Ok((Some(r), After::Nothing)) => r,
            Ok((_, After::PoweredOff)) => {
                eprintln!("simulated node {me} has no power: this process stops");
                std::process::exit(POWERED_OFF_EXIT)
            }
            Ok((_, After::Crash)) | Ok((None, _)) => std::process::exit(CRASH_EXIT),
            Ok((_, After::Hang)) => loop {
                std::thread::sleep(Duration::from_secs(3600));
            },
            Err(e) => {
                eprintln!("simulated world {}: {e}", self.dir.display());
                std::process::exit(CRASH_EXIT);
            }
        }
    }

    /// Reads the world under the lock without logging anything.
    fn peek<R>(&mut self, f: impl FnOnce(&World, &str) -> R) -> R {
        let me = self.me.clone();
        match World::update(&self.dir, |w| {
            w.tick();
            f(w, &me)
        }) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("simulated world {}: {e}", self.dir.display());
                std::process::exit(CRASH_EXIT);
            }
        }
    }

    /// DRBD's fence-peer handler, as the kernel runs it during `drbdadm
    /// primary`: the helper's own `drbd-fence-peer` code, acting on this
    /// node; its exit code.
    fn fence_peer_handler(&mut self) -> i32 {
        let cfg = self.cfg.clone();
        let log = Logger::new(&cfg.node.short, Some(&cfg.log_file), false).with_syslog();
        let req = FencePeerRequest {
            resource: Some(cfg.drbd.resource.clone()),
            peer: Some(cfg.peer.name.clone()),
            minor: cfg.drbd.minor().map(|m| m.to_string()),
        };
        let limit = Duration::from_secs(crate::firstboot::fence_peer::DEFAULT_LIMIT_SECS);
        let fence = crate::firstboot::platform::for_id(cfg.platform).fence_peer;
        let mut ctx = Ctx::new(
            &cfg,
            self,
            log,
            State::new(&cfg.node.name),
            false,
            Vec::new(),
        );
        if fence(&mut ctx, &req, limit) {
            crate::firstboot::fence_peer::FENCED
        } else {
            crate::firstboot::fence_peer::NOT_FENCED
        }
    }
}

impl Host for SimHost {
    fn run(&mut self, argv: &Argv) -> CmdResult {
        self.run_for(argv, crate::firstboot::command_timeout(&self.cfg))
    }

    fn run_for(&mut self, argv: &Argv, limit: Duration) -> CmdResult {
        let line = argv.to_string();
        let parts: Vec<String> = argv.to_vec();
        let words: Vec<&str> = parts.iter().map(String::as_str).collect();
        match words.as_slice() {
            ["drbdadm", "primary", _] if self.peek(|w, me| w.primary_needs_fence_peer(me)) => {
                let code = self.fence_peer_handler();
                self.act(line, |w, me| (w.primary_after_handler(me, code), true))
            }
            ["fence_node", _] if self.peek(|w, me| w.fence_node_blocks(me)) => {
                // Waits for a quorate cluster for ever: killed at the limit.
                self.act(format!("{line} (waits for a quorate cluster)"), |_, _| {
                    ((), true)
                });
                self.sleep(limit);
                CmdResult {
                    code: 124,
                    stdout: String::new(),
                    stderr: format!(
                        "clusterkick-firstboot: killed after {} s\n",
                        limit.as_secs()
                    ),
                }
            }
            _ => self.act(line, |w, me| w.exec(me, &words)),
        }
    }

    fn read_file(&mut self, path: &str) -> io::Result<String> {
        let path = path.to_string();
        self.act(format!("read {path}"), |w, me| (w.read(me, &path), false))
    }

    fn read_head(&mut self, path: &str, len: usize) -> io::Result<Vec<u8>> {
        let path = path.to_string();
        self.act(format!("probe {path}"), |w, me| {
            (w.head(me, &path, len), false)
        })
    }

    fn write_file(&mut self, path: &str, contents: &str) -> io::Result<()> {
        let path = path.to_string();
        let contents = contents.to_string();
        self.act(format!("write {path}"), |w, me| {
            (w.write(me, &path, &contents), true)
        })
    }

    fn list_dir(&mut self, path: &str) -> io::Result<Vec<String>> {
        let path = path.to_string();
        self.act(format!("list {path}"), |w, me| {
            (w.list_dir(me, &path), false)
        })
    }

    fn now(&self) -> Instant {
        let real = self.base.elapsed();
        self.base + real.saturating_mul(self.scale)
    }

    /// Sleeps a `time_scale`-th of `duration` (at least 2 ms, unless
    /// shorter): what counts is what `now` says afterwards.
    fn sleep(&mut self, duration: Duration) {
        std::thread::sleep(self.real(duration));
    }

    /// poll(2) on the back channel's real sockets for the real time that
    /// `duration` of this clock is.
    fn wait_readable(&mut self, fds: &[BorrowedFd<'_>], duration: Duration) {
        crate::firstboot::host::poll_readable(fds, self.real(duration));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_thousands() {
        assert_eq!(size_to_m("400G"), Some(409_600));
        assert_eq!(size_to_m("20g"), Some(20_480));
        assert_eq!(size_to_m("512"), Some(512));
        assert_eq!(size_to_m("x"), None);
        assert_eq!(thousands(33_792), "33,792");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000_000), "1,000,000");
    }

    #[test]
    fn md_brand_new() {
        assert!(Md::brand_new().is_brand_new());
        assert!(!Md::with_history(0x1234).is_brand_new());
    }
}
