//! Ports of Kafka Streams' own operator tests for sliding-window
//! aggregations (`KStreamSlidingWindowAggregateTest`,
//! `SlidingWindowedKStreamImplTest`) and cogrouped aggregations
//! (`CogroupedKStreamImplTest`), asserting the whole output sequence Kafka
//! Streams produces for the same input, with caching off and the default
//! (reverse-iterating) window store.
//!
//! Many of Kafka's sliding-window tests compare only the set of updates of
//! each window, or the updates sorted by window; the sequences here hold
//! exactly those updates, in the order Kafka's
//! `KStreamSlidingWindowAggregate.processReverse`/`processEarly` emits them.

mod support;
use support::Result;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use streams_core::prelude::*;
use streams_core::state::{StoreHandle, ValueAndTimestamp, WindowStore};
use streams_core::Windowed;
use streams_dsl::{
    KStream, KTable, Materialized, Named, SlidingWindows, StreamsBuilder, TimeWindowedKStream,
};

fn ms(millis: u64) -> Duration {
    Duration::from_millis(millis)
}

/// `(key, value, timestamp)` of one output record.
type Row<'a> = (&'a str, &'a str, i64);

/// What a table of strings emitted, read back from its output topic.
type Output = Vec<TestRecord<String, Option<String>>>;

fn rows(expected: &[Row]) -> Output {
    expected
        .iter()
        .map(|(k, v, ts)| TestRecord::new(k.to_string(), Some(v.to_string()), *ts))
        .collect()
}

/// Kafka's `MockInitializer.STRING_INIT` and `MockAggregator.TOSTRING_ADDER`.
fn string_init() -> String {
    "0".to_owned()
}

fn string_adder(_: &String, value: String, aggregate: String) -> String {
    format!("{aggregate}+{value}")
}

/// Kafka's `MockReducer.STRING_ADDER`.
fn string_reducer(left: String, right: String) -> String {
    format!("{left}+{right}")
}

fn sliding(time_difference: u64, grace: u64) -> SlidingWindows {
    SlidingWindows::of_time_difference_and_grace(ms(time_difference), ms(grace))
}

/// Writes a windowed table's changelog to `topic` with `[key@start/end]`
/// keys (what Kafka's `MockApiProcessor` records).
fn to_strings<V: Clone + 'static>(table: &KTable<Windowed<String>, V>, topic: &str)
where
    Option<V>: DefaultSerde,
{
    let stream: KStream<Windowed<String>, Option<V>> = table.to_stream();
    stream.map(|k, v| (k.to_string(), v)).to(topic);
}

fn read_strings(driver: &TopologyTestDriver, topic: &str) -> Result<Output> {
    let output =
        driver.create_output_topic(topic, StringSerde, OptionSerde::new(Arc::new(StringSerde)));
    Ok(output.read_records_to_list()?)
}

fn pipe(driver: &TopologyTestDriver, topic: &str, records: &[Row]) -> Result {
    let input = driver.create_input_topic(topic, StringSerde, StringSerde);
    for (k, v, ts) in records {
        input.pipe_input_at(k.to_string(), v.to_string(), *ts)?;
    }
    Ok(())
}

/// Groups the string stream "input" by key, windows it by `windows`,
/// aggregates it with `aggregate`, pipes `input` and returns the table's
/// updates in order, with the driver for further checks.
fn run_sliding(
    windows: SlidingWindows,
    aggregate: impl FnOnce(TimeWindowedKStream<String, String>) -> KTable<Windowed<String>, String>,
    input: &[Row],
) -> Result<(Output, TopologyTestDriver)> {
    let builder = StreamsBuilder::new();
    let windowed = builder
        .stream::<String, String>("input")
        .group_by_key()
        .windowed_by(windows);
    to_strings(&aggregate(windowed), "output");
    let driver = TopologyTestDriver::new(&builder.build()?)?;
    pipe(&driver, "input", input)?;
    Ok((read_strings(&driver, "output")?, driver))
}

