//! Broker configuration: what the embedding program or the command line chooses.

pub(crate) mod topic;

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

/// The longest interval or delay accepted: far enough to mean "never" and
/// near enough that adding it to a clock reading cannot overflow.
const MAX_DURATION: Duration = Duration::from_secs(100 * 365 * 24 * 60 * 60);

/// When appended data is forced from the page cache to disk.
///
/// Data handed to the operating system survives a crash of the broker process
/// either way; the policy decides how much can be lost if the machine itself
/// goes down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlushPolicy {
    /// `fsync` the log before acknowledging every produce request.
    EveryProduce,
    /// `fsync` every log with unflushed data at this interval.
    Interval(Duration),
}

/// Defaults for the per-topic log settings; each topic may override them
/// with the corresponding Kafka topic config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogDefaults {
    /// `segment.bytes`: a segment is rolled when it would grow past this size.
    pub segment_bytes: u64,
    /// `segment.ms`: a segment is rolled when it is older than this.
    pub segment_ms: u64,
    /// `retention.ms`: segments whose newest record is older are deleted; -1 keeps them.
    pub retention_ms: i64,
    /// `retention.bytes`: oldest segments are deleted while the log is larger; -1 means unbounded.
    pub retention_bytes: i64,
    /// `max.message.bytes`: the largest record batch accepted.
    pub max_message_bytes: u64,
    /// `index.interval.bytes`: bytes of log between two sparse index entries.
    pub index_interval_bytes: u64,
}

impl Default for LogDefaults {
    /// Kafka's own defaults.
    fn default() -> Self {
        Self {
            segment_bytes: 1024 * 1024 * 1024,
            segment_ms: 7 * 24 * 60 * 60 * 1000,
            retention_ms: 7 * 24 * 60 * 60 * 1000,
            retention_bytes: -1,
            max_message_bytes: 1024 * 1024 + 12,
            index_interval_bytes: 4096,
        }
    }
}

/// Everything needed to start a [`Broker`](crate::Broker).
#[derive(Debug, Clone)]
pub struct BrokerConfig {
    /// Address to listen on. Defaults to an ephemeral port on 127.0.0.1.
    pub listen: SocketAddr,
    /// Host name given to clients in metadata; defaults to the listen IP
    /// (or 127.0.0.1 when listening on the unspecified address).
    pub advertised_host: Option<String>,
    /// Port given to clients in metadata; defaults to the listen port. Set
    /// it when clients reach the broker through a forwarded port (a NAT, a
    /// container's published port, a proxy).
    pub advertised_port: Option<u16>,
    /// Directory holding the logs, topic metadata, committed offsets,
    /// reserved producer ids and the state of transactional ids.
    pub data_dir: PathBuf,
    /// The node id this broker reports for itself.
    pub node_id: i32,
    /// The cluster id reported in metadata.
    pub cluster_id: String,
    /// Partitions of a topic created without an explicit count.
    pub default_partitions: i32,
    /// The most partitions a topic may have. Every partition is a directory
    /// with three files held open per segment, so this bounds what one
    /// CreateTopics or CreatePartitions request can make the broker create;
    /// a larger count is refused with `INVALID_PARTITIONS`.
    pub max_partitions: i32,
    /// Whether Metadata requests for unknown topics create them (as in
    /// Kafka, a Produce request does not: producers ask for metadata first).
    pub auto_create_topics: bool,
    /// When appended data is `fsync`ed.
    pub flush: FlushPolicy,
    /// Defaults for topic log settings.
    pub log: LogDefaults,
    /// How often retention is enforced (and idle producers expired).
    pub retention_check_interval: Duration,
    /// How often the log cleaner looks for compacted logs due for cleaning
    /// (Kafka's `log.cleaner.backoff.ms`, between its checks).
    pub log_cleaner_backoff: Duration,
    /// How long a partition remembers an idempotent producer that appends
    /// nothing, to recognise its resent batches
    /// (`producer.id.expiration.ms`).
    pub producer_id_expiration: Duration,
    /// How long a transactional id with no transaction open is kept after
    /// its last use (`transactional.id.expiration.ms`).
    pub transactional_id_expiration: Duration,
    /// Largest request frame accepted; a larger one closes the connection.
    pub max_request_bytes: usize,
    /// How long a new, empty group waits for more members before its first
    /// rebalance completes (`group.initial.rebalance.delay.ms`).
    pub group_initial_rebalance_delay: Duration,
}

