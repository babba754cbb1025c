//! Helpers shared by the integration tests: a broker on its own runtime,
//! and rdkafka clients configured for it.

#![allow(dead_code)] // Each test binary uses a different subset.

use std::path::Path;
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

use rdkafka::producer::{
    BaseRecord, DefaultProducerContext, DeliveryResult, Producer, ProducerContext, ThreadedProducer,
};
use rdkafka::ClientConfig;
use rdkafka::ClientContext;
use streams_broker::{Broker, BrokerConfig};

/// Held by each end-to-end test for its whole run, so that a test binary
/// runs them one at a time: each starts a broker and several real clients,
/// and side by side on a small machine they starve each other's
/// consumer-group sessions into timeouts. (Cargo runs test binaries one
/// after another, so this serializes them all.)
pub fn one_at_a_time() -> MutexGuard<'static, ()> {
    static SERIAL: Mutex<()> = Mutex::new(());
    // A failed test poisons the lock; the next test may still run.
    SERIAL.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A broker running on a runtime of its own, so tests can use blocking clients.
pub struct TestBroker {
    runtime: tokio::runtime::Runtime,
    broker: Option<Broker>,
    pub bootstrap: String,
}

impl TestBroker {
    pub fn start(dir: &Path) -> Self {
        Self::with_config(BrokerConfig::new(dir))
    }

    pub fn with_config(config: BrokerConfig) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let broker = runtime
            .block_on(Broker::start(config))
            .expect("broker starts");
        let bootstrap = broker.bootstrap_servers();
        Self {
            runtime,
            broker: Some(broker),
            bootstrap,
        }
    }

    /// Shuts the broker down cleanly. Clients should be dropped first: a
    /// closing librdkafka consumer waits for the broker it cannot reach.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        if let Some(broker) = self.broker.take() {
            self.runtime
                .block_on(broker.shutdown())
                .expect("clean shutdown");
        }
    }
}

impl Drop for TestBroker {
    fn drop(&mut self) {
        self.shutdown();
    }
}

pub fn client_config(bootstrap: &str, extra: &[(&str, &str)]) -> ClientConfig {
    let mut config = ClientConfig::new();
    config.set("bootstrap.servers", bootstrap);
    for (key, value) in extra {
        config.set(*key, *value);
    }
    config
}

pub fn producer(
    bootstrap: &str,
    extra: &[(&str, &str)],
) -> ThreadedProducer<DefaultProducerContext> {
    client_config(bootstrap, extra).create().expect("producer")
}

/// Records failed deliveries, so a test can insist that every record it
/// produced was acknowledged rather than trusting a successful flush (which
/// only means the queue is empty).
#[derive(Default)]
pub struct DeliveryCheck {
    failed: AtomicUsize,
    first_error: Mutex<Option<String>>,
}

impl DeliveryCheck {
    /// How many deliveries failed, and the first failure's error.
    pub fn failures(&self) -> (usize, Option<String>) {
        let first = self.first_error.lock().expect("lock").clone();
        (self.failed.load(Ordering::SeqCst), first)
    }
}

impl ClientContext for DeliveryCheck {}

impl ProducerContext for DeliveryCheck {
    type DeliveryOpaque = ();

    fn delivery(&self, result: &DeliveryResult<'_>, _opaque: ()) {
        if let Err((error, _)) = result {
            self.failed.fetch_add(1, Ordering::SeqCst);
            let mut first = self.first_error.lock().expect("lock");
            first.get_or_insert_with(|| error.to_string());
        }
    }
}

/// Produces `values` to one partition and waits until all are acknowledged.
pub fn produce_all(
    bootstrap: &str,
    topic: &str,
    partition: Option<i32>,
    values: &[String],
    extra: &[(&str, &str)],
) {
    let producer: ThreadedProducer<DeliveryCheck> = client_config(bootstrap, extra)
        .create_with_context(DeliveryCheck::default())
        .expect("producer");
    for value in values {
        let mut record = BaseRecord::<str, str>::to(topic)
            .key(value.as_str())
            .payload(value.as_str());
        if let Some(partition) = partition {
            record = record.partition(partition);
        }
        let mut record = record;
        loop {
            match producer.send(record) {
                Ok(()) => break,
                Err((e, returned)) => {
                    assert!(
                        matches!(
                            e,
                            rdkafka::error::KafkaError::MessageProduction(
                                rdkafka::types::RDKafkaErrorCode::QueueFull
                            )
                        ),
                        "send failed: {e}"
                    );
                    producer.poll(Duration::from_millis(10));
                    record = returned;
                }
            }
        }
    }
    producer
        .flush(Duration::from_secs(30))
        .expect("all records acknowledged");
    let check = producer.context();
    assert_eq!(
        check.failed.load(Ordering::SeqCst),
        0,
        "deliveries failed, first: {:?}",
        check.first_error.lock().expect("lock")
    );
}

pub fn consumer(bootstrap: &str, group: &str, extra: &[(&str, &str)]) -> BaseConsumer {
    let mut config = client_config(bootstrap, extra);
    config
        .set("group.id", group)
        .set("auto.offset.reset", "earliest")
        .set("enable.partition.eof", "false");
    config.create().expect("consumer")
}

/// Polls until `count` records arrive or the deadline passes; returns the values.
pub fn consume(consumer: &BaseConsumer, count: usize, timeout: Duration) -> Vec<String> {
    let deadline = Instant::now() + timeout;
    let mut values = Vec::new();
    while values.len() < count && Instant::now() < deadline {
        if let Some(message) = consumer.poll(Duration::from_millis(100)) {
            let message = message.expect("consume without error");
            values
                .push(String::from_utf8_lossy(message.payload().unwrap_or_default()).into_owned());
        }
    }
    values
}

pub fn values(prefix: &str, count: usize) -> Vec<String> {
    (0..count).map(|i| format!("{prefix}-{i:06}")).collect()
}

/// Waits until `condition` holds, polling; panics after `timeout`.
pub fn wait_until(what: &str, timeout: Duration, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

pub fn assign_from_start(consumer: &BaseConsumer, topic: &str, partitions: i32) {
    let mut tpl = rdkafka::TopicPartitionList::new();
    for p in 0..partitions {
        tpl.add_partition_offset(topic, p, rdkafka::Offset::Beginning)
            .expect("offset");
    }
    consumer.assign(&tpl).expect("assign");
}
