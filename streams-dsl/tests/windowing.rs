//! Windowed aggregations: tumbling, hopping, sliding and session windows,
//! with whole output sequences, late records and `describe()`.

mod support;
use support::{ms, pipe, Result};

use std::sync::Arc;

use streams_core::prelude::*;
use streams_core::test_driver::TestOutputTopic;
use streams_dsl::{
    EmitStrategy, KStream, Materialized, SessionWindows, SlidingWindows, StreamsBuilder,
    TimeWindows,
};

/// Writes a windowed table's changelog to `topic` with `[key@start/end]`
/// keys, as Kafka's tests do.
fn to_strings<V: Clone + DefaultSerde>(
    stream: KStream<streams_core::Windowed<String>, Option<V>>,
    topic: &str,
) where
    Option<V>: DefaultSerde,
{
    stream.map(|k, v| (k.to_string(), v)).to(topic);
}

fn records<V: Clone>(expected: &[(&str, V, i64)]) -> Vec<TestRecord<String, V>> {
    expected
        .iter()
        .map(|(k, v, ts)| TestRecord::new(k.to_string(), v.clone(), *ts))
        .collect()
}

#[test]
fn tumbling_count_takes_out_of_order_records_and_drops_late_ones() -> Result {
    let builder = StreamsBuilder::new();
    let counts = builder
        .stream::<String, String>("input")
        .group_by_key()
        .windowed_by(TimeWindows::of_size_and_grace(ms(10), ms(5))?)
        .count();
    to_strings(counts.to_stream(), "output");
    let driver = TopologyTestDriver::new(&builder.build()?)?;
    pipe(
        &driver,
        &[
            ("a", "x", 1),
            ("a", "x", 12),
            // Out of order, its window still open (stream time 12, grace 5).
            ("a", "x", 3),
            ("a", "x", 20),
            // Stream time 20: window [0,10) closed at 15, so this is dropped.
            ("a", "x", 8),
            ("a", "x", 14),
        ],
    )?;
    let output =
        driver.create_output_topic("output", StringSerde, OptionSerde::new(Arc::new(I64Serde)));
    assert_eq!(
        output.read_records_to_list()?,
        records(&[
            ("[a@0/10]", Some(1), 1),
            ("[a@10/20]", Some(1), 12),
            ("[a@0/10]", Some(2), 3),
            ("[a@20/30]", Some(1), 20),
            ("[a@10/20]", Some(2), 14),
        ])
    );
    assert_eq!(driver.metrics().dropped_records, 1);
    Ok(())
}

#[test]
fn hopping_windows_count_a_record_in_every_window_containing_it() -> Result {
    let builder = StreamsBuilder::new();
    let counts = builder
        .stream::<String, String>("input")
        .group_by_key()
        .windowed_by(TimeWindows::of_size_with_no_grace(ms(10))?.advance_by(ms(5))?)
        .count();
    to_strings(counts.to_stream(), "output");
    let driver = TopologyTestDriver::new(&builder.build()?)?;
    pipe(&driver, &[("a", "x", 3), ("a", "x", 7), ("a", "x", 12)])?;
    let output =
        driver.create_output_topic("output", StringSerde, OptionSerde::new(Arc::new(I64Serde)));
    assert_eq!(
        output.read_records_to_list()?,
        records(&[
            ("[a@0/10]", Some(1), 3),
            ("[a@0/10]", Some(2), 7),
            ("[a@5/15]", Some(1), 7),
            ("[a@5/15]", Some(2), 12),
            ("[a@10/20]", Some(1), 12),
        ])
    );
    Ok(())
}

/// Records at the largest timestamp still land in their sliding windows:
/// the right window of the record before starts at `i64::MAX`, its end
/// (past the largest timestamp) held at `i64::MAX`.
#[test]
fn sliding_windows_reach_the_largest_timestamp() -> Result {
    let builder = StreamsBuilder::new();
    let counts = builder
        .stream::<String, String>("input")
        .group_by_key()
        .windowed_by(SlidingWindows::of_time_difference_and_grace(
            ms(10),
            ms(100),
        ))
        .count();
    to_strings(counts.to_stream(), "output");
    let driver = TopologyTestDriver::new(&builder.build()?)?;
    let max = i64::MAX;
    pipe(&driver, &[("a", "x", max - 1), ("a", "x", max)])?;
    let output =
        driver.create_output_topic("output", StringSerde, OptionSerde::new(Arc::new(I64Serde)));
    let window = |start: i64, end: i64| format!("[a@{start}/{end}]");
    assert_eq!(
        output.read_records_to_list()?,
        vec![
            TestRecord::new(window(max - 11, max - 1), Some(1), max - 1),
            TestRecord::new(window(max, max), Some(1), max),
            TestRecord::new(window(max - 10, max), Some(2), max),
        ]
    );
    Ok(())
}

