//! The session store on a [`BytesBackend`], segmented by session end.

use super::{schema, SessionIter, SessionKey, SessionStore};
use crate::backend::{BytesBackend, InMemoryBackend, RocksDbBackend};
use crate::changelog::ChangelogRecord;
use crate::error::{Result, StoreError};
use crate::key_value::{FlushListener, KeyValueIter};
use crate::range::ScanOrder;
use crate::segments::{segment_prefix, Retention, SegmentedBytes, TimedWrite};
use crate::state_store::StateStore;

/// A session store kept in a [`BytesBackend`], in time segments.
pub struct SegmentedSessionStore<B> {
    segmented: SegmentedBytes<B>,
}

/// A session store in memory.
pub type InMemorySessionStore = SegmentedSessionStore<InMemoryBackend>;

/// A session store in RocksDB.
pub type RocksDbSessionStore = SegmentedSessionStore<RocksDbBackend>;

impl<B: BytesBackend> SegmentedSessionStore<B> {
    /// Opens the session store kept in `backend` (empty or written by a
    /// store with the same segment interval).
    pub fn open(backend: B, retention: Retention) -> Result<Self> {
        Ok(Self {
            segmented: SegmentedBytes::open(backend, retention)?,
        })
    }

    /// Counts the entries physically present, expired or not.
    #[cfg(test)]
    pub(crate) fn stored_entries(&self) -> Result<usize> {
        self.segmented.stored_entries()
    }

    fn storage_key(&self, session: &SessionKey) -> Vec<u8> {
        let prefix = segment_prefix(self.segmented.segment_id(session.end));
        schema::storage_key(&prefix, session)
    }

    /// The sessions among the storage `entries` that `keep` accepts.
    fn sessions<'a>(
        &'a self,
        entries: KeyValueIter<'a>,
        keep: impl Fn(&SessionKey) -> bool + 'a,
    ) -> SessionIter<'a> {
        let name = self.name();
        Box::new(entries.filter_map(move |entry| {
            let decoded = entry.and_then(|(key, value)| {
                let session =
                    schema::decode_storage_key(&key).ok_or_else(|| StoreError::Corrupt {
                        store: name.to_owned(),
                        reason: "malformed session key".to_owned(),
                    })?;
                Ok((session, value))
            });
            match decoded {
                Ok((session, value)) => keep(&session).then_some(Ok((session, value))),
                Err(error) => Some(Err(error)),
            }
        }))
    }

    fn write(&mut self, session: &SessionKey, aggregate: Option<&[u8]>) -> Result<()> {
        if !self.segmented.observe(session.end) {
            tracing::debug!(
                store = self.name(),
                end = session.end,
                "dropping write to expired session"
            );
            return Ok(());
        }
        let storage_key = self.storage_key(session);
        self.segmented.write(session.end, &storage_key, aggregate)
    }
}

impl<B: BytesBackend> StateStore for SegmentedSessionStore<B> {
    fn name(&self) -> &str {
        self.segmented.name()
    }

    fn persistent(&self) -> bool {
        self.segmented.backend().persistent()
    }

    fn flush(&mut self) -> Result<()> {
        self.segmented.flush()
    }

    /// No cache here: a commit leaves the data where it is.
    fn flush_cache(&mut self) -> Result<()> {
        Ok(())
    }

    fn close(&mut self) -> Result<()> {
        self.segmented.close()
    }
}

impl<B: BytesBackend> SessionStore for SegmentedSessionStore<B> {
    fn put(&mut self, session: &SessionKey, aggregate: &[u8]) -> Result<()> {
        self.write(session, Some(aggregate))
    }

    fn remove(&mut self, session: &SessionKey) -> Result<()> {
        self.write(session, None)
    }

    fn fetch_session(&self, key: &[u8], start: i64, end: i64) -> Result<Option<Vec<u8>>> {
        if !self.segmented.is_live(end) {
            return Ok(None);
        }
        let session = SessionKey {
            key: key.to_vec(),
            start,
            end,
        };
        self.segmented.backend().get(&self.storage_key(&session))
    }

    fn scan_sessions(
        &self,
        key_from: Option<&[u8]>,
        key_to: Option<&[u8]>,
        earliest_session_end: i64,
        latest_session_start: i64,
        order: ScanOrder,
    ) -> SessionIter<'_> {
        if matches!((key_from, key_to), (Some(from), Some(to)) if from > to) {
            return Box::new(std::iter::empty());
        }
        let earliest_end = earliest_session_end.max(self.segmented.min_live_timestamp());
        let (key_from, key_to) = (key_from.map(<[u8]>::to_vec), key_to.map(<[u8]>::to_vec));
        // Session ends are unbounded above, so every segment from the
        // earliest end on may hold matches.
        let entries = self
            .segmented
            .scan(earliest_end, i64::MAX, order, move |prefix| {
                schema::scan_range(prefix, key_from.as_deref(), key_to.as_deref(), earliest_end)
            });
        self.sessions(entries, move |session| {
            session.end >= earliest_end && session.start <= latest_session_start
        })
    }

    fn sessions_ending_within(&self, earliest_end: i64, latest_end: i64) -> SessionIter<'_> {
        let entries = self.segmented.scan_held(
            earliest_end,
            latest_end,
            ScanOrder::Forward,
            move |prefix| schema::scan_range(prefix, None, None, earliest_end),
        );
        self.sessions(entries, move |session| {
            (earliest_end..=latest_end).contains(&session.end)
        })
    }

    fn approximate_num_entries(&self) -> Result<u64> {
        self.segmented.approximate_len()
    }

    fn restore_batch(&mut self, records: &[ChangelogRecord]) -> Result<()> {
        let mut writes = Vec::with_capacity(records.len());
        for record in records {
            let session = schema::decode_changelog_key(&record.key).ok_or_else(|| {
                StoreError::InvalidChangelogRecord {
                    store: self.name().to_owned(),
                    reason: format!("session changelog key of {} bytes", record.key.len()),
                }
            })?;
            // The same filter as `put`, applied in changelog order.
            if !self.segmented.observe(session.end) {
                continue;
            }
            writes.push(TimedWrite {
                timestamp: session.end,
                key: self.storage_key(&session),
                value: record.value.as_deref(),
            });
        }
        self.segmented.write_batch(&writes)
    }

    fn set_flush_listener(&mut self, _listener: FlushListener) -> Result<()> {
        Err(StoreError::NotCached(self.name().to_owned()))
    }
}
