//! Interned topic names.

use std::borrow::Borrow;
use std::collections::HashSet;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;
use std::sync::{Mutex, OnceLock, PoisonError};

/// The name of a topic, interned: copying or comparing one costs a pointer.
///
/// Every record a task reads or writes names its topic, and a task uses the
/// same few topics for all of them. Each distinct name is stored once for
/// the life of the process, so records carry a `Copy` handle: moving,
/// copying and dropping a record touches no reference count, and two names
/// are equal exactly when they point at the same text. Names are never
/// freed; an application uses a bounded set of topics.
///
/// Hashes and orders as the text it holds, so a map keyed by `TopicName` is
/// searched with a plain `&str`.
///
/// ```
/// use streams_core::record::TopicName;
///
/// let a = TopicName::new("words");
/// let b = TopicName::from(String::from("words"));
/// assert_eq!(a, b);
/// assert_eq!(a, "words");
/// assert_eq!(a.len(), 5); // derefs to `str`
/// ```
#[derive(Clone, Copy)]
pub struct TopicName(&'static str);

impl TopicName {
    /// The interned name `name`: the same handle for every call with the
    /// same text.
    pub fn new(name: &str) -> Self {
        static NAMES: OnceLock<Mutex<HashSet<&'static str>>> = OnceLock::new();
        // A panic while holding the lock leaves a valid set behind.
        let mut names = NAMES
            .get_or_init(Mutex::default)
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(&interned) = names.get(name) {
            return Self(interned);
        }
        let interned: &'static str = Box::leak(Box::from(name));
        names.insert(interned);
        Self(interned)
    }

    /// The name's text.
    pub fn as_str(&self) -> &'static str {
        self.0
    }
}

impl Deref for TopicName {
    type Target = str;

    fn deref(&self) -> &str {
        self.0
    }
}

impl Borrow<str> for TopicName {
    fn borrow(&self) -> &str {
        self.0
    }
}

impl AsRef<str> for TopicName {
    fn as_ref(&self) -> &str {
        self.0
    }
}

impl From<&str> for TopicName {
    fn from(name: &str) -> Self {
        Self::new(name)
    }
}

impl From<String> for TopicName {
    fn from(name: String) -> Self {
        Self::new(&name)
    }
}

impl PartialEq for TopicName {
    /// One text per name: equal names share it.
    fn eq(&self, other: &Self) -> bool {
        std::ptr::eq(self.0, other.0)
    }
}

impl Eq for TopicName {}

impl PartialEq<str> for TopicName {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for TopicName {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl Hash for TopicName {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.hash(state);
    }
}

impl PartialOrd for TopicName {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for TopicName {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.cmp(other.0)
    }
}

impl fmt::Display for TopicName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl fmt::Debug for TopicName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.0, f)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    #[test]
    fn equal_text_gives_the_same_name() {
        let owned = String::from("interned-topic");
        let a = TopicName::new("interned-topic");
        let b = TopicName::from(owned);
        assert_eq!(a, b);
        assert!(std::ptr::eq(a.as_str(), b.as_str()));
        assert_ne!(a, TopicName::new("interned-other"));
    }

    #[test]
    fn maps_keyed_by_names_are_searched_by_text() {
        let mut map = HashMap::new();
        map.insert(TopicName::new("searched"), 1);
        assert_eq!(map.get("searched"), Some(&1));
        assert_eq!(map.get("other"), None);
    }

    #[test]
    fn orders_and_prints_as_its_text() {
        let mut names = [TopicName::new("b"), TopicName::new("a")];
        names.sort();
        assert_eq!(names.map(|name| name.to_string()), ["a", "b"]);
        assert_eq!(format!("{:?}", names[0]), "\"a\"");
    }
}
