//! The classic group protocol: FindCoordinator (of groups and of
//! transactions: this broker is both), JoinGroup, SyncGroup, Heartbeat,
//! LeaveGroup, ListGroups, DescribeGroups and DeleteGroups. The group
//! logic lives in [`crate::group`]; this module translates.

use std::time::{Duration, Instant};

use kafka_protocol::error::ResponseError;
use kafka_protocol::messages::delete_groups_response::DeletableGroupResult;
use kafka_protocol::messages::describe_groups_response::{DescribedGroup, DescribedGroupMember};
use kafka_protocol::messages::find_coordinator_response::Coordinator as CoordinatorEntry;
use kafka_protocol::messages::join_group_response::JoinGroupResponseMember;
use kafka_protocol::messages::leave_group_response::MemberResponse;
use kafka_protocol::messages::list_groups_response::ListedGroup;
use kafka_protocol::messages::{
    BrokerId, DeleteGroupsRequest, DeleteGroupsResponse, DescribeGroupsRequest,
    DescribeGroupsResponse, FindCoordinatorRequest, FindCoordinatorResponse, GroupId,
    HeartbeatRequest, HeartbeatResponse, JoinGroupRequest, JoinGroupResponse, LeaveGroupRequest,
    LeaveGroupResponse, ListGroupsRequest, ListGroupsResponse, SyncGroupRequest, SyncGroupResponse,
};
use kafka_protocol::protocol::StrBytes;

use super::{str_bytes, Context};
use crate::group::{JoinOutcome, JoinRequest, SyncOutcome};

const GROUP_KEY: i8 = 0;
const TRANSACTION_KEY: i8 = 1;

fn code(error: Option<ResponseError>) -> i16 {
    error.map_or(0, |e| e.code())
}

fn millis(ms: i32) -> Duration {
    Duration::from_millis(u64::try_from(ms).unwrap_or(0))
}

fn opt_str(s: &Option<StrBytes>) -> Option<&str> {
    s.as_ref().map(|s| s.as_str())
}

pub(super) fn find_coordinator(
    ctx: &Context<'_>,
    request: FindCoordinatorRequest,
) -> FindCoordinatorResponse {
    let state = ctx.state;
    let error = (![GROUP_KEY, TRANSACTION_KEY].contains(&request.key_type))
        .then_some(ResponseError::InvalidRequest);
    let node = BrokerId(if error.is_some() {
        -1
    } else {
        state.config.node_id
    });
    let host = if error.is_some() {
        String::new()
    } else {
        state.advertised_host.clone()
    };
    let port = if error.is_some() {
        -1
    } else {
        state.advertised_port
    };
    if ctx.version >= 4 {
        let coordinators = request
            .coordinator_keys
            .into_iter()
            .map(|key| {
                CoordinatorEntry::default()
                    .with_key(key)
                    .with_node_id(node)
                    .with_host(str_bytes(host.clone()))
                    .with_port(port)
                    .with_error_code(code(error))
            })
            .collect();
        return FindCoordinatorResponse::default().with_coordinators(coordinators);
    }
    FindCoordinatorResponse::default()
        .with_error_code(code(error))
        .with_node_id(node)
        .with_host(str_bytes(host))
        .with_port(port)
}

fn join_response(ctx: &Context<'_>, outcome: JoinOutcome) -> JoinGroupResponse {
    // Before v7 the protocol name is not nullable.
    let protocol_name = outcome
        .protocol_name
        .or_else(|| (ctx.version < 7).then(String::new));
    let members = outcome
        .members
        .into_iter()
        .map(|m| {
            JoinGroupResponseMember::default()
                .with_member_id(str_bytes(m.member_id))
                .with_group_instance_id(m.instance_id.map(str_bytes))
                .with_metadata(m.metadata)
        })
        .collect();
    JoinGroupResponse::default()
        .with_error_code(code(outcome.error))
        .with_generation_id(outcome.generation)
        .with_protocol_type(outcome.protocol_type.map(str_bytes))
        .with_protocol_name(protocol_name.map(str_bytes))
        .with_leader(str_bytes(outcome.leader))
        .with_member_id(str_bytes(outcome.member_id))
        .with_members(members)
}

pub(super) async fn join(ctx: &Context<'_>, request: JoinGroupRequest) -> JoinGroupResponse {
    let member_id = request.member_id.to_string();
    // v0 has no rebalance timeout: the session timeout serves as both.
    let rebalance_timeout = if request.rebalance_timeout_ms >= 0 {
        request.rebalance_timeout_ms
    } else {
        request.session_timeout_ms
    };
    let join = JoinRequest {
        group_id: request.group_id.to_string(),
        member_id: member_id.clone(),
        instance_id: request.group_instance_id.map(|s| s.to_string()),
        client_id: ctx.client_id.to_owned(),
        client_host: ctx.client_host.to_owned(),
        session_timeout: millis(request.session_timeout_ms),
        rebalance_timeout: millis(rebalance_timeout),
        protocol_type: request.protocol_type.to_string(),
        protocols: request
            .protocols
            .into_iter()
            .map(|p| (p.name.to_string(), p.metadata))
            .collect(),
        require_known_member_id: ctx.version >= 4,
    };
    let outcome = ctx
        .state
        .groups
        .join(join, Instant::now())
        .resolve(|| JoinOutcome {
            error: Some(ResponseError::UnknownMemberId),
            generation: -1,
            protocol_type: None,
            protocol_name: None,
            leader: String::new(),
            member_id,
            members: Vec::new(),
        })
        .await;
    join_response(ctx, outcome)
}

