//! The database a test runs on: a fresh SQLite file by default, or a fresh
//! PostgreSQL database when `STRATUM_TEST_POSTGRES` names a server (the URL of a
//! role that may create databases; `scripts/test` starts one and runs every
//! server test against both).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

use stratum_server::db::{CreatedTenant, Db};

/// A scratch directory and, on PostgreSQL, a database of its own.
pub(crate) struct Store {
    dir: tempfile::TempDir,
    database_url: Option<String>,
}

impl Store {
    /// A fresh store (an empty database).
    pub(crate) fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let database_url = std::env::var("STRATUM_TEST_POSTGRES")
            .ok()
            .filter(|u| !u.is_empty())
            .map(|admin| fresh_postgres_database(&admin));
        Self { dir, database_url }
    }

    /// The scratch directory (the server's data directory).
    pub(crate) fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The SQLite file, or `None` on PostgreSQL.
    pub(crate) fn sqlite_file(&self) -> Option<PathBuf> {
        self.database_url
            .is_none()
            .then(|| self.dir.path().join("stratum.db"))
    }

    /// The URL a server process is given (`DATABASE_URL`), if any.
    pub(crate) fn database_url(&self) -> Option<&str> {
        self.database_url.as_deref()
    }

    /// Opens the database (migrated).
    pub(crate) async fn open(&self) -> Db {
        match &self.database_url {
            Some(url) => Db::open_url(url).await.unwrap(),
            None => Db::open_file(&self.dir.path().join("stratum.db"))
                .await
                .unwrap(),
        }
    }

    /// Points a server process at this store.
    pub(crate) fn configure(&self, cmd: &mut Command) {
        cmd.env("STRATUM_DATA_DIR", self.dir.path());
        match &self.database_url {
            Some(url) => cmd.env("DATABASE_URL", url),
            None => cmd.env_remove("DATABASE_URL"),
        };
    }
}

/// Two tenants, `A` (free) and `B` (of `b_tier`), each with its admin and keys.
pub(crate) async fn two_tenants(db: &Db, b_tier: &str) -> (CreatedTenant, CreatedTenant) {
    let now = stratum_server::now();
    let a = db
        .create_tenant("A", "free", "admin@a.example", now)
        .await
        .unwrap();
    let b = db
        .create_tenant("B", b_tier, "admin@b.example", now)
        .await
        .unwrap();
    (a, b)
}

/// Creates an empty database on the server `admin` names; returns its URL.
fn fresh_postgres_database(admin: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let name = format!(
        "stratum_test_{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos()
    );
    let admin = admin.to_owned();
    let create = name.clone();
    // On a thread of its own: callers may already be inside a runtime.
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            use sqlx::Connection as _;
            let mut conn = sqlx::PgConnection::connect(&admin).await.unwrap();
            sqlx::query(&format!("CREATE DATABASE {create}"))
                .execute(&mut conn)
                .await
                .unwrap();
            conn.close().await.unwrap();
        });
    })
    .join()
    .unwrap();
    url_with_database(&std::env::var("STRATUM_TEST_POSTGRES").unwrap(), &name)
}

/// `postgres://user:pw@host:port/db?opts` with `db` replaced.
fn url_with_database(url: &str, db: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let (prefix, _) = base
        .rsplit_once('/')
        .expect("a postgres URL names a database");
    match query {
        Some(q) => format!("{prefix}/{db}?{q}"),
        None => format!("{prefix}/{db}"),
    }
}
