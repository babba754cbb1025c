//! Typed key-value stores.

use std::cell::RefCell;
use std::rc::Rc;

use state_stores::KeyValueStore as BytesKeyValueStore;

use super::StoreHandle;
use crate::error::StreamsError;
use crate::serde::{SerdeError, Serializer, SharedSerde};

/// Serialized range bounds; `None` is an open end.
type KeyBounds = (Option<Vec<u8>>, Option<Vec<u8>>);

/// A key-value store as processors use it: keys `K`, values `V`, encoded
/// with the store's serdes into a byte-level store (in memory or RocksDB,
/// possibly with caching and changelogging in between).
///
/// Persistent stores iterate in the byte order of the serialized keys (for
/// the big-endian number serdes that is numeric order for non-negative
/// numbers). Range results are collected into vectors, so no iterator needs
/// closing.
pub struct KeyValueStore<K, V> {
    name: Rc<str>,
    /// Serdes see the changelog topic name, as in Kafka Streams.
    topic: Rc<str>,
    inner: Rc<RefCell<Box<dyn BytesKeyValueStore>>>,
    key: SharedSerde<K>,
    value: SharedSerde<V>,
}

impl<K, V> Clone for KeyValueStore<K, V> {
    fn clone(&self) -> Self {
        Self {
            name: self.name.clone(),
            topic: self.topic.clone(),
            inner: self.inner.clone(),
            key: self.key.clone(),
            value: self.value.clone(),
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
            name: Rc::from(store.name()),
            topic: Rc::from(topic),
            inner: Rc::new(RefCell::new(store)),
            key,
            value,
        }
    }

