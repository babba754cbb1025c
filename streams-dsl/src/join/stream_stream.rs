//! `KStream::join`, `left_join`, `outer_join`: windowed joins of two
//! streams, compiled as Kafka Streams' `KStreamImplJoin` does.

use std::marker::PhantomData;
use std::time::Duration;

use streams_core::serde::{DefaultSerde, SharedSerde};
use streams_core::state::{StoreOptions, Stores, WindowStoreBuilder};

use super::joiner::Joiner;
use super::outer_store::outer_store_builder;
use super::stream_joined::StreamJoined;
use super::stream_stream_join::{LeftSide, RightSide, StreamStreamJoin};
use super::time_tracker::TimeTrackers;
use super::window_buffer::JoinWindowBuffer;
use super::windows::JoinWindows;
use crate::builder::Builder;
use crate::config::Grouped;
use crate::kstream::KStream;
use crate::nulls::NullTest;
use crate::processors::PassThrough;

/// `<name><suffix>` for a named operation, else a generated name; the
/// generated name's index is consumed either way, as Kafka's
/// `suffixWithOrElseGet` does, so naming one operator does not renumber
/// the others.
fn suffixed_or_generated(
    builder: &Builder,
    name: Option<&str>,
    suffix: &str,
    prefix: &str,
) -> String {
    let generated = builder.new_name(prefix);
    name.map_or(generated, |name| format!("{name}{suffix}"))
}

/// A duration of `ms` milliseconds (join windows are never negative).
fn duration(ms: i64) -> Duration {
    Duration::from_millis(u64::try_from(ms).unwrap_or_default())
}

/// The window store of one side: every record kept (duplicates too) for
/// `before + after + grace`, in windows of `before + after`. Its changelog
/// is deleted after that retention but never compacted, whatever the
/// overrides say, as in Kafka Streams: compaction would drop duplicates.
fn join_window_store<K, V1, V2, V>(
    name: &str,
    windows: &JoinWindows,
    joined: &StreamJoined<K, V1, V2>,
    value: SharedSerde<V>,
) -> WindowStoreBuilder<K, V> {
    Stores::window_store_builder_with(
        name,
        duration(windows.retention_ms()),
        duration(windows.size_ms()),
        true,
        joined.key.clone(),
        value,
    )
    .with_options(delete_only(joined.options.clone()))
}

/// `options` with `cleanup.policy=delete` forced on the changelog, if it
/// logs.
fn delete_only(options: StoreOptions) -> StoreOptions {
    if !options.logging_enabled() {
        return options;
    }
    let mut configs = options.logging().clone();
    configs.insert("cleanup.policy".to_owned(), "delete".to_owned());
    options.with_logging_enabled(configs)
}

impl<K: Clone + 'static, V1: Clone + 'static> KStream<K, V1> {
    /// Joins each record with every record of `other` with the same key
    /// whose timestamp is within `windows`; each pair gives one result,
    /// stamped with the larger of the two timestamps.
    ///
    /// Inputs whose key may have changed are repartitioned first. The
    /// serdes are the default ones of the types; see
    /// [`join_with`](Self::join_with).
    ///
    /// ```
    /// use std::time::Duration;
    /// use streams_core::prelude::*;
    /// use streams_dsl::{JoinWindows, StreamsBuilder};
    ///
    /// let builder = StreamsBuilder::new();
    /// let clicks = builder.stream::<String, String>("clicks");
    /// let views = builder.stream::<String, String>("views");
    /// clicks
    ///     .join(
    ///         &views,
    ///         |click, view| format!("{click} after {view}"),
    ///         JoinWindows::of_time_difference_with_no_grace(Duration::from_millis(100)),
    ///     )
    ///     .to("clicked-views");
    /// let topology = builder.build()?;
    ///
    /// let driver = TopologyTestDriver::new(&topology)?;
    /// let clicks = driver.create_input_topic("clicks", StringSerde, StringSerde);
    /// let views = driver.create_input_topic("views", StringSerde, StringSerde);
    /// let out = driver.create_output_topic("clicked-views", StringSerde, StringSerde);
    /// views.pipe_input_at("ad".into(), "view".into(), 1_000)?;
    /// clicks.pipe_input_at("ad".into(), "click".into(), 1_050)?;
    /// clicks.pipe_input_at("ad".into(), "late click".into(), 1_200)?;
    /// assert_eq!(
    ///     out.read_records_to_list()?,
    ///     vec![TestRecord::new("ad".into(), "click after view".into(), 1_050)]
    /// );
    /// # Ok::<(), StreamsError>(())
    /// ```
    ///
    /// Streams whose keys differ in type cannot be joined: this does not
    /// compile (the example above with `i64` keys on one side).
    ///
    /// ```compile_fail,E0308
    /// use std::time::Duration;
    /// use streams_dsl::{JoinWindows, StreamsBuilder};
    ///
    /// let builder = StreamsBuilder::new();
    /// let clicks = builder.stream::<String, String>("clicks");
    /// let views = builder.stream::<i64, String>("views");
    /// clicks.join(
    ///     &views,
    ///     |click, view| format!("{click} after {view}"),
    ///     JoinWindows::of_time_difference_with_no_grace(Duration::from_millis(100)),
    /// );
    /// ```
    pub fn join<V2, VR>(
        &self,
        other: &KStream<K, V2>,
        joiner: impl Fn(&V1, &V2) -> VR + Send + Sync + 'static,
        windows: JoinWindows,
    ) -> KStream<K, VR>
    where
        K: DefaultSerde,
        V1: DefaultSerde,
        V2: DefaultSerde + Clone,
        VR: Clone + 'static,
    {
        self.join_with(other, joiner, windows, self.inherited_stream_joined(other))
    }

