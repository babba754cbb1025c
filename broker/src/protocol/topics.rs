//! CreateTopics, DeleteTopics and CreatePartitions.

use std::collections::HashSet;

use kafka_protocol::error::ResponseError;
use kafka_protocol::messages::create_partitions_response::CreatePartitionsTopicResult;
use kafka_protocol::messages::create_topics_request::CreatableTopic;
use kafka_protocol::messages::create_topics_response::{
    CreatableTopicConfigs, CreatableTopicResult,
};
use kafka_protocol::messages::delete_topics_response::DeletableTopicResult;
use kafka_protocol::messages::{
    CreatePartitionsRequest, CreatePartitionsResponse, CreateTopicsRequest, CreateTopicsResponse,
    DeleteTopicsRequest, DeleteTopicsResponse, TopicName,
};

use super::{str_bytes, Context};
use crate::broker::now_ms;
use crate::config::topic::TopicConfig;
use crate::topics::TopicError;

/// Manual assignments may only name this broker.
fn assignment_is_local<'a>(
    ctx: &Context<'_>,
    mut replicas: impl Iterator<Item = &'a [kafka_protocol::messages::BrokerId]>,
) -> bool {
    replicas.all(|brokers| brokers.len() == 1 && brokers[0].0 == ctx.state.config.node_id)
}

fn create_one(
    ctx: &Context<'_>,
    topic: CreatableTopic,
    validate_only: bool,
) -> CreatableTopicResult {
    let result = CreatableTopicResult::default().with_name(topic.name.clone());
    let fail = |error: ResponseError, message: String| {
        result
            .clone()
            .with_error_code(error.code())
            .with_error_message(Some(str_bytes(message)))
            .with_num_partitions(-1)
            .with_replication_factor(-1)
    };
    let mut partitions = Some(topic.num_partitions);
    if !topic.assignments.is_empty() {
        if !assignment_is_local(
            ctx,
            topic.assignments.iter().map(|a| a.broker_ids.as_slice()),
        ) {
            return fail(
                ResponseError::InvalidReplicaAssignment,
                "replicas must be this broker".to_owned(),
            );
        }
        partitions = Some(i32::try_from(topic.assignments.len()).unwrap_or(i32::MAX));
    }
    // As in Kafka: a null is neither a value nor a request for the default,
    // and the error names every null so that one retry can fix them all.
    let nulls: Vec<&str> = topic
        .configs
        .iter()
        .filter(|config| config.value.is_none())
        .map(|config| config.name.as_str())
        .collect();
    if !nulls.is_empty() {
        return fail(
            ResponseError::InvalidConfig,
            format!(
                "Null value not supported for topic configs: {}",
                nulls.join(",")
            ),
        );
    }
    let overrides = topic
        .configs
        .into_iter()
        .filter_map(|config| Some((config.name.to_string(), config.value?.to_string())))
        .collect::<Vec<_>>();
    let created = TopicConfig::from_overrides(overrides)
        .map_err(TopicError::from)
        .and_then(|config| {
            ctx.state.topics.create(
                &topic.name,
                partitions,
                topic.replication_factor,
                config,
                validate_only,
                now_ms(),
            )
        });
    match created {
        Ok(created) => {
            let defaults = ctx.state.topics.defaults();
            let configs = created
                .config()
                .describe(defaults)
                .into_iter()
                .map(|entry| {
                    CreatableTopicConfigs::default()
                        .with_name(str_bytes(entry.name))
                        .with_value(Some(str_bytes(entry.value)))
                        .with_config_source(entry.source as i8)
                })
                .collect();
            let count = if validate_only {
                partitions
                    .filter(|&p| p > 0)
                    .unwrap_or(ctx.state.config.default_partitions)
            } else {
                created.partition_count()
            };
            result
                .with_topic_id(created.id())
                .with_num_partitions(count)
                .with_replication_factor(1)
                .with_configs(Some(configs))
        }
        Err(e) => fail(e.response_error(), e.to_string()),
    }
}

pub(super) fn create(ctx: &Context<'_>, request: CreateTopicsRequest) -> CreateTopicsResponse {
    let mut seen = HashSet::new();
    let duplicates: HashSet<TopicName> = request
        .topics
        .iter()
        .filter(|t| !seen.insert(t.name.clone()))
        .map(|t| t.name.clone())
        .collect();
    let topics = request
        .topics
        .into_iter()
        .map(|topic| {
            if duplicates.contains(&topic.name) {
                CreatableTopicResult::default()
                    .with_name(topic.name)
                    .with_error_code(ResponseError::InvalidRequest.code())
                    .with_error_message(Some(str_bytes(
                        "topic named more than once in the request",
                    )))
            } else {
                create_one(ctx, topic, request.validate_only)
            }
        })
        .collect();
    CreateTopicsResponse::default().with_topics(topics)
}

