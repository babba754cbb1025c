//! Ports of Kafka Streams' windowed cogroup tests
//! (`TimeWindowedCogroupedKStreamImplTest`,
//! `SlidingWindowedCogroupedKStreamImplTest`,
//! `SessionWindowedCogroupedKStreamImplTest`): the same topology fed the
//! same records, and the whole output (keys, values, tombstones,
//! timestamps, in order) compared with what Kafka's tests expect. Windowed
//! keys are written as `[key@start/end]`, as Kafka's `Windowed::toString`;
//! Kafka's tests mostly compare only the plain key, so the windows here are
//! the ones Kafka's operators put those records in.

mod support;
use support::{add, merge, ms, strings, updates, zero, Result, Updates};

use streams_core::prelude::*;
use streams_core::Windowed;
use streams_dsl::{
    CogroupedKStream, KGroupedStream, KTable, Materialized, Named, SessionWindows, SlidingWindows,
    StreamsBuilder, TimeWindows,
};

const TOPIC: &str = "topic";
const TOPIC2: &str = "topic2";
const OUTPUT: &str = "output";

/// Kafka's `Materialized.with(Serdes.String(), Serdes.String())`.
fn string_serdes() -> Materialized<String, String> {
    Materialized::with(strings(), strings())
}

/// Kafka's `MockAggregator.TOSTRING_REMOVER`: `aggregate-value`.
fn remove(_: &String, value: String, aggregate: String) -> String {
    format!("{aggregate}-{value}")
}

/// The time tests' windows: 500 ms, no grace.
fn tumbling() -> TimeWindows {
    TimeWindows::of_size_with_no_grace(ms(500)).expect("valid windows")
}

/// The sliding tests' windows: 500 ms apart at most, 2000 ms grace.
fn sliding() -> SlidingWindows {
    SlidingWindows::of_time_difference_and_grace(ms(500), ms(2000))
}

/// The setup of Kafka's three test classes: streams "topic" and "topic2"
/// grouped by key, and cogrouped with `TOSTRING_ADDER` for "topic" and
/// `TOSTRING_REMOVER` for "topic2".
struct Setup {
    builder: StreamsBuilder,
    grouped: KGroupedStream<String, String>,
    cogrouped: CogroupedKStream<String, String>,
}

impl Setup {
    fn new() -> Self {
        let builder = StreamsBuilder::new();
        let grouped = builder.stream::<String, String>(TOPIC).group_by_key();
        let grouped2 = builder.stream::<String, String>(TOPIC2).group_by_key();
        let cogrouped = grouped.cogroup(add).cogroup(&grouped2, remove);
        Self {
            builder,
            grouped,
            cogrouped,
        }
    }
}

/// One input record: `(topic, key, value, timestamp)`.
type Input<'a> = (&'a str, &'a str, &'a str, i64);

/// Builds Kafka's setup, aggregates it with `aggregate`, writes the
/// table's changelog to "output", pipes `input` and returns what was
/// written.
fn run(
    aggregate: impl FnOnce(&Setup) -> KTable<Windowed<String>, String>,
    input: &[Input],
) -> Result<Updates<String>> {
    let setup = Setup::new();
    aggregate(&setup)
        .to_stream()
        .map(|key, value| (key.to_string(), value))
        .to(OUTPUT);
    let driver = TopologyTestDriver::new(&setup.builder.build()?)?;
    let topics = [TOPIC, TOPIC2].map(|topic| {
        (
            topic,
            driver.create_input_topic(topic, StringSerde, StringSerde),
        )
    });
    for (topic, key, value, timestamp) in input {
        let (_, input) = topics
            .iter()
            .find(|(name, _)| name == topic)
            .expect("a known topic");
        input.pipe_input_at(key.to_string(), value.to_string(), *timestamp)?;
    }
    let output = driver.create_output_topic(OUTPUT, StringSerde, OptionSerde::new(strings()));
    Ok(output.read_records_to_list()?)
}

