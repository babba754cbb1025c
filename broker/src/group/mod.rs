//! The group coordinator for the classic consumer group protocol.
//!
//! A group moves through Kafka's states: `Empty` → `PreparingRebalance`
//! (members (re)join; the join completes when every known member has joined
//! or the rebalance timeout passes) → `CompletingRebalance` (the leader
//! computes the assignment and sends it with SyncGroup) → `Stable`.
//! Members that stop heartbeating for their session timeout are removed,
//! which starts a rebalance. Static members (`group.instance.id`) keep their
//! identity across restarts: a static member rejoining a stable group with
//! unchanged subscriptions takes over its old assignment without a rebalance.
//!
//! Join and sync requests that must wait are parked as oneshot channels and
//! answered when the group moves on; [`Coordinator::tick`] drives timeouts.

pub(crate) mod offsets;

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use bytes::Bytes;
use kafka_protocol::error::ResponseError;
use tokio::sync::oneshot;
use tracing::{debug, error, info};
use uuid::Uuid;

use crate::error::Result;
use crate::topics::lock;
use offsets::{Committed, OffsetStore, MAX_METADATA_BYTES, MAX_NAME_BYTES};

/// Kafka's `group.min.session.timeout.ms` and `group.max.session.timeout.ms`.
const MIN_SESSION_TIMEOUT: Duration = Duration::from_millis(6_000);
const MAX_SESSION_TIMEOUT: Duration = Duration::from_millis(1_800_000);

/// The state of a group, named as DescribeGroups and ListGroups report it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum GroupState {
    Empty,
    PreparingRebalance,
    CompletingRebalance,
    Stable,
    Dead,
}

impl GroupState {
    /// Kafka's name for the state.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Empty => "Empty",
            Self::PreparingRebalance => "PreparingRebalance",
            Self::CompletingRebalance => "CompletingRebalance",
            Self::Stable => "Stable",
            Self::Dead => "Dead",
        }
    }
}

/// A JoinGroup request, stripped of wire details.
#[derive(Debug, Clone)]
pub(crate) struct JoinRequest {
    pub(crate) group_id: String,
    pub(crate) member_id: String,
    pub(crate) instance_id: Option<String>,
    pub(crate) client_id: String,
    pub(crate) client_host: String,
    pub(crate) session_timeout: Duration,
    pub(crate) rebalance_timeout: Duration,
    pub(crate) protocol_type: String,
    pub(crate) protocols: Vec<(String, Bytes)>,
    /// Whether a dynamic member joining without an id is first given one
    /// to join with (JoinGroup v4+, Kafka's `requiresKnownMemberId`).
    pub(crate) require_known_member_id: bool,
}

/// A member as the leader sees it in the join response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct JoinedMember {
    pub(crate) member_id: String,
    pub(crate) instance_id: Option<String>,
    pub(crate) metadata: Bytes,
}

/// The answer to a JoinGroup request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct JoinOutcome {
    pub(crate) error: Option<ResponseError>,
    pub(crate) generation: i32,
    pub(crate) protocol_type: Option<String>,
    pub(crate) protocol_name: Option<String>,
    pub(crate) leader: String,
    pub(crate) member_id: String,
    /// Filled in for the leader only.
    pub(crate) members: Vec<JoinedMember>,
}

impl JoinOutcome {
    fn error(error: ResponseError, member_id: &str) -> Self {
        Self {
            error: Some(error),
            generation: -1,
            protocol_type: None,
            protocol_name: None,
            leader: String::new(),
            member_id: member_id.to_owned(),
            members: Vec::new(),
        }
    }
}

/// The answer to a SyncGroup request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SyncOutcome {
    pub(crate) error: Option<ResponseError>,
    pub(crate) protocol_type: Option<String>,
    pub(crate) protocol_name: Option<String>,
    pub(crate) assignment: Bytes,
}

impl SyncOutcome {
    fn error(error: ResponseError) -> Self {
        Self {
            error: Some(error),
            protocol_type: None,
            protocol_name: None,
            assignment: Bytes::new(),
        }
    }
}

/// An answer now, or once the group moves on.
pub(crate) enum Pending<T> {
    Ready(T),
    Wait(oneshot::Receiver<T>),
}

impl<T> Pending<T> {
    /// Waits for the answer; `fallback` if the group went away without one.
    pub(crate) async fn resolve(self, fallback: impl FnOnce() -> T) -> T {
        match self {
            Self::Ready(value) => value,
            Self::Wait(rx) => rx.await.unwrap_or_else(|_| fallback()),
        }
    }
}

/// A member as DescribeGroups reports it.
#[derive(Debug, Clone)]
pub(crate) struct MemberDescription {
    pub(crate) member_id: String,
    pub(crate) instance_id: Option<String>,
    pub(crate) client_id: String,
    pub(crate) client_host: String,
    pub(crate) metadata: Bytes,
    pub(crate) assignment: Bytes,
}

/// A group as DescribeGroups and ListGroups report it.
#[derive(Debug, Clone)]
pub(crate) struct GroupDescription {
    pub(crate) group_id: String,
    pub(crate) state: GroupState,
    pub(crate) protocol_type: String,
    pub(crate) protocol: String,
    pub(crate) members: Vec<MemberDescription>,
}

/// An offset to commit.
#[derive(Debug, Clone)]
pub(crate) struct OffsetCommit {
    pub(crate) topic: String,
    pub(crate) partition: i32,
    pub(crate) committed: Committed,
}

impl OffsetCommit {
    /// Whether the offset store can hold this commit, plain or
    /// transactional: metadata within Kafka's limit, and a topic name that
    /// fits a record (no topic has a longer one).
    pub(crate) fn check(&self) -> Result<(), ResponseError> {
        let metadata = self.committed.metadata.as_ref();
        if metadata.is_some_and(|m| m.len() > MAX_METADATA_BYTES) {
            return Err(ResponseError::OffsetMetadataTooLarge);
        }
        if self.topic.len() > MAX_NAME_BYTES {
            return Err(ResponseError::UnknownTopicOrPartition);
        }
        Ok(())
    }
}

