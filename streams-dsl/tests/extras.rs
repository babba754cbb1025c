//! The remaining KStream operators: `repartition`, `process_values`,
//! `print`, `to_extractor`, `Named` operators, `split` with `Branched`, and
//! `cogroup`. Whole output sequences through the test driver, and
//! `describe()` against the text Kafka Streams prints for the same program.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

mod support;
use support::repartition_topics;

use streams_core::prelude::*;
use streams_core::record::Headers;
use streams_core::state::{KeyValueStore, Stores};
use streams_core::topology::{SinkRecordContext, TopicNameExtractor};
use streams_dsl::{
    Branched, Consumed, FixedKeyProcessor, FixedKeyProcessorContext, FixedKeyRecord, Grouped,
    JoinWindows, Materialized, Named, Printed, Produced, Repartitioned, StreamsBuilder,
};

fn named(name: &str) -> Named {
    Named::as_(name).expect("legal name")
}

fn records<K: Clone, V: Clone>(expected: &[(K, V, i64)]) -> Vec<TestRecord<K, V>> {
    expected
        .iter()
        .map(|(k, v, ts)| TestRecord::new(k.clone(), v.clone(), *ts))
        .collect()
}

fn strings(expected: &[(&str, &str, i64)]) -> Vec<TestRecord<String, String>> {
    expected
        .iter()
        .map(|(k, v, ts)| TestRecord::new((*k).to_owned(), (*v).to_owned(), *ts))
        .collect()
}

fn pipe(driver: &TopologyTestDriver, topic: &str, input: &[(&str, &str, i64)]) {
    let topic = driver.create_input_topic(topic, StringSerde, StringSerde);
    for (k, v, ts) in input {
        topic
            .pipe_input_at((*k).to_owned(), (*v).to_owned(), *ts)
            .expect("processing succeeds");
    }
}

fn read(driver: &TopologyTestDriver, topic: &str) -> Vec<TestRecord<String, String>> {
    driver
        .create_output_topic(topic, StringSerde, StringSerde)
        .read_records_to_list()
        .expect("decode")
}

// ---------------------------------------------------------------- repartition

#[test]
fn repartition_writes_through_an_internal_topic_and_reads_back_every_record() {
    let builder = StreamsBuilder::new();
    builder
        .stream::<String, String>("input")
        .select_key(|_, v| v.clone())
        .repartition()
        .map_values(|v| v.len().to_string())
        .to("output");
    let topology = builder.build().expect("valid");
    assert_eq!(topology.subtopology_count(), 2);
    let driver = TopologyTestDriver::new(&topology).expect("driver");
    pipe(
        &driver,
        "input",
        &[("1", "ab", 10), ("2", "abc", 5), ("3", "ab", 20)],
    );
    assert_eq!(
        read(&driver, "output"),
        strings(&[("ab", "2", 10), ("abc", "3", 5), ("ab", "2", 20)])
    );
    assert!(driver
        .produced_topic_names()
        .contains("test-driver-application-KSTREAM-REPARTITION-0000000002-repartition"));
}

/// A `Repartitioned` or `Produced` that names its node but gives no serdes
/// keeps the stream's (Kafka falls back to the stream's serdes for the
/// serdes they leave null): values read as JSON are written as JSON.
#[test]
fn naming_a_repartition_or_a_sink_keeps_the_streams_serdes() {
    let json = || Arc::new(JsonSerde::<i64>::new());
    let builder = StreamsBuilder::new();
    let numbers = builder
        .stream_with::<String, i64>(&["numbers"], Consumed::with(Arc::new(StringSerde), json()));
    numbers
        .repartition_with(Repartitioned::as_("spread"))
        .to("through-repartition");
    numbers
        .repartition_with(Repartitioned::with_partitions(2))
        .to("through-counted-repartition");
    numbers.to_with("named-sink", Produced::default().with_name("sink"));
    let driver = TopologyTestDriver::new(&builder.build().expect("valid")).expect("driver");
    driver
        .create_input_topic("numbers", StringSerde, JsonSerde::<i64>::new())
        .pipe_input_at("k".into(), 7, 1)
        .expect("pipe");
    for topic in [
        "through-repartition",
        "through-counted-repartition",
        "named-sink",
    ] {
        let output = driver.create_output_topic(topic, StringSerde, JsonSerde::<i64>::new());
        assert_eq!(
            output.read_records_to_list().expect("JSON values"),
            records(&[("k".to_owned(), 7, 1)]),
            "{topic}"
        );
    }
}

