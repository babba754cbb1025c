//! The processors on the right table's side of a foreign-key join: the
//! one that keeps the subscriptions (Kafka's
//! `SubscriptionReceiveProcessorSupplier`), the one that answers each
//! subscription with the right row (`SubscriptionJoinProcessorSupplier`)
//! and the one that answers every subscriber of a right row when the row
//! changes (`ForeignTableJoinProcessorSupplier`).

use streams_core::prelude::*;
use streams_core::state::{TimestampedKeyValueStore, ValueAndTimestamp};

use super::combined_key::{serde_error, CombinedKeys, PseudoTopics};
use super::response::Response;
use super::subscription::{Instruction, Subscription};
use crate::ktable::Change;
use crate::row_lookup::{RowGetter, RowLookup};

/// The subscription store: subscriptions by foreign key, then primary
/// key (see [`CombinedKeys`]).
pub(crate) type SubscriptionStore<K> = TimestampedKeyValueStore<Vec<u8>, Subscription<K>>;

/// What a subscription-store processor opens at start.
pub(crate) struct OpenSubscriptions<K> {
    store: SubscriptionStore<K>,
    topics: PseudoTopics,
}

/// Opens the subscription store `store_name` of the join whose
/// subscription topic is `subscription_topic`.
fn open<K: 'static, KOut, VOut>(
    ctx: &ProcessorContext<'_, KOut, VOut>,
    store_name: &str,
    subscription_topic: &str,
) -> Result<OpenSubscriptions<K>, StreamsError> {
    Ok(OpenSubscriptions {
        store: ctx.state_store(store_name)?,
        topics: PseudoTopics::new(ctx.application_id(), subscription_topic),
    })
}

/// Keeps the subscription store up to date and passes each subscription
/// on: unsubscribing instructions delete the left row's subscription to
/// the foreign key, the others store it with its timestamp. A
/// subscription without foreign key (a left join's row without one) is
/// passed on unstored if it asks for an answer, and dropped otherwise.
pub(crate) struct SubscriptionReceive<KO, K> {
    pub(crate) keys: CombinedKeys<KO, K>,
    pub(crate) store_name: String,
    pub(crate) subscription_topic: String,
    pub(crate) subscriptions: Option<OpenSubscriptions<K>>,
}

impl<KO, K> Processor<Option<KO>, Subscription<K>, Option<KO>, Subscription<K>>
    for SubscriptionReceive<KO, K>
where
    KO: Clone + 'static,
    K: Clone + 'static,
{
    fn init(
        &mut self,
        ctx: &mut ProcessorContext<'_, Option<KO>, Subscription<K>>,
    ) -> Result<(), StreamsError> {
        self.subscriptions = Some(open(ctx, &self.store_name, &self.subscription_topic)?);
        Ok(())
    }

    fn process(
        &mut self,
        ctx: &mut ProcessorContext<'_, Option<KO>, Subscription<K>>,
        record: Record<Option<KO>, Subscription<K>>,
    ) -> Result<(), StreamsError> {
        let Some(OpenSubscriptions { store, topics }) = &self.subscriptions else {
            return Ok(());
        };
        let subscription = &record.value;
        match &record.key {
            None if subscription.instruction != Instruction::PropagateNullIfNoFkValAvailable => {
                ctx.record_dropped("null foreign key");
                return Ok(());
            }
            None => {}
            Some(foreign_key) => {
                let key = self
                    .keys
                    .key(topics, foreign_key, &subscription.primary_key)
                    .map_err(|source| serde_error(ctx.processor_name(), source))?;
                if subscription.instruction.unsubscribes() {
                    store.delete(&key)?;
                } else {
                    store.put(
                        &key,
                        &ValueAndTimestamp::new(subscription.clone(), record.timestamp),
                    )?;
                }
            }
        }
        ctx.forward(record)
    }
}

