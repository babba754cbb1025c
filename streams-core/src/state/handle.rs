//! What every typed store handle shares: the byte-level store behind a
//! shared cell, the store's serdes, and the encode/decode/error helpers.
//!
//! The key-value, window and session handles differ only in which
//! byte-level trait `S` they wrap and how they shape results; everything
//! that touches serdes, borrowing or error wrapping lives here once.

use std::cell::{Cell, OnceCell, RefCell};
use std::rc::Rc;
use std::sync::Arc;

use state_stores::{FlushListener, StateStore};

use super::cache_flushes::{collecting_listener, CacheFlushes, FlushBuffer, FlushedEntry};
use crate::error::StreamsError;
use crate::record::{Headers, RecordMetadata};
use crate::serde::{Deserializer, SerdeError, Serializer, SharedSerde};

/// Serialized range bounds; `None` is an open end.
pub(super) type KeyBounds = (Option<Vec<u8>>, Option<Vec<u8>>);

/// An iterator of byte-level entries as the stores return them.
pub(super) type BytesIter<'a, E> = Box<dyn Iterator<Item = state_stores::Result<E>> + 'a>;

/// A byte-level store of kind `S` with serdes for keys `K` and values `V`.
///
/// Clones share the store: a task's processors and the test driver all see
/// one instance.
pub(super) struct TypedStore<S: ?Sized, K, V> {
    name: Rc<str>,
    /// Serdes see the changelog topic name, as in Kafka Streams.
    topic: Rc<str>,
    store: Rc<RefCell<Box<S>>>,
    key: SharedSerde<K>,
    value: SharedSerde<V>,
    /// Buffers that point operations serialize their key and value into,
    /// kept from call to call so that encoding allocates nothing. Each is
    /// taken out while in use: a serde re-entering the handle finds it
    /// empty and simply allocates.
    key_buffer: Cell<Vec<u8>>,
    value_buffer: Cell<Vec<u8>>,
    /// Where the store's flush listener collects, once one was installed:
    /// the processors sharing a store (a cogroup's aggregators) share it.
    flushed: Rc<OnceCell<FlushBuffer>>,
    /// Whether the store keeps its contents on disk across restarts.
    persistent: bool,
    /// Whether this handle only reads: a plain view of a timestamped store.
    read_only: bool,
    /// Whether this is a processor's handle, which may not close or
    /// restore the store: only its task does.
    processor: bool,
}

impl<S: ?Sized, K, V> Clone for TypedStore<S, K, V> {
    fn clone(&self) -> Self {
        Self {
            name: self.name.clone(),
            topic: self.topic.clone(),
            store: self.store.clone(),
            flushed: self.flushed.clone(),
            persistent: self.persistent,
            read_only: self.read_only,
            processor: self.processor,
            key: self.key.clone(),
            value: self.value.clone(),
            key_buffer: Cell::default(),
            value_buffer: Cell::default(),
        }
    }
}

impl<S: StateStore + ?Sized, K, V> TypedStore<S, K, V> {
    pub(super) fn new(
        store: Box<S>,
        topic: &str,
        key: SharedSerde<K>,
        value: SharedSerde<V>,
    ) -> Self {
        Self {
            name: Rc::from(store.name()),
            topic: Rc::from(topic),
            persistent: store.persistent(),
            store: Rc::new(RefCell::new(store)),
            key,
            value,
            key_buffer: Cell::default(),
            value_buffer: Cell::default(),
            flushed: Rc::default(),
            read_only: false,
            processor: false,
        }
    }

    pub(super) fn name(&self) -> &str {
        &self.name
    }

    /// A handle onto the same store that only reads, its values decoded
    /// by the serde `value` makes of this one's: a plain view.
    pub(super) fn read_only_view<V2>(
        &self,
        value: impl FnOnce(SharedSerde<V>) -> SharedSerde<V2>,
    ) -> TypedStore<S, K, V2> {
        TypedStore {
            name: self.name.clone(),
            topic: self.topic.clone(),
            store: self.store.clone(),
            key: self.key.clone(),
            value: value(self.value.clone()),
            key_buffer: Cell::default(),
            value_buffer: Cell::default(),
            flushed: Rc::default(),
            persistent: self.persistent,
            read_only: true,
            processor: false,
        }
    }

