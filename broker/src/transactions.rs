//! The transaction coordinator: transactional ids, their producer ids and
//! epochs, and the two-phase end of every transaction.
//!
//! A transaction starts when its producer adds a first partition
//! (AddPartitionsToTxn) or group (AddOffsetsToTxn); the offsets it commits
//! for a group (TxnOffsetCommit) wait in the transaction. Ending it (EndTxn,
//! a new InitProducerId for the same id, or the transaction's timeout)
//! first saves the decision (prepare-commit or prepare-abort), then writes
//! a marker into every partition of the transaction and, on commit, stores
//! its offsets, and then saves the transaction as complete. A transaction
//! left prepared (by a crash, or a failed write) is completed by the next
//! [`Transactions::tick`], the first of which runs when the broker starts:
//! a transaction commits or aborts everywhere, never in part.
//!
//! An abort the coordinator decides on its own (timeout, or a new producer
//! instance taking over the id) bumps the epoch first, so that the old
//! producer's writes are refused from then on (it is fenced).
//!
//! Every transactional id's state lives in one file, rewritten atomically
//! at each change: transactions change at the rate of commits, and a
//! broker holds few transactional ids.

use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use kafka_protocol::error::ResponseError;
use tracing::{debug, info, warn};

use crate::codec::{frame, put_str, Reader};
use crate::error::BrokerError;
use crate::group::offsets::Committed;
use crate::group::OffsetCommit;
use crate::log::batch::Marker;
use crate::log::replace_file;
use crate::producer_ids::ProducerIds;
use crate::topics::lock;

/// The file in the data directory holding every transactional id's state.
const FILE: &str = "transactions";

/// The layout of that file, its first byte.
const FORMAT_VERSION: u8 = 1;

/// The longest transaction timeout a producer may ask for (Kafka's
/// `transaction.max.timeout.ms` default, 15 minutes).
pub(crate) const MAX_TIMEOUT_MS: i32 = 15 * 60 * 1000;

/// Where a transactional id's current transaction is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// No transaction open.
    Empty,
    /// Partitions or groups added; writes and offsets accepted.
    Ongoing,
    /// Decided; markers being written.
    Prepare(Marker),
}

/// A transactional id's producer and its current transaction.
#[derive(Debug, Clone)]
struct Transaction {
    producer_id: i64,
    epoch: i16,
    /// The epoch before the last bump a producer asked for by its current
    /// epoch (KIP-360), or -1: a producer retrying that request with it
    /// gets the current epoch again instead of being fenced. A new
    /// producer instance (which names no epoch) resets it.
    last_epoch: i16,
    timeout_ms: i32,
    phase: Phase,
    partitions: BTreeSet<(String, i32)>,
    /// Offsets committed in the transaction, by group; a group added
    /// without offsets yet has none.
    offsets: BTreeMap<String, BTreeMap<(String, i32), Committed>>,
    /// When the open transaction started, for its timeout; with none open,
    /// when the id was last used, for its expiry. Not saved: after a
    /// restart both start again.
    started_ms: i64,
    /// How the last transaction ended, which answers an EndTxn retried
    /// after it completed; cleared by InitProducerId.
    last_marker: Option<Marker>,
    /// Markers are being written for it right now (not saved).
    completing: bool,
}

impl Transaction {
    fn new(producer_id: i64, timeout_ms: i32) -> Self {
        Self {
            producer_id,
            epoch: 0,
            last_epoch: -1,
            timeout_ms,
            phase: Phase::Empty,
            partitions: BTreeSet::new(),
            offsets: BTreeMap::new(),
            started_ms: 0,
            last_marker: None,
            completing: false,
        }
    }

    /// Checks that a request comes from the transaction's current producer:
    /// another producer id is unknown here, an older epoch is fenced.
    fn check_producer(&self, producer_id: i64, epoch: i16) -> Result<(), ResponseError> {
        if producer_id != self.producer_id {
            return Err(ResponseError::InvalidProducerIdMapping);
        }
        if epoch != self.epoch {
            return Err(ResponseError::ProducerFenced);
        }
        Ok(())
    }

    /// Opens the transaction, if it is not open yet, for adding to it.
    fn open(&mut self, now_ms: i64) -> Result<(), ResponseError> {
        if self.completing {
            return Err(ResponseError::ConcurrentTransactions);
        }
        match self.phase {
            Phase::Empty => {
                self.phase = Phase::Ongoing;
                self.started_ms = now_ms;
                Ok(())
            }
            Phase::Ongoing => Ok(()),
            Phase::Prepare(_) => Err(ResponseError::ConcurrentTransactions),
        }
    }

    /// Decides to end the ongoing transaction with `marker`, first fencing
    /// the producer's epoch (as Kafka's `prepareFenceProducerEpoch`) if
    /// `fence`; returns what completing it writes.
    fn prepare(&mut self, marker: Marker, fence: bool) -> Decided {
        if fence && self.epoch < i16::MAX {
            // The fenced epoch is never handed out again (Kafka's
            // `prepareFenceProducerEpoch`): no retry may claim it.
            self.last_epoch = -1;
            self.epoch += 1;
        }
        self.phase = Phase::Prepare(marker);
        self.decided(marker)
    }

    /// What completing the transaction, decided as `marker`, writes; the
    /// transaction is marked as being completed.
    fn decided(&mut self, marker: Marker) -> Decided {
        self.completing = true;
        Decided {
            producer_id: self.producer_id,
            epoch: self.epoch,
            marker,
            partitions: self.partitions.clone(),
            offsets: self.offsets.clone(),
        }
    }
}

