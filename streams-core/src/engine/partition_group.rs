//! The input queues of a task and the choice of the next record.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use super::graph::{Link, NodeId};
use super::java_heap::JavaPriorityQueue;
use crate::error::StreamsError;
use crate::record::{ConsumerRecord, TopicName, TopicPartition};
use crate::topology::TimestampExtractor;

/// A record waiting in its partition's queue, with its extracted timestamp.
pub(crate) struct QueuedRecord {
    pub(crate) record: ConsumerRecord,
    pub(crate) timestamp: i64,
}

/// The source node that reads a partition, and how it stamps records.
#[derive(Clone)]
pub(crate) struct SourceBinding {
    pub(crate) node: NodeId,
    /// The source node, as the task hands it records.
    pub(crate) input: Link<Option<Vec<u8>>, Option<Vec<u8>>>,
    pub(crate) extractor: Arc<dyn TimestampExtractor>,
    /// Whether the source feeds a global store: its records are applied as
    /// they arrive, never queued, and never move the task's stream time
    /// (Kafka applies them in a thread of their own).
    pub(crate) global: bool,
}

/// One input partition: its records, and the source that reads them (as
/// Kafka's `RecordQueue`), so a record finds its source once, on arrival.
pub(crate) struct PartitionQueue {
    topic: TopicName,
    partition: i32,
    source: SourceBinding,
    records: VecDeque<QueuedRecord>,
    /// The largest timestamp extracted in this partition (-1 before any):
    /// what timestamp extractors receive as "partition time".
    partition_time: i64,
    /// The largest timestamp taken for processing (-1 before any): the
    /// partition time a commit stores, and a restarted task starts from.
    processed_time: i64,
    /// Whether a record was taken for processing: only then does a commit
    /// store an offset for the partition (Kafka's consumed offsets).
    consumed: bool,
    /// The offset after the last record added, whether queued or dropped
    /// (the consumer's position).
    position: i64,
}

impl PartitionQueue {
    /// Extracts the timestamp of `record`, one of this partition's, and
    /// queues it; a negative timestamp drops it (returns `false`).
    pub(crate) fn push(&mut self, record: ConsumerRecord) -> Result<bool, StreamsError> {
        let timestamp = self
            .source
            .extractor
            .extract(&record, self.partition_time)?;
        if timestamp < 0 {
            return Ok(false);
        }
        self.partition_time = self.partition_time.max(timestamp);
        self.records.push_back(QueuedRecord { record, timestamp });
        Ok(true)
    }
}

/// What became of a record given to a [`PartitionGroup`].
pub(crate) enum Arrival {
    /// It waits in its partition's queue.
    Queued,
    /// It was dropped for a negative timestamp.
    Dropped,
    /// It is a global store's, to be applied now by the source given (it
    /// takes no turn in timestamp order, as Kafka's global thread applies
    /// records as they come).
    Global(SourceBinding, ConsumerRecord),
}

/// The queues of all input partitions of a task.
#[derive(Default)]
pub(crate) struct PartitionGroup {
    /// The partition times the task's predecessor committed, for the
    /// partitions that have had no record yet.
    restored_times: BTreeMap<TopicPartition, i64>,
    queues: Vec<PartitionQueue>,
    /// The indices of the non-empty queues by the timestamps of their head
    /// records (Kafka's `nonEmptyQueuesByTime`). A queue re-enters it after
    /// each record taken: so when heads tie, the partitions are taken in
    /// the order Kafka Streams takes them (a queue that just yielded a
    /// record goes behind one waiting with the same timestamp).
    by_time: JavaPriorityQueue<usize>,
}

impl PartitionGroup {
    /// A group whose partitions start from the partition times `restored`
    /// (see [`partition_times`](Self::partition_times)).
    pub(crate) fn restoring(restored: BTreeMap<TopicPartition, i64>) -> Self {
        Self {
            restored_times: restored,
            ..Self::default()
        }
    }

    /// Queues `record` in its partition's queue, created with the source
    /// `bind` names on the partition's first record; a record of a global
    /// store's topic is handed back with its source instead.
    pub(crate) fn add(
        &mut self,
        record: ConsumerRecord,
        bind: impl FnOnce() -> Result<SourceBinding, StreamsError>,
    ) -> Result<Arrival, StreamsError> {
        let (topic, partition) = (record.topic, record.partition);
        let found = self
            .queues
            .iter()
            .position(|q| q.partition == partition && q.topic == topic);
        let index = match found {
            Some(index) => index,
            None => {
                let restored = self
                    .restored_times
                    .remove(&TopicPartition::new(&*topic, partition))
                    .unwrap_or(-1);
                self.queues.push(PartitionQueue {
                    topic,
                    partition,
                    source: bind()?,
                    records: VecDeque::new(),
                    partition_time: restored,
                    processed_time: restored,
                    consumed: false,
                    position: 0,
                });
                self.queues.len() - 1
            }
        };
        let queue = &mut self.queues[index];
        if queue.source.global {
            return Ok(Arrival::Global(queue.source.clone(), record));
        }
        let (offset, was_empty) = (record.offset, queue.records.is_empty());
        let kept = queue.push(record)?;
        // A consumer never hands out the largest offset; saturate if one
        // comes anyway rather than overflow.
        queue.position = offset.saturating_add(1);
        if !kept {
            return Ok(Arrival::Dropped);
        }
        if was_empty {
            let queues = &self.queues;
            self.by_time.offer(index, |&i| head_time(queues, i));
        }
        Ok(Arrival::Queued)
    }

