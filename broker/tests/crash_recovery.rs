//! A broker process killed with SIGKILL during acks=all production loses
//! none of the records it acknowledged, an idempotent producer that
//! outlives the kill writes each record once, and a transaction the kill
//! left open stays invisible to read-committed consumers until it times
//! out and is aborted.

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{assign_from_start, consume, consumer, wait_until};
use rdkafka::consumer::Consumer;
use rdkafka::message::Message;
use rdkafka::producer::{BaseRecord, DeliveryResult, Producer, ProducerContext, ThreadedProducer};
use rdkafka::ClientContext;

/// Records the payloads the broker acknowledged.
#[derive(Clone, Default)]
struct Acks(Arc<Mutex<Vec<String>>>);

impl ClientContext for Acks {}

impl ProducerContext for Acks {
    type DeliveryOpaque = ();
    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        if let Ok(message) = result {
            let payload =
                String::from_utf8_lossy(message.payload().unwrap_or_default()).into_owned();
            self.0.lock().expect("acks lock").push(payload);
        }
    }
}

impl Acks {
    fn count(&self) -> usize {
        self.0.lock().expect("acks lock").len()
    }
}

/// Starts the standalone broker on `listen` and reads the address it
/// announces.
fn spawn_broker_on(dir: &Path, listen: &str) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_streams-broker"))
        .args(["--listen", listen, "--data-dir"])
        .arg(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("broker binary starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("announcement");
    let addr = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected announcement {line:?}"))
        .to_owned();
    (child, addr)
}

/// Starts the standalone broker on an ephemeral port.
fn spawn_broker(dir: &Path) -> (Child, String) {
    spawn_broker_on(dir, "127.0.0.1:0")
}

/// A producer of numbered records to partition 0 of a topic, with what it
/// sent and what was acknowledged.
struct Production {
    producer: ThreadedProducer<Acks>,
    acks: Acks,
    topic: &'static str,
    sent: Vec<String>,
}

impl Production {
    fn start(bootstrap: &str, topic: &'static str, config: &[(&str, &str)]) -> Self {
        let acks = Acks::default();
        let producer = common::client_config(bootstrap, config)
            .create_with_context(acks.clone())
            .expect("producer");
        Self {
            producer,
            acks,
            topic,
            sent: Vec::new(),
        }
    }

    /// Queues `n` more records; one the full queue refuses is not sent.
    fn send(&mut self, n: usize) {
        for _ in 0..n {
            let value = format!("record-{:08}", self.sent.len());
            let record = BaseRecord::<str, str>::to(self.topic)
                .partition(0)
                .payload(&value);
            if self.producer.send(record).is_ok() {
                self.sent.push(value);
            }
        }
    }

    /// Keeps sending until `count` records are acknowledged.
    fn until_acknowledged(&mut self, count: usize) {
        wait_until(
            &format!("{count} acknowledged records"),
            Duration::from_secs(60),
            || {
                self.send(200);
                self.acks.count() >= count
            },
        );
    }
}

#[test]
fn kill_9_during_acks_all_production_loses_no_acknowledged_record() {
    let _serial = common::one_at_a_time();
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut child, bootstrap) = spawn_broker(dir.path());
    let mut production = Production::start(
        &bootstrap,
        "crash",
        &[
            ("acks", "all"),
            ("linger.ms", "1"),
            ("message.timeout.ms", "3000"),
            ("compression.type", "lz4"),
        ],
    );
    // Keep producing while acknowledgements come in, then kill mid-stream.
    production.until_acknowledged(5_000);
    production.send(2_000);
    child.kill().expect("SIGKILL");
    child.wait().expect("reaped");
    // Whatever was in flight fails now; acknowledgements are final.
    let _ = production.producer.flush(Duration::from_secs(10));
    let acknowledged = production.acks.0.lock().expect("acks lock").clone();
    drop(production);
    assert!(acknowledged.len() >= 5_000);

    let (mut child, bootstrap) = spawn_broker(dir.path());
    let reader = consumer(&bootstrap, "unused", &[]);
    let (_, end) = reader
        .fetch_watermarks("crash", 0, Duration::from_secs(30))
        .expect("watermarks");
    assert!(
        end as usize >= acknowledged.len(),
        "log end {end} below {} acknowledged",
        acknowledged.len()
    );
    assign_from_start(&reader, "crash", 1);
    let stored = consume(&reader, end as usize, Duration::from_secs(60));
    let stored: std::collections::HashSet<String> = stored.into_iter().collect();
    let missing: Vec<&String> = acknowledged
        .iter()
        .filter(|v| !stored.contains(*v))
        .collect();
    assert!(
        missing.is_empty(),
        "{} acknowledged records lost, e.g. {:?}",
        missing.len(),
        missing.first()
    );
    drop(reader);
    child.kill().expect("stop broker");
    child.wait().expect("reaped");
}

