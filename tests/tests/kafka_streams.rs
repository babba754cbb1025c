//! The DSL word count run by the `KafkaStreams` runtime against the bundled
//! broker, every record carried by librdkafka: lines produced by a real
//! client into two partitions, the internal topics created with Kafka
//! Streams' names, partition counts and configs, the counts read back by a
//! real consumer. At least once and exactly once; across a restart (stores
//! restored from their changelogs); with two instances sharing the
//! partitions; and with a failure that aborts a transaction.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, ResourceSpecifier, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::{Header as KafkaHeader, Headers as _, OwnedHeaders};
use rdkafka::producer::{BaseRecord, DefaultProducerContext, Producer, ThreadedProducer};
use rdkafka::{Message, Offset, Timestamp, TopicPartitionList};

use streams_core::prelude::*;
use streams_core::record::TopicPartition;
use streams_core::runtime::{
    KafkaStreams, ProcessingGuarantee, RuntimeError, StateRestoreListener, StreamsConfig,
    StreamsState,
};
use streams_dsl::{Materialized, StreamsBuilder};
use streams_testcontainers::KafkaFixture;

const INPUT: &str = "text-lines";
const OUTPUT: &str = "word-counts";
const PARTITIONS: i32 = 2;
const TIMEOUT: Duration = Duration::from_secs(60);

type Result<T = (), E = Box<dyn std::error::Error>> = std::result::Result<T, E>;

/// Lines with their partition and timestamp.
const LINES: [(i32, &str, i64); 4] = [
    (0, "all streams lead to kafka", 1_000),
    (1, "hello kafka streams", 2_000),
    (0, "join kafka summit", 3_000),
    (1, "streams of streams", 4_000),
];

/// Word count, with its counts in memory.
fn word_count() -> Result<Topology> {
    word_count_in(Materialized::named("counts").in_memory())
}

