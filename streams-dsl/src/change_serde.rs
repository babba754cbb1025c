//! `ChangeSerde`: table updates (`Change<V>`) through a repartition topic.
//!
//! A table `group_by` sends each update through a repartition topic as the
//! pair of the value to subtract and the value to add, so the topic carries
//! both halves of a [`Change`]. The layout is Kafka Streams'
//! `ChangedSerializer` (a flag byte last), so the records read the same:
//!
//! | present | bytes |
//! |---|---|
//! | old only | `old`, `0` |
//! | new only | `new`, `1` |
//! | both | varint(len(new)), `new`, `old`, `2` |
//!
//! `Change { new: None, old: None }` is a null record value.

use streams_core::serde::{Deserializer, SerdeError, Serializer, SharedSerde};

use crate::byte_layout::malformed;
use crate::ktable::Change;

const OLD_ONLY: u8 = 0;
const NEW_ONLY: u8 = 1;
const BOTH: u8 = 2;

/// Serializes and deserializes [`Change<V>`] with the serde of `V`.
pub struct ChangeSerde<V> {
    inner: SharedSerde<V>,
}

impl<V> ChangeSerde<V> {
    /// Encodes both halves of a change with `inner`.
    pub fn new(inner: SharedSerde<V>) -> Self {
        Self { inner }
    }

    fn encode(&self, topic: &str, value: &V) -> Result<Vec<u8>, SerdeError> {
        // A value that serializes to null is stored as empty bytes, as
        // Kafka writes a null inner array as nothing.
        Ok(self.inner.serialize(topic, value)?.unwrap_or_default())
    }
}

/// Kafka's zig-zag varint (`ByteUtils.writeVarint`).
fn write_varint(value: i32, out: &mut Vec<u8>) {
    let mut v = ((value << 1) ^ (value >> 31)) as u32;
    while v & !0x7f != 0 {
        out.push(((v & 0x7f) | 0x80) as u8);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Reads a zig-zag varint; returns it and the bytes it took.
fn read_varint(topic: &str, data: &[u8]) -> Result<(i32, usize), SerdeError> {
    let mut value: u32 = 0;
    for (i, byte) in data.iter().enumerate().take(5) {
        value |= u32::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return Ok((((value >> 1) as i32) ^ -((value & 1) as i32), i + 1));
        }
    }
    Err(malformed(
        topic,
        "bad varint length of a change's new value",
    ))
}

impl<V> Serializer<Change<V>> for ChangeSerde<V> {
    fn serialize(&self, topic: &str, data: &Change<V>) -> Result<Option<Vec<u8>>, SerdeError> {
        let bytes = match (&data.new, &data.old) {
            (None, None) => return Ok(None),
            (Some(new), None) => {
                let mut bytes = self.encode(topic, new)?;
                bytes.push(NEW_ONLY);
                bytes
            }
            (None, Some(old)) => {
                let mut bytes = self.encode(topic, old)?;
                bytes.push(OLD_ONLY);
                bytes
            }
            (Some(new), Some(old)) => {
                let new = self.encode(topic, new)?;
                let old = self.encode(topic, old)?;
                let length = i32::try_from(new.len())
                    .map_err(|_| malformed(topic, "new value longer than 2 GiB"))?;
                let mut bytes = Vec::with_capacity(5 + new.len() + old.len() + 1);
                write_varint(length, &mut bytes);
                bytes.extend_from_slice(&new);
                bytes.extend_from_slice(&old);
                bytes.push(BOTH);
                bytes
            }
        };
        Ok(Some(bytes))
    }
}

impl<V> Deserializer<Change<V>> for ChangeSerde<V> {
    fn deserialize(&self, topic: &str, data: Option<&[u8]>) -> Result<Change<V>, SerdeError> {
        let Some(data) = data else {
            return Ok(Change {
                new: None,
                old: None,
            });
        };
        let Some((&flag, body)) = data.split_last() else {
            return Err(malformed(topic, "empty change"));
        };
        let decode = |bytes: &[u8]| self.inner.deserialize(topic, Some(bytes));
        match flag {
            OLD_ONLY => Ok(Change {
                new: None,
                old: Some(decode(body)?),
            }),
            NEW_ONLY => Ok(Change {
                new: Some(decode(body)?),
                old: None,
            }),
            BOTH => {
                let (length, read) = read_varint(topic, body)?;
                let rest = &body[read..];
                let split = usize::try_from(length)
                    .ok()
                    .filter(|&length| length <= rest.len())
                    .ok_or_else(|| malformed(topic, "change's new value runs past the end"))?;
                let (new, old) = rest.split_at(split);
                Ok(Change {
                    new: Some(decode(new)?),
                    old: Some(decode(old)?),
                })
            }
            _ => Err(malformed(topic, "unknown change encoding flag")),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use streams_core::serde::{Serde, StringSerde};

    use super::*;

    fn serde() -> ChangeSerde<String> {
        ChangeSerde::new(Arc::new(StringSerde))
    }

    fn round_trip(change: Change<String>) -> Option<Vec<u8>> {
        let serde = serde();
        let bytes = serde.serialize("t", &change).expect("serialize");
        let back = serde
            .deserialize("t", bytes.as_deref())
            .expect("deserialize");
        assert_eq!(back, change);
        bytes
    }

    #[test]
    fn layouts_match_kafka_changed_serializer() {
        let some = |s: &str| Some(s.to_owned());
        assert_eq!(
            round_trip(Change {
                new: some("ab"),
                old: None
            }),
            Some(b"ab\x01".to_vec())
        );
        assert_eq!(
            round_trip(Change {
                new: None,
                old: some("c")
            }),
            Some(b"c\x00".to_vec())
        );
        // Varint 2 is zig-zag 4.
        assert_eq!(
            round_trip(Change {
                new: some("ab"),
                old: some("c")
            }),
            Some(b"\x04abc\x02".to_vec())
        );
        assert_eq!(
            round_trip(Change {
                new: None,
                old: None
            }),
            None
        );
    }

    #[test]
    fn malformed_input_is_a_typed_error() {
        let serde = serde();
        for bad in [
            &b""[..],
            b"x\x07",
            b"\x0aab\x02",
            b"\xff\xff\xff\xff\xff\xff\x02",
        ] {
            assert!(
                matches!(
                    serde.deserialize("t", Some(bad)),
                    Err(SerdeError::Malformed { .. })
                ),
                "{bad:?}"
            );
        }
        let _: &dyn Serde<Change<String>> = &serde;
    }
}
