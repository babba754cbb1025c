//! The transactional APIs: AddPartitionsToTxn, AddOffsetsToTxn,
//! TxnOffsetCommit and EndTxn. The transaction logic lives in
//! [`crate::transactions`]; this module translates.

use kafka_protocol::error::ResponseError;
use kafka_protocol::messages::add_partitions_to_txn_response::{
    AddPartitionsToTxnPartitionResult, AddPartitionsToTxnTopicResult,
};
use kafka_protocol::messages::txn_offset_commit_response::{
    TxnOffsetCommitResponsePartition, TxnOffsetCommitResponseTopic,
};
use kafka_protocol::messages::{
    AddOffsetsToTxnRequest, AddOffsetsToTxnResponse, AddPartitionsToTxnRequest,
    AddPartitionsToTxnResponse, EndTxnRequest, EndTxnResponse, TxnOffsetCommitRequest,
    TxnOffsetCommitResponse,
};

use super::Context;
use crate::broker::now_ms;
use crate::group::offsets::Committed;
use crate::group::{check_group_id, OffsetCommit};

fn code(result: Result<(), ResponseError>) -> i16 {
    result.err().map_or(0, |e| e.code())
}

/// The code of `error` for an API at `version`, where versions before
/// `since` predate PRODUCER_FENCED (Kafka 2.7) and get
/// INVALID_PRODUCER_EPOCH instead, as Kafka's `KafkaApis` answers them.
pub(super) fn fenced_before(error: ResponseError, version: i16, since: i16) -> i16 {
    match error {
        ResponseError::ProducerFenced if version < since => {
            ResponseError::InvalidProducerEpoch.code()
        }
        other => other.code(),
    }
}

/// [`fenced_before`] version 2, for AddPartitionsToTxn, AddOffsetsToTxn
/// and EndTxn.
fn coordinator_code(result: Result<(), ResponseError>, version: i16) -> i16 {
    result.err().map_or(0, |e| fenced_before(e, version, 2))
}

/// AddPartitionsToTxn, in the clients' form (up to v3). As in Kafka, a
/// partition that does not exist fails the request: it gets
/// UNKNOWN_TOPIC_OR_PARTITION, and the others OPERATION_NOT_ATTEMPTED.
pub(super) fn add_partitions(
    ctx: &Context<'_>,
    request: AddPartitionsToTxnRequest,
) -> AddPartitionsToTxnResponse {
    let state = ctx.state;
    let wanted: Vec<(String, Vec<i32>)> = request
        .v3_and_below_topics
        .iter()
        .map(|t| (t.name.as_str().to_owned(), t.partitions.clone()))
        .collect();
    let exists = |topic: &str, partition: i32| {
        state
            .topics
            .get(topic)
            .is_some_and(|t| t.partition(partition).is_some())
    };
    let all_exist = wanted
        .iter()
        .all(|(topic, partitions)| partitions.iter().all(|&p| exists(topic, p)));
    let outcome = |topic: &str, partition: i32, added: Result<(), ResponseError>| {
        if all_exist {
            coordinator_code(added, ctx.version)
        } else if exists(topic, partition) {
            ResponseError::OperationNotAttempted.code()
        } else {
            ResponseError::UnknownTopicOrPartition.code()
        }
    };
    let added = if all_exist {
        let partitions: Vec<(String, i32)> = wanted
            .iter()
            .flat_map(|(topic, partitions)| partitions.iter().map(|&p| (topic.clone(), p)))
            .collect();
        state.transactions.add_partitions(
            request.v3_and_below_transactional_id.as_str(),
            request.v3_and_below_producer_id.0,
            request.v3_and_below_producer_epoch,
            &partitions,
            now_ms(),
        )
    } else {
        Ok(())
    };
    let results = request
        .v3_and_below_topics
        .into_iter()
        .map(|topic| {
            let name = topic.name.as_str().to_owned();
            let partitions = topic
                .partitions
                .iter()
                .map(|&partition| {
                    AddPartitionsToTxnPartitionResult::default()
                        .with_partition_index(partition)
                        .with_partition_error_code(outcome(&name, partition, added))
                })
                .collect();
            AddPartitionsToTxnTopicResult::default()
                .with_name(topic.name)
                .with_results_by_partition(partitions)
        })
        .collect();
    AddPartitionsToTxnResponse::default().with_results_by_topic_v3_and_below(results)
}

