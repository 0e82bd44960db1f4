//! The percentile axis of the latency spectrum, in "number of nines".
//!
//! HdrHistogram's classic plot puts the percentile on a log scale of the
//! distance to 100 %: 90 % is one nine, 99 % two, 99.9 % three. Each decade
//! of the tail gets the same width, so the p99.9 a user feels once in a
//! thousand requests is as readable as the median. The axis goes as far
//! as the samples can say something: n answers resolve about log10(n) nines.
//!
//! The latencies beside it span decades too (a cached route in 0.2 ms, a
//! slow one in 2 s), so [`LatencyAxis`] is logarithmic, ticked 1-2-5.
//! Both are plotters coordinates ([`Ranged`]) with their own ticks and
//! labels.

use std::ops::Range;

use plotters::coord::ranged1d::{KeyPointHint, NoDefaultFormatting, Ranged, ValueFormatter};

/// The most nines the axis shows (99.99999 %).
pub const MAX_NINES: u32 = 7;
/// The fewest: up to 99 %, however few the answers.
const MIN_NINES: u32 = 2;
/// Points drawn per nine: the curve is a step function, sampled finely.
const POINTS_PER_NINE: u32 = 40;

/// The percentile axis, 0 to `span` nines, ticked at each whole nine and
/// at the median.
#[derive(Debug, Clone, Copy)]
pub struct NinesAxis {
    span: u32,
}

impl NinesAxis {
    /// The axis from 0 to `span` nines (at least 1).
    pub fn new(span: u32) -> Self {
        Self { span: span.max(1) }
    }
}

impl Ranged for NinesAxis {
    type FormatOption = NoDefaultFormatting;
    type ValueType = f64;

    fn map(&self, x: &f64, limit: (i32, i32)) -> i32 {
        scale(x / f64::from(self.span), limit)
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        // Whole nines only: no light grid lines between them.
        if hint.weight().allow_light_points() {
            return Vec::new();
        }
        let mut ticks: Vec<f64> = (0..=self.span).map(f64::from).collect();
        ticks.insert(1, median());
        ticks
    }

    fn range(&self) -> Range<f64> {
        0.0..f64::from(self.span)
    }
}

impl ValueFormatter<f64> for NinesAxis {
    fn format(x: &f64) -> String {
        label(*x)
    }
}

/// A logarithmic axis of milliseconds from `lo` to `hi`, ticked 1-2-5.
#[derive(Debug, Clone, Copy)]
pub struct LatencyAxis {
    lo: f64,
    hi: f64,
}

impl LatencyAxis {
    /// The axis from `lo` to `hi` ms (both above 0, `lo` below `hi`).
    pub fn new(lo: f64, hi: f64) -> Self {
        Self { lo, hi }
    }
}

impl Ranged for LatencyAxis {
    type FormatOption = NoDefaultFormatting;
    type ValueType = f64;

    fn map(&self, ms: &f64, limit: (i32, i32)) -> i32 {
        let ms = ms.max(self.lo);
        scale((ms / self.lo).ln() / (self.hi / self.lo).ln(), limit)
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            return Vec::new();
        }
        log_ticks(self.lo, self.hi)
    }

    fn range(&self) -> Range<f64> {
        self.lo..self.hi
    }
}

impl ValueFormatter<f64> for LatencyAxis {
    fn format(ms: &f64) -> String {
        short(*ms)
    }
}

/// The pixel at `fraction` (0..1) of the way from `limit.0` to `limit.1`.
fn scale(fraction: f64, (from, to): (i32, i32)) -> i32 {
    from + (fraction * f64::from(to - from)).round() as i32
}

/// Position of quantile `q` (0..1) on the axis: `-log10(1 - q)`, so 0.9 is
/// 1 and 0.999 is 3; 1 (the maximum) is infinitely far.
#[cfg(test)]
pub fn nines(q: f64) -> f64 {
    -(1.0 - q).log10()
}

/// The quantile at position `x` of the axis (the inverse of [`nines`]).
pub fn quantile(x: f64) -> f64 {
    1.0 - 10f64.powf(-x)
}

/// The label of the tick at `x`: its percentile, `0%`, `50%`, `90%`,
/// `99%`, `99.9%`, `99.99%`… (to the 5 decimals of 7 nines).
pub fn label(x: f64) -> String {
    let percent = format!("{:.5}", 100.0 * quantile(x));
    let percent = percent.trim_end_matches('0').trim_end_matches('.');
    format!("{percent}%")
}

/// The position of the median on the axis, ticked beside the whole nines.
pub fn median() -> f64 {
    2f64.log10()
}