/// Whether `group_id` can name a group whose offsets are stored: not
/// empty, and short enough for an offsets record.
pub(crate) fn check_group_id(group_id: &str) -> Result<(), ResponseError> {
    if group_id.is_empty() || group_id.len() > MAX_NAME_BYTES {
        return Err(ResponseError::InvalidGroupId);
    }
    Ok(())
}

#[derive(Debug)]
struct Member {
    instance_id: Option<String>,
    client_id: String,
    client_host: String,
    session_timeout: Duration,
    rebalance_timeout: Duration,
    protocols: Vec<(String, Bytes)>,
    assignment: Bytes,
    heartbeat_deadline: Instant,
    join_waiter: Option<oneshot::Sender<JoinOutcome>>,
    sync_waiter: Option<oneshot::Sender<SyncOutcome>>,
}

impl Member {
    fn metadata_for(&self, protocol: &str) -> Bytes {
        self.protocols
            .iter()
            .find(|(name, _)| name == protocol)
            .map(|(_, metadata)| metadata.clone())
            .unwrap_or_default()
    }
}

#[derive(Debug)]
struct Group {
    state: GroupState,
    generation: i32,
    protocol_type: Option<String>,
    protocol: Option<String>,
    leader: Option<String>,
    members: BTreeMap<String, Member>,
    /// Member ids handed out with MEMBER_ID_REQUIRED whose join has not
    /// come yet, with the end of their session: a rebalance waits for them
    /// (Kafka's `pendingJoinMembers`).
    pending_members: BTreeMap<String, Instant>,
    /// When a rebalance in progress completes even if members are missing.
    rebalance_deadline: Option<Instant>,
    /// A new group waits this long for more members before its first join completes.
    initial_delay_until: Option<Instant>,
}

impl Group {
    fn new() -> Self {
        Self {
            state: GroupState::Empty,
            generation: 0,
            protocol_type: None,
            protocol: None,
            leader: None,
            members: BTreeMap::new(),
            pending_members: BTreeMap::new(),
            rebalance_deadline: None,
            initial_delay_until: None,
        }
    }

    fn static_member(&self, instance_id: &str) -> Option<&String> {
        self.members
            .iter()
            .find(|(_, m)| m.instance_id.as_deref() == Some(instance_id))
            .map(|(id, _)| id)
    }

    /// The protocols every member supports, chosen by the members' votes
    /// (each votes for the first of its own protocols that all support).
    fn select_protocol(&self) -> Option<String> {
        let mut candidates: Option<Vec<&str>> = None;
        for member in self.members.values() {
            let names: Vec<&str> = member.protocols.iter().map(|(n, _)| n.as_str()).collect();
            candidates = Some(match candidates {
                None => names,
                Some(c) => c.into_iter().filter(|n| names.contains(n)).collect(),
            });
        }
        let candidates = candidates?;
        let mut votes: Vec<(&str, usize)> = candidates.iter().map(|&c| (c, 0)).collect();
        for member in self.members.values() {
            if let Some((name, _)) = member
                .protocols
                .iter()
                .find(|(n, _)| candidates.contains(&n.as_str()))
            {
                if let Some(vote) = votes.iter_mut().find(|(c, _)| *c == name) {
                    vote.1 += 1;
                }
            }
        }
        // The first candidate wins ties, so the outcome is deterministic.
        let best = votes.iter().map(|(_, n)| *n).max()?;
        votes
            .iter()
            .find(|(_, n)| *n == best)
            .map(|(c, _)| (*c).to_owned())
    }

    /// Whether a joining member's protocols fit the group.
    fn accepts(&self, protocol_type: &str, protocols: &[(String, Bytes)]) -> bool {
        if protocols.is_empty() || protocol_type.is_empty() {
            return false;
        }
        if self.members.is_empty() {
            return true;
        }
        self.protocol_type.as_deref() == Some(protocol_type)
            && self.members.values().all(|m| {
                m.protocols
                    .iter()
                    .any(|(n, _)| protocols.iter().any(|(p, _)| p == n))
            })
    }

    /// Whether a JoinGroup may go ahead: its protocols fit, and the member
    /// id it names, if any, is a current member.
    fn admits(
        &self,
        member_id: &str,
        instance_id: Option<&str>,
        protocol_type: &str,
        protocols: &[(String, Bytes)],
    ) -> Result<(), ResponseError> {
        if !self.accepts(protocol_type, protocols) {
            return Err(ResponseError::InconsistentGroupProtocol);
        }
        if member_id.is_empty() || self.pending_members.contains_key(member_id) {
            return Ok(());
        }
        self.check_member(member_id, instance_id, None)
    }

    /// The join response for `member_id` in the current generation.
    fn join_outcome(&self, member_id: &str) -> JoinOutcome {
        let leader = self.leader.clone().unwrap_or_default();
        let protocol = self.protocol.clone().unwrap_or_default();
        let members = if leader == member_id {
            self.members
                .iter()
                .map(|(id, m)| JoinedMember {
                    member_id: id.clone(),
                    instance_id: m.instance_id.clone(),
                    metadata: m.metadata_for(&protocol),
                })
                .collect()
        } else {
            Vec::new()
        };
        JoinOutcome {
            error: None,
            generation: self.generation,
            protocol_type: self.protocol_type.clone(),
            protocol_name: self.protocol.clone(),
            leader,
            member_id: member_id.to_owned(),
            members,
        }
    }

    fn sync_outcome(&self, assignment: Bytes) -> SyncOutcome {
        SyncOutcome {
            error: None,
            protocol_type: self.protocol_type.clone(),
            protocol_name: self.protocol.clone(),
            assignment,
        }
    }

    /// Starts a rebalance: members must rejoin within the rebalance timeout.
    fn prepare_rebalance(&mut self, now: Instant, reason: &str) {
        if self.state == GroupState::PreparingRebalance {
            return;
        }
        // Members waiting for an assignment of the old generation must rejoin.
        for member in self.members.values_mut() {
            if let Some(waiter) = member.sync_waiter.take() {
                let _ = waiter.send(SyncOutcome::error(ResponseError::RebalanceInProgress));
            }
        }
        let timeout = self
            .members
            .values()
            .map(|m| m.rebalance_timeout)
            .max()
            .unwrap_or_default();
        self.rebalance_deadline = Some(now + timeout);
        debug!(generation = self.generation, reason, "preparing rebalance");
        self.state = GroupState::PreparingRebalance;
    }

