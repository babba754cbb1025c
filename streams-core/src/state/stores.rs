//! Store builders: which backend, which serdes, logging and caching.
//!
//! The three builders share one [`BuilderCore`] (name, serdes and the
//! [`StoreOptions`] backend/logging/caching), which builds the byte-level
//! store; each builder only adds its kind's parameters and wraps the
//! result in its typed handle.

use std::collections::BTreeMap;
use std::marker::PhantomData;
use std::time::Duration;

use state_stores::{BackendKind, Retention, Store};

use super::{
    KeyValueStore, SessionStore, StoreBuilder, StoreContext, ValueAndTimestamp,
    ValueAndTimestampSerde, WindowStore,
};
use crate::engine::millis;
use crate::error::StreamsError;
use crate::serde::{DefaultSerde, SharedSerde};
use crate::topology::ChangelogConfig;

/// Where a store keeps its data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreBackend {
    /// An ordered map in memory.
    InMemory,
    /// RocksDB under the task's state directory.
    RocksDb,
}

/// Entry points for store builders, as Kafka Streams' `Stores`.
pub struct Stores;

impl Stores {
    /// A key-value store builder with the default serdes of `K` and `V`,
    /// on RocksDB, with logging on and caching off.
    pub fn key_value_store_builder<K: DefaultSerde, V: DefaultSerde>(
        name: &str,
    ) -> KeyValueStoreBuilder<K, V> {
        Self::key_value_store_builder_with(name, K::default_serde(), V::default_serde())
    }

    /// A key-value store builder with explicit serdes.
    pub fn key_value_store_builder_with<K, V>(
        name: &str,
        key: SharedSerde<K>,
        value: SharedSerde<V>,
    ) -> KeyValueStoreBuilder<K, V> {
        KeyValueStoreBuilder {
            core: BuilderCore::new(name, key, value),
        }
    }

    /// A timestamped key-value store builder (values stored with the
    /// timestamp of their last update) with the default serdes of `K` and
    /// `V`, on RocksDB, with logging on and caching off.
    pub fn timestamped_key_value_store_builder<K: DefaultSerde, V: DefaultSerde>(
        name: &str,
    ) -> TimestampedKeyValueStoreBuilder<K, V> {
        Self::timestamped_key_value_store_builder_with(name, K::default_serde(), V::default_serde())
    }

    /// A timestamped key-value store builder with explicit serdes; `value`
    /// encodes the values without their timestamps.
    pub fn timestamped_key_value_store_builder_with<K, V: 'static>(
        name: &str,
        key: SharedSerde<K>,
        value: SharedSerde<V>,
    ) -> TimestampedKeyValueStoreBuilder<K, V> {
        let value: SharedSerde<ValueAndTimestamp<V>> =
            std::sync::Arc::new(ValueAndTimestampSerde::new(value));
        let mut builder = Self::key_value_store_builder_with(name, key, value);
        builder.core.timestamped = true;
        builder
    }

    /// A window store builder with the default serdes of `K` and `V`, on
    /// RocksDB, with logging on and caching off.
    ///
    /// Windows are `window_size` long and kept for `retention` of stream
    /// time (which must be at least `window_size`); with
    /// `retain_duplicates` every put is kept (join buffers).
    pub fn window_store_builder<K: DefaultSerde, V: DefaultSerde>(
        name: &str,
        retention: Duration,
        window_size: Duration,
        retain_duplicates: bool,
    ) -> WindowStoreBuilder<K, V> {
        Self::window_store_builder_with(
            name,
            retention,
            window_size,
            retain_duplicates,
            K::default_serde(),
            V::default_serde(),
        )
    }

    /// A window store builder with explicit serdes.
    pub fn window_store_builder_with<K, V>(
        name: &str,
        retention: Duration,
        window_size: Duration,
        retain_duplicates: bool,
        key: SharedSerde<K>,
        value: SharedSerde<V>,
    ) -> WindowStoreBuilder<K, V> {
        WindowStoreBuilder {
            core: BuilderCore::new(name, key, value),
            retention,
            window_size,
            retain_duplicates,
            inclusive_retention: false,
        }
    }

    /// A timestamped window store builder (values stored with the timestamp
    /// of their last update) with explicit serdes; `value` encodes the
    /// values without their timestamps. Otherwise as
    /// [`window_store_builder_with`](Self::window_store_builder_with).
    pub fn timestamped_window_store_builder_with<K, V: 'static>(
        name: &str,
        retention: Duration,
        window_size: Duration,
        retain_duplicates: bool,
        key: SharedSerde<K>,
        value: SharedSerde<V>,
    ) -> WindowStoreBuilder<K, ValueAndTimestamp<V>> {
        let value: SharedSerde<ValueAndTimestamp<V>> =
            std::sync::Arc::new(ValueAndTimestampSerde::new(value));
        let mut builder = Self::window_store_builder_with(
            name,
            retention,
            window_size,
            retain_duplicates,
            key,
            value,
        );
        builder.core.timestamped = true;
        builder
    }

    /// A session store builder with the default serdes of `K` and `V`, on
    /// RocksDB, with logging on and caching off; sessions are kept for
    /// `retention` of stream time after they end.
    pub fn session_store_builder<K: DefaultSerde, V: DefaultSerde>(
        name: &str,
        retention: Duration,
    ) -> SessionStoreBuilder<K, V> {
        Self::session_store_builder_with(name, retention, K::default_serde(), V::default_serde())
    }

    /// A session store builder with explicit serdes.
    pub fn session_store_builder_with<K, V>(
        name: &str,
        retention: Duration,
        key: SharedSerde<K>,
        value: SharedSerde<V>,
    ) -> SessionStoreBuilder<K, V> {
        SessionStoreBuilder {
            core: BuilderCore::new(name, key, value),
            retention,
            inclusive_retention: false,
        }
    }
}

