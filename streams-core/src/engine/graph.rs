//! The node graph of a task and depth-first dispatch through it.
//!
//! Every node is shared (`Rc<RefCell<_>>`) twice over: the graph holds it
//! type-erased, to call its lifecycle hooks ([`Node`]) by index, and each
//! parent holds it typed, as an [`Input`] of the record type the parent
//! forwards. Forwarding a record is therefore one dynamic call with the
//! record moved in: no lookup, no type check, no allocation. Types are
//! checked once, when the task wires each parent to its children (the
//! topology checked them already when it was built).

use std::any::Any;
use std::cell::{RefCell, RefMut};
use std::rc::Rc;

use state_stores::RecordHeaders;

use super::task::TaskState;
use crate::error::{StreamsError, TopologyError};
use crate::processor::PunctuatorId;
use crate::record::{Headers, Record};

/// Index of a node in its task's graph.
pub(crate) type NodeId = usize;

/// A node's place in its task: what it names itself by in errors and logs,
/// and the index its stores and punctuators are registered under.
#[derive(Debug, Clone)]
pub(crate) struct NodeInfo {
    pub(crate) id: NodeId,
    pub(crate) name: String,
}

/// What a node's parents call with each record of type `Record<K, V>`.
pub(crate) trait Input<K, V> {
    fn process(&mut self, task: &mut TaskState, record: Record<K, V>) -> Result<(), StreamsError>;
}

/// A typed, shared handle to a node: how its parents hold it.
pub(crate) type Link<K, V> = Rc<RefCell<dyn Input<K, V>>>;

/// The hooks a task calls on every node, whatever its record types.
/// Sources and sinks only connect (sinks refuse); processors use every hook.
pub(crate) trait Node {
    /// Adds the child `child` after those added before; `input` is its
    /// [`Link`], which must take the record type this node forwards.
    fn connect(&mut self, child: &str, input: &dyn Any) -> Result<(), StreamsError>;
    fn init(&mut self, _task: &mut TaskState) -> Result<(), StreamsError> {
        Ok(())
    }
    fn punctuate(
        &mut self,
        _task: &mut TaskState,
        _punctuator: PunctuatorId,
        _timestamp: i64,
    ) -> Result<(), StreamsError> {
        Ok(())
    }
    fn flush(&mut self, _task: &mut TaskState) -> Result<(), StreamsError> {
        Ok(())
    }
    fn close(&mut self, _task: &mut TaskState) -> Result<(), StreamsError> {
        Ok(())
    }
}

/// A node just made by its factory: its hooks, and its typed input
/// (a [`Link`]) erased until its parents claim it.
pub(crate) struct NodeInstance {
    hooks: Rc<RefCell<dyn Node>>,
    input: Box<dyn Any>,
}

impl NodeInstance {
    /// Shares `node`, which takes `Record<K, V>`, as hooks and as input.
    pub(crate) fn new<K: 'static, V: 'static, N: Node + Input<K, V> + 'static>(node: N) -> Self {
        let node = Rc::new(RefCell::new(node));
        let input: Link<K, V> = node.clone();
        Self {
            hooks: node,
            input: Box::new(input),
        }
    }
}

struct Child<K, V> {
    name: String,
    node: Link<K, V>,
}

/// The children of a node that forwards `Record<K, V>`, in the order they
/// were added: the order Kafka Streams forwards in.
pub(crate) struct Children<K, V>(Vec<Child<K, V>>);

impl<K, V> Default for Children<K, V> {
    fn default() -> Self {
        Self(Vec::new())
    }
}

impl<K: 'static, V: 'static> Children<K, V> {
    /// Adds `child` of `parent`; `input` must be the child's `Link<K, V>`.
    pub(crate) fn connect(
        &mut self,
        parent: &str,
        child: &str,
        input: &dyn Any,
    ) -> Result<(), StreamsError> {
        let node = input.downcast_ref::<Link<K, V>>().ok_or_else(|| {
            StreamsError::from(TopologyError::TypeMismatch {
                parent: parent.to_owned(),
                child: child.to_owned(),
                expected: std::any::type_name::<Record<K, V>>(),
                actual: "another record type",
            })
        })?;
        self.0.push(Child {
            name: child.to_owned(),
            node: node.clone(),
        });
        Ok(())
    }
}

