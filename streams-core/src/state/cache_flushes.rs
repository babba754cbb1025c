//! What a store's cache writes through, collected for the processor that
//! owns the store: Kafka Streams' cache flush listener, turned around so
//! that the processor forwards the updates from its own context.

use std::sync::{Arc, Mutex, PoisonError};

use state_stores::{CacheEntry, FlushListener};

use crate::error::StreamsError;
use crate::record::Headers;

/// One key's update as it left a store's cache.
#[derive(Debug, Clone, PartialEq)]
pub struct FlushedEntry<K, V> {
    /// The key (for a window store, the key with its window).
    pub key: K,
    /// The latest value written (`None`: deleted).
    pub new_value: Option<V>,
    /// The value the store held before, as of the previous flush; only
    /// read if the processor asked for old values (or the entry is a
    /// deletion), `None` otherwise.
    pub old_value: Option<V>,
    /// The timestamp of the latest write.
    pub timestamp: i64,
    /// The headers of the record of the latest write.
    pub headers: Headers,
}

type Decode<K, V> = Box<dyn Fn(CacheEntry) -> Result<FlushedEntry<K, V>, StreamsError>>;
type Flush = Box<dyn Fn() -> Result<(), StreamsError>>;

/// The updates a store's cache has written through and not yet taken: the
/// collapsed latest value of each key, once per commit or eviction.
///
/// A processor whose store caches forwards these instead of each write, so
/// its children see one update per key and commit, as in Kafka Streams.
/// Made by [`KeyValueStore::cache_flushes`](super::KeyValueStore::cache_flushes)
/// and [`WindowStore::cache_flushes`](super::WindowStore::cache_flushes).
pub struct CacheFlushes<K, V> {
    flushed: Arc<Mutex<Vec<CacheEntry>>>,
    decode: Decode<K, V>,
    flush: Flush,
}

/// Where a store's flush listener collects what the cache writes through;
/// shared by every handle of the store that asks for its flushes.
pub(crate) type FlushBuffer = Arc<Mutex<Vec<CacheEntry>>>;

/// A listener that appends every flushed entry to `buffer`.
pub(crate) fn collecting_listener(buffer: &FlushBuffer) -> FlushListener {
    let sink = Arc::clone(buffer);
    FlushListener::new(move |entry| {
        lock(&sink).push(entry);
        Ok(())
    })
}

impl<K, V> CacheFlushes<K, V> {
    /// The flushes collected in `flushed`, decoded with `decode`; `flush`
    /// flushes the store's cache.
    pub(crate) fn new(
        flushed: FlushBuffer,
        decode: impl Fn(CacheEntry) -> Result<FlushedEntry<K, V>, StreamsError> + 'static,
        flush: impl Fn() -> Result<(), StreamsError> + 'static,
    ) -> Self {
        Self {
            flushed,
            decode: Box::new(decode),
            flush: Box::new(flush),
        }
    }

    /// Takes the updates flushed since the last call, in flush order.
    pub fn take(&self) -> Result<Vec<FlushedEntry<K, V>>, StreamsError> {
        let entries = std::mem::take(&mut *lock(&self.flushed));
        entries.into_iter().map(&self.decode).collect()
    }

    /// Flushes the store's cache and takes everything it wrote through.
    pub fn flush(&self) -> Result<Vec<FlushedEntry<K, V>>, StreamsError> {
        (self.flush)()?;
        self.take()
    }
}

/// The buffer is only touched by the listener and `take`, neither of which
/// can panic while holding it; a poisoned lock still holds whole entries.
fn lock(buffer: &Mutex<Vec<CacheEntry>>) -> std::sync::MutexGuard<'_, Vec<CacheEntry>> {
    buffer.lock().unwrap_or_else(PoisonError::into_inner)
}
