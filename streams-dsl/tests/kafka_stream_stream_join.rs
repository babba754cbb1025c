//! Kafka Streams' own stream-stream join tests (`KStreamKStreamJoinTest`
//! and `KStreamKStreamSelfJoinTest`), ported record for record: the same
//! input through the same topology, and the whole output (keys, values,
//! timestamps, in order) compared with what Kafka's tests expect.

mod support;
use support::{ms, pipe, Task};

use std::ops::RangeInclusive;
use std::time::Duration;

use streams_core::prelude::*;
use streams_core::topology::DEFAULT_ADDITIONAL_CHANGELOG_RETENTION;
use streams_dsl::{JoinWindows, KStream, StreamJoined, StreamsBuilder};

/// Which input topic a batch is piped into: `topic1` is the joining
/// stream, `topic2` the joined one.
#[derive(Clone, Copy, Debug)]
enum Side {
    Left,
    Right,
}
use Side::{Left, Right};

/// Records `<prefix><k>` for keys `0..count` on one side, key `k` stamped
/// `ts + k * step` (Kafka's tests pipe such a loop between checks).
#[derive(Debug)]
struct Batch {
    side: Side,
    prefix: &'static str,
    count: i32,
    ts: i64,
    step: i64,
}

/// Every key at the same timestamp.
fn at(side: Side, prefix: &'static str, count: i32, ts: i64) -> Batch {
    Batch {
        side,
        prefix,
        count,
        ts,
        step: 0,
    }
}

/// Key `k` at `ts + k`.
fn rising(side: Side, prefix: &'static str, count: i32, ts: i64) -> Batch {
    Batch {
        step: 1,
        ..at(side, prefix, count, ts)
    }
}

/// One expected output record: key, value, timestamp.
type Out = (i32, String, i64);

fn out(key: i32, value: &str, ts: i64) -> Out {
    (key, value.to_owned(), ts)
}

/// `<left><k>+<right><k>` for each key `k` of `keys`, stamped
/// `ts + k * step`: what joining a batch with one record per key gives.
fn joined(left: &str, right: &str, keys: RangeInclusive<i32>, ts: i64, step: i64) -> Vec<Out> {
    keys.map(|k| (k, format!("{left}{k}+{right}{k}"), ts + i64::from(k) * step))
        .collect()
}

/// Kafka's `MockValueJoiner.TOSTRING_JOINER`: `left+right`.
fn to_string_joiner(left: &String, right: &String) -> String {
    format!("{left}+{right}")
}

/// The same for joiners that may miss a side (Java prints `null`).
fn to_string_outer_joiner(left: Option<&String>, right: Option<&String>) -> String {
    let show = |v: Option<&String>| v.map_or_else(|| "null".to_owned(), Clone::clone);
    format!("{}+{}", show(left), show(right))
}

/// Builds `topic1 <join> topic2` (integer keys, string values) into `out`,
/// then pipes each batch and checks what it emits.
fn run(
    join: impl FnOnce(&KStream<i32, String>, &KStream<i32, String>) -> KStream<i32, String>,
    steps: Vec<(Batch, Vec<Out>)>,
) {
    let builder = StreamsBuilder::new();
    let left = builder.stream::<i32, String>("topic1");
    let right = builder.stream::<i32, String>("topic2");
    join(&left, &right).to("out");
    let driver = TopologyTestDriver::new(&builder.build().expect("valid")).expect("driver");
    let left = driver.create_input_topic("topic1", I32Serde, StringSerde);
    let right = driver.create_input_topic("topic2", I32Serde, StringSerde);
    let output = driver.create_output_topic("out", I32Serde, StringSerde);
    for (batch, expected) in steps {
        let topic = match batch.side {
            Left => &left,
            Right => &right,
        };
        for k in 0..batch.count {
            let ts = batch.ts + i64::from(k) * batch.step;
            topic
                .pipe_input_at(k, format!("{}{k}", batch.prefix), ts)
                .expect("pipe");
        }
        let expected: Vec<_> = expected
            .into_iter()
            .map(|(k, v, ts)| TestRecord::new(k, v, ts))
            .collect();
        assert_eq!(
            output.read_records_to_list().expect("read"),
            expected,
            "after {batch:?}"
        );
    }
}

