//! A wall-clock throttle on costly looks for results that wait for stream
//! time (Kafka's `TimeTracker.nextTimeToEmit`).

use std::time::Duration;

/// Lets an operator look (scan a store for due results) at most once per
/// interval of wall-clock time.
#[derive(Debug, Default)]
pub(crate) struct Throttle {
    /// Wall-clock time before which the operator does not look.
    next_ms: i64,
    interval_ms: i64,
}

impl Throttle {
    /// A throttle letting one look through per `interval`.
    pub(crate) fn new(interval: Duration) -> Self {
        Self {
            next_ms: 0,
            interval_ms: i64::try_from(interval.as_millis()).unwrap_or(i64::MAX),
        }
    }

    /// Whether the operator may look at wall-clock time `now_ms`; a look
    /// uses up the interval from `now_ms` on, whatever it finds (so a
    /// clock that jumps does not let looks pile up).
    pub(crate) fn allows(&mut self, now_ms: i64) -> bool {
        if now_ms < self.next_ms {
            return false;
        }
        self.next_ms = now_ms.saturating_add(self.interval_ms);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_look_per_interval_counted_from_the_last_look() {
        let mut throttle = Throttle::new(Duration::from_millis(1000));
        assert!(throttle.allows(1000));
        assert!(!throttle.allows(1999));
        assert!(throttle.allows(2100));
        assert!(!throttle.allows(2500));
        assert!(!throttle.allows(3099));
        assert!(throttle.allows(4000));

        let mut unthrottled = Throttle::new(Duration::ZERO);
        assert!(unthrottled.allows(0));
        assert!(unthrottled.allows(0));
    }
}
