//! `cogroup`: several grouped streams, possibly of different value types,
//! aggregated into one table through one store, as Kafka Streams'
//! `CogroupedKStream` and its `CogroupedStreamAggregateBuilder`.
//!
//! Each input gets its own aggregate processor (with its own aggregator)
//! over the shared store, and a pass-through merge node combines their
//! updates into the table's changelog. Windowed by time, sliding or
//! session windows ([`CogroupedKStream::windowed_by`]), each input gets the
//! windowed aggregate processor instead, over a shared window or session
//! store, as Kafka's `TimeWindowedCogroupedKStreamImpl`,
//! `SlidingWindowedCogroupedKStreamImpl` and
//! `SessionWindowedCogroupedKStreamImpl`. Names follow Kafka: the store
//! `COGROUPKSTREAM-AGGREGATE-STATE-STORE-<index>`, the repartition topics of
//! key-changed inputs (named after their grouping, else after the store),
//! then `COGROUPKSTREAM-AGGREGATE-<index>` per input and
//! `COGROUPKSTREAM-MERGE-<index>` (or, for a [`Named`] aggregation,
//! `<name>-cogroup-agg-<n>` and `<name>-cogroup-merge`).

use std::rc::Rc;
use std::sync::Arc;

use streams_core::serde::{DefaultSerde, SharedSerde};
use streams_core::state::StoreBuilder;
use streams_core::Windowed;

use crate::builder::Builder;
use crate::config::{Grouped, Materialized};
use crate::emit_strategy::EmitStrategy;
use crate::grouped::KGroupedStream;
use crate::grouping_repartition::GroupingRepartition;
use crate::ktable::{Change, KTable};
use crate::named::Named;
use crate::processors::{Aggregate, Aggregator, Merger, PassThrough, SessionAggregator};
use crate::table_node::{NodeView, TableKind, TableNode};
use crate::table_source::table_store;
use crate::table_source::TableSerdes;
use crate::windowed::{AggregationWindows, TimeWindowing};
use crate::windows::{SessionWindows, SlidingWindows, TimeWindows};

const AGGREGATE_NAME: &str = "COGROUPKSTREAM-AGGREGATE-";
const MERGE_NAME: &str = "COGROUPKSTREAM-MERGE-";

/// Makes the aggregate a key starts from.
type Initializer<A> = Arc<dyn Fn() -> A + Send + Sync>;
/// Folds one value of an input into the aggregate.
type Fold<K, V, A> = Arc<dyn Fn(&K, V, A) -> A + Send + Sync>;

/// What each input's aggregate processor folds into: one aggregate per
/// key, or per key and window.
enum Aggregation<K, A> {
    PerKey,
    Windows(TimeWindowing),
    Sessions(SessionWindows, Merger<K, A>),
}

/// One grouped stream of a cogroup and its aggregator; its value type is
/// hidden so that inputs of different value types can sit in one list.
trait CogroupInput<K, A> {
    /// Which grouped stream this input is.
    fn identity(&self) -> &Rc<()>;

    /// The repartition topic this input's first aggregation inserted, for
    /// every later aggregation of the cogroup.
    fn repartition(&self) -> &Rc<GroupingRepartition>;

    /// The node this input's aggregate reads from: the grouped stream, or
    /// the source of the repartition topic this adds for it.
    fn parent(&self, store: &str) -> String;

