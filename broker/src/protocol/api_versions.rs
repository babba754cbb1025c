//! ApiVersions: the APIs and versions this broker serves.
//!
//! The table is the truth the dispatcher enforces: a version is listed only
//! if its handler fills in every field that version has. Upper bounds cover
//! what current librdkafka (2.12) and Java clients negotiate; lower bounds
//! are those of the kafka-protocol crate.

use kafka_protocol::error::ResponseError;
use kafka_protocol::messages::api_versions_response::ApiVersion;
use kafka_protocol::messages::{ApiKey, ApiVersionsRequest, ApiVersionsResponse};
use kafka_protocol::protocol::VersionRange;

use super::Context;

const SERVED: &[(ApiKey, i16)] = &[
    (ApiKey::Produce, 11),
    (ApiKey::Fetch, 16),
    (ApiKey::ListOffsets, 7),
    (ApiKey::DeleteRecords, 2),
    (ApiKey::Metadata, 12),
    (ApiKey::OffsetCommit, 9),
    (ApiKey::OffsetFetch, 9),
    (ApiKey::FindCoordinator, 4),
    (ApiKey::JoinGroup, 9),
    (ApiKey::Heartbeat, 4),
    (ApiKey::LeaveGroup, 5),
    (ApiKey::SyncGroup, 5),
    (ApiKey::DescribeGroups, 5),
    (ApiKey::ListGroups, 4),
    (ApiKey::ApiVersions, 4),
    (ApiKey::CreateTopics, 7),
    (ApiKey::DeleteTopics, 6),
    (ApiKey::DescribeConfigs, 4),
    (ApiKey::AlterConfigs, 2),
    (ApiKey::CreatePartitions, 3),
    (ApiKey::DeleteGroups, 2),
    (ApiKey::IncrementalAlterConfigs, 1),
    (ApiKey::DescribeCluster, 1),
    (ApiKey::InitProducerId, 5),
    // Versions 4 and up are the brokers' batched form.
    (ApiKey::AddPartitionsToTxn, 3),
    (ApiKey::AddOffsetsToTxn, 3),
    (ApiKey::EndTxn, 3),
    (ApiKey::TxnOffsetCommit, 3),
];

/// The versions of `api` this broker serves, if any.
pub(crate) fn supported_versions(api: ApiKey) -> Option<VersionRange> {
    let (_, max) = SERVED.iter().find(|(key, _)| *key == api)?;
    let crate_range = api.valid_versions();
    Some(VersionRange {
        min: crate_range.min,
        max: (*max).min(crate_range.max),
    })
}

fn api_keys() -> Vec<ApiVersion> {
    SERVED
        .iter()
        .filter_map(|&(api, _)| {
            let range = supported_versions(api)?;
            Some(
                ApiVersion::default()
                    .with_api_key(api as i16)
                    .with_min_version(range.min)
                    .with_max_version(range.max),
            )
        })
        .collect()
}

/// The response to a supported ApiVersions request. Feature fields stay at
/// their defaults so that they are not encoded at all: librdkafka 2.0
/// misreads them when present.
pub(super) fn handle(_ctx: &Context<'_>, _request: ApiVersionsRequest) -> ApiVersionsResponse {
    ApiVersionsResponse::default().with_api_keys(api_keys())
}

/// The response to an ApiVersions request of a version we do not serve.
pub(super) fn unsupported() -> ApiVersionsResponse {
    ApiVersionsResponse::default()
        .with_error_code(ResponseError::UnsupportedVersion.code())
        .with_api_keys(api_keys())
}
