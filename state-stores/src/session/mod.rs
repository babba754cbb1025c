//! Session stores: aggregates per key and activity session, with retention.

mod caching;
mod logging;
mod schema;
mod store;

pub use self::caching::CachingSessionStore;
pub use self::logging::LoggingSessionStore;
pub use self::schema::decode_changelog_key;
pub use self::store::{InMemorySessionStore, RocksDbSessionStore, SegmentedSessionStore};

use crate::changelog::ChangelogRecord;
use crate::error::Result;
use crate::key_value::FlushListener;
use crate::range::ScanOrder;
use crate::state_store::StateStore;

/// A key together with the bounds of one of its sessions (both inclusive,
/// in milliseconds).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SessionKey {
    /// The record key.
    pub key: Vec<u8>,
    /// Timestamp of the session's first record.
    pub start: i64,
    /// Timestamp of the session's last record.
    pub end: i64,
}

/// An iterator over sessions and their aggregates.
pub type SessionIter<'a> = Box<dyn Iterator<Item = Result<(SessionKey, Vec<u8>)>> + 'a>;

/// A store of aggregates per key and session.
///
/// Sessions are kept while `end > stream_time - retention`, where stream
/// time is the largest session end written, and dropped segment by segment
/// (segments by session end, see [`Retention`](crate::Retention)).
///
/// Scans return sessions per segment ordered by key, then end, then start;
/// for a single key that is end-then-start order overall.
pub trait SessionStore: StateStore {
    /// Stores the aggregate of `session`.
    fn put(&mut self, session: &SessionKey, aggregate: &[u8]) -> Result<()>;

    /// Removes `session`.
    fn remove(&mut self, session: &SessionKey) -> Result<()>;

    /// The aggregate of the session of `key` with exactly these bounds.
    fn fetch_session(&self, key: &[u8], start: i64, end: i64) -> Result<Option<Vec<u8>>>;

    /// Sessions of keys in `[key_from, key_to]` (`None`: open end) with
    /// `end >= earliest_session_end` and `start <= latest_session_start`,
    /// in `order`.
    fn scan_sessions(
        &self,
        key_from: Option<&[u8]>,
        key_to: Option<&[u8]>,
        earliest_session_end: i64,
        latest_session_start: i64,
        order: ScanOrder,
    ) -> SessionIter<'_>;

    /// The sessions of every key that end in `[earliest_end, latest_end]`,
    /// in storage order, including sessions past the retention period
    /// whose segment the store still holds (Kafka's `findSessions` by end
    /// times on its time-ordered session store). An aggregation that emits
    /// final results reads the sessions that closed with it: the retention
    /// cut of the other scans could hide a session in the very step that
    /// closes it.
    fn sessions_ending_within(&self, earliest_end: i64, latest_end: i64) -> SessionIter<'_>;

    /// An estimate of the number of sessions.
    fn approximate_num_entries(&self) -> Result<u64>;

    /// Applies a batch of this store's changelog records in one write,
    /// bypassing changelogging.
    fn restore_batch(&mut self, records: &[ChangelogRecord]) -> Result<()>;

    /// Hands `listener` to the store's caching layer, which calls it for
    /// every session it flushes (keys in Kafka's changelog layout: key,
    /// end, start); fails with
    /// [`StoreError::NotCached`](crate::StoreError::NotCached) if the store
    /// has no caching layer.
    fn set_flush_listener(&mut self, listener: FlushListener) -> Result<()>;

    /// The sessions of `key` that overlap or touch `[earliest_session_end,
    /// latest_session_start]`: those with `end >= earliest_session_end` and
    /// `start <= latest_session_start`. A session-window aggregator calls
    /// this with `(timestamp - gap, timestamp + gap)` to find the sessions a
    /// new record merges.
    fn find_sessions(
        &self,
        key: &[u8],
        earliest_session_end: i64,
        latest_session_start: i64,
    ) -> SessionIter<'_> {
        self.scan_sessions(
            Some(key),
            Some(key),
            earliest_session_end,
            latest_session_start,
            ScanOrder::Forward,
        )
    }

    /// [`find_sessions`](Self::find_sessions) in reverse order.
    fn backward_find_sessions(
        &self,
        key: &[u8],
        earliest_session_end: i64,
        latest_session_start: i64,
    ) -> SessionIter<'_> {
        self.scan_sessions(
            Some(key),
            Some(key),
            earliest_session_end,
            latest_session_start,
            ScanOrder::Backward,
        )
    }

    /// [`find_sessions`](Self::find_sessions) over the keys in
    /// `[key_from, key_to]`.
    fn find_sessions_in_range(
        &self,
        key_from: Option<&[u8]>,
        key_to: Option<&[u8]>,
        earliest_session_end: i64,
        latest_session_start: i64,
    ) -> SessionIter<'_> {
        self.scan_sessions(
            key_from,
            key_to,
            earliest_session_end,
            latest_session_start,
            ScanOrder::Forward,
        )
    }

    /// Every live session of `key`.
    fn fetch(&self, key: &[u8]) -> SessionIter<'_> {
        self.find_sessions(key, i64::MIN, i64::MAX)
    }

    /// Every live session of `key`, in reverse order.
    fn backward_fetch(&self, key: &[u8]) -> SessionIter<'_> {
        self.backward_find_sessions(key, i64::MIN, i64::MAX)
    }

    /// Every live session of the keys in `[key_from, key_to]`.
    fn fetch_range(&self, key_from: Option<&[u8]>, key_to: Option<&[u8]>) -> SessionIter<'_> {
        self.find_sessions_in_range(key_from, key_to, i64::MIN, i64::MAX)
    }
}
