//! Helpers shared by the DSL's behaviour tests.

// Each test binary uses a different subset.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use streams_core::engine::{Clock, MockClock, StreamTask, TaskConfig};
use streams_core::prelude::*;
use streams_core::record::{ConsumerRecord, TopicName};
use streams_core::serde::SharedSerde;
use streams_core::state::StoreHandle;
use streams_core::{Window, Windowed};
use streams_dsl::{EmitStrategy, KTable, Materialized, StreamsBuilder};

/// What tests that use `?` return.
pub type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

pub fn ms(millis: u64) -> Duration {
    Duration::from_millis(millis)
}

/// `(key, value, timestamp)` of one string record.
pub type Row<'a> = (&'a str, &'a str, i64);

/// Pipes `(key, value, timestamp)` string records into the topic "input".
pub fn pipe(driver: &TopologyTestDriver, records: &[Row]) -> Result {
    pipe_to(driver, "input", records)
}

/// Pipes `(key, value, timestamp)` string records into `topic`.
pub fn pipe_to(driver: &TopologyTestDriver, topic: &str, records: &[Row]) -> Result {
    let input = driver.create_input_topic(topic, StringSerde, StringSerde);
    for (k, v, ts) in records {
        input.pipe_input_at(k.to_string(), v.to_string(), *ts)?;
    }
    Ok(())
}

/// Which kind of join a test builds.
#[derive(Clone, Copy)]
pub enum Kind {
    /// Inner join.
    Inner,
    /// Left join.
    Left,
    /// Outer join.
    Outer,
}

/// `[left, right]` as the developer guide writes joiner arguments.
pub fn pair(left: Option<&String>, right: Option<&String>) -> String {
    let show = |v: Option<&String>| v.map_or("null".to_owned(), Clone::clone);
    format!("[{}, {}]", show(left), show(right))
}

/// The repartition topics `topology` creates, by name.
pub fn repartition_topics(topology: &Topology) -> Vec<&str> {
    topology
        .internal_topics()
        .iter()
        .map(String::as_str)
        .filter(|topic| topic.ends_with("-repartition"))
        .collect()
}

// ---------------------------------------------------------------------------
// Windowed aggregations, as Kafka's tests of them set them up
// ---------------------------------------------------------------------------

/// Kafka's `EmitStrategy.onWindowUpdate()`, one value of the emit-strategy
/// parameter of Kafka's windowed aggregation tests.
pub const UPDATE: EmitStrategy = EmitStrategy::OnWindowUpdate;

/// Kafka's `EmitStrategy.onWindowClose()`, the other one.
pub const CLOSE: EmitStrategy = EmitStrategy::OnWindowClose;

/// Kafka's default `statestore.cache.max.bytes` (10 MiB).
pub const CACHE_BYTES: usize = 10 * 1024 * 1024;

/// Whether a store caches, as Kafka's `withCachingEnabled()` /
/// `withCachingDisabled()`.
#[derive(Clone, Copy, Debug)]
pub enum Cache {
    Off,
    On,
}

/// Both variants of Kafka's `withCache` parameter.
pub const CACHES: [Cache; 2] = [Cache::Off, Cache::On];

pub fn cached<K, V>(materialized: Materialized<K, V>, cache: Cache) -> Materialized<K, V> {
    match cache {
        Cache::Off => materialized,
        Cache::On => materialized.with_caching(CACHE_BYTES),
    }
}

pub fn strings() -> SharedSerde<String> {
    Arc::new(StringSerde)
}

/// Kafka's `Materialized.as(name).withValueSerde(Serdes.String())`.
pub fn string_store(name: &str, cache: Cache) -> Materialized<String, String> {
    cached(
        Materialized::with(strings(), strings()).with_name(name),
        cache,
    )
}

/// Kafka's `MockInitializer.STRING_INIT`.
pub fn zero() -> String {
    "0".to_owned()
}

/// Kafka's `MockAggregator.TOSTRING_ADDER`: `aggregate+value`.
pub fn add(_: &String, value: String, aggregate: String) -> String {
    format!("{aggregate}+{value}")
}

/// Kafka's `MockReducer.STRING_ADDER`: `left+right`.
pub fn concat(left: String, right: String) -> String {
    format!("{left}+{right}")
}

/// The session merger of Kafka's session tests: `left+right`.
pub fn merge(_: &String, left: String, right: String) -> String {
    format!("{left}+{right}")
}

pub fn windowed(key: &str, start: i64, end: i64) -> Windowed<String> {
    Windowed::new(key.to_owned(), Window::new(start, end))
}

/// Writes a windowed table's records to `topic` with `[key@start/end]`
/// keys (Kafka's `Windowed::toString`, what its `MockApiProcessor`
/// records).
pub fn to_strings<V>(table: &KTable<Windowed<String>, V>, topic: &str)
where
    V: Clone + 'static,
    Option<V>: DefaultSerde,
{
    table
        .to_stream()
        .map(|key, value| (key.to_string(), value))
        .to(topic);
}

/// What a windowed table wrote, keys as `[key@start/end]`, `None` for
/// tombstones.
pub type Updates<V> = Vec<TestRecord<String, Option<V>>>;

/// Everything written to `topic` since the last read.
pub fn read<V: DefaultSerde>(driver: &TopologyTestDriver, topic: &str) -> Result<Updates<V>> {
    let output =
        driver.create_output_topic(topic, StringSerde, OptionSerde::new(V::default_serde()));
    Ok(output.read_records_to_list()?)
}

