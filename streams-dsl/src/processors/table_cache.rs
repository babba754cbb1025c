//! Forwarding a table's updates as they leave its store's cache (Kafka
//! Streams' `TimestampedCacheFlushListener` and `SessionCacheFlushListener`).
//!
//! A processor whose materialized store caches does not forward each
//! update as it writes: the cache collapses a key's updates between
//! commits, and what it writes through - at a commit, or when an eviction
//! makes room - is forwarded then, as one change from the value the store
//! held at the previous flush to the latest one.

use std::marker::PhantomData;

use streams_core::prelude::*;
use streams_core::state::{
    CacheFlushes, FlushedEntries, TimestampedKeyValueStore, ValueAndTimestamp,
};
use streams_core::Windowed;

use crate::ktable::Change;

/// How the rows a table stores become the values and timestamps it
/// forwards.
pub(crate) trait StoredRow<K> {
    /// What the store holds per key.
    type Stored;
    /// What the table forwards.
    type Value;
    /// The forwarded value of a stored row.
    fn value(stored: Self::Stored) -> Self::Value;
    /// The timestamp of an update of `key` to `new` (`None`: deleted),
    /// whose latest write was stamped `write_timestamp`.
    fn timestamp(key: &K, new: Option<&Self::Stored>, write_timestamp: i64) -> i64;
}

/// Rows stored with the timestamp of their last update (key-value and
/// window aggregations): forwarded with that timestamp.
pub(crate) struct Timestamped<V>(PhantomData<V>);

impl<K, V> StoredRow<K> for Timestamped<V> {
    type Stored = ValueAndTimestamp<V>;
    type Value = V;

    fn value(stored: ValueAndTimestamp<V>) -> V {
        stored.value
    }

    fn timestamp(_: &K, new: Option<&ValueAndTimestamp<V>>, write_timestamp: i64) -> i64 {
        // A deletion carries the deleting write's timestamp.
        new.map_or(write_timestamp, |new| new.timestamp)
    }
}

/// Session aggregates: forwarded stamped with the session's end.
pub(crate) struct Sessions<A>(PhantomData<A>);

impl<K, A> StoredRow<Windowed<K>> for Sessions<A> {
    type Stored = A;
    type Value = A;

    fn value(stored: A) -> A {
        stored
    }

    fn timestamp(session: &Windowed<K>, _: Option<&A>, _: i64) -> i64 {
        session.window.end
    }
}

/// The flushed updates of a cached store, turned into changes.
pub(crate) struct RowCache<K, R: StoredRow<K>> {
    /// Old values included only if a downstream operator asked.
    flushes: CacheFlushes<K, R::Stored>,
}

/// The cache of a timestamped key-value or window store.
pub(crate) type TableCache<K, V> = RowCache<K, Timestamped<V>>;

/// The cache of a session store.
pub(crate) type SessionCache<K, A> = RowCache<Windowed<K>, Sessions<A>>;

impl<K: Clone + 'static, V: Clone + 'static> TableCache<K, V> {
    /// The cache of `store`, or `None` when it has none (and its writer
    /// forwards every update itself).
    pub(crate) fn of(
        store: &TimestampedKeyValueStore<K, V>,
        send_old_values: bool,
    ) -> Result<Option<Self>, StreamsError> {
        Ok(Self::from_flushes(store.cache_flushes(send_old_values)?))
    }
}

impl<K, R> RowCache<K, R>
where
    K: Clone + 'static,
    R: StoredRow<K>,
    R::Value: Clone + 'static,
{
    /// The cache whose flushes are `flushes`, if the store has one.
    pub(crate) fn from_flushes(flushes: Option<CacheFlushes<K, R::Stored>>) -> Option<Self> {
        flushes.map(|flushes| Self { flushes })
    }

    /// Forwards what evictions wrote through since the last call.
    pub(crate) fn forward_evicted(
        &self,
        ctx: &mut ProcessorContext<'_, K, Change<R::Value>>,
    ) -> Result<(), StreamsError> {
        self.forward(ctx, self.flushes.take()?)
    }

    /// Flushes the cache (at a commit) and forwards every update in it.
    pub(crate) fn flush(
        &self,
        ctx: &mut ProcessorContext<'_, K, Change<R::Value>>,
    ) -> Result<(), StreamsError> {
        self.forward(ctx, self.flushes.flush()?)
    }

    fn forward(
        &self,
        ctx: &mut ProcessorContext<'_, K, Change<R::Value>>,
        entries: FlushedEntries<'_, K, R::Stored>,
    ) -> Result<(), StreamsError> {
        for entry in entries {
            let entry = entry?;
            let timestamp = R::timestamp(&entry.key, entry.new_value.as_ref(), entry.timestamp);
            // The store reports a deletion only of a key it held (one
            // written and deleted between two flushes has nothing to
            // retract), and the old value only if asked for.
            let change = Change {
                new: entry.new_value.map(R::value),
                old: entry.old_value.map(R::value),
            };
            // With the headers and source of the record that wrote it last,
            // as Kafka's caching stores forward that record's context.
            let record = Record::new(entry.key, change, timestamp).with_headers(entry.headers);
            ctx.forward_from(entry.metadata, record)?;
        }
        Ok(())
    }
}

/// Forwards everything `cache` holds, at a commit; nothing without a cache
/// (its processor forwarded every update already).
pub(crate) fn flush_cache<K, R>(
    cache: Option<&RowCache<K, R>>,
    ctx: &mut ProcessorContext<'_, K, Change<R::Value>>,
) -> Result<(), StreamsError>
where
    K: Clone + 'static,
    R: StoredRow<K>,
    R::Value: Clone + 'static,
{
    cache.map_or(Ok(()), |cache| cache.flush(ctx))
}
