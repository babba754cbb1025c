//! Ports of Kafka Streams' unit tests of `EmitStrategy.onWindowClose()`
//! (KIP-825): the emit-final cases of `KStreamWindowAggregateTest`,
//! `KStreamSlidingWindowAggregateTest`,
//! `KStreamSessionWindowAggregateProcessorTest`, `TimeWindowedKStreamImplTest`
//! and `SessionWindowedKStreamImplTest`, plus the emit-final examples of
//! `TimeWindowedKStreamIntegrationTest` and
//! `SlidingWindowedKStreamIntegrationTest` run on the test driver.
//!
//! Each test compares the whole output sequence (keys with their window
//! bounds, values, timestamps, in order). Where Kafka's test only compares
//! a set or a map, the sequence asserted here is the one the emission rules
//! give: within one emission, time and sliding windows come by window
//! start, then key bytes; sessions by end, then start, then key bytes; and
//! emissions follow one another as the records that trigger them. Each such
//! sequence holds exactly the windows of Kafka's set unless the doc comment
//! says otherwise. Windowed keys are written as `[key@start/end]`, as
//! Kafka's `Windowed::toString`.
//!
//! Kafka's tests run each case with caching on and off. An aggregation that
//! emits on window close keeps no cache here (Kafka keeps one for time
//! windows only, and it forwards nothing), so both variants must give the
//! same output; the tests run both and compare each.

mod support;
use support::Result;

use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use streams_core::engine::{Clock, MockClock, StreamTask, TaskConfig};
use streams_core::prelude::*;
use streams_core::record::{ConsumerRecord, TopicName};
use streams_core::serde::SharedSerde;
use streams_core::state::{SessionStore, ValueAndTimestamp, WindowStore};
use streams_core::{Window, Windowed};
use streams_dsl::{
    EmitStrategy, KTable, Materialized, SessionWindowedKStream, SessionWindows, SlidingWindows,
    StreamsBuilder, TimeWindowedKStream, TimeWindows,
};

fn ms(millis: u64) -> Duration {
    Duration::from_millis(millis)
}

/// Kafka's `EmitStrategy.onWindowClose()`.
const CLOSE: EmitStrategy = EmitStrategy::OnWindowClose;

/// Kafka's default `statestore.cache.max.bytes` (10 MiB).
const CACHE_BYTES: usize = 10 * 1024 * 1024;

/// Whether a store caches, as Kafka's `withCachingEnabled()` /
/// `withCachingDisabled()`.
#[derive(Clone, Copy, Debug)]
enum Cache {
    Off,
    On,
}

/// Both variants of Kafka's `withCache` parameter.
const CACHES: [Cache; 2] = [Cache::Off, Cache::On];

fn cached<K, V>(materialized: Materialized<K, V>, cache: Cache) -> Materialized<K, V> {
    match cache {
        Cache::Off => materialized,
        Cache::On => materialized.with_caching(CACHE_BYTES),
    }
}

fn strings() -> SharedSerde<String> {
    Arc::new(StringSerde)
}

/// Kafka's `Materialized.as(name).withValueSerde(Serdes.String())`.
fn string_store(name: &str, cache: Cache) -> Materialized<String, String> {
    cached(
        Materialized::with(strings(), strings()).with_name(name),
        cache,
    )
}

/// Kafka's `MockInitializer.STRING_INIT`.
fn zero() -> String {
    "0".to_owned()
}

/// Kafka's `MockAggregator.TOSTRING_ADDER`: `aggregate+value`.
fn add(_: &String, value: String, aggregate: String) -> String {
    format!("{aggregate}+{value}")
}

/// Kafka's `MockReducer.STRING_ADDER`.
fn concat(left: String, right: String) -> String {
    format!("{left}+{right}")
}

/// Kafka's session merger of `SessionWindowedKStreamImplTest`: `left+right`.
fn merge(_: &String, left: String, right: String) -> String {
    format!("{left}+{right}")
}

/// Writes a windowed table's records to `topic` with `[key@start/end]` keys.
fn to_strings<V>(table: &KTable<Windowed<String>, V>, topic: &str)
where
    V: Clone + 'static,
    Option<V>: DefaultSerde,
{
    table
        .to_stream()
        .map(|key, value| (key.to_string(), value))
        .to(topic);
}

/// What a windowed table wrote, keys as `[key@start/end]`.
type Updates<V> = Vec<TestRecord<String, Option<V>>>;

/// `(key, value, timestamp)` of one string record.
type Row<'a> = (&'a str, &'a str, i64);

/// Everything written to `topic` since the last read.
fn read<V: DefaultSerde>(driver: &TopologyTestDriver, topic: &str) -> Result<Updates<V>> {
    let output =
        driver.create_output_topic(topic, StringSerde, OptionSerde::new(V::default_serde()));
    Ok(output.read_records_to_list()?)
}

/// Records with string values (none of them tombstones).
fn updates(rows: &[Row]) -> Updates<String> {
    rows.iter()
        .map(|(k, v, ts)| TestRecord::new(k.to_string(), Some(v.to_string()), *ts))
        .collect()
}

/// Records with counts.
fn count_rows(rows: &[(&str, i64, i64)]) -> Updates<i64> {
    rows.iter()
        .map(|(k, v, ts)| TestRecord::new(k.to_string(), Some(*v), *ts))
        .collect()
}

fn pipe_to(driver: &TopologyTestDriver, topic: &str, records: &[Row]) -> Result {
    let input = driver.create_input_topic(topic, StringSerde, StringSerde);
    for (k, v, ts) in records {
        input.pipe_input_at(k.to_string(), v.to_string(), *ts)?;
    }
    Ok(())
}

fn windowed(key: &str, start: i64, end: i64) -> Windowed<String> {
    Windowed::new(key.to_owned(), Window::new(start, end))
}

/// A task driven record by record, as Kafka's processor-level tests drive
/// a processor with a mock context: its wall clock moves only when the
/// test sets it, and final results are looked for at most once per
/// `interval` of it (Kafka's `EMIT_INTERVAL_MS_KSTREAMS_WINDOWED_AGGREGATION`).
struct Task {
    task: StreamTask,
    clock: Rc<MockClock>,
    offset: i64,
}

impl Task {
    fn new(topology: &Topology, interval: Duration) -> Result<Self> {
        let clock = Rc::new(MockClock::new(0));
        let mut config = TaskConfig::new("app", clock.clone());
        config.emit_intervals.windowed_aggregation = interval;
        Ok(Self {
            task: StreamTask::new(topology, config)?,
            clock,
            offset: 0,
        })
    }

    /// Kafka's `context.setSystemTimeMs(now)` (forward only).
    fn set_system_time(&self, now: i64) {
        self.clock.advance(now - self.clock.now_ms());
    }

    /// Kafka's `processor.process(new Record<>(key, value, timestamp))`,
    /// on the topic "input".
    fn process(&mut self, key: &str, value: &str, timestamp: i64) -> Result {
        self.task.add_records([ConsumerRecord {
            topic: TopicName::new("input"),
            partition: 0,
            offset: self.offset,
            timestamp,
            key: Some(key.as_bytes().to_vec()),
            value: Some(value.as_bytes().to_vec()),
            headers: Headers::new(),
        }])?;
        self.offset += 1;
        while self.task.process()? {}
        Ok(())
    }

    fn process_all(&mut self, records: &[Row]) -> Result {
        for (k, v, ts) in records {
            self.process(k, v, *ts)?;
        }
        Ok(())
    }

    /// What the task wrote to "output" since the last call (Kafka's
    /// captured forwards).
    fn forwarded<V: DefaultSerde>(&mut self) -> Result<Updates<V>> {
        let mut output = Vec::new();
        self.task.take_output(&mut output);
        let values = OptionSerde::new(V::default_serde());
        let mut records = Vec::new();
        for record in output.iter().filter(|record| &*record.topic == "output") {
            let key = StringSerde.deserialize("output", record.key.as_deref())?;
            let value = values.deserialize("output", record.value.as_deref())?;
            records.push(TestRecord::new(key, value, record.timestamp));
        }
        Ok(records)
    }
}

// ---------------------------------------------------------------------------
// KStreamWindowAggregateTest
// ---------------------------------------------------------------------------

