//! The stream thread: poll, process, send, commit, and follow the consumer
//! group's rebalances.
//!
//! A commit makes what was processed durable in the order that keeps
//! acknowledged data safe: the tasks flush their caches, everything they
//! wrote is sent, and only then are their input offsets committed. At
//! least once, the offsets are committed once the producer has every
//! record acknowledged; exactly once, output, changelog writes and offsets
//! commit in one transaction.

use std::sync::Arc;
use std::time::{Duration, Instant};

use rdkafka::admin::AdminClient;
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::{Producer, ThreadedProducer};
use rdkafka::{Offset, TopicPartitionList};

use super::clients::{
    base_config, base_record, consumer_record, isolation_level, DeliveryContext, GroupContext,
    Rebalance, STATISTICS_INTERVAL_MS,
};
use super::config::{ProcessingGuarantee, StreamsConfig};
use super::error::{client, RuntimeError};
use super::purge::RepartitionPurge;
use super::tasks::Tasks;
use super::topics;
use super::{StreamsState, ThreadSlot};
use crate::error::StreamsError;
use crate::record::ProducerRecord;
use crate::topology::{OffsetReset, Topology};

/// How long a flush, a commit or a transaction call may take.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(30);

/// At most this many records are polled before they are processed, which
/// bounds what the tasks buffer.
const MAX_POLL_RECORDS: usize = 1_000;

/// Runs a stream thread of the application until `slot` says stop, or
/// until it fails.
pub(crate) fn run(
    topology: Topology,
    config: StreamsConfig,
    slot: &ThreadSlot,
) -> Result<(), StreamsError> {
    let _span = tracing::info_span!(
        "stream_thread",
        application = %config.application_id,
        thread = slot.index + 1
    )
    .entered();
    let admin: AdminClient<DefaultClientContext> = base_config(&config)
        .create()
        .map_err(client("creating an admin client"))?;
    let layout = topics::prepare(&topology, &config, &admin)?;
    let mut thread = StreamThread::new(topology, config, layout, admin, slot)?;
    let result = thread.run();
    let closed = thread.close(result.is_ok());
    result.and(closed)
}

struct StreamThread<'a> {
    consumer: BaseConsumer<GroupContext>,
    /// Reads every partition of the global stores' topics, outside the
    /// group (when the topology has global stores).
    global_consumer: Option<BaseConsumer>,
    producer: ThreadedProducer<DeliveryContext>,
    tasks: Tasks,
    topology: Topology,
    config: StreamsConfig,
    slot: &'a ThreadSlot,
    purge: RepartitionPurge,
    /// What the tasks wrote, sent at once and kept to reuse its buffer.
    output: Vec<ProducerRecord>,
    last_commit: Instant,
    last_state_cleanup: Instant,
    /// Whether a transaction is open (exactly once).
    in_transaction: bool,
}

