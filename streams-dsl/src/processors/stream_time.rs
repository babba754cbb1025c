//! Stream time as one processor observes it.

/// Stream time as a windowed processor sees it: the largest timestamp it
/// has processed, which decides which windows have closed. It is kept per
/// processor, as Kafka Streams does, not per task.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ObservedStreamTime(i64);

impl Default for ObservedStreamTime {
    fn default() -> Self {
        // Kafka's `ConsumerRecord.NO_TIMESTAMP`.
        Self(-1)
    }
}

impl ObservedStreamTime {
    /// Advances to `timestamp` if it is later, and returns the time.
    pub(crate) fn observe(&mut self, timestamp: i64) -> i64 {
        self.0 = self.0.max(timestamp);
        self.0
    }
}
