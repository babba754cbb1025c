//! Tables: sources with upserts and tombstones, filter, map_values,
//! to_table, re-grouping with count/reduce/aggregate, global tables, and
//! `describe()` against Kafka Streams' text.

mod support;
use support::repartition_topics;

use std::time::Duration;

use streams_core::prelude::*;
use streams_core::state::{TimestampedKeyValueStore, ValueAndTimestamp};
use streams_dsl::{Consumed, Materialized, StreamsBuilder, TimeWindows};

type Out<V> = Vec<TestRecord<String, Option<V>>>;

fn nullable<T: DefaultSerde>() -> OptionSerde<T> {
    OptionSerde::new(T::default_serde())
}

fn record<V>(key: &str, value: Option<V>, timestamp: i64) -> TestRecord<String, Option<V>> {
    TestRecord::new(key.to_owned(), value, timestamp)
}

/// Pipes `(key, value, timestamp)` into `topic` (`None` is a tombstone) and
/// reads everything written to `output`.
fn run<V: DefaultSerde, W: DefaultSerde>(
    builder: &StreamsBuilder,
    topic: &str,
    input: &[(&str, Option<V>, i64)],
    output: &str,
) -> Out<W> {
    let topology = builder.build().expect("valid");
    let driver = TopologyTestDriver::new(&topology).expect("driver");
    let input_topic = driver.create_input_topic(topic, StringSerde, nullable::<V>());
    let output_topic = driver.create_output_topic(output, StringSerde, nullable::<W>());
    for (key, value, timestamp) in input {
        input_topic
            .pipe_input_at(
                (*key).to_owned(),
                value.as_ref().map(clone_value),
                *timestamp,
            )
            .expect("pipe");
    }
    output_topic.read_records_to_list().expect("decode")
}

fn clone_value<V: DefaultSerde>(value: &V) -> V {
    // Round trip through the serde: the inputs are plain data.
    let serde = V::default_serde();
    let bytes = serde.serialize("t", value).expect("serialize");
    serde
        .deserialize("t", bytes.as_deref())
        .expect("deserialize")
}

#[test]
fn a_table_source_forwards_upserts_and_tombstones() {
    let builder = StreamsBuilder::new();
    builder
        .table::<String, String>("input")
        .to_stream()
        .to("output");
    let out: Out<String> = run(
        &builder,
        "input",
        &[
            ("a", Some("1".to_owned()), 10),
            ("b", Some("2".to_owned()), 11),
            ("a", Some("3".to_owned()), 12),
            ("a", None, 13),
        ],
        "output",
    );
    assert_eq!(
        out,
        vec![
            record("a", Some("1".to_owned()), 10),
            record("b", Some("2".to_owned()), 11),
            record("a", Some("3".to_owned()), 12),
            record("a", None, 13),
        ]
    );
}

/// Only a store named in `Materialized` is queryable, whatever the table
/// keeps (Kafka's `queryableStoreName`); a foreign-key join's result
/// reports its generated store name, as Kafka's `KTableImpl` does.
#[test]
fn only_named_stores_are_queryable_except_foreign_key_join_results() {
    let builder = StreamsBuilder::new();
    let stream = builder.stream::<String, String>("input");
    let grouped = stream.group_by_key();
    assert_eq!(grouped.count().queryable_store_name(), None);
    let named = grouped.count_with(Materialized::named("counts"));
    assert_eq!(named.queryable_store_name(), Some("counts"));
    let windows = TimeWindows::of_size_with_no_grace(Duration::from_millis(10)).expect("valid");
    let windowed = grouped.windowed_by(windows).count();
    assert_eq!(windowed.queryable_store_name(), None);
    let table = builder.table::<String, String>("table");
    assert_eq!(table.queryable_store_name(), None);
    let regrouped = table.group_by(|k, v| (v.clone(), k.clone())).count();
    assert_eq!(regrouped.queryable_store_name(), None);
    let other = builder.table::<String, String>("other");
    let joined = table.join_foreign_key(
        &other,
        |v: &String| Some(v.clone()),
        |l, r| format!("{l}{r}"),
    );
    let generated = joined.queryable_store_name().expect("reported");
    assert!(
        generated.starts_with("KTABLE-FK-JOIN-OUTPUT-STATE-STORE-"),
        "{generated}"
    );
}

