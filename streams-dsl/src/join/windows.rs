//! `JoinWindows`: which records of two streams are close enough in time to
//! join.

use std::time::Duration;

use crate::windows::{millis, WindowsError};

/// The time predicate of a stream-stream join: a record of the left stream
/// at `t` joins the right records with timestamps in
/// `[t - before, t + after]`, and records arriving up to `grace` after
/// their window closed are still joined.
///
/// Built with [`of_time_difference_with_no_grace`](Self::of_time_difference_with_no_grace)
/// or [`of_time_difference_and_grace`](Self::of_time_difference_and_grace),
/// which make the window symmetric; [`before`](Self::before) and
/// [`after`](Self::after) then move one end. As with Kafka Streams'
/// non-deprecated factories, left and outer joins emit a record without a
/// match only once its window has closed, never eagerly.
///
/// ```
/// use std::time::Duration;
/// use streams_dsl::JoinWindows;
///
/// let windows = JoinWindows::of_time_difference_and_grace(
///     Duration::from_secs(10),
///     Duration::from_secs(1),
/// )
/// .after(Duration::from_secs(2));
/// assert_eq!((windows.before_ms(), windows.after_ms()), (10_000, 2_000));
/// assert_eq!(windows.size_ms(), 12_000);
/// assert_eq!(windows.grace_ms(), 1_000);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JoinWindows {
    before_ms: i64,
    after_ms: i64,
    grace_ms: i64,
}

impl JoinWindows {
    /// Records join when their timestamps differ by at most
    /// `time_difference`; records out of order by more are not joined.
    pub fn of_time_difference_with_no_grace(time_difference: Duration) -> Self {
        Self::of_time_difference_and_grace(time_difference, Duration::ZERO)
    }

    /// Records join when their timestamps differ by at most
    /// `time_difference`; records out of order are joined until `grace`
    /// after their window closed.
    pub fn of_time_difference_and_grace(time_difference: Duration, grace: Duration) -> Self {
        let difference = millis(time_difference);
        Self {
            before_ms: difference,
            after_ms: difference,
            grace_ms: millis(grace),
        }
    }

    /// Right records up to `time_difference` before a left record join it.
    pub fn before(self, time_difference: Duration) -> Self {
        Self {
            before_ms: millis(time_difference),
            ..self
        }
    }

    /// Right records up to `time_difference` after a left record join it.
    pub fn after(self, time_difference: Duration) -> Self {
        Self {
            after_ms: millis(time_difference),
            ..self
        }
    }

    /// Puts the window's ends `before_ms` before and `after_ms` after a
    /// left record. Unlike [`before`](Self::before) and
    /// [`after`](Self::after), an end may be negative, so that the window
    /// lies wholly after (or wholly before) the left record, as Kafka
    /// Streams' `before` and `after` allow with negative durations; the
    /// window itself may not be negative.
    ///
    /// ```
    /// use std::time::Duration;
    /// use streams_dsl::JoinWindows;
    ///
    /// // Right records 5 to 10 ms after a left record join it.
    /// let later = JoinWindows::of_time_difference_with_no_grace(Duration::from_millis(10))
    ///     .with_ends_ms(-5, 10)?;
    /// assert_eq!(later.size_ms(), 5);
    /// assert!(later.with_ends_ms(-10, 5).is_err());
    /// # Ok::<(), streams_dsl::WindowsError>(())
    /// ```
    pub fn with_ends_ms(self, before_ms: i64, after_ms: i64) -> Result<Self, WindowsError> {
        match before_ms.checked_add(after_ms) {
            Some(size) if size >= 0 => Ok(Self {
                before_ms,
                after_ms,
                ..self
            }),
            _ => Err(WindowsError::NegativeJoinWindow {
                before_ms,
                after_ms,
            }),
        }
    }

    /// How far before a left record its window reaches, in milliseconds.
    pub fn before_ms(&self) -> i64 {
        self.before_ms
    }

    /// How far after a left record its window reaches, in milliseconds.
    pub fn after_ms(&self) -> i64 {
        self.after_ms
    }

    /// The grace period, in milliseconds.
    pub fn grace_ms(&self) -> i64 {
        self.grace_ms
    }

    /// The window's length, `before + after`, in milliseconds: the window
    /// size of the join's stores.
    pub fn size_ms(&self) -> i64 {
        self.before_ms.saturating_add(self.after_ms)
    }

    /// How long the join's stores keep a record: `size + grace`.
    pub(crate) fn retention_ms(&self) -> i64 {
        self.size_ms().saturating_add(self.grace_ms)
    }
}
