//! Clients nobody here wrote: kcat (Debian's, on librdkafka 2.0.2) and
//! Python's confluent-kafka, driven as separate processes.

mod common;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use common::{consumer, TestBroker};
use rdkafka::consumer::Consumer;
use rdkafka::{Offset, TopicPartitionList};

fn run(command: &mut Command, stdin: &str) -> Output {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {command:?}: {e} (scripts/setup installs it)"));
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    let output = child.wait_with_output().expect("finished");
    assert!(
        output.status.success(),
        "{command:?} failed: {}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn lines(output: &Output) -> Vec<String> {
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

/// The values of `topic` from the beginning, read by kcat.
fn kcat_read(bootstrap: &str, topic: &str) -> Vec<String> {
    let args = [
        "-b",
        bootstrap,
        "-C",
        "-t",
        topic,
        "-o",
        "beginning",
        "-e",
        "-f",
        "%s\n",
    ];
    lines(&run(Command::new("kcat").args(args), ""))
}

#[test]
fn kcat_lists_produces_consumes_commits_and_produces_idempotently() {
    let _serial = common::one_at_a_time();
    let dir = tempfile::tempdir().expect("tempdir");
    let broker = TestBroker::start(dir.path());
    let bootstrap = broker.bootstrap.as_str();
    let values: Vec<String> = (0..100).map(|i| format!("kcat-{i}")).collect();

    // Metadata first: librdkafka 2.0 must accept our ApiVersions answer.
    let listed = run(Command::new("kcat").args(["-b", bootstrap, "-L"]), "");
    assert!(String::from_utf8_lossy(&listed.stdout).contains("1 brokers"));

    // Producing auto-creates the topic.
    run(
        Command::new("kcat").args(["-b", bootstrap, "-P", "-t", "kcat-topic", "-z", "snappy"]),
        &(values.join("\n") + "\n"),
    );
    assert_eq!(kcat_read(bootstrap, "kcat-topic"), values);

    let group_args = [
        "-b",
        bootstrap,
        "-G",
        "kcat-group",
        "kcat-topic",
        "-e",
        "-f",
        "%s\n",
        "-X",
        "auto.offset.reset=earliest",
    ];
    let in_group = run(Command::new("kcat").args(group_args), "");
    assert_eq!(lines(&in_group), values);
    // The group committed its position: a second run has nothing to read.
    let again = run(Command::new("kcat").args(group_args), "");
    assert!(lines(&again).is_empty(), "re-read {:?}", lines(&again));

    let checker = consumer(bootstrap, "kcat-group", &[]);
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition("kcat-topic", 0);
    let committed = checker
        .committed_offsets(tpl, Duration::from_secs(30))
        .expect("committed");
    assert_eq!(
        committed
            .find_partition("kcat-topic", 0)
            .map(|p| p.offset()),
        Some(Offset::Offset(100))
    );

    // An idempotent producer: InitProducerId, then sequenced batches.
    run(
        Command::new("kcat").args([
            "-b",
            bootstrap,
            "-P",
            "-t",
            "kcat-idempotent",
            "-X",
            "enable.idempotence=true",
        ]),
        &(values.join("\n") + "\n"),
    );
    assert_eq!(kcat_read(bootstrap, "kcat-idempotent"), values);
}

#[test]
fn python_confluent_kafka_creates_produces_consumes_commits_and_produces_in_transactions() {
    let _serial = common::one_at_a_time();
    let dir = tempfile::tempdir().expect("tempdir");
    let broker = TestBroker::start(dir.path());
    // Read when the test runs, not baked in when it is built: a build
    // reused from a checkout elsewhere must still find the script here.
    let crate_dir =
        std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo test sets CARGO_MANIFEST_DIR");
    let script = Path::new(&crate_dir).join("tests/clients/confluent_client.py");
    let output = run(
        Command::new("python3").arg(script).arg(&broker.bootstrap),
        "",
    );
    assert_eq!(lines(&output), vec!["OK".to_owned()]);
}
