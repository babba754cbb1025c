//! Producer ids for idempotent producers (InitProducerId).
//!
//! An id must never be handed out twice, not even across restarts: two
//! producers with one id would refuse each other's sequence numbers, or
//! worse, one's batches would pass for resends of the other's. As Kafka's
//! controller does, ids are reserved in blocks, and the end of the
//! reserved block is saved before any id of it is handed out, so a restart
//! continues after everything that may have been used.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use crate::error::BrokerError;
use crate::log::replace_file;

/// How many ids one save of the file reserves.
const BLOCK: i64 = 1000;

/// The file in the data directory holding the first id not yet reserved.
const FILE: &str = "producer-ids";

/// Hands out producer ids.
#[derive(Debug)]
pub(crate) struct ProducerIds {
    path: PathBuf,
    block: Mutex<Block>,
}

/// The ids reserved and not yet handed out: `next..end`.
#[derive(Debug)]
struct Block {
    next: i64,
    end: i64,
}

impl ProducerIds {
    /// Continues after the ids reserved before in `data_dir`, and after
    /// `in_use`, the largest id the logs hold (which covers a lost file).
    pub(crate) fn open(data_dir: &Path, in_use: Option<i64>) -> Result<Self, BrokerError> {
        let path = data_dir.join(FILE);
        let reserved = match std::fs::read_to_string(&path) {
            Ok(text) => text
                .trim()
                .parse::<i64>()
                .ok()
                .filter(|&id| id >= 0)
                .ok_or_else(|| BrokerError::Corrupt {
                    path: path.clone(),
                    reason: format!("expected the next producer id, found {:?}", text.trim()),
                })?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => 0,
            Err(e) => return Err(BrokerError::storage(path, e)),
        };
        let next = in_use.map_or(reserved, |id| reserved.max(id.saturating_add(1)));
        Ok(Self {
            path,
            block: Mutex::new(Block { next, end: next }),
        })
    }

    /// A producer id never handed out before.
    pub(crate) fn next(&self) -> io::Result<i64> {
        let mut block = self.block.lock().unwrap_or_else(PoisonError::into_inner);
        if block.next == block.end {
            let end = block
                .end
                .checked_add(BLOCK)
                .ok_or_else(|| io::Error::other("producer ids are used up"))?;
            replace_file(&self.path, format!("{end}\n").as_bytes())?;
            block.end = end;
        }
        let id = block.next;
        block.next += 1;
        Ok(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_across_restarts_and_after_those_in_the_logs() {
        let dir = tempfile::tempdir().expect("tempdir");
        let ids = ProducerIds::open(dir.path(), None).expect("open");
        assert_eq!(
            (0..3).map(|_| ids.next().expect("id")).collect::<Vec<_>>(),
            [0, 1, 2]
        );
        drop(ids);
        // Everything of the reserved block may have been handed out.
        let ids = ProducerIds::open(dir.path(), Some(5)).expect("reopen");
        assert_eq!(ids.next().expect("id"), BLOCK);
        drop(ids);
        // The file lost: the logs still say which ids are taken.
        std::fs::remove_file(dir.path().join(FILE)).expect("remove");
        let ids = ProducerIds::open(dir.path(), Some(41)).expect("reopen");
        assert_eq!(ids.next().expect("id"), 42);
    }

    #[test]
    fn a_corrupt_file_is_an_error_not_a_restart_from_zero() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join(FILE), "twelve").expect("write");
        match ProducerIds::open(dir.path(), None) {
            Err(BrokerError::Corrupt { reason, .. }) => assert!(reason.contains("twelve")),
            other => panic!("expected a corrupt-state error, got {other:?}"),
        }
    }
}
