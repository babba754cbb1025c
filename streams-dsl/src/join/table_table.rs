//! `KTable::join`, `left_join`, `outer_join`: table-table equi-joins,
//! compiled as Kafka Streams' `KTableImpl.doJoin` does.
//!
//! Each input table feeds a join processor that looks the key up in the
//! other table's store (`KTABLE-JOINTHIS-` for the left table,
//! `KTABLE-JOINOTHER-` for the right one), and both feed one
//! `KTABLE-MERGE-` node, the result table. Names are taken in Kafka's
//! order: the result store (for a `Materialized` without a name,
//! `KTABLE-MERGE-STATE-STORE-<index>`), the merge node, then the two join
//! processors. Kafka 4 uses these prefixes for all three join kinds.

use std::rc::Rc;
use std::sync::Arc;

use super::joiner::Joiner;
use super::table_table_join::{left_side, right_side, Side, TableTableJoin};
use crate::config::Materialized;
use crate::ktable::{Change, KTable};
use crate::processors::{OldValue, RowMapper, TableRows, TableValues};
use crate::row_lookup::RowLookup;
use crate::table_node::{NodeView, TableKind, TableNode};
use crate::table_source::materializer;
use crate::table_source::TableSerdes;

impl<K: Clone + 'static, V: Clone + 'static> KTable<K, V> {
    /// Joins this table with `other` on their keys: the result has a row
    /// for each key with a row in both, `joiner(left, right)`, stamped with
    /// the later of the two rows' timestamps. An update of either side
    /// updates the result; a deletion of either side deletes the result's
    /// row. Both tables are materialized if they are not already, and must
    /// be co-partitioned.
    ///
    /// The result is not materialized (give it a `Materialized` with
    /// [`join_with`](Self::join_with) to query it or join it again).
    ///
    /// ```
    /// use streams_core::prelude::*;
    /// use streams_core::serde::DefaultSerde;
    /// use streams_dsl::StreamsBuilder;
    ///
    /// let builder = StreamsBuilder::new();
    /// let names = builder.table::<String, String>("names");
    /// let emails = builder.table::<String, String>("emails");
    /// names
    ///     .join(&emails, |name, email| format!("{name} <{email}>"))
    ///     .to_stream()
    ///     .to("contacts");
    /// let topology = builder.build()?;
    ///
    /// let driver = TopologyTestDriver::new(&topology)?;
    /// let names = driver.create_input_topic("names", StringSerde, StringSerde);
    /// let emails = driver.create_input_topic("emails", StringSerde, StringSerde);
    /// let out = driver.create_output_topic("contacts", StringSerde, OptionSerde::new(String::default_serde()));
    /// names.pipe_input_at("u1".into(), "Ada".into(), 1)?;
    /// emails.pipe_input_at("u1".into(), "ada@example.com".into(), 2)?;
    /// assert_eq!(
    ///     out.read_records_to_list()?,
    ///     vec![TestRecord::new("u1".into(), Some("Ada <ada@example.com>".into()), 2)]
    /// );
    /// # Ok::<(), StreamsError>(())
    /// ```
    pub fn join<VO, VR>(
        &self,
        other: &KTable<K, VO>,
        joiner: impl Fn(&V, &VO) -> VR + Send + Sync + 'static,
    ) -> KTable<K, VR>
    where
        VO: Clone + 'static,
        VR: Clone + 'static,
    {
        self.table_join(other, Joiner::inner(joiner), None)
    }

    /// [`join`](Self::join), with the result kept in the store
    /// `materialized` describes (named `KTABLE-MERGE-STATE-STORE-<index>`
    /// if it has no name).
    pub fn join_with<VO, VR>(
        &self,
        other: &KTable<K, VO>,
        joiner: impl Fn(&V, &VO) -> VR + Send + Sync + 'static,
        materialized: Materialized<K, VR>,
    ) -> KTable<K, VR>
    where
        VO: Clone + 'static,
        VR: Clone + 'static,
    {
        self.table_join(other, Joiner::inner(joiner), Some(materialized))
    }

    /// Like [`join`](Self::join), and a key with a row only in this table
    /// joins with `None`: the result has a row for each row of this table.
    /// Deleting the right row updates the result to `joiner(left, None)`.
    pub fn left_join<VO, VR>(
        &self,
        other: &KTable<K, VO>,
        joiner: impl Fn(&V, Option<&VO>) -> VR + Send + Sync + 'static,
    ) -> KTable<K, VR>
    where
        VO: Clone + 'static,
        VR: Clone + 'static,
    {
        self.table_join(other, Joiner::left(joiner), None)
    }

    /// [`left_join`](Self::left_join), with the result kept in the store
    /// `materialized` describes.
    pub fn left_join_with<VO, VR>(
        &self,
        other: &KTable<K, VO>,
        joiner: impl Fn(&V, Option<&VO>) -> VR + Send + Sync + 'static,
        materialized: Materialized<K, VR>,
    ) -> KTable<K, VR>
    where
        VO: Clone + 'static,
        VR: Clone + 'static,
    {
        self.table_join(other, Joiner::left(joiner), Some(materialized))
    }

