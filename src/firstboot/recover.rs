//! `recover`: after a split brain, the operator names the node with the
//! good data (it is never guessed) and the platform's recovery runs on both
//! nodes. This is the frame; the steps are the platform's
//! ([`crate::firstboot::step::Platform::recover`]).

use crate::firstboot::barrier;
use crate::firstboot::ctx::Ctx;
use crate::firstboot::error::Error;
use crate::firstboot::platform;
use crate::firstboot::runner::{session, Options};
use crate::firstboot::state::State;

pub use crate::firstboot::step::Trust;

/// Runs the platform's recovery on this node; returns the exit code. It
/// needs no state file and no back channel (it can run when the helper
/// never ran, or long after it finished).
pub fn recover(opts: &Options, trust: Trust) -> i32 {
    session(opts, "recover stopped", true, |cfg, log| {
        let mut host = (opts.open)(cfg, crate::firstboot::Purpose::Steps)?;
        let key = barrier::load_key(&cfg.key_file).unwrap_or_default();
        let log_taken =
            std::mem::replace(log, crate::firstboot::log::Logger::silent(&cfg.node.short));
        let mut ctx = Ctx::new(
            cfg,
            host.as_mut(),
            log_taken,
            State::new(&cfg.node.name),
            opts.dry_run,
            key,
        );
        let result = match (platform::for_id(cfg.platform).recover)(&mut ctx, trust) {
            Err(e @ Error::DryRunWait(_)) => {
                ctx.log.info(format!("dry-run: recover stops here: {e}"));
                Ok(())
            }
            other => other,
        };
        *log = ctx.log;
        result
    })
}