#[test]
fn a_table_source_drops_null_keys_and_materializes_when_named() {
    let builder = StreamsBuilder::new();
    let table = builder.table_with(
        "input",
        Consumed::<String, i64>::default(),
        Materialized::named("rows"),
    );
    assert_eq!(table.queryable_store_name(), Some("rows"));
    table.to_stream().to("output");
    let topology = builder.build().expect("valid");
    let driver = TopologyTestDriver::new(&topology).expect("driver");
    let input = driver.create_input_topic("input", nullable::<String>(), nullable::<i64>());
    input.pipe_input_at(None, Some(1), 1).expect("pipe");
    input
        .pipe_input_at(Some("a".into()), Some(2), 2)
        .expect("pipe");
    input
        .pipe_input_at(Some("b".into()), Some(3), 3)
        .expect("pipe");
    input
        .pipe_input_at(Some("b".into()), None, 4)
        .expect("pipe");
    assert_eq!(driver.metrics().dropped_records, 1);
    let store: TimestampedKeyValueStore<String, i64> = driver.state_store("rows").expect("store");
    assert_eq!(
        store.all().expect("scan"),
        vec![("a".to_owned(), ValueAndTimestamp::new(2, 2))]
    );
    let output = driver.create_output_topic("output", StringSerde, nullable::<i64>());
    assert_eq!(
        output.read_records_to_list().expect("decode"),
        vec![
            record("a", Some(2), 2),
            record("b", Some(3), 3),
            record("b", None, 4)
        ]
    );
}

const FILTER_INPUT: [(&str, Option<i64>, i64); 5] = [
    ("a", Some(1), 1),
    ("a", Some(5), 2),
    ("b", Some(7), 3),
    ("a", Some(0), 4),
    ("a", Some(-1), 5),
];

/// Without old values (the source is not materialized) every failing
/// update is forwarded as a tombstone, with the input's timestamp.
#[test]
fn filter_turns_failing_rows_into_tombstones() {
    let builder = StreamsBuilder::new();
    builder
        .table::<String, i64>("input")
        .filter(|_, v| *v > 1)
        .to_stream()
        .to("output");
    let out: Out<i64> = run(&builder, "input", &FILTER_INPUT, "output");
    assert_eq!(
        out,
        vec![
            record("a", None, 1),
            record("a", Some(5), 2),
            record("b", Some(7), 3),
            record("a", None, 4),
            record("a", None, 5),
        ]
    );
}

/// With a materialized parent the filter knows old values (Kafka's
/// `KTableFilter`), so it skips updates absent before and after.
#[test]
fn filter_with_old_values_skips_rows_absent_before_and_after() {
    let builder = StreamsBuilder::new();
    builder
        .table_with(
            "input",
            Consumed::<String, i64>::default(),
            Materialized::named("rows"),
        )
        .filter_not(|_, v| *v <= 1)
        .to_stream()
        .to("output");
    let out: Out<i64> = run(&builder, "input", &FILTER_INPUT, "output");
    assert_eq!(
        out,
        vec![
            record("a", Some(5), 2),
            record("b", Some(7), 3),
            record("a", None, 4),
        ]
    );
}

