//! End-to-end tests through librdkafka (the rdkafka crate).

mod common;

use std::collections::{BTreeSet, HashMap};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::{assign_from_start, consume, consumer, produce_all, values, wait_until, TestBroker};
use rdkafka::admin::{
    AdminClient, AdminOptions, AlterConfig, NewTopic, ResourceSpecifier, TopicReplication,
};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::FromClientConfig;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::message::Message;
use rdkafka::{Offset, TopicPartitionList};

const TIMEOUT: Duration = Duration::from_secs(30);

fn admin(bootstrap: &str) -> AdminClient<DefaultClientContext> {
    AdminClient::from_config(&common::client_config(bootstrap, &[])).expect("admin client")
}

fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(future)
}

#[test]
fn every_compression_round_trips() {
    let _serial = common::one_at_a_time();
    let dir = tempfile::tempdir().expect("tempdir");
    let broker = TestBroker::start(dir.path());
    for codec in ["none", "gzip", "snappy", "lz4", "zstd"] {
        let topic = format!("compressed-{codec}");
        let sent = values(codec, 500);
        produce_all(
            &broker.bootstrap,
            &topic,
            Some(0),
            &sent,
            &[("compression.type", codec), ("acks", "all")],
        );
        let consumer = consumer(&broker.bootstrap, "unused", &[]);
        assign_from_start(&consumer, &topic, 1);
        assert_eq!(
            consume(&consumer, sent.len(), TIMEOUT),
            sent,
            "codec {codec}"
        );
    }
}

/// A topic created with its own `compression.type` (through the admin
/// API) takes what producers send in any codec, and consumers read it
/// back as sent.
#[test]
fn a_topics_compression_type_round_trips_every_codec() {
    let _serial = common::one_at_a_time();
    let dir = tempfile::tempdir().expect("tempdir");
    let broker = TestBroker::start(dir.path());
    let admin = admin(&broker.bootstrap);
    for stored in ["uncompressed", "gzip", "snappy", "lz4", "zstd"] {
        let topic = format!("stored-{stored}");
        block_on(async {
            let new = NewTopic::new(&topic, 1, TopicReplication::Fixed(1))
                .set("compression.type", stored);
            let created = admin
                .create_topics([&new], &AdminOptions::new())
                .await
                .expect("create");
            assert!(created.iter().all(Result::is_ok), "{created:?}");
        });
        let mut sent = Vec::new();
        for sent_as in ["none", "gzip", "zstd"] {
            let values = values(&format!("{stored}-{sent_as}"), 200);
            produce_all(
                &broker.bootstrap,
                &topic,
                Some(0),
                &values,
                &[("compression.type", sent_as)],
            );
            sent.extend(values);
        }
        let consumer = consumer(&broker.bootstrap, "unused", &[]);
        assign_from_start(&consumer, &topic, 1);
        assert_eq!(consume(&consumer, sent.len(), TIMEOUT), sent, "{stored}");
    }
}

#[test]
fn admin_operations_and_configs() {
    let _serial = common::one_at_a_time();
    let dir = tempfile::tempdir().expect("tempdir");
    let broker = TestBroker::start(dir.path());
    let admin = admin(&broker.bootstrap);
    let options = AdminOptions::new().operation_timeout(Some(Duration::from_secs(5)));
    block_on(async {
        let topic =
            NewTopic::new("configured", 3, TopicReplication::Fixed(1)).set("retention.ms", "60000");
        let bad = NewTopic::new("bad", 1, TopicReplication::Fixed(1)).set("retention.ms", "soon");
        let results = admin
            .create_topics([&topic, &bad], &options)
            .await
            .expect("create");
        assert!(results[0].is_ok(), "{:?}", results[0]);
        assert!(results[1].is_err(), "invalid config refused");
        let again = admin
            .create_topics([&topic], &options)
            .await
            .expect("create again");
        assert!(again[0].is_err(), "duplicate refused");

        let described = admin
            .describe_configs([&ResourceSpecifier::Topic("configured")], &options)
            .await
            .expect("describe");
        let resource = described[0].as_ref().expect("topic described");
        let entries: HashMap<&str, Option<&str>> = resource
            .entries
            .iter()
            .map(|e| (e.name.as_str(), e.value.as_deref()))
            .collect();
        assert_eq!(entries.get("retention.ms"), Some(&Some("60000")));
        assert_eq!(
            entries.get("cleanup.policy"),
            Some(&Some("delete")),
            "defaults are described too"
        );

        let alter = AlterConfig::new(ResourceSpecifier::Topic("configured"))
            .set("message.timestamp.type", "LogAppendTime");
        let altered = admin
            .alter_configs([&alter], &options)
            .await
            .expect("alter");
        assert!(altered[0].is_ok(), "{:?}", altered[0]);

        let grown = admin
            .create_partitions(
                [&rdkafka::admin::NewPartitions::new("configured", 5)],
                &options,
            )
            .await
            .expect("create partitions");
        assert!(grown[0].is_ok(), "{:?}", grown[0]);
    });
    let metadata_consumer = consumer(&broker.bootstrap, "meta", &[]);
    let metadata = metadata_consumer
        .fetch_metadata(Some("configured"), TIMEOUT)
        .expect("metadata");
    assert_eq!(metadata.topics()[0].partitions().len(), 5);

    // The topic now stamps records with the broker's time.
    let before = rdkafka::util::current_time_millis();
    produce_all(
        &broker.bootstrap,
        "configured",
        Some(0),
        &values("t", 3),
        &[],
    );
    let consumer = consumer(&broker.bootstrap, "unused", &[]);
    assign_from_start(&consumer, "configured", 1);
    let message = consumer.poll(TIMEOUT).expect("a record").expect("no error");
    assert!(matches!(message.timestamp(), rdkafka::Timestamp::LogAppendTime(t) if t >= before));

    block_on(async {
        let deleted = admin
            .delete_topics(&["configured"], &options)
            .await
            .expect("delete");
        assert!(deleted[0].is_ok());
    });
    assert!(!dir.path().join("configured-0").exists());
}

