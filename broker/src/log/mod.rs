//! The log of one partition: an ordered list of segments in a directory.
//!
//! Appends go to the last (active) segment, which is rolled when it reaches
//! `segment.bytes` or `segment.ms`. Offsets are assigned here, so a batch on
//! disk is exactly the batch served to consumers. Retention deletes whole
//! segments from the front.
//!
//! DeleteRecords moves the log start forward, possibly into the middle of a
//! segment: the log start is then kept on its own, saved in
//! [`LOG_START_FILE`], and every read honours it. Segments wholly below it
//! are deleted.
//!
//! Topics whose cleanup policy includes `compact` are also cleaned
//! ([`cleaner`]): closed segments are rewritten keeping the latest record of
//! each key, at its offset, so offsets have gaps.
//!
//! Batches keep their producer id, epoch, sequence and transactional and
//! control flags untouched: the producers' state ([`producers`]: their
//! last batches, their open transactions, the aborted ones) lives beside
//! the log, and is rebuilt from the batch headers and transaction markers
//! of every segment when the log opens.

pub(crate) mod batch;
mod cleaner;
mod index;
pub(crate) mod producers;
pub(crate) mod records;
mod segment;

use std::collections::BTreeMap;
use std::fs;
use std::io::{self, Write};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

use bytes::Bytes;
use tracing::{debug, error, info, warn};

use crate::config::topic::LogSettings;
use batch::BatchHeader;
use batch::Marker;
use cleaner::CleanerState;
use producers::{AbortedTransaction, Producers, SequenceError};
use records::MAX_RECORDS_BYTES;
use segment::Segment;

/// The largest control batch read for its transaction marker.
const MAX_MARKER_BATCH_BYTES: usize = 1024;

/// Where an append landed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Appended {
    /// Offset of the first appended record.
    pub(crate) base_offset: i64,
    /// The broker timestamp given to the records, or -1 with create time.
    pub(crate) log_append_time: i64,
}

