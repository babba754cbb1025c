//! Ports of Kafka Streams' windowed aggregation unit tests
//! (`KStreamWindowAggregateTest`, `KStreamSessionWindowAggregateProcessorTest`,
//! `TimeWindowedKStreamImplTest`, `SessionWindowedKStreamImplTest`): the
//! same input through the same topology, and the whole output (keys,
//! values, timestamps, in order) compared with what Kafka's tests expect
//! under the emit-on-update strategy. Windowed keys are written as
//! `[key@start/end]`, as Kafka's `Windowed::toString`.

mod support;
use support::{pipe, Result};

use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use streams_core::engine::{MockClock, StreamTask, TaskConfig};
use streams_core::prelude::*;
use streams_core::record::{ConsumerRecord, TopicName};
use streams_core::serde::SharedSerde;
use streams_core::state::{SessionStore, ValueAndTimestamp, WindowStore};
use streams_core::{Window, Windowed};
use streams_dsl::{
    KTable, Materialized, SessionWindowedKStream, SessionWindows, StreamsBuilder,
    TimeWindowedKStream, TimeWindows,
};

fn ms(millis: u64) -> Duration {
    Duration::from_millis(millis)
}

/// Kafka's default `statestore.cache.max.bytes` (10 MiB).
const CACHE_BYTES: usize = 10 * 1024 * 1024;

/// Whether a store caches, as Kafka's `withCachingEnabled()` /
/// `withCachingDisabled()`.
#[derive(Clone, Copy, Debug)]
enum Cache {
    Off,
    On,
}

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

/// Writes a windowed table's updates to `topic` with `[key@start/end]` keys.
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

/// Everything written to `topic` since the last read.
fn read<V: DefaultSerde>(driver: &TopologyTestDriver, topic: &str) -> Result<Updates<V>> {
    let output =
        driver.create_output_topic(topic, StringSerde, OptionSerde::new(V::default_serde()));
    Ok(output.read_records_to_list()?)
}

/// What a windowed table wrote, keys as `[key@start/end]`.
type Updates<V> = Vec<TestRecord<String, Option<V>>>;

/// Updates with string values (none of them tombstones).
fn updates(rows: &[(&str, &str, i64)]) -> Updates<String> {
    rows.iter()
        .map(|(k, v, ts)| TestRecord::new(k.to_string(), Some(v.to_string()), *ts))
        .collect()
}

/// Updates with counts, `None` for a tombstone.
fn count_rows<S: AsRef<str>>(rows: &[(S, Option<i64>, i64)]) -> Updates<i64> {
    rows.iter()
        .map(|(k, v, ts)| TestRecord::new(k.as_ref().to_owned(), *v, *ts))
        .collect()
}

fn pipe_to(driver: &TopologyTestDriver, topic: &str, records: &[(&str, &str, i64)]) -> Result {
    let input = driver.create_input_topic(topic, StringSerde, StringSerde);
    for (k, v, ts) in records {
        input.pipe_input_at(k.to_string(), v.to_string(), *ts)?;
    }
    Ok(())
}

fn windowed(key: &str, start: i64, end: i64) -> Windowed<String> {
    Windowed::new(key.to_owned(), Window::new(start, end))
}

// ---------------------------------------------------------------------------
// KStreamWindowAggregateTest
// ---------------------------------------------------------------------------

/// `topic` aggregated with `STRING_INIT`/`TOSTRING_ADDER` in windows of
/// 10 ms advancing by 5 with `grace_ms`, into `<topic>-Canonized`.
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
        .aggregate_with(
            zero,
            add,
            string_store(&format!("{topic}-Canonized"), cache),
        ))
}

fn agg_basic(cache: Cache) -> Result {
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
        updates(&[
            ("[A@0/10]", "0+1", 0),
            ("[B@0/10]", "0+2", 1),
            ("[C@0/10]", "0+3", 2),
            ("[D@0/10]", "0+4", 3),
            ("[A@0/10]", "0+1+1", 4),
            ("[A@0/10]", "0+1+1+1", 5),
            ("[A@5/15]", "0+1", 5),
            ("[B@0/10]", "0+2+2", 6),
            ("[B@5/15]", "0+2", 6),
            ("[D@0/10]", "0+4+4", 7),
            ("[D@5/15]", "0+4", 7),
            ("[B@0/10]", "0+2+2+2", 8),
            ("[B@5/15]", "0+2+2", 8),
            ("[C@0/10]", "0+3+3", 9),
            ("[C@5/15]", "0+3", 9),
            ("[A@5/15]", "0+1+1", 10),
            ("[A@10/20]", "0+1", 10),
            ("[B@5/15]", "0+2+2+2", 11),
            ("[B@10/20]", "0+2", 11),
            ("[D@5/15]", "0+4+4", 12),
            ("[D@10/20]", "0+4", 12),
            ("[B@5/15]", "0+2+2+2+2", 13),
            ("[B@10/20]", "0+2+2", 13),
            ("[C@5/15]", "0+3+3", 14),
            ("[C@10/20]", "0+3", 14),
            ("[B@0/10]", "0+2+2+2+1", 8),
            ("[B@0/10]", "0+2+2+2+1+2", 8),
            ("[B@0/10]", "0+2+2+2+1+2+3", 9),
            ("[B@5/15]", "0+2+2+2+2+3", 13),
        ])
    );
    Ok(())
}

/// Kafka's `KStreamWindowAggregateTest.testAggBasic` (ON_WINDOW_UPDATE, caching disabled).
#[test]
fn window_aggregate_agg_basic() -> Result {
    agg_basic(Cache::Off)
}

/// Kafka's `KStreamWindowAggregateTest.testAggBasic` (ON_WINDOW_UPDATE, caching enabled).
#[test]
fn window_aggregate_agg_basic_cached() -> Result {
    agg_basic(Cache::On)
}