/// A decided transaction: what completing it writes.
struct Decided {
    producer_id: i64,
    /// The epoch the markers are written at.
    epoch: i16,
    marker: Marker,
    /// The partitions that get a marker.
    partitions: BTreeSet<(String, i32)>,
    /// The offsets stored if it commits, by group.
    offsets: BTreeMap<String, BTreeMap<(String, i32), Committed>>,
}

/// What completing a transaction does outside the coordinator: the
/// broker writes markers into its partitions and stores its offsets. Both
/// must be on disk when they return: the transaction is then saved as
/// complete, and nothing would write them again.
pub(crate) trait Completion {
    /// Ends `producer_id`'s open transaction in `topic`-`partition` (if it
    /// has one there) with `marker`, written at `epoch`.
    fn write_marker(
        &self,
        topic: &str,
        partition: i32,
        producer_id: i64,
        epoch: i16,
        marker: Marker,
    ) -> io::Result<()>;

    /// Stores the offsets a committed transaction carried for `group`.
    fn commit_offsets(&self, group: &str, offsets: Vec<OffsetCommit>) -> io::Result<()>;
}

/// The transaction coordinator of the broker.
#[derive(Debug)]
pub(crate) struct Transactions {
    path: PathBuf,
    by_id: Mutex<BTreeMap<String, Transaction>>,
    /// How long an unused transactional id is kept (Kafka's
    /// `transactional.id.expiration.ms`).
    expiration_ms: i64,
}

/// Every transactional id's state, by id.
type ById = BTreeMap<String, Transaction>;

impl Transactions {
    /// Loads the transactional ids saved in `data_dir`; an open
    /// transaction's timeout, and each id's expiry, start again at
    /// `now_ms`. An id unused for `expiration_ms` is forgotten.
    pub(crate) fn open(
        data_dir: &Path,
        now_ms: i64,
        expiration_ms: i64,
    ) -> Result<Self, BrokerError> {
        let path = data_dir.join(FILE);
        let mut by_id = match std::fs::read(&path) {
            Ok(bytes) => decode(&bytes).ok_or_else(|| BrokerError::Corrupt {
                path: path.clone(),
                reason: "the transactions file does not decode".to_owned(),
            })?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => BTreeMap::new(),
            Err(e) => return Err(BrokerError::storage(path, e)),
        };
        for transaction in by_id.values_mut() {
            transaction.started_ms = now_ms;
        }
        Ok(Self {
            path,
            by_id: Mutex::new(by_id),
            expiration_ms,
        })
    }

    /// The largest producer id a transactional id holds.
    pub(crate) fn max_producer_id(&self) -> Option<i64> {
        lock(&self.by_id).values().map(|t| t.producer_id).max()
    }

    /// Changes `id`'s transaction as `change` says; the change takes
    /// effect only once saved (on failure, nothing changed). `change` works
    /// on a copy: what it did before an error is dropped.
    fn change<R>(
        &self,
        by_id: &mut ById,
        id: &str,
        change: impl FnOnce(&mut Transaction) -> Result<R, ResponseError>,
    ) -> Result<R, ResponseError> {
        let mut next = by_id
            .get(id)
            .ok_or(ResponseError::InvalidProducerIdMapping)?
            .clone();
        let result = change(&mut next)?;
        self.put(by_id, id, next)?;
        Ok(result)
    }

    /// Saves `id` as `transaction`; on failure nothing changed.
    fn put(
        &self,
        by_id: &mut ById,
        id: &str,
        transaction: Transaction,
    ) -> Result<(), ResponseError> {
        let previous = by_id.insert(id.to_owned(), transaction);
        let bytes = encode(by_id);
        let Err(e) = replace_file(&self.path, &bytes) else {
            return Ok(());
        };
        warn!(error = %e, "saving transactions failed");
        // Failing after the new file took the old one's place (forcing the
        // directory to disk), the change is what the file holds: memory
        // keeps it, and the caller is told it may not have happened.
        let replaced = std::fs::read(&self.path).is_ok_and(|on_disk| on_disk == bytes);
        if !replaced {
            match previous {
                Some(previous) => by_id.insert(id.to_owned(), previous),
                None => by_id.remove(id),
            };
        }
        Err(ResponseError::CoordinatorNotAvailable)
    }

