//! Word count with the Processor API and a key-value store, checked record
//! for record through the test driver.

use streams_core::prelude::*;
use streams_core::state::{KeyValueStore, Stores};
use streams_examples::word_count::{self, CountWords, SplitWords};

fn word_count() -> Topology {
    word_count::topology().expect("valid topology")
}

#[test]
fn counts_words_with_exact_records_and_timestamps() {
    let driver = TopologyTestDriver::new(&word_count()).expect("driver");
    let text = driver.create_input_topic(word_count::INPUT_TOPIC, UnitSerde, StringSerde);
    let counts = driver.create_output_topic(word_count::OUTPUT_TOPIC, StringSerde, I64Serde);

    text.pipe_value_at("Hello Kafka Streams".into(), 1_000)
        .expect("process");
    text.pipe_value_at("All streams lead to Kafka".into(), 2_000)
        .expect("process");
    text.pipe_value_at("Join Kafka Summit".into(), 1_500)
        .expect("process");

    let expected = [
        ("hello", 1, 1_000),
        ("kafka", 1, 1_000),
        ("streams", 1, 1_000),
        ("all", 1, 2_000),
        ("streams", 2, 2_000),
        ("lead", 1, 2_000),
        ("to", 1, 2_000),
        ("kafka", 2, 2_000),
        ("join", 1, 1_500),
        ("kafka", 3, 1_500),
        ("summit", 1, 1_500),
    ]
    .map(|(word, count, ts)| TestRecord::new(word.to_string(), count, ts));
    assert_eq!(
        counts.read_records_to_list().expect("decode"),
        expected.to_vec()
    );
    assert!(counts.is_empty());

    let store: KeyValueStore<String, i64> = driver.state_store("counts").expect("store");
    assert_eq!(store.get(&"kafka".to_string()).expect("get"), Some(3));
    assert_eq!(
        store
            .range(Some(&"k".to_string()), Some(&"m".to_string()))
            .expect("range"),
        vec![("kafka".to_string(), 3), ("lead".to_string(), 1)]
    );
    assert_eq!(store.approximate_num_entries().expect("count"), 8);

    // Every store write is logged to the store's changelog, with the
    // timestamp of the record that caused it.
    let changelog = driver.create_output_topic(
        "test-driver-application-counts-changelog",
        StringSerde,
        I64Serde,
    );
    let logged = changelog.read_records_to_list().expect("decode");
    assert_eq!(logged, expected.to_vec());
    assert!(driver
        .produced_topic_names()
        .contains("test-driver-application-counts-changelog"));
}

#[test]
fn a_store_of_another_type_is_a_typed_error() {
    let driver = TopologyTestDriver::new(&word_count()).expect("driver");
    let wrong = driver.state_store::<KeyValueStore<String, String>>("counts");
    assert!(
        matches!(wrong, Err(StreamsError::StoreAccess { .. })),
        "{:?}",
        wrong.err()
    );
    let missing = driver.state_store::<KeyValueStore<String, i64>>("nope");
    assert!(matches!(missing, Err(StreamsError::StoreAccess { .. })));
}

#[test]
fn processors_reach_only_connected_stores() {
    struct Sneaky;
    impl Processor<(), String, (), String> for Sneaky {
        fn init(&mut self, ctx: &mut ProcessorContext<'_, (), String>) -> Result<(), StreamsError> {
            ctx.state_store::<KeyValueStore<String, i64>>("counts")
                .map(|_| ())
        }
        fn process(
            &mut self,
            _ctx: &mut ProcessorContext<'_, (), String>,
            _record: Record<(), String>,
        ) -> Result<(), StreamsError> {
            Ok(())
        }
    }
    let topology = TopologyBuilder::new()
        .add_source(
            "lines",
            &["text"],
            SourceOptions::new(UnitSerde, StringSerde),
        )
        .add_processor("count", CountWords::default, &["split"])
        .add_processor("split", || SplitWords, &["lines"])
        .add_processor("sneaky", || Sneaky, &["lines"])
        .add_state_store(
            Stores::key_value_store_builder::<String, i64>("counts").in_memory(),
            &["count"],
        )
        .build()
        .expect("valid topology");
    let err = TopologyTestDriver::new(&topology).err();
    assert!(
        matches!(&err, Some(StreamsError::StoreAccess { processor, .. }) if processor == "sneaky"),
        "{err:?}"
    );
}

/// The main demo, run as a user runs it: on the bundled broker, through
/// `KafkaStreams`; every count comes out, in order per word.
#[test]
fn the_demo_counts_every_word_through_the_bundled_broker() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_word-count"))
        .output()
        .expect("run the demo");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let counts: Vec<(&str, &str)> = stdout
        .lines()
        .filter(|line| line.starts_with("  "))
        .filter_map(|line| line.trim().split_once(" @ "))
        .filter_map(|(count, _)| count.split_once(" = "))
        .collect();
    assert_eq!(
        counts,
        [
            ("all", "1"),
            ("streams", "1"),
            ("lead", "1"),
            ("to", "1"),
            ("kafka", "1"),
            ("hello", "1"),
            ("kafka", "2"),
            ("streams", "2"),
            ("join", "1"),
            ("kafka", "3"),
            ("summit", "1"),
        ]
    );
}
