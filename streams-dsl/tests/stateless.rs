//! Stateless KStream operators: whole output sequences (keys, values,
//! timestamps) through the test driver.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use streams_core::prelude::*;
use streams_core::record::ConsumerRecord;
use streams_core::serde::SharedSerde;
use streams_core::test_driver::TestDriverConfig;
use streams_core::topology::{OffsetReset, TimestampExtractor};
use streams_dsl::{
    Consumed, Grouped, Materialized, Produced, Repartitioned, StreamsBuilder, TimeWindows,
};

fn run<K2, V2>(
    builder: &StreamsBuilder,
    output: &str,
    key: impl Deserializer<K2> + 'static,
    value: impl Deserializer<V2> + 'static,
    input: &[(&str, &str, i64)],
) -> Vec<TestRecord<K2, V2>> {
    let topology = builder.build().expect("valid topology");
    let driver = TopologyTestDriver::new(&topology).expect("driver");
    let topic = driver.create_input_topic("input", StringSerde, StringSerde);
    for (k, v, ts) in input {
        topic
            .pipe_input_at((*k).to_string(), (*v).to_string(), *ts)
            .expect("processing succeeds");
    }
    driver
        .create_output_topic(output, key, value)
        .read_records_to_list()
        .expect("decode")
}

fn records<K: Clone, V: Clone>(expected: &[(K, V, i64)]) -> Vec<TestRecord<K, V>> {
    expected
        .iter()
        .map(|(k, v, ts)| TestRecord::new(k.clone(), v.clone(), *ts))
        .collect()
}

const INPUT: &[(&str, &str, i64)] = &[("a", "apple", 1), ("b", "", 2), ("c", "cherry pie", 3)];

#[test]
fn filter_and_filter_not_keep_complementary_records() {
    let builder = StreamsBuilder::new();
    let input = builder.stream::<String, String>("input");
    input.filter(|_, v| !v.is_empty()).to("kept");
    input.filter_not(|_, v| !v.is_empty()).to("dropped");
    let topology = builder.build().expect("valid");
    let driver = TopologyTestDriver::new(&topology).expect("driver");
    let topic = driver.create_input_topic("input", StringSerde, StringSerde);
    for (k, v, ts) in INPUT {
        topic
            .pipe_input_at((*k).into(), (*v).into(), *ts)
            .expect("pipe");
    }
    let kept = driver.create_output_topic("kept", StringSerde, StringSerde);
    let dropped = driver.create_output_topic("dropped", StringSerde, StringSerde);
    assert_eq!(
        kept.read_records_to_list().expect("kept"),
        records(&[
            ("a".to_string(), "apple".to_string(), 1),
            ("c".into(), "cherry pie".into(), 3)
        ])
    );
    assert_eq!(
        dropped.read_records_to_list().expect("dropped"),
        records(&[("b".to_string(), String::new(), 2)])
    );
}

#[test]
fn map_changes_key_and_value_types() {
    let builder = StreamsBuilder::new();
    builder
        .stream::<String, String>("input")
        .map(|k, v| (v.len() as i64, format!("{k}:{v}")))
        .to("out");
    let got = run(&builder, "out", I64Serde, StringSerde, INPUT);
    assert_eq!(
        got,
        records(&[
            (5, "a:apple".to_string(), 1),
            (0, "b:".into(), 2),
            (10, "c:cherry pie".into(), 3)
        ])
    );
}

