//! One task: the nodes and stores of its sub-topologies, its input queues,
//! its clocks and its output.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::{Arc, OnceLock};

use state_stores::{ChangelogRecord, RecordContext, RocksDbMemoryBudget};
use std::time::Duration;

use super::checkpoint::{RestoreStart, TaskCheckpoint};
use super::clock::Clock;
use super::collector::RecordCollector;
use super::emit_intervals::EmitIntervals;
use super::graph::{call, Graph, NodeId};
use super::partition_group::{Arrival, PartitionGroup, QueuedRecord, SourceBinding};
use super::punctuation::PunctuationQueue;
use super::restore::{ChangelogReader, ChangelogRestore, PendingRestores};
use crate::error::{StreamsError, TopologyError};
use crate::processor::{PunctuationType, PunctuatorId};
use crate::record::{
    ConsumerRecord, ProducerRecord, Record, RecordMetadata, TopicName, TopicPartition,
};
use crate::state::{StoreContext, StoreRegistry};
use crate::topology::{
    DeserializationHandler, FailOnInvalidTimestamp, NodeKind, StoreDef, TimestampExtractor,
    TopicNames, Topology,
};
use rustc_hash::FxHashMap;

/// Counters a user would graph, per task.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TaskMetrics {
    /// Records taken from the input queues and processed.
    pub records_processed: u64,
    /// Records dropped: undeserializable (when continuing), negative
    /// timestamps, late arrivals past a window's grace.
    pub dropped_records: u64,
    /// Punctuator calls.
    pub punctuations: u64,
    /// Commits.
    pub commits: u64,
    /// Changelog records applied to the task's stores when it started.
    pub restored_records: u64,
    /// Changelog records the task has still to restore before it
    /// processes (offsets, so aborted records and transaction markers
    /// count too): how far a restore is from done.
    pub records_to_restore: u64,
}

impl std::ops::Add for TaskMetrics {
    type Output = Self;

    /// The counters of two tasks together.
    fn add(self, other: Self) -> Self {
        Self {
            records_processed: self.records_processed + other.records_processed,
            dropped_records: self.dropped_records + other.dropped_records,
            punctuations: self.punctuations + other.punctuations,
            commits: self.commits + other.commits,
            restored_records: self.restored_records + other.restored_records,
            records_to_restore: self.records_to_restore + other.records_to_restore,
        }
    }
}

impl std::ops::AddAssign for TaskMetrics {
    fn add_assign(&mut self, other: Self) {
        *self = *self + other;
    }
}

/// Answers how many partitions a topic has (`None`: unknown).
pub type PartitionCount = Box<dyn Fn(&str) -> Option<i32>>;

/// How to create a task.
pub struct TaskConfig {
    /// The application id (prefix of internal topics).
    pub application_id: String,
    /// The ids of the sub-topologies this task runs (with the global
    /// stores' groups, which every task runs); empty means all of them (as
    /// the test driver runs them).
    pub subtopologies: Vec<usize>,
    /// The input partition the task is for.
    pub partition: i32,
    /// The task's state directory, for persistent stores.
    pub state_dir: Option<PathBuf>,
    /// The wall clock.
    pub clock: Rc<dyn Clock>,
    /// What to do with undeserializable records.
    pub deserialization_handler: DeserializationHandler,
    /// What to do with undeserializable records of global stores' topics,
    /// if not as with the others (Kafka's test driver skips them whatever
    /// the configuration says).
    pub global_deserialization_handler: Option<DeserializationHandler>,
    /// Timestamp extractor for sources that set none.
    pub default_timestamp_extractor: Arc<dyn TimestampExtractor>,
    /// The number of partitions of a topic, for custom partitioners.
    pub partition_count: PartitionCount,
    /// The memory budget shared by every RocksDB store of the process.
    pub rocksdb_budget: RocksDbMemoryBudget,
    /// Where the task's logged stores restore their state from before it
    /// processes (see [`StreamTask::restoring`]); `None` starts them as
    /// they are (empty, for in-memory stores). Persistent stores restore
    /// from the offsets the task's checkpoint names, if it has a usable
    /// one.
    pub restore_from: Option<Box<dyn ChangelogReader>>,
    /// Whether the task runs under exactly-once, where its stores may hold
    /// writes of a transaction that never commits: its checkpoint is then
    /// deleted when it starts and written only when it closes cleanly, and
    /// state found without a checkpoint is wiped.
    pub exactly_once: bool,
    /// How often operators whose results wait for stream time look for
    /// them (Kafka's internal emit intervals, 1 second each by default).
    pub emit_intervals: EmitIntervals,
    /// The processor metadata committed last with this task's offsets (see
    /// [`StreamTask::processor_metadata`]); empty for a first start.
    pub processor_metadata: BTreeMap<String, i64>,
    /// The partition times committed last with this task's offsets (see
    /// [`StreamTask::partition_times`]); empty for a first start. Stream
    /// time starts at the largest, as Kafka's task restores it from its
    /// committed offsets' metadata.
    pub partition_times: BTreeMap<TopicPartition, i64>,
}

