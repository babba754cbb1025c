//! The shared "outer" store of a left or outer stream-stream join: records
//! still without a match, waiting for their window to close.
//!
//! Keys are laid out as Kafka's `TimestampedKeyAndJoinSide`: the 8-byte
//! big-endian timestamp, one byte for the side (1 = left, 0 = right), then
//! the key's bytes, so a scan visits records in time order (right before
//! left at equal times). Each key holds the list of values that arrived
//! with it, laid out as Kafka's list-value store writes it (so the store's
//! changelog holds the bytes Kafka's would).

use std::sync::Arc;

use streams_core::serde::{Deserializer, SerdeError, Serializer, SharedSerde};
use streams_core::state::{KeyValueStore, Stores};

use super::joiner::Unmatched;
use crate::byte_layout::{write_length, ByteReader};

/// A key of the outer store: when, from which side, which key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct OuterKey<K> {
    pub(crate) timestamp: i64,
    pub(crate) left: bool,
    pub(crate) key: K,
}

/// The outer store as the join processors use it.
pub(crate) type OuterStore<K, V1, V2> = KeyValueStore<OuterKey<K>, Vec<Unmatched<V1, V2>>>;

/// A builder for the outer store named `name`.
pub(crate) fn outer_store_builder<K: 'static, V1: 'static, V2: 'static>(
    name: &str,
    key: SharedSerde<K>,
    left: SharedSerde<V1>,
    right: SharedSerde<V2>,
) -> streams_core::state::KeyValueStoreBuilder<OuterKey<K>, Vec<Unmatched<V1, V2>>> {
    Stores::key_value_store_builder_with(
        name,
        Arc::new(OuterKeySerde { key }),
        Arc::new(UnmatchedListSerde { left, right }),
    )
}

/// Bytes of a value whose serde must not make it null.
fn non_null_bytes<T>(topic: &str, bytes: Option<Vec<u8>>) -> Result<Vec<u8>, SerdeError> {
    bytes.ok_or_else(|| SerdeError::Null {
        topic: topic.to_owned(),
        type_name: std::any::type_name::<T>(),
    })
}

/// Kafka's `ListSerde` flag for lists of values of varying size.
const VARIABLE_SIZE: u8 = 1;

struct OuterKeySerde<K> {
    key: SharedSerde<K>,
}

impl<K> Serializer<OuterKey<K>> for OuterKeySerde<K> {
    fn serialize(&self, topic: &str, data: &OuterKey<K>) -> Result<Option<Vec<u8>>, SerdeError> {
        let key = non_null_bytes::<K>(topic, self.key.serialize(topic, &data.key)?)?;
        let mut bytes = Vec::with_capacity(9 + key.len());
        bytes.extend_from_slice(&data.timestamp.to_be_bytes());
        bytes.push(u8::from(data.left));
        bytes.extend_from_slice(&key);
        Ok(Some(bytes))
    }
}

impl<K> Deserializer<OuterKey<K>> for OuterKeySerde<K> {
    fn deserialize(&self, topic: &str, data: Option<&[u8]>) -> Result<OuterKey<K>, SerdeError> {
        let mut reader = ByteReader::new(topic, "outer join key", data.unwrap_or_default());
        Ok(OuterKey {
            timestamp: reader.i64()?,
            left: reader.flag()?,
            key: self.key.deserialize(topic, Some(reader.rest()))?,
        })
    }
}

/// Kafka's `ListSerde` of byte arrays (as its `ListValueStore` keeps
/// them) over its `LeftOrRightValue`: the byte 1 (the variable-size
/// strategy), a 4-byte big-endian count, then each value as a 4-byte
/// length and that many bytes: a side byte (1 = left) and the bytes of that
/// side's serde.
struct UnmatchedListSerde<V1, V2> {
    left: SharedSerde<V1>,
    right: SharedSerde<V2>,
}

impl<V1, V2> Serializer<Vec<Unmatched<V1, V2>>> for UnmatchedListSerde<V1, V2> {
    fn serialize(
        &self,
        topic: &str,
        data: &Vec<Unmatched<V1, V2>>,
    ) -> Result<Option<Vec<u8>>, SerdeError> {
        let mut bytes = vec![VARIABLE_SIZE];
        write_length(
            topic,
            "a list of unmatched join values",
            data.len(),
            &mut bytes,
        )?;
        for value in data {
            let (side, value) = match value {
                Unmatched::Left(left) => (1, self.left.serialize(topic, left)?),
                Unmatched::Right(right) => (0, self.right.serialize(topic, right)?),
            };
            let value = non_null_bytes::<Unmatched<V1, V2>>(topic, value)?;
            write_length(
                topic,
                "an unmatched join value",
                value.len() + 1,
                &mut bytes,
            )?;
            bytes.push(side);
            bytes.extend_from_slice(&value);
        }
        Ok(Some(bytes))
    }
}

