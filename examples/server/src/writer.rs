//! Group commit: each request hands its block (`crate::log::Block`) to one
//! writer task, which leaves out the `messageId`s the tenant already sent
//! (`crate::log::Dedup`), appends whatever has queued up meanwhile in one
//! transaction, syncs it, and only then answers each request. Under load many requests share one disk sync; a lone
//! request is written at once. The parsed messages of each commit then go
//! straight to this process's pipeline, with their log positions, so it need not
//! read back and decode what it has just written.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use stratum_cdp::message::Message;
use tokio::sync::{mpsc, oneshot};

use crate::crypto::KeyRing;
use crate::db::{Db, LoggedIds, NewBlock};
use crate::log::{Block, Dedup, Key};
use crate::metrics::Metrics;

/// Commits queued for the pipeline; past this, a commit is not handed over and
/// the pipeline reads it from the log instead.
pub const HANDOVER_QUEUE: usize = 256;

/// A committed event, handed to the pipeline.
#[derive(Debug, Clone)]
pub struct LocalEvent {
    /// Its log position.
    pub seq: i64,
    /// The tenant.
    pub tenant_id: String,
    /// The message.
    pub message: Message,
}

/// The new events of one commit, in log order (never empty).
#[derive(Debug, Clone)]
pub struct Committed {
    /// The events.
    pub events: Vec<LocalEvent>,
}

/// How the writer absorbs a `messageId` sent again (`crate::log::Dedup`).
#[derive(Debug, Clone, Copy)]
pub struct DedupSettings {
    /// How long an id is remembered.
    pub window: TimeDelta,
    /// The most ids remembered (about 60 bytes each); past it, the oldest go
    /// first.
    pub capacity: usize,
}

impl Default for DedupSettings {
    fn default() -> Self {
        Self {
            window: crate::log::DEDUP_WINDOW,
            capacity: crate::log::DEDUP_CAPACITY,
        }
    }
}

/// Most rows written in one transaction.
const MAX_ROWS_PER_COMMIT: usize = 20_000;

struct Job {
    block: Block,
    done: oneshot::Sender<Result<(), String>>,
}

/// The handle requests write through.
#[derive(Debug, Clone)]
pub struct Writer {
    tx: mpsc::Sender<Job>,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Job")
            .field("events", &self.block.events.len())
            .finish()
    }
}

/// Why rows were not written.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// The writer has stopped (the server is shutting down).
    #[error("the server is shutting down")]
    Stopped,
    /// The database refused the transaction: nothing of it was written.
    #[error("the database failed: {0}")]
    Database(String),
}

impl Writer {
    /// Starts the writer task. It first rebuilds its duplicate filter from the
    /// log's last `dedup.window` (requests wait meanwhile). The new
    /// events of each commit go to `handover` (the pipeline); `head` tracks the
    /// last committed log position; `keys` seal a block again when duplicates
    /// are left out of it. The task ends when every handle is dropped, after
    /// writing what was queued.
    #[must_use]
    pub fn start(
        db: Db,
        keys: KeyRing,
        dedup: DedupSettings,
        metrics: Arc<Metrics>,
        handover: mpsc::Sender<Committed>,
        head: Arc<AtomicI64>,
    ) -> (Self, tokio::task::JoinHandle<()>) {
        let (tx, rx) = mpsc::channel::<Job>(4096);
        let out = Out {
            metrics,
            handover,
            head,
            keys,
        };
        let task = tokio::spawn(run(db, rx, out, dedup));
        (Self { tx }, task)
    }

    /// Appends `block` durably (less the `messageId`s the tenant already sent);
    /// returns once it is committed and synced.
    ///
    /// # Errors
    /// [`WriteError`]: nothing of this block was acknowledged.
    pub async fn write(&self, block: Block) -> Result<(), WriteError> {
        if block.events.is_empty() {
            return Ok(());
        }
        let (done, wait) = oneshot::channel();
        self.tx
            .send(Job { block, done })
            .await
            .map_err(|_| WriteError::Stopped)?;
        match wait.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(WriteError::Database(e)),
            Err(_) => Err(WriteError::Stopped),
        }
    }
}

/// Where a commit's results go, and what it seals with.
struct Out {
    metrics: Arc<Metrics>,
    handover: mpsc::Sender<Committed>,
    head: Arc<AtomicI64>,
    keys: KeyRing,
}