    /// This handle as a processor gets it (see
    /// [`StoreHandle::for_processor`](super::StoreHandle::for_processor)).
    pub(super) fn for_processor(&self) -> Self {
        Self {
            processor: true,
            ..self.clone()
        }
    }

    /// Fails for a processor's handle: closing and restoring the store is
    /// its task's business (Kafka's processor-facing stores refuse it).
    pub(super) fn check_task_owned(&self) -> Result<(), StreamsError> {
        if self.processor {
            return Err(StreamsError::StoreOwnedByTask(self.name.to_string()));
        }
        Ok(())
    }

    /// Fails for a read-only view, before anything is encoded or written.
    fn check_writable(&self) -> Result<(), StreamsError> {
        if self.read_only {
            return Err(StreamsError::ReadOnlyView(self.name.to_string()));
        }
        Ok(())
    }

    pub(super) fn store_error(&self, source: state_stores::StoreError) -> StreamsError {
        StreamsError::Store {
            store: self.name.to_string(),
            source,
        }
    }

    pub(super) fn serde_error(&self, source: SerdeError) -> StreamsError {
        StreamsError::Serde {
            context: format!("state store `{}`", self.name),
            source,
        }
    }

    /// The store is borrowed while a scan runs, and a scan calls the
    /// (user-provided) deserializers; one that reached back into the same
    /// store would otherwise panic on the double borrow.
    fn busy_error(&self) -> StreamsError {
        StreamsError::StoreAccess {
            processor: "(store handle)".to_owned(),
            store: self.name.to_string(),
            reason: "the store is already in use (re-entered from a serde)".to_owned(),
        }
    }

    /// Serializes `data` with `serde`; stores have no null keys, so a
    /// serializer answering null is an error.
    pub(super) fn encode<T: ?Sized>(
        &self,
        serde: &dyn Serializer<T>,
        data: &T,
    ) -> Result<Vec<u8>, StreamsError> {
        let mut bytes = Vec::new();
        self.encode_into(serde, data, &mut bytes)?;
        Ok(bytes)
    }

    /// [`encode`](Self::encode), appending to `out`.
    fn encode_into<T: ?Sized>(
        &self,
        serde: &dyn Serializer<T>,
        data: &T,
        out: &mut Vec<u8>,
    ) -> Result<(), StreamsError> {
        if self.encode_nullable_into(serde, data, out)? {
            return Ok(());
        }
        Err(self.serde_error(SerdeError::Null {
            topic: self.topic.to_string(),
            type_name: std::any::type_name::<T>(),
        }))
    }

    /// Appends the bytes of `data` to `out` and returns `true`, or returns
    /// `false` if it serializes to null.
    fn encode_nullable_into<T: ?Sized>(
        &self,
        serde: &dyn Serializer<T>,
        data: &T,
        out: &mut Vec<u8>,
    ) -> Result<bool, StreamsError> {
        serde
            .serialize_into(&self.topic, data, out)
            .map_err(|e| self.serde_error(e))
    }

    /// Fills `buffer` (one of the handle's, reused so that encoding
    /// allocates nothing) with `encode`, and runs `call` on what `encode`
    /// answered and the bytes.
    fn with_buffer<E, R>(
        buffer: &Cell<Vec<u8>>,
        encode: impl FnOnce(&mut Vec<u8>) -> Result<E, StreamsError>,
        call: impl FnOnce(E, &[u8]) -> Result<R, StreamsError>,
    ) -> Result<R, StreamsError> {
        let mut bytes = buffer.take();
        bytes.clear();
        let encoded = encode(&mut bytes)?;
        let result = call(encoded, &bytes);
        buffer.set(bytes);
        result
    }