#[test]
fn fetching_by_timestamp_and_out_of_range_offsets() {
    let _serial = common::one_at_a_time();
    let dir = tempfile::tempdir().expect("tempdir");
    let broker = TestBroker::start(dir.path());
    let producer = common::producer(&broker.bootstrap, &[]);
    for i in 0..10i64 {
        let value = format!("v{i}");
        let record = rdkafka::producer::BaseRecord::<str, str>::to("timed")
            .partition(0)
            .payload(&value)
            .timestamp(1_000 + i * 100);
        producer.send(record).map_err(|(e, _)| e).expect("send");
    }
    rdkafka::producer::Producer::flush(&producer, TIMEOUT).expect("flush");
    let consumer = consumer(&broker.bootstrap, "timed", &[]);
    let mut query = TopicPartitionList::new();
    query
        .add_partition_offset("timed", 0, Offset::Offset(1_450))
        .expect("query");
    let found = consumer
        .offsets_for_times(query, TIMEOUT)
        .expect("offsets for times");
    assert_eq!(
        found.find_partition("timed", 0).map(|p| p.offset()),
        Some(Offset::Offset(5))
    );
    assert_eq!(
        consumer
            .fetch_watermarks("timed", 0, TIMEOUT)
            .expect("watermarks"),
        (0, 10)
    );

    // An offset past the end is reset to the earliest per auto.offset.reset.
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition_offset("timed", 0, Offset::Offset(1_000))
        .expect("offset");
    consumer.assign(&tpl).expect("assign");
    assert_eq!(consume(&consumer, 10, TIMEOUT).len(), 10);
}

#[test]
fn a_waiting_fetch_is_answered_when_data_arrives() {
    let _serial = common::one_at_a_time();
    let dir = tempfile::tempdir().expect("tempdir");
    let broker = TestBroker::start(dir.path());
    produce_all(
        &broker.bootstrap,
        "poll",
        Some(0),
        &values("warmup", 1),
        &[],
    );
    // The fetch waits up to 10 s for data; the record must arrive long before.
    let consumer = consumer(
        &broker.bootstrap,
        "poll",
        &[("fetch.wait.max.ms", "10000"), ("fetch.min.bytes", "1")],
    );
    assign_from_start(&consumer, "poll", 1);
    assert_eq!(consume(&consumer, 1, TIMEOUT).len(), 1);
    // Give the consumer time to park a long-polling fetch at the log end.
    std::thread::sleep(Duration::from_millis(300));
    let started = Instant::now();
    produce_all(&broker.bootstrap, "poll", Some(0), &values("late", 1), &[]);
    assert_eq!(consume(&consumer, 1, TIMEOUT), values("late", 1));
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "answered after {:?}",
        started.elapsed()
    );
}

#[test]
fn oversized_records_are_refused_per_partition() {
    let _serial = common::one_at_a_time();
    let dir = tempfile::tempdir().expect("tempdir");
    let broker = TestBroker::start(dir.path());
    let producer = common::producer(&broker.bootstrap, &[("message.max.bytes", "10000000")]);
    let big = "x".repeat(2 * 1024 * 1024);
    let future = producer.send(
        rdkafka::producer::BaseRecord::<str, str>::to("big")
            .partition(0)
            .payload(&big),
    );
    assert!(future.is_ok());
    let result = rdkafka::producer::Producer::flush(&producer, TIMEOUT);
    assert!(result.is_ok());
    // Delivery failed: nothing was appended.
    let consumer = consumer(&broker.bootstrap, "big", &[]);
    assert_eq!(
        consumer
            .fetch_watermarks("big", 0, TIMEOUT)
            .expect("watermarks"),
        (0, 0)
    );
}

#[test]
fn a_malformed_request_closes_only_its_connection() {
    let _serial = common::one_at_a_time();
    let dir = tempfile::tempdir().expect("tempdir");
    let broker = TestBroker::start(dir.path());
    let healthy = consumer(&broker.bootstrap, "healthy", &[]);
    healthy
        .fetch_metadata(None, TIMEOUT)
        .expect("metadata before");

    for frame in [
        // Unknown API key 9999.
        vec![0, 0, 0, 8, 0x27, 0x0f, 0, 0, 0, 0, 0, 1],
        // Metadata v1 with a body that is cut short.
        vec![0, 0, 0, 12, 0, 3, 0, 1, 0, 0, 0, 1, 0xff, 0xff, 0, 0],
        // A declared size of 2 GiB.
        vec![0x7f, 0xff, 0xff, 0xff, 1, 2, 3],
        // Metadata v1 whose topics array claims 2^31 - 1 entries.
        vec![
            0, 0, 0, 14, 0, 3, 0, 1, 0, 0, 0, 1, 0xff, 0xff, 0x7f, 0xff, 0xff, 0xff,
        ],
        // Metadata v12 (flexible) whose compact topics array claims 2^31 entries.
        vec![
            0, 0, 0, 16, 0, 3, 0, 12, 0, 0, 0, 1, 0xff, 0xff, 0, 0x80, 0x80, 0x80, 0x80, 0x08,
        ],
        // CreateTopics v5 (flexible) whose compact topics array claims 2^32 - 2 entries.
        vec![
            0, 0, 0, 16, 0, 19, 0, 5, 0, 0, 0, 1, 0xff, 0xff, 0, 0xff, 0xff, 0xff, 0xff, 0x0f,
        ],
    ] {
        let mut stream = TcpStream::connect(&broker.bootstrap).expect("connect");
        stream.set_read_timeout(Some(TIMEOUT)).expect("timeout");
        stream.write_all(&frame).expect("write");
        let mut buf = [0; 64];
        assert_eq!(
            stream.read(&mut buf).expect("read"),
            0,
            "connection closed by the broker"
        );
    }
    healthy
        .fetch_metadata(None, TIMEOUT)
        .expect("metadata after");
}

