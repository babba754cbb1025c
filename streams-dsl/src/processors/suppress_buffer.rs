//! What a suppression keeps per key in its state store, so that a restart
//! restores the buffer from the store's changelog: the key's place in time
//! order and its latest update.
//!
//! Layout: buffer time (8 bytes, big-endian), record timestamp (8 bytes),
//! then the change in [`ChangeSerde`]'s layout (nothing when both halves
//! are null).

use streams_core::serde::{Deserializer, SerdeError, Serializer, SharedSerde};

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
    /// The update.
    pub(crate) change: Change<V>,
}

/// Serializes [`BufferedChange<V>`] with the serde of `V`.
pub(crate) struct BufferedChangeSerde<V> {
    change: ChangeSerde<V>,
}

impl<V> BufferedChangeSerde<V> {
    pub(crate) fn new(value: SharedSerde<V>) -> Self {
        Self {
            change: ChangeSerde::new(value),
        }
    }
}

const HEADER_BYTES: usize = 16;

impl<V> Serializer<BufferedChange<V>> for BufferedChangeSerde<V> {
    fn serialize(
        &self,
        topic: &str,
        data: &BufferedChange<V>,
    ) -> Result<Option<Vec<u8>>, SerdeError> {
        let change = self.change.serialize(topic, &data.change)?;
        let mut bytes = Vec::with_capacity(HEADER_BYTES + change.as_ref().map_or(0, Vec::len));
        bytes.extend_from_slice(&data.time.to_be_bytes());
        bytes.extend_from_slice(&data.timestamp.to_be_bytes());
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
        let (Some(time), Some(timestamp)) = (data.get(..8), data.get(8..HEADER_BYTES)) else {
            return Err(SerdeError::Size {
                topic: topic.to_owned(),
                type_name: std::any::type_name::<BufferedChange<V>>(),
                expected: HEADER_BYTES,
                actual: data.len(),
            });
        };
        let long = |bytes: &[u8]| {
            let mut array = [0; 8];
            array.copy_from_slice(bytes);
            i64::from_be_bytes(array)
        };
        let change = &data[HEADER_BYTES..];
        let change = (!change.is_empty()).then_some(change);
        Ok(BufferedChange {
            time: long(time),
            timestamp: long(timestamp),
            change: self.change.deserialize(topic, change)?,
        })
    }
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
            new in proptest::option::of(".{0,8}"),
            old in proptest::option::of(".{0,8}"),
        ) {
            let buffered = BufferedChange { time, timestamp, change: Change { new, old } };
            let bytes = serde().serialize("t", &buffered)?;
            prop_assert_eq!(serde().deserialize("t", bytes.as_deref())?, buffered);
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..40)) {
            let _ = serde().deserialize("t", Some(&bytes));
        }
    }

    #[test]
    fn short_data_is_a_size_error() {
        assert!(matches!(
            serde().deserialize("t", Some(&[0; 15])),
            Err(SerdeError::Size {
                expected: 16,
                actual: 15,
                ..
            })
        ));
    }
}
