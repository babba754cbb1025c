//! Source nodes: read records from topics and deserialize them.

use std::any::Any;
use std::sync::Arc;

use crate::engine::{Children, Input, Node, NodeContext, NodeInfo, TaskState};
use crate::error::StreamsError;
use crate::record::{ConsumerRecord, Record};
use crate::serde::Deserializer;

/// Chooses the timestamp of each input record.
///
/// `partition_time` is the largest timestamp extracted so far in the record's
/// partition (-1 before the first). Returning a negative timestamp drops the
/// record (counted in the task's `dropped_records`); returning an error stops
/// processing.
pub trait TimestampExtractor: Send + Sync {
    /// The timestamp of `record`.
    fn extract(&self, record: &ConsumerRecord, partition_time: i64) -> Result<i64, StreamsError>;
}

impl<T: TimestampExtractor + ?Sized> TimestampExtractor for Arc<T> {
    fn extract(&self, record: &ConsumerRecord, partition_time: i64) -> Result<i64, StreamsError> {
        (**self).extract(record, partition_time)
    }
}

/// Chooses the timestamp of each input record from its deserialized key
/// and value, as Kafka's extractors (which see the deserialized record) do:
/// an event time carried in the payload, say. Wrapped in a
/// [`DeserializingExtractor`], which reads the key and value for it.
///
/// ```
/// use streams_core::prelude::*;
/// use streams_core::record::ConsumerRecord;
///
/// // The value is the event's time.
/// let options = SourceOptions::new(StringSerde, I64Serde).typed_timestamp_extractor(
///     |_key: &String, event_time: &i64, _record: &ConsumerRecord, _partition_time: i64| {
///         Ok(*event_time)
///     },
/// );
/// let topology = TopologyBuilder::new()
///     .add_source("events", &["events"], options)
///     .add_sink("copy", "copies", SinkOptions::new(StringSerde, I64Serde), &["events"])
///     .build()?;
/// let driver = TopologyTestDriver::new(&topology)?;
/// driver
///     .create_input_topic("events", StringSerde, I64Serde)
///     .pipe_input_at("k".into(), 42, 1_000)?;
/// let copies = driver.create_output_topic("copies", StringSerde, I64Serde);
/// assert_eq!(copies.read_record()?.timestamp, 42);
/// # Ok::<(), StreamsError>(())
/// ```
pub trait TypedTimestampExtractor<K, V>: Send + Sync {
    /// The timestamp of `record`, whose key and value read as `key` and
    /// `value`; `partition_time` as for [`TimestampExtractor::extract`].
    fn extract(
        &self,
        key: &K,
        value: &V,
        record: &ConsumerRecord,
        partition_time: i64,
    ) -> Result<i64, StreamsError>;
}

impl<K, V, F> TypedTimestampExtractor<K, V> for F
where
    F: Fn(&K, &V, &ConsumerRecord, i64) -> Result<i64, StreamsError> + Send + Sync,
{
    fn extract(
        &self,
        key: &K,
        value: &V,
        record: &ConsumerRecord,
        partition_time: i64,
    ) -> Result<i64, StreamsError> {
        self(key, value, record, partition_time)
    }
}

/// A [`TimestampExtractor`] that deserializes each record's key and value
/// and asks a [`TypedTimestampExtractor`] for the timestamp.
///
/// A record that cannot be read keeps its own timestamp here (0 if that is
/// negative, so that it is not dropped for its timestamp): the source
/// reading it meets the same error when it processes the record, and its
/// deserialization handler skips it (counted as dropped) or fails, as it
/// would any unreadable record. The source deserializes each record again
/// (Kafka reads it once, before extracting): the price of a typed
/// extractor over a queue of raw records.
pub struct DeserializingExtractor<K, V> {
    key: Box<dyn Deserializer<K>>,
    value: Box<dyn Deserializer<V>>,
    extractor: Box<dyn TypedTimestampExtractor<K, V>>,
}

impl<K, V> DeserializingExtractor<K, V> {
    /// Reads keys with `key` and values with `value` for `extractor`.
    pub fn new(
        key: impl Deserializer<K> + 'static,
        value: impl Deserializer<V> + 'static,
        extractor: impl TypedTimestampExtractor<K, V> + 'static,
    ) -> Self {
        Self {
            key: Box::new(key),
            value: Box::new(value),
            extractor: Box::new(extractor),
        }
    }
}

impl<K, V> TimestampExtractor for DeserializingExtractor<K, V> {
    fn extract(&self, record: &ConsumerRecord, partition_time: i64) -> Result<i64, StreamsError> {
        let topic = &*record.topic;
        let key = self.key.deserialize(topic, record.key.as_deref());
        let value = self.value.deserialize(topic, record.value.as_deref());
        match (key, value) {
            (Ok(key), Ok(value)) => self.extractor.extract(&key, &value, record, partition_time),
            _ => Ok(record.timestamp.max(0)),
        }
    }
}

/// The default: the record's own timestamp; a negative one is an error.
#[derive(Debug, Clone, Copy, Default)]
pub struct FailOnInvalidTimestamp;

impl TimestampExtractor for FailOnInvalidTimestamp {
    fn extract(&self, record: &ConsumerRecord, _partition_time: i64) -> Result<i64, StreamsError> {
        if record.timestamp < 0 {
            return Err(StreamsError::InvalidTimestamp {
                topic: record.topic.to_string(),
                partition: record.partition,
                offset: record.offset,
                timestamp: record.timestamp,
            });
        }
        Ok(record.timestamp)
    }
}

