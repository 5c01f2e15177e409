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
use tokio::sync::{Mutex, Notify, watch};

use crate::crypto::{KeyRing, event_aad};
use crate::db::Db;
use crate::metrics::Metrics;

/// Events read from the log at a time.
const READ_BATCH: i64 = 2_000;
/// How often an idle pipeline looks for events that other server processes on
/// the same database committed (its own commits wake it at once).
const POLL: Duration = Duration::from_millis(250);
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
                    chrono::TimeDelta::days(1),
                    stratum_cdp::profile::InMemoryProfileStore::new(),
                )
                .map_err(|e| e.to_string())?;
                self.cdps.entry(tenant.to_owned()).or_insert(cdp)
            }
        };
        cdp.ingest(message).map(|_| ()).map_err(|e| e.to_string())
    }
}

/// The pipeline's shared state and its wake-up signal.
#[derive(Debug, Clone)]
pub struct Pipeline {
    /// The CDPs, read by the API.
    pub profiles: Arc<Mutex<Profiles>>,
    /// Woken by every commit.
    pub committed: Arc<Notify>,
    /// The last committed log position.
    pub head: Arc<AtomicI64>,
}

impl Pipeline {
    /// A pipeline that has processed nothing.
    #[must_use]
    pub fn new() -> Self {
        Self {
            profiles: Arc::new(Mutex::new(Profiles::default())),
            committed: Arc::new(Notify::new()),
            head: Arc::new(AtomicI64::new(0)),
        }
    }

    /// Events committed but not yet processed.
    pub async fn lag(&self) -> i64 {
        let processed = self.profiles.lock().await.processed;
        (self.head.load(Ordering::Relaxed) - processed).max(0)
    }

    /// Runs until `stop` turns true, then processes what is committed and returns.
    pub async fn run(
        self,
        db: Db,
        metrics: Arc<Metrics>,
        keys: KeyRing,
        mut stop: watch::Receiver<bool>,
    ) {
        if let Ok(h) = db.head().await {
            self.head.fetch_max(h, Ordering::Relaxed);
        }
        loop {
            let caught_up = match self.step(&db, &metrics, &keys).await {
                Ok(n) => n == 0,
                Err(e) => {
                    tracing::error!(error = %e, "pipeline: reading the log failed");
                    true
                }
            };
            if !caught_up {
                continue;
            }
            if *stop.borrow() {
                break;
            }
            tokio::select! {
                () = self.committed.notified() => {}
                _ = stop.changed() => {}
                () = tokio::time::sleep(POLL) => {}
            }
        }
        // Drain: everything committed before the stop is processed.
        while let Ok(n) = self.step(&db, &metrics, &keys).await {
            if n == 0 {
                break;
            }
        }
    }

    /// Processes one batch of the log; returns how many events it read.
    async fn step(&self, db: &Db, metrics: &Metrics, keys: &KeyRing) -> Result<usize, sqlx::Error> {
        let after = self.profiles.lock().await.processed;
        let events = db.events_after(after, READ_BATCH).await?;
        let Some(last) = events.last().map(|e| e.seq) else {
            metrics.set_lag(self.lag().await);
            return Ok(0);
        };
        {
            let mut profiles = self.profiles.lock().await;
            for e in &events {
                let plain = keys.open(&e.body, &event_aad(&e.tenant_id, &e.message_id));
                let parsed = plain.map_err(|err| err.to_string()).and_then(|p| {
                    serde_json::from_slice::<Message>(&p).map_err(|err| err.to_string())
                });
                match parsed {
                    Ok(m) => {
                        if let Err(err) = profiles.ingest(&e.tenant_id, &m) {
                            tracing::error!(seq = e.seq, error = %err, "pipeline: the CDP refused an event");
                        }
                    }
                    Err(err) => {
                        tracing::error!(seq = e.seq, error = %err, "pipeline: unreadable event in the log");
                    }
                }
                profiles.processed = e.seq;
            }
        }
        self.head.fetch_max(last, Ordering::Relaxed);
        db.set_offset(CONSUMER, last).await?;
        metrics.count_processed(events.len() as u64);
        metrics.set_lag(self.lag().await);
        Ok(events.len())
    }
}

impl Default for Pipeline {
    fn default() -> Self {
        Self::new()
    }
}