    /// Runs `call` with the handle's value buffer (see
    /// [`with_value`](Self::with_value)), for a call that encodes a value
    /// into it itself.
    pub(super) fn with_value_buffer<R>(&self, call: impl FnOnce(&mut Vec<u8>) -> R) -> R {
        let mut bytes = self.value_buffer.take();
        let result = call(&mut bytes);
        self.value_buffer.set(bytes);
        result
    }

    /// Appends the bytes of `value` to `out` and returns `true`, or
    /// returns `false` if it serializes to null.
    pub(super) fn encode_value_into(
        &self,
        value: &V,
        out: &mut Vec<u8>,
    ) -> Result<bool, StreamsError> {
        self.encode_nullable_into(&*self.value, value, out)
    }

    /// Runs `call` on the serialized `key`, encoded without allocating.
    pub(super) fn with_key<R>(
        &self,
        key: &K,
        call: impl FnOnce(&[u8]) -> Result<R, StreamsError>,
    ) -> Result<R, StreamsError> {
        Self::with_buffer(
            &self.key_buffer,
            |out| self.encode_into(&*self.key, key, out),
            |(), bytes| call(bytes),
        )
    }

    /// Runs `call` on the serialized `value`, encoded without allocating,
    /// or on `None` if it serializes to null: a value written as null
    /// deletes, as in Kafka's stores.
    pub(super) fn with_value<R>(
        &self,
        value: &V,
        call: impl FnOnce(Option<&[u8]>) -> Result<R, StreamsError>,
    ) -> Result<R, StreamsError> {
        self.check_writable()?;
        Self::with_buffer(
            &self.value_buffer,
            |out| self.encode_nullable_into(&*self.value, value, out),
            |present, bytes| call(present.then_some(bytes)),
        )
    }

    fn decode<T>(&self, serde: &dyn Deserializer<T>, bytes: &[u8]) -> Result<T, StreamsError> {
        serde
            .deserialize(&self.topic, Some(bytes))
            .map_err(|e| self.serde_error(e))
    }

    pub(super) fn key_bytes(&self, key: &K) -> Result<Vec<u8>, StreamsError> {
        self.encode(&*self.key, key)
    }

    /// The bytes of `value`; `None` if it serializes to null (a delete).
    pub(super) fn value_bytes(&self, value: &V) -> Result<Option<Vec<u8>>, StreamsError> {
        let mut bytes = Vec::new();
        Ok(self
            .encode_nullable_into(&*self.value, value, &mut bytes)?
            .then_some(bytes))
    }

    pub(super) fn key_bounds(
        &self,
        from: Option<&K>,
        to: Option<&K>,
    ) -> Result<KeyBounds, StreamsError> {
        Ok((
            from.map(|k| self.key_bytes(k)).transpose()?,
            to.map(|k| self.key_bytes(k)).transpose()?,
        ))
    }

    pub(super) fn decode_key(&self, bytes: &[u8]) -> Result<K, StreamsError> {
        self.decode(&*self.key, bytes)
    }

    /// [`decode_key`](Self::decode_key) of bytes given away, which the
    /// serde may keep (a string keeps them as its buffer).
    pub(super) fn decode_owned_key(&self, bytes: Vec<u8>) -> Result<K, StreamsError> {
        self.key
            .deserialize_owned(&self.topic, Some(bytes))
            .map_err(|e| self.serde_error(e))
    }

    pub(super) fn decode_value(&self, bytes: &[u8]) -> Result<V, StreamsError> {
        self.decode(&*self.value, bytes)
    }

    pub(super) fn decode_optional_value(
        &self,
        bytes: Option<Vec<u8>>,
    ) -> Result<Option<V>, StreamsError> {
        bytes.map(|bytes| self.decode_value(&bytes)).transpose()
    }

