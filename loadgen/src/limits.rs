//! When the load generator, not the target, limits the figures.
//!
//! An open-model generator that cannot send on time adds its own delay to
//! every latency it reports (they count from the intended send time), and a
//! generator that uses all the CPU it has is measuring itself. Both are
//! detected from what the run measured, with rules that are pure functions
//! here, so the report can say so instead of blaming the target:
//!
//! - **late sends**: the schedule lag's p99 is above [`LAG_FLOOR_MS`] and
//!   above [`LAG_SHARE`] of the latency p99 — the generator's own delay is a
//!   visible part of the tail it reports (below 1 ms it is timer
//!   granularity; a slow target's tail dwarfs a small lag);
//! - **CPU-bound**: the process's CPU time over the run's wall time is at
//!   least [`CPU_SHARE`] of the threads that could run at once (the sending
//!   threads, at most the machine's cores).

/// Schedule lag p99 below this (ms) is never a warning: timer granularity.
pub const LAG_FLOOR_MS: f64 = 1.0;
/// Schedule lag p99 above this share of the latency p99 is a warning.
pub const LAG_SHARE: f64 = 0.10;
/// CPU time over wall time above this share of the usable threads is a
/// warning.
pub const CPU_SHARE: f64 = 0.9;

/// The generator's own resource use over a run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    /// CPU seconds (user + system) the process used, when the platform
    /// tells.
    pub cpu_s: Option<f64>,
    /// Wall-clock seconds over which it used them.
    pub wall_s: f64,
    /// Threads that send or run requests, at most the machine's cores.
    pub threads: usize,
}

impl Limits {
    /// Threads that can run at once: `threads`, at most the machine's cores.
    pub fn usable(threads: usize) -> usize {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        threads.clamp(1, cores)
    }
}

/// The warnings a run deserves: `lag_p99_ms` is the schedule lag's p99
/// (open model), `latency_p99_ms` the latency p99.
pub fn warnings(lag_p99_ms: Option<f64>, latency_p99_ms: f64, limits: &Limits) -> Vec<String> {
    let mut warnings = Vec::new();
    if let Some(lag) = lag_p99_ms {
        if lag > LAG_FLOOR_MS && lag > LAG_SHARE * latency_p99_ms {
            warnings.push(format!(
                "the load generator sent late: schedule lag p99 {lag:.2} ms against latency \
                 p99 {latency_p99_ms:.2} ms, so the latencies include its own delays \
                 (figures limited by the load generator)"
            ));
        }
    }
    if let Some(cpu) = limits.cpu_s.filter(|_| limits.wall_s > 0.0) {
        let busy = cpu / limits.wall_s;
        if busy >= CPU_SHARE * limits.threads as f64 {
            warnings.push(format!(
                "the load generator was CPU-bound: {busy:.2} CPUs busy of {} usable \
                 (figures limited by the load generator)",
                limits.threads
            ));
        }
    }
    warnings
}

/// CPU seconds (user + system) this process has used so far, or `None`
/// where the platform does not tell.
pub fn process_cpu_seconds() -> Option<f64> {
    #[cfg(target_os = "linux")]
    {
        use prometheus::core::Collector as _;
        let families = prometheus::process_collector::ProcessCollector::for_self().collect();
        let cpu = families
            .iter()
            .find(|f| f.name() == "process_cpu_seconds_total")?;
        cpu.get_metric()
            .first()
            .map(|m| m.get_counter().get_value())
    }
    #[cfg(not(target_os = "linux"))]
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(cpu_s: Option<f64>, wall_s: f64, threads: usize) -> Limits {
        Limits {
            cpu_s,
            wall_s,
            threads,
        }
    }

    #[test]
    fn warnings_follow_the_rules() {
        let idle = limits(Some(0.5), 10.0, 2);
        // (lag p99, latency p99, limits) => number of warnings
        let cases = [
            // Closed model, idle: nothing.
            (None, 50.0, idle, 0),
            // 0.9 ms of lag is timer granularity, whatever the latency.
            (Some(0.9), 1.0, idle, 0),
            // 2 ms of lag in a 100 ms tail: the target's tail.
            (Some(2.0), 100.0, idle, 0),
            // 2 ms of lag in a 12 ms tail: the generator's.
            (Some(2.0), 12.0, idle, 1),
            // Nothing answered: any lag over the floor.
            (Some(1.5), 0.0, idle, 1),
            // 1.8 CPUs of 2 usable: CPU-bound.
            (None, 1.0, limits(Some(18.0), 10.0, 2), 1),
            (None, 1.0, limits(Some(17.0), 10.0, 2), 0),
            // Unknown CPU time or an empty window: no CPU verdict.
            (None, 1.0, limits(None, 10.0, 1), 0),
            (None, 1.0, limits(Some(1.0), 0.0, 1), 0),
            // Both.
            (Some(30.0), 31.0, limits(Some(10.0), 10.0, 1), 2),
        ];
        for (lag, latency, limits, n) in cases {
            let w = warnings(lag, latency, &limits);
            assert_eq!(w.len(), n, "{lag:?} {latency} {limits:?}: {w:?}");
            assert!(
                w.iter()
                    .all(|w| w.contains("limited by the load generator"))
            );
        }
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn the_process_cpu_time_is_known_on_linux() {
        assert!(process_cpu_seconds().is_some_and(|s| s >= 0.0));
    }
}