impl TaskConfig {
    /// A task of `application_id` running every sub-topology on partition
    /// 0, taking every topic to have one partition, as the test driver
    /// does; a driver on a cluster answers `partition_count` from the
    /// cluster's metadata, and `None` for a topic it does not know.
    pub fn new(application_id: impl Into<String>, clock: Rc<dyn Clock>) -> Self {
        Self {
            application_id: application_id.into(),
            subtopologies: Vec::new(),
            partition: 0,
            state_dir: None,
            clock,
            deserialization_handler: DeserializationHandler::default(),
            global_deserialization_handler: None,
            default_timestamp_extractor: Arc::new(FailOnInvalidTimestamp),
            partition_count: Box::new(|_| Some(1)),
            rocksdb_budget: default_rocksdb_budget(),
            restore_from: None,
            exactly_once: false,
            emit_intervals: EmitIntervals::default(),
            processor_metadata: BTreeMap::new(),
            partition_times: BTreeMap::new(),
        }
    }
}

/// Hands `record`, stamped `timestamp`, to the source node that reads it,
/// with the record's metadata as the context while it travels down.
fn run_source(
    graph: &Graph,
    state: &mut TaskState,
    source: &SourceBinding,
    record: ConsumerRecord,
    timestamp: i64,
) -> Result<(), StreamsError> {
    let _span =
        tracing::trace_span!("process", topic = %record.topic, offset = record.offset).entered();
    let metadata = RecordMetadata {
        topic: record.topic,
        partition: record.partition,
        offset: record.offset,
    };
    state.record_context.set_timestamp(timestamp);
    // Caches keep where each write's record was read, to forward it with
    // the write when they flush it.
    let tracks_sources = state.record_context.tracks_sources();
    if tracks_sources {
        state.record_context.set_source(Some(metadata.as_source()));
    }
    state.record_metadata = Some(metadata);
    let raw = Record {
        key: record.key,
        value: record.value,
        timestamp,
        headers: record.headers,
    };
    let result = call(&source.input, graph.name(source.node), state, raw);
    state.record_metadata = None;
    if tracks_sources {
        state.record_context.set_source(None);
    }
    state.metrics.records_processed += 1;
    result
}

/// The budget tasks share unless told otherwise: 64 MiB for the process.
fn default_rocksdb_budget() -> RocksDbMemoryBudget {
    static BUDGET: OnceLock<RocksDbMemoryBudget> = OnceLock::new();
    BUDGET
        .get_or_init(|| RocksDbMemoryBudget::new(64 << 20))
        .clone()
}

/// The state every node of a task may touch.
pub(crate) struct TaskState {
    pub(crate) application_id: String,
    pub(crate) task_id: String,
    /// The input partition: every input topic's records come from it.
    pub(crate) partition: i32,
    pub(crate) stream_time: i64,
    pub(crate) clock: Rc<dyn Clock>,
    pub(crate) record_metadata: Option<RecordMetadata>,
    pub(crate) stores: StoreRegistry,
    pub(crate) collector: RecordCollector,
    pub(crate) commit_requested: bool,
    pub(crate) deserialization_handler: DeserializationHandler,
    /// The handler for global stores' records (see
    /// [`TaskConfig::global_deserialization_handler`]).
    global_deserialization_handler: DeserializationHandler,
    pub(crate) partition_count: PartitionCount,
    pub(crate) metrics: TaskMetrics,
    /// The timestamp stores stamp their changelog records with: the current
    /// record's, which a forward replaces with the forwarded record's.
    pub(crate) record_context: RecordContext,
    pub(crate) emit_intervals: EmitIntervals,
    /// Values processors commit with the input offsets, by key.
    pub(crate) processor_metadata: BTreeMap<String, i64>,
    stream_punctuation: PunctuationQueue,
    wall_clock_punctuation: PunctuationQueue,
    next_punctuator: u64,
}

impl TaskState {
    pub(crate) fn schedule(
        &mut self,
        node: NodeId,
        interval: Duration,
        kind: PunctuationType,
    ) -> Result<PunctuatorId, StreamsError> {
        let interval_ms = super::millis(interval);
        if interval_ms < 1 {
            return Err(StreamsError::InvalidInterval);
        }
        let id = PunctuatorId(self.next_punctuator);
        self.next_punctuator += 1;
        match kind {
            // Aligned to 0, so it fires as soon as there is data.
            PunctuationType::StreamTime => self.stream_punctuation.add(id, node, 0, interval_ms),
            PunctuationType::WallClockTime => {
                let first = self.clock.now_ms().saturating_add(interval_ms);
                self.wall_clock_punctuation
                    .add(id, node, first, interval_ms)
            }
        }
        Ok(id)
    }

