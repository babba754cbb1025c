//! What a user learns of store restores as they go (Kafka's
//! `StateRestoreListener`).

use crate::record::TopicPartition;

/// Told of the progress of every restore of a store from its changelog
/// partition, by the stream thread restoring it (see
/// [`KafkaStreams::set_state_restore_listener`](super::KafkaStreams::set_state_restore_listener)).
/// Every method does nothing by default. The thread waits for them: they
/// should be quick.
pub trait StateRestoreListener: Send + Sync {
    /// The restore of `store` from `changelog` begins: it reads from offset
    /// `start` up to (not including) `end`.
    fn on_restore_start(&self, changelog: &TopicPartition, store: &str, start: i64, end: i64) {
        let _ = (changelog, store, start, end);
    }

    /// A batch of `records` was restored, the last at offset `batch_end`.
    fn on_batch_restored(
        &self,
        changelog: &TopicPartition,
        store: &str,
        batch_end: i64,
        records: u64,
    ) {
        let _ = (changelog, store, batch_end, records);
    }

    /// The restore is done: `total` records were restored.
    fn on_restore_end(&self, changelog: &TopicPartition, store: &str, total: u64) {
        let _ = (changelog, store, total);
    }
}
