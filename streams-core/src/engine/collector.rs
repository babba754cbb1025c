//! Where a task's output collects, in write order, until the driver takes
//! it: the records its sinks write and the changes its stores log.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use crate::record::ProducerRecord;

/// The task's side of the collector: its sinks write here.
///
/// Sinks run inside the task, which owns this collector, so they append
/// without a lock. Changelogging layers live inside the stores, which the
/// store crate requires to be thread-safe; they write through a
/// [`ChangelogCollector`] into a shared, locked buffer. To keep the order
/// of writes, the task moves whatever that buffer holds over before it
/// appends a record of its own; a flag says whether there is anything to
/// move, so sink writes take the lock only after a store logged a change.
#[derive(Default)]
pub(crate) struct RecordCollector {
    records: Vec<ProducerRecord>,
    changelog: ChangelogCollector,
}

impl RecordCollector {
    /// Appends a record a sink wrote.
    pub(crate) fn send(&mut self, record: ProducerRecord) {
        self.changelog.drain_into(&mut self.records);
        self.records.push(record);
    }

    /// Moves everything written since the last call to the end of `out`,
    /// in write order. A driver that keeps `out` from call to call makes
    /// collecting allocate nothing once the buffers have grown (see
    /// [`move_all`]).
    pub(crate) fn take_into(&mut self, out: &mut Vec<ProducerRecord>) {
        // Pending changelog records were all written after the last sink
        // record (`send` moves them over first), so they go last.
        move_all(&mut self.records, out);
        self.changelog.drain_into(out);
    }

    /// A handle for the changelogging layers of the task's stores.
    pub(crate) fn changelog(&self) -> ChangelogCollector {
        self.changelog.clone()
    }
}

/// The stores' side of a task's collector: changelog records go here.
#[derive(Clone, Default)]
pub(crate) struct ChangelogCollector(Arc<Shared>);

#[derive(Default)]
struct Shared {
    records: Mutex<Vec<ProducerRecord>>,
    /// Whether `records` may be non-empty; only changed under the lock.
    pending: AtomicBool,
}

impl ChangelogCollector {
    /// Appends a changelog record.
    pub(crate) fn send(&self, record: ProducerRecord) {
        let mut records = self.records();
        records.push(record);
        self.0.pending.store(true, Ordering::Release);
    }

    /// Moves the records written so far to the end of `out`.
    fn drain_into(&self, out: &mut Vec<ProducerRecord>) {
        if !self.0.pending.load(Ordering::Acquire) {
            return;
        }
        let mut records = self.records();
        move_all(&mut records, out);
        self.0.pending.store(false, Ordering::Release);
    }

    fn records(&self) -> MutexGuard<'_, Vec<ProducerRecord>> {
        // A panic while holding the lock leaves a valid Vec behind.
        self.0
            .records
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// Moves the records of `from` to the end of `to`. Into an empty `to` that
/// could hold them all, the two buffers are exchanged instead of the
/// records copied: a commit can release thousands at once, and `from` gets
/// a buffer as large as the one it gave. Otherwise the records are copied
/// and each side keeps its buffer.
fn move_all(from: &mut Vec<ProducerRecord>, to: &mut Vec<ProducerRecord>) {
    if to.is_empty() && to.capacity() >= from.len() {
        std::mem::swap(from, to);
    } else {
        to.append(from);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Headers;

    fn record(topic: &str) -> ProducerRecord {
        ProducerRecord {
            topic: topic.into(),
            partition: None,
            key: None,
            value: None,
            timestamp: 0,
            headers: Headers::new(),
        }
    }

    fn topics(collector: &mut RecordCollector) -> Vec<String> {
        let mut records = Vec::new();
        collector.take_into(&mut records);
        records
            .into_iter()
            .map(|record| record.topic.to_string())
            .collect()
    }

    #[test]
    fn sink_and_changelog_records_keep_their_write_order() {
        let mut collector = RecordCollector::default();
        let changelog = collector.changelog();
        changelog.send(record("c1"));
        collector.send(record("s1"));
        collector.send(record("s2"));
        changelog.send(record("c2"));
        changelog.send(record("c3"));
        collector.send(record("s3"));
        changelog.send(record("c4"));
        assert_eq!(
            topics(&mut collector),
            ["c1", "s1", "s2", "c2", "c3", "s3", "c4"]
        );
        assert!(topics(&mut collector).is_empty());
        changelog.send(record("c5"));
        assert_eq!(topics(&mut collector), ["c5"]);
    }

    /// A driver that keeps its buffer gets the records by an exchange of
    /// buffers, still in write order with the pending changelog records
    /// last, and takes into the same buffer again.
    #[test]
    fn records_taken_into_a_kept_buffer_keep_their_write_order() {
        let mut collector = RecordCollector::default();
        let changelog = collector.changelog();
        let mut out = Vec::with_capacity(8);
        collector.send(record("s1"));
        changelog.send(record("c1"));
        collector.send(record("s2"));
        changelog.send(record("c2"));
        let names = |out: &[ProducerRecord]| -> Vec<String> {
            out.iter().map(|record| record.topic.to_string()).collect()
        };
        collector.take_into(&mut out);
        assert_eq!(names(&out), ["s1", "c1", "s2", "c2"]);
        out.clear();
        changelog.send(record("c3"));
        collector.send(record("s3"));
        collector.take_into(&mut out);
        assert_eq!(names(&out), ["c3", "s3"]);
    }
}
