//! Java's `PriorityQueue`, sift for sift.
//!
//! Kafka Streams keeps two things in `java.util.PriorityQueue`s ordered by
//! a timestamp alone: the partitions with buffered records (by the
//! timestamp of their head record) and the punctuation schedules (by their
//! next time). When timestamps tie, which element comes out first depends
//! on the heap's exact shape, so the engine reproduces the heap itself:
//! equal-timestamp records of several partitions interleave, and punctuators
//! due at the same time fire, in the order Kafka Streams gives them.

/// A binary min-heap of `T` on an `i64` key, that places elements exactly
/// as Java's `PriorityQueue` does. The key is read through a function at
/// each comparison, so it may live outside the element (the head record of
/// a partition queue, say).
#[derive(Debug)]
pub(crate) struct JavaPriorityQueue<T>(Vec<T>);

impl<T> Default for JavaPriorityQueue<T> {
    fn default() -> Self {
        Self(Vec::new())
    }
}

impl<T> JavaPriorityQueue<T> {
    /// Adds `item` (Java's `offer` and `siftUp`: it rises while smaller
    /// than its parent, staying below an equal one).
    pub(crate) fn offer(&mut self, item: T, key: impl Fn(&T) -> i64) {
        let item_key = key(&item);
        let mut slot = self.0.len();
        self.0.push(item);
        while slot > 0 {
            let parent = (slot - 1) / 2;
            if item_key >= key(&self.0[parent]) {
                break;
            }
            self.0.swap(slot, parent);
            slot = parent;
        }
    }

    /// The element with the smallest key, if any (Java's `peek`).
    pub(crate) fn peek(&self) -> Option<&T> {
        self.0.first()
    }

    /// Removes and returns the element with the smallest key (Java's `poll`
    /// and `siftDown`: the last element moves to the root and sinks,
    /// towards the left child on a tie, stopping above an equal child).
    pub(crate) fn poll(&mut self, key: impl Fn(&T) -> i64) -> Option<T> {
        if self.0.is_empty() {
            return None;
        }
        let first = self.0.swap_remove(0);
        let len = self.0.len();
        if len == 0 {
            return Some(first);
        }
        let sinking = key(&self.0[0]);
        let mut slot = 0;
        while slot < len / 2 {
            let mut child = 2 * slot + 1;
            let right = child + 1;
            if right < len && key(&self.0[child]) > key(&self.0[right]) {
                child = right;
            }
            if sinking <= key(&self.0[child]) {
                break;
            }
            self.0.swap(slot, child);
            slot = child;
        }
        Some(first)
    }

    /// The elements, in heap order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &T> {
        self.0.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain(heap: &mut JavaPriorityQueue<(i64, char)>) -> String {
        std::iter::from_fn(|| heap.poll(|item| item.0))
            .map(|item| item.1)
            .collect()
    }

    #[test]
    fn elements_come_out_by_key() {
        let mut heap = JavaPriorityQueue::default();
        for (key, name) in [(5, 'e'), (1, 'a'), (4, 'd'), (2, 'b'), (3, 'c'), (0, '_')] {
            heap.offer((key, name), |item| item.0);
        }
        assert_eq!(heap.peek(), Some(&(0, '_')));
        assert_eq!(drain(&mut heap), "_abcde");
        assert!(heap.peek().is_none());
    }

    /// Ties come out in the order Java's heap gives, which is not the
    /// order of insertion: after the first poll, the last element sits
    /// at the root, above an equal child.
    #[test]
    fn ties_come_out_as_from_javas_heap() {
        let mut heap = JavaPriorityQueue::default();
        for name in ['a', 'b', 'c', 'd'] {
            heap.offer((0, name), |item| item.0);
        }
        assert_eq!(drain(&mut heap), "adcb");
    }
}
