//! `StreamsBuilder`: the entry point, and the naming of generated nodes.

use std::any::TypeId;
use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};
use std::rc::Rc;

use streams_core::serde::DefaultSerde;
use streams_core::topology::{OffsetReset, SourceOptions};
use streams_core::{Topology, TopologyBuilder, TopologyError};

use crate::config::Consumed;
use crate::join::Copartitioning;
use crate::kstream::KStream;
use crate::nulls::DropsNullKeys;

/// The topology being built, shared by every stream and table of a builder.
pub(crate) struct BuilderState {
    pub(crate) topology: TopologyBuilder,
    /// Kafka Streams numbers generated names with one counter per builder.
    index: u64,
    /// Partition counts and the join inputs that must agree on them.
    copartitioning: Copartitioning,
    /// The first invalid configuration met while building, reported by
    /// `build` (operators return streams and tables, not results).
    error: Option<TopologyError>,
    /// How long after its window ends each windowed aggregation processor
    /// may still change it: its grace (plus the gap, for sessions).
    window_close_delays: HashMap<String, i64>,
    /// The null-key filter of each repartition topic, by node name.
    null_key_filters: HashMap<String, DropsNullKeys>,
    /// The join processors that join null keys (left and outer joins):
    /// the repartition topics upstream of them keep null keys.
    null_key_joins: Vec<String>,
    /// The source nodes of the streams made so far.
    stream_sources: Vec<StreamSource>,
}

/// A stream's source node, which later streams of the same topics share.
struct StreamSource {
    node: String,
    topics: BTreeSet<String>,
    /// The key and value types it reads: streams of other types need
    /// another node (and fail to build, reading the same topics).
    types: (TypeId, TypeId),
    offset_reset: Option<OffsetReset>,
}

/// A handle to the builder state that streams and tables carry.
#[derive(Clone)]
pub(crate) struct Builder(Rc<RefCell<BuilderState>>);

impl Builder {
    /// `<prefix><10-digit index>`, consuming an index, as Kafka Streams'
    /// `newProcessorName`.
    pub(crate) fn new_name(&self, prefix: &str) -> String {
        let mut state = self.0.borrow_mut();
        let name = format!("{prefix}{:010}", state.index);
        state.index += 1;
        name
    }

    /// `<prefix>STATE-STORE-<10-digit index>`, as Kafka's `newStoreName`.
    pub(crate) fn new_store_name(&self, prefix: &str) -> String {
        self.new_name(&format!("{prefix}STATE-STORE-"))
    }

    /// The explicit name, or a generated one. The index is consumed either
    /// way, as Kafka's `orElseGenerateWithPrefix` does so that later
    /// generated names do not depend on which operators were named.
    ///
    /// An explicit name must be a legal one (Kafka's `NamedInternal`
    /// validates it); an illegal one fails the build.
    pub(crate) fn name_or(&self, explicit: Option<&str>, prefix: &str) -> String {
        let generated = self.new_name(prefix);
        let Some(explicit) = explicit else {
            return generated;
        };
        if let Err(illegal) = crate::named::validate(explicit) {
            self.fail(TopologyError::IllegalName(illegal.to_string()));
        }
        explicit.to_owned()
    }

    /// Adds to the topology being built.
    pub(crate) fn with(&self, f: impl FnOnce(&mut TopologyBuilder)) {
        f(&mut self.0.borrow_mut().topology);
    }

    /// Records an invalid configuration; `build` fails with the first one.
    pub(crate) fn fail(&self, error: TopologyError) {
        self.0.borrow_mut().error.get_or_insert(error);
    }

    /// Notes that the windowed aggregation processor `node` closes its
    /// windows `delay_ms` after they end.
    pub(crate) fn windows_close_after(&self, node: &str, delay_ms: i64) {
        let mut state = self.0.borrow_mut();
        state.window_close_delays.insert(node.to_owned(), delay_ms);
    }

    /// When the windowed rows coming out of `node` are final, as Kafka's
    /// `GraphGraceSearchUtil` finds it: the close delay of the windowed
    /// aggregation `node` is, or else the largest of its upstream nodes'
    /// (across repartition topics). `None` unless every path up from
    /// `node` meets a windowed aggregation.
    pub(crate) fn window_close_delay(&self, node: &str) -> Option<i64> {
        fn search(state: &BuilderState, node: &str) -> Option<i64> {
            if let Some(&delay) = state.window_close_delays.get(node) {
                return Some(delay);
            }
            let upstream = state.topology.upstream(node)?;
            let mut delays = upstream.into_iter().map(|node| search(state, node));
            let first = delays.next()??;
            delays.try_fold(first, |max, delay| Some(max.max(delay?)))
        }
        search(&self.0.borrow(), node)
    }

    /// Records what co-partitioning needs to know.
    /// The null-key filter of the repartition topic behind `filter`.
    pub(crate) fn null_key_filter(&self, filter: &str) -> DropsNullKeys {
        let mut state = self.0.borrow_mut();
        let filters = &mut state.null_key_filters;
        filters.entry(filter.to_owned()).or_default().clone()
    }

    /// Marks `join` as a processor that joins null keys.
    pub(crate) fn joins_null_keys(&self, join: &str) {
        self.0.borrow_mut().null_key_joins.push(join.to_owned());
    }

    /// Tells every repartition filter upstream of a join that joins null
    /// keys to keep them.
    fn settle_null_key_filters(state: &BuilderState) {
        let mut seen = BTreeSet::new();
        let mut pending: Vec<&str> = state.null_key_joins.iter().map(String::as_str).collect();
        while let Some(node) = pending.pop() {
            if !seen.insert(node) {
                continue;
            }
            if let Some(filter) = state.null_key_filters.get(node) {
                filter.keep_them();
            }
            pending.extend(state.topology.upstream(node).unwrap_or_default());
        }
    }

