//! The tasks of a stream thread: one per sub-topology and input partition
//! the consumer group assigned, each a [`StreamTask`].

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::rc::Rc;
use std::sync::Arc;
use std::time::Instant;

use rdkafka::{Offset, TopicPartitionList};

use super::clients::{base_config, isolation_level};
use super::commit_metadata::CommitMetadata;
use super::config::{ProcessingGuarantee, StreamsConfig};
use super::error::client;
use super::partition_reader::{PartitionRead, PartitionReader};
use super::restore_listener::StateRestoreListener;
use super::state_dir::{StateDirectories, TaskDirectory};
use super::topics::TopicLayout;
use crate::engine::{
    ChangelogReader, ChangelogRestore, StreamTask, SystemClock, TaskConfig, TaskMetrics,
};
use crate::error::StreamsError;
use crate::record::{ConsumerRecord, ProducerRecord, TopicPartition};
use crate::topology::Topology;

/// A task's id: its sub-topology and partition (`<sub>_<partition>`).
pub(crate) type TaskId = (usize, i32);

/// How long a starting task waits for another thread of the instance to
/// let its state directory go.
const STATE_DIR_WAIT: std::time::Duration = std::time::Duration::from_secs(60);

/// How long a restore may go without reading anything before it fails.
const RESTORE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// A running task, and where it is in each partition of the global
/// stores' topics.
struct ActiveTask {
    task: StreamTask,
    /// Its state directory, held while the task runs (and until it
    /// checkpoints after closing); dropped after the task, whose stores
    /// are closed by then.
    _directory: Option<TaskDirectory>,
    /// The next offset the task's global stores take from each partition
    /// (what it loaded when it started, then what it was given since).
    global_positions: HashMap<(String, i32), i64>,
}

/// A checkpoint that could not be written is no failure, as in Kafka
/// Streams: without one the task's next start restores more, or wipes.
fn tolerate_unwritten(checkpointed: Result<bool, StreamsError>) -> Result<(), StreamsError> {
    match checkpointed {
        Err(error @ StreamsError::TaskState { .. }) => {
            tracing::warn!(%error, "checkpoint not written");
            Ok(())
        }
        other => other.map(drop),
    }
}

/// A changelog partition being read into a task's store.
struct ChangelogReading {
    task: TaskId,
    changelog: TopicPartition,
    read: PartitionRead,
}

impl ChangelogReading {
    /// Whether this read goes on with task `task`'s `restore`.
    fn continues(&self, task: TaskId, restore: &ChangelogRestore) -> bool {
        self.task == task
            && self.changelog == restore.changelog
            && self.read.reached() == restore.next
            && self.read.end() == restore.end
    }
}

/// The running tasks, and the counters of those already closed.
pub(crate) struct Tasks {
    topology: Topology,
    config: StreamsConfig,
    layout: Rc<TopicLayout>,
    directories: Arc<StateDirectories>,
    /// Told of the progress of the restores.
    restore_listener: Option<Arc<dyn StateRestoreListener>>,
    /// Reads the changelogs the tasks restore from their checkpoints.
    reader: Rc<PartitionReader>,
    /// Reads the changelogs the tasks restore from their start, and the
    /// global stores' topics.
    reader_skipping_deleted: Rc<PartitionReader>,
    active: BTreeMap<TaskId, ActiveTask>,
    /// The changelog partition being restored, if any.
    reading: Option<ChangelogReading>,
    /// Tasks closed cleanly, holding their directories until their output
    /// is durable and they checkpoint (see [`checkpoint`](Self::checkpoint)).
    closed_tasks: Vec<ActiveTask>,
    /// The counters of closed tasks, so totals never go back.
    closed: TaskMetrics,
}

impl Tasks {
    pub(crate) fn new(
        topology: Topology,
        config: StreamsConfig,
        layout: TopicLayout,
        directories: Arc<StateDirectories>,
        restore_listener: Option<Arc<dyn StateRestoreListener>>,
    ) -> Self {
        // Readers of partitions, with this application's isolation.
        let mut client = base_config(&config);
        client.set("isolation.level", isolation_level(&config));
        let reader = |client| PartitionReader::new(&config.application_id, client, RESTORE_TIMEOUT);
        let reader_skipping_deleted = Rc::new(reader(client.clone()).skipping_deleted());
        let reader = reader(client);
        Self {
            reader: Rc::new(reader),
            reader_skipping_deleted,
            topology,
            config,
            layout: Rc::new(layout),
            directories,
            restore_listener,
            active: BTreeMap::new(),
            reading: None,
            closed_tasks: Vec::new(),
            closed: TaskMetrics::default(),
        }
    }

