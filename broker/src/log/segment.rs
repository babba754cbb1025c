//! One segment of a partition log: a file of record batches named after its
//! first offset, with its sparse offset and time indexes.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use bytes::Bytes;
use tracing::{error, warn};

use super::batch::{self, BatchHeader, HEADER_LEN};
use super::index::{Index, OffsetEntry, TimeEntry};

/// The extension of a segment's cleaned copy while the log cleaner writes
/// it; one left by a crash is incomplete, and deleted when the log opens.
pub(crate) const CLEANED: &str = "cleaned";

/// The file name of a segment's `kind` file (`log`, `index`, `timeindex`,
/// [`CLEANED`]).
pub(crate) fn file_name(base_offset: i64, kind: &str) -> String {
    format!("{base_offset:020}.{kind}")
}

/// What a scan of a segment file found valid.
struct Scan {
    size: u64,
    next_offset: i64,
    max_timestamp: i64,
    offsets: Vec<OffsetEntry>,
    times: Vec<TimeEntry>,
}

/// The entries of a segment's offset and time indexes.
type Indexes = (Vec<OffsetEntry>, Vec<TimeEntry>);

/// A segment file with its indexes.
#[derive(Debug)]
pub(crate) struct Segment {
    base_offset: i64,
    path: PathBuf,
    file: File,
    size: u64,
    next_offset: i64,
    /// Largest batch timestamp, -1 while empty.
    max_timestamp: i64,
    /// Wall-clock time the segment was opened for appending, for `segment.ms`.
    opened_ms: i64,
    offset_index: Index<OffsetEntry>,
    time_index: Index<TimeEntry>,
    bytes_since_index: u64,
    index_interval: u64,
    /// Appended data not yet `fsync`ed.
    dirty: bool,
    /// A failed append left bytes past `size` in the log, or index entries
    /// past these numbers of offset and time entries, that could not be
    /// cut off yet: nothing is appended until they are, or the next append
    /// would land after them.
    torn: Option<(usize, usize)>,
}

impl Segment {
    /// Creates an empty segment starting at `base_offset`.
    pub(crate) fn create(
        dir: &Path,
        base_offset: i64,
        index_interval: u64,
        now_ms: i64,
    ) -> io::Result<Self> {
        let path = dir.join(file_name(base_offset, "log"));
        let file = OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .open(&path)?;
        file.set_len(0)?;
        let offset_index =
            Index::open(dir.join(file_name(base_offset, "index")), Vec::new(), true)?;
        let time_index = Index::open(
            dir.join(file_name(base_offset, "timeindex")),
            Vec::new(),
            true,
        )?;
        Ok(Self {
            base_offset,
            path,
            file,
            size: 0,
            next_offset: base_offset,
            max_timestamp: -1,
            opened_ms: now_ms,
            offset_index,
            time_index,
            bytes_since_index: 0,
            torn: None,
            index_interval,
            dirty: false,
        })
    }

    /// Opens an existing segment. A closed segment (`next_base` is the base
    /// offset of the following one) trusts its index files when they are
    /// consistent; the active segment is always scanned, which validates every
    /// batch's CRC and truncates a torn or corrupt tail. A closed segment
    /// covers the offsets up to `next_base`, even where compaction removed
    /// the last of its records.
    pub(crate) fn open(
        dir: &Path,
        base_offset: i64,
        next_base: Option<i64>,
        index_interval: u64,
        now_ms: i64,
    ) -> io::Result<Self> {
        let path = dir.join(file_name(base_offset, "log"));
        let file = OpenOptions::new().read(true).append(true).open(&path)?;
        let index_path = dir.join(file_name(base_offset, "index"));
        let time_path = dir.join(file_name(base_offset, "timeindex"));
        let file_len = file.metadata()?.len();

        let trusted = match next_base {
            Some(next_base) => {
                Self::trusted_indexes(&index_path, &time_path, base_offset, next_base, file_len)?
            }
            None => None,
        };
        let (scan, rewrite) = match trusted {
            Some((offsets, times)) => {
                let max_timestamp = times.last().map_or(-1, |e| e.timestamp);
                let scan = Scan {
                    size: file_len,
                    next_offset: next_base.unwrap_or(base_offset),
                    max_timestamp,
                    offsets,
                    times,
                };
                (scan, false)
            }
            None => {
                let scan = scan(&file, base_offset, index_interval)?;
                if scan.size < file_len {
                    warn!(
                        segment = %path.display(),
                        valid_bytes = scan.size,
                        file_bytes = file_len,
                        "truncating invalid tail of segment"
                    );
                    file.set_len(scan.size)?;
                    file.sync_all()?;
                }
                (scan, true)
            }
        };
        let mut segment = Self {
            base_offset,
            path,
            file,
            size: scan.size,
            next_offset: next_base.unwrap_or(scan.next_offset),
            max_timestamp: scan.max_timestamp,
            opened_ms: now_ms,
            offset_index: Index::open(index_path, scan.offsets, rewrite)?,
            time_index: Index::open(time_path, scan.times, rewrite)?,
            bytes_since_index: 0,
            torn: None,
            index_interval,
            dirty: false,
        };
        if rewrite && next_base.is_some() {
            segment.seal()?;
        }
        Ok(segment)
    }

