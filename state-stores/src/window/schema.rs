//! Binary layouts of window store keys.
//!
//! Storage key (see [`crate::segments`] and [`crate::key_encoding`]):
//! `segment prefix ++ escaped key ++ window start (ordered) ++ seqnum (4 BE)`,
//! so one key's windows are one contiguous range in time order.
//!
//! Changelog key (Kafka Streams' `WindowKeySchema`):
//! `key ++ window start (8 BE) ++ seqnum (4 BE)`; the fixed-width suffix
//! makes it unambiguous to decode.

use crate::key_encoding::{push_i64, push_key, push_u32, take_i64, take_key, take_u32};
use crate::range::{prefix_successor, ByteRange};
use crate::segments::strip_segment;

const CHANGELOG_SUFFIX_LEN: usize = 8 + 4;

/// The parts of a window entry's key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct WindowKeyParts {
    pub(crate) key: Vec<u8>,
    pub(crate) window_start: i64,
    pub(crate) seqnum: u32,
}

/// Prefix shared by all duplicates of `key` in the window at `window_start`.
pub(crate) fn window_prefix(segment_prefix: &[u8], key: &[u8], window_start: i64) -> Vec<u8> {
    let mut out = Vec::with_capacity(segment_prefix.len() + key.len() + 2 + 8 + 4);
    out.extend_from_slice(segment_prefix);
    push_key(&mut out, key);
    push_i64(&mut out, window_start);
    out
}

pub(crate) fn storage_key(
    segment_prefix: &[u8],
    key: &[u8],
    window_start: i64,
    seqnum: u32,
) -> Vec<u8> {
    let mut out = window_prefix(segment_prefix, key, window_start);
    push_u32(&mut out, seqnum);
    out
}

pub(crate) fn decode_storage_key(bytes: &[u8]) -> Option<WindowKeyParts> {
    let (key, rest) = take_key(strip_segment(bytes)?)?;
    let (window_start, rest) = take_i64(rest)?;
    let (seqnum, rest) = take_u32(rest)?;
    rest.is_empty().then_some(WindowKeyParts {
        key,
        window_start,
        seqnum,
    })
}

/// The part of one segment holding keys in `[key_from, key_to]` with window
/// starts that may lie in `[time_from, time_to]` (keys strictly inside the
/// key range are included whatever their time and must be filtered).
pub(crate) fn scan_range(
    segment_prefix: &[u8],
    key_from: Option<&[u8]>,
    key_to: Option<&[u8]>,
    time_from: i64,
    time_to: i64,
) -> ByteRange {
    let start = match key_from {
        Some(key) => window_prefix(segment_prefix, key, time_from),
        None => segment_prefix.to_vec(),
    };
    let end = match key_to {
        Some(key) => prefix_successor(&window_prefix(segment_prefix, key, time_to)),
        None => prefix_successor(segment_prefix),
    };
    ByteRange::half_open(start, end)
}

pub(crate) fn changelog_key(key: &[u8], window_start: i64, seqnum: u32) -> Vec<u8> {
    let mut out = Vec::with_capacity(key.len() + CHANGELOG_SUFFIX_LEN);
    out.extend_from_slice(key);
    out.extend_from_slice(&window_start.to_be_bytes());
    out.extend_from_slice(&seqnum.to_be_bytes());
    out
}

/// Splits a window changelog key (Kafka Streams' layout: key, window start,
/// seqnum) into its parts; `None` if it is too short to hold them.
pub fn decode_changelog_key(bytes: &[u8]) -> Option<(&[u8], i64, u32)> {
    let split = bytes.len().checked_sub(CHANGELOG_SUFFIX_LEN)?;
    let (key, suffix) = bytes.split_at(split);
    let (start, seqnum) = suffix.split_first_chunk::<8>()?;
    let seqnum: [u8; 4] = seqnum.try_into().ok()?;
    Some((key, i64::from_be_bytes(*start), u32::from_be_bytes(seqnum)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::segments::segment_prefix;

    #[test]
    fn storage_keys_round_trip() {
        let prefix = segment_prefix(3);
        let bytes = storage_key(&prefix, b"k\x00ey", -5, 7);
        let expected = WindowKeyParts {
            key: b"k\x00ey".to_vec(),
            window_start: -5,
            seqnum: 7,
        };
        assert_eq!(decode_storage_key(&bytes), Some(expected));
        assert_eq!(decode_storage_key(&bytes[..bytes.len() - 1]), None);
    }

    #[test]
    fn changelog_keys_use_kafkas_layout() {
        let bytes = changelog_key(b"ab", 1, 2);
        assert_eq!(bytes, b"ab\0\0\0\0\0\0\0\x01\0\0\0\x02");
        assert_eq!(decode_changelog_key(&bytes), Some((&b"ab"[..], 1, 2)));
        assert_eq!(decode_changelog_key(&bytes[..11]), None);
    }

    #[test]
    fn a_single_key_range_excludes_keys_it_prefixes() {
        let prefix = segment_prefix(0);
        let range = scan_range(&prefix, Some(b"a"), Some(b"a"), 0, i64::MAX);
        assert!(range.contains(&storage_key(&prefix, b"a", 10, 0)));
        assert!(!range.contains(&storage_key(&prefix, b"a\x00", 10, 0)));
        assert!(!range.contains(&storage_key(&prefix, b"a\x01", 10, 0)));
    }
}
