//! The stores of one task, looked up by name with a type check.

use std::any::Any;

use state_stores::ChangelogRecord;

use super::{StoreBuilder, StoreContext, StoreHandle};
use crate::engine::NodeId;
use crate::error::StreamsError;
use crate::topology::ChangelogConfig;

/// A store handle with its type erased, so one registry holds every kind.
pub(crate) trait ErasedHandle {
    fn as_any(&self) -> &dyn Any;
    fn persistent(&self) -> bool;
    fn flush(&self) -> Result<(), StreamsError>;
    fn flush_cache(&self) -> Result<(), StreamsError>;
    fn close(&self) -> Result<(), StreamsError>;
    fn restore(&self, records: &[ChangelogRecord]) -> Result<(), StreamsError>;
}

impl<S: StoreHandle + Clone> ErasedHandle for S {
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn persistent(&self) -> bool {
        StoreHandle::persistent(self)
    }
    fn flush(&self) -> Result<(), StreamsError> {
        StoreHandle::flush(self)
    }
    fn flush_cache(&self) -> Result<(), StreamsError> {
        StoreHandle::flush_cache(self)
    }
    fn close(&self) -> Result<(), StreamsError> {
        StoreHandle::close(self)
    }
    fn restore(&self, records: &[ChangelogRecord]) -> Result<(), StreamsError> {
        StoreHandle::restore(self, records)
    }
}

/// A store builder with its type erased.
pub(crate) trait ErasedStoreBuilder: Send + Sync {
    fn build_erased(&self, context: &StoreContext) -> Result<Box<dyn ErasedHandle>, StreamsError>;
    fn changelog(&self) -> Option<ChangelogConfig>;
}

impl<B: StoreBuilder> ErasedStoreBuilder for B {
    fn build_erased(&self, context: &StoreContext) -> Result<Box<dyn ErasedHandle>, StreamsError> {
        Ok(Box::new(self.build(context)?))
    }
    fn changelog(&self) -> Option<ChangelogConfig> {
        StoreBuilder::changelog(self)
    }
}

struct Entry {
    name: String,
    users: Vec<NodeId>,
    handle: Box<dyn ErasedHandle>,
}

/// The stores of one task.
#[derive(Default)]
pub(crate) struct StoreRegistry {
    entries: Vec<Entry>,
}

impl StoreRegistry {
    pub(crate) fn register(
        &mut self,
        name: String,
        users: Vec<NodeId>,
        handle: Box<dyn ErasedHandle>,
    ) {
        self.entries.push(Entry {
            name,
            users,
            handle,
        });
    }

    fn typed<S: StoreHandle + Clone>(entry: &Entry, processor: &str) -> Result<S, StreamsError> {
        entry
            .handle
            .as_any()
            .downcast_ref::<S>()
            .cloned()
            .ok_or_else(|| StreamsError::StoreAccess {
                processor: processor.to_owned(),
                store: entry.name.clone(),
                reason: format!("it is not a {}", std::any::type_name::<S>()),
            })
    }

    /// The handle of `store` for processor `node`, which must be connected to it.
    pub(crate) fn handle<S: StoreHandle + Clone>(
        &self,
        node: NodeId,
        processor: &str,
        store: &str,
    ) -> Result<S, StreamsError> {
        let access = |reason: &str| StreamsError::StoreAccess {
            processor: processor.to_owned(),
            store: store.to_owned(),
            reason: reason.to_owned(),
        };
        let entry = self
            .entries
            .iter()
            .find(|entry| entry.name == store)
            .ok_or_else(|| access("no such store"))?;
        if !entry.users.contains(&node) {
            return Err(access("the store is not connected to the processor"));
        }
        Self::typed(entry, processor).map(|handle: S| handle.for_processor())
    }

    /// The handle of `store` from outside the topology (tests, queries).
    pub(crate) fn lookup<S: StoreHandle + Clone>(&self, store: &str) -> Result<S, StreamsError> {
        let entry = self
            .entries
            .iter()
            .find(|entry| entry.name == store)
            .ok_or_else(|| StreamsError::StoreAccess {
                processor: "(outside the topology)".to_owned(),
                store: store.to_owned(),
                reason: "no such store".to_owned(),
            })?;
        // From outside, a plain view of a timestamped store serves too.
        Self::typed(entry, "(outside the topology)")
            .or_else(|error| S::view_of(entry.handle.as_any()).ok_or(error))
    }

    pub(crate) fn flush_caches(&self) -> Result<(), StreamsError> {
        self.entries
            .iter()
            .try_for_each(|entry| entry.handle.flush_cache())
    }

    /// Applies changelog records to the store `store`.
    pub(crate) fn restore(
        &self,
        store: &str,
        records: &[ChangelogRecord],
    ) -> Result<(), StreamsError> {
        match self.entries.iter().find(|entry| entry.name == store) {
            Some(entry) => entry.handle.restore(records),
            None => Err(StreamsError::StoreAccess {
                processor: "(the task restoring it)".to_owned(),
                store: store.to_owned(),
                reason: "no such store".to_owned(),
            }),
        }
    }

    /// Makes every store durable.
    pub(crate) fn flush_all(&self) -> Result<(), StreamsError> {
        self.entries
            .iter()
            .try_for_each(|entry| entry.handle.flush())
    }

    pub(crate) fn close_all(&self) -> Result<(), StreamsError> {
        self.entries
            .iter()
            .try_for_each(|entry| entry.handle.close())
    }
}
