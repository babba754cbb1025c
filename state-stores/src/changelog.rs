//! Changelog records, the sink they are sent to, and the record timestamp
//! they are stamped with.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use crate::error::{ExternalError, Result, StoreError};

/// One change of a store, as written to (and restored from) its changelog
/// topic.
///
/// Key layouts: key-value stores log the plain key; window stores log
/// `key ++ window_start (8 bytes BE) ++ seqnum (4 bytes BE)`; session stores
/// log `key ++ end (8 bytes BE) ++ start (8 bytes BE)` - the layouts of
/// Kafka Streams' `WindowKeySchema` and `SessionKeySchema`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangelogRecord {
    /// The changelog key.
    pub key: Vec<u8>,
    /// The new value; `None` is a tombstone (the entry was deleted).
    pub value: Option<Vec<u8>>,
    /// Timestamp of the input record that caused the change.
    pub timestamp: i64,
}

/// Where changelogging layers send their records; implemented by the engine
/// (typically by buffering into a producer).
///
/// One sink is shared by all stores of a task, hence `&self` and the store
/// name; implementations use interior mutability.
pub trait ChangelogSink: Send + Sync {
    /// Sends one change of the store called `store_name`.
    fn send(
        &self,
        store_name: &str,
        record: ChangelogRecord,
    ) -> std::result::Result<(), ExternalError>;
}

/// The timestamp of the record currently being processed.
///
/// The engine sets it before handing each input record to a processor; the
/// changelogging layer stamps it onto the changes it logs. When a caching
/// layer flushes an entry it temporarily sets the timestamp of the write that
/// produced the entry, so logged changes carry the time of the write, not of
/// the flush (as Kafka Streams does with its record context).
///
/// Cloning yields another handle to the same timestamp.
#[derive(Debug, Clone, Default)]
pub struct RecordTimestamp(Arc<AtomicI64>);

impl RecordTimestamp {
    /// A handle initialised to 0.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the current record timestamp.
    #[inline]
    pub fn set(&self, timestamp: i64) {
        self.0.store(timestamp, Ordering::Relaxed);
    }

    /// The current record timestamp.
    #[inline]
    pub fn get(&self) -> i64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// What a changelogging layer needs to log: the sink, the store name and the
/// timestamp to stamp records with.
#[derive(Clone)]
pub(crate) struct ChangelogWriter {
    store: String,
    sink: Arc<dyn ChangelogSink>,
    timestamp: RecordTimestamp,
}

impl ChangelogWriter {
    pub(crate) fn new(
        store: &str,
        sink: Arc<dyn ChangelogSink>,
        timestamp: RecordTimestamp,
    ) -> Self {
        Self {
            store: store.to_owned(),
            sink,
            timestamp,
        }
    }

    /// Sends one change stamped with the current record timestamp.
    pub(crate) fn log(&self, key: Vec<u8>, value: Option<Vec<u8>>) -> Result<()> {
        let record = ChangelogRecord {
            key,
            value,
            timestamp: self.timestamp.get(),
        };
        self.sink
            .send(&self.store, record)
            .map_err(|source| StoreError::ChangelogSink {
                store: self.store.clone(),
                source,
            })
    }
}
