//! The caching layer for key-value stores: a [`CacheLayer`] in front of the
//! (logged) store; see [`crate::write_cache`] for how the cache collapses,
//! orders and evicts writes.

use crate::changelog::{ChangelogRecord, RecordContext};
use crate::error::Result;
use crate::key_value::{rewrite, KeyValueIter, KeyValueStore, Rewrite};
use crate::range::{ByteRange, ScanOrder};
use crate::state_store::StateStore;
use crate::write_cache::{CacheLayer, FlushListener, MergedScan, WriteThrough};

/// A key-value store behind a write cache of at most `max_bytes`.
pub struct CachingKeyValueStore {
    inner: Box<dyn KeyValueStore>,
    cache: CacheLayer,
}

impl CachingKeyValueStore {
    /// Caches writes to `inner` in at most `max_bytes`, stamping cached
    /// writes with the current value of `timestamp`.
    pub fn new(inner: Box<dyn KeyValueStore>, max_bytes: usize, timestamp: RecordContext) -> Self {
        Self {
            inner,
            cache: CacheLayer::new(max_bytes, timestamp),
        }
    }

    fn write(&mut self, key: &[u8], value: Option<&[u8]>) -> Result<()> {
        self.cache.write(key, value, &mut self.inner)
    }
}

impl WriteThrough for Box<dyn KeyValueStore> {
    fn store_name(&self) -> &str {
        self.name()
    }

    fn read(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        self.get(key)
    }

    fn write(&mut self, key: &[u8], value: Option<&[u8]>) -> Result<()> {
        match value {
            Some(value) => self.put(key, value),
            None => self.delete(key).map(drop),
        }
    }
}

impl StateStore for CachingKeyValueStore {
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

impl KeyValueStore for CachingKeyValueStore {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        match self.cache.get(key) {
            Some(value) => Ok(value.map(<[u8]>::to_vec)),
            None => self.inner.get(key),
        }
    }

    fn get_with(&self, key: &[u8], read: &mut dyn FnMut(Option<&[u8]>)) -> Result<()> {
        match self.cache.get(key) {
            Some(value) => {
                read(value);
                Ok(())
            }
            None => self.inner.get_with(key, read),
        }
    }

    fn put(&mut self, key: &[u8], value: &[u8]) -> Result<()> {
        self.write(key, Some(value))
    }

    /// A cached key is rewritten in place with one lookup; another is read
    /// from the wrapped store and its new value cached.
    fn update(
        &mut self,
        key: &[u8],
        value: &mut Vec<u8>,
        update: &mut Rewrite<'_>,
    ) -> Result<bool> {
        if let Some(written) = self.cache.update(key, value, update, &mut self.inner)? {
            return Ok(written);
        }
        let write = rewrite(|read| self.inner.get_with(key, read), value, update)?;
        if write {
            self.write(key, Some(value))?;
        }
        Ok(write)
    }

    fn put_if_absent(&mut self, key: &[u8], value: &[u8]) -> Result<Option<Vec<u8>>> {
        let existing = self.get(key)?;
        if existing.is_none() {
            self.write(key, Some(value))?;
        }
        Ok(existing)
    }

    fn put_all(&mut self, entries: &[(Vec<u8>, Option<Vec<u8>>)]) -> Result<()> {
        entries
            .iter()
            .try_for_each(|(key, value)| self.write(key, value.as_deref()))
    }

    fn delete(&mut self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        let old = self.get(key)?;
        self.write(key, None)?;
        Ok(old)
    }

