//! The node that runs a user [`Processor`].

use std::any::Any;
use std::marker::PhantomData;

use crate::engine::{take_record, Node, NodeContext};
use crate::error::StreamsError;
use crate::processor::{Processor, ProcessorContext, PunctuatorId};

/// The record types a processor takes and forwards, as a marker.
type ProcessorTypes<KIn, VIn, KOut, VOut> = fn(KIn, VIn) -> (KOut, VOut);

pub(crate) struct ProcessorNode<P, KIn, VIn, KOut, VOut> {
    pub(crate) processor: P,
    pub(crate) _types: PhantomData<ProcessorTypes<KIn, VIn, KOut, VOut>>,
}

impl<P, KIn, VIn, KOut, VOut> Node for ProcessorNode<P, KIn, VIn, KOut, VOut>
where
    P: Processor<KIn, VIn, KOut, VOut>,
    KIn: 'static,
    VIn: 'static,
    KOut: Clone + 'static,
    VOut: Clone + 'static,
{
    fn init(&mut self, ctx: NodeContext<'_>) -> Result<(), StreamsError> {
        self.processor.init(&mut ProcessorContext::new(ctx))
    }

    fn process(&mut self, ctx: NodeContext<'_>, slot: &mut dyn Any) -> Result<(), StreamsError> {
        let record = take_record::<KIn, VIn>(ctx.name(), slot)?;
        self.processor
            .process(&mut ProcessorContext::new(ctx), record)
    }

    fn punctuate(
        &mut self,
        ctx: NodeContext<'_>,
        punctuator: PunctuatorId,
        timestamp: i64,
    ) -> Result<(), StreamsError> {
        self.processor
            .punctuate(&mut ProcessorContext::new(ctx), punctuator, timestamp)
    }

    fn flush(&mut self, ctx: NodeContext<'_>) -> Result<(), StreamsError> {
        self.processor.flush(&mut ProcessorContext::new(ctx))
    }

    fn close(&mut self, ctx: NodeContext<'_>) -> Result<(), StreamsError> {
        self.processor.close(&mut ProcessorContext::new(ctx))
    }
}
