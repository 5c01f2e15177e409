//! The background pipeline: reads the event log in commit order and feeds each
//! tenant's CDP (`stratum_cdp::profile::Cdp`: de-duplication, identity
//! resolution, profiles, computed traits).
//!
//! The CDP state is derived from the log alone: on start the pipeline replays the
//! log from the beginning, so a restart neither loses nor double-counts an event
//! (the log is the durable record; an event is in the log exactly once per
//! tenant and `messageId`). Several server processes on one database each
//! replay the same log in the same order (positions are handed out in commit
//! order), so their CDPs agree: identity merges are applied in one order per
//! tenant whichever process received the events. The position reached is recorded under the consumer
//! name `cdp` for operators, and the distance to the log's head is the lag
//! reported on `/metrics`.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use stratum_cdp::identity::{Identifier, IdentityConfig};
use stratum_cdp::message::Message;
use stratum_cdp::profile::{Cdp, Profile};
use tokio::sync::{Mutex, mpsc, watch};

use crate::crypto::KeyRing;
use crate::db::Db;
use crate::metrics::Metrics;
use crate::writer::Committed;

/// Rows of the log read at a time (a row holds one request's messages).
const READ_BATCH: i64 = 200;
/// How often an idle pipeline looks for events that other server processes on
/// the same database committed (its own commits wake it at once).
const POLL: Duration = Duration::from_millis(250);
/// The CDPs' own de-duplication window, which the pipeline does not use: the
/// log already holds one event per tenant and `messageId` (within the
/// writer's window), and events go in with `Cdp::ingest_unique`.
const DEDUP_WINDOW: chrono::TimeDelta = chrono::TimeDelta::seconds(1);
/// The consumer name of the pipeline's offset.
pub const CONSUMER: &str = "cdp";

/// The CDP of every tenant, and how far the log has been processed.
#[derive(Debug, Default)]
pub struct Profiles {
    cdps: HashMap<String, Cdp>,
    processed: i64,
}

impl Profiles {
    /// The profile an identifier resolves to in `tenant`'s CDP.
    #[must_use]
    pub fn lookup(&self, tenant: &str, id: &Identifier) -> Option<Profile> {
        let cdp = self.cdps.get(tenant)?;
        let pid = cdp.graph().profile_of(id)?;
        cdp.profile(&pid).ok()
    }

    /// The last log position processed.
    #[must_use]
    pub fn processed(&self) -> i64 {
        self.processed
    }

    fn ingest(&mut self, tenant: &str, message: &Message) -> Result<(), String> {
        let cdp = match self.cdps.get_mut(tenant) {
            Some(c) => c,
            None => {
                let cdp = Cdp::new(
                    IdentityConfig::default(),
                    DEDUP_WINDOW,
                    stratum_cdp::profile::InMemoryProfileStore::new(),
                )
                .map_err(|e| e.to_string())?;
                self.cdps.entry(tenant.to_owned()).or_insert(cdp)
            }
        };
        // The log holds each tenant's `messageId` once (within the writer's
        // window): the CDP's own window would only repeat that work.
        cdp.ingest_unique(message)
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
}

/// The pipeline's shared state.
#[derive(Debug, Clone)]
pub struct Pipeline {
    /// The CDPs, read by the API.
    pub profiles: Arc<Mutex<Profiles>>,
    /// The last committed log position.
    pub head: Arc<AtomicI64>,
    /// The log's head when the pipeline started (`i64::MAX` until it is known):
    /// until it has processed that far, it is replaying the log, and its CDPs miss
    /// what was there before the restart.
    replay_to: Arc<AtomicI64>,
}

impl Pipeline {
    /// A pipeline that has processed nothing.
    #[must_use]
    pub fn new() -> Self {
        Self {
            profiles: Arc::new(Mutex::new(Profiles::default())),
            head: Arc::new(AtomicI64::new(0)),
            replay_to: Arc::new(AtomicI64::new(i64::MAX)),
        }
    }

