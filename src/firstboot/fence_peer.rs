//! `clusterkick-firstboot drbd-fence-peer`: DRBD's fence-peer handler
//! (drbd.conf: `fence-peer "/usr/sbin/clusterkick-firstboot
//! drbd-fence-peer";`). This is the frame; fencing the peer is the
//! platform's ([`crate::firstboot::step::Platform::fence_peer`]).
//!
//! DRBD 8.3 runs the handler when a Primary loses its peer (all I/O is
//! frozen meanwhile) and when a node whose peer is unknown is promoted. It
//! reads the handler's exit status: 3 to 6 tell it something about the
//! peer's disk that lets I/O go on (5: "peer is unreachable, assumed to be
//! dead"), 7 "peer was stonithed", anything else "helper broken" (I/O stays
//! frozen). So this handler exits only [`FENCED`] (7), when the peer is
//! known to be fenced, or [`NOT_FENCED`] (1): never one of the helper's
//! other codes, which DRBD would read as a peer state.

use crate::firstboot::ctx::Ctx;
use crate::firstboot::error::exit;
use crate::firstboot::log::{Logger, PROGRAM};
use crate::firstboot::platform;
use crate::firstboot::runner::{load_config, Options};
use crate::firstboot::state::State;
use crate::firstboot::step::FencePeerRequest;
use crate::firstboot::Purpose;
use std::time::Duration;

/// The peer was fenced: DRBD outdates its disk and lets I/O go on.
pub const FENCED: i32 = exit::PEER_FENCED;
/// Anything else: DRBD keeps I/O frozen (the safe state).
pub const NOT_FENCED: i32 = exit::FAILED;

/// How long fencing may take, by default: fence_node runs the agent, which
/// sleeps `delay` first (15 s in the example) and then has its own limits
/// (fence_na: 120 s). Below drbdadm's own limit for handlers (600 s, after
/// which it gives up on the handler without stopping it).
pub const DEFAULT_LIMIT_SECS: u64 = 300;
/// The most `--timeout` takes: it must end before drbdadm gives up.
pub const MAX_LIMIT_SECS: u64 = 590;

impl FencePeerRequest {
    /// What drbdadm put in the environment.
    pub fn from_env(get: impl Fn(&str) -> Option<String>) -> Self {
        let get = |k: &str| get(k).filter(|v| !v.is_empty());
        FencePeerRequest {
            resource: get("DRBD_RESOURCE"),
            peer: get("DRBD_PEER"),
            minor: get("DRBD_MINOR"),
        }
    }
}

/// Runs the handler; returns [`FENCED`] or [`NOT_FENCED`].
pub fn main(opts: &Options, limit_secs: u64) -> i32 {
    let cfg = match load_config(&opts.config) {
        Ok(c) => c,
        Err(e) => {
            // Nothing to log to but stderr and syslog.
            let mut log = Logger::new("-", None, true).with_syslog();
            log.info(format!(
                "drbd-fence-peer: {e}; fencing nobody: DRBD I/O stays frozen"
            ));
            return NOT_FENCED;
        }
    };
    let log = Logger::new(
        &cfg.node.short,
        (!opts.dry_run).then_some(cfg.log_file.as_path()),
        opts.stderr,
    )
    .with_syslog();
    let mut host = match (opts.open)(&cfg, Purpose::Handler) {
        Ok(h) => h,
        Err(e) => {
            let mut log = log;
            log.info(format!(
                "drbd-fence-peer: {e}; fencing nobody: DRBD I/O stays frozen"
            ));
            return NOT_FENCED;
        }
    };
    let mut ctx = Ctx::new(
        &cfg,
        host.as_mut(),
        log,
        State::new(&cfg.node.name),
        opts.dry_run,
        Vec::new(),
    );
    let req = FencePeerRequest::from_env(|k| std::env::var(k).ok());
    let limit = Duration::from_secs(limit_secs.clamp(1, MAX_LIMIT_SECS));
    if (platform::for_id(cfg.platform).fence_peer)(&mut ctx, &req, limit) {
        FENCED
    } else {
        NOT_FENCED
    }
}

/// The `--timeout` value, checked (clap calls it).
pub fn parse_limit(s: &str) -> Result<u64, String> {
    match s.parse::<u64>() {
        Ok(n) if (1..=MAX_LIMIT_SECS).contains(&n) => Ok(n),
        _ => Err(format!(
            "must be whole seconds from 1 to {MAX_LIMIT_SECS} (drbdadm gives a handler 600 s; {PROGRAM} must end first)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_drbdadm_83_sets() {
        let env = |k: &str| match k {
            "DRBD_RESOURCE" => Some("r0".to_string()),
            "DRBD_PEER" => Some("an-node02.alteeve.com".to_string()),
            "DRBD_MINOR" => Some(String::new()),
            _ => None,
        };
        assert_eq!(
            FencePeerRequest::from_env(env),
            FencePeerRequest {
                resource: Some("r0".into()),
                peer: Some("an-node02.alteeve.com".into()),
                minor: None,
            }
        );
    }

    #[test]
    fn exit_codes_are_never_a_peer_state() {
        // 3..=6 would make DRBD resume I/O without a fence.
        for code in [FENCED, NOT_FENCED] {
            assert!(!(3..=6).contains(&code), "{code}");
        }
        assert_eq!(FENCED, 7);
        assert!(parse_limit("0").is_err() && parse_limit("591").is_err());
        assert_eq!(parse_limit("300"), Ok(300));
    }
}
