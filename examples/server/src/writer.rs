//! Group commit: requests hand their rows to one writer task, which appends
//! whatever has queued up meanwhile in one transaction, syncs it, and only then
//! answers each request. Under load many requests share one disk sync; a lone
//! request is written at once. The parsed messages of each commit then go
//! straight to this process's pipeline, with their log positions, so it need not
//! read back and decode what it has just written.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use stratum_cdp::message::Message;
use tokio::sync::{mpsc, oneshot};

use crate::db::{Db, EventRow};
use crate::metrics::Metrics;

/// Commits queued for the pipeline; past this, a commit is not handed over and
/// the pipeline reads it from the log instead.
pub const HANDOVER_QUEUE: usize = 256;

/// One event to append: its log row and the message it seals.
#[derive(Debug, Clone)]
pub struct Pending {
    /// The log row.
    pub row: EventRow,
    /// The parsed message.
    pub message: Message,
}

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

/// Most rows written in one transaction.
const MAX_ROWS_PER_COMMIT: usize = 20_000;

struct Job {
    events: Vec<Pending>,
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
            .field("events", &self.events.len())
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
    /// Starts the writer task. The new events of each commit go to `handover`
    /// (the pipeline); `head` tracks the last committed log position. The task
    /// ends when every handle is dropped, after writing what was queued.
    #[must_use]
    pub fn start(
        db: Db,
        metrics: Arc<Metrics>,
        handover: mpsc::Sender<Committed>,
        head: Arc<AtomicI64>,
    ) -> (Self, tokio::task::JoinHandle<()>) {
        let (tx, rx) = mpsc::channel::<Job>(4096);
        let task = tokio::spawn(run(db, rx, metrics, handover, head));
        (Self { tx }, task)
    }

    /// Appends `events` durably; returns once they are committed and synced.
    ///
    /// # Errors
    /// [`WriteError`]: nothing of these events was acknowledged.
    pub async fn write(&self, events: Vec<Pending>) -> Result<(), WriteError> {
        if events.is_empty() {
            return Ok(());
        }
        let (done, wait) = oneshot::channel();
        self.tx
            .send(Job { events, done })
            .await
            .map_err(|_| WriteError::Stopped)?;
        match wait.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(WriteError::Database(e)),
            Err(_) => Err(WriteError::Stopped),
        }
    }
}

async fn run(
    db: Db,
    mut rx: mpsc::Receiver<Job>,
    metrics: Arc<Metrics>,
    handover: mpsc::Sender<Committed>,
    head: Arc<AtomicI64>,
) {
    let out = Out {
        metrics,
        handover,
        head,
    };
    while let Some(first) = rx.recv().await {
        let mut jobs = vec![first];
        let mut rows = jobs[0].events.len();
        while rows < MAX_ROWS_PER_COMMIT {
            match rx.try_recv() {
                Ok(job) => {
                    rows += job.events.len();
                    jobs.push(job);
                }
                Err(_) => break,
            }
        }
        if let Err((jobs, e)) = commit(&db, jobs, &out).await {
            if jobs.len() == 1 {
                fail(jobs, &e);
                continue;
            }
            // One request's rows must not fail the others' (a value the database
            // refuses, say): each is tried in a transaction of its own.
            tracing::warn!(error = %e, requests = jobs.len(), "group commit failed; committing each request alone");
            for job in jobs {
                if let Err((job, e)) = commit(&db, vec![job], &out).await {
                    fail(job, &e);
                }
            }
        }
    }
}

/// Where a commit's results go.
struct Out {
    metrics: Arc<Metrics>,
    handover: mpsc::Sender<Committed>,
    head: Arc<AtomicI64>,
}

fn fail(jobs: Vec<Job>, e: &sqlx::Error) {
    tracing::error!(error = %e, "commit failed");
    let message = e.to_string();
    for job in jobs {
        let _ = job.done.send(Err(message.clone()));
    }
}

/// Appends the rows of `jobs` in one transaction, answers each job and hands the
/// new events to the pipeline; on failure nothing is written and the jobs come
/// back unanswered.
async fn commit(db: &Db, mut jobs: Vec<Job>, out: &Out) -> Result<(), (Vec<Job>, sqlx::Error)> {
    let all: Vec<&EventRow> = jobs
        .iter()
        .flat_map(|j| j.events.iter().map(|e| &e.row))
        .collect();
    let rows = all.len();
    let started = std::time::Instant::now();
    let result = db.append(&all).await;
    out.metrics.observe_commit(started.elapsed(), rows);
    drop(all);
    let appended = match result {
        Ok(appended) => appended,
        Err(e) => return Err((jobs, e)),
    };
    let inserted = appended.len() as u64;
    out.metrics.count_ingest(inserted, rows as u64 - inserted);
    if let Some(last) = appended.iter().map(|a| a.seq).max() {
        out.head.fetch_max(last, Ordering::Relaxed);
    }
    let mut events = Vec::with_capacity(appended.len());
    let mut seq_of: HashMap<(String, String), i64> = appended
        .into_iter()
        .map(|a| ((a.tenant_id, a.message_id), a.seq))
        .collect();
    for job in &mut jobs {
        for e in std::mem::take(&mut job.events) {
            // A `messageId` twice in one commit was inserted once.
            let key = (e.row.tenant_id, e.row.message_id);
            if let Some(seq) = seq_of.remove(&key) {
                events.push(LocalEvent {
                    seq,
                    tenant_id: key.0,
                    message: e.message,
                });
            }
        }
    }
    for job in jobs {
        let _ = job.done.send(Ok(()));
    }
    if !events.is_empty() {
        events.sort_unstable_by_key(|e| e.seq);
        // When the pipeline is behind, it reads these from the log.
        let _ = out.handover.try_send(Committed { events });
    }
    Ok(())
}
