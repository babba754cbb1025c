//! The idempotent producers of one partition: what each appended last.
//!
//! An idempotent producer numbers its records per partition and resends a
//! batch it got no answer for. The log keeps, per producer, its epoch and
//! the sequence ranges and offsets of its last [`BATCHES_RETAINED`] batches
//! (the most a producer has in flight), as Kafka's `ProducerStateEntry`
//! does, so that a resent batch is answered with the offset it got the
//! first time instead of being appended twice, and a batch that would
//! leave a gap in the sequence is refused. It also knows each producer's
//! open transaction, which holds back the last stable offset, and the
//! aborted transactions read-committed consumers must skip. Nothing here
//! is persisted: the batches on disk carry their producer fields (and the
//! markers that end transactions), and opening a log rebuilds the state
//! from them.

use std::collections::{BTreeSet, HashMap, VecDeque};

use super::batch::{BatchHeader, Marker};

/// How many of a producer's last batches are kept for finding resends:
/// Kafka's `NUM_BATCHES_TO_RETAIN`, which is also the most in-flight
/// requests a producer may have with idempotence.
const BATCHES_RETAINED: usize = 5;

/// Why a producer's batch is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum SequenceError {
    /// The producer was given a newer epoch since: this one is a zombie.
    #[error("epoch {epoch} of producer {producer_id} is older than its current epoch {current}")]
    StaleEpoch {
        producer_id: i64,
        epoch: i16,
        current: i16,
    },
    /// The batch does not follow on from the producer's last one.
    #[error(
        "sequence {sequence} of producer {producer_id} does not follow its last sequence {last}"
    )]
    OutOfOrder {
        producer_id: i64,
        sequence: i32,
        last: i32,
    },
    /// A batch outside a transaction while the producer has one open.
    #[error("producer {producer_id} wrote a non-transactional batch inside its transaction")]
    InTransaction { producer_id: i64 },
}

/// A transaction that ended with an abort marker: read-committed
/// consumers skip the producer's records from `first_offset` on, up to
/// the marker at `last_offset` (Kafka's `AbortedTxn`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct AbortedTransaction {
    pub(crate) producer_id: i64,
    /// The offset of the transaction's first batch here.
    pub(crate) first_offset: i64,
    /// The offset of its abort marker.
    pub(crate) last_offset: i64,
}

/// Where one of a producer's batches landed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct AppendedBatch {
    first_sequence: i32,
    last_sequence: i32,
    /// The offset of its first record.
    pub(crate) base_offset: i64,
    /// Its largest timestamp (the append time with log-append time).
    pub(crate) max_timestamp: i64,
    last_offset: i64,
}

/// What the partition knows of one producer.
#[derive(Debug)]
struct Producer {
    epoch: i16,
    /// Oldest first; all of the current epoch.
    batches: VecDeque<AppendedBatch>,
    /// The largest timestamp of its last batch, which its expiry counts
    /// from (as Kafka's `lastTimestamp`).
    last_timestamp: i64,
    /// The offset of the first batch of its open transaction.
    open_transaction: Option<i64>,
}

/// The idempotent producers of a partition.
#[derive(Debug, Default)]
pub(crate) struct Producers {
    by_id: HashMap<i64, Producer>,
    /// The open transactions, as (first offset, producer id): the first is
    /// the last stable offset, which every fetch asks for, so it is kept
    /// in order rather than searched for among all producers.
    open: BTreeSet<(i64, i64)>,
}

