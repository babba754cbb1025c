//! Windowed grouped streams: `KGroupedStream::windowed_by` and the
//! `count`, `reduce` and `aggregate` of [`TimeWindowedKStream`] (time and
//! sliding windows) and [`SessionWindowedKStream`], each producing a
//! `KTable<Windowed<K>, _>`, as Kafka's `TimeWindowedKStreamImpl`,
//! `SlidingWindowedKStreamImpl` and `SessionWindowedKStreamImpl`.

use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use streams_core::serde::{DefaultSerde, I64Serde};
use streams_core::state::{
    SessionStore, SessionStoreBuilder, StoreBuilder, StoreOptions, Stores, ValueAndTimestamp,
    WindowStoreBuilder,
};
use streams_core::{TopologyError, Windowed};

use crate::builder::Builder;
use crate::config::{Grouped, Materialized};
use crate::emit_strategy::EmitStrategy;
use crate::grouped::KGroupedStream;
use crate::ktable::KTable;
use crate::nulls::SkipNulls;
use crate::processors::{
    AggregateWindowStore, Aggregator, ObservedStreamTime, SessionAggregate, SessionAggregator,
    SlidingAggregate, WindowAggregate,
};
use crate::row_lookup::RowLookup;
use crate::table_node::{NodeView, TableKind, TableNode};
use crate::table_source::TableSerdes;
use crate::windowed_serde::WindowedSerde;
use crate::windows::{SessionWindows, SlidingWindows, TimeWindows};

const AGGREGATE: &str = "KSTREAM-AGGREGATE-";
const REDUCE: &str = "KSTREAM-REDUCE-";

/// A window specification `KGroupedStream::windowed_by` accepts, and the
/// windowed stream it makes.
pub trait WindowedBy<K, V> {
    /// The windowed stream.
    type Stream;

    /// Windows `grouped`.
    fn windowed(self, grouped: &KGroupedStream<K, V>) -> Self::Stream;
}

impl<K: Clone + 'static, V: Clone + 'static> KGroupedStream<K, V> {
    /// Aggregates per window: time, sliding or session windows.
    pub fn windowed_by<W: WindowedBy<K, V>>(&self, windows: W) -> W::Stream {
        windows.windowed(self)
    }

    /// A copy of the grouping, for a windowed stream to aggregate from.
    fn regrouped(&self) -> KGroupedStream<K, V> {
        let mut grouped = Grouped::with(self.grouped.key.clone(), self.grouped.value.clone());
        grouped.name = self.grouped.name.clone();
        KGroupedStream::new(
            self.builder.clone(),
            self.node.clone(),
            self.repartition_required,
            grouped,
        )
    }
}

/// The windows an aggregation folds values into - time windows (fixed or
/// sliding) or sessions: how the aggregation's store, processor and table
/// are made. [`windowed_aggregation`] builds every windowed aggregation of
/// a grouped stream from these parts, and the windowed cogroups build
/// theirs from the same ones.
pub(crate) trait AggregationWindows: Copy + 'static {
    /// What folds a key's values into one of these windows.
    type Aggregator<K: 'static, V: 'static, A: 'static>;
    /// The builder of the store the aggregates are kept in.
    type Store<K: 'static, A: 'static>: StoreBuilder;

    /// The store `store` that an aggregation over these windows, emitting
    /// as `emit` says, keeps its aggregates in.
    fn store<K: 'static, A: 'static>(
        self,
        builder: &Builder,
        store: &str,
        materialized: &Materialized<K, A>,
        emit: EmitStrategy,
    ) -> Self::Store<K, A>;

    /// The table of an aggregation over these windows.
    fn table<K: 'static, A: 'static>(self, materialized: Materialized<K, A>)
        -> WindowedTable<K, A>;

    /// Adds the processor `name`, reading `parent`, that folds the values
    /// of `grouped` into the windows of `store` with `aggregator`. `view`
    /// shows the table it updates, emitting as `emit` says.
    #[expect(
        clippy::too_many_arguments,
        reason = "each builder of a windowed aggregation names every part"
    )]
    fn add_processor<K, V, A>(
        self,
        grouped: &KGroupedStream<K, V>,
        name: &str,
        parent: &str,
        store: &str,
        aggregator: Self::Aggregator<K, V, A>,
        view: NodeView,
        emit: EmitStrategy,
    ) where
        K: Clone + 'static,
        V: Clone + 'static,
        A: Clone + 'static;
}

