//! Log compaction: the cleaner that keeps only the latest record of each key
//! in the closed segments of a log whose `cleanup.policy` includes
//! `compact` (Kafka's `LogCleaner`).
//!
//! A pass works on the log's *cleanable* part: its closed segments up to the
//! first one that may not be cleaned yet - one holding records of an open
//! transaction (past the last stable offset, which read-committed consumers
//! have not seen the outcome of), or one with records younger than
//! `min.compaction.lag.ms` - and never the active segment. The segments of
//! that part from the first dirty offset on (where the last pass ended,
//! saved in [`CLEANER_OFFSET_FILE`]) are dirty. A pass is due once the dirty
//! bytes are `min.cleanable.dirty.ratio` of the cleanable ones, once the
//! oldest dirty segment is older than `max.compaction.lag.ms`, or once a
//! tombstone left by an earlier pass reached its delete horizon.
//!
//! The pass maps each key of the dirty segments to its latest offset, then
//! rewrites every cleanable segment into a copy keeping the records no later
//! record of their key supersedes, and swaps the copy in (see
//! [`Segment::replace_with_cleaned`]); a segment left with nothing is
//! deleted, but for the first, kept empty so the log start stays. Records
//! keep their offsets: a batch that loses records is rebuilt around the
//! rest with its base offset, last offset delta and producer fields
//! ([`batch::rebuilt`]), so reads, the indexes and recovery see gaps,
//! never moved offsets.
//!
//! The rules, and where they are simpler than Kafka's:
//! - Records without a key are removed, as Kafka's cleaner removes them.
//! - Tombstones (null values) stay for `delete.retention.ms` after their
//!   batch was first cleaned: that pass stamps the batch with its delete
//!   horizon (KIP-534's batch attribute, so it survives restarts), and a
//!   pass after the horizon removes them.
//! - Records of committed transactions are cleaned as any others: they
//!   supersede the older records of their keys and go once superseded
//!   themselves. Records of aborted transactions are removed, and never
//!   enter the key map, so they neither hide nor replace the value before
//!   them. The cleanable part ends at the last stable offset, so every
//!   transactional batch in it has its outcome known: it is aborted if it
//!   lies in one of the log's aborted transactions (see
//!   [`PartitionLog::aborted_transactions`]). A transactional batch left
//!   with no records is dropped, under the rule for producers' last
//!   batches below.
//! - Transaction markers are kept, always; Kafka removes one once its
//!   transaction's records are gone and a delete horizon passed. A kept
//!   marker whose transaction lost all its batches ends nothing when the
//!   log is opened again, so an aborted transaction whose batches were
//!   all removed drops out of the index rebuilt then; until then its entry
//!   names offsets with no records of its producer left, which a
//!   read-committed consumer skips nothing for. Before the reopen and after
//!   it, consumers of either isolation level see the same records.
//! - A tombstone past its horizon is removed whatever transactional
//!   batches the log holds: the older values of its key are superseded
//!   (committed ones too) or removed (aborted ones), so none comes back.
//! - A batch of an idempotent (or transactional) producer keeps its
//!   sequence range (it is rebuilt with the same base sequence and offset
//!   delta); one left with no records is dropped, unless it is its
//!   producer's last batch in the log: it is then kept empty, written as
//!   Kafka writes it (its header alone, see [`batch::emptied`]), so that a
//!   log opened again still knows the producer's epoch and last sequence,
//!   and its next batch passes the sequence check. (An emptied batch of an
//!   aborted transaction is still followed by its abort marker, so the log
//!   opened again indexes that transaction, with no records to skip.)
//! - Each segment is cleaned into its own copy; Kafka also merges small
//!   cleaned segments into one. Kafka's map of keys is a fixed-size table
//!   of key hashes; here it holds whole keys up to [`MAX_OFFSET_MAP_BYTES`]
//!   and a pass that would exceed it cleans fewer dirty segments.
//!   `max.compaction.lag.ms` measures the oldest dirty segment by its
//!   newest record, where Kafka uses its first.
//! - A batch whose records cannot be read is kept whole, and a pass that
//!   meets one removes no tombstones from there on (see [`clean_segment`]).
//! - A pass runs with the partition's log locked: appends and reads of that
//!   partition wait for it. The broker runs it on a blocking thread, never
//!   on an async runtime's worker. Only the segments it changes are
//!   copied and synced.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::ops::ControlFlow;
use std::path::Path;

use tracing::{error, info, warn};

use super::batch::{self, BatchHeader, Rebuild};
use super::producers::AbortedTransaction;
use super::records::{self, RecordInfo, RecordsError, MAX_RECORDS_BYTES};
use super::segment::{self, Segment};
use super::{read_offset_file, replace_file, sync_dir, PartitionLog};

/// The file in a partition's directory holding, in decimal, the first
/// offset the log cleaner has not cleaned (Kafka's cleaner checkpoint).
pub(crate) const CLEANER_OFFSET_FILE: &str = "cleaner-offset";

/// The most memory the map of a pass's dirty keys may take: a pass stops
/// taking dirty segments in once it is reached (always taking one).
const MAX_OFFSET_MAP_BYTES: usize = 64 * 1024 * 1024;

/// What a map entry takes beside its key's bytes (the offset, the key's
/// allocation and the table's slot), roughly.
const OFFSET_MAP_ENTRY_BYTES: usize = 64;

/// What the cleaner knows of a log between passes.
#[derive(Debug)]
pub(crate) struct CleanerState {
    /// The first offset not cleaned yet.
    first_dirty: i64,
    /// The earliest delete horizon of the tombstones the last pass kept:
    /// once it passes, a pass is due even with nothing dirty. Not saved: a
    /// restarted broker removes them at the next pass the dirty ratio
    /// starts.
    next_horizon: Option<i64>,
}

impl CleanerState {
    /// The state saved in `dir`, for a log ending at `log_end` (a crash may
    /// have lost a tail the last pass had cleaned up to).
    pub(crate) fn open(dir: &Path, log_end: i64) -> io::Result<Self> {
        let saved = read_offset_file(&dir.join(CLEANER_OFFSET_FILE), "the cleaner offset")?;
        Ok(Self {
            first_dirty: saved.unwrap_or(0).min(log_end),
            next_horizon: None,
        })
    }
}

/// What one pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct CleanStats {
    /// The segments rewritten (or found unchanged).
    pub(crate) segments: usize,
    /// Their bytes before the pass.
    pub(crate) bytes_before: u64,
    /// Their bytes after it.
    pub(crate) bytes_after: u64,
    /// The records removed.
    pub(crate) records_removed: u64,
}

/// The part of the log a pass cleans: the closed segments below `end`, of
/// which those ending after `first_dirty` are dirty.
#[derive(Debug, Clone, Copy)]
struct Cleanable {
    first_dirty: i64,
    end: i64,
}

/// What a pass decides each batch and record by.
struct Rules {
    /// The latest offset of each key in the dirty segments.
    latest: HashMap<Vec<u8>, i64>,
    /// The base offset of each idempotent producer's last batch in the log.
    last_of_producer: HashMap<i64, i64>,
    /// The aborted transactions, whose records go.
    aborted: Aborted,
    /// Whether tombstones past their horizon may go: not once the pass has
    /// met a batch it cannot read (see [`clean_segment`]).
    remove_tombstones: bool,
    now_ms: i64,
    delete_retention_ms: i64,
}

/// The aborted transactions of the log, by producer: the offsets from
/// each one's first batch to its abort marker, in offset order.
#[derive(Debug, Default)]
struct Aborted(HashMap<i64, Vec<(i64, i64)>>);

impl Aborted {
    fn new(aborted: &[AbortedTransaction]) -> Self {
        let mut by_producer: HashMap<i64, Vec<(i64, i64)>> = HashMap::new();
        for transaction in aborted {
            by_producer
                .entry(transaction.producer_id)
                .or_default()
                .push((transaction.first_offset, transaction.last_offset));
        }
        Self(by_producer)
    }

