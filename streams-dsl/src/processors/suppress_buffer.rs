//! What a suppression keeps per key in its state store, so that a restart
//! restores the buffer from the store's changelog: the key's place in time
//! order, its prior value and its latest update.
//!
//! Layout: buffer time (8 bytes, big-endian), record timestamp (8 bytes),
//! the record's headers (a 4-byte count, then each header's key and value
//! as 4-byte length and bytes, a length of -1 for a null value, as Kafka
//! lays out a buffered record's context), where the record was read (its
//! topic as 4-byte length and bytes, then partition (4 bytes) and offset
//! (8 bytes); a length of -1 alone when it was read from no input), the
//! prior value (4-byte length and bytes, -1 for null), then the change in
//! [`ChangeSerde`]'s layout (nothing when both halves are null).

use streams_core::record::{Headers, RecordMetadata, TopicName};
use streams_core::serde::{Deserializer, SerdeError, Serializer, SharedSerde};

use crate::byte_layout::{write_length, write_prefixed, ByteReader};
use crate::change_serde::ChangeSerde;
use crate::ktable::Change;

/// One buffered key's update.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct BufferedChange<V> {
    /// When the key became due, before the suppression delay; its place in
    /// the buffer's time order.
    pub(crate) time: i64,
    /// The update's record timestamp.
    pub(crate) timestamp: i64,
    /// The update's record headers, emitted with it.
    pub(crate) headers: Headers,
    /// Where the update's input record was read: emitted with it, and
    /// (its topic) counted in the buffer's bound, as Kafka keeps a
    /// buffered record's context.
    pub(crate) source: Option<RecordMetadata>,
    /// The key's value before its first buffered update: what downstream
    /// saw last (Kafka's `BufferValue.priorValue`).
    pub(crate) prior: Option<V>,
    /// The update.
    pub(crate) change: Change<V>,
}

/// Serializes [`BufferedChange<V>`] with the serde of `V`.
pub(crate) struct BufferedChangeSerde<V> {
    value: SharedSerde<V>,
    change: ChangeSerde<V>,
}

impl<V> BufferedChangeSerde<V> {
    pub(crate) fn new(value: SharedSerde<V>) -> Self {
        Self {
            change: ChangeSerde::new(value.clone()),
            value,
        }
    }
}

/// Buffer time and record timestamp.
const TIMES_BYTES: usize = 16;

impl<V> Serializer<BufferedChange<V>> for BufferedChangeSerde<V> {
    fn serialize(
        &self,
        topic: &str,
        data: &BufferedChange<V>,
    ) -> Result<Option<Vec<u8>>, SerdeError> {
        let change = self.change.serialize(topic, &data.change)?;
        let mut bytes = Vec::with_capacity(TIMES_BYTES + 4 + change.as_ref().map_or(0, Vec::len));
        bytes.extend_from_slice(&data.time.to_be_bytes());
        bytes.extend_from_slice(&data.timestamp.to_be_bytes());
        write_headers(topic, &data.headers, &mut bytes)?;
        write_prefixed(
            topic,
            "a buffered record's topic",
            data.source
                .as_ref()
                .map(|source| source.topic.as_str().as_bytes()),
            &mut bytes,
        )?;
        if let Some(source) = &data.source {
            bytes.extend_from_slice(&source.partition.to_be_bytes());
            bytes.extend_from_slice(&source.offset.to_be_bytes());
        }
        let prior = match &data.prior {
            Some(prior) => self.value.serialize(topic, prior)?,
            None => None,
        };
        write_prefixed(
            topic,
            "a buffered prior value",
            prior.as_deref(),
            &mut bytes,
        )?;
        bytes.extend_from_slice(change.as_deref().unwrap_or_default());
        Ok(Some(bytes))
    }
}

impl<V> Deserializer<BufferedChange<V>> for BufferedChangeSerde<V> {
    fn deserialize(
        &self,
        topic: &str,
        data: Option<&[u8]>,
    ) -> Result<BufferedChange<V>, SerdeError> {
        let data = data.ok_or_else(|| SerdeError::Null {
            topic: topic.to_owned(),
            type_name: std::any::type_name::<BufferedChange<V>>(),
        })?;
        let mut reader = ByteReader::new(topic, "suppression buffer entry", data);
        let time = reader.i64()?;
        let timestamp = reader.i64()?;
        let headers = read_headers(&mut reader)?;
        let source = match reader.prefixed()? {
            Some(record_topic) => {
                let record_topic = std::str::from_utf8(record_topic)
                    .map_err(|_| reader.malformed("has a topic that is not UTF-8"))?;
                Some(RecordMetadata {
                    topic: TopicName::new(record_topic),
                    partition: reader.i32()?,
                    offset: reader.i64()?,
                })
            }
            None => None,
        };
        let prior = reader
            .prefixed()?
            .map(|prior| self.value.deserialize(topic, Some(prior)))
            .transpose()?;
        let change = (!reader.is_empty()).then(|| reader.rest());
        Ok(BufferedChange {
            time,
            timestamp,
            headers,
            source,
            prior,
            change: self.change.deserialize(topic, change)?,
        })
    }
}

