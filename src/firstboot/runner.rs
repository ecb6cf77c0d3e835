//! The subcommands: `run` (what the init script starts at every boot),
//! `start-alone`, `plan`, `status`; and [`session`], the frame `run`,
//! `start-alone` and `recover` share. They walk the plan of the platform
//! the config names and know none of its steps.
//!
//! `run` on a node whose first boot is not done walks the whole plan,
//! meeting the peer at each barrier. On a node whose state says `done` it
//! is the boot sequence: meet the peer, as long as it takes (nothing of the
//! cluster starts before), then the steps that run at every start
//! ([`Runs::EveryRun`]: the services, in order). Either way, where the helper
//! owns the boot ([`BootOwner::Helper`], el5) it then stays,
//! answering the peer on the back channel, so that the peer, when it boots
//! later, meets it.

use crate::firstboot::barrier::link::MAX_PENDING;
use crate::firstboot::barrier::{self, Link};
use crate::firstboot::config::{FirstbootConfig, NodeRole};
use crate::firstboot::ctx::Ctx;
use crate::firstboot::error::{exit, Error, Result};
use crate::firstboot::file;
use crate::firstboot::log::{Logger, PROGRAM};
use crate::firstboot::platform;
use crate::firstboot::retry::{Backoff, Deadline};
use crate::firstboot::state::{OpStatus, State, StateError};
use crate::firstboot::step::{final_barrier, BootOwner, Item, PlanLine, Platform, Runs, Step};
use crate::firstboot::{OpenHost, Purpose};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::Instant;

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

/// Reads and checks the config.
pub fn load_config(path: &Path) -> Result<FirstbootConfig> {
    let cfg = FirstbootConfig::load(path)?;
    cfg.check()?;
    Ok(cfg)
}

/// The config, or (printed on stderr) why not and the exit code.
fn config_or_exit(opts: &Options) -> std::result::Result<FirstbootConfig, i32> {
    load_config(&opts.config).map_err(|e| {
        eprintln!("{PROGRAM}: {e}");
        e.exit_code()
    })
}

/// What `run` and `recover` share: loads the config, opens the log (no log
/// file in a dry run), runs `body`, logs why it stopped (`<what> stopped
/// (exit N): ...`) and returns the exit code.
pub fn session(
    opts: &Options,
    what: &str,
    stderr: bool,
    body: impl FnOnce(&FirstbootConfig, &mut Logger) -> Result<()>,
) -> i32 {
    let cfg = match config_or_exit(opts) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let log_file = (!opts.dry_run).then_some(cfg.log_file.as_path());
    let mut log = Logger::new(&cfg.node.short, log_file, stderr);
    match body(&cfg, &mut log) {
        Ok(()) => exit::OK,
        Err(e) => {
            let code = e.exit_code();
            log.info(format!("{what} (exit {code}): {e}"));
            code
        }
    }
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
    let f = file::open_regular(
        std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true),
        &path,
    )
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
    let deadline = Deadline::after_secs(Instant::now(), cfg.timeouts.peer_secs);
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
            Ok(l) => {
                if l.capacity() < MAX_PENDING {
                    log.info(format!(
                        "back channel: few file descriptors free; at most {} connections wait at once",
                        l.capacity()
                    ));
                }
                return Ok(l);
            }
            Err(e) if deadline.expired(Instant::now()) => return Err(e.into()),
            Err(e) => {
                if !logged {
                    log.info(format!(
                        "{e}; retrying for up to {} s",
                        cfg.timeouts.peer_secs
                    ));
                    logged = true;
                }
                std::thread::sleep(backoff.next_delay().min(deadline.remaining(Instant::now())));
            }
        }
    }
}

fn role_word(cfg: &FirstbootConfig) -> &'static str {
    if cfg.drbd.initial_primary {
        "primary"
    } else {
        "secondary"
    }
}

