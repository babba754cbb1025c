//! The processors on the left table's side of a foreign-key join: the one
//! that turns left-row updates into subscriptions (Kafka's
//! `SubscriptionSendProcessorSupplier`) and the one that turns responses
//! into join results (Kafka's `ResponseJoinProcessorSupplier`).

use std::sync::Arc;

use streams_core::prelude::*;
use streams_core::serde::{SerdeError, SharedSerde};

use super::combined_key::{bytes_of, serde_error, PseudoTopics};
use super::murmur3::ValueHash;
use super::response::Response;
use super::subscription::{Instruction, Subscription};
use crate::join::joiner::Joiner;
use crate::ktable::Change;
use crate::row_lookup::{RowGetter, RowLookup};

/// Extracts a left row's foreign key from its key and value; `None` when
/// it has none.
pub(crate) type Extractor<K, V, KO> = Arc<dyn Fn(&K, &V) -> Option<KO> + Send + Sync>;

/// Hashes left values as Kafka does: the value serialized for the
/// join's `-vh` pseudo-topic.
#[derive(Clone)]
pub(crate) struct ValueHasher<V> {
    pub(crate) serde: SharedSerde<V>,
}

impl<V> ValueHasher<V> {
    fn hash(&self, topics: &PseudoTopics, value: &V) -> Result<ValueHash, SerdeError> {
        bytes_of(&*self.serde, &topics.value_hash, value).map(|bytes| ValueHash::of(&bytes))
    }
}

/// Sends each left-row update to the right side as subscriptions keyed by
/// foreign key, following Kafka Streams 4's rules:
///
/// - an inner join subscribes new rows whose foreign key is known and
///   answers only when the right row exists; when the key changes it
///   unsubscribes the old key silently and asks the new one for an answer
///   either way (to retract the old result); a deleted row, or one whose
///   key became null, unsubscribes with an answer (a tombstone);
/// - a left join always asks for an answer under the new key (a null key
///   for a deleted row or a row without key, which subscribes nothing but
///   still gets its answer), after silently unsubscribing a changed old
///   key; deleting a row that did not exist sends nothing.
///
/// Each subscription carries the hash of the new left value, so answers to
/// a value the row no longer has can be recognised, and the left row's
/// partition, which the answer goes back to.
pub(crate) struct SubscriptionSend<K, V, KO> {
    pub(crate) extractor: Extractor<K, V, KO>,
    pub(crate) foreign_key: SharedSerde<KO>,
    pub(crate) hasher: ValueHasher<V>,
    pub(crate) left_join: bool,
    pub(crate) subscription_topic: String,
    pub(crate) topics: Option<PseudoTopics>,
}

impl<K, V, KO> SubscriptionSend<K, V, KO> {
    /// Whether two foreign keys serialize alike (Kafka compares bytes).
    fn same_key(
        &self,
        topics: &PseudoTopics,
        old: &KO,
        new: Option<&KO>,
    ) -> Result<bool, SerdeError> {
        let old = self.foreign_key.serialize(&topics.foreign_key, old)?;
        let new = match new {
            Some(new) => self.foreign_key.serialize(&topics.foreign_key, new)?,
            None => None,
        };
        Ok(old == new)
    }

    /// The subscriptions of an update from `old` to `new` in a left join.
    fn left_join_instructions(
        &self,
        topics: &PseudoTopics,
        key: &K,
        old: Option<&V>,
        new: Option<&V>,
    ) -> Result<Vec<(Option<KO>, Instruction)>, SerdeError> {
        if old.is_none() && new.is_none() {
            return Ok(Vec::new());
        }
        let old_key = old.and_then(|old| (self.extractor)(key, old));
        let new_key = new.and_then(|new| (self.extractor)(key, new));
        let mut instructions = Vec::with_capacity(2);
        if let Some(old_key) = old_key {
            if !self.same_key(topics, &old_key, new_key.as_ref())? {
                instructions.push((Some(old_key), Instruction::DeleteKeyNoPropagate));
            }
        }
        instructions.push((new_key, Instruction::PropagateNullIfNoFkValAvailable));
        Ok(instructions)
    }

    /// The subscriptions of an update from `old` to `new` in an inner
    /// join.
    fn inner_join_instructions(
        &self,
        ctx: &mut ProcessorContext<'_, Option<KO>, Subscription<K>>,
        topics: &PseudoTopics,
        key: &K,
        old: Option<&V>,
        new: Option<&V>,
    ) -> Result<Vec<(Option<KO>, Instruction)>, SerdeError> {
        let old_key = old.and_then(|old| (self.extractor)(key, old));
        let Some(new) = new else {
            return Ok(old_key
                .map(|old_key| (Some(old_key), Instruction::DeleteKeyAndPropagate))
                .into_iter()
                .collect());
        };
        let Some(new_key) = (self.extractor)(key, new) else {
            ctx.record_dropped("null foreign key");
            return Ok(old_key
                .map(|old_key| (Some(old_key), Instruction::DeleteKeyAndPropagate))
                .into_iter()
                .collect());
        };
        Ok(match old_key {
            Some(old_key) if !self.same_key(topics, &old_key, Some(&new_key))? => vec![
                (Some(old_key), Instruction::DeleteKeyNoPropagate),
                (Some(new_key), Instruction::PropagateNullIfNoFkValAvailable),
            ],
            // An insert, or an update under the same key: only a match
            // changes the result.
            _ => vec![(Some(new_key), Instruction::PropagateOnlyIfFkValAvailable)],
        })
    }
}

