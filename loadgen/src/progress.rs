//! What a run shows while it goes on, and the once-a-second bookkeeping.
//!
//! On a terminal an indicatif line is redrawn in place; elsewhere (a
//! container's log) a tracing line is written every 10 seconds instead,
//! since a redrawn line would fill the log with control characters. The same
//! tick publishes the schedule's current rate to `loadgen_target_rate`.

use std::io::IsTerminal as _;
use std::sync::Arc;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tokio::task::JoinHandle;
use tokio::time::{Instant, MissedTickBehavior, interval};

use crate::exporter::Metrics;
use crate::plan::ProgressMode;
use crate::recorder::{Progress, Recorder};
use crate::schedule::Schedule;

const TICK: Duration = Duration::from_secs(1);
const LOG_EVERY_TICKS: u32 = 10;

/// The running display; [`Monitor::finish`] removes it.
pub(crate) struct Monitor {
    task: JoinHandle<()>,
    bar: Option<ProgressBar>,
}

impl Monitor {
    /// Starts ticking, reading `recorder` and publishing the rate to
    /// `metrics`; `schedule` is `None` in the closed model, and this
    /// process sends `share` of it (`1/N` for a shard of `N`).
    pub(crate) fn start(
        mode: ProgressMode,
        (recorder, metrics): (Arc<Recorder>, Option<Arc<Metrics>>),
        schedule: Option<Schedule>,
        start: Instant,
        share: f64,
    ) -> Self {
        let mode = match mode {
            ProgressMode::Auto if std::io::stderr().is_terminal() => ProgressMode::Bar,
            ProgressMode::Auto => ProgressMode::Log,
            other => other,
        };
        let bar = (mode == ProgressMode::Bar).then(|| {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            let style = ProgressStyle::with_template("{spinner} {elapsed_precise} {msg}")
                .expect("static template");
            bar.set_style(style);
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        let shown = bar.clone();
        let task = tokio::spawn(async move {
            let mut ticks = interval(TICK);
            ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
            let (mut last, mut last_at, mut n) = (Progress::default(), start, 0u32);
            loop {
                ticks.tick().await;
                let target = schedule
                    .as_ref()
                    .map_or(0.0, |s| s.rate_at(start.elapsed()) * share);
                if let Some(m) = &metrics {
                    m.set_target_rate(target);
                }
                let now = recorder.progress();
                n += 1;
                let describe =
                    |since: Progress, at: Instant| line(now, since, at.elapsed(), target);
                match (&shown, mode) {
                    (Some(bar), _) => {
                        bar.set_message(describe(last, last_at));
                        (last, last_at) = (now, Instant::now());
                    }
                    (None, ProgressMode::Log) if n % LOG_EVERY_TICKS == 0 => {
                        tracing::info!("{}", describe(last, last_at));
                        (last, last_at) = (now, Instant::now());
                    }
                    _ => {}
                }
            }
        });
        Monitor { task, bar }
    }

    /// Stops ticking and clears the progress line.
    pub(crate) fn finish(self) {
        self.task.abort();
        if let Some(bar) = self.bar {
            bar.finish_and_clear();
        }
    }
}

fn line(now: Progress, since: Progress, over: Duration, target: f64) -> String {
    let rate = (now.requests - since.requests) as f64 / over.as_secs_f64().max(1e-3);
    let in_flight = now.requests.saturating_sub(now.responses + now.errors);
    let target = if target > 0.0 {
        format!(" (target {target:.1}/s)")
    } else {
        String::new()
    };
    format!(
        "sent {} at {rate:.1}/s{target}, answered {}, no answer {}, dropped {}, in flight {in_flight}",
        now.requests, now.responses, now.errors, now.dropped
    )
}
