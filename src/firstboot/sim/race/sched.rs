//! A virtual-time scheduler: each activity of a node (fenced, DRBD's
//! handler) is a thread, but only one runs at a time, and time moves only
//! when every one of them waits. So the helper's own blocking code (the
//! fence agent's sleeps and polls, the wrapper's delay, the handler's
//! retries) runs unchanged, on a clock that jumps from one wake-up to the
//! next: a run is deterministic and does not depend on how fast this
//! machine is.
//!
//! - A task sleeps with [`Task::sleep`]; the scheduler wakes the task with
//!   the earliest wake-up (ties: the task made first), after making
//!   everything happen that the world has due by then
//!   ([`Timeline::advance_to`]: a node losing its power).
//! - A task whose node has no power does not wake again: it unwinds (a
//!   powered-off node's pending work never completes).
//! - [`Task::limited`] runs code under a time limit, as a process killed
//!   after its limit: a sleep that reaches the limit unwinds to it.

use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// What the world does on its own as time passes.
pub trait Timeline: Send + 'static {
    /// When the next thing happens on its own, if anything is due.
    fn next_event(&self) -> Option<Duration>;
    /// Makes everything due at or before `t` happen.
    fn advance_to(&mut self, t: Duration);
    /// Whether a task of `node` may run (its node has power).
    fn alive(&self, node: &str) -> bool;
}

/// How a task ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ended {
    Finished,
    /// Its node lost its power while it waited.
    NodeOff,
    /// Still waiting when the run ended.
    Unfinished,
    /// A bug: the message.
    Panicked(String),
}

struct TaskState {
    name: String,
    node: String,
    /// When it wants to run next; None while it runs or once it ended.
    wake: Option<Duration>,
    ended: Option<Ended>,
}

struct Inner<W> {
    now: Duration,
    running: Option<usize>,
    tasks: Vec<TaskState>,
    world: W,
    stopping: bool,
}

pub struct Sched<W: Timeline> {
    inner: Mutex<Inner<W>>,
    cv: Condvar,
    base: Instant,
    threads: Mutex<Vec<JoinHandle<()>>>,
}

/// Unwinding payloads.
struct NodeOff;
struct Stopping;
struct Killed(usize);

/// One task's handle on the scheduler.
pub struct Task<W: Timeline> {
    sched: Arc<Sched<W>>,
    id: usize,
    node: String,
    /// The limits of the [`Task::limited`] calls in progress, outermost
    /// first.
    limits: Vec<Duration>,
}