impl<'a> StreamThread<'a> {
    fn new(
        topology: Topology,
        config: StreamsConfig,
        layout: topics::TopicLayout,
        admin: AdminClient<DefaultClientContext>,
        slot: &'a ThreadSlot,
    ) -> Result<Self, StreamsError> {
        let exactly_once = config.processing_guarantee == ProcessingGuarantee::ExactlyOnce;
        let consumer_config = group_consumer_config(&config, !layout.globals.is_empty());
        let consumer: BaseConsumer<GroupContext> = consumer_config
            .create_with_context(GroupContext::default())
            .map_err(client("creating the consumer"))?;
        let sources: Vec<&String> = layout.readers.keys().collect();
        let sources: Vec<&str> = sources.iter().map(|topic| topic.as_str()).collect();
        consumer
            .subscribe(&sources)
            .map_err(client("subscribing to the source topics"))?;

        let global_consumer = global_consumer(&config, &layout.globals)?;
        let purge = RepartitionPurge::new(
            admin,
            layout.repartition.clone(),
            config.repartition_purge_interval,
        );

        let mut producer_config = base_config(&config);
        producer_config
            .set("acks", "all")
            .set("enable.idempotence", "true")
            // The Java client's partitioner: records of a key land where
            // Kafka Streams (and any Java producer) would put them, which
            // co-partitioning with topics they write depends on.
            .set("partitioner", "murmur2_random");
        if exactly_once {
            let transactional_id = format!(
                "{}-{}-{}-{}",
                config.application_id,
                std::process::id(),
                slot.index + 1,
                unique_suffix()
            );
            producer_config
                .set("transactional.id", transactional_id)
                // Kafka Streams' setting: a crashed instance's open
                // transaction holds back read-committed consumers (this
                // application's next owner of the partitions too) until
                // it times out.
                .set("transaction.timeout.ms", "10000");
        }
        let producer: ThreadedProducer<DeliveryContext> = producer_config
            .create_with_context(DeliveryContext::new(
                topology.changelog_topics(&config.application_id),
            ))
            .map_err(client("creating the producer"))?;
        if exactly_once {
            producer
                .init_transactions(CLIENT_TIMEOUT)
                .map_err(client("initializing transactions"))?;
        }
        Ok(Self {
            consumer,
            global_consumer,
            producer,
            tasks: Tasks::new(
                topology.clone(),
                config.clone(),
                layout,
                Arc::clone(&slot.shared.directories),
                slot.shared.restore_listener.clone(),
            ),
            topology,
            config,
            slot,
            purge,
            output: Vec::new(),
            last_commit: Instant::now(),
            last_state_cleanup: Instant::now(),
            in_transaction: false,
        })
    }

    fn run(&mut self) -> Result<(), StreamsError> {
        while !self.slot.stop_requested() {
            match self.run_once() {
                Ok(()) => {}
                Err(error) => match migration(&error) {
                    Some(migration) => self.recover_tasks(&error, migration)?,
                    None => return Err(error),
                },
            }
            self.slot
                .publish(&self.tasks, self.consumer.context().lag());
        }
        Ok(())
    }

    /// One round: poll, follow rebalances, restore, process, send, maybe
    /// commit.
    fn run_once(&mut self) -> Result<(), StreamsError> {
        self.poll_global()?;
        self.poll()?;
        self.rebalance()?;
        self.restore()?;
        let commit_requested = self.tasks.process(&mut self.output)?;
        self.send()?;
        if commit_requested || self.last_commit.elapsed() >= self.config.commit_interval() {
            self.commit()?;
        }
        self.maybe_clean_state_dirs();
        Ok(())
    }

    /// Deletes the state directories of tasks the instance no longer runs,
    /// every state cleanup delay (see
    /// [`StreamsConfig::with_state_cleanup_delay`]); the first thread does
    /// it for the instance. A failure only delays it.
    fn maybe_clean_state_dirs(&mut self) {
        let Some(root) = &self.config.state_dir else {
            return;
        };
        let delay = self.config.state_cleanup_delay;
        if self.slot.index != 0 || self.last_state_cleanup.elapsed() < delay {
            return;
        }
        self.last_state_cleanup = Instant::now();
        let app_dir = root.join(&self.config.application_id);
        if let Err(error) = self.slot.shared.directories.clean(&app_dir, delay) {
            tracing::warn!(%error, "cleaning the state directory");
        }
    }

    /// The tasks are no longer this thread's to commit (Kafka's
    /// `TaskMigratedException`): they close without committing. If the
    /// group moved on without this member, the revocation librdkafka
    /// delivers next takes their partitions, and the assignment after it
    /// gives back what is this member's. If only the transaction had to
    /// abort, the member still owns them: the tasks start again at once
    /// from the group's committed offsets.
    fn recover_tasks(
        &mut self,
        error: &StreamsError,
        migration: Migration,
    ) -> Result<(), StreamsError> {
        tracing::warn!(%error, tasks = self.tasks.len(), ?migration, "tasks migrated: closing them without committing");
        self.slot.set_state(StreamsState::Rebalancing);
        self.close_dirty()?;
        if migration == Migration::GroupMoved || self.consumer.assignment_lost() {
            return Ok(());
        }
        let assignment = self
            .consumer
            .assignment()
            .map_err(client("reading the assignment"))?;
        if assignment.count() > 0 {
            let positions = self.start_tasks(&assignment)?;
            let rewound = self
                .consumer
                .seek_partitions(positions, CLIENT_TIMEOUT)
                .map_err(client("rewinding to the committed offsets"))?;
            for element in rewound.elements() {
                element
                    .error()
                    .map_err(client("rewinding to the committed offsets"))?;
            }
            self.store_committed(&rewound);
            self.pause_restoring(&assignment)?;
            self.align_global_consumer()?;
        }
        Ok(())
    }

