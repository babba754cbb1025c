//! The RocksDB backend: one RocksDB instance per store.

use std::path::Path;
use std::sync::Arc;

use rocksdb::{Direction, IteratorMode, Options, ReadOptions, WriteBatch, WriteOptions, DB};

use super::BytesBackend;
use crate::budget::RocksDbMemoryBudget;
use crate::error::{Result, StoreError};
use crate::key_value::KeyValueIter;
use crate::range::{ByteRange, ScanOrder};

/// A user hook that adjusts the RocksDB options of a store after the budget
/// and defaults were applied (Kafka Streams' `RocksDBConfigSetter`).
pub type RocksDbOptionsHook = Arc<dyn Fn(&mut Options) + Send + Sync>;

/// The options every RocksDB store starts from: the budget's shared cache and
/// write buffer manager plus defaults. [`RocksDbBackend::open`] applies the
/// user's hook on top of these.
pub fn store_options(budget: &RocksDbMemoryBudget) -> Options {
    let mut options = Options::default();
    options.create_if_missing(true);
    budget.apply(&mut options);
    options
}

/// A RocksDB database holding one store.
///
/// Writes skip the write-ahead log, as in Kafka Streams: the changelog topic
/// is the source of truth. A commit leaves the memtables in memory;
/// [`flush`](BytesBackend::flush) persists them (at close, and before any
/// checkpoint may name their offsets), so writes lost in a crash are
/// replayed from the changelog.
pub struct RocksDbBackend {
    name: String,
    /// `None` once closed; dropping the handle releases the database lock.
    db: Option<DB>,
    write_options: WriteOptions,
}

impl RocksDbBackend {
    /// Opens (creating if needed) the database at `path` for the store called
    /// `name`, charging its memory to `budget`; `hook` may adjust the options.
    pub fn open(
        name: &str,
        path: &Path,
        budget: &RocksDbMemoryBudget,
        hook: Option<&RocksDbOptionsHook>,
    ) -> Result<Self> {
        std::fs::create_dir_all(path).map_err(|source| StoreError::Io {
            path: path.to_owned(),
            source,
        })?;
        let mut options = store_options(budget);
        if let Some(hook) = hook {
            hook(&mut options);
        }
        let db = DB::open(&options, path).map_err(|source| rocks_error(name, source))?;
        let mut write_options = WriteOptions::default();
        write_options.disable_wal(true);
        Ok(Self {
            name: name.to_owned(),
            db: Some(db),
            write_options,
        })
    }

    fn db(&self) -> Result<&DB> {
        self.db
            .as_ref()
            .ok_or_else(|| StoreError::Closed(self.name.clone()))
    }

    fn error(&self, source: rocksdb::Error) -> StoreError {
        rocks_error(&self.name, source)
    }
}

fn rocks_error(store: &str, source: rocksdb::Error) -> StoreError {
    StoreError::RocksDb {
        store: store.to_owned(),
        source,
    }
}

impl BytesBackend for RocksDbBackend {
    fn name(&self) -> &str {
        &self.name
    }

    fn persistent(&self) -> bool {
        true
    }

    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        let value = self.db()?.get_pinned(key).map_err(|e| self.error(e))?;
        Ok(value.map(|v| v.to_vec()))
    }

    fn get_with(&self, key: &[u8], read: &mut dyn FnMut(Option<&[u8]>)) -> Result<()> {
        let value = self.db()?.get_pinned(key).map_err(|e| self.error(e))?;
        read(value.as_deref());
        Ok(())
    }

    fn put(&mut self, key: &[u8], value: &[u8]) -> Result<()> {
        self.db()?
            .put_opt(key, value, &self.write_options)
            .map_err(|e| self.error(e))
    }

    fn delete(&mut self, key: &[u8]) -> Result<()> {
        self.db()?
            .delete_opt(key, &self.write_options)
            .map_err(|e| self.error(e))
    }

    fn write_batch<'a, I>(&mut self, ops: I) -> Result<()>
    where
        I: IntoIterator<Item = (&'a [u8], Option<&'a [u8]>)>,
    {
        let mut batch = WriteBatch::default();
        for (key, value) in ops {
            match value {
                Some(value) => batch.put(key, value),
                None => batch.delete(key),
            }
        }
        self.db()?
            .write_opt(batch, &self.write_options)
            .map_err(|e| self.error(e))
    }

    fn delete_range(&mut self, from: &[u8], to: &[u8]) -> Result<()> {
        if from >= to {
            return Ok(());
        }
        // One range tombstone, whatever the number of keys: reads skip the
        // range at once and compaction discards the covered data (and whole
        // files) in the background.
        let mut batch = WriteBatch::default();
        batch.delete_range(from, to);
        self.db()?
            .write_opt(batch, &self.write_options)
            .map_err(|e| self.error(e))
    }

    fn scan(&self, range: &ByteRange, order: ScanOrder) -> KeyValueIter<'_> {
        let db = match self.db() {
            Ok(db) => db,
            Err(error) => return Box::new(std::iter::once(Err(error))),
        };
        if range.is_empty() {
            return Box::new(std::iter::empty());
        }
        let mut read_options = ReadOptions::default();
        read_options.set_iterate_lower_bound(range.start());
        if let Some(end) = range.end() {
            read_options.set_iterate_upper_bound(end);
        }
        // The bounds keep the iterator inside the range; the mode only picks
        // the end it starts from.
        let mode = match (order, range.end()) {
            (ScanOrder::Forward, _) => IteratorMode::From(range.start(), Direction::Forward),
            (ScanOrder::Backward, Some(end)) => IteratorMode::From(end, Direction::Reverse),
            (ScanOrder::Backward, None) => IteratorMode::End,
        };
        let name = self.name.as_str();
        Box::new(db.iterator_opt(mode, read_options).map(move |item| {
            item.map(|(key, value)| (key.into_vec(), value.into_vec()))
                .map_err(|source| rocks_error(name, source))
        }))
    }

    fn approximate_len(&self) -> Result<u64> {
        let estimate = self
            .db()?
            .property_int_value("rocksdb.estimate-num-keys")
            .map_err(|e| self.error(e))?;
        Ok(estimate.unwrap_or(0))
    }

    fn flush(&mut self) -> Result<()> {
        self.db()?.flush().map_err(|e| self.error(e))
    }

    fn close(&mut self) -> Result<()> {
        if self.db.is_some() {
            self.flush()?;
        }
        self.db = None;
        Ok(())
    }
}