/// Backend, logging and caching: the options every store builder shares,
/// and that the DSL's `Materialized` carries to the stores it creates.
///
/// The default is a RocksDB store, logged with its kind's changelog
/// configs and no overrides, uncached.
///
/// ```
/// use streams_core::state::{StoreBackend, StoreOptions};
///
/// let options = StoreOptions::default()
///     .in_memory()
///     .with_logging_enabled([("min.insync.replicas", "2")])
///     .with_caching(1 << 20);
/// assert_eq!(options.backend(), StoreBackend::InMemory);
/// assert_eq!(options.logging()["min.insync.replicas"], "2");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreOptions {
    backend: StoreBackend,
    /// The changelog's topic-config overrides; `None` when logging is off.
    logging: Option<BTreeMap<String, String>>,
    cache_max_bytes: usize,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            backend: StoreBackend::RocksDb,
            logging: Some(BTreeMap::new()),
            cache_max_bytes: 0,
        }
    }
}

impl StoreOptions {
    /// Keeps the store in memory.
    pub fn in_memory(mut self) -> Self {
        self.backend = StoreBackend::InMemory;
        self
    }

    /// Keeps the store in RocksDB (the default).
    pub fn persistent(mut self) -> Self {
        self.backend = StoreBackend::RocksDb;
        self
    }

    /// Writes a changelog (the default), created with `topic_configs` over
    /// the defaults of the store's kind (see
    /// [`ChangelogConfig`](crate::topology::ChangelogConfig)).
    pub fn with_logging_enabled<K: Into<String>, V: Into<String>>(
        mut self,
        topic_configs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        self.logging = Some(
            topic_configs
                .into_iter()
                .map(|(key, value)| (key.into(), value.into()))
                .collect(),
        );
        self
    }

    /// Writes no changelog.
    pub fn with_logging_disabled(mut self) -> Self {
        self.logging = None;
        self
    }

    /// Caches up to `max_bytes` of writes between commits (0 disables).
    /// Every kind of store has a cache layer, except window stores that
    /// retain duplicates (join buffers): with caching, those fail to build
    /// with [`StreamsError::Store`].
    pub fn with_caching(mut self, max_bytes: usize) -> Self {
        self.cache_max_bytes = max_bytes;
        self
    }

    /// Where the store keeps its data.
    pub fn backend(&self) -> StoreBackend {
        self.backend
    }

    /// Whether the store writes a changelog.
    pub fn logging_enabled(&self) -> bool {
        self.logging.is_some()
    }

    /// The changelog's topic-config overrides (empty when logging is off).
    pub fn logging(&self) -> &BTreeMap<String, String> {
        static NONE: BTreeMap<String, String> = BTreeMap::new();
        self.logging.as_ref().unwrap_or(&NONE)
    }

    /// The changelog of a store whose entries expire after `retention`
    /// (`None` for key-value stores), if it logs.
    fn changelog(&self, retention: Option<Duration>) -> Option<ChangelogConfig> {
        let overrides = self.logging.clone()?;
        Some(match retention {
            None => ChangelogConfig::compacted(overrides),
            Some(retention) => ChangelogConfig::windowed(retention, overrides),
        })
    }