    /// Runs a point read or other non-mutating call on the store.
    pub(super) fn read<R>(
        &self,
        call: impl FnOnce(&S) -> state_stores::Result<R>,
    ) -> Result<R, StreamsError> {
        let store = self.store.try_borrow().map_err(|_| self.busy_error())?;
        call(&**store).map_err(|e| self.store_error(e))
    }

    /// Runs a write on the store.
    pub(super) fn write<R>(
        &self,
        call: impl FnOnce(&mut S) -> state_stores::Result<R>,
    ) -> Result<R, StreamsError> {
        self.check_writable()?;
        let mut store = self.store.try_borrow_mut().map_err(|_| self.busy_error())?;
        call(&mut **store).map_err(|e| self.store_error(e))
    }

    /// Opens a scan and decodes every entry with `decode`, collecting the
    /// results so that no iterator (and no borrow of the store) outlives
    /// the call.
    pub(super) fn scan<E, T>(
        &self,
        open: impl for<'a> FnOnce(&'a S) -> BytesIter<'a, E>,
        mut decode: impl FnMut(E) -> Result<T, StreamsError>,
    ) -> Result<Vec<T>, StreamsError> {
        let store = self.store.try_borrow().map_err(|_| self.busy_error())?;
        open(&**store)
            .map(|entry| decode(entry.map_err(|e| self.store_error(e))?))
            .collect()
    }

    pub(super) fn persistent(&self) -> bool {
        self.persistent
    }

    pub(super) fn flush(&self) -> Result<(), StreamsError> {
        self.write(|store| store.flush())
    }

    pub(super) fn flush_cache(&self) -> Result<(), StreamsError> {
        self.write(|store| store.flush_cache())
    }

    pub(super) fn close(&self) -> Result<(), StreamsError> {
        self.check_task_owned()?;
        self.write(|store| store.close())
    }
}

