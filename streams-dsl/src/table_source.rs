//! Where tables come from: a topic read as a table
//! ([`StreamsBuilder::table`]), a stream read as a table
//! ([`KStream::to_table`]), and global tables ([`GlobalKTable`]).
//!
//! Names follow Kafka Streams: the generated store name
//! `<topic>-STATE-STORE-<index>` is taken first (even if the table is never
//! materialized), then the source `KSTREAM-SOURCE-` and the processor
//! `KTABLE-SOURCE-`; a `Consumed` name `n` names them `n-source` and `n`
//! (still consuming their indices).

use std::marker::PhantomData;
use std::sync::Arc;

use streams_core::processor::Processor;
use streams_core::serde::{DefaultSerde, OptionSerde, SharedSerde};
use streams_core::state::{Stores, TimestampedKeyValueStoreBuilder};
use streams_core::topology::SourceOptions;

use crate::builder::{Builder, StreamsBuilder};
use crate::config::{Consumed, Grouped, Materialized};
use crate::kstream::KStream;
use crate::ktable::{Change, KTable};
use crate::processors::TableSource;
use crate::table_node::{Materializer, TableKind, TableNode};

/// The store a table node is materialized in, built from `materialized`'s
/// options with these serdes.
pub(crate) fn table_store<K: 'static, V: 'static, A, B>(
    name: &str,
    key: SharedSerde<K>,
    value: SharedSerde<V>,
    materialized: &Materialized<A, B>,
) -> TimestampedKeyValueStoreBuilder<K, V> {
    Stores::timestamped_key_value_store_builder_with(name, key, value)
        .with_options(materialized.options.clone())
}

/// A materializer adding `table_store` to `node` when first needed.
pub(crate) fn materializer<K: 'static, V: 'static, A: 'static, B: 'static>(
    builder: &Builder,
    node: &str,
    key: SharedSerde<K>,
    value: SharedSerde<V>,
    materialized: Materialized<A, B>,
) -> Materializer {
    let builder = builder.clone();
    let node = node.to_owned();
    Box::new(move |name: &str| {
        let store = table_store(name, key, value, &materialized);
        builder.with(|topology| {
            topology.add_state_store(store, &[&node]);
        });
    })
}

/// The source options of `consumed`, reading keys and values as `Option`s
/// so that null keys (dropped) and null values (tombstones) get through.
fn nullable_source<K: 'static, V: 'static>(
    consumed: &Consumed<K, V>,
) -> SourceOptions<Option<K>, Option<V>> {
    let mut options = SourceOptions::new(
        OptionSerde::new(consumed.key.clone()),
        OptionSerde::new(consumed.value.clone()),
    );
    if let Some(extractor) = consumed.timestamp_extractor.clone() {
        options = options.timestamp_extractor(extractor);
    }
    if let Some(reset) = consumed.offset_reset {
        options = options.offset_reset(reset);
    }
    options
}

impl StreamsBuilder {
    /// The generated store name of a table of `topic` (or the explicit
    /// one), then the source and processor names, in Kafka's order.
    fn table_names<K, V, A, B>(
        &self,
        topic: &str,
        consumed: &Consumed<K, V>,
        materialized: &Materialized<A, B>,
    ) -> (String, String, String) {
        let store = match &materialized.name {
            Some(name) => name.clone(),
            None => self.builder.new_store_name(&format!("{topic}-")),
        };
        let source = self.builder.new_name("KSTREAM-SOURCE-");
        let processor = self.builder.new_name("KTABLE-SOURCE-");
        match &consumed.name {
            Some(name) => (store, format!("{name}-source"), name.clone()),
            None => (store, source, processor),
        }
    }

    /// A table of `topic`, read with the default serdes of `K` and `V`:
    /// each record upserts its key, a null value deletes it, a null key is
    /// dropped. Materialized only if a later operator needs it.
    pub fn table<K, V>(&self, topic: &str) -> KTable<K, V>
    where
        K: DefaultSerde + Clone,
        V: DefaultSerde + Clone,
    {
        self.table_with(topic, Consumed::default(), Materialized::default())
    }