#[test]
fn sessions_merge_and_delete_the_sessions_they_replace() -> Result {
    let builder = StreamsBuilder::new();
    let counts = builder
        .stream::<String, String>("input")
        .group_by_key()
        .windowed_by(SessionWindows::of_inactivity_gap_and_grace(
            ms(10),
            ms(100),
        )?)
        .count();
    to_strings(counts.to_stream(), "output");
    let driver = TopologyTestDriver::new(&builder.build()?)?;
    pipe(
        &driver,
        &[
            ("a", "x", 0),
            ("a", "x", 30),
            // Within the gap of the session at 0: merges it.
            ("a", "x", 5),
            // Within the gap of the session at 30 only.
            ("a", "x", 20),
            // Bridges [0,5] and [20,30].
            ("a", "x", 12),
        ],
    )?;
    let output =
        driver.create_output_topic("output", StringSerde, OptionSerde::new(Arc::new(I64Serde)));
    assert_eq!(
        output.read_records_to_list()?,
        records(&[
            ("[a@0/0]", Some(1), 0),
            ("[a@30/30]", Some(1), 30),
            ("[a@0/0]", None, 0),
            ("[a@0/5]", Some(2), 5),
            ("[a@30/30]", None, 30),
            ("[a@20/30]", Some(2), 30),
            ("[a@0/5]", None, 5),
            ("[a@20/30]", None, 30),
            ("[a@0/30]", Some(5), 30),
        ])
    );
    Ok(())
}

/// Session updates leave without the input's headers - Kafka builds each
/// as a new record of the session - while a time window's update keeps
/// the headers of the record that changed it.
#[test]
fn session_updates_carry_no_headers_and_window_updates_keep_them() -> Result {
    let builder = StreamsBuilder::new();
    let grouped = builder.stream::<String, String>("input").group_by_key();
    let sessions = grouped
        .windowed_by(SessionWindows::of_inactivity_gap_and_grace(
            ms(10),
            ms(100),
        )?)
        .count();
    to_strings(sessions.to_stream(), "sessions");
    let windows = grouped
        .windowed_by(TimeWindows::of_size_and_grace(ms(100), ms(100))?)
        .count();
    to_strings(windows.to_stream(), "windows");
    let driver = TopologyTestDriver::new(&builder.build()?)?;
    let input = driver.create_input_topic("input", StringSerde, StringSerde);
    for (timestamp, trace) in [(0, b"t1"), (5, b"t2")] {
        let mut record = TestRecord::new("a".to_owned(), "x".to_owned(), timestamp);
        record.headers.add("trace", Some(trace.to_vec()));
        input.pipe_record(record)?;
    }

    let counts = || OptionSerde::new(Arc::new(I64Serde));
    let sessions = driver.create_output_topic("sessions", StringSerde, counts());
    assert_eq!(
        sessions.read_records_to_list()?,
        records(&[
            ("[a@0/0]", Some(1), 0),
            ("[a@0/0]", None, 0),
            ("[a@0/5]", Some(2), 5),
        ])
    );
    let traced = |key: &str, count: i64, timestamp: i64, trace: &[u8]| {
        let mut record = TestRecord::new(key.to_owned(), Some(count), timestamp);
        record.headers.add("trace", Some(trace.to_vec()));
        record
    };
    let windows = driver.create_output_topic("windows", StringSerde, counts());
    assert_eq!(
        windows.read_records_to_list()?,
        vec![
            traced("[a@0/100]", 1, 0, b"t1"),
            traced("[a@0/100]", 2, 5, b"t2"),
        ]
    );
    Ok(())
}