impl Producers {
    /// Checks a batch about to be appended (its header as produced):
    /// `Ok(Some(batch))` if it is a resend of `batch`, already in the log;
    /// `Ok(None)` if it may be appended. The rules are those of Kafka's
    /// `ProducerAppendInfo`: an older epoch is refused; a newer one must
    /// start at sequence 0; within an epoch a batch must follow on from
    /// the last; a producer the partition does not know (never seen, or
    /// expired) may start anywhere; and a producer with an open
    /// transaction writes only transactional batches. (Whether a
    /// transactional batch belongs to a transaction the coordinator knows
    /// is the coordinator's to check.)
    pub(crate) fn check(
        &self,
        header: &BatchHeader,
    ) -> Result<Option<AppendedBatch>, SequenceError> {
        if header.producer_id < 0 {
            return Ok(None);
        }
        let producer_id = header.producer_id;
        let Some(producer) = self.by_id.get(&producer_id) else {
            return Ok(None);
        };
        let (epoch, sequence) = (header.producer_epoch, header.base_sequence);
        if epoch == producer.epoch {
            let last_sequence = header.last_sequence();
            if let Some(resent) = producer.batches.iter().find(|batch| {
                batch.first_sequence == sequence && batch.last_sequence == last_sequence
            }) {
                return Ok(Some(*resent));
            }
        }
        if epoch < producer.epoch {
            return Err(SequenceError::StaleEpoch {
                producer_id,
                epoch,
                current: producer.epoch,
            });
        }
        let last = if epoch == producer.epoch {
            producer
                .batches
                .back()
                .map_or(-1, |batch| batch.last_sequence)
        } else {
            // A new epoch starts the numbering again.
            -1
        };
        let follows =
            i64::from(sequence) == i64::from(last) + 1 || (sequence == 0 && last == i32::MAX);
        if !follows {
            return Err(SequenceError::OutOfOrder {
                producer_id,
                sequence,
                last,
            });
        }
        if producer.open_transaction.is_some() && !header.transactional() {
            return Err(SequenceError::InTransaction { producer_id });
        }
        Ok(None)
    }

    /// Remembers a batch now in the log (`header` as stored, with its
    /// offsets), whether just appended or read back when the log opens.
    pub(crate) fn record(&mut self, header: &BatchHeader) {
        if header.producer_id < 0 || header.control() {
            return;
        }
        let producer = producer(&mut self.by_id, header);
        if header.transactional() && producer.open_transaction.is_none() {
            producer.open_transaction = Some(header.base_offset);
            self.open.insert((header.base_offset, header.producer_id));
        }
        if producer.batches.len() == BATCHES_RETAINED {
            producer.batches.pop_front();
        }
        producer.batches.push_back(AppendedBatch {
            first_sequence: header.base_sequence,
            last_sequence: header.last_sequence(),
            base_offset: header.base_offset,
            max_timestamp: header.max_timestamp,
            // Saturating: the base offset is not covered by the CRC.
            last_offset: header
                .base_offset
                .saturating_add(i64::from(header.last_offset_delta)),
        });
        producer.last_timestamp = header.max_timestamp;
    }

    /// Ends the producer's open transaction with the marker batch
    /// `header` (as stored) saying `marker`; an aborted transaction is
    /// returned for the log's index of them. A marker moves the producer
    /// to the marker's epoch, which fences its older epochs.
    pub(crate) fn end_transaction(
        &mut self,
        header: &BatchHeader,
        marker: Marker,
    ) -> Option<AbortedTransaction> {
        let producer = producer(&mut self.by_id, header);
        producer.last_timestamp = header.max_timestamp;
        let first_offset = producer.open_transaction.take()?;
        self.open.remove(&(first_offset, header.producer_id));
        (marker == Marker::Abort).then_some(AbortedTransaction {
            producer_id: header.producer_id,
            first_offset,
            last_offset: header.base_offset,
        })
    }

    /// The producers with an open transaction here, with their epochs.
    pub(crate) fn open_transactions(&self) -> Vec<(i64, i16)> {
        self.open
            .iter()
            .filter_map(|&(_, id)| Some((id, self.by_id.get(&id)?.epoch)))
            .collect()
    }

    /// Whether `producer_id` has an open transaction here.
    pub(crate) fn in_transaction(&self, producer_id: i64) -> bool {
        self.by_id
            .get(&producer_id)
            .is_some_and(|producer| producer.open_transaction.is_some())
    }

    /// The first offset of the oldest open transaction: the last stable
    /// offset, if a transaction is open.
    pub(crate) fn first_open_offset(&self) -> Option<i64> {
        self.open.first().map(|&(offset, _)| offset)
    }

    /// Forgets producers whose last batch is older than `expiration_ms`
    /// (Kafka's `producer.id.expiration.ms`); their next batch may start
    /// at any sequence. A producer with an open transaction is kept.
    /// Returns how many were forgotten.
    pub(crate) fn expire(&mut self, now_ms: i64, expiration_ms: i64) -> usize {
        let before = self.by_id.len();
        self.by_id.retain(|_, producer| {
            producer.open_transaction.is_some()
                || now_ms.saturating_sub(producer.last_timestamp) < expiration_ms
        });
        before - self.by_id.len()
    }

