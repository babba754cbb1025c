//! The header both foreign-key join records start with (Kafka's
//! subscription and response layouts): a version byte whose high bit says
//! there is no hash, and the optional 128-bit hash of the left value.

use streams_core::serde::SerdeError;

use super::murmur3::ValueHash;
use crate::byte_layout::ByteReader;

/// The high bit of the version byte: the record has no hash.
const NO_HASH: u8 = 0x80;

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

/// Reads the hash, if `hashed`.
pub(super) fn read_hash(
    reader: &mut ByteReader<'_>,
    hashed: bool,
) -> Result<Option<ValueHash>, SerdeError> {
    if !hashed {
        return Ok(None);
    }
    Ok(Some(ValueHash([reader.u64()?, reader.u64()?])))
}