#[test]
fn a_materialized_filter_keeps_the_rows_that_pass() {
    let builder = StreamsBuilder::new();
    builder
        .table::<String, i64>("input")
        .filter_with(|_, v| *v > 1, Materialized::named("big"))
        .to_stream()
        .to("output");
    let topology = builder.build().expect("valid");
    let driver = TopologyTestDriver::new(&topology).expect("driver");
    let input = driver.create_input_topic("input", StringSerde, nullable::<i64>());
    for (key, value, timestamp) in FILTER_INPUT {
        input
            .pipe_input_at(key.to_owned(), value, timestamp)
            .expect("pipe");
    }
    let store: TimestampedKeyValueStore<String, i64> = driver.state_store("big").expect("store");
    assert_eq!(
        store.all().expect("scan"),
        vec![("b".to_owned(), ValueAndTimestamp::new(7, 3))]
    );
}

#[test]
fn map_values_maps_rows_and_keeps_tombstones() {
    let builder = StreamsBuilder::new();
    builder
        .table::<String, String>("input")
        .map_values(|v| v.len() as i64)
        .to_stream()
        .to("output");
    let out: Out<i64> = run(
        &builder,
        "input",
        &[
            ("a", Some("xx".to_owned()), 1),
            ("b", Some("yyy".to_owned()), 2),
            ("a", None, 3),
        ],
        "output",
    );
    assert_eq!(
        out,
        vec![
            record("a", Some(2), 1),
            record("b", Some(3), 2),
            record("a", None, 3)
        ]
    );
}

#[test]
fn to_table_upserts_each_record_after_repartitioning_a_changed_key() {
    let builder = StreamsBuilder::new();
    builder
        .stream::<String, String>("input")
        .select_key(|_, v| v.clone())
        .to_table_with(Materialized::named("latest"))
        .to_stream()
        .to("output");
    let topology = builder.build().expect("valid");
    let driver = TopologyTestDriver::new(&topology).expect("driver");
    let input = driver.create_input_topic("input", StringSerde, StringSerde);
    input
        .pipe_input_at("1".into(), "x".into(), 5)
        .expect("pipe");
    input
        .pipe_input_at("2".into(), "x".into(), 6)
        .expect("pipe");
    let output = driver.create_output_topic("output", StringSerde, nullable::<String>());
    assert_eq!(
        output.read_records_to_list().expect("decode"),
        vec![
            record("x", Some("x".to_owned()), 5),
            record("x", Some("x".to_owned()), 6)
        ]
    );
    assert!(driver
        .produced_topic_names()
        .contains("test-driver-application-KSTREAM-TOTABLE-0000000002-repartition"));
}

/// Kafka's KGroupedTable example: users move between regions; a region
/// count subtracts a user who leaves (down to 0, not a tombstone) and adds
/// them where they arrive; a deleted user is subtracted.
#[test]
fn table_group_by_count_subtracts_then_adds() {
    let builder = StreamsBuilder::new();
    builder
        .table::<String, String>("user-regions")
        .group_by(|user: &String, region: &String| (region.clone(), user.clone()))
        .count()
        .to_stream()
        .to("region-counts");
    let out: Out<i64> = run(
        &builder,
        "user-regions",
        &[
            ("alice", Some("europe".to_owned()), 1),
            ("bob", Some("asia".to_owned()), 2),
            ("alice", Some("asia".to_owned()), 3),
            ("bob", None, 4),
        ],
        "region-counts",
    );
    assert_eq!(
        out,
        vec![
            record("europe", Some(1), 1),
            record("asia", Some(1), 2),
            record("europe", Some(0), 3),
            record("asia", Some(2), 3),
            record("asia", Some(1), 4),
        ]
    );
}

/// A row that stays under its key is one change: subtract and add at once.
#[test]
fn table_group_by_reduce_updates_in_place_when_the_key_stays() {
    let builder = StreamsBuilder::new();
    builder
        .table::<String, i64>("scores")
        .group_by(|_, score: &i64| ("all".to_owned(), *score))
        .reduce(|sum, v| sum + v, |sum, v| sum - v)
        .to_stream()
        .to("total");
    let out: Out<i64> = run::<i64, i64>(
        &builder,
        "scores",
        &[
            ("a", Some(5), 1),
            ("b", Some(3), 2),
            ("a", Some(7), 3),
            ("a", None, 4),
        ],
        "total",
    );
    assert_eq!(
        out,
        vec![
            record("all", Some(5), 1),
            record("all", Some(8), 2),
            record("all", Some(10), 3),
            record("all", Some(3), 4),
        ]
    );
}

