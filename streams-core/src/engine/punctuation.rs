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

    /// Moves `id` past `now_ms` as it fires.
    fn advance(&mut self, id: PunctuatorId, now_ms: i64) {
        if let Some(schedule) = self.schedules.iter_mut().find(|s| s.id == id) {
            let mut next = schedule.next_ms + schedule.interval_ms;
            if now_ms >= next {
                let missed = (now_ms - schedule.next_ms) / schedule.interval_ms;
                next = schedule.next_ms + (missed + 1) * schedule.interval_ms;
            }
            schedule.next_ms = next;
        }
    }
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
