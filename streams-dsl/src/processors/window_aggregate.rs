//! Aggregation of a grouped stream into time windows (Kafka's
//! `KStreamWindowAggregate`): tumbling and hopping windows.

use streams_core::prelude::*;
use streams_core::state::{ValueAndTimestamp, WindowStore};
use streams_core::{Window, Windowed};

use super::aggregate::Aggregator;
use super::final_results::{emit_windows, FinalResults};
use super::stream_time::ObservedStreamTime;
use super::{flush_cache, TableCache};
use crate::emit_strategy::EmitStrategy;
use crate::ktable::Change;
use crate::nulls::SkipNulls;
use crate::table_node::NodeView;
use crate::windows::TimeWindows;

/// A window store of aggregates with the largest timestamp that
/// contributed to each (Kafka's `TimestampedWindowStore`).
pub(crate) type AggregateWindowStore<K, A> = WindowStore<K, ValueAndTimestamp<A>>;

/// Folds a record into a window's aggregate in the store and forwards the
/// window's change, stamped with the largest timestamp in the window; with
/// a cached store, only what the cache wrote through goes downstream now
/// (the rest at the next commit); with final results only, nothing.
///
/// Shared by the time-window and sliding-window processors; `current` is
/// the window's aggregate before the record (`None`: an empty window).
pub(crate) fn update_window<K, V, A>(
    ctx: &mut ProcessorContext<'_, Windowed<K>, Change<A>>,
    table: &WindowTable<K, A>,
    aggregator: &Aggregator<K, V, A>,
    window: Window,
    current: Option<ValueAndTimestamp<A>>,
    record: &Record<K, V>,
) -> Result<(), StreamsError>
where
    K: Clone + 'static,
    V: Clone + 'static,
    A: Clone + 'static,
{
    let key = &record.key;
    let value = record.value.clone();
    let (new, timestamp, old) = match current {
        None => (
            (aggregator.first)(key, value),
            record.timestamp,
            aggregator.initial(),
        ),
        Some(ValueAndTimestamp {
            value: old,
            timestamp,
        }) => (
            (aggregator.next)(key, value, old.clone()),
            record.timestamp.max(timestamp),
            Some(old),
        ),
    };
    table.store.put(
        key,
        &ValueAndTimestamp {
            value: new.clone(),
            timestamp,
        },
        window.start,
    )?;
    table.forward_update(ctx, || Record {
        key: Windowed::new(key.clone(), window),
        value: Change {
            new: Some(new),
            old: old.filter(|_| table.send_old_values),
        },
        timestamp,
        headers: record.headers.clone(),
    })
}

/// The cache of a windowed aggregation's store.
pub(crate) type AggregateWindowCache<K, A> = TableCache<Windowed<K>, A>;

/// A windowed aggregation's table as its processor updates it: the store,
/// its cache if it has one, whether the table sends old values, and, when
/// it emits final results only, when it last did.
pub(crate) struct WindowTable<K, A> {
    pub(crate) store: AggregateWindowStore<K, A>,
    pub(crate) cache: Option<AggregateWindowCache<K, A>>,
    pub(crate) send_old_values: bool,
    pub(crate) final_results: Option<FinalResults>,
}

impl<K: Clone + 'static, A: Clone + 'static> WindowTable<K, A> {
    /// Opens the store `name` for the table whose node `view` shows,
    /// emitting as `emit` says.
    pub(crate) fn open(
        ctx: &mut ProcessorContext<'_, Windowed<K>, Change<A>>,
        name: &str,
        view: &NodeView,
        emit: EmitStrategy,
    ) -> Result<Self, StreamsError> {
        let store: AggregateWindowStore<K, A> = ctx.state_store(name)?;
        let send_old_values = view.send_old_values();
        let final_results = FinalResults::of(emit, ctx, name);
        // Final results are read back from the store: its cache (if any)
        // forwards nothing on flush.
        let cache = match final_results {
            Some(_) => None,
            None => TableCache::from_flushes(store.cache_flushes(send_old_values)?),
        };
        Ok(Self {
            store,
            cache,
            send_old_values,
            final_results,
        })
    }

    /// Sends the update `update` makes downstream: now, through the cache
    /// (only what it evicts goes now), or not at all when the table emits
    /// final results.
    pub(crate) fn forward_update(
        &self,
        ctx: &mut ProcessorContext<'_, Windowed<K>, Change<A>>,
        update: impl FnOnce() -> Record<Windowed<K>, Change<A>>,
    ) -> Result<(), StreamsError> {
        if self.final_results.is_some() {
            return Ok(());
        }
        if let Some(cache) = &self.cache {
            return cache.forward_evicted(ctx);
        }
        ctx.forward(update())
    }