    /// Takes the head record with the smallest timestamp across partitions,
    /// with the source node that reads it. Partitions whose heads tie take
    /// turns as in Kafka Streams (see `by_time`).
    pub(crate) fn next(&mut self) -> Option<(&SourceBinding, QueuedRecord)> {
        let queues = &self.queues;
        let index = self.by_time.poll(|&i| head_time(queues, i))?;
        let queue = &mut self.queues[index];
        let next = queue.records.pop_front()?;
        queue.consumed = true;
        queue.processed_time = queue.processed_time.max(next.timestamp);
        if !self.queues[index].records.is_empty() {
            let queues = &self.queues;
            self.by_time.offer(index, |&i| head_time(queues, i));
        }
        Some((&self.queues[index].source, next))
    }

    /// The offset to commit for every partition that had a record
    /// processed, as Kafka's task commits: its first buffered record's, or
    /// with none buffered the offset after the last record added, so that
    /// records dropped for their timestamps are not read again.
    pub(crate) fn committable_offsets(&self) -> BTreeMap<TopicPartition, i64> {
        self.queues
            .iter()
            .filter(|queue| queue.consumed)
            .map(|queue| {
                let partition = TopicPartition::new(&*queue.topic, queue.partition);
                let head = queue.records.front().map(|head| head.record.offset);
                (partition, head.unwrap_or(queue.position))
            })
            .collect()
    }

    /// The partition time of every partition that has one (the largest
    /// timestamp processed), and the restored times of
    /// partitions not read since: what a commit stores with the offsets
    /// (Kafka encodes it in the offsets' metadata), and a task of the same
    /// partitions starts from.
    pub(crate) fn partition_times(&self) -> BTreeMap<TopicPartition, i64> {
        let mut times = self.restored_times.clone();
        times.extend(
            self.queues
                .iter()
                .filter(|queue| queue.processed_time >= 0)
                .map(|queue| {
                    let partition = TopicPartition::new(&*queue.topic, queue.partition);
                    (partition, queue.processed_time)
                }),
        );
        times
    }

    pub(crate) fn buffered(&self) -> usize {
        self.queues.iter().map(|queue| queue.records.len()).sum()
    }
}