/// Updates and tombstones (`None`).
fn changes(rows: &[(&str, Option<&str>, i64)]) -> Updates<String> {
    rows.iter()
        .map(|(k, v, ts)| TestRecord::new(k.to_string(), v.map(str::to_owned), *ts))
        .collect()
}

/// What Kafka's `namedParamShouldSetName` tests expect: one stream
/// cogrouped and aggregated under the name "foo".
const NAMED_TOPOLOGY: &str = "\
Topologies:
   Sub-topology: 0
    Source: KSTREAM-SOURCE-0000000000 (topics: [topic])
      --> foo-cogroup-agg-0
    Processor: foo-cogroup-agg-0 (stores: [COGROUPKSTREAM-AGGREGATE-STATE-STORE-0000000001])
      --> foo-cogroup-merge
      <-- KSTREAM-SOURCE-0000000000
    Processor: foo-cogroup-merge (stores: [])
      --> none
      <-- foo-cogroup-agg-0

";

/// The description of a fresh builder's "topic", grouped by key,
/// cogrouped with `TOSTRING_ADDER` and aggregated by `aggregate`.
fn describe_named(
    aggregate: impl FnOnce(CogroupedKStream<String, String>) -> KTable<Windowed<String>, String>,
) -> Result<String> {
    let builder = StreamsBuilder::new();
    let cogrouped = builder
        .stream::<String, String>(TOPIC)
        .group_by_key()
        .cogroup(add);
    aggregate(cogrouped);
    Ok(builder.build()?.describe().to_string())
}

fn foo() -> Named {
    Named::as_("foo").expect("a valid name")
}

// ------------------------------------------- TimeWindowedCogroupedKStreamImplTest

/// Kafka's `TimeWindowedCogroupedKStreamImplTest.namedParamShouldSetName`.
#[test]
fn time_windowed_named_param_sets_name() -> Result {
    let described = describe_named(|cogrouped| {
        cogrouped
            .windowed_by(tumbling())
            .aggregate_named(zero, foo(), string_serdes())
    })?;
    assert_eq!(described, NAMED_TOPOLOGY);
    Ok(())
}

/// The setup's cogroup of both topics in windows of 500 ms.
fn time_windowed_cogroup(setup: &Setup) -> KTable<Windowed<String>, String> {
    setup
        .cogrouped
        .windowed_by(tumbling())
        .aggregate_with(zero, string_serdes())
}

/// "topic" alone, cogrouped with `TOSTRING_ADDER` in `windows`.
fn single_cogroup(setup: &Setup, windows: TimeWindows) -> KTable<Windowed<String>, String> {
    setup
        .grouped
        .cogroup(add)
        .windowed_by(windows)
        .aggregate_with(zero, string_serdes())
}

/// The input of Kafka's two-stream time tests: "A"s at 0 to 2 into
/// "topic", then "B"s into `second` at 3 and `late`.
fn two_key_input(second: &str, late: i64) -> Vec<Input<'_>> {
    vec![
        (TOPIC, "k1", "A", 0),
        (TOPIC, "k2", "A", 0),
        (TOPIC, "k2", "A", 1),
        (TOPIC, "k1", "A", 2),
        (second, "k1", "B", 3),
        (second, "k2", "B", 3),
        (second, "k2", "B", late),
        (second, "k1", "B", late),
    ]
}

/// Kafka's `TimeWindowedCogroupedKStreamImplTest.timeWindowAggregateTestStreamsTest`.
#[test]
fn time_window_aggregate_streams() -> Result {
    let output = run(time_windowed_cogroup, &two_key_input(TOPIC, 4))?;
    assert_eq!(
        output,
        updates(&[
            ("[k1@0/500]", "0+A", 0),
            ("[k2@0/500]", "0+A", 0),
            ("[k2@0/500]", "0+A+A", 1),
            ("[k1@0/500]", "0+A+A", 2),
            ("[k1@0/500]", "0+A+A+B", 3),
            ("[k2@0/500]", "0+A+A+B", 3),
            ("[k2@0/500]", "0+A+A+B+B", 4),
            ("[k1@0/500]", "0+A+A+B+B", 4),
        ])
    );
    Ok(())
}

