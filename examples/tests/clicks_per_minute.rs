//! Clicks per user and minute, final counts only, checked record for
//! record through the test driver.

use streams_core::prelude::*;
use streams_examples::clicks_per_minute::{self, INPUT_TOPIC, OUTPUT_TOPIC};

/// Each minute's final counts come out once, when stream time passes the
/// minute's end plus the grace period, by window and then user, stamped
/// with the user's last click in the minute; a click later than that is
/// dropped and counted.
#[test]
fn writes_each_minutes_final_counts_once_the_minute_closes(
) -> Result<(), Box<dyn std::error::Error>> {
    let driver = TopologyTestDriver::new(&clicks_per_minute::topology()?)?;
    let clicks = driver.create_input_topic(INPUT_TOPIC, StringSerde, StringSerde);
    let counts = driver.create_output_topic(OUTPUT_TOPIC, StringSerde, I64Serde);
    let click =
        |user: &str, timestamp| clicks.pipe_input_at(user.to_owned(), "/".to_owned(), timestamp);
    let expect = |records: &[(&str, i64, i64)]| {
        records
            .iter()
            .map(|&(key, count, ts)| TestRecord::new(key.to_owned(), count, ts))
            .collect::<Vec<_>>()
    };

    click("alice", 5_000)?;
    click("bob", 12_000)?;
    click("alice", 58_000)?;
    click("alice", 61_000)?;
    // Late, within the grace period: counts for minute 0.
    click("bob", 59_000)?;
    assert!(counts.is_empty(), "no minute has closed");

    click("bob", 75_000)?;
    assert_eq!(
        counts.read_records_to_list()?,
        expect(&[("alice@0", 2, 58_000), ("bob@0", 2, 59_000)])
    );

    click("alice", 130_000)?;
    assert_eq!(
        counts.read_records_to_list()?,
        expect(&[("alice@60000", 1, 61_000), ("bob@60000", 1, 75_000)])
    );

    // Minute 0 closed long ago: dropped, and counted.
    click("bob", 30_000)?;
    assert!(counts.is_empty());
    assert_eq!(driver.metrics().dropped_records, 1);
    Ok(())
}

/// The topology Kafka Streams would build for the same program.
#[test]
fn describes_as_kafka_streams_does() -> Result<(), Box<dyn std::error::Error>> {
    let description = clicks_per_minute::topology()?.describe().to_string();
    let expected = "\
Topologies:
   Sub-topology: 0
    Source: KSTREAM-SOURCE-0000000000 (topics: [clicks])
      --> KSTREAM-AGGREGATE-0000000002
    Processor: KSTREAM-AGGREGATE-0000000002 (stores: [KSTREAM-AGGREGATE-STATE-STORE-0000000001])
      --> KTABLE-TOSTREAM-0000000003
      <-- KSTREAM-SOURCE-0000000000
    Processor: KTABLE-TOSTREAM-0000000003 (stores: [])
      --> KSTREAM-FLATMAP-0000000004
      <-- KSTREAM-AGGREGATE-0000000002
    Processor: KSTREAM-FLATMAP-0000000004 (stores: [])
      --> KSTREAM-SINK-0000000005
      <-- KTABLE-TOSTREAM-0000000003
    Sink: KSTREAM-SINK-0000000005 (topic: clicks-per-minute)
      <-- KSTREAM-FLATMAP-0000000004

";
    assert_eq!(description, expected);
    Ok(())
}