/// Word count, with its counts in the store `materialized` says.
fn word_count_in(materialized: Materialized<String, i64>) -> Result<Topology> {
    let builder = StreamsBuilder::new();
    builder
        .stream::<(), String>(INPUT)
        .flat_map_values(|line: String| {
            line.split_whitespace()
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .group_by(|_, word| word.clone())
        .count_with(materialized)
        .to_stream()
        .to(OUTPUT);
    Ok(builder.build()?)
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

fn create_topic(bootstrap: &str, name: &str, partitions: i32) -> Result {
    let admin: AdminClient<DefaultClientContext> = client_config(bootstrap).create()?;
    let topic = NewTopic::new(name, partitions, TopicReplication::Fixed(1));
    let options = AdminOptions::new().operation_timeout(Some(TIMEOUT));
    for created in block_on(admin.create_topics([&topic], &options))?? {
        created.map_err(|(topic, code)| format!("creating {topic}: {code}"))?;
    }
    Ok(())
}

/// The partition count and configs the broker describes for `topic`.
fn describe(bootstrap: &str, topic: &str) -> Result<(usize, BTreeMap<String, String>)> {
    let admin: AdminClient<DefaultClientContext> = client_config(bootstrap).create()?;
    let metadata = admin.inner().fetch_metadata(Some(topic), TIMEOUT)?;
    let partitions = metadata
        .topics()
        .first()
        .map_or(0, |topic| topic.partitions().len());
    let options = AdminOptions::new().operation_timeout(Some(TIMEOUT));
    let described =
        block_on(admin.describe_configs([&ResourceSpecifier::Topic(topic)], &options))??;
    let mut configs = BTreeMap::new();
    for resource in described {
        for entry in resource?.entries {
            if let Some(value) = entry.value {
                configs.insert(entry.name, value);
            }
        }
    }
    Ok((partitions, configs))
}

/// Produces `lines` (partition, line, timestamp) to the input topic, with
/// null keys, each with a `source` header.
fn produce(bootstrap: &str, lines: &[(i32, &str, i64)]) -> Result {
    let records: Vec<(i32, Option<&str>, &str, i64)> = lines
        .iter()
        .map(|&(partition, line, timestamp)| (partition, None, line, timestamp))
        .collect();
    produce_to(bootstrap, INPUT, &records)
}

/// Produces `records` (partition, key, value, timestamp) to `topic`, each
/// with a `source` header.
fn produce_to(bootstrap: &str, topic: &str, records: &[(i32, Option<&str>, &str, i64)]) -> Result {
    let producer: ThreadedProducer<DefaultProducerContext> =
        client_config(bootstrap).set("acks", "all").create()?;
    for (partition, key, value, timestamp) in records {
        let headers = OwnedHeaders::new().insert(KafkaHeader {
            key: "source",
            value: Some("test"),
        });
        let mut record = BaseRecord::<str, str>::to(topic)
            .partition(*partition)
            .payload(*value)
            .timestamp(*timestamp)
            .headers(headers);
        if let Some(key) = key {
            record = record.key(*key);
        }
        producer.send(record).map_err(|(error, _)| error)?;
    }
    producer.flush(TIMEOUT)?;
    Ok(())
}

/// A record read back: key, value, create time, and whether it carried
/// the line's `source` header.
struct Read {
    key: Option<Vec<u8>>,
    value: Option<Vec<u8>>,
    timestamp: i64,
    header: bool,
}

/// Reads every partition of `topic` to its end.
fn read_topic(bootstrap: &str, topic: &str, isolation: &str) -> Result<Vec<Read>> {
    let consumer: BaseConsumer = client_config(bootstrap)
        .set("group.id", "reader")
        .set("enable.auto.commit", "false")
        .set("enable.partition.eof", "true")
        .set("isolation.level", isolation)
        .create()?;
    let mut assignment = TopicPartitionList::new();
    for partition in 0..PARTITIONS {
        assignment.add_partition_offset(topic, partition, Offset::Beginning)?;
    }
    consumer.assign(&assignment)?;
    let deadline = Instant::now() + TIMEOUT;
    let mut at_end = 0;
    let mut records = Vec::new();
    while at_end < PARTITIONS {
        if Instant::now() > deadline {
            return Err(format!("{topic}: {at_end} partitions read to the end").into());
        }
        match consumer.poll(Duration::from_millis(100)) {
            None => {}
            Some(Err(KafkaError::PartitionEOF(_))) => at_end += 1,
            Some(Err(error)) => return Err(error.into()),
            Some(Ok(message)) => {
                let Timestamp::CreateTime(timestamp) = message.timestamp() else {
                    return Err("a record without a create time".into());
                };
                records.push(Read {
                    key: message.key().map(<[u8]>::to_vec),
                    value: message.payload().map(<[u8]>::to_vec),
                    timestamp,
                    header: message
                        .headers()
                        .is_some_and(|headers| headers.iter().any(|h| h.key == "source")),
                });
            }
        }
    }
    Ok(records)
}

/// A count read back: word, count, timestamp, and whether it carried the
/// line's `source` header.
type Count = (String, i64, i64, bool);

/// Reads the counts in `topic`.
fn read_counts(bootstrap: &str, topic: &str, isolation: &str) -> Result<Vec<Count>> {
    read_topic(bootstrap, topic, isolation)?
        .into_iter()
        .map(|record| {
            let word = String::from_utf8(record.key.unwrap_or_default())?;
            let count = i64::from_be_bytes(record.value.unwrap_or_default().as_slice().try_into()?);
            Ok((word, count, record.timestamp, record.header))
        })
        .collect()
}

/// The count updates for `lines`, as (word, count), sorted: every word's
/// counts 1 to its total, each once.
fn expected_counts<'a>(
    lines: impl IntoIterator<Item = &'a (i32, &'a str, i64)>,
) -> Vec<(String, i64)> {
    let mut totals = BTreeMap::<&str, i64>::new();
    let mut updates = Vec::new();
    for (_, line, _) in lines {
        for word in line.split_whitespace() {
            let total = totals.entry(word).or_default();
            *total += 1;
            updates.push((word.to_owned(), *total));
        }
    }
    updates.sort();
    updates
}

fn sorted_counts(counts: &[Count]) -> Vec<(String, i64)> {
    let mut pairs: Vec<(String, i64)> = counts
        .iter()
        .map(|(word, count, _, _)| (word.clone(), *count))
        .collect();
    pairs.sort();
    pairs
}

/// Waits until `done` holds, failing after the timeout.
fn wait_until(what: &str, mut done: impl FnMut() -> Result<bool>) -> Result {
    let deadline = Instant::now() + TIMEOUT;
    while !done()? {
        if Instant::now() > deadline {
            return Err(format!("timed out waiting for {what}").into());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(())
}

fn config(bootstrap: &str, application: &str, guarantee: ProcessingGuarantee) -> StreamsConfig {
    StreamsConfig::new(application, bootstrap)
        .with_processing_guarantee(guarantee)
        .with_commit_interval(Duration::from_millis(200))
}

/// Waits until `instances` wrote `expected` counts (failing if one of
/// them fails), and returns them as read with `isolation`.
fn wait_for_counts(
    bootstrap: &str,
    instances: &mut [&mut KafkaStreams],
    expected: usize,
    isolation: &str,
) -> Result<Vec<Count>> {
    let mut counts = Vec::new();
    wait_until("the counts", || {
        for streams in instances.iter_mut() {
            if streams.state() == StreamsState::Error {
                return Err(format!("the application failed: {:?}", streams.close()).into());
            }
        }
        counts = read_counts(bootstrap, OUTPUT, isolation)?;
        Ok(counts.len() >= expected)
    })?;
    Ok(counts)
}

/// Runs word count until `expected` counts are out, then closes it.
fn run_until(
    bootstrap: &str,
    config: StreamsConfig,
    expected: usize,
    isolation: &str,
) -> Result<(KafkaStreams, Vec<Count>)> {
    let mut streams = KafkaStreams::new(word_count()?, config)?;
    streams.start()?;
    let counts = wait_for_counts(bootstrap, &mut [&mut streams], expected, isolation)?;
    streams.close()?;
    Ok((streams, counts))
}

fn setup() -> Result<KafkaFixture> {
    let kafka = KafkaFixture::embedded()?;
    create_topic(kafka.bootstrap_servers(), INPUT, PARTITIONS)?;
    create_topic(kafka.bootstrap_servers(), OUTPUT, PARTITIONS)?;
    Ok(kafka)
}

#[test]
fn word_count_runs_at_least_once_and_resumes_from_its_changelog_after_a_restart() -> Result {
    let kafka = setup()?;
    let bootstrap = kafka.bootstrap_servers();
    let application = "word-count";
    produce(bootstrap, &LINES[..2])?;
    let expected = expected_counts(&LINES[..2]);
    let (first, counts) = run_until(
        bootstrap,
        config(bootstrap, application, ProcessingGuarantee::AtLeastOnce)
            .with_repartition_purge_interval(Duration::ZERO),
        expected.len(),
        "read_uncommitted",
    )?;
    assert_eq!(sorted_counts(&counts), expected);
    // Each count carries its line's time and headers.
    for (word, _, timestamp, header) in &counts {
        let line = LINES
            .iter()
            .find(|(_, line, _)| line.split_whitespace().any(|w| w == word));
        assert!(
            line.is_some_and(|(_, _, ts)| ts <= timestamp),
            "{word} at {timestamp}"
        );
        assert!(header, "{word}");
    }
    assert_eq!(first.state(), StreamsState::NotRunning);
    let metrics = first.metrics();
    assert_eq!(
        metrics.tasks.records_processed,
        2 + 8,
        "2 lines, then 8 repartitioned words"
    );
    assert_eq!(metrics.tasks.restored_records, 0);
    assert_eq!(metrics.active_tasks, 0, "closed");

    // The internal topics: Kafka Streams' names, one partition per task,
    // and its configs.
    let (partitions, configs) = describe(bootstrap, "word-count-counts-repartition")?;
    assert_eq!(partitions, 2);
    assert_eq!(
        configs.get("cleanup.policy").map(String::as_str),
        Some("delete")
    );
    assert_eq!(configs.get("retention.ms").map(String::as_str), Some("-1"));
    let (partitions, configs) = describe(bootstrap, "word-count-counts-changelog")?;
    assert_eq!(partitions, 2);
    assert_eq!(
        configs.get("cleanup.policy").map(String::as_str),
        Some("compact")
    );

    // The repartitioned words were read and committed, so they were purged:
    // every partition of the repartition topic starts where it ends.
    let reader: BaseConsumer = client_config(bootstrap).create()?;
    let mut repartitioned = 0;
    for partition in 0..PARTITIONS {
        let (low, high) =
            reader.fetch_watermarks("word-count-counts-repartition", partition, TIMEOUT)?;
        assert_eq!(low, high, "partition {partition}");
        repartitioned += high;
    }
    assert_eq!(repartitioned, 8, "a record per word");

    // The group committed the end of every input partition.
    let consumer: BaseConsumer = client_config(bootstrap)
        .set("group.id", application)
        .create()?;
    let mut partitions = TopicPartitionList::new();
    partitions.add_partition(INPUT, 0);
    partitions.add_partition(INPUT, 1);
    let committed = consumer.committed_offsets(partitions, TIMEOUT)?;
    let offsets: Vec<Offset> = committed.elements().iter().map(|e| e.offset()).collect();
    assert_eq!(offsets, [Offset::Offset(1), Offset::Offset(1)]);

    // A second run restores the counts and carries on from them. It
    // commits only when closed, so until then its lag is what it read: the
    // 2 new lines and the 6 words it repartitioned.
    produce(bootstrap, &LINES[2..])?;
    let expected = expected_counts(&LINES);
    let config = config(bootstrap, application, ProcessingGuarantee::AtLeastOnce)
        .with_commit_interval(Duration::from_secs(3600));
    let mut second = KafkaStreams::new(word_count()?, config)?;
    second.start()?;
    wait_for_counts(
        bootstrap,
        &mut [&mut second],
        expected.len(),
        "read_uncommitted",
    )?;
    let mut lag = 0;
    wait_until("the lag of the uncommitted records", || {
        lag = second.metrics().consumer_lag;
        Ok(lag == 2 + 6)
    })
    .map_err(|error| format!("{error}: {lag}"))?;
    second.close()?;
    let counts = read_counts(bootstrap, OUTPUT, "read_uncommitted")?;
    assert_eq!(sorted_counts(&counts), expected);
    let metrics = second.metrics();
    assert_eq!(
        metrics.tasks.records_processed,
        2 + 6,
        "2 lines, then 6 words"
    );
    assert!(metrics.tasks.restored_records >= 8, "{metrics:?}");
    Ok(())
}

/// An application that never committed counts its lag from where it
/// starts reading: the whole backlog.
#[test]
fn a_fresh_application_reports_its_backlog_as_lag() -> Result {
    let kafka = setup()?;
    let bootstrap = kafka.bootstrap_servers();
    produce(bootstrap, &LINES)?;
    let expected = expected_counts(&LINES);
    let config = config(bootstrap, "fresh", ProcessingGuarantee::AtLeastOnce)
        .with_commit_interval(Duration::from_secs(3600));
    let mut streams = KafkaStreams::new(word_count()?, config)?;
    streams.start()?;
    wait_for_counts(
        bootstrap,
        &mut [&mut streams],
        expected.len(),
        "read_uncommitted",
    )?;
    let mut lag = 0;
    wait_until("the lag of the backlog", || {
        lag = streams.metrics().consumer_lag;
        Ok(lag == 4 + 14)
    })
    .map_err(|error| format!("{error}: {lag}; 4 lines and 14 words were read"))?;
    streams.close()?;
    Ok(())
}

#[test]
fn word_count_runs_exactly_once_in_transactions() -> Result {
    let kafka = setup()?;
    let bootstrap = kafka.bootstrap_servers();
    produce(bootstrap, &LINES)?;
    let expected = expected_counts(&LINES);
    let (streams, counts) = run_until(
        bootstrap,
        config(
            bootstrap,
            "word-count-eos",
            ProcessingGuarantee::ExactlyOnce,
        ),
        expected.len(),
        "read_committed",
    )?;
    assert_eq!(sorted_counts(&counts), expected);
    assert_eq!(streams.state(), StreamsState::NotRunning);
    // Nothing but the committed counts is in the topic.
    assert_eq!(
        read_counts(bootstrap, OUTPUT, "read_uncommitted")?.len(),
        expected.len()
    );
    Ok(())
}

/// Lines from the input topic through the processor `name` (made by
/// `supplier`) to the output topic.
fn lines_through<P>(
    name: &str,
    supplier: impl Fn() -> P + Send + Sync + 'static,
) -> Result<Topology>
where
    P: Processor<(), String, (), String>,
{
    Ok(TopologyBuilder::new()
        .add_source(
            "lines",
            &[INPUT],
            SourceOptions::new(UnitSerde, StringSerde),
        )
        .add_processor(name, supplier, &["lines"])
        .add_sink(
            "out",
            OUTPUT,
            SinkOptions::new(UnitSerde, StringSerde),
            &[name],
        )
        .build()?)
}

/// Forwards lines, and fails on a line `poison`.
struct FailOnPoison;

impl Processor<(), String, (), String> for FailOnPoison {
    fn process(
        &mut self,
        ctx: &mut ProcessorContext<'_, (), String>,
        record: Record<(), String>,
    ) -> Result<(), StreamsError> {
        if record.value == "poison" {
            return Err(StreamsError::processor("check", "a poisoned line"));
        }
        ctx.forward(record)
    }
}

#[test]
fn a_failure_under_exactly_once_aborts_what_was_processed_since_the_last_commit() -> Result {
    let kafka = setup()?;
    let bootstrap = kafka.bootstrap_servers();
    let topology = lines_through("check", || FailOnPoison)?;
    let application = "poisoned";
    let config = config(bootstrap, application, ProcessingGuarantee::ExactlyOnce)
        .with_commit_interval(Duration::from_secs(3600));
    let mut streams = KafkaStreams::new(topology, config)?;
    streams.start()?;
    // The values in the output topic, sorted: null keys are spread over
    // its partitions.
    let values = |isolation| -> Result<Vec<Vec<u8>>> {
        let mut values: Vec<Vec<u8>> = read_topic(bootstrap, OUTPUT, isolation)?
            .into_iter()
            .filter_map(|record| record.value)
            .collect();
        values.sort();
        Ok(values)
    };
    // Two lines processed and sent, in a transaction left open.
    produce(bootstrap, &[(0, "a", 1), (0, "b", 2)])?;
    wait_until("the lines to be sent", || {
        Ok(values("read_uncommitted")?.len() == 2)
    })?;
    produce(bootstrap, &[(0, "poison", 3)])?;
    wait_until("the failure", || Ok(streams.state() == StreamsState::Error))?;
    match streams.close() {
        Err(StreamsError::Processor { processor, .. }) => assert_eq!(processor, "check"),
        other => return Err(format!("expected the processor's error, got {other:?}").into()),
    }
    // The transaction aborted.
    assert_eq!(values("read_uncommitted")?, [b"a".to_vec(), b"b".to_vec()]);
    assert_eq!(values("read_committed")?, Vec::<Vec<u8>>::new());
    let consumer: BaseConsumer = client_config(bootstrap)
        .set("group.id", application)
        .create()?;
    let mut partitions = TopicPartitionList::new();
    partitions.add_partition(INPUT, 0);
    let committed = consumer.committed_offsets(partitions, TIMEOUT)?;
    let offsets: Vec<Offset> = committed.elements().iter().map(|e| e.offset()).collect();
    assert_eq!(offsets, [Offset::Invalid], "nothing committed");
    Ok(())
}

#[test]
fn a_global_table_is_loaded_before_processing_and_kept_up_to_date() -> Result {
    let kafka = setup()?;
    let bootstrap = kafka.bootstrap_servers();
    create_topic(bootstrap, "customers", PARTITIONS)?;
    let builder = StreamsBuilder::new();
    let customers = builder.global_table::<String, String>("customers");
    builder
        .stream::<String, String>(INPUT)
        .left_join_global(
            &customers,
            |customer: &String, _: &String| customer.clone(),
            |order: &String, name: Option<&String>| {
                format!("{order} for {}", name.map_or("?", String::as_str))
            },
        )
        .to(OUTPUT);
    produce_to(
        bootstrap,
        "customers",
        &[(0, Some("c1"), "Ada", 1), (1, Some("c2"), "Grace", 2)],
    )?;
    let mut streams = KafkaStreams::new(
        builder.build()?,
        config(bootstrap, "enrich", ProcessingGuarantee::AtLeastOnce),
    )?;
    streams.start()?;
    let enriched = || -> Result<Vec<String>> {
        let mut values = read_topic(bootstrap, OUTPUT, "read_uncommitted")?
            .into_iter()
            .map(|record| String::from_utf8(record.value.unwrap_or_default()))
            .collect::<Result<Vec<_>, _>>()?;
        values.sort();
        Ok(values)
    };
    produce_to(
        bootstrap,
        INPUT,
        &[
            (0, Some("c1"), "2 books", 10),
            (1, Some("c2"), "1 lamp", 11),
        ],
    )?;
    wait_until("the first orders", || {
        if streams.state() == StreamsState::Error {
            return Err(format!("failed: {:?}", streams.close()).into());
        }
        Ok(enriched()?.len() == 2)
    })?;
    assert_eq!(enriched()?, ["1 lamp for Grace", "2 books for Ada"]);
    // A change of the table reaches the running tasks. The global table is
    // read apart from the orders, as Kafka's global thread reads it, so
    // orders go in one a second until one is enriched with the new name;
    // each is enriched with the old name or the new one.
    produce_to(bootstrap, "customers", &[(0, Some("c1"), "Ada L.", 20)])?;
    let mut sent = 0;
    wait_until("an order enriched with the new name", || {
        let enriched = enriched()?;
        if enriched.iter().any(|order| order.ends_with("for Ada L.")) {
            return Ok(true);
        }
        if enriched.len() == 2 + sent {
            sent += 1;
            let order = format!("{sent} pens");
            produce_to(
                bootstrap,
                INPUT,
                &[(0, Some("c1"), &order, 20 + i64::try_from(sent)?)],
            )?;
            std::thread::sleep(Duration::from_secs(1));
        }
        Ok(false)
    })?;
    let enriched = enriched()?;
    assert!(enriched.contains(&"1 lamp for Grace".to_owned()));
    assert!(enriched.contains(&"2 books for Ada".to_owned()));
    for order in enriched.iter().filter(|order| order.contains("pens")) {
        assert!(
            order.ends_with("for Ada") || order.ends_with("for Ada L."),
            "{order}"
        );
    }
    assert_eq!(enriched.len(), 2 + sent);
    streams.close()?;
    Ok(())
}

/// Forwards lines, stalling the first time it sees `slow` for longer than
/// the consumer may go without polling.
struct StallOnce(std::sync::Arc<std::sync::atomic::AtomicBool>);

impl Processor<(), String, (), String> for StallOnce {
    fn process(
        &mut self,
        ctx: &mut ProcessorContext<'_, (), String>,
        record: Record<(), String>,
    ) -> Result<(), StreamsError> {
        if record.value == "slow" && !self.0.swap(true, std::sync::atomic::Ordering::SeqCst) {
            std::thread::sleep(Duration::from_secs(8));
        }
        ctx.forward(record)
    }
}

#[test]
fn a_member_dropped_from_the_group_closes_its_tasks_and_carries_on() -> Result {
    let kafka = setup()?;
    let bootstrap = kafka.bootstrap_servers();
    let stalled = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stall = stalled.clone();
    let topology = lines_through("stall", move || StallOnce(stall.clone()))?;
    // The shortest session the broker allows: the stall outlasts it, so
    // librdkafka leaves the group and the next commit is refused.
    let config = config(bootstrap, "stalled", ProcessingGuarantee::AtLeastOnce)
        .with_client_config("session.timeout.ms", "6000")
        .with_client_config("max.poll.interval.ms", "6000");
    let mut streams = KafkaStreams::new(topology, config)?;
    streams.start()?;
    produce(bootstrap, &[(0, "slow", 1), (0, "after", 2)])?;
    let values = || -> Result<Vec<String>> {
        read_topic(bootstrap, OUTPUT, "read_uncommitted")?
            .into_iter()
            .map(|record| Ok(String::from_utf8(record.value.unwrap_or_default())?))
            .collect()
    };
    wait_until("both lines, past the stall", || {
        if streams.state() == StreamsState::Error {
            return Err(format!("failed: {:?}", streams.close()).into());
        }
        let values = values()?;
        Ok(values.iter().any(|v| v == "slow") && values.iter().any(|v| v == "after"))
    })?;
    assert!(stalled.load(std::sync::atomic::Ordering::SeqCst));
    streams.close()?;
    Ok(())
}

#[test]
fn two_instances_share_the_partitions() -> Result {
    two_instances_share_the_partitions_with(ProcessingGuarantee::AtLeastOnce)
}

/// Under exactly-once, the first instance commits its transaction when the
/// second one's arrival revokes its partitions.
#[test]
fn two_instances_share_the_partitions_exactly_once() -> Result {
    two_instances_share_the_partitions_with(ProcessingGuarantee::ExactlyOnce)
}

fn two_instances_share_the_partitions_with(guarantee: ProcessingGuarantee) -> Result {
    let kafka = setup()?;
    let bootstrap = kafka.bootstrap_servers();
    let application = "word-count-shared";
    let isolation = match guarantee {
        ProcessingGuarantee::AtLeastOnce => "read_uncommitted",
        ProcessingGuarantee::ExactlyOnce => "read_committed",
    };
    // The first instance counts the first lines alone.
    let mut first = KafkaStreams::new(word_count()?, config(bootstrap, application, guarantee))?;
    first.start()?;
    produce(bootstrap, &LINES[..2])?;
    let early = expected_counts(&LINES[..2]).len();
    wait_for_counts(bootstrap, &mut [&mut first], early, isolation)?;
    assert_eq!(first.metrics().active_tasks, 4);
    // The second one's arrival revokes its partitions: it commits what it
    // did, and the two share the partitions and the counts from there.
    let mut second = KafkaStreams::new(word_count()?, config(bootstrap, application, guarantee))?;
    second.start()?;
    wait_until("the partitions to be shared", || {
        Ok(first.metrics().active_tasks == 2 && second.metrics().active_tasks == 2)
    })?;
    produce(bootstrap, &LINES[2..])?;
    let expected = expected_counts(&LINES);
    let counts = wait_for_counts(
        bootstrap,
        &mut [&mut first, &mut second],
        expected.len(),
        isolation,
    )?;
    assert_eq!(sorted_counts(&counts), expected);
    assert!(second.metrics().tasks.records_processed > 0);
    first.close()?;
    second.close()?;
    Ok(())
}

#[test]
fn two_stream_threads_share_the_partitions() -> Result {
    let kafka = setup()?;
    let bootstrap = kafka.bootstrap_servers();
    // The counts are in RocksDB, each task's in its own directory.
    let state_dir =
        std::env::temp_dir().join(format!("kafka-streams-threads-{}", std::process::id()));
    let config = config(bootstrap, "threads", ProcessingGuarantee::AtLeastOnce)
        .with_num_stream_threads(2)
        .with_state_dir(&state_dir)
        .with_state_cleanup_delay(Duration::from_millis(100));
    // A task this instance ran once and runs no more: its state goes.
    let gone = state_dir.join("threads").join("7_7");
    std::fs::create_dir_all(gone.join("rocksdb"))?;
    let mut streams = KafkaStreams::new(word_count_in(Materialized::named("counts"))?, config)?;
    streams.start()?;
    let tasks_per_thread = |streams: &KafkaStreams| -> Vec<usize> {
        let threads = streams.thread_metrics();
        threads.iter().map(|thread| thread.active_tasks).collect()
    };
    wait_until(
        "a task per partition and sub-topology on each thread",
        || Ok(tasks_per_thread(&streams) == [2, 2]),
    )?;
    assert_eq!(streams.state(), StreamsState::Running);
    produce(bootstrap, &LINES)?;
    let expected = expected_counts(&LINES);
    let counts = wait_for_counts(
        bootstrap,
        &mut [&mut streams],
        expected.len(),
        "read_uncommitted",
    )?;
    assert_eq!(sorted_counts(&counts), expected);
    let processed: Vec<u64> = streams
        .thread_metrics()
        .iter()
        .map(|thread| thread.tasks.records_processed)
        .collect();
    assert!(
        processed.iter().all(|&records| records > 0),
        "{processed:?}"
    );
    assert_eq!(
        streams.metrics().tasks.records_processed,
        processed.iter().sum::<u64>()
    );
    wait_until("the state of a task no longer run to go", || {
        Ok(!gone.exists())
    })?;
    let mut task_dirs: Vec<String> = std::fs::read_dir(state_dir.join("threads"))?
        .map(|entry| Ok(entry?.file_name().to_string_lossy().into_owned()))
        .collect::<Result<_>>()?;
    task_dirs.sort();
    assert_eq!(task_dirs, ["0_0", "0_1", "1_0", "1_1"]);
    streams.close()?;
    std::fs::remove_dir_all(&state_dir)?;
    assert_eq!(streams.state(), StreamsState::NotRunning);
    assert!(matches!(
        KafkaStreams::new(word_count()?, StreamsConfig::new("none", bootstrap).with_num_stream_threads(0)),
        Err(StreamsError::Runtime(error)) if matches!(*error, RuntimeError::NoStreamThreads)
    ));
    Ok(())
}

#[test]
fn a_restart_restores_rocksdb_counts_only_past_their_checkpoint() -> Result {
    a_restart_restores_rocksdb_counts_only_past_their_checkpoint_with(
        ProcessingGuarantee::AtLeastOnce,
    )
}

#[test]
fn a_restart_restores_rocksdb_counts_only_past_their_checkpoint_exactly_once() -> Result {
    a_restart_restores_rocksdb_counts_only_past_their_checkpoint_with(
        ProcessingGuarantee::ExactlyOnce,
    )
}

/// A clean close checkpoints the counts' changelog offsets in each task's
/// directory; the next run on the same directories restores nothing and
/// carries on from the counts RocksDB kept.
fn a_restart_restores_rocksdb_counts_only_past_their_checkpoint_with(
    guarantee: ProcessingGuarantee,
) -> Result {
    let kafka = setup()?;
    let bootstrap = kafka.bootstrap_servers();
    let state_dir = tempfile::tempdir()?;
    let application = "checkpointed";
    let isolation = match guarantee {
        ProcessingGuarantee::AtLeastOnce => "read_uncommitted",
        ProcessingGuarantee::ExactlyOnce => "read_committed",
    };
    // Runs word count over `lines` until the counts of every line so far
    // are out (`so_far`), then closes it.
    let run = |lines: &[(i32, &str, i64)], so_far: &[(i32, &str, i64)]| -> Result<KafkaStreams> {
        produce(bootstrap, lines)?;
        let config = config(bootstrap, application, guarantee).with_state_dir(state_dir.path());
        let mut streams = KafkaStreams::new(word_count_in(Materialized::named("counts"))?, config)?;
        streams.start()?;
        wait_for_counts(
            bootstrap,
            &mut [&mut streams],
            expected_counts(so_far).len(),
            isolation,
        )?;
        streams.close()?;
        Ok(streams)
    };
    let first = run(&LINES[..2], &LINES[..2])?;
    assert_eq!(first.metrics().tasks.restored_records, 0);

    // Each counting task (sub-topology 1) checkpointed its changelog
    // partition: up to its last record (under exactly once the commit
    // marker follows it).
    let reader: BaseConsumer = client_config(bootstrap).create()?;
    let changelog = "checkpointed-counts-changelog";
    for partition in 0..PARTITIONS {
        let task_dir = state_dir
            .path()
            .join(application)
            .join(format!("1_{partition}"));
        let checkpoint = state_stores::CheckpointFile::in_dir(&task_dir)
            .read()?
            .ok_or("no checkpoint")?;
        let (_, end) = reader.fetch_watermarks(changelog, partition, TIMEOUT)?;
        let markers = match guarantee {
            ProcessingGuarantee::AtLeastOnce => 0,
            ProcessingGuarantee::ExactlyOnce => 1,
        };
        let key = state_stores::TopicPartition::new(changelog, partition);
        assert_eq!(
            checkpoint.get(&key),
            Some(&(end - markers)),
            "partition {partition}"
        );
    }

    let second = run(&LINES[2..], &LINES)?;
    assert_eq!(second.metrics().tasks.restored_records, 0);
    let counts = read_counts(bootstrap, OUTPUT, isolation)?;
    assert_eq!(sorted_counts(&counts), expected_counts(&LINES));
    // Cleaning up deletes the application's state, checkpoints and all.
    second.clean_up()?;
    assert!(!state_dir.path().join(application).exists());
    assert!(state_dir.path().exists());
    Ok(())
}

/// Under exactly-once a changelog can end in an aborted transaction and
/// its marker: a restore reads past them to the end, restoring only
/// committed counts, and the next run counts on from those.
#[test]
fn an_exactly_once_restore_reads_past_an_aborted_tail() -> Result {
    let kafka = setup()?;
    let bootstrap = kafka.bootstrap_servers();
    let application = "aborted-tail";
    let config = config(bootstrap, application, ProcessingGuarantee::ExactlyOnce);
    produce(bootstrap, &LINES[..2])?;
    let (first, _) = run_until(
        bootstrap,
        config.clone(),
        expected_counts(&LINES[..2]).len(),
        "read_committed",
    )?;
    let restorable = first.metrics().tasks.records_processed - 2;

    // Counts of a transaction that never commits, on every partition.
    let producer: ThreadedProducer<DefaultProducerContext> = client_config(bootstrap)
        .set("transactional.id", "aborted-tail-writer")
        .create()?;
    producer.init_transactions(TIMEOUT)?;
    producer.begin_transaction()?;
    for partition in 0..PARTITIONS {
        for word in ["kafka", "streams", "ghost"] {
            let value = 1_000_i64.to_be_bytes();
            let record = BaseRecord::<[u8], [u8]>::to("aborted-tail-counts-changelog")
                .partition(partition)
                .key(word.as_bytes())
                .payload(&value);
            producer.send(record).map_err(|(error, _)| error)?;
        }
    }
    producer.flush(TIMEOUT)?;
    producer.abort_transaction(TIMEOUT)?;

    produce(bootstrap, &LINES[2..])?;
    let mut second = KafkaStreams::new(word_count()?, config)?;
    second.start()?;
    let counts = wait_for_counts(
        bootstrap,
        &mut [&mut second],
        expected_counts(&LINES).len(),
        "read_committed",
    )?;
    second.close()?;
    assert_eq!(sorted_counts(&counts), expected_counts(&LINES));
    let metrics = second.metrics();
    assert_eq!(metrics.tasks.restored_records, restorable, "{metrics:?}");
    assert_eq!(metrics.tasks.records_to_restore, 0);
    Ok(())
}

/// Forwards lines, and panics on a line `poison`.
struct PanicOnPoison;

impl Processor<(), String, (), String> for PanicOnPoison {
    fn process(
        &mut self,
        ctx: &mut ProcessorContext<'_, (), String>,
        record: Record<(), String>,
    ) -> Result<(), StreamsError> {
        assert_ne!(record.value, "poison", "a poisoned line");
        ctx.forward(record)
    }
}

/// A state listener that panics is the user's problem, not the
/// application's; a processor that panics stops the application as an
/// error does, and closing it does not hang.
#[test]
fn panics_in_a_state_listener_are_logged_and_in_a_processor_stop_the_application() -> Result {
    let kafka = setup()?;
    let bootstrap = kafka.bootstrap_servers();
    let topology = lines_through("check", || PanicOnPoison)?;
    let config = config(bootstrap, "panicky", ProcessingGuarantee::AtLeastOnce);
    let mut streams = KafkaStreams::new(topology, config)?;
    streams
        .set_state_listener(|_, new| assert_ne!(new, StreamsState::Running, "a listener panic"))?;
    streams.start()?;
    produce(bootstrap, &[(0, "a", 1)])?;
    wait_until("the line", || {
        Ok(read_topic(bootstrap, OUTPUT, "read_uncommitted")?.len() == 1)
    })?;
    assert_eq!(streams.state(), StreamsState::Running);
    produce(bootstrap, &[(0, "poison", 2)])?;
    wait_until("the failure", || Ok(streams.state() == StreamsState::Error))?;
    match streams.close() {
        Err(StreamsError::Runtime(error)) if matches!(*error, RuntimeError::ThreadPanicked) => {}
        other => return Err(format!("expected the thread's panic, got {other:?}").into()),
    }
    streams.clean_up()?;
    Ok(())
}

/// What a state restore listener was told, in order.
#[derive(Debug, Clone, PartialEq)]
enum RestoreEvent {
    Start(TopicPartition, String, i64, i64),
    Batch(TopicPartition, u64),
    End(TopicPartition, String, u64),
}

/// Keeps what it is told.
#[derive(Clone, Default)]
struct RestoreEvents(std::sync::Arc<std::sync::Mutex<Vec<RestoreEvent>>>);

impl RestoreEvents {
    fn push(&self, event: RestoreEvent) {
        if let Ok(mut events) = self.0.lock() {
            events.push(event);
        }
    }

    fn taken(&self) -> Vec<RestoreEvent> {
        self.0
            .lock()
            .map(|events| events.clone())
            .unwrap_or_default()
    }
}

impl StateRestoreListener for RestoreEvents {
    fn on_restore_start(&self, changelog: &TopicPartition, store: &str, start: i64, end: i64) {
        self.push(RestoreEvent::Start(
            changelog.clone(),
            store.to_owned(),
            start,
            end,
        ));
    }

    fn on_batch_restored(&self, changelog: &TopicPartition, _: &str, _: i64, records: u64) {
        self.push(RestoreEvent::Batch(changelog.clone(), records));
    }

    fn on_restore_end(&self, changelog: &TopicPartition, store: &str, total: u64) {
        self.push(RestoreEvent::End(
            changelog.clone(),
            store.to_owned(),
            total,
        ));
    }
}

/// How many counts of no interest a pre-filled changelog holds.
const FILLERS: usize = 100_000;
/// The count a pre-filled changelog holds for each word of the lines.
const RESTORED_COUNT: i64 = 1_000;

/// Fills every partition of `changelog` with the same counts (so that
/// each word's count is restored whichever task it belongs to): FILLERS
/// words of no interest, then each word of the lines at RESTORED_COUNT.
/// Returns how many records each partition holds.
fn fill_changelog(bootstrap: &str, changelog: &str) -> Result<u64> {
    create_topic(bootstrap, changelog, PARTITIONS)?;
    let producer: ThreadedProducer<DefaultProducerContext> =
        client_config(bootstrap).set("acks", "all").create()?;
    let words: BTreeMap<&str, ()> = LINES
        .iter()
        .flat_map(|(_, line, _)| line.split_whitespace())
        .map(|word| (word, ()))
        .collect();
    for partition in 0..PARTITIONS {
        let fillers = (0..FILLERS).map(|i| (format!("filler-{i}"), 1_i64));
        let counted = words
            .keys()
            .map(|word| ((*word).to_owned(), RESTORED_COUNT));
        for (word, count) in fillers.chain(counted) {
            let value = count.to_be_bytes();
            let record = BaseRecord::<[u8], [u8]>::to(changelog)
                .partition(partition)
                .key(word.as_bytes())
                .payload(&value)
                .timestamp(1);
            let mut record = Some(record);
            while let Some(sending) = record.take() {
                if let Err((error, unsent)) = producer.send(sending) {
                    if !matches!(
                        error,
                        KafkaError::MessageProduction(rdkafka::types::RDKafkaErrorCode::QueueFull)
                    ) {
                        return Err(error.into());
                    }
                    std::thread::sleep(Duration::from_millis(1));
                    record = Some(unsent);
                }
            }
        }
    }
    producer.flush(TIMEOUT)?;
    Ok((FILLERS + words.len()) as u64)
}

/// The counts word count writes for the lines over a restored changelog.
fn restored_on() -> Vec<(String, i64)> {
    expected_counts(&LINES)
        .into_iter()
        .map(|(word, count)| (word, RESTORED_COUNT + count))
        .collect()
}

/// Waits until `instance` restored something and then everything.
fn wait_for_restore(instance: &mut KafkaStreams) -> Result<BTreeMap<u64, StreamsState>> {
    let mut left_to_restore = BTreeMap::new();
    let deadline = Instant::now() + TIMEOUT;
    loop {
        let (metrics, state) = (instance.metrics(), instance.state());
        let left = metrics.tasks.records_to_restore;
        if left == 0 && !left_to_restore.is_empty() {
            return Ok(left_to_restore);
        }
        if left > 0 {
            left_to_restore.insert(left, state);
        }
        if state == StreamsState::Error || Instant::now() > deadline {
            return Err(format!("no restore seen: {:?}", instance.close()).into());
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// A task restores its store a batch per round of the thread's loop, its
/// input partitions paused meanwhile: the instance is rebalancing and
/// reports what it has left to restore until it is done, then counts on
/// from the restored counts.
#[test]
fn a_restore_runs_in_the_poll_loop_and_reports_its_progress() -> Result {
    let kafka = setup()?;
    let bootstrap = kafka.bootstrap_servers();
    let per_partition = fill_changelog(bootstrap, "restoring-counts-changelog")?;
    produce(bootstrap, &LINES)?;

    let config = config(bootstrap, "restoring", ProcessingGuarantee::AtLeastOnce);
    let mut streams = KafkaStreams::new(word_count()?, config)?;
    let changes = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let listened = std::sync::Arc::clone(&changes);
    streams.set_state_listener(move |old, new| {
        if let Ok(mut changes) = listened.lock() {
            changes.push((old, new));
        }
    })?;
    let restores = RestoreEvents::default();
    streams.set_state_restore_listener(restores.clone())?;
    streams.start()?;
    assert!(matches!(
        streams.set_state_listener(|_, _| {}),
        Err(StreamsError::Runtime(error)) if matches!(*error, RuntimeError::AlreadyStarted)
    ));
    assert!(matches!(
        streams.clean_up(),
        Err(StreamsError::Runtime(error)) if matches!(*error, RuntimeError::CleanUpWhileRunning)
    ));
    // The counting tasks restore (the tasks reading the lines have no
    // store, and run at once): the instance rebalances meanwhile, and
    // what is left to restore shrinks batch by batch.
    let left_to_restore = wait_for_restore(&mut streams)?;
    assert!(
        left_to_restore.len() > 1,
        "progress in steps: {left_to_restore:?}"
    );
    assert!(
        left_to_restore
            .values()
            .all(|state| *state == StreamsState::Rebalancing),
        "{left_to_restore:?}"
    );
    let counts = wait_for_counts(
        bootstrap,
        &mut [&mut streams],
        expected_counts(&LINES).len(),
        "read_uncommitted",
    )?;
    streams.close()?;
    let metrics = streams.metrics();
    assert_eq!(metrics.tasks.restored_records, 2 * per_partition);
    assert_eq!(metrics.tasks.records_to_restore, 0);
    assert_eq!(sorted_counts(&counts), restored_on());
    // The listener was told of each partition's restore: its start, its
    // batches, which add up, and its end.
    let events = restores.taken();
    for partition in 0..PARTITIONS {
        let changelog = TopicPartition::new("restoring-counts-changelog", partition);
        let of_partition: Vec<&RestoreEvent> = events
            .iter()
            .filter(|event| match event {
                RestoreEvent::Start(tp, ..)
                | RestoreEvent::Batch(tp, _)
                | RestoreEvent::End(tp, ..) => *tp == changelog,
            })
            .collect();
        let counts = "counts".to_owned();
        let size = i64::try_from(per_partition)?;
        assert_eq!(
            of_partition.first(),
            Some(&&RestoreEvent::Start(
                changelog.clone(),
                counts.clone(),
                0,
                size
            ))
        );
        assert_eq!(
            of_partition.last(),
            Some(&&RestoreEvent::End(
                changelog.clone(),
                counts,
                per_partition
            ))
        );
        let batched: u64 = of_partition
            .iter()
            .filter_map(|event| match event {
                RestoreEvent::Batch(_, records) => Some(*records),
                _ => None,
            })
            .sum();
        assert_eq!(batched, per_partition);
    }
    // Running only once restored.
    use StreamsState::{Created, NotRunning, PendingShutdown, Rebalancing, Running};
    assert_eq!(
        *changes.lock().map_err(|_| "poisoned")?,
        [
            (Created, Rebalancing),
            (Rebalancing, Running),
            (Running, PendingShutdown),
            (PendingShutdown, NotRunning)
        ]
    );
    Ok(())
}

/// A second instance joining while the first restores takes tasks from
/// it mid-restore: both restore what they are given, from the start, and
/// the counts carry on from the restored ones.
#[test]
fn tasks_taken_mid_restore_restore_again_where_they_land() -> Result {
    let kafka = setup()?;
    let bootstrap = kafka.bootstrap_servers();
    let per_partition = fill_changelog(bootstrap, "moving-counts-changelog")?;
    produce(bootstrap, &LINES)?;
    let config = config(bootstrap, "moving", ProcessingGuarantee::AtLeastOnce);
    let mut first = KafkaStreams::new(word_count()?, config.clone())?;
    first.start()?;
    let deadline = Instant::now() + TIMEOUT;
    while first.metrics().tasks.restored_records == 0 {
        if first.state() == StreamsState::Error || Instant::now() > deadline {
            return Err(format!("no restore: {:?}", first.close()).into());
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    let mut second = KafkaStreams::new(word_count()?, config)?;
    second.start()?;
    let counts = wait_for_counts(
        bootstrap,
        &mut [&mut first, &mut second],
        expected_counts(&LINES).len(),
        "read_uncommitted",
    )?;
    assert_eq!(sorted_counts(&counts), restored_on());
    first.close()?;
    second.close()?;
    let (first, second) = (first.metrics(), second.metrics());
    assert_eq!(first.tasks.records_to_restore, 0, "{first:?}");
    assert_eq!(second.tasks.records_to_restore, 0, "{second:?}");
    // Each partition was restored at least once, some more than once.
    let restored = first.tasks.restored_records + second.tasks.restored_records;
    assert!(restored >= 2 * per_partition, "{restored}");
    Ok(())
}

#[test]
fn a_missing_source_topic_stops_the_application_with_an_error() -> Result {
    let kafka = KafkaFixture::embedded()?;
    let mut streams = KafkaStreams::new(
        word_count()?,
        config(
            kafka.bootstrap_servers(),
            "no-input",
            ProcessingGuarantee::AtLeastOnce,
        ),
    )?;
    streams.start()?;
    wait_until("the error", || Ok(streams.state() == StreamsState::Error))?;
    match streams.close() {
        Err(StreamsError::Runtime(error)) => {
            assert!(
                matches!(&*error, RuntimeError::MissingSourceTopics(topics) if topics == &[INPUT.to_owned()]),
                "{error}"
            );
        }
        other => return Err(format!("expected a missing topic, got {other:?}").into()),
    }
    // Closing again (or dropping) keeps the state that says what happened.
    streams.close()?;
    assert_eq!(streams.state(), StreamsState::Error);
    Ok(())
}
