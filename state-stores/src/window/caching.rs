//! The caching layer for window stores: a [`CacheLayer`] in front of the
//! (logged) store, as Kafka Streams' `CachingWindowStore`. See
//! [`crate::write_cache`] for how the cache collapses, orders and evicts
//! writes.
//!
//! The cache is keyed by the wrapped store's own storage key (segment,
//! then key, then window start), so its entries sort exactly as the store
//! scans, and a scan merges the two in one pass. Stores that retain
//! duplicates (join buffers) are not cached: every put must stay.

use super::schema;
use super::{WindowIter, WindowStore, WindowedKey};
use crate::changelog::{ChangelogRecord, RecordContext};
use crate::error::{Result, StoreError};
use crate::range::ScanOrder;
use crate::segments::{segment_prefix, Retention};
use crate::state_store::StateStore;
use crate::write_cache::{CacheLayer, CachedEntry, FlushListener, MergedScan, WriteThrough};

/// A window store behind a write cache of at most `max_bytes`.
pub struct CachingWindowStore {
    inner: Box<dyn WindowStore>,
    cache: CacheLayer,
    segment_interval_ms: i64,
}

impl CachingWindowStore {
    /// Caches writes to `inner` (whose segments follow `retention`) in at
    /// most `max_bytes`, stamping cached writes with the current value of
    /// `timestamp`. Fails for a store that retains duplicates.
    pub fn new(
        inner: Box<dyn WindowStore>,
        max_bytes: usize,
        timestamp: RecordContext,
        retention: Retention,
    ) -> Result<Self> {
        if inner.retain_duplicates() {
            return Err(StoreError::InvalidConfig {
                store: inner.name().to_owned(),
                reason: "a window store that retains duplicates cannot be cached".to_owned(),
            });
        }
        Ok(Self {
            inner,
            cache: CacheLayer::new(max_bytes, timestamp),
            segment_interval_ms: retention.segment_interval_ms(),
        })
    }

    fn segment(&self, window_start: i64) -> i64 {
        window_start.div_euclid(self.segment_interval_ms)
    }

    fn cache_key(&self, key: &[u8], window_start: i64) -> Vec<u8> {
        let prefix = segment_prefix(self.segment(window_start));
        schema::storage_key(&prefix, key, window_start, 0)
    }

    /// The cached entries of a scan, in forward order.
    fn cached_in(
        &self,
        key_from: Option<&[u8]>,
        key_to: Option<&[u8]>,
        time_from: i64,
        time_to: i64,
    ) -> Vec<CachedEntry> {
        let mut entries = self.cache.entries_in_segments(
            self.segment(time_from),
            self.segment(time_to),
            |prefix| schema::scan_range(prefix, key_from, key_to, time_from, time_to),
        );
        // The ranges hold every window of the keys strictly inside the key
        // range; keep those the scan asks for, as the store does.
        entries.retain(|(storage_key, _)| {
            schema::decode_storage_key(storage_key).is_some_and(|parts| {
                key_from.is_none_or(|from| parts.key.as_slice() >= from)
                    && key_to.is_none_or(|to| parts.key.as_slice() <= to)
                    && (time_from..=time_to).contains(&parts.window_start)
            })
        });
        entries
    }
}

/// The parts of a cache key (the wrapped store's storage key).
fn decode_cache_key(store: &str, key: &[u8]) -> Result<schema::WindowKeyParts> {
    schema::decode_storage_key(key).ok_or_else(|| StoreError::Corrupt {
        store: store.to_owned(),
        reason: "malformed cached window key".to_owned(),
    })
}

impl WriteThrough for Box<dyn WindowStore> {
    fn store_name(&self) -> &str {
        self.name()
    }

    fn read(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        let parts = decode_cache_key(self.name(), key)?;
        self.fetch_window(&parts.key, parts.window_start)
    }