/// `topic` aggregated with `STRING_INIT`/`TOSTRING_ADDER` in windows of
/// 10 ms advancing by 5 with `grace_ms`, emitting on window close, into
/// `<topic>-Canonized`.
fn canonized(
    builder: &StreamsBuilder,
    topic: &str,
    grace_ms: u64,
    cache: Cache,
) -> Result<KTable<Windowed<String>, String>> {
    let windows = TimeWindows::of_size_and_grace(ms(10), ms(grace_ms))?.advance_by(ms(5))?;
    Ok(builder
        .stream::<String, String>(topic)
        .group_by_key()
        .windowed_by(windows)
        .emit_strategy(CLOSE)
        .aggregate_with(
            zero,
            add,
            string_store(&format!("{topic}-Canonized"), cache),
        ))
}

/// Kafka's `KStreamWindowAggregateTest.testAggBasic` (ON_WINDOW_CLOSE,
/// caching on and off): with 100 ms of grace no window closes by stream
/// time 14, so nothing is emitted.
#[test]
fn window_aggregate_agg_basic() -> Result {
    for cache in CACHES {
        let builder = StreamsBuilder::new();
        to_strings(&canonized(&builder, "topic1", 100, cache)?, "output");
        let driver = TopologyTestDriver::new(&builder.build()?)?;
        pipe_to(
            &driver,
            "topic1",
            &[
                ("A", "1", 0),
                ("B", "2", 1),
                ("C", "3", 2),
                ("D", "4", 3),
                ("A", "1", 4),
                ("A", "1", 5),
                ("B", "2", 6),
                ("D", "4", 7),
                ("B", "2", 8),
                ("C", "3", 9),
                ("A", "1", 10),
                ("B", "2", 11),
                ("D", "4", 12),
                ("B", "2", 13),
                ("C", "3", 14),
                ("B", "1", 3),
                ("B", "2", 2),
                ("B", "3", 9),
            ],
        )?;
        assert_eq!(
            read::<String>(&driver, "output")?,
            updates(&[]),
            "{cache:?}"
        );
    }
    Ok(())
}

/// Checks what the two aggregations of the join tests and their join wrote
/// since the last check.
fn assert_join_outputs(
    driver: &TopologyTestDriver,
    expected: [&[Row]; 3],
    context: &str,
) -> Result {
    for (topic, rows) in ["table1", "table2", "joined"].into_iter().zip(expected) {
        assert_eq!(
            read::<String>(driver, topic)?,
            updates(rows),
            "{topic} {context}"
        );
    }
    Ok(())
}

/// Kafka's `KStreamWindowAggregateTest.testJoin` (ON_WINDOW_CLOSE, caching
/// on and off): two tables of windows of 10 ms advancing by 5 with 5 ms
/// grace and their join.
///
/// The tables emit what Kafka's tables emit in both cache variants. The
/// join reads the other table's store; a store of final results has no
/// cache here, so the join emits what Kafka's does without caching:
/// - After the third batch, nothing: table1's store expired its `[0,10)`
///   windows (start 0 < 20 - 15). Kafka with caching still finds them in
///   the cache and joins A, B and C.
/// - After the fourth batch, table2's `[5,15)` windows joined with
///   table1's: the time-ordered store keeps a window whose start is
///   exactly the retention (15) behind its latest start (20).
#[test]
fn window_aggregate_join() -> Result {
    for cache in CACHES {
        let context = format!("{cache:?}");
        let builder = StreamsBuilder::new();
        let table1 = canonized(&builder, "topic1", 5, cache)?;
        to_strings(&table1, "table1");
        let table2 = canonized(&builder, "topic2", 5, cache)?;
        to_strings(&table2, "table2");
        to_strings(
            &table1.join(&table2, |p1, p2| format!("{p1}%{p2}")),
            "joined",
        );
        let driver = TopologyTestDriver::new(&builder.build()?)?;

        pipe_to(
            &driver,
            "topic1",
            &[
                ("A", "1", 0),
                ("B", "2", 1),
                ("C", "3", 2),
                ("D", "4", 3),
                ("A", "1", 9),
                ("A", "1", 15),
            ],
        )?;
        // A@15: close time 10, windows starting at 0 closed.
        assert_join_outputs(
            &driver,
            [
                &[
                    ("[A@0/10]", "0+1+1", 9),
                    ("[B@0/10]", "0+2", 1),
                    ("[C@0/10]", "0+3", 2),
                    ("[D@0/10]", "0+4", 3),
                ],
                &[],
                &[],
            ],
            &context,
        )?;

        pipe_to(
            &driver,
            "topic1",
            &[
                ("A", "1", 10),
                ("B", "2", 11),
                ("D", "4", 12),
                ("B", "2", 13),
                ("C", "3", 14),
                ("A", "1", 20),
            ],
        )?;
        // A@20: close time 15, windows starting in [1, 5] closed.
        assert_join_outputs(
            &driver,
            [
                &[
                    ("[A@5/15]", "0+1+1", 10),
                    ("[B@5/15]", "0+2+2", 13),
                    ("[C@5/15]", "0+3", 14),
                    ("[D@5/15]", "0+4", 12),
                ],
                &[],
                &[],
            ],
            &context,
        )?;

        pipe_to(
            &driver,
            "topic2",
            &[
                ("A", "a", 0),
                ("B", "b", 1),
                ("C", "c", 2),
                ("D", "d", 10),
                ("A", "a", 15),
            ],
        )?;
        assert_join_outputs(
            &driver,
            [
                &[],
                &[
                    ("[A@0/10]", "0+a", 0),
                    ("[B@0/10]", "0+b", 1),
                    ("[C@0/10]", "0+c", 2),
                ],
                // Kafka with caching: A, B and C joined (see above).
                &[],
            ],
            &context,
        )?;

        pipe_to(
            &driver,
            "topic2",
            &[
                ("A", "a", 5),
                ("B", "b", 6),
                ("D", "d", 7),
                ("D", "d", 18),
                ("A", "a", 21),
            ],
        )?;
        assert_join_outputs(
            &driver,
            [
                &[],
                &[
                    ("[A@5/15]", "0+a", 5),
                    ("[B@5/15]", "0+b", 6),
                    ("[D@5/15]", "0+d+d", 10),
                ],
                &[
                    ("[A@5/15]", "0+1+1%0+a", 10),
                    ("[B@5/15]", "0+2+2%0+b", 13),
                    ("[D@5/15]", "0+4%0+d+d", 12),
                ],
            ],
            &context,
        )?;
        // A@5, B@6 and D@7 each fell into the closed window [0,10).
        assert_eq!(driver.metrics().dropped_records, 3, "{context}");
    }
    Ok(())
}

/// Kafka's `KStreamWindowAggregateTest.shouldLogAndMeterWhenSkippingNullKey`
/// (ON_WINDOW_CLOSE): the record is dropped (and counted) and nothing is
/// emitted. The log line is not ported.
#[test]
fn window_aggregate_skips_null_key() -> Result {
    let builder = StreamsBuilder::new();
    let windows = TimeWindows::of_size_with_no_grace(ms(10))?.advance_by(ms(5))?;
    builder
        .stream::<Option<String>, String>("topic")
        .group_by_key()
        .windowed_by(windows)
        .emit_strategy(CLOSE)
        .aggregate_with(
            zero,
            |_, value, aggregate| format!("{aggregate}+{value}"),
            Materialized::named("topic1-Canonicalized"),
        )
        .to_stream()
        .map(|key, value| (format!("{:?}", key.key), value))
        .to("output");
    let driver = TopologyTestDriver::new(&builder.build()?)?;
    let input = driver.create_input_topic("topic", OptionSerde::new(strings()), StringSerde);
    input.pipe_input_at(None, "1".to_owned(), 0)?;
    assert_eq!(read::<String>(&driver, "output")?, updates(&[]));
    assert_eq!(driver.metrics().dropped_records, 1);
    Ok(())
}

/// Runs the `k` records of Kafka's expired-window tests through windows of
/// 10 ms with 90 ms grace advancing by `advance_ms`, aggregating with
/// `""` and `+value` and emitting on window close, and returns the output
/// and the dropped count.
fn expired_windows(
    advance_ms: u64,
    retention: Option<Duration>,
    cache: Cache,
    inputs: &[(&str, i64)],
) -> Result<(Updates<String>, u64)> {
    let builder = StreamsBuilder::new();
    let windows = TimeWindows::of_size_and_grace(ms(10), ms(90))?.advance_by(ms(advance_ms))?;
    let mut materialized = string_store("topic1-Canonicalized", cache).with_logging_disabled();
    if let Some(retention) = retention {
        materialized = materialized.with_retention(retention);
    }
    let table = builder
        .stream::<String, String>("topic")
        .group_by_key()
        .windowed_by(windows)
        .emit_strategy(CLOSE)
        .aggregate_with(String::new, add, materialized);
    to_strings(&table, "output");
    let driver = TopologyTestDriver::new(&builder.build()?)?;
    let records: Vec<_> = inputs.iter().map(|(v, ts)| ("k", *v, *ts)).collect();
    pipe_to(&driver, "topic", &records)?;
    Ok((read(&driver, "output")?, driver.metrics().dropped_records))
}

