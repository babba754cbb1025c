//! Errors returned by the broker's public API.

use std::io;
use std::path::PathBuf;

/// Why the broker could not start, or failed while running.
#[derive(Debug, thiserror::Error)]
pub enum BrokerError {
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address that was asked for.
        addr: std::net::SocketAddr,
        /// The underlying I/O error.
        source: io::Error,
    },
    /// The data directory, or something inside it, could not be read or written.
    #[error("storage error at {path}: {source}")]
    Storage {
        /// The file or directory concerned.
        path: PathBuf,
        /// The underlying I/O error.
        source: io::Error,
    },
    /// A file in the data directory does not have the expected content.
    #[error("corrupt state in {path}: {reason}")]
    Corrupt {
        /// The file concerned.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// A background task of the broker failed.
    #[error("broker task failed: {0}")]
    Task(String),
    /// The configuration is inconsistent.
    #[error("invalid configuration: {0}")]
    Config(String),
}

impl BrokerError {
    /// Wraps an I/O error with the path it concerns.
    pub(crate) fn storage(path: impl Into<PathBuf>, source: io::Error) -> Self {
        Self::Storage {
            path: path.into(),
            source,
        }
    }
}

/// Shorthand for results whose error is a [`BrokerError`].
pub type Result<T, E = BrokerError> = std::result::Result<T, E>;
