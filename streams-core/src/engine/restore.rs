//! Restoring a task's stores from their changelogs before it processes.
//!
//! A starting task works out, for each logged store, which part of its
//! changelog partition it needs: all of it for an in-memory store, what
//! follows the checkpoint for a persistent one. It then processes nothing
//! until a driver has handed it those records
//! ([`StreamTask::restore`](super::StreamTask::restore)): the runtime reads
//! them a batch per round of its loop, so that it keeps polling its
//! consumer, as Kafka's restore consumer does with the task's input
//! partitions paused; the test driver reads them at once
//! ([`StreamTask::restore_all`](super::StreamTask::restore_all)).

use crate::error::StreamsError;
use crate::record::{ConsumerRecord, TopicPartition};

/// Where a starting task finds its stores' changelogs: a restore consumer
/// in the runtime, the topics it kept in the test driver.
pub trait ChangelogReader {
    /// The first offset of `topic`'s partition `partition`, and its end:
    /// the offset the next record written to it will get (under
    /// exactly-once, the last stable offset: records of open transactions
    /// are not restored).
    fn offsets(&self, topic: &str, partition: i32) -> Result<(i64, i64), StreamsError>;

    /// Hands the records of `topic`'s partition `partition` from offset
    /// `from` up to (not including) `end` to `restore`: oldest first, in
    /// batches as they are read, so that a changelog never has to be held
    /// in memory whole.
    fn read(
        &self,
        topic: &str,
        partition: i32,
        from: i64,
        end: i64,
        restore: &mut dyn FnMut(Vec<ConsumerRecord>) -> Result<(), StreamsError>,
    ) -> Result<(), StreamsError>;
}

/// A reader shared by several tasks.
impl<R: ChangelogReader + ?Sized> ChangelogReader for std::rc::Rc<R> {
    fn offsets(&self, topic: &str, partition: i32) -> Result<(i64, i64), StreamsError> {
        (**self).offsets(topic, partition)
    }

    fn read(
        &self,
        topic: &str,
        partition: i32,
        from: i64,
        end: i64,
        restore: &mut dyn FnMut(Vec<ConsumerRecord>) -> Result<(), StreamsError>,
    ) -> Result<(), StreamsError> {
        (**self).read(topic, partition, from, end, restore)
    }
}

/// A changelog partition a task restores, and how far it got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangelogRestore {
    /// The changelog partition.
    pub changelog: TopicPartition,
    /// The store it fills.
    pub store: String,
    /// The records restored so far.
    pub restored: u64,
    /// The offset of the next record to restore.
    pub next: i64,
    /// The offset the restore ends at: the changelog's end when the task
    /// started (later records are the task's own).
    pub end: i64,
    /// Whether the restore starts where the task's checkpoint says (else
    /// at the changelog's first record): records deleted from there on
    /// (retention) leave a gap in the store, which a reader must not skip.
    pub checkpointed: bool,
}

/// The restores a task has left.
#[derive(Default)]
pub(super) struct PendingRestores(Vec<ChangelogRestore>);

impl PendingRestores {
    /// Adds `restore`, from its `next` to its `end`.
    pub(super) fn add(&mut self, restore: ChangelogRestore) {
        self.0.push(restore);
    }

    pub(super) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub(super) fn iter(&self) -> impl Iterator<Item = &ChangelogRestore> {
        self.0.iter()
    }

    /// The records left to restore (those of aborted transactions and
    /// transaction markers included).
    pub(super) fn remaining(&self) -> u64 {
        self.iter()
            .map(|restore| u64::try_from(restore.end - restore.next).unwrap_or(0))
            .sum()
    }

    /// The restore of `changelog`, if it is still under way.
    pub(super) fn get(&self, changelog: &TopicPartition) -> Option<&ChangelogRestore> {
        self.0
            .iter()
            .find(|restore| restore.changelog == *changelog)
    }

    /// Moves the restore of `changelog` on to `reached`, with `records`
    /// more restored; returns whether that finished it (and took it off
    /// the list).
    pub(super) fn advance(
        &mut self,
        changelog: &TopicPartition,
        reached: i64,
        records: u64,
    ) -> bool {
        let Some(index) = self.0.iter().position(|r| r.changelog == *changelog) else {
            return false;
        };
        let restore = &mut self.0[index];
        restore.restored += records;
        restore.next = restore.next.max(reached);
        if restore.next < restore.end {
            return false;
        }
        self.0.remove(index);
        true
    }
}