/// The node's part, for the first log line, `plan` and `status`: `DRBD
/// initial primary`, or for a replacement node whom it joins.
fn role_line(cfg: &FirstbootConfig) -> String {
    match cfg.role {
        NodeRole::Initial => format!("DRBD initial {}", role_word(cfg)),
        NodeRole::Replacement => format!(
            "replacement node: joins {}, which holds the data, and never initializes",
            cfg.peer.name
        ),
    }
}

/// `run`: walks the plan; returns the exit code.
pub fn run(opts: &Options) -> i32 {
    session(opts, "stopped", opts.stderr || opts.dry_run, |cfg, log| {
        run_with(cfg, opts, log)
    })
}

fn run_with(cfg: &FirstbootConfig, opts: &Options, log: &mut Logger) -> Result<()> {
    let platform = platform::for_id(cfg.platform);
    let items = platform.items_for(cfg);
    // Refused before the lock is made next to it.
    file::regular_or_absent(&cfg.state_file).map_err(|source| StateError::Read {
        path: cfg.state_file.clone(),
        source,
    })?;
    let _lock = if opts.dry_run { None } else { Some(lock(cfg)?) };
    let state = State::load(&cfg.state_file, &cfg.node.name)?;
    let mut host = (opts.open)(cfg, Purpose::Steps)?;
    let key = match barrier::load_key(&cfg.key_file) {
        Ok(k) => k,
        Err(e) if opts.dry_run => {
            log.info(format!("dry-run: {e}"));
            Vec::new()
        }
        Err(e) => return Err(e.into()),
    };
    log.info(format!(
        "starting{}: node {} (id {}), peer {} ({}), {}; {} of {} items done{}{}",
        if opts.dry_run { " a dry run" } else { "" },
        cfg.node.name,
        cfg.node.id,
        cfg.peer.name,
        cfg.peer_addr,
        role_line(cfg),
        items.iter().filter(|i| state.is_completed(&i.id())).count(),
        items.len(),
        if state.done { " (done)" } else { "" },
        nice_note()
    ));
    // post_join_delay is cman's; the pacemaker family has none (0).
    if cfg.post_join_delay_secs > 0
        && cfg.timeouts.retry_max_ms >= cfg.post_join_delay_secs.saturating_mul(500)
    {
        log.info(format!(
            "warning: retry_max_ms {} is not well inside post_join_delay {} s",
            cfg.timeouts.retry_max_ms, cfg.post_join_delay_secs
        ));
    }
    // A plan without a barrier (a pacemaker-family replacement node: no
    // helper answers on the survivor) has no use for the back channel.
    let has_barrier = items.iter().any(|i| matches!(i, Item::Barrier(_)));
    let link = if opts.dry_run || !has_barrier {
        None
    } else {
        let mut link = bind(cfg, key.clone(), log)?;
        // Announce the progress already made (a restarted helper never
        // goes back in the peer's eyes).
        let barriers = items.iter().filter_map(|i| match i {
            Item::Barrier(b) => Some((i.id(), b.name)),
            Item::Step(_) => None,
        });
        for (at, (id, name)) in barriers.enumerate() {
            if state.is_completed(&id) {
                link.announce.at = at as u32;
                link.announce.barrier = name.to_string();
            }
        }
        Some(link)
    };
    let log_taken = std::mem::replace(log, Logger::silent(&cfg.node.short));
    let mut ctx = Ctx::new(cfg, host.as_mut(), log_taken, state, opts.dry_run, key);
    ctx.state_path = (!opts.dry_run).then(|| cfg.state_file.clone());
    ctx.link = link;
    ctx.facts = Some(platform.facts);
    ctx.refresh_facts();
    let result = run_items(&mut ctx, platform);
    // A helper that stops on an error leaves the state file saying how far
    // it got.
    ctx.flush();
    if let Err(e) = &result {
        let heard = ctx.link.as_ref().is_some_and(|l| l.peer_at.is_some());
        if heard && !matches!(e, Error::PeerStopped { .. }) {
            // Best effort: a peer busy in a long command learns it at its
            // next barrier anyway (or times out there).
            let secs = cfg.timeouts.barrier_secs.min(10);
            ctx.announce_halt(&e.to_string(), secs);
        }
    }
    if let Some(link) = ctx.link.as_mut() {
        link.flush_refusals(&mut ctx.log);
    }
    *log = ctx.log;
    result
}