async fn run(db: Db, mut rx: mpsc::Receiver<Job>, out: Out, settings: DedupSettings) {
    let mut filter = match Dedup::new(settings.window, settings.capacity) {
        Ok(dedup) => Filter { dedup, known: 0 },
        Err(e) => {
            tracing::error!(error = %e, "writer: no random salt for the duplicate filter");
            while let Some(job) = rx.recv().await {
                let _ = job.done.send(Err(e.to_string()));
            }
            return;
        }
    };
    // The filter is rebuilt from the log before the first commit.
    while let Err(e) = rebuild(&db, &mut filter).await {
        tracing::error!(error = %e, "writer: reading recent messageIds failed; retrying");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    while let Some(first) = rx.recv().await {
        let mut jobs = vec![first];
        let mut rows = jobs[0].block.events.len();
        while rows < MAX_ROWS_PER_COMMIT {
            match rx.try_recv() {
                Ok(job) => {
                    rows += job.block.events.len();
                    jobs.push(job);
                }
                Err(_) => break,
            }
        }
        if let Err((jobs, e)) = commit(&db, jobs, &out, &mut filter).await {
            if jobs.len() == 1 {
                fail(jobs, &e);
                continue;
            }
            // One request's rows must not fail the others' (a value the database
            // refuses, say): each is tried in a transaction of its own.
            tracing::warn!(error = %e, requests = jobs.len(), "group commit failed; committing each request alone");
            for job in jobs {
                if let Err((job, e)) = commit(&db, vec![job], &out, &mut filter).await {
                    fail(job, &e);
                }
            }
        }
    }
}

/// The `messageId`s of the log up to position `known`, within the window.
#[derive(Debug)]
struct Filter {
    dedup: Dedup,
    known: i64,
}

/// A log row's ids as filter keys, with its receive time; `None` (reported)
/// for a row whose time or ids do not parse.
fn row_keys(dedup: &Dedup, row: &LoggedIds) -> Option<(Vec<Key>, DateTime<Utc>)> {
    let seq = row.last_seq;
    let Ok(at) = DateTime::parse_from_rfc3339(&row.received_at).map(|t| t.to_utc()) else {
        tracing::error!(seq, "writer: a log row's receive time does not parse");
        return None;
    };
    match crate::log::parse_ids(&row.ids) {
        Ok(ids) => Some((
            ids.iter().map(|id| dedup.key(&row.tenant_id, id)).collect(),
            at,
        )),
        Err(e) => {
            tracing::error!(seq, error = %e, "writer: a log row's ids do not parse");
            None
        }
    }
}

impl Filter {
    /// Adds the ids of log rows (in log order) appended after `known`.
    fn absorb(&mut self, rows: &[LoggedIds]) {
        for row in rows {
            if row.last_seq <= self.known {
                continue;
            }
            self.known = row.last_seq;
            if let Some((keys, at)) = row_keys(&self.dedup, row) {
                for key in keys {
                    self.dedup.insert(key, at);
                }
            }
        }
    }
}

/// Fills the filter with the `messageId`s of the log's last window, read
/// newest first until the window or the capacity ends.
async fn rebuild(db: &Db, filter: &mut Filter) -> Result<(), sqlx::Error> {
    let head = db.head().await?;
    let dedup = &mut filter.dedup;
    let cutoff = crate::now() - dedup.window();
    // Newest row first; each row's keys in order.
    let mut rows_keys: Vec<(Vec<Key>, DateTime<Utc>)> = Vec::new();
    let mut count = 0;
    let mut below = head.saturating_add(1);
    'rows: loop {
        let rows = db.recent_ids(below, 1_000).await?;
        if rows.is_empty() {
            break;
        }
        for row in rows {
            below = row.last_seq;
            let Some((keys, at)) = row_keys(dedup, &row) else {
                continue;
            };
            if at < cutoff || count >= dedup.capacity() {
                break 'rows;
            }
            count += keys.len();
            rows_keys.push((keys, at));
        }
    }
    for (keys, at) in rows_keys.into_iter().rev() {
        for key in keys {
            dedup.insert(key, at);
        }
    }
    filter.known = head;
    Ok(())
}

fn fail(jobs: Vec<Job>, e: &str) {
    tracing::error!(error = %e, "commit failed");
    for job in jobs {
        let _ = job.done.send(Err(e.to_owned()));
    }
}

/// What one transaction wrote: the first position, and per job the indices of
/// its events that were new, with their keys.
struct Appended {
    first: i64,
    kept: Vec<Vec<usize>>,
    keys: Vec<(Key, DateTime<Utc>)>,
}

