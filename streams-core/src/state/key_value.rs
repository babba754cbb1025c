//! Typed key-value stores.

use state_stores::{ChangelogRecord, KeyValueStore as BytesKeyValueStore};

use std::any::Any;

use super::cache_flushes::CacheFlushes;
use super::handle::TypedStore;
use super::timestamped::plain_values;
use super::{StoreHandle, ValueAndTimestamp};
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

    /// Stores `value` under `key`; a value that serializes to null (such as
    /// `None` with an `OptionSerde`) deletes it, as in Kafka.
    pub fn put(&self, key: &K, value: &V) -> Result<(), StreamsError> {
        self.inner.with_key(key, |key| {
            self.inner.with_value(value, |value| match value {
                Some(value) => self.inner.write(|store| store.put(key, value)),
                None => self.inner.write(|store| store.delete(key)).map(drop),
            })
        })
    }

    /// Replaces the value under `key` with the one `update` makes of the
    /// value held (`None` if absent), and returns what `update` returns
    /// with it: a read and a write with one lookup where the store can,
    /// as an aggregation updating its row wants. A new value that
    /// serializes to null deletes `key`, as with [`put`](Self::put).
    pub fn update<R>(
        &self,
        key: &K,
        update: impl FnOnce(Option<V>) -> (V, R),
    ) -> Result<R, StreamsError> {
        self.inner.with_key(key, |key| {
            let mut update = Some(update);
            let mut answer = None;
            // What the byte-level call cannot return: a serde's error, or
            // a new value that is null, which is deleted after.
            let mut failed = None;
            let mut null = false;
            self.inner.with_value_buffer(|value| {
                self.inner.write(|store| {
                    store.update(key, value, &mut |held, out| {
                        let Some(update) = update.take() else {
                            return false;
                        };
                        let held =
                            match held.map(|bytes| self.inner.decode_value(bytes)).transpose() {
                                Ok(held) => held,
                                Err(error) => {
                                    failed = Some(error);
                                    return false;
                                }
                            };
                        let (new, returned) = update(held);
                        answer = Some(returned);
                        match self.inner.encode_value_into(&new, out) {
                            Ok(present) => {
                                null = !present;
                                present
                            }
                            Err(error) => {
                                failed = Some(error);
                                false
                            }
                        }
                    })
                })
            })?;
            if let Some(error) = failed {
                return Err(error);
            }
            if null {
                self.inner.write(|store| store.delete(key))?;
            }
            answer.ok_or_else(|| {
                self.inner
                    .corrupt("the store did not read the value it updated")
            })
        })
    }

    /// Stores `value` unless `key` has a value; returns the value it had.
    pub fn put_if_absent(&self, key: &K, value: &V) -> Result<Option<V>, StreamsError> {
        let old = self.inner.with_key(key, |key| {
            self.inner.with_value(value, |value| {
                self.inner.write(|store| match value {
                    Some(value) => store.put_if_absent(key, value),
                    // Null deletes: a no-op when absent, but logged.
                    None => match store.get(key)? {
                        None => store.delete(key),
                        present => Ok(present),
                    },
                })
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
                    match value {
                        Some(value) => self.inner.value_bytes(value)?,
                        None => None,
                    },
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
    /// on every write (Kafka Streams' cache flush listener); `None` if the
    /// store has no cache. See [`CacheFlushes`]. Entries carry the values
    /// they replace only if `old_values` (reading them costs a lookup per
    /// entry).
    pub fn cache_flushes(
        &self,
        old_values: bool,
    ) -> Result<Option<CacheFlushes<K, V>>, StreamsError> {
        self.inner.cache_flushes(
            old_values,
            |store, listener| store.set_flush_listener(listener),
            |inner, key| inner.decode_owned_key(key),
        )
    }
}

impl<K: 'static, V: 'static> StoreHandle for KeyValueStore<K, V> {
    fn persistent(&self) -> bool {
        self.inner.persistent()
    }

    fn flush(&self) -> Result<(), StreamsError> {
        self.inner.flush()
    }

    fn flush_cache(&self) -> Result<(), StreamsError> {
        self.inner.flush_cache()
    }

    fn close(&self) -> Result<(), StreamsError> {
        self.inner.close()
    }

    fn restore(&self, records: &[ChangelogRecord]) -> Result<(), StreamsError> {
        self.inner.check_task_owned()?;
        self.inner.write(|store| store.restore_batch(records))
    }

    fn for_processor(&self) -> Self {
        Self {
            inner: self.inner.for_processor(),
        }
    }

    /// The plain view of a [`TimestampedKeyValueStore<K, V>`](super::TimestampedKeyValueStore).
    fn view_of(store: &dyn Any) -> Option<Self> {
        let timestamped = store.downcast_ref::<KeyValueStore<K, ValueAndTimestamp<V>>>()?;
        Some(Self {
            inner: timestamped.inner.read_only_view(plain_values),
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use state_stores::{BackedKeyValueStore, InMemoryBackend};

    use crate::serde::{I64Serde, OptionSerde, StringSerde};

    use super::*;

    type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

    /// A store of optional counts (a `None` count serializes to null) over
    /// `bytes`.
    fn counts(bytes: BackedKeyValueStore<InMemoryBackend>) -> KeyValueStore<String, Option<i64>> {
        let value = Arc::new(OptionSerde::new(Arc::new(I64Serde)));
        KeyValueStore::new(
            Box::new(bytes),
            "counts-changelog",
            Arc::new(StringSerde),
            value,
        )
    }

    fn in_memory() -> BackedKeyValueStore<InMemoryBackend> {
        BackedKeyValueStore::new(InMemoryBackend::new("counts"))
    }

    /// An update sees the value held, stores the one it makes and returns
    /// what it answers; a new value that is null deletes the key.
    #[test]
    fn update_reads_writes_and_deletes_as_put_does() -> Result {
        let store = counts(in_memory());
        let key = "a".to_owned();
        let add = |held: Option<Option<i64>>| {
            let count = held.flatten().unwrap_or(0) + 1;
            (Some(count), held)
        };
        assert_eq!(store.update(&key, add)?, None);
        assert_eq!(store.update(&key, add)?, Some(Some(1)));
        assert_eq!(store.get(&key)?, Some(Some(2)));
        assert_eq!(store.update(&key, |held| (None, held))?, Some(Some(2)));
        assert_eq!(store.get(&key)?, None);
        assert_eq!(store.approximate_num_entries()?, 0);
        Ok(())
    }

    /// A held value that does not decode fails the update with the serde's
    /// error and is left as it was.
    #[test]
    fn update_of_an_undecodable_value_fails_and_writes_nothing() -> Result {
        let mut bytes = in_memory();
        bytes.put(b"a", &[1, 2, 3])?;
        let store = counts(bytes);
        let key = "a".to_owned();
        let updated = store.update(&key, |held| (Some(0), held));
        assert!(
            matches!(updated, Err(StreamsError::Serde { .. })),
            "{updated:?}"
        );
        let read = store.get(&key);
        assert!(matches!(read, Err(StreamsError::Serde { .. })), "{read:?}");
        Ok(())
    }
}
