//! The context steps run in: the host, the log, the persisted state, the
//! back channel, and dry-run. It holds the three kinds of command (query,
//! change, destructive), the generic wait loop and the barrier loop. It
//! knows no platform.

use crate::firstboot::barrier::wire::{FACT_PASSED, FACT_ROLE, FACT_SETUP, SETUP_DONE};
use crate::firstboot::barrier::Link;
use crate::firstboot::config::{FirstbootConfig, NodeRole};
use crate::firstboot::error::{Error, Result};
use crate::firstboot::file::Durability;
use crate::firstboot::host::{Argv, CmdResult, Host};
use crate::firstboot::log::Logger;
use crate::firstboot::retry::{Backoff, Deadline};
use crate::firstboot::spent::{Clocks, Spent, Usage};
use crate::firstboot::state::{OpStatus, State};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// What a guard found on the target of a destructive command, checked just
/// before it would run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    /// Nothing there: the command may run.
    Nothing,
    /// The effect is there but holds no data (e.g. brand-new metadata, an
    /// existing backing LV): skip the command.
    Harmless(String),
    /// Something that may hold data. Ours (the ledger has the operation):
    /// skip; anybody else's: refuse.
    Data(String),
}

/// The outcome of one poll of a wait.
pub enum Poll<T> {
    Ready(T),
    /// Not yet; the text says what is missing (logged when it changes).
    Pending(String),
    /// Not yet, but moving (a resync advancing): as Pending, and the wait's
    /// time starts again, so that `secs` bounds a stall, not the work.
    Moving(String),
}

/// How often a wait repeats its "still waiting" line when nothing changes
/// (and how often background progress is logged at least).
pub const STILL_WAITING_EVERY: Duration = Duration::from_secs(60);

pub struct Ctx<'a> {
    pub cfg: &'a FirstbootConfig,
    pub host: &'a mut dyn Host,
    pub log: Logger,
    pub state: State,
    /// None: the state is never written (dry run, plan).
    pub state_path: Option<PathBuf>,
    pub link: Option<Link>,
    pub dry_run: bool,
    pub key: Vec<u8>,
    /// When and at what per mille background progress (a resync) was last
    /// logged.
    pub progress_logged: Option<(Instant, u32)>,
    /// The platform's facts about this node's storage
    /// ([`crate::firstboot::step::Platform::facts`]), announced while this
    /// node's setup is done and its peer is a replacement node; and when
    /// they were last read.
    pub facts: Option<FactsFn>,
    facts_read: Option<Instant>,
    /// Where this run's time went (see [`Spent`]).
    pub spent: Spent,
    /// Set by a poll that ran a costly query ([`Ctx::costly_query`]): the
    /// [`Ctx::wait`] running it then spaces its polls `retry_max_ms` apart.
    costly_poll: bool,
    /// Since when the state holds changes not yet in the state file
    /// ([`Ctx::save_later`]); written once the helper has blocked for
    /// [`FLUSH_AFTER`] with them.
    unsaved_since: Option<Instant>,
}

/// How long changes left for later ([`Ctx::save_later`]) may wait while the
/// helper blocks before they are written: `status` is at most this far
/// behind, and a wait that ends sooner (a barrier the peer has already
/// reached, a short poll) costs no write of its own, the next durable
/// [`Ctx::save`] taking them along.
pub const FLUSH_AFTER: Duration = Duration::from_secs(1);

/// Where one stretch of a run began: on the host's clock and on the
/// process's own clocks ([`Ctx::mark`], [`Ctx::since`]).
struct Mark {
    at: Instant,
    clocks: Clocks,
}