/// Kafka's `"0" + values` aggregation over sliding windows of
/// `time_difference` and `grace`.
fn aggregate_sliding(time_difference: u64, grace: u64, input: &[Row]) -> Result<Output> {
    let (output, _) = run_sliding(
        sliding(time_difference, grace),
        |windowed| windowed.aggregate(string_init, string_adder),
        input,
    )?;
    Ok(output)
}

// ------------------------------------------- KStreamSlidingWindowAggregateTest

/// Kafka's `KStreamSlidingWindowAggregateTest.testAggregateSmallInput`.
#[test]
fn aggregate_small_input() -> Result {
    let output = aggregate_sliding(
        10,
        5,
        &[
            ("A", "1", 10),
            ("A", "2", 10),
            ("A", "3", 14),
            ("A", "4", 15),
            ("A", "5", 20),
            ("A", "6", 22),
            ("A", "7", 30),
        ],
    )?;
    assert_eq!(
        output,
        rows(&[
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

/// Kafka's `KStreamSlidingWindowAggregateTest.testReduceSmallInput`.
#[test]
fn reduce_small_input() -> Result {
    let (output, _) = run_sliding(
        sliding(10, 5),
        |windowed| windowed.reduce(string_reducer),
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
        rows(&[
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

/// Kafka's `KStreamSlidingWindowAggregateTest.testAggregateLargeInput`.
#[test]
fn aggregate_large_input() -> Result {
    let output = aggregate_sliding(
        10,
        50,
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
    )?;
    assert_eq!(
        output,
        rows(&[
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

/// Kafka's `KStreamSlidingWindowAggregateTest.testEarlyRecordsSmallInput`.
#[test]
fn early_records_small_input() -> Result {
    let output = aggregate_sliding(
        50,
        0,
        &[
            ("A", "1", 0),
            ("A", "2", 5),
            ("A", "3", 6),
            ("A", "4", 3),
            ("A", "5", 13),
            ("A", "6", 10),
            ("A", "7", 70),
        ],
    )?;
    assert_eq!(
        output,
        rows(&[
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

/// Kafka's `KStreamSlidingWindowAggregateTest.testEarlyRecordsRepeatedInput`.
#[test]
fn early_records_repeated_input() -> Result {
    let output = aggregate_sliding(
        5,
        0,
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
    )?;
    assert_eq!(
        output,
        rows(&[
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

/// The input of Kafka's `testEarlyRecordsLargeInput` and
/// `testEarlyNoGracePeriodLargeInput`, shifted by `offset` ms for
/// `testNoGracePeriodLargeInput`.
fn large_input_e(offset: i64) -> Vec<(&'static str, &'static str, i64)> {
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
    let output = aggregate_sliding(10, 50, &large_input_e(0))?;
    assert_eq!(
        output,
        rows(&[
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

/// Kafka's `KStreamSlidingWindowAggregateTest.testEarlyNoGracePeriodSmallInput`.
#[test]
fn early_no_grace_period_small_input() -> Result {
    let output = aggregate_sliding(
        50,
        0,
        &[
            ("A", "1", 0),
            ("A", "2", 5),
            ("A", "3", 6),
            ("A", "4", 3),
            ("A", "5", 13),
            ("A", "6", 10),
            ("A", "6", 70),
        ],
    )?;
    assert_eq!(
        output,
        rows(&[
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

/// Kafka's `KStreamSlidingWindowAggregateTest.testNoGracePeriodSmallInput`.
#[test]
fn no_grace_period_small_input() -> Result {
    let output = aggregate_sliding(
        50,
        0,
        &[
            ("A", "1", 100),
            ("A", "2", 105),
            ("A", "3", 106),
            ("A", "4", 103),
            ("A", "5", 113),
            ("A", "6", 110),
        ],
    )?;
    assert_eq!(
        output,
        rows(&[
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

/// Kafka's `KStreamSlidingWindowAggregateTest.testEarlyNoGracePeriodLargeInput`.
#[test]
fn early_no_grace_period_large_input() -> Result {
    let output = aggregate_sliding(10, 0, &large_input_e(0))?;
    assert_eq!(
        output,
        rows(&[
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

/// Kafka's `KStreamSlidingWindowAggregateTest.testNoGracePeriodLargeInput`.
#[test]
fn no_grace_period_large_input() -> Result {
    let output = aggregate_sliding(10, 0, &large_input_e(100))?;
    assert_eq!(
        output,
        rows(&[
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

/// Kafka's `KStreamSlidingWindowAggregateTest.shouldLogAndMeterWhenSkippingExpiredWindowByGrace`:
/// the output and the number of dropped records.
#[test]
fn skipping_expired_window_by_grace() -> Result {
    let (output, driver) = run_sliding(
        sliding(10, 90),
        |windowed| windowed.aggregate(string_init, string_adder),
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
        rows(&[
            ("[k@190/200]", "0+100", 200),
            ("[k@290/300]", "0+101", 300),
            ("[k@390/400]", "0+102", 400),
        ])
    );
    assert_eq!(driver.metrics().dropped_records, 7);
    Ok(())
}

/// Kafka's `KStreamSlidingWindowAggregateTest.shouldLogAndMeterWhenSkippingNullKey`:
/// the record with a null key is dropped (the log line is not ported).
#[test]
fn skipping_null_key() -> Result {
    let builder = StreamsBuilder::new();
    builder
        .stream::<Option<String>, String>("input")
        .group_by_key()
        .windowed_by(sliding(10, 100))
        .aggregate(string_init, |_, v, agg: String| format!("{agg}+{v}"))
        .to_stream()
        .map(|k, v| (format!("{:?}@{}", k.key, k.window.start), v))
        .to("output");
    let driver = TopologyTestDriver::new(&builder.build()?)?;
    let input = driver.create_input_topic(
        "input",
        OptionSerde::new(Arc::new(StringSerde)),
        StringSerde,
    );
    input.pipe_input_at(None, "1".to_owned(), 0)?;
    assert_eq!(read_strings(&driver, "output")?, rows(&[]));
    assert_eq!(driver.metrics().dropped_records, 1);
    Ok(())
}

/// Kafka's `KStreamSlidingWindowAggregateTest.testJoin`: two sliding-window
/// aggregations and their join, checked after each batch of input.
#[test]
fn join_of_two_sliding_aggregations() -> Result {
    let builder = StreamsBuilder::new();
    let aggregate = |topic: &str| {
        builder
            .stream::<String, String>(topic)
            .group_by_key()
            .windowed_by(sliding(10, 100))
            .aggregate(string_init, string_adder)
    };
    let (table1, table2) = (aggregate("topic1"), aggregate("topic2"));
    to_strings(&table1, "table1");
    to_strings(&table2, "table2");
    to_strings(&table1.join(&table2, |l, r| format!("{l}%{r}")), "joined");
    let driver = TopologyTestDriver::new(&builder.build()?)?;
    let check = |input: (&str, &[Row]), expected: [&[Row]; 3]| -> Result {
        pipe(&driver, input.0, input.1)?;
        for (topic, rows_expected) in ["table1", "table2", "joined"].into_iter().zip(expected) {
            assert_eq!(
                read_strings(&driver, topic)?,
                rows(rows_expected),
                "{topic}"
            );
        }
        Ok(())
    };
    check(
        ("topic1", &[("A", "1", 10), ("B", "2", 11), ("C", "3", 12)]),
        [
            &[
                ("[A@0/10]", "0+1", 10),
                ("[B@1/11]", "0+2", 11),
                ("[C@2/12]", "0+3", 12),
            ],
            &[],
            &[],
        ],
    )?;
    check(
        ("topic1", &[("A", "1", 15), ("B", "2", 16), ("C", "3", 19)]),
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
    )?;
    check(
        ("topic2", &[("A", "a", 10), ("C", "c", 12)]),
        [
            &[],
            &[("[A@0/10]", "0+a", 10), ("[C@2/12]", "0+c", 12)],
            &[("[A@0/10]", "0+1%0+a", 10), ("[C@2/12]", "0+3%0+c", 12)],
        ],
    )?;
    check(
        ("topic2", &[("A", "a", 15), ("B", "b", 16), ("C", "c", 17)]),
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

/// Kafka's `KStreamSlidingWindowAggregateTest.testAggregateRandomInput`,
/// with fixed seeds: whatever the order of the input, the last update of
/// each window is the same. Each update is also checked against a
/// brute-force model: a window holds every record seen so far whose
/// timestamp lies within it, stamped with the latest of them.
#[test]
fn aggregate_random_input() -> Result {
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
        let mut input = letters.clone();
        Shuffler(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15)).shuffle(&mut input);
        input.push(("V", 181));
        let builder = StreamsBuilder::new();
        let sorted = builder
            .stream::<String, String>("input")
            .group_by_key()
            .windowed_by(sliding(10, 100))
            .aggregate(String::new, |_, v, agg: String| {
                let mut chars: Vec<char> = format!("{agg}{v}").chars().collect();
                chars.sort_unstable();
                chars.into_iter().collect::<String>()
            });
        sorted
            .to_stream()
            .map(|k, v| (k.window.start.to_string(), v))
            .to("output");
        let driver = TopologyTestDriver::new(&builder.build()?)?;
        let topic = driver.create_input_topic("input", StringSerde, StringSerde);
        let output = driver.create_output_topic(
            "output",
            StringSerde,
            OptionSerde::new(Arc::new(StringSerde)),
        );
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
    pipe(&driver, "input", &PROCESS_DATA)?;
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
        |windowed| windowed.reduce(string_reducer),
        &PROCESS_DATA,
    )?;
    assert_eq!(
        output,
        rows(&[
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
        |windowed| windowed.aggregate(string_init, string_adder),
        &PROCESS_DATA,
    )?;
    assert_eq!(
        output,
        rows(&[
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
    pipe(&driver, "input", &PROCESS_DATA)?;
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
        .reduce_with(string_reducer, Materialized::named("reduced"));
    let driver = TopologyTestDriver::new(&builder.build()?)?;
    pipe(&driver, "input", &PROCESS_DATA)?;
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
        .aggregate_with(string_init, string_adder, Materialized::named("aggregated"));
    let driver = TopologyTestDriver::new(&builder.build()?)?;
    pipe(&driver, "input", &PROCESS_DATA)?;
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
            string_init,
            string_adder,
            Materialized::named("aggregated").with_retention(ms(1)),
        );
    assert!(builder.build().is_err());
}

/// Kafka's `SlidingWindowedKStreamImplTest.shouldDropWindowsOutsideOfRetention`.
#[test]
fn drop_windows_outside_of_retention() -> Result {
    let (output, driver) = run_sliding(
        impl_windows(),
        |windowed| {
            windowed.aggregate_with(
                string_init,
                string_adder,
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
        rows(&[
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
) -> Result<Output> {
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
        pipe(&driver, topic, &[(k, v, *ts)])?;
    }
    read_strings(&driver, "output")
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
        rows(&[
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
    let input =
        driver.create_input_topic("one", StringSerde, OptionSerde::new(Arc::new(StringSerde)));
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
        read_strings(&driver, "output")?,
        rows(&[
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
        rows(&[
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
    assert_eq!(output, rows(&SHARED_KEYS_OUTPUT));
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
    assert_eq!(output, rows(&SHARED_KEYS_OUTPUT));
    Ok(())
}

/// Kafka's `CogroupedKStreamImplTest.testCogroupKeyMixedAggregators`.
#[test]
fn cogroup_mixed_aggregators() -> Result {
    let output = cogroup_strings(
        &["one", "two"],
        &[string_remover, string_adder],
        string_init,
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
        rows(&[
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
    pipe(&driver, "one", &[("k1", "A", 5)])?;
    pipe(&driver, "two", &[("k2", "B", 6)])?;
    assert_eq!(read_strings(&driver, "output")?, rows(&[]));
    pipe(&driver, "three", &[("k1", "C", 0), ("k2", "D", 10)])?;
    assert_eq!(
        read_strings(&driver, "output")?,
        rows(&[("k1", "A+C", 5), ("k2", "B+D", 10)])
    );
    Ok(())
}
