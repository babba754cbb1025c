//! The crate's error type.

use std::path::PathBuf;

/// A boxed error raised by code outside this crate (a changelog sink or a
/// cache flush listener) and carried through a store operation.
pub type ExternalError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Everything that can go wrong in a state store operation.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// RocksDB reported an error.
    #[error("RocksDB error in store `{store}`: {source}")]
    RocksDb {
        /// Name of the store.
        store: String,
        /// The RocksDB error.
        #[source]
        source: rocksdb::Error,
    },

    /// A file system operation failed.
    #[error("I/O error on `{path}`: {source}")]
    Io {
        /// The file or directory the operation was about.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },

    /// The store was used after [`StateStore::close`](crate::StateStore::close).
    #[error("store `{0}` is closed")]
    Closed(String),

    /// Bytes read from a store do not follow the store's binary layout.
    #[error("corrupt data in store `{store}`: {reason}")]
    Corrupt {
        /// Name of the store.
        store: String,
        /// What was wrong.
        reason: String,
    },

    /// A changelog record handed to `restore_batch` cannot be decoded.
    #[error("invalid changelog record for store `{store}`: {reason}")]
    InvalidChangelogRecord {
        /// Name of the store.
        store: String,
        /// What was wrong.
        reason: String,
    },

    /// A store was configured with invalid or unsupported parameters.
    #[error("invalid configuration for store `{store}`: {reason}")]
    InvalidConfig {
        /// Name of the store.
        store: String,
        /// What was wrong.
        reason: String,
    },

    /// A persistent store on disk was written with parameters incompatible
    /// with the ones it is opened with (for example another segment interval).
    #[error("store `{store}` on disk is incompatible: {reason}")]
    IncompatibleLayout {
        /// Name of the store.
        store: String,
        /// What differs.
        reason: String,
    },

    /// A flush listener was set on a store that has no caching layer.
    #[error("store `{0}` has no caching layer to attach a flush listener to")]
    NotCached(String),

    /// A retain-duplicates window store ran out of sequence numbers for one
    /// key and window.
    #[error("store `{store}` holds the maximum number of duplicates for one key and window")]
    DuplicatesExhausted {
        /// Name of the store.
        store: String,
    },

    /// A byte string is too short to be a `ValueAndTimestamp`.
    #[error("value of {len} bytes is too short for a ValueAndTimestamp (8-byte timestamp prefix)")]
    MalformedValueAndTimestamp {
        /// Length of the offending byte string.
        len: usize,
    },

    /// The changelog sink rejected a record.
    #[error("changelog sink failed for store `{store}`: {source}")]
    ChangelogSink {
        /// Name of the store.
        store: String,
        /// The sink's error.
        #[source]
        source: ExternalError,
    },

    /// A cache flush listener failed.
    #[error("cache flush listener failed for store `{store}`: {source}")]
    FlushListener {
        /// Name of the store.
        store: String,
        /// The listener's error.
        #[source]
        source: ExternalError,
    },
}

/// The result type of every fallible operation in this crate.
pub type Result<T> = std::result::Result<T, StoreError>;
