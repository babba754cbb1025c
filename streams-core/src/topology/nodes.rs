//! The node that runs a user [`Processor`].

use std::any::Any;
use std::marker::PhantomData;

use crate::engine::{Children, Input, Node, NodeContext, NodeInfo, TaskState};
use crate::error::StreamsError;
use crate::processor::{Processor, ProcessorContext, PunctuatorId};
use crate::record::Record;

/// The record types a processor takes, as a marker.
type ProcessorInput<KIn, VIn> = fn(KIn, VIn);

pub(crate) struct ProcessorNode<P, KIn, VIn, KOut, VOut> {
    pub(crate) info: NodeInfo,
    pub(crate) processor: P,
    pub(crate) children: Children<KOut, VOut>,
    pub(crate) _input: PhantomData<ProcessorInput<KIn, VIn>>,
}

impl<P, KIn, VIn, KOut: Clone, VOut: Clone> ProcessorNode<P, KIn, VIn, KOut, VOut> {
    /// The context the processor runs in, for one call.
    fn context<'a>(
        info: &'a NodeInfo,
        children: &'a Children<KOut, VOut>,
        task: &'a mut TaskState,
    ) -> ProcessorContext<'a, KOut, VOut> {
        ProcessorContext::new(NodeContext::new(task, info, children))
    }
}

impl<P, KIn, VIn, KOut, VOut> Input<KIn, VIn> for ProcessorNode<P, KIn, VIn, KOut, VOut>
where
    P: Processor<KIn, VIn, KOut, VOut>,
    KOut: Clone + 'static,
    VOut: Clone + 'static,
{
    fn process(
        &mut self,
        task: &mut TaskState,
        record: Record<KIn, VIn>,
    ) -> Result<(), StreamsError> {
        self.processor
            .process(&mut Self::context(&self.info, &self.children, task), record)
    }
}

impl<P, KIn, VIn, KOut, VOut> Node for ProcessorNode<P, KIn, VIn, KOut, VOut>
where
    P: Processor<KIn, VIn, KOut, VOut>,
    KOut: Clone + 'static,
    VOut: Clone + 'static,
{
    fn connect(&mut self, child: &str, input: &dyn Any) -> Result<(), StreamsError> {
        self.children.connect(&self.info.name, child, input)
    }

    fn init(&mut self, task: &mut TaskState) -> Result<(), StreamsError> {
        self.processor
            .init(&mut Self::context(&self.info, &self.children, task))
    }

    fn punctuate(
        &mut self,
        task: &mut TaskState,
        punctuator: PunctuatorId,
        timestamp: i64,
    ) -> Result<(), StreamsError> {
        self.processor.punctuate(
            &mut Self::context(&self.info, &self.children, task),
            punctuator,
            timestamp,
        )
    }

    fn flush(&mut self, task: &mut TaskState) -> Result<(), StreamsError> {
        self.processor
            .flush(&mut Self::context(&self.info, &self.children, task))
    }

    fn close(&mut self, task: &mut TaskState) -> Result<(), StreamsError> {
        self.processor
            .close(&mut Self::context(&self.info, &self.children, task))
    }
}
