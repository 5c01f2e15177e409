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

    /// File holding the secret that signs access tokens (at least 32 bytes). The
    /// secret may also come from the environment variable `STRATUM_JWT_SECRET`;
    /// without either, one is generated once into `<data-dir>/jwt.secret`.
    #[arg(long, env = "STRATUM_JWT_SECRET_FILE")]
    pub jwt_secret_file: Option<PathBuf>,

    /// File holding the data keys that seal event bodies at rest
    /// (`id:base64key,...`, 32-byte keys, the first sealing new values). The keys
    /// may also come from `STRATUM_DATA_KEYS`; without either, one key is
    /// generated once into `<data-dir>/data.keys`.
    #[arg(long, env = "STRATUM_DATA_KEYS_FILE")]
    pub data_keys_file: Option<PathBuf>,

    /// Requests per second of one write key, API key or user (the burst is one
    /// second's worth); over it, `429` with `Retry-After`.
    #[arg(long, env = "STRATUM_RATE_PER_KEY", default_value_t = 1_000)]
    pub rate_per_key: u32,

    /// Requests per second of one tenant, all its keys and users together.
    #[arg(long, env = "STRATUM_RATE_PER_TENANT", default_value_t = 5_000)]
    pub rate_per_tenant: u32,

    /// Origins allowed to call the server from a browser (CORS), comma-separated,
    /// e.g. `https://shop.example,https://app.example`; none when empty.
    #[arg(long, env = "STRATUM_CORS_ORIGINS", value_delimiter = ',')]
    pub cors_origins: Vec<String>,

    /// Hours a `messageId` is remembered, to absorb it when sent again (1 to
    /// 8,760).
    #[arg(long, env = "STRATUM_DEDUP_WINDOW_HOURS", default_value_t = 24,
          value_parser = clap::value_parser!(u32).range(1..=8_760))]
    pub dedup_window_hours: u32,

    /// The most `messageId`s remembered (about 60 bytes of memory each); past
    /// it, the oldest are forgotten first. At least 1,000: the log's duplicate
    /// absorption cannot be turned off.
    #[arg(long, env = "STRATUM_DEDUP_CAPACITY", default_value_t = crate::log::DEDUP_CAPACITY as u64,
          value_parser = clap::value_parser!(u64).range(1_000..=(u32::MAX as u64)))]
    pub dedup_capacity: u64,

    /// Seconds to wait for in-flight requests on shutdown before stopping anyway.
    #[arg(long, env = "STRATUM_SHUTDOWN_SECONDS", default_value_t = 30)]
    pub shutdown_seconds: u64,
}

/// The secret that signs access tokens: `STRATUM_JWT_SECRET`, else the file
/// given, else `<data-dir>/jwt.secret` (created with 32 random bytes, readable by
/// its owner only, on first use). Never logged.
///
/// # Errors
/// An unreadable file, or the OS random source failing.
pub fn jwt_secret(config: &Config) -> Result<Vec<u8>, String> {
    if let Ok(s) = std::env::var("STRATUM_JWT_SECRET") {
        return Ok(s.into_bytes());
    }
    if let Some(path) = &config.jwt_secret_file {
        return std::fs::read(path)
            .map(|b| b.trim_ascii().to_vec())
            .map_err(|e| format!("cannot read the token secret file {}: {e}", path.display()));
    }
    let path = config.data_dir.join("jwt.secret");
    if let Ok(b) = std::fs::read(&path) {
        return Ok(b.trim_ascii().to_vec());
    }
    let secret = crate::secrets::new_token("").map_err(|e| e.to_string())?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&path).map_err(|e| {
        format!(
            "cannot create the token secret file {}: {e}",
            path.display()
        )
    })?;
    std::io::Write::write_all(&mut file, secret.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| format!("cannot write the token secret file {}: {e}", path.display()))?;
    Ok(secret.into_bytes())
}

/// The data keys: `STRATUM_DATA_KEYS`, else the file given, else
/// `<data-dir>/data.keys` (created with one random key, readable by its owner
/// only, on first use). Never logged.
///
/// # Errors
/// An unreadable file or a malformed ring.
pub fn data_keys(config: &Config) -> Result<crate::crypto::KeyRing, String> {
    let text = if let Ok(s) = std::env::var("STRATUM_DATA_KEYS") {
        s
    } else if let Some(path) = &config.data_keys_file {
        std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read the data keys file {}: {e}", path.display()))?
    } else {
        let path = config.data_dir.join("data.keys");
        match std::fs::read_to_string(&path) {
            Ok(s) => s,
            Err(_) => {
                let ring = crate::crypto::KeyRing::generate("k1").map_err(|e| e.to_string())?;
                write_secret(&path, &ring)?;
                ring
            }
        }
    };
    crate::crypto::KeyRing::parse(&text).map_err(|e| e.to_string())
}

/// Writes a new secret file readable by its owner only.
fn write_secret(path: &std::path::Path, text: &str) -> Result<(), String> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .map_err(|e| format!("cannot create the secret file {}: {e}", path.display()))?;
    std::io::Write::write_all(&mut file, text.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| format!("cannot write the secret file {}: {e}", path.display()))
}