    /// Whether the batch of `header` belongs to an aborted transaction. A
    /// producer has one transaction open at a time, so its transactional
    /// batch belongs to the one whose range holds its offset; a batch with
    /// none is of a committed transaction (the pass cleans only below the
    /// last stable offset).
    fn holds(&self, header: &BatchHeader) -> bool {
        if !header.transactional() || header.control() {
            return false;
        }
        let Some(ranges) = self.0.get(&header.producer_id) else {
            return false;
        };
        // The index is in the order of the abort markers.
        let at = ranges.partition_point(|&(_, last)| last < header.base_offset);
        ranges
            .get(at)
            .is_some_and(|&(first, _)| first <= header.base_offset)
    }
}

/// What becomes of one batch.
enum Kept {
    /// Unchanged.
    Whole,
    /// Rebuilt around fewer records, or stamped with a delete horizon.
    Rebuilt(Vec<u8>),
    /// Dropped: none of its records is kept.
    Nothing,
}

/// What cleaning one segment into its copy did.
#[derive(Debug, Default)]
struct SegmentOutcome {
    /// Whether the copy differs from the segment (otherwise it is deleted).
    changed: bool,
    /// The copy's size.
    size: u64,
    records_removed: u64,
    /// The earliest delete horizon of the tombstones kept.
    next_horizon: Option<i64>,
}

impl PartitionLog {
    /// Cleans the log if it is compacted and a pass is due (see the module
    /// docs) at `now_ms`; returns what the pass did, `None` if none ran. A
    /// failure while swapping a cleaned segment in takes the log offline
    /// (as a failed flush does), since what is on disk may then differ from
    /// what the log serves; recovery on restart settles it.
    pub(crate) fn clean(&mut self, now_ms: i64) -> io::Result<Option<CleanStats>> {
        if self.offline || !self.settings.compacted {
            return Ok(None);
        }
        let Some(mut cleanable) = self.cleanable(now_ms)? else {
            return Ok(None);
        };
        let aborted = Aborted::new(&self.aborted);
        let (latest, all_read) = self.latest_offsets(&mut cleanable, &aborted);
        let last_of_producer = self.producer_batches()?;
        let mut rules = Rules {
            latest,
            last_of_producer,
            aborted,
            remove_tombstones: all_read,
            now_ms,
            delete_retention_ms: self.settings.delete_retention_ms,
        };
        let bases: Vec<i64> = self
            .closed
            .range(..cleanable.end)
            .map(|(&base, _)| base)
            .collect();
        let mut stats = CleanStats::default();
        let mut next_horizon = None;
        for base in bases {
            let Some(segment) = self.closed.get(&base) else {
                continue;
            };
            let before = segment.size();
            let outcome = clean_segment(segment, &mut rules)?;
            stats.segments += 1;
            stats.bytes_before += before;
            stats.bytes_after += outcome.size;
            stats.records_removed += outcome.records_removed;
            next_horizon = earliest(next_horizon, outcome.next_horizon);
            if outcome.changed {
                let swapped = self.swap_in_cleaned(base, outcome.size, now_ms);
                if let Err(e) = &swapped {
                    error!(dir = %self.dir.display(), base, error = %e, "cannot swap in a cleaned segment: log offline until restart");
                    self.offline = true;
                }
                swapped?;
            }
        }
        let first_dirty = self.cleaner.first_dirty.max(cleanable.end);
        replace_file(
            &self.dir.join(CLEANER_OFFSET_FILE),
            format!("{first_dirty}\n").as_bytes(),
        )?;
        self.cleaner = CleanerState {
            first_dirty,
            next_horizon,
        };
        info!(
            dir = %self.dir.display(),
            segments = stats.segments,
            bytes_before = stats.bytes_before,
            bytes_after = stats.bytes_after,
            records_removed = stats.records_removed,
            cleaned_to = first_dirty,
            "cleaned log"
        );
        Ok(Some(stats))
    }

    /// The part a pass would clean, if one is due.
    fn cleanable(&self, now_ms: i64) -> io::Result<Option<Cleanable>> {
        let settings = &self.settings;
        let unstable = self.producers.first_open_offset();
        let lag_cutoff = now_ms.saturating_sub(settings.min_compaction_lag_ms);
        let mut end = self.active.base_offset();
        for segment in self.closed.values() {
            let open_transaction = unstable.is_some_and(|first| first < segment.next_offset());
            // An empty segment (the first, emptied by an earlier pass)
            // holds nothing young; its file time is when it was cleaned.
            let too_young = settings.min_compaction_lag_ms > 0
                && segment.size() > 0
                && segment.retention_timestamp()? > lag_cutoff;
            if open_transaction || too_young {
                end = segment.base_offset();
                break;
            }
        }
        let first_dirty = self.cleaner.first_dirty.max(self.log_start_offset());
        let (mut clean_bytes, mut dirty_bytes) = (0, 0);
        let mut oldest_dirty = None;
        for segment in self.closed.range(..end).map(|(_, segment)| segment) {
            if segment.next_offset() <= first_dirty {
                clean_bytes += segment.size();
            } else {
                dirty_bytes += segment.size();
                oldest_dirty.get_or_insert(segment);
            }
        }
        let total = clean_bytes + dirty_bytes;
        let overdue = match oldest_dirty {
            Some(segment) => {
                segment.retention_timestamp()?
                    <= now_ms.saturating_sub(settings.max_compaction_lag_ms)
            }
            None => false,
        };
        let ratio = dirty_bytes as f64 / total.max(1) as f64;
        let dirty_enough =
            dirty_bytes > 0 && (ratio >= settings.min_cleanable_dirty_ratio || overdue);
        let horizon_passed = total > 0
            && self
                .cleaner
                .next_horizon
                .is_some_and(|horizon| horizon <= now_ms);
        Ok((dirty_enough || horizon_passed).then_some(Cleanable { first_dirty, end }))
    }

    /// Maps each key of the dirty segments to its latest offset. Records of
    /// aborted transactions are left out (they supersede nothing), and so
    /// are those of a batch that cannot be read (so nothing is removed
    /// because of it); the flag returned is whether every batch was read.
    /// Once the map is full, `cleanable` ends before the next dirty
    /// segment.
    fn latest_offsets(
        &self,
        cleanable: &mut Cleanable,
        aborted: &Aborted,
    ) -> (HashMap<Vec<u8>, i64>, bool) {
        let mut latest: HashMap<Vec<u8>, i64> = HashMap::new();
        let mut map_bytes = 0;
        let mut all_read = true;
        let dirty = self
            .closed
            .range(..cleanable.end)
            .map(|(_, segment)| segment)
            .filter(|segment| segment.next_offset() > cleanable.first_dirty);
        for segment in dirty {
            if map_bytes > MAX_OFFSET_MAP_BYTES {
                cleanable.end = segment.base_offset();
                break;
            }
            let walked = for_each_batch(segment, |_, header, batch| {
                if header.control() || aborted.holds(header) {
                    return Ok(());
                }
                let read = records::for_each_record(batch, header, MAX_RECORDS_BYTES, |record| {
                    if let Some(key) = record.key {
                        if let Some(offset) = latest.get_mut(key) {
                            *offset = record.offset;
                        } else {
                            map_bytes += key.len() + OFFSET_MAP_ENTRY_BYTES;
                            latest.insert(key.to_vec(), record.offset);
                        }
                    }
                    ControlFlow::Continue(())
                });
                if let Err(e) = read {
                    warn!(offset = header.base_offset, error = %e, "cannot read the records of a batch to clean");
                    all_read = false;
                }
                Ok(())
            });
            match walked {
                Ok(whole) => all_read &= whole,
                Err(e) => {
                    warn!(dir = %self.dir.display(), base = segment.base_offset(), error = %e, "cannot read a segment to clean");
                    all_read = false;
                }
            }
        }
        (latest, all_read)
    }

    /// The base offset of each idempotent producer's last batch in the log.
    fn producer_batches(&self) -> io::Result<HashMap<i64, i64>> {
        let mut last = HashMap::new();
        for segment in self.segments() {
            segment.for_each_header(|_, header| {
                if header.producer_id >= 0 && !header.control() {
                    last.insert(header.producer_id, header.base_offset);
                }
                Ok(())
            })?;
        }
        Ok(last)
    }

