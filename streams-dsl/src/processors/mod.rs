//! The processors DSL operators compile to, each a small Processor API
//! processor, as Kafka Streams' `KStreamFilter`, `KStreamMap`, ...

mod aggregate;
mod final_results;
mod print;
mod session_aggregate;
mod sliding_aggregate;
mod stateless;
mod stream_time;
mod suppress;
mod suppress_buffer;
mod table;
mod table_cache;
mod throttle;
mod window_aggregate;

pub(crate) use aggregate::{Aggregate, Aggregator};
pub(crate) use print::{Print, PrintMapper, PrintTarget};
pub(crate) use session_aggregate::{Merger, SessionAggregate, SessionAggregator};
pub(crate) use sliding_aggregate::SlidingAggregate;
pub(crate) use stateless::{Action, Branch, Filter, FlatMap, Map, PassThrough, Peek, Predicate};
pub(crate) use stream_time::ObservedStreamTime;
pub(crate) use suppress::{supplier as suppress_supplier, RecordSizer, SuppressSpec};
pub(crate) use suppress_buffer::{BufferedChange, BufferedChangeSerde};
pub(crate) use table::{
    OldValue, RepartitionMap, RowMapper, TableAggregate, TableAggregator, TableRows, TableSource,
    TableValues,
};
pub(crate) use table_cache::{flush_cache, SessionCache, TableCache};
pub(crate) use throttle::Throttle;
pub(crate) use window_aggregate::{AggregateWindowStore, WindowAggregate};