/// The aggregation of `grouped` over `windows` that `aggregator` folds,
/// emitting as `emit` says: its processor is named after `prefix` (see
/// [`store_and_processor_names`]), its store and table as `materialized`
/// says.
fn windowed_aggregation<W, K, V, A>(
    grouped: &KGroupedStream<K, V>,
    windows: W,
    emit: EmitStrategy,
    prefix: &str,
    burn_store_index: bool,
    aggregator: W::Aggregator<K, V, A>,
    materialized: Materialized<K, A>,
) -> KTable<Windowed<K>, A>
where
    W: AggregationWindows,
    K: Clone + 'static,
    V: Clone + 'static,
    A: Clone + 'static,
{
    // Kafka fills in the grouping's key serde where none was given.
    let materialized = materialized.inheriting(Some(&grouped.grouped.key), None);
    let builder = &grouped.builder;
    let (store, name) = store_and_processor_names(builder, prefix, &materialized, burn_store_index);
    let parent = grouped.aggregation_parent(&store);
    let store_builder = windows.store(builder, &store, &materialized, emit);
    let table = TableNode::new(TableKind::Stateful, Some(store.clone()), None);
    windows.add_processor(
        grouped,
        &name,
        &parent,
        &store,
        aggregator,
        table.processor_view(),
        emit,
    );
    aggregation_table(
        builder,
        name,
        store_builder,
        table,
        windows.table(materialized),
    )
}

/// Time-based windows over which a [`TimeWindowedKStream`] (or a windowed
/// cogroup) aggregates.
#[derive(Debug, Clone, Copy)]
pub(crate) enum TimeWindowing {
    Fixed(TimeWindows),
    Sliding(SlidingWindows),
}

impl TimeWindowing {
    /// The length of the windows in the store.
    fn size_ms(&self) -> i64 {
        match self {
            Self::Fixed(windows) => windows.size_ms(),
            Self::Sliding(windows) => windows.time_difference_ms(),
        }
    }

    fn grace_ms(&self) -> i64 {
        match self {
            Self::Fixed(windows) => windows.grace_ms(),
            Self::Sliding(windows) => windows.grace_ms(),
        }
    }

    /// Kafka's default store retention: as long as a window can change;
    /// sliding windows also need the windows a new record's neighbours
    /// live in, up to two time differences back.
    fn retention_ms(&self) -> i64 {
        match self {
            Self::Fixed(windows) => windows.size_ms().saturating_add(windows.grace_ms()),
            Self::Sliding(windows) => windows
                .time_difference_ms()
                .saturating_mul(2)
                .saturating_add(windows.grace_ms()),
        }
    }
}

impl AggregationWindows for TimeWindowing {
    type Aggregator<K: 'static, V: 'static, A: 'static> = Aggregator<K, V, A>;
    type Store<K: 'static, A: 'static> = WindowStoreBuilder<K, ValueAndTimestamp<A>>;

    fn store<K: 'static, A: 'static>(
        self,
        builder: &Builder,
        store: &str,
        materialized: &Materialized<K, A>,
        emit: EmitStrategy,
    ) -> Self::Store<K, A> {
        let store = Stores::timestamped_window_store_builder_with(
            store,
            store_retention(builder, store, self.retention_ms(), materialized),
            duration(self.size_ms()),
            false,
            materialized.key_serde().clone(),
            materialized.value_serde().clone(),
        )
        .with_options(store_options(materialized, emit));
        for_emit(store, emit, WindowStoreBuilder::with_inclusive_retention)
    }

