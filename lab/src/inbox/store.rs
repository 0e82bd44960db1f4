//! The inbox's memory: the last `--keep` notifications, and with `--data`
//! a JSON-lines file that outlives restarts.
//!
//! Memory is bounded by `keep`; so is the file, which is rewritten with only
//! the kept notifications at start and whenever it holds twice as many lines.
//! A line that cannot be read back (a write cut short by a crash, a hand
//! edit) is skipped at start with a warning: the file can never stop the
//! inbox from starting. Writes happen under the store's lock, without an
//! `.await` inside: an append of a few kilobytes to the page cache.

use std::collections::VecDeque;
use std::fs::{File, OpenOptions};
use std::io::{BufRead as _, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use anyhow::Context as _;
use chrono::{DateTime, SecondsFormat, Utc};

use super::payload::{Notification, Raw};

/// A notification as kept: when it arrived, its typed view, and the JSON
/// object served by `/api/notifications` (the payload plus `received_at`).
#[derive(Debug)]
pub struct Entry {
    /// When the inbox received it.
    pub received_at: DateTime<Utc>,
    /// The typed view the page and the metrics read.
    pub notification: Notification,
    /// The payload as received, with `received_at` (RFC 3339) added.
    pub json: String,
}

impl Entry {
    /// Builds the entry of a payload received at `received_at`.
    pub fn new(notification: Notification, mut raw: Raw, received_at: DateTime<Utc>) -> Entry {
        raw.insert(
            "received_at".to_owned(),
            received_at
                .to_rfc3339_opts(SecondsFormat::Millis, true)
                .into(),
        );
        let json = serde_json::Value::Object(raw).to_string();
        Entry {
            received_at,
            notification,
            json,
        }
    }

    /// Reads back a line of the data file.
    fn from_line(line: &str) -> Result<Entry, String> {
        let value: serde_json::Value =
            serde_json::from_str(line).map_err(|e| format!("invalid JSON: {e}"))?;
        let serde_json::Value::Object(raw) = value else {
            return Err("not a JSON object".to_owned());
        };
        let received_at = raw
            .get("received_at")
            .and_then(|v| v.as_str())
            .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
            .ok_or("no RFC 3339 received_at")?
            .with_timezone(&Utc);
        let notification = Notification::from_map(&raw)?;
        Ok(Entry {
            received_at,
            notification,
            json: line.to_owned(),
        })
    }
}

/// The last `keep` notifications, oldest first, and the data file.
#[derive(Debug)]
pub struct Store {
    keep: usize,
    inner: Mutex<Inner>,
}

#[derive(Debug)]
struct Inner {
    entries: VecDeque<Arc<Entry>>,
    data: Option<DataFile>,
}

#[derive(Debug)]
struct DataFile {
    path: PathBuf,
    file: File,
    /// Lines in the file, kept or not.
    lines: usize,
}

impl Store {
    /// A store of at most `keep` (≥ 1) notifications; with `data`, reloads
    /// the last `keep` of that file (created if missing). Returns the store
    /// and how many lines of the file were skipped as unreadable.
    pub fn open(keep: usize, data: Option<&Path>) -> anyhow::Result<(Store, usize)> {
        let keep = keep.max(1);
        let mut entries = VecDeque::with_capacity(keep.min(1024));
        let mut skipped = 0;
        let data = match data {
            None => None,
            Some(path) => {
                match File::open(path) {
                    Ok(file) => {
                        for (n, line) in BufReader::new(file).lines().enumerate() {
                            let line =
                                line.with_context(|| format!("cannot read {}", path.display()))?;
                            if line.trim().is_empty() {
                                continue;
                            }
                            match Entry::from_line(&line) {
                                Ok(entry) => {
                                    if entries.len() == keep {
                                        entries.pop_front();
                                    }
                                    entries.push_back(Arc::new(entry));
                                }
                                Err(e) => {
                                    skipped += 1;
                                    tracing::warn!(
                                        "{}:{}: line skipped: {e}",
                                        path.display(),
                                        n + 1
                                    );
                                }
                            }
                        }
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => {
                        return Err(e).with_context(|| format!("cannot read {}", path.display()));
                    }
                }
                Some(rewrite(path, &entries)?)
            }
        };
        let inner = Mutex::new(Inner { entries, data });
        Ok((Store { keep, inner }, skipped))
    }

    /// Keeps `entry` (dropping the oldest beyond `keep`) and appends it to
    /// the data file. A failed write is logged, never fatal: the page
    /// still shows the notification.
    pub fn add(&self, entry: Entry) -> Arc<Entry> {
        let entry = Arc::new(entry);
        let mut inner = self.lock();
        if inner.entries.len() == self.keep {
            inner.entries.pop_front();
        }
        inner.entries.push_back(entry.clone());
        let Inner { entries, data } = &mut *inner;
        if let Some(data) = data {
            if let Err(e) = data.append(&entry.json, entries, self.keep) {
                tracing::error!("{}: cannot write: {e:#}", data.path.display());
            }
        }
        entry
    }

    /// Every kept notification, newest first.
    pub fn newest_first(&self) -> Vec<Arc<Entry>> {
        self.lock().entries.iter().rev().cloned().collect()
    }

    /// How many notifications are kept.
    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    /// Whether none is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Forgets every notification, in memory and in the data file.
    pub fn clear(&self) -> anyhow::Result<usize> {
        let mut inner = self.lock();
        let n = inner.entries.len();
        inner.entries.clear();
        if let Some(data) = &mut inner.data {
            *data = rewrite(&data.path.clone(), &VecDeque::new())?;
        }
        Ok(n)
    }

    /// The lock; a panic elsewhere while holding it leaves consistent data
    /// (every mutation is a single push, pop or swap), so poison is ignored.
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl DataFile {
    fn append(
        &mut self,
        line: &str,
        entries: &VecDeque<Arc<Entry>>,
        keep: usize,
    ) -> anyhow::Result<()> {
        if self.lines >= 2 * keep {
            *self = rewrite(&self.path, entries)?;
            return Ok(());
        }
        writeln!(self.file, "{line}")?;
        self.lines += 1;
        Ok(())
    }
}

/// Replaces the file at `path` with `entries`, atomically (a temporary file
/// renamed over it), and opens it for appending.
fn rewrite(path: &Path, entries: &VecDeque<Arc<Entry>>) -> anyhow::Result<DataFile> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let mut out = File::create(&tmp).with_context(|| format!("cannot write {}", tmp.display()))?;
    for entry in entries {
        writeln!(out, "{}", entry.json)?;
    }
    out.sync_all()?;
    std::fs::rename(&tmp, path)
        .with_context(|| format!("cannot rename {} to {}", tmp.display(), path.display()))?;
    let file = OpenOptions::new()
        .append(true)
        .open(path)
        .with_context(|| format!("cannot open {} for appending", path.display()))?;
    Ok(DataFile {
        path: path.to_owned(),
        file,
        lines: entries.len(),
    })
}
