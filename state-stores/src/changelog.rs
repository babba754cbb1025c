//! Changelog records, the sink they are sent to, and the record context
//! (timestamp and headers) that stores learn the current record's from.

use std::any::Any;
use std::borrow::Cow;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use crate::error::{ExternalError, Result, StoreError};
use crate::timestamped::ValueAndTimestamp;

/// One change of a store, as written to (and restored from) its changelog
/// topic.
///
/// Key layouts: key-value stores log the plain key; window stores log
/// `key ++ window_start (8 bytes BE) ++ seqnum (4 bytes BE)`; session stores
/// log `key ++ end (8 bytes BE) ++ start (8 bytes BE)` - the layouts of
/// Kafka Streams' `WindowKeySchema` and `SessionKeySchema`. A timestamped
/// store (see [`StoreBuilder::timestamped`](crate::StoreBuilder::timestamped))
/// logs its values without their leading timestamp, stamping the record
/// with it instead, as Kafka's timestamped changelogging stores do.
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

/// What the stores learn of the record being processed (Kafka Streams'
/// record context): its timestamp and its headers.
///
/// The engine sets both before handing a record to a processor. The
/// changelogging layer stamps the timestamp onto the changes it logs; a
/// caching layer keeps both with each entry it caches, and when it flushes
/// the entry it sets the timestamp of the write that produced it, so logged
/// changes carry the time of the write, not of the flush, and the flushed
/// update goes downstream with that write's headers.
///
/// Cloning yields another handle to the same context.
#[derive(Clone, Default)]
pub struct RecordContext(Arc<ContextCell>);

#[derive(Default)]
struct ContextCell {
    timestamp: AtomicI64,
    /// Whether `headers` holds any: most records have none, and checking
    /// this flag spares them the lock.
    has_headers: AtomicBool,
    headers: Mutex<Option<RecordHeaders>>,
    /// Whether a store keeps where records were read (a caching layer
    /// does): only then is `source` set, so tasks without caches pay
    /// nothing for it.
    tracks_sources: AtomicBool,
    source: Mutex<Option<RecordSource>>,
}

/// Where a record was read: its topic, partition and offset (the rest of
/// Kafka's record context). A caching layer keeps it with each write and
/// hands it on when it flushes the entry, so that what is forwarded then
/// still says where it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordSource {
    /// The topic.
    pub topic: &'static str,
    /// The partition.
    pub partition: i32,
    /// The offset.
    pub offset: i64,
}

impl RecordContext {
    /// A context at timestamp 0, without headers.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the current record timestamp.
    #[inline]
    pub fn set_timestamp(&self, timestamp: i64) {
        self.0.timestamp.store(timestamp, Ordering::Relaxed);
    }

    /// The current record timestamp.
    #[inline]
    pub fn timestamp(&self) -> i64 {
        self.0.timestamp.load(Ordering::Relaxed)
    }

    /// The current record's headers, if it has any.
    #[inline]
    pub fn headers(&self) -> Option<RecordHeaders> {
        if !self.0.has_headers.load(Ordering::Acquire) {
            return None;
        }
        self.lock_headers().clone()
    }

    /// Whether the current record has headers.
    #[inline]
    pub fn has_headers(&self) -> bool {
        self.0.has_headers.load(Ordering::Acquire)
    }

    /// Sets the current record's headers and returns the previous ones.
    pub fn replace_headers(&self, headers: Option<RecordHeaders>) -> Option<RecordHeaders> {
        let mut held = self.lock_headers();
        self.0
            .has_headers
            .store(headers.is_some(), Ordering::Release);
        std::mem::replace(&mut held, headers)
    }

    /// Asks for the current record's source to be kept (see
    /// [`set_source`](Self::set_source)); a caching layer asks.
    pub fn track_sources(&self) {
        self.0.tracks_sources.store(true, Ordering::Relaxed);
    }

    /// Whether a store asked for the current record's source.
    #[inline]
    pub fn tracks_sources(&self) -> bool {
        self.0.tracks_sources.load(Ordering::Relaxed)
    }

    /// Sets where the current record was read (`None`: it was not read
    /// from a topic, as during punctuation).
    pub fn set_source(&self, source: Option<RecordSource>) {
        *lock(&self.0.source) = source;
    }

    /// Where the current record was read, if it was and a store asked.
    pub fn source(&self) -> Option<RecordSource> {
        if !self.tracks_sources() {
            return None;
        }
        *lock(&self.0.source)
    }

    fn lock_headers(&self) -> MutexGuard<'_, Option<RecordHeaders>> {
        lock(&self.0.headers)
    }
}

/// Locks `mutex`. Replacing an `Option` cannot panic half-way: a poisoned
/// lock still holds a whole value.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl std::fmt::Debug for RecordContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecordContext")
            .field("timestamp", &self.timestamp())
            .field("has_headers", &self.has_headers())
            .finish()
    }
}

