//! The header both foreign-key join records start with (Kafka's
//! subscription and response layouts): a version byte whose high bit says
//! there is no hash, and the optional 128-bit hash of the left value.

use streams_core::serde::SerdeError;

use super::murmur3::ValueHash;

/// The high bit of the version byte: the record has no hash.
const NO_HASH: u8 = 0x80;

/// A malformed-record error for `topic`.
pub(super) fn malformed(topic: &str, reason: &str) -> SerdeError {
    SerdeError::Malformed {
        topic: topic.to_owned(),
        reason: reason.to_owned(),
    }
}

/// The version byte: `version`, flagged when there is no hash.
pub(super) fn version_byte(version: u8, hash: Option<ValueHash>) -> u8 {
    if hash.is_some() {
        version
    } else {
        version | NO_HASH
    }
}

/// Splits a version byte into the version and whether a hash follows.
pub(super) fn split_version_byte(byte: u8) -> (u8, bool) {
    (byte & !NO_HASH, byte & NO_HASH == 0)
}

/// Appends the hash's two halves, big-endian.
pub(super) fn write_hash(hash: Option<ValueHash>, out: &mut Vec<u8>) {
    if let Some(ValueHash([h1, h2])) = hash {
        out.extend_from_slice(&h1.to_be_bytes());
        out.extend_from_slice(&h2.to_be_bytes());
    }
}

/// Reads the hash (if `hashed`) from the front of `data`; returns it and
/// the rest.
pub(super) fn read_hash<'a>(
    topic: &str,
    hashed: bool,
    data: &'a [u8],
) -> Result<(Option<ValueHash>, &'a [u8]), SerdeError> {
    if !hashed {
        return Ok((None, data));
    }
    let (h1, rest) = data
        .split_first_chunk::<8>()
        .ok_or_else(|| malformed(topic, "foreign-key join hash cut short"))?;
    let (h2, rest) = rest
        .split_first_chunk::<8>()
        .ok_or_else(|| malformed(topic, "foreign-key join hash cut short"))?;
    let hash = ValueHash([u64::from_be_bytes(*h1), u64::from_be_bytes(*h2)]);
    Ok((Some(hash), rest))
}

/// Splits the first byte off `data`.
pub(super) fn split_byte<'a>(topic: &str, data: &'a [u8]) -> Result<(u8, &'a [u8]), SerdeError> {
    data.split_first()
        .map(|(&byte, rest)| (byte, rest))
        .ok_or_else(|| malformed(topic, "foreign-key join record cut short"))
}