#[test]
fn table_group_by_aggregate_moves_rows_between_keys() {
    let builder = StreamsBuilder::new();
    builder
        .table::<String, i64>("scores")
        .group_by(|_, score: &i64| {
            let parity = if score % 2 == 0 { "even" } else { "odd" };
            (parity.to_owned(), *score)
        })
        .aggregate(|| 0i64, |_, v, sum| sum + v, |_, v, sum| sum - v)
        .to_stream()
        .to("sums");
    let out: Out<i64> = run::<i64, i64>(
        &builder,
        "scores",
        &[
            ("a", Some(5), 1),
            ("a", Some(6), 2),
            ("b", Some(8), 3),
            ("a", None, 4),
        ],
        "sums",
    );
    assert_eq!(
        out,
        vec![
            record("odd", Some(5), 1),
            record("odd", Some(0), 2),
            record("even", Some(6), 2),
            record("even", Some(14), 3),
            record("even", Some(8), 4),
        ]
    );
}

#[test]
fn a_global_table_keeps_every_row_in_its_store() {
    let builder = StreamsBuilder::new();
    let global = builder.global_table::<String, String>("reference");
    assert_eq!(global.queryable_store_name(), None);
    let topology = builder.build().expect("valid");
    assert!(topology.changelog_topics("app").is_empty());
    let driver = TopologyTestDriver::new(&topology).expect("driver");
    let input = driver.create_input_topic("reference", StringSerde, nullable::<String>());
    input
        .pipe_input_at("k1".into(), Some("one".into()), 1)
        .expect("pipe");
    input
        .pipe_input_at("k2".into(), Some("two".into()), 2)
        .expect("pipe");
    input.pipe_input_at("k1".into(), None, 3).expect("pipe");
    let store: TimestampedKeyValueStore<String, String> = driver
        .state_store("reference-STATE-STORE-0000000000")
        .expect("store");
    assert_eq!(
        store.all().expect("scan"),
        vec![("k2".to_owned(), ValueAndTimestamp::new("two".to_owned(), 2))]
    );
}

#[test]
fn describe_a_filtered_table_as_kafka_streams() {
    let builder = StreamsBuilder::new();
    builder
        .table::<String, i64>("input")
        .filter(|_, v| *v > 1)
        .to_stream()
        .to("output");
    let expected = "\
Topologies:
   Sub-topology: 0
    Source: KSTREAM-SOURCE-0000000001 (topics: [input])
      --> KTABLE-SOURCE-0000000002
    Processor: KTABLE-SOURCE-0000000002 (stores: [])
      --> KTABLE-FILTER-0000000003
      <-- KSTREAM-SOURCE-0000000001
    Processor: KTABLE-FILTER-0000000003 (stores: [])
      --> KTABLE-TOSTREAM-0000000004
      <-- KTABLE-SOURCE-0000000002
    Processor: KTABLE-TOSTREAM-0000000004 (stores: [])
      --> KSTREAM-SINK-0000000005
      <-- KTABLE-FILTER-0000000003
    Sink: KSTREAM-SINK-0000000005 (topic: output)
      <-- KTABLE-TOSTREAM-0000000004

";
    assert_eq!(
        builder.build().expect("valid").describe().to_string(),
        expected
    );
}