/// A record's headers as the stores carry them: opaque, since the engine
/// defines what headers are, and shared, so caching them costs a reference
/// count.
#[derive(Clone)]
pub struct RecordHeaders(Arc<dyn Any + Send + Sync>);

impl RecordHeaders {
    /// Wraps `headers`.
    pub fn new(headers: impl Any + Send + Sync) -> Self {
        Self(Arc::new(headers))
    }

    /// The headers, if they are a `T`.
    pub fn downcast_ref<T: Any>(&self) -> Option<&T> {
        self.0.downcast_ref()
    }
}

/// The same headers: one record's, shared.
impl PartialEq for RecordHeaders {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for RecordHeaders {}

impl std::fmt::Debug for RecordHeaders {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RecordHeaders(..)")
    }
}

/// What a changelogging layer needs to log: the sink, the store name, the
/// timestamp to stamp records with, and the store's value layout.
#[derive(Clone)]
pub(crate) struct ChangelogWriter {
    store: String,
    sink: Arc<dyn ChangelogSink>,
    context: RecordContext,
    /// Whether values lead with their `ValueAndTimestamp` timestamp.
    timestamped: bool,
}

impl ChangelogWriter {
    pub(crate) fn new(store: &str, sink: Arc<dyn ChangelogSink>, context: RecordContext) -> Self {
        Self {
            store: store.to_owned(),
            sink,
            context,
            timestamped: false,
        }
    }

    /// A writer for a store whose values lead with their timestamp when
    /// `timestamped` (`ValueAndTimestamp`).
    pub(crate) fn timestamped(mut self, timestamped: bool) -> Self {
        self.timestamped = timestamped;
        self
    }

    /// Sends one change, stamped with the current record timestamp; a
    /// timestamped value goes without its timestamp, which stamps it
    /// instead (Kafka's `ChangeLoggingTimestampedKeyValueBytesStore`).
    /// Only the bytes sent are copied.
    pub(crate) fn log(&self, key: Vec<u8>, value: Option<&[u8]>) -> Result<()> {
        let (value, timestamp) = match value {
            Some(value) if self.timestamped => {
                let (timestamp, plain) = ValueAndTimestamp::split(value)?;
                (Some(plain.to_vec()), timestamp)
            }
            value => (value.map(<[u8]>::to_vec), self.context.timestamp()),
        };
        let record = ChangelogRecord {
            key,
            value,
            timestamp,
        };
        self.sink
            .send(&self.store, record)
            .map_err(|source| StoreError::ChangelogSink {
                store: self.store.clone(),
                source,
            })
    }

    /// `records` read back from the changelog, as the store holds them: a
    /// timestamped store gets each value's timestamp (its record's) put
    /// back in front (Kafka's `RecordConverters`).
    pub(crate) fn restored<'a>(
        &self,
        records: &'a [ChangelogRecord],
    ) -> Cow<'a, [ChangelogRecord]> {
        if !self.timestamped {
            return Cow::Borrowed(records);
        }
        let stored = records.iter().map(|record| ChangelogRecord {
            key: record.key.clone(),
            value: record
                .value
                .as_ref()
                .map(|value| ValueAndTimestamp::encode(value, record.timestamp)),
            timestamp: record.timestamp,
        });
        Cow::Owned(stored.collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_suite::recording_writer;

    /// Kafka's timestamped changelogging: the plain value, stamped with
    /// its own timestamp; tombstones take the record's. Restoring puts the
    /// timestamp back in front.
    #[test]
    fn timestamped_values_are_logged_plain_and_restored_whole() -> Result<()> {
        let (writer, sink, context) = recording_writer("ts");
        let writer = writer.timestamped(true);
        context.set_timestamp(99);
        writer.log(b"k".to_vec(), Some(&ValueAndTimestamp::encode(b"v", 7)))?;
        writer.log(b"k".to_vec(), None)?;
        let logged = sink.records_of("ts")?;
        let record = |value: Option<&[u8]>, timestamp| ChangelogRecord {
            key: b"k".to_vec(),
            value: value.map(<[u8]>::to_vec),
            timestamp,
        };
        assert_eq!(logged, [record(Some(b"v"), 7), record(None, 99)]);
        let whole = ValueAndTimestamp::encode(b"v", 7);
        assert_eq!(
            writer.restored(&logged).into_owned(),
            [record(Some(&whole), 7), record(None, 99)]
        );
        // A value too short to hold a timestamp is an error, not a panic.
        assert!(writer.log(b"k".to_vec(), Some(&[1, 2])).is_err());
        Ok(())
    }

    #[test]
    fn plain_values_are_logged_as_they_are() -> Result<()> {
        let (writer, sink, context) = recording_writer("plain");
        context.set_timestamp(5);
        writer.log(b"k".to_vec(), Some(b"v"))?;
        let logged = sink.records_of("plain")?;
        assert_eq!(logged[0].value.as_deref(), Some(&b"v"[..]));
        assert_eq!(logged[0].timestamp, 5);
        assert!(matches!(writer.restored(&logged), Cow::Borrowed(_)));
        Ok(())
    }
}
