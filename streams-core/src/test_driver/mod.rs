//! Runs a topology in-process, with no broker, for tests.
//!
//! [`TopologyTestDriver`] behaves as Kafka Streams' driver of the same name:
//! one partition per topic, a single task running every sub-topology, a
//! mock wall clock, and after every input record: process, stream-time
//! punctuation, commit, then capture output, looping records written to a
//! topic the topology reads back in as input (that is how repartition
//! topics work here). It keeps what the stores write to their changelogs,
//! so a [restart](TopologyTestDriver::restart) restores them as a new
//! instance of the application would.
//!
//! One deliberate difference: Kafka's driver starts its wall clock and its
//! input topics' times at the current time; this one starts both at 0
//! (see [`TestDriverConfig::initial_wall_clock_ms`]), so that a test's
//! timestamps and punctuations are the same on every run.

mod topics;

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

pub use topics::{TestInputTopic, TestOutputTopic, TestRecord};

use crate::engine::{
    ChangelogReader, EmitIntervals, MockClock, StreamTask, TaskConfig, TaskMetrics,
};
use crate::error::StreamsError;
use crate::record::{ConsumerRecord, Headers, ProducerRecord, TopicPartition};
use crate::serde::{Deserializer, Serializer};
use crate::state::StoreHandle;
use crate::topology::{DeserializationHandler, TimestampExtractor, Topology};
use state_stores::CheckpointFile;

/// Settings of a [`TopologyTestDriver`].
#[derive(Clone)]
pub struct TestDriverConfig {
    /// The application id (prefix of internal topics).
    pub application_id: String,
    /// The mock wall clock's start, in ms since the epoch.
    pub initial_wall_clock_ms: i64,
    /// Where persistent stores keep their files, if any.
    pub state_dir: Option<PathBuf>,
    /// What to do with undeserializable input of the topology's streams
    /// and tables. Undeserializable records of global stores' topics are
    /// skipped (logged and counted as dropped) whatever this says, as in
    /// Kafka's test driver.
    pub deserialization_handler: DeserializationHandler,
    /// The timestamp extractor of sources that set none (Kafka's
    /// `default.timestamp.extractor`); `None`: the record's own timestamp.
    pub default_timestamp_extractor: Option<Arc<dyn TimestampExtractor>>,
    /// How often operators whose results wait for stream time look for
    /// them: at every record by default, as Kafka's test driver; a live
    /// application's intervals (`EmitIntervals::default()`) throttle them
    /// by the mock wall clock, which
    /// [`advance_wall_clock_time`](TopologyTestDriver::advance_wall_clock_time) moves.
    pub emit_intervals: EmitIntervals,
}

impl std::fmt::Debug for TestDriverConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestDriverConfig")
            .field("application_id", &self.application_id)
            .field("initial_wall_clock_ms", &self.initial_wall_clock_ms)
            .field("state_dir", &self.state_dir)
            .field("deserialization_handler", &self.deserialization_handler)
            .field(
                "default_timestamp_extractor",
                &self.default_timestamp_extractor.is_some(),
            )
            .field("emit_intervals", &self.emit_intervals)
            .finish()
    }
}

impl Default for TestDriverConfig {
    fn default() -> Self {
        Self {
            application_id: "test-driver-application".to_owned(),
            initial_wall_clock_ms: 0,
            state_dir: None,
            deserialization_handler: DeserializationHandler::default(),
            default_timestamp_extractor: None,
            emit_intervals: EmitIntervals::EVERY_RECORD,
        }
    }
}

struct Driver {
    task: StreamTask,
    config: TestDriverConfig,
    clock: Rc<MockClock>,
    outputs: HashMap<String, VecDeque<ProducerRecord>>,
    produced: BTreeSet<String>,
    next_offset: HashMap<String, i64>,
    /// Every record written to a changelog topic of the topology, kept as
    /// Kafka keeps them (whatever the tests read), for restarts.
    changelogs: KeptChangelogs,
    /// Records written to topics the topology reads that no open task has
    /// taken yet: those a task wrote while closing, which a restarted task
    /// reads (as a new instance would find them in Kafka).
    unread: Vec<ProducerRecord>,
}

/// The changelog topics of a topology and the records written to them.
#[derive(Clone, Default)]
struct KeptChangelogs(HashMap<String, Vec<ConsumerRecord>>);

