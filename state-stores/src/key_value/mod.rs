//! Key-value stores: the trait, the backend-generic implementation and the
//! changelogging and caching layers.

mod backed;
mod caching;
mod logging;

pub use self::backed::{BackedKeyValueStore, InMemoryKeyValueStore, RocksDbKeyValueStore};
pub use self::caching::CachingKeyValueStore;
pub use self::logging::LoggingKeyValueStore;
pub use crate::write_cache::{CacheEntry, FlushListener};

use crate::changelog::ChangelogRecord;
use crate::error::Result;
use crate::range::{ByteRange, ScanOrder};
use crate::state_store::StateStore;

/// An iterator over key-value pairs, in the order the scan asked for.
pub type KeyValueIter<'a> = Box<dyn Iterator<Item = Result<(Vec<u8>, Vec<u8>)>> + 'a>;

/// What an `update` of a key-value store does with the stored value (see
/// [`KeyValueStore::update`]): gets it (`None` if absent) and an empty
/// buffer, writes the new value into the buffer and answers whether to
/// store it.
pub type Rewrite<'a> = dyn FnMut(Option<&[u8]>, &mut Vec<u8>) -> bool + 'a;

/// Runs `update` on the value `read` lends into `value`, for an `update`
/// made of a read and then a write; answers whether to write.
pub(crate) fn rewrite(
    read: impl FnOnce(&mut dyn FnMut(Option<&[u8]>)) -> Result<()>,
    value: &mut Vec<u8>,
    update: &mut Rewrite<'_>,
) -> Result<bool> {
    let mut write = false;
    read(&mut |stored| {
        value.clear();
        write = update(stored, value);
    })?;
    Ok(write)
}

/// A store of byte values under byte keys, iterated in key byte order.
///
/// Implementors provide the required methods; the scan helpers (`range`,
/// `all`, `prefix_scan`, ...) are all expressed through [`scan`](Self::scan).
pub trait KeyValueStore: StateStore {
    /// The value stored under `key`.
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>>;

    /// Calls `read` with the value stored under `key` (`None` if absent),
    /// lent rather than copied where the store can: what a reader that
    /// decodes the bytes at once uses.
    fn get_with(&self, key: &[u8], read: &mut dyn FnMut(Option<&[u8]>)) -> Result<()> {
        read(self.get(key)?.as_deref());
        Ok(())
    }

    /// Stores `value` under `key`.
    fn put(&mut self, key: &[u8], value: &[u8]) -> Result<()>;

    /// Reads the value under `key` and lets `update` write the new one:
    /// `update` gets the stored value (`None` if absent) and the empty
    /// `value` buffer, and answers whether to store what it wrote there
    /// (`false` leaves the entry as it was). Returns that answer, with
    /// `value` holding the bytes written: a read and a write with one
    /// lookup where the store can (an aggregation updating its row).
    fn update(
        &mut self,
        key: &[u8],
        value: &mut Vec<u8>,
        update: &mut Rewrite<'_>,
    ) -> Result<bool> {
        let write = rewrite(|read| self.get_with(key, read), value, update)?;
        if write {
            self.put(key, value)?;
        }
        Ok(write)
    }

    /// Stores `value` under `key` unless a value is present; returns the
    /// value that was present (`None` means the put happened).
    fn put_if_absent(&mut self, key: &[u8], value: &[u8]) -> Result<Option<Vec<u8>>>;

    /// Stores (`Some`) or deletes (`None`) each entry, in order.
    fn put_all(&mut self, entries: &[(Vec<u8>, Option<Vec<u8>>)]) -> Result<()>;

    /// Deletes `key`, returning the value it had.
    fn delete(&mut self, key: &[u8]) -> Result<Option<Vec<u8>>>;

    /// The entries whose keys lie in `range`, in `order`.
    fn scan(&self, range: &ByteRange, order: ScanOrder) -> KeyValueIter<'_>;

    /// An estimate of the number of entries (exact for in-memory stores).
    fn approximate_num_entries(&self) -> Result<u64>;

    /// Applies a batch of this store's changelog records in one write,
    /// bypassing changelogging and caching.
    fn restore_batch(&mut self, records: &[ChangelogRecord]) -> Result<()>;

    /// Hands `listener` to the store's caching layer, which calls it for
    /// every entry it flushes; fails with
    /// [`StoreError::NotCached`](crate::StoreError::NotCached) if the store
    /// has no caching layer.
    fn set_flush_listener(&mut self, listener: FlushListener) -> Result<()>;

    /// Entries with `from <= key <= to` in ascending order; `None` leaves an
    /// end open. Empty if `from > to`.
    fn range(&self, from: Option<&[u8]>, to: Option<&[u8]>) -> KeyValueIter<'_> {
        self.scan(&ByteRange::inclusive(from, to), ScanOrder::Forward)
    }

    /// Entries with `from <= key <= to` in descending order.
    fn reverse_range(&self, from: Option<&[u8]>, to: Option<&[u8]>) -> KeyValueIter<'_> {
        self.scan(&ByteRange::inclusive(from, to), ScanOrder::Backward)
    }

    /// Every entry in ascending key order.
    fn all(&self) -> KeyValueIter<'_> {
        self.scan(&ByteRange::all(), ScanOrder::Forward)
    }

    /// Every entry in descending key order.
    fn reverse_all(&self) -> KeyValueIter<'_> {
        self.scan(&ByteRange::all(), ScanOrder::Backward)
    }

    /// Entries whose keys start with `prefix`, in ascending order.
    fn prefix_scan(&self, prefix: &[u8]) -> KeyValueIter<'_> {
        self.scan(&ByteRange::prefix(prefix), ScanOrder::Forward)
    }
}