    /// Adds this input's aggregate processor `name`, reading `parent` and
    /// folding into `store` as `aggregation` says.
    fn add_aggregate(
        &self,
        name: &str,
        parent: &str,
        store: &str,
        initializer: &Initializer<A>,
        aggregation: &Aggregation<K, A>,
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

    fn repartition(&self) -> &Rc<GroupingRepartition> {
        &self.grouped.repartition
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
        aggregation: &Aggregation<K, A>,
        view: &NodeView,
    ) {
        let (start, aggregator) = (initializer.clone(), self.aggregator.clone());
        let aggregator = Aggregator::folding(
            move || start(),
            move |key: &K, value: V, aggregate: A| aggregator(key, value, aggregate),
        );
        let view = view.clone();
        match aggregation {
            Aggregation::PerKey => {
                let store = store.to_owned();
                let nulls = self.grouped.skip_nulls();
                self.grouped.builder.with(|topology| {
                    topology.add_processor(
                        name,
                        move || {
                            Aggregate::new(&store, aggregator.clone(), view.clone(), nulls.clone())
                        },
                        &[parent],
                    );
                });
            }
            Aggregation::Windows(windows) => {
                windows.add_processor(
                    &self.grouped,
                    name,
                    parent,
                    store,
                    aggregator,
                    view,
                    EmitStrategy::OnWindowUpdate,
                );
            }
            Aggregation::Sessions(windows, merger) => {
                let initializer = initializer.clone();
                let aggregator = SessionAggregator {
                    initial: Arc::new(move || Some(initializer())),
                    aggregator,
                    merger: merger.clone(),
                };
                windows.add_processor(
                    &self.grouped,
                    name,
                    parent,
                    store,
                    aggregator,
                    view,
                    EmitStrategy::OnWindowUpdate,
                );
            }
        }
    }
}

/// A copy of a grouped stream's handle (same node, grouping and serdes)
/// that reads the cogroup's repartition topic `repartition`.
fn handle<K: Clone + 'static, V: Clone + 'static>(
    grouped: &KGroupedStream<K, V>,
    repartition: Rc<GroupingRepartition>,
) -> KGroupedStream<K, V> {
    let mut grouping = Grouped::with(grouped.grouped.key.clone(), grouped.grouped.value.clone());
    grouping.name = grouped.grouped.name.clone();
    KGroupedStream {
        identity: grouped.identity.clone(),
        repartition,
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
    inputs: Vec<Rc<dyn CogroupInput<K, A>>>,
}

impl<K, A> Clone for CogroupedKStream<K, A> {
    fn clone(&self) -> Self {
        Self {
            builder: self.builder.clone(),
            key: self.key.clone(),
            inputs: self.inputs.clone(),
        }
    }
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
    /// with `aggregator`. A grouped stream added before keeps its place
    /// (and its repartition topic) and takes the new aggregator, as in
    /// Kafka. Every aggregation of the cogroup reads a key-changed input
    /// through the one repartition topic its first aggregation inserted.
    pub fn cogroup<V: Clone + 'static>(
        mut self,
        grouped: &KGroupedStream<K, V>,
        aggregator: impl Fn(&K, V, A) -> A + Send + Sync + 'static,
    ) -> Self {
        let known = self
            .inputs
            .iter()
            .position(|known| Rc::ptr_eq(known.identity(), &grouped.identity));
        let repartition = match known {
            Some(index) => self.inputs[index].repartition().clone(),
            None => Rc::new(GroupingRepartition::of_cogroup_input()),
        };
        let input: Rc<dyn CogroupInput<K, A>> = Rc::new(Input {
            grouped: handle(grouped, repartition),
            aggregator: Arc::new(aggregator),
        });
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
        self.aggregate_per_key(Arc::new(initializer), None, materialized)
    }

    /// [`aggregate_with`](Self::aggregate_with), naming the processors
    /// `<named>-cogroup-agg-<n>` and `<named>-cogroup-merge`.
    pub fn aggregate_named(
        &self,
        initializer: impl Fn() -> A + Send + Sync + 'static,
        named: Named,
        materialized: Materialized<K, A>,
    ) -> KTable<K, A> {
        self.aggregate_per_key(Arc::new(initializer), Some(&named), materialized)
    }

    /// Aggregates per window: time, sliding or session windows.
    pub fn windowed_by<W: CogroupWindowedBy<K, A>>(&self, windows: W) -> W::Stream {
        windows.windowed(self.clone())
    }

    fn aggregate_per_key(
        &self,
        initializer: Initializer<A>,
        named: Option<&Named>,
        materialized: Materialized<K, A>,
    ) -> KTable<K, A> {
        let store = self.store_name(&materialized);
        let store_builder = table_store(
            &store,
            materialized.key_serde().clone(),
            materialized.value_serde().clone(),
            &materialized,
        );
        let (merge, table, _) = self.build::<K>(
            initializer,
            named,
            &store,
            &Aggregation::PerKey,
            store_builder,
        );
        let serdes = TableSerdes::new(
            materialized.key_serde().clone(),
            materialized.value_serde().clone(),
        );
        KTable::from_node(
            self.builder.clone(),
            merge,
            materialized.name,
            table,
            serdes,
        )
    }

    /// The store `materialized` names, or a name generated as Kafka's
    /// `MaterializedInternal` generates it.
    fn store_name<KS, VS>(&self, materialized: &Materialized<KS, VS>) -> String {
        match &materialized.name {
            Some(name) => name.clone(),
            None => self.builder.new_store_name(AGGREGATE_NAME),
        }
    }

    /// The aggregate per key and window of `windows` over all inputs, each
    /// input folding into `aggregation`: the windowed cogroups' one way of
    /// building.
    fn aggregate_windows<W: AggregationWindows>(
        &self,
        windows: W,
        aggregation: Aggregation<K, A>,
        initializer: Initializer<A>,
        named: Option<&Named>,
        materialized: Materialized<K, A>,
    ) -> KTable<Windowed<K>, A> {
        let store = self.store_name(&materialized);
        let store_builder = windows.store(
            &self.builder,
            &store,
            &materialized,
            EmitStrategy::OnWindowUpdate,
        );
        let (merge, table, aggregates) =
            self.build::<Windowed<K>>(initializer, named, &store, &aggregation, store_builder);
        let aggregates: Vec<&str> = aggregates.iter().map(String::as_str).collect();
        windows
            .table(materialized)
            .attach(&self.builder, merge, &aggregates, table)
    }

    /// Adds the repartition topics, the aggregate of each input (folding
    /// into `store` as `aggregation` says), the store and the merge in
    /// Kafka's order, so that indices and names match. Returns the merge
    /// node, the table node and the aggregate processors.
    fn build<KT: Clone + 'static>(
        &self,
        initializer: Initializer<A>,
        named: Option<&Named>,
        store: &str,
        aggregation: &Aggregation<K, A>,
        store_builder: impl StoreBuilder,
    ) -> (String, Rc<TableNode>, Vec<String>) {
        let builder = &self.builder;
        let parents: Vec<String> = self
            .inputs
            .iter()
            .map(|input| input.parent(store))
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
        let table = TableNode::new(TableKind::Stateful, Some(store.to_owned()), None);
        let view = table.processor_view();
        let mut aggregates = Vec::with_capacity(self.inputs.len());
        for (counter, (input, parent)) in self.inputs.iter().zip(&parents).enumerate() {
            let name = name_for(&format!("-cogroup-agg-{counter}"), AGGREGATE_NAME);
            input.add_aggregate(&name, parent, store, &initializer, aggregation, &view);
            aggregates.push(name);
        }
        let merge = name_for("-cogroup-merge", MERGE_NAME);
        let parents: Vec<&str> = aggregates.iter().map(String::as_str).collect();
        builder.with(|topology| {
            topology
                .add_state_store(store_builder, &parents)
                .add_processor::<KT, Change<A>, KT, Change<A>, _>(&merge, || PassThrough, &parents);
        });
        (merge, table, aggregates)
    }
}

