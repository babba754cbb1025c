//! Kafka's null keys and values, in typed streams.
//!
//! A Java record's key or value may be `null`, and Kafka Streams' operators
//! skip such a record where it cannot take part: an aggregation has no
//! group for a null key and nothing to add for a null value, a join has
//! nothing to match. Here a key or value is null when its serde writes it
//! as no bytes at all ([`Serializer::is_null`]): a `None` of an `Option`,
//! the unit, a deletion that [`KTable::to_stream`](crate::KTable::to_stream)
//! sent on. Each operator asks its own serdes, the ones it would write the
//! key or value with.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use streams_core::prelude::*;
use streams_core::serde::SharedSerde;

/// Why a record with a null key is dropped (Kafka's words).
pub(crate) const NULL_KEY: &str = "Skipping record due to null key.";
/// Why a record with a null key or value is dropped.
pub(crate) const NULL_KEY_OR_VALUE: &str = "Skipping record due to null key or value.";
/// Why a stream record with a null row key or value is not joined.
pub(crate) const NULL_JOIN_KEY_OR_VALUE: &str = "Skipping record due to null join key or value.";

/// Tells null keys and values of a record type apart: by the serdes an
/// operator has for them, or not at all where it has none.
pub(crate) struct NullTest<K, V> {
    key: Option<SharedSerde<K>>,
    value: Option<SharedSerde<V>>,
}

impl<K, V> Clone for NullTest<K, V> {
    fn clone(&self) -> Self {
        Self {
            key: self.key.clone(),
            value: self.value.clone(),
        }
    }
}

impl<K, V> NullTest<K, V> {
    /// Keys and values are null when these serdes write them as null;
    /// without a serde, never.
    pub(crate) fn new(key: Option<SharedSerde<K>>, value: Option<SharedSerde<V>>) -> Self {
        Self { key, value }
    }

    /// Whether `key` is null.
    pub(crate) fn key(&self, key: &K) -> bool {
        self.key.as_ref().is_some_and(|serde| serde.is_null(key))
    }

    /// Whether `value` is null.
    pub(crate) fn value(&self, value: &V) -> bool {
        self.value
            .as_ref()
            .is_some_and(|serde| serde.is_null(value))
    }
}

/// What an operator skips: records with a null key, and with
/// [`keys_and_values`](Self::keys_and_values) also those with a null
/// value, each counted as dropped with Kafka's reason.
pub(crate) struct SkipNulls<K, V> {
    test: NullTest<K, V>,
    values: bool,
}

impl<K, V> Clone for SkipNulls<K, V> {
    fn clone(&self) -> Self {
        Self {
            test: self.test.clone(),
            values: self.values,
        }
    }
}

impl<K, V> SkipNulls<K, V> {
    /// Skips null keys (Kafka's windowed and session aggregations, which
    /// aggregate null values, and tables, where a null value deletes).
    pub(crate) fn keys(key: SharedSerde<K>) -> Self {
        Self {
            test: NullTest::new(Some(key), None),
            values: false,
        }
    }

    /// Skips null keys and null values (Kafka's aggregations and sliding
    /// windows).
    pub(crate) fn keys_and_values(key: SharedSerde<K>, value: SharedSerde<V>) -> Self {
        Self {
            test: NullTest::new(Some(key), Some(value)),
            values: true,
        }
    }

    /// Whether `record` is skipped; if so, it is counted as dropped.
    pub(crate) fn skip<KOut, VOut>(
        &self,
        ctx: &mut ProcessorContext<'_, KOut, VOut>,
        record: &Record<K, V>,
    ) -> bool {
        self.skip_parts(ctx, &record.key, Some(&record.value))
    }

    /// Whether a record with `key` is skipped, whatever its value (for a
    /// processor taking more than one value type); if so, it is counted as
    /// dropped.
    pub(crate) fn skip_key<KOut, VOut>(
        &self,
        ctx: &mut ProcessorContext<'_, KOut, VOut>,
        key: &K,
    ) -> bool {
        self.skip_parts(ctx, key, None)
    }

    fn skip_parts<KOut, VOut>(
        &self,
        ctx: &mut ProcessorContext<'_, KOut, VOut>,
        key: &K,
        value: Option<&V>,
    ) -> bool {
        let null_value = self.values && value.is_some_and(|value| self.test.value(value));
        let skipped = self.test.key(key) || null_value;
        if skipped {
            ctx.record_dropped(if self.values {
                NULL_KEY_OR_VALUE
            } else {
                NULL_KEY
            });
        }
        skipped
    }
}

/// Whether a repartition topic's filter drops null keys: unless a join
/// downstream of it joins them (a left or outer join, KIP-962), as Kafka's
/// `rewriteRepartitionNodes` decides once the whole topology is known. So
/// it is settled when the builder builds, after the processors using it
/// were added.
#[derive(Clone)]
pub(crate) struct DropsNullKeys(Arc<AtomicBool>);

impl Default for DropsNullKeys {
    fn default() -> Self {
        Self(Arc::new(AtomicBool::new(true)))
    }
}

impl DropsNullKeys {
    /// The filter keeps null keys: a join downstream joins them.
    pub(crate) fn keep_them(&self) {
        self.0.store(false, Ordering::Relaxed);
    }

    fn drops(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// The filter in front of a repartition topic (its `KSTREAM-FILTER-`
/// node): drops records with a null key, which no partition owns, unless
/// told otherwise; silently, as Kafka's filter there.
pub(crate) struct NullKeyFilter<K> {
    pub(crate) key: SharedSerde<K>,
    pub(crate) drops: DropsNullKeys,
}

impl<K: Clone + 'static, V: Clone + 'static> Processor<K, V, K, V> for NullKeyFilter<K> {
    fn process(
        &mut self,
        ctx: &mut ProcessorContext<'_, K, V>,
        record: Record<K, V>,
    ) -> Result<(), StreamsError> {
        if self.drops.drops() && self.key.is_null(&record.key) {
            return Ok(());
        }
        ctx.forward(record)
    }
}
