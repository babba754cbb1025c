//! A broker process killed with SIGKILL during acks=all production loses
//! none of the records it acknowledged.

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

/// Starts the standalone broker and reads the address it announces.
fn spawn_broker(dir: &Path) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_streams-broker"))
        .args(["--listen", "127.0.0.1:0", "--data-dir"])
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

#[test]
fn kill_9_during_acks_all_production_loses_no_acknowledged_record() {
    let _serial = common::one_at_a_time();
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut child, bootstrap) = spawn_broker(dir.path());
    let acks = Acks::default();
    let producer: ThreadedProducer<Acks> = common::client_config(
        &bootstrap,
        &[
            ("acks", "all"),
            ("linger.ms", "1"),
            ("message.timeout.ms", "3000"),
            ("compression.type", "lz4"),
        ],
    )
    .create_with_context(acks.clone())
    .expect("producer");

    let mut sent = 0usize;
    let mut send_some = |n: usize| {
        for _ in 0..n {
            let value = format!("record-{sent:08}");
            if producer
                .send(
                    BaseRecord::<str, str>::to("crash")
                        .partition(0)
                        .payload(&value),
                )
                .is_ok()
            {
                sent += 1;
            }
        }
    };
    // Keep producing while acknowledgements come in, then kill mid-stream.
    wait_until("5000 acknowledged records", Duration::from_secs(60), || {
        send_some(200);
        acks.count() >= 5_000
    });
    send_some(2_000);
    child.kill().expect("SIGKILL");
    child.wait().expect("reaped");
    // Whatever was in flight fails now; acknowledgements are final.
    let _ = producer.flush(Duration::from_secs(10));
    drop(producer);
    let acknowledged = acks.0.lock().expect("acks lock").clone();
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
