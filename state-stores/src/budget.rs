//! The process-wide RocksDB memory budget.

use std::fmt;

use rocksdb::{BlockBasedOptions, Cache, Options, WriteBufferManager};

use crate::error::{Result, StoreError};

/// Bounds the memory of every RocksDB store opened with it, however many
/// stores and partitions a process opens.
///
/// The budget owns one LRU block cache of `total_bytes` and a
/// `WriteBufferManager` whose memtable memory is *charged to that cache*, so
/// block cache, index and filter blocks and memtables all share one limit
/// (the setup Kafka Streams documents as `BoundedMemoryRocksDBConfig`).
/// Memtables may use at most `write_buffer_bytes` of it; when they reach it
/// RocksDB flushes the largest memtable.
///
/// Cloning is cheap and yields a handle to the same budget; open every store
/// of a process with clones of one budget.
#[derive(Clone)]
pub struct RocksDbMemoryBudget {
    total_bytes: usize,
    write_buffer_bytes: usize,
    cache: Cache,
    write_buffer_manager: WriteBufferManager,
}

impl RocksDbMemoryBudget {
    /// A budget of `total_bytes`, half of which memtables may use.
    pub fn new(total_bytes: usize) -> Self {
        Self::build(total_bytes, total_bytes / 2)
    }

    /// A budget of `total_bytes` of which memtables may use
    /// `write_buffer_bytes`.
    ///
    /// Fails if `write_buffer_bytes` is zero or exceeds `total_bytes`.
    pub fn with_write_buffer_bytes(total_bytes: usize, write_buffer_bytes: usize) -> Result<Self> {
        if write_buffer_bytes == 0 || write_buffer_bytes > total_bytes {
            return Err(StoreError::InvalidConfig {
                store: "<memory budget>".to_owned(),
                reason: format!(
                    "write buffer bytes ({write_buffer_bytes}) must be in 1..={total_bytes}"
                ),
            });
        }
        Ok(Self::build(total_bytes, write_buffer_bytes))
    }

    fn build(total_bytes: usize, write_buffer_bytes: usize) -> Self {
        let cache = Cache::new_lru_cache(total_bytes);
        // No stalling: a stalled writer would block the stream thread; the
        // manager's flush triggers keep memtables near the limit anyway.
        let write_buffer_manager = WriteBufferManager::new_write_buffer_manager_with_cache(
            write_buffer_bytes,
            false,
            cache.clone(),
        );
        Self {
            total_bytes,
            write_buffer_bytes,
            cache,
            write_buffer_manager,
        }
    }

    /// The total budget in bytes.
    pub fn total_bytes(&self) -> usize {
        self.total_bytes
    }

    /// The part of the budget memtables may use, in bytes.
    pub fn write_buffer_bytes(&self) -> usize {
        self.write_buffer_bytes
    }

    /// Bytes currently charged to the shared cache (blocks and memtables).
    pub fn usage(&self) -> usize {
        self.cache.get_usage()
    }

    /// Points `options` at the shared cache and write buffer manager.
    pub(crate) fn apply(&self, options: &mut Options) {
        let mut table = BlockBasedOptions::default();
        table.set_block_cache(&self.cache);
        // Index and filter blocks live in (and are bounded by) the cache
        // instead of growing with the data outside any budget.
        table.set_cache_index_and_filter_blocks(true);
        table.set_cache_index_and_filter_blocks_with_high_priority(true);
        table.set_pin_top_level_index_and_filter(true);
        table.set_bloom_filter(10.0, false);
        options.set_block_based_table_factory(&table);
        options.set_write_buffer_manager(&self.write_buffer_manager);
        // Small enough that several stores' active memtables fit the budget.
        options.set_write_buffer_size((self.write_buffer_bytes / 4).clamp(1 << 20, 16 << 20));
        options.set_max_write_buffer_number(3);
    }
}

impl fmt::Debug for RocksDbMemoryBudget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RocksDbMemoryBudget")
            .field("total_bytes", &self.total_bytes)
            .field("write_buffer_bytes", &self.write_buffer_bytes)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_buffer_share_must_fit_the_budget() {
        assert!(RocksDbMemoryBudget::with_write_buffer_bytes(10, 0).is_err());
        assert!(RocksDbMemoryBudget::with_write_buffer_bytes(10, 11).is_err());
        let budget = RocksDbMemoryBudget::with_write_buffer_bytes(10 << 20, 2 << 20);
        assert!(
            budget.is_ok_and(|b| b.write_buffer_bytes() == 2 << 20 && b.total_bytes() == 10 << 20)
        );
    }
}