/// Checks what the two aggregations of `join` and their join wrote since
/// the last check.
fn assert_join_outputs(driver: &TopologyTestDriver, expected: [&[(&str, &str, i64)]; 3]) -> Result {
    for (topic, rows) in ["table1", "table2", "joined"].into_iter().zip(expected) {
        assert_eq!(read::<String>(driver, topic)?, updates(rows), "{topic}");
    }
    Ok(())
}

fn join(cache: Cache) -> Result {
    let builder = StreamsBuilder::new();
    let table1 = canonized(&builder, "topic1", 100, cache)?;
    to_strings(&table1, "table1");
    let table2 = canonized(&builder, "topic2", 100, cache)?;
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
        ],
    )?;
    assert_join_outputs(
        &driver,
        [
            &[
                ("[A@0/10]", "0+1", 0),
                ("[B@0/10]", "0+2", 1),
                ("[C@0/10]", "0+3", 2),
                ("[D@0/10]", "0+4", 3),
                ("[A@0/10]", "0+1+1", 9),
                ("[A@5/15]", "0+1", 9),
            ],
            &[],
            &[],
        ],
    )?;

    pipe_to(
        &driver,
        "topic1",
        &[
            ("A", "1", 5),
            ("B", "2", 6),
            ("D", "4", 7),
            ("B", "2", 8),
            ("C", "3", 9),
        ],
    )?;
    assert_join_outputs(
        &driver,
        [
            &[
                ("[A@0/10]", "0+1+1+1", 9),
                ("[A@5/15]", "0+1+1", 9),
                ("[B@0/10]", "0+2+2", 6),
                ("[B@5/15]", "0+2", 6),
                ("[D@0/10]", "0+4+4", 7),
                ("[D@5/15]", "0+4", 7),
                ("[B@0/10]", "0+2+2+2", 8),
                ("[B@5/15]", "0+2+2", 8),
                ("[C@0/10]", "0+3+3", 9),
                ("[C@5/15]", "0+3", 9),
            ],
            &[],
            &[],
        ],
    )?;

    pipe_to(
        &driver,
        "topic2",
        &[
            ("A", "a", 0),
            ("B", "b", 1),
            ("C", "c", 2),
            ("D", "d", 20),
            ("A", "a", 20),
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
                ("[D@15/25]", "0+d", 20),
                ("[D@20/30]", "0+d", 20),
                ("[A@15/25]", "0+a", 20),
                ("[A@20/30]", "0+a", 20),
            ],
            &[
                ("[A@0/10]", "0+1+1+1%0+a", 9),
                ("[B@0/10]", "0+2+2+2%0+b", 8),
                ("[C@0/10]", "0+3+3%0+c", 9),
            ],
        ],
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
                ("[A@0/10]", "0+a+a", 5),
                ("[A@5/15]", "0+a", 5),
                ("[B@0/10]", "0+b+b", 6),
                ("[B@5/15]", "0+b", 6),
                ("[D@0/10]", "0+d", 7),
                ("[D@5/15]", "0+d", 7),
                ("[D@10/20]", "0+d", 18),
                ("[D@15/25]", "0+d+d", 20),
                ("[A@15/25]", "0+a+a", 21),
                ("[A@20/30]", "0+a+a", 21),
            ],
            &[
                ("[A@0/10]", "0+1+1+1%0+a+a", 9),
                ("[A@5/15]", "0+1+1%0+a", 9),
                ("[B@0/10]", "0+2+2+2%0+b+b", 8),
                ("[B@5/15]", "0+2+2%0+b", 8),
                ("[D@0/10]", "0+4+4%0+d", 7),
                ("[D@5/15]", "0+4%0+d", 7),
            ],
        ],
    )
}

/// Kafka's `KStreamWindowAggregateTest.testJoin` (ON_WINDOW_UPDATE, caching disabled).
#[test]
fn window_aggregate_join() -> Result {
    join(Cache::Off)
}

/// Kafka's `KStreamWindowAggregateTest.testJoin` (ON_WINDOW_UPDATE, caching enabled).
#[test]
fn window_aggregate_join_cached() -> Result {
    join(Cache::On)
}

/// Kafka's `KStreamWindowAggregateTest.shouldLogAndMeterWhenSkippingNullKey`:
/// the record is dropped (and counted) and nothing is emitted.
#[test]
fn window_aggregate_skips_null_key() -> Result {
    let builder = StreamsBuilder::new();
    let windows = TimeWindows::of_size_with_no_grace(ms(10))?.advance_by(ms(5))?;
    builder
        .stream::<Option<String>, String>("topic")
        .group_by_key()
        .windowed_by(windows)
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
/// `""` and `+value`, and returns the output and the dropped count.
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
        .aggregate_with(String::new, add, materialized);
    to_strings(&table, "output");
    let driver = TopologyTestDriver::new(&builder.build()?)?;
    let records: Vec<_> = inputs.iter().map(|(v, ts)| ("k", *v, *ts)).collect();
    pipe_to(&driver, "topic", &records)?;
    Ok((read(&driver, "output")?, driver.metrics().dropped_records))
}

fn skipping_expired_window(cache: Cache) -> Result {
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
    assert_eq!(
        output,
        updates(&[
            ("[k@95/105]", "+100", 100),
            ("[k@100/110]", "+100", 100),
            ("[k@5/15]", "+5", 5),
            ("[k@5/15]", "+5+6", 6),
            ("[k@100/110]", "+100+105", 105),
            ("[k@105/115]", "+105", 105),
            ("[k@100/110]", "+100+105+106", 106),
            ("[k@105/115]", "+105+106", 106),
        ])
    );
    // One per expired window a record falls into, as Kafka's drop sensor.
    assert_eq!(dropped, 7);
    Ok(())
}

/// Kafka's `KStreamWindowAggregateTest.shouldLogAndMeterWhenSkippingExpiredWindow`
/// (ON_WINDOW_UPDATE, caching disabled): output and dropped-records count.
#[test]
fn window_aggregate_skips_expired_windows() -> Result {
    skipping_expired_window(Cache::Off)
}

