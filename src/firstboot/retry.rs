//! Capped exponential backoff and deadlines, from the config's `timeouts`.

use std::time::{Duration, Instant};

/// Delays that start at `initial` and double up to `max`.
#[derive(Debug, Clone)]
pub struct Backoff {
    initial: Duration,
    max: Duration,
    next: Duration,
}

impl Backoff {
    pub fn new(initial_ms: u64, max_ms: u64) -> Self {
        let initial = Duration::from_millis(initial_ms.max(1));
        let max = Duration::from_millis(max_ms.max(initial_ms).max(1));
        Backoff {
            initial,
            max,
            next: initial,
        }
    }

    /// The delay to wait now; the following one doubles, up to the cap.
    pub fn next_delay(&mut self) -> Duration {
        let d = self.next;
        self.next = (self.next * 2).min(self.max);
        d
    }

    /// Back to the initial delay (after progress was made).
    pub fn reset(&mut self) {
        self.next = self.initial;
    }

    pub fn max(&self) -> Duration {
        self.max
    }
}

/// A point in time by which a wait must be over, or none (a wait as long
/// as it takes). It reads no clock itself: callers pass `now` from the
/// clock they wait on (the host's, which the simulator may speed up).
#[derive(Debug, Clone, Copy)]
pub struct Deadline {
    start: Instant,
    limit: Option<Duration>,
}

impl Deadline {
    pub fn after_secs(now: Instant, secs: u64) -> Self {
        Deadline {
            start: now,
            limit: Some(Duration::from_secs(secs)),
        }
    }

    /// No deadline.
    pub fn never(now: Instant) -> Self {
        Deadline {
            start: now,
            limit: None,
        }
    }

    /// `secs` seconds, or no deadline.
    pub fn within(now: Instant, secs: Option<u64>) -> Self {
        match secs {
            Some(s) => Deadline::after_secs(now, s),
            None => Deadline::never(now),
        }
    }

    pub fn expired(&self, now: Instant) -> bool {
        self.limit
            .is_some_and(|l| now.saturating_duration_since(self.start) >= l)
    }

    pub fn elapsed(&self, now: Instant) -> Duration {
        now.saturating_duration_since(self.start)
    }

    /// What is left (`Duration::MAX` without a deadline).
    pub fn remaining(&self, now: Instant) -> Duration {
        match self.limit {
            Some(l) => l.saturating_sub(self.elapsed(now)),
            None => Duration::MAX,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_up_to_cap_and_resets() {
        let mut b = Backoff::new(100, 450);
        let got: Vec<u128> = (0..5).map(|_| b.next_delay().as_millis()).collect();
        assert_eq!(got, vec![100, 200, 400, 450, 450]);
        b.reset();
        assert_eq!(b.next_delay().as_millis(), 100);
    }

    #[test]
    fn deadline() {
        let t = Instant::now();
        let d = Deadline::after_secs(t, 0);
        assert!(d.expired(t));
        assert_eq!(d.remaining(t), Duration::ZERO);
        let d = Deadline::after_secs(t, 60);
        assert!(!d.expired(t + Duration::from_secs(59)));
        assert!(d.expired(t + Duration::from_secs(60)));
        assert_eq!(
            d.remaining(t + Duration::from_secs(20)),
            Duration::from_secs(40)
        );
        let n = Deadline::never(t);
        assert!(!n.expired(t + Duration::from_secs(86_400 * 365)));
        assert_eq!(n.remaining(t), Duration::MAX);
    }
}