    fn table<K: 'static, A: 'static>(
        self,
        materialized: Materialized<K, A>,
    ) -> WindowedTable<K, A> {
        WindowedTable {
            queryable: materialized.name.clone(),
            store_rows: RowLookup::kept_in::<AggregateWindowStore<K, A>>,
            serdes: TableSerdes::new(
                Arc::new(WindowedSerde::time_windowed(
                    materialized.key_serde().clone(),
                    self.size_ms(),
                )),
                materialized.value_serde().clone(),
            ),
            close_delay_ms: self.grace_ms(),
        }
    }

    fn add_processor<K, V, A>(
        self,
        grouped: &KGroupedStream<K, V>,
        name: &str,
        parent: &str,
        store: &str,
        aggregator: Aggregator<K, V, A>,
        view: NodeView,
        emit: EmitStrategy,
    ) where
        K: Clone + 'static,
        V: Clone + 'static,
        A: Clone + 'static,
    {
        let store_name = store.to_owned();
        // Kafka's time windows aggregate null values; sliding windows skip
        // them (`KStreamWindowAggregate`, `KStreamSlidingWindowAggregate`).
        grouped.builder.with(|topology| match self {
            Self::Fixed(windows) => {
                let nulls = SkipNulls::keys(grouped.grouped.key.clone());
                topology.add_processor(
                    name,
                    move || WindowAggregate {
                        store_name: store_name.clone(),
                        nulls: nulls.clone(),
                        windows,
                        aggregator: aggregator.clone(),
                        view: view.clone(),
                        emit,
                        table: None,
                        stream_time: ObservedStreamTime::default(),
                    },
                    &[parent],
                );
            }
            Self::Sliding(windows) => {
                let nulls = grouped.skip_nulls();
                topology.add_processor(
                    name,
                    move || SlidingAggregate {
                        store_name: store_name.clone(),
                        nulls: nulls.clone(),
                        windows,
                        aggregator: aggregator.clone(),
                        view: view.clone(),
                        emit,
                        table: None,
                        stream_time: ObservedStreamTime::default(),
                    },
                    &[parent],
                );
            }
        });
    }
}

/// How session aggregations (of a grouped stream or a cogroup) are built,
/// as [`TimeWindowing`] builds the time-windowed ones.
impl SessionWindows {
    /// How long a session can change after its end: until stream time
    /// passes it by gap plus grace. The store keeps it that long (Kafka's
    /// default).
    fn close_delay_ms(self) -> i64 {
        self.inactivity_gap_ms().saturating_add(self.grace_ms())
    }
}

impl AggregationWindows for SessionWindows {
    type Aggregator<K: 'static, V: 'static, A: 'static> = SessionAggregator<K, V, A>;
    type Store<K: 'static, A: 'static> = SessionStoreBuilder<K, A>;

    fn store<K: 'static, A: 'static>(
        self,
        builder: &Builder,
        store: &str,
        materialized: &Materialized<K, A>,
        emit: EmitStrategy,
    ) -> Self::Store<K, A> {
        let store = Stores::session_store_builder_with(
            store,
            store_retention(builder, store, self.close_delay_ms(), materialized),
            materialized.key_serde().clone(),
            materialized.value_serde().clone(),
        )
        .with_options(store_options(materialized, emit));
        for_emit(store, emit, SessionStoreBuilder::with_inclusive_retention)
    }

    fn table<K: 'static, A: 'static>(
        self,
        materialized: Materialized<K, A>,
    ) -> WindowedTable<K, A> {
        WindowedTable {
            queryable: materialized.name.clone(),
            store_rows: RowLookup::kept_in::<SessionStore<K, A>>,
            serdes: TableSerdes::new(
                Arc::new(WindowedSerde::session_windowed(
                    materialized.key_serde().clone(),
                )),
                materialized.value_serde().clone(),
            ),
            close_delay_ms: self.close_delay_ms(),
        }
    }

