//! Sink nodes: serialize records and write them to topics.

use std::any::Any;
use std::sync::Arc;

use super::partitioner::StreamPartitioner;
use crate::engine::{Input, Node, NodeInfo, TaskState};
use crate::error::{StreamsError, TopologyError};
use crate::record::{ProducerRecord, Record, RecordMetadata, TopicName};
use crate::serde::Serializer;

/// Chooses the topic of each record a sink writes.
pub trait TopicNameExtractor<K, V>: Send + Sync {
    /// The topic for this record; `metadata` is where its input came from.
    fn extract(&self, key: &K, value: &V, metadata: Option<&RecordMetadata>) -> String;

    /// How `describe()` names the extractor (Kafka prints the extractor
    /// object): its type name, by default.
    fn type_name(&self) -> &'static str {
        std::any::type_name::<Self>()
    }
}

impl<K, V, F> TopicNameExtractor<K, V> for F
where
    F: Fn(&K, &V, Option<&RecordMetadata>) -> String + Send + Sync,
{
    fn extract(&self, key: &K, value: &V, metadata: Option<&RecordMetadata>) -> String {
        self(key, value, metadata)
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
            (None, SinkTopic::Extractor(extractor)) => TopicName::from(extractor.extract(
                &record.key,
                &record.value,
                task.record_metadata.as_ref(),
            )),
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