    /// Completes the join phase if every member has rejoined, or the deadline
    /// passed (then members that did not rejoin are dropped).
    fn maybe_complete_join(&mut self, now: Instant) {
        if self.state != GroupState::PreparingRebalance {
            return;
        }
        if self.initial_delay_until.is_some_and(|until| now < until) {
            return;
        }
        let all_joined = self.members.values().all(|m| m.join_waiter.is_some())
            && self.pending_members.is_empty();
        let expired = self.rebalance_deadline.is_some_and(|d| now >= d);
        if !all_joined && !expired {
            return;
        }
        self.members.retain(|id, m| {
            let keep = m.join_waiter.is_some();
            if !keep {
                info!(member = %id, "member did not rejoin within the rebalance timeout");
            }
            keep
        });
        self.initial_delay_until = None;
        self.rebalance_deadline = None;
        self.generation += 1;
        if self.members.is_empty() {
            self.state = GroupState::Empty;
            self.protocol = None;
            self.leader = None;
            return;
        }
        self.protocol = self.select_protocol();
        if !self
            .leader
            .as_ref()
            .is_some_and(|l| self.members.contains_key(l))
        {
            self.leader = self.members.keys().next().cloned();
        }
        self.state = GroupState::CompletingRebalance;
        let ids: Vec<String> = self.members.keys().cloned().collect();
        for id in ids {
            let outcome = self.join_outcome(&id);
            if let Some(member) = self.members.get_mut(&id) {
                member.assignment = Bytes::new();
                member.heartbeat_deadline = now + member.session_timeout;
                if let Some(waiter) = member.join_waiter.take() {
                    let _ = waiter.send(outcome);
                }
            }
        }
        info!(
            generation = self.generation,
            members = self.members.len(),
            protocol = self.protocol.as_deref().unwrap_or(""),
            "rebalance: join complete"
        );
    }

    /// Removes a member and rebalances the rest.
    fn remove_member(&mut self, member_id: &str, now: Instant, reason: &str) {
        let Some(member) = self.members.remove(member_id) else {
            return;
        };
        info!(member = member_id, reason, "member removed from group");
        if let Some(waiter) = member.join_waiter {
            let _ = waiter.send(JoinOutcome::error(
                ResponseError::UnknownMemberId,
                member_id,
            ));
        }
        if let Some(waiter) = member.sync_waiter {
            let _ = waiter.send(SyncOutcome::error(ResponseError::UnknownMemberId));
        }
        if self.leader.as_deref() == Some(member_id) {
            self.leader = None;
        }
        match self.state {
            GroupState::Stable | GroupState::CompletingRebalance => {
                self.prepare_rebalance(now, reason)
            }
            GroupState::Empty | GroupState::Dead | GroupState::PreparingRebalance => {}
        }
        self.maybe_complete_join(now);
    }

    /// Checks that a request comes from the current member of this generation.
    fn check_member(
        &self,
        member_id: &str,
        instance_id: Option<&str>,
        generation: Option<i32>,
    ) -> Result<(), ResponseError> {
        if let Some(instance_id) = instance_id {
            if let Some(owner) = self.static_member(instance_id) {
                if owner != member_id {
                    return Err(ResponseError::FencedInstanceId);
                }
            }
        }
        if !self.members.contains_key(member_id) {
            return Err(ResponseError::UnknownMemberId);
        }
        if generation.is_some_and(|g| g != self.generation) {
            return Err(ResponseError::IllegalGeneration);
        }
        Ok(())
    }
}

#[derive(Debug)]
struct Groups {
    groups: HashMap<String, Group>,
}

impl Groups {
    /// Checks that an offset commit to `group_id` may be stored, as
    /// Kafka's `validateOffsetCommit`: standalone consumers and admin
    /// clients commit with generation -1 to groups with no members; a
    /// member's commit, even to a group that has emptied since (a member
    /// evicted for its session, say), must come from a current member.
    /// A `transactional` commit without member or generation is accepted
    /// (older producers send none), and is not held back by a rebalance.
    fn check_commit(
        &self,
        group_id: &str,
        member_id: &str,
        instance_id: Option<&str>,
        generation: i32,
        transactional: bool,
    ) -> Result<(), ResponseError> {
        let anonymous = generation < 0 && member_id.is_empty() && instance_id.is_none();
        match self.groups.get(group_id) {
            Some(group) if generation < 0 && group.members.is_empty() => Ok(()),
            Some(_) if anonymous && transactional => Ok(()),
            Some(_) if anonymous => Err(ResponseError::UnknownMemberId),
            Some(group) => {
                group.check_member(member_id, instance_id, Some(generation))?;
                if !transactional && group.state == GroupState::CompletingRebalance {
                    return Err(ResponseError::RebalanceInProgress);
                }
                Ok(())
            }
            None if generation < 0 => Ok(()),
            None => Err(ResponseError::IllegalGeneration),
        }
    }
}

/// The coordinator of every group.
#[derive(Debug)]
pub(crate) struct Coordinator {
    groups: Mutex<Groups>,
    offsets: Mutex<OffsetStore>,
    initial_delay: Duration,
}

impl Coordinator {
    /// A coordinator with the committed offsets of `offsets`.
    pub(crate) fn new(offsets: OffsetStore, initial_delay: Duration) -> Self {
        Self {
            groups: Mutex::new(Groups {
                groups: HashMap::new(),
            }),
            offsets: Mutex::new(offsets),
            initial_delay,
        }
    }

