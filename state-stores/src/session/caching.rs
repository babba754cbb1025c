//! The caching layer for session stores: a [`CacheLayer`] in front of the
//! (logged) store, as Kafka Streams' `CachingSessionStore`. See
//! [`crate::write_cache`] for how the cache collapses, orders and evicts
//! writes.
//!
//! The cache is keyed by the wrapped store's own storage key (segment by
//! session end, then key, end and start), so its entries sort exactly as
//! the store scans, and a scan merges the two in one pass.

use super::schema;
use super::{SessionIter, SessionKey, SessionStore};
use crate::changelog::{ChangelogRecord, RecordContext};
use crate::error::{Result, StoreError};
use crate::key_value::KeyValueIter;
use crate::range::ScanOrder;
use crate::segments::{segment_prefix, Retention};
use crate::state_store::StateStore;
use crate::write_cache::{CacheLayer, CachedEntry, FlushListener, MergedScan, WriteThrough};

/// A session store behind a write cache of at most `max_bytes`.
pub struct CachingSessionStore {
    inner: Box<dyn SessionStore>,
    cache: CacheLayer,
    segment_interval_ms: i64,
}

impl CachingSessionStore {
    /// Caches writes to `inner` (whose segments follow `retention`) in at
    /// most `max_bytes`, stamping cached writes with the current value of
    /// `timestamp`.
    pub fn new(
        inner: Box<dyn SessionStore>,
        max_bytes: usize,
        timestamp: RecordContext,
        retention: Retention,
    ) -> Self {
        Self {
            inner,
            cache: CacheLayer::new(max_bytes, timestamp),
            segment_interval_ms: retention.segment_interval_ms(),
        }
    }

    fn segment(&self, end: i64) -> i64 {
        end.div_euclid(self.segment_interval_ms)
    }

    fn cache_key(&self, session: &SessionKey) -> Vec<u8> {
        schema::storage_key(&segment_prefix(self.segment(session.end)), session)
    }

    /// The sessions of `cached` and `stored` (both in `order`, keyed by
    /// storage key) merged, the cached one winning a tie.
    fn merged<'a>(
        &'a self,
        cached: Vec<CachedEntry>,
        stored: KeyValueIter<'a>,
        order: ScanOrder,
    ) -> SessionIter<'a> {
        Box::new(MergedScan::new(cached, stored, order).map(|entry| {
            let (storage_key, value) = entry?;
            let session =
                schema::decode_storage_key(&storage_key).ok_or_else(|| corrupt(self.name()))?;
            Ok((session, value))
        }))
    }

    /// The cached sessions of a scan, in forward order.
    fn cached_in(
        &self,
        key_from: Option<&[u8]>,
        key_to: Option<&[u8]>,
        earliest_end: i64,
        latest_start: i64,
    ) -> Vec<CachedEntry> {
        // Session ends are unbounded above: every segment from the earliest
        // end on may hold matches.
        let mut entries =
            self.cache
                .entries_in_segments(self.segment(earliest_end), i64::MAX, |prefix| {
                    schema::scan_range(prefix, key_from, key_to, earliest_end)
                });
        entries.retain(|(storage_key, _)| {
            schema::decode_storage_key(storage_key).is_some_and(|session| {
                key_from.is_none_or(|from| session.key.as_slice() >= from)
                    && key_to.is_none_or(|to| session.key.as_slice() <= to)
                    && session.end >= earliest_end
                    && session.start <= latest_start
            })
        });
        entries
    }
}

fn corrupt(store: &str) -> StoreError {
    StoreError::Corrupt {
        store: store.to_owned(),
        reason: "malformed cached session key".to_owned(),
    }
}

impl WriteThrough for Box<dyn SessionStore> {
    fn store_name(&self) -> &str {
        self.name()
    }

    fn read(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        let session = schema::decode_storage_key(key).ok_or_else(|| corrupt(self.name()))?;
        self.fetch_session(&session.key, session.start, session.end)
    }

