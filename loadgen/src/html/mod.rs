//! `--html FILE`: the report as one page to look at after a load test.
//!
//! The page is built from the [`Summary`] alone, the same document that
//! `--output json` writes, so a run and a `merge` of its shards render the
//! same way. It holds the latency percentile spectrum (HdrHistogram's
//! classic plot, total and per endpoint), requests per second and p50/p99
//! over time from the timeline, status codes and errors, the endpoints and
//! the run's settings. [`series`] reads the report's histograms into lines,
//! [`charts`] draws them (plotters, SVG), [`page`] lays out the document.
//!
//! The file is opened before the run ([`HtmlFile::create`]), so a path that
//! cannot be written is a usage error at once, not after minutes of load.

mod axis;
mod charts;
mod page;
mod series;

use std::fs::File;
use std::io::{self, Seek as _, Write};
use std::path::{Path, PathBuf};

use anyhow::Context as _;

use crate::summary::Summary;

/// The page's file, opened for writing before the run. A file it created
/// is removed again if the page is never written (the run failed).
#[derive(Debug)]
pub struct HtmlFile {
    path: PathBuf,
    file: File,
    created: bool,
}

impl HtmlFile {
    /// Opens (creating it if needed) `path` for writing, without touching
    /// what it holds until [`HtmlFile::write`]; the error names the file.
    pub fn create(path: &Path) -> anyhow::Result<HtmlFile> {
        let created = !path.exists();
        let file = File::options()
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .with_context(|| format!("--html {}: cannot write it", path.display()))?;
        Ok(HtmlFile {
            path: path.to_owned(),
            file,
            created,
        })
    }

    /// Replaces the file's content with the page of `summary`.
    pub fn write(mut self, summary: &Summary) -> anyhow::Result<()> {
        self.created = false;
        let written = (|| {
            self.file.set_len(0)?;
            self.file.rewind()?;
            let mut w = io::BufWriter::new(&self.file);
            render(summary, &mut w)?;
            w.flush()
        })();
        written.with_context(|| format!("--html {}: cannot write it", self.path.display()))
    }
}

impl Drop for HtmlFile {
    fn drop(&mut self) {
        if self.created {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Writes the page of `summary` into `w`.
pub fn render<W: Write>(summary: &Summary, w: &mut W) -> io::Result<()> {
    let (spectrum, span) = series::spectrum(summary);
    let (rates, latencies, end) = (
        series::rates(summary),
        series::latencies(summary),
        summary.duration_s,
    );
    let charts = page::Charts {
        spectrum: inline(charts::spectrum(&spectrum, span)?),
        rates: inline(charts::counts_over_time(
            &rates,
            "requests per second",
            end,
        )?),
        latencies: inline(charts::latency_over_time(&latencies, end)?),
    };
    w.write_all(page::document(summary, &charts).as_bytes())
}

/// An SVG document as an element of the page: HTML needs no namespace
/// declaration for inline SVG, and without it the page holds no URL but
/// the ones the report names.
fn inline(svg: String) -> String {
    svg.replacen(" xmlns=\"http://www.w3.org/2000/svg\"", "", 1)
}
