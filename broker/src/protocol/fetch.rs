//! Fetch: serve stored batches as they are on disk, with long polling.
//!
//! A fetch that finds fewer than `min_bytes` waits until an append wakes it
//! (and then re-reads), or until `max_wait_ms` passes. A read-committed
//! fetch (isolation level 1) gets the batches below the last stable offset
//! only, with the aborted transactions among them, whose records the
//! client skips.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use kafka_protocol::error::ResponseError;
use kafka_protocol::messages::fetch_request::FetchPartition;
use kafka_protocol::messages::fetch_response::{
    AbortedTransaction, FetchableTopicResponse, PartitionData,
};
use kafka_protocol::messages::{FetchRequest, FetchResponse, ProducerId, TopicName};
use tokio::time::Instant;
use tracing::warn;
use uuid::Uuid;

use super::{Context, READ_COMMITTED};
use crate::log::{any_zstd, next_offset, ReadError};
use crate::topics::Topic;

/// One requested topic, resolved once for all the reads of a long poll.
struct Wanted {
    name: TopicName,
    id: Uuid,
    topic: Option<Arc<Topic>>,
    partitions: Vec<FetchPartition>,
}

/// How a fetch reads, decided once from its request.
struct Reading {
    /// The request-wide byte budget.
    max_bytes: usize,
    /// The error for a topic that does not exist (by id: UNKNOWN_TOPIC_ID).
    unknown_topic: ResponseError,
    /// Only below the last stable offset, with the aborted transactions.
    read_committed: bool,
    /// Whether the client reads zstd batches (Fetch v10 and up); one that
    /// does not is refused them with UNSUPPORTED_COMPRESSION_TYPE, as Kafka
    /// refuses them.
    zstd: bool,
}

/// Reads every requested partition within the request's byte budget.
/// Returns the response topics, the bytes read, and whether any partition
/// had an error (which answers the fetch at once).
fn read_all(wanted: &[Wanted], reading: &Reading) -> (Vec<FetchableTopicResponse>, usize, bool) {
    let Reading {
        max_bytes,
        unknown_topic,
        read_committed,
        zstd,
    } = *reading;
    let mut total = 0;
    let mut any_error = false;
    let topics = wanted
        .iter()
        .map(|w| {
            let partitions = w
                .partitions
                .iter()
                .map(|p| {
                    let response = PartitionData::default().with_partition_index(p.partition);
                    // An unknown topic gets `unknown_topic` (by id: UNKNOWN_TOPIC_ID);
                    // a known one without the partition, as in Kafka, does not.
                    let Some(topic) = w.topic.as_ref() else {
                        any_error = true;
                        return response.with_error_code(unknown_topic.code()).with_high_watermark(-1);
                    };
                    let Some(partition) = topic.partition(p.partition) else {
                        any_error = true;
                        return response
                            .with_error_code(ResponseError::UnknownTopicOrPartition.code())
                            .with_high_watermark(-1);
                    };
                    let log = partition.log();
                    let stable = log.last_stable_offset();
                    let mut response = response
                        .with_high_watermark(log.log_end_offset())
                        .with_last_stable_offset(stable)
                        .with_log_start_offset(log.log_start_offset());
                    let budget = max_bytes.saturating_sub(total);
                    let limit = usize::try_from(p.partition_max_bytes).unwrap_or(0).min(budget);
                    let read = if limit == 0 {
                        Ok(Bytes::new())
                    } else if read_committed {
                        log.read_stable(p.fetch_offset, limit)
                    } else {
                        log.read(p.fetch_offset, limit)
                    };
                    if read_committed {
                        // The aborted transactions with records among those
                        // returned (Kafka's `collectAbortedTransactions` up to
                        // the offset after them).
                        let upper = read
                            .as_ref()
                            .ok()
                            .and_then(|records| next_offset(records))
                            .unwrap_or(p.fetch_offset);
                        let aborted = log
                            .aborted_transactions(p.fetch_offset, upper)
                            .into_iter()
                            .map(|aborted| {
                                AbortedTransaction::default()
                                    .with_producer_id(ProducerId(aborted.producer_id))
                                    .with_first_offset(aborted.first_offset)
                            })
                            .collect();
                        response = response.with_aborted_transactions(Some(aborted));
                    }
                    match read {
                        // No budget left for this partition: nothing read.
                        Ok(_) if limit == 0 => response,
                        // Only the first batch of the response may exceed the limits.
                        Ok(records) if total > 0 && records.len() > limit => response.with_records(Some(Bytes::new())),
                        Ok(records) if !zstd && any_zstd(&records) => {
                            any_error = true;
                            response.with_error_code(ResponseError::UnsupportedCompressionType.code())
                        }
                        Ok(records) => {
                            total += records.len();
                            response.with_records(Some(records))
                        }
                        Err(ReadError::OutOfRange) => {
                            any_error = true;
                            response.with_error_code(ResponseError::OffsetOutOfRange.code())
                        }
                        Err(ReadError::Io(e)) => {
                            warn!(topic = %w.name.as_str(), partition = p.partition, error = %e, "read failed");
                            any_error = true;
                            response.with_error_code(ResponseError::KafkaStorageError.code())
                        }
                    }
                })
                .collect();
            FetchableTopicResponse::default()
                .with_topic(w.name.clone())
                .with_topic_id(w.id)
                .with_partitions(partitions)
        })
        .collect();
    (topics, total, any_error)
}

pub(super) async fn handle(ctx: &Context<'_>, request: FetchRequest) -> FetchResponse {
    let state = ctx.state;
    if request.session_id != 0 {
        // Fetch sessions are not kept: clients fall back to full requests.
        return FetchResponse::default()
            .with_error_code(ResponseError::FetchSessionIdNotFound.code());
    }
    let by_id = ctx.version >= 13;
    let unknown_topic = if by_id {
        ResponseError::UnknownTopicId
    } else {
        ResponseError::UnknownTopicOrPartition
    };
    let wanted: Vec<Wanted> = request
        .topics
        .into_iter()
        .map(|t| Wanted {
            topic: if by_id {
                state.topics.get_by_id(t.topic_id)
            } else {
                state.topics.get(&t.topic)
            },
            name: t.topic,
            id: t.topic_id,
            partitions: t.partitions,
        })
        .collect();
    // Versions before 3 have no request-wide limit.
    let max_bytes = usize::try_from(request.max_bytes)
        .ok()
        .filter(|&m| m > 0)
        .unwrap_or(usize::MAX);
    let min_bytes = usize::try_from(request.min_bytes).unwrap_or(0);
    let deadline =
        Instant::now() + Duration::from_millis(u64::try_from(request.max_wait_ms).unwrap_or(0));
    let reading = Reading {
        max_bytes,
        unknown_topic,
        read_committed: request.isolation_level == READ_COMMITTED,
        zstd: ctx.version >= 10,
    };
    let mut appends = state.subscribe_appends();
    loop {
        // Marking the current append count seen before reading means an
        // append racing with the read still wakes the wait below.
        appends.borrow_and_update();
        let (topics, total, any_error) = read_all(&wanted, &reading);
        let waited_enough = Instant::now() >= deadline;
        if total >= min_bytes || any_error || waited_enough {
            return FetchResponse::default().with_responses(topics);
        }
        match tokio::time::timeout_at(deadline, appends.changed()).await {
            Ok(Ok(())) => {}
            // Timed out (or the broker is stopping): answer with what there is.
            Ok(Err(_)) | Err(_) => {
                let (topics, _, _) = read_all(&wanted, &reading);
                return FetchResponse::default().with_responses(topics);
            }
        }
    }
}