/// A window specification [`CogroupedKStream::windowed_by`] accepts, and
/// the windowed cogroup it makes.
pub trait CogroupWindowedBy<K, A> {
    /// The windowed cogroup.
    type Stream;

    /// Windows `cogroup`.
    fn windowed(self, cogroup: CogroupedKStream<K, A>) -> Self::Stream;
}

impl<K, A> CogroupWindowedBy<K, A> for TimeWindows {
    type Stream = TimeWindowedCogroupedKStream<K, A>;

    fn windowed(self, cogroup: CogroupedKStream<K, A>) -> Self::Stream {
        TimeWindowedCogroupedKStream {
            cogroup,
            windows: TimeWindowing::Fixed(self),
        }
    }
}

impl<K, A> CogroupWindowedBy<K, A> for SlidingWindows {
    type Stream = TimeWindowedCogroupedKStream<K, A>;

    fn windowed(self, cogroup: CogroupedKStream<K, A>) -> Self::Stream {
        TimeWindowedCogroupedKStream {
            cogroup,
            windows: TimeWindowing::Sliding(self),
        }
    }
}

impl<K, A> CogroupWindowedBy<K, A> for SessionWindows {
    type Stream = SessionWindowedCogroupedKStream<K, A>;

    fn windowed(self, cogroup: CogroupedKStream<K, A>) -> Self::Stream {
        SessionWindowedCogroupedKStream {
            cogroup,
            windows: self,
        }
    }
}

