//! Word count run by `KafkaStreams` on the bundled broker, against reading
//! the same input with a bare librdkafka consumer.
//!
//! Produces lines of words into a two-partition topic, then, in the same
//! run, (1) reads them back with a consumer (the baseline: what moving the
//! input alone costs) and (2) runs the DSL word count with an in-memory
//! store, at least once, until every count is in the output topic. Every
//! word makes three records on the way (repartition, changelog, output),
//! all through the broker. Prints both times, the ratio, and words per
//! second.
//!
//! `cargo bench -p streams-tests --bench kafka_streams [-- LINES]`
//! (10 words a line; 100,000 lines by default).

use std::time::{Duration, Instant};

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::producer::{BaseRecord, DefaultProducerContext, Producer, ThreadedProducer};
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::{Offset, TopicPartitionList};

use streams_core::runtime::{KafkaStreams, StreamsConfig, StreamsState};
use streams_dsl::{Materialized, StreamsBuilder};
use streams_testcontainers::KafkaFixture;

type Result<T = (), E = Box<dyn std::error::Error>> = std::result::Result<T, E>;

const INPUT: &str = "lines";
const OUTPUT: &str = "counts";
const PARTITIONS: i32 = 2;
const WORDS_PER_LINE: usize = 10;
const TIMEOUT: Duration = Duration::from_secs(600);

fn client(bootstrap: &str) -> ClientConfig {
    let mut config = ClientConfig::new();
    config.set("bootstrap.servers", bootstrap);
    config
}

/// Deterministic lines of words from a vocabulary of 10,000.
fn lines(count: usize) -> Vec<String> {
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state % 10_000
    };
    (0..count)
        .map(|_| {
            (0..WORDS_PER_LINE)
                .map(|_| format!("word{}", next()))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

fn create_topics(bootstrap: &str) -> Result {
    let admin: AdminClient<DefaultClientContext> = client(bootstrap).create()?;
    let topics =
        [INPUT, OUTPUT].map(|name| NewTopic::new(name, PARTITIONS, TopicReplication::Fixed(1)));
    let options = AdminOptions::new().operation_timeout(Some(Duration::from_secs(30)));
    let created = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(admin.create_topics(&topics, &options))?;
    for result in created {
        match result {
            Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((topic, code)) => return Err(format!("creating {topic}: {code}").into()),
        }
    }
    Ok(())
}

fn produce(bootstrap: &str, lines: &[String]) -> Result {
    let producer: ThreadedProducer<DefaultProducerContext> = client(bootstrap)
        .set("linger.ms", "5")
        .set("queue.buffering.max.messages", "1000000")
        .create()?;
    for (index, line) in lines.iter().enumerate() {
        let partition = i32::try_from(index % 2)?;
        let mut record = BaseRecord::<(), str>::to(INPUT)
            .partition(partition)
            .payload(line.as_str());
        loop {
            match producer.send(record) {
                Ok(()) => break,
                Err((_, returned)) => {
                    record = returned;
                    std::thread::sleep(Duration::from_millis(1));
                }
            }
        }
    }
    producer.flush(Duration::from_secs(60))?;
    Ok(())
}

/// The baseline: reads every input record with a bare consumer.
fn consume_input(bootstrap: &str, expected: usize) -> Result<Duration> {
    let start = Instant::now();
    let consumer: BaseConsumer = client(bootstrap)
        .set("group.id", "baseline")
        .set("enable.auto.commit", "false")
        .create()?;
    let mut assignment = TopicPartitionList::new();
    for partition in 0..PARTITIONS {
        assignment.add_partition_offset(INPUT, partition, Offset::Beginning)?;
    }
    consumer.assign(&assignment)?;
    let mut read = 0;
    while read < expected {
        if start.elapsed() > TIMEOUT {
            return Err(format!("read {read} of {expected} lines").into());
        }
        if let Some(message) = consumer.poll(Duration::from_millis(100)) {
            message?;
            read += 1;
        }
    }
    Ok(start.elapsed())
}

/// Runs word count until the output topic holds `expected` counts.
fn run_word_count(bootstrap: &str, expected: i64) -> Result<Duration> {
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
    let start = Instant::now();
    let mut streams = KafkaStreams::new(builder.build()?, StreamsConfig::new("bench", bootstrap))?;
    streams.start()?;
    let watcher: BaseConsumer = client(bootstrap).create()?;
    loop {
        if streams.state() == StreamsState::Error {
            return Err(format!("the application failed: {:?}", streams.close()).into());
        }
        if start.elapsed() > TIMEOUT {
            return Err("word count did not finish".into());
        }
        let mut written = 0;
        for partition in 0..PARTITIONS {
            written += watcher
                .fetch_watermarks(OUTPUT, partition, Duration::from_secs(10))?
                .1;
        }
        if written >= expected {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let elapsed = start.elapsed();
    streams.close()?;
    Ok(elapsed)
}

fn main() -> Result {
    let count: usize = std::env::args()
        .skip(1)
        .find_map(|arg| arg.parse().ok())
        .unwrap_or(100_000);
    let kafka = KafkaFixture::embedded()?;
    let bootstrap = kafka.bootstrap_servers();
    create_topics(bootstrap)?;
    let lines = lines(count);
    produce(bootstrap, &lines)?;
    let words = count * WORDS_PER_LINE;
    println!("word count through KafkaStreams on the bundled broker: {count} lines, {words} words");

    let baseline = consume_input(bootstrap, count)?;
    println!(
        "bare consumer, input only: {:>8.3} s",
        baseline.as_secs_f64()
    );
    let engine = run_word_count(bootstrap, i64::try_from(words)?)?;
    println!(
        "KafkaStreams word count:   {:>8.3} s  ratio {:>5.1}x  ({:.0} words/s)",
        engine.as_secs_f64(),
        engine.as_secs_f64() / baseline.as_secs_f64(),
        words as f64 / engine.as_secs_f64()
    );
    Ok(())
}