/// Drains a consumer until it has nothing more for a while, committing what
/// it processes. Returns the values seen.
fn drain(consumer: &BaseConsumer, seen: &mut Vec<String>, idle: Duration) {
    let mut last = Instant::now();
    while last.elapsed() < idle {
        if let Some(message) = consumer.poll(Duration::from_millis(50)) {
            let message = message.expect("no consume error");
            seen.push(String::from_utf8_lossy(message.payload().unwrap_or_default()).into_owned());
            // Commits may fail across a rebalance; the next owner re-reads.
            let _ = consumer.commit_message(&message, CommitMode::Async);
            last = Instant::now();
        }
    }
}

fn assigned(consumer: &BaseConsumer) -> usize {
    consumer.assignment().map(|a| a.count()).unwrap_or(0)
}

#[test]
fn a_group_of_three_splits_partitions_and_rebalances() {
    let _serial = common::one_at_a_time();
    let dir = tempfile::tempdir().expect("tempdir");
    let broker = TestBroker::start(dir.path());
    let admin = admin(&broker.bootstrap);
    block_on(async {
        let topic = NewTopic::new("grouped", 6, TopicReplication::Fixed(1));
        let created = admin
            .create_topics([&topic], &AdminOptions::new())
            .await
            .expect("create");
        assert!(created[0].is_ok());
    });
    let first_half = values("a", 600);
    produce_all(&broker.bootstrap, "grouped", None, &first_half, &[]);

    let settings: &[(&str, &str)] = &[
        ("enable.auto.commit", "false"),
        ("session.timeout.ms", "6000"),
        ("heartbeat.interval.ms", "500"),
    ];
    let mut seen = Vec::new();
    let one = consumer(&broker.bootstrap, "three", settings);
    one.subscribe(&["grouped"]).expect("subscribe");
    wait_until("the first member to own everything", TIMEOUT, || {
        drain(&one, &mut seen, Duration::from_millis(10));
        assigned(&one) == 6
    });

    let two = consumer(&broker.bootstrap, "three", settings);
    two.subscribe(&["grouped"]).expect("subscribe");
    // The third member is static: closing it sends no LeaveGroup, so the
    // group only notices when its session times out, as if it died.
    let mut static_settings = settings.to_vec();
    static_settings.push(("group.instance.id", "third"));
    let three = consumer(&broker.bootstrap, "three", &static_settings);
    three.subscribe(&["grouped"]).expect("subscribe");
    wait_until("three members to split six partitions", TIMEOUT, || {
        for c in [&one, &two, &three] {
            drain(c, &mut seen, Duration::from_millis(10));
        }
        [&one, &two, &three].iter().all(|c| assigned(c) == 2)
    });

    produce_all(&broker.bootstrap, "grouped", None, &values("b", 300), &[]);
    for c in [&one, &two, &three] {
        drain(c, &mut seen, Duration::from_millis(300));
        let _ = c.commit_consumer_state(CommitMode::Sync);
    }

    // One member leaves cleanly, one dies.
    drop(two);
    drop(three);
    produce_all(&broker.bootstrap, "grouped", None, &values("c", 300), &[]);
    wait_until("the survivor to own everything again", TIMEOUT, || {
        drain(&one, &mut seen, Duration::from_millis(10));
        assigned(&one) == 6
    });
    drain(&one, &mut seen, Duration::from_millis(1_000));
    // Nothing left to commit is fine: the async commits may have covered it.
    let _ = one.commit_consumer_state(CommitMode::Sync);

    let expected: BTreeSet<String> = first_half
        .into_iter()
        .chain(values("b", 300))
        .chain(values("c", 300))
        .collect();
    let seen: BTreeSet<String> = seen.into_iter().collect();
    assert_eq!(seen, expected, "every record delivered");

    let mut tpl = TopicPartitionList::new();
    for p in 0..6 {
        tpl.add_partition("grouped", p);
    }
    wait_until("every record committed", TIMEOUT, || {
        let committed = one
            .committed_offsets(tpl.clone(), TIMEOUT)
            .expect("committed offsets");
        let total: i64 = committed
            .elements()
            .iter()
            .map(|e| match e.offset() {
                Offset::Offset(o) => o,
                _ => 0,
            })
            .sum();
        total == 1_200
    });
}

