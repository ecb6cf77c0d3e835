//! The subcommands: `run` (what the init script starts), `plan`, `status`.

use crate::firstboot::barrier::{self, Link};
use crate::firstboot::commands as cmd;
use crate::firstboot::config::FirstbootConfig;
use crate::firstboot::ctx::Ctx;
use crate::firstboot::error::{exit, Error, Result};
use crate::firstboot::log::{Logger, PROGRAM};
use crate::firstboot::retry::{Backoff, Deadline};
use crate::firstboot::state::State;
use crate::firstboot::steps::{self, BarrierId, Item, PlanLine, StepId, FINAL_BARRIER, ITEMS};
use crate::firstboot::{validate, OpenHost};
use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

/// Options shared by the subcommands.
#[derive(Debug, Clone)]
pub struct Options {
    pub config: PathBuf,
    pub dry_run: bool,
    /// Also write log lines to stderr (the init script turns this off: the
    /// lines go to the log file).
    pub stderr: bool,
    /// The machine `run` and `recover` act on.
    pub open: OpenHost,
}

pub fn load_config(path: &Path) -> Result<FirstbootConfig> {
    let cfg = FirstbootConfig::load(path)?;
    validate(&cfg)?;
    Ok(cfg)
}

/// Takes the per-node lock (next to the state file) so that two helpers
/// never run at once on one node. Held until the file is dropped.
fn lock(cfg: &FirstbootConfig) -> Result<File> {
    let mut name = cfg.state_file.clone().into_os_string();
    name.push(".lock");
    let path = PathBuf::from(name);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| Error::io(format!("creating {}", dir.display()), e))?;
    }
    let f = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| Error::io(format!("opening {}", path.display()), e))?;
    match f.try_lock() {
        Ok(()) => Ok(f),
        Err(std::fs::TryLockError::WouldBlock) => Err(Error::Locked(path)),
        Err(std::fs::TryLockError::Error(e)) => {
            Err(Error::io(format!("locking {}", path.display()), e))
        }
    }
}

/// Binds the back channel, retrying while the address is not up yet (the
/// network may still be coming up at boot).
fn bind(cfg: &FirstbootConfig, key: Vec<u8>, log: &mut Logger) -> Result<Link> {
    let deadline = Deadline::after_secs(cfg.timeouts.peer_secs);
    let mut backoff = Backoff::new(cfg.timeouts.retry_initial_ms, cfg.timeouts.retry_max_ms);
    let mut logged = false;
    loop {
        match Link::bind(
            &cfg.node.name,
            &cfg.peer.name,
            &cfg.listen,
            &cfg.peer_addr,
            key.clone(),
        ) {
            Ok(l) => return Ok(l),
            Err(e) if deadline.expired() => return Err(e.into()),
            Err(e) => {
                if !logged {
                    log.info(format!(
                        "{e}; retrying for up to {} s",
                        cfg.timeouts.peer_secs
                    ));
                    logged = true;
                }
                std::thread::sleep(backoff.next_delay().min(deadline.remaining()));
            }
        }
    }
}

/// `run`: walks the items; returns the exit code.
pub fn run(opts: &Options) -> i32 {
    let cfg = match load_config(&opts.config) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{PROGRAM}: {e}");
            return e.exit_code();
        }
    };
    let log_file = (!opts.dry_run).then_some(cfg.log_file.as_path());
    let mut log = Logger::new(&cfg.node.short, log_file, opts.stderr || opts.dry_run);
    match run_with(&cfg, opts, &mut log) {
        Ok(()) => exit::OK,
        Err(e) => {
            let code = e.exit_code();
            log.info(format!("stopped (exit {code}): {e}"));
            code
        }
    }
}

