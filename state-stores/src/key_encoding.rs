//! Order-preserving binary encodings for composite storage keys.
//!
//! Window and session stores store `key ++ timestamps`. Concatenating the
//! raw key (as Kafka Streams' `WindowKeySchema` does) is ambiguous for
//! variable-length keys: key `a` followed by a timestamp can sort among the
//! entries of key `a\x00...`, so a per-key range read picks up other keys and
//! key-then-time order breaks. Instead the key is escaped so the encoding is
//! prefix-free and preserves order:
//!
//! - every `0x00` byte of the key becomes `0x00 0xFF`,
//! - the key ends with the terminator `0x00 0x01`.
//!
//! A key that is a prefix of another sorts first (its terminator `0x00 0x01`
//! is below both an escaped zero `0x00 0xFF` and any non-zero byte), so
//! encoded keys sort exactly like raw keys, and all entries of one key form
//! one contiguous range ordered by the fields that follow.
//!
//! Timestamps are stored big-endian with the sign bit flipped, so negative
//! values sort before positive ones.

const ESCAPE: u8 = 0xFF;
const TERMINATOR: u8 = 0x01;

/// Appends the escaped, terminated encoding of `key`.
pub(crate) fn push_key(out: &mut Vec<u8>, key: &[u8]) {
    out.reserve(key.len() + 2);
    for &byte in key {
        out.push(byte);
        if byte == 0 {
            out.push(ESCAPE);
        }
    }
    out.extend_from_slice(&[0, TERMINATOR]);
}

/// Decodes a key written by [`push_key`], returning it and the bytes after
/// it; `None` if `bytes` does not start with a valid encoding.
pub(crate) fn take_key(bytes: &[u8]) -> Option<(Vec<u8>, &[u8])> {
    let mut key = Vec::with_capacity(bytes.len());
    let mut rest = bytes;
    loop {
        match rest {
            [0, ESCAPE, tail @ ..] => {
                key.push(0);
                rest = tail;
            }
            [0, TERMINATOR, tail @ ..] => return Some((key, tail)),
            [0, ..] | [] => return None,
            [byte, tail @ ..] => {
                key.push(*byte);
                rest = tail;
            }
        }
    }
}

/// Appends `value` so that byte order equals numeric order.
pub(crate) fn push_i64(out: &mut Vec<u8>, value: i64) {
    out.extend_from_slice(&((value as u64) ^ (1 << 63)).to_be_bytes());
}

/// Decodes an `i64` written by [`push_i64`].
pub(crate) fn take_i64(bytes: &[u8]) -> Option<(i64, &[u8])> {
    let (head, rest) = bytes.split_first_chunk::<8>()?;
    Some(((u64::from_be_bytes(*head) ^ (1 << 63)) as i64, rest))
}

/// Appends `value` big-endian.
pub(crate) fn push_u32(out: &mut Vec<u8>, value: u32) {
    out.extend_from_slice(&value.to_be_bytes());
}

/// Decodes a `u32` written by [`push_u32`].
pub(crate) fn take_u32(bytes: &[u8]) -> Option<(u32, &[u8])> {
    let (head, rest) = bytes.split_first_chunk::<4>()?;
    Some((u32::from_be_bytes(*head), rest))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn encoded(key: &[u8], timestamp: i64) -> Vec<u8> {
        let mut out = Vec::new();
        push_key(&mut out, key);
        push_i64(&mut out, timestamp);
        out
    }

    proptest! {
        #[test]
        fn composite_keys_sort_by_key_then_timestamp(
            a in proptest::collection::vec(prop_oneof![Just(0u8), Just(1u8), Just(0xFFu8), any::<u8>()], 0..6),
            b in proptest::collection::vec(prop_oneof![Just(0u8), Just(1u8), Just(0xFFu8), any::<u8>()], 0..6),
            ta in any::<i64>(),
            tb in any::<i64>(),
        ) {
            let expected = (a.as_slice(), ta).cmp(&(b.as_slice(), tb));
            prop_assert_eq!(encoded(&a, ta).cmp(&encoded(&b, tb)), expected);
        }

        #[test]
        fn keys_and_timestamps_round_trip(key in proptest::collection::vec(any::<u8>(), 0..12), ts in any::<i64>()) {
            let bytes = encoded(&key, ts);
            let (decoded, rest) = take_key(&bytes).ok_or_else(|| TestCaseError::fail("undecodable key"))?;
            prop_assert_eq!(&decoded, &key);
            prop_assert_eq!(take_i64(rest), Some((ts, &[][..])));
        }
    }

    #[test]
    fn truncated_keys_do_not_decode() {
        assert_eq!(take_key(b"ab"), None);
        assert_eq!(take_key(b"a\x00"), None);
        assert_eq!(take_key(b"a\x00\x07"), None);
        assert_eq!(take_u32(b"abc"), None);
    }
}
