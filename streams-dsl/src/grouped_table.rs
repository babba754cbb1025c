//! `KTable::group_by` and `KGroupedTable`: re-keying a table and
//! aggregating it, as Kafka's `KTableRepartitionMap` and `KTableAggregate`.
//!
//! Every update of the table is sent through a repartition topic as the
//! value to subtract (the old row, under its old key) and the value to add
//! (the new row, under its new key), so an aggregate follows rows as they
//! move between keys and disappear. The topic carries [`Change`]s with
//! [`ChangeSerde`]. Names follow Kafka: the store
//! `KTABLE-AGGREGATE-STATE-STORE-<index>` unless named, then the sink
//! `KSTREAM-SINK-` and source `KSTREAM-SOURCE-` of the topic
//! `<grouped name or store name>-repartition`, then the processor
//! `KTABLE-AGGREGATE-` or `KTABLE-REDUCE-`.

use std::sync::Arc;

use streams_core::serde::{DefaultSerde, I64Serde};
use streams_core::topology::SinkOptions;

use crate::builder::Builder;
use crate::change_serde::ChangeSerde;
use crate::config::{Grouped, Materialized};
use crate::grouping_repartition::GroupingRepartition;
use crate::kstream::repartition_source_options;
use crate::ktable::{Change, KTable};
use crate::nulls::NullTest;
use crate::processors::{RepartitionMap, TableAggregate, TableAggregator, TableRows};
use crate::table_node::{TableKind, TableNode};
use crate::table_source::table_store;
use crate::table_source::TableSerdes;

impl<K: Clone + 'static, V: Clone + 'static> KTable<K, V> {
    /// Re-keys the table with `selector` (which may also change the value),
    /// ready to aggregate; this table then sends old values (materializing
    /// a source table).
    pub fn group_by<K1, V1>(
        &self,
        selector: impl Fn(&K, &V) -> (K1, V1) + Send + Sync + 'static,
    ) -> KGroupedTable<K1, V1>
    where
        K1: DefaultSerde + Clone + PartialEq,
        V1: DefaultSerde + Clone,
    {
        self.group_by_with(selector, Grouped::default())
    }

    /// [`group_by`](Self::group_by) with these serdes; a named `grouped`
    /// names the selector and the repartition topic.
    pub fn group_by_with<K1, V1>(
        &self,
        selector: impl Fn(&K, &V) -> (K1, V1) + Send + Sync + 'static,
        grouped: Grouped<K1, V1>,
    ) -> KGroupedTable<K1, V1>
    where
        K1: Clone + PartialEq + 'static,
        V1: Clone + 'static,
    {
        let name = self
            .builder
            .name_or(grouped.name.as_deref(), "KTABLE-SELECT-");
        let selector = Arc::new(selector);
        let nulls = NullTest::new(Some(grouped.key.clone()), Some(grouped.value.clone()));
        self.builder.with(|topology| {
            topology.add_processor(
                &name,
                move || RepartitionMap {
                    selector: selector.clone(),
                    nulls: nulls.clone(),
                },
                &[&self.node],
            );
        });
        // The subtraction needs the old rows.
        self.table.enable_sending_old_values(true);
        KGroupedTable {
            builder: self.builder.clone(),
            node: name,
            grouped,
            repartition: GroupingRepartition::default(),
        }
    }
}

/// A table re-keyed by [`KTable::group_by`]; `count`, `reduce` and
/// `aggregate` turn it into a table of one aggregate per new key, which
/// subtracts rows that leave a key as well as adding rows that join it.
pub struct KGroupedTable<K, V> {
    builder: Builder,
    node: String,
    grouped: Grouped<K, V>,
    /// The repartition topic its first aggregation added.
    repartition: GroupingRepartition,
}

impl<K: Clone + 'static, V: Clone + 'static> KGroupedTable<K, V> {
    /// The number of rows per key; a key whose rows all left counts 0.
    pub fn count(&self) -> KTable<K, i64> {
        self.count_with(Materialized::with(
            self.grouped.key.clone(),
            Arc::new(I64Serde),
        ))
    }

    /// [`count`](Self::count), stored as `materialized` says.
    pub fn count_with(&self, materialized: Materialized<K, i64>) -> KTable<K, i64> {
        self.aggregate_into(
            "KTABLE-AGGREGATE-",
            TableAggregator {
                first: Arc::new(|_: &K, _: V| 1),
                // Wrapping as Kafka's Java `long`s do (see `counting`).
                add: Arc::new(|_: &K, _: V, count: i64| count.wrapping_add(1)),
                subtract: Arc::new(|_: &K, _: V, count: i64| count.wrapping_sub(1)),
            },
            materialized,
        )
    }

    /// Combines the rows of each key with `adder`, and takes rows that
    /// leave the key out with `subtractor`.
    pub fn reduce(
        &self,
        adder: impl Fn(V, V) -> V + Send + Sync + 'static,
        subtractor: impl Fn(V, V) -> V + Send + Sync + 'static,
    ) -> KTable<K, V> {
        self.reduce_with(
            adder,
            subtractor,
            Materialized::with(self.grouped.key.clone(), self.grouped.value.clone()),
        )
    }

