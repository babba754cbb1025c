//! `KTable::suppress`: final results of windows and rate limiting per
//! key, ported from Kafka Streams' `SuppressScenarioTest`.

mod support;
use support::{pipe, Result};

use std::sync::Arc;
use std::time::Duration;

use streams_core::prelude::*;
use streams_core::serde::SharedSerde;
use streams_core::test_driver::TestOutputTopic;
use streams_core::topology::SinkRecordContext;
use streams_core::{Window, Windowed};
use streams_dsl::{
    BufferConfig, Grouped, KTable, Materialized, Produced, SessionWindows, StreamsBuilder,
    SuppressError, Suppressed, TimeWindows, WindowedSerde,
};

fn records(expected: &[(&str, i64, i64)]) -> Vec<TestRecord<String, Option<i64>>> {
    expected
        .iter()
        .map(|(k, v, ts)| TestRecord::new(k.to_string(), Some(*v), *ts))
        .collect()
}

fn output(
    driver: &TopologyTestDriver,
    topic: &str,
) -> Result<Vec<TestRecord<String, Option<i64>>>> {
    let topic =
        driver.create_output_topic(topic, StringSerde, OptionSerde::new(Arc::new(I64Serde)));
    Ok(topic.read_records_to_list()?)
}

/// Counts of "input" per key in 2 ms windows with 1 ms grace.
fn windowed_counts(builder: &StreamsBuilder) -> Result<KTable<Windowed<String>, i64>> {
    Ok(builder
        .stream::<String, String>("input")
        .group_by(|k, _| k.clone())
        .windowed_by(TimeWindows::of_size_and_grace(
            Duration::from_millis(2),
            Duration::from_millis(1),
        )?)
        .count_with(Materialized::named("counts")))
}

/// `SuppressScenarioTest.shouldSupportFinalResultsForTimeWindows`.
#[test]
fn until_window_closes_emits_only_final_results() -> Result {
    let builder = StreamsBuilder::new();
    let counts = windowed_counts(&builder)?;
    counts
        .suppress(Suppressed::until_window_closes(BufferConfig::unbounded()))?
        .to_stream()
        .map(|k, v| (k.to_string(), v))
        .to("output-suppressed");
    counts
        .to_stream()
        .map(|k, v| (k.to_string(), v))
        .to("output-raw");
    let driver = TopologyTestDriver::new(&builder.build()?)?;
    pipe(
        &driver,
        &[
            ("k1", "v1", 0),
            ("k1", "v1", 1),
            ("k1", "v1", 2),
            ("k1", "v1", 1),
            ("k1", "v1", 0),
            ("k1", "v1", 5),
            // Out of the grace period: dropped.
            ("k1", "v1", 0),
        ],
    )?;
    assert_eq!(
        output(&driver, "output-raw")?,
        records(&[
            ("[k1@0/2]", 1, 0),
            ("[k1@0/2]", 2, 1),
            ("[k1@2/4]", 1, 2),
            ("[k1@0/2]", 3, 1),
            ("[k1@0/2]", 4, 1),
            ("[k1@4/6]", 1, 5),
        ])
    );
    assert_eq!(
        output(&driver, "output-suppressed")?,
        records(&[("[k1@0/2]", 4, 1), ("[k1@2/4]", 1, 2)])
    );
    assert_eq!(driver.metrics().dropped_records, 1);
    Ok(())
}

/// Kafka's suppression forwards a held record with the context it was
/// buffered with: downstream sees where its latest update was read, not
/// the record that closed its window.
#[test]
fn emitted_records_carry_the_metadata_of_their_latest_update() -> Result {
    let builder = StreamsBuilder::new();
    builder
        .stream::<String, String>("input")
        .group_by_key()
        .windowed_by(TimeWindows::of_size_and_grace(
            Duration::from_millis(2),
            Duration::from_millis(1),
        )?)
        .count()
        .suppress(Suppressed::until_window_closes(BufferConfig::unbounded()))?
        .to_stream()
        .map(|k, v| (k.to_string(), v))
        .to_extractor(
            |_: &String, _: &Option<i64>, context: &SinkRecordContext<'_>| {
                let read = context.metadata;
                read.map_or("unread".to_owned(), |m| format!("{}-{}", m.topic, m.offset))
            },
            Produced::with(
                Arc::new(StringSerde),
                Arc::new(OptionSerde::new(Arc::new(I64Serde))),
            ),
        );
    let driver = TopologyTestDriver::new(&builder.build()?)?;
    // Offsets 0, 1 and 2; the last closes window [0, 2).
    pipe(
        &driver,
        &[("k1", "v1", 0), ("k1", "v1", 1), ("k2", "v1", 5)],
    )?;
    assert_eq!(output(&driver, "input-2")?, []);
    assert_eq!(output(&driver, "input-1")?, records(&[("[k1@0/2]", 2, 1)]));
    Ok(())
}

