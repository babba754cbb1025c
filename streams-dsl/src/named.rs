//! `Named`: a user-chosen processor name for a stateless operator, and the
//! `_named` variants of the stateless `KStream` operators that take one.
//!
//! A named operator still consumes an index of the builder's name counter,
//! as Kafka Streams' `NamedInternal.orElseGenerateWithPrefix` does, so the
//! generated names of later operators do not depend on which operators were
//! named.

use crate::kstream::KStream;

/// Kafka's limit on processor (and topic) name length.
const MAX_NAME_LENGTH: usize = 249;

/// Why a name is not a valid processor name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NamedError {
    /// The empty name.
    #[error("name is illegal, it can't be empty")]
    Empty,
    /// `.` or `..`.
    #[error("name cannot be \".\" or \"..\"")]
    Dots,
    /// Longer than 249 characters.
    #[error("name is illegal, it can't be longer than {MAX_NAME_LENGTH} characters, name: {0}")]
    TooLong(String),
    /// A character other than ASCII alphanumerics, `.`, `_` and `-`.
    #[error(
        "name \"{0}\" is illegal, it contains a character other than ASCII alphanumerics, '.', '_' and '-'"
    )]
    IllegalCharacter(String),
}

/// The name of a processor, as Kafka Streams' `Named`.
///
/// ```
/// use streams_dsl::{Named, NamedError};
///
/// assert_eq!(Named::as_("uppercase")?.name(), "uppercase");
/// assert_eq!(Named::as_("a b"), Err(NamedError::IllegalCharacter("a b".into())));
/// # Ok::<(), NamedError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Named {
    name: String,
}

impl Named {
    /// `name`, if it is a legal processor name: 1 to 249 ASCII
    /// alphanumerics, `.`, `_` and `-`, and neither `.` nor `..`.
    pub fn as_(name: &str) -> Result<Self, NamedError> {
        validate(name)?;
        Ok(Self {
            name: name.to_owned(),
        })
    }

    /// The name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// Kafka's `Named.validate`.
pub(crate) fn validate(name: &str) -> Result<(), NamedError> {
    if name.is_empty() {
        return Err(NamedError::Empty);
    }
    if name == "." || name == ".." {
        return Err(NamedError::Dots);
    }
    if name.len() > MAX_NAME_LENGTH {
        return Err(NamedError::TooLong(name.to_owned()));
    }
    let legal = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
    if !name.chars().all(legal) {
        return Err(NamedError::IllegalCharacter(name.to_owned()));
    }
    Ok(())
}

impl<K: Clone + 'static, V: Clone + 'static> KStream<K, V> {
    /// [`filter`](Self::filter), naming the processor.
    pub fn filter_named(
        &self,
        predicate: impl Fn(&K, &V) -> bool + Send + Sync + 'static,
        named: Named,
    ) -> Self {
        self.filtered(predicate, true, Some(&named))
    }

    /// [`filter_not`](Self::filter_not), naming the processor.
    pub fn filter_not_named(
        &self,
        predicate: impl Fn(&K, &V) -> bool + Send + Sync + 'static,
        named: Named,
    ) -> Self {
        self.filtered(predicate, false, Some(&named))
    }

    /// [`map`](Self::map), naming the processor.
    pub fn map_named<K2: Clone + 'static, V2: Clone + 'static>(
        &self,
        mapper: impl Fn(K, V) -> (K2, V2) + Send + Sync + 'static,
        named: Named,
    ) -> KStream<K2, V2> {
        self.mapped("KSTREAM-MAP-", mapper, true, Some(&named))
    }

    /// [`map_values`](Self::map_values), naming the processor.
    pub fn map_values_named<V2: Clone + 'static>(
        &self,
        mapper: impl Fn(V) -> V2 + Send + Sync + 'static,
        named: Named,
    ) -> KStream<K, V2> {
        self.mapped_values(move |_, value| mapper(value), Some(&named))
    }

    /// [`select_key`](Self::select_key), naming the processor.
    pub fn select_key_named<K2: Clone + 'static>(
        &self,
        selector: impl Fn(&K, &V) -> K2 + Send + Sync + 'static,
        named: Named,
    ) -> KStream<K2, V> {
        self.selected_key(selector, Some(&named))
    }

    /// [`flat_map`](Self::flat_map), naming the processor.
    pub fn flat_map_named<K2, V2, I>(
        &self,
        mapper: impl Fn(K, V) -> I + Send + Sync + 'static,
        named: Named,
    ) -> KStream<K2, V2>
    where
        K2: Clone + 'static,
        V2: Clone + 'static,
        I: IntoIterator<Item = (K2, V2)> + 'static,
    {
        self.flat_mapped("KSTREAM-FLATMAP-", mapper, true, Some(&named))
    }

    /// [`flat_map_values`](Self::flat_map_values), naming the processor.
    pub fn flat_map_values_named<V2, I>(
        &self,
        mapper: impl Fn(V) -> I + Send + Sync + 'static,
        named: Named,
    ) -> KStream<K, V2>
    where
        V2: Clone + 'static,
        I: IntoIterator<Item = V2>,
    {
        self.flat_mapped_values(mapper, Some(&named))
    }

    /// [`peek`](Self::peek), naming the processor.
    pub fn peek_named(
        &self,
        action: impl Fn(&K, &V) + Send + Sync + 'static,
        named: Named,
    ) -> Self {
        self.peeked("KSTREAM-PEEK-", action, Some(&named))
    }

    /// [`foreach`](Self::foreach), naming the processor.
    pub fn foreach_named(&self, action: impl Fn(&K, &V) + Send + Sync + 'static, named: Named) {
        self.peeked("KSTREAM-FOREACH-", action, Some(&named));
    }

    /// [`merge`](Self::merge), naming the processor.
    pub fn merge_named(&self, other: &KStream<K, V>, named: Named) -> Self {
        self.merged(other, Some(&named))
    }
}
