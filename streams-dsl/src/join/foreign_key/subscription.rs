//! Subscriptions: what a left row sends to the right side of a
//! foreign-key join, in the layout of Kafka Streams' `SubscriptionWrapper`
//! and its serde, so the subscription topic and the subscription store
//! read the same as Kafka's.
//!
//! | bytes | field |
//! |---|---|
//! | 1 | version (1) in the low 7 bits; the high bit set when there is no hash |
//! | 1 | instruction |
//! | 16, if hashed | the left value's hash, two big-endian 64-bit halves |
//! | rest but 4 | the left (primary) key, serialized |
//! | 4 | the left row's partition, big-endian (version 1 only) |
//!
//! The primary key is serialized for the pseudo-topic `<topic>-pk`, where
//! `<topic>` is the topic the subscription is written to or read from; for
//! the subscription topic that is the name Kafka uses.

use streams_core::serde::{Deserializer, SerdeError, Serializer, SharedSerde};

use super::murmur3::ValueHash;
use super::wire::{read_hash, split_version_byte, version_byte, write_hash};
use crate::byte_layout::{malformed, ByteReader};

/// The version Kafka Streams 4 writes (it added the partition).
const VERSION: u8 = 1;

/// What the right side does with a subscription (Kafka's
/// `SubscriptionWrapper.Instruction`, with its byte values).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Instruction {
    /// Remove the subscription; answer nothing.
    DeleteKeyNoPropagate = 0,
    /// Remove the subscription; answer with no right value (the left row
    /// is gone or no longer joins).
    DeleteKeyAndPropagate = 1,
    /// Keep the subscription; answer with the right value, or with none
    /// if there is no right row (so a previous result is retracted).
    PropagateNullIfNoFkValAvailable = 2,
    /// Keep the subscription; answer only if there is a right row.
    PropagateOnlyIfFkValAvailable = 3,
}

impl Instruction {
    fn from_byte(byte: u8) -> Option<Self> {
        [
            Self::DeleteKeyNoPropagate,
            Self::DeleteKeyAndPropagate,
            Self::PropagateNullIfNoFkValAvailable,
            Self::PropagateOnlyIfFkValAvailable,
        ]
        .into_iter()
        .find(|instruction| *instruction as u8 == byte)
    }

    /// Whether the subscription store drops the subscription.
    pub(crate) fn unsubscribes(self) -> bool {
        matches!(
            self,
            Self::DeleteKeyNoPropagate | Self::DeleteKeyAndPropagate
        )
    }
}

/// A left row's subscription to a foreign key (Kafka's
/// `SubscriptionWrapper`).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Subscription<K> {
    /// The hash of the left value that sent it; `None` for a deleted row.
    pub(crate) hash: Option<ValueHash>,
    pub(crate) instruction: Instruction,
    /// The left row's key.
    pub(crate) primary_key: K,
    /// The partition of the left row, which the response goes back to;
    /// `None` in Kafka's version 0 layout.
    pub(crate) primary_partition: Option<i32>,
}

/// Writes and reads [`Subscription`]s, with the left key's serde.
pub(crate) struct SubscriptionSerde<K> {
    primary_key: SharedSerde<K>,
}

impl<K> SubscriptionSerde<K> {
    pub(crate) fn new(primary_key: SharedSerde<K>) -> Self {
        Self { primary_key }
    }
}

impl<K> Serializer<Subscription<K>> for SubscriptionSerde<K> {
    fn serialize(
        &self,
        topic: &str,
        data: &Subscription<K>,
    ) -> Result<Option<Vec<u8>>, SerdeError> {
        let primary_key = self
            .primary_key
            .serialize(&format!("{topic}-pk"), &data.primary_key)?
            .unwrap_or_default();
        let version = if data.primary_partition.is_some() {
            VERSION
        } else {
            0
        };
        let mut bytes = Vec::with_capacity(2 + 16 + primary_key.len() + 4);
        bytes.push(version_byte(version, data.hash));
        bytes.push(data.instruction as u8);
        write_hash(data.hash, &mut bytes);
        bytes.extend_from_slice(&primary_key);
        if let Some(partition) = data.primary_partition {
            bytes.extend_from_slice(&partition.to_be_bytes());
        }
        Ok(Some(bytes))
    }
}

impl<K> Deserializer<Subscription<K>> for SubscriptionSerde<K> {
    fn deserialize(&self, topic: &str, data: Option<&[u8]>) -> Result<Subscription<K>, SerdeError> {
        let data = data.ok_or_else(|| malformed(topic, "null subscription"))?;
        let mut reader = ByteReader::new(topic, "subscription", data);
        let (version, hashed) = split_version_byte(reader.u8()?);
        let instruction = Instruction::from_byte(reader.u8()?)
            .ok_or_else(|| reader.malformed("has an unknown instruction"))?;
        let hash = read_hash(&mut reader, hashed)?;
        let primary_partition = match version {
            0 => None,
            VERSION => Some(i32::from_be_bytes(reader.last_array()?)),
            _ => return Err(reader.malformed("has an unsupported version")),
        };
        Ok(Subscription {
            hash,
            instruction,
            primary_key: self
                .primary_key
                .deserialize(&format!("{topic}-pk"), Some(reader.rest()))?,
            primary_partition,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use streams_core::serde::StringSerde;

    use super::*;

    fn serde() -> SubscriptionSerde<String> {
        SubscriptionSerde::new(Arc::new(StringSerde))
    }

    fn round_trip(subscription: Subscription<String>) -> Vec<u8> {
        let bytes = serde()
            .serialize("t", &subscription)
            .expect("serialize")
            .expect("not null");
        let back = serde().deserialize("t", Some(&bytes)).expect("deserialize");
        assert_eq!(back, subscription);
        bytes
    }

    #[test]
    fn layout_matches_kafka_subscription_wrapper() {
        let hashed = round_trip(Subscription {
            hash: Some(ValueHash([1, u64::MAX])),
            instruction: Instruction::PropagateOnlyIfFkValAvailable,
            primary_key: "pk".to_owned(),
            primary_partition: Some(7),
        });
        let mut expected = vec![1, 3];
        expected.extend_from_slice(&1u64.to_be_bytes());
        expected.extend_from_slice(&u64::MAX.to_be_bytes());
        expected.extend_from_slice(b"pk\0\0\0\x07");
        assert_eq!(hashed, expected);

        let unhashed = round_trip(Subscription {
            hash: None,
            instruction: Instruction::DeleteKeyAndPropagate,
            primary_key: "pk".to_owned(),
            primary_partition: Some(0),
        });
        assert_eq!(unhashed, b"\x81\x01pk\0\0\0\0");

        // Version 0 has no partition.
        let version_0 = round_trip(Subscription {
            hash: None,
            instruction: Instruction::DeleteKeyNoPropagate,
            primary_key: "pk".to_owned(),
            primary_partition: None,
        });
        assert_eq!(version_0, b"\x80\x00pk");
    }

    #[test]
    fn malformed_subscriptions_are_typed_errors() {
        for bad in [
            &b""[..],
            b"\x81",
            b"\x81\x09pk\0\0\0\0",
            b"\x01\x02short",
            b"\x81\x02pk",
            b"\x82\x02pk\0\0\0\0",
        ] {
            assert!(
                matches!(
                    serde().deserialize("t", Some(bad)),
                    Err(SerdeError::Malformed { .. })
                ),
                "{bad:?}"
            );
        }
    }
}
