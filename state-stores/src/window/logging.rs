//! The changelogging layer for window stores.

use super::{schema, WindowIter, WindowStore};
use crate::changelog::{ChangelogRecord, ChangelogWriter};
use crate::error::Result;
use crate::key_value::FlushListener;
use crate::range::ScanOrder;
use crate::state_store::StateStore;

/// Wraps a window store and logs every write it keeps, keyed by
/// `key ++ window start ++ seqnum`.
pub struct LoggingWindowStore {
    inner: Box<dyn WindowStore>,
    changelog: ChangelogWriter,
}

impl LoggingWindowStore {
    pub(crate) fn new(inner: Box<dyn WindowStore>, changelog: ChangelogWriter) -> Self {
        Self { inner, changelog }
    }
}

impl StateStore for LoggingWindowStore {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn persistent(&self) -> bool {
        self.inner.persistent()
    }

    fn flush(&mut self) -> Result<()> {
        self.inner.flush()
    }

    fn flush_cache(&mut self) -> Result<()> {
        self.inner.flush_cache()
    }

    fn close(&mut self) -> Result<()> {
        self.inner.close()
    }
}

impl WindowStore for LoggingWindowStore {
    fn retain_duplicates(&self) -> bool {
        self.inner.retain_duplicates()
    }

    fn put(&mut self, key: &[u8], value: Option<&[u8]>, window_start: i64) -> Result<Option<u32>> {
        let seqnum = self.inner.put(key, value, window_start)?;
        if let Some(seqnum) = seqnum {
            let changelog_key = schema::changelog_key(key, window_start, seqnum);
            self.changelog.log(changelog_key, value)?;
        }
        Ok(seqnum)
    }

    fn fetch_window(&self, key: &[u8], window_start: i64) -> Result<Option<Vec<u8>>> {
        self.inner.fetch_window(key, window_start)
    }

    fn scan_windows(
        &self,
        key_from: Option<&[u8]>,
        key_to: Option<&[u8]>,
        time_from: i64,
        time_to: i64,
        order: ScanOrder,
    ) -> WindowIter<'_> {
        self.inner
            .scan_windows(key_from, key_to, time_from, time_to, order)
    }

    fn approximate_num_entries(&self) -> Result<u64> {
        self.inner.approximate_num_entries()
    }

    fn restore_batch(&mut self, records: &[ChangelogRecord]) -> Result<()> {
        self.inner.restore_batch(&self.changelog.restored(records))
    }

    fn set_flush_listener(&mut self, listener: FlushListener) -> Result<()> {
        self.inner.set_flush_listener(listener)
    }
}