    /// Puts the cleaned copy of the closed segment at `base` in its place,
    /// or, if the copy is empty, deletes both - unless the segment is the
    /// first: an empty one is kept then, so that the log start does not
    /// move (as in Kafka, where it stays the first cleaned segment's base),
    /// and a consumer at an offset in it reads on from the next record
    /// rather than being told its offset is out of range.
    fn swap_in_cleaned(&mut self, base: i64, cleaned_size: u64, now_ms: i64) -> io::Result<()> {
        let first = self.closed.first_key_value().map(|(&first, _)| first) == Some(base);
        let Some(old) = self.closed.remove(&base) else {
            return Ok(());
        };
        if cleaned_size == 0 && !first {
            segment::remove_if_present(&old.cleaned_path())?;
            old.delete()?;
            return sync_dir(&self.dir);
        }
        let next_base = self
            .closed
            .range(base..)
            .next()
            .map_or(self.active.base_offset(), |(&next, _)| next);
        let cleaned = old.replace_with_cleaned(&self.dir, next_base, now_ms)?;
        self.closed.insert(base, cleaned);
        Ok(())
    }
}

/// Writes the cleaned copy of `segment` (see [`Segment::cleaned_path`]),
/// complete and on disk, if the pass changes it; otherwise leaves none.
/// The copy is started at the first batch that loses records or gets a
/// delete horizon, with the bytes before it copied as they are: a segment
/// the pass leaves as it is is neither copied nor synced. A segment whose
/// batches cannot all be walked is left as it is.
///
/// A batch whose records cannot be read is kept whole, and was left out of
/// the key map: an older value in it would come back if a later tombstone
/// of its key went, so from it on the pass removes no tombstones. Batches
/// are cleaned in offset order, so the tombstones removed before it are
/// older than any value it holds.
fn clean_segment(segment: &Segment, rules: &mut Rules) -> io::Result<SegmentOutcome> {
    let path = segment.cleaned_path();
    let mut copy: Option<BufWriter<File>> = None;
    let mut outcome = SegmentOutcome::default();
    let walked = for_each_batch(segment, |position, header, batch| {
        let kept = match rules.clean_batch(batch, header, &mut outcome) {
            Ok(kept) => kept,
            Err(e) => {
                warn!(offset = header.base_offset, error = %e, "cannot read the records of a batch to clean: kept whole, tombstones too");
                rules.remove_tombstones = false;
                Kept::Whole
            }
        };
        let bytes = match &kept {
            Kept::Whole => batch,
            Kept::Rebuilt(rebuilt) => rebuilt.as_slice(),
            Kept::Nothing => &[],
        };
        outcome.size += bytes.len() as u64;
        if copy.is_none() && !matches!(kept, Kept::Whole) {
            copy = Some(start_copy(segment, &path, position)?);
        }
        match &mut copy {
            Some(out) => out.write_all(bytes),
            None => Ok(()),
        }
    });
    if !matches!(walked, Ok(true)) {
        rules.remove_tombstones = false;
    }
    let started = copy.is_some();
    let written = walked.and_then(|whole| match copy {
        Some(out) if whole => {
            let file = out.into_inner().map_err(io::IntoInnerError::into_error)?;
            file.sync_all().map(|()| true)
        }
        _ => Ok(false),
    });
    outcome.changed = matches!(written, Ok(true));
    if !outcome.changed {
        outcome.size = segment.size();
        outcome.records_removed = 0;
        if started {
            segment::remove_if_present(&path)?;
        }
    }
    written.map(|_| outcome)
}

/// Creates the cleaned copy of `segment` at `path`, starting with the
/// segment's first `len` bytes as they are, read a chunk at a time.
fn start_copy(segment: &Segment, path: &Path, len: u64) -> io::Result<BufWriter<File>> {
    const CHUNK: u64 = 1 << 20;
    let mut out = BufWriter::new(File::create(path)?);
    let mut position = 0;
    while position < len {
        let chunk = (len - position).min(CHUNK);
        // At most `CHUNK`, which fits.
        out.write_all(&segment.read_at(position, chunk as usize)?)?;
        position += chunk;
    }
    Ok(out)
}

impl Rules {
    /// What becomes of one batch (see the module docs for the rules).
    fn clean_batch(
        &self,
        batch: &[u8],
        header: &BatchHeader,
        outcome: &mut SegmentOutcome,
    ) -> Result<Kept, RecordsError> {
        if header.control() {
            return Ok(Kept::Whole);
        }
        let aborted = self.aborted.holds(header);
        let horizon = header.delete_horizon();
        let horizon_passed = self.remove_tombstones && horizon.is_some_and(|h| self.now_ms >= h);
        let mut kept = Vec::new();
        let (mut kept_tombstone, mut max_timestamp) = (false, i64::MIN);
        records::for_each_record(batch, header, MAX_RECORDS_BYTES, |record| {
            let keep = !aborted && self.keeps(&record, horizon_passed);
            if keep {
                kept_tombstone |= record.tombstone;
                max_timestamp = max_timestamp.max(record.timestamp);
            }
            kept.push(keep);
            ControlFlow::Continue(())
        })?;
        let removed = kept.iter().filter(|&&keep| !keep).count();
        let record_count = i32::try_from(kept.len() - removed)
            .map_err(|_| RecordsError::Malformed("record count out of range"))?;
        // A kept tombstone is stamped with its horizon the first time.
        let stamp = kept_tombstone && horizon.is_none();
        let horizon =
            horizon.or(stamp.then(|| self.now_ms.saturating_add(self.delete_retention_ms)));
        // The horizon a pass becomes due at, once the batch is written.
        let pending = horizon.filter(|_| kept_tombstone && self.remove_tombstones);
        if record_count == 0 {
            let last = header.producer_id >= 0
                && self.last_of_producer.get(&header.producer_id) == Some(&header.base_offset);
            if !last {
                outcome.records_removed += removed as u64;
                return Ok(Kept::Nothing);
            }
        }
        if removed == 0 && !stamp {
            outcome.next_horizon = earliest(outcome.next_horizon, pending);
            return Ok(Kept::Whole);
        }
        outcome.records_removed += removed as u64;
        outcome.next_horizon = earliest(outcome.next_horizon, pending);
        if record_count == 0 {
            return Ok(Kept::Rebuilt(batch::emptied(batch, header)?));
        }
        let base_timestamp = horizon.unwrap_or(header.base_timestamp);
        let mut body = Vec::new();
        let mut index = 0;
        let mut written = Ok(());
        records::for_each_record(batch, header, MAX_RECORDS_BYTES, |record| {
            if kept.get(index).copied().unwrap_or(false) {
                written = records::write_record(&mut body, &record, base_timestamp);
            }
            index += 1;
            if written.is_err() {
                return ControlFlow::Break(());
            }
            ControlFlow::Continue(())
        })?;
        written?;
        let rebuild = Rebuild {
            record_count,
            base_timestamp,
            delete_horizon: horizon.is_some(),
            // A batch stamped with the append time keeps the max
            // timestamp it had.
            max_timestamp: if header.log_append_time {
                header.max_timestamp
            } else {
                max_timestamp
            },
        };
        Ok(Kept::Rebuilt(batch::rebuilt(
            batch, header, &body, rebuild,
        )?))
    }

    /// Whether a record of a batch being cleaned stays.
    fn keeps(&self, record: &RecordInfo<'_>, horizon_passed: bool) -> bool {
        let Some(key) = record.key else {
            return false;
        };
        let superseded = self
            .latest
            .get(key)
            .is_some_and(|&latest| latest > record.offset);
        let expired_tombstone = record.tombstone && horizon_passed;
        !superseded && !expired_tombstone
    }
}

/// Calls `visit` with the position, header and bytes of each batch of
/// `segment`; returns whether the walk reached the segment's end (a header
/// that does not read ends it early, see [`Segment::for_each_header`]).
fn for_each_batch(
    segment: &Segment,
    mut visit: impl FnMut(u64, &BatchHeader, &[u8]) -> io::Result<()>,
) -> io::Result<bool> {
    let mut walked = 0;
    segment.for_each_header(|position, header| {
        let batch = segment.read_at(position, header.size)?;
        walked += header.size as u64;
        visit(position, header, &batch)
    })?;
    Ok(walked == segment.size())
}