impl<K: Clone, V: Clone> Children<K, V> {
    /// Sends `record` to every child: a clone to all but the last, which
    /// gets the record itself.
    fn forward(&self, task: &mut TaskState, record: Record<K, V>) -> Result<(), StreamsError> {
        let previous = enter(task, &record);
        if previous.is_nothing() {
            // Down a chain the context mostly is the record's already:
            // nothing to put back, so the children's result is returned as
            // it is, not held (and copied) across a `leave`.
            return self.dispatch(task, record);
        }
        let result = self.dispatch(task, record);
        leave(task, previous);
        result
    }

    #[inline(always)]
    fn dispatch(&self, task: &mut TaskState, record: Record<K, V>) -> Result<(), StreamsError> {
        match self.0.as_slice() {
            [] => Ok(()),
            // Most nodes have one child: hand the record straight on.
            [only] => only.process(task, record),
            [rest @ .., last] => rest
                .iter()
                .try_for_each(|child| child.process(task, record.clone()))
                .and_then(|()| last.process(task, record)),
        }
    }

    /// Sends `record` to the child named `child` only.
    fn forward_to(
        &self,
        task: &mut TaskState,
        parent: &str,
        child: &str,
        record: Record<K, V>,
    ) -> Result<(), StreamsError> {
        let target =
            self.0
                .iter()
                .find(|c| c.name == child)
                .ok_or_else(|| StreamsError::UnknownChild {
                    processor: parent.to_owned(),
                    child: child.to_owned(),
                })?;
        let previous = enter(task, &record);
        let result = target.process(task, record);
        leave(task, previous);
        result
    }
}

impl<K, V> Child<K, V> {
    fn process(&self, task: &mut TaskState, record: Record<K, V>) -> Result<(), StreamsError> {
        call(&self.node, &self.name, task, record)
    }
}

/// Hands `record` to `node`, named `name`. The topology is acyclic, so a
/// node already running further up the stack means a cycle slipped in.
#[inline]
pub(crate) fn call<K, V>(
    node: &Link<K, V>,
    name: &str,
    task: &mut TaskState,
    record: Record<K, V>,
) -> Result<(), StreamsError> {
    let mut node = node
        .try_borrow_mut()
        .map_err(|_| TopologyError::Cycle(name.to_owned()))?;
    node.process(task, record)
}

/// The record context a forward replaced, for [`leave`] to put back.
struct Replaced {
    timestamp: Option<i64>,
    headers: Option<Option<RecordHeaders>>,
}

impl Replaced {
    /// Whether the forward left the context as it was.
    #[inline]
    fn is_nothing(&self) -> bool {
        self.timestamp.is_none() && self.headers.is_none()
    }
}

/// Makes the forwarded record's timestamp and headers the task's current
/// record context while the record travels down, so that stores below
/// stamp their changelog writes with the timestamp of the record that
/// reached them, and caches keep its headers (as Kafka Streams' forward
/// updates the record context). Records without headers, the common case,
/// leave an empty context's headers alone.
#[inline]
fn enter<K, V>(task: &mut TaskState, record: &Record<K, V>) -> Replaced {
    let context = &task.record_context;
    let previous = context.timestamp();
    let timestamp = (previous != record.timestamp).then(|| {
        context.set_timestamp(record.timestamp);
        previous
    });
    let headers = if record.headers.is_empty() {
        context.has_headers().then(|| context.replace_headers(None))
    } else if context
        .headers()
        .is_some_and(|current| current.downcast_ref::<Headers>() == Some(&record.headers))
    {
        // Carried on unchanged (the common case down a chain): no copy.
        None
    } else {
        Some(context.replace_headers(Some(RecordHeaders::new(record.headers.clone()))))
    };
    Replaced { timestamp, headers }
}

#[inline]
fn leave(task: &mut TaskState, replaced: Replaced) {
    if let Some(timestamp) = replaced.timestamp {
        task.record_context.set_timestamp(timestamp);
    }
    if let Some(headers) = replaced.headers {
        task.record_context.replace_headers(headers);
    }
}

struct GraphNode {
    name: String,
    hooks: Rc<RefCell<dyn Node>>,
    input: Box<dyn Any>,
}

/// The nodes of one task.
pub(crate) struct Graph {
    nodes: Vec<GraphNode>,
}

impl Graph {
    pub(crate) fn new() -> Self {
        Self { nodes: Vec::new() }
    }

    /// Adds the node `make` creates, telling it its place.
    pub(crate) fn add(
        &mut self,
        name: String,
        make: impl FnOnce(NodeInfo) -> NodeInstance,
    ) -> NodeId {
        let id = self.nodes.len();
        let NodeInstance { hooks, input } = make(NodeInfo {
            id,
            name: name.clone(),
        });
        self.nodes.push(GraphNode { name, hooks, input });
        id
    }

