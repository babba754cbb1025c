//! `KGroupedStream`: a stream grouped by key, ready to aggregate.

use std::rc::Rc;
use std::sync::Arc;

use streams_core::serde::{DefaultSerde, I64Serde};
use streams_core::state::Stores;

use crate::builder::Builder;
use crate::config::{Grouped, Materialized};
use crate::grouping_repartition::GroupingRepartition;
use crate::kstream::KStream;
use crate::ktable::KTable;
use crate::nulls::SkipNulls;
use crate::processors::{Aggregate, Aggregator};
use crate::table_node::{TableKind, TableNode};
use crate::table_source::TableSerdes;

/// A stream grouped by key; `count`, `reduce` and `aggregate` turn it into
/// a table of one aggregate per key.
///
/// Aggregations emit, for each input record, the key's new aggregate with
/// the largest timestamp of the records that contributed to it.
pub struct KGroupedStream<K, V> {
    pub(crate) builder: Builder,
    pub(crate) node: String,
    pub(crate) repartition_required: bool,
    pub(crate) grouped: Grouped<K, V>,
    /// Which grouped stream this is: a cogroup takes each one once, as
    /// Kafka's keeps its inputs in a map keyed by the grouped stream.
    pub(crate) identity: Rc<()>,
    /// The repartition topic an aggregation inserted, for the later ones
    /// that reuse it (shared by the handles a cogroup keeps of one input).
    pub(crate) repartition: Rc<GroupingRepartition>,
}

impl<K: Clone + 'static, V: Clone + 'static> KGroupedStream<K, V> {
    pub(crate) fn new(
        builder: Builder,
        node: String,
        repartition_required: bool,
        grouped: Grouped<K, V>,
    ) -> Self {
        Self {
            builder,
            node,
            repartition_required,
            grouped,
            identity: Rc::new(()),
            repartition: Rc::default(),
        }
    }

    /// The number of records per key.
    pub fn count(&self) -> KTable<K, i64> {
        self.count_with(Materialized::with(
            self.grouped.key.clone(),
            Arc::new(I64Serde),
        ))
    }

    /// The number of records per key, stored as `materialized` says.
    pub fn count_with(&self, materialized: Materialized<K, i64>) -> KTable<K, i64> {
        self.aggregate_into("KSTREAM-AGGREGATE-", Aggregator::counting(), materialized)
    }

    /// Combines the values of each key with `reducer`; the first value of a
    /// key is its initial aggregate.
    pub fn reduce(&self, reducer: impl Fn(V, V) -> V + Send + Sync + 'static) -> KTable<K, V> {
        self.reduce_with(
            reducer,
            Materialized::with(self.grouped.key.clone(), self.grouped.value.clone()),
        )
    }

    /// [`reduce`](Self::reduce), stored as `materialized` says.
    pub fn reduce_with(
        &self,
        reducer: impl Fn(V, V) -> V + Send + Sync + 'static,
        materialized: Materialized<K, V>,
    ) -> KTable<K, V> {
        self.aggregate_into(
            "KSTREAM-REDUCE-",
            Aggregator::reducing(reducer),
            self.reduced_into(materialized),
        )
    }

    /// Folds the values of each key into an aggregate that starts as
    /// `initializer()`. The aggregate's serde is its type's default one.
    ///
    /// ```
    /// use streams_core::prelude::*;
    /// use streams_dsl::StreamsBuilder;
    ///
    /// let builder = StreamsBuilder::new();
    /// builder
    ///     .stream::<String, String>("words")
    ///     .group_by_key()
    ///     .aggregate(|| 0i64, |_key, word, letters| letters + word.len() as i64)
    ///     .to_stream()
    ///     .to("letters");
    /// let driver = TopologyTestDriver::new(&builder.build()?)?;
    /// let words = driver.create_input_topic("words", StringSerde, StringSerde);
    /// let letters =
    ///     driver.create_output_topic("letters", StringSerde, OptionSerde::new(std::sync::Arc::new(I64Serde)));
    /// words.pipe_input_at("k".into(), "kafka".into(), 1)?;
    /// words.pipe_input_at("k".into(), "rust".into(), 2)?;
    /// assert_eq!(letters.read_values_to_list()?, vec![Some(5), Some(9)]);
    /// # Ok::<(), StreamsError>(())
    /// ```
    ///
    /// An aggregate type without a default serde does not compile here; it
    /// needs [`aggregate_with`](Self::aggregate_with) and a `Materialized`
    /// naming its serde.
    ///
    /// ```compile_fail,E0277
    /// use streams_dsl::StreamsBuilder;
    ///
    /// #[derive(Clone)]
    /// struct Letters(i64);
    ///
    /// let builder = StreamsBuilder::new();
    /// builder
    ///     .stream::<String, String>("words")
    ///     .group_by_key()
    ///     .aggregate(|| Letters(0), |_key, word, letters| Letters(letters.0 + word.len() as i64));
    /// ```
    pub fn aggregate<A>(
        &self,
        initializer: impl Fn() -> A + Send + Sync + 'static,
        aggregator: impl Fn(&K, V, A) -> A + Send + Sync + 'static,
    ) -> KTable<K, A>
    where
        A: DefaultSerde + Clone,
    {
        self.aggregate_with(
            initializer,
            aggregator,
            Materialized::with(self.grouped.key.clone(), A::default_serde()),
        )
    }

