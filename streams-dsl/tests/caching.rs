//! Cached aggregations forward an update when it leaves the cache, as
//! Kafka Streams does: at a commit each key's updates since the previous
//! commit collapse into one, in the order the keys were first updated; an
//! eviction forwards at once. The test driver commits after every record,
//! so there caching changes nothing - as in Kafka's test driver.

use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use streams_core::engine::{MockClock, StreamTask, TaskConfig};
use streams_core::prelude::*;
use streams_core::record::{ConsumerRecord, ProducerRecord, TopicName};
use streams_core::state::{TimestampedKeyValueStore, ValueAndTimestamp};
use streams_core::Windowed;
use streams_dsl::{
    CogroupedKStream, Consumed, KStream, KTable, Materialized, SessionWindows, SlidingWindows,
    StreamsBuilder, TimeWindows,
};

type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

fn counting(materialized: Materialized<String, i64>) -> Result<Topology> {
    let builder = StreamsBuilder::new();
    builder
        .stream::<String, String>("words")
        .group_by_key()
        .count_with(materialized)
        .to_stream()
        .to("counts");
    Ok(builder.build()?)
}

/// A task of `topology`, fed records one by one and committed on demand;
/// what it writes to its own (repartition) topics is read back, as the
/// runtime would.
struct Harness {
    task: StreamTask,
    offset: i64,
}

impl Harness {
    fn new(topology: &Topology) -> Result<Self> {
        let config = TaskConfig::new("app", Rc::new(MockClock::new(0)));
        Ok(Self {
            task: StreamTask::new(topology, config)?,
            offset: 0,
        })
    }

    /// Processes one word and returns the counts it emitted at once.
    fn pipe(&mut self, word: &str, timestamp: i64) -> Result<Vec<(String, i64, i64)>> {
        self.pipe_to("words", word, word, timestamp)
    }

    /// Processes one record of `topic` and returns the counts it emitted.
    fn pipe_to(
        &mut self,
        topic: &str,
        key: &str,
        value: &str,
        timestamp: i64,
    ) -> Result<Vec<(String, i64, i64)>> {
        self.add(
            TopicName::new(topic),
            Some(key.as_bytes().to_vec()),
            Some(value.as_bytes().to_vec()),
            timestamp,
        )?;
        self.counts()
    }

    /// Processes a tombstone for `key` on `topic`.
    fn delete(&mut self, topic: &str, key: &str, timestamp: i64) -> Result {
        self.add(
            TopicName::new(topic),
            Some(key.as_bytes().to_vec()),
            None,
            timestamp,
        )
    }

    fn add(
        &mut self,
        topic: TopicName,
        key: Option<Vec<u8>>,
        value: Option<Vec<u8>>,
        timestamp: i64,
    ) -> Result {
        self.task.add_records([ConsumerRecord {
            topic,
            partition: 0,
            offset: self.offset,
            timestamp,
            key,
            value,
            headers: Headers::new(),
        }])?;
        self.offset += 1;
        while self.task.process()? {}
        Ok(())
    }

    /// Commits and returns the counts the commit emitted.
    fn commit(&mut self) -> Result<Vec<(String, i64, i64)>> {
        self.task.commit()?;
        self.counts()
    }

    /// The records written to "counts".
    fn counts(&mut self) -> Result<Vec<(String, i64, i64)>> {
        self.output()?
            .into_iter()
            .filter(|record| &*record.topic == "counts")
            .map(decode)
            .collect()
    }

    /// What the task wrote to other topics than its own, after reading
    /// back every record written to its own (until none is left).
    fn output(&mut self) -> Result<Vec<ProducerRecord>> {
        let mut written = Vec::new();
        loop {
            let mut output = Vec::new();
            self.task.take_output(&mut output);
            if output.is_empty() {
                return Ok(written);
            }
            for record in output {
                if self.task.reads(&record.topic) {
                    self.add(record.topic, record.key, record.value, record.timestamp)?;
                } else {
                    written.push(record);
                }
            }
        }
    }
}

fn decode(record: ProducerRecord) -> Result<(String, i64, i64)> {
    let key = String::from_utf8(record.key.unwrap_or_default())?;
    let value = I64Serde.deserialize("counts", record.value.as_deref())?;
    Ok((key, value, record.timestamp))
}

