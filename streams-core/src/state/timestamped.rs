//! Timestamped key-value stores: values stored with the timestamp of their
//! last update, in the byte layout of Kafka Streams' `ValueAndTimestamp`.

use std::sync::Arc;

use crate::serde::{non_null, DefaultSerde, Deserializer, SerdeError, Serializer, SharedSerde};

use super::KeyValueStore;

/// A value together with the timestamp of its last update (milliseconds),
/// as the values of a [`TimestampedKeyValueStore`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ValueAndTimestamp<V> {
    /// The value.
    pub value: V,
    /// Timestamp of the value's last update, in milliseconds.
    pub timestamp: i64,
}

impl<V> ValueAndTimestamp<V> {
    /// Pairs `value` with `timestamp`.
    pub fn new(value: V, timestamp: i64) -> Self {
        Self { value, timestamp }
    }
}

/// A key-value store whose values carry the timestamp of their last
/// update (Kafka Streams' `TimestampedKeyValueStore`). Values are stored as
/// the 8-byte big-endian timestamp followed by the value's bytes.
pub type TimestampedKeyValueStore<K, V> = KeyValueStore<K, ValueAndTimestamp<V>>;

/// Serializes [`ValueAndTimestamp<V>`] as the 8-byte big-endian timestamp
/// followed by the bytes of the value's serde.
pub struct ValueAndTimestampSerde<V> {
    inner: SharedSerde<V>,
}

impl<V> ValueAndTimestampSerde<V> {
    /// Wraps `inner`, which encodes the values.
    pub fn new(inner: SharedSerde<V>) -> Self {
        Self { inner }
    }
}

impl<V> Serializer<ValueAndTimestamp<V>> for ValueAndTimestampSerde<V> {
    /// A value that serializes to null makes the whole entry null, as in
    /// Kafka's `ValueAndTimestampSerializer`.
    fn serialize(
        &self,
        topic: &str,
        data: &ValueAndTimestamp<V>,
    ) -> Result<Option<Vec<u8>>, SerdeError> {
        let mut bytes = Vec::new();
        Ok(self
            .serialize_into(topic, data, &mut bytes)?
            .then_some(bytes))
    }

    /// Writes the timestamp, then the value right behind it.
    fn serialize_into(
        &self,
        topic: &str,
        data: &ValueAndTimestamp<V>,
        out: &mut Vec<u8>,
    ) -> Result<bool, SerdeError> {
        let start = out.len();
        state_stores::ValueAndTimestamp::encode_timestamp(data.timestamp, out);
        let written = self.inner.serialize_into(topic, &data.value, out);
        if !matches!(written, Ok(true)) {
            out.truncate(start);
        }
        written
    }
}

impl<V> Deserializer<ValueAndTimestamp<V>> for ValueAndTimestampSerde<V> {
    fn deserialize(
        &self,
        topic: &str,
        data: Option<&[u8]>,
    ) -> Result<ValueAndTimestamp<V>, SerdeError> {
        let bytes = non_null::<ValueAndTimestamp<V>>(topic, data)?;
        // The only failure of `split` is input shorter than the timestamp.
        let (timestamp, value) =
            state_stores::ValueAndTimestamp::split(bytes).map_err(|_| SerdeError::Size {
                topic: topic.to_owned(),
                type_name: std::any::type_name::<ValueAndTimestamp<V>>(),
                expected: std::mem::size_of::<i64>(),
                actual: bytes.len(),
            })?;
        Ok(ValueAndTimestamp::new(
            self.inner.deserialize(topic, Some(value))?,
            timestamp,
        ))
    }
}

impl<V: DefaultSerde> DefaultSerde for ValueAndTimestamp<V> {
    fn default_serde() -> SharedSerde<Self> {
        std::sync::Arc::new(ValueAndTimestampSerde::new(V::default_serde()))
    }
}

