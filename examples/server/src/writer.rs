//! Group commit: requests hand their rows to one writer task, which appends
//! whatever has queued up meanwhile in one transaction, syncs it, and only then
//! answers each request. Under load many requests share one disk sync; a lone
//! request is written at once.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use tokio::sync::{Notify, mpsc, oneshot};

use crate::db::{Db, EventRow};
use crate::metrics::Metrics;

/// Most rows written in one transaction.
const MAX_ROWS_PER_COMMIT: usize = 20_000;

struct Job {
    rows: Vec<EventRow>,
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
            .field("rows", &self.rows.len())
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
    /// Starts the writer task. `committed` wakes the pipeline after each commit;
    /// `head` tracks the last committed log position. The task ends when every
    /// handle is dropped, after writing what was queued.
    #[must_use]
    pub fn start(
        db: Db,
        metrics: Arc<Metrics>,
        committed: Arc<Notify>,
        head: Arc<AtomicI64>,
    ) -> (Self, tokio::task::JoinHandle<()>) {
        let (tx, rx) = mpsc::channel::<Job>(4096);
        let task = tokio::spawn(run(db, rx, metrics, committed, head));
        (Self { tx }, task)
    }

    /// Appends `rows` durably; returns once they are committed and synced.
    ///
    /// # Errors
    /// [`WriteError`]: nothing of these rows was acknowledged.
    pub async fn write(&self, rows: Vec<EventRow>) -> Result<(), WriteError> {
        if rows.is_empty() {
            return Ok(());
        }
        let (done, wait) = oneshot::channel();
        self.tx
            .send(Job { rows, done })
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
    committed: Arc<Notify>,
    head: Arc<AtomicI64>,
) {
    while let Some(first) = rx.recv().await {
        let mut jobs = vec![first];
        let mut rows = jobs[0].rows.len();
        while rows < MAX_ROWS_PER_COMMIT {
            match rx.try_recv() {
                Ok(job) => {
                    rows += job.rows.len();
                    jobs.push(job);
                }
                Err(_) => break,
            }
        }
        let all: Vec<&EventRow> = jobs.iter().flat_map(|j| j.rows.iter()).collect();
        let started = std::time::Instant::now();
        let result = db.append(&all).await;
        metrics.observe_commit(started.elapsed(), all.len());
        drop(all);
        match result {
            Ok(inserted) => {
                metrics.count_ingest(inserted, rows as u64 - inserted);
                if let Ok(h) = db.head().await {
                    head.fetch_max(h, Ordering::Relaxed);
                }
                committed.notify_one();
                for job in jobs {
                    let _ = job.done.send(Ok(()));
                }
            }
            Err(e) => {
                tracing::error!(error = %e, rows, "commit failed");
                let message = e.to_string();
                for job in jobs {
                    let _ = job.done.send(Err(message.clone()));
                }
            }
        }
    }
}
