//! A task's checkpoint: how far into their changelogs the contents of its
//! persistent stores reach, so that a task starting from the same state
//! directory restores only what follows instead of every changelog whole.
//!
//! The rules are Kafka Streams':
//! - Only logged, persistent stores are checkpointed; an in-memory store
//!   starts empty and restores its whole changelog.
//! - Under at-least-once a running task checkpoints after a commit once its
//!   changelogs grew by more than [`CHECKPOINT_DELTA`] records since its
//!   last checkpoint, and right after restoring. A crash leaves an older
//!   checkpoint behind; restoring from it replays writes the stores already
//!   hold, which changes nothing.
//! - Under exactly-once the stores may hold writes of a transaction that
//!   never commits, which no replay takes back. So the checkpoint is
//!   deleted when the task starts and written only when it closes cleanly,
//!   and a task that finds state without a checkpoint wipes it and restores
//!   from scratch.
//! - A checkpoint naming an offset outside its changelog (a changelog
//!   deleted and created again, or records a windowed changelog's
//!   retention removed) cannot be trusted either: the state is wiped.
//!
//! Every store must be durable before a checkpoint names its offset
//! (RocksDB writes skip the write-ahead log): the task flushes them first.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use state_stores::{CheckpointFile, Offsets, StoreError, ROCKSDB_DIR_NAME};

use crate::error::StreamsError;
use crate::record::TopicPartition;

/// How many changelog records a running at-least-once task writes between
/// checkpoints, at least (Kafka's `OFFSET_DELTA_THRESHOLD_FOR_CHECKPOINT`).
pub(super) const CHECKPOINT_DELTA: i64 = 10_000;

/// A task's checkpoint file and the offsets it will write.
pub(super) struct TaskCheckpoint {
    task: String,
    /// The task's state directory; `None` without one (nothing persists).
    dir: Option<PathBuf>,
    exactly_once: bool,
    /// What the file held when the task started (deleted under
    /// exactly-once), until the task's stores have started from it.
    loaded: Option<Offsets>,
    /// Whether the directory held anything besides the checkpoint when
    /// the task started.
    had_state: bool,
    /// For each changelog partition of a persistent store, the offset its
    /// contents reach: the end of its restore, then the offset after the
    /// last record the task wrote to it. `None` while unknown (a store that
    /// was not restored and has written nothing acknowledged).
    positions: BTreeMap<TopicPartition, Option<i64>>,
    /// The offsets of the last checkpoint written.
    written: Offsets,
}

/// Where a persistent store restores its changelog from.
pub(super) enum RestoreStart {
    /// From this offset, which the checkpoint names.
    Checkpointed(i64),
    /// From the changelog's start.
    Beginning,
    /// Nowhere: the task's state cannot be trusted (the reason); it must be
    /// wiped and restored from scratch.
    Corrupted(String),
}

impl TaskCheckpoint {
    /// Reads the checkpoint of the task `task` in `dir` (deleting it under
    /// exactly-once, where only a clean close writes one).
    pub(super) fn load(
        task: &str,
        dir: Option<PathBuf>,
        exactly_once: bool,
    ) -> Result<Self, StreamsError> {
        let mut checkpoint = Self {
            task: task.to_owned(),
            dir,
            exactly_once,
            loaded: None,
            had_state: false,
            positions: BTreeMap::new(),
            written: Offsets::new(),
        };
        let Some(file) = checkpoint.file() else {
            return Ok(checkpoint);
        };
        let loaded = file.read().map_err(|e| checkpoint.error(e))?;
        if exactly_once {
            file.delete().map_err(|e| checkpoint.error(e))?;
        }
        checkpoint.had_state = checkpoint.holds_state()?;
        checkpoint.loaded = loaded;
        Ok(checkpoint)
    }

    /// Where the persistent store logging to `changelog` restores from.
    pub(super) fn restore_start(&self, changelog: &TopicPartition) -> RestoreStart {
        if let Some(&offset) = self.loaded.as_ref().and_then(|l| l.get(changelog)) {
            return RestoreStart::Checkpointed(offset);
        }
        if self.exactly_once && self.had_state {
            return RestoreStart::Corrupted(format!(
                "no checkpointed offset for {}-{} while the state directory holds state, \
                 which may include writes of a transaction that never committed",
                changelog.topic, changelog.partition
            ));
        }
        RestoreStart::Beginning
    }

