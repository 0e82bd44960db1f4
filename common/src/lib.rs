//! obslab-common: what the three binaries (obslab-server, obslab-loadgen,
//! obslab) share, one topic per module, none importing another:
//!
//! - `duration`: the humantime parser of every duration option and field,
//!   and its non-zero wrapper for the options where zero makes no sense;
//! - `flag`: the value parser of every boolean flag with an environment
//!   twin (`1`/`0`, `true`/`false`, `yes`/`no`, `on`/`off`, empty = off);
//! - `shutdown`: the SIGINT/SIGTERM future;
//! - `logging`: the tracing subscriber on stderr, `RUST_LOG` over a default.

pub mod duration;
pub mod flag;
pub mod logging;
pub mod shutdown;