#[test]
fn data_and_offsets_survive_a_restart() {
    let _serial = common::one_at_a_time();
    let dir = tempfile::tempdir().expect("tempdir");
    let broker = TestBroker::start(dir.path());
    let sent = values("persist", 1_000);
    produce_all(
        &broker.bootstrap,
        "durable",
        Some(0),
        &sent,
        &[("acks", "all"), ("compression.type", "lz4")],
    );
    let group = consumer(
        &broker.bootstrap,
        "keeper",
        &[("enable.auto.commit", "false")],
    );
    group.subscribe(&["durable"]).expect("subscribe");
    let mut last = None;
    let mut got = 0;
    wait_until("400 records", TIMEOUT, || {
        if let Some(message) = group.poll(Duration::from_millis(50)) {
            let message = message.expect("ok");
            got += 1;
            if got == 400 {
                last = Some(message.offset());
                group
                    .commit_message(&message, CommitMode::Sync)
                    .expect("commit");
            }
        }
        got >= 400
    });
    drop(group);
    broker.stop();

    let broker = TestBroker::start(dir.path());
    let reader = consumer(&broker.bootstrap, "unused", &[]);
    assign_from_start(&reader, "durable", 1);
    assert_eq!(consume(&reader, sent.len(), TIMEOUT), sent);
    let group = consumer(&broker.bootstrap, "keeper", &[]);
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition("durable", 0);
    let committed = group.committed_offsets(tpl, TIMEOUT).expect("committed");
    let expected = last.map(|o| Offset::Offset(o + 1));
    assert_eq!(
        committed.find_partition("durable", 0).map(|p| p.offset()),
        expected
    );
    group.subscribe(&["durable"]).expect("subscribe");
    assert_eq!(
        consume(&group, 600, TIMEOUT),
        sent[400..].to_vec(),
        "resumes after the commit"
    );
    produce_all(
        &broker.bootstrap,
        "durable",
        Some(0),
        &values("more", 1),
        &[],
    );
    assert_eq!(
        reader
            .fetch_watermarks("durable", 0, TIMEOUT)
            .expect("watermarks"),
        (0, 1_001)
    );
}

/// `AdminClient::delete_records` moves the log start: the answer is the
/// new low watermark (`Offset::End` deletes up to the high watermark, an
/// offset past it is refused with OFFSET_OUT_OF_RANGE), and after a
/// restart a consumer reading from the beginning starts there and the
/// watermarks report it.
#[test]
fn deleted_records_are_gone_for_consumers_across_a_restart() {
    use rdkafka::error::KafkaError;
    use rdkafka::types::RDKafkaErrorCode;

    let _serial = common::one_at_a_time();
    let dir = tempfile::tempdir().expect("tempdir");
    let broker = TestBroker::start(dir.path());
    let sent = values("trimmed", 100);
    produce_all(&broker.bootstrap, "trimmed", Some(0), &sent, &[]);
    produce_all(&broker.bootstrap, "emptied", Some(0), &values("e", 50), &[]);
    let admin = admin(&broker.bootstrap);
    let options = AdminOptions::new().operation_timeout(Some(Duration::from_secs(5)));
    let delete = |topic: &str, offset: Offset| {
        let mut offsets = TopicPartitionList::new();
        offsets
            .add_partition_offset(topic, 0, offset)
            .expect("offset");
        let result = block_on(admin.delete_records(&offsets, &options)).expect("delete records");
        let partition = result.find_partition(topic, 0).expect("answered");
        partition.error().map(|()| partition.offset())
    };
    assert_eq!(
        delete("trimmed", Offset::Offset(40)),
        Ok(Offset::Offset(40))
    );
    assert_eq!(
        delete("trimmed", Offset::Offset(10)),
        Ok(Offset::Offset(40))
    );
    assert_eq!(
        delete("trimmed", Offset::Offset(101)),
        Err(KafkaError::OffsetFetch(RDKafkaErrorCode::OffsetOutOfRange))
    );
    assert_eq!(delete("emptied", Offset::End), Ok(Offset::Offset(50)));
    drop(admin);
    broker.stop();

    let broker = TestBroker::start(dir.path());
    let reader = consumer(&broker.bootstrap, "unused", &[]);
    assert_eq!(
        reader
            .fetch_watermarks("trimmed", 0, TIMEOUT)
            .expect("watermarks"),
        (40, 100)
    );
    assert_eq!(
        reader
            .fetch_watermarks("emptied", 0, TIMEOUT)
            .expect("watermarks"),
        (50, 50)
    );
    assign_from_start(&reader, "trimmed", 1);
    let first = reader.poll(TIMEOUT).expect("a record").expect("no error");
    assert_eq!(first.offset(), 40);
    assert_eq!(first.payload(), Some(sent[40].as_bytes()));
    assert_eq!(consume(&reader, 59, TIMEOUT), sent[41..].to_vec());
}