#[test]
fn map_values_and_select_key() {
    let builder = StreamsBuilder::new();
    let input = builder.stream::<String, String>("input");
    input.map_values(|v| v.to_uppercase()).to("upper");
    input
        .map_values_with_key(|k, v| format!("{k}{}", v.len()))
        .to("keyed");
    input
        .select_key(|_, v| v.chars().next().unwrap_or('-').to_string())
        .to("rekeyed");
    let topology = builder.build().expect("valid");
    let driver = TopologyTestDriver::new(&topology).expect("driver");
    let topic = driver.create_input_topic("input", StringSerde, StringSerde);
    for (k, v, ts) in INPUT {
        topic
            .pipe_input_at((*k).into(), (*v).into(), *ts)
            .expect("pipe");
    }
    let read = |name: &str| {
        driver
            .create_output_topic(name, StringSerde, StringSerde)
            .read_records_to_list()
            .expect("decode")
    };
    assert_eq!(
        read("upper"),
        records(&[
            ("a".to_string(), "APPLE".to_string(), 1),
            ("b".into(), "".into(), 2),
            ("c".into(), "CHERRY PIE".into(), 3)
        ])
    );
    assert_eq!(
        read("keyed"),
        records(&[
            ("a".to_string(), "a5".to_string(), 1),
            ("b".into(), "b0".into(), 2),
            ("c".into(), "c10".into(), 3)
        ])
    );
    assert_eq!(
        read("rekeyed"),
        records(&[
            ("a".to_string(), "apple".to_string(), 1),
            ("-".into(), "".into(), 2),
            ("c".into(), "cherry pie".into(), 3)
        ])
    );
}

#[test]
fn flat_map_outputs_inherit_the_input_timestamp() {
    let builder = StreamsBuilder::new();
    let input = builder.stream::<String, String>("input");
    input
        .flat_map_values(|v: String| v.split_whitespace().map(str::to_owned).collect::<Vec<_>>())
        .to("words");
    input
        .flat_map(|k: String, v: String| {
            (0..v.len().min(2)).map(move |i| (format!("{k}{i}"), i as i64))
        })
        .to_with("indexed", Produced::serdes(StringSerde, I64Serde));
    let topology = builder.build().expect("valid");
    let driver = TopologyTestDriver::new(&topology).expect("driver");
    let topic = driver.create_input_topic("input", StringSerde, StringSerde);
    for (k, v, ts) in INPUT {
        topic
            .pipe_input_at((*k).into(), (*v).into(), *ts)
            .expect("pipe");
    }
    assert_eq!(
        driver
            .create_output_topic("words", StringSerde, StringSerde)
            .read_records_to_list()
            .expect("words"),
        records(&[
            ("a".to_string(), "apple".to_string(), 1),
            ("c".into(), "cherry".into(), 3),
            ("c".into(), "pie".into(), 3)
        ])
    );
    assert_eq!(
        driver
            .create_output_topic("indexed", StringSerde, I64Serde)
            .read_records_to_list()
            .expect("indexed"),
        records(&[
            ("a0".to_string(), 0, 1),
            ("a1".into(), 1, 1),
            ("c0".into(), 0, 3),
            ("c1".into(), 1, 3)
        ])
    );
}

#[test]
fn peek_and_foreach_see_every_record() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let builder = StreamsBuilder::new();
    let input = builder.stream::<String, String>("input");
    let peeked = seen.clone();
    input
        .peek(move |k, _| peeked.lock().expect("lock").push(format!("peek {k}")))
        .to("out");
    let each = seen.clone();
    input.foreach(move |k, v| each.lock().expect("lock").push(format!("each {k}={v}")));
    let got = run(&builder, "out", StringSerde, StringSerde, &INPUT[..2]);
    assert_eq!(got.len(), 2);
    assert_eq!(
        *seen.lock().expect("lock"),
        vec!["peek a", "each a=apple", "peek b", "each b="]
    );
}

