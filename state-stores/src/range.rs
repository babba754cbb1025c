//! Key ranges and scan directions shared by every store and backend.

/// Direction of an ordered scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ScanOrder {
    /// Ascending key (or time) order.
    Forward,
    /// Descending key (or time) order.
    Backward,
}

/// A half-open range of byte keys, `[start, end)`, in lexicographic order.
///
/// Inclusive upper bounds are turned into exclusive ones by appending a zero
/// byte (the smallest key greater than `to` is `to ++ [0]`), so one type
/// expresses inclusive ranges, prefixes and open ends without special cases.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ByteRange {
    start: Vec<u8>,
    end: Option<Vec<u8>>,
}

impl ByteRange {
    /// Every key.
    pub fn all() -> Self {
        Self {
            start: Vec::new(),
            end: None,
        }
    }

    /// Keys `k` with `from <= k <= to`; `None` leaves that end open.
    /// If `from > to` the range is empty (as in Kafka Streams).
    pub fn inclusive(from: Option<&[u8]>, to: Option<&[u8]>) -> Self {
        Self {
            start: from.map(<[u8]>::to_vec).unwrap_or_default(),
            end: to.map(successor),
        }
    }

    /// Keys that start with `prefix`.
    pub fn prefix(prefix: &[u8]) -> Self {
        Self {
            start: prefix.to_vec(),
            end: prefix_successor(prefix),
        }
    }

    /// Keys `k` with `start <= k < end`; `None` leaves the upper end open.
    pub fn half_open(start: Vec<u8>, end: Option<Vec<u8>>) -> Self {
        Self { start, end }
    }

    /// Inclusive lower bound (the empty key when the range is open below).
    pub fn start(&self) -> &[u8] {
        &self.start
    }

    /// Exclusive upper bound, `None` when open above.
    pub fn end(&self) -> Option<&[u8]> {
        self.end.as_deref()
    }

    /// Whether no key can fall into the range.
    pub fn is_empty(&self) -> bool {
        self.end
            .as_deref()
            .is_some_and(|end| end <= self.start.as_slice())
    }

    /// Whether `key` lies in the range.
    pub fn contains(&self, key: &[u8]) -> bool {
        key >= self.start.as_slice() && self.end.as_deref().is_none_or(|end| key < end)
    }
}

/// The smallest key greater than `key`.
fn successor(key: &[u8]) -> Vec<u8> {
    let mut next = Vec::with_capacity(key.len() + 1);
    next.extend_from_slice(key);
    next.push(0);
    next
}

/// The smallest key greater than every key starting with `prefix`, or `None`
/// if there is none (the prefix is empty or all `0xFF`).
pub(crate) fn prefix_successor(prefix: &[u8]) -> Option<Vec<u8>> {
    let last = prefix.iter().rposition(|&b| b != 0xFF)?;
    let mut next = prefix[..=last].to_vec();
    next[last] += 1;
    Some(next)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inclusive_range_contains_both_bounds_and_nothing_beyond() {
        let range = ByteRange::inclusive(Some(b"b"), Some(b"d"));
        assert!(!range.contains(b"a"));
        assert!(range.contains(b"b"));
        assert!(range.contains(b"c\xff\xff"));
        assert!(range.contains(b"d"));
        assert!(!range.contains(b"d\x00"));
    }

    #[test]
    fn reversed_bounds_give_an_empty_range() {
        assert!(ByteRange::inclusive(Some(b"d"), Some(b"b")).is_empty());
        assert!(!ByteRange::inclusive(Some(b"b"), Some(b"b")).is_empty());
    }

    #[test]
    fn prefix_range_covers_exactly_the_prefixed_keys() {
        let range = ByteRange::prefix(b"ab\xff");
        assert!(range.contains(b"ab\xff"));
        assert!(range.contains(b"ab\xff\xff\x01"));
        assert!(!range.contains(b"ac"));
        assert_eq!(range.end(), Some(&b"ac"[..]));
        assert_eq!(ByteRange::prefix(b"\xff\xff").end(), None);
        assert_eq!(ByteRange::prefix(b"").end(), None);
    }
}
