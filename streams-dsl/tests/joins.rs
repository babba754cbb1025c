//! Joins: stream-stream inner/left/outer joins against the join semantics
//! table of Kafka Streams' developer guide and `KStreamKStreamJoin`'s
//! emission rule, co-partitioning, and `describe()` against Kafka's text.

mod support;
use support::{pair, repartition_topics, Kind};

use std::sync::Arc;
use std::time::Duration;

use streams_core::prelude::*;
use streams_core::serde::SharedSerde;
use streams_core::test_driver::{TestInputTopic, TestOutputTopic};
use streams_dsl::{Consumed, JoinWindows, Joined, KStream, StreamJoined, StreamsBuilder};

/// A value that may be null, as the developer guide's inputs are.
type Nullable = Option<String>;

fn join(
    kind: Kind,
    left: &KStream<String, Nullable>,
    right: &KStream<String, Nullable>,
    windows: JoinWindows,
) -> KStream<String, String> {
    // Null values never reach the joiner: the join drops them.
    fn value(v: Option<&Nullable>) -> Option<&String> {
        v.and_then(Option::as_ref)
    }
    match kind {
        Kind::Inner => left.join(right, move |l, r| pair(l.as_ref(), r.as_ref()), windows),
        Kind::Left => left.left_join(right, move |l, r| pair(l.as_ref(), value(r)), windows),
        Kind::Outer => left.outer_join(right, move |l, r| pair(value(l), value(r)), windows),
    }
}

/// A driver for `left <kind> right` into `out`.
fn driver(kind: Kind, windows: JoinWindows) -> TopologyTestDriver {
    let builder = StreamsBuilder::new();
    let left = builder.stream::<String, Nullable>("left");
    let right = builder.stream::<String, Nullable>("right");
    join(kind, &left, &right, windows).to("out");
    TopologyTestDriver::new(&builder.build().expect("valid")).expect("driver")
}