    /// Handles JoinGroup.
    pub(crate) fn join(&self, request: JoinRequest, now: Instant) -> Pending<JoinOutcome> {
        let JoinRequest {
            group_id,
            member_id,
            instance_id,
            client_id,
            client_host,
            session_timeout,
            rebalance_timeout,
            protocol_type,
            protocols,
            require_known_member_id,
        } = request;
        let fail = |error| Pending::Ready(JoinOutcome::error(error, &member_id));
        if group_id.is_empty() {
            return fail(ResponseError::InvalidGroupId);
        }
        if !(MIN_SESSION_TIMEOUT..=MAX_SESSION_TIMEOUT).contains(&session_timeout) {
            return fail(ResponseError::InvalidSessionTimeout);
        }
        let mut groups = lock(&self.groups);
        // Checked before the group is created, so that a refused join does
        // not leave an empty group behind.
        let new_group = Group::new();
        let admitted = groups.groups.get(&group_id).unwrap_or(&new_group).admits(
            &member_id,
            instance_id.as_deref(),
            &protocol_type,
            &protocols,
        );
        if let Err(error) = admitted {
            return fail(error);
        }
        let group = groups.groups.entry(group_id.clone()).or_insert(new_group);

        if member_id.is_empty() && instance_id.is_none() && require_known_member_id {
            // The member learns its id before it takes part, so that it can
            // leave by it even while its join waits (Kafka's KIP-394).
            let new_id = format!("{client_id}-{}", Uuid::new_v4());
            debug!(group = %group_id, member = %new_id, "member id required");
            group
                .pending_members
                .insert(new_id.clone(), now + session_timeout);
            return Pending::Ready(JoinOutcome::error(ResponseError::MemberIdRequired, &new_id));
        }
        group.pending_members.remove(&member_id);

        let member_id = if member_id.is_empty() {
            let new_id = format!("{client_id}-{}", Uuid::new_v4());
            let replaced = instance_id
                .as_deref()
                .and_then(|i| group.static_member(i))
                .cloned();
            if let Some(old_id) = replaced {
                // A restarted static member: it takes over the old member's
                // place, and without a rebalance if nothing changed.
                if let Some(mut old) = group.members.remove(&old_id) {
                    if let Some(waiter) = old.join_waiter.take() {
                        let _ = waiter
                            .send(JoinOutcome::error(ResponseError::FencedInstanceId, &old_id));
                    }
                    if let Some(waiter) = old.sync_waiter.take() {
                        let _ = waiter.send(SyncOutcome::error(ResponseError::FencedInstanceId));
                    }
                    let unchanged = old.protocols == protocols;
                    old.heartbeat_deadline = now + session_timeout;
                    old.session_timeout = session_timeout;
                    old.rebalance_timeout = rebalance_timeout;
                    old.protocols = protocols.clone();
                    group.members.insert(new_id.clone(), old);
                    if group.leader.as_deref() == Some(old_id.as_str()) {
                        group.leader = Some(new_id.clone());
                    }
                    info!(group = %group_id, instance = ?instance_id, member = %new_id, "static member rejoined");
                    if unchanged && group.state == GroupState::Stable {
                        return Pending::Ready(group.join_outcome(&new_id));
                    }
                }
            }
            new_id
        } else {
            member_id
        };

        let (tx, rx) = oneshot::channel();
        let existing = group
            .members
            .get(&member_id)
            .map(|m| m.protocols == protocols);
        let is_leader = group.leader.as_deref() == Some(member_id.as_str());
        match existing {
            // A member re-sending its join for the current generation gets
            // the same answer, without disturbing the group.
            Some(true)
                if group.state == GroupState::CompletingRebalance
                    || (group.state == GroupState::Stable && !is_leader) =>
            {
                return Pending::Ready(group.join_outcome(&member_id));
            }
            Some(_) => {}
            None => {
                debug!(group = %group_id, member = %member_id, "member joining");
            }
        }
        let member = group
            .members
            .entry(member_id.clone())
            .or_insert_with(|| Member {
                instance_id: instance_id.clone(),
                client_id,
                client_host,
                session_timeout,
                rebalance_timeout,
                protocols: Vec::new(),
                assignment: Bytes::new(),
                heartbeat_deadline: now + session_timeout,
                join_waiter: None,
                sync_waiter: None,
            });
        member.protocols = protocols;
        member.session_timeout = session_timeout;
        member.rebalance_timeout = rebalance_timeout;
        member.heartbeat_deadline = now + session_timeout;
        if let Some(previous) = member.join_waiter.replace(tx) {
            let _ = previous.send(JoinOutcome::error(
                ResponseError::UnknownMemberId,
                &member_id,
            ));
        }
        if group.members.len() == 1 {
            group.protocol_type = Some(protocol_type);
        }
        if group.state == GroupState::Empty {
            group.initial_delay_until = Some(now + self.initial_delay);
        }
        group.prepare_rebalance(now, "member joined");
        group.maybe_complete_join(now);
        Pending::Wait(rx)
    }

    /// Handles SyncGroup.
    pub(crate) fn sync(
        &self,
        group_id: &str,
        member_id: &str,
        instance_id: Option<&str>,
        generation: i32,
        assignments: Vec<(String, Bytes)>,
        now: Instant,
    ) -> Pending<SyncOutcome> {
        let mut groups = lock(&self.groups);
        let Some(group) = groups.groups.get_mut(group_id) else {
            return Pending::Ready(SyncOutcome::error(ResponseError::UnknownMemberId));
        };
        if let Err(error) = group.check_member(member_id, instance_id, Some(generation)) {
            return Pending::Ready(SyncOutcome::error(error));
        }
        match group.state {
            GroupState::PreparingRebalance => {
                Pending::Ready(SyncOutcome::error(ResponseError::RebalanceInProgress))
            }
            GroupState::Empty | GroupState::Dead => {
                Pending::Ready(SyncOutcome::error(ResponseError::UnknownMemberId))
            }
            GroupState::Stable => {
                let assignment = group
                    .members
                    .get(member_id)
                    .map(|m| m.assignment.clone())
                    .unwrap_or_default();
                Pending::Ready(group.sync_outcome(assignment))
            }
            GroupState::CompletingRebalance => {
                let (tx, rx) = oneshot::channel();
                if let Some(member) = group.members.get_mut(member_id) {
                    member.heartbeat_deadline = now + member.session_timeout;
                    member.sync_waiter = Some(tx);
                }
                if group.leader.as_deref() == Some(member_id) {
                    let mut assignments: HashMap<String, Bytes> = assignments.into_iter().collect();
                    group.state = GroupState::Stable;
                    let outcomes: Vec<(String, SyncOutcome)> = group
                        .members
                        .keys()
                        .map(|id| {
                            (
                                id.clone(),
                                group.sync_outcome(assignments.remove(id).unwrap_or_default()),
                            )
                        })
                        .collect();
                    for (id, outcome) in outcomes {
                        if let Some(member) = group.members.get_mut(&id) {
                            // Each session starts afresh with the assignment.
                            member.heartbeat_deadline = now + member.session_timeout;
                            member.assignment = outcome.assignment.clone();
                            if let Some(waiter) = member.sync_waiter.take() {
                                let _ = waiter.send(outcome);
                            }
                        }
                    }
                    info!(
                        group = group_id,
                        generation = group.generation,
                        "rebalance: group stable"
                    );
                }
                Pending::Wait(rx)
            }
        }
    }

