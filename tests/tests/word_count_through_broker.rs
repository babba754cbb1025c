//! The DSL word count run against the bundled broker, every byte carried
//! by librdkafka: lines produced by a real client, the topology's internal
//! topics created with Kafka Streams' configs through the admin API, the
//! repartition topic and the changelog written to the broker and the
//! repartition records read back from it, the task's offsets committed to
//! the consumer group, and the counts read by a real consumer.
//!
//! The task is driven as a runtime drives it: poll, add the records,
//! process, send what the task wrote, commit. What comes out must be
//! exactly what the test driver gives for the same input.

use std::collections::BTreeMap;
use std::rc::Rc;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, ResourceSpecifier, TopicReplication};
use rdkafka::client::{ClientContext, DefaultClientContext};
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::message::{BorrowedMessage, Header as KafkaHeader, Headers as _, OwnedHeaders};
use rdkafka::producer::{BaseRecord, DeliveryResult, Producer, ProducerContext, ThreadedProducer};
use rdkafka::{Message, Offset, Timestamp, TopicPartitionList};

use streams_core::engine::{StreamTask, SystemClock, TaskConfig};
use streams_core::prelude::*;
use streams_core::record::{ConsumerRecord, Header, ProducerRecord, TopicName};
use streams_core::topology::DEFAULT_ADDITIONAL_CHANGELOG_RETENTION;
use streams_dsl::{Materialized, StreamsBuilder};
use streams_testcontainers::KafkaFixture;

const APPLICATION_ID: &str = "word-count";
const INPUT: &str = "text-lines";
const OUTPUT: &str = "word-counts";
const TIMEOUT: Duration = Duration::from_secs(30);

/// Lines with their timestamps (each is produced with a `source` header).
const LINES: [(&str, i64); 3] = [
    ("all streams lead to kafka", 1_000),
    ("hello kafka streams", 2_000),
    ("join kafka summit", 3_000),
];

type Result<T = (), E = Box<dyn std::error::Error>> = std::result::Result<T, E>;

fn word_count() -> Result<Topology> {
    let builder = StreamsBuilder::new();
    builder
        .stream::<(), String>(INPUT)
        .flat_map_values(|line: String| {
            line.split_whitespace()
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .group_by(|_, word| word.clone())
        .count_with(Materialized::named("counts").in_memory())
        .to_stream()
        .to(OUTPUT);
    Ok(builder.build()?)
}

/// Keeps the first failed delivery: a flush only says the queue is empty,
/// so [`flush`] checks this after it.
#[derive(Default)]
struct Deliveries {
    first_failure: Mutex<Option<String>>,
}

impl ClientContext for Deliveries {}

impl ProducerContext for Deliveries {
    type DeliveryOpaque = ();

    fn delivery(&self, result: &DeliveryResult<'_>, _opaque: ()) {
        if let Err((error, _)) = result {
            if let Ok(mut first) = self.first_failure.lock() {
                first.get_or_insert_with(|| error.to_string());
            }
        }
    }
}

type CheckedProducer = ThreadedProducer<Deliveries>;

/// Waits until everything sent is acknowledged, failing if anything was
/// refused.
fn flush(producer: &CheckedProducer) -> Result {
    producer.flush(TIMEOUT)?;
    let failure = producer
        .context()
        .first_failure
        .lock()
        .map_err(|_| "delivery check poisoned")?
        .clone();
    match failure {
        Some(error) => Err(format!("a delivery failed: {error}").into()),
        None => Ok(()),
    }
}

fn client_config(bootstrap: &str) -> ClientConfig {
    let mut config = ClientConfig::new();
    config.set("bootstrap.servers", bootstrap);
    config
}

fn block_on<F: std::future::Future>(future: F) -> Result<F::Output> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(future))
}

/// Internal topics by name, with the configs Kafka Streams creates them
/// with.
type InternalTopics = Vec<(String, BTreeMap<String, String>)>;

/// Creates the input and output topics, and the topology's internal topics
/// with their configs.
fn create_topics(bootstrap: &str, topology: &Topology) -> Result<InternalTopics> {
    let admin: AdminClient<DefaultClientContext> = client_config(bootstrap).create()?;
    let internal = topology.internal_topic_configs(APPLICATION_ID);
    let properties: Vec<(String, BTreeMap<String, String>)> = internal
        .iter()
        .map(|topic| {
            let props = topic.properties(DEFAULT_ADDITIONAL_CHANGELOG_RETENTION);
            (topic.name().to_owned(), props)
        })
        .collect();
    let mut topics = vec![
        NewTopic::new(INPUT, 1, TopicReplication::Fixed(1)),
        NewTopic::new(OUTPUT, 1, TopicReplication::Fixed(1)),
    ];
    for (name, props) in &properties {
        let topic = props.iter().fold(
            NewTopic::new(name, 1, TopicReplication::Fixed(1)),
            |topic, (key, value)| topic.set(key, value),
        );
        topics.push(topic);
    }
    let options = AdminOptions::new().operation_timeout(Some(TIMEOUT));
    for created in block_on(admin.create_topics(&topics, &options))?? {
        if let Err((topic, code)) = created {
            return Err(format!("creating {topic}: {code}").into());
        }
    }
    Ok(properties)
}

