//! Serdes of windowed keys in Kafka Streams' binary layouts
//! (`WindowedSerdes.timeWindowedSerdeFrom` / `sessionWindowedSerdeFrom`).

use std::sync::Arc;

use streams_core::serde::{Deserializer, PartitionKey, SerdeError, Serializer, SharedSerde};
use streams_core::{Window, Windowed};

use crate::byte_layout::ByteReader;

/// How the window is written after the key.
#[derive(Debug, Clone, Copy)]
enum Layout {
    /// The start (8 bytes, big-endian); the end is `start + size`, as
    /// Kafka's `TimeWindowedSerde`.
    Time { size_ms: i64 },
    /// The end, then the start (8 bytes each), as Kafka's
    /// `SessionWindowedSerde`.
    Session,
}

/// A serde of [`Windowed`] keys: the inner key's bytes followed by the
/// window, as Kafka Streams writes windowed keys, so topics written with
/// it are readable by Kafka Streams applications and back.
pub struct WindowedSerde<K> {
    inner: SharedSerde<K>,
    layout: Layout,
}

impl<K> WindowedSerde<K> {
    /// Keys of time windows of `size_ms` (needed to rebuild the end).
    pub fn time_windowed(inner: SharedSerde<K>, size_ms: i64) -> Self {
        Self {
            inner,
            layout: Layout::Time { size_ms },
        }
    }

    /// Keys of session windows.
    pub fn session_windowed(inner: SharedSerde<K>) -> Self {
        Self {
            inner,
            layout: Layout::Session,
        }
    }
}

impl<K: 'static> Serializer<Windowed<K>> for WindowedSerde<K> {
    fn serialize(&self, topic: &str, data: &Windowed<K>) -> Result<Option<Vec<u8>>, SerdeError> {
        let mut bytes = self.inner.serialize(topic, &data.key)?.unwrap_or_default();
        match self.layout {
            Layout::Time { .. } => bytes.extend_from_slice(&data.window.start.to_be_bytes()),
            Layout::Session => {
                bytes.extend_from_slice(&data.window.end.to_be_bytes());
                bytes.extend_from_slice(&data.window.start.to_be_bytes());
            }
        }
        Ok(Some(bytes))
    }

    /// A windowed key always has its window's bytes.
    fn is_null(&self, _data: &Windowed<K>) -> bool {
        false
    }

    /// The inner key, as Kafka's `WindowedStreamPartitioner` partitions.
    fn partition_key(&self) -> Option<PartitionKey<Windowed<K>>> {
        let inner = self.inner.clone();
        Some(Arc::new(move |topic, key: &Windowed<K>| {
            inner.serialize(topic, &key.key)
        }))
    }
}

impl<K: 'static> Deserializer<Windowed<K>> for WindowedSerde<K> {
    fn deserialize(&self, topic: &str, data: Option<&[u8]>) -> Result<Windowed<K>, SerdeError> {
        let bytes = data.ok_or_else(|| SerdeError::Null {
            topic: topic.to_owned(),
            type_name: "Windowed",
        })?;
        // The window is read off the end: the key takes what is left.
        let mut reader = ByteReader::new(topic, "windowed key", bytes);
        let mut time = || reader.last_array().map(i64::from_be_bytes);
        let window = match self.layout {
            Layout::Time { size_ms } => Window::of_size(time()?, size_ms),
            Layout::Session => {
                let start = time()?;
                Window::new(start, time()?)
            }
        };
        Ok(Windowed::new(
            self.inner.deserialize(topic, Some(reader.rest()))?,
            window,
        ))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use streams_core::serde::StringSerde;

    use super::*;

    #[test]
    fn round_trips_in_kafka_layouts() -> Result<(), SerdeError> {
        let time = WindowedSerde::time_windowed(Arc::new(StringSerde), 10);
        let key = Windowed::new("a".to_owned(), Window::new(20, 30));
        let bytes = time.serialize("t", &key)?.unwrap_or_default();
        assert_eq!(bytes, [b"a".as_slice(), &20i64.to_be_bytes()].concat());
        assert_eq!(time.deserialize("t", Some(&bytes))?, key);

        let session = WindowedSerde::session_windowed(Arc::new(StringSerde));
        let key = Windowed::new("a".to_owned(), Window::new(5, 9));
        let bytes = session.serialize("t", &key)?.unwrap_or_default();
        assert_eq!(
            bytes,
            [b"a".as_slice(), &9i64.to_be_bytes(), &5i64.to_be_bytes()].concat()
        );
        assert_eq!(session.deserialize("t", Some(&bytes))?, key);
        assert!(session.deserialize("t", Some(b"short")).is_err());
        Ok(())
    }
}