#[test]
fn split_sends_each_record_to_the_first_matching_branch() {
    let builder = StreamsBuilder::new();
    let branches = builder
        .stream::<String, String>("input")
        .split()
        .branch(|_, v| v.starts_with('a'))
        .branch(|_, v| v.contains('e'))
        .default_branch();
    for (branch, topic) in branches.iter().zip(["starts-a", "has-e", "other"]) {
        branch.to(topic);
    }
    let topology = builder.build().expect("valid");
    let driver = TopologyTestDriver::new(&topology).expect("driver");
    let topic = driver.create_input_topic("input", StringSerde, StringSerde);
    for (k, v, ts) in [
        ("1", "ace", 1),
        ("2", "bee", 2),
        ("3", "cat", 3),
        ("4", "axe", 4),
    ] {
        topic.pipe_input_at(k.into(), v.into(), ts).expect("pipe");
    }
    let values = |name: &str| {
        driver
            .create_output_topic(name, StringSerde, StringSerde)
            .read_key_values_to_list()
            .expect("decode")
    };
    assert_eq!(
        values("starts-a"),
        vec![("1".into(), "ace".into()), ("4".into(), "axe".into())]
    );
    assert_eq!(values("has-e"), vec![("2".into(), "bee".into())]);
    assert_eq!(values("other"), vec![("3".into(), "cat".into())]);
}

#[test]
fn merge_interleaves_two_streams_in_arrival_order() {
    let builder = StreamsBuilder::new();
    let left = builder.stream::<String, String>("left");
    let right = builder.stream_with(&["right"], Consumed::serdes(StringSerde, StringSerde));
    left.merge(&right).to("merged");
    let topology = builder.build().expect("valid");
    let driver = TopologyTestDriver::new(&topology).expect("driver");
    let l = driver.create_input_topic("left", StringSerde, StringSerde);
    let r = driver.create_input_topic("right", StringSerde, StringSerde);
    l.pipe_input_at("l".into(), "1".into(), 10).expect("pipe");
    r.pipe_input_at("r".into(), "2".into(), 5).expect("pipe");
    l.pipe_input_at("l".into(), "3".into(), 20).expect("pipe");
    assert_eq!(
        driver
            .create_output_topic("merged", StringSerde, StringSerde)
            .read_records_to_list()
            .expect("decode"),
        records(&[
            ("l".to_string(), "1".to_string(), 10),
            ("r".into(), "2".into(), 5),
            ("l".into(), "3".into(), 20)
        ])
    );
}

/// Successor lists are printed in the order of Kafka's `TreeSet`s, filled
/// while sub-graph sizes still grow: the filter goes in last, compared with
/// the tree's root (the first key selection, then as large as it), and
/// lands before both key selections although the second has grown larger
/// by then.
#[test]
fn describe_orders_successors_as_kafkas_tree_sets_do() {
    let builder = StreamsBuilder::new();
    let input = builder.stream::<String, String>("in");
    input.filter(|_, _| true);
    input.select_key(|k, _| k.clone());
    input.select_key(|k, _| k.clone()).to("out");
    let expected = "\
Topologies:
   Sub-topology: 0
    Source: KSTREAM-SOURCE-0000000000 (topics: [in])
      --> KSTREAM-FILTER-0000000001, KSTREAM-KEY-SELECT-0000000002, KSTREAM-KEY-SELECT-0000000003
    Processor: KSTREAM-KEY-SELECT-0000000003 (stores: [])
      --> KSTREAM-SINK-0000000004
      <-- KSTREAM-SOURCE-0000000000
    Processor: KSTREAM-FILTER-0000000001 (stores: [])
      --> none
      <-- KSTREAM-SOURCE-0000000000
    Processor: KSTREAM-KEY-SELECT-0000000002 (stores: [])
      --> none
      <-- KSTREAM-SOURCE-0000000000
    Sink: KSTREAM-SINK-0000000004 (topic: out)
      <-- KSTREAM-KEY-SELECT-0000000003

";
    assert_eq!(
        builder.build().expect("valid").describe().to_string(),
        expected
    );
}

