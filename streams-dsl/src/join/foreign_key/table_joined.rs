//! `TableJoined`: the name and partitioners of a foreign-key join, as
//! Kafka Streams' `TableJoined`, and the partitioners of its two internal
//! topics.

use std::sync::Arc;

use streams_core::topology::StreamPartitioner;

use super::response::Response;
use super::subscription::Subscription;
use crate::named::{validate, NamedError};

/// Chooses the partition of a key: `(topic, key, partitions)` to a
/// partition, or `None` for the default partitioning by key hash.
pub type KeyPartitioner<K> = Arc<dyn Fn(&str, &K, i32) -> Option<i32> + Send + Sync>;

/// The longest suffix a join's name gets (`<name>-subscription-registration-processor`).
const LONGEST_SUFFIX: &str = "-subscription-registration-processor";

/// How a foreign-key join names its nodes and partitions its internal
/// topics (Kafka's `TableJoined`).
///
/// A name `n` names the processors, stores and topics of the join
/// `n-subscription-registration-topic`, `n-subscription-store`,
/// `n-subscription-response-resolver`, `n-result` and so on; without one
/// they are generated (`KTABLE-FK-JOIN-...-<index>`).
///
/// The partitioners say how the tables' topics are partitioned when that
/// is not the default partitioning by key hash: `partitioner` for the left
/// table's keys, `other_partitioner` for the right table's (and so the
/// foreign keys'), so that subscriptions and responses reach the
/// partitions holding the rows they are about.
pub struct TableJoined<K, KO> {
    pub(crate) name: Option<String>,
    pub(crate) partitioner: Option<KeyPartitioner<K>>,
    pub(crate) other_partitioner: Option<KeyPartitioner<KO>>,
}

impl<K, KO> Default for TableJoined<K, KO> {
    fn default() -> Self {
        Self {
            name: None,
            partitioner: None,
            other_partitioner: None,
        }
    }
}

impl<K, KO> TableJoined<K, KO> {
    /// Generated names and default partitioning.
    pub fn new() -> Self {
        Self::default()
    }

    /// A join named `name`, if the names it makes are legal processor
    /// names.
    ///
    /// ```
    /// use streams_dsl::{NamedError, TableJoined};
    ///
    /// assert!(TableJoined::<String, String>::as_("orders-by-customer").is_ok());
    /// assert!(matches!(
    ///     TableJoined::<String, String>::as_("a b"),
    ///     Err(NamedError::IllegalCharacter(_))
    /// ));
    /// ```
    pub fn as_(name: &str) -> Result<Self, NamedError> {
        Self::default().with_name(name)
    }

    /// Names the join `name` (see [`as_`](Self::as_)).
    pub fn with_name(mut self, name: &str) -> Result<Self, NamedError> {
        validate(name)?;
        validate(&format!("{name}{LONGEST_SUFFIX}"))?;
        self.name = Some(name.to_owned());
        Ok(self)
    }

    /// The left table's topic is partitioned by `partitioner`.
    pub fn with_partitioner(
        mut self,
        partitioner: impl Fn(&str, &K, i32) -> Option<i32> + Send + Sync + 'static,
    ) -> Self {
        self.partitioner = Some(Arc::new(partitioner));
        self
    }

    /// The right table's topic is partitioned by `partitioner`.
    pub fn with_other_partitioner(
        mut self,
        partitioner: impl Fn(&str, &KO, i32) -> Option<i32> + Send + Sync + 'static,
    ) -> Self {
        self.other_partitioner = Some(Arc::new(partitioner));
        self
    }
}

/// Sends subscriptions to the partition of their foreign key, as the
/// right table's partitioner places it (subscriptions without foreign
/// key go where the default partitioning puts them).
pub(crate) struct SubscriptionPartitioner<KO>(pub(crate) KeyPartitioner<KO>);

impl<KO, K> StreamPartitioner<Option<KO>, Subscription<K>> for SubscriptionPartitioner<KO> {
    fn partition(
        &self,
        topic: &str,
        key: &Option<KO>,
        _: &Subscription<K>,
        partitions: i32,
    ) -> Option<i32> {
        key.as_ref()
            .and_then(|key| (self.0)(topic, key, partitions))
    }
}

/// Sends responses back to the left row's partition: the one the left
/// table's partitioner gives the key if there is one, else the partition
/// the subscription came from.
pub(crate) struct ResponsePartitioner<K>(pub(crate) Option<KeyPartitioner<K>>);

impl<K, VO> StreamPartitioner<K, Response<VO>> for ResponsePartitioner<K> {
    fn partition(
        &self,
        topic: &str,
        key: &K,
        response: &Response<VO>,
        partitions: i32,
    ) -> Option<i32> {
        match &self.0 {
            Some(partitioner) => partitioner(topic, key, partitions),
            None => response.primary_partition,
        }
    }
}
