//! Typed key-value stores.

use std::sync::{Arc, Mutex, PoisonError};

use state_stores::{CacheEntry, KeyValueStore as BytesKeyValueStore, StoreError};

use super::handle::TypedStore;
use super::StoreHandle;
use crate::error::StreamsError;
use crate::serde::{Serializer, SharedSerde};

/// A key-value store as processors use it: keys `K`, values `V`, encoded
/// with the store's serdes into a byte-level store (in memory or RocksDB,
/// possibly with caching and changelogging in between).
///
/// Persistent stores iterate in the byte order of the serialized keys (for
/// the big-endian number serdes that is numeric order for non-negative
/// numbers). Range results are collected into vectors, so no iterator needs
/// closing.
pub struct KeyValueStore<K, V> {
    inner: TypedStore<dyn BytesKeyValueStore, K, V>,
}

impl<K, V> Clone for KeyValueStore<K, V> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
        }
    }
}

impl<K: 'static, V: 'static> KeyValueStore<K, V> {
    /// Wraps a byte-level store.
    pub fn new(
        store: Box<dyn BytesKeyValueStore>,
        topic: &str,
        key: SharedSerde<K>,
        value: SharedSerde<V>,
    ) -> Self {
        Self {
            inner: TypedStore::new(store, topic, key, value),
        }
    }

    /// The store's name.
    pub fn name(&self) -> &str {
        self.inner.name()
    }

    fn decode_entry(&self, (key, value): (Vec<u8>, Vec<u8>)) -> Result<(K, V), StreamsError> {
        Ok((
            self.inner.decode_key(&key)?,
            self.inner.decode_value(&value)?,
        ))
    }

    /// The value under `key`.
    pub fn get(&self, key: &K) -> Result<Option<V>, StreamsError> {
        self.inner.with_key(key, |key| {
            // Decoded from the bytes the store lends, without copying them.
            let mut value = Ok(None);
            self.inner.read(|store| {
                store.get_with(key, &mut |bytes| {
                    value = bytes
                        .map(|bytes| self.inner.decode_value(bytes))
                        .transpose();
                })
            })?;
            value
        })
    }

    /// Stores `value` under `key`.
    pub fn put(&self, key: &K, value: &V) -> Result<(), StreamsError> {
        self.inner.with_key(key, |key| {
            self.inner.with_value(value, |value| {
                self.inner.write(|store| store.put(key, value))
            })
        })
    }

    /// Stores `value` unless `key` has a value; returns the value it had.
    pub fn put_if_absent(&self, key: &K, value: &V) -> Result<Option<V>, StreamsError> {
        let old = self.inner.with_key(key, |key| {
            self.inner.with_value(value, |value| {
                self.inner.write(|store| store.put_if_absent(key, value))
            })
        })?;
        self.inner.decode_optional_value(old)
    }

    /// Stores (`Some`) or deletes (`None`) each entry, in order.
    pub fn put_all(&self, entries: &[(K, Option<V>)]) -> Result<(), StreamsError> {
        let encoded = entries
            .iter()
            .map(|(key, value)| {
                Ok((
                    self.inner.key_bytes(key)?,
                    value
                        .as_ref()
                        .map(|v| self.inner.value_bytes(v))
                        .transpose()?,
                ))
            })
            .collect::<Result<Vec<_>, StreamsError>>()?;
        self.inner.write(|store| store.put_all(&encoded))
    }

    /// Deletes `key`, returning the value it had.
    pub fn delete(&self, key: &K) -> Result<Option<V>, StreamsError> {
        let old = self
            .inner
            .with_key(key, |key| self.inner.write(|store| store.delete(key)))?;
        self.inner.decode_optional_value(old)
    }

    /// Entries with `from <= key <= to` (by serialized key), ascending;
    /// `None` leaves an end open.
    pub fn range(&self, from: Option<&K>, to: Option<&K>) -> Result<Vec<(K, V)>, StreamsError> {
        let (from, to) = self.inner.key_bounds(from, to)?;
        self.inner.scan(
            |store| store.range(from.as_deref(), to.as_deref()),
            |entry| self.decode_entry(entry),
        )
    }

    /// Entries with `from <= key <= to`, descending.
    pub fn reverse_range(
        &self,
        from: Option<&K>,
        to: Option<&K>,
    ) -> Result<Vec<(K, V)>, StreamsError> {
        let (from, to) = self.inner.key_bounds(from, to)?;
        self.inner.scan(
            |store| store.reverse_range(from.as_deref(), to.as_deref()),
            |entry| self.decode_entry(entry),
        )
    }

