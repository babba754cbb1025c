//! Metadata: topics, partitions, and this broker as the leader of all.

use std::sync::Arc;

use kafka_protocol::error::ResponseError;
use kafka_protocol::messages::metadata_response::{
    MetadataResponseBroker, MetadataResponsePartition, MetadataResponseTopic,
};
use kafka_protocol::messages::{BrokerId, MetadataRequest, MetadataResponse, TopicName};

use super::{str_bytes, Context};
use crate::topics::{validate_name, Topic};

/// Describes a topic's partitions.
fn describe_topic(ctx: &Context<'_>, topic: &Topic) -> MetadataResponseTopic {
    let node = BrokerId(ctx.state.config.node_id);
    let partitions = (0..topic.partition_count())
        .map(|index| {
            MetadataResponsePartition::default()
                .with_partition_index(index)
                .with_leader_id(node)
                .with_leader_epoch(0)
                .with_replica_nodes(vec![node])
                .with_isr_nodes(vec![node])
        })
        .collect();
    MetadataResponseTopic::default()
        .with_name(Some(TopicName(str_bytes(topic.name()))))
        .with_topic_id(topic.id())
        .with_partitions(partitions)
}

fn unknown_topic(name: Option<TopicName>, error: ResponseError) -> MetadataResponseTopic {
    MetadataResponseTopic::default()
        .with_error_code(error.code())
        .with_name(name)
}

pub(super) fn handle(ctx: &Context<'_>, request: MetadataRequest) -> MetadataResponse {
    let state = ctx.state;
    // v0 asks for every topic with an empty list; later versions with null.
    let requested = request.topics.filter(|t| ctx.version > 0 || !t.is_empty());
    let topics = match requested {
        None => state
            .topics
            .all()
            .iter()
            .map(|t| describe_topic(ctx, t))
            .collect(),
        Some(requested) => requested
            .into_iter()
            .map(|wanted| {
                let found: Option<Arc<Topic>> = match &wanted.name {
                    Some(name) => {
                        if let Err(e) = validate_name(name) {
                            return unknown_topic(wanted.name.clone(), e.response_error());
                        }
                        if request.allow_auto_topic_creation {
                            state.topic_or_auto_create(name)
                        } else {
                            state.topics.get(name)
                        }
                    }
                    None => state.topics.get_by_id(wanted.topic_id),
                };
                match found {
                    Some(topic) => describe_topic(ctx, &topic),
                    // Asked by id, an unknown topic is an unknown id (Kafka's
                    // UNKNOWN_TOPIC_ID).
                    None if wanted.name.is_none() => {
                        unknown_topic(None, ResponseError::UnknownTopicId)
                            .with_topic_id(wanted.topic_id)
                    }
                    None => unknown_topic(wanted.name, ResponseError::UnknownTopicOrPartition)
                        .with_topic_id(wanted.topic_id),
                }
            })
            .collect(),
    };
    let broker = MetadataResponseBroker::default()
        .with_node_id(BrokerId(state.config.node_id))
        .with_host(str_bytes(state.advertised_host.as_str()))
        .with_port(state.advertised_port);
    MetadataResponse::default()
        .with_brokers(vec![broker])
        .with_cluster_id(Some(str_bytes(state.config.cluster_id.as_str())))
        .with_controller_id(BrokerId(state.config.node_id))
        .with_topics(topics)
}
