//! The errors of building and running topologies.

use crate::serde::SerdeError;

/// Why a topology could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TopologyError {
    /// Two nodes share a name.
    #[error("a node named `{0}` already exists")]
    DuplicateNode(String),
    /// Two stores share a name.
    #[error("a state store named `{0}` already exists")]
    DuplicateStore(String),
    /// A node names a parent that does not exist.
    #[error("node `{node}` names unknown parent `{parent}`")]
    UnknownParent {
        /// The node being added.
        node: String,
        /// The missing parent.
        parent: String,
    },
    /// A node names a parent that cannot have children (a sink).
    #[error("node `{node}` cannot have sink `{parent}` as its parent")]
    SinkAsParent {
        /// The node being added.
        node: String,
        /// The sink named as parent.
        parent: String,
    },
    /// A processor or sink has no parents.
    #[error("node `{0}` must have at least one parent")]
    NoParent(String),
    /// A source reads no topics.
    #[error("source `{0}` must read at least one topic")]
    NoTopics(String),
    /// Two sources read the same topic.
    #[error("topic `{topic}` is already read by source `{source_node}`")]
    TopicAlreadyRead {
        /// The topic read twice.
        topic: String,
        /// The source that reads it already.
        source_node: String,
    },
    /// A processor names a store that was never added.
    #[error("processor `{processor}` uses unknown state store `{store}`")]
    UnknownStore {
        /// The processor.
        processor: String,
        /// The missing store.
        store: String,
    },
    /// A global store named as a processor's: every processor reads global
    /// stores without being connected to them (Kafka refuses this too).
    #[error(
        "global state store `{store}` can be used by processor `{processor}` without being \
         specified; it should not be explicitly passed"
    )]
    GlobalStoreConnected {
        /// The processor.
        processor: String,
        /// The global store.
        store: String,
    },
    /// Stores can only be connected to processors.
    #[error("state store `{store}` can only be connected to a processor, not `{node}`")]
    StoreOnNonProcessor {
        /// The store.
        store: String,
        /// The source or sink.
        node: String,
    },
    /// The nodes form a cycle.
    #[error("the topology has a cycle through `{0}`")]
    Cycle(String),
    /// A child's input type differs from its parent's output type.
    #[error("`{child}` takes records of {expected} but parent `{parent}` forwards {actual}")]
    TypeMismatch {
        /// The parent node.
        parent: String,
        /// The child node.
        child: String,
        /// What the child takes.
        expected: &'static str,
        /// What the parent forwards.
        actual: &'static str,
    },
    /// The topology has no source.
    #[error("the topology has no source")]
    Empty,
    /// A global store must not log: its source topic is its changelog.
    #[error("global state store `{0}` must not have logging enabled")]
    GlobalStoreLogging(String),
    /// Nodes of a global store cannot have children of their own.
    #[error("node `{node}` cannot be a child of global store node `{parent}`")]
    GlobalStoreChild {
        /// The node being added.
        node: String,
        /// The global source or processor named as parent.
        parent: String,
    },
    /// A windowed store would forget windows that can still change: its
    /// retention is shorter than the window size (or session gap) plus the
    /// grace period.
    #[error(
        "the retention period of store `{store}` ({retention_ms} ms) must be no smaller than \
         its window size plus the grace period ({minimum_ms} ms)"
    )]
    RetentionTooShort {
        /// The store.
        store: String,
        /// The retention asked for.
        retention_ms: i64,
        /// The window size (or session gap) plus the grace period.
        minimum_ms: i64,
    },
    /// A name given to a node is not a legal one.
    #[error("illegal node name: {0}")]
    IllegalName(String),
    /// Two streams of the same topics, which share one source node, ask
    /// for different offset reset policies.
    #[error("streams of the same topics {topics:?} cannot reset their offsets differently")]
    ConflictingOffsetReset {
        /// The topics.
        topics: Vec<String>,
    },
    /// The inputs of a join read topics with different partition counts,
    /// so equal keys would not meet in the same task.
    #[error("topics joined together are not co-partitioned: partition counts {partitions:?}")]
    NotCopartitioned {
        /// Each input topic whose partition count is known, with that count.
        partitions: std::collections::BTreeMap<String, u32>,
    },
    /// A task was asked to run a sub-topology the topology does not have.
    #[error("the topology has {count} sub-topologies; there is no sub-topology {id}")]
    UnknownSubtopology {
        /// The id asked for.
        id: usize,
        /// How many sub-topologies the topology has (ids `0..count`).
        count: usize,
    },
}