/// Kafka's `TimeWindowedCogroupedKStreamImplTest.timeWindowMixAggregatorsTest`.
#[test]
fn time_window_mix_aggregators() -> Result {
    let output = run(time_windowed_cogroup, &two_key_input(TOPIC2, 4))?;
    assert_eq!(
        output,
        updates(&[
            ("[k1@0/500]", "0+A", 0),
            ("[k2@0/500]", "0+A", 0),
            ("[k2@0/500]", "0+A+A", 1),
            ("[k1@0/500]", "0+A+A", 2),
            ("[k1@0/500]", "0+A+A-B", 3),
            ("[k2@0/500]", "0+A+A-B", 3),
            ("[k2@0/500]", "0+A+A-B-B", 4),
            ("[k1@0/500]", "0+A+A-B-B", 4),
        ])
    );
    Ok(())
}

/// Kafka's `TimeWindowedCogroupedKStreamImplTest.timeWindowAggregateManyWindowsTest`.
#[test]
fn time_window_aggregate_many_windows() -> Result {
    let output = run(
        |setup| single_cogroup(setup, tumbling()),
        &[
            (TOPIC, "k1", "A", 0),
            (TOPIC, "k2", "A", 499),
            (TOPIC, "k2", "A", 500),
            (TOPIC, "k1", "A", 500),
        ],
    )?;
    assert_eq!(
        output,
        updates(&[
            ("[k1@0/500]", "0+A", 0),
            ("[k2@0/500]", "0+A", 499),
            ("[k2@500/1000]", "0+A", 500),
            ("[k1@500/1000]", "0+A", 500),
        ])
    );
    Ok(())
}

/// Kafka's `TimeWindowedCogroupedKStreamImplTest.timeWindowAggregateOverlappingWindowsTest`.
#[test]
fn time_window_aggregate_overlapping_windows() -> Result {
    let hopping = tumbling().advance_by(ms(200))?;
    let output = run(
        |setup| single_cogroup(setup, hopping),
        &[
            (TOPIC, "k1", "A", 0),
            (TOPIC, "k2", "A", 0),
            (TOPIC, "k1", "B", 250),
            (TOPIC, "k2", "B", 250),
            (TOPIC, "k2", "A", 500),
            (TOPIC, "k1", "A", 500),
        ],
    )?;
    assert_eq!(
        output,
        updates(&[
            ("[k1@0/500]", "0+A", 0),
            ("[k2@0/500]", "0+A", 0),
            ("[k1@0/500]", "0+A+B", 250),
            ("[k1@200/700]", "0+B", 250),
            ("[k2@0/500]", "0+A+B", 250),
            ("[k2@200/700]", "0+B", 250),
            ("[k2@200/700]", "0+B+A", 500),
            ("[k2@400/900]", "0+A", 500),
            ("[k1@200/700]", "0+B+A", 500),
            ("[k1@400/900]", "0+A", 500),
        ])
    );
    Ok(())
}

/// Kafka's `TimeWindowedCogroupedKStreamImplTest.timeWindowMixAggregatorsManyWindowsTest`.
#[test]
fn time_window_mix_aggregators_many_windows() -> Result {
    let output = run(time_windowed_cogroup, &two_key_input(TOPIC2, 501))?;
    assert_eq!(
        output,
        updates(&[
            ("[k1@0/500]", "0+A", 0),
            ("[k2@0/500]", "0+A", 0),
            ("[k2@0/500]", "0+A+A", 1),
            ("[k1@0/500]", "0+A+A", 2),
            ("[k1@0/500]", "0+A+A-B", 3),
            ("[k2@0/500]", "0+A+A-B", 3),
            ("[k2@500/1000]", "0-B", 501),
            ("[k1@500/1000]", "0-B", 501),
        ])
    );
    Ok(())
}