/// Why an append was refused.
#[derive(Debug, thiserror::Error)]
pub(crate) enum AppendError {
    /// The batch does not follow on from its producer's last one.
    #[error(transparent)]
    Sequence(#[from] SequenceError),
    /// The log could not be written.
    #[error(transparent)]
    Io(#[from] io::Error),
}

/// Why DeleteRecords could not move the log start.
#[derive(Debug, thiserror::Error)]
pub(crate) enum DeleteRecordsError {
    /// The offset is negative or past the high watermark: Kafka never
    /// lets the log start pass the high watermark.
    #[error("offset {offset} is outside 0..={high_watermark}")]
    OutOfRange { offset: i64, high_watermark: i64 },
    /// The topic's `cleanup.policy` does not include `delete`: its records
    /// may not be deleted (Kafka's POLICY_VIOLATION).
    #[error("the cleanup policy of the topic does not include delete")]
    PolicyViolation,
    /// The new log start could not be saved.
    #[error(transparent)]
    Io(#[from] io::Error),
}

/// Why a read found nothing to return.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ReadError {
    /// The offset is before the log start or after its end.
    #[error("offset out of range")]
    OutOfRange,
    /// The segment could not be read.
    #[error(transparent)]
    Io(#[from] io::Error),
}

/// The file in a partition's directory holding the log start offset that
/// DeleteRecords last set, in decimal. The log start may lie inside a
/// segment, so the segment files alone cannot tell it after a restart.
const LOG_START_FILE: &str = "log-start-offset";

/// Forces a directory entry change (a created or deleted file) to disk.
pub(crate) fn sync_dir(dir: &Path) -> io::Result<()> {
    fs::File::open(dir)?.sync_all()
}

/// Replaces the file at `path` with `contents` atomically and durably: a
/// crash leaves the old file or the new one, never a mix. The contents go
/// to `path` with a `tmp` extension first.
pub(crate) fn replace_file(path: &Path, contents: &[u8]) -> io::Result<()> {
    let tmp = path.with_extension("tmp");
    let mut file = fs::File::create(&tmp)?;
    file.write_all(contents)?;
    file.sync_all()?;
    fs::rename(&tmp, path)?;
    sync_dir(path.parent().unwrap_or(Path::new(".")))
}

/// A partition's log.
#[derive(Debug)]
pub(crate) struct PartitionLog {
    dir: PathBuf,
    /// Closed segments by base offset.
    closed: BTreeMap<i64, Segment>,
    /// The segment appends go to.
    active: Segment,
    settings: LogSettings,
    /// The log start DeleteRecords set (0 until then). The log start is
    /// this or the first segment's base, whichever is later: retention
    /// moves it by deleting segments, DeleteRecords by raising this, also
    /// to the middle of a segment. Saved in [`LOG_START_FILE`].
    start_offset: i64,
    /// Set when forcing the log to disk failed. After a failed `fsync` the
    /// kernel may have dropped the unwritten pages and reports the loss only
    /// once, so a later `fsync` that succeeds proves nothing: appending on
    /// top could acknowledge records that a crash then loses with the
    /// hole below them. As Kafka takes a failed log directory offline, the
    /// log refuses reads and appends until the broker restarts and recovery
    /// cuts the log at the first batch that did not reach the disk.
    offline: bool,
    /// The last batches of each idempotent producer in the log.
    producers: Producers,
    /// The transactions that ended with an abort marker, oldest first.
    aborted: Vec<AbortedTransaction>,
    /// Where the log cleaner's last pass ended, and when it is due again.
    cleaner: CleanerState,
}

impl PartitionLog {
    /// Opens the log in `dir`, creating it if needed and recovering the
    /// active segment (see [`Segment::open`]), from the log start saved by
    /// DeleteRecords, if any.
    pub(crate) fn open(dir: PathBuf, settings: LogSettings, now_ms: i64) -> io::Result<Self> {
        fs::create_dir_all(&dir)?;
        let start_offset = read_log_start(&dir)?;
        let mut bases = Vec::new();
        for entry in fs::read_dir(&dir)? {
            let name = entry?.file_name();
            let name = name.to_string_lossy();
            // A cleaned copy the cleaner had not swapped in when the broker
            // stopped may be incomplete; the segment it copies is intact.
            if name.ends_with(&format!(".{}", segment::CLEANED)) {
                let path = dir.join(&*name);
                warn!(file = %path.display(), "deleting an unfinished cleaned segment");
                segment::remove_if_present(&path)?;
                continue;
            }
            // Segments are named by their base offset, which is never
            // negative; anything else is not a segment of this log.
            if let Some(base) = name
                .strip_suffix(".log")
                .and_then(|b| b.parse::<i64>().ok())
                .filter(|&base| base >= 0)
            {
                bases.push(base);
            }
        }
        bases.sort_unstable();
        let mut closed = BTreeMap::new();
        let mut active = match bases.split_last() {
            Some((&last, older)) => {
                for (i, &base) in older.iter().enumerate() {
                    let next_base = bases[i + 1];
                    let segment = Segment::open(
                        &dir,
                        base,
                        Some(next_base),
                        settings.index_interval_bytes,
                        now_ms,
                    )?;
                    closed.insert(base, segment);
                }
                Segment::open(&dir, last, None, settings.index_interval_bytes, now_ms)?
            }
            None => {
                // A log whose records were all deleted continues after
                // them, so offsets are never given out twice.
                let segment =
                    Segment::create(&dir, start_offset, settings.index_interval_bytes, now_ms)?;
                sync_dir(&dir)?;
                segment
            }
        };
        if active.next_offset() < start_offset {
            // The log ends before its saved start (a crash lost a tail
            // that was never flushed, or files were removed): every
            // record in it is below the start, so, as Kafka's `LogLoader`
            // does, the log starts again empty at the saved start.
            warn!(
                dir = %dir.display(),
                end = active.next_offset(),
                start = start_offset,
                "log ends before its saved start: starting it again empty there"
            );
            for segment in std::mem::take(&mut closed).into_values() {
                segment.delete()?;
            }
            let empty = Segment::create(&dir, start_offset, settings.index_interval_bytes, now_ms)?;
            std::mem::replace(&mut active, empty).delete()?;
            sync_dir(&dir)?;
        }
        let mut producers = Producers::default();
        let mut aborted = Vec::new();
        for segment in closed.values().chain([&active]) {
            segment.for_each_header(|position, header| {
                if !header.control() {
                    producers.record(header);
                    return Ok(());
                }
                // A marker batch is one small record; a larger "control
                // batch" is not one the broker wrote.
                if header.size > MAX_MARKER_BATCH_BYTES {
                    return Ok(());
                }
                let batch = segment.read_at(position, header.size)?;
                if let Some(marker) = records::marker(&batch, header) {
                    aborted.extend(producers.end_transaction(header, marker));
                }
                Ok(())
            })?;
        }
        let cleaner = CleanerState::open(&dir, active.next_offset())?;
        let mut log = Self {
            dir,
            closed,
            active,
            settings,
            start_offset,
            offline: false,
            producers,
            aborted,
            cleaner,
        };
        // Producers and aborted transactions wholly below a start inside
        // the first segment are forgotten, as when DeleteRecords moved it.
        log.forget_below_start();
        debug!(
            dir = %log.dir.display(),
            segments = log.closed.len() + 1,
            start = log.log_start_offset(),
            end = log.log_end_offset(),
            "opened log"
        );
        Ok(log)
    }

    /// All segments, oldest first.
    fn segments(&self) -> impl Iterator<Item = &Segment> {
        self.closed.values().chain(std::iter::once(&self.active))
    }

    /// The first offset clients may read: where DeleteRecords moved the
    /// log start, or the first segment's base if retention deleted past it.
    pub(crate) fn log_start_offset(&self) -> i64 {
        let first_base = self
            .closed
            .first_key_value()
            .map_or(self.active.base_offset(), |(_, s)| s.base_offset());
        first_base.max(self.start_offset)
    }

    /// The offset the next record will get.
    pub(crate) fn log_end_offset(&self) -> i64 {
        self.active.next_offset()
    }

    /// The largest record timestamp in the log, if it has records.
    pub(crate) fn max_timestamp(&self) -> Option<i64> {
        self.segments()
            .filter(|s| s.size() > 0)
            .map(Segment::max_timestamp)
            .max()
    }

    /// Total bytes of all segments.
    pub(crate) fn size(&self) -> u64 {
        self.segments().map(Segment::size).sum()
    }

    /// The log's directory.
    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }

    /// The settings the log is applying.
    pub(crate) fn settings(&self) -> &LogSettings {
        &self.settings
    }

    /// Applies changed topic settings to future appends and retention.
    pub(crate) fn set_settings(&mut self, settings: LogSettings) {
        self.settings = settings;
    }

    /// Appends validated batches (see [`batch::validate_produced`]),
    /// assigning offsets from the log end. A batch an idempotent producer
    /// resends is not appended again: the answer is where it landed the
    /// first time (with its max timestamp for the append time, as Kafka
    /// answers a duplicate).
    pub(crate) fn append(
        &mut self,
        records: &[u8],
        headers: &[BatchHeader],
        now_ms: i64,
    ) -> Result<Appended, AppendError> {
        self.check_online()?;
        for header in headers {
            if let Some(first) = self.producers.check(header)? {
                debug!(
                    dir = %self.dir.display(),
                    producer_id = header.producer_id,
                    sequence = header.base_sequence,
                    offset = first.base_offset,
                    "resent batch already appended"
                );
                return Ok(Appended {
                    base_offset: first.base_offset,
                    log_append_time: first.max_timestamp,
                });
            }
        }
        let appended = self.write(records, headers, now_ms)?;
        for header in &appended.1 {
            self.producers.record(header);
        }
        Ok(appended.0)
    }

    /// Appends a transaction marker of `producer_id` at `epoch`, ending
    /// its open transaction here; returns the marker's offset.
    pub(crate) fn append_marker(
        &mut self,
        producer_id: i64,
        epoch: i16,
        marker: Marker,
        now_ms: i64,
    ) -> Result<i64, AppendError> {
        self.check_online()?;
        let batch = batch::marker_batch(producer_id, epoch, marker, now_ms)?;
        let header = BatchHeader::parse(&batch)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        let (appended, stamped) = self.write(&batch, &[header], now_ms)?;
        for header in &stamped {
            if let Some(aborted) = self.producers.end_transaction(header, marker) {
                self.aborted.push(aborted);
            }
        }
        Ok(appended.base_offset)
    }

    /// Stamps `headers`' batches in `records` with offsets from the log end
    /// (and the append time, if the topic uses it) and writes them, rolling
    /// the segment first if they would overfill it. Returns where they
    /// landed and their headers as stored.
    fn write(
        &mut self,
        records: &[u8],
        headers: &[BatchHeader],
        now_ms: i64,
    ) -> io::Result<(Appended, Vec<BatchHeader>)> {
        let log_append_time = self.settings.log_append_time.then_some(now_ms);
        let base_offset = self.log_end_offset();
        let mut bytes = records.to_vec();
        let mut stamped = Vec::with_capacity(headers.len());
        let mut offset = base_offset;
        let mut position = 0;
        for header in headers {
            batch::stamp(
                &mut bytes[position..position + header.size],
                offset,
                log_append_time,
            );
            let header = BatchHeader {
                base_offset: offset,
                max_timestamp: log_append_time.unwrap_or(header.max_timestamp),
                log_append_time: log_append_time.is_some(),
                ..*header
            };
            // Only a log end near i64::MAX overflows, and only a corrupt base
            // offset accepted by recovery puts it there.
            offset = header
                .next_offset()
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
            position += header.size;
            stamped.push(header);
        }
        let settings = &self.settings;
        if self.active.is_full(
            bytes.len() as u64,
            offset - 1,
            settings.segment_bytes,
            settings.segment_ms,
            now_ms,
        ) {
            self.roll(now_ms)?;
        }
        self.active.append(&bytes, &stamped, offset)?;
        let appended = Appended {
            base_offset,
            log_append_time: log_append_time.unwrap_or(-1),
        };
        Ok((appended, stamped))
    }

    /// The offset below which every transaction has ended: the first
    /// offset of the oldest open transaction (not before the log start,
    /// which retention may have moved past it), or the log end.
    pub(crate) fn last_stable_offset(&self) -> i64 {
        self.producers.first_open_offset().map_or_else(
            || self.log_end_offset(),
            |first| first.max(self.log_start_offset()),
        )
    }

    /// Whether `producer_id` has a transaction open in this log.
    pub(crate) fn in_transaction(&self, producer_id: i64) -> bool {
        self.producers.in_transaction(producer_id)
    }

    /// The producers with a transaction open in this log, with their
    /// epochs.
    pub(crate) fn open_transactions(&self) -> Vec<(i64, i16)> {
        self.producers.open_transactions()
    }

    /// The aborted transactions with records in `[from, to)`, which
    /// read-committed consumers of that range skip (Kafka's
    /// `collectAbortedTransactions`). The index is in the order of the
    /// abort markers, so the search starts at the first marker at or after
    /// `from` and ends at the first at or after `to`.
    pub(crate) fn aborted_transactions(&self, from: i64, to: i64) -> Vec<AbortedTransaction> {
        let start = self
            .aborted
            .partition_point(|aborted| aborted.last_offset < from);
        let mut found = Vec::new();
        for aborted in &self.aborted[start..] {
            if aborted.first_offset < to {
                found.push(*aborted);
            }
            if aborted.last_offset >= to {
                break;
            }
        }
        found
    }

    /// Closes the active segment and starts a new one at the log end.
    fn roll(&mut self, now_ms: i64) -> io::Result<()> {
        let sealed = self.active.seal();
        self.take_offline_on_error(sealed)?;
        let base = self.log_end_offset();
        let segment = Segment::create(&self.dir, base, self.settings.index_interval_bytes, now_ms)?;
        sync_dir(&self.dir)?;
        let old = std::mem::replace(&mut self.active, segment);
        self.closed.insert(old.base_offset(), old);
        debug!(dir = %self.dir.display(), base, "rolled segment");
        Ok(())
    }

    /// Batches from the one containing `offset`, up to about `max_bytes`
    /// (always at least one batch). Empty at the log end.
    pub(crate) fn read(&self, offset: i64, max_bytes: usize) -> Result<Bytes, ReadError> {
        self.check_online()?;
        if offset < self.log_start_offset() || offset > self.log_end_offset() {
            return Err(ReadError::OutOfRange);
        }
        // The segment holding the offset, then later ones in case it ends
        // before the offset (offsets may have gaps after compaction).
        let first = self.segments().filter(|s| s.base_offset() <= offset).last();
        let later = self.segments().filter(|s| s.base_offset() > offset);
        for segment in first.into_iter().chain(later) {
            let bytes = segment.read(offset, max_bytes)?;
            if !bytes.is_empty() {
                return Ok(bytes);
            }
        }
        Ok(Bytes::new())
    }

    /// Like [`read`](Self::read), but only the batches that end by the last
    /// stable offset: what a read-committed consumer may see (it skips
    /// the aborted transactions among them itself, told which by
    /// [`aborted_transactions`](Self::aborted_transactions)).
    pub(crate) fn read_stable(&self, offset: i64, max_bytes: usize) -> Result<Bytes, ReadError> {
        let bytes = self.read(offset, max_bytes)?;
        let stable = self.last_stable_offset();
        // A batch is served whole, so only batches that end by the stable
        // offset: the log start can put it inside an open transaction's
        // batch, whose records past it are not yet committed.
        let end = whole_batches(&bytes)
            .take_while(|(_, header)| header.next_offset().is_ok_and(|next| next <= stable))
            .last()
            .map_or(0, |(end, _)| end);
        Ok(bytes.slice(..end))
    }

    /// The first non-empty batch ending after `after` and the log start
    /// whose max timestamp is at or after `timestamp`: the first that may
    /// hold a record at or after the log start with such a timestamp;
    /// `None` if there is none. The record itself is found with
    /// [`first_at_or_after`] (given the log start), which may decompress
    /// the batch: callers do that after releasing the log, and go on past
    /// the batch if it holds none (see [`offset_for_time`]).
    pub(crate) fn batch_at_time(&self, timestamp: i64, after: i64) -> io::Result<Option<Bytes>> {
        self.check_online()?;
        let start = after.max(self.log_start_offset());
        for segment in self.segments().filter(|s| s.next_offset() > start) {
            if let Some(batch) = segment.batch_at_time(timestamp, start)? {
                return Ok(Some(batch));
            }
        }
        Ok(None)
    }

    /// Forces unflushed appends to disk; a failure takes the log offline
    /// (see `offline`).
    pub(crate) fn sync(&mut self) -> io::Result<()> {
        self.check_online()?;
        let synced = self.active.sync();
        self.take_offline_on_error(synced)
    }

    fn take_offline_on_error(&mut self, result: io::Result<()>) -> io::Result<()> {
        if let Err(e) = &result {
            error!(dir = %self.dir.display(), error = %e, "flush failed: log offline until restart");
            self.offline = true;
        }
        result
    }

    /// Whether a failed flush took the log offline.
    pub(crate) fn is_offline(&self) -> bool {
        self.offline
    }

    fn check_online(&self) -> io::Result<()> {
        if self.offline {
            return Err(io::Error::other(format!(
                "log {} is offline after a failed flush; restart the broker to recover it",
                self.dir.display()
            )));
        }
        Ok(())
    }

    /// Moves the log start to `offset` if that is later (it never moves
    /// back), as Kafka's `maybeIncrementLogStartOffset` for DeleteRecords:
    /// records below it are no longer served, and the closed segments wholly
    /// below it are deleted. The new start is saved before anyone can see
    /// it, so what a client was told survives a restart. Returns the log
    /// start after the call (the response's low watermark).
    ///
    /// `offset` may be anything up to the high watermark, which on this
    /// single broker is the log end: every appended record is replicated.
    pub(crate) fn delete_records_before(&mut self, offset: i64) -> Result<i64, DeleteRecordsError> {
        self.check_online()?;
        if !self.settings.delete_retention {
            return Err(DeleteRecordsError::PolicyViolation);
        }
        let high_watermark = self.log_end_offset();
        if !(0..=high_watermark).contains(&offset) {
            return Err(DeleteRecordsError::OutOfRange {
                offset,
                high_watermark,
            });
        }
        let start = self.log_start_offset();
        if offset <= start {
            return Ok(start);
        }
        replace_file(
            &self.dir.join(LOG_START_FILE),
            format!("{offset}\n").as_bytes(),
        )?;
        self.start_offset = offset;
        self.forget_below_start();
        info!(dir = %self.dir.display(), start = offset, "log start moved by DeleteRecords");
        // The records are already gone for clients; segments that could not
        // be deleted now are tried again by the next retention check.
        let deleted = self.delete_below_start().and_then(|deleted| {
            if deleted > 0 {
                sync_dir(&self.dir)
            } else {
                Ok(())
            }
        });
        if let Err(e) = deleted {
            warn!(dir = %self.dir.display(), error = %e, "cannot delete segments below the log start");
        }
        Ok(offset)
    }

    /// Deletes the closed segments wholly below the log start (the next
    /// segment starts at or before it), as Kafka's
    /// `deleteLogStartOffsetBreachedSegments`. The active segment stays,
    /// even when every record in it is below the start. Returns how many
    /// were deleted; the caller syncs the directory.
    fn delete_below_start(&mut self) -> io::Result<usize> {
        let mut deleted = 0;
        while self
            .segments()
            .nth(1)
            .is_some_and(|next| next.base_offset() <= self.start_offset)
        {
            self.delete_oldest()?;
            deleted += 1;
        }
        Ok(deleted)
    }

    /// Forgets the producers and aborted transactions wholly below the log
    /// start, as a log reopened after its segments were deleted would not
    /// know them.
    fn forget_below_start(&mut self) {
        let start = self.log_start_offset();
        self.producers.forget_before(start);
        self.aborted.retain(|aborted| aborted.last_offset >= start);
    }

    /// Deletes the segments wholly below the log start DeleteRecords set,
    /// whatever the cleanup policy (as Kafka does), and old segments per
    /// `retention.ms` and `retention.bytes` when the cleanup policy
    /// includes `delete`. Returns how many were deleted.
    pub(crate) fn enforce_retention(&mut self, now_ms: i64) -> io::Result<usize> {
        // An offline log is left as it is until recovery.
        if self.offline {
            return Ok(0);
        }
        let mut deleted = self.delete_below_start()?;
        if self.settings.delete_retention {
            deleted += self.delete_expired(now_ms)?;
        }
        if deleted > 0 {
            self.forget_below_start();
            sync_dir(&self.dir)?;
            info!(dir = %self.dir.display(), deleted, start = self.log_start_offset(), "retention deleted segments");
        }
        Ok(deleted)
    }

    /// Deletes old segments per `retention.ms` and `retention.bytes`.
    /// Returns how many were deleted; the caller syncs the directory.
    fn delete_expired(&mut self, now_ms: i64) -> io::Result<usize> {
        let mut deleted = 0;
        if self.settings.retention_ms >= 0 {
            let cutoff = now_ms.saturating_sub(self.settings.retention_ms);
            // The first segment with records decides: a first segment the
            // cleaner emptied (kept so that the log start stays) holds
            // nothing to keep, and goes with it.
            loop {
                let Some(first) = self.segments().find(|s| s.size() > 0) else {
                    break;
                };
                let (expired, newest) = (first.base_offset(), first.retention_timestamp()?);
                if newest >= cutoff {
                    break;
                }
                if expired == self.active.base_offset() {
                    // Everything is expired: start an empty segment so the
                    // expired one can go, and the log start moves to its end.
                    self.roll(now_ms)?;
                }
                while self
                    .closed
                    .first_key_value()
                    .is_some_and(|(&base, _)| base <= expired)
                {
                    self.delete_oldest()?;
                    deleted += 1;
                }
            }
        }
        if let Ok(limit) = u64::try_from(self.settings.retention_bytes) {
            let mut total = self.size();
            while let Some((_, first)) = self.closed.first_key_value() {
                if total - first.size() < limit {
                    break;
                }
                total -= first.size();
                self.delete_oldest()?;
                deleted += 1;
            }
        }
        Ok(deleted)
    }

    /// Forgets idempotent producers that appended nothing for
    /// `expiration_ms` (see [`Producers::expire`]).
    pub(crate) fn expire_producers(&mut self, now_ms: i64, expiration_ms: i64) {
        let expired = self.producers.expire(now_ms, expiration_ms);
        if expired > 0 {
            debug!(dir = %self.dir.display(), expired, "expired idempotent producers");
        }
    }

    /// The largest idempotent producer id in the log, if any.
    pub(crate) fn max_producer_id(&self) -> Option<i64> {
        self.producers.max_producer_id()
    }

    /// Deletes the oldest closed segment.
    fn delete_oldest(&mut self) -> io::Result<()> {
        match self.closed.pop_first() {
            Some((_, segment)) => segment.delete(),
            None => Ok(()),
        }
    }

    /// Removes the log and its directory.
    pub(crate) fn delete(self) -> io::Result<()> {
        let dir = self.dir.clone();
        drop(self);
        fs::remove_dir_all(dir)
    }
}

/// The whole batches at the start of `records`, each with the position
/// where it ends.
fn whole_batches(records: &[u8]) -> impl Iterator<Item = (usize, BatchHeader)> + '_ {
    let mut end = 0;
    std::iter::from_fn(move || {
        let header = BatchHeader::parse(records.get(end..)?).ok()?;
        end = end
            .checked_add(header.size)
            .filter(|&next| next <= records.len())?;
        Some((end, header))
    })
}

/// Whether any of the whole batches in `records` is compressed with zstd.
pub(crate) fn any_zstd(records: &[u8]) -> bool {
    whole_batches(records).any(|(_, header)| header.zstd())
}

/// The offset after the last of the whole batches in `records`, if any.
pub(crate) fn next_offset(records: &[u8]) -> Option<i64> {
    whole_batches(records)
        .last()
        .and_then(|(_, header)| header.next_offset().ok())
}

/// The `(offset, timestamp)` of the first record at or after the log
/// start whose timestamp is at or after `timestamp`, as ListOffsets
/// answers it (Kafka's `LogSegment.findOffsetByTimestamp`); `None` if every
/// record is older. `lookup(after)` gives [`PartitionLog::batch_at_time`]
/// for `after`, with the log start: the caller locks the log for that
/// alone, and the records, which may be compressed, are read after. A
/// batch whose records at or after the time all lie below the log start,
/// or went in compaction, sends the search on to the next batch.
pub(crate) fn offset_for_time(
    timestamp: i64,
    mut lookup: impl FnMut(i64) -> io::Result<Option<(Bytes, i64)>>,
) -> io::Result<Option<(i64, i64)>> {
    let mut after = i64::MIN;
    while let Some((batch, log_start)) = lookup(after)? {
        if let Some(found) = first_at_or_after(&batch, timestamp, log_start)? {
            return Ok(Some(found));
        }
        // The batch ends after `after`: the search moves on.
        after = next_offset(&batch).ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                "a timestamp lookup read no batch",
            )
        })?;
    }
    Ok(None)
}

