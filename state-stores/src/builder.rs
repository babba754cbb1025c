//! Store builders: a cloneable description of a store from which the engine
//! builds one instance per task.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use crate::backend::{BytesBackend, InMemoryBackend, RocksDbBackend, RocksDbOptionsHook};
use crate::budget::RocksDbMemoryBudget;
use crate::changelog::{ChangelogSink, ChangelogWriter, RecordContext};
use crate::error::{Result, StoreError};
use crate::key_value::{BackedKeyValueStore, CachingKeyValueStore, LoggingKeyValueStore};
use crate::segments::Retention;
use crate::session::{CachingSessionStore, LoggingSessionStore, SegmentedSessionStore};
use crate::store::Store;
use crate::window::{CachingWindowStore, LoggingWindowStore, SegmentedWindowStore};

/// The directory, in a task's state directory, that holds its RocksDB
/// stores (one directory each).
pub const ROCKSDB_DIR_NAME: &str = "rocksdb";

/// Which store to build, with its kind-specific parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreKind {
    /// A key-value store.
    KeyValue,
    /// A window store.
    Window {
        /// Retention and segmenting.
        retention: Retention,
        /// Size of the windows in milliseconds (kept for the typed layer,
        /// which derives window ends from it); at most the retention.
        window_size_ms: i64,
        /// Whether every put is kept (join buffers).
        retain_duplicates: bool,
    },
    /// A session store.
    Session {
        /// Retention and segmenting.
        retention: Retention,
    },
}

/// Where a store keeps its data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackendKind {
    /// In memory; restored from the changelog on every start.
    InMemory,
    /// In RocksDB under the task's state directory.
    RocksDb,
}

/// What a task provides to build its stores.
#[derive(Clone)]
pub struct StoreContext {
    /// The task's state directory; RocksDB stores live in
    /// `state_dir/rocksdb/<store name>`.
    pub state_dir: PathBuf,
    /// The process-wide RocksDB memory budget.
    pub budget: RocksDbMemoryBudget,
    /// Receives the changes of logged stores; required if any store is
    /// built with logging.
    pub changelog: Option<Arc<dyn ChangelogSink>>,
    /// The current record timestamp, set by the engine per record.
    pub record_context: RecordContext,
}

impl StoreContext {
    /// A context without changelog sink, with a fresh record timestamp.
    pub fn new(state_dir: impl Into<PathBuf>, budget: RocksDbMemoryBudget) -> Self {
        Self {
            state_dir: state_dir.into(),
            budget,
            changelog: None,
            record_context: RecordContext::new(),
        }
    }

    /// Sets the changelog sink.
    pub fn with_changelog(mut self, sink: Arc<dyn ChangelogSink>) -> Self {
        self.changelog = Some(sink);
        self
    }

    /// Sets the record timestamp handle (shared with the engine).
    pub fn with_record_context(mut self, record_context: RecordContext) -> Self {
        self.record_context = record_context;
        self
    }

    /// Directory of the RocksDB store called `store_name`.
    pub fn rocksdb_dir(&self, store_name: &str) -> PathBuf {
        self.state_dir.join(ROCKSDB_DIR_NAME).join(store_name)
    }
}

impl fmt::Debug for StoreContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoreContext")
            .field("state_dir", &self.state_dir)
            .field("budget", &self.budget)
            .field("changelog", &self.changelog.is_some())
            .field("record_context", &self.record_context)
            .finish()
    }
}

/// Describes a store; [`build`](Self::build) creates one instance per task.
///
/// Defaults: RocksDB backend, changelogging on, caching off.
///
/// Layers, outermost first: caching (key-value stores only) -> changelogging
/// -> the store on its backend.
#[derive(Clone)]
pub struct StoreBuilder {
    name: String,
    kind: StoreKind,
    backend: BackendKind,
    logging: bool,
    cache_max_bytes: Option<usize>,
    timestamped: bool,
    rocksdb_options: Option<RocksDbOptionsHook>,
}

impl StoreBuilder {
    fn new(name: impl Into<String>, kind: StoreKind) -> Self {
        Self {
            name: name.into(),
            kind,
            backend: BackendKind::RocksDb,
            logging: true,
            cache_max_bytes: None,
            timestamped: false,
            rocksdb_options: None,
        }
    }

    /// A key-value store called `name`.
    pub fn key_value(name: impl Into<String>) -> Self {
        Self::new(name, StoreKind::KeyValue)
    }

    /// A window store called `name`.
    pub fn window(
        name: impl Into<String>,
        retention: Retention,
        window_size_ms: i64,
        retain_duplicates: bool,
    ) -> Self {
        let kind = StoreKind::Window {
            retention,
            window_size_ms,
            retain_duplicates,
        };
        Self::new(name, kind)
    }

    /// A session store called `name`.
    pub fn session(name: impl Into<String>, retention: Retention) -> Self {
        Self::new(name, StoreKind::Session { retention })
    }

    /// Keeps the store in `backend`.
    pub fn backend(mut self, backend: BackendKind) -> Self {
        self.backend = backend;
        self
    }

    /// Turns changelogging on or off.
    pub fn logging(mut self, enabled: bool) -> Self {
        self.logging = enabled;
        self
    }

    /// Puts a write cache of at most `max_bytes` in front of the store
    /// (key-value stores only); 0 writes through at once but still invokes
    /// the flush listener per write.
    pub fn caching(mut self, max_bytes: usize) -> Self {
        self.cache_max_bytes = Some(max_bytes);
        self
    }

    /// Says whether the store's values lead with the timestamp of a
    /// [`ValueAndTimestamp`](crate::ValueAndTimestamp) (key-value and
    /// window stores; a timestamped session store fails to build). A
    /// timestamped store logs each value without it, stamping the
    /// changelog record with it instead, and puts it back in front when
    /// restoring: the changelog Kafka's timestamped stores write.
    pub fn timestamped(mut self, timestamped: bool) -> Self {
        self.timestamped = timestamped;
        self
    }