/// Deleting a topic forgets every group's committed offsets of it, as
/// Kafka does: a topic created again under the name starts with none, so
/// its consumers do not skip its first records.
#[test]
fn deleting_a_topic_forgets_its_committed_offsets() {
    let _serial = common::one_at_a_time();
    let dir = tempfile::tempdir().expect("tempdir");
    let broker = TestBroker::start(dir.path());
    let committed = |consumer: &BaseConsumer| {
        let mut partitions = TopicPartitionList::new();
        partitions.add_partition("recreated", 0);
        consumer
            .committed_offsets(partitions, TIMEOUT)
            .expect("committed offsets")
            .find_partition("recreated", 0)
            .map(|p| p.offset())
    };
    produce_all(
        &broker.bootstrap,
        "recreated",
        Some(0),
        &values("old", 5),
        &[],
    );
    let group = consumer(&broker.bootstrap, "readers", &[]);
    let mut position = TopicPartitionList::new();
    position
        .add_partition_offset("recreated", 0, Offset::Offset(5))
        .expect("offset");
    group.commit(&position, CommitMode::Sync).expect("commit");
    assert_eq!(committed(&group), Some(Offset::Offset(5)));

    let admin = admin(&broker.bootstrap);
    block_on(async {
        let options = AdminOptions::new();
        let deleted = admin
            .delete_topics(&["recreated"], &options)
            .await
            .expect("delete");
        assert!(deleted[0].is_ok());
    });
    produce_all(
        &broker.bootstrap,
        "recreated",
        Some(0),
        &values("new", 2),
        &[],
    );
    assert_eq!(committed(&group), Some(Offset::Invalid));
}

/// A compacted topic refuses a record without a key, as Kafka does
/// (INVALID_RECORD, which librdkafka reports without retrying), and takes
/// keyed records; a topic that deletes takes both.
#[test]
fn a_compacted_topic_refuses_records_without_keys() {
    use common::DeliveryCheck;
    use rdkafka::producer::{BaseRecord, Producer, ThreadedProducer};

    let _serial = common::one_at_a_time();
    let dir = tempfile::tempdir().expect("tempdir");
    let broker = TestBroker::start(dir.path());
    let admin = admin(&broker.bootstrap);
    block_on(async {
        let compacted = NewTopic::new("compacted", 1, TopicReplication::Fixed(1))
            .set("cleanup.policy", "compact");
        let deleting = NewTopic::new("deleting", 1, TopicReplication::Fixed(1));
        let created = admin
            .create_topics([&compacted, &deleting], &AdminOptions::new())
            .await
            .expect("create");
        assert!(created.iter().all(Result::is_ok), "{created:?}");
    });
    for (topic, refused) in [("compacted", 1), ("deleting", 0)] {
        let producer: ThreadedProducer<DeliveryCheck> =
            common::client_config(&broker.bootstrap, &[("compression.type", "lz4")])
                .create_with_context(DeliveryCheck::default())
                .expect("producer");
        producer
            .send(BaseRecord::<str, str>::to(topic).payload("no key"))
            .expect("queued");
        producer.flush(TIMEOUT).expect("flushed");
        producer
            .send(BaseRecord::<str, str>::to(topic).key("k").payload("keyed"))
            .expect("queued");
        producer.flush(TIMEOUT).expect("flushed");
        let (failed, first) = producer.context().failures();
        assert_eq!(failed, refused, "{topic}: {first:?}");
        if refused > 0 {
            let error = first.expect("an error");
            assert!(error.contains("InvalidRecord"), "{error}");
        }
    }
    let consumer = consumer(&broker.bootstrap, "readers", &[]);
    assign_from_start(&consumer, "compacted", 1);
    assert_eq!(consume(&consumer, 1, TIMEOUT), ["keyed"]);
}

/// A Produce answer lost on the way (the connection drops after the broker
/// appended) makes librdkafka's idempotent producer resend the batch with
/// the same sequence numbers; the broker answers the resend with the
/// offset the batch got the first time instead of appending it again.
/// Every record is in the log once, in the order sent.
#[test]
fn an_idempotent_producers_resent_batches_are_not_appended_twice() {
    use common::{DeliveryCheck, Proxy};
    use rdkafka::producer::{BaseRecord, Producer, ThreadedProducer};

    let _serial = common::one_at_a_time();
    let dir = tempfile::tempdir().expect("tempdir");
    let proxy = Proxy::start();
    let mut config = streams_broker::BrokerConfig::new(dir.path());
    config.advertised_port = Some(proxy.addr.port());
    let broker = TestBroker::with_config(config);
    proxy.forward_to(broker.local_addr);

    let producer: ThreadedProducer<DeliveryCheck> = common::client_config(
        &broker.bootstrap,
        &[
            ("enable.idempotence", "true"),
            ("linger.ms", "5"),
            ("retry.backoff.ms", "50"),
            ("reconnect.backoff.ms", "50"),
        ],
    )
    .create_with_context(DeliveryCheck::default())
    .expect("producer");
    let sent = values("idempotent", 600);
    let send = |values: &[String]| {
        for value in values {
            producer
                .send(
                    BaseRecord::<str, str>::to("resent")
                        .partition(0)
                        .payload(value),
                )
                .expect("queued");
        }
        producer.flush(TIMEOUT).expect("flushed");
    };
    send(&sent[..100]);
    proxy.lose_produce_answers(3);
    for chunk in sent[100..].chunks(100) {
        send(chunk);
    }
    assert_eq!(proxy.lost(), 3, "answers were lost");
    let (failed, first) = producer.context().failures();
    assert_eq!(failed, 0, "{first:?}");
    drop(producer);

    let consumer = consumer(&broker.bootstrap, "unused", &[]);
    assign_from_start(&consumer, "resent", 1);
    let stored = consume(&consumer, sent.len() + 1, Duration::from_secs(5));
    assert_eq!(stored, sent);
}

/// The values a consumer with `isolation` reads from partition 0 of
/// `topic` until `idle` passes with nothing new, sorted.
fn read_isolated(bootstrap: &str, topic: &str, isolation: &str, idle: Duration) -> Vec<String> {
    let reader = consumer(bootstrap, "unused", &[("isolation.level", isolation)]);
    assign_from_start(&reader, topic, 1);
    let mut seen = Vec::new();
    drain(&reader, &mut seen, idle);
    seen.sort();
    seen
}