fn run_with(cfg: &FirstbootConfig, opts: &Options, log: &mut Logger) -> Result<()> {
    let _lock = if opts.dry_run { None } else { Some(lock(cfg)?) };
    let state = State::load(&cfg.state_file, &cfg.node.name)?;
    let mut node = (opts.open)(cfg)?;
    let key = match barrier::load_key(&cfg.key_file) {
        Ok(k) => k,
        Err(e) if opts.dry_run => {
            log.info(format!("dry-run: {e}"));
            Vec::new()
        }
        Err(e) => return Err(e.into()),
    };
    log.info(format!(
        "starting{}: node {} (id {}), peer {} ({}), DRBD initial {}; {} of {} items done{}",
        if opts.dry_run { " a dry run" } else { "" },
        cfg.node.name,
        cfg.node.id,
        cfg.peer.name,
        cfg.peer_addr,
        if cfg.drbd.initial_primary {
            "primary"
        } else {
            "secondary"
        },
        ITEMS.iter().filter(|i| state.is_completed(&i.id())).count(),
        ITEMS.len(),
        if state.done { " (done)" } else { "" }
    ));
    if cfg.timeouts.retry_max_ms >= cfg.post_join_delay_secs.saturating_mul(500) {
        log.info(format!(
            "warning: retry_max_ms {} is not well inside post_join_delay {} s",
            cfg.timeouts.retry_max_ms, cfg.post_join_delay_secs
        ));
    }
    let link = if opts.dry_run || state.done {
        None
    } else {
        let mut link = bind(cfg, key.clone(), log)?;
        // Announce the progress already made (a restarted helper never
        // goes back in the peer's eyes).
        for item in ITEMS {
            if let Item::Barrier(b) = item {
                if state.is_completed(&item.id()) {
                    link.announce.at = b.index();
                    link.announce.barrier = b.name().to_string();
                }
            }
        }
        Some(link)
    };
    let minor = cmd::drbd_minor(&cfg.drbd.device).unwrap_or(0);
    let mut ctx = Ctx {
        cfg,
        node: node.as_mut(),
        log: std::mem::replace(log, Logger::silent(&cfg.node.short)),
        state,
        state_path: (!opts.dry_run).then(|| cfg.state_file.clone()),
        link,
        dry_run: opts.dry_run,
        key,
        minor,
        sync_logged: None,
    };
    let result = run_items(&mut ctx);
    if let Err(e) = &result {
        let heard = ctx.link.as_ref().is_some_and(|l| l.peer_at.is_some());
        if heard && !matches!(e, Error::PeerStopped { .. }) {
            // Best effort: a peer busy in a long command learns it at its
            // next barrier anyway (or times out there).
            let secs = cfg.timeouts.barrier_secs.min(10);
            ctx.announce_halt(&e.to_string(), secs);
        }
    }
    *log = ctx.log;
    result
}

fn step_needed(step: StepId, cfg: &FirstbootConfig) -> bool {
    !step.primary_only() || cfg.drbd.initial_primary
}

/// Runs the items in order (see [`steps`]).
pub fn run_items(ctx: &mut Ctx) -> Result<()> {
    let disable = Item::Step(StepId::Disable);
    if ctx.state.done {
        if !ctx.state.is_completed(&disable.id()) {
            steps::run_step(StepId::Disable, ctx)?;
            ctx.state.complete(&disable.id());
            ctx.save()?;
        }
        ctx.log
            .info("first-boot setup was already done on this node; nothing to do");
        return Ok(());
    }
    let final_passed = ctx.state.is_completed(&Item::Barrier(FINAL_BARRIER).id());
    for &item in ITEMS {
        let id = item.id();
        let done = ctx.state.is_completed(&id);
        match item {
            Item::Barrier(BarrierId::Meet) => {
                // Not recorded: a restarted helper meets the peer again
                // (unless nothing after the final barrier needs the peer).
                if !final_passed {
                    ctx.barrier(0, BarrierId::Meet.name(), BarrierId::Meet.timeout(ctx.cfg))?;
                }
            }
            Item::Barrier(b) => {
                if done {
                    continue;
                }
                ctx.barrier(b.index(), b.name(), b.timeout(ctx.cfg))?;
                ctx.state.complete(&id);
                ctx.save()?;
            }
            Item::Step(s) => {
                if done && !s.service() {
                    continue;
                }
                if !step_needed(s, ctx.cfg) {
                    if !done {
                        ctx.state.complete(&id);
                        ctx.save()?;
                    }
                    continue;
                }
                if done {
                    ctx.log
                        .info(format!("step {} (done before): re-checking", s.name()));
                } else {
                    ctx.log.info(format!("step {}: {}", s.name(), s.title()));
                }
                match steps::run_step(s, ctx) {
                    Ok(()) => {}
                    Err(e) if ctx.dry_run && !matches!(e, Error::Refused(_)) => {
                        ctx.log
                            .info(format!("dry-run: step {} stops here: {e}", s.name()));
                        continue;
                    }
                    Err(e) => return Err(e),
                }
                if !done {
                    ctx.state.complete(&id);
                    ctx.save()?;
                }
                if ctx
                    .state
                    .is_completed(&Item::Step(StepId::DrbdPrimary).id())
                {
                    if let Some(dev) = ctx.drbd_device()? {
                        ctx.report_sync(&dev);
                    }
                }
            }
        }
    }
    if !ctx.dry_run {
        watch_sync(ctx)?;
    }
    Ok(())
}

/// After the last step: keeps logging the resync until it is over, without
/// holding anything up (the helper runs in the background).
fn watch_sync(ctx: &mut Ctx) -> Result<()> {
    let mut backoff = Backoff::new(
        ctx.cfg.timeouts.retry_initial_ms,
        ctx.cfg.timeouts.retry_max_ms,
    );
    loop {
        let Some(dev) = ctx.drbd_device()? else {
            return Ok(());
        };
        ctx.report_sync(&dev);
        if !dev.is_syncing() {
            return Ok(());
        }
        let d = backoff.next_delay();
        ctx.idle(d);
    }
}

