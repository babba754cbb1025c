//! Byte strings stored inline when short: the keys and values of the
//! in-memory backend and of the write cache.

use std::borrow::Borrow;
use std::hash::{Hash, Hasher};

/// How many bytes fit inline: the enum then takes 32 bytes, as much as a
/// `Vec<u8>` and a length would.
const INLINE: usize = 30;

/// A byte string that keeps up to 30 bytes inline and longer ones on the
/// heap.
///
/// Most keys and values of a state store are short (a word and its count,
/// an id and a timestamp). Kept inline, they share the hash table slot (or
/// cache slot) that a point read lands on, so the read touches one cache
/// line instead of following a pointer to the key and another to the value.
///
/// Compares, orders and hashes as the `[u8]` it holds, so a map keyed by it
/// is searched with a plain `&[u8]`.
#[derive(Clone)]
pub(crate) enum InlineBytes {
    Inline { len: u8, bytes: [u8; INLINE] },
    Heap(Box<[u8]>),
}

impl InlineBytes {
    /// The bytes held.
    pub(crate) fn as_slice(&self) -> &[u8] {
        match self {
            Self::Inline { len, bytes } => &bytes[..usize::from(*len)],
            Self::Heap(bytes) => bytes,
        }
    }

    /// Replaces the bytes held with `data`, reusing the heap allocation
    /// when the length is unchanged (a counter's next value, say).
    pub(crate) fn set(&mut self, data: &[u8]) {
        match self {
            Self::Heap(bytes) if bytes.len() == data.len() => bytes.copy_from_slice(data),
            _ => *self = Self::from(data),
        }
    }
}

impl From<&[u8]> for InlineBytes {
    fn from(data: &[u8]) -> Self {
        match u8::try_from(data.len()) {
            Ok(len) if data.len() <= INLINE => {
                let mut bytes = [0; INLINE];
                bytes[..data.len()].copy_from_slice(data);
                Self::Inline { len, bytes }
            }
            _ => Self::Heap(Box::from(data)),
        }
    }
}

impl Borrow<[u8]> for InlineBytes {
    fn borrow(&self) -> &[u8] {
        self.as_slice()
    }
}

impl PartialEq for InlineBytes {
    fn eq(&self, other: &Self) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl Eq for InlineBytes {}

impl PartialOrd for InlineBytes {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for InlineBytes {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.as_slice().cmp(other.as_slice())
    }
}

/// As `[u8]` hashes, which `Borrow<[u8]>` requires.
impl Hash for InlineBytes {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_slice().hash(state);
    }
}

impl std::fmt::Debug for InlineBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.as_slice().fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::hash_map::DefaultHasher;

    fn hash_of<T: Hash + ?Sized>(value: &T) -> u64 {
        let mut hasher = DefaultHasher::new();
        value.hash(&mut hasher);
        hasher.finish()
    }

    #[test]
    fn fits_in_the_space_of_a_vec_and_a_length() {
        assert_eq!(std::mem::size_of::<InlineBytes>(), 32);
    }

    #[test]
    fn short_data_stays_inline_and_long_data_goes_to_the_heap() {
        assert!(matches!(
            InlineBytes::from(&[7; INLINE][..]),
            InlineBytes::Inline { .. }
        ));
        assert!(matches!(
            InlineBytes::from(&[7; INLINE + 1][..]),
            InlineBytes::Heap(_)
        ));
    }

    proptest! {
        #[test]
        fn behaves_as_the_bytes_it_holds(
            a in proptest::collection::vec(any::<u8>(), 0..64),
            b in proptest::collection::vec(any::<u8>(), 0..64),
        ) {
            let (x, y) = (InlineBytes::from(&a[..]), InlineBytes::from(&b[..]));
            prop_assert_eq!(x.as_slice(), &a[..]);
            prop_assert_eq!(x == y, a == b);
            prop_assert_eq!(x.cmp(&y), a.cmp(&b));
            prop_assert_eq!(hash_of(&x), hash_of(&a[..]));
            let mut z = x.clone();
            z.set(&b);
            prop_assert_eq!(z.as_slice(), &b[..]);
        }
    }
}