/// The first record of `batch` (found by [`PartitionLog::batch_at_time`])
/// at or after `log_start` whose timestamp is at or after `timestamp`, as
/// `(offset, timestamp)`; `None` if the batch holds none. The records are
/// read within a budget, as the batch came from a client; if they cannot
/// be read, the batch's first offset not below the log start is the
/// conservative answer: never an offset clients may not fetch.
pub(crate) fn first_at_or_after(
    batch: &[u8],
    timestamp: i64,
    log_start: i64,
) -> io::Result<Option<(i64, i64)>> {
    let header =
        BatchHeader::parse(batch).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
    let first = header.base_offset.max(log_start);
    // With log-append time every record of the batch has its max
    // timestamp: the batch's first readable record is the answer, found
    // without reading the records unless compaction left gaps.
    let gapless = header.last_offset_delta.checked_add(1) == Some(header.record_count);
    if header.log_append_time && gapless {
        return Ok((header.max_timestamp >= timestamp).then_some((first, header.max_timestamp)));
    }
    let mut exact = None;
    let read = records::for_each_record(batch, &header, MAX_RECORDS_BYTES, |record| {
        let record_time = if header.log_append_time {
            header.max_timestamp
        } else {
            record.timestamp
        };
        if record.offset >= log_start && record_time >= timestamp {
            exact = Some((record.offset, record_time));
            return ControlFlow::Break(());
        }
        ControlFlow::Continue(())
    });
    match read {
        Ok(()) => Ok(exact),
        Err(e) => {
            warn!(offset = header.base_offset, error = %e, "cannot read the records of a batch");
            Ok(Some(exact.unwrap_or((first, header.max_timestamp))))
        }
    }
}