#[test]
fn late_session_records_are_dropped_after_gap_and_grace() -> Result {
    let builder = StreamsBuilder::new();
    let counts = builder
        .stream::<String, String>("input")
        .group_by_key()
        .windowed_by(SessionWindows::of_inactivity_gap_and_grace(ms(10), ms(5))?)
        .count();
    to_strings(counts.to_stream(), "output");
    let driver = TopologyTestDriver::new(&builder.build()?)?;
    // Stream time 30 closes sessions ending before 30 - 10 - 5 = 15.
    pipe(&driver, &[("a", "x", 30), ("a", "x", 15), ("b", "x", 14)])?;
    let output =
        driver.create_output_topic("output", StringSerde, OptionSerde::new(Arc::new(I64Serde)));
    assert_eq!(
        output.read_records_to_list()?,
        records(&[("[a@30/30]", Some(1), 30), ("[a@15/15]", Some(1), 15)])
    );
    assert_eq!(driver.metrics().dropped_records, 1);
    Ok(())
}

/// A driver of session counts (gap 10 ms, no grace) emitting final
/// results, and its output topic.
fn final_session_counts() -> Result<(TopologyTestDriver, TestOutputTopic<String, Option<i64>>)> {
    let builder = StreamsBuilder::new();
    let counts = builder
        .stream::<String, String>("input")
        .group_by_key()
        .windowed_by(SessionWindows::of_inactivity_gap_with_no_grace(ms(10))?)
        .emit_strategy(EmitStrategy::OnWindowClose)
        .count();
    to_strings(counts.to_stream(), "output");
    let driver = TopologyTestDriver::new(&builder.build()?)?;
    let output =
        driver.create_output_topic("output", StringSerde, OptionSerde::new(Arc::new(I64Serde)));
    Ok((driver, output))
}

/// A session's final result comes out even when the record that closes it
/// arrives exactly when its store's retention (gap plus grace) passes the
/// session's end and the session's segment ends there: the session store
/// keeps a segment until all of it is older than stream time minus
/// retention (Kafka's rule), and final results are read from every segment
/// it keeps. Here the retention is 10 ms and segments are 60 s long, so
/// `a`'s session ends in the last millisecond of segment 0.
#[test]
fn a_session_closing_at_a_segment_boundary_still_emits_its_final_result() -> Result {
    let (driver, output) = final_session_counts()?;
    // b's session moves the store's stream time to 60009: 59999 is the
    // oldest end it keeps, and a's session is not closed yet (59999 is not
    // before 60009 - 10).
    pipe(&driver, &[("a", "x", 59_999), ("b", "x", 60_009)])?;
    assert!(output.is_empty());
    // Stream time 60010 closes it.
    pipe(&driver, &[("c", "x", 60_010)])?;
    assert_eq!(
        output.read_records_to_list()?,
        records(&[("[a@59999/59999]", Some(1), 59_999)])
    );
    Ok(())
}

/// A session ending exactly at close time (stream time minus gap and
/// grace) is accepted, and its store keeps it until its final result is
/// emitted, as Kafka's time-ordered session store does: here `b`'s session
/// ends at 90 when close time is 90. Final results come in the order of
/// the sessions' ends.
#[test]
fn a_session_ending_exactly_at_close_time_still_emits_its_final_result() -> Result {
    let (driver, output) = final_session_counts()?;
    pipe(&driver, &[("a", "x", 100), ("b", "x", 90)])?;
    assert!(output.is_empty());
    pipe(&driver, &[("c", "x", 200)])?;
    assert_eq!(
        output.read_records_to_list()?,
        records(&[("[b@90/90]", Some(1), 90), ("[a@100/100]", Some(1), 100)])
    );
    Ok(())
}

/// A driver of `builder`'s topology with a live application's emit
/// intervals (1 s of wall-clock time between looks for final results).
fn throttled_driver(builder: &StreamsBuilder) -> Result<TopologyTestDriver> {
    use streams_core::engine::EmitIntervals;
    use streams_core::test_driver::TestDriverConfig;

    let config = TestDriverConfig {
        emit_intervals: EmitIntervals::default(),
        ..TestDriverConfig::default()
    };
    Ok(TopologyTestDriver::with_config(&builder.build()?, config)?)
}