#[test]
fn repartitioned_stream_needs_no_second_repartition_before_grouping() {
    let builder = StreamsBuilder::new();
    builder
        .stream::<String, String>("input")
        .select_key(|_, v| v.clone())
        .repartition_with(Repartitioned::as_("by-value"))
        .group_by_key()
        .count()
        .to_stream()
        .to("counts");
    let topology = builder.build().expect("valid");
    assert_eq!(
        topology.internal_topics().iter().collect::<Vec<_>>(),
        ["by-value-repartition"]
    );
    let driver = TopologyTestDriver::new(&topology).expect("driver");
    pipe(
        &driver,
        "input",
        &[("1", "x", 1), ("2", "y", 2), ("3", "x", 3)],
    );
    let counts =
        driver.create_output_topic("counts", StringSerde, OptionSerde::new(Arc::new(I64Serde)));
    assert_eq!(
        counts.read_records_to_list().expect("decode"),
        records(&[
            ("x".to_owned(), Some(1), 1),
            ("y".into(), Some(1), 2),
            ("x".into(), Some(2), 3)
        ])
    );
}

#[test]
fn repartition_partition_count_takes_part_in_the_copartitioning_check() {
    let join = |partitions: u32| {
        let builder = StreamsBuilder::new();
        builder.declare_topic_partitions("clicks", 6);
        let views = builder
            .stream::<String, String>("views")
            .repartition_with(Repartitioned::as_("views").with_number_of_partitions(partitions));
        builder
            .stream::<String, String>("clicks")
            .join(
                &views,
                |c, v| format!("{c}/{v}"),
                JoinWindows::of_time_difference_with_no_grace(Duration::from_secs(1)),
            )
            .to("joined");
        builder.build()
    };
    assert!(join(6).is_ok());
    match join(3) {
        Err(TopologyError::NotCopartitioned { partitions }) => assert_eq!(
            partitions,
            BTreeMap::from([
                ("clicks".to_owned(), 6),
                ("views-repartition".to_owned(), 3)
            ])
        ),
        Err(other) => panic!("expected NotCopartitioned, got {other}"),
        Ok(_) => panic!("expected NotCopartitioned, got a topology"),
    }
}

#[test]
fn describe_repartition_as_kafka_streams() {
    let builder = StreamsBuilder::new();
    let input = builder.stream::<String, String>("input");
    input.repartition().to("generated");
    input
        .repartition_with(Repartitioned::as_("by-user").with_number_of_partitions(4))
        .filter(|_, v| !v.is_empty())
        .to("named");
    let expected = "\
Topologies:
   Sub-topology: 0
    Source: KSTREAM-SOURCE-0000000000 (topics: [input])
      --> KSTREAM-FILTER-0000000003, by-user-repartition-filter
    Processor: KSTREAM-FILTER-0000000003 (stores: [])
      --> KSTREAM-SINK-0000000002
      <-- KSTREAM-SOURCE-0000000000
    Processor: by-user-repartition-filter (stores: [])
      --> by-user-repartition-sink
      <-- KSTREAM-SOURCE-0000000000
    Sink: KSTREAM-SINK-0000000002 (topic: KSTREAM-REPARTITION-0000000001-repartition)
      <-- KSTREAM-FILTER-0000000003
    Sink: by-user-repartition-sink (topic: by-user-repartition)
      <-- by-user-repartition-filter

  Sub-topology: 1
    Source: KSTREAM-SOURCE-0000000004 (topics: [KSTREAM-REPARTITION-0000000001-repartition])
      --> KSTREAM-SINK-0000000005
    Sink: KSTREAM-SINK-0000000005 (topic: generated)
      <-- KSTREAM-SOURCE-0000000004

  Sub-topology: 2
    Source: by-user-repartition-source (topics: [by-user-repartition])
      --> KSTREAM-FILTER-0000000009
    Processor: KSTREAM-FILTER-0000000009 (stores: [])
      --> KSTREAM-SINK-0000000010
      <-- by-user-repartition-source
    Sink: KSTREAM-SINK-0000000010 (topic: named)
      <-- KSTREAM-FILTER-0000000009

";
    assert_eq!(
        builder.build().expect("valid").describe().to_string(),
        expected
    );
}

// ------------------------------------------------------------ process_values

/// Numbers each key's values in a store and stamps them 1 ms later; it
/// can change value and timestamp, never the key.
struct Numbering {
    store: Option<KeyValueStore<String, i64>>,
}

impl FixedKeyProcessor<String, String, String> for Numbering {
    fn init(
        &mut self,
        ctx: &mut FixedKeyProcessorContext<'_, '_, String, String>,
    ) -> Result<(), StreamsError> {
        self.store = Some(ctx.state_store("numbers")?);
        Ok(())
    }

