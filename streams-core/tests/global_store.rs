//! Global stores: their own node group, described as Kafka Streams does,
//! fed by the test driver like any topic and readable by every processor.

use streams_core::prelude::*;
use streams_core::state::{KeyValueStore, Stores};

/// Keeps the global store up to date: the latest value per key.
struct Update;

impl Processor<String, String, String, String> for Update {
    fn process(
        &mut self,
        ctx: &mut ProcessorContext<'_, String, String>,
        record: Record<String, String>,
    ) -> Result<(), StreamsError> {
        let store: KeyValueStore<String, String> = ctx.state_store("global-store")?;
        store.put(&record.key, &record.value)
    }
}

/// Looks each record's value up in the global store, which it was never
/// connected to, and forwards what it found with the task's stream time.
struct Lookup;

impl Processor<String, String, String, String> for Lookup {
    fn process(
        &mut self,
        ctx: &mut ProcessorContext<'_, String, String>,
        record: Record<String, String>,
    ) -> Result<(), StreamsError> {
        let store: KeyValueStore<String, String> = ctx.state_store("global-store")?;
        let found = store.get(&record.value)?.unwrap_or_else(|| "?".to_owned());
        let stream_time = ctx.current_stream_time_ms();
        ctx.forward(record.with_value(format!("{found}@{stream_time}")))
    }
}

fn strings() -> SourceOptions<String, String> {
    SourceOptions::new(StringSerde, StringSerde)
}

fn topology() -> Result<Topology, TopologyError> {
    TopologyBuilder::new()
        .add_source("events", &["events"], strings())
        .add_processor("lookup", || Lookup, &["events"])
        .add_sink(
            "out",
            "enriched",
            SinkOptions::new(StringSerde, StringSerde),
            &["lookup"],
        )
        .add_global_store(
            Stores::key_value_store_builder::<String, String>("global-store")
                .in_memory()
                .with_logging_disabled(),
            "global-source",
            "reference",
            strings(),
            "global-update",
            || Update,
        )
        .build()
}

/// Kafka's `GlobalStore.toString`: its own id, no blank line after it.
#[test]
fn describe_prints_the_global_store_as_kafka_streams() {
    let expected = "\
Topologies:
   Sub-topology: 0
    Source: events (topics: [events])
      --> lookup
    Processor: lookup (stores: [])
      --> out
      <-- events
    Sink: out (topic: enriched)
      <-- lookup

  Sub-topology: 1 for global store (will not generate tasks)
    Source: global-source (topics: [reference])
      --> global-update
    Processor: global-update (stores: [global-store])
      --> none
      <-- global-source
";
    let topology = topology().expect("valid");
    assert_eq!(topology.describe().to_string(), expected);
    assert!(topology.changelog_topics("app").is_empty());
}

#[test]
fn the_driver_feeds_the_global_store_and_every_processor_reads_it() {
    let topology = topology().expect("valid");
    let driver = TopologyTestDriver::new(&topology).expect("driver");
    let reference = driver.create_input_topic("reference", StringSerde, StringSerde);
    let events = driver.create_input_topic("events", StringSerde, StringSerde);
    let enriched = driver.create_output_topic("enriched", StringSerde, StringSerde);
    reference
        .pipe_input_at("k1".into(), "one".into(), 1)
        .expect("pipe");
    events
        .pipe_input_at("a".into(), "k1".into(), 2)
        .expect("pipe");
    events
        .pipe_input_at("b".into(), "k2".into(), 3)
        .expect("pipe");
    assert_eq!(
        enriched.read_records_to_list().expect("decode"),
        vec![
            TestRecord::new("a".to_owned(), "one@2".to_owned(), 2),
            TestRecord::new("b".to_owned(), "?@3".to_owned(), 3),
        ]
    );
    let store: KeyValueStore<String, String> = driver.state_store("global-store").expect("store");
    assert_eq!(
        store.get(&"k1".to_owned()).expect("get"),
        Some("one".into())
    );
}

/// As in Kafka's test driver, whose global task skips what it cannot
/// read whatever the configuration says, an unreadable record of a global
/// store's topic is counted as dropped and skipped, while one of a stream's
/// topic still fails by default.
#[test]
fn the_driver_skips_unreadable_global_records() {
    let topology = topology().expect("valid");
    let driver = TopologyTestDriver::new(&topology).expect("driver");
    let not_utf8 = vec![0xff, 0xfe];
    let raw = |topic: &str| driver.create_input_topic(topic, StringSerde, BytesSerde);
    raw("reference")
        .pipe_input_at("k1".into(), not_utf8.clone(), 1)
        .expect("skipped");
    assert_eq!(driver.metrics().dropped_records, 1);
    let store: KeyValueStore<String, String> = driver.state_store("global-store").expect("store");
    assert_eq!(store.get(&"k1".to_owned()).expect("get"), None);
    assert!(matches!(
        raw("events").pipe_input_at("a".into(), not_utf8, 2),
        Err(StreamsError::Serde { .. })
    ));
}