    fn write(&mut self, key: &[u8], value: Option<&[u8]>) -> Result<()> {
        let parts = decode_cache_key(self.name(), key)?;
        self.put(&parts.key, value, parts.window_start).map(drop)
    }

    /// Listeners see Kafka's window key layout: key, window start, seqnum.
    fn listener_key(&self, key: &[u8]) -> Vec<u8> {
        match schema::decode_storage_key(key) {
            Some(parts) => schema::changelog_key(&parts.key, parts.window_start, 0),
            None => key.to_vec(),
        }
    }
}

impl StateStore for CachingWindowStore {
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

impl WindowStore for CachingWindowStore {
    fn retain_duplicates(&self) -> bool {
        false
    }

    /// Caches the write; whether its window has expired is decided when it
    /// is written through, so a cached write reports seqnum 0.
    fn put(&mut self, key: &[u8], value: Option<&[u8]>, window_start: i64) -> Result<Option<u32>> {
        let cache_key = self.cache_key(key, window_start);
        self.cache.write(&cache_key, value, &mut self.inner)?;
        Ok(Some(0))
    }

    fn fetch_window(&self, key: &[u8], window_start: i64) -> Result<Option<Vec<u8>>> {
        match self.cache.get(&self.cache_key(key, window_start)) {
            Some(value) => Ok(value.map(<[u8]>::to_vec)),
            None => self.inner.fetch_window(key, window_start),
        }
    }

    fn scan_windows(
        &self,
        key_from: Option<&[u8]>,
        key_to: Option<&[u8]>,
        time_from: i64,
        time_to: i64,
        order: ScanOrder,
    ) -> WindowIter<'_> {
        if matches!((key_from, key_to), (Some(from), Some(to)) if from > to) || time_from > time_to
        {
            return Box::new(std::iter::empty());
        }
        let mut cached = self.cached_in(key_from, key_to, time_from, time_to);
        if order == ScanOrder::Backward {
            cached.reverse();
        }
        let stored = self
            .inner
            .scan_windows(key_from, key_to, time_from, time_to, order)
            .map(|entry| {
                entry.map(|(windowed, value)| {
                    (self.cache_key(&windowed.key, windowed.window_start), value)
                })
            });
        Box::new(
            MergedScan::new(cached, Box::new(stored), order).map(|entry| {
                let (storage_key, value) = entry?;
                let parts = decode_cache_key(self.name(), &storage_key)?;
                Ok((
                    WindowedKey {
                        key: parts.key,
                        window_start: parts.window_start,
                    },
                    value,
                ))
            }),
        )
    }

    fn approximate_num_entries(&self) -> Result<u64> {
        self.inner.approximate_num_entries()
    }

