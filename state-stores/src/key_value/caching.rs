//! The caching layer for key-value stores.
//!
//! Sits between processors and the (logged) store. Writes land in a bounded
//! cache; repeated writes to a key between two flushes collapse into one.
//! When the cache flushes - on [`StateStore::flush`] or when it outgrows its
//! byte budget - each dirty key's latest value is written through to the
//! wrapped store (so the changelog sees only the collapsed writes) and handed
//! to the flush listener together with the value it replaced.
//!
//! Ordering, as Kafka Streams' `NamedCache`:
//! - a flush emits dirty keys in the order they were *first* dirtied since
//!   the previous flush;
//! - eviction removes the least recently *written* entry; if that entry is
//!   dirty, all dirty entries are flushed first (in the order above), so
//!   eviction never reorders the emitted updates.
//!
//! Reads are served from the cache when the key is in it, otherwise from the
//! wrapped store, but do not populate or reorder the cache: it is a write
//! cache. With a budget of 0 bytes every write is flushed at once, so the
//! listener sees every write.

use std::cmp::Ordering;
use std::collections::{BTreeSet, HashMap, VecDeque};
use std::iter::Peekable;
use std::ops::Bound;
use std::sync::Arc;

use crate::changelog::{ChangelogRecord, RecordTimestamp};
use crate::error::{ExternalError, Result, StoreError};
use crate::key_value::{KeyValueIter, KeyValueStore};
use crate::range::{ByteRange, ScanOrder};
use crate::state_store::StateStore;

/// One key's collapsed change, handed to the flush listener.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheEntry {
    /// The key.
    pub key: Vec<u8>,
    /// The latest value written (`None`: deleted).
    pub new_value: Option<Vec<u8>>,
    /// The value the wrapped store held before this flush wrote through.
    pub old_value: Option<Vec<u8>>,
    /// Record timestamp of the latest write to the key.
    pub timestamp: i64,
}

/// Receives each entry a caching layer flushes, after it was written through.
pub type FlushListener =
    Box<dyn FnMut(CacheEntry) -> std::result::Result<(), ExternalError> + Send>;

/// A cached key with its value; `None` is a cached deletion.
type CachedEntry = (Vec<u8>, Option<Vec<u8>>);

/// Bytes charged per cached entry on top of its key and value, for the map
/// nodes and bookkeeping; keys are charged three times because the entry,
/// LRU and dirty indexes each hold a copy.
const SLOT_OVERHEAD_BYTES: usize = 64;

fn slot_size(key: &[u8], value: Option<&[u8]>) -> usize {
    SLOT_OVERHEAD_BYTES + 3 * key.len() + value.map_or(0, <[u8]>::len)
}

/// A dirty entry taken out of the cache to be written through.
struct DirtyEntry {
    key: Arc<[u8]>,
    value: Option<Vec<u8>>,
    timestamp: i64,
}

struct Slot {
    value: Option<Vec<u8>>,
    timestamp: i64,
    /// The tick of the latest write: the key's live entry in the LRU queue.
    written_at: u64,
    /// The tick at which the key was first dirtied since the last flush: its
    /// live entry in the dirty queue; `None` when clean.
    dirtied_at: Option<u64>,
}

/// The cache proper: entries by key, their key order, and the LRU and dirty
/// orders.
///
/// A write to a cached key - the common case, a counter updated again and
/// again - costs one hash lookup and no allocation: its value buffer is
/// reused, and the LRU and dirty orders are queues of `(tick, key)` that
/// are appended to rather than reordered. A queue entry whose tick is not
/// the slot's current one is stale and skipped; the LRU queue is compacted
/// when stale entries outnumber live ones. Only new and removed keys touch
/// the ordered key set that scans need.
#[derive(Default)]
struct WriteCache {
    entries: HashMap<Arc<[u8]>, Slot>,
    order: BTreeSet<Arc<[u8]>>,
    /// `(write tick, key)`, least recently written first.
    lru: VecDeque<(u64, Arc<[u8]>)>,
    /// `(first-dirtied tick, key)`, in flush order.
    dirty: Vec<(u64, Arc<[u8]>)>,
    next_tick: u64,
    bytes: usize,
}

impl WriteCache {
    fn tick(&mut self) -> u64 {
        let tick = self.next_tick;
        self.next_tick += 1;
        tick
    }

