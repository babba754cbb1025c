//! Produce: validate each partition's record batches and append them.
//!
//! A single broker is the whole ISR, so acks=1 and acks=all both answer once
//! the batch is in the log (and on disk, with the every-produce flush
//! policy); acks=0 gets no answer at all. An acks=0 produce that fails
//! for any partition closes the connection instead, as Kafka does: the
//! producer expects no answer, so a closed connection is the only way it
//! learns that something went wrong (and refreshes its metadata).

use std::ops::ControlFlow;
use std::sync::Arc;

use kafka_protocol::error::ResponseError;
use kafka_protocol::messages::produce_response::{
    BatchIndexAndErrorMessage, PartitionProduceResponse, TopicProduceResponse,
};
use kafka_protocol::messages::{ProduceRequest, ProduceResponse};
use tracing::{debug, warn};

use super::{str_bytes, Context, RequestError};
use crate::broker::now_ms;
use crate::config::FlushPolicy;
use crate::log::batch::{self, BatchError, BatchHeader};
use crate::log::producers::SequenceError;
use crate::log::records::{self, RecordsError, MAX_RECORDS_BYTES};
use crate::log::AppendError;
use crate::topics::{Partition, Topic};

/// Why a partition's records were refused: Kafka's error code and, when
/// particular records are at fault, their indexes in the batch and why
/// (Kafka's `record_errors`).
struct Refusal {
    error: ResponseError,
    records: Vec<(i32, String)>,
}

impl From<ResponseError> for Refusal {
    fn from(error: ResponseError) -> Self {
        Self {
            error,
            records: Vec::new(),
        }
    }
}

impl Refusal {
    /// The partition's response: the error, and the records at fault with
    /// Kafka's summary of them.
    fn respond(self, response: PartitionProduceResponse) -> PartitionProduceResponse {
        let response = response
            .with_error_code(self.error.code())
            .with_base_offset(-1);
        if self.records.is_empty() {
            return response;
        }
        let shown: Vec<String> = self
            .records
            .iter()
            .take(3)
            .map(|(index, message)| format!("RecordError(batchIndex={index}, message='{message}')"))
            .collect();
        let summary = format!(
            "One or more records have been rejected due to {} record errors in total, \
             and only showing the first three errors at most: [{}]",
            self.records.len(),
            shown.join(", ")
        );
        let records = self
            .records
            .into_iter()
            .map(|(index, message)| {
                BatchIndexAndErrorMessage::default()
                    .with_batch_index(index)
                    .with_batch_index_error_message(Some(str_bytes(message)))
            })
            .collect();
        response
            .with_record_errors(records)
            .with_error_message(Some(str_bytes(summary)))
    }
}

/// Reads the records of a batch a client produced, when it is cheap (the
/// records are not compressed) or needed (a compacted topic, which keeps
/// the latest record per key, refuses records without one, as Kafka's
/// `LogValidator.validateKey` does, naming each by its index in the
/// batch). Records that do not match the count the batch declares are
/// refused as Kafka refuses them; they would make consumers fail.
/// Compressed batches of other topics are stored unread, which keeps the
/// cost of producing them low.
fn check_records(
    batch: &[u8],
    header: &BatchHeader,
    compacted: bool,
    topic: &str,
    partition: i32,
) -> Result<(), Refusal> {
    if !compacted && header.compressed() {
        return Ok(());
    }
    let mut keyless = Vec::new();
    let mut index = 0;
    let read = records::for_each_record(batch, header, MAX_RECORDS_BYTES, |record| {
        if compacted && record.key.is_none() {
            keyless.push((
                index,
                format!("Compacted topic cannot accept message without key in topic partition {topic}-{partition}."),
            ));
        }
        index += 1;
        ControlFlow::Continue(())
    });
    match read {
        Ok(()) if keyless.is_empty() => Ok(()),
        Ok(()) => Err(Refusal {
            error: ResponseError::InvalidRecord,
            records: keyless,
        }),
        // Records Kafka would read whole; their keys go unchecked.
        Err(RecordsError::TooLarge(budget)) => {
            warn!(
                topic,
                partition, budget, "records too large to check their keys"
            );
            Ok(())
        }
        Err(e @ RecordsError::Malformed(_)) => {
            debug!(topic, partition, error = %e, "records do not match their batch");
            Err(ResponseError::InvalidRecord.into())
        }
        Err(e) => {
            debug!(topic, partition, error = %e, "unreadable records");
            Err(ResponseError::CorruptMessage.into())
        }
    }
}

