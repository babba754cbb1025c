//! Reading a partition from one offset to another: how a starting task
//! restores its stores from their changelogs (a batch per round of the
//! stream thread's loop), and loads the global stores from their topics.

use std::cell::OnceCell;
use std::time::{Duration, Instant};

use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::{Offset, TopicPartitionList};

use super::clients::consumer_record;
use super::error::client;
use crate::engine::ChangelogReader;
use crate::error::StreamsError;
use crate::record::ConsumerRecord;

/// How many records a read hands over at once.
const BATCH: usize = 1_000;

/// Reads partitions from one offset to another, each with a consumer
/// outside the group. Under exactly-once it reads committed records only,
/// and a partition's end is its last stable offset.
pub(crate) struct PartitionReader {
    config: ClientConfig,
    /// How long a read may go without progress before it fails.
    timeout: Duration,
    /// Asks partitions' offsets: made once, for every task the reader
    /// serves.
    offsets_client: OnceCell<BaseConsumer>,
}

impl PartitionReader {
    /// A reader for `application_id` with `config` (the cluster, the
    /// user's properties, the isolation level). A read from an offset
    /// whose records were deleted meanwhile (retention) fails: a restore
    /// that skipped them would checkpoint the gap.
    pub(crate) fn new(application_id: &str, mut config: ClientConfig, timeout: Duration) -> Self {
        config
            // librdkafka wants a group even to assign; this one is never
            // joined, nor committed to.
            .set("group.id", format!("{application_id}-partition-reader"))
            .set("enable.auto.commit", "false")
            .set("enable.partition.eof", "true")
            .set("auto.offset.reset", "error");
        Self {
            config,
            timeout,
            offsets_client: OnceCell::new(),
        }
    }

    /// This reader, reading on from the first record kept when those
    /// from where it started were deleted: what loading a global store
    /// wants, which has no checkpoint.
    pub(crate) fn skipping_deleted(mut self) -> Self {
        self.config.set("auto.offset.reset", "earliest");
        self
    }
}

impl PartitionReader {
    /// Starts reading `topic`'s partition `partition` from `from` up to
    /// (not including) `end`.
    pub(crate) fn open(
        &self,
        topic: &str,
        partition: i32,
        from: i64,
        end: i64,
    ) -> Result<PartitionRead, StreamsError> {
        let consumer: BaseConsumer = self
            .config
            .create()
            .map_err(client("creating a partition reader"))?;
        if from < end {
            let mut assignment = TopicPartitionList::new();
            assignment
                .add_partition_offset(topic, partition, Offset::Offset(from))
                .map_err(client("assigning a partition to read"))?;
            consumer
                .assign(&assignment)
                .map_err(client("assigning a partition to read"))?;
        }
        Ok(PartitionRead {
            consumer,
            next: from,
            end,
            timeout: self.timeout,
            last_progress: Instant::now(),
        })
    }
}

/// A read of one partition under way.
pub(crate) struct PartitionRead {
    consumer: BaseConsumer,
    /// The offset the read reached.
    next: i64,
    end: i64,
    /// How long the read may go without progress before it fails.
    timeout: Duration,
    last_progress: Instant,
}

impl PartitionRead {
    /// The records that arrive by `deadline` (at least those already
    /// fetched), up to a batch's worth, and none past the end.
    pub(crate) fn next_batch(
        &mut self,
        deadline: Instant,
    ) -> Result<Vec<ConsumerRecord>, StreamsError> {
        let mut batch = Vec::new();
        while !self.done() && batch.len() < BATCH {
            let wait = deadline.saturating_duration_since(Instant::now());
            match self.consumer.poll(wait.min(Duration::from_millis(100))) {
                Some(Ok(message)) => {
                    self.last_progress = Instant::now();
                    let record = consumer_record(&message);
                    if record.offset >= self.end {
                        self.next = self.end;
                        break;
                    }
                    self.next = record.offset + 1;
                    batch.push(record);
                }
                // The end, reached past any markers or aborted records.
                Some(Err(KafkaError::PartitionEOF(_))) => self.next = self.end,
                Some(Err(
                    error @ (KafkaError::MessageConsumptionFatal(_)
                    | KafkaError::MessageConsumption(RDKafkaErrorCode::AutoOffsetReset)),
                )) => {
                    return Err(client("reading a partition")(error).into());
                }
                // The client retries (a broker that went away, say); the
                // timeout decides whether it is stuck.
                Some(Err(error)) => tracing::warn!(%error, "reading a partition"),
                None if self.last_progress.elapsed() > self.timeout => {
                    return Err(
                        client("reading a partition")(KafkaError::MessageConsumption(
                            RDKafkaErrorCode::RequestTimedOut,
                        ))
                        .into(),
                    );
                }
                None if wait.is_zero() => break,
                None => {}
            }
        }
        Ok(batch)
    }

    /// The offset the read reached: every record before it was handed over.
    pub(crate) fn reached(&self) -> i64 {
        self.next
    }

    /// Where the read ends.
    pub(crate) fn end(&self) -> i64 {
        self.end
    }

    /// Whether the read reached its end.
    pub(crate) fn done(&self) -> bool {
        self.next >= self.end
    }
}

impl ChangelogReader for PartitionReader {
    fn offsets(&self, topic: &str, partition: i32) -> Result<(i64, i64), StreamsError> {
        let consumer = match self.offsets_client.get() {
            Some(consumer) => consumer,
            None => {
                let consumer = self
                    .config
                    .create()
                    .map_err(client("creating a partition reader"))?;
                self.offsets_client.get_or_init(|| consumer)
            }
        };
        let offsets = consumer
            .fetch_watermarks(topic, partition, self.timeout)
            .map_err(client("reading a partition's offsets"))?;
        Ok(offsets)
    }

    fn read(
        &self,
        topic: &str,
        partition: i32,
        from: i64,
        end: i64,
        restore: &mut dyn FnMut(Vec<ConsumerRecord>) -> Result<(), StreamsError>,
    ) -> Result<(), StreamsError> {
        let mut read = self.open(topic, partition, from, end)?;
        while !read.done() {
            let batch = read.next_batch(Instant::now() + self.timeout)?;
            if !batch.is_empty() {
                restore(batch)?;
            }
        }
        Ok(())
    }
}