    fn write(&mut self, key: &[u8], value: Option<&[u8]>, timestamp: i64) {
        let tick = self.tick();
        let key = match self.entries.get_key_value(key) {
            Some((cached, slot)) => {
                self.bytes -= slot_size(cached, slot.value.as_deref());
                Arc::clone(cached)
            }
            None => {
                let key: Arc<[u8]> = Arc::from(key);
                self.order.insert(Arc::clone(&key));
                key
            }
        };
        let slot = self.entries.entry(Arc::clone(&key)).or_insert(Slot {
            value: None,
            timestamp,
            written_at: tick,
            dirtied_at: None,
        });
        match (&mut slot.value, value) {
            // Reuse the buffer of the value this one replaces.
            (Some(buffer), Some(value)) => {
                buffer.clear();
                buffer.extend_from_slice(value);
            }
            (slot_value, value) => *slot_value = value.map(<[u8]>::to_vec),
        }
        slot.timestamp = timestamp;
        slot.written_at = tick;
        if slot.dirtied_at.is_none() {
            slot.dirtied_at = Some(tick);
            self.dirty.push((tick, Arc::clone(&key)));
        }
        self.bytes += slot_size(&key, value);
        self.lru.push_back((tick, key));
        if self.lru.len() > 2 * self.entries.len() + 64 {
            let entries = &self.entries;
            self.lru.retain(|(tick, key)| {
                entries
                    .get(key)
                    .is_some_and(|slot| slot.written_at == *tick)
            });
        }
    }

    fn remove(&mut self, key: &[u8]) {
        // Its queue entries go stale and are skipped.
        if let Some((key, slot)) = self.entries.remove_entry(key) {
            self.bytes -= slot_size(&key, slot.value.as_deref());
            self.order.remove(&key);
        }
    }

    /// Empties the dirty queue, in flush order, and marks those entries
    /// clean; returns each key's latest value and timestamp.
    fn take_dirty(&mut self) -> Vec<DirtyEntry> {
        let dirty = std::mem::take(&mut self.dirty);
        dirty
            .into_iter()
            .filter_map(|(tick, key)| {
                let slot = self.entries.get_mut(&key)?;
                if slot.dirtied_at != Some(tick) {
                    return None;
                }
                slot.dirtied_at = None;
                Some(DirtyEntry {
                    key,
                    value: slot.value.clone(),
                    timestamp: slot.timestamp,
                })
            })
            .collect()
    }

    /// Marks `keys` dirty again (after a failed flush), in the given order.
    fn mark_dirty<'a>(&mut self, keys: impl Iterator<Item = &'a Arc<[u8]>>) {
        for key in keys {
            let tick = self.tick();
            if let Some(slot) = self.entries.get_mut(key) {
                if slot.dirtied_at.is_none() {
                    slot.dirtied_at = Some(tick);
                    self.dirty.push((tick, Arc::clone(key)));
                }
            }
        }
    }

    /// The least recently written key and whether it is dirty; stale queue
    /// entries in front of it are dropped on the way.
    fn least_recently_written(&mut self) -> Option<(Arc<[u8]>, bool)> {
        while let Some((tick, key)) = self.lru.front() {
            match self.entries.get(key) {
                Some(slot) if slot.written_at == *tick => {
                    return Some((Arc::clone(key), slot.dirtied_at.is_some()));
                }
                _ => {
                    self.lru.pop_front();
                }
            }
        }
        None
    }

    /// Cached entries in `range`, in `order`; `None` values are deletions
    /// that must hide the wrapped store's entry.
    fn entries_in(&self, range: &ByteRange, order: ScanOrder) -> Vec<CachedEntry> {
        // `BTreeSet::range` panics on inverted bounds, so rule them out first.
        if range.is_empty() {
            return Vec::new();
        }
        let upper = range.end().map_or(Bound::Unbounded, Bound::Excluded);
        let matching = self
            .order
            .range::<[u8], _>((Bound::Included(range.start()), upper))
            .filter_map(|key| {
                let slot = self.entries.get(key)?;
                Some((key.to_vec(), slot.value.clone()))
            });
        match order {
            ScanOrder::Forward => matching.collect(),
            ScanOrder::Backward => {
                let mut entries: Vec<_> = matching.collect();
                entries.reverse();
                entries
            }
        }
    }
}

/// A key-value store behind a write cache of at most `max_bytes`.
pub struct CachingKeyValueStore {
    inner: Box<dyn KeyValueStore>,
    cache: WriteCache,
    max_bytes: usize,
    timestamp: RecordTimestamp,
    listener: Option<FlushListener>,
}

