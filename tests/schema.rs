//! The JSON Schemas in `schemas/` against fixtures and the validator (being written).
