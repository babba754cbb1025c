//! Test fixtures that start a Kafka broker for the duration of a test.
//!
//! * [`KafkaFixture::embedded`] runs the bundled [`streams_broker`] in-process
//!   on an ephemeral loopback port with a temporary data directory. It needs
//!   nothing installed and starts in milliseconds.
//! * [`KafkaFixture::docker`] runs real Apache Kafka (`apache/kafka`) with
//!   `docker run`, for checking behaviour against the reference broker. It
//!   returns [`FixtureError::DockerUnavailable`] where Docker is missing, so
//!   tests can skip gracefully.
//!
//! Either way the fixture stops its broker when dropped.
//!
//! ```
//! use streams_testcontainers::KafkaFixture;
//!
//! let kafka = KafkaFixture::embedded()?;
//! println!("bootstrap.servers={}", kafka.bootstrap_servers());
//! # Ok::<(), streams_testcontainers::FixtureError>(())
//! ```

use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use streams_broker::{Broker, BrokerConfig, BrokerError};
use tracing::{info, warn};

/// The image [`KafkaFixture::docker`] runs.
pub const KAFKA_IMAGE: &str = "apache/kafka:3.9.0";

/// How long a Docker broker may take to accept connections.
const DOCKER_START_TIMEOUT: Duration = Duration::from_secs(60);

/// Why a fixture could not start.
#[derive(Debug, thiserror::Error)]
pub enum FixtureError {
    /// The embedded broker failed to start.
    #[error("embedded broker: {0}")]
    Broker(#[from] BrokerError),
    /// A temporary directory or runtime could not be created.
    #[error("fixture setup: {0}")]
    Io(#[from] std::io::Error),
    /// No usable `docker` command: not installed, or its daemon is not running.
    #[error("docker unavailable: {0}")]
    DockerUnavailable(String),
    /// Docker ran but the Kafka container did not come up.
    #[error("kafka container failed: {0}")]
    Container(String),
}

/// What runs the broker, and how to stop it.
enum Backend {
    Embedded {
        /// Dropped before the runtime, so the broker stops first.
        broker: Option<Broker>,
        runtime: tokio::runtime::Runtime,
        _data_dir: tempfile::TempDir,
    },
    Docker {
        container_id: String,
    },
}

/// A running broker for a test; stops it on drop.
pub struct KafkaFixture {
    bootstrap_servers: String,
    backend: Backend,
}

impl std::fmt::Debug for KafkaFixture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self.backend {
            Backend::Embedded { .. } => "embedded",
            Backend::Docker { .. } => "docker",
        };
        f.debug_struct("KafkaFixture")
            .field("bootstrap_servers", &self.bootstrap_servers)
            .field("backend", &kind)
            .finish()
    }
}

impl KafkaFixture {
    /// Starts the bundled broker in-process, on its own small runtime, with
    /// a temporary data directory removed on drop.
    pub fn embedded() -> Result<Self, FixtureError> {
        Self::embedded_with(|config| config)
    }

    /// Like [`embedded`](Self::embedded), letting the caller adjust the
    /// configuration (the data directory is already set).
    pub fn embedded_with(
        configure: impl FnOnce(BrokerConfig) -> BrokerConfig,
    ) -> Result<Self, FixtureError> {
        let data_dir = tempfile::tempdir()?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("kafka-fixture")
            .enable_all()
            .build()?;
        let broker =
            runtime.block_on(Broker::start(configure(BrokerConfig::new(data_dir.path()))))?;
        Ok(Self {
            bootstrap_servers: broker.bootstrap_servers(),
            backend: Backend::Embedded {
                broker: Some(broker),
                runtime,
                _data_dir: data_dir,
            },
        })
    }

    /// Starts Apache Kafka ([`KAFKA_IMAGE`]) in Docker on a free loopback
    /// port and waits until it accepts connections.
    pub fn docker() -> Result<Self, FixtureError> {
        docker_available()?;
        let port = free_port()?;
        let listeners = format!("PLAINTEXT://127.0.0.1:{port}");
        let output = Command::new("docker")
            .args(["run", "-d", "--rm", "-p"])
            .arg(format!("127.0.0.1:{port}:9092"))
            .arg("-e")
            .arg(format!("KAFKA_ADVERTISED_LISTENERS={listeners}"))
            .arg(KAFKA_IMAGE)
            .output()
            .map_err(|e| FixtureError::DockerUnavailable(e.to_string()))?;
        if !output.status.success() {
            return Err(FixtureError::Container(
                String::from_utf8_lossy(&output.stderr).trim().to_owned(),
            ));
        }
        let container_id = String::from_utf8_lossy(&output.stdout).trim().to_owned();
        let fixture = Self {
            bootstrap_servers: format!("127.0.0.1:{port}"),
            backend: Backend::Docker { container_id },
        };
        let deadline = Instant::now() + DOCKER_START_TIMEOUT;
        while std::net::TcpStream::connect(&fixture.bootstrap_servers).is_err() {
            if Instant::now() > deadline {
                return Err(FixtureError::Container(
                    "Kafka did not accept connections in time".to_owned(),
                ));
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        info!(bootstrap = %fixture.bootstrap_servers, "kafka container started");
        Ok(fixture)
    }

    /// The `host:port` for `bootstrap.servers`.
    pub fn bootstrap_servers(&self) -> &str {
        &self.bootstrap_servers
    }
}

impl Drop for KafkaFixture {
    fn drop(&mut self) {
        match &mut self.backend {
            Backend::Embedded {
                broker, runtime, ..
            } => {
                if let Some(broker) = broker.take() {
                    if let Err(e) = runtime.block_on(broker.shutdown()) {
                        warn!(error = %e, "embedded broker did not shut down cleanly");
                    }
                }
            }
            Backend::Docker { container_id } => {
                let stopped = Command::new("docker")
                    .args(["rm", "-f", container_id.as_str()])
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .status();
                if !stopped.is_ok_and(|s| s.success()) {
                    warn!(container = %container_id, "could not remove kafka container");
                }
            }
        }
    }
}

/// Checks that the `docker` command exists and reaches a daemon.
fn docker_available() -> Result<(), FixtureError> {
    let output = Command::new("docker")
        .args(["info", "--format", "{{.ServerVersion}}"])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| FixtureError::DockerUnavailable(format!("cannot run docker: {e}")))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(FixtureError::DockerUnavailable(
            String::from_utf8_lossy(&output.stderr).trim().to_owned(),
        ))
    }
}

/// A loopback port nobody listens on right now.
fn free_port() -> Result<u16, FixtureError> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_broker_accepts_connections_until_dropped() {
        let fixture = KafkaFixture::embedded().expect("embedded broker");
        let addr = fixture.bootstrap_servers().to_owned();
        assert!(addr.starts_with("127.0.0.1:"));
        std::net::TcpStream::connect(&addr).expect("accepts connections");
        drop(fixture);
        assert!(
            std::net::TcpStream::connect(&addr).is_err(),
            "stopped on drop"
        );
    }

    #[test]
    fn docker_starts_kafka_or_reports_that_it_is_unavailable() {
        match KafkaFixture::docker() {
            Ok(fixture) => {
                std::net::TcpStream::connect(fixture.bootstrap_servers())
                    .expect("kafka accepts connections");
            }
            Err(FixtureError::DockerUnavailable(reason)) => {
                eprintln!("docker unavailable, as allowed here: {reason}");
            }
            Err(other) => panic!("unexpected error: {other}"),
        }
    }
}
