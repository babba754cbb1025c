//! `Joined`: serdes and name of a stream-table join.

use std::sync::Arc;

use streams_core::serde::{DefaultSerde, Serde, SharedSerde};

/// How a stream-table join names its processor and repartitions a
/// key-changed stream: the key and stream value serdes (for the
/// repartition topic `<name>-repartition`) and the name.
pub struct Joined<K, V> {
    pub(crate) key: SharedSerde<K>,
    pub(crate) value: SharedSerde<V>,
    pub(crate) name: Option<String>,
}

impl<K, V> Joined<K, V> {
    /// Repartitions with these serdes.
    pub fn with(key: SharedSerde<K>, value: SharedSerde<V>) -> Self {
        Self {
            key,
            value,
            name: None,
        }
    }

    /// Repartitions with these serde values.
    pub fn serdes(key: impl Serde<K> + 'static, value: impl Serde<V> + 'static) -> Self {
        Self::with(Arc::new(key), Arc::new(value))
    }

    /// Names the join processor and the repartition topic.
    pub fn with_name(mut self, name: &str) -> Self {
        self.name = Some(name.to_owned());
        self
    }
}

impl<K: DefaultSerde, V: DefaultSerde> Default for Joined<K, V> {
    fn default() -> Self {
        Self::with(K::default_serde(), V::default_serde())
    }
}
