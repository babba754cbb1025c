//! The input queues of a task and the choice of the next record.

use std::collections::{BTreeMap, VecDeque};

use crate::record::{ConsumerRecord, TopicPartition};

/// A record waiting in its partition's queue, with its extracted timestamp.
pub(crate) struct QueuedRecord {
    pub(crate) record: ConsumerRecord,
    pub(crate) timestamp: i64,
}

struct PartitionQueue {
    partition: TopicPartition,
    records: VecDeque<QueuedRecord>,
    /// The largest timestamp extracted in this partition (-1 before any):
    /// what timestamp extractors receive as "partition time".
    partition_time: i64,
    /// The offset after the last record taken for processing, if any: what
    /// a commit stores for this partition.
    next_offset: Option<i64>,
}

/// The queues of all input partitions of a task.
#[derive(Default)]
pub(crate) struct PartitionGroup {
    queues: Vec<PartitionQueue>,
}

impl PartitionGroup {
    fn queue(&mut self, topic: &str, partition: i32) -> &mut PartitionQueue {
        let found = self
            .queues
            .iter()
            .position(|q| q.partition.partition == partition && q.partition.topic == topic);
        let index = match found {
            Some(index) => index,
            None => {
                self.queues.push(PartitionQueue {
                    partition: TopicPartition::new(topic, partition),
                    records: VecDeque::new(),
                    partition_time: -1,
                    next_offset: None,
                });
                self.queues.len() - 1
            }
        };
        &mut self.queues[index]
    }

    /// The partition time that the next record of `topic`-`partition` is
    /// extracted with.
    pub(crate) fn partition_time(&mut self, topic: &str, partition: i32) -> i64 {
        self.queue(topic, partition).partition_time
    }

    /// Queues a record of its own topic and partition.
    pub(crate) fn push(&mut self, record: QueuedRecord) {
        let queue = self.queue(&record.record.topic, record.record.partition);
        queue.partition_time = queue.partition_time.max(record.timestamp);
        queue.records.push_back(record);
    }

    /// Takes the head record with the smallest timestamp across partitions;
    /// ties go to the partition that was added first.
    pub(crate) fn next(&mut self) -> Option<QueuedRecord> {
        self.queues
            .iter_mut()
            .filter(|queue| !queue.records.is_empty())
            .min_by_key(|queue| queue.records.front().map(|head| head.timestamp))
            .and_then(|queue| {
                let next = queue.records.pop_front()?;
                queue.next_offset = Some(next.record.offset + 1);
                Some(next)
            })
    }

    /// The offset after the last processed record of every partition that
    /// had one: the positions to commit.
    pub(crate) fn committable_offsets(&self) -> BTreeMap<TopicPartition, i64> {
        self.queues
            .iter()
            .filter_map(|queue| Some((queue.partition.clone(), queue.next_offset?)))
            .collect()
    }

    pub(crate) fn buffered(&self) -> usize {
        self.queues.iter().map(|queue| queue.records.len()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Headers;

    fn queued(topic: &str, offset: i64, timestamp: i64) -> QueuedRecord {
        QueuedRecord {
            record: ConsumerRecord {
                topic: topic.into(),
                partition: 0,
                offset,
                timestamp,
                key: None,
                value: None,
                headers: Headers::new(),
            },
            timestamp,
        }
    }

    #[test]
    fn smallest_head_timestamp_goes_first() {
        let mut group = PartitionGroup::default();
        let a = TopicPartition::new("a", 0);
        let b = TopicPartition::new("b", 0);
        for (offset, ts) in [(0, 5), (1, 1), (2, 9)] {
            group.push(queued("a", offset, ts));
        }
        for (offset, ts) in [(0, 3), (1, 7)] {
            group.push(queued("b", offset, ts));
        }
        let order: Vec<(String, i64)> = std::iter::from_fn(|| group.next())
            .map(|q| (q.record.topic, q.record.offset))
            .collect();
        // Within a partition, offset order is kept even when out of time order.
        let expected = [("b", 0), ("a", 0), ("a", 1), ("b", 1), ("a", 2)];
        assert_eq!(order, expected.map(|(t, o)| (t.to_string(), o)).to_vec());
        assert_eq!(group.buffered(), 0);
        assert_eq!(
            group.committable_offsets().into_iter().collect::<Vec<_>>(),
            vec![(a, 3), (b, 2)]
        );
    }
}