/// How many nines the axis spans for `count` answers: the whole nines the
/// samples resolve (log10 of the count, rounded up), within 2..=7.
pub fn span(count: u64) -> u32 {
    let resolved = (count.max(1) as f64).log10().ceil() as u32;
    resolved.clamp(MIN_NINES, MAX_NINES)
}

/// The positions the curve is sampled at, from 0 to `span` included.
pub fn positions(span: u32) -> impl Iterator<Item = f64> {
    (0..=span * POINTS_PER_NINE).map(|i| f64::from(i) / f64::from(POINTS_PER_NINE))
}

/// Ticks of a log-scale latency axis from `lo` to `hi` (> 0): the 1-2-5
/// sequence (0.1, 0.2, 0.5, 1, 2, 5, 10…), or only the powers of ten when
/// that would make more than a dozen ticks.
pub fn log_ticks(lo: f64, hi: f64) -> Vec<f64> {
    let mut ticks = Vec::new();
    let (first, last) = (lo.log10().floor() as i32, hi.log10().ceil() as i32);
    for exponent in first..=last {
        for step in [1.0, 2.0, 5.0] {
            let tick = step * 10f64.powi(exponent);
            if tick >= lo && tick <= hi {
                ticks.push(tick);
            }
        }
    }
    if ticks.len() > 12 {
        ticks.retain(|t| (t.log10() - t.log10().round()).abs() < 1e-9);
    }
    ticks
}

/// A short form of a number of milliseconds for tick labels: `0.25`,
/// `1.5`, `20`, `1500`.
pub fn short(v: f64) -> String {
    let text = if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    };
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use plotters::coord::ranged1d::BoldPoints;

    use super::*;

    #[test]
    fn quantiles_sit_on_their_number_of_nines() {
        // (quantile, position on the axis)
        let table = [
            (0.0, 0.0),
            (0.9, 1.0),
            (0.99, 2.0),
            (0.999, 3.0),
            (0.9999, 4.0),
        ];
        for (q, x) in table {
            assert!((nines(q) - x).abs() < 1e-9, "nines({q}) = {}", nines(q));
            assert!(
                (quantile(x) - q).abs() < 1e-12,
                "quantile({x}) = {}",
                quantile(x)
            );
        }
        assert!(nines(1.0).is_infinite());
        assert!(nines(0.5) > 0.0 && nines(0.5) < 1.0);
    }

    #[test]
    fn ticks_read_as_percentiles() {
        let labels: Vec<String> = (0..=5).map(|n| label(f64::from(n))).collect();
        assert_eq!(labels, ["0%", "90%", "99%", "99.9%", "99.99%", "99.999%"]);
        assert_eq!(label(median()), "50%");
        assert_eq!(label(7.0), "99.99999%");
    }

    #[test]
    fn the_axis_spans_the_nines_the_samples_resolve() {
        // (answers, nines shown)
        let table = [
            (0, 2),
            (1, 2),
            (100, 2),
            (101, 3),
            (1_000, 3),
            (25_000, 5),
            (u64::MAX, 7),
        ];
        for (count, nines) in table {
            assert_eq!(span(count), nines, "{count} answers");
        }
        let xs: Vec<f64> = positions(2).collect();
        assert_eq!(xs.len(), 81);
        assert_eq!(xs.first(), Some(&0.0));
        assert_eq!(xs.last(), Some(&2.0));
        assert!(xs.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn the_axes_map_their_ticks_evenly() {
        let nines = NinesAxis::new(4);
        let pixels: Vec<i32> = [0.0, 1.0, 2.0, 4.0]
            .iter()
            .map(|x| nines.map(x, (0, 400)))
            .collect();
        assert_eq!(pixels, [0, 100, 200, 400]);
        let ticks = nines.key_points(BoldPoints(10));
        assert_eq!(ticks, [0.0, median(), 1.0, 2.0, 3.0, 4.0]);
        assert!(nines.key_points(10).is_empty(), "no light grid lines");
        // Log scale: each decade the same height, upwards on screen.
        let ms = LatencyAxis::new(0.1, 1000.0);
        let pixels: Vec<i32> = [0.1, 1.0, 10.0, 1000.0, 0.0]
            .iter()
            .map(|v| ms.map(v, (400, 0)))
            .collect();
        assert_eq!(pixels, [400, 300, 200, 0, 400]);
    }

    #[test]
    fn latency_ticks_follow_1_2_5_and_stay_few() {
        assert_eq!(log_ticks(0.15, 30.0), [0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0]);
        assert_eq!(log_ticks(0.01, 3000.0).len(), 6);
        assert_eq!(log_ticks(0.01, 3000.0).last(), Some(&1000.0));
        let labels: Vec<String> = [0.25, 1.5, 20.0, 1500.0, 2.0].map(short).to_vec();
        assert_eq!(labels, ["0.25", "1.5", "20", "1500", "2"]);
    }
}
