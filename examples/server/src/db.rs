//! Storage: SQLite (one file, WAL, every commit synced), the versioned migrations
//! applied at start-up, and the queries of the server.
//!
//! Tenant-scoped data is reached through [`Db::tenant`], which returns a
//! [`TenantDb`] bound to one tenant: its queries take the tenant id from the handle,
//! so a query that forgets the scope cannot be written with it. The few queries
//! that are not scoped by design (finding a key's tenant, the pipeline reading the
//! log of every tenant in order) are the methods of [`Db`] itself.

use std::path::Path;
use std::str::FromStr as _;
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{QueryBuilder, Row as _, Sqlite, SqlitePool};

use crate::secrets::{self, KeyKind};

/// The migrations, embedded in the binary.
pub static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// Rows per `INSERT` statement (SQLite allows 32,766 bound values; 6 per row).
const ROWS_PER_INSERT: usize = 1_000;

/// The database.
#[derive(Debug, Clone)]
pub struct Db {
    pool: SqlitePool,
}

/// A tenant as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tenant {
    /// Its id.
    pub id: String,
    /// Its display name.
    pub name: String,
    /// Its tier.
    pub tier: String,
    /// `active` or `suspended`.
    pub status: String,
}

/// What a key is, once found by its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyOwner {
    /// The key's id.
    pub key_id: String,
    /// The tenant it belongs to.
    pub tenant_id: String,
    /// Whether the tenant is active (a suspended tenant's keys open nothing).
    pub tenant_active: bool,
}

/// One accepted message, ready to append to the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventRow {
    /// The tenant.
    pub tenant_id: String,
    /// The client's `messageId` (duplicates per tenant are absorbed).
    pub message_id: String,
    /// The message type.
    pub kind: &'static str,
    /// When the server received it.
    pub received_at: DateTime<Utc>,
    /// The parsed message, as JSON.
    pub body: String,
}

/// One message of the log, as the pipeline reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedEvent {
    /// Its position in the log.
    pub seq: i64,
    /// The tenant.
    pub tenant_id: String,
    /// The parsed message, as JSON.
    pub body: String,
}

/// What a tenant's first start created: the secrets are shown once and never
/// stored in clear.
#[derive(Debug, Clone)]
pub struct CreatedTenant {
    /// The tenant.
    pub tenant: Tenant,
    /// Its admin's login.
    pub admin_email: String,
    /// Its admin's password.
    pub admin_password: String,
    /// A write key for ingest.
    pub write_key: String,
    /// An API key for the REST API.
    pub api_key: String,
}

fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

