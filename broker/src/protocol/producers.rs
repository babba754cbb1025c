//! InitProducerId: ids for idempotent and transactional producers.
//!
//! A producer without a transactional id gets a new producer id with epoch
//! 0 on every call, as Kafka's transaction coordinator answers it (a
//! producer that bumps its epoch after an error gets a fresh id instead).
//! One with a transactional id gets that id's producer id at its next
//! epoch, from the transaction coordinator ([`crate::transactions`]).

use kafka_protocol::error::ResponseError;
use kafka_protocol::messages::{InitProducerIdRequest, InitProducerIdResponse, ProducerId};
use tracing::{debug, warn};

use super::transactions::fenced_before;
use super::Context;
use crate::broker::now_ms;

/// Answers InitProducerId.
pub(super) fn init(ctx: &Context<'_>, request: InitProducerIdRequest) -> InitProducerIdResponse {
    let state = ctx.state;
    // The producer's current id and epoch, which it names from v3 on
    // (KIP-360), -1 when it has none; one without the other is refused,
    // as Kafka refuses it.
    let expected = (ctx.version >= 3).then_some((request.producer_id.0, request.producer_epoch));
    if expected.is_some_and(|(id, epoch)| (id >= 0) != (epoch >= 0)) {
        return InitProducerIdResponse::default()
            .with_error_code(ResponseError::InvalidRequest.code())
            .with_producer_id(ProducerId(-1))
            .with_producer_epoch(-1);
    }
    let granted = match request.transactional_id.as_deref() {
        Some(id) => state.transactions.init_producer(
            id.as_str(),
            request.transaction_timeout_ms,
            expected,
            &state.producer_ids,
            state,
            now_ms(),
        ),
        None => state.producer_ids.next().map(|id| (id, 0)).map_err(|e| {
            warn!(error = %e, "cannot reserve producer ids");
            ResponseError::KafkaStorageError
        }),
    };
    match granted {
        Ok((producer_id, epoch)) => {
            debug!(
                producer_id,
                epoch,
                client_id = ctx.client_id,
                "producer initialized"
            );
            InitProducerIdResponse::default()
                .with_producer_id(ProducerId(producer_id))
                .with_producer_epoch(epoch)
        }
        Err(error) => InitProducerIdResponse::default()
            .with_error_code(fenced_before(error, ctx.version, 4))
            .with_producer_id(ProducerId(-1))
            .with_producer_epoch(-1),
    }
}