    fn add_processor<K, V, A>(
        self,
        grouped: &KGroupedStream<K, V>,
        name: &str,
        parent: &str,
        store: &str,
        aggregator: SessionAggregator<K, V, A>,
        view: NodeView,
        emit: EmitStrategy,
    ) where
        K: Clone + 'static,
        V: Clone + 'static,
        A: Clone + 'static,
    {
        let store_name = store.to_owned();
        // Kafka's sessions aggregate null values (`KStreamSessionWindowAggregate`).
        let nulls = SkipNulls::keys(grouped.grouped.key.clone());
        grouped.builder.with(|topology| {
            topology.add_processor(
                name,
                move || SessionAggregate {
                    store_name: store_name.clone(),
                    nulls: nulls.clone(),
                    windows: self,
                    aggregator: aggregator.clone(),
                    view: view.clone(),
                    send_old_values: false,
                    emit,
                    store: None,
                    cache: None,
                    final_results: None,
                    stream_time: ObservedStreamTime::default(),
                },
                &[parent],
            );
        });
    }
}

impl<K: Clone + 'static, V: Clone + 'static> WindowedBy<K, V> for TimeWindows {
    type Stream = TimeWindowedKStream<K, V>;

    fn windowed(self, grouped: &KGroupedStream<K, V>) -> TimeWindowedKStream<K, V> {
        TimeWindowedKStream {
            grouped: grouped.regrouped(),
            windows: TimeWindowing::Fixed(self),
            emit: EmitStrategy::default(),
        }
    }
}

impl<K: Clone + 'static, V: Clone + 'static> WindowedBy<K, V> for SlidingWindows {
    type Stream = TimeWindowedKStream<K, V>;

    fn windowed(self, grouped: &KGroupedStream<K, V>) -> TimeWindowedKStream<K, V> {
        TimeWindowedKStream {
            grouped: grouped.regrouped(),
            windows: TimeWindowing::Sliding(self),
            emit: EmitStrategy::default(),
        }
    }
}

impl<K: Clone + 'static, V: Clone + 'static> WindowedBy<K, V> for SessionWindows {
    type Stream = SessionWindowedKStream<K, V>;

    fn windowed(self, grouped: &KGroupedStream<K, V>) -> SessionWindowedKStream<K, V> {
        SessionWindowedKStream {
            grouped: grouped.regrouped(),
            windows: self,
            emit: EmitStrategy::default(),
        }
    }
}

/// Names the store, burning an index first where Kafka does (`count` with
/// an unnamed `Materialized` on time and session windows), then the
/// processor, in Kafka's order.
fn store_and_processor_names<K, A>(
    builder: &Builder,
    prefix: &str,
    materialized: &Materialized<K, A>,
    burn_store_index: bool,
) -> (String, String) {
    if burn_store_index && materialized.name.is_none() {
        builder.new_store_name(prefix);
    }
    let store = match &materialized.name {
        Some(name) => name.clone(),
        None => builder.new_store_name(prefix),
    };
    (store, builder.new_name(prefix))
}

/// The table a windowed aggregation makes.
pub(crate) struct WindowedTable<K, A> {
    serdes: TableSerdes<Windowed<K>, A>,
    /// The store name `Materialized` gave, if any: only a named store is
    /// queryable (Kafka's `queryableStoreName`).
    queryable: Option<String>,
    /// How joins read its window or session store.
    store_rows: fn(String) -> RowLookup<Windowed<K>, A>,
    /// How long after their end its windows may still change.
    close_delay_ms: i64,
}