    /// Polls records into the tasks: waits up to the poll timeout for the
    /// first (unless tasks are restoring: then the restore waits), then
    /// takes what has arrived.
    fn poll(&mut self) -> Result<(), StreamsError> {
        let mut timeout = if self.tasks.restoring() {
            Duration::ZERO
        } else {
            self.config.poll_timeout
        };
        for _ in 0..MAX_POLL_RECORDS {
            match self.consumer.poll(timeout) {
                None => break,
                Some(Ok(message)) => self.tasks.add(consumer_record(&message))?,
                Some(Err(KafkaError::MessageConsumptionFatal(code))) => {
                    return Err(client("polling")(KafkaError::MessageConsumptionFatal(code)).into())
                }
                // The client retries these itself (a topic not yet known
                // to the cluster, a broker that moved).
                Some(Err(error)) => tracing::warn!(%error, "poll"),
            }
            timeout = Duration::ZERO;
        }
        Ok(())
    }

    /// Hands the global stores' new records to every task.
    fn poll_global(&mut self) -> Result<(), StreamsError> {
        let Some(consumer) = &self.global_consumer else {
            return Ok(());
        };
        for _ in 0..MAX_POLL_RECORDS {
            match consumer.poll(Duration::ZERO) {
                None => break,
                Some(Ok(message)) => self.tasks.add_global(&consumer_record(&message))?,
                Some(Err(KafkaError::MessageConsumptionFatal(code))) => {
                    return Err(client("polling global topics")(
                        KafkaError::MessageConsumptionFatal(code),
                    )
                    .into())
                }
                Some(Err(error)) => tracing::warn!(%error, "polling global topics"),
            }
        }
        Ok(())
    }

    /// Applies the rebalances the last poll brought.
    fn rebalance(&mut self) -> Result<(), StreamsError> {
        let mut rebalances = self.consumer.context().take_rebalances().into_iter();
        while let Some(rebalance) = rebalances.next() {
            let applied = match &rebalance {
                Rebalance::Revoke => self.revoke(),
                Rebalance::Assign(partitions) => self.assign(partitions),
            };
            if let Err(error) = applied {
                // librdkafka waits for the application's answer (an empty
                // assignment, or the unassignment): without one, the
                // consumer could neither rejoin nor close.
                let answered = match rebalance {
                    Rebalance::Assign(_) => self.consumer.assign(&TopicPartitionList::new()),
                    Rebalance::Revoke => self.consumer.unassign(),
                };
                if let Err(error) = answered {
                    tracing::warn!(%error, "answering a failed rebalance");
                }
                if let Err(error) = self.align_global_consumer() {
                    tracing::warn!(%error, "stopping the global consumer");
                }
                // Those after it wait for the next round (the thread goes
                // on after tasks were taken from it).
                self.consumer.context().put_back(rebalances.collect());
                return Err(error);
            }
        }
        Ok(())
    }

    /// Every partition goes: the tasks commit what they did and close
    /// (unless the assignment was already lost, when another member may
    /// own their partitions: then they close without committing).
    fn revoke(&mut self) -> Result<(), StreamsError> {
        self.slot.set_state(StreamsState::Rebalancing);
        if self.consumer.assignment_lost() {
            tracing::warn!(
                tasks = self.tasks.len(),
                "assignment lost: closing tasks without committing"
            );
            self.close_dirty()?;
        } else {
            tracing::info!(
                tasks = self.tasks.len(),
                "partitions revoked: committing and closing tasks"
            );
            self.commit_and(|tasks, out| tasks.close_all(out))?;
        }
        self.consumer
            .unassign()
            .map_err(client("unassigning partitions"))?;
        self.align_global_consumer()
    }

