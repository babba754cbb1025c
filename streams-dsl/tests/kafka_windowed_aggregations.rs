//! Ports of Kafka Streams' windowed aggregation unit tests
//! (`KStreamWindowAggregateTest`, `KStreamSessionWindowAggregateProcessorTest`,
//! `TimeWindowedKStreamImplTest`, `SessionWindowedKStreamImplTest`), plus
//! the emit-final examples of `TimeWindowedKStreamIntegrationTest` run on
//! the test driver: the same input through the same topology, and the
//! whole output (keys, values, timestamps, in order) compared with what
//! Kafka's tests expect. Windowed keys are written as `[key@start/end]`, as
//! Kafka's `Windowed::toString`.
//!
//! Kafka's test classes are parameterized by emit strategy (KIP-825), and
//! so are the topologies here. The tests of `EmitStrategy.onWindowClose()`
//! say `ON_WINDOW_CLOSE`, and where a Kafka test is ported for both
//! strategies, the name of its emit-final port ends in `_on_window_close`;
//! the other tests run the default, `ON_WINDOW_UPDATE`.
//!
//! On window close, where Kafka's test only compares a set or a map, the
//! sequence asserted here is the one the emission rules give: within one
//! emission, time windows come by window start, then key bytes; sessions
//! by end, then start, then key bytes; and emissions follow one another as
//! the records that trigger them. Each such sequence holds exactly the
//! windows of Kafka's set unless the doc comment says otherwise.
//!
//! Kafka's tests run each emit-final case with caching on and off. An
//! aggregation that emits on window close keeps no cache here (Kafka keeps
//! one for time windows only, and it forwards nothing), so both variants
//! must give the same output; the tests run both and compare each.

mod support;
use support::{
    add, assert_join_outputs, cached, concat, count_rows, merge, ms, pipe, pipe_to, read,
    run_windowed, string_store, strings, to_strings, updates, windowed, zero, Cache, Result, Row,
    Task, Updates, CACHES, CLOSE, UPDATE,
};

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use streams_core::engine::TaskConfig;
use streams_core::prelude::*;
use streams_core::state::{SessionStore, ValueAndTimestamp, WindowStore};
use streams_core::Windowed;
use streams_dsl::{
    EmitStrategy, KTable, Materialized, SessionWindowedKStream, SessionWindows, StreamsBuilder,
    TimeWindowedKStream, TimeWindows,
};

// ---------------------------------------------------------------------------
// KStreamWindowAggregateTest
// ---------------------------------------------------------------------------

/// `topic` aggregated with `STRING_INIT`/`TOSTRING_ADDER` in windows of
/// 10 ms advancing by 5 with `grace_ms`, emitting as `emit` says, into
/// `store`.
fn hopping(
    builder: &StreamsBuilder,
    topic: &str,
    grace_ms: u64,
    emit: EmitStrategy,
    store: Materialized<String, String>,
) -> Result<KTable<Windowed<String>, String>> {
    let windows = TimeWindows::of_size_and_grace(ms(10), ms(grace_ms))?.advance_by(ms(5))?;
    Ok(builder
        .stream::<String, String>(topic)
        .group_by_key()
        .windowed_by(windows)
        .emit_strategy(emit)
        .aggregate_with(zero, add, store))
}

/// [`hopping`] into `<topic>-Canonized`, cached or not.
fn canonized(
    builder: &StreamsBuilder,
    topic: &str,
    grace_ms: u64,
    emit: EmitStrategy,
    cache: Cache,
) -> Result<KTable<Windowed<String>, String>> {
    let store = string_store(&format!("{topic}-Canonized"), cache);
    hopping(builder, topic, grace_ms, emit, store)
}

/// What `testAggBasic` emits: its records on "topic1" through
/// [`canonized`] with 100 ms of grace.
fn agg_basic(emit: EmitStrategy, cache: Cache) -> Result<Updates<String>> {
    let (output, _) = run_windowed(
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
        |builder| canonized(builder, "topic1", 100, emit, cache),
    )?;
    Ok(output)
}

/// What `testAggBasic` emits on window update, cached or not.
const AGG_BASIC_UPDATES: [Row<'static>; 29] = [
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
];

/// Kafka's `KStreamWindowAggregateTest.testAggBasic` (ON_WINDOW_UPDATE, caching disabled).
#[test]
fn window_aggregate_agg_basic() -> Result {
    assert_eq!(agg_basic(UPDATE, Cache::Off)?, updates(&AGG_BASIC_UPDATES));
    Ok(())
}

/// Kafka's `KStreamWindowAggregateTest.testAggBasic` (ON_WINDOW_UPDATE, caching enabled).
#[test]
fn window_aggregate_agg_basic_cached() -> Result {
    assert_eq!(agg_basic(UPDATE, Cache::On)?, updates(&AGG_BASIC_UPDATES));
    Ok(())
}

/// Kafka's `KStreamWindowAggregateTest.testAggBasic` (ON_WINDOW_CLOSE,
/// caching on and off): with 100 ms of grace no window closes by stream
/// time 14, so nothing is emitted.
#[test]
fn window_aggregate_agg_basic_on_window_close() -> Result {
    for cache in CACHES {
        assert_eq!(agg_basic(CLOSE, cache)?, updates(&[]), "{cache:?}");
    }
    Ok(())
}

/// The topology of `testJoin`: "topic1" and "topic2" through [`canonized`]
/// with `grace_ms`, written to "table1" and "table2", and their join
/// (`p1%p2`) written to "joined".
fn join_driver(grace_ms: u64, emit: EmitStrategy, cache: Cache) -> Result<TopologyTestDriver> {
    let builder = StreamsBuilder::new();
    let table1 = canonized(&builder, "topic1", grace_ms, emit, cache)?;
    to_strings(&table1, "table1");
    let table2 = canonized(&builder, "topic2", grace_ms, emit, cache)?;
    to_strings(&table2, "table2");
    to_strings(
        &table1.join(&table2, |p1, p2| format!("{p1}%{p2}")),
        "joined",
    );
    Ok(TopologyTestDriver::new(&builder.build()?)?)
}