    /// InitProducerId for transactional id `id`: a new producer id for a
    /// new id; for a known one, its next epoch, after aborting the
    /// transaction the previous producer instance left open (Kafka's
    /// `handleInitProducerId`). A producer that names its current id and
    /// epoch (`expected`, KIP-360) must be the current one, or be retrying
    /// the call that made it current. Returns the producer id and epoch.
    pub(crate) fn init_producer(
        &self,
        id: &str,
        timeout_ms: i32,
        expected: Option<(i64, i16)>,
        ids: &ProducerIds,
        done: &dyn Completion,
        now_ms: i64,
    ) -> Result<(i64, i16), ResponseError> {
        if id.is_empty() {
            return Err(ResponseError::InvalidRequest);
        }
        if !(1..=MAX_TIMEOUT_MS).contains(&timeout_ms) {
            return Err(ResponseError::InvalidTransactionTimeout);
        }
        let next_id = || {
            ids.next().map_err(|e| {
                warn!(error = %e, "cannot reserve producer ids");
                ResponseError::CoordinatorNotAvailable
            })
        };
        let expected = expected.filter(|&(producer_id, _)| producer_id >= 0);
        let decided = {
            let mut by_id = lock(&self.by_id);
            let Some(transaction) = by_id.get(id) else {
                let mut transaction = Transaction::new(next_id()?, timeout_ms);
                transaction.started_ms = now_ms;
                let answer = (transaction.producer_id, transaction.epoch);
                self.put(&mut by_id, id, transaction)?;
                return Ok(answer);
            };
            if let Some((producer_id, _)) = expected {
                if producer_id != transaction.producer_id {
                    return Err(ResponseError::ProducerFenced);
                }
            }
            if transaction.completing {
                return Err(ResponseError::ConcurrentTransactions);
            }
            match transaction.phase {
                Phase::Prepare(_) => return Err(ResponseError::ConcurrentTransactions),
                Phase::Ongoing => {
                    Some(self.change(&mut by_id, id, |t| Ok(t.prepare(Marker::Abort, true)))?)
                }
                Phase::Empty => None,
            }
        };
        if let Some(decided) = decided {
            // Decided: a failed write is finished by a later tick, and the
            // producer retries meanwhile.
            self.finish(id, decided, done, now_ms)
                .map_err(|_| ResponseError::ConcurrentTransactions)?;
        }
        let mut by_id = lock(&self.by_id);
        let answer = self.change(&mut by_id, id, |t| {
            if t.phase != Phase::Empty || t.completing {
                return Err(ResponseError::ConcurrentTransactions);
            }
            match expected {
                Some((_, epoch)) if epoch == t.epoch => {}
                // A retry of the call that made the current epoch.
                Some((_, epoch)) if t.last_epoch >= 0 && epoch == t.last_epoch => {
                    return Ok((t.producer_id, t.epoch));
                }
                Some(_) => return Err(ResponseError::ProducerFenced),
                None => {}
            }
            if t.epoch >= i16::MAX - 1 {
                // The epochs are used up: carry on under a new id.
                t.producer_id = next_id()?;
                t.epoch = 0;
                t.last_epoch = -1;
            } else {
                t.last_epoch = if expected.is_some() { t.epoch } else { -1 };
                t.epoch += 1;
            }
            t.timeout_ms = timeout_ms;
            t.last_marker = None;
            t.started_ms = now_ms;
            Ok((t.producer_id, t.epoch))
        })?;
        debug!(
            transactional_id = id,
            producer_id = answer.0,
            epoch = answer.1,
            "transactional producer initialized"
        );
        Ok(answer)
    }

    /// AddPartitionsToTxn: adds `partitions` to the producer's transaction,
    /// opening it if needed.
    pub(crate) fn add_partitions(
        &self,
        id: &str,
        producer_id: i64,
        epoch: i16,
        partitions: &[(String, i32)],
        now_ms: i64,
    ) -> Result<(), ResponseError> {
        let mut by_id = lock(&self.by_id);
        self.change(&mut by_id, id, |t| {
            t.check_producer(producer_id, epoch)?;
            t.open(now_ms)?;
            t.partitions.extend(partitions.iter().cloned());
            Ok(())
        })
    }

    /// AddOffsetsToTxn: adds `group` to the producer's transaction, whose
    /// offsets it may then commit.
    pub(crate) fn add_group(
        &self,
        id: &str,
        producer_id: i64,
        epoch: i16,
        group: &str,
        now_ms: i64,
    ) -> Result<(), ResponseError> {
        let mut by_id = lock(&self.by_id);
        self.change(&mut by_id, id, |t| {
            t.check_producer(producer_id, epoch)?;
            t.open(now_ms)?;
            t.offsets.entry(group.to_owned()).or_default();
            Ok(())
        })
    }

    /// TxnOffsetCommit: holds `commits` for `group` in the transaction
    /// until it ends (the caller checked the group membership, and the
    /// names and metadata against the offset store's limits). Fenced
    /// epochs get INVALID_PRODUCER_EPOCH, as the offsets partition of a
    /// Kafka group coordinator answers them.
    pub(crate) fn commit_offsets(
        &self,
        id: &str,
        group: &str,
        producer_id: i64,
        epoch: i16,
        commits: Vec<OffsetCommit>,
    ) -> Result<(), ResponseError> {
        let mut by_id = lock(&self.by_id);
        self.change(&mut by_id, id, |t| {
            t.check_producer(producer_id, epoch).map_err(|e| match e {
                ResponseError::ProducerFenced => ResponseError::InvalidProducerEpoch,
                other => other,
            })?;
            if t.phase != Phase::Ongoing || t.completing {
                return Err(ResponseError::InvalidTxnState);
            }
            let offsets = t
                .offsets
                .get_mut(group)
                .ok_or(ResponseError::InvalidTxnState)?;
            for commit in commits {
                offsets.insert((commit.topic, commit.partition), commit.committed);
            }
            Ok(())
        })
    }

    /// Whether a transaction holds offsets of `group` for `topic`-`partition`
    /// that it has not committed yet (a stable read must wait for them).
    pub(crate) fn has_pending_offset(&self, group: &str, topic: &str, partition: i32) -> bool {
        let key = (topic.to_owned(), partition);
        lock(&self.by_id).values().any(|t| {
            t.phase != Phase::Empty
                && t.offsets
                    .get(group)
                    .is_some_and(|offsets| offsets.contains_key(&key))
        })
    }