/// Records with string values (none of them tombstones).
pub fn updates(rows: &[Row]) -> Updates<String> {
    rows.iter()
        .map(|(k, v, ts)| TestRecord::new(k.to_string(), Some(v.to_string()), *ts))
        .collect()
}

/// Records with counts, `None` for a tombstone.
pub fn count_rows<S: AsRef<str>>(rows: &[(S, Option<i64>, i64)]) -> Updates<i64> {
    rows.iter()
        .map(|(k, v, ts)| TestRecord::new(k.as_ref().to_owned(), *v, *ts))
        .collect()
}

/// Builds the windowed table `table` makes, writes it to "output" with
/// `[key@start/end]` keys, pipes `input` into `topic` and returns what the
/// table wrote, with the driver for further checks.
pub fn run_windowed<V>(
    topic: &str,
    input: &[Row],
    table: impl FnOnce(&StreamsBuilder) -> Result<KTable<Windowed<String>, V>>,
) -> Result<(Updates<V>, TopologyTestDriver)>
where
    V: DefaultSerde + Clone + 'static,
    Option<V>: DefaultSerde,
{
    let builder = StreamsBuilder::new();
    to_strings(&table(&builder)?, "output");
    let driver = TopologyTestDriver::new(&builder.build()?)?;
    pipe_to(&driver, topic, input)?;
    Ok((read(&driver, "output")?, driver))
}

/// Checks what two windowed aggregations and their join wrote to "table1",
/// "table2" and "joined" since the last check.
pub fn assert_join_outputs(
    driver: &TopologyTestDriver,
    expected: [&[Row]; 3],
    context: &str,
) -> Result {
    for (topic, rows) in ["table1", "table2", "joined"].into_iter().zip(expected) {
        assert_eq!(
            read::<String>(driver, topic)?,
            updates(rows),
            "{topic} {context}"
        );
    }
    Ok(())
}

/// A task driven record by record, as Kafka's processor-level tests drive
/// a processor with a mock context: nothing is committed unless the test
/// says so, and its wall clock moves only when the test sets it.
pub struct Task {
    task: StreamTask,
    clock: Rc<MockClock>,
    offset: i64,
}

impl Task {
    /// A task of `topology` whose configuration `configure` adjusts.
    pub fn with_config(
        topology: &Topology,
        configure: impl FnOnce(&mut TaskConfig),
    ) -> Result<Self> {
        let clock = Rc::new(MockClock::new(0));
        let mut config = TaskConfig::new("app", clock.clone());
        configure(&mut config);
        Ok(Self {
            task: StreamTask::new(topology, config)?,
            clock,
            offset: 0,
        })
    }

    /// A task whose windowed aggregations look for final results at most
    /// once per `interval` of wall-clock time (Kafka's
    /// `EMIT_INTERVAL_MS_KSTREAMS_WINDOWED_AGGREGATION`).
    pub fn with_emit_interval(topology: &Topology, interval: Duration) -> Result<Self> {
        Self::with_config(topology, |config| {
            config.emit_intervals.windowed_aggregation = interval;
        })
    }

    /// Kafka's `context.setSystemTimeMs(now)` (forward only).
    pub fn set_system_time(&self, now: i64) {
        self.clock.advance(now - self.clock.now_ms());
    }

    /// Kafka's `processor.process(new Record<>(key, value, timestamp))`,
    /// on the topic "input".
    pub fn process(&mut self, key: &str, value: &str, timestamp: i64) -> Result {
        self.process_on("input", key, value, timestamp)
    }

    /// Processes one record of `topic`.
    pub fn process_on(&mut self, topic: &str, key: &str, value: &str, timestamp: i64) -> Result {
        self.task.add_records([ConsumerRecord {
            topic: TopicName::new(topic),
            partition: 0,
            offset: self.offset,
            timestamp,
            key: Some(key.as_bytes().to_vec()),
            value: Some(value.as_bytes().to_vec()),
            headers: Headers::new(),
        }])?;
        self.offset += 1;
        while self.task.process()? {}
        Ok(())
    }

    pub fn process_all(&mut self, records: &[Row]) -> Result {
        for (k, v, ts) in records {
            self.process(k, v, *ts)?;
        }
        Ok(())
    }

    /// Commits, as Kafka's `store.flush()`: cached updates go downstream.
    pub fn commit(&mut self) -> Result {
        self.task.commit()?;
        Ok(())
    }

    /// What the task wrote to "output" since the last call (Kafka's
    /// captured forwards).
    pub fn forwarded<V: DefaultSerde>(&mut self) -> Result<Updates<V>> {
        let mut output = Vec::new();
        self.task.take_output(&mut output);
        let values = OptionSerde::new(V::default_serde());
        let mut records = Vec::new();
        for record in output.iter().filter(|record| &*record.topic == "output") {
            let key = StringSerde.deserialize("output", record.key.as_deref())?;
            let value = values.deserialize("output", record.value.as_deref())?;
            records.push(TestRecord::new(key, value, record.timestamp));
        }
        Ok(records)
    }

    pub fn state_store<S: StoreHandle + Clone>(&self, name: &str) -> Result<S> {
        Ok(self.task.state_store(name)?)
    }

    pub fn dropped(&self) -> u64 {
        self.task.metrics().dropped_records
    }

    /// Commits and closes the task, and returns the processor metadata it
    /// committed (what a runtime hands the next task of its partition).
    pub fn close(mut self) -> Result<BTreeMap<String, i64>> {
        self.task.commit()?;
        let metadata = self.task.processor_metadata().clone();
        self.task.close()?;
        Ok(metadata)
    }
}