impl<K: Clone + 'static, A: Clone + 'static> WindowedTable<K, A> {
    /// The table whose rows `node` forwards, as the windowed aggregation
    /// processors `aggregates` (already added) update them.
    pub(crate) fn attach(
        self,
        builder: &Builder,
        node: String,
        aggregates: &[&str],
        table: Rc<TableNode>,
    ) -> KTable<Windowed<K>, A> {
        for aggregate in aggregates {
            builder.windows_close_after(aggregate, self.close_delay_ms);
        }
        KTable::from_node(builder.clone(), node, self.queryable, table, self.serdes)
            .with_store_rows(self.store_rows)
    }
}

/// Connects `store` to the windowed aggregation processor `name` (already
/// added) and returns the processor's table.
fn aggregation_table<K: Clone + 'static, A: Clone + 'static>(
    builder: &Builder,
    name: String,
    store: impl StoreBuilder,
    table: Rc<TableNode>,
    output: WindowedTable<K, A>,
) -> KTable<Windowed<K>, A> {
    builder.with(|topology| {
        topology.add_state_store(store, &[&name]);
    });
    let aggregate = name.clone();
    output.attach(builder, name, &[&aggregate], table)
}

fn duration(ms: i64) -> Duration {
    Duration::from_millis(u64::try_from(ms).unwrap_or(0))
}

/// How long a windowed store keeps windows: `materialized`'s retention if
/// given, else `minimum_ms` (as long as a window can still change). A
/// retention below that minimum would lose windows that are still open, so
/// it fails the build, as in Kafka Streams.
fn store_retention<K, A>(
    builder: &Builder,
    store: &str,
    minimum_ms: i64,
    materialized: &Materialized<K, A>,
) -> Duration {
    let minimum = duration(minimum_ms);
    match materialized.retention {
        Some(retention) if retention < minimum => {
            builder.fail(TopologyError::RetentionTooShort {
                store: store.to_owned(),
                retention_ms: i64::try_from(retention.as_millis()).unwrap_or(i64::MAX),
                minimum_ms,
            });
            minimum
        }
        Some(retention) => retention,
        None => minimum,
    }
}

/// `store`, made by `inclusive` to keep the entry at its retention
/// boundary when it serves final results: Kafka's final results come from
/// a time-ordered store, which keeps a window or session ending exactly at
/// close time (the processor accepts it) until it is emitted, and whose
/// retention joins reading the store see too.
fn for_emit<S>(store: S, emit: EmitStrategy, inclusive: fn(S) -> S) -> S {
    match emit {
        EmitStrategy::OnWindowUpdate => store,
        EmitStrategy::OnWindowClose => inclusive(store),
    }
}

/// The store options `materialized` asks for, without a cache when the
/// aggregation emits final results: those are read back from the store,
/// and nothing is forwarded when a cache flushes.
fn store_options<K, A>(materialized: &Materialized<K, A>, emit: EmitStrategy) -> StoreOptions {
    match emit {
        EmitStrategy::OnWindowUpdate => materialized.options.clone(),
        EmitStrategy::OnWindowClose => materialized.options.clone().with_caching(0),
    }
}

/// A grouped stream windowed by [`TimeWindows`] or [`SlidingWindows`]:
/// aggregations produce one row per key and window.
///
/// Each update is emitted with the largest timestamp in its window; records
/// for windows that closed (end plus grace before stream time) are dropped
/// and counted in `dropped_records`.
pub struct TimeWindowedKStream<K, V> {
    grouped: KGroupedStream<K, V>,
    windows: TimeWindowing,
    emit: EmitStrategy,
}

impl<K: Clone + 'static, V: Clone + 'static> TimeWindowedKStream<K, V> {
    /// Emits as `emit` says: every update (the default) or each window's
    /// final result once it closes (see [`EmitStrategy`]). Applies to the
    /// aggregations built after it.
    pub fn emit_strategy(mut self, emit: EmitStrategy) -> Self {
        self.emit = emit;
        self
    }