    /// Points the global consumer at the first global record a task still
    /// needs (each task loaded the global topics up to some offset when it
    /// started), or stops it when there are no tasks.
    fn align_global_consumer(&self) -> Result<(), StreamsError> {
        let Some(consumer) = &self.global_consumer else {
            return Ok(());
        };
        match self.tasks.global_start() {
            Some(start) => {
                let mut positions = TopicPartitionList::new();
                for ((topic, partition), offset) in start {
                    positions
                        .add_partition_offset(&topic, partition, Offset::Offset(offset))
                        .map_err(client("positioning the global consumer"))?;
                }
                consumer.assign(&positions)
            }
            None => consumer.unassign(),
        }
        .map_err(client("positioning the global consumer"))?;
        Ok(())
    }

    /// Creates the tasks of `partitions` and starts consuming them from
    /// their committed offsets (or as the topology's reset policy says),
    /// once they restored their stores.
    fn assign(&mut self, partitions: &TopicPartitionList) -> Result<(), StreamsError> {
        let positions = self.start_tasks(partitions)?;
        self.consumer
            .assign(&positions)
            .map_err(client("assigning partitions"))?;
        // Only assigned partitions take stored offsets.
        self.store_committed(&positions);
        self.pause_restoring(&positions)?;
        self.align_global_consumer()
    }

    /// Pauses the input partitions of the tasks restoring their stores
    /// (their records wait in the broker meanwhile), or says the thread
    /// runs if none is. The others of `assigned` resume: librdkafka keeps
    /// a partition paused across an unassignment and the next assignment.
    fn pause_restoring(&mut self, assigned: &TopicPartitionList) -> Result<(), StreamsError> {
        self.consumer
            .resume(assigned)
            .map_err(client("resuming assigned partitions"))?;
        let restoring = self.tasks.restoring_ids();
        if restoring.is_empty() {
            self.slot.set_state(StreamsState::Running);
            return Ok(());
        }
        tracing::info!(tasks = ?restoring, "restoring stores before processing");
        let partitions = self.tasks.partitions_of(&restoring)?;
        self.consumer
            .pause(&partitions)
            .map_err(client("pausing restoring tasks' partitions"))?;
        Ok(())
    }

    /// Restores the restoring tasks' stores for up to the poll timeout,
    /// and resumes the partitions of the tasks that finished; the thread
    /// runs once none is left restoring.
    fn restore(&mut self) -> Result<(), StreamsError> {
        if !self.tasks.restoring() {
            return Ok(());
        }
        let finished = self
            .tasks
            .restore(Instant::now() + self.config.poll_timeout)?;
        if !finished.is_empty() {
            let partitions = self.tasks.partitions_of(&finished)?;
            self.consumer
                .resume(&partitions)
                .map_err(client("resuming restored tasks' partitions"))?;
        }
        if !self.tasks.restoring() {
            self.slot.set_state(StreamsState::Running);
        }
        Ok(())
    }

