//! The test driver's own behaviour: topics, loop-back, errors.

use std::time::Duration;

use streams_core::prelude::*;
use streams_core::record::RecordMetadata;
use streams_core::test_driver::TestDriverConfig;
use streams_core::topology::DeserializationHandler;

/// Forwards each record with its input metadata as the value.
struct Describe;

impl Processor<String, String, String, String> for Describe {
    fn process(
        &mut self,
        ctx: &mut ProcessorContext<'_, String, String>,
        record: Record<String, String>,
    ) -> Result<(), StreamsError> {
        let RecordMetadata {
            topic,
            partition,
            offset,
        } = ctx
            .record_metadata()
            .cloned()
            .expect("metadata while processing");
        let value = format!("{}@{topic}-{partition}:{offset}", record.value);
        ctx.forward(record.with_value(value))
    }
}

/// Routes records to the child named by the record key.
struct Router;

impl Processor<String, String, String, String> for Router {
    fn process(
        &mut self,
        ctx: &mut ProcessorContext<'_, String, String>,
        record: Record<String, String>,
    ) -> Result<(), StreamsError> {
        let child = record.key.clone();
        ctx.forward_to(&child, record)
    }
}

fn strings() -> SourceOptions<String, String> {
    SourceOptions::new(StringSerde, StringSerde)
}

fn sink() -> SinkOptions<String, String> {
    SinkOptions::new(StringSerde, StringSerde)
}

fn describing() -> Topology {
    TopologyBuilder::new()
        .add_source("in", &["in"], strings())
        .add_processor("describe", || Describe, &["in"])
        .add_sink("out", "out", sink(), &["describe"])
        .build()
        .expect("valid topology")
}

#[test]
fn reading_an_empty_topic_is_an_error_value() {
    let driver = TopologyTestDriver::new(&describing()).expect("driver");
    let out = driver.create_output_topic("out", StringSerde, StringSerde);
    assert!(matches!(out.read_value(), Err(StreamsError::NoRecord(t)) if t == "out"));
    assert!(matches!(
        out.read_key_value(),
        Err(StreamsError::NoRecord(_))
    ));
    assert!(matches!(out.read_record(), Err(StreamsError::NoRecord(_))));
    assert_eq!(out.queue_size(), 0);
    assert!(out.is_empty());
    assert!(out.read_values_to_list().expect("empty list").is_empty());
}

#[test]
fn input_topics_assign_offsets_times_and_auto_advance() {
    let driver = TopologyTestDriver::new(&describing()).expect("driver");
    let input = driver.create_input_topic_at(
        "in",
        StringSerde,
        StringSerde,
        5_000,
        Duration::from_millis(100),
    );
    let out = driver.create_output_topic("out", StringSerde, StringSerde);
    input.pipe_input("a".into(), "x".into()).expect("pipe");
    input
        .pipe_input_at("b".into(), "y".into(), 42)
        .expect("pipe");
    input.pipe_input("c".into(), "z".into()).expect("pipe");
    input.advance_time(Duration::from_secs(1));
    input
        .pipe_key_value_list([("d".to_string(), "w".to_string())])
        .expect("pipe");
    let records = out.read_records_to_list().expect("decode");
    let got: Vec<(String, String, i64)> = records
        .into_iter()
        .map(|r| (r.key, r.value, r.timestamp))
        .collect();
    assert_eq!(
        got,
        vec![
            ("a".into(), "x@in-0:0".into(), 5_000),
            ("b".into(), "y@in-0:1".into(), 42),
            ("c".into(), "z@in-0:2".into(), 5_100),
            ("d".into(), "w@in-0:3".into(), 6_200),
        ]
    );
}