impl Db {
    /// Opens (creating if needed) the SQLite database at `path` and applies the
    /// migrations.
    ///
    /// # Errors
    /// When the file cannot be opened or a migration fails.
    pub async fn open_file(path: &Path) -> Result<Self, sqlx::Error> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true);
        Self::open(options).await
    }

    /// Opens the database a `sqlite:` URL names and applies the migrations.
    ///
    /// # Errors
    /// For a malformed URL, or as [`Db::open_file`].
    pub async fn open_url(url: &str) -> Result<Self, sqlx::Error> {
        let options = SqliteConnectOptions::from_str(url)?.create_if_missing(true);
        Self::open(options).await
    }

    async fn open(options: SqliteConnectOptions) -> Result<Self, sqlx::Error> {
        let options = options
            .journal_mode(SqliteJournalMode::Wal)
            // Every commit reaches the disk before it is acknowledged.
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(5))
            .connect_with(options)
            .await?;
        MIGRATIONS.run(&pool).await?;
        Ok(Self { pool })
    }

    /// The connection pool (for its statistics).
    #[must_use]
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// Whether the database answers and every migration of this build is applied.
    pub async fn ready(&self) -> bool {
        let applied: Result<i64, sqlx::Error> =
            sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations WHERE success")
                .fetch_one(&self.pool)
                .await;
        applied.is_ok_and(|n| usize::try_from(n).is_ok_and(|n| n >= MIGRATIONS.iter().count()))
    }

    /// Whether any tenant exists.
    ///
    /// # Errors
    /// Database errors.
    pub async fn has_tenants(&self) -> Result<bool, sqlx::Error> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM tenants")
            .fetch_one(&self.pool)
            .await?;
        Ok(n > 0)
    }

    /// Creates a tenant with an admin, a write key and an API key, in one
    /// transaction; returns the secrets (shown once).
    ///
    /// # Errors
    /// Database errors; the OS random source failing (as `sqlx::Error::Protocol`).
    pub async fn create_tenant(
        &self,
        name: &str,
        tier: &str,
        admin_email: &str,
        now: DateTime<Utc>,
    ) -> Result<CreatedTenant, sqlx::Error> {
        let rnd = |e: secrets::RandomError| sqlx::Error::Protocol(e.to_string());
        let tenant = Tenant {
            id: secrets::new_id().map_err(rnd)?,
            name: name.to_owned(),
            tier: tier.to_owned(),
            status: "active".to_owned(),
        };
        let admin_password = secrets::new_password().map_err(rnd)?;
        let password_hash = secrets::hash_password(&admin_password).map_err(rnd)?;
        let write_key = secrets::new_key(KeyKind::Write).map_err(rnd)?;
        let api_key = secrets::new_key(KeyKind::Api).map_err(rnd)?;
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO tenants (id, name, tier, status, created_at) VALUES (?, ?, ?, ?, ?)",
        )
        .bind(&tenant.id)
        .bind(&tenant.name)
        .bind(&tenant.tier)
        .bind(&tenant.status)
        .bind(ts(now))
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO users (id, tenant_id, email, password_hash, role, created_at) \
             VALUES (?, ?, ?, ?, 'admin', ?)",
        )
        .bind(secrets::new_id().map_err(rnd)?)
        .bind(&tenant.id)
        .bind(admin_email)
        .bind(&password_hash)
        .bind(ts(now))
        .execute(&mut *tx)
        .await?;
        for (kind, key) in [(KeyKind::Write, &write_key), (KeyKind::Api, &api_key)] {
            sqlx::query(
                "INSERT INTO keys (id, tenant_id, kind, key_hash, prefix, created_at) \
                 VALUES (?, ?, ?, ?, ?, ?)",
            )
            .bind(secrets::new_id().map_err(rnd)?)
            .bind(&tenant.id)
            .bind(kind.as_str())
            .bind(secrets::key_hash(key))
            .bind(secrets::display_prefix(key))
            .bind(ts(now))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(CreatedTenant {
            tenant,
            admin_email: admin_email.to_owned(),
            admin_password,
            write_key,
            api_key,
        })
    }

    /// The owner of a live (not revoked) key of `kind`, found by the key's hash
    /// and compared in constant time.
    ///
    /// # Errors
    /// Database errors.
    pub async fn key_owner(
        &self,
        key: &str,
        kind: KeyKind,
    ) -> Result<Option<KeyOwner>, sqlx::Error> {
        let hash = secrets::key_hash(key);
        let row = sqlx::query(
            "SELECT k.id, k.tenant_id, k.key_hash, t.status FROM keys k \
             JOIN tenants t ON t.id = k.tenant_id \
             WHERE k.key_hash = ? AND k.kind = ? AND k.revoked_at IS NULL",
        )
        .bind(&hash)
        .bind(kind.as_str())
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.and_then(|r| {
            let stored: String = r.get(2);
            secrets::same_hash(&stored, &hash).then(|| KeyOwner {
                key_id: r.get(0),
                tenant_id: r.get(1),
                tenant_active: r.get::<String, _>(3) == "active",
            })
        }))
    }

    /// Appends rows to the log in one transaction (a row whose `messageId` the
    /// tenant already sent is skipped); returns how many were new. Nothing is
    /// acknowledged before this returns: the commit is synced to disk.
    ///
    /// # Errors
    /// Database errors (then nothing was written).
    pub async fn append(&self, rows: &[&EventRow]) -> Result<u64, sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        let mut inserted = 0;
        for chunk in rows.chunks(ROWS_PER_INSERT) {
            let mut q: QueryBuilder<'_, Sqlite> = QueryBuilder::new(
                "INSERT INTO events (tenant_id, message_id, kind, received_at, body) ",
            );
            q.push_values(chunk, |mut b, row| {
                b.push_bind(&row.tenant_id)
                    .push_bind(&row.message_id)
                    .push_bind(row.kind)
                    .push_bind(ts(row.received_at))
                    .push_bind(&row.body);
            });
            q.push(" ON CONFLICT (tenant_id, message_id) DO NOTHING");
            inserted += q.build().execute(&mut *tx).await?.rows_affected();
        }
        tx.commit().await?;
        Ok(inserted)
    }

    /// Up to `limit` events after position `after`, in log order (every tenant's:
    /// the pipeline routes each to its tenant).
    ///
    /// # Errors
    /// Database errors.
    pub async fn events_after(
        &self,
        after: i64,
        limit: i64,
    ) -> Result<Vec<LoggedEvent>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT seq, tenant_id, body FROM events WHERE seq > ? ORDER BY seq LIMIT ?",
        )
        .bind(after)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| LoggedEvent {
                seq: r.get(0),
                tenant_id: r.get(1),
                body: r.get(2),
            })
            .collect())
    }

    /// The last position of the log (0 when empty).
    ///
    /// # Errors
    /// Database errors.
    pub async fn head(&self) -> Result<i64, sqlx::Error> {
        sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) FROM events")
            .fetch_one(&self.pool)
            .await
    }

    /// How far `consumer` has processed the log (0 when never).
    ///
    /// # Errors
    /// Database errors.
    pub async fn offset(&self, consumer: &str) -> Result<i64, sqlx::Error> {
        let seq: Option<i64> = sqlx::query_scalar("SELECT seq FROM offsets WHERE consumer = ?")
            .bind(consumer)
            .fetch_optional(&self.pool)
            .await?;
        Ok(seq.unwrap_or(0))
    }

    /// Records how far `consumer` has processed the log.
    ///
    /// # Errors
    /// Database errors.
    pub async fn set_offset(&self, consumer: &str, seq: i64) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO offsets (consumer, seq) VALUES (?, ?) \
             ON CONFLICT (consumer) DO UPDATE SET seq = excluded.seq",
        )
        .bind(consumer)
        .bind(seq)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The handle of one tenant's data.
    #[must_use]
    pub fn tenant<'a>(&'a self, tenant_id: &'a str) -> TenantDb<'a> {
        TenantDb {
            db: self,
            tenant_id,
        }
    }

    /// Closes the pool (after the last write).
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// One tenant's data: every query binds the tenant id of the handle.
#[derive(Debug, Clone, Copy)]
pub struct TenantDb<'a> {
    db: &'a Db,
    tenant_id: &'a str,
}

impl TenantDb<'_> {
    /// The tenant (`None` when it does not exist).
    ///
    /// # Errors
    /// Database errors.
    pub async fn get(&self) -> Result<Option<Tenant>, sqlx::Error> {
        let row = sqlx::query("SELECT id, name, tier, status FROM tenants WHERE id = ?")
            .bind(self.tenant_id)
            .fetch_optional(&self.db.pool)
            .await?;
        Ok(row.map(|r| Tenant {
            id: r.get(0),
            name: r.get(1),
            tier: r.get(2),
            status: r.get(3),
        }))
    }

    /// How many events the tenant's log holds.
    ///
    /// # Errors
    /// Database errors.
    pub async fn event_count(&self) -> Result<i64, sqlx::Error> {
        sqlx::query_scalar("SELECT COUNT(*) FROM events WHERE tenant_id = ?")
            .bind(self.tenant_id)
            .fetch_one(&self.db.pool)
            .await
    }
}
