//! `stratum-server`: see `--help` and `docs/server.md`.

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser as _;
use stratum_cdp::message::ParseConfig;
use stratum_server::Services;
use stratum_server::config::Config;
use stratum_server::db::{Db, FirstTenant};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> ExitCode {
    let config = Config::parse();
    let filter = EnvFilter::try_from_env("STRATUM_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    if config.log_format == "json" {
        tracing_subscriber::fmt()
            .json()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .init();
    } else {
        tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .init();
    }
    match run(config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "the server stopped on an error");
            eprintln!("stratum-server: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(config: Config) -> Result<(), Box<dyn std::error::Error>> {
    let parse = ParseConfig::default()
        .with_max_batch_bytes(config.max_batch_bytes)?
        .with_max_message_bytes(config.max_message_bytes)?;
    std::fs::create_dir_all(&config.data_dir)?;
    let tokens = stratum_server::auth::Tokens::new(&stratum_server::config::jwt_secret(&config)?)?;
    let db = match &config.database_url {
        Some(url) => Db::open_url(url).await?,
        None => Db::open_file(&config.data_dir.join("stratum.db")).await?,
    };
    let first = db
        .create_first_tenant(
            "Demo",
            "free",
            "admin@demo.local",
            "superadmin@demo.local",
            stratum_server::now(),
        )
        .await?;
    if let Some(first) = first {
        announce(&first);
    }
    let listener = tokio::net::TcpListener::bind(config.addr).await?;
    let addr = listener.local_addr()?;
    let data_keys = stratum_server::config::data_keys(&config)?;
    let mut settings = stratum_server::Settings::new(tokens, data_keys);
    settings.parse = parse;
    settings.per_key = stratum_server::limits::Rate::per_second(config.rate_per_key);
    settings.per_tenant = stratum_server::limits::Rate::per_second(config.rate_per_tenant);
    settings.dedup = stratum_server::writer::DedupSettings {
        window: chrono::TimeDelta::hours(i64::from(config.dedup_window_hours)),
        capacity: usize::try_from(config.dedup_capacity)
            .map_err(|_| "--dedup-capacity is too large for this machine".to_owned())?,
    };
    settings.cors_origins = config
        .cors_origins
        .iter()
        .filter(|o| !o.trim().is_empty())
        .map(|o| {
            axum::http::HeaderValue::from_str(o.trim())
                .map_err(|_| format!("not a valid CORS origin: {o:?}"))
        })
        .collect::<Result<_, _>>()?;
    let services = Services::start(db, settings);
    tracing::info!(%addr, "listening");
    say(&format!("stratum-server listening on http://{addr}"));
    let app = services.router();
    let (stopping, stopped) = tokio::sync::oneshot::channel::<()>();
    let grace = Duration::from_secs(config.shutdown_seconds);
    let server = axum::serve(listener, app).with_graceful_shutdown(async move {
        shutdown_signal().await;
        tracing::info!("shutting down: draining in-flight requests");
        let _ = stopping.send(());
    });
    let serving = tokio::spawn(async move { server.await });
    let result = tokio::select! {
        r = serving => r.map_err(|e| e.to_string()).and_then(|r| r.map_err(|e| e.to_string())),
        () = async {
            let _ = stopped.await;
            tokio::time::sleep(grace).await;
        } => Err("in-flight requests did not finish within the shutdown timeout".to_owned()),
    };
    services.shutdown().await;
    tracing::info!("stopped");
    result.map_err(Into::into)
}

/// The first start's secrets, shown once on standard output (never logged).
#[allow(clippy::print_stdout)]
fn announce(first: &FirstTenant) {
    let created = &first.created;
    println!(
        "created tenant {:?} ({})\n  admin login: {} / {}\n  superadmin login: {} / {}\n  \
         write key:   {}\n  API key:     {}\n\
         These secrets are shown once and stored only as hashes.",
        created.tenant.name,
        created.tenant.id,
        created.admin_email,
        created.admin_password,
        first.superadmin_email,
        first.superadmin_password,
        created.write_key,
        created.api_key,
    );
}

#[allow(clippy::print_stdout)]
fn say(line: &str) {
    println!("{line}");
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}
