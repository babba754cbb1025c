//! When a windowed aggregation emits its results (Kafka's `EmitStrategy`).

/// When a windowed aggregation sends its results downstream (Kafka's
/// `EmitStrategy`, KIP-825).
///
/// - [`OnWindowUpdate`](Self::OnWindowUpdate), the default: every update of
///   a window's aggregate goes downstream (through the store's cache, if it
///   has one).
/// - [`OnWindowClose`](Self::OnWindowClose): nothing goes downstream while a
///   window is open; once stream time passes its end plus the grace period,
///   its final aggregate is emitted once, with no old value. Windows come
///   out in the order they closed: time windows by start, then key; sessions
///   by end, then start, then key. The aggregation looks for closed windows
///   when a record reaches it, at most once per
///   `EmitIntervals::windowed_aggregation` of wall-clock time (1 second by
///   default; the test driver looks at every record).
///
/// Unlike `suppress(Suppressed::until_window_closes(..))`, final results
/// need no buffer: they are read back from the aggregation's own store.
/// The store therefore has no cache, whatever `Materialized` asks for. For
/// time windows Kafka keeps one: it writes the changelog less often, and
/// joins and queries reading the table may still find windows there that
/// the store behind it has expired.
///
/// Kafka's time-ordered window store can hide a window from this read in
/// the very step that closes it, when the same record moves the window out
/// of the store's retention (its own integration tests expect that gap).
/// Here each step reads the closed windows before the record is written
/// (sessions are forwarded after it, as in Kafka, leaving out a closed
/// session the record merged into an open one), and sessions are read from
/// every segment the store still holds, so
/// when the aggregation looks at every record (as the test driver does),
/// every closed window is emitted. With a throttle (a live application's
/// default), a window that closes and leaves the store's retention
/// between two looks is still missed, as in Kafka: give the store a
/// retention longer than the windows' size and grace
/// (`Materialized::with_retention`) if stream time can jump that far.
///
/// Each look reads the store's segments that the closed windows fall in
/// (at least a minute of windows, all keys); Kafka's time-ordered layout
/// reads only the closed windows.
///
/// ```
/// use std::sync::Arc;
/// use std::time::Duration;
/// use streams_core::serde::{I64Serde, OptionSerde, StringSerde};
/// use streams_core::test_driver::TopologyTestDriver;
/// use streams_dsl::{EmitStrategy, Produced, StreamsBuilder, TimeWindows, WindowedSerde};
///
/// let windowed = Arc::new(WindowedSerde::time_windowed(Arc::new(StringSerde), 10));
/// let counts = Arc::new(OptionSerde::new(Arc::new(I64Serde)));
/// let builder = StreamsBuilder::new();
/// builder
///     .stream::<String, String>("clicks")
///     .group_by_key()
///     .windowed_by(TimeWindows::of_size_with_no_grace(Duration::from_millis(10))?)
///     .emit_strategy(EmitStrategy::OnWindowClose)
///     .count()
///     .to_stream()
///     .to_with("counts", Produced::with(windowed.clone(), counts.clone()));
/// let driver = TopologyTestDriver::new(&builder.build()?)?;
/// let clicks = driver.create_input_topic("clicks", StringSerde, StringSerde);
/// let output = driver.create_output_topic("counts", windowed, counts);
/// clicks.pipe_input_at("a".to_owned(), "x".to_owned(), 1)?;
/// clicks.pipe_input_at("a".to_owned(), "x".to_owned(), 5)?;
/// assert!(output.is_empty()); // [0, 10) is still open
/// clicks.pipe_input_at("a".to_owned(), "x".to_owned(), 12)?;
/// let final_count = output.read_record()?;
/// assert_eq!(final_count.key.window.start, 0);
/// assert_eq!((final_count.value, final_count.timestamp), (Some(2), 5));
/// assert!(output.is_empty());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum EmitStrategy {
    /// Emit every update of a window.
    #[default]
    OnWindowUpdate,
    /// Emit each window's final result once, when it closes.
    OnWindowClose,
}
