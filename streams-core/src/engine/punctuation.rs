//! Punctuation schedules, with Kafka Streams' firing rules.
//!
//! A schedule fires when its clock reaches its next time. The punctuator is
//! called with the clock's current time (not the scheduled one), and the
//! next time skips intervals that were missed, so a jump in time fires a
//! schedule once, not once per missed interval.

use super::graph::NodeId;
use crate::processor::PunctuatorId;

struct Schedule {
    id: PunctuatorId,
    node: NodeId,
    interval_ms: i64,
    next_ms: i64,
}

/// The schedules of one clock (stream time or wall-clock time).
#[derive(Default)]
pub(crate) struct PunctuationQueue {
    schedules: Vec<Schedule>,
}

impl PunctuationQueue {
    pub(crate) fn add(&mut self, id: PunctuatorId, node: NodeId, first_ms: i64, interval_ms: i64) {
        self.schedules.push(Schedule {
            id,
            node,
            interval_ms,
            next_ms: first_ms,
        });
    }

    pub(crate) fn cancel(&mut self, id: PunctuatorId) {
        self.schedules.retain(|schedule| schedule.id != id);
    }

    /// The schedule due at `now_ms` with the earliest time (of those tied,
    /// the one added first), moved past `now_ms` as it fires: a round of
    /// punctuation takes schedules one by one, so one that a punctuator
    /// of the round adds or cancels is seen (Kafka's `maybePunctuate`).
    pub(crate) fn fire_next(&mut self, now_ms: i64) -> Option<(PunctuatorId, NodeId)> {
        let due = self
            .schedules
            .iter()
            .filter(|schedule| schedule.next_ms <= now_ms)
            .min_by_key(|schedule| schedule.next_ms)?;
        let fired = (due.id, due.node);
        self.advance(fired.0, now_ms);
        Some(fired)
    }

    /// Moves `id` past `now_ms` as it fires: to the first of its times
    /// after `now_ms`. A schedule whose next time is past the largest
    /// timestamp can never fire again, and is dropped: left due, it would
    /// fire forever at a stream time of `i64::MAX`.
    fn advance(&mut self, id: PunctuatorId, now_ms: i64) {
        let Some(index) = self.schedules.iter().position(|s| s.id == id) else {
            return;
        };
        let schedule = &mut self.schedules[index];
        match next_time(schedule.next_ms, schedule.interval_ms, now_ms) {
            Some(next) => schedule.next_ms = next,
            None => {
                self.schedules.remove(index);
            }
        }
    }
}

/// The first of the times `next_ms + k * interval_ms` (k >= 1) after
/// `now_ms`, which is at or past `next_ms`; `None` past `i64::MAX`.
/// Computed wide, so that only the answer can be out of range.
fn next_time(next_ms: i64, interval_ms: i64, now_ms: i64) -> Option<i64> {
    let (next, interval) = (i128::from(next_ms), i128::from(interval_ms));
    let missed = (i128::from(now_ms) - next) / interval;
    i64::try_from(next + (missed + 1) * interval).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fire_times(queue: &mut PunctuationQueue, times: impl IntoIterator<Item = i64>) -> Vec<i64> {
        let mut fired = Vec::new();
        for now in times {
            while queue.fire_next(now).is_some() {
                fired.push(now);
            }
        }
        fired
    }

    #[test]
    fn aligned_to_zero_fires_on_each_boundary() {
        let mut queue = PunctuationQueue::default();
        queue.add(PunctuatorId(0), 0, 0, 10);
        assert_eq!(fire_times(&mut queue, 0..60), vec![0, 10, 20, 30, 40, 50]);
    }

    #[test]
    fn a_late_start_fires_once_then_realigns() {
        let mut queue = PunctuationQueue::default();
        queue.add(PunctuatorId(0), 0, 0, 10);
        assert_eq!(
            fire_times(&mut queue, 1..=60),
            vec![1, 10, 20, 30, 40, 50, 60]
        );
    }

    #[test]
    fn a_jump_fires_once_and_skips_missed_intervals() {
        let mut queue = PunctuationQueue::default();
        queue.add(PunctuatorId(0), 0, 0, 10);
        assert_eq!(fire_times(&mut queue, [0, 35, 39, 40]), vec![0, 35, 40]);
    }

    /// Stream time can reach the largest timestamp; a schedule with no
    /// time after it fires there once, then never again.
    #[test]
    fn a_schedule_with_no_time_left_fires_once_more_and_stops() {
        let mut queue = PunctuationQueue::default();
        queue.add(PunctuatorId(0), 0, 0, 1_000);
        queue.add(PunctuatorId(1), 1, i64::MAX - 5, 10);
        let late = i64::MAX - 1_000;
        assert_eq!(
            fire_times(&mut queue, [late, i64::MAX]),
            vec![late, i64::MAX, i64::MAX]
        );
        assert!(queue.fire_next(i64::MAX).is_none());
        assert!(queue.schedules.is_empty());
    }

    #[test]
    fn cancelled_schedules_stop() {
        let mut queue = PunctuationQueue::default();
        queue.add(PunctuatorId(0), 0, 0, 10);
        queue.cancel(PunctuatorId(0));
        assert!(queue.fire_next(100).is_none());
    }

    #[test]
    fn earlier_times_fire_first_and_ties_in_the_order_added() {
        let mut queue = PunctuationQueue::default();
        queue.add(PunctuatorId(0), 0, 5, 100);
        queue.add(PunctuatorId(1), 1, 3, 100);
        queue.add(PunctuatorId(2), 2, 5, 100);
        let order: Vec<_> = std::iter::from_fn(|| queue.fire_next(50)).collect();
        assert_eq!(
            order,
            [
                (PunctuatorId(1), 1),
                (PunctuatorId(0), 0),
                (PunctuatorId(2), 2)
            ]
        );
    }
}
