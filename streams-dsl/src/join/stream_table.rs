//! `KStream::join_table`, `left_join_table`, `join_global`,
//! `left_join_global`: enriching a stream with table rows, compiled as
//! Kafka Streams' `KStreamImpl` does (`KSTREAM-JOIN-` / `KSTREAM-LEFTJOIN-`).

use std::sync::Arc;

use streams_core::serde::{DefaultSerde, SharedSerde};

use super::joined::Joined;
use super::joiner::Joiner;
use super::stream_table_join::{KeyMapper, StreamTableJoin};
use crate::config::Grouped;
use crate::kstream::KStream;
use crate::ktable::KTable;
use crate::row_lookup::RowLookup;
use crate::table_source::GlobalKTable;

impl<K: Clone + 'static, V: Clone + 'static> KStream<K, V> {
    /// Joins each record with the row of its key in `table`, if there is
    /// one; the result has the stream record's timestamp. Only stream
    /// records trigger the join: table updates (and deletions) only change
    /// the rows later records see. A key-changed stream is repartitioned
    /// first. A source table is materialized if it is not already; a filtered
    /// or mapped table, a table-table join result or a suppressed table
    /// without a store of its own is read through the tables it comes from.
    ///
    /// ```
    /// use streams_core::prelude::*;
    /// use streams_dsl::StreamsBuilder;
    ///
    /// let builder = StreamsBuilder::new();
    /// let users = builder.table::<String, String>("users");
    /// builder
    ///     .stream::<String, String>("clicks")
    ///     .join_table(&users, |click, user| format!("{user} clicked {click}"))
    ///     .to("named-clicks");
    /// let topology = builder.build()?;
    ///
    /// let driver = TopologyTestDriver::new(&topology)?;
    /// let users = driver.create_input_topic("users", StringSerde, StringSerde);
    /// let clicks = driver.create_input_topic("clicks", StringSerde, StringSerde);
    /// let out = driver.create_output_topic("named-clicks", StringSerde, StringSerde);
    /// clicks.pipe_input_at("u1".into(), "home".into(), 1)?;
    /// users.pipe_input_at("u1".into(), "Ada".into(), 2)?;
    /// clicks.pipe_input_at("u1".into(), "docs".into(), 3)?;
    /// assert_eq!(
    ///     out.read_records_to_list()?,
    ///     vec![TestRecord::new("u1".into(), "Ada clicked docs".into(), 3)]
    /// );
    /// # Ok::<(), StreamsError>(())
    /// ```
    pub fn join_table<VT, VR>(
        &self,
        table: &KTable<K, VT>,
        joiner: impl Fn(&V, &VT) -> VR + Send + Sync + 'static,
    ) -> KStream<K, VR>
    where
        K: DefaultSerde,
        V: DefaultSerde,
        VT: Clone + 'static,
        VR: Clone + 'static,
    {
        self.join_table_with(
            table,
            joiner,
            Joined::with(self.key_serde_or_default(), self.value_serde_or_default()),
        )
    }

    /// [`join_table`](Self::join_table) with the serdes and name of
    /// `joined`.
    pub fn join_table_with<VT, VR>(
        &self,
        table: &KTable<K, VT>,
        joiner: impl Fn(&V, &VT) -> VR + Send + Sync + 'static,
        joined: Joined<K, V>,
    ) -> KStream<K, VR>
    where
        VT: Clone + 'static,
        VR: Clone + 'static,
    {
        self.stream_table_join(table, Joiner::inner(joiner), joined, "KSTREAM-JOIN-")
    }

    /// Like [`join_table`](Self::join_table), and a record whose key has
    /// no row joins with `None`.
    pub fn left_join_table<VT, VR>(
        &self,
        table: &KTable<K, VT>,
        joiner: impl Fn(&V, Option<&VT>) -> VR + Send + Sync + 'static,
    ) -> KStream<K, VR>
    where
        K: DefaultSerde,
        V: DefaultSerde,
        VT: Clone + 'static,
        VR: Clone + 'static,
    {
        self.left_join_table_with(
            table,
            joiner,
            Joined::with(self.key_serde_or_default(), self.value_serde_or_default()),
        )
    }

    /// [`left_join_table`](Self::left_join_table) with the serdes and name
    /// of `joined`.
    pub fn left_join_table_with<VT, VR>(
        &self,
        table: &KTable<K, VT>,
        joiner: impl Fn(&V, Option<&VT>) -> VR + Send + Sync + 'static,
        joined: Joined<K, V>,
    ) -> KStream<K, VR>
    where
        VT: Clone + 'static,
        VR: Clone + 'static,
    {
        self.stream_table_join(table, Joiner::left(joiner), joined, "KSTREAM-LEFTJOIN-")
    }