/// With a live application's emit interval (1 s) on the test driver, a
/// time-window aggregation that emits on window close looks for closed
/// windows at most once per second of (mock) wall-clock time, and only
/// when a record arrives: a window that closed between two looks comes
/// out with the first record after the interval.
#[test]
fn final_results_wait_for_the_emit_interval_of_wall_clock_time() -> Result {
    use std::time::Duration;

    let builder = StreamsBuilder::new();
    let counts = builder
        .stream::<String, String>("input")
        .group_by_key()
        .windowed_by(TimeWindows::of_size_with_no_grace(ms(10))?)
        .emit_strategy(EmitStrategy::OnWindowClose)
        .count();
    to_strings(counts.to_stream(), "output");
    let driver = throttled_driver(&builder)?;
    let output =
        driver.create_output_topic("output", StringSerde, OptionSerde::new(Arc::new(I64Serde)));
    // The first record's look (at wall-clock time 0) finds nothing closed;
    // the next look may come at 1 s.
    pipe(&driver, &[("a", "x", 1), ("a", "x", 12)])?;
    assert!(
        output.is_empty(),
        "[0,10) closed, but the look is throttled"
    );
    driver.advance_wall_clock_time(Duration::from_millis(999))?;
    pipe(&driver, &[("b", "x", 13)])?;
    assert!(output.is_empty(), "still within the interval");
    driver.advance_wall_clock_time(Duration::from_millis(1))?;
    assert!(output.is_empty(), "looks happen only when a record arrives");
    pipe(&driver, &[("b", "x", 14)])?;
    assert_eq!(
        output.read_records_to_list()?,
        records(&[("[a@0/10]", Some(1), 1)])
    );
    Ok(())
}

/// A session that closed while the emit interval held final results back,
/// and that a late record then merges into an open session, is no final
/// result: Kafka forwards final results after the record's writes, when
/// the merged session is gone from the store. (It needs a retention longer
/// than gap plus grace to still be in the store.)
#[test]
fn a_closed_session_merged_away_before_its_look_is_not_emitted() -> Result {
    use std::time::Duration;

    let builder = StreamsBuilder::new();
    let counts = builder
        .stream::<String, String>("input")
        .group_by_key()
        .windowed_by(SessionWindows::of_inactivity_gap_with_no_grace(ms(10))?)
        .emit_strategy(EmitStrategy::OnWindowClose)
        .count_with(Materialized::named("sessions").with_retention(ms(100)));
    to_strings(counts.to_stream(), "output");
    let driver = throttled_driver(&builder)?;
    let output =
        driver.create_output_topic("output", StringSerde, OptionSerde::new(Arc::new(I64Serde)));
    // The first record uses up the look of wall-clock second 0; the
    // second closes [5,5] (close time 15), unseen.
    pipe(&driver, &[("a", "x", 5), ("a", "x", 25)])?;
    driver.advance_wall_clock_time(Duration::from_secs(1))?;
    // The look at 15 finds [5,5] closed, but the record merges it with
    // [25,25] into [5,25], which is still open.
    pipe(&driver, &[("a", "x", 15)])?;
    assert!(output.is_empty(), "{:?}", output.read_records_to_list()?);
    driver.advance_wall_clock_time(Duration::from_secs(1))?;
    pipe(&driver, &[("b", "x", 40)])?;
    assert_eq!(
        output.read_records_to_list()?,
        records(&[("[a@5/25]", Some(3), 25)])
    );
    Ok(())
}

#[test]
fn session_aggregate_calls_the_merger_and_reduce_merges_with_the_reducer() -> Result {
    let builder = StreamsBuilder::new();
    let sessions = builder
        .stream::<String, String>("input")
        .group_by_key()
        // Grace keeps the session at 0 in the store (retention is gap
        // plus grace) until the bridging record arrives.
        .windowed_by(SessionWindows::of_inactivity_gap_and_grace(ms(10), ms(20))?);
    let joined = sessions.aggregate(
        String::new,
        |_, v, agg: String| format!("{agg}{v}"),
        |_, left: String, right: String| format!("{left}|{right}"),
    );
    to_strings(joined.to_stream(), "joined");
    let reduced = sessions.reduce(|a, b| format!("{a}{b}"));
    to_strings(reduced.to_stream(), "reduced");
    let driver = TopologyTestDriver::new(&builder.build()?)?;
    pipe(&driver, &[("a", "1", 0), ("a", "2", 15), ("a", "3", 8)])?;
    let joined = driver.create_output_topic(
        "joined",
        StringSerde,
        OptionSerde::new(Arc::new(StringSerde)),
    );
    let finals: Vec<_> = joined
        .read_records_to_list()?
        .into_iter()
        .filter(|r| r.key == "[a@0/15]")
        .collect();
    // The merge starts from the initializer, as Kafka's: "" | "1" | "2",
    // then the record is added.
    assert_eq!(
        finals,
        records(&[("[a@0/15]", Some("|1|23".to_owned()), 15)])
    );
    let reduced = driver.create_output_topic(
        "reduced",
        StringSerde,
        OptionSerde::new(Arc::new(StringSerde)),
    );
    let last = reduced.read_records_to_list()?.pop();
    assert_eq!(
        last,
        Some(TestRecord::new(
            "[a@0/15]".to_owned(),
            Some("123".to_owned()),
            15
        ))
    );
    Ok(())
}

