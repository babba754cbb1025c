//! The write cache shared by the caching key-value and window stores.
//!
//! Writes land in a bounded cache; repeated writes to a key between two
//! flushes collapse into one. When the cache flushes - on a store flush or
//! when it outgrows its byte budget - each dirty key's latest value is
//! written through to the wrapped store (so the changelog sees only the
//! collapsed writes) and handed to the flush listener together with the
//! value it replaced.
//!
//! Ordering, as Kafka Streams' `NamedCache`:
//! - a flush emits dirty keys in the order of their *latest* write (every
//!   write moves its key to the back), so downstream sees the updates in
//!   arrival order and a later update never overtakes an earlier one;
//! - eviction removes the least recently written entry; if that entry is
//!   dirty, all dirty entries are flushed first (in the order above), so
//!   eviction never reorders the emitted updates.
//!
//! A dirty key whose latest value was never written through and is a
//! deletion (put, then deleted, between two flushes) is dropped at the
//! flush: the wrapped store, its changelog and the listener never see it.
//!
//! Reads are served from the cache when the key is in it, otherwise from the
//! wrapped store, but do not populate or reorder the cache: it is a write
//! cache. With a budget of 0 bytes every write is flushed at once, so the
//! listener sees every write.

use std::cmp::Ordering;
use std::collections::{BTreeSet, VecDeque};
use std::iter::Peekable;
use std::ops::Bound;

use crate::changelog::{RecordContext, RecordHeaders, RecordSource};
use crate::error::{ExternalError, Result, StoreError};
use crate::inline_bytes::InlineBytes;
use crate::key_value::{KeyValueIter, Rewrite};
use crate::range::{ByteRange, ScanOrder};
use crate::segments::{segment_prefix, split_segment};

/// One key's collapsed change, handed to the flush listener.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheEntry {
    /// The key.
    pub key: Vec<u8>,
    /// The latest value written (`None`: deleted).
    pub new_value: Option<Vec<u8>>,
    /// The value the wrapped store held before this flush wrote through;
    /// always `None` for a listener that wants no old values, unless the
    /// entry is a deletion.
    pub old_value: Option<Vec<u8>>,
    /// Record timestamp of the latest write to the key.
    pub timestamp: i64,
    /// Headers of the record of the latest write, if it had any.
    pub headers: Option<RecordHeaders>,
    /// Where the record of the latest write was read, if it was read from
    /// a topic.
    pub source: Option<RecordSource>,
}

/// What a write keeps of the record that made it, besides its timestamp:
/// its headers and where it was read (Kafka's cache entries keep the whole
/// record context).
#[derive(Clone, Default)]
pub(crate) struct Origin {
    pub(crate) headers: Option<RecordHeaders>,
    pub(crate) source: Option<RecordSource>,
}

impl Origin {
    /// The origin of the record `context` holds now.
    fn of(context: &RecordContext) -> Self {
        Self {
            headers: context.headers(),
            source: context.source(),
        }
    }
}

/// The function a [`FlushListener`] calls with each flushed entry.
type OnFlush = Box<dyn FnMut(CacheEntry) -> std::result::Result<(), ExternalError> + Send>;

/// Receives each entry a caching layer flushes, after it was written
/// through (Kafka Streams' `CacheFlushListener`).
pub struct FlushListener {
    on_flush: OnFlush,
    /// Whether entries carry the value they replace. Reading it costs a
    /// lookup in the wrapped store per flushed entry, so a listener whose
    /// downstream never looks at old values goes without, as Kafka's
    /// caching stores skip the read unless `sendOldValues` is set.
    old_values: bool,
}

impl FlushListener {
    /// A listener calling `on_flush` with each flushed entry, old value
    /// included.
    pub fn new(
        on_flush: impl FnMut(CacheEntry) -> std::result::Result<(), ExternalError> + Send + 'static,
    ) -> Self {
        Self {
            on_flush: Box::new(on_flush),
            old_values: true,
        }
    }

    /// The same listener, given entries without their old values (except
    /// deletions, which the cache reads the old value of regardless).
    pub fn without_old_values(self) -> Self {
        Self {
            old_values: false,
            ..self
        }
    }
}

impl std::fmt::Debug for FlushListener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FlushListener")
            .field("old_values", &self.old_values)
            .finish_non_exhaustive()
    }
}