    pub(crate) fn cancel(&mut self, id: PunctuatorId) {
        self.stream_punctuation.cancel(id);
        self.wall_clock_punctuation.cancel(id);
    }
}

/// Runs one task: takes records in timestamp order, keeps stream time,
/// drives punctuation, and commits.
///
/// Drivers (the test driver; a consumer loop on Kafka) push input with
/// [`add_records`](Self::add_records), call [`process`](Self::process) and
/// the punctuation methods, [`commit`](Self::commit) at their commit points,
/// and send what [`take_output`](Self::take_output) returns.
pub struct StreamTask {
    graph: Graph,
    state: TaskState,
    queues: PartitionGroup,
    /// The source of every input topic. Drivers ask [`reads`](Self::reads)
    /// for every record they route, so the names are hashed with a fast
    /// hash: they come from the topology, not from the data.
    sources: FxHashMap<TopicName, SourceBinding>,
    checkpoint: TaskCheckpoint,
    /// Where the stores' changelogs are read from, by
    /// [`restore_all`](Self::restore_all).
    reader: Option<Box<dyn ChangelogReader>>,
    /// What the task has left to restore before it processes.
    restores: PendingRestores,
    /// The nodes of the global stores' groups: started with the task, not
    /// once it restored.
    global_nodes: Vec<NodeId>,
    /// How many of the other nodes, in order, were started (once the task
    /// restored).
    started: usize,
    /// Whether a record was processed or dropped, or a punctuator fired,
    /// since the last commit (Kafka's `commitNeeded`): only then does a
    /// commit flush.
    commit_needed: bool,
    closed: bool,
}

impl StreamTask {
    /// Creates the task's nodes and stores and initializes them.
    pub fn new(topology: &Topology, config: TaskConfig) -> Result<Self, StreamsError> {
        let TaskConfig {
            application_id,
            subtopologies,
            partition,
            state_dir,
            clock,
            deserialization_handler,
            global_deserialization_handler,
            default_timestamp_extractor,
            partition_count,
            rocksdb_budget,
            restore_from,
            exactly_once,
            emit_intervals,
            processor_metadata,
            partition_times,
        } = config;
        let selected: Vec<usize> = if subtopologies.is_empty() {
            (0..topology.subtopologies.len()).collect()
        } else {
            subtopologies
        };
        let count = topology.subtopologies.len();
        if let Some(&id) = selected.iter().find(|&&id| id >= count) {
            return Err(TopologyError::UnknownSubtopology { id, count }.into());
        }
        let task_id = match selected.as_slice() {
            [single] => format!("{single}_{partition}"),
            _ => format!("0_{partition}"),
        };
        let global_members: Vec<usize> = topology
            .global_subtopologies
            .iter()
            .filter_map(|&id| topology.subtopologies.get(id))
            .flatten()
            .copied()
            .collect();
        // Every task runs the global stores' groups too: any of its
        // processors may read a global store.
        let mut members: Vec<usize> = selected
            .iter()
            .filter_map(|&id| topology.subtopologies.get(id))
            .flatten()
            .chain(&global_members)
            .copied()
            .collect();
        members.sort_unstable();
        members.dedup();

        let names = TopicNames {
            application_id: &application_id,
            internal: &topology.internal_topics,
        };
        let collector = RecordCollector::default();
        let record_context = RecordContext::new();
        let mut graph = Graph::new();
        let mut ids: HashMap<&str, NodeId> = HashMap::new();
        let mut sources = FxHashMap::default();
        let mut global_nodes = Vec::new();
        for &member in &members {
            let def = &topology.nodes[member];
            let id = graph.add(def.name.clone(), |info| (def.factory)(&names, info));
            ids.insert(&def.name, id);
            if global_members.contains(&member) {
                global_nodes.push(id);
            }
            if let NodeKind::Source {
                topics,
                timestamp_extractor,
                ..
            } = &def.kind
            {
                for topic in topics {
                    sources.insert(
                        names.resolve(topic),
                        SourceBinding {
                            node: id,
                            input: graph.input(id)?,
                            extractor: timestamp_extractor
                                .clone()
                                .unwrap_or_else(|| default_timestamp_extractor.clone()),
                            global: global_nodes.contains(&id),
                        },
                    );
                }
            }
        }
        // Children in the order they were added, as Kafka Streams forwards.
        for &member in &members {
            let def = &topology.nodes[member];
            for parent in &def.parents {
                graph.connect(ids[parent.as_str()], ids[def.name.as_str()])?;
            }
        }

        let mut checkpoint = TaskCheckpoint::load(&task_id, state_dir.clone(), exactly_once)?;
        let store_context = StoreContext {
            application_id: application_id.clone(),
            task_id: task_id.clone(),
            partition,
            state_dir,
            collector: collector.changelog(),
            record_context: record_context.clone(),
            rocksdb_budget,
        };
        let opening = StoreOpening {
            topology,
            members: &members,
            ids: &ids,
            context: &store_context,
            restore_from: restore_from.as_deref(),
        };
        let (stores, restores) = match opening.open(&mut checkpoint)? {
            Ok(opened) => opened,
            Err(reason) => {
                tracing::warn!(task = %task_id, reason, "wiping the task's state to restore it from scratch");
                checkpoint.wipe()?;
                opening
                    .open(&mut checkpoint)?
                    .map_err(|reason| StreamsError::TaskState {
                        task: task_id.clone(),
                        source: state_stores::StoreError::Corrupt {
                            store: task_id.clone(),
                            reason,
                        },
                    })?
            }
        };

        let mut task = Self {
            graph,
            state: TaskState {
                application_id,
                task_id,
                partition,
                stream_time: partition_times.values().copied().fold(-1, i64::max),
                clock,
                record_metadata: None,
                stores,
                collector,
                commit_requested: false,
                deserialization_handler,
                global_deserialization_handler: global_deserialization_handler
                    .unwrap_or(deserialization_handler),
                partition_count,
                metrics: TaskMetrics::default(),
                record_context,
                emit_intervals,
                processor_metadata,
                stream_punctuation: PunctuationQueue::default(),
                wall_clock_punctuation: PunctuationQueue::default(),
                next_punctuator: 0,
            },
            queues: PartitionGroup::restoring(partition_times),
            sources,
            checkpoint,
            reader: restore_from,
            restores,
            global_nodes,
            started: 0,
            commit_needed: false,
            closed: false,
        };
        // The global stores' nodes take records at once, restoring or not
        // (as Kafka's global thread runs apart from the stream threads).
        for &node in &task.global_nodes {
            task.graph.init(&mut task.state, node)?;
        }
        if task.restores.is_empty() {
            task.restored()?;
        }
        Ok(task)
    }