    /// Like [`join`](Self::join), and a key with a row in only one of the
    /// tables joins with `None` for the other: the result has a row for
    /// each key with a row in either table.
    pub fn outer_join<VO, VR>(
        &self,
        other: &KTable<K, VO>,
        joiner: impl Fn(Option<&V>, Option<&VO>) -> VR + Send + Sync + 'static,
    ) -> KTable<K, VR>
    where
        VO: Clone + 'static,
        VR: Clone + 'static,
    {
        self.table_join(other, Joiner::outer(joiner), None)
    }

    /// [`outer_join`](Self::outer_join), with the result kept in the store
    /// `materialized` describes.
    pub fn outer_join_with<VO, VR>(
        &self,
        other: &KTable<K, VO>,
        joiner: impl Fn(Option<&V>, Option<&VO>) -> VR + Send + Sync + 'static,
        materialized: Materialized<K, VR>,
    ) -> KTable<K, VR>
    where
        VO: Clone + 'static,
        VR: Clone + 'static,
    {
        self.table_join(other, Joiner::outer(joiner), Some(materialized))
    }

    /// Adds the two join processors and the merge node, in Kafka's naming
    /// order.
    fn table_join<VO, VR>(
        &self,
        other: &KTable<K, VO>,
        joiner: Joiner<V, VO, VR>,
        materialized: Option<Materialized<K, VR>>,
    ) -> KTable<K, VR>
    where
        VO: Clone + 'static,
        VR: Clone + 'static,
    {
        // Kafka fills in this table's key serde where none was given.
        let materialized = materialized.map(|m| m.inheriting(self.key_serde(), None));
        let builder = &self.builder;
        let store = materialized.as_ref().map(|m| match &m.name {
            Some(name) => name.clone(),
            None => builder.new_store_name("KTABLE-MERGE-"),
        });
        let merge = builder.new_name("KTABLE-MERGE-");
        builder.copartitioning(|copartitioning| copartitioning.require(&[&self.node, &other.node]));
        // A side that keeps unmatched rows must tell a deletion of an
        // existing row (which deletes the result's row) from one of a row
        // that never existed (which must not emit): its input sends old
        // values.
        if joiner.left_only.is_some() {
            self.table.enable_sending_old_values(true);
        }
        if joiner.right_only.is_some() {
            other.table.enable_sending_old_values(true);
        }
        // Kafka takes both inputs' value getters (materializing source
        // tables) before naming the join processors.
        let this_rows = self.row_lookup();
        let other_rows = other.row_lookup();
        let join_this = builder.new_name("KTABLE-JOINTHIS-");
        let join_other = builder.new_name("KTABLE-JOINOTHER-");

        // Unmaterialized, the result keeps this table's key serde (Kafka's
        // too).
        let serdes = match &materialized {
            Some(m) => TableSerdes::new(m.key_serde().clone(), m.value_serde().clone()),
            None => self.serdes.key_only(),
        };
        let materialize = materialized.map(|m| {
            materializer(
                builder,
                &merge,
                m.key_serde().clone(),
                m.value_serde().clone(),
                m,
            )
        });
        let table = TableNode::new(
            TableKind::Joined {
                left: self.table.clone(),
                right: other.table.clone(),
            },
            None,
            materialize,
        );
        let view = table.processor_view();
        self.add_join_side(
            &join_this,
            left_side(joiner.clone()),
            other_rows.clone(),
            &view,
        );
        other.add_join_side(
            &join_other,
            right_side(joiner.clone()),
            this_rows.clone(),
            &view,
        );
        // The merge node (Kafka's `KTableKTableJoinMerger`) only stores (if
        // materialized) and forwards what either side computed, old values
        // included (or dropped unless asked for), never its store's.
        let identity: RowMapper<K, VR, VR> = Arc::new(|_: &K, value: VR| Some(value));
        builder.with(|topology| {
            topology.add_processor::<K, Change<VR>, K, Change<VR>, _>(
                &merge,
                move || TableValues {
                    mapper: identity.clone(),
                    skip_absent: false,
                    old_value: OldValue::Mapped,
                    view: view.clone(),
                    rows: TableRows::default(),
                },
                &[&join_this, &join_other],
            );
        });
        if let Some(store) = &store {
            table.materialize_as(store);
        }
        // Unmaterialized, the result's rows are joined anew on each lookup
        // (Kafka's `KTableKTableJoinMerger` view).
        KTable::from_node(builder.clone(), merge, store, table, serdes).with_view(Rc::new(
            move || RowLookup::joined(this_rows.clone(), other_rows.clone(), joiner.clone()),
        ))
    }

    /// Adds the join processor `name` for this table's updates, reading
    /// the other table's rows through `other_rows`.
    fn add_join_side<VO, VR>(
        &self,
        name: &str,
        side: Side<V, VO, VR>,
        other_rows: RowLookup<K, VO>,
        view: &NodeView,
    ) where
        VO: 'static,
        VR: Clone + 'static,
    {
        let view = view.clone();
        let rows = other_rows.clone();
        self.builder.with(|topology| {
            topology
                .add_processor::<K, Change<V>, K, Change<VR>, _>(
                    name,
                    move || TableTableJoin {
                        side: side.clone(),
                        other_rows: rows.clone(),
                        view: view.clone(),
                        other: None,
                        send_old_values: false,
                    },
                    &[&self.node],
                )
                .connect_processor_and_stores(name, &other_rows.stores());
        });
    }
}
