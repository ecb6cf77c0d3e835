//! The context steps run in: the host, the log, the persisted state, the
//! back channel, and dry-run. It holds the three kinds of command (query,
//! change, destructive), the generic wait loop and the barrier loop. It
//! knows no platform.

use crate::firstboot::barrier::Link;
use crate::firstboot::config::FirstbootConfig;
use crate::firstboot::error::{Error, Result};
use crate::firstboot::host::{Argv, CmdResult, Host};
use crate::firstboot::log::Logger;
use crate::firstboot::retry::{Backoff, Deadline};
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
}

/// How often a wait repeats its "still waiting" line when nothing changes
/// (and how often background progress is logged at least).
pub const STILL_WAITING_EVERY: Duration = Duration::from_secs(60);
/// Sleep slice while idling with a back channel open.
const IDLE_SLICE: Duration = Duration::from_millis(20);

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
    /// Where this run's time went (see [`Spent`]).
    pub spent: Spent,
}

/// Where a run's time went: in the commands it ran, asleep (waiting for the
/// peer, for a state to come, between polls), and the rest, the helper's
/// own work. [`Ctx::timing_line`] reports it.
#[derive(Debug, Clone, Copy)]
pub struct Spent {
    pub since: Instant,
    pub commands: Duration,
    pub command_count: u32,
    pub asleep: Duration,
}

impl Spent {
    pub fn new(since: Instant) -> Self {
        Spent {
            since,
            commands: Duration::ZERO,
            command_count: 0,
            asleep: Duration::ZERO,
        }
    }

