//! Kafka Streams' own unit tests of the table operators, ported record for
//! record: table-table joins (`KTableKTable{Inner,Left,Outer}JoinTest`),
//! stream-table joins (`KStreamKTable{,Left}JoinTest`), table
//! aggregations (`KTableAggregateTest`), `filter` (`KTableFilterTest`),
//! table sources (`KTableSourceTest`) and `map_values`
//! (`KTableMapValuesTest`).
//!
//! Kafka's tests often watch a table node with a mock processor that sees
//! each `Change` (new and old value). Here the node's changelog is written
//! to a topic with `to_stream` and read back: the new values, keys and
//! timestamps are compared; old values are not observable through the
//! public `KTable` API. Where Kafka's test turns on old values
//! (`enableSendingOldValues`), the port asks for them as a DSL program
//! does: a table `group_by` downstream forces them (Kafka's
//! `enableSendingOldValues(true)`), a `filter` downstream asks without
//! forcing (`enableSendingOldValues(false)`). Where Kafka reads a table
//! through its value getter, the port reads the table's store.

mod support;
use support::Kind;

use std::collections::HashMap;
use std::fmt::Display;
use std::hash::Hash;

use streams_core::prelude::*;
use streams_core::state::{TimestampedKeyValueStore, ValueAndTimestamp};
use streams_core::test_driver::{TestInputTopic, TestOutputTopic};
use streams_dsl::{Consumed, Joined, KTable, Materialized, StreamsBuilder};

// ---------------------------------------------------------------------
// Shared helpers
// ---------------------------------------------------------------------

fn input<K: DefaultSerde, V: DefaultSerde>(
    driver: &TopologyTestDriver,
    topic: &str,
) -> TestInputTopic<K, V> {
    driver.create_input_topic(topic, K::default_serde(), V::default_serde())
}

fn output<K: DefaultSerde, V: DefaultSerde>(
    driver: &TopologyTestDriver,
    topic: &str,
) -> TestOutputTopic<K, V> {
    driver.create_output_topic(topic, K::default_serde(), V::default_serde())
}

fn driver_for(builder: &StreamsBuilder) -> TopologyTestDriver {
    TopologyTestDriver::new(&builder.build().expect("valid topology")).expect("driver")
}

/// Kafka's `MockValueJoiner.TOSTRING_JOINER`: `left+right`, a missing side
/// printed as `null`.
fn to_string_joiner(left: Option<&String>, right: Option<&String>) -> String {
    let show = |side: Option<&String>| side.map_or("null".to_owned(), Clone::clone);
    format!("{}+{}", show(left), show(right))
}

/// Records with string keys from `(key, value, timestamp)` rows.
fn records<V: Clone>(rows: &[(&str, V, i64)]) -> Vec<TestRecord<String, V>> {
    rows.iter()
        .map(|(key, value, ts)| TestRecord::new((*key).to_owned(), value.clone(), *ts))
        .collect()
}

/// A driver over a topology that reads one table from `topic1` with
/// string keys; values are piped as `Option`s (`None`: tombstone).
struct OneTable<V> {
    driver: TopologyTestDriver,
    topic: TestInputTopic<String, Option<V>>,
}

impl<V: DefaultSerde + Clone> OneTable<V> {
    fn new(builder: &StreamsBuilder) -> Self {
        let driver = driver_for(builder);
        let topic = input(&driver, "topic1");
        Self { driver, topic }
    }

    fn pipe(&self, rows: &[(&str, Option<V>, i64)]) {
        for (key, value, ts) in rows {
            self.topic
                .pipe_input_at((*key).to_owned(), value.clone(), *ts)
                .expect("pipe");
        }
    }

    /// Reads what was written to `topic` since the last read.
    fn read<W: DefaultSerde>(&self, topic: &str) -> Vec<TestRecord<String, Option<W>>> {
        output(&self.driver, topic)
            .read_records_to_list()
            .expect("read")
    }

    /// Checks what [`log_changes`] wrote to `changes` against the old
    /// values Kafka's tests expect for a table that emitted `emitted`.
    fn assert_old_values<W: Clone + Display>(&self, emitted: &[TestRecord<String, Option<W>>]) {
        let emitted: Vec<_> = emitted
            .iter()
            .map(|r| (r.key.clone(), r.value.clone()))
            .collect();
        let log = output::<String, Option<String>>(&self.driver, "changes");
        assert_eq!(
            log.read_key_values_to_list().expect("read"),
            expected_change_log(&emitted),
            "old values"
        );
    }

    /// Checks the rows of the timestamped store `store`: each key's value
    /// and timestamp, `None` for no row.
    fn assert_store<W>(&self, store: &str, rows: &[(&str, Option<(W, i64)>)])
    where
        W: Clone + PartialEq + std::fmt::Debug + 'static,
    {
        let store: TimestampedKeyValueStore<String, W> =
            self.driver.state_store(store).expect("store");
        for (key, expected) in rows {
            let actual = store.get(&(*key).to_owned()).expect("get");
            let expected = expected
                .clone()
                .map(|(value, ts)| ValueAndTimestamp::new(value, ts));
            assert_eq!(actual, expected, "row {key}");
        }
    }
}

/// Watches the old values `table` sends: a table aggregation downstream
/// (which asks for them, forcing materialization, as Kafka's
/// `enableSendingOldValues(true)`) logs each update of a key into `topic`
/// as `-old+new`, subtracting the old value before adding the new one.
fn log_changes<K, V>(table: &KTable<K, V>, topic: &str)
where
    K: DefaultSerde + Clone + PartialEq,
    V: Clone + Display + 'static,
{
    table
        .group_by(|key, value| (key.clone(), value.to_string()))
        .aggregate(
            String::new,
            |_, new, log| format!("{log}+{new}"),
            |_, old, log| format!("{log}-{old}"),
        )
        .to_stream()
        .to(topic);
}

/// What [`log_changes`] writes for a table whose updates are `changes`
/// (key, new value) if each update carries the key's previous value as
/// its old value, as Kafka's tests list them (`(new<-old)`). An update
/// with neither is not aggregated.
fn expected_change_log<K, V>(changes: &[(K, Option<V>)]) -> Vec<(K, Option<String>)>
where
    K: Clone + Eq + Hash,
    V: Display,
{
    let mut previous: HashMap<K, String> = HashMap::new();
    let mut logs: HashMap<K, String> = HashMap::new();
    let mut out = Vec::new();
    for (key, new) in changes {
        let new = new.as_ref().map(ToString::to_string);
        let old = match &new {
            Some(value) => previous.insert(key.clone(), value.clone()),
            None => previous.remove(key),
        };
        if old.is_none() && new.is_none() {
            continue;
        }
        let log = logs.entry(key.clone()).or_default();
        if let Some(old) = old {
            log.push_str(&format!("-{old}"));
        }
        if let Some(new) = new {
            log.push_str(&format!("+{new}"));
        }
        out.push((key.clone(), Some(log.clone())));
    }
    out
}

/// Asks `table` for old values without forcing materialization, as a
/// `filter` downstream does (Kafka's `enableSendingOldValues(false)`).
fn ask_for_old_values<K: Clone + 'static, V: Clone + 'static>(table: &KTable<K, V>) {
    table.filter(|_, _| true);
}

// ---------------------------------------------------------------------
// KTableKTableInnerJoinTest, KTableKTableLeftJoinTest,
// KTableKTableOuterJoinTest
// ---------------------------------------------------------------------