    /// Lets `hook` adjust the RocksDB options after the budget was applied.
    pub fn rocksdb_options(
        mut self,
        hook: impl Fn(&mut rocksdb::Options) + Send + Sync + 'static,
    ) -> Self {
        self.rocksdb_options = Some(Arc::new(hook));
        self
    }

    /// The store's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The store's kind and parameters.
    pub fn kind(&self) -> StoreKind {
        self.kind
    }

    /// The backend the store is kept in.
    pub fn backend_kind(&self) -> BackendKind {
        self.backend
    }

    /// Whether changelogging is on.
    pub fn is_logged(&self) -> bool {
        self.logging
    }

    /// The cache size, if caching is on. A window store that retains
    /// duplicates is never cached (each put is its own entry): as Kafka's
    /// `WindowStoreBuilder`, it drops the cache, with a warning.
    pub fn cache_max_bytes(&self) -> Option<usize> {
        let duplicates = matches!(
            self.kind,
            StoreKind::Window {
                retain_duplicates: true,
                ..
            }
        );
        if duplicates && self.cache_max_bytes.is_some() {
            tracing::warn!(
                store = %self.name,
                "caching disabled: the window store retains duplicates"
            );
            return None;
        }
        self.cache_max_bytes
    }

    /// Builds the store for one task. Fails on invalid parameters, if
    /// logging is on but `context` has no changelog sink, or if the backend
    /// cannot be opened.
    pub fn build(&self, context: &StoreContext) -> Result<Store> {
        self.validate(context)?;
        let store = match self.backend {
            BackendKind::InMemory => self.open_on(InMemoryBackend::new(&self.name))?,
            BackendKind::RocksDb => {
                let backend = RocksDbBackend::open(
                    &self.name,
                    &context.rocksdb_dir(&self.name),
                    &context.budget,
                    self.rocksdb_options.as_ref(),
                )?;
                self.open_on(backend)?
            }
        };
        let store = match &context.changelog {
            Some(sink) if self.logging => {
                let writer = ChangelogWriter::new(
                    &self.name,
                    Arc::clone(sink),
                    context.record_context.clone(),
                )
                .timestamped(self.timestamped);
                match store {
                    Store::KeyValue(inner) => {
                        Store::KeyValue(Box::new(LoggingKeyValueStore::new(inner, writer)))
                    }
                    Store::Window(inner) => {
                        Store::Window(Box::new(LoggingWindowStore::new(inner, writer)))
                    }
                    Store::Session(inner) => {
                        Store::Session(Box::new(LoggingSessionStore::new(inner, writer)))
                    }
                }
            }
            _ => store,
        };
        let timestamp = context.record_context.clone();
        Ok(match (store, self.cache_max_bytes(), self.kind) {
            (Store::KeyValue(inner), Some(max_bytes), _) => Store::KeyValue(Box::new(
                CachingKeyValueStore::new(inner, max_bytes, timestamp),
            )),
            (Store::Window(inner), Some(max_bytes), StoreKind::Window { retention, .. }) => {
                Store::Window(Box::new(CachingWindowStore::new(
                    inner, max_bytes, timestamp, retention,
                )?))
            }
            (Store::Session(inner), Some(max_bytes), StoreKind::Session { retention }) => {
                Store::Session(Box::new(CachingSessionStore::new(
                    inner, max_bytes, timestamp, retention,
                )))
            }
            (store, _, _) => store,
        })
    }

    fn validate(&self, context: &StoreContext) -> Result<()> {
        let invalid = |reason: &str| {
            Err(StoreError::InvalidConfig {
                store: self.name.clone(),
                reason: reason.to_owned(),
            })
        };
        if self.name.is_empty() || self.name.contains(['/', '\\']) || self.name.starts_with('.') {
            return invalid(
                "store names must be non-empty, not start with '.' and contain no path separators",
            );
        }
        if self.logging && context.changelog.is_none() {
            return invalid("logging is enabled but the context has no changelog sink");
        }
        if self.timestamped && matches!(self.kind, StoreKind::Session { .. }) {
            // A session's time is its end, in the key: there is no value
            // timestamp to strip for the changelog, nor to put back.
            return invalid("session stores cannot be timestamped");
        }
        if let StoreKind::Window {
            retention,
            window_size_ms,
            ..
        } = self.kind
        {
            if window_size_ms < 0 || window_size_ms > retention.retention_ms() {
                return invalid("window size must be between 0 and the retention period");
            }
        }
        Ok(())
    }

    /// The unlogged, uncached store of this builder's kind on `backend`.
    fn open_on<B: BytesBackend + 'static>(&self, backend: B) -> Result<Store> {
        Ok(match self.kind {
            StoreKind::KeyValue => Store::KeyValue(Box::new(BackedKeyValueStore::new(backend))),
            StoreKind::Window {
                retention,
                retain_duplicates,
                ..
            } => Store::Window(Box::new(SegmentedWindowStore::open(
                backend,
                retention,
                retain_duplicates,
            )?)),
            StoreKind::Session { retention } => {
                Store::Session(Box::new(SegmentedSessionStore::open(backend, retention)?))
            }
        })
    }
}

impl fmt::Debug for StoreBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoreBuilder")
            .field("name", &self.name)
            .field("kind", &self.kind)
            .field("backend", &self.backend)
            .field("logging", &self.logging)
            .field("cache_max_bytes", &self.cache_max_bytes)
            .field("timestamped", &self.timestamped)
            .field("rocksdb_options", &self.rocksdb_options.is_some())
            .finish()
    }
}