    /// Creates the tasks of `partitions`, and returns where each partition
    /// is to be read from: its committed offset, or where the topology's
    /// reset policy says (its start by default, as Kafka Streams'
    /// `auto.offset.reset=earliest`).
    fn start_tasks(
        &mut self,
        partitions: &TopicPartitionList,
    ) -> Result<TopicPartitionList, StreamsError> {
        let committed = self
            .consumer
            .committed_offsets(partitions.clone(), CLIENT_TIMEOUT)
            .map_err(client("reading committed offsets"))?;
        let ids = self.tasks.ids_of(partitions);
        tracing::info!(?ids, "partitions assigned: creating tasks");
        for id in ids {
            self.tasks.create(id, &committed)?;
        }
        let mut positions = TopicPartitionList::new();
        for element in committed.elements() {
            let (topic, partition) = (element.topic(), element.partition());
            let offset = match element.offset() {
                Offset::Offset(offset) => offset,
                // Resolved here rather than by the consumer, so that the
                // lag of a partition the group never committed counts from
                // where reading starts (see `store_committed`).
                _ => {
                    let (low, high) = self
                        .consumer
                        .fetch_watermarks(topic, partition, CLIENT_TIMEOUT)
                        .map_err(client("reading a partition's offsets"))?;
                    match self.topology.offset_reset(topic) {
                        Some(OffsetReset::Latest) => high,
                        _ => low,
                    }
                }
            };
            positions
                .add_partition_offset(topic, partition, Offset::Offset(offset))
                .map_err(client("listing assigned partitions"))?;
        }
        Ok(positions)
    }

    /// Sends what the tasks wrote, in order.
    fn send(&mut self) -> Result<(), StreamsError> {
        if self.output.is_empty() {
            return Ok(());
        }
        if self.config.processing_guarantee == ProcessingGuarantee::ExactlyOnce
            && !self.in_transaction
        {
            self.producer
                .begin_transaction()
                .map_err(client("beginning a transaction"))?;
            self.in_transaction = true;
        }
        for record in self.output.drain(..) {
            loop {
                match self.producer.send(base_record(&record)) {
                    Ok(()) => break,
                    // The producer's queue is full: its thread is sending.
                    Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), _)) => {
                        std::thread::sleep(Duration::from_millis(1));
                    }
                    Err((error, _)) => return Err(client("sending a record")(error).into()),
                }
            }
        }
        match self.producer.context().take_failure() {
            Some(failure) => Err(failure.into()),
            None => Ok(()),
        }
    }

    fn commit(&mut self) -> Result<(), StreamsError> {
        self.commit_and(|_, _| Ok(()))
    }

    /// Commits every task, doing `then` to the tasks (closing them, say)
    /// after they committed and before their output is made durable; then
    /// the tasks checkpoint.
    fn commit_and(
        &mut self,
        then: impl FnOnce(&mut Tasks, &mut Vec<ProducerRecord>) -> Result<(), StreamsError>,
    ) -> Result<(), StreamsError> {
        let offsets = self.tasks.commit(&mut self.output)?;
        then(&mut self.tasks, &mut self.output)?;
        self.send()?;
        self.last_commit = Instant::now();
        self.make_durable(&offsets)?;
        self.tasks
            .checkpoint(&self.producer.context().acknowledged())
    }

    /// Makes what was sent durable, with the input offsets `offsets`: a
    /// flush and an offset commit at least once, a transaction's commit
    /// exactly once.
    fn make_durable(&mut self, offsets: &TopicPartitionList) -> Result<(), StreamsError> {
        match self.config.processing_guarantee {
            ProcessingGuarantee::AtLeastOnce => {
                self.producer
                    .flush(CLIENT_TIMEOUT)
                    .map_err(client("flushing the producer"))?;
                if let Some(failure) = self.producer.context().take_failure() {
                    return Err(failure.into());
                }
                if offsets.count() > 0 {
                    self.consumer
                        .commit(offsets, CommitMode::Sync)
                        .map_err(client("committing offsets"))?;
                }
            }
            ProcessingGuarantee::ExactlyOnce => {
                if offsets.count() == 0 && !self.in_transaction {
                    return Ok(());
                }
                if !self.in_transaction {
                    self.producer
                        .begin_transaction()
                        .map_err(client("beginning a transaction"))?;
                    self.in_transaction = true;
                }
                let group = self
                    .consumer
                    .group_metadata()
                    .ok_or(RuntimeError::NoGroupMetadata)?;
                if offsets.count() > 0 {
                    self.producer
                        .send_offsets_to_transaction(offsets, &group, CLIENT_TIMEOUT)
                        .map_err(client("adding offsets to a transaction"))?;
                }
                self.producer
                    .commit_transaction(CLIENT_TIMEOUT)
                    .map_err(client("committing a transaction"))?;
                self.in_transaction = false;
                if let Some(failure) = self.producer.context().take_failure() {
                    return Err(failure.into());
                }
            }
        }
        self.store_committed(offsets);
        self.purge.committed(offsets);
        tracing::debug!(partitions = offsets.count(), "committed");
        Ok(())
    }

    /// Tells the consumer what the group has committed (the offsets in
    /// `committed`; logical ones are skipped), which is what its statistics
    /// measure the lag from (see [`GroupContext`]).
    fn store_committed(&self, committed: &TopicPartitionList) {
        let mut valid = TopicPartitionList::new();
        for element in committed.elements() {
            if let Offset::Offset(offset) = element.offset() {
                // Both come from a list that held them.
                let _ = valid.add_partition_offset(
                    element.topic(),
                    element.partition(),
                    Offset::Offset(offset),
                );
            }
        }
        if valid.count() > 0 {
            if let Err(error) = self.consumer.store_offsets(&valid) {
                tracing::debug!(%error, "storing committed offsets for the lag");
            }
        }
    }

    /// Ends the thread: after a clean run the tasks commit and close; after
    /// a failure they close without committing (and an open transaction
    /// aborts), so their input is processed again from the last commit.
    fn close(&mut self, clean: bool) -> Result<(), StreamsError> {
        self.slot.set_state(StreamsState::PendingShutdown);
        let committed = if clean {
            self.commit_and(|tasks, out| tasks.close_all(out))
        } else {
            Ok(())
        };
        if !clean || committed.is_err() {
            if let Err(error) = self.close_dirty() {
                tracing::warn!(%error, "closing tasks after a failure");
            }
        }
        self.slot
            .publish(&self.tasks, self.consumer.context().lag());
        // Leaving the group revokes the assignment: the context applies it
        // at once, with no tasks left to commit.
        self.consumer.context().close();
        if let Err(error) = self.consumer.unassign() {
            tracing::debug!(%error, "unassigning before leaving the group");
        }
        self.consumer.unsubscribe();
        committed
    }

    /// Closes every task without committing: what they did since the last
    /// commit is dropped (its transaction aborted), to be processed again
    /// by the partitions' next owner.
    fn close_dirty(&mut self) -> Result<(), StreamsError> {
        let closed = self.tasks.close_all(&mut self.output);
        self.tasks.forget_closed();
        self.output.clear();
        if self.in_transaction {
            self.in_transaction = false;
            self.producer
                .abort_transaction(CLIENT_TIMEOUT)
                .map_err(client("aborting a transaction"))?;
        }
        closed
    }
}