/// The description Kafka Streams gives the same program.
#[test]
fn windowed_count_describes_as_kafka_streams() -> Result {
    let builder = StreamsBuilder::new();
    let counts = builder
        .stream::<String, String>("input")
        .group_by_key()
        .windowed_by(TimeWindows::of_size_with_no_grace(ms(10))?)
        .count();
    to_strings(counts.to_stream(), "output");
    let expected = "\
Topologies:
   Sub-topology: 0
    Source: KSTREAM-SOURCE-0000000000 (topics: [input])
      --> KSTREAM-AGGREGATE-0000000002
    Processor: KSTREAM-AGGREGATE-0000000002 (stores: [KSTREAM-AGGREGATE-STATE-STORE-0000000001])
      --> KTABLE-TOSTREAM-0000000003
      <-- KSTREAM-SOURCE-0000000000
    Processor: KTABLE-TOSTREAM-0000000003 (stores: [])
      --> KSTREAM-MAP-0000000004
      <-- KSTREAM-AGGREGATE-0000000002
    Processor: KSTREAM-MAP-0000000004 (stores: [])
      --> KSTREAM-SINK-0000000005
      <-- KTABLE-TOSTREAM-0000000003
    Sink: KSTREAM-SINK-0000000005 (topic: output)
      <-- KSTREAM-MAP-0000000004

";
    assert_eq!(builder.build()?.describe().to_string(), expected);
    Ok(())
}

/// Kafka burns a store index for `count(Materialized)` without a store name
/// on time windows, and names the repartition topic after the store.
#[test]
fn unnamed_materialized_window_count_burns_a_store_index() -> Result {
    let builder = StreamsBuilder::new();
    builder
        .stream::<String, String>("input")
        .select_key(|_, v| v.clone())
        .group_by_key()
        .windowed_by(TimeWindows::of_size_with_no_grace(ms(10))?)
        .count_with(Materialized::default());
    let topology = builder.build()?;
    let description = topology.describe().to_string();
    assert!(
        description.contains(
            "Processor: KSTREAM-AGGREGATE-0000000004 (stores: [KSTREAM-AGGREGATE-STATE-STORE-0000000003])"
        ),
        "{description}"
    );
    assert!(
        description.contains("(topic: KSTREAM-AGGREGATE-STATE-STORE-0000000003-repartition)"),
        "{description}"
    );
    Ok(())
}

/// Windowed and session counts come back from their changelogs after a
/// restart (in-memory stores start empty), and later records add to them.
#[test]
fn restarted_windowed_and_session_counts_carry_on_from_their_changelogs() -> Result {
    let builder = StreamsBuilder::new();
    let grouped = builder.stream::<String, String>("input").group_by_key();
    let windowed = grouped
        .windowed_by(TimeWindows::of_size_with_no_grace(ms(10))?)
        .count_with(Materialized::named("windows").in_memory());
    to_strings(windowed.to_stream(), "windows");
    let sessions = grouped
        .windowed_by(SessionWindows::of_inactivity_gap_with_no_grace(ms(5))?)
        .count_with(Materialized::named("sessions").in_memory());
    to_strings(sessions.to_stream(), "sessions");
    let topology = builder.build()?;
    let driver = TopologyTestDriver::new(&topology)?;
    pipe(&driver, &[("a", "x", 1), ("a", "x", 3)])?;

    driver.restart(&topology)?;
    // Windows: two updates; sessions: [1,1], then its retraction and [1,3].
    assert_eq!(driver.metrics().restored_records, 5);
    pipe(&driver, &[("a", "x", 4)])?;
    let read = |topic: &str| {
        driver
            .create_output_topic(topic, StringSerde, OptionSerde::new(Arc::new(I64Serde)))
            .read_records_to_list()
    };
    assert_eq!(
        read("windows")?,
        records(&[
            ("[a@0/10]", Some(1), 1),
            ("[a@0/10]", Some(2), 3),
            ("[a@0/10]", Some(3), 4),
        ])
    );
    assert_eq!(
        read("sessions")?,
        records(&[
            ("[a@1/1]", Some(1), 1),
            ("[a@1/1]", None, 1),
            ("[a@1/3]", Some(2), 3),
            ("[a@1/3]", None, 3),
            ("[a@1/4]", Some(3), 4),
        ])
    );
    Ok(())
}

