//! Final results of windowed aggregations that emit when windows close
//! (`EmitStrategy::OnWindowClose`; Kafka's `maybeForwardFinalResult` in
//! `AbstractKStreamTimeWindowAggregateProcessor` and
//! `KStreamSessionWindowAggregate`).
//!
//! Each aggregation works out which of its windows closed since it last
//! emitted (a range of window starts, or of session ends, with Kafka's
//! bounds), reads them back from its store and forwards each once.

use std::time::Duration;

use streams_core::prelude::*;
use streams_core::state::SessionStore;
use streams_core::Windowed;

use super::throttle::Throttle;
use super::window_aggregate::AggregateWindowStore;
use crate::emit_strategy::EmitStrategy;
use crate::ktable::Change;

/// When an aggregation last emitted final results and when it may look
/// again: Kafka's `lastEmitWindowCloseTime` and emit-interval throttle.
#[derive(Debug)]
pub(crate) struct FinalResults {
    /// The window close time of the last emission: every window closed
    /// by then has been emitted. `None` before the first one.
    last_close_time: Option<i64>,
    /// The key `last_close_time` is committed under with the task's
    /// offsets (Kafka's processor metadata: the store's name), so that
    /// the task continuing from that commit does not emit those windows
    /// again.
    key: String,
    /// When the aggregation may next look for closed windows.
    looks: Throttle,
}

impl FinalResults {
    /// The final results of an aggregation over the store `store` that
    /// emits as `emit` says, carrying on from the task's committed
    /// processor metadata: `None` when it emits every update.
    pub(crate) fn of<KO, VO>(
        emit: EmitStrategy,
        ctx: &ProcessorContext<'_, KO, VO>,
        store: &str,
    ) -> Option<Self> {
        (emit == EmitStrategy::OnWindowClose).then(|| {
            Self::new(
                ctx.emit_intervals().windowed_aggregation,
                store,
                ctx.processor_metadata(store),
            )
        })
    }

    /// Final results looked for at most once per `interval` of wall-clock
    /// time, last emitted at `last_close_time`, committed under `key`.
    fn new(interval: Duration, key: &str, last_close_time: Option<i64>) -> Self {
        Self {
            last_close_time,
            key: key.to_owned(),
            looks: Throttle::new(interval),
        }
    }