fn inner_join(
    windows: JoinWindows,
) -> impl FnOnce(&KStream<i32, String>, &KStream<i32, String>) -> KStream<i32, String> {
    move |left, right| left.join(right, to_string_joiner, windows)
}

/// The input of Kafka's `testJoin` and `testOuterJoin` (every record at
/// time 0, so all stay within the window) and what it gives: both tests
/// expect the same, as every record finds a match before it could be
/// reported unmatched.
fn all_at_zero() -> Vec<(Batch, Vec<Out>)> {
    vec![
        (at(Left, "A", 2, 0), vec![]),
        (at(Right, "a", 2, 0), joined("A", "a", 0..=1, 0, 0)),
        (at(Left, "B", 4, 0), joined("B", "a", 0..=1, 0, 0)),
        (
            at(Right, "b", 4, 0),
            vec![
                out(0, "A0+b0", 0),
                out(0, "B0+b0", 0),
                out(1, "A1+b1", 0),
                out(1, "B1+b1", 0),
                out(2, "B2+b2", 0),
                out(3, "B3+b3", 0),
            ],
        ),
        (
            at(Left, "C", 4, 0),
            vec![
                out(0, "C0+a0", 0),
                out(0, "C0+b0", 0),
                out(1, "C1+a1", 0),
                out(1, "C1+b1", 0),
                out(2, "C2+b2", 0),
                out(3, "C3+b3", 0),
            ],
        ),
        (
            at(Right, "c", 2, 0),
            vec![
                out(0, "A0+c0", 0),
                out(0, "B0+c0", 0),
                out(0, "C0+c0", 0),
                out(1, "A1+c1", 0),
                out(1, "B1+c1", 0),
                out(1, "C1+c1", 0),
            ],
        ),
    ]
}

/// Kafka's `KStreamKStreamJoinTest.testJoin`.
#[test]
fn test_join() {
    run(
        inner_join(JoinWindows::of_time_difference_with_no_grace(ms(100))),
        all_at_zero(),
    );
}

/// Kafka's `KStreamKStreamJoinTest.testOuterJoin`.
#[test]
fn test_outer_join() {
    let windows =
        JoinWindows::of_time_difference_and_grace(ms(100), Duration::from_secs(24 * 3600));
    run(
        move |left, right| left.outer_join(right, to_string_outer_joiner, windows),
        all_at_zero(),
    );
}

/// Kafka's `KStreamKStreamJoinTest.testWindowing`.
#[test]
fn test_windowing() {
    run(
        inner_join(JoinWindows::of_time_difference_with_no_grace(ms(100))),
        vec![
            (at(Left, "A", 2, 0), vec![]),
            (at(Right, "a", 2, 0), joined("A", "a", 0..=1, 0, 0)),
            (rising(Left, "B", 4, 1000), vec![]),
            (at(Right, "b", 4, 1100), joined("B", "b", 0..=3, 1100, 0)),
            (at(Right, "c", 4, 1101), joined("B", "c", 1..=3, 1101, 0)),
            (at(Right, "d", 4, 1102), joined("B", "d", 2..=3, 1102, 0)),
            (at(Right, "e", 4, 1103), joined("B", "e", 3..=3, 1103, 0)),
            (at(Right, "f", 4, 1104), vec![]),
            // Before B0's window (1000 - 100 - 1).
            (at(Right, "g", 4, 899), vec![]),
            (at(Right, "h", 4, 900), joined("B", "h", 0..=0, 1000, 1)),
            (at(Right, "i", 4, 901), joined("B", "i", 0..=1, 1000, 1)),
            (at(Right, "j", 4, 902), joined("B", "j", 0..=2, 1000, 1)),
            (at(Right, "k", 4, 903), joined("B", "k", 0..=3, 1000, 1)),
            (rising(Right, "l", 4, 2000), vec![]),
            (at(Left, "C", 4, 2100), joined("C", "l", 0..=3, 2100, 0)),
            (at(Left, "D", 4, 2101), joined("D", "l", 1..=3, 2101, 0)),
            (at(Left, "E", 4, 2102), joined("E", "l", 2..=3, 2102, 0)),
            (at(Left, "F", 4, 2103), joined("F", "l", 3..=3, 2103, 0)),
            (at(Left, "G", 4, 2104), vec![]),
            // Before l0's window (2000 - 100 - 1).
            (at(Left, "H", 4, 1899), vec![]),
            (at(Left, "I", 4, 1900), joined("I", "l", 0..=0, 2000, 1)),
            (at(Left, "J", 4, 1901), joined("J", "l", 0..=1, 2000, 1)),
            (at(Left, "K", 4, 1902), joined("K", "l", 0..=2, 2000, 1)),
            (at(Left, "L", 4, 1903), joined("L", "l", 0..=3, 2000, 1)),
        ],
    );
}

