//! Where a helper run's time goes, for the timing line it logs at the end of
//! its setup: in the commands it ran, asleep (waiting for the peer, for a
//! state to come, between polls), writing the node's files, and the rest,
//! its own work; and, of each, what the process's CPU clock and the
//! kernel's run-queue accounting say: how much of it the helper ran, and
//! how long it was ready to run while the CPU ran something else.
//!
//! The second matters on a small node: on a single emulated CPU the
//! cluster's daemons take the CPU whenever they wake, and every moment the
//! helper waits for it counts in its own work's wall-clock time. The timing
//! line gives that part apart so that a reader sees what the helper did and
//! what it was made to wait for.

use std::fs::File;
use std::ops::AddAssign;
use std::os::unix::fs::FileExt;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The CPU time this process has used (user and system, its children
/// aside), from its CPU-time clock; None where that clock cannot be read.
pub fn process_cpu() -> Option<Duration> {
    use rustix::time::{clock_gettime_dynamic, DynamicClockId};
    let t =
        clock_gettime_dynamic(DynamicClockId::Known(rustix::time::ClockId::ProcessCPUTime)).ok()?;
    Some(Duration::new(
        u64::try_from(t.tv_sec).ok()?,
        u32::try_from(t.tv_nsec).ok()?,
    ))
}

/// `/proc/self/schedstat`: time on the CPU, time waiting on a run queue,
/// timeslices. The file is opened once and read again from its start each
/// time (one system call).
const SCHEDSTAT: &str = "/proc/self/schedstat";

/// The two times `/proc/self/schedstat` gives, in nanoseconds.
fn read_schedstat(f: &File) -> Option<(u64, u64)> {
    let mut buf = [0u8; 96];
    let n = f.read_at(&mut buf, 0).ok()?;
    parse_schedstat(std::str::from_utf8(buf.get(..n)?).ok()?)
}

fn parse_schedstat(text: &str) -> Option<(u64, u64)> {
    let mut it = text.split_ascii_whitespace();
    let on_cpu = it.next()?.parse().ok()?;
    let queued = it.next()?.parse().ok()?;
    Some((on_cpu, queued))
}

/// Whether schedstat's first reading `on_cpu_ns` can be nanoseconds, given
/// the CPU clock's `cpu`: a kernel that counts the fields in jiffies (as
/// older ones did) gives a number thousands of times smaller, and the
/// readings are then not used. Under a millisecond of CPU nothing can be
/// told either way, and the readings are taken.
fn schedstat_is_ns(on_cpu_ns: u64, cpu: Option<Duration>) -> bool {
    match cpu {
        Some(c) if c >= Duration::from_millis(1) => {
            Duration::from_nanos(on_cpu_ns).saturating_mul(100) >= c
        }
        _ => true,
    }
}

/// How long this process has waited, in all, on a run queue: ready to run
/// while the CPU ran something else (the kernel's scheduler statistics).
/// None where the kernel does not give it in nanoseconds.
pub fn process_queued() -> Option<Duration> {
    static FILE: OnceLock<Option<File>> = OnceLock::new();
    let f = FILE
        .get_or_init(|| {
            let f = File::open(SCHEDSTAT).ok()?;
            let (on_cpu, _) = read_schedstat(&f)?;
            schedstat_is_ns(on_cpu, process_cpu()).then_some(f)
        })
        .as_ref()?;
    read_schedstat(f).map(|(_, queued)| Duration::from_nanos(queued))
}

/// A reading of the process's clocks ([`process_cpu`], [`process_queued`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct Clocks {
    pub cpu: Option<Duration>,
    pub queued: Option<Duration>,
}

impl Clocks {
    pub fn now() -> Self {
        Clocks {
            cpu: process_cpu(),
            queued: process_queued(),
        }
    }