    /// The task id, `<sub-topology>_<partition>`.
    pub fn id(&self) -> &str {
        &self.state.task_id
    }

    /// The input partition of this task.
    pub fn partition(&self) -> i32 {
        self.state.partition
    }

    /// Whether a source of this task reads `topic`.
    pub fn reads(&self, topic: &str) -> bool {
        self.sources.contains_key(topic)
    }

    /// Queues records of one partition; their timestamps are extracted now.
    ///
    /// Records of a global store's topic are applied to the store at once,
    /// with their own timestamps, as Kafka's global thread applies them:
    /// they take no turn in the task's timestamp order.
    pub fn add_records(
        &mut self,
        records: impl IntoIterator<Item = ConsumerRecord>,
    ) -> Result<(), StreamsError> {
        self.check_open()?;
        for record in records {
            let (sources, topic) = (&self.sources, record.topic);
            let bind = || {
                sources
                    .get(&topic)
                    .cloned()
                    .ok_or_else(|| StreamsError::UnknownTopic(topic.to_string()))
            };
            match self.queues.add(record, bind)? {
                Arrival::Queued => {}
                Arrival::Dropped => {
                    self.state.metrics.dropped_records += 1;
                    // The position moved past it: a commit must say so, or
                    // it is read again after a restart.
                    self.commit_needed = true;
                }
                Arrival::Global(source, record) => {
                    let timestamp = record.timestamp;
                    let stream_time = self.state.stream_time;
                    let task_handler = std::mem::replace(
                        &mut self.state.deserialization_handler,
                        self.state.global_deserialization_handler,
                    );
                    let applied =
                        run_source(&self.graph, &mut self.state, &source, record, timestamp);
                    // The global thread has no stream time of the task's,
                    // and a handler of its own.
                    self.state.stream_time = stream_time;
                    self.state.deserialization_handler = task_handler;
                    applied?;
                }
            }
        }
        Ok(())
    }

    /// Records waiting to be processed.
    pub fn buffered(&self) -> usize {
        self.queues.buffered()
    }

    /// Processes the next record, if any: the head record with the smallest
    /// timestamp. Returns whether a record was processed (never while the
    /// task is [restoring](Self::restoring)).
    pub fn process(&mut self) -> Result<bool, StreamsError> {
        self.check_open()?;
        if !self.restores.is_empty() {
            return Ok(false);
        }
        let Some((source, QueuedRecord { record, timestamp })) = self.queues.next() else {
            return Ok(false);
        };
        self.commit_needed = true;
        run_source(&self.graph, &mut self.state, source, record, timestamp).map(|()| true)
    }

    /// The task's stream time (-1 before the first record).
    pub fn stream_time(&self) -> i64 {
        self.state.stream_time
    }

    /// Fires the stream-time punctuators that are due. Returns whether any fired.
    pub fn maybe_punctuate_stream_time(&mut self) -> Result<bool, StreamsError> {
        let now = self.state.stream_time;
        self.punctuate(PunctuationType::StreamTime, now)
    }

    /// Fires the wall-clock punctuators that are due. Returns whether any fired.
    pub fn maybe_punctuate_wall_clock_time(&mut self) -> Result<bool, StreamsError> {
        let now = self.state.clock.now_ms();
        self.punctuate(PunctuationType::WallClockTime, now)
    }