/// The configs the broker describes for `topic`.
fn described_configs(bootstrap: &str, topic: &str) -> Result<BTreeMap<String, String>> {
    let admin: AdminClient<DefaultClientContext> = client_config(bootstrap).create()?;
    let options = AdminOptions::new().operation_timeout(Some(TIMEOUT));
    let resource = ResourceSpecifier::Topic(topic);
    let described = block_on(admin.describe_configs([&resource], &options))??;
    let mut configs = BTreeMap::new();
    for resource in described {
        for entry in resource?.entries {
            if let Some(value) = entry.value {
                configs.insert(entry.name, value);
            }
        }
    }
    Ok(configs)
}

/// Sends `record`, as the task wrote it ([`flush`] waits for the
/// acknowledgement).
fn send(producer: &CheckedProducer, record: &ProducerRecord) -> Result {
    let headers = record
        .headers
        .iter()
        .fold(OwnedHeaders::new(), |headers, h| {
            headers.insert(KafkaHeader {
                key: &h.key,
                value: h.value.as_deref(),
            })
        });
    let mut out = BaseRecord::<[u8], [u8]>::to(&record.topic)
        .timestamp(record.timestamp)
        .headers(headers);
    if let Some(partition) = record.partition {
        out = out.partition(partition);
    }
    if let Some(key) = &record.key {
        out = out.key(key);
    }
    if let Some(value) = &record.value {
        out = out.payload(value);
    }
    producer.send(out).map_err(|(error, _)| error)?;
    Ok(())
}