    /// The index files of a closed segment, if they are consistent with it.
    fn trusted_indexes(
        index_path: &Path,
        time_path: &Path,
        base_offset: i64,
        next_base: i64,
        file_len: u64,
    ) -> io::Result<Option<Indexes>> {
        let (Some(offsets), Some(times)) = (
            Index::<OffsetEntry>::read_entries(index_path)?,
            Index::<TimeEntry>::read_entries(time_path)?,
        ) else {
            return Ok(None);
        };
        let ordered = offsets
            .windows(2)
            .all(|w| w[0].rel_offset < w[1].rel_offset && w[0].position < w[1].position);
        let in_file = offsets
            .last()
            .is_none_or(|e| u64::from(e.position) < file_len);
        // Sealing writes a final time entry at the segment's end offset.
        let sealed = times
            .last()
            .is_some_and(|e| i64::from(e.rel_offset) == next_base - base_offset);
        Ok((ordered && in_file && sealed).then_some((offsets, times)))
    }

    /// The first offset in the segment.
    pub(crate) fn base_offset(&self) -> i64 {
        self.base_offset
    }

    /// The offset after the last batch.
    pub(crate) fn next_offset(&self) -> i64 {
        self.next_offset
    }

    /// Bytes in the segment file.
    pub(crate) fn size(&self) -> u64 {
        self.size
    }

    /// The largest batch timestamp, -1 if empty.
    pub(crate) fn max_timestamp(&self) -> i64 {
        self.max_timestamp
    }

    /// The time retention measures the segment's age from (Kafka's
    /// `LogSegment.largestTimestamp`): its largest batch timestamp, or,
    /// when none of its records carries a timestamp, the time the file
    /// was last written. Without that fallback, a segment of records
    /// without timestamps would look older than any retention.
    pub(crate) fn retention_timestamp(&self) -> io::Result<i64> {
        if self.max_timestamp >= 0 {
            return Ok(self.max_timestamp);
        }
        let modified = self.file.metadata()?.modified()?;
        let since_epoch = modified
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        Ok(i64::try_from(since_epoch.as_millis()).unwrap_or(i64::MAX))
    }

    /// Whether appending `bytes` more would need a new segment first.
    pub(crate) fn is_full(
        &self,
        bytes: u64,
        last_offset: i64,
        segment_bytes: u64,
        segment_ms: u64,
        now_ms: i64,
    ) -> bool {
        if self.size == 0 {
            return false;
        }
        let too_big = self.size + bytes > segment_bytes;
        let too_old =
            now_ms.saturating_sub(self.opened_ms) >= i64::try_from(segment_ms).unwrap_or(i64::MAX);
        // Index entries hold offsets relative to the base in 32 bits.
        let offsets_exhausted = last_offset - self.base_offset > i64::from(u32::MAX);
        too_big || too_old || offsets_exhausted
    }

