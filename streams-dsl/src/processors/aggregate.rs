//! Aggregation of a grouped stream into a table: `count`, `reduce`,
//! `aggregate` (Kafka's `KStreamAggregate` and `KStreamReduce`).

use std::sync::Arc;

use streams_core::prelude::*;
use streams_core::state::ValueAndTimestamp;

use super::TableRows;
use crate::ktable::Change;
use crate::nulls::SkipNulls;
use crate::table_node::NodeView;

/// Makes the aggregate of a key's first record.
type First<K, V, A> = Arc<dyn Fn(&K, V) -> A + Send + Sync>;
/// Folds one more record into an aggregate.
type Next<K, V, A> = Arc<dyn Fn(&K, V, A) -> A + Send + Sync>;

/// The aggregate a key starts from.
type Initial<A> = Arc<dyn Fn() -> A + Send + Sync>;

/// How an aggregate starts and grows.
pub(crate) struct Aggregator<K, V, A> {
    /// The aggregate of a key's first record.
    pub(crate) first: First<K, V, A>,
    /// The aggregate after one more record.
    pub(crate) next: Next<K, V, A>,
    /// The aggregate before a key's first record: the initializer's (0 for
    /// a count); none for a reduce.
    initial: Option<Initial<A>>,
}

impl<K, V, A> Aggregator<K, V, A> {
    /// The aggregate a key's first update replaces, as its old value:
    /// Kafka's `KStreamAggregate` forwards the initializer's, its
    /// `KStreamReduce` none.
    pub(crate) fn initial(&self) -> Option<A> {
        self.initial.as_ref().map(|initial| initial())
    }
}

impl<K, V> Aggregator<K, V, i64> {
    /// Counts records: `count`. Counts wrap as Kafka's Java `long`s do;
    /// only a count restored from a forged changelog gets near the limit.
    pub(crate) fn counting() -> Self {
        Self {
            first: Arc::new(|_, _| 1),
            next: Arc::new(|_, _, count: i64| count.wrapping_add(1)),
            initial: Some(Arc::new(|| 0)),
        }
    }
}

impl<K, V: 'static> Aggregator<K, V, V> {
    /// The first value, then `reducer(aggregate, value)`: `reduce`.
    pub(crate) fn reducing(reducer: impl Fn(V, V) -> V + Send + Sync + 'static) -> Self {
        Self {
            first: Arc::new(|_, value| value),
            next: Arc::new(move |_, value, aggregate| reducer(aggregate, value)),
            initial: None,
        }
    }
}

impl<K: 'static, V: 'static, A: 'static> Aggregator<K, V, A> {
    /// `aggregator` applied to `initializer()` first: `aggregate`.
    pub(crate) fn folding(
        initializer: impl Fn() -> A + Send + Sync + 'static,
        aggregator: impl Fn(&K, V, A) -> A + Send + Sync + 'static,
    ) -> Self {
        let initializer: Initial<A> = Arc::new(initializer);
        let aggregator = Arc::new(aggregator);
        let next = aggregator.clone();
        let start = initializer.clone();
        Self {
            first: Arc::new(move |key, value| aggregator(key, value, start())),
            next: Arc::new(move |key, value, aggregate| next(key, value, aggregate)),
            initial: Some(initializer),
        }
    }
}

impl<K, V, A> Clone for Aggregator<K, V, A> {
    fn clone(&self) -> Self {
        Self {
            first: self.first.clone(),
            next: self.next.clone(),
            initial: self.initial.clone(),
        }
    }
}

/// Folds each record into its key's aggregate in the store and forwards the
/// change, stamped with the largest timestamp that contributed to it, with
/// the old aggregate only if the table sends old values. With a cached
/// store the change is forwarded when it leaves the cache instead,
/// collapsed with the key's other updates since the last commit.
pub(crate) struct Aggregate<K, V, A> {
    store_name: String,
    aggregator: Aggregator<K, V, A>,
    /// The aggregated table's node: whether to send old values.
    view: NodeView,
    /// Records with a null key or value have no group or nothing to add.
    nulls: SkipNulls<K, V>,
    rows: TableRows<K, A>,
}

impl<K, V, A> Aggregate<K, V, A> {
    /// Aggregates into the store `store_name`, for the table whose node
    /// `view` shows, skipping the records `nulls` skips.
    pub(crate) fn new(
        store_name: &str,
        aggregator: Aggregator<K, V, A>,
        view: NodeView,
        nulls: SkipNulls<K, V>,
    ) -> Self {
        Self {
            store_name: store_name.to_owned(),
            aggregator,
            view,
            nulls,
            rows: TableRows::default(),
        }
    }
}

impl<K, V, A> Processor<K, V, K, Change<A>> for Aggregate<K, V, A>
where
    K: Clone + 'static,
    V: 'static,
    A: Clone + 'static,
{
    fn init(&mut self, ctx: &mut ProcessorContext<'_, K, Change<A>>) -> Result<(), StreamsError> {
        self.rows = TableRows::kept_in(Some(&self.store_name), &self.view, ctx)?;
        Ok(())
    }

    fn flush(&mut self, ctx: &mut ProcessorContext<'_, K, Change<A>>) -> Result<(), StreamsError> {
        self.rows.flush(ctx)
    }

    fn process(
        &mut self,
        ctx: &mut ProcessorContext<'_, K, Change<A>>,
        record: Record<K, V>,
    ) -> Result<(), StreamsError> {
        let Some(store) = &self.rows.store else {
            return Ok(());
        };
        if self.nulls.skip(ctx, &record) {
            return Ok(());
        }
        // Read and written back with one lookup.
        let (new, timestamp, old) = store.update(&record.key, |held| {
            let (new, timestamp, old) = match held {
                None => (
                    (self.aggregator.first)(&record.key, record.value),
                    record.timestamp,
                    self.aggregator.initial(),
                ),
                Some(ValueAndTimestamp { value, timestamp }) => (
                    (self.aggregator.next)(&record.key, record.value, value.clone()),
                    record.timestamp.max(timestamp),
                    Some(value),
                ),
            };
            let stored = ValueAndTimestamp {
                value: new.clone(),
                timestamp,
            };
            (stored, (new, timestamp, old))
        })?;
        if let Some(cache) = &self.rows.cache {
            // Only what an eviction pushed out goes downstream now.
            return cache.forward_evicted(ctx);
        }
        ctx.forward(Record {
            key: record.key,
            value: Change {
                new: Some(new),
                old: old.filter(|_| self.rows.send_old_values),
            },
            timestamp,
            headers: record.headers,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A count restored at the largest `i64` (only a forged changelog puts
    /// it there) wraps as Kafka's Java `long` does, instead of panicking.
    #[test]
    fn a_count_at_the_limit_wraps_as_in_java() {
        let counting = Aggregator::<String, String, i64>::counting();
        let key = "k".to_owned();
        assert_eq!((counting.next)(&key, "v".to_owned(), i64::MAX), i64::MIN);
        assert_eq!((counting.next)(&key, "v".to_owned(), 41), 42);
    }
}
