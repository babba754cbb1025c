//! Responses: what the right side of a foreign-key join answers a
//! subscription with, in the layout of Kafka Streams'
//! `SubscriptionResponseWrapper` and its serde.
//!
//! | bytes | field |
//! |---|---|
//! | 1 | version (0) in the low 7 bits; the high bit set when there is no hash |
//! | 16, if hashed | the hash of the left value that subscribed |
//! | rest | the right value, serialized; nothing when there is none |

use streams_core::serde::{Deserializer, SerdeError, Serializer, SharedSerde};

use super::murmur3::ValueHash;
use super::wire::{read_hash, split_version_byte, version_byte, write_hash};
use crate::byte_layout::{malformed, ByteReader};

/// The only version Kafka Streams writes.
const VERSION: u8 = 0;

/// The right side's answer to a subscription (Kafka's
/// `SubscriptionResponseWrapper`).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Response<VO> {
    /// The hash the subscription carried, to tell whether the left row
    /// still has the value that subscribed.
    pub(crate) hash: Option<ValueHash>,
    /// The right row's value; `None` if there is no row.
    pub(crate) foreign_value: Option<VO>,
    /// The partition to send the response to (not written: the topic's
    /// partition is that partition).
    pub(crate) primary_partition: Option<i32>,
}

/// Writes and reads [`Response`]s, with the right value's serde.
pub(crate) struct ResponseSerde<VO> {
    foreign_value: SharedSerde<VO>,
}

impl<VO> ResponseSerde<VO> {
    pub(crate) fn new(foreign_value: SharedSerde<VO>) -> Self {
        Self { foreign_value }
    }
}

impl<VO> Serializer<Response<VO>> for ResponseSerde<VO> {
    fn serialize(&self, topic: &str, data: &Response<VO>) -> Result<Option<Vec<u8>>, SerdeError> {
        let mut bytes = vec![version_byte(VERSION, data.hash)];
        write_hash(data.hash, &mut bytes);
        if let Some(value) = &data.foreign_value {
            self.foreign_value
                .serialize_into(topic, value, &mut bytes)?;
        }
        Ok(Some(bytes))
    }
}

impl<VO> Deserializer<Response<VO>> for ResponseSerde<VO> {
    fn deserialize(&self, topic: &str, data: Option<&[u8]>) -> Result<Response<VO>, SerdeError> {
        let data = data.ok_or_else(|| malformed(topic, "null subscription response"))?;
        let mut reader = ByteReader::new(topic, "subscription response", data);
        let (version, hashed) = split_version_byte(reader.u8()?);
        if version != VERSION {
            return Err(reader.malformed("has an unsupported version"));
        }
        let hash = read_hash(&mut reader, hashed)?;
        // As Kafka, no bytes left means no right value.
        let foreign_value = if reader.is_empty() {
            None
        } else {
            Some(self.foreign_value.deserialize(topic, Some(reader.rest()))?)
        };
        Ok(Response {
            hash,
            foreign_value,
            primary_partition: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use streams_core::serde::StringSerde;

    use super::*;

    fn serde() -> ResponseSerde<String> {
        ResponseSerde::new(Arc::new(StringSerde))
    }

    #[test]
    fn layout_matches_kafka_subscription_response_wrapper() {
        let cases = [
            (Some(ValueHash([2, 3])), Some("right".to_owned())),
            (Some(ValueHash([2, 3])), None),
            (None, None),
        ];
        for (hash, foreign_value) in cases {
            let response = Response {
                hash,
                foreign_value: foreign_value.clone(),
                primary_partition: None,
            };
            let bytes = serde()
                .serialize("t", &response)
                .expect("serialize")
                .expect("not null");
            let mut expected = match hash {
                Some(_) => {
                    let mut header = vec![0];
                    header.extend_from_slice(&2u64.to_be_bytes());
                    header.extend_from_slice(&3u64.to_be_bytes());
                    header
                }
                None => vec![0x80],
            };
            expected.extend(foreign_value.iter().flat_map(|v| v.bytes()));
            assert_eq!(bytes, expected);
            assert_eq!(
                serde().deserialize("t", Some(&bytes)).expect("deserialize"),
                response
            );
        }
        assert!(matches!(
            serde().deserialize("t", Some(b"\x01")),
            Err(SerdeError::Malformed { .. })
        ));
    }
}