fn counts_by_value(builder: &StreamsBuilder) -> KTable<String, i64> {
    builder
        .stream::<String, String>("input")
        .group_by(|_, v| v.clone())
        .count()
}

/// `SuppressScenarioTest.shouldSuppressIntermediateEventsWithTimeLimit`,
/// with a stream count in place of a table count.
#[test]
fn until_time_limit_emits_the_latest_value_once_the_limit_passes() -> Result {
    let builder = StreamsBuilder::new();
    counts_by_value(&builder)
        .suppress(Suppressed::until_time_limit(
            Duration::from_millis(2),
            BufferConfig::unbounded(),
        ))?
        .to_stream()
        .to("output-suppressed");
    let driver = TopologyTestDriver::new(&builder.build()?)?;
    pipe(
        &driver,
        &[("k1", "v1", 0), ("k1", "v2", 1), ("k2", "v1", 2)],
    )?;
    // v1 was first buffered at 0: due at stream time 2, with its latest
    // value and timestamp.
    assert_eq!(
        output(&driver, "output-suppressed")?,
        records(&[("v1", 2, 2)])
    );
    pipe(&driver, &[("tick", "tick", 3)])?;
    assert_eq!(
        output(&driver, "output-suppressed")?,
        records(&[("v2", 1, 1)])
    );
    // tick was first buffered at 3; at 4 it is not due yet.
    pipe(&driver, &[("tick", "tock", 4)])?;
    assert_eq!(output(&driver, "output-suppressed")?, records(&[]));
    pipe(&driver, &[("x", "x", 5)])?;
    assert_eq!(
        output(&driver, "output-suppressed")?,
        records(&[("tick", 1, 3)])
    );
    Ok(())
}

/// `SuppressScenarioTest.shouldSuppressIntermediateEventsWithRecordLimit`.
#[test]
fn a_full_buffer_emits_its_oldest_keys_early() -> Result {
    let builder = StreamsBuilder::new();
    counts_by_value(&builder)
        .suppress(Suppressed::until_time_limit(
            Duration::MAX,
            BufferConfig::max_records(1).emit_early_when_full(),
        ))?
        .to_stream()
        .to("output-suppressed");
    let driver = TopologyTestDriver::new(&builder.build()?)?;
    pipe(
        &driver,
        &[("k1", "v1", 0), ("k1", "v2", 1), ("k2", "v1", 2)],
    )?;
    assert_eq!(
        output(&driver, "output-suppressed")?,
        records(&[("v1", 1, 0), ("v2", 1, 1)])
    );
    Ok(())
}

#[test]
fn a_full_buffer_that_shuts_down_fails_with_a_typed_error() -> Result {
    let builder = StreamsBuilder::new();
    counts_by_value(&builder)
        .suppress(
            Suppressed::until_time_limit(
                Duration::MAX,
                BufferConfig::max_records(1).shut_down_when_full(),
            )
            .with_name("limited"),
        )?
        .to_stream()
        .to("output-suppressed");
    let driver = TopologyTestDriver::new(&builder.build()?)?;
    pipe(&driver, &[("k1", "v1", 0)])?;
    let Err(error) = pipe(&driver, &[("k1", "v2", 1)]) else {
        panic!("the second key overflows the buffer");
    };
    let Some(StreamsError::Processor { processor, source }) = error.downcast_ref::<StreamsError>()
    else {
        panic!("not a processor error: {error}");
    };
    assert_eq!(processor, "limited");
    assert_eq!(
        source.downcast_ref::<SuppressError>(),
        Some(&SuppressError::BufferFull {
            processor: "limited".to_owned(),
            records: 2,
            max_records: 1,
            // Each record: 8 (buffer time) + 2 (key) + 8 (count) + 8 (the
            // initial count 0, its old and prior value) + 20 (metadata)
            // + 76 (the repartition topic's name).
            bytes: 2 * 122,
            max_bytes: u64::MAX,
        })
    );
    Ok(())
}