    /// The tasks that `assignment` (partitions of source topics) makes.
    pub(crate) fn ids_of(&self, assignment: &TopicPartitionList) -> BTreeSet<TaskId> {
        assignment
            .elements()
            .iter()
            .filter_map(|element| {
                let sub = self.layout.readers.get(element.topic())?;
                Some((*sub, element.partition()))
            })
            .collect()
    }

    /// Creates task `id`, restoring its stores from their changelogs, and
    /// starting its stream time from what its predecessor committed
    /// (`committed`: the group's offsets and metadata of its partitions).
    pub(crate) fn create(
        &mut self,
        id: TaskId,
        committed: &TopicPartitionList,
    ) -> Result<(), StreamsError> {
        let (sub, partition) = id;
        let mut config = TaskConfig::new(self.config.application_id.clone(), Rc::new(SystemClock));
        config.subtopologies = vec![sub];
        config.partition = partition;
        config.deserialization_handler = self.config.deserialization_handler;
        config.exactly_once = self.config.processing_guarantee == ProcessingGuarantee::ExactlyOnce;
        let directory = self.take_directory(id)?;
        config.state_dir = directory.as_ref().map(|held| held.path().to_owned());
        let layout = Rc::clone(&self.layout);
        config.partition_count = Box::new(move |topic| layout.partitions.get(topic).copied());
        config.restore_from = Some(Box::new(Rc::clone(&self.reader)));
        for element in committed.elements() {
            if self.layout.readers.get(element.topic()) != Some(&sub)
                || element.partition() != partition
            {
                continue;
            }
            let Some(metadata) = CommitMetadata::decode(element.metadata()) else {
                continue;
            };
            config.partition_times.insert(
                TopicPartition::new(element.topic(), partition),
                metadata.partition_time,
            );
            config.processor_metadata.extend(metadata.processors);
        }
        let _span =
            tracing::info_span!("create_task", task = %format!("{sub}_{partition}")).entered();
        let mut task = StreamTask::new(&self.topology, config)?;
        let to_restore = task.metrics().records_to_restore;
        tracing::info!(to_restore, "task created");
        if let Some(listener) = &self.restore_listener {
            for restore in task.restoring() {
                let ChangelogRestore {
                    changelog,
                    store,
                    next,
                    end,
                    ..
                } = restore;
                listener.on_restore_start(changelog, store, *next, *end);
            }
        }
        // Its global stores are loaded before it processes anything, as
        // Kafka's global thread loads them before stream threads start.
        let mut global_positions = HashMap::new();
        let reader = &self.reader_skipping_deleted;
        for (topic, partitions) in &self.layout.globals {
            for partition in 0..*partitions {
                let (start, end) = reader.offsets(topic, partition)?;
                reader.read(topic, partition, start, end, &mut |batch| {
                    task.add_records(batch)
                })?;
                global_positions.insert((topic.clone(), partition), end);
            }
        }
        self.active.insert(
            id,
            ActiveTask {
                task,
                _directory: directory,
                global_positions,
            },
        );
        Ok(())
    }

    /// Whether a task is restoring its stores.
    pub(crate) fn restoring(&self) -> bool {
        self.active
            .values()
            .any(|active| active.task.restoring().next().is_some())
    }

    /// The tasks restoring their stores.
    pub(crate) fn restoring_ids(&self) -> Vec<TaskId> {
        let restoring = self.active.iter();
        restoring
            .filter(|(_, active)| active.task.restoring().next().is_some())
            .map(|(id, _)| *id)
            .collect()
    }

    /// The input partitions of the tasks `ids`.
    pub(crate) fn partitions_of(&self, ids: &[TaskId]) -> Result<TopicPartitionList, StreamsError> {
        let mut partitions = TopicPartitionList::new();
        for (topic, sub) in &self.layout.readers {
            for &(_, partition) in ids.iter().filter(|(task_sub, _)| task_sub == sub) {
                partitions
                    .add_partition_offset(topic, partition, Offset::Invalid)
                    .map_err(client("listing a task's partitions"))?;
            }
        }
        Ok(partitions)
    }

