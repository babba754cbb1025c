//! Wall-clock time, behind a trait so tests can move it by hand.

use std::cell::Cell;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A source of wall-clock time in milliseconds since the epoch.
pub trait Clock {
    /// The current time.
    fn now_ms(&self) -> i64;
}

/// The system's real-time clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(millis)
            .unwrap_or(0)
    }
}

/// A duration in whole milliseconds, the unit of Kafka timestamps;
/// saturating, so `Duration::MAX` reads as "forever" rather than wrapping.
pub(crate) fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

/// A clock that only moves when told to.
#[derive(Debug, Default)]
pub struct MockClock {
    now_ms: Cell<i64>,
}

impl MockClock {
    /// A clock reading `now_ms`.
    pub fn new(now_ms: i64) -> Self {
        Self {
            now_ms: Cell::new(now_ms),
        }
    }

    /// Moves the clock forward by `millis`.
    pub fn advance(&self, millis: i64) {
        self.now_ms.set(self.now_ms.get().saturating_add(millis));
    }
}

impl Clock for MockClock {
    fn now_ms(&self) -> i64 {
        self.now_ms.get()
    }
}
