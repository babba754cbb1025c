//! Kafka request dispatch: decode the header and body of a frame, hand the
//! request to the module of its API, and encode the response.

mod api_versions;
mod cluster;
mod configs;
mod fetch;
mod groups;
mod list_offsets;
mod metadata;
mod offsets;
mod produce;
mod topics;

use bytes::{BufMut, Bytes, BytesMut};
use kafka_protocol::messages::{ApiKey, RequestHeader, ResponseHeader};
use kafka_protocol::protocol::{Decodable, Encodable, HeaderVersion, StrBytes};
use tracing::trace;

use crate::broker::State;

pub(crate) use api_versions::supported_versions;

/// Why a request could not be served; the connection is closed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum RequestError {
    /// Reading the connection failed.
    #[error("read failed: {0}")]
    Io(#[from] std::io::Error),
    /// The size prefix is negative or above the configured maximum.
    #[error("request size {0} out of bounds")]
    FrameSize(i32),
    /// The frame is too short to hold a request header.
    #[error("truncated request header")]
    Truncated,
    /// An API key the broker does not serve.
    #[error("unsupported API key {0}")]
    UnsupportedApi(i16),
    /// A version of a supported API the broker does not serve.
    #[error("unsupported version {version} of {api:?}")]
    UnsupportedVersion { api: ApiKey, version: i16 },
    /// The header or body does not decode.
    #[error("cannot decode {api:?} v{version}: {reason}")]
    Decode {
        api: ApiKey,
        version: i16,
        reason: String,
    },
    /// The response does not encode (a bug: handlers fill only valid fields).
    #[error("cannot encode response to {api:?} v{version}: {reason}")]
    Encode {
        api: ApiKey,
        version: i16,
        reason: String,
    },
}

/// What a handler knows about the request beyond its body.
pub(crate) struct Context<'a> {
    pub(crate) state: &'a State,
    pub(crate) version: i16,
    pub(crate) client_id: &'a str,
    pub(crate) client_host: &'a str,
}

/// Turns a string into the crate's string type.
pub(crate) fn str_bytes(s: impl Into<String>) -> StrBytes {
    StrBytes::from_string(s.into())
}

/// Serves one request frame; `None` when the request wants no response
/// (a produce with acks=0).
pub(crate) async fn handle(
    state: &State,
    client_host: &str,
    mut frame: Bytes,
) -> Result<Option<BytesMut>, RequestError> {
    if frame.len() < 8 {
        return Err(RequestError::Truncated);
    }
    let raw_key = i16::from_be_bytes([frame[0], frame[1]]);
    let version = i16::from_be_bytes([frame[2], frame[3]]);
    let api = ApiKey::try_from(raw_key).map_err(|()| RequestError::UnsupportedApi(raw_key))?;
    let range = supported_versions(api).ok_or(RequestError::UnsupportedApi(raw_key))?;
    if version < range.min || version > range.max {
        if api == ApiKey::ApiVersions {
            // Clients probe with their newest ApiVersions; the answer tells
            // them ours, in the v0 format every client reads.
            let correlation_id = i32::from_be_bytes([frame[4], frame[5], frame[6], frame[7]]);
            return encode(api, 0, correlation_id, &api_versions::unsupported()).map(Some);
        }
        return Err(RequestError::UnsupportedVersion { api, version });
    }
    let decode_error = |reason: String| RequestError::Decode {
        api,
        version,
        reason,
    };
    let header = RequestHeader::decode(&mut frame, api.request_header_version(version))
        .map_err(|e| decode_error(e.to_string()))?;
    let client_id = header.client_id.as_deref().unwrap_or("");
    trace!(
        ?api,
        version,
        correlation_id = header.correlation_id,
        client_id,
        "request"
    );
    let ctx = Context {
        state,
        version,
        client_id,
        client_host,
    };
    let id = header.correlation_id;
    let body = &mut frame;
    macro_rules! body {
        () => {
            Decodable::decode(body, version).map_err(|e| decode_error(e.to_string()))?
        };
    }
    let response = match api {
        ApiKey::ApiVersions => encode(api, version, id, &api_versions::handle(&ctx, body!())),
        ApiKey::Metadata => encode(api, version, id, &metadata::handle(&ctx, body!())),
        ApiKey::Produce => match produce::handle(&ctx, body!()).await {
            Some(response) => encode(api, version, id, &response),
            None => return Ok(None),
        },
        ApiKey::Fetch => encode(api, version, id, &fetch::handle(&ctx, body!()).await),
        ApiKey::ListOffsets => encode(api, version, id, &list_offsets::handle(&ctx, body!())),
        ApiKey::CreateTopics => encode(api, version, id, &topics::create(&ctx, body!())),
        ApiKey::DeleteTopics => encode(api, version, id, &topics::delete(&ctx, body!())),
        ApiKey::CreatePartitions => {
            encode(api, version, id, &topics::create_partitions(&ctx, body!()))
        }
        ApiKey::DescribeConfigs => encode(api, version, id, &configs::describe(&ctx, body!())),
        ApiKey::AlterConfigs => encode(api, version, id, &configs::alter_legacy(&ctx, body!())),
        ApiKey::IncrementalAlterConfigs => encode(api, version, id, &configs::alter(&ctx, body!())),
        ApiKey::DescribeCluster => encode(api, version, id, &cluster::describe(&ctx, body!())),
        ApiKey::FindCoordinator => {
            encode(api, version, id, &groups::find_coordinator(&ctx, body!()))
        }
        ApiKey::JoinGroup => encode(api, version, id, &groups::join(&ctx, body!()).await),
        ApiKey::SyncGroup => encode(api, version, id, &groups::sync(&ctx, body!()).await),
        ApiKey::Heartbeat => encode(api, version, id, &groups::heartbeat(&ctx, body!())),
        ApiKey::LeaveGroup => encode(api, version, id, &groups::leave(&ctx, body!())),
        ApiKey::ListGroups => encode(api, version, id, &groups::list(&ctx, body!())),
        ApiKey::DescribeGroups => encode(api, version, id, &groups::describe(&ctx, body!())),
        ApiKey::DeleteGroups => encode(api, version, id, &groups::delete(&ctx, body!())),
        ApiKey::OffsetCommit => encode(api, version, id, &offsets::commit(&ctx, body!())),
        ApiKey::OffsetFetch => encode(api, version, id, &offsets::fetch(&ctx, body!())),
        _ => Err(RequestError::UnsupportedApi(raw_key)),
    };
    response.map(Some)
}

/// Frames a response: size, header (whose version depends on the API and
/// version), body.
fn encode<R: Encodable + HeaderVersion>(
    api: ApiKey,
    version: i16,
    correlation_id: i32,
    body: &R,
) -> Result<BytesMut, RequestError> {
    let encode_error = |e: &dyn std::fmt::Display| RequestError::Encode {
        api,
        version,
        reason: e.to_string(),
    };
    let mut header = ResponseHeader::default();
    header.correlation_id = correlation_id;
    let mut buf = BytesMut::with_capacity(256);
    buf.put_i32(0);
    header
        .encode(&mut buf, R::header_version(version))
        .map_err(|e| encode_error(&e))?;
    body.encode(&mut buf, version)
        .map_err(|e| encode_error(&e))?;
    let size = i32::try_from(buf.len() - 4).map_err(|e| encode_error(&e))?;
    buf[..4].copy_from_slice(&size.to_be_bytes());
    Ok(buf)
}
