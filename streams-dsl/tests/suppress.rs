//! `KTable::suppress`: final results of windows and rate limiting per
//! key, ported from Kafka Streams' `SuppressScenarioTest`.

mod support;
use support::{pipe, Result};

use std::sync::Arc;
use std::time::Duration;

use streams_core::prelude::*;
use streams_core::serde::SharedSerde;
use streams_core::{Window, Windowed};
use streams_dsl::{
    BufferConfig, Grouped, KTable, Materialized, StreamsBuilder, SuppressError, Suppressed,
    TimeWindows, WindowedSerde,
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

/// `SuppressScenarioTest.shouldSupportFinalResultsForTimeWindows`.
#[test]
fn until_window_closes_emits_only_final_results() -> Result {
    let builder = StreamsBuilder::new();
    let counts = builder
        .stream::<String, String>("input")
        .group_by(|k, _| k.clone())
        .windowed_by(TimeWindows::of_size_and_grace(
            Duration::from_millis(2),
            Duration::from_millis(1),
        )?)
        .count_with(Materialized::named("counts"));
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
            // Each record: buffer time (8), key (2), count (8), context
            // (20) and the repartition topic's name (76).
            bytes: 2 * (8 + 2 + 8 + 20 + 76),
            max_bytes: u64::MAX,
        })
    );
    Ok(())
}

#[test]
fn byte_bounds_count_serialized_records() -> Result {
    let builder = StreamsBuilder::new();
    let counts = builder
        .stream::<String, String>("input")
        .group_by_key()
        .windowed_by(TimeWindows::of_size_with_no_grace(Duration::from_millis(
            10,
        ))?)
        .count();
    // One record: 8 (buffer time) + 1 + 8 (key "a" and window start)
    // + 8 (count) + 20 (metadata) + 5 (topic "input") = 50 bytes.
    counts
        .suppress(Suppressed::until_time_limit(
            Duration::MAX,
            BufferConfig::max_bytes(50),
        ))?
        .to_stream()
        .map(|k, v| (k.to_string(), v))
        .to("output");
    let driver = TopologyTestDriver::new(&builder.build()?)?;
    // The second update of a key also carries its old value: 58 bytes.
    pipe(&driver, &[("a", "x", 1), ("a", "x", 2)])?;
    assert_eq!(output(&driver, "output")?, records(&[("[a@0/10]", 2, 2)]));
    Ok(())
}

#[test]
fn suppress_reports_what_it_cannot_do() -> Result {
    let builder = StreamsBuilder::new();
    // A byte bound needs the table's serdes, which a table mapped without
    // a `Materialized` does not know.
    let lengths = counts_by_value(&builder).map_values(|count| count.to_string());
    assert_eq!(
        lengths
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