#[test]
fn headers_travel_to_the_sink() {
    let driver = TopologyTestDriver::new(&describing()).expect("driver");
    let input = driver.create_input_topic("in", StringSerde, StringSerde);
    let out = driver.create_output_topic("out", StringSerde, StringSerde);
    let mut record = TestRecord::new("k".to_string(), "v".to_string(), 7);
    record.headers.add("trace", Some(b"abc".to_vec()));
    input.pipe_record(record).expect("pipe");
    let read = out.read_record().expect("record");
    assert_eq!(
        read.headers.last("trace").and_then(|h| h.value.clone()),
        Some(b"abc".to_vec())
    );
    assert_eq!(read.timestamp, 7);
}

#[test]
fn records_written_to_a_source_topic_loop_back() {
    let topology = TopologyBuilder::new()
        .add_source("first", &["first"], strings())
        .add_sink("to-second", "second", sink(), &["first"])
        .add_source("second", &["second"], strings())
        .add_processor("describe", || Describe, &["second"])
        .add_sink("out", "out", sink(), &["describe"])
        .build()
        .expect("valid topology");
    assert_eq!(topology.subtopology_count(), 2);
    let driver = TopologyTestDriver::new(&topology).expect("driver");
    driver
        .create_input_topic("first", StringSerde, StringSerde)
        .pipe_input_at("k".into(), "v".into(), 3)
        .expect("pipe");
    let out = driver.create_output_topic("out", StringSerde, StringSerde);
    assert_eq!(
        out.read_record().expect("record"),
        TestRecord::new("k".into(), "v@second-0:0".into(), 3)
    );
    let second = driver.create_output_topic("second", StringSerde, StringSerde);
    assert_eq!(
        second.read_key_value().expect("record"),
        ("k".into(), "v".into())
    );
    assert_eq!(
        driver
            .produced_topic_names()
            .into_iter()
            .collect::<Vec<_>>(),
        vec!["out".to_string(), "second".to_string()]
    );
}

#[test]
fn internal_topics_are_prefixed_with_the_application_id() {
    let topology = TopologyBuilder::new()
        .add_internal_topic("x-repartition")
        .add_source("first", &["first"], strings())
        .add_sink("sink", "x-repartition", sink(), &["first"])
        .add_source("again", &["x-repartition"], strings())
        .add_sink("out", "out", sink(), &["again"])
        .build()
        .expect("valid topology");
    let config = TestDriverConfig {
        application_id: "app".into(),
        ..TestDriverConfig::default()
    };
    let driver = TopologyTestDriver::with_config(&topology, config).expect("driver");
    driver
        .create_input_topic("first", StringSerde, StringSerde)
        .pipe_input_at("k".into(), "v".into(), 1)
        .expect("pipe");
    assert_eq!(
        driver
            .produced_topic_names()
            .into_iter()
            .collect::<Vec<_>>(),
        vec!["app-x-repartition".to_string(), "out".to_string()]
    );
}

#[test]
fn forward_to_reaches_one_named_child() {
    let topology = TopologyBuilder::new()
        .add_source("in", &["in"], strings())
        .add_processor("router", || Router, &["in"])
        .add_sink("left", "left", sink(), &["router"])
        .add_sink("right", "right", sink(), &["router"])
        .build()
        .expect("valid topology");
    let driver = TopologyTestDriver::new(&topology).expect("driver");
    let input = driver.create_input_topic("in", StringSerde, StringSerde);
    input
        .pipe_input_at("left".into(), "1".into(), 0)
        .expect("pipe");
    input
        .pipe_input_at("right".into(), "2".into(), 0)
        .expect("pipe");
    input
        .pipe_input_at("left".into(), "3".into(), 0)
        .expect("pipe");
    let left = driver.create_output_topic("left", StringSerde, StringSerde);
    let right = driver.create_output_topic("right", StringSerde, StringSerde);
    assert_eq!(left.read_values_to_list().expect("left"), vec!["1", "3"]);
    assert_eq!(right.read_values_to_list().expect("right"), vec!["2"]);
    let err = input
        .pipe_input_at("nowhere".into(), "4".into(), 0)
        .unwrap_err();
    assert!(matches!(err, StreamsError::UnknownChild { .. }), "{err}");
}

