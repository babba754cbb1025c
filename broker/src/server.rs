//! Connection handling: accepting clients, framing requests and responses.
//!
//! Each connection is served by its own task, one request at a time and in
//! order, as Kafka clients expect. A request that cannot be read or decoded
//! closes only its own connection.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use tokio::io::{AsyncReadExt, AsyncWriteExt, BufReader, BufWriter};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tracing::{debug, info_span, warn, Instrument};

use crate::broker::State;
use crate::protocol::{self, RequestError};

const IO_BUFFER: usize = 64 * 1024;

/// Accepts connections until shutdown, then closes them all.
pub(crate) async fn serve(
    listener: TcpListener,
    state: Arc<State>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            _ = shutdown.changed() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    let span = info_span!("connection", %peer);
                    connections.spawn(connection(stream, peer, Arc::clone(&state)).instrument(span));
                }
                Err(e) => {
                    // Usually out of file descriptors: back off instead of spinning.
                    warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    connections.shutdown().await;
}

async fn connection(stream: TcpStream, peer: SocketAddr, state: Arc<State>) {
    if let Err(e) = stream.set_nodelay(true) {
        debug!(error = %e, "cannot disable Nagle's algorithm");
    }
    debug!("client connected");
    let (read, write) = stream.into_split();
    let mut reader = BufReader::with_capacity(IO_BUFFER, read);
    let mut writer = BufWriter::with_capacity(IO_BUFFER, write);
    let client_host = format!("/{}", peer.ip());
    loop {
        let frame = match read_frame(&mut reader, state.config.max_request_bytes).await {
            Ok(Some(frame)) => frame,
            Ok(None) => break,
            Err(e) => {
                warn!(error = %e, "closing connection: unreadable request");
                break;
            }
        };
        let response = match protocol::handle(&state, &client_host, frame.freeze()).await {
            Ok(response) => response,
            Err(e) => {
                warn!(error = %e, "closing connection: bad request");
                break;
            }
        };
        let written = async {
            if let Some(response) = response {
                writer.write_all(&response).await?;
            }
            // Flushed at once: the next request may be a fetch that waits,
            // and this response must not wait with it.
            writer.flush().await?;
            std::io::Result::Ok(())
        };
        if let Err(e) = written.await {
            debug!(error = %e, "client went away");
            break;
        }
    }
    debug!("client disconnected");
}

/// Reads one size-prefixed frame; `None` on a clean end of stream.
async fn read_frame<R: AsyncReadExt + Unpin>(
    reader: &mut R,
    max: usize,
) -> Result<Option<BytesMut>, RequestError> {
    let mut size = [0; 4];
    match reader.read_exact(&mut size).await {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(RequestError::Io(e)),
    }
    let size = i32::from_be_bytes(size);
    let size = usize::try_from(size)
        .ok()
        .filter(|&s| s <= max)
        .ok_or(RequestError::FrameSize(size))?;
    let mut frame = BytesMut::zeroed(size);
    reader
        .read_exact(&mut frame)
        .await
        .map_err(RequestError::Io)?;
    Ok(Some(frame))
}
