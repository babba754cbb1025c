//! Records as processors see them, and as they enter and leave a task.
//!
//! Topic names in the records a task reads and writes are interned
//! ([`TopicName`]): a task resolves each name once and every record then
//! carries a copy of the same handle.

mod topic_name;

pub use topic_name::TopicName;

/// One header: a key and an optional (nullable) value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// The header key.
    pub key: String,
    /// The header value; `None` is a null value.
    pub value: Option<Vec<u8>>,
}

/// Ordered record headers; keys may repeat, as in Kafka.
///
/// Most records carry none, and every record moves through every node of a
/// task, so no headers take one pointer-sized word and no allocation.
#[derive(Clone, Default, PartialEq, Eq)]
#[expect(
    clippy::box_collection,
    reason = "the box makes the list one word wide in every record that has none"
)]
pub struct Headers(Option<Box<Vec<Header>>>);

impl Headers {
    /// No headers.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a header.
    pub fn add(&mut self, key: impl Into<String>, value: Option<Vec<u8>>) -> &mut Self {
        self.0.get_or_insert_with(Box::default).push(Header {
            key: key.into(),
            value,
        });
        self
    }

    /// Removes every header with `key`.
    pub fn remove(&mut self, key: &str) -> &mut Self {
        if let Some(headers) = &mut self.0 {
            headers.retain(|header| header.key != key);
            // Empty headers are `None`, so that equality holds.
            if headers.is_empty() {
                self.0 = None;
            }
        }
        self
    }

    /// The last header with `key`, as Kafka's `lastHeader`.
    pub fn last(&self, key: &str) -> Option<&Header> {
        self.as_slice()
            .iter()
            .rev()
            .find(|header| header.key == key)
    }

    /// All headers in order.
    pub fn iter(&self) -> impl Iterator<Item = &Header> {
        self.as_slice().iter()
    }

    /// Whether there are no headers.
    pub fn is_empty(&self) -> bool {
        self.0.is_none()
    }

    fn as_slice(&self) -> &[Header] {
        self.0.as_deref().map_or(&[], Vec::as_slice)
    }
}

impl std::fmt::Debug for Headers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl FromIterator<Header> for Headers {
    fn from_iter<I: IntoIterator<Item = Header>>(iter: I) -> Self {
        let headers: Vec<Header> = iter.into_iter().collect();
        Self((!headers.is_empty()).then(|| Box::new(headers)))
    }
}

/// A typed record flowing between processors: key, value, timestamp (ms since
/// the epoch) and headers.
#[derive(Debug, Clone, PartialEq)]
pub struct Record<K, V> {
    /// The key.
    pub key: K,
    /// The value.
    pub value: V,
    /// Event time in milliseconds since the epoch.
    pub timestamp: i64,
    /// Headers, carried along to sinks.
    pub headers: Headers,
}

impl<K, V> Record<K, V> {
    /// A record with no headers.
    pub fn new(key: K, value: V, timestamp: i64) -> Self {
        Self {
            key,
            value,
            timestamp,
            headers: Headers::new(),
        }
    }

    /// The same record with another key (of any type).
    pub fn with_key<K2>(self, key: K2) -> Record<K2, V> {
        Record {
            key,
            value: self.value,
            timestamp: self.timestamp,
            headers: self.headers,
        }
    }

    /// The same record with another value (of any type).
    pub fn with_value<V2>(self, value: V2) -> Record<K, V2> {
        Record {
            key: self.key,
            value,
            timestamp: self.timestamp,
            headers: self.headers,
        }
    }

    /// The same record with another timestamp.
    pub fn with_timestamp(self, timestamp: i64) -> Self {
        Self { timestamp, ..self }
    }

    /// The same record with other headers.
    pub fn with_headers(self, headers: Headers) -> Self {
        Self { headers, ..self }
    }
}

/// Where the record being processed was read from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RecordMetadata {
    /// The source topic.
    pub topic: TopicName,
    /// The source partition.
    pub partition: i32,
    /// The offset within the partition.
    pub offset: i64,
}

impl RecordMetadata {
    /// The same position as the stores keep it (see
    /// [`RecordSource`](state_stores::RecordSource)).
    pub(crate) fn as_source(&self) -> state_stores::RecordSource {
        state_stores::RecordSource {
            topic: self.topic.as_str(),
            partition: self.partition,
            offset: self.offset,
        }
    }

    /// The position a store kept.
    pub(crate) fn from_source(source: state_stores::RecordSource) -> Self {
        Self {
            topic: TopicName::new(source.topic),
            partition: source.partition,
            offset: source.offset,
        }
    }
}

/// A topic and partition: the stores' type, which names changelog
/// partitions in checkpoints.
pub use state_stores::TopicPartition;

/// A record as it is read from a topic: serialized key and value.
#[derive(Debug, Clone, PartialEq)]
pub struct ConsumerRecord {
    /// The topic it was read from.
    pub topic: TopicName,
    /// The partition it was read from.
    pub partition: i32,
    /// Its offset in that partition.
    pub offset: i64,
    /// The timestamp stored with it.
    pub timestamp: i64,
    /// The serialized key; `None` is null.
    pub key: Option<Vec<u8>>,
    /// The serialized value; `None` is null.
    pub value: Option<Vec<u8>>,
    /// Its headers.
    pub headers: Headers,
}

/// A record a task writes to a topic: serialized key and value.
#[derive(Debug, Clone, PartialEq)]
pub struct ProducerRecord {
    /// The destination topic.
    pub topic: TopicName,
    /// The partition chosen by a partitioner, or `None` for the producer's
    /// default (hash of the key).
    pub partition: Option<i32>,
    /// The serialized key; `None` is null.
    pub key: Option<Vec<u8>>,
    /// The serialized value; `None` is null.
    pub value: Option<Vec<u8>>,
    /// The record timestamp.
    pub timestamp: i64,
    /// Its headers.
    pub headers: Headers,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_keep_order_and_repeats_and_compare_by_content() {
        let mut headers = Headers::new();
        headers.add("a", Some(b"1".to_vec())).add("b", None);
        headers.add("a", Some(b"2".to_vec()));
        let keys: Vec<&str> = headers.iter().map(|h| h.key.as_str()).collect();
        assert_eq!(keys, ["a", "b", "a"]);
        assert_eq!(
            headers.last("a").and_then(|h| h.value.clone()),
            Some(b"2".to_vec())
        );
        assert_eq!(headers, headers.iter().cloned().collect::<Headers>());

        headers.remove("a").remove("b");
        assert!(headers.is_empty());
        assert_eq!(headers, Headers::new());
        assert_eq!(
            std::iter::empty::<Header>().collect::<Headers>(),
            Headers::new()
        );
    }

    #[test]
    fn no_headers_take_one_word() {
        assert_eq!(std::mem::size_of::<Headers>(), std::mem::size_of::<usize>());
    }
}
