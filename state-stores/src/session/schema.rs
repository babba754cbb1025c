//! Binary layouts of session store keys.
//!
//! Storage key (see [`crate::segments`] and [`crate::key_encoding`]):
//! `segment prefix ++ escaped key ++ end (ordered) ++ start (ordered)`, so one
//! key's sessions are one contiguous range ordered by end, then start - the
//! order `find_sessions` scans in, starting at the earliest end.
//!
//! Changelog key (Kafka Streams' `SessionKeySchema`):
//! `key ++ end (8 BE) ++ start (8 BE)`.

use super::SessionKey;
use crate::key_encoding::{push_i64, push_key, take_i64, take_key};
use crate::range::{prefix_successor, ByteRange};
use crate::segments::strip_segment;

const CHANGELOG_SUFFIX_LEN: usize = 8 + 8;

fn key_prefix(segment_prefix: &[u8], key: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(segment_prefix.len() + key.len() + 2 + 16);
    out.extend_from_slice(segment_prefix);
    push_key(&mut out, key);
    out
}

pub(crate) fn storage_key(segment_prefix: &[u8], session: &SessionKey) -> Vec<u8> {
    let mut out = key_prefix(segment_prefix, &session.key);
    push_i64(&mut out, session.end);
    push_i64(&mut out, session.start);
    out
}

pub(crate) fn decode_storage_key(bytes: &[u8]) -> Option<SessionKey> {
    let (key, rest) = take_key(strip_segment(bytes)?)?;
    let (end, rest) = take_i64(rest)?;
    let (start, rest) = take_i64(rest)?;
    rest.is_empty().then_some(SessionKey { key, start, end })
}

/// The part of one segment holding keys in `[key_from, key_to]`, starting at
/// `key_from`'s sessions ending at `earliest_end` (keys after `key_from` are
/// included whatever their end and must be filtered).
pub(crate) fn scan_range(
    segment_prefix: &[u8],
    key_from: Option<&[u8]>,
    key_to: Option<&[u8]>,
    earliest_end: i64,
) -> ByteRange {
    let start = match key_from {
        Some(key) => {
            let mut start = key_prefix(segment_prefix, key);
            push_i64(&mut start, earliest_end);
            start
        }
        None => segment_prefix.to_vec(),
    };
    let end = match key_to {
        Some(key) => prefix_successor(&key_prefix(segment_prefix, key)),
        None => prefix_successor(segment_prefix),
    };
    ByteRange::half_open(start, end)
}

pub(crate) fn changelog_key(session: &SessionKey) -> Vec<u8> {
    let mut out = Vec::with_capacity(session.key.len() + CHANGELOG_SUFFIX_LEN);
    out.extend_from_slice(&session.key);
    out.extend_from_slice(&session.end.to_be_bytes());
    out.extend_from_slice(&session.start.to_be_bytes());
    out
}

/// Decodes a session changelog key (Kafka Streams' layout: key, end,
/// start); `None` if it is too short to hold the bounds.
pub fn decode_changelog_key(bytes: &[u8]) -> Option<SessionKey> {
    let split = bytes.len().checked_sub(CHANGELOG_SUFFIX_LEN)?;
    let (key, suffix) = bytes.split_at(split);
    let (end, start) = suffix.split_first_chunk::<8>()?;
    let start: [u8; 8] = start.try_into().ok()?;
    Some(SessionKey {
        key: key.to_vec(),
        start: i64::from_be_bytes(start),
        end: i64::from_be_bytes(*end),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::segments::segment_prefix;

    fn session(key: &[u8], start: i64, end: i64) -> SessionKey {
        SessionKey {
            key: key.to_vec(),
            start,
            end,
        }
    }

    #[test]
    fn storage_keys_round_trip_and_sort_by_end_then_start() {
        let prefix = segment_prefix(1);
        let early = storage_key(&prefix, &session(b"k", 5, 10));
        let late = storage_key(&prefix, &session(b"k", 0, 11));
        assert!(early < late);
        assert_eq!(decode_storage_key(&early), Some(session(b"k", 5, 10)));
    }

    #[test]
    fn changelog_keys_use_kafkas_layout() {
        let bytes = changelog_key(&session(b"k", 1, 2));
        assert_eq!(bytes, b"k\0\0\0\0\0\0\0\x02\0\0\0\0\0\0\0\x01");
        assert_eq!(decode_changelog_key(&bytes), Some(session(b"k", 1, 2)));
        assert_eq!(decode_changelog_key(&bytes[..15]), None);
    }
}