impl<S: StateStore + ?Sized + 'static, K: 'static, V: 'static> TypedStore<S, K, V> {
    /// The updates this store's cache writes through (see
    /// [`CacheFlushes`]), with the values they replace if `old_values`:
    /// `set_listener` hands the byte-level store its listener, the first
    /// time any handle of the store asks (the processors sharing a store
    /// ask alike), and `decode_key` reads the key the listener is given.
    /// `None` if the store has no cache.
    pub(super) fn cache_flushes<Key>(
        &self,
        old_values: bool,
        set_listener: impl FnOnce(&mut S, FlushListener) -> state_stores::Result<()>,
        decode_key: impl Fn(&Self, Vec<u8>) -> Result<Key, StreamsError> + 'static,
    ) -> Result<Option<CacheFlushes<Key, V>>, StreamsError> {
        self.check_writable()?;
        let flushed = match self.flushed.get() {
            Some(flushed) => Arc::clone(flushed),
            None => {
                let flushed = FlushBuffer::default();
                let listener = collecting_listener(&flushed);
                let listener = if old_values {
                    listener
                } else {
                    listener.without_old_values()
                };
                match self.write(|store| set_listener(store, listener)) {
                    Ok(()) => {}
                    Err(StreamsError::Store {
                        source: state_stores::StoreError::NotCached(_),
                        ..
                    }) => return Ok(None),
                    Err(error) => return Err(error),
                }
                self.flushed.get_or_init(|| Arc::clone(&flushed));
                flushed
            }
        };
        let decoder = self.clone();
        let flusher = self.clone();
        Ok(Some(CacheFlushes::new(
            &self.name,
            flushed,
            move |entry| {
                Ok(FlushedEntry {
                    key: decode_key(&decoder, entry.key)?,
                    new_value: decoder.decode_optional_value(entry.new_value)?,
                    old_value: decoder.decode_optional_value(entry.old_value)?,
                    timestamp: entry.timestamp,
                    headers: entry
                        .headers
                        .as_ref()
                        .and_then(|headers| headers.downcast_ref::<Headers>())
                        .cloned()
                        .unwrap_or_default(),
                    metadata: entry.source.map(RecordMetadata::from_source),
                })
            },
            move || flusher.flush_cache(),
        )))
    }

    /// The byte-level store broke its contract: handed back a malformed
    /// key, or never read the value it updated.
    pub(super) fn corrupt(&self, reason: &str) -> StreamsError {
        self.store_error(state_stores::StoreError::Corrupt {
            store: self.name.to_string(),
            reason: reason.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use state_stores::{KeyValueStore as BytesKeyValueStore, RocksDbMemoryBudget, Store};

    use super::*;
    use crate::serde::{DefaultSerde, I64Serde, OptionSerde, StringSerde};

    type Typed<V> = TypedStore<dyn BytesKeyValueStore, String, V>;

    fn typed<V>(value: SharedSerde<V>) -> Result<Typed<V>, Box<dyn std::error::Error>> {
        let context = state_stores::StoreContext::new("", RocksDbMemoryBudget::new(1 << 20));
        let store = state_stores::StoreBuilder::key_value("kv")
            .backend(state_stores::BackendKind::InMemory)
            .logging(false)
            .build(&context)?;
        let Store::KeyValue(store) = store else {
            return Err("not a key-value store".into());
        };
        Ok(TypedStore::new(
            store,
            "app-kv-changelog",
            Arc::new(StringSerde),
            value,
        ))
    }

    #[test]
    fn round_trips_through_the_serdes() -> Result<(), Box<dyn std::error::Error>> {
        let store = typed(Arc::new(I64Serde))?;
        let key = store.key_bytes(&"k".to_owned())?;
        let value = store.value_bytes(&7)?.ok_or("7 is not null")?;
        assert_eq!(value, 7_i64.to_be_bytes());
        store.write(|s| s.put(&key, &value))?;
        let read = store.read(|s| s.get(&key))?;
        assert_eq!(store.decode_optional_value(read)?, Some(7));
        let all = store.scan(
            |s| s.all(),
            |(k, v)| Ok((store.decode_key(&k)?, store.decode_value(&v)?)),
        )?;
        assert_eq!(all, vec![("k".to_owned(), 7)]);
        assert_eq!(store.name(), "kv");
        Ok(())
    }

    #[test]
    fn undecodable_bytes_are_a_serde_error_naming_the_store(
    ) -> Result<(), Box<dyn std::error::Error>> {
        let store = typed(Arc::new(I64Serde))?;
        store.write(|s| s.put(b"k", b"abc"))?;
        let err = store
            .scan(|s| s.all(), |(_, v)| store.decode_value(&v))
            .err();
        assert!(
            matches!(&err, Some(StreamsError::Serde { context, source: SerdeError::Size { .. } })
                if context == "state store `kv`"),
            "{err:?}"
        );
        Ok(())
    }

    #[test]
    fn null_values_mean_deletes_and_null_keys_are_rejected(
    ) -> Result<(), Box<dyn std::error::Error>> {
        let store = typed(Option::<i64>::default_serde())?;
        assert_eq!(store.value_bytes(&None)?, None);
        assert_eq!(
            store.value_bytes(&Some(1))?.map(|bytes| bytes.len()),
            Some(8)
        );
        let nullable = OptionSerde::new(Arc::new(StringSerde));
        let err = store.encode(&nullable, &None).err();
        assert!(
            matches!(
                err,
                Some(StreamsError::Serde {
                    source: SerdeError::Null { .. },
                    ..
                })
            ),
            "{err:?}"
        );
        Ok(())
    }

    #[test]
    fn re_entering_the_store_during_a_scan_is_an_error_not_a_panic(
    ) -> Result<(), Box<dyn std::error::Error>> {
        let store = typed(Arc::new(I64Serde))?;
        store.write(|s| s.put(b"k", &1_i64.to_be_bytes()))?;
        let err = store
            .scan(|s| s.all(), |_| store.write(|s| s.put(b"j", b"")))
            .err();
        assert!(
            matches!(&err, Some(StreamsError::StoreAccess { store, .. }) if store == "kv"),
            "{err:?}"
        );
        Ok(())
    }
}
