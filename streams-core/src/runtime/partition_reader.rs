//! Reading a partition to its end: how a starting task restores its stores
//! from their changelogs, and loads the global stores from their topics.

use std::time::{Duration, Instant};

use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::{Offset, TopicPartitionList};

use super::clients::consumer_record;
use super::error::client;
use crate::engine::{ChangelogReader, ReadEnd};
use crate::error::StreamsError;
use crate::record::ConsumerRecord;

/// How many records a read hands over at once.
const BATCH: usize = 1_000;

/// Reads a partition from a given offset (or its start) to its end, as the
/// end was when the read began: a consumer outside the group. Under exactly-once it reads
/// committed records only, and its end is the last stable offset.
pub(crate) struct PartitionReader {
    config: ClientConfig,
    /// How long a read may go without progress before it fails.
    timeout: Duration,
}

impl PartitionReader {
    /// A reader for `application_id` with `config` (the cluster, the
    /// user's properties, the isolation level).
    pub(crate) fn new(application_id: &str, mut config: ClientConfig, timeout: Duration) -> Self {
        config
            // librdkafka wants a group even to assign; this one is never
            // joined, nor committed to.
            .set("group.id", format!("{application_id}-partition-reader"))
            .set("enable.auto.commit", "false")
            .set("enable.partition.eof", "true")
            .set("auto.offset.reset", "earliest");
        Self { config, timeout }
    }
}

impl ChangelogReader for PartitionReader {
    fn read(
        &self,
        topic: &str,
        partition: i32,
        from: Option<i64>,
        restore: &mut dyn FnMut(Vec<ConsumerRecord>) -> Result<(), StreamsError>,
    ) -> Result<ReadEnd, StreamsError> {
        let consumer: BaseConsumer = self
            .config
            .create()
            .map_err(client("creating a partition reader"))?;
        let (low, high) = consumer
            .fetch_watermarks(topic, partition, self.timeout)
            .map_err(client("reading a partition's offsets"))?;
        let start = match from {
            Some(from) if from < low || from > high => {
                return Ok(ReadEnd::OutOfRange {
                    start: low,
                    end: high,
                })
            }
            Some(from) => from,
            None => low,
        };
        if start >= high {
            return Ok(ReadEnd::Reached(high));
        }
        let mut assignment = TopicPartitionList::new();
        assignment
            .add_partition_offset(topic, partition, Offset::Offset(start))
            .map_err(client("assigning a partition to read"))?;
        consumer
            .assign(&assignment)
            .map_err(client("assigning a partition to read"))?;
        let mut batch = Vec::with_capacity(BATCH);
        let mut last_progress = Instant::now();
        loop {
            match consumer.poll(Duration::from_millis(100)) {
                Some(Ok(message)) => {
                    last_progress = Instant::now();
                    let record = consumer_record(&message);
                    let done = record.offset + 1 >= high;
                    batch.push(record);
                    if batch.len() == BATCH || done {
                        restore(std::mem::replace(&mut batch, Vec::with_capacity(BATCH)))?;
                    }
                    if done {
                        return Ok(ReadEnd::Reached(high));
                    }
                }
                // The end, where the tail is markers or aborted records.
                Some(Err(KafkaError::PartitionEOF(_))) => break,
                Some(Err(error @ KafkaError::MessageConsumptionFatal(_))) => {
                    return Err(client("reading a partition")(error).into());
                }
                // The client retries (a broker that went away, say); the
                // timeout decides whether it is stuck.
                Some(Err(error)) => tracing::warn!(%error, topic, partition, "reading a partition"),
                None if last_progress.elapsed() > self.timeout => {
                    return Err(
                        client("reading a partition")(KafkaError::MessageConsumption(
                            RDKafkaErrorCode::RequestTimedOut,
                        ))
                        .into(),
                    );
                }
                None => {}
            }
        }
        if !batch.is_empty() {
            restore(batch)?;
        }
        Ok(ReadEnd::Reached(high))
    }
}
