//! ListOffsets: earliest (the log start, which DeleteRecords may have
//! moved), latest (the last stable offset for a read-committed client),
//! max-timestamp, and first offset at or after a timestamp (never below the
//! log start).

use kafka_protocol::error::ResponseError;
use kafka_protocol::messages::list_offsets_response::{
    ListOffsetsPartitionResponse, ListOffsetsTopicResponse,
};
use kafka_protocol::messages::{ListOffsetsRequest, ListOffsetsResponse};
use tracing::warn;

use super::{Context, READ_COMMITTED};
use crate::log::offset_for_time;
use crate::topics::Partition;

const LATEST: i64 = -1;
const EARLIEST: i64 = -2;
const MAX_TIMESTAMP: i64 = -3;

/// `(offset, timestamp)` for a requested timestamp or special value. The
/// log is locked only to find a batch: reading its records (which may be
/// compressed) happens after, so produces and fetches do not wait.
fn lookup(
    partition: &Partition,
    timestamp: i64,
    read_committed: bool,
) -> Result<(i64, i64), ResponseError> {
    let storage_error = |e: std::io::Error| {
        warn!(error = %e, "offset lookup failed");
        ResponseError::KafkaStorageError
    };
    let wanted = {
        let log = partition.log();
        if log.is_offline() {
            return Err(ResponseError::KafkaStorageError);
        }
        match timestamp {
            LATEST if read_committed => return Ok((log.last_stable_offset(), -1)),
            LATEST => return Ok((log.log_end_offset(), -1)),
            EARLIEST => return Ok((log.log_start_offset(), -1)),
            MAX_TIMESTAMP => match log.max_timestamp() {
                Some(max) => max,
                None => return Ok((-1, -1)),
            },
            t if t >= 0 => t,
            _ => return Err(ResponseError::InvalidRequest),
        }
    };
    let found = offset_for_time(wanted, |after| {
        let log = partition.log();
        let batch = log.batch_at_time(wanted, after)?;
        Ok(batch.map(|batch| (batch, log.log_start_offset())))
    })
    .map_err(storage_error)?;
    let Some(found) = found else {
        return Ok((-1, -1));
    };
    // A read-committed client is not told of offsets it may not read yet.
    if read_committed && found.0 >= partition.log().last_stable_offset() {
        return Ok((-1, -1));
    }
    Ok(found)
}

pub(super) fn handle(ctx: &Context<'_>, request: ListOffsetsRequest) -> ListOffsetsResponse {
    let read_committed = request.isolation_level == READ_COMMITTED;
    let topics = request
        .topics
        .into_iter()
        .map(|t| {
            let topic = ctx.state.topics.get(&t.name);
            let partitions = t
                .partitions
                .into_iter()
                .map(|p| {
                    let response = ListOffsetsPartitionResponse::default()
                        .with_partition_index(p.partition_index);
                    let result = match topic
                        .as_ref()
                        .and_then(|topic| topic.partition(p.partition_index))
                    {
                        Some(partition) => lookup(&partition, p.timestamp, read_committed),
                        None => Err(ResponseError::UnknownTopicOrPartition),
                    };
                    // The leader epoch exists from v4.
                    let epoch = if ctx.version >= 4 { 0 } else { -1 };
                    match result {
                        Ok((offset, timestamp)) => response
                            .with_offset(offset)
                            .with_timestamp(timestamp)
                            .with_leader_epoch(epoch),
                        Err(error) => response
                            .with_error_code(error.code())
                            .with_offset(-1)
                            .with_timestamp(-1),
                    }
                })
                .collect();
            ListOffsetsTopicResponse::default()
                .with_name(t.name)
                .with_partitions(partitions)
        })
        .collect();
    ListOffsetsResponse::default().with_topics(topics)
}