/// A cogroup windowed by [`TimeWindows`] or [`SlidingWindows`]: one
/// aggregate per key and window over all inputs.
///
/// Each input folds its records into the windows they fall in, as a
/// [`TimeWindowedKStream`](crate::TimeWindowedKStream) does: updates carry
/// the largest timestamp in their window, and records for closed windows
/// are dropped.
///
/// ```
/// use std::time::Duration;
/// use streams_core::prelude::*;
/// use streams_dsl::{StreamsBuilder, TimeWindows};
///
/// let builder = StreamsBuilder::new();
/// let clicks = builder.stream::<String, i64>("clicks").group_by_key();
/// let views = builder.stream::<String, String>("views").group_by_key();
/// let windows = TimeWindows::of_size_with_no_grace(Duration::from_millis(10))?;
/// clicks
///     .cogroup(|_, clicks: i64, total: i64| total + clicks)
///     .cogroup(&views, |_, _view: String, total: i64| total + 1)
///     .windowed_by(windows)
///     .aggregate(|| 0)
///     .to_stream()
///     .map(|window, total| (window.to_string(), total))
///     .to("activity");
/// let driver = TopologyTestDriver::new(&builder.build()?)?;
/// let clicks = driver.create_input_topic("clicks", StringSerde, I64Serde);
/// let views = driver.create_input_topic("views", StringSerde, StringSerde);
/// let activity = driver.create_output_topic(
///     "activity",
///     StringSerde,
///     OptionSerde::new(std::sync::Arc::new(I64Serde)),
/// );
/// clicks.pipe_input_at("ann".into(), 5, 1)?;
/// views.pipe_input_at("ann".into(), "home".into(), 2)?;
/// views.pipe_input_at("ann".into(), "cart".into(), 12)?;
/// assert_eq!(
///     activity.read_key_values_to_list()?,
///     vec![
///         ("[ann@0/10]".to_owned(), Some(5)),
///         ("[ann@0/10]".to_owned(), Some(6)),
///         ("[ann@10/20]".to_owned(), Some(1)),
///     ]
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct TimeWindowedCogroupedKStream<K, A> {
    cogroup: CogroupedKStream<K, A>,
    windows: TimeWindowing,
}

impl<K: Clone + 'static, A: Clone + 'static> TimeWindowedCogroupedKStream<K, A> {
    /// The aggregate per key and window over all inputs, starting from
    /// `initializer()`, stored with the default serdes.
    pub fn aggregate(
        &self,
        initializer: impl Fn() -> A + Send + Sync + 'static,
    ) -> KTable<Windowed<K>, A>
    where
        A: DefaultSerde,
    {
        let materialized = Materialized::with(self.cogroup.key.clone(), A::default_serde());
        self.aggregate_with(initializer, materialized)
    }