/// A platform's facts about this node (see
/// [`crate::firstboot::step::Platform::facts`]).
pub type FactsFn = fn(&mut Ctx) -> Vec<(&'static str, String)>;

/// How often a node whose setup is done reads its facts again while a
/// replacement peer asks for them.
pub const FACTS_EVERY: Duration = Duration::from_secs(1);

impl<'a> Ctx<'a> {
    /// A context with nothing logged or announced yet.
    pub fn new(
        cfg: &'a FirstbootConfig,
        host: &'a mut dyn Host,
        log: Logger,
        state: State,
        dry_run: bool,
        key: Vec<u8>,
    ) -> Self {
        let since = host.now();
        Ctx {
            cfg,
            host,
            log,
            state,
            state_path: None,
            link: None,
            dry_run,
            key,
            progress_logged: None,
            facts: None,
            facts_read: None,
            spent: Spent::new(since),
            costly_poll: false,
            unsaved_since: None,
        }
    }

    /// Announces what every helper says about itself: its role, and
    /// `setup=done` once its setup is done; and, on a node whose setup is
    /// done while a replacement peer asks, the platform's facts about its
    /// storage, read again at most every [`FACTS_EVERY`].
    pub fn refresh_facts(&mut self) {
        if self.link.is_none() {
            return;
        }
        self.announce(FACT_ROLE, self.cfg.role.word());
        if !self.state.done {
            return;
        }
        self.announce(FACT_SETUP, SETUP_DONE);
        let replacement_peer =
            self.peer_fact(FACT_ROLE).as_deref() == Some(NodeRole::Replacement.word());
        let Some(facts) = self.facts.filter(|_| replacement_peer) else {
            return;
        };
        let now = self.now();
        if self
            .facts_read
            .is_some_and(|t| now.saturating_duration_since(t) < FACTS_EVERY)
        {
            return;
        }
        self.facts_read = Some(now);
        for (k, v) in facts(self) {
            self.announce(k, &v);
        }
    }

    /// One exchange with the peer (answering it meanwhile): refreshes what
    /// it announced. True when it answered.
    pub fn ask_peer(&mut self) -> bool {
        if self.dry_run {
            return false;
        }
        self.refresh_facts();
        let Some(link) = self.link.as_mut() else {
            return false;
        };
        link.serve(&mut self.log);
        self.exchange()
    }

    /// One exchange with the peer ([`Link::exchange`]), its time counted as
    /// waiting for the peer: it is a round trip and the peer's answer.
    fn exchange(&mut self) -> bool {
        let start = self.mark();
        let ok = self
            .link
            .as_mut()
            .is_some_and(|link| link.exchange(&mut self.log));
        self.slept_since(start);
        ok
    }

    /// [`Ctx::query`] for a query that costs seconds of CPU on a slow node
    /// (`crm_mon`: pacemaker's whole status, under QEMU without KVM about
    /// 5 s a call): a [`Ctx::wait`] polling with it spaces its polls
    /// `retry_max_ms` apart rather than backing off from `retry_initial_ms`.
    pub fn costly_query(&mut self, argv: &Argv) -> CmdResult {
        self.costly_poll = true;
        self.query(argv)
    }

    /// Runs a command that only reads state. Runs in dry-run too.
    pub fn query(&mut self, argv: &Argv) -> CmdResult {
        let start = self.mark();
        let res = self.host.run(argv);
        let (wall, used) = self.since(start);
        self.spent.commands += wall;
        self.spent.in_commands += used;
        self.spent.command_count += 1;
        res
    }

    /// Sleeps `d` on the host, counted as time asleep (waking to write
    /// what waits to be written, see [`Ctx::before_blocking`]).
    fn sleep(&mut self, d: Duration) {
        let end = self.host.now() + d;
        loop {
            let left = end.saturating_duration_since(self.host.now());
            if left.is_zero() {
                return;
            }
            let part = self.before_blocking(left);
            let start = self.mark();
            let before = start.at;
            self.host.sleep(part);
            self.slept_since(start);
            if self.host.now() <= before {
                // A host whose clock stands still: one sleep is all.
                return;
            }
        }
    }

    /// Before the helper blocks for up to `d`: writes the changes left
    /// for later once they have waited [`FLUSH_AFTER`]; until then, how
    /// long it may block before it must wake to write them (`d` or less).
    fn before_blocking(&mut self, d: Duration) -> Duration {
        let Some(since) = self.unsaved_since else {
            return d;
        };
        let waited = self.host.now().saturating_duration_since(since);
        if waited >= FLUSH_AFTER {
            self.flush();
            d
        } else {
            d.min(FLUSH_AFTER - waited)
        }
    }

    /// Now, on the host's clock and the process's own clocks.
    fn mark(&self) -> Mark {
        Mark {
            at: self.host.now(),
            clocks: Clocks::now(),
        }
    }

    /// The time passed since `m`, and the process's use of the CPU in it.
    fn since(&self, m: Mark) -> (Duration, Usage) {
        let used = Clocks::now().since(&m.clocks);
        (self.host.now().saturating_duration_since(m.at), used)
    }

    /// Counts what passed since `m` as time asleep.
    fn slept_since(&mut self, m: Mark) {
        let (wall, used) = self.since(m);
        self.spent.asleep += wall;
        self.spent.in_asleep += used;
    }

    /// One line for the log: this run's time, in commands, asleep and the
    /// helper's own (the rest); see [`Spent::line`].
    pub fn timing_line(&self) -> String {
        self.spent.line(self.host.now(), &Clocks::now())
    }

    /// Runs a command that changes state; fails on a non-zero exit.
    pub fn change(&mut self, argv: &Argv) -> Result<CmdResult> {
        let line = argv.to_string();
        if self.dry_run {
            self.log.info(format!("dry-run: would run: {line}"));
            return Ok(CmdResult::ok(""));
        }
        self.log.info(format!("run: {line}"));
        let res = self.query(argv);
        if !res.success() {
            return Err(Error::Command {
                command: line,
                code: res.code,
                detail: res.last_line(),
            });
        }
        Ok(res)
    }

    pub fn read(&mut self, path: &str) -> std::io::Result<String> {
        self.host.read_file(path)
    }

    /// Writes a file (skipped, and logged, in dry-run).
    pub fn write(&mut self, path: &str, contents: &str) -> Result<()> {
        if self.dry_run {
            self.log.info(format!("dry-run: would write {path}"));
            return Ok(());
        }
        self.log.info(format!("write: {path}"));
        let start = self.mark();
        let r = self.host.write_file(path, contents);
        let (wall, used) = self.since(start);
        self.spent.files += wall;
        self.spent.in_files += used;
        self.spent.file_writes += 1;
        r.map_err(|e| Error::io(format!("writing {path}"), e))
    }

    /// Writes the state file now, durably (fsynced, see
    /// [`State::save`]): before a destructive command runs, when a barrier
    /// is passed and when the setup is done.
    pub fn save(&mut self) -> Result<()> {
        self.save_as(Durability::Durable)
    }

    fn save_as(&mut self, durability: Durability) -> Result<()> {
        if let Some(p) = self.state_path.clone() {
            let start = self.mark();
            let r = self.state.save(&p, durability);
            let (wall, used) = self.since(start);
            self.spent.saving += wall;
            self.spent.in_saving += used;
            self.spent.saves += 1;
            r?;
            self.unsaved_since = None;
        }
        Ok(())
    }

    /// Marks the state as changed in a way that need not reach the disk
    /// before the next command: a completed step, or a destructive
    /// command's ledger entry going from `started` to `done`. Losing such
    /// a change to a crash costs only what a crash right after the step's
    /// last command costs (the step runs again, under its guards; a
    /// `started` entry whose effect is there is taken as done), which the
    /// crash tests exercise after every command. It is written by the next
    /// [`Ctx::save`], or by [`Ctx::flush`] once the helper has blocked with
    /// it for [`FLUSH_AFTER`] (so a wait leaves `status` behind by at most
    /// that), and at the end of the run; consecutive steps that run no
    /// command (another role's, or already in place) cost one write, and a
    /// step followed by a barrier the peer has reached costs none of its
    /// own (the barrier's durable write takes it along).
    pub fn save_later(&mut self) {
        if self.state_path.is_some() {
            self.unsaved_since.get_or_insert(self.host.now());
        }
    }

    /// Writes what [`Ctx::save_later`] left unwritten: whole but without
    /// the directory's fsync ([`Durability::Whole`]), since a power loss
    /// may lose these changes anyway (the next durable [`Ctx::save`], or
    /// the file system's own commit, makes them last). A failure is
    /// logged; the next [`Ctx::save`] reports it as an error.
    pub fn flush(&mut self) {
        if self.unsaved_since.is_some() {
            if let Err(e) = self.save_as(Durability::Whole) {
                self.log
                    .info(format!("warning: the state file was not written: {e}"));
            }
        }
    }

    /// Runs a destructive command under its guard and the ledger.
    ///
    /// `found` is what the guard saw on the target immediately before this
    /// call. The ledger entry is written `started` before the command runs
    /// and `done` after, so that after a crash the command is never repeated
    /// once its effect is in place, and a state file saying `done` while
    /// the effect is missing is refused rather than redone.
    ///
    /// On a replacement node only its own disks may be written
    /// ([`crate::firstboot::step::REPLACEMENT_OPS`]): any other operation
    /// is refused, whatever the guard found (its plan holds no such step;
    /// this makes sure none ever runs).
    pub fn destructive(&mut self, op: &str, argv: &Argv, found: Found) -> Result<()> {
        let line = argv.to_string();
        if self.cfg.role == NodeRole::Replacement
            && !crate::firstboot::step::REPLACEMENT_OPS.contains(&op)
        {
            return Err(Error::Refused(format!(
                "this node is a replacement (role = \"replacement\"): it joins {}, which holds \
                 the data, and never runs `{line}`. Nothing was changed",
                self.cfg.peer.name
            )));
        }
        let ledger = self.state.op(op);
        match (&found, ledger) {
            (Found::Harmless(what), _) => {
                self.log
                    .info(format!("guard {op}: {what}; not running `{line}`"));
                if ledger == Some(OpStatus::Started) {
                    self.state.set_op(op, OpStatus::Done, &line);
                    self.save_later();
                }
                return Ok(());
            }
            (Found::Data(what), Some(_)) => {
                self.log.info(format!(
                    "guard {op}: {what}, made by this helper earlier (state file); not running `{line}` again"
                ));
                if ledger == Some(OpStatus::Started) {
                    self.state.set_op(op, OpStatus::Done, &line);
                    self.save_later();
                }
                return Ok(());
            }
            (Found::Data(what), None) => {
                return Err(Error::Refused(format!(
                    "{what}; not running `{line}`. Nothing was changed; the node is left as it was for a human"
                )));
            }
            (Found::Nothing, Some(OpStatus::Done)) => {
                return Err(Error::Refused(format!(
                    "the state file says `{line}` ran, but its effect is not there; not running it again"
                )));
            }
            (Found::Nothing, Some(OpStatus::Started)) => {
                self.log.info(format!(
                    "guard {op}: an earlier `{line}` was interrupted and left nothing; running it again"
                ));
            }
            (Found::Nothing, None) => {
                self.log.info(format!("guard {op}: target is clean"));
            }
        }
        if self.dry_run {
            self.log.info(format!("dry-run: would run: {line}"));
            return Ok(());
        }
        self.state.set_op(op, OpStatus::Started, &line);
        self.save()?;
        self.change(argv)?;
        self.state.set_op(op, OpStatus::Done, &line);
        self.save_later();
        Ok(())
    }

    /// Sleeps, answering the back channel meanwhile.
    pub fn idle(&mut self, d: Duration) {
        if self.link.is_some() {
            self.serve_for(d, |_| false);
        } else {
            self.sleep(d);
        }
    }

    /// Answers the back channel for up to `d`, stopping as soon as `until`
    /// holds; between answers it blocks in the host's
    /// [`Host::wait_readable`] on the back channel (a connection or a
    /// request wakes it). False when there is no back channel.
    fn serve_for(&mut self, d: Duration, until: impl Fn(&Link) -> bool) -> bool {
        let start = self.host.now();
        loop {
            self.refresh_facts();
            let Some(link) = self.link.as_mut() else {
                return false;
            };
            link.serve(&mut self.log);
            if until(link) {
                return true;
            }
            let left = d.saturating_sub(self.host.now().saturating_duration_since(start));
            if left.is_zero() {
                return true;
            }
            let left = self.facts_due_in().map_or(left, |f| left.min(f));
            self.wait_on_link(left);
        }
    }

    /// Blocks until the back channel has something to answer or `d` has
    /// passed, counted as time asleep. It may return sooner, to write what
    /// waits to be written ([`Ctx::before_blocking`]): its callers loop
    /// until their own deadline.
    fn wait_on_link(&mut self, d: Duration) {
        let d = self.before_blocking(d);
        let start = self.mark();
        match self.link.as_ref() {
            Some(link) => self.host.wait_readable(&link.fds(), d),
            None => self.host.sleep(d),
        }
        self.slept_since(start);
    }

    /// While a replacement peer asks for this node's facts, how long until
    /// [`Ctx::refresh_facts`] reads them again (so that a wait wakes for
    /// it); None when nothing is read.
    fn facts_due_in(&self) -> Option<Duration> {
        self.facts?;
        if !self.state.done
            || self.peer_fact(FACT_ROLE).as_deref() != Some(NodeRole::Replacement.word())
        {
            return None;
        }
        let since = self
            .facts_read
            .map_or(FACTS_EVERY, |t| self.now().saturating_duration_since(t));
        Some(
            FACTS_EVERY
                .saturating_sub(since)
                .max(Duration::from_millis(1)),
        )
    }

    /// Now, on the host's clock (which every wait and deadline reads).
    pub fn now(&self) -> Instant {
        self.host.now()
    }

    fn backoff(&self) -> Backoff {
        Backoff::new(
            self.cfg.timeouts.retry_initial_ms,
            self.cfg.timeouts.retry_max_ms,
        )
    }

    fn peer_stopped(&self) -> Option<Error> {
        let link = self.link.as_ref()?;
        link.peer_halt.as_ref().map(|h| Error::PeerStopped {
            peer: self.cfg.peer.name.clone(),
            reason: h.clone(),
        })
    }

    /// Polls until `poll` is ready or `secs` have passed, backing off between
    /// polls and logging what it waits for.
    pub fn wait<T>(
        &mut self,
        what: &str,
        secs: u64,
        mut poll: impl FnMut(&mut Self) -> Result<Poll<T>>,
    ) -> Result<T> {
        if self.dry_run {
            return match poll(self)? {
                Poll::Ready(v) => Ok(v),
                Poll::Pending(detail) | Poll::Moving(detail) => {
                    Err(Error::DryRunWait(format!("{what} ({detail})")))
                }
            };
        }
        let started = self.now();
        let mut deadline = Deadline::after_secs(started, secs);
        let mut backoff = self.backoff();
        let mut last = String::new();
        let mut last_log = self.now();
        let mut first = true;
        loop {
            self.costly_poll = false;
            let polled = poll(self)?;
            let moving = matches!(polled, Poll::Moving(_));
            match polled {
                Poll::Ready(v) => {
                    if !first {
                        self.log.info(format!(
                            "{what}: ok after {} s",
                            self.now().saturating_duration_since(started).as_secs()
                        ));
                    }
                    return Ok(v);
                }
                Poll::Pending(detail) | Poll::Moving(detail) => {
                    let now = self.now();
                    if moving {
                        deadline = Deadline::after_secs(now, secs);
                    }
                    if first {
                        self.log
                            .info(format!("waiting up to {secs} s for {what}: {detail}"));
                        last_log = now;
                    } else if (detail != last && !moving)
                        || now.saturating_duration_since(last_log) >= STILL_WAITING_EVERY
                    {
                        // Work in progress changes its text at every poll:
                        // logged once a minute.
                        self.log.info(format!("still waiting for {what}: {detail}"));
                        last_log = now;
                    }
                    if detail != last && !moving {
                        backoff.reset();
                    }
                    last = detail;
                }
            }
            first = false;
            if let Some(e) = self.peer_stopped() {
                return Err(e);
            }
            if deadline.expired(self.now()) {
                return Err(Error::Timeout {
                    what: what.to_string(),
                    secs,
                    last,
                });
            }
            let mut d = backoff.next_delay();
            if self.costly_poll {
                d = d.max(backoff.max());
            }
            let d = d.min(deadline.remaining(self.now()));
            self.idle(d);
        }
    }

    /// Adds a fact (`key=value`) to what this side announces to the peer.
    pub fn announce(&mut self, key: &str, value: &str) {
        if let Some(link) = self.link.as_mut() {
            link.announce
                .info
                .insert(key.to_string(), value.to_string());
        }
    }

    /// A fact the peer announced.
    pub fn peer_fact(&self, key: &str) -> Option<String> {
        self.link.as_ref()?.peer_info.get(key).cloned()
    }

    /// Meets the peer at barrier `index` (`name` for logs), waiting at most
    /// `secs` seconds (None: as long as it takes). While it waits it logs,
    /// once a minute, whom it waits for and what it last saw.
    pub fn barrier(&mut self, index: u32, name: &str, secs: Option<u64>) -> Result<()> {
        let peer = self.cfg.peer.name.clone();
        if self.dry_run {
            self.log
                .info(format!("dry-run: would wait at barrier {name} for {peer}"));
            return Ok(());
        }
        let mut backoff = self.backoff();
        let deadline = Deadline::within(self.now(), secs);
        let Some(link) = self.link.as_mut() else {
            return Err(Error::Unexpected("no back channel".into()));
        };
        if index >= link.announce.at {
            link.announce.at = index;
            link.announce.barrier = name.to_string();
        }
        let addr = link.peer_addr().to_string();
        self.log.info(match secs {
            Some(s) => format!("waiting up to {s} s at barrier {name} for {peer} ({addr})"),
            None => format!("waiting at barrier {name} for {peer} ({addr}) as long as it takes"),
        });
        let mut last_log = self.now();
        loop {
            self.refresh_facts();
            let Some(link) = self.link.as_mut() else {
                return Err(Error::Unexpected("no back channel".into()));
            };
            link.serve(&mut self.log);
            if link.my_acked_at.is_none_or(|a| a < index) && self.exchange() {
                backoff.reset();
            }
            let Some(link) = self.link.as_ref() else {
                return Err(Error::Unexpected("no back channel".into()));
            };
            if link.passed(index) {
                // Said to the peer from now on: should it restart before
                // its state file records this barrier, it passes at once.
                let passed = link.announce.info.get(FACT_PASSED);
                if passed
                    .and_then(|p| p.parse::<u32>().ok())
                    .is_none_or(|p| p < index)
                {
                    self.announce(FACT_PASSED, &index.to_string());
                }
                self.log.info(format!(
                    "passed barrier {name} with {peer} after {} s",
                    deadline.elapsed(self.now()).as_secs()
                ));
                return Ok(());
            }
            if let Some(e) = self.peer_stopped() {
                return Err(e);
            }
            let now = self.now();
            if deadline.expired(now) {
                let last = self.last_seen();
                return Err(Error::Timeout {
                    what: format!("{peer} ({addr}) to reach barrier {name}"),
                    secs: secs.unwrap_or_default(),
                    last,
                });
            }
            if now.saturating_duration_since(last_log) >= STILL_WAITING_EVERY {
                let waited = deadline.elapsed(now).as_secs();
                let last = self.last_seen();
                self.log.info(format!(
                    "still waiting at barrier {name} for {peer} ({addr}) after {} min {:02} s: {last}",
                    waited / 60,
                    waited % 60
                ));
                last_log = now;
            }
            // Wait on the back channel, stopping as soon as the barrier is
            // passed (the peer's request wakes us), so that both sides leave
            // it within a few milliseconds of each other (cman must start on
            // both at about the same moment).
            // While our own announcement is not acknowledged yet (the peer
            // was busy in a long command, and our exchange timed out), a
            // request from the peer means it answers again: exchange at
            // once rather than at the end of the backoff delay.
            let d = backoff
                .next_delay()
                .min(deadline.remaining(now))
                .min(STILL_WAITING_EVERY);
            let heard = self.link.as_ref().map_or(0, |l| l.answered);
            self.serve_for(d, |link| {
                link.passed(index)
                    || link.peer_halt.is_some()
                    || (link.my_acked_at.is_none_or(|a| a < index) && link.answered != heard)
            });
        }
    }

    /// What the back channel last saw of the peer, for logs.
    fn last_seen(&self) -> String {
        match self.link.as_ref() {
            None => "no back channel".into(),
            Some(link) => match (&link.last_error, link.peer_at) {
                (Some(e), _) => e.clone(),
                (None, Some(at)) => format!("peer is at barrier {at}"),
                (None, None) => "peer never answered".into(),
            },
        }
    }

    /// Tells the peer this helper stopped, so that it stops waiting for us.
    /// Best effort, for at most `secs`.
    pub fn announce_halt(&mut self, reason: &str, secs: u64) {
        if self.dry_run {
            return;
        }
        let deadline = Deadline::after_secs(self.now(), secs);
        let mut backoff = self.backoff();
        if let Some(link) = self.link.as_mut() {
            link.announce.halt = Some(reason.to_string());
            link.my_acked_at = None;
        } else {
            return;
        }
        loop {
            let Some(link) = self.link.as_mut() else {
                return;
            };
            link.serve(&mut self.log);
            if link.peer_halt.is_some() {
                // The peer stopped too: nobody is waiting for us.
                return;
            }
            if link.halt_delivered || self.exchange() {
                self.log.info(format!(
                    "told {} that this helper stopped",
                    self.cfg.peer.name
                ));
                return;
            }
            if deadline.expired(self.now()) {
                self.log.info(format!(
                    "could not tell {} that this helper stopped",
                    self.cfg.peer.name
                ));
                return;
            }
            // Wait on the back channel, stopping as soon as the peer got the
            // news through our listener.
            let d = backoff.next_delay().min(deadline.remaining(self.now()));
            if !self.serve_for(d, |link| link.halt_delivered) {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::firstboot::config::FirstbootConfig;
    use crate::firstboot::step::REPLACEMENT_OPS;
    use std::io;

    /// A host that records what it is asked to run and runs nothing.
    struct Recorder(Vec<String>, Instant);

    impl Host for Recorder {
        fn run(&mut self, argv: &Argv) -> CmdResult {
            self.0.push(argv.to_string());
            CmdResult::ok("")
        }
        fn run_for(&mut self, argv: &Argv, _: Duration) -> CmdResult {
            self.run(argv)
        }
        fn read_file(&mut self, _: &str) -> io::Result<String> {
            Err(io::ErrorKind::NotFound.into())
        }
        fn read_head(&mut self, _: &str, _: usize) -> io::Result<Vec<u8>> {
            Err(io::ErrorKind::NotFound.into())
        }
        fn write_file(&mut self, _: &str, _: &str) -> io::Result<()> {
            Ok(())
        }
        fn list_dir(&mut self, _: &str) -> io::Result<Vec<String>> {
            Ok(Vec::new())
        }
        fn now(&self) -> Instant {
            self.1
        }
        /// The recorder's clock moves only when the helper sleeps.
        fn sleep(&mut self, d: Duration) {
            self.1 += d;
        }
    }

    fn config(role: NodeRole) -> FirstbootConfig {
        let mut cfg = FirstbootConfig::parse(
            r#"
cluster = "c"
platform = "el5-xen"
listen = "127.0.0.1:1"
peer_addr = "127.0.0.1:2"
key_file = "/k"
state_file = "/s"
log_file = "/l"
post_join_delay_secs = 60
node = { name = "a.example", short = "a", id = 1 }
peer = { name = "b.example", short = "b", id = 2 }
drbd = { resource = "r0", device = "/dev/drbd0", initial_primary = true, backing_vg = "vg", backing_lv = "lv", backing_size = "1G", skip_initial_sync = false }
clvm = { vg = "cvg", volumes = [] }
timeouts = { peer_secs = 1, cman_secs = 1, drbd_connect_secs = 1, drbd_primary_secs = 1, barrier_secs = 1, retry_initial_ms = 1, retry_max_ms = 1 }
"#,
        )
        .expect("parses");
        cfg.role = role;
        cfg
    }

    /// A context on `host` for node a, with an empty state and no key.
    fn new_ctx<'a>(cfg: &'a FirstbootConfig, host: &'a mut Recorder) -> Ctx<'a> {
        Ctx::new(
            cfg,
            host,
            Logger::silent("a"),
            State::new("a.example"),
            false,
            Vec::new(),
        )
    }

    /// The shared-data operations of both platforms' plans, by their
    /// ledger names.
    const SHARED: &[&str] = &[
        "initial-sync",
        "pvcreate",
        "vgcreate",
        "lvcreate:iso_store",
        "mkfs:iso_store",
        "cib-load",
    ];

    #[test]
    fn a_replacement_node_never_runs_a_shared_data_operation() {
        let cfg = config(NodeRole::Replacement);
        let mut host = Recorder(Vec::new(), Instant::now());
        let mut ctx = new_ctx(&cfg, &mut host);
        for op in SHARED {
            // Whatever the guard found, and even with the ledger saying the
            // operation was started before.
            ctx.state.set_op(op, OpStatus::Started, "x");
            let e = ctx
                .destructive(op, &Argv::new(["mkfs.gfs2", op]), Found::Nothing)
                .expect_err("refused");
            assert!(matches!(e, Error::Refused(_)), "{op}: {e}");
            assert!(e.to_string().contains("never runs `mkfs.gfs2"), "{e}");
        }
        // Its own disks: the guarded path as for any node.
        for op in REPLACEMENT_OPS {
            ctx.destructive(op, &Argv::new(["true", op]), Found::Nothing)
                .expect("own disk");
        }
        drop(ctx);
        assert_eq!(host.0, ["true backing-lv", "true create-md"]);
    }

    #[test]
    fn an_initial_node_runs_them_under_their_guards() {
        let cfg = config(NodeRole::Initial);
        let mut host = Recorder(Vec::new(), Instant::now());
        let mut ctx = new_ctx(&cfg, &mut host);
        for op in SHARED {
            ctx.destructive(op, &Argv::new(["true", op]), Found::Nothing)
                .expect("runs");
        }
        drop(ctx);
        assert_eq!(host.0.len(), SHARED.len());
    }

    /// What the state file on disk says: its completed items and ledger.
    fn on_disk(path: &std::path::Path) -> (Vec<String>, Vec<(String, OpStatus)>) {
        let st = State::load(path, "a.example").expect("state file");
        let ledger = st.ledger.iter().map(|e| (e.op.clone(), e.status)).collect();
        (st.completed, ledger)
    }

    #[test]
    fn the_ledger_is_on_disk_before_a_destructive_command_and_completions_within_a_wait() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("firstboot.state");
        let cfg = config(NodeRole::Initial);
        let mut host = Recorder(Vec::new(), Instant::now());
        let mut ctx = new_ctx(&cfg, &mut host);
        ctx.state_path = Some(path.clone());
        // A completed step alone is not written yet...
        ctx.state.complete("step:one");
        ctx.save_later();
        assert!(!path.exists(), "written at once");
        // ...it goes with the `started` entry, written before the command.
        ctx.destructive("create-md", &Argv::new(["true"]), Found::Nothing)
            .expect("runs");
        let (completed, ledger) = on_disk(&path);
        assert_eq!(completed, ["step:one"]);
        // `done` is not written yet; a crash here leaves `started`, which
        // the guard settles by what it finds on the disk.
        assert_eq!(ledger, [("create-md".to_string(), OpStatus::Started)]);
        ctx.state.complete("step:two");
        ctx.save_later();
        // A short wait writes nothing...
        ctx.idle(Duration::from_millis(400));
        ctx.idle(Duration::from_millis(500));
        assert_eq!(on_disk(&path).0, ["step:one"]);
        assert_eq!(ctx.spent.saves, 1);
        // ...a long one wakes after FLUSH_AFTER and writes everything,
        // then sleeps the rest of its time.
        let start = ctx.now();
        ctx.idle(Duration::from_secs(30));
        assert_eq!(ctx.now() - start, Duration::from_secs(30));
        let (completed, ledger) = on_disk(&path);
        assert_eq!(completed, ["step:one", "step:two"]);
        assert_eq!(ledger, [("create-md".to_string(), OpStatus::Done)]);
        assert_eq!(ctx.spent.saves, 2);
        // Nothing left to write: a second wait writes nothing.
        ctx.idle(Duration::from_secs(5));
        assert_eq!(ctx.spent.saves, 2);
        // A change, then a durable write before any wait: it is written
        // once, by that write.
        ctx.state.complete("step:three");
        ctx.save_later();
        ctx.save().expect("saved");
        ctx.idle(Duration::from_secs(5));
        assert_eq!(ctx.spent.saves, 3);
        assert_eq!(on_disk(&path).0, ["step:one", "step:two", "step:three"]);
        // A file of the node's is the node's work, not a state-file write.
        ctx.write("/etc/example.conf", "x\n").expect("written");
        assert_eq!((ctx.spent.saves, ctx.spent.file_writes), (3, 1));
    }

    #[test]
    fn a_wait_bounds_a_stall_and_not_work_that_moves() {
        let mut cfg = config(NodeRole::Replacement);
        cfg.timeouts.retry_initial_ms = 1000;
        cfg.timeouts.retry_max_ms = 1000;
        let mut host = Recorder(Vec::new(), Instant::now());
        let mut ctx = new_ctx(&cfg, &mut host);
        // Moving for 20 s, well past its 3 s: ready.
        let mut polls = 0;
        let got = ctx.wait("a resync", 3, |_| {
            polls += 1;
            Ok(if polls > 20 {
                Poll::Ready(polls)
            } else {
                Poll::Moving(format!("{polls}0% in sync"))
            })
        });
        assert_eq!(got.expect("ready"), 21);
        // Moving for 5 s, then stalled: the time out counts from the
        // last move.
        let start = ctx.now();
        let mut polls = 0;
        let e = ctx
            .wait("a resync", 3, |_| {
                polls += 1;
                Ok::<_, Error>(if polls <= 5 {
                    Poll::<()>::Moving(format!("{polls}0% in sync"))
                } else {
                    Poll::Pending("stalled at 50%".into())
                })
            })
            .expect_err("a stall times out");
        assert!(matches!(e, Error::Timeout { secs: 3, .. }), "{e}");
        let took = ctx.now().saturating_duration_since(start);
        assert!(
            (Duration::from_secs(7)..=Duration::from_secs(9)).contains(&took),
            "{took:?}"
        );
        // Pending alone: 3 s.
        let start = ctx.now();
        let e = ctx
            .wait("the peer", 3, |_| {
                Ok::<Poll<()>, Error>(Poll::Pending("no".into()))
            })
            .expect_err("times out");
        assert!(matches!(e, Error::Timeout { .. }), "{e}");
        assert_eq!(
            ctx.now().saturating_duration_since(start),
            Duration::from_secs(3)
        );
    }
}
