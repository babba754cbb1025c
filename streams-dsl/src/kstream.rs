//! `KStream`: a record stream, each record an independent event.

use std::cell::RefCell;
use std::marker::PhantomData;
use std::rc::Rc;
use std::sync::Arc;

use streams_core::processor::Processor;
use streams_core::serde::{DefaultSerde, SharedSerde};
use streams_core::topology::{FailOnInvalidTimestamp, SinkOptions, SourceOptions};

use crate::builder::Builder;
use crate::config::{Grouped, Produced};
use crate::grouped::KGroupedStream;
use crate::named::Named;
use crate::nulls::NullKeyFilter;
use crate::processors::{Action, Filter, FlatMap, Map, PassThrough, Peek};

/// A stream of records with keys `K` and values `V`.
///
/// Operators return new streams; applying several operators to one stream
/// sends every record to all of them. Operators that may change the key
/// (`map`, `flat_map`, `select_key`, `process`) mark the result, and a later
/// grouping inserts a repartition topic, as in Kafka Streams.
///
/// A stream keeps the serdes it was read with (`Consumed`, `Repartitioned`)
/// through the operators that keep the key or value type as it is (filters
/// and `peek` both; `map_values`, `flat_map_values` and `process_values` the
/// key's; `select_key` the value's), as Kafka Streams does: `to`, the
/// groupings, `repartition` and `to_table` write with them unless told
/// otherwise.
pub struct KStream<K, V> {
    pub(crate) builder: Builder,
    pub(crate) node: String,
    /// The stream's name (Kafka's), the label `print` defaults to: its
    /// node's, except for a second stream of a topic read already, which
    /// Kafka names anew and merges into the first stream's source node
    /// only when it builds the topology.
    pub(crate) name: String,
    pub(crate) repartition_required: bool,
    /// The source node of the repartition topic last made to join this
    /// stream, shared by its clones: later joins named after the stream
    /// read that topic again (Kafka's `repartitionNode`).
    pub(crate) join_repartition: Rc<RefCell<Option<String>>>,
    /// The serdes kept from where the stream was read (Kafka's `keySerde`
    /// and `valueSerde`); `None` after an operator that made new ones.
    pub(crate) key_serde: Option<SharedSerde<K>>,
    pub(crate) value_serde: Option<SharedSerde<V>>,
    pub(crate) _types: PhantomData<fn(K, V)>,
}

impl<K, V> Clone for KStream<K, V> {
    fn clone(&self) -> Self {
        Self {
            builder: self.builder.clone(),
            node: self.node.clone(),
            name: self.name.clone(),
            repartition_required: self.repartition_required,
            join_repartition: self.join_repartition.clone(),
            key_serde: self.key_serde.clone(),
            value_serde: self.value_serde.clone(),
            _types: PhantomData,
        }
    }
}

impl<K: Clone + 'static, V: Clone + 'static> KStream<K, V> {
    pub(crate) fn new(builder: Builder, node: String, repartition_required: bool) -> Self {
        Self {
            builder,
            name: node.clone(),
            node,
            repartition_required,
            join_repartition: Rc::default(),
            key_serde: None,
            value_serde: None,
            _types: PhantomData,
        }
    }

    /// This stream, keeping `key` and `value` as its serdes.
    pub(crate) fn with_serdes(
        mut self,
        key: Option<SharedSerde<K>>,
        value: Option<SharedSerde<V>>,
    ) -> Self {
        self.key_serde = key;
        self.value_serde = value;
        self
    }

    /// The key serde kept from where the stream was read, or the default.
    pub(crate) fn key_serde_or_default(&self) -> SharedSerde<K>
    where
        K: DefaultSerde,
    {
        self.key_serde.clone().unwrap_or_else(K::default_serde)
    }

