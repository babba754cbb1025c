//! Sink nodes: serialize records and write them to topics.

use std::any::Any;
use std::sync::Arc;

use super::partitioner::StreamPartitioner;
use crate::engine::{Input, Node, NodeInfo, TaskState};
use crate::error::{StreamsError, TopologyError};
use crate::record::{Headers, ProducerRecord, Record, RecordMetadata, TopicName};
use crate::serde::Serializer;

/// What a [`TopicNameExtractor`] learns of a record besides its key and
/// value (Kafka's `RecordContext`): where its input came from, and the
/// timestamp and headers it reaches the sink with.
#[derive(Debug, Clone, Copy)]
pub struct SinkRecordContext<'a> {
    /// The input record's topic, partition and offset; `None` for a record
    /// forwarded by a punctuator.
    pub metadata: Option<&'a RecordMetadata>,
    /// The record's timestamp.
    pub timestamp: i64,
    /// The record's headers.
    pub headers: &'a Headers,
}

/// Chooses the topic of each record a sink writes.
pub trait TopicNameExtractor<K, V>: Send + Sync {
    /// The topic for this record.
    fn extract(&self, key: &K, value: &V, context: &SinkRecordContext<'_>) -> String;

    /// How `describe()` names the extractor (Kafka prints the extractor
    /// object): its type name, by default.
    fn type_name(&self) -> &'static str {
        std::any::type_name::<Self>()
    }
}

impl<K, V, F> TopicNameExtractor<K, V> for F
where
    F: Fn(&K, &V, &SinkRecordContext<'_>) -> String + Send + Sync,
{
    fn extract(&self, key: &K, value: &V, context: &SinkRecordContext<'_>) -> String {
        self(key, value, context)
    }
}

/// The topic a sink writes to.
pub enum SinkTopic<K, V> {
    /// Always this topic.
    Fixed(String),
    /// A topic chosen per record.
    Extractor(Arc<dyn TopicNameExtractor<K, V>>),
}

impl<K, V> From<&str> for SinkTopic<K, V> {
    fn from(topic: &str) -> Self {
        Self::Fixed(topic.to_owned())
    }
}

impl<K, V> From<String> for SinkTopic<K, V> {
    fn from(topic: String) -> Self {
        Self::Fixed(topic)
    }
}

impl<K, V> SinkTopic<K, V> {
    /// A per-record topic chosen by `extractor`.
    pub fn extractor(extractor: impl TopicNameExtractor<K, V> + 'static) -> Self {
        Self::Extractor(Arc::new(extractor))
    }
}

/// How a sink writes: serializers and an optional partitioner.
pub struct SinkOptions<K, V> {
    pub(crate) key: Arc<dyn Serializer<K>>,
    pub(crate) value: Arc<dyn Serializer<V>>,
    pub(crate) partitioner: Option<Arc<dyn StreamPartitioner<K, V>>>,
}

impl<K, V> SinkOptions<K, V> {
    /// Writes keys with `key` and values with `value`.
    pub fn new(key: impl Serializer<K> + 'static, value: impl Serializer<V> + 'static) -> Self {
        Self {
            key: Arc::new(key),
            value: Arc::new(value),
            partitioner: None,
        }
    }

    /// Chooses partitions with `partitioner`.
    pub fn partitioner(mut self, partitioner: impl StreamPartitioner<K, V> + 'static) -> Self {
        self.partitioner = Some(Arc::new(partitioner));
        self
    }
}

pub(crate) struct SinkNode<K, V> {
    pub(crate) info: NodeInfo,
    /// The resolved fixed topic, or `None` when the extractor chooses.
    pub(crate) topic: Option<TopicName>,
    pub(crate) extractor: Arc<SinkTopic<K, V>>,
    pub(crate) options: Arc<SinkOptions<K, V>>,
}

impl<K: 'static, V: 'static> Node for SinkNode<K, V> {
    fn connect(&mut self, child: &str, _input: &dyn Any) -> Result<(), StreamsError> {
        Err(TopologyError::SinkAsParent {
            node: child.to_owned(),
            parent: self.info.name.clone(),
        }
        .into())
    }
}

impl<K: 'static, V: 'static> Input<K, V> for SinkNode<K, V> {
    fn process(&mut self, task: &mut TaskState, record: Record<K, V>) -> Result<(), StreamsError> {
        let topic = match (self.topic, &*self.extractor) {
            (Some(topic), _) => topic,
            (None, SinkTopic::Extractor(extractor)) => {
                let context = SinkRecordContext {
                    metadata: task.record_metadata.as_ref(),
                    timestamp: record.timestamp,
                    headers: &record.headers,
                };
                TopicName::from(extractor.extract(&record.key, &record.value, &context))
            }
            (None, SinkTopic::Fixed(topic)) => TopicName::new(topic),
        };
        let serde_error = |source| StreamsError::Serde {
            context: format!(
                "sink `{}` could not serialize a record for `{topic}`",
                self.info.name
            ),
            source,
        };
        // The partitioner reads the record before its fields are given
        // to the serializers, which may keep their bytes.
        let partition = match &self.options.partitioner {
            Some(partitioner) => {
                let partitions = (task.partition_count)(&topic).ok_or_else(|| {
                    StreamsError::PartitionsUnknown {
                        sink: self.info.name.clone(),
                        topic: topic.to_string(),
                    }
                })?;
                partitioner.partition(&topic, &record.key, &record.value, partitions)
            }
            None => None,
        };
        let key = self
            .options
            .key
            .serialize_owned(&topic, record.key)
            .map_err(serde_error)?;
        let value = self
            .options
            .value
            .serialize_owned(&topic, record.value)
            .map_err(serde_error)?;
        task.collector.send(ProducerRecord {
            topic,
            partition,
            key,
            value,
            timestamp: record.timestamp,
            headers: record.headers,
        });
        Ok(())
    }
}