/// The timestamp of queue `index`'s head record (only non-empty queues
/// are in the heap).
fn head_time(queues: &[PartitionQueue], index: usize) -> i64 {
    queues[index]
        .records
        .front()
        .map_or(i64::MAX, |head| head.timestamp)
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::rc::Rc;

    use super::*;
    use crate::engine::{Input, TaskState};
    use crate::record::{Headers, Record};
    use crate::topology::{FailOnInvalidTimestamp, LogAndSkipOnInvalidTimestamp};

    /// A source node that is never called: these tests queue and pick
    /// records without processing them.
    struct Uncalled;

    impl Input<Option<Vec<u8>>, Option<Vec<u8>>> for Uncalled {
        fn process(
            &mut self,
            _task: &mut TaskState,
            _record: Record<Option<Vec<u8>>, Option<Vec<u8>>>,
        ) -> Result<(), StreamsError> {
            unreachable!("the partition group only queues records")
        }
    }

    /// Adds a record of partition 0 of `topic` (read by source 1 if the
    /// topic is "b", else 0), failing on invalid timestamps.
    fn push(
        group: &mut PartitionGroup,
        topic: &str,
        offset: i64,
        timestamp: i64,
    ) -> Result<(), StreamsError> {
        push_with(group, topic, offset, timestamp, FailOnInvalidTimestamp).map(|_| ())
    }

    /// [`push`] with `extractor`; whether the record was kept.
    fn push_with(
        group: &mut PartitionGroup,
        topic: &str,
        offset: i64,
        timestamp: i64,
        extractor: impl TimestampExtractor + 'static,
    ) -> Result<bool, StreamsError> {
        let topic = TopicName::new(topic);
        let source = usize::from(&*topic == "b");
        let record = ConsumerRecord {
            topic,
            partition: 0,
            offset,
            timestamp,
            key: None,
            value: None,
            headers: Headers::new(),
        };
        let arrival = group.add(record, || {
            Ok(SourceBinding {
                node: source,
                input: Rc::new(RefCell::new(Uncalled)),
                extractor: Arc::new(extractor),
                global: false,
            })
        })?;
        Ok(matches!(arrival, Arrival::Queued))
    }

    #[test]
    fn smallest_head_timestamp_goes_first() -> Result<(), StreamsError> {
        let mut group = PartitionGroup::default();
        let a = TopicPartition::new("a", 0);
        let b = TopicPartition::new("b", 0);
        for (offset, ts) in [(0, 5), (1, 1), (2, 9)] {
            push(&mut group, "a", offset, ts)?;
        }
        for (offset, ts) in [(0, 3), (1, 7)] {
            push(&mut group, "b", offset, ts)?;
        }
        let order: Vec<(NodeId, String, i64)> = std::iter::from_fn(|| {
            let (source, q) = group.next()?;
            Some((source.node, q.record.topic.to_string(), q.record.offset))
        })
        .collect();
        // Within a partition, offset order is kept even when out of time order.
        let expected = [
            (1, "b", 0),
            (0, "a", 0),
            (0, "a", 1),
            (1, "b", 1),
            (0, "a", 2),
        ];
        assert_eq!(
            order,
            expected.map(|(s, t, o)| (s, t.to_string(), o)).to_vec()
        );
        assert_eq!(group.buffered(), 0);
        assert_eq!(
            group.committable_offsets().into_iter().collect::<Vec<_>>(),
            vec![(a, 3), (b, 2)]
        );
        Ok(())
    }

    /// Records dropped for their timestamps are not read again: with
    /// nothing buffered, a commit takes the position after them; with
    /// records buffered, the first one's offset (Kafka's task commits the
    /// head record's offset, else the consumer's position). A partition
    /// with nothing processed yet commits nothing.
    #[test]
    fn commits_skip_dropped_records_and_stop_at_buffered_ones() -> Result<(), StreamsError> {
        let mut group = PartitionGroup::default();
        for (offset, timestamp) in [(0, 5), (1, -1), (2, 7), (3, -1)] {
            push_with(
                &mut group,
                "a",
                offset,
                timestamp,
                LogAndSkipOnInvalidTimestamp,
            )?;
        }
        let committed = |group: &PartitionGroup| -> Vec<i64> {
            group.committable_offsets().into_values().collect()
        };
        assert!(committed(&group).is_empty(), "nothing processed yet");
        let take = |group: &mut PartitionGroup| group.next().map(|(_, q)| q.record.offset);
        assert_eq!(take(&mut group), Some(0));
        assert_eq!(committed(&group), [2], "the buffered record's offset");
        assert_eq!(take(&mut group), Some(2));
        assert_eq!(committed(&group), [4], "past the last dropped record");
        Ok(())
    }

    /// A group restored from committed partition times starts each
    /// partition from its own, keeps the time of one not read since, and
    /// raises a partition's time only with later records.
    #[test]
    fn restored_partition_times_carry_over() -> Result<(), StreamsError> {
        let (a, b) = (TopicPartition::new("a", 0), TopicPartition::new("b", 0));
        let mut group =
            PartitionGroup::restoring([(a.clone(), 100), (b.clone(), 50)].into_iter().collect());
        push(&mut group, "a", 0, 30)?;
        push(&mut group, "a", 1, 120)?;
        group.next();
        let times = group.partition_times();
        let expected = [(a.clone(), 100), (b.clone(), 50)].into_iter().collect();
        assert_eq!(times, expected, "an earlier record leaves it");
        group.next();
        let times = group.partition_times();
        assert_eq!(times, [(a, 120), (b, 50)].into_iter().collect());
        Ok(())
    }

    /// Kafka's order for partitions whose heads tie: the partition that
    /// just yielded a record waits behind one whose head has the same
    /// timestamp, so their records interleave.
    #[test]
    fn partitions_whose_heads_tie_take_turns() -> Result<(), StreamsError> {
        let mut group = PartitionGroup::default();
        push(&mut group, "a", 0, 7)?;
        push(&mut group, "a", 1, 7)?;
        push(&mut group, "b", 0, 7)?;
        push(&mut group, "a", 2, 7)?;
        let order: Vec<(String, i64)> = std::iter::from_fn(|| {
            let (_, q) = group.next()?;
            Some((q.record.topic.to_string(), q.record.offset))
        })
        .collect();
        let expected = [("a", 0), ("b", 0), ("a", 1), ("a", 2)];
        assert_eq!(order, expected.map(|(t, o)| (t.to_string(), o)).to_vec());
        Ok(())
    }
}
