//! Topology validation and `describe()` against Kafka Streams' text.

use streams_core::prelude::*;

/// Forwards every record unchanged.
struct PassThrough;

impl<K: Clone + 'static, V: Clone + 'static> Processor<K, V, K, V> for PassThrough {
    fn process(
        &mut self,
        ctx: &mut ProcessorContext<'_, K, V>,
        record: Record<K, V>,
    ) -> Result<(), StreamsError> {
        ctx.forward(record)
    }
}

fn strings() -> SourceOptions<String, String> {
    SourceOptions::new(StringSerde, StringSerde)
}

fn string_sink() -> SinkOptions<String, String> {
    SinkOptions::new(StringSerde, StringSerde)
}

fn pass() -> impl Fn() -> PassThrough + Send + Sync + 'static {
    || PassThrough
}

#[test]
fn duplicate_names_are_rejected() {
    let err = TopologyBuilder::new()
        .add_source("a", &["t1"], strings())
        .add_source("a", &["t2"], strings())
        .build()
        .err();
    assert_eq!(err, Some(TopologyError::DuplicateNode("a".into())));
}

#[test]
fn unknown_parents_are_rejected() {
    let err = TopologyBuilder::new()
        .add_source("src", &["in"], strings())
        .add_processor::<String, String, String, String, _>("p", pass(), &["nope"])
        .build()
        .err();
    assert_eq!(
        err,
        Some(TopologyError::UnknownParent {
            node: "p".into(),
            parent: "nope".into()
        })
    );
}

#[test]
fn sinks_cannot_be_parents() {
    let err = TopologyBuilder::new()
        .add_source("src", &["in"], strings())
        .add_sink("sink", "out", string_sink(), &["src"])
        .add_processor::<String, String, String, String, _>("p", pass(), &["sink"])
        .build()
        .err();
    assert_eq!(
        err,
        Some(TopologyError::SinkAsParent {
            node: "p".into(),
            parent: "sink".into()
        })
    );
}

#[test]
fn cycles_are_rejected() {
    let err = TopologyBuilder::new()
        .add_source("src", &["in"], strings())
        .add_processor::<String, String, String, String, _>("a", pass(), &["src", "b"])
        .add_processor::<String, String, String, String, _>("b", pass(), &["a"])
        .build()
        .err();
    assert!(matches!(err, Some(TopologyError::Cycle(_))), "{err:?}");
}

#[test]
fn record_types_must_match_between_parent_and_child() {
    let err = TopologyBuilder::new()
        .add_source("src", &["in"], SourceOptions::new(StringSerde, I64Serde))
        .add_processor::<String, String, String, String, _>("p", pass(), &["src"])
        .build()
        .err();
    assert!(
        matches!(&err, Some(TopologyError::TypeMismatch { parent, child, .. }) if parent == "src" && child == "p"),
        "{err:?}"
    );
}

#[test]
fn the_same_topic_cannot_feed_two_sources() {
    let err = TopologyBuilder::new()
        .add_source("a", &["t"], strings())
        .add_source("b", &["t"], strings())
        .build()
        .err();
    assert_eq!(
        err,
        Some(TopologyError::TopicAlreadyRead {
            topic: "t".into(),
            source_node: "a".into()
        })
    );
}

#[test]
fn processors_need_a_parent_and_sources_a_topic() {
    let err = TopologyBuilder::new()
        .add_source("src", &[], strings())
        .build()
        .err();
    assert_eq!(err, Some(TopologyError::NoTopics("src".into())));
    assert_eq!(
        TopologyBuilder::new().build().err(),
        Some(TopologyError::Empty)
    );
}

/// The word-count topology of Kafka Streams' tutorial, rebuilt node for node
/// with the Processor API, must describe itself with the tutorial's text.
#[test]
fn describe_matches_kafka_streams_word_count() {
    let topology = TopologyBuilder::new()
        .add_source(
            "KSTREAM-SOURCE-0000000000",
            &["streams-plaintext-input"],
            strings(),
        )
        .add_processor::<String, String, String, String, _>(
            "KSTREAM-FLATMAPVALUES-0000000001",
            pass(),
            &["KSTREAM-SOURCE-0000000000"],
        )
        .add_processor::<String, String, String, String, _>(
            "KSTREAM-KEY-SELECT-0000000002",
            pass(),
            &["KSTREAM-FLATMAPVALUES-0000000001"],
        )
        .add_processor::<String, String, String, String, _>(
            "counts-store-repartition-filter",
            pass(),
            &["KSTREAM-KEY-SELECT-0000000002"],
        )
        .add_sink(
            "counts-store-repartition-sink",
            "counts-store-repartition",
            string_sink(),
            &["counts-store-repartition-filter"],
        )
        .add_source(
            "counts-store-repartition-source",
            &["counts-store-repartition"],
            strings(),
        )
        .add_processor::<String, String, String, String, _>(
            "KSTREAM-AGGREGATE-0000000003",
            pass(),
            &["counts-store-repartition-source"],
        )
        .add_processor::<String, String, String, String, _>(
            "KTABLE-TOSTREAM-0000000007",
            pass(),
            &["KSTREAM-AGGREGATE-0000000003"],
        )
        .add_sink(
            "KSTREAM-SINK-0000000008",
            "streams-wordcount-output",
            string_sink(),
            &["KTABLE-TOSTREAM-0000000007"],
        )
        .add_state_store(
            streams_core::state::Stores::key_value_store_builder::<String, i64>("counts-store")
                .in_memory(),
            &["KSTREAM-AGGREGATE-0000000003"],
        )
        .build()
        .expect("valid topology");
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
    assert_eq!(topology.describe().to_string(), expected);
    assert_eq!(topology.subtopology_count(), 2);
}