/// Appends the new events of `jobs` in one transaction; nothing is written
/// when this fails. Under the log's lock, the filter first takes in what other
/// processes appended since it last looked.
async fn append(
    db: &Db,
    jobs: &[Job],
    keys: &KeyRing,
    filter: &mut Filter,
) -> Result<Appended, String> {
    let text = |e: sqlx::Error| e.to_string();
    let mut tx = db.begin_append().await.map_err(text)?;
    let head = tx.head().await.map_err(text)?;
    if head > filter.known {
        let rows = tx.ids_after(filter.known).await.map_err(text)?;
        filter.absorb(&rows);
    }
    let dedup = &filter.dedup;
    let mut kept = Vec::with_capacity(jobs.len());
    let mut new_keys = Vec::new();
    let mut seen: HashSet<Key> = HashSet::new();
    for job in jobs {
        let tenant = job.block.tenant_id.as_str();
        let mut k = Vec::with_capacity(job.block.events.len());
        for (i, id) in job.block.message_ids().enumerate() {
            let key = dedup.key(tenant, id);
            // A `messageId` twice in one commit is new once.
            if !dedup.contains(key) && seen.insert(key) {
                new_keys.push((key, job.block.received_at));
                k.push(i);
            }
        }
        kept.push(k);
    }
    // A block with some duplicates left out is sealed again over what is left.
    let mut resealed = Vec::with_capacity(jobs.len());
    for (job, k) in jobs.iter().zip(&kept) {
        resealed.push(if !k.is_empty() && k.len() < job.block.events.len() {
            Some(job.block.reseal(keys, k).map_err(|e| e.to_string())?)
        } else {
            None
        });
    }
    let blocks: Vec<NewBlock<'_>> = jobs
        .iter()
        .zip(&kept)
        .zip(&resealed)
        .filter(|((_, k), _)| !k.is_empty())
        .map(|((job, k), r)| {
            let (ids, body) = r.as_ref().map_or(
                (job.block.ids.as_str(), job.block.body.as_str()),
                |(i, b)| (i.as_str(), b.as_str()),
            );
            NewBlock {
                tenant_id: &job.block.tenant_id,
                received_at: job.block.received_at,
                count: k.len() as i64,
                ids,
                body,
            }
        })
        .collect();
    let first = head + 1;
    if !blocks.is_empty() {
        tx.insert(first, &blocks).await.map_err(text)?;
    }
    tx.commit().await.map_err(text)?;
    Ok(Appended {
        first,
        kept,
        keys: new_keys,
    })
}

/// Appends the new events of `jobs` in one transaction, answers each job and
/// hands the new events to the pipeline; on failure nothing is written and the
/// jobs come back unanswered.
async fn commit(
    db: &Db,
    mut jobs: Vec<Job>,
    out: &Out,
    filter: &mut Filter,
) -> Result<(), (Vec<Job>, String)> {
    let rows: usize = jobs.iter().map(|j| j.block.events.len()).sum();
    let started = std::time::Instant::now();
    let result = append(db, &jobs, &out.keys, filter).await;
    out.metrics.observe_commit(started.elapsed(), rows);
    let appended = match result {
        Ok(a) => a,
        Err(e) => return Err((jobs, e)),
    };
    for (key, at) in appended.keys {
        filter.dedup.insert(key, at);
    }
    let inserted: usize = appended.kept.iter().map(Vec::len).sum();
    out.metrics
        .count_ingest(inserted as u64, (rows - inserted) as u64);
    let mut events = Vec::with_capacity(inserted);
    let mut seq = appended.first;
    for (job, k) in jobs.iter_mut().zip(&appended.kept) {
        // `k` is ascending: the kept events, in block order.
        let mut kept = k.iter().copied().peekable();
        for (i, e) in std::mem::take(&mut job.block.events)
            .into_iter()
            .enumerate()
        {
            if kept.next_if_eq(&i).is_some() {
                events.push(LocalEvent {
                    seq,
                    tenant_id: job.block.tenant_id.clone(),
                    message: e.message,
                });
                seq += 1;
            }
        }
    }
    if inserted > 0 {
        filter.known = seq - 1;
        out.head.fetch_max(seq - 1, Ordering::Relaxed);
    }
    for job in jobs {
        let _ = job.done.send(Ok(()));
    }
    if !events.is_empty() {
        // When the pipeline is behind, it reads these from the log.
        let _ = out.handover.try_send(Committed { events });
    }
    Ok(())
}
