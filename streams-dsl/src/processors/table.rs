//! The processors of table operators, as Kafka Streams' `KTableSource`,
//! `KTableFilter`/`KTableMapValues`, `KTableRepartitionMap` and
//! `KTableAggregate`/`KTableReduce`. Records between them carry
//! [`Change`]s; each reads at start (from a [`NodeView`]) whether its node
//! is materialized and whether it forwards old values.

use std::sync::Arc;

use streams_core::prelude::*;
use streams_core::serde::SharedSerde;
use streams_core::state::{TimestampedKeyValueStore, ValueAndTimestamp};

use super::{flush_cache, TableCache};
use crate::ktable::Change;
use crate::nulls::{NullTest, SkipNulls, NULL_KEY};
use crate::table_node::NodeView;

/// What a table processor keeps its rows in and forwards them through:
/// its node's store if the node is materialized, that store's cache, and
/// whether the operators downstream want old values. Empty until the
/// processor starts and opens it.
pub(crate) struct TableRows<K, V> {
    pub(crate) store: Option<TimestampedKeyValueStore<K, V>>,
    pub(crate) send_old_values: bool,
    pub(crate) cache: Option<TableCache<K, V>>,
}

impl<K, V> Default for TableRows<K, V> {
    fn default() -> Self {
        Self {
            store: None,
            send_old_values: false,
            cache: None,
        }
    }
}

impl<K: Clone + 'static, V: Clone + 'static> TableRows<K, V> {
    /// The rows of the node `view` shows, as its processor starts.
    pub(crate) fn open<KOut, VOut>(
        view: &NodeView,
        ctx: &ProcessorContext<'_, KOut, VOut>,
    ) -> Result<Self, StreamsError> {
        Self::kept_in(view.store(), view, ctx)
    }

    /// The rows of the node `view` shows, kept in the store named `store`
    /// (none: not materialized), as its processor starts.
    pub(crate) fn kept_in<KOut, VOut>(
        store: Option<&str>,
        view: &NodeView,
        ctx: &ProcessorContext<'_, KOut, VOut>,
    ) -> Result<Self, StreamsError> {
        let store: Option<TimestampedKeyValueStore<K, V>> =
            store.map(|name| ctx.state_store(name)).transpose()?;
        let send_old_values = view.send_old_values();
        let cache = match &store {
            Some(store) => TableCache::of(store, send_old_values)?,
            None => None,
        };
        Ok(Self {
            store,
            send_old_values,
            cache,
        })
    }

    /// Forwards every update the cache holds (at a commit); nothing
    /// without a cache, whose processor forwarded each update already.
    pub(crate) fn flush(
        &self,
        ctx: &mut ProcessorContext<'_, K, Change<V>>,
    ) -> Result<(), StreamsError> {
        flush_cache(self.cache.as_ref(), ctx)
    }
}

/// Writes `value` (or deletes, for `None`) with its timestamp.
fn write<K, V>(
    store: &TimestampedKeyValueStore<K, V>,
    key: &K,
    value: &Option<V>,
    timestamp: i64,
) -> Result<(), StreamsError>
where
    K: 'static,
    V: Clone + 'static,
{
    match value {
        Some(value) => store.put(
            key,
            &ValueAndTimestamp {
                value: value.clone(),
                timestamp,
            },
        ),
        None => store.delete(key).map(|_| ()),
    }
}

/// A table source: each record upserts its key (a null value deletes it);
/// forwards the change, with the old value read from the store when the
/// node is materialized and sends old values. With a cached store the
/// change is forwarded when it leaves the cache instead.
pub(crate) struct TableSource<K, V> {
    pub(crate) view: NodeView,
    /// Drops the null keys of a stream read as a table.
    null_keys: Option<SkipNulls<K, ()>>,
    rows: TableRows<K, V>,
}

impl<K, V> TableSource<K, V> {
    pub(crate) fn new(view: NodeView) -> Self {
        Self {
            view,
            null_keys: None,
            rows: TableRows::default(),
        }
    }

    /// Drops the records whose key `key` writes as null, as Kafka's
    /// `KTableSource` drops null keys (a stream read as a table).
    pub(crate) fn skipping_null_keys(mut self, key: SharedSerde<K>) -> Self {
        self.null_keys = Some(SkipNulls::keys(key));
        self
    }