    /// A table of `topic`, read as `consumed` says; a named `materialized`
    /// keeps it in that (queryable) store. The store's serdes are
    /// `consumed`'s.
    pub fn table_with<K, V>(
        &self,
        topic: &str,
        consumed: Consumed<K, V>,
        materialized: Materialized<K, V>,
    ) -> KTable<K, V>
    where
        K: Clone + 'static,
        V: Clone + 'static,
    {
        let (store, source, processor) = self.table_names(topic, &consumed, &materialized);
        let queryable = materialized.name.clone();
        let options = nullable_source(&consumed);
        let materialize = materializer(
            &self.builder,
            &processor,
            consumed.key.clone(),
            consumed.value.clone(),
            materialized,
        );
        let table = TableNode::new(
            TableKind::Source {
                store_name: store.clone(),
            },
            None,
            Some(materialize),
        );
        let view = table.processor_view();
        self.builder.with(|topology| {
            topology
                .add_source(&source, &[topic], options)
                .add_processor::<Option<K>, Option<V>, K, Change<V>, _>(
                    &processor,
                    move || TableSource::new(view.clone()),
                    &[&source],
                );
        });
        if queryable.is_some() {
            table.materialize_as(&store);
        }
        KTable::from_node(
            self.builder.clone(),
            processor,
            queryable,
            table,
            TableSerdes::new(consumed.key, consumed.value),
        )
    }

    /// A global table of `topic`, read with the default serdes of `K` and
    /// `V`: every instance keeps all of its rows.
    pub fn global_table<K, V>(&self, topic: &str) -> GlobalKTable<K, V>
    where
        K: DefaultSerde + Clone,
        V: DefaultSerde + Clone,
    {
        self.global_table_with(topic, Consumed::default(), Materialized::default())
    }

    /// A global table of `topic`, read as `consumed` says, kept in the store
    /// `materialized` names (or `<topic>-STATE-STORE-<index>`). The store
    /// never logs: the topic is its changelog.
    pub fn global_table_with<K, V>(
        &self,
        topic: &str,
        consumed: Consumed<K, V>,
        materialized: Materialized<K, V>,
    ) -> GlobalKTable<K, V>
    where
        K: Clone + 'static,
        V: Clone + 'static,
    {
        let (store, source, processor) = self.table_names(topic, &consumed, &materialized);
        let store_builder = table_store(
            &store,
            consumed.key.clone(),
            consumed.value.clone(),
            &materialized,
        )
        .with_logging_disabled();
        let table = TableNode::new(
            TableKind::Source {
                store_name: store.clone(),
            },
            Some(store.clone()),
            None,
        );
        let view = table.processor_view();
        let options = nullable_source(&consumed);
        self.builder.with(|topology| {
            topology.add_global_store::<Option<K>, Option<V>, K, Change<V>, _>(
                store_builder,
                &source,
                topic,
                options,
                &processor,
                move || TableSource::new(view.clone()),
            );
        });
        GlobalKTable {
            store,
            queryable: materialized.name,
            key_serde: consumed.key,
            _types: PhantomData,
        }
    }
}

/// A table replicated in full to every instance, read from its topic
/// before and while the application runs; joined with streams by looking
/// rows up in its store.
pub struct GlobalKTable<K, V> {
    /// The global store holding the rows.
    pub(crate) store: String,
    pub(crate) queryable: Option<String>,
    /// Its keys' serde: which row keys a join's key mapper gives are null.
    pub(crate) key_serde: SharedSerde<K>,
    pub(crate) _types: PhantomData<fn(K, V)>,
}

impl<K, V> GlobalKTable<K, V> {
    /// The store name if it was named (and so may be queried).
    pub fn queryable_store_name(&self) -> Option<&str> {
        self.queryable.as_deref()
    }

    /// The global store (a `TimestampedKeyValueStore<K, V>`) holding the
    /// rows; every processor may read it.
    pub(crate) fn store_name(&self) -> &str {
        &self.store
    }
}

impl<K: Clone + 'static, V: Clone + 'static> KStream<K, V> {
    /// The stream read as a table: each record upserts its key
    /// (`KSTREAM-TOTABLE-`), repartitioning first if the key changed.
    pub fn to_table(&self) -> KTable<K, V>
    where
        K: DefaultSerde,
        V: DefaultSerde,
    {
        self.to_table_with(Materialized::default())
    }

    /// [`to_table`](Self::to_table), with the serdes of `materialized`
    /// (for the repartition topic and the store; the stream's where it
    /// gives none) and, if named, kept in that store.
    pub fn to_table_with(&self, materialized: Materialized<K, V>) -> KTable<K, V> {
        let materialized =
            materialized.inheriting(self.key_serde.as_ref(), self.value_serde.as_ref());
        let value = materialized.value_serde().clone();
        self.read_as_table(materialized, value)
    }