/// A boxed error raised by user code inside a processor.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Why processing stopped.
#[derive(Debug, thiserror::Error)]
pub enum StreamsError {
    /// The topology is invalid.
    #[error(transparent)]
    Topology(#[from] TopologyError),
    /// A record's key or value could not be (de)serialized.
    #[error("{context}: {source}")]
    Serde {
        /// Which node and record it was.
        context: String,
        /// The serde error.
        source: SerdeError,
    },
    /// A state store failed.
    #[error("state store `{store}`: {source}")]
    Store {
        /// The store's name.
        store: String,
        /// The store error.
        source: state_stores::StoreError,
    },
    /// A processor asked for a store it may not use, or with the wrong type.
    #[error("processor `{processor}` cannot use state store `{store}`: {reason}")]
    StoreAccess {
        /// The processor.
        processor: String,
        /// The store it asked for.
        store: String,
        /// Why not.
        reason: String,
    },
    /// A timestamp extractor returned a negative timestamp.
    #[error(
        "invalid timestamp {timestamp} for record at {topic}-{partition} offset {offset}: \
         timestamps must be non-negative"
    )]
    InvalidTimestamp {
        /// The topic.
        topic: String,
        /// The partition.
        partition: i32,
        /// The offset.
        offset: i64,
        /// The extracted timestamp.
        timestamp: i64,
    },
    /// A processor forwarded a record with a negative timestamp.
    #[error("processor `{processor}` forwarded a record with negative timestamp {timestamp}")]
    NegativeTimestamp {
        /// The processor.
        processor: String,
        /// The timestamp.
        timestamp: i64,
    },
    /// A record arrived for a topic no source of this task reads.
    #[error("no source reads topic `{0}`")]
    UnknownTopic(String),
    /// A sink with a partitioner writes to a topic whose partition count
    /// is unknown (a topic that does not exist, say): the partitioner could
    /// only guess, and a wrong guess breaks co-partitioning.
    #[error(
        "sink `{sink}` cannot partition records for `{topic}`: its partition count is unknown"
    )]
    PartitionsUnknown {
        /// The sink node.
        sink: String,
        /// The topic written to.
        topic: String,
    },
    /// `forward_to` named a node that is not a child.
    #[error("`{child}` is not a child of `{processor}`")]
    UnknownChild {
        /// The forwarding processor.
        processor: String,
        /// The named child.
        child: String,
    },
    /// A punctuation interval of zero or less.
    #[error("punctuation interval must be at least 1 ms")]
    InvalidInterval,
    /// A test output topic was read while empty.
    #[error("no more records in topic `{0}`")]
    NoRecord(String),
    /// A null key where a key was required.
    #[error("null key in topic `{0}`")]
    NullKey(String),
    /// An error raised by user code.
    #[error("processor `{processor}` failed: {source}")]
    Processor {
        /// The processor.
        processor: String,
        /// The user's error.
        source: BoxError,
    },
    /// Records were given to, or work asked of, a task that was closed.
    #[error("task `{0}` is closed")]
    TaskClosed(String),
    /// A task's state directory or its checkpoint could not be read or
    /// written.
    #[error("state of task `{task}`: {source}")]
    TaskState {
        /// The task id.
        task: String,
        /// What failed.
        source: state_stores::StoreError,
    },
    /// Changelog records were handed to a task that is not restoring them:
    /// of a partition it is not restoring, or outside the part it
    /// restores.
    #[error("task `{task}` is not restoring offset {offset} of {topic}-{partition}")]
    NotRestoring {
        /// The task id.
        task: String,
        /// The changelog topic.
        topic: String,
        /// The changelog partition.
        partition: i32,
        /// The offset handed over.
        offset: i64,
    },
    /// A checkpoint was asked of a task that processed records since its
    /// last commit: a checkpoint may only name committed state.
    #[error("task `{0}` processed records since its last commit, so it cannot checkpoint")]
    UncommittedCheckpoint(String),
    /// A write (or flush, close, or cache listener) was asked of a plain
    /// view of a timestamped store, which only reads: it has no timestamp
    /// to write a value with.
    #[error(
        "store `{0}` is seen through a plain view, which only reads: use its timestamped handle"
    )]
    ReadOnlyView(String),
    /// A processor tried to close or restore a store: only its task does.
    #[error("state store `{0}` is closed and restored by its task, not by a processor")]
    StoreOwnedByTask(String),
    /// The [`KafkaStreams`](crate::runtime::KafkaStreams) runtime failed:
    /// a client call, a missing topic, a refused delivery.
    #[error(transparent)]
    Runtime(Box<crate::runtime::RuntimeError>),
}

impl StreamsError {
    /// Wraps an error raised by user code in `processor`.
    pub fn processor(processor: impl Into<String>, source: impl Into<BoxError>) -> Self {
        Self::Processor {
            processor: processor.into(),
            source: source.into(),
        }
    }
}