/// Integer keys, which Kafka's join tests also pipe as null.
type IntKey = Option<i32>;
/// One expected output record: key, value (`None`: tombstone), timestamp.
type Out = (i32, Option<&'static str>, i64);

/// How the join's result table is made and watched.
#[derive(Clone, Copy, PartialEq)]
enum JoinVariant {
    /// `join(other, joiner)`.
    Plain,
    /// `join(other, joiner, Materialized.with(serdes))`.
    Queryable,
    /// `join(other, joiner)`, the result then asked for old values.
    SendingOldValues,
}

fn table_join(
    kind: Kind,
    left: &KTable<IntKey, String>,
    right: &KTable<IntKey, String>,
    materialized: bool,
) -> KTable<IntKey, String> {
    let inner = |l: &String, r: &String| to_string_joiner(Some(l), Some(r));
    let left_join = |l: &String, r: Option<&String>| to_string_joiner(Some(l), r);
    match (kind, materialized) {
        (Kind::Inner, false) => left.join(right, inner),
        (Kind::Inner, true) => left.join_with(right, inner, Materialized::default()),
        (Kind::Left, false) => left.left_join(right, left_join),
        (Kind::Left, true) => left.left_join_with(right, left_join, Materialized::default()),
        (Kind::Outer, false) => left.outer_join(right, to_string_joiner),
        (Kind::Outer, true) => {
            left.outer_join_with(right, to_string_joiner, Materialized::default())
        }
    }
}

/// One piped record: into `topic1` (the left table) or not, key, value,
/// timestamp.
type JoinInput = (bool, IntKey, Option<String>, i64);

/// The batches Kafka's table-table join tests pipe, in order; after each
/// the tests check the join's output.
fn join_batches() -> Vec<Vec<JoinInput>> {
    let all = |left: bool, prefix: &str, ts: fn(i32) -> i64| -> Vec<JoinInput> {
        (0..4)
            .map(|k| (left, Some(k), Some(format!("{prefix}{k}")), ts(k)))
            .collect()
    };
    let some = |text: &str| Some(text.to_owned());
    vec![
        // Two rows on the left; a null key is dropped.
        vec![
            (true, Some(0), some("X0"), 5),
            (true, Some(1), some("X1"), 6),
            (true, None, some("SomeVal"), 42),
        ],
        // Two rows on the right; a null key is dropped.
        vec![
            (false, Some(0), some("Y0"), 0),
            (false, Some(1), some("Y1"), 10),
            (false, None, some("AnotherVal"), 73),
        ],
        all(true, "XX", |_| 7),
        all(false, "YY", |k| i64::from(k) * 5),
        all(true, "XXX", |_| 6),
        // Two deletions on the right.
        vec![(false, Some(0), None, 5), (false, Some(1), None, 7)],
        all(true, "XXXX", |_| 13),
        // Four deletions on the left.
        vec![
            (true, Some(0), None, 0),
            (true, Some(1), None, 42),
            (true, Some(2), None, 5),
            (true, Some(3), None, 20),
        ],
    ]
}

/// Kafka's expected output of the inner join, batch by batch.
const INNER_JOIN_OUTPUT: [&[Out]; 8] = [
    &[],
    &[(0, Some("X0+Y0"), 5), (1, Some("X1+Y1"), 10)],
    &[(0, Some("XX0+Y0"), 7), (1, Some("XX1+Y1"), 10)],
    &[
        (0, Some("XX0+YY0"), 7),
        (1, Some("XX1+YY1"), 7),
        (2, Some("XX2+YY2"), 10),
        (3, Some("XX3+YY3"), 15),
    ],
    &[
        (0, Some("XXX0+YY0"), 6),
        (1, Some("XXX1+YY1"), 6),
        (2, Some("XXX2+YY2"), 10),
        (3, Some("XXX3+YY3"), 15),
    ],
    &[(0, None, 6), (1, None, 7)],
    &[(2, Some("XXXX2+YY2"), 13), (3, Some("XXXX3+YY3"), 15)],
    &[(2, None, 10), (3, None, 20)],
];

/// Kafka's expected output of the left join, batch by batch.
const LEFT_JOIN_OUTPUT: [&[Out]; 8] = [
    &[(0, Some("X0+null"), 5), (1, Some("X1+null"), 6)],
    &[(0, Some("X0+Y0"), 5), (1, Some("X1+Y1"), 10)],
    &[
        (0, Some("XX0+Y0"), 7),
        (1, Some("XX1+Y1"), 10),
        (2, Some("XX2+null"), 7),
        (3, Some("XX3+null"), 7),
    ],
    INNER_JOIN_OUTPUT[3],
    INNER_JOIN_OUTPUT[4],
    &[(0, Some("XXX0+null"), 6), (1, Some("XXX1+null"), 7)],
    &[
        (0, Some("XXXX0+null"), 13),
        (1, Some("XXXX1+null"), 13),
        (2, Some("XXXX2+YY2"), 13),
        (3, Some("XXXX3+YY3"), 15),
    ],
    &[(0, None, 0), (1, None, 42), (2, None, 10), (3, None, 20)],
];

/// Kafka's expected output of the outer join: the left join's, except
/// that deleting the left rows keeps the right ones.
const OUTER_JOIN_OUTPUT: [&[Out]; 8] = [
    LEFT_JOIN_OUTPUT[0],
    LEFT_JOIN_OUTPUT[1],
    LEFT_JOIN_OUTPUT[2],
    LEFT_JOIN_OUTPUT[3],
    LEFT_JOIN_OUTPUT[4],
    LEFT_JOIN_OUTPUT[5],
    LEFT_JOIN_OUTPUT[6],
    &[
        (0, None, 0),
        (1, None, 42),
        (2, Some("null+YY2"), 10),
        (3, Some("null+YY3"), 20),
    ],
];

/// Builds `topic1 <kind> topic2` into `output`, pipes Kafka's batches and
/// checks the output after each against `expected`.
fn check_table_join(kind: Kind, variant: JoinVariant, expected: &[&[Out]; 8]) {
    let builder = StreamsBuilder::new();
    let left = builder.table::<IntKey, String>("topic1");
    let right = builder.table::<IntKey, String>("topic2");
    let joined = table_join(kind, &left, &right, variant == JoinVariant::Queryable);
    joined.to_stream().to("output");
    let sending_old_values = variant == JoinVariant::SendingOldValues;
    if sending_old_values {
        log_changes(&joined, "changes");
    }
    let driver = driver_for(&builder);
    let topic1 = input::<IntKey, Option<String>>(&driver, "topic1");
    let topic2 = input::<IntKey, Option<String>>(&driver, "topic2");
    let out = output::<IntKey, Option<String>>(&driver, "output");
    let mut changes = Vec::new();
    for (batch, (inputs, expected)) in join_batches().into_iter().zip(expected).enumerate() {
        for (into_left, key, value, ts) in inputs {
            let topic = if into_left { &topic1 } else { &topic2 };
            topic.pipe_input_at(key, value, ts).expect("pipe");
        }
        let expected: Vec<_> = expected
            .iter()
            .map(|(k, v, ts)| TestRecord::new(Some(*k), v.map(str::to_owned), *ts))
            .collect();
        assert_eq!(
            out.read_records_to_list().expect("read"),
            expected,
            "output after batch {batch}"
        );
        changes.extend(expected.into_iter().map(|r| (r.key, r.value)));
    }
    if sending_old_values {
        let log = output::<IntKey, Option<String>>(&driver, "changes");
        assert_eq!(
            log.read_key_values_to_list().expect("read"),
            expected_change_log(&changes),
            "old values"
        );
    }
}

/// Kafka's `KTableKTableInnerJoinTest.testJoin`. Kafka's
/// `testNotSendingOldValue(s)` variants give the same output and differ
/// only in an internal flag (whether changes carry old values), which
/// nothing downstream of a plain join observes: `testJoin` and
/// `testQueryableJoin` cover them.
#[test]
fn inner_join_test_join() {
    check_table_join(Kind::Inner, JoinVariant::Plain, &INNER_JOIN_OUTPUT);
}

/// Kafka's `KTableKTableInnerJoinTest.testQueryableJoin`.
#[test]
fn inner_join_test_queryable_join() {
    check_table_join(Kind::Inner, JoinVariant::Queryable, &INNER_JOIN_OUTPUT);
}

/// Kafka's `KTableKTableInnerJoinTest.testSendingOldValues` (new values).
#[test]
fn inner_join_test_sending_old_values() {
    check_table_join(
        Kind::Inner,
        JoinVariant::SendingOldValues,
        &INNER_JOIN_OUTPUT,
    );
}

/// Kafka's `KTableKTableLeftJoinTest.testJoin`.
#[test]
fn left_join_test_join() {
    check_table_join(Kind::Left, JoinVariant::Plain, &LEFT_JOIN_OUTPUT);
}

/// Kafka's `KTableKTableLeftJoinTest.testSendingOldValue` (new values).
#[test]
fn left_join_test_sending_old_value() {
    check_table_join(Kind::Left, JoinVariant::SendingOldValues, &LEFT_JOIN_OUTPUT);
}

/// Kafka's `KTableKTableOuterJoinTest.testJoin`.
#[test]
fn outer_join_test_join() {
    check_table_join(Kind::Outer, JoinVariant::Plain, &OUTER_JOIN_OUTPUT);
}

/// Kafka's `KTableKTableOuterJoinTest.testSendingOldValue` (new values).
#[test]
fn outer_join_test_sending_old_value() {
    check_table_join(
        Kind::Outer,
        JoinVariant::SendingOldValues,
        &OUTER_JOIN_OUTPUT,
    );
}

/// Kafka's
/// `KTableKTableLeftJoinTest.shouldNotThrowIllegalStateExceptionWhenMultiCacheEvictions`
/// (KAFKA-4492): a chain of left joins over cached in-memory stores and a
/// table aggregation takes 7000 records without failing. Kafka's random
/// input is replaced by a fixed pseudo-random sequence.
#[test]
fn left_join_should_not_fail_when_multi_cache_evictions() {
    const CACHE: usize = 10 * 1024 * 1024;
    let builder = StreamsBuilder::new();
    let cached = |name: &str| {
        Materialized::<i64, String>::named(name)
            .in_memory()
            .with_caching(CACHE)
    };
    let table = |topic: &str| {
        builder.table_with::<i64, String>(
            topic,
            Consumed::default(),
            cached(&format!("{topic}-base-store")),
        )
    };
    let string_adder = |aggregate: String, value: String| format!("{aggregate}+{value}");
    let agg = table("agg")
        .group_by(|key, value| (*key, value.clone()))
        .reduce_with(string_adder, string_adder, cached("agg-store"));
    let one = table("tableOne");
    let two = table("tableTwo");
    let three = table("tableThree");
    let four = table("tableFour");
    let five = table("tableFive");
    let six = table("tableSix");
    let left_join = |l: &String, r: Option<&String>| to_string_joiner(Some(l), r);
    let seven = one.map_values(|value: String| value.to_uppercase());
    let eight = six.left_join(&seven, left_join);
    agg.left_join(&one, left_join)
        .left_join(&two, left_join)
        .left_join(&three, left_join)
        .left_join(&four, left_join)
        .left_join(&five, left_join)
        .left_join(&eight, left_join)
        .map_values(|value: String| value.to_uppercase());

    let driver = driver_for(&builder);
    let topics = [
        "agg",
        "tableOne",
        "tableTwo",
        "tableThree",
        "tableFour",
        "tableFive",
        "tableSix",
    ]
    .map(|topic| input::<i64, String>(&driver, topic));
    let values = [
        "a",
        "AA",
        "BBB",
        "CCCC",
        "DD",
        "EEEEEEEE",
        "F",
        "GGGGGGGGGGGGGGG",
        "HHH",
        "IIIIIIIIII",
        "J",
        "KK",
        "LLLL",
        "MMMMMMMMMMMMMMMMMMMMMM",
        "NNNNN",
        "O",
        "P",
        "QQQQQ",
        "R",
        "SSSS",
        "T",
        "UU",
        "VVVVVVVVVVVVVVVVVVV",
    ];
    let mut seed: u64 = 0x2545_F491_4F6C_DD1D;
    let mut next = |bound: usize| {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        usize::try_from(seed >> 33).expect("fits") % bound
    };
    for _ in 0..1000 {
        for topic in &topics {
            let key = i64::try_from(next(1000)).expect("fits");
            let value = values[next(values.len())].to_owned();
            topic.pipe_input(key, value).expect("pipe");
        }
    }
}

// ---------------------------------------------------------------------
// KStreamKTableJoinTest, KStreamKTableLeftJoinTest
// ---------------------------------------------------------------------

/// Kafka's stream-table join fixture: `streamTopic` joined (inner or left)
/// with the table of `tableTopic` into `output`.
struct StreamTableJoin {
    _driver: TopologyTestDriver,
    stream: TestInputTopic<i32, String>,
    table: TestInputTopic<i32, Option<String>>,
    output: TestOutputTopic<i32, String>,
}

/// Timestamps for table rows: Kafka's tests pick random ones, which the
/// output does not depend on; these are fixed, before and after the
/// stream's.
const TABLE_TIMESTAMPS: [i64; 4] = [1_518_500_928, 3, 2_000_000_000, 0];

impl StreamTableJoin {
    fn new(kind: Kind) -> Self {
        let builder = StreamsBuilder::new();
        let stream = builder.stream::<i32, String>("streamTopic");
        let table = builder.table::<i32, String>("tableTopic");
        let joined = match kind {
            Kind::Left => stream.left_join_table(&table, |l, r| to_string_joiner(Some(l), r)),
            Kind::Inner | Kind::Outer => {
                stream.join_table(&table, |l, r| to_string_joiner(Some(l), Some(r)))
            }
        };
        joined.to("output");
        let driver = driver_for(&builder);
        Self {
            stream: input(&driver, "streamTopic"),
            table: input(&driver, "tableTopic"),
            output: output(&driver, "output"),
            _driver: driver,
        }
    }

    /// Kafka's `pushToStream`: keys `0..count`, record `i` at time `i`.
    fn push_to_stream(&self, count: usize, prefix: &str) {
        for key in 0..count {
            let k = i32::try_from(key).expect("small");
            self.stream
                .pipe_input_at(k, format!("{prefix}{k}"), i64::from(k))
                .expect("pipe");
        }
    }

    /// Kafka's `pushToTable`: keys `0..count`.
    fn push_to_table(&self, count: usize, prefix: &str) {
        for (key, ts) in TABLE_TIMESTAMPS.iter().enumerate().take(count) {
            let k = i32::try_from(key).expect("small");
            self.table
                .pipe_input_at(k, Some(format!("{prefix}{k}")), *ts)
                .expect("pipe");
        }
    }

    /// Kafka's `pushNullValueToTable`: deletes keys `0..count` (at the
    /// topic's time, 0).
    fn push_null_values_to_table(&self, count: i32) {
        for key in 0..count {
            self.table.pipe_input_at(key, None, 0).expect("pipe");
        }
    }

    /// Checks everything written since the last check.
    fn expect(&self, expected: &[(i32, &str, i64)]) {
        let expected: Vec<_> = expected
            .iter()
            .map(|(k, v, ts)| TestRecord::new(*k, (*v).to_owned(), *ts))
            .collect();
        assert_eq!(self.output.read_records_to_list().expect("read"), expected);
    }
}

/// The joins of `streamTopic` with `tableTopic` need the two topics
/// co-partitioned (Kafka's `shouldRequireCopartitionedStreams` checks the
/// co-partition group): different partition counts fail the build.
fn check_stream_table_copartitioning(kind: Kind) {
    let build = |stream_partitions, table_partitions| {
        let builder = StreamsBuilder::new();
        builder
            .declare_topic_partitions("streamTopic", stream_partitions)
            .declare_topic_partitions("tableTopic", table_partitions);
        let stream = builder.stream::<i32, String>("streamTopic");
        let table = builder.table::<i32, String>("tableTopic");
        match kind {
            Kind::Left => stream
                .left_join_table(&table, |l, r| to_string_joiner(Some(l), r))
                .to("output"),
            Kind::Inner | Kind::Outer => stream
                .join_table(&table, |l, r| to_string_joiner(Some(l), Some(r)))
                .to("output"),
        }
        builder.build().map(drop)
    };
    assert!(matches!(
        build(2, 3),
        Err(TopologyError::NotCopartitioned { .. })
    ));
    assert_eq!(build(3, 3), Ok(()));
}

/// Kafka's `KStreamKTableJoinTest.shouldRequireCopartitionedStreams`.
#[test]
fn stream_table_join_should_require_copartitioned_streams() {
    check_stream_table_copartitioning(Kind::Inner);
}

/// Kafka's `KStreamKTableJoinTest.shouldNotJoinWithEmptyTableOnStreamUpdates`.
#[test]
fn stream_table_join_should_not_join_with_empty_table_on_stream_updates() {
    let join = StreamTableJoin::new(Kind::Inner);
    join.push_to_stream(2, "X");
    join.expect(&[]);
}

/// Kafka's `KStreamKTableJoinTest.shouldNotJoinOnTableUpdates`.
#[test]
fn stream_table_join_should_not_join_on_table_updates() {
    let join = StreamTableJoin::new(Kind::Inner);
    join.push_to_stream(2, "X");
    join.expect(&[]);
    join.push_to_table(2, "Y");
    join.expect(&[]);
    join.push_to_stream(4, "X");
    join.expect(&[(0, "X0+Y0", 0), (1, "X1+Y1", 1)]);
    join.push_to_table(4, "YY");
    join.expect(&[]);
    join.push_to_stream(4, "X");
    join.expect(&[
        (0, "X0+YY0", 0),
        (1, "X1+YY1", 1),
        (2, "X2+YY2", 2),
        (3, "X3+YY3", 3),
    ]);
    join.push_to_table(4, "YYY");
    join.expect(&[]);
}

/// Kafka's `KStreamKTableJoinTest.shouldJoinOnlyIfMatchFoundOnStreamUpdates`.
#[test]
fn stream_table_join_should_join_only_if_match_found_on_stream_updates() {
    let join = StreamTableJoin::new(Kind::Inner);
    join.push_to_table(2, "Y");
    join.expect(&[]);
    join.push_to_stream(4, "X");
    join.expect(&[(0, "X0+Y0", 0), (1, "X1+Y1", 1)]);
}

/// Kafka's `KStreamKTableJoinTest.shouldClearTableEntryOnNullValueUpdates`.
#[test]
fn stream_table_join_should_clear_table_entry_on_null_value_updates() {
    let join = StreamTableJoin::new(Kind::Inner);
    join.push_to_table(4, "Y");
    join.expect(&[]);
    join.push_to_stream(4, "X");
    join.expect(&[
        (0, "X0+Y0", 0),
        (1, "X1+Y1", 1),
        (2, "X2+Y2", 2),
        (3, "X3+Y3", 3),
    ]);
    join.push_null_values_to_table(2);
    join.expect(&[]);
    join.push_to_stream(4, "XX");
    join.expect(&[(2, "XX2+Y2", 2), (3, "XX3+Y3", 3)]);
}

/// A key-changed stream joined with two tables, the joins named by
/// `names` (or not): Kafka's fixture of its repartition-topic tests.
fn rekeyed_stream_joined_twice(names: Option<(&str, &str)>) -> String {
    let builder = StreamsBuilder::new();
    let stream = builder.stream::<String, String>("topic");
    let table_b = builder.table::<String, String>("topic2");
    let table_c = builder.table::<String, String>("topic3");
    let rekeyed = stream.map(|k, v| (v, k));
    let concat = |a: &String, b: &String| format!("{a}{b}");
    match names {
        Some((first, second)) => {
            rekeyed
                .join_table_with(&table_b, concat, Joined::default().with_name(first))
                .to("out-one");
            rekeyed
                .join_table_with(&table_c, concat, Joined::default().with_name(second))
                .to("out-two");
        }
        None => {
            rekeyed.join_table(&table_b, concat).to("out-one");
            rekeyed.join_table(&table_c, concat).to("out-two");
        }
    }
    builder.build().expect("valid").describe().to_string()
}

/// Kafka's `KStreamKTableJoinTest.shouldReuseRepartitionTopicWithGeneratedName`.
#[test]
fn stream_table_join_should_reuse_repartition_topic_with_generated_name() {
    let expected = "\
Topologies:
   Sub-topology: 0
    Source: KSTREAM-SOURCE-0000000000 (topics: [topic])
      --> KSTREAM-MAP-0000000007
    Processor: KSTREAM-MAP-0000000007 (stores: [])
      --> KSTREAM-FILTER-0000000009
      <-- KSTREAM-SOURCE-0000000000
    Processor: KSTREAM-FILTER-0000000009 (stores: [])
      --> KSTREAM-SINK-0000000008
      <-- KSTREAM-MAP-0000000007
    Sink: KSTREAM-SINK-0000000008 (topic: KSTREAM-MAP-0000000007-repartition)
      <-- KSTREAM-FILTER-0000000009

  Sub-topology: 1
    Source: KSTREAM-SOURCE-0000000010 (topics: [KSTREAM-MAP-0000000007-repartition])
      --> KSTREAM-JOIN-0000000011, KSTREAM-JOIN-0000000016
    Processor: KSTREAM-JOIN-0000000011 (stores: [topic2-STATE-STORE-0000000001])
      --> KSTREAM-SINK-0000000012
      <-- KSTREAM-SOURCE-0000000010
    Processor: KSTREAM-JOIN-0000000016 (stores: [topic3-STATE-STORE-0000000004])
      --> KSTREAM-SINK-0000000017
      <-- KSTREAM-SOURCE-0000000010
    Source: KSTREAM-SOURCE-0000000002 (topics: [topic2])
      --> KTABLE-SOURCE-0000000003
    Source: KSTREAM-SOURCE-0000000005 (topics: [topic3])
      --> KTABLE-SOURCE-0000000006
    Sink: KSTREAM-SINK-0000000012 (topic: out-one)
      <-- KSTREAM-JOIN-0000000011
    Sink: KSTREAM-SINK-0000000017 (topic: out-two)
      <-- KSTREAM-JOIN-0000000016
    Processor: KTABLE-SOURCE-0000000003 (stores: [topic2-STATE-STORE-0000000001])
      --> none
      <-- KSTREAM-SOURCE-0000000002
    Processor: KTABLE-SOURCE-0000000006 (stores: [topic3-STATE-STORE-0000000004])
      --> none
      <-- KSTREAM-SOURCE-0000000005

";
    assert_eq!(rekeyed_stream_joined_twice(None), expected);
}

/// Kafka's `KStreamKTableJoinTest.shouldCreateRepartitionTopicsWithUserProvidedName`.
#[test]
fn stream_table_join_should_create_repartition_topics_with_user_provided_name() {
    let expected = "\
Topologies:
   Sub-topology: 0
    Source: KSTREAM-SOURCE-0000000000 (topics: [topic])
      --> KSTREAM-MAP-0000000007
    Processor: KSTREAM-MAP-0000000007 (stores: [])
      --> first-join-repartition-filter, second-join-repartition-filter
      <-- KSTREAM-SOURCE-0000000000
    Processor: first-join-repartition-filter (stores: [])
      --> first-join-repartition-sink
      <-- KSTREAM-MAP-0000000007
    Processor: second-join-repartition-filter (stores: [])
      --> second-join-repartition-sink
      <-- KSTREAM-MAP-0000000007
    Sink: first-join-repartition-sink (topic: first-join-repartition)
      <-- first-join-repartition-filter
    Sink: second-join-repartition-sink (topic: second-join-repartition)
      <-- second-join-repartition-filter

  Sub-topology: 1
    Source: first-join-repartition-source (topics: [first-join-repartition])
      --> first-join
    Source: KSTREAM-SOURCE-0000000002 (topics: [topic2])
      --> KTABLE-SOURCE-0000000003
    Processor: first-join (stores: [topic2-STATE-STORE-0000000001])
      --> KSTREAM-SINK-0000000012
      <-- first-join-repartition-source
    Sink: KSTREAM-SINK-0000000012 (topic: out-one)
      <-- first-join
    Processor: KTABLE-SOURCE-0000000003 (stores: [topic2-STATE-STORE-0000000001])
      --> none
      <-- KSTREAM-SOURCE-0000000002

  Sub-topology: 2
    Source: second-join-repartition-source (topics: [second-join-repartition])
      --> second-join
    Source: KSTREAM-SOURCE-0000000005 (topics: [topic3])
      --> KTABLE-SOURCE-0000000006
    Processor: second-join (stores: [topic3-STATE-STORE-0000000004])
      --> KSTREAM-SINK-0000000017
      <-- second-join-repartition-source
    Sink: KSTREAM-SINK-0000000017 (topic: out-two)
      <-- second-join
    Processor: KTABLE-SOURCE-0000000006 (stores: [topic3-STATE-STORE-0000000004])
      --> none
      <-- KSTREAM-SOURCE-0000000005

";
    assert_eq!(
        rekeyed_stream_joined_twice(Some(("first-join", "second-join"))),
        expected
    );
}

/// Kafka's `KStreamKTableLeftJoinTest.shouldRequireCopartitionedStreams`.
#[test]
fn stream_table_left_join_should_require_copartitioned_streams() {
    check_stream_table_copartitioning(Kind::Left);
}

/// Kafka's `KStreamKTableLeftJoinTest.shouldJoinWithEmptyTableOnStreamUpdates`.
#[test]
fn stream_table_left_join_should_join_with_empty_table_on_stream_updates() {
    let join = StreamTableJoin::new(Kind::Left);
    join.push_to_stream(2, "X");
    join.expect(&[(0, "X0+null", 0), (1, "X1+null", 1)]);
}

/// Kafka's `KStreamKTableLeftJoinTest.shouldNotJoinOnTableUpdates`.
#[test]
fn stream_table_left_join_should_not_join_on_table_updates() {
    let join = StreamTableJoin::new(Kind::Left);
    join.push_to_stream(2, "X");
    join.expect(&[(0, "X0+null", 0), (1, "X1+null", 1)]);
    join.push_to_table(2, "Y");
    join.expect(&[]);
    join.push_to_stream(4, "X");
    join.expect(&[
        (0, "X0+Y0", 0),
        (1, "X1+Y1", 1),
        (2, "X2+null", 2),
        (3, "X3+null", 3),
    ]);
    join.push_to_table(4, "YY");
    join.expect(&[]);
    join.push_to_stream(4, "X");
    join.expect(&[
        (0, "X0+YY0", 0),
        (1, "X1+YY1", 1),
        (2, "X2+YY2", 2),
        (3, "X3+YY3", 3),
    ]);
    join.push_to_table(4, "YYY");
    join.expect(&[]);
}

/// Kafka's `KStreamKTableLeftJoinTest.shouldJoinRegardlessIfMatchFoundOnStreamUpdates`.
#[test]
fn stream_table_left_join_should_join_regardless_if_match_found_on_stream_updates() {
    let join = StreamTableJoin::new(Kind::Left);
    join.push_to_table(2, "Y");
    join.expect(&[]);
    join.push_to_stream(4, "X");
    join.expect(&[
        (0, "X0+Y0", 0),
        (1, "X1+Y1", 1),
        (2, "X2+null", 2),
        (3, "X3+null", 3),
    ]);
}

/// Kafka's `KStreamKTableLeftJoinTest.shouldClearTableEntryOnNullValueUpdates`.
#[test]
fn stream_table_left_join_should_clear_table_entry_on_null_value_updates() {
    let join = StreamTableJoin::new(Kind::Left);
    join.push_to_table(4, "Y");
    join.expect(&[]);
    join.push_to_stream(4, "X");
    join.expect(&[
        (0, "X0+Y0", 0),
        (1, "X1+Y1", 1),
        (2, "X2+Y2", 2),
        (3, "X3+Y3", 3),
    ]);
    join.push_null_values_to_table(2);
    join.expect(&[]);
    join.push_to_stream(4, "XX");
    join.expect(&[
        (0, "XX0+null", 0),
        (1, "XX1+null", 1),
        (2, "XX2+Y2", 2),
        (3, "XX3+Y3", 3),
    ]);
}

// ---------------------------------------------------------------------
// KTableAggregateTest
// ---------------------------------------------------------------------

/// Kafka's `MockInitializer.STRING_INIT`.
fn string_init() -> String {
    "0".to_owned()
}

/// Kafka's `MockAggregator.TOSTRING_ADDER`.
fn to_string_adder<K>(_: &K, value: String, aggregate: String) -> String {
    format!("{aggregate}+{value}")
}

/// Kafka's `MockAggregator.TOSTRING_REMOVER`.
fn to_string_remover<K>(_: &K, value: String, aggregate: String) -> String {
    format!("{aggregate}-{value}")
}

/// Kafka's `KTableAggregateTest.testAggBasic`.
#[test]
fn aggregate_test_agg_basic() {
    let builder = StreamsBuilder::new();
    builder
        .table::<String, String>("topic1")
        .group_by(|key, value| (key.clone(), value.clone()))
        .aggregate_with(
            string_init,
            to_string_adder,
            to_string_remover,
            Materialized::named("topic1-Canonized"),
        )
        .to_stream()
        .to("output");
    let run = OneTable::<String>::new(&builder);
    let some = |text: &str| Some(text.to_owned());
    run.pipe(&[
        ("A", some("1"), 10),
        ("B", some("2"), 15),
        ("A", some("3"), 20),
        ("B", some("4"), 18),
        ("C", some("5"), 5),
        ("D", some("6"), 25),
        ("B", some("7"), 15),
        ("C", some("8"), 10),
    ]);
    assert_eq!(
        run.read::<String>("output"),
        records(&[
            ("A", some("0+1"), 10),
            ("B", some("0+2"), 15),
            ("A", some("0+1-1+3"), 20),
            ("B", some("0+2-2+4"), 18),
            ("C", some("0+5"), 5),
            ("D", some("0+6"), 25),
            ("B", some("0+2-2+4-4+7"), 18),
            ("C", some("0+5-5+8"), 10),
        ])
    );
}

/// Kafka's `KTableAggregateTest.testAggRepartition`. Kafka's selector maps
/// key `null` to a null key and `NULL` to no pair at all; both are a
/// null (`None`) key here, which the re-grouping leaves out as Kafka does.
#[test]
fn aggregate_test_agg_repartition() {
    let builder = StreamsBuilder::new();
    builder
        .table::<String, String>("topic1")
        .group_by(|key, value| match key.as_str() {
            "null" | "NULL" => (None, value.clone()),
            _ => (Some(value.clone()), value.clone()),
        })
        .aggregate_with(
            string_init,
            to_string_adder,
            to_string_remover,
            Materialized::named("topic1-Canonized"),
        )
        .to_stream()
        .to("output");
    let run = OneTable::<String>::new(&builder);
    let some = |text: &str| Some(text.to_owned());
    run.pipe(&[
        ("A", some("1"), 10),
        ("A", None, 15),
        ("A", some("1"), 12),
        ("B", some("2"), 20),
        ("null", some("3"), 25),
        ("B", some("4"), 23),
        ("NULL", some("5"), 24),
        ("B", some("7"), 22),
    ]);
    let out = output::<Option<String>, Option<String>>(&run.driver, "output");
    let expected: Vec<_> = [
        ("1", "0+1", 10),
        ("1", "0+1-1", 15),
        ("1", "0+1-1+1", 15),
        ("2", "0+2", 20),
        ("2", "0+2-2", 23),
        ("4", "0+4", 23),
        ("4", "0+4-4", 23),
        ("7", "0+7", 22),
    ]
    .iter()
    .map(|(k, v, ts)| TestRecord::new(some(k), some(v), *ts))
    .collect();
    assert_eq!(out.read_records_to_list().expect("read"), expected);
}

/// Kafka's `testCountHelper`: counts of the table's values.
fn check_count_of_values(count: impl FnOnce(&KTable<String, String>) -> KTable<String, i64>) {
    let builder = StreamsBuilder::new();
    let table = builder.table::<String, String>("topic1");
    count(&table).to_stream().to("output");
    let run = OneTable::<String>::new(&builder);
    let some = |text: &str| Some(text.to_owned());
    run.pipe(&[
        ("A", some("green"), 10),
        ("B", some("green"), 9),
        ("A", some("blue"), 12),
        ("C", some("yellow"), 15),
        ("D", some("green"), 11),
    ]);
    assert_eq!(
        run.read::<i64>("output"),
        records(&[
            ("green", Some(1), 10),
            ("green", Some(2), 10),
            ("green", Some(1), 12),
            ("blue", Some(1), 12),
            ("yellow", Some(1), 15),
            ("green", Some(2), 12),
        ])
    );
}

/// Kafka's `KTableAggregateTest.testCount`.
#[test]
fn aggregate_test_count() {
    check_count_of_values(|table| {
        table
            .group_by(|_, value| (value.clone(), value.clone()))
            .count_with(Materialized::named("count"))
    });
}

/// Kafka's `KTableAggregateTest.testCountWithInternalStore`.
#[test]
fn aggregate_test_count_with_internal_store() {
    check_count_of_values(|table| {
        table
            .group_by(|_, value| (value.clone(), value.clone()))
            .count()
    });
}

/// Kafka's `KTableAggregateTest.testRemoveOldBeforeAddNew`.
#[test]
fn aggregate_test_remove_old_before_add_new() {
    let builder = StreamsBuilder::new();
    let char_at = |text: &str, i: usize| text.chars().nth(i).expect("char").to_string();
    builder
        .table::<String, String>("topic1")
        .group_by(move |key, _| (char_at(key, 0), char_at(key, 1)))
        .aggregate_with(
            String::new,
            |_, value: String, aggregate: String| aggregate + &value,
            |_, value: String, aggregate: String| aggregate.replace(&value, ""),
            Materialized::named("someStore"),
        )
        .to_stream()
        .to("output");
    let run = OneTable::<String>::new(&builder);
    let some = |text: &str| Some(text.to_owned());
    run.pipe(&[
        ("11", some("A"), 10),
        ("12", some("B"), 8),
        ("11", None, 12),
        ("12", some("C"), 6),
    ]);
    assert_eq!(
        run.read::<String>("output"),
        records(&[
            ("1", some("1"), 10),
            ("1", some("12"), 10),
            ("1", some("2"), 12),
            ("1", some("2"), 12),
        ])
    );
}

/// Kafka's `KTableAggregateTest.testShouldNotSendTransientStateIfNotUpgrading`:
/// an update that keeps its key is subtracted and added in one step.
#[test]
fn aggregate_test_should_not_send_transient_state_if_not_upgrading() {
    let builder = StreamsBuilder::new();
    builder
        .table::<String, String>("topic1")
        .group_by(|key, value| (key.clone(), value.clone()))
        .count()
        .to_stream()
        .to("output");
    let run = OneTable::<String>::new(&builder);
    run.pipe(&[("1", Some(String::new()), 8), ("1", Some(String::new()), 9)]);
    assert_eq!(
        run.read::<i64>("output"),
        records(&[("1", Some(1), 8), ("1", Some(1), 9)])
    );
}

// ---------------------------------------------------------------------
// KTableFilterTest
// ---------------------------------------------------------------------

/// Kafka's `KTableFilterTest` predicate: even values.
fn is_even(_: &String, value: &i32) -> bool {
    value % 2 == 0
}

/// Kafka's `doTestKTable`: `filtered` and `filtered_not` (the filter and
/// the negated filter of one source table) written to `out2` and `out3`.
fn check_filter_and_filter_not(
    builder: &StreamsBuilder,
    filtered: &KTable<String, i32>,
    filtered_not: &KTable<String, i32>,
) {
    filtered.to_stream().to("out2");
    filtered_not.to_stream().to("out3");
    let run = OneTable::<i32>::new(builder);
    run.pipe(&[
        ("A", Some(1), 10),
        ("B", Some(2), 5),
        ("C", Some(3), 8),
        ("D", Some(4), 14),
        ("A", None, 18),
        ("B", None, 15),
    ]);
    assert_eq!(
        run.read::<i32>("out2"),
        records(&[
            ("A", None, 10),
            ("B", Some(2), 5),
            ("C", None, 8),
            ("D", Some(4), 14),
            ("A", None, 18),
            ("B", None, 15),
        ])
    );
    assert_eq!(
        run.read::<i32>("out3"),
        records(&[
            ("A", Some(1), 10),
            ("B", None, 5),
            ("C", Some(3), 8),
            ("D", None, 14),
            ("A", None, 18),
            ("B", None, 15),
        ])
    );
}

/// Kafka's `KTableFilterTest.shouldPassThroughWithoutMaterialization`.
#[test]
fn filter_should_pass_through_without_materialization() {
    let builder = StreamsBuilder::new();
    let table1 = builder.table::<String, i32>("topic1");
    let table2 = table1.filter(is_even);
    let table3 = table1.filter_not(is_even);
    assert_eq!(table1.queryable_store_name(), None);
    assert_eq!(table2.queryable_store_name(), None);
    assert_eq!(table3.queryable_store_name(), None);
    check_filter_and_filter_not(&builder, &table2, &table3);
}

/// Kafka's `KTableFilterTest.shouldPassThroughOnMaterialization`.
#[test]
fn filter_should_pass_through_on_materialization() {
    let builder = StreamsBuilder::new();
    let table1 = builder.table::<String, i32>("topic1");
    let table2 = table1.filter_with(is_even, Materialized::named("store2"));
    let table3 = table1.filter_not(is_even);
    assert_eq!(table1.queryable_store_name(), None);
    assert_eq!(table2.queryable_store_name(), Some("store2"));
    assert_eq!(table3.queryable_store_name(), None);
    check_filter_and_filter_not(&builder, &table2, &table3);
}

/// Kafka's `KTableFilterTest.shouldGetValuesOnMaterialization` (its value
/// getters of the materialized tables read their stores).
#[test]
fn filter_should_get_values_on_materialization() {
    let builder = StreamsBuilder::new();
    let table1 = builder.table::<String, i32>("topic1");
    let table2 = table1.filter_with(is_even, Materialized::named("store2"));
    let table3 = table1.filter_not_with(is_even, Materialized::named("store3"));
    let table4 = table1.filter_not(is_even);
    assert_eq!(table1.queryable_store_name(), None);
    assert_eq!(table2.queryable_store_name(), Some("store2"));
    assert_eq!(table3.queryable_store_name(), Some("store3"));
    assert_eq!(table4.queryable_store_name(), None);
    let run = OneTable::<i32>::new(&builder);

    run.pipe(&[("A", Some(1), 5), ("B", Some(1), 10), ("C", Some(1), 15)]);
    run.assert_store::<i32>("store2", &[("A", None), ("B", None), ("C", None)]);
    run.assert_store(
        "store3",
        &[
            ("A", Some((1, 5))),
            ("B", Some((1, 10))),
            ("C", Some((1, 15))),
        ],
    );

    run.pipe(&[("A", Some(2), 10), ("B", Some(2), 5)]);
    run.assert_store(
        "store2",
        &[("A", Some((2, 10))), ("B", Some((2, 5))), ("C", None)],
    );
    run.assert_store("store3", &[("A", None), ("B", None), ("C", Some((1, 15)))]);

    run.pipe(&[("A", Some(3), 15)]);
    run.assert_store("store2", &[("A", None), ("B", Some((2, 5))), ("C", None)]);
    run.assert_store(
        "store3",
        &[("A", Some((3, 15))), ("B", None), ("C", Some((1, 15)))],
    );

    run.pipe(&[("A", None, 10), ("B", None, 20)]);
    run.assert_store::<i32>("store2", &[("A", None), ("B", None), ("C", None)]);
    run.assert_store("store3", &[("A", None), ("B", None), ("C", Some((1, 15)))]);
}

/// Kafka's `doTestNotSendingOldValue` and `doTestSendingOldValue`: the
/// source table `table1` and its even filter `table2` written to
/// `source-out` and `filter-out`; `filtered` is what the filter emits per
/// batch. With `old_values_logged`, [`log_changes`] watches the filter,
/// whose old values are then checked.
fn check_filter_changes(
    builder: &StreamsBuilder,
    table1: &KTable<String, i32>,
    table2: &KTable<String, i32>,
    filtered: [&[(&str, Option<i32>, i64)]; 4],
    old_values_logged: bool,
) {
    table1.to_stream().to("source-out");
    table2.to_stream().to("filter-out");
    let run = OneTable::<i32>::new(builder);
    let batches: [&[(&str, Option<i32>, i64)]; 4] = [
        &[("A", Some(1), 5), ("B", Some(1), 10), ("C", Some(1), 15)],
        &[("A", Some(2), 15), ("B", Some(2), 8)],
        &[("A", Some(3), 20)],
        &[("A", None, 10), ("B", None, 20)],
    ];
    let mut emitted = Vec::new();
    for (batch, (rows, filtered)) in batches.iter().zip(filtered).enumerate() {
        run.pipe(rows);
        assert_eq!(
            run.read::<i32>("source-out"),
            records(rows),
            "source after batch {batch}"
        );
        assert_eq!(
            run.read::<i32>("filter-out"),
            records(filtered),
            "filter after batch {batch}"
        );
        emitted.extend(records(filtered));
    }
    if old_values_logged {
        run.assert_old_values(&emitted);
    }
}

/// What the filter emits without old values: every update, a failing
/// one as a tombstone.
const FILTER_WITHOUT_OLD_VALUES: [&[(&str, Option<i32>, i64)]; 4] = [
    &[("A", None, 5), ("B", None, 10), ("C", None, 15)],
    &[("A", Some(2), 15), ("B", Some(2), 8)],
    &[("A", None, 20)],
    &[("A", None, 10), ("B", None, 20)],
];

/// What the filter emits with old values: updates that are absent both
/// before and after are skipped.
const FILTER_WITH_OLD_VALUES: [&[(&str, Option<i32>, i64)]; 4] = [
    &[],
    &[("A", Some(2), 15), ("B", Some(2), 8)],
    &[("A", None, 20)],
    &[("B", None, 20)],
];

/// Kafka's `KTableFilterTest.shouldNotSendOldValuesWithoutMaterialization`.
#[test]
fn filter_should_not_send_old_values_without_materialization() {
    let builder = StreamsBuilder::new();
    let table1 = builder.table::<String, i32>("topic1");
    let table2 = table1.filter(is_even);
    check_filter_changes(&builder, &table1, &table2, FILTER_WITHOUT_OLD_VALUES, false);
}

/// Kafka's `KTableFilterTest.shouldNotSendOldValuesOnMaterialization`.
#[test]
fn filter_should_not_send_old_values_on_materialization() {
    let builder = StreamsBuilder::new();
    let table1 = builder.table::<String, i32>("topic1");
    let table2 = table1.filter_with(is_even, Materialized::named("store2"));
    check_filter_changes(&builder, &table1, &table2, FILTER_WITHOUT_OLD_VALUES, false);
}

/// Kafka's
/// `KTableFilterTest.shouldNotEnableSendingOldValuesIfNotAlreadyMaterializedAndNotForcedToMaterialize`.
#[test]
fn filter_should_not_enable_sending_old_values_if_not_materialized_and_not_forced() {
    let builder = StreamsBuilder::new();
    let table1 = builder.table::<String, i32>("topic1");
    let table2 = table1.filter(is_even);
    ask_for_old_values(&table2);
    check_filter_changes(&builder, &table1, &table2, FILTER_WITHOUT_OLD_VALUES, false);
}

/// Kafka's
/// `KTableFilterTest.shouldEnableSendOldValuesWhenNotMaterializedAlreadyButForcedToMaterialize`.
#[test]
fn filter_should_enable_send_old_values_when_not_materialized_but_forced() {
    let builder = StreamsBuilder::new();
    let table1 = builder.table::<String, i32>("topic1");
    let table2 = table1.filter(is_even);
    log_changes(&table2, "changes");
    check_filter_changes(&builder, &table1, &table2, FILTER_WITH_OLD_VALUES, true);
}

/// Kafka's
/// `KTableFilterTest.shouldEnableSendOldValuesWhenMaterializedAlreadyAndForcedToMaterialize`.
#[test]
fn filter_should_enable_send_old_values_when_materialized_and_forced() {
    let builder = StreamsBuilder::new();
    let table1 = builder.table::<String, i32>("topic1");
    let table2 = table1.filter_with(is_even, Materialized::named("store2"));
    log_changes(&table2, "changes");
    check_filter_changes(&builder, &table1, &table2, FILTER_WITH_OLD_VALUES, true);
}

/// Kafka's `KTableFilterTest.shouldSendOldValuesWhenEnabledOnUpStreamMaterialization`.
#[test]
fn filter_should_send_old_values_when_enabled_on_upstream_materialization() {
    let builder = StreamsBuilder::new();
    let table1 = builder.table_with::<String, i32>(
        "topic1",
        Consumed::default(),
        Materialized::named("store2"),
    );
    let table2 = table1.filter(is_even);
    ask_for_old_values(&table2);
    // Forcing changes nothing here: the source is materialized already.
    log_changes(&table2, "changes");
    check_filter_changes(&builder, &table1, &table2, FILTER_WITH_OLD_VALUES, true);
}

/// Kafka's `doTestSkipNullOnMaterialization` with `shouldSkip`: the source
/// forwards three rejected rows, the filter (which a table aggregation
/// downstream asked for old values) nothing.
fn check_filter_skips_nulls(materialized: bool) {
    let builder = StreamsBuilder::new();
    let table1 = builder.table::<String, String>("topic1");
    let accept = |_: &String, value: &String| value.eq_ignore_ascii_case("accept");
    let table2 = if materialized {
        table1.filter_with(accept, Materialized::named("store2"))
    } else {
        table1.filter(accept)
    };
    let grouped = table2.group_by(|key, value| (key.clone(), value.clone()));
    let adder = |aggregate: String, value: String| format!("{aggregate}+{value}");
    let remover = |aggregate: String, value: String| format!("{aggregate}-{value}");
    if materialized {
        grouped.reduce_with(adder, remover, Materialized::named("mock-result"));
    } else {
        grouped.reduce(adder, remover);
    }
    table1.to_stream().to("source-out");
    table2.to_stream().to("filter-out");
    let run = OneTable::<String>::new(&builder);
    let reject = Some("reject".to_owned());
    let rows = [
        ("A", reject.clone(), 5),
        ("B", reject.clone(), 10),
        ("C", reject, 20),
    ];
    run.pipe(&rows);
    assert_eq!(run.read::<String>("source-out"), records(&rows));
    assert_eq!(run.read::<String>("filter-out"), vec![]);
}

/// Kafka's `KTableFilterTest.shouldSkipNullToRepartitionWithoutMaterialization`.
#[test]
fn filter_should_skip_null_to_repartition_without_materialization() {
    check_filter_skips_nulls(false);
}

/// Kafka's `KTableFilterTest.shouldSkipNullToRepartitionOnMaterialization`.
#[test]
fn filter_should_skip_null_to_repartition_on_materialization() {
    check_filter_skips_nulls(true);
}

// ---------------------------------------------------------------------
// KTableSourceTest
// ---------------------------------------------------------------------

/// Kafka's `KTableSourceTest.testKTable`.
#[test]
fn source_test_ktable() {
    let builder = StreamsBuilder::new();
    builder
        .table::<String, i32>("topic1")
        .to_stream()
        .to("output");
    let run = OneTable::<i32>::new(&builder);
    let rows = [
        ("A", Some(1), 10),
        ("B", Some(2), 11),
        ("C", Some(3), 12),
        ("D", Some(4), 13),
        ("A", None, 14),
        ("B", None, 15),
    ];
    run.pipe(&rows);
    assert_eq!(run.read::<i32>("output"), records(&rows));
}

/// Kafka's `KTableSourceTest.testValueGetter` (the value getter of a
/// materialized source reads its store).
#[test]
fn source_test_value_getter() {
    let builder = StreamsBuilder::new();
    builder.table_with::<String, String>(
        "topic1",
        Consumed::default(),
        Materialized::named("store"),
    );
    let run = OneTable::<String>::new(&builder);
    let some = |text: &str| Some(text.to_owned());
    let row = |text: &str, ts: i64| Some((text.to_owned(), ts));

    run.pipe(&[
        ("A", some("01"), 10),
        ("B", some("01"), 20),
        ("C", some("01"), 15),
    ]);
    run.assert_store(
        "store",
        &[
            ("A", row("01", 10)),
            ("B", row("01", 20)),
            ("C", row("01", 15)),
        ],
    );

    run.pipe(&[("A", some("02"), 30), ("B", some("02"), 5)]);
    run.assert_store(
        "store",
        &[
            ("A", row("02", 30)),
            ("B", row("02", 5)),
            ("C", row("01", 15)),
        ],
    );

    run.pipe(&[("A", some("03"), 29)]);
    run.assert_store(
        "store",
        &[
            ("A", row("03", 29)),
            ("B", row("02", 5)),
            ("C", row("01", 15)),
        ],
    );

    run.pipe(&[("A", None, 50), ("B", None, 3)]);
    run.assert_store("store", &[("A", None), ("B", None), ("C", row("01", 15))]);
}

/// Kafka's `testNotSendingOldValue` and `testSendingOldValue` of
/// `KTableSourceTest`: the source's updates, batch by batch.
fn check_source_changes(send_old_values: bool) {
    let builder = StreamsBuilder::new();
    let table1 = builder.table::<String, String>("topic1");
    table1.to_stream().to("output");
    if send_old_values {
        log_changes(&table1, "changes");
    }
    let run = OneTable::<String>::new(&builder);
    let some = |text: &str| Some(text.to_owned());
    let batches = [
        vec![
            ("A", some("01"), 10),
            ("B", some("01"), 20),
            ("C", some("01"), 15),
        ],
        vec![("A", some("02"), 8), ("B", some("02"), 22)],
        vec![("A", some("03"), 12)],
        vec![("A", None, 15), ("B", None, 20)],
    ];
    let mut emitted = Vec::new();
    for (batch, rows) in batches.iter().enumerate() {
        run.pipe(rows);
        assert_eq!(run.read::<String>("output"), records(rows), "batch {batch}");
        emitted.extend(records(rows));
    }
    if send_old_values {
        run.assert_old_values(&emitted);
    }
}

/// Kafka's `KTableSourceTest.testNotSendingOldValue` (new values).
#[test]
fn source_test_not_sending_old_value() {
    check_source_changes(false);
}

/// Kafka's `KTableSourceTest.testSendingOldValue` (new values).
#[test]
fn source_test_sending_old_value() {
    check_source_changes(true);
}

// ---------------------------------------------------------------------
// KTableMapValuesTest
// ---------------------------------------------------------------------

/// Kafka's `value.charAt(0) - 48`.
fn first_digit(value: String) -> i32 {
    value.chars().next().map_or(0, |c| c as i32 - 48)
}

fn parse(value: String) -> i32 {
    value.parse().expect("a number")
}

/// Kafka's `doTestKTable` of `KTableMapValuesTest`.
fn check_map_values(map: impl FnOnce(&KTable<String, String>) -> KTable<String, i32>) {
    let builder = StreamsBuilder::new();
    map(&builder.table::<String, String>("topic1"))
        .to_stream()
        .to("output");
    let run = OneTable::<String>::new(&builder);
    let some = |text: &str| Some(text.to_owned());
    run.pipe(&[
        ("A", some("1"), 5),
        ("B", some("2"), 25),
        ("C", some("3"), 20),
        ("D", some("4"), 10),
    ]);
    assert_eq!(
        run.read::<i32>("output"),
        records(&[
            ("A", Some(1), 5),
            ("B", Some(2), 25),
            ("C", Some(3), 20),
            ("D", Some(4), 10),
        ])
    );
}

/// Kafka's `KTableMapValuesTest.testKTable`.
#[test]
fn map_values_test_ktable() {
    check_map_values(|table| table.map_values(first_digit));
}

/// Kafka's `KTableMapValuesTest.testQueryableKTable`.
#[test]
fn map_values_test_queryable_ktable() {
    check_map_values(|table| table.map_values_with(first_digit, Materialized::named("anyName")));
}

/// Kafka's `KTableMapValuesTest.testQueryableValueGetter` (the value
/// getters of the materialized tables read their stores).
#[test]
fn map_values_test_queryable_value_getter() {
    let builder = StreamsBuilder::new();
    let table1 = builder.table::<String, String>("topic1");
    let table2 = table1.map_values_with(parse, Materialized::named("store2"));
    let table3 = table1.map_values_with(|value| -parse(value), Materialized::named("store3"));
    let table4 = table1.map_values(parse);
    assert_eq!(table2.queryable_store_name(), Some("store2"));
    assert_eq!(table3.queryable_store_name(), Some("store3"));
    assert_eq!(table4.queryable_store_name(), None);
    let run = OneTable::<String>::new(&builder);
    let some = |text: &str| Some(text.to_owned());
    let check = |rows: [(&str, Option<(i32, i64)>); 3]| {
        run.assert_store("store2", &rows);
        let negated = rows.map(|(key, row)| (key, row.map(|(value, ts)| (-value, ts))));
        run.assert_store("store3", &negated);
    };

    run.pipe(&[
        ("A", some("01"), 50),
        ("B", some("01"), 10),
        ("C", some("01"), 30),
    ]);
    check([
        ("A", Some((1, 50))),
        ("B", Some((1, 10))),
        ("C", Some((1, 30))),
    ]);

    run.pipe(&[("A", some("02"), 25), ("B", some("02"), 20)]);
    check([
        ("A", Some((2, 25))),
        ("B", Some((2, 20))),
        ("C", Some((1, 30))),
    ]);

    run.pipe(&[("A", some("03"), 35)]);
    check([
        ("A", Some((3, 35))),
        ("B", Some((2, 20))),
        ("C", Some((1, 30))),
    ]);

    run.pipe(&[("A", None, 1)]);
    check([("A", None), ("B", Some((2, 20))), ("C", Some((1, 30)))]);
}

/// Kafka's `testNotSendingOldValue` and `testSendingOldValues` of
/// `KTableMapValuesTest`: the mapped table's updates, batch by batch;
/// with `send_old_values`, [`log_changes`] watches its old values.
fn check_map_values_changes(
    map: impl FnOnce(&KTable<String, String>) -> KTable<String, i32>,
    send_old_values: bool,
) {
    let builder = StreamsBuilder::new();
    let mapped = map(&builder.table::<String, String>("topic1"));
    mapped.to_stream().to("output");
    if send_old_values {
        log_changes(&mapped, "changes");
    }
    let run = OneTable::<String>::new(&builder);
    let some = |text: &str| Some(text.to_owned());
    let batches = [
        (
            vec![
                ("A", some("01"), 5),
                ("B", some("01"), 10),
                ("C", some("01"), 15),
            ],
            vec![("A", Some(1), 5), ("B", Some(1), 10), ("C", Some(1), 15)],
        ),
        (
            vec![("A", some("02"), 10), ("B", some("02"), 8)],
            vec![("A", Some(2), 10), ("B", Some(2), 8)],
        ),
        (vec![("A", some("03"), 20)], vec![("A", Some(3), 20)]),
        (vec![("A", None, 30)], vec![("A", None, 30)]),
    ];
    let mut emitted = Vec::new();
    for (batch, (rows, expected)) in batches.iter().enumerate() {
        run.pipe(rows);
        assert_eq!(
            run.read::<i32>("output"),
            records(expected),
            "batch {batch}"
        );
        emitted.extend(records(expected));
    }
    if send_old_values {
        run.assert_old_values(&emitted);
    }
}

/// Kafka's `KTableMapValuesTest.testNotSendingOldValue`.
#[test]
fn map_values_test_not_sending_old_value() {
    check_map_values_changes(|table| table.map_values(parse), false);
}

/// Kafka's
/// `KTableMapValuesTest.shouldEnableSendingOldValuesOnParentIfMapValuesNotMaterialized`
/// (new values).
#[test]
fn map_values_should_enable_sending_old_values_on_parent_if_not_materialized() {
    check_map_values_changes(|table| table.map_values(parse), true);
}

/// Kafka's
/// `KTableMapValuesTest.shouldNotEnableSendingOldValuesOnParentIfMapValuesMaterialized`
/// (new values).
#[test]
fn map_values_should_not_enable_sending_old_values_on_parent_if_materialized() {
    check_map_values_changes(
        |table| table.map_values_with(parse, Materialized::named("bob")),
        true,
    );
}