    /// Tracks the persistent store logging to `changelog`, whose contents
    /// reach `position` (`None`: unknown).
    pub(super) fn track(&mut self, changelog: TopicPartition, position: Option<i64>) {
        self.positions.insert(changelog, position);
    }

    /// Deletes the stores' files and the checkpoint, after the stores
    /// were closed: the stores start again from nothing. Nothing else in
    /// the directory is touched.
    pub(super) fn wipe(&mut self) -> Result<(), StreamsError> {
        self.loaded = None;
        self.had_state = false;
        self.positions.clear();
        let (Some(file), Some(dir)) = (self.file(), &self.dir) else {
            return Ok(());
        };
        let stores = dir.join(ROCKSDB_DIR_NAME);
        match std::fs::remove_dir_all(&stores) {
            Err(error) if error.kind() != std::io::ErrorKind::NotFound => {
                return Err(self.io_error(&stores, error))
            }
            _ => {}
        }
        file.delete().map_err(|e| self.error(e))
    }

    /// Takes in the offsets of the last records the producer acknowledged
    /// (partitions the task does not checkpoint are ignored).
    pub(super) fn acknowledged<'a>(
        &mut self,
        written: impl IntoIterator<Item = (&'a TopicPartition, &'a i64)>,
    ) {
        for (changelog, &last) in written {
            self.reached(changelog, last + 1);
        }
    }

    /// The store logging to `changelog`, if it is checkpointed, now holds
    /// everything before offset `next` (restored or written).
    pub(super) fn reached(&mut self, changelog: &TopicPartition, next: i64) {
        if let Some(position) = self.positions.get_mut(changelog) {
            *position = Some(position.map_or(next, |known| known.max(next)));
        }
    }

    /// Whether to checkpoint once the stores are restored: under
    /// at-least-once, so that what was restored need not be again.
    pub(super) fn due_after_restore(&self) -> bool {
        !self.exactly_once && self.due(true)
    }

    /// Whether a checkpoint is to be written now: always if `enforce` (a
    /// clean close, or the end of a restore) and there is one to write;
    /// under at-least-once also when the changelogs grew enough since the
    /// last one; never while an exactly-once task runs.
    pub(super) fn due(&self, enforce: bool) -> bool {
        if self.dir.is_none() || self.positions.values().all(Option::is_none) {
            return false;
        }
        if enforce {
            return true;
        }
        if self.exactly_once {
            return false;
        }
        let grown: i64 = self
            .positions
            .iter()
            .filter_map(|(changelog, position)| {
                Some(position.as_ref()? - self.written.get(changelog).unwrap_or(&0))
            })
            .sum();
        grown > CHECKPOINT_DELTA
    }

    /// Writes the known positions, once the stores are durable.
    pub(super) fn write(&mut self) -> Result<(), StreamsError> {
        let Some(file) = self.file() else {
            return Ok(());
        };
        let offsets: Offsets = self
            .positions
            .iter()
            .filter_map(|(changelog, position)| Some((changelog.clone(), (*position)?)))
            .collect();
        file.write(&offsets).map_err(|e| self.error(e))?;
        tracing::debug!(task = %self.task, ?offsets, "checkpoint written");
        self.written = offsets;
        Ok(())
    }

    fn file(&self) -> Option<CheckpointFile> {
        self.dir.as_deref().map(CheckpointFile::in_dir)
    }

    /// Whether the directory holds a store's files.
    fn holds_state(&self) -> Result<bool, StreamsError> {
        let Some(dir) = &self.dir else {
            return Ok(false);
        };
        let stores = dir.join(ROCKSDB_DIR_NAME);
        match std::fs::read_dir(&stores) {
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(error) => Err(self.io_error(&stores, error)),
            Ok(mut entries) => Ok(entries.next().is_some()),
        }
    }

    fn io_error(&self, path: &Path, source: std::io::Error) -> StreamsError {
        self.error(StoreError::Io {
            path: path.to_owned(),
            source,
        })
    }

    fn error(&self, source: StoreError) -> StreamsError {
        StreamsError::TaskState {
            task: self.task.clone(),
            source,
        }
    }
}