    /// The store's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    fn store_error(&self, source: state_stores::StoreError) -> StreamsError {
        StreamsError::Store {
            store: self.name.to_string(),
            source,
        }
    }

    fn serde_error(&self, source: SerdeError) -> StreamsError {
        StreamsError::Serde {
            context: format!("state store `{}`", self.name),
            source,
        }
    }

    fn encode<T: ?Sized>(
        &self,
        serde: &dyn Serializer<T>,
        data: &T,
    ) -> Result<Vec<u8>, StreamsError> {
        serde
            .serialize(&self.topic, data)
            .map_err(|e| self.serde_error(e))?
            .ok_or_else(|| {
                self.serde_error(SerdeError::Null {
                    topic: self.topic.to_string(),
                    type_name: std::any::type_name::<T>(),
                })
            })
    }

    fn key_bytes(&self, key: &K) -> Result<Vec<u8>, StreamsError> {
        self.encode(&*self.key, key)
    }

    fn value_bytes(&self, value: &V) -> Result<Vec<u8>, StreamsError> {
        self.encode(&*self.value, value)
    }

    fn decode_value(&self, bytes: Option<Vec<u8>>) -> Result<Option<V>, StreamsError> {
        bytes
            .map(|bytes| {
                self.value
                    .deserialize(&self.topic, Some(&bytes))
                    .map_err(|e| self.serde_error(e))
            })
            .transpose()
    }

    fn decode_entry(
        &self,
        entry: state_stores::Result<(Vec<u8>, Vec<u8>)>,
    ) -> Result<(K, V), StreamsError> {
        let (key, value) = entry.map_err(|e| self.store_error(e))?;
        let key = self
            .key
            .deserialize(&self.topic, Some(&key))
            .map_err(|e| self.serde_error(e))?;
        let value = self
            .value
            .deserialize(&self.topic, Some(&value))
            .map_err(|e| self.serde_error(e))?;
        Ok((key, value))
    }

    /// The value under `key`.
    pub fn get(&self, key: &K) -> Result<Option<V>, StreamsError> {
        let key = self.key_bytes(key)?;
        let value = self
            .inner
            .borrow()
            .get(&key)
            .map_err(|e| self.store_error(e))?;
        self.decode_value(value)
    }

    /// Stores `value` under `key`.
    pub fn put(&self, key: &K, value: &V) -> Result<(), StreamsError> {
        let (key, value) = (self.key_bytes(key)?, self.value_bytes(value)?);
        self.inner
            .borrow_mut()
            .put(&key, &value)
            .map_err(|e| self.store_error(e))
    }

    /// Stores `value` unless `key` has a value; returns the value it had.
    pub fn put_if_absent(&self, key: &K, value: &V) -> Result<Option<V>, StreamsError> {
        let (key, value) = (self.key_bytes(key)?, self.value_bytes(value)?);
        let old = self
            .inner
            .borrow_mut()
            .put_if_absent(&key, &value)
            .map_err(|e| self.store_error(e))?;
        self.decode_value(old)
    }

    /// Stores (`Some`) or deletes (`None`) each entry, in order.
    pub fn put_all(&self, entries: &[(K, Option<V>)]) -> Result<(), StreamsError> {
        let encoded = entries
            .iter()
            .map(|(key, value)| {
                Ok((
                    self.key_bytes(key)?,
                    value.as_ref().map(|v| self.value_bytes(v)).transpose()?,
                ))
            })
            .collect::<Result<Vec<_>, StreamsError>>()?;
        self.inner
            .borrow_mut()
            .put_all(&encoded)
            .map_err(|e| self.store_error(e))
    }

    /// Deletes `key`, returning the value it had.
    pub fn delete(&self, key: &K) -> Result<Option<V>, StreamsError> {
        let key = self.key_bytes(key)?;
        let old = self
            .inner
            .borrow_mut()
            .delete(&key)
            .map_err(|e| self.store_error(e))?;
        self.decode_value(old)
    }

    fn collect<'a>(
        &self,
        entries: impl Iterator<Item = state_stores::Result<(Vec<u8>, Vec<u8>)>> + 'a,
    ) -> Result<Vec<(K, V)>, StreamsError> {
        entries.map(|entry| self.decode_entry(entry)).collect()
    }

    fn bounds(&self, from: Option<&K>, to: Option<&K>) -> Result<KeyBounds, StreamsError> {
        Ok((
            from.map(|k| self.key_bytes(k)).transpose()?,
            to.map(|k| self.key_bytes(k)).transpose()?,
        ))
    }

    /// Entries with `from <= key <= to` (by serialized key), ascending;
    /// `None` leaves an end open.
    pub fn range(&self, from: Option<&K>, to: Option<&K>) -> Result<Vec<(K, V)>, StreamsError> {
        let (from, to) = self.bounds(from, to)?;
        let store = self.inner.borrow();
        self.collect(store.range(from.as_deref(), to.as_deref()))
    }

    /// Entries with `from <= key <= to`, descending.
    pub fn reverse_range(
        &self,
        from: Option<&K>,
        to: Option<&K>,
    ) -> Result<Vec<(K, V)>, StreamsError> {
        let (from, to) = self.bounds(from, to)?;
        let store = self.inner.borrow();
        self.collect(store.reverse_range(from.as_deref(), to.as_deref()))
    }

    /// Every entry, ascending.
    pub fn all(&self) -> Result<Vec<(K, V)>, StreamsError> {
        let store = self.inner.borrow();
        self.collect(store.all())
    }

    /// Every entry, descending.
    pub fn reverse_all(&self) -> Result<Vec<(K, V)>, StreamsError> {
        let store = self.inner.borrow();
        self.collect(store.reverse_all())
    }

    /// Entries whose serialized key starts with `prefix` serialized by
    /// `serializer` (the prefix may be of another type than the keys).
    pub fn prefix_scan<P>(
        &self,
        prefix: &P,
        serializer: &dyn Serializer<P>,
    ) -> Result<Vec<(K, V)>, StreamsError> {
        let prefix = self.encode(serializer, prefix)?;
        let store = self.inner.borrow();
        self.collect(store.prefix_scan(&prefix))
    }

    /// An estimate of the number of entries.
    pub fn approximate_num_entries(&self) -> Result<u64, StreamsError> {
        self.inner
            .borrow()
            .approximate_num_entries()
            .map_err(|e| self.store_error(e))
    }
}

impl<K: 'static, V: 'static> StoreHandle for KeyValueStore<K, V> {
    fn flush(&self) -> Result<(), StreamsError> {
        self.inner
            .borrow_mut()
            .flush()
            .map_err(|e| self.store_error(e))
    }

    fn close(&self) -> Result<(), StreamsError> {
        self.inner
            .borrow_mut()
            .close()
            .map_err(|e| self.store_error(e))
    }
}