impl Drop for StreamThread<'_> {
    /// A thread that unwinds (a panic) leaves the group as one that closes
    /// does: its consumer applies the revocation librdkafka asks for as it
    /// closes, which the thread's loop would otherwise answer.
    fn drop(&mut self) {
        self.consumer.context().close();
    }
}

/// How long the thread may go between polls before librdkafka takes it
/// out of the group, unless the user says otherwise, when the topology has
/// global stores: a day (librdkafka's maximum). Each task loads them whole
/// when it is created, between two polls, and a large load must not cost
/// the assignment. Restores of the tasks' own stores run in the poll loop,
/// so without global stores librdkafka's default (the Java consumer's)
/// stands.
const GLOBAL_LOAD_MAX_POLL_INTERVAL_MS: &str = "86400000";

/// The group consumer's properties: the user's, then the runtime's.
fn group_consumer_config(config: &StreamsConfig, global_stores: bool) -> ClientConfig {
    let mut consumer = base_config(config);
    if global_stores && !config.client_configs.contains_key("max.poll.interval.ms") {
        consumer.set("max.poll.interval.ms", GLOBAL_LOAD_MAX_POLL_INTERVAL_MS);
    }
    consumer
        .set("group.id", &config.application_id)
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("auto.offset.reset", "earliest")
        // Equal partition numbers of topics with equal partition counts
        // go to the same member: a task's inputs stay together. The
        // classic protocol's eager rebalances revoke every partition
        // before assigning, which the thread's handling relies on.
        .set("group.protocol", "classic")
        .set("partition.assignment.strategy", "range")
        .set("isolation.level", isolation_level(config))
        .set("statistics.interval.ms", STATISTICS_INTERVAL_MS);
    consumer
}

