//! `KTable::join_foreign_key` and `left_join_foreign_key`: table-table
//! joins on a foreign key extracted from the left value, compiled as
//! Kafka Streams' `KTableImpl.doJoinOnForeignKey` does.
//!
//! The left table sends each update as subscriptions keyed by foreign key
//! through the internal topic
//! `<application.id>-KTABLE-FK-JOIN-SUBSCRIPTION-REGISTRATION-<index>-topic`.
//! Where the right table lives, the subscriptions are kept in the store
//! `KTABLE-FK-JOIN-SUBSCRIPTION-STATE-STORE-<index>` (keyed by foreign
//! key, then left key) and answered with the right row through
//! `<application.id>-KTABLE-FK-JOIN-SUBSCRIPTION-RESPONSE-<index>-topic`;
//! a right-row update answers every subscriber. Back on the left, answers
//! to a left value the row no longer has are recognised by the value's
//! hash and dropped; the others become the result table
//! `KTABLE-FK-JOIN-OUTPUT-<index>`. Names are taken in Kafka's order, a
//! [`TableJoined`] name replacing each generated one with
//! `<name>-<suffix>` (the index still consumed).

mod combined_key;
mod left;
mod murmur3;
mod response;
mod right;
mod subscription;
mod table_joined;
mod wire;

use std::sync::Arc;

use streams_core::serde::{
    BytesSerde, DefaultSerde, Deserializer, OptionSerde, SerdeError, Serializer, SharedSerde,
};
use streams_core::state::Stores;
use streams_core::topology::{SinkOptions, SourceOptions};

use self::combined_key::CombinedKeys;
use self::left::{Extractor, ResponseJoin, SubscriptionSend, ValueHasher};
use self::response::{Response, ResponseSerde};
use self::right::{ForeignTableJoin, SubscriptionJoin, SubscriptionReceive};
use self::subscription::{Subscription, SubscriptionSerde};
pub use self::table_joined::{KeyPartitioner, TableJoined};
use self::table_joined::{ResponsePartitioner, SubscriptionPartitioner};
use super::joiner::Joiner;
use crate::config::Materialized;
use crate::ktable::{Change, KTable};
use crate::processors::TableSource;
use crate::row_lookup::RowLookup;
use crate::table_node::{TableKind, TableNode};
use crate::table_source::{materializer, TableSerdes};

const SUBSCRIPTION_REGISTRATION: &str = "KTABLE-FK-JOIN-SUBSCRIPTION-REGISTRATION-";
const SUBSCRIPTION_RESPONSE: &str = "KTABLE-FK-JOIN-SUBSCRIPTION-RESPONSE-";
const SUBSCRIPTION_PROCESSOR: &str = "KTABLE-FK-JOIN-SUBSCRIPTION-PROCESSOR-";
const SUBSCRIPTION_STATE_STORE: &str = "KTABLE-FK-JOIN-SUBSCRIPTION-STATE-STORE-";
const RESPONSE_RESOLVER: &str = "KTABLE-FK-JOIN-SUBSCRIPTION-RESPONSE-RESOLVER-PROCESSOR-";
const OUTPUT: &str = "KTABLE-FK-JOIN-OUTPUT-";
const SINK: &str = "KTABLE-SINK-";
const SOURCE: &str = "KTABLE-SOURCE-";

/// Finds a left row's foreign key, as the foreign-key joins take it: a
/// function of the row's value, `Fn(&V) -> F`, or of its key and value,
/// `Fn(&K, &V) -> F` (Kafka's `ForeignKeyExtractor.fromFunction` and
/// `fromBiFunction`), where `F` is the foreign key, or an `Option` of it
/// for rows that may have none.
///
/// `Args` tells the two kinds of function apart. It is inferred from the
/// function, whose parameter types are written out:
///
/// ```
/// use streams_dsl::StreamsBuilder;
///
/// let builder = StreamsBuilder::new();
/// // order id "<customer id>/<n>" -> item; customer id -> name
/// let orders = builder.table::<String, String>("orders");
/// let customers = builder.table::<String, String>("customers");
/// orders
///     .join_foreign_key(
///         &customers,
///         |order_id: &String, _item: &String| order_id.split('/').next().map(str::to_owned),
///         |item, name| format!("{item} for {name}"),
///     )
///     .to_stream()
///     .to("items-with-names");
/// ```
pub trait ForeignKeyExtractor<K, V, KO, Args>: Send + Sync + 'static {
    /// The foreign key of the row `key` with `value`, if it has one.
    fn extract(&self, key: &K, value: &V) -> Option<KO>;
}

