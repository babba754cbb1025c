//! The Kafka clients an application uses, and the records they carry.
//!
//! One consumer (in the application's group) and one producer serve all
//! tasks of the stream thread; restore consumers are made per changelog
//! partition. Every client starts from the user's properties, then the
//! runtime sets those it depends on.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Wake, Waker};
use std::thread::Thread;

use rdkafka::client::ClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, ConsumerContext};
use rdkafka::message::{BorrowedMessage, Header as KafkaHeader, Headers as _, OwnedHeaders};
use rdkafka::producer::{BaseRecord, DeliveryResult, ProducerContext};
use rdkafka::statistics::Statistics;
use rdkafka::types::{RDKafkaErrorCode, RDKafkaRespErr};
use rdkafka::{Message, Timestamp, TopicPartitionList};

use super::config::{ProcessingGuarantee, StreamsConfig};
use super::error::RuntimeError;
use crate::record::{ConsumerRecord, Header, Headers, ProducerRecord, TopicName, TopicPartition};

/// The properties every client starts from: the cluster, then the user's.
pub(crate) fn base_config(config: &StreamsConfig) -> ClientConfig {
    let mut client = ClientConfig::new();
    for (key, value) in &config.client_configs {
        client.set(key, value);
    }
    client.set("bootstrap.servers", &config.bootstrap_servers);
    client
}

/// What consumers read: only committed transactions under exactly-once,
/// as Kafka Streams' consumers do.
pub(crate) fn isolation_level(config: &StreamsConfig) -> &'static str {
    match config.processing_guarantee {
        ProcessingGuarantee::AtLeastOnce => "read_uncommitted",
        ProcessingGuarantee::ExactlyOnce => "read_committed",
    }
}

/// A change of the consumer's assignment, kept for the stream thread.
#[derive(Debug)]
pub(crate) enum Rebalance {
    /// These partitions are the consumer's now.
    Assign(TopicPartitionList),
    /// Every partition is taken away (the eager protocol revokes all).
    Revoke,
}

/// How often the consumer reports its statistics (the lag among them).
pub(crate) const STATISTICS_INTERVAL_MS: &str = "1000";

/// The group consumer's context: it keeps rebalances for the stream thread
/// instead of applying them, because committing and closing the tasks of
/// revoked partitions (which the thread owns) must happen before the
/// assignment changes. The thread then assigns or unassigns itself. It
/// also keeps the lag from the consumer's statistics.
#[derive(Default)]
pub(crate) struct GroupContext {
    rebalances: Mutex<Vec<Rebalance>>,
    /// The records of the assigned partitions past the group's committed
    /// offsets, as of the last statistics.
    lag: AtomicI64,
    /// Set once the thread closed its tasks: a revocation while the
    /// consumer closes is applied at once.
    closing: AtomicBool,
}

impl GroupContext {
    /// The rebalances since the last call, oldest first.
    pub(crate) fn take_rebalances(&self) -> Vec<Rebalance> {
        std::mem::take(
            &mut *self
                .rebalances
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        )
    }

    /// Puts `rebalances`, taken but not applied, back before any that came
    /// since.
    pub(crate) fn put_back(&self, rebalances: Vec<Rebalance>) {
        let mut kept = self
            .rebalances
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        kept.splice(0..0, rebalances);
    }

    /// The lag as of the last statistics.
    pub(crate) fn lag(&self) -> i64 {
        self.lag.load(Ordering::Relaxed)
    }

    /// From now on, revocations are applied as they come.
    pub(crate) fn close(&self) {
        self.closing.store(true, Ordering::Release);
    }
}

