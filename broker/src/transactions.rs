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
use crate::group::offsets::{Committed, MAX_METADATA_BYTES};
use crate::group::OffsetCommit;
use crate::log::batch::Marker;
use crate::log::replace_file;
use crate::producer_ids::ProducerIds;
use crate::topics::lock;

/// The file in the data directory holding every transactional id's state.
const FILE: &str = "transactions";

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

#[derive(Debug, Clone)]
struct Transaction {
    producer_id: i64,
    epoch: i16,
    timeout_ms: i32,
    phase: Phase,
    partitions: BTreeSet<(String, i32)>,
    /// Offsets committed in the transaction, by group; a group added
    /// without offsets yet has none.
    offsets: BTreeMap<String, BTreeMap<(String, i32), Committed>>,
    /// When the transaction started, for its timeout (not saved: after a
    /// restart an open transaction gets its whole timeout again).
    started_ms: i64,
    /// How the last transaction ended, which answers an EndTxn retried
    /// after it completed.
    last_marker: Option<Marker>,
    /// Markers are being written for it right now (not saved).
    completing: bool,
}

impl Transaction {
    fn new(producer_id: i64, timeout_ms: i32) -> Self {
        Self {
            producer_id,
            epoch: 0,
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
}

/// What completing a transaction does outside the coordinator: the
/// broker writes markers into its partitions and stores its offsets.
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

/// How [`Transactions::complete`] starts.
enum Decision {
    /// Decide to end the ongoing transaction with this marker, fencing
    /// the producer's current epoch first if `fence`.
    End { marker: Marker, fence: bool },
    /// Finish a transaction already prepared.
    Resume,
}

/// The transaction coordinator of the broker.
#[derive(Debug)]
pub(crate) struct Transactions {
    path: PathBuf,
    by_id: Mutex<BTreeMap<String, Transaction>>,
}

impl Transactions {
    /// Loads the transactional ids saved in `data_dir`; an open
    /// transaction's timeout starts again at `now_ms`.
    pub(crate) fn open(data_dir: &Path, now_ms: i64) -> Result<Self, BrokerError> {
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
        })
    }

    /// The largest producer id a transactional id holds.
    pub(crate) fn max_producer_id(&self) -> Option<i64> {
        lock(&self.by_id).values().map(|t| t.producer_id).max()
    }

    fn save(&self, by_id: &BTreeMap<String, Transaction>) -> Result<(), ResponseError> {
        replace_file(&self.path, &encode(by_id)).map_err(|e| {
            warn!(error = %e, "saving transactions failed");
            ResponseError::CoordinatorNotAvailable
        })
    }

    /// InitProducerId for transactional id `id`: a new producer id for a
    /// new id; for a known one, its next epoch, after aborting the
    /// transaction the previous producer instance left open (Kafka's
    /// `handleInitProducerId`). Returns the producer id and epoch.
    pub(crate) fn init_producer(
        &self,
        id: &str,
        timeout_ms: i32,
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
        let ongoing = lock(&self.by_id)
            .get(id)
            .is_some_and(|t| t.phase == Phase::Ongoing);
        if ongoing {
            let abort = Decision::End {
                marker: Marker::Abort,
                fence: true,
            };
            self.complete(id, abort, done, now_ms)?;
        }
        let mut by_id = lock(&self.by_id);
        let next_id = || {
            ids.next().map_err(|e| {
                warn!(error = %e, "cannot reserve producer ids");
                ResponseError::CoordinatorNotAvailable
            })
        };
        let transaction = match by_id.get_mut(id) {
            None => by_id
                .entry(id.to_owned())
                .or_insert(Transaction::new(next_id()?, timeout_ms)),
            Some(transaction) if transaction.phase != Phase::Empty => {
                return Err(ResponseError::ConcurrentTransactions);
            }
            Some(transaction) => {
                if transaction.epoch >= i16::MAX - 1 {
                    // The epochs are used up: carry on under a new id.
                    transaction.producer_id = next_id()?;
                    transaction.epoch = 0;
                } else {
                    transaction.epoch += 1;
                }
                transaction.timeout_ms = timeout_ms;
                transaction
            }
        };
        let answer = (transaction.producer_id, transaction.epoch);
        self.save(&by_id)?;
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
        let transaction = by_id
            .get_mut(id)
            .ok_or(ResponseError::InvalidProducerIdMapping)?;
        transaction.check_producer(producer_id, epoch)?;
        let known = transaction.phase == Phase::Ongoing
            && partitions
                .iter()
                .all(|partition| transaction.partitions.contains(partition));
        if known {
            return Ok(());
        }
        transaction.open(now_ms)?;
        transaction.partitions.extend(partitions.iter().cloned());
        self.save(&by_id)
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
        let transaction = by_id
            .get_mut(id)
            .ok_or(ResponseError::InvalidProducerIdMapping)?;
        transaction.check_producer(producer_id, epoch)?;
        if transaction.phase == Phase::Ongoing && transaction.offsets.contains_key(group) {
            return Ok(());
        }
        transaction.open(now_ms)?;
        transaction.offsets.entry(group.to_owned()).or_default();
        self.save(&by_id)
    }

