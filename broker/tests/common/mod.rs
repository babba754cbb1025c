//! Helpers shared by the integration tests: a broker on its own runtime,
//! and rdkafka clients configured for it.

#![allow(dead_code)] // Each test binary uses a different subset.

use std::collections::HashSet;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::sync::{Arc, OnceLock};
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
    /// Where clients are told to connect (the advertised address).
    pub bootstrap: String,
    /// Where the broker listens.
    pub local_addr: SocketAddr,
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
        let local_addr = broker.local_addr();
        Self {
            runtime,
            broker: Some(broker),
            bootstrap,
            local_addr,
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

/// A TCP proxy in front of a broker that can lose Produce answers: asked
/// to, it drops the connection on which a Produce answer arrives instead
/// of passing the answer on, as a network failure after the broker
/// appended the records would. Clients reach the broker through it when
/// the broker advertises the proxy's port.
pub struct Proxy {
    pub addr: SocketAddr,
    target: Arc<OnceLock<SocketAddr>>,
    to_lose: Arc<AtomicUsize>,
    lost: Arc<AtomicUsize>,
}

impl Proxy {
    /// Listens on an ephemeral port; connections are forwarded once
    /// [`Proxy::forward_to`] names the broker.
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("proxy binds");
        let proxy = Self {
            addr: listener.local_addr().expect("proxy address"),
            target: Arc::default(),
            to_lose: Arc::default(),
            lost: Arc::default(),
        };
        let (target, to_lose, lost) = (
            Arc::clone(&proxy.target),
            Arc::clone(&proxy.to_lose),
            Arc::clone(&proxy.lost),
        );
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let (Ok(client), Some(target)) = (client, target.get()) else {
                    continue;
                };
                let Ok(server) = TcpStream::connect(target) else {
                    continue;
                };
                let (to_lose, lost) = (Arc::clone(&to_lose), Arc::clone(&lost));
                // Errors end the connection, as they would a real one.
                let _ = relay(client, server, to_lose, lost);
            }
        });
        proxy
    }

    pub fn forward_to(&self, broker: SocketAddr) {
        self.target.set(broker).expect("forwarded once");
    }

    /// Loses the next `count` Produce answers.
    pub fn lose_produce_answers(&self, count: usize) {
        self.to_lose.store(count, Ordering::SeqCst);
    }

    /// How many Produce answers were lost.
    pub fn lost(&self) -> usize {
        self.lost.load(Ordering::SeqCst)
    }
}

/// One size-prefixed Kafka frame, prefix included.
fn read_frame(stream: &mut TcpStream) -> io::Result<Vec<u8>> {
    let mut size = [0; 4];
    stream.read_exact(&mut size)?;
    let len = usize::try_from(i32::from_be_bytes(size)).map_err(io::Error::other)?;
    let mut frame = vec![0; 4 + len];
    frame[..4].copy_from_slice(&size);
    stream.read_exact(&mut frame[4..])?;
    Ok(frame)
}

/// Relays frames both ways on threads of their own, noting which requests
/// are Produce requests (by correlation id) to recognise their answers.
fn relay(
    client: TcpStream,
    server: TcpStream,
    to_lose: Arc<AtomicUsize>,
    lost: Arc<AtomicUsize>,
) -> io::Result<()> {
    let produces = Arc::new(Mutex::new(HashSet::new()));
    let (mut from_client, mut to_server) = (client.try_clone()?, server.try_clone()?);
    let requests = Arc::clone(&produces);
    std::thread::spawn(move || -> io::Result<()> {
        loop {
            let frame = read_frame(&mut from_client)?;
            if frame.len() >= 12 && i16::from_be_bytes([frame[4], frame[5]]) == 0 {
                let correlation = i32::from_be_bytes([frame[8], frame[9], frame[10], frame[11]]);
                requests.lock().expect("requests").insert(correlation);
            }
            to_server.write_all(&frame)?;
        }
    });
    let (mut from_server, mut to_client) = (server, client);
    std::thread::spawn(move || -> io::Result<()> {
        loop {
            let frame = read_frame(&mut from_server)?;
            let correlation = i32::from_be_bytes([frame[4], frame[5], frame[6], frame[7]]);
            let produce = produces.lock().expect("requests").remove(&correlation);
            let lose = produce
                && to_lose
                    .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                    .is_ok();
            if lose {
                lost.fetch_add(1, Ordering::SeqCst);
                let _ = to_client.shutdown(Shutdown::Both);
                return from_server.shutdown(Shutdown::Both);
            }
            to_client.write_all(&frame)?;
        }
    });
    Ok(())
}