fn lock<W: Timeline>(m: &Mutex<Inner<W>>) -> MutexGuard<'_, Inner<W>> {
    // A task that panicked holding the lock has its panic reported by its
    // own end; the state is still usable.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl<W: Timeline> Sched<W> {
    pub fn new(world: W) -> Arc<Self> {
        Arc::new(Sched {
            inner: Mutex::new(Inner {
                now: Duration::ZERO,
                running: None,
                tasks: Vec::new(),
                world,
                stopping: false,
            }),
            cv: Condvar::new(),
            base: Instant::now(),
            threads: Mutex::new(Vec::new()),
        })
    }

    /// Adds a task of `node` that starts at `at`.
    pub fn spawn(
        self: &Arc<Self>,
        node: &str,
        name: &str,
        at: Duration,
        f: impl FnOnce(&mut Task<W>) + Send + 'static,
    ) {
        let id = {
            let mut g = lock(&self.inner);
            g.tasks.push(TaskState {
                name: name.to_string(),
                node: node.to_string(),
                wake: Some(at),
                ended: None,
            });
            g.tasks.len() - 1
        };
        let sched = self.clone();
        let node = node.to_string();
        let handle = std::thread::spawn(move || {
            let mut task = Task {
                sched: sched.clone(),
                id,
                node,
                limits: Vec::new(),
            };
            let started = task.wait_turn();
            let ended = if !started {
                Ended::Unfinished
            } else {
                match catch_unwind(AssertUnwindSafe(|| f(&mut task))) {
                    Ok(()) => Ended::Finished,
                    Err(p) if p.is::<NodeOff>() => Ended::NodeOff,
                    Err(p) if p.is::<Stopping>() => Ended::Unfinished,
                    Err(p) => Ended::Panicked(
                        p.downcast_ref::<String>()
                            .cloned()
                            .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                            .unwrap_or_else(|| "a panic".into()),
                    ),
                }
            };
            let mut g = lock(&sched.inner);
            g.tasks[id].wake = None;
            g.tasks[id].ended = Some(ended);
            if g.running == Some(id) {
                g.running = None;
            }
            sched.cv.notify_all();
        });
        self.threads
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(handle);
    }

    /// Runs every task until none has anything left to do before `end`;
    /// then stops the ones still waiting. Returns how each task ended
    /// (name, node, how).
    pub fn run(self: &Arc<Self>, end: Duration) -> Vec<(String, String, Ended)> {
        let mut g = lock(&self.inner);
        loop {
            while g.running.is_some() {
                g = self.cv.wait(g).unwrap_or_else(|p| p.into_inner());
            }
            let next_task = g
                .tasks
                .iter()
                .enumerate()
                .filter_map(|(i, t)| t.wake.map(|w| (w, i)))
                .min();
            let next_event = g.world.next_event();
            let t = match (next_task.map(|x| x.0), next_event) {
                (Some(a), Some(b)) => a.min(b),
                (Some(a), None) => a,
                (None, Some(b)) => b,
                (None, None) => break,
            };
            if t > end {
                break;
            }
            g.now = g.now.max(t);
            let now = g.now;
            g.world.advance_to(now);
            if let Some((w, id)) = next_task {
                if w <= now {
                    g.tasks[id].wake = None;
                    g.running = Some(id);
                    self.cv.notify_all();
                }
            }
        }
        g.stopping = true;
        self.cv.notify_all();
        drop(g);
        let threads = std::mem::take(&mut *self.threads.lock().unwrap_or_else(|p| p.into_inner()));
        for t in threads {
            let _ = t.join();
        }
        let g = lock(&self.inner);
        g.tasks
            .iter()
            .map(|t| {
                (
                    t.name.clone(),
                    t.node.clone(),
                    t.ended.clone().unwrap_or(Ended::Unfinished),
                )
            })
            .collect()
    }

    /// The world, once the run is over (or between runs).
    pub fn with_world<R>(&self, f: impl FnOnce(&mut W) -> R) -> R {
        f(&mut lock(&self.inner).world)
    }

    pub fn now(&self) -> Duration {
        lock(&self.inner).now
    }
}

impl<W: Timeline> Task<W> {
    /// Waits until the scheduler gives this task its turn; false when the
    /// run ends first.
    fn wait_turn(&self) -> bool {
        let mut g = lock(&self.sched.inner);
        loop {
            if g.running == Some(self.id) {
                return true;
            }
            if g.stopping {
                return false;
            }
            g = self.sched.cv.wait(g).unwrap_or_else(|p| p.into_inner());
        }
    }

    /// Virtual time since the start.
    pub fn now(&self) -> Duration {
        self.sched.now()
    }

    /// [`Task::now`] as an `Instant` (for code that takes one).
    pub fn instant(&self) -> Instant {
        self.sched.base + self.now()
    }

    pub fn node(&self) -> &str {
        &self.node
    }

    /// The scheduler (for code that reaches the world outside the task's
    /// own calls, e.g. a device session).
    pub fn sched(&self) -> Arc<Sched<W>> {
        self.sched.clone()
    }

    /// The world, for a moment (device commands, state changes).
    pub fn with<R>(&self, f: impl FnOnce(&mut W) -> R) -> R {
        self.sched.with_world(f)
    }

