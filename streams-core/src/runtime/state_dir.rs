//! Task state directories: which thread of the process holds each, as
//! Kafka's `StateDirectory` locks them. A task's partitions can move to
//! another thread of the same process while the thread that lost them
//! still has their stores open (it learns of the move at its next commit
//! or poll); the new owner waits for the directory instead of opening
//! files the old one still writes. What a directory holds is the task's
//! business: it restores from its checkpoint, or wipes what it cannot
//! trust.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

use super::error::RuntimeError;

/// The task directories held by the threads of one application instance.
#[derive(Debug, Default)]
pub(crate) struct StateDirectories {
    held: Mutex<HashSet<PathBuf>>,
    released: Condvar,
}

/// A task directory held by one thread: released when dropped.
#[derive(Debug)]
pub(crate) struct TaskDirectory {
    directories: Arc<StateDirectories>,
    path: PathBuf,
}

impl TaskDirectory {
    /// The directory.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for TaskDirectory {
    fn drop(&mut self) {
        let mut held = self
            .directories
            .held
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        held.remove(&self.path);
        self.directories.released.notify_all();
    }
}

impl StateDirectories {
    /// Deletes the task directories in `app_dir` that no thread holds and
    /// that were left unchanged for `delay` (Kafka's state cleaner): state
    /// of tasks the instance no longer runs, which a task coming back much
    /// later would restore from stale (tombstones compacted away meanwhile
    /// would leave deleted keys alive). Returns the directories deleted.
    pub(crate) fn clean(
        &self,
        app_dir: &Path,
        delay: Duration,
    ) -> Result<Vec<PathBuf>, RuntimeError> {
        let error = |dir: &Path| {
            let dir = dir.to_owned();
            move |source| RuntimeError::StateDir { dir, source }
        };
        // Held throughout, so that no thread takes a directory as it goes.
        let held = self.held.lock().unwrap_or_else(PoisonError::into_inner);
        let entries = match std::fs::read_dir(app_dir) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            entries => entries.map_err(error(app_dir))?,
        };
        let mut deleted = Vec::new();
        for entry in entries {
            let path = entry.map_err(error(app_dir))?.path();
            if !path.is_dir() || held.contains(&path) {
                continue;
            }
            let modified = std::fs::metadata(&path)
                .and_then(|metadata| metadata.modified())
                .map_err(error(&path))?;
            if modified.elapsed().unwrap_or_default() < delay {
                continue;
            }
            std::fs::remove_dir_all(&path).map_err(error(&path))?;
            tracing::info!(dir = %path.display(), "deleted the state of a task no longer run here");
            deleted.push(path);
        }
        Ok(deleted)
    }

    /// Takes `path` for a starting task, waiting up to `timeout` for
    /// another thread to let it go, and creates it if it is missing.
    pub(crate) fn take(
        self: &Arc<Self>,
        path: PathBuf,
        timeout: Duration,
    ) -> Result<TaskDirectory, RuntimeError> {
        let deadline = Instant::now() + timeout;
        let mut held = self.held.lock().unwrap_or_else(PoisonError::into_inner);
        while held.contains(&path) {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(RuntimeError::StateDirInUse(path));
            }
            held = self
                .released
                .wait_timeout(held, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        held.insert(path.clone());
        drop(held);
        // Held from here: released on any error below by the guard's drop.
        let directory = TaskDirectory {
            directories: Arc::clone(self),
            path,
        };
        std::fs::create_dir_all(&directory.path).map_err(|source| RuntimeError::StateDir {
            dir: directory.path.clone(),
            source,
        })?;
        Ok(directory)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cleaner_deletes_only_directories_nobody_holds_left_long_enough(
    ) -> Result<(), Box<dyn std::error::Error>> {
        let app = tempfile::tempdir()?;
        let directories = Arc::new(StateDirectories::default());
        let held = directories.take(app.path().join("0_0"), Duration::ZERO)?;
        for left in ["0_1", "1_0"] {
            std::fs::create_dir_all(app.path().join(left).join("rocksdb"))?;
        }
        std::fs::write(app.path().join("not-a-task"), b"x")?;
        let kept = directories.clean(app.path(), Duration::from_secs(3600))?;
        assert_eq!(kept, Vec::<PathBuf>::new(), "all changed within the hour");
        let mut deleted = directories.clean(app.path(), Duration::ZERO)?;
        deleted.sort();
        assert_eq!(deleted, [app.path().join("0_1"), app.path().join("1_0")]);
        assert!(held.path().exists());
        assert!(app.path().join("not-a-task").exists());
        assert_eq!(
            directories.clean(&app.path().join("missing"), Duration::ZERO)?,
            Vec::<PathBuf>::new()
        );
        Ok(())
    }

    #[test]
    fn a_held_directory_waits_for_its_holder_and_keeps_its_contents(
    ) -> Result<(), Box<dyn std::error::Error>> {
        let root = std::env::temp_dir().join(format!("state-dir-test-{}", std::process::id()));
        let path = root.join("0_1");
        let directories = Arc::new(StateDirectories::default());
        let first = directories.take(path.clone(), Duration::ZERO)?;
        std::fs::write(first.path().join("store"), b"x")?;
        let busy = directories.take(path.clone(), Duration::from_millis(20));
        assert!(matches!(busy, Err(RuntimeError::StateDirInUse(ref held)) if held == &path));
        let waiting = {
            let (directories, path) = (Arc::clone(&directories), path.clone());
            std::thread::spawn(move || directories.take(path, Duration::from_secs(10)))
        };
        std::thread::sleep(Duration::from_millis(50));
        drop(first);
        let second = waiting
            .join()
            .map_err(|_| "the waiting thread panicked")??;
        assert_eq!(
            std::fs::read(second.path().join("store"))?,
            b"x",
            "what the task left is the next task's to judge"
        );
        drop(second);
        std::fs::remove_dir_all(&root)?;
        Ok(())
    }
}