impl BrokerConfig {
    /// A configuration with Kafka-like defaults, listening on an ephemeral
    /// loopback port and storing its state in `data_dir`.
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            advertised_host: None,
            advertised_port: None,
            data_dir: data_dir.into(),
            node_id: 1,
            cluster_id: "streams-broker-cluster".to_owned(),
            default_partitions: 1,
            max_partitions: 1000,
            auto_create_topics: true,
            flush: FlushPolicy::Interval(Duration::from_secs(1)),
            log: LogDefaults::default(),
            retention_check_interval: Duration::from_secs(30),
            log_cleaner_backoff: Duration::from_secs(15),
            producer_id_expiration: Duration::from_secs(24 * 60 * 60),
            transactional_id_expiration: Duration::from_secs(7 * 24 * 60 * 60),
            max_request_bytes: 100 * 1024 * 1024,
            group_initial_rebalance_delay: Duration::ZERO,
        }
    }

    /// Sets the listen address.
    pub fn with_listen(mut self, listen: SocketAddr) -> Self {
        self.listen = listen;
        self
    }

    /// Sets the number of partitions of topics created without a count.
    pub fn with_default_partitions(mut self, partitions: i32) -> Self {
        self.default_partitions = partitions;
        self
    }

    /// Enables or disables automatic topic creation.
    pub fn with_auto_create_topics(mut self, enabled: bool) -> Self {
        self.auto_create_topics = enabled;
        self
    }

    /// Sets the flush policy.
    pub fn with_flush(mut self, flush: FlushPolicy) -> Self {
        self.flush = flush;
        self
    }

    /// Sets the defaults of the topic log settings.
    pub fn with_log_defaults(mut self, log: LogDefaults) -> Self {
        self.log = log;
        self
    }

    /// Checks the values that would make the broker misbehave.
    pub(crate) fn validate(&self) -> Result<(), crate::BrokerError> {
        let bad = |reason: &str| Err(crate::BrokerError::Config(reason.to_owned()));
        if self.max_partitions < 1 {
            return bad("max_partitions must be at least 1");
        }
        if self.default_partitions < 1 || self.default_partitions > self.max_partitions {
            return bad("default_partitions must be between 1 and max_partitions");
        }
        // The defaults must pass the checks a topic's own value would.
        if let Err(e) = topic::check_defaults(&self.log) {
            return Err(crate::BrokerError::Config(format!("log defaults: {e}")));
        }
        if let FlushPolicy::Interval(interval) = self.flush {
            if interval.is_zero() || interval > MAX_DURATION {
                return bad("the flush interval must be between 1ns and 100 years");
            }
        }
        if self.retention_check_interval.is_zero() || self.retention_check_interval > MAX_DURATION {
            return bad("retention_check_interval must be between 1ns and 100 years");
        }
        if self.log_cleaner_backoff.is_zero() || self.log_cleaner_backoff > MAX_DURATION {
            return bad("log_cleaner_backoff must be between 1ns and 100 years");
        }
        if self.producer_id_expiration.is_zero() || self.producer_id_expiration > MAX_DURATION {
            return bad("producer_id_expiration must be between 1ns and 100 years");
        }
        if self.transactional_id_expiration.is_zero()
            || self.transactional_id_expiration > MAX_DURATION
        {
            return bad("transactional_id_expiration must be between 1ns and 100 years");
        }
        if self.group_initial_rebalance_delay > MAX_DURATION {
            return bad("group_initial_rebalance_delay must be at most 100 years");
        }
        if self.max_request_bytes < 1024 {
            return bad("max_request_bytes must be at least 1024");
        }
        if self.node_id < 0 {
            return bad("node_id must not be negative");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::BrokerError;

    #[test]
    fn values_that_would_panic_or_degenerate_are_refused() {
        let base = BrokerConfig::new("data");
        assert!(base.validate().is_ok());
        let log = |change: fn(&mut LogDefaults)| {
            let mut log = LogDefaults::default();
            change(&mut log);
            base.clone().with_log_defaults(log)
        };
        let cases = [
            (
                base.clone()
                    .with_flush(FlushPolicy::Interval(Duration::ZERO)),
                "flush interval",
            ),
            (
                base.clone()
                    .with_flush(FlushPolicy::Interval(Duration::MAX)),
                "flush interval",
            ),
            (
                BrokerConfig {
                    retention_check_interval: Duration::ZERO,
                    ..base.clone()
                },
                "retention_check_interval",
            ),
            (
                BrokerConfig {
                    log_cleaner_backoff: Duration::ZERO,
                    ..base.clone()
                },
                "log_cleaner_backoff",
            ),
            (
                BrokerConfig {
                    producer_id_expiration: Duration::MAX,
                    ..base.clone()
                },
                "producer_id_expiration",
            ),
            (
                BrokerConfig {
                    producer_id_expiration: Duration::ZERO,
                    ..base.clone()
                },
                "producer_id_expiration",
            ),
            (
                BrokerConfig {
                    transactional_id_expiration: Duration::ZERO,
                    ..base.clone()
                },
                "transactional_id_expiration",
            ),
            (
                BrokerConfig {
                    group_initial_rebalance_delay: Duration::MAX,
                    ..base.clone()
                },
                "group_initial_rebalance_delay",
            ),
            (log(|l| l.segment_ms = 0), "segment.ms"),
            (log(|l| l.segment_bytes = 1), "segment.bytes"),
            (log(|l| l.retention_ms = -2), "retention.ms"),
            (log(|l| l.retention_bytes = -2), "retention.bytes"),
            (log(|l| l.max_message_bytes = 0), "max.message.bytes"),
            (
                log(|l| l.max_message_bytes = u64::from(u32::MAX)),
                "max.message.bytes",
            ),
            (
                BrokerConfig {
                    max_partitions: 0,
                    ..base.clone()
                },
                "max_partitions",
            ),
            (
                base.clone().with_default_partitions(1001),
                "default_partitions",
            ),
        ];
        for (config, field) in cases {
            match config.validate() {
                Err(BrokerError::Config(reason)) => assert!(reason.contains(field), "{reason}"),
                other => panic!("{field}: expected a config error, got {other:?}"),
            }
        }
    }
}