/// The log start saved in `dir` by DeleteRecords, or 0 if none was. A file
/// that does not hold an offset is an error, not a start from 0: that
/// would serve deleted records again.
fn read_log_start(dir: &Path) -> io::Result<i64> {
    Ok(read_offset_file(&dir.join(LOG_START_FILE), "the log start offset")?.unwrap_or(0))
}

/// The offset saved in decimal at `path` (by [`replace_file`]), or `None`
/// if there is no such file. A file that does not hold an offset is an
/// error naming `what` it should hold.
pub(crate) fn read_offset_file(path: &Path, what: &str) -> io::Result<Option<i64>> {
    match fs::read_to_string(path) {
        Ok(text) => text
            .trim()
            .parse::<i64>()
            .ok()
            .filter(|&offset| offset >= 0)
            .map(Some)
            .ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "{}: expected {what}, found {:?}",
                        path.display(),
                        text.trim()
                    ),
                )
            }),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::batch::tests::encode_batch;
    use super::*;
    use crate::config::topic::TopicConfig;
    use crate::config::LogDefaults;
    use kafka_protocol::records::Compression;

    fn settings(segment_bytes: u64) -> LogSettings {
        let defaults = LogDefaults {
            segment_bytes,
            index_interval_bytes: 100,
            ..LogDefaults::default()
        };
        TopicConfig::default().settings(&defaults)
    }

    /// What a ListOffsets lookup by `timestamp` finds.
    pub(crate) fn time_lookup(
        log: &PartitionLog,
        timestamp: i64,
    ) -> io::Result<Option<(i64, i64)>> {
        offset_for_time(timestamp, |after| {
            let batch = log.batch_at_time(timestamp, after)?;
            Ok(batch.map(|batch| (batch, log.log_start_offset())))
        })
    }

    fn append(log: &mut PartitionLog, count: usize, timestamp: i64) -> Appended {
        let batch = encode_batch(count, timestamp, Compression::None);
        let headers = batch::validate_produced(&batch, 1 << 20).expect("valid batch");
        log.append(&batch, &headers, timestamp).expect("append")
    }

    fn offsets_in(bytes: &Bytes) -> Vec<i64> {
        let mut rest = &bytes[..];
        let mut offsets = Vec::new();
        while !rest.is_empty() {
            let header = BatchHeader::parse(rest).expect("header");
            offsets.extend(header.base_offset..header.next_offset().expect("offsets fit"));
            rest = &rest[header.size..];
        }
        offsets
    }

    /// Appends a transactional batch of `count` records of producer 7,
    /// starting at `sequence`.
    fn append_transactional(log: &mut PartitionLog, sequence: i32, count: usize) -> Appended {
        let batch = batch::tests::encode_batch_with(count, 0, Compression::None, |record| {
            record.producer_id = 7;
            record.producer_epoch = 0;
            record.sequence = sequence + record.offset as i32;
            record.transactional = true;
        });
        let headers = batch::validate_produced(&batch, 1 << 20).expect("valid batch");
        log.append(&batch, &headers, 0).expect("append")
    }

    /// An open transaction holds the last stable offset at its first
    /// record until its marker; aborted transactions are indexed for
    /// read-committed fetches. Both are rebuilt from the batches and
    /// markers when the log is opened again.
    #[test]
    fn markers_end_transactions_and_aborts_are_indexed_across_a_reopen() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("t-0");
        let mut log = PartitionLog::open(path.clone(), settings(1 << 20), 0).expect("open");
        append(&mut log, 2, 0);
        assert_eq!(append_transactional(&mut log, 0, 2).base_offset, 2);
        assert_eq!(log.last_stable_offset(), 2);
        assert_eq!(
            log.append_marker(7, 0, Marker::Abort, 5).expect("marker"),
            4
        );
        assert_eq!(log.last_stable_offset(), 5);
        let aborted = [AbortedTransaction {
            producer_id: 7,
            first_offset: 2,
            last_offset: 4,
        }];
        assert_eq!(log.aborted_transactions(0, 5), aborted);
        assert_eq!(log.aborted_transactions(3, 4), aborted, "overlapping");
        assert_eq!(log.aborted_transactions(0, 2), [], "before it");
        assert_eq!(log.aborted_transactions(5, 10), [], "after it");
        append_transactional(&mut log, 2, 2);
        assert_eq!(
            log.append_marker(7, 0, Marker::Commit, 6).expect("marker"),
            7
        );
        assert_eq!(log.aborted_transactions(5, 8), []);
        append_transactional(&mut log, 4, 1);
        assert_eq!(log.last_stable_offset(), 8);
        assert!(log.in_transaction(7));
        drop(log);

        let log = PartitionLog::open(path, settings(1 << 20), 0).expect("reopen");
        assert_eq!(log.last_stable_offset(), 8);
        assert!(log.in_transaction(7));
        assert_eq!(log.aborted_transactions(0, 9), aborted);
    }

    /// Retention may delete the start of a transaction still open: the
    /// last stable offset is then the log start, not an offset before it
    /// (which consumers could not fetch).
    #[test]
    fn the_last_stable_offset_is_not_before_the_log_start() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut log = PartitionLog::open(dir.path().join("t-0"), settings(300), 0).expect("open");
        append_transactional(&mut log, 0, 1);
        for i in 0..10 {
            append(&mut log, 1, i);
        }
        let mut by_size = log.settings().clone();
        by_size.retention_bytes = 300;
        log.set_settings(by_size);
        assert!(log.enforce_retention(0).expect("retention") > 0);
        assert!(log.log_start_offset() > 0);
        assert!(log.in_transaction(7));
        assert_eq!(log.last_stable_offset(), log.log_start_offset());
    }

    /// DeleteRecords can put the log start, and so the last stable offset,
    /// inside an open transaction's batch: a read-committed read serves
    /// none of it, since a batch is served whole and its records past the
    /// stable offset are not committed.
    #[test]
    fn a_read_committed_read_stops_before_a_batch_the_stable_offset_splits() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut log =
            PartitionLog::open(dir.path().join("t-0"), settings(1 << 20), 0).expect("open");
        append(&mut log, 2, 0);
        append_transactional(&mut log, 0, 5);
        assert_eq!(log.last_stable_offset(), 2);
        assert_eq!(log.delete_records_before(4).expect("delete"), 4);
        assert_eq!(log.last_stable_offset(), 4);
        let read = log.read_stable(4, 1 << 20).expect("read");
        assert_eq!(offsets_in(&read), Vec::<i64>::new());
        // Uncommitted reads still get the batch.
        let read = log.read(4, 1 << 20).expect("read");
        assert_eq!(offsets_in(&read), [2, 3, 4, 5, 6]);
    }

    /// A closed segment is trusted by its indexes, not scanned: a batch
    /// header damaged in it ends the producer-state walk there, and the
    /// log still opens (before, the broker could not start).
    #[test]
    fn a_damaged_header_in_a_closed_segment_does_not_stop_the_log_opening() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("t-0");
        let mut log = PartitionLog::open(path.clone(), settings(300), 0).expect("open");
        for i in 0..10 {
            append(&mut log, 1, i);
        }
        assert!(!log.closed.is_empty());
        drop(log);
        let first = path.join(segment::file_name(0, "log"));
        let mut bytes = fs::read(&first).expect("read segment");
        // The first batch's magic byte: not a batch header any more.
        bytes[16] = 9;
        fs::write(&first, &bytes).expect("write");
        let log = PartitionLog::open(path, settings(300), 0).expect("opens");
        assert_eq!(log.log_end_offset(), 10);
    }

    #[test]
    fn appends_roll_read_and_recover() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("t-0");
        let mut log = PartitionLog::open(path.clone(), settings(1000), 0).expect("open");
        for i in 0..50 {
            assert_eq!(append(&mut log, 2, i * 10).base_offset, i * 2);
        }
        assert!(!log.closed.is_empty(), "small segments roll");
        assert_eq!(log.log_end_offset(), 100);
        let all: Vec<i64> = (0..100).collect();
        let mut read = Vec::new();
        while (read.len() as i64) < log.log_end_offset() {
            read.extend(offsets_in(&log.read(read.len() as i64, 300).expect("read")));
        }
        assert_eq!(read, all);
        assert_eq!(offsets_in(&log.read(37, 1).expect("read")), vec![36, 37]);
        assert!(matches!(log.read(101, 10), Err(ReadError::OutOfRange)));
        assert_eq!(time_lookup(&log, 255).expect("time"), Some((52, 260)));
        assert_eq!(time_lookup(&log, 10_000).expect("time"), None);
        drop(log);

        let log = PartitionLog::open(path, settings(1000), 0).expect("reopen");
        assert_eq!(log.log_end_offset(), 100);
        assert_eq!(offsets_in(&log.read(99, 1).expect("read")), vec![98, 99]);
        assert_eq!(time_lookup(&log, 255).expect("time"), Some((52, 260)));
    }

    /// With log-append time every record of a batch carries the time it
    /// was appended, whatever its create time says: a lookup by time finds
    /// the batch's first record, with the append time.
    #[test]
    fn time_lookups_on_log_append_time_see_the_append_time() {
        let dir = tempfile::tempdir().expect("tempdir");
        let settings = LogSettings {
            log_append_time: true,
            ..settings(1 << 20)
        };
        let mut log = PartitionLog::open(dir.path().join("t-0"), settings, 0).expect("open");
        // Records created at 10, 11 and 12, appended at 100.
        let batch = encode_batch(3, 10, Compression::None);
        let headers = batch::validate_produced(&batch, 1 << 20).expect("valid batch");
        log.append(&batch, &headers, 100).expect("append");
        assert_eq!(time_lookup(&log, 11).expect("time"), Some((0, 100)));
        assert_eq!(time_lookup(&log, 100).expect("time"), Some((0, 100)));
        assert_eq!(time_lookup(&log, 101).expect("time"), None);
    }

    #[test]
    fn recovery_truncates_a_torn_tail_and_keeps_complete_batches() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("t-0");
        let mut log = PartitionLog::open(path.clone(), settings(1 << 20), 0).expect("open");
        for i in 0..5 {
            append(&mut log, 3, i);
        }
        drop(log);
        let segment = path.join(segment::file_name(0, "log"));
        let mut bytes = fs::read(&segment).expect("read segment");
        let complete = bytes.len();
        // A half-written sixth batch, as a crash mid-write leaves it.
        let torn = encode_batch(3, 9, Compression::None);
        bytes.extend_from_slice(&torn[..torn.len() / 2]);
        fs::write(&segment, &bytes).expect("write");

        let mut log = PartitionLog::open(path.clone(), settings(1 << 20), 0).expect("recover");
        assert_eq!(log.log_end_offset(), 15);
        assert_eq!(fs::metadata(&segment).expect("stat").len(), complete as u64);
        assert_eq!(append(&mut log, 1, 10).base_offset, 15);
    }

    /// A failed append's partial bytes are cut off before the next append:
    /// otherwise that append would land after them, and recovery, stopping
    /// at them, would drop it though it was acknowledged.
    #[test]
    fn an_append_after_a_failed_one_does_not_follow_its_partial_bytes() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("t-0");
        let mut log = PartitionLog::open(path.clone(), settings(1 << 20), 0).expect("open");
        append(&mut log, 3, 0);
        log.active
            .leave_torn_write(b"half a batch")
            .expect("torn write");
        assert_eq!(append(&mut log, 2, 1).base_offset, 3);
        drop(log);

        let log = PartitionLog::open(path, settings(1 << 20), 0).expect("reopen");
        assert_eq!(log.log_end_offset(), 5);
        assert_eq!(
            offsets_in(&log.read(0, 1 << 20).expect("read")),
            (0..5).collect::<Vec<_>>()
        );
    }

    #[test]
    fn recovery_truncates_a_batch_whose_offsets_overflow() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("t-0");
        let mut log = PartitionLog::open(path.clone(), settings(1 << 20), 0).expect("open");
        append(&mut log, 3, 0);
        append(&mut log, 3, 1);
        drop(log);
        let segment = path.join(segment::file_name(0, "log"));
        let mut bytes = fs::read(&segment).expect("read segment");
        let complete = bytes.len();
        // The base offset is outside the CRC: the batch still checks out.
        let mut corrupt = encode_batch(3, 2, Compression::None);
        batch::stamp(&mut corrupt, i64::MAX - 1, None);
        bytes.extend_from_slice(&corrupt);
        bytes.extend_from_slice(&encode_batch(3, 3, Compression::None));
        fs::write(&segment, &bytes).expect("write");

        let log = PartitionLog::open(path, settings(1 << 20), 0).expect("recover");
        assert_eq!(log.log_end_offset(), 6);
        assert_eq!(fs::metadata(&segment).expect("stat").len(), complete as u64);
    }

    #[test]
    fn an_append_that_would_overflow_offsets_fails() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("t-0");
        let log = PartitionLog::open(path.clone(), settings(1 << 20), 0).expect("open");
        drop(log);
        // A batch recovery accepts: its offsets end just below the limit.
        let mut near_end = encode_batch(3, 0, Compression::None);
        batch::stamp(&mut near_end, i64::MAX - 4, None);
        fs::write(path.join(segment::file_name(0, "log")), &near_end).expect("write");
        let mut log = PartitionLog::open(path, settings(1 << 20), 0).expect("recover");
        assert_eq!(log.log_end_offset(), i64::MAX - 1);

        let batch = encode_batch(2, 0, Compression::None);
        let headers = batch::validate_produced(&batch, 1 << 20).expect("valid batch");
        match log.append(&batch, &headers, 0) {
            Err(AppendError::Io(error)) => assert_eq!(error.kind(), io::ErrorKind::InvalidData),
            other => panic!("expected the offsets to overflow, got {other:?}"),
        }
        assert_eq!(log.log_end_offset(), i64::MAX - 1);
        assert_eq!(log.size(), near_end.len() as u64);
    }

    /// After a failed flush the log refuses appends, reads and flushes (a
    /// later flush that succeeds proves nothing about the lost pages), until
    /// it is opened again and recovered.
    #[test]
    fn a_failed_flush_takes_the_log_offline_until_it_is_reopened() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("t-0");
        let mut log = PartitionLog::open(path.clone(), settings(1 << 20), 0).expect("open");
        append(&mut log, 2, 0);
        segment::tests::inject_sync_failure();
        assert!(log.sync().is_err());

        let batch = encode_batch(1, 0, Compression::None);
        let headers = batch::validate_produced(&batch, 1 << 20).expect("valid batch");
        assert!(log.append(&batch, &headers, 0).is_err());
        assert!(matches!(log.read(0, 1 << 20), Err(ReadError::Io(_))));
        assert!(log.sync().is_err(), "a later flush does not bring it back");
        assert!(log.batch_at_time(0, 0).is_err(), "nor do timestamp lookups");
        let mut expiring = log.settings().clone();
        expiring.retention_ms = 1;
        log.set_settings(expiring);
        assert_eq!(log.enforce_retention(i64::MAX).expect("skipped"), 0);
        assert_eq!(log.log_end_offset(), 2);
        drop(log);

        let mut log = PartitionLog::open(path, settings(1 << 20), 0).expect("reopen");
        assert_eq!(offsets_in(&log.read(0, 1 << 20).expect("read")), [0, 1]);
        assert_eq!(append(&mut log, 1, 0).base_offset, 2);
    }

    /// Records without timestamps age from the time their segment was
    /// last written, as in Kafka: before, their -1 made them older than
    /// any retention, and the next check deleted them.
    #[test]
    fn records_without_timestamps_are_kept_for_the_retention_time() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut log =
            PartitionLog::open(dir.path().join("t-0"), settings(1 << 20), 0).expect("open");
        let mut day = log.settings().clone();
        day.retention_ms = 24 * 3600 * 1000;
        log.set_settings(day);
        for _ in 0..3 {
            append(&mut log, 1, -1);
        }
        let now = crate::broker::now_ms();
        assert_eq!(log.enforce_retention(now).expect("retention"), 0);
        assert_eq!(log.log_start_offset(), 0);
        assert_eq!(log.log_end_offset(), 3);

        let two_days_later = now + 2 * 24 * 3600 * 1000;
        assert_eq!(log.enforce_retention(two_days_later).expect("retention"), 1);
        assert_eq!(log.log_start_offset(), 3);
    }

    /// A file named like a segment with a negative base offset is not
    /// taken for one (offsets relative to it would overflow).
    #[test]
    fn files_with_negative_base_offsets_are_not_segments() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("t-0");
        let mut log = PartitionLog::open(path.clone(), settings(1 << 20), 0).expect("open");
        append(&mut log, 2, 0);
        drop(log);
        fs::write(
            path.join("-9223372036854775808.log"),
            encode_batch(1, 0, Compression::None),
        )
        .expect("write");
        let log = PartitionLog::open(path, settings(1 << 20), 0).expect("reopen");
        assert_eq!((log.log_start_offset(), log.log_end_offset()), (0, 2));
    }

    /// The files of the log's segments, by base offset.
    fn segment_files(dir: &Path) -> Vec<i64> {
        let mut bases: Vec<i64> = fs::read_dir(dir)
            .expect("read dir")
            .filter_map(|entry| {
                let name = entry.expect("entry").file_name();
                name.to_str()?.strip_suffix(".log")?.parse().ok()
            })
            .collect();
        bases.sort_unstable();
        bases
    }

    /// DeleteRecords may move the log start into the middle of a batch: a
    /// fetch below it is out of range, a fetch at it gets the batch holding
    /// it (the client skips the records before), lookups by time and the
    /// earliest offset answer nothing below it, and it never moves back.
    #[test]
    fn the_log_start_moves_forward_only_and_may_split_a_batch() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut log =
            PartitionLog::open(dir.path().join("t-0"), settings(1 << 20), 0).expect("open");
        for i in 0..5 {
            // Offsets 2i and 2i + 1, at 10i and 10i + 1.
            append(&mut log, 2, i * 10);
        }
        assert_eq!(log.delete_records_before(3).expect("deleted"), 3);
        assert_eq!(log.log_start_offset(), 3);
        assert!(matches!(log.read(2, 1 << 20), Err(ReadError::OutOfRange)));
        assert_eq!(
            offsets_in(&log.read(3, 1 << 20).expect("read")),
            (2..10).collect::<Vec<_>>()
        );
        assert_eq!(time_lookup(&log, 0).expect("time"), Some((3, 11)));
        assert_eq!(time_lookup(&log, 20).expect("time"), Some((4, 20)));
        // A batch with no record at or after the time from the log start
        // on answers nothing (the search goes on), not its first offset.
        let split = log.batch_at_time(0, 0).expect("batch").expect("a batch");
        assert_eq!(
            first_at_or_after(&split, 0, 3).expect("read"),
            Some((3, 11))
        );
        assert_eq!(first_at_or_after(&split, 12, 3).expect("read"), None);
        assert_eq!(
            log.delete_records_before(1).expect("no-op"),
            3,
            "never back"
        );
        assert_eq!(log.log_start_offset(), 3);

        for offset in [-1, 11] {
            assert!(matches!(
                log.delete_records_before(offset),
                Err(DeleteRecordsError::OutOfRange {
                    high_watermark: 10,
                    ..
                })
            ));
        }
        // Up to the high watermark (the log end): nothing left to read.
        assert_eq!(log.delete_records_before(10).expect("deleted"), 10);
        assert_eq!(log.read(10, 1 << 20).expect("at the end").len(), 0);
        assert!(matches!(log.read(9, 1 << 20), Err(ReadError::OutOfRange)));
        assert_eq!(time_lookup(&log, 0).expect("time"), None);
        assert_eq!(append(&mut log, 1, 100).base_offset, 10);
    }

    /// The log start is saved in its own file and read again on open; a
    /// file that does not hold an offset stops the log opening rather than
    /// serving deleted records again.
    #[test]
    fn the_log_start_survives_a_reopen() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("t-0");
        let mut log = PartitionLog::open(path.clone(), settings(1 << 20), 0).expect("open");
        append(&mut log, 5, 0);
        assert_eq!(log.delete_records_before(3).expect("deleted"), 3);
        drop(log);
        assert_eq!(
            fs::read_to_string(path.join(LOG_START_FILE)).expect("saved"),
            "3\n"
        );

        let log = PartitionLog::open(path.clone(), settings(1 << 20), 0).expect("reopen");
        assert_eq!((log.log_start_offset(), log.log_end_offset()), (3, 5));
        assert!(matches!(log.read(2, 1 << 20), Err(ReadError::OutOfRange)));
        drop(log);

        fs::write(path.join(LOG_START_FILE), "three").expect("write");
        let error = PartitionLog::open(path, settings(1 << 20), 0).expect_err("corrupt");
        assert_eq!(error.kind(), io::ErrorKind::InvalidData);
        assert!(error.to_string().contains("three"), "{error}");
    }

    /// A log that ends before its saved start (a crash lost an unflushed
    /// tail) starts again empty at the start, as Kafka's does: offsets
    /// below it, which clients were told are deleted, are not reused.
    #[test]
    fn a_log_ending_before_its_saved_start_starts_again_there() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("t-0");
        let mut log = PartitionLog::open(path.clone(), settings(1 << 20), 0).expect("open");
        append(&mut log, 5, 0);
        drop(log);
        fs::write(path.join(LOG_START_FILE), "8\n").expect("write");

        let mut log = PartitionLog::open(path.clone(), settings(1 << 20), 0).expect("reopen");
        assert_eq!((log.log_start_offset(), log.log_end_offset()), (8, 8));
        assert_eq!(segment_files(&path), [8]);
        assert_eq!(append(&mut log, 1, 0).base_offset, 8);
    }

    /// The closed segments wholly below the new log start are deleted at
    /// once; the one holding it stays, and so does the active segment even
    /// when all its records are deleted.
    #[test]
    fn deleting_records_deletes_the_segments_below_the_log_start() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("t-0");
        let mut log = PartitionLog::open(path.clone(), settings(300), 0).expect("open");
        for i in 0..20 {
            append(&mut log, 1, i);
        }
        let bases = segment_files(&path);
        assert!(bases.len() > 3, "{bases:?}");
        let inside_third = bases[2] + 1;
        assert!(inside_third < bases[3]);
        log.delete_records_before(inside_third).expect("deleted");
        assert_eq!(segment_files(&path), bases[2..]);
        assert_eq!(log.log_start_offset(), inside_third);

        log.delete_records_before(20).expect("deleted");
        assert_eq!(segment_files(&path), [*bases.last().expect("active")]);
        assert_eq!((log.log_start_offset(), log.log_end_offset()), (20, 20));
    }

    /// Segments left below the log start (their deletion failed, or the
    /// log was reopened) go at the next retention check, whatever the
    /// cleanup policy, as in Kafka.
    #[test]
    fn retention_deletes_segments_left_below_the_log_start() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("t-0");
        let mut log = PartitionLog::open(path.clone(), settings(300), 0).expect("open");
        for i in 0..20 {
            append(&mut log, 1, i);
        }
        let bases = segment_files(&path);
        // As if the deletion after a DeleteRecords had failed.
        log.start_offset = bases[2];
        let mut compacted = log.settings().clone();
        compacted.delete_retention = false;
        log.set_settings(compacted);
        assert_eq!(log.enforce_retention(0).expect("retention"), 2);
        assert_eq!(segment_files(&path), bases[2..]);
        assert_eq!(log.log_start_offset(), bases[2]);
    }

    /// A topic whose cleanup policy does not include `delete` keeps its
    /// records: DeleteRecords is refused, as Kafka refuses it.
    #[test]
    fn records_of_a_compacted_only_log_are_not_deleted() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut compacted = settings(1 << 20);
        compacted.delete_retention = false;
        let mut log = PartitionLog::open(dir.path().join("t-0"), compacted, 0).expect("open");
        append(&mut log, 3, 0);
        assert!(matches!(
            log.delete_records_before(2),
            Err(DeleteRecordsError::PolicyViolation)
        ));
        assert_eq!(log.log_start_offset(), 0);
    }

    /// Producers whose batches are all deleted are forgotten, and aborted
    /// transactions wholly below the log start are no longer reported, now
    /// and after a reopen (which rebuilds them from the whole segment).
    #[test]
    fn producer_state_below_the_log_start_is_forgotten() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("t-0");
        let mut log = PartitionLog::open(path.clone(), settings(1 << 20), 0).expect("open");
        append_transactional(&mut log, 0, 2);
        assert_eq!(
            log.append_marker(7, 0, Marker::Abort, 0).expect("marker"),
            2
        );
        append(&mut log, 2, 0);
        assert_eq!(log.max_producer_id(), Some(7));
        assert_eq!(log.aborted_transactions(0, 5).len(), 1);

        log.delete_records_before(3).expect("deleted");
        assert_eq!(log.max_producer_id(), None);
        assert_eq!(log.aborted_transactions(0, 5), []);
        drop(log);

        let log = PartitionLog::open(path, settings(1 << 20), 0).expect("reopen");
        assert_eq!(log.max_producer_id(), None);
        assert_eq!(log.aborted_transactions(0, 5), []);
    }

    #[test]
    fn retention_deletes_whole_old_segments() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut log = PartitionLog::open(dir.path().join("t-0"), settings(300), 0).expect("open");
        for i in 0..20 {
            append(&mut log, 1, i * 1000);
        }
        assert!(log.closed.len() > 3);
        let mut by_size = log.settings().clone();
        by_size.retention_bytes = 1000;
        log.set_settings(by_size);
        assert!(log.enforce_retention(20_000).expect("retention") > 0);
        assert!(log.size() >= 1000);
        assert!(log.size() - log.segments().next().map_or(0, Segment::size) < 1000);

        let mut by_time = log.settings().clone();
        by_time.retention_bytes = -1;
        by_time.retention_ms = 1;
        log.set_settings(by_time);
        log.enforce_retention(1_000_000).expect("retention");
        assert_eq!(log.log_start_offset(), 20);
        assert_eq!(log.log_end_offset(), 20);
        assert_eq!(log.read(20, 100).expect("read at end").len(), 0);
    }
}
