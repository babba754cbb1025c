//! `StreamJoined`: serdes, names and stores of a stream-stream join.

use std::sync::Arc;

use streams_core::serde::{DefaultSerde, Serde, SharedSerde};
use streams_core::state::StoreOptions;

/// How a stream-stream join stores and names things: the serdes of the
/// key and of both value types (for its window stores and any repartition
/// topics), the processor name prefix, the store name prefix, logging, and
/// the store backend.
///
/// Names follow Kafka Streams: [`with_name`](Self::with_name) names the
/// processors (`<name>-this-windowed`, `<name>-this-join`, `<name>-merge`,
/// ...) and the repartition topics of key-changed inputs
/// (`<name>-left-repartition`, `<name>-right-repartition`);
/// [`with_store_name`](Self::with_store_name) names the stores
/// (`<store>-this-join-store`, `<store>-other-join-store`, and for left and
/// outer joins `<store>-outer-other-join-store`, `<store>-left-shared-join-store`,
/// ...). Without names, generated ones are used.
pub struct StreamJoined<K, V1, V2> {
    pub(crate) key: SharedSerde<K>,
    pub(crate) value: SharedSerde<V1>,
    pub(crate) other_value: SharedSerde<V2>,
    pub(crate) name: Option<String>,
    pub(crate) store_name: Option<String>,
    /// The options of the join's window stores (never cached).
    pub(crate) options: StoreOptions,
}

impl<K, V1, V2> StreamJoined<K, V1, V2> {
    /// Joins with these serdes for the key, this stream's values and the
    /// other stream's values.
    pub fn with(key: SharedSerde<K>, value: SharedSerde<V1>, other_value: SharedSerde<V2>) -> Self {
        Self {
            key,
            value,
            other_value,
            name: None,
            store_name: None,
            options: StoreOptions::default(),
        }
    }

    /// Joins with these serde values.
    pub fn serdes(
        key: impl Serde<K> + 'static,
        value: impl Serde<V1> + 'static,
        other_value: impl Serde<V2> + 'static,
    ) -> Self {
        Self::with(Arc::new(key), Arc::new(value), Arc::new(other_value))
    }

    /// Names the join's processors and repartition topics.
    pub fn with_name(mut self, name: &str) -> Self {
        self.name = Some(name.to_owned());
        self
    }

    /// Names the join's stores (and so their changelog topics).
    pub fn with_store_name(mut self, store_name: &str) -> Self {
        self.store_name = Some(store_name.to_owned());
        self
    }

    /// Writes changelogs for the join's stores (the default), created with
    /// `topic_configs` over the window-store changelog defaults.
    pub fn with_logging_enabled<C: Into<String>, D: Into<String>>(
        mut self,
        topic_configs: impl IntoIterator<Item = (C, D)>,
    ) -> Self {
        self.options = self.options.with_logging_enabled(topic_configs);
        self
    }

    /// Writes no changelogs for the join's stores.
    pub fn with_logging_disabled(mut self) -> Self {
        self.options = self.options.with_logging_disabled();
        self
    }

    /// Keeps the join's stores in memory instead of RocksDB (Kafka Streams
    /// does this with in-memory store suppliers).
    pub fn in_memory(mut self) -> Self {
        self.options = self.options.in_memory();
        self
    }
}

impl<K: DefaultSerde, V1: DefaultSerde, V2: DefaultSerde> Default for StreamJoined<K, V1, V2> {
    fn default() -> Self {
        Self::with(K::default_serde(), V1::default_serde(), V2::default_serde())
    }
}
