//! The time the two processors of a stream-stream join share within a
//! task (Kafka's `KStreamImplJoin.TimeTracker`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use crate::processors::Throttle;

/// The largest timestamp either side of a join has seen, a lower bound of
/// the timestamps waiting in the outer store, and when either side may next
/// scan that store for unmatched records.
#[derive(Debug)]
pub(crate) struct TimeTracker {
    /// The join's own stream time: the largest timestamp that reached
    /// either join processor (-1 before any).
    pub(crate) stream_time: i64,
    /// No record in the outer store is older than this.
    pub(crate) min_time: i64,
    /// When either side may next scan the outer store
    /// (`EmitIntervals::outer_join`).
    pub(crate) scans: Throttle,
}

impl Default for TimeTracker {
    fn default() -> Self {
        Self {
            stream_time: -1,
            min_time: i64::MAX,
            scans: Throttle::default(),
        }
    }
}

impl TimeTracker {
    /// Raises stream time to `timestamp` if it is larger.
    pub(crate) fn advance(&mut self, timestamp: i64) {
        self.stream_time = self.stream_time.max(timestamp);
    }

    /// Lowers the outer store's minimum to `timestamp` if it is smaller.
    pub(crate) fn update_min(&mut self, timestamp: i64) {
        self.min_time = self.min_time.min(timestamp);
    }
}

/// A task's tracker, shared by its two join processors.
pub(crate) type SharedTracker = Arc<Mutex<TimeTracker>>;

/// Locks a tracker; a panic elsewhere cannot leave it inconsistent (it
/// holds two integers), so a poisoned lock is used as is.
pub(crate) fn lock(tracker: &SharedTracker) -> MutexGuard<'_, TimeTracker> {
    tracker.lock().unwrap_or_else(PoisonError::into_inner)
}

/// One tracker per task, handed to both join processors of that task
/// (processor instances are made per task by separate suppliers, so they
/// meet here, by task id).
#[derive(Clone, Default)]
pub(crate) struct TimeTrackers(Arc<Mutex<HashMap<String, SharedTracker>>>);

impl TimeTrackers {
    /// The tracker of task `task_id`, made on first use.
    pub(crate) fn get(&self, task_id: &str) -> SharedTracker {
        let mut trackers = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        trackers.entry(task_id.to_owned()).or_default().clone()
    }

    /// Forgets task `task_id`'s tracker when its processors close.
    pub(crate) fn remove(&self, task_id: &str) {
        let mut trackers = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        trackers.remove(task_id);
    }
}