fn row(key: &str, count: i64, timestamp: i64) -> (String, i64, i64) {
    (key.to_owned(), count, timestamp)
}

#[test]
/// Keys leave in the order of their latest update (Kafka's cache moves a
/// key to the back on every write), so a later update never overtakes an
/// earlier one downstream.
fn a_commit_emits_each_updated_key_once_in_latest_update_order() -> Result {
    let mut task = Harness::new(&counting(
        Materialized::named("counts").with_caching(1 << 20),
    )?)?;
    for (word, ts) in [("a", 1), ("b", 2), ("a", 3), ("b", 4), ("a", 5)] {
        assert_eq!(
            task.pipe(word, ts)?,
            [],
            "nothing leaves the cache before a commit"
        );
    }
    assert_eq!(task.commit()?, [row("b", 2, 4), row("a", 3, 5)]);
    assert_eq!(task.commit()?, [], "an empty cache emits nothing");
    task.pipe("a", 6)?;
    assert_eq!(task.commit()?, [row("a", 4, 6)]);
    Ok(())
}

#[test]
fn a_cached_windowed_aggregation_emits_each_window_once_per_commit() -> Result {
    let builder = StreamsBuilder::new();
    builder
        .stream::<String, String>("words")
        .group_by_key()
        .windowed_by(TimeWindows::of_size_with_no_grace(Duration::from_millis(
            10,
        ))?)
        .count_with(Materialized::named("windowed").with_caching(1 << 20))
        .to_stream()
        .map(|window, count| (window.to_string(), count.unwrap_or_default()))
        .to("counts");
    let mut task = Harness::new(&builder.build()?)?;
    for (word, ts) in [("a", 1), ("a", 2), ("b", 3), ("a", 12)] {
        assert_eq!(task.pipe(word, ts)?, []);
    }
    assert_eq!(
        task.commit()?,
        [
            row("[a@0/10]", 2, 2),
            row("[b@0/10]", 1, 3),
            row("[a@10/20]", 1, 12)
        ]
    );
    // A late record for the closed window [0, 10) is dropped, not cached.
    task.pipe("b", 4)?;
    task.pipe("a", 15)?;
    assert_eq!(task.commit()?, [row("[a@10/20]", 2, 15)]);
    Ok(())
}

/// A cached sliding aggregation ends a commit with the same windows as an
/// uncached one, each emitted once with its latest value.
#[test]
fn a_cached_sliding_aggregation_emits_the_latest_of_each_window() -> Result {
    let sliding = |materialized: Materialized<String, i64>| -> Result<Topology> {
        let builder = StreamsBuilder::new();
        builder
            .stream::<String, String>("words")
            .group_by_key()
            .windowed_by(SlidingWindows::of_time_difference_and_grace(
                Duration::from_millis(10),
                Duration::from_millis(100),
            ))
            .count_with(materialized)
            .to_stream()
            .map(|window, count| (window.to_string(), count.unwrap_or_default()))
            .to("counts");
        Ok(builder.build()?)
    };
    let input = [("a", 5), ("a", 12), ("a", 8)];
    let mut uncached = Harness::new(&sliding(Materialized::named("sliding"))?)?;
    let mut every_update = Vec::new();
    for (word, ts) in input {
        every_update.extend(uncached.pipe(word, ts)?);
    }
    // The latest update of each window, in the order of those updates.
    let mut latest: Vec<(String, i64, i64)> = Vec::new();
    for update in every_update {
        latest.retain(|seen| seen.0 != update.0);
        latest.push(update);
    }
    let mut cached = Harness::new(&sliding(
        Materialized::named("sliding").with_caching(1 << 20),
    )?)?;
    for (word, ts) in input {
        assert_eq!(cached.pipe(word, ts)?, []);
    }
    assert_eq!(cached.commit()?, latest);
    Ok(())
}

