//! Property tests of the parse → validate pipeline (being written).