impl KeptChangelogs {
    /// Empty changelogs for the logged stores of `topology`.
    fn of(topology: &Topology, application_id: &str) -> Self {
        let topics = topology.changelog_topics(application_id).into_iter();
        Self(topics.map(|topic| (topic, Vec::new())).collect())
    }

    /// The offset of the last record of every changelog written to.
    fn last_offsets(&self) -> BTreeMap<TopicPartition, i64> {
        self.0
            .iter()
            .filter(|(_, log)| !log.is_empty())
            .map(|(topic, log)| (TopicPartition::new(topic.clone(), 0), log.len() as i64 - 1))
            .collect()
    }

    /// Keeps `record` if it was written to a changelog.
    fn keep(&mut self, record: &ProducerRecord) {
        if let Some(log) = self.0.get_mut(&*record.topic) {
            log.push(ConsumerRecord {
                topic: record.topic,
                partition: 0,
                offset: log.len() as i64,
                timestamp: record.timestamp,
                key: record.key.clone(),
                value: record.value.clone(),
                headers: record.headers.clone(),
            });
        }
    }
}

impl ChangelogReader for KeptChangelogs {
    fn offsets(&self, topic: &str, _partition: i32) -> Result<(i64, i64), StreamsError> {
        Ok((0, self.0.get(topic).map_or(0, Vec::len) as i64))
    }

    /// One batch: the driver holds its changelogs in memory anyway.
    fn read(
        &self,
        topic: &str,
        _partition: i32,
        from: i64,
        end: i64,
        restore: &mut dyn FnMut(Vec<ConsumerRecord>) -> Result<(), StreamsError>,
    ) -> Result<(), StreamsError> {
        let log = self.0.get(topic).map_or(&[][..], Vec::as_slice);
        let range = usize::try_from(from).unwrap_or(0)..usize::try_from(end).unwrap_or(0);
        restore(log.get(range).unwrap_or_default().to_vec())
    }
}

/// The configuration of the driver's task.
fn task_config(config: &TestDriverConfig, clock: Rc<MockClock>) -> TaskConfig {
    let mut task_config = TaskConfig::new(config.application_id.clone(), clock);
    task_config.emit_intervals = config.emit_intervals;
    task_config.state_dir = config.state_dir.clone();
    task_config.deserialization_handler = config.deserialization_handler;
    // As Kafka's driver, which gives its global task this handler whatever
    // the configuration says.
    task_config.global_deserialization_handler = Some(DeserializationHandler::LogAndContinue);
    if let Some(extractor) = &config.default_timestamp_extractor {
        task_config.default_timestamp_extractor = extractor.clone();
    }
    task_config
}

impl Driver {
    fn enqueue(
        &mut self,
        topic: &str,
        key: Option<Vec<u8>>,
        value: Option<Vec<u8>>,
        timestamp: i64,
        headers: Headers,
    ) -> Result<(), StreamsError> {
        if !self.task.reads(topic) {
            return Err(StreamsError::UnknownTopic(topic.to_owned()));
        }
        let offset = self.next_offset.entry(topic.to_owned()).or_default();
        let record = ConsumerRecord {
            topic: topic.into(),
            partition: 0,
            offset: *offset,
            timestamp,
            key,
            value,
            headers,
        };
        *offset += 1;
        self.task.add_records([record])
    }

    /// Kafka's `completeAllProcessableWork`: for each queued record,
    /// process, punctuate on stream time, commit, capture output.
    fn run(&mut self) -> Result<(), StreamsError> {
        self.capture_output()?;
        while self.task.process()? {
            self.task.maybe_punctuate_stream_time()?;
            self.task.commit()?;
            self.capture_output()?;
        }
        Ok(())
    }

    /// Commits and closes the task, captures what that wrote, and
    /// checkpoints, as a runtime does once the task's output is
    /// acknowledged.
    fn close_task(&mut self) -> Result<(), StreamsError> {
        self.task.commit()?;
        self.task.close()?;
        self.capture_output()?;
        let acknowledged = self.changelogs.last_offsets();
        self.task.checkpoint(&acknowledged, true)?;
        Ok(())
    }