    /// [`join`](Self::join) with the serdes, names and stores of `joined`.
    pub fn join_with<V2, VR>(
        &self,
        other: &KStream<K, V2>,
        joiner: impl Fn(&V1, &V2) -> VR + Send + Sync + 'static,
        windows: JoinWindows,
        joined: StreamJoined<K, V1, V2>,
    ) -> KStream<K, VR>
    where
        V2: Clone + 'static,
        VR: Clone + 'static,
    {
        self.stream_stream_join(other, Joiner::inner(joiner), windows, joined)
    }

    /// Like [`join`](Self::join), and every record of this stream that
    /// finds no match gives a result with `None` for the other side. That
    /// result is emitted once the record's window has closed (stream time
    /// past its timestamp + after + grace), with the record's timestamp, so
    /// a match arriving in time replaces it. The join looks for such
    /// records at most once per `EmitIntervals::outer_join` of wall-clock
    /// time (1 second by default; the test driver looks at every record).
    pub fn left_join<V2, VR>(
        &self,
        other: &KStream<K, V2>,
        joiner: impl Fn(&V1, Option<&V2>) -> VR + Send + Sync + 'static,
        windows: JoinWindows,
    ) -> KStream<K, VR>
    where
        K: DefaultSerde,
        V1: DefaultSerde,
        V2: DefaultSerde + Clone,
        VR: Clone + 'static,
    {
        self.left_join_with(other, joiner, windows, self.inherited_stream_joined(other))
    }

    /// [`left_join`](Self::left_join) with the serdes, names and stores of
    /// `joined`.
    pub fn left_join_with<V2, VR>(
        &self,
        other: &KStream<K, V2>,
        joiner: impl Fn(&V1, Option<&V2>) -> VR + Send + Sync + 'static,
        windows: JoinWindows,
        joined: StreamJoined<K, V1, V2>,
    ) -> KStream<K, VR>
    where
        V2: Clone + 'static,
        VR: Clone + 'static,
    {
        self.stream_stream_join(other, Joiner::left(joiner), windows, joined)
    }

    /// Like [`left_join`](Self::left_join), for unmatched records of both
    /// streams: the joiner gets `None` for the missing side.
    pub fn outer_join<V2, VR>(
        &self,
        other: &KStream<K, V2>,
        joiner: impl Fn(Option<&V1>, Option<&V2>) -> VR + Send + Sync + 'static,
        windows: JoinWindows,
    ) -> KStream<K, VR>
    where
        K: DefaultSerde,
        V1: DefaultSerde,
        V2: DefaultSerde + Clone,
        VR: Clone + 'static,
    {
        self.outer_join_with(other, joiner, windows, self.inherited_stream_joined(other))
    }