/// A cached session aggregation emits each session's latest aggregate at
/// the commit; a session created and merged away within one commit leaves
/// no trace, one flushed earlier is retracted with a tombstone.
#[test]
fn a_cached_session_aggregation_emits_sessions_and_retractions_per_commit() -> Result {
    let builder = StreamsBuilder::new();
    builder
        .stream::<String, String>("words")
        .group_by_key()
        .windowed_by(SessionWindows::of_inactivity_gap_with_no_grace(
            Duration::from_millis(10),
        )?)
        .count_with(Materialized::named("sessions").with_caching(1 << 20))
        .to_stream()
        // A retraction (tombstone) shows as -1.
        .map(|session, count| (session.to_string(), count.unwrap_or(-1)))
        .to("counts");
    let mut task = Harness::new(&builder.build()?)?;
    for (word, ts) in [("a", 1), ("a", 5), ("b", 3)] {
        assert_eq!(task.pipe(word, ts)?, []);
    }
    assert_eq!(task.commit()?, [row("[a@1/5]", 2, 5), row("[b@3/3]", 1, 3)]);
    task.pipe("a", 8)?;
    assert_eq!(
        task.commit()?,
        [row("[a@1/5]", -1, 5), row("[a@1/8]", 3, 8)]
    );
    Ok(())
}

/// Writes each user's region to "counts" as its length; a deletion as -1.
fn region_lengths(changes: KStream<String, Option<String>>) {
    changes
        .map(|user, region| (user, region.map_or(-1, |r| r.len() as i64)))
        .to("counts");
}

/// alice moves from eu to emea and bob arrives in us: cached, none of it
/// is emitted before a commit.
fn pipe_regions(task: &mut Harness) -> Result {
    assert_eq!(task.pipe_to("users", "alice", "eu", 1)?, []);
    assert_eq!(task.pipe_to("users", "alice", "emea", 2)?, []);
    assert_eq!(task.pipe_to("users", "bob", "us", 3)?, []);
    Ok(())
}

/// A cached source table forwards each key's latest row once per commit;
/// a row inserted and deleted within one commit is never seen.
#[test]
fn a_cached_source_table_emits_the_latest_row_per_commit() -> Result {
    let builder = StreamsBuilder::new();
    region_lengths(
        builder
            .table_with::<String, String>(
                "users",
                Consumed::default(),
                Materialized::named("users").with_caching(1 << 20),
            )
            .to_stream(),
    );
    let mut task = Harness::new(&builder.build()?)?;
    pipe_regions(&mut task)?;
    task.delete("users", "bob", 4)?;
    assert_eq!(task.commit()?, [row("alice", 4, 2)]);
    task.delete("users", "alice", 5)?;
    assert_eq!(task.commit()?, [row("alice", -1, 5)]);
    Ok(())
}

/// A materialized, cached filter forwards what leaves its cache, as
/// Kafka's `KTableFilter` forwards through its caching store: a key's
/// updates between commits collapse into one.
#[test]
fn a_cached_filtered_table_emits_the_latest_row_per_commit() -> Result {
    let builder = StreamsBuilder::new();
    region_lengths(
        builder
            .table::<String, String>("users")
            .filter_with(
                |_, region| region != "hidden",
                Materialized::named("visible").with_caching(1 << 20),
            )
            .to_stream(),
    );
    let mut task = Harness::new(&builder.build()?)?;
    pipe_regions(&mut task)?;
    assert_eq!(task.pipe_to("users", "bob", "hidden", 4)?, []);
    // bob was written and filtered out between two commits: nothing to
    // retract.
    assert_eq!(task.commit()?, [row("alice", 4, 2)]);
    assert_eq!(task.pipe_to("users", "alice", "hidden", 5)?, []);
    assert_eq!(task.commit()?, [row("alice", -1, 5)]);
    Ok(())
}