/// `group_by` materializes the source table (it needs old values) and
/// repartitions through `<store>-repartition` with no filter node.
#[test]
fn describe_a_table_group_by_count_as_kafka_streams() {
    let builder = StreamsBuilder::new();
    builder
        .table::<String, String>("input")
        .group_by(|k: &String, v: &String| (v.clone(), k.clone()))
        .count()
        .to_stream()
        .to("output");
    let expected = "\
Topologies:
   Sub-topology: 0
    Source: KSTREAM-SOURCE-0000000001 (topics: [input])
      --> KTABLE-SOURCE-0000000002
    Processor: KTABLE-SOURCE-0000000002 (stores: [input-STATE-STORE-0000000000])
      --> KTABLE-SELECT-0000000003
      <-- KSTREAM-SOURCE-0000000001
    Processor: KTABLE-SELECT-0000000003 (stores: [])
      --> KSTREAM-SINK-0000000005
      <-- KTABLE-SOURCE-0000000002
    Sink: KSTREAM-SINK-0000000005 (topic: KTABLE-AGGREGATE-STATE-STORE-0000000004-repartition)
      <-- KTABLE-SELECT-0000000003

  Sub-topology: 1
    Source: KSTREAM-SOURCE-0000000006 (topics: [KTABLE-AGGREGATE-STATE-STORE-0000000004-repartition])
      --> KTABLE-AGGREGATE-0000000007
    Processor: KTABLE-AGGREGATE-0000000007 (stores: [KTABLE-AGGREGATE-STATE-STORE-0000000004])
      --> KTABLE-TOSTREAM-0000000008
      <-- KSTREAM-SOURCE-0000000006
    Processor: KTABLE-TOSTREAM-0000000008 (stores: [])
      --> KSTREAM-SINK-0000000009
      <-- KTABLE-AGGREGATE-0000000007
    Sink: KSTREAM-SINK-0000000009 (topic: output)
      <-- KTABLE-TOSTREAM-0000000008

";
    assert_eq!(
        builder.build().expect("valid").describe().to_string(),
        expected
    );
}

#[test]
fn describe_a_global_table_as_kafka_streams() {
    let builder = StreamsBuilder::new();
    builder.stream::<String, String>("events").to("copy");
    builder.global_table::<String, String>("reference");
    let expected = "\
Topologies:
   Sub-topology: 0
    Source: KSTREAM-SOURCE-0000000000 (topics: [events])
      --> KSTREAM-SINK-0000000001
    Sink: KSTREAM-SINK-0000000001 (topic: copy)
      <-- KSTREAM-SOURCE-0000000000

  Sub-topology: 1 for global store (will not generate tasks)
    Source: KSTREAM-SOURCE-0000000003 (topics: [reference])
      --> KTABLE-SOURCE-0000000004
    Processor: KTABLE-SOURCE-0000000004 (stores: [reference-STATE-STORE-0000000002])
      --> none
      <-- KSTREAM-SOURCE-0000000003
";
    assert_eq!(
        builder.build().expect("valid").describe().to_string(),
        expected
    );
}

#[test]
fn consumed_names_name_the_table_source_and_still_consume_indices() {
    let builder = StreamsBuilder::new();
    builder
        .table_with(
            "input",
            Consumed::<String, String>::default().with_name("users"),
            Materialized::default(),
        )
        .to_stream()
        .to("output");
    let description = builder.build().expect("valid").describe().to_string();
    assert!(
        description.contains("Source: users-source (topics: [input])"),
        "{description}"
    );
    assert!(
        description.contains("Processor: users (stores: [])"),
        "{description}"
    );
    assert!(
        description.contains("KTABLE-TOSTREAM-0000000003"),
        "{description}"
    );
}

