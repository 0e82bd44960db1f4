//! The run's settings a report carries: `concurrency`, `connections` and
//! `threads`, what this process ran with, so that a merge adds them up.

use serde::{Deserialize, Serialize};

use crate::plan::{Model, Plan};

/// How wide a run was, in the report's top-level fields (`null` only in a
/// merge of a report that had none).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    /// The most requests in flight at once: the closed model's workers (of
    /// this shard), the open model's `--max-in-flight` cap.
    pub concurrency: Option<u64>,
    /// The most connections open at once: over HTTP/1.1 one per closed-model
    /// worker; the closed model's HTTP/2 connections (`--connections`, one
    /// per thread by default, at most one per worker); the open model's
    /// `--connections` cap (at most `--max-in-flight`).
    pub connections: Option<u64>,
    /// The sending threads.
    pub threads: Option<u64>,
}

impl Settings {
    /// What `plan` runs with, its requests sharing connections as HTTP/2
    /// streams or not (`multiplexes`, known once the client has settled).
    pub fn of(plan: &Plan, multiplexes: bool) -> Settings {
        let threads = plan.worker_threads() as u64;
        let (concurrency, connections) = match plan.model {
            Model::Open {
                max_in_flight,
                connections,
                ..
            } => (max_in_flight as u64, connections.min(max_in_flight) as u64),
            Model::Closed {
                concurrency,
                connections,
            } => {
                let workers = plan.shard.share(concurrency as u64);
                let connections = match connections {
                    _ if !multiplexes => workers,
                    Some(n) => workers.min(n as u64),
                    None => workers.min(threads),
                };
                (workers, connections)
            }
        };
        Settings {
            concurrency: Some(concurrency),
            connections: Some(connections),
            threads: Some(threads),
        }
    }

    /// The settings of processes run side by side: each figure summed,
    /// `None` when one of them lacks it.
    pub fn sum<'a>(all: impl IntoIterator<Item = &'a Settings>) -> Settings {
        let add = |a: Option<u64>, b: Option<u64>| Some(a?.saturating_add(b?));
        let zero = Settings {
            concurrency: Some(0),
            connections: Some(0),
            threads: Some(0),
        };
        all.into_iter().fold(zero, |total, s| Settings {
            concurrency: add(total.concurrency, s.concurrency),
            connections: add(total.connections, s.connections),
            threads: add(total.threads, s.threads),
        })
    }
}