    /// The time since `since` in neither a command nor asleep.
    pub fn own(&self, now: Instant) -> Duration {
        now.saturating_duration_since(self.since)
            .saturating_sub(self.commands)
            .saturating_sub(self.asleep)
    }
}

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
            spent: Spent::new(since),
        }
    }

    /// Runs a command that only reads state. Runs in dry-run too.
    pub fn query(&mut self, argv: &Argv) -> CmdResult {
        let start = self.host.now();
        let res = self.host.run(argv);
        self.spent.commands += self.host.now().saturating_duration_since(start);
        self.spent.command_count += 1;
        res
    }

    /// Sleeps `d` on the host, counted as time asleep.
    fn sleep(&mut self, d: Duration) {
        let start = self.host.now();
        self.host.sleep(d);
        self.spent.asleep += self.host.now().saturating_duration_since(start);
    }

    /// One line for the log: this run's time, in commands, asleep and the
    /// helper's own (the rest).
    pub fn timing_line(&self) -> String {
        let now = self.host.now();
        let ms = |d: Duration| d.as_millis();
        let cpu = std::fs::read_to_string("/proc/self/stat")
            .ok()
            .and_then(|s| cpu_ms(&s))
            .map_or_else(String::new, |c| {
                format!("; the helper process itself used {c} ms of CPU")
            });
        format!(
            "timing: {} ms since this run started: {} ms in {} commands, {} ms asleep (waiting for the peer, the cluster or the next poll), {} ms own work{cpu}",
            ms(now.saturating_duration_since(self.spent.since)),
            ms(self.spent.commands),
            self.spent.command_count,
            ms(self.spent.asleep),
            ms(self.spent.own(now))
        )
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
        self.host
            .write_file(path, contents)
            .map_err(|e| Error::io(format!("writing {path}"), e))
    }

    pub fn save(&mut self) -> Result<()> {
        if let Some(p) = self.state_path.clone() {
            self.state.save(&p)?;
        }
        Ok(())
    }

    /// Runs a destructive command under its guard and the ledger.
    ///
    /// `found` is what the guard saw on the target immediately before this
    /// call. The ledger entry is written `started` before the command runs
    /// and `done` after, so that after a crash the command is never repeated
    /// once its effect is in place, and a state file saying `done` while
    /// the effect is missing is refused rather than redone.
    pub fn destructive(&mut self, op: &str, argv: &Argv, found: Found) -> Result<()> {
        let line = argv.to_string();
        let ledger = self.state.op(op);
        match (&found, ledger) {
            (Found::Harmless(what), _) => {
                self.log
                    .info(format!("guard {op}: {what}; not running `{line}`"));
                if ledger == Some(OpStatus::Started) {
                    self.state.set_op(op, OpStatus::Done, &line);
                    self.save()?;
                }
                return Ok(());
            }
            (Found::Data(what), Some(_)) => {
                self.log.info(format!(
                    "guard {op}: {what}, made by this helper earlier (state file); not running `{line}` again"
                ));
                if ledger == Some(OpStatus::Started) {
                    self.state.set_op(op, OpStatus::Done, &line);
                    self.save()?;
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
        self.save()
    }

    /// Sleeps, answering the back channel meanwhile.
    pub fn idle(&mut self, d: Duration) {
        if self.link.is_some() {
            self.serve_for(d, |_| false);
        } else {
            self.sleep(d);
        }
    }

    /// Answers the back channel for up to `d`, in short slices, stopping as
    /// soon as `until` holds. False when there is no back channel.
    fn serve_for(&mut self, d: Duration, until: impl Fn(&Link) -> bool) -> bool {
        let start = self.host.now();
        loop {
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
            self.sleep(left.min(IDLE_SLICE));
        }
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
                Poll::Pending(detail) => Err(Error::DryRunWait(format!("{what} ({detail})"))),
            };
        }
        let deadline = Deadline::after_secs(self.now(), secs);
        let mut backoff = self.backoff();
        let mut last = String::new();
        let mut last_log = self.now();
        let mut first = true;
        loop {
            match poll(self)? {
                Poll::Ready(v) => {
                    if !first {
                        self.log.info(format!(
                            "{what}: ok after {} s",
                            deadline.elapsed(self.now()).as_secs()
                        ));
                    }
                    return Ok(v);
                }
                Poll::Pending(detail) => {
                    let now = self.now();
                    if first {
                        self.log
                            .info(format!("waiting up to {secs} s for {what}: {detail}"));
                        last_log = now;
                    } else if detail != last
                        || now.saturating_duration_since(last_log) >= STILL_WAITING_EVERY
                    {
                        self.log.info(format!("still waiting for {what}: {detail}"));
                        last_log = now;
                    }
                    if detail != last {
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
            let d = backoff.next_delay().min(deadline.remaining(self.now()));
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
            let Some(link) = self.link.as_mut() else {
                return Err(Error::Unexpected("no back channel".into()));
            };
            link.serve(&mut self.log);
            if link.my_acked_at.is_none_or(|a| a < index) && link.exchange(&mut self.log) {
                backoff.reset();
            }
            if link.passed(index) {
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
            // Sleep in slices, stopping as soon as the barrier is passed, so
            // that both sides leave it within a few milliseconds of each
            // other (cman must start on both at about the same moment).
            let d = backoff
                .next_delay()
                .min(deadline.remaining(now))
                .min(STILL_WAITING_EVERY);
            self.serve_for(d, |link| link.passed(index) || link.peer_halt.is_some());
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
            if link.halt_delivered || link.exchange(&mut self.log) {
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
            // Idle in slices, stopping as soon as the peer got the news
            // through our listener.
            let d = backoff.next_delay().min(deadline.remaining(self.now()));
            if !self.serve_for(d, |link| link.halt_delivered) {
                return;
            }
        }
    }
}

/// User + system CPU time of a process, in ms, from its /proc/PID/stat
/// (fields 14 and 15 after the command name, in USER_HZ = 100 ticks a
/// second on Linux): what the helper itself burns, its children aside.
fn cpu_ms(stat: &str) -> Option<u64> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // rest starts at field 3 (state): utime is field 14, stime 15.
    let utime: u64 = f.get(11)?.parse().ok()?;
    let stime: u64 = f.get(12)?.parse().ok()?;
    Some((utime + stime) * 10)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_time_from_proc_stat() {
        // A /proc/PID/stat line (Linux 6.1), with a ") " in the name.
        let stat = "898 (clusterkick-f) x) S 1 898 898 0 -1 4194560 1201 0 0 0 4711 289 0 0 20 0 1 0 2411 6045696 611 18446744073709551615";
        assert_eq!(cpu_ms(stat), Some(50_000));
        assert_eq!(cpu_ms("garbage"), None);
        let own = std::fs::read_to_string("/proc/self/stat").unwrap();
        assert!(cpu_ms(&own).is_some(), "{own}");
    }

    #[test]
    fn own_time_is_what_is_neither_in_commands_nor_asleep() {
        let t0 = Instant::now();
        let mut s = Spent::new(t0);
        s.commands = Duration::from_millis(700);
        s.asleep = Duration::from_millis(250);
        assert_eq!(
            s.own(t0 + Duration::from_secs(1)),
            Duration::from_millis(50)
        );
        // Never negative, whatever the clocks say.
        assert_eq!(s.own(t0 + Duration::from_millis(500)), Duration::ZERO);
        assert_eq!(s.own(t0), Duration::ZERO);
    }
}