impl ClientContext for GroupContext {
    fn stats(&self, statistics: Statistics) {
        // The thread stores every offset it commits (and those committed
        // before the assignment), so the lag librdkafka computes from the
        // stored offsets is the group's lag, under both guarantees (a
        // transaction's offsets never reach the consumer otherwise). It
        // reports -1 for a partition whose lag it does not know yet, and
        // lists an internal partition -1 per topic.
        let lag = statistics
            .topics
            .values()
            .flat_map(|topic| topic.partitions.values())
            .filter(|partition| partition.partition >= 0 && partition.consumer_lag_stored >= 0)
            .map(|partition| partition.consumer_lag_stored)
            .sum();
        self.lag.store(lag, Ordering::Relaxed);
    }
}

impl ConsumerContext for GroupContext {
    fn rebalance(
        &self,
        consumer: &BaseConsumer<Self>,
        err: RDKafkaRespErr,
        partitions: &mut TopicPartitionList,
    ) {
        let rebalance = match err {
            RDKafkaRespErr::RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS => {
                Rebalance::Assign(partitions.clone())
            }
            RDKafkaRespErr::RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS => {
                if self.closing.load(Ordering::Acquire) {
                    if let Err(error) = rdkafka::consumer::Consumer::unassign(consumer) {
                        tracing::warn!(%error, "unassigning while closing");
                    }
                    return;
                }
                Rebalance::Revoke
            }
            other => {
                // librdkafka retries the join itself; nothing changed.
                tracing::warn!(error = ?other, "rebalance failed");
                return;
            }
        };
        self.rebalances
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(rebalance);
    }
}

/// The producer's context: it keeps the first failed delivery, which a
/// flush (or a transaction's commit) then reports, and the offset of the
/// last record acknowledged in each changelog partition, which the tasks'
/// checkpoints name.
pub(crate) struct DeliveryContext {
    first_failure: Mutex<Option<RuntimeError>>,
    /// By changelog topic, then partition.
    acknowledged: Mutex<HashMap<String, BTreeMap<i32, i64>>>,
}

impl DeliveryContext {
    /// A context following the changelog topics `changelogs`.
    pub(crate) fn new(changelogs: impl IntoIterator<Item = String>) -> Self {
        let topics = changelogs.into_iter().map(|topic| (topic, BTreeMap::new()));
        Self {
            first_failure: Mutex::default(),
            acknowledged: Mutex::new(topics.collect()),
        }
    }

    /// The offset of the last record acknowledged in every changelog
    /// partition written to.
    pub(crate) fn acknowledged(&self) -> BTreeMap<TopicPartition, i64> {
        let acknowledged = self
            .acknowledged
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        acknowledged
            .iter()
            .flat_map(|(topic, partitions)| {
                partitions.iter().map(|(&partition, &offset)| {
                    (TopicPartition::new(topic.clone(), partition), offset)
                })
            })
            .collect()
    }

    /// The first delivery that failed since the last call, if any.
    pub(crate) fn take_failure(&self) -> Option<RuntimeError> {
        self.first_failure
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }
}

impl ClientContext for DeliveryContext {}

impl ProducerContext for DeliveryContext {
    type DeliveryOpaque = ();

    fn delivery(&self, result: &DeliveryResult<'_>, _opaque: ()) {
        if let Ok(message) = result {
            let mut acknowledged = self
                .acknowledged
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if let Some(partitions) = acknowledged.get_mut(message.topic()) {
                let last = partitions.entry(message.partition()).or_insert(-1);
                *last = (*last).max(message.offset());
            }
        }
        if let Err((error, message)) = result {
            // An aborted transaction's records are purged: that is the
            // abort, not a failure of the application.
            if matches!(
                error.rdkafka_error_code(),
                Some(RDKafkaErrorCode::PurgeQueue | RDKafkaErrorCode::PurgeInflight)
            ) {
                return;
            }
            let failure = RuntimeError::Delivery {
                topic: message.topic().to_owned(),
                reason: error.to_string(),
            };
            tracing::error!(%failure, "delivery failed");
            self.first_failure
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .get_or_insert(failure);
        }
    }
}

