//! `repartition`: writing a stream through an internal topic and reading it
//! back, as Kafka Streams' `KStream#repartition`.
//!
//! Unlike the repartitioning a grouping or join inserts only after a key
//! change, `repartition` always inserts the topic
//! `<application.id>-<name>-repartition`, where the name is the user's or
//! `KSTREAM-REPARTITION-<index>`, and the stream read back needs no further
//! repartitioning.

use std::sync::Arc;

use streams_core::serde::{DefaultSerde, Serde, SharedSerde};

use crate::config::{Grouped, SerdeChoice};
use crate::kstream::KStream;

/// How [`KStream::repartition_with`] repartitions: the topic's name, the
/// serdes, and its number of partitions, as Kafka Streams' `Repartitioned`.
///
/// Without serdes (from [`as_`](Self::as_),
/// [`with_partitions`](Self::with_partitions) or [`Default`]), the
/// stream's own serdes are used, and the defaults of its types where it
/// has none.
pub struct Repartitioned<K, V> {
    key: SerdeChoice<K>,
    value: SerdeChoice<V>,
    name: Option<String>,
    partitions: Option<u32>,
}

impl<K, V> Repartitioned<K, V> {
    /// Repartitions with these serdes.
    pub fn with(key: SharedSerde<K>, value: SharedSerde<V>) -> Self {
        Self {
            key: SerdeChoice::Given(key),
            value: SerdeChoice::Given(value),
            name: None,
            partitions: None,
        }
    }

    /// Repartitions with these serde values.
    pub fn serdes(key: impl Serde<K> + 'static, value: impl Serde<V> + 'static) -> Self {
        Self::with(Arc::new(key), Arc::new(value))
    }

    /// Names the topic `<application.id>-<name>-repartition`, and its sink
    /// and source `<name>-repartition-sink` and `-source`.
    pub fn with_name(mut self, name: &str) -> Self {
        self.name = Some(name.to_owned());
        self
    }

    /// Gives the topic `partitions` partitions. The count takes part in the
    /// co-partitioning check of joins at
    /// [`build`](crate::StreamsBuilder::build); 0 leaves it unspecified.
    pub fn with_number_of_partitions(mut self, partitions: u32) -> Self {
        self.partitions = (partitions > 0).then_some(partitions);
        self
    }
}

impl<K: DefaultSerde, V: DefaultSerde> Repartitioned<K, V> {
    /// A topic named `<application.id>-<name>-repartition`, with the
    /// stream's serdes.
    pub fn as_(name: &str) -> Self {
        Self::default().with_name(name)
    }

    /// A topic of `partitions` partitions, with the stream's serdes.
    pub fn with_partitions(partitions: u32) -> Self {
        Self::default().with_number_of_partitions(partitions)
    }
}

impl<K: DefaultSerde, V: DefaultSerde> Default for Repartitioned<K, V> {
    fn default() -> Self {
        Self {
            key: SerdeChoice::default_of(),
            value: SerdeChoice::default_of(),
            name: None,
            partitions: None,
        }
    }
}

impl<K: Clone + 'static, V: Clone + 'static> KStream<K, V> {
    /// Writes the stream through a repartition topic, with its serdes (or
    /// its types' defaults), and reads it back: records are spread over
    /// partitions by their current key.
    pub fn repartition(&self) -> Self
    where
        K: DefaultSerde,
        V: DefaultSerde,
    {
        self.repartition_with(Repartitioned::default())
    }

    /// [`repartition`](Self::repartition) as `repartitioned` says.
    pub fn repartition_with(&self, repartitioned: Repartitioned<K, V>) -> Self {
        let name = match repartitioned.name {
            // Kafka takes a topic name given with its suffix as is.
            Some(name) => name
                .strip_suffix("-repartition")
                .unwrap_or(&name)
                .to_owned(),
            None => self.builder.new_name("KSTREAM-REPARTITION-"),
        };
        let key = repartitioned.key.or_stream(self.key_serde.as_ref());
        let value = repartitioned.value.or_stream(self.value_serde.as_ref());
        let grouped = Grouped::with(key.clone(), value.clone());
        let [_, _, source] = self.repartition_through(&name, &grouped);
        if let Some(partitions) = repartitioned.partitions {
            let topic = format!("{name}-repartition");
            self.builder
                .copartitioning(|copartitioning| copartitioning.declare(&topic, partitions));
            self.builder.with(|topology| {
                topology.set_internal_topic_partitions(&topic, partitions);
            });
        }
        KStream::new(self.builder.clone(), source, false).with_serdes(Some(key), Some(value))
    }
}