/// Windowed counts of `window_ms` suppressed for `limit` within `buffer`,
/// written to "output" with `[key@start/end]` keys.
fn suppressed_window_counts(
    window_ms: u64,
    limit: Duration,
    buffer: BufferConfig,
) -> Result<TopologyTestDriver> {
    let builder = StreamsBuilder::new();
    builder
        .stream::<String, String>("input")
        .group_by_key()
        .windowed_by(TimeWindows::of_size_with_no_grace(Duration::from_millis(
            window_ms,
        ))?)
        .count()
        .suppress(Suppressed::until_time_limit(limit, buffer))?
        .to_stream()
        .map(|k, v| (k.to_string(), v))
        .to("output");
    Ok(TopologyTestDriver::new(&builder.build()?)?)
}

#[test]
fn byte_bounds_count_serialized_records() -> Result {
    // One record: 8 (buffer time) + 1 + 8 (key "a" and window start)
    // + 8 (count) + 8 (the initial count 0: Kafka's count forwards it as
    // the old value, and it is the prior one too) + 20 (metadata) + 5
    // (topic "input") = 58 bytes.
    let driver = suppressed_window_counts(10, Duration::MAX, BufferConfig::max_bytes(58))?;
    // The second update keeps the prior 0 and adds its old value 1: 66
    // bytes, over the bound, so it leaves at once.
    pipe(&driver, &[("a", "x", 1), ("a", "x", 2)])?;
    assert_eq!(output(&driver, "output")?, records(&[("[a@0/10]", 2, 2)]));
    Ok(())
}

/// Header keys count as Kafka counts them, in Java chars: "é" is one
/// (two bytes in UTF-8), so 58 bytes and the header's 1 + 1 fill a bound
/// of 60 exactly, and nothing leaves early.
#[test]
fn byte_bounds_count_header_keys_in_java_chars() -> Result {
    let driver = suppressed_window_counts(10, Duration::MAX, BufferConfig::max_bytes(60))?;
    let input = driver.create_input_topic("input", StringSerde, StringSerde);
    let mut traced = TestRecord::new("a".to_owned(), "x".to_owned(), 1);
    traced.headers.add("é", Some(b"v".to_vec()));
    input.pipe_record(traced)?;
    assert_eq!(output(&driver, "output")?, records(&[]));
    Ok(())
}

/// A key buffered again after it was emitted keeps the value downstream
/// saw last (its prior value) until it leaves, and the bound counts it:
/// Kafka's `BufferValue` keeps prior, old and new value, the old one only
/// if it differs from the prior one.
#[test]
fn byte_bounds_count_the_prior_value_of_a_rebuffered_key() -> Result {
    let driver = suppressed_window_counts(
        100,
        Duration::from_millis(10),
        BufferConfig::max_bytes(120).emit_early_when_full(),
    )?;
    // Each entry: 8 (buffer time) + 9 (key and window start) + 20
    // (metadata) + 5 (topic) = 42 bytes, plus its values.
    // a=1 over the initial 0 (58 bytes: prior and old 0 count once), then
    // b=1 (58 bytes), which makes a due: a is emitted.
    pipe(&driver, &[("a", "x", 1), ("b", "x", 20)])?;
    assert_eq!(output(&driver, "output")?, records(&[("[a@0/100]", 1, 1)]));
    // a=2 over a=1: prior 1 and old 1 count once, 42 + 16 = 58 bytes;
    // 116 in all, within the bound.
    pipe(&driver, &[("a", "x", 21)])?;
    assert_eq!(output(&driver, "output")?, []);
    // a=3 over a=2, prior still 1: 42 + 24 = 66 bytes, 124 in all (116
    // without the prior value). Over the bound, the earliest key leaves
    // early.
    pipe(&driver, &[("a", "x", 22)])?;
    assert_eq!(output(&driver, "output")?, records(&[("[b@0/100]", 1, 20)]));
    Ok(())
}