    /// [`aggregate`](Self::aggregate), stored as `materialized` says (which
    /// gives the aggregate's serde for types without a default one).
    pub fn aggregate_with<A: Clone + 'static>(
        &self,
        initializer: impl Fn() -> A + Send + Sync + 'static,
        aggregator: impl Fn(&K, V, A) -> A + Send + Sync + 'static,
        materialized: Materialized<K, A>,
    ) -> KTable<K, A> {
        self.aggregate_into(
            "KSTREAM-AGGREGATE-",
            Aggregator::folding(initializer, aggregator),
            materialized,
        )
    }

    /// `materialized` with this grouping's serdes where it gives none: the
    /// store of a reduction, whose values are the stream's (Kafka's
    /// `KGroupedStreamImpl` and windowed streams fill in both).
    pub(crate) fn reduced_into(&self, materialized: Materialized<K, V>) -> Materialized<K, V> {
        materialized.inheriting(Some(&self.grouped.key), Some(&self.grouped.value))
    }

    /// What aggregations of this stream skip: records with a null key or
    /// value, by its grouping's serdes (Kafka's `KStreamAggregate`).
    pub(crate) fn skip_nulls(&self) -> SkipNulls<K, V> {
        SkipNulls::keys_and_values(self.grouped.key.clone(), self.grouped.value.clone())
    }

    /// The node an aggregation into `store` reads from: this stream, or
    /// the source of a repartition topic it inserts (named after the
    /// grouping, else after the store), as Kafka's
    /// `GroupedStreamAggregateBuilder` (see [`GroupingRepartition`]).
    pub(crate) fn aggregation_parent(&self, store: &str) -> String {
        if !self.repartition_required {
            return self.node.clone();
        }
        let stream: KStream<K, V> = KStream::new(self.builder.clone(), self.node.clone(), true);
        let prefix = self.grouped.name.as_deref().unwrap_or(store);
        if let Some(existing) = self.repartition.reused(self.grouped.name.is_some()) {
            // Kafka names the nodes it then discards: the generated names
            // after this aggregation are numbered as in Kafka.
            stream.repartition_names(prefix);
            if self.repartition.moves_on_reuse() {
                self.builder.with(|topology| {
                    topology.move_to_end(&[&existing.writer, &existing.source]);
                });
            }
            return existing.source;
        }
        let [_, filter, source] = stream.repartition_through(prefix, &self.grouped);
        self.repartition.inserted(&filter, &source);
        source
    }

    /// Adds the store, the repartition topic if needed, and the aggregate
    /// processor, naming them in Kafka Streams' order.
    fn aggregate_into<A: Clone + 'static>(
        &self,
        prefix: &str,
        aggregator: Aggregator<K, V, A>,
        materialized: Materialized<K, A>,
    ) -> KTable<K, A> {
        // Kafka fills in the grouping's key serde where none was given.
        let materialized = materialized.inheriting(Some(&self.grouped.key), None);
        let store = match &materialized.name {
            Some(name) => name.clone(),
            None => self.builder.new_store_name(prefix),
        };
        let name = self.builder.new_name(prefix);
        let parent = self.aggregation_parent(&store);
        let serdes = TableSerdes::new(
            materialized.key_serde().clone(),
            materialized.value_serde().clone(),
        );
        let store_builder = Stores::timestamped_key_value_store_builder_with(
            &store,
            materialized.key_serde().clone(),
            materialized.value_serde().clone(),
        )
        .with_options(materialized.options);
        let table = TableNode::new(TableKind::Stateful, Some(store.clone()), None);
        let (store_name, view) = (store.clone(), table.processor_view());
        let nulls = self.skip_nulls();
        self.builder.with(|topology| {
            topology
                .add_processor(
                    &name,
                    move || {
                        Aggregate::new(&store_name, aggregator.clone(), view.clone(), nulls.clone())
                    },
                    &[&parent],
                )
                .add_state_store(store_builder, &[&name]);
        });
        KTable::from_node(self.builder.clone(), name, materialized.name, table, serdes)
    }
}