/// Answers a subscription with the right row of its foreign key, as its
/// instruction says, stamped with the later of the subscription's and the
/// right row's timestamps.
pub(crate) struct SubscriptionJoin<KO, VO> {
    pub(crate) right_rows: RowLookup<KO, VO>,
    pub(crate) right: Option<Box<dyn RowGetter<KO, VO>>>,
}

impl<KO, K, VO> Processor<Option<KO>, Subscription<K>, K, Response<VO>> for SubscriptionJoin<KO, VO>
where
    KO: 'static,
    K: Clone + 'static,
    VO: Clone + 'static,
{
    fn init(
        &mut self,
        ctx: &mut ProcessorContext<'_, K, Response<VO>>,
    ) -> Result<(), StreamsError> {
        self.right = Some(self.right_rows.open(&ctx.stores())?);
        Ok(())
    }

    fn process(
        &mut self,
        ctx: &mut ProcessorContext<'_, K, Response<VO>>,
        record: Record<Option<KO>, Subscription<K>>,
    ) -> Result<(), StreamsError> {
        let Some(table) = &self.right else {
            return Ok(());
        };
        let right = match &record.key {
            Some(foreign_key) => table.get(foreign_key)?,
            None => None,
        };
        let timestamp = right
            .as_ref()
            .map_or(record.timestamp, |row| record.timestamp.max(row.timestamp));
        let foreign_value = match record.value.instruction {
            Instruction::DeleteKeyAndPropagate => None,
            Instruction::PropagateNullIfNoFkValAvailable => right.map(|row| row.value),
            Instruction::PropagateOnlyIfFkValAvailable => match right {
                Some(row) => Some(row.value),
                None => return Ok(()),
            },
            Instruction::DeleteKeyNoPropagate => return Ok(()),
        };
        let subscription = record.value;
        ctx.forward(Record {
            key: subscription.primary_key,
            value: Response {
                hash: subscription.hash,
                foreign_value,
                primary_partition: subscription.primary_partition,
            },
            timestamp,
            headers: record.headers,
        })
    }
}

/// Answers every subscriber of a right row when the row changes (a
/// deletion answers with no right value), in the order of their
/// subscription keys, stamped with the update's timestamp.
pub(crate) struct ForeignTableJoin<KO, K> {
    pub(crate) keys: CombinedKeys<KO, K>,
    pub(crate) store_name: String,
    pub(crate) subscription_topic: String,
    pub(crate) subscriptions: Option<OpenSubscriptions<K>>,
}

impl<KO, K, VO> Processor<KO, Change<VO>, K, Response<VO>> for ForeignTableJoin<KO, K>
where
    KO: 'static,
    K: Clone + 'static,
    VO: Clone + 'static,
{
    fn init(
        &mut self,
        ctx: &mut ProcessorContext<'_, K, Response<VO>>,
    ) -> Result<(), StreamsError> {
        self.subscriptions = Some(open(ctx, &self.store_name, &self.subscription_topic)?);
        Ok(())
    }

    fn process(
        &mut self,
        ctx: &mut ProcessorContext<'_, K, Response<VO>>,
        record: Record<KO, Change<VO>>,
    ) -> Result<(), StreamsError> {
        let Some(OpenSubscriptions { store, topics }) = &self.subscriptions else {
            return Ok(());
        };
        let error = |source| serde_error(ctx.processor_name(), source);
        let prefix = self.keys.prefix(topics, &record.key).map_err(error)?;
        let subscribers = store.prefix_scan(&prefix, &BytesSerde)?;
        let mut responses = Vec::with_capacity(subscribers.len());
        for (key, subscription) in subscribers {
            let primary_key = self.keys.primary_key(topics, &key).map_err(error)?;
            responses.push((primary_key, subscription.value));
        }
        for (primary_key, subscription) in responses {
            ctx.forward(Record {
                key: primary_key,
                value: Response {
                    hash: subscription.hash,
                    foreign_value: record.value.new.clone(),
                    primary_partition: subscription.primary_partition,
                },
                timestamp: record.timestamp,
                headers: record.headers.clone(),
            })?;
        }
        Ok(())
    }
}