    /// Restores the restoring tasks' stores until `deadline`: one
    /// changelog partition after another, a batch at a time, so that the
    /// thread goes back to its consumer between batches. Returns the tasks
    /// that finished restoring.
    pub(crate) fn restore(&mut self, deadline: Instant) -> Result<Vec<TaskId>, StreamsError> {
        let mut finished = Vec::new();
        loop {
            let next = self.active.iter().find_map(|(id, active)| {
                let restore = active.task.restoring().next()?;
                Some((*id, restore.clone()))
            });
            let Some((id, restore)) = next else {
                self.reading = None;
                return Ok(finished);
            };
            let changelog = &restore.changelog;
            // A read left by a task that closed, or that is not where the
            // task's restore is (a new task of the same id), goes.
            let reading = match self.reading.take() {
                Some(reading) if reading.continues(id, &restore) => reading,
                _ => {
                    let reader = match restore.checkpointed {
                        true => &self.reader,
                        // Records deleted from the start meanwhile are
                        // gone for the store too.
                        false => &self.reader_skipping_deleted,
                    };
                    ChangelogReading {
                        task: id,
                        changelog: changelog.clone(),
                        read: reader.open(
                            &changelog.topic,
                            changelog.partition,
                            restore.next,
                            restore.end,
                        )?,
                    }
                }
            };
            let reading = self.reading.insert(reading);
            let batch = reading.read.next_batch(deadline)?;
            let (reached, done) = (reading.read.reached(), reading.read.done());
            let Some(active) = self.active.get_mut(&id) else {
                return Ok(finished);
            };
            let (records, batch_end) = (batch.len() as u64, batch.last().map(|r| r.offset));
            active.task.restore(changelog, batch, reached)?;
            if let Some(listener) = &self.restore_listener {
                if let Some(batch_end) = batch_end {
                    listener.on_batch_restored(changelog, &restore.store, batch_end, records);
                }
                let still = active.task.restoring().any(|r| r.changelog == *changelog);
                if !still {
                    let total = restore.restored + records;
                    listener.on_restore_end(changelog, &restore.store, total);
                }
            }
            if active.task.restoring().next().is_none() {
                tracing::info!(task = %format!("{}_{}", id.0, id.1), restored = active.task.metrics().restored_records, "task restored");
                finished.push(id);
            }
            if !done || Instant::now() >= deadline {
                return Ok(finished);
            }
            self.reading = None;
        }
    }

    /// Where the global stores' topics are to be read from for the running
    /// tasks: the smallest offset a task still needs, per partition; `None`
    /// without tasks.
    pub(crate) fn global_start(&self) -> Option<Vec<((String, i32), i64)>> {
        if self.active.is_empty() {
            return None;
        }
        let mut start: BTreeMap<(String, i32), i64> = BTreeMap::new();
        for active in self.active.values() {
            for (partition, &next) in &active.global_positions {
                start
                    .entry(partition.clone())
                    .and_modify(|first| *first = (*first).min(next))
                    .or_insert(next);
            }
        }
        Some(start.into_iter().collect())
    }

    /// Hands `record`, of a global store's topic, to every task that did
    /// not load it when it started.
    pub(crate) fn add_global(&mut self, record: &ConsumerRecord) -> Result<(), StreamsError> {
        let partition = (record.topic.to_string(), record.partition);
        for active in self.active.values_mut() {
            let next = active
                .global_positions
                .entry(partition.clone())
                .or_insert(0);
            if record.offset >= *next {
                *next = record.offset + 1;
                active.task.add_records([record.clone()])?;
            }
        }
        Ok(())
    }

    /// The task's state directory, once no other thread of the instance
    /// holds it (see [`StateDirectories::take`]); `None` without a state
    /// directory.
    fn take_directory(
        &self,
        (sub, partition): TaskId,
    ) -> Result<Option<TaskDirectory>, StreamsError> {
        let Some(root) = &self.config.state_dir else {
            return Ok(None);
        };
        let path = root
            .join(&self.config.application_id)
            .join(format!("{sub}_{partition}"));
        Ok(Some(self.directories.take(path, STATE_DIR_WAIT)?))
    }

