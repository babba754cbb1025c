//! Record-at-a-time operators that keep no state.

use std::sync::Arc;

use streams_core::prelude::*;

/// A shared predicate over key and value.
pub(crate) type Predicate<K, V> = Arc<dyn Fn(&K, &V) -> bool + Send + Sync>;

/// A shared side effect over key and value.
pub(crate) type Action<K, V> = Arc<dyn Fn(&K, &V) + Send + Sync>;

/// Keeps records for which the predicate holds (`filter`), or fails
/// (`filter_not`).
pub(crate) struct Filter<K, V> {
    pub(crate) predicate: Predicate<K, V>,
    pub(crate) keep_when: bool,
}

impl<K: Clone + 'static, V: Clone + 'static> Processor<K, V, K, V> for Filter<K, V> {
    fn process(
        &mut self,
        ctx: &mut ProcessorContext<'_, K, V>,
        record: Record<K, V>,
    ) -> Result<(), StreamsError> {
        if (self.predicate)(&record.key, &record.value) == self.keep_when {
            ctx.forward(record)?;
        }
        Ok(())
    }
}

/// Replaces each record's key and value (`map`, `map_values`, `select_key`);
/// timestamp and headers are kept.
pub(crate) struct Map<F> {
    pub(crate) mapper: Arc<F>,
}

impl<K, V, K2, V2, F> Processor<K, V, K2, V2> for Map<F>
where
    K: 'static,
    V: 'static,
    K2: Clone + 'static,
    V2: Clone + 'static,
    F: Fn(K, V) -> (K2, V2) + 'static,
{
    fn process(
        &mut self,
        ctx: &mut ProcessorContext<'_, K2, V2>,
        record: Record<K, V>,
    ) -> Result<(), StreamsError> {
        let (key, value) = (self.mapper)(record.key, record.value);
        ctx.forward(Record {
            key,
            value,
            timestamp: record.timestamp,
            headers: record.headers,
        })
    }
}

/// Replaces each record with zero or more records (`flat_map`,
/// `flat_map_values`), all with the input's timestamp and headers.
pub(crate) struct FlatMap<F> {
    pub(crate) mapper: Arc<F>,
}

impl<K, V, K2, V2, I, F> Processor<K, V, K2, V2> for FlatMap<F>
where
    K: 'static,
    V: 'static,
    K2: Clone + 'static,
    V2: Clone + 'static,
    I: IntoIterator<Item = (K2, V2)>,
    F: Fn(K, V) -> I + 'static,
{
    fn process(
        &mut self,
        ctx: &mut ProcessorContext<'_, K2, V2>,
        record: Record<K, V>,
    ) -> Result<(), StreamsError> {
        for (key, value) in (self.mapper)(record.key, record.value) {
            ctx.forward(Record {
                key,
                value,
                timestamp: record.timestamp,
                headers: record.headers.clone(),
            })?;
        }
        Ok(())
    }
}

/// Calls an action on each record and forwards it unchanged (`peek`;
/// `foreach` is a peek without children).
pub(crate) struct Peek<K, V> {
    pub(crate) action: Action<K, V>,
}

impl<K: Clone + 'static, V: Clone + 'static> Processor<K, V, K, V> for Peek<K, V> {
    fn process(
        &mut self,
        ctx: &mut ProcessorContext<'_, K, V>,
        record: Record<K, V>,
    ) -> Result<(), StreamsError> {
        (self.action)(&record.key, &record.value);
        ctx.forward(record)
    }
}

/// Forwards every record unchanged: the children of a split, the node of a
/// merge.
pub(crate) struct PassThrough;

impl<K: Clone + 'static, V: Clone + 'static> Processor<K, V, K, V> for PassThrough {
    fn process(
        &mut self,
        ctx: &mut ProcessorContext<'_, K, V>,
        record: Record<K, V>,
    ) -> Result<(), StreamsError> {
        ctx.forward(record)
    }
}

/// Sends each record to the child of the first predicate it matches, or to
/// the default child, or drops it.
pub(crate) struct Branch<K, V> {
    pub(crate) branches: Arc<Vec<(Predicate<K, V>, String)>>,
    pub(crate) default_child: Option<String>,
}

impl<K: Clone + 'static, V: Clone + 'static> Processor<K, V, K, V> for Branch<K, V> {
    fn process(
        &mut self,
        ctx: &mut ProcessorContext<'_, K, V>,
        record: Record<K, V>,
    ) -> Result<(), StreamsError> {
        let matched = self
            .branches
            .iter()
            .find(|(predicate, _)| predicate(&record.key, &record.value))
            .map(|(_, child)| child)
            .or(self.default_child.as_ref());
        match matched {
            Some(child) => {
                let child = child.clone();
                ctx.forward_to(&child, record)
            }
            None => Ok(()),
        }
    }
}