impl CachingKeyValueStore {
    /// Caches writes to `inner` in at most `max_bytes`, stamping cached
    /// writes with the current value of `timestamp`.
    pub fn new(
        inner: Box<dyn KeyValueStore>,
        max_bytes: usize,
        timestamp: RecordTimestamp,
    ) -> Self {
        Self {
            inner,
            cache: WriteCache::default(),
            max_bytes,
            timestamp,
            listener: None,
        }
    }

    fn write(&mut self, key: &[u8], value: Option<&[u8]>) -> Result<()> {
        self.cache.write(key, value, self.timestamp.get());
        self.evict_over_budget()
    }

    fn evict_over_budget(&mut self) -> Result<()> {
        while self.cache.bytes > self.max_bytes {
            let Some((key, dirty)) = self.cache.least_recently_written() else {
                break;
            };
            if dirty {
                self.flush_dirty()?;
            }
            self.cache.remove(&key);
        }
        Ok(())
    }

    /// Writes every dirty entry through and hands it to the listener. If
    /// that fails, the entries not yet written stay dirty.
    fn flush_dirty(&mut self) -> Result<()> {
        let current = self.timestamp.get();
        let dirty = self.cache.take_dirty();
        let mut result = Ok(());
        for (flushed, entry) in dirty.iter().enumerate() {
            if let Err(error) = self.write_through(entry) {
                let unwritten = dirty[flushed..].iter().map(|entry| &entry.key);
                self.cache.mark_dirty(unwritten);
                result = Err(error);
                break;
            }
        }
        self.timestamp.set(current);
        result
    }

    fn write_through(&mut self, entry: &DirtyEntry) -> Result<()> {
        let old_value = self.inner.get(&entry.key)?;
        // The logging layer below stamps the write's own timestamp.
        self.timestamp.set(entry.timestamp);
        match &entry.value {
            Some(value) => self.inner.put(&entry.key, value)?,
            None => {
                self.inner.delete(&entry.key)?;
            }
        }
        if let Some(listener) = self.listener.as_mut() {
            let flushed = CacheEntry {
                key: entry.key.to_vec(),
                new_value: entry.value.clone(),
                old_value,
                timestamp: entry.timestamp,
            };
            listener(flushed).map_err(|source| StoreError::FlushListener {
                store: self.inner.name().to_owned(),
                source,
            })?;
        }
        Ok(())
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
        self.flush_dirty()?;
        self.inner.flush()
    }

    fn close(&mut self) -> Result<()> {
        self.flush_dirty()?;
        self.cache = WriteCache::default();
        self.inner.close()
    }
}

impl KeyValueStore for CachingKeyValueStore {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        match self.cache.entries.get(key) {
            Some(slot) => Ok(slot.value.clone()),
            None => self.inner.get(key),
        }
    }

    fn get_with(&self, key: &[u8], read: &mut dyn FnMut(Option<&[u8]>)) -> Result<()> {
        match self.cache.entries.get(key) {
            Some(slot) => {
                read(slot.value.as_deref());
                Ok(())
            }
            None => self.inner.get_with(key, read),
        }
    }

    fn put(&mut self, key: &[u8], value: &[u8]) -> Result<()> {
        self.write(key, Some(value))
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
        Box::new(MergedScan {
            cached: self.cache.entries_in(range, order).into_iter().peekable(),
            stored: self.inner.scan(range, order).peekable(),
            order,
        })
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
        self.listener = Some(listener);
        Ok(())
    }
}

/// Merges a snapshot of the cached entries of a range with a scan of the
/// wrapped store; cached entries win, cached deletions hide stored entries.
struct MergedScan<'a> {
    cached: Peekable<std::vec::IntoIter<CachedEntry>>,
    stored: Peekable<KeyValueIter<'a>>,
    order: ScanOrder,
}