/// Kafka's `WindowedStreamPartitioner`: a windowed key written to a topic
/// goes to the partition its inner key would, so every window of a key
/// shares one partition; a partitioner given in `Produced` wins.
#[test]
fn windowed_keys_are_written_to_the_partition_of_their_inner_key() -> Result {
    use std::rc::Rc;
    use streams_core::engine::{MockClock, StreamTask, TaskConfig};
    use streams_core::record::{ConsumerRecord, TopicName};
    use streams_core::serde::SharedSerde;
    use streams_core::topology::partition_for_key;
    use streams_dsl::{Produced, WindowedSerde};

    let builder = StreamsBuilder::new();
    let windowed: SharedSerde<streams_core::Windowed<String>> =
        Arc::new(WindowedSerde::time_windowed(Arc::new(StringSerde), 10));
    let counts: SharedSerde<Option<i64>> = Arc::new(OptionSerde::new(Arc::new(I64Serde)));
    let changes = builder
        .stream::<String, String>("input")
        .group_by_key()
        .windowed_by(TimeWindows::of_size_with_no_grace(ms(10))?)
        .count()
        .to_stream();
    changes.to_with("by-key", Produced::with(windowed.clone(), counts.clone()));
    changes.to_with(
        "pinned",
        Produced::with(windowed, counts).with_partitioner(
            |_: &str, _: &streams_core::Windowed<String>, _: &Option<i64>, _: i32| Some(5),
        ),
    );
    let mut config = TaskConfig::new("app", Rc::new(MockClock::new(0)));
    config.partition_count = Box::new(|_| Some(8));
    let mut task = StreamTask::new(&builder.build()?, config)?;
    let inputs = [
        ("alice", 1),
        ("bob", 2),
        ("alice", 15),
        ("bob", 27),
        ("alice", 33),
    ];
    for (offset, (key, timestamp)) in (0..).zip(inputs) {
        task.add_records([ConsumerRecord {
            topic: TopicName::new("input"),
            partition: 0,
            offset,
            timestamp,
            key: Some(key.as_bytes().to_vec()),
            value: Some(b"v".to_vec()),
            headers: Headers::new(),
        }])?;
        while task.process()? {}
    }
    let mut output = Vec::new();
    task.take_output(&mut output);
    let partitions = |topic: &str| -> Vec<(Vec<u8>, Option<i32>)> {
        output
            .iter()
            .filter(|record| record.topic == topic)
            .map(|record| {
                let key = record.key.clone().unwrap_or_default();
                // The inner key: the serialized key without its window start.
                (key[..key.len() - 8].to_vec(), record.partition)
            })
            .collect()
    };
    let by_key = partitions("by-key");
    assert_eq!(by_key.len(), inputs.len());
    for (inner, partition) in &by_key {
        assert_eq!(*partition, Some(partition_for_key(inner, 8)));
    }
    assert!(partitions("pinned")
        .iter()
        .all(|(_, partition)| *partition == Some(5)));
    Ok(())
}

/// Windowed counts per key of one topic.
type WindowedCounts = streams_dsl::KTable<streams_core::Windowed<String>, i64>;

/// Joins the windowed counts `count` makes of the topics "clicks" and
/// "views", pipes `inputs` (topic, key, timestamp) and returns the joined
/// rows as `clicks/views`.
fn joined_counts(
    count: impl Fn(&StreamsBuilder, &str) -> WindowedCounts,
    inputs: &[(&str, &str, i64)],
) -> Result<Vec<TestRecord<String, Option<String>>>> {
    let builder = StreamsBuilder::new();
    let clicks = count(&builder, "clicks");
    let views = count(&builder, "views");
    to_strings(
        clicks
            .join(&views, |clicks, views| format!("{clicks}/{views}"))
            .to_stream(),
        "output",
    );
    let driver = TopologyTestDriver::new(&builder.build()?)?;
    for (topic, key, timestamp) in inputs {
        driver
            .create_input_topic(topic, StringSerde, StringSerde)
            .pipe_input_at(key.to_string(), "x".to_owned(), *timestamp)?;
    }
    let output = driver.create_output_topic(
        "output",
        StringSerde,
        OptionSerde::new(Arc::new(StringSerde)),
    );
    Ok(output.read_records_to_list()?)
}