#[test]
fn suppress_reports_what_it_cannot_do() -> Result {
    let builder = StreamsBuilder::new();
    // A byte bound needs the table's serdes, unknown for a value type
    // mapped to without naming one.
    let doubled = counts_by_value(&builder).map_values(|count| count * 2);
    assert_eq!(
        doubled
            .suppress(Suppressed::until_time_limit(
                Duration::from_millis(1),
                BufferConfig::max_bytes(100),
            ))
            .err(),
        Some(SuppressError::UnknownSerdes(
            "KTABLE-MAPVALUES-0000000007".to_owned()
        ))
    );
    // Windowed keys alone do not make a windowed computation.
    let windowed_serde: SharedSerde<Windowed<String>> =
        Arc::new(WindowedSerde::time_windowed(Arc::new(StringSerde), 10));
    let not_windowed = builder
        .stream::<String, String>("other")
        .map(|k, v| (Windowed::new(k, Window::new(0, 10)), v))
        .group_by_key_with(Grouped::with(windowed_serde.clone(), Arc::new(StringSerde)))
        .count_with(Materialized::with(windowed_serde, Arc::new(I64Serde)));
    assert!(matches!(
        not_windowed.suppress(Suppressed::until_window_closes(BufferConfig::unbounded())),
        Err(SuppressError::NotWindowed(_))
    ));
    Ok(())
}

/// Kafka's `SuppressTopologyTest`: a final-results suppression of session
/// counts, anonymous and named.
fn session_counts_suppressed(name: Option<&str>) -> Result<String> {
    let builder = StreamsBuilder::new();
    let suppressed = Suppressed::until_window_closes(BufferConfig::unbounded());
    let suppressed = match name {
        Some(name) => suppressed.with_name(name),
        None => suppressed,
    };
    builder
        .stream::<String, String>("input")
        .group_by(|k, _| k.clone())
        .windowed_by(SessionWindows::of_inactivity_gap_and_grace(
            Duration::from_millis(5),
            Duration::from_millis(5),
        )?)
        .count_with(Materialized::named("counts"))
        .suppress(suppressed)?
        .to_stream()
        .map(|k, v| (k.to_string(), v))
        .to("output-suppressed");
    Ok(builder.build()?.describe().to_string())
}

const SESSION_COUNTS_REPARTITION: &str = "Topologies:
   Sub-topology: 0
    Source: KSTREAM-SOURCE-0000000000 (topics: [input])
      --> KSTREAM-KEY-SELECT-0000000001
    Processor: KSTREAM-KEY-SELECT-0000000001 (stores: [])
      --> counts-repartition-filter
      <-- KSTREAM-SOURCE-0000000000
    Processor: counts-repartition-filter (stores: [])
      --> counts-repartition-sink
      <-- KSTREAM-KEY-SELECT-0000000001
    Sink: counts-repartition-sink (topic: counts-repartition)
      <-- counts-repartition-filter

  Sub-topology: 1
    Source: counts-repartition-source (topics: [counts-repartition])
      --> KSTREAM-AGGREGATE-0000000002
    Processor: KSTREAM-AGGREGATE-0000000002 (stores: [counts])
";

#[test]
fn describe_an_anonymous_final_suppression_as_kafka_streams() -> Result {
    let expected = format!(
        "{SESSION_COUNTS_REPARTITION}      --> KTABLE-SUPPRESS-0000000006
      <-- counts-repartition-source
    Processor: KTABLE-SUPPRESS-0000000006 (stores: [KTABLE-SUPPRESS-STATE-STORE-0000000007])
      --> KTABLE-TOSTREAM-0000000008
      <-- KSTREAM-AGGREGATE-0000000002
    Processor: KTABLE-TOSTREAM-0000000008 (stores: [])
      --> KSTREAM-MAP-0000000009
      <-- KTABLE-SUPPRESS-0000000006
    Processor: KSTREAM-MAP-0000000009 (stores: [])
      --> KSTREAM-SINK-0000000010
      <-- KTABLE-TOSTREAM-0000000008
    Sink: KSTREAM-SINK-0000000010 (topic: output-suppressed)
      <-- KSTREAM-MAP-0000000009

"
    );
    assert_eq!(session_counts_suppressed(None)?, expected);
    Ok(())
}

#[test]
fn describe_a_named_final_suppression_as_kafka_streams() -> Result {
    let expected = format!(
        "{SESSION_COUNTS_REPARTITION}      --> myname
      <-- counts-repartition-source
    Processor: myname (stores: [myname-store])
      --> KTABLE-TOSTREAM-0000000006
      <-- KSTREAM-AGGREGATE-0000000002
    Processor: KTABLE-TOSTREAM-0000000006 (stores: [])
      --> KSTREAM-MAP-0000000007
      <-- myname
    Processor: KSTREAM-MAP-0000000007 (stores: [])
      --> KSTREAM-SINK-0000000008
      <-- KTABLE-TOSTREAM-0000000006
    Sink: KSTREAM-SINK-0000000008 (topic: output-suppressed)
      <-- KSTREAM-MAP-0000000007

"
    );
    assert_eq!(session_counts_suppressed(Some("myname"))?, expected);
    Ok(())
}