/// An idempotent producer keeps sending while the broker is killed and
/// restarted on the same address: the restarted broker rebuilds each
/// producer's sequence state from the log, so the producer carries on
/// where it was (resending what the kill left unanswered), and every
/// record ends up in the log exactly once, in the order sent. (That a
/// resend of an appended batch is not appended twice is shown
/// deterministically with a proxy that loses answers, in
/// `rdkafka_clients`.)
#[test]
fn an_idempotent_producer_outliving_a_kill_9_writes_each_record_once() {
    let _serial = common::one_at_a_time();
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut child, bootstrap) = spawn_broker(dir.path());
    let mut production = Production::start(
        &bootstrap,
        "idempotent",
        &[
            ("enable.idempotence", "true"),
            ("linger.ms", "1"),
            ("message.timeout.ms", "60000"),
            ("retry.backoff.ms", "50"),
            ("reconnect.backoff.ms", "50"),
            ("compression.type", "lz4"),
        ],
    );
    production.until_acknowledged(5_000);
    production.send(2_000);
    child.kill().expect("SIGKILL");
    child.wait().expect("reaped");
    production.send(1_000);
    let (mut child, _) = spawn_broker_on(dir.path(), &bootstrap);
    production
        .producer
        .flush(Duration::from_secs(60))
        .expect("every record delivered");
    let sent = std::mem::take(&mut production.sent);
    assert_eq!(
        production.acks.count(),
        sent.len(),
        "every record acknowledged"
    );
    drop(production);

    let reader = consumer(&bootstrap, "unused", &[]);
    let (_, end) = reader
        .fetch_watermarks("idempotent", 0, Duration::from_secs(30))
        .expect("watermarks");
    assign_from_start(&reader, "idempotent", 1);
    let stored = consume(&reader, end as usize, Duration::from_secs(60));
    assert_eq!(stored.len(), sent.len(), "no record lost or written twice");
    assert!(
        stored == sent,
        "the log holds the records in the order sent"
    );
    drop(reader);
    child.kill().expect("stop broker");
    child.wait().expect("reaped");
}

/// A transaction open when the broker is killed stays open after the
/// restart (its records are invisible to read-committed consumers, and
/// hold back what follows them) until its timeout passes; then the broker
/// aborts it, and what follows becomes visible. The transaction committed
/// before the kill stays committed.
#[test]
fn a_transaction_open_at_a_kill_9_is_aborted_after_its_timeout() {
    use rdkafka::producer::DefaultProducerContext;

    let _serial = common::one_at_a_time();
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut child, bootstrap) = spawn_broker(dir.path());
    let producer: ThreadedProducer<DefaultProducerContext> = common::client_config(
        &bootstrap,
        &[
            ("transactional.id", "crash-tx"),
            ("transaction.timeout.ms", "3000"),
        ],
    )
    .create()
    .expect("producer");
    let timeout = Duration::from_secs(30);
    producer.init_transactions(timeout).expect("init");
    let send = |value: &str| {
        producer
            .send(
                BaseRecord::<str, str>::to("crash-txn")
                    .partition(0)
                    .payload(value),
            )
            .expect("queued");
    };
    producer.begin_transaction().expect("begin");
    send("committed");
    producer.commit_transaction(timeout).expect("commit");
    producer.begin_transaction().expect("begin");
    send("left open");
    producer.flush(timeout).expect("flushed");
    child.kill().expect("SIGKILL");
    child.wait().expect("reaped");
    drop(producer);

    let (mut child, bootstrap) = spawn_broker_on(dir.path(), &bootstrap);
    common::produce_all(&bootstrap, "crash-txn", Some(0), &["after".to_owned()], &[]);
    let reader = consumer(
        &bootstrap,
        "unused",
        &[("isolation.level", "read_committed")],
    );
    assign_from_start(&reader, "crash-txn", 1);
    assert_eq!(
        consume(&reader, 2, Duration::from_secs(1)),
        ["committed"],
        "the open transaction holds back what follows it"
    );
    // The timeout aborts it; the record after it becomes readable.
    assert_eq!(consume(&reader, 1, Duration::from_secs(30)), ["after"]);
    drop(reader);
    child.kill().expect("stop broker");
    child.wait().expect("reaped");
}
