//! The actions, as sequences of state sets and state reads, and how each one
//! decides success (FenceAgentAPI; docs/fence_na.md):
//!
//! - off: read (the port must exist), fence (`PP:1`), then read until the
//!   feed is gone. Success only when a read shows no power; still powered
//!   after `power_off_secs` is a failure: the node is NOT fenced.
//! - on: release a held switch (`PP:0`); if the node has no power, press
//!   (`PP:2`) and read until the feed is back. Already on: success, no press.
//! - reboot: off as above (its verification decides the exit status), then
//!   release and press; a node that does not come back is a warning, not a
//!   failure ("the on portion failing is a don't-care case").
//! - status: one read; the port has power: 0, no power: 2.
//! - monitor / list: one read shows the device answers; list prints
//!   `port,alias` per port from the config.
//!
//! `delay` is applied before the device is contacted, and only for off and
//! reboot ([`Action::honours_delay`]).

use super::config::{DeviceConfig, Timeouts};
use super::device::{Device, PortState, SetState};
use super::error::Error;
use super::input::Action;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// Time as the actions see it; tests replace it to watch every wait.
pub trait Clock {
    fn now(&self) -> Instant;
    fn sleep(&mut self, d: Duration);
}

pub struct RealClock;

impl Clock for RealClock {
    fn now(&self) -> Instant {
        Instant::now()
    }
    fn sleep(&mut self, d: Duration) {
        std::thread::sleep(d)
    }
}

/// How a run ended, when it did not fail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Exit 0. Lines for stdout.
    Done(Vec<String>),
    /// status: the port has power (exit 0).
    PowerOn,
    /// status: the port has no power (exit 2).
    PowerOff,
}

/// What to do: the action, its port, and the head start to wait.
#[derive(Debug, Clone, Copy)]
pub struct Job {
    pub action: Action,
    pub port: Option<u8>,
    pub delay: Duration,
}

/// Runs the job: waits `delay` when the action honours it, then `connect`s
/// (given the run's deadline) and drives the device.
pub fn execute<D: Device, C: Clock>(
    job: Job,
    dev_cfg: &DeviceConfig,
    timeouts: &Timeouts,
    clock: &mut C,
    connect: impl FnOnce(Instant) -> Result<D, Error>,
    warn: &mut dyn FnMut(String),
) -> Result<Outcome, Error> {
    let Job {
        action,
        port,
        delay,
    } = job;
    if action.honours_delay() && !delay.is_zero() {
        clock.sleep(delay);
    }
    let deadline = clock.now() + timeouts.total();
    let mut dev = connect(deadline)?;
    let mut run = Run {
        dev: &mut dev,
        clock,
        timeouts,
        deadline,
        label: dev_cfg.label().to_string(),
    };
    let need = |p: Option<u8>| {
        p.ok_or_else(|| Error::Usage(format!("action `{}` needs a port", action.name())))
    };
    match action {
        Action::Off => {
            let p = need(port)?;
            run.off(p)?;
            Ok(Outcome::Done(vec![format!(
                "Success: port {p:02} is off (fenced; its power switch is held)"
            )]))
        }
        Action::On => {
            let p = need(port)?;
            let line = run.on(p)?;
            Ok(Outcome::Done(vec![line]))
        }
        Action::Reboot => {
            let p = need(port)?;
            run.off(p)?;
            // From here the fence has succeeded; whatever happens next only
            // decides whether the node comes back.
            match run.on(p) {
                Ok(_) => Ok(Outcome::Done(vec![format!(
                    "Success: port {p:02} rebooted (power off verified, then on)"
                )])),
                Err(e) => {
                    warn(format!(
                        "warning: port {p:02} was fenced (power off verified) but did not come \
                         back on: {e}"
                    ));
                    Ok(Outcome::Done(vec![format!(
                        "Success: port {p:02} is off (fenced); it did not power back on"
                    )]))
                }
            }
        }
        Action::Status => {
            let p = need(port)?;
            let s = run.port(p)?;
            Ok(if s.feed {
                Outcome::PowerOn
            } else {
                Outcome::PowerOff
            })
        }
        Action::Monitor => {
            let states = run.dev.states()?;
            Ok(Outcome::Done(vec![format!(
                "Success: {} answers and reports {} ports",
                run.label,
                states.len()
            )]))
        }
        Action::List => {
            run.dev.states()?;
            let lines = (1..=dev_cfg.max_nodes)
                .filter_map(|p| match dev_cfg.alias(p) {
                    Some("unused") => None,
                    Some(a) => Some(format!("{p},{a}")),
                    None => Some(format!("{p},--")),
                })
                .collect();
            Ok(Outcome::Done(lines))
        }
    }
}