    /// The number of records per key and window.
    pub fn count(&self) -> KTable<Windowed<K>, i64> {
        self.aggregate_into(
            AGGREGATE,
            false,
            Aggregator::counting(),
            Materialized::with(self.grouped.grouped.key.clone(), Arc::new(I64Serde)),
        )
    }

    /// [`count`](Self::count), stored as `materialized` says.
    pub fn count_with(&self, materialized: Materialized<K, i64>) -> KTable<Windowed<K>, i64> {
        // Kafka burns a store index here for time windows, not for sliding.
        let burn = matches!(self.windows, TimeWindowing::Fixed(_));
        self.aggregate_into(AGGREGATE, burn, Aggregator::counting(), materialized)
    }

    /// Combines the values of each key and window with `reducer`.
    pub fn reduce(
        &self,
        reducer: impl Fn(V, V) -> V + Send + Sync + 'static,
    ) -> KTable<Windowed<K>, V> {
        self.reduce_with(
            reducer,
            Materialized::with(
                self.grouped.grouped.key.clone(),
                self.grouped.grouped.value.clone(),
            ),
        )
    }

    /// [`reduce`](Self::reduce), stored as `materialized` says.
    pub fn reduce_with(
        &self,
        reducer: impl Fn(V, V) -> V + Send + Sync + 'static,
        materialized: Materialized<K, V>,
    ) -> KTable<Windowed<K>, V> {
        let materialized = self.grouped.reduced_into(materialized);
        self.aggregate_into(REDUCE, false, Aggregator::reducing(reducer), materialized)
    }

    /// Folds the values of each key and window into an aggregate that
    /// starts as `initializer()`.
    pub fn aggregate<A: DefaultSerde + Clone>(
        &self,
        initializer: impl Fn() -> A + Send + Sync + 'static,
        aggregator: impl Fn(&K, V, A) -> A + Send + Sync + 'static,
    ) -> KTable<Windowed<K>, A> {
        self.aggregate_with(
            initializer,
            aggregator,
            Materialized::with(self.grouped.grouped.key.clone(), A::default_serde()),
        )
    }

    /// [`aggregate`](Self::aggregate), stored as `materialized` says.
    pub fn aggregate_with<A: Clone + 'static>(
        &self,
        initializer: impl Fn() -> A + Send + Sync + 'static,
        aggregator: impl Fn(&K, V, A) -> A + Send + Sync + 'static,
        materialized: Materialized<K, A>,
    ) -> KTable<Windowed<K>, A> {
        self.aggregate_into(
            AGGREGATE,
            false,
            Aggregator::folding(initializer, aggregator),
            materialized,
        )
    }

    fn aggregate_into<A: Clone + 'static>(
        &self,
        prefix: &str,
        burn_store_index: bool,
        aggregator: Aggregator<K, V, A>,
        materialized: Materialized<K, A>,
    ) -> KTable<Windowed<K>, A> {
        windowed_aggregation(
            &self.grouped,
            self.windows,
            self.emit,
            prefix,
            burn_store_index,
            aggregator,
            materialized,
        )
    }
}

/// A grouped stream windowed by [`SessionWindows`]: aggregations produce
/// one row per key and session.
///
/// A record within the inactivity gap of sessions merges them into one:
/// the merged sessions are deleted (a tombstone is emitted for each) and
/// the new session is emitted, stamped with its end.
pub struct SessionWindowedKStream<K, V> {
    grouped: KGroupedStream<K, V>,
    windows: SessionWindows,
    emit: EmitStrategy,
}

impl<K: Clone + 'static, V: Clone + 'static> SessionWindowedKStream<K, V> {
    /// Emits as `emit` says: every update (the default) or each session's
    /// final result once it closes (see [`EmitStrategy`]). Applies to the
    /// aggregations built after it.
    pub fn emit_strategy(mut self, emit: EmitStrategy) -> Self {
        self.emit = emit;
        self
    }

    /// The number of records per key and session.
    pub fn count(&self) -> KTable<Windowed<K>, i64> {
        self.count_into(
            Materialized::with(self.grouped.grouped.key.clone(), Arc::new(I64Serde)),
            false,
        )
    }