    fn scan(&self, range: &ByteRange, order: ScanOrder) -> KeyValueIter<'_> {
        Box::new(MergedScan::new(
            self.cache.entries_in(range, order),
            self.inner.scan(range, order),
            order,
        ))
    }

    fn approximate_num_entries(&self) -> Result<u64> {
        self.inner.approximate_num_entries()
    }

    fn restore_batch(&mut self, records: &[ChangelogRecord]) -> Result<()> {
        // Restored keys supersede whatever the cache holds for them.
        for record in records {
            self.cache.remove(&record.key);
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

    use super::*;
    use crate::backend::InMemoryBackend;
    use crate::key_value::{BackedKeyValueStore, LoggingKeyValueStore};
    use crate::test_suite::{collect, recording_writer, RecordingSink, TestResult};
    use crate::write_cache::{slot_size, CacheEntry};
    use crate::StoreError;
    use crate::{RecordHeaders, RecordSource};

    struct Fixture {
        store: CachingKeyValueStore,
        flushed: Arc<Mutex<Vec<CacheEntry>>>,
        changelog: Arc<RecordingSink>,
        context: RecordContext,
    }

    /// A caching store over a logged in-memory store, recording what the
    /// listener and the changelog see.
    fn fixture(max_bytes: usize) -> Result<Fixture> {
        fixture_with(max_bytes, true)
    }

    /// [`fixture`], its listener asking for old values or not.
    fn fixture_with(max_bytes: usize, old_values: bool) -> Result<Fixture> {
        let (writer, changelog, context) = recording_writer("cached");
        let inner = BackedKeyValueStore::new(InMemoryBackend::new("cached"));
        let logged = LoggingKeyValueStore::new(Box::new(inner), writer);
        let mut store = CachingKeyValueStore::new(Box::new(logged), max_bytes, context.clone());
        let flushed = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&flushed);
        let listener = FlushListener::new(move |entry| {
            sink.lock().map_err(|_| "poisoned")?.push(entry);
            Ok(())
        });
        store.set_flush_listener(if old_values {
            listener
        } else {
            listener.without_old_values()
        })?;
        Ok(Fixture {
            store,
            flushed,
            changelog,
            context,
        })
    }

    impl Fixture {
        fn take_flushed(&self) -> std::result::Result<Vec<CacheEntry>, Box<dyn std::error::Error>> {
            Ok(std::mem::take(
                &mut *self.flushed.lock().map_err(|_| "poisoned")?,
            ))
        }

        fn changelog(&self) -> Result<Vec<ChangelogRecord>> {
            self.changelog.records_of("cached")
        }
    }

    fn entry(key: &[u8], new: Option<&[u8]>, old: Option<&[u8]>, timestamp: i64) -> CacheEntry {
        CacheEntry {
            key: key.to_vec(),
            new_value: new.map(<[u8]>::to_vec),
            old_value: old.map(<[u8]>::to_vec),
            timestamp,
            headers: None,
            source: None,
        }
    }

    /// A flushed entry carries the headers of the record of its latest
    /// write, as Kafka's caching stores forward that record's context.
    #[test]
    fn a_flushed_entry_carries_the_headers_of_its_latest_write() -> TestResult {
        let mut f = fixture(1 << 20)?;
        let traced = RecordHeaders::new("trace-1");
        f.context.replace_headers(Some(traced.clone()));
        f.store.put(b"a", b"1")?;
        f.store.put(b"b", b"1")?;
        f.context.replace_headers(None);
        f.store.put(b"b", b"2")?;
        f.store.flush()?;
        let flushed = f.take_flushed()?;
        let headers: Vec<Option<&str>> = flushed
            .iter()
            .map(|entry| {
                let headers = entry.headers.as_ref()?;
                headers.downcast_ref::<&str>().copied()
            })
            .collect();
        assert_eq!(headers, [Some("trace-1"), None]);
        assert_eq!(flushed[0].headers, Some(traced));
        Ok(())
    }

    /// A flushed entry says where the record of its latest write was read
    /// (Kafka's caching stores forward that record's context): a cache asks
    /// its context to keep sources.
    #[test]
    fn a_flushed_entry_carries_the_source_of_its_latest_write() -> TestResult {
        let mut f = fixture(1 << 20)?;
        assert!(f.context.tracks_sources());
        let read_at = |offset| RecordSource {
            topic: "input",
            partition: 0,
            offset,
        };
        f.context.set_source(Some(read_at(7)));
        f.store.put(b"a", b"1")?;
        f.context.set_source(Some(read_at(8)));
        f.store.put(b"a", b"2")?;
        f.context.set_source(None);
        f.store.put(b"b", b"1")?;
        f.store.flush()?;
        let sources: Vec<Option<RecordSource>> =
            f.take_flushed()?.iter().map(|entry| entry.source).collect();
        assert_eq!(sources, [Some(read_at(8)), None]);
        Ok(())
    }

    #[test]
    fn repeated_writes_collapse_and_flush_in_latest_write_order() -> TestResult {
        let mut f = fixture(1 << 20)?;
        f.context.set_timestamp(1);
        f.store.put(b"b", b"1")?;
        f.context.set_timestamp(2);
        f.store.put(b"a", b"1")?;
        f.context.set_timestamp(3);
        f.store.put(b"b", b"2")?;
        // Put and deleted before any flush: never reaches the store.
        f.store.put(b"c", b"1")?;
        f.store.delete(b"c")?;
        assert_eq!(f.store.get(b"b")?, Some(b"2".to_vec()));
        assert_eq!(f.store.get(b"c")?, None);
        assert!(f.take_flushed()?.is_empty());
        assert!(f.changelog()?.is_empty());

        f.context.set_timestamp(99);
        f.store.flush()?;
        // "b" was written last, so it comes after "a".
        let expected = vec![
            entry(b"a", Some(b"1"), None, 2),
            entry(b"b", Some(b"2"), None, 3),
        ];
        assert_eq!(f.take_flushed()?, expected);
        // The changelog sees the collapsed writes, stamped with write time.
        let record = |key: &[u8], value: &[u8], timestamp| ChangelogRecord {
            key: key.to_vec(),
            value: Some(value.to_vec()),
            timestamp,
        };
        let changelog = vec![record(b"a", b"1", 2), record(b"b", b"2", 3)];
        assert_eq!(f.changelog()?, changelog);
        assert_eq!(f.context.timestamp(), 99);

        // A deletion of a flushed key is written and reported.
        f.store.delete(b"a")?;
        f.store.flush()?;
        assert_eq!(f.take_flushed()?, vec![entry(b"a", None, Some(b"1"), 99)]);

        // Old values come from the store; clean entries are not re-flushed.
        f.store.put(b"b", b"3")?;
        f.store.flush()?;
        assert_eq!(
            f.take_flushed()?,
            vec![entry(b"b", Some(b"3"), Some(b"2"), 99)]
        );
        f.store.flush()?;
        assert!(f.take_flushed()?.is_empty());
        Ok(())
    }

    #[test]
    fn a_listener_without_old_values_gets_none_even_for_deletions() -> TestResult {
        let mut f = fixture_with(1 << 20, false)?;
        f.context.set_timestamp(1);
        f.store.put(b"a", b"1")?;
        f.store.put(b"b", b"1")?;
        f.store.flush()?;
        f.context.set_timestamp(2);
        f.store.put(b"a", b"2")?;
        f.store.delete(b"b")?;
        // Deleted before it was ever written through: dropped, which takes
        // reading the store even without old values.
        f.store.put(b"c", b"1")?;
        f.store.delete(b"c")?;
        f.store.flush()?;
        assert_eq!(
            f.take_flushed()?,
            vec![
                entry(b"a", Some(b"1"), None, 1),
                entry(b"b", Some(b"1"), None, 1),
                entry(b"a", Some(b"2"), None, 2),
                // As Kafka's `putAndMaybeForward`: old values only when asked.
                entry(b"b", None, None, 2),
            ]
        );
        // The store and its changelog are as with old values.
        assert_eq!(f.store.get(b"a")?, Some(b"2".to_vec()));
        assert_eq!(f.store.get(b"b")?, None);
        assert_eq!(f.changelog()?.len(), 4);
        Ok(())
    }

    /// Without a flush listener every cached write reaches the store, so
    /// the changelog gets a tombstone even for a key the store never held
    /// (Kafka skips those only when it forwards to a listener).
    #[test]
    fn without_a_listener_every_deletion_is_written_through() -> TestResult {
        let (writer, changelog, context) = recording_writer("cached");
        let inner = BackedKeyValueStore::new(InMemoryBackend::new("cached"));
        let logged = LoggingKeyValueStore::new(Box::new(inner), writer);
        let mut store = CachingKeyValueStore::new(Box::new(logged), 1 << 20, context);
        store.put(b"a", b"1")?;
        store.delete(b"a")?;
        store.delete(b"never")?;
        store.flush()?;
        let logged: Vec<(Vec<u8>, Option<Vec<u8>>)> = changelog
            .records_of("cached")?
            .into_iter()
            .map(|record| (record.key, record.value))
            .collect();
        assert_eq!(logged, [(b"a".to_vec(), None), (b"never".to_vec(), None)]);
        Ok(())
    }

    #[test]
    fn eviction_flushes_all_dirty_entries_in_order() -> TestResult {
        // Room for two small entries.
        let mut f = fixture(2 * slot_size(b"k1", Some(b"v")))?;
        f.store.put(b"k1", b"v")?;
        f.store.put(b"k2", b"v")?;
        assert!(f.take_flushed()?.is_empty());
        f.store.put(b"k3", b"v")?;
        let flushed: Vec<Vec<u8>> = f.take_flushed()?.into_iter().map(|e| e.key).collect();
        assert_eq!(
            flushed,
            vec![b"k1".to_vec(), b"k2".to_vec(), b"k3".to_vec()]
        );
        // k1 was least recently written and is gone from the cache, but
        // still readable through the store.
        assert!(!f.store.cache.contains(b"k1"));
        assert_eq!(f.store.get(b"k1")?, Some(b"v".to_vec()));
        // Values are lent from the cache, or from the store behind it.
        f.store.delete(b"k3")?;
        for key in [&b"k1"[..], b"k2", b"k3"] {
            let mut lent = None;
            f.store
                .get_with(key, &mut |bytes| lent = Some(bytes.map(<[u8]>::to_vec)))?;
            assert_eq!(lent, Some(f.store.get(key)?));
        }
        Ok(())
    }

    #[test]
    fn zero_bytes_writes_through_and_notifies_per_write() -> TestResult {
        let mut f = fixture(0)?;
        f.store.put(b"k", b"1")?;
        f.store.put(b"k", b"2")?;
        let expected = vec![
            entry(b"k", Some(b"1"), None, 0),
            entry(b"k", Some(b"2"), Some(b"1"), 0),
        ];
        assert_eq!(f.take_flushed()?, expected);
        assert_eq!(f.changelog()?.len(), 2);
        assert!(f.store.cache.is_empty());
        Ok(())
    }

    #[test]
    fn scans_merge_cached_and_stored_entries() -> TestResult {
        let mut f = fixture(1 << 20)?;
        for key in [b"a", b"b", b"c", b"d"] {
            f.store.put(key, b"old")?;
        }
        f.store.flush()?;
        f.store.put(b"b", b"new")?;
        f.store.delete(b"c")?;
        f.store.put(b"e", b"new")?;
        let pairs = |entries: Vec<(Vec<u8>, Vec<u8>)>| -> Vec<(u8, Vec<u8>)> {
            entries.into_iter().map(|(k, v)| (k[0], v)).collect()
        };
        let expected = vec![
            (b'a', b"old".to_vec()),
            (b'b', b"new".to_vec()),
            (b'd', b"old".to_vec()),
            (b'e', b"new".to_vec()),
        ];
        assert_eq!(pairs(collect(f.store.all())?), expected);
        let mut reversed = expected.clone();
        reversed.reverse();
        assert_eq!(pairs(collect(f.store.reverse_all())?), reversed);
        assert_eq!(
            pairs(collect(f.store.range(Some(b"b"), Some(b"d")))?),
            expected[1..3].to_vec()
        );
        Ok(())
    }

    #[test]
    fn a_listener_error_leaves_only_the_unwritten_entries_dirty() -> TestResult {
        let mut f = fixture(1 << 20)?;
        f.store.put(b"k1", b"v")?;
        f.store.put(b"k2", b"v")?;
        f.store
            .set_flush_listener(FlushListener::new(|_| Err("downstream failed".into())))?;
        let result = f.store.flush();
        assert!(matches!(result, Err(StoreError::FlushListener { .. })));
        // k1 was written before its listener failed; only k2 is retried.
        assert_eq!(f.changelog()?.len(), 1);
        assert_eq!(f.store.cache.dirty_len(), 1);
        f.store.set_flush_listener(FlushListener::new(|_| Ok(())))?;
        f.store.flush()?;
        let written: Vec<Vec<u8>> = f.changelog()?.into_iter().map(|r| r.key).collect();
        assert_eq!(written, vec![b"k1".to_vec(), b"k2".to_vec()]);
        Ok(())
    }

    #[derive(Debug, Clone)]
    enum CacheOp {
        Put(u8, u8),
        /// Adds to the value held (from 0), as an aggregation would; adding
        /// 0 declines to write.
        Update(u8, u8),
        Delete(u8),
        Flush,
    }

    /// Whatever the budget and the sequence of writes, updates, deletes
    /// and flushes: reads (updates' too) through the cache always see the
    /// latest writes; the
    /// listener sees, per key, a chain of changes whose old value is the
    /// previous change's new value; and after a final flush the store
    /// behind the cache, the listener's replay and the model agree.
    #[test]
    fn the_cache_is_invisible_to_readers_and_consistent_to_listeners() -> TestResult {
        use proptest::prelude::*;
        let op = prop_oneof![
            4 => (0..6u8, any::<u8>()).prop_map(|(k, v)| CacheOp::Put(k, v)),
            3 => (0..6u8, prop_oneof![Just(0u8), any::<u8>()]).prop_map(|(k, v)| CacheOp::Update(k, v)),
            2 => (0..6u8).prop_map(CacheOp::Delete),
            1 => Just(CacheOp::Flush),
        ];
        crate::test_suite::check_property(
            64,
            (proptest::collection::vec(op, 0..60), 0..400usize),
            |(ops, max_bytes)| {
                let mut f = fixture(max_bytes)?;
                let mut model: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
                let mut replayed: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
                let mut check_flushed = |f: &Fixture| -> TestResult {
                    for entry in f.take_flushed()? {
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
                        CacheOp::Put(k, v) => {
                            f.store.put(&[k], &[v])?;
                            model.insert(vec![k], vec![v]);
                        }
                        CacheOp::Update(k, v) => {
                            // Adding 0 writes nothing: an update may decline.
                            let write = v != 0;
                            let mut buffer = Vec::new();
                            let written = f.store.update(&[k], &mut buffer, &mut |held, out| {
                                let sum = held.map_or(0, |held| held[0]).wrapping_add(v);
                                out.push(sum);
                                write
                            })?;
                            assert_eq!(written, write);
                            if write {
                                let held = model.get(&vec![k]).map_or(0, |held| held[0]);
                                model.insert(vec![k], vec![held.wrapping_add(v)]);
                            }
                        }
                        CacheOp::Delete(k) => {
                            assert_eq!(f.store.delete(&[k])?, model.remove(&vec![k]));
                        }
                        CacheOp::Flush => f.store.flush()?,
                    }
                    check_flushed(&f)?;
                    let expected: Vec<_> = model.clone().into_iter().collect();
                    assert_eq!(collect(f.store.all())?, expected);
                }
                f.store.flush()?;
                check_flushed(&f)?;
                assert_eq!(replayed, model);
                assert_eq!(
                    collect(f.store.inner.all())?,
                    model.into_iter().collect::<Vec<_>>()
                );
                Ok(())
            },
        )
    }
}
