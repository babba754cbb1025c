//! Window stores: values per key and time window, with retention.

mod caching;
mod logging;
mod schema;
mod store;

pub use self::caching::CachingWindowStore;
pub use self::logging::LoggingWindowStore;
pub use self::schema::decode_changelog_key;
pub use self::store::{InMemoryWindowStore, RocksDbWindowStore, SegmentedWindowStore};

use crate::changelog::ChangelogRecord;
use crate::error::Result;
use crate::key_value::FlushListener;
use crate::range::ScanOrder;
use crate::state_store::StateStore;

/// A key together with the start of its window.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct WindowedKey {
    /// The record key.
    pub key: Vec<u8>,
    /// Start of the window, in milliseconds.
    pub window_start: i64,
}

/// An iterator over windowed entries.
pub type WindowIter<'a> = Box<dyn Iterator<Item = Result<(WindowedKey, Vec<u8>)>> + 'a>;

/// A store of values per key and window start.
///
/// Entries are kept while `window_start > stream_time - retention`, where
/// stream time is the largest window start written; older entries are
/// invisible and dropped segment by segment (see [`Retention`](crate::Retention)).
///
/// In retain-duplicates mode (join buffers) every put is kept as a separate
/// entry, distinguished by a sequence number that counts the puts to the same
/// key and window; deletes are ignored in that mode, as in Kafka Streams.
///
/// Scans return entries per segment in key, then window-start order: a
/// single-key fetch is therefore in time order; a key-range fetch is ordered
/// by key within each segment and by segment across them (as Kafka Streams).
pub trait WindowStore: StateStore {
    /// Whether each put is kept as a separate entry.
    fn retain_duplicates(&self) -> bool;

    /// Stores `value` for `key` in the window starting at `window_start`;
    /// `None` deletes the entry.
    ///
    /// Returns the sequence number the write was stored under (always 0
    /// unless duplicates are retained), or `None` if the write was dropped:
    /// its window had expired, or it was a delete in retain-duplicates mode.
    fn put(&mut self, key: &[u8], value: Option<&[u8]>, window_start: i64) -> Result<Option<u32>>;

    /// The value for `key` in the window starting at `window_start` (the
    /// first one, if duplicates are retained).
    fn fetch_window(&self, key: &[u8], window_start: i64) -> Result<Option<Vec<u8>>>;

    /// Entries with `key_from <= key <= key_to` (`None`: open end) and
    /// `time_from <= window_start <= time_to`, in `order`.
    fn scan_windows(
        &self,
        key_from: Option<&[u8]>,
        key_to: Option<&[u8]>,
        time_from: i64,
        time_to: i64,
        order: ScanOrder,
    ) -> WindowIter<'_>;

    /// An estimate of the number of entries.
    fn approximate_num_entries(&self) -> Result<u64>;

    /// Applies a batch of this store's changelog records in one write,
    /// bypassing changelogging.
    fn restore_batch(&mut self, records: &[ChangelogRecord]) -> Result<()>;

    /// Hands `listener` to the store's caching layer, which calls it for
    /// every window it flushes (keys in Kafka's changelog layout: key,
    /// window start, seqnum); fails with
    /// [`StoreError::NotCached`](crate::StoreError::NotCached) if the store
    /// has no caching layer.
    fn set_flush_listener(&mut self, listener: FlushListener) -> Result<()>;

    /// The windows of `key` starting in `[time_from, time_to]`, in time order.
    fn fetch(&self, key: &[u8], time_from: i64, time_to: i64) -> WindowIter<'_> {
        self.scan_windows(Some(key), Some(key), time_from, time_to, ScanOrder::Forward)
    }

    /// [`fetch`](Self::fetch) in reverse time order.
    fn backward_fetch(&self, key: &[u8], time_from: i64, time_to: i64) -> WindowIter<'_> {
        self.scan_windows(
            Some(key),
            Some(key),
            time_from,
            time_to,
            ScanOrder::Backward,
        )
    }

    /// The windows of keys in `[key_from, key_to]` starting in
    /// `[time_from, time_to]`.
    fn fetch_range(
        &self,
        key_from: Option<&[u8]>,
        key_to: Option<&[u8]>,
        time_from: i64,
        time_to: i64,
    ) -> WindowIter<'_> {
        self.scan_windows(key_from, key_to, time_from, time_to, ScanOrder::Forward)
    }

    /// [`fetch_range`](Self::fetch_range) in reverse order.
    fn backward_fetch_range(
        &self,
        key_from: Option<&[u8]>,
        key_to: Option<&[u8]>,
        time_from: i64,
        time_to: i64,
    ) -> WindowIter<'_> {
        self.scan_windows(key_from, key_to, time_from, time_to, ScanOrder::Backward)
    }

    /// The windows of every key starting in `[time_from, time_to]`.
    fn fetch_all(&self, time_from: i64, time_to: i64) -> WindowIter<'_> {
        self.scan_windows(None, None, time_from, time_to, ScanOrder::Forward)
    }

    /// [`fetch_all`](Self::fetch_all) in reverse order.
    fn backward_fetch_all(&self, time_from: i64, time_to: i64) -> WindowIter<'_> {
        self.scan_windows(None, None, time_from, time_to, ScanOrder::Backward)
    }

    /// Every live entry.
    fn all(&self) -> WindowIter<'_> {
        self.fetch_all(i64::MIN, i64::MAX)
    }

    /// Every live entry, in reverse order.
    fn backward_all(&self) -> WindowIter<'_> {
        self.backward_fetch_all(i64::MIN, i64::MAX)
    }
}
