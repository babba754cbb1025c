//! DescribeConfigs, IncrementalAlterConfigs and (legacy) AlterConfigs.
//!
//! Described as Kafka describes them: every config of the resource, defaults
//! included, each with its source, so clients can read effective values
//! such as `retention.ms`.

use kafka_protocol::error::ResponseError;
use kafka_protocol::messages::describe_configs_response::{
    DescribeConfigsResourceResult, DescribeConfigsResult, DescribeConfigsSynonym,
};
use kafka_protocol::messages::incremental_alter_configs_request::AlterableConfig;
use kafka_protocol::messages::incremental_alter_configs_response::AlterConfigsResourceResponse;
use kafka_protocol::messages::{
    alter_configs_response, AlterConfigsRequest, AlterConfigsResponse, DescribeConfigsRequest,
    DescribeConfigsResponse, IncrementalAlterConfigsRequest, IncrementalAlterConfigsResponse,
};

use super::{str_bytes, Context};
use crate::config::topic::{broker_entries, ConfigEntry, ConfigError, ConfigSource, TopicConfig};

const TOPIC: i8 = 2;
const BROKER: i8 = 4;

const SET: i8 = 0;
const DELETE: i8 = 1;
const APPEND: i8 = 2;
const SUBTRACT: i8 = 3;

/// The configs of one resource, or why it cannot be described.
fn entries(
    ctx: &Context<'_>,
    resource_type: i8,
    name: &str,
) -> Result<Vec<ConfigEntry>, (ResponseError, String)> {
    match resource_type {
        TOPIC => ctx
            .state
            .topics
            .get(name)
            .map(|topic| topic.config().describe(ctx.state.topics.defaults()))
            .ok_or_else(|| {
                (
                    ResponseError::UnknownTopicOrPartition,
                    format!("unknown topic {name}"),
                )
            }),
        // An empty name asks for the cluster-wide defaults.
        BROKER if name.is_empty() || name == ctx.state.config.node_id.to_string() => {
            Ok(broker_entries(&ctx.state.config))
        }
        BROKER => Err((
            ResponseError::InvalidRequest,
            format!("unknown broker {name}"),
        )),
        other => Err((
            ResponseError::InvalidRequest,
            format!("unsupported resource type {other}"),
        )),
    }
}

pub(super) fn describe(
    ctx: &Context<'_>,
    request: DescribeConfigsRequest,
) -> DescribeConfigsResponse {
    let results = request
        .resources
        .into_iter()
        .map(|resource| {
            let result = DescribeConfigsResult::default()
                .with_resource_type(resource.resource_type)
                .with_resource_name(resource.resource_name.clone());
            match entries(ctx, resource.resource_type, &resource.resource_name) {
                Ok(entries) => {
                    let configs = entries
                        .into_iter()
                        .filter(|e| {
                            resource
                                .configuration_keys
                                .as_ref()
                                .is_none_or(|keys| keys.iter().any(|k| k.as_str() == e.name))
                        })
                        .map(|e| {
                            let synonyms = if request.include_synonyms {
                                vec![DescribeConfigsSynonym::default()
                                    .with_name(str_bytes(e.name))
                                    .with_value(Some(str_bytes(e.value.clone())))
                                    .with_source(e.source as i8)]
                            } else {
                                Vec::new()
                            };
                            DescribeConfigsResourceResult::default()
                                .with_name(str_bytes(e.name))
                                .with_value(Some(str_bytes(e.value)))
                                // Every topic config can be altered (Kafka
                                // answers false for all); of a broker's, only
                                // the static ones cannot.
                                .with_read_only(
                                    resource.resource_type != TOPIC
                                        && e.source == ConfigSource::StaticBroker,
                                )
                                .with_config_source(e.source as i8)
                                .with_config_type(e.kind as i8)
                                .with_synonyms(synonyms)
                        })
                        .collect();
                    result.with_configs(configs)
                }
                Err((error, message)) => result
                    .with_error_code(error.code())
                    .with_error_message(Some(str_bytes(message))),
            }
        })
        .collect();
    DescribeConfigsResponse::default().with_results(results)
}