/// For the starting line: the helper's nice value where it is not the
/// default (the pacemaker family's unit raises it, see docs/firstboot.md,
/// "Scheduling"), so that its log says how it ran.
fn nice_note() -> String {
    match rustix::process::getpriority_process(None) {
        Ok(0) | Err(_) => String::new(),
        Ok(n) => format!("; running at nice {n}"),
    }
}

/// Runs the platform's items in order (see [`crate::firstboot::step`]).
/// On a node whose first boot is done: the boot sequence (the meeting, as
/// long as it takes, then the [`Runs::EveryRun`] steps). Then, unless in a
/// dry run, stays to answer the peer ([`stay`]): it returns only on error.
pub fn run_items(ctx: &mut Ctx, platform: &Platform) -> Result<()> {
    let items = platform.items_for(ctx.cfg);
    let booting = ctx.state.done;
    if booting && platform.boot == BootOwner::ClusterManager {
        ctx.log.info(format!(
            "first-boot setup was done before on this node; on {} the cluster manager starts \
             the cluster at boot: nothing to do",
            ctx.cfg.platform
        ));
        return Ok(());
    }
    if booting {
        ctx.log.info(format!(
            "first-boot setup was done before: this is the boot sequence. Nothing of the \
             cluster starts before {} is met; `{PROGRAM} start-alone` starts it without the peer",
            ctx.cfg.peer.name
        ));
    }
    let final_passed =
        final_barrier(items).is_some_and(|b| ctx.state.is_completed(&Item::Barrier(b).id()));
    let mut index = 0;
    for &item in items {
        let id = item.id();
        let done = ctx.state.is_completed(&id);
        match item {
            Item::Barrier(b) => {
                let at = index;
                index += 1;
                if b.every_start {
                    // Not recorded: a restarted helper meets the peer again.
                    // At boot it waits as long as it takes; during the first
                    // boot, unless nothing left needs the peer.
                    if booting {
                        ctx.barrier(at, b.name, None)?;
                    } else if !final_passed {
                        ctx.barrier(at, b.name, Some((b.timeout)(ctx.cfg)))?;
                    }
                    continue;
                }
                if done {
                    continue;
                }
                ctx.barrier(at, b.name, Some((b.timeout)(ctx.cfg)))?;
                ctx.state.complete(&id);
                ctx.save()?;
            }
            Item::Step(s) => {
                if done && s.runs != Runs::EveryRun {
                    continue;
                }
                if !s.role.runs_here(ctx.cfg) {
                    if !done {
                        ctx.state.complete(&id);
                        ctx.save_later();
                    }
                    continue;
                }
                if !run_step(ctx, s, done)? {
                    continue;
                }
                if !done {
                    ctx.state.complete(&id);
                    ctx.save_later();
                }
                (platform.progress)(ctx)?;
            }
        }
    }
    if ctx.dry_run {
        return Ok(());
    }
    ctx.flush();
    let line = ctx.timing_line();
    ctx.log.info(line);
    if ctx.state.done && platform.boot == BootOwner::Helper {
        stay(ctx, platform)
    } else {
        // The cluster manager's platforms, once done; and a node stopped
        // between the final barrier and the step that marks it done (the
        // rest of its plan needs no peer).
        log_progress(ctx, platform)
    }
}

