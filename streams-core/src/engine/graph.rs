//! The node graph of a task and depth-first dispatch through it.
//!
//! Nodes are type-erased ([`Node`]) so one graph holds processors of any key
//! and value types. A record travels as `&mut Option<Record<K, V>>` viewed as
//! `&mut dyn Any`: the receiving node downcasts and takes it, so forwarding
//! allocates nothing. The topology checked at build time that every parent
//! forwards the type its children take.

use std::any::Any;
use std::cell::RefCell;

use super::task::TaskState;
use crate::error::{StreamsError, TopologyError};
use crate::processor::PunctuatorId;
use crate::record::Record;

/// Index of a node in its task's graph.
pub(crate) type NodeId = usize;

/// A node of a running task: a source, a processor or a sink.
/// Sources and sinks only process; processors use every hook.
pub(crate) trait Node {
    fn init(&mut self, _ctx: NodeContext<'_>) -> Result<(), StreamsError> {
        Ok(())
    }
    fn process(&mut self, ctx: NodeContext<'_>, record: &mut dyn Any) -> Result<(), StreamsError>;
    fn punctuate(
        &mut self,
        _ctx: NodeContext<'_>,
        _punctuator: PunctuatorId,
        _timestamp: i64,
    ) -> Result<(), StreamsError> {
        Ok(())
    }
    fn flush(&mut self, _ctx: NodeContext<'_>) -> Result<(), StreamsError> {
        Ok(())
    }
    fn close(&mut self, _ctx: NodeContext<'_>) -> Result<(), StreamsError> {
        Ok(())
    }
}

struct GraphNode {
    name: String,
    children: Vec<NodeId>,
    body: RefCell<Box<dyn Node>>,
}

/// The nodes of one task, with their child links.
pub(crate) struct Graph {
    nodes: Vec<GraphNode>,
}

impl Graph {
    pub(crate) fn new() -> Self {
        Self { nodes: Vec::new() }
    }

    pub(crate) fn add(&mut self, name: String, body: Box<dyn Node>) -> NodeId {
        self.nodes.push(GraphNode {
            name,
            children: Vec::new(),
            body: RefCell::new(body),
        });
        self.nodes.len() - 1
    }

    pub(crate) fn connect(&mut self, parent: NodeId, child: NodeId) {
        self.nodes[parent].children.push(child);
    }

    pub(crate) fn len(&self) -> usize {
        self.nodes.len()
    }

    pub(crate) fn name(&self, node: NodeId) -> &str {
        &self.nodes[node].name
    }

    fn body(&self, node: NodeId) -> Result<std::cell::RefMut<'_, Box<dyn Node>>, StreamsError> {
        self.nodes[node]
            .body
            .try_borrow_mut()
            .map_err(|_| TopologyError::Cycle(self.nodes[node].name.clone()).into())
    }

    pub(crate) fn dispatch(
        &self,
        task: &mut TaskState,
        node: NodeId,
        record: &mut dyn Any,
    ) -> Result<(), StreamsError> {
        let mut body = self.body(node)?;
        body.process(
            NodeContext {
                task,
                graph: self,
                node,
            },
            record,
        )
    }

    pub(crate) fn init(&self, task: &mut TaskState, node: NodeId) -> Result<(), StreamsError> {
        self.body(node)?.init(NodeContext {
            task,
            graph: self,
            node,
        })
    }

    pub(crate) fn punctuate(
        &self,
        task: &mut TaskState,
        node: NodeId,
        punctuator: PunctuatorId,
        timestamp: i64,
    ) -> Result<(), StreamsError> {
        self.body(node)?.punctuate(
            NodeContext {
                task,
                graph: self,
                node,
            },
            punctuator,
            timestamp,
        )
    }

    pub(crate) fn flush(&self, task: &mut TaskState, node: NodeId) -> Result<(), StreamsError> {
        self.body(node)?.flush(NodeContext {
            task,
            graph: self,
            node,
        })
    }

    pub(crate) fn close(&self, task: &mut TaskState, node: NodeId) -> Result<(), StreamsError> {
        self.body(node)?.close(NodeContext {
            task,
            graph: self,
            node,
        })
    }
}

/// What a node sees while it runs: the task's state and its place in the graph.
pub(crate) struct NodeContext<'a> {
    pub(crate) task: &'a mut TaskState,
    graph: &'a Graph,
    node: NodeId,
}

impl NodeContext<'_> {
    pub(crate) fn name(&self) -> &str {
        self.graph.name(self.node)
    }

    pub(crate) fn node_id(&self) -> NodeId {
        self.node
    }

    /// Sends `record` to every child: a clone to all but the last, which
    /// gets the record itself.
    pub(crate) fn forward<K: Clone + 'static, V: Clone + 'static>(
        &mut self,
        record: Record<K, V>,
    ) -> Result<(), StreamsError> {
        let graph = self.graph;
        let Some((&last, rest)) = graph.nodes[self.node].children.split_last() else {
            return Ok(());
        };
        let previous = self.enter(record.timestamp);
        let mut result = Ok(());
        for &child in rest {
            result = graph.dispatch(self.task, child, &mut Some(record.clone()));
            if result.is_err() {
                break;
            }
        }
        if result.is_ok() {
            result = graph.dispatch(self.task, last, &mut Some(record));
        }
        self.leave(previous);
        result
    }

    /// Makes `timestamp` - the forwarded record's - the task's current one
    /// while the record travels down, so that stores below stamp their
    /// changelog writes with the timestamp of the record that reached them
    /// (as Kafka Streams' forward updates the record context). Returns the
    /// timestamp for [`leave`](Self::leave) to restore, if it changed.
    fn enter(&mut self, timestamp: i64) -> Option<i64> {
        let previous = self.task.record_timestamp.get();
        (previous != timestamp).then(|| {
            self.task.record_timestamp.set(timestamp);
            previous
        })
    }

    fn leave(&mut self, previous: Option<i64>) {
        if let Some(previous) = previous {
            self.task.record_timestamp.set(previous);
        }
    }

    pub(crate) fn forward_to<K: 'static, V: 'static>(
        &mut self,
        child: &str,
        record: Record<K, V>,
    ) -> Result<(), StreamsError> {
        let graph = self.graph;
        let target = graph.nodes[self.node]
            .children
            .iter()
            .copied()
            .find(|&id| graph.name(id) == child)
            .ok_or_else(|| StreamsError::UnknownChild {
                processor: self.name().to_owned(),
                child: child.to_owned(),
            })?;
        let previous = self.enter(record.timestamp);
        let result = graph.dispatch(self.task, target, &mut Some(record));
        self.leave(previous);
        result
    }
}

/// Takes the record a parent handed over, checking its type.
pub(crate) fn take_record<K: 'static, V: 'static>(
    node: &str,
    slot: &mut dyn Any,
) -> Result<Record<K, V>, StreamsError> {
    slot.downcast_mut::<Option<Record<K, V>>>()
        .and_then(Option::take)
        .ok_or_else(|| {
            TopologyError::TypeMismatch {
                parent: "(parent)".to_owned(),
                child: node.to_owned(),
                expected: std::any::type_name::<Record<K, V>>(),
                actual: "another type",
            }
            .into()
        })
}