#[test]
fn key_values_to_map_keeps_the_last_value_per_key() {
    let driver = TopologyTestDriver::new(&describing()).expect("driver");
    let input = driver.create_input_topic("in", StringSerde, StringSerde);
    input
        .pipe_input_at("a".into(), "1".into(), 0)
        .expect("pipe");
    input
        .pipe_input_at("b".into(), "2".into(), 0)
        .expect("pipe");
    input
        .pipe_input_at("a".into(), "3".into(), 0)
        .expect("pipe");
    let map = driver
        .create_output_topic("out", StringSerde, StringSerde)
        .read_key_values_to_map()
        .expect("map");
    assert_eq!(map.len(), 2);
    assert_eq!(map["a"], "3@in-0:2");
}

#[test]
fn bad_input_fails_or_is_skipped_by_the_handler() {
    let driver = TopologyTestDriver::new(&describing()).expect("driver");
    let raw = driver.create_input_topic("in", StringSerde, BytesSerde);
    let err = raw
        .pipe_input_at("k".into(), vec![0xff, 0xfe], 0)
        .unwrap_err();
    assert!(matches!(err, StreamsError::Serde { .. }), "{err}");

    let config = TestDriverConfig {
        deserialization_handler: DeserializationHandler::LogAndContinue,
        ..TestDriverConfig::default()
    };
    let driver = TopologyTestDriver::with_config(&describing(), config).expect("driver");
    let raw = driver.create_input_topic("in", StringSerde, BytesSerde);
    raw.pipe_input_at("k".into(), vec![0xff], 0)
        .expect("skipped");
    raw.pipe_input_at("k".into(), b"ok".to_vec(), 0)
        .expect("processed");
    let out = driver.create_output_topic("out", StringSerde, StringSerde);
    assert_eq!(
        out.read_values_to_list().expect("values"),
        vec!["ok@in-0:1"]
    );
    assert_eq!(driver.metrics().dropped_records, 1);
    assert_eq!(driver.metrics().records_processed, 2);
}

#[test]
fn negative_timestamps_fail_by_default() {
    let driver = TopologyTestDriver::new(&describing()).expect("driver");
    let err = driver
        .create_input_topic("in", StringSerde, StringSerde)
        .pipe_input_at("k".into(), "v".into(), -5)
        .unwrap_err();
    assert!(
        matches!(err, StreamsError::InvalidTimestamp { timestamp: -5, .. }),
        "{err}"
    );
}

#[test]
fn piping_to_an_unknown_topic_is_an_error() {
    let driver = TopologyTestDriver::new(&describing()).expect("driver");
    let err = driver
        .create_input_topic("nope", StringSerde, StringSerde)
        .pipe_input("k".into(), "v".into())
        .unwrap_err();
    assert!(matches!(err, StreamsError::UnknownTopic(t) if t == "nope"));
}

/// Forwards each record's value with the stream time it sees.
struct StreamTimeSeen;

impl Processor<String, String, String, i64> for StreamTimeSeen {
    fn process(
        &mut self,
        ctx: &mut ProcessorContext<'_, String, i64>,
        record: Record<String, String>,
    ) -> Result<(), StreamsError> {
        let seen = ctx.current_stream_time_ms();
        ctx.forward(Record::new(record.value, seen, record.timestamp))
    }
}