impl<K, V, KO, F, R> ForeignKeyExtractor<K, V, KO, fn(&V) -> R> for F
where
    F: Fn(&V) -> R + Send + Sync + 'static,
    R: Into<Option<KO>>,
{
    fn extract(&self, _key: &K, value: &V) -> Option<KO> {
        self(value).into()
    }
}

impl<K, V, KO, F, R> ForeignKeyExtractor<K, V, KO, fn(&K, &V) -> R> for F
where
    F: Fn(&K, &V) -> R + Send + Sync + 'static,
    R: Into<Option<KO>>,
{
    fn extract(&self, key: &K, value: &V) -> Option<KO> {
        self(key, value).into()
    }
}

/// The foreign-key extractor as the processors hold it.
fn extractor<K, V, KO, Args>(
    extract: impl ForeignKeyExtractor<K, V, KO, Args>,
) -> Extractor<K, V, KO> {
    Arc::new(move |key, value| extract.extract(key, value))
}

/// Stands in for the serdes of a table that has none (one derived without
/// a `Materialized`). The join does not read such a table's rows either
/// (see [`serializable_rows`]), so it fails to build before anything is
/// serialized.
struct UnknownSerde;

fn unknown(topic: &str) -> SerdeError {
    crate::byte_layout::malformed(topic, "no serde known for a foreign-key join input")
}

/// How the join reads `table`'s rows. It serializes keys and values of
/// both tables (subscriptions, responses, value hashes), so a table
/// without serdes is read as one that cannot be materialized, and building
/// fails naming it.
fn serializable_rows<K: Clone + 'static, V: Clone + 'static>(
    table: &KTable<K, V>,
) -> RowLookup<K, V> {
    match table.serdes.both() {
        Some(_) => table.row_lookup(),
        None => RowLookup::unreadable(&table.node),
    }
}

impl<T> Serializer<T> for UnknownSerde {
    fn serialize(&self, topic: &str, _: &T) -> Result<Option<Vec<u8>>, SerdeError> {
        Err(unknown(topic))
    }
}

impl<T> Deserializer<T> for UnknownSerde {
    fn deserialize(&self, topic: &str, _: Option<&[u8]>) -> Result<T, SerdeError> {
        Err(unknown(topic))
    }
}

impl<K: Clone + 'static, V: Clone + 'static> KTable<K, V> {
    /// Joins each row of this table with the row of `other` whose key
    /// `extractor` finds in the row's value, or in its key and value (see
    /// [`ForeignKeyExtractor`]): the result has a row
    /// for each row of this table whose foreign key has a row in `other`,
    /// `joiner(left, right)`, under the left row's key.
    ///
    /// Any update of either side updates the result: changing a row's
    /// foreign key moves its join to the new right row (a tombstone if
    /// there is none), deleting either row deletes the result's row, and a
    /// right row's update reaches every left row that refers to it. The
    /// tables need not be co-partitioned: the join goes through two
    /// internal topics. A result made from a right-side update has its
    /// timestamp; one made from a left-side update has the later of the
    /// two rows' timestamps.
    ///
    /// Both tables are materialized (if they are not already) and send old
    /// values. The result can be materialized later (it has the default
    /// serde of `VR`); [`join_foreign_key_with`](Self::join_foreign_key_with)
    /// names the join and materializes the result.
    ///
    /// ```
    /// use streams_core::prelude::*;
    /// use streams_core::serde::DefaultSerde;
    /// use streams_dsl::StreamsBuilder;
    ///
    /// let builder = StreamsBuilder::new();
    /// // order id -> "customer id|item"; customer id -> name
    /// let orders = builder.table::<String, String>("orders");
    /// let customers = builder.table::<String, String>("customers");
    /// orders
    ///     .join_foreign_key(
    ///         &customers,
    ///         |order: &String| order.split('|').next().map(str::to_owned),
    ///         |order, name| format!("{order} for {name}"),
    ///     )
    ///     .to_stream()
    ///     .to("orders-with-names");
    /// let topology = builder.build()?;
    ///
    /// let driver = TopologyTestDriver::new(&topology)?;
    /// let orders = driver.create_input_topic("orders", StringSerde, StringSerde);
    /// let customers = driver.create_input_topic("customers", StringSerde, StringSerde);
    /// let out = driver.create_output_topic("orders-with-names", StringSerde, OptionSerde::new(String::default_serde()));
    /// customers.pipe_input_at("c1".into(), "Ada".into(), 1)?;
    /// orders.pipe_input_at("o1".into(), "c1|tea".into(), 2)?;
    /// customers.pipe_input_at("c1".into(), "Ada L.".into(), 3)?;
    /// assert_eq!(
    ///     out.read_records_to_list()?,
    ///     vec![
    ///         TestRecord::new("o1".into(), Some("c1|tea for Ada".into()), 2),
    ///         TestRecord::new("o1".into(), Some("c1|tea for Ada L.".into()), 3),
    ///     ]
    /// );
    /// # Ok::<(), StreamsError>(())
    /// ```
    pub fn join_foreign_key<KO, VO, VR, Args>(
        &self,
        other: &KTable<KO, VO>,
        extractor: impl ForeignKeyExtractor<K, V, KO, Args>,
        joiner: impl Fn(&V, &VO) -> VR + Send + Sync + 'static,
    ) -> KTable<K, VR>
    where
        KO: Clone + 'static,
        VO: Clone + 'static,
        VR: DefaultSerde + Clone,
    {
        let materialized = self.default_result::<VR>();
        self.foreign_key_join(
            other,
            self::extractor(extractor),
            Joiner::inner(joiner),
            TableJoined::default(),
            materialized,
        )
    }

