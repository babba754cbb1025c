//! Sparse indexes of a segment: offset → file position, and time → offset.
//!
//! Entries are kept in memory for lookups and appended to a file beside the
//! segment, so that closed segments need not be rescanned on start. The files
//! are a cache: recovery rebuilds any that are missing or inconsistent.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

/// A fixed-size index entry.
pub(crate) trait Entry: Copy {
    /// Encoded size in bytes.
    const SIZE: usize;
    /// Writes the entry into `out`, which is `SIZE` bytes long.
    fn encode(&self, out: &mut [u8]);
    /// Reads an entry from `bytes`, which is `SIZE` bytes long.
    fn decode(bytes: &[u8]) -> Self;
}

/// The batch starting at `base + rel_offset` starts at byte `position`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct OffsetEntry {
    pub(crate) rel_offset: u32,
    pub(crate) position: u32,
}

impl Entry for OffsetEntry {
    const SIZE: usize = 8;
    fn encode(&self, out: &mut [u8]) {
        out[..4].copy_from_slice(&self.rel_offset.to_be_bytes());
        out[4..8].copy_from_slice(&self.position.to_be_bytes());
    }
    fn decode(bytes: &[u8]) -> Self {
        Self {
            rel_offset: u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]),
            position: u32::from_be_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]),
        }
    }
}

/// Every batch before `base + rel_offset` has a timestamp below `timestamp`
/// (the running maximum). The final entry of a closed segment has
/// `rel_offset` at the segment's end and its largest timestamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TimeEntry {
    pub(crate) timestamp: i64,
    pub(crate) rel_offset: u32,
}

impl Entry for TimeEntry {
    const SIZE: usize = 12;
    fn encode(&self, out: &mut [u8]) {
        out[..8].copy_from_slice(&self.timestamp.to_be_bytes());
        out[8..12].copy_from_slice(&self.rel_offset.to_be_bytes());
    }
    fn decode(bytes: &[u8]) -> Self {
        let mut ts = [0; 8];
        ts.copy_from_slice(&bytes[..8]);
        Self {
            timestamp: i64::from_be_bytes(ts),
            rel_offset: u32::from_be_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]),
        }
    }
}

/// An index held in memory and mirrored to an append-only file.
#[derive(Debug)]
pub(crate) struct Index<E> {
    path: PathBuf,
    file: File,
    entries: Vec<E>,
}

impl<E: Entry> Index<E> {
    /// Reads the entries of an existing index file; `None` if it is missing
    /// or not a whole number of entries.
    pub(crate) fn read_entries(path: &Path) -> io::Result<Option<Vec<E>>> {
        let mut bytes = Vec::new();
        match File::open(path) {
            Ok(mut file) => file.read_to_end(&mut bytes)?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        if bytes.len() % E::SIZE != 0 {
            return Ok(None);
        }
        Ok(Some(bytes.chunks_exact(E::SIZE).map(E::decode).collect()))
    }

    /// Opens the index file for appending, replacing its content with
    /// `entries` unless `entries` were just read from it.
    pub(crate) fn open(path: PathBuf, entries: Vec<E>, rewrite: bool) -> io::Result<Self> {
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .truncate(false)
            .open(&path)?;
        if rewrite {
            file.set_len(0)?;
            let mut bytes = vec![0; entries.len() * E::SIZE];
            for (entry, out) in entries.iter().zip(bytes.chunks_exact_mut(E::SIZE)) {
                entry.encode(out);
            }
            file.write_all(&bytes)?;
        }
        Ok(Self {
            path,
            file,
            entries,
        })
    }

    /// Adds an entry.
    pub(crate) fn push(&mut self, entry: E) -> io::Result<()> {
        let mut bytes = [0; 16];
        entry.encode(&mut bytes[..E::SIZE]);
        self.file.write_all(&bytes[..E::SIZE])?;
        self.entries.push(entry);
        Ok(())
    }

    /// Keeps the first `len` entries, in memory and in the file (which may
    /// hold a partly written entry after them).
    pub(crate) fn truncate(&mut self, len: usize) -> io::Result<()> {
        self.entries.truncate(len);
        self.file.set_len((len * E::SIZE) as u64)
    }

    /// The entries, in append order.
    pub(crate) fn entries(&self) -> &[E] {
        &self.entries
    }

    /// Forces the file to disk.
    pub(crate) fn sync(&self) -> io::Result<()> {
        self.file.sync_data()
    }

    /// The index file's path.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }
}

impl Index<OffsetEntry> {
    /// The position to start scanning from for `rel_offset`: that of the last
    /// entry at or before it, or the start of the segment.
    pub(crate) fn position_for(&self, rel_offset: u32) -> u32 {
        let after = self.entries.partition_point(|e| e.rel_offset <= rel_offset);
        after.checked_sub(1).map_or(0, |i| self.entries[i].position)
    }
}

impl Index<TimeEntry> {
    /// The relative offset from which to scan for the first batch with a
    /// timestamp at or after `timestamp`.
    pub(crate) fn rel_offset_for(&self, timestamp: i64) -> u32 {
        let before = self.entries.partition_point(|e| e.timestamp < timestamp);
        before
            .checked_sub(1)
            .map_or(0, |i| self.entries[i].rel_offset)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_survive_a_reopen_and_lookups_find_the_floor() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("0.index");
        let mut index = Index::open(path.clone(), Vec::new(), true).expect("open");
        for (rel_offset, position) in [(0, 0), (10, 4096), (20, 8192)] {
            index
                .push(OffsetEntry {
                    rel_offset,
                    position,
                })
                .expect("push");
        }
        assert_eq!(index.position_for(0), 0);
        assert_eq!(index.position_for(15), 4096);
        assert_eq!(index.position_for(25), 8192);
        let read = Index::<OffsetEntry>::read_entries(&path).expect("read");
        assert_eq!(read.as_deref(), Some(index.entries()));
    }

    #[test]
    fn a_torn_index_file_reads_as_missing() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("0.timeindex");
        std::fs::write(&path, [0u8; 13]).expect("write");
        assert_eq!(Index::<TimeEntry>::read_entries(&path).expect("read"), None);
    }
}
