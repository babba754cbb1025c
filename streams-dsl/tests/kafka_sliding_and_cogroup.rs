//! Ports of Kafka Streams' own operator tests for sliding-window
//! aggregations (`KStreamSlidingWindowAggregateTest`,
//! `SlidingWindowedKStreamImplTest`, and the emit-final examples of
//! `SlidingWindowedKStreamIntegrationTest` run on the test driver) and
//! cogrouped aggregations (`CogroupedKStreamImplTest`), asserting the whole
//! output sequence Kafka Streams produces for the same input, with caching
//! off and the default (reverse-iterating) window store.
//!
//! Many of Kafka's sliding-window tests compare only the set of updates of
//! each window, or the updates sorted by window; the sequences here hold
//! exactly those updates, in the order Kafka's
//! `KStreamSlidingWindowAggregate.processReverse`/`processEarly` emits them.
//!
//! `KStreamSlidingWindowAggregateTest` is parameterized by emit strategy
//! (KIP-825), and so are its topologies here: the tests of
//! `EmitStrategy.onWindowClose()` say `ON_WINDOW_CLOSE`, and the emit-final
//! port of a test ported for both strategies ends in `_on_window_close`;
//! the others run the default, `ON_WINDOW_UPDATE`.
//!
//! On window close, where Kafka's test only compares a set or a map, the
//! sequence asserted is the one the emission rules give: within one
//! emission, windows come by window start, then key bytes, and emissions
//! follow one another as the records that trigger them; each holds exactly
//! the windows of Kafka's set unless the doc comment says otherwise. Kafka
//! runs its emit-final cases with caching on and off; an aggregation that
//! emits on window close keeps no cache here, so both variants must give
//! the same output, and the tests compare each.

mod support;
use support::{
    add, assert_join_outputs, concat, ms, pipe_to, read, run_windowed, string_store, strings,
    to_strings, updates, zero, Cache, Result, Row, Updates, CACHES, CLOSE, UPDATE,
};

use std::collections::BTreeMap;
use std::sync::Arc;

use streams_core::prelude::*;
use streams_core::state::{StoreHandle, ValueAndTimestamp, WindowStore};
use streams_core::Windowed;
use streams_dsl::{
    EmitStrategy, KTable, Materialized, Named, SlidingWindows, StreamsBuilder, TimeWindowedKStream,
};

fn sliding(time_difference: u64, grace: u64) -> SlidingWindows {
    SlidingWindows::of_time_difference_and_grace(ms(time_difference), ms(grace))
}

// ------------------------------------------- KStreamSlidingWindowAggregateTest

/// Groups the string stream "input" by key, windows it by `windows`
/// emitting as `emit` says, aggregates it with `aggregate`, pipes `input`
/// and returns the table's output in order, with the driver for further
/// checks.
fn run_sliding(
    windows: SlidingWindows,
    emit: EmitStrategy,
    aggregate: impl FnOnce(TimeWindowedKStream<String, String>) -> KTable<Windowed<String>, String>,
    input: &[Row],
) -> Result<(Updates<String>, TopologyTestDriver)> {
    run_windowed("input", input, |builder| {
        let windowed = builder
            .stream::<String, String>("input")
            .group_by_key()
            .windowed_by(windows)
            .emit_strategy(emit);
        Ok(aggregate(windowed))
    })
}

/// Kafka's `"0" + values` aggregation into "store-name", cached or not
/// (Kafka disables the cache of sliding windows that emit on close).
fn aggregated(
    cache: Cache,
) -> impl FnOnce(TimeWindowedKStream<String, String>) -> KTable<Windowed<String>, String> {
    move |windowed| windowed.aggregate_with(zero, add, string_store("store-name", cache))
}

/// What [`aggregated`] over `windows` emits for `input`.
fn aggregate_sliding(
    windows: SlidingWindows,
    emit: EmitStrategy,
    cache: Cache,
    input: &[Row],
) -> Result<Updates<String>> {
    let (output, _) = run_sliding(windows, emit, aggregated(cache), input)?;
    Ok(output)
}

/// Asserts that `input` aggregated by [`aggregate_sliding`] emits
/// `expected` on window close, with caching on and off.
fn assert_sliding_final(windows: SlidingWindows, input: &[Row], expected: &[Row]) -> Result {
    for cache in CACHES {
        assert_eq!(
            aggregate_sliding(windows, CLOSE, cache, input)?,
            updates(expected),
            "{cache:?}"
        );
    }
    Ok(())
}

/// The input of `testAggregateSmallInput`.
const SMALL_INPUT: [Row<'static>; 7] = [
    ("A", "1", 10),
    ("A", "2", 10),
    ("A", "3", 14),
    ("A", "4", 15),
    ("A", "5", 20),
    ("A", "6", 22),
    ("A", "7", 30),
];

/// Kafka's `KStreamSlidingWindowAggregateTest.testAggregateSmallInput`.
#[test]
fn aggregate_small_input() -> Result {
    let output = aggregate_sliding(sliding(10, 5), UPDATE, Cache::Off, &SMALL_INPUT)?;
    assert_eq!(
        output,
        updates(&[
            ("[A@0/10]", "0+1", 10),
            ("[A@0/10]", "0+1+2", 10),
            // 14: the right window of 10, then its own left window.
            ("[A@11/21]", "0+3", 14),
            ("[A@4/14]", "0+1+2+3", 14),
            ("[A@11/21]", "0+3+4", 15),
            ("[A@15/25]", "0+4", 15),
            ("[A@5/15]", "0+1+2+3+4", 15),
            ("[A@15/25]", "0+4+5", 20),
            ("[A@11/21]", "0+3+4+5", 20),
            ("[A@16/26]", "0+5", 20),
            ("[A@10/20]", "0+1+2+3+4+5", 20),
            ("[A@16/26]", "0+5+6", 22),
            ("[A@15/25]", "0+4+5+6", 22),
            ("[A@21/31]", "0+6", 22),
            ("[A@12/22]", "0+3+4+5+6", 22),
            ("[A@21/31]", "0+6+7", 30),
            ("[A@23/33]", "0+7", 30),
            ("[A@20/30]", "0+5+6+7", 30),
        ])
    );
    Ok(())
}

