//! Aggregation of a grouped stream into sliding windows (Kafka's
//! `KStreamSlidingWindowAggregate`).
//!
//! Windows are `[start, start + d]`, both bounds inclusive. A record at `t`
//! has a left window `[t - d, t]` and, once a later record falls within `d`
//! of it, a right window `[t + 1, t + 1 + d]`. Only windows whose record
//! sets differ exist, so each record updates the windows of the store that
//! contain it and creates its own left and right windows (and the right
//! window of the record before it) from neighbouring aggregates.

use std::collections::HashSet;

use streams_core::prelude::*;
use streams_core::state::ValueAndTimestamp;
use streams_core::{Window, Windowed};

use super::aggregate::Aggregator;
use super::flush_cache;
use super::stream_time::ObservedStreamTime;
use super::window_aggregate::{drop_expired, update_window, AggregateWindowStore, WindowTable};
use crate::emit_strategy::EmitStrategy;
use crate::ktable::Change;
use crate::nulls::SkipNulls;
use crate::table_node::NodeView;
use crate::windows::SlidingWindows;

/// Aggregates each record into the sliding windows containing it.
pub(crate) struct SlidingAggregate<K, V, A> {
    pub(crate) store_name: String,
    pub(crate) windows: SlidingWindows,
    pub(crate) aggregator: Aggregator<K, V, A>,
    /// The aggregated table's node: whether to send old values.
    pub(crate) view: NodeView,
    /// Records this aggregation skips (by their null keys or values).
    pub(crate) nulls: SkipNulls<K, V>,
    pub(crate) emit: EmitStrategy,
    pub(crate) table: Option<WindowTable<K, A>>,
    pub(crate) stream_time: ObservedStreamTime,
}

type Ctx<'c, 'a, K, A> = &'c mut ProcessorContext<'a, Windowed<K>, Change<A>>;

/// What the scan of a record's neighbourhood found.
struct Neighbourhood<A> {
    /// Starts of every window seen.
    starts: HashSet<i64>,
    /// The aggregate of the window just before the record's left window,
    /// whose records (all before the record) seed the left window.
    left: Option<ValueAndTimestamp<A>>,
    /// The aggregate of the latest window containing the record; its later
    /// records seed the record's right window.
    right: Option<ValueAndTimestamp<A>>,
    left_exists: bool,
    right_exists: bool,
    /// The timestamp of the latest record before this one, if within reach.
    previous: Option<i64>,
}

impl<A> Default for Neighbourhood<A> {
    fn default() -> Self {
        Self {
            starts: HashSet::new(),
            left: None,
            right: None,
            left_exists: false,
            right_exists: false,
            previous: None,
        }
    }
}