    /// EndTxn: commits or aborts the producer's transaction. Asked again
    /// after it completed the same way, it succeeds again.
    pub(crate) fn end(
        &self,
        id: &str,
        producer_id: i64,
        epoch: i16,
        commit: bool,
        done: &dyn Completion,
        now_ms: i64,
    ) -> Result<(), ResponseError> {
        let marker = if commit {
            Marker::Commit
        } else {
            Marker::Abort
        };
        let decided = {
            let mut by_id = lock(&self.by_id);
            self.change(&mut by_id, id, |t| {
                t.check_producer(producer_id, epoch)?;
                match t.phase {
                    _ if t.completing => Err(ResponseError::ConcurrentTransactions),
                    Phase::Ongoing => Ok(Some(t.prepare(marker, false))),
                    Phase::Empty if t.last_marker == Some(marker) => Ok(None),
                    Phase::Prepare(decided) if decided == marker => {
                        Err(ResponseError::ConcurrentTransactions)
                    }
                    Phase::Empty | Phase::Prepare(_) => Err(ResponseError::InvalidTxnState),
                }
            })?
        };
        // Once the decision is saved the transaction ends that way (a write
        // that fails now is finished by a later tick), so the producer is
        // told it did, as Kafka answers once the decision is in its log.
        if let Some(decided) = decided {
            if let Err(e) = self.finish(id, decided, done, now_ms) {
                debug!(transactional_id = id, error = ?e, "transaction decided; completed later");
            }
        }
        Ok(())
    }

    /// Whether `producer_id` at `epoch` may write transactional records to
    /// `topic`-`partition` now: its transaction is ongoing and holds the
    /// partition (else INVALID_TXN_STATE, or INVALID_PRODUCER_EPOCH for an
    /// epoch the coordinator fenced). Asked with the partition's log
    /// locked, so that a transaction cannot end between the check and the
    /// write (ending it writes its markers after the decision, under that
    /// lock).
    pub(crate) fn allows(
        &self,
        producer_id: i64,
        epoch: i16,
        topic: &str,
        partition: i32,
    ) -> Result<(), ResponseError> {
        let by_id = lock(&self.by_id);
        let Some(transaction) = by_id.values().find(|t| t.producer_id == producer_id) else {
            return Err(ResponseError::InvalidTxnState);
        };
        if epoch < transaction.epoch {
            return Err(ResponseError::InvalidProducerEpoch);
        }
        let open = transaction.epoch == epoch
            && transaction.phase == Phase::Ongoing
            && transaction
                .partitions
                .contains(&(topic.to_owned(), partition));
        if open {
            Ok(())
        } else {
            Err(ResponseError::InvalidTxnState)
        }
    }

    /// How a transaction found open in `topic`-`partition` when the broker
    /// starts must end, if the coordinator does not hold it open: with the
    /// commit it was saved as completing at that epoch (the marker did
    /// not reach the disk), or else with an abort. `None` while the
    /// coordinator holds it open (or prepared: the next tick ends it).
    pub(crate) fn resolve(
        &self,
        producer_id: i64,
        epoch: i16,
        topic: &str,
        partition: i32,
    ) -> Option<Marker> {
        let by_id = lock(&self.by_id);
        let Some(transaction) = by_id.values().find(|t| t.producer_id == producer_id) else {
            return Some(Marker::Abort);
        };
        let holds = transaction.phase != Phase::Empty
            && transaction
                .partitions
                .contains(&(topic.to_owned(), partition));
        if holds {
            return None;
        }
        let committed =
            transaction.epoch == epoch && transaction.last_marker == Some(Marker::Commit);
        Some(if committed {
            Marker::Commit
        } else {
            Marker::Abort
        })
    }

    /// Finishes prepared transactions (left by a crash or a failed write),
    /// aborts those open longer than their timeout, and forgets the ids
    /// unused for longer than their expiry.
    pub(crate) fn tick(&self, done: &dyn Completion, now_ms: i64) {
        self.expire(now_ms);
        let due: Vec<String> = lock(&self.by_id)
            .iter()
            .filter(|(_, t)| !t.completing)
            .filter(|(_, t)| match t.phase {
                Phase::Prepare(_) => true,
                Phase::Ongoing => now_ms.saturating_sub(t.started_ms) > i64::from(t.timeout_ms),
                Phase::Empty => false,
            })
            .map(|(id, _)| id.clone())
            .collect();
        for id in due {
            let decided = {
                let mut by_id = lock(&self.by_id);
                self.change(&mut by_id, &id, |t| match t.phase {
                    _ if t.completing => Err(ResponseError::ConcurrentTransactions),
                    Phase::Prepare(marker) => Ok(t.decided(marker)),
                    Phase::Ongoing => {
                        info!(transactional_id = %id, "aborting a transaction past its timeout");
                        Ok(t.prepare(Marker::Abort, true))
                    }
                    Phase::Empty => Err(ResponseError::InvalidTxnState),
                })
            };
            let finished = decided.and_then(|decided| self.finish(&id, decided, done, now_ms));
            if let Err(e) = finished {
                debug!(transactional_id = %id, error = ?e, "transaction not completed now; retried later");
            }
        }
    }

    /// Forgets the transactional ids with no transaction open that were
    /// unused for the expiry, as Kafka expires them: a producer using one
    /// again starts afresh with a new producer id.
    fn expire(&self, now_ms: i64) {
        let mut by_id = lock(&self.by_id);
        let idle = |t: &Transaction| {
            t.phase == Phase::Empty
                && !t.completing
                && now_ms.saturating_sub(t.started_ms) > self.expiration_ms
        };
        if !by_id.values().any(idle) {
            return;
        }
        let kept: ById = by_id
            .iter()
            .filter(|(_, t)| !idle(t))
            .map(|(id, t)| (id.clone(), t.clone()))
            .collect();
        match replace_file(&self.path, &encode(&kept)) {
            Ok(()) => {
                info!(
                    expired = by_id.len() - kept.len(),
                    "expired transactional ids"
                );
                *by_id = kept;
            }
            Err(e) => warn!(error = %e, "saving transactions failed; expiry retried later"),
        }
    }

