//! Kafka request dispatch: decode the header and body of a frame, hand the
//! request to the module of its API, and encode the response.

mod api_versions;
mod bounded;
mod cluster;
mod configs;
mod delete_records;
mod fetch;
mod groups;
mod list_offsets;
mod metadata;
mod offsets;
mod produce;
mod produce_shape;
mod producers;
mod topics;
mod transactions;

use bytes::{BufMut, Bytes, BytesMut};
use kafka_protocol::messages::{ApiKey, RequestHeader, ResponseHeader};
use kafka_protocol::protocol::{Encodable, HeaderVersion, StrBytes};
use tracing::trace;

use crate::broker::State;

pub(crate) use api_versions::supported_versions;

/// The largest request other than Produce the broker decodes. Only Produce
/// carries record data; the others (metadata, offsets, groups, configs) stay
/// far below this even for thousands of topics. The cap also bounds what
/// decoding one may allocate: kafka-protocol sizes each array from its
/// length before reading it, and an element in memory is larger than its
/// bytes on the wire (see [`bounded`]).
pub(crate) const MAX_CONTROL_REQUEST_BYTES: usize = 8 * 1024 * 1024;

/// Kafka's `IsolationLevel.READ_COMMITTED` in Fetch and ListOffsets: the
/// client reads only what transactions committed.
const READ_COMMITTED: i8 = 1;

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
    /// A request that carries no record data is larger than any client
    /// sends.
    #[error("{api:?} request of {size} bytes exceeds {MAX_CONTROL_REQUEST_BYTES} bytes")]
    ControlRequestSize { api: ApiKey, size: usize },
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
    /// A produce with acks=0 failed for the partitions listed: with no
    /// response to carry the errors, closing the connection tells the
    /// producer (Kafka's `closeConnection` for acks=0).
    #[error("acks=0 produce failed for {0}")]
    UnacknowledgedProduce(String),
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
    if api != ApiKey::Produce && frame.len() > MAX_CONTROL_REQUEST_BYTES {
        return Err(RequestError::ControlRequestSize {
            api,
            size: frame.len(),
        });
    }
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
    let header = bounded::decode::<RequestHeader>(&mut frame, api.request_header_version(version))
        .map_err(decode_error)?;
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
            bounded::decode(body, version).map_err(decode_error)?
        };
    }
    let response = match api {
        ApiKey::ApiVersions => encode(api, version, id, &api_versions::handle(&ctx, body!())),
        ApiKey::Metadata => encode(api, version, id, &metadata::handle(&ctx, body!())),
        ApiKey::Produce => {
            produce_shape::check(body, version).map_err(decode_error)?;
            match produce::handle(&ctx, body!()).await? {
                Some(response) => encode(api, version, id, &response),
                None => return Ok(None),
            }
        }
        ApiKey::Fetch => encode(api, version, id, &fetch::handle(&ctx, body!()).await),
        ApiKey::ListOffsets => encode(api, version, id, &list_offsets::handle(&ctx, body!())),
        ApiKey::DeleteRecords => encode(api, version, id, &delete_records::handle(&ctx, body!())),
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
        ApiKey::InitProducerId => encode(api, version, id, &producers::init(&ctx, body!())),
        ApiKey::AddPartitionsToTxn => encode(
            api,
            version,
            id,
            &transactions::add_partitions(&ctx, body!()),
        ),
        ApiKey::AddOffsetsToTxn => {
            encode(api, version, id, &transactions::add_offsets(&ctx, body!()))
        }
        ApiKey::TxnOffsetCommit => encode(
            api,
            version,
            id,
            &transactions::commit_offsets(&ctx, body!()),
        ),
        ApiKey::EndTxn => encode(api, version, id, &transactions::end(&ctx, body!())),
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

#[cfg(test)]
mod tests {
    //! Request decoding is property-tested: random frames, valid requests
    //! cut short, and valid requests carrying huge array counts are answered
    //! or refused but never panic or abort.

    use std::net::SocketAddr;
    use std::sync::Arc;
    use std::time::Duration;

    use kafka_protocol::error::ResponseError;
    use kafka_protocol::messages::{
        InitProducerIdRequest, InitProducerIdResponse, ProduceResponse, TransactionalId,
    };
    use kafka_protocol::protocol::{Decodable, HeaderVersion};
    use kafka_protocol::records::Compression;

    use kafka_protocol::messages::{
        fetch_request, join_group_request, produce_request, FetchRequest, GroupId,
        JoinGroupRequest, MetadataRequest, OffsetCommitRequest, ProduceRequest, TopicName,
    };
    use proptest::collection::vec;
    use proptest::prelude::*;
    use proptest::test_runner::{Config, TestRunner};

    use super::*;
    use crate::BrokerConfig;

    fn fixture() -> (tempfile::TempDir, State, tokio::runtime::Runtime) {
        let dir = tempfile::tempdir().expect("tempdir");
        let state = State::open(
            BrokerConfig::new(dir.path()),
            SocketAddr::from(([127, 0, 0, 1], 9092)),
        )
        .expect("state");
        // Paused time: long polls and parked joins time out instantly.
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .expect("runtime");
        (dir, state, runtime)
    }

    fn serve(state: &State, runtime: &tokio::runtime::Runtime, frame: Vec<u8>) {
        let handled = runtime.block_on(async {
            tokio::time::timeout(
                Duration::from_secs(600),
                handle(state, "/test", Bytes::from(frame)),
            )
            .await
        });
        // Any outcome is fine; reaching this line means no panic.
        drop(handled);
    }

    fn request_frame<R: Encodable>(api: ApiKey, version: i16, body: &R) -> Vec<u8> {
        let mut header = RequestHeader::default();
        header.request_api_key = api as i16;
        header.request_api_version = version;
        header.correlation_id = 7;
        header.client_id = Some(str_bytes("proptest"));
        let mut buf = BytesMut::new();
        header
            .encode(&mut buf, api.request_header_version(version))
            .expect("header encodes");
        body.encode(&mut buf, version).expect("body encodes");
        buf.to_vec()
    }

    /// Serves `request` (of `api` at `version`) and decodes the answer.
    fn answer<Req: Encodable, Resp: Decodable + HeaderVersion>(
        state: &State,
        runtime: &tokio::runtime::Runtime,
        api: ApiKey,
        version: i16,
        request: &Req,
    ) -> Resp {
        let frame = request_frame(api, version, request);
        let mut response = runtime
            .block_on(handle(state, "/test", Bytes::from(frame)))
            .expect("served")
            .expect("answered");
        let mut body = response.split_off(4).freeze();
        ResponseHeader::decode(&mut body, Resp::header_version(version)).expect("header");
        Resp::decode(&mut body, version).expect("response")
    }

    /// A fixture's state with the one-partition topic `name`.
    fn create_topic(state: &State, name: &str) -> Arc<crate::topics::Topic> {
        state
            .topics
            .create(
                name,
                Some(1),
                1,
                crate::config::topic::TopicConfig::default(),
                false,
                0,
            )
            .expect("topic")
    }

    /// The records of partition 0 of `topic`, as a Produce request carries
    /// them.
    fn topic_data(topic: &str, records: Vec<u8>) -> produce_request::TopicProduceData {
        produce_request::TopicProduceData::default()
            .with_name(TopicName(str_bytes(topic)))
            .with_partition_data(vec![produce_request::PartitionProduceData::default()
                .with_records(Some(Bytes::from(records)))])
    }

    /// A Produce request with `acks` of `records` to partition 0 of `topic`.
    fn produce_to(topic: &str, records: Vec<u8>, acks: i16) -> ProduceRequest {
        ProduceRequest::default()
            .with_acks(acks)
            .with_topic_data(vec![topic_data(topic, records)])
    }

    /// Valid requests of several APIs, at their newest served version.
    fn valid_requests() -> Vec<Vec<u8>> {
        let topic = TopicName(str_bytes("t"));
        let records = crate::log::batch::tests::encode_batch(
            3,
            0,
            kafka_protocol::records::Compression::None,
        );
        let max = |api| supported_versions(api).map_or(0, |r| r.max);
        let produce = produce_to("t", records, 1);
        let fetch = FetchRequest::default()
            .with_max_wait_ms(100)
            .with_topics(vec![fetch_request::FetchTopic::default()
                .with_topic(topic.clone())
                .with_partitions(vec![
                    fetch_request::FetchPartition::default().with_partition_max_bytes(1 << 20)
                ])]);
        let delete_records = kafka_protocol::messages::DeleteRecordsRequest::default()
            .with_timeout_ms(1000)
            .with_topics(vec![
                kafka_protocol::messages::delete_records_request::DeleteRecordsTopic::default()
                    .with_name(topic.clone())
                    .with_partitions(vec![
                        kafka_protocol::messages::delete_records_request::DeleteRecordsPartition::default()
                            .with_offset(-1),
                    ]),
            ]);
        let join = JoinGroupRequest::default()
            .with_group_id(GroupId(str_bytes("g")))
            .with_session_timeout_ms(10_000)
            .with_protocol_type(str_bytes("consumer"))
            .with_protocols(vec![join_group_request::JoinGroupRequestProtocol::default(
            )
            .with_name(str_bytes("range"))]);
        vec![
            request_frame(
                ApiKey::Metadata,
                max(ApiKey::Metadata),
                &MetadataRequest::default(),
            ),
            request_frame(ApiKey::Produce, max(ApiKey::Produce), &produce),
            request_frame(ApiKey::Produce, 3, &produce),
            request_frame(ApiKey::Fetch, 11, &fetch),
            request_frame(ApiKey::JoinGroup, max(ApiKey::JoinGroup), &join),
            request_frame(ApiKey::DeleteRecords, 0, &delete_records),
            request_frame(
                ApiKey::DeleteRecords,
                max(ApiKey::DeleteRecords),
                &delete_records,
            ),
            request_frame(
                ApiKey::OffsetCommit,
                max(ApiKey::OffsetCommit),
                &OffsetCommitRequest::default(),
            ),
        ]
    }

    #[test]
    fn valid_requests_are_served() {
        let (_dir, state, runtime) = fixture();
        for frame in valid_requests() {
            let served = runtime.block_on(handle(&state, "/test", Bytes::from(frame)));
            assert!(matches!(served, Ok(Some(_))), "{served:?}");
        }
    }

    /// An acks=0 produce is not answered when it succeeds; when it fails
    /// for any partition, the failure closes the connection (the error
    /// names the partition), and the partitions that succeeded keep their
    /// records.
    #[test]
    fn an_unacknowledged_produce_that_fails_closes_the_connection() {
        let (_dir, state, runtime) = fixture();
        let topic = |name: &str| {
            let records = crate::log::batch::tests::encode_batch(
                2,
                0,
                kafka_protocol::records::Compression::None,
            );
            topic_data(name, records)
        };
        let produce = |topics: Vec<produce_request::TopicProduceData>| {
            let request = ProduceRequest::default()
                .with_acks(0)
                .with_topic_data(topics);
            let frame = request_frame(ApiKey::Produce, 9, &request);
            runtime.block_on(handle(&state, "/test", Bytes::from(frame)))
        };
        create_topic(&state, "known");
        let end = || {
            let topic = state.topics.get("known").expect("topic");
            let partition = topic.partition(0).expect("partition");
            let end = partition.log().log_end_offset();
            end
        };

        assert!(matches!(produce(vec![topic("known")]), Ok(None)));
        assert_eq!(end(), 2);

        let served = produce(vec![topic("known"), topic("missing")]);
        match served {
            Err(RequestError::UnacknowledgedProduce(failed)) => {
                assert_eq!(failed, "missing-0: UnknownTopicOrPartition");
            }
            other => panic!("expected the connection closed, got {other:?}"),
        }
        assert_eq!(end(), 4, "the partition that succeeded kept its records");
    }

    /// A new producer id, or the error, from InitProducerId.
    fn init_producer(
        state: &State,
        runtime: &tokio::runtime::Runtime,
        transactional_id: Option<&str>,
    ) -> InitProducerIdResponse {
        let request = InitProducerIdRequest::default()
            .with_transactional_id(transactional_id.map(|id| TransactionalId(str_bytes(id))))
            .with_transaction_timeout_ms(60_000);
        answer(state, runtime, ApiKey::InitProducerId, 4, &request)
    }

    /// A batch of `count` records from idempotent producer `producer`.
    fn producer_batch(
        producer: i64,
        epoch: i16,
        sequence: i32,
        count: usize,
        transactional: bool,
    ) -> Vec<u8> {
        crate::log::batch::tests::encode_batch_with(count, 0, Compression::None, |record| {
            record.producer_id = producer;
            record.producer_epoch = epoch;
            record.sequence = sequence + record.offset as i32;
            record.transactional = transactional;
        })
    }

    /// The error code and base offset of producing `records` to partition
    /// 0 of `topic` with acks=all.
    fn produced(
        state: &State,
        runtime: &tokio::runtime::Runtime,
        topic: &str,
        records: Vec<u8>,
    ) -> (i16, i64) {
        let response: ProduceResponse = answer(
            state,
            runtime,
            ApiKey::Produce,
            9,
            &produce_to(topic, records, -1),
        );
        let partition = &response.responses[0].partition_responses[0];
        (partition.error_code, partition.base_offset)
    }

    /// An idempotent producer's resent batch is answered with the offset it
    /// got the first time, not appended again; a gap in its sequence, an
    /// older epoch and a transactional batch outside a transaction are
    /// refused with Kafka's codes. InitProducerId hands out a new id on
    /// every call, and refuses an empty transactional id.
    #[test]
    fn idempotent_producers_are_deduplicated_and_kept_in_sequence() {
        let (_dir, state, runtime) = fixture();
        create_topic(&state, "idem");
        let first = init_producer(&state, &runtime, None);
        let second = init_producer(&state, &runtime, None);
        assert_eq!((first.error_code, first.producer_epoch), (0, 0));
        assert_eq!(second.error_code, 0);
        assert_ne!(first.producer_id, second.producer_id);
        assert_eq!(
            init_producer(&state, &runtime, Some("")).error_code,
            ResponseError::InvalidRequest.code()
        );
        // A producer id without an epoch (or the reverse) is refused.
        let half: InitProducerIdResponse = answer(
            &state,
            &runtime,
            ApiKey::InitProducerId,
            4,
            &InitProducerIdRequest::default()
                .with_transaction_timeout_ms(60_000)
                .with_producer_id(first.producer_id)
                .with_producer_epoch(-1),
        );
        assert_eq!(half.error_code, ResponseError::InvalidRequest.code());

        let id = first.producer_id.0;
        let produce = |records| produced(&state, &runtime, "idem", records);
        assert_eq!(produce(producer_batch(id, 0, 0, 3, false)), (0, 0));
        assert_eq!(produce(producer_batch(id, 0, 3, 2, false)), (0, 3));
        assert_eq!(
            produce(producer_batch(id, 0, 0, 3, false)),
            (0, 0),
            "a resend"
        );
        assert_eq!(
            produce(producer_batch(id, 0, 6, 1, false)),
            (ResponseError::OutOfOrderSequenceNumber.code(), -1)
        );
        assert_eq!(
            produce(producer_batch(id, 0, 5, 1, true)),
            (ResponseError::InvalidTxnState.code(), -1)
        );
        assert_eq!(produce(producer_batch(id, 1, 0, 1, false)), (0, 5));
        assert_eq!(
            produce(producer_batch(id, 0, 5, 1, false)),
            (ResponseError::InvalidProducerEpoch.code(), -1)
        );
        // Another producer has its own sequence.
        assert_eq!(
            produce(producer_batch(second.producer_id.0, 0, 0, 1, false)),
            (0, 6)
        );
        let topic = state.topics.get("idem").expect("topic");
        assert_eq!(
            topic
                .partition(0)
                .expect("partition")
                .log()
                .log_end_offset(),
            7
        );
    }

    /// A transaction through the wire protocol: read-committed ListOffsets
    /// stop at the last stable offset (also for lookups by time), a
    /// stable OffsetFetch waits (UNSTABLE_OFFSET_COMMIT) while the
    /// transaction holds offsets, and PRODUCER_FENCED is INVALID_PRODUCER_EPOCH
    /// for versions older than it.
    #[test]
    fn a_transaction_holds_back_stable_reads_until_it_commits() {
        use kafka_protocol::messages::{
            add_offsets_to_txn_request::AddOffsetsToTxnRequest as AddOffsets,
            add_partitions_to_txn_request::AddPartitionsToTxnTopic, list_offsets_request,
            offset_fetch_request, txn_offset_commit_request, AddOffsetsToTxnResponse,
            AddPartitionsToTxnRequest, AddPartitionsToTxnResponse, EndTxnRequest, EndTxnResponse,
            ListOffsetsRequest, ListOffsetsResponse, OffsetFetchRequest, OffsetFetchResponse,
            ProducerId, TxnOffsetCommitRequest, TxnOffsetCommitResponse,
        };

        let (_dir, state, runtime) = fixture();
        create_topic(&state, "t");
        let init = init_producer(&state, &runtime, Some("tx"));
        assert_eq!(init.error_code, 0);
        let (pid, epoch) = (init.producer_id, init.producer_epoch);
        let tx = || TransactionalId(str_bytes("tx"));
        let added: AddPartitionsToTxnResponse = answer(
            &state,
            &runtime,
            ApiKey::AddPartitionsToTxn,
            3,
            &AddPartitionsToTxnRequest::default()
                .with_v3_and_below_transactional_id(tx())
                .with_v3_and_below_producer_id(pid)
                .with_v3_and_below_producer_epoch(epoch)
                .with_v3_and_below_topics(vec![AddPartitionsToTxnTopic::default()
                    .with_name(TopicName(str_bytes("t")))
                    .with_partitions(vec![0])]),
        );
        assert_eq!(
            added.results_by_topic_v3_and_below[0].results_by_partition[0].partition_error_code,
            0
        );
        assert_eq!(
            produced(
                &state,
                &runtime,
                "t",
                producer_batch(pid.0, epoch, 0, 2, true)
            ),
            (0, 0)
        );
        let latest = |isolation: i8, timestamp: i64| -> i64 {
            let request = ListOffsetsRequest::default()
                .with_isolation_level(isolation)
                .with_topics(vec![list_offsets_request::ListOffsetsTopic::default()
                    .with_name(TopicName(str_bytes("t")))
                    .with_partitions(vec![
                        list_offsets_request::ListOffsetsPartition::default()
                            .with_timestamp(timestamp),
                    ])]);
            let response: ListOffsetsResponse =
                answer(&state, &runtime, ApiKey::ListOffsets, 4, &request);
            response.topics[0].partitions[0].offset
        };
        assert_eq!((latest(1, -1), latest(0, -1)), (0, 2));
        assert_eq!((latest(1, 0), latest(0, 0)), (-1, 0), "by time");

        let add_offsets = |group: String| -> i16 {
            let request = AddOffsets::default()
                .with_transactional_id(tx())
                .with_producer_id(pid)
                .with_producer_epoch(epoch)
                .with_group_id(GroupId(str_bytes(group)));
            let response: AddOffsetsToTxnResponse =
                answer(&state, &runtime, ApiKey::AddOffsetsToTxn, 3, &request);
            response.error_code
        };
        assert_eq!(add_offsets("g".to_owned()), 0);
        // A group the offset store could not hold would leave the
        // transaction unable to commit.
        assert_eq!(
            add_offsets("g".repeat(40_000)),
            ResponseError::InvalidGroupId.code()
        );
        let committed: TxnOffsetCommitResponse = answer(
            &state,
            &runtime,
            ApiKey::TxnOffsetCommit,
            3,
            &TxnOffsetCommitRequest::default()
                .with_transactional_id(tx())
                .with_group_id(GroupId(str_bytes("g")))
                .with_producer_id(pid)
                .with_producer_epoch(epoch)
                .with_generation_id(-1)
                .with_topics(vec![
                    txn_offset_commit_request::TxnOffsetCommitRequestTopic::default()
                        .with_name(TopicName(str_bytes("in")))
                        .with_partitions(vec![
                            txn_offset_commit_request::TxnOffsetCommitRequestPartition::default()
                                .with_committed_offset(5),
                        ]),
                ]),
        );
        assert_eq!(committed.topics[0].partitions[0].error_code, 0);
        let fetched = |require_stable: bool| -> (i16, i64) {
            let request = OffsetFetchRequest::default()
                .with_group_id(GroupId(str_bytes("g")))
                .with_require_stable(require_stable)
                .with_topics(Some(vec![
                    offset_fetch_request::OffsetFetchRequestTopic::default()
                        .with_name(TopicName(str_bytes("in")))
                        .with_partition_indexes(vec![0]),
                ]));
            let response: OffsetFetchResponse =
                answer(&state, &runtime, ApiKey::OffsetFetch, 7, &request);
            let partition = &response.topics[0].partitions[0];
            (partition.error_code, partition.committed_offset)
        };
        assert_eq!(
            fetched(true),
            (ResponseError::UnstableOffsetCommit.code(), -1)
        );
        assert_eq!(fetched(false), (0, -1));

        let end = |version: i16, epoch: i16| -> i16 {
            let request = EndTxnRequest::default()
                .with_transactional_id(tx())
                .with_producer_id(ProducerId(pid.0))
                .with_producer_epoch(epoch)
                .with_committed(true);
            let response: EndTxnResponse =
                answer(&state, &runtime, ApiKey::EndTxn, version, &request);
            response.error_code
        };
        assert_eq!(
            end(1, epoch + 1),
            ResponseError::InvalidProducerEpoch.code()
        );
        assert_eq!(end(2, epoch + 1), ResponseError::ProducerFenced.code());
        assert_eq!(end(3, epoch), 0);
        assert_eq!(fetched(true), (0, 5));
        // Two records and the commit marker.
        assert_eq!((latest(1, -1), latest(1, 0)), (3, 0));
    }

    /// A transaction left open in a partition that the coordinator does
    /// not hold open (its state was lost here) is aborted when the broker
    /// starts, instead of holding back the last stable offset for ever.
    #[test]
    fn a_transaction_the_coordinator_forgot_is_aborted_at_startup() {
        use kafka_protocol::messages::{
            add_partitions_to_txn_request::AddPartitionsToTxnTopic, AddPartitionsToTxnRequest,
            AddPartitionsToTxnResponse,
        };

        let (dir, state, runtime) = fixture();
        create_topic(&state, "t");
        let init = init_producer(&state, &runtime, Some("tx"));
        let _: AddPartitionsToTxnResponse = answer(
            &state,
            &runtime,
            ApiKey::AddPartitionsToTxn,
            3,
            &AddPartitionsToTxnRequest::default()
                .with_v3_and_below_transactional_id(TransactionalId(str_bytes("tx")))
                .with_v3_and_below_producer_id(init.producer_id)
                .with_v3_and_below_producer_epoch(init.producer_epoch)
                .with_v3_and_below_topics(vec![AddPartitionsToTxnTopic::default()
                    .with_name(TopicName(str_bytes("t")))
                    .with_partitions(vec![0])]),
        );
        let batch = producer_batch(init.producer_id.0, init.producer_epoch, 0, 2, true);
        assert_eq!(produced(&state, &runtime, "t", batch), (0, 0));
        drop(state);
        std::fs::remove_file(dir.path().join("transactions")).expect("forget");

        let state = State::open(
            BrokerConfig::new(dir.path()),
            SocketAddr::from(([127, 0, 0, 1], 9092)),
        )
        .expect("reopen");
        let topic = state.topics.get("t").expect("topic");
        let partition = topic.partition(0).expect("partition");
        let log = partition.log();
        assert_eq!((log.last_stable_offset(), log.log_end_offset()), (3, 3));
        assert_eq!(log.aborted_transactions(0, 3).len(), 1);
    }

    /// A topic with its own `compression.type` stores what producers send
    /// compressed with it, keeping the producer's fields; a batch already
    /// in that codec is stored as sent.
    #[test]
    fn a_topics_compression_type_recompresses_produced_batches() {
        use crate::config::topic::TopicConfig;
        use crate::log::batch::BatchHeader;

        let (_dir, state, runtime) = fixture();
        let mut config = TopicConfig::default();
        config
            .set("compression.type", "gzip".to_owned())
            .expect("valid config");
        let topic = state
            .topics
            .create("zipped", Some(1), 1, config, false, 0)
            .expect("topic");
        let lz4 = crate::log::batch::tests::encode_batch(3, 0, Compression::Lz4);
        assert_eq!(produced(&state, &runtime, "zipped", lz4), (0, 0));
        let idempotent = producer_batch(4, 0, 0, 2, false);
        assert_eq!(produced(&state, &runtime, "zipped", idempotent), (0, 3));
        let gzip = crate::log::batch::tests::encode_batch(1, 0, Compression::Gzip);
        assert_eq!(produced(&state, &runtime, "zipped", gzip.clone()), (0, 5));
        // Created at time 0, the topic rolls a segment at each append: each
        // batch is read on its own.
        let partition = topic.partition(0).expect("partition");
        let log = partition.log();
        let headers: Vec<BatchHeader> = [0, 3, 5]
            .into_iter()
            .map(|offset| {
                let stored = log.read(offset, 1 << 20).expect("read");
                BatchHeader::parse(&stored).expect("header")
            })
            .collect();
        let codecs: Vec<i16> = headers.iter().map(BatchHeader::codec).collect();
        assert_eq!(codecs, [1, 1, 1]);
        assert_eq!((headers[1].producer_id, headers[1].base_sequence), (4, 0));
        assert_eq!(headers[2].size, gzip.len(), "stored as sent");
    }

    /// A Fetch older than v10 is refused zstd batches
    /// (UNSUPPORTED_COMPRESSION_TYPE) as Kafka refuses them: such a client
    /// could not read them.
    #[test]
    fn zstd_batches_are_refused_to_fetches_before_v10() {
        use kafka_protocol::messages::FetchResponse;

        let (_dir, state, runtime) = fixture();
        create_topic(&state, "z");
        let zstd = crate::log::batch::tests::encode_batch(2, 0, Compression::Zstd);
        assert_eq!(produced(&state, &runtime, "z", zstd), (0, 0));
        let fetch = |version: i16| -> (i16, usize) {
            let request = FetchRequest::default()
                .with_max_wait_ms(0)
                .with_max_bytes(1 << 20)
                .with_topics(vec![fetch_request::FetchTopic::default()
                    .with_topic(TopicName(str_bytes("z")))
                    .with_partitions(vec![
                        fetch_request::FetchPartition::default().with_partition_max_bytes(1 << 20)
                    ])]);
            let response: FetchResponse =
                answer(&state, &runtime, ApiKey::Fetch, version, &request);
            let partition = &response.responses[0].partitions[0];
            let bytes = partition
                .records
                .as_ref()
                .map_or(0, |records| records.len());
            (partition.error_code, bytes)
        };
        assert_eq!(
            fetch(9),
            (ResponseError::UnsupportedCompressionType.code(), 0)
        );
        let (error, bytes) = fetch(10);
        assert_eq!(error, 0);
        assert!(bytes > 0);
    }

    /// After a restart a resend is still recognised (the state is rebuilt
    /// from the log), and new producer ids follow every id handed out
    /// before.
    #[test]
    fn producer_state_and_ids_survive_a_restart() {
        let (dir, state, runtime) = fixture();
        create_topic(&state, "idem");
        let id = init_producer(&state, &runtime, None).producer_id.0;
        assert_eq!(
            produced(&state, &runtime, "idem", producer_batch(id, 0, 0, 2, false)),
            (0, 0)
        );
        drop(state);

        let state = State::open(
            BrokerConfig::new(dir.path()),
            SocketAddr::from(([127, 0, 0, 1], 9092)),
        )
        .expect("reopen");
        assert_eq!(
            produced(&state, &runtime, "idem", producer_batch(id, 0, 0, 2, false)),
            (0, 0)
        );
        assert_eq!(
            produced(&state, &runtime, "idem", producer_batch(id, 0, 2, 1, false)),
            (0, 2)
        );
        // After the whole block reserved before the restart.
        let after = init_producer(&state, &runtime, None).producer_id.0;
        assert_eq!((id, after), (0, 1000));
    }

    /// A batch that breaks a rule gets Kafka's INVALID_RECORD, which
    /// producers do not retry; one whose bytes are damaged gets
    /// CORRUPT_MESSAGE, which they do; zstd before Produce v7 gets
    /// UNSUPPORTED_COMPRESSION_TYPE.
    #[test]
    fn refused_batches_get_kafkas_error_codes() {
        use crate::log::batch::tests::{encode_batch, encode_batch_with};
        use kafka_protocol::records::Compression;
        let (_dir, state, runtime) = fixture();
        create_topic(&state, "t");
        let produce = |version: i16, records: Vec<u8>| {
            let request = produce_to("t", records, 1);
            let response: ProduceResponse =
                answer(&state, &runtime, ApiKey::Produce, version, &request);
            response.responses[0].partition_responses[0].error_code
        };
        let control = encode_batch_with(1, 0, Compression::None, |record| record.control = true);
        let mut damaged = encode_batch(1, 0, Compression::None);
        let last = damaged.len() - 1;
        damaged[last] ^= 0xff;
        let mut old_magic = encode_batch(1, 0, Compression::None);
        old_magic[16] = 1;
        assert_eq!(produce(9, control), ResponseError::InvalidRecord.code());
        assert_eq!(produce(9, old_magic), ResponseError::InvalidRecord.code());
        // A small v1 message set: offset, size, CRC, magic 1, attributes,
        // timestamp, null key, one-byte value; shorter than a v2 header.
        let mut v1 = vec![0; 8];
        v1.extend_from_slice(&23_i32.to_be_bytes());
        v1.extend_from_slice(&[0, 0, 0, 0, 1, 0]);
        v1.extend_from_slice(&0_i64.to_be_bytes());
        v1.extend_from_slice(&(-1_i32).to_be_bytes());
        v1.extend_from_slice(&1_i32.to_be_bytes());
        v1.push(b'x');
        assert_eq!(produce(9, v1), ResponseError::InvalidRecord.code());
        assert_eq!(produce(9, Vec::new()), ResponseError::InvalidRecord.code());
        assert_eq!(produce(9, damaged), ResponseError::CorruptMessage.code());
        let zstd = || encode_batch(1, 0, Compression::Zstd);
        assert_eq!(
            produce(6, zstd()),
            ResponseError::UnsupportedCompressionType.code()
        );
        assert_eq!(produce(7, zstd()), 0);
    }

    /// Topics asked for by an id nobody knows get UNKNOWN_TOPIC_ID from
    /// Metadata and Fetch; a known topic's missing partition gets
    /// UNKNOWN_TOPIC_OR_PARTITION; no topic config is read-only (all can be
    /// altered), as Kafka answers.
    #[test]
    fn topic_ids_and_configs_are_answered_as_kafka_answers() {
        use kafka_protocol::messages::describe_configs_request::DescribeConfigsResource;
        use kafka_protocol::messages::metadata_request::MetadataRequestTopic;
        use kafka_protocol::messages::{
            DescribeConfigsRequest, DescribeConfigsResponse, FetchResponse, MetadataResponse,
        };
        let (_dir, state, runtime) = fixture();
        let topic = create_topic(&state, "t");
        let nobody = uuid::Uuid::from_u128(42);

        let metadata =
            MetadataRequest::default().with_topics(Some(vec![MetadataRequestTopic::default()
                .with_name(None)
                .with_topic_id(nobody)]));
        let response: MetadataResponse = answer(&state, &runtime, ApiKey::Metadata, 12, &metadata);
        assert_eq!(
            response.topics[0].error_code,
            ResponseError::UnknownTopicId.code()
        );

        let fetch = |id: uuid::Uuid, partition: i32| {
            let request =
                FetchRequest::default().with_topics(vec![fetch_request::FetchTopic::default()
                    .with_topic_id(id)
                    .with_partitions(vec![fetch_request::FetchPartition::default()
                        .with_partition(partition)
                        .with_partition_max_bytes(1 << 20)])]);
            let response: FetchResponse = answer(&state, &runtime, ApiKey::Fetch, 13, &request);
            response.responses[0].partitions[0].error_code
        };
        assert_eq!(fetch(nobody, 0), ResponseError::UnknownTopicId.code());
        assert_eq!(
            fetch(topic.id(), 5),
            ResponseError::UnknownTopicOrPartition.code()
        );
        assert_eq!(fetch(topic.id(), 0), 0);

        let describe = DescribeConfigsRequest::default().with_resources(vec![
            DescribeConfigsResource::default()
                .with_resource_type(2)
                .with_resource_name(str_bytes("t"))
                .with_configuration_keys(None),
        ]);
        let response: DescribeConfigsResponse =
            answer(&state, &runtime, ApiKey::DescribeConfigs, 4, &describe);
        let configs = &response.results[0].configs;
        assert!(configs.iter().any(|c| c.name.as_str() == "retention.ms"));
        assert!(configs.iter().all(|c| !c.read_only));
    }

    /// DeleteRecords through the wire, in its first and its flexible
    /// version: the answer carries the new low watermark, and then Fetch
    /// below it is OFFSET_OUT_OF_RANGE and reports it as the log start,
    /// ListOffsets earliest answers it, and Produce reports it too.
    #[test]
    fn deleted_records_are_gone_for_every_reader() {
        use kafka_protocol::messages::delete_records_request::{
            DeleteRecordsPartition, DeleteRecordsTopic,
        };
        use kafka_protocol::messages::list_offsets_request::{
            ListOffsetsPartition, ListOffsetsTopic,
        };
        use kafka_protocol::messages::{
            DeleteRecordsRequest, DeleteRecordsResponse, FetchResponse, ListOffsetsRequest,
            ListOffsetsResponse,
        };
        let (_dir, state, runtime) = fixture();
        create_topic(&state, "t");
        let records = crate::log::batch::tests::encode_batch(10, 0, Compression::None);
        assert_eq!(produced(&state, &runtime, "t", records), (0, 0));
        let delete = |version: i16, offset: i64| -> (i16, i64) {
            let request = DeleteRecordsRequest::default()
                .with_timeout_ms(1000)
                .with_topics(vec![DeleteRecordsTopic::default()
                    .with_name(TopicName(str_bytes("t")))
                    .with_partitions(vec![
                        DeleteRecordsPartition::default().with_offset(offset)
                    ])]);
            let response: DeleteRecordsResponse =
                answer(&state, &runtime, ApiKey::DeleteRecords, version, &request);
            assert_eq!(response.topics[0].name.as_str(), "t");
            let partition = &response.topics[0].partitions[0];
            (partition.error_code, partition.low_watermark)
        };
        assert_eq!(delete(0, 4), (0, 4));
        assert_eq!(delete(2, 11), (ResponseError::OffsetOutOfRange.code(), -1));
        assert_eq!(delete(2, 6), (0, 6));

        let fetch = |offset: i64| -> (i16, i64) {
            let request = FetchRequest::default()
                .with_max_bytes(1 << 20)
                .with_topics(vec![fetch_request::FetchTopic::default()
                    .with_topic(TopicName(str_bytes("t")))
                    .with_partitions(vec![fetch_request::FetchPartition::default()
                        .with_fetch_offset(offset)
                        .with_partition_max_bytes(1 << 20)])]);
            let response: FetchResponse = answer(&state, &runtime, ApiKey::Fetch, 11, &request);
            let partition = &response.responses[0].partitions[0];
            (partition.error_code, partition.log_start_offset)
        };
        assert_eq!(fetch(5), (ResponseError::OffsetOutOfRange.code(), 6));
        assert_eq!(fetch(6), (0, 6));

        let earliest = ListOffsetsRequest::default().with_topics(vec![ListOffsetsTopic::default()
            .with_name(TopicName(str_bytes("t")))
            .with_partitions(vec![ListOffsetsPartition::default().with_timestamp(-2)])]);
        let found: ListOffsetsResponse =
            answer(&state, &runtime, ApiKey::ListOffsets, 7, &earliest);
        assert_eq!(found.topics[0].partitions[0].offset, 6);

        let response: ProduceResponse = answer(
            &state,
            &runtime,
            ApiKey::Produce,
            9,
            &produce_to(
                "t",
                crate::log::batch::tests::encode_batch(1, 0, Compression::None),
                -1,
            ),
        );
        let partition = &response.responses[0].partition_responses[0];
        assert_eq!((partition.base_offset, partition.log_start_offset), (10, 6));
    }

    /// A batch whose header declares 2^31 - 1 records over none is
    /// refused when its records are not compressed (they are read at
    /// produce); compressed, it is stored unread, and a timestamp lookup
    /// that lands on it answers with its start: the records are read
    /// within a budget, never allocated for from the declared count (which
    /// used to abort the broker).
    #[test]
    fn a_timestamp_lookup_survives_a_hollow_batch() {
        use kafka_protocol::messages::list_offsets_request::{
            ListOffsetsPartition, ListOffsetsTopic,
        };
        use kafka_protocol::messages::{ListOffsetsRequest, ListOffsetsResponse};
        let (_dir, state, runtime) = fixture();
        create_topic(&state, "t");
        let produce = |batch: Vec<u8>| {
            let request = produce_to("t", batch, 1);
            let produced: ProduceResponse = answer(&state, &runtime, ApiKey::Produce, 9, &request);
            produced.responses[0].partition_responses[0].error_code
        };
        let hollow = crate::log::records::tests::hollow_batch();
        assert_eq!(produce(hollow.clone()), ResponseError::InvalidRecord.code());
        // The same, marked gzip-compressed (attributes' low byte), CRC redone.
        let mut compressed = hollow;
        compressed[22] |= 1;
        let crc = crc32c::crc32c(&compressed[21..]);
        compressed[17..21].copy_from_slice(&crc.to_be_bytes());
        assert_eq!(produce(compressed), 0);

        let lookup = ListOffsetsRequest::default().with_topics(vec![ListOffsetsTopic::default()
            .with_name(TopicName(str_bytes("t")))
            .with_partitions(vec![ListOffsetsPartition::default().with_timestamp(0)])]);
        let found: ListOffsetsResponse = answer(&state, &runtime, ApiKey::ListOffsets, 7, &lookup);
        let partition = &found.topics[0].partitions[0];
        assert_eq!((partition.error_code, partition.offset), (0, 0));
    }

    /// A batch with keyless records for a compacted topic is refused with
    /// INVALID_RECORD, each keyless record named by its index (Produce v8+
    /// carries them; older versions get the code alone).
    #[test]
    fn a_compacted_topic_names_the_records_without_keys() {
        use crate::config::topic::TopicConfig;
        use crate::log::batch::tests::encode_batch_with;
        use kafka_protocol::records::Compression;
        let (_dir, state, runtime) = fixture();
        let config =
            TopicConfig::from_overrides([("cleanup.policy".to_owned(), "compact".to_owned())])
                .expect("valid config");
        state
            .topics
            .create("c", Some(1), 1, config, false, 0)
            .expect("topic");
        let batch = encode_batch_with(4, 0, Compression::Gzip, |record| {
            if record.offset % 2 == 1 {
                record.key = None;
            }
        });
        let produce = |version: i16| {
            let request = produce_to("c", batch.clone(), 1);
            let response: ProduceResponse =
                answer(&state, &runtime, ApiKey::Produce, version, &request);
            response.responses[0].partition_responses[0].clone()
        };
        let refused = produce(9);
        assert_eq!(refused.error_code, ResponseError::InvalidRecord.code());
        let indexes: Vec<i32> = refused
            .record_errors
            .iter()
            .map(|e| e.batch_index)
            .collect();
        assert_eq!(indexes, [1, 3]);
        let message = refused.error_message.expect("a summary");
        assert!(message.contains("2 record errors"), "{message}");
        let old = produce(7);
        assert_eq!(old.error_code, ResponseError::InvalidRecord.code());
        assert!(old.record_errors.is_empty());
    }

    /// A request other than Produce beyond the control-request cap is
    /// refused before it is decoded; a Produce request of that size is not.
    #[test]
    fn oversized_control_requests_are_refused_before_decoding() {
        let (_dir, state, runtime) = fixture();
        let padded = |frame: Vec<u8>| {
            let mut frame = frame;
            frame.resize(MAX_CONTROL_REQUEST_BYTES + 1, 0);
            Bytes::from(frame)
        };
        for frame in valid_requests() {
            let api = ApiKey::try_from(i16::from_be_bytes([frame[0], frame[1]])).expect("api key");
            let served = runtime.block_on(handle(&state, "/test", padded(frame)));
            if api == ApiKey::Produce {
                assert!(
                    !matches!(served, Err(RequestError::ControlRequestSize { .. })),
                    "{served:?}"
                );
            } else {
                assert!(
                    matches!(served, Err(RequestError::ControlRequestSize { api: refused, .. }) if refused == api),
                    "{served:?}"
                );
            }
        }
    }

    #[test]
    fn truncated_requests_never_panic() {
        let (_dir, state, runtime) = fixture();
        let requests = valid_requests();
        let mut runner = TestRunner::new(Config::with_cases(2_000));
        let strategy = (0..requests.len(), any::<proptest::sample::Index>());
        let result = runner.run(&strategy, |(which, cut)| {
            let frame = &requests[which];
            serve(
                &state,
                &runtime,
                frame[..cut.index(frame.len() + 1)].to_vec(),
            );
            Ok(())
        });
        assert!(result.is_ok(), "{result:?}");
    }

    /// Array counts of 2^31 - 1 as an `i32` and of about 2^31 and 2^32 as
    /// varints of four and five bytes: written over a valid request or
    /// inserted into it, wherever a count may be read.
    #[test]
    fn huge_counts_anywhere_never_abort() {
        let (_dir, state, runtime) = fixture();
        let requests = valid_requests();
        let counts: [&[u8]; 3] = [
            &[0x7f, 0xff, 0xff, 0xff],
            &[0xff, 0xff, 0xff, 0x7f],
            &[0xff, 0xff, 0xff, 0xff, 0x0f],
        ];
        let mut runner = TestRunner::new(Config::with_cases(3_000));
        let strategy = (
            0..requests.len(),
            any::<proptest::sample::Index>(),
            0..counts.len(),
            any::<bool>(),
        );
        let result = runner.run(&strategy, |(which, at, count, insert)| {
            let mut frame = requests[which].clone();
            let count = counts[count];
            let at = at.index(frame.len() + 1);
            if insert {
                frame.splice(at..at, count.iter().copied());
            } else {
                let end = (at + count.len()).min(frame.len());
                frame.splice(at..end, count.iter().copied());
            }
            serve(&state, &runtime, frame);
            Ok(())
        });
        assert!(result.is_ok(), "{result:?}");
    }

    #[test]
    fn random_frames_never_panic() {
        let (_dir, state, runtime) = fixture();
        let served: Vec<i16> = ApiKey::iter()
            .filter(|k| supported_versions(*k).is_some())
            .map(|k| k as i16)
            .collect();
        let mut runner = TestRunner::new(Config::with_cases(5_000));
        let strategy = (
            prop_oneof![proptest::sample::select(served), any::<i16>()],
            -1i16..20,
            vec(any::<u8>(), 0..256),
        );
        let result = runner.run(&strategy, |(api, version, body)| {
            let mut frame = Vec::with_capacity(body.len() + 4);
            frame.extend_from_slice(&api.to_be_bytes());
            frame.extend_from_slice(&version.to_be_bytes());
            frame.extend_from_slice(&body);
            serve(&state, &runtime, frame);
            Ok(())
        });
        assert!(result.is_ok(), "{result:?}");
    }
}