/// Kafka's `SuppressTopologyTest`: an intermediate (time-limit)
/// suppression of a stream count, anonymous and named.
#[test]
fn describe_time_limit_suppressions_as_kafka_streams() -> Result {
    let describe = |name: Option<&str>| -> Result<String> {
        let builder = StreamsBuilder::new();
        let suppressed =
            Suppressed::until_time_limit(Duration::from_secs(1), BufferConfig::unbounded());
        let suppressed = match name {
            Some(name) => suppressed.with_name(name),
            None => suppressed,
        };
        builder
            .stream::<String, String>("input")
            .group_by_key()
            .count()
            .suppress(suppressed)?
            .to_stream()
            .to("output");
        Ok(builder.build()?.describe().to_string())
    };
    let expected = |suppress: &str, store: &str, to_stream: u32| {
        let to_stream = format!("KTABLE-TOSTREAM-{to_stream:010}");
        let sink = format!(
            "KSTREAM-SINK-{:010}",
            1 + to_stream[16..].parse::<u32>().unwrap_or(0)
        );
        format!(
            "Topologies:
   Sub-topology: 0
    Source: KSTREAM-SOURCE-0000000000 (topics: [input])
      --> KSTREAM-AGGREGATE-0000000002
    Processor: KSTREAM-AGGREGATE-0000000002 (stores: [KSTREAM-AGGREGATE-STATE-STORE-0000000001])
      --> {suppress}
      <-- KSTREAM-SOURCE-0000000000
    Processor: {suppress} (stores: [{store}])
      --> {to_stream}
      <-- KSTREAM-AGGREGATE-0000000002
    Processor: {to_stream} (stores: [])
      --> {sink}
      <-- {suppress}
    Sink: {sink} (topic: output)
      <-- {to_stream}

"
        )
    };
    assert_eq!(
        describe(None)?,
        expected(
            "KTABLE-SUPPRESS-0000000003",
            "KTABLE-SUPPRESS-STATE-STORE-0000000004",
            5
        )
    );
    assert_eq!(describe(Some("asdf"))?, expected("asdf", "asdf-store", 3));
    Ok(())
}

/// Keys due at the same time leave in the order of their serialized keys,
/// not of arrival (Kafka's buffer orders by time, then key bytes).
#[test]
fn keys_due_together_are_emitted_in_key_order() -> Result {
    let builder = StreamsBuilder::new();
    counts_by_value(&builder)
        .suppress(Suppressed::until_time_limit(
            Duration::from_millis(10),
            BufferConfig::unbounded(),
        ))?
        .to_stream()
        .to("output");
    let driver = TopologyTestDriver::new(&builder.build()?)?;
    pipe(
        &driver,
        &[("x", "b", 0), ("x", "c", 0), ("x", "a", 0), ("x", "z", 20)],
    )?;
    assert_eq!(
        output(&driver, "output")?,
        records(&[("a", 1, 0), ("b", 1, 0), ("c", 1, 0)])
    );
    Ok(())
}

/// Joined, a suppressed table shows what it emitted, not what it holds
/// back: Kafka's view of a suppression gives a buffered key's prior value
/// (and a key emitted in full its parent's). The prior value of a key's
/// first update is the old value the count sent with it: the
/// initializer's 0, as Kafka's aggregation sends.
#[test]
fn a_join_sees_what_the_suppression_emitted() -> Result {
    let builder = StreamsBuilder::new();
    let suppressed = counts_by_value(&builder).suppress(Suppressed::until_time_limit(
        Duration::from_millis(10),
        BufferConfig::unbounded(),
    ))?;
    builder
        .stream::<String, String>("lookups")
        .join_table(&suppressed, |lookup: &String, count: &i64| {
            format!("{lookup}:{count}")
        })
        .to("joined");
    let topology = builder.build()?;
    let description = topology.describe().to_string();
    // The lookup reads the buffer and the count's store; no store of
    // emitted rows is added.
    assert!(
        description.contains(
            "Processor: KSTREAM-JOIN-0000000010 (stores: \
             [KSTREAM-AGGREGATE-STATE-STORE-0000000002, KTABLE-SUPPRESS-STATE-STORE-0000000008])"
        ),
        "{description}"
    );
    let driver = TopologyTestDriver::new(&topology)?;
    // a=1 is held back, then emitted when b arrives; a=2 is held back.
    pipe(&driver, &[("x", "a", 0), ("x", "b", 20), ("x", "a", 21)])?;
    let lookups = driver.create_input_topic("lookups", StringSerde, StringSerde);
    for key in ["a", "b"] {
        lookups.pipe_input_at(key.to_owned(), "look".to_owned(), 22)?;
    }
    let joined = driver.create_output_topic("joined", StringSerde, StringSerde);
    // a shows its emitted count 1, not the buffered 2; b, never emitted,
    // shows its prior 0, not the buffered 1.
    assert_eq!(
        joined.read_records_to_list()?,
        [
            TestRecord::new("a".to_owned(), "look:1".to_owned(), 22),
            TestRecord::new("b".to_owned(), "look:0".to_owned(), 22),
        ]
    );
    Ok(())
}

