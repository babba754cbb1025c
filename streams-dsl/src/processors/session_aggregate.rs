//! Aggregation of a grouped stream into sessions (Kafka's
//! `KStreamSessionWindowAggregate`).

use std::sync::Arc;

use streams_core::prelude::*;
use streams_core::state::SessionStore;
use streams_core::{Window, Windowed};

use super::aggregate::Aggregator;
use super::final_results::{closed_sessions, emit_sessions, FinalResults};
use super::stream_time::ObservedStreamTime;
use super::window_aggregate::drop_expired;
use super::{flush_cache, SessionCache};
use crate::emit_strategy::EmitStrategy;
use crate::ktable::Change;
use crate::nulls::SkipNulls;
use crate::table_node::NodeView;
use crate::windows::SessionWindows;

/// Combines the aggregates of two sessions a record bridges.
pub(crate) type Merger<K, A> = Arc<dyn Fn(&K, A, A) -> A + Send + Sync>;
/// Kafka's `Initializer`: the aggregate merging starts from; `None` for a
/// reduce, whose first value is its aggregate.
pub(crate) type Initial<A> = Arc<dyn Fn() -> Option<A> + Send + Sync>;

/// How session aggregates start, grow and merge.
pub(crate) struct SessionAggregator<K, V, A> {
    /// Starts the merge of the sessions a record joins.
    pub(crate) initial: Initial<A>,
    /// Adds the record to the merged aggregate.
    pub(crate) aggregator: Aggregator<K, V, A>,
    /// Merges one more session into the aggregate.
    pub(crate) merger: Merger<K, A>,
}

impl<K, V, A> Clone for SessionAggregator<K, V, A> {
    fn clone(&self) -> Self {
        Self {
            initial: self.initial.clone(),
            aggregator: self.aggregator.clone(),
            merger: self.merger.clone(),
        }
    }
}

/// Adds each record to its key's session, merging every session within
/// the inactivity gap of it into one.
pub(crate) struct SessionAggregate<K, V, A> {
    pub(crate) store_name: String,
    pub(crate) windows: SessionWindows,
    pub(crate) aggregator: SessionAggregator<K, V, A>,
    /// The aggregated table's node: whether to send old values.
    pub(crate) view: NodeView,
    /// Records this aggregation skips (by their null keys or values).
    pub(crate) nulls: SkipNulls<K, V>,
    pub(crate) send_old_values: bool,
    pub(crate) emit: EmitStrategy,
    pub(crate) store: Option<SessionStore<K, A>>,
    pub(crate) cache: Option<SessionCache<K, A>>,
    /// When final results were last emitted, if only those are.
    pub(crate) final_results: Option<FinalResults>,
    pub(crate) stream_time: ObservedStreamTime,
}

impl<K, V, A> Processor<K, V, Windowed<K>, Change<A>> for SessionAggregate<K, V, A>
where
    K: Clone + 'static,
    V: Clone + 'static,
    A: Clone + 'static,
{
    fn init(
        &mut self,
        ctx: &mut ProcessorContext<'_, Windowed<K>, Change<A>>,
    ) -> Result<(), StreamsError> {
        let store: SessionStore<K, A> = ctx.state_store(&self.store_name)?;
        self.send_old_values = self.view.send_old_values();
        self.final_results = FinalResults::of(self.emit, ctx, &self.store_name);
        if self.final_results.is_none() {
            self.cache = SessionCache::from_flushes(store.cache_flushes(self.send_old_values)?);
        }
        self.store = Some(store);
        Ok(())
    }

    fn flush(
        &mut self,
        ctx: &mut ProcessorContext<'_, Windowed<K>, Change<A>>,
    ) -> Result<(), StreamsError> {
        flush_cache(self.cache.as_ref(), ctx)
    }

    fn process(
        &mut self,
        ctx: &mut ProcessorContext<'_, Windowed<K>, Change<A>>,
        mut record: Record<K, V>,
    ) -> Result<(), StreamsError> {
        let Some(store) = &self.store else {
            return Ok(());
        };
        if self.nulls.skip(ctx, &record) {
            return Ok(());
        }
        let stream_time = self.stream_time.observe(record.timestamp);
        let close_time = stream_time
            .saturating_sub(self.windows.grace_ms())
            .saturating_sub(self.windows.inactivity_gap_ms());
        // Final results: the sessions ending in Kafka's emit range are read
        // before the record's writes (see `EmitStrategy`), and forwarded
        // after them, as Kafka forwards them: a closed session the record
        // merges away is no final result.
        let due = self.final_results.as_mut().and_then(|final_results| {
            final_results.range_due(ctx.current_system_time_ms(), close_time, |last| {
                let upper = close_time.saturating_sub(1);
                let lower = last.map_or(0, |last| last.max(0));
                (upper >= 0 && upper >= lower).then_some((lower, upper))
            })
        });
        let closed = due.map(|range| closed_sessions(store, range)).transpose()?;
        let headers = std::mem::take(&mut record.headers);
        let merged_within = self.update(ctx, store, record, close_time)?;
        let (Some(mut closed), Some(final_results)) = (closed, &mut self.final_results) else {
            return Ok(());
        };
        if let Some(searched) = merged_within {
            let mut kept = Vec::with_capacity(closed.len());
            for (session, aggregate) in closed {
                let window = session.window;
                let searched = window.end >= searched.start && window.start <= searched.end;
                if !searched
                    || store
                        .fetch_session(&session.key, window.start, window.end)?
                        .is_some()
                {
                    kept.push((session, aggregate));
                }
            }
            closed = kept;
        }
        emit_sessions(ctx, closed, &headers)?;
        final_results.emitted(ctx, close_time);
        Ok(())
    }
}