/// The aggregators of a cogroup share one cache: whichever input's record
/// makes the cache evict forwards what it wrote through at once, and a
/// commit emits each key once, whichever inputs updated it.
#[test]
fn a_cached_cogroup_forwards_from_whichever_input_wrote() -> Result {
    let cogrouped = |cache_bytes: usize| -> Result<Topology> {
        let builder = StreamsBuilder::new();
        let words = builder.stream::<String, String>("words").group_by_key();
        let more = builder
            .stream::<String, String>("more-words")
            .group_by_key();
        words
            .cogroup(|_, _: String, count: i64| count + 1)
            .cogroup(&more, |_, _: String, count: i64| count + 1)
            .aggregate_with(|| 0, Materialized::named("both").with_caching(cache_bytes))
            .to_stream()
            .map(|word, count| (word, count.unwrap_or_default()))
            .to("counts");
        Ok(builder.build()?)
    };
    // Too small for one entry: every write is evicted, and forwarded by
    // the input that made it, not held for the other input's aggregator.
    let mut evicting = Harness::new(&cogrouped(1)?)?;
    assert_eq!(evicting.pipe("a", 1)?, [row("a", 1, 1)]);
    assert_eq!(
        evicting.pipe_to("more-words", "a", "a", 2)?,
        [row("a", 2, 2)]
    );
    assert_eq!(evicting.pipe("a", 3)?, [row("a", 3, 3)]);
    let mut collapsing = Harness::new(&cogrouped(1 << 20)?)?;
    for (topic, ts) in [("words", 1), ("more-words", 2), ("words", 3)] {
        assert_eq!(collapsing.pipe_to(topic, "a", "a", ts)?, []);
    }
    assert_eq!(collapsing.commit()?, [row("a", 3, 3)]);
    Ok(())
}

/// The windowed aggregators of a cogroup share one cache too: a commit
/// emits each window (or session) once, whichever inputs updated it, and a
/// session merged away within the commit is never emitted.
#[test]
fn a_cached_windowed_cogroup_emits_each_window_once_per_commit() -> Result {
    let cogrouped = |windowed: &dyn Fn(
        CogroupedKStream<String, i64>,
    ) -> KTable<Windowed<String>, i64>|
     -> Result<Topology> {
        let builder = StreamsBuilder::new();
        let words = builder.stream::<String, String>("words").group_by_key();
        let more = builder
            .stream::<String, String>("more-words")
            .group_by_key();
        let cogroup = words
            .cogroup(|_, _: String, count: i64| count + 1)
            .cogroup(&more, |_, _: String, count: i64| count + 1);
        windowed(cogroup)
            .to_stream()
            .map(|window, count| (window.to_string(), count.unwrap_or_default()))
            .to("counts");
        Ok(builder.build()?)
    };
    let cached = || Materialized::named("both").with_caching(1 << 20);
    let inputs = [("words", 1), ("more-words", 2), ("words", 12)];

    let tumbling = TimeWindows::of_size_with_no_grace(Duration::from_millis(10))?;
    let mut task = Harness::new(&cogrouped(&|cogroup| {
        cogroup.windowed_by(tumbling).aggregate_with(|| 0, cached())
    })?)?;
    for (topic, ts) in inputs {
        assert_eq!(task.pipe_to(topic, "a", "a", ts)?, []);
    }
    assert_eq!(
        task.commit()?,
        [row("[a@0/10]", 2, 2), row("[a@10/20]", 1, 12)]
    );

    let sessions = SessionWindows::of_inactivity_gap_with_no_grace(Duration::from_millis(10))?;
    let mut task = Harness::new(&cogrouped(&|cogroup| {
        cogroup
            .windowed_by(sessions)
            .aggregate_with(|| 0, |_, left, right| left + right, cached())
    })?)?;
    for (topic, ts) in inputs {
        assert_eq!(task.pipe_to(topic, "a", "a", ts)?, []);
    }
    // [1, 1] and [1, 2] were merged into [1, 12] before the commit.
    assert_eq!(task.commit()?, [row("[a@1/12]", 3, 12)]);
    Ok(())
}

#[test]
fn a_cached_table_aggregation_emits_the_net_change_per_commit() -> Result {
    let builder = StreamsBuilder::new();
    builder
        .table::<String, String>("users")
        .group_by(|user, region| (region.clone(), user.clone()))
        .count_with(Materialized::named("per-region").with_caching(1 << 20))
        .to_stream()
        .to("counts");
    let mut task = Harness::new(&builder.build()?)?;
    for (user, region, ts) in [("alice", "A", 1), ("bob", "A", 2), ("alice", "B", 3)] {
        assert_eq!(task.pipe_to("users", user, region, ts)?, []);
    }
    // Uncached, A would go 1, 2, 1 and B 1; cached, each region's count
    // leaves once, at its latest value and timestamp.
    assert_eq!(task.commit()?, [row("A", 1, 3), row("B", 1, 3)]);
    task.pipe_to("users", "bob", "B", 4)?;
    assert_eq!(task.commit()?, [row("A", 0, 4), row("B", 2, 4)]);
    Ok(())
}