    fn punctuate(&mut self, kind: PunctuationType, now: i64) -> Result<bool, StreamsError> {
        self.check_open()?;
        if !self.restores.is_empty() {
            return Ok(false);
        }
        fn queue(state: &mut TaskState, kind: PunctuationType) -> &mut PunctuationQueue {
            match kind {
                PunctuationType::StreamTime => &mut state.stream_punctuation,
                PunctuationType::WallClockTime => &mut state.wall_clock_punctuation,
            }
        }
        let mut fired = false;
        while let Some(schedule) = queue(&mut self.state, kind).take_due(now) {
            let (id, node) = (schedule.id, schedule.node);
            tracing::trace!(node = self.graph.name(node), ?kind, now, "punctuate");
            self.state.record_context.set_timestamp(now);
            if let Err(error) = self.graph.punctuate(&mut self.state, node, id, now) {
                // Kafka takes a schedule out while it runs and puts it back
                // only if it returned: a failed punctuator is not called again.
                queue(&mut self.state, kind).drop_failed(schedule);
                return Err(error);
            }
            queue(&mut self.state, kind).reschedule(schedule, now);
            self.state.metrics.punctuations += 1;
            // Set at once: a later punctuator's failure must not hide what
            // this one wrote from the next commit.
            self.commit_needed = true;
            fired = true;
        }
        Ok(fired)
    }

    /// Whether a processor asked for a commit since the last one.
    pub fn commit_requested(&self) -> bool {
        self.state.commit_requested
    }

    /// Lets every processor forward what it held back (cached updates), in
    /// topology order, then flushes the stores' caches, and returns the
    /// next offset to consume for every partition processed. As Kafka's
    /// task does, it does all this only if a record was processed or
    /// dropped, or a punctuator fired, since the last commit; otherwise
    /// there is nothing to commit, and it returns no offsets. Global
    /// stores' topics are not among them: like Kafka's global thread, a
    /// runtime reads them from the start into their stores, which have no
    /// changelog.
    ///
    /// As in Kafka Streams, a commit makes nothing durable in the stores
    /// themselves (RocksDB keeps its memtables): their changelogs hold
    /// every write, and a task that starts replays them.
    pub fn commit(&mut self) -> Result<BTreeMap<TopicPartition, i64>, StreamsError> {
        self.check_open()?;
        self.state.commit_requested = false;
        if !self.commit_needed {
            return Ok(BTreeMap::new());
        }
        self.flush_caches()?;
        self.commit_needed = false;
        self.state.metrics.commits += 1;
        Ok(self.queues.committable_offsets())
    }

    /// Writes the task's checkpoint if one is due (see
    /// [`TaskConfig::exactly_once`]): the offset each persistent store's
    /// contents reach in its changelog, so that a task starting from the
    /// same state directory restores only what follows. A runtime calls it
    /// once the output of a [`commit`](Self::commit) (and of a
    /// [`close`](Self::close)) is acknowledged, with `written` holding the
    /// offset of the last record the producer acknowledged in each
    /// partition (those that are not the task's changelogs are ignored);
    /// `enforce` for a clean close, which always checkpoints. The stores
    /// are made durable first (a closed task's were when it closed).
    /// Returns whether a checkpoint was written.
    ///
    /// A checkpoint may only name committed state: a task that processed
    /// records since its last commit refuses with
    /// [`StreamsError::UncommittedCheckpoint`].
    pub fn checkpoint(
        &mut self,
        written: &BTreeMap<TopicPartition, i64>,
        enforce: bool,
    ) -> Result<bool, StreamsError> {
        // What was written to a changelog still being restored (by this
        // task's predecessor on the thread) says nothing of what the store
        // holds: its position is where the restore got.
        let restores = &self.restores;
        self.checkpoint.acknowledged(
            written
                .iter()
                .filter(|(changelog, _)| restores.get(changelog).is_none()),
        );
        if !self.checkpoint.due(enforce) {
            return Ok(false);
        }
        if self.commit_needed {
            return Err(StreamsError::UncommittedCheckpoint(
                self.state.task_id.clone(),
            ));
        }
        if !self.closed {
            self.state.stores.flush_all()?;
        }
        self.checkpoint.write()?;
        Ok(true)
    }

    /// The values processors keep with the task's committed offsets, by
    /// key (Kafka's processor metadata: a windowed aggregation's last
    /// emission of final results, say). A runtime commits them with the
    /// offsets [`commit`](Self::commit) returns, and gives them to the next
    /// task of the same input partition as
    /// [`TaskConfig::processor_metadata`].
    pub fn processor_metadata(&self) -> &BTreeMap<String, i64> {
        &self.state.processor_metadata
    }