    /// [`count`](Self::count), stored as `materialized` says.
    pub fn count_with(&self, materialized: Materialized<K, i64>) -> KTable<Windowed<K>, i64> {
        self.count_into(materialized, true)
    }

    fn count_into(
        &self,
        materialized: Materialized<K, i64>,
        burn: bool,
    ) -> KTable<Windowed<K>, i64> {
        self.aggregate_into(
            AGGREGATE,
            burn,
            SessionAggregator {
                initial: Arc::new(|| Some(0)),
                aggregator: Aggregator::counting(),
                merger: Arc::new(|_, a: i64, b| a.wrapping_add(b)),
            },
            materialized,
        )
    }

    /// Combines the values of each session with `reducer` (which also
    /// merges sessions).
    pub fn reduce(
        &self,
        reducer: impl Fn(V, V) -> V + Send + Sync + 'static,
    ) -> KTable<Windowed<K>, V> {
        self.reduce_with(
            reducer,
            Materialized::with(
                self.grouped.grouped.key.clone(),
                self.grouped.grouped.value.clone(),
            ),
        )
    }

    /// [`reduce`](Self::reduce), stored as `materialized` says.
    pub fn reduce_with(
        &self,
        reducer: impl Fn(V, V) -> V + Send + Sync + 'static,
        materialized: Materialized<K, V>,
    ) -> KTable<Windowed<K>, V> {
        let materialized = self.grouped.reduced_into(materialized);
        let reducer = Arc::new(reducer);
        let merge = reducer.clone();
        self.aggregate_into(
            REDUCE,
            false,
            SessionAggregator {
                initial: Arc::new(|| None),
                aggregator: Aggregator::reducing(move |a, b| reducer(a, b)),
                merger: Arc::new(move |_, a, b| merge(a, b)),
            },
            materialized,
        )
    }

    /// Folds the values of each session into an aggregate that starts as
    /// `initializer()`; `merger` combines the aggregates of sessions a
    /// record bridges.
    pub fn aggregate<A: DefaultSerde + Clone>(
        &self,
        initializer: impl Fn() -> A + Send + Sync + 'static,
        aggregator: impl Fn(&K, V, A) -> A + Send + Sync + 'static,
        merger: impl Fn(&K, A, A) -> A + Send + Sync + 'static,
    ) -> KTable<Windowed<K>, A> {
        self.aggregate_with(
            initializer,
            aggregator,
            merger,
            Materialized::with(self.grouped.grouped.key.clone(), A::default_serde()),
        )
    }

    /// [`aggregate`](Self::aggregate), stored as `materialized` says.
    pub fn aggregate_with<A: Clone + 'static>(
        &self,
        initializer: impl Fn() -> A + Send + Sync + 'static,
        aggregator: impl Fn(&K, V, A) -> A + Send + Sync + 'static,
        merger: impl Fn(&K, A, A) -> A + Send + Sync + 'static,
        materialized: Materialized<K, A>,
    ) -> KTable<Windowed<K>, A> {
        let initializer = Arc::new(initializer);
        let initial = initializer.clone();
        self.aggregate_into(
            AGGREGATE,
            false,
            SessionAggregator {
                initial: Arc::new(move || Some(initial())),
                aggregator: Aggregator::folding(move || initializer(), aggregator),
                merger: Arc::new(merger),
            },
            materialized,
        )
    }

    fn aggregate_into<A: Clone + 'static>(
        &self,
        prefix: &str,
        burn_store_index: bool,
        aggregator: SessionAggregator<K, V, A>,
        materialized: Materialized<K, A>,
    ) -> KTable<Windowed<K>, A> {
        windowed_aggregation(
            &self.grouped,
            self.windows,
            self.emit,
            prefix,
            burn_store_index,
            aggregator,
            materialized,
        )
    }
}