/// Applies one alteration to a topic config.
fn apply(
    config: &mut TopicConfig,
    change: &AlterableConfig,
    ctx: &Context<'_>,
) -> Result<(), ConfigError> {
    let name = change.name.as_str();
    let value = change.value.as_deref().unwrap_or("").to_owned();
    match change.config_operation {
        SET => config.set(name, value),
        DELETE => config.remove(name),
        APPEND | SUBTRACT if name == "cleanup.policy" => {
            let current = config.value(name, ctx.state.topics.defaults())?;
            let mut items: Vec<String> = current
                .split(',')
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect();
            for item in value.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                if change.config_operation == APPEND {
                    if !items.iter().any(|i| i == item) {
                        items.push(item.to_owned());
                    }
                } else {
                    items.retain(|i| i != item);
                }
            }
            config.set(name, items.join(","))
        }
        _ => Err(ConfigError::Invalid {
            name: name.to_owned(),
            value,
            reason: "operation not applicable to this config",
        }),
    }
}

/// The outcome of altering one resource.
type AlterOutcome = Result<(), (ResponseError, String)>;

/// Alters one resource's config with `change`; only topics are alterable.
fn alter_resource(
    ctx: &Context<'_>,
    resource_type: i8,
    name: &str,
    validate_only: bool,
    change: impl FnOnce(&mut TopicConfig) -> Result<(), ConfigError>,
) -> AlterOutcome {
    match resource_type {
        TOPIC => ctx
            .state
            .topics
            .alter_config(name, validate_only, change)
            .map_err(|e| (e.response_error(), e.to_string())),
        BROKER => Err((
            ResponseError::InvalidRequest,
            "broker configs are static".to_owned(),
        )),
        other => Err((
            ResponseError::InvalidRequest,
            format!("unsupported resource type {other}"),
        )),
    }
}

/// The error fields of a response, from an outcome.
fn error_fields(outcome: AlterOutcome) -> (i16, Option<kafka_protocol::protocol::StrBytes>) {
    match outcome {
        Ok(()) => (0, None),
        Err((error, message)) => (error.code(), Some(str_bytes(message))),
    }
}

/// AlterConfigs replaces every override of the resource with those given.
pub(super) fn alter_legacy(
    ctx: &Context<'_>,
    request: AlterConfigsRequest,
) -> AlterConfigsResponse {
    let responses = request
        .resources
        .into_iter()
        .map(|resource| {
            let overrides = resource
                .configs
                .iter()
                .filter_map(|c| Some((c.name.to_string(), c.value.as_ref()?.to_string())));
            let outcome = alter_resource(
                ctx,
                resource.resource_type,
                &resource.resource_name,
                request.validate_only,
                |config| {
                    *config = TopicConfig::from_overrides(overrides)?;
                    Ok(())
                },
            );
            let (code, message) = error_fields(outcome);
            alter_configs_response::AlterConfigsResourceResponse::default()
                .with_resource_type(resource.resource_type)
                .with_resource_name(resource.resource_name)
                .with_error_code(code)
                .with_error_message(message)
        })
        .collect();
    AlterConfigsResponse::default().with_responses(responses)
}

/// IncrementalAlterConfigs applies each change to the current overrides.
pub(super) fn alter(
    ctx: &Context<'_>,
    request: IncrementalAlterConfigsRequest,
) -> IncrementalAlterConfigsResponse {
    let responses = request
        .resources
        .into_iter()
        .map(|resource| {
            let outcome = alter_resource(
                ctx,
                resource.resource_type,
                &resource.resource_name,
                request.validate_only,
                |config| {
                    resource
                        .configs
                        .iter()
                        .try_for_each(|change| apply(config, change, ctx))
                },
            );
            let (code, message) = error_fields(outcome);
            AlterConfigsResourceResponse::default()
                .with_resource_type(resource.resource_type)
                .with_resource_name(resource.resource_name)
                .with_error_code(code)
                .with_error_message(message)
        })
        .collect();
    IncrementalAlterConfigsResponse::default().with_responses(responses)
}