/// A record skipped because it cannot be deserialized does not move
/// stream time: Kafka skips it before choosing the next record.
#[test]
fn a_skipped_unreadable_record_leaves_stream_time_alone() {
    let topology = TopologyBuilder::new()
        .add_source("in", &["in"], SourceOptions::new(StringSerde, StringSerde))
        .add_processor("seen", || StreamTimeSeen, &["in"])
        .add_sink(
            "out",
            "out",
            SinkOptions::new(StringSerde, I64Serde),
            &["seen"],
        )
        .build()
        .expect("valid");
    let config = TestDriverConfig {
        deserialization_handler: DeserializationHandler::LogAndContinue,
        ..TestDriverConfig::default()
    };
    let driver = TopologyTestDriver::with_config(&topology, config).expect("driver");
    let raw = driver.create_input_topic("in", StringSerde, BytesSerde);
    raw.pipe_input_at("k".into(), vec![0xff], 100)
        .expect("skipped");
    raw.pipe_input_at("k".into(), b"ok".to_vec(), 50)
        .expect("processed");
    let out = driver.create_output_topic("out", StringSerde, I64Serde);
    assert_eq!(
        out.read_key_values_to_list().expect("read"),
        [("ok".to_owned(), 50)]
    );
    assert_eq!(driver.metrics().dropped_records, 1);
}

/// Forwards each record five milliseconds earlier.
struct Earlier;

impl Processor<String, String, String, String> for Earlier {
    fn process(
        &mut self,
        ctx: &mut ProcessorContext<'_, String, String>,
        record: Record<String, String>,
    ) -> Result<(), StreamsError> {
        let timestamp = record.timestamp - 5;
        ctx.forward(Record {
            timestamp,
            ..record
        })
    }
}

/// A forwarded record may not have a negative timestamp: Kafka's `Record`
/// refuses one, and so does `forward`, with a typed error.
#[test]
fn forwarding_a_negative_timestamp_is_an_error() {
    let topology = TopologyBuilder::new()
        .add_source("in", &["in"], SourceOptions::new(StringSerde, StringSerde))
        .add_processor("earlier", || Earlier, &["in"])
        .add_sink(
            "out",
            "out",
            SinkOptions::new(StringSerde, StringSerde),
            &["earlier"],
        )
        .build()
        .expect("valid");
    let driver = TopologyTestDriver::new(&topology).expect("driver");
    let input = driver.create_input_topic("in", StringSerde, StringSerde);
    input
        .pipe_input_at("k".into(), "v".into(), 5)
        .expect("ts 0 is fine");
    let err = input.pipe_input_at("k".into(), "v".into(), 4).unwrap_err();
    assert!(
        matches!(&err, StreamsError::NegativeTimestamp { processor, timestamp: -1 } if processor == "earlier"),
        "{err}"
    );
}

/// Forwards each record's value with the stream time it was processed at
/// and the number of records this processor's application has seen, kept
/// in the processor metadata committed with the offsets.
struct StreamTimeAndCount;

impl Processor<String, String, String, String> for StreamTimeAndCount {
    fn process(
        &mut self,
        ctx: &mut ProcessorContext<'_, String, String>,
        record: Record<String, String>,
    ) -> Result<(), StreamsError> {
        let seen = ctx.processor_metadata("seen").unwrap_or(0) + 1;
        ctx.set_processor_metadata("seen", seen);
        let value = format!("{}@{}#{seen}", record.value, ctx.current_stream_time_ms());
        ctx.forward(record.with_value(value))
    }
}

/// A restarted application carries on from what its task committed with
/// the offsets (Kafka keeps both in the offsets' metadata): stream time
/// does not go back to an earlier record's timestamp, and the processor
/// metadata is what the processors left.
#[test]
fn a_restart_carries_on_from_the_committed_stream_time_and_processor_metadata() {
    let topology = TopologyBuilder::new()
        .add_source("in", &["in"], strings())
        .add_processor("stamp", || StreamTimeAndCount, &["in"])
        .add_sink("out", "out", sink(), &["stamp"])
        .build()
        .expect("valid topology");
    let driver = TopologyTestDriver::new(&topology).expect("driver");
    let input = driver.create_input_topic("in", StringSerde, StringSerde);
    let output = driver.create_output_topic("out", StringSerde, StringSerde);
    input
        .pipe_input_at("k".into(), "a".into(), 1_000)
        .expect("pipe");
    driver.restart(&topology).expect("restart");
    input
        .pipe_input_at("k".into(), "b".into(), 500)
        .expect("pipe");
    assert_eq!(
        output.read_values_to_list().expect("read"),
        ["a@1000#1", "b@1000#2"]
    );
}

