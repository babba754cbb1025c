//! Produce and consume throughput, and produce-to-consume latency, through
//! librdkafka on one partition: against the in-process broker and, in the
//! same run, against librdkafka's own mock cluster as a baseline.
//!
//! Run with `cargo bench -p streams-broker --bench throughput`. Figures are
//! printed; nothing is asserted, since they depend on the machine. Each
//! workload runs against both clusters back to back and is also reported as
//! a ratio (ours / baseline), which varies far less than the figures on a
//! shared machine.
//!
//! Producers batch (the throughput workloads set `linger.ms` and
//! `batch.size`); consumers keep librdkafka's defaults, except for the
//! second consume figure (see [`CONSUMERS`]).
//!
//! The mock cluster is a fair baseline for producing only: it answers a
//! fetch with nothing new only after `fetch.wait.max.ms` (so its latency is
//! hundreds of milliseconds), and it serves logs of large batches of poorly
//! compressible records very slowly.

use std::time::{Duration, Instant};

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
use rdkafka::mocking::MockCluster;
use rdkafka::producer::{BaseProducer, BaseRecord, DefaultProducerContext, Producer};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use streams_broker::{Broker, BrokerConfig};

const TIMEOUT: Duration = Duration::from_secs(120);

/// A cluster the workloads run against.
enum Cluster {
    Ours {
        runtime: tokio::runtime::Runtime,
        broker: Broker,
        _data: tempfile::TempDir,
    },
    Baseline(MockCluster<'static, DefaultProducerContext>),
}

impl Cluster {
    fn ours() -> Self {
        let data = tempfile::tempdir().expect("tempdir");
        let runtime = tokio::runtime::Runtime::new().expect("runtime");
        let broker = runtime
            .block_on(Broker::start(BrokerConfig::new(data.path())))
            .expect("broker");
        Self::Ours {
            runtime,
            broker,
            _data: data,
        }
    }

    fn baseline() -> Self {
        Self::Baseline(MockCluster::new(1).expect("mock cluster"))
    }

    fn bootstrap(&self) -> String {
        match self {
            Self::Ours { broker, .. } => broker.bootstrap_servers(),
            Self::Baseline(mock) => mock.bootstrap_servers(),
        }
    }

    /// Creates a topic of one partition, so consumers can start before the
    /// first record is produced without missing any.
    fn create_topic(&self, topic: &str) {
        match self {
            Self::Ours { runtime, .. } => {
                let admin: AdminClient<DefaultClientContext> =
                    config(&self.bootstrap(), &[]).create().expect("admin");
                let created = runtime
                    .block_on(admin.create_topics(
                        [&NewTopic::new(topic, 1, TopicReplication::Fixed(1))],
                        &AdminOptions::new(),
                    ))
                    .expect("create topics");
                for result in created {
                    result.expect("topic created");
                }
            }
            // The mock cluster does not serve CreateTopics.
            Self::Baseline(mock) => mock.create_topic(topic, 1, 1).expect("topic created"),
        }
    }

    fn shutdown(self) {
        if let Self::Ours {
            runtime, broker, ..
        } = self
        {
            runtime.block_on(broker.shutdown()).expect("shutdown");
        }
    }
}

fn config(bootstrap: &str, extra: &[(&str, &str)]) -> ClientConfig {
    let mut config = ClientConfig::new();
    config.set("bootstrap.servers", bootstrap);
    for (key, value) in extra {
        config.set(*key, *value);
    }
    config
}

/// How much a throughput workload moved, and how long it took.
struct Throughput {
    records: usize,
    bytes: usize,
    elapsed: Duration,
}

impl Throughput {
    fn records_per_sec(&self) -> f64 {
        self.records as f64 / self.elapsed.as_secs_f64()
    }