/// The record the task reads for `message`.
fn consumer_record(message: &BorrowedMessage<'_>) -> Result<ConsumerRecord> {
    let timestamp = match message.timestamp() {
        Timestamp::CreateTime(ms) | Timestamp::LogAppendTime(ms) => ms,
        Timestamp::NotAvailable => return Err("a record without a timestamp".into()),
    };
    let headers = message
        .headers()
        .map(|headers| {
            headers
                .iter()
                .map(|h| Header {
                    key: h.key.to_owned(),
                    value: h.value.map(<[u8]>::to_vec),
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(ConsumerRecord {
        topic: TopicName::new(message.topic()),
        partition: message.partition(),
        offset: message.offset(),
        timestamp,
        key: message.key().map(<[u8]>::to_vec),
        value: message.payload().map(<[u8]>::to_vec),
        headers,
    })
}

/// A consumer of the application's group, without automatic commits.
fn group_consumer(bootstrap: &str) -> Result<BaseConsumer> {
    Ok(client_config(bootstrap)
        .set("group.id", APPLICATION_ID)
        .set("enable.auto.commit", "false")
        .set("auto.offset.reset", "earliest")
        .create()?)
}

/// A record read back: key, value, timestamp and headers, as bytes.
type Raw = (
    Option<Vec<u8>>,
    Option<Vec<u8>>,
    i64,
    Vec<(String, Vec<u8>)>,
);

/// Reads `topic` from its start to its end (its high watermark) as it is
/// when called.
fn read_topic(bootstrap: &str, topic: &str) -> Result<Vec<Raw>> {
    let consumer: BaseConsumer = client_config(bootstrap)
        .set("group.id", "reader")
        .set("enable.auto.commit", "false")
        .create()?;
    let (_, end) = consumer.fetch_watermarks(topic, 0, TIMEOUT)?;
    let mut assignment = TopicPartitionList::new();
    assignment.add_partition_offset(topic, 0, Offset::Beginning)?;
    consumer.assign(&assignment)?;
    let deadline = Instant::now() + TIMEOUT;
    let mut records = Vec::new();
    let mut position = 0;
    while position < end {
        if Instant::now() > deadline {
            return Err(format!("{topic}: read to offset {position} of {end}").into());
        }
        let Some(message) = consumer.poll(Duration::from_millis(100)) else {
            continue;
        };
        let record = consumer_record(&message?)?;
        position = record.offset + 1;
        let headers = record
            .headers
            .iter()
            .map(|h| (h.key.clone(), h.value.clone().unwrap_or_default()))
            .collect();
        records.push((record.key, record.value, record.timestamp, headers));
    }
    Ok(records)
}

/// The count updates the test driver gives for [`LINES`]: (word, count,
/// timestamp).
fn expected_counts() -> Vec<(String, i64, i64)> {
    let mut counts = BTreeMap::<&str, i64>::new();
    let mut updates = Vec::new();
    for (line, timestamp) in LINES {
        for word in line.split_whitespace() {
            let count = counts.entry(word).or_default();
            *count += 1;
            updates.push((word.to_owned(), *count, timestamp));
        }
    }
    updates
}

#[test]
fn word_count_runs_through_the_bundled_broker_with_librdkafka() -> Result {
    let kafka = KafkaFixture::embedded()?;
    let bootstrap = kafka.bootstrap_servers();
    let topology = word_count()?;
    let internal = create_topics(bootstrap, &topology)?;
    let repartition = format!("{APPLICATION_ID}-counts-repartition");
    let changelog = format!("{APPLICATION_ID}-counts-changelog");
    let names: Vec<&str> = internal.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(names, [repartition.as_str(), changelog.as_str()]);
    for (name, properties) in &internal {
        let described = described_configs(bootstrap, name)?;
        for (key, value) in properties {
            assert_eq!(described.get(key), Some(value), "{name}: {key}");
        }
    }
    assert_eq!(
        internal[1].1.get("cleanup.policy").map(String::as_str),
        Some("compact")
    );

    let producer: CheckedProducer = client_config(bootstrap)
        .set("acks", "all")
        .set("linger.ms", "0")
        .create_with_context(Deliveries::default())?;
    for (line, timestamp) in LINES {
        let headers = OwnedHeaders::new().insert(KafkaHeader {
            key: "source",
            value: Some("test"),
        });
        producer
            .send(
                BaseRecord::<(), str>::to(INPUT)
                    .payload(line)
                    .timestamp(timestamp)
                    .headers(headers),
            )
            .map_err(|(error, _)| error)?;
    }
    flush(&producer)?;

    // One task reads the input and the repartition topic: a runtime's
    // poll, process, send loop, until every count is out.
    let mut task = StreamTask::new(
        &topology,
        TaskConfig::new(APPLICATION_ID, Rc::new(SystemClock)),
    )?;
    let consumer = group_consumer(bootstrap)?;
    let mut assignment = TopicPartitionList::new();
    for topic in [INPUT, repartition.as_str()] {
        assert!(task.reads(topic), "{topic}");
        assignment.add_partition_offset(topic, 0, Offset::Beginning)?;
    }
    consumer.assign(&assignment)?;
    let expected = expected_counts();
    let mut written = Vec::new();
    let mut counts_sent = 0;
    let deadline = Instant::now() + TIMEOUT;
    while counts_sent < expected.len() {
        if Instant::now() > deadline {
            return Err(format!("{counts_sent} of {} counts sent", expected.len()).into());
        }
        let Some(message) = consumer.poll(Duration::from_millis(100)) else {
            continue;
        };
        task.add_records([consumer_record(&message?)?])?;
        while task.process()? {}
        task.take_output(&mut written);
        for record in written.drain(..) {
            counts_sent += usize::from(record.topic == OUTPUT);
            send(&producer, &record)?;
        }
        flush(&producer)?;
    }

    // Commit: the task's offsets go to the group once what it wrote is
    // acknowledged.
    let offsets = task.commit()?;
    task.take_output(&mut written);
    for record in written.drain(..) {
        send(&producer, &record)?;
    }
    flush(&producer)?;
    let mut committed = TopicPartitionList::new();
    for (partition, offset) in &offsets {
        committed.add_partition_offset(
            &partition.topic,
            partition.partition,
            Offset::Offset(*offset),
        )?;
    }
    consumer.commit(&committed, CommitMode::Sync)?;
    task.close()?;

    let in_group = consumer.committed(TIMEOUT)?;
    let ends = [(INPUT, LINES.len()), (repartition.as_str(), expected.len())];
    for (topic, end) in ends {
        let end = i64::try_from(end)?;
        assert_eq!(
            in_group.find_partition(topic, 0).map(|p| p.offset()),
            Some(Offset::Offset(end)),
            "{topic}"
        );
    }

    // The counts hold every update in order, with the line's time and the
    // line's headers.
    let header = ("source".to_owned(), b"test".to_vec());
    let counts: Vec<Raw> = expected
        .iter()
        .map(|(word, count, timestamp)| {
            (
                Some(word.as_bytes().to_vec()),
                Some(count.to_be_bytes().to_vec()),
                *timestamp,
                vec![header.clone()],
            )
        })
        .collect();
    assert_eq!(read_topic(bootstrap, OUTPUT)?, counts);
    // The changelog is compacted: what it must keep is each word's latest
    // count and time, with no headers (Kafka Streams writes none).
    let latest = |records: Vec<Raw>| -> BTreeMap<Option<Vec<u8>>, Raw> {
        records
            .into_iter()
            .map(|record| (record.0.clone(), record))
            .collect()
    };
    let without_headers = counts
        .into_iter()
        .map(|(key, value, timestamp, _)| (key, value, timestamp, Vec::new()));
    assert_eq!(
        latest(read_topic(bootstrap, &changelog)?),
        latest(without_headers.collect())
    );

    // And the test driver agrees, record for record.
    let driver = TopologyTestDriver::new(&topology)?;
    let lines = driver.create_input_topic(INPUT, UnitSerde, StringSerde);
    let counts = driver.create_output_topic(OUTPUT, StringSerde, I64Serde);
    for (line, timestamp) in LINES {
        lines.pipe_value_at(line.to_owned(), timestamp)?;
    }
    let from_driver: Vec<(String, i64, i64)> = counts
        .read_records_to_list()?
        .into_iter()
        .map(|record| (record.key, record.value, record.timestamp))
        .collect();
    assert_eq!(from_driver, expected);
    Ok(())
}