    /// Applies the options to `spec` for a task with `context`.
    fn apply(
        &self,
        spec: state_stores::StoreBuilder,
        context: &StoreContext,
    ) -> state_stores::StoreBuilder {
        let backend = match (self.backend, context.state_dir()) {
            (StoreBackend::RocksDb, Some(_)) => BackendKind::RocksDb,
            // Without a state directory (the test driver's default) a
            // persistent store lives in memory; it behaves the same.
            _ => BackendKind::InMemory,
        };
        let spec = spec.backend(backend).logging(self.logging_enabled());
        // A cache layer only when asked for: a 0-byte cache would write
        // through at once, an extra layer for nothing. The byte-level window
        // and session stores have none, and their builder says so.
        if self.cache_max_bytes > 0 {
            spec.caching(self.cache_max_bytes)
        } else {
            spec
        }
    }
}

/// What every builder holds: the store's name, its serdes and options.
struct BuilderCore<K, V> {
    name: String,
    options: StoreOptions,
    key: SharedSerde<K>,
    value: SharedSerde<V>,
    /// Whether values are `ValueAndTimestamp`s, logged as Kafka logs them.
    timestamped: bool,
    _types: PhantomData<fn(K, V)>,
}

impl<K, V> BuilderCore<K, V> {
    fn new(name: &str, key: SharedSerde<K>, value: SharedSerde<V>) -> Self {
        Self {
            name: name.to_owned(),
            options: StoreOptions::default(),
            key,
            value,
            timestamped: false,
            _types: PhantomData,
        }
    }

    fn store_error(&self, source: state_stores::StoreError) -> StreamsError {
        StreamsError::Store {
            store: self.name.clone(),
            source,
        }
    }

    /// The retention of `retention`, keeping the entry exactly at its
    /// boundary if `inclusive` (see [`Retention::inclusive`]).
    fn retention(&self, retention: Duration, inclusive: bool) -> Result<Retention, StreamsError> {
        let retention = Retention::new(millis(retention)).map_err(|e| self.store_error(e))?;
        Ok(if inclusive {
            retention.inclusive()
        } else {
            retention
        })
    }

    /// Builds the byte-level store of `spec` (which carries the kind and
    /// its parameters) with this builder's options.
    fn build_bytes(
        &self,
        spec: state_stores::StoreBuilder,
        context: &StoreContext,
    ) -> Result<Store, StreamsError> {
        self.options
            .apply(spec.timestamped(self.timestamped), context)
            .build(&context.bytes_context())
            .map_err(|e| self.store_error(e))
    }

    /// The byte-level builder answered with a store of another kind than
    /// asked for; it never should, but that is its promise, not ours.
    fn wrong_kind(&self, expected: &str) -> StreamsError {
        StreamsError::StoreAccess {
            processor: "(store builder)".to_owned(),
            store: self.name.clone(),
            reason: format!("the builder did not make a {expected} store"),
        }
    }
}

/// The [`StoreOptions`] setters on every builder (each holds its options
/// in `core.options`).
macro_rules! store_option_setters {
    ($builder:ident) => {
        impl<K, V> $builder<K, V> {
            /// Replaces all of the store's options.
            pub fn with_options(mut self, options: StoreOptions) -> Self {
                self.core.options = options;
                self
            }

            /// See [`StoreOptions::in_memory`].
            pub fn in_memory(self) -> Self {
                self.map_options(StoreOptions::in_memory)
            }

            /// See [`StoreOptions::persistent`].
            pub fn persistent(self) -> Self {
                self.map_options(StoreOptions::persistent)
            }

            /// See [`StoreOptions::with_logging_enabled`].
            pub fn with_logging_enabled<C: Into<String>, D: Into<String>>(
                self,
                topic_configs: impl IntoIterator<Item = (C, D)>,
            ) -> Self {
                self.map_options(|options| options.with_logging_enabled(topic_configs))
            }

            /// See [`StoreOptions::with_logging_disabled`].
            pub fn with_logging_disabled(self) -> Self {
                self.map_options(StoreOptions::with_logging_disabled)
            }

            /// See [`StoreOptions::with_caching`].
            pub fn with_caching(self, max_bytes: usize) -> Self {
                self.map_options(|options| options.with_caching(max_bytes))
            }

            fn map_options(mut self, f: impl FnOnce(StoreOptions) -> StoreOptions) -> Self {
                self.core.options = f(std::mem::take(&mut self.core.options));
                self
            }
        }
    };
}

