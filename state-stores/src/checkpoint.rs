//! Per-task checkpoint files: the changelog offset each store's on-disk
//! contents correspond to.
//!
//! Format (text, one item per line):
//!
//! ```text
//! 1                      <- format version
//! 2                      <- number of entries
//! app-counts-changelog 0 42
//! app-joins-changelog 0 7
//! crc32c 1a2b3c4d        <- CRC-32C (hex) of all preceding bytes
//! ```
//!
//! The file is replaced atomically (write a temporary file, fsync it, rename
//! it over the old one, fsync the directory), so a crash leaves either the
//! old or the new checkpoint. Reading is strict: a missing file, or one with
//! any deviation from the format (including a checksum mismatch, which
//! catches bit rot that would otherwise parse as a wrong offset), yields "no
//! checkpoint", so the caller restores from the start of the changelog
//! instead of trusting a wrong offset.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};

use crate::error::{Result, StoreError};

/// Name of the checkpoint file inside a task directory.
pub const CHECKPOINT_FILE_NAME: &str = ".checkpoint";

const VERSION: &str = "1";
const CRC_TAG: &str = "crc32c";

/// A topic and partition.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TopicPartition {
    /// The topic (a checkpoint takes no whitespace in it).
    pub topic: String,
    /// Partition number.
    pub partition: i32,
}

impl TopicPartition {
    /// The partition `partition` of `topic`.
    pub fn new(topic: impl Into<String>, partition: i32) -> Self {
        Self {
            topic: topic.into(),
            partition,
        }
    }
}

/// Checkpointed offsets: for each changelog partition, the offset of the
/// next record to restore.
pub type Offsets = BTreeMap<TopicPartition, i64>;

/// The checkpoint file of one task.
#[derive(Debug, Clone)]
pub struct CheckpointFile {
    path: PathBuf,
}

impl CheckpointFile {
    /// The checkpoint file in `task_dir`.
    pub fn in_dir(task_dir: &Path) -> Self {
        Self {
            path: task_dir.join(CHECKPOINT_FILE_NAME),
        }
    }

    /// Path of the file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Reads the offsets; `Ok(None)` if the file is missing or invalid (the
    /// latter is logged). Fails only if the file exists but cannot be read.
    pub fn read(&self) -> Result<Option<Offsets>> {
        let text = match fs::read(&self.path) {
            Ok(bytes) => bytes,
            Err(error) if error.kind() == ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(self.io_error(source)),
        };
        match parse(&text) {
            Ok(offsets) => Ok(Some(offsets)),
            Err(reason) => {
                tracing::warn!(path = %self.path.display(), reason, "ignoring invalid checkpoint file");
                Ok(None)
            }
        }
    }

    /// Atomically replaces the file with `offsets`. Fails if a topic name is
    /// empty or contains whitespace, or an offset is negative.
    pub fn write(&self, offsets: &Offsets) -> Result<()> {
        let text = render(offsets).map_err(|reason| StoreError::InvalidConfig {
            store: self.path.display().to_string(),
            reason,
        })?;
        let temp = self.path.with_extension("tmp");
        let mut file = File::create(&temp).map_err(|e| self.io_error_at(&temp, e))?;
        file.write_all(text.as_bytes())
            .and_then(|()| file.sync_all())
            .map_err(|e| self.io_error_at(&temp, e))?;
        drop(file);
        fs::rename(&temp, &self.path).map_err(|e| self.io_error(e))?;
        self.sync_dir()
    }

    /// Removes the file (a no-op if it is missing), e.g. before processing
    /// under exactly-once so a crash forces a full restore.
    pub fn delete(&self) -> Result<()> {
        match fs::remove_file(&self.path) {
            Err(error) if error.kind() == ErrorKind::NotFound => Ok(()),
            Err(error) => Err(self.io_error(error)),
            // Durably gone: a checkpoint back after a crash would name
            // offsets the stores have moved past.
            Ok(()) => self.sync_dir(),
        }
    }

    fn sync_dir(&self) -> Result<()> {
        let Some(dir) = self.path.parent() else {
            return Ok(());
        };
        File::open(dir)
            .and_then(|dir| dir.sync_all())
            .map_err(|e| self.io_error_at(dir, e))
    }

    fn io_error(&self, source: std::io::Error) -> StoreError {
        self.io_error_at(&self.path, source)
    }

    fn io_error_at(&self, path: &Path, source: std::io::Error) -> StoreError {
        StoreError::Io {
            path: path.to_owned(),
            source,
        }
    }
}