// ---------------------------------------- SlidingWindowedCogroupedKStreamImplTest

/// Kafka's `SlidingWindowedCogroupedKStreamImplTest.namedParamShouldSetName`.
#[test]
fn sliding_windowed_named_param_sets_name() -> Result {
    let described = describe_named(|cogrouped| {
        cogrouped
            .windowed_by(sliding())
            .aggregate_named(zero, foo(), string_serdes())
    })?;
    assert_eq!(described, NAMED_TOPOLOGY);
    Ok(())
}

/// Kafka's `SlidingWindowedCogroupedKStreamImplTest.slidingWindowAggregateStreamsTest`.
#[test]
fn sliding_window_aggregate_streams() -> Result {
    let output = run(
        |setup| {
            setup
                .cogrouped
                .windowed_by(sliding())
                .aggregate_with(zero, string_serdes())
        },
        &[
            (TOPIC, "k1", "A", 500),
            (TOPIC, "k2", "A", 500),
            (TOPIC, "k2", "A", 501),
            (TOPIC, "k1", "A", 502),
            (TOPIC, "k1", "B", 503),
            (TOPIC, "k2", "B", 503),
            (TOPIC, "k2", "B", 504),
            (TOPIC, "k1", "B", 504),
        ],
    )?;
    assert_eq!(
        output,
        updates(&[
            ("[k1@0/500]", "0+A", 500),
            ("[k2@0/500]", "0+A", 500),
            ("[k2@501/1001]", "0+A", 501),
            ("[k2@1/501]", "0+A+A", 501),
            ("[k1@501/1001]", "0+A", 502),
            ("[k1@2/502]", "0+A+A", 502),
            ("[k1@501/1001]", "0+A+B", 503),
            ("[k1@503/1003]", "0+B", 503),
            ("[k1@3/503]", "0+A+A+B", 503),
            ("[k2@501/1001]", "0+A+B", 503),
            ("[k2@502/1002]", "0+B", 503),
            ("[k2@3/503]", "0+A+A+B", 503),
            ("[k2@502/1002]", "0+B+B", 504),
            ("[k2@501/1001]", "0+A+B+B", 504),
            ("[k2@504/1004]", "0+B", 504),
            ("[k2@4/504]", "0+A+A+B+B", 504),
            ("[k1@503/1003]", "0+B+B", 504),
            ("[k1@501/1001]", "0+A+B+B", 504),
            ("[k1@504/1004]", "0+B", 504),
            ("[k1@4/504]", "0+A+A+B+B", 504),
        ])
    );
    Ok(())
}

/// Kafka's `SlidingWindowedCogroupedKStreamImplTest.slidingWindowAggregateOverlappingWindowsTest`.
#[test]
fn sliding_window_aggregate_overlapping_windows() -> Result {
    let output = run(
        |setup| {
            setup
                .grouped
                .cogroup(add)
                .windowed_by(sliding())
                .aggregate_with(zero, string_serdes())
        },
        &[
            (TOPIC, "k1", "A", 500),
            (TOPIC, "k2", "A", 500),
            (TOPIC, "k1", "B", 750),
            (TOPIC, "k2", "B", 750),
            (TOPIC, "k2", "A", 1000),
            (TOPIC, "k1", "A", 1000),
        ],
    )?;
    assert_eq!(
        output,
        updates(&[
            // left windows of the first records
            ("[k1@0/500]", "0+A", 500),
            ("[k2@0/500]", "0+A", 500),
            // right window of k1@500, left window of k1@750
            ("[k1@501/1001]", "0+B", 750),
            ("[k1@250/750]", "0+A+B", 750),
            ("[k2@501/1001]", "0+B", 750),
            ("[k2@250/750]", "0+A+B", 750),
            // right windows of @500 and @750, left window of @1000
            ("[k2@501/1001]", "0+B+A", 1000),
            ("[k2@751/1251]", "0+A", 1000),
            ("[k2@500/1000]", "0+A+B+A", 1000),
            ("[k1@501/1001]", "0+B+A", 1000),
            ("[k1@751/1251]", "0+A", 1000),
            ("[k1@500/1000]", "0+A+B+A", 1000),
        ])
    );
    Ok(())
}

