//! What a store's cache writes through, collected for the processor that
//! owns the store: Kafka Streams' cache flush listener, turned around so
//! that the processor forwards the updates from its own context.

use std::cell::{RefCell, RefMut};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use state_stores::{CacheEntry, FlushListener};

use crate::error::StreamsError;
use crate::record::{Headers, RecordMetadata};

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
    /// Where the record of the latest write was read (`None`: it was not
    /// read from a topic, as a write during punctuation).
    pub metadata: Option<RecordMetadata>,
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
    /// The store's name, for errors.
    store: String,
    flushed: FlushBuffer,
    /// The entries being handed out, swapped with `flushed` at each take:
    /// both keep their capacity, so a commit flushing thousands of entries
    /// allocates no buffer for them (allocating and freeing one that size
    /// at every commit makes the allocator consolidate its free lists).
    taken: RefCell<Vec<CacheEntry>>,
    decode: Decode<K, V>,
    flush: Flush,
}

/// Where a store's flush listener collects what the cache writes through;
/// shared by every handle of the store that asks for its flushes.
pub(crate) type FlushBuffer = Arc<FlushQueue>;

/// The entries a cache flushed and no one took yet.
#[derive(Default)]
pub(crate) struct FlushQueue {
    entries: Mutex<Vec<CacheEntry>>,
    /// Whether `entries` holds any; set and cleared under the lock. A
    /// processor looks for evicted updates after every record and almost
    /// always finds none (only evictions and commits flush): this flag
    /// spares it the lock.
    pending: AtomicBool,
}

impl FlushQueue {
    fn push(&self, entry: CacheEntry) {
        let mut entries = lock(&self.entries);
        entries.push(entry);
        self.pending.store(true, Ordering::Release);
    }

    /// Swaps the queued entries into `taken`, which must be empty.
    fn take_into(&self, taken: &mut Vec<CacheEntry>) {
        if !self.pending.load(Ordering::Acquire) {
            return;
        }
        let mut entries = lock(&self.entries);
        std::mem::swap(taken, &mut *entries);
        self.pending.store(false, Ordering::Release);
    }
}

/// A listener that appends every flushed entry to `buffer`.
pub(crate) fn collecting_listener(buffer: &FlushBuffer) -> FlushListener {
    let sink = Arc::clone(buffer);
    FlushListener::new(move |entry| {
        sink.push(entry);
        Ok(())
    })
}

impl<K, V> CacheFlushes<K, V> {
    /// The flushes of the store `store` collected in `flushed`, decoded
    /// with `decode`; `flush` flushes the store's cache.
    pub(crate) fn new(
        store: &str,
        flushed: FlushBuffer,
        decode: impl Fn(CacheEntry) -> Result<FlushedEntry<K, V>, StreamsError> + 'static,
        flush: impl Fn() -> Result<(), StreamsError> + 'static,
    ) -> Self {
        Self {
            store: store.to_owned(),
            flushed,
            taken: RefCell::default(),
            decode: Box::new(decode),
            flush: Box::new(flush),
        }
    }

    /// Takes the updates flushed since the last call, in flush order, each
    /// decoded as it is read: an update that fails to decode ends the
    /// reading with its error, after the ones before it were handed out,
    /// and the ones after it are dropped with the reader. Fails if the
    /// updates of the last call are still being read.
    pub fn take(&self) -> Result<FlushedEntries<'_, K, V>, StreamsError> {
        let mut taken = self
            .taken
            .try_borrow_mut()
            .map_err(|_| StreamsError::StoreAccess {
                processor: "(cache flushes)".to_owned(),
                store: self.store.clone(),
                reason: "flushed updates taken again while the last ones are read".to_owned(),
            })?;
        self.flushed.take_into(&mut taken);
        // Read from the back, the oldest first.
        taken.reverse();
        Ok(FlushedEntries {
            entries: taken,
            decode: &self.decode,
        })
    }

    /// Flushes the store's cache and takes everything it wrote through.
    pub fn flush(&self) -> Result<FlushedEntries<'_, K, V>, StreamsError> {
        (self.flush)()?;
        self.take()
    }
}

/// The updates one [`CacheFlushes::take`] took, in flush order.
pub struct FlushedEntries<'a, K, V> {
    /// Newest first: the next one is popped from the end.
    entries: RefMut<'a, Vec<CacheEntry>>,
    decode: &'a Decode<K, V>,
}

