//! OffsetCommit and OffsetFetch.

use kafka_protocol::error::ResponseError;
use kafka_protocol::messages::offset_commit_response::{
    OffsetCommitResponsePartition, OffsetCommitResponseTopic,
};
use kafka_protocol::messages::offset_fetch_response::{
    OffsetFetchResponseGroup, OffsetFetchResponsePartition, OffsetFetchResponsePartitions,
    OffsetFetchResponseTopic, OffsetFetchResponseTopics,
};
use kafka_protocol::messages::{
    OffsetCommitRequest, OffsetCommitResponse, OffsetFetchRequest, OffsetFetchResponse, TopicName,
};

use super::{str_bytes, Context};
use crate::group::offsets::Committed;
use crate::group::OffsetCommit;

pub(super) fn commit(ctx: &Context<'_>, request: OffsetCommitRequest) -> OffsetCommitResponse {
    let state = ctx.state;
    // Partitions of unknown topics fail on their own; the rest are committed together.
    let mut known = Vec::new();
    let mut unknown = Vec::new();
    for topic in &request.topics {
        let exists = state.topics.get(&topic.name);
        for p in &topic.partitions {
            let key = (topic.name.clone(), p.partition_index);
            if exists
                .as_ref()
                .is_some_and(|t| t.partition(p.partition_index).is_some())
            {
                known.push((key, p.clone()));
            } else {
                unknown.push(key);
            }
        }
    }
    let commits = known
        .iter()
        .map(|((topic, partition), p)| OffsetCommit {
            topic: topic.to_string(),
            partition: *partition,
            committed: Committed {
                offset: p.committed_offset,
                leader_epoch: p.committed_leader_epoch,
                metadata: p.committed_metadata.as_ref().map(|m| m.to_string()),
            },
        })
        .collect();
    let results: Vec<Result<(), ResponseError>> = match state.groups.commit_offsets(
        &request.group_id,
        &request.member_id,
        request.group_instance_id.as_deref(),
        request.generation_id_or_member_epoch,
        commits,
    ) {
        Ok(results) => results,
        Err(error) => vec![Err(error); known.len()],
    };
    let mut outcome: Vec<((TopicName, i32), i16)> = known
        .into_iter()
        .zip(results)
        .map(|((key, _), result)| (key, result.err().map_or(0, |e| e.code())))
        .collect();
    outcome.extend(
        unknown
            .into_iter()
            .map(|key| (key, ResponseError::UnknownTopicOrPartition.code())),
    );
    let topics = request
        .topics
        .into_iter()
        .map(|topic| {
            let partitions = outcome
                .iter()
                .filter(|((name, _), _)| *name == topic.name)
                .map(|((_, partition), error)| {
                    OffsetCommitResponsePartition::default()
                        .with_partition_index(*partition)
                        .with_error_code(*error)
                })
                .collect();
            OffsetCommitResponseTopic::default()
                .with_name(topic.name)
                .with_topic_id(topic.topic_id)
                .with_partitions(partitions)
        })
        .collect();
    OffsetCommitResponse::default().with_topics(topics)
}

/// A topic's partitions with their committed offsets, if any.
type TopicOffsets = (TopicName, Vec<(i32, Option<Committed>)>);

/// The committed offsets of a group: of the listed partitions, or all.
fn committed(
    ctx: &Context<'_>,
    group: &str,
    topics: Option<Vec<(TopicName, Vec<i32>)>>,
) -> Vec<TopicOffsets> {
    let groups = &ctx.state.groups;
    match topics {
        Some(topics) => topics
            .into_iter()
            .map(|(name, partitions)| {
                let offsets = partitions
                    .into_iter()
                    .map(|p| (p, groups.committed(group, &name, p)))
                    .collect();
                (name, offsets)
            })
            .collect(),
        None => {
            let mut by_topic: Vec<TopicOffsets> = Vec::new();
            for (topic, partition, c) in groups.all_committed(group) {
                let name = TopicName(str_bytes(topic));
                match by_topic.iter_mut().find(|(n, _)| *n == name) {
                    Some((_, offsets)) => offsets.push((partition, Some(c))),
                    None => by_topic.push((name, vec![(partition, Some(c))])),
                }
            }
            by_topic
        }
    }
}

/// `(offset, leader epoch, metadata)`, with Kafka's values for "none".
fn fields(c: Option<Committed>) -> (i64, i32, String) {
    c.map_or((-1, -1, String::new()), |c| {
        (c.offset, c.leader_epoch, c.metadata.unwrap_or_default())
    })
}

/// The error of a partition's committed offset for a client that asked
/// for stable offsets only (`require_stable`, which Java consumers send):
/// UNSTABLE_OFFSET_COMMIT while an open transaction holds offsets for it,
/// which the client retries until the transaction ends (KIP-447).
fn unstable(
    ctx: &Context<'_>,
    require_stable: bool,
    group: &str,
    topic: &str,
    partition: i32,
) -> i16 {
    let pending = require_stable
        && ctx
            .state
            .transactions
            .has_pending_offset(group, topic, partition);
    if pending {
        ResponseError::UnstableOffsetCommit.code()
    } else {
        0
    }
}

pub(super) fn fetch(ctx: &Context<'_>, request: OffsetFetchRequest) -> OffsetFetchResponse {
    let require_stable = request.require_stable;
    if ctx.version >= 8 {
        let groups = request
            .groups
            .into_iter()
            .map(|g| {
                let wanted = g.topics.map(|topics| {
                    topics
                        .into_iter()
                        .map(|t| (t.name, t.partition_indexes))
                        .collect()
                });
                let topics = committed(ctx, &g.group_id, wanted)
                    .into_iter()
                    .map(|(name, offsets)| {
                        let partitions = offsets
                            .into_iter()
                            .map(|(partition, c)| {
                                let error =
                                    unstable(ctx, require_stable, &g.group_id, &name, partition);
                                let (offset, epoch, metadata) =
                                    if error == 0 { fields(c) } else { fields(None) };
                                OffsetFetchResponsePartitions::default()
                                    .with_partition_index(partition)
                                    .with_committed_offset(offset)
                                    .with_committed_leader_epoch(epoch)
                                    .with_metadata(Some(str_bytes(metadata)))
                                    .with_error_code(error)
                            })
                            .collect();
                        OffsetFetchResponseTopics::default()
                            .with_name(name)
                            .with_partitions(partitions)
                    })
                    .collect();
                OffsetFetchResponseGroup::default()
                    .with_group_id(g.group_id)
                    .with_topics(topics)
            })
            .collect();
        return OffsetFetchResponse::default().with_groups(groups);
    }
    let wanted = request.topics.map(|topics| {
        topics
            .into_iter()
            .map(|t| (t.name, t.partition_indexes))
            .collect()
    });
    let topics = committed(ctx, &request.group_id, wanted)
        .into_iter()
        .map(|(name, offsets)| {
            let partitions = offsets
                .into_iter()
                .map(|(partition, c)| {
                    let error = unstable(ctx, require_stable, &request.group_id, &name, partition);
                    let (offset, epoch, metadata) =
                        if error == 0 { fields(c) } else { fields(None) };
                    OffsetFetchResponsePartition::default()
                        .with_partition_index(partition)
                        .with_committed_offset(offset)
                        .with_committed_leader_epoch(epoch)
                        .with_metadata(Some(str_bytes(metadata)))
                        .with_error_code(error)
                })
                .collect();
            OffsetFetchResponseTopic::default()
                .with_name(name)
                .with_partitions(partitions)
        })
        .collect();
    OffsetFetchResponse::default().with_topics(topics)
}