    /// Emits the windows starting in the range `bounds` returns, if the
    /// table emits final results and they are due at `close_time` (see
    /// [`FinalResults::emit_if_due`]).
    pub(crate) fn emit_final_results(
        &mut self,
        ctx: &mut ProcessorContext<'_, Windowed<K>, Change<A>>,
        close_time: i64,
        bounds: impl FnOnce(Option<i64>) -> Option<(i64, i64)>,
        headers: &Headers,
    ) -> Result<(), StreamsError> {
        let Some(final_results) = &mut self.final_results else {
            return Ok(());
        };
        let store = &self.store;
        final_results.emit_if_due(ctx, close_time, bounds, |ctx, range| {
            emit_windows(ctx, store, range, headers)
        })
    }
}

/// Counts a record dropped because its window closed, as Kafka's
/// "Skipping record for expired window".
pub(crate) fn drop_expired(
    ctx: &mut ProcessorContext<'_, impl Sized, impl Sized>,
    window: &str,
    close_time: i64,
) {
    ctx.record_dropped(&format!(
        "skipping record for expired window {window}: window close time {close_time}"
    ));
}

/// Aggregates each record into every time window containing it.
pub(crate) struct WindowAggregate<K, V, A> {
    pub(crate) store_name: String,
    pub(crate) windows: TimeWindows,
    pub(crate) aggregator: Aggregator<K, V, A>,
    /// The aggregated table's node: whether to send old values.
    pub(crate) view: NodeView,
    /// Records this aggregation skips (by their null keys or values).
    pub(crate) nulls: SkipNulls<K, V>,
    pub(crate) emit: EmitStrategy,
    pub(crate) table: Option<WindowTable<K, A>>,
    pub(crate) stream_time: ObservedStreamTime,
}

impl<K, V, A> Processor<K, V, Windowed<K>, Change<A>> for WindowAggregate<K, V, A>
where
    K: Clone + 'static,
    V: Clone + 'static,
    A: Clone + 'static,
{
    fn init(
        &mut self,
        ctx: &mut ProcessorContext<'_, Windowed<K>, Change<A>>,
    ) -> Result<(), StreamsError> {
        self.table = Some(WindowTable::open(
            ctx,
            &self.store_name,
            &self.view,
            self.emit,
        )?);
        Ok(())
    }

    fn flush(
        &mut self,
        ctx: &mut ProcessorContext<'_, Windowed<K>, Change<A>>,
    ) -> Result<(), StreamsError> {
        flush_cache(self.table.as_ref().and_then(|t| t.cache.as_ref()), ctx)
    }

    fn process(
        &mut self,
        ctx: &mut ProcessorContext<'_, Windowed<K>, Change<A>>,
        record: Record<K, V>,
    ) -> Result<(), StreamsError> {
        let Some(table) = &mut self.table else {
            return Ok(());
        };
        if self.nulls.skip(ctx, &record) {
            return Ok(());
        }
        let stream_time = self.stream_time.observe(record.timestamp);
        let close_time = stream_time.saturating_sub(self.windows.grace_ms());
        // Final results before the record's writes, which could move
        // windows that close now out of the store's retention.
        let windows = self.windows;
        let bounds = |last: Option<i64>| {
            // Kafka's emit range: window starts in [lower, upper].
            let upper = close_time.saturating_sub(windows.size_ms());
            let lower = last.map_or(0, |last| {
                last.saturating_sub(windows.size_ms())
                    .max(0)
                    .saturating_add(1)
            });
            // No window starts in the range unless the windows around its
            // ends differ (Kafka's `shouldRangeFetch`).
            let new_start = last.is_none()
                || windows.windows_for(upper) != windows.windows_for(lower.saturating_sub(1));
            (upper >= 0 && new_start).then_some((lower, upper))
        };
        table.emit_final_results(ctx, close_time, bounds, &record.headers)?;
        for window in self.windows.windows_for(record.timestamp) {
            // A window is open while its (exclusive) end is after the close
            // time; records for closed windows are dropped, one count per
            // window, as Kafka does.
            if window.end > close_time {
                let current = table.store.fetch_window(&record.key, window.start)?;
                update_window(ctx, table, &self.aggregator, window, current, &record)?;
            } else {
                drop_expired(
                    ctx,
                    &format!("[{},{})", window.start, window.end),
                    close_time,
                );
            }
        }
        Ok(())
    }
}
