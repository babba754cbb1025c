//! How processors read a table's current row of a key (Kafka's
//! `KTableValueGetterSupplier` and `KTableValueGetter`).
//!
//! A join looks rows of the other side up. A table kept in a store is read
//! from it. A filter or `map_values` that is not materialized, and a
//! table-table join's result that is not, computes the row from its
//! parents' rows on each lookup, and a suppression answers from its buffer
//! before its parent, as Kafka Streams' table views do, rather than keeping
//! a store of its own: the topology gets no extra store or changelog
//! topic, and its generated names stay those of Kafka Streams.

use std::sync::Arc;

use streams_core::prelude::*;
use streams_core::processor::ConnectedStores;
use streams_core::state::{
    KeyValueStore, SessionStore, StoreHandle, TimestampedKeyValueStore, ValueAndTimestamp,
    WindowStore,
};
use streams_core::Windowed;

use crate::join::Joiner;
use crate::processors::{BufferedChange, RowMapper};

/// Reads a table's rows in a running task.
pub(crate) trait RowGetter<K, V> {
    /// The row of `key` with its timestamp; `None` if there is none.
    fn get(&self, key: &K) -> Result<Option<ValueAndTimestamp<V>>, StreamsError>;
}

impl<K: 'static, V: 'static> RowGetter<K, V> for TimestampedKeyValueStore<K, V> {
    fn get(&self, key: &K) -> Result<Option<ValueAndTimestamp<V>>, StreamsError> {
        TimestampedKeyValueStore::get(self, key)
    }
}

/// A time-windowed aggregation's row: its window's value (Kafka's
/// `KTableWindowedValueGetter`).
impl<K: 'static, V: 'static> RowGetter<Windowed<K>, V> for WindowStore<K, ValueAndTimestamp<V>> {
    fn get(&self, key: &Windowed<K>) -> Result<Option<ValueAndTimestamp<V>>, StreamsError> {
        self.fetch_window(&key.key, key.window.start)
    }
}

/// A session-windowed aggregation's row: its session's value, stamped
/// with the session's end (Kafka's `KTableSessionWindowValueGetter`).
impl<K: 'static, V: 'static> RowGetter<Windowed<K>, V> for SessionStore<K, V> {
    fn get(&self, key: &Windowed<K>) -> Result<Option<ValueAndTimestamp<V>>, StreamsError> {
        let value = self.fetch_session(&key.key, key.window.start, key.window.end)?;
        Ok(value.map(|value| ValueAndTimestamp::new(value, key.window.end)))
    }
}