impl Iterator for MergedScan<'_> {
    type Item = Result<(Vec<u8>, Vec<u8>)>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let take_cached = match (self.cached.peek(), self.stored.peek()) {
                (None, _) => return self.stored.next(),
                (Some(_), None) => true,
                (Some(_), Some(Err(_))) => return self.stored.next(),
                (Some((cached_key, _)), Some(Ok((stored_key, _)))) => {
                    let ordering = match self.order {
                        ScanOrder::Forward => cached_key.cmp(stored_key),
                        ScanOrder::Backward => stored_key.cmp(cached_key),
                    };
                    match ordering {
                        Ordering::Less => true,
                        Ordering::Equal => {
                            self.stored.next();
                            true
                        }
                        Ordering::Greater => false,
                    }
                }
            };
            if !take_cached {
                return self.stored.next();
            }
            if let Some((key, Some(value))) = self.cached.next() {
                return Some(Ok((key, value)));
            }
            // A cached deletion: skip it (the stored entry was skipped too).
        }
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

    struct Fixture {
        store: CachingKeyValueStore,
        flushed: Arc<Mutex<Vec<CacheEntry>>>,
        changelog: Arc<RecordingSink>,
        timestamp: RecordTimestamp,
    }

    /// A caching store over a logged in-memory store, recording what the
    /// listener and the changelog see.
    fn fixture(max_bytes: usize) -> Result<Fixture> {
        let (writer, changelog, timestamp) = recording_writer("cached");
        let inner = BackedKeyValueStore::new(InMemoryBackend::new("cached"));
        let logged = LoggingKeyValueStore::new(Box::new(inner), writer);
        let mut store = CachingKeyValueStore::new(Box::new(logged), max_bytes, timestamp.clone());
        let flushed = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&flushed);
        store.set_flush_listener(Box::new(move |entry| {
            sink.lock().map_err(|_| "poisoned")?.push(entry);
            Ok(())
        }))?;
        Ok(Fixture {
            store,
            flushed,
            changelog,
            timestamp,
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
        }
    }

    #[test]
    fn repeated_writes_collapse_and_flush_in_first_dirtied_order() -> TestResult {
        let mut f = fixture(1 << 20)?;
        f.timestamp.set(1);
        f.store.put(b"b", b"1")?;
        f.timestamp.set(2);
        f.store.put(b"a", b"1")?;
        f.timestamp.set(3);
        f.store.put(b"b", b"2")?;
        f.store.delete(b"a")?;
        assert_eq!(f.store.get(b"b")?, Some(b"2".to_vec()));
        assert_eq!(f.store.get(b"a")?, None);
        assert!(f.take_flushed()?.is_empty());
        assert!(f.changelog()?.is_empty());

        f.timestamp.set(99);
        f.store.flush()?;
        let expected = vec![entry(b"b", Some(b"2"), None, 3), entry(b"a", None, None, 3)];
        assert_eq!(f.take_flushed()?, expected);
        // The changelog sees the collapsed writes, stamped with write time.
        let record = |key: &[u8], value: Option<&[u8]>| ChangelogRecord {
            key: key.to_vec(),
            value: value.map(<[u8]>::to_vec),
            timestamp: 3,
        };
        let changelog = vec![record(b"b", Some(b"2")), record(b"a", None)];
        assert_eq!(f.changelog()?, changelog);
        assert_eq!(f.timestamp.get(), 99);

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
        assert!(!f.store.cache.entries.contains_key(&b"k1"[..]));
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
        assert!(f.store.cache.entries.is_empty());
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
    fn listener_errors_propagate() -> TestResult {
        let mut f = fixture(0)?;
        f.store
            .set_flush_listener(Box::new(|_| Err("downstream failed".into())))?;
        let result = f.store.put(b"k", b"v");
        assert!(matches!(result, Err(StoreError::FlushListener { .. })));
        // The failed entry stays dirty and is retried by the next flush.
        f.store.set_flush_listener(Box::new(|_| Ok(())))?;
        assert_eq!(f.store.cache.dirty.len(), 1);
        f.store.flush()?;
        assert!(f.store.cache.dirty.is_empty());
        Ok(())
    }

    #[derive(Debug, Clone)]
    enum CacheOp {
        Put(u8, u8),
        Delete(u8),
        Flush,
    }

    /// Whatever the budget and the sequence of writes, deletes and
    /// flushes: reads through the cache always see the latest writes; the
    /// listener sees, per key, a chain of changes whose old value is the
    /// previous change's new value; and after a final flush the store
    /// behind the cache, the listener's replay and the model agree.
    #[test]
    fn the_cache_is_invisible_to_readers_and_consistent_to_listeners() -> TestResult {
        use proptest::prelude::*;
        let op = prop_oneof![
            4 => (0..6u8, any::<u8>()).prop_map(|(k, v)| CacheOp::Put(k, v)),
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
