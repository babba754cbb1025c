//! The value joiner of a join, with the unmatched cases it has.

use std::sync::Arc;

/// Combines a left and a right value.
type Both<V1, V2, VR> = Arc<dyn Fn(&V1, &V2) -> VR + Send + Sync>;
/// Makes a result from one side's value alone.
type Alone<V, VR> = Arc<dyn Fn(&V) -> VR + Send + Sync>;

/// A value of one side of a join that is waiting for, or gave up on, a
/// match (Kafka's `LeftOrRightValue`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Unmatched<V1, V2> {
    /// A left value.
    Left(V1),
    /// A right value.
    Right(V2),
}

/// The user's joiner, split by case: both sides present, or only one. A
/// side has an `*_only` function exactly when the join keeps its unmatched
/// records (left: the left side; outer: both), so the join kind is carried
/// by the types the user's closure was given, and the "missing side" is a
/// typed `None` rather than a null.
pub(crate) struct Joiner<V1, V2, VR> {
    pub(crate) both: Both<V1, V2, VR>,
    pub(crate) left_only: Option<Alone<V1, VR>>,
    pub(crate) right_only: Option<Alone<V2, VR>>,
}

impl<V1, V2, VR> Clone for Joiner<V1, V2, VR> {
    fn clone(&self) -> Self {
        Self {
            both: self.both.clone(),
            left_only: self.left_only.clone(),
            right_only: self.right_only.clone(),
        }
    }
}

impl<V1: 'static, V2: 'static, VR: 'static> Joiner<V1, V2, VR> {
    /// An inner join: results only for matches.
    pub(crate) fn inner(joiner: impl Fn(&V1, &V2) -> VR + Send + Sync + 'static) -> Self {
        Self {
            both: Arc::new(joiner),
            left_only: None,
            right_only: None,
        }
    }

    /// A left join: every left value gives a result.
    pub(crate) fn left(joiner: impl Fn(&V1, Option<&V2>) -> VR + Send + Sync + 'static) -> Self {
        let joiner = Arc::new(joiner);
        let alone = joiner.clone();
        Self {
            both: Arc::new(move |left, right| joiner(left, Some(right))),
            left_only: Some(Arc::new(move |left| alone(left, None))),
            right_only: None,
        }
    }

    /// An outer join: every value of either side gives a result.
    pub(crate) fn outer(
        joiner: impl Fn(Option<&V1>, Option<&V2>) -> VR + Send + Sync + 'static,
    ) -> Self {
        let joiner = Arc::new(joiner);
        let (left, right) = (joiner.clone(), joiner.clone());
        Self {
            both: Arc::new(move |l, r| joiner(Some(l), Some(r))),
            left_only: Some(Arc::new(move |l| left(Some(l), None))),
            right_only: Some(Arc::new(move |r| right(None, Some(r)))),
        }
    }

    /// The joiner applied to a left and a right value of which the join
    /// kind's unmatched cases may be missing; `None` when the join makes
    /// no result of that case (an inner join's unmatched values, say).
    pub(crate) fn combine(&self, left: Option<&V1>, right: Option<&V2>) -> Option<VR> {
        match (left, right) {
            (Some(left), Some(right)) => Some((self.both)(left, right)),
            (Some(left), None) => self.left_only.as_ref().map(|f| f(left)),
            (None, Some(right)) => self.right_only.as_ref().map(|f| f(right)),
            (None, None) => None,
        }
    }

    /// Whether the join keeps unmatched left values.
    pub(crate) fn keeps_left(&self) -> bool {
        self.left_only.is_some()
    }

    /// The result for an unmatched value, if its side keeps those.
    pub(crate) fn unmatched(&self, value: &Unmatched<V1, V2>) -> Option<VR> {
        match value {
            Unmatched::Left(left) => self.left_only.as_ref().map(|f| f(left)),
            Unmatched::Right(right) => self.right_only.as_ref().map(|f| f(right)),
        }
    }
}