pub(super) fn delete(ctx: &Context<'_>, request: DeleteTopicsRequest) -> DeleteTopicsResponse {
    let topics = ctx.state.topics.all();
    // v6 names topics or ids; older versions only names.
    let targets: Vec<(Option<TopicName>, uuid::Uuid)> = if ctx.version >= 6 {
        request
            .topics
            .into_iter()
            .map(|t| (t.name, t.topic_id))
            .collect()
    } else {
        request
            .topic_names
            .into_iter()
            .map(|n| (Some(n), uuid::Uuid::nil()))
            .collect()
    };
    let responses = targets
        .into_iter()
        .map(|(name, id)| {
            let name = name.or_else(|| {
                topics
                    .iter()
                    .find(|t| t.id() == id)
                    .map(|t| TopicName(str_bytes(t.name())))
            });
            let result = DeletableTopicResult::default()
                .with_name(name.clone())
                .with_topic_id(id);
            let deleted = match &name {
                Some(name) => ctx.state.topics.delete(name).inspect(|_| {
                    ctx.state.groups.forget_topic(name);
                }),
                None => Err(TopicError::Unknown),
            };
            match deleted {
                Ok(topic) => result.with_topic_id(topic.id()),
                Err(e) => {
                    let error = match (&e, name.is_none()) {
                        (TopicError::Unknown, true) => ResponseError::UnknownTopicId,
                        _ => e.response_error(),
                    };
                    result
                        .with_error_code(error.code())
                        .with_error_message(Some(str_bytes(e.to_string())))
                }
            }
        })
        .collect();
    DeleteTopicsResponse::default().with_responses(responses)
}

pub(super) fn create_partitions(
    ctx: &Context<'_>,
    request: CreatePartitionsRequest,
) -> CreatePartitionsResponse {
    let results = request
        .topics
        .into_iter()
        .map(|topic| {
            let result = CreatePartitionsTopicResult::default().with_name(topic.name.clone());
            let local = topic.assignments.as_ref().is_none_or(|a| {
                assignment_is_local(ctx, a.iter().map(|a| a.broker_ids.as_slice()))
            });
            let outcome = if local {
                ctx.state
                    .topics
                    .create_partitions(&topic.name, topic.count, request.validate_only, now_ms())
                    .map_err(|e| (e.response_error(), e.to_string()))
            } else {
                Err((
                    ResponseError::InvalidReplicaAssignment,
                    "replicas must be this broker".to_owned(),
                ))
            };
            match outcome {
                Ok(()) => result,
                Err((error, message)) => result
                    .with_error_code(error.code())
                    .with_error_message(Some(str_bytes(message))),
            }
        })
        .collect();
    CreatePartitionsResponse::default().with_results(results)
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;

    use kafka_protocol::messages::create_topics_request::CreatableTopicConfig;

    use super::*;
    use crate::broker::State;
    use crate::BrokerConfig;

    fn create_topic(state: &State, topic: CreatableTopic) -> CreatableTopicResult {
        let ctx = Context {
            state,
            version: 5,
            client_id: "test",
            client_host: "/test",
        };
        let request = CreateTopicsRequest::default().with_topics(vec![topic]);
        create(&ctx, request).topics.remove(0)
    }

    fn topic(partitions: i32) -> CreatableTopic {
        CreatableTopic::default()
            .with_name(TopicName(str_bytes("t")))
            .with_num_partitions(partitions)
            .with_replication_factor(1)
    }

    fn refused(result: &CreatableTopicResult) -> (i16, String) {
        let message = result.error_message.as_deref().unwrap_or_default();
        (result.error_code, message.to_owned())
    }

    #[test]
    fn refused_topics_get_kafkas_error_and_a_message() {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = BrokerConfig {
            max_partitions: 8,
            ..BrokerConfig::new(dir.path())
        };
        let state = State::open(config, SocketAddr::from(([127, 0, 0, 1], 9092))).expect("state");

        let config = |name: &str, value: Option<&str>| {
            CreatableTopicConfig::default()
                .with_name(str_bytes(name))
                .with_value(value.map(str_bytes))
        };
        let null_configs = topic(1).with_configs(vec![
            config("retention.ms", None),
            config("cleanup.policy", Some("compact")),
            config("segment.bytes", None),
        ]);
        assert_eq!(
            refused(&create_topic(&state, null_configs)),
            (
                ResponseError::InvalidConfig.code(),
                "Null value not supported for topic configs: retention.ms,segment.bytes".to_owned()
            )
        );
        assert_eq!(
            refused(&create_topic(&state, topic(9))),
            (
                ResponseError::InvalidPartitions.code(),
                "invalid number of partitions: 9 is more than the 8 partitions a topic may have on this broker"
                    .to_owned()
            )
        );
        assert!(state.topics.get("t").is_none());
        assert!(!dir.path().join("t-0").exists());
        assert_eq!(create_topic(&state, topic(8)).error_code, 0);
    }
}