    /// `None` once the start-up replay has caught up with the log as it was at
    /// start (then the CDPs hold every event committed before the start); until
    /// then, the events it still has to process (the lag) — an unknown count
    /// (`i64::MAX` far) before the pipeline has read where the log ends.
    pub async fn replaying(&self) -> Option<i64> {
        let to = self.replay_to.load(Ordering::Relaxed);
        let processed = self.processed().await;
        if processed >= to {
            return None;
        }
        if to == i64::MAX {
            return Some(self.lag().await.max(1));
        }
        Some((to - processed).max(self.lag().await))
    }

    /// Events committed but not yet processed.
    pub async fn lag(&self) -> i64 {
        let processed = self.profiles.lock().await.processed;
        (self.head.load(Ordering::Relaxed) - processed).max(0)
    }

    /// Runs until `stop` turns true, then processes what is committed and returns.
    ///
    /// This process's commits arrive on `handover` with their messages and log
    /// positions, and go straight to the CDPs. The log is read (and its events
    /// opened and parsed) only for what did not arrive that way: the log at
    /// start-up, other processes' commits (a gap before a handed-over commit, or
    /// found by polling every 250 ms), and commits handed over while the
    /// pipeline was too far behind to queue them.
    pub async fn run(
        self,
        db: Db,
        metrics: Arc<Metrics>,
        keys: KeyRing,
        mut handover: mpsc::Receiver<Committed>,
        mut stop: watch::Receiver<bool>,
    ) {
        // Where the log ends at start: the replay is done once it is processed.
        loop {
            match db.head().await {
                Ok(h) => {
                    self.head.fetch_max(h, Ordering::Relaxed);
                    self.replay_to.store(h, Ordering::Relaxed);
                    break;
                }
                Err(e) => {
                    tracing::error!(error = %e, "pipeline: reading the log's head failed");
                    if *stop.borrow() {
                        break;
                    }
                    tokio::time::sleep(POLL).await;
                }
            }
        }
        self.catch_up(&db, &metrics, &keys, i64::MAX).await;
        let mut recorded = i64::MIN;
        let mut open = true;
        loop {
            tokio::select! {
                committed = handover.recv(), if open => match committed {
                    Some(c) => {
                        let first = c.events.first().map_or(i64::MAX, |e| e.seq);
                        if first > self.processed().await + 1 {
                            self.catch_up(&db, &metrics, &keys, first).await;
                        }
                        self.apply_local(&metrics, c).await;
                    }
                    None => open = false,
                },
                changed = stop.changed() => {
                    if changed.is_err() || *stop.borrow() {
                        break;
                    }
                }
                () = tokio::time::sleep(POLL) => {
                    self.catch_up(&db, &metrics, &keys, i64::MAX).await;
                    // The position reached, for operators, at most every POLL.
                    let processed = self.processed().await;
                    if processed != recorded {
                        self.record_offset(&db).await;
                        recorded = processed;
                    }
                }
            }
        }
        // Drain: every commit handed over, then whatever else the log holds.
        while let Ok(c) = handover.try_recv() {
            let first = c.events.first().map_or(i64::MAX, |e| e.seq);
            if first > self.processed().await + 1 {
                self.catch_up(&db, &metrics, &keys, first).await;
            }
            self.apply_local(&metrics, c).await;
        }
        self.catch_up(&db, &metrics, &keys, i64::MAX).await;
        self.record_offset(&db).await;
    }

    async fn processed(&self) -> i64 {
        self.profiles.lock().await.processed
    }

    /// Feeds the events of one of this process's commits (those not processed
    /// yet) to the CDPs.
    async fn apply_local(&self, metrics: &Metrics, c: Committed) {
        let mut n = 0;
        {
            let mut profiles = self.profiles.lock().await;
            for e in &c.events {
                if e.seq <= profiles.processed {
                    continue;
                }
                if let Err(err) = profiles.ingest(&e.tenant_id, &e.message) {
                    tracing::error!(seq = e.seq, error = %err, "pipeline: the CDP refused an event");
                }
                profiles.processed = e.seq;
                n += 1;
            }
        }
        if let Some(last) = c.events.last() {
            self.head.fetch_max(last.seq, Ordering::Relaxed);
        }
        metrics.count_processed(n);
        metrics.set_lag(self.lag().await);
    }