/// A cached key with its value; `None` is a cached deletion.
pub(crate) type CachedEntry = (Vec<u8>, Option<Vec<u8>>);

/// Bytes charged per cached entry on top of its key and value, for the
/// slot, its index entry and bookkeeping; keys are charged three times, for
/// the slot, the hash index and the sorted key set that each refer to it.
const SLOT_OVERHEAD_BYTES: usize = 64;

pub(crate) fn slot_size(key: &[u8], value: Option<&[u8]>) -> usize {
    SLOT_OVERHEAD_BYTES + 3 * key.len() + value.map_or(0, <[u8]>::len)
}

/// A dirty entry taken out of the cache to be written through.
pub(crate) struct DirtyEntry {
    key: InlineBytes,
    value: Option<InlineBytes>,
    timestamp: i64,
    origin: Origin,
}

/// Where a slot sits in the cache's slab.
type SlotId = usize;

/// The sequence number of a slot whose key was removed; writes are
/// numbered from 1.
const VACANT: u64 = 0;

/// One cached key. A vacant slot (its key removed) waits for a new key.
struct Slot {
    key: InlineBytes,
    value: Option<InlineBytes>,
    timestamp: i64,
    origin: Origin,
    /// The number of the key's latest write, or [`VACANT`].
    seq: u64,
    is_dirty: bool,
}

/// One write in an order of writes: its number and the slot it went to.
/// It stands for its key while it is the key's latest write (and, in the
/// dirty order, while the key is dirty); later it is stale and skipped.
#[derive(Debug, Clone, Copy)]
struct Logged {
    seq: u64,
    slot: SlotId,
}

/// Whether a logged write still stands for its key in an order.
type Stands = fn(&Slot, u64) -> bool;

fn latest_write(slot: &Slot, seq: u64) -> bool {
    slot.seq == seq
}

fn latest_dirty_write(slot: &Slot, seq: u64) -> bool {
    slot.seq == seq && slot.is_dirty
}

/// An order of keys by latest write, oldest first, kept as the log of the
/// writes: a write appends itself and leaves the key's earlier entry stale,
/// so it touches no other key's slot. Readers skip stale entries; once they
/// outnumber the live ones, one pass drops them, so the log stays within
/// twice the live keys and each write pays for a constant share of a pass.
struct WriteLog {
    entries: VecDeque<Logged>,
    stands: Stands,
}

/// Entries a log may hold beyond twice its live keys before it is
/// compacted, so that small caches do not compact on every write.
const LOG_SLACK: usize = 64;

impl WriteLog {
    fn new(stands: Stands) -> Self {
        Self {
            entries: VecDeque::new(),
            stands,
        }
    }

    /// Appends a write; `live` is the number of keys the order holds.
    fn push(&mut self, write: Logged, slots: &[Slot], live: usize) {
        self.entries.push_back(write);
        if self.entries.len() > 2 * live + LOG_SLACK {
            let stands = self.stands;
            self.entries
                .retain(|entry| stands(&slots[entry.slot], entry.seq));
        }
    }

    /// The oldest entry that still stands, dropping stale ones before it.
    fn front(&mut self, slots: &[Slot]) -> Option<Logged> {
        while let Some(&entry) = self.entries.front() {
            if (self.stands)(&slots[entry.slot], entry.seq) {
                return Some(entry);
            }
            self.entries.pop_front();
        }
        None
    }
}

/// The cache proper: a slab of slots, a hash index into it, the sorted key
/// set that scans need, and two orders of the keys by latest write - all of
/// them (for eviction) and the dirty ones (for flushing) - as Kafka
/// Streams' `NamedCache` keeps them.
///
/// A write to a cached key - the common case, a counter updated again and
/// again - costs one hash lookup, overwrites its slot's value in place and
/// appends to the two orders' logs; keys and values up to 30 bytes live in
/// the slot itself. It allocates nothing and touches no other key's slot,
/// so a write brings one slot into the CPU cache, not its neighbours in
/// the orders too. Only new and removed keys touch the sorted key set.
pub(crate) struct WriteCache {
    /// Hashed as the in-memory backend hashes: seeded, and fast.
    index: foldhash::HashMap<InlineBytes, SlotId>,
    slots: Vec<Slot>,
    /// Vacant slots, reused before the slab grows.
    vacant: Vec<SlotId>,
    order: BTreeSet<InlineBytes>,
    written: WriteLog,
    dirty: WriteLog,
    dirty_count: usize,
    /// The number of the latest write.
    seq: u64,
    bytes: usize,
}