/// Kafka's `KStreamKStreamJoinTest.testAsymmetricWindowingAfter`.
#[test]
fn test_asymmetric_windowing_after() {
    let windows = JoinWindows::of_time_difference_with_no_grace(ms(0)).after(ms(100));
    run(
        inner_join(windows),
        vec![
            (rising(Left, "A", 4, 1000), vec![]),
            (at(Right, "a", 4, 999), vec![]),
            (at(Right, "b", 4, 1000), joined("A", "b", 0..=0, 1000, 0)),
            (at(Right, "c", 4, 1001), joined("A", "c", 0..=1, 1001, 0)),
            (at(Right, "d", 4, 1002), joined("A", "d", 0..=2, 1002, 0)),
            (at(Right, "e", 4, 1003), joined("A", "e", 0..=3, 1003, 0)),
            (at(Right, "f", 4, 1100), joined("A", "f", 0..=3, 1100, 0)),
            (at(Right, "g", 4, 1101), joined("A", "g", 1..=3, 1101, 0)),
            (at(Right, "h", 4, 1102), joined("A", "h", 2..=3, 1102, 0)),
            (at(Right, "i", 4, 1103), joined("A", "i", 3..=3, 1103, 0)),
            (at(Right, "j", 4, 1104), vec![]),
        ],
    );
}

/// Kafka's `KStreamKStreamJoinTest.testAsymmetricWindowingBefore`.
#[test]
fn test_asymmetric_windowing_before() {
    let windows = JoinWindows::of_time_difference_with_no_grace(ms(0)).before(ms(100));
    run(
        inner_join(windows),
        vec![
            (rising(Left, "A", 4, 1000), vec![]),
            (at(Right, "a", 4, 899), vec![]),
            (at(Right, "b", 4, 900), joined("A", "b", 0..=0, 1000, 1)),
            (at(Right, "c", 4, 901), joined("A", "c", 0..=1, 1000, 1)),
            (at(Right, "d", 4, 902), joined("A", "d", 0..=2, 1000, 1)),
            (at(Right, "e", 4, 903), joined("A", "e", 0..=3, 1000, 1)),
            (at(Right, "f", 4, 1000), joined("A", "f", 0..=3, 1000, 1)),
            (at(Right, "g", 4, 1001), joined("A", "g", 1..=3, 1000, 1)),
            (at(Right, "h", 4, 1002), joined("A", "h", 2..=3, 1000, 1)),
            (at(Right, "i", 4, 1003), joined("A", "i", 3..=3, 1000, 1)),
            (at(Right, "j", 4, 1004), vec![]),
        ],
    );
}

/// Kafka's `runJoin` helper: `left.join(right, Integer::sum)` over a few
/// records, with the join's stores as `joined` makes them.
fn run_sum_join(joined: StreamJoined<String, i32, i32>) {
    let builder = StreamsBuilder::new();
    let left = builder.stream::<String, i32>("left");
    let right = builder.stream::<String, i32>("right");
    left.join_with(
        &right,
        |l, r| l + r,
        JoinWindows::of_time_difference_with_no_grace(ms(100)),
        joined,
    )
    .to("out");
    let driver = TopologyTestDriver::new(&builder.build().expect("valid")).expect("driver");
    let left = driver.create_input_topic("left", StringSerde, I32Serde);
    let right = driver.create_input_topic("right", StringSerde, I32Serde);
    let output = driver.create_output_topic("out", StringSerde, I32Serde);
    for (topic, key, value, ts) in [
        (&left, "A", 1, 1),
        (&left, "B", 1, 2),
        (&right, "A", 1, 1),
        (&right, "B", 2, 2),
    ] {
        topic
            .pipe_input_at(key.to_owned(), value, ts)
            .expect("pipe");
    }
    assert_eq!(
        output.read_records_to_list().expect("read"),
        [
            TestRecord::new("A".to_owned(), 2, 1),
            TestRecord::new("B".to_owned(), 3, 2),
        ]
    );
}