/// Kafka's `KStreamWindowAggregateTest.shouldLogAndMeterWhenSkippingExpiredWindow`
/// (ON_WINDOW_UPDATE, caching enabled).
#[test]
fn window_aggregate_skips_expired_windows_cached() -> Result {
    skipping_expired_window(Cache::On)
}

fn skipping_expired_window_by_grace(cache: Cache) -> Result {
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
    assert_eq!(output, updates(&[("[k@200/210]", "+100", 200)]));
    assert_eq!(dropped, 7);
    Ok(())
}

/// Kafka's `KStreamWindowAggregateTest.shouldLogAndMeterWhenSkippingExpiredWindowByGrace`
/// (ON_WINDOW_UPDATE, caching disabled).
#[test]
fn window_aggregate_skips_windows_expired_by_grace() -> Result {
    skipping_expired_window_by_grace(Cache::Off)
}

/// Kafka's `KStreamWindowAggregateTest.shouldLogAndMeterWhenSkippingExpiredWindowByGrace`
/// (ON_WINDOW_UPDATE, caching enabled).
#[test]
fn window_aggregate_skips_windows_expired_by_grace_cached() -> Result {
    skipping_expired_window_by_grace(Cache::On)
}

/// The processor-level setup of `KStreamWindowAggregateTest`'s emit tests:
/// "input" aggregated with `STRING_INIT`/`TOSTRING_ADDER` in windows of
/// 10 ms advancing by 5 with 5 ms grace, into an uncached
/// `dummy-store-name`, written to "output".
fn hopping_with_grace() -> Result<Topology> {
    let builder = StreamsBuilder::new();
    let windows = TimeWindows::of_size_and_grace(ms(10), ms(5))?.advance_by(ms(5))?;
    let table = builder
        .stream::<String, String>("input")
        .group_by_key()
        .windowed_by(windows)
        .aggregate_with(zero, add, string_store("dummy-store-name", Cache::Off));
    to_strings(&table, "output");
    Ok(builder.build()?)
}

/// Kafka's `KStreamWindowAggregateTest.shouldNotEmitFinalIfNotProgressEnough`
/// (ON_WINDOW_UPDATE).
#[test]
fn window_aggregate_emits_every_update_without_progress() -> Result {
    let driver = TopologyTestDriver::new(&hopping_with_grace()?)?;
    pipe(&driver, &[("A", "1", 0), ("B", "2", 5), ("C", "3", 15)])?;
    assert_eq!(
        read::<String>(&driver, "output")?,
        updates(&[
            ("[A@0/10]", "0+1", 0),
            ("[B@0/10]", "0+2", 5),
            ("[B@5/15]", "0+2", 5),
            ("[C@10/20]", "0+3", 15),
            ("[C@15/25]", "0+3", 15),
        ])
    );
    pipe(&driver, &[("D", "4", 15)])?;
    assert_eq!(
        read::<String>(&driver, "output")?,
        updates(&[("[D@10/20]", "0+4", 15), ("[D@15/25]", "0+4", 15)])
    );
    pipe(&driver, &[("E", "5", 19)])?;
    assert_eq!(
        read::<String>(&driver, "output")?,
        updates(&[("[E@10/20]", "0+5", 19), ("[E@15/25]", "0+5", 19)])
    );
    Ok(())
}

/// Kafka's `KStreamWindowAggregateTest.shouldEmitWithInterval0` (ON_WINDOW_UPDATE).
#[test]
fn window_aggregate_emits_with_interval_0() -> Result {
    let driver = TopologyTestDriver::new(&hopping_with_grace()?)?;
    pipe(
        &driver,
        &[
            ("A", "1", 0),
            ("A", "1", 5),
            ("B", "2", 10),
            ("C", "3", 15),
            ("D", "4", 20),
        ],
    )?;
    assert_eq!(
        read::<String>(&driver, "output")?,
        updates(&[
            ("[A@0/10]", "0+1", 0),
            ("[A@0/10]", "0+1+1", 5),
            ("[A@5/15]", "0+1", 5),
            ("[B@5/15]", "0+2", 10),
            ("[B@10/20]", "0+2", 10),
            ("[C@10/20]", "0+3", 15),
            ("[C@15/25]", "0+3", 15),
            ("[D@15/25]", "0+4", 20),
            ("[D@20/30]", "0+4", 20),
        ])
    );
    Ok(())
}

/// Kafka's `KStreamWindowAggregateTest.shouldEmitWithLargeInterval` (ON_WINDOW_UPDATE).
#[test]
fn window_aggregate_emits_with_large_interval() -> Result {
    let driver = TopologyTestDriver::new(&hopping_with_grace()?)?;
    pipe(
        &driver,
        &[("A", "1", 0), ("A", "1", 5), ("B", "2", 10), ("C", "3", 15)],
    )?;
    assert_eq!(
        read::<String>(&driver, "output")?,
        updates(&[
            ("[A@0/10]", "0+1", 0),
            ("[A@0/10]", "0+1+1", 5),
            ("[A@5/15]", "0+1", 5),
            ("[B@5/15]", "0+2", 10),
            ("[B@10/20]", "0+2", 10),
            ("[C@10/20]", "0+3", 15),
            ("[C@15/25]", "0+3", 15),
        ])
    );
    driver.advance_wall_clock_time(ms(10_000))?;
    pipe(&driver, &[("D", "4", 20)])?;
    assert_eq!(
        read::<String>(&driver, "output")?,
        updates(&[("[D@15/25]", "0+4", 20), ("[D@20/30]", "0+4", 20)])
    );
    driver.advance_wall_clock_time(ms(100))?;
    pipe(&driver, &[("E", "5", 40)])?;
    assert_eq!(
        read::<String>(&driver, "output")?,
        updates(&[("[E@35/45]", "0+5", 40), ("[E@40/50]", "0+5", 40)])
    );
    Ok(())
}