    /// Handles Heartbeat.
    pub(crate) fn heartbeat(
        &self,
        group_id: &str,
        member_id: &str,
        instance_id: Option<&str>,
        generation: i32,
        now: Instant,
    ) -> Result<(), ResponseError> {
        let mut groups = lock(&self.groups);
        let group = groups
            .groups
            .get_mut(group_id)
            .ok_or(ResponseError::UnknownMemberId)?;
        // Kafka's `validateClassicGroupHeartbeat`: the member and its
        // generation first; only a valid heartbeat keeps the session alive.
        if group.state == GroupState::Dead {
            return Err(ResponseError::CoordinatorNotAvailable);
        }
        group.check_member(member_id, instance_id, None)?;
        if generation != group.generation {
            return Err(ResponseError::IllegalGeneration);
        }
        if group.state == GroupState::Empty {
            return Err(ResponseError::UnknownMemberId);
        }
        if let Some(member) = group.members.get_mut(member_id) {
            member.heartbeat_deadline = now + member.session_timeout;
        }
        match group.state {
            GroupState::PreparingRebalance => Err(ResponseError::RebalanceInProgress),
            _ => Ok(()),
        }
    }

    /// Handles LeaveGroup for each `(member id, instance id)`; returns one
    /// result per member.
    pub(crate) fn leave(
        &self,
        group_id: &str,
        leaving: &[(String, Option<String>)],
        now: Instant,
    ) -> Result<Vec<Result<(), ResponseError>>, ResponseError> {
        let mut groups = lock(&self.groups);
        let group = groups
            .groups
            .get_mut(group_id)
            .ok_or(ResponseError::UnknownMemberId)?;
        let results = leaving
            .iter()
            .map(|(member_id, instance_id)| {
                let member_id = match instance_id.as_deref() {
                    Some(instance) => {
                        let owner = group
                            .static_member(instance)
                            .cloned()
                            .ok_or(ResponseError::UnknownMemberId)?;
                        if !member_id.is_empty() && *member_id != owner {
                            return Err(ResponseError::FencedInstanceId);
                        }
                        owner
                    }
                    None if group.members.contains_key(member_id) => member_id.clone(),
                    None if group.pending_members.remove(member_id).is_some() => {
                        group.maybe_complete_join(now);
                        return Ok(());
                    }
                    None => return Err(ResponseError::UnknownMemberId),
                };
                group.remove_member(&member_id, now, "left the group");
                Ok(())
            })
            .collect();
        Ok(results)
    }

    /// Expires members whose session timed out and completes rebalances
    /// whose deadline passed.
    pub(crate) fn tick(&self, now: Instant) {
        let mut groups = lock(&self.groups);
        for (group_id, group) in &mut groups.groups {
            let expired: Vec<String> = group
                .members
                .iter()
                // A member waiting in a join or for its assignment cannot
                // heartbeat meanwhile, and counts as heartbeating (Kafka's
                // `hasSatisfiedHeartbeat`): the rebalance timeout bounds a
                // join, and the leader's own session its sync.
                .filter(|(_, m)| {
                    m.join_waiter.is_none()
                        && m.sync_waiter.is_none()
                        && m.heartbeat_deadline <= now
                })
                .map(|(id, _)| id.clone())
                .collect();
            for member_id in expired {
                info!(group = %group_id, member = %member_id, "session timed out");
                group.remove_member(&member_id, now, "session timeout");
            }
            group.pending_members.retain(|member_id, deadline| {
                let alive = *deadline > now;
                if !alive {
                    debug!(group = %group_id, member = %member_id, "pending member did not join");
                }
                alive
            });
            group.maybe_complete_join(now);
        }
    }

    /// Handles OffsetCommit: checks the member, then stores the offsets.
    /// Returns one result per offset, or an error for all of them.
    pub(crate) fn commit_offsets(
        &self,
        group_id: &str,
        member_id: &str,
        instance_id: Option<&str>,
        generation: i32,
        commits: Vec<OffsetCommit>,
    ) -> Result<Vec<Result<(), ResponseError>>, ResponseError> {
        check_group_id(group_id)?;
        // Held until the offsets are stored, so that a deletion or rebalance
        // of the group cannot happen between the check and the write and be
        // undone by it. Locked before `offsets`, as in `delete`.
        let groups = lock(&self.groups);
        groups.check_commit(group_id, member_id, instance_id, generation, false)?;
        let mut results = Vec::with_capacity(commits.len());
        let mut accepted = Vec::new();
        for commit in commits {
            let checked = commit.check();
            if checked.is_ok() {
                accepted.push((commit.topic, commit.partition, commit.committed));
            }
            results.push(checked);
        }
        if !accepted.is_empty() {
            lock(&self.offsets)
                .commit(group_id, accepted)
                .map_err(|e| {
                    error!(group = group_id, error = %e, "storing committed offsets failed");
                    // Kafka's answer to a storage error on the offsets
                    // partition: the client looks the coordinator up again.
                    ResponseError::NotCoordinator
                })?;
        }
        drop(groups);
        Ok(results)
    }

    /// Checks that a transactional offset commit (TxnOffsetCommit) for
    /// `group_id` comes from a current member, if it names one: Kafka's
    /// `validateOffsetCommit` for transactional commits, which older
    /// producers send without member or generation.
    pub(crate) fn check_transactional_commit(
        &self,
        group_id: &str,
        member_id: &str,
        instance_id: Option<&str>,
        generation: i32,
    ) -> Result<(), ResponseError> {
        check_group_id(group_id)?;
        lock(&self.groups).check_commit(group_id, member_id, instance_id, generation, true)
    }