    /// Reads the log from the last processed position up to (not including)
    /// `before`, and feeds it to the CDPs. Two stages overlap: while the CDPs
    /// take one batch, the next is read and decoded on the blocking pool.
    async fn catch_up(&self, db: &Db, metrics: &Metrics, keys: &KeyRing, before: i64) {
        let mut after = self.processed().await;
        let mut next = fetch(db.clone(), keys.clone(), after, before);
        loop {
            let batch = match next.await {
                Ok(Ok(b)) => b,
                Ok(Err(e)) => {
                    tracing::error!(error = %e, "pipeline: reading the log failed");
                    break;
                }
                Err(e) => {
                    tracing::error!(error = %e, "pipeline: decoding the log failed");
                    break;
                }
            };
            let Some(last) = batch.last().map(|e| e.seq) else {
                break;
            };
            after = last;
            next = fetch(db.clone(), keys.clone(), after, before);
            self.apply(metrics, batch).await;
        }
        metrics.set_lag(self.lag().await);
    }

    /// Records the position reached (for operators).
    async fn record_offset(&self, db: &Db) {
        let processed = self.processed().await;
        if let Err(e) = db.set_offset(CONSUMER, processed).await {
            tracing::error!(error = %e, "pipeline: recording the offset failed");
        }
    }

    /// Feeds a decoded batch of the log to the CDPs.
    async fn apply(&self, metrics: &Metrics, batch: Vec<Decoded>) {
        let Some(last) = batch.last().map(|e| e.seq) else {
            return;
        };
        let mut n = 0;
        {
            let mut profiles = self.profiles.lock().await;
            for e in &batch {
                if e.seq <= profiles.processed {
                    continue;
                }
                match &e.message {
                    Ok(m) => {
                        if let Err(err) = profiles.ingest(&e.tenant_id, m) {
                            tracing::error!(seq = e.seq, error = %err, "pipeline: the CDP refused an event");
                        }
                    }
                    Err(err) => {
                        tracing::error!(seq = e.seq, error = %err, "pipeline: unreadable event in the log");
                    }
                }
                profiles.processed = e.seq;
                n += 1;
            }
        }
        self.head.fetch_max(last, Ordering::Relaxed);
        metrics.count_processed(n);
        metrics.set_lag(self.lag().await);
    }
}

/// One event of the log, opened and parsed.
struct Decoded {
    seq: i64,
    tenant_id: String,
    message: Result<Message, String>,
}

/// Reads the rows of the log between `after` and `before` and opens them on
/// the blocking pool.
fn fetch(
    db: Db,
    keys: KeyRing,
    after: i64,
    before: i64,
) -> tokio::task::JoinHandle<Result<Vec<Decoded>, sqlx::Error>> {
    tokio::spawn(async move {
        let blocks = db.blocks_between(after, before, READ_BATCH).await?;
        if blocks.is_empty() {
            return Ok(Vec::new());
        }
        let decoded = tokio::task::spawn_blocking(move || {
            let mut out = Vec::new();
            for b in blocks {
                match crate::log::open(&keys, b.format, &b.tenant_id, &b.ids, &b.body) {
                    Ok(messages) => {
                        for (seq, m) in (b.first_seq..).zip(messages) {
                            out.push(Decoded {
                                seq,
                                tenant_id: b.tenant_id.clone(),
                                message: Ok(m),
                            });
                        }
                    }
                    // The row's last position stands for it: it is reported and
                    // passed over as a whole.
                    Err(e) => out.push(Decoded {
                        seq: b.last_seq,
                        tenant_id: b.tenant_id,
                        message: Err(e.to_string()),
                    }),
                }
            }
            out
        })
        .await
        .map_err(|e| sqlx::Error::Protocol(format!("decoding the log: {e}")))?;
        Ok(decoded)
    })
}

impl Default for Pipeline {
    fn default() -> Self {
        Self::new()
    }
}