fn render(offsets: &Offsets) -> std::result::Result<String, String> {
    let mut text = format!("{VERSION}\n{}\n", offsets.len());
    for (tp, offset) in offsets {
        if tp.topic.is_empty() || tp.topic.contains(char::is_whitespace) {
            return Err(format!(
                "topic name {:?} is empty or contains whitespace",
                tp.topic
            ));
        }
        if *offset < 0 {
            return Err(format!(
                "negative offset {offset} for {}-{}",
                tp.topic, tp.partition
            ));
        }
        text.push_str(&format!("{} {} {offset}\n", tp.topic, tp.partition));
    }
    let crc = crc32c::crc32c(text.as_bytes());
    text.push_str(&format!("{CRC_TAG} {crc:08x}\n"));
    Ok(text)
}

fn parse(bytes: &[u8]) -> std::result::Result<Offsets, String> {
    let text = std::str::from_utf8(bytes).map_err(|_| "not UTF-8".to_owned())?;
    let body_len = text
        .trim_end_matches('\n')
        .rfind('\n')
        .map(|i| i + 1)
        .ok_or("too short")?;
    let (body, crc_line) = text.split_at(body_len);
    let expected = crc_line
        .strip_prefix(CRC_TAG)
        .and_then(|rest| rest.strip_prefix(' '))
        .and_then(|rest| rest.strip_suffix('\n'))
        .and_then(|hex| u32::from_str_radix(hex, 16).ok())
        .ok_or("missing checksum line")?;
    if crc32c::crc32c(body.as_bytes()) != expected {
        return Err("checksum mismatch".to_owned());
    }
    let mut lines = body.lines();
    if lines.next() != Some(VERSION) {
        return Err("unsupported version".to_owned());
    }
    let count: usize = lines
        .next()
        .and_then(|line| line.parse().ok())
        .ok_or("missing entry count")?;
    let mut offsets = Offsets::new();
    for line in lines {
        let fields: Vec<&str> = line.split(' ').collect();
        let [topic, partition, offset] = fields[..] else {
            return Err(format!("malformed entry {line:?}"));
        };
        let partition = partition
            .parse()
            .map_err(|_| format!("bad partition in {line:?}"))?;
        let offset: i64 = offset
            .parse()
            .map_err(|_| format!("bad offset in {line:?}"))?;
        if topic.is_empty() || offset < 0 {
            return Err(format!("malformed entry {line:?}"));
        }
        if offsets
            .insert(TopicPartition::new(topic, partition), offset)
            .is_some()
        {
            return Err(format!("duplicate entry {line:?}"));
        }
    }
    if offsets.len() != count {
        return Err(format!("expected {count} entries, found {}", offsets.len()));
    }
    Ok(offsets)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Offsets {
        Offsets::from([
            (TopicPartition::new("app-counts-changelog", 0), 42),
            (TopicPartition::new("app-joins-changelog", 3), 7),
        ])
    }

    #[test]
    fn written_offsets_read_back() -> Result<()> {
        let dir = tempfile::tempdir().map_err(|e| StoreError::Io {
            path: "tmp".into(),
            source: e,
        })?;
        let file = CheckpointFile::in_dir(dir.path());
        assert_eq!(file.read()?, None);
        file.write(&sample())?;
        assert_eq!(file.read()?, Some(sample()));
        file.write(&Offsets::new())?;
        assert_eq!(file.read()?, Some(Offsets::new()));
        file.delete()?;
        assert_eq!(file.read()?, None);
        file.delete()
    }

    #[test]
    fn every_corruption_reads_as_no_checkpoint() -> Result<()> {
        let valid = render(&sample()).map_err(|reason| StoreError::InvalidConfig {
            store: String::new(),
            reason,
        })?;
        assert_eq!(parse(valid.as_bytes()), Ok(sample()));
        // Flip each byte, and truncate at each length: never a wrong result.
        for i in 0..valid.len() {
            let mut flipped = valid.clone().into_bytes();
            flipped[i] ^= 0x01;
            assert!(parse(&flipped).is_err(), "flipped byte {i} accepted");
            assert!(
                parse(&valid.as_bytes()[..i]).is_err(),
                "truncation at {i} accepted"
            );
        }
        Ok(())
    }

    #[test]
    fn unrepresentable_offsets_are_rejected_on_write() {
        let bad_topic = Offsets::from([(TopicPartition::new("a b", 0), 1)]);
        assert!(render(&bad_topic).is_err());
        let negative = Offsets::from([(TopicPartition::new("t", 0), -1)]);
        assert!(render(&negative).is_err());
    }
}