/// Kafka's `KStreamWindowAggregateTest.shouldLogAndMeterWhenSkippingExpiredWindow`
/// (ON_WINDOW_CLOSE, caching on and off): one final result, `[k@5/15]`
/// emitted at `105@105` (close time 15), and 7 drops (records 0 to 6 in the
/// closed window `[0,10)`). Kafka's `window-aggregate-final-emit-total`
/// metric (1.0) and lateness metrics are not ported: this engine has no
/// such metrics.
#[test]
fn window_aggregate_skips_expired_windows() -> Result {
    for cache in CACHES {
        let (output, dropped) = expired_windows(
            5,
            Some(ms(100)),
            cache,
            &[
                ("100", 100),
                ("0", 0),
                ("1", 1),
                ("2", 2),
                ("3", 3),
                ("4", 4),
                ("5", 5),
                ("6", 6),
                ("105", 105),
                ("106", 106),
            ],
        )?;
        assert_eq!(output, updates(&[("[k@5/15]", "+5+6", 6)]), "{cache:?}");
        assert_eq!(dropped, 7, "{cache:?}");
    }
    Ok(())
}

/// Kafka's `KStreamWindowAggregateTest.shouldLogAndMeterWhenSkippingExpiredWindowByGrace`
/// (ON_WINDOW_CLOSE, caching on and off): 7 drops. Kafka asserts the
/// output only in update mode; on window close nothing is emitted (the
/// close time stays 110 after the first record, when the store was still
/// empty).
#[test]
fn window_aggregate_skips_windows_expired_by_grace() -> Result {
    for cache in CACHES {
        let (output, dropped) = expired_windows(
            10,
            None,
            cache,
            &[
                ("100", 200),
                ("0", 100),
                ("1", 101),
                ("2", 102),
                ("3", 103),
                ("4", 104),
                ("5", 105),
                ("6", 6),
            ],
        )?;
        assert_eq!(output, updates(&[]), "{cache:?}");
        assert_eq!(dropped, 7, "{cache:?}");
    }
    Ok(())
}

/// The setup of `KStreamWindowAggregateTest`'s processor-level emit tests:
/// "input" aggregated with `STRING_INIT`/`TOSTRING_ADDER` in windows of
/// 10 ms advancing by 5 with 5 ms grace, emitting on window close, into an
/// uncached store kept one day, written to "output".
fn hopping_with_grace() -> Result<Topology> {
    let builder = StreamsBuilder::new();
    let windows = TimeWindows::of_size_and_grace(ms(10), ms(5))?.advance_by(ms(5))?;
    let store = string_store("dummy-store-name", Cache::Off)
        .with_retention(Duration::from_secs(24 * 60 * 60))
        .with_logging_disabled();
    let table = builder
        .stream::<String, String>("input")
        .group_by_key()
        .windowed_by(windows)
        .emit_strategy(CLOSE)
        .aggregate_with(zero, add, store);
    to_strings(&table, "output");
    Ok(builder.build()?)
}

/// Kafka's `KStreamWindowAggregateTest.shouldNotEmitFinalIfNotProgressEnough`
/// (ON_WINDOW_CLOSE, emit interval 0): C@15 closes the windows starting at
/// 0; D@15 does not move the close time; E@19 moves it to 14, but no
/// window start lies in the new range [1, 4].
#[test]
fn window_aggregate_does_not_emit_final_without_progress() -> Result {
    let mut task = Task::new(&hopping_with_grace()?, Duration::ZERO)?;
    task.process_all(&[("A", "1", 0), ("B", "2", 5), ("C", "3", 15)])?;
    assert_eq!(
        task.forwarded::<String>()?,
        updates(&[("[A@0/10]", "0+1", 0), ("[B@0/10]", "0+2", 5)])
    );
    task.process("D", "4", 15)?;
    assert_eq!(task.forwarded::<String>()?, updates(&[]));
    task.process("E", "5", 19)?;
    assert_eq!(task.forwarded::<String>()?, updates(&[]));
    Ok(())
}

/// Kafka's `KStreamWindowAggregateTest.shouldEmitWithInterval0`
/// (ON_WINDOW_CLOSE): `[0,10)` closes at C@15 (range [0, 0]), the windows
/// starting at 5 at D@20 (range [1, 5]).
#[test]
fn window_aggregate_emits_with_interval_0() -> Result {
    let mut task = Task::new(&hopping_with_grace()?, Duration::ZERO)?;
    task.process_all(&[
        ("A", "1", 0),
        ("A", "1", 5),
        ("B", "2", 10),
        ("C", "3", 15),
        ("D", "4", 20),
    ])?;
    assert_eq!(
        task.forwarded::<String>()?,
        updates(&[
            ("[A@0/10]", "0+1+1", 5),
            ("[A@5/15]", "0+1", 5),
            ("[B@5/15]", "0+2", 10),
        ])
    );
    Ok(())
}

/// Kafka's `KStreamWindowAggregateTest.shouldEmitWithLargeInterval`
/// (ON_WINDOW_CLOSE, emit interval 1 s, wall clock set by the test): at
/// wall-clock 0 the first record uses up the interval (no window closed
/// yet) and the next three are throttled; at 10 000 D@20 emits every
/// window closed by then; at 10 100 E@40 is throttled again.
#[test]
fn window_aggregate_emits_with_large_interval() -> Result {
    let mut task = Task::new(&hopping_with_grace()?, Duration::from_millis(1000))?;
    task.set_system_time(0);
    task.process_all(&[("A", "1", 0), ("A", "1", 5), ("B", "2", 10), ("C", "3", 15)])?;
    assert_eq!(task.forwarded::<String>()?, updates(&[]));
    task.set_system_time(10_000);
    task.process("D", "4", 20)?;
    assert_eq!(
        task.forwarded::<String>()?,
        updates(&[
            ("[A@0/10]", "0+1+1", 5),
            ("[A@5/15]", "0+1", 5),
            ("[B@5/15]", "0+2", 10),
        ])
    );
    task.set_system_time(10_100);
    task.process("E", "5", 40)?;
    assert_eq!(task.forwarded::<String>()?, updates(&[]));
    Ok(())
}

// ---------------------------------------------------------------------------
// KStreamSlidingWindowAggregateTest
// ---------------------------------------------------------------------------

fn sliding(time_difference: u64, grace: u64) -> SlidingWindows {
    SlidingWindows::of_time_difference_and_grace(ms(time_difference), ms(grace))
}

/// Groups the string stream "input" by key, windows it by `windows`
/// emitting on window close, aggregates it with `aggregate`, pipes `input`
/// and returns the table's output, with the driver for further checks.
fn run_sliding(
    windows: SlidingWindows,
    aggregate: impl FnOnce(TimeWindowedKStream<String, String>) -> KTable<Windowed<String>, String>,
    input: &[Row],
) -> Result<(Updates<String>, TopologyTestDriver)> {
    let builder = StreamsBuilder::new();
    let windowed = builder
        .stream::<String, String>("input")
        .group_by_key()
        .windowed_by(windows)
        .emit_strategy(CLOSE);
    to_strings(&aggregate(windowed), "output");
    let driver = TopologyTestDriver::new(&builder.build()?)?;
    pipe_to(&driver, "input", input)?;
    Ok((read(&driver, "output")?, driver))
}

/// Kafka's `"0" + values` aggregation over `windows` into "store-name",
/// cached or not (Kafka disables the cache of sliding windows that emit
/// on close).
fn aggregate_sliding(
    windows: SlidingWindows,
    cache: Cache,
    input: &[Row],
) -> Result<Updates<String>> {
    let (output, _) = run_sliding(
        windows,
        |windowed| windowed.aggregate_with(zero, add, string_store("store-name", cache)),
        input,
    )?;
    Ok(output)
}

