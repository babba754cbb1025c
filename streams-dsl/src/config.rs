//! Operator configuration in Kafka Streams' spirit: `Consumed`, `Produced`,
//! `Grouped`, `Materialized`, `Named`.

use std::sync::Arc;

use streams_core::serde::{DefaultSerde, Serde, SharedSerde};
use streams_core::topology::{OffsetReset, TimestampExtractor};

/// How a source reads: serdes, timestamps, offset reset, name.
pub struct Consumed<K, V> {
    pub(crate) key: SharedSerde<K>,
    pub(crate) value: SharedSerde<V>,
    pub(crate) timestamp_extractor: Option<Arc<dyn TimestampExtractor>>,
    pub(crate) offset_reset: Option<OffsetReset>,
    pub(crate) name: Option<String>,
}

impl<K, V> Consumed<K, V> {
    /// Reads keys with `key` and values with `value`.
    pub fn with(key: SharedSerde<K>, value: SharedSerde<V>) -> Self {
        Self {
            key,
            value,
            timestamp_extractor: None,
            offset_reset: None,
            name: None,
        }
    }

    /// Reads with these serde values.
    pub fn serdes(key: impl Serde<K> + 'static, value: impl Serde<V> + 'static) -> Self {
        Self::with(Arc::new(key), Arc::new(value))
    }

    /// Extracts timestamps with `extractor`.
    pub fn with_timestamp_extractor(
        mut self,
        extractor: impl TimestampExtractor + 'static,
    ) -> Self {
        self.timestamp_extractor = Some(Arc::new(extractor));
        self
    }

    /// Starts without a committed offset at `reset`.
    pub fn with_offset_reset(mut self, reset: OffsetReset) -> Self {
        self.offset_reset = Some(reset);
        self
    }

    /// Names the source node.
    pub fn with_name(mut self, name: &str) -> Self {
        self.name = Some(name.to_owned());
        self
    }
}

impl<K: DefaultSerde, V: DefaultSerde> Default for Consumed<K, V> {
    fn default() -> Self {
        Self::with(K::default_serde(), V::default_serde())
    }
}

/// How a sink writes: serdes and name.
pub struct Produced<K, V> {
    pub(crate) key: SharedSerde<K>,
    pub(crate) value: SharedSerde<V>,
    pub(crate) name: Option<String>,
}

impl<K, V> Produced<K, V> {
    /// Writes keys with `key` and values with `value`.
    pub fn with(key: SharedSerde<K>, value: SharedSerde<V>) -> Self {
        Self {
            key,
            value,
            name: None,
        }
    }

    /// Writes with these serde values.
    pub fn serdes(key: impl Serde<K> + 'static, value: impl Serde<V> + 'static) -> Self {
        Self::with(Arc::new(key), Arc::new(value))
    }

    /// Names the sink node.
    pub fn with_name(mut self, name: &str) -> Self {
        self.name = Some(name.to_owned());
        self
    }
}

impl<K: DefaultSerde, V: DefaultSerde> Default for Produced<K, V> {
    fn default() -> Self {
        Self::with(K::default_serde(), V::default_serde())
    }
}

/// How a grouping repartitions: serdes and the repartition topic's name.
pub struct Grouped<K, V> {
    pub(crate) key: SharedSerde<K>,
    pub(crate) value: SharedSerde<V>,
    pub(crate) name: Option<String>,
}

impl<K, V> Grouped<K, V> {
    /// Repartitions with these serdes.
    pub fn with(key: SharedSerde<K>, value: SharedSerde<V>) -> Self {
        Self {
            key,
            value,
            name: None,
        }
    }

    /// Names the repartition topic `<application.id>-<name>-repartition` and
    /// the key selector.
    pub fn with_name(mut self, name: &str) -> Self {
        self.name = Some(name.to_owned());
        self
    }
}

impl<K: DefaultSerde, V: DefaultSerde> Default for Grouped<K, V> {
    fn default() -> Self {
        Self::with(K::default_serde(), V::default_serde())
    }
}

/// Where an operator's result is stored: name, serdes, backend, caching,
/// logging.
pub struct Materialized<K, V> {
    pub(crate) name: Option<String>,
    pub(crate) key: SharedSerde<K>,
    pub(crate) value: SharedSerde<V>,
    pub(crate) in_memory: bool,
    pub(crate) logging: bool,
    pub(crate) cache_max_bytes: usize,
}

impl<K, V> Materialized<K, V> {
    /// A store with these serdes and a generated name.
    pub fn with(key: SharedSerde<K>, value: SharedSerde<V>) -> Self {
        Self {
            name: None,
            key,
            value,
            in_memory: false,
            logging: true,
            cache_max_bytes: 0,
        }
    }

    /// Names the store (and so its changelog topic, and the repartition
    /// topic of an aggregation behind it).
    pub fn with_name(mut self, name: &str) -> Self {
        self.name = Some(name.to_owned());
        self
    }

    /// Keeps the store in memory instead of RocksDB.
    pub fn in_memory(mut self) -> Self {
        self.in_memory = true;
        self
    }

    /// Writes no changelog.
    pub fn with_logging_disabled(mut self) -> Self {
        self.logging = false;
        self
    }

    /// Caches up to `max_bytes` of updates between commits, so repeated
    /// updates of a key emit only the last.
    pub fn with_caching(mut self, max_bytes: usize) -> Self {
        self.cache_max_bytes = max_bytes;
        self
    }
}

impl<K: DefaultSerde, V: DefaultSerde> Materialized<K, V> {
    /// A store named `name` with the default serdes.
    pub fn named(name: &str) -> Self {
        Self::default().with_name(name)
    }
}

impl<K: DefaultSerde, V: DefaultSerde> Default for Materialized<K, V> {
    fn default() -> Self {
        Self::with(K::default_serde(), V::default_serde())
    }
}