/// Kafka's `KStreamKStreamJoinTest.shouldJoinWithCustomStoreSuppliers`:
/// the same results whether the join's stores are kept in memory or not
/// (this library chooses the backend with `StreamJoined::in_memory`, not
/// with store suppliers).
#[test]
fn should_join_with_custom_store_suppliers() {
    let serdes = || StreamJoined::serdes(StringSerde, I32Serde, I32Serde);
    run_sum_join(serdes().in_memory());
    run_sum_join(serdes());
}

/// Builds `left.join(right)` with `joined` and returns the changelog
/// topics it would create for application `app`, with their configs.
fn join_changelogs(joined: StreamJoined<String, i32, i32>) -> Vec<(String, Option<String>)> {
    let builder = StreamsBuilder::new();
    let left = builder.stream::<String, i32>("left");
    let right = builder.stream::<String, i32>("right");
    left.join_with(
        &right,
        |l, r| l + r,
        JoinWindows::of_time_difference_and_grace(ms(100), ms(50)),
        joined.with_store_name("store"),
    );
    let topology = builder.build().expect("valid");
    let mut names = topology.store_names();
    names.sort_unstable();
    assert_eq!(names, ["store-other-join-store", "store-this-join-store"]);
    topology
        .internal_topic_configs("app")
        .iter()
        .map(|topic| {
            let props = topic.properties(DEFAULT_ADDITIONAL_CHANGELOG_RETENTION);
            (topic.name().to_owned(), props.get("test").cloned())
        })
        .collect()
}

/// Kafka's `KStreamKStreamJoinTest.shouldBuildJoinWithCustomStoresAndCorrectWindowSettings`
/// (which, despite its name, passes no custom stores): Kafka reads the
/// stores' settings (window 100 = before + after, retention 150 = window
/// plus grace, duplicates retained); here their effects are checked: the
/// changelogs keep 150 ms (plus the additional retention), a record joins
/// exactly the records at most 50 ms before or after it, and two records
/// with the same key and time are both kept and both joined.
#[test]
fn should_build_join_with_custom_stores_and_correct_window_settings() {
    let builder = StreamsBuilder::new();
    let left = builder.stream::<String, i32>("left");
    let right = builder.stream::<String, i32>("right");
    left.join_with(
        &right,
        |l, r| l + r,
        JoinWindows::of_time_difference_and_grace(ms(50), ms(50)),
        StreamJoined::serdes(StringSerde, I32Serde, I32Serde),
    )
    .to("out");
    let topology = builder.build().expect("valid");

    let retention = (150 + DEFAULT_ADDITIONAL_CHANGELOG_RETENTION.as_millis()).to_string();
    let changelogs = topology.internal_topic_configs("app");
    assert_eq!(changelogs.len(), 2);
    for topic in &changelogs {
        let props = topic.properties(DEFAULT_ADDITIONAL_CHANGELOG_RETENTION);
        assert_eq!(
            props.get("retention.ms"),
            Some(&retention),
            "{}",
            topic.name()
        );
    }

    let driver = TopologyTestDriver::new(&topology).expect("driver");
    let left = driver.create_input_topic("left", StringSerde, I32Serde);
    let right = driver.create_input_topic("right", StringSerde, I32Serde);
    let output = driver.create_output_topic("out", StringSerde, I32Serde);
    for (topic, value, ts) in [
        // 51 ms before the left records: outside the window.
        (&right, 10, 49),
        // Duplicates: same key, same time.
        (&left, 1, 100),
        (&left, 2, 100),
        (&right, 20, 50),
        (&right, 30, 150),
        (&right, 40, 151),
    ] {
        topic
            .pipe_input_at("A".to_owned(), value, ts)
            .expect("pipe");
    }
    let joined = |value, ts| TestRecord::new("A".to_owned(), value, ts);
    assert_eq!(
        output.read_records_to_list().expect("read"),
        [
            joined(21, 100),
            joined(22, 100),
            joined(31, 150),
            joined(32, 150)
        ]
    );
}

/// Kafka's `KStreamKStreamJoinTest.shouldDisableLoggingOnStreamJoined`.
#[test]
fn should_disable_logging_on_stream_joined() {
    let joined = StreamJoined::serdes(StringSerde, I32Serde, I32Serde).with_logging_disabled();
    assert_eq!(join_changelogs(joined), []);
}