/// What a reader leaves unread (it stopped at an error) is dropped with it,
/// not handed out again.
impl<K, V> Drop for FlushedEntries<'_, K, V> {
    fn drop(&mut self) {
        self.entries.clear();
    }
}

impl<K, V> Iterator for FlushedEntries<'_, K, V> {
    type Item = Result<FlushedEntry<K, V>, StreamsError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.entries.pop().map(self.decode)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.entries.len(), Some(self.entries.len()))
    }
}

/// The buffer is only touched by the listener and `take`, neither of which
/// can panic while holding it; a poisoned lock still holds whole entries.
fn lock(buffer: &Mutex<Vec<CacheEntry>>) -> std::sync::MutexGuard<'_, Vec<CacheEntry>> {
    buffer.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(key: u8) -> CacheEntry {
        CacheEntry {
            key: vec![key],
            new_value: Some(vec![key, key]),
            old_value: None,
            timestamp: i64::from(key),
            headers: None,
            source: None,
        }
    }

    /// Flushes the entries of `keys`, as a store's listener would.
    fn queue(buffer: &FlushBuffer, keys: &[u8]) {
        for &key in keys {
            buffer.push(entry(key));
        }
    }

    /// Flushes that decode an entry's key and first value byte; a key of
    /// 0 does not decode.
    fn flushes(buffer: &FlushBuffer) -> CacheFlushes<u8, u8> {
        CacheFlushes::new(
            "counts",
            Arc::clone(buffer),
            |entry| {
                if entry.key[0] == 0 {
                    return Err(StreamsError::NoRecord("undecodable".to_owned()));
                }
                Ok(FlushedEntry {
                    key: entry.key[0],
                    new_value: entry.new_value.map(|value| value[0]),
                    old_value: None,
                    timestamp: entry.timestamp,
                    headers: Headers::new(),
                    metadata: None,
                })
            },
            || Ok(()),
        )
    }

    fn keys(entries: FlushedEntries<'_, u8, u8>) -> Result<Vec<u8>, StreamsError> {
        entries.map(|entry| entry.map(|entry| entry.key)).collect()
    }

    /// Each take hands out what was flushed since the last one, in flush
    /// order, however the two buffers behind it have been swapped.
    #[test]
    fn takes_hand_out_each_flush_once_in_order() -> Result<(), StreamsError> {
        let buffer = FlushBuffer::default();
        let flushes = flushes(&buffer);
        queue(&buffer, &[1, 2, 3]);
        assert_eq!(keys(flushes.take()?)?, [1, 2, 3]);
        assert_eq!(keys(flushes.take()?)?, Vec::<u8>::new());
        queue(&buffer, &[4, 5]);
        let taken = flushes.take()?;
        assert_eq!(taken.size_hint(), (2, Some(2)));
        assert_eq!(keys(taken)?, [4, 5]);
        Ok(())
    }

    /// A take while the last one is still read is refused; what a reader
    /// left unread goes with it, not into the next take.
    #[test]
    fn a_take_while_reading_fails_and_unread_entries_go() -> Result<(), StreamsError> {
        let buffer = FlushBuffer::default();
        let flushes = flushes(&buffer);
        queue(&buffer, &[1, 2, 3]);
        let mut reading = flushes.take()?;
        assert_eq!(reading.next().transpose()?.map(|entry| entry.key), Some(1));
        assert!(matches!(
            flushes.take().map(drop),
            Err(StreamsError::StoreAccess { ref store, .. }) if store == "counts"
        ));
        drop(reading);
        queue(&buffer, &[4]);
        assert_eq!(keys(flushes.take()?)?, [4]);
        assert_eq!(keys(flushes.take()?)?, Vec::<u8>::new());
        Ok(())
    }

    /// An update that does not decode ends the reading with its error:
    /// the ones before it were handed out, the ones after it are dropped.
    #[test]
    fn an_undecodable_update_ends_the_reading() -> Result<(), StreamsError> {
        let buffer = FlushBuffer::default();
        let flushes = flushes(&buffer);
        queue(&buffer, &[1, 0, 2]);
        let mut read = Vec::new();
        let error = flushes.take()?.try_for_each(|entry| {
            read.push(entry?.key);
            Ok::<_, StreamsError>(())
        });
        assert!(matches!(error, Err(StreamsError::NoRecord(_))), "{error:?}");
        assert_eq!(read, [1]);
        for _ in 0..2 {
            assert_eq!(keys(flushes.take()?)?, Vec::<u8>::new());
        }
        Ok(())
    }
}
