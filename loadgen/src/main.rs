//! The `obslab-loadgen` binary: parse, run, report, exit.
//!
//! Exit codes carry meaning for CI: 0 the run passed, 1 a `--threshold`
//! failed, 2 the command line, the scenario or the setup was wrong (clap
//! uses 2 for its own errors too). `obslab-loadgen merge ...` adds reports
//! up instead of running, with the same exit codes.

use std::path::Path;
use std::process::ExitCode;

use clap::Parser as _;
use obslab_common::logging::{self, LogFormat};
use obslab_loadgen::html::HtmlFile;
use obslab_loadgen::merge::{MergeArgs, merge};
use obslab_loadgen::{Plan, Summary, report};

fn main() -> ExitCode {
    if std::env::args_os()
        .nth(1)
        .is_some_and(|word| word == "merge")
    {
        // `merge` names the command in clap's messages.
        let args = MergeArgs::parse_from(std::env::args_os().skip(1));
        let html = match open_html(args.html.as_deref()) {
            Ok(html) => html,
            Err(e) => {
                eprintln!("obslab-loadgen merge: {e:#}");
                return ExitCode::from(2);
            }
        };
        return match merge(&args) {
            Ok(summary) => {
                for warning in &summary.warnings {
                    eprintln!("obslab-loadgen merge: warning: {warning}");
                }
                finish(&summary, args.output, html)
            }
            Err(e) => {
                eprintln!("obslab-loadgen merge: {e:#}");
                ExitCode::from(2)
            }
        };
    }
    let plan = Plan::try_parse_from(std::env::args_os()).unwrap_or_else(|e| e.exit());
    // Before any load: a page that cannot be written is a usage error.
    let html = match open_html(plan.html.as_deref()) {
        Ok(html) => html,
        Err(e) => {
            eprintln!("obslab-loadgen: {e:#}");
            return ExitCode::from(2);
        }
    };
    // The platform verifier logs every refused certificate as an error; the
    // run says it once, naming the target (and counts it if it happens
    // mid-run).
    logging::init(LogFormat::Text, "info,rustls_platform_verifier=off");
    let output = plan.output;
    let result = tokio::runtime::Runtime::new()
        .map_err(anyhow::Error::from)
        .and_then(|rt| {
            rt.block_on(async {
                obslab_loadgen::run(plan, obslab_common::shutdown::signal()).await
            })
        });
    match result {
        Ok(summary) => finish(&summary, output, html),
        Err(e) => {
            eprintln!("obslab-loadgen: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// Opens the `--html` file, if any, for [`finish`] to write.
fn open_html(path: Option<&Path>) -> anyhow::Result<Option<HtmlFile>> {
    path.map(HtmlFile::create).transpose()
}

/// Writes the report (and its page); 0 when every threshold held, 1
/// otherwise.
fn finish(summary: &Summary, output: obslab_loadgen::Output, html: Option<HtmlFile>) -> ExitCode {
    if let Err(e) = report::emit(summary, output) {
        eprintln!("obslab-loadgen: cannot write the report: {e}");
        return ExitCode::from(2);
    }
    if let Some(Err(e)) = html.map(|page| page.write(summary)) {
        eprintln!("obslab-loadgen: {e:#}");
        return ExitCode::from(2);
    }
    if summary.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