/// Logs the background work (a resync) until it is over, answering the
/// back channel meanwhile.
fn log_progress(ctx: &mut Ctx, platform: &Platform) -> Result<()> {
    let mut backoff = Backoff::new(
        ctx.cfg.timeouts.retry_initial_ms,
        ctx.cfg.timeouts.retry_max_ms,
    );
    while (platform.progress)(ctx)? {
        let d = backoff.next_delay();
        ctx.idle(d);
    }
    Ok(())
}

/// What the helper does once the cluster stack is up on this node: logs the
/// background work (a resync) until it is over, and answers the peer on the
/// back channel for as long as it runs (until the init script stops it at
/// shutdown), so that the peer, booting later, meets it. Never returns Ok.
fn stay(ctx: &mut Ctx, platform: &Platform) -> Result<()> {
    if let Some(link) = ctx.link.as_mut() {
        link.flush_refusals(&mut ctx.log);
    }
    ctx.log.info(format!(
        "{STACK_UP}; staying to answer {} on the back channel when it starts",
        ctx.cfg.peer.name
    ));
    log_progress(ctx, platform)?;
    loop {
        ctx.idle(STAY_SLICE);
    }
}

/// What `run` logs once everything this node starts is up (tests wait for
/// it).
pub const STACK_UP: &str = "the cluster stack is up on this node";

/// How long the staying helper idles between looks at the back channel's
/// refusal counters (the back channel is answered all the time).
const STAY_SLICE: std::time::Duration = std::time::Duration::from_secs(60);

/// Runs one step, logging it. False when a dry run stops inside it (the
/// step is then not recorded).
fn run_step(ctx: &mut Ctx, s: &Step, done: bool) -> Result<bool> {
    if done {
        ctx.log
            .info(format!("step {} (done before): re-checking", s.name));
    } else {
        ctx.log.info(format!("step {}: {}", s.name, s.title));
    }
    match (s.run)(ctx) {
        Ok(()) => Ok(true),
        Err(e) if ctx.dry_run && !matches!(e, Error::Refused(_) | Error::SurvivorNotReady(_)) => {
            ctx.log
                .info(format!("dry-run: step {} stops here: {e}", s.name));
            Ok(false)
        }
        Err(e) => Err(e),
    }
}

/// `start-alone`: the operator's decision to bring this node's cluster
/// stack up without its peer. Says what it will do (the peer is fenced),
/// runs only with the confirmation, only on a node that was set up, only
/// when no other helper runs here and the peer's helper does not answer;
/// then the platform's `start_alone`, and the helper's own service again,
/// so that the peer is met when it comes back.
pub fn start_alone(opts: &Options, confirmed: bool) -> i32 {
    session(opts, "start-alone stopped", true, |cfg, log| {
        let platform = platform::for_id(cfg.platform);
        for line in (platform.start_alone_warning)(cfg) {
            log.info(line);
        }
        if !confirmed && !opts.dry_run {
            return Err(Error::Usage(format!(
                "nothing was done: run `{PROGRAM} start-alone --yes-fence-the-peer` to go ahead"
            )));
        }
        file::regular_or_absent(&cfg.state_file).map_err(|source| StateError::Read {
            path: cfg.state_file.clone(),
            source,
        })?;
        let lock = if opts.dry_run {
            None
        } else {
            Some(lock(cfg).map_err(|e| match e {
                Error::Locked(path) => Error::Unexpected(format!(
                    "another {PROGRAM} runs on this node (it holds {}): the boot helper, waiting \
                     for {}. Stop it first (service clusterkick-firstboot stop), then run \
                     start-alone again",
                    path.display(),
                    cfg.peer.name
                )),
                e => e,
            })?)
        };
        let state = State::load(&cfg.state_file, &cfg.node.name)?;
        if !state.done {
            return Err(Error::Unexpected(format!(
                "the first-boot setup is not done on this node (state file {}): start-alone \
                 only starts a cluster that was set up; the first boot needs both nodes",
                cfg.state_file.display()
            )));
        }
        if let Some(how) = peer_answers(cfg) {
            return Err(Error::Unexpected(format!(
                "{}'s helper answers on {} ({how}): the peer is up. Start this node's boot \
                 helper instead (service clusterkick-firstboot start): the two meet and start \
                 the cluster together. Nothing was done",
                cfg.peer.name, cfg.peer_addr
            )));
        }
        let mut host = (opts.open)(cfg, Purpose::Steps)?;
        let key = barrier::load_key(&cfg.key_file).unwrap_or_default();
        let log_taken = std::mem::replace(log, Logger::silent(&cfg.node.short));
        let mut ctx = Ctx::new(cfg, host.as_mut(), log_taken, state, opts.dry_run, key);
        let result = (platform.start_alone)(&mut ctx);
        // The lock goes first: the helper the service starts takes it.
        drop(lock);
        if result.is_ok() {
            ctx.log.info(format!(
                "start-alone: done; starting the boot helper again so that it meets {} when it comes back",
                cfg.peer.name
            ));
            let restart = ctx.change(&(platform.helper_service_start)());
            if let Err(e) = restart {
                ctx.log.info(format!(
                    "start-alone: could not start the boot helper ({e}): start it by hand \
                     (service clusterkick-firstboot start)"
                ));
            }
        }
        *log = ctx.log;
        result
    })
}

