//! InitProducerId: ids for idempotent producers.
//!
//! A producer without a transactional id gets a new producer id with epoch
//! 0 on every call, as Kafka's transaction coordinator answers it (a
//! producer that bumps its epoch after an error gets a fresh id instead).
//! Transactions are not served: FindCoordinator finds no transaction
//! coordinator, and a transactional id is answered the same way here.

use kafka_protocol::error::ResponseError;
use kafka_protocol::messages::{InitProducerIdRequest, InitProducerIdResponse, ProducerId};
use tracing::{debug, warn};

use super::Context;

pub(super) fn init(ctx: &Context<'_>, request: InitProducerIdRequest) -> InitProducerIdResponse {
    let refused = |error: ResponseError| {
        InitProducerIdResponse::default()
            .with_error_code(error.code())
            .with_producer_id(ProducerId(-1))
            .with_producer_epoch(-1)
    };
    match request.transactional_id.as_deref().map(|id| id.as_str()) {
        None => {}
        // Kafka's coordinator refuses an empty id as the producer does.
        Some("") => return refused(ResponseError::InvalidRequest),
        Some(transactional_id) => {
            debug!(transactional_id, "transactions are not served");
            return refused(ResponseError::CoordinatorNotAvailable);
        }
    }
    match ctx.state.producer_ids.next() {
        Ok(id) => {
            debug!(
                producer_id = id,
                client_id = ctx.client_id,
                "new idempotent producer"
            );
            InitProducerIdResponse::default()
                .with_producer_id(ProducerId(id))
                .with_producer_epoch(0)
        }
        Err(e) => {
            warn!(error = %e, "cannot reserve producer ids");
            refused(ResponseError::KafkaStorageError)
        }
    }
}