    fn write(&mut self, key: &[u8], value: Option<&[u8]>) -> Result<()> {
        let session = schema::decode_storage_key(key).ok_or_else(|| corrupt(self.name()))?;
        match value {
            Some(value) => self.put(&session, value),
            None => self.remove(&session),
        }
    }

    /// Listeners see Kafka's session key layout: key, end, start.
    fn listener_key(&self, key: &[u8]) -> Vec<u8> {
        match schema::decode_storage_key(key) {
            Some(session) => schema::changelog_key(&session),
            None => key.to_vec(),
        }
    }
}

impl StateStore for CachingSessionStore {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn persistent(&self) -> bool {
        self.inner.persistent()
    }

    fn flush(&mut self) -> Result<()> {
        self.cache.flush(&mut self.inner)?;
        self.inner.flush()
    }

    fn flush_cache(&mut self) -> Result<()> {
        self.cache.flush(&mut self.inner)?;
        self.inner.flush_cache()
    }

    fn close(&mut self) -> Result<()> {
        self.cache.close(&mut self.inner, |inner| inner.close())
    }
}

impl SessionStore for CachingSessionStore {
    fn put(&mut self, session: &SessionKey, aggregate: &[u8]) -> Result<()> {
        let cache_key = self.cache_key(session);
        self.cache
            .write(&cache_key, Some(aggregate), &mut self.inner)
    }

    fn remove(&mut self, session: &SessionKey) -> Result<()> {
        let cache_key = self.cache_key(session);
        self.cache.write(&cache_key, None, &mut self.inner)
    }

    fn fetch_session(&self, key: &[u8], start: i64, end: i64) -> Result<Option<Vec<u8>>> {
        let session = SessionKey {
            key: key.to_vec(),
            start,
            end,
        };
        match self.cache.get(&self.cache_key(&session)) {
            Some(value) => Ok(value.map(<[u8]>::to_vec)),
            None => self.inner.fetch_session(key, start, end),
        }
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
        let mut cached =
            self.cached_in(key_from, key_to, earliest_session_end, latest_session_start);
        if order == ScanOrder::Backward {
            cached.reverse();
        }
        let stored = self
            .inner
            .scan_sessions(
                key_from,
                key_to,
                earliest_session_end,
                latest_session_start,
                order,
            )
            .map(|entry| entry.map(|(session, value)| (self.cache_key(&session), value)));
        self.merged(cached, Box::new(stored), order)
    }