    /// [`join_foreign_key`](Self::join_foreign_key), named and partitioned
    /// as `table_joined` says, with the result's serdes from
    /// `materialized`; a named `materialized` keeps the result in that
    /// (queryable) store, an unnamed one leaves it unmaterialized (as
    /// Kafka does) until an operator needs it.
    pub fn join_foreign_key_with<KO, VO, VR, Args>(
        &self,
        other: &KTable<KO, VO>,
        extractor: impl ForeignKeyExtractor<K, V, KO, Args>,
        joiner: impl Fn(&V, &VO) -> VR + Send + Sync + 'static,
        table_joined: TableJoined<K, KO>,
        materialized: Materialized<K, VR>,
    ) -> KTable<K, VR>
    where
        KO: Clone + 'static,
        VO: Clone + 'static,
        VR: Clone + 'static,
    {
        self.foreign_key_join(
            other,
            self::extractor(extractor),
            Joiner::inner(joiner),
            table_joined,
            materialized,
        )
    }

    /// Like [`join_foreign_key`](Self::join_foreign_key), and a row
    /// without a right row (or without a foreign key) joins with `None`:
    /// the result has a row for each row of this table. Deleting the right
    /// row updates the result to `joiner(left, None)`.
    pub fn left_join_foreign_key<KO, VO, VR, Args>(
        &self,
        other: &KTable<KO, VO>,
        extractor: impl ForeignKeyExtractor<K, V, KO, Args>,
        joiner: impl Fn(&V, Option<&VO>) -> VR + Send + Sync + 'static,
    ) -> KTable<K, VR>
    where
        KO: Clone + 'static,
        VO: Clone + 'static,
        VR: DefaultSerde + Clone,
    {
        let materialized = self.default_result::<VR>();
        self.foreign_key_join(
            other,
            self::extractor(extractor),
            Joiner::left(joiner),
            TableJoined::default(),
            materialized,
        )
    }

    /// [`left_join_foreign_key`](Self::left_join_foreign_key), named,
    /// partitioned and materialized as
    /// [`join_foreign_key_with`](Self::join_foreign_key_with) is.
    pub fn left_join_foreign_key_with<KO, VO, VR, Args>(
        &self,
        other: &KTable<KO, VO>,
        extractor: impl ForeignKeyExtractor<K, V, KO, Args>,
        joiner: impl Fn(&V, Option<&VO>) -> VR + Send + Sync + 'static,
        table_joined: TableJoined<K, KO>,
        materialized: Materialized<K, VR>,
    ) -> KTable<K, VR>
    where
        KO: Clone + 'static,
        VO: Clone + 'static,
        VR: Clone + 'static,
    {
        self.foreign_key_join(
            other,
            self::extractor(extractor),
            Joiner::left(joiner),
            table_joined,
            materialized,
        )
    }