/// AddOffsetsToTxn: the group whose offsets the transaction will commit.
pub(super) fn add_offsets(
    ctx: &Context<'_>,
    request: AddOffsetsToTxnRequest,
) -> AddOffsetsToTxnResponse {
    // A group whose offsets could not be stored would leave the
    // transaction unable to commit.
    let added = check_group_id(request.group_id.as_str()).and_then(|()| {
        ctx.state.transactions.add_group(
            request.transactional_id.as_str(),
            request.producer_id.0,
            request.producer_epoch,
            request.group_id.as_str(),
            now_ms(),
        )
    });
    AddOffsetsToTxnResponse::default().with_error_code(coordinator_code(added, ctx.version))
}

/// TxnOffsetCommit: offsets that take effect when the transaction commits.
/// The request is checked as an OffsetCommit would be (the member, if it
/// names one; names and metadata against the offset store's limits), then
/// held by the transaction.
pub(super) fn commit_offsets(
    ctx: &Context<'_>,
    request: TxnOffsetCommitRequest,
) -> TxnOffsetCommitResponse {
    let state = ctx.state;
    let group = request.group_id.as_str();
    let checked = state.groups.check_transactional_commit(
        group,
        request.member_id.as_str(),
        request.group_instance_id.as_ref().map(|id| id.as_str()),
        request.generation_id,
    );
    let mut results = Vec::new();
    let mut accepted = Vec::new();
    for topic in &request.topics {
        for p in &topic.partitions {
            let commit = OffsetCommit {
                topic: topic.name.as_str().to_owned(),
                partition: p.partition_index,
                committed: Committed {
                    offset: p.committed_offset,
                    leader_epoch: p.committed_leader_epoch,
                    metadata: p.committed_metadata.as_ref().map(|m| m.as_str().to_owned()),
                },
            };
            let result = checked.and_then(|()| commit.check());
            if result.is_ok() {
                accepted.push(commit);
            }
            results.push(result);
        }
    }
    if !accepted.is_empty() {
        let held = state.transactions.commit_offsets(
            request.transactional_id.as_str(),
            group,
            request.producer_id.0,
            request.producer_epoch,
            accepted,
        );
        if let Err(error) = held {
            for result in &mut results {
                if result.is_ok() {
                    *result = Err(error);
                }
            }
        }
    }
    let mut results = results.into_iter();
    let topics = request
        .topics
        .into_iter()
        .map(|topic| {
            let partitions = topic
                .partitions
                .iter()
                .map(|p| {
                    let result = results.next().unwrap_or(Ok(()));
                    TxnOffsetCommitResponsePartition::default()
                        .with_partition_index(p.partition_index)
                        .with_error_code(code(result))
                })
                .collect();
            TxnOffsetCommitResponseTopic::default()
                .with_name(topic.name)
                .with_partitions(partitions)
        })
        .collect();
    TxnOffsetCommitResponse::default().with_topics(topics)
}

/// EndTxn: commit or abort.
pub(super) fn end(ctx: &Context<'_>, request: EndTxnRequest) -> EndTxnResponse {
    let state = ctx.state;
    let ended = state.transactions.end(
        request.transactional_id.as_str(),
        request.producer_id.0,
        request.producer_epoch,
        request.committed,
        state,
        now_ms(),
    );
    EndTxnResponse::default().with_error_code(coordinator_code(ended, ctx.version))
}
