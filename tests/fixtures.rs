//! Placeholder replaced by the fixture snapshot suite.