/// Kafka's `mergeDuplicateSourceNodes`: streams of the same topics share
/// one source node (the second still uses up its index), and each record
/// reaches both.
#[test]
fn streams_of_the_same_topic_share_one_source_node() {
    let builder = StreamsBuilder::new();
    builder.stream::<String, String>("t").to("a");
    builder.stream::<String, String>("t").to("b");
    let topology = builder.build().expect("valid");
    let expected = "\
Topologies:
   Sub-topology: 0
    Source: KSTREAM-SOURCE-0000000000 (topics: [t])
      --> KSTREAM-SINK-0000000001, KSTREAM-SINK-0000000003
    Sink: KSTREAM-SINK-0000000001 (topic: a)
      <-- KSTREAM-SOURCE-0000000000
    Sink: KSTREAM-SINK-0000000003 (topic: b)
      <-- KSTREAM-SOURCE-0000000000

";
    assert_eq!(topology.describe().to_string(), expected);
    let driver = TopologyTestDriver::new(&topology).expect("driver");
    let input = driver.create_input_topic("t", StringSerde, StringSerde);
    input
        .pipe_input_at("k".into(), "v".into(), 3)
        .expect("pipe");
    for topic in ["a", "b"] {
        let output = driver.create_output_topic(topic, StringSerde, StringSerde);
        assert_eq!(
            output.read_records_to_list().expect("decode"),
            records(&[("k".to_string(), "v".to_string(), 3)])
        );
    }

    // A shared source keeps the first stream's offset reset policy; a
    // later stream may not ask for another one.
    let builder = StreamsBuilder::new();
    let earliest = Consumed::<String, String>::default().with_offset_reset(OffsetReset::Earliest);
    let latest = Consumed::<String, String>::default().with_offset_reset(OffsetReset::Latest);
    builder.stream_with(&["t"], earliest).to("a");
    builder.stream_with(&["t"], latest).to("b");
    assert!(matches!(
        builder.build(),
        Err(TopologyError::ConflictingOffsetReset { .. })
    ));
    // Nor may a later stream ask for one where the first asked for none
    // (Kafka's `StreamSourceNode.merge` checks both ways).
    let builder = StreamsBuilder::new();
    let earliest = Consumed::<String, String>::default().with_offset_reset(OffsetReset::Earliest);
    builder.stream::<String, String>("t").to("a");
    builder.stream_with(&["t"], earliest).to("b");
    assert!(matches!(
        builder.build(),
        Err(TopologyError::ConflictingOffsetReset { .. })
    ));
}

/// A stream merged with itself is read once: each record comes out once
/// (Kafka's graph keeps a set of parents).
#[test]
fn a_stream_merged_with_itself_forwards_each_record_once() {
    let builder = StreamsBuilder::new();
    let stream = builder.stream::<String, String>("in");
    stream.merge(&stream).to("out");
    let driver = TopologyTestDriver::new(&builder.build().expect("valid")).expect("driver");
    let input = driver.create_input_topic("in", StringSerde, StringSerde);
    input
        .pipe_input_at("k".into(), "v".into(), 1)
        .expect("pipe");
    let output = driver.create_output_topic("out", StringSerde, StringSerde);
    assert_eq!(
        output.read_records_to_list().expect("decode"),
        records(&[("k".to_string(), "v".to_string(), 1)])
    );
}

/// Repartition topics are read back with the timestamps they were written
/// with, whatever the default extractor (Kafka's repartition sources use
/// `FailOnInvalidTimestamp`); a name ending in `-repartition` is the
/// topic's whole name.
#[test]
fn repartition_topics_keep_record_timestamps_and_suffixed_names() {
    /// The record's timestamp, one second later.
    struct OneSecondLater;
    impl TimestampExtractor for OneSecondLater {
        fn extract(&self, record: &ConsumerRecord, _: i64) -> Result<i64, StreamsError> {
            Ok(record.timestamp + 1_000)
        }
    }
    let builder = StreamsBuilder::new();
    builder
        .stream::<String, String>("in")
        .select_key(|_, v| v.clone())
        .repartition_with(Repartitioned::default().with_name("by-value-repartition"))
        .to("out");
    let topology = builder.build().expect("valid");
    assert!(topology.internal_topics().contains("by-value-repartition"));
    let config = TestDriverConfig {
        default_timestamp_extractor: Some(Arc::new(OneSecondLater)),
        ..TestDriverConfig::default()
    };
    let driver = TopologyTestDriver::with_config(&topology, config).expect("driver");
    let input = driver.create_input_topic("in", StringSerde, StringSerde);
    input
        .pipe_input_at("k".into(), "v".into(), 5)
        .expect("pipe");
    let output = driver.create_output_topic("out", StringSerde, StringSerde);
    assert_eq!(
        output.read_records_to_list().expect("decode"),
        records(&[("v".to_string(), "v".to_string(), 1_005)])
    );
}