    fn process(
        &mut self,
        ctx: &mut FixedKeyProcessorContext<'_, '_, String, String>,
        record: FixedKeyRecord<String, String>,
    ) -> Result<(), StreamsError> {
        let Some(store) = &self.store else {
            return Ok(());
        };
        let n = store.get(record.key())?.unwrap_or(0) + 1;
        store.put(record.key(), &n)?;
        let value = format!("{}#{n}", record.value);
        let timestamp = record.timestamp + 1;
        ctx.forward(record.with_value(value).with_timestamp(timestamp))
    }
}

#[test]
fn process_values_keeps_keys_and_uses_its_store() {
    let builder = StreamsBuilder::new();
    builder.add_state_store(Stores::key_value_store_builder::<String, i64>("numbers"));
    builder
        .stream::<String, String>("input")
        .process_values(|| Numbering { store: None }, &["numbers"])
        .to("output");
    let driver = TopologyTestDriver::new(&builder.build().expect("valid")).expect("driver");
    pipe(
        &driver,
        "input",
        &[("a", "x", 1), ("b", "y", 2), ("a", "z", 3)],
    );
    assert_eq!(
        read(&driver, "output"),
        strings(&[("a", "x#1", 2), ("b", "y#1", 3), ("a", "z#2", 4)])
    );
}

/// Forwards each value twice, the second time upper-cased.
struct Twice;

impl FixedKeyProcessor<String, String, String> for Twice {
    fn process(
        &mut self,
        ctx: &mut FixedKeyProcessorContext<'_, '_, String, String>,
        record: FixedKeyRecord<String, String>,
    ) -> Result<(), StreamsError> {
        let upper = record.value.to_uppercase();
        ctx.forward(record.clone())?;
        ctx.forward(record.with_value(upper))
    }
}

#[test]
fn process_values_does_not_mark_the_stream_for_repartitioning() {
    let builder = StreamsBuilder::new();
    builder
        .stream::<String, String>("input")
        .process_values(|| Twice, &[])
        .group_by_key()
        .count()
        .to_stream()
        .to("counts");
    let topology = builder.build().expect("valid");
    assert!(topology.internal_topics().is_empty());
    let driver = TopologyTestDriver::new(&topology).expect("driver");
    pipe(&driver, "input", &[("a", "x", 1)]);
    let counts =
        driver.create_output_topic("counts", StringSerde, OptionSerde::new(Arc::new(I64Serde)));
    assert_eq!(
        counts.read_records_to_list().expect("decode"),
        records(&[("a".to_owned(), Some(1), 1), ("a".into(), Some(2), 1)])
    );
}

// --------------------------------------------------------------------- print

type Lines = Arc<Mutex<Vec<u8>>>;

