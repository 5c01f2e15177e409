//! Settings: each has a flag and an environment variable (`--help` lists them).
//! Secrets are never taken as flags.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Parser;

/// The reference server of Stratum.
#[derive(Debug, Clone, Parser)]
#[command(name = "stratum-server", version, about)]
pub struct Config {
    /// Address to listen on.
    #[arg(long, env = "STRATUM_ADDR", default_value = "127.0.0.1:8000")]
    pub addr: SocketAddr,

    /// Directory for the data (the SQLite database `stratum.db` when no
    /// `--database-url` is given).
    #[arg(long, env = "STRATUM_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,

    /// Database URL (`sqlite://path/to/file.db`); the SQLite file in the data
    /// directory when absent.
    #[arg(long, env = "DATABASE_URL")]
    pub database_url: Option<String>,

    /// Log format: `json` (structured, one object per line) or `text`.
    #[arg(long, env = "STRATUM_LOG_FORMAT", default_value = "json", value_parser = ["json", "text"])]
    pub log_format: String,

    /// Largest batch body in bytes, once decoded.
    #[arg(long, env = "STRATUM_MAX_BATCH_BYTES", default_value_t = stratum_cdp::message::MAX_BATCH_BYTES)]
    pub max_batch_bytes: usize,

    /// Largest message in bytes.
    #[arg(long, env = "STRATUM_MAX_MESSAGE_BYTES", default_value_t = stratum_cdp::message::MAX_MESSAGE_BYTES)]
    pub max_message_bytes: usize,

    /// Seconds to wait for in-flight requests on shutdown before stopping anyway.
    #[arg(long, env = "STRATUM_SHUTDOWN_SECONDS", default_value_t = 30)]
    pub shutdown_seconds: u64,
}
