//! The first-boot helper (`clusterkick-firstboot`): finishes DRBD, clvmd and
//! GFS2 on both nodes at first boot, safely and without a human. See
//! docs/firstboot.md.
//!
//! - [`steps`]: the steps and barriers in the seed's order, with their guards
//!   and plan lines; [`commands`]: every command line they run.
//! - [`ctx`]: query / change / destructive commands, waits, barriers.
//! - [`node`]: the interface to a node; [`real`] implements it (and, in
//!   test builds with the `sim` feature, [`sim`]).
//! - [`barrier`]: the authenticated back-channel protocol.
//! - [`parse`]: parsers for the EL5 tools' output.
//! - [`state`], [`log`], [`retry`]: state file, syslog-style log, backoff.
//! - [`runner`], [`recover`]: the subcommands; [`cli`]: the command line.

pub mod barrier;
pub mod cli;
pub mod commands;
pub mod config;
pub mod ctx;
pub mod error;
pub mod log;
pub mod node;
pub mod parse;
pub mod real;
pub mod recover;
pub mod retry;
pub mod runner;
#[cfg(feature = "sim")]
pub mod sim;
pub mod state;
pub mod steps;

use config::FirstbootConfig;
use error::{Error, Result};
use node::Node;

/// Opens the machine the steps act on: [`real::open`] in the helper that
/// ships; the simulator in the test-only `clusterkick-firstboot-sim`.
pub type OpenHost = fn(&FirstbootConfig) -> Result<Box<dyn Node>>;

/// The longest any single command may run (e.g. `/etc/init.d/drbd start`,
/// which waits for the peer): the longest configured wait.
pub fn command_timeout(cfg: &FirstbootConfig) -> std::time::Duration {
    let t = &cfg.timeouts;
    let secs = [
        t.peer_secs,
        t.cman_secs,
        t.drbd_connect_secs,
        t.drbd_primary_secs,
        t.barrier_secs,
    ]
    .into_iter()
    .max()
    .unwrap_or(600)
    .max(60);
    std::time::Duration::from_secs(secs)
}

fn plain_word(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
}

/// Checks what the steps and the protocol rely on.
pub fn validate(cfg: &FirstbootConfig) -> Result<()> {
    let bad = |m: String| Err(Error::Invalid(m));
    for (what, v) in [
        ("node.name", &cfg.node.name),
        ("node.short", &cfg.node.short),
        ("peer.name", &cfg.peer.name),
        ("peer.short", &cfg.peer.short),
        ("drbd.resource", &cfg.drbd.resource),
        ("drbd.backing_vg", &cfg.drbd.backing_vg),
        ("drbd.backing_lv", &cfg.drbd.backing_lv),
        ("clvm.vg", &cfg.clvm.vg),
    ] {
        if !plain_word(v) {
            return bad(format!(
                "{what} {v:?} must be letters, digits, '.', '_' or '-'"
            ));
        }
    }
    if cfg.node.name == cfg.peer.name || cfg.node.short == cfg.peer.short {
        return bad("node and peer must differ".into());
    }
    if commands::drbd_minor(&cfg.drbd.device).is_none() {
        return bad(format!(
            "drbd.device {:?} is not /dev/drbdN",
            cfg.drbd.device
        ));
    }
    if cfg.timeouts.retry_initial_ms == 0
        || cfg.timeouts.retry_max_ms < cfg.timeouts.retry_initial_ms
    {
        return bad("timeouts: need 0 < retry_initial_ms <= retry_max_ms".into());
    }
    for vol in &cfg.clvm.volumes {
        if !plain_word(&vol.name) {
            return bad(format!("volume name {:?}", vol.name));
        }
        if let Some(g) = &vol.gfs2 {
            if !g.mountpoint.starts_with('/') || g.mountpoint.contains(char::is_whitespace) {
                return bad(format!(
                    "mountpoint {:?} must be an absolute path",
                    g.mountpoint
                ));
            }
            if g.journals == 0 {
                return bad(format!("{}: journals must be at least 1", vol.name));
            }
            match g.lock_table.split_once(':') {
                Some((c, f)) if c == cfg.cluster && !f.is_empty() => {}
                _ => {
                    return bad(format!(
                        "{}: lock_table {:?} must be {}:<fs name>",
                        vol.name, g.lock_table, cfg.cluster
                    ))
                }
            }
        }
    }
    Ok(())
}