/// The batch `records` (with `header`) compressed with `codec` instead,
/// as a topic with its own `compression.type` stores it (Kafka's
/// `LogValidator`), with its header; it must still fit
/// `max.message.bytes`.
fn recompress(
    records: &[u8],
    header: &BatchHeader,
    codec: i16,
    max_message_bytes: u64,
) -> Result<(Vec<u8>, Vec<BatchHeader>), Refusal> {
    let recompressed = records::recompressed(records, header, codec).map_err(|e| {
        debug!(error = %e, "cannot recompress a batch");
        match e {
            RecordsError::Malformed(_) => ResponseError::InvalidRecord,
            RecordsError::TooLarge(_) => ResponseError::MessageTooLarge,
            _ => ResponseError::CorruptMessage,
        }
    })?;
    let headers =
        batch::validate_produced(&recompressed, max_message_bytes).map_err(|e| match e {
            BatchError::TooLarge(_) => ResponseError::MessageTooLarge,
            _ => ResponseError::CorruptMessage,
        })?;
    Ok((recompressed, headers))
}

/// Appends one partition's records; returns where they landed.
fn append(
    ctx: &Context<'_>,
    topic: &Topic,
    (index, partition): (i32, &Partition),
    records: &[u8],
    acks: i16,
    now: i64,
) -> Result<(i64, i64, i64), Refusal> {
    // Checked before the log is locked: reading the records may take a
    // while (they may be compressed).
    let settings = partition.log().settings().clone();
    if acks == -1 && settings.min_insync_replicas > 1 {
        return Err(ResponseError::NotEnoughReplicas.into());
    }
    let headers = batch::validate_produced(records, settings.max_message_bytes).map_err(|e| {
        debug!(topic = topic.name(), error = %e, "rejected produced batch");
        // Kafka's codes: a batch that does not read back whole is corrupt
        // (retriable, as the bytes may have been damaged on the way); one
        // that reads but breaks a rule is an invalid record (not retried).
        match e {
            BatchError::TooLarge(_) => ResponseError::MessageTooLarge,
            BatchError::Truncated | BatchError::BadLength(_) | BatchError::CrcMismatch => {
                ResponseError::CorruptMessage
            }
            BatchError::UnsupportedMagic(_)
            | BatchError::BadRecordCount { .. }
            | BatchError::NoBatch
            | BatchError::SeveralBatches(_)
            | BatchError::ControlBatch
            | BatchError::InvalidSequence { .. }
            | BatchError::OffsetOverflow { .. } => ResponseError::InvalidRecord,
        }
    })?;
    if ctx.version < 7 && headers.iter().any(|header| header.zstd()) {
        return Err(ResponseError::UnsupportedCompressionType.into());
    }
    // One batch (see `validate_produced`), which is all of `records`.
    for header in &headers {
        check_records(records, header, settings.compacted, topic.name(), index)?;
    }
    let recompressed =
        match settings.codec {
            Some(codec) if headers.iter().any(|header| header.codec() != codec) => Some(
                recompress(records, &headers[0], codec, settings.max_message_bytes)?,
            ),
            _ => None,
        };
    let (records, headers) = match &recompressed {
        Some((records, headers)) => (records.as_slice(), headers.clone()),
        None => (records, headers),
    };
    let mut log = partition.log();
    // A transactional batch must belong to its producer's ongoing
    // transaction, which holds this partition: asked with the log locked
    // (see `Transactions::allows`).
    for header in headers.iter().filter(|header| header.transactional()) {
        ctx.state.transactions.allows(
            header.producer_id,
            header.producer_epoch,
            topic.name(),
            index,
        )?;
    }
    let appended = log.append(records, &headers, now).map_err(|e| match e {
        AppendError::Sequence(e) => {
            debug!(topic = topic.name(), partition = index, error = %e, "refused producer batch");
            match e {
                SequenceError::StaleEpoch { .. } => ResponseError::InvalidProducerEpoch,
                SequenceError::OutOfOrder { .. } => ResponseError::OutOfOrderSequenceNumber,
                SequenceError::InTransaction { .. } => ResponseError::InvalidTxnState,
            }
        }
        AppendError::Io(e) => {
            warn!(topic = topic.name(), error = %e, "append failed");
            ResponseError::KafkaStorageError
        }
    })?;
    if ctx.state.config.flush == FlushPolicy::EveryProduce {
        log.sync().map_err(|e| {
            warn!(topic = topic.name(), error = %e, "flush failed");
            ResponseError::KafkaStorageError
        })?;
    }
    Ok((
        appended.base_offset,
        appended.log_append_time,
        log.log_start_offset(),
    ))
}