    /// The table's serdes, or stand-ins if it has none.
    fn known_serdes(&self) -> (SharedSerde<K>, SharedSerde<V>) {
        let key = self.serdes.key.clone();
        let value = self.serdes.value.clone();
        (
            key.unwrap_or_else(|| Arc::new(UnknownSerde)),
            value.unwrap_or_else(|| Arc::new(UnknownSerde)),
        )
    }

    /// The result's serdes when none are given: this table's key serde
    /// and the default serde of `VR`, as Kafka's defaults.
    fn default_result<VR: DefaultSerde>(&self) -> Materialized<K, VR> {
        Materialized::with(self.known_serdes().0, VR::default_serde())
    }

    /// Adds the nodes, stores and topics of the join, in Kafka's naming
    /// order.
    fn foreign_key_join<KO, VO, VR>(
        &self,
        other: &KTable<KO, VO>,
        extractor: Extractor<K, V, KO>,
        joiner: Joiner<V, VO, VR>,
        table_joined: TableJoined<K, KO>,
        materialized: Materialized<K, VR>,
    ) -> KTable<K, VR>
    where
        KO: Clone + 'static,
        VO: Clone + 'static,
        VR: Clone + 'static,
    {
        // Kafka fills in this table's key serde where none was given.
        let materialized = materialized.inheriting(self.key_serde(), None);
        let builder = &self.builder;
        // The right table's old values let Kafka skip unchanged rows; the
        // left table's tell which foreign key to unsubscribe from.
        other.table.enable_sending_old_values(true);
        self.table.enable_sending_old_values(true);
        let left_join = joiner.keeps_left();
        let (key, value) = self.known_serdes();
        let (foreign_key, foreign_value) = other.known_serdes();
        let name = |suffix: &str, prefix: &str| {
            let named = table_joined
                .name
                .as_ref()
                .map(|name| format!("{name}{suffix}"));
            builder.name_or(named.as_deref(), prefix)
        };
        let subscription_topic = format!(
            "{}-topic",
            name("-subscription-registration", SUBSCRIPTION_REGISTRATION)
        );
        let send = name(
            "-subscription-registration-processor",
            SUBSCRIPTION_REGISTRATION,
        );
        let subscription_sink = name("-subscription-registration-sink", SINK);
        let subscription_source = name("-subscription-registration-source", SOURCE);
        let subscription_store = name("-subscription-store", SUBSCRIPTION_STATE_STORE);
        let receive = name("-subscription-receive", SUBSCRIPTION_PROCESSOR);
        // Kafka takes each table's value getter (materializing a source) where
        // the processor reading it is named.
        let right_rows = serializable_rows(other);
        let subscription_join = name("-subscription-join-foreign", SUBSCRIPTION_PROCESSOR);
        let foreign_table_join = name("-foreign-join-subscription", SUBSCRIPTION_PROCESSOR);
        let response_topic = format!(
            "{}-topic",
            name("-subscription-response", SUBSCRIPTION_RESPONSE)
        );
        let response_sink = name("-subscription-response-sink", SINK);
        let response_source = name("-subscription-response-source", SOURCE);
        let left_rows = serializable_rows(self);
        let resolver = name("-subscription-response-resolver", RESPONSE_RESOLVER);
        let result = name("-result", OUTPUT);
        // Kafka names the result's store even if it is never materialized.
        let queryable = materialized.name.clone();
        let result_store = match &queryable {
            Some(store) => store.clone(),
            None => builder.new_store_name(OUTPUT),
        };

        let subscriptions: SharedSerde<Subscription<K>> =
            Arc::new(SubscriptionSerde::new(key.clone()));
        let responses: SharedSerde<Response<VO>> = Arc::new(ResponseSerde::new(foreign_value));
        let keys = CombinedKeys {
            foreign_key: foreign_key.clone(),
            primary_key: key.clone(),
        };
        let hasher = ValueHasher { serde: value };
        let mut subscription_sink_options =
            SinkOptions::new(OptionSerde::new(foreign_key.clone()), subscriptions.clone());
        if let Some(partitioner) = table_joined.other_partitioner.clone() {
            subscription_sink_options =
                subscription_sink_options.partitioner(SubscriptionPartitioner(partitioner));
        }
        let response_sink_options = SinkOptions::new(key.clone(), responses.clone())
            .partitioner(ResponsePartitioner(table_joined.partitioner.clone()));
        let subscription_store_builder = Stores::timestamped_key_value_store_builder_with(
            &subscription_store,
            Arc::new(BytesSerde),
            subscriptions.clone(),
        );
        let result_serdes = TableSerdes::new(
            materialized.key_serde().clone(),
            materialized.value_serde().clone(),
        );
        let table = TableNode::new(
            TableKind::Source {
                store_name: result_store.clone(),
            },
            None,
            Some(materializer(
                builder,
                &result,
                materialized.key_serde().clone(),
                materialized.value_serde().clone(),
                materialized,
            )),
        );
        let view = table.processor_view();

        let send_processor = {
            let (extractor, foreign_key, hasher, topic) = (
                extractor,
                foreign_key.clone(),
                hasher.clone(),
                subscription_topic.clone(),
            );
            move || SubscriptionSend {
                extractor: extractor.clone(),
                foreign_key: foreign_key.clone(),
                hasher: hasher.clone(),
                left_join,
                subscription_topic: topic.clone(),
                topics: None,
            }
        };
        let receive_processor = {
            let (keys, store, topic) = (
                keys.clone(),
                subscription_store.clone(),
                subscription_topic.clone(),
            );
            move || SubscriptionReceive {
                keys: keys.clone(),
                store_name: store.clone(),
                subscription_topic: topic.clone(),
                subscriptions: None,
            }
        };
        let join_processor = {
            let rows = right_rows.clone();
            move || SubscriptionJoin {
                right_rows: rows.clone(),
                right: None,
            }
        };
        let foreign_table_processor = {
            let (store, topic) = (subscription_store.clone(), subscription_topic.clone());
            move || ForeignTableJoin {
                keys: keys.clone(),
                store_name: store.clone(),
                subscription_topic: topic.clone(),
                subscriptions: None,
            }
        };
        let resolver_processor = {
            let (rows, topic) = (left_rows.clone(), subscription_topic.clone());
            move || ResponseJoin {
                joiner: joiner.clone(),
                hasher: hasher.clone(),
                left_rows: rows.clone(),
                subscription_topic: topic.clone(),
                left: None,
            }
        };
        builder.with(|topology| {
            topology
                .add_internal_topic(&subscription_topic)
                .add_processor::<K, Change<V>, Option<KO>, Subscription<K>, _>(
                    &send,
                    send_processor,
                    &[&self.node],
                )
                .add_sink(
                    &subscription_sink,
                    subscription_topic.as_str(),
                    subscription_sink_options,
                    &[&send],
                )
                .add_source(
                    &subscription_source,
                    &[&subscription_topic],
                    SourceOptions::new(OptionSerde::new(foreign_key), subscriptions),
                )
                .add_processor::<Option<KO>, Subscription<K>, Option<KO>, Subscription<K>, _>(
                    &receive,
                    receive_processor,
                    &[&subscription_source],
                )
                .add_state_store(subscription_store_builder, &[&receive])
                .add_processor::<Option<KO>, Subscription<K>, K, Response<VO>, _>(
                    &subscription_join,
                    join_processor,
                    &[&receive],
                )
                .connect_processor_and_stores(&subscription_join, &right_rows.stores())
                .add_processor::<KO, Change<VO>, K, Response<VO>, _>(
                    &foreign_table_join,
                    foreign_table_processor,
                    &[&other.node],
                )
                .connect_processor_and_stores(&foreign_table_join, &[&subscription_store])
                .add_internal_topic(&response_topic)
                .add_sink(
                    &response_sink,
                    response_topic.as_str(),
                    response_sink_options,
                    &[&subscription_join, &foreign_table_join],
                )
                .add_source(
                    &response_source,
                    &[&response_topic],
                    SourceOptions::new(key, responses),
                )
                .add_processor::<K, Response<VO>, K, Option<VR>, _>(
                    &resolver,
                    resolver_processor,
                    &[&response_source],
                )
                .connect_processor_and_stores(&resolver, &left_rows.stores())
                .add_processor::<K, Option<VR>, K, Change<VR>, _>(
                    &result,
                    move || TableSource::new(view.clone()),
                    &[&resolver],
                );
        });
        if queryable.is_some() {
            table.materialize_as(&result_store);
        }
        // Kafka's result table reports its store name as queryable even
        // when generated (its `KTableImpl` gets `storeName()`).
        KTable::from_node(
            builder.clone(),
            result,
            Some(result_store),
            table,
            result_serdes,
        )
    }
}