    /// Appends stamped batches, described by `headers`, in one write;
    /// `next_offset` follows the last of them. A failed append leaves the
    /// segment as it was: what it wrote is cut off again (now, or before
    /// the next append), so no later batch follows a partial one.
    pub(crate) fn append(
        &mut self,
        bytes: &[u8],
        headers: &[BatchHeader],
        next_offset: i64,
    ) -> io::Result<()> {
        if let Some((offsets, times)) = self.torn {
            self.cut_back(offsets, times)?;
        }
        let indexed = (
            self.offset_index.entries().len(),
            self.time_index.entries().len(),
        );
        match self.write(bytes, headers) {
            Ok((size, max_timestamp, bytes_since_index)) => {
                self.size = size;
                self.max_timestamp = max_timestamp;
                self.bytes_since_index = bytes_since_index;
                self.next_offset = next_offset;
                self.dirty = true;
                Ok(())
            }
            Err(error) => {
                if let Err(cut) = self.cut_back(indexed.0, indexed.1) {
                    error!(
                        segment = %self.path.display(),
                        error = %cut,
                        "cannot cut back a failed append; appends wait until it is"
                    );
                }
                Err(error)
            }
        }
    }

    /// Writes the batches and their index entries; returns the segment's
    /// size, largest timestamp and bytes since the last index entry after
    /// them, for `append` to take on only once everything is written.
    fn write(&mut self, bytes: &[u8], headers: &[BatchHeader]) -> io::Result<(u64, i64, u64)> {
        self.file.write_all(bytes)?;
        let mut position = self.size;
        let mut max_timestamp = self.max_timestamp;
        let mut bytes_since_index = self.bytes_since_index;
        for header in headers {
            if bytes_since_index >= self.index_interval || self.offset_index.entries().is_empty() {
                let rel_offset = self.relative(header.base_offset);
                self.offset_index.push(OffsetEntry {
                    rel_offset,
                    position: u32::try_from(position).unwrap_or(u32::MAX),
                })?;
                self.time_index.push(TimeEntry {
                    timestamp: max_timestamp,
                    rel_offset,
                })?;
                bytes_since_index = 0;
            }
            bytes_since_index += header.size as u64;
            max_timestamp = max_timestamp.max(header.max_timestamp);
            position += header.size as u64;
        }
        Ok((position, max_timestamp, bytes_since_index))
    }

    /// Cuts the log back to `size` and the indexes back to the given
    /// numbers of entries; marks the segment torn until that succeeds.
    fn cut_back(&mut self, offsets: usize, times: usize) -> io::Result<()> {
        self.torn = Some((offsets, times));
        self.file.set_len(self.size)?;
        self.offset_index.truncate(offsets)?;
        self.time_index.truncate(times)?;
        self.torn = None;
        Ok(())
    }

    fn relative(&self, offset: i64) -> u32 {
        u32::try_from(offset - self.base_offset).unwrap_or(u32::MAX)
    }

    fn header_at(&self, position: u64) -> io::Result<BatchHeader> {
        let mut buf = [0; HEADER_LEN];
        self.file.read_exact_at(&mut buf, position)?;
        BatchHeader::parse(&buf).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
    }

    /// Calls `visit` with the position and header of every batch, oldest
    /// first. A header that does not read, or claims more than the segment
    /// holds, ends the walk there (with a warning), as recovery's scan
    /// ends: the segment stays readable up to it.
    pub(crate) fn for_each_header(
        &self,
        mut visit: impl FnMut(u64, &BatchHeader) -> io::Result<()>,
    ) -> io::Result<()> {
        let mut position = 0;
        while position < self.size {
            let header = match self.header_at(position) {
                Ok(header) if header.size as u64 <= self.size - position => header,
                Ok(_) | Err(_) => {
                    warn!(segment = %self.path.display(), position, "unreadable batch header");
                    return Ok(());
                }
            };
            visit(position, &header)?;
            position += header.size as u64;
        }
        Ok(())
    }

    /// The `len` bytes at `position`.
    pub(crate) fn read_at(&self, position: u64, len: usize) -> io::Result<Vec<u8>> {
        let mut bytes = vec![0; len];
        self.file.read_exact_at(&mut bytes, position)?;
        Ok(bytes)
    }