/// Names given in `Produced`, `Consumed`, `Printed` and `Grouped` must be
/// legal, as Kafka's `NamedInternal` checks them: the build fails.
#[test]
fn illegal_names_in_configuration_objects_fail_the_build() {
    let builder = StreamsBuilder::new();
    builder
        .stream::<String, String>("in")
        .to_with("out", Produced::default().with_name("my sink"));
    assert!(matches!(
        builder.build(),
        Err(TopologyError::IllegalName(reason)) if reason.contains("my sink")
    ));
    let builder = StreamsBuilder::new();
    builder
        .stream_with(
            &["in"],
            Consumed::<String, String>::default().with_name(".."),
        )
        .to("out");
    assert!(matches!(
        builder.build(),
        Err(TopologyError::IllegalName(_))
    ));
    // A store name, as Kafka's `Materialized.as` checks it.
    let builder = StreamsBuilder::new();
    builder
        .stream::<String, String>("in")
        .to_table_with(Materialized::named("my store"));
    assert!(matches!(
        builder.build(),
        Err(TopologyError::IllegalName(reason)) if reason.contains("my store")
    ));
}

/// A processor is not connected to a global store: every processor reads
/// global stores unconnected, and Kafka refuses the connection.
#[test]
fn a_global_store_passed_to_a_processor_fails_the_build() {
    struct Passing;
    impl Processor<String, String, String, String> for Passing {
        fn process(
            &mut self,
            ctx: &mut ProcessorContext<'_, String, String>,
            record: Record<String, String>,
        ) -> Result<(), StreamsError> {
            ctx.forward(record)
        }
    }
    let builder = StreamsBuilder::new();
    builder.global_table_with(
        "g",
        Consumed::<String, String>::default(),
        Materialized::named("gstore"),
    );
    builder
        .stream::<String, String>("in")
        .process(|| Passing, &["gstore"])
        .to("out");
    assert!(matches!(
        builder.build(),
        Err(TopologyError::GlobalStoreConnected { store, .. }) if store == "gstore"
    ));
}

/// Every key and value written to `topic`, as bytes.
fn raw_output(driver: &TopologyTestDriver, topic: &str) -> Vec<(Vec<u8>, Vec<u8>)> {
    driver
        .create_output_topic(topic, BytesSerde, BytesSerde)
        .read_key_values_to_list()
        .expect("read")
}