/// Branches print the larger sub-graph first, then by name.
#[test]
fn describe_orders_branches_by_size_then_name() {
    let topology = TopologyBuilder::new()
        .add_source("source", &["in"], strings())
        .add_processor::<String, String, String, String, _>("b-short", pass(), &["source"])
        .add_processor::<String, String, String, String, _>("a-long", pass(), &["source"])
        .add_processor::<String, String, String, String, _>("a-long-2", pass(), &["a-long"])
        .add_sink("sink-a", "out-a", string_sink(), &["a-long-2"])
        .add_sink("sink-b", "out-b", string_sink(), &["b-short"])
        .build()
        .expect("valid topology");
    let expected = "\
Topologies:
   Sub-topology: 0
    Source: source (topics: [in])
      --> a-long, b-short
    Processor: a-long (stores: [])
      --> a-long-2
      <-- source
    Processor: a-long-2 (stores: [])
      --> sink-a
      <-- a-long
    Processor: b-short (stores: [])
      --> sink-b
      <-- source
    Sink: sink-a (topic: out-a)
      <-- a-long-2
    Sink: sink-b (topic: out-b)
      <-- b-short

";
    assert_eq!(topology.describe().to_string(), expected);
}

#[test]
fn stores_no_processor_uses_are_left_out_and_named_stores_must_exist() {
    use streams_core::state::Stores;
    // As in Kafka: an unused store belongs to no task and has no changelog.
    let topology = TopologyBuilder::new()
        .add_source("src", &["in"], strings())
        .add_processor::<String, String, String, String, _>("p", pass(), &["src"])
        .add_state_store(
            Stores::key_value_store_builder::<String, i64>("orphan").in_memory(),
            &[],
        )
        .build()
        .expect("valid");
    assert!(topology.store_names().is_empty());
    assert!(topology.changelog_topics("app").is_empty());

    let err = TopologyBuilder::new()
        .add_source("src", &["in"], strings())
        .add_processor::<String, String, String, String, _>("p", pass(), &["src"])
        .connect_processor_and_stores("p", &["missing"])
        .build()
        .err();
    assert_eq!(
        err,
        Some(TopologyError::UnknownStore {
            processor: "p".into(),
            store: "missing".into()
        })
    );
}

/// A partitioner needs the topic's partition count; when the task cannot
/// tell it (a topic that does not exist), the sink fails the record with a
/// typed error instead of partitioning as if there were one partition.
#[test]
fn a_partitioner_for_a_topic_of_unknown_size_fails_the_record() -> Result<(), StreamsError> {
    use std::rc::Rc;
    use streams_core::engine::{MockClock, StreamTask, TaskConfig};
    use streams_core::record::{ConsumerRecord, TopicName};

    let topology = TopologyBuilder::new()
        .add_source("source", &["in"], strings())
        .add_sink(
            "sink",
            "out",
            string_sink().partitioner(|_: &str, _: &String, _: &String, partitions: i32| {
                Some(partitions - 1)
            }),
            &["source"],
        )
        .build()?;
    let mut config = TaskConfig::new("app", Rc::new(MockClock::new(0)));
    config.partition_count = Box::new(|topic| (topic != "out").then_some(3));
    let mut task = StreamTask::new(&topology, config)?;
    task.add_records([ConsumerRecord {
        topic: TopicName::new("in"),
        partition: 0,
        offset: 0,
        timestamp: 1,
        key: Some(b"k".to_vec()),
        value: Some(b"v".to_vec()),
        headers: Headers::new(),
    }])?;
    let processed = task.process();
    assert!(
        matches!(
            &processed,
            Err(StreamsError::PartitionsUnknown { sink, topic }) if sink == "sink" && topic == "out"
        ),
        "{processed:?}"
    );
    let mut output = Vec::new();
    task.take_output(&mut output);
    assert!(output.is_empty(), "{output:?}");
    Ok(())
}

/// A task asked to run a sub-topology the topology lacks fails to start,
/// rather than running nothing.
#[test]
fn a_task_of_an_unknown_subtopology_fails_to_start() -> Result<(), StreamsError> {
    use std::rc::Rc;
    use streams_core::engine::{MockClock, StreamTask, TaskConfig};

    let topology = TopologyBuilder::new()
        .add_source("source", &["in"], strings())
        .add_sink("sink", "out", string_sink(), &["source"])
        .build()?;
    let mut config = TaskConfig::new("app", Rc::new(MockClock::new(0)));
    config.subtopologies = vec![0, 1];
    let started = StreamTask::new(&topology, config);
    assert!(
        matches!(
            &started,
            Err(StreamsError::Topology(TopologyError::UnknownSubtopology {
                id: 1,
                count: 1
            }))
        ),
        "{:?}",
        started.err()
    );
    Ok(())
}