    /// Stores the offsets a committed transaction carried for `group_id`,
    /// and forces them to disk. They were checked when the transaction
    /// took them (TxnOffsetCommit), and the commit decided the group's
    /// position whatever its members did since, as Kafka's transaction
    /// markers do.
    pub(crate) fn commit_transaction_offsets(
        &self,
        group_id: &str,
        commits: Vec<OffsetCommit>,
    ) -> std::io::Result<()> {
        let offsets = commits
            .into_iter()
            .map(|commit| (commit.topic, commit.partition, commit.committed))
            .collect();
        let mut store = lock(&self.offsets);
        store.commit(group_id, offsets)?;
        // On disk before the transaction is saved as complete, whatever
        // the flush policy: nothing would store them again.
        store.sync().map_err(std::io::Error::other)
    }

    /// The committed offset of a partition.
    pub(crate) fn committed(
        &self,
        group_id: &str,
        topic: &str,
        partition: i32,
    ) -> Option<Committed> {
        lock(&self.offsets).get(group_id, topic, partition).cloned()
    }

    /// Every committed offset of a group, as `(topic, partition, committed)`.
    pub(crate) fn all_committed(&self, group_id: &str) -> Vec<(String, i32, Committed)> {
        lock(&self.offsets)
            .group(group_id)
            .map(|(t, p, c)| (t.to_owned(), p, c.clone()))
            .collect()
    }

    /// Describes a group; groups that only have committed offsets are
    /// `Empty`, unknown ones `Dead`.
    pub(crate) fn describe(&self, group_id: &str) -> GroupDescription {
        let groups = lock(&self.groups);
        let Some(group) = groups.groups.get(group_id) else {
            let state = if lock(&self.offsets).has_group(group_id) {
                GroupState::Empty
            } else {
                GroupState::Dead
            };
            return GroupDescription {
                group_id: group_id.to_owned(),
                state,
                protocol_type: String::new(),
                protocol: String::new(),
                members: Vec::new(),
            };
        };
        let protocol = group.protocol.clone().unwrap_or_default();
        let members = group
            .members
            .iter()
            .map(|(id, m)| MemberDescription {
                member_id: id.clone(),
                instance_id: m.instance_id.clone(),
                client_id: m.client_id.clone(),
                client_host: m.client_host.clone(),
                metadata: m.metadata_for(&protocol),
                assignment: m.assignment.clone(),
            })
            .collect();
        GroupDescription {
            group_id: group_id.to_owned(),
            state: group.state,
            protocol_type: group.protocol_type.clone().unwrap_or_default(),
            protocol,
            members,
        }
    }

    /// Every known group.
    pub(crate) fn list(&self) -> Vec<GroupDescription> {
        let mut ids: Vec<String> = lock(&self.groups).groups.keys().cloned().collect();
        ids.extend(lock(&self.offsets).group_ids().map(str::to_owned));
        ids.sort();
        ids.dedup();
        ids.iter().map(|id| self.describe(id)).collect()
    }

    /// Deletes an empty group and its offsets.
    pub(crate) fn delete(&self, group_id: &str) -> Result<(), ResponseError> {
        let mut groups = lock(&self.groups);
        let known = match groups.groups.get(group_id) {
            Some(group) if !group.members.is_empty() => return Err(ResponseError::NonEmptyGroup),
            Some(_) => true,
            None => false,
        };
        let mut offsets = lock(&self.offsets);
        if !known && !offsets.has_group(group_id) {
            return Err(ResponseError::GroupIdNotFound);
        }
        offsets.delete_group(group_id).map_err(|e| {
            error!(group = group_id, error = %e, "deleting committed offsets failed");
            ResponseError::CoordinatorNotAvailable
        })?;
        groups.groups.remove(group_id);
        info!(group = group_id, "deleted group");
        Ok(())
    }

    /// Forgets the committed offsets of `topic`, just deleted, in every
    /// group (Kafka's `onPartitionsDeleted`): consumers of a topic created
    /// again under its name start from their reset policy, not from
    /// offsets of the old one.
    pub(crate) fn forget_topic(&self, topic: &str) {
        if let Err(e) = lock(&self.offsets).delete_topic(topic) {
            error!(topic, error = %e, "deleting the committed offsets of a deleted topic failed");
        }
    }