/// Kafka's `KStreamKStreamJoinTest.shouldEnableLoggingWithCustomConfigOnStreamJoined`.
#[test]
fn should_enable_logging_with_custom_config_on_stream_joined() {
    let joined = StreamJoined::serdes(StringSerde, I32Serde, I32Serde)
        .with_logging_enabled([("test", "property")]);
    let property = Some("property".to_owned());
    assert_eq!(
        join_changelogs(joined),
        [
            (
                "app-store-this-join-store-changelog".to_owned(),
                property.clone()
            ),
            ("app-store-other-join-store-changelog".to_owned(), property),
        ]
    );
}

/// Kafka's `KStreamKStreamJoinTest.shouldCreateRepartitionTopicsWithUserProvidedName`.
#[test]
fn should_create_repartition_topics_with_user_provided_name() {
    let builder = StreamsBuilder::new();
    let stream1 = builder.stream::<String, String>("topic");
    let stream2 = builder.stream::<String, String>("topic2");
    let stream3 = builder.stream::<String, String>("topic3");
    let mapped = stream1.map(|k, v| (v, k));
    let windows = JoinWindows::of_time_difference_with_no_grace(ms(100));
    let named = |name| StreamJoined::serdes(StringSerde, StringSerde, StringSerde).with_name(name);
    let concat = |l: &String, r: &String| format!("{l}{r}");
    mapped
        .join_with(&stream2, concat, windows, named("first-join"))
        .to("out-one");
    mapped
        .join_with(&stream3, concat, windows, named("second-join"))
        .to("out-two");
    let expected = "\
Topologies:
   Sub-topology: 0
    Source: KSTREAM-SOURCE-0000000000 (topics: [topic])
      --> KSTREAM-MAP-0000000003
    Processor: KSTREAM-MAP-0000000003 (stores: [])
      --> second-join-left-repartition-filter, first-join-left-repartition-filter
      <-- KSTREAM-SOURCE-0000000000
    Processor: first-join-left-repartition-filter (stores: [])
      --> first-join-left-repartition-sink
      <-- KSTREAM-MAP-0000000003
    Processor: second-join-left-repartition-filter (stores: [])
      --> second-join-left-repartition-sink
      <-- KSTREAM-MAP-0000000003
    Sink: first-join-left-repartition-sink (topic: first-join-left-repartition)
      <-- first-join-left-repartition-filter
    Sink: second-join-left-repartition-sink (topic: second-join-left-repartition)
      <-- second-join-left-repartition-filter

  Sub-topology: 1
    Source: KSTREAM-SOURCE-0000000001 (topics: [topic2])
      --> first-join-other-windowed
    Source: first-join-left-repartition-source (topics: [first-join-left-repartition])
      --> first-join-this-windowed
    Processor: first-join-other-windowed (stores: [KSTREAM-JOINOTHER-0000000010-store])
      --> first-join-other-join
      <-- KSTREAM-SOURCE-0000000001
    Processor: first-join-this-windowed (stores: [KSTREAM-JOINTHIS-0000000009-store])
      --> first-join-this-join
      <-- first-join-left-repartition-source
    Processor: first-join-other-join (stores: [KSTREAM-JOINTHIS-0000000009-store])
      --> first-join-merge
      <-- first-join-other-windowed
    Processor: first-join-this-join (stores: [KSTREAM-JOINOTHER-0000000010-store])
      --> first-join-merge
      <-- first-join-this-windowed
    Processor: first-join-merge (stores: [])
      --> KSTREAM-SINK-0000000012
      <-- first-join-this-join, first-join-other-join
    Sink: KSTREAM-SINK-0000000012 (topic: out-one)
      <-- first-join-merge

  Sub-topology: 2
    Source: KSTREAM-SOURCE-0000000002 (topics: [topic3])
      --> second-join-other-windowed
    Source: second-join-left-repartition-source (topics: [second-join-left-repartition])
      --> second-join-this-windowed
    Processor: second-join-other-windowed (stores: [KSTREAM-JOINOTHER-0000000019-store])
      --> second-join-other-join
      <-- KSTREAM-SOURCE-0000000002
    Processor: second-join-this-windowed (stores: [KSTREAM-JOINTHIS-0000000018-store])
      --> second-join-this-join
      <-- second-join-left-repartition-source
    Processor: second-join-other-join (stores: [KSTREAM-JOINTHIS-0000000018-store])
      --> second-join-merge
      <-- second-join-other-windowed
    Processor: second-join-this-join (stores: [KSTREAM-JOINOTHER-0000000019-store])
      --> second-join-merge
      <-- second-join-this-windowed
    Processor: second-join-merge (stores: [])
      --> KSTREAM-SINK-0000000021
      <-- second-join-this-join, second-join-other-join
    Sink: KSTREAM-SINK-0000000021 (topic: out-two)
      <-- second-join-merge

";
    assert_eq!(
        builder.build().expect("valid").describe().to_string(),
        expected
    );
}