/// The record's own timestamp; records with a negative one are skipped.
#[derive(Debug, Clone, Copy, Default)]
pub struct LogAndSkipOnInvalidTimestamp;

impl TimestampExtractor for LogAndSkipOnInvalidTimestamp {
    fn extract(&self, record: &ConsumerRecord, _partition_time: i64) -> Result<i64, StreamsError> {
        if record.timestamp < 0 {
            tracing::warn!(
                topic = %record.topic,
                partition = record.partition,
                offset = record.offset,
                timestamp = record.timestamp,
                "skipping record with invalid timestamp"
            );
        }
        Ok(record.timestamp)
    }
}

/// The record's own timestamp; a negative one is replaced by the partition time.
#[derive(Debug, Clone, Copy, Default)]
pub struct UsePartitionTimeOnInvalidTimestamp;

impl TimestampExtractor for UsePartitionTimeOnInvalidTimestamp {
    fn extract(&self, record: &ConsumerRecord, partition_time: i64) -> Result<i64, StreamsError> {
        if record.timestamp >= 0 {
            return Ok(record.timestamp);
        }
        if partition_time < 0 {
            return FailOnInvalidTimestamp.extract(record, partition_time);
        }
        Ok(partition_time)
    }
}

/// Where a source starts reading when its group has no committed offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OffsetReset {
    /// From the first retained record.
    Earliest,
    /// From the end: only records produced from now on.
    Latest,
}

/// What to do with a record whose key or value cannot be deserialized.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DeserializationHandler {
    /// Stop processing with an error (Kafka's `LogAndFailExceptionHandler`).
    #[default]
    LogAndFail,
    /// Log, count in `dropped_records`, and go on with the next record.
    LogAndContinue,
}

/// How a source reads its topics: deserializers, timestamps, offset reset.
pub struct SourceOptions<K, V> {
    pub(crate) key: Arc<dyn Deserializer<K>>,
    pub(crate) value: Arc<dyn Deserializer<V>>,
    pub(crate) timestamp_extractor: Option<Arc<dyn TimestampExtractor>>,
    pub(crate) offset_reset: Option<OffsetReset>,
}

impl<K, V> SourceOptions<K, V> {
    /// Reads keys with `key` and values with `value`.
    pub fn new(key: impl Deserializer<K> + 'static, value: impl Deserializer<V> + 'static) -> Self {
        Self {
            key: Arc::new(key),
            value: Arc::new(value),
            timestamp_extractor: None,
            offset_reset: None,
        }
    }

    /// Uses `extractor` instead of the task's default.
    pub fn timestamp_extractor(mut self, extractor: impl TimestampExtractor + 'static) -> Self {
        self.timestamp_extractor = Some(Arc::new(extractor));
        self
    }

    /// Stamps records with what `extractor` reads from their deserialized
    /// keys and values (see [`DeserializingExtractor`]).
    pub fn typed_timestamp_extractor(
        self,
        extractor: impl TypedTimestampExtractor<K, V> + 'static,
    ) -> Self
    where
        K: 'static,
        V: 'static,
    {
        let reading = DeserializingExtractor::new(self.key.clone(), self.value.clone(), extractor);
        self.timestamp_extractor(reading)
    }

    /// Sets where to start without a committed offset.
    pub fn offset_reset(mut self, reset: OffsetReset) -> Self {
        self.offset_reset = Some(reset);
        self
    }
}

/// The raw record type a source node receives.
pub(crate) type RawRecord = crate::record::Record<Option<Vec<u8>>, Option<Vec<u8>>>;

pub(crate) struct SourceNode<K, V> {
    pub(crate) info: NodeInfo,
    pub(crate) key: Arc<dyn Deserializer<K>>,
    pub(crate) value: Arc<dyn Deserializer<V>>,
    pub(crate) children: Children<K, V>,
}

impl<K: Clone + 'static, V: Clone + 'static> Input<Option<Vec<u8>>, Option<Vec<u8>>>
    for SourceNode<K, V>
{
    fn process(&mut self, task: &mut TaskState, raw: RawRecord) -> Result<(), StreamsError> {
        let topic = task
            .record_metadata
            .as_ref()
            .map_or("", |metadata| &*metadata.topic);
        let Record {
            key,
            value,
            timestamp,
            headers,
        } = raw;
        // The record's bytes are ours: deserializers may keep them.
        let decoded = self
            .key
            .deserialize_owned(topic, key)
            .and_then(|key| Ok((key, self.value.deserialize_owned(topic, value)?)));
        match decoded {
            Ok((key, value)) => {
                // Only a record that could be read moves stream time (Kafka
                // skips unreadable ones before it picks the next record).
                task.stream_time = task.stream_time.max(timestamp);
                NodeContext::new(task, &self.info, &self.children).forward(Record {
                    key,
                    value,
                    timestamp,
                    headers,
                })
            }
            Err(source) => {
                let context = format!("source `{}` could not deserialize a record", self.info.name);
                match task.deserialization_handler {
                    DeserializationHandler::LogAndFail => {
                        Err(StreamsError::Serde { context, source })
                    }
                    DeserializationHandler::LogAndContinue => {
                        tracing::warn!(metadata = ?task.record_metadata, error = %source, "{context}; skipping it");
                        task.metrics.dropped_records += 1;
                        Ok(())
                    }
                }
            }
        }
    }
}

impl<K: Clone + 'static, V: Clone + 'static> Node for SourceNode<K, V> {
    fn connect(&mut self, child: &str, input: &dyn Any) -> Result<(), StreamsError> {
        self.children.connect(&self.info.name, child, input)
    }
}
