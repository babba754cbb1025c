//! Window specifications for windowed aggregations: [`TimeWindows`]
//! (tumbling and hopping), [`SlidingWindows`] and [`SessionWindows`], as
//! Kafka Streams' classes of the same names.
//!
//! Durations are whole milliseconds (sub-millisecond parts are dropped, and
//! durations beyond `i64::MAX` ms saturate). A grace period says how long
//! after a window ends records for it are still accepted; later ones are
//! dropped and counted in the task's `dropped_records`.

use std::time::Duration;

use streams_core::Window;

/// Why a window specification is invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WindowsError {
    /// A time window of zero length.
    #[error("window size must be larger than zero")]
    ZeroSize,
    /// A hop of zero, or longer than the window.
    #[error(
        "window advance must be more than zero and at most the window size of {size_ms} ms, \
         but was {advance_ms} ms"
    )]
    InvalidAdvance {
        /// The window size.
        size_ms: i64,
        /// The advance asked for.
        advance_ms: i64,
    },
    /// A session inactivity gap of zero.
    #[error("session inactivity gap must be larger than zero")]
    ZeroGap,
    /// Join window ends that leave no window (or overflow).
    #[error(
        "join window ends of {before_ms} ms before and {after_ms} ms after a record \
         must not add up to less than zero"
    )]
    NegativeJoinWindow {
        /// How far before a left record the window was to reach.
        before_ms: i64,
        /// How far after.
        after_ms: i64,
    },
}

/// Whole milliseconds, saturating at `i64::MAX`.
pub(crate) fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

/// Fixed-size windows aligned to the epoch: tumbling (advance = size) or
/// hopping (advance < size).
///
/// A window is `[start, start + size)`; a record belongs to every window
/// containing its timestamp. Windows with a negative start are never
/// created.
///
/// ```
/// use std::time::Duration;
/// use streams_dsl::TimeWindows;
///
/// let hopping = TimeWindows::of_size_with_no_grace(Duration::from_secs(5))?
///     .advance_by(Duration::from_secs(3))?;
/// let starts: Vec<i64> = hopping.windows_for(7_000).iter().map(|w| w.start).collect();
/// assert_eq!(starts, [3_000, 6_000]);
/// # Ok::<(), streams_dsl::WindowsError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeWindows {
    size_ms: i64,
    advance_ms: i64,
    grace_ms: i64,
}

impl TimeWindows {
    /// Tumbling windows of `size` that accept no late records.
    pub fn of_size_with_no_grace(size: Duration) -> Result<Self, WindowsError> {
        Self::of_size_and_grace(size, Duration::ZERO)
    }

    /// Tumbling windows of `size` that accept records up to `grace` after
    /// they end.
    pub fn of_size_and_grace(size: Duration, grace: Duration) -> Result<Self, WindowsError> {
        let size_ms = millis(size);
        if size_ms <= 0 {
            return Err(WindowsError::ZeroSize);
        }
        Ok(Self {
            size_ms,
            advance_ms: size_ms,
            grace_ms: millis(grace),
        })
    }

    /// Hopping windows: a new window starts every `advance`.
    pub fn advance_by(self, advance: Duration) -> Result<Self, WindowsError> {
        let advance_ms = millis(advance);
        if advance_ms <= 0 || advance_ms > self.size_ms {
            return Err(WindowsError::InvalidAdvance {
                size_ms: self.size_ms,
                advance_ms,
            });
        }
        Ok(Self { advance_ms, ..self })
    }

    /// The window size in milliseconds.
    pub fn size_ms(&self) -> i64 {
        self.size_ms
    }

    /// The advance in milliseconds.
    pub fn advance_ms(&self) -> i64 {
        self.advance_ms
    }

    /// The grace period in milliseconds.
    pub fn grace_ms(&self) -> i64 {
        self.grace_ms
    }

    /// The windows containing `timestamp`, earliest first.
    pub fn windows_for(&self, timestamp: i64) -> Vec<Window> {
        // The first window containing the timestamp, clamped at the epoch.
        let earliest = timestamp
            .saturating_sub(self.size_ms)
            .saturating_add(self.advance_ms)
            .max(0);
        let first_start = earliest - earliest % self.advance_ms;
        let mut windows = Vec::new();
        let mut start = first_start;
        while start <= timestamp {
            windows.push(Window::of_size(start, self.size_ms));
            start = match start.checked_add(self.advance_ms) {
                Some(next) => next,
                None => break,
            };
        }
        windows
    }
}