    /// Sleeps `d` of virtual time. Unwinds (does not return) when the
    /// node lost its power meanwhile, when a limit of [`Task::limited`]
    /// ran out, or when the run ends.
    pub fn sleep(&mut self, d: Duration) {
        let (fired, alive) = {
            let mut g = lock(&self.sched.inner);
            let want = g.now + d;
            let limit = self
                .limits
                .iter()
                .enumerate()
                .min_by_key(|(i, l)| (**l, *i))
                .map(|(i, l)| (i, *l));
            let (wake, fired) = match limit {
                Some((i, l)) if l < want => (l.max(g.now), Some(i)),
                _ => (want, None),
            };
            g.tasks[self.id].wake = Some(wake);
            g.running = None;
            self.sched.cv.notify_all();
            while g.running != Some(self.id) && !g.stopping {
                g = self.sched.cv.wait(g).unwrap_or_else(|p| p.into_inner());
            }
            if g.stopping && g.running != Some(self.id) {
                drop(g);
                resume_unwind(Box::new(Stopping));
            }
            let alive = g.world.alive(&self.node);
            (fired, alive)
        };
        if !alive {
            resume_unwind(Box::new(NodeOff));
        }
        if let Some(i) = fired {
            resume_unwind(Box::new(Killed(i)));
        }
    }

    /// Runs `f` for at most `limit` of virtual time: None when it ran out
    /// (it is stopped at its first sleep past the limit, as a killed
    /// process).
    pub fn limited<R>(&mut self, limit: Duration, f: impl FnOnce(&mut Self) -> R) -> Option<R> {
        let depth = self.limits.len();
        let until = self.now().saturating_add(limit);
        self.limits.push(until);
        let r = catch_unwind(AssertUnwindSafe(|| f(self)));
        self.limits.truncate(depth);
        match r {
            Ok(v) => Some(v),
            Err(p) => match p.downcast_ref::<Killed>() {
                Some(Killed(i)) if *i == depth => None,
                _ => resume_unwind(p),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A node loses its power at a set time.
    struct Off {
        at: Duration,
        off: bool,
        log: Vec<String>,
    }

    impl Timeline for Off {
        fn next_event(&self) -> Option<Duration> {
            (!self.off).then_some(self.at)
        }
        fn advance_to(&mut self, t: Duration) {
            if !self.off && t >= self.at {
                self.off = true;
                self.log.push(format!("{} off", t.as_secs()));
            }
        }
        fn alive(&self, node: &str) -> bool {
            node != "b" || !self.off
        }
    }

    #[test]
    fn time_jumps_tasks_interleave_and_die_with_their_node() {
        let s = Sched::new(Off {
            at: Duration::from_secs(10),
            off: false,
            log: Vec::new(),
        });
        for (node, step) in [("a", 3u64), ("b", 4)] {
            s.spawn(node, node, Duration::ZERO, move |t| {
                for _ in 0..5 {
                    t.sleep(Duration::from_secs(step));
                    let now = t.now().as_secs();
                    t.with(|w| w.log.push(format!("{now} {node}")));
                }
            });
        }
        let started = Instant::now();
        let ends = s.run(Duration::from_secs(3600));
        assert!(started.elapsed() < Duration::from_secs(5), "virtual time");
        let log = s.with_world(|w| w.log.clone());
        assert_eq!(
            log,
            ["3 a", "4 b", "6 a", "8 b", "9 a", "10 off", "12 a", "15 a"]
        );
        assert_eq!(ends[0].2, Ended::Finished);
        assert_eq!(ends[1].2, Ended::NodeOff);
    }

    #[test]
    fn limits_stop_work_like_a_kill() {
        let s = Sched::new(Off {
            at: Duration::from_secs(1000),
            off: true,
            log: Vec::new(),
        });
        s.spawn("a", "a", Duration::ZERO, |t| {
            let r = t.limited(Duration::from_secs(7), |t| loop {
                t.sleep(Duration::from_secs(2));
            });
            let now = t.now().as_secs();
            let inner = t.limited(Duration::from_secs(5), |t| {
                t.sleep(Duration::from_secs(1));
                1
            });
            t.with(|w| w.log.push(format!("{r:?} at {now}, then {inner:?}")));
        });
        s.run(Duration::from_secs(100));
        assert_eq!(s.with_world(|w| w.log.clone()), ["None at 7, then Some(1)"]);
    }
}
