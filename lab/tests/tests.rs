//! Integration tests of `obslab`: the real commands, in-process or as the
//! binary, on real sockets bound to 127.0.0.1:0.

mod cli;
mod docs_options;
mod doctor;
mod inbox;
mod refusals;
mod util;
