//! The `obslab` binary: parse, run, print the error's whole chain.

use std::process::ExitCode;

use clap::Parser as _;

fn main() -> ExitCode {
    let cli = obslab_lab::cli::Cli::parse();
    match obslab_lab::run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("obslab: {e:#}");
            ExitCode::FAILURE
        }
    }
}