    /// Forgets producers whose batches all lie before `log_start_offset`
    /// (deleted by retention), as a log reopened then would not know them.
    pub(crate) fn forget_before(&mut self, log_start_offset: i64) {
        self.by_id.retain(|_, producer| {
            producer.open_transaction.is_some()
                || producer
                    .batches
                    .back()
                    .is_some_and(|batch| batch.last_offset >= log_start_offset)
        });
    }

    /// The largest producer id seen, if any.
    pub(crate) fn max_producer_id(&self) -> Option<i64> {
        self.by_id.keys().copied().max()
    }
}

/// The state of the producer of `header` in `by_id`, at the header's
/// epoch (a newer epoch starts its sequence numbers again).
fn producer<'a>(by_id: &'a mut HashMap<i64, Producer>, header: &BatchHeader) -> &'a mut Producer {
    let producer = by_id.entry(header.producer_id).or_insert(Producer {
        epoch: header.producer_epoch,
        batches: VecDeque::with_capacity(BATCHES_RETAINED),
        last_timestamp: header.max_timestamp,
        open_transaction: None,
    });
    if producer.epoch != header.producer_epoch {
        producer.epoch = header.producer_epoch;
        producer.batches.clear();
    }
    producer
}

#[cfg(test)]
mod tests {
    use kafka_protocol::records::Compression;

    use super::*;
    use crate::log::batch::tests::encode_batch_with;
    use crate::log::batch::{marker_batch, stamp, BatchHeader};

    /// The header of a batch of `count` records from producer 7 with
    /// `epoch`, starting at `sequence`, stored at `offset` at time `time`.
    fn batch(epoch: i16, sequence: i32, count: usize, offset: i64, time: i64) -> BatchHeader {
        let mut bytes = encode_batch_with(count, time, Compression::None, |record| {
            record.producer_id = 7;
            record.producer_epoch = epoch;
            record.sequence = sequence.wrapping_add(record.offset as i32);
        });
        stamp(&mut bytes, offset, None);
        BatchHeader::parse(&bytes).expect("parses")
    }

    fn appended(producers: &mut Producers, header: BatchHeader) {
        assert_eq!(producers.check(&header), Ok(None));
        producers.record(&header);
    }

    #[test]
    fn batches_in_sequence_are_appended_and_resends_answered_with_their_offset() {
        let mut producers = Producers::default();
        let first = batch(0, 0, 3, 10, 100);
        appended(&mut producers, first);
        appended(&mut producers, batch(0, 3, 2, 13, 101));
        let resent = producers.check(&batch(0, 0, 3, 0, 100)).expect("a resend");
        assert_eq!(
            resent.map(|b| (b.base_offset, b.max_timestamp)),
            Some((10, 102))
        );
        assert_eq!(
            producers
                .check(&batch(0, 3, 2, 0, 101))
                .expect("a resend")
                .map(|b| b.base_offset),
            Some(13)
        );
        // A resend must cover the same range exactly.
        assert_eq!(
            producers.check(&batch(0, 0, 2, 0, 100)),
            Err(SequenceError::OutOfOrder {
                producer_id: 7,
                sequence: 0,
                last: 4
            })
        );
    }

    #[test]
    fn a_gap_is_refused_and_only_the_last_five_batches_are_resends() {
        let mut producers = Producers::default();
        for i in 0..6 {
            appended(&mut producers, batch(0, i, 1, i64::from(i), 0));
        }
        assert_eq!(
            producers.check(&batch(0, 7, 1, 0, 0)),
            Err(SequenceError::OutOfOrder {
                producer_id: 7,
                sequence: 7,
                last: 5
            })
        );
        assert!(producers
            .check(&batch(0, 1, 1, 0, 0))
            .expect("kept")
            .is_some());
        assert_eq!(
            producers.check(&batch(0, 0, 1, 0, 0)),
            Err(SequenceError::OutOfOrder {
                producer_id: 7,
                sequence: 0,
                last: 5
            })
        );
    }

    #[test]
    fn epochs_fence_older_ones_and_start_again_at_zero() {
        let mut producers = Producers::default();
        appended(&mut producers, batch(1, 0, 2, 0, 0));
        assert_eq!(
            producers.check(&batch(0, 2, 1, 0, 0)),
            Err(SequenceError::StaleEpoch {
                producer_id: 7,
                epoch: 0,
                current: 1
            })
        );
        assert_eq!(
            producers.check(&batch(2, 2, 1, 0, 0)),
            Err(SequenceError::OutOfOrder {
                producer_id: 7,
                sequence: 2,
                last: -1
            })
        );
        appended(&mut producers, batch(2, 0, 1, 2, 0));
        // The old epoch's batches are no resends any more.
        assert_eq!(
            producers.check(&batch(1, 0, 2, 0, 0)),
            Err(SequenceError::StaleEpoch {
                producer_id: 7,
                epoch: 1,
                current: 2
            })
        );
    }