/// As Kafka's `KStreamImpl`, a stream keeps the serdes it was read with
/// through operators that keep the types (`filter` both, `map_values` the
/// key's, `select_key` the value's), and `to` writes with them; operators
/// that make new types fall back to the defaults. Values here are read as
/// JSON, whose default serde would be 8 binary bytes.
#[test]
fn streams_keep_their_serdes_through_operators_that_keep_the_types() {
    let builder = StreamsBuilder::new();
    let json = || Arc::new(JsonSerde::<i64>::new()) as SharedSerde<i64>;
    let numbers = builder.stream_with(&["in"], Consumed::with(Arc::new(StringSerde), json()));
    numbers.filter(|_, n| *n > 0).to("filtered");
    numbers.select_key(|k, _| k.len() as i64).to("rekeyed");
    numbers.map_values(|n| n * 2).to("doubled");
    let driver = TopologyTestDriver::new(&builder.build().expect("valid")).expect("driver");
    let input = driver.create_input_topic("in", StringSerde, JsonSerde::<i64>::new());
    input.pipe_input_at("ab".into(), 7, 1).expect("pipe");
    let raw = |topic: &str| raw_output(&driver, topic);
    assert_eq!(raw("filtered"), [(b"ab".to_vec(), b"7".to_vec())]);
    assert_eq!(
        raw("rekeyed"),
        [(2_i64.to_be_bytes().to_vec(), b"7".to_vec())]
    );
    assert_eq!(
        raw("doubled"),
        [(b"ab".to_vec(), 14_i64.to_be_bytes().to_vec())]
    );

    // A table's changelog stream keeps the table's serdes (a deletion is
    // a null value).
    let builder = StreamsBuilder::new();
    builder
        .table_with(
            "rows",
            Consumed::with(Arc::new(StringSerde), json()),
            Materialized::with(Arc::new(StringSerde), json()),
        )
        .to_stream()
        .to("changes");
    let driver = TopologyTestDriver::new(&builder.build().expect("valid")).expect("driver");
    let rows = driver.create_input_topic("rows", StringSerde, JsonSerde::<i64>::new());
    rows.pipe_input_at("k".into(), 5, 1).expect("pipe");
    let changes = driver.create_output_topic("changes", StringSerde, BytesSerde);
    assert_eq!(
        changes.read_key_values_to_list().expect("read"),
        [("k".to_owned(), b"5".to_vec())]
    );
}

/// As Kafka's `KTableImpl`, a table's `map_values` and its joins keep the
/// table's key serde when they are not materialized (their values have a
/// new type, whose serde falls back to the default): keys read as JSON
/// are written as JSON.
#[test]
fn tables_keep_their_key_serde_through_map_values_and_joins() {
    let builder = StreamsBuilder::new();
    let key = || Arc::new(JsonSerde::<String>::new()) as SharedSerde<String>;
    let value = || Arc::new(JsonSerde::<i64>::new()) as SharedSerde<i64>;
    let rows = builder.table_with(
        "rows",
        Consumed::with(key(), value()),
        Materialized::with(key(), value()),
    );
    let others = builder.table_with(
        "others",
        Consumed::with(key(), value()),
        Materialized::with(key(), value()),
    );
    rows.map_values(|n| n * 2).to_stream().to("doubled");
    rows.join(&others, |a, b| a + b).to_stream().to("sums");
    let driver = TopologyTestDriver::new(&builder.build().expect("valid")).expect("driver");
    let input = |topic: &str| {
        driver.create_input_topic(topic, JsonSerde::<String>::new(), JsonSerde::<i64>::new())
    };
    input("rows")
        .pipe_input_at("ab".into(), 7, 1)
        .expect("pipe");
    input("others")
        .pipe_input_at("ab".into(), 1, 2)
        .expect("pipe");
    let raw = |topic: &str| raw_output(&driver, topic);
    let json_key = b"\"ab\"".to_vec();
    assert_eq!(
        raw("doubled"),
        [(json_key.clone(), 14_i64.to_be_bytes().to_vec())]
    );
    assert_eq!(raw("sums"), [(json_key, 8_i64.to_be_bytes().to_vec())]);
}

