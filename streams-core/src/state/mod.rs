//! State stores as processors use them: typed handles over byte-level stores.
//!
//! The stores themselves (in memory or on RocksDB, with changelogging and
//! caching) live in the `state-stores` crate and speak bytes. This module
//! puts serdes in front of them and connects them to tasks:
//! a [`StoreBuilder`] added to a topology builds one store per task, and a
//! processor gets a typed [`StoreHandle`] to it by name.
//!
//! | store | handle | builder |
//! |---|---|---|
//! | key-value | [`KeyValueStore`] | [`Stores::key_value_store_builder`] |
//! | timestamped key-value | [`TimestampedKeyValueStore`] | [`Stores::timestamped_key_value_store_builder`] |
//! | window | [`WindowStore`] | [`Stores::window_store_builder`] |
//! | session | [`SessionStore`] | [`Stores::session_store_builder`] |
//!
//! The handles share one implementation of encoding, decoding, borrowing
//! and error wrapping, and the builders one set of backend, logging and
//! caching options.

mod cache_flushes;
mod handle;
mod key_value;
mod registry;
mod session;
mod stores;
mod timestamped;
mod window;

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use state_stores::{
    ChangelogRecord, ChangelogSink, ExternalError, RecordContext, RocksDbMemoryBudget,
};

pub use crate::window::{Window, Windowed};
pub use cache_flushes::{CacheFlushes, FlushedEntries, FlushedEntry};
pub use key_value::KeyValueStore;
pub(crate) use registry::{ErasedStoreBuilder, StoreRegistry};
pub use session::SessionStore;
pub use stores::{
    KeyValueStoreBuilder, SessionStoreBuilder, StoreBackend, StoreOptions, Stores,
    TimestampedKeyValueStoreBuilder, WindowStoreBuilder,
};
pub use timestamped::{TimestampedKeyValueStore, ValueAndTimestamp, ValueAndTimestampSerde};
pub use window::WindowStore;

use crate::engine::ChangelogCollector;
use crate::error::StreamsError;
use crate::record::{Headers, ProducerRecord, TopicName};

/// A store as a processor holds it: cheap to clone, typed.
pub trait StoreHandle: 'static {
    /// Whether the store keeps its contents on disk across restarts (a
    /// RocksDB store with a state directory): only such a store restores
    /// just the part of its changelog past the task's checkpoint. By
    /// default `false`: the store restores its whole changelog.
    fn persistent(&self) -> bool {
        false
    }
    /// Writes buffered state through to the store (cache, then backend)
    /// and makes it durable.
    fn flush(&self) -> Result<(), StreamsError>;
    /// Writes the store's cached updates through, making nothing durable:
    /// what a commit does (see [`StateStore::flush_cache`]).
    ///
    /// [`StateStore::flush_cache`]: state_stores::StateStore::flush_cache
    fn flush_cache(&self) -> Result<(), StreamsError>;
    /// Releases the store's resources.
    fn close(&self) -> Result<(), StreamsError>;
    /// Applies records of the store's changelog, oldest first, bypassing
    /// its caching and changelogging: how a starting task gets back the
    /// state it had.
    fn restore(&self, records: &[ChangelogRecord]) -> Result<(), StreamsError>;

    /// The handle a processor gets: the same store, but refusing
    /// [`close`](Self::close) and [`restore`](Self::restore) with
    /// [`StreamsError::StoreOwnedByTask`], as only the task may close or
    /// restore its stores (Kafka's processor-facing stores throw). By
    /// default the handle itself, for handles with nothing to guard.
    fn for_processor(&self) -> Self
    where
        Self: Sized + Clone,
    {
        self.clone()
    }

    /// A handle of this type onto `store`, a handle of another type, where
    /// it has one: a plain key-value or window store's view of a
    /// timestamped one, whose values it reads without their timestamps
    /// (Kafka's store facades, which its test driver hands out). The view
    /// only reads: writes, deletions, flushes and closes through it fail
    /// with [`StreamsError::ReadOnlyView`]. `None` by default.
    fn view_of(store: &dyn std::any::Any) -> Option<Self>
    where
        Self: Sized,
    {
        let _ = store;
        None
    }
}

