//! Table-table joins: inner, left and outer joins against the table-table
//! join semantics table of Kafka Streams' developer guide, timestamps,
//! old values for downstream aggregations, materialized results,
//! co-partitioning, and `describe()` against Kafka's text.

mod support;
use support::{pair, Kind};

use streams_core::prelude::*;
use streams_core::serde::DefaultSerde;
use streams_core::state::TimestampedKeyValueStore;
use streams_core::test_driver::TestInputTopic;
use streams_dsl::{KTable, Materialized, StreamsBuilder};

fn join(
    kind: Kind,
    left: &KTable<String, String>,
    right: &KTable<String, String>,
) -> KTable<String, String> {
    match kind {
        Kind::Inner => left.join(right, |l, r| pair(Some(l), Some(r))),
        Kind::Left => left.left_join(right, |l, r| pair(Some(l), r)),
        Kind::Outer => left.outer_join(right, pair),
    }
}

fn nullable() -> OptionSerde<String> {
    OptionSerde::new(String::default_serde())
}

/// One input row: side (`L` or `R`), key, value (`None`: tombstone),
/// timestamp.
type Input = (&'static str, &'static str, Option<&'static str>, i64);
/// One output record: key, value (`None`: tombstone), timestamp.
type Output = (&'static str, Option<&'static str>, i64);

/// Builds `left <kind> right` (or what `build` makes of the two tables)
/// into `out`, pipes `inputs` and returns everything it emitted.
fn run_with(
    build: impl FnOnce(&KTable<String, String>, &KTable<String, String>) -> KTable<String, String>,
    inputs: &[Input],
) -> Vec<TestRecord<String, Option<String>>> {
    let builder = StreamsBuilder::new();
    let left = builder.table::<String, String>("left");
    let right = builder.table::<String, String>("right");
    build(&left, &right).to_stream().to("out");
    let driver = TopologyTestDriver::new(&builder.build().expect("valid")).expect("driver");
    let left = driver.create_input_topic("left", StringSerde, nullable());
    let right = driver.create_input_topic("right", StringSerde, nullable());
    let out = driver.create_output_topic("out", StringSerde, nullable());
    for (side, key, value, timestamp) in inputs {
        let topic = if *side == "L" { &left } else { &right };
        topic
            .pipe_input_at((*key).to_owned(), value.map(str::to_owned), *timestamp)
            .expect("pipe");
    }
    out.read_records_to_list().expect("read")
}

fn records(expected: &[Output]) -> Vec<TestRecord<String, Option<String>>> {
    expected
        .iter()
        .map(|(k, v, ts)| TestRecord::new((*k).to_owned(), v.map(str::to_owned), *ts))
        .collect()
}

fn run(kind: Kind, inputs: &[Input], expected: &[Output]) {
    assert_eq!(run_with(|l, r| join(kind, l, r), inputs), records(expected));
}

/// The developer guide's table-table join table (one key, records in
/// timestamp order). Every row of it can be expressed with typed tables:
/// its nulls are values (tombstones, `None` here), not keys.
const GUIDE: [Input; 15] = [
    ("L", "k", None, 1),
    ("R", "k", None, 2),
    ("L", "k", Some("A"), 3),
    ("R", "k", Some("a"), 4),
    ("L", "k", Some("B"), 5),
    ("R", "k", Some("b"), 6),
    ("L", "k", None, 7),
    ("R", "k", None, 8),
    ("L", "k", Some("C"), 9),
    ("R", "k", Some("c"), 10),
    ("R", "k", None, 11),
    ("L", "k", None, 12),
    ("R", "k", None, 13),
    ("R", "k", Some("d"), 14),
    ("L", "k", Some("D"), 15),
];

#[test]
fn inner_join_follows_the_developer_guide_table() {
    run(
        Kind::Inner,
        &GUIDE,
        &[
            ("k", Some("[A, a]"), 4),
            ("k", Some("[B, a]"), 5),
            ("k", Some("[B, b]"), 6),
            ("k", None, 7),
            ("k", Some("[C, c]"), 10),
            ("k", None, 11),
            ("k", Some("[D, d]"), 15),
        ],
    );
}

#[test]
fn left_join_follows_the_developer_guide_table() {
    run(
        Kind::Left,
        &GUIDE,
        &[
            ("k", Some("[A, null]"), 3),
            ("k", Some("[A, a]"), 4),
            ("k", Some("[B, a]"), 5),
            ("k", Some("[B, b]"), 6),
            ("k", None, 7),
            ("k", Some("[C, null]"), 9),
            ("k", Some("[C, c]"), 10),
            ("k", Some("[C, null]"), 11),
            ("k", None, 12),
            ("k", Some("[D, d]"), 15),
        ],
    );
}

#[test]
fn outer_join_follows_the_developer_guide_table() {
    run(
        Kind::Outer,
        &GUIDE,
        &[
            ("k", Some("[A, null]"), 3),
            ("k", Some("[A, a]"), 4),
            ("k", Some("[B, a]"), 5),
            ("k", Some("[B, b]"), 6),
            ("k", Some("[null, b]"), 7),
            ("k", None, 8),
            ("k", Some("[C, null]"), 9),
            ("k", Some("[C, c]"), 10),
            ("k", Some("[C, null]"), 11),
            ("k", None, 12),
            ("k", Some("[null, d]"), 14),
            ("k", Some("[D, d]"), 15),
        ],
    );
}

#[test]
fn results_carry_the_later_timestamp_of_the_two_rows() {
    let inputs = [
        ("R", "k", Some("a"), 10),
        ("L", "k", Some("A"), 5),
        ("L", "k", Some("B"), 20),
        ("R", "k", None, 15),
    ];
    run(
        Kind::Inner,
        &inputs,
        &[
            ("k", Some("[A, a]"), 10),
            ("k", Some("[B, a]"), 20),
            ("k", None, 20),
        ],
    );
    run(
        Kind::Left,
        &inputs,
        &[
            ("k", Some("[A, a]"), 10),
            ("k", Some("[B, a]"), 20),
            ("k", Some("[B, null]"), 20),
        ],
    );
}

#[test]
fn keys_join_only_with_their_own_rows() {
    run(
        Kind::Outer,
        &[
            ("L", "x", Some("A"), 1),
            ("R", "y", Some("b"), 2),
            ("R", "x", Some("a"), 3),
            ("L", "y", None, 4),
        ],
        &[
            ("x", Some("[A, null]"), 1),
            ("y", Some("[null, b]"), 2),
            ("x", Some("[A, a]"), 3),
            ("y", Some("[null, b]"), 4),
        ],
    );
}

/// A join looks at whether the deleted row existed only when the other
/// side has no row (`KTableKTableInnerJoin`, `KTableKTableLeftJoin`): with
/// a partner row present, inner and left joins forward a tombstone even
/// for the deletion of a left row that never existed, and the outer join
/// re-emits the partner's unmatched result.
#[test]
fn a_deletion_with_a_partner_row_is_forwarded_even_if_the_row_never_existed() {
    let inputs = [("R", "k", Some("a"), 1), ("L", "k", None, 2)];
    run(Kind::Inner, &inputs, &[("k", None, 2)]);
    run(Kind::Left, &inputs, &[("k", None, 2)]);
    run(
        Kind::Outer,
        &inputs,
        &[("k", Some("[null, a]"), 1), ("k", Some("[null, a]"), 2)],
    );
}

/// An aggregation of a join result needs the result's old values; the
/// join then asks both inputs for theirs and computes old results.
#[test]
fn a_join_result_sends_old_values_to_a_table_aggregation() {
    let builder = StreamsBuilder::new();
    let departments = builder.table::<String, String>("departments");
    let active = builder.table::<String, String>("active");
    departments
        .join(&active, |department, _| department.clone())
        .group_by(|_, department| (department.clone(), department.clone()))
        .count()
        .to_stream()
        .to("headcount");
    let driver = TopologyTestDriver::new(&builder.build().expect("valid")).expect("driver");
    let departments = driver.create_input_topic("departments", StringSerde, nullable());
    let active = driver.create_input_topic("active", StringSerde, nullable());
    let out = driver.create_output_topic(
        "headcount",
        StringSerde,
        OptionSerde::new(i64::default_serde()),
    );
    let pipe =
        |topic: &TestInputTopic<String, Option<String>>, key: &str, value: Option<&str>, ts| {
            topic
                .pipe_input_at(key.to_owned(), value.map(str::to_owned), ts)
                .expect("pipe");
        };
    pipe(&departments, "ada", Some("eng"), 1);
    pipe(&active, "ada", Some("yes"), 2);
    pipe(&departments, "bob", Some("eng"), 3);
    pipe(&active, "bob", Some("yes"), 4);
    pipe(&departments, "ada", Some("ops"), 5);
    pipe(&active, "bob", None, 6);
    let count =
        |department: &str, count, ts| TestRecord::new(department.to_owned(), Some(count), ts);
    assert_eq!(
        out.read_records_to_list().expect("read"),
        vec![
            count("eng", 1, 2),
            count("eng", 2, 4),
            count("eng", 1, 5),
            count("ops", 1, 5),
            count("eng", 0, 6),
        ]
    );
}

/// A materialized result forwards the old value its join side computed,
/// as Kafka's `KTableKTableJoinMerger` does, not the row its store held:
/// materializing a join does not change what flows downstream. The two
/// differ in a self-join, where the second side's update finds the store
/// already holding the first side's result.
#[test]
fn a_materialized_result_forwards_the_old_values_its_sides_computed() {
    let counts = |materialized: bool| {
        let builder = StreamsBuilder::new();
        let table = builder.table::<String, String>("rows");
        let joiner = |l: &String, r: &String| format!("{l}+{r}");
        let joined = if materialized {
            table.join_with(&table, joiner, Materialized::named("joined"))
        } else {
            table.join(&table, joiner)
        };
        joined
            .group_by(|key, value| (key.clone(), value.clone()))
            .count()
            .to_stream()
            .to("counts");
        let driver = TopologyTestDriver::new(&builder.build().expect("valid")).expect("driver");
        let rows = driver.create_input_topic("rows", StringSerde, StringSerde);
        let out = driver.create_output_topic(
            "counts",
            StringSerde,
            OptionSerde::new(i64::default_serde()),
        );
        rows.pipe_input_at("k".into(), "A".into(), 1).expect("pipe");
        rows.pipe_input_at("k".into(), "B".into(), 2).expect("pipe");
        out.read_records_to_list().expect("read")
    };
    // Each update reaches both sides. The first side's result has no old
    // value ("A"'s old row is absent); the second's neither, so the count
    // adds both. "B" then replaces "A+B" (its old row joined with the new
    // one) by "B+B" on each side: subtract one, add one.
    let count = |count, ts| TestRecord::new("k".to_owned(), Some(count), ts);
    let expected = vec![count(1, 1), count(2, 1), count(2, 2), count(2, 2)];
    assert_eq!(counts(false), expected);
    assert_eq!(counts(true), expected);
}

#[test]
fn a_materialized_result_can_be_queried_and_looked_up() {
    let builder = StreamsBuilder::new();
    let left = builder.table::<String, String>("left");
    let right = builder.table::<String, String>("right");
    let joined = left.left_join_with(
        &right,
        |l, r| pair(Some(l), r),
        Materialized::named("joined"),
    );
    assert_eq!(joined.queryable_store_name(), Some("joined"));
    builder
        .stream::<String, String>("lookups")
        .join_table(&joined, |lookup, row| format!("{lookup}={row}"))
        .to("out");
    let driver = TopologyTestDriver::new(&builder.build().expect("valid")).expect("driver");
    let left = driver.create_input_topic("left", StringSerde, StringSerde);
    let right = driver.create_input_topic("right", StringSerde, StringSerde);
    let lookups = driver.create_input_topic("lookups", StringSerde, StringSerde);
    let out = driver.create_output_topic("out", StringSerde, StringSerde);
    left.pipe_input_at("k".into(), "A".into(), 1).expect("pipe");
    lookups
        .pipe_input_at("k".into(), "q1".into(), 2)
        .expect("pipe");
    right
        .pipe_input_at("k".into(), "a".into(), 3)
        .expect("pipe");
    lookups
        .pipe_input_at("k".into(), "q2".into(), 4)
        .expect("pipe");
    lookups
        .pipe_input_at("x".into(), "q3".into(), 5)
        .expect("pipe");
    assert_eq!(
        out.read_records_to_list().expect("read"),
        vec![
            TestRecord::new("k".into(), "q1=[A, null]".into(), 2),
            TestRecord::new("k".into(), "q2=[A, a]".into(), 4),
        ]
    );
    let store: TimestampedKeyValueStore<String, String> =
        driver.state_store("joined").expect("store");
    assert_eq!(
        store
            .get(&"k".to_owned())
            .expect("get")
            .map(|row| (row.value, row.timestamp)),
        Some(("[A, a]".to_owned(), 3))
    );
}

/// A filtered input is joined with the rows that pass: a row the filter
/// drops deletes the result's row, and the other side then finds nothing.
#[test]
fn derived_tables_join_with_the_rows_they_hold() {
    let inputs = [
        ("L", "k", Some("A"), 1),
        ("R", "k", Some("a"), 2),
        ("L", "k", Some("X"), 3),
        ("R", "k", Some("b"), 4),
        ("L", "k", Some("B"), 5),
    ];
    let output = run_with(
        |l, r| {
            l.filter(|_, value| value != "X")
                .left_join(r, |l, r| pair(Some(l), r))
        },
        &inputs,
    );
    assert_eq!(
        output,
        records(&[
            ("k", Some("[A, null]"), 1),
            ("k", Some("[A, a]"), 2),
            ("k", None, 3),
            ("k", Some("[B, b]"), 5),
        ])
    );
}

/// A filtered input keeps no store of its own: the other side's join
/// processor reads the filter's rows through the source table's store, and
/// no store index is burned, so the names are Kafka Streams' own.
#[test]
fn a_filtered_input_is_read_through_its_parents_store() -> Result<(), StreamsError> {
    let builder = StreamsBuilder::new();
    let left = builder.table::<String, String>("left");
    let right = builder.table::<String, String>("right");
    left.filter(|_, value| value != "X")
        .join(&right, |l, r| pair(Some(l), Some(r)))
        .to_stream()
        .to("out");
    let description = builder.build()?.describe().to_string();
    for line in [
        "Processor: KTABLE-FILTER-0000000006 (stores: [])",
        "Processor: KTABLE-JOINTHIS-0000000008 (stores: [right-STATE-STORE-0000000003])",
        "Processor: KTABLE-JOINOTHER-0000000009 (stores: [left-STATE-STORE-0000000000])",
        "Sink: KSTREAM-SINK-0000000011 (topic: out)",
    ] {
        assert!(description.contains(line), "{line} in {description}");
    }
    Ok(())
}

/// An unmaterialized join result keeps no store: a lookup joins the
/// inputs' current rows anew (Kafka's `KTableKTableJoinMerger` view), with
/// the join's kind - here a left join, so a key without a left row has no
/// result. The lookup processor reads the inputs' stores.
#[test]
fn an_unmaterialized_result_is_looked_up_through_its_inputs() -> Result<(), StreamsError> {
    let builder = StreamsBuilder::new();
    let left = builder.table::<String, String>("left");
    let right = builder.table::<String, String>("right");
    let joined = left.left_join(&right, |l, r| pair(Some(l), r));
    assert_eq!(joined.queryable_store_name(), None);
    builder
        .stream::<String, String>("lookups")
        .join_table(&joined, |lookup, row| format!("{lookup}={row}"))
        .to("out");
    let topology = builder.build()?;
    let description = topology.describe().to_string();
    assert!(
        description.contains(
            "Processor: KSTREAM-JOIN-0000000010 (stores: [left-STATE-STORE-0000000000, \
             right-STATE-STORE-0000000003])"
        ),
        "{description}"
    );
    assert!(
        !description.contains("KTABLE-MERGE-STATE-STORE"),
        "{description}"
    );

    let driver = TopologyTestDriver::new(&topology)?;
    let left = driver.create_input_topic("left", StringSerde, StringSerde);
    let right = driver.create_input_topic("right", StringSerde, StringSerde);
    let lookups = driver.create_input_topic("lookups", StringSerde, StringSerde);
    left.pipe_input_at("k".into(), "A".into(), 1)?;
    lookups.pipe_input_at("k".into(), "q1".into(), 2)?;
    right.pipe_input_at("k".into(), "a".into(), 3)?;
    lookups.pipe_input_at("k".into(), "q2".into(), 4)?;
    right.pipe_input_at("j".into(), "b".into(), 5)?;
    lookups.pipe_input_at("j".into(), "q3".into(), 6)?;
    let out = driver.create_output_topic("out", StringSerde, StringSerde);
    assert_eq!(
        out.read_records_to_list()?,
        [
            TestRecord::new("k".to_owned(), "q1=[A, null]".to_owned(), 2),
            TestRecord::new("k".to_owned(), "q2=[A, a]".to_owned(), 4),
        ]
    );
    Ok(())
}

/// Joined again, an unmaterialized result's row carries the later of its
/// inputs' timestamps, and results of the second join the later of that
/// and the third table's row.
#[test]
fn an_unmaterialized_result_joins_again_with_its_rows_timestamps() {
    let builder = StreamsBuilder::new();
    let left = builder.table::<String, String>("left");
    let right = builder.table::<String, String>("right");
    let third = builder.table::<String, String>("third");
    left.join(&right, |l, r| pair(Some(l), Some(r)))
        .join(&third, |lr, t| format!("{lr}+{t}"))
        .to_stream()
        .to("out");
    let driver = TopologyTestDriver::new(&builder.build().expect("valid")).expect("driver");
    let pipe = |topic: &str, value: &str, timestamp| {
        driver
            .create_input_topic(topic, StringSerde, StringSerde)
            .pipe_input_at("k".to_owned(), value.to_owned(), timestamp)
            .expect("pipe");
    };
    pipe("third", "t", 9);
    pipe("left", "A", 2);
    pipe("right", "a", 5);
    pipe("third", "u", 3);
    let out = driver.create_output_topic("out", StringSerde, nullable());
    assert_eq!(
        out.read_records_to_list().expect("read"),
        records(&[("k", Some("[A, a]+t"), 9), ("k", Some("[A, a]+u"), 5)])
    );
}

#[test]
fn table_table_joins_require_co_partitioning() {
    let build = |left_partitions, right_partitions| {
        let builder = StreamsBuilder::new();
        builder
            .declare_topic_partitions("left", left_partitions)
            .declare_topic_partitions("right", right_partitions);
        let left = builder.table::<String, String>("left");
        let right = builder.table::<String, String>("right");
        left.outer_join(&right, pair).to_stream().to("out");
        builder.build().map(drop)
    };
    assert!(matches!(
        build(4, 2),
        Err(TopologyError::NotCopartitioned { .. })
    ));
    assert_eq!(build(3, 3), Ok(()));
}

/// Kafka's `KStreamImplTest.shouldSupportTableTableJoinWithKStreamToKTable`.
#[test]
fn table_table_join_describes_as_kafka_streams() {
    let builder = StreamsBuilder::new();
    let left = builder.stream::<String, String>("left").to_table();
    let right = builder.stream::<String, String>("right").to_table();
    left.join(&right, |l, r| format!("{l}+{r}"))
        .to_stream()
        .to("output");
    let expected = "\
Topologies:
   Sub-topology: 0
    Source: KSTREAM-SOURCE-0000000000 (topics: [left])
      --> KSTREAM-TOTABLE-0000000001
    Source: KSTREAM-SOURCE-0000000003 (topics: [right])
      --> KSTREAM-TOTABLE-0000000004
    Processor: KSTREAM-TOTABLE-0000000001 (stores: [KSTREAM-TOTABLE-STATE-STORE-0000000002])
      --> KTABLE-JOINTHIS-0000000007
      <-- KSTREAM-SOURCE-0000000000
    Processor: KSTREAM-TOTABLE-0000000004 (stores: [KSTREAM-TOTABLE-STATE-STORE-0000000005])
      --> KTABLE-JOINOTHER-0000000008
      <-- KSTREAM-SOURCE-0000000003
    Processor: KTABLE-JOINOTHER-0000000008 (stores: [KSTREAM-TOTABLE-STATE-STORE-0000000002])
      --> KTABLE-MERGE-0000000006
      <-- KSTREAM-TOTABLE-0000000004
    Processor: KTABLE-JOINTHIS-0000000007 (stores: [KSTREAM-TOTABLE-STATE-STORE-0000000005])
      --> KTABLE-MERGE-0000000006
      <-- KSTREAM-TOTABLE-0000000001
    Processor: KTABLE-MERGE-0000000006 (stores: [])
      --> KTABLE-TOSTREAM-0000000009
      <-- KTABLE-JOINTHIS-0000000007, KTABLE-JOINOTHER-0000000008
    Processor: KTABLE-TOSTREAM-0000000009 (stores: [])
      --> KSTREAM-SINK-0000000010
      <-- KTABLE-MERGE-0000000006
    Sink: KSTREAM-SINK-0000000010 (topic: output)
      <-- KTABLE-TOSTREAM-0000000009

";
    assert_eq!(
        builder.build().expect("valid").describe().to_string(),
        expected
    );
}

/// Kafka 4 names the processors of all three join kinds alike; an unnamed
/// `Materialized` takes the store index before the merge node's.
#[test]
fn materialized_outer_join_of_source_tables_describes_as_kafka_streams() {
    let builder = StreamsBuilder::new();
    let left = builder.table::<String, String>("left");
    let right = builder.table::<String, String>("right");
    left.outer_join_with(&right, pair, Materialized::default());
    let expected = "\
Topologies:
   Sub-topology: 0
    Source: KSTREAM-SOURCE-0000000001 (topics: [left])
      --> KTABLE-SOURCE-0000000002
    Source: KSTREAM-SOURCE-0000000004 (topics: [right])
      --> KTABLE-SOURCE-0000000005
    Processor: KTABLE-SOURCE-0000000002 (stores: [left-STATE-STORE-0000000000])
      --> KTABLE-JOINTHIS-0000000008
      <-- KSTREAM-SOURCE-0000000001
    Processor: KTABLE-SOURCE-0000000005 (stores: [right-STATE-STORE-0000000003])
      --> KTABLE-JOINOTHER-0000000009
      <-- KSTREAM-SOURCE-0000000004
    Processor: KTABLE-JOINOTHER-0000000009 (stores: [left-STATE-STORE-0000000000])
      --> KTABLE-MERGE-0000000007
      <-- KTABLE-SOURCE-0000000005
    Processor: KTABLE-JOINTHIS-0000000008 (stores: [right-STATE-STORE-0000000003])
      --> KTABLE-MERGE-0000000007
      <-- KTABLE-SOURCE-0000000002
    Processor: KTABLE-MERGE-0000000007 (stores: [KTABLE-MERGE-STATE-STORE-0000000006])
      --> none
      <-- KTABLE-JOINTHIS-0000000008, KTABLE-JOINOTHER-0000000009

";
    assert_eq!(
        builder.build().expect("valid").describe().to_string(),
        expected
    );
}