/// The response to `request`; `Ok(None)` for an acks=0 produce that
/// succeeded everywhere, and [`RequestError::UnacknowledgedProduce`] for
/// one that failed somewhere (the partitions that succeeded keep their
/// records).
pub(super) async fn handle(
    ctx: &Context<'_>,
    request: ProduceRequest,
) -> Result<Option<ProduceResponse>, RequestError> {
    let state = ctx.state;
    let acks = request.acks;
    let now = now_ms();
    let mut appended_any = false;
    let mut responses = Vec::with_capacity(request.topic_data.len());
    for topic_data in request.topic_data {
        let topic: Option<Arc<Topic>> = if ctx.version >= 13 {
            state.topics.get_by_id(topic_data.topic_id)
        } else {
            state.topics.get(&topic_data.name)
        };
        let partitions = topic_data
            .partition_data
            .into_iter()
            .map(|data| {
                let response = PartitionProduceResponse::default().with_index(data.index);
                let result = if ![0, 1, -1].contains(&acks) {
                    Err(ResponseError::InvalidRequiredAcks.into())
                } else {
                    match (&topic, topic.as_ref().and_then(|t| t.partition(data.index))) {
                        (Some(topic), Some(partition)) => match data.records.as_deref() {
                            Some(records) => {
                                append(ctx, topic, (data.index, &partition), records, acks, now)
                            }
                            None => Err(ResponseError::CorruptMessage.into()),
                        },
                        _ => Err(ResponseError::UnknownTopicOrPartition.into()),
                    }
                };
                match result {
                    Ok((base_offset, log_append_time, log_start_offset)) => {
                        appended_any = true;
                        response
                            .with_base_offset(base_offset)
                            .with_log_append_time_ms(log_append_time)
                            .with_log_start_offset(log_start_offset)
                    }
                    Err(refusal) => refusal.respond(response),
                }
            })
            .collect();
        responses.push(
            TopicProduceResponse::default()
                .with_name(topic_data.name)
                .with_topic_id(topic_data.topic_id)
                .with_partition_responses(partitions),
        );
    }
    if appended_any {
        state.notify_appended();
    }
    if acks != 0 {
        return Ok(Some(ProduceResponse::default().with_responses(responses)));
    }
    let failed: Vec<String> = responses
        .iter()
        .flat_map(|topic| {
            topic
                .partition_responses
                .iter()
                .filter(|partition| partition.error_code != 0)
                .map(move |partition| {
                    let error = ResponseError::try_from_code(partition.error_code)
                        .map_or_else(|| partition.error_code.to_string(), |e| format!("{e:?}"));
                    format!("{}-{}: {error}", topic.name.as_str(), partition.index)
                })
        })
        .collect();
    if failed.is_empty() {
        Ok(None)
    } else {
        Err(RequestError::UnacknowledgedProduce(failed.join(", ")))
    }
}