impl<K, V, KO> Processor<K, Change<V>, Option<KO>, Subscription<K>> for SubscriptionSend<K, V, KO>
where
    K: Clone + 'static,
    V: 'static,
    KO: Clone + 'static,
{
    fn init(
        &mut self,
        ctx: &mut ProcessorContext<'_, Option<KO>, Subscription<K>>,
    ) -> Result<(), StreamsError> {
        self.topics = Some(PseudoTopics::new(
            ctx.application_id(),
            &self.subscription_topic,
        ));
        Ok(())
    }

    fn process(
        &mut self,
        ctx: &mut ProcessorContext<'_, Option<KO>, Subscription<K>>,
        record: Record<K, Change<V>>,
    ) -> Result<(), StreamsError> {
        let Some(topics) = &self.topics else {
            return Ok(());
        };
        let processor = ctx.processor_name().to_owned();
        let error = |source| serde_error(&processor, source);
        let Change { new, old } = &record.value;
        let instructions = if self.left_join {
            self.left_join_instructions(topics, &record.key, old.as_ref(), new.as_ref())
        } else {
            self.inner_join_instructions(ctx, topics, &record.key, old.as_ref(), new.as_ref())
        }
        .map_err(error)?;
        if instructions.is_empty() {
            return Ok(());
        }
        let hash = new
            .as_ref()
            .map(|new| self.hasher.hash(topics, new))
            .transpose()
            .map_err(error)?;
        // The task's partition, not the current record's: a cached left
        // table forwards its updates at a commit, with no record current.
        let primary_partition = Some(ctx.partition());
        for (foreign_key, instruction) in instructions {
            ctx.forward(Record {
                key: foreign_key,
                value: Subscription {
                    hash,
                    instruction,
                    primary_key: record.key.clone(),
                    primary_partition,
                },
                timestamp: record.timestamp,
                headers: record.headers.clone(),
            })?;
        }
        Ok(())
    }
}

/// Turns the right side's responses into join results: a response to a
/// value the left row no longer has (its hash differs from the current
/// value's) is dropped; otherwise the result is the joiner applied to the
/// current left value and the response's right value, or a tombstone
/// when the left row is gone or the join kind makes no result without a
/// right value. Results keep the response's timestamp.
pub(crate) struct ResponseJoin<K, V, VO, VR> {
    pub(crate) joiner: Joiner<V, VO, VR>,
    pub(crate) hasher: ValueHasher<V>,
    pub(crate) left_rows: RowLookup<K, V>,
    pub(crate) subscription_topic: String,
    pub(crate) left: Option<(Box<dyn RowGetter<K, V>>, PseudoTopics)>,
}

impl<K, V, VO, VR> Processor<K, Response<VO>, K, Option<VR>> for ResponseJoin<K, V, VO, VR>
where
    K: Clone + 'static,
    V: 'static,
    VO: 'static,
    VR: Clone + 'static,
{
    fn init(&mut self, ctx: &mut ProcessorContext<'_, K, Option<VR>>) -> Result<(), StreamsError> {
        self.left = Some((
            self.left_rows.open(&ctx.stores())?,
            PseudoTopics::new(ctx.application_id(), &self.subscription_topic),
        ));
        Ok(())
    }

    fn process(
        &mut self,
        ctx: &mut ProcessorContext<'_, K, Option<VR>>,
        record: Record<K, Response<VO>>,
    ) -> Result<(), StreamsError> {
        let Some((left, topics)) = &self.left else {
            return Ok(());
        };
        let current = left.get(&record.key)?.map(|row| row.value);
        let current_hash = current
            .as_ref()
            .map(|value| self.hasher.hash(topics, value))
            .transpose()
            .map_err(|source| serde_error(ctx.processor_name(), source))?;
        if current_hash != record.value.hash {
            ctx.record_dropped("stale foreign-key join response");
            return Ok(());
        }
        // A response can only match a missing left row if it carries no
        // right value (a deleted row's subscriptions have no hash, and no
        // stored subscription lacks one), so `None` on the left always
        // makes a tombstone.
        let result = self
            .joiner
            .combine(current.as_ref(), record.value.foreign_value.as_ref());
        ctx.forward(Record {
            key: record.key,
            value: result,
            timestamp: record.timestamp,
            headers: record.headers,
        })
    }
}