/// Kafka's `KStreamSlidingWindowAggregateTest.testAggregateSmallInput`
/// (ON_WINDOW_CLOSE): time difference 10, grace 5. Kafka compares a map
/// by window start; the emissions come at A@20 (starts 0 and 4), A@22
/// (5) and A@30 (10, 11, 12).
#[test]
fn aggregate_small_input_on_window_close() -> Result {
    assert_sliding_final(
        sliding(10, 5),
        &SMALL_INPUT,
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

/// The input of `testReduceSmallInput`.
const REDUCE_SMALL_INPUT: [Row<'static>; 6] = [
    ("A", "1", 10),
    ("A", "2", 14),
    ("A", "3", 15),
    ("A", "4", 22),
    ("A", "5", 26),
    ("A", "6", 30),
];

/// Kafka's `KStreamSlidingWindowAggregateTest.testReduceSmallInput`.
#[test]
fn reduce_small_input() -> Result {
    let (output, _) = run_sliding(
        sliding(10, 5),
        UPDATE,
        |windowed| windowed.reduce(concat),
        &REDUCE_SMALL_INPUT,
    )?;
    assert_eq!(
        output,
        updates(&[
            ("[A@0/10]", "1", 10),
            ("[A@11/21]", "2", 14),
            ("[A@4/14]", "1+2", 14),
            ("[A@11/21]", "2+3", 15),
            ("[A@15/25]", "3", 15),
            ("[A@5/15]", "1+2+3", 15),
            ("[A@15/25]", "3+4", 22),
            ("[A@16/26]", "4", 22),
            ("[A@12/22]", "2+3+4", 22),
            ("[A@16/26]", "4+5", 26),
            ("[A@23/33]", "5", 26),
            ("[A@23/33]", "5+6", 30),
            ("[A@27/37]", "6", 30),
            ("[A@20/30]", "4+5+6", 30),
        ])
    );
    Ok(())
}

/// Kafka's `KStreamSlidingWindowAggregateTest.testReduceSmallInput`
/// (ON_WINDOW_CLOSE): time difference 10, grace 5. Emissions at A@22
/// (starts 0, 4, 5), none at A@26 (range [7, 10] is empty) and at A@30
/// (11, 12).
#[test]
fn reduce_small_input_on_window_close() -> Result {
    for cache in CACHES {
        let (output, _) = run_sliding(
            sliding(10, 5),
            CLOSE,
            |windowed| windowed.reduce_with(concat, string_store("store-name", cache)),
            &REDUCE_SMALL_INPUT,
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

/// The input of `testAggregateLargeInput`.
const LARGE_INPUT: [Row<'static>; 19] = [
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
];

/// Kafka's `KStreamSlidingWindowAggregateTest.testAggregateLargeInput`.
#[test]
fn aggregate_large_input() -> Result {
    let output = aggregate_sliding(sliding(10, 50), UPDATE, Cache::Off, &LARGE_INPUT)?;
    assert_eq!(
        output,
        updates(&[
            ("[A@0/10]", "0+1", 10),
            ("[A@11/21]", "0+2", 20),
            ("[A@10/20]", "0+1+2", 20),
            ("[A@21/31]", "0+3", 22),
            ("[A@12/22]", "0+2+3", 22),
            ("[A@12/22]", "0+2+3+4", 22),
            ("[A@11/21]", "0+2+4", 20),
            ("[A@10/20]", "0+1+2+4", 20),
            ("[A@5/15]", "0+1+4", 15),
            ("[A@16/26]", "0+2+3", 22),
            ("[B@2/12]", "0+1", 12),
            ("[B@13/23]", "0+2", 13),
            ("[B@3/13]", "0+1+2", 13),
            ("[B@13/23]", "0+2+3", 18),
            ("[B@14/24]", "0+3", 18),
            ("[B@8/18]", "0+1+2+3", 18),
            ("[B@14/24]", "0+3+4", 19),
            ("[B@13/23]", "0+2+3+4", 19),
            ("[B@19/29]", "0+4", 19),
            ("[B@9/19]", "0+1+2+3+4", 19),
            ("[B@19/29]", "0+4+5", 25),
            ("[B@20/30]", "0+5", 25),
            ("[B@15/25]", "0+3+4+5", 25),
            ("[B@14/24]", "0+3+4+6", 19),
            ("[B@13/23]", "0+2+3+4+6", 19),
            ("[B@9/19]", "0+1+2+3+4+6", 19),
            ("[B@8/18]", "0+1+2+3+6", 18),
            ("[B@4/14]", "0+1+2+6", 14),
            ("[C@1/11]", "0+1", 11),
            ("[C@12/22]", "0+2", 15),
            ("[C@5/15]", "0+1+2", 15),
            ("[C@12/22]", "0+2+3", 16),
            ("[C@16/26]", "0+3", 16),
            ("[C@6/16]", "0+1+2+3", 16),
            ("[C@16/26]", "0+3+4", 21),
            ("[C@12/22]", "0+2+3+4", 21),
            ("[C@17/27]", "0+4", 21),
            ("[C@11/21]", "0+1+2+3+4", 21),
            ("[C@17/27]", "0+4+5", 23),
            ("[C@16/26]", "0+3+4+5", 23),
            ("[C@22/32]", "0+5", 23),
            ("[C@13/23]", "0+2+3+4+5", 23),
            ("[D@1/11]", "0+4", 11),
            ("[D@12/22]", "0+2", 12),
            ("[D@2/12]", "0+4+2", 12),
            ("[D@19/29]", "0+3", 29),
            ("[D@12/22]", "0+2+5", 16),
            ("[D@13/23]", "0+5", 16),
            ("[D@6/16]", "0+4+2+5", 16),
        ])
    );
    Ok(())
}

/// Kafka's `KStreamSlidingWindowAggregateTest.testAggregateLargeInput`
/// (ON_WINDOW_CLOSE): time difference 10, grace 10. Kafka sorts the output
/// by key and start; emitted, it comes at A3@22 (A[0,10]), at B5@25
/// (B[2,12], B[3,13]) and at D3@29 (range [5, 8]: A[5,15], C[5,15],
/// C[6,16], B[8,18]). C1@11, D4@11 and D2@12 only have windows that closed
/// already, so C's first window holds C2 alone and D has none.
#[test]
fn aggregate_large_input_on_window_close() -> Result {
    assert_sliding_final(
        sliding(10, 10),
        &LARGE_INPUT,
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

/// The input of `testEarlyRecordsSmallInput` and
/// `testEarlyNoGracePeriodSmallInput`, which differ in the value of the
/// `last` record (at 70).
fn early_small_input(last: &'static str) -> [Row<'static>; 7] {
    [
        ("A", "1", 0),
        ("A", "2", 5),
        ("A", "3", 6),
        ("A", "4", 3),
        ("A", "5", 13),
        ("A", "6", 10),
        ("A", last, 70),
    ]
}

/// Kafka's `KStreamSlidingWindowAggregateTest.testEarlyRecordsSmallInput`.
#[test]
fn early_records_small_input() -> Result {
    let output = aggregate_sliding(sliding(50, 0), UPDATE, Cache::Off, &early_small_input("7"))?;
    assert_eq!(
        output,
        updates(&[
            ("[A@0/50]", "0+1", 0),
            ("[A@1/51]", "0+2", 5),
            ("[A@0/50]", "0+1+2", 5),
            ("[A@1/51]", "0+2+3", 6),
            ("[A@6/56]", "0+3", 6),
            ("[A@0/50]", "0+1+2+3", 6),
            ("[A@1/51]", "0+2+3+4", 6),
            ("[A@4/54]", "0+2+3", 6),
            ("[A@0/50]", "0+1+2+3+4", 6),
            ("[A@1/51]", "0+2+3+4+5", 13),
            ("[A@4/54]", "0+2+3+5", 13),
            ("[A@6/56]", "0+3+5", 13),
            ("[A@7/57]", "0+5", 13),
            ("[A@0/50]", "0+1+2+3+4+5", 13),
            ("[A@1/51]", "0+2+3+4+5+6", 13),
            ("[A@4/54]", "0+2+3+5+6", 13),
            ("[A@6/56]", "0+3+5+6", 13),
            ("[A@7/57]", "0+5+6", 13),
            ("[A@11/61]", "0+5", 13),
            ("[A@0/50]", "0+1+2+3+4+5+6", 13),
            ("[A@20/70]", "0+7", 70),
        ])
    );
    Ok(())
}

/// Kafka's `KStreamSlidingWindowAggregateTest.testEarlyRecordsSmallInput`
/// (ON_WINDOW_CLOSE): time difference 50, no grace. Records before 50
/// never trigger an emission, so everything comes at A@70 (range [0, 19]),
/// by start.
#[test]
fn early_records_small_input_on_window_close() -> Result {
    assert_sliding_final(
        sliding(50, 0),
        &early_small_input("7"),
        &EARLY_SMALL_INPUT_FINAL,
    )
}

/// What `testEarlyRecordsSmallInput` and `testEarlyNoGracePeriodSmallInput`
/// emit at their last record on window close.
const EARLY_SMALL_INPUT_FINAL: [Row<'static>; 6] = [
    ("[A@0/50]", "0+1+2+3+4+5+6", 13),
    ("[A@1/51]", "0+2+3+4+5+6", 13),
    ("[A@4/54]", "0+2+3+5+6", 13),
    ("[A@6/56]", "0+3+5+6", 13),
    ("[A@7/57]", "0+5+6", 13),
    ("[A@11/61]", "0+5", 13),
];

/// The input of `testEarlyRecordsRepeatedInput`.
const REPEATED_INPUT: [Row<'static>; 8] = [
    ("A", "1", 0),
    ("A", "2", 2),
    ("A", "3", 4),
    ("A", "4", 0),
    ("A", "5", 2),
    ("A", "6", 2),
    ("A", "7", 0),
    ("A", "8", 7),
];

/// Kafka's `KStreamSlidingWindowAggregateTest.testEarlyRecordsRepeatedInput`.
#[test]
fn early_records_repeated_input() -> Result {
    let output = aggregate_sliding(sliding(5, 0), UPDATE, Cache::Off, &REPEATED_INPUT)?;
    assert_eq!(
        output,
        updates(&[
            ("[A@0/5]", "0+1", 0),
            ("[A@1/6]", "0+2", 2),
            ("[A@0/5]", "0+1+2", 2),
            ("[A@1/6]", "0+2+3", 4),
            ("[A@3/8]", "0+3", 4),
            ("[A@0/5]", "0+1+2+3", 4),
            ("[A@0/5]", "0+1+2+3+4", 4),
            ("[A@1/6]", "0+2+3+5", 4),
            ("[A@0/5]", "0+1+2+3+4+5", 4),
            ("[A@1/6]", "0+2+3+5+6", 4),
            ("[A@0/5]", "0+1+2+3+4+5+6", 4),
            ("[A@0/5]", "0+1+2+3+4+5+6+7", 4),
            ("[A@3/8]", "0+3+8", 7),
            ("[A@5/10]", "0+8", 7),
            ("[A@2/7]", "0+2+3+5+6+8", 7),
        ])
    );
    Ok(())
}

/// Kafka's `KStreamSlidingWindowAggregateTest.testEarlyRecordsRepeatedInput`
/// (ON_WINDOW_CLOSE): time difference 5, no grace; both windows come at
/// A8@7 (range [0, 1]).
#[test]
fn early_records_repeated_input_on_window_close() -> Result {
    assert_sliding_final(
        sliding(5, 0),
        &REPEATED_INPUT,
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

/// Kafka's `KStreamSlidingWindowAggregateTest.testEarlyRecordsLargeInput`.
#[test]
fn early_records_large_input() -> Result {
    let output = aggregate_sliding(sliding(10, 50), UPDATE, Cache::Off, &large_input_e(0))?;
    assert_eq!(
        output,
        updates(&[
            ("[E@0/10]", "0+1", 0),
            ("[E@1/11]", "0+3", 5),
            ("[E@0/10]", "0+1+3", 5),
            ("[E@1/11]", "0+3+4", 6),
            ("[E@6/16]", "0+4", 6),
            ("[E@0/10]", "0+1+3+4", 6),
            ("[E@1/11]", "0+3+4+2", 6),
            ("[E@4/14]", "0+3+4", 6),
            ("[E@0/10]", "0+1+3+4+2", 6),
            ("[E@6/16]", "0+4+6", 13),
            ("[E@4/14]", "0+3+4+6", 13),
            ("[E@7/17]", "0+6", 13),
            ("[E@3/13]", "0+3+4+2+6", 13),
            ("[E@7/17]", "0+6+5", 13),
            ("[E@6/16]", "0+4+6+5", 13),
            ("[E@4/14]", "0+3+4+6+5", 13),
            ("[E@3/13]", "0+3+4+2+6+5", 13),
            ("[E@1/11]", "0+3+4+2+5", 10),
            ("[E@0/10]", "0+1+3+4+2+5", 10),
            ("[E@11/21]", "0+6", 13),
            ("[E@1/11]", "0+3+4+2+5+7", 10),
            ("[E@3/13]", "0+3+4+2+6+5+7", 13),
            ("[E@4/14]", "0+3+4+6+5+7", 13),
            ("[E@5/15]", "0+3+4+6+5", 13),
            ("[E@0/10]", "0+1+3+4+2+5+7", 10),
            ("[E@1/11]", "0+3+4+2+5+7+8", 10),
            ("[E@0/10]", "0+1+3+4+2+5+7+8", 10),
            ("[E@11/21]", "0+6+9", 15),
            ("[E@7/17]", "0+6+5+9", 15),
            ("[E@6/16]", "0+4+6+5+9", 15),
            ("[E@5/15]", "0+3+4+6+5+9", 15),
            ("[E@14/24]", "0+9", 15),
        ])
    );
    Ok(())
}

/// Kafka's `KStreamSlidingWindowAggregateTest.testEarlyRecordsLargeInput`
/// (ON_WINDOW_CLOSE): time difference 10, grace 1. Kafka sorts by start;
/// `[0,10]` and `[1,11]` come at E@13 (range [0, 1]), `[3,13]` at E@15
/// (range [2, 3]). E5@10, E7@4 and E8@2 fall into the closed `[0,10]` and
/// `[1,11]` as well and are dropped there.
#[test]
fn early_records_large_input_on_window_close() -> Result {
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

/// Kafka's `KStreamSlidingWindowAggregateTest.testEarlyNoGracePeriodSmallInput`.
#[test]
fn early_no_grace_period_small_input() -> Result {
    let output = aggregate_sliding(sliding(50, 0), UPDATE, Cache::Off, &early_small_input("6"))?;
    assert_eq!(
        output,
        updates(&[
            ("[A@0/50]", "0+1", 0),
            ("[A@1/51]", "0+2", 5),
            ("[A@0/50]", "0+1+2", 5),
            ("[A@1/51]", "0+2+3", 6),
            ("[A@6/56]", "0+3", 6),
            ("[A@0/50]", "0+1+2+3", 6),
            ("[A@1/51]", "0+2+3+4", 6),
            ("[A@4/54]", "0+2+3", 6),
            ("[A@0/50]", "0+1+2+3+4", 6),
            ("[A@1/51]", "0+2+3+4+5", 13),
            ("[A@4/54]", "0+2+3+5", 13),
            ("[A@6/56]", "0+3+5", 13),
            ("[A@7/57]", "0+5", 13),
            ("[A@0/50]", "0+1+2+3+4+5", 13),
            ("[A@1/51]", "0+2+3+4+5+6", 13),
            ("[A@4/54]", "0+2+3+5+6", 13),
            ("[A@6/56]", "0+3+5+6", 13),
            ("[A@7/57]", "0+5+6", 13),
            ("[A@11/61]", "0+5", 13),
            ("[A@0/50]", "0+1+2+3+4+5+6", 13),
            ("[A@20/70]", "0+6", 70),
        ])
    );
    Ok(())
}

/// Kafka's `KStreamSlidingWindowAggregateTest.testEarlyNoGracePeriodSmallInput`
/// (ON_WINDOW_CLOSE): time difference 50, no grace; the same windows as
/// `testEarlyRecordsSmallInput`, all at the last record.
#[test]
fn early_no_grace_period_small_input_on_window_close() -> Result {
    let windows = SlidingWindows::of_time_difference_with_no_grace(ms(50));
    assert_sliding_final(windows, &early_small_input("6"), &EARLY_SMALL_INPUT_FINAL)
}

/// The input of `testNoGracePeriodSmallInput`.
const NO_GRACE_SMALL_INPUT: [Row<'static>; 6] = [
    ("A", "1", 100),
    ("A", "2", 105),
    ("A", "3", 106),
    ("A", "4", 103),
    ("A", "5", 113),
    ("A", "6", 110),
];

/// Kafka's `KStreamSlidingWindowAggregateTest.testNoGracePeriodSmallInput`.
#[test]
fn no_grace_period_small_input() -> Result {
    let output = aggregate_sliding(sliding(50, 0), UPDATE, Cache::Off, &NO_GRACE_SMALL_INPUT)?;
    assert_eq!(
        output,
        updates(&[
            ("[A@50/100]", "0+1", 100),
            ("[A@101/151]", "0+2", 105),
            ("[A@55/105]", "0+1+2", 105),
            ("[A@101/151]", "0+2+3", 106),
            ("[A@106/156]", "0+3", 106),
            ("[A@56/106]", "0+1+2+3", 106),
            ("[A@101/151]", "0+2+3+4", 106),
            ("[A@56/106]", "0+1+2+3+4", 106),
            ("[A@104/154]", "0+2+3", 106),
            ("[A@106/156]", "0+3+5", 113),
            ("[A@104/154]", "0+2+3+5", 113),
            ("[A@101/151]", "0+2+3+4+5", 113),
            ("[A@107/157]", "0+5", 113),
            ("[A@63/113]", "0+1+2+3+4+5", 113),
            ("[A@107/157]", "0+5+6", 113),
            ("[A@106/156]", "0+3+5+6", 113),
            ("[A@104/154]", "0+2+3+5+6", 113),
            ("[A@101/151]", "0+2+3+4+5+6", 113),
            ("[A@63/113]", "0+1+2+3+4+5+6", 113),
            ("[A@111/161]", "0+5", 113),
        ])
    );
    Ok(())
}

/// Kafka's `KStreamSlidingWindowAggregateTest.testNoGracePeriodSmallInput`
/// (ON_WINDOW_CLOSE): time difference 50, no grace; the windows come at
/// A@105, A@106 and A@113 one by one.
#[test]
fn no_grace_period_small_input_on_window_close() -> Result {
    let windows = SlidingWindows::of_time_difference_with_no_grace(ms(50));
    assert_sliding_final(
        windows,
        &NO_GRACE_SMALL_INPUT,
        &[
            ("[A@50/100]", "0+1", 100),
            ("[A@55/105]", "0+1+2", 105),
            ("[A@56/106]", "0+1+2+3+4", 106),
        ],
    )
}

/// Kafka's `KStreamSlidingWindowAggregateTest.testEarlyNoGracePeriodLargeInput`.
#[test]
fn early_no_grace_period_large_input() -> Result {
    let output = aggregate_sliding(sliding(10, 0), UPDATE, Cache::Off, &large_input_e(0))?;
    assert_eq!(
        output,
        updates(&[
            ("[E@0/10]", "0+1", 0),
            ("[E@1/11]", "0+3", 5),
            ("[E@0/10]", "0+1+3", 5),
            ("[E@1/11]", "0+3+4", 6),
            ("[E@6/16]", "0+4", 6),
            ("[E@0/10]", "0+1+3+4", 6),
            ("[E@1/11]", "0+3+4+2", 6),
            ("[E@4/14]", "0+3+4", 6),
            ("[E@0/10]", "0+1+3+4+2", 6),
            ("[E@6/16]", "0+4+6", 13),
            ("[E@4/14]", "0+3+4+6", 13),
            ("[E@7/17]", "0+6", 13),
            ("[E@3/13]", "0+3+4+2+6", 13),
            ("[E@7/17]", "0+6+5", 13),
            ("[E@6/16]", "0+4+6+5", 13),
            ("[E@4/14]", "0+3+4+6+5", 13),
            ("[E@3/13]", "0+3+4+2+6+5", 13),
            ("[E@11/21]", "0+6", 13),
            ("[E@3/13]", "0+3+4+2+6+5+7", 13),
            ("[E@4/14]", "0+3+4+6+5+7", 13),
            ("[E@5/15]", "0+3+4+6+5", 13),
            ("[E@11/21]", "0+6+9", 15),
            ("[E@7/17]", "0+6+5+9", 15),
            ("[E@6/16]", "0+4+6+5+9", 15),
            ("[E@5/15]", "0+3+4+6+5+9", 15),
            ("[E@14/24]", "0+9", 15),
        ])
    );
    Ok(())
}

/// Kafka's `KStreamSlidingWindowAggregateTest.testEarlyNoGracePeriodLargeInput`
/// (ON_WINDOW_CLOSE): time difference 10, no grace. Kafka sorts by start;
/// `[0,10]`, `[1,11]` come at E@13, `[3,13]`, `[4,14]` at E@15.
#[test]
fn early_no_grace_period_large_input_on_window_close() -> Result {
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

/// Kafka's `KStreamSlidingWindowAggregateTest.testNoGracePeriodLargeInput`.
#[test]
fn no_grace_period_large_input() -> Result {
    let output = aggregate_sliding(sliding(10, 0), UPDATE, Cache::Off, &large_input_e(100))?;
    assert_eq!(
        output,
        updates(&[
            ("[E@90/100]", "0+1", 100),
            ("[E@101/111]", "0+3", 105),
            ("[E@95/105]", "0+1+3", 105),
            ("[E@101/111]", "0+3+4", 106),
            ("[E@106/116]", "0+4", 106),
            ("[E@96/106]", "0+1+3+4", 106),
            ("[E@101/111]", "0+3+4+2", 106),
            ("[E@96/106]", "0+1+3+4+2", 106),
            ("[E@104/114]", "0+3+4", 106),
            ("[E@106/116]", "0+4+6", 113),
            ("[E@104/114]", "0+3+4+6", 113),
            ("[E@107/117]", "0+6", 113),
            ("[E@103/113]", "0+3+4+2+6", 113),
            ("[E@107/117]", "0+6+5", 113),
            ("[E@106/116]", "0+4+6+5", 113),
            ("[E@104/114]", "0+3+4+6+5", 113),
            ("[E@103/113]", "0+3+4+2+6+5", 113),
            ("[E@111/121]", "0+6", 113),
            ("[E@104/114]", "0+3+4+6+5+7", 113),
            ("[E@103/113]", "0+3+4+2+6+5+7", 113),
            ("[E@105/115]", "0+3+4+6+5", 113),
            ("[E@111/121]", "0+6+9", 115),
            ("[E@107/117]", "0+6+5+9", 115),
            ("[E@106/116]", "0+4+6+5+9", 115),
            ("[E@105/115]", "0+3+4+6+5+9", 115),
            ("[E@114/124]", "0+9", 115),
        ])
    );
    Ok(())
}

/// Kafka's `KStreamSlidingWindowAggregateTest.testNoGracePeriodLargeInput`
/// (ON_WINDOW_CLOSE): time difference 10, no grace. Kafka sorts by start;
/// the emissions come at E@105 (90), E@106 (95), E@113 (96, 101) and E@115
/// (103, 104).
#[test]
fn no_grace_period_large_input_on_window_close() -> Result {
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

/// The output and dropped count of `shouldLogAndMeterWhenSkippingExpiredWindowByGrace`:
/// [`aggregated`] over time difference 10 and grace 90.
fn expired_by_grace(emit: EmitStrategy, cache: Cache) -> Result<(Updates<String>, u64)> {
    let (output, driver) = run_sliding(
        sliding(10, 90),
        emit,
        aggregated(cache),
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
    Ok((output, driver.metrics().dropped_records))
}

/// Kafka's `KStreamSlidingWindowAggregateTest.shouldLogAndMeterWhenSkippingExpiredWindowByGrace`:
/// the output and the number of dropped records.
#[test]
fn skipping_expired_window_by_grace() -> Result {
    let (output, dropped) = expired_by_grace(UPDATE, Cache::Off)?;
    assert_eq!(
        output,
        updates(&[
            ("[k@190/200]", "0+100", 200),
            ("[k@290/300]", "0+101", 300),
            ("[k@390/400]", "0+102", 400),
        ])
    );
    assert_eq!(dropped, 7);
    Ok(())
}

/// Kafka's `KStreamSlidingWindowAggregateTest.shouldLogAndMeterWhenSkippingExpiredWindowByGrace`
/// (ON_WINDOW_CLOSE): time difference 10, grace 90. Kafka asserts this
/// ordered output (`[k@190/200]` at k@300, `[k@290/300]` at k@400) and 7
/// drops (records 0 to 5 in their closed left windows, record 6 whole).
/// The lateness metrics are not ported.
#[test]
fn skipping_expired_window_by_grace_on_window_close() -> Result {
    for cache in CACHES {
        let (output, dropped) = expired_by_grace(CLOSE, cache)?;
        assert_eq!(
            output,
            updates(&[("[k@190/200]", "0+100", 200), ("[k@290/300]", "0+101", 300)]),
            "{cache:?}"
        );
        assert_eq!(dropped, 7, "{cache:?}");
    }
    Ok(())
}

/// `shouldLogAndMeterWhenSkippingNullKey`: a record with a null key,
/// through sliding windows emitting as `emit` says, is dropped (and
/// counted) and nothing is emitted.
fn skips_null_key(emit: EmitStrategy) -> Result {
    let builder = StreamsBuilder::new();
    builder
        .stream::<Option<String>, String>("input")
        .group_by_key()
        .windowed_by(sliding(10, 100))
        .emit_strategy(emit)
        .aggregate(zero, |_, v, agg: String| format!("{agg}+{v}"))
        .to_stream()
        .map(|k, v| (format!("{:?}@{}", k.key, k.window.start), v))
        .to("output");
    let driver = TopologyTestDriver::new(&builder.build()?)?;
    let input = driver.create_input_topic("input", OptionSerde::new(strings()), StringSerde);
    input.pipe_input_at(None, "1".to_owned(), 0)?;
    assert_eq!(read::<String>(&driver, "output")?, updates(&[]), "{emit:?}");
    assert_eq!(driver.metrics().dropped_records, 1, "{emit:?}");
    Ok(())
}

/// Kafka's `KStreamSlidingWindowAggregateTest.shouldLogAndMeterWhenSkippingNullKey`:
/// the record with a null key is dropped (the log line is not ported).
#[test]
fn skipping_null_key() -> Result {
    skips_null_key(UPDATE)
}

/// Kafka's `KStreamSlidingWindowAggregateTest.shouldLogAndMeterWhenSkippingNullKey`
/// (ON_WINDOW_CLOSE): the record with a null key is dropped (and counted);
/// the log line is not ported.
#[test]
fn skipping_null_key_on_window_close() -> Result {
    skips_null_key(CLOSE)
}

/// Kafka's `testJoin`: "topic1" and "topic2" aggregated with `"0" +
/// values` over sliding windows of 10 ms and `grace_ms` (into
/// "store-name1" and "store-name2"), emitting as `emit` says, written to
/// "table1" and "table2", and their join (`l%r`) to "joined". Pipes the
/// test's four batches of input and checks, after each, what the three
/// wrote since the last check.
fn sliding_join(grace_ms: u64, emit: EmitStrategy, expected: [[&[Row]; 3]; 4]) -> Result {
    let builder = StreamsBuilder::new();
    let aggregate = |topic: &str, store: &str| {
        builder
            .stream::<String, String>(topic)
            .group_by_key()
            .windowed_by(sliding(10, grace_ms))
            .emit_strategy(emit)
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
    let batches: [(&str, &[Row]); 4] = [
        ("topic1", &[("A", "1", 10), ("B", "2", 11), ("C", "3", 12)]),
        ("topic1", &[("A", "1", 15), ("B", "2", 16), ("C", "3", 19)]),
        ("topic2", &[("A", "a", 10), ("C", "c", 12)]),
        ("topic2", &[("A", "a", 15), ("B", "b", 16), ("C", "c", 17)]),
    ];
    for (batch, ((topic, input), expected)) in (1..).zip(batches.into_iter().zip(expected)) {
        pipe_to(&driver, topic, input)?;
        assert_join_outputs(&driver, expected, &format!("{emit:?}, batch {batch}"))?;
    }
    Ok(())
}

/// Kafka's `KStreamSlidingWindowAggregateTest.testJoin`: two sliding-window
/// aggregations and their join, checked after each batch of input.
#[test]
fn join_of_two_sliding_aggregations() -> Result {
    sliding_join(
        100,
        UPDATE,
        [
            [
                &[
                    ("[A@0/10]", "0+1", 10),
                    ("[B@1/11]", "0+2", 11),
                    ("[C@2/12]", "0+3", 12),
                ],
                &[],
                &[],
            ],
            [
                &[
                    ("[A@11/21]", "0+1", 15),
                    ("[A@5/15]", "0+1+1", 15),
                    ("[B@12/22]", "0+2", 16),
                    ("[B@6/16]", "0+2+2", 16),
                    ("[C@13/23]", "0+3", 19),
                    ("[C@9/19]", "0+3+3", 19),
                ],
                &[],
                &[],
            ],
            [
                &[],
                &[("[A@0/10]", "0+a", 10), ("[C@2/12]", "0+c", 12)],
                &[("[A@0/10]", "0+1%0+a", 10), ("[C@2/12]", "0+3%0+c", 12)],
            ],
            [
                &[],
                &[
                    ("[A@11/21]", "0+a", 15),
                    ("[A@5/15]", "0+a+a", 15),
                    ("[B@6/16]", "0+b", 16),
                    ("[C@13/23]", "0+c", 17),
                    ("[C@7/17]", "0+c+c", 17),
                ],
                &[
                    ("[A@11/21]", "0+1%0+a", 15),
                    ("[A@5/15]", "0+1+1%0+a+a", 15),
                    ("[B@6/16]", "0+2+2%0+b", 16),
                    ("[C@13/23]", "0+3%0+c", 19),
                ],
            ],
        ],
    )
}

/// Kafka's `KStreamSlidingWindowAggregateTest.testJoin` (ON_WINDOW_CLOSE):
/// two sliding aggregations (time difference 10, no grace) and their join,
/// checked after each batch; Kafka asserts these ordered lists.
#[test]
fn join_of_two_sliding_aggregations_on_window_close() -> Result {
    sliding_join(
        0,
        CLOSE,
        [
            [
                &[("[A@0/10]", "0+1", 10), ("[B@1/11]", "0+2", 11)],
                &[],
                &[],
            ],
            [
                &[
                    ("[C@2/12]", "0+3", 12),
                    ("[A@5/15]", "0+1+1", 15),
                    ("[B@6/16]", "0+2+2", 16),
                ],
                &[],
                &[],
            ],
            [
                &[],
                &[("[A@0/10]", "0+a", 10)],
                &[("[A@0/10]", "0+1%0+a", 10)],
            ],
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
        ],
    )
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

/// The records of `testAggregateRandomInput` (letters, all with key "A"),
/// shuffled by `seed`.
fn shuffled_letters(seed: u64) -> Vec<(&'static str, i64)> {
    let mut letters = vec![
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
    Shuffler(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15)).shuffle(&mut letters);
    letters
}

/// The topology of `testAggregateRandomInput`: "input" aggregated into
/// its sorted letters over sliding windows (time difference 10, grace
/// 100), emitting as `emit` says, written to "output" keyed by window
/// start.
fn sorted_letters(emit: EmitStrategy) -> Result<TopologyTestDriver> {
    let builder = StreamsBuilder::new();
    builder
        .stream::<String, String>("input")
        .group_by_key()
        .windowed_by(sliding(10, 100))
        .emit_strategy(emit)
        .aggregate(String::new, |_, v, agg: String| {
            let mut chars: Vec<char> = format!("{agg}{v}").chars().collect();
            chars.sort_unstable();
            chars.into_iter().collect::<String>()
        })
        .to_stream()
        .map(|k, v| (k.window.start.to_string(), v))
        .to("output");
    Ok(TopologyTestDriver::new(&builder.build()?)?)
}

/// Kafka's `KStreamSlidingWindowAggregateTest.testAggregateRandomInput`,
/// with fixed seeds: whatever the order of the input, the last update of
/// each window is the same. Each update is also checked against a
/// brute-force model: a window holds every record seen so far whose
/// timestamp lies within it, stamped with the latest of them.
#[test]
fn aggregate_random_input() -> Result {
    let expected: BTreeMap<i64, (String, i64)> = [
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
        (52, "GHIJK", 62),
        (53, "GHIJKLMN", 63),
        (56, "HIJKLMN", 63),
        (57, "IJKLMN", 63),
        (59, "KLMN", 63),
        (63, "LMN", 63),
        (66, "O", 76),
        (67, "OP", 77),
        (70, "OPQ", 80),
        (77, "PQ", 80),
        (78, "Q", 80),
        (171, "V", 181),
    ]
    .into_iter()
    .map(|(start, value, ts)| (start, (value.to_owned(), ts)))
    .collect();
    for seed in 1..=20u64 {
        let mut input = shuffled_letters(seed);
        input.push(("V", 181));
        let driver = sorted_letters(UPDATE)?;
        let topic = driver.create_input_topic("input", StringSerde, StringSerde);
        let output = driver.create_output_topic("output", StringSerde, OptionSerde::new(strings()));
        let mut last = BTreeMap::new();
        let mut seen: Vec<(&str, i64)> = Vec::new();
        for (letter, ts) in &input {
            topic.pipe_input_at("A".to_owned(), (*letter).to_owned(), *ts)?;
            seen.push((letter, *ts));
            for update in output.read_records_to_list()? {
                let start: i64 = update.key.parse()?;
                let within: Vec<&(&str, i64)> = seen
                    .iter()
                    .filter(|(_, t)| (start..=start + 10).contains(t))
                    .collect();
                let mut model: Vec<&str> = within.iter().map(|(l, _)| *l).collect();
                model.sort_unstable();
                let model_ts = within.iter().map(|(_, t)| *t).max();
                assert_eq!(
                    (update.value.clone(), Some(update.timestamp)),
                    (Some(model.concat()), model_ts),
                    "seed {seed}: window starting at {start} after {letter}@{ts}"
                );
                last.insert(start, (update.value.unwrap_or_default(), update.timestamp));
            }
        }
        assert_eq!(last, expected, "seed {seed}, input {input:?}");
    }
    Ok(())
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
fn aggregate_random_input_on_window_close() -> Result {
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
        let input = shuffled_letters(seed);
        let driver = sorted_letters(CLOSE)?;
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

// ------------------------------------------------ SlidingWindowedKStreamImplTest

/// The input of `SlidingWindowedKStreamImplTest.processData`, with its
/// windows of 100 ms and 1000 ms grace.
const PROCESS_DATA: [Row; 5] = [
    ("1", "1", 100),
    ("1", "2", 150),
    ("1", "3", 500),
    ("2", "10", 200),
    ("2", "20", 150),
];

fn impl_windows() -> SlidingWindows {
    sliding(100, 1000)
}

/// Kafka's `SlidingWindowedKStreamImplTest.shouldCountSlidingWindows`.
#[test]
fn count_sliding_windows() -> Result {
    let builder = StreamsBuilder::new();
    let counts = builder
        .stream::<String, String>("input")
        .group_by_key()
        .windowed_by(impl_windows())
        .count();
    to_strings(&counts, "output");
    let driver = TopologyTestDriver::new(&builder.build()?)?;
    pipe_to(&driver, "input", &PROCESS_DATA)?;
    let output =
        driver.create_output_topic("output", StringSerde, OptionSerde::new(Arc::new(I64Serde)));
    let expected = [
        ("[1@0/100]", 1, 100),
        ("[1@101/201]", 1, 150),
        ("[1@50/150]", 2, 150),
        ("[1@400/500]", 1, 500),
        ("[2@100/200]", 1, 200),
        ("[2@100/200]", 2, 200),
        ("[2@50/150]", 1, 150),
        ("[2@151/251]", 1, 200),
    ]
    .map(|(k, v, ts)| TestRecord::new(k.to_owned(), Some(v), ts));
    assert_eq!(output.read_records_to_list()?, expected);
    Ok(())
}

/// Kafka's `SlidingWindowedKStreamImplTest.shouldReduceSlidingWindows`.
#[test]
fn reduce_sliding_windows() -> Result {
    let (output, _) = run_sliding(
        impl_windows(),
        UPDATE,
        |windowed| windowed.reduce(concat),
        &PROCESS_DATA,
    )?;
    assert_eq!(
        output,
        updates(&[
            ("[1@0/100]", "1", 100),
            ("[1@101/201]", "2", 150),
            ("[1@50/150]", "1+2", 150),
            ("[1@400/500]", "3", 500),
            ("[2@100/200]", "10", 200),
            ("[2@100/200]", "10+20", 200),
            ("[2@50/150]", "20", 150),
            ("[2@151/251]", "10", 200),
        ])
    );
    Ok(())
}

/// Kafka's `SlidingWindowedKStreamImplTest.shouldAggregateSlidingWindows`.
#[test]
fn aggregate_sliding_windows() -> Result {
    let (output, _) = run_sliding(
        impl_windows(),
        UPDATE,
        |windowed| windowed.aggregate(zero, add),
        &PROCESS_DATA,
    )?;
    assert_eq!(
        output,
        updates(&[
            ("[1@0/100]", "0+1", 100),
            ("[1@101/201]", "0+2", 150),
            ("[1@50/150]", "0+1+2", 150),
            ("[1@400/500]", "0+3", 500),
            ("[2@100/200]", "0+10", 200),
            ("[2@100/200]", "0+10+20", 200),
            ("[2@50/150]", "0+20", 150),
            ("[2@151/251]", "0+10", 200),
        ])
    );
    Ok(())
}

/// The windows of keys `from..=to` starting in `[time_from, time_to]` in
/// the window store `name`, as `([key@start/end], value, timestamp)`.
fn stored<V: Clone + 'static>(
    driver: &TopologyTestDriver,
    name: &str,
    keys: (&str, &str),
    times: (i64, i64),
) -> Result<Vec<(String, V, i64)>>
where
    WindowStore<String, ValueAndTimestamp<V>>: StoreHandle + Clone,
{
    let store: WindowStore<String, ValueAndTimestamp<V>> = driver.state_store(name)?;
    let (from, to) = (keys.0.to_owned(), keys.1.to_owned());
    Ok(store
        .fetch_range(Some(&from), Some(&to), times.0, times.1)?
        .into_iter()
        .map(|(window, stored)| (window.to_string(), stored.value, stored.timestamp))
        .collect())
}

fn owned<V: Clone>(expected: &[(&str, V, i64)]) -> Vec<(String, V, i64)> {
    expected
        .iter()
        .map(|(k, v, ts)| (k.to_string(), v.clone(), *ts))
        .collect()
}

/// Kafka's `SlidingWindowedKStreamImplTest.shouldMaterializeCount`.
#[test]
fn materialize_count() -> Result {
    let builder = StreamsBuilder::new();
    builder
        .stream::<String, String>("input")
        .group_by_key()
        .windowed_by(impl_windows())
        .count_with(Materialized::named("count-store"));
    let driver = TopologyTestDriver::new(&builder.build()?)?;
    pipe_to(&driver, "input", &PROCESS_DATA)?;
    assert_eq!(
        stored::<i64>(&driver, "count-store", ("1", "2"), (0, 1000))?,
        owned(&[
            ("[1@0/100]", 1, 100),
            ("[1@50/150]", 2, 150),
            ("[1@101/201]", 1, 150),
            ("[1@400/500]", 1, 500),
            ("[2@50/150]", 1, 150),
            ("[2@100/200]", 2, 200),
            ("[2@151/251]", 1, 200),
        ])
    );
    Ok(())
}

/// Kafka's `SlidingWindowedKStreamImplTest.shouldMaterializeReduced`.
#[test]
fn materialize_reduced() -> Result {
    let builder = StreamsBuilder::new();
    builder
        .stream::<String, String>("input")
        .group_by_key()
        .windowed_by(impl_windows())
        .reduce_with(concat, Materialized::named("reduced"));
    let driver = TopologyTestDriver::new(&builder.build()?)?;
    pipe_to(&driver, "input", &PROCESS_DATA)?;
    assert_eq!(
        stored::<String>(&driver, "reduced", ("1", "2"), (0, 1000))?,
        owned(&[
            ("[1@0/100]", "1".to_owned(), 100),
            ("[1@50/150]", "1+2".to_owned(), 150),
            ("[1@101/201]", "2".to_owned(), 150),
            ("[1@400/500]", "3".to_owned(), 500),
            ("[2@50/150]", "20".to_owned(), 150),
            ("[2@100/200]", "10+20".to_owned(), 200),
            ("[2@151/251]", "10".to_owned(), 200),
        ])
    );
    Ok(())
}

/// Kafka's `SlidingWindowedKStreamImplTest.shouldMaterializeAggregated`.
#[test]
fn materialize_aggregated() -> Result {
    let builder = StreamsBuilder::new();
    builder
        .stream::<String, String>("input")
        .group_by_key()
        .windowed_by(impl_windows())
        .aggregate_with(zero, add, Materialized::named("aggregated"));
    let driver = TopologyTestDriver::new(&builder.build()?)?;
    pipe_to(&driver, "input", &PROCESS_DATA)?;
    assert_eq!(
        stored::<String>(&driver, "aggregated", ("1", "2"), (0, 1000))?,
        owned(&[
            ("[1@0/100]", "0+1".to_owned(), 100),
            ("[1@50/150]", "0+1+2".to_owned(), 150),
            ("[1@101/201]", "0+2".to_owned(), 150),
            ("[1@400/500]", "0+3".to_owned(), 500),
            ("[2@50/150]", "0+20".to_owned(), 150),
            ("[2@100/200]", "0+10+20".to_owned(), 200),
            ("[2@151/251]", "0+10".to_owned(), 200),
        ])
    );
    Ok(())
}

/// Kafka's `SlidingWindowedKStreamImplTest.shouldThrowIllegalArgumentWhenRetentionIsTooSmall`.
#[test]
fn retention_too_small_fails_the_build() {
    let builder = StreamsBuilder::new();
    builder
        .stream::<String, String>("input")
        .group_by_key()
        .windowed_by(impl_windows())
        .aggregate_with(
            zero,
            add,
            Materialized::named("aggregated").with_retention(ms(1)),
        );
    assert!(builder.build().is_err());
}

/// Kafka's `SlidingWindowedKStreamImplTest.shouldDropWindowsOutsideOfRetention`.
#[test]
fn drop_windows_outside_of_retention() -> Result {
    let (output, driver) = run_sliding(
        impl_windows(),
        UPDATE,
        |windowed| {
            windowed.aggregate_with(
                zero,
                add,
                Materialized::named("aggregated")
                    .in_memory()
                    .with_retention(ms(1200)),
            )
        },
        &[
            ("1", "2", 100),
            ("1", "3", 500),
            ("1", "4", 799),
            ("1", "4", 1000),
            ("1", "5", 2000),
        ],
    )?;
    assert_eq!(
        output,
        updates(&[
            ("[1@0/100]", "0+2", 100),
            ("[1@400/500]", "0+3", 500),
            ("[1@699/799]", "0+4", 799),
            ("[1@900/1000]", "0+4", 1000),
            ("[1@1900/2000]", "0+5", 2000),
        ])
    );
    let expected = owned(&[
        ("[1@900/1000]", "0+4".to_owned(), 1000),
        ("[1@1900/2000]", "0+5".to_owned(), 2000),
    ]);
    assert_eq!(
        stored::<String>(&driver, "aggregated", ("1", "1"), (0, 10_000))?,
        expected
    );
    assert_eq!(
        stored::<String>(&driver, "aggregated", ("1", "1"), (0, 2000))?,
        expected
    );
    Ok(())
}

// ---------------------------------------- SlidingWindowedKStreamIntegrationTest

/// `SlidingWindowedKStreamIntegrationTest`'s aggregation with `"0" +
/// values` over sliding windows of 10 ms and `grace_ms`, emitting on window
/// close, without caching, with the output and dropped count.
fn sliding_integration(grace_ms: u64, input: &[Row]) -> Result<(Updates<String>, u64)> {
    let (output, driver) = run_sliding(
        sliding(10, grace_ms),
        CLOSE,
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

// ------------------------------------------------------ CogroupedKStreamImplTest

/// Kafka's `CogroupedKStreamImplTest` aggregators: appending, and
/// `MockAggregator.TOSTRING_REMOVER`.
fn append(_: &String, value: String, aggregate: String) -> String {
    aggregate + &value
}

fn string_remover(_: &String, value: String, aggregate: String) -> String {
    format!("{aggregate}-{value}")
}

fn parse_sum(_: &String, value: String, aggregate: i32) -> i32 {
    aggregate + value.parse::<i32>().unwrap_or(0)
}

/// Cogroups the string streams of `topics` (by key) with `aggregators`,
/// one per topic, into one table starting at `initializer()`, written to
/// "output"; pipes `input` (topic, key, value, timestamp) and returns what
/// the table emitted.
fn cogroup_strings(
    topics: &[&str],
    aggregators: &[fn(&String, String, String) -> String],
    initializer: fn() -> String,
    input: &[(&str, &str, &str, i64)],
) -> Result<Updates<String>> {
    let builder = StreamsBuilder::new();
    let grouped: Vec<_> = topics
        .iter()
        .map(|topic| builder.stream::<String, String>(topic).group_by_key())
        .collect();
    let mut cogrouped = grouped[0].cogroup(aggregators[0]);
    for (stream, aggregator) in grouped.iter().zip(aggregators).skip(1) {
        cogrouped = cogrouped.cogroup(stream, *aggregator);
    }
    cogrouped.aggregate(initializer).to_stream().to("output");
    let driver = TopologyTestDriver::new(&builder.build()?)?;
    for (topic, k, v, ts) in input {
        pipe_to(&driver, topic, &[(k, v, *ts)])?;
    }
    read::<String>(&driver, "output")
}

/// Kafka's `CogroupedKStreamImplTest.shouldCogroupAndAggregateSingleKStreams`.
#[test]
fn cogroup_and_aggregate_single_stream() -> Result {
    let output = cogroup_strings(
        &["one"],
        &[append],
        String::new,
        &[
            ("one", "k1", "A", 0),
            ("one", "k2", "B", 0),
            ("one", "k2", "B", 0),
            ("one", "k1", "A", 0),
        ],
    )?;
    assert_eq!(
        output,
        updates(&[
            ("k1", "A", 0),
            ("k2", "B", 0),
            ("k2", "BB", 0),
            ("k1", "AA", 0)
        ])
    );
    Ok(())
}

/// Kafka's `CogroupedKStreamImplTest.testCogroupHandleNullValues`.
#[test]
fn cogroup_handles_null_values() -> Result {
    let builder = StreamsBuilder::new();
    builder
        .stream::<String, Option<String>>("one")
        .group_by_key()
        .cogroup(|_, v: Option<String>, agg: String| agg + v.as_deref().unwrap_or("null"))
        .aggregate(String::new)
        .to_stream()
        .to("output");
    let driver = TopologyTestDriver::new(&builder.build()?)?;
    let input = driver.create_input_topic("one", StringSerde, OptionSerde::new(strings()));
    for (k, v, ts) in [
        ("k1", Some("A"), 0),
        ("k2", Some("B"), 0),
        ("k2", None, 0),
        ("k2", Some("B"), 0),
        ("k1", Some("A"), 0),
    ] {
        input.pipe_input_at(k.to_owned(), v.map(str::to_owned), ts)?;
    }
    assert_eq!(
        read::<String>(&driver, "output")?,
        updates(&[
            ("k1", "A", 0),
            ("k2", "B", 0),
            ("k2", "BB", 0),
            ("k1", "AA", 0)
        ])
    );
    Ok(())
}

/// Kafka's `CogroupedKStreamImplTest.shouldCogroupAndAggregateTwoKStreamsWithDistinctKeys`.
#[test]
fn cogroup_two_streams_with_distinct_keys() -> Result {
    let output = cogroup_strings(
        &["one", "two"],
        &[append, append],
        String::new,
        &[
            ("one", "k1", "A", 0),
            ("one", "k1", "A", 1),
            ("one", "k1", "A", 10),
            ("one", "k1", "A", 100),
            ("two", "k2", "B", 100),
            ("two", "k2", "B", 200),
            ("two", "k2", "B", 1),
            ("two", "k2", "B", 500),
            ("two", "k2", "B", 500),
            ("two", "k2", "B", 100),
        ],
    )?;
    assert_eq!(
        output,
        updates(&[
            ("k1", "A", 0),
            ("k1", "AA", 1),
            ("k1", "AAA", 10),
            ("k1", "AAAA", 100),
            ("k2", "B", 100),
            ("k2", "BB", 200),
            ("k2", "BBB", 200),
            ("k2", "BBBB", 500),
            ("k2", "BBBBB", 500),
            ("k2", "BBBBBB", 500),
        ])
    );
    Ok(())
}

/// The input of Kafka's cogroup tests with shared keys: `first` feeds the
/// first four records, `second` the rest.
fn shared_keys_input<'a>(
    first: &'a str,
    second: &'a str,
    third: &'a str,
) -> Vec<(&'a str, &'a str, &'a str, i64)> {
    vec![
        (first, "k1", "A", 0),
        (first, "k2", "A", 1),
        (first, "k1", "A", 10),
        (first, "k2", "A", 100),
        (second, "k2", "B", 100),
        (second, "k2", "B", 200),
        (second, "k1", "B", 1),
        (second, "k2", "B", 500),
        (third, "k1", "B", 500),
        (third, "k2", "B", 500),
        (third, "k3", "B", 500),
        (third, "k2", "B", 100),
    ]
}

/// What Kafka's cogroup tests with shared keys expect (the last two
/// records, which Kafka's tests do not read, follow from the same rules).
const SHARED_KEYS_OUTPUT: [Row; 12] = [
    ("k1", "A", 0),
    ("k2", "A", 1),
    ("k1", "AA", 10),
    ("k2", "AA", 100),
    ("k2", "AAB", 100),
    ("k2", "AABB", 200),
    ("k1", "AAB", 10),
    ("k2", "AABBB", 500),
    ("k1", "AABB", 500),
    ("k2", "AABBBB", 500),
    ("k3", "B", 500),
    ("k2", "AABBBBB", 500),
];

/// Kafka's `CogroupedKStreamImplTest.shouldCogroupAndAggregateTwoKStreamsWithSharedKeys`.
#[test]
fn cogroup_two_streams_with_shared_keys() -> Result {
    let output = cogroup_strings(
        &["one", "two"],
        &[append, append],
        String::new,
        &shared_keys_input("one", "two", "two"),
    )?;
    assert_eq!(output, updates(&SHARED_KEYS_OUTPUT));
    Ok(())
}

/// Kafka's `CogroupedKStreamImplTest.testCogroupWithThreeGroupedStreams`.
#[test]
fn cogroup_three_grouped_streams() -> Result {
    let output = cogroup_strings(
        &["one", "two", "three"],
        &[append, append, append],
        String::new,
        &shared_keys_input("one", "two", "three"),
    )?;
    assert_eq!(output, updates(&SHARED_KEYS_OUTPUT));
    Ok(())
}

/// Kafka's `CogroupedKStreamImplTest.testCogroupKeyMixedAggregators`.
#[test]
fn cogroup_mixed_aggregators() -> Result {
    let output = cogroup_strings(
        &["one", "two"],
        &[string_remover, add],
        zero,
        &[
            ("one", "k1", "1", 0),
            ("one", "k2", "1", 1),
            ("one", "k1", "1", 10),
            ("one", "k2", "1", 100),
            ("two", "k1", "2", 500),
            ("two", "k2", "2", 500),
            ("two", "k1", "2", 500),
            ("two", "k2", "2", 100),
        ],
    )?;
    assert_eq!(
        output,
        updates(&[
            ("k1", "0-1", 0),
            ("k2", "0-1", 1),
            ("k1", "0-1-1", 10),
            ("k2", "0-1-1", 100),
            ("k1", "0-1-1+2", 500),
            ("k2", "0-1-1+2", 500),
            ("k1", "0-1-1+2+2", 500),
            ("k2", "0-1-1+2+2", 500),
        ])
    );
    Ok(())
}

/// The sums Kafka's cogroup tests of integer aggregates expect, for
/// `shared_keys_input` with values 1, 1, 1, 1, 2, 2, 2, 2, 2, 3, 2, 2
/// (the last record, which Kafka's tests do not read, follows from the
/// same rules).
const SUMS: [(&str, i32, i64); 12] = [
    ("k1", 1, 0),
    ("k2", 1, 1),
    ("k1", 2, 10),
    ("k2", 2, 100),
    ("k2", 4, 100),
    ("k2", 6, 200),
    ("k1", 4, 10),
    ("k2", 8, 500),
    ("k1", 6, 500),
    ("k2", 11, 500),
    ("k3", 2, 500),
    ("k2", 13, 500),
];

const SUM_VALUES: [i32; 12] = [1, 1, 1, 1, 2, 2, 2, 2, 2, 3, 2, 2];

/// Cogroups "one" (numbers as strings) with "two", whose values
/// `two_values` makes from the numbers, into integer sums stored in
/// "store1"; returns the sums emitted.
fn cogroup_sums<V: Clone + DefaultSerde + 'static>(
    second: fn(&String, V, i32) -> i32,
    two_values: impl Fn(i32) -> V,
    two_serde: impl Serde<V> + 'static,
) -> Result<Vec<TestRecord<String, Option<i32>>>> {
    let builder = StreamsBuilder::new();
    let one = builder.stream::<String, String>("one").group_by_key();
    let two = builder.stream::<String, V>("two").group_by_key();
    one.cogroup(parse_sum)
        .cogroup(&two, second)
        .aggregate_with(|| 0, Materialized::named("store1"))
        .to_stream()
        .to("output");
    let driver = TopologyTestDriver::new(&builder.build()?)?;
    let input_one = driver.create_input_topic("one", StringSerde, StringSerde);
    let input_two = driver.create_input_topic("two", StringSerde, two_serde);
    let input = shared_keys_input("one", "two", "two");
    for ((topic, k, _, ts), v) in input.into_iter().zip(SUM_VALUES) {
        if topic == "one" {
            input_one.pipe_input_at(k.to_owned(), v.to_string(), ts)?;
        } else {
            input_two.pipe_input_at(k.to_owned(), two_values(v), ts)?;
        }
    }
    let output =
        driver.create_output_topic("output", StringSerde, OptionSerde::new(Arc::new(I32Serde)));
    Ok(output.read_records_to_list()?)
}

fn sums() -> Vec<TestRecord<String, Option<i32>>> {
    SUMS.iter()
        .map(|(k, v, ts)| TestRecord::new(k.to_string(), Some(*v), *ts))
        .collect()
}

/// Kafka's `CogroupedKStreamImplTest.shouldAllowDifferentOutputTypeInCoGroup`.
#[test]
fn cogroup_with_a_different_output_type() -> Result {
    let output = cogroup_sums(parse_sum, |v| v.to_string(), StringSerde)?;
    assert_eq!(output, sums());
    Ok(())
}

/// Kafka's `CogroupedKStreamImplTest.shouldCoGroupStreamsWithDifferentInputTypes`.
#[test]
fn cogroup_streams_with_different_input_types() -> Result {
    let output = cogroup_sums(|_, v: i32, agg: i32| agg + v, |v| v, I32Serde)?;
    assert_eq!(output, sums());
    Ok(())
}

/// Kafka's `CogroupedKStreamImplTest.testCogroupWithKTableKTableInnerJoin`.
#[test]
fn cogroup_joined_with_a_table() -> Result {
    let builder = StreamsBuilder::new();
    let one = builder.stream::<String, String>("one").group_by_key();
    let two = builder.stream::<String, String>("two").group_by_key();
    let cogrouped = one.cogroup(append).cogroup(&two, append).aggregate_named(
        String::new,
        Named::as_("name")?,
        Materialized::named("store"),
    );
    let table = builder.table::<String, String>("three");
    cogrouped
        .join_with(&table, |l, r| format!("{l}+{r}"), Materialized::default())
        .to_stream()
        .to("output");
    let driver = TopologyTestDriver::new(&builder.build()?)?;
    pipe_to(&driver, "one", &[("k1", "A", 5)])?;
    pipe_to(&driver, "two", &[("k2", "B", 6)])?;
    assert_eq!(read::<String>(&driver, "output")?, updates(&[]));
    pipe_to(&driver, "three", &[("k1", "C", 0), ("k2", "D", 10)])?;
    assert_eq!(
        read::<String>(&driver, "output")?,
        updates(&[("k1", "A+C", 5), ("k2", "B+D", 10)])
    );
    Ok(())
}