/// Builds one instance of a store for each task.
pub trait StoreBuilder: Send + Sync + 'static {
    /// The handle type processors get.
    type Store: StoreHandle + Clone;
    /// The store's name, unique in its topology.
    fn name(&self) -> &str;
    /// How the store's changelog topic is configured, or `None` when the
    /// store writes no changelog.
    fn changelog(&self) -> Option<crate::topology::ChangelogConfig>;
    /// Builds the store of one task.
    fn build(&self, context: &StoreContext) -> Result<Self::Store, StreamsError>;
}

/// What a store learns of the task it belongs to.
pub struct StoreContext {
    pub(crate) application_id: String,
    pub(crate) task_id: String,
    pub(crate) partition: i32,
    pub(crate) state_dir: Option<PathBuf>,
    pub(crate) collector: ChangelogCollector,
    pub(crate) record_context: RecordContext,
    pub(crate) rocksdb_budget: RocksDbMemoryBudget,
}

impl StoreContext {
    /// The application id.
    pub fn application_id(&self) -> &str {
        &self.application_id
    }

    /// The task id, `<sub-topology>_<partition>`.
    pub fn task_id(&self) -> &str {
        &self.task_id
    }

    /// The task's directory for persistent stores, if it has one.
    pub fn state_dir(&self) -> Option<&std::path::Path> {
        self.state_dir.as_deref()
    }

    /// The changelog topic of store `store`: `<application.id>-<store>-changelog`.
    pub fn changelog_topic(&self, store: &str) -> String {
        crate::topology::changelog_topic(&self.application_id, store)
    }

    /// The partition of the changelog this task writes.
    pub fn changelog_partition(&self) -> i32 {
        self.partition
    }

    /// The context the byte-level store builders take: the task directory
    /// (or none), the RocksDB memory budget, the changelog sink and the
    /// timestamp of the record being processed. Use one per store: its sink
    /// names the changelog topic of the first store logging through it once.
    pub fn bytes_context(&self) -> state_stores::StoreContext {
        state_stores::StoreContext::new(
            self.state_dir.clone().unwrap_or_default(),
            self.rocksdb_budget.clone(),
        )
        .with_changelog(self.changelog_sink())
        .with_record_context(self.record_context.clone())
    }

    /// The sink that changelogging layers write to: records go to
    /// `<application.id>-<store>-changelog`, on this task's partition, out
    /// through the task's collector with its other output. The sink serves
    /// any store, and is quickest for the one it served first.
    pub fn changelog_sink(&self) -> Arc<dyn ChangelogSink> {
        Arc::new(TaskChangelogSink {
            collector: self.collector.clone(),
            application_id: self.application_id.clone(),
            partition: self.partition,
            topic: OnceLock::new(),
        })
    }
}

#[cfg(test)]
impl StoreContext {
    /// A context for unit tests: task `0_0` of application `app`, keeping
    /// stores under `state_dir` (in memory without one).
    pub(crate) fn for_tests(state_dir: Option<PathBuf>) -> Self {
        Self {
            application_id: "app".to_owned(),
            task_id: "0_0".to_owned(),
            partition: 0,
            state_dir,
            collector: ChangelogCollector::default(),
            record_context: RecordContext::new(),
            rocksdb_budget: RocksDbMemoryBudget::new(8 << 20),
        }
    }
}

struct TaskChangelogSink {
    collector: ChangelogCollector,
    application_id: String,
    partition: i32,
    /// The changelog topic of the store this sink serves, named on first use
    /// (every store gets its own sink, see `bytes_context`), so logging a
    /// change does not format the name again.
    topic: OnceLock<(String, TopicName)>,
}

impl TaskChangelogSink {
    fn topic(&self, store_name: &str) -> TopicName {
        match self.topic.get() {
            Some((store, topic)) if store == store_name => *topic,
            _ => {
                let topic = TopicName::from(crate::topology::changelog_topic(
                    &self.application_id,
                    store_name,
                ));
                // Only the first store's name is kept; any other is named anew.
                let _ = self.topic.set((store_name.to_owned(), topic));
                topic
            }
        }
    }
}

impl ChangelogSink for TaskChangelogSink {
    fn send(&self, store_name: &str, record: ChangelogRecord) -> Result<(), ExternalError> {
        self.collector.send(ProducerRecord {
            topic: self.topic(store_name),
            partition: Some(self.partition),
            key: Some(record.key),
            value: record.value,
            timestamp: record.timestamp,
            headers: Headers::new(),
        });
        Ok(())
    }
}
