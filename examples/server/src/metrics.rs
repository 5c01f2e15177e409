//! Prometheus metrics (`/metrics`, OpenMetrics text): request latency per route,
//! error counts, ingest and pipeline rates, pipeline lag, commit sizes and the
//! database pool.

use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// Labels of a request.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Request {
    route: String,
    method: String,
    status: u16,
}

/// Labels of a latency observation.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Route {
    route: String,
}

/// Labels of an ingest outcome.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Outcome {
    outcome: &'static str,
}

type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

fn latency_histogram() -> Histogram {
    // 0.25 ms .. about 8 s
    Histogram::new(exponential_buckets(0.000_25, 2.0, 16))
}

/// The server's metrics.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: Family<Request, Counter>,
    latency: HistogramFamily<Route>,
    ingest: Family<Outcome, Counter>,
    rejected: Counter,
    processed: Counter,
    lag: Gauge,
    commit_seconds: Histogram,
    commit_rows: Histogram,
    pool_size: Gauge,
    pool_idle: Gauge,
}

impl Metrics {
    /// Every metric registered, at zero.
    #[must_use]
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("stratum");
        let requests = Family::<Request, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests by route, method and status",
            requests.clone(),
        );
        let latency: HistogramFamily<Route> = Family::new_with_constructor(latency_histogram);
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency by route",
            latency.clone(),
        );
        let ingest = Family::<Outcome, Counter>::default();
        registry.register(
            "ingest_events",
            "Events committed to the log (new) or absorbed as duplicates of a messageId",
            ingest.clone(),
        );
        let rejected = Counter::default();
        registry.register(
            "ingest_rejected_messages",
            "Messages refused at ingest (invalid, too large)",
            rejected.clone(),
        );
        let processed = Counter::default();
        registry.register(
            "pipeline_processed_events",
            "Events the pipeline has fed to the CDP",
            processed.clone(),
        );
        let lag = Gauge::default();
        registry.register(
            "pipeline_lag_events",
            "Events committed but not yet processed by the pipeline",
            lag.clone(),
        );
        let commit_seconds = latency_histogram();
        registry.register(
            "commit_duration_seconds",
            "Time of one group commit (append and sync)",
            commit_seconds.clone(),
        );
        let commit_rows = Histogram::new(exponential_buckets(1.0, 4.0, 10));
        registry.register(
            "commit_rows",
            "Rows written by one group commit",
            commit_rows.clone(),
        );
        let pool_size = Gauge::default();
        registry.register(
            "db_pool_connections",
            "Open database connections",
            pool_size.clone(),
        );
        let pool_idle = Gauge::default();
        registry.register(
            "db_pool_idle_connections",
            "Idle database connections",
            pool_idle.clone(),
        );
        Self {
            registry,
            requests,
            latency,
            ingest,
            rejected,
            processed,
            lag,
            commit_seconds,
            commit_rows,
            pool_size,
            pool_idle,
        }
    }

    /// One request answered.
    pub fn observe_request(&self, route: &str, method: &str, status: u16, took: Duration) {
        self.requests
            .get_or_create(&Request {
                route: route.to_owned(),
                method: method.to_owned(),
                status,
            })
            .inc();
        self.latency
            .get_or_create(&Route {
                route: route.to_owned(),
            })
            .observe(took.as_secs_f64());
    }

    /// One group commit.
    pub fn observe_commit(&self, took: Duration, rows: usize) {
        self.commit_seconds.observe(took.as_secs_f64());
        self.commit_rows.observe(rows as f64);
    }

    /// Rows committed: new ones and duplicates absorbed.
    pub fn count_ingest(&self, new: u64, duplicates: u64) {
        self.ingest
            .get_or_create(&Outcome { outcome: "new" })
            .inc_by(new);
        self.ingest
            .get_or_create(&Outcome {
                outcome: "duplicate",
            })
            .inc_by(duplicates);
    }

    /// Messages refused at ingest.
    pub fn count_rejected(&self, n: u64) {
        self.rejected.inc_by(n);
    }

    /// Events processed by the pipeline.
    pub fn count_processed(&self, n: u64) {
        self.processed.inc_by(n);
    }

    /// The pipeline's lag.
    pub fn set_lag(&self, events: i64) {
        self.lag.set(events);
    }

    /// The database pool's state.
    pub fn set_pool(&self, size: u32, idle: usize) {
        self.pool_size.set(i64::from(size));
        self.pool_idle.set(i64::try_from(idle).unwrap_or(i64::MAX));
    }

    /// The OpenMetrics text of every metric.
    ///
    /// # Errors
    /// When encoding fails (a formatting error).
    pub fn encode(&self) -> Result<String, std::fmt::Error> {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)?;
        Ok(out)
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}