    /// Hands `record` to the task of its topic and partition. A record of
    /// a partition without a task (one fetched just before a revocation)
    /// is left: the partition's next owner reads it from the committed
    /// offset.
    pub(crate) fn add(&mut self, record: ConsumerRecord) -> Result<(), StreamsError> {
        let Some(&sub) = self.layout.readers.get(&*record.topic) else {
            return Err(StreamsError::UnknownTopic(record.topic.to_string()));
        };
        match self.active.get_mut(&(sub, record.partition)) {
            Some(active) => active.task.add_records([record]),
            None => {
                tracing::debug!(topic = %record.topic, partition = record.partition, "record of an unassigned partition left");
                Ok(())
            }
        }
    }

    /// Processes every buffered record of every task, fires the
    /// punctuators that are due, and moves what the tasks wrote to `out`.
    /// Returns whether a task asked for a commit.
    pub(crate) fn process(&mut self, out: &mut Vec<ProducerRecord>) -> Result<bool, StreamsError> {
        let mut commit_requested = false;
        for ActiveTask { task, .. } in self.active.values_mut() {
            while task.process()? {
                task.maybe_punctuate_stream_time()?;
            }
            task.maybe_punctuate_wall_clock_time()?;
            task.take_output(out);
            commit_requested |= task.commit_requested();
        }
        Ok(commit_requested)
    }

    /// Commits every task: their held-back output goes to `out`, and the
    /// offsets to commit (with their metadata) are returned.
    pub(crate) fn commit(
        &mut self,
        out: &mut Vec<ProducerRecord>,
    ) -> Result<TopicPartitionList, StreamsError> {
        let mut offsets = TopicPartitionList::new();
        for ActiveTask { task, .. } in self.active.values_mut() {
            let committed = task.commit()?;
            task.take_output(out);
            let times = task.partition_times();
            for (partition, offset) in committed {
                let metadata = CommitMetadata {
                    partition_time: times.get(&partition).copied().unwrap_or(-1),
                    processors: task.processor_metadata().clone(),
                };
                offsets
                    .add_partition_offset(
                        &partition.topic,
                        partition.partition,
                        Offset::Offset(offset),
                    )
                    .map_err(client("listing offsets to commit"))?;
                if let Some(mut element) =
                    offsets.find_partition(&partition.topic, partition.partition)
                {
                    element.set_metadata(metadata.encode());
                }
            }
        }
        Ok(offsets)
    }

    /// Closes every task, moving what closing wrote to `out`. A task that
    /// closed cleanly keeps its directory until it checkpoints, or is
    /// forgotten.
    pub(crate) fn close_all(&mut self, out: &mut Vec<ProducerRecord>) -> Result<(), StreamsError> {
        let mut first_error = None;
        self.reading = None;
        for (_, mut active) in std::mem::take(&mut self.active) {
            let closed = active.task.close();
            active.task.take_output(out);
            self.closed += active.task.metrics();
            match closed {
                Ok(()) => self.closed_tasks.push(active),
                // Its stores are closed (or failed to) before its directory
                // is let go.
                Err(error) => {
                    first_error.get_or_insert(error);
                }
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    /// Once the tasks' output up to `acknowledged` (the last offset the
    /// producer acknowledged in each changelog partition) is durable with
    /// their committed offsets: the running tasks checkpoint if one is due,
    /// those closed cleanly always, and let their directories go.
    pub(crate) fn checkpoint(
        &mut self,
        acknowledged: &BTreeMap<TopicPartition, i64>,
    ) -> Result<(), StreamsError> {
        for active in self.active.values_mut() {
            tolerate_unwritten(active.task.checkpoint(acknowledged, false))?;
        }
        for mut closed in std::mem::take(&mut self.closed_tasks) {
            tolerate_unwritten(closed.task.checkpoint(acknowledged, true))?;
        }
        Ok(())
    }

    /// Lets the tasks closed since the last checkpoint go without one:
    /// their output may never be durable.
    pub(crate) fn forget_closed(&mut self) {
        self.closed_tasks.clear();
    }

    /// The number of running tasks.
    pub(crate) fn len(&self) -> usize {
        self.active.len()
    }

    /// The counters of every task this thread ran.
    pub(crate) fn metrics(&self) -> TaskMetrics {
        self.active
            .values()
            .fold(self.closed, |total, active| total + active.task.metrics())
    }
}
