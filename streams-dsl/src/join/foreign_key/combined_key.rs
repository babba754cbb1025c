//! The keys of the subscription store, and the pseudo-topics a
//! foreign-key join serializes its keys and values for.
//!
//! The subscription store keys each subscription by foreign key, then
//! primary key, as Kafka Streams' `CombinedKeySchema` lays them out:
//! the foreign key's length (4 bytes, big-endian), the foreign key, the
//! primary key. All subscriptions to one foreign key share a prefix, so a
//! right-side update finds its subscribers with one prefix scan.

use streams_core::prelude::*;
use streams_core::serde::{SerdeError, SharedSerde};

use crate::byte_layout::{write_length, ByteReader};

/// The names Kafka Streams serializes a join's keys and hashed values
/// for (`<application.id>-<subscription topic>-fk`, `-pk` and `-vh`):
/// they matter to serdes that register schemas per topic.
pub(crate) struct PseudoTopics {
    pub(crate) foreign_key: String,
    pub(crate) primary_key: String,
    pub(crate) value_hash: String,
}

impl PseudoTopics {
    /// The pseudo-topics of the join whose subscription topic is
    /// `subscription_topic`, in application `application_id`.
    pub(crate) fn new(application_id: &str, subscription_topic: &str) -> Self {
        let topic = |suffix: &str| format!("{application_id}-{subscription_topic}-{suffix}");
        Self {
            foreign_key: topic("fk"),
            primary_key: topic("pk"),
            value_hash: topic("vh"),
        }
    }
}

/// A serde failure inside processor `processor`.
pub(crate) fn serde_error(processor: &str, source: SerdeError) -> StreamsError {
    StreamsError::Serde {
        context: format!("processor `{processor}`"),
        source,
    }
}

/// Serializes `value` for `topic`; a value that serializes to null is
/// empty, as Kafka would write a null array as nothing.
pub(crate) fn bytes_of<T: ?Sized>(
    serializer: &dyn Serializer<T>,
    topic: &str,
    value: &T,
) -> Result<Vec<u8>, SerdeError> {
    Ok(serializer.serialize(topic, value)?.unwrap_or_default())
}

/// Builds and reads subscription store keys.
pub(crate) struct CombinedKeys<KO, K> {
    pub(crate) foreign_key: SharedSerde<KO>,
    pub(crate) primary_key: SharedSerde<K>,
}

impl<KO, K> Clone for CombinedKeys<KO, K> {
    fn clone(&self) -> Self {
        Self {
            foreign_key: self.foreign_key.clone(),
            primary_key: self.primary_key.clone(),
        }
    }
}

impl<KO, K> CombinedKeys<KO, K> {
    /// The key prefix of every subscription to `foreign_key`.
    pub(crate) fn prefix(
        &self,
        topics: &PseudoTopics,
        foreign_key: &KO,
    ) -> Result<Vec<u8>, SerdeError> {
        let foreign_key = bytes_of(&*self.foreign_key, &topics.foreign_key, foreign_key)?;
        let mut key = Vec::with_capacity(4 + foreign_key.len());
        write_length(
            &topics.foreign_key,
            "foreign key",
            foreign_key.len(),
            &mut key,
        )?;
        key.extend_from_slice(&foreign_key);
        Ok(key)
    }

    /// The key of `primary_key`'s subscription to `foreign_key`.
    pub(crate) fn key(
        &self,
        topics: &PseudoTopics,
        foreign_key: &KO,
        primary_key: &K,
    ) -> Result<Vec<u8>, SerdeError> {
        let mut key = self.prefix(topics, foreign_key)?;
        self.primary_key
            .serialize_into(&topics.primary_key, primary_key, &mut key)?;
        Ok(key)
    }

    /// The primary key of a subscription store key.
    pub(crate) fn primary_key(&self, topics: &PseudoTopics, key: &[u8]) -> Result<K, SerdeError> {
        let mut reader = ByteReader::new(&topics.primary_key, "subscription key", key);
        reader
            .prefixed()?
            .ok_or_else(|| reader.malformed("has a null foreign key"))?;
        self.primary_key
            .deserialize(&topics.primary_key, Some(reader.rest()))
    }
}