    /// Moves what the task wrote to the output topics, and hands what it
    /// wrote to topics it reads back to it; a closed task's writes to those
    /// wait for a restarted task (Kafka's driver logs them as records that
    /// cannot be processed), and stay readable as output either way.
    fn capture_output(&mut self) -> Result<(), StreamsError> {
        let mut output = Vec::new();
        self.task.take_output(&mut output);
        for record in output {
            self.produced.insert(record.topic.to_string());
            self.changelogs.keep(&record);
            if self.task.reads(&record.topic) {
                self.unread.push(record.clone());
            }
            self.outputs
                .entry(record.topic.to_string())
                .or_default()
                .push_back(record);
        }
        if self.task.is_closed() {
            if !self.unread.is_empty() {
                tracing::warn!(
                    records = self.unread.len(),
                    "records written to input topics while the task closed wait for a restart"
                );
            }
            return Ok(());
        }
        for record in std::mem::take(&mut self.unread) {
            let topic = record.topic.to_string();
            self.enqueue(
                &topic,
                record.key,
                record.value,
                record.timestamp,
                record.headers,
            )?;
        }
        Ok(())
    }
}

/// Runs a [`Topology`] without a broker. Input and output topics it hands
/// out share the driver, so several can be used at once.
///
/// ```
/// use streams_core::prelude::*;
///
/// struct Length;
/// impl Processor<String, String, String, i64> for Length {
///     fn process(
///         &mut self,
///         ctx: &mut ProcessorContext<'_, String, i64>,
///         record: Record<String, String>,
///     ) -> Result<(), StreamsError> {
///         let length = record.value.len() as i64;
///         ctx.forward(record.with_value(length))
///     }
/// }
///
/// let topology = TopologyBuilder::new()
///     .add_source("in", &["words"], SourceOptions::new(StringSerde, StringSerde))
///     .add_processor("length", || Length, &["in"])
///     .add_sink("out", "lengths", SinkOptions::new(StringSerde, I64Serde), &["length"])
///     .build()?;
/// let driver = TopologyTestDriver::new(&topology)?;
/// let input = driver.create_input_topic("words", StringSerde, StringSerde);
/// let output = driver.create_output_topic("lengths", StringSerde, I64Serde);
/// input.pipe_input_at("a".to_string(), "kafka".to_string(), 42)?;
/// assert_eq!(output.read_record()?, TestRecord::new("a".to_string(), 5, 42));
/// assert!(output.is_empty());
/// # Ok::<(), StreamsError>(())
/// ```
pub struct TopologyTestDriver {
    driver: Rc<RefCell<Driver>>,
}

impl TopologyTestDriver {
    /// A driver with the default settings.
    pub fn new(topology: &Topology) -> Result<Self, StreamsError> {
        Self::with_config(topology, TestDriverConfig::default())
    }

    /// A driver with `config`.
    pub fn with_config(
        topology: &Topology,
        config: TestDriverConfig,
    ) -> Result<Self, StreamsError> {
        let clock = Rc::new(MockClock::new(config.initial_wall_clock_ms));
        // A checkpoint of an earlier driver names offsets of changelogs
        // that went with it: this driver's start empty.
        if let Some(dir) = &config.state_dir {
            CheckpointFile::in_dir(dir)
                .delete()
                .map_err(|source| StreamsError::TaskState {
                    task: "0_0".to_owned(),
                    source,
                })?;
        }
        let task = StreamTask::new(topology, task_config(&config, clock.clone()))?;
        let changelogs = KeptChangelogs::of(topology, &config.application_id);
        let mut driver = Driver {
            task,
            config,
            clock,
            outputs: HashMap::new(),
            produced: BTreeSet::new(),
            next_offset: HashMap::new(),
            changelogs,
            unread: Vec::new(),
        };
        // Processors may write during init (e.g. from restored state).
        driver.run()?;
        Ok(Self {
            driver: Rc::new(RefCell::new(driver)),
        })
    }

    /// An input topic whose records are written with these serializers.
    /// Records without an explicit timestamp get the topic's time, which
    /// starts at 0 and does not advance on its own.
    pub fn create_input_topic<K, V>(
        &self,
        topic: &str,
        key: impl Serializer<K> + 'static,
        value: impl Serializer<V> + 'static,
    ) -> TestInputTopic<K, V> {
        self.create_input_topic_at(topic, key, value, 0, Duration::ZERO)
    }

    /// An input topic whose time starts at `start_ms` and moves forward by
    /// `auto_advance` after each record piped without a timestamp.
    pub fn create_input_topic_at<K, V>(
        &self,
        topic: &str,
        key: impl Serializer<K> + 'static,
        value: impl Serializer<V> + 'static,
        start_ms: i64,
        auto_advance: Duration,
    ) -> TestInputTopic<K, V> {
        TestInputTopic::new(
            self.clone_handle(),
            topic,
            Box::new(key),
            Box::new(value),
            start_ms,
            auto_advance,
        )
    }