pub(super) async fn sync(ctx: &Context<'_>, request: SyncGroupRequest) -> SyncGroupResponse {
    let assignments = request
        .assignments
        .into_iter()
        .map(|a| (a.member_id.to_string(), a.assignment))
        .collect();
    let outcome = ctx
        .state
        .groups
        .sync(
            &request.group_id,
            &request.member_id,
            opt_str(&request.group_instance_id),
            request.generation_id,
            assignments,
            Instant::now(),
        )
        .resolve(|| SyncOutcome {
            error: Some(ResponseError::RebalanceInProgress),
            protocol_type: None,
            protocol_name: None,
            assignment: Default::default(),
        })
        .await;
    SyncGroupResponse::default()
        .with_error_code(code(outcome.error))
        .with_protocol_type(outcome.protocol_type.map(str_bytes))
        .with_protocol_name(outcome.protocol_name.map(str_bytes))
        .with_assignment(outcome.assignment)
}

pub(super) fn heartbeat(ctx: &Context<'_>, request: HeartbeatRequest) -> HeartbeatResponse {
    let result = ctx.state.groups.heartbeat(
        &request.group_id,
        &request.member_id,
        opt_str(&request.group_instance_id),
        request.generation_id,
        Instant::now(),
    );
    HeartbeatResponse::default().with_error_code(code(result.err()))
}

pub(super) fn leave(ctx: &Context<'_>, request: LeaveGroupRequest) -> LeaveGroupResponse {
    // v3 batched the leaving members; before that one member left by id.
    let leaving: Vec<(String, Option<String>)> = if ctx.version >= 3 {
        request
            .members
            .iter()
            .map(|m| {
                (
                    m.member_id.to_string(),
                    m.group_instance_id.as_ref().map(|s| s.to_string()),
                )
            })
            .collect()
    } else {
        vec![(request.member_id.to_string(), None)]
    };
    match ctx
        .state
        .groups
        .leave(&request.group_id, &leaving, Instant::now())
    {
        Err(error) => LeaveGroupResponse::default().with_error_code(error.code()),
        Ok(results) if ctx.version >= 3 => {
            let members = request
                .members
                .into_iter()
                .zip(results)
                .map(|(m, result)| {
                    MemberResponse::default()
                        .with_member_id(m.member_id)
                        .with_group_instance_id(m.group_instance_id)
                        .with_error_code(code(result.err()))
                })
                .collect();
            LeaveGroupResponse::default().with_members(members)
        }
        Ok(results) => {
            let error = results.into_iter().find_map(Result::err);
            LeaveGroupResponse::default().with_error_code(code(error))
        }
    }
}

pub(super) fn list(ctx: &Context<'_>, request: ListGroupsRequest) -> ListGroupsResponse {
    let groups = ctx
        .state
        .groups
        .list()
        .into_iter()
        .filter(|g| {
            request.states_filter.is_empty()
                || request
                    .states_filter
                    .iter()
                    .any(|s| s.as_str().eq_ignore_ascii_case(g.state.name()))
        })
        .map(|g| {
            ListedGroup::default()
                .with_group_id(GroupId(str_bytes(g.group_id)))
                .with_protocol_type(str_bytes(g.protocol_type))
                .with_group_state(str_bytes(g.state.name()))
        })
        .collect();
    ListGroupsResponse::default().with_groups(groups)
}

pub(super) fn describe(
    ctx: &Context<'_>,
    request: DescribeGroupsRequest,
) -> DescribeGroupsResponse {
    let groups = request
        .groups
        .into_iter()
        .map(|group_id| {
            let description = ctx.state.groups.describe(&group_id);
            let members = description
                .members
                .into_iter()
                .map(|m| {
                    DescribedGroupMember::default()
                        .with_member_id(str_bytes(m.member_id))
                        .with_group_instance_id(m.instance_id.map(str_bytes))
                        .with_client_id(str_bytes(m.client_id))
                        .with_client_host(str_bytes(m.client_host))
                        .with_member_metadata(m.metadata)
                        .with_member_assignment(m.assignment)
                })
                .collect();
            DescribedGroup::default()
                .with_group_id(group_id)
                .with_group_state(str_bytes(description.state.name()))
                .with_protocol_type(str_bytes(description.protocol_type))
                .with_protocol_data(str_bytes(description.protocol))
                .with_members(members)
        })
        .collect();
    DescribeGroupsResponse::default().with_groups(groups)
}

pub(super) fn delete(ctx: &Context<'_>, request: DeleteGroupsRequest) -> DeleteGroupsResponse {
    let results = request
        .groups_names
        .into_iter()
        .map(|group_id| {
            let result = ctx.state.groups.delete(&group_id);
            DeletableGroupResult::default()
                .with_group_id(group_id)
                .with_error_code(code(result.err()))
        })
        .collect();
    DeleteGroupsResponse::default().with_results(results)
}