    /// [`outer_join`](Self::outer_join) with the serdes, names and stores
    /// of `joined`.
    pub fn outer_join_with<V2, VR>(
        &self,
        other: &KStream<K, V2>,
        joiner: impl Fn(Option<&V1>, Option<&V2>) -> VR + Send + Sync + 'static,
        windows: JoinWindows,
        joined: StreamJoined<K, V1, V2>,
    ) -> KStream<K, VR>
    where
        V2: Clone + 'static,
        VR: Clone + 'static,
    {
        self.stream_stream_join(other, Joiner::outer(joiner), windows, joined)
    }

    /// The serdes a join without `StreamJoined` writes with: those the two
    /// streams kept from where they were read, else the defaults (Kafka's
    /// `KStreamImplJoin` falls back to the streams' serdes).
    fn inherited_stream_joined<V2>(&self, other: &KStream<K, V2>) -> StreamJoined<K, V1, V2>
    where
        K: DefaultSerde,
        V1: DefaultSerde,
        V2: DefaultSerde + Clone + 'static,
    {
        StreamJoined::with(
            self.key_serde_or_default(),
            self.value_serde_or_default(),
            other.value_serde_or_default(),
        )
    }

    /// This stream, read back through a repartition topic if its key may
    /// have changed (Kafka's `repartitionForJoin`): the topic is named
    /// after the join (`<name><suffix>-repartition`) or else after this
    /// stream's node. A topic named after the node is made once: later
    /// joins of this stream read the topic last made for one (Kafka keeps
    /// that topic's node and reuses it on the same condition).
    pub(crate) fn repartitioned_for_join(
        &self,
        join_name: Option<&str>,
        suffix: &str,
        grouped: &Grouped<K, V1>,
    ) -> Self {
        if !self.repartition_required {
            return self.clone();
        }
        let prefix = join_name.map_or_else(|| self.node.clone(), |name| format!("{name}{suffix}"));
        let made = self.join_repartition.borrow().clone();
        let source = match made {
            Some(source) if prefix == self.node => {
                self.repartition_names(&prefix);
                source
            }
            _ => {
                let [_, _, source] = self.repartition_through(&prefix, grouped);
                *self.join_repartition.borrow_mut() = Some(source.clone());
                source
            }
        };
        KStream::new(self.builder.clone(), source, false)
    }