/// Without a cache, or with one too small for a single entry (every write
/// is evicted at once), each update is emitted as it happens.
#[test]
fn without_a_usable_cache_every_update_is_emitted_at_once() -> Result {
    for materialized in [
        Materialized::named("counts"),
        Materialized::named("counts").with_caching(1),
    ] {
        let mut task = Harness::new(&counting(materialized)?)?;
        assert_eq!(task.pipe("b", 1)?, [row("b", 1, 1)]);
        assert_eq!(task.pipe("b", 3)?, [row("b", 2, 3)]);
        assert_eq!(task.commit()?, []);
    }
    Ok(())
}

#[test]
fn the_changelog_sees_only_the_collapsed_writes() -> Result {
    let mut task = Harness::new(&counting(
        Materialized::named("counts").with_caching(1 << 20),
    )?)?;
    for ts in [1, 2, 3] {
        task.pipe("a", ts)?;
    }
    task.task.commit()?;
    let changelog: Vec<i64> = task
        .output()?
        .into_iter()
        .filter(|record| &*record.topic == "app-counts-changelog")
        .map(|record| record.timestamp)
        .collect();
    assert_eq!(changelog, [3]);
    Ok(())
}

#[test]
fn the_test_driver_commits_per_record_so_caching_changes_nothing() -> Result {
    let outputs =
        |materialized: Materialized<String, i64>| -> Result<Vec<TestRecord<String, i64>>> {
            let driver = TopologyTestDriver::new(&counting(materialized)?)?;
            let input = driver.create_input_topic("words", StringSerde, StringSerde);
            for (word, ts) in [("b", 1), ("a", 2), ("b", 3)] {
                input.pipe_record(traced(word.to_owned(), word.to_owned(), ts))?;
            }
            let output = driver.create_output_topic("counts", StringSerde, I64Serde);
            Ok(output.read_records_to_list()?)
        };
    let cached = outputs(Materialized::named("counts").with_caching(1 << 20))?;
    assert_eq!(cached, outputs(Materialized::named("counts"))?);
    // Headers included: a cached update leaves with the headers of the
    // record that wrote it last.
    assert_eq!(
        cached,
        [
            traced("b".to_owned(), 1, 1),
            traced("a".to_owned(), 1, 2),
            traced("b".to_owned(), 2, 3),
        ]
    );
    Ok(())
}

/// A record stamped `timestamp`, with a header naming it.
fn traced<K, V>(key: K, value: V, timestamp: i64) -> TestRecord<K, V> {
    let mut record = TestRecord::new(key, value, timestamp);
    record
        .headers
        .add("sent-at", Some(timestamp.to_string().into_bytes()));
    record
}

/// Kafka's session aggregation forwards its uncached updates as new
/// records, without headers, but its caching store forwards each update
/// with the headers of the record that wrote it - retractions included.
#[test]
fn cached_session_updates_carry_the_headers_of_their_latest_write() -> Result {
    let builder = StreamsBuilder::new();
    builder
        .stream::<String, String>("words")
        .group_by_key()
        .windowed_by(SessionWindows::of_inactivity_gap_and_grace(
            Duration::from_millis(10),
            Duration::from_millis(100),
        )?)
        .count_with(Materialized::named("sessions").with_caching(1 << 20))
        .to_stream()
        .map(|session, count| (session.to_string(), count))
        .to("counts");
    let driver = TopologyTestDriver::new(&builder.build()?)?;
    let input = driver.create_input_topic("words", StringSerde, StringSerde);
    input.pipe_record(traced("a".to_owned(), "x".to_owned(), 0))?;
    input.pipe_record(traced("a".to_owned(), "x".to_owned(), 5))?;
    let output =
        driver.create_output_topic("counts", StringSerde, OptionSerde::new(Arc::new(I64Serde)));
    let with_header_of = |key: &str, count: Option<i64>, timestamp: i64, writer: i64| {
        let mut record = TestRecord::new(key.to_owned(), count, timestamp);
        record
            .headers
            .add("sent-at", Some(writer.to_string().into_bytes()));
        record
    };
    assert_eq!(
        output.read_records_to_list()?,
        [
            with_header_of("[a@0/0]", Some(1), 0, 0),
            with_header_of("[a@0/0]", None, 0, 5),
            with_header_of("[a@0/5]", Some(2), 5, 5),
        ]
    );
    Ok(())
}