impl<K, V, A> SlidingAggregate<K, V, A>
where
    K: Clone + 'static,
    V: Clone + 'static,
    A: Clone + 'static,
{
    fn window(&self, start: i64) -> Window {
        Window::new(
            start,
            start.saturating_add(self.windows.time_difference_ms()),
        )
    }

    /// Adds the record to `window` (whose aggregate is `current`) if the
    /// window is still open at `close_time` (its inclusive end not before
    /// it); drops it otherwise.
    fn update(
        &self,
        ctx: Ctx<'_, '_, K, A>,
        window: Window,
        current: Option<ValueAndTimestamp<A>>,
        record: &Record<K, V>,
        close_time: i64,
    ) -> Result<(), StreamsError> {
        let Some(table) = &self.table else {
            return Ok(());
        };
        if window.end >= close_time {
            update_window(ctx, table, &self.aggregator, window, current, record)
        } else {
            drop_expired(
                ctx,
                &format!("[{},{}]", window.start, window.end),
                close_time,
            );
            Ok(())
        }
    }

    /// Creates the record's right window holding the later records of
    /// `right` (not the record itself).
    fn create_right_window(
        &self,
        ctx: Ctx<'_, '_, K, A>,
        store: &AggregateWindowStore<K, A>,
        right: ValueAndTimestamp<A>,
        record: &Record<K, V>,
    ) -> Result<(), StreamsError> {
        let Some(table) = &self.table else {
            return Ok(());
        };
        let window = self.window(record.timestamp + 1);
        store.put(&record.key, &right, window.start)?;
        table.forward_update(ctx, || Record {
            key: Windowed::new(record.key.clone(), window),
            value: Change {
                new: Some(right.value),
                old: None,
            },
            timestamp: right.timestamp,
            headers: record.headers.clone(),
        })
    }

    /// A record at or after `d`: scans the windows that can contain it or
    /// neighbour it, latest first.
    fn process_regular(
        &self,
        ctx: Ctx<'_, '_, K, A>,
        store: &AggregateWindowStore<K, A>,
        record: &Record<K, V>,
        close_time: i64,
    ) -> Result<(), StreamsError> {
        let d = self.windows.time_difference_ms();
        let ts = record.timestamp;
        let mut found = Neighbourhood::default();
        // Saturating: a record near the largest timestamp, or windows of a
        // huge time difference, reach past the ends of time.
        let from = ts.saturating_sub(d.saturating_mul(2)).max(0);
        let windows = store.backward_fetch(&record.key, from, ts.saturating_add(1))?;
        for (start, aggregate) in windows {
            found.starts.insert(start);
            let end = start.saturating_add(d);
            if ts.checked_add(1) == Some(start) {
                found.right_exists = true;
            } else if end > ts {
                if found.right.is_none() {
                    found.right = Some(aggregate.clone());
                }
                self.update(ctx, self.window(start), Some(aggregate), record, close_time)?;
            } else if end == ts {
                found.left_exists = true;
                let latest = aggregate.timestamp;
                self.update(ctx, self.window(start), Some(aggregate), record, close_time)?;
                if latest < ts {
                    found.previous = Some(latest);
                } else {
                    // A record at the same time already made every window
                    // this one needs.
                    return Ok(());
                }
            } else {
                found.previous = Some(aggregate.timestamp);
                found.left = Some(aggregate);
                break;
            }
        }
        self.create_windows(ctx, store, record, close_time, found)
    }

    fn create_windows(
        &self,
        ctx: Ctx<'_, '_, K, A>,
        store: &AggregateWindowStore<K, A>,
        record: &Record<K, V>,
        close_time: i64,
        found: Neighbourhood<A>,
    ) -> Result<(), StreamsError> {
        let d = self.windows.time_difference_ms();
        let ts = record.timestamp;
        // The previous record's right window, if missing and this record
        // falls into it.
        if let Some(previous) = found.previous {
            let start = previous + 1;
            if !found.starts.contains(&start) && start.saturating_add(d) >= ts {
                self.update(ctx, self.window(start), None, record, close_time)?;
            }
        }
        if !found.left_exists {
            // The left window holds the earlier records within reach.
            let seed = match (found.previous, found.left) {
                (Some(previous), Some(left)) if ts - d <= previous => Some(ValueAndTimestamp {
                    value: left.value,
                    timestamp: ts,
                }),
                _ => None,
            };
            self.update(ctx, self.window(ts - d), seed, record, close_time)?;
        }
        match found.right {
            Some(right) if !found.right_exists && right.timestamp > ts => {
                self.create_right_window(ctx, store, right, record)
            }
            _ => Ok(()),
        }
    }

    /// A record before `d`: its left window would start before 0, so all
    /// such records share the window `[0, d]` (Kafka's `processEarly`).
    fn process_early(
        &self,
        ctx: Ctx<'_, '_, K, A>,
        store: &AggregateWindowStore<K, A>,
        record: &Record<K, V>,
        close_time: i64,
    ) -> Result<(), StreamsError> {
        let ts = record.timestamp;
        let mut combined = None;
        let mut right: Option<ValueAndTimestamp<A>> = None;
        let mut right_exists = false;
        let mut previous = None;
        let mut starts = HashSet::new();
        for (start, aggregate) in store.fetch(&record.key, 0, ts + 1)? {
            starts.insert(start);
            if start == 0 {
                if aggregate.timestamp < ts {
                    previous = Some(aggregate.timestamp);
                }
                combined = Some(aggregate);
            } else if start <= ts {
                right = Some(aggregate.clone());
                self.update(ctx, self.window(start), Some(aggregate), record, close_time)?;
            } else {
                right_exists = true;
            }
        }
        // Without a window in between, the combined window's later records
        // are exactly those of this record's right window.
        if right.is_none() {
            right = combined.clone().filter(|c| c.timestamp > ts);
        }
        match right {
            Some(right) if !right_exists && right.timestamp > ts => {
                self.create_right_window(ctx, store, right, record)?;
            }
            _ => {}
        }
        if let Some(previous) = previous {
            if !starts.contains(&(previous + 1)) {
                self.update(ctx, self.window(previous + 1), None, record, close_time)?;
            }
        }
        self.update(ctx, self.window(0), combined, record, close_time)
    }
}

impl<K, V, A> Processor<K, V, Windowed<K>, Change<A>> for SlidingAggregate<K, V, A>
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
        let Some(store) = self.table.as_ref().map(|t| t.store.clone()) else {
            return Ok(());
        };
        if self.nulls.skip(ctx, &record) {
            return Ok(());
        }
        let stream_time = self.stream_time.observe(record.timestamp);
        let close_time = stream_time.saturating_sub(self.windows.grace_ms());
        let window = self.window(record.timestamp);
        // The record's own right-most window already closed: every window
        // it could join has.
        if window.end < close_time {
            drop_expired(
                ctx,
                &format!("[{},{}]", window.start, window.end),
                close_time,
            );
            return Ok(());
        }
        let d = self.windows.time_difference_ms();
        if record.timestamp < d {
            // Kafka looks for final results after regular records only.
            return self.process_early(ctx, &store, &record, close_time);
        }
        // Final results before the record's writes (see `EmitStrategy`):
        // windows `[start, start + d]` with start in Kafka's emit range.
        let bounds = |last: Option<i64>| {
            let upper = close_time.saturating_sub(d).saturating_sub(1);
            let lower = last.map_or(0, |last| last.saturating_sub(d).max(0));
            (upper >= 0).then_some((lower, upper))
        };
        if let Some(table) = &mut self.table {
            table.emit_final_results(ctx, close_time, bounds, &record.headers)?;
        }
        self.process_regular(ctx, &store, &record, close_time)
    }
}