/// Kafka's `KStreamWindowAggregateTest.shouldEmitFromLastEmitTime`
/// (ON_WINDOW_UPDATE): a new processor instance over the same store (here
/// a restart) carries on.
#[test]
fn window_aggregate_emits_from_last_emit_time() -> Result {
    let topology = hopping_with_grace()?;
    let driver = TopologyTestDriver::new(&topology)?;
    pipe(&driver, &[("A", "1", 0), ("B", "2", 5), ("C", "3", 15)])?;
    assert_eq!(
        read::<String>(&driver, "output")?,
        updates(&[
            ("[A@0/10]", "0+1", 0),
            ("[B@0/10]", "0+2", 5),
            ("[B@5/15]", "0+2", 5),
            ("[C@10/20]", "0+3", 15),
            ("[C@15/25]", "0+3", 15),
        ])
    );
    driver.restart(&topology)?;
    pipe(&driver, &[("D", "4", 25)])?;
    assert_eq!(
        read::<String>(&driver, "output")?,
        updates(&[("[D@20/30]", "0+4", 25), ("[D@25/35]", "0+4", 25)])
    );
    Ok(())
}

// ---------------------------------------------------------------------------
// KStreamSessionWindowAggregateProcessorTest
// ---------------------------------------------------------------------------

/// The processor test's inactivity gap: five minutes.
const GAP_MS: i64 = 5 * 60 * 1000;
const SESSION_STORE: &str = "session-store";

fn session(key: &str, start: i64, end: i64) -> String {
    format!("[{key}@{start}/{end}]")
}

/// The session aggregation of `KStreamSessionWindowAggregateProcessorTest`
/// (initializer 0, +1 per record, merger sums) on a task driven record by
/// record with no commit in between, as Kafka's mock processor context:
/// cached updates are forwarded only when the test flushes.
struct SessionProcessor {
    task: StreamTask,
    offset: i64,
}

impl SessionProcessor {
    /// Kafka's `setup`: no grace, and a store kept three gaps without a
    /// changelog, cached or not.
    fn new(cache: Cache) -> Result<Self> {
        Self::with_windows(
            SessionWindows::of_inactivity_gap_with_no_grace(Duration::from_millis(GAP_MS as u64))?,
            cache,
        )
    }

    fn with_windows(windows: SessionWindows, cache: Cache) -> Result<Self> {
        let builder = StreamsBuilder::new();
        let store = Materialized::<String, i64>::named(SESSION_STORE)
            .with_retention(Duration::from_millis(3 * GAP_MS as u64))
            .with_logging_disabled();
        let sessions = builder
            .stream::<String, String>("input")
            .group_by_key()
            .windowed_by(windows)
            .aggregate_with(
                || 0_i64,
                |_, _, count| count + 1,
                |_, left, right| left + right,
                cached(store, cache),
            );
        to_strings(&sessions, "output");
        let config = TaskConfig::new("app", Rc::new(MockClock::new(0)));
        Ok(Self {
            task: StreamTask::new(&builder.build()?, config)?,
            offset: 0,
        })
    }

    /// Kafka's `processor.process(new Record<>(key, value, timestamp))`.
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

    /// Kafka's `sessionStore.flush()`: cached updates go downstream.
    fn flush(&mut self) -> Result {
        self.task.commit()?;
        Ok(())
    }

    /// What the aggregation forwarded so far (Kafka's `results`).
    fn forwarded(&mut self) -> Result<Updates<i64>> {
        let mut output = Vec::new();
        self.task.take_output(&mut output);
        let counts = OptionSerde::new(Arc::new(I64Serde));
        let mut records = Vec::new();
        for record in output.iter().filter(|record| &*record.topic == "output") {
            let key = StringSerde.deserialize("output", record.key.as_deref())?;
            let value = counts.deserialize("output", record.value.as_deref())?;
            records.push(TestRecord::new(key, value, record.timestamp));
        }
        Ok(records)
    }

    /// Kafka's `sessionStore.findSessions(key, earliestEnd, latestStart)`.
    fn find_sessions(
        &self,
        key: &str,
        earliest_end: i64,
        latest_start: i64,
    ) -> Result<Vec<(Windowed<String>, i64)>> {
        let store: SessionStore<String, i64> = self.task.state_store(SESSION_STORE)?;
        Ok(store.find_sessions(&key.to_owned(), earliest_end, latest_start)?)
    }

    fn dropped(&self) -> u64 {
        self.task.metrics().dropped_records
    }
}

/// Kafka's `KStreamSessionWindowAggregateProcessorTest.shouldCreateSingleSessionWhenWithinGap`.
#[test]
fn session_processor_creates_single_session_within_gap() -> Result {
    let mut processor = SessionProcessor::new(Cache::On)?;
    processor.process("john", "first", 0)?;
    processor.process("john", "second", 500)?;
    assert_eq!(
        processor.find_sessions("john", 0, 2000)?,
        [(windowed("john", 0, 500), 2)]
    );
    Ok(())
}

/// Kafka's `KStreamSessionWindowAggregateProcessorTest.shouldMergeSessions`.
#[test]
fn session_processor_merges_sessions() -> Result {
    let mut processor = SessionProcessor::new(Cache::On)?;
    processor.process("mel", "first", 0)?;
    assert_eq!(
        processor.find_sessions("mel", 0, 0)?,
        [(windowed("mel", 0, 0), 1)]
    );
    processor.process("mel", "second", GAP_MS + 1)?;
    assert_eq!(
        processor.find_sessions("mel", GAP_MS + 1, GAP_MS + 1)?,
        [(windowed("mel", GAP_MS + 1, GAP_MS + 1), 1)]
    );
    assert_eq!(
        processor.find_sessions("mel", 0, 0)?,
        [(windowed("mel", 0, 0), 1)]
    );
    processor.process("mel", "third", GAP_MS / 2)?;
    assert_eq!(
        processor.find_sessions("mel", 0, GAP_MS + 1)?,
        [(windowed("mel", 0, GAP_MS + 1), 3)]
    );
    Ok(())
}