// ---------------------------------------- SessionWindowedCogroupedKStreamImplTest

/// Kafka's `SessionWindowedCogroupedKStreamImplTest.namedParamShouldSetName`.
#[test]
fn session_windowed_named_param_sets_name() -> Result {
    let windows = SessionWindows::of_inactivity_gap_with_no_grace(ms(1))?;
    let described = describe_named(|cogrouped| {
        cogrouped
            .windowed_by(windows)
            .aggregate_named(zero, merge, foo(), string_serdes())
    })?;
    assert_eq!(described, NAMED_TOPOLOGY);
    Ok(())
}

/// "topic" alone, cogrouped with `TOSTRING_ADDER` in sessions with a gap
/// of 500 ms and no grace.
fn single_session_cogroup(setup: &Setup) -> KTable<Windowed<String>, String> {
    let windows = SessionWindows::of_inactivity_gap_with_no_grace(ms(500)).expect("valid");
    setup
        .grouped
        .cogroup(add)
        .windowed_by(windows)
        .aggregate_with(zero, merge, string_serdes())
}

/// The setup's cogroup of both topics in sessions with a gap of 100 ms
/// and a day's grace.
fn session_cogroup(setup: &Setup) -> KTable<Windowed<String>, String> {
    let day = ms(24 * 60 * 60 * 1000);
    let windows = SessionWindows::of_inactivity_gap_and_grace(ms(100), day).expect("valid");
    setup
        .cogrouped
        .windowed_by(windows)
        .aggregate_with(zero, merge, string_serdes())
}

/// Kafka's `SessionWindowedCogroupedKStreamImplTest.sessionWindowAggregateTest`.
#[test]
fn session_window_aggregate() -> Result {
    let output = run(
        single_session_cogroup,
        &[
            (TOPIC, "k1", "A", 0),
            (TOPIC, "k2", "A", 0),
            (TOPIC, "k1", "B", 599),
            (TOPIC, "k2", "B", 607),
        ],
    )?;
    assert_eq!(
        output,
        updates(&[
            ("[k1@0/0]", "0+A", 0),
            ("[k2@0/0]", "0+A", 0),
            ("[k1@599/599]", "0+B", 599),
            ("[k2@607/607]", "0+B", 607),
        ])
    );
    Ok(())
}

/// Kafka's `SessionWindowedCogroupedKStreamImplTest.sessionWindowAggregate2Test`:
/// a second record in the same one-instant session merges it in place, with
/// no tombstone.
#[test]
fn session_window_aggregate_same_session() -> Result {
    let output = run(
        single_session_cogroup,
        &[
            (TOPIC, "k1", "A", 0),
            (TOPIC, "k1", "A", 0),
            (TOPIC, "k2", "B", 599),
            (TOPIC, "k1", "B", 607),
        ],
    )?;
    assert_eq!(
        output,
        updates(&[
            ("[k1@0/0]", "0+A", 0),
            ("[k1@0/0]", "0+0+A+A", 0),
            ("[k2@599/599]", "0+B", 599),
            ("[k1@607/607]", "0+B", 607),
        ])
    );
    Ok(())
}