/// Two time-windowed tables join window by window: each update looks up
/// the other table's row of the same key and window in its window store
/// (Kafka's `KTableWindowedValueGetter`), and a result has the later of
/// the two rows' timestamps.
#[test]
fn windowed_tables_join_window_by_window() -> Result {
    let tumbling = TimeWindows::of_size_with_no_grace(ms(10))?;
    let output = joined_counts(
        |builder, topic| {
            builder
                .stream::<String, String>(topic)
                .group_by_key()
                .windowed_by(tumbling)
                .count()
        },
        &[
            ("clicks", "u", 1),
            ("views", "u", 2),
            ("views", "u", 3),
            // Another window: no views there yet.
            ("clicks", "u", 12),
            ("views", "u", 15),
        ],
    )?;
    assert_eq!(
        output,
        records(&[
            ("[u@0/10]", Some("1/1".to_owned()), 2),
            ("[u@0/10]", Some("1/2".to_owned()), 3),
            ("[u@10/20]", Some("1/1".to_owned()), 15),
        ])
    );
    Ok(())
}

/// Session-windowed tables join session by session: a lookup finds the
/// other table's session with the same bounds in its session store, a
/// row stamped with the session's end (Kafka's
/// `KTableSessionWindowValueGetter`).
#[test]
fn session_tables_join_session_by_session() -> Result {
    let sessions = SessionWindows::of_inactivity_gap_with_no_grace(ms(5))?;
    let output = joined_counts(
        |builder, topic| {
            builder
                .stream::<String, String>(topic)
                .group_by_key()
                .windowed_by(sessions)
                .count()
        },
        &[
            ("clicks", "u", 7),
            // The view's session [7,7] finds the click's, stamped 7.
            ("views", "u", 7),
            // Sessions of other bounds have no partner.
            ("views", "w", 8),
            ("clicks", "w", 30),
        ],
    )?;
    assert_eq!(output, records(&[("[u@7/7]", Some("1/1".to_owned()), 7)]));
    Ok(())
}

/// Windows by event time read from the payload, as a Kafka Streams
/// extractor reads it from the deserialized value: a click carries the
/// time it happened, which the record's own timestamp does not. A record
/// that cannot be read keeps its own timestamp and is skipped (and
/// counted) by the deserialization handler, taking no part in the windows.
#[test]
fn a_typed_timestamp_extractor_windows_by_the_time_in_the_payload() -> Result {
    use streams_core::record::ConsumerRecord;
    use streams_core::test_driver::TestDriverConfig;
    use streams_core::topology::DeserializationHandler;
    use streams_dsl::Consumed;

    let happened_at = |_: &String, at: &i64, _: &ConsumerRecord, _: i64| Ok(*at);
    let builder = StreamsBuilder::new();
    let counts = builder
        .stream_with(
            &["clicks"],
            Consumed::serdes(StringSerde, I64Serde).with_typed_timestamp_extractor(happened_at),
        )
        .group_by_key()
        .windowed_by(TimeWindows::of_size_with_no_grace(ms(10))?)
        .count();
    to_strings(counts.to_stream(), "output");
    let config = TestDriverConfig {
        deserialization_handler: DeserializationHandler::LogAndContinue,
        ..TestDriverConfig::default()
    };
    let driver = TopologyTestDriver::with_config(&builder.build()?, config)?;
    let clicks = driver.create_input_topic("clicks", StringSerde, I64Serde);
    // Each record arrives at 1000; the clicks happened at 3, 12 and 15.
    for at in [3, 12, 15] {
        clicks.pipe_input_at("ann".into(), at, 1_000)?;
    }
    driver
        .create_input_topic("clicks", StringSerde, BytesSerde)
        .pipe_input_at("ann".into(), b"not a number".to_vec(), 1_000)?;
    let output =
        driver.create_output_topic("output", StringSerde, OptionSerde::new(Arc::new(I64Serde)));
    assert_eq!(
        output.read_records_to_list()?,
        records(&[
            ("[ann@0/10]", Some(1), 3),
            ("[ann@10/20]", Some(1), 12),
            ("[ann@10/20]", Some(2), 15),
        ])
    );
    assert_eq!(driver.metrics().dropped_records, 1);
    Ok(())
}