/// Whether something accepts connections on the peer's back-channel
/// address (its helper, up and waiting): how, or None.
fn peer_answers(cfg: &FirstbootConfig) -> Option<String> {
    use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
    let addrs: Vec<SocketAddr> = cfg.peer_addr.to_socket_addrs().ok()?.collect();
    addrs.iter().find_map(|a| {
        TcpStream::connect_timeout(a, PEER_PROBE)
            .ok()
            .map(|_| format!("a connection to {a} was accepted"))
    })
}

/// How long `start-alone` tries to reach the peer's helper.
const PEER_PROBE: std::time::Duration = std::time::Duration::from_secs(3);

/// The first item not done yet, the meeting aside (it is met at every
/// start): where a node is.
fn next_item(items: &[Item], is_done: impl Fn(&Item) -> bool) -> Option<usize> {
    items
        .iter()
        .position(|i| !is_done(i) && !matches!(i, Item::Barrier(b) if b.every_start))
}

/// `plan`: the lines, runs nothing.
pub fn plan_lines(cfg: &FirstbootConfig, config_path: &Path) -> Vec<String> {
    let platform = platform::for_id(cfg.platform);
    let items = platform.items_for(cfg);
    let state = State::load(&cfg.state_file, &cfg.node.name).map_err(|e| e.to_string());
    let mut out = vec![
        format!(
            "# {PROGRAM} plan for {} ({}, node id {}): {}",
            cfg.node.name,
            cfg.node.short,
            cfg.node.id,
            role_line(cfg)
        ),
        format!("# config: {}", config_path.display()),
    ];
    if cfg.role == NodeRole::Replacement {
        out.push(format!(
            "# role: replacement: {} (the survivor) holds the data; this node makes its own DRBD \
             metadata on its own empty backing LV, becomes the sync target of the survivor's data, \
             joins the cluster and mounts the survivor's file systems. It never runs the initial \
             sync, pvcreate, vgcreate, lvcreate in {}, mkfs or a cluster configuration load, and \
             refuses (exit 13) unless the survivor's disk is UpToDate",
            cfg.peer.name, cfg.clvm.vg
        ));
    }
    let (completed, done) = match &state {
        Ok(s) => (s.completed.clone(), s.done),
        Err(_) => (Vec::new(), false),
    };
    let shown = cfg.state_file.display();
    out.push(match &state {
        Ok(s) if s.done && platform.boot == BootOwner::Helper => format!(
            "# state: {shown}: done; a run is the boot sequence: meet the peer, then the steps re-checked on every run"
        ),
        Ok(s) if s.done => format!(
            "# state: {shown}: done; the cluster manager starts the cluster at boot, a run does nothing"
        ),
        Ok(s) if s.completed.is_empty() => format!("# state: {shown}: not started"),
        Ok(s) => format!(
            "# state: {shown}: {} of {} items done",
            items.iter().filter(|i| s.is_completed(&i.id())).count(),
            items.len()
        ),
        Err(e) => format!("# state: unreadable ({e}); shown as not started"),
    });
    let is_done = |i: &Item| completed.contains(&i.id());
    let next = if done {
        None
    } else {
        next_item(items, is_done)
    };
    out.push(match next {
        Some(n) => format!("# at: {} (next)", items[n].id()),
        None => "# at: done".to_string(),
    });
    for (n, &item) in items.iter().enumerate() {
        if Some(n) == next {
            out.push("# >>> next".to_string());
        }
        match item {
            Item::Barrier(b) => out.push(format!(
                "# barrier {}: wait {} for {} ({}): {}{}",
                b.name,
                match (b.every_start, done, platform.boot) {
                    (true, true, BootOwner::Helper) => "as long as it takes".to_string(),
                    (true, false, BootOwner::Helper) => format!(
                        "up to {} s (at every boot once set up: as long as it takes)",
                        (b.timeout)(cfg)
                    ),
                    _ => format!("up to {} s", (b.timeout)(cfg)),
                },
                cfg.peer.name,
                cfg.peer_addr,
                b.meaning,
                if is_done(&item) { " [passed]" } else { "" }
            )),
            Item::Step(s) => plan_step(&mut out, cfg, s, is_done(&item)),
        }
    }
    out
}