    /// What the clocks moved from `then` to `self` (zero where either
    /// reading is missing).
    pub fn since(&self, then: &Clocks) -> Usage {
        let d = |a: Option<Duration>, b: Option<Duration>| match (a, b) {
            (Some(a), Some(b)) => a.saturating_sub(b),
            _ => Duration::ZERO,
        };
        Usage {
            cpu: d(self.cpu, then.cpu),
            queued: d(self.queued, then.queued),
        }
    }
}

/// The process's use of the CPU over a stretch of the run: CPU time, and
/// time ready to run but waiting for the CPU.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    pub cpu: Duration,
    pub queued: Duration,
}

impl AddAssign for Usage {
    fn add_assign(&mut self, o: Usage) {
        self.cpu += o.cpu;
        self.queued += o.queued;
    }
}

/// Where a run's time went: in the commands it ran, asleep (waiting for the
/// peer, for a state to come, between polls; blocked in poll(2) on the back
/// channel, or in an exchange with the peer, which is the network and the
/// peer's time), writing the node's files, and the rest, the helper's own
/// work; with the process's [`Usage`] in each.
#[derive(Debug, Clone, Copy)]
pub struct Spent {
    pub since: Instant,
    pub commands: Duration,
    pub command_count: u32,
    pub asleep: Duration,
    /// Of the own work: writing the state file (each write fsynced, with
    /// its folder: the ledger's guarantee), and how many writes.
    pub saving: Duration,
    pub saves: u32,
    /// Writing the node's own files (configs, the check files on GFS2),
    /// fsynced like the state file: the node's work, as a command's would
    /// be, not the helper's own.
    pub files: Duration,
    pub file_writes: u32,
    /// The process's clocks when the run started, and its use of the CPU
    /// while starting and waiting for commands, asleep, writing the node's
    /// files and (part of its own work) writing the state file.
    pub clocks_since: Clocks,
    pub in_commands: Usage,
    pub in_asleep: Usage,
    pub in_files: Usage,
    pub in_saving: Usage,
}

impl Spent {
    pub fn new(since: Instant) -> Self {
        Spent {
            since,
            commands: Duration::ZERO,
            command_count: 0,
            asleep: Duration::ZERO,
            saving: Duration::ZERO,
            saves: 0,
            files: Duration::ZERO,
            file_writes: 0,
            clocks_since: Clocks::now(),
            in_commands: Usage::default(),
            in_asleep: Usage::default(),
            in_files: Usage::default(),
            in_saving: Usage::default(),
        }
    }

    /// The time since `since` in neither a command, nor writing the
    /// node's files, nor asleep.
    pub fn own(&self, now: Instant) -> Duration {
        now.saturating_duration_since(self.since)
            .saturating_sub(self.commands)
            .saturating_sub(self.files)
            .saturating_sub(self.asleep)
    }

    /// Of the clock `pick` reads (CPU time, or time queued for the CPU),
    /// what moved since the run started, and what of it the own work had
    /// (the rest went to commands, to sleep and to the node's files).
    /// None when that clock cannot be read.
    fn split(
        &self,
        now: &Clocks,
        pick: impl Fn(&Clocks) -> Option<Duration>,
        part: impl Fn(&Usage) -> Duration,
    ) -> Option<(Duration, Duration)> {
        let all = pick(now)?.saturating_sub(pick(&self.clocks_since)?);
        let own = all
            .saturating_sub(part(&self.in_commands))
            .saturating_sub(part(&self.in_files))
            .saturating_sub(part(&self.in_asleep));
        Some((all, own))
    }

    /// Of the CPU time used since the run started: all, and its own
    /// work's. None without a CPU clock.
    pub fn cpu(&self, now: &Clocks) -> Option<(Duration, Duration)> {
        self.split(now, |c| c.cpu, |u| u.cpu)
    }

    /// Of the time queued for the CPU since the run started: all, and in
    /// its own work. None where the kernel does not say.
    pub fn queued(&self, now: &Clocks) -> Option<(Duration, Duration)> {
        self.split(now, |c| c.queued, |u| u.queued)
    }

