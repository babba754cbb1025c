//! Ordered byte maps the stores are built on.
//!
//! Every store kind is written once, generically over a [`BytesBackend`];
//! the backends only provide an ordered map of byte keys to byte values.
//! That keeps the in-memory and RocksDB variants of each store identical in
//! behaviour: same binary layouts, same iteration order, same expiry.

mod memory;
mod rocks;

pub use self::memory::InMemoryBackend;
pub use self::rocks::{store_options, RocksDbBackend, RocksDbOptionsHook};

use crate::error::Result;
use crate::key_value::{rewrite, KeyValueIter, Rewrite};
use crate::range::{ByteRange, ScanOrder};

/// An ordered map from byte keys to byte values, ordered lexicographically.
pub trait BytesBackend: Send {
    /// Name of the store using this backend (used in errors).
    fn name(&self) -> &str;

    /// Whether the contents survive a restart.
    fn persistent(&self) -> bool;

    /// The value stored under `key`.
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>>;

    /// Calls `read` with the value stored under `key` (`None` if absent),
    /// lent rather than copied where the backend can.
    fn get_with(&self, key: &[u8], read: &mut dyn FnMut(Option<&[u8]>)) -> Result<()> {
        read(self.get(key)?.as_deref());
        Ok(())
    }

    /// Stores `value` under `key`, replacing any previous value.
    fn put(&mut self, key: &[u8], value: &[u8]) -> Result<()>;

    /// Reads the value under `key` and lets `update` write the new one:
    /// `update` gets the stored value (`None` if absent) and the empty
    /// `value` buffer, and answers whether to store what it wrote there
    /// (`false` leaves the entry as it was). Returns that answer, with
    /// `value` holding the bytes written: a read and a write, with one
    /// lookup where the backend can.
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

    /// Removes `key` (a no-op if absent).
    fn delete(&mut self, key: &[u8]) -> Result<()>;

    /// Applies puts (`Some`) and deletes (`None`) in order, as one atomic
    /// batch where the backend supports it.
    fn write_batch<'a, I>(&mut self, ops: I) -> Result<()>
    where
        I: IntoIterator<Item = (&'a [u8], Option<&'a [u8]>)>;

    /// Removes every key in `[from, to)`.
    fn delete_range(&mut self, from: &[u8], to: &[u8]) -> Result<()>;

    /// The entries in `range`, in `order`.
    fn scan(&self, range: &ByteRange, order: ScanOrder) -> KeyValueIter<'_>;

    /// An estimate of the number of entries.
    fn approximate_len(&self) -> Result<u64>;

    /// Makes the writes so far durable.
    fn flush(&mut self) -> Result<()>;

    /// Flushes and releases resources; later calls fail with `Closed`.
    fn close(&mut self) -> Result<()>;
}