    /// An output topic read with these deserializers.
    pub fn create_output_topic<K, V>(
        &self,
        topic: &str,
        key: impl Deserializer<K> + 'static,
        value: impl Deserializer<V> + 'static,
    ) -> TestOutputTopic<K, V> {
        TestOutputTopic::new(self.clone_handle(), topic, Box::new(key), Box::new(value))
    }

    fn clone_handle(&self) -> DriverHandle {
        DriverHandle(self.driver.clone())
    }

    /// Moves the mock wall clock forward, fires due wall-clock punctuators,
    /// commits, and processes whatever became processable.
    pub fn advance_wall_clock_time(&self, by: Duration) -> Result<(), StreamsError> {
        let mut driver = self.driver.borrow_mut();
        driver.clock.advance(crate::engine::millis(by));
        driver.task.maybe_punctuate_wall_clock_time()?;
        driver.task.commit()?;
        driver.run()
    }

    /// A state store of the topology, by name and handle type, for
    /// assertions (e.g. `driver.state_store::<KeyValueStore<String, i64>>("counts")`).
    /// A timestamped store (the DSL's tables and aggregations keep theirs
    /// so) is handed out as its timestamped handle or, as Kafka's driver
    /// hands out facades, as a plain key-value or window store that reads
    /// values without their timestamps and refuses writes and deletions
    /// ([`StreamsError::ReadOnlyView`]).
    pub fn state_store<S: StoreHandle + Clone>(&self, name: &str) -> Result<S, StreamsError> {
        self.driver.borrow().task.state_store(name)
    }

    /// Every topic the topology has written to, internal ones included.
    pub fn produced_topic_names(&self) -> BTreeSet<String> {
        self.driver.borrow().produced.clone()
    }

    /// The task's counters.
    pub fn metrics(&self) -> TaskMetrics {
        self.driver.borrow().task.metrics()
    }

    /// Stops the application and starts it again from `topology` (the one
    /// the driver was made with): the task closes as in
    /// [`close`](Self::close) and checkpoints, then a new task restores its
    /// logged stores from what they wrote to their changelogs - in-memory
    /// stores start empty, as a new instance's would, and persistent ones
    /// (with a [`state_dir`](TestDriverConfig::state_dir)) restore only
    /// what follows the checkpoint - and carries on from the stream
    /// time and processor metadata the old task committed. Topics, their
    /// unread output and the wall clock are kept; the task's counters start
    /// again, [`restored_records`](TaskMetrics::restored_records) saying how
    /// much was restored.
    pub fn restart(&self, topology: &Topology) -> Result<(), StreamsError> {
        let mut driver = self.driver.borrow_mut();
        driver.close_task()?;
        let mut config = task_config(&driver.config, driver.clock.clone());
        config.restore_from = Some(Box::new(driver.changelogs.clone()));
        // What the old task committed with its offsets.
        config.partition_times = driver.task.partition_times();
        config.processor_metadata = driver.task.processor_metadata().clone();
        driver.task = StreamTask::new(topology, config)?;
        driver.task.restore_all()?;
        driver.run()
    }

    /// Closes the topology: processors close, stores flush and close, and
    /// the resulting output can still be read. The task checkpoints its
    /// persistent stores, as it does when it restarts.
    pub fn close(self) -> Result<(), StreamsError> {
        self.driver.borrow_mut().close_task()
    }
}

/// The driver as the topics hold it.
#[derive(Clone)]
struct DriverHandle(Rc<RefCell<Driver>>);

impl DriverHandle {
    fn pipe(
        &self,
        topic: &str,
        key: Option<Vec<u8>>,
        value: Option<Vec<u8>>,
        timestamp: i64,
        headers: Headers,
    ) -> Result<(), StreamsError> {
        let mut driver = self.0.borrow_mut();
        driver.enqueue(topic, key, value, timestamp, headers)?;
        driver.run()
    }

    fn read(&self, topic: &str) -> Option<ProducerRecord> {
        self.0
            .borrow_mut()
            .outputs
            .get_mut(topic)
            .and_then(VecDeque::pop_front)
    }

    fn queue_size(&self, topic: &str) -> usize {
        self.0.borrow().outputs.get(topic).map_or(0, VecDeque::len)
    }
}