/// Once the driver is closed, its processors and stores are closed: a
/// record piped through a topic kept from before is refused with an error
/// instead of reaching them.
#[test]
fn piping_after_close_is_refused() {
    let driver = TopologyTestDriver::new(&describing()).expect("driver");
    let input = driver.create_input_topic("in", StringSerde, StringSerde);
    input
        .pipe_input_at("k".into(), "a".into(), 1)
        .expect("pipe");
    driver.close().expect("close");
    assert!(matches!(
        input.pipe_input_at("k".into(), "b".into(), 2),
        Err(StreamsError::TaskClosed(_))
    ));
}

/// Passes records on, and forwards one more record when it closes.
struct FarewellOnClose;

impl Processor<String, String, String, String> for FarewellOnClose {
    fn process(
        &mut self,
        ctx: &mut ProcessorContext<'_, String, String>,
        record: Record<String, String>,
    ) -> Result<(), StreamsError> {
        ctx.forward(record)
    }

    fn close(
        &mut self,
        ctx: &mut ProcessorContext<'_, String, String>,
    ) -> Result<(), StreamsError> {
        ctx.forward(Record::new("bye".into(), "closing".into(), 9))
    }
}

/// Reads `in`, writes `through` (and a farewell record on close), reads
/// `through` back and describes its records into `out`.
fn farewell_through_a_topic() -> Topology {
    TopologyBuilder::new()
        .add_source("in", &["in"], strings())
        .add_processor("farewell", || FarewellOnClose, &["in"])
        .add_sink("to-through", "through", sink(), &["farewell"])
        .add_source("through", &["through"], strings())
        .add_processor("describe", || Describe, &["through"])
        .add_sink("out", "out", sink(), &["describe"])
        .build()
        .expect("valid topology")
}

/// A record a processor writes while closing, to a topic the topology
/// reads, can be read as output after the close (as in Kafka's driver,
/// which cannot process it any more); before, the close failed with
/// `TaskClosed` and the record was lost.
#[test]
fn what_a_closing_processor_writes_to_a_read_topic_stays_readable() {
    let driver = TopologyTestDriver::new(&farewell_through_a_topic()).expect("driver");
    let input = driver.create_input_topic("in", StringSerde, StringSerde);
    let through = driver.create_output_topic("through", StringSerde, StringSerde);
    let out = driver.create_output_topic("out", StringSerde, StringSerde);
    input
        .pipe_input_at("k".into(), "v".into(), 3)
        .expect("pipe");
    driver.close().expect("close");
    assert_eq!(
        through.read_records_to_list().expect("read"),
        [
            TestRecord::new("k".into(), "v".into(), 3),
            TestRecord::new("bye".into(), "closing".into(), 9),
        ]
    );
    assert_eq!(
        out.read_records_to_list().expect("read"),
        [TestRecord::new("k".into(), "v@through-0:0".into(), 3)]
    );
}

/// After a restart, the task that replaced the closed one reads what the
/// closed one wrote while closing, as a new instance finds it in Kafka.
#[test]
fn a_restarted_task_reads_what_the_closing_one_wrote_to_its_topics() {
    let topology = farewell_through_a_topic();
    let driver = TopologyTestDriver::new(&topology).expect("driver");
    let input = driver.create_input_topic("in", StringSerde, StringSerde);
    let out = driver.create_output_topic("out", StringSerde, StringSerde);
    input
        .pipe_input_at("k".into(), "v".into(), 3)
        .expect("pipe");
    driver.restart(&topology).expect("restart");
    assert_eq!(
        out.read_records_to_list().expect("read"),
        [
            TestRecord::new("k".into(), "v@through-0:0".into(), 3),
            TestRecord::new("bye".into(), "closing@through-0:1".into(), 9),
        ]
    );
}