    /// Writes a decided transaction's markers and (on commit) offsets
    /// without holding the coordinator's lock (writing a marker locks a
    /// partition log, which a produce holds while it asks
    /// [`allows`](Self::allows)), then saves it complete. On a failed
    /// write it stays decided, and the next tick tries again.
    fn finish(
        &self,
        id: &str,
        decided: Decided,
        done: &dyn Completion,
        now_ms: i64,
    ) -> Result<(), ResponseError> {
        let marker = decided.marker;
        let written = write_outcome(done, decided);
        let mut by_id = lock(&self.by_id);
        if let Err(e) = written {
            warn!(transactional_id = id, error = %e, "writing transaction markers failed");
            if let Some(transaction) = by_id.get_mut(id) {
                transaction.completing = false;
            }
            return Err(ResponseError::KafkaStorageError);
        }
        let completed = self.change(&mut by_id, id, |t| {
            t.phase = Phase::Empty;
            t.partitions.clear();
            t.offsets.clear();
            t.last_marker = Some(marker);
            t.started_ms = now_ms;
            t.completing = false;
            Ok(())
        });
        if completed.is_err() {
            // Still decided in the file: the next tick completes it again
            // (markers already written are skipped).
            if let Some(transaction) = by_id.get_mut(id) {
                transaction.completing = false;
            }
        } else {
            debug!(transactional_id = id, ?marker, "transaction completed");
        }
        completed
    }
}

/// Writes a decided transaction's markers and, on commit, its offsets.
fn write_outcome(done: &dyn Completion, decided: Decided) -> io::Result<()> {
    for (topic, partition) in &decided.partitions {
        done.write_marker(
            topic,
            *partition,
            decided.producer_id,
            decided.epoch,
            decided.marker,
        )?;
    }
    if decided.marker == Marker::Commit {
        for (group, offsets) in decided.offsets {
            let commits = offsets
                .into_iter()
                .map(|((topic, partition), committed)| OffsetCommit {
                    topic,
                    partition,
                    committed,
                })
                .collect();
            done.commit_offsets(&group, commits)?;
        }
    }
    Ok(())
}

/// The transactions file: one checksummed frame holding every id.
fn encode(by_id: &ById) -> Vec<u8> {
    let mut payload = vec![FORMAT_VERSION];
    payload.extend_from_slice(&(by_id.len() as u32).to_be_bytes());
    for (id, t) in by_id {
        put_str(&mut payload, id);
        payload.extend_from_slice(&t.producer_id.to_be_bytes());
        payload.extend_from_slice(&u32::from(t.epoch as u16).to_be_bytes());
        payload.extend_from_slice(&u32::from(t.last_epoch as u16).to_be_bytes());
        payload.extend_from_slice(&t.timeout_ms.to_be_bytes());
        payload.push(match t.phase {
            Phase::Empty => 0,
            Phase::Ongoing => 1,
            Phase::Prepare(Marker::Abort) => 2,
            Phase::Prepare(Marker::Commit) => 3,
        });
        payload.push(match t.last_marker {
            None => 0,
            Some(Marker::Abort) => 1,
            Some(Marker::Commit) => 2,
        });
        payload.extend_from_slice(&(t.partitions.len() as u32).to_be_bytes());
        for (topic, partition) in &t.partitions {
            put_str(&mut payload, topic);
            payload.extend_from_slice(&partition.to_be_bytes());
        }
        payload.extend_from_slice(&(t.offsets.len() as u32).to_be_bytes());
        for (group, offsets) in &t.offsets {
            put_str(&mut payload, group);
            payload.extend_from_slice(&(offsets.len() as u32).to_be_bytes());
            for ((topic, partition), committed) in offsets {
                put_str(&mut payload, topic);
                payload.extend_from_slice(&partition.to_be_bytes());
                committed.put(&mut payload);
            }
        }
    }
    let mut out = Vec::new();
    frame(&mut out, &payload);
    out
}