/// A transactional producer (librdkafka): what it commits is read by
/// read-committed consumers, what it aborts never is, and what it has not
/// ended yet waits; read-uncommitted consumers see everything as it is
/// written. A second producer with the same transactional id aborts the
/// open transaction and fences the first one.
#[test]
fn transactions_commit_abort_and_fence_for_read_committed_consumers() {
    use rdkafka::producer::{BaseRecord, Producer, ThreadedProducer};

    let _serial = common::one_at_a_time();
    let dir = tempfile::tempdir().expect("tempdir");
    let broker = TestBroker::start(dir.path());
    let bootstrap = broker.bootstrap.as_str();
    let transactional = |id: &str| -> ThreadedProducer<common::DeliveryCheck> {
        let producer: ThreadedProducer<common::DeliveryCheck> =
            common::client_config(bootstrap, &[("transactional.id", id), ("linger.ms", "5")])
                .create_with_context(common::DeliveryCheck::default())
                .expect("producer");
        producer
            .init_transactions(TIMEOUT)
            .expect("init_transactions");
        producer
    };
    let send = |producer: &ThreadedProducer<common::DeliveryCheck>, values: &[String]| {
        for value in values {
            producer
                .send(
                    BaseRecord::<str, str>::to("txn")
                        .partition(0)
                        .payload(value),
                )
                .expect("queued");
        }
        producer.flush(TIMEOUT).expect("flushed");
    };
    let idle = Duration::from_secs(2);

    let first = transactional("tx");
    let committed = values("committed", 10);
    first.begin_transaction().expect("begin");
    send(&first, &committed);
    first.commit_transaction(TIMEOUT).expect("commit");
    let aborted = values("aborted", 10);
    first.begin_transaction().expect("begin");
    send(&first, &aborted);
    first.abort_transaction(TIMEOUT).expect("abort");
    let open = values("open", 5);
    first.begin_transaction().expect("begin");
    send(&first, &open);

    assert_eq!(
        read_isolated(bootstrap, "txn", "read_committed", idle),
        committed
    );
    let mut everything = [committed.clone(), aborted, open.clone()].concat();
    everything.sort();
    assert_eq!(
        read_isolated(bootstrap, "txn", "read_uncommitted", idle),
        everything
    );

    // Another instance takes over: the open transaction is aborted, and the
    // first producer can no longer commit it.
    let second = transactional("tx");
    assert!(
        first.commit_transaction(TIMEOUT).is_err(),
        "the fenced producer's commit fails"
    );
    let later = values("later", 3);
    second.begin_transaction().expect("begin");
    send(&second, &later);
    second.commit_transaction(TIMEOUT).expect("commit");
    let mut expected = [committed, later].concat();
    expected.sort();
    assert_eq!(
        read_isolated(bootstrap, "txn", "read_committed", idle),
        expected
    );
    let (failed, error) = second.context().failures();
    assert_eq!(failed, 0, "{error:?}");
}

/// Consume, transform and produce exactly once (librdkafka): the input
/// offsets go into the transaction with the output, and become the
/// group's committed position only when it commits; an aborted
/// transaction moves neither.
#[test]
fn a_transaction_commits_its_consumer_offsets_with_its_output() {
    use rdkafka::producer::{BaseRecord, Producer, ThreadedProducer};

    let _serial = common::one_at_a_time();
    let dir = tempfile::tempdir().expect("tempdir");
    let broker = TestBroker::start(dir.path());
    let bootstrap = broker.bootstrap.as_str();
    let input = values("in", 20);
    produce_all(bootstrap, "input", Some(0), &input, &[]);
    let reader = consumer(bootstrap, "copier", &[("enable.auto.commit", "false")]);
    reader.subscribe(&["input"]).expect("subscribe");
    let read = consume(&reader, input.len(), TIMEOUT);
    assert_eq!(read, input);

    let producer: ThreadedProducer<rdkafka::producer::DefaultProducerContext> =
        common::client_config(bootstrap, &[("transactional.id", "copier-tx")])
            .create()
            .expect("producer");
    producer.init_transactions(TIMEOUT).expect("init");
    let position = |offset: i64| {
        let mut offsets = TopicPartitionList::new();
        offsets
            .add_partition_offset("input", 0, Offset::Offset(offset))
            .expect("offset");
        offsets
    };
    let committed = || {
        let mut wanted = TopicPartitionList::new();
        wanted.add_partition("input", 0);
        reader
            .committed_offsets(wanted, TIMEOUT)
            .expect("committed")
            .find_partition("input", 0)
            .map(|p| p.offset())
    };
    let group = reader.group_metadata().expect("group metadata");

    // Copies `values` to the output in a transaction with the input
    // position after them.
    let copy = |values: &[String]| {
        producer.begin_transaction().expect("begin");
        for value in values {
            producer
                .send(
                    BaseRecord::<str, str>::to("output")
                        .partition(0)
                        .payload(value),
                )
                .expect("queued");
        }
        producer
            .send_offsets_to_transaction(&position(values.len() as i64), &group, TIMEOUT)
            .expect("offsets sent");
    };
    copy(&read[..10]);
    producer.abort_transaction(TIMEOUT).expect("abort");
    assert_eq!(
        committed(),
        Some(Offset::Invalid),
        "an abort commits nothing"
    );

    copy(&read);
    producer.commit_transaction(TIMEOUT).expect("commit");
    assert_eq!(committed(), Some(Offset::Offset(20)));
    let mut expected = input.clone();
    expected.sort();
    assert_eq!(
        read_isolated(
            bootstrap,
            "output",
            "read_committed",
            Duration::from_secs(2)
        ),
        expected
    );
}