fn lines(buffer: &Lines) -> Vec<String> {
    String::from_utf8_lossy(&buffer.lock().expect("lock"))
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn print_writes_label_key_and_value_per_record() {
    let (default, labelled, mapped): (Lines, Lines, Lines) = Default::default();
    let builder = StreamsBuilder::new();
    let input = builder.stream::<String, String>("input");
    // Kafka's default label is the name of the stream printed.
    input.print(Printed::to_writer(default.clone()));
    let lengths = input.map_values(|v| v.len() as i64);
    lengths.print(Printed::to_writer(labelled.clone()).with_label("lengths"));
    lengths.print(
        Printed::to_writer(mapped.clone())
            .with_label("mapped")
            .with_key_value_mapper(|k, v| format!("{k}={v}")),
    );
    let driver = TopologyTestDriver::new(&builder.build().expect("valid")).expect("driver");
    pipe(&driver, "input", &[("a", "kafka", 1), ("b", "", 2)]);
    assert_eq!(
        lines(&default),
        [
            "[KSTREAM-SOURCE-0000000000]: a, kafka",
            "[KSTREAM-SOURCE-0000000000]: b, "
        ]
    );
    assert_eq!(lines(&labelled), ["[lengths]: a, 5", "[lengths]: b, 0"]);
    assert_eq!(lines(&mapped), ["[mapped]: a=5", "[mapped]: b=0"]);
}

/// A second stream of a topic read already shares the first one's source
/// node, but keeps its own name (Kafka merges the two sources only when it
/// builds), which `print` labels with by default: generated, or the one
/// its `Consumed` gives.
#[test]
fn print_labels_a_second_stream_of_a_topic_with_its_own_name() {
    let (second, named): (Lines, Lines) = Default::default();
    let builder = StreamsBuilder::new();
    builder.stream::<String, String>("input").to("copy");
    builder
        .stream::<String, String>("input")
        .print(Printed::to_writer(second.clone()));
    builder
        .stream_with::<String, String>(&["input"], Consumed::default().with_name("again"))
        .print(Printed::to_writer(named.clone()));
    let topology = builder.build().expect("valid");
    let driver = TopologyTestDriver::new(&topology).expect("driver");
    pipe(&driver, "input", &[("a", "kafka", 1)]);
    assert_eq!(lines(&second), ["[KSTREAM-SOURCE-0000000002]: a, kafka"]);
    assert_eq!(lines(&named), ["[again]: a, kafka"]);
}

#[test]
fn print_types_without_display_through_a_mapper() {
    let buffer: Lines = Lines::default();
    let builder = StreamsBuilder::new();
    builder
        .stream::<String, String>("input")
        .map_values(|v| v.chars().collect::<Vec<char>>())
        .print(Printed::to_writer_mapped(
            buffer.clone(),
            |k, v: &Vec<char>| format!("{k} {v:?}"),
        ));
    let driver = TopologyTestDriver::new(&builder.build().expect("valid")).expect("driver");
    pipe(&driver, "input", &[("a", "hi", 1)]);
    assert_eq!(
        lines(&buffer),
        ["[KSTREAM-MAPVALUES-0000000001]: a ['h', 'i']"]
    );
}

// -------------------------------------------------------------- to_extractor

/// Sends short values to `short`, long ones to `long`.
struct ByLength;

impl TopicNameExtractor<String, String> for ByLength {
    fn extract(&self, _key: &String, value: &String, _: &SinkRecordContext<'_>) -> String {
        if value.len() < 4 { "short" } else { "long" }.to_owned()
    }
}

/// An extractor sees the record's key and value, and (as Kafka's
/// `RecordContext`) its input's topic, its timestamp and its headers.
#[test]
fn to_extractor_routes_each_record_to_the_topic_it_picks() {
    let builder = StreamsBuilder::new();
    builder
        .stream::<String, String>("input")
        .to_extractor(ByLength, Produced::default());
    builder.stream::<String, String>("other").to_extractor(
        |key: &String, _: &String, context: &SinkRecordContext<'_>| {
            let topic = context.metadata.map_or("none", |m| &*m.topic);
            format!("{topic}-{key}-{}", context.timestamp)
        },
        Produced::default().with_name("per-key"),
    );
    builder.stream::<String, String>("tagged").to_extractor(
        |_: &String, _: &String, context: &SinkRecordContext<'_>| {
            let tenant = context.headers.last("tenant").and_then(|h| h.value.clone());
            format!(
                "tenant-{}",
                String::from_utf8_lossy(&tenant.unwrap_or_default())
            )
        },
        Produced::default().with_name("per-tenant"),
    );
    let driver = TopologyTestDriver::new(&builder.build().expect("valid")).expect("driver");
    pipe(
        &driver,
        "input",
        &[("a", "abc", 1), ("b", "abcdef", 2), ("c", "", 3)],
    );
    pipe(&driver, "other", &[("x", "1", 4)]);
    let mut headers = Headers::new();
    headers.add("tenant", Some(b"acme".to_vec()));
    driver
        .create_input_topic("tagged", StringSerde, StringSerde)
        .pipe_record(TestRecord {
            headers: headers.clone(),
            ..TestRecord::new("t".into(), "v".into(), 5)
        })
        .expect("pipe");
    assert_eq!(
        read(&driver, "short"),
        strings(&[("a", "abc", 1), ("c", "", 3)])
    );
    assert_eq!(read(&driver, "long"), strings(&[("b", "abcdef", 2)]));
    assert_eq!(read(&driver, "other-x-4"), strings(&[("x", "1", 4)]));
    assert_eq!(
        driver
            .create_output_topic("tenant-acme", StringSerde, StringSerde)
            .read_records_to_list()
            .expect("read"),
        vec![TestRecord {
            headers,
            ..TestRecord::new("t".to_owned(), "v".to_owned(), 5)
        }]
    );
}

// ------------------------------------------------------- Named operators