    /// The value serde kept from where the stream was read, or the default.
    pub(crate) fn value_serde_or_default(&self) -> SharedSerde<V>
    where
        V: DefaultSerde,
    {
        self.value_serde.clone().unwrap_or_else(V::default_serde)
    }

    /// The name of the node this stream comes out of.
    pub fn node_name(&self) -> &str {
        &self.node
    }

    /// Adds a processor child of this stream, named `named` or else
    /// `<prefix><index>`, and returns its output stream.
    pub(crate) fn add<K2, V2, P>(
        &self,
        named: Option<&Named>,
        prefix: &str,
        supplier: impl Fn() -> P + Send + Sync + 'static,
        repartition_required: bool,
    ) -> KStream<K2, V2>
    where
        K2: Clone + 'static,
        V2: Clone + 'static,
        P: Processor<K, V, K2, V2>,
    {
        let name = self.builder.name_or(named.map(Named::name), prefix);
        self.builder.with(|topology| {
            topology.add_processor(&name, supplier, &[&self.node]);
        });
        KStream::new(self.builder.clone(), name, repartition_required)
    }

    pub(crate) fn filtered(
        &self,
        predicate: impl Fn(&K, &V) -> bool + Send + Sync + 'static,
        keep_when: bool,
        named: Option<&Named>,
    ) -> Self {
        let predicate = Arc::new(predicate);
        self.add(
            named,
            "KSTREAM-FILTER-",
            move || Filter {
                predicate: predicate.clone(),
                keep_when,
            },
            self.repartition_required,
        )
        .with_serdes(self.key_serde.clone(), self.value_serde.clone())
    }

    /// Keeps the records for which `predicate` holds.
    pub fn filter(&self, predicate: impl Fn(&K, &V) -> bool + Send + Sync + 'static) -> Self {
        self.filtered(predicate, true, None)
    }

    /// Drops the records for which `predicate` holds.
    pub fn filter_not(&self, predicate: impl Fn(&K, &V) -> bool + Send + Sync + 'static) -> Self {
        self.filtered(predicate, false, None)
    }

    /// Adds a `Map` processor; every one-in-one-out operator is one.
    pub(crate) fn mapped<K2: Clone + 'static, V2: Clone + 'static>(
        &self,
        prefix: &str,
        mapper: impl Fn(K, V) -> (K2, V2) + Send + Sync + 'static,
        repartition_required: bool,
        named: Option<&Named>,
    ) -> KStream<K2, V2> {
        let mapper = Arc::new(mapper);
        self.add(
            named,
            prefix,
            move || Map {
                mapper: mapper.clone(),
            },
            repartition_required,
        )
    }

    /// Replaces key and value; marks the stream for repartitioning.
    pub fn map<K2: Clone + 'static, V2: Clone + 'static>(
        &self,
        mapper: impl Fn(K, V) -> (K2, V2) + Send + Sync + 'static,
    ) -> KStream<K2, V2> {
        self.mapped("KSTREAM-MAP-", mapper, true, None)
    }