    /// Adds the `KSTREAM-TOTABLE-` node reading this stream, whose values
    /// (written with `value_serde` if repartitioned) become rows of `V`.
    fn read_as_table<VT: Clone + 'static>(
        &self,
        materialized: Materialized<K, VT>,
        value_serde: SharedSerde<V>,
    ) -> KTable<K, VT>
    where
        TableSource<K, VT>: Processor<K, V, K, Change<VT>>,
    {
        let name = self.builder.new_name("KSTREAM-TOTABLE-");
        let store = match &materialized.name {
            Some(store) => store.clone(),
            None => self.builder.new_store_name("KSTREAM-TOTABLE-"),
        };
        let (key, value) = (
            materialized.key_serde().clone(),
            materialized.value_serde().clone(),
        );
        let parent = if self.repartition_required {
            let [_, _, source] =
                self.repartition_through(&name, &Grouped::with(key.clone(), value_serde));
            source
        } else {
            self.node.clone()
        };
        let queryable = materialized.name.clone();
        let materialize = materializer(
            &self.builder,
            &name,
            key.clone(),
            value.clone(),
            materialized,
        );
        let table = TableNode::new(
            TableKind::Source {
                store_name: store.clone(),
            },
            None,
            Some(materialize),
        );
        let (view, null_keys) = (table.processor_view(), key.clone());
        self.builder.with(|topology| {
            topology.add_processor::<K, V, K, Change<VT>, _>(
                &name,
                move || TableSource::new(view.clone()).skipping_null_keys(null_keys.clone()),
                &[&parent],
            );
        });
        if queryable.is_some() {
            table.materialize_as(&store);
        }
        KTable::from_node(
            self.builder.clone(),
            name,
            queryable,
            table,
            TableSerdes::new(key, value),
        )
    }
}

impl<K: Clone + 'static, V: Clone + 'static> KStream<K, Option<V>> {
    /// The stream read as a table in which `None` deletes its key, as
    /// Kafka's `toTable` treats a null value: the way back from
    /// [`KTable::to_stream`].
    ///
    /// ```
    /// use std::sync::Arc;
    /// use streams_core::prelude::*;
    /// use streams_dsl::StreamsBuilder;
    ///
    /// let builder = StreamsBuilder::new();
    /// builder
    ///     .table::<String, String>("users")
    ///     .to_stream()
    ///     .to_table_with_deletes()
    ///     .filter(|_, region| region != "hidden")
    ///     .to_stream()
    ///     .to("visible");
    /// let driver = TopologyTestDriver::new(&builder.build()?)?;
    /// let regions = || OptionSerde::new(Arc::new(StringSerde));
    /// let users = driver.create_input_topic("users", StringSerde, regions());
    /// users.pipe_input_at("ann".into(), Some("eu".into()), 1)?;
    /// users.pipe_input_at("ann".into(), None, 2)?;
    /// let visible = driver.create_output_topic("visible", StringSerde, regions());
    /// assert_eq!(visible.read_values_to_list()?, vec![Some("eu".to_owned()), None]);
    /// # Ok::<(), StreamsError>(())
    /// ```
    pub fn to_table_with_deletes(&self) -> KTable<K, V>
    where
        K: DefaultSerde,
        V: DefaultSerde,
    {
        self.to_table_with_deletes_and(Materialized::default())
    }

    /// [`to_table_with_deletes`](Self::to_table_with_deletes), with the
    /// serdes of `materialized` (the stream's key serde where it gives
    /// none) and, if named, kept in that store.
    pub fn to_table_with_deletes_and(&self, materialized: Materialized<K, V>) -> KTable<K, V> {
        let materialized = materialized.inheriting(self.key_serde.as_ref(), None);
        let value: SharedSerde<Option<V>> =
            Arc::new(OptionSerde::new(materialized.value_serde().clone()));
        self.read_as_table(materialized, value)
    }
}

/// A table's key and value serdes, each where known: kept for later
/// materialization, for the stream the table turns into, and to measure
/// records in byte-bounded suppression buffers. Kafka's tables carry the
/// two separately: `map_values` and joins keep the key serde and lose the
/// value serde, as the value type changes.
pub(crate) struct TableSerdes<K, V> {
    pub(crate) key: Option<SharedSerde<K>>,
    pub(crate) value: Option<SharedSerde<V>>,
}

impl<K, V> Clone for TableSerdes<K, V> {
    fn clone(&self) -> Self {
        Self {
            key: self.key.clone(),
            value: self.value.clone(),
        }
    }
}

impl<K, V> TableSerdes<K, V> {
    /// Both serdes known.
    pub(crate) fn new(key: SharedSerde<K>, value: SharedSerde<V>) -> Self {
        Self {
            key: Some(key),
            value: Some(value),
        }
    }

    /// The key serde of `self` and no value serde, for a table whose
    /// values have another type.
    pub(crate) fn key_only<V2>(&self) -> TableSerdes<K, V2> {
        TableSerdes {
            key: self.key.clone(),
            value: None,
        }
    }

    /// Both serdes, if both are known.
    pub(crate) fn both(&self) -> Option<(SharedSerde<K>, SharedSerde<V>)> {
        Some((self.key.clone()?, self.value.clone()?))
    }
}