impl Default for WriteCache {
    fn default() -> Self {
        Self {
            index: foldhash::HashMap::default(),
            slots: Vec::new(),
            vacant: Vec::new(),
            order: BTreeSet::new(),
            written: WriteLog::new(latest_write),
            dirty: WriteLog::new(latest_dirty_write),
            dirty_count: 0,
            seq: VACANT,
            bytes: 0,
        }
    }
}

impl WriteCache {
    /// The cached value of `key`: `None` if not cached, `Some(None)` for a
    /// cached deletion.
    fn get(&self, key: &[u8]) -> Option<Option<&[u8]>> {
        let &id = self.index.get(key)?;
        Some(self.slots[id].value.as_ref().map(InlineBytes::as_slice))
    }

    /// Caches the write of `value` (`None`: a deletion) under `key` by a
    /// record with this timestamp and origin.
    pub(crate) fn write(
        &mut self,
        key: &[u8],
        value: Option<&[u8]>,
        timestamp: i64,
        origin: Origin,
    ) {
        let id = match self.index.get(key) {
            Some(&id) => id,
            None => self.insert(key),
        };
        self.set(id, value, timestamp, origin);
    }

    /// Rewrites the cached value of `key` with one lookup: `update` gets it
    /// (`None` for a cached deletion) and an empty `value` buffer, and
    /// answers whether to write what it put there, as by a record with this
    /// timestamp and origin. `None` if `key` is not cached.
    pub(crate) fn update(
        &mut self,
        key: &[u8],
        value: &mut Vec<u8>,
        update: &mut Rewrite<'_>,
        timestamp: i64,
        origin: impl FnOnce() -> Origin,
    ) -> Option<bool> {
        let &id = self.index.get(key)?;
        value.clear();
        let cached = self.slots[id].value.as_ref().map(InlineBytes::as_slice);
        let write = update(cached, value);
        if write {
            self.set(id, Some(value), timestamp, origin());
        }
        Some(write)
    }

    /// Adds a slot for `key`, which the cache does not hold, holding a
    /// deletion not yet written: [`set`](Self::set) writes it.
    fn insert(&mut self, key: &[u8]) -> SlotId {
        let key = InlineBytes::from(key);
        self.order.insert(key.clone());
        self.bytes += slot_size(key.as_slice(), None);
        let slot = Slot {
            key: key.clone(),
            value: None,
            timestamp: 0,
            origin: Origin::default(),
            seq: VACANT,
            is_dirty: false,
        };
        let id = match self.vacant.pop() {
            Some(id) => {
                self.slots[id] = slot;
                id
            }
            None => {
                self.slots.push(slot);
                self.slots.len() - 1
            }
        };
        self.index.insert(key, id);
        id
    }

    /// Writes `value` into the slot `id` as the latest write of its key:
    /// overwritten in place, marked dirty, and moved to the back of both
    /// orders.
    fn set(&mut self, id: SlotId, value: Option<&[u8]>, timestamp: i64, origin: Origin) {
        self.seq += 1;
        let seq = self.seq;
        let slot = &mut self.slots[id];
        self.bytes -= slot_size(
            slot.key.as_slice(),
            slot.value.as_ref().map(InlineBytes::as_slice),
        );
        match (&mut slot.value, value) {
            (Some(held), Some(value)) => held.set(value),
            (held, value) => *held = value.map(InlineBytes::from),
        }
        slot.timestamp = timestamp;
        slot.origin = origin;
        slot.seq = seq;
        if !std::mem::replace(&mut slot.is_dirty, true) {
            self.dirty_count += 1;
        }
        self.bytes += slot_size(slot.key.as_slice(), value);
        let write = Logged { seq, slot: id };
        self.written.push(write, &self.slots, self.index.len());
        self.dirty.push(write, &self.slots, self.dirty_count);
    }