    /// The partition time of every input partition: the largest timestamp
    /// processed from it. A runtime commits them with the offsets
    /// [`commit`](Self::commit) returns (Kafka encodes them in the offsets'
    /// metadata), and gives them to the next task of the same input
    /// partition as [`TaskConfig::partition_times`], so that stream time
    /// does not go back across a restart.
    pub fn partition_times(&self) -> BTreeMap<TopicPartition, i64> {
        self.queues.partition_times()
    }

    /// Moves the records written since the last call to the end of `out`,
    /// in write order. Drivers keep `out` from call to call, so that
    /// collecting output allocates nothing once the buffers have grown.
    pub fn take_output(&mut self, out: &mut Vec<ProducerRecord>) {
        self.state.collector.take_into(out);
    }

    /// The task's counters.
    pub fn metrics(&self) -> TaskMetrics {
        TaskMetrics {
            // A closed task restores nothing more.
            records_to_restore: if self.closed {
                0
            } else {
                self.restores.remaining()
            },
            ..self.state.metrics
        }
    }

    /// The changelog partitions the task has still to restore before it
    /// processes or punctuates, and how far each got: a driver reads each
    /// from `next` to `end` and hands the records to
    /// [`restore`](Self::restore), or has the task read them all with
    /// [`restore_all`](Self::restore_all).
    pub fn restoring(&self) -> impl Iterator<Item = &ChangelogRestore> {
        self.restores.iter()
    }

    /// Applies `records` of `changelog`, one of the partitions the task is
    /// [restoring](Self::restoring), to its store; `reached` is the offset
    /// the read reached (past transaction markers and aborted records,
    /// which it does not hand over). Once every restore reached its end,
    /// the task processes.
    pub fn restore(
        &mut self,
        changelog: &TopicPartition,
        records: Vec<ConsumerRecord>,
        reached: i64,
    ) -> Result<(), StreamsError> {
        self.check_open()?;
        let not_restoring = |offset| StreamsError::NotRestoring {
            task: self.state.task_id.clone(),
            topic: changelog.topic.clone(),
            partition: changelog.partition,
            offset,
        };
        let Some(restore) = self.restores.get(changelog) else {
            return Err(not_restoring(reached));
        };
        let store = restore.store.as_str();
        let part = restore.next..restore.end;
        if let Some(outside) = records.iter().find(|record| !part.contains(&record.offset)) {
            return Err(not_restoring(outside.offset));
        }
        // A read may reach past the end (records the task wrote since);
        // the restore ends there.
        let reached = reached.min(restore.end);
        let records = changelog_records(store, records)?;
        self.state.stores.restore(store, &records)?;
        self.state.metrics.restored_records += records.len() as u64;
        self.checkpoint.reached(changelog, reached);
        if self
            .restores
            .advance(changelog, reached, records.len() as u64)
        {
            tracing::info!(task = %self.state.task_id, changelog = %changelog.topic, partition = changelog.partition, end = reached, "restored a store from its changelog");
            if self.restores.is_empty() {
                self.restored()?;
            }
        }
        Ok(())
    }

    /// Restores everything the task has left to restore at once, with the
    /// reader of [`TaskConfig::restore_from`]: what a driver does that has
    /// nothing else to do meanwhile.
    pub fn restore_all(&mut self) -> Result<(), StreamsError> {
        let Some(reader) = self.reader.take() else {
            return Ok(());
        };
        let restores: Vec<ChangelogRestore> = self.restores.iter().cloned().collect();
        let read = restores.iter().try_for_each(|restore| {
            let changelog = &restore.changelog;
            reader.read(
                &changelog.topic,
                changelog.partition,
                restore.next,
                restore.end,
                &mut |batch| {
                    let reached = batch.last().map_or(restore.next, |last| last.offset + 1);
                    self.restore(changelog, batch, reached)
                },
            )?;
            // The read reached the end, past any markers.
            if self.restores.get(changelog).is_some() {
                self.restore(changelog, Vec::new(), restore.end)?;
            }
            Ok(())
        });
        self.reader = Some(reader);
        read
    }

    /// Every store is restored: the processors start (as in Kafka, only
    /// now, so that they find their stores as they were); and under
    /// at-least-once, what was restored need not be restored again after a
    /// crash.
    fn restored(&mut self) -> Result<(), StreamsError> {
        for node in 0..self.graph.len() {
            if !self.global_nodes.contains(&node) {
                // A node that failed to start is closed all the same.
                self.started = node + 1;
                self.graph.init(&mut self.state, node)?;
            }
        }
        self.started = self.graph.len();
        tracing::debug!(task = %self.state.task_id, nodes = self.graph.len(), "task initialized");
        if self.checkpoint.due_after_restore() {
            self.state.stores.flush_all()?;
            // Without it, the next start restores more: no failure.
            if let Err(error) = self.checkpoint.write() {
                tracing::warn!(task = %self.state.task_id, %error, "checkpoint not written");
            }
        }
        Ok(())
    }

