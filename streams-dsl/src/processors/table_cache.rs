//! Forwarding a table's updates as they leave its store's cache (Kafka
//! Streams' `TimestampedCacheFlushListener`).
//!
//! A processor whose materialized store caches does not forward each
//! update as it writes: the cache collapses a key's updates between
//! commits, and what it writes through - at a commit, or when an eviction
//! makes room - is forwarded then, as one change from the value the store
//! held at the previous flush to the latest one, stamped with the latest
//! write's timestamp.

use streams_core::prelude::*;
use streams_core::state::{
    CacheFlushes, FlushedEntry, TimestampedKeyValueStore, ValueAndTimestamp,
};

use crate::ktable::Change;

/// The flushed updates of a cached timestamped store, turned into changes.
pub(crate) struct TableCache<K, V> {
    flushes: CacheFlushes<K, ValueAndTimestamp<V>>,
    /// Whether changes carry the old value (a downstream operator asked).
    send_old_values: bool,
}

impl<K: Clone + 'static, V: Clone + 'static> TableCache<K, V> {
    /// The cache of `store`, or `None` when it has none (and its writer
    /// forwards every update itself).
    pub(crate) fn of(
        store: &TimestampedKeyValueStore<K, V>,
        send_old_values: bool,
    ) -> Result<Option<Self>, StreamsError> {
        Ok(Self::from_flushes(store.cache_flushes()?, send_old_values))
    }

    /// The cache whose flushes are `flushes`, if the store has one.
    pub(crate) fn from_flushes(
        flushes: Option<CacheFlushes<K, ValueAndTimestamp<V>>>,
        send_old_values: bool,
    ) -> Option<Self> {
        flushes.map(|flushes| Self {
            flushes,
            send_old_values,
        })
    }

    /// Forwards what evictions wrote through since the last call.
    pub(crate) fn forward_evicted(
        &self,
        ctx: &mut ProcessorContext<'_, K, Change<V>>,
    ) -> Result<(), StreamsError> {
        self.forward(ctx, self.flushes.take()?)
    }

    /// Flushes the cache (at a commit) and forwards every update in it.
    pub(crate) fn flush(
        &self,
        ctx: &mut ProcessorContext<'_, K, Change<V>>,
    ) -> Result<(), StreamsError> {
        self.forward(ctx, self.flushes.flush()?)
    }

    fn forward(
        &self,
        ctx: &mut ProcessorContext<'_, K, Change<V>>,
        entries: Vec<FlushedEntry<K, ValueAndTimestamp<V>>>,
    ) -> Result<(), StreamsError> {
        for entry in entries {
            // The stored timestamp is the table's (the largest contributing
            // record's); a deletion carries the deleting write's.
            let timestamp = entry
                .new_value
                .as_ref()
                .map_or(entry.timestamp, |new| new.timestamp);
            let change = Change {
                new: entry.new_value.map(|new| new.value),
                old: entry.old_value.map(|old| old.value),
            };
            if change.new.is_none() && change.old.is_none() {
                // Written and deleted between two flushes: nothing to retract.
                continue;
            }
            let change = Change {
                old: change.old.filter(|_| self.send_old_values),
                ..change
            };
            ctx.forward(Record::new(entry.key, change, timestamp))?;
        }
        Ok(())
    }
}

/// Forwards everything `cache` holds, at a commit; nothing without a cache
/// (its processor forwarded every update already).
pub(crate) fn flush_cache<K: Clone + 'static, V: Clone + 'static>(
    cache: Option<&TableCache<K, V>>,
    ctx: &mut ProcessorContext<'_, K, Change<V>>,
) -> Result<(), StreamsError> {
    cache.map_or(Ok(()), |cache| cache.flush(ctx))
}