/// As in Kafka, a commit with nothing processed and no punctuator fired
/// since the last one flushes nothing: a write to a cached store made
/// through the test driver's handle stays in the cache when the wall
/// clock moves, and leaves it with the next processed record's commit.
#[test]
fn a_commit_with_nothing_processed_leaves_the_cache_alone() -> Result {
    let topology = counting(Materialized::named("counts").with_caching(1 << 20))?;
    let driver = TopologyTestDriver::new(&topology)?;
    let input = driver.create_input_topic("words", StringSerde, StringSerde);
    let output = driver.create_output_topic("counts", StringSerde, I64Serde);
    input.pipe_input_at("a".to_owned(), "a".to_owned(), 1)?;
    assert_eq!(
        output.read_records_to_list()?,
        [TestRecord::new("a".to_owned(), 1, 1)]
    );

    let store = driver.state_store::<TimestampedKeyValueStore<String, i64>>("counts")?;
    store.put(&"z".to_owned(), &ValueAndTimestamp::new(5, 7))?;
    driver.advance_wall_clock_time(Duration::from_secs(60))?;
    assert!(output.is_empty());

    input.pipe_input_at("a".to_owned(), "a".to_owned(), 8)?;
    assert_eq!(
        output.read_records_to_list()?,
        [
            TestRecord::new("z".to_owned(), 5, 7),
            TestRecord::new("a".to_owned(), 2, 8),
        ]
    );
    Ok(())
}

/// Says where each record was read: its value, `@topic-partition:offset`.
struct Whence;

impl Processor<String, Option<i64>, String, String> for Whence {
    fn process(
        &mut self,
        ctx: &mut ProcessorContext<'_, String, String>,
        record: Record<String, Option<i64>>,
    ) -> std::result::Result<(), StreamsError> {
        let whence = match ctx.record_metadata() {
            Some(m) => format!("{}-{}:{}", m.topic, m.partition, m.offset),
            None => "nowhere".to_owned(),
        };
        let value = format!("{:?}@{whence}", record.value);
        ctx.forward(record.with_value(value))
    }
}

/// What processors see of where the updates come from, with `words`
/// counted in a cached store, the counts then going through `then`.
fn whence(
    then: impl FnOnce(KTable<String, i64>) -> KTable<String, i64>,
    words: &[&str],
) -> Result<Vec<String>> {
    let builder = StreamsBuilder::new();
    let counts = builder
        .stream::<String, String>("words")
        .group_by_key()
        .count_with(Materialized::named("counts").with_caching(1 << 20));
    then(counts)
        .to_stream()
        .process(|| Whence, &[])
        .to("whence");
    let driver = TopologyTestDriver::new(&builder.build()?)?;
    let input = driver.create_input_topic("words", StringSerde, StringSerde);
    for (timestamp, word) in (1..).zip(words) {
        input.pipe_input_at((*word).to_owned(), "x".to_owned(), timestamp)?;
    }
    let output = driver.create_output_topic("whence", StringSerde, StringSerde);
    Ok(output.read_values_to_list()?)
}

/// An update a cached aggregation forwards when its cache flushes says
/// where the record that made it was read, as Kafka's caching stores
/// forward the record context kept with the entry: processors downstream
/// see that record's topic, partition and offset (they saw none before,
/// the flush happening at a commit, outside any record).
#[test]
fn a_flushed_update_says_where_its_record_was_read() -> Result {
    assert_eq!(
        whence(|counts| counts, &["a", "a"])?,
        ["Some(1)@words-0:0", "Some(2)@words-0:1"]
    );
    Ok(())
}

/// Through two caches in a row (a cached count, then a cached filter of
/// it), the update the second flushes still says where the record that
/// made it was read: the first cache's flush hands its entry's source on
/// to the writes it causes below.
#[test]
fn a_flushed_update_keeps_its_source_through_a_second_cache() -> Result {
    let filtered = |counts: KTable<String, i64>| {
        counts.filter_with(
            |_, _| true,
            Materialized::named("kept").with_caching(1 << 20),
        )
    };
    assert_eq!(
        whence(filtered, &["a", "b"])?,
        ["Some(1)@words-0:0", "Some(1)@words-0:1"]
    );
    Ok(())
}