// --- KStreamKStreamSelfJoinTest -------------------------------------------
//
// Kafka's tests compare a self-join (one topic joined with itself, which
// Kafka's optimizer turns into one processor) with the plain join of the
// same topic read twice, unoptimized. Here the plain join's output, as
// Kafka computes it, is written out: each record first joins (as the left
// side) the earlier records of its key in the window, then (as the right
// side) every record of its key in the window, itself included.

/// One expected self-join output record: key, value, timestamp.
type SelfOut<'a> = (&'a str, &'a str, i64);

/// Joins `input` with itself (`v1 + v2`) within `windows`, from one stream
/// or from two streams of the topic, and checks the whole output.
fn self_join(
    two_streams: bool,
    windows: JoinWindows,
    input: &[(&str, &str, i64)],
    expected: &[SelfOut<'_>],
) {
    let builder = StreamsBuilder::new();
    let stream = builder.stream::<String, String>("input");
    let other = if two_streams {
        builder.stream::<String, String>("input")
    } else {
        stream.clone()
    };
    stream
        .join(&other, |l, r| format!("{l}{r}"), windows)
        .to("out");
    let driver = TopologyTestDriver::new(&builder.build().expect("valid")).expect("driver");
    let output = driver.create_output_topic("out", StringSerde, StringSerde);
    pipe(&driver, input).expect("pipe");
    let expected: Vec<_> = expected
        .iter()
        .map(|(k, v, ts)| TestRecord::new((*k).to_owned(), (*v).to_owned(), *ts))
        .collect();
    assert_eq!(output.read_records_to_list().expect("read"), expected);
}

const FIVE_RECORDS: [(&str, &str, i64); 5] = [
    ("A", "1", 1),
    ("B", "1", 2),
    ("A", "2", 3),
    ("B", "2", 4),
    ("B", "3", 5),
];

const FIVE_RECORDS_JOINED: [SelfOut<'static>; 13] = [
    ("A", "11", 1),
    ("B", "11", 2),
    ("A", "21", 3),
    ("A", "12", 3),
    ("A", "22", 3),
    ("B", "21", 4),
    ("B", "12", 4),
    ("B", "22", 4),
    ("B", "31", 5),
    ("B", "32", 5),
    ("B", "13", 5),
    ("B", "23", 5),
    ("B", "33", 5),
];

/// Kafka's `KStreamKStreamSelfJoinTest.shouldMatchInnerJoinWithSelfJoinWithSingleStream`.
#[test]
fn should_match_inner_join_with_self_join_with_single_stream() {
    self_join(
        false,
        JoinWindows::of_time_difference_with_no_grace(ms(100)),
        &FIVE_RECORDS,
        &FIVE_RECORDS_JOINED,
    );
}

/// Kafka's `KStreamKStreamSelfJoinTest.shouldMatchInnerJoinWithSelfJoinWithTwoStreams`.
#[test]
fn should_match_inner_join_with_self_join_with_two_streams() {
    self_join(
        true,
        JoinWindows::of_time_difference_with_no_grace(ms(100)),
        &FIVE_RECORDS,
        &FIVE_RECORDS_JOINED,
    );
}

/// What the two last self-join tests emit up to `A:5` at 30000: their
/// inputs differ only in the timestamps of `A:2` and `B:1`.
fn self_join_up_to_a4(a2: i64, b1: i64) -> Vec<SelfOut<'static>> {
    vec![
        ("A", "11", 0),
        ("A", "21", a2),
        ("A", "12", a2),
        ("A", "22", a2),
        ("B", "11", b1),
        ("A", "32", 13000),
        ("A", "23", 13000),
        ("A", "33", 13000),
        ("A", "42", 15000),
        ("A", "43", 15000),
        ("A", "24", 15000),
        ("A", "34", 15000),
        ("A", "44", 15000),
        ("C", "11", 16000),
        ("D", "11", 17000),
        ("A", "55", 30000),
    ]
}

