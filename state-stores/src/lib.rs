//! Byte-level state stores for the stream-processing engine: key-value,
//! window and session stores, in memory and on RocksDB, with the
//! changelogging, caching, restore and checkpoint machinery of Kafka Streams.
//!
//! Keys and values are plain bytes; the typed, serde-aware wrappers live in
//! `streams-core`.
//!
//! # Store kinds
//!
//! - [`KeyValueStore`]: values by key, scanned in key byte order. A
//!   timestamped key-value store is one whose values use the
//!   [`ValueAndTimestamp`] layout; built with
//!   [`StoreBuilder::timestamped`], it logs them as Kafka does (the plain
//!   value, stamped with its timestamp).
//! - [`WindowStore`]: values by key and window start, with retention and an
//!   optional retain-duplicates mode for join buffers.
//! - [`SessionStore`]: aggregates by key and session bounds, with the
//!   `find_sessions` query the session-window aggregator merges with.
//!
//! # Design
//!
//! Each store kind is implemented once, generically over a
//! [`BytesBackend`] - an ordered byte map - with two backends:
//! [`InMemoryBackend`] (a `BTreeMap`) and [`RocksDbBackend`]. Both therefore
//! share binary layouts, iteration order and expiry behaviour, and one test
//! suite runs every store kind against both.
//!
//! Window and session stores keep their entries in time segments
//! ([`Retention`]): each segment is one contiguous key range, so expired
//! segments are dropped with one range delete. Their storage keys escape the
//! record key so that variable-length keys never collide and each key's
//! entries are one range in time order (see the `key_encoding` module).
//!
//! Around a store sit optional layers, outermost first: a write cache
//! ([`CachingKeyValueStore`], [`CachingWindowStore`],
//! [`CachingSessionStore`]) that collapses repeated writes and reports
//! flushed entries to a [`FlushListener`]; and a changelogging layer that
//! sends every change as a [`ChangelogRecord`] to a [`ChangelogSink`],
//! stamped with the current [`RecordContext`]. `restore_batch` on each
//! store replays changelog records in one batch write.
//!
//! All RocksDB stores opened with one [`RocksDbMemoryBudget`] share its block
//! cache and write buffer manager, bounding the process's RocksDB memory.
//! A task records the changelog offsets its stores reflect in a
//! [`CheckpointFile`].
//!
//! The engine describes each store with a [`StoreBuilder`] and builds one
//! [`Store`] per task from a [`StoreContext`].
//!
//! # Example
//!
//! ```
//! use std::sync::{Arc, Mutex};
//! use state_stores::{
//!     BackendKind, ChangelogRecord, ChangelogSink, ExternalError, KeyValueStore,
//!     RocksDbMemoryBudget, StateStore, Store, StoreBuilder, StoreContext,
//! };
//!
//! /// Collects changelog records in memory.
//! #[derive(Default)]
//! struct Collect(Mutex<Vec<ChangelogRecord>>);
//!
//! impl ChangelogSink for Collect {
//!     fn send(&self, _store: &str, record: ChangelogRecord) -> Result<(), ExternalError> {
//!         self.0.lock().map_err(|e| e.to_string())?.push(record);
//!         Ok(())
//!     }
//! }
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let task_dir = tempfile::tempdir()?;
//! let sink = Arc::new(Collect::default());
//! let context = StoreContext::new(task_dir.path(), RocksDbMemoryBudget::new(64 << 20))
//!     .with_changelog(sink.clone());
//! context.record_context.set_timestamp(1_000);
//!
//! let builder = StoreBuilder::key_value("counts").backend(BackendKind::RocksDb);
//! let mut store: Store = builder.build(&context)?;
//! let counts = store.as_key_value_mut().ok_or("not a key-value store")?;
//! counts.put(b"apple", b"3")?;
//! counts.put(b"banana", b"5")?;
//! assert_eq!(counts.get(b"apple")?, Some(b"3".to_vec()));
//! let keys: Vec<Vec<u8>> = counts.all().map(|entry| entry.map(|(k, _)| k)).collect::<Result<_, _>>()?;
//! assert_eq!(keys, vec![b"apple".to_vec(), b"banana".to_vec()]);
//! counts.close()?;
//!
//! // The changelog is enough to rebuild the store elsewhere.
//! let changelog = sink.0.lock().map_err(|e| e.to_string())?.clone();
//! assert_eq!(changelog[0].timestamp, 1_000);
//! let mut replica = StoreBuilder::key_value("counts")
//!     .backend(BackendKind::InMemory)
//!     .logging(false)
//!     .build(&context)?;
//! replica.restore_batch(&changelog)?;
//! # Ok(())
//! # }
//! ```

mod backend;
mod budget;
mod builder;
mod changelog;
mod checkpoint;
mod error;
mod inline_bytes;
mod key_encoding;
mod key_value;
mod range;
mod segments;
mod session;
mod state_store;
mod store;
mod timestamped;
mod window;
mod write_cache;

#[cfg(test)]
mod test_suite;

pub use crate::backend::{
    store_options, BytesBackend, InMemoryBackend, RocksDbBackend, RocksDbOptionsHook,
};
pub use crate::budget::RocksDbMemoryBudget;
pub use crate::builder::{BackendKind, StoreBuilder, StoreContext, StoreKind, ROCKSDB_DIR_NAME};
pub use crate::changelog::{
    ChangelogRecord, ChangelogSink, RecordContext, RecordHeaders, RecordSource,
};
pub use crate::checkpoint::{CheckpointFile, Offsets, TopicPartition, CHECKPOINT_FILE_NAME};
pub use crate::error::{ExternalError, Result, StoreError};
pub use crate::key_value::{
    BackedKeyValueStore, CacheEntry, CachingKeyValueStore, FlushListener, InMemoryKeyValueStore,
    KeyValueIter, KeyValueStore, LoggingKeyValueStore, Rewrite, RocksDbKeyValueStore,
};
pub use crate::range::{ByteRange, ScanOrder};
pub use crate::segments::Retention;
pub use crate::session::{
    decode_changelog_key as decode_session_changelog_key, CachingSessionStore,
    InMemorySessionStore, LoggingSessionStore, RocksDbSessionStore, SegmentedSessionStore,
    SessionIter, SessionKey, SessionStore,
};
pub use crate::state_store::StateStore;
pub use crate::store::Store;
pub use crate::timestamped::ValueAndTimestamp;
pub use crate::window::{
    decode_changelog_key as decode_window_changelog_key, CachingWindowStore, InMemoryWindowStore,
    LoggingWindowStore, RocksDbWindowStore, SegmentedWindowStore, WindowIter, WindowStore,
    WindowedKey,
};