/// Asserts that `input` aggregated by [`aggregate_sliding`] emits
/// `expected`, with caching on and off.
fn assert_sliding_final(windows: SlidingWindows, input: &[Row], expected: &[Row]) -> Result {
    for cache in CACHES {
        assert_eq!(
            aggregate_sliding(windows, cache, input)?,
            updates(expected),
            "{cache:?}"
        );
    }
    Ok(())
}

/// Kafka's `KStreamSlidingWindowAggregateTest.testAggregateSmallInput`
/// (ON_WINDOW_CLOSE): time difference 10, grace 5. Kafka compares a map
/// by window start; the emissions come at A@20 (starts 0 and 4), A@22
/// (5) and A@30 (10, 11, 12).
#[test]
fn sliding_aggregate_small_input() -> Result {
    assert_sliding_final(
        sliding(10, 5),
        &[
            ("A", "1", 10),
            ("A", "2", 10),
            ("A", "3", 14),
            ("A", "4", 15),
            ("A", "5", 20),
            ("A", "6", 22),
            ("A", "7", 30),
        ],
        &[
            ("[A@0/10]", "0+1+2", 10),
            ("[A@4/14]", "0+1+2+3", 14),
            ("[A@5/15]", "0+1+2+3+4", 15),
            ("[A@10/20]", "0+1+2+3+4+5", 20),
            ("[A@11/21]", "0+3+4+5", 20),
            ("[A@12/22]", "0+3+4+5+6", 22),
        ],
    )
}

/// Kafka's `KStreamSlidingWindowAggregateTest.testReduceSmallInput`
/// (ON_WINDOW_CLOSE): time difference 10, grace 5. Emissions at A@22
/// (starts 0, 4, 5), none at A@26 (range [7, 10] is empty) and at A@30
/// (11, 12).
#[test]
fn sliding_reduce_small_input() -> Result {
    for cache in CACHES {
        let (output, _) = run_sliding(
            sliding(10, 5),
            |windowed| windowed.reduce_with(concat, string_store("store-name", cache)),
            &[
                ("A", "1", 10),
                ("A", "2", 14),
                ("A", "3", 15),
                ("A", "4", 22),
                ("A", "5", 26),
                ("A", "6", 30),
            ],
        )?;
        assert_eq!(
            output,
            updates(&[
                ("[A@0/10]", "1", 10),
                ("[A@4/14]", "1+2", 14),
                ("[A@5/15]", "1+2+3", 15),
                ("[A@11/21]", "2+3", 15),
                ("[A@12/22]", "2+3+4", 22),
            ]),
            "{cache:?}"
        );
    }
    Ok(())
}

/// Kafka's `KStreamSlidingWindowAggregateTest.testAggregateLargeInput`
/// (ON_WINDOW_CLOSE): time difference 10, grace 10. Kafka sorts the output
/// by key and start; emitted, it comes at A3@22 (A[0,10]), at B5@25
/// (B[2,12], B[3,13]) and at D3@29 (range [5, 8]: A[5,15], C[5,15],
/// C[6,16], B[8,18]). C1@11, D4@11 and D2@12 only have windows that closed
/// already, so C's first window holds C2 alone and D has none.
#[test]
fn sliding_aggregate_large_input() -> Result {
    assert_sliding_final(
        sliding(10, 10),
        &[
            ("A", "1", 10),
            ("A", "2", 20),
            ("A", "3", 22),
            ("A", "4", 15),
            ("B", "1", 12),
            ("B", "2", 13),
            ("B", "3", 18),
            ("B", "4", 19),
            ("B", "5", 25),
            ("B", "6", 14),
            ("C", "1", 11),
            ("C", "2", 15),
            ("C", "3", 16),
            ("C", "4", 21),
            ("C", "5", 23),
            ("D", "4", 11),
            ("D", "2", 12),
            ("D", "3", 29),
            ("D", "5", 16),
        ],
        &[
            ("[A@0/10]", "0+1", 10),
            ("[B@2/12]", "0+1", 12),
            ("[B@3/13]", "0+1+2", 13),
            ("[A@5/15]", "0+1+4", 15),
            ("[C@5/15]", "0+2", 15),
            ("[C@6/16]", "0+2+3", 16),
            ("[B@8/18]", "0+1+2+3+6", 18),
        ],
    )
}

/// Kafka's `KStreamSlidingWindowAggregateTest.testJoin` (ON_WINDOW_CLOSE):
/// two sliding aggregations (time difference 10, no grace) and their join,
/// checked after each batch; Kafka asserts these ordered lists.
#[test]
fn sliding_join() -> Result {
    let builder = StreamsBuilder::new();
    let aggregate = |topic: &str, store: &str| {
        builder
            .stream::<String, String>(topic)
            .group_by_key()
            .windowed_by(sliding(10, 0))
            .emit_strategy(CLOSE)
            .aggregate_with(zero, add, string_store(store, Cache::Off))
    };
    let (table1, table2) = (
        aggregate("topic1", "store-name1"),
        aggregate("topic2", "store-name2"),
    );
    to_strings(&table1, "table1");
    to_strings(&table2, "table2");
    to_strings(&table1.join(&table2, |l, r| format!("{l}%{r}")), "joined");
    let driver = TopologyTestDriver::new(&builder.build()?)?;

    pipe_to(
        &driver,
        "topic1",
        &[("A", "1", 10), ("B", "2", 11), ("C", "3", 12)],
    )?;
    assert_join_outputs(
        &driver,
        [
            &[("[A@0/10]", "0+1", 10), ("[B@1/11]", "0+2", 11)],
            &[],
            &[],
        ],
        "1",
    )?;
    pipe_to(
        &driver,
        "topic1",
        &[("A", "1", 15), ("B", "2", 16), ("C", "3", 19)],
    )?;
    assert_join_outputs(
        &driver,
        [
            &[
                ("[C@2/12]", "0+3", 12),
                ("[A@5/15]", "0+1+1", 15),
                ("[B@6/16]", "0+2+2", 16),
            ],
            &[],
            &[],
        ],
        "2",
    )?;
    pipe_to(&driver, "topic2", &[("A", "a", 10), ("C", "c", 12)])?;
    assert_join_outputs(
        &driver,
        [
            &[],
            &[("[A@0/10]", "0+a", 10)],
            &[("[A@0/10]", "0+1%0+a", 10)],
        ],
        "3",
    )?;
    pipe_to(
        &driver,
        "topic2",
        &[("A", "a", 15), ("B", "b", 16), ("C", "c", 17)],
    )?;
    assert_join_outputs(
        &driver,
        [
            &[],
            &[
                ("[C@2/12]", "0+c", 12),
                ("[A@5/15]", "0+a+a", 15),
                ("[B@6/16]", "0+b", 16),
            ],
            &[
                ("[C@2/12]", "0+3%0+c", 12),
                ("[A@5/15]", "0+1+1%0+a+a", 15),
                ("[B@6/16]", "0+2+2%0+b", 16),
            ],
        ],
        "4",
    )
}

/// Kafka's `KStreamSlidingWindowAggregateTest.testEarlyRecordsSmallInput`
/// (ON_WINDOW_CLOSE): time difference 50, no grace. Records before 50
/// never trigger an emission, so everything comes at A@70 (range [0, 19]),
/// by start.
#[test]
fn sliding_early_records_small_input() -> Result {
    assert_sliding_final(
        sliding(50, 0),
        &[
            ("A", "1", 0),
            ("A", "2", 5),
            ("A", "3", 6),
            ("A", "4", 3),
            ("A", "5", 13),
            ("A", "6", 10),
            ("A", "7", 70),
        ],
        &early_small_input_final(),
    )
}

/// What `testEarlyRecordsSmallInput` and `testEarlyNoGracePeriodSmallInput`
/// emit at their last record.
fn early_small_input_final() -> [Row<'static>; 6] {
    [
        ("[A@0/50]", "0+1+2+3+4+5+6", 13),
        ("[A@1/51]", "0+2+3+4+5+6", 13),
        ("[A@4/54]", "0+2+3+5+6", 13),
        ("[A@6/56]", "0+3+5+6", 13),
        ("[A@7/57]", "0+5+6", 13),
        ("[A@11/61]", "0+5", 13),
    ]
}