/// Kafka's `KStreamSessionWindowAggregateProcessorTest.shouldUpdateSessionIfTheSameTime`.
#[test]
fn session_processor_updates_session_at_the_same_time() -> Result {
    let mut processor = SessionProcessor::new(Cache::On)?;
    processor.process("mel", "first", 0)?;
    processor.process("mel", "second", 0)?;
    assert_eq!(
        processor.find_sessions("mel", 0, 0)?,
        [(windowed("mel", 0, 0), 2)]
    );
    Ok(())
}

/// Kafka's `KStreamSessionWindowAggregateProcessorTest.shouldHaveMultipleSessionsForSameIdWhenTimestampApartBySessionGap`
/// (ON_WINDOW_UPDATE, cached store flushed at the end).
#[test]
fn session_processor_keeps_sessions_a_gap_apart() -> Result {
    let mut processor = SessionProcessor::new(Cache::On)?;
    let second = GAP_MS + 1;
    let third = 2 * (GAP_MS + 1);
    processor.process("mel", "first", 0)?;
    processor.process("mel", "second", second)?;
    processor.process("mel", "second", second)?;
    processor.process("mel", "third", third)?;
    processor.process("mel", "third", third)?;
    processor.process("mel", "third", third)?;
    processor.flush()?;
    assert_eq!(
        processor.forwarded()?,
        count_rows(&[
            (session("mel", 0, 0), Some(1), 0),
            (session("mel", second, second), Some(2), second),
            (session("mel", third, third), Some(3), third),
        ])
    );
    Ok(())
}

/// Kafka's `KStreamSessionWindowAggregateProcessorTest.shouldRemoveMergedSessionsFromStateStore`.
#[test]
fn session_processor_removes_merged_sessions_from_the_store() -> Result {
    let mut processor = SessionProcessor::new(Cache::On)?;
    processor.process("a", "1", 0)?;
    assert_eq!(
        processor.find_sessions("a", 0, 0)?,
        [(windowed("a", 0, 0), 1)]
    );
    processor.process("a", "2", 100)?;
    assert_eq!(
        processor.find_sessions("a", 0, 100)?,
        [(windowed("a", 0, 100), 2)]
    );
    Ok(())
}

/// Kafka's `KStreamSessionWindowAggregateProcessorTest.shouldHandleMultipleSessionsAndMerging`
/// (ON_WINDOW_UPDATE, cached store flushed at the end).
#[test]
fn session_processor_handles_multiple_sessions_and_merging() -> Result {
    let mut processor = SessionProcessor::new(Cache::On)?;
    let half = GAP_MS / 2;
    let later = GAP_MS + 1;
    let latest = GAP_MS + 1 + GAP_MS / 2;
    for (key, value, timestamp) in [
        ("a", "1", 0),
        ("b", "1", 0),
        ("c", "1", 0),
        ("d", "1", 0),
        ("d", "2", half),
        ("a", "2", later),
        ("b", "2", later),
        ("a", "3", latest),
        ("c", "3", latest),
    ] {
        processor.process(key, value, timestamp)?;
    }
    processor.flush()?;
    assert_eq!(
        processor.forwarded()?,
        count_rows(&[
            (session("a", 0, 0), Some(1), 0),
            (session("b", 0, 0), Some(1), 0),
            (session("c", 0, 0), Some(1), 0),
            (session("d", 0, half), Some(2), half),
            (session("b", later, later), Some(1), later),
            (session("a", later, latest), Some(2), latest),
            (session("c", latest, latest), Some(1), latest),
        ])
    );
    Ok(())
}

/// Kafka's `KStreamSessionWindowAggregateProcessorTest.shouldGetAggregatedValuesFromValueGetter`:
/// the table's value getter reads the session store by exact bounds, as
/// `fetch_session` does here.
#[test]
fn session_processor_values_by_session() -> Result {
    let mut processor = SessionProcessor::new(Cache::On)?;
    processor.process("a", "1", 0)?;
    processor.process("a", "1", GAP_MS + 1)?;
    processor.process("a", "2", GAP_MS + 1)?;
    let store: SessionStore<String, i64> = processor.task.state_store(SESSION_STORE)?;
    let a = "a".to_owned();
    assert_eq!(store.fetch_session(&a, 0, 0)?, Some(1));
    assert_eq!(store.fetch_session(&a, GAP_MS + 1, GAP_MS + 1)?, Some(2));
    Ok(())
}

/// Kafka's `KStreamSessionWindowAggregateProcessorTest.shouldImmediatelyForwardNewSessionWhenNonCachedStore`.
#[test]
fn session_processor_forwards_new_sessions_immediately_when_uncached() -> Result {
    let mut processor = SessionProcessor::new(Cache::Off)?;
    processor.process("a", "1", 0)?;
    processor.process("b", "1", 0)?;
    processor.process("c", "1", 0)?;
    assert_eq!(
        processor.forwarded()?,
        count_rows(&[
            ("[a@0/0]", Some(1), 0),
            ("[b@0/0]", Some(1), 0),
            ("[c@0/0]", Some(1), 0),
        ])
    );
    Ok(())
}

/// Kafka's `KStreamSessionWindowAggregateProcessorTest.shouldImmediatelyForwardRemovedSessionsWhenMerging`.
#[test]
fn session_processor_forwards_removed_sessions_immediately_when_merging() -> Result {
    let mut processor = SessionProcessor::new(Cache::Off)?;
    processor.process("a", "1", 0)?;
    processor.process("a", "1", 5)?;
    assert_eq!(
        processor.forwarded()?,
        count_rows(&[
            ("[a@0/0]", Some(1), 0),
            ("[a@0/0]", None, 0),
            ("[a@0/5]", Some(2), 5),
        ])
    );
    Ok(())
}

