//! DeleteRecords: moves partitions' log start forward, as Kafka's
//! `ReplicaManager.deleteRecords` does on a leader. Records below the new
//! start are no longer served (see [`PartitionLog::delete_records_before`]).
//!
//! Kafka answers once every replica's log start has caught up, waiting up
//! to the request's timeout; a single broker is the only replica, so the
//! answer is immediate and the timeout is not used.

use kafka_protocol::error::ResponseError;
use kafka_protocol::messages::delete_records_response::{
    DeleteRecordsPartitionResult, DeleteRecordsTopicResult,
};
use kafka_protocol::messages::{DeleteRecordsRequest, DeleteRecordsResponse};
use tracing::warn;

use super::Context;
use crate::log::{DeleteRecordsError, PartitionLog};
use crate::topics::Partition;

/// Kafka's `DeleteRecordsRequest.HIGH_WATERMARK`: delete every record
/// below the high watermark.
const HIGH_WATERMARK: i64 = -1;

/// The low watermark Kafka answers with an error.
const INVALID_LOW_WATERMARK: i64 = -1;

/// Deletes the records of `partition` below `offset`; the new log start.
fn delete(
    topic: &str,
    index: i32,
    partition: &Partition,
    offset: i64,
) -> Result<i64, ResponseError> {
    let mut log = partition.log();
    let offset = if offset == HIGH_WATERMARK {
        high_watermark(&log)
    } else {
        offset
    };
    log.delete_records_before(offset).map_err(|e| match e {
        DeleteRecordsError::OutOfRange { .. } => ResponseError::OffsetOutOfRange,
        DeleteRecordsError::PolicyViolation => ResponseError::PolicyViolation,
        DeleteRecordsError::Io(e) => {
            warn!(topic, partition = index, error = %e, "delete records failed");
            ResponseError::KafkaStorageError
        }
    })
}

/// The offset below which every record is replicated: on a single broker,
/// where an appended record is on every replica there is, the log end.
fn high_watermark(log: &PartitionLog) -> i64 {
    log.log_end_offset()
}

pub(super) fn handle(ctx: &Context<'_>, request: DeleteRecordsRequest) -> DeleteRecordsResponse {
    let topics = request
        .topics
        .into_iter()
        .map(|t| {
            let topic = ctx.state.topics.get(&t.name);
            let partitions = t
                .partitions
                .into_iter()
                .map(|p| {
                    let result = DeleteRecordsPartitionResult::default()
                        .with_partition_index(p.partition_index);
                    let deleted = match topic
                        .as_ref()
                        .and_then(|topic| topic.partition(p.partition_index))
                    {
                        Some(partition) => delete(&t.name, p.partition_index, &partition, p.offset),
                        None => Err(ResponseError::UnknownTopicOrPartition),
                    };
                    match deleted {
                        Ok(low_watermark) => result.with_low_watermark(low_watermark),
                        Err(error) => result
                            .with_error_code(error.code())
                            .with_low_watermark(INVALID_LOW_WATERMARK),
                    }
                })
                .collect();
            DeleteRecordsTopicResult::default()
                .with_name(t.name)
                .with_partitions(partitions)
        })
        .collect();
    DeleteRecordsResponse::default().with_topics(topics)
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;

    use kafka_protocol::messages::delete_records_request::{
        DeleteRecordsPartition, DeleteRecordsTopic,
    };
    use kafka_protocol::messages::TopicName;
    use kafka_protocol::records::Compression;

    use super::*;
    use crate::broker::State;
    use crate::config::topic::TopicConfig;
    use crate::log::batch;
    use crate::protocol::str_bytes;
    use crate::BrokerConfig;

    fn state(dir: &std::path::Path) -> State {
        State::open(
            BrokerConfig::new(dir),
            SocketAddr::from(([127, 0, 0, 1], 9092)),
        )
        .expect("state")
    }

    /// Creates the one-partition topic `name` with `overrides` and appends
    /// `records` records to it.
    fn topic_with(state: &State, name: &str, overrides: &[(&str, &str)], records: usize) {
        let config = TopicConfig::from_overrides(
            overrides
                .iter()
                .map(|(key, value)| ((*key).to_owned(), (*value).to_owned())),
        )
        .expect("valid config");
        let topic = state
            .topics
            .create(name, Some(1), 1, config, false, 0)
            .expect("topic");
        let batch = batch::tests::encode_batch(records, 0, Compression::None);
        let headers = batch::validate_produced(&batch, 1 << 20).expect("valid batch");
        let partition = topic.partition(0).expect("partition");
        partition.log().append(&batch, &headers, 0).expect("append");
    }

    /// `(error code, low watermark)` of deleting below `offset` in
    /// `partition` of `topic`.
    fn delete_records(state: &State, topic: &str, partition: i32, offset: i64) -> (i16, i64) {
        let ctx = Context {
            state,
            version: 2,
            client_id: "test",
            client_host: "/test",
        };
        let request = DeleteRecordsRequest::default()
            .with_timeout_ms(1000)
            .with_topics(vec![DeleteRecordsTopic::default()
                .with_name(TopicName(str_bytes(topic)))
                .with_partitions(vec![DeleteRecordsPartition::default()
                    .with_partition_index(partition)
                    .with_offset(offset)])]);
        let response = handle(&ctx, request);
        let result = &response.topics[0].partitions[0];
        assert_eq!(result.partition_index, partition);
        (result.error_code, result.low_watermark)
    }

    /// Kafka's answers: the low watermark after the deletion (which never
    /// moves back), -1 for the high watermark, OFFSET_OUT_OF_RANGE past it
    /// or below 0, UNKNOWN_TOPIC_OR_PARTITION for what does not exist, and
    /// POLICY_VIOLATION for a topic that is only compacted.
    #[test]
    fn deletions_are_answered_with_kafkas_low_watermarks_and_errors() {
        let dir = tempfile::tempdir().expect("tempdir");
        let state = state(dir.path());
        topic_with(&state, "t", &[], 10);
        let out_of_range = ResponseError::OffsetOutOfRange.code();
        let unknown = ResponseError::UnknownTopicOrPartition.code();

        assert_eq!(delete_records(&state, "t", 0, 4), (0, 4));
        assert_eq!(delete_records(&state, "t", 0, 2), (0, 4), "never back");
        assert_eq!(delete_records(&state, "t", 0, 11), (out_of_range, -1));
        assert_eq!(delete_records(&state, "t", 0, -2), (out_of_range, -1));
        assert_eq!(delete_records(&state, "t", 1, 5), (unknown, -1));
        assert_eq!(delete_records(&state, "missing", 0, 5), (unknown, -1));
        assert_eq!(
            delete_records(&state, "t", 0, -1),
            (0, 10),
            "high watermark"
        );
        assert_eq!(delete_records(&state, "t", 0, 10), (0, 10));

        let topic = state.topics.get("t").expect("topic");
        let partition = topic.partition(0).expect("partition");
        assert_eq!(partition.log().log_start_offset(), 10);

        topic_with(&state, "compacted", &[("cleanup.policy", "compact")], 3);
        assert_eq!(
            delete_records(&state, "compacted", 0, 1),
            (ResponseError::PolicyViolation.code(), -1)
        );
        topic_with(&state, "both", &[("cleanup.policy", "compact,delete")], 3);
        assert_eq!(delete_records(&state, "both", 0, 1), (0, 1));
    }
}
