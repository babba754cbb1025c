//! The `ValueAndTimestamp` layout of timestamped key-value stores.

use crate::error::{Result, StoreError};

/// A value together with the timestamp of its last update, stored as
/// Kafka Streams' `ValueAndTimestamp`: the 8-byte big-endian timestamp, then
/// the value bytes.
///
/// A timestamped key-value store is a [`KeyValueStore`](crate::KeyValueStore)
/// whose values use this layout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValueAndTimestamp {
    /// The value.
    pub value: Vec<u8>,
    /// Timestamp of the value's last update, in milliseconds.
    pub timestamp: i64,
}

impl ValueAndTimestamp {
    /// The bytes of the timestamp in front of the value.
    pub const TIMESTAMP_LEN: usize = 8;

    /// Pairs `value` with `timestamp`.
    pub fn new(value: Vec<u8>, timestamp: i64) -> Self {
        Self { value, timestamp }
    }

    /// Encodes `value` and `timestamp` without building the struct.
    pub fn encode(value: &[u8], timestamp: i64) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(Self::TIMESTAMP_LEN + value.len());
        Self::encode_timestamp(timestamp, &mut bytes);
        bytes.extend_from_slice(value);
        bytes
    }

    /// Appends the part of the layout before the value to `out`, so that a
    /// caller can write the value's bytes right behind it.
    pub fn encode_timestamp(timestamp: i64, out: &mut Vec<u8>) {
        out.extend_from_slice(&timestamp.to_be_bytes());
    }

    /// Splits stored bytes into timestamp and value without copying.
    pub fn split(bytes: &[u8]) -> Result<(i64, &[u8])> {
        let (timestamp, value) = bytes
            .split_first_chunk::<{ Self::TIMESTAMP_LEN }>()
            .ok_or_else(|| StoreError::MalformedValueAndTimestamp { len: bytes.len() })?;
        Ok((i64::from_be_bytes(*timestamp), value))
    }

    /// Decodes stored bytes.
    pub fn decode(bytes: &[u8]) -> Result<Self> {
        let (timestamp, value) = Self::split(bytes)?;
        Ok(Self::new(value.to_vec(), timestamp))
    }

    /// Encodes into the stored layout.
    pub fn to_bytes(&self) -> Vec<u8> {
        Self::encode(&self.value, self.timestamp)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_is_timestamp_then_value() -> Result<()> {
        let encoded = ValueAndTimestamp::new(b"v".to_vec(), 258).to_bytes();
        assert_eq!(encoded, b"\0\0\0\0\0\0\x01\x02v");
        assert_eq!(
            ValueAndTimestamp::decode(&encoded)?,
            ValueAndTimestamp::new(b"v".to_vec(), 258)
        );
        Ok(())
    }

    #[test]
    fn short_input_is_an_error() {
        assert!(matches!(
            ValueAndTimestamp::split(b"1234567"),
            Err(StoreError::MalformedValueAndTimestamp { len: 7 })
        ));
    }
}
