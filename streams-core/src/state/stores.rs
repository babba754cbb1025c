//! Store builders: which backend, which serdes, logging and caching.

use std::marker::PhantomData;

use state_stores::{BackendKind, Store};

use super::{KeyValueStore, StoreBuilder, StoreContext};
use crate::error::StreamsError;
use crate::serde::{DefaultSerde, SharedSerde};

/// Where a store keeps its data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreBackend {
    /// An ordered map in memory.
    InMemory,
    /// RocksDB under the task's state directory.
    RocksDb,
}

/// Entry points for store builders, as Kafka Streams' `Stores`.
pub struct Stores;

impl Stores {
    /// A key-value store builder with the default serdes of `K` and `V`,
    /// on RocksDB, with logging on and caching off.
    pub fn key_value_store_builder<K: DefaultSerde, V: DefaultSerde>(
        name: &str,
    ) -> KeyValueStoreBuilder<K, V> {
        Self::key_value_store_builder_with(name, K::default_serde(), V::default_serde())
    }

    /// A key-value store builder with explicit serdes.
    pub fn key_value_store_builder_with<K, V>(
        name: &str,
        key: SharedSerde<K>,
        value: SharedSerde<V>,
    ) -> KeyValueStoreBuilder<K, V> {
        KeyValueStoreBuilder {
            name: name.to_owned(),
            backend: StoreBackend::RocksDb,
            key,
            value,
            logging: true,
            cache_max_bytes: 0,
            _types: PhantomData,
        }
    }
}

/// Builds typed key-value stores, one per task.
pub struct KeyValueStoreBuilder<K, V> {
    name: String,
    backend: StoreBackend,
    key: SharedSerde<K>,
    value: SharedSerde<V>,
    logging: bool,
    cache_max_bytes: usize,
    _types: PhantomData<fn(K, V)>,
}

impl<K, V> KeyValueStoreBuilder<K, V> {
    /// Keeps the store in memory.
    pub fn in_memory(mut self) -> Self {
        self.backend = StoreBackend::InMemory;
        self
    }

    /// Keeps the store in RocksDB (the default).
    pub fn persistent(mut self) -> Self {
        self.backend = StoreBackend::RocksDb;
        self
    }

    /// Writes no changelog.
    pub fn with_logging_disabled(mut self) -> Self {
        self.logging = false;
        self
    }

    /// Caches up to `max_bytes` of writes between commits (0 disables).
    pub fn with_caching(mut self, max_bytes: usize) -> Self {
        self.cache_max_bytes = max_bytes;
        self
    }
}

impl<K: 'static, V: 'static> StoreBuilder for KeyValueStoreBuilder<K, V> {
    type Store = KeyValueStore<K, V>;

    fn name(&self) -> &str {
        &self.name
    }

    fn logging_enabled(&self) -> bool {
        self.logging
    }

    fn build(&self, context: &StoreContext) -> Result<KeyValueStore<K, V>, StreamsError> {
        let store_error = |source| StreamsError::Store {
            store: self.name.clone(),
            source,
        };
        let backend = match (self.backend, context.state_dir()) {
            (StoreBackend::RocksDb, Some(_)) => BackendKind::RocksDb,
            // Without a state directory (the test driver's default) a
            // persistent store lives in memory; it behaves the same.
            _ => BackendKind::InMemory,
        };
        let spec = state_stores::StoreBuilder::key_value(self.name.as_str())
            .backend(backend)
            .logging(self.logging)
            .caching(self.cache_max_bytes);
        let store = spec.build(&context.bytes_context()).map_err(store_error)?;
        let Store::KeyValue(store) = store else {
            return Err(StreamsError::StoreAccess {
                processor: "(store builder)".to_owned(),
                store: self.name.clone(),
                reason: "the builder did not make a key-value store".to_owned(),
            });
        };
        Ok(KeyValueStore::new(
            store,
            &context.changelog_topic(&self.name),
            self.key.clone(),
            self.value.clone(),
        ))
    }
}