    /// Emits the closed windows if final results are due at `close_time`
    /// (see [`range_due`](Self::range_due)) and records the emission (see
    /// [`emitted`](Self::emitted)); `emit` forwards the windows of the
    /// range.
    pub(crate) fn emit_if_due<KO, VO>(
        &mut self,
        ctx: &mut ProcessorContext<'_, KO, VO>,
        close_time: i64,
        bounds: impl FnOnce(Option<i64>) -> Option<(i64, i64)>,
        emit: impl FnOnce(&mut ProcessorContext<'_, KO, VO>, (i64, i64)) -> Result<(), StreamsError>,
    ) -> Result<(), StreamsError> {
        let Some(range) = self.range_due(ctx.current_system_time_ms(), close_time, bounds) else {
            return Ok(());
        };
        emit(ctx, range)?;
        self.emitted(ctx, close_time);
        Ok(())
    }

    /// The range to emit at `now_ms` for `close_time`, if final results
    /// are due and a window closed since the last emission: `bounds` gets
    /// the close time of the last emission and answers the range of
    /// windows that closed since (window starts, or session ends), or
    /// `None` when none did.
    pub(crate) fn range_due(
        &mut self,
        now_ms: i64,
        close_time: i64,
        bounds: impl FnOnce(Option<i64>) -> Option<(i64, i64)>,
    ) -> Option<(i64, i64)> {
        if !self.due(now_ms, close_time) {
            return None;
        }
        bounds(self.last_close_time)
    }

    /// Records that every window closed by `close_time` was emitted, and
    /// commits that with the task's offsets.
    pub(crate) fn emitted<KO, VO>(
        &mut self,
        ctx: &mut ProcessorContext<'_, KO, VO>,
        close_time: i64,
    ) {
        self.last_close_time = Some(close_time);
        ctx.set_processor_metadata(&self.key, close_time);
    }

    /// Kafka's `shouldEmitFinal`: whether the throttle lets the
    /// aggregation look now (which uses up the interval, whatever it
    /// finds), and the close time moved on since the last emission.
    fn due(&mut self, now_ms: i64, close_time: i64) -> bool {
        self.looks.allows(now_ms) && self.last_close_time.is_none_or(|last| last < close_time)
    }
}

/// Forwards the time windows of `store` starting in `[lower, upper]` as
/// final results, in the order Kafka's time-ordered store yields them: by
/// start, then by key bytes (the order of each start's windows in the
/// store), each stamped with its stored timestamp.
pub(crate) fn emit_windows<K, A>(
    ctx: &mut ProcessorContext<'_, Windowed<K>, Change<A>>,
    store: &AggregateWindowStore<K, A>,
    (lower, upper): (i64, i64),
    headers: &Headers,
) -> Result<(), StreamsError>
where
    K: Clone + 'static,
    A: Clone + 'static,
{
    let mut closed = store.fetch_all(lower, upper)?;
    closed.sort_by_key(|(window, _)| window.window.start);
    let closed = closed
        .into_iter()
        .map(|(window, aggregate)| (window, aggregate.value, aggregate.timestamp));
    forward_final(ctx, closed, headers)
}

/// The sessions of `store` ending in `[lower, upper]`, by end, then
/// start, then key bytes (Kafka's time-ordered session store).
pub(crate) fn closed_sessions<K, A>(
    store: &SessionStore<K, A>,
    (lower, upper): (i64, i64),
) -> Result<Vec<(Windowed<K>, A)>, StreamsError>
where
    K: Clone + 'static,
    A: Clone + 'static,
{
    let mut closed = store.sessions_ending_within(lower, upper)?;
    closed.sort_by_key(|(session, _)| (session.window.end, session.window.start));
    Ok(closed)
}

/// Forwards `closed` sessions (see [`closed_sessions`]) as final results,
/// each stamped with its end.
pub(crate) fn emit_sessions<K, A>(
    ctx: &mut ProcessorContext<'_, Windowed<K>, Change<A>>,
    closed: Vec<(Windowed<K>, A)>,
    headers: &Headers,
) -> Result<(), StreamsError>
where
    K: Clone + 'static,
    A: Clone + 'static,
{
    let closed = closed.into_iter().map(|(session, aggregate)| {
        let end = session.window.end;
        (session, aggregate, end)
    });
    forward_final(ctx, closed, headers)
}

/// Forwards each closed window's aggregate at its timestamp, with no old
/// value and the `headers` of the record that triggered the emission.
fn forward_final<K, A>(
    ctx: &mut ProcessorContext<'_, Windowed<K>, Change<A>>,
    closed: impl IntoIterator<Item = (Windowed<K>, A, i64)>,
    headers: &Headers,
) -> Result<(), StreamsError>
where
    K: Clone + 'static,
    A: Clone + 'static,
{
    for (window, aggregate, timestamp) in closed {
        ctx.forward(Record {
            key: window,
            value: Change {
                new: Some(aggregate),
                old: None,
            },
            timestamp,
            headers: headers.clone(),
        })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs one look at `now` for `close_time` whose range is `range`, as
    /// `emit_if_due` does; returns the range emitted, if any, and the last
    /// close time the bounds were given.
    fn look(
        results: &mut FinalResults,
        now: i64,
        close_time: i64,
        range: Option<(i64, i64)>,
    ) -> (Option<(i64, i64)>, Option<Option<i64>>) {
        let mut last = None;
        let emitted = results.range_due(now, close_time, |previous| {
            last = Some(previous);
            range
        });
        if emitted.is_some() {
            results.last_close_time = Some(close_time);
        }
        (emitted, last)
    }

    /// Kafka's throttle: a look uses up the interval, even when the close
    /// time has not moved on; a look past the throttle emits only for a
    /// later close time.
    #[test]
    fn looks_at_most_once_per_interval_and_only_for_a_later_close_time() {
        let mut results = FinalResults::new(Duration::from_millis(1000), "store", None);
        // No window closed yet: the look uses up the interval.
        assert_eq!(look(&mut results, 0, -5, None), (None, Some(None)));
        assert_eq!(look(&mut results, 999, 10, Some((0, 0))), (None, None));
        assert_eq!(
            look(&mut results, 1000, 10, Some((0, 0))),
            (Some((0, 0)), Some(None))
        );
        // The close time did not move on: nothing to look for, but the
        // look still uses up the interval.
        assert_eq!(look(&mut results, 2000, 10, Some((1, 5))), (None, None));
        assert_eq!(look(&mut results, 2500, 20, Some((1, 5))), (None, None));
        assert_eq!(
            look(&mut results, 3000, 20, Some((1, 5))),
            (Some((1, 5)), Some(Some(10)))
        );

        let mut unthrottled = FinalResults::new(Duration::ZERO, "store", None);
        assert_eq!(
            look(&mut unthrottled, 0, 1, Some((0, 0))),
            (Some((0, 0)), Some(None))
        );
        assert_eq!(look(&mut unthrottled, 0, 1, Some((0, 0))), (None, None));
        assert_eq!(
            look(&mut unthrottled, 0, 2, Some((1, 1))),
            (Some((1, 1)), Some(Some(1)))
        );
    }
}