    pub(crate) fn remove(&mut self, key: &[u8]) {
        let Some(id) = self.index.remove(key) else {
            return;
        };
        self.order.remove(key);
        let slot = std::mem::replace(
            &mut self.slots[id],
            Slot {
                key: InlineBytes::from(&[][..]),
                value: None,
                timestamp: 0,
                origin: Origin::default(),
                seq: VACANT,
                is_dirty: false,
            },
        );
        if slot.is_dirty {
            self.dirty_count -= 1;
        }
        self.bytes -= slot_size(
            slot.key.as_slice(),
            slot.value.as_ref().map(InlineBytes::as_slice),
        );
        self.vacant.push(id);
    }

    /// Empties the dirty order, in flush order, and marks those entries
    /// clean; appends each key's latest value and timestamp to `taken`.
    pub(crate) fn take_dirty_into(&mut self, taken: &mut Vec<DirtyEntry>) {
        taken.reserve(self.dirty_count);
        // Drained, so the log keeps its capacity and the writes until the
        // next flush do not grow it again from nothing.
        for Logged { seq, slot } in self.dirty.entries.drain(..) {
            let slot = &mut self.slots[slot];
            if latest_dirty_write(slot, seq) {
                slot.is_dirty = false;
                taken.push(DirtyEntry {
                    key: slot.key.clone(),
                    value: slot.value.clone(),
                    timestamp: slot.timestamp,
                    origin: slot.origin.clone(),
                });
            }
        }
        self.dirty_count = 0;
    }