/// Kafka's `KStreamSessionWindowAggregateProcessorTest.shouldLogAndMeterWhenSkippingNullKeyWithBuiltInMetrics`:
/// the record is dropped and counted, nothing is emitted.
#[test]
fn session_processor_skips_null_key() -> Result {
    let builder = StreamsBuilder::new();
    let windows =
        SessionWindows::of_inactivity_gap_with_no_grace(Duration::from_millis(GAP_MS as u64))?;
    builder
        .stream::<Option<String>, String>("input")
        .group_by_key()
        .windowed_by(windows)
        .count()
        .to_stream()
        .map(|key, value| (format!("{:?}", key.key), value))
        .to("output");
    let driver = TopologyTestDriver::new(&builder.build()?)?;
    let input = driver.create_input_topic("input", OptionSerde::new(strings()), StringSerde);
    input.pipe_input_at(None, "1".to_owned(), 0)?;
    assert_eq!(read::<i64>(&driver, "output")?, count_rows::<&str>(&[]));
    assert_eq!(driver.metrics().dropped_records, 1);
    Ok(())
}

/// Kafka's `KStreamSessionWindowAggregateProcessorTest.shouldLogAndMeterWhenSkippingLateRecordWithZeroGrace`:
/// gap 10, no grace; at stream time 11 a session ending at 0 has closed.
#[test]
fn session_processor_skips_late_record_with_zero_grace() -> Result {
    let windows = SessionWindows::of_inactivity_gap_and_grace(ms(10), ms(0))?;
    let mut processor = SessionProcessor::with_windows(windows, Cache::Off)?;
    processor.process("dummy", "dummy", 0)?;
    processor.process("OnTime1", "1", 0)?;
    processor.process("dummy", "dummy", 11)?;
    processor.process("Late1", "1", 0)?;
    assert_eq!(
        processor.forwarded()?,
        count_rows(&[
            ("[dummy@0/0]", Some(1), 0),
            ("[OnTime1@0/0]", Some(1), 0),
            ("[dummy@11/11]", Some(1), 11),
        ])
    );
    assert_eq!(processor.dropped(), 1);
    Ok(())
}

/// Kafka's `KStreamSessionWindowAggregateProcessorTest.shouldLogAndMeterWhenSkippingLateRecordWithNonzeroGrace`:
/// gap 10, grace 1; a session ending at 0 closes after stream time 11.
#[test]
fn session_processor_skips_late_record_with_nonzero_grace() -> Result {
    let windows = SessionWindows::of_inactivity_gap_and_grace(ms(10), ms(1))?;
    let mut processor = SessionProcessor::with_windows(windows, Cache::Off)?;
    processor.process("dummy", "dummy", 0)?;
    processor.process("OnTime1", "1", 0)?;
    processor.process("dummy", "dummy", 11)?;
    processor.process("OnTime2", "1", 0)?;
    processor.process("dummy", "dummy", 12)?;
    processor.process("Late1", "1", 0)?;
    assert_eq!(
        processor.forwarded()?,
        count_rows(&[
            ("[dummy@0/0]", Some(1), 0),
            ("[OnTime1@0/0]", Some(1), 0),
            ("[dummy@11/11]", Some(1), 11),
            ("[OnTime2@0/0]", Some(1), 0),
            ("[dummy@11/11]", None, 11),
            ("[dummy@11/12]", Some(2), 12),
        ])
    );
    assert_eq!(processor.dropped(), 1);
    Ok(())
}

// ---------------------------------------------------------------------------
// TimeWindowedKStreamImplTest
// ---------------------------------------------------------------------------

/// "input" grouped by key in tumbling windows of 500 ms without grace.
fn tumbling_500(builder: &StreamsBuilder) -> Result<TimeWindowedKStream<String, String>> {
    Ok(builder
        .stream::<String, String>("input")
        .group_by_key()
        .windowed_by(TimeWindows::of_size_with_no_grace(ms(500))?))
}

/// `TimeWindowedKStreamImplTest.processData`.
fn time_windowed_data(driver: &TopologyTestDriver) -> Result {
    pipe(
        driver,
        &[
            ("1", "1", 10),
            ("1", "2", 15),
            ("1", "3", 500),
            ("2", "10", 550),
            ("2", "20", 500),
            ("2", "30", 1000),
        ],
    )
}

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
    time_windowed_data(&driver)?;
    read(&driver, "output")
}

/// Kafka's `TimeWindowedKStreamImplTest.shouldCountWindowed` (ON_WINDOW_UPDATE).
#[test]
fn time_windowed_count() -> Result {
    let builder = StreamsBuilder::new();
    let counts = tumbling_500(&builder)?.count();
    assert_eq!(
        time_windowed_output(&builder, &counts)?,
        count_rows(&[
            ("[1@0/500]", Some(1), 10),
            ("[1@0/500]", Some(2), 15),
            ("[1@500/1000]", Some(1), 500),
            ("[2@500/1000]", Some(1), 550),
            ("[2@500/1000]", Some(2), 550),
            ("[2@1000/1500]", Some(1), 1000),
        ])
    );
    Ok(())
}

/// Kafka's `TimeWindowedKStreamImplTest.shouldReduceWindowed` (ON_WINDOW_UPDATE).
#[test]
fn time_windowed_reduce() -> Result {
    let builder = StreamsBuilder::new();
    let reduced = tumbling_500(&builder)?.reduce(concat);
    assert_eq!(
        time_windowed_output(&builder, &reduced)?,
        updates(&[
            ("[1@0/500]", "1", 10),
            ("[1@0/500]", "1+2", 15),
            ("[1@500/1000]", "3", 500),
            ("[2@500/1000]", "10", 550),
            ("[2@500/1000]", "10+20", 550),
            ("[2@1000/1500]", "30", 1000),
        ])
    );
    Ok(())
}

