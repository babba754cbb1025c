//! Word count, the main demo: lines of text in, a running count per word
//! out, run by `KafkaStreams` against the bundled broker, started
//! in-process; `word-count --bootstrap-servers HOST:PORT` runs the same
//! program against a Kafka cluster instead.

use std::time::{Duration, Instant};

use streams_core::prelude::*;
use streams_core::runtime::{KafkaStreams, StreamsConfig, StreamsState};
use streams_examples::kafka;
use streams_examples::word_count::{self, INPUT_TOPIC, OUTPUT_TOPIC};
use streams_testcontainers::KafkaFixture;

const LINES: [&str; 3] = [
    "All streams lead to Kafka",
    "Hello Kafka Streams",
    "Join Kafka Summit",
];

fn main() -> Result<(), kafka::Error> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();
    let mut args = std::env::args().skip(1);
    let cluster = match (args.next().as_deref(), args.next()) {
        (Some("--bootstrap-servers"), Some(bootstrap)) => bootstrap,
        (None, _) => String::new(),
        _ => return Err("usage: word-count [--bootstrap-servers HOST:PORT]".into()),
    };
    // The bundled broker, unless a cluster was named; it stops on drop.
    let bundled = if cluster.is_empty() {
        Some(KafkaFixture::embedded()?)
    } else {
        None
    };
    let bootstrap = bundled
        .as_ref()
        .map_or(cluster.as_str(), KafkaFixture::bootstrap_servers);
    println!("bootstrap servers: {bootstrap}");

    let topology = word_count::topology()?;
    println!("{}", topology.describe());
    kafka::create_topics(bootstrap, &[INPUT_TOPIC, OUTPUT_TOPIC])?;
    kafka::produce_values(bootstrap, INPUT_TOPIC, &LINES)?;

    let config = StreamsConfig::new("word-count-demo", bootstrap)
        .with_commit_interval(Duration::from_millis(100));
    let mut streams = KafkaStreams::new(topology, config)?;
    streams.start()?;
    let expected: usize = LINES
        .iter()
        .map(|line| line.split_whitespace().count())
        .sum();
    let mut counts = kafka::Reader::new(bootstrap, OUTPUT_TOPIC)?;
    println!("word counts (word = count @ timestamp):");
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut printed = 0;
    while printed < expected {
        if streams.state() == StreamsState::Error || Instant::now() > deadline {
            streams.close()?;
            return Err(format!("{printed} of {expected} counts arrived").into());
        }
        for (word, count, timestamp) in counts.poll(StringSerde, I64Serde)? {
            println!("  {word} = {count} @ {timestamp}");
            printed += 1;
        }
    }
    streams.close()?;
    let metrics = streams.metrics();
    println!(
        "processed {} records in {} commits",
        metrics.tasks.records_processed, metrics.tasks.commits
    );
    Ok(())
}
