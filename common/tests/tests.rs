//! The integration tests of obslab-common: one binary, one module per file.

mod boolean_twins;