/// The records of partition 0 of `topic`, from its start to its end, as
/// (offset, key, value).
fn read_partition(bootstrap: &str, topic: &str) -> Vec<(i64, String, String)> {
    let reader = consumer(bootstrap, "unused", &[]);
    let (_, end) = reader
        .fetch_watermarks(topic, 0, TIMEOUT)
        .expect("watermarks");
    assign_from_start(&reader, topic, 1);
    let text =
        |bytes: Option<&[u8]>| String::from_utf8_lossy(bytes.unwrap_or_default()).into_owned();
    let mut records = Vec::new();
    let deadline = Instant::now() + TIMEOUT;
    while records
        .last()
        .is_none_or(|&(offset, _, _)| offset + 1 < end)
    {
        assert!(Instant::now() < deadline, "timed out reading {topic}");
        if let Some(message) = reader.poll(Duration::from_millis(100)) {
            let message = message.expect("consume without error");
            records.push((
                message.offset(),
                text(message.key()),
                text(message.payload()),
            ));
        }
    }
    records
}

/// The base offset of the active segment of partition 0 of `topic`: the
/// last segment file in its directory.
fn active_segment_base(data_dir: &std::path::Path, topic: &str) -> i64 {
    std::fs::read_dir(data_dir.join(format!("{topic}-0")))
        .expect("partition directory")
        .filter_map(|entry| {
            let name = entry.expect("entry").file_name();
            name.to_str()?.strip_suffix(".log")?.parse().ok()
        })
        .max()
        .expect("a segment")
}

/// How many batches without records the segments of partition 0 of
/// `topic` hold, read from their files (batch length at byte 8, record
/// count at byte 57 of each batch).
fn empty_batches(data_dir: &std::path::Path, topic: &str) -> usize {
    let mut empty = 0;
    for entry in
        std::fs::read_dir(data_dir.join(format!("{topic}-0"))).expect("partition directory")
    {
        let path = entry.expect("entry").path();
        if path.extension().is_none_or(|extension| extension != "log") {
            continue;
        }
        let bytes = std::fs::read(&path).expect("segment");
        let mut position = 0;
        while let Some(header) = bytes.get(position..position + 61) {
            let int =
                |at: usize| i32::from_be_bytes(header[at..at + 4].try_into().expect("4 bytes"));
            empty += usize::from(int(57) == 0);
            position += 12 + usize::try_from(int(8)).expect("a length");
        }
    }
    empty
}

/// A broker cleaning its logs every 100 ms, in a temporary directory,
/// with the compacted topic `topic`: one partition of 1 KiB segments,
/// cleaned once a tenth of it is dirty.
fn compacted_topic(
    topic: &str,
) -> (
    tempfile::TempDir,
    TestBroker,
    AdminClient<DefaultClientContext>,
) {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = streams_broker::BrokerConfig::new(dir.path());
    config.log_cleaner_backoff = Duration::from_millis(100);
    let broker = TestBroker::with_config(config);
    let admin = admin(&broker.bootstrap);
    block_on(async {
        let topic = NewTopic::new(topic, 1, TopicReplication::Fixed(1))
            .set("cleanup.policy", "compact")
            .set("segment.bytes", "1024")
            .set("min.cleanable.dirty.ratio", "0.1");
        let created = admin
            .create_topics([&topic], &AdminOptions::new())
            .await
            .expect("create");
        assert!(created.iter().all(Result::is_ok), "{created:?}");
    });
    (dir, broker, admin)
}

/// A compacted topic with small segments, written key by key many times
/// (by an idempotent producer, then a plain one), is cleaned in the
/// background: consumers reading from the start get, below the active
/// segment, each key once with its latest value, at increasing offsets
/// with gaps, and the latest value of every key. The idempotent
/// producer's last batch, all of whose records were superseded, is kept
/// empty, and librdkafka reads past it.
#[test]
fn a_compacted_topic_keeps_the_latest_value_of_each_key() {
    use common::DeliveryCheck;
    use rdkafka::producer::{BaseRecord, Producer, ThreadedProducer};

    let _serial = common::one_at_a_time();
    let (dir, broker, admin) = compacted_topic("table");
    let keys: Vec<String> = (0..10).map(|k| format!("key-{k}")).collect();
    let rounds = |extra: &[(&str, &str)], rounds: std::ops::Range<usize>| {
        let producer: ThreadedProducer<DeliveryCheck> =
            common::client_config(&broker.bootstrap, extra)
                .create_with_context(DeliveryCheck::default())
                .expect("producer");
        for round in rounds {
            for key in &keys {
                let value = format!("{key}@{round}");
                producer
                    .send(
                        BaseRecord::to("table")
                            .partition(0)
                            .key(key)
                            .payload(&value),
                    )
                    .expect("queued");
            }
            // One batch per round.
            producer.flush(TIMEOUT).expect("flushed");
        }
        assert_eq!(producer.context().failures(), (0, None));
    };
    rounds(&[("enable.idempotence", "true")], 0..30);
    rounds(&[], 30..34);
    let produced = 34 * keys.len();

    let mut records = Vec::new();
    wait_until("the log to be cleaned", TIMEOUT, || {
        records = read_partition(&broker.bootstrap, "table");
        let active = active_segment_base(dir.path(), "table");
        let mut below: Vec<&String> = records
            .iter()
            .filter(|(offset, _, _)| *offset < active)
            .map(|(_, key, _)| key)
            .collect();
        let count = below.len();
        below.sort();
        below.dedup();
        count > 0 && below.len() == count && empty_batches(dir.path(), "table") == 1
    });
    assert!(records.len() < produced, "{} of {produced}", records.len());
    assert!(
        records.windows(2).all(|w| w[0].0 < w[1].0),
        "offsets increase"
    );
    let mut latest = HashMap::new();
    for (_, key, value) in &records {
        latest.insert(key.clone(), value.clone());
    }
    let expected: HashMap<String, String> = keys
        .iter()
        .map(|key| (key.clone(), format!("{key}@33")))
        .collect();
    assert_eq!(latest, expected);
    drop(admin);
    broker.stop();
}