    /// TxnOffsetCommit: holds `commits` for `group` in the transaction
    /// until it ends. Returns one result per offset.
    pub(crate) fn commit_offsets(
        &self,
        id: &str,
        group: &str,
        producer_id: i64,
        epoch: i16,
        commits: Vec<OffsetCommit>,
    ) -> Result<Vec<Result<(), ResponseError>>, ResponseError> {
        let mut by_id = lock(&self.by_id);
        let transaction = by_id
            .get_mut(id)
            .ok_or(ResponseError::InvalidProducerIdMapping)?;
        transaction.check_producer(producer_id, epoch)?;
        if transaction.phase != Phase::Ongoing {
            return Err(ResponseError::InvalidTxnState);
        }
        let offsets = transaction
            .offsets
            .get_mut(group)
            .ok_or(ResponseError::InvalidTxnState)?;
        let results = commits
            .into_iter()
            .map(|commit| {
                let too_large = commit
                    .committed
                    .metadata
                    .as_ref()
                    .is_some_and(|m| m.len() > MAX_METADATA_BYTES);
                if too_large {
                    return Err(ResponseError::OffsetMetadataTooLarge);
                }
                offsets.insert((commit.topic, commit.partition), commit.committed);
                Ok(())
            })
            .collect();
        self.save(&by_id)?;
        Ok(results)
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
        {
            let by_id = lock(&self.by_id);
            let transaction = by_id
                .get(id)
                .ok_or(ResponseError::InvalidProducerIdMapping)?;
            transaction.check_producer(producer_id, epoch)?;
            match transaction.phase {
                Phase::Ongoing => {}
                Phase::Empty if transaction.last_marker == Some(marker) => return Ok(()),
                Phase::Empty => return Err(ResponseError::InvalidTxnState),
                Phase::Prepare(_) => return Err(ResponseError::ConcurrentTransactions),
            }
        }
        let decision = Decision::End {
            marker,
            fence: false,
        };
        self.complete(id, decision, done, now_ms)
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

    /// Finishes prepared transactions (left by a crash or a failed write)
    /// and aborts those open longer than their timeout.
    pub(crate) fn tick(&self, done: &dyn Completion, now_ms: i64) {
        let due: Vec<(String, Decision)> = lock(&self.by_id)
            .iter()
            .filter(|(_, t)| !t.completing)
            .filter_map(|(id, t)| match t.phase {
                Phase::Prepare(_) => Some((id.clone(), Decision::Resume)),
                Phase::Ongoing if now_ms.saturating_sub(t.started_ms) > i64::from(t.timeout_ms) => {
                    info!(transactional_id = %id, "aborting a transaction past its timeout");
                    let abort = Decision::End {
                        marker: Marker::Abort,
                        fence: true,
                    };
                    Some((id.clone(), abort))
                }
                _ => None,
            })
            .collect();
        for (id, decision) in due {
            if let Err(e) = self.complete(&id, decision, done, now_ms) {
                warn!(transactional_id = %id, error = ?e, "completing a transaction failed; retried later");
            }
        }
    }

    /// Ends the transaction of `id`: saves the decision, writes the markers
    /// and (on commit) the offsets without holding the coordinator's lock
    /// (writing a marker locks a partition log, which a produce holds while
    /// it asks [`allows`](Self::allows)), then saves it complete.
    fn complete(
        &self,
        id: &str,
        decision: Decision,
        done: &dyn Completion,
        now_ms: i64,
    ) -> Result<(), ResponseError> {
        let (producer_id, epoch, marker, partitions, offsets) = {
            let mut by_id = lock(&self.by_id);
            let transaction = by_id
                .get_mut(id)
                .ok_or(ResponseError::InvalidProducerIdMapping)?;
            if transaction.completing {
                return Err(ResponseError::ConcurrentTransactions);
            }
            let marker = match (decision, transaction.phase) {
                (Decision::End { marker, fence }, Phase::Ongoing) => {
                    if fence && transaction.epoch < i16::MAX - 1 {
                        transaction.epoch += 1;
                    }
                    transaction.phase = Phase::Prepare(marker);
                    marker
                }
                (Decision::Resume, Phase::Prepare(marker)) => marker,
                (_, Phase::Prepare(_)) => return Err(ResponseError::ConcurrentTransactions),
                _ => return Err(ResponseError::InvalidTxnState),
            };
            transaction.completing = true;
            let answer = (
                transaction.producer_id,
                transaction.epoch,
                marker,
                transaction.partitions.clone(),
                transaction.offsets.clone(),
            );
            if let Err(e) = self.save(&by_id) {
                if let Some(transaction) = by_id.get_mut(id) {
                    transaction.completing = false;
                }
                return Err(e);
            }
            answer
        };
        let written = write_outcome(done, producer_id, epoch, marker, &partitions, offsets);
        let mut by_id = lock(&self.by_id);
        let Some(transaction) = by_id.get_mut(id) else {
            return Ok(());
        };
        transaction.completing = false;
        if let Err(e) = written {
            warn!(transactional_id = id, error = %e, "writing transaction markers failed");
            return Err(ResponseError::KafkaStorageError);
        }
        transaction.phase = Phase::Empty;
        transaction.partitions.clear();
        transaction.offsets.clear();
        transaction.last_marker = Some(marker);
        transaction.started_ms = now_ms;
        debug!(transactional_id = id, ?marker, "transaction completed");
        self.save(&by_id)
    }
}

/// Writes a prepared transaction's markers and, on commit, its offsets.
fn write_outcome(
    done: &dyn Completion,
    producer_id: i64,
    epoch: i16,
    marker: Marker,
    partitions: &BTreeSet<(String, i32)>,
    offsets: BTreeMap<String, BTreeMap<(String, i32), Committed>>,
) -> io::Result<()> {
    for (topic, partition) in partitions {
        done.write_marker(topic, *partition, producer_id, epoch, marker)?;
    }
    if marker == Marker::Commit {
        for (group, offsets) in offsets {
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
fn encode(by_id: &BTreeMap<String, Transaction>) -> Vec<u8> {
    let mut payload = Vec::new();
    payload.extend_from_slice(&(by_id.len() as u32).to_be_bytes());
    for (id, t) in by_id {
        put_str(&mut payload, id);
        payload.extend_from_slice(&t.producer_id.to_be_bytes());
        payload.extend_from_slice(&u32::from(t.epoch as u16).to_be_bytes());
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
fn decode(bytes: &[u8]) -> Option<BTreeMap<String, Transaction>> {
    let mut framed = Reader::new(bytes);
    let len = framed.u32()? as usize;
    let crc = framed.u32()?;
    let payload = framed.take(len)?;
    framed.end()?;
    if crc32c::crc32c(payload) != crc {
        return None;
    }
    let mut fields = Reader::new(payload);
    let mut by_id = BTreeMap::new();
    for _ in 0..fields.u32()? {
        let id = fields.string()?;
        let producer_id = fields.i64()?;
        let epoch = fields.u32()? as u16 as i16;
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

    fn fixture() -> (tempfile::TempDir, Transactions, ProducerIds) {
        let dir = tempfile::tempdir().expect("tempdir");
        let transactions = Transactions::open(dir.path(), 0).expect("open");
        let ids = ProducerIds::open(dir.path(), None).expect("ids");
        (dir, transactions, ids)
    }

    #[test]
    fn a_committed_transaction_writes_its_markers_and_offsets() {
        let (_dir, txns, ids) = fixture();
        let done = Recorded::default();
        let (pid, epoch) = txns
            .init_producer("t", 60_000, &ids, &done, 0)
            .expect("init");
        let parts = [("a".to_owned(), 0), ("b".to_owned(), 1)];
        txns.add_partitions("t", pid, epoch, &parts, 0)
            .expect("add");
        assert_eq!(txns.allows(pid, epoch, "a", 0), Ok(()));
        assert_eq!(
            txns.allows(pid, epoch, "a", 1),
            Err(ResponseError::InvalidTxnState)
        );
        txns.add_group("t", pid, epoch, "g", 0).expect("group");
        let results = txns
            .commit_offsets("t", "g", pid, epoch, vec![offset("in", 0, 42)])
            .expect("offsets");
        assert_eq!(results, [Ok(())]);
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
        // A retried EndTxn succeeds; the opposite decision does not.
        assert_eq!(txns.end("t", pid, epoch, true, &done, 0), Ok(()));
        assert_eq!(
            txns.end("t", pid, epoch, false, &done, 0),
            Err(ResponseError::InvalidTxnState)
        );
    }

    #[test]
    fn an_aborted_transaction_drops_its_offsets() {
        let (_dir, txns, ids) = fixture();
        let done = Recorded::default();
        let (pid, epoch) = txns
            .init_producer("t", 60_000, &ids, &done, 0)
            .expect("init");
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
        let (pid, epoch) = txns
            .init_producer("t", 60_000, &ids, &done, 0)
            .expect("init");
        txns.add_partitions("t", pid, epoch, &[("a".to_owned(), 0)], 0)
            .expect("add");
        let (again, new_epoch) = txns
            .init_producer("t", 60_000, &ids, &done, 0)
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
            .init_producer("t", 1_000, &ids, &done, 0)
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
    }

    #[test]
    fn an_open_transaction_gets_its_whole_timeout_again_after_a_restart() {
        let (dir, txns, ids) = fixture();
        let done = Recorded::default();
        let (pid, epoch) = txns
            .init_producer("t", 1_000, &ids, &done, 0)
            .expect("init");
        txns.add_partitions("t", pid, epoch, &[("a".to_owned(), 0)], 0)
            .expect("add");
        drop(txns);
        let txns = Transactions::open(dir.path(), 5_000).expect("reopen");
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
        let failing = Recorded {
            fail: true,
            ..Recorded::default()
        };
        let (pid, epoch) = txns
            .init_producer("t", 60_000, &ids, &failing, 0)
            .expect("init");
        txns.add_partitions("t", pid, epoch, &[("a".to_owned(), 0)], 0)
            .expect("add");
        txns.add_group("t", pid, epoch, "g", 0).expect("group");
        txns.commit_offsets("t", "g", pid, epoch, vec![offset("in", 3, 7)])
            .expect("offsets");
        assert_eq!(
            txns.end("t", pid, epoch, true, &failing, 0),
            Err(ResponseError::KafkaStorageError)
        );
        assert_eq!(
            txns.end("t", pid, epoch, true, &failing, 0),
            Err(ResponseError::ConcurrentTransactions),
            "decided, not yet complete"
        );
        drop(txns);

        let txns = Transactions::open(dir.path(), 0).expect("reopen");
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

    #[test]
    fn requests_are_checked_against_the_transaction() {
        let (_dir, txns, ids) = fixture();
        let done = Recorded::default();
        assert_eq!(
            txns.init_producer("", 60_000, &ids, &done, 0),
            Err(ResponseError::InvalidRequest)
        );
        assert_eq!(
            txns.init_producer("t", MAX_TIMEOUT_MS + 1, &ids, &done, 0),
            Err(ResponseError::InvalidTransactionTimeout)
        );
        assert_eq!(
            txns.add_group("unknown", 0, 0, "g", 0),
            Err(ResponseError::InvalidProducerIdMapping)
        );
        let (pid, epoch) = txns
            .init_producer("t", 60_000, &ids, &done, 0)
            .expect("init");
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
    }
}
