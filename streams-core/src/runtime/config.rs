//! How an application runs: its id, its cluster, its processing guarantee.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use crate::topology::DeserializationHandler;

/// What a crash may do to the output (Kafka's `processing.guarantee`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ProcessingGuarantee {
    /// Output is acknowledged before the input offsets that produced it are
    /// committed: a crash loses nothing, but what was processed since the
    /// last commit is processed again, so some output may repeat.
    #[default]
    AtLeastOnce,
    /// Output, changelog writes and input offsets are committed in one
    /// Kafka transaction per commit (Kafka's `exactly_once_v2`): a crash
    /// aborts what was processed since the last commit, and consumers
    /// reading committed records see every result once.
    ExactlyOnce,
}

/// The configuration of a [`KafkaStreams`](super::KafkaStreams)
/// application.
///
/// ```
/// use std::time::Duration;
/// use streams_core::runtime::{ProcessingGuarantee, StreamsConfig};
///
/// let config = StreamsConfig::new("word-count", "localhost:9092")
///     .with_processing_guarantee(ProcessingGuarantee::ExactlyOnce)
///     .with_client_config("security.protocol", "plaintext");
/// // Kafka's default commit interval under exactly-once.
/// assert_eq!(config.commit_interval(), Duration::from_millis(100));
/// ```
#[derive(Debug, Clone)]
pub struct StreamsConfig {
    pub(crate) application_id: String,
    pub(crate) bootstrap_servers: String,
    pub(crate) processing_guarantee: ProcessingGuarantee,
    commit_interval: Option<Duration>,
    pub(crate) poll_timeout: Duration,
    pub(crate) num_stream_threads: usize,
    pub(crate) repartition_purge_interval: Duration,
    pub(crate) state_dir: Option<PathBuf>,
    pub(crate) state_cleanup_delay: Duration,
    pub(crate) deserialization_handler: DeserializationHandler,
    pub(crate) client_configs: BTreeMap<String, String>,
}

impl StreamsConfig {
    /// An application `application_id` (its consumer group, and the prefix
    /// of its internal topics) on the cluster at `bootstrap_servers`, at
    /// least once, with Kafka Streams' defaults otherwise.
    pub fn new(application_id: impl Into<String>, bootstrap_servers: impl Into<String>) -> Self {
        Self {
            application_id: application_id.into(),
            bootstrap_servers: bootstrap_servers.into(),
            processing_guarantee: ProcessingGuarantee::default(),
            commit_interval: None,
            poll_timeout: Duration::from_millis(100),
            num_stream_threads: 1,
            repartition_purge_interval: Duration::from_secs(30),
            state_dir: None,
            state_cleanup_delay: Duration::from_secs(600),
            deserialization_handler: DeserializationHandler::default(),
            client_configs: BTreeMap::new(),
        }
    }

    /// Sets the processing guarantee.
    pub fn with_processing_guarantee(mut self, guarantee: ProcessingGuarantee) -> Self {
        self.processing_guarantee = guarantee;
        self
    }

    /// Sets how often tasks commit (`commit.interval.ms`).
    pub fn with_commit_interval(mut self, interval: Duration) -> Self {
        self.commit_interval = Some(interval);
        self
    }

    /// How often tasks commit: as set, or Kafka's default of 30 seconds at
    /// least once and 100 ms exactly once.
    pub fn commit_interval(&self) -> Duration {
        self.commit_interval
            .unwrap_or(match self.processing_guarantee {
                ProcessingGuarantee::AtLeastOnce => Duration::from_secs(30),
                ProcessingGuarantee::ExactlyOnce => Duration::from_millis(100),
            })
    }

    /// Sets how many stream threads run the application's tasks
    /// (`num.stream.threads`, 1 by default): each is a member of the
    /// consumer group, with its own consumer and producer.
    pub fn with_num_stream_threads(mut self, threads: usize) -> Self {
        self.num_stream_threads = threads;
        self
    }

    /// Sets how often the records of repartition topics that the
    /// application committed are deleted (`repartition.purge.interval.ms`,
    /// 30 seconds by default).
    pub fn with_repartition_purge_interval(mut self, interval: Duration) -> Self {
        self.repartition_purge_interval = interval;
        self
    }

    /// Sets how long a poll waits for records when no task has work.
    pub fn with_poll_timeout(mut self, timeout: Duration) -> Self {
        self.poll_timeout = timeout;
        self
    }

    /// Sets the directory persistent (RocksDB) stores live under, one
    /// sub-directory per application and task (`state.dir`), with each
    /// task's checkpoint. Without one, persistent stores live in memory,
    /// and restore their whole changelog at every start.
    pub fn with_state_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.state_dir = Some(dir.into());
        self
    }

    /// Sets how long the state directory of a task this instance no
    /// longer runs is kept, in case the task comes back
    /// (`state.cleanup.delay.ms`, 10 minutes by default): it is deleted
    /// once it was left unchanged that long. The directories are looked at
    /// as often.
    pub fn with_state_cleanup_delay(mut self, delay: Duration) -> Self {
        self.state_cleanup_delay = delay;
        self
    }

    /// Sets what to do with records that cannot be deserialized.
    pub fn with_deserialization_handler(mut self, handler: DeserializationHandler) -> Self {
        self.deserialization_handler = handler;
        self
    }

    /// Passes a librdkafka property to every client the application makes
    /// (consumer, producer, admin and restore consumers): security
    /// settings, say. The properties the runtime depends on (group id,
    /// commits, partitioning, isolation, transactions) are set after these
    /// and win.
    pub fn with_client_config(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.client_configs.insert(key.into(), value.into());
        self
    }

    /// The application id.
    pub fn application_id(&self) -> &str {
        &self.application_id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_commit_interval_defaults_by_guarantee_and_can_be_set() {
        let config = StreamsConfig::new("app", "localhost:9092");
        assert_eq!(config.commit_interval(), Duration::from_secs(30));
        let config = config.with_processing_guarantee(ProcessingGuarantee::ExactlyOnce);
        assert_eq!(config.commit_interval(), Duration::from_millis(100));
        let config = config.with_commit_interval(Duration::from_secs(1));
        assert_eq!(config.commit_interval(), Duration::from_secs(1));
    }
}
