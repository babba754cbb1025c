//! The changelogging layer for key-value stores.

use crate::changelog::{ChangelogRecord, ChangelogWriter};
use crate::error::Result;
use crate::key_value::{FlushListener, KeyValueIter, KeyValueStore, Rewrite};
use crate::range::{ByteRange, ScanOrder};
use crate::state_store::StateStore;

/// Wraps a key-value store and logs every change it makes to a changelog
/// sink, keyed by the plain key.
pub struct LoggingKeyValueStore {
    inner: Box<dyn KeyValueStore>,
    changelog: ChangelogWriter,
}

impl LoggingKeyValueStore {
    pub(crate) fn new(inner: Box<dyn KeyValueStore>, changelog: ChangelogWriter) -> Self {
        Self { inner, changelog }
    }
}

impl StateStore for LoggingKeyValueStore {
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

impl KeyValueStore for LoggingKeyValueStore {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        self.inner.get(key)
    }

    fn get_with(&self, key: &[u8], read: &mut dyn FnMut(Option<&[u8]>)) -> Result<()> {
        self.inner.get_with(key, read)
    }

    fn put(&mut self, key: &[u8], value: &[u8]) -> Result<()> {
        self.inner.put(key, value)?;
        self.changelog.log(key.to_vec(), Some(value))
    }

    fn update(
        &mut self,
        key: &[u8],
        value: &mut Vec<u8>,
        update: &mut Rewrite<'_>,
    ) -> Result<bool> {
        let written = self.inner.update(key, value, update)?;
        if written {
            self.changelog.log(key.to_vec(), Some(value))?;
        }
        Ok(written)
    }

    fn put_if_absent(&mut self, key: &[u8], value: &[u8]) -> Result<Option<Vec<u8>>> {
        let existing = self.inner.put_if_absent(key, value)?;
        if existing.is_none() {
            self.changelog.log(key.to_vec(), Some(value))?;
        }
        Ok(existing)
    }

    fn put_all(&mut self, entries: &[(Vec<u8>, Option<Vec<u8>>)]) -> Result<()> {
        self.inner.put_all(entries)?;
        entries
            .iter()
            .try_for_each(|(key, value)| self.changelog.log(key.clone(), value.as_deref()))
    }

    fn delete(&mut self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        let old = self.inner.delete(key)?;
        self.changelog.log(key.to_vec(), None)?;
        Ok(old)
    }

    fn scan(&self, range: &ByteRange, order: ScanOrder) -> KeyValueIter<'_> {
        self.inner.scan(range, order)
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