    pub(crate) fn copartitioning(&self, f: impl FnOnce(&mut Copartitioning)) {
        f(&mut self.0.borrow_mut().copartitioning);
    }

    fn build(&self) -> Result<Topology, TopologyError> {
        let mut state = self.0.borrow_mut();
        if let Some(error) = state.error.take() {
            return Err(error);
        }
        Self::settle_null_key_filters(&state);
        let topology = state.topology.build()?;
        // Kafka's `Materialized.as` refuses an illegal store name (whose
        // changelog topic would be illegal too); generated names are legal.
        for store in topology.store_names() {
            crate::named::validate(store)
                .map_err(|illegal| TopologyError::IllegalName(illegal.to_string()))?;
        }
        state.copartitioning.check(&topology.describe())?;
        Ok(topology)
    }
}

/// Builds a topology with the DSL.
///
/// ```
/// use streams_core::prelude::*;
/// use streams_dsl::StreamsBuilder;
///
/// let builder = StreamsBuilder::new();
/// builder
///     .stream::<String, String>("input")
///     .filter(|_key, value| !value.is_empty())
///     .map_values(|value| value.len() as i64)
///     .to("lengths");
/// let topology = builder.build()?;
///
/// let driver = TopologyTestDriver::new(&topology)?;
/// let input = driver.create_input_topic("input", StringSerde, StringSerde);
/// let output = driver.create_output_topic("lengths", StringSerde, I64Serde);
/// input.pipe_input_at("a".into(), "kafka".into(), 10)?;
/// input.pipe_input_at("b".into(), "".into(), 11)?;
/// assert_eq!(output.read_records_to_list()?, vec![TestRecord::new("a".into(), 5, 10)]);
/// # Ok::<(), StreamsError>(())
/// ```
pub struct StreamsBuilder {
    pub(crate) builder: Builder,
}

impl Default for StreamsBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl StreamsBuilder {
    /// An empty builder.
    pub fn new() -> Self {
        Self {
            builder: Builder(Rc::new(RefCell::new(BuilderState {
                topology: TopologyBuilder::new(),
                index: 0,
                copartitioning: Copartitioning::default(),
                error: None,
                window_close_delays: HashMap::new(),
                null_key_filters: HashMap::new(),
                null_key_joins: Vec::new(),
                stream_sources: Vec::new(),
            }))),
        }
    }

    /// A stream of `topic`, read with the default serdes of `K` and `V`.
    pub fn stream<K, V>(&self, topic: &str) -> KStream<K, V>
    where
        K: DefaultSerde + Clone,
        V: DefaultSerde + Clone,
    {
        self.stream_with(
            &[topic],
            Consumed::with(K::default_serde(), V::default_serde()),
        )
    }

    /// A stream of `topics`, read as `consumed` says.
    pub fn stream_with<K, V>(&self, topics: &[&str], consumed: Consumed<K, V>) -> KStream<K, V>
    where
        K: Clone + 'static,
        V: Clone + 'static,
    {
        let name = self
            .builder
            .name_or(consumed.name.as_deref(), "KSTREAM-SOURCE-");
        let serdes = (Some(consumed.key.clone()), Some(consumed.value.clone()));
        if let Some(shared) = self.shared_source::<K, V>(topics, consumed.offset_reset) {
            return KStream {
                name,
                ..KStream::new(self.builder.clone(), shared, false)
            }
            .with_serdes(serdes.0, serdes.1);
        }
        let mut options = SourceOptions::new(consumed.key, consumed.value);
        if let Some(extractor) = consumed.timestamp_extractor {
            options = options.timestamp_extractor(extractor);
        }
        if let Some(reset) = consumed.offset_reset {
            options = options.offset_reset(reset);
        }
        self.builder.with(|topology| {
            topology.add_source(&name, topics, options);
        });
        self.builder
            .0
            .borrow_mut()
            .stream_sources
            .push(StreamSource {
                node: name.clone(),
                topics: topics.iter().map(|&topic| topic.to_owned()).collect(),
                types: (TypeId::of::<K>(), TypeId::of::<V>()),
                offset_reset: consumed.offset_reset,
            });
        KStream::new(self.builder.clone(), name, false).with_serdes(serdes.0, serdes.1)
    }

    /// The source node of an earlier stream of exactly `topics`, read as
    /// the same types, which this stream shares (Kafka's
    /// `mergeDuplicateSourceNodes`: the first stream's serdes and
    /// extractor read for both). Its offset reset policy, if it set one,
    /// must be this stream's too.
    fn shared_source<K: 'static, V: 'static>(
        &self,
        topics: &[&str],
        offset_reset: Option<OffsetReset>,
    ) -> Option<String> {
        let topics: BTreeSet<String> = topics.iter().map(|&topic| topic.to_owned()).collect();
        let state = self.builder.0.borrow();
        let shared = state.stream_sources.iter().find(|source| {
            source.topics == topics && source.types == (TypeId::of::<K>(), TypeId::of::<V>())
        })?;
        let node = shared.node.clone();
        // Kafka's `StreamSourceNode.merge`: a policy on either side that
        // the other does not have is a conflict.
        let conflict = shared.offset_reset != offset_reset;
        drop(state);
        if conflict {
            self.builder.fail(TopologyError::ConflictingOffsetReset {
                topics: topics.into_iter().collect(),
            });
        }
        Some(node)
    }

    /// Builds the topology, validating it.
    pub fn build(&self) -> Result<Topology, TopologyError> {
        self.builder.build()
    }
}
