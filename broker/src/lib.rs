//! A single-node broker that speaks the Kafka wire protocol.
//!
//! `streams-broker` is the embedded default for the framework's examples and
//! tests: it starts in milliseconds, in-process or as its own binary
//! (`streams-broker --help`), and real Kafka clients — librdkafka, kcat,
//! confluent-kafka, Java — talk to it as they would to a Kafka cluster of one.
//!
//! # What it serves
//!
//! * Metadata, ApiVersions, DescribeCluster; topic administration
//!   (CreateTopics, DeleteTopics, CreatePartitions, DescribeConfigs,
//!   IncrementalAlterConfigs) with auto-creation when enabled.
//! * Produce (record batch v2, stored exactly as sent, whatever the
//!   compression, unless the topic's `compression.type` names a codec,
//!   which the broker then compresses with; CRC-checked; the records of
//!   uncompressed batches checked
//!   against the declared count, and every record of a compacted topic for
//!   its key; acks 0, 1 and all; log-append time) and Fetch (byte limits,
//!   long polling woken by appends), ListOffsets.
//! * Idempotent producers (InitProducerId): each partition checks every
//!   producer's sequence numbers and epoch, and answers a resent batch
//!   with the offset it got the first time instead of appending it again;
//!   the state is rebuilt from the log on restart, and producer ids are
//!   never handed out twice.
//! * Transactions (FindCoordinator for transactions, InitProducerId with a
//!   transactional id, AddPartitionsToTxn, AddOffsetsToTxn,
//!   TxnOffsetCommit, EndTxn): a transaction commits or aborts in all its
//!   partitions and with its consumer offsets, or in none, across crashes;
//!   a new producer instance, or the transaction timeout, aborts an open
//!   transaction and fences the old producer. Read-committed Fetch and
//!   ListOffsets stop at the last stable offset and name the aborted
//!   transactions.
//! * Consumer groups with the classic protocol (join, with member ids
//!   handed out first from JoinGroup v4; sync, heartbeat, leave, static
//!   membership) and committed offsets.
//!
//! The versions served are those in the ApiVersions answer; requests of
//! other APIs or versions close the connection.
//!
//! # Storage
//!
//! Each partition is a directory of segment files holding record batches,
//! each with a sparse offset index and a time index; segments roll by size
//! and age, and retention deletes whole old segments. The closed segments
//! of compacted topics are cleaned in the background, keeping the latest
//! record of each key at its offset. On start the active
//! segment of every log is scanned and its torn tail, if any, truncated, so
//! a crash loses nothing that was acknowledged; the batch headers of every
//! segment rebuild the producers' state. A partition whose data could not
//! be forced to disk goes offline (KAFKA_STORAGE_ERROR) until the broker
//! restarts and recovers it, as a failed log directory does in Kafka:
//! nothing is acknowledged on top of a failed write. Topic metadata,
//! committed group offsets, the reserved producer ids and the state of
//! transactional ids live beside the logs and survive restarts. See
//! [`FlushPolicy`] for when data is forced to disk.
//!
//! # Example
//!
//! ```
//! use streams_broker::{Broker, BrokerConfig};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let data = tempfile::tempdir()?;
//! // An ephemeral port on 127.0.0.1.
//! let broker = Broker::start(BrokerConfig::new(data.path())).await?;
//! println!("bootstrap.servers={}", broker.bootstrap_servers());
//! broker.shutdown().await?;
//! # Ok(())
//! # }
//! ```

mod broker;
mod codec;
mod config;
mod error;
mod group;
mod log;
mod producer_ids;
mod protocol;
mod server;
mod topics;
mod transactions;

pub use broker::Broker;
pub use config::{BrokerConfig, FlushPolicy, LogDefaults};
pub use error::{BrokerError, Result};
