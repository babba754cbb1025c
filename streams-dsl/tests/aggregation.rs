//! Grouping and aggregation: count, reduce, aggregate, repartitioning, and
//! `describe()` of word count against Kafka Streams' text.

use streams_core::prelude::*;
use streams_dsl::{Grouped, Materialized, StreamsBuilder};

fn word_count(builder: &StreamsBuilder) {
    builder
        .stream::<(), String>("streams-plaintext-input")
        .flat_map_values(|line: String| {
            line.to_lowercase()
                .split(|c: char| !c.is_alphanumeric())
                .filter(|word| !word.is_empty())
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .group_by(|_, word| word.clone())
        .count_with(Materialized::named("counts-store"))
        .to_stream()
        .to("streams-wordcount-output");
}

/// The description in Kafka Streams' word-count tutorial, line for line.
#[test]
fn word_count_describes_as_kafka_streams() {
    let builder = StreamsBuilder::new();
    word_count(&builder);
    let expected = "\
Topologies:
   Sub-topology: 0
    Source: KSTREAM-SOURCE-0000000000 (topics: [streams-plaintext-input])
      --> KSTREAM-FLATMAPVALUES-0000000001
    Processor: KSTREAM-FLATMAPVALUES-0000000001 (stores: [])
      --> KSTREAM-KEY-SELECT-0000000002
      <-- KSTREAM-SOURCE-0000000000
    Processor: KSTREAM-KEY-SELECT-0000000002 (stores: [])
      --> counts-store-repartition-filter
      <-- KSTREAM-FLATMAPVALUES-0000000001
    Processor: counts-store-repartition-filter (stores: [])
      --> counts-store-repartition-sink
      <-- KSTREAM-KEY-SELECT-0000000002
    Sink: counts-store-repartition-sink (topic: counts-store-repartition)
      <-- counts-store-repartition-filter

  Sub-topology: 1
    Source: counts-store-repartition-source (topics: [counts-store-repartition])
      --> KSTREAM-AGGREGATE-0000000003
    Processor: KSTREAM-AGGREGATE-0000000003 (stores: [counts-store])
      --> KTABLE-TOSTREAM-0000000007
      <-- counts-store-repartition-source
    Processor: KTABLE-TOSTREAM-0000000007 (stores: [])
      --> KSTREAM-SINK-0000000008
      <-- KSTREAM-AGGREGATE-0000000003
    Sink: KSTREAM-SINK-0000000008 (topic: streams-wordcount-output)
      <-- KTABLE-TOSTREAM-0000000007

";
    assert_eq!(
        builder.build().expect("valid").describe().to_string(),
        expected
    );
}

#[test]
fn word_count_emits_every_update_with_its_timestamp() {
    let builder = StreamsBuilder::new();
    word_count(&builder);
    let topology = builder.build().expect("valid");
    let driver = TopologyTestDriver::new(&topology).expect("driver");
    let input = driver.create_input_topic("streams-plaintext-input", UnitSerde, StringSerde);
    input
        .pipe_value_at("Hello Kafka Streams".into(), 1_000)
        .expect("pipe");
    input
        .pipe_value_at("Kafka, hello!".into(), 500)
        .expect("pipe");
    let output = driver.create_output_topic("streams-wordcount-output", StringSerde, I64Serde);
    let expected = [
        ("hello", 1, 1_000),
        ("kafka", 1, 1_000),
        ("streams", 1, 1_000),
        // Out of order: the count keeps the largest contributing timestamp.
        ("kafka", 2, 1_000),
        ("hello", 2, 1_000),
    ]
    .map(|(k, v, ts)| TestRecord::new(k.to_string(), v, ts));
    assert_eq!(
        output.read_records_to_list().expect("decode"),
        expected.to_vec()
    );
    let produced = driver.produced_topic_names();
    assert!(
        produced.contains("test-driver-application-counts-store-repartition"),
        "{produced:?}"
    );
    assert!(
        produced.contains("test-driver-application-counts-store-changelog"),
        "{produced:?}"
    );
}

/// The count store logs as Kafka's timestamped stores: the plain count,
/// on a record stamped with the count's timestamp (the largest that
/// contributed, not the current record's); a restart puts that timestamp
/// back, so later out-of-order updates keep it.
#[test]
fn counts_are_logged_with_their_own_timestamps_and_restored_with_them() {
    let builder = StreamsBuilder::new();
    word_count(&builder);
    let topology = builder.build().expect("valid");
    let driver = TopologyTestDriver::new(&topology).expect("driver");
    let input = driver.create_input_topic("streams-plaintext-input", UnitSerde, StringSerde);
    input.pipe_value_at("kafka".into(), 1_000).expect("pipe");
    input.pipe_value_at("kafka".into(), 500).expect("pipe");
    let changelog = driver.create_output_topic(
        "test-driver-application-counts-store-changelog",
        StringSerde,
        BytesSerde,
    );
    let logged =
        |count: i64| TestRecord::new("kafka".to_owned(), count.to_be_bytes().to_vec(), 1_000);
    assert_eq!(
        changelog.read_records_to_list().expect("decode"),
        [logged(1), logged(2)]
    );

    driver.restart(&topology).expect("restart");
    input.pipe_value_at("kafka".into(), 200).expect("pipe");
    let output = driver.create_output_topic("streams-wordcount-output", StringSerde, I64Serde);
    let counts: Vec<_> = output.read_records_to_list().expect("decode");
    assert_eq!(
        counts.last(),
        Some(&TestRecord::new("kafka".to_owned(), 3, 1_000))
    );
}

#[test]
fn unnamed_aggregations_name_store_and_repartition_topic_by_index() {
    let builder = StreamsBuilder::new();
    builder
        .stream::<String, String>("in")
        .select_key(|_, v| v.clone())
        .group_by_key()
        .count()
        .to_stream()
        .to("out");
    let description = builder.build().expect("valid").describe().to_string();
    let expected = "\
Topologies:
   Sub-topology: 0
    Source: KSTREAM-SOURCE-0000000000 (topics: [in])
      --> KSTREAM-KEY-SELECT-0000000001
    Processor: KSTREAM-KEY-SELECT-0000000001 (stores: [])
      --> KSTREAM-FILTER-0000000005
      <-- KSTREAM-SOURCE-0000000000
    Processor: KSTREAM-FILTER-0000000005 (stores: [])
      --> KSTREAM-SINK-0000000004
      <-- KSTREAM-KEY-SELECT-0000000001
    Sink: KSTREAM-SINK-0000000004 (topic: KSTREAM-AGGREGATE-STATE-STORE-0000000002-repartition)
      <-- KSTREAM-FILTER-0000000005

  Sub-topology: 1
    Source: KSTREAM-SOURCE-0000000006 (topics: [KSTREAM-AGGREGATE-STATE-STORE-0000000002-repartition])
      --> KSTREAM-AGGREGATE-0000000003
    Processor: KSTREAM-AGGREGATE-0000000003 (stores: [KSTREAM-AGGREGATE-STATE-STORE-0000000002])
      --> KTABLE-TOSTREAM-0000000007
      <-- KSTREAM-SOURCE-0000000006
    Processor: KTABLE-TOSTREAM-0000000007 (stores: [])
      --> KSTREAM-SINK-0000000008
      <-- KSTREAM-AGGREGATE-0000000003
    Sink: KSTREAM-SINK-0000000008 (topic: out)
      <-- KTABLE-TOSTREAM-0000000007

";
    assert_eq!(description, expected);
}

#[test]
fn group_by_key_without_a_key_change_does_not_repartition() {
    let builder = StreamsBuilder::new();
    builder
        .stream::<String, String>("in")
        .map_values(|v| v)
        .group_by_key()
        .count()
        .to_stream()
        .to("out");
    let topology = builder.build().expect("valid");
    assert_eq!(topology.subtopology_count(), 1);
    assert!(topology.internal_topics().is_empty());
}

#[test]
fn reduce_and_aggregate_fold_values_per_key() {
    let builder = StreamsBuilder::new();
    let input = builder.stream::<String, i64>("in");
    input
        .group_by_key()
        .reduce(|a, b| a.max(b))
        .to_stream()
        .to("max");
    input
        .group_by_key_with(Grouped::default().with_name("by-key"))
        .aggregate(String::new, |_, v, agg: String| format!("{agg}{v},"))
        .to_stream()
        .to("joined");
    let topology = builder.build().expect("valid");
    let driver = TopologyTestDriver::new(&topology).expect("driver");
    let topic = driver.create_input_topic("in", StringSerde, I64Serde);
    for (k, v, ts) in [("a", 3, 10), ("b", 1, 20), ("a", 7, 5), ("a", 2, 30)] {
        topic.pipe_input_at(k.into(), v, ts).expect("pipe");
    }
    let max = driver.create_output_topic("max", StringSerde, I64Serde);
    assert_eq!(
        max.read_records_to_list().expect("max"),
        [("a", 3, 10), ("b", 1, 20), ("a", 7, 10), ("a", 7, 30)]
            .map(|(k, v, ts)| TestRecord::new(k.to_string(), v, ts))
            .to_vec()
    );
    let joined = driver.create_output_topic("joined", StringSerde, StringSerde);
    assert_eq!(
        joined.read_records_to_list().expect("joined"),
        [
            ("a", "3,", 10),
            ("b", "1,", 20),
            ("a", "3,7,", 10),
            ("a", "3,7,2,", 30)
        ]
        .map(|(k, v, ts)| TestRecord::new(k.to_string(), v.to_string(), ts))
        .to_vec()
    );
}

/// A grouping named by the user makes one repartition topic, read by
/// every aggregation of that grouped stream (Kafka's
/// `shouldNotFailWithSameRepartitionTopicNameUsingSameKGroupedStream`);
/// the aggregations of one windowed stream share it too.
#[test]
fn aggregations_of_a_named_grouping_share_its_repartition_topic() {
    let builder = StreamsBuilder::new();
    let grouped = builder
        .stream::<String, String>("in")
        .map(|key, value| (value.clone(), key.clone()))
        .group_by_key_with(Grouped::default().with_name("g"));
    grouped.count().to_stream().to("counts");
    grouped.reduce(|a, b| a + &b).to_stream().to("joined");
    let windowed = builder
        .stream::<String, String>("clicks")
        .select_key(|_, value| value.clone())
        .group_by_key_with(Grouped::default().with_name("w"))
        .windowed_by(
            streams_dsl::TimeWindows::of_size_with_no_grace(std::time::Duration::from_millis(10))
                .expect("windows"),
        );
    windowed.count();
    windowed.count();
    let topology = builder
        .build()
        .expect("one repartition topic per named grouping");
    let repartitions: Vec<String> = topology
        .internal_topic_configs("app")
        .iter()
        .map(|topic| topic.name().to_owned())
        .filter(|name| name.ends_with("-repartition"))
        .collect();
    assert_eq!(repartitions, ["app-g-repartition", "app-w-repartition"]);

    let driver = TopologyTestDriver::new(&topology).expect("driver");
    let input = driver.create_input_topic("in", StringSerde, StringSerde);
    for (key, value, ts) in [("x", "a", 10), ("y", "a", 20), ("z", "b", 5)] {
        input
            .pipe_input_at(key.to_owned(), value.to_owned(), ts)
            .expect("pipe");
    }
    let counts = driver.create_output_topic("counts", StringSerde, I64Serde);
    assert_eq!(
        counts.read_records_to_list().expect("counts"),
        [("a", 1, 10), ("a", 2, 20), ("b", 1, 5)]
            .map(|(k, v, ts)| TestRecord::new(k.to_owned(), v, ts))
            .to_vec()
    );
    let joined = driver.create_output_topic("joined", StringSerde, StringSerde);
    assert_eq!(
        joined.read_records_to_list().expect("joined"),
        [("a", "x", 10), ("a", "xy", 20), ("b", "z", 5)]
            .map(|(k, v, ts)| TestRecord::new(k.to_owned(), v.to_owned(), ts))
            .to_vec()
    );
}

/// The test driver hands out a plain view of a timestamped store, as
/// Kafka's `getKeyValueStore` and `getWindowStore` do: values read without
/// their timestamps, and writes and deletions through the view, which has
/// no timestamp to give, fail and change nothing. The timestamped handle
/// serves as before.
#[test]
fn timestamped_stores_read_through_plain_views() -> Result<(), StreamsError> {
    use std::time::Duration;
    use streams_core::state::{KeyValueStore, TimestampedKeyValueStore, WindowStore};
    use streams_dsl::TimeWindows;

    let builder = StreamsBuilder::new();
    let grouped = builder.stream::<String, String>("words").group_by_key();
    grouped.count_with(Materialized::named("counts"));
    let windows = TimeWindows::of_size_with_no_grace(Duration::from_millis(10)).expect("valid");
    grouped
        .windowed_by(windows)
        .count_with(Materialized::named("windowed-counts"));
    let driver = TopologyTestDriver::new(&builder.build()?)?;
    let words = driver.create_input_topic("words", StringSerde, StringSerde);
    words.pipe_input_at("a".into(), "x".into(), 5)?;
    words.pipe_input_at("a".into(), "y".into(), 7)?;

    let a = "a".to_owned();
    let read_only = |result: Result<(), StreamsError>| matches!(result, Err(StreamsError::ReadOnlyView(store)) if store.ends_with("counts"));
    let counts: KeyValueStore<String, i64> = driver.state_store("counts")?;
    assert_eq!(counts.get(&a)?, Some(2));
    assert!(read_only(counts.put(&a, &5)));
    assert!(read_only(counts.delete(&a).map(drop)));
    assert_eq!(counts.get(&a)?, Some(2), "nothing changed");
    let stamped: TimestampedKeyValueStore<String, i64> = driver.state_store("counts")?;
    let row = stamped
        .get(&"a".to_owned())?
        .map(|row| (row.value, row.timestamp));
    assert_eq!(row, Some((2, 7)));
    let windowed: WindowStore<String, i64> = driver.state_store("windowed-counts")?;
    assert_eq!(windowed.fetch(&a, 0, 100)?, vec![(0, 2)]);
    assert!(read_only(windowed.put(&a, &9, 0).map(drop)));
    assert_eq!(windowed.fetch(&a, 0, 100)?, vec![(0, 2)], "nothing changed");
    Ok(())
}

/// A named grouping's repartition topic read by a second aggregation is
/// numbered as Kafka Streams numbers it: Kafka adds the repartition node
/// to its graph again, so its nodes are written, and their sub-topology
/// numbered, after a stream defined between the two aggregations.
#[test]
fn describe_a_reused_named_grouping_as_kafka_streams() {
    let builder = StreamsBuilder::new();
    let grouped = builder
        .stream::<String, String>("in")
        .group_by_with(|_, v| v.clone(), Grouped::default().with_name("g"));
    grouped.count();
    builder.stream::<String, String>("other").to("o");
    grouped.count();
    let description = builder.build().expect("valid").describe().to_string();
    let expected = "\
Topologies:
   Sub-topology: 0
    Source: KSTREAM-SOURCE-0000000000 (topics: [in])
      --> g
    Processor: g (stores: [])
      --> g-repartition-filter
      <-- KSTREAM-SOURCE-0000000000
    Processor: g-repartition-filter (stores: [])
      --> g-repartition-sink
      <-- g
    Sink: g-repartition-sink (topic: g-repartition)
      <-- g-repartition-filter

  Sub-topology: 1
    Source: KSTREAM-SOURCE-0000000007 (topics: [other])
      --> KSTREAM-SINK-0000000008
    Sink: KSTREAM-SINK-0000000008 (topic: o)
      <-- KSTREAM-SOURCE-0000000007

  Sub-topology: 2
    Source: g-repartition-source (topics: [g-repartition])
      --> KSTREAM-AGGREGATE-0000000003, KSTREAM-AGGREGATE-0000000010
    Processor: KSTREAM-AGGREGATE-0000000003 (stores: [KSTREAM-AGGREGATE-STATE-STORE-0000000002])
      --> none
      <-- g-repartition-source
    Processor: KSTREAM-AGGREGATE-0000000010 (stores: [KSTREAM-AGGREGATE-STATE-STORE-0000000009])
      --> none
      <-- g-repartition-source

";
    assert_eq!(description, expected);
}

/// The same for a grouped table: Kafka's `KGroupedTableImpl` adds its
/// repartition node again, so a stream defined between two aggregations
/// of a named grouping gets the earlier sub-topology.
#[test]
fn a_reused_named_table_grouping_is_numbered_as_in_kafka_streams() {
    let builder = StreamsBuilder::new();
    let grouped = builder.table::<String, String>("in").group_by_with(
        |k, v| (v.clone(), k.clone()),
        Grouped::default().with_name("g"),
    );
    grouped.count();
    builder.stream::<String, String>("other").to("o");
    grouped.count();
    let description = builder.build().expect("valid").describe().to_string();
    let subtopology_of = |topics: &str| {
        let at = description.find(topics).expect("source described");
        description[..at].matches("Sub-topology").count() - 1
    };
    assert_eq!(subtopology_of("(topics: [other])"), 1, "{description}");
    assert_eq!(
        subtopology_of("(topics: [g-repartition])"),
        2,
        "{description}"
    );
}
