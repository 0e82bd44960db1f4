//! `obslab-loadgen merge FILE… | -`: many reports in, one exact report out.
//!
//! The shards of a run (`--shard I/N`), or generators that ran side by side
//! against one target with one mix, each write a JSON report that carries
//! its histograms. Adding them up gives the report one process would have
//! written: counts added, histograms added and percentiles computed again
//! from them (never averaged), rates over the union of the windows.
//! Thresholds are judged on the merge, with the usual exit codes, which is
//! where a sharded run's thresholds belong. [`read`] finds the reports in
//! the inputs, [`combine`] checks that they belong together and adds them.

mod combine;
mod read;

use std::io::Read as _;
use std::path::PathBuf;

use clap::Parser;

use crate::plan::Output;
use crate::summary::Summary;
use crate::threshold::{self, Threshold};

pub use self::combine::combine;
pub use self::read::{Found, reports_in};

const EXAMPLES: &str = "\
Examples:
  # the three shards of a run, each written with --output json
  obslab-loadgen merge shard-0.json shard-1.json shard-2.json

  # every pod of a Kubernetes Indexed Job, thresholds judged on the whole
  kubectl logs -l job-name=loadgen --tail=-1 \\
    | obslab-loadgen merge - --threshold 'p99<500ms' --threshold 'error_rate<1%'

  # the merged report as a page to open in a browser
  obslab-loadgen merge --html report.html shard-*.json

  # one JSON document for jq
  obslab-loadgen merge --output json shard-*.json | jq .latency_ms.p99

Exit status: 0 when every threshold held, 1 when one failed, 2 when an input
is not a report (or is cut short, or has no histograms), when reports are of
different targets, mixes or models, or when a shard comes twice. A missing
shard is merged with a warning and listed in `missing_shards`.";

/// Add up reports of obslab-loadgen (the shards of one run, or generators
/// run side by side against one target with one mix) into one exact report.
///
/// Counts are added, latency histograms added (percentiles recomputed from
/// them, never averaged), rates taken over the union of the windows.
#[derive(Debug, Parser)]
#[command(name = "obslab-loadgen merge", bin_name = "obslab-loadgen merge", version, after_help = EXAMPLES)]
pub struct MergeArgs {
    /// Reports written by --output json; `-` reads standard input. One
    /// input may hold several reports one after the other, and lines outside
    /// a report are skipped (so `kubectl logs` output pipes in as it is)
    #[arg(value_name = "FILE", required = true)]
    pub files: Vec<String>,

    /// Report format on stdout (with json, the text summary goes to stderr)
    #[arg(long, env = "LOADGEN_OUTPUT", value_enum, default_value_t = Output::Text)]
    pub output: Output,

    /// Also write the merged report as one self-contained HTML page
    /// (charts inline, nothing loaded from the network)
    #[arg(long, env = "LOADGEN_HTML", value_name = "FILE")]
    pub html: Option<PathBuf>,

    /// Fail (exit 1) unless METRIC OP VALUE holds on the merge, e.g.
    /// "p95<500ms", "error_rate<5%"; repeatable, and comma separated in the
    /// environment
    #[arg(long = "threshold", env = "LOADGEN_THRESHOLD", value_name = "EXPR",
          value_delimiter = ',', value_parser = threshold::parse_threshold)]
    pub thresholds: Vec<Threshold>,
}

/// Reads every input, adds the reports up and judges the thresholds on
/// the sum; an error names the input (and line) at fault.
pub fn merge(args: &MergeArgs) -> anyhow::Result<Summary> {
    let mut found = Vec::new();
    for file in &args.files {
        let (name, text) = read_input(file)?;
        found.extend(reports_in(&name, &text).map_err(anyhow::Error::msg)?);
    }
    let summary = combine::combine(found).map_err(anyhow::Error::msg)?;
    Ok(summary.judged(&args.thresholds))
}

/// The text of one input and the name to call it by.
fn read_input(file: &str) -> anyhow::Result<(String, String)> {
    let mut bytes = Vec::new();
    let name = if file == "-" {
        std::io::stdin()
            .lock()
            .read_to_end(&mut bytes)
            .map_err(|e| anyhow::anyhow!("cannot read standard input: {e}"))?;
        "stdin".to_owned()
    } else {
        bytes = std::fs::read(file).map_err(|e| anyhow::anyhow!("{file}: cannot read it: {e}"))?;
        file.to_owned()
    };
    // Log lines around the reports may hold anything: no UTF-8 error there.
    Ok((name, String::from_utf8_lossy(&bytes).into_owned()))
}
