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
use super::wire::{
    malformed, read_hash, split_byte, split_version_byte, version_byte, write_hash,
};

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
            self.foreign_value.serialize_into(topic, value, &mut bytes)?;
        }
        Ok(Some(bytes))
    }
}

impl<VO> Deserializer<Response<VO>> for ResponseSerde<VO> {
    fn deserialize(&self, topic: &str, data: Option<&[u8]>) -> Result<Response<VO>, SerdeError> {
        let data = data.ok_or_else(|| malformed(topic, "null subscription response"))?;
        let (version, rest) = split_byte(topic, data)?;
        let (version, hashed) = split_version_byte(version);
        if version != VERSION {
            return Err(malformed(topic, "unsupported subscription response version"));
        }
        let (hash, rest) = read_hash(topic, hashed, rest)?;
        // As Kafka, no bytes left means no right value.
        let foreign_value = if rest.is_empty() {
            None
        } else {
            Some(self.foreign_value.deserialize(topic, Some(rest))?)
        };
        Ok(Response {
            hash,
            foreign_value,
            primary_partition: None,
        })
    }
}
