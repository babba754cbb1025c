//! `split`: routing each record of a stream to the first branch whose
//! predicate it matches, as Kafka Streams' `BranchedKStreamImpl`.
//!
//! Naming follows Kafka: the splitter is `KSTREAM-BRANCH-<index>` (or the
//! split's [`Named`]), and each branch is a pass-through child named the
//! splitter's name followed by the branch's name, or by its position
//! (counted from one) for unnamed branches and `0` for an unnamed default
//! branch. Each
//! branch consumes an index of the name counter, so the names of later
//! operators match Kafka's.

use std::sync::{Arc, Mutex, PoisonError};

use crate::kstream::KStream;
use crate::named::Named;
use crate::processors::{Branch, PassThrough, Predicate};

/// The branches known so far; the splitter's processors read them when
/// the topology is instantiated, after the split is complete (as Kafka's
/// `KStreamBranch` holds the lists the split keeps filling).
struct SplitSpec<K, V> {
    branches: Vec<(Predicate<K, V>, String)>,
    default_child: Option<String>,
}

type Spec<K, V> = Arc<Mutex<SplitSpec<K, V>>>;

/// Turns a branch stream into the stream the split returns for it.
type ChainFunction<K, V> = Box<dyn FnOnce(KStream<K, V>) -> KStream<K, V>>;

/// What to do with a branch stream.
enum Chain<K, V> {
    /// Return the branch itself.
    Identity,
    /// Return what the function makes of the branch.
    Function(ChainFunction<K, V>),
    /// Hand the branch to the consumer; return nothing for it.
    Consumer(Box<dyn FnOnce(KStream<K, V>)>),
}

/// How a branch of a split is named and what is done with it, as Kafka
/// Streams' `Branched`.
pub struct Branched<K, V> {
    name: Option<String>,
    chain: Chain<K, V>,
}

impl<K, V> Branched<K, V> {
    /// A branch named `name`: its stream is `<split name><name>`.
    pub fn as_(name: &str) -> Self {
        Self {
            name: Some(name.to_owned()),
            chain: Chain::Identity,
        }
    }

    /// A branch whose result is `chain` applied to the branch stream.
    pub fn with_function(chain: impl FnOnce(KStream<K, V>) -> KStream<K, V> + 'static) -> Self {
        Self {
            name: None,
            chain: Chain::Function(Box::new(chain)),
        }
    }

    /// A branch handed to `chain`; the split's result omits it.
    pub fn with_consumer(chain: impl FnOnce(KStream<K, V>) + 'static) -> Self {
        Self {
            name: None,
            chain: Chain::Consumer(Box::new(chain)),
        }
    }

    /// Names the branch.
    pub fn with_name(mut self, name: &str) -> Self {
        self.name = Some(name.to_owned());
        self
    }
}

impl<K, V> Default for Branched<K, V> {
    fn default() -> Self {
        Self {
            name: None,
            chain: Chain::Identity,
        }
    }
}

/// The branches a split returns, by name (`<split name><branch name or
/// position>`), in the order they were added.
pub struct Branches<K, V> {
    branches: Vec<(String, KStream<K, V>)>,
}

impl<K, V> Branches<K, V> {
    /// The branch named `name`.
    pub fn get(&self, name: &str) -> Option<&KStream<K, V>> {
        self.branches
            .iter()
            .find(|(branch, _)| branch == name)
            .map(|(_, stream)| stream)
    }

    /// The branch streams, in the order they were added.
    pub fn iter(&self) -> impl Iterator<Item = &KStream<K, V>> {
        self.branches.iter().map(|(_, stream)| stream)
    }

    /// The branch names, in the order they were added.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.branches.iter().map(|(name, _)| name.as_str())
    }

    /// How many branches there are.
    pub fn len(&self) -> usize {
        self.branches.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.branches.is_empty()
    }

    /// The branches with their names.
    pub fn into_named(self) -> Vec<(String, KStream<K, V>)> {
        self.branches
    }
}

impl<K: Clone + 'static, V: Clone + 'static> KStream<K, V> {
    /// Splits the stream: each record goes to the first branch whose
    /// predicate it matches, else to the default branch, else nowhere.
    pub fn split(&self) -> BranchedKStream<K, V> {
        BranchedKStream::new(self, None)
    }