/// Kafka's `SessionWindowedCogroupedKStreamImplTest.sessionWindowAggregateTest2StreamsTest`.
#[test]
fn session_window_aggregate_two_streams() -> Result {
    let output = run(
        session_cogroup,
        &[
            (TOPIC, "k1", "A", 0),
            (TOPIC, "k1", "A", 84),
            (TOPIC, "k1", "A", 113),
            (TOPIC, "k1", "A", 199),
            (TOPIC, "k1", "B", 300),
            (TOPIC, "k2", "B", 301),
            (TOPIC, "k2", "B", 400),
            (TOPIC, "k1", "B", 400),
        ],
    )?;
    assert_eq!(
        output,
        changes(&[
            ("[k1@0/0]", Some("0+A"), 0),
            ("[k1@0/0]", None, 0),
            ("[k1@0/84]", Some("0+0+A+A"), 84),
            ("[k1@0/84]", None, 84),
            ("[k1@0/113]", Some("0+0+0+A+A+A"), 113),
            ("[k1@0/113]", None, 113),
            ("[k1@0/199]", Some("0+0+0+0+A+A+A+A"), 199),
            ("[k1@300/300]", Some("0+B"), 300),
            ("[k2@301/301]", Some("0+B"), 301),
            ("[k2@301/301]", None, 301),
            ("[k2@301/400]", Some("0+0+B+B"), 400),
            ("[k1@300/300]", None, 300),
            ("[k1@300/400]", Some("0+0+B+B"), 400),
        ])
    );
    Ok(())
}

/// The input of Kafka's session tests mixing aggregators: "A"s at 0 to 2
/// into "topic", then "B"s into "topic2" at 3 and `later`.
fn mixed_session_input(later: [(&'static str, i64); 3]) -> Vec<Input<'static>> {
    let mut input = vec![
        (TOPIC, "k1", "A", 0),
        (TOPIC, "k2", "A", 0),
        (TOPIC, "k2", "A", 1),
        (TOPIC, "k1", "A", 2),
        (TOPIC2, "k1", "B", 3),
    ];
    input.extend(later.map(|(key, ts)| (TOPIC2, key, "B", ts)));
    input
}

/// What Kafka's session tests mixing aggregators expect for the records
/// up to k1@3.
const MIXED_SESSION_START: [(&str, Option<&str>, i64); 8] = [
    ("[k1@0/0]", Some("0+A"), 0),
    ("[k2@0/0]", Some("0+A"), 0),
    ("[k2@0/0]", None, 0),
    ("[k2@0/1]", Some("0+0+A+A"), 1),
    ("[k1@0/0]", None, 0),
    ("[k1@0/2]", Some("0+0+A+A"), 2),
    ("[k1@0/2]", None, 2),
    ("[k1@0/3]", Some("0+0+0+A+A-B"), 3),
];

/// Kafka's `SessionWindowedCogroupedKStreamImplTest.sessionWindowMixAggregatorsTest`.
#[test]
fn session_window_mix_aggregators() -> Result {
    let output = run(
        session_cogroup,
        &mixed_session_input([("k2", 3), ("k2", 444), ("k1", 444)]),
    )?;
    let mut expected = MIXED_SESSION_START.to_vec();
    expected.extend([
        ("[k2@0/1]", None, 1),
        ("[k2@0/3]", Some("0+0+0+A+A-B"), 3),
        ("[k2@444/444]", Some("0-B"), 444),
        ("[k1@444/444]", Some("0-B"), 444),
    ]);
    assert_eq!(output, changes(&expected));
    Ok(())
}

/// Kafka's `SessionWindowedCogroupedKStreamImplTest.sessionWindowMixAggregatorsManyWindowsTest`.
#[test]
fn session_window_mix_aggregators_many_windows() -> Result {
    let output = run(
        session_cogroup,
        &mixed_session_input([("k2", 500), ("k2", 501), ("k1", 501)]),
    )?;
    let mut expected = MIXED_SESSION_START.to_vec();
    expected.extend([
        ("[k2@500/500]", Some("0-B"), 500),
        ("[k2@500/500]", None, 500),
        ("[k2@500/501]", Some("0+0-B-B"), 501),
        ("[k1@501/501]", Some("0-B"), 501),
    ]);
    assert_eq!(output, changes(&expected));
    Ok(())
}
