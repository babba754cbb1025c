//! The join processor of each side of a stream-stream join (Kafka's
//! `KStreamKStreamJoin`).
//!
//! A record looks up the other side's window store for records of its key
//! within the join window and emits one result per match (the cross
//! product), stamped with the larger timestamp. In a left or outer join a
//! record without a match waits in the shared outer store; it is emitted,
//! with its own timestamp, once the join's stream time has passed its
//! window end plus grace, by the next in-order record of either side. A
//! record already too late for its window to be open is emitted at once.

use std::marker::PhantomData;

use streams_core::prelude::*;
use streams_core::state::WindowStore;

use super::joiner::{Joiner, Unmatched};
use super::outer_store::{OuterKey, OuterStore};
use super::time_tracker::{lock, SharedTracker, TimeTrackers};
use super::windows::JoinWindows;
use crate::nulls::{NullTest, NULL_KEY_OR_VALUE};
use crate::processors::Throttle;

/// Which input of the join a processor serves: its value types, its view
/// of the window, and how its values meet the user's joiner.
pub(crate) trait JoinSide<V1, V2>: 'static {
    /// The values this side processes.
    type This: Clone + 'static;
    /// The values of the other side.
    type Other: Clone + 'static;
    /// Whether this is the left side.
    const IS_LEFT: bool;
    /// How far before and after one of this side's records the other
    /// side's matches may be (the right side sees the window mirrored).
    fn reach(windows: &JoinWindows) -> (i64, i64);
    /// Joins a value of this side with one of the other.
    fn join<VR>(joiner: &Joiner<V1, V2, VR>, this: &Self::This, other: &Self::Other) -> VR;
    /// Whether the join keeps this side's unmatched records.
    fn keeps_unmatched<VR: 'static>(joiner: &Joiner<V1, V2, VR>) -> bool;
    /// This side's value as the outer store holds it.
    fn unmatched(value: Self::This) -> Unmatched<V1, V2>;
}

/// The left input (`this` in Kafka's terms).
pub(crate) struct LeftSide;
/// The right input (`other`).
pub(crate) struct RightSide;

impl<V1: Clone + 'static, V2: Clone + 'static> JoinSide<V1, V2> for LeftSide {
    type This = V1;
    type Other = V2;
    const IS_LEFT: bool = true;

    fn reach(windows: &JoinWindows) -> (i64, i64) {
        (windows.before_ms(), windows.after_ms())
    }

    fn join<VR>(joiner: &Joiner<V1, V2, VR>, this: &V1, other: &V2) -> VR {
        (joiner.both)(this, other)
    }

    fn keeps_unmatched<VR: 'static>(joiner: &Joiner<V1, V2, VR>) -> bool {
        joiner.keeps_left()
    }

    fn unmatched(value: V1) -> Unmatched<V1, V2> {
        Unmatched::Left(value)
    }
}

impl<V1: Clone + 'static, V2: Clone + 'static> JoinSide<V1, V2> for RightSide {
    type This = V2;
    type Other = V1;
    const IS_LEFT: bool = false;

    fn reach(windows: &JoinWindows) -> (i64, i64) {
        (windows.after_ms(), windows.before_ms())
    }

    fn join<VR>(joiner: &Joiner<V1, V2, VR>, this: &V2, other: &V1) -> VR {
        (joiner.both)(other, this)
    }

    fn keeps_unmatched<VR: 'static>(joiner: &Joiner<V1, V2, VR>) -> bool {
        joiner.right_only.is_some()
    }

    fn unmatched(value: V2) -> Unmatched<V1, V2> {
        Unmatched::Right(value)
    }
}

/// One side's join processor.
pub(crate) struct StreamStreamJoin<K, V1, V2, VR, S: JoinSide<V1, V2>> {
    pub(crate) other_store_name: String,
    pub(crate) outer_store_name: Option<String>,
    pub(crate) windows: JoinWindows,
    pub(crate) joiner: Joiner<V1, V2, VR>,
    /// Which keys and values of this side are null.
    pub(crate) nulls: NullTest<K, S::This>,
    pub(crate) trackers: TimeTrackers,
    pub(crate) state: Option<JoinState<K, V1, V2, S::Other>>,
    pub(crate) _side: PhantomData<S>,
}

/// What a join processor gets in `init`.
pub(crate) struct JoinState<K, V1, V2, VOther> {
    other: WindowStore<K, VOther>,
    outer: Option<OuterStore<K, V1, V2>>,
    tracker: SharedTracker,
    task_id: String,
}