    /// One line for the log, at `now` with the clocks reading `clocks`.
    pub fn line(&self, now: Instant, clocks: &Clocks) -> String {
        let ms = |d: Duration| d.as_millis();
        let cpu = match self.cpu(clocks) {
            Some((all, own)) => format!(
                "; the helper process itself used {} ms of CPU: {} ms in its own work, {} ms starting and waiting for commands, {} ms while asleep, {} ms writing the node's files",
                ms(all),
                ms(own),
                ms(self.in_commands.cpu),
                ms(self.in_asleep.cpu),
                ms(self.in_files.cpu)
            ),
            None => String::new(),
        };
        let own = match (self.cpu(clocks), self.queued(clocks)) {
            (Some((_, own_cpu)), Some((all, own_queued))) => format!(
                "; of its own work, {} ms ran on the CPU (of them {} ms writing the state file), {} ms waited for the CPU while other processes ran (of them {} ms writing the state file; {} ms waited in all) and the rest was blocked (page faults, the state file's fsyncs)",
                ms(own_cpu),
                ms(self.in_saving.cpu),
                ms(own_queued),
                ms(self.in_saving.queued),
                ms(all)
            ),
            _ => String::new(),
        };
        format!(
            "timing: {} ms since this run started: {} ms in {} commands, {} ms asleep (waiting for the peer, the cluster or the next poll), {} ms writing {} of the node's files, {} ms own work (of which {} ms in {} fsynced writes of the state file){cpu}{own}",
            ms(now.saturating_duration_since(self.since)),
            ms(self.commands),
            self.command_count,
            ms(self.asleep),
            ms(self.files),
            self.file_writes,
            ms(self.own(now)),
            ms(self.saving),
            self.saves
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_process_cpu_clock_reads_and_moves_forward() {
        let a = process_cpu().expect("CLOCK_PROCESS_CPUTIME_ID");
        // Burn a little CPU: the clock must see it.
        let mut x = 0u64;
        while process_cpu().unwrap() <= a {
            x = x.wrapping_add(std::hint::black_box(1));
        }
        assert!(process_cpu().unwrap() > a, "{x}");
    }

    #[test]
    fn schedstat_reads_on_this_kernel_and_never_goes_back() {
        // This machine's kernel (Linux, CONFIG_SCHED_INFO as every
        // distribution kernel has it) gives nanoseconds.
        let a = process_queued().expect("/proc/self/schedstat in nanoseconds");
        std::thread::yield_now();
        let b = process_queued().expect("a second reading");
        assert!(b >= a, "{a:?} then {b:?}");
    }

    #[test]
    fn schedstat_lines_parse_and_jiffies_are_told_apart() {
        assert_eq!(
            parse_schedstat("2196146 10201 17\n"),
            Some((2_196_146, 10_201))
        );
        assert_eq!(parse_schedstat("2196146\n"), None);
        assert_eq!(parse_schedstat(""), None);
        assert_eq!(parse_schedstat("x 1 2\n"), None);
        // 5 ms of CPU: 5,000,000 ns is plausible, 5 (jiffies) is not.
        let cpu = Some(Duration::from_millis(5));
        assert!(schedstat_is_ns(4_900_000, cpu));
        assert!(!schedstat_is_ns(5, cpu));
        // Too little CPU to tell: taken.
        assert!(schedstat_is_ns(5, Some(Duration::from_micros(300))));
        assert!(schedstat_is_ns(5, None));
    }

    fn spent_at_100_ms() -> Spent {
        let mut s = Spent::new(Instant::now());
        s.clocks_since = Clocks {
            cpu: Some(Duration::from_millis(100)),
            queued: Some(Duration::from_millis(1000)),
        };
        s.in_commands = Usage {
            cpu: Duration::from_millis(30),
            queued: Duration::from_millis(300),
        };
        s.in_asleep = Usage {
            cpu: Duration::from_millis(20),
            queued: Duration::from_millis(200),
        };
        s.in_files = Usage {
            cpu: Duration::from_millis(5),
            queued: Duration::from_millis(50),
        };
        s
    }

    #[test]
    fn own_cpu_and_queueing_are_what_is_neither_in_commands_nor_files_nor_asleep() {
        let mut s = spent_at_100_ms();
        let now = Clocks {
            cpu: Some(Duration::from_millis(200)),
            queued: Some(Duration::from_millis(2000)),
        };
        assert_eq!(
            s.cpu(&now),
            Some((Duration::from_millis(100), Duration::from_millis(45)))
        );
        assert_eq!(
            s.queued(&now),
            Some((Duration::from_millis(1000), Duration::from_millis(450)))
        );
        // Never negative, whatever the clocks say.
        let early = Clocks {
            cpu: Some(Duration::from_millis(90)),
            queued: Some(Duration::from_millis(900)),
        };
        assert_eq!(s.cpu(&early), Some((Duration::ZERO, Duration::ZERO)));
        assert_eq!(s.queued(&early), Some((Duration::ZERO, Duration::ZERO)));
        // A clock that cannot be read gives nothing, at either end.
        assert_eq!(s.cpu(&Clocks::default()), None);
        s.clocks_since.queued = None;
        assert_eq!(s.queued(&now), None);
    }

    #[test]
    fn own_time_is_what_is_neither_in_commands_nor_files_nor_asleep() {
        let t0 = Instant::now();
        let mut s = Spent::new(t0);
        s.commands = Duration::from_millis(700);
        s.asleep = Duration::from_millis(250);
        s.files = Duration::from_millis(20);
        assert_eq!(
            s.own(t0 + Duration::from_secs(1)),
            Duration::from_millis(30)
        );
        // Never negative, whatever the clocks say.
        assert_eq!(s.own(t0 + Duration::from_millis(500)), Duration::ZERO);
        assert_eq!(s.own(t0), Duration::ZERO);
    }

    #[test]
    fn the_line_gives_every_part_and_leaves_out_clocks_it_cannot_read() {
        let t0 = Instant::now();
        let mut s = spent_at_100_ms();
        s.since = t0;
        s.commands = Duration::from_millis(700);
        s.command_count = 3;
        s.asleep = Duration::from_millis(250);
        s.files = Duration::from_millis(20);
        s.file_writes = 1;
        s.saving = Duration::from_millis(12);
        s.saves = 2;
        s.in_saving = Usage {
            cpu: Duration::from_millis(4),
            queued: Duration::from_millis(6),
        };
        // 30 ms of own work: 10 on the CPU, 8 waiting for it, 12 blocked.
        let now = Clocks {
            cpu: Some(Duration::from_millis(165)),
            queued: Some(Duration::from_millis(1558)),
        };
        let line = s.line(t0 + Duration::from_secs(1), &now);
        assert_eq!(
            line,
            "timing: 1000 ms since this run started: 700 ms in 3 commands, 250 ms asleep \
             (waiting for the peer, the cluster or the next poll), 20 ms writing 1 of the \
             node's files, 30 ms own work (of which 12 ms in 2 fsynced writes of the state \
             file); the helper process itself used 65 ms of CPU: 10 ms in its own work, 30 ms \
             starting and waiting for commands, 20 ms while asleep, 5 ms writing the node's \
             files; of its own work, 10 ms ran on the CPU (of them 4 ms writing the state \
             file), 8 ms waited for the CPU while other processes ran (of them 6 ms writing \
             the state file; 558 ms waited in all) and the rest was blocked (page faults, \
             the state file's fsyncs)"
        );
        let line = s.line(t0 + Duration::from_secs(1), &Clocks::default());
        assert!(
            line.ends_with("fsynced writes of the state file)"),
            "{line}"
        );
    }
}