struct Run<'a, D: Device, C: Clock> {
    dev: &'a mut D,
    clock: &'a mut C,
    timeouts: &'a Timeouts,
    deadline: Instant,
    label: String,
}

impl<D: Device, C: Clock> Run<'_, D, C> {
    /// The port's state; an error when the device does not report it.
    fn port(&mut self, port: u8) -> Result<PortState, Error> {
        let states = self.dev.states()?;
        self.pick(&states, port)
    }

    fn pick(&self, states: &BTreeMap<u8, PortState>, port: u8) -> Result<PortState, Error> {
        states.get(&port).copied().ok_or_else(|| Error::Device {
            device: self.label.clone(),
            message: if states.is_empty() {
                format!(
                    "its state read reports no ports at all, so port {port:02} cannot be checked"
                )
            } else {
                format!(
                    "it reports ports {} but not {port:02}",
                    states
                        .keys()
                        .map(|p| format!("{p:02}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            },
        })
    }

    /// Fences and verifies: the feed must be gone.
    fn off(&mut self, port: u8) -> Result<(), Error> {
        self.port(port)?;
        self.dev.set(port, SetState::Fence)?;
        let limit = self.timeouts.power_off();
        if self.wait_for(port, limit, false)? {
            Ok(())
        } else {
            Err(Error::NotVerified(format!(
                "port {port:02} still has power {} s after the fence command: the node is NOT fenced",
                limit.as_secs()
            )))
        }
    }

    /// Releases a held switch and, when the node has no power, boots it.
    fn on(&mut self, port: u8) -> Result<String, Error> {
        let s = self.port(port)?;
        if s.power || s.reset {
            self.dev.set(port, SetState::Release)?;
            if !s.feed {
                self.clock.sleep(self.timeouts.settle());
            }
        }
        if s.feed {
            return Ok(format!("Success: port {port:02} is on"));
        }
        self.dev.set(port, SetState::Press)?;
        let limit = self.timeouts.power_on();
        if self.wait_for(port, limit, true)? {
            Ok(format!("Success: port {port:02} is on"))
        } else {
            Err(Error::NotVerified(format!(
                "port {port:02} has no power {} s after the boot press",
                limit.as_secs()
            )))
        }
    }

    /// Reads until the port's feed is `want`; false when `limit` (or the
    /// run's deadline) passes first.
    fn wait_for(&mut self, port: u8, limit: Duration, want: bool) -> Result<bool, Error> {
        let until = (self.clock.now() + limit).min(self.deadline);
        loop {
            if self.port(port)?.feed == want {
                return Ok(true);
            }
            let now = self.clock.now();
            if now >= until {
                return Ok(false);
            }
            self.clock.sleep(
                self.timeouts
                    .poll()
                    .min(until.saturating_duration_since(now)),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fence_na::secret::Secret;

    /// A device model for the plans: ports with a feed that follows the
    /// switches after `lag` reads, and a log of everything.
    struct Model {
        ports: BTreeMap<u8, PortState>,
        log: Vec<String>,
        /// Reads left before a pending feed change shows.
        lag: usize,
        pending: Option<(u8, bool)>,
        stuck_on: bool,
        never_boots: bool,
    }

    impl Model {
        fn new(feed: &[bool]) -> Self {
            Self {
                ports: feed
                    .iter()
                    .enumerate()
                    .map(|(i, &f)| {
                        (
                            i as u8 + 1,
                            PortState {
                                power: false,
                                reset: false,
                                feed: f,
                            },
                        )
                    })
                    .collect(),
                log: Vec::new(),
                lag: 0,
                pending: None,
                stuck_on: false,
                never_boots: false,
            }
        }
    }

    impl Device for &mut Model {
        fn states(&mut self) -> Result<BTreeMap<u8, PortState>, Error> {
            self.log.push("read".into());
            if let Some((p, f)) = self.pending {
                if self.lag == 0 {
                    self.ports.get_mut(&p).unwrap().feed = f;
                    self.pending = None;
                } else {
                    self.lag -= 1;
                }
            }
            Ok(self.ports.clone())
        }
        fn set(&mut self, port: u8, state: SetState) -> Result<(), Error> {
            self.log.push(crate::fence_na::device::command(port, state));
            let p = self.ports.get_mut(&port).unwrap();
            match state {
                SetState::Release => (p.power, p.reset) = (false, false),
                SetState::Fence => {
                    p.power = true;
                    if !self.stuck_on {
                        self.pending = Some((port, false));
                    }
                }
                SetState::Press if !p.feed && !self.never_boots => {
                    self.pending = Some((port, true))
                }
                _ => {}
            }
            Ok(())
        }
    }

    /// A clock that only moves when slept on, and remembers every sleep
    /// and when the device was contacted.
    struct FakeClock {
        t: Instant,
        events: std::rc::Rc<std::cell::RefCell<Vec<String>>>,
    }

    impl Clock for FakeClock {
        fn now(&self) -> Instant {
            self.t
        }
        fn sleep(&mut self, d: Duration) {
            self.events
                .borrow_mut()
                .push(format!("sleep {}ms", d.as_millis()));
            self.t += d;
        }
    }

    fn dev_cfg() -> DeviceConfig {
        DeviceConfig {
            name: Some("motoko".into()),
            ipaddr: "127.0.0.1".into(),
            tcp_port: 238,
            login: "l".into(),
            passwd: Secret::new("p".into()),
            max_nodes: 4,
            aliases: [("2".to_string(), "an-node02".to_string())].into(),
        }
    }

    /// Runs an action on the model; returns its result, the clock's sleeps
    /// and the warnings.
    fn go(
        model: &mut Model,
        action: Action,
        port: u8,
        delay: u64,
    ) -> (Result<Outcome, Error>, Vec<String>, Vec<String>) {
        let (r, order, w) = go_ordered(model, action, port, delay);
        (r, order.into_iter().filter(|e| e != "connect").collect(), w)
    }

    /// As [`go`], with the device contact ("connect") among the sleeps.
    fn go_ordered(
        model: &mut Model,
        action: Action,
        port: u8,
        delay: u64,
    ) -> (Result<Outcome, Error>, Vec<String>, Vec<String>) {
        let events = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
        let mut clock = FakeClock {
            t: Instant::now(),
            events: events.clone(),
        };
        let mut warnings = Vec::new();
        let t = Timeouts {
            poll_ms: 500,
            ..Timeouts::default()
        };
        let r = execute(
            Job {
                action,
                port: Some(port),
                delay: Duration::from_secs(delay),
            },
            &dev_cfg(),
            &t,
            &mut clock,
            move |_| {
                events.borrow_mut().push("connect".into());
                Ok(model)
            },
            &mut |w| warnings.push(w),
        );
        let order = clock.events.borrow().clone();
        assert_eq!(order.iter().filter(|e| *e == "connect").count(), 1);
        (r, order, warnings)
    }

    #[test]
    fn delay_comes_first_and_only_for_off_and_reboot() {
        for (action, waits) in [
            (Action::Off, true),
            (Action::Reboot, true),
            (Action::On, false),
            (Action::Status, false),
            (Action::Monitor, false),
            (Action::List, false),
        ] {
            let mut m = Model::new(&[true, true]);
            let (r, order, _) = go_ordered(&mut m, action, 2, 7);
            r.unwrap();
            let expect: &[&str] = if waits {
                &["sleep 7000ms", "connect"]
            } else {
                &["connect"]
            };
            assert_eq!(&order[..expect.len()], expect, "{action:?}: {order:?}");
            assert_eq!(
                order.iter().filter(|e| *e == "sleep 7000ms").count(),
                usize::from(waits),
                "{action:?}: {order:?}"
            );
        }
    }

    #[test]
    fn off_fences_then_waits_for_the_feed_to_drop() {
        let mut m = Model::new(&[true, true]);
        m.lag = 3;
        let (r, events, _) = go(&mut m, Action::Off, 2, 0);
        assert!(matches!(r.unwrap(), Outcome::Done(_)));
        assert_eq!(m.log, ["read", "02:1", "read", "read", "read", "read"]);
        assert_eq!(events, ["sleep 500ms"; 3]);
        assert!(m.ports[&2].power && !m.ports[&2].feed);
        assert!(m.ports[&1].feed, "the other port is untouched");
    }

    #[test]
    fn off_that_never_drops_the_feed_fails_after_power_off_secs() {
        let mut m = Model::new(&[true, true]);
        m.stuck_on = true;
        let (r, events, _) = go(&mut m, Action::Off, 2, 0);
        let e = r.unwrap_err().to_string();
        assert!(e.contains("NOT fenced"), "{e}");
        // 35 s of polls at 500 ms.
        assert_eq!(events.len(), 70, "{events:?}");
    }

    #[test]
    fn on_releases_and_presses_only_when_needed() {
        let mut m = Model::new(&[true, true]);
        go(&mut m, Action::On, 2, 0).0.unwrap();
        assert_eq!(m.log, ["read"], "already on: nothing sent");

        let mut m = Model::new(&[true, false]);
        m.ports.get_mut(&2).unwrap().power = true;
        let (r, sleeps, _) = go(&mut m, Action::On, 2, 0);
        r.unwrap();
        assert_eq!(m.log, ["read", "02:0", "02:2", "read"]);
        assert_eq!(
            sleeps,
            ["sleep 1000ms"],
            "a pause between release and press"
        );
        assert!(m.ports[&2].feed && !m.ports[&2].power);

        let mut m = Model::new(&[true, false]);
        m.never_boots = true;
        let e = go(&mut m, Action::On, 2, 0).0.unwrap_err().to_string();
        assert!(e.contains("no power 30 s after"), "{e}");
    }

    #[test]
    fn reboot_is_off_then_on_and_a_node_that_stays_off_is_only_a_warning() {
        let mut m = Model::new(&[true, true]);
        go(&mut m, Action::Reboot, 2, 0).0.unwrap();
        assert_eq!(
            m.log,
            ["read", "02:1", "read", "read", "02:0", "02:2", "read"]
        );
        assert!(m.ports[&2].feed);

        let mut m = Model::new(&[true, true]);
        m.never_boots = true;
        let (r, _, warnings) = go(&mut m, Action::Reboot, 2, 0);
        assert!(matches!(r.unwrap(), Outcome::Done(_)));
        assert_eq!(warnings.len(), 1, "{warnings:?}");

        let mut m = Model::new(&[true, true]);
        m.stuck_on = true;
        assert!(go(&mut m, Action::Reboot, 2, 0).0.is_err());
        assert!(!m.log.contains(&"02:2".to_string()), "{:?}", m.log);
    }

    #[test]
    fn status_reads_the_feed_and_sends_nothing() {
        let mut m = Model::new(&[true, false]);
        assert_eq!(
            go(&mut m, Action::Status, 1, 0).0.unwrap(),
            Outcome::PowerOn
        );
        assert_eq!(
            go(&mut m, Action::Status, 2, 0).0.unwrap(),
            Outcome::PowerOff
        );
        assert_eq!(m.log, ["read", "read"]);
        let e = go(&mut m, Action::Status, 3, 0).0.unwrap_err().to_string();
        assert!(e.contains("reports ports 01, 02 but not 03"), "{e}");
    }

    #[test]
    fn list_prints_aliases_from_the_config() {
        let mut m = Model::new(&[true, true]);
        let r = go(&mut m, Action::List, 1, 0).0.unwrap();
        assert_eq!(
            r,
            Outcome::Done(vec![
                "1,--".into(),
                "2,an-node02".into(),
                "3,--".into(),
                "4,--".into()
            ])
        );
    }
}
