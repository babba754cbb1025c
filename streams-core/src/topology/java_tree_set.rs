//! Java's `TreeSet` insertion, for the neighbour lists of `describe()`.
//!
//! Kafka Streams keeps each described node's successors and predecessors
//! in a `TreeSet` whose comparator reads sub-graph sizes that keep growing
//! while the sets are filled. An element's place is decided once, when it
//! is inserted, by walking Java's red-black tree from its current root; so
//! the printed order depends on the tree's exact shape, and reproducing it
//! takes the same tree: `java.util.TreeMap`'s insertion and rebalancing.

use std::cmp::Ordering;

/// One tree node: an element, its links (indices into the arena) and its
/// colour.
#[derive(Debug, Clone)]
struct Entry {
    item: usize,
    left: Option<usize>,
    right: Option<usize>,
    parent: Option<usize>,
    red: bool,
}

/// A red-black tree of elements (`usize` handles) shaped as Java's
/// `TreeMap` shapes it for the same insertions and comparisons.
#[derive(Debug, Clone, Default)]
pub(super) struct JavaTreeSet {
    entries: Vec<Entry>,
    root: Option<usize>,
}

impl JavaTreeSet {
    /// Inserts `item`, ordered by `compare` as it answers now; an item
    /// comparing equal to one in the set is not inserted.
    pub(super) fn insert(&mut self, item: usize, compare: impl Fn(usize, usize) -> Ordering) {
        let mut parent = None;
        let mut at = self.root;
        let mut went_left = false;
        while let Some(entry) = at {
            parent = Some(entry);
            match compare(item, self.entries[entry].item) {
                Ordering::Less => {
                    went_left = true;
                    at = self.entries[entry].left;
                }
                Ordering::Greater => {
                    went_left = false;
                    at = self.entries[entry].right;
                }
                Ordering::Equal => return,
            }
        }
        let new = self.entries.len();
        self.entries.push(Entry {
            item,
            left: None,
            right: None,
            parent,
            red: true,
        });
        match parent {
            None => self.root = Some(new),
            Some(parent) if went_left => self.entries[parent].left = Some(new),
            Some(parent) => self.entries[parent].right = Some(new),
        }
        self.fix_after_insertion(new);
    }

    /// The elements in order (an in-order walk, as Java iterates).
    pub(super) fn items(&self) -> Vec<usize> {
        let mut items = Vec::with_capacity(self.entries.len());
        let mut stack = Vec::new();
        let mut at = self.root;
        while at.is_some() || !stack.is_empty() {
            while let Some(entry) = at {
                stack.push(entry);
                at = self.entries[entry].left;
            }
            if let Some(entry) = stack.pop() {
                items.push(self.entries[entry].item);
                at = self.entries[entry].right;
            }
        }
        items
    }

    fn parent(&self, entry: Option<usize>) -> Option<usize> {
        entry.and_then(|entry| self.entries[entry].parent)
    }

    fn left(&self, entry: Option<usize>) -> Option<usize> {
        entry.and_then(|entry| self.entries[entry].left)
    }

    fn right(&self, entry: Option<usize>) -> Option<usize> {
        entry.and_then(|entry| self.entries[entry].right)
    }

    /// Absent entries are black, as Java's `colorOf(null)`.
    fn is_red(&self, entry: Option<usize>) -> bool {
        entry.is_some_and(|entry| self.entries[entry].red)
    }

    fn set_red(&mut self, entry: Option<usize>, red: bool) {
        if let Some(entry) = entry {
            self.entries[entry].red = red;
        }
    }