impl<K, V, A> SessionAggregate<K, V, A>
where
    K: Clone + 'static,
    V: Clone + 'static,
    A: Clone + 'static,
{
    /// Adds `record` to its session, merging the sessions within the gap
    /// of it, unless the merged session closed before `close_time` (then
    /// the record is dropped as late). Returns the time range searched
    /// for sessions to merge if sessions were merged away.
    fn update(
        &self,
        ctx: &mut ProcessorContext<'_, Windowed<K>, Change<A>>,
        store: &SessionStore<K, A>,
        record: Record<K, V>,
        close_time: i64,
    ) -> Result<Option<Window>, StreamsError> {
        let ts = record.timestamp;
        let gap = self.windows.inactivity_gap_ms();
        // Updates go downstream now, through the cache, or (with final
        // results only) not at all.
        let forward_now = self.cache.is_none() && self.final_results.is_none();
        let own = Window::new(ts, ts);
        let searched = Window::new(ts.saturating_sub(gap), ts.saturating_add(gap));
        let merged = store.find_sessions(&record.key, searched.start, searched.end)?;
        let mut window = own;
        let mut aggregate = (self.aggregator.initial)();
        for (session, value) in &merged {
            aggregate = Some(match aggregate {
                None => value.clone(),
                Some(so_far) => (self.aggregator.merger)(&record.key, so_far, value.clone()),
            });
            window = Window::new(
                window.start.min(session.window.start),
                window.end.max(session.window.end),
            );
        }
        if window.end < close_time {
            drop_expired(
                ctx,
                &format!("[{},{}]", window.start, window.end),
                close_time,
            );
            return Ok(None);
        }
        // Updates go downstream without the input's headers: Kafka builds
        // each one as a new record of the session and its end.
        let merged_within = (window != own).then_some(searched);
        if window != own {
            // The merged sessions are replaced by the new one: delete them
            // downstream too, each stamped with its end.
            for (session, value) in merged {
                store.remove(&session)?;
                if !forward_now {
                    continue;
                }
                let timestamp = session.window.end;
                let old = Some(value).filter(|_| self.send_old_values);
                ctx.forward(Record::new(session, Change { new: None, old }, timestamp))?;
            }
        }
        let new = match aggregate {
            None => (self.aggregator.aggregator.first)(&record.key, record.value),
            Some(so_far) => (self.aggregator.aggregator.next)(&record.key, record.value, so_far),
        };
        let session = Windowed::new(record.key, window);
        store.put(&session, &new)?;
        if let Some(cache) = &self.cache {
            // Merged-away sessions and this one leave with the cache.
            cache.forward_evicted(ctx)?;
        } else if forward_now {
            let change = Change {
                new: Some(new),
                old: None,
            };
            ctx.forward(Record::new(session, change, window.end))?;
        }
        Ok(merged_within)
    }
}