fn time_windowed_aggregate(cache: Cache) -> Result {
    let builder = StreamsBuilder::new();
    let materialized = cached(Materialized::with(strings(), strings()), cache);
    let aggregated = tumbling_500(&builder)?.aggregate_with(zero, add, materialized);
    assert_eq!(
        time_windowed_output(&builder, &aggregated)?,
        updates(&[
            ("[1@0/500]", "0+1", 10),
            ("[1@0/500]", "0+1+2", 15),
            ("[1@500/1000]", "0+3", 500),
            ("[2@500/1000]", "0+10", 550),
            ("[2@500/1000]", "0+10+20", 550),
            ("[2@1000/1500]", "0+30", 1000),
        ])
    );
    Ok(())
}

/// Kafka's `TimeWindowedKStreamImplTest.shouldAggregateWindowed` (ON_WINDOW_UPDATE, caching disabled).
#[test]
fn time_windowed_aggregate_uncached() -> Result {
    time_windowed_aggregate(Cache::Off)
}

/// Kafka's `TimeWindowedKStreamImplTest.shouldAggregateWindowed` (ON_WINDOW_UPDATE, caching enabled).
#[test]
fn time_windowed_aggregate_cached() -> Result {
    time_windowed_aggregate(Cache::On)
}

/// Pipes the time-windowed data and returns what the window store `name`
/// holds for keys "1" to "2" in windows starting from 0 to 1000, with the
/// timestamps Kafka's timestamped store view gives.
fn time_windowed_store<V: Clone + 'static>(
    builder: &StreamsBuilder,
    name: &str,
) -> Result<Vec<(Windowed<String>, ValueAndTimestamp<V>)>> {
    let driver = TopologyTestDriver::new(&builder.build()?)?;
    time_windowed_data(&driver)?;
    let store: WindowStore<String, ValueAndTimestamp<V>> = driver.state_store(name)?;
    Ok(store.fetch_range(Some(&"1".to_owned()), Some(&"2".to_owned()), 0, 1000)?)
}

/// Kafka's expected store contents: with a cache, every window (the cache
/// still holds the ones expired underneath); without, only those the
/// store's retention keeps (window start > 1000 - 500).
fn expected_windows<V: Clone>(
    cache: Cache,
    all: [(Windowed<String>, V, i64); 4],
) -> Vec<(Windowed<String>, ValueAndTimestamp<V>)> {
    let rows = all
        .into_iter()
        .map(|(key, value, timestamp)| (key, ValueAndTimestamp::new(value, timestamp)));
    match cache {
        Cache::On => rows.collect(),
        Cache::Off => rows.skip(3).collect(),
    }
}

fn materialize_count(cache: Cache) -> Result {
    let builder = StreamsBuilder::new();
    tumbling_500(&builder)?.count_with(cached(Materialized::named("count-store"), cache));
    assert_eq!(
        time_windowed_store::<i64>(&builder, "count-store")?,
        expected_windows(
            cache,
            [
                (windowed("1", 0, 500), 2, 15),
                (windowed("1", 500, 1000), 1, 500),
                (windowed("2", 500, 1000), 2, 550),
                (windowed("2", 1000, 1500), 1, 1000),
            ]
        )
    );
    Ok(())
}

/// Kafka's `TimeWindowedKStreamImplTest.shouldMaterializeCount` (ON_WINDOW_UPDATE, caching disabled).
#[test]
fn time_windowed_materialize_count() -> Result {
    materialize_count(Cache::Off)
}

/// Kafka's `TimeWindowedKStreamImplTest.shouldMaterializeCount` (ON_WINDOW_UPDATE, caching enabled).
#[test]
fn time_windowed_materialize_count_cached() -> Result {
    materialize_count(Cache::On)
}

fn materialize_reduced(cache: Cache) -> Result {
    let builder = StreamsBuilder::new();
    tumbling_500(&builder)?.reduce_with(concat, string_store("reduced", cache));
    assert_eq!(
        time_windowed_store::<String>(&builder, "reduced")?,
        expected_windows(
            cache,
            [
                (windowed("1", 0, 500), "1+2".to_owned(), 15),
                (windowed("1", 500, 1000), "3".to_owned(), 500),
                (windowed("2", 500, 1000), "10+20".to_owned(), 550),
                (windowed("2", 1000, 1500), "30".to_owned(), 1000),
            ]
        )
    );
    Ok(())
}

/// Kafka's `TimeWindowedKStreamImplTest.shouldMaterializeReduced` (caching disabled).
#[test]
fn time_windowed_materialize_reduced() -> Result {
    materialize_reduced(Cache::Off)
}

/// Kafka's `TimeWindowedKStreamImplTest.shouldMaterializeReduced` (caching enabled).
#[test]
fn time_windowed_materialize_reduced_cached() -> Result {
    materialize_reduced(Cache::On)
}

fn materialize_aggregated(cache: Cache) -> Result {
    let builder = StreamsBuilder::new();
    tumbling_500(&builder)?.aggregate_with(zero, add, string_store("aggregated", cache));
    assert_eq!(
        time_windowed_store::<String>(&builder, "aggregated")?,
        expected_windows(
            cache,
            [
                (windowed("1", 0, 500), "0+1+2".to_owned(), 15),
                (windowed("1", 500, 1000), "0+3".to_owned(), 500),
                (windowed("2", 500, 1000), "0+10+20".to_owned(), 550),
                (windowed("2", 1000, 1500), "0+30".to_owned(), 1000),
            ]
        )
    );
    Ok(())
}

/// Kafka's `TimeWindowedKStreamImplTest.shouldMaterializeAggregated` (caching disabled).
#[test]
fn time_windowed_materialize_aggregated() -> Result {
    materialize_aggregated(Cache::Off)
}

/// Kafka's `TimeWindowedKStreamImplTest.shouldMaterializeAggregated` (caching enabled).
#[test]
fn time_windowed_materialize_aggregated_cached() -> Result {
    materialize_aggregated(Cache::On)
}