    /// A store of this task, by name and type, from outside the topology;
    /// a timestamped store is also handed out as its plain, read-only view
    /// (see [`StoreHandle::view_of`](crate::state::StoreHandle::view_of)).
    pub fn state_store<S: crate::state::StoreHandle + Clone>(
        &self,
        name: &str,
    ) -> Result<S, StreamsError> {
        self.state.stores.lookup(name)
    }

    /// Forwards held-back updates and flushes the stores' caches, closes
    /// every node, then closes the stores, which makes their contents
    /// durable.
    pub fn close(&mut self) -> Result<(), StreamsError> {
        if self.closed {
            return Ok(());
        }
        self.closed = true;
        self.flush_caches()?;
        for node in self.started_nodes() {
            self.graph.close(&mut self.state, node)?;
        }
        self.state.stores.close_all()
    }

    /// Whether [`close`](Self::close) was called: the task takes no more
    /// records and does no more work.
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// A closed task's processors and stores are closed: it takes no more
    /// records and does no more work.
    fn check_open(&self) -> Result<(), StreamsError> {
        if self.closed {
            return Err(StreamsError::TaskClosed(self.state.task_id.clone()));
        }
        Ok(())
    }

    /// Every node's flush hook in the order the nodes were added (parents
    /// first, in any topology the DSL builds), so updates a cache releases
    /// reach the caches below it before those flush; then the stores'
    /// caches.
    fn flush_caches(&mut self) -> Result<(), StreamsError> {
        for node in self.started_nodes() {
            self.graph.flush(&mut self.state, node)?;
        }
        self.state.stores.flush_caches()
    }

    /// The nodes that were initialized (or tried to be): the global
    /// stores', and the others as far as they were once the task restored.
    fn started_nodes(&self) -> Vec<NodeId> {
        (0..self.graph.len())
            .filter(|node| *node < self.started || self.global_nodes.contains(node))
            .collect()
    }
}

/// What opening a task's stores takes.
struct StoreOpening<'a> {
    topology: &'a Topology,
    /// The task's nodes (indices into the topology's).
    members: &'a [usize],
    /// The task's node ids, by name.
    ids: &'a HashMap<&'a str, NodeId>,
    context: &'a StoreContext,
    restore_from: Option<&'a dyn ChangelogReader>,
}

impl StoreOpening<'_> {
    /// Builds the stores the task's processors use and works out what the
    /// logged ones restore, persistent ones from where `checkpoint` says.
    /// Returns them with their restores, or why the task's state cannot be
    /// trusted (the stores built so far closed again, so that it can be
    /// wiped).
    fn open(
        &self,
        checkpoint: &mut TaskCheckpoint,
    ) -> Result<Result<(StoreRegistry, PendingRestores), String>, StreamsError> {
        let mut stores = StoreRegistry::default();
        let mut restores = PendingRestores::default();
        for store in &self.topology.stores {
            // Any processor may read a global store, connected or not.
            let users: Vec<NodeId> = self
                .members
                .iter()
                .filter(|&&member| {
                    matches!(&self.topology.nodes[member].kind,
                        NodeKind::Processor { stores } if store.global || stores.contains(&store.name))
                })
                .map(|&member| self.ids[self.topology.nodes[member].name.as_str()])
                .collect();
            if users.is_empty() {
                continue;
            }
            let handle = store.builder.build_erased(self.context)?;
            let planned =
                self.plan_restore(store, handle.persistent(), checkpoint, &mut restores)?;
            stores.register(store.name.clone(), users, handle);
            if let Err(reason) = planned {
                stores.close_all()?;
                return Ok(Err(reason));
            }
        }
        Ok(Ok((stores, restores)))
    }

    /// Adds what `store` restores from its changelog to `restores`, if it
    /// logs and there is a reader, and has `checkpoint` track it if it is
    /// `persistent`. Fails with why the state cannot be trusted: under
    /// exactly-once a persistent store's state without a checkpoint, or a
    /// checkpointed offset outside the changelog (deleted and created
    /// again, or cut by retention).
    fn plan_restore(
        &self,
        store: &StoreDef,
        persistent: bool,
        checkpoint: &mut TaskCheckpoint,
        restores: &mut PendingRestores,
    ) -> Result<Result<(), String>, StreamsError> {
        // Global stores have no changelog (the builder rejects one).
        if store.builder.changelog().is_none() {
            return Ok(Ok(()));
        }
        let changelog = TopicPartition::new(
            self.context.changelog_topic(&store.name),
            self.context.partition,
        );
        let start = if persistent {
            checkpoint.restore_start(&changelog)
        } else {
            RestoreStart::Beginning
        };
        let Some(reader) = self.restore_from else {
            // Nothing to restore from: the state is all there is, and its
            // contents reach what the checkpoint says.
            if persistent {
                let position = match start {
                    RestoreStart::Checkpointed(offset) => Some(offset),
                    _ => None,
                };
                checkpoint.track(changelog, position);
            }
            return Ok(Ok(()));
        };
        let (first, end) = reader.offsets(&changelog.topic, changelog.partition)?;
        let checkpointed = matches!(start, RestoreStart::Checkpointed(_));
        let from = match start {
            RestoreStart::Checkpointed(offset) if (first..=end).contains(&offset) => offset,
            RestoreStart::Checkpointed(offset) => {
                return Ok(Err(format!(
                    "the checkpoint names offset {offset} of {}-{}, which holds offsets {first} to {end}",
                    changelog.topic, changelog.partition
                )))
            }
            RestoreStart::Beginning => first,
            RestoreStart::Corrupted(reason) => return Ok(Err(reason)),
        };
        if persistent {
            checkpoint.track(changelog.clone(), Some(from));
        }
        if from < end {
            restores.add(ChangelogRestore {
                changelog,
                store: store.name.clone(),
                restored: 0,
                next: from,
                end,
                checkpointed,
            });
        }
        Ok(Ok(()))
    }
}