fn join(cache: Cache) -> Result {
    let context = format!("{cache:?}");
    let driver = join_driver(100, UPDATE, cache)?;

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
        &context,
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
        &context,
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
        &context,
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
fn window_aggregate_join_on_window_close() -> Result {
    for cache in CACHES {
        let context = format!("{cache:?}");
        let driver = join_driver(5, CLOSE, cache)?;

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

/// `shouldLogAndMeterWhenSkippingNullKey`: a record with a null key
/// through windows of 10 ms advancing by 5, emitting as `emit` says, is
/// dropped (and counted) and nothing is emitted.
fn skips_null_key(emit: EmitStrategy) -> Result {
    let builder = StreamsBuilder::new();
    let windows = TimeWindows::of_size_with_no_grace(ms(10))?.advance_by(ms(5))?;
    builder
        .stream::<Option<String>, String>("topic")
        .group_by_key()
        .windowed_by(windows)
        .emit_strategy(emit)
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
    assert_eq!(read::<String>(&driver, "output")?, updates(&[]), "{emit:?}");
    assert_eq!(driver.metrics().dropped_records, 1, "{emit:?}");
    Ok(())
}

/// Kafka's `KStreamWindowAggregateTest.shouldLogAndMeterWhenSkippingNullKey`:
/// the record is dropped (and counted) and nothing is emitted.
#[test]
fn window_aggregate_skips_null_key() -> Result {
    skips_null_key(UPDATE)
}

/// Kafka's `KStreamWindowAggregateTest.shouldLogAndMeterWhenSkippingNullKey`
/// (ON_WINDOW_CLOSE): the record is dropped (and counted) and nothing is
/// emitted. The log line is not ported.
#[test]
fn window_aggregate_skips_null_key_on_window_close() -> Result {
    skips_null_key(CLOSE)
}

/// Runs the `k` records of Kafka's expired-window tests through windows of
/// 10 ms with 90 ms grace advancing by `advance_ms`, aggregating with
/// `""` and `+value` and emitting as `emit` says, and returns the output
/// and the dropped count.
fn expired_windows(
    advance_ms: u64,
    retention: Option<Duration>,
    emit: EmitStrategy,
    cache: Cache,
    inputs: &[(&str, i64)],
) -> Result<(Updates<String>, u64)> {
    let windows = TimeWindows::of_size_and_grace(ms(10), ms(90))?.advance_by(ms(advance_ms))?;
    let mut materialized = string_store("topic1-Canonicalized", cache).with_logging_disabled();
    if let Some(retention) = retention {
        materialized = materialized.with_retention(retention);
    }
    let records: Vec<_> = inputs.iter().map(|(v, ts)| ("k", *v, *ts)).collect();
    let (output, driver) = run_windowed("topic", &records, |builder| {
        Ok(builder
            .stream::<String, String>("topic")
            .group_by_key()
            .windowed_by(windows)
            .emit_strategy(emit)
            .aggregate_with(String::new, add, materialized))
    })?;
    Ok((output, driver.metrics().dropped_records))
}

/// The output and dropped count of `shouldLogAndMeterWhenSkippingExpiredWindow`:
/// [`expired_windows`] advancing by 5, the store kept 100 ms.
fn skipping_expired_window(emit: EmitStrategy, cache: Cache) -> Result<(Updates<String>, u64)> {
    expired_windows(
        5,
        Some(ms(100)),
        emit,
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
    )
}

/// What `shouldLogAndMeterWhenSkippingExpiredWindow` emits on window
/// update, cached or not.
const EXPIRED_WINDOW_UPDATES: [Row<'static>; 8] = [
    ("[k@95/105]", "+100", 100),
    ("[k@100/110]", "+100", 100),
    ("[k@5/15]", "+5", 5),
    ("[k@5/15]", "+5+6", 6),
    ("[k@100/110]", "+100+105", 105),
    ("[k@105/115]", "+105", 105),
    ("[k@100/110]", "+100+105+106", 106),
    ("[k@105/115]", "+105+106", 106),
];

/// Kafka's `KStreamWindowAggregateTest.shouldLogAndMeterWhenSkippingExpiredWindow`
/// (ON_WINDOW_UPDATE, caching disabled): output and dropped-records count.
#[test]
fn window_aggregate_skips_expired_windows() -> Result {
    let (output, dropped) = skipping_expired_window(UPDATE, Cache::Off)?;
    assert_eq!(output, updates(&EXPIRED_WINDOW_UPDATES));
    // One per expired window a record falls into, as Kafka's drop sensor.
    assert_eq!(dropped, 7);
    Ok(())
}

/// Kafka's `KStreamWindowAggregateTest.shouldLogAndMeterWhenSkippingExpiredWindow`
/// (ON_WINDOW_UPDATE, caching enabled).
#[test]
fn window_aggregate_skips_expired_windows_cached() -> Result {
    let (output, dropped) = skipping_expired_window(UPDATE, Cache::On)?;
    assert_eq!(output, updates(&EXPIRED_WINDOW_UPDATES));
    assert_eq!(dropped, 7);
    Ok(())
}

/// Kafka's `KStreamWindowAggregateTest.shouldLogAndMeterWhenSkippingExpiredWindow`
/// (ON_WINDOW_CLOSE, caching on and off): one final result, `[k@5/15]`
/// emitted at `105@105` (close time 15), and 7 drops (records 0 to 6 in the
/// closed window `[0,10)`). Kafka's `window-aggregate-final-emit-total`
/// metric (1.0) and lateness metrics are not ported: this engine has no
/// such metrics.
#[test]
fn window_aggregate_skips_expired_windows_on_window_close() -> Result {
    for cache in CACHES {
        let (output, dropped) = skipping_expired_window(CLOSE, cache)?;
        assert_eq!(output, updates(&[("[k@5/15]", "+5+6", 6)]), "{cache:?}");
        assert_eq!(dropped, 7, "{cache:?}");
    }
    Ok(())
}

/// The output and dropped count of `shouldLogAndMeterWhenSkippingExpiredWindowByGrace`:
/// [`expired_windows`] advancing by 10, the store kept as long as a window
/// can change.
fn skipping_expired_window_by_grace(
    emit: EmitStrategy,
    cache: Cache,
) -> Result<(Updates<String>, u64)> {
    expired_windows(
        10,
        None,
        emit,
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
    )
}

/// Kafka's `KStreamWindowAggregateTest.shouldLogAndMeterWhenSkippingExpiredWindowByGrace`
/// (ON_WINDOW_UPDATE, caching disabled).
#[test]
fn window_aggregate_skips_windows_expired_by_grace() -> Result {
    let (output, dropped) = skipping_expired_window_by_grace(UPDATE, Cache::Off)?;
    assert_eq!(output, updates(&[("[k@200/210]", "+100", 200)]));
    assert_eq!(dropped, 7);
    Ok(())
}

/// Kafka's `KStreamWindowAggregateTest.shouldLogAndMeterWhenSkippingExpiredWindowByGrace`
/// (ON_WINDOW_UPDATE, caching enabled).
#[test]
fn window_aggregate_skips_windows_expired_by_grace_cached() -> Result {
    let (output, dropped) = skipping_expired_window_by_grace(UPDATE, Cache::On)?;
    assert_eq!(output, updates(&[("[k@200/210]", "+100", 200)]));
    assert_eq!(dropped, 7);
    Ok(())
}

/// Kafka's `KStreamWindowAggregateTest.shouldLogAndMeterWhenSkippingExpiredWindowByGrace`
/// (ON_WINDOW_CLOSE, caching on and off): 7 drops. Kafka asserts the
/// output only in update mode; on window close nothing is emitted (the
/// close time stays 110 after the first record, when the store was still
/// empty).
#[test]
fn window_aggregate_skips_windows_expired_by_grace_on_window_close() -> Result {
    for cache in CACHES {
        let (output, dropped) = skipping_expired_window_by_grace(CLOSE, cache)?;
        assert_eq!(output, updates(&[]), "{cache:?}");
        assert_eq!(dropped, 7, "{cache:?}");
    }
    Ok(())
}

/// The processor-level setup of `KStreamWindowAggregateTest`'s emit tests:
/// "input" through [`hopping`] with 5 ms grace, emitting as `emit` says,
/// into an uncached `dummy-store-name` kept one day without a changelog,
/// written to "output".
fn hopping_with_grace(emit: EmitStrategy) -> Result<Topology> {
    let builder = StreamsBuilder::new();
    let store = string_store("dummy-store-name", Cache::Off)
        .with_retention(Duration::from_secs(24 * 60 * 60))
        .with_logging_disabled();
    to_strings(&hopping(&builder, "input", 5, emit, store)?, "output");
    Ok(builder.build()?)
}

/// Kafka's `KStreamWindowAggregateTest.shouldNotEmitFinalIfNotProgressEnough`
/// (ON_WINDOW_UPDATE).
#[test]
fn window_aggregate_emits_every_update_without_progress() -> Result {
    let driver = TopologyTestDriver::new(&hopping_with_grace(UPDATE)?)?;
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

/// Kafka's `KStreamWindowAggregateTest.shouldNotEmitFinalIfNotProgressEnough`
/// (ON_WINDOW_CLOSE, emit interval 0): C@15 closes the windows starting at
/// 0; D@15 does not move the close time; E@19 moves it to 14, but no
/// window start lies in the new range [1, 4].
#[test]
fn window_aggregate_does_not_emit_final_without_progress() -> Result {
    let mut task = Task::with_emit_interval(&hopping_with_grace(CLOSE)?, Duration::ZERO)?;
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

/// Kafka's `KStreamWindowAggregateTest.shouldEmitWithInterval0` (ON_WINDOW_UPDATE).
#[test]
fn window_aggregate_emits_with_interval_0() -> Result {
    let driver = TopologyTestDriver::new(&hopping_with_grace(UPDATE)?)?;
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

/// Kafka's `KStreamWindowAggregateTest.shouldEmitWithInterval0`
/// (ON_WINDOW_CLOSE): `[0,10)` closes at C@15 (range [0, 0]), the windows
/// starting at 5 at D@20 (range [1, 5]).
#[test]
fn window_aggregate_emits_with_interval_0_on_window_close() -> Result {
    let mut task = Task::with_emit_interval(&hopping_with_grace(CLOSE)?, Duration::ZERO)?;
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

/// Kafka's `KStreamWindowAggregateTest.shouldEmitFromLastEmitTime`
/// (ON_WINDOW_CLOSE): windows starting at 0 close at C@15 and are emitted;
/// the task is closed, and a new task of the same partition starts from
/// its state directory and the processor metadata it committed (Kafka's
/// test re-creates the processor on the same context). At D@25 it emits
/// only the windows that closed since (starts 1 to 10), not `[0,10)` again.
#[test]
fn window_aggregate_emits_from_last_emit_time_on_window_close() -> Result {
    let topology = hopping_with_grace(CLOSE)?;
    let state = tempfile::tempdir()?;
    let config = |metadata: BTreeMap<String, i64>| {
        let dir = state.path().to_owned();
        move |config: &mut TaskConfig| {
            config.emit_intervals.windowed_aggregation = Duration::ZERO;
            config.state_dir = Some(dir);
            config.processor_metadata = metadata;
        }
    };
    let mut first = Task::with_config(&topology, config(BTreeMap::new()))?;
    first.process_all(&[("A", "1", 0), ("B", "2", 5), ("C", "3", 15)])?;
    assert_eq!(
        first.forwarded::<String>()?,
        updates(&[("[A@0/10]", "0+1", 0), ("[B@0/10]", "0+2", 5)])
    );
    let committed = first.close()?;
    assert_eq!(
        committed,
        BTreeMap::from([("dummy-store-name".to_owned(), 10)])
    );

    let mut second = Task::with_config(&topology, config(committed))?;
    second.process("D", "4", 25)?;
    assert_eq!(
        second.forwarded::<String>()?,
        updates(&[("[B@5/15]", "0+2", 5), ("[C@10/20]", "0+3", 15)])
    );
    Ok(())
}

/// Kafka's `KStreamWindowAggregateTest.shouldEmitWithLargeInterval` (ON_WINDOW_UPDATE).
#[test]
fn window_aggregate_emits_with_large_interval() -> Result {
    let driver = TopologyTestDriver::new(&hopping_with_grace(UPDATE)?)?;
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

/// Kafka's `KStreamWindowAggregateTest.shouldEmitWithLargeInterval`
/// (ON_WINDOW_CLOSE, emit interval 1 s, wall clock set by the test): at
/// wall-clock 0 the first record uses up the interval (no window closed
/// yet) and the next three are throttled; at 10 000 D@20 emits every
/// window closed by then; at 10 100 E@40 is throttled again.
#[test]
fn window_aggregate_emits_with_large_interval_on_window_close() -> Result {
    let mut task = Task::with_emit_interval(&hopping_with_grace(CLOSE)?, ms(1000))?;
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

/// Kafka's `KStreamWindowAggregateTest.shouldEmitFromLastEmitTime`
/// (ON_WINDOW_UPDATE): a new processor instance over the same store (here
/// a restart) carries on.
#[test]
fn window_aggregate_emits_from_last_emit_time() -> Result {
    let topology = hopping_with_grace(UPDATE)?;
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
/// (initializer 0, +1 per record, merger sums) over `windows`, emitting as
/// `emit` says, into a store kept three gaps without a changelog, cached
/// or not, on a task driven record by record with no commit in between,
/// as Kafka's mock processor context: cached updates are forwarded only
/// when the test flushes, and final results are looked for at every
/// record (emit interval 0).
fn session_processor_with(
    windows: SessionWindows,
    emit: EmitStrategy,
    cache: Cache,
) -> Result<Task> {
    let builder = StreamsBuilder::new();
    let store = Materialized::<String, i64>::named(SESSION_STORE)
        .with_retention(Duration::from_millis(3 * GAP_MS as u64))
        .with_logging_disabled();
    let sessions = builder
        .stream::<String, String>("input")
        .group_by_key()
        .windowed_by(windows)
        .emit_strategy(emit)
        .aggregate_with(
            || 0_i64,
            |_, _, count| count + 1,
            |_, left, right| left + right,
            cached(store, cache),
        );
    to_strings(&sessions, "output");
    Task::with_emit_interval(&builder.build()?, Duration::ZERO)
}

/// Kafka's `setup`: [`session_processor_with`] sessions without grace.
fn session_processor(emit: EmitStrategy, cache: Cache) -> Result<Task> {
    session_processor_with(
        SessionWindows::of_inactivity_gap_with_no_grace(Duration::from_millis(GAP_MS as u64))?,
        emit,
        cache,
    )
}

/// Kafka's `sessionStore.findSessions(key, earliestEnd, latestStart)`.
fn find_sessions(
    processor: &Task,
    key: &str,
    earliest_end: i64,
    latest_start: i64,
) -> Result<Vec<(Windowed<String>, i64)>> {
    let store: SessionStore<String, i64> = processor.state_store(SESSION_STORE)?;
    Ok(store.find_sessions(&key.to_owned(), earliest_end, latest_start)?)
}

/// The records of `shouldHaveMultipleSessionsForSameIdWhenTimestampApartBySessionGap`:
/// "mel" at 0, twice at G+1 and three times at 2G+2.
const APART_BY_GAP: [Row<'static>; 6] = [
    ("mel", "first", 0),
    ("mel", "second", GAP_MS + 1),
    ("mel", "second", GAP_MS + 1),
    ("mel", "third", 2 * (GAP_MS + 1)),
    ("mel", "third", 2 * (GAP_MS + 1)),
    ("mel", "third", 2 * (GAP_MS + 1)),
];

/// The records of `shouldHandleMultipleSessionsAndMerging`.
const MULTIPLE_SESSIONS: [Row<'static>; 9] = [
    ("a", "1", 0),
    ("b", "1", 0),
    ("c", "1", 0),
    ("d", "1", 0),
    ("d", "2", GAP_MS / 2),
    ("a", "2", GAP_MS + 1),
    ("b", "2", GAP_MS + 1),
    ("a", "3", GAP_MS + 1 + GAP_MS / 2),
    ("c", "3", GAP_MS + 1 + GAP_MS / 2),
];

/// Kafka's `KStreamSessionWindowAggregateProcessorTest.shouldCreateSingleSessionWhenWithinGap`.
#[test]
fn session_processor_creates_single_session_within_gap() -> Result {
    let mut processor = session_processor(UPDATE, Cache::On)?;
    processor.process("john", "first", 0)?;
    processor.process("john", "second", 500)?;
    assert_eq!(
        find_sessions(&processor, "john", 0, 2000)?,
        [(windowed("john", 0, 500), 2)]
    );
    Ok(())
}

/// Kafka's `KStreamSessionWindowAggregateProcessorTest.shouldMergeSessions`.
#[test]
fn session_processor_merges_sessions() -> Result {
    let mut processor = session_processor(UPDATE, Cache::On)?;
    processor.process("mel", "first", 0)?;
    assert_eq!(
        find_sessions(&processor, "mel", 0, 0)?,
        [(windowed("mel", 0, 0), 1)]
    );
    processor.process("mel", "second", GAP_MS + 1)?;
    assert_eq!(
        find_sessions(&processor, "mel", GAP_MS + 1, GAP_MS + 1)?,
        [(windowed("mel", GAP_MS + 1, GAP_MS + 1), 1)]
    );
    assert_eq!(
        find_sessions(&processor, "mel", 0, 0)?,
        [(windowed("mel", 0, 0), 1)]
    );
    processor.process("mel", "third", GAP_MS / 2)?;
    assert_eq!(
        find_sessions(&processor, "mel", 0, GAP_MS + 1)?,
        [(windowed("mel", 0, GAP_MS + 1), 3)]
    );
    Ok(())
}

/// Kafka's `KStreamSessionWindowAggregateProcessorTest.shouldUpdateSessionIfTheSameTime`.
#[test]
fn session_processor_updates_session_at_the_same_time() -> Result {
    let mut processor = session_processor(UPDATE, Cache::On)?;
    processor.process("mel", "first", 0)?;
    processor.process("mel", "second", 0)?;
    assert_eq!(
        find_sessions(&processor, "mel", 0, 0)?,
        [(windowed("mel", 0, 0), 2)]
    );
    Ok(())
}

/// Kafka's `KStreamSessionWindowAggregateProcessorTest.shouldHaveMultipleSessionsForSameIdWhenTimestampApartBySessionGap`
/// (ON_WINDOW_UPDATE, cached store flushed at the end).
#[test]
fn session_processor_keeps_sessions_a_gap_apart() -> Result {
    let mut processor = session_processor(UPDATE, Cache::On)?;
    let second = GAP_MS + 1;
    let third = 2 * (GAP_MS + 1);
    processor.process_all(&APART_BY_GAP)?;
    processor.commit()?;
    assert_eq!(
        processor.forwarded::<i64>()?,
        count_rows(&[
            (session("mel", 0, 0), Some(1), 0),
            (session("mel", second, second), Some(2), second),
            (session("mel", third, third), Some(3), third),
        ])
    );
    Ok(())
}

/// Kafka's `KStreamSessionWindowAggregateProcessorTest.shouldHaveMultipleSessionsForSameIdWhenTimestampApartBySessionGap`
/// (ON_WINDOW_CLOSE): `[0,0]` closes at the first record at G+1, the
/// session at G+1 at the first record at 2G+2; sessions are stamped with
/// their end and carry no old value.
#[test]
fn session_processor_keeps_sessions_a_gap_apart_on_window_close() -> Result {
    let mut processor = session_processor(CLOSE, Cache::Off)?;
    let later = GAP_MS + 1;
    processor.process_all(&APART_BY_GAP)?;
    assert_eq!(
        processor.forwarded::<i64>()?,
        count_rows(&[
            (session("mel", 0, 0), Some(1), 0),
            (session("mel", later, later), Some(2), later),
        ])
    );
    Ok(())
}

/// Kafka's `KStreamSessionWindowAggregateProcessorTest.shouldRemoveMergedSessionsFromStateStore`.
#[test]
fn session_processor_removes_merged_sessions_from_the_store() -> Result {
    let mut processor = session_processor(UPDATE, Cache::On)?;
    processor.process("a", "1", 0)?;
    assert_eq!(
        find_sessions(&processor, "a", 0, 0)?,
        [(windowed("a", 0, 0), 1)]
    );
    processor.process("a", "2", 100)?;
    assert_eq!(
        find_sessions(&processor, "a", 0, 100)?,
        [(windowed("a", 0, 100), 2)]
    );
    Ok(())
}

/// Kafka's `KStreamSessionWindowAggregateProcessorTest.shouldHandleMultipleSessionsAndMerging`
/// (ON_WINDOW_UPDATE, cached store flushed at the end).
#[test]
fn session_processor_handles_multiple_sessions_and_merging() -> Result {
    let mut processor = session_processor(UPDATE, Cache::On)?;
    let half = GAP_MS / 2;
    let later = GAP_MS + 1;
    let latest = GAP_MS + 1 + GAP_MS / 2;
    processor.process_all(&MULTIPLE_SESSIONS)?;
    processor.commit()?;
    assert_eq!(
        processor.forwarded::<i64>()?,
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

/// Kafka's `KStreamSessionWindowAggregateProcessorTest.shouldHandleMultipleSessionsAndMerging`
/// (ON_WINDOW_CLOSE): Kafka asserts this list. a, b and c's sessions
/// `[0,0]` close at a@G+1 and come by end, start, then key; d's merged
/// `[0,G/2]` closes at a@G+1+G/2. No tombstones for merged sessions.
#[test]
fn session_processor_handles_multiple_sessions_and_merging_on_window_close() -> Result {
    let mut processor = session_processor(CLOSE, Cache::Off)?;
    let half = GAP_MS / 2;
    processor.process_all(&MULTIPLE_SESSIONS)?;
    assert_eq!(
        processor.forwarded::<i64>()?,
        count_rows(&[
            (session("a", 0, 0), Some(1), 0),
            (session("b", 0, 0), Some(1), 0),
            (session("c", 0, 0), Some(1), 0),
            (session("d", 0, half), Some(2), half),
        ])
    );
    Ok(())
}

/// Kafka's `KStreamSessionWindowAggregateProcessorTest.shouldGetAggregatedValuesFromValueGetter`:
/// the table's value getter reads the session store by exact bounds, as
/// `fetch_session` does here.
#[test]
fn session_processor_values_by_session() -> Result {
    let mut processor = session_processor(UPDATE, Cache::On)?;
    processor.process("a", "1", 0)?;
    processor.process("a", "1", GAP_MS + 1)?;
    processor.process("a", "2", GAP_MS + 1)?;
    let store: SessionStore<String, i64> = processor.state_store(SESSION_STORE)?;
    let a = "a".to_owned();
    assert_eq!(store.fetch_session(&a, 0, 0)?, Some(1));
    assert_eq!(store.fetch_session(&a, GAP_MS + 1, GAP_MS + 1)?, Some(2));
    Ok(())
}

/// Kafka's `KStreamSessionWindowAggregateProcessorTest.shouldImmediatelyForwardNewSessionWhenNonCachedStore`.
#[test]
fn session_processor_forwards_new_sessions_immediately_when_uncached() -> Result {
    let mut processor = session_processor(UPDATE, Cache::Off)?;
    processor.process("a", "1", 0)?;
    processor.process("b", "1", 0)?;
    processor.process("c", "1", 0)?;
    assert_eq!(
        processor.forwarded::<i64>()?,
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
    let mut processor = session_processor(UPDATE, Cache::Off)?;
    processor.process("a", "1", 0)?;
    processor.process("a", "1", 5)?;
    assert_eq!(
        processor.forwarded::<i64>()?,
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
    let mut processor = session_processor_with(windows, UPDATE, Cache::Off)?;
    processor.process("dummy", "dummy", 0)?;
    processor.process("OnTime1", "1", 0)?;
    processor.process("dummy", "dummy", 11)?;
    processor.process("Late1", "1", 0)?;
    assert_eq!(
        processor.forwarded::<i64>()?,
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
    let mut processor = session_processor_with(windows, UPDATE, Cache::Off)?;
    processor.process("dummy", "dummy", 0)?;
    processor.process("OnTime1", "1", 0)?;
    processor.process("dummy", "dummy", 11)?;
    processor.process("OnTime2", "1", 0)?;
    processor.process("dummy", "dummy", 12)?;
    processor.process("Late1", "1", 0)?;
    assert_eq!(
        processor.forwarded::<i64>()?,
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

/// "input" grouped by key in tumbling windows of 500 ms without grace,
/// emitting as `emit` says.
fn tumbling_500(
    builder: &StreamsBuilder,
    emit: EmitStrategy,
) -> Result<TimeWindowedKStream<String, String>> {
    Ok(builder
        .stream::<String, String>("input")
        .group_by_key()
        .windowed_by(TimeWindows::of_size_with_no_grace(ms(500))?)
        .emit_strategy(emit))
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

/// Runs the time-windowed data through the table `aggregate` makes of
/// [`tumbling_500`] and returns what it wrote.
fn time_windowed_output<V>(
    emit: EmitStrategy,
    aggregate: impl FnOnce(TimeWindowedKStream<String, String>) -> KTable<Windowed<String>, V>,
) -> Result<Updates<V>>
where
    V: DefaultSerde + Clone + 'static,
    Option<V>: DefaultSerde,
{
    let (output, _) = run_windowed("input", &TIME_WINDOWED_DATA, |builder| {
        Ok(aggregate(tumbling_500(builder, emit)?))
    })?;
    Ok(output)
}

/// Kafka's `TimeWindowedKStreamImplTest.shouldCountWindowed` (ON_WINDOW_UPDATE).
#[test]
fn time_windowed_count() -> Result {
    assert_eq!(
        time_windowed_output(UPDATE, |windowed| windowed.count())?,
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

/// Kafka's `TimeWindowedKStreamImplTest.shouldCountWindowed`
/// (ON_WINDOW_CLOSE): `[0,500)` closes at "1"@500, the windows starting at
/// 500 at "2"@1000 (by key).
#[test]
fn time_windowed_count_on_window_close() -> Result {
    assert_eq!(
        time_windowed_output(CLOSE, |windowed| windowed.count())?,
        count_rows(&[
            ("[1@0/500]", Some(2), 15),
            ("[1@500/1000]", Some(1), 500),
            ("[2@500/1000]", Some(2), 550),
        ])
    );
    Ok(())
}

/// Kafka's `TimeWindowedKStreamImplTest.shouldReduceWindowed` (ON_WINDOW_UPDATE).
#[test]
fn time_windowed_reduce() -> Result {
    assert_eq!(
        time_windowed_output(UPDATE, |windowed| windowed.reduce(concat))?,
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

/// Kafka's `TimeWindowedKStreamImplTest.shouldReduceWindowed` (ON_WINDOW_CLOSE).
#[test]
fn time_windowed_reduce_on_window_close() -> Result {
    assert_eq!(
        time_windowed_output(CLOSE, |windowed| windowed.reduce(concat))?,
        updates(&[
            ("[1@0/500]", "1+2", 15),
            ("[1@500/1000]", "3", 500),
            ("[2@500/1000]", "10+20", 550),
        ])
    );
    Ok(())
}

/// What `shouldAggregateWindowed` emits, its store cached or not.
fn time_windowed_aggregate(emit: EmitStrategy, cache: Cache) -> Result<Updates<String>> {
    let materialized = cached(Materialized::with(strings(), strings()), cache);
    time_windowed_output(emit, |windowed| {
        windowed.aggregate_with(zero, add, materialized)
    })
}

/// What `shouldAggregateWindowed` emits on window update, cached or not.
const TIME_WINDOWED_AGGREGATES: [Row<'static>; 6] = [
    ("[1@0/500]", "0+1", 10),
    ("[1@0/500]", "0+1+2", 15),
    ("[1@500/1000]", "0+3", 500),
    ("[2@500/1000]", "0+10", 550),
    ("[2@500/1000]", "0+10+20", 550),
    ("[2@1000/1500]", "0+30", 1000),
];

/// Kafka's `TimeWindowedKStreamImplTest.shouldAggregateWindowed` (ON_WINDOW_UPDATE, caching disabled).
#[test]
fn time_windowed_aggregate_uncached() -> Result {
    assert_eq!(
        time_windowed_aggregate(UPDATE, Cache::Off)?,
        updates(&TIME_WINDOWED_AGGREGATES)
    );
    Ok(())
}

/// Kafka's `TimeWindowedKStreamImplTest.shouldAggregateWindowed` (ON_WINDOW_UPDATE, caching enabled).
#[test]
fn time_windowed_aggregate_cached() -> Result {
    assert_eq!(
        time_windowed_aggregate(UPDATE, Cache::On)?,
        updates(&TIME_WINDOWED_AGGREGATES)
    );
    Ok(())
}

/// Kafka's `TimeWindowedKStreamImplTest.shouldAggregateWindowed`
/// (ON_WINDOW_CLOSE, caching on and off).
#[test]
fn time_windowed_aggregate_on_window_close() -> Result {
    for cache in CACHES {
        assert_eq!(
            time_windowed_aggregate(CLOSE, cache)?,
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

/// Pipes the time-windowed data through what `aggregate` makes of
/// [`tumbling_500`] and returns what the window store `name` holds for
/// keys "1" to "2" in windows starting from 0 to 1000, with the timestamps
/// Kafka's timestamped store view gives.
fn time_windowed_store<V: Clone + 'static>(
    emit: EmitStrategy,
    name: &str,
    aggregate: impl FnOnce(TimeWindowedKStream<String, String>),
) -> Result<Vec<(Windowed<String>, ValueAndTimestamp<V>)>> {
    let builder = StreamsBuilder::new();
    aggregate(tumbling_500(&builder, emit)?);
    let driver = TopologyTestDriver::new(&builder.build()?)?;
    pipe(&driver, &TIME_WINDOWED_DATA)?;
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

/// What `shouldMaterializeCount` finds in "count-store".
fn materialized_count(
    emit: EmitStrategy,
    cache: Cache,
) -> Result<Vec<(Windowed<String>, ValueAndTimestamp<i64>)>> {
    time_windowed_store(emit, "count-store", |windowed| {
        windowed.count_with(cached(Materialized::named("count-store"), cache));
    })
}

fn materialize_count(cache: Cache) -> Result {
    assert_eq!(
        materialized_count(UPDATE, cache)?,
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

/// Kafka's `TimeWindowedKStreamImplTest.shouldMaterializeCount`
/// (ON_WINDOW_CLOSE, caching on and off): the store "count-store" read for
/// keys "1" to "2" and window starts 0 to 1000, with timestamps (Kafka's
/// plain and timestamped views).
///
/// The store of final results has no cache, so this is Kafka's answer
/// without caching (with caching, Kafka's cache still holds `1[0,500)`):
/// the time-ordered store keeps windows starting at or after 1000 - 500.
#[test]
fn time_windowed_materialize_count_on_window_close() -> Result {
    for cache in CACHES {
        assert_eq!(
            materialized_count(CLOSE, cache)?,
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

fn materialize_reduced(cache: Cache) -> Result {
    let stored = time_windowed_store(UPDATE, "reduced", |windowed| {
        windowed.reduce_with(concat, string_store("reduced", cache));
    })?;
    assert_eq!(
        stored,
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
    let stored = time_windowed_store(UPDATE, "aggregated", |windowed| {
        windowed.aggregate_with(zero, add, string_store("aggregated", cache));
    })?;
    assert_eq!(
        stored,
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

/// "input" grouped by key in sessions with a 500 ms gap and no grace,
/// emitting as `emit` says.
fn sessions_500(
    builder: &StreamsBuilder,
    emit: EmitStrategy,
) -> Result<SessionWindowedKStream<String, String>> {
    Ok(builder
        .stream::<String, String>("input")
        .group_by_key()
        .windowed_by(SessionWindows::of_inactivity_gap_with_no_grace(ms(500))?)
        .emit_strategy(emit))
}

/// `SessionWindowedKStreamImplTest.processData`.
const SESSION_DATA: [Row<'static>; 5] = [
    ("1", "1", 10),
    ("1", "2", 15),
    ("1", "3", 600),
    ("2", "1", 600),
    ("2", "2", 599),
];

/// Runs the session data through the table `aggregate` makes of
/// [`sessions_500`] and returns what it wrote.
fn session_output<V>(
    emit: EmitStrategy,
    aggregate: impl FnOnce(SessionWindowedKStream<String, String>) -> KTable<Windowed<String>, V>,
) -> Result<Updates<V>>
where
    V: DefaultSerde + Clone + 'static,
    Option<V>: DefaultSerde,
{
    let (output, _) = run_windowed("input", &SESSION_DATA, |builder| {
        Ok(aggregate(sessions_500(builder, emit)?))
    })?;
    Ok(output)
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

/// What `shouldCountSessionWindowed…` emits, its store cached or not.
fn session_count(emit: EmitStrategy, cache: Cache) -> Result<Updates<i64>> {
    let materialized = cached(Materialized::with(strings(), Arc::new(I64Serde)), cache);
    session_output(emit, |sessions| sessions.count_with(materialized))
}

/// Kafka's `SessionWindowedKStreamImplTest.shouldCountSessionWindowedWithCachingDisabled` (ON_WINDOW_UPDATE).
#[test]
fn session_windowed_count_uncached() -> Result {
    assert_eq!(
        session_count(UPDATE, Cache::Off)?,
        count_rows(&session_updates(|_| 1, 2))
    );
    Ok(())
}

/// Kafka's `SessionWindowedKStreamImplTest.shouldCountSessionWindowedWithCachingEnabled` (ON_WINDOW_UPDATE).
#[test]
fn session_windowed_count_cached() -> Result {
    assert_eq!(
        session_count(UPDATE, Cache::On)?,
        count_rows(&session_updates(|_| 1, 2))
    );
    Ok(())
}

/// Kafka's `SessionWindowedKStreamImplTest.shouldCountSessionWindowedWithCachingDisabled`
/// (ON_WINDOW_CLOSE): `1[10,15]` closes at "1"@600 (sessions ending in
/// [0, 99]); the others stay open.
#[test]
fn session_windowed_count_uncached_on_window_close() -> Result {
    assert_eq!(
        session_count(CLOSE, Cache::Off)?,
        count_rows(&[("[1@10/15]", Some(2), 15)])
    );
    Ok(())
}

/// Kafka's `SessionWindowedKStreamImplTest.shouldCountSessionWindowedWithCachingEnabled`
/// (ON_WINDOW_CLOSE).
#[test]
fn session_windowed_count_cached_on_window_close() -> Result {
    assert_eq!(
        session_count(CLOSE, Cache::On)?,
        count_rows(&[("[1@10/15]", Some(2), 15)])
    );
    Ok(())
}

fn owned_rows(rows: Vec<(&str, Option<String>, i64)>) -> Updates<String> {
    rows.into_iter()
        .map(|(k, v, ts)| TestRecord::new(k.to_owned(), v, ts))
        .collect()
}

/// Kafka's `SessionWindowedKStreamImplTest.shouldReduceWindowed` (ON_WINDOW_UPDATE).
#[test]
fn session_windowed_reduce() -> Result {
    assert_eq!(
        session_output(UPDATE, |sessions| sessions.reduce(concat))?,
        owned_rows(session_updates(str::to_owned, "1+2".to_owned()))
    );
    Ok(())
}

/// Kafka's `SessionWindowedKStreamImplTest.shouldReduceWindowed` (ON_WINDOW_CLOSE).
#[test]
fn session_windowed_reduce_on_window_close() -> Result {
    assert_eq!(
        session_output(CLOSE, |sessions| sessions.reduce(concat))?,
        updates(&[("[1@10/15]", "1+2", 15)])
    );
    Ok(())
}

/// What `shouldAggregateSessionWindowed` emits.
fn session_aggregate(emit: EmitStrategy) -> Result<Updates<String>> {
    session_output(emit, |sessions| {
        sessions.aggregate_with(zero, add, merge, Materialized::with(strings(), strings()))
    })
}

/// Kafka's `SessionWindowedKStreamImplTest.shouldAggregateSessionWindowed` (ON_WINDOW_UPDATE).
#[test]
fn session_windowed_aggregate() -> Result {
    assert_eq!(
        session_aggregate(UPDATE)?,
        owned_rows(session_updates(|v| format!("0+{v}"), "0+0+1+2".to_owned()))
    );
    Ok(())
}

/// Kafka's `SessionWindowedKStreamImplTest.shouldAggregateSessionWindowed`
/// (ON_WINDOW_CLOSE).
#[test]
fn session_windowed_aggregate_on_window_close() -> Result {
    assert_eq!(
        session_aggregate(CLOSE)?,
        updates(&[("[1@10/15]", "0+0+1+2", 15)])
    );
    Ok(())
}

/// Pipes the session data through what `aggregate` makes of
/// [`sessions_500`] with the store `name` (asking for Kafka's default
/// caching, enabled), and returns every session of keys "1" to "2" in it.
fn session_store<V: DefaultSerde + 'static>(
    emit: EmitStrategy,
    name: &str,
    aggregate: impl FnOnce(SessionWindowedKStream<String, String>, Materialized<String, V>),
) -> Result<Vec<(Windowed<String>, V)>> {
    let builder = StreamsBuilder::new();
    aggregate(
        sessions_500(&builder, emit)?,
        cached(Materialized::named(name), Cache::On),
    );
    let driver = TopologyTestDriver::new(&builder.build()?)?;
    pipe(&driver, &SESSION_DATA)?;
    let store: SessionStore<String, V> = driver.state_store(name)?;
    Ok(store.fetch_range(Some(&"1".to_owned()), Some(&"2".to_owned()))?)
}

/// What `shouldMaterializeCount` finds in "count-store".
fn materialized_session_count(emit: EmitStrategy) -> Result<Vec<(Windowed<String>, i64)>> {
    session_store(emit, "count-store", |sessions, store| {
        sessions.count_with(store);
    })
}

/// What `shouldMaterializeReduced` finds in "reduced".
fn materialized_session_reduce(emit: EmitStrategy) -> Result<Vec<(Windowed<String>, String)>> {
    session_store(emit, "reduced", |sessions, store| {
        sessions.reduce_with(concat, store);
    })
}

/// What `shouldMaterializeAggregated` finds in "aggregated".
fn materialized_session_aggregate(emit: EmitStrategy) -> Result<Vec<(Windowed<String>, String)>> {
    session_store(emit, "aggregated", |sessions, store| {
        sessions.aggregate_with(zero, add, merge, store);
    })
}

/// Kafka's `SessionWindowedKStreamImplTest.shouldMaterializeCount` (ON_WINDOW_UPDATE).
#[test]
fn session_windowed_materialize_count() -> Result {
    assert_eq!(
        materialized_session_count(UPDATE)?,
        [
            (windowed("1", 10, 15), 2),
            (windowed("1", 600, 600), 1),
            (windowed("2", 599, 600), 2),
        ]
    );
    Ok(())
}

/// Kafka's `SessionWindowedKStreamImplTest.shouldMaterializeCount`
/// (ON_WINDOW_CLOSE): `1[10,15]` ends before 600 - 500 + 1 and is no
/// longer in the store, as in Kafka's emit-final store.
#[test]
fn session_windowed_materialize_count_on_window_close() -> Result {
    assert_eq!(
        materialized_session_count(CLOSE)?,
        [(windowed("1", 600, 600), 1), (windowed("2", 599, 600), 2)]
    );
    Ok(())
}

/// Kafka's `SessionWindowedKStreamImplTest.shouldMaterializeReduced` (ON_WINDOW_UPDATE).
#[test]
fn session_windowed_materialize_reduced() -> Result {
    assert_eq!(
        materialized_session_reduce(UPDATE)?,
        [
            (windowed("1", 10, 15), "1+2".to_owned()),
            (windowed("1", 600, 600), "3".to_owned()),
            (windowed("2", 599, 600), "1+2".to_owned()),
        ]
    );
    Ok(())
}

/// Kafka's `SessionWindowedKStreamImplTest.shouldMaterializeReduced` (ON_WINDOW_CLOSE).
#[test]
fn session_windowed_materialize_reduced_on_window_close() -> Result {
    assert_eq!(
        materialized_session_reduce(CLOSE)?,
        [
            (windowed("1", 600, 600), "3".to_owned()),
            (windowed("2", 599, 600), "1+2".to_owned()),
        ]
    );
    Ok(())
}

/// Kafka's `SessionWindowedKStreamImplTest.shouldMaterializeAggregated` (ON_WINDOW_UPDATE).
#[test]
fn session_windowed_materialize_aggregated() -> Result {
    assert_eq!(
        materialized_session_aggregate(UPDATE)?,
        [
            (windowed("1", 10, 15), "0+0+1+2".to_owned()),
            (windowed("1", 600, 600), "0+3".to_owned()),
            (windowed("2", 599, 600), "0+0+1+2".to_owned()),
        ]
    );
    Ok(())
}

/// Kafka's `SessionWindowedKStreamImplTest.shouldMaterializeAggregated` (ON_WINDOW_CLOSE).
#[test]
fn session_windowed_materialize_aggregated_on_window_close() -> Result {
    assert_eq!(
        materialized_session_aggregate(CLOSE)?,
        [
            (windowed("1", 600, 600), "0+3".to_owned()),
            (windowed("2", 599, 600), "0+0+1+2".to_owned()),
        ]
    );
    Ok(())
}

// ---------------------------------------------------------------------------
// TimeWindowedKStreamIntegrationTest
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

/// The input through [`hopping`] with `grace_ms`, emitting on window
/// close, without caching.
fn time_windowed_integration(grace_ms: u64) -> Result<Updates<String>> {
    let (output, _) = run_windowed("input", &TIME_WINDOWED_INTEGRATION_DATA, |builder| {
        hopping(
            builder,
            "input",
            grace_ms,
            CLOSE,
            string_store("agg", Cache::Off),
        )
    })?;
    Ok(output)
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