    /// Whether `key` is null, and the record is dropped.
    fn skips<KOut, VOut>(&self, ctx: &mut ProcessorContext<'_, KOut, VOut>, key: &K) -> bool {
        self.null_keys
            .as_ref()
            .is_some_and(|nulls| nulls.skip_key(ctx, key))
    }
}

impl<K: Clone + 'static, V: Clone + 'static> TableSource<K, V> {
    fn upsert(
        &mut self,
        ctx: &mut ProcessorContext<'_, K, Change<V>>,
        record: Record<K, Option<V>>,
    ) -> Result<(), StreamsError> {
        let old = match &self.rows.store {
            Some(store) => {
                let old = store.get(&record.key)?.map(|old| old.value);
                write(store, &record.key, &record.value, record.timestamp)?;
                if let Some(cache) = &self.rows.cache {
                    // Only what an eviction pushed out goes downstream now.
                    return cache.forward_evicted(ctx);
                }
                old.filter(|_| self.rows.send_old_values)
            }
            None => None,
        };
        ctx.forward(Record {
            key: record.key,
            value: Change {
                new: record.value,
                old,
            },
            timestamp: record.timestamp,
            headers: record.headers,
        })
    }
}

/// Reading a topic as a table: null keys are dropped, null values delete.
impl<K: Clone + 'static, V: Clone + 'static> Processor<Option<K>, Option<V>, K, Change<V>>
    for TableSource<K, V>
{
    fn init(&mut self, ctx: &mut ProcessorContext<'_, K, Change<V>>) -> Result<(), StreamsError> {
        self.rows = TableRows::open(&self.view, ctx)?;
        Ok(())
    }

    fn flush(&mut self, ctx: &mut ProcessorContext<'_, K, Change<V>>) -> Result<(), StreamsError> {
        self.rows.flush(ctx)
    }

    fn process(
        &mut self,
        ctx: &mut ProcessorContext<'_, K, Change<V>>,
        record: Record<Option<K>, Option<V>>,
    ) -> Result<(), StreamsError> {
        let Some(key) = record.key else {
            ctx.record_dropped(NULL_KEY);
            return Ok(());
        };
        self.upsert(
            ctx,
            Record {
                key,
                value: record.value,
                timestamp: record.timestamp,
                headers: record.headers,
            },
        )
    }
}

/// `KStream::to_table`: every (non-null) record is an upsert.
impl<K: Clone + 'static, V: Clone + 'static> Processor<K, V, K, Change<V>> for TableSource<K, V> {
    fn init(&mut self, ctx: &mut ProcessorContext<'_, K, Change<V>>) -> Result<(), StreamsError> {
        self.rows = TableRows::open(&self.view, ctx)?;
        Ok(())
    }

    fn flush(&mut self, ctx: &mut ProcessorContext<'_, K, Change<V>>) -> Result<(), StreamsError> {
        self.rows.flush(ctx)
    }

    fn process(
        &mut self,
        ctx: &mut ProcessorContext<'_, K, Change<V>>,
        record: Record<K, V>,
    ) -> Result<(), StreamsError> {
        if self.skips(ctx, &record.key) {
            return Ok(());
        }
        let value = Some(record.value);
        self.upsert(
            ctx,
            Record {
                key: record.key,
                value,
                timestamp: record.timestamp,
                headers: record.headers,
            },
        )
    }
}

/// A foreign-key join's result: each record upserts its key, `None`
/// deletes it (Kafka's `KTableSource` behind the join).
impl<K: Clone + 'static, V: Clone + 'static> Processor<K, Option<V>, K, Change<V>>
    for TableSource<K, V>
{
    fn init(&mut self, ctx: &mut ProcessorContext<'_, K, Change<V>>) -> Result<(), StreamsError> {
        self.rows = TableRows::open(&self.view, ctx)?;
        Ok(())
    }

    fn flush(&mut self, ctx: &mut ProcessorContext<'_, K, Change<V>>) -> Result<(), StreamsError> {
        self.rows.flush(ctx)
    }

    fn process(
        &mut self,
        ctx: &mut ProcessorContext<'_, K, Change<V>>,
        record: Record<K, Option<V>>,
    ) -> Result<(), StreamsError> {
        if self.skips(ctx, &record.key) {
            return Ok(());
        }
        self.upsert(ctx, record)
    }
}

/// Computes a row's new value from its parent's (`None`: no row).
pub(crate) type RowMapper<K, V, V2> = Arc<dyn Fn(&K, V) -> Option<V2> + Send + Sync>;

