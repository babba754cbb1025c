//! The key-value store on a [`BytesBackend`]: keys and values are stored
//! as they are.

use crate::backend::{BytesBackend, InMemoryBackend, RocksDbBackend};
use crate::changelog::ChangelogRecord;
use crate::error::{Result, StoreError};
use crate::key_value::{FlushListener, KeyValueIter, KeyValueStore, Rewrite};
use crate::range::{ByteRange, ScanOrder};
use crate::state_store::StateStore;

/// A key-value store kept in a [`BytesBackend`].
pub struct BackedKeyValueStore<B> {
    backend: B,
}

/// A key-value store in memory.
pub type InMemoryKeyValueStore = BackedKeyValueStore<InMemoryBackend>;

/// A key-value store in RocksDB.
pub type RocksDbKeyValueStore = BackedKeyValueStore<RocksDbBackend>;

impl<B: BytesBackend> BackedKeyValueStore<B> {
    /// A store over `backend` (whose name is the store's name).
    pub fn new(backend: B) -> Self {
        Self { backend }
    }
}

impl<B: BytesBackend> StateStore for BackedKeyValueStore<B> {
    fn name(&self) -> &str {
        self.backend.name()
    }

    fn persistent(&self) -> bool {
        self.backend.persistent()
    }

    fn flush(&mut self) -> Result<()> {
        self.backend.flush()
    }

    /// No cache here: a commit leaves the data where it is.
    fn flush_cache(&mut self) -> Result<()> {
        Ok(())
    }

    fn close(&mut self) -> Result<()> {
        self.backend.close()
    }
}

impl<B: BytesBackend> KeyValueStore for BackedKeyValueStore<B> {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        self.backend.get(key)
    }

    fn get_with(&self, key: &[u8], read: &mut dyn FnMut(Option<&[u8]>)) -> Result<()> {
        self.backend.get_with(key, read)
    }

    fn put(&mut self, key: &[u8], value: &[u8]) -> Result<()> {
        self.backend.put(key, value)
    }

    fn update(
        &mut self,
        key: &[u8],
        value: &mut Vec<u8>,
        update: &mut Rewrite<'_>,
    ) -> Result<bool> {
        self.backend.update(key, value, update)
    }

    fn put_if_absent(&mut self, key: &[u8], value: &[u8]) -> Result<Option<Vec<u8>>> {
        let existing = self.backend.get(key)?;
        if existing.is_none() {
            self.backend.put(key, value)?;
        }
        Ok(existing)
    }

    fn put_all(&mut self, entries: &[(Vec<u8>, Option<Vec<u8>>)]) -> Result<()> {
        self.backend.write_batch(
            entries
                .iter()
                .map(|(key, value)| (key.as_slice(), value.as_deref())),
        )
    }

    fn delete(&mut self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        let old = self.backend.get(key)?;
        if old.is_some() {
            self.backend.delete(key)?;
        }
        Ok(old)
    }

    fn scan(&self, range: &ByteRange, order: ScanOrder) -> KeyValueIter<'_> {
        self.backend.scan(range, order)
    }

    fn approximate_num_entries(&self) -> Result<u64> {
        self.backend.approximate_len()
    }

    fn restore_batch(&mut self, records: &[ChangelogRecord]) -> Result<()> {
        self.backend.write_batch(
            records
                .iter()
                .map(|record| (record.key.as_slice(), record.value.as_deref())),
        )
    }

    fn set_flush_listener(&mut self, _listener: FlushListener) -> Result<()> {
        Err(StoreError::NotCached(self.name().to_owned()))
    }
}