/// How a thread's tasks were taken from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Migration {
    /// A commit was refused because the group has another generation (a
    /// rebalance this member missed, or a member id it lost).
    GroupMoved,
    /// The transaction must abort.
    TransactionAborted,
}

/// Whether, and how, `error` means the thread's tasks were taken from it.
fn migration(error: &StreamsError) -> Option<Migration> {
    let StreamsError::Runtime(error) = error else {
        return None;
    };
    let RuntimeError::Client { source, .. } = &**error else {
        return None;
    };
    match source {
        KafkaError::ConsumerCommit(
            RDKafkaErrorCode::IllegalGeneration
            | RDKafkaErrorCode::UnknownMemberId
            | RDKafkaErrorCode::RebalanceInProgress
            | RDKafkaErrorCode::FencedInstanceId,
        ) => Some(Migration::GroupMoved),
        // librdkafka reports a TxnOffsetCommit the group refused as an
        // abortable transaction error: the group moved on all the same.
        KafkaError::Transaction(error)
            if matches!(
                error.code(),
                RDKafkaErrorCode::IllegalGeneration
                    | RDKafkaErrorCode::UnknownMemberId
                    | RDKafkaErrorCode::RebalanceInProgress
                    | RDKafkaErrorCode::FencedInstanceId
            ) =>
        {
            Some(Migration::GroupMoved)
        }
        KafkaError::Transaction(error) if error.txn_requires_abort() => {
            Some(Migration::TransactionAborted)
        }
        _ => None,
    }
}

/// A consumer of the global stores' topics, outside the group, or `None`
/// without global stores. It is assigned when tasks start (see
/// `align_global_consumer`).
fn global_consumer(
    config: &StreamsConfig,
    globals: &[(String, i32)],
) -> Result<Option<BaseConsumer>, StreamsError> {
    if globals.is_empty() {
        return Ok(None);
    }
    let consumer: BaseConsumer = base_config(config)
        // librdkafka wants a group even to assign; it is never joined.
        .set(
            "group.id",
            format!("{}-global-consumer", config.application_id),
        )
        .set("enable.auto.commit", "false")
        // Records deleted before it read them are gone for every task:
        // it goes on from the first one left.
        .set("auto.offset.reset", "earliest")
        .set("isolation.level", isolation_level(config))
        .create()
        .map_err(client("creating the global consumer"))?;
    Ok(Some(consumer))
}

/// A suffix that sets this process's transactional id apart from an
/// earlier run's with the same process id.
fn unique_suffix() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_nanos())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_group_consumer_takes_the_users_properties_but_not_the_runtimes() {
        let config = StreamsConfig::new("app", "localhost:9092")
            .with_client_config("group.id", "not-the-app")
            .with_client_config("partition.assignment.strategy", "roundrobin");
        let consumer = group_consumer_config(&config, false);
        // librdkafka's default, as the Java consumer's: restores run in
        // the poll loop.
        assert_eq!(consumer.get("max.poll.interval.ms"), None);
        // Global stores load between two polls.
        assert_eq!(
            group_consumer_config(&config, true).get("max.poll.interval.ms"),
            Some(GLOBAL_LOAD_MAX_POLL_INTERVAL_MS)
        );
        // What the runtime depends on is not the user's to change.
        assert_eq!(consumer.get("group.id"), Some("app"));
        assert_eq!(consumer.get("partition.assignment.strategy"), Some("range"));
        let config = config.with_client_config("max.poll.interval.ms", "60000");
        let consumer = group_consumer_config(&config, true);
        assert_eq!(consumer.get("max.poll.interval.ms"), Some("60000"));
    }
}