/// Where a table operator that sends old values finds the old value.
#[derive(Clone, Copy)]
pub(crate) enum OldValue {
    /// In its own store when it is materialized (the row the store held),
    /// else mapped from its parent's change: Kafka's `KTableFilter` and
    /// `KTableMapValues`.
    Stored,
    /// Mapped from its parent's change always: Kafka's
    /// `KTableKTableJoinMerger`, whose parents (the join sides) computed
    /// it, and which a self-join would otherwise see half-updated.
    Mapped,
}

/// `filter`, `filter_not` and `map_values` of a table, and the merge node
/// of a table-table join: maps both halves of each change. A filter drops
/// rows (its mapper answers `None`) and, when it knows old values, skips
/// changes that are absent before and after, as Kafka's `KTableFilter`;
/// otherwise a failing row becomes a tombstone. Materialized in a cached
/// store, the change is forwarded when it leaves the cache instead.
pub(crate) struct TableValues<K, V, V2> {
    pub(crate) mapper: RowMapper<K, V, V2>,
    pub(crate) skip_absent: bool,
    pub(crate) old_value: OldValue,
    pub(crate) view: NodeView,
    pub(crate) rows: TableRows<K, V2>,
}

impl<K, V, V2> Processor<K, Change<V>, K, Change<V2>> for TableValues<K, V, V2>
where
    K: Clone + 'static,
    V: 'static,
    V2: Clone + 'static,
{
    fn init(&mut self, ctx: &mut ProcessorContext<'_, K, Change<V2>>) -> Result<(), StreamsError> {
        self.rows = TableRows::open(&self.view, ctx)?;
        Ok(())
    }

    fn flush(&mut self, ctx: &mut ProcessorContext<'_, K, Change<V2>>) -> Result<(), StreamsError> {
        self.rows.flush(ctx)
    }

    fn process(
        &mut self,
        ctx: &mut ProcessorContext<'_, K, Change<V2>>,
        record: Record<K, Change<V>>,
    ) -> Result<(), StreamsError> {
        let key = record.key;
        let Change { new, old } = record.value;
        let new = new.and_then(|value| (self.mapper)(&key, value));
        let old = match (&self.rows.store, self.rows.send_old_values, self.old_value) {
            (_, false, _) => None,
            (Some(store), true, OldValue::Stored) => store.get(&key)?.map(|old| old.value),
            (_, true, _) => old.and_then(|value| (self.mapper)(&key, value)),
        };
        if self.skip_absent && self.rows.send_old_values && new.is_none() && old.is_none() {
            return Ok(());
        }
        if let Some(store) = &self.rows.store {
            write(store, &key, &new, record.timestamp)?;
        }
        if let Some(cache) = &self.rows.cache {
            // Only what an eviction pushed out goes downstream now.
            return cache.forward_evicted(ctx);
        }
        ctx.forward(Record {
            key,
            value: Change { new, old },
            timestamp: record.timestamp,
            headers: record.headers,
        })
    }
}

/// Selects a table row's new key and value.
pub(crate) type RowSelector<K, V, K1, V1> = Arc<dyn Fn(&K, &V) -> (K1, V1) + Send + Sync>;

/// A table `group_by`'s key selection (Kafka's `KTableRepartitionMap`):
/// sends the old row to subtract under its old key, then the new row to
/// add under its new key; one change for both when the key stays. A
/// selected pair with a null key or value is not sent, silently.
pub(crate) struct RepartitionMap<K, V, K1, V1> {
    pub(crate) selector: RowSelector<K, V, K1, V1>,
    pub(crate) nulls: NullTest<K1, V1>,
}

impl<K, V, K1, V1> Processor<K, Change<V>, K1, Change<V1>> for RepartitionMap<K, V, K1, V1>
where
    K: 'static,
    V: 'static,
    K1: Clone + PartialEq + 'static,
    V1: Clone + 'static,
{
    fn process(
        &mut self,
        ctx: &mut ProcessorContext<'_, K1, Change<V1>>,
        record: Record<K, Change<V>>,
    ) -> Result<(), StreamsError> {
        let select = |value: &Option<V>| {
            let (key, value) = (self.selector)(&record.key, value.as_ref()?);
            let null = self.nulls.key(&key) || self.nulls.value(&value);
            (!null).then_some((key, value))
        };
        let new = select(&record.value.new);
        let old = select(&record.value.old);
        let send = |ctx: &mut ProcessorContext<'_, K1, Change<V1>>, key: K1, change| {
            ctx.forward(Record {
                key,
                value: change,
                timestamp: record.timestamp,
                headers: record.headers.clone(),
            })
        };
        match (old, new) {
            (Some((old_key, old)), Some((new_key, new))) if old_key == new_key => send(
                ctx,
                new_key,
                Change {
                    new: Some(new),
                    old: Some(old),
                },
            ),
            (old, new) => {
                if let Some((key, old)) = old {
                    send(
                        ctx,
                        key,
                        Change {
                            new: None,
                            old: Some(old),
                        },
                    )?;
                }
                if let Some((key, new)) = new {
                    send(
                        ctx,
                        key,
                        Change {
                            new: Some(new),
                            old: None,
                        },
                    )?;
                }
                Ok(())
            }
        }
    }
}