#[test]
fn named_operators_behave_as_the_unnamed_ones() {
    let builder = StreamsBuilder::new();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let (peeked, each) = (seen.clone(), seen.clone());
    let input = builder.stream::<String, String>("input");
    let other = builder.stream::<String, String>("other");
    let words = input
        .merge_named(&other, named("both"))
        .filter_named(|_, v| !v.is_empty(), named("non-empty"))
        .filter_not_named(|_, v| v == "skip", named("not-skip"))
        .peek_named(
            move |k, v| peeked.lock().expect("lock").push(format!("peek {k}={v}")),
            named("peek"),
        )
        .flat_map_values_named(
            |v| v.split(' ').map(str::to_owned).collect::<Vec<_>>(),
            named("words"),
        );
    words.foreach_named(
        move |k, v| each.lock().expect("lock").push(format!("each {k}={v}")),
        named("each"),
    );
    words
        .map_values_named(|v| v.to_uppercase(), named("upper"))
        .select_key_named(|k, v| format!("{k}{}", v.len()), named("rekey"))
        .map_named(|k, v| (v, k), named("swap"))
        .flat_map_named(|k, v| [(k.clone(), v.clone()), (v, k)], named("both-ways"))
        .to("output");
    let driver = TopologyTestDriver::new(&builder.build().expect("valid")).expect("driver");
    pipe(
        &driver,
        "input",
        &[("a", "hi yo", 1), ("b", "", 2), ("c", "skip", 3)],
    );
    pipe(&driver, "other", &[("d", "ok", 4)]);
    assert_eq!(
        read(&driver, "output"),
        strings(&[
            ("HI", "a2", 1),
            ("a2", "HI", 1),
            ("YO", "a2", 1),
            ("a2", "YO", 1),
            ("OK", "d2", 4),
            ("d2", "OK", 4),
        ])
    );
    assert_eq!(
        *seen.lock().expect("lock"),
        [
            "peek a=hi yo",
            "each a=hi",
            "each a=yo",
            "peek d=ok",
            "each d=ok"
        ]
    );
}

#[test]
fn named_rejects_illegal_names_as_kafka() {
    assert!(Named::as_("").is_err());
    assert!(Named::as_("..").is_err());
    assert!(Named::as_("a/b").is_err());
    assert!(Named::as_(&"x".repeat(250)).is_err());
    assert!(Named::as_(&"x".repeat(249)).is_ok());
    assert!(Named::as_("Stage_1.filter-a").is_ok());
}

#[test]
fn describe_named_operators_burn_indices_as_kafka_streams() {
    let builder = StreamsBuilder::new();
    let input = builder.stream::<String, String>("input");
    input
        .filter_named(|_, v| !v.is_empty(), named("non-empty"))
        .map_values(|v| v.len() as i64)
        .peek_named(|_, _| {}, named("log"))
        .to("output");
    let expected = "\
Topologies:
   Sub-topology: 0
    Source: KSTREAM-SOURCE-0000000000 (topics: [input])
      --> non-empty
    Processor: non-empty (stores: [])
      --> KSTREAM-MAPVALUES-0000000002
      <-- KSTREAM-SOURCE-0000000000
    Processor: KSTREAM-MAPVALUES-0000000002 (stores: [])
      --> log
      <-- non-empty
    Processor: log (stores: [])
      --> KSTREAM-SINK-0000000004
      <-- KSTREAM-MAPVALUES-0000000002
    Sink: KSTREAM-SINK-0000000004 (topic: output)
      <-- log

";
    assert_eq!(
        builder.build().expect("valid").describe().to_string(),
        expected
    );
}

#[test]
fn describe_process_values_print_and_extractor_sink_as_kafka_streams() {
    let builder = StreamsBuilder::new();
    let tagged = builder
        .stream::<String, String>("input")
        .process_values(|| Twice, &[]);
    tagged.print(Printed::to_sys_out().with_label("tagged"));
    tagged.to_extractor(ByLength, Produced::default());
    let expected = "\
Topologies:
   Sub-topology: 0
    Source: KSTREAM-SOURCE-0000000000 (topics: [input])
      --> KSTREAM-PROCESSVALUES-0000000001
    Processor: KSTREAM-PROCESSVALUES-0000000001 (stores: [])
      --> KSTREAM-PRINTER-0000000002, KSTREAM-SINK-0000000003
      <-- KSTREAM-SOURCE-0000000000
    Processor: KSTREAM-PRINTER-0000000002 (stores: [])
      --> none
      <-- KSTREAM-PROCESSVALUES-0000000001
    Sink: KSTREAM-SINK-0000000003 (extractor class: extras::ByLength)
      <-- KSTREAM-PROCESSVALUES-0000000001

";
    assert_eq!(
        builder.build().expect("valid").describe().to_string(),
        expected
    );
}

// --------------------------------------------------------------------- split