/// A store's changelog as read back, in the form its restore takes; a
/// record without a key cannot have been written by the store.
fn changelog_records(
    store: &str,
    records: Vec<ConsumerRecord>,
) -> Result<Vec<ChangelogRecord>, StreamsError> {
    records
        .into_iter()
        .map(|record| {
            let key = record.key.ok_or_else(|| StreamsError::Store {
                store: store.to_owned(),
                source: state_stores::StoreError::Corrupt {
                    store: store.to_owned(),
                    reason: format!(
                        "changelog record at offset {} of `{}` has no key",
                        record.offset, record.topic
                    ),
                },
            })?;
            Ok(ChangelogRecord {
                key,
                value: record.value,
                timestamp: record.timestamp,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Headers;

    fn record(key: Option<&[u8]>, value: Option<&[u8]>) -> ConsumerRecord {
        ConsumerRecord {
            topic: "app-s-changelog".into(),
            partition: 0,
            offset: 7,
            timestamp: 3,
            key: key.map(<[u8]>::to_vec),
            value: value.map(<[u8]>::to_vec),
            headers: Headers::new(),
        }
    }

    #[test]
    fn changelog_records_keep_keys_values_tombstones_and_timestamps() -> Result<(), StreamsError> {
        let records = changelog_records(
            "s",
            vec![record(Some(b"k"), Some(b"v")), record(Some(b"k"), None)],
        )?;
        assert_eq!(
            records,
            [
                ChangelogRecord {
                    key: b"k".to_vec(),
                    value: Some(b"v".to_vec()),
                    timestamp: 3
                },
                ChangelogRecord {
                    key: b"k".to_vec(),
                    value: None,
                    timestamp: 3
                },
            ]
        );
        Ok(())
    }

    /// A record dropped on arrival for its timestamp moves the position a
    /// commit stores even when nothing was processed since the last
    /// commit, as Kafka's task commits a position past skipped records;
    /// with nothing at all since the last commit, a commit stores nothing.
    #[test]
    fn a_commit_covers_records_dropped_since_the_last_one() -> Result<(), StreamsError> {
        use crate::serde::BytesSerde;
        use crate::topology::{
            LogAndSkipOnInvalidTimestamp, SinkOptions, SourceOptions, TopologyBuilder,
        };
        let topology = TopologyBuilder::new()
            .add_source(
                "in",
                &["in"],
                SourceOptions::new(BytesSerde, BytesSerde)
                    .timestamp_extractor(LogAndSkipOnInvalidTimestamp),
            )
            .add_sink(
                "out",
                "out",
                SinkOptions::new(BytesSerde, BytesSerde),
                &["in"],
            )
            .build()?;
        let mut task = StreamTask::new(
            &topology,
            TaskConfig::new("app", Rc::new(crate::engine::SystemClock)),
        )?;
        let input = |offset, timestamp| ConsumerRecord {
            topic: "in".into(),
            partition: 0,
            offset,
            timestamp,
            key: Some(b"k".to_vec()),
            value: Some(b"v".to_vec()),
            headers: Headers::new(),
        };
        let position = |offset| BTreeMap::from([(TopicPartition::new("in", 0), offset)]);
        task.add_records([input(0, 1)])?;
        assert!(task.process()?);
        assert_eq!(task.commit()?, position(1));
        assert_eq!(task.commit()?, BTreeMap::new(), "nothing to commit");
        task.add_records([input(1, -1)])?;
        assert!(!task.process()?);
        assert_eq!(task.commit()?, position(2));
        Ok(())
    }

    #[test]
    fn a_changelog_record_without_a_key_is_a_typed_error() {
        let result = changelog_records("s", vec![record(None, Some(b"v"))]);
        assert!(
            matches!(
                &result,
                Err(StreamsError::Store { store, source: state_stores::StoreError::Corrupt { reason, .. } })
                    if store == "s" && reason.contains("offset 7 of `app-s-changelog`")
            ),
            "{result:?}"
        );
    }
}
