//! Why an application could not start, or stopped.

use rdkafka::error::KafkaError;

/// An error of the [`KafkaStreams`](super::KafkaStreams) runtime itself;
/// processing errors are the other [`StreamsError`](crate::StreamsError)s.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// A Kafka client call failed.
    #[error("{operation}: {source}")]
    Client {
        /// What the runtime was doing.
        operation: &'static str,
        /// The client's error.
        source: KafkaError,
    },
    /// A topic the topology reads does not exist (Kafka Streams' missing
    /// source topics error): the runtime creates only its internal topics.
    #[error("source topics do not exist: {}", .0.join(", "))]
    MissingSourceTopics(Vec<String>),
    /// The sources of a sub-topology have different partition counts.
    /// Tasks are formed from equal partition numbers, which the consumer
    /// group assigns together only when the counts agree.
    #[error("the topics of sub-topology {subtopology} are not co-partitioned: {counts}")]
    NotCopartitioned {
        /// The sub-topology.
        subtopology: usize,
        /// Each topic with its partition count.
        counts: String,
    },
    /// An internal topic could not be created, or exists with another
    /// partition count than the topology needs.
    #[error("internal topic `{topic}`: {reason}")]
    InternalTopic {
        /// The topic.
        topic: String,
        /// What went wrong.
        reason: String,
    },
    /// A record the application wrote was refused by the cluster.
    #[error("a record for `{topic}` was not delivered: {reason}")]
    Delivery {
        /// The topic written to.
        topic: String,
        /// The producer's error.
        reason: String,
    },
    /// A task's state directory could not be prepared.
    #[error("state directory {}: {source}", dir.display())]
    StateDir {
        /// The directory.
        dir: std::path::PathBuf,
        /// The file system's error.
        source: std::io::Error,
    },
    /// The consumer had no group metadata to commit a transaction's
    /// offsets with (it always has, once subscribed).
    #[error("the consumer has no consumer group metadata")]
    NoGroupMetadata,
    /// A task's state directory stayed held by another stream thread of
    /// this instance (one whose tasks moved without it knowing yet).
    #[error("state directory {} is still in use by another stream thread", .0.display())]
    StateDirInUse(std::path::PathBuf),
    /// The configuration asks for no stream threads.
    #[error("an application needs at least one stream thread")]
    NoStreamThreads,
    /// `start` was called twice or on a closed application, or
    /// `set_state_listener` after `start`.
    #[error("the application was already started")]
    AlreadyStarted,
    /// The stream thread could not be started.
    #[error("starting the stream thread: {0}")]
    ThreadSpawn(#[source] std::io::Error),
    /// The stream thread panicked.
    #[error("the stream thread panicked")]
    ThreadPanicked,
    /// `clean_up` was called on a running application.
    #[error("the application's state cannot be cleaned up while it runs")]
    CleanUpWhileRunning,
}

/// Tags a client error with what the runtime was doing.
pub(crate) fn client(operation: &'static str) -> impl FnOnce(KafkaError) -> RuntimeError {
    move |source| RuntimeError::Client { operation, source }
}

impl From<RuntimeError> for crate::StreamsError {
    fn from(error: RuntimeError) -> Self {
        crate::StreamsError::Runtime(Box::new(error))
    }
}
