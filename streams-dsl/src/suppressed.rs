//! `Suppressed` and `BufferConfig`: what `KTable::suppress` holds back and
//! for how long (Kafka's KIP-328).

use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use streams_core::serde::SharedSerde;
use streams_core::state::Stores;
use streams_core::Windowed;

use crate::ktable::KTable;
use crate::processors::{suppress_supplier, BufferedChangeSerde, RecordSizer, SuppressSpec};
use crate::row_lookup::RowLookup;
use crate::table_node::{TableKind, TableNode};
use crate::windows::millis;

/// What a suppression does when its buffer is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BufferFull {
    /// Emit the oldest records early.
    EmitEarly,
    /// Stop processing with [`SuppressError::BufferFull`].
    ShutDown,
}

/// Bounds of a suppression buffer (Kafka's `BufferConfig`), emitting early
/// when full unless [`shut_down_when_full`](Self::shut_down_when_full).
///
/// Bytes are counted as Kafka does: buffer time, serialized key, new and
/// old values, and record metadata.
///
/// The buffer is logged to a changelog topic, so that a restarted task
/// holds back what its predecessor held, unless
/// [`with_logging_disabled`](Self::with_logging_disabled).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BufferConfig {
    pub(crate) max_records: u64,
    pub(crate) max_bytes: u64,
    pub(crate) when_full: BufferFull,
    pub(crate) logged: bool,
}

/// A buffer that never emits early: unbounded, or shutting down when full.
/// The only kind [`Suppressed::until_window_closes`] takes, since final
/// results must be final.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StrictBufferConfig(pub(crate) BufferConfig);

impl From<StrictBufferConfig> for BufferConfig {
    fn from(strict: StrictBufferConfig) -> Self {
        strict.0
    }
}

impl StrictBufferConfig {
    /// See [`BufferConfig::with_logging_disabled`].
    pub fn with_logging_disabled(self) -> Self {
        Self(self.0.with_logging_disabled())
    }
}

impl BufferConfig {
    /// A buffer without bounds.
    pub fn unbounded() -> StrictBufferConfig {
        StrictBufferConfig(Self {
            max_records: u64::MAX,
            max_bytes: u64::MAX,
            when_full: BufferFull::ShutDown,
            logged: true,
        })
    }

    /// A buffer of at most `records` keys.
    pub fn max_records(records: u64) -> Self {
        Self {
            max_records: records,
            max_bytes: u64::MAX,
            when_full: BufferFull::EmitEarly,
            logged: true,
        }
    }

    /// A buffer of at most `bytes`.
    pub fn max_bytes(bytes: u64) -> Self {
        Self {
            max_records: u64::MAX,
            max_bytes: bytes,
            when_full: BufferFull::EmitEarly,
            logged: true,
        }
    }

    /// Also bounds the number of keys.
    pub fn with_max_records(self, records: u64) -> Self {
        Self {
            max_records: records,
            ..self
        }
    }

    /// Also bounds the bytes.
    pub fn with_max_bytes(self, bytes: u64) -> Self {
        Self {
            max_bytes: bytes,
            ..self
        }
    }

    /// When full, emits the oldest keys early.
    pub fn emit_early_when_full(self) -> Self {
        Self {
            when_full: BufferFull::EmitEarly,
            ..self
        }
    }

    /// When full, stops processing with [`SuppressError::BufferFull`].
    pub fn shut_down_when_full(self) -> StrictBufferConfig {
        StrictBufferConfig(Self {
            when_full: BufferFull::ShutDown,
            ..self
        })
    }

    /// Keeps the buffer in memory only, without a changelog topic (Kafka's
    /// `withLoggingDisabled`): a restarted task starts with an empty
    /// buffer, and what its predecessor held back is never emitted.
    pub fn with_logging_disabled(self) -> Self {
        Self {
            logged: false,
            ..self
        }
    }

    pub(crate) fn bounds_bytes(&self) -> bool {
        self.max_bytes != u64::MAX
    }
}

/// When a buffered key is due: its window's end, or the timestamp of its
/// first buffered update.
pub(crate) type TimeDefinition<K> = Arc<dyn Fn(&K, i64) -> i64 + Send + Sync>;

/// How long to hold back a table's updates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Until {
    /// Until the key's window closes (end plus the window's grace).
    WindowCloses,
    /// Until this long after the key was first buffered.
    TimeLimit(i64),
}

/// A suppression of a table's intermediate updates (Kafka's `Suppressed`).
pub struct Suppressed<K> {
    pub(crate) until: Until,
    pub(crate) time: TimeDefinition<K>,
    pub(crate) buffer: BufferConfig,
    pub(crate) name: Option<String>,
}

impl<K: 'static> Suppressed<Windowed<K>> {
    /// Emits only the final result of each window, once stream time passes
    /// its end plus grace; deletions of windows are not emitted.
    ///
    /// Stream time advances only with new records, so a window's result
    /// waits for a record past its close.
    pub fn until_window_closes(buffer: StrictBufferConfig) -> Self {
        Self {
            until: Until::WindowCloses,
            time: Arc::new(|key: &Windowed<K>, _| key.window.end),
            buffer: buffer.0,
            name: None,
        }
    }
}

impl<K> Suppressed<K> {
    /// Emits the latest value of each key once stream time reaches `limit`
    /// after its first buffered update (a rate limit).
    pub fn until_time_limit(limit: Duration, buffer: impl Into<BufferConfig>) -> Self {
        Self {
            until: Until::TimeLimit(millis(limit)),
            time: Arc::new(|_: &K, timestamp| timestamp),
            buffer: buffer.into(),
            name: None,
        }
    }