/// Kafka's `KStreamSlidingWindowAggregateTest.testEarlyRecordsRepeatedInput`
/// (ON_WINDOW_CLOSE): time difference 5, no grace; both windows come at
/// A8@7 (range [0, 1]).
#[test]
fn sliding_early_records_repeated_input() -> Result {
    assert_sliding_final(
        sliding(5, 0),
        &[
            ("A", "1", 0),
            ("A", "2", 2),
            ("A", "3", 4),
            ("A", "4", 0),
            ("A", "5", 2),
            ("A", "6", 2),
            ("A", "7", 0),
            ("A", "8", 7),
        ],
        &[
            ("[A@0/5]", "0+1+2+3+4+5+6+7", 4),
            ("[A@1/6]", "0+2+3+5+6", 4),
        ],
    )
}

/// The input of Kafka's `testEarlyRecordsLargeInput` and
/// `testEarlyNoGracePeriodLargeInput`, shifted by `offset` ms for
/// `testNoGracePeriodLargeInput`.
fn large_input_e(offset: i64) -> Vec<Row<'static>> {
    [
        ("1", 0),
        ("3", 5),
        ("4", 6),
        ("2", 3),
        ("6", 13),
        ("5", 10),
        ("7", 4),
        ("8", 2),
        ("9", 15),
    ]
    .into_iter()
    .map(|(v, ts)| ("E", v, ts + offset))
    .collect()
}

/// Kafka's `KStreamSlidingWindowAggregateTest.testEarlyRecordsLargeInput`
/// (ON_WINDOW_CLOSE): time difference 10, grace 1. Kafka sorts by start;
/// `[0,10]` and `[1,11]` come at E@13 (range [0, 1]), `[3,13]` at E@15
/// (range [2, 3]). E5@10, E7@4 and E8@2 fall into the closed `[0,10]` and
/// `[1,11]` as well and are dropped there.
#[test]
fn sliding_early_records_large_input() -> Result {
    assert_sliding_final(
        sliding(10, 1),
        &large_input_e(0),
        &[
            ("[E@0/10]", "0+1+3+4+2", 6),
            ("[E@1/11]", "0+3+4+2", 6),
            ("[E@3/13]", "0+3+4+2+6+5+7", 13),
        ],
    )
}

/// Kafka's `KStreamSlidingWindowAggregateTest.testEarlyNoGracePeriodSmallInput`
/// (ON_WINDOW_CLOSE): time difference 50, no grace; the same windows as
/// `testEarlyRecordsSmallInput`, all at the last record.
#[test]
fn sliding_early_no_grace_period_small_input() -> Result {
    let windows = SlidingWindows::of_time_difference_with_no_grace(ms(50));
    assert_sliding_final(
        windows,
        &[
            ("A", "1", 0),
            ("A", "2", 5),
            ("A", "3", 6),
            ("A", "4", 3),
            ("A", "5", 13),
            ("A", "6", 10),
            ("A", "6", 70),
        ],
        &early_small_input_final(),
    )
}

/// Kafka's `KStreamSlidingWindowAggregateTest.testNoGracePeriodSmallInput`
/// (ON_WINDOW_CLOSE): time difference 50, no grace; the windows come at
/// A@105, A@106 and A@113 one by one.
#[test]
fn sliding_no_grace_period_small_input() -> Result {
    let windows = SlidingWindows::of_time_difference_with_no_grace(ms(50));
    assert_sliding_final(
        windows,
        &[
            ("A", "1", 100),
            ("A", "2", 105),
            ("A", "3", 106),
            ("A", "4", 103),
            ("A", "5", 113),
            ("A", "6", 110),
        ],
        &[
            ("[A@50/100]", "0+1", 100),
            ("[A@55/105]", "0+1+2", 105),
            ("[A@56/106]", "0+1+2+3+4", 106),
        ],
    )
}

/// Kafka's `KStreamSlidingWindowAggregateTest.testEarlyNoGracePeriodLargeInput`
/// (ON_WINDOW_CLOSE): time difference 10, no grace. Kafka sorts by start;
/// `[0,10]`, `[1,11]` come at E@13, `[3,13]`, `[4,14]` at E@15.
#[test]
fn sliding_early_no_grace_period_large_input() -> Result {
    let windows = SlidingWindows::of_time_difference_with_no_grace(ms(10));
    assert_sliding_final(
        windows,
        &large_input_e(0),
        &[
            ("[E@0/10]", "0+1+3+4+2", 6),
            ("[E@1/11]", "0+3+4+2", 6),
            ("[E@3/13]", "0+3+4+2+6+5+7", 13),
            ("[E@4/14]", "0+3+4+6+5+7", 13),
        ],
    )
}

/// Kafka's `KStreamSlidingWindowAggregateTest.testNoGracePeriodLargeInput`
/// (ON_WINDOW_CLOSE): time difference 10, no grace. Kafka sorts by start;
/// the emissions come at E@105 (90), E@106 (95), E@113 (96, 101) and E@115
/// (103, 104).
#[test]
fn sliding_no_grace_period_large_input() -> Result {
    let windows = SlidingWindows::of_time_difference_with_no_grace(ms(10));
    assert_sliding_final(
        windows,
        &large_input_e(100),
        &[
            ("[E@90/100]", "0+1", 100),
            ("[E@95/105]", "0+1+3", 105),
            ("[E@96/106]", "0+1+3+4+2", 106),
            ("[E@101/111]", "0+3+4+2", 106),
            ("[E@103/113]", "0+3+4+2+6+5+7", 113),
            ("[E@104/114]", "0+3+4+6+5+7", 113),
        ],
    )
}

/// Kafka's `KStreamSlidingWindowAggregateTest.shouldLogAndMeterWhenSkippingNullKey`
/// (ON_WINDOW_CLOSE): the record with a null key is dropped (and counted);
/// the log line is not ported.
#[test]
fn sliding_skips_null_key() -> Result {
    let builder = StreamsBuilder::new();
    builder
        .stream::<Option<String>, String>("input")
        .group_by_key()
        .windowed_by(sliding(10, 100))
        .emit_strategy(CLOSE)
        .aggregate(zero, |_, v, agg: String| format!("{agg}+{v}"))
        .to_stream()
        .map(|k, v| (format!("{:?}@{}", k.key, k.window.start), v))
        .to("output");
    let driver = TopologyTestDriver::new(&builder.build()?)?;
    let input = driver.create_input_topic("input", OptionSerde::new(strings()), StringSerde);
    input.pipe_input_at(None, "1".to_owned(), 0)?;
    assert_eq!(read::<String>(&driver, "output")?, updates(&[]));
    assert_eq!(driver.metrics().dropped_records, 1);
    Ok(())
}

/// Kafka's `KStreamSlidingWindowAggregateTest.shouldLogAndMeterWhenSkippingExpiredWindowByGrace`
/// (ON_WINDOW_CLOSE): time difference 10, grace 90. Kafka asserts this
/// ordered output (`[k@190/200]` at k@300, `[k@290/300]` at k@400) and 7
/// drops (records 0 to 5 in their closed left windows, record 6 whole).
/// The lateness metrics are not ported.
#[test]
fn sliding_skips_windows_expired_by_grace() -> Result {
    for cache in CACHES {
        let (output, driver) = run_sliding(
            sliding(10, 90),
            |windowed| windowed.aggregate_with(zero, add, string_store("store-name", cache)),
            &[
                ("k", "100", 200),
                ("k", "0", 100),
                ("k", "1", 101),
                ("k", "2", 102),
                ("k", "3", 103),
                ("k", "4", 104),
                ("k", "5", 105),
                ("k", "6", 15),
                ("k", "101", 300),
                ("k", "102", 400),
            ],
        )?;
        assert_eq!(
            output,
            updates(&[("[k@190/200]", "0+100", 200), ("[k@290/300]", "0+101", 300)]),
            "{cache:?}"
        );
        assert_eq!(driver.metrics().dropped_records, 7, "{cache:?}");
    }
    Ok(())
}

/// A small deterministic generator (xorshift) for the shuffles of the
/// randomized test.
struct Shuffler(u64);

impl Shuffler {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// Fisher-Yates.
    fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = usize::try_from(self.next() % (i as u64 + 1)).unwrap_or(0);
            items.swap(i, j);
        }
    }
}

