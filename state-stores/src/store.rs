//! The closed set of store kinds handed out by [`StoreBuilder`](crate::StoreBuilder).

use crate::changelog::ChangelogRecord;
use crate::error::Result;
use crate::key_value::KeyValueStore;
use crate::session::SessionStore;
use crate::state_store::StateStore;
use crate::window::WindowStore;

/// Evaluates `$call` with `$inner` bound to whichever store `$store` holds
/// (one arm per variant: upcasting to `dyn StateStore` needs Rust 1.86).
macro_rules! each_kind {
    ($store:expr, $inner:ident => $call:expr) => {
        match $store {
            Store::KeyValue($inner) => $call,
            Store::Window($inner) => $call,
            Store::Session($inner) => $call,
        }
    };
}

/// A built store of one of the three kinds, so the engine can keep all of a
/// task's stores in one collection and hand out typed handles.
pub enum Store {
    /// A key-value store.
    KeyValue(Box<dyn KeyValueStore>),
    /// A window store.
    Window(Box<dyn WindowStore>),
    /// A session store.
    Session(Box<dyn SessionStore>),
}

impl Store {
    /// Applies a batch of changelog records to whichever store this is.
    pub fn restore_batch(&mut self, records: &[ChangelogRecord]) -> Result<()> {
        each_kind!(self, store => store.restore_batch(records))
    }

    /// The key-value store, if this is one.
    pub fn as_key_value_mut(&mut self) -> Option<&mut dyn KeyValueStore> {
        match self {
            Store::KeyValue(store) => Some(store.as_mut()),
            _ => None,
        }
    }

    /// The window store, if this is one.
    pub fn as_window_mut(&mut self) -> Option<&mut dyn WindowStore> {
        match self {
            Store::Window(store) => Some(store.as_mut()),
            _ => None,
        }
    }

    /// The session store, if this is one.
    pub fn as_session_mut(&mut self) -> Option<&mut dyn SessionStore> {
        match self {
            Store::Session(store) => Some(store.as_mut()),
            _ => None,
        }
    }
}

impl StateStore for Store {
    fn name(&self) -> &str {
        each_kind!(self, store => store.name())
    }

    fn persistent(&self) -> bool {
        each_kind!(self, store => store.persistent())
    }

    fn flush(&mut self) -> Result<()> {
        each_kind!(self, store => store.flush())
    }

    fn flush_cache(&mut self) -> Result<()> {
        each_kind!(self, store => store.flush_cache())
    }

    fn close(&mut self) -> Result<()> {
        each_kind!(self, store => store.close())
    }
}