/// The values of a timestamped store without their timestamps: the value
/// serde of a plain view of the store (Kafka's store facades). The view
/// refuses writes before any value gets here, as it has no timestamp to
/// write one with.
struct PlainValues<V>(SharedSerde<ValueAndTimestamp<V>>);

/// The serde of the values `timestamped` encodes, without their timestamps.
pub(super) fn plain_values<V: 'static>(
    timestamped: SharedSerde<ValueAndTimestamp<V>>,
) -> SharedSerde<V> {
    Arc::new(PlainValues(timestamped))
}

impl<V> Serializer<V> for PlainValues<V> {
    fn serialize(&self, topic: &str, _data: &V) -> Result<Option<Vec<u8>>, SerdeError> {
        Err(SerdeError::Malformed {
            topic: topic.to_owned(),
            reason: "a plain view of a timestamped store has no timestamp to write with".into(),
        })
    }
}

impl<V> Deserializer<V> for PlainValues<V> {
    fn deserialize(&self, topic: &str, data: Option<&[u8]>) -> Result<V, SerdeError> {
        Ok(self.0.deserialize(topic, data)?.value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::serde::StringSerde;
    use std::sync::Arc;

    fn serde() -> ValueAndTimestampSerde<String> {
        ValueAndTimestampSerde::new(Arc::new(StringSerde))
    }

    #[test]
    fn layout_is_big_endian_timestamp_then_value() -> Result<(), SerdeError> {
        let value = ValueAndTimestamp::new("v".to_owned(), 258);
        let bytes = serde().serialize("t", &value)?;
        assert_eq!(bytes.as_deref(), Some(&b"\0\0\0\0\0\0\x01\x02v"[..]));
        assert_eq!(serde().deserialize("t", bytes.as_deref())?, value);
        Ok(())
    }

    #[test]
    fn negative_timestamps_and_empty_values_round_trip() -> Result<(), SerdeError> {
        let value = ValueAndTimestamp::new(String::new(), -1);
        let bytes = serde().serialize("t", &value)?;
        assert_eq!(bytes.as_deref(), Some(&[0xFF; 8][..]));
        assert_eq!(serde().deserialize("t", bytes.as_deref())?, value);
        Ok(())
    }

    #[test]
    fn short_or_null_input_is_a_typed_error() {
        assert!(matches!(
            serde().deserialize("t", Some(b"1234567")),
            Err(SerdeError::Size {
                expected: 8,
                actual: 7,
                ..
            })
        ));
        assert!(matches!(
            serde().deserialize("t", None),
            Err(SerdeError::Null { .. })
        ));
    }

    #[test]
    fn a_null_value_makes_a_null_entry() -> Result<(), SerdeError> {
        let serde = ValueAndTimestampSerde::new(Option::<String>::default_serde());
        assert_eq!(
            serde.serialize("t", &ValueAndTimestamp::new(None, 5))?,
            None
        );
        let mut buffer = b"kept".to_vec();
        assert!(!serde.serialize_into("t", &ValueAndTimestamp::new(None, 5), &mut buffer)?);
        assert_eq!(buffer, b"kept");
        Ok(())
    }

    #[test]
    fn serializing_into_a_buffer_appends_the_same_bytes() -> Result<(), SerdeError> {
        let value = ValueAndTimestamp::new("v".to_owned(), 258);
        let mut buffer = b"x".to_vec();
        assert!(serde().serialize_into("t", &value, &mut buffer)?);
        assert_eq!(buffer, b"x\0\0\0\0\0\0\x01\x02v");
        Ok(())
    }

    #[test]
    fn the_default_serde_wraps_the_value_default() -> Result<(), SerdeError> {
        let serde = ValueAndTimestamp::<i64>::default_serde();
        let bytes = serde.serialize("t", &ValueAndTimestamp::new(7, 9))?;
        let mut expected = 9_i64.to_be_bytes().to_vec();
        expected.extend_from_slice(&7_i64.to_be_bytes());
        assert_eq!(bytes, Some(expected));
        Ok(())
    }
}