    /// Names the processor; its buffer is named `<name>-store`.
    pub fn with_name(mut self, name: &str) -> Self {
        self.name = Some(name.to_owned());
        self
    }
}

/// Why a suppression cannot be built or cannot go on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SuppressError {
    /// `until_window_closes` on a table that does not come straight from
    /// a windowed aggregation, so no grace period is known.
    #[error(
        "window close time is only defined for windowed computations; \
         `{0}` is not a windowed aggregation"
    )]
    NotWindowed(String),
    /// A byte bound on a table whose serdes are unknown; use
    /// `suppress_with` to give them.
    #[error(
        "a buffer bounded in bytes needs the serdes of table `{0}`; give them with `suppress_with`"
    )]
    UnknownSerdes(String),
    /// A buffer that shuts down when full was full.
    #[error(
        "{processor} buffer exceeded its max capacity. Currently [{records}/{max_records}] \
         records and [{bytes}/{max_bytes}] bytes."
    )]
    BufferFull {
        /// The suppress processor.
        processor: String,
        /// Keys buffered.
        records: u64,
        /// The bound on keys.
        max_records: u64,
        /// Bytes buffered.
        bytes: u64,
        /// The bound on bytes.
        max_bytes: u64,
    },
}

impl<K: Ord + Clone + 'static, V: Clone + 'static> KTable<K, V> {
    /// Holds back updates as `suppressed` says (Kafka's `suppress`): final
    /// results of windows, or at most one update per key and time limit.
    ///
    /// The processor is named `KTABLE-SUPPRESS-<index>` unless named. Its
    /// buffer is kept in memory and mirrored into a logged key-value store
    /// (`KTABLE-SUPPRESS-STATE-STORE-<index>`, or `<name>-store`), from which
    /// a restarted task restores it.
    pub fn suppress(&self, suppressed: Suppressed<K>) -> Result<KTable<K, V>, SuppressError> {
        self.suppress_into(suppressed, self.serdes.both())
    }

    /// [`suppress`](Self::suppress) for a table whose serdes are not known
    /// (byte bounds measure records with them).
    pub fn suppress_with(
        &self,
        suppressed: Suppressed<K>,
        key: SharedSerde<K>,
        value: SharedSerde<V>,
    ) -> Result<KTable<K, V>, SuppressError> {
        self.suppress_into(suppressed, Some((key, value)))
    }

    fn suppress_into(
        &self,
        suppressed: Suppressed<K>,
        serdes: Option<(SharedSerde<K>, SharedSerde<V>)>,
    ) -> Result<KTable<K, V>, SuppressError> {
        let (delay_ms, drop_tombstones) = match suppressed.until {
            Until::WindowCloses => match self.builder.window_close_delay(&self.node) {
                Some(delay) => (delay, true),
                None => return Err(SuppressError::NotWindowed(self.node.clone())),
            },
            Until::TimeLimit(limit) => (limit, false),
        };
        let sizer = match serdes {
            Some((key, value)) => Some(RecordSizer { key, value }),
            None if suppressed.buffer.bounds_bytes() => {
                return Err(SuppressError::UnknownSerdes(self.node.clone()))
            }
            None => None,
        };
        // Unlike most operators, a named suppression consumes no index.
        let name = match &suppressed.name {
            Some(name) => name.clone(),
            None => self.builder.new_name("KTABLE-SUPPRESS-"),
        };
        // Kafka names the buffer `<name>-store` or generates a store name
        // (consuming an index).
        let store_name = match &suppressed.name {
            Some(name) => format!("{name}-store"),
            None => self.builder.new_store_name("KTABLE-SUPPRESS-"),
        };
        // The buffer is mirrored into an in-memory store, logged unless
        // the buffer config says not, when the serdes to write it with are
        // known.
        let store = sizer.as_ref().map(|sizer| {
            let store = Stores::key_value_store_builder_with(
                &store_name,
                sizer.key.clone(),
                Arc::new(BufferedChangeSerde::new(sizer.value.clone())),
            )
            .in_memory();
            if suppressed.buffer.logged {
                store
            } else {
                store.with_logging_disabled()
            }
        });
        // The buffer sizes and logs each update with its old value, and
        // emits it with it; Kafka's suppression asks its parent for old
        // values too.
        self.table.enable_sending_old_values(true);
        let table = TableNode::new(
            TableKind::Derived {
                parent: self.table.clone(),
            },
            None,
            None,
        );
        let supplier = suppress_supplier(SuppressSpec {
            time: suppressed.time,
            delay_ms,
            buffer: suppressed.buffer,
            drop_tombstones,
            store_name: store.as_ref().map(|_| store_name.clone()),
            sizer,
        });
        let has_buffer_store = store.is_some();
        self.builder.with(|topology| {
            topology.add_processor(&name, supplier, &[&self.node]);
            if let Some(store) = store {
                topology.add_state_store(store, &[&name]);
            }
        });
        let suppressed =
            KTable::from_node(self.builder.clone(), name, None, table, self.serdes.clone());
        if !has_buffer_store {
            // Without serdes there is neither a buffer to read nor a way
            // to materialize: a join of this table fails to build.
            return Ok(suppressed);
        }
        // Joined, the suppressed table shows what it emitted, read from
        // the buffer and the parent (Kafka's view of a suppression).
        let parent = self.clone();
        Ok(suppressed.with_view(Rc::new(move || {
            RowLookup::suppressed(store_name.clone(), parent.row_lookup())
        })))
    }
}