/// Opens a getter over the stores connected to the processor reading.
type Open<K, V> = Arc<
    dyn Fn(&ConnectedStores<'_>) -> Result<Box<dyn RowGetter<K, V>>, StreamsError> + Send + Sync,
>;

/// How to read a table's rows: the stores they come from, which every
/// processor reading them must be connected to, and how to open a getter
/// over those stores when the processor starts.
pub(crate) struct RowLookup<K, V> {
    stores: Vec<String>,
    open: Open<K, V>,
}

impl<K, V> Clone for RowLookup<K, V> {
    fn clone(&self) -> Self {
        Self {
            stores: self.stores.clone(),
            open: self.open.clone(),
        }
    }
}

impl<K: 'static, V: 'static> RowLookup<K, V> {
    /// Rows kept in the timestamped key-value store `name`.
    pub(crate) fn store(name: String) -> Self {
        Self::kept_in::<TimestampedKeyValueStore<K, V>>(name)
    }

    /// Rows kept in the store `name`, a `S`, which reads them.
    pub(crate) fn kept_in<S>(name: String) -> Self
    where
        S: StoreHandle + Clone + RowGetter<K, V>,
    {
        let store = name.clone();
        Self {
            stores: vec![name],
            open: Arc::new(move |stores| Ok(Box::new(stores.get::<S>(&store)?))),
        }
    }

    /// Rows computed from `parent`'s by `mapper` (which drops a row by
    /// answering `None`), keeping the parent row's timestamp: the view of
    /// a filter or `map_values` (Kafka's `KTableFilter` and
    /// `KTableMapValues` value getters).
    pub(crate) fn mapped<VP: 'static>(
        parent: RowLookup<K, VP>,
        mapper: RowMapper<K, VP, V>,
    ) -> Self {
        Self {
            stores: parent.stores.clone(),
            open: Arc::new(move |stores| {
                Ok(Box::new(Mapped {
                    parent: parent.open(stores)?,
                    mapper: mapper.clone(),
                }))
            }),
        }
    }

    /// Rows of a table-table join's result, computed from both inputs'
    /// rows by `joiner` (whose unmatched cases make the join inner, left
    /// or outer), stamped with the later of the rows' timestamps (Kafka's
    /// `KTableKTable*JoinValueGetter`).
    pub(crate) fn joined<V1: 'static, V2: 'static>(
        left: RowLookup<K, V1>,
        right: RowLookup<K, V2>,
        joiner: Joiner<V1, V2, V>,
    ) -> Self {
        let mut names = left.stores.clone();
        names.extend(
            right
                .stores
                .iter()
                .filter(|store| !left.stores.contains(store))
                .cloned(),
        );
        Self {
            stores: names,
            open: Arc::new(move |stores| {
                Ok(Box::new(Joined {
                    left: left.open(stores)?,
                    right: right.open(stores)?,
                    joiner: joiner.clone(),
                }))
            }),
        }
    }

    /// The rows of the table at `table_node`, which cannot be read (a
    /// suppressed table without serdes has neither a store nor a buffer
    /// store): a store that does not exist, so that building fails with
    /// `TopologyError::UnknownStore` naming the table and the remedy.
    pub(crate) fn unreadable(table_node: &str) -> Self {
        Self::store(format!(
            "{table_node} (not materialized: give the table a Materialized with serdes)"
        ))
    }

    /// Rows of a suppressed table whose buffer is mirrored in the store
    /// `buffer`: a buffered key's prior value, what downstream saw last,
    /// else `parent`'s row (Kafka's view of `KTableSuppressProcessor`).
    /// The prior value's timestamp is not kept, and is -1 as in Kafka.
    pub(crate) fn suppressed(buffer: String, parent: RowLookup<K, V>) -> Self {
        let mut names = vec![buffer.clone()];
        names.extend(parent.stores.iter().cloned());
        Self {
            stores: names,
            open: Arc::new(move |stores| {
                Ok(Box::new(Suppressed {
                    buffer: stores.get(&buffer)?,
                    parent: parent.open(stores)?,
                }))
            }),
        }
    }

    /// The stores the rows are read from.
    pub(crate) fn stores(&self) -> Vec<&str> {
        self.stores.iter().map(String::as_str).collect()
    }

    /// A getter over `stores`, those of the processor about to read.
    pub(crate) fn open(
        &self,
        stores: &ConnectedStores<'_>,
    ) -> Result<Box<dyn RowGetter<K, V>>, StreamsError> {
        (self.open)(stores)
    }
}

struct Mapped<K, VP, V> {
    parent: Box<dyn RowGetter<K, VP>>,
    mapper: RowMapper<K, VP, V>,
}

impl<K, VP, V> RowGetter<K, V> for Mapped<K, VP, V> {
    fn get(&self, key: &K) -> Result<Option<ValueAndTimestamp<V>>, StreamsError> {
        Ok(self.parent.get(key)?.and_then(|row| {
            let value = (self.mapper)(key, row.value)?;
            Some(ValueAndTimestamp::new(value, row.timestamp))
        }))
    }
}

struct Joined<K, V1, V2, VR> {
    left: Box<dyn RowGetter<K, V1>>,
    right: Box<dyn RowGetter<K, V2>>,
    joiner: Joiner<V1, V2, VR>,
}

impl<K, V1: 'static, V2: 'static, VR: 'static> RowGetter<K, VR> for Joined<K, V1, V2, VR> {
    fn get(&self, key: &K) -> Result<Option<ValueAndTimestamp<VR>>, StreamsError> {
        let left = self.left.get(key)?;
        if left.is_none() && self.joiner.right_only.is_none() {
            // Without a left row an inner or left join has no result.
            return Ok(None);
        }
        let right = self.right.get(key)?;
        let timestamp = [
            left.as_ref().map(|row| row.timestamp),
            right.as_ref().map(|row| row.timestamp),
        ]
        .into_iter()
        .flatten()
        .max();
        let value = self.joiner.combine(
            left.as_ref().map(|row| &row.value),
            right.as_ref().map(|row| &row.value),
        );
        Ok(value
            .zip(timestamp)
            .map(|(value, timestamp)| ValueAndTimestamp::new(value, timestamp)))
    }
}

struct Suppressed<K, V> {
    buffer: KeyValueStore<K, BufferedChange<V>>,
    parent: Box<dyn RowGetter<K, V>>,
}

/// The timestamp of a row whose timestamp is not known (Kafka's
/// `RecordQueue.UNKNOWN`).
const UNKNOWN_TIMESTAMP: i64 = -1;

impl<K: 'static, V: 'static> RowGetter<K, V> for Suppressed<K, V> {
    fn get(&self, key: &K) -> Result<Option<ValueAndTimestamp<V>>, StreamsError> {
        match self.buffer.get(key)? {
            Some(buffered) => Ok(buffered
                .prior
                .map(|value| ValueAndTimestamp::new(value, UNKNOWN_TIMESTAMP))),
            None => self.parent.get(key),
        }
    }
}