    /// Forces the offsets file to disk.
    pub(crate) fn flush_offsets(&self) -> Result<()> {
        lock(&self.offsets).sync()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn coordinator() -> (tempfile::TempDir, Coordinator) {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = OffsetStore::open(dir.path(), false).expect("store");
        (dir, Coordinator::new(store, Duration::ZERO))
    }

    fn join_request(member_id: &str, instance: Option<&str>) -> JoinRequest {
        JoinRequest {
            group_id: "g".into(),
            member_id: member_id.into(),
            instance_id: instance.map(str::to_owned),
            client_id: "c".into(),
            client_host: "/127.0.0.1".into(),
            session_timeout: Duration::from_secs(10),
            rebalance_timeout: Duration::from_secs(30),
            protocol_type: "consumer".into(),
            protocols: vec![("range".into(), Bytes::from_static(b"m"))],
            require_known_member_id: false,
        }
    }

    fn join(
        c: &Coordinator,
        member_id: &str,
        instance: Option<&str>,
        now: Instant,
    ) -> Pending<JoinOutcome> {
        c.join(join_request(member_id, instance), now)
    }

    fn ready<T>(pending: Pending<T>) -> T {
        match pending {
            Pending::Ready(value) => value,
            Pending::Wait(mut rx) => rx.try_recv().expect("answered"),
        }
    }

    #[test]
    fn members_join_sync_and_rebalance_when_one_dies() {
        let (_dir, c) = coordinator();
        let t0 = Instant::now();
        let first = ready(join(&c, "", None, t0));
        assert_eq!((first.error, first.generation), (None, 1));
        assert_eq!(first.leader, first.member_id);
        let a = first.member_id.clone();
        let sync = ready(c.sync(
            "g",
            &a,
            None,
            1,
            vec![(a.clone(), Bytes::from_static(b"all"))],
            t0,
        ));
        assert_eq!(sync.assignment, Bytes::from_static(b"all"));

        // A second member starts a rebalance; the first learns it from its heartbeat.
        let pending_b = join(&c, "", None, t0);
        assert!(matches!(pending_b, Pending::Wait(_)));
        assert_eq!(
            c.heartbeat("g", &a, None, 1, t0),
            Err(ResponseError::RebalanceInProgress)
        );
        let rejoin_a = ready(join(&c, &a, None, t0));
        let joined_b = ready(pending_b);
        assert_eq!((rejoin_a.generation, joined_b.generation), (2, 2));
        assert_eq!(rejoin_a.members.len(), 2, "the leader sees every member");
        assert!(joined_b.members.is_empty());
        let b = joined_b.member_id.clone();
        let pending_sync_b = c.sync("g", &b, None, 2, Vec::new(), t0);
        let assignments = vec![
            (a.clone(), Bytes::from_static(b"p0")),
            (b.clone(), Bytes::from_static(b"p1")),
        ];
        assert_eq!(
            ready(c.sync("g", &a, None, 2, assignments, t0)).assignment,
            Bytes::from_static(b"p0")
        );
        assert_eq!(ready(pending_sync_b).assignment, Bytes::from_static(b"p1"));

        // b stops heartbeating: after its session timeout a rebalance starts.
        let later = t0 + Duration::from_secs(8);
        assert_eq!(c.heartbeat("g", &a, None, 2, later), Ok(()));
        c.tick(t0 + Duration::from_secs(11));
        assert_eq!(c.describe("g").members.len(), 1);
        let alone = ready(join(&c, &a, None, t0 + Duration::from_secs(11)));
        assert_eq!((alone.generation, alone.members.len()), (3, 1));
    }

    /// JoinGroup v4+: a dynamic member joining without an id gets one at
    /// once with MEMBER_ID_REQUIRED, and the group, stable meanwhile, waits
    /// for it in the rebalance it starts by joining with that id. A member
    /// that leaves by that id before its join completes is gone; one that
    /// never joins with it stops counting when its session ends.
    #[test]
    fn a_new_member_is_given_its_id_before_it_joins() {
        let (_dir, c) = coordinator();
        let t0 = Instant::now();
        let known = |member_id: &str| JoinRequest {
            require_known_member_id: true,
            ..join_request(member_id, None)
        };
        let asked = ready(c.join(known(""), t0));
        assert_eq!(asked.error, Some(ResponseError::MemberIdRequired));
        let a = asked.member_id.clone();
        assert!(!a.is_empty());
        assert_eq!(c.describe("g").state, GroupState::Empty);
        let joined = ready(c.join(known(&a), t0 + Duration::from_secs(4)));
        assert_eq!((joined.error, joined.generation), (None, 1));
        assert_eq!(joined.member_id, a);
        ready(c.sync("g", &a, None, 1, Vec::new(), t0));

        // b gets its id, joins with it (parking the join), and leaves by
        // it before the rebalance completes: a rejoins alone.
        let b = ready(c.join(known(""), t0)).member_id;
        let pending_b = c.join(known(&b), t0);
        assert!(matches!(pending_b, Pending::Wait(_)));
        assert_eq!(c.leave("g", &[(b.clone(), None)], t0), Ok(vec![Ok(())]));
        let alone = ready(c.join(known(&a), t0));
        assert_eq!((alone.generation, alone.members.len()), (2, 1));
        ready(c.sync("g", &a, None, 2, Vec::new(), t0));

        // c gets an id and never joins with it: a rebalance waits for it
        // until its session (10 s) ends, not for the rebalance timeout.
        let _never = ready(c.join(known(""), t0));
        assert_eq!(c.heartbeat("g", &a, None, 2, t0), Ok(()));
        let rejoin = c.join(known(&a), t0);
        assert!(matches!(rejoin, Pending::Wait(_)));
        c.tick(t0 + Duration::from_secs(11));
        let rejoined = ready(rejoin);
        assert_eq!((rejoined.generation, rejoined.members.len()), (3, 1));
    }

    /// A heartbeat of a stale generation gets ILLEGAL_GENERATION even while
    /// the group prepares a rebalance, and does not keep its member's
    /// session alive (Kafka validates before it reschedules).
    #[test]
    fn a_stale_heartbeat_is_refused_and_keeps_no_session_alive() {
        let (_dir, c) = coordinator();
        let t0 = Instant::now();
        let a = ready(join(&c, "", None, t0)).member_id;
        ready(c.sync("g", &a, None, 1, Vec::new(), t0));
        let _pending_b = join(&c, "", None, t0);
        assert_eq!(
            c.heartbeat("g", &a, None, 0, t0),
            Err(ResponseError::IllegalGeneration)
        );
        assert_eq!(
            c.heartbeat("g", &a, None, 1, t0),
            Err(ResponseError::RebalanceInProgress)
        );
        // Stale heartbeats until past a's session timeout (10 s): a is
        // expired as if it had sent none.
        for seconds in [5, 9] {
            assert_eq!(
                c.heartbeat("g", &a, None, 0, t0 + Duration::from_secs(seconds)),
                Err(ResponseError::IllegalGeneration)
            );
        }
        c.tick(t0 + Duration::from_secs(11));
        assert!(c.describe("g").members.iter().all(|m| m.member_id != a));
    }

    /// A follower waiting in SyncGroup for the leader's assignment cannot
    /// heartbeat on that connection: it is not expired however long the
    /// leader takes, and its session restarts with the assignment.
    #[test]
    fn a_member_waiting_for_its_assignment_is_not_expired() {
        let (_dir, c) = coordinator();
        let t0 = Instant::now();
        let a = ready(join(&c, "", None, t0)).member_id;
        ready(c.sync("g", &a, None, 1, Vec::new(), t0));
        let pending_b = join(&c, "", None, t0);
        ready(join(&c, &a, None, t0));
        let b = ready(pending_b).member_id;
        let pending_sync_b = c.sync("g", &b, None, 2, Vec::new(), t0);
        // The leader heartbeats, but takes 20 s (twice the session timeout)
        // to assign.
        let slow = t0 + Duration::from_secs(20);
        assert_eq!(
            c.heartbeat("g", &a, None, 2, t0 + Duration::from_secs(9)),
            Ok(())
        );
        assert_eq!(
            c.heartbeat("g", &a, None, 2, t0 + Duration::from_secs(18)),
            Ok(())
        );
        c.tick(slow);
        assert_eq!(c.describe("g").members.len(), 2, "b waits, not expired");
        let assignments = vec![(b.clone(), Bytes::from_static(b"p0"))];
        ready(c.sync("g", &a, None, 2, assignments, slow));
        assert_eq!(ready(pending_sync_b).assignment, Bytes::from_static(b"p0"));
        c.tick(slow + Duration::from_secs(1));
        assert_eq!(c.describe("g").members.len(), 2, "b's session restarted");
    }

    #[test]
    fn a_static_member_rejoins_a_stable_group_without_rebalance() {
        let (_dir, c) = coordinator();
        let now = Instant::now();
        let first = ready(join(&c, "", Some("instance-1"), now));
        let sync = c.sync(
            "g",
            &first.member_id,
            Some("instance-1"),
            1,
            vec![(first.member_id.clone(), Bytes::from_static(b"x"))],
            now,
        );
        assert_eq!(ready(sync).assignment, Bytes::from_static(b"x"));
        let again = ready(join(&c, "", Some("instance-1"), now));
        assert_ne!(again.member_id, first.member_id);
        assert_eq!(again.generation, 1);
        assert_eq!(
            c.heartbeat("g", &first.member_id, Some("instance-1"), 1, now),
            Err(ResponseError::FencedInstanceId)
        );
        let sync = c.sync(
            "g",
            &again.member_id,
            Some("instance-1"),
            1,
            Vec::new(),
            now,
        );
        assert_eq!(ready(sync).assignment, Bytes::from_static(b"x"));
    }

    #[test]
    fn offsets_need_the_current_generation_and_empty_groups_can_be_deleted() {
        let (_dir, c) = coordinator();
        let now = Instant::now();
        let commit = |generation, member: &str| {
            c.commit_offsets(
                "g",
                member,
                None,
                generation,
                vec![OffsetCommit {
                    topic: "t".into(),
                    partition: 0,
                    committed: Committed {
                        offset: 3,
                        leader_epoch: -1,
                        metadata: None,
                    },
                }],
            )
        };
        assert_eq!(commit(-1, ""), Ok(vec![Ok(())]));
        let member = ready(join(&c, "", None, now)).member_id;
        assert_eq!(commit(7, &member), Err(ResponseError::IllegalGeneration));
        assert_eq!(c.delete("g"), Err(ResponseError::NonEmptyGroup));
        assert_eq!(
            c.leave("g", &[(member.clone(), None)], now),
            Ok(vec![Ok(())])
        );
        // The group is empty now, but a former member cannot commit into it.
        assert_eq!(commit(1, &member), Err(ResponseError::UnknownMemberId));
        assert_eq!(c.committed("g", "t", 0).map(|c| c.offset), Some(3));
        assert_eq!(c.describe("g").state, GroupState::Empty);
        assert_eq!(c.delete("g"), Ok(()));
        assert_eq!(c.committed("g", "t", 0), None);
        assert_eq!(c.delete("g"), Err(ResponseError::GroupIdNotFound));
    }

    #[test]
    fn a_refused_join_leaves_no_group_behind() {
        let (_dir, c) = coordinator();
        let now = Instant::now();
        let no_protocols = JoinRequest {
            protocols: Vec::new(),
            ..join_request("", None)
        };
        assert_eq!(
            ready(c.join(no_protocols, now)).error,
            Some(ResponseError::InconsistentGroupProtocol)
        );
        assert_eq!(
            ready(join(&c, "ghost", None, now)).error,
            Some(ResponseError::UnknownMemberId)
        );
        assert!(c.list().is_empty());
        assert_eq!(c.describe("g").state, GroupState::Dead);
        // An accepted join still creates the group.
        let joined = ready(join(&c, "", None, now));
        assert_eq!(joined.error, None);
        assert_eq!(c.list().len(), 1);
    }

    fn commit_one(
        c: &Coordinator,
        group_id: &str,
        topic: &str,
    ) -> Result<Vec<Result<(), ResponseError>>, ResponseError> {
        c.commit_offsets(
            group_id,
            "",
            None,
            -1,
            vec![OffsetCommit {
                topic: topic.into(),
                partition: 0,
                committed: Committed {
                    offset: 3,
                    leader_epoch: -1,
                    metadata: None,
                },
            }],
        )
    }

    #[test]
    fn a_failed_offsets_write_answers_not_coordinator() {
        let (dir, c) = coordinator();
        let read_only = std::fs::File::open(dir.path().join("offsets.log")).expect("open");
        lock(&c.offsets).replace_file(read_only);
        assert_eq!(commit_one(&c, "g", "t"), Err(ResponseError::NotCoordinator));
        assert_eq!(c.committed("g", "t", 0), None);
    }

    #[test]
    fn names_too_long_for_an_offsets_record_are_refused() {
        let (_dir, c) = coordinator();
        let long = "x".repeat(MAX_NAME_BYTES + 1);
        assert_eq!(
            commit_one(&c, &long, "t"),
            Err(ResponseError::InvalidGroupId)
        );
        assert_eq!(
            commit_one(&c, "g", &long),
            Ok(vec![Err(ResponseError::UnknownTopicOrPartition)])
        );
        assert!(c.list().is_empty());
    }

    /// A deletion or rebalance waits for a commit whose checks passed to be
    /// stored, rather than slipping in between.
    #[test]
    fn a_commit_holds_the_groups_lock_until_stored() {
        let (_dir, c) = coordinator();
        let offsets = lock(&c.offsets);
        std::thread::scope(|scope| {
            let committing = scope.spawn(|| commit_one(&c, "g", "t"));
            let deadline = Instant::now() + Duration::from_secs(10);
            while c.groups.try_lock().is_ok() {
                assert!(Instant::now() < deadline, "commit never took the lock");
                std::thread::yield_now();
            }
            // Still held while the commit waits for the offsets store.
            std::thread::sleep(Duration::from_millis(50));
            assert!(c.groups.try_lock().is_err());
            drop(offsets);
            assert_eq!(committing.join().expect("commit"), Ok(vec![Ok(())]));
        });
    }
}