    /// Makes `child` the next child of `parent`.
    pub(crate) fn connect(&self, parent: NodeId, child: NodeId) -> Result<(), StreamsError> {
        let child = &self.nodes[child];
        self.hooks(parent)?.connect(&child.name, &*child.input)
    }

    /// The typed input of `node`, which must take `Record<K, V>`.
    pub(crate) fn input<K: 'static, V: 'static>(
        &self,
        node: NodeId,
    ) -> Result<Link<K, V>, StreamsError> {
        let node = &self.nodes[node];
        node.input
            .downcast_ref::<Link<K, V>>()
            .cloned()
            .ok_or_else(|| {
                TopologyError::TypeMismatch {
                    parent: "(input)".to_owned(),
                    child: node.name.clone(),
                    expected: std::any::type_name::<Record<K, V>>(),
                    actual: "another record type",
                }
                .into()
            })
    }

    pub(crate) fn len(&self) -> usize {
        self.nodes.len()
    }

    pub(crate) fn name(&self, node: NodeId) -> &str {
        &self.nodes[node].name
    }

    fn hooks(&self, node: NodeId) -> Result<RefMut<'_, dyn Node + 'static>, StreamsError> {
        self.nodes[node]
            .hooks
            .try_borrow_mut()
            .map_err(|_| TopologyError::Cycle(self.nodes[node].name.clone()).into())
    }

    pub(crate) fn init(&self, task: &mut TaskState, node: NodeId) -> Result<(), StreamsError> {
        self.hooks(node)?.init(task)
    }

    pub(crate) fn punctuate(
        &self,
        task: &mut TaskState,
        node: NodeId,
        punctuator: PunctuatorId,
        timestamp: i64,
    ) -> Result<(), StreamsError> {
        self.hooks(node)?.punctuate(task, punctuator, timestamp)
    }

    pub(crate) fn flush(&self, task: &mut TaskState, node: NodeId) -> Result<(), StreamsError> {
        self.hooks(node)?.flush(task)
    }

    pub(crate) fn close(&self, task: &mut TaskState, node: NodeId) -> Result<(), StreamsError> {
        self.hooks(node)?.close(task)
    }
}

/// What a node sees while it runs: the task's state, its own place, and
/// the children it forwards `Record<K, V>` to.
pub(crate) struct NodeContext<'a, K, V> {
    pub(crate) task: &'a mut TaskState,
    info: &'a NodeInfo,
    children: &'a Children<K, V>,
}

impl<'a, K, V> NodeContext<'a, K, V> {
    pub(crate) fn new(
        task: &'a mut TaskState,
        info: &'a NodeInfo,
        children: &'a Children<K, V>,
    ) -> Self {
        Self {
            task,
            info,
            children,
        }
    }

    pub(crate) fn name(&self) -> &str {
        &self.info.name
    }

    pub(crate) fn node_id(&self) -> NodeId {
        self.info.id
    }
}

impl<K: Clone, V: Clone> NodeContext<'_, K, V> {
    /// Sends `record` to every child, in the order they were added.
    pub(crate) fn forward(&mut self, record: Record<K, V>) -> Result<(), StreamsError> {
        self.children.forward(self.task, record)
    }

    /// Sends `record` to the child named `child` only.
    pub(crate) fn forward_to(
        &mut self,
        child: &str,
        record: Record<K, V>,
    ) -> Result<(), StreamsError> {
        self.children
            .forward_to(self.task, &self.info.name, child, record)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Takes;

    impl Input<String, i64> for Takes {
        fn process(
            &mut self,
            _task: &mut TaskState,
            _record: Record<String, i64>,
        ) -> Result<(), StreamsError> {
            Ok(())
        }
    }

    #[test]
    fn wiring_checks_that_a_child_takes_what_its_parent_forwards() {
        let link: Link<String, i64> = Rc::new(RefCell::new(Takes));
        let mut matching = Children::<String, i64>::default();
        assert!(matching.connect("parent", "child", &link).is_ok());
        assert_eq!(matching.0.len(), 1);

        let mut other = Children::<String, String>::default();
        let error = other.connect("parent", "child", &link).err();
        assert!(
            matches!(
                error,
                Some(StreamsError::Topology(TopologyError::TypeMismatch { ref parent, ref child, .. }))
                    if parent == "parent" && child == "child"
            ),
            "{error:?}"
        );
        assert!(other.0.is_empty());
    }
}