/// The earlier of two optional times.
fn earliest(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::fs;

    use bytes::Bytes;
    use kafka_protocol::protocol::StrBytes;
    use kafka_protocol::records::{Compression, Record, RecordBatchDecoder};
    use proptest::prelude::*;

    use super::*;
    use crate::config::topic::{LogSettings, TopicConfig};
    use crate::config::LogDefaults;
    use crate::log::batch::tests::encode_batch_with;
    use crate::log::batch::{validate_produced, Marker};
    use crate::log::producers::SequenceError;
    use crate::log::tests::time_lookup;
    use crate::log::{next_offset, AppendError};

    /// The settings of a compacted topic with segments of `segment_bytes`,
    /// and `overrides`.
    fn compacted(segment_bytes: u64, overrides: &[(&str, &str)]) -> LogSettings {
        let defaults = LogDefaults {
            segment_bytes,
            index_interval_bytes: 100,
            ..LogDefaults::default()
        };
        let overrides = [("cleanup.policy", "compact")]
            .iter()
            .chain(overrides)
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()));
        TopicConfig::from_overrides(overrides)
            .expect("valid configs")
            .settings(&defaults)
    }

    /// A record to write: its key and value (`None`: a tombstone).
    type Write<'a> = (&'a str, Option<&'a str>);

    /// Appends `records` as one batch created at `timestamp` (a millisecond
    /// apart), each with a header naming its value; returns the base offset.
    fn append(log: &mut PartitionLog, records: &[Write<'_>], timestamp: i64) -> i64 {
        append_as(log, records, timestamp, |_| {}).expect("append")
    }

    /// [`append`] with each record changed by `edit` (producer fields).
    fn append_as(
        log: &mut PartitionLog,
        records: &[Write<'_>],
        timestamp: i64,
        edit: impl Fn(&mut Record),
    ) -> Result<i64, AppendError> {
        append_compressed(log, records, timestamp, Compression::None, edit)
    }

    /// [`append_as`] with the batch compressed.
    fn append_compressed(
        log: &mut PartitionLog,
        records: &[Write<'_>],
        timestamp: i64,
        compression: Compression,
        edit: impl Fn(&mut Record),
    ) -> Result<i64, AppendError> {
        let batch = encode_batch_with(records.len(), timestamp, compression, |record| {
            let (key, value) = records[record.offset as usize];
            record.key = Some(Bytes::from(key.to_owned()));
            record.value = value.map(|value| Bytes::from(value.to_owned()));
            record.headers.insert(
                StrBytes::from_static_str("value"),
                value.map(|value| Bytes::from(value.to_owned())),
            );
            edit(record);
        });
        let headers = validate_produced(&batch, 1 << 20).expect("valid batch");
        log.append(&batch, &headers, timestamp)
            .map(|appended| appended.base_offset)
    }

    /// Appends records of key `filler` until the log has rolled `segments`
    /// more times.
    fn roll(log: &mut PartitionLog, segments: usize, timestamp: i64) {
        let target = log.closed.len() + segments;
        while log.closed.len() < target {
            append(log, &[("filler", Some("f"))], timestamp);
        }
    }

    /// What a consumer sees of a record.
    #[derive(Debug, Clone, PartialEq, Eq)]
    struct Seen {
        offset: i64,
        key: Option<Bytes>,
        value: Option<Bytes>,
        timestamp: i64,
        headers: Vec<(String, Option<Bytes>)>,
        control: bool,
    }

    impl From<Record> for Seen {
        fn from(record: Record) -> Self {
            Self {
                offset: record.offset,
                key: record.key,
                value: record.value,
                timestamp: record.timestamp,
                headers: record
                    .headers
                    .into_iter()
                    .map(|(name, value)| (name.to_string(), value))
                    .collect(),
                control: record.control,
            }
        }
    }

    /// The records fetched in `bytes`.
    fn decode(bytes: &Bytes) -> Vec<Seen> {
        let mut buf = bytes.clone();
        RecordBatchDecoder::decode_all(&mut buf)
            .expect("batches decode")
            .into_iter()
            .flat_map(|set| set.records)
            .map(Seen::from)
            .collect()
    }

    /// Every record of the log, read from its start as a consumer reads.
    fn read_all(log: &PartitionLog) -> Vec<Seen> {
        let mut seen = Vec::new();
        let mut offset = log.log_start_offset();
        while offset < log.log_end_offset() {
            let bytes = log.read(offset, 1 << 20).expect("read");
            seen.extend(decode(&bytes).into_iter().filter(|r| r.offset >= offset));
            offset = next_offset(&bytes).expect("a batch");
        }
        seen
    }

    /// The records below `end` that a later record of their key below
    /// `end` supersedes.
    fn superseded(records: &[Seen], end: i64) -> Vec<Seen> {
        let below: Vec<&Seen> = records.iter().filter(|r| r.offset < end).collect();
        below
            .iter()
            .enumerate()
            .filter(|(i, r)| below[i + 1..].iter().any(|later| later.key == r.key))
            .map(|(_, r)| (*r).clone())
            .collect()
    }

    fn active_bytes(log: &PartitionLog) -> Vec<u8> {
        let active = &log.active;
        active.read_at(0, active.size() as usize).expect("read")
    }

    /// Cleaning keeps, in the closed segments, exactly the latest record of
    /// each key there, with its offset, value, timestamp and headers; the
    /// active segment is untouched; reads and lookups by time at any offset
    /// or time, gaps included, find the next record kept; and all of it
    /// holds after a reopen.
    #[test]
    fn cleaning_keeps_the_latest_record_of_each_key_at_its_offset() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("t-0");
        let mut log = PartitionLog::open(path.clone(), compacted(400, &[]), 0).expect("open");
        for n in 0..40_i64 {
            let first = format!("k{}", n % 5);
            let second = format!("k{}", (n * 3) % 7);
            let (one, two) = (format!("v{n}a"), format!("v{n}b"));
            append(
                &mut log,
                &[(&first, Some(&one)), (&second, Some(&two))],
                1000 + n * 10,
            );
        }
        assert!(log.closed.len() > 3);
        let written = read_all(&log);
        let active_base = log.active.base_offset();
        let active = active_bytes(&log);
        let size_before = log.size();

        let stats = log.clean(5000).expect("clean").expect("a pass ran");
        let removed = superseded(&written, active_base);
        assert!(!removed.is_empty());
        let expected: Vec<Seen> = written
            .iter()
            .filter(|r| !removed.contains(r))
            .cloned()
            .collect();
        assert_eq!(read_all(&log), expected);
        assert_eq!(stats.records_removed, removed.len() as u64);
        assert_eq!(
            stats.bytes_before - stats.bytes_after,
            size_before - log.size()
        );
        assert_eq!(
            active_bytes(&log),
            active,
            "the active segment is untouched"
        );
        assert_eq!(log.clean(5000).expect("clean"), None, "nothing dirty");

        let check = |log: &PartitionLog| {
            assert_eq!(read_all(log), expected);
            for offset in log.log_start_offset()..log.log_end_offset() {
                let next = expected.iter().find(|r| r.offset >= offset).expect("kept");
                // A batch whose records at and after the offset all went
                // still covers it: a consumer goes on after that batch.
                let mut at = offset;
                let first = loop {
                    let bytes = log.read(at, 1).expect("read");
                    if let Some(first) = decode(&bytes).into_iter().find(|r| r.offset >= offset) {
                        break first;
                    }
                    at = next_offset(&bytes).expect("a batch");
                };
                assert_eq!(&first, next, "read at {offset}");
            }
            for timestamp in written.iter().map(|r| r.timestamp) {
                let next = expected.iter().find(|r| r.timestamp >= timestamp);
                let found = time_lookup(log, timestamp).expect("lookup");
                assert_eq!(
                    found,
                    next.map(|r| (r.offset, r.timestamp)),
                    "at {timestamp}"
                );
            }
        };
        check(&log);
        drop(log);
        let log = PartitionLog::open(path.clone(), compacted(400, &[]), 0).expect("reopen");
        check(&log);
        drop(log);
        // Opened again, the rebuilt indexes are trusted, not rebuilt.
        let log = PartitionLog::open(path, compacted(400, &[]), 0).expect("reopen");
        check(&log);
    }

    /// Only the segments a pass changes are copied: one it leaves as it is
    /// gets no cleaned copy (here, one could not even be created).
    #[test]
    fn a_segment_the_pass_does_not_change_is_not_copied() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut log =
            PartitionLog::open(dir.path().join("t-0"), compacted(300, &[]), 0).expect("open");
        for n in 0..4 {
            append(&mut log, &[(&format!("once{n}"), Some("v"))], 0);
        }
        roll(&mut log, 2, 0);
        let untouched = log.closed.values().next().expect("a segment");
        let (base, size) = (untouched.base_offset(), untouched.size());
        let blocked = untouched.cleaned_path();
        fs::create_dir(&blocked).expect("mkdir");
        let stats = log.clean(0).expect("clean").expect("a pass ran");
        assert!(stats.records_removed > 0, "the filler segments changed");
        assert!(blocked.is_dir(), "no copy attempted");
        assert_eq!(log.closed.get(&base).map(Segment::size), Some(size));
    }

    /// A batch whose records cannot be read is kept whole and stays out of
    /// the key map; a pass that meets one removes no tombstones, or the
    /// value in it that a later tombstone deleted would come back.
    #[test]
    fn an_unreadable_batch_keeps_the_tombstones() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("t-0");
        let settings = compacted(
            300,
            &[
                ("delete.retention.ms", "0"),
                ("min.cleanable.dirty.ratio", "0"),
            ],
        );
        let mut log = PartitionLog::open(path, settings, 0).expect("open");
        // A batch of `k` whose first record's length is negative, under a
        // valid CRC (the produce path would refuse it; a log written
        // before may hold it): its header reads, its records do not.
        let mut broken = encode_batch_with(1, 0, Compression::None, |record| {
            record.key = Some(Bytes::from_static(b"k"));
        });
        broken[batch::HEADER_LEN] = 0x7f;
        batch::set_crc(&mut broken);
        let headers = validate_produced(&broken, 1 << 20).expect("valid batch");
        log.append(&broken, &headers, 0).expect("append");
        append(&mut log, &[("k", None)], 0);
        roll(&mut log, 1, 0);
        // The records from offset 1 on (a consumer cannot read past the
        // broken batch).
        let tombstones = |log: &PartitionLog| {
            decode(&log.read(1, 1 << 20).expect("read"))
                .iter()
                .filter(|r| r.offset == 1 && r.value.is_none())
                .count()
        };
        // The first pass stamps the horizon, the next is past it.
        assert!(log.clean(0).expect("clean").is_some());
        assert_eq!(tombstones(&log), 1);
        roll(&mut log, 1, 0);
        assert!(log.clean(10).expect("clean").is_some());
        assert_eq!(tombstones(&log), 1, "the tombstone stays");
    }

    /// A compressed batch that loses records is compressed again with its
    /// codec, and its records read back as they were written.
    #[test]
    fn compressed_batches_are_rebuilt_with_their_codec() {
        for compression in [
            Compression::Gzip,
            Compression::Snappy,
            Compression::Lz4,
            Compression::Zstd,
        ] {
            let dir = tempfile::tempdir().expect("tempdir");
            let mut log =
                PartitionLog::open(dir.path().join("t-0"), compacted(400, &[]), 0).expect("open");
            let records = [("a", Some("1")), ("b", Some("1")), ("c", None)];
            append_compressed(&mut log, &records, 100, compression, |_| {}).expect("append");
            append(&mut log, &[("b", Some("2"))], 200);
            roll(&mut log, 1, 300);
            let written = read_all(&log);
            assert!(log.clean(0).expect("clean").is_some());
            let expected: Vec<Seen> = written
                .iter()
                .filter(|r| r.offset != 1 && r.key.as_deref() != Some(b"filler"))
                .cloned()
                .collect();
            let kept: Vec<Seen> = read_all(&log)
                .into_iter()
                .filter(|r| r.key.as_deref() != Some(b"filler"))
                .collect();
            assert_eq!(kept, expected, "{compression:?}");
            let first = log.read(0, 1).expect("read");
            let header = BatchHeader::parse(&first).expect("a batch");
            assert_eq!(header.codec(), compression as i16);
            assert_eq!(header.delete_horizon(), Some(86_400_000), "the tombstone's");
            assert!(batch::crc_matches(&first[..header.size]));
        }
    }

    /// A pass is due once the dirty part is `min.cleanable.dirty.ratio` of
    /// the cleanable log, not before.
    #[test]
    fn a_pass_waits_for_the_dirty_ratio() {
        let dir = tempfile::tempdir().expect("tempdir");
        let settings = compacted(300, &[("min.cleanable.dirty.ratio", "0.6")]);
        let mut log = PartitionLog::open(dir.path().join("t-0"), settings, 0).expect("open");
        for n in 0..40 {
            append(&mut log, &[(&format!("k{n}"), Some("v"))], 0);
        }
        roll(&mut log, 1, 0);
        assert!(log.clean(0).expect("clean").is_some());
        let clean_bytes: u64 = log.closed.values().map(Segment::size).sum();
        let mut waited = 0;
        loop {
            roll(&mut log, 1, 0);
            let dirty = log.closed.values().map(Segment::size).sum::<u64>() - clean_bytes;
            let due = dirty * 10 >= (clean_bytes + dirty) * 6;
            let cleaned = log.clean(0).expect("clean").is_some();
            assert_eq!(
                cleaned,
                due,
                "{dirty} dirty bytes of {}",
                clean_bytes + dirty
            );
            if cleaned {
                break;
            }
            waited += 1;
        }
        assert!(waited > 0, "the ratio held a pass back");
    }

    /// A tombstone stays `delete.retention.ms` after its batch was first
    /// cleaned (the horizon is saved in the batch, so across a reopen too),
    /// then goes; the value it deleted goes at the first pass.
    #[test]
    fn tombstones_are_kept_for_the_delete_retention_then_removed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("t-0");
        let settings = compacted(300, &[("delete.retention.ms", "1000")]);
        let mut log = PartitionLog::open(path.clone(), settings.clone(), 0).expect("open");
        append(&mut log, &[("gone", Some("v")), ("kept", Some("k"))], 0);
        append(&mut log, &[("gone", None)], 1);
        roll(&mut log, 3, 2);
        let keys = |log: &PartitionLog| -> Vec<(String, bool)> {
            read_all(log)
                .into_iter()
                .filter(|r| r.key.as_deref() != Some(b"filler"))
                .map(|r| {
                    let key = String::from_utf8_lossy(r.key.as_deref().unwrap_or_default());
                    (key.into_owned(), r.value.is_none())
                })
                .collect()
        };
        let tombstone_kept = vec![("kept".to_owned(), false), ("gone".to_owned(), true)];

        assert!(log.clean(10_000).expect("clean").is_some());
        assert_eq!(keys(&log), tombstone_kept);
        assert_eq!(log.clean(10_999).expect("clean"), None, "not due yet");
        drop(log);

        // Reopened: new dirty records start a pass, which keeps the
        // tombstone until its horizon, and removes it after.
        let mut log = PartitionLog::open(path, settings, 0).expect("reopen");
        roll(&mut log, 3, 3);
        assert!(log.clean(10_999).expect("clean").is_some());
        assert_eq!(keys(&log), tombstone_kept);
        assert_eq!(log.clean(10_999).expect("clean"), None);
        // The kept horizon makes the pass due, with nothing dirty.
        assert!(log.clean(11_000).expect("clean").is_some());
        assert_eq!(keys(&log), vec![("kept".to_owned(), false)]);
    }

    /// Segments holding records younger than `min.compaction.lag.ms` are
    /// not cleaned, nor anything after them.
    #[test]
    fn the_min_compaction_lag_keeps_young_records() {
        let dir = tempfile::tempdir().expect("tempdir");
        let settings = compacted(300, &[("min.compaction.lag.ms", "1000")]);
        let mut log = PartitionLog::open(dir.path().join("t-0"), settings, 0).expect("open");
        for n in 0..10 {
            append(&mut log, &[("k", Some("old"))], n);
        }
        roll(&mut log, 1, 10);
        for n in 0..10 {
            append(&mut log, &[("k", Some("young"))], 5000 + n);
        }
        roll(&mut log, 1, 5000);
        let written = read_all(&log);
        assert_eq!(log.clean(900).expect("clean"), None, "all too young");
        assert_eq!(read_all(&log), written);

        // At 5500 the first records are old enough, the later ones not:
        // only the old segments are cleaned, by what they hold.
        assert!(log.clean(5500).expect("clean").is_some());
        let values = |log: &PartitionLog, value: &[u8]| {
            read_all(log)
                .iter()
                .filter(|r| r.value.as_deref() == Some(value))
                .count()
        };
        assert_eq!(values(&log, b"old"), 1);
        assert_eq!(values(&log, b"young"), 10);
        assert!(log.clean(10_000).expect("clean").is_some());
        assert_eq!(values(&log, b"old"), 0);
        assert_eq!(values(&log, b"young"), 1);
    }

    /// A first segment whose records all went stays, empty, so the log
    /// start does not move and a read there goes on to the next record; a
    /// later one goes. The empty segment does not hold retention back.
    #[test]
    fn an_emptied_first_segment_keeps_the_log_start() {
        let dir = tempfile::tempdir().expect("tempdir");
        let settings = compacted(300, &[("cleanup.policy", "compact,delete")]);
        let mut log = PartitionLog::open(dir.path().join("t-0"), settings, 0).expect("open");
        roll(&mut log, 3, 0);
        append(&mut log, &[("k", Some("v"))], 0);
        roll(&mut log, 1, 0);
        let bases: Vec<i64> = log.closed.keys().copied().collect();
        assert!(log.clean(0).expect("clean").is_some());
        assert_eq!(log.log_start_offset(), 0);
        assert_eq!(log.closed.values().next().map(Segment::size), Some(0));
        assert!(
            log.closed.len() < bases.len(),
            "emptied later segments went"
        );
        let read = read_all(&log);
        assert_eq!(decode(&log.read(0, 1).expect("read")).first(), read.first());

        let mut retention = log.settings().clone();
        retention.retention_ms = 1000;
        log.set_settings(retention);
        append(&mut log, &[("young", Some("v"))], 10_000);
        let active = log.active.base_offset();
        assert!(log.enforce_retention(10_500).expect("retention") > 0);
        assert_eq!(log.log_start_offset(), active);
    }

    /// Copies the files of a log directory.
    fn copy_dir(from: &Path, to: &Path) {
        fs::create_dir_all(to).expect("mkdir");
        for entry in fs::read_dir(from).expect("read dir") {
            let entry = entry.expect("entry");
            fs::copy(entry.path(), to.join(entry.file_name())).expect("copy");
        }
    }

    /// A crash at any step of swapping a cleaned segment in leaves a log
    /// that opens consistent: the old segment (the copy is deleted) before
    /// the rename, the cleaned one (indexes rebuilt) after it.
    #[test]
    fn a_crash_while_swapping_in_a_cleaned_segment_recovers() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (cleaned_path, crashed) = (dir.path().join("cleaned"), dir.path().join("crashed"));
        let settings = compacted(300, &[]);
        let mut log = PartitionLog::open(cleaned_path.clone(), settings.clone(), 0).expect("open");
        append(&mut log, &[("kept", Some("v"))], 0);
        for n in 0..30 {
            let key = format!("k{}", n % 4);
            append(&mut log, &[(&key, Some("v"))], n);
        }
        let written = read_all(&log);
        drop(log);
        copy_dir(&cleaned_path, &crashed);
        let mut log = PartitionLog::open(cleaned_path.clone(), settings.clone(), 0).expect("open");
        let first_end = log.closed.values().nth(1).expect("segments").base_offset();
        assert!(log.clean(100).expect("clean").is_some());
        let cleaned = read_all(&log);
        drop(log);
        let first = |kind: &str| segment::file_name(0, kind);
        let cleaned_first = fs::read(cleaned_path.join(first("log"))).expect("read");
        assert!(
            cleaned_first.len()
                < fs::metadata(crashed.join(first("log")))
                    .expect("stat")
                    .len() as usize
        );

        // The copy half written.
        fs::write(crashed.join(first(segment::CLEANED)), &cleaned_first[..50]).expect("write");
        let log = PartitionLog::open(crashed.clone(), settings.clone(), 0).expect("recover");
        assert_eq!(read_all(&log), written);
        assert!(!crashed.join(first(segment::CLEANED)).exists());
        drop(log);

        // The copy complete, the index files deleted.
        fs::write(crashed.join(first(segment::CLEANED)), &cleaned_first).expect("write");
        for kind in ["index", "timeindex"] {
            fs::remove_file(crashed.join(first(kind))).expect("remove");
        }
        let log = PartitionLog::open(crashed.clone(), settings.clone(), 0).expect("recover");
        assert_eq!(read_all(&log), written);
        drop(log);

        // The copy renamed over the segment, its indexes not yet rebuilt.
        for kind in ["index", "timeindex"] {
            fs::remove_file(crashed.join(first(kind))).expect("remove");
        }
        fs::write(crashed.join(first(segment::CLEANED)), &cleaned_first).expect("write");
        fs::rename(
            crashed.join(first(segment::CLEANED)),
            crashed.join(first("log")),
        )
        .expect("rename");
        let mut log = PartitionLog::open(crashed.clone(), settings, 0).expect("recover");
        let first_cleaned: Vec<Seen> = cleaned
            .iter()
            .filter(|r| r.offset < first_end)
            .cloned()
            .collect();
        let rest: Vec<Seen> = written
            .iter()
            .filter(|r| r.offset >= first_end)
            .cloned()
            .collect();
        assert_eq!(read_all(&log), [first_cleaned, rest].concat());
        // The next pass finishes the work.
        assert!(log.clean(100).expect("clean").is_some());
        assert_eq!(read_all(&log), cleaned);
    }

    /// Appends a batch of producer 7's transaction at `sequence`.
    fn append_transactional(log: &mut PartitionLog, records: &[Write<'_>], sequence: i32) {
        append_as(log, records, 0, |record| {
            record.producer_id = 7;
            record.producer_epoch = 0;
            record.sequence = sequence + record.offset as i32;
            record.transactional = true;
        })
        .expect("append");
    }

    /// Every record a read-committed consumer reads from the log start:
    /// the stable part, without markers and the records of the aborted
    /// transactions the log names for it.
    fn read_committed(log: &PartitionLog) -> Vec<Seen> {
        let stable = log.last_stable_offset();
        let aborted = log.aborted_transactions(log.log_start_offset(), stable);
        let mut seen = Vec::new();
        let mut offset = log.log_start_offset();
        while offset < stable {
            let bytes = log.read_stable(offset, 1 << 20).expect("read");
            let mut buf = bytes.clone();
            let records = RecordBatchDecoder::decode_all(&mut buf)
                .expect("batches decode")
                .into_iter()
                .flat_map(|set| set.records);
            for record in records {
                let skipped = record.transactional
                    && aborted.iter().any(|a| {
                        a.producer_id == record.producer_id
                            && (a.first_offset..=a.last_offset).contains(&record.offset)
                    });
                if !record.control && !skipped && record.offset >= offset {
                    seen.push(Seen::from(record));
                }
            }
            offset = next_offset(&bytes).expect("a batch");
        }
        seen
    }

    /// The key and value of each record but the fillers, in offset order.
    fn values(records: &[Seen]) -> Vec<(i64, &str, Option<&str>)> {
        records
            .iter()
            .filter(|r| !r.control && r.key.as_deref() != Some(b"filler"))
            .map(|r| {
                (
                    r.offset,
                    r.key.as_deref().map(text).expect("a key"),
                    r.value.as_deref().map(text),
                )
            })
            .collect()
    }

    fn text(bytes: &[u8]) -> &str {
        std::str::from_utf8(bytes).expect("utf-8")
    }

    /// The offsets of the transaction markers in the log.
    fn markers(log: &PartitionLog) -> Vec<i64> {
        read_all(log)
            .iter()
            .filter(|r| r.control)
            .map(|r| r.offset)
            .collect()
    }

    /// The base offsets of producer 7's stored batches, markers left out.
    fn transactional_batches(log: &PartitionLog) -> Vec<i64> {
        let mut bases = Vec::new();
        for segment in log.segments() {
            segment
                .for_each_header(|_, header| {
                    if header.producer_id == 7 && !header.control() {
                        bases.push(header.base_offset);
                    }
                    Ok(())
                })
                .expect("walk");
        }
        bases
    }

    /// Records of committed transactions are cleaned as others: they
    /// supersede older values and go once superseded; a committed batch
    /// left with nothing is dropped; the markers stay.
    #[test]
    fn committed_transactional_records_are_compacted() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut log =
            PartitionLog::open(dir.path().join("t-0"), compacted(300, &[]), 0).expect("open");
        append(&mut log, &[("k", Some("plain"))], 0);
        append_transactional(&mut log, &[("k", Some("c1")), ("j", Some("c1"))], 0);
        append_transactional(&mut log, &[("i", Some("c1"))], 2);
        log.append_marker(7, 0, Marker::Commit, 0).expect("marker");
        append_transactional(&mut log, &[("i", Some("c2"))], 3);
        log.append_marker(7, 0, Marker::Commit, 0).expect("marker");
        append_transactional(&mut log, &[("k", Some("c2"))], 4);
        log.append_marker(7, 0, Marker::Commit, 0).expect("marker");
        roll(&mut log, 2, 0);
        assert_eq!(markers(&log), [4, 6, 8]);

        assert!(log.clean(0).expect("clean").is_some());
        let latest = [
            (2, "j", Some("c1")),
            (5, "i", Some("c2")),
            (7, "k", Some("c2")),
        ];
        assert_eq!(values(&read_all(&log)), latest);
        assert_eq!(values(&read_committed(&log)), latest);
        assert_eq!(markers(&log), [4, 6, 8], "markers kept");
        // The batch of "i"@c1 is dropped; the one of "j" keeps it alone.
        assert_eq!(transactional_batches(&log), [1, 5, 7]);
    }

    /// Records of aborted transactions are removed, and neither hide nor
    /// replace the committed value before them, for read-uncommitted and
    /// read-committed consumers alike; the abort markers stay.
    #[test]
    fn aborted_records_are_removed_and_hide_nothing() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut log =
            PartitionLog::open(dir.path().join("t-0"), compacted(300, &[]), 0).expect("open");
        append(&mut log, &[("k", Some("before"))], 0);
        append_transactional(&mut log, &[("k", Some("aborted")), ("x", Some("a"))], 0);
        log.append_marker(7, 0, Marker::Abort, 0).expect("marker");
        append_transactional(&mut log, &[("j", Some("committed"))], 2);
        log.append_marker(7, 0, Marker::Commit, 0).expect("marker");
        append_transactional(&mut log, &[("j", None), ("k", None)], 3);
        log.append_marker(7, 0, Marker::Abort, 0).expect("marker");
        roll(&mut log, 2, 0);
        let committed = [(0, "k", Some("before")), (4, "j", Some("committed"))];
        assert_eq!(values(&read_committed(&log)), committed);

        assert!(log.clean(0).expect("clean").is_some());
        assert_eq!(values(&read_all(&log)), committed);
        assert_eq!(values(&read_committed(&log)), committed);
        assert_eq!(markers(&log), [3, 5, 8], "markers kept");
        // The last aborted batch is the producer's last: kept empty.
        assert_eq!(transactional_batches(&log), [4, 6]);
    }

    /// A tombstone past its horizon goes in a log holding transactional
    /// batches too, with the committed and aborted values of its key.
    #[test]
    fn tombstones_beside_transactions_are_removed_after_their_horizon() {
        let dir = tempfile::tempdir().expect("tempdir");
        let settings = compacted(300, &[("delete.retention.ms", "10")]);
        let mut log = PartitionLog::open(dir.path().join("t-0"), settings, 0).expect("open");
        append(&mut log, &[("gone", Some("plain"))], 0);
        append_transactional(&mut log, &[("gone", Some("committed"))], 0);
        log.append_marker(7, 0, Marker::Commit, 0).expect("marker");
        append(&mut log, &[("gone", None)], 0);
        append_transactional(&mut log, &[("gone", Some("aborted"))], 1);
        log.append_marker(7, 0, Marker::Abort, 0).expect("marker");
        append_transactional(&mut log, &[("kept", Some("v"))], 2);
        log.append_marker(7, 0, Marker::Commit, 0).expect("marker");
        roll(&mut log, 2, 0);

        assert!(log.clean(0).expect("clean").is_some());
        assert_eq!(
            values(&read_all(&log)),
            [(3, "gone", None), (6, "kept", Some("v"))],
            "the tombstone stays until its horizon"
        );
        assert_eq!(log.clean(5).expect("clean"), None, "not due yet");
        assert!(log.clean(10).expect("clean").is_some());
        assert_eq!(values(&read_all(&log)), [(6, "kept", Some("v"))]);
        assert_eq!(values(&read_committed(&log)), [(6, "kept", Some("v"))]);
        assert_eq!(markers(&log), [2, 5, 7]);
    }

    /// A log opened again after cleaning rebuilds its producer and aborted
    /// transaction state from what is left: an aborted transaction whose
    /// batches all went drops out of the index, one whose emptied batch
    /// stays is still there, consumers read the same records as before,
    /// and the transactional producer carries on from its last sequence.
    #[test]
    fn a_log_opened_again_after_cleaning_transactions_is_consistent() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("t-0");
        let settings = compacted(300, &[]);
        let mut log = PartitionLog::open(path.clone(), settings.clone(), 0).expect("open");
        append(&mut log, &[("k", Some("before"))], 0);
        append_transactional(&mut log, &[("k", Some("a1"))], 0);
        log.append_marker(7, 0, Marker::Abort, 0).expect("marker");
        append_transactional(&mut log, &[("k", Some("c"))], 1);
        log.append_marker(7, 0, Marker::Commit, 0).expect("marker");
        append_transactional(&mut log, &[("k", Some("a2"))], 2);
        log.append_marker(7, 0, Marker::Abort, 0).expect("marker");
        roll(&mut log, 2, 0);
        let aborted = log.aborted_transactions(0, log.log_end_offset());
        assert_eq!(aborted.len(), 2);

        assert!(log.clean(0).expect("clean").is_some());
        let committed = [(3, "k", Some("c"))];
        assert_eq!(values(&read_committed(&log)), committed);
        assert_eq!(values(&read_all(&log)), committed);
        assert_eq!(transactional_batches(&log), [3, 5], "the last kept empty");
        let kept = read_all(&log);
        let kept_committed = read_committed(&log);
        drop(log);

        let mut log = PartitionLog::open(path, settings, 0).expect("reopen");
        assert_eq!(
            log.aborted_transactions(0, log.log_end_offset()),
            aborted[1..],
            "the emptied batch's transaction is still indexed"
        );
        assert_eq!(log.last_stable_offset(), log.log_end_offset());
        assert_eq!(read_all(&log), kept);
        assert_eq!(read_committed(&log), kept_committed);
        // The producer goes on from its last sequence (that of the emptied
        // batch); a gap is refused.
        let gap = append_as(&mut log, &[("k", Some("late"))], 0, |record| {
            record.producer_id = 7;
            record.producer_epoch = 0;
            record.sequence = 5;
            record.transactional = true;
        });
        assert!(
            matches!(
                gap,
                Err(AppendError::Sequence(SequenceError::OutOfOrder { .. }))
            ),
            "{gap:?}"
        );
        append_transactional(&mut log, &[("k", Some("after"))], 3);
        log.append_marker(7, 0, Marker::Commit, 0).expect("marker");
        assert_eq!(
            values(&read_committed(&log)).last(),
            Some(&(log.log_end_offset() - 2, "k", Some("after")))
        );
    }

    /// An open transaction stops the pass before its first record: its
    /// outcome is not known yet.
    #[test]
    fn an_open_transaction_bounds_the_cleanable_part() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut log =
            PartitionLog::open(dir.path().join("t-0"), compacted(300, &[]), 0).expect("open");
        append(&mut log, &[("k", Some("1"))], 0);
        roll(&mut log, 1, 0);
        append_transactional(&mut log, &[("t", Some("open"))], 0);
        append(&mut log, &[("k", Some("2"))], 0);
        roll(&mut log, 2, 0);
        let open_at = log.last_stable_offset();
        assert!(log.clean(0).expect("clean").is_some());
        assert!(read_all(&log)
            .iter()
            .any(|r| r.value.as_deref() == Some(b"1")));
        assert!(log.cleaner.first_dirty <= open_at);
    }

    /// Appends a batch of idempotent producer 9 at `sequence`.
    fn append_idempotent(
        log: &mut PartitionLog,
        records: &[Write<'_>],
        sequence: i32,
    ) -> Result<i64, AppendError> {
        append_as(log, records, 0, idempotent(sequence))
    }

    /// Makes a record idempotent producer 9's, its batch at `sequence`.
    fn idempotent(sequence: i32) -> impl Fn(&mut Record) {
        move |record| {
            record.producer_id = 9;
            record.producer_epoch = 0;
            record.sequence = sequence + record.offset as i32;
        }
    }

    /// The stored batches of producer 9, as headers.
    fn producer_batches(log: &PartitionLog) -> Vec<BatchHeader> {
        let mut headers = Vec::new();
        for segment in log.segments() {
            segment
                .for_each_header(|_, header| {
                    if header.producer_id == 9 {
                        headers.push(*header);
                    }
                    Ok(())
                })
                .expect("walk");
        }
        headers
    }

    /// An idempotent producer's batches keep their sequence ranges when
    /// records go; its last batch is kept even when empty, so that, also
    /// after a reopen, its next batch must follow on from it, and does.
    #[test]
    fn an_idempotent_producer_keeps_producing_after_cleaning() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("t-0");
        let mut log = PartitionLog::open(path.clone(), compacted(300, &[]), 0).expect("open");
        append_idempotent(&mut log, &[("a", Some("1")), ("x", Some("1"))], 0).expect("append");
        append_idempotent(&mut log, &[("b", Some("1"))], 2).expect("append");
        append_idempotent(&mut log, &[("c", Some("1"))], 3).expect("append");
        append(
            &mut log,
            &[("a", Some("2")), ("b", Some("2")), ("c", Some("2"))],
            0,
        );
        roll(&mut log, 2, 0);
        assert!(log.clean(0).expect("clean").is_some());

        let batches = producer_batches(&log);
        let ranges: Vec<_> = batches
            .iter()
            .map(|h| (h.base_sequence, h.last_offset_delta, h.record_count))
            .collect();
        // [a, x] keeps x with its range; [b] goes; [c], the last, is kept empty.
        assert_eq!(ranges, [(0, 1, 1), (3, 0, 0)]);
        assert_eq!(
            append_idempotent(&mut log, &[("d", Some("1"))], 4)
                .map(|_| ())
                .ok(),
            Some(())
        );
        drop(log);

        let mut log = PartitionLog::open(path.clone(), compacted(300, &[]), 0).expect("reopen");
        assert!(matches!(
            append_idempotent(&mut log, &[("d", Some("2"))], 9),
            Err(AppendError::Sequence(SequenceError::OutOfOrder {
                last: 4,
                ..
            }))
        ));
        append_idempotent(&mut log, &[("d", Some("2"))], 5).expect("follows on");
        roll(&mut log, 2, 0);
        assert!(log.clean(0).expect("clean").is_some());
        drop(log);

        // Cleaned with the empty batch no longer the last: it went.
        let mut log = PartitionLog::open(path, compacted(300, &[]), 0).expect("reopen");
        let empty = producer_batches(&log)
            .iter()
            .filter(|h| h.record_count == 0)
            .count();
        assert_eq!(empty, 0);
        append_idempotent(&mut log, &[("e", Some("1"))], 6).expect("follows on");
    }

    /// The empty batch kept as a producer's last is written as Kafka writes
    /// it, whatever the batch was compressed with: its header alone, with
    /// no codec, and a valid CRC; consumers read past it.
    #[test]
    fn an_emptied_batch_is_written_as_kafka_writes_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut log =
            PartitionLog::open(dir.path().join("t-0"), compacted(300, &[]), 0).expect("open");
        let records = [("a", Some("1")), ("b", Some("1"))];
        append_compressed(&mut log, &records, 0, Compression::Gzip, idempotent(0)).expect("append");
        append(&mut log, &[("a", Some("2")), ("b", Some("2"))], 0);
        roll(&mut log, 1, 0);
        let written = read_all(&log);
        assert!(log.clean(0).expect("clean").is_some());

        let [empty] = producer_batches(&log)[..] else {
            panic!("one batch of the producer");
        };
        assert_eq!((empty.size, empty.record_count), (batch::HEADER_LEN, 0));
        assert_eq!((empty.codec(), empty.delete_horizon()), (0, None));
        let stored = log.read(0, 1).expect("read");
        assert!(batch::crc_matches(&stored[..empty.size]));
        let kept: Vec<Seen> = written.into_iter().filter(|r| r.offset >= 2).collect();
        assert_eq!(read_all(&log)[..2], kept[..2]);
    }

    /// A lookup by time answers the first record kept with a timestamp at
    /// or after the time, never the offset of an empty batch, whatever its
    /// max timestamp says.
    #[test]
    fn a_time_lookup_skips_emptied_batches() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut log =
            PartitionLog::open(dir.path().join("t-0"), compacted(300, &[]), 0).expect("open");
        append_as(&mut log, &[("c", Some("1"))], 500, idempotent(0)).expect("append");
        append(&mut log, &[("c", Some("2"))], 100);
        roll(&mut log, 1, 300);
        assert!(log.clean(0).expect("clean").is_some());
        assert_eq!(producer_batches(&log)[0].record_count, 0, "kept empty");
        let first_at_300 = read_all(&log)
            .into_iter()
            .find(|r| r.timestamp >= 200)
            .map(|r| (r.offset, r.timestamp));
        assert_eq!(first_at_300.map(|(offset, _)| offset > 1), Some(true));
        assert_eq!(time_lookup(&log, 200).expect("lookup"), first_at_300);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        /// For random keyed writes (tombstones included) and passes in
        /// between, the cleaned log read from its start gives every key
        /// its last value, and below the active segment holds each key
        /// once: its latest record.
        #[test]
        fn a_cleaned_log_keeps_the_last_value_of_every_key(
            batches in prop::collection::vec(
                prop::collection::vec((0_u8..6, prop::option::weighted(0.85, 0_u16..1000)), 1..4),
                1..40,
            ),
            passes in prop::collection::vec(any::<bool>(), 40),
        ) {
            let dir = tempfile::tempdir().expect("tempdir");
            let settings = compacted(256, &[("min.cleanable.dirty.ratio", "0")]);
            let mut log = PartitionLog::open(dir.path().join("t-0"), settings, 0).expect("open");
            let mut last = HashMap::new();
            for (n, batch) in batches.iter().enumerate() {
                let owned: Vec<(String, Option<String>)> = batch
                    .iter()
                    .map(|(key, value)| (format!("k{key}"), value.map(|v| v.to_string())))
                    .collect();
                let records: Vec<Write<'_>> =
                    owned.iter().map(|(k, v)| (k.as_str(), v.as_deref())).collect();
                append(&mut log, &records, n as i64);
                for (key, value) in owned {
                    last.insert(key, value);
                }
                if passes[n] {
                    log.clean(0).expect("clean");
                }
            }
            log.clean(0).expect("clean");
            let read = read_all(&log);
            let mut seen = HashMap::new();
            for record in &read {
                let key = String::from_utf8_lossy(record.key.as_deref().unwrap_or_default()).into_owned();
                let value = record.value.as_deref().map(|v| String::from_utf8_lossy(v).into_owned());
                seen.insert(key, value);
            }
            prop_assert_eq!(seen, last);
            prop_assert_eq!(superseded(&read, log.active.base_offset()), Vec::<Seen>::new());
            let offsets: Vec<i64> = read.iter().map(|r| r.offset).collect();
            prop_assert!(offsets.windows(2).all(|w| w[0] < w[1]));
        }
    }
}
