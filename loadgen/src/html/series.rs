//! From the report to the lines of its charts: the histograms it carries
//! are decoded and read at the points each chart draws.
//!
//! Everything comes from the [`Summary`] (its `HISTF…` histograms and its
//! timeline), never from the run, so a run and a merge draw the same way.

use hdrhistogram::Histogram;

use super::axis;
use super::charts::Line;
use crate::hdr;
use crate::summary::{Summary, Tick};

/// The name of the total's line in the legends.
pub const ALL: &str = "all requests";

/// The spectrum's lines, the total first then one per endpoint that got
/// answers, and the number of nines the axis spans.
pub fn spectrum(s: &Summary) -> (Vec<Line>, u32) {
    let total = decoded(&s.latency_histogram);
    let span = axis::span(total.len());
    let mut lines = vec![Line {
        name: ALL.to_owned(),
        points: curve(&total, span),
        bold: true,
    }];
    for e in &s.endpoints {
        let h = decoded(&e.latency_histogram);
        if !h.is_empty() {
            lines.push(Line {
                name: format!("{} {}", e.method, e.path),
                points: curve(&h, span),
                bold: false,
            });
        }
    }
    if total.is_empty() {
        lines.clear();
    }
    (lines, span)
}

/// Requests sent, answered and failed in each second of the timeline.
pub fn rates(s: &Summary) -> Vec<Line> {
    let line = |name: &str, count: fn(&Tick) -> u64| Line {
        name: name.to_owned(),
        points: (s.timeline.iter())
            .map(|tick| (tick.t as f64, count(tick) as f64))
            .collect(),
        bold: false,
    };
    vec![
        line("sent", |tick| tick.requests),
        line("answered", |tick| tick.responses),
        line("no answer", |tick| tick.errors),
    ]
}

/// The p50 and p99 of the answers of each second (seconds without one are
/// left out).
pub fn latencies(s: &Summary) -> Vec<Line> {
    let seconds: Vec<(f64, Histogram<u64>)> = s
        .timeline
        .iter()
        .map(|tick| (tick.t as f64, decoded(&tick.latency_histogram)))
        .filter(|(_, h)| !h.is_empty())
        .collect();
    [("p50", 0.50), ("p99", 0.99)]
        .into_iter()
        .map(|(name, q)| Line {
            name: name.to_owned(),
            points: seconds
                .iter()
                .map(|(t, h)| (*t, ms(h.value_at_quantile(q))))
                .collect(),
            bold: false,
        })
        .collect()
}

/// The latency at each position of the percentile axis, ending at the
/// maximum.
fn curve(h: &Histogram<u64>, span: u32) -> Vec<(f64, f64)> {
    let mut points: Vec<(f64, f64)> = axis::positions(span)
        .map(|x| (x, ms(h.value_at_quantile(axis::quantile(x)))))
        .collect();
    points.push((f64::from(span), ms(h.max())));
    points
}

/// A histogram of the report; one that does not decode (a report is
/// written by this program, so never in practice) draws as empty.
fn decoded(text: &str) -> Histogram<u64> {
    hdr::decode(text).unwrap_or_else(|_| hdr::histogram_us())
}

fn ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_curve_climbs_from_the_minimum_to_the_maximum() {
        let mut h = hdr::histogram_us();
        for us in 1..=1000 {
            h.record(us * 10).unwrap();
        }
        let points = curve(&h, axis::span(h.len()));
        assert_eq!(points.first(), Some(&(0.0, 0.01)));
        assert_eq!(points.last(), Some(&(3.0, ms(h.max()))));
        assert!(points.windows(2).all(|w| w[0].1 <= w[1].1));
        // At two nines the curve reads the report's p99.
        let at_99 = points.iter().find(|p| p.0 == 2.0).unwrap().1;
        assert_eq!(at_99, ms(h.value_at_quantile(0.99)));
    }
}