/// Builds typed key-value stores, one per task.
pub struct KeyValueStoreBuilder<K, V> {
    core: BuilderCore<K, V>,
}

/// Builds typed timestamped key-value stores, one per task.
pub type TimestampedKeyValueStoreBuilder<K, V> = KeyValueStoreBuilder<K, ValueAndTimestamp<V>>;

/// Builds typed window stores, one per task.
pub struct WindowStoreBuilder<K, V> {
    core: BuilderCore<K, V>,
    retention: Duration,
    window_size: Duration,
    retain_duplicates: bool,
    inclusive_retention: bool,
}

/// Builds typed session stores, one per task.
pub struct SessionStoreBuilder<K, V> {
    core: BuilderCore<K, V>,
    retention: Duration,
    inclusive_retention: bool,
}

store_option_setters!(KeyValueStoreBuilder);
store_option_setters!(WindowStoreBuilder);
store_option_setters!(SessionStoreBuilder);

impl<K: 'static, V: 'static> StoreBuilder for KeyValueStoreBuilder<K, V> {
    type Store = KeyValueStore<K, V>;

    fn name(&self) -> &str {
        &self.core.name
    }

    fn changelog(&self) -> Option<ChangelogConfig> {
        self.core.options.changelog(None)
    }

    fn build(&self, context: &StoreContext) -> Result<KeyValueStore<K, V>, StreamsError> {
        let core = &self.core;
        let spec = state_stores::StoreBuilder::key_value(core.name.as_str());
        let Store::KeyValue(store) = core.build_bytes(spec, context)? else {
            return Err(core.wrong_kind("key-value"));
        };
        Ok(KeyValueStore::new(
            store,
            &context.changelog_topic(&core.name),
            core.key.clone(),
            core.value.clone(),
        ))
    }
}

impl<K, V> WindowStoreBuilder<K, V> {
    /// Keeps (and reads) a window whose start is exactly the retention
    /// period behind stream time, as Kafka's time-ordered window stores do
    /// (see [`Retention::inclusive`](state_stores::Retention::inclusive));
    /// the default store, like Kafka's key-ordered ones, has expired it.
    pub fn with_inclusive_retention(mut self) -> Self {
        self.inclusive_retention = true;
        self
    }
}

impl<K: 'static, V: 'static> StoreBuilder for WindowStoreBuilder<K, V> {
    type Store = WindowStore<K, V>;

    fn name(&self) -> &str {
        &self.core.name
    }

    fn changelog(&self) -> Option<ChangelogConfig> {
        self.core.options.changelog(Some(self.retention))
    }

    fn build(&self, context: &StoreContext) -> Result<WindowStore<K, V>, StreamsError> {
        let core = &self.core;
        let window_size_ms = millis(self.window_size);
        let spec = state_stores::StoreBuilder::window(
            core.name.as_str(),
            core.retention(self.retention, self.inclusive_retention)?,
            window_size_ms,
            self.retain_duplicates,
        );
        let Store::Window(store) = core.build_bytes(spec, context)? else {
            return Err(core.wrong_kind("window"));
        };
        Ok(WindowStore::new(
            store,
            &context.changelog_topic(&core.name),
            window_size_ms,
            core.key.clone(),
            core.value.clone(),
        ))
    }
}

impl<K, V> SessionStoreBuilder<K, V> {
    /// Keeps (and reads) a session whose end is exactly the retention
    /// period behind stream time, as Kafka's time-ordered session stores
    /// (which keep whole live segments) do; the default store has expired
    /// it.
    pub fn with_inclusive_retention(mut self) -> Self {
        self.inclusive_retention = true;
        self
    }
}

impl<K: 'static, V: 'static> StoreBuilder for SessionStoreBuilder<K, V> {
    type Store = SessionStore<K, V>;

    fn name(&self) -> &str {
        &self.core.name
    }

    fn changelog(&self) -> Option<ChangelogConfig> {
        self.core.options.changelog(Some(self.retention))
    }