/// One step's lines in `plan`.
fn plan_step(out: &mut Vec<String>, cfg: &FirstbootConfig, s: &Step, done: bool) {
    let here = s.role.runs_here(cfg);
    let lines = if here { (s.plan)(cfg) } else { Vec::new() };
    if lines.is_empty() {
        out.push(format!(
            "# step {}: {} (nothing on this node{})",
            s.name,
            s.title,
            if here {
                String::new()
            } else {
                format!("; runs on the DRBD primary {}", cfg.peer.name)
            }
        ));
        return;
    }
    let skipped = done && s.runs != Runs::EveryRun;
    out.push(format!(
        "# step {}: {}{}",
        s.name,
        s.title,
        match (done, s.runs == Runs::EveryRun) {
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

pub fn plan(opts: &Options) -> i32 {
    let cfg = match config_or_exit(opts) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let mut text = plan_lines(&cfg, &opts.config).join("\n");
    text.push('\n');
    print!("{text}");
    exit::OK
}

/// `status`: what the state file says.
pub fn status(opts: &Options) -> i32 {
    let cfg = match config_or_exit(opts) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let state = match State::load(&cfg.state_file, &cfg.node.name) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{PROGRAM}: {e}");
            return Error::from(e).exit_code();
        }
    };
    let platform = platform::for_id(cfg.platform);
    let items = platform.items_for(&cfg);
    println!(
        "node: {} ({}, id {}), {}",
        cfg.node.name,
        cfg.node.short,
        cfg.node.id,
        role_line(&cfg)
    );
    println!("peer: {} ({})", cfg.peer.name, cfg.peer_addr);
    println!("state file: {}", cfg.state_file.display());
    let n = items.iter().filter(|i| state.is_completed(&i.id())).count();
    if state.done {
        println!("status: done");
    } else if state.completed.is_empty() {
        println!("status: not started");
    } else {
        let next = next_item(items, |i| state.is_completed(&i.id()));
        println!(
            "status: in progress, {n} of {} items done, next: {}",
            items.len(),
            next.map(|i| items[i].id()).unwrap_or_default()
        );
    }
    for e in &state.ledger {
        println!(
            "ledger: {:<20} {:<8} {}",
            e.op,
            match e.status {
                OpStatus::Started => "started",
                OpStatus::Done => "done",
            },
            e.command
        );
    }
    exit::OK
}