/// Folds a value into or out of an aggregate.
pub(crate) type Fold<K, V, A> = Arc<dyn Fn(&K, V, A) -> A + Send + Sync>;
/// Makes the aggregate of a key's first value.
pub(crate) type First<K, V, A> = Arc<dyn Fn(&K, V) -> A + Send + Sync>;

/// How a table aggregation starts, adds and subtracts.
pub(crate) struct TableAggregator<K, V, A> {
    /// The aggregate of a key's first added value (the initializer folded
    /// with the adder; for `reduce`, the value itself).
    pub(crate) first: First<K, V, A>,
    /// Adds a value.
    pub(crate) add: Fold<K, V, A>,
    /// Subtracts a value.
    pub(crate) subtract: Fold<K, V, A>,
}

impl<K, V, A> Clone for TableAggregator<K, V, A> {
    fn clone(&self) -> Self {
        Self {
            first: self.first.clone(),
            add: self.add.clone(),
            subtract: self.subtract.clone(),
        }
    }
}

/// `count`, `reduce` and `aggregate` of a grouped table: subtracts the old
/// value, then adds the new one, stores the result (a subtraction's result
/// too: a count of 0 stays 0) and forwards it, stamped with the largest
/// timestamp involved.
pub(crate) struct TableAggregate<K, V, A> {
    pub(crate) aggregator: TableAggregator<K, V, A>,
    pub(crate) view: NodeView,
    pub(crate) rows: TableRows<K, A>,
}

impl<K, V, A> Processor<K, Change<V>, K, Change<A>> for TableAggregate<K, V, A>
where
    K: Clone + 'static,
    V: 'static,
    A: Clone + 'static,
{
    fn init(&mut self, ctx: &mut ProcessorContext<'_, K, Change<A>>) -> Result<(), StreamsError> {
        self.rows = TableRows::open(&self.view, ctx)?;
        Ok(())
    }

    fn flush(&mut self, ctx: &mut ProcessorContext<'_, K, Change<A>>) -> Result<(), StreamsError> {
        self.rows.flush(ctx)
    }

    fn process(
        &mut self,
        ctx: &mut ProcessorContext<'_, K, Change<A>>,
        record: Record<K, Change<V>>,
    ) -> Result<(), StreamsError> {
        let Some(store) = &self.rows.store else {
            return Ok(());
        };
        let key = record.key;
        let previous = store.get(&key)?;
        let old_aggregate = previous.as_ref().map(|p| p.value.clone());
        // A result built on the stored aggregate keeps its timestamp if that
        // is later (Kafka's `KTableAggregate`/`KTableReduce`).
        let timestamp = match &previous {
            Some(previous) if record.value.old.is_some() || record.value.new.is_some() => {
                record.timestamp.max(previous.timestamp)
            }
            _ => record.timestamp,
        };
        let intermediate = match (record.value.old, old_aggregate.clone()) {
            (Some(old), Some(aggregate)) => Some((self.aggregator.subtract)(&key, old, aggregate)),
            (_, aggregate) => aggregate,
        };
        let new_aggregate = match (record.value.new, intermediate) {
            (Some(new), Some(aggregate)) => Some((self.aggregator.add)(&key, new, aggregate)),
            (Some(new), None) => Some((self.aggregator.first)(&key, new)),
            (None, intermediate) => intermediate,
        };
        write(store, &key, &new_aggregate, timestamp)?;
        if let Some(cache) = &self.rows.cache {
            // Only what an eviction pushed out goes downstream now.
            return cache.forward_evicted(ctx);
        }
        ctx.forward(Record {
            key,
            value: Change {
                new: new_aggregate,
                old: old_aggregate.filter(|_| self.rows.send_old_values),
            },
            timestamp,
            headers: record.headers,
        })
    }
}