    /// Adds the nodes and stores of a stream-stream join in Kafka's order
    /// and with its names.
    fn stream_stream_join<V2, VR>(
        &self,
        other: &KStream<K, V2>,
        joiner: Joiner<V1, V2, VR>,
        windows: JoinWindows,
        joined: StreamJoined<K, V1, V2>,
    ) -> KStream<K, VR>
    where
        V2: Clone + 'static,
        VR: Clone + 'static,
    {
        let builder = &self.builder;
        let name = joined.name.as_deref();
        let this = self.repartitioned_for_join(
            name,
            "-left",
            &Grouped::with(joined.key.clone(), joined.value.clone()),
        );
        let other = other.repartitioned_for_join(
            name,
            "-right",
            &Grouped::with(joined.key.clone(), joined.other_value.clone()),
        );
        builder.copartitioning(|copartitioning| copartitioning.require(&[&this.node, &other.node]));

        let (left_outer, right_outer) = (joiner.keeps_left(), joiner.right_only.is_some());
        let this_windowed =
            suffixed_or_generated(builder, name, "-this-windowed", "KSTREAM-WINDOWED-");
        let other_windowed =
            suffixed_or_generated(builder, name, "-other-windowed", "KSTREAM-WINDOWED-");
        let (this_prefix, this_suffix) = if right_outer {
            ("KSTREAM-OUTERTHIS-", "-outer-this-join")
        } else {
            ("KSTREAM-JOINTHIS-", "-this-join")
        };
        let (other_prefix, other_suffix) = if left_outer {
            ("KSTREAM-OUTEROTHER-", "-outer-other-join")
        } else {
            ("KSTREAM-JOINOTHER-", "-other-join")
        };
        let this_generated = builder.new_name(this_prefix);
        let other_generated = builder.new_name(other_prefix);
        let this_join =
            name.map_or_else(|| this_generated.clone(), |n| format!("{n}{this_suffix}"));
        let other_join =
            name.map_or_else(|| other_generated.clone(), |n| format!("{n}{other_suffix}"));
        let merge = suffixed_or_generated(builder, name, "-merge", "KSTREAM-MERGE-");
        if left_outer {
            // Kafka's `NULL_KEY_RELAXED_JOIN`: null keys reach it.
            builder.joins_null_keys(&this_join);
            builder.joins_null_keys(&other_join);
        }

        let store_name = joined.store_name.as_deref();
        let this_store = store_name.map_or_else(
            || format!("{this_generated}-store"),
            |s| format!("{s}{this_suffix}-store"),
        );
        let other_store = store_name.map_or_else(
            || format!("{other_generated}-store"),
            |s| format!("{s}{other_suffix}-store"),
        );
        // The shared store borrows the index of the "this" processor.
        let outer_store = left_outer.then(|| {
            let shared = if right_outer {
                "-outer-shared-join"
            } else {
                "-left-shared-join"
            };
            store_name.map_or_else(
                || {
                    let index = &this_generated[this_prefix.len()..];
                    format!("KSTREAM-OUTERSHARED-{index}-store")
                },
                |s| format!("{s}{shared}-store"),
            )
        });

        let this_store_builder =
            join_window_store(&this_store, &windows, &joined, joined.value.clone());
        let other_store_builder =
            join_window_store(&other_store, &windows, &joined, joined.other_value.clone());
        let this_nulls = NullTest::new(Some(joined.key.clone()), Some(joined.value.clone()));
        let other_nulls = NullTest::new(Some(joined.key.clone()), Some(joined.other_value.clone()));
        let (this_buffer_nulls, other_buffer_nulls) = (this_nulls.clone(), other_nulls.clone());
        let trackers = TimeTrackers::default();
        let (this_buffer, other_buffer) = (this_store.clone(), other_store.clone());
        let (left_joiner, right_joiner) = (joiner.clone(), joiner);
        let (left_trackers, right_trackers) = (trackers.clone(), trackers);
        let (left_other, right_other) = (other_store.clone(), this_store.clone());
        let (left_outer_store, right_outer_store) = (outer_store.clone(), outer_store.clone());
        builder.with(|topology| {
            topology
                .add_processor(
                    &this_windowed,
                    move || JoinWindowBuffer::<K, V1> {
                        store_name: this_buffer.clone(),
                        nulls: this_buffer_nulls.clone(),
                        store: None,
                    },
                    &[&this.node],
                )
                .add_processor(
                    &other_windowed,
                    move || JoinWindowBuffer::<K, V2> {
                        store_name: other_buffer.clone(),
                        nulls: other_buffer_nulls.clone(),
                        store: None,
                    },
                    &[&other.node],
                )
                .add_processor::<K, V1, K, VR, _>(
                    &this_join,
                    move || StreamStreamJoin::<K, V1, V2, VR, LeftSide> {
                        other_store_name: left_other.clone(),
                        outer_store_name: left_outer_store.clone(),
                        windows,
                        joiner: left_joiner.clone(),
                        nulls: this_nulls.clone(),
                        trackers: left_trackers.clone(),
                        state: None,
                        _side: PhantomData,
                    },
                    &[&this_windowed],
                )
                .add_processor::<K, V2, K, VR, _>(
                    &other_join,
                    move || StreamStreamJoin::<K, V1, V2, VR, RightSide> {
                        other_store_name: right_other.clone(),
                        outer_store_name: right_outer_store.clone(),
                        windows,
                        joiner: right_joiner.clone(),
                        nulls: other_nulls.clone(),
                        trackers: right_trackers.clone(),
                        state: None,
                        _side: PhantomData,
                    },
                    &[&other_windowed],
                )
                .add_processor::<K, VR, K, VR, _>(
                    &merge,
                    || PassThrough,
                    &[&this_join, &other_join],
                )
                .add_state_store(this_store_builder, &[&this_windowed, &other_join])
                .add_state_store(other_store_builder, &[&other_windowed, &this_join]);
            if let Some(outer_store) = &outer_store {
                let store = outer_store_builder(
                    outer_store,
                    joined.key.clone(),
                    joined.value.clone(),
                    joined.other_value.clone(),
                )
                .with_options(joined.options.clone());
                topology.add_state_store(store, &[&this_join, &other_join]);
            }
        });
        KStream::new(builder.clone(), merge, false)
    }
}