impl<K, V1, V2, VR, S> StreamStreamJoin<K, V1, V2, VR, S>
where
    K: Clone + 'static,
    V1: Clone + 'static,
    V2: Clone + 'static,
    VR: Clone + 'static,
    S: JoinSide<V1, V2>,
{
    /// Emits the outer store's records whose windows have closed, oldest
    /// first, with their own timestamps, and removes them.
    ///
    /// As in Kafka, the quick check uses this side's `after` while each
    /// record is judged by its own side's reach (left: `after`, right:
    /// `before`), and the scan stops once both sides have met a record
    /// whose window is still open.
    fn emit_closed(
        &self,
        ctx: &mut ProcessorContext<'_, K, VR>,
        state: &JoinState<K, V1, V2, S::Other>,
        outer: &OuterStore<K, V1, V2>,
        headers: &Headers,
    ) -> Result<(), StreamsError> {
        let grace = self.windows.grace_ms();
        let (_, after) = S::reach(&self.windows);
        let stream_time = {
            let mut tracker = lock(&state.tracker);
            // Nothing in the outer store can have closed yet. An unknown
            // minimum (a new tracker: the store may hold restored records;
            // or an emptied store) passes whenever after + grace > 0, as
            // Kafka's sum overflows then: the first in-order record scans.
            let reach = after.saturating_add(grace);
            let unknown = tracker.min_time == i64::MAX && reach > 0;
            if !unknown && tracker.min_time.saturating_add(reach) >= tracker.stream_time {
                return Ok(());
            }
            // Scanning is costly: at most once per emit interval of wall
            // time, so unmatched records may come out up to one interval
            // after their window closed.
            if !tracker.scans.allows(ctx.current_system_time_ms()) {
                return Ok(());
            }
            tracker.min_time = i64::MAX;
            tracker.stream_time
        };
        let (mut left_open, mut right_open) = (false, false);
        for (key, values) in outer.all()? {
            lock(&state.tracker).min_time = key.timestamp;
            if left_open && right_open {
                break;
            }
            let reach = if key.left {
                self.windows.after_ms()
            } else {
                self.windows.before_ms()
            };
            if key.timestamp.saturating_add(reach).saturating_add(grace) >= stream_time {
                if key.left {
                    left_open = true;
                } else {
                    right_open = true;
                }
                continue;
            }
            for value in &values {
                if let Some(result) = self.joiner.unmatched(value) {
                    ctx.forward(Record {
                        key: key.key.clone(),
                        value: result,
                        timestamp: key.timestamp,
                        headers: headers.clone(),
                    })?;
                }
            }
            outer.delete(&key)?;
        }
        Ok(())
    }
}

impl<K, V1, V2, VR, S> Processor<K, S::This, K, VR> for StreamStreamJoin<K, V1, V2, VR, S>
where
    K: Clone + 'static,
    V1: Clone + 'static,
    V2: Clone + 'static,
    VR: Clone + 'static,
    S: JoinSide<V1, V2>,
{
    fn init(&mut self, ctx: &mut ProcessorContext<'_, K, VR>) -> Result<(), StreamsError> {
        let outer = match &self.outer_store_name {
            Some(name) => Some(ctx.state_store(name)?),
            None => None,
        };
        let tracker = self.trackers.get(ctx.task_id());
        lock(&tracker).scans = Throttle::new(ctx.emit_intervals().outer_join);
        self.state = Some(JoinState {
            other: ctx.state_store(&self.other_store_name)?,
            outer,
            tracker,
            task_id: ctx.task_id().to_owned(),
        });
        Ok(())
    }

    fn process(
        &mut self,
        ctx: &mut ProcessorContext<'_, K, VR>,
        record: Record<K, S::This>,
    ) -> Result<(), StreamsError> {
        let Some(state) = &self.state else {
            return Ok(());
        };
        let timestamp = record.timestamp;
        let stream_time = {
            let mut tracker = lock(&state.tracker);
            tracker.advance(timestamp);
            tracker.stream_time
        };
        // A null key matches nothing: a side that keeps its unmatched
        // records emits it at once; otherwise, like a null value, it is
        // dropped (Kafka's `KStreamKStreamJoin`).
        let null_value = self.nulls.value(&record.value);
        if self.nulls.key(&record.key) || null_value {
            let unmatched = if null_value {
                None
            } else {
                self.joiner.unmatched(&S::unmatched(record.value))
            };
            let Some(value) = unmatched else {
                ctx.record_dropped(NULL_KEY_OR_VALUE);
                return Ok(());
            };
            return ctx.forward(Record {
                key: record.key,
                value,
                timestamp,
                headers: record.headers,
            });
        }
        // Only an in-order record moves the join forward far enough to
        // close windows.
        if timestamp == stream_time {
            if let Some(outer) = &state.outer {
                self.emit_closed(ctx, state, outer, &record.headers)?;
            }
        }
        let (before, after) = S::reach(&self.windows);
        let time_from = timestamp.saturating_sub(before).max(0);
        let time_to = timestamp.saturating_add(after).max(0);
        let matches = state.other.fetch(&record.key, time_from, time_to)?;
        let unmatched = matches.is_empty() && S::keeps_unmatched(&self.joiner);
        for (other_timestamp, other) in matches {
            if let Some(outer) = &state.outer {
                // The other record has its match now: it must never be
                // emitted as unmatched.
                let other_key = OuterKey {
                    timestamp: other_timestamp,
                    left: !S::IS_LEFT,
                    key: record.key.clone(),
                };
                if outer.get(&other_key)?.is_some() {
                    outer.delete(&other_key)?;
                }
            }
            ctx.forward(Record {
                key: record.key.clone(),
                value: S::join(&self.joiner, &record.value, &other),
                timestamp: timestamp.max(other_timestamp),
                headers: record.headers.clone(),
            })?;
        }
        if !unmatched {
            return Ok(());
        }
        match &state.outer {
            // Its window is still open: a match may come.
            Some(outer) if time_to >= stream_time => {
                lock(&state.tracker).update_min(timestamp);
                let key = OuterKey {
                    timestamp,
                    left: S::IS_LEFT,
                    key: record.key,
                };
                let mut values = outer.get(&key)?.unwrap_or_default();
                values.push(S::unmatched(record.value));
                outer.put(&key, &values)
            }
            // Too late for any match to come.
            _ => {
                let value = S::unmatched(record.value);
                match self.joiner.unmatched(&value) {
                    Some(result) => ctx.forward(Record {
                        key: record.key,
                        value: result,
                        timestamp,
                        headers: record.headers,
                    }),
                    None => Ok(()),
                }
            }
        }
    }

    fn close(&mut self, _ctx: &mut ProcessorContext<'_, K, VR>) -> Result<(), StreamsError> {
        if let Some(state) = &self.state {
            self.trackers.remove(&state.task_id);
        }
        Ok(())
    }
}
