//! How often operators whose results wait for stream time look for them.

use std::time::Duration;

/// The least wall-clock time between two looks of an operator for results
/// that became due as stream time passed (Kafka Streams' internal emit
/// intervals). Looking means scanning a store, so a live application looks
/// at most once per interval (1 second each, Kafka's defaults) instead of
/// at every record; results then come out up to one interval later.
/// [`EmitIntervals::EVERY_RECORD`] looks at every record, as the test
/// driver does (and Kafka's).
///
/// ```
/// use std::time::Duration;
/// use streams_core::engine::EmitIntervals;
///
/// let defaults = EmitIntervals::default();
/// assert_eq!(defaults.windowed_aggregation, Duration::from_secs(1));
/// assert_eq!(EmitIntervals::EVERY_RECORD.outer_join, Duration::ZERO);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EmitIntervals {
    /// Windowed aggregations that emit each window's final result when it
    /// closes (`EmitStrategy::OnWindowClose` in the DSL): Kafka's
    /// `__emit.interval.ms.kstreams.windowed.aggregation__`.
    pub windowed_aggregation: Duration,
    /// Left and outer stream-stream joins emitting the records that found
    /// no match once their window closed: Kafka's
    /// `__emit.interval.ms.kstreams.outer.join.spurious.results.fix__`.
    pub outer_join: Duration,
}

impl EmitIntervals {
    /// Look at every record.
    pub const EVERY_RECORD: Self = Self {
        windowed_aggregation: Duration::ZERO,
        outer_join: Duration::ZERO,
    };
}

/// Kafka Streams' defaults: 1 second each.
impl Default for EmitIntervals {
    fn default() -> Self {
        Self {
            windowed_aggregation: Duration::from_secs(1),
            outer_join: Duration::from_secs(1),
        }
    }
}