/// The record a task reads for `message`; a record without a timestamp
/// (from a pre-0.10 producer) gets -1, which the task's timestamp
/// extractor then rules on.
pub(crate) fn consumer_record(message: &BorrowedMessage<'_>) -> ConsumerRecord {
    let timestamp = match message.timestamp() {
        Timestamp::CreateTime(ms) | Timestamp::LogAppendTime(ms) => ms,
        Timestamp::NotAvailable => -1,
    };
    let headers: Headers = message
        .headers()
        .map(|headers| {
            headers
                .iter()
                .map(|header| Header {
                    key: header.key.to_owned(),
                    value: header.value.map(<[u8]>::to_vec),
                })
                .collect()
        })
        .unwrap_or_default();
    ConsumerRecord {
        topic: TopicName::new(message.topic()),
        partition: message.partition(),
        offset: message.offset(),
        timestamp,
        key: message.key().map(<[u8]>::to_vec),
        value: message.payload().map(<[u8]>::to_vec),
        headers,
    }
}

/// The producer's view of `record`, borrowing its bytes.
pub(crate) fn base_record(record: &ProducerRecord) -> BaseRecord<'_, [u8], [u8]> {
    let mut out = BaseRecord::<[u8], [u8]>::to(&record.topic).timestamp(record.timestamp);
    if !record.headers.is_empty() {
        let headers = record
            .headers
            .iter()
            .fold(OwnedHeaders::new(), |headers, header| {
                headers.insert(KafkaHeader {
                    key: &header.key,
                    value: header.value.as_deref(),
                })
            });
        out = out.headers(headers);
    }
    if let Some(partition) = record.partition {
        out = out.partition(partition);
    }
    if let Some(key) = &record.key {
        out = out.key(key.as_slice());
    }
    if let Some(value) = &record.value {
        out = out.payload(value.as_slice());
    }
    out
}

/// Runs `future` to completion on this thread: the admin client's calls
/// are futures, answered by the client's own thread, so no executor is
/// needed beyond parking until woken.
pub(crate) fn block_on<F: Future>(future: F) -> F::Output {
    struct Unpark(Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut context = Context::from_waker(&waker);
    let mut future = pin!(future);
    loop {
        match future.as_mut().poll(&mut context) {
            Poll::Ready(output) => return output,
            Poll::Pending => std::thread::park(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rebalances_put_back_come_before_newer_ones() {
        let context = GroupContext::default();
        context
            .rebalances
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Rebalance::Revoke);
        let taken = context.take_rebalances();
        context
            .rebalances
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Rebalance::Assign(TopicPartitionList::new()));
        context.put_back(taken);
        let order: Vec<bool> = context
            .take_rebalances()
            .iter()
            .map(|rebalance| matches!(rebalance, Rebalance::Revoke))
            .collect();
        assert_eq!(order, [true, false]);
    }

    #[test]
    fn block_on_waits_for_a_future_woken_from_another_thread() {
        let (sender, receiver) = std::sync::mpsc::channel::<Waker>();
        struct Later(Option<std::sync::mpsc::Sender<Waker>>, bool);
        impl Future for Later {
            type Output = u32;
            fn poll(mut self: std::pin::Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<u32> {
                if self.1 {
                    return Poll::Ready(7);
                }
                self.1 = true;
                if let Some(sender) = self.0.take() {
                    let _ = sender.send(cx.waker().clone());
                }
                Poll::Pending
            }
        }
        let waker = std::thread::spawn(move || receiver.recv().map(Waker::wake));
        assert_eq!(block_on(Later(Some(sender), false)), 7);
        assert!(waker.join().is_ok());
    }

    #[test]
    fn user_properties_come_first_and_the_cluster_wins() {
        let config = StreamsConfig::new("app", "broker:9092")
            .with_client_config("bootstrap.servers", "elsewhere:1")
            .with_client_config("client.id", "mine");
        let client = base_config(&config);
        assert_eq!(client.get("bootstrap.servers"), Some("broker:9092"));
        assert_eq!(client.get("client.id"), Some("mine"));
    }
}
