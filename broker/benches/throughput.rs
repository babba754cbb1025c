//! Produce and consume throughput, and produce-to-consume latency, through
//! librdkafka against an in-process broker on one partition.
//!
//! Run with `cargo bench -p streams-broker --bench throughput`. Figures are
//! printed; nothing is asserted, since they depend on the machine.

use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use streams_broker::{Broker, BrokerConfig};

const TIMEOUT: Duration = Duration::from_secs(120);

fn config(bootstrap: &str, extra: &[(&str, &str)]) -> ClientConfig {
    let mut config = ClientConfig::new();
    config.set("bootstrap.servers", bootstrap);
    for (key, value) in extra {
        config.set(*key, *value);
    }
    config
}

fn report(what: &str, records: usize, bytes: usize, elapsed: Duration) {
    let secs = elapsed.as_secs_f64();
    println!(
        "{what:<34} {:>10.0} records/s {:>8.1} MB/s  ({records} records in {secs:.2} s)",
        records as f64 / secs,
        bytes as f64 / secs / 1e6,
    );
}

/// Sends `count` records of `size` bytes as fast as the producer takes them.
fn produce(bootstrap: &str, topic: &str, count: usize, size: usize) {
    let producer: BaseProducer = config(
        bootstrap,
        &[
            ("compression.type", "lz4"),
            ("linger.ms", "10"),
            ("batch.size", "1000000"),
            ("queue.buffering.max.messages", "2000000"),
            ("queue.buffering.max.kbytes", "2000000"),
        ],
    )
    .create()
    .expect("producer");
    let payload = vec![b'x'; size];
    let started = Instant::now();
    for _ in 0..count {
        let mut record = BaseRecord::<(), [u8]>::to(topic)
            .partition(0)
            .payload(&payload);
        loop {
            match producer.send(record) {
                Ok(()) => break,
                Err((_, returned)) => {
                    producer.poll(Duration::from_millis(1));
                    record = returned;
                }
            }
        }
    }
    producer.flush(TIMEOUT).expect("flush");
    report(
        &format!("produce {size} B lz4"),
        count,
        count * size,
        started.elapsed(),
    );
}

/// Reads `count` records from the start of the partition.
fn consume(bootstrap: &str, topic: &str, count: usize, size: usize) {
    let consumer: BaseConsumer = config(
        bootstrap,
        &[("group.id", "bench"), ("enable.auto.commit", "false")],
    )
    .create()
    .expect("consumer");
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition_offset(topic, 0, Offset::Beginning)
        .expect("offset");
    consumer.assign(&tpl).expect("assign");
    let started = Instant::now();
    let mut seen = 0;
    while seen < count && started.elapsed() < TIMEOUT {
        if let Some(message) = consumer.poll(Duration::from_millis(100)) {
            message.expect("consume");
            seen += 1;
        }
    }
    report(
        &format!("consume {size} B lz4"),
        seen,
        seen * size,
        started.elapsed(),
    );
}

/// Sends `rate` records per second for `seconds` and measures how long each
/// takes to reach a consumer, with the producer's settings in `extra`.
fn latency(
    bootstrap: &str,
    topic: &str,
    rate: u32,
    seconds: u32,
    label: &str,
    extra: &[(&str, &str)],
) {
    let consumer: BaseConsumer = config(
        bootstrap,
        &[
            ("group.id", "latency"),
            ("enable.auto.commit", "false"),
            // The topic does not exist until the producer creates it; reset
            // to its start rather than skipping what was produced meanwhile.
            ("auto.offset.reset", "earliest"),
        ],
    )
    .create()
    .expect("consumer");
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition_offset(topic, 0, Offset::End)
        .expect("offset");
    consumer.assign(&tpl).expect("assign");
    let origin = Instant::now();
    let total = (rate * seconds) as usize;
    let reader = std::thread::spawn(move || {
        let mut latencies = Vec::with_capacity(total);
        let deadline = Instant::now() + TIMEOUT;
        while latencies.len() < total && Instant::now() < deadline {
            if let Some(Ok(message)) = consumer.poll(Duration::from_millis(100)) {
                let sent = message
                    .payload()
                    .and_then(|p| <[u8; 8]>::try_from(p).ok())
                    .map(u64::from_be_bytes)
                    .unwrap_or_default();
                let now = origin.elapsed().as_nanos() as u64;
                latencies.push(Duration::from_nanos(now.saturating_sub(sent)));
            }
        }
        latencies
    });
    // Let the consumer reach the log end before timing anything.
    std::thread::sleep(Duration::from_secs(1));
    let producer: BaseProducer = config(bootstrap, extra).create().expect("producer");
    let interval = Duration::from_secs(1) / rate;
    let start = Instant::now();
    for i in 0..total {
        let due = start + interval * i as u32;
        while Instant::now() < due {
            producer.poll(Duration::ZERO);
            std::thread::sleep(Duration::from_micros(100));
        }
        let stamp = (origin.elapsed().as_nanos() as u64).to_be_bytes();
        producer
            .send(
                BaseRecord::<(), [u8]>::to(topic)
                    .partition(0)
                    .payload(&stamp),
            )
            .map_err(|(e, _)| e)
            .expect("send");
    }
    producer.flush(TIMEOUT).expect("flush");
    let mut latencies = reader.join().expect("reader");
    latencies.sort();
    let at = |q: f64| {
        latencies
            .get(((latencies.len() as f64 * q) as usize).min(latencies.len().saturating_sub(1)))
            .copied()
            .unwrap_or_default()
    };
    println!(
        "latency {label:<26} {} records at {rate}/s: median {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        latencies.len(),
        at(0.5).as_secs_f64() * 1e3,
        at(0.99).as_secs_f64() * 1e3,
        at(1.0).as_secs_f64() * 1e3,
    );
}

fn main() {
    let data = tempfile::tempdir().expect("tempdir");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let broker = runtime
        .block_on(Broker::start(BrokerConfig::new(data.path())))
        .expect("broker");
    let bootstrap = broker.bootstrap_servers();
    println!("broker at {bootstrap}");

    produce(&bootstrap, "bench-100", 2_000_000, 100);
    consume(&bootstrap, "bench-100", 2_000_000, 100);
    produce(&bootstrap, "bench-1k", 500_000, 1024);
    consume(&bootstrap, "bench-1k", 500_000, 1024);
    latency(
        &bootstrap,
        "latency-default",
        1_000,
        5,
        "(librdkafka defaults)",
        &[],
    );
    latency(
        &bootstrap,
        "latency-linger0",
        1_000,
        5,
        "(linger.ms=0)",
        &[("linger.ms", "0")],
    );

    runtime.block_on(broker.shutdown()).expect("shutdown");
}
