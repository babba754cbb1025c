//! The standalone broker: `streams-broker --listen 127.0.0.1:9092 --data-dir ./data`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use streams_broker::{Broker, BrokerConfig, FlushPolicy};
use tracing_subscriber::EnvFilter;

/// A single-node broker that speaks the Kafka wire protocol.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:9092")]
    listen: SocketAddr,
    /// Host name given to clients, if not the listen address.
    #[arg(long)]
    advertised_host: Option<String>,
    /// Port given to clients, if not the listen port.
    #[arg(long)]
    advertised_port: Option<u16>,
    /// Directory for logs, topic metadata, committed offsets, producer ids
    /// and transactions.
    #[arg(long, default_value = "./broker-data")]
    data_dir: PathBuf,
    /// Partitions of topics created without a count.
    #[arg(long, default_value_t = 1)]
    default_partitions: i32,
    /// Create unknown topics when clients ask for them.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    auto_create_topics: bool,
    /// fsync every produce request instead of at an interval.
    #[arg(long)]
    fsync_every_produce: bool,
    /// Interval between fsyncs, in milliseconds, without --fsync-every-produce.
    #[arg(long, default_value_t = 1000)]
    flush_interval_ms: u64,
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    let mut config = BrokerConfig::new(args.data_dir)
        .with_listen(args.listen)
        .with_default_partitions(args.default_partitions)
        .with_auto_create_topics(args.auto_create_topics)
        .with_flush(if args.fsync_every_produce {
            FlushPolicy::EveryProduce
        } else {
            FlushPolicy::Interval(Duration::from_millis(args.flush_interval_ms.max(1)))
        });
    config.advertised_host = args.advertised_host;
    config.advertised_port = args.advertised_port;
    let broker = match Broker::start(config).await {
        Ok(broker) => broker,
        Err(e) => {
            eprintln!("streams-broker: {e}");
            return ExitCode::FAILURE;
        }
    };
    // Announced on stdout so that scripts (and tests) can wait for it.
    println!("listening on {}", broker.bootstrap_servers());
    if let Err(e) = tokio::signal::ctrl_c().await {
        eprintln!("streams-broker: cannot wait for Ctrl-C: {e}");
    }
    match broker.shutdown().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("streams-broker: {e}");
            ExitCode::FAILURE
        }
    }
}