/// A `Materialized` that only names its store takes the serdes Kafka fills
/// in: the input's key serde, the input's value serde where the values
/// keep their type (`reduce`, `filter`, `to_table`), and the default of
/// the value type otherwise (a count's `i64`s, `map_values`' results). The
/// stores and the results are written with those serdes: here keys and
/// values read as JSON stay JSON.
#[test]
fn a_store_named_without_serdes_takes_its_inputs_serdes() {
    let builder = StreamsBuilder::new();
    let key = Arc::new(JsonSerde::<String>::new()) as SharedSerde<String>;
    let value = Arc::new(JsonSerde::<i64>::new()) as SharedSerde<i64>;
    let numbers = builder.stream_with(&["in"], Consumed::with(key, value));
    let grouped = numbers.group_by_key();
    grouped
        .reduce_with(|a, b| a + b, Materialized::named("sums"))
        .to_stream()
        .to("sums");
    grouped
        .count_with(Materialized::named("counts"))
        .to_stream()
        .to("counts");
    let windows = TimeWindows::of_size_with_no_grace(Duration::from_secs(10)).expect("valid");
    grouped
        .windowed_by(windows)
        .reduce_with(|a, b| a + b, Materialized::named("windowed-sums"));
    let latest = numbers.to_table_with(Materialized::named("latest"));
    latest
        .filter_with(|_, n| *n > 0, Materialized::named("positive"))
        .to_stream()
        .to("positive");
    latest
        .map_values_with(|n| n * 2, Materialized::named("doubled"))
        .to_stream()
        .to("doubled");
    // A table's grouping names its serdes; its reduction's store takes both.
    let json_key = Arc::new(JsonSerde::<String>::new()) as SharedSerde<String>;
    let json_value = Arc::new(JsonSerde::<i64>::new()) as SharedSerde<i64>;
    latest
        .group_by_with(
            |key, n| (key.clone(), *n),
            Grouped::with(json_key, json_value),
        )
        .reduce_with(
            |a, b| a + b,
            |a, b| a - b,
            Materialized::named("table-sums"),
        )
        .to_stream()
        .to("table-sums");
    let driver = TopologyTestDriver::new(&builder.build().expect("valid")).expect("driver");
    let input =
        driver.create_input_topic("in", JsonSerde::<String>::new(), JsonSerde::<i64>::new());
    input.pipe_input_at("ab".into(), 7, 1).expect("pipe");
    let raw = |topic: &str| raw_output(&driver, topic);
    let json_key = b"\"ab\"".to_vec();
    // The windowed store's changelog: the key, the window start and a
    // sequence number; the value.
    let window_key = [
        json_key.as_slice(),
        &0_i64.to_be_bytes(),
        &0_u32.to_be_bytes(),
    ]
    .concat();
    assert_eq!(
        raw("test-driver-application-windowed-sums-changelog"),
        [(window_key, b"7".to_vec())]
    );
    assert_eq!(raw("sums"), [(json_key.clone(), b"7".to_vec())]);
    assert_eq!(
        raw("counts"),
        [(json_key.clone(), 1_i64.to_be_bytes().to_vec())]
    );
    assert_eq!(raw("positive"), [(json_key.clone(), b"7".to_vec())]);
    assert_eq!(raw("table-sums"), [(json_key.clone(), b"7".to_vec())]);
    assert_eq!(raw("doubled"), [(json_key, 14_i64.to_be_bytes().to_vec())]);
}

#[test]
fn generated_names_follow_kafka_streams() {
    let builder = StreamsBuilder::new();
    builder
        .stream::<String, String>("input")
        .filter(|_, _| true)
        .map_values(|v| v)
        .to("out");
    let description = builder.build().expect("valid").describe().to_string();
    let expected = "\
Topologies:
   Sub-topology: 0
    Source: KSTREAM-SOURCE-0000000000 (topics: [input])
      --> KSTREAM-FILTER-0000000001
    Processor: KSTREAM-FILTER-0000000001 (stores: [])
      --> KSTREAM-MAPVALUES-0000000002
      <-- KSTREAM-SOURCE-0000000000
    Processor: KSTREAM-MAPVALUES-0000000002 (stores: [])
      --> KSTREAM-SINK-0000000003
      <-- KSTREAM-FILTER-0000000001
    Sink: KSTREAM-SINK-0000000003 (topic: out)
      <-- KSTREAM-MAPVALUES-0000000002

";
    assert_eq!(description, expected);
}