/// Counts by value, suppressed for 10 ms in a buffer named "limit".
fn limited_counts_by_value_topology() -> Result<Topology> {
    let builder = StreamsBuilder::new();
    counts_by_value(&builder)
        .suppress(
            Suppressed::until_time_limit(Duration::from_millis(10), BufferConfig::unbounded())
                .with_name("limit"),
        )?
        .to_stream()
        .to("output");
    Ok(builder.build()?)
}

fn limited_counts_by_value() -> Result<TopologyTestDriver> {
    Ok(TopologyTestDriver::new(
        &limited_counts_by_value_topology()?
    )?)
}

/// The changelog of the "limit" buffer's store, its values as raw bytes.
fn buffer_changelog(driver: &TopologyTestDriver) -> TestOutputTopic<String, Option<Vec<u8>>> {
    driver.create_output_topic(
        "test-driver-application-limit-store-changelog",
        StringSerde,
        OptionSerde::new(Arc::new(BytesSerde)),
    )
}

/// The buffer is mirrored into a logged store: each buffered update is
/// written to its changelog, and each emitted key deleted from it.
#[test]
fn the_buffer_writes_a_changelog() -> Result {
    let driver = limited_counts_by_value()?;
    pipe(&driver, &[("x", "a", 0), ("x", "a", 5), ("x", "b", 20)])?;
    let changelog = buffer_changelog(&driver);
    let written: Vec<(String, bool)> = changelog
        .read_records_to_list()?
        .into_iter()
        .map(|record| (record.key, record.value.is_some()))
        .collect();
    // "a" buffered twice; "b" buffered, which moves time past a's limit,
    // so "a" is emitted and deleted.
    assert_eq!(
        written,
        [
            ("a".to_owned(), true),
            ("a".to_owned(), true),
            ("b".to_owned(), true),
            ("a".to_owned(), false),
        ]
    );
    Ok(())
}

/// A held-back update keeps its headers: they are emitted with it and
/// written with it to the buffer's changelog, so a restored buffer has them.
#[test]
fn the_buffer_keeps_each_update_s_headers() -> Result {
    let driver = limited_counts_by_value()?;
    let input = driver.create_input_topic("input", StringSerde, StringSerde);
    let mut traced = TestRecord::new("x".to_owned(), "a".to_owned(), 0);
    traced.headers.add("trace", Some(b"t1".to_vec()));
    input.pipe_record(traced)?;
    input.pipe_input_at("x".to_owned(), "b".to_owned(), 20)?;

    let mut expected = TestRecord::new("a".to_owned(), Some(1), 0);
    expected.headers.add("trace", Some(b"t1".to_vec()));
    assert_eq!(output(&driver, "output")?, vec![expected]);

    let changelog = buffer_changelog(&driver);
    let first = changelog.read_record()?;
    let value = first.value.unwrap_or_default();
    // Buffer time and timestamp, then one header: "trace" = "t1".
    let mut headers = 1_i32.to_be_bytes().to_vec();
    headers.extend_from_slice(&5_i32.to_be_bytes());
    headers.extend_from_slice(b"trace");
    headers.extend_from_slice(&2_i32.to_be_bytes());
    headers.extend_from_slice(b"t1");
    assert_eq!(
        (first.key.as_str(), value.get(16..16 + headers.len())),
        ("a", Some(&headers[..]))
    );
    Ok(())
}