// ---------------------------------------------------------------------------
// SessionWindowedKStreamImplTest
// ---------------------------------------------------------------------------

/// "input" grouped by key in sessions with a 500 ms gap and no grace.
fn sessions_500(builder: &StreamsBuilder) -> Result<SessionWindowedKStream<String, String>> {
    Ok(builder
        .stream::<String, String>("input")
        .group_by_key()
        .windowed_by(SessionWindows::of_inactivity_gap_with_no_grace(ms(500))?))
}

/// `SessionWindowedKStreamImplTest.processData`.
fn session_data(driver: &TopologyTestDriver) -> Result {
    pipe(
        driver,
        &[
            ("1", "1", 10),
            ("1", "2", 15),
            ("1", "3", 600),
            ("2", "1", 600),
            ("2", "2", 599),
        ],
    )
}

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
    session_data(&driver)?;
    read(&driver, "output")
}

/// The session updates of Kafka's `SessionWindowedKStreamImplTest`, with
/// `value(n)` the aggregate of the first `n` records of a session of one,
/// and `merged` that of a session of two.
fn session_updates<V: Clone>(
    single: impl Fn(&str) -> V,
    merged: V,
) -> Vec<(&'static str, Option<V>, i64)> {
    vec![
        ("[1@10/10]", Some(single("1")), 10),
        ("[1@10/10]", None, 10),
        ("[1@10/15]", Some(merged.clone()), 15),
        ("[1@600/600]", Some(single("3")), 600),
        ("[2@600/600]", Some(single("1")), 600),
        ("[2@600/600]", None, 600),
        ("[2@599/600]", Some(merged), 600),
    ]
}

fn session_count(cache: Cache) -> Result {
    let builder = StreamsBuilder::new();
    let counts = sessions_500(&builder)?.count_with(cached(
        Materialized::with(strings(), Arc::new(I64Serde)),
        cache,
    ));
    assert_eq!(
        session_output(&builder, &counts)?,
        count_rows(&session_updates(|_| 1, 2))
    );
    Ok(())
}

/// Kafka's `SessionWindowedKStreamImplTest.shouldCountSessionWindowedWithCachingDisabled` (ON_WINDOW_UPDATE).
#[test]
fn session_windowed_count_uncached() -> Result {
    session_count(Cache::Off)
}

/// Kafka's `SessionWindowedKStreamImplTest.shouldCountSessionWindowedWithCachingEnabled` (ON_WINDOW_UPDATE).
#[test]
fn session_windowed_count_cached() -> Result {
    session_count(Cache::On)
}

fn owned_rows(rows: Vec<(&str, Option<String>, i64)>) -> Updates<String> {
    rows.into_iter()
        .map(|(k, v, ts)| TestRecord::new(k.to_owned(), v, ts))
        .collect()
}

/// Kafka's `SessionWindowedKStreamImplTest.shouldReduceWindowed` (ON_WINDOW_UPDATE).
#[test]
fn session_windowed_reduce() -> Result {
    let builder = StreamsBuilder::new();
    let reduced = sessions_500(&builder)?.reduce(concat);
    assert_eq!(
        session_output(&builder, &reduced)?,
        owned_rows(session_updates(str::to_owned, "1+2".to_owned()))
    );
    Ok(())
}

/// Kafka's session merger of these tests: `left+right`.
fn merge(_: &String, left: String, right: String) -> String {
    format!("{left}+{right}")
}

/// Kafka's `SessionWindowedKStreamImplTest.shouldAggregateSessionWindowed` (ON_WINDOW_UPDATE).
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
        owned_rows(session_updates(|v| format!("0+{v}"), "0+0+1+2".to_owned()))
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
    session_data(&driver)?;
    let store: SessionStore<String, V> = driver.state_store(name)?;
    Ok(store.fetch_range(Some(&"1".to_owned()), Some(&"2".to_owned()))?)
}

/// The stores of these tests use Kafka's default caching (enabled).
fn session_materialized<V: DefaultSerde>(name: &str) -> Materialized<String, V> {
    cached(Materialized::named(name), Cache::On)
}

/// Kafka's `SessionWindowedKStreamImplTest.shouldMaterializeCount` (ON_WINDOW_UPDATE).
#[test]
fn session_windowed_materialize_count() -> Result {
    let builder = StreamsBuilder::new();
    sessions_500(&builder)?.count_with(session_materialized("count-store"));
    assert_eq!(
        session_store::<i64>(&builder, "count-store")?,
        [
            (windowed("1", 10, 15), 2),
            (windowed("1", 600, 600), 1),
            (windowed("2", 599, 600), 2),
        ]
    );
    Ok(())
}

/// Kafka's `SessionWindowedKStreamImplTest.shouldMaterializeReduced` (ON_WINDOW_UPDATE).
#[test]
fn session_windowed_materialize_reduced() -> Result {
    let builder = StreamsBuilder::new();
    sessions_500(&builder)?.reduce_with(concat, session_materialized("reduced"));
    assert_eq!(
        session_store::<String>(&builder, "reduced")?,
        [
            (windowed("1", 10, 15), "1+2".to_owned()),
            (windowed("1", 600, 600), "3".to_owned()),
            (windowed("2", 599, 600), "1+2".to_owned()),
        ]
    );
    Ok(())
}

/// Kafka's `SessionWindowedKStreamImplTest.shouldMaterializeAggregated` (ON_WINDOW_UPDATE).
#[test]
fn session_windowed_materialize_aggregated() -> Result {
    let builder = StreamsBuilder::new();
    sessions_500(&builder)?.aggregate_with(zero, add, merge, session_materialized("aggregated"));
    assert_eq!(
        session_store::<String>(&builder, "aggregated")?,
        [
            (windowed("1", 10, 15), "0+0+1+2".to_owned()),
            (windowed("1", 600, 600), "0+3".to_owned()),
            (windowed("2", 599, 600), "0+0+1+2".to_owned()),
        ]
    );
    Ok(())
}