    fn build(&self, context: &StoreContext) -> Result<SessionStore<K, V>, StreamsError> {
        let core = &self.core;
        let spec = state_stores::StoreBuilder::session(
            core.name.as_str(),
            core.retention(self.retention, self.inclusive_retention)?,
        );
        let Store::Session(store) = core.build_bytes(spec, context)? else {
            return Err(core.wrong_kind("session"));
        };
        Ok(SessionStore::new(
            store,
            &context.changelog_topic(&core.name),
            core.key.clone(),
            core.value.clone(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::StoreHandle;

    type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

    fn context() -> StoreContext {
        StoreContext::for_tests(None)
    }

    fn is_invalid_config<T>(result: std::result::Result<T, StreamsError>, name: &str) -> bool {
        matches!(
            result,
            Err(StreamsError::Store {
                store,
                source: state_stores::StoreError::InvalidConfig { .. },
            }) if store == name
        )
    }

    #[test]
    fn builders_share_their_option_defaults_and_setters() {
        let kv = Stores::key_value_store_builder::<String, i64>("kv");
        let window = Stores::window_store_builder::<String, i64>(
            "w",
            Duration::from_secs(60),
            Duration::from_secs(5),
            false,
        );
        let session = Stores::session_store_builder::<String, i64>("s", Duration::from_secs(60));
        assert_eq!(
            kv.changelog(),
            Some(ChangelogConfig::compacted::<&str, &str>([]))
        );
        let retention = Duration::from_secs(60);
        let windowed = Some(ChangelogConfig::windowed::<&str, &str>(retention, []));
        assert_eq!(window.changelog(), windowed);
        assert_eq!(session.changelog(), windowed);
        let kv = kv.with_logging_enabled([("segment.ms", "1000")]);
        assert_eq!(
            kv.changelog(),
            Some(ChangelogConfig::compacted([("segment.ms", "1000")]))
        );
        let window = window.in_memory().with_logging_disabled();
        assert_eq!(window.changelog(), None);
        assert_eq!(window.core.options.backend, StoreBackend::InMemory);
        let session = session.in_memory().persistent().with_caching(0);
        assert_eq!(session.core.options.backend, StoreBackend::RocksDb);
    }

    #[test]
    fn every_kind_builds_its_handle() -> Result {
        let context = context();
        let kv = Stores::key_value_store_builder::<String, i64>("kv")
            .with_caching(1024)
            .build(&context)?;
        kv.put(&"k".to_owned(), &1)?;
        kv.flush()?;
        assert_eq!(kv.get(&"k".to_owned())?, Some(1));

        let timestamped = Stores::timestamped_key_value_store_builder::<String, i64>("ts")
            .in_memory()
            .build(&context)?;
        timestamped.put(&"k".to_owned(), &ValueAndTimestamp::new(2, 50))?;
        assert_eq!(
            timestamped.get(&"k".to_owned())?,
            Some(ValueAndTimestamp::new(2, 50))
        );

        let window = Stores::window_store_builder::<String, i64>(
            "w",
            Duration::from_secs(60),
            Duration::from_secs(5),
            true,
        )
        .build(&context)?;
        assert_eq!(
            (
                window.name(),
                window.window_size_ms(),
                window.retain_duplicates()
            ),
            ("w", 5_000, true)
        );

        let session = Stores::session_store_builder::<String, i64>("s", Duration::from_secs(60))
            .build(&context)?;
        assert_eq!(session.name(), "s");
        session.close()?;
        Ok(())
    }

    #[test]
    fn invalid_parameters_are_typed_errors_at_build() {
        let context = context();
        let too_wide = Stores::window_store_builder::<String, i64>(
            "w",
            Duration::from_millis(10),
            Duration::from_millis(11),
            false,
        );
        assert!(is_invalid_config(too_wide.build(&context), "w"));
        let bad_name = Stores::session_store_builder::<String, i64>("a/b", Duration::ZERO);
        assert!(is_invalid_config(bad_name.build(&context), "a/b"));
    }

    #[test]
    fn every_store_caches_except_join_buffers() -> Result {
        let context = context();
        let window = |retain_duplicates| {
            Stores::window_store_builder::<String, i64>(
                "w",
                Duration::from_secs(60),
                Duration::from_secs(5),
                retain_duplicates,
            )
            .with_caching(1024)
        };
        assert!(window(false)
            .build(&context)?
            .cache_flushes(false)?
            .is_some());
        // A join buffer drops the cache asked for, as in Kafka.
        assert!(window(true)
            .build(&context)?
            .cache_flushes(false)?
            .is_none());
        Stores::session_store_builder::<String, i64>("s", Duration::from_secs(60))
            .with_caching(1024)
            .build(&context)?;
        Ok(())
    }
}