    /// `TreeMap.fixAfterInsertion`.
    fn fix_after_insertion(&mut self, inserted: usize) {
        let mut x = Some(inserted);
        while x.is_some() && x != self.root && self.is_red(self.parent(x)) {
            let parent = self.parent(x);
            let grandparent = self.parent(parent);
            let parent_is_left = parent == self.left(grandparent);
            let uncle = if parent_is_left {
                self.right(grandparent)
            } else {
                self.left(grandparent)
            };
            if self.is_red(uncle) {
                self.set_red(parent, false);
                self.set_red(uncle, false);
                self.set_red(grandparent, true);
                x = grandparent;
                continue;
            }
            let inner = if parent_is_left {
                x == self.right(parent)
            } else {
                x == self.left(parent)
            };
            if inner {
                x = parent;
                self.rotate(x, parent_is_left);
            }
            let parent = self.parent(x);
            let grandparent = self.parent(parent);
            self.set_red(parent, false);
            self.set_red(grandparent, true);
            self.rotate(grandparent, !parent_is_left);
        }
        let root = self.root;
        self.set_red(root, false);
    }

    /// `TreeMap.rotateLeft` (`left`) or `rotateRight` around `entry`.
    fn rotate(&mut self, entry: Option<usize>, left: bool) {
        let Some(p) = entry else { return };
        let child = if left {
            self.entries[p].right
        } else {
            self.entries[p].left
        };
        let Some(c) = child else { return };
        let inner = if left {
            self.entries[c].left
        } else {
            self.entries[c].right
        };
        if left {
            self.entries[p].right = inner;
        } else {
            self.entries[p].left = inner;
        }
        if let Some(inner) = inner {
            self.entries[inner].parent = Some(p);
        }
        let grandparent = self.entries[p].parent;
        self.entries[c].parent = grandparent;
        match grandparent {
            None => self.root = Some(c),
            Some(g) if self.entries[g].left == Some(p) => self.entries[g].left = Some(c),
            Some(g) => self.entries[g].right = Some(c),
        }
        if left {
            self.entries[c].left = Some(p);
        } else {
            self.entries[c].right = Some(p);
        }
        self.entries[p].parent = Some(c);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The black height of the subtree at `entry`, checking the red-black
    /// rules on the way.
    fn black_height(set: &JavaTreeSet, entry: Option<usize>) -> usize {
        let Some(e) = entry else { return 1 };
        let node = &set.entries[e];
        if node.red {
            assert!(
                !set.is_red(node.left) && !set.is_red(node.right),
                "red with a red child"
            );
        }
        for child in [node.left, node.right].into_iter().flatten() {
            assert_eq!(set.entries[child].parent, Some(e), "parent link");
        }
        let left = black_height(set, node.left);
        assert_eq!(left, black_height(set, node.right), "black heights differ");
        left + usize::from(!node.red)
    }

    #[test]
    fn a_fixed_order_gives_a_sorted_balanced_tree() {
        let mut set = JavaTreeSet::default();
        let inserted = [5, 3, 9, 1, 4, 7, 8, 2, 6, 0, 3, 9];
        for item in inserted {
            set.insert(item, |a, b| a.cmp(&b));
        }
        assert_eq!(set.items(), (0..10).collect::<Vec<_>>());
        assert!(!set.is_red(set.root));
        black_height(&set, set.root);
        // Ascending insertions rotate at the third: 1 is the root then.
        let mut ascending = JavaTreeSet::default();
        for item in 0..3 {
            ascending.insert(item, |a, b| a.cmp(&b));
        }
        let root = ascending.root.map(|root| ascending.entries[root].item);
        assert_eq!(root, Some(1));
    }

    #[test]
    fn an_element_is_placed_by_the_order_at_its_insertion() {
        // 1 and 2 go in while equal in rank (then ordered by value): 1 is
        // the root, 2 its right child. 2 then ranks first, and 0, compared
        // with the root only, goes left of 1: in order 0, 1, 2, where a
        // fresh sort would give 2, 0, 1.
        let rank = std::cell::Cell::new([0, 0, 0]);
        let compare = |a: usize, b: usize| {
            let rank = rank.get();
            rank[b].cmp(&rank[a]).then(a.cmp(&b))
        };
        let mut set = JavaTreeSet::default();
        set.insert(1, compare);
        set.insert(2, compare);
        rank.set([0, 0, 5]);
        set.insert(0, compare);
        assert_eq!(set.items(), vec![0, 1, 2]);
    }
}
