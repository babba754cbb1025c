//! `KTable`: a changelog stream, each record an upsert of its key.

use std::marker::PhantomData;
use std::rc::Rc;
use std::sync::Arc;

use streams_core::serde::{OptionSerde, SharedSerde};

use crate::builder::Builder;
use crate::kstream::KStream;
use crate::processors::Map;
use crate::row_lookup::RowLookup;
use crate::table_node::{TableKind, TableNode};
use crate::table_source::TableSerdes;

/// An update of a table row as it travels between table operators: the
/// new value (`None` deletes the row) and, where known, the old one.
#[derive(Debug, Clone, PartialEq)]
pub struct Change<V> {
    /// The value after the update; `None` is a tombstone.
    pub new: Option<V>,
    /// The value before the update, if known.
    pub old: Option<V>,
}

/// A table: the latest value per key, updated by a changelog stream.
pub struct KTable<K, V> {
    pub(crate) builder: Builder,
    pub(crate) node: String,
    /// The name its store can be queried by: the one `Materialized` gave.
    pub(crate) queryable: Option<String>,
    /// Materialization and old-value decisions, shared with later operators.
    pub(crate) table: Rc<TableNode>,
    /// The serdes of keys and values, each where known.
    pub(crate) serdes: TableSerdes<K, V>,
    /// How a table computed from others (an unmaterialized filter,
    /// `map_values` or table-table join, a suppression) reads its rows
    /// through theirs; `None` for a table that is read from its own store.
    pub(crate) view: Option<View<K, V>>,
    /// How its own store, once it has one, is read: a key-value store
    /// unless the table is windowed.
    pub(crate) store_rows: fn(String) -> RowLookup<K, V>,
    pub(crate) _types: PhantomData<fn(K, V)>,
}

/// Makes the lookup of a table's rows through its parents' (materializing
/// a parent source table then, as a lookup needs its store).
pub(crate) type View<K, V> = Rc<dyn Fn() -> RowLookup<K, V>>;

impl<K, V> Clone for KTable<K, V> {
    fn clone(&self) -> Self {
        Self {
            builder: self.builder.clone(),
            node: self.node.clone(),
            queryable: self.queryable.clone(),
            table: self.table.clone(),
            serdes: self.serdes.clone(),
            view: self.view.clone(),
            store_rows: self.store_rows,
            _types: PhantomData,
        }
    }
}

impl<K, V> KTable<K, V> {
    /// The key serde, where known.
    pub(crate) fn key_serde(&self) -> Option<&SharedSerde<K>> {
        self.serdes.key.as_ref()
    }

    /// The value serde, where known.
    pub(crate) fn value_serde(&self) -> Option<&SharedSerde<V>> {
        self.serdes.value.as_ref()
    }
}

impl<K: Clone + 'static, V: Clone + 'static> KTable<K, V> {
    /// The table coming out of `node`, queryable as `queryable` if named.
    pub(crate) fn from_node(
        builder: Builder,
        node: String,
        queryable: Option<String>,
        table: Rc<TableNode>,
        serdes: TableSerdes<K, V>,
    ) -> Self {
        Self {
            builder,
            node,
            queryable,
            table,
            serdes,
            view: None,
            store_rows: RowLookup::store,
            _types: PhantomData,
        }
    }

    /// This table, its own store read with `store_rows` (a windowed
    /// aggregation's window or session store).
    pub(crate) fn with_store_rows(mut self, store_rows: fn(String) -> RowLookup<K, V>) -> Self {
        self.store_rows = store_rows;
        self
    }

    /// This table, reading its rows through `view` while it has no store.
    pub(crate) fn with_view(mut self, view: View<K, V>) -> Self {
        self.view = Some(view);
        self
    }

    /// How processors read this table's rows: from its store, or, for a
    /// table computed from others that has none, through theirs. A source
    /// table gets its store now, as Kafka's `valueGetterSupplier` does.
    /// Rows that cannot be read (see [`RowLookup::unreadable`]) fail the
    /// build of the topology that reads them.
    pub(crate) fn row_lookup(&self) -> RowLookup<K, V> {
        if let Some(store) = self.table.store_name() {
            return (self.store_rows)(store);
        }
        if let Some(view) = &self.view {
            return view();
        }
        let store = match &self.table.kind {
            TableKind::Source { store_name } => self.table.materialize_as(store_name),
            // An aggregation has a store from the start; a table computed
            // from others without a view is a suppression without serdes.
            TableKind::Stateful | TableKind::Derived { .. } | TableKind::Joined { .. } => None,
        };
        store.map_or_else(|| RowLookup::unreadable(&self.node), self.store_rows)
    }

    /// The name this table's store can be queried by: the store name
    /// `Materialized` gave it, `None` when it was not named (the table may
    /// still keep a store under a generated name), as Kafka Streams'
    /// `queryableStoreName`. A foreign-key join's result reports its store
    /// name even when generated, as Kafka's does.
    pub fn queryable_store_name(&self) -> Option<&str> {
        self.queryable.as_deref()
    }

    /// The table's changelog as a stream: each update becomes a record whose
    /// value is the new value, `None` for a deletion.
    pub fn to_stream(&self) -> KStream<K, Option<V>> {
        let name = self.builder.new_name("KTABLE-TOSTREAM-");
        let mapper = Arc::new(|key: K, change: Change<V>| (key, change.new));
        self.builder.with(|topology| {
            topology.add_processor(
                &name,
                move || Map {
                    mapper: mapper.clone(),
                },
                &[&self.node],
            );
        });
        // The table's serdes go on with the stream (a deletion is a null).
        let value = self.serdes.value.clone().map(|value| {
            let value: SharedSerde<Option<V>> = Arc::new(OptionSerde::new(value));
            value
        });
        KStream::new(self.builder.clone(), name, false).with_serdes(self.serdes.key.clone(), value)
    }
}
