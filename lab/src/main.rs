//! The `obslab` binary: parse, run, print the error's whole chain on one
//! line. Exit status: 0 ok, 1 a request or check failed, 2 usage.

use std::process::ExitCode;

use clap::Parser as _;

fn main() -> ExitCode {
    let cli = obslab_lab::cli::Cli::parse();
    match obslab_lab::run(cli, &mut std::io::stdout().lock()) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("obslab: {e:#}");
            obslab_lab::exit_code_of(&e)
        }
    }
}