/// Kafka's `KStreamSlidingWindowAggregateTest.testAggregateRandomInput`
/// (ON_WINDOW_CLOSE), with fixed seeds: time difference 10, grace 100; the
/// aggregate is the sorted letters. Nothing closes before V@181 (close
/// time at most 80 - 100), which closes every window starting up to 70.
///
/// Differs from Kafka by design: Kafka emits only the windows starting at
/// 52 and later. It writes V's windows first (largest start 171), so its
/// time-ordered store clips the fetch of [0, 70] to start at
/// 171 - 120 (retention 2 * 10 + 100) = 51, and the 16 windows starting
/// before that are never emitted (spec §1.5; the test's "only non-expired
/// records"). Here the closed windows are read before V's writes, so all
/// 25 come out, by start, each with its final aggregate (the same whatever
/// the input order); the last 9 are exactly Kafka's expected map.
#[test]
fn sliding_aggregate_random_input() -> Result {
    let letters: Vec<(&str, i64)> = vec![
        ("A", 10),
        ("B", 15),
        ("C", 16),
        ("D", 18),
        ("E", 30),
        ("F", 40),
        ("G", 55),
        ("H", 56),
        ("I", 58),
        ("J", 58),
        ("K", 62),
        ("L", 63),
        ("M", 63),
        ("N", 63),
        ("O", 76),
        ("P", 77),
        ("Q", 80),
        ("R", 2),
        ("S", 3),
        ("T", 5),
        ("U", 8),
    ];
    // Windows Kafka's clip hides, then Kafka's expected map.
    let clipped_in_kafka: [(i64, &str, i64); 16] = [
        (0, "ARSTU", 10),
        (3, "ASTU", 10),
        (4, "ATU", 10),
        (5, "ABTU", 15),
        (6, "ABCU", 16),
        (8, "ABCDU", 18),
        (9, "ABCD", 18),
        (11, "BCD", 18),
        (16, "CD", 18),
        (17, "D", 18),
        (20, "E", 30),
        (30, "EF", 40),
        (31, "F", 40),
        (45, "G", 55),
        (46, "GH", 56),
        (48, "GHIJ", 58),
    ];
    let kafka: [(i64, &str, i64); 9] = [
        (52, "GHIJK", 62),
        (53, "GHIJKLMN", 63),
        (56, "HIJKLMN", 63),
        (57, "IJKLMN", 63),
        (59, "KLMN", 63),
        (63, "LMN", 63),
        (66, "O", 76),
        (67, "OP", 77),
        (70, "OPQ", 80),
    ];
    let expected: Vec<(i64, Option<String>, i64)> = clipped_in_kafka
        .iter()
        .chain(&kafka)
        .map(|(start, value, ts)| (*start, Some((*value).to_owned()), *ts))
        .collect();
    for seed in 1..=20u64 {
        let mut input = letters.clone();
        Shuffler(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15)).shuffle(&mut input);
        let builder = StreamsBuilder::new();
        builder
            .stream::<String, String>("input")
            .group_by_key()
            .windowed_by(sliding(10, 100))
            .emit_strategy(CLOSE)
            .aggregate(String::new, |_, v, agg: String| {
                let mut chars: Vec<char> = format!("{agg}{v}").chars().collect();
                chars.sort_unstable();
                chars.into_iter().collect::<String>()
            })
            .to_stream()
            .map(|k, v| (k.window.start.to_string(), v))
            .to("output");
        let driver = TopologyTestDriver::new(&builder.build()?)?;
        let topic = driver.create_input_topic("input", StringSerde, StringSerde);
        for (letter, ts) in &input {
            topic.pipe_input_at("A".to_owned(), (*letter).to_owned(), *ts)?;
        }
        assert_eq!(
            read::<String>(&driver, "output")?,
            Vec::new(),
            "seed {seed}: nothing closes before V"
        );
        topic.pipe_input_at("A".to_owned(), "V".to_owned(), 181)?;
        let mut emitted = Vec::new();
        for record in read::<String>(&driver, "output")? {
            emitted.push((record.key.parse::<i64>()?, record.value, record.timestamp));
        }
        assert_eq!(emitted, expected, "seed {seed}, input {input:?}");
        assert_eq!(driver.metrics().dropped_records, 0, "seed {seed}");
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// KStreamSessionWindowAggregateProcessorTest
// ---------------------------------------------------------------------------

/// The processor test's inactivity gap: five minutes.
const GAP_MS: i64 = 5 * 60 * 1000;

/// The session aggregation of `KStreamSessionWindowAggregateProcessorTest`
/// emitting on window close: initializer 0, +1 per record, merger sums,
/// no grace, into "session-store" kept three gaps without a changelog, on
/// a task with emit interval 0 (Kafka's setup).
fn session_processor() -> Result<Task> {
    let builder = StreamsBuilder::new();
    let store = Materialized::<String, i64>::named("session-store")
        .with_retention(Duration::from_millis(3 * GAP_MS as u64))
        .with_logging_disabled();
    let sessions = builder
        .stream::<String, String>("input")
        .group_by_key()
        .windowed_by(SessionWindows::of_inactivity_gap_with_no_grace(
            Duration::from_millis(GAP_MS as u64),
        )?)
        .emit_strategy(CLOSE)
        .aggregate_with(
            || 0_i64,
            |_, _, count| count + 1,
            |_, left, right| left + right,
            store,
        );
    to_strings(&sessions, "output");
    Task::new(&builder.build()?, Duration::ZERO)
}

fn session(key: &str, start: i64, end: i64) -> String {
    format!("[{key}@{start}/{end}]")
}

/// Kafka's `KStreamSessionWindowAggregateProcessorTest.shouldHaveMultipleSessionsForSameIdWhenTimestampApartBySessionGap`
/// (ON_WINDOW_CLOSE): `[0,0]` closes at the first record at G+1, the
/// session at G+1 at the first record at 2G+2; sessions are stamped with
/// their end and carry no old value.
#[test]
fn session_processor_emits_sessions_apart_by_gap() -> Result {
    let mut processor = session_processor()?;
    let later = GAP_MS + 1;
    let latest = 2 * GAP_MS + 2;
    processor.process_all(&[
        ("mel", "first", 0),
        ("mel", "second", later),
        ("mel", "second", later),
        ("mel", "third", latest),
        ("mel", "third", latest),
        ("mel", "third", latest),
    ])?;
    assert_eq!(
        processor.forwarded::<i64>()?,
        count_rows(&[
            (&session("mel", 0, 0), 1, 0),
            (&session("mel", later, later), 2, later),
        ])
    );
    Ok(())
}

/// Kafka's `KStreamSessionWindowAggregateProcessorTest.shouldHandleMultipleSessionsAndMerging`
/// (ON_WINDOW_CLOSE): Kafka asserts this list. a, b and c's sessions
/// `[0,0]` close at a@G+1 and come by end, start, then key; d's merged
/// `[0,G/2]` closes at a@G+1+G/2. No tombstones for merged sessions.
#[test]
fn session_processor_emits_multiple_sessions_and_merges() -> Result {
    let mut processor = session_processor()?;
    let half = GAP_MS / 2;
    let later = GAP_MS + 1;
    processor.process_all(&[
        ("a", "1", 0),
        ("b", "1", 0),
        ("c", "1", 0),
        ("d", "1", 0),
        ("d", "2", half),
        ("a", "2", later),
        ("b", "2", later),
        ("a", "3", later + half),
        ("c", "3", later + half),
    ])?;
    assert_eq!(
        processor.forwarded::<i64>()?,
        count_rows(&[
            (&session("a", 0, 0), 1, 0),
            (&session("b", 0, 0), 1, 0),
            (&session("c", 0, 0), 1, 0),
            (&session("d", 0, half), 2, half),
        ])
    );
    Ok(())
}

// ---------------------------------------------------------------------------
// TimeWindowedKStreamImplTest
// ---------------------------------------------------------------------------

/// "input" grouped by key in tumbling windows of 500 ms without grace,
/// emitting on window close.
fn tumbling_500(builder: &StreamsBuilder) -> Result<TimeWindowedKStream<String, String>> {
    Ok(builder
        .stream::<String, String>("input")
        .group_by_key()
        .windowed_by(TimeWindows::of_size_with_no_grace(ms(500))?)
        .emit_strategy(CLOSE))
}

/// `TimeWindowedKStreamImplTest.processData`.
const TIME_WINDOWED_DATA: [Row<'static>; 6] = [
    ("1", "1", 10),
    ("1", "2", 15),
    ("1", "3", 500),
    ("2", "10", 550),
    ("2", "20", 500),
    ("2", "30", 1000),
];

/// Runs the time-windowed data through `table` written to "output".
fn time_windowed_output<V>(
    builder: &StreamsBuilder,
    table: &KTable<Windowed<String>, V>,
) -> Result<Updates<V>>
where
    V: DefaultSerde + Clone,
    Option<V>: DefaultSerde,
{
    to_strings(table, "output");
    let driver = TopologyTestDriver::new(&builder.build()?)?;
    pipe_to(&driver, "input", &TIME_WINDOWED_DATA)?;
    read(&driver, "output")
}

/// Kafka's `TimeWindowedKStreamImplTest.shouldCountWindowed`
/// (ON_WINDOW_CLOSE): `[0,500)` closes at "1"@500, the windows starting at
/// 500 at "2"@1000 (by key).
#[test]
fn time_windowed_count() -> Result {
    let builder = StreamsBuilder::new();
    let counts = tumbling_500(&builder)?.count();
    assert_eq!(
        time_windowed_output(&builder, &counts)?,
        count_rows(&[
            ("[1@0/500]", 2, 15),
            ("[1@500/1000]", 1, 500),
            ("[2@500/1000]", 2, 550),
        ])
    );
    Ok(())
}

/// Kafka's `TimeWindowedKStreamImplTest.shouldReduceWindowed` (ON_WINDOW_CLOSE).
#[test]
fn time_windowed_reduce() -> Result {
    let builder = StreamsBuilder::new();
    let reduced = tumbling_500(&builder)?.reduce(concat);
    assert_eq!(
        time_windowed_output(&builder, &reduced)?,
        updates(&[
            ("[1@0/500]", "1+2", 15),
            ("[1@500/1000]", "3", 500),
            ("[2@500/1000]", "10+20", 550),
        ])
    );
    Ok(())
}

/// Kafka's `TimeWindowedKStreamImplTest.shouldAggregateWindowed`
/// (ON_WINDOW_CLOSE, caching on and off).
#[test]
fn time_windowed_aggregate() -> Result {
    for cache in CACHES {
        let builder = StreamsBuilder::new();
        let materialized = cached(Materialized::with(strings(), strings()), cache);
        let aggregated = tumbling_500(&builder)?.aggregate_with(zero, add, materialized);
        assert_eq!(
            time_windowed_output(&builder, &aggregated)?,
            updates(&[
                ("[1@0/500]", "0+1+2", 15),
                ("[1@500/1000]", "0+3", 500),
                ("[2@500/1000]", "0+10+20", 550),
            ]),
            "{cache:?}"
        );
    }
    Ok(())
}

/// Kafka's `TimeWindowedKStreamImplTest.shouldMaterializeCount`
/// (ON_WINDOW_CLOSE, caching on and off): the store "count-store" read for
/// keys "1" to "2" and window starts 0 to 1000, with timestamps (Kafka's
/// plain and timestamped views).
///
/// The store of final results has no cache, so this is Kafka's answer
/// without caching (with caching, Kafka's cache still holds `1[0,500)`):
/// the time-ordered store keeps windows starting at or after 1000 - 500.
#[test]
fn time_windowed_materialize_count() -> Result {
    for cache in CACHES {
        let builder = StreamsBuilder::new();
        tumbling_500(&builder)?.count_with(cached(Materialized::named("count-store"), cache));
        let driver = TopologyTestDriver::new(&builder.build()?)?;
        pipe_to(&driver, "input", &TIME_WINDOWED_DATA)?;
        let store: WindowStore<String, ValueAndTimestamp<i64>> =
            driver.state_store("count-store")?;
        assert_eq!(
            store.fetch_range(Some(&"1".to_owned()), Some(&"2".to_owned()), 0, 1000)?,
            vec![
                (windowed("1", 500, 1000), ValueAndTimestamp::new(1, 500)),
                (windowed("2", 500, 1000), ValueAndTimestamp::new(2, 550)),
                (windowed("2", 1000, 1500), ValueAndTimestamp::new(1, 1000)),
            ],
            "{cache:?}"
        );
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// SessionWindowedKStreamImplTest
// ---------------------------------------------------------------------------

/// "input" grouped by key in sessions with a 500 ms gap and no grace,
/// emitting on window close.
fn sessions_500(builder: &StreamsBuilder) -> Result<SessionWindowedKStream<String, String>> {
    Ok(builder
        .stream::<String, String>("input")
        .group_by_key()
        .windowed_by(SessionWindows::of_inactivity_gap_with_no_grace(ms(500))?)
        .emit_strategy(CLOSE))
}

/// `SessionWindowedKStreamImplTest.processData`.
const SESSION_DATA: [Row<'static>; 5] = [
    ("1", "1", 10),
    ("1", "2", 15),
    ("1", "3", 600),
    ("2", "1", 600),
    ("2", "2", 599),
];

/// Runs the session data through `table` written to "output".
fn session_output<V>(
    builder: &StreamsBuilder,
    table: &KTable<Windowed<String>, V>,
) -> Result<Updates<V>>
where
    V: DefaultSerde + Clone,
    Option<V>: DefaultSerde,
{
    to_strings(table, "output");
    let driver = TopologyTestDriver::new(&builder.build()?)?;
    pipe_to(&driver, "input", &SESSION_DATA)?;
    read(&driver, "output")
}

fn session_count(cache: Cache) -> Result {
    let builder = StreamsBuilder::new();
    let counts = sessions_500(&builder)?.count_with(cached(
        Materialized::with(strings(), Arc::new(I64Serde)),
        cache,
    ));
    assert_eq!(
        session_output(&builder, &counts)?,
        count_rows(&[("[1@10/15]", 2, 15)])
    );
    Ok(())
}

/// Kafka's `SessionWindowedKStreamImplTest.shouldCountSessionWindowedWithCachingDisabled`
/// (ON_WINDOW_CLOSE): `1[10,15]` closes at "1"@600 (sessions ending in
/// [0, 99]); the others stay open.
#[test]
fn session_windowed_count_uncached() -> Result {
    session_count(Cache::Off)
}

/// Kafka's `SessionWindowedKStreamImplTest.shouldCountSessionWindowedWithCachingEnabled`
/// (ON_WINDOW_CLOSE).
#[test]
fn session_windowed_count_cached() -> Result {
    session_count(Cache::On)
}

/// Kafka's `SessionWindowedKStreamImplTest.shouldReduceWindowed` (ON_WINDOW_CLOSE).
#[test]
fn session_windowed_reduce() -> Result {
    let builder = StreamsBuilder::new();
    let reduced = sessions_500(&builder)?.reduce(concat);
    assert_eq!(
        session_output(&builder, &reduced)?,
        updates(&[("[1@10/15]", "1+2", 15)])
    );
    Ok(())
}

/// Kafka's `SessionWindowedKStreamImplTest.shouldAggregateSessionWindowed`
/// (ON_WINDOW_CLOSE).
#[test]
fn session_windowed_aggregate() -> Result {
    let builder = StreamsBuilder::new();
    let aggregated = sessions_500(&builder)?.aggregate_with(
        zero,
        add,
        merge,
        Materialized::with(strings(), strings()),
    );
    assert_eq!(
        session_output(&builder, &aggregated)?,
        updates(&[("[1@10/15]", "0+0+1+2", 15)])
    );
    Ok(())
}

/// Pipes the session data and returns every session of keys "1" to "2" in
/// the session store `name`.
fn session_store<V: 'static>(
    builder: &StreamsBuilder,
    name: &str,
) -> Result<Vec<(Windowed<String>, V)>> {
    let driver = TopologyTestDriver::new(&builder.build()?)?;
    pipe_to(&driver, "input", &SESSION_DATA)?;
    let store: SessionStore<String, V> = driver.state_store(name)?;
    Ok(store.fetch_range(Some(&"1".to_owned()), Some(&"2".to_owned()))?)
}

/// The stores of these tests ask for Kafka's default caching (enabled).
fn session_materialized<V: DefaultSerde>(name: &str) -> Materialized<String, V> {
    cached(Materialized::named(name), Cache::On)
}

/// Kafka's `SessionWindowedKStreamImplTest.shouldMaterializeCount`
/// (ON_WINDOW_CLOSE): `1[10,15]` ends before 600 - 500 + 1 and is no
/// longer in the store, as in Kafka's emit-final store.
#[test]
fn session_windowed_materialize_count() -> Result {
    let builder = StreamsBuilder::new();
    sessions_500(&builder)?.count_with(session_materialized("count-store"));
    assert_eq!(
        session_store::<i64>(&builder, "count-store")?,
        [(windowed("1", 600, 600), 1), (windowed("2", 599, 600), 2)]
    );
    Ok(())
}

/// Kafka's `SessionWindowedKStreamImplTest.shouldMaterializeReduced` (ON_WINDOW_CLOSE).
#[test]
fn session_windowed_materialize_reduced() -> Result {
    let builder = StreamsBuilder::new();
    sessions_500(&builder)?.reduce_with(concat, session_materialized("reduced"));
    assert_eq!(
        session_store::<String>(&builder, "reduced")?,
        [
            (windowed("1", 600, 600), "3".to_owned()),
            (windowed("2", 599, 600), "1+2".to_owned()),
        ]
    );
    Ok(())
}

/// Kafka's `SessionWindowedKStreamImplTest.shouldMaterializeAggregated` (ON_WINDOW_CLOSE).
#[test]
fn session_windowed_materialize_aggregated() -> Result {
    let builder = StreamsBuilder::new();
    sessions_500(&builder)?.aggregate_with(zero, add, merge, session_materialized("aggregated"));
    assert_eq!(
        session_store::<String>(&builder, "aggregated")?,
        [
            (windowed("1", 600, 600), "0+3".to_owned()),
            (windowed("2", 599, 600), "0+0+1+2".to_owned()),
        ]
    );
    Ok(())
}

// ---------------------------------------------------------------------------
// TimeWindowedKStreamIntegrationTest / SlidingWindowedKStreamIntegrationTest
// ---------------------------------------------------------------------------

/// The input of `TimeWindowedKStreamIntegrationTest`'s aggregation tests.
const TIME_WINDOWED_INTEGRATION_DATA: [Row<'static>; 7] = [
    ("A", "1", 0),
    ("A", "2", 5),
    ("A", "3", 10),
    ("B", "4", 6),
    ("B", "5", 11),
    ("B", "6", 15),
    ("C", "7", 25),
];

/// The input aggregated with `"0" + values` in windows of 10 ms advancing
/// by 5 with `grace_ms`, emitting on window close, without caching.
fn time_windowed_integration(grace_ms: u64) -> Result<Updates<String>> {
    let builder = StreamsBuilder::new();
    let windows = TimeWindows::of_size_and_grace(ms(10), ms(grace_ms))?.advance_by(ms(5))?;
    let table = builder
        .stream::<String, String>("input")
        .group_by_key()
        .windowed_by(windows)
        .emit_strategy(CLOSE)
        .aggregate_with(zero, add, string_store("agg", Cache::Off));
    to_strings(&table, "output");
    let driver = TopologyTestDriver::new(&builder.build()?)?;
    pipe_to(&driver, "input", &TIME_WINDOWED_INTEGRATION_DATA)?;
    read(&driver, "output")
}

/// Kafka's `TimeWindowedKStreamIntegrationTest.shouldAggregateWindowedWithNoGrace`
/// (ON_WINDOW_CLOSE), on the test driver: A[0,10) closes at A3@10,
/// A[5,15) and B[5,15) at B6@15, the windows starting at 10 and 15 at
/// C7@25 (range [6, 15]). B4@6 falls into the closed `[0,10)`.
///
/// Differs from Kafka by design: Kafka emits only `B[15,25)` at C7@25,
/// losing `A[10,20) "0+3"` and `B[10,20) "0+5+6"`. It writes C's windows
/// first (largest start 25), so its time-ordered store clips the range
/// [6, 15] to start at 25 - 10 (retention) = 15 (the test's comment:
/// "observedStreamTime : 25, retentionPeriod: 10, actualFrom: 15"). Here
/// the closed windows are read before C's writes, so they are emitted.
#[test]
fn time_windowed_integration_aggregate_with_no_grace() -> Result {
    assert_eq!(
        time_windowed_integration(0)?,
        updates(&[
            ("[A@0/10]", "0+1+2", 5),
            ("[A@5/15]", "0+2+3", 10),
            ("[B@5/15]", "0+4+5", 11),
            ("[A@10/20]", "0+3", 10),
            ("[B@10/20]", "0+5+6", 15),
            ("[B@15/25]", "0+6", 15),
        ])
    );
    Ok(())
}

/// Kafka's `TimeWindowedKStreamIntegrationTest.shouldAggregateWindowedWithGrace`
/// (ON_WINDOW_CLOSE, grace 5), on the test driver: the windows starting at
/// 0 close at B6@15, those starting at 5 and 10 at C7@25 (range [1, 10]).
///
/// Differs from Kafka by design: Kafka emits only the `[10,20)` windows at
/// C7@25, losing `A[5,15) "0+2+3"` and `B[5,15) "0+4+5"`: after C's
/// writes (largest start 25) its time-ordered store clips the range
/// [1, 10] to start at 25 - 15 (retention 10 + 5) = 10. Here the closed
/// windows are read before C's writes, so they are emitted.
#[test]
fn time_windowed_integration_aggregate_with_grace() -> Result {
    assert_eq!(
        time_windowed_integration(5)?,
        updates(&[
            ("[A@0/10]", "0+1+2", 5),
            ("[B@0/10]", "0+4", 6),
            ("[A@5/15]", "0+2+3", 10),
            ("[B@5/15]", "0+4+5", 11),
            ("[A@10/20]", "0+3", 10),
            ("[B@10/20]", "0+5+6", 15),
        ])
    );
    Ok(())
}

/// `SlidingWindowedKStreamIntegrationTest`'s aggregation with `"0" +
/// values` over sliding windows of 10 ms and `grace_ms`, emitting on window
/// close, without caching, with the output and dropped count.
fn sliding_integration(grace_ms: u64, input: &[Row]) -> Result<(Updates<String>, u64)> {
    let (output, driver) = run_sliding(
        sliding(10, grace_ms),
        |windowed| windowed.aggregate_with(zero, add, string_store("agg", Cache::Off)),
        input,
    )?;
    Ok((output, driver.metrics().dropped_records))
}

/// Kafka's `SlidingWindowedKStreamIntegrationTest.shouldAggregateWindowedWithNoGrace`
/// (ON_WINDOW_CLOSE), on the test driver: A[0,10], A[1,11] and A[6,16]
/// close at A4@17, A[7,17] at B7@18, B[8,18] and A[11,21] at C8@25. B5@6
/// is dropped whole (6 + 10 < 17) and B6@11 in its closed left window, so
/// B's only window holds B7. Kafka's store clip (start 15 - 20 after C's
/// writes) cuts nothing here: the output is Kafka's.
#[test]
fn sliding_integration_aggregate_with_no_grace() -> Result {
    let (output, dropped) = sliding_integration(
        0,
        &[
            ("A", "1", 0),
            ("A", "2", 5),
            ("A", "3", 10),
            ("A", "4", 17),
            ("B", "5", 6),
            ("B", "6", 11),
            ("B", "7", 18),
            ("C", "8", 25),
        ],
    )?;
    assert_eq!(
        output,
        updates(&[
            ("[A@0/10]", "0+1+2+3", 10),
            ("[A@1/11]", "0+2+3", 10),
            ("[A@6/16]", "0+3", 10),
            ("[A@7/17]", "0+3+4", 17),
            ("[B@8/18]", "0+7", 18),
            ("[A@11/21]", "0+4", 17),
        ])
    );
    assert_eq!(dropped, 2);
    Ok(())
}

/// Kafka's `SlidingWindowedKStreamIntegrationTest.shouldAggregateWindowedWithGrace`
/// (ON_WINDOW_CLOSE, grace 5), on the test driver: A[0,10] closes at
/// A6@16, the windows starting at 1 to 11 at A7@27; A8@11 is dropped whole
/// (11 + 10 < 22). Kafka's store clip (start 17 - 25 after A7's writes)
/// cuts nothing here: the output is Kafka's.
#[test]
fn sliding_integration_aggregate_with_grace() -> Result {
    let (output, dropped) = sliding_integration(
        5,
        &[
            ("A", "1", 0),
            ("A", "2", 5),
            ("A", "3", 10),
            ("A", "4", 6),
            ("A", "5", 11),
            ("A", "6", 16),
            ("A", "7", 27),
            ("A", "8", 11),
        ],
    )?;
    assert_eq!(
        output,
        updates(&[
            ("[A@0/10]", "0+1+2+3+4", 10),
            ("[A@1/11]", "0+2+3+4+5", 11),
            ("[A@6/16]", "0+3+4+5+6", 16),
            ("[A@7/17]", "0+3+5+6", 16),
            ("[A@11/21]", "0+5+6", 16),
        ])
    );
    assert_eq!(dropped, 1);
    Ok(())
}
