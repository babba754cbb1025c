//! Table operators: `filter`, `filter_not`, `map_values`, and the
//! crate-internal access to a table's rows for joins.
//!
//! A filtered or mapped table is computed from its parent's changes and is
//! materialized only if given a named `Materialized` (Kafka burns a store
//! index for an unnamed one, and so do we). A filter asks its parent for
//! old values when the parent can give them without new state (Kafka's
//! `KTableFilter` constructor), and then skips changes that are absent
//! both before and after; otherwise a failing row is forwarded as a
//! tombstone. A join reads an unmaterialized one's rows through its
//! parent's, filtered or mapped on each lookup.

use std::rc::Rc;
use std::sync::Arc;

use crate::config::Materialized;
use crate::ktable::KTable;
use crate::processors::{OldValue, RowMapper, TableRows, TableValues};
use crate::row_lookup::RowLookup;
use crate::table_node::{TableKind, TableNode};
use crate::table_source::{materializer, TableSerdes};

impl<K: Clone + 'static, V: Clone + 'static> KTable<K, V> {
    /// Adds a table node computing rows from this table's with `mapper`;
    /// `filter` marks a filter (eager old values, skipping absent rows).
    fn derive<V2: Clone + 'static>(
        &self,
        prefix: &str,
        mapper: RowMapper<K, V, V2>,
        filter: bool,
        materialized: Option<Materialized<K, V2>>,
        serdes: TableSerdes<K, V2>,
    ) -> KTable<K, V2> {
        let named = materialized.as_ref().and_then(|m| m.name.clone());
        if materialized.is_some() && named.is_none() {
            // Kafka burns a store index for an unnamed `Materialized`.
            self.builder.new_store_name(prefix);
        }
        let name = self.builder.new_name(prefix);
        let serdes = match &materialized {
            Some(m) => TableSerdes::new(m.key_serde().clone(), m.value_serde().clone()),
            None => serdes,
        };
        // Only a named one keeps a store; joins read the others through
        // their parent (see `with_view` below).
        let materialize = materialized.filter(|m| m.name.is_some()).map(|m| {
            materializer(
                &self.builder,
                &name,
                m.key_serde().clone(),
                m.value_serde().clone(),
                m,
            )
        });
        let table = TableNode::new(
            TableKind::Derived {
                parent: self.table.clone(),
            },
            None,
            materialize,
        );
        if filter && self.table.enable_sending_old_values(false) {
            table.enable_sending_old_values(false);
        }
        let view = table.processor_view();
        let rows = mapper.clone();
        self.builder.with(|topology| {
            topology.add_processor(
                &name,
                move || TableValues {
                    mapper: mapper.clone(),
                    skip_absent: filter,
                    old_value: OldValue::Stored,
                    view: view.clone(),
                    rows: TableRows::default(),
                },
                &[&self.node],
            );
        });
        if let Some(store) = &named {
            table.materialize_as(store);
        }
        let parent = self.clone();
        KTable::from_node(self.builder.clone(), name, named, table, serdes).with_view(Rc::new(
            move || RowLookup::mapped(parent.row_lookup(), rows.clone()),
        ))
    }

    fn filtered(
        &self,
        predicate: impl Fn(&K, &V) -> bool + Send + Sync + 'static,
        keep_when: bool,
        materialized: Option<Materialized<K, V>>,
    ) -> Self {
        let mapper: RowMapper<K, V, V> = Arc::new(move |key: &K, value: V| {
            (predicate(key, &value) == keep_when).then_some(value)
        });
        // Kafka fills in the table's serdes where none were given.
        let materialized = materialized.map(|m| m.inheriting(self.key_serde(), self.value_serde()));
        self.derive(
            "KTABLE-FILTER-",
            mapper,
            true,
            materialized,
            self.serdes.clone(),
        )
    }

    /// Keeps the rows for which `predicate` holds; an update that fails it
    /// deletes the row downstream.
    pub fn filter(&self, predicate: impl Fn(&K, &V) -> bool + Send + Sync + 'static) -> Self {
        self.filtered(predicate, true, None)
    }

    /// [`filter`](Self::filter), kept in the store `materialized` names.
    pub fn filter_with(
        &self,
        predicate: impl Fn(&K, &V) -> bool + Send + Sync + 'static,
        materialized: Materialized<K, V>,
    ) -> Self {
        self.filtered(predicate, true, Some(materialized))
    }

    /// Drops the rows for which `predicate` holds.
    pub fn filter_not(&self, predicate: impl Fn(&K, &V) -> bool + Send + Sync + 'static) -> Self {
        self.filtered(predicate, false, None)
    }

    /// [`filter_not`](Self::filter_not), kept in the store `materialized`
    /// names.
    pub fn filter_not_with(
        &self,
        predicate: impl Fn(&K, &V) -> bool + Send + Sync + 'static,
        materialized: Materialized<K, V>,
    ) -> Self {
        self.filtered(predicate, false, Some(materialized))
    }

    /// Replaces each row's value; deletions stay deletions.
    pub fn map_values<V2: Clone + 'static>(
        &self,
        mapper: impl Fn(V) -> V2 + Send + Sync + 'static,
    ) -> KTable<K, V2> {
        self.map_values_inner(move |_, value| mapper(value), None)
    }

    /// Replaces each row's value, reading the key.
    pub fn map_values_with_key<V2: Clone + 'static>(
        &self,
        mapper: impl Fn(&K, V) -> V2 + Send + Sync + 'static,
    ) -> KTable<K, V2> {
        self.map_values_inner(mapper, None)
    }

    /// [`map_values`](Self::map_values), kept in the store `materialized`
    /// names (and with its serdes).
    pub fn map_values_with<V2: Clone + 'static>(
        &self,
        mapper: impl Fn(V) -> V2 + Send + Sync + 'static,
        materialized: Materialized<K, V2>,
    ) -> KTable<K, V2> {
        self.map_values_inner(move |_, value| mapper(value), Some(materialized))
    }

    fn map_values_inner<V2: Clone + 'static>(
        &self,
        mapper: impl Fn(&K, V) -> V2 + Send + Sync + 'static,
        materialized: Option<Materialized<K, V2>>,
    ) -> KTable<K, V2> {
        let mapper: RowMapper<K, V, V2> =
            Arc::new(move |key: &K, value: V| Some(mapper(key, value)));
        // Kafka fills in the table's key serde where none was given.
        let materialized = materialized.map(|m| m.inheriting(self.key_serde(), None));
        // Unmaterialized, the result keeps the key serde (Kafka's too).
        let serdes = self.serdes.key_only();
        self.derive("KTABLE-MAPVALUES-", mapper, false, materialized, serdes)
    }
}