    /// [`split`](Self::split), naming the splitter; named branches are
    /// called `<named><branch name>`.
    pub fn split_named(&self, named: Named) -> BranchedKStream<K, V> {
        BranchedKStream::new(self, Some(&named))
    }
}

/// A stream being split into branches; see [`KStream::split`].
pub struct BranchedKStream<K, V> {
    stream: KStream<K, V>,
    splitter: String,
    spec: Spec<K, V>,
    outputs: Vec<(String, KStream<K, V>)>,
}

impl<K: Clone + 'static, V: Clone + 'static> BranchedKStream<K, V> {
    fn new(stream: &KStream<K, V>, named: Option<&Named>) -> Self {
        let splitter = stream
            .builder
            .name_or(named.map(Named::name), "KSTREAM-BRANCH-");
        let spec: Spec<K, V> = Arc::new(Mutex::new(SplitSpec {
            branches: Vec::new(),
            default_child: None,
        }));
        let shared = spec.clone();
        stream.builder.with(|topology| {
            topology.add_processor(
                &splitter,
                move || {
                    let spec = shared.lock().unwrap_or_else(PoisonError::into_inner);
                    Branch {
                        branches: Arc::new(spec.branches.clone()),
                        default_child: spec.default_child.clone(),
                    }
                },
                &[&stream.node],
            );
        });
        Self {
            stream: stream.clone(),
            splitter,
            spec,
            outputs: Vec::new(),
        }
    }

    /// Adds a branch for records matching `predicate` (tested in order).
    pub fn branch(self, predicate: impl Fn(&K, &V) -> bool + Send + Sync + 'static) -> Self {
        self.branch_with(predicate, Branched::default())
    }

    /// [`branch`](Self::branch), named and chained as `branched` says.
    pub fn branch_with(
        mut self,
        predicate: impl Fn(&K, &V) -> bool + Send + Sync + 'static,
        branched: Branched<K, V>,
    ) -> Self {
        let position = self.lock().branches.len() + 1;
        let child = self.add_branch(branched, position);
        self.lock().branches.push((Arc::new(predicate), child));
        self
    }

    /// Ends the split with a default branch for records no predicate
    /// matched; returns the branches.
    pub fn default_branch(self) -> Branches<K, V> {
        self.default_branch_with(Branched::default())
    }

    /// [`default_branch`](Self::default_branch), named and chained as
    /// `branched` says.
    pub fn default_branch_with(mut self, branched: Branched<K, V>) -> Branches<K, V> {
        let child = self.add_branch(branched, 0);
        self.lock().default_child = Some(child);
        self.no_default_branch()
    }

    /// Ends the split; unmatched records are dropped. Returns the branches.
    pub fn no_default_branch(self) -> Branches<K, V> {
        Branches {
            branches: self.outputs,
        }
    }

    /// The branches so far; a panic elsewhere cannot leave them half
    /// written, so a poisoned lock is still good to use.
    fn lock(&self) -> std::sync::MutexGuard<'_, SplitSpec<K, V>> {
        self.spec.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Adds the pass-through child of branch `position` (0 for the
    /// default) and applies the branch's chain, returning the child's name.
    fn add_branch(&mut self, branched: Branched<K, V>, position: usize) -> String {
        let builder = &self.stream.builder;
        let child = match &branched.name {
            Some(name) => format!("{}{name}", self.splitter),
            None => format!("{}{position}", self.splitter),
        };
        // Kafka burns an index per branch, so later names match.
        builder.new_name(&child);
        builder.with(|topology| {
            topology.add_processor::<K, V, K, V, _>(&child, || PassThrough, &[&self.splitter]);
        });
        let branch = KStream::new(
            builder.clone(),
            child.clone(),
            self.stream.repartition_required,
        )
        .with_serdes(
            self.stream.key_serde.clone(),
            self.stream.value_serde.clone(),
        );
        match branched.chain {
            Chain::Identity => self.outputs.push((child.clone(), branch)),
            Chain::Function(chain) => self.outputs.push((child.clone(), chain(branch))),
            Chain::Consumer(chain) => chain(branch),
        }
        child
    }
}