    fn print(&self, what: &str) {
        println!(
            "  {what:<10} {:>10.0} records/s {:>8.1} MB/s  ({} records in {:.2} s)",
            self.records_per_sec(),
            self.bytes as f64 / self.elapsed.as_secs_f64() / 1e6,
            self.records,
            self.elapsed.as_secs_f64(),
        );
    }
}

/// Distinct payloads of `size` bytes of printable noise, which lz4 barely
/// shrinks. Payloads that compress far better than real data (a repeated
/// byte shrinks fiftyfold) pack so many records into a fetch that
/// librdkafka's queue passes `queued.min.messages` after every response and
/// the consumer then waits out `fetch.queue.backoff.ms` (a second) before
/// fetching again: the figure would measure that pause, not the broker.
/// Enough of them that no record repeats within lz4's 64 KiB window.
fn payloads(size: usize) -> Vec<Vec<u8>> {
    let count = (256 * 1024 / size).max(1);
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    (0..count)
        .map(|_| {
            (0..size)
                .map(|_| {
                    // xorshift64: cheap, deterministic noise.
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    b' ' + (state % 95) as u8
                })
                .collect()
        })
        .collect()
}

/// Sends `count` records of `size` bytes as fast as the producer takes them.
fn produce(bootstrap: &str, topic: &str, count: usize, size: usize) -> Throughput {
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
    let payloads = payloads(size);
    let started = Instant::now();
    for payload in payloads.iter().cycle().take(count) {
        let mut record = BaseRecord::<(), [u8]>::to(topic)
            .partition(0)
            .payload(payload);
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
    Throughput {
        records: count,
        bytes: count * size,
        elapsed: started.elapsed(),
    }
}

/// The consumer settings the throughput workloads read with: librdkafka's
/// defaults, and those defaults with a shorter `fetch.queue.backoff.ms`.
///
/// With the defaults, a consumer that holds `queued.min.messages` (100,000)
/// records stops fetching for `fetch.queue.backoff.ms` (a second). Any
/// cluster that serves fetches faster than the application polls fills that
/// queue, so small records are then read at about 100,000-200,000 a second
/// whatever the cluster does; the second setting shows what the cluster
/// itself sustains.
const CONSUMERS: [(&str, &[(&str, &str)]); 2] = [
    ("consume", &[]),
    ("consume*", &[("fetch.queue.backoff.ms", "10")]),
];

/// How long a consume workload may take before it reports what it read.
const CONSUME_TIMEOUT: Duration = Duration::from_secs(30);

/// Reads `count` records of `size` bytes from the start of the partition,
/// with the consumer settings in `extra`.
fn consume(
    bootstrap: &str,
    topic: &str,
    count: usize,
    size: usize,
    extra: &[(&str, &str)],
) -> Throughput {
    let mut settings = vec![("group.id", "bench"), ("enable.auto.commit", "false")];
    settings.extend_from_slice(extra);
    let consumer: BaseConsumer = config(bootstrap, &settings).create().expect("consumer");
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition_offset(topic, 0, Offset::Beginning)
        .expect("offset");
    consumer.assign(&tpl).expect("assign");
    let started = Instant::now();
    let mut seen = 0;
    while seen < count && started.elapsed() < CONSUME_TIMEOUT {
        if let Some(message) = consumer.poll(Duration::from_millis(100)) {
            message.expect("consume");
            seen += 1;
        }
    }
    Throughput {
        records: seen,
        bytes: seen * size,
        elapsed: started.elapsed(),
    }
}

/// Produce-to-consume latencies of one run.
struct Latency {
    sent: usize,
    sorted: Vec<Duration>,
}

impl Latency {
    fn at(&self, quantile: f64) -> Duration {
        let last = self.sorted.len().saturating_sub(1);
        let index = ((self.sorted.len() as f64 * quantile) as usize).min(last);
        self.sorted.get(index).copied().unwrap_or_default()
    }

    fn print(&self, what: &str) {
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        println!(
            "  {what:<10} {}/{} received: median {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            self.sorted.len(),
            self.sent,
            ms(self.at(0.5)),
            ms(self.at(0.99)),
            ms(self.at(1.0)),
        );
    }
}

/// Sends `rate` records per second for `seconds` to a topic nobody wrote
/// yet and measures how long each takes to reach a consumer that started
/// before the first, with the producer's settings in `extra`.
fn latency(
    bootstrap: &str,
    topic: &str,
    rate: u32,
    seconds: u32,
    extra: &[(&str, &str)],
) -> Latency {
    let consumer: BaseConsumer = config(
        bootstrap,
        &[("group.id", "latency"), ("enable.auto.commit", "false")],
    )
    .create()
    .expect("consumer");
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition_offset(topic, 0, Offset::Beginning)
        .expect("offset");
    consumer.assign(&tpl).expect("assign");
    let origin = Instant::now();
    let total = (rate * seconds) as usize;
    let reader = std::thread::spawn(move || {
        let mut latencies = Vec::with_capacity(total);
        let deadline = Instant::now() + TIMEOUT;
        while latencies.len() < total && Instant::now() < deadline {
            if let Some(message) = consumer.poll(Duration::from_millis(100)) {
                let message = message.expect("consume");
                let sent = message
                    .payload()
                    .and_then(|p| <[u8; 8]>::try_from(p).ok())
                    .map(u64::from_be_bytes)
                    .expect("a timestamp payload");
                let now = origin.elapsed().as_nanos() as u64;
                latencies.push(Duration::from_nanos(now.saturating_sub(sent)));
            }
        }
        latencies
    });
    // Let the consumer reach the (empty) log end before timing anything.
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
    let mut sorted = reader.join().expect("reader");
    sorted.sort();
    Latency {
        sent: total,
        sorted,
    }
}

fn ratio_line(what: &str, ours: f64, baseline: f64) {
    println!("  {what:<36} {:>6.2}", ours / baseline);
}

fn main() {
    let clusters = [("ours", Cluster::ours()), ("baseline", Cluster::baseline())];
    for (name, cluster) in &clusters {
        println!("{name} at {}", cluster.bootstrap());
    }
    // Every workload runs on both clusters back to back, so both see about
    // the same machine load.
    let mut throughputs = Vec::new();
    for (size, count) in [(100, 2_000_000), (1024, 500_000)] {
        let topic = format!("bench-{size}");
        let mut pair = Vec::new();
        for (name, cluster) in &clusters {
            cluster.create_topic(&topic);
            let bootstrap = cluster.bootstrap();
            println!("{name}: {size} B records, lz4");
            let produced = produce(&bootstrap, &topic, count, size);
            produced.print("produce");
            let consumed: Vec<Throughput> = CONSUMERS
                .iter()
                .map(|(label, extra)| {
                    let consumed = consume(&bootstrap, &topic, count, size, extra);
                    consumed.print(label);
                    consumed
                })
                .collect();
            pair.push((produced, consumed));
        }
        throughputs.push((size, pair));
    }
    let mut latencies = Vec::new();
    let settings: [(&str, &[(&str, &str)]); 2] = [
        ("librdkafka defaults", &[]),
        ("linger.ms=0", &[("linger.ms", "0")]),
    ];
    for (i, (label, extra)) in settings.iter().enumerate() {
        let mut pair = Vec::new();
        for (name, cluster) in &clusters {
            let topic = format!("latency-{i}");
            cluster.create_topic(&topic);
            println!("{name}: latency at 1000 records/s for 5 s, {label}");
            let measured = latency(&cluster.bootstrap(), &topic, 1_000, 5, extra);
            measured.print("latency");
            pair.push(measured);
        }
        latencies.push((label, pair));
    }

    println!("ours / baseline (throughput: above 1 is faster; latency: below 1 is faster)");
    println!("  (consume*: librdkafka defaults but fetch.queue.backoff.ms=10)");
    for (size, pair) in &throughputs {
        let [(our_produce, our_consume), (base_produce, base_consume)] = &pair[..] else {
            continue;
        };
        ratio_line(
            &format!("produce {size} B records/s"),
            our_produce.records_per_sec(),
            base_produce.records_per_sec(),
        );
        for (((label, _), ours), baseline) in CONSUMERS.iter().zip(our_consume).zip(base_consume) {
            ratio_line(
                &format!("{label} {size} B records/s"),
                ours.records_per_sec(),
                baseline.records_per_sec(),
            );
        }
    }
    for (label, pair) in &latencies {
        let [ours, baseline] = &pair[..] else {
            continue;
        };
        for (q, name) in [(0.5, "median"), (0.99, "p99")] {
            ratio_line(
                &format!("latency {name} ({label})"),
                ours.at(q).as_secs_f64(),
                baseline.at(q).as_secs_f64(),
            );
        }
    }
    for (_, cluster) in clusters {
        cluster.shutdown();
    }
}