/// Windows of a fixed length aligned to record timestamps, both bounds
/// inclusive (Kafka's `SlidingWindows`).
///
/// Each record defines a window ending at its timestamp, `[ts - d, ts]`,
/// and, when later records fall within `d` of it, one starting just after
/// it, `[ts + 1, ts + 1 + d]`; only windows with distinct sets of records
/// are materialized.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlidingWindows {
    time_difference_ms: i64,
    grace_ms: i64,
}

impl SlidingWindows {
    /// Windows of `time_difference` that accept no late records.
    pub fn of_time_difference_with_no_grace(time_difference: Duration) -> Self {
        Self::of_time_difference_and_grace(time_difference, Duration::ZERO)
    }

    /// Windows of `time_difference` that accept records up to `grace` after
    /// they end.
    pub fn of_time_difference_and_grace(time_difference: Duration, grace: Duration) -> Self {
        Self {
            time_difference_ms: millis(time_difference),
            grace_ms: millis(grace),
        }
    }

    /// The largest time difference between two records of one window, in
    /// milliseconds.
    pub fn time_difference_ms(&self) -> i64 {
        self.time_difference_ms
    }

    /// The grace period in milliseconds.
    pub fn grace_ms(&self) -> i64 {
        self.grace_ms
    }
}

/// Sessions: per key, records less than an inactivity gap apart share a
/// window `[first timestamp, last timestamp]` (Kafka's `SessionWindows`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionWindows {
    gap_ms: i64,
    grace_ms: i64,
}

impl SessionWindows {
    /// Sessions closed by `gap` of inactivity, accepting no late records.
    pub fn of_inactivity_gap_with_no_grace(gap: Duration) -> Result<Self, WindowsError> {
        Self::of_inactivity_gap_and_grace(gap, Duration::ZERO)
    }

    /// Sessions closed by `gap` of inactivity, accepting records up to
    /// `grace` after the session closed.
    pub fn of_inactivity_gap_and_grace(
        gap: Duration,
        grace: Duration,
    ) -> Result<Self, WindowsError> {
        let gap_ms = millis(gap);
        if gap_ms <= 0 {
            return Err(WindowsError::ZeroGap);
        }
        Ok(Self {
            gap_ms,
            grace_ms: millis(grace),
        })
    }

    /// The inactivity gap in milliseconds.
    pub fn inactivity_gap_ms(&self) -> i64 {
        self.gap_ms
    }

    /// The grace period in milliseconds.
    pub fn grace_ms(&self) -> i64 {
        self.grace_ms
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn starts(windows: &TimeWindows, timestamp: i64) -> Vec<(i64, i64)> {
        windows
            .windows_for(timestamp)
            .iter()
            .map(|w| (w.start, w.end))
            .collect()
    }

    #[test]
    fn tumbling_windows_are_epoch_aligned() -> Result<(), WindowsError> {
        let tumbling = TimeWindows::of_size_with_no_grace(Duration::from_millis(5_000))?;
        assert_eq!(starts(&tumbling, 0), [(0, 5_000)]);
        assert_eq!(starts(&tumbling, 4_999), [(0, 5_000)]);
        assert_eq!(starts(&tumbling, 5_000), [(5_000, 10_000)]);
        Ok(())
    }

    #[test]
    fn hopping_windows_contain_the_record_and_never_start_before_zero() -> Result<(), WindowsError>
    {
        let hopping = TimeWindows::of_size_with_no_grace(Duration::from_millis(5_000))?
            .advance_by(Duration::from_millis(3_000))?;
        assert_eq!(starts(&hopping, 1_000), [(0, 5_000)]);
        assert_eq!(starts(&hopping, 4_999), [(0, 5_000), (3_000, 8_000)]);
        assert_eq!(starts(&hopping, 5_000), [(3_000, 8_000)]);
        assert_eq!(starts(&hopping, 6_000), [(3_000, 8_000), (6_000, 11_000)]);
        Ok(())
    }

    #[test]
    fn invalid_specifications_are_rejected() -> Result<(), WindowsError> {
        assert_eq!(
            TimeWindows::of_size_with_no_grace(Duration::from_micros(900)),
            Err(WindowsError::ZeroSize)
        );
        let size = TimeWindows::of_size_with_no_grace(Duration::from_millis(10))?;
        assert_eq!(
            size.advance_by(Duration::from_millis(11)),
            Err(WindowsError::InvalidAdvance {
                size_ms: 10,
                advance_ms: 11
            })
        );
        assert_eq!(
            SessionWindows::of_inactivity_gap_with_no_grace(Duration::ZERO),
            Err(WindowsError::ZeroGap)
        );
        Ok(())
    }
}