impl<V1, V2> Deserializer<Vec<Unmatched<V1, V2>>> for UnmatchedListSerde<V1, V2> {
    fn deserialize(
        &self,
        topic: &str,
        data: Option<&[u8]>,
    ) -> Result<Vec<Unmatched<V1, V2>>, SerdeError> {
        let mut reader = ByteReader::new(topic, "unmatched join values", data.unwrap_or_default());
        if reader.u8()? != VARIABLE_SIZE {
            return Err(reader.malformed("is not a list of variable-size values"));
        }
        let count = reader
            .length()?
            .ok_or_else(|| reader.malformed("has a null count"))?;
        // Not reserved from the count: the bytes bound what is read.
        let mut values = Vec::new();
        for _ in 0..count {
            let value = reader
                .prefixed()?
                .ok_or_else(|| reader.malformed("hold a null value"))?;
            let mut value = ByteReader::new(topic, "unmatched join values", value);
            let left = value.flag()?;
            values.push(if left {
                Unmatched::Left(self.left.deserialize(topic, Some(value.rest()))?)
            } else {
                Unmatched::Right(self.right.deserialize(topic, Some(value.rest()))?)
            });
        }
        if !reader.is_empty() {
            return Err(reader.malformed("has bytes after its last value"));
        }
        Ok(values)
    }
}

#[cfg(test)]
mod tests {
    use streams_core::prelude::*;

    use super::*;

    #[test]
    fn keys_order_by_time_then_side_then_key() -> Result<(), SerdeError> {
        let serde = OuterKeySerde {
            key: Arc::new(StringSerde),
        };
        let key = |timestamp, left, key: &str| OuterKey {
            timestamp,
            left,
            key: key.to_owned(),
        };
        let keys = [key(1, false, "b"), key(1, true, "a"), key(256, false, "a")];
        let mut bytes = Vec::new();
        for k in &keys {
            let encoded = serde.serialize("t", k)?.unwrap_or_default();
            assert_eq!(serde.deserialize("t", Some(&encoded))?, *k);
            bytes.push(encoded);
        }
        assert!(bytes.windows(2).all(|pair| pair[0] < pair[1]));
        assert!(serde.deserialize("t", Some(&[0; 8])).is_err());
        Ok(())
    }

    /// A list holds the bytes Kafka's list-value store writes for it: here
    /// a left "A" alone.
    #[test]
    fn value_lists_are_laid_out_as_kafkas() -> Result<(), SerdeError> {
        let serde = UnmatchedListSerde {
            left: Arc::new(StringSerde),
            right: Arc::new(I64Serde),
        };
        let bytes = serde.serialize("t", &vec![Unmatched::Left("A".to_owned())])?;
        assert_eq!(bytes, Some(vec![1, 0, 0, 0, 1, 0, 0, 0, 2, 1, b'A']));
        Ok(())
    }

    #[test]
    fn value_lists_round_trip() -> Result<(), SerdeError> {
        let serde = UnmatchedListSerde {
            left: Arc::new(StringSerde),
            right: Arc::new(I64Serde),
        };
        let values = vec![
            Unmatched::Left("a".to_owned()),
            Unmatched::Right(7),
            Unmatched::Left(String::new()),
        ];
        let bytes = serde.serialize("t", &values)?.unwrap_or_default();
        assert_eq!(serde.deserialize("t", Some(&bytes))?, values);
        assert!(serde.deserialize("t", Some(&bytes[..3])).is_err());
        Ok(())
    }

    /// A side byte other than 0 or 1 is corrupt data, not "right".
    #[test]
    fn a_side_byte_other_than_0_or_1_is_malformed() -> Result<(), SerdeError> {
        let keys = OuterKeySerde {
            key: Arc::new(StringSerde),
        };
        let mut key = keys
            .serialize(
                "t",
                &OuterKey {
                    timestamp: 1,
                    left: false,
                    key: "a".to_owned(),
                },
            )?
            .unwrap_or_default();
        key[8] = 2;
        let decoded = keys.deserialize("t", Some(&key));
        assert!(
            matches!(&decoded, Err(SerdeError::Malformed { reason, .. })
                if reason == "outer join key has the flag byte 2, not 0 or 1"),
            "{decoded:?}"
        );

        let lists = UnmatchedListSerde {
            left: Arc::new(StringSerde),
            right: Arc::new(I64Serde),
        };
        let mut list = lists
            .serialize("t", &vec![Unmatched::Right(7)])?
            .unwrap_or_default();
        // The side byte, after the flag, the count and the value's length.
        list[9] = 7;
        let decoded = lists.deserialize("t", Some(&list));
        assert!(
            matches!(&decoded, Err(SerdeError::Malformed { reason, .. })
                if reason == "unmatched join values has the flag byte 7, not 0 or 1"),
            "{decoded:?}"
        );
        Ok(())
    }
}