    /// [`reduce`](Self::reduce), stored as `materialized` says.
    pub fn reduce_with(
        &self,
        adder: impl Fn(V, V) -> V + Send + Sync + 'static,
        subtractor: impl Fn(V, V) -> V + Send + Sync + 'static,
        materialized: Materialized<K, V>,
    ) -> KTable<K, V> {
        // A reduction's values are the grouping's: Kafka fills in its
        // value serde too.
        let grouping = (&self.grouped.key, &self.grouped.value);
        let materialized = materialized.inheriting(Some(grouping.0), Some(grouping.1));
        self.aggregate_into(
            "KTABLE-REDUCE-",
            TableAggregator {
                first: Arc::new(|_: &K, value: V| value),
                add: Arc::new(move |_: &K, value: V, aggregate: V| adder(aggregate, value)),
                subtract: Arc::new(move |_: &K, value: V, aggregate: V| {
                    subtractor(aggregate, value)
                }),
            },
            materialized,
        )
    }

    /// Folds the rows of each key into an aggregate that starts as
    /// `initializer()`, with `adder` for rows joining the key and
    /// `subtractor` for rows leaving it.
    pub fn aggregate<A>(
        &self,
        initializer: impl Fn() -> A + Send + Sync + 'static,
        adder: impl Fn(&K, V, A) -> A + Send + Sync + 'static,
        subtractor: impl Fn(&K, V, A) -> A + Send + Sync + 'static,
    ) -> KTable<K, A>
    where
        A: DefaultSerde + Clone,
    {
        self.aggregate_with(
            initializer,
            adder,
            subtractor,
            Materialized::with(self.grouped.key.clone(), A::default_serde()),
        )
    }

    /// [`aggregate`](Self::aggregate), stored as `materialized` says (which
    /// gives the aggregate's serde for types without a default one).
    pub fn aggregate_with<A: Clone + 'static>(
        &self,
        initializer: impl Fn() -> A + Send + Sync + 'static,
        adder: impl Fn(&K, V, A) -> A + Send + Sync + 'static,
        subtractor: impl Fn(&K, V, A) -> A + Send + Sync + 'static,
        materialized: Materialized<K, A>,
    ) -> KTable<K, A> {
        let adder = Arc::new(adder);
        let add = adder.clone();
        self.aggregate_into(
            "KTABLE-AGGREGATE-",
            TableAggregator {
                first: Arc::new(move |key: &K, value: V| adder(key, value, initializer())),
                add: Arc::new(move |key: &K, value: V, aggregate: A| add(key, value, aggregate)),
                subtract: Arc::new(subtractor),
            },
            materialized,
        )
    }

    /// Adds the store, the repartition topic and the aggregate processor,
    /// naming them in Kafka Streams' order.
    fn aggregate_into<A: Clone + 'static>(
        &self,
        prefix: &str,
        aggregator: TableAggregator<K, V, A>,
        materialized: Materialized<K, A>,
    ) -> KTable<K, A> {
        // Kafka fills in the grouping's key serde where none was given.
        let materialized = materialized.inheriting(Some(&self.grouped.key), None);
        let queryable = materialized.name.clone();
        let store = match &queryable {
            Some(name) => name.clone(),
            None => self.builder.new_store_name("KTABLE-AGGREGATE-"),
        };
        let sink = self.builder.new_name("KSTREAM-SINK-");
        let source = self.builder.new_name("KSTREAM-SOURCE-");
        let name = self.builder.new_name(prefix);
        let topic = format!(
            "{}-repartition",
            self.grouped.name.as_deref().unwrap_or(&store)
        );
        let key = self.grouped.key.clone();
        let change = Arc::new(ChangeSerde::new(self.grouped.value.clone()));
        let store_builder = table_store(
            &store,
            materialized.key_serde().clone(),
            materialized.value_serde().clone(),
            &materialized,
        );
        let table = TableNode::new(TableKind::Stateful, Some(store.clone()), None);
        let view = table.processor_view();
        // Sink and source names are taken either way, as in Kafka.
        let reused = self.repartition.reused(self.grouped.name.is_some());
        self.builder.with(|topology| {
            let source = match reused {
                Some(existing) => {
                    topology.move_to_end(&[&existing.writer, &existing.source]);
                    existing.source
                }
                None => {
                    topology
                        .add_internal_topic(&topic)
                        .add_sink::<K, Change<V>>(
                            &sink,
                            topic.as_str(),
                            SinkOptions::new(key.clone(), change.clone()),
                            &[&self.node],
                        )
                        .add_source(&source, &[&topic], repartition_source_options(key, change));
                    self.repartition.inserted(&sink, &source);
                    source
                }
            };
            topology
                .add_processor(
                    &name,
                    move || TableAggregate {
                        aggregator: aggregator.clone(),
                        view: view.clone(),
                        rows: TableRows::default(),
                    },
                    &[&source],
                )
                .add_state_store(store_builder, &[&name]);
        });
        KTable::from_node(
            self.builder.clone(),
            name,
            queryable,
            table,
            TableSerdes::new(
                materialized.key_serde().clone(),
                materialized.value_serde().clone(),
            ),
        )
    }
}