    /// Marks `keys` dirty again (after a failed flush), in the given order.
    fn mark_dirty<'a>(&mut self, keys: impl Iterator<Item = &'a InlineBytes>) {
        for key in keys {
            let Some(&id) = self.index.get(key.as_slice()) else {
                continue;
            };
            let slot = &mut self.slots[id];
            if !std::mem::replace(&mut slot.is_dirty, true) {
                self.dirty_count += 1;
                let write = Logged {
                    seq: slot.seq,
                    slot: id,
                };
                self.dirty.push(write, &self.slots, self.dirty_count);
            }
        }
    }

    /// The least recently written key and whether it is dirty.
    fn least_recently_written(&mut self) -> Option<(InlineBytes, bool)> {
        let Logged { slot, .. } = self.written.front(&self.slots)?;
        let slot = &self.slots[slot];
        Some((slot.key.clone(), slot.is_dirty))
    }

    /// The smallest cached key at or after `from`.
    pub(crate) fn first_key_from(&self, from: &[u8]) -> Option<&[u8]> {
        self.order
            .range::<[u8], _>((Bound::Included(from), Bound::Unbounded))
            .next()
            .map(InlineBytes::as_slice)
    }

    /// Cached entries in `range`, in `order`; `None` values are deletions
    /// that must hide the wrapped store's entry.
    pub(crate) fn entries_in(&self, range: &ByteRange, order: ScanOrder) -> Vec<CachedEntry> {
        // `BTreeSet::range` panics on inverted bounds, so rule them out first.
        if range.is_empty() {
            return Vec::new();
        }
        let upper = range.end().map_or(Bound::Unbounded, Bound::Excluded);
        let matching = self
            .order
            .range::<[u8], _>((Bound::Included(range.start()), upper))
            .filter_map(|key| {
                let value = self.get(key.as_slice())?;
                Some((key.as_slice().to_vec(), value.map(<[u8]>::to_vec)))
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

/// What a caching store writes its dirty entries through to.
pub(crate) trait WriteThrough {
    /// The wrapped store's name, for errors.
    fn store_name(&self) -> &str;

    /// The value the wrapped store holds under the cache key `key`.
    fn read(&self, key: &[u8]) -> Result<Option<Vec<u8>>>;

    /// Writes `value` (`None` deletes) under the cache key `key`.
    fn write(&mut self, key: &[u8], value: Option<&[u8]>) -> Result<()>;

    /// The key the flush listener is given for the cache key `key`.
    fn listener_key(&self, key: &[u8]) -> Vec<u8> {
        key.to_vec()
    }
}

/// A write cache of at most `max_bytes` with its flush listener: the part
/// of a caching store that does not depend on the kind of store.
pub(crate) struct CacheLayer {
    cache: WriteCache,
    max_bytes: usize,
    context: RecordContext,
    listener: Option<FlushListener>,
    /// The entries a flush writes through, kept from flush to flush (with
    /// the capacity of the largest): a buffer of thousands of entries
    /// allocated and freed at every commit makes the allocator consolidate
    /// its free lists each time.
    flushing: Vec<DirtyEntry>,
    /// Set by [`close`](Self::close): later writes fail, as the store they
    /// would reach is closed.
    closed: bool,
}

impl CacheLayer {
    /// A cache of at most `max_bytes`, keeping with each write the
    /// timestamp, headers and source `context` holds at the time.
    pub(crate) fn new(max_bytes: usize, context: RecordContext) -> Self {
        context.track_sources();
        Self {
            cache: WriteCache::default(),
            max_bytes,
            context,
            listener: None,
            flushing: Vec::new(),
            closed: false,
        }
    }

    /// The cached value of `key`: `None` if not cached, `Some(None)` for a
    /// cached deletion.
    pub(crate) fn get(&self, key: &[u8]) -> Option<Option<&[u8]>> {
        self.cache.get(key)
    }

    /// Caches a write, then evicts (writing through to `inner`) until the
    /// cache fits its budget.
    pub(crate) fn write(
        &mut self,
        key: &[u8],
        value: Option<&[u8]>,
        inner: &mut dyn WriteThrough,
    ) -> Result<()> {
        self.check_open(inner)?;
        self.cache.write(
            key,
            value,
            self.context.timestamp(),
            Origin::of(&self.context),
        );
        self.evict_to_budget(inner)
    }

    /// Rewrites the cached value of `key` in place (see
    /// [`WriteCache::update`]), then evicts until the cache fits its budget;
    /// `None` if `key` is not cached.
    pub(crate) fn update(
        &mut self,
        key: &[u8],
        value: &mut Vec<u8>,
        update: &mut Rewrite<'_>,
        inner: &mut dyn WriteThrough,
    ) -> Result<Option<bool>> {
        self.check_open(inner)?;
        let context = &self.context;
        let written = self
            .cache
            .update(key, value, update, context.timestamp(), || {
                Origin::of(context)
            });
        if written == Some(true) {
            self.evict_to_budget(inner)?;
        }
        Ok(written)
    }

    /// Evicts the least recently written entries, writing through to
    /// `inner`, until the cache fits its budget.
    fn evict_to_budget(&mut self, inner: &mut dyn WriteThrough) -> Result<()> {
        while self.cache.bytes > self.max_bytes {
            let Some((key, dirty)) = self.cache.least_recently_written() else {
                break;
            };
            if dirty {
                self.flush(inner)?;
            }
            self.cache.remove(key.as_slice());
        }
        Ok(())
    }

    /// Writes every dirty entry through to `inner` and hands it to the
    /// listener. If that fails, the entries not yet written stay dirty.
    pub(crate) fn flush(&mut self, inner: &mut dyn WriteThrough) -> Result<()> {
        let current = self.context.timestamp();
        let mut dirty = std::mem::take(&mut self.flushing);
        self.cache.take_dirty_into(&mut dirty);
        let old_values = self
            .listener
            .as_ref()
            .is_some_and(|listener| listener.old_values);
        let listening = self.listener.is_some();
        let mut result = Ok(());
        for (position, entry) in dirty.iter().enumerate() {
            // The logging layer below stamps the write's own timestamp.
            self.context.set_timestamp(entry.timestamp);
            let flushed = match Self::write_through(entry, listening, old_values, inner) {
                Ok(flushed) => flushed,
                Err(error) => {
                    self.cache
                        .mark_dirty(dirty[position..].iter().map(|entry| &entry.key));
                    result = Err(error);
                    break;
                }
            };
            // The entry is written; if the listener fails, only the ones
            // after it stay dirty (a retry must not write it twice).
            if let Err(error) = self.notify(flushed, inner) {
                self.cache
                    .mark_dirty(dirty[position + 1..].iter().map(|entry| &entry.key));
                result = Err(error);
                break;
            }
        }
        self.context.set_timestamp(current);
        dirty.clear();
        self.flushing = dirty;
        result
    }

    /// Writes `entry` through, returning what the `listening` listener is
    /// to see (with the value it replaces if `old_values`), or `None` when
    /// nothing is to be seen. As Kafka's caching stores do, a listened-to
    /// store skips a deletion of a key the wrapped store does not hold
    /// (neither written nor forwarded); without a listener every entry is
    /// written, so the changelog gets each tombstone.
    fn write_through(
        entry: &DirtyEntry,
        listening: bool,
        old_values: bool,
        inner: &mut dyn WriteThrough,
    ) -> Result<Option<CacheEntry>> {
        let key = entry.key.as_slice();
        let value = entry.value.as_ref().map(InlineBytes::as_slice);
        if !listening {
            inner.write(key, value)?;
            return Ok(None);
        }
        let old_value = if old_values || value.is_none() {
            inner.read(key)?
        } else {
            None
        };
        if value.is_none() && old_value.is_none() {
            return Ok(None);
        }
        inner.write(key, value)?;
        Ok(Some(CacheEntry {
            key: inner.listener_key(key),
            new_value: value.map(<[u8]>::to_vec),
            old_value: old_value.filter(|_| old_values),
            timestamp: entry.timestamp,
            headers: entry.origin.headers.clone(),
            source: entry.origin.source,
        }))
    }

    fn notify(&mut self, flushed: Option<CacheEntry>, inner: &dyn WriteThrough) -> Result<()> {
        match (flushed, self.listener.as_mut()) {
            (Some(flushed), Some(listener)) => {
                (listener.on_flush)(flushed).map_err(|source| StoreError::FlushListener {
                    store: inner.store_name().to_owned(),
                    source,
                })
            }
            _ => Ok(()),
        }
    }

    /// Drops `key` from the cache (restored entries supersede it).
    pub(crate) fn remove(&mut self, key: &[u8]) {
        self.cache.remove(key);
    }

    /// Writes every dirty entry through to `inner`, empties the cache,
    /// refuses later writes, and closes `inner` with `close_inner`: each
    /// step whatever failed before it, as Kafka's caching stores close
    /// every layer, and the first error is returned. Closing again closes
    /// `inner` again (the stores below tolerate it), so that a close that
    /// failed there can be retried.
    pub(crate) fn close<S: WriteThrough>(
        &mut self,
        inner: &mut S,
        close_inner: impl FnOnce(&mut S) -> Result<()>,
    ) -> Result<()> {
        let flushed = if self.closed {
            Ok(())
        } else {
            self.flush(inner)
        };
        self.cache = WriteCache::default();
        self.closed = true;
        let closed = close_inner(inner);
        flushed.and(closed)
    }

    /// A closed cache refuses writes: they would be served from the cache
    /// by a store that is closed.
    fn check_open(&self, inner: &dyn WriteThrough) -> Result<()> {
        if self.closed {
            return Err(StoreError::Closed(inner.store_name().to_owned()));
        }
        Ok(())
    }

    /// The cached entries of a segmented store (keys prefixed by their
    /// segment) in the segments `first..=last`: for each segment the cache
    /// holds, the entries in `range(segment prefix)`, in forward order. Only
    /// segments present in the cache are visited.
    pub(crate) fn entries_in_segments(
        &self,
        first: i64,
        last: i64,
        range: impl Fn(&[u8]) -> ByteRange,
    ) -> Vec<CachedEntry> {
        let mut entries = Vec::new();
        let mut cursor = segment_prefix(first);
        while let Some((segment, _)) = self.cache.first_key_from(&cursor).and_then(split_segment) {
            if segment > last {
                break;
            }
            let prefix = segment_prefix(segment);
            entries.extend(self.cache.entries_in(&range(&prefix), ScanOrder::Forward));
            let Some(next) = segment.checked_add(1) else {
                break;
            };
            cursor = segment_prefix(next);
        }
        entries
    }

    /// Cached entries in `range`, in `order`; `None` values are deletions.
    pub(crate) fn entries_in(&self, range: &ByteRange, order: ScanOrder) -> Vec<CachedEntry> {
        self.cache.entries_in(range, order)
    }

    /// Sets the listener that sees every entry written through.
    pub(crate) fn set_listener(&mut self, listener: FlushListener) {
        self.listener = Some(listener);
    }

    #[cfg(test)]
    pub(crate) fn dirty_len(&self) -> usize {
        self.cache.dirty_count
    }

    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        self.cache.index.is_empty()
    }

    #[cfg(test)]
    pub(crate) fn contains(&self, key: &[u8]) -> bool {
        self.cache.index.contains_key(key)
    }
}

/// Merges a snapshot of the cached entries of a range with a scan of the
/// wrapped store; cached entries win, cached deletions hide stored entries.
pub(crate) struct MergedScan<'a> {
    cached: Peekable<std::vec::IntoIter<CachedEntry>>,
    stored: Peekable<KeyValueIter<'a>>,
    order: ScanOrder,
}

impl<'a> MergedScan<'a> {
    /// Merges `cached` (a snapshot of the cache) into `stored`, both sorted
    /// by key in `order`.
    pub(crate) fn new(
        cached: Vec<CachedEntry>,
        stored: KeyValueIter<'a>,
        order: ScanOrder,
    ) -> Self {
        Self {
            cached: cached.into_iter().peekable(),
            stored: stored.peekable(),
            order,
        }
    }
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

    use super::*;
    use crate::test_suite::{check_property, TestResult};

    #[derive(Debug, Clone)]
    enum Op {
        Write(u8, Option<u8>),
        Remove(u8),
        TakeDirty,
    }

    /// What the cache must behave as: keys in order of latest write, the
    /// dirty ones in the same order, and each key's latest value.
    #[derive(Default)]
    struct Model {
        written: Vec<u8>,
        dirty: Vec<u8>,
        values: BTreeMap<u8, Option<u8>>,
    }

    impl Model {
        fn write(&mut self, key: u8, value: Option<u8>) {
            self.written.retain(|&k| k != key);
            self.written.push(key);
            self.dirty.retain(|&k| k != key);
            self.dirty.push(key);
            self.values.insert(key, value);
        }

        fn remove(&mut self, key: u8) {
            self.written.retain(|&k| k != key);
            self.dirty.retain(|&k| k != key);
            self.values.remove(&key);
        }
    }

    /// Whatever the writes, removals and flushes - enough of them that the
    /// logs behind both orders compact many times - the cache flushes its
    /// dirty keys in the order of their latest writes with their latest
    /// values, names the least recently written key for eviction, and its
    /// logs stay within twice the live keys plus the slack.
    #[test]
    fn orders_follow_the_latest_writes_through_compactions() -> TestResult {
        use proptest::prelude::*;
        let op = prop_oneof![
            12 => (0..12u8, proptest::option::of(any::<u8>())).prop_map(|(k, v)| Op::Write(k, v)),
            2 => (0..12u8).prop_map(Op::Remove),
            1 => Just(Op::TakeDirty),
        ];
        check_property(64, proptest::collection::vec(op, 0..600), |ops| {
            let mut cache = WriteCache::default();
            let mut model = Model::default();
            for (timestamp, op) in (0i64..).zip(ops) {
                let written = matches!(op, Op::Write(..));
                match op {
                    Op::Write(key, value) => {
                        cache.write(
                            &[key],
                            value.as_ref().map(std::slice::from_ref),
                            timestamp,
                            Origin::default(),
                        );
                        model.write(key, value);
                    }
                    Op::Remove(key) => {
                        cache.remove(&[key]);
                        model.remove(key);
                    }
                    Op::TakeDirty => {
                        let mut dirty = Vec::new();
                        cache.take_dirty_into(&mut dirty);
                        let taken: Vec<(u8, Option<u8>)> = dirty
                            .into_iter()
                            .map(|entry| {
                                let value = entry.value.map(|v| v.as_slice()[0]);
                                (entry.key.as_slice()[0], value)
                            })
                            .collect();
                        let expected: Vec<(u8, Option<u8>)> = std::mem::take(&mut model.dirty)
                            .into_iter()
                            .map(|key| (key, model.values[&key]))
                            .collect();
                        assert_eq!(taken, expected);
                    }
                }
                let lru = cache.least_recently_written();
                let expected = model
                    .written
                    .first()
                    .map(|&key| (key, model.dirty.contains(&key)));
                assert_eq!(lru.map(|(key, dirty)| (key.as_slice()[0], dirty)), expected);
                assert_eq!(cache.dirty_count, model.dirty.len());
                if written {
                    // A write compacts a log that outgrew its bound.
                    assert!(cache.written.entries.len() <= 2 * cache.index.len() + LOG_SLACK);
                    assert!(cache.dirty.entries.len() <= 2 * cache.dirty_count + LOG_SLACK);
                }
            }
            Ok(())
        })
    }
}