/// `plan`: the lines, runs nothing.
pub fn plan_lines(cfg: &FirstbootConfig, config_path: &Path) -> Vec<String> {
    let state = match State::load(&cfg.state_file, &cfg.node.name) {
        Ok(s) => Ok(s),
        Err(e) => Err(e.to_string()),
    };
    let mut out = vec![
        format!(
            "# {PROGRAM} plan for {} ({}, node id {}): DRBD initial {}",
            cfg.node.name,
            cfg.node.short,
            cfg.node.id,
            if cfg.drbd.initial_primary {
                "primary"
            } else {
                "secondary"
            }
        ),
        format!("# config: {}", config_path.display()),
    ];
    let (completed, done) = match &state {
        Ok(s) => (s.completed.clone(), s.done),
        Err(_) => (Vec::new(), false),
    };
    out.push(match &state {
        Ok(s) if s.done => format!(
            "# state: {}: done; a run does nothing",
            cfg.state_file.display()
        ),
        Ok(s) if s.completed.is_empty() => {
            format!("# state: {}: not started", cfg.state_file.display())
        }
        Ok(s) => format!(
            "# state: {}: {} of {} items done",
            cfg.state_file.display(),
            ITEMS.iter().filter(|i| s.is_completed(&i.id())).count(),
            ITEMS.len()
        ),
        Err(e) => format!("# state: unreadable ({e}); shown as not started"),
    });
    let is_done = |i: &Item| completed.iter().any(|c| *c == i.id());
    let next = if done {
        None
    } else {
        ITEMS
            .iter()
            .find(|i| !is_done(i) && !matches!(i, Item::Barrier(BarrierId::Meet)))
            .copied()
    };
    out.push(match next {
        Some(i) => format!("# at: {} (next)", i.id()),
        None => "# at: done".to_string(),
    });
    for &item in ITEMS {
        if Some(item) == next {
            out.push("# >>> next".to_string());
        }
        match item {
            Item::Barrier(b) => out.push(format!(
                "# barrier {}: wait up to {} s for {} ({}): {}{}",
                b.name(),
                b.timeout(cfg),
                cfg.peer.name,
                cfg.peer_addr,
                b.meaning(),
                if is_done(&item) { " [passed]" } else { "" }
            )),
            Item::Step(s) => {
                let lines = steps::plan_step(s, cfg);
                if !step_needed(s, cfg) || lines.is_empty() {
                    out.push(format!(
                        "# step {}: {} (nothing on this node{})",
                        s.name(),
                        s.title(),
                        if s.primary_only() {
                            format!("; runs on the DRBD primary {}", cfg.peer.name)
                        } else {
                            String::new()
                        }
                    ));
                    continue;
                }
                let skipped = is_done(&item) && !s.service();
                out.push(format!(
                    "# step {}: {}{}",
                    s.name(),
                    s.title(),
                    match (is_done(&item), s.service()) {
                        (true, true) => " [done; re-checked on every run]",
                        (true, false) => " [done]",
                        _ => "",
                    }
                ));
                for l in lines {
                    out.push(match l {
                        PlanLine::Command(c) if skipped => format!("#   done: {c}"),
                        PlanLine::Command(c) => c,
                        PlanLine::Note(n) => format!("# {n}"),
                    });
                }
            }
        }
    }
    out
}

pub fn plan(opts: &Options) -> i32 {
    let cfg = match load_config(&opts.config) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{PROGRAM}: {e}");
            return e.exit_code();
        }
    };
    let mut text = plan_lines(&cfg, &opts.config).join("\n");
    text.push('\n');
    print!("{text}");
    exit::OK
}

/// `status`: what the state file says.
pub fn status(opts: &Options) -> i32 {
    let cfg = match load_config(&opts.config) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{PROGRAM}: {e}");
            return e.exit_code();
        }
    };
    let state = match State::load(&cfg.state_file, &cfg.node.name) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{PROGRAM}: {e}");
            return Error::from(e).exit_code();
        }
    };
    println!(
        "node: {} ({}, id {}), DRBD initial {}",
        cfg.node.name,
        cfg.node.short,
        cfg.node.id,
        if cfg.drbd.initial_primary {
            "primary"
        } else {
            "secondary"
        }
    );
    println!("peer: {} ({})", cfg.peer.name, cfg.peer_addr);
    println!("state file: {}", cfg.state_file.display());
    let n = ITEMS.iter().filter(|i| state.is_completed(&i.id())).count();
    if state.done {
        println!("status: done");
    } else if state.completed.is_empty() {
        println!("status: not started");
    } else {
        let next = ITEMS
            .iter()
            .find(|i| !state.is_completed(&i.id()) && !matches!(i, Item::Barrier(BarrierId::Meet)));
        println!(
            "status: in progress, {n} of {} items done, next: {}",
            ITEMS.len(),
            next.map(|i| i.id()).unwrap_or_default()
        );
    }
    for e in &state.ledger {
        println!(
            "ledger: {:<20} {:<8} {}",
            e.op,
            match e.status {
                crate::firstboot::state::OpStatus::Started => "started",
                crate::firstboot::state::OpStatus::Done => "done",
            },
            e.command
        );
    }
    exit::OK
}