/// A grouped table with a user-named repartition topic feeds every
/// aggregation from that one topic, as Kafka's `KGroupedTableImpl` reuses
/// its repartition node; both aggregations see every update.
#[test]
fn aggregations_of_a_named_grouped_table_share_its_repartition_topic() {
    let builder = StreamsBuilder::new();
    let grouped = builder.table::<String, String>("rows").group_by_with(
        |_, value| (value.clone(), value.clone()),
        streams_dsl::Grouped::with(
            std::sync::Arc::new(StringSerde),
            std::sync::Arc::new(StringSerde),
        )
        .with_name("by-value"),
    );
    grouped.count().to_stream().to("counts");
    grouped
        .reduce(|a, b| format!("{a}+{b}"), |a, _| a)
        .to_stream()
        .to("reduced");
    let topology = builder.build().expect("one repartition topic, read once");
    assert_eq!(repartition_topics(&topology), ["by-value-repartition"]);

    let driver = TopologyTestDriver::new(&topology).expect("driver");
    let rows = driver.create_input_topic("rows", StringSerde, StringSerde);
    rows.pipe_input_at("r1".into(), "x".into(), 1)
        .expect("pipe");
    rows.pipe_input_at("r2".into(), "x".into(), 2)
        .expect("pipe");
    let counts = driver.create_output_topic("counts", StringSerde, I64Serde);
    assert_eq!(
        counts.read_records_to_list().expect("read"),
        [
            TestRecord::new("x".to_owned(), 1, 1),
            TestRecord::new("x".to_owned(), 2, 2),
        ]
    );
    let reduced = driver.create_output_topic("reduced", StringSerde, StringSerde);
    assert_eq!(
        reduced.read_records_to_list().expect("read"),
        [
            TestRecord::new("x".to_owned(), "x".to_owned(), 1),
            TestRecord::new("x".to_owned(), "x+x".to_owned(), 2),
        ]
    );
}

/// A stream count's first update of a key replaces the initial count 0
/// (Kafka's `KStreamAggregate` forwards the initializer's value as the old
/// one), so re-grouping the counts by count retracts the row from key "0".
#[test]
fn a_counts_first_update_replaces_the_initial_count() {
    let builder = StreamsBuilder::new();
    builder
        .stream::<String, String>("words")
        .group_by_key()
        .count()
        .group_by(|word, count| (count.to_string(), word.clone()))
        .count()
        .to_stream()
        .to("by-count");
    let driver = TopologyTestDriver::new(&builder.build().expect("valid")).expect("driver");
    let words = driver.create_input_topic("words", StringSerde, StringSerde);
    words
        .pipe_input_at("a".into(), "x".into(), 1)
        .expect("pipe");
    let output = driver.create_output_topic(
        "by-count",
        StringSerde,
        OptionSerde::new(std::sync::Arc::new(I64Serde)),
    );
    assert_eq!(
        output.read_records_to_list().expect("read"),
        [
            TestRecord::new("0".to_owned(), None, 1),
            TestRecord::new("1".to_owned(), Some(1), 1),
        ]
    );
}

/// A stream of optional values read back as a table deletes a row on
/// `None`, as Kafka's `toTable` does on a null value, through a
/// repartition when the key changed.
#[test]
fn a_stream_of_options_becomes_a_table_with_deletes() {
    let builder = StreamsBuilder::new();
    builder
        .table::<String, String>("users")
        .to_stream()
        .select_key(|user, _| user.to_uppercase())
        .to_table_with_deletes()
        .filter(|_, region| region != "hidden")
        .to_stream()
        .to("visible");
    let topology = builder.build().expect("valid");
    assert_eq!(repartition_topics(&topology).len(), 1);
    let driver = TopologyTestDriver::new(&topology).expect("driver");
    let regions = || OptionSerde::new(std::sync::Arc::new(StringSerde));
    let users = driver.create_input_topic("users", StringSerde, regions());
    users
        .pipe_input_at("ann".into(), Some("eu".into()), 1)
        .expect("pipe");
    users.pipe_input_at("ann".into(), None, 2).expect("pipe");
    let visible = driver.create_output_topic("visible", StringSerde, regions());
    assert_eq!(
        visible.read_records_to_list().expect("read"),
        [
            TestRecord::new("ANN".to_owned(), Some("eu".to_owned()), 1),
            TestRecord::new("ANN".to_owned(), None, 2),
        ]
    );
}