    fn restore_batch(&mut self, records: &[ChangelogRecord]) -> Result<()> {
        // Restored windows supersede whatever the cache holds for them.
        for record in records {
            if let Some((key, window_start, _)) = schema::decode_changelog_key(&record.key) {
                self.cache.remove(&self.cache_key(key, window_start));
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
    use crate::test_suite::{check_property, collect, recording_writer, tricky_key, TestResult};
    use crate::window::{InMemoryWindowStore, LoggingWindowStore};
    use crate::write_cache::CacheEntry;

    /// Windows of a day in segments of 10 ms: every test window is live, and
    /// the windows spread over several segments.
    fn retention() -> Result<Retention> {
        Retention::with_segment_interval(86_400_000, 10)
    }

    fn plain(name: &str) -> Result<InMemoryWindowStore> {
        InMemoryWindowStore::open(InMemoryBackend::new(name), retention()?, false)
    }

    #[derive(Debug, Clone)]
    enum Op {
        Put(Vec<u8>, i64, Option<u8>),
        Flush,
    }

    type Windows = BTreeMap<(Vec<u8>, i64), Vec<u8>>;

    /// Whatever the budget and the writes, deletes and flushes, the cached
    /// store reads exactly as an uncached store given the same writes (every
    /// point lookup and every scan, both directions, by key and by range);
    /// the listener sees per window a chain of changes whose old value is
    /// the previous new value; and after a final flush the store behind the
    /// cache equals the uncached one.
    #[test]
    fn the_cache_is_invisible_to_readers_and_consistent_to_listeners() -> TestResult {
        let op = prop_oneof![
            6 => (tricky_key(), 0..40i64, proptest::option::of(any::<u8>()))
                .prop_map(|(k, start, v)| Op::Put(k, start, v)),
            1 => Just(Op::Flush),
        ];
        check_property(
            64,
            (proptest::collection::vec(op, 0..50), 0..600usize),
            |(ops, max_bytes)| {
                let (writer, _, timestamp) = recording_writer("cached");
                let logged = LoggingWindowStore::new(Box::new(plain("cached")?), writer);
                let mut cached =
                    CachingWindowStore::new(Box::new(logged), max_bytes, timestamp, retention()?)?;
                let flushed: Arc<Mutex<Vec<CacheEntry>>> = Arc::default();
                let sink = Arc::clone(&flushed);
                cached.set_flush_listener(FlushListener::new(move |entry| {
                    sink.lock().map_err(|_| "poisoned")?.push(entry);
                    Ok(())
                }))?;
                let mut model = plain("model")?;
                let mut replayed = Windows::new();
                let mut check_flushed = || -> TestResult {
                    let entries = std::mem::take(&mut *flushed.lock().map_err(|_| "poisoned")?);
                    for entry in entries {
                        let (key, start, _) = schema::decode_changelog_key(&entry.key)
                            .ok_or("listener key is not in changelog layout")?;
                        let window = (key.to_vec(), start);
                        assert_eq!(entry.old_value.as_ref(), replayed.get(&window));
                        match entry.new_value {
                            Some(value) => replayed.insert(window, value),
                            None => replayed.remove(&window),
                        };
                    }
                    Ok(())
                };
                for op in ops {
                    match op {
                        Op::Put(key, start, value) => {
                            let value = value.map(|v| vec![v]);
                            cached.put(&key, value.as_deref(), start)?;
                            model.put(&key, value.as_deref(), start)?;
                            assert_eq!(
                                cached.fetch_window(&key, start)?,
                                model.fetch_window(&key, start)?
                            );
                            assert_eq!(
                                collect(cached.fetch(&key, 5, 30))?,
                                collect(model.fetch(&key, 5, 30))?
                            );
                        }
                        Op::Flush => cached.flush()?,
                    }
                    check_flushed()?;
                    assert_eq!(collect(cached.all())?, collect(model.all())?);
                    assert_eq!(
                        collect(cached.backward_all())?,
                        collect(model.backward_all())?
                    );
                    let (from, to) = (Some(&b"\x01"[..]), Some(&b"a\xff"[..]));
                    assert_eq!(
                        collect(cached.fetch_range(from, to, 3, 33))?,
                        collect(model.fetch_range(from, to, 3, 33))?
                    );
                    assert_eq!(
                        collect(cached.backward_fetch_range(from, to, 3, 33))?,
                        collect(model.backward_fetch_range(from, to, 3, 33))?
                    );
                }
                cached.flush()?;
                check_flushed()?;
                let model_windows: Windows = collect(model.all())?
                    .into_iter()
                    .map(|(windowed, value)| ((windowed.key, windowed.window_start), value))
                    .collect();
                assert_eq!(replayed, model_windows);
                assert_eq!(collect(cached.inner.all())?, collect(model.all())?);
                Ok(())
            },
        )
    }

    #[test]
    fn stores_that_retain_duplicates_are_not_cached() -> TestResult {
        let (_, _, timestamp) = recording_writer("dups");
        let dups = InMemoryWindowStore::open(InMemoryBackend::new("dups"), retention()?, true)?;
        assert!(matches!(
            CachingWindowStore::new(Box::new(dups), 1024, timestamp, retention()?),
            Err(StoreError::InvalidConfig { .. })
        ));
        Ok(())
    }
}
