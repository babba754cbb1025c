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
use crate::group::OffsetCommit;

fn code(result: Result<(), ResponseError>) -> i16 {
    result.err().map_or(0, |e| e.code())
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
            code(added)
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
    let added = ctx.state.transactions.add_group(
        request.transactional_id.as_str(),
        request.producer_id.0,
        request.producer_epoch,
        request.group_id.as_str(),
        now_ms(),
    );
    AddOffsetsToTxnResponse::default().with_error_code(code(added))
}

/// TxnOffsetCommit: offsets that take effect when the transaction commits.
pub(super) fn commit_offsets(
    ctx: &Context<'_>,
    request: TxnOffsetCommitRequest,
) -> TxnOffsetCommitResponse {
    let commits: Vec<OffsetCommit> = request
        .topics
        .iter()
        .flat_map(|topic| {
            topic.partitions.iter().map(|p| OffsetCommit {
                topic: topic.name.as_str().to_owned(),
                partition: p.partition_index,
                committed: Committed {
                    offset: p.committed_offset,
                    leader_epoch: p.committed_leader_epoch,
                    metadata: p.committed_metadata.as_ref().map(|m| m.as_str().to_owned()),
                },
            })
        })
        .collect();
    let count = commits.len();
    let results = ctx
        .state
        .transactions
        .commit_offsets(
            request.transactional_id.as_str(),
            request.group_id.as_str(),
            request.producer_id.0,
            request.producer_epoch,
            commits,
        )
        .unwrap_or_else(|error| vec![Err(error); count]);
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
    EndTxnResponse::default().with_error_code(code(ended))
}
