//! Purging repartition topics of the records their readers committed: a
//! repartition topic keeps records until they are deleted (its
//! `retention.ms` is -1), so the application deletes what it has read and
//! committed, as Kafka Streams does every `repartition.purge.interval.ms`.

use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, Instant};

use rdkafka::admin::{AdminClient, AdminOptions};
use rdkafka::client::DefaultClientContext;
use rdkafka::{Offset, TopicPartitionList};

use super::clients::block_on;

/// How long a purge may take before it is given up (and tried again at
/// the next interval).
const PURGE_TIMEOUT: Duration = Duration::from_secs(30);

/// Collects the committed offsets of repartition partitions and deletes
/// the records before them, at most once per interval.
pub(crate) struct RepartitionPurge {
    admin: AdminClient<DefaultClientContext>,
    /// The full names of the application's repartition topics.
    topics: HashSet<String>,
    /// The offset each partition was committed at since the last purge.
    committed: BTreeMap<(String, i32), i64>,
    interval: Duration,
    last: Instant,
}

impl RepartitionPurge {
    pub(crate) fn new(
        admin: AdminClient<DefaultClientContext>,
        topics: HashSet<String>,
        interval: Duration,
    ) -> Self {
        Self {
            admin,
            topics,
            committed: BTreeMap::new(),
            interval,
            last: Instant::now(),
        }
    }

    /// Notes `offsets`, just committed; purges if the interval has passed.
    pub(crate) fn committed(&mut self, offsets: &TopicPartitionList) {
        for element in offsets.elements() {
            if let (true, Offset::Offset(offset)) =
                (self.topics.contains(element.topic()), element.offset())
            {
                self.committed
                    .insert((element.topic().to_owned(), element.partition()), offset);
            }
        }
        if self.committed.is_empty() || self.last.elapsed() < self.interval {
            return;
        }
        self.last = Instant::now();
        let mut purge = TopicPartitionList::new();
        for ((topic, partition), offset) in std::mem::take(&mut self.committed) {
            // The list is built from valid names and offsets.
            let _ = purge.add_partition_offset(&topic, partition, Offset::Offset(offset));
        }
        let options = AdminOptions::new().operation_timeout(Some(PURGE_TIMEOUT));
        // A failed purge is logged and left to the next one, which deletes
        // up to a later offset anyway (Kafka Streams does the same).
        match block_on(self.admin.delete_records(&purge, &options)) {
            Ok(result) => {
                for element in result.elements() {
                    if let Err(error) = element.error() {
                        tracing::warn!(topic = element.topic(), partition = element.partition(), %error, "purging a repartition topic");
                    }
                }
                tracing::debug!(partitions = result.count(), "purged repartition topics");
            }
            Err(error) => tracing::warn!(%error, "purging repartition topics"),
        }
    }
}