/// Kafka's `KStreamKStreamSelfJoinTest.shouldMatchInnerJoinWithSelfJoinDifferentBeforeAfterWindows`.
#[test]
fn should_match_inner_join_with_self_join_different_before_after_windows() {
    self_join(
        true,
        JoinWindows::of_time_difference_and_grace(Duration::from_secs(11), Duration::from_secs(10)),
        &[
            ("A", "1", 0),
            ("A", "2", 11000),
            ("B", "1", 12000),
            ("A", "3", 13000),
            ("A", "4", 15000),
            ("C", "1", 16000),
            ("D", "1", 17000),
            ("A", "5", 30000),
        ],
        &self_join_up_to_a4(11000, 12000),
    );
}

/// Kafka's `KStreamKStreamSelfJoinTest.shouldMatchInnerJoinWithSelfJoinOutOfOrderMessages`.
/// The last record (6000) is older than the stores' retention (20 s)
/// allows after stream time 30000: Kafka's window stores do not keep it
/// and look no further back than 10001, so it joins only `A:3` and `A:4`
/// (not `A:1`, `A:2` or itself).
#[test]
fn should_match_inner_join_with_self_join_out_of_order_messages() {
    let mut expected = self_join_up_to_a4(9999, 11000);
    expected.extend([
        ("A", "53", 13000),
        ("A", "54", 15000),
        ("A", "35", 13000),
        ("A", "45", 15000),
    ]);
    self_join(
        true,
        JoinWindows::of_time_difference_with_no_grace(Duration::from_secs(10)),
        &[
            ("A", "1", 0),
            ("A", "2", 9999),
            ("B", "1", 11000),
            ("A", "3", 13000),
            ("A", "4", 15000),
            ("C", "1", 16000),
            ("D", "1", 17000),
            ("A", "5", 30000),
            ("A", "5", 6000),
        ],
        &expected,
    );
}

/// Kafka's `KStreamKStreamJoinTest.shouldThrottleEmitNonJoinedOuterRecordsEvenWhenClockDrift`:
/// an outer join (windows of 1 s, no grace) fed only on its right side,
/// on a task whose wall clock the test sets, with Kafka's default outer
/// join emit interval of 1 s. A scan for unmatched records runs at most
/// once per interval, counted from the wall-clock time of the last scan:
/// at 2100 ms it emits `key1`; at 2500 ms it is throttled, so `key2` stays
/// in the outer store (Kafka checks its size: 2); at 4000 ms it emits
/// `key2` and `key3` (size 1).
#[test]
fn outer_join_scans_for_unmatched_records_once_per_emit_interval() -> support::Result {
    use streams_core::engine::EmitIntervals;

    let builder = StreamsBuilder::new();
    let left = builder.stream::<String, String>("left");
    let right = builder.stream::<String, String>("right");
    left.outer_join(
        &right,
        |l: Option<&String>, r: Option<&String>| format!("{l:?}+{r:?}"),
        JoinWindows::of_time_difference_with_no_grace(ms(1000)),
    )
    .to("output");
    let mut task = Task::with_config(&builder.build()?, |config| {
        assert_eq!(config.emit_intervals, EmitIntervals::default());
        config.emit_intervals.outer_join = ms(1000);
    })?;

    let mut emitted_at = |key: &str, timestamp: i64, now: i64| -> support::Result<_> {
        task.set_system_time(now);
        task.process_on("right", key, &key.replace("key", "value"), timestamp)?;
        task.forwarded::<String>()
    };
    let unmatched = |key: &str, timestamp| {
        let value = format!("None+Some({:?})", key.replace("key", "value"));
        TestRecord::new(key.to_owned(), Some(value), timestamp)
    };
    assert_eq!(emitted_at("key1", 10_000, 1000)?, []);
    assert_eq!(
        emitted_at("key2", 13_000, 2100)?,
        [unmatched("key1", 10_000)]
    );
    assert_eq!(emitted_at("key3", 15_000, 2500)?, [], "throttled");
    assert_eq!(
        emitted_at("key4", 17_000, 4000)?,
        [unmatched("key2", 13_000), unmatched("key3", 15_000)]
    );
    Ok(())
}
