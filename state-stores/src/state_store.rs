//! The lifecycle interface every store implements.

use crate::error::Result;

/// Behaviour shared by every store, whatever its kind or backend.
///
/// Stores are owned and used by one task at a time, so they need `Send`
/// (a task may move between threads) but not `Sync`.
pub trait StateStore: Send {
    /// The store's name, unique within a topology.
    fn name(&self) -> &str;

    /// Whether the store keeps its contents on disk across restarts.
    fn persistent(&self) -> bool;

    /// Makes every write so far durable (persistent stores) and hands cached
    /// writes down to the wrapped store (caching layers): what a checkpoint
    /// needs first, and what closing does.
    fn flush(&mut self) -> Result<()>;

    /// Hands cached writes down to the wrapped store (caching layers) and
    /// makes nothing durable: what a commit does, as Kafka Streams' commit
    /// flushes the caches and leaves RocksDB's memtables alone (the
    /// changelog holds every write). Layers without a cache pass it on;
    /// the stores at the bottom have nothing to do.
    fn flush_cache(&mut self) -> Result<()>;

    /// Flushes and releases the store's resources; later operations fail
    /// with [`StoreError::Closed`](crate::StoreError::Closed).
    fn close(&mut self) -> Result<()>;
}