/// One input record: which side, key, value (`null` for a null value),
/// timestamp.
type Input = (&'static str, &'static str, &'static str, i64);
/// One output record: key, value, timestamp.
type Output<'a> = (&'a str, &'a str, i64);
/// An input and everything it makes the join emit.
type Step<'a> = (Input, &'a [Output<'a>]);

/// The inputs (nullable values) and the output of a join's driver.
fn join_topics(
    driver: &TopologyTestDriver,
) -> (
    TestInputTopic<String, Nullable>,
    TestInputTopic<String, Nullable>,
    TestOutputTopic<String, String>,
) {
    let nullable = || OptionSerde::new(Arc::new(StringSerde));
    (
        driver.create_input_topic("left", StringSerde, nullable()),
        driver.create_input_topic("right", StringSerde, nullable()),
        driver.create_output_topic("out", StringSerde, StringSerde),
    )
}

/// Pipes each input and checks what it emits, record by record.
fn run(kind: Kind, windows: JoinWindows, steps: &[Step<'_>]) {
    let driver = driver(kind, windows);
    let (left, right, out) = join_topics(&driver);
    for ((side, key, value, timestamp), expected) in steps {
        let topic = if *side == "L" { &left } else { &right };
        let nullable = (*value != "null").then(|| (*value).to_owned());
        topic
            .pipe_input_at((*key).to_owned(), nullable, *timestamp)
            .expect("pipe");
        let expected: Vec<_> = expected
            .iter()
            .map(|(k, v, ts)| TestRecord::new((*k).to_owned(), (*v).to_owned(), *ts))
            .collect();
        assert_eq!(
            out.read_records_to_list().expect("read"),
            expected,
            "after {side} {key}:{value}@{timestamp}"
        );
    }
}

const S: i64 = 1_000;

/// The developer guide's stream-stream table (timestamps in seconds), for
/// one join kind: `extra` are the rows past timestamp 15 where left and
/// outer joins differ. The guide's "all records in one window" needs a
/// time difference of 11 s (D at 15 joins a at 4); with its 5 s grace,
/// E (40) closes at 60, F (60) at 80 and f (80) at 100, as in the guide.
/// Its null-value rows give nothing: joins drop null values.
fn developer_guide_table(
    kind: Kind,
    e_at_60: &[(&str, &str, i64)],
    f_at_80: &[(&str, &str, i64)],
    f_at_100: &[(&str, &str, i64)],
) {
    let windows =
        JoinWindows::of_time_difference_and_grace(Duration::from_secs(11), Duration::from_secs(5));
    run(
        kind,
        windows,
        &[
            (("L", "k", "null", S), &[]),
            (("R", "k", "null", 2 * S), &[]),
            (("L", "k", "A", 3 * S), &[]),
            (("R", "k", "a", 4 * S), &[("k", "[A, a]", 4 * S)]),
            (("L", "k", "B", 5 * S), &[("k", "[B, a]", 5 * S)]),
            (
                ("R", "k", "b", 6 * S),
                &[("k", "[A, b]", 6 * S), ("k", "[B, b]", 6 * S)],
            ),
            (("L", "k", "null", 7 * S), &[]),
            (("R", "k", "null", 8 * S), &[]),
            (
                ("L", "k", "C", 9 * S),
                &[("k", "[C, a]", 9 * S), ("k", "[C, b]", 9 * S)],
            ),
            (
                ("R", "k", "c", 10 * S),
                &[
                    ("k", "[A, c]", 10 * S),
                    ("k", "[B, c]", 10 * S),
                    ("k", "[C, c]", 10 * S),
                ],
            ),
            (("R", "k", "null", 11 * S), &[]),
            (("L", "k", "null", 12 * S), &[]),
            (("R", "k", "null", 13 * S), &[]),
            (
                ("R", "k", "d", 14 * S),
                &[
                    ("k", "[A, d]", 14 * S),
                    ("k", "[B, d]", 14 * S),
                    ("k", "[C, d]", 14 * S),
                ],
            ),
            (
                ("L", "k", "D", 15 * S),
                &[
                    ("k", "[D, a]", 15 * S),
                    ("k", "[D, b]", 15 * S),
                    ("k", "[D, c]", 15 * S),
                    ("k", "[D, d]", 15 * S),
                ],
            ),
            (("L", "k", "E", 40 * S), &[]),
            (("L", "k", "F", 60 * S), e_at_60),
            (("R", "k", "f", 80 * S), f_at_80),
            (("L", "k", "G", 100 * S), f_at_100),
        ],
    );
}

#[test]
fn inner_join_follows_the_developer_guide_table() {
    developer_guide_table(Kind::Inner, &[], &[], &[]);
}

#[test]
fn left_join_follows_the_developer_guide_table() {
    developer_guide_table(
        Kind::Left,
        &[("k", "[E, null]", 40 * S)],
        &[("k", "[F, null]", 60 * S)],
        &[],
    );
}

#[test]
fn outer_join_follows_the_developer_guide_table() {
    developer_guide_table(
        Kind::Outer,
        &[("k", "[E, null]", 40 * S)],
        &[("k", "[F, null]", 60 * S)],
        &[("k", "[null, f]", 80 * S)],
    );
}

/// `KStreamKStreamJoin`: an unmatched left record at `t` is emitted only
/// once stream time is strictly greater than `t + after + grace`, by the
/// next in-order record, with its own timestamp and before that record's
/// own results.
#[test]
fn unmatched_records_wait_until_stream_time_passes_window_end_plus_grace() {
    let windows = JoinWindows::of_time_difference_and_grace(
        Duration::from_millis(10),
        Duration::from_millis(5),
    );
    run(
        Kind::Left,
        windows,
        &[
            (("L", "a", "A", 0), &[]),
            // 15 = 0 + 10 + 5: not yet.
            (("L", "b", "B", 15), &[]),
            // An in-order right record closes A's window: A first, then
            // the join of the record itself.
            (
                ("R", "b", "x", 16),
                &[("a", "[A, null]", 0), ("b", "[B, x]", 16)],
            ),
        ],
    );
}

/// Kafka's `before` with a negative duration: the window lies wholly after
/// a left record (5 to 10 ms), and right records see it mirrored (left
/// records 5 to 10 ms before them).
#[test]
fn a_window_wholly_after_the_left_record_joins_only_later_right_records() {
    let windows = JoinWindows::of_time_difference_with_no_grace(Duration::from_millis(10))
        .with_ends_ms(-5, 10)
        .expect("a window of 5 ms");
    run(
        Kind::Inner,
        windows,
        &[
            (("L", "k", "A", 100), &[]),
            (("R", "k", "a", 103), &[]),
            (("R", "k", "b", 107), &[("k", "[A, b]", 107)]),
            (("L", "k", "B", 110), &[]),
            (("R", "k", "c", 116), &[("k", "[B, c]", 116)]),
        ],
    );
}

/// Right records of an outer join close after `before + grace`.
#[test]
fn right_records_close_after_before_plus_grace() {
    let windows = JoinWindows::of_time_difference_with_no_grace(Duration::from_millis(10))
        .before(Duration::from_millis(3));
    run(
        Kind::Outer,
        windows,
        &[
            (("R", "a", "r", 100), &[]),
            (("R", "b", "s", 103), &[]),
            (("R", "c", "t", 104), &[("a", "[null, r]", 100)]),
        ],
    );
}

/// A record too late for its window to be open is emitted at once; an
/// out-of-order record never flushes the outer store.
#[test]
fn late_unmatched_records_are_emitted_immediately() {
    let windows = JoinWindows::of_time_difference_with_no_grace(Duration::from_millis(10));
    run(
        Kind::Left,
        windows,
        &[
            (("L", "a", "A", 100), &[]),
            (("L", "b", "B", 200), &[("a", "[A, null]", 100)]),
            (("L", "c", "C", 50), &[("c", "[C, null]", 50)]),
            // Within B's window, out of order: joins, and B is matched.
            (("R", "b", "y", 195), &[("b", "[B, y]", 200)]),
            (("L", "d", "D", 300), &[]),
        ],
    );
}

/// The window is `[t - before, t + after]` around a left record, and
/// mirrored around a right one.
#[test]
fn asymmetric_windows_bound_matches_on_both_sides() {
    let windows = JoinWindows::of_time_difference_and_grace(
        Duration::from_millis(0),
        Duration::from_millis(100),
    )
    .before(Duration::from_millis(5))
    .after(Duration::from_millis(10));
    run(
        Kind::Inner,
        windows,
        &[
            (("R", "k", "r90", 90), &[]),
            (("R", "k", "r94", 94), &[]),
            (("R", "k", "r110", 110), &[]),
            (("R", "k", "r111", 111), &[]),
            (("L", "k", "L", 100), &[("k", "[L, r110]", 110)]),
            (("R", "k", "r95", 95), &[("k", "[L, r95]", 100)]),
        ],
    );
}

/// Kafka Streams' description of `stream("topic").join(stream("other-topic"))`,
/// from its `StreamsBuilderTest`.
#[test]
fn stream_stream_join_describes_as_kafka_streams() {
    let builder = StreamsBuilder::new();
    let left = builder.stream::<String, String>("topic");
    let right = builder.stream::<String, String>("other-topic");
    left.join(
        &right,
        |l, r| format!("{l}{r}"),
        JoinWindows::of_time_difference_with_no_grace(Duration::from_millis(100)),
    );
    let expected = "\
Topologies:
   Sub-topology: 0
    Source: KSTREAM-SOURCE-0000000000 (topics: [topic])
      --> KSTREAM-WINDOWED-0000000002
    Source: KSTREAM-SOURCE-0000000001 (topics: [other-topic])
      --> KSTREAM-WINDOWED-0000000003
    Processor: KSTREAM-WINDOWED-0000000002 (stores: [KSTREAM-JOINTHIS-0000000004-store])
      --> KSTREAM-JOINTHIS-0000000004
      <-- KSTREAM-SOURCE-0000000000
    Processor: KSTREAM-WINDOWED-0000000003 (stores: [KSTREAM-JOINOTHER-0000000005-store])
      --> KSTREAM-JOINOTHER-0000000005
      <-- KSTREAM-SOURCE-0000000001
    Processor: KSTREAM-JOINOTHER-0000000005 (stores: [KSTREAM-JOINTHIS-0000000004-store])
      --> KSTREAM-MERGE-0000000006
      <-- KSTREAM-WINDOWED-0000000003
    Processor: KSTREAM-JOINTHIS-0000000004 (stores: [KSTREAM-JOINOTHER-0000000005-store])
      --> KSTREAM-MERGE-0000000006
      <-- KSTREAM-WINDOWED-0000000002
    Processor: KSTREAM-MERGE-0000000006 (stores: [])
      --> none
      <-- KSTREAM-JOINTHIS-0000000004, KSTREAM-JOINOTHER-0000000005

";
    assert_eq!(
        builder.build().expect("valid").describe().to_string(),
        expected
    );
}

fn store_names(builder: &StreamsBuilder) -> Vec<String> {
    let mut names: Vec<String> = builder
        .build()
        .expect("valid")
        .store_names()
        .into_iter()
        .map(str::to_owned)
        .collect();
    names.sort();
    names
}

/// Kafka's `KStreamImplTest`: a named left join names its processors after
/// the join but keeps generated store names, and the shared store borrows
/// the index of the "this" processor.
#[test]
fn named_left_join_names_processors_but_not_stores() {
    let builder = StreamsBuilder::new();
    let left = builder.stream::<String, String>("topic");
    let right = builder.stream::<String, String>("other-topic");
    left.left_join_with(
        &right,
        |l, _| l.clone(),
        JoinWindows::of_time_difference_with_no_grace(Duration::from_secs(3600)),
        StreamJoined::default().with_name("join"),
    );
    assert_eq!(
        store_names(&builder),
        [
            "KSTREAM-JOINTHIS-0000000004-store",
            "KSTREAM-OUTEROTHER-0000000005-store",
            "KSTREAM-OUTERSHARED-0000000004-store",
        ]
    );
    let description = builder.build().expect("valid").describe().to_string();
    for node in [
        "join-this-windowed",
        "join-other-windowed",
        "join-this-join",
        "join-outer-other-join",
        "join-merge",
    ] {
        assert!(
            description.contains(&format!("Processor: {node} ")),
            "{description}"
        );
    }
}

/// `StreamJoined::with_store_name` names the stores as Kafka does.
#[test]
fn store_names_follow_stream_joined() {
    let builder = StreamsBuilder::new();
    let left = builder.stream::<String, String>("l");
    let right = builder.stream::<String, String>("r");
    let windows = JoinWindows::of_time_difference_with_no_grace(Duration::from_secs(1));
    left.outer_join_with(
        &right,
        pair,
        windows,
        StreamJoined::default().with_store_name("o"),
    );
    left.join_with(
        &right,
        |l, r| pair(Some(l), Some(r)),
        windows,
        StreamJoined::default().with_store_name("i"),
    );
    assert_eq!(
        store_names(&builder),
        [
            "i-other-join-store",
            "i-this-join-store",
            "o-outer-other-join-store",
            "o-outer-shared-join-store",
            "o-outer-this-join-store",
        ]
    );
}

/// A key-changed input is repartitioned before the join (through
/// `<node>-repartition`), and the join still matches.
#[test]
fn key_changed_inputs_are_repartitioned_before_joining() {
    let builder = StreamsBuilder::new();
    let left = builder
        .stream::<String, String>("left")
        .map(|_, v| (v.clone(), v));
    let right = builder.stream::<String, String>("right");
    left.join(
        &right,
        |l, r| pair(Some(l), Some(r)),
        JoinWindows::of_time_difference_with_no_grace(Duration::from_millis(10)),
    )
    .to("out");
    let topology = builder.build().expect("valid");
    let description = topology.describe().to_string();
    assert!(
        description
            .contains("Sink: KSTREAM-SINK-0000000003 (topic: KSTREAM-MAP-0000000001-repartition)"),
        "{description}"
    );
    assert!(
        description.contains(
            "Source: KSTREAM-SOURCE-0000000005 (topics: [KSTREAM-MAP-0000000001-repartition])\n      --> KSTREAM-WINDOWED-0000000006"
        ),
        "{description}"
    );
    let driver = TopologyTestDriver::new(&topology).expect("driver");
    let left = driver.create_input_topic("left", StringSerde, StringSerde);
    let right = driver.create_input_topic("right", StringSerde, StringSerde);
    let out = driver.create_output_topic("out", StringSerde, StringSerde);
    right
        .pipe_input_at("x".into(), "r".into(), 5)
        .expect("pipe");
    left.pipe_input_at("ignored".into(), "x".into(), 7)
        .expect("pipe");
    assert_eq!(
        out.read_records_to_list().expect("read"),
        vec![TestRecord::new("x".to_owned(), "[x, r]".to_owned(), 7)]
    );
}

/// Kafka's `shouldReuseRepartitionTopicWithGeneratedName`: a key-changed
/// stream joined twice without names is repartitioned once, and both
/// joins read that topic (the second still uses up the three indices of
/// the sink, filter and source it does not add).
#[test]
fn a_key_changed_stream_joined_twice_reads_one_repartition_topic() {
    let builder = StreamsBuilder::new();
    let stream1 = builder.stream::<String, String>("topic");
    let stream2 = builder.stream::<String, String>("topic2");
    let stream3 = builder.stream::<String, String>("topic3");
    let mapped = stream1.map(|k, v| (v, k));
    let windows = JoinWindows::of_time_difference_with_no_grace(Duration::from_millis(100));
    mapped
        .join(&stream2, |l, r| format!("{l}{r}"), windows)
        .to("out-one");
    mapped
        .join(&stream3, |l, r| format!("{l}{r}"), windows)
        .to("out-to");
    let expected = "\
Topologies:
   Sub-topology: 0
    Source: KSTREAM-SOURCE-0000000000 (topics: [topic])
      --> KSTREAM-MAP-0000000003
    Processor: KSTREAM-MAP-0000000003 (stores: [])
      --> KSTREAM-FILTER-0000000005
      <-- KSTREAM-SOURCE-0000000000
    Processor: KSTREAM-FILTER-0000000005 (stores: [])
      --> KSTREAM-SINK-0000000004
      <-- KSTREAM-MAP-0000000003
    Sink: KSTREAM-SINK-0000000004 (topic: KSTREAM-MAP-0000000003-repartition)
      <-- KSTREAM-FILTER-0000000005

  Sub-topology: 1
    Source: KSTREAM-SOURCE-0000000006 (topics: [KSTREAM-MAP-0000000003-repartition])
      --> KSTREAM-WINDOWED-0000000007, KSTREAM-WINDOWED-0000000016
    Source: KSTREAM-SOURCE-0000000001 (topics: [topic2])
      --> KSTREAM-WINDOWED-0000000008
    Source: KSTREAM-SOURCE-0000000002 (topics: [topic3])
      --> KSTREAM-WINDOWED-0000000017
    Processor: KSTREAM-WINDOWED-0000000007 (stores: [KSTREAM-JOINTHIS-0000000009-store])
      --> KSTREAM-JOINTHIS-0000000009
      <-- KSTREAM-SOURCE-0000000006
    Processor: KSTREAM-WINDOWED-0000000008 (stores: [KSTREAM-JOINOTHER-0000000010-store])
      --> KSTREAM-JOINOTHER-0000000010
      <-- KSTREAM-SOURCE-0000000001
    Processor: KSTREAM-WINDOWED-0000000016 (stores: [KSTREAM-JOINTHIS-0000000018-store])
      --> KSTREAM-JOINTHIS-0000000018
      <-- KSTREAM-SOURCE-0000000006
    Processor: KSTREAM-WINDOWED-0000000017 (stores: [KSTREAM-JOINOTHER-0000000019-store])
      --> KSTREAM-JOINOTHER-0000000019
      <-- KSTREAM-SOURCE-0000000002
    Processor: KSTREAM-JOINOTHER-0000000010 (stores: [KSTREAM-JOINTHIS-0000000009-store])
      --> KSTREAM-MERGE-0000000011
      <-- KSTREAM-WINDOWED-0000000008
    Processor: KSTREAM-JOINOTHER-0000000019 (stores: [KSTREAM-JOINTHIS-0000000018-store])
      --> KSTREAM-MERGE-0000000020
      <-- KSTREAM-WINDOWED-0000000017
    Processor: KSTREAM-JOINTHIS-0000000009 (stores: [KSTREAM-JOINOTHER-0000000010-store])
      --> KSTREAM-MERGE-0000000011
      <-- KSTREAM-WINDOWED-0000000007
    Processor: KSTREAM-JOINTHIS-0000000018 (stores: [KSTREAM-JOINOTHER-0000000019-store])
      --> KSTREAM-MERGE-0000000020
      <-- KSTREAM-WINDOWED-0000000016
    Processor: KSTREAM-MERGE-0000000011 (stores: [])
      --> KSTREAM-SINK-0000000012
      <-- KSTREAM-JOINTHIS-0000000009, KSTREAM-JOINOTHER-0000000010
    Processor: KSTREAM-MERGE-0000000020 (stores: [])
      --> KSTREAM-SINK-0000000021
      <-- KSTREAM-JOINTHIS-0000000018, KSTREAM-JOINOTHER-0000000019
    Sink: KSTREAM-SINK-0000000012 (topic: out-one)
      <-- KSTREAM-MERGE-0000000011
    Sink: KSTREAM-SINK-0000000021 (topic: out-to)
      <-- KSTREAM-MERGE-0000000020

";
    let topology = builder.build().expect("valid");
    assert_eq!(topology.describe().to_string(), expected);

    let driver = TopologyTestDriver::new(&topology).expect("driver");
    let input = driver.create_input_topic("topic", StringSerde, StringSerde);
    let two = driver.create_input_topic("topic2", StringSerde, StringSerde);
    let three = driver.create_input_topic("topic3", StringSerde, StringSerde);
    let one_out = driver.create_output_topic("out-one", StringSerde, StringSerde);
    let to_out = driver.create_output_topic("out-to", StringSerde, StringSerde);
    two.pipe_input_at("x".into(), "2".into(), 1).expect("pipe");
    three
        .pipe_input_at("x".into(), "3".into(), 2)
        .expect("pipe");
    input
        .pipe_input_at("v".into(), "x".into(), 5)
        .expect("pipe");
    assert_eq!(
        one_out.read_records_to_list().expect("read"),
        [TestRecord::new("x".to_owned(), "v2".to_owned(), 5)]
    );
    assert_eq!(
        to_out.read_records_to_list().expect("read"),
        [TestRecord::new("x".to_owned(), "v3".to_owned(), 5)]
    );
}

/// A key-changed stream joined with itself is repartitioned once, for
/// both sides. As in Kafka, each record first joins, as the left side,
/// the earlier records of its key in the window, then, as the right side,
/// all of them and itself.
#[test]
fn a_key_changed_stream_joined_with_itself_is_repartitioned_once() {
    let builder = StreamsBuilder::new();
    let mapped = builder.stream::<String, String>("input").map(|k, v| (v, k));
    mapped
        .join(
            &mapped,
            |l, r| format!("{l}+{r}"),
            JoinWindows::of_time_difference_with_no_grace(Duration::from_millis(100)),
        )
        .to("out");
    let topology = builder.build().expect("valid");
    assert_eq!(
        repartition_topics(&topology),
        ["KSTREAM-MAP-0000000001-repartition"]
    );
    let driver = TopologyTestDriver::new(&topology).expect("driver");
    let input = driver.create_input_topic("input", StringSerde, StringSerde);
    let out = driver.create_output_topic("out", StringSerde, StringSerde);
    input
        .pipe_input_at("a".into(), "x".into(), 1)
        .expect("pipe");
    input
        .pipe_input_at("b".into(), "x".into(), 2)
        .expect("pipe");
    let record = |v: &str, ts| TestRecord::new("x".to_owned(), v.to_owned(), ts);
    assert_eq!(
        out.read_records_to_list().expect("read"),
        [
            record("a+a", 1),
            record("b+a", 2),
            record("a+b", 2),
            record("b+b", 2)
        ]
    );
}

/// After a restart the join's time tracker starts afresh while its outer
/// store holds restored records: the first in-order record looks for
/// closed ones, on either side, as Kafka's does (its quick check cannot
/// pass on an unknown minimum).
#[test]
fn unmatched_records_restored_after_a_restart_are_emitted_once_closed() {
    let builder = StreamsBuilder::new();
    let left = builder.stream::<String, Nullable>("left");
    let right = builder.stream::<String, Nullable>("right");
    join(
        Kind::Left,
        &left,
        &right,
        JoinWindows::of_time_difference_with_no_grace(Duration::from_millis(10)),
    )
    .to("out");
    let topology = builder.build().expect("valid");
    let driver = TopologyTestDriver::new(&topology).expect("driver");
    let (left, right, out) = join_topics(&driver);
    left.pipe_input_at("k1".into(), Some("A".into()), 100)
        .expect("pipe");
    assert_eq!(out.read_records_to_list().expect("read"), []);

    driver.restart(&topology).expect("restart");
    right
        .pipe_input_at("k2".into(), Some("b".into()), 200)
        .expect("pipe");
    left.pipe_input_at("k2".into(), Some("B".into()), 200)
        .expect("pipe");
    let record = |k: &str, v: &str, ts| TestRecord::new(k.to_owned(), v.to_owned(), ts);
    assert_eq!(
        out.read_records_to_list().expect("read"),
        [record("k1", "[A, null]", 100), record("k2", "[B, b]", 200)]
    );
}

#[test]
fn joins_of_topics_with_different_partition_counts_fail_to_build() {
    let windows = JoinWindows::of_time_difference_with_no_grace(Duration::from_secs(1));
    let build = |left_partitions, right_partitions, rekey: bool| {
        let builder = StreamsBuilder::new();
        builder
            .declare_topic_partitions("left", left_partitions)
            .declare_topic_partitions("right", right_partitions);
        let mut left = builder.stream::<String, String>("left");
        if rekey {
            left = left.select_key(|_, v| v.clone());
        }
        let right = builder.stream::<String, String>("right");
        left.join(&right, |l, r| pair(Some(l), Some(r)), windows)
            .to("out");
        builder.build().map(drop)
    };
    match build(4, 2, false) {
        Err(TopologyError::NotCopartitioned { partitions }) => assert_eq!(
            partitions.into_iter().collect::<Vec<_>>(),
            [("left".to_owned(), 4), ("right".to_owned(), 2)]
        ),
        other => panic!("expected NotCopartitioned, got {other:?}"),
    }
    assert_eq!(build(3, 3, false), Ok(()));
    // The repartition topic in between is sized to match the other side.
    assert_eq!(build(4, 2, true), Ok(()));
}

/// A join without `Joined` repartitions with the serdes the stream kept
/// from where it was read (here JSON values), as Kafka's does.
#[test]
fn joins_repartition_with_the_serdes_the_stream_was_read_with() {
    let builder = StreamsBuilder::new();
    let json: SharedSerde<i64> = Arc::new(JsonSerde::<i64>::new());
    let table = builder.table::<String, String>("table");
    builder
        .stream_with(&["stream"], Consumed::with(Arc::new(StringSerde), json))
        .select_key(|_, v| v.to_string())
        .join_table(&table, |n, t| format!("{n}{t}"))
        .to("out");
    let topology = builder.build().expect("valid");
    let repartition = repartition_topics(&topology)[0].to_owned();
    let driver = TopologyTestDriver::new(&topology).expect("driver");
    driver
        .create_input_topic("table", StringSerde, StringSerde)
        .pipe_input_at("7".into(), "!".into(), 1)
        .expect("pipe");
    driver
        .create_input_topic("stream", StringSerde, JsonSerde::<i64>::new())
        .pipe_input_at("k".into(), 7, 2)
        .expect("pipe");
    let written = driver.create_output_topic(
        &format!("test-driver-application-{repartition}"),
        StringSerde,
        BytesSerde,
    );
    assert_eq!(
        written.read_key_values_to_list().expect("read"),
        [("7".to_owned(), b"7".to_vec())]
    );
    let out = driver.create_output_topic("out", StringSerde, StringSerde);
    assert_eq!(out.read_values_to_list().expect("read"), ["7!"]);
}

/// The developer guide's stream-table table: only stream records trigger,
/// table tombstones delete rows and trigger nothing, results carry the
/// stream record's timestamp; its null stream values are dropped.
fn stream_table_table(left: bool, expected: &[(i64, &str)]) {
    let builder = StreamsBuilder::new();
    let table = builder.table::<String, String>("table");
    let stream = builder.stream::<String, Nullable>("stream");
    let joined = if left {
        stream.left_join_table(&table, |s, t| pair(s.as_ref(), t))
    } else {
        stream.join_table(&table, |s, t| pair(s.as_ref(), Some(t)))
    };
    joined.to("out");
    let driver = TopologyTestDriver::new(&builder.build().expect("valid")).expect("driver");
    let nullable = || OptionSerde::new(String::default_serde());
    let stream = driver.create_input_topic("stream", StringSerde, nullable());
    let table = driver.create_input_topic("table", StringSerde, nullable());
    let out = driver.create_output_topic("out", StringSerde, StringSerde);
    let rows: [(i64, &str, Option<&str>); 15] = [
        (1, "S", None),
        (2, "T", None),
        (3, "S", Some("A")),
        (4, "T", Some("a")),
        (5, "S", Some("B")),
        (6, "T", Some("b")),
        (7, "S", None),
        (8, "T", None),
        (9, "S", Some("C")),
        (10, "T", Some("c")),
        (11, "T", None),
        (12, "S", None),
        (13, "T", None),
        (14, "T", Some("d")),
        (15, "S", Some("D")),
    ];
    for (timestamp, side, value) in rows {
        let key = "k".to_owned();
        let topic = if side == "S" { &stream } else { &table };
        topic
            .pipe_input_at(key, value.map(str::to_owned), timestamp)
            .expect("pipe");
    }
    let expected: Vec<_> = expected
        .iter()
        .map(|(ts, v)| TestRecord::new("k".to_owned(), (*v).to_owned(), *ts))
        .collect();
    assert_eq!(out.read_records_to_list().expect("read"), expected);
}

#[test]
fn stream_table_inner_join_follows_the_developer_guide_table() {
    stream_table_table(false, &[(5, "[B, a]"), (15, "[D, d]")]);
}

#[test]
fn stream_table_left_join_follows_the_developer_guide_table() {
    stream_table_table(
        true,
        &[
            (3, "[A, null]"),
            (5, "[B, a]"),
            (9, "[C, null]"),
            (15, "[D, d]"),
        ],
    );
}

/// The description Kafka Streams prints for `stream.join(table)`.
#[test]
fn stream_table_join_describes_as_kafka_streams() {
    let builder = StreamsBuilder::new();
    let stream = builder.stream::<String, String>("test-kstream-input-topic");
    let table = builder.table::<String, String>("test-kstream-compacted-topic");
    stream
        .join_table(&table, |s, t| format!("{s}:{t}"))
        .to("test-kstream-output-topic");
    let expected = "\
Topologies:
   Sub-topology: 0
    Source: KSTREAM-SOURCE-0000000000 (topics: [test-kstream-input-topic])
      --> KSTREAM-JOIN-0000000004
    Processor: KSTREAM-JOIN-0000000004 (stores: [test-kstream-compacted-topic-STATE-STORE-0000000001])
      --> KSTREAM-SINK-0000000005
      <-- KSTREAM-SOURCE-0000000000
    Source: KSTREAM-SOURCE-0000000002 (topics: [test-kstream-compacted-topic])
      --> KTABLE-SOURCE-0000000003
    Sink: KSTREAM-SINK-0000000005 (topic: test-kstream-output-topic)
      <-- KSTREAM-JOIN-0000000004
    Processor: KTABLE-SOURCE-0000000003 (stores: [test-kstream-compacted-topic-STATE-STORE-0000000001])
      --> none
      <-- KSTREAM-SOURCE-0000000002

";
    assert_eq!(
        builder.build().expect("valid").describe().to_string(),
        expected
    );
}

/// A key-changed stream is repartitioned through `<name>-repartition`
/// before a stream-table join; the join is named after `Joined`.
#[test]
fn stream_table_join_repartitions_a_key_changed_stream() {
    let builder = StreamsBuilder::new();
    let table = builder.table::<String, String>("users");
    builder
        .stream::<String, String>("clicks")
        .select_key(|_, user| user.clone())
        .left_join_table_with(
            &table,
            |click, user| pair(Some(click), user),
            Joined::default().with_name("enrich"),
        )
        .to("out");
    let topology = builder.build().expect("valid");
    let description = topology.describe().to_string();
    assert!(
        description.contains("Sink: enrich-repartition-sink (topic: enrich-repartition)"),
        "{description}"
    );
    assert!(
        description.contains("Processor: enrich (stores: [users-STATE-STORE-0000000000])"),
        "{description}"
    );
    let driver = TopologyTestDriver::new(&topology).expect("driver");
    let users = driver.create_input_topic("users", StringSerde, StringSerde);
    let clicks = driver.create_input_topic("clicks", StringSerde, StringSerde);
    let out = driver.create_output_topic("out", StringSerde, StringSerde);
    users
        .pipe_input_at("u1".into(), "Ada".into(), 1)
        .expect("pipe");
    clicks
        .pipe_input_at("c1".into(), "u1".into(), 2)
        .expect("pipe");
    clicks
        .pipe_input_at("c2".into(), "u2".into(), 3)
        .expect("pipe");
    assert_eq!(
        out.read_records_to_list().expect("read"),
        vec![
            TestRecord::new("u1".to_owned(), "[u1, Ada]".to_owned(), 2),
            TestRecord::new("u2".to_owned(), "[u2, null]".to_owned(), 3),
        ]
    );
}

/// Stream-global-table joins look rows up under a key computed from the
/// record; a missing row drops the record (inner) or joins `None` (left).
#[test]
fn global_table_joins_look_rows_up_by_mapped_key() {
    let builder = StreamsBuilder::new();
    let users = builder.global_table::<String, String>("users");
    let orders = builder.stream::<String, String>("orders");
    orders
        .join_global(
            &users,
            |_, user| user.clone(),
            |o, u| pair(Some(o), Some(u)),
        )
        .to("inner");
    orders
        .left_join_global(&users, |_, user| user.clone(), |o, u| pair(Some(o), u))
        .to("left");
    let driver = TopologyTestDriver::new(&builder.build().expect("valid")).expect("driver");
    let users = driver.create_input_topic("users", StringSerde, StringSerde);
    let orders = driver.create_input_topic("orders", StringSerde, StringSerde);
    let inner = driver.create_output_topic("inner", StringSerde, StringSerde);
    let left = driver.create_output_topic("left", StringSerde, StringSerde);
    users
        .pipe_input_at("u1".into(), "Ada".into(), 10)
        .expect("pipe");
    orders
        .pipe_input_at("o1".into(), "u1".into(), 5)
        .expect("pipe");
    orders
        .pipe_input_at("o2".into(), "u2".into(), 6)
        .expect("pipe");
    assert_eq!(
        inner.read_records_to_list().expect("read"),
        vec![TestRecord::new("o1".to_owned(), "[u1, Ada]".to_owned(), 5)]
    );
    assert_eq!(
        left.read_records_to_list().expect("read"),
        vec![
            TestRecord::new("o1".to_owned(), "[u1, Ada]".to_owned(), 5),
            TestRecord::new("o2".to_owned(), "[u2, null]".to_owned(), 6),
        ]
    );
}

/// A stream-table join of topics with different declared partition counts
/// fails to build.
#[test]
fn stream_table_joins_require_co_partitioning() {
    let builder = StreamsBuilder::new();
    builder
        .declare_topic_partitions("users", 2)
        .declare_topic_partitions("clicks", 3);
    let table = builder.table::<String, String>("users");
    builder
        .stream::<String, String>("clicks")
        .join_table(&table, |c, u| pair(Some(c), Some(u)))
        .to("out");
    assert!(matches!(
        builder.build(),
        Err(TopologyError::NotCopartitioned { .. })
    ));
}

/// Kafka names an inner global-table join `KSTREAM-LEFTJOIN-` too, and the
/// join keeps its stream's keys: a key-changed stream still needs a
/// repartition before it is grouped.
#[test]
fn a_global_join_is_named_as_a_left_join_and_keeps_the_need_to_repartition() {
    let builder = StreamsBuilder::new();
    let users = builder.global_table::<String, String>("users");
    builder
        .stream::<String, String>("orders")
        .select_key(|_, user| user.clone())
        .join_global(
            &users,
            |user, _| user.clone(),
            |o, u| pair(Some(o), Some(u)),
        )
        .group_by_key()
        .count()
        .to_stream()
        .to("counts");
    let topology = builder.build().expect("valid");
    let described = topology.describe().to_string();
    assert!(
        described.contains("Processor: KSTREAM-LEFTJOIN-0000000005"),
        "{described}"
    );
    assert!(!described.contains("KSTREAM-JOIN-"), "{described}");
    assert_eq!(
        repartition_topics(&topology),
        ["KSTREAM-AGGREGATE-STATE-STORE-0000000006-repartition"]
    );
}

/// A record too late for its side's window store (past the store's
/// retention) is dropped by the store and counted, as Kafka's window
/// stores count it in the task's dropped records; it joins nothing.
#[test]
fn records_past_the_join_stores_retention_are_counted_as_dropped() {
    let windows = JoinWindows::of_time_difference_with_no_grace(Duration::from_millis(10));
    let driver = driver(Kind::Inner, windows);
    let (left, right, out) = join_topics(&driver);
    left.pipe_input_at("A".into(), Some("a1".into()), 200_000)
        .expect("pipe");
    assert_eq!(driver.metrics().dropped_records, 0);
    // Its segment expired long ago: the left store drops it.
    left.pipe_input_at("A".into(), Some("a0".into()), 100)
        .expect("pipe");
    assert_eq!(driver.metrics().dropped_records, 1);
    right
        .pipe_input_at("A".into(), Some("b".into()), 200_005)
        .expect("pipe");
    assert_eq!(
        out.read_records_to_list().expect("out"),
        [TestRecord::new(
            "A".to_owned(),
            "[a1, b]".to_owned(),
            200_005
        )]
    );
    assert_eq!(driver.metrics().dropped_records, 1);
}