#[test]
fn split_with_branched_names_chains_and_consumes() {
    let builder = StreamsBuilder::new();
    let consumed: Lines = Lines::default();
    let sink = consumed.clone();
    let branches = builder
        .stream::<String, String>("input")
        .split_named(named("Branch-"))
        .branch_with(|_, v| v.starts_with('a'), Branched::as_("A"))
        .branch_with(
            |_, v| v.starts_with('b'),
            Branched::with_function(|s| s.map_values(|v: String| v.to_uppercase())).with_name("B"),
        )
        .branch_with(
            |_, v| v.starts_with('c'),
            Branched::with_consumer(move |s| s.print(Printed::to_writer(sink).with_label("c"))),
        )
        .branch(|_, v| v.starts_with('d'))
        .default_branch();
    assert_eq!(
        branches.names().collect::<Vec<_>>(),
        ["Branch-A", "Branch-B", "Branch-4", "Branch-0"]
    );
    for (name, topic) in [
        ("Branch-A", "a"),
        ("Branch-B", "b"),
        ("Branch-4", "d"),
        ("Branch-0", "rest"),
    ] {
        branches.get(name).expect("branch").to(topic);
    }
    let driver = TopologyTestDriver::new(&builder.build().expect("valid")).expect("driver");
    pipe(
        &driver,
        "input",
        &[
            ("1", "apple", 1),
            ("2", "banana", 2),
            ("3", "cherry", 3),
            ("4", "date", 4),
            ("5", "elder", 5),
            ("6", "avocado", 6),
        ],
    );
    assert_eq!(
        read(&driver, "a"),
        strings(&[("1", "apple", 1), ("6", "avocado", 6)])
    );
    assert_eq!(read(&driver, "b"), strings(&[("2", "BANANA", 2)]));
    assert_eq!(lines(&consumed), ["[c]: 3, cherry"]);
    assert_eq!(read(&driver, "d"), strings(&[("4", "date", 4)]));
    assert_eq!(read(&driver, "rest"), strings(&[("5", "elder", 5)]));
}

#[test]
fn describe_split_as_kafka_streams() {
    let builder = StreamsBuilder::new();
    let branches = builder
        .stream::<String, String>("input")
        .split()
        .branch(|_, v| v.is_empty())
        .branch_with(|_, v| v.len() > 3, Branched::as_("long"))
        .default_branch();
    for (branch, topic) in branches.iter().zip(["empty", "long", "rest"]) {
        branch.to(topic);
    }
    let expected = "\
Topologies:
   Sub-topology: 0
    Source: KSTREAM-SOURCE-0000000000 (topics: [input])
      --> KSTREAM-BRANCH-0000000001
    Processor: KSTREAM-BRANCH-0000000001 (stores: [])
      --> KSTREAM-BRANCH-00000000010, KSTREAM-BRANCH-00000000011, KSTREAM-BRANCH-0000000001long
      <-- KSTREAM-SOURCE-0000000000
    Processor: KSTREAM-BRANCH-00000000010 (stores: [])
      --> KSTREAM-SINK-0000000007
      <-- KSTREAM-BRANCH-0000000001
    Processor: KSTREAM-BRANCH-00000000011 (stores: [])
      --> KSTREAM-SINK-0000000005
      <-- KSTREAM-BRANCH-0000000001
    Processor: KSTREAM-BRANCH-0000000001long (stores: [])
      --> KSTREAM-SINK-0000000006
      <-- KSTREAM-BRANCH-0000000001
    Sink: KSTREAM-SINK-0000000005 (topic: empty)
      <-- KSTREAM-BRANCH-00000000011
    Sink: KSTREAM-SINK-0000000006 (topic: long)
      <-- KSTREAM-BRANCH-0000000001long
    Sink: KSTREAM-SINK-0000000007 (topic: rest)
      <-- KSTREAM-BRANCH-00000000010

";
    assert_eq!(
        builder.build().expect("valid").describe().to_string(),
        expected
    );
}

// ------------------------------------------------------------------- cogroup

#[test]
fn cogroup_folds_inputs_of_different_types_into_one_aggregate() {
    let builder = StreamsBuilder::new();
    let deposits = builder.stream::<String, i64>("deposits").group_by_key();
    let withdrawals = builder
        .stream::<String, String>("withdrawals")
        .group_by_key();
    deposits
        .cogroup(|_, amount: i64, balance: i64| balance + amount)
        .cogroup(&withdrawals, |_, amount: String, balance: i64| {
            balance - amount.parse::<i64>().unwrap_or(0)
        })
        .aggregate_with(|| 100, Materialized::named("balances"))
        .to_stream()
        .to("balances");
    let driver = TopologyTestDriver::new(&builder.build().expect("valid")).expect("driver");
    let deposits = driver.create_input_topic("deposits", StringSerde, I64Serde);
    let withdrawals = driver.create_input_topic("withdrawals", StringSerde, StringSerde);
    deposits.pipe_input_at("ann".into(), 10, 5).expect("pipe");
    withdrawals
        .pipe_input_at("ann".into(), "30".into(), 3)
        .expect("pipe");
    withdrawals
        .pipe_input_at("bob".into(), "1".into(), 7)
        .expect("pipe");
    deposits.pipe_input_at("ann".into(), 5, 9).expect("pipe");
    let balances = driver.create_output_topic(
        "balances",
        StringSerde,
        OptionSerde::new(Arc::new(I64Serde)),
    );
    // The timestamp is the largest of the records folded in so far.
    assert_eq!(
        balances.read_records_to_list().expect("decode"),
        records(&[
            ("ann".to_owned(), Some(110), 5),
            ("ann".into(), Some(80), 5),
            ("bob".into(), Some(99), 7),
            ("ann".into(), Some(85), 9),
        ])
    );
    assert!(driver
        .produced_topic_names()
        .contains("test-driver-application-balances-changelog"));
}