    /// The position of the batch containing `offset` (or the first batch
    /// after it), and that batch's header; `None` past the end.
    fn locate(&self, offset: i64) -> io::Result<Option<(u64, BatchHeader)>> {
        let rel = self.relative(offset.max(self.base_offset));
        let mut position = u64::from(self.offset_index.position_for(rel));
        while position < self.size {
            let header = self.header_at(position)?;
            let next_offset = header
                .next_offset()
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
            if next_offset > offset {
                return Ok(Some((position, header)));
            }
            position += header.size as u64;
        }
        Ok(None)
    }

    /// Whole batches starting with the one containing `offset`, up to
    /// `max_bytes` in total but always at least one batch, so that a batch
    /// larger than the limit can still be consumed.
    pub(crate) fn read(&self, offset: i64, max_bytes: usize) -> io::Result<Bytes> {
        let Some((start, first)) = self.locate(offset)? else {
            return Ok(Bytes::new());
        };
        let mut end = start + first.size as u64;
        while end < self.size {
            let header = self.header_at(end)?;
            if end + header.size as u64 - start > max_bytes as u64 {
                break;
            }
            end += header.size as u64;
        }
        let len = usize::try_from(end - start)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        let mut buf = vec![0; len];
        self.file.read_exact_at(&mut buf, start)?;
        Ok(Bytes::from(buf))
    }

    /// The first batch ending after `from` (at least the log start:
    /// batches wholly below it are deleted records) whose max timestamp is
    /// at or after `timestamp`, with its bytes; `None` if the segment has
    /// none. An empty batch (one the log cleaner kept for its producer
    /// fields) holds no record to answer with, whatever its max timestamp.
    pub(crate) fn batch_at_time(&self, timestamp: i64, from: i64) -> io::Result<Option<Bytes>> {
        if self.max_timestamp < timestamp {
            return Ok(None);
        }
        let rel = self
            .time_index
            .rel_offset_for(timestamp)
            .max(self.relative(from.max(self.base_offset)));
        let mut position = u64::from(self.offset_index.position_for(rel));
        while position < self.size {
            let header = self.header_at(position)?;
            let next_offset = header
                .next_offset()
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
            if header.max_timestamp >= timestamp && next_offset > from && header.record_count > 0 {
                let mut buf = vec![0; header.size];
                self.file.read_exact_at(&mut buf, position)?;
                return Ok(Some(Bytes::from(buf)));
            }
            position += header.size as u64;
        }
        Ok(None)
    }

    /// Marks the segment closed: records its largest timestamp at its end
    /// offset (which also tells the next start that the indexes are complete)
    /// and forces everything to disk.
    pub(crate) fn seal(&mut self) -> io::Result<()> {
        let rel_offset = self.relative(self.next_offset);
        self.time_index.push(TimeEntry {
            timestamp: self.max_timestamp,
            rel_offset,
        })?;
        self.dirty = true;
        self.sync()
    }

    /// Forces appended data and the indexes to disk, if anything changed.
    pub(crate) fn sync(&mut self) -> io::Result<()> {
        if self.dirty {
            #[cfg(test)]
            tests::fail_if_injected()?;
            self.file.sync_data()?;
            self.offset_index.sync()?;
            self.time_index.sync()?;
            self.dirty = false;
        }
        Ok(())
    }

    /// Deletes the segment's files.
    pub(crate) fn delete(self) -> io::Result<()> {
        let index = self.offset_index.path().to_owned();
        let time = self.time_index.path().to_owned();
        drop(self.file);
        for path in [&self.path, &index, &time] {
            remove_if_present(path)?;
        }
        Ok(())
    }

    /// Where the log cleaner writes the segment's cleaned copy before the
    /// copy takes the segment's place.
    pub(crate) fn cleaned_path(&self) -> PathBuf {
        self.path.with_extension(CLEANED)
    }