    /// Joins each record with the row of `global` under the key
    /// `key_mapper` computes from it; no repartitioning and no
    /// co-partitioning are needed, since every instance has all rows.
    pub fn join_global<KG, VG, VR>(
        &self,
        global: &GlobalKTable<KG, VG>,
        key_mapper: impl Fn(&K, &V) -> KG + Send + Sync + 'static,
        joiner: impl Fn(&V, &VG) -> VR + Send + Sync + 'static,
    ) -> KStream<K, VR>
    where
        KG: 'static,
        VG: 'static,
        VR: Clone + 'static,
    {
        // Kafka names inner global joins as left ones too
        // (`KStreamImpl.globalTableJoin`).
        let name = self.builder.new_name("KSTREAM-LEFTJOIN-");
        self.add_table_lookup(
            &name,
            RowLookup::store(global.store_name().to_owned()),
            Arc::new(key_mapper),
            Joiner::inner(joiner),
            self.global_join_nulls(global),
            self.repartition_required,
        )
    }

    /// Like [`join_global`](Self::join_global), and a record without a row
    /// joins with `None`, as does one whose mapped key is null (an inner
    /// join drops it).
    pub fn left_join_global<KG, VG, VR>(
        &self,
        global: &GlobalKTable<KG, VG>,
        key_mapper: impl Fn(&K, &V) -> KG + Send + Sync + 'static,
        joiner: impl Fn(&V, Option<&VG>) -> VR + Send + Sync + 'static,
    ) -> KStream<K, VR>
    where
        KG: 'static,
        VG: 'static,
        VR: Clone + 'static,
    {
        let name = self.builder.new_name("KSTREAM-LEFTJOIN-");
        self.add_table_lookup(
            &name,
            RowLookup::store(global.store_name().to_owned()),
            Arc::new(key_mapper),
            Joiner::left(joiner),
            self.global_join_nulls(global),
            self.repartition_required,
        )
    }

    /// How a join with `global` tells null values and row keys: by the
    /// serde the stream was read with, if it kept it, and by the global
    /// table's key serde.
    fn global_join_nulls<KG, VG>(
        &self,
        global: &GlobalKTable<KG, VG>,
    ) -> (Option<SharedSerde<V>>, Option<SharedSerde<KG>>) {
        (self.value_serde.clone(), Some(global.key_serde.clone()))
    }

    /// Repartitions a key-changed stream (through `<name>-repartition`, or
    /// after this stream's node), requires co-partitioning with the table,
    /// and adds the lookup.
    fn stream_table_join<VT, VR>(
        &self,
        table: &KTable<K, VT>,
        joiner: Joiner<V, VT, VR>,
        joined: Joined<K, V>,
        prefix: &str,
    ) -> KStream<K, VR>
    where
        VT: Clone + 'static,
        VR: Clone + 'static,
    {
        let name = joined.name.as_deref();
        let null_values = Some(joined.value.clone());
        let row_key = Some(joined.key.clone());
        let stream =
            self.repartitioned_for_join(name, "", &Grouped::with(joined.key, joined.value));
        let builder = &self.builder;
        builder
            .copartitioning(|copartitioning| copartitioning.require(&[&stream.node, &table.node]));
        let generated = builder.new_name(prefix);
        let processor = name.map_or(generated, str::to_owned);
        let rows = table.row_lookup();
        let joined = stream.add_table_lookup(
            &processor,
            rows.clone(),
            Arc::new(|key: &K, _: &V| key.clone()),
            joiner,
            (null_values, row_key),
            false,
        );
        // A table's store must be connected to be read (global stores are
        // readable by every processor).
        builder.with(|topology| {
            topology.connect_processor_and_stores(&processor, &rows.stores());
        });
        joined
    }

    /// Adds the lookup processor `name`, reading `rows`; its output needs
    /// repartitioning before a grouping or join if `repartition_required`
    /// (a global-table join keeps its stream's keys, and so its need).
    fn add_table_lookup<KT, VT, VR>(
        &self,
        name: &str,
        rows: RowLookup<KT, VT>,
        key_mapper: KeyMapper<K, V, KT>,
        joiner: Joiner<V, VT, VR>,
        (null_values, row_key): (Option<SharedSerde<V>>, Option<SharedSerde<KT>>),
        repartition_required: bool,
    ) -> KStream<K, VR>
    where
        KT: 'static,
        VT: 'static,
        VR: Clone + 'static,
    {
        if joiner.keeps_left() {
            // Kafka's `NULL_KEY_RELAXED_JOIN`: null keys reach it.
            self.builder.joins_null_keys(name);
        }
        self.builder.with(|topology| {
            topology.add_processor::<K, V, K, VR, _>(
                name,
                move || StreamTableJoin {
                    rows: rows.clone(),
                    key_mapper: key_mapper.clone(),
                    joiner: joiner.clone(),
                    null_values: null_values.clone(),
                    row_key: row_key.clone(),
                    table: None,
                },
                &[&self.node],
            );
        });
        KStream::new(self.builder.clone(), name.to_owned(), repartition_required)
    }
}