/// As Kafka's suppression asks its parent table for old values, a count
/// feeding it forwards each update with the count it replaces, and the
/// buffer writes both to its changelog (Kafka's `Change` layout: the new
/// value's length as a varint, new, old, then the flag 2 for both).
#[test]
fn the_buffer_sees_the_old_values_of_the_table_it_suppresses() -> Result {
    let driver = limited_counts_by_value()?;
    pipe(&driver, &[("x", "a", 0), ("x", "a", 5)])?;
    let values: Vec<Vec<u8>> = buffer_changelog(&driver)
        .read_records_to_list()?
        .into_iter()
        .map(|record| record.value.unwrap_or_default())
        .collect();
    // A count's first update replaces the initial count 0.
    let first = [&[16][..], &1_i64.to_be_bytes(), &0_i64.to_be_bytes(), &[2]].concat();
    let then = [&[16][..], &2_i64.to_be_bytes(), &1_i64.to_be_bytes(), &[2]].concat();
    assert_eq!(values.len(), 2);
    assert!(values[0].ends_with(&first), "{:?}", values[0]);
    assert!(values[1].ends_with(&then), "{:?}", values[1]);
    Ok(())
}

/// A restarted application gets its buffer back from the buffer's
/// changelog, and its counts from theirs: an update held back before the
/// restart is emitted after it, on time and with its headers, and counting
/// carries on from the restored counts.
#[test]
fn a_restarted_task_restores_its_buffer_and_counts_from_their_changelogs() -> Result {
    let topology = limited_counts_by_value_topology()?;
    let driver = TopologyTestDriver::new(&topology)?;
    let input = driver.create_input_topic("input", StringSerde, StringSerde);
    input.pipe_input_at("x".to_owned(), "a".to_owned(), 0)?;
    let mut traced = TestRecord::new("x".to_owned(), "a".to_owned(), 5);
    traced.headers.add("trace", Some(b"t1".to_vec()));
    input.pipe_record(traced)?;
    assert_eq!(output(&driver, "output")?, []);

    driver.restart(&topology)?;
    // Two updates of the count store and two of the buffer.
    assert_eq!(driver.metrics().restored_records, 4);
    input.pipe_input_at("x".to_owned(), "b".to_owned(), 20)?;
    let mut restored = TestRecord::new("a".to_owned(), Some(2), 5);
    restored.headers.add("trace", Some(b"t1".to_vec()));
    assert_eq!(output(&driver, "output")?, [restored]);

    input.pipe_input_at("x".to_owned(), "a".to_owned(), 21)?;
    input.pipe_input_at("x".to_owned(), "c".to_owned(), 40)?;
    assert_eq!(
        output(&driver, "output")?,
        records(&[("b", 1, 20), ("a", 3, 21)])
    );
    Ok(())
}

/// A buffer with logging disabled writes no changelog, and a restarted
/// task starts with it empty: what was held back before the restart is
/// never emitted, as with Kafka's `withLoggingDisabled`.
#[test]
fn a_buffer_without_logging_has_no_changelog_and_restarts_empty() -> Result {
    let builder = StreamsBuilder::new();
    counts_by_value(&builder)
        .suppress(
            Suppressed::until_time_limit(
                Duration::from_millis(10),
                BufferConfig::unbounded().with_logging_disabled(),
            )
            .with_name("limit"),
        )?
        .to_stream()
        .to("output");
    let topology = builder.build()?;
    assert!(!topology
        .changelog_topics("test-driver-application")
        .contains(&"test-driver-application-limit-store-changelog".to_owned()));
    let driver = TopologyTestDriver::new(&topology)?;
    let input = driver.create_input_topic("input", StringSerde, StringSerde);
    input.pipe_input_at("x".to_owned(), "a".to_owned(), 0)?;
    assert!(buffer_changelog(&driver).is_empty());

    driver.restart(&topology)?;
    input.pipe_input_at("x".to_owned(), "b".to_owned(), 20)?;
    input.pipe_input_at("x".to_owned(), "c".to_owned(), 40)?;
    assert_eq!(output(&driver, "output")?, records(&[("b", 1, 20)]));
    Ok(())
}

/// A restarted suppression starts its stream time afresh, as Kafka's
/// `KTableSuppressProcessor` does (its observed stream time is not kept):
/// restored updates wait until records seen after the restart pass them.
#[test]
fn a_restarted_suppression_observes_stream_time_anew() -> Result {
    let topology = limited_counts_by_value_topology()?;
    let driver = TopologyTestDriver::new(&topology)?;
    let input = driver.create_input_topic("input", StringSerde, StringSerde);
    input.pipe_input_at("x".to_owned(), "a".to_owned(), 100)?;
    driver.restart(&topology)?;

    // Stream time is 85 now, not 100: b (85) is not due until 95.
    input.pipe_input_at("y".to_owned(), "b".to_owned(), 85)?;
    assert_eq!(output(&driver, "output")?, []);
    input.pipe_input_at("z".to_owned(), "c".to_owned(), 111)?;
    assert_eq!(
        output(&driver, "output")?,
        records(&[("b", 1, 85), ("a", 1, 100)])
    );
    Ok(())
}