    /// [`aggregate`](Self::aggregate), stored as `materialized` says.
    pub fn aggregate_with(
        &self,
        initializer: impl Fn() -> A + Send + Sync + 'static,
        materialized: Materialized<K, A>,
    ) -> KTable<Windowed<K>, A> {
        self.aggregate_windows(Arc::new(initializer), None, materialized)
    }

    /// [`aggregate_with`](Self::aggregate_with), naming the processors
    /// `<named>-cogroup-agg-<n>` and `<named>-cogroup-merge`.
    pub fn aggregate_named(
        &self,
        initializer: impl Fn() -> A + Send + Sync + 'static,
        named: Named,
        materialized: Materialized<K, A>,
    ) -> KTable<Windowed<K>, A> {
        self.aggregate_windows(Arc::new(initializer), Some(&named), materialized)
    }

    fn aggregate_windows(
        &self,
        initializer: Initializer<A>,
        named: Option<&Named>,
        materialized: Materialized<K, A>,
    ) -> KTable<Windowed<K>, A> {
        self.cogroup.aggregate_windows(
            self.windows,
            Aggregation::Windows(self.windows),
            initializer,
            named,
            materialized,
        )
    }
}

/// A cogroup windowed by [`SessionWindows`]: one aggregate per key and
/// session over all inputs.
///
/// A record within the inactivity gap of sessions merges them with
/// `merger`, as a [`SessionWindowedKStream`](crate::SessionWindowedKStream)
/// does: the merged sessions are deleted (a tombstone each) and the new
/// session is emitted.
pub struct SessionWindowedCogroupedKStream<K, A> {
    cogroup: CogroupedKStream<K, A>,
    windows: SessionWindows,
}

impl<K: Clone + 'static, A: Clone + 'static> SessionWindowedCogroupedKStream<K, A> {
    /// The aggregate per key and session over all inputs, starting from
    /// `initializer()`; `merger` combines the aggregates of sessions a
    /// record bridges. Stored with the default serdes.
    pub fn aggregate(
        &self,
        initializer: impl Fn() -> A + Send + Sync + 'static,
        merger: impl Fn(&K, A, A) -> A + Send + Sync + 'static,
    ) -> KTable<Windowed<K>, A>
    where
        A: DefaultSerde,
    {
        let materialized = Materialized::with(self.cogroup.key.clone(), A::default_serde());
        self.aggregate_with(initializer, merger, materialized)
    }

    /// [`aggregate`](Self::aggregate), stored as `materialized` says.
    pub fn aggregate_with(
        &self,
        initializer: impl Fn() -> A + Send + Sync + 'static,
        merger: impl Fn(&K, A, A) -> A + Send + Sync + 'static,
        materialized: Materialized<K, A>,
    ) -> KTable<Windowed<K>, A> {
        self.aggregate_sessions(Arc::new(initializer), Arc::new(merger), None, materialized)
    }

    /// [`aggregate_with`](Self::aggregate_with), naming the processors
    /// `<named>-cogroup-agg-<n>` and `<named>-cogroup-merge`.
    pub fn aggregate_named(
        &self,
        initializer: impl Fn() -> A + Send + Sync + 'static,
        merger: impl Fn(&K, A, A) -> A + Send + Sync + 'static,
        named: Named,
        materialized: Materialized<K, A>,
    ) -> KTable<Windowed<K>, A> {
        self.aggregate_sessions(
            Arc::new(initializer),
            Arc::new(merger),
            Some(&named),
            materialized,
        )
    }

    fn aggregate_sessions(
        &self,
        initializer: Initializer<A>,
        merger: Merger<K, A>,
        named: Option<&Named>,
        materialized: Materialized<K, A>,
    ) -> KTable<Windowed<K>, A> {
        self.cogroup.aggregate_windows(
            self.windows,
            Aggregation::Sessions(self.windows, merger),
            initializer,
            named,
            materialized,
        )
    }
}
