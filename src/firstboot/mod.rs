//! The first-boot helper (`clusterkick-firstboot`): finishes DRBD, clvmd and
//! GFS2 on both nodes at first boot, safely and without a human. See
//! docs/firstboot.md.
//!
//! The engine knows no platform:
//! - [`runner`] (`run`, `plan`, `status`) and [`recover`] walk a plan of
//!   [`step`]s and barriers; [`cli`] is the command line;
//! - [`ctx`]: query / change / destructive commands, waits, barriers;
//! - [`barrier`]: the authenticated back-channel protocol ([`barrier::wire`])
//!   and its sockets ([`barrier::link`]);
//! - [`state`], [`log`], [`retry`]: state file, syslog-style log, backoff;
//!   [`file`]: reading the helper's own files safely, writing atomically;
//! - [`config`], [`error`]: the per-node config, errors and exit codes;
//! - [`host`]: the machine as the steps see it; [`real`] is the real one.
//!
//! [`platform`] holds what is not neutral: one folder per platform (its
//! steps, command lines and parsers) and the match that picks it from the
//! config. `sim` (cargo feature `sim`, tests only) simulates a pair of
//! nodes for the test-only `clusterkick-firstboot-sim`.

pub mod barrier;
pub mod cli;
pub mod config;
pub mod ctx;
pub mod error;
pub mod fence_peer;
pub mod file;
pub mod host;
pub mod log;
pub mod platform;
pub mod real;
pub mod recover;
pub mod redact;
pub mod retry;
pub mod runner;
#[cfg(feature = "sim")]
pub mod sim;
pub mod spent;
pub mod state;
pub mod step;

use config::FirstbootConfig;
use error::Result;
use host::Host;

/// Opens the machine the steps act on: [`real::open`] in the helper that
/// ships; the simulator in the test-only `clusterkick-firstboot-sim`.
pub type OpenHost = fn(&FirstbootConfig, Purpose) -> Result<Box<dyn Host>>;

/// What a host is opened for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// `run`, `recover`, `start-alone`: commands get EL5's system PATH.
    Steps,
    /// `drbd-fence-peer`: commands get the PATH DRBD gives its handlers
    /// (drbdadm passes the kernel's `/sbin:/usr/sbin:/bin:/usr/bin`).
    Handler,
}

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