fn write_headers(topic: &str, headers: &Headers, out: &mut Vec<u8>) -> Result<(), SerdeError> {
    const SUBJECT: &str = "a buffered record's header";
    write_length(topic, SUBJECT, headers.iter().count(), out)?;
    for header in headers.iter() {
        write_prefixed(topic, SUBJECT, Some(header.key.as_bytes()), out)?;
        write_prefixed(topic, SUBJECT, header.value.as_deref(), out)?;
    }
    Ok(())
}

fn read_headers(reader: &mut ByteReader<'_>) -> Result<Headers, SerdeError> {
    let count = reader.length()?.unwrap_or(0);
    let mut headers = Headers::new();
    for _ in 0..count {
        let key = reader
            .prefixed()?
            .ok_or_else(|| reader.malformed("has a null header key"))?;
        let key = std::str::from_utf8(key)
            .map_err(|_| reader.malformed("has a header key that is not UTF-8"))?;
        let value = reader.prefixed()?.map(<[u8]>::to_vec);
        headers.add(key, value);
    }
    Ok(headers)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use proptest::prelude::*;
    use streams_core::serde::StringSerde;

    use super::*;

    fn serde() -> BufferedChangeSerde<String> {
        BufferedChangeSerde::new(Arc::new(StringSerde))
    }

    proptest! {
        #[test]
        fn round_trips(
            time in any::<i64>(),
            timestamp in any::<i64>(),
            headers in proptest::collection::vec(
                (".{0,6}", proptest::option::of(proptest::collection::vec(any::<u8>(), 0..6))),
                0..4,
            ),
            source in proptest::option::of((".{0,8}", any::<i32>(), any::<i64>())),
            prior in proptest::option::of(".{0,8}"),
            new in proptest::option::of(".{0,8}"),
            old in proptest::option::of(".{0,8}"),
        ) {
            let mut record_headers = Headers::new();
            for (key, value) in headers {
                record_headers.add(key, value);
            }
            let buffered = BufferedChange {
                time,
                timestamp,
                headers: record_headers,
                source: source.map(|(topic, partition, offset)| RecordMetadata {
                    topic: TopicName::new(&topic),
                    partition,
                    offset,
                }),
                prior,
                change: Change { new, old },
            };
            let bytes = serde().serialize("t", &buffered)?;
            prop_assert_eq!(serde().deserialize("t", bytes.as_deref())?, buffered);
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..40)) {
            let _ = serde().deserialize("t", Some(&bytes));
        }
    }

    #[test]
    fn short_data_is_a_malformed_error() {
        for length in [0, 15, 17, 19, 21, 23] {
            assert!(
                matches!(
                    serde().deserialize("t", Some(&vec![0; length])),
                    Err(SerdeError::Malformed { .. })
                ),
                "{length} bytes"
            );
        }
    }

    #[test]
    fn layout_holds_times_headers_source_prior_then_change() -> Result<(), SerdeError> {
        let mut headers = Headers::new();
        headers.add("h", Some(b"v".to_vec())).add("n", None);
        let buffered = BufferedChange {
            time: 1,
            timestamp: 2,
            headers,
            source: Some(RecordMetadata {
                topic: TopicName::new("in"),
                partition: 3,
                offset: 9,
            }),
            prior: Some("p".to_owned()),
            change: Change {
                new: Some("x".to_owned()),
                old: None,
            },
        };
        let bytes = serde().serialize("t", &buffered)?.unwrap_or_default();
        let mut expected = [1_i64.to_be_bytes(), 2_i64.to_be_bytes()].concat();
        expected.extend_from_slice(&2_i32.to_be_bytes());
        expected.extend_from_slice(&[0, 0, 0, 1, b'h', 0, 0, 0, 1, b'v']);
        expected.extend_from_slice(&[0, 0, 0, 1, b'n', 0xff, 0xff, 0xff, 0xff]);
        expected.extend_from_slice(&[0, 0, 0, 2, b'i', b'n']);
        expected.extend_from_slice(&3_i32.to_be_bytes());
        expected.extend_from_slice(&9_i64.to_be_bytes());
        expected.extend_from_slice(&[0, 0, 0, 1, b'p']);
        let change = ChangeSerde::new(Arc::new(StringSerde)).serialize("t", &buffered.change)?;
        expected.extend_from_slice(&change.unwrap_or_default());
        assert_eq!(bytes, expected);
        Ok(())
    }
}
