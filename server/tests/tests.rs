//! Integration tests of obslab-server: the real server, in-process or as its
//! binary, on real sockets bound to 127.0.0.1:0.

mod admin;
mod cli;
mod docs_options;
mod drills;
mod faults;
mod limits;
mod metrics_contract;
mod patch_answer;
mod routes;
mod shutdown;
mod util;