/// The windowed counts of `until_window_closes_emits_only_final_results`,
/// made final by `finalize` (which ends in a final-results suppression
/// somewhere below the count), written to "output".
fn final_counts(
    finalize: impl FnOnce(KTable<Windowed<String>, i64>) -> Result<KTable<Windowed<String>, i64>>,
) -> Result<Vec<TestRecord<String, Option<i64>>>> {
    let builder = StreamsBuilder::new();
    finalize(windowed_counts(&builder)?)?
        .to_stream()
        .map(|k, v| (k.to_string(), v))
        .to("output");
    let driver = TopologyTestDriver::new(&builder.build()?)?;
    let times = [0, 1, 2, 1, 0, 5, 0];
    let records: Vec<_> = times.iter().map(|&ts| ("k1", "v1", ts)).collect();
    pipe(&driver, &records)?;
    output(&driver, "output")
}

/// As Kafka's `GraphGraceSearchUtil`, a final-results suppression finds
/// the grace of the windowed aggregation anywhere upstream: through
/// another suppression, through a stream and back to a table, and through
/// a repartition topic.
#[test]
fn until_window_closes_finds_the_grace_of_the_aggregation_upstream() -> Result {
    let finals = records(&[("[k1@0/2]", 4, 1), ("[k1@2/4]", 1, 2)]);
    let window_closes = || Suppressed::until_window_closes(BufferConfig::unbounded());
    let through_suppression = final_counts(|counts| {
        let limited = counts.suppress(Suppressed::until_time_limit(
            Duration::ZERO,
            BufferConfig::unbounded(),
        ))?;
        Ok(limited.suppress(window_closes())?)
    })?;
    assert_eq!(through_suppression, finals);
    let through_a_stream = final_counts(|counts| {
        let serde: SharedSerde<Windowed<String>> =
            Arc::new(WindowedSerde::time_windowed(Arc::new(StringSerde), 2));
        let table = counts
            .to_stream()
            .to_table_with_deletes_and(Materialized::with(serde, Arc::new(I64Serde)));
        Ok(table.suppress(window_closes())?)
    })?;
    assert_eq!(through_a_stream, finals);
    let through_a_repartition = final_counts(|counts| {
        let serde: SharedSerde<Windowed<String>> =
            Arc::new(WindowedSerde::time_windowed(Arc::new(StringSerde), 2));
        let table = counts
            .to_stream()
            .map(|k, v| (k, v))
            .to_table_with_deletes_and(Materialized::with(serde, Arc::new(I64Serde)));
        Ok(table.suppress(window_closes())?)
    })?;
    assert_eq!(through_a_repartition, finals);
    Ok(())
}

/// A restart does not move the points where a byte-bounded buffer emits
/// early: restored entries count the bytes they did before, their input
/// topic included (Kafka restores a buffered record's whole context).
#[test]
fn a_restart_keeps_the_byte_size_of_buffered_entries() -> Result {
    let run = |bound: u64, restart: bool| -> Result<Vec<TestRecord<String, Option<i64>>>> {
        let builder = StreamsBuilder::new();
        counts_by_value(&builder)
            .suppress(Suppressed::until_time_limit(
                Duration::MAX,
                BufferConfig::max_bytes(bound).emit_early_when_full(),
            ))?
            .to_stream()
            .to("output");
        let topology = builder.build()?;
        let driver = TopologyTestDriver::new(&topology)?;
        pipe(&driver, &[("x", "a", 0), ("x", "b", 1)])?;
        let mut emitted = output(&driver, "output")?;
        if restart {
            driver.restart(&topology)?;
        }
        pipe(&driver, &[("y", "c", 2), ("z", "a", 3), ("w", "d", 4)])?;
        emitted.extend(output(&driver, "output")?);
        Ok(emitted)
    };
    let mut early = 0;
    for bound in (100..700).step_by(7) {
        let kept = run(bound, false)?;
        assert_eq!(run(bound, true)?, kept, "bound {bound}");
        early += usize::from(!kept.is_empty());
    }
    assert!(early > 10, "the bounds make the buffer emit early");
    Ok(())
}
