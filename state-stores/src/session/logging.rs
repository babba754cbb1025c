//! The changelogging layer for session stores.

use super::{schema, SessionIter, SessionKey, SessionStore};
use crate::changelog::{ChangelogRecord, ChangelogWriter};
use crate::error::Result;
use crate::key_value::FlushListener;
use crate::range::ScanOrder;
use crate::state_store::StateStore;

/// Wraps a session store and logs every write, keyed by
/// `key ++ end ++ start`.
pub struct LoggingSessionStore {
    inner: Box<dyn SessionStore>,
    changelog: ChangelogWriter,
}

impl LoggingSessionStore {
    pub(crate) fn new(inner: Box<dyn SessionStore>, changelog: ChangelogWriter) -> Self {
        Self { inner, changelog }
    }
}

impl StateStore for LoggingSessionStore {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn persistent(&self) -> bool {
        self.inner.persistent()
    }

    fn flush(&mut self) -> Result<()> {
        self.inner.flush()
    }

    fn flush_cache(&mut self) -> Result<()> {
        self.inner.flush_cache()
    }

    fn close(&mut self) -> Result<()> {
        self.inner.close()
    }
}

impl SessionStore for LoggingSessionStore {
    fn put(&mut self, session: &SessionKey, aggregate: &[u8]) -> Result<()> {
        self.inner.put(session, aggregate)?;
        self.changelog
            .log(schema::changelog_key(session), Some(aggregate))
    }

    fn remove(&mut self, session: &SessionKey) -> Result<()> {
        self.inner.remove(session)?;
        self.changelog.log(schema::changelog_key(session), None)
    }

    fn fetch_session(&self, key: &[u8], start: i64, end: i64) -> Result<Option<Vec<u8>>> {
        self.inner.fetch_session(key, start, end)
    }

    fn scan_sessions(
        &self,
        key_from: Option<&[u8]>,
        key_to: Option<&[u8]>,
        earliest_session_end: i64,
        latest_session_start: i64,
        order: ScanOrder,
    ) -> SessionIter<'_> {
        self.inner.scan_sessions(
            key_from,
            key_to,
            earliest_session_end,
            latest_session_start,
            order,
        )
    }

    fn sessions_ending_within(&self, earliest_end: i64, latest_end: i64) -> SessionIter<'_> {
        self.inner.sessions_ending_within(earliest_end, latest_end)
    }

    fn approximate_num_entries(&self) -> Result<u64> {
        self.inner.approximate_num_entries()
    }

    fn restore_batch(&mut self, records: &[ChangelogRecord]) -> Result<()> {
        self.inner.restore_batch(records)
    }

    fn set_flush_listener(&mut self, listener: FlushListener) -> Result<()> {
        self.inner.set_flush_listener(listener)
    }
}