    /// Replaces the value; the key, and so the partitioning, is unchanged.
    pub fn map_values<V2: Clone + 'static>(
        &self,
        mapper: impl Fn(V) -> V2 + Send + Sync + 'static,
    ) -> KStream<K, V2> {
        self.mapped_values(move |_, value| mapper(value), None)
    }

    /// Adds the `Map` processor of `map_values`, which keeps the key serde.
    pub(crate) fn mapped_values<V2: Clone + 'static>(
        &self,
        mapper: impl Fn(&K, V) -> V2 + Send + Sync + 'static,
        named: Option<&Named>,
    ) -> KStream<K, V2> {
        self.mapped(
            "KSTREAM-MAPVALUES-",
            move |key, value| {
                let value = mapper(&key, value);
                (key, value)
            },
            self.repartition_required,
            named,
        )
        .with_serdes(self.key_serde.clone(), None)
    }

    /// Replaces the value, reading the key.
    pub fn map_values_with_key<V2: Clone + 'static>(
        &self,
        mapper: impl Fn(&K, V) -> V2 + Send + Sync + 'static,
    ) -> KStream<K, V2> {
        self.mapped_values(mapper, None)
    }

    /// Sets a new key computed from key and value; marks the stream for
    /// repartitioning.
    pub fn select_key<K2: Clone + 'static>(
        &self,
        selector: impl Fn(&K, &V) -> K2 + Send + Sync + 'static,
    ) -> KStream<K2, V> {
        self.selected_key(selector, None)
    }

    /// Adds the `Map` processor of `select_key`, which keeps the value
    /// serde.
    pub(crate) fn selected_key<K2: Clone + 'static>(
        &self,
        selector: impl Fn(&K, &V) -> K2 + Send + Sync + 'static,
        named: Option<&Named>,
    ) -> KStream<K2, V> {
        self.mapped(
            "KSTREAM-KEY-SELECT-",
            move |key, value| (selector(&key, &value), value),
            true,
            named,
        )
        .with_serdes(None, self.value_serde.clone())
    }

    /// Replaces each record with zero or more records; marks the stream for
    /// repartitioning.
    pub fn flat_map<K2, V2, I>(
        &self,
        mapper: impl Fn(K, V) -> I + Send + Sync + 'static,
    ) -> KStream<K2, V2>
    where
        K2: Clone + 'static,
        V2: Clone + 'static,
        I: IntoIterator<Item = (K2, V2)> + 'static,
    {
        self.flat_mapped("KSTREAM-FLATMAP-", mapper, true, None)
    }

    /// Adds a `FlatMap` processor (`flat_map`, `flat_map_values`).
    pub(crate) fn flat_mapped<K2, V2, I>(
        &self,
        prefix: &str,
        mapper: impl Fn(K, V) -> I + Send + Sync + 'static,
        repartition_required: bool,
        named: Option<&Named>,
    ) -> KStream<K2, V2>
    where
        K2: Clone + 'static,
        V2: Clone + 'static,
        I: IntoIterator<Item = (K2, V2)> + 'static,
    {
        let mapper = Arc::new(mapper);
        self.add(
            named,
            prefix,
            move || FlatMap {
                mapper: mapper.clone(),
            },
            repartition_required,
        )
    }

    /// Replaces each value with zero or more values under the same key.
    pub fn flat_map_values<V2, I>(
        &self,
        mapper: impl Fn(V) -> I + Send + Sync + 'static,
    ) -> KStream<K, V2>
    where
        V2: Clone + 'static,
        I: IntoIterator<Item = V2>,
    {
        self.flat_mapped_values(mapper, None)
    }

    pub(crate) fn flat_mapped_values<V2, I>(
        &self,
        mapper: impl Fn(V) -> I + Send + Sync + 'static,
        named: Option<&Named>,
    ) -> KStream<K, V2>
    where
        V2: Clone + 'static,
        I: IntoIterator<Item = V2>,
    {
        let per_key = move |key: K, value: V| {
            mapper(value)
                .into_iter()
                .map(|value| (key.clone(), value))
                .collect::<Vec<_>>()
        };
        self.flat_mapped(
            "KSTREAM-FLATMAPVALUES-",
            per_key,
            self.repartition_required,
            named,
        )
        .with_serdes(self.key_serde.clone(), None)
    }

    /// Calls `action` on each record and passes it on unchanged.
    pub fn peek(&self, action: impl Fn(&K, &V) + Send + Sync + 'static) -> Self {
        self.peeked("KSTREAM-PEEK-", action, None)
    }

    /// Calls `action` on each record; the end of this branch.
    pub fn foreach(&self, action: impl Fn(&K, &V) + Send + Sync + 'static) {
        self.peeked("KSTREAM-FOREACH-", action, None);
    }

    /// Adds a `Peek` processor (`peek`, and `foreach`, whose output nothing
    /// reads).
    pub(crate) fn peeked(
        &self,
        prefix: &str,
        action: impl Fn(&K, &V) + Send + Sync + 'static,
        named: Option<&Named>,
    ) -> Self {
        let action: Action<K, V> = Arc::new(action);
        self.add(
            named,
            prefix,
            move || Peek {
                action: action.clone(),
            },
            self.repartition_required,
        )
        .with_serdes(self.key_serde.clone(), self.value_serde.clone())
    }

    /// The records of this stream and of `other`, interleaved as they come.
    pub fn merge(&self, other: &KStream<K, V>) -> Self {
        self.merged(other, None)
    }

    pub(crate) fn merged(&self, other: &KStream<K, V>, named: Option<&Named>) -> Self {
        let name = self
            .builder
            .name_or(named.map(Named::name), "KSTREAM-MERGE-");
        // Merging a stream with itself reads it once (Kafka's graph keeps
        // a set of parents).
        let parents: &[&str] = if self.node == other.node {
            &[&self.node]
        } else {
            &[&self.node, &other.node]
        };
        self.builder.with(|topology| {
            topology.add_processor::<K, V, K, V, _>(&name, || PassThrough, parents);
        });
        KStream::new(
            self.builder.clone(),
            name,
            self.repartition_required || other.repartition_required,
        )
    }

    /// Runs a Processor API processor on the stream; its output may have
    /// another key, so the result is marked for repartitioning. `stores`
    /// are connected to it.
    pub fn process<K2, V2, P>(
        &self,
        supplier: impl Fn() -> P + Send + Sync + 'static,
        stores: &[&str],
    ) -> KStream<K2, V2>
    where
        K2: Clone + 'static,
        V2: Clone + 'static,
        P: Processor<K, V, K2, V2>,
    {
        let stream = self.add(None, "KSTREAM-PROCESSOR-", supplier, true);
        self.builder.with(|topology| {
            topology.connect_processor_and_stores(&stream.node, stores);
        });
        stream
    }

    /// Writes the stream to `topic` with its serdes (those it was read
    /// with), or its types' defaults where it has none.
    pub fn to(&self, topic: &str)
    where
        K: DefaultSerde,
        V: DefaultSerde,
    {
        self.to_with(topic, Produced::default());
    }

    /// Writes the stream to `topic` as `produced` says.
    pub fn to_with(&self, topic: &str, produced: Produced<K, V>) {
        let name = self
            .builder
            .name_or(produced.name.as_deref(), "KSTREAM-SINK-");
        let options = produced.sink_options(self.key_serde.as_ref(), self.value_serde.as_ref());
        self.builder.with(|topology| {
            topology.add_sink(&name, topic, options, &[&self.node]);
        });
    }

    /// Groups by the current key, repartitioning first if the key changed.
    pub fn group_by_key(&self) -> KGroupedStream<K, V>
    where
        K: DefaultSerde,
        V: DefaultSerde,
    {
        self.group_by_key_with(Grouped::with(
            self.key_serde_or_default(),
            self.value_serde_or_default(),
        ))
    }

    /// Groups by the current key with these serdes and repartition name.
    pub fn group_by_key_with(&self, grouped: Grouped<K, V>) -> KGroupedStream<K, V> {
        KGroupedStream::new(
            self.builder.clone(),
            self.node.clone(),
            self.repartition_required,
            grouped,
        )
    }

    /// Groups by a new key; always repartitions.
    pub fn group_by<K2>(
        &self,
        selector: impl Fn(&K, &V) -> K2 + Send + Sync + 'static,
    ) -> KGroupedStream<K2, V>
    where
        K2: DefaultSerde + Clone,
        V: DefaultSerde,
    {
        self.group_by_with(
            selector,
            Grouped::with(K2::default_serde(), self.value_serde_or_default()),
        )
    }

    /// Groups by a new key with these serdes; a named `grouped` also names
    /// the key selector and the repartition topic.
    pub fn group_by_with<K2: Clone + 'static>(
        &self,
        selector: impl Fn(&K, &V) -> K2 + Send + Sync + 'static,
        grouped: Grouped<K2, V>,
    ) -> KGroupedStream<K2, V> {
        let name = self
            .builder
            .name_or(grouped.name.as_deref(), "KSTREAM-KEY-SELECT-");
        let mapper = Arc::new(move |key: K, value: V| (selector(&key, &value), value));
        self.builder.with(|topology| {
            topology.add_processor(
                &name,
                move || Map {
                    mapper: mapper.clone(),
                },
                &[&self.node],
            );
        });
        KGroupedStream::new(self.builder.clone(), name, true, grouped)
    }

    /// Writes the stream through the internal topic
    /// `<application.id>-<prefix>-repartition` and reads it back, returning
    /// the name of the source that reads it. Node names follow Kafka Streams:
    /// generated (sink, filter, source) unless `prefix` is a user name.
    /// Returns the sink, filter and source names.
    pub(crate) fn repartition_through(&self, prefix: &str, grouped: &Grouped<K, V>) -> [String; 3] {
        let topic = repartition_topic(prefix);
        let [sink, filter, source] = self.repartition_names(prefix);
        let (key, value) = (grouped.key.clone(), grouped.value.clone());
        let (filter_key, drops) = (key.clone(), self.builder.null_key_filter(&filter));
        self.builder.with(|topology| {
            topology
                .add_internal_topic(&topic)
                .add_processor::<K, V, K, V, _>(
                    &filter,
                    move || NullKeyFilter {
                        key: filter_key.clone(),
                        drops: drops.clone(),
                    },
                    &[&self.node],
                )
                .add_sink(
                    &sink,
                    topic.as_str(),
                    SinkOptions::new(key.clone(), value.clone()),
                    &[&filter],
                )
                .add_source(&source, &[&topic], repartition_source_options(key, value));
        });
        [sink, filter, source]
    }

    /// The sink, filter and source names of a repartition topic named after
    /// `prefix`. Kafka burns three indices for them even when the prefix
    /// names them, or when an existing topic is read instead, so later
    /// names match.
    pub(crate) fn repartition_names(&self, prefix: &str) -> [String; 3] {
        let generated = [
            self.builder.new_name("KSTREAM-SINK-"),
            self.builder.new_name("KSTREAM-FILTER-"),
            self.builder.new_name("KSTREAM-SOURCE-"),
        ];
        if is_generated_name(prefix) {
            return generated;
        }
        let topic = repartition_topic(prefix);
        ["sink", "filter", "source"].map(|node| format!("{topic}-{node}"))
    }
}

/// The repartition topic named after `prefix`: `<prefix>-repartition`,
/// unless the prefix already ends so (a name the user gave that way).
fn repartition_topic(prefix: &str) -> String {
    if prefix.ends_with("-repartition") {
        prefix.to_owned()
    } else {
        format!("{prefix}-repartition")
    }
}

/// How a repartition topic is read back: its records keep the timestamps
/// they were written with, whatever the application's default extractor
/// (Kafka's repartition nodes read with `FailOnInvalidTimestamp`).
pub(crate) fn repartition_source_options<K: 'static, V: 'static>(
    key: SharedSerde<K>,
    value: SharedSerde<V>,
) -> SourceOptions<K, V> {
    SourceOptions::new(key, value).timestamp_extractor(FailOnInvalidTimestamp)
}

/// Whether `name` is a generated one, `KSTREAM...-<10 digits>`.
fn is_generated_name(name: &str) -> bool {
    name.starts_with("KSTREAM")
        && name.len() > 11
        && name.as_bytes()[name.len() - 11] == b'-'
        && name[name.len() - 10..].bytes().all(|b| b.is_ascii_digit())
}