/// Reads a transactions file; `None` unless it decodes exactly.
fn decode(bytes: &[u8]) -> Option<ById> {
    let mut framed = Reader::new(bytes);
    let len = framed.u32()? as usize;
    let crc = framed.u32()?;
    let payload = framed.take(len)?;
    framed.end()?;
    if crc32c::crc32c(payload) != crc {
        return None;
    }
    let mut fields = Reader::new(payload);
    if fields.u8()? != FORMAT_VERSION {
        return None;
    }
    let mut by_id = BTreeMap::new();
    for _ in 0..fields.u32()? {
        let id = fields.string()?;
        let producer_id = fields.i64()?;
        let epoch = fields.u32()? as u16 as i16;
        let last_epoch = fields.u32()? as u16 as i16;
        let timeout_ms = fields.u32()? as i32;
        let phase = match fields.u8()? {
            0 => Phase::Empty,
            1 => Phase::Ongoing,
            2 => Phase::Prepare(Marker::Abort),
            3 => Phase::Prepare(Marker::Commit),
            _ => return None,
        };
        let last_marker = match fields.u8()? {
            0 => None,
            1 => Some(Marker::Abort),
            2 => Some(Marker::Commit),
            _ => return None,
        };
        let mut partitions = BTreeSet::new();
        for _ in 0..fields.u32()? {
            partitions.insert((fields.string()?, fields.u32()? as i32));
        }
        let mut offsets = BTreeMap::new();
        for _ in 0..fields.u32()? {
            let group = fields.string()?;
            let mut group_offsets = BTreeMap::new();
            for _ in 0..fields.u32()? {
                let topic = fields.string()?;
                let partition = fields.u32()? as i32;
                group_offsets.insert((topic, partition), Committed::read(&mut fields)?);
            }
            offsets.insert(group, group_offsets);
        }
        let transaction = Transaction {
            producer_id,
            epoch,
            last_epoch,
            timeout_ms,
            phase,
            partitions,
            offsets,
            started_ms: 0,
            last_marker,
            completing: false,
        };
        by_id.insert(id, transaction);
    }
    fields.end()?;
    Some(by_id)
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use super::*;

    /// A marker written: topic, partition, producer id, epoch, marker.
    type Written = (String, i32, i64, i16, Marker);
    /// Offsets stored for a group: topic, partition, offset.
    type Stored = (String, Vec<(String, i32, i64)>);

    /// Records what completing transactions did.
    #[derive(Default)]
    struct Recorded {
        markers: RefCell<Vec<Written>>,
        offsets: RefCell<Vec<Stored>>,
        fail: bool,
    }

    impl Completion for Recorded {
        fn write_marker(
            &self,
            topic: &str,
            partition: i32,
            producer_id: i64,
            epoch: i16,
            marker: Marker,
        ) -> io::Result<()> {
            if self.fail {
                return Err(io::Error::other("disk gone"));
            }
            self.markers.borrow_mut().push((
                topic.to_owned(),
                partition,
                producer_id,
                epoch,
                marker,
            ));
            Ok(())
        }

        fn commit_offsets(&self, group: &str, offsets: Vec<OffsetCommit>) -> io::Result<()> {
            let offsets = offsets
                .into_iter()
                .map(|o| (o.topic, o.partition, o.committed.offset))
                .collect();
            self.offsets.borrow_mut().push((group.to_owned(), offsets));
            Ok(())
        }
    }

    fn offset(topic: &str, partition: i32, offset: i64) -> OffsetCommit {
        OffsetCommit {
            topic: topic.to_owned(),
            partition,
            committed: Committed {
                offset,
                leader_epoch: -1,
                metadata: Some("m".to_owned()),
            },
        }
    }

    impl Recorded {
        /// One whose every marker write fails.
        fn failing() -> Self {
            Self {
                fail: true,
                ..Self::default()
            }
        }
    }

    /// Initializes transactional id `t` (timeout one minute); returns its
    /// producer.
    fn initialized(txns: &Transactions, ids: &ProducerIds, done: &Recorded) -> (i64, i16) {
        txns.init_producer("t", 60_000, None, ids, done, 0)
            .expect("init")
    }

    /// Initializes transactional id `t` with `timeout_ms` and opens a
    /// transaction on partition `a`-0 at time 0; returns its producer.
    fn started(
        txns: &Transactions,
        ids: &ProducerIds,
        done: &Recorded,
        timeout_ms: i32,
    ) -> (i64, i16) {
        let (pid, epoch) = txns
            .init_producer("t", timeout_ms, None, ids, done, 0)
            .expect("init");
        txns.add_partitions("t", pid, epoch, &[("a".to_owned(), 0)], 0)
            .expect("add");
        (pid, epoch)
    }

    fn fixture() -> (tempfile::TempDir, Transactions, ProducerIds) {
        let dir = tempfile::tempdir().expect("tempdir");
        let transactions = Transactions::open(dir.path(), 0, 60_000).expect("open");
        let ids = ProducerIds::open(dir.path(), None).expect("ids");
        (dir, transactions, ids)
    }

    #[test]
    fn a_committed_transaction_writes_its_markers_and_offsets() {
        let (_dir, txns, ids) = fixture();
        let done = Recorded::default();
        let (pid, epoch) = initialized(&txns, &ids, &done);
        let parts = [("a".to_owned(), 0), ("b".to_owned(), 1)];
        txns.add_partitions("t", pid, epoch, &parts, 0)
            .expect("add");
        assert_eq!(txns.allows(pid, epoch, "a", 0), Ok(()));
        assert_eq!(
            txns.allows(pid, epoch, "a", 1),
            Err(ResponseError::InvalidTxnState)
        );
        txns.add_group("t", pid, epoch, "g", 0).expect("group");
        txns.commit_offsets("t", "g", pid, epoch, vec![offset("in", 0, 42)])
            .expect("offsets");
        assert!(txns.has_pending_offset("g", "in", 0));
        assert!(!txns.has_pending_offset("g", "in", 1));
        txns.end("t", pid, epoch, true, &done, 0).expect("commit");
        assert_eq!(
            *done.markers.borrow(),
            [
                ("a".to_owned(), 0, pid, epoch, Marker::Commit),
                ("b".to_owned(), 1, pid, epoch, Marker::Commit)
            ]
        );
        assert_eq!(
            *done.offsets.borrow(),
            [("g".to_owned(), vec![("in".to_owned(), 0, 42)])]
        );
        assert_eq!(
            txns.allows(pid, epoch, "a", 0),
            Err(ResponseError::InvalidTxnState),
            "the transaction ended"
        );
        assert!(!txns.has_pending_offset("g", "in", 0), "committed");
        // A retried EndTxn succeeds; the opposite decision does not, nor
        // does a retry after the producer was initialized again.
        assert_eq!(txns.end("t", pid, epoch, true, &done, 0), Ok(()));
        assert_eq!(
            txns.end("t", pid, epoch, false, &done, 0),
            Err(ResponseError::InvalidTxnState)
        );
        let (_, next) = txns
            .init_producer("t", 60_000, Some((pid, epoch)), &ids, &done, 0)
            .expect("init");
        assert_eq!(
            txns.end("t", pid, next, true, &done, 0),
            Err(ResponseError::InvalidTxnState)
        );
    }

    #[test]
    fn an_aborted_transaction_drops_its_offsets() {
        let (_dir, txns, ids) = fixture();
        let done = Recorded::default();
        let (pid, epoch) = initialized(&txns, &ids, &done);
        txns.add_group("t", pid, epoch, "g", 0).expect("group");
        txns.commit_offsets("t", "g", pid, epoch, vec![offset("in", 0, 42)])
            .expect("offsets");
        txns.end("t", pid, epoch, false, &done, 0).expect("abort");
        assert!(done.offsets.borrow().is_empty());
    }

    /// A new instance of the producer aborts what the old one left open,
    /// at a new epoch that fences the old one.
    #[test]
    fn a_new_instance_aborts_the_open_transaction_and_fences_the_old_one() {
        let (_dir, txns, ids) = fixture();
        let done = Recorded::default();
        let (pid, epoch) = started(&txns, &ids, &done, 60_000);
        let (again, new_epoch) = txns
            .init_producer("t", 60_000, None, &ids, &done, 0)
            .expect("init");
        assert_eq!(again, pid);
        assert_eq!(
            *done.markers.borrow(),
            [("a".to_owned(), 0, pid, 1, Marker::Abort)]
        );
        assert_eq!(new_epoch, 2);
        assert_eq!(
            txns.add_partitions("t", pid, epoch, &[("a".to_owned(), 0)], 0),
            Err(ResponseError::ProducerFenced)
        );
        assert_eq!(
            txns.allows(pid, epoch, "a", 0),
            Err(ResponseError::InvalidProducerEpoch)
        );
        assert_eq!(
            txns.end("t", pid + 1, new_epoch, true, &done, 0),
            Err(ResponseError::InvalidProducerIdMapping)
        );
    }

    #[test]
    fn a_transaction_past_its_timeout_is_aborted_and_fenced() {
        let (_dir, txns, ids) = fixture();
        let done = Recorded::default();
        let (pid, epoch) = txns
            .init_producer("t", 1_000, None, &ids, &done, 0)
            .expect("init");
        txns.add_partitions("t", pid, epoch, &[("a".to_owned(), 0)], 100)
            .expect("add");
        txns.tick(&done, 1_100);
        assert!(done.markers.borrow().is_empty());
        txns.tick(&done, 1_101);
        assert_eq!(
            *done.markers.borrow(),
            [("a".to_owned(), 0, pid, 1, Marker::Abort)]
        );
        assert_eq!(
            txns.end("t", pid, epoch, true, &done, 0),
            Err(ResponseError::ProducerFenced)
        );
        // The fenced producer cannot claim the next epoch as a retry.
        assert_eq!(
            txns.init_producer("t", 1_000, Some((pid, epoch)), &ids, &done, 2_000),
            Err(ResponseError::ProducerFenced)
        );
    }

    #[test]
    fn an_open_transaction_gets_its_whole_timeout_again_after_a_restart() {
        let (dir, txns, ids) = fixture();
        let done = Recorded::default();
        let (pid, _) = started(&txns, &ids, &done, 1_000);
        drop(txns);
        let txns = Transactions::open(dir.path(), 5_000, 60_000).expect("reopen");
        txns.tick(&done, 6_000);
        assert!(done.markers.borrow().is_empty());
        txns.tick(&done, 6_001);
        assert_eq!(
            *done.markers.borrow(),
            [("a".to_owned(), 0, pid, 1, Marker::Abort)]
        );
    }

    /// A decision saved before a crash (or a failed marker write) is
    /// carried out when the coordinator next ticks, after a restart too.
    #[test]
    fn a_prepared_transaction_is_completed_after_a_restart() {
        let (dir, txns, ids) = fixture();
        let failing = Recorded::failing();
        let (pid, epoch) = started(&txns, &ids, &failing, 60_000);
        txns.add_group("t", pid, epoch, "g", 0).expect("group");
        txns.commit_offsets("t", "g", pid, epoch, vec![offset("in", 3, 7)])
            .expect("offsets");
        assert_eq!(
            txns.end("t", pid, epoch, true, &failing, 0),
            Ok(()),
            "decided: it commits, though not yet complete"
        );
        assert_eq!(
            txns.end("t", pid, epoch, true, &failing, 0),
            Err(ResponseError::ConcurrentTransactions),
            "decided, not yet complete"
        );
        drop(txns);

        let txns = Transactions::open(dir.path(), 0, 60_000).expect("reopen");
        let done = Recorded::default();
        txns.tick(&done, 0);
        assert_eq!(
            *done.markers.borrow(),
            [("a".to_owned(), 0, pid, epoch, Marker::Commit)]
        );
        assert_eq!(
            *done.offsets.borrow(),
            [("g".to_owned(), vec![("in".to_owned(), 3, 7)])]
        );
        assert_eq!(txns.end("t", pid, epoch, true, &done, 0), Ok(()));
        assert_eq!(txns.max_producer_id(), Some(pid));
    }

    /// KIP-360: a producer naming its current epoch gets the next one; a
    /// retry of that call (naming the previous one) gets the same answer;
    /// once a new instance took over, the old epoch is fenced.
    #[test]
    fn a_producer_naming_its_epoch_is_bumped_retried_or_fenced() {
        let (_dir, txns, ids) = fixture();
        let done = Recorded::default();
        let (pid, epoch) = initialized(&txns, &ids, &done);
        let bump = |expected| txns.init_producer("t", 60_000, Some(expected), &ids, &done, 0);
        assert_eq!(bump((pid, epoch)), Ok((pid, epoch + 1)));
        assert_eq!(bump((pid, epoch)), Ok((pid, epoch + 1)), "a retry");
        assert_eq!(
            bump((pid + 1, epoch + 1)),
            Err(ResponseError::ProducerFenced)
        );
        // A new instance names no epoch.
        assert_eq!(
            txns.init_producer("t", 60_000, None, &ids, &done, 0),
            Ok((pid, epoch + 2))
        );
        assert_eq!(bump((pid, epoch + 1)), Err(ResponseError::ProducerFenced));
    }

    /// A change that cannot be saved does not happen: nothing is held
    /// in memory that the file would not bring back.
    #[test]
    fn a_change_that_cannot_be_saved_is_not_made() {
        let (dir, txns, ids) = fixture();
        let done = Recorded::default();
        let (pid, epoch) = initialized(&txns, &ids, &done);
        // Saving writes `transactions.tmp` first: a directory there fails it.
        let blocker = dir.path().join("transactions.tmp");
        std::fs::create_dir(&blocker).expect("blocker");
        let partition = [("a".to_owned(), 0)];
        assert_eq!(
            txns.add_partitions("t", pid, epoch, &partition, 0),
            Err(ResponseError::CoordinatorNotAvailable)
        );
        assert_eq!(
            txns.allows(pid, epoch, "a", 0),
            Err(ResponseError::InvalidTxnState)
        );
        std::fs::remove_dir(&blocker).expect("remove blocker");
        txns.add_partitions("t", pid, epoch, &partition, 0)
            .expect("add");
        assert_eq!(txns.allows(pid, epoch, "a", 0), Ok(()));
    }

    /// A transaction found open in a partition at startup ends as the
    /// coordinator decided it: still open there, not at all; committed at
    /// that epoch, with a commit; anything else with an abort.
    #[test]
    fn open_transactions_found_at_startup_are_resolved() {
        let (_dir, txns, ids) = fixture();
        let done = Recorded::default();
        assert_eq!(
            txns.resolve(99, 0, "a", 0),
            Some(Marker::Abort),
            "unknown producer"
        );
        let (pid, epoch) = started(&txns, &ids, &done, 60_000);
        assert_eq!(txns.resolve(pid, epoch, "a", 0), None);
        assert_eq!(txns.resolve(pid, epoch, "b", 0), Some(Marker::Abort));
        txns.end("t", pid, epoch, true, &done, 0).expect("commit");
        assert_eq!(txns.resolve(pid, epoch, "a", 0), Some(Marker::Commit));
        assert_eq!(txns.resolve(pid, epoch - 1, "a", 0), Some(Marker::Abort));
    }

    #[test]
    fn an_end_that_contradicts_a_decision_is_refused() {
        let (_dir, txns, ids) = fixture();
        let failing = Recorded::failing();
        let (pid, epoch) = started(&txns, &ids, &failing, 60_000);
        assert_eq!(txns.end("t", pid, epoch, true, &failing, 0), Ok(()));
        assert_eq!(
            txns.end("t", pid, epoch, false, &failing, 0),
            Err(ResponseError::InvalidTxnState)
        );
    }

    /// An id unused for longer than the expiry is forgotten (and the
    /// file rewritten without it); one with a transaction open is kept.
    #[test]
    fn unused_transactional_ids_expire() {
        let (dir, txns, ids) = fixture();
        let done = Recorded::default();
        let (pid, _) = initialized(&txns, &ids, &done);
        let (other, epoch) = txns
            .init_producer("open", 60_000, None, &ids, &done, 0)
            .expect("init");
        txns.add_partitions("open", other, epoch, &[("a".to_owned(), 0)], 59_000)
            .expect("add");
        txns.tick(&done, 60_000);
        assert_eq!(txns.max_producer_id(), Some(other));
        txns.tick(&done, 60_001);
        assert_eq!(
            txns.end("t", pid, 0, true, &done, 60_001),
            Err(ResponseError::InvalidProducerIdMapping),
            "forgotten"
        );
        let reopened = Transactions::open(dir.path(), 60_001, 60_000).expect("reopen");
        assert_eq!(reopened.max_producer_id(), Some(other));
        assert_eq!(
            reopened.end("t", pid, 0, true, &done, 60_001),
            Err(ResponseError::InvalidProducerIdMapping)
        );
    }

    #[test]
    fn requests_are_checked_against_the_transaction() {
        let (_dir, txns, ids) = fixture();
        let done = Recorded::default();
        assert_eq!(
            txns.init_producer("", 60_000, None, &ids, &done, 0),
            Err(ResponseError::InvalidRequest)
        );
        assert_eq!(
            txns.init_producer("t", MAX_TIMEOUT_MS + 1, None, &ids, &done, 0),
            Err(ResponseError::InvalidTransactionTimeout)
        );
        assert_eq!(
            txns.add_group("unknown", 0, 0, "g", 0),
            Err(ResponseError::InvalidProducerIdMapping)
        );
        let (pid, epoch) = initialized(&txns, &ids, &done);
        assert_eq!(
            txns.end("t", pid, epoch, true, &done, 0),
            Err(ResponseError::InvalidTxnState),
            "nothing to end"
        );
        assert_eq!(
            txns.commit_offsets("t", "g", pid, epoch, vec![offset("in", 0, 1)]),
            Err(ResponseError::InvalidTxnState),
            "the group was not added"
        );
        assert_eq!(
            txns.commit_offsets("t", "g", pid, epoch + 1, vec![offset("in", 0, 1)]),
            Err(ResponseError::InvalidProducerEpoch)
        );
    }
}
