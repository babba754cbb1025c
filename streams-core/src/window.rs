//! Windows and windowed keys, shared by the window and session store
//! handles and by the DSL's windowed operations.

use std::fmt;

/// A time window: `start` and `end` in milliseconds.
///
/// For a window store's windows `end = start + window size` (exclusive, as
/// Kafka's `TimeWindow`); for a session both bounds are timestamps of
/// records in the session (inclusive, as Kafka's `SessionWindow`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Window {
    /// Start of the window, in milliseconds.
    pub start: i64,
    /// End of the window, in milliseconds.
    pub end: i64,
}

impl Window {
    /// The window from `start` to `end`.
    pub fn new(start: i64, end: i64) -> Self {
        Self { start, end }
    }

    /// The window of `size_ms` starting at `start`; the end saturates
    /// rather than overflowing near `i64::MAX`.
    pub fn of_size(start: i64, size_ms: i64) -> Self {
        Self::new(start, start.saturating_add(size_ms))
    }
}

/// A key together with the window it belongs to.
///
/// Displays as Kafka's `Windowed.toString()`: `[key@start/end]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Windowed<K> {
    /// The record key.
    pub key: K,
    /// The window.
    pub window: Window,
}

impl<K> Windowed<K> {
    /// Pairs `key` with `window`.
    pub fn new(key: K, window: Window) -> Self {
        Self { key, window }
    }
}

impl<K: fmt::Display> fmt::Display for Windowed<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "[{}@{}/{}]",
            self.key, self.window.start, self.window.end
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_as_kafka_does() {
        let windowed = Windowed::new("alice", Window::new(1_000, 6_000));
        assert_eq!(windowed.to_string(), "[alice@1000/6000]");
        assert_eq!(Windowed::new(7, Window::new(-5, 0)).to_string(), "[7@-5/0]");
    }

    #[test]
    fn sized_windows_saturate_at_the_end_of_time() {
        assert_eq!(Window::of_size(10, 5), Window::new(10, 15));
        assert_eq!(Window::of_size(i64::MAX - 1, 5).end, i64::MAX);
    }

    #[test]
    fn windowed_keys_order_by_key_then_window() {
        let mut keys = [
            Windowed::new("b", Window::new(0, 5)),
            Windowed::new("a", Window::new(5, 10)),
            Windowed::new("a", Window::new(0, 5)),
        ];
        keys.sort();
        let shown: Vec<String> = keys.iter().map(ToString::to_string).collect();
        assert_eq!(shown, ["[a@0/5]", "[a@5/10]", "[b@0/5]"]);
    }
}