    /// Every entry, ascending.
    pub fn all(&self) -> Result<Vec<(K, V)>, StreamsError> {
        self.inner
            .scan(|store| store.all(), |entry| self.decode_entry(entry))
    }

    /// Every entry, descending.
    pub fn reverse_all(&self) -> Result<Vec<(K, V)>, StreamsError> {
        self.inner.scan(
            |store| store.reverse_all(),
            |entry| self.decode_entry(entry),
        )
    }

    /// Entries whose serialized key starts with `prefix` serialized by
    /// `serializer` (the prefix may be of another type than the keys).
    pub fn prefix_scan<P>(
        &self,
        prefix: &P,
        serializer: &dyn Serializer<P>,
    ) -> Result<Vec<(K, V)>, StreamsError> {
        let prefix = self.inner.encode(serializer, prefix)?;
        self.inner.scan(
            |store| store.prefix_scan(&prefix),
            |entry| self.decode_entry(entry),
        )
    }

    /// An estimate of the number of entries.
    pub fn approximate_num_entries(&self) -> Result<u64, StreamsError> {
        self.inner.read(|store| store.approximate_num_entries())
    }
}

impl<K: 'static, V: 'static> KeyValueStore<K, V> {
    /// Collects the updates the store's cache writes through, so that a
    /// processor can forward an update when it leaves the cache instead of
    /// on every write (Kafka Streams' cache flush listener): the collapsed
    /// latest value of each key, once per commit or eviction. `None` if the
    /// store has no cache, when every write goes straight through and the
    /// processor forwards as it writes.
    pub fn cache_flushes(&self) -> Result<Option<CacheFlushes<K, V>>, StreamsError> {
        let flushed: Arc<Mutex<Vec<CacheEntry>>> = Arc::default();
        let sink = flushed.clone();
        let listener = Box::new(move |entry| {
            lock(&sink).push(entry);
            Ok(())
        });
        match self.inner.write(|store| store.set_flush_listener(listener)) {
            Ok(()) => Ok(Some(CacheFlushes {
                store: self.clone(),
                flushed,
            })),
            Err(StreamsError::Store {
                source: StoreError::NotCached(_),
                ..
            }) => Ok(None),
            Err(error) => Err(error),
        }
    }
}

/// One key's update as it left a store's cache.
#[derive(Debug, Clone, PartialEq)]
pub struct FlushedEntry<K, V> {
    /// The key.
    pub key: K,
    /// The latest value written (`None`: deleted).
    pub new_value: Option<V>,
    /// The value the store held before, as of the previous flush.
    pub old_value: Option<V>,
    /// The timestamp of the latest write.
    pub timestamp: i64,
}

/// The updates a store's cache has written through and not yet taken; see
/// [`KeyValueStore::cache_flushes`].
pub struct CacheFlushes<K, V> {
    store: KeyValueStore<K, V>,
    flushed: Arc<Mutex<Vec<CacheEntry>>>,
}

impl<K: 'static, V: 'static> CacheFlushes<K, V> {
    /// Takes the updates flushed since the last call, in flush order.
    pub fn take(&self) -> Result<Vec<FlushedEntry<K, V>>, StreamsError> {
        let entries = std::mem::take(&mut *lock(&self.flushed));
        let decode = |value| self.store.inner.decode_optional_value(value);
        entries
            .into_iter()
            .map(|entry| {
                Ok(FlushedEntry {
                    key: self.store.inner.decode_key(&entry.key)?,
                    new_value: decode(entry.new_value)?,
                    old_value: decode(entry.old_value)?,
                    timestamp: entry.timestamp,
                })
            })
            .collect()
    }

    /// Flushes the store's cache and takes everything it wrote through.
    pub fn flush(&self) -> Result<Vec<FlushedEntry<K, V>>, StreamsError> {
        self.store.inner.flush()?;
        self.take()
    }
}

/// The buffer is only touched by the listener and `take`, neither of which
/// can panic while holding it; a poisoned lock still holds whole entries.
fn lock(buffer: &Mutex<Vec<CacheEntry>>) -> std::sync::MutexGuard<'_, Vec<CacheEntry>> {
    buffer.lock().unwrap_or_else(PoisonError::into_inner)
}

impl<K: 'static, V: 'static> StoreHandle for KeyValueStore<K, V> {
    fn flush(&self) -> Result<(), StreamsError> {
        self.inner.flush()
    }

    fn close(&self) -> Result<(), StreamsError> {
        self.inner.close()
    }
}
