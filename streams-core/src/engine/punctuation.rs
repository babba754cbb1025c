//! Punctuation schedules, with Kafka Streams' firing rules.
//!
//! A schedule fires when its clock reaches its next time. The punctuator is
//! called with the clock's current time (not the scheduled one), and the
//! next time skips intervals that were missed, so a jump in time fires a
//! schedule once, not once per missed interval.

use super::graph::NodeId;
use super::java_heap::JavaPriorityQueue;
use crate::processor::PunctuatorId;

/// One schedule: its punctuator, and the next time it is due.
pub(crate) struct Schedule {
    pub(crate) id: PunctuatorId,
    pub(crate) node: NodeId,
    interval_ms: i64,
    next_ms: i64,
}

/// The schedules of one clock (stream time or wall-clock time), in Java's
/// `PriorityQueue` by next time, as Kafka's `PunctuationQueue` keeps them:
/// schedules due at the same time fire in the order Kafka fires them.
///
/// As in Kafka, a round of punctuation takes due schedules out one by one
/// and puts each back after its punctuator ran, so a schedule that the
/// punctuator adds is seen in the same round; and a cancelled schedule
/// stays in the heap (shaping it) until its time comes and it is dropped.
#[derive(Default)]
pub(crate) struct PunctuationQueue {
    heap: JavaPriorityQueue<Schedule>,
    /// Schedules cancelled while in the heap or while running.
    cancelled: Vec<PunctuatorId>,
    /// The schedule taken out to run, if any.
    running: Option<PunctuatorId>,
}

impl PunctuationQueue {
    pub(crate) fn add(&mut self, id: PunctuatorId, node: NodeId, first_ms: i64, interval_ms: i64) {
        let schedule = Schedule {
            id,
            node,
            interval_ms,
            next_ms: first_ms,
        };
        self.heap.offer(schedule, next_ms);
    }

    pub(crate) fn cancel(&mut self, id: PunctuatorId) {
        let known = self.running == Some(id) || self.heap.iter().any(|s| s.id == id);
        if known && !self.cancelled.contains(&id) {
            self.cancelled.push(id);
        }
    }

    /// Takes out the next schedule due at `now_ms`, dropping the cancelled
    /// ones it meets (Kafka's `maybePunctuate` loop); give it back with
    /// [`reschedule`](Self::reschedule) once its punctuator returned.
    pub(crate) fn take_due(&mut self, now_ms: i64) -> Option<Schedule> {
        while self.heap.peek()?.next_ms <= now_ms {
            let schedule = self.heap.poll(next_ms)?;
            if self.forget_cancelled(schedule.id) {
                continue;
            }
            self.running = Some(schedule.id);
            return Some(schedule);
        }
        None
    }

    /// Puts `schedule`, which fired at `now_ms`, back for the first of its
    /// times after `now_ms`, unless it was cancelled meanwhile. A schedule
    /// whose next time is past the largest timestamp can never fire again,
    /// and is dropped: left due, it would fire forever at a stream time of
    /// `i64::MAX`.
    pub(crate) fn reschedule(&mut self, mut schedule: Schedule, now_ms: i64) {
        self.running = None;
        if self.forget_cancelled(schedule.id) {
            return;
        }
        if let Some(next) = next_time(schedule.next_ms, schedule.interval_ms, now_ms) {
            schedule.next_ms = next;
            self.heap.offer(schedule, next_ms);
        }
    }

    /// Drops `schedule`, whose punctuator failed: Kafka does not put it back.
    pub(crate) fn drop_failed(&mut self, schedule: Schedule) {
        self.running = None;
        self.forget_cancelled(schedule.id);
    }

    /// Whether `id` was cancelled; it is forgotten either way.
    fn forget_cancelled(&mut self, id: PunctuatorId) -> bool {
        let before = self.cancelled.len();
        self.cancelled.retain(|&cancelled| cancelled != id);
        self.cancelled.len() < before
    }
}

/// The heap's key: a schedule's next time.
fn next_ms(schedule: &Schedule) -> i64 {
    schedule.next_ms
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

    /// Fires every due schedule at each time, as a task's round does.
    fn fire(queue: &mut PunctuationQueue, now: i64) -> Vec<PunctuatorId> {
        let mut fired = Vec::new();
        while let Some(schedule) = queue.take_due(now) {
            fired.push(schedule.id);
            queue.reschedule(schedule, now);
        }
        fired
    }

    fn fire_times(queue: &mut PunctuationQueue, times: impl IntoIterator<Item = i64>) -> Vec<i64> {
        let mut fired = Vec::new();
        for now in times {
            fired.extend(fire(queue, now).into_iter().map(|_| now));
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
        assert!(queue.take_due(i64::MAX).is_none());
        assert!(queue.heap.peek().is_none());
    }

    #[test]
    fn cancelled_schedules_stop_whether_waiting_or_running() {
        let mut queue = PunctuationQueue::default();
        queue.add(PunctuatorId(0), 0, 0, 10);
        queue.add(PunctuatorId(1), 1, 0, 10);
        queue.cancel(PunctuatorId(0));
        let running = queue.take_due(0).expect("due");
        assert_eq!(running.id, PunctuatorId(1));
        queue.cancel(PunctuatorId(1));
        queue.reschedule(running, 0);
        assert!(queue.take_due(100).is_none());
        assert!(queue.heap.peek().is_none() && queue.cancelled.is_empty());
        // Cancelling what is not scheduled leaves nothing behind.
        queue.cancel(PunctuatorId(7));
        assert!(queue.cancelled.is_empty());
    }

    /// A punctuator that cancels itself and then fails is dropped and
    /// leaves no cancellation behind.
    #[test]
    fn a_failed_schedule_is_dropped_even_if_it_cancelled_itself() {
        let mut queue = PunctuationQueue::default();
        queue.add(PunctuatorId(0), 0, 0, 10);
        let running = queue.take_due(0).expect("due");
        queue.cancel(PunctuatorId(0));
        queue.drop_failed(running);
        assert!(queue.take_due(100).is_none());
        assert!(queue.heap.peek().is_none() && queue.cancelled.is_empty());
        assert!(queue.running.is_none());
    }

    #[test]
    fn earlier_times_fire_first() {
        let mut queue = PunctuationQueue::default();
        queue.add(PunctuatorId(0), 0, 5, 100);
        queue.add(PunctuatorId(1), 1, 3, 100);
        queue.add(PunctuatorId(2), 2, 4, 100);
        assert_eq!(
            fire(&mut queue, 50),
            [PunctuatorId(1), PunctuatorId(2), PunctuatorId(0)]
        );
    }

    /// Three schedules of one interval tie at every time; each fired one
    /// goes back into Java's heap behind the others, so the order turns:
    /// A, C, B at 5; C, B, A at 10; B, A, C at 20 (Kafka's order).
    #[test]
    fn ties_fire_in_the_order_of_javas_heap() {
        let mut queue = PunctuationQueue::default();
        let [a, b, c] = [PunctuatorId(0), PunctuatorId(1), PunctuatorId(2)];
        for (node, id) in [a, b, c].into_iter().enumerate() {
            queue.add(id, node, 0, 5);
        }
        assert_eq!(fire(&mut queue, 5), [a, c, b]);
        assert_eq!(fire(&mut queue, 10), [c, b, a]);
        assert_eq!(fire(&mut queue, 20), [b, a, c]);
    }
}
