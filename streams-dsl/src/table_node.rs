//! What the DSL knows of a table node while the topology is being built:
//! whether it is materialized and whether it forwards old values.
//!
//! Kafka Streams decides both late: an operator added downstream may ask
//! its parent table to send old values (a table `group_by` must subtract
//! them) or to materialize (a join must look rows up). The processors of a
//! table node are only created when a task starts, after the program is
//! built, so they read these decisions from shared cells then.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

/// Adds a table node's store (of the given name) to the topology.
pub(crate) type Materializer = Box<dyn FnOnce(&str)>;

/// How a table node came about, which decides how it answers
/// [`TableNode::enable_sending_old_values`].
pub(crate) enum TableKind {
    /// A source table (`table`, `to_table`, global tables): materialized
    /// only when named or when a downstream operator needs it.
    Source {
        /// The store name it gets when materialized (Kafka generates it
        /// when the table is created, materialized or not).
        store_name: String,
    },
    /// An aggregation: always materialized, can always send old values.
    Stateful,
    /// Computed from its parent (`filter`, `map_values`): sends old values
    /// if it is materialized or its parent can.
    Derived {
        /// The parent table.
        parent: Rc<TableNode>,
    },
    /// A table-table join's result (Kafka's `KTableKTableJoinMerger`):
    /// its old values are computed from both inputs' rows, so asking for
    /// them materializes both inputs and asks both for old values.
    Joined {
        /// The left input table.
        left: Rc<TableNode>,
        /// The right input table.
        right: Rc<TableNode>,
    },
}

/// The shared state of one table node.
pub(crate) struct TableNode {
    pub(crate) kind: TableKind,
    /// Whether the node's processor forwards old values.
    pub(crate) send_old_values: Arc<AtomicBool>,
    /// The store holding the node's rows, once materialized.
    pub(crate) store: Arc<OnceLock<String>>,
    /// Adds the store to the topology; taken on first materialization.
    materializer: RefCell<Option<Materializer>>,
}

impl TableNode {
    /// A node of `kind`, materialized in `store` already if given, else
    /// materializable later by `materializer` (if any).
    pub(crate) fn new(
        kind: TableKind,
        store: Option<String>,
        materializer: Option<Materializer>,
    ) -> Rc<Self> {
        let cell = OnceLock::new();
        if let Some(store) = store {
            let _ = cell.set(store);
        }
        Rc::new(Self {
            kind,
            send_old_values: Arc::new(AtomicBool::new(false)),
            store: Arc::new(cell),
            materializer: RefCell::new(materializer),
        })
    }

    /// The store holding this node's rows, if it is materialized.
    pub(crate) fn store_name(&self) -> Option<String> {
        self.store.get().cloned()
    }

    /// Materializes the node in `name` (if it is not already and can be),
    /// returning its store name.
    pub(crate) fn materialize_as(&self, name: &str) -> Option<String> {
        if let Some(store) = self.store.get() {
            return Some(store.clone());
        }
        let materializer = self.materializer.borrow_mut().take()?;
        materializer(name);
        let _ = self.store.set(name.to_owned());
        Some(name.to_owned())
    }

    /// Kafka's `KTableImpl.enableSendingOldValues(forceMaterialization)`:
    /// asks this node to forward old values, materializing a source table
    /// only when `force` is set. Returns whether it now does.
    pub(crate) fn enable_sending_old_values(&self, force: bool) -> bool {
        if self.send_old_values.load(Ordering::Relaxed) {
            return true;
        }
        let enabled = match &self.kind {
            TableKind::Source { store_name } => {
                if !force && self.store.get().is_none() {
                    return false;
                }
                self.materialize_as(store_name).is_some()
            }
            TableKind::Stateful => true,
            TableKind::Derived { parent } => {
                self.store.get().is_some() || parent.enable_sending_old_values(force)
            }
            TableKind::Joined { left, right } => {
                left.enable_sending_old_values(true);
                right.enable_sending_old_values(true);
                true
            }
        };
        if enabled {
            self.send_old_values.store(true, Ordering::Relaxed);
        }
        enabled
    }

    /// The flag and store a processor of this node reads when it starts.
    pub(crate) fn processor_view(&self) -> NodeView {
        NodeView {
            send_old_values: self.send_old_values.clone(),
            store: self.store.clone(),
        }
    }
}

/// A table node's decisions as its processors read them at task start.
#[derive(Clone)]
pub(crate) struct NodeView {
    send_old_values: Arc<AtomicBool>,
    store: Arc<OnceLock<String>>,
}

impl NodeView {
    /// Whether to forward old values.
    pub(crate) fn send_old_values(&self) -> bool {
        self.send_old_values.load(Ordering::Relaxed)
    }

    /// The node's store, if materialized.
    pub(crate) fn store(&self) -> Option<&str> {
        self.store.get().map(String::as_str)
    }
}
