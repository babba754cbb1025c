//! `cogroup`: several grouped streams, possibly of different value types,
//! aggregated into one table through one store, as Kafka Streams'
//! `CogroupedKStream` and its `CogroupedStreamAggregateBuilder`.
//!
//! Each input gets its own aggregate processor (with its own aggregator)
//! over the shared store, and a pass-through merge node combines their
//! updates into the table's changelog. Names follow Kafka: the store
//! `COGROUPKSTREAM-AGGREGATE-STATE-STORE-<index>`, the repartition topics of
//! key-changed inputs (named after their grouping, else after the store),
//! then `COGROUPKSTREAM-AGGREGATE-<index>` per input and
//! `COGROUPKSTREAM-MERGE-<index>` (or, for a [`Named`] aggregation,
//! `<name>-cogroup-agg-<n>` and `<name>-cogroup-merge`).

use std::rc::Rc;
use std::sync::Arc;

use streams_core::serde::{DefaultSerde, SharedSerde};

use crate::builder::Builder;
use crate::config::{Grouped, Materialized};
use crate::grouped::KGroupedStream;
use crate::ktable::{Change, KTable};
use crate::named::Named;
use crate::processors::{Aggregate, Aggregator, PassThrough};
use crate::table_node::{NodeView, TableKind, TableNode};
use crate::table_source::table_store;

const AGGREGATE_NAME: &str = "COGROUPKSTREAM-AGGREGATE-";
const MERGE_NAME: &str = "COGROUPKSTREAM-MERGE-";

/// Makes the aggregate a key starts from.
type Initializer<A> = Arc<dyn Fn() -> A + Send + Sync>;
/// Folds one value of an input into the aggregate.
type Fold<K, V, A> = Arc<dyn Fn(&K, V, A) -> A + Send + Sync>;

/// One grouped stream of a cogroup and its aggregator; its value type is
/// hidden so that inputs of different value types can sit in one list.
trait CogroupInput<K, A> {
    /// Which grouped stream this input is.
    fn identity(&self) -> &Rc<()>;

    /// The node this input's aggregate reads from: the grouped stream, or
    /// the source of the repartition topic this adds for it.
    fn parent(&self, store: &str) -> String;

    /// Adds this input's aggregate processor `name`, reading `parent` and
    /// folding into `store`.
    fn add_aggregate(
        &self,
        name: &str,
        parent: &str,
        store: &str,
        initializer: &Initializer<A>,
        view: &NodeView,
    );
}

struct Input<K, V, A> {
    grouped: KGroupedStream<K, V>,
    aggregator: Fold<K, V, A>,
}

impl<K: Clone + 'static, V: Clone + 'static, A: Clone + 'static> CogroupInput<K, A>
    for Input<K, V, A>
{
    fn identity(&self) -> &Rc<()> {
        &self.grouped.identity
    }

    fn parent(&self, store: &str) -> String {
        self.grouped.aggregation_parent(store)
    }

    fn add_aggregate(
        &self,
        name: &str,
        parent: &str,
        store: &str,
        initializer: &Initializer<A>,
        view: &NodeView,
    ) {
        let (initializer, aggregator) = (initializer.clone(), self.aggregator.clone());
        let aggregator = Aggregator::folding(
            move || initializer(),
            move |key: &K, value: V, aggregate: A| aggregator(key, value, aggregate),
        );
        let (store, view) = (store.to_owned(), view.clone());
        let nulls = self.grouped.skip_nulls();
        self.grouped.builder.with(|topology| {
            topology.add_processor(
                name,
                move || Aggregate::new(&store, aggregator.clone(), view.clone(), nulls.clone()),
                &[parent],
            );
        });
    }
}

/// A copy of a grouped stream's handle: same node, grouping and serdes.
fn handle<K: Clone + 'static, V: Clone + 'static>(
    grouped: &KGroupedStream<K, V>,
) -> KGroupedStream<K, V> {
    let mut grouping = Grouped::with(grouped.grouped.key.clone(), grouped.grouped.value.clone());
    grouping.name = grouped.grouped.name.clone();
    KGroupedStream {
        identity: grouped.identity.clone(),
        ..KGroupedStream::new(
            grouped.builder.clone(),
            grouped.node.clone(),
            grouped.repartition_required,
            grouping,
        )
    }
}

/// Grouped streams of one key type, each with its own aggregator into one
/// aggregate type `A`; see [`KGroupedStream::cogroup`].
///
/// ```
/// use std::sync::Arc;
/// use streams_core::prelude::*;
/// use streams_dsl::StreamsBuilder;
///
/// let builder = StreamsBuilder::new();
/// let clicks = builder.stream::<String, i64>("clicks").group_by_key();
/// let views = builder.stream::<String, String>("views").group_by_key();
/// clicks
///     .cogroup(|_, clicks: i64, total: i64| total + clicks)
///     .cogroup(&views, |_, _view: String, total: i64| total + 1)
///     .aggregate(|| 0)
///     .to_stream()
///     .to("activity");
/// let driver = TopologyTestDriver::new(&builder.build()?)?;
/// let clicks = driver.create_input_topic("clicks", StringSerde, I64Serde);
/// let views = driver.create_input_topic("views", StringSerde, StringSerde);
/// let activity =
///     driver.create_output_topic("activity", StringSerde, OptionSerde::new(Arc::new(I64Serde)));
/// clicks.pipe_input_at("ann".into(), 5, 1)?;
/// views.pipe_input_at("ann".into(), "home".into(), 2)?;
/// assert_eq!(activity.read_values_to_list()?, vec![Some(5), Some(6)]);
/// # Ok::<(), StreamsError>(())
/// ```
pub struct CogroupedKStream<K, A> {
    builder: Builder,
    key: SharedSerde<K>,
    inputs: Vec<Box<dyn CogroupInput<K, A>>>,
}