    fn sessions_ending_within(&self, earliest_end: i64, latest_end: i64) -> SessionIter<'_> {
        let mut cached = self.cached_in(None, None, earliest_end, latest_end);
        cached.retain(|(storage_key, _)| {
            schema::decode_storage_key(storage_key).is_some_and(|session| session.end <= latest_end)
        });
        let stored = self
            .inner
            .sessions_ending_within(earliest_end, latest_end)
            .map(|entry| entry.map(|(session, value)| (self.cache_key(&session), value)));
        self.merged(cached, Box::new(stored), ScanOrder::Forward)
    }

    fn approximate_num_entries(&self) -> Result<u64> {
        self.inner.approximate_num_entries()
    }

    fn restore_batch(&mut self, records: &[ChangelogRecord]) -> Result<()> {
        // Restored sessions supersede whatever the cache holds for them.
        for record in records {
            if let Some(session) = schema::decode_changelog_key(&record.key) {
                self.cache.remove(&self.cache_key(&session));
            }
        }
        self.inner.restore_batch(records)
    }

    fn set_flush_listener(&mut self, listener: FlushListener) -> Result<()> {
        self.cache.set_listener(listener);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::sync::{Arc, Mutex};

    use proptest::prelude::*;

    use super::*;
    use crate::backend::InMemoryBackend;
    use crate::session::{InMemorySessionStore, LoggingSessionStore};
    use crate::test_suite::{check_property, collect, recording_writer, tricky_key, TestResult};
    use crate::write_cache::CacheEntry;

    /// Sessions kept for a day in segments of 10 ms: every test session is
    /// live, and the sessions spread over several segments.
    fn retention() -> Result<Retention> {
        Retention::with_segment_interval(86_400_000, 10)
    }

    fn plain(name: &str) -> Result<InMemorySessionStore> {
        InMemorySessionStore::open(InMemoryBackend::new(name), retention()?)
    }

    #[derive(Debug, Clone)]
    enum Op {
        Put(SessionKey, u8),
        Remove(SessionKey),
        Flush,
    }

    fn session() -> impl Strategy<Value = SessionKey> {
        (tricky_key(), 0..30i64, 0..10i64).prop_map(|(key, start, length)| SessionKey {
            key,
            start,
            end: start + length,
        })
    }

    /// Whatever the budget and the puts, removals and flushes, the cached
    /// store reads (scans, and sessions by end time) exactly as an uncached
    /// store given the same writes; the
    /// listener sees per session a chain of changes whose old value is the
    /// previous new value; and after a final flush the store behind the
    /// cache equals the uncached one.
    #[test]
    fn the_cache_is_invisible_to_readers_and_consistent_to_listeners() -> TestResult {
        let op = prop_oneof![
            5 => (session(), any::<u8>()).prop_map(|(s, v)| Op::Put(s, v)),
            2 => session().prop_map(Op::Remove),
            1 => Just(Op::Flush),
        ];
        check_property(
            64,
            (proptest::collection::vec(op, 0..50), 0..600usize),
            |(ops, max_bytes)| {
                let (writer, _, timestamp) = recording_writer("cached");
                let logged = LoggingSessionStore::new(Box::new(plain("cached")?), writer);
                let mut cached =
                    CachingSessionStore::new(Box::new(logged), max_bytes, timestamp, retention()?);
                let flushed: Arc<Mutex<Vec<CacheEntry>>> = Arc::default();
                let sink = Arc::clone(&flushed);
                cached.set_flush_listener(FlushListener::new(move |entry| {
                    sink.lock().map_err(|_| "poisoned")?.push(entry);
                    Ok(())
                }))?;
                let mut model = plain("model")?;
                let mut replayed: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
                let mut check_flushed = || -> TestResult {
                    let entries = std::mem::take(&mut *flushed.lock().map_err(|_| "poisoned")?);
                    for entry in entries {
                        schema::decode_changelog_key(&entry.key)
                            .ok_or("listener key is not in changelog layout")?;
                        assert_eq!(entry.old_value.as_ref(), replayed.get(&entry.key));
                        match entry.new_value {
                            Some(value) => replayed.insert(entry.key, value),
                            None => replayed.remove(&entry.key),
                        };
                    }
                    Ok(())
                };
                for op in ops {
                    match op {
                        Op::Put(session, value) => {
                            cached.put(&session, &[value])?;
                            model.put(&session, &[value])?;
                        }
                        Op::Remove(session) => {
                            cached.remove(&session)?;
                            model.remove(&session)?;
                        }
                        Op::Flush => cached.flush()?,
                    }
                    check_flushed()?;
                    assert_eq!(
                        collect(cached.fetch_range(None, None))?,
                        collect(model.fetch_range(None, None))?
                    );
                    let (from, to) = (Some(&b"\x01"[..]), Some(&b"a\xff"[..]));
                    for order in [ScanOrder::Forward, ScanOrder::Backward] {
                        assert_eq!(
                            collect(cached.scan_sessions(from, to, 8, 25, order))?,
                            collect(model.scan_sessions(from, to, 8, 25, order))?
                        );
                    }
                    assert_eq!(
                        collect(cached.sessions_ending_within(5, 20))?,
                        collect(model.sessions_ending_within(5, 20))?
                    );
                }
                cached.flush()?;
                check_flushed()?;
                let model_sessions: BTreeMap<Vec<u8>, Vec<u8>> =
                    collect(model.fetch_range(None, None))?
                        .into_iter()
                        .map(|(session, value)| (schema::changelog_key(&session), value))
                        .collect();
                assert_eq!(replayed, model_sessions);
                assert_eq!(
                    collect(cached.inner.fetch_range(None, None))?,
                    collect(model.fetch_range(None, None))?
                );
                Ok(())
            },
        )
    }
}