/// Every aggregation of one cogroup reads a key-changed input through the
/// repartition topic the first one inserted, whether or not the grouping
/// is named, and an input added again keeps it: Kafka's
/// `CogroupedStreamAggregateBuilder` keeps one repartition node per
/// grouped stream. Generated names still consume their indices.
#[test]
fn a_cogroup_inserts_one_repartition_topic_per_input_for_all_its_aggregations() {
    let run = |grouped: Grouped<String, String>| {
        let builder = StreamsBuilder::new();
        let rekeyed = builder
            .stream::<String, String>("in")
            .map(|k, v| (v, k))
            .group_by_key_with(grouped);
        let cogroup = rekeyed.cogroup(|_, v: String, agg: String| agg + &v);
        let output = |table: streams_dsl::KTable<String, String>, topic: &str| {
            table.to_stream().to(topic);
        };
        output(cogroup.aggregate(String::new), "first");
        output(
            cogroup
                .clone()
                .cogroup(&rekeyed, |_, v: String, agg: String| {
                    agg + &v.to_uppercase()
                })
                .aggregate(String::new),
            "second",
        );
        let topology = builder.build().expect("valid");
        let topics: Vec<String> = repartition_topics(&topology)
            .into_iter()
            .map(str::to_owned)
            .collect();
        let driver = TopologyTestDriver::new(&topology).expect("driver");
        let input = driver.create_input_topic("in", StringSerde, StringSerde);
        input
            .pipe_input_at("a".into(), "k".into(), 1)
            .expect("pipe");
        input
            .pipe_input_at("b".into(), "k".into(), 2)
            .expect("pipe");
        let read = |topic: &str| {
            driver
                .create_output_topic(topic, StringSerde, OptionSerde::new(Arc::new(StringSerde)))
                .read_records_to_list()
                .expect("read")
        };
        (topics, read("first"), read("second"))
    };
    let first = records(&[
        ("k".to_owned(), Some("a".to_owned()), 1),
        ("k".into(), Some("ab".into()), 2),
    ]);
    let second = records(&[
        ("k".to_owned(), Some("A".to_owned()), 1),
        ("k".into(), Some("AB".into()), 2),
    ]);
    assert_eq!(
        run(Grouped::default()),
        (
            vec!["COGROUPKSTREAM-AGGREGATE-STATE-STORE-0000000002-repartition".to_owned()],
            first.clone(),
            second.clone()
        )
    );
    assert_eq!(
        run(Grouped::default().with_name("rekeyed")),
        (vec!["rekeyed-repartition".to_owned()], first, second)
    );
}

#[test]
fn describe_cogroup_as_kafka_streams() {
    let builder = StreamsBuilder::new();
    let left = builder
        .stream::<String, String>("left")
        .map(|k, v| (v, k))
        .group_by_key_with(Grouped::default().with_name("rekeyed"));
    let right = builder.stream::<String, String>("right").group_by_key();
    left.cogroup(|_, v: String, agg: String| agg + &v)
        .cogroup(&right, |_, v: String, agg: String| agg + &v)
        .aggregate(String::new)
        .to_stream()
        .to("out");
    let expected = "\
Topologies:
   Sub-topology: 0
    Source: KSTREAM-SOURCE-0000000000 (topics: [left])
      --> KSTREAM-MAP-0000000001
    Processor: KSTREAM-MAP-0000000001 (stores: [])
      --> rekeyed-repartition-filter
      <-- KSTREAM-SOURCE-0000000000
    Processor: rekeyed-repartition-filter (stores: [])
      --> rekeyed-repartition-sink
      <-- KSTREAM-MAP-0000000001
    Sink: rekeyed-repartition-sink (topic: rekeyed-repartition)
      <-- rekeyed-repartition-filter

  Sub-topology: 1
    Source: KSTREAM-SOURCE-0000000002 (topics: [right])
      --> COGROUPKSTREAM-AGGREGATE-0000000008
    Source: rekeyed-repartition-source (topics: [rekeyed-repartition])
      --> COGROUPKSTREAM-AGGREGATE-0000000007
    Processor: COGROUPKSTREAM-AGGREGATE-0000000007 (stores: [COGROUPKSTREAM-AGGREGATE-STATE-STORE-0000000003])
      --> COGROUPKSTREAM-MERGE-0000000009
      <-- rekeyed-repartition-source
    Processor: COGROUPKSTREAM-AGGREGATE-0000000008 (stores: [COGROUPKSTREAM-AGGREGATE-STATE-STORE-0000000003])
      --> COGROUPKSTREAM-MERGE-0000000009
      <-- KSTREAM-SOURCE-0000000002
    Processor: COGROUPKSTREAM-MERGE-0000000009 (stores: [])
      --> KTABLE-TOSTREAM-0000000010
      <-- COGROUPKSTREAM-AGGREGATE-0000000007, COGROUPKSTREAM-AGGREGATE-0000000008
    Processor: KTABLE-TOSTREAM-0000000010 (stores: [])
      --> KSTREAM-SINK-0000000011
      <-- COGROUPKSTREAM-MERGE-0000000009
    Sink: KSTREAM-SINK-0000000011 (topic: out)
      <-- KTABLE-TOSTREAM-0000000010

";
    assert_eq!(
        builder.build().expect("valid").describe().to_string(),
        expected
    );
}