/// Global records never move the task's stream time: Kafka applies them
/// in a task of their own.
#[test]
fn global_records_leave_stream_time_alone() {
    let driver = TopologyTestDriver::new(&topology().expect("valid")).expect("driver");
    let reference = driver.create_input_topic("reference", StringSerde, StringSerde);
    let events = driver.create_input_topic("events", StringSerde, StringSerde);
    reference
        .pipe_input_at("k1".into(), "one".into(), 1_000)
        .expect("pipe");
    events
        .pipe_input_at("a".into(), "k1".into(), 5)
        .expect("pipe");
    let enriched = driver.create_output_topic("enriched", StringSerde, StringSerde);
    assert_eq!(enriched.read_values_to_list().expect("decode"), ["one@5"]);
}

#[test]
fn global_stores_must_not_log_nor_have_children() {
    let err = TopologyBuilder::new()
        .add_global_store(
            Stores::key_value_store_builder::<String, String>("logged").in_memory(),
            "src",
            "t",
            strings(),
            "update",
            || Update,
        )
        .build()
        .err();
    assert_eq!(
        err,
        Some(TopologyError::GlobalStoreLogging("logged".into()))
    );

    let err = TopologyBuilder::new()
        .add_global_store(
            Stores::key_value_store_builder::<String, String>("global-store")
                .in_memory()
                .with_logging_disabled(),
            "src",
            "t",
            strings(),
            "update",
            || Update,
        )
        .add_sink(
            "out",
            "o",
            SinkOptions::new(StringSerde, StringSerde),
            &["update"],
        )
        .build()
        .err();
    assert_eq!(
        err,
        Some(TopologyError::GlobalStoreChild {
            node: "out".into(),
            parent: "update".into()
        })
    );
}

/// A global record is applied as it arrives, as Kafka's global thread
/// applies it, not queued in the task's timestamp order: an event queued
/// before it, with an earlier timestamp, is processed after it and finds
/// its row.
#[test]
fn global_records_are_applied_as_they_arrive() -> Result<(), StreamsError> {
    use std::rc::Rc;
    use streams_core::engine::{MockClock, StreamTask, TaskConfig};
    use streams_core::record::{ConsumerRecord, Headers, ProducerRecord, TopicName};

    let record = |topic: &str, key: &str, value: &str, timestamp| ConsumerRecord {
        topic: TopicName::new(topic),
        partition: 0,
        offset: 0,
        timestamp,
        key: Some(key.as_bytes().to_vec()),
        value: Some(value.as_bytes().to_vec()),
        headers: Headers::new(),
    };
    let config = TaskConfig::new("app", Rc::new(MockClock::new(0)));
    let mut task = StreamTask::new(&topology()?, config)?;
    task.add_records([record("events", "a", "k1", 10)])?;
    task.add_records([record("reference", "k1", "one", 100)])?;
    while task.process()? {}
    let mut output: Vec<ProducerRecord> = Vec::new();
    task.take_output(&mut output);
    let values: Vec<_> = output.iter().map(|r| r.value.clone()).collect();
    assert_eq!(values, [Some(b"one@10".to_vec())]);
    Ok(())
}

/// A task of one sub-topology (as a runtime makes them) runs the global
/// store's group too: it takes the store's records and its processors read
/// the store.
#[test]
fn a_task_of_one_sub_topology_runs_the_global_stores_too() -> Result<(), StreamsError> {
    use std::rc::Rc;
    use streams_core::engine::{MockClock, StreamTask, TaskConfig};
    use streams_core::record::{ConsumerRecord, Headers, TopicName};

    let topology = topology()?;
    let mut config = TaskConfig::new("app", Rc::new(MockClock::new(0)));
    config.subtopologies = vec![0];
    config.partition = 3;
    let mut task = StreamTask::new(&topology, config)?;
    assert_eq!(task.id(), "0_3");
    let record = |topic: &str, key: &str, value: &str, timestamp| ConsumerRecord {
        topic: TopicName::new(topic),
        partition: 3,
        offset: 0,
        timestamp,
        key: Some(key.as_bytes().to_vec()),
        value: Some(value.as_bytes().to_vec()),
        headers: Headers::new(),
    };
    task.add_records([
        record("reference", "k1", "one", 1),
        record("events", "a", "k1", 2),
    ])?;
    while task.process()? {}
    let mut output = Vec::new();
    task.take_output(&mut output);
    let values: Vec<Option<Vec<u8>>> = output.into_iter().map(|record| record.value).collect();
    assert_eq!(values, [Some(b"one@2".to_vec())]);
    Ok(())
}