impl<K: Clone + 'static, V: Clone + 'static> KGroupedStream<K, V> {
    /// Starts a cogroup: this stream's values are folded into the shared
    /// aggregate with `aggregator`; add more grouped streams with
    /// [`CogroupedKStream::cogroup`].
    pub fn cogroup<A: Clone + 'static>(
        &self,
        aggregator: impl Fn(&K, V, A) -> A + Send + Sync + 'static,
    ) -> CogroupedKStream<K, A> {
        CogroupedKStream {
            builder: self.builder.clone(),
            key: self.grouped.key.clone(),
            inputs: Vec::new(),
        }
        .cogroup(self, aggregator)
    }
}

impl<K: Clone + 'static, A: Clone + 'static> CogroupedKStream<K, A> {
    /// Adds `grouped`, whose values are folded into the shared aggregate
    /// with `aggregator`. A grouped stream added before keeps its place and
    /// takes the new aggregator, as in Kafka.
    pub fn cogroup<V: Clone + 'static>(
        mut self,
        grouped: &KGroupedStream<K, V>,
        aggregator: impl Fn(&K, V, A) -> A + Send + Sync + 'static,
    ) -> Self {
        let input: Box<dyn CogroupInput<K, A>> = Box::new(Input {
            grouped: handle(grouped),
            aggregator: Arc::new(aggregator),
        });
        let known = self
            .inputs
            .iter()
            .position(|known| Rc::ptr_eq(known.identity(), &grouped.identity));
        match known {
            Some(index) => self.inputs[index] = input,
            None => self.inputs.push(input),
        }
        self
    }

    /// The aggregate per key over all inputs, starting from
    /// `initializer()`, stored with the default serdes.
    pub fn aggregate(&self, initializer: impl Fn() -> A + Send + Sync + 'static) -> KTable<K, A>
    where
        A: DefaultSerde,
    {
        self.aggregate_with(
            initializer,
            Materialized::with(self.key.clone(), A::default_serde()),
        )
    }

    /// [`aggregate`](Self::aggregate), stored as `materialized` says.
    pub fn aggregate_with(
        &self,
        initializer: impl Fn() -> A + Send + Sync + 'static,
        materialized: Materialized<K, A>,
    ) -> KTable<K, A> {
        self.build(Arc::new(initializer), None, materialized)
    }

    /// [`aggregate_with`](Self::aggregate_with), naming the processors
    /// `<named>-cogroup-agg-<n>` and `<named>-cogroup-merge`.
    pub fn aggregate_named(
        &self,
        initializer: impl Fn() -> A + Send + Sync + 'static,
        named: Named,
        materialized: Materialized<K, A>,
    ) -> KTable<K, A> {
        self.build(Arc::new(initializer), Some(&named), materialized)
    }

    /// Adds store, repartition topics, aggregates and merge in Kafka's
    /// order, so that indices and names match.
    fn build(
        &self,
        initializer: Initializer<A>,
        named: Option<&Named>,
        materialized: Materialized<K, A>,
    ) -> KTable<K, A> {
        let builder = &self.builder;
        let store = match &materialized.name {
            Some(name) => name.clone(),
            None => builder.new_store_name(AGGREGATE_NAME),
        };
        let parents: Vec<String> = self
            .inputs
            .iter()
            .map(|input| input.parent(&store))
            .collect();
        // The inputs meet in one store, so their topics (after any
        // repartitioning) must be co-partitioned.
        let nodes: Vec<&str> = parents.iter().map(String::as_str).collect();
        builder.copartitioning(|copartitioning| copartitioning.require(&nodes));
        // Kafka burns an index for each generated name even when named.
        let name_for = |suffix: &str, prefix: &str| {
            let generated = builder.new_name(prefix);
            named.map_or(generated, |named| format!("{}{suffix}", named.name()))
        };
        // The aggregates forward old values when the cogrouped table does.
        let table = TableNode::new(TableKind::Stateful, Some(store.clone()), None);
        let view = table.processor_view();
        let mut aggregates = Vec::with_capacity(self.inputs.len());
        for (counter, (input, parent)) in self.inputs.iter().zip(&parents).enumerate() {
            let name = name_for(&format!("-cogroup-agg-{counter}"), AGGREGATE_NAME);
            input.add_aggregate(&name, parent, &store, &initializer, &view);
            aggregates.push(name);
        }
        let merge = name_for("-cogroup-merge", MERGE_NAME);
        let store_builder = table_store(
            &store,
            materialized.key.clone(),
            materialized.value.clone(),
            &materialized,
        );
        let aggregates: Vec<&str> = aggregates.iter().map(String::as_str).collect();
        builder.with(|topology| {
            topology
                .add_state_store(store_builder, &aggregates)
                .add_processor::<K, Change<A>, K, Change<A>, _>(
                    &merge,
                    || PassThrough,
                    &aggregates,
                );
        });
        let serdes = (materialized.key, materialized.value);
        KTable::from_node(
            builder.clone(),
            merge,
            materialized.name,
            table,
            Some(serdes),
        )
    }
}
