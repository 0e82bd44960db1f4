//! Pacing as a pure function of the request number.
//!
//! The open model never asks "how long should I sleep?" but "when is request
//! `n` due?", measured from the start of the run. Answering from an absolute
//! schedule means no drift however long the run, a driver that can catch up
//! by issuing every request already due, and tests that check ramps as
//! tables without a clock (vegeta's `LinearPacer` is the model).
//!
//! A schedule is a list of segments whose rate moves linearly from `from` to
//! `to` (req/s). The number of requests due by time `t` into a segment is the
//! integral of that rate, `H(t) = a·t + k·t²/2` with `a = from` and slope
//! `k`; request `n` is due when `H(t) = n`, so request 0 leaves at once.

use std::time::Duration;

use obslab_common::duration::parse_nonzero;

/// One step of `--stages`: reach `target` req/s linearly over `duration`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stage {
    /// How long the ramp lasts.
    pub duration: Duration,
    /// The rate (req/s) reached at the end of the stage.
    pub target: f64,
}

/// Parses `DURATION:RATE,...` (e.g. `30s:10,2m:100,30s:0`) for `--stages`.
pub fn parse_stages(spec: &str) -> Result<Vec<Stage>, String> {
    let stages = spec
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(parse_stage)
        .collect::<Result<Vec<_>, _>>()?;
    if stages.is_empty() {
        return Err("no stages: give `DURATION:RATE,...`, e.g. `30s:10,1m:10`".into());
    }
    Ok(stages)
}

fn parse_stage(item: &str) -> Result<Stage, String> {
    let (duration, target) = item
        .split_once(':')
        .ok_or_else(|| format!("`{item}` is not `DURATION:RATE` (e.g. `30s:10`)"))?;
    let duration = parse_nonzero(duration.trim())?;
    let target = parse_rate_allowing_zero(target.trim())?;
    Ok(Stage { duration, target })
}

/// Parses a rate in requests per second that must be above zero.
pub fn parse_rate(s: &str) -> Result<f64, String> {
    match parse_rate_allowing_zero(s)? {
        r if r > 0.0 => Ok(r),
        _ => Err(format!("`{s}`: the rate must be above zero")),
    }
}

fn parse_rate_allowing_zero(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(r) if r.is_finite() && r >= 0.0 => Ok(r),
        _ => Err(format!("`{s}` is not a rate in requests per second (>= 0)")),
    }
}

/// When each request of an open-model run is due.
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    segments: Vec<Segment>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct Segment {
    start: f64,       // seconds since the start of the run
    len: f64,         // seconds; infinite for a constant rate
    hits_before: f64, // requests due before the segment starts
    from: f64,        // req/s at the start
    slope: f64,       // req/s per second
}

impl Segment {
    fn hits(&self, t: f64) -> f64 {
        self.from * t + self.slope * t * t / 2.0
    }

    fn hits_after(&self) -> f64 {
        if self.len.is_infinite() {
            return f64::INFINITY; // a constant rate that never ends
        }
        self.hits_before + self.hits(self.len)
    }
}

impl Schedule {
    /// `rate` req/s for as long as the run lasts.
    pub fn constant(rate: f64) -> Self {
        let seg = Segment {
            start: 0.0,
            len: f64::INFINITY,
            hits_before: 0.0,
            from: rate,
            slope: 0.0,
        };
        Self {
            segments: vec![seg],
        }
    }

    /// Linear ramps from `start_rate` through each stage's target; the
    /// schedule ends with the last stage.
    pub fn ramping(start_rate: f64, stages: &[Stage]) -> Self {
        let (mut start, mut hits_before, mut from) = (0.0, 0.0, start_rate);
        let mut segments = Vec::with_capacity(stages.len());
        for stage in stages {
            let len = stage.duration.as_secs_f64();
            let slope = (stage.target - from) / len;
            let seg = Segment {
                start,
                len,
                hits_before,
                from,
                slope,
            };
            (start, hits_before, from) = (start + len, seg.hits_after(), stage.target);
            segments.push(seg);
        }
        Self { segments }
    }

    /// Offset from the start at which request `n` (0-based) is due, or
    /// `None` once the schedule has no more requests.
    pub fn intended(&self, n: u64) -> Option<Duration> {
        let n = n as f64;
        let seg = self.segments.iter().find(|s| n < s.hits_after())?;
        let m = n - seg.hits_before;
        // Root of a·t + k·t²/2 = m in the form that stays exact when k = 0
        // and when a = 0: t = 2m / (a + sqrt(a² + 2km)).
        let t = if m <= 0.0 {
            0.0
        } else {
            let disc = (seg.from * seg.from + 2.0 * seg.slope * m).max(0.0);
            2.0 * m / (seg.from + disc.sqrt())
        };
        // Beyond Duration's range (a rate like 1e-20) the schedule ends.
        Duration::try_from_secs_f64(seg.start + t.min(seg.len)).ok()
    }

    /// The rate (req/s) the schedule asks for at `elapsed`.
    pub fn rate_at(&self, elapsed: Duration) -> f64 {
        let t = elapsed.as_secs_f64();
        self.segment_at(t)
            .map_or(0.0, |s| s.from + s.slope * (t - s.start))
    }

    /// How many requests are due by `elapsed` (fractional).
    pub fn hits(&self, elapsed: Duration) -> f64 {
        let t = elapsed.as_secs_f64();
        match self.segment_at(t) {
            Some(s) => s.hits_before + s.hits(t - s.start),
            None => self.segments.last().map_or(0.0, Segment::hits_after),
        }
    }

    /// Total length, or `None` for a constant rate that runs until stopped.
    pub fn length(&self) -> Option<Duration> {
        let end = self.segments.last().map_or(0.0, |s| s.start + s.len);
        Duration::try_from_secs_f64(end).ok()
    }

    fn segment_at(&self, t: f64) -> Option<&Segment> {
        self.segments.iter().find(|s| t < s.start + s.len)
    }
}