    /// Replaces this closed segment, which ends at `next_base`, with its
    /// cleaned copy (at [`cleaned_path`](Self::cleaned_path), complete and
    /// on disk). The index files are deleted first, then the copy is
    /// renamed over the log file, each step durable before the next: a
    /// crash leaves the old segment or the new one, never a mix, and
    /// whichever it is gets its indexes rebuilt by a scan when the log
    /// opens (stale ones would point into the old file); a copy left
    /// behind is deleted then.
    pub(crate) fn replace_with_cleaned(
        self,
        dir: &Path,
        next_base: i64,
        now_ms: i64,
    ) -> io::Result<Self> {
        for index in [self.offset_index.path(), self.time_index.path()] {
            remove_if_present(index)?;
        }
        super::sync_dir(dir)?;
        fs::rename(self.cleaned_path(), &self.path)?;
        super::sync_dir(dir)?;
        Self::open(
            dir,
            self.base_offset,
            Some(next_base),
            self.index_interval,
            now_ms,
        )
    }
}

/// Removes a file, if it is there.
pub(crate) fn remove_if_present(path: &Path) -> io::Result<()> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// Reads a segment file batch by batch, checking each one, and rebuilds the
/// indexes. Stops at the first batch that is torn, corrupt or out of order,
/// or whose offsets overflow.
///
/// Offsets only have to increase, not follow on exactly: compacted
/// segments have gaps, and are recovered by this same scan.
fn scan(file: &File, base_offset: i64, index_interval: u64) -> io::Result<Scan> {
    let file_len = file.metadata()?.len();
    let mut result = Scan {
        size: 0,
        next_offset: base_offset,
        max_timestamp: -1,
        offsets: Vec::new(),
        times: Vec::new(),
    };
    let mut bytes_since_index = index_interval;
    let mut buf = Vec::new();
    loop {
        let position = result.size;
        if position + HEADER_LEN as u64 > file_len {
            break;
        }
        let mut head = [0; HEADER_LEN];
        file.read_exact_at(&mut head, position)?;
        let Ok(header) = BatchHeader::parse(&head) else {
            break;
        };
        if position + header.size as u64 > file_len || header.base_offset < result.next_offset {
            break;
        }
        let Ok(next_offset) = header.next_offset() else {
            break;
        };
        buf.resize(header.size, 0);
        file.read_exact_at(&mut buf, position)?;
        if !batch::crc_matches(&buf) {
            break;
        }
        if bytes_since_index >= index_interval {
            let rel_offset = u32::try_from(header.base_offset - base_offset).unwrap_or(u32::MAX);
            let position = u32::try_from(position).unwrap_or(u32::MAX);
            result.offsets.push(OffsetEntry {
                rel_offset,
                position,
            });
            result.times.push(TimeEntry {
                timestamp: result.max_timestamp,
                rel_offset,
            });
            bytes_since_index = 0;
        }
        bytes_since_index += header.size as u64;
        result.max_timestamp = result.max_timestamp.max(header.max_timestamp);
        result.next_offset = next_offset;
        result.size += header.size as u64;
    }
    Ok(result)
}

#[cfg(test)]
pub(crate) mod tests {
    use std::cell::Cell;
    use std::io::{self, Write};

    thread_local! {
        static FAIL_NEXT_SYNC: Cell<bool> = const { Cell::new(false) };
    }

    /// Makes the next `fsync` of a segment on this thread fail, as a disk
    /// error would.
    pub(crate) fn inject_sync_failure() {
        FAIL_NEXT_SYNC.with(|fail| fail.set(true));
    }

    pub(super) fn fail_if_injected() -> io::Result<()> {
        if FAIL_NEXT_SYNC.with(|fail| fail.replace(false)) {
            return Err(io::Error::other("injected fsync failure"));
        }
        Ok(())
    }

    impl super::Segment {
        /// Leaves what a write that failed part-way, and could not be cut off,
        /// leaves: `garbage` past the segment's end.
        pub(crate) fn leave_torn_write(&mut self, garbage: &[u8]) -> io::Result<()> {
            self.file.write_all(garbage)?;
            let indexed = (
                self.offset_index.entries().len(),
                self.time_index.entries().len(),
            );
            self.torn = Some(indexed);
            Ok(())
        }
    }
}
