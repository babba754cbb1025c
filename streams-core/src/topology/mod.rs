//! Topologies: the graph of sources, processors, sinks and stores.
//!
//! A [`TopologyBuilder`] records nodes and stores by name; [`TopologyBuilder::build`]
//! validates them (names, parents, store connections, record types, cycles)
//! and splits the graph into sub-topologies, giving a [`Topology`] that tasks
//! can be created from and that [`describe`](Topology::describe)s itself in
//! Kafka Streams' text layout.

mod builder;
mod describe;
mod internal_topics;
mod java_tree_set;
mod nodes;
mod partitioner;
mod sink;
mod source;
pub(crate) mod subtopology_topics;

pub use builder::{Topology, TopologyBuilder};
pub use describe::{
    NodeDescription, NodeDescriptionKind, SinkTarget, SubtopologyDescription, TopologyDescription,
};
pub use internal_topics::{
    ChangelogConfig, InternalTopic, InternalTopicKind, DEFAULT_ADDITIONAL_CHANGELOG_RETENTION,
};
pub use partitioner::{partition_for_key, StreamPartitioner};
pub use sink::{SinkOptions, SinkRecordContext, SinkTopic, TopicNameExtractor};
pub use source::{
    DeserializationHandler, DeserializingExtractor, FailOnInvalidTimestamp,
    LogAndSkipOnInvalidTimestamp, OffsetReset, SourceOptions, TimestampExtractor,
    TypedTimestampExtractor, UsePartitionTimeOnInvalidTimestamp,
};

pub(crate) use builder::{NodeKind, StoreDef, TopicNames};
pub(crate) use internal_topics::changelog_topic;
pub(crate) use subtopology_topics::SubtopologyTopics;