/// The records of partition 0 of `topic` a consumer with `isolation`
/// reads from the start until `idle` passes with nothing new (after the
/// first, which it waits longer for), as (offset, key, value).
fn read_keyed(
    bootstrap: &str,
    topic: &str,
    isolation: &str,
    idle: Duration,
) -> Vec<(i64, String, String)> {
    let reader = consumer(bootstrap, "unused", &[("isolation.level", isolation)]);
    assign_from_start(&reader, topic, 1);
    let text =
        |bytes: Option<&[u8]>| String::from_utf8_lossy(bytes.unwrap_or_default()).into_owned();
    let mut records = Vec::new();
    let mut until = Instant::now() + Duration::from_secs(5);
    while Instant::now() < until {
        if let Some(message) = reader.poll(Duration::from_millis(50)) {
            let message = message.expect("consume without error");
            records.push((
                message.offset(),
                text(message.key()),
                text(message.payload()),
            ));
            until = Instant::now() + idle;
        }
    }
    records
}

/// A compacted topic written in transactions (as an exactly-once Kafka
/// Streams changelog is), some committed and some aborted, is cleaned:
/// below the active segment each key is left once, no aborted value is
/// left, and consumers of either isolation level read the latest
/// committed value of every key.
#[test]
fn a_compacted_topic_written_in_transactions_is_cleaned() {
    use rdkafka::producer::{BaseRecord, Producer, ThreadedProducer};

    let _serial = common::one_at_a_time();
    let (dir, broker, admin) = compacted_topic("changelog");
    let producer: ThreadedProducer<common::DeliveryCheck> = common::client_config(
        &broker.bootstrap,
        &[("transactional.id", "changelog-tx"), ("linger.ms", "5")],
    )
    .create_with_context(common::DeliveryCheck::default())
    .expect("producer");
    producer
        .init_transactions(TIMEOUT)
        .expect("init_transactions");
    let keys: Vec<String> = (0..10).map(|k| format!("key-{k}")).collect();
    // The last round commits; aborted rounds come before it.
    let rounds = 23;
    for round in 0..rounds {
        let abort = round % 3 == 2;
        producer.begin_transaction().expect("begin");
        for key in &keys {
            let value = if abort {
                format!("{key}@{round}-aborted")
            } else {
                format!("{key}@{round}")
            };
            producer
                .send(
                    BaseRecord::to("changelog")
                        .partition(0)
                        .key(key)
                        .payload(&value),
                )
                .expect("queued");
        }
        producer.flush(TIMEOUT).expect("flushed");
        if abort {
            producer.abort_transaction(TIMEOUT).expect("abort");
        } else {
            producer.commit_transaction(TIMEOUT).expect("commit");
        }
    }
    let (failed, error) = producer.context().failures();
    assert_eq!(failed, 0, "{error:?}");
    let idle = Duration::from_millis(500);

    wait_until("the log to be cleaned", TIMEOUT, || {
        let records = read_keyed(&broker.bootstrap, "changelog", "read_uncommitted", idle);
        let active = active_segment_base(dir.path(), "changelog");
        let below: Vec<&(i64, String, String)> = records
            .iter()
            .filter(|(offset, _, _)| *offset < active)
            .collect();
        let mut keys_below: Vec<&String> = below.iter().map(|(_, key, _)| key).collect();
        let count = keys_below.len();
        keys_below.sort();
        keys_below.dedup();
        count > 0
            && keys_below.len() == count
            && below
                .iter()
                .all(|(_, _, value)| !value.ends_with("-aborted"))
    });
    let last_committed = rounds - 1;
    let expected: HashMap<String, String> = keys
        .iter()
        .map(|key| (key.clone(), format!("{key}@{last_committed}")))
        .collect();
    for isolation in ["read_committed", "read_uncommitted"] {
        let records = read_keyed(&broker.bootstrap, "changelog", isolation, idle);
        assert!(
            records.windows(2).all(|w| w[0].0 < w[1].0),
            "offsets increase"
        );
        if isolation == "read_committed" {
            assert!(records
                .iter()
                .all(|(_, _, value)| !value.ends_with("-aborted")));
        }
        let mut latest = HashMap::new();
        for (_, key, value) in records {
            latest.insert(key, value);
        }
        assert_eq!(latest, expected, "{isolation}");
    }
    drop(producer);
    drop(admin);
    broker.stop();
}
