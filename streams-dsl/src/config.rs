//! Operator configuration in Kafka Streams' spirit: `Consumed`, `Produced`,
//! `Grouped`, `Materialized`, `Named`.

use std::sync::Arc;
use std::time::Duration;

use streams_core::serde::{DefaultSerde, PartitionKey, Serde, SharedSerde};
use streams_core::state::StoreOptions;
use streams_core::topology::{
    partition_for_key, DeserializingExtractor, OffsetReset, SinkOptions, StreamPartitioner,
    TimestampExtractor, TypedTimestampExtractor,
};

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

    /// Extracts timestamps with `extractor`, from the raw record.
    pub fn with_timestamp_extractor(
        mut self,
        extractor: impl TimestampExtractor + 'static,
    ) -> Self {
        self.timestamp_extractor = Some(Arc::new(extractor));
        self
    }

    /// Stamps records with what `extractor` reads from their keys and
    /// values, deserialized with this `Consumed`'s serdes: an event time in
    /// the payload, say, as a Kafka Streams extractor reads it. A record
    /// whose key or value cannot be read keeps its own timestamp (see
    /// [`DeserializingExtractor`]).
    ///
    /// ```
    /// use streams_core::prelude::*;
    /// use streams_core::record::ConsumerRecord;
    /// use streams_dsl::{Consumed, StreamsBuilder};
    ///
    /// let builder = StreamsBuilder::new();
    /// let event_time = |_: &String, time: &i64, _: &ConsumerRecord, _: i64| Ok(*time);
    /// builder
    ///     .stream_with(&["events"], Consumed::serdes(StringSerde, I64Serde).with_typed_timestamp_extractor(event_time))
    ///     .to("stamped");
    /// let driver = TopologyTestDriver::new(&builder.build()?)?;
    /// driver.create_input_topic("events", StringSerde, I64Serde).pipe_input_at("k".into(), 7, 1_000)?;
    /// let stamped = driver.create_output_topic("stamped", StringSerde, I64Serde);
    /// assert_eq!(stamped.read_record()?.timestamp, 7);
    /// # Ok::<(), StreamsError>(())
    /// ```
    pub fn with_typed_timestamp_extractor(
        self,
        extractor: impl TypedTimestampExtractor<K, V> + 'static,
    ) -> Self
    where
        K: 'static,
        V: 'static,
    {
        let reading = DeserializingExtractor::new(self.key.clone(), self.value.clone(), extractor);
        self.with_timestamp_extractor(reading)
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

/// A serde an options object holds: one the user gave, or the type's
/// default, which gives way to the serde the stream already has (Kafka's
/// `Produced` and `Repartitioned` leave a serde they were not given null,
/// and the operator falls back to the stream's).
pub(crate) enum SerdeChoice<T> {
    Given(SharedSerde<T>),
    Default(SharedSerde<T>),
}

impl<T> SerdeChoice<T> {
    /// The type's default serde, standing in for the stream's.
    pub(crate) fn default_of() -> Self
    where
        T: DefaultSerde,
    {
        Self::Default(T::default_serde())
    }

    /// This choice for an input whose serde is `stream`, where known: a
    /// default gives way to it, a given serde stays.
    pub(crate) fn inheriting(self, stream: Option<&SharedSerde<T>>) -> Self {
        match (self, stream) {
            (Self::Default(_), Some(stream)) => Self::Given(stream.clone()),
            (choice, _) => choice,
        }
    }

    /// The serde to use for a stream that has `stream`'s.
    pub(crate) fn or_stream(self, stream: Option<&SharedSerde<T>>) -> SharedSerde<T> {
        match self.inheriting(stream) {
            Self::Given(serde) | Self::Default(serde) => serde,
        }
    }

    /// The serde held, given or default.
    pub(crate) fn serde(&self) -> &SharedSerde<T> {
        match self {
            Self::Given(serde) | Self::Default(serde) => serde,
        }
    }
}

/// How a sink writes: serdes, partitioner and name. Without serdes (from
/// [`Default`], say `Produced::default().with_name("out")`), the stream's
/// own serdes are used, and the defaults of its types where it has none.
pub struct Produced<K, V> {
    key: SerdeChoice<K>,
    value: SerdeChoice<V>,
    pub(crate) partitioner: Option<Arc<dyn StreamPartitioner<K, V>>>,
    pub(crate) name: Option<String>,
}

impl<K, V> Produced<K, V> {
    /// Writes keys with `key` and values with `value`.
    pub fn with(key: SharedSerde<K>, value: SharedSerde<V>) -> Self {
        Self {
            key: SerdeChoice::Given(key),
            value: SerdeChoice::Given(value),
            partitioner: None,
            name: None,
        }
    }

    /// Chooses each record's partition with `partitioner`.
    pub fn with_partitioner(mut self, partitioner: impl StreamPartitioner<K, V> + 'static) -> Self {
        self.partitioner = Some(Arc::new(partitioner));
        self
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

impl<K: 'static, V: 'static> Produced<K, V> {
    /// The options of a sink of a stream with the serdes `key` and
    /// `value` (if it has them). Without a partitioner, keys whose
    /// serializer names a part to partition by (windowed keys: the inner
    /// key) go to that part's partition, as Kafka's `StreamSinkNode`
    /// arranges with a `WindowedStreamPartitioner`; other keys to the
    /// producer's choice.
    pub(crate) fn sink_options(
        self,
        key: Option<&SharedSerde<K>>,
        value: Option<&SharedSerde<V>>,
    ) -> SinkOptions<K, V> {
        let (key, value) = (self.key.or_stream(key), self.value.or_stream(value));
        let partitioner = self.partitioner.or_else(|| {
            let part = key.partition_key()?;
            Some(Arc::new(ByKeyPart(part)) as Arc<dyn StreamPartitioner<K, V>>)
        });
        let options = SinkOptions::new(key, value);
        match partitioner {
            Some(partitioner) => options.partitioner(partitioner),
            None => options,
        }
    }
}

/// Partitions by a part of the key, as the producer would by a whole key.
struct ByKeyPart<K>(PartitionKey<K>);

impl<K, V> StreamPartitioner<K, V> for ByKeyPart<K> {
    fn partition(&self, topic: &str, key: &K, _value: &V, partitions: i32) -> Option<i32> {
        // A part that fails to serialize fails the whole key's serialization
        // right after, with the error; a null part is left to the producer.
        let part = (self.0)(topic, key).ok()??;
        Some(partition_for_key(&part, partitions))
    }
}

impl<K: DefaultSerde, V: DefaultSerde> Default for Produced<K, V> {
    fn default() -> Self {
        Self {
            key: SerdeChoice::default_of(),
            value: SerdeChoice::default_of(),
            partitioner: None,
            name: None,
        }
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
/// logging and (for windowed stores) retention.
///
/// Without serdes (from [`named`](Self::named) or [`Default`]), the store
/// takes the serdes Kafka Streams fills in for the operator: its input's
/// key serde (the grouping's, the table's, the stream's), and for a value
/// of the input's type (`reduce`, `filter`, reading a stream as a table)
/// the input's value serde; otherwise, and where the input has none, the
/// types' defaults. A count's values are `i64`s. A cogroup's aggregations
/// fill in nothing, as Kafka's do: they take the types' defaults.
pub struct Materialized<K, V> {
    pub(crate) name: Option<String>,
    key: SerdeChoice<K>,
    value: SerdeChoice<V>,
    pub(crate) options: StoreOptions,
    pub(crate) retention: Option<Duration>,
}

impl<K, V> Materialized<K, V> {
    /// A store with these serdes and a generated name.
    pub fn with(key: SharedSerde<K>, value: SharedSerde<V>) -> Self {
        Self {
            name: None,
            key: SerdeChoice::Given(key),
            value: SerdeChoice::Given(value),
            options: StoreOptions::default(),
            retention: None,
        }
    }

    /// The same store, with `key` and `value` (where known) for the serdes
    /// it was not given: the input's, filled in by the operator. The first
    /// serde supplied for a slot wins, and a call without one leaves the
    /// slot open for a later call.
    pub(crate) fn inheriting(
        mut self,
        key: Option<&SharedSerde<K>>,
        value: Option<&SharedSerde<V>>,
    ) -> Self {
        self.key = self.key.inheriting(key);
        self.value = self.value.inheriting(value);
        self
    }

    /// The key serde.
    pub(crate) fn key_serde(&self) -> &SharedSerde<K> {
        self.key.serde()
    }

    /// The value serde.
    pub(crate) fn value_serde(&self) -> &SharedSerde<V> {
        self.value.serde()
    }

    /// Names the store (and so its changelog topic, and the repartition
    /// topic of an aggregation behind it).
    pub fn with_name(mut self, name: &str) -> Self {
        self.name = Some(name.to_owned());
        self
    }

    /// Keeps the store in memory instead of RocksDB.
    pub fn in_memory(mut self) -> Self {
        self.options = self.options.in_memory();
        self
    }

    /// Writes a changelog (the default) created with `topic_configs` over
    /// Kafka Streams' defaults for the store's kind: `cleanup.policy=compact`
    /// for key-value stores; `compact,delete` with the store's retention
    /// plus a day for windowed stores.
    pub fn with_logging_enabled<C: Into<String>, D: Into<String>>(
        mut self,
        topic_configs: impl IntoIterator<Item = (C, D)>,
    ) -> Self {
        self.options = self.options.with_logging_enabled(topic_configs);
        self
    }

    /// Writes no changelog.
    pub fn with_logging_disabled(mut self) -> Self {
        self.options = self.options.with_logging_disabled();
        self
    }

    /// Caches up to `max_bytes` of updates between commits, so repeated
    /// updates of a key emit only the last, at the next commit or when the
    /// cache evicts it (Kafka Streams caches by default; here a store is
    /// uncached unless asked). The test driver commits after every record,
    /// so there each update is emitted, except around sessions past their
    /// store's retention (as in Kafka): a cached session store still finds
    /// them, so a record within their gap merges with them (and no
    /// removal is emitted for them), while an uncached one no longer does.
    pub fn with_caching(mut self, max_bytes: usize) -> Self {
        self.options = self.options.with_caching(max_bytes);
        self
    }

    /// How long a windowed store keeps windows, in stream time; it must be
    /// at least the window size plus the grace period (the default), or
    /// building the topology fails. Key-value stores ignore it.
    pub fn with_retention(mut self, retention: Duration) -> Self {
        self.retention = Some(retention);
        self
    }
}

impl<K: DefaultSerde, V: DefaultSerde> Materialized<K, V> {
    /// A store named `name`, with the serdes the operator fills in.
    pub fn named(name: &str) -> Self {
        Self::default().with_name(name)
    }
}

impl<K: DefaultSerde, V: DefaultSerde> Default for Materialized<K, V> {
    fn default() -> Self {
        Self {
            name: None,
            key: SerdeChoice::default_of(),
            value: SerdeChoice::default_of(),
            options: StoreOptions::default(),
            retention: None,
        }
    }
}