    #[test]
    fn an_unknown_producer_starts_anywhere_and_sequences_wrap() {
        let mut producers = Producers::default();
        let near_end = batch(0, i32::MAX - 1, 3, 0, 0);
        assert_eq!(near_end.last_sequence(), 0);
        appended(&mut producers, near_end);
        appended(&mut producers, batch(0, 1, 1, 3, 0));
        let at_end = batch(0, i32::MAX, 1, 0, 0);
        let mut producers = Producers::default();
        appended(&mut producers, at_end);
        appended(&mut producers, batch(0, 0, 1, 1, 0));
    }

    /// A transactional batch of producer 7 at offset `offset`.
    fn transactional(epoch: i16, sequence: i32, offset: i64) -> BatchHeader {
        let mut bytes = encode_batch_with(1, 0, Compression::None, |record| {
            record.producer_id = 7;
            record.producer_epoch = epoch;
            record.sequence = sequence;
            record.transactional = true;
        });
        stamp(&mut bytes, offset, None);
        BatchHeader::parse(&bytes).expect("parses")
    }

    /// The header of a marker of producer 7 stored at `offset`.
    fn marker(epoch: i16, marker: Marker, offset: i64) -> BatchHeader {
        let mut bytes = marker_batch(7, epoch, marker, 0).expect("encodes");
        stamp(&mut bytes, offset, None);
        BatchHeader::parse(&bytes).expect("parses")
    }

    #[test]
    fn transactions_hold_the_stable_offset_and_aborts_are_indexed() {
        let mut producers = Producers::default();
        appended(&mut producers, transactional(0, 0, 10));
        appended(&mut producers, transactional(0, 1, 11));
        assert_eq!(producers.first_open_offset(), Some(10));
        assert!(producers.in_transaction(7));
        // Inside its transaction the producer writes transactionally only.
        assert_eq!(
            producers.check(&batch(0, 2, 1, 0, 0)),
            Err(SequenceError::InTransaction { producer_id: 7 })
        );
        assert_eq!(
            producers.end_transaction(&marker(0, Marker::Abort, 12), Marker::Abort),
            Some(AbortedTransaction {
                producer_id: 7,
                first_offset: 10,
                last_offset: 12
            })
        );
        assert_eq!(producers.first_open_offset(), None);
        appended(&mut producers, transactional(0, 2, 13));
        assert_eq!(
            producers.end_transaction(&marker(0, Marker::Commit, 14), Marker::Commit),
            None
        );
        // A marker at a newer epoch fences the old one.
        assert_eq!(
            producers.end_transaction(&marker(1, Marker::Abort, 15), Marker::Abort),
            None
        );
        assert_eq!(
            producers.check(&transactional(0, 3, 0)),
            Err(SequenceError::StaleEpoch {
                producer_id: 7,
                epoch: 0,
                current: 1
            })
        );
    }

    /// Stored base offsets are not covered by the CRC: one near the
    /// largest offset must not overflow when the log is read back.
    #[test]
    fn a_stored_batch_at_the_largest_offsets_does_not_overflow() {
        let mut producers = Producers::default();
        producers.record(&batch(0, 0, 3, i64::MAX - 1, 0));
        producers.forget_before(i64::MAX);
        assert_eq!(producers.max_producer_id(), Some(7));
    }

    #[test]
    fn producers_expire_and_are_forgotten_with_their_batches() {
        let mut producers = Producers::default();
        producers.record(&batch(0, 0, 1, 0, 1_000));
        assert_eq!(producers.expire(1_999, 1_000), 0);
        assert_eq!(producers.expire(2_000, 1_000), 1);
        // Forgotten: it may start anywhere again.
        appended(&mut producers, batch(0, 9, 1, 5, 3_000));
        producers.forget_before(5);
        assert_eq!(producers.max_producer_id(), Some(7));
        producers.forget_before(6);
        assert_eq!(producers.max_producer_id(), None);
    }
}
