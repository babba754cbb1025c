//! Restart scenarios.