#[test]
fn describe_named_cogroup_as_kafka_streams() {
    let builder = StreamsBuilder::new();
    let one = builder.stream::<String, i64>("one").group_by_key();
    let two = builder.stream::<String, i64>("two").group_by_key();
    one.cogroup(|_, v: i64, agg: i64| agg + v)
        .cogroup(&two, |_, v: i64, agg: i64| agg - v)
        .aggregate_named(|| 0, named("net"), Materialized::named("net-store"))
        .to_stream()
        .to("out");
    let expected = "\
Topologies:
   Sub-topology: 0
    Source: KSTREAM-SOURCE-0000000000 (topics: [one])
      --> net-cogroup-agg-0
    Source: KSTREAM-SOURCE-0000000001 (topics: [two])
      --> net-cogroup-agg-1
    Processor: net-cogroup-agg-0 (stores: [net-store])
      --> net-cogroup-merge
      <-- KSTREAM-SOURCE-0000000000
    Processor: net-cogroup-agg-1 (stores: [net-store])
      --> net-cogroup-merge
      <-- KSTREAM-SOURCE-0000000001
    Processor: net-cogroup-merge (stores: [])
      --> KTABLE-TOSTREAM-0000000005
      <-- net-cogroup-agg-0, net-cogroup-agg-1
    Processor: KTABLE-TOSTREAM-0000000005 (stores: [])
      --> KSTREAM-SINK-0000000006
      <-- net-cogroup-merge
    Sink: KSTREAM-SINK-0000000006 (topic: out)
      <-- KTABLE-TOSTREAM-0000000005

";
    assert_eq!(
        builder.build().expect("valid").describe().to_string(),
        expected
    );
}

#[test]
fn print_to_file_writes_the_same_lines() {
    let path = std::env::temp_dir().join(format!("extras-print-{}.txt", std::process::id()));
    let builder = StreamsBuilder::new();
    builder
        .stream::<String, String>("input")
        .print(Printed::to_file(&path).expect("file").with_name("to-file"));
    let driver = TopologyTestDriver::new(&builder.build().expect("valid")).expect("driver");
    pipe(&driver, "input", &[("a", "x", 1), ("b", "y", 2)]);
    let written = std::fs::read_to_string(&path).expect("read back");
    std::fs::remove_file(&path).expect("clean up");
    assert_eq!(
        written,
        "[KSTREAM-SOURCE-0000000000]: a, x\n[KSTREAM-SOURCE-0000000000]: b, y\n"
    );
}

/// Cogrouping a grouped stream again replaces its aggregator, in its
/// place (Kafka keeps a cogroup's inputs in a map keyed by the grouped
/// stream), so each record is folded once.
#[test]
fn cogrouping_a_grouped_stream_again_replaces_its_aggregator() {
    let builder = StreamsBuilder::new();
    let clicks = builder.stream::<String, i64>("clicks").group_by_key();
    clicks
        .cogroup(|_, clicks: i64, total: i64| total + clicks)
        .cogroup(&clicks, |_, clicks: i64, total: i64| total + 10 * clicks)
        .aggregate(|| 0)
        .to_stream()
        .to("totals");
    let driver = TopologyTestDriver::new(&builder.build().expect("valid")).expect("driver");
    let input = driver.create_input_topic("clicks", StringSerde, I64Serde);
    input.pipe_input_at("ann".into(), 2, 1).expect("pipe");
    let totals =
        driver.create_output_topic("totals", StringSerde, OptionSerde::new(Arc::new(I64Serde)));
    assert_eq!(
        totals.read_records_to_list().expect("read"),
        [TestRecord::new("ann".to_owned(), Some(20), 1)]
    );
}
