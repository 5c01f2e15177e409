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
    /// The parsed message, as JSON, sealed (`crate::crypto`).
    pub body: String,
}

/// One message of the log, as the pipeline reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedEvent {
    /// Its position in the log.
    pub seq: i64,
    /// The tenant.
    pub tenant_id: String,
    /// The client's `messageId`.
    pub message_id: String,
    /// The parsed message, as JSON, sealed (`crate::crypto`).
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

/// The stored form of an instant (RFC 3339, microseconds, `Z`).
pub(crate) fn ts(t: DateTime<Utc>) -> String {
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
            "SELECT seq, tenant_id, message_id, body FROM events WHERE seq > ? ORDER BY seq LIMIT ?",
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
                message_id: r.get(2),
                body: r.get(3),
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

/// A user as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Its id.
    pub id: String,
    /// Its tenant.
    pub tenant_id: String,
    /// Its login.
    pub email: String,
    /// Argon2id PHC string.
    pub password_hash: String,
    /// `superadmin`, `admin`, `media_buyer` or `viewer`.
    pub role: String,
    /// The TOTP secret, once enrolment started.
    pub totp_secret: Option<Vec<u8>>,
    /// Whether TOTP is required at login.
    pub totp_enabled: bool,
    /// Consecutive failed logins.
    pub failed_logins: i64,
    /// Until when logins are refused after too many failures.
    pub locked_until: Option<DateTime<Utc>>,
    /// Tokens issued before this no longer count.
    pub tokens_valid_after: Option<DateTime<Utc>>,
}

/// A key as listed (never the key itself).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct KeyInfo {
    /// Its id.
    pub id: String,
    /// `write` or `api`.
    pub kind: String,
    /// Its first characters.
    pub prefix: String,
    /// When it was created.
    pub created_at: String,
    /// When it was revoked, if it was.
    pub revoked_at: Option<String>,
}

/// A refresh token as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshToken {
    /// Its id.
    pub id: String,
    /// Its tenant.
    pub tenant_id: String,
    /// Its user.
    pub user_id: String,
    /// The family of rotations it belongs to.
    pub family_id: String,
    /// When it expires.
    pub expires_at: DateTime<Utc>,
    /// Whether it was already exchanged.
    pub used: bool,
    /// Whether its family was revoked.
    pub revoked: bool,
}

fn parse_ts(s: Option<String>) -> Option<DateTime<Utc>> {
    s.and_then(|s| DateTime::parse_from_rfc3339(&s).ok())
        .map(|d| d.with_timezone(&Utc))
}

const USER_COLUMNS: &str = "id, tenant_id, email, password_hash, role, totp_secret, totp_enabled, \
     failed_logins, locked_until, tokens_valid_after";

fn user_of(r: &sqlx::sqlite::SqliteRow) -> User {
    let secret: Option<String> = r.get(5);
    User {
        id: r.get(0),
        tenant_id: r.get(1),
        email: r.get(2),
        password_hash: r.get(3),
        role: r.get(4),
        totp_secret: secret.and_then(|s| {
            base64::Engine::decode(&base64::engine::general_purpose::STANDARD, s).ok()
        }),
        totp_enabled: r.get::<i64, _>(6) != 0,
        failed_logins: r.get(7),
        locked_until: parse_ts(r.get(8)),
        tokens_valid_after: parse_ts(r.get(9)),
    }
}

impl Db {
    /// The user with login `email`, in any tenant (logins are global).
    ///
    /// # Errors
    /// Database errors.
    pub async fn user_by_email(&self, email: &str) -> Result<Option<User>, sqlx::Error> {
        let row = sqlx::query(&format!("SELECT {USER_COLUMNS} FROM users WHERE email = ?"))
            .bind(email)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.as_ref().map(user_of))
    }

    /// The refresh token with this hash, in any tenant (the token names its tenant).
    ///
    /// # Errors
    /// Database errors.
    pub async fn refresh_token(
        &self,
        token_hash: &str,
    ) -> Result<Option<RefreshToken>, sqlx::Error> {
        let row = sqlx::query(
            "SELECT id, tenant_id, user_id, family_id, expires_at, used_at, revoked_at \
             FROM refresh_tokens WHERE token_hash = ?",
        )
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|r| RefreshToken {
            id: r.get(0),
            tenant_id: r.get(1),
            user_id: r.get(2),
            family_id: r.get(3),
            expires_at: parse_ts(r.get(4)).unwrap_or(DateTime::<Utc>::MIN_UTC),
            used: r.get::<Option<String>, _>(5).is_some(),
            revoked: r.get::<Option<String>, _>(6).is_some(),
        }))
    }

    /// The tenant and user of a live password-reset token, consumed (single use).
    ///
    /// # Errors
    /// Database errors.
    pub async fn take_password_reset(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<(String, String)>, sqlx::Error> {
        let row = sqlx::query(
            "UPDATE password_resets SET used_at = ? \
             WHERE token_hash = ? AND used_at IS NULL AND expires_at > ? \
             RETURNING tenant_id, user_id",
        )
        .bind(ts(now))
        .bind(token_hash)
        .bind(ts(now))
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|r| (r.get(0), r.get(1))))
    }

    /// Every tenant (superadmin).
    ///
    /// # Errors
    /// Database errors.
    pub async fn tenants(&self) -> Result<Vec<Tenant>, sqlx::Error> {
        let rows =
            sqlx::query("SELECT id, name, tier, status FROM tenants ORDER BY created_at, id")
                .fetch_all(&self.pool)
                .await?;
        Ok(rows
            .into_iter()
            .map(|r| Tenant {
                id: r.get(0),
                name: r.get(1),
                tier: r.get(2),
                status: r.get(3),
            })
            .collect())
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

    /// Sets the tenant's status (`active` or `suspended`); false when no such tenant.
    ///
    /// # Errors
    /// Database errors.
    pub async fn set_status(&self, status: &str) -> Result<bool, sqlx::Error> {
        let r = sqlx::query("UPDATE tenants SET status = ? WHERE id = ?")
            .bind(status)
            .bind(self.tenant_id)
            .execute(&self.db.pool)
            .await?;
        Ok(r.rows_affected() == 1)
    }

    /// The tenant's flag overrides.
    ///
    /// # Errors
    /// Database errors.
    pub async fn flag_overrides(&self) -> Result<Vec<(String, bool)>, sqlx::Error> {
        let rows =
            sqlx::query("SELECT flag, enabled FROM tenant_flags WHERE tenant_id = ? ORDER BY flag")
                .bind(self.tenant_id)
                .fetch_all(&self.db.pool)
                .await?;
        Ok(rows
            .into_iter()
            .map(|r| (r.get(0), r.get::<i64, _>(1) != 0))
            .collect())
    }

    /// Sets (`Some`) or removes (`None`) the tenant's override of `flag`.
    ///
    /// # Errors
    /// Database errors.
    pub async fn set_flag(&self, flag: &str, enabled: Option<bool>) -> Result<(), sqlx::Error> {
        match enabled {
            Some(on) => {
                sqlx::query(
                    "INSERT INTO tenant_flags (tenant_id, flag, enabled) VALUES (?, ?, ?) \
                     ON CONFLICT (tenant_id, flag) DO UPDATE SET enabled = excluded.enabled",
                )
                .bind(self.tenant_id)
                .bind(flag)
                .bind(i64::from(on))
                .execute(&self.db.pool)
                .await?;
            }
            None => {
                sqlx::query("DELETE FROM tenant_flags WHERE tenant_id = ? AND flag = ?")
                    .bind(self.tenant_id)
                    .bind(flag)
                    .execute(&self.db.pool)
                    .await?;
            }
        }
        Ok(())
    }

    /// Whether `flag` is on for the tenant (its tier's default unless overridden).
    ///
    /// # Errors
    /// Database errors.
    pub async fn flag(&self, flag: crate::flags::Flag) -> Result<bool, sqlx::Error> {
        let Some(t) = self.get().await? else {
            return Ok(false);
        };
        let overrides = self.flag_overrides().await?;
        Ok(crate::flags::effective(&t.tier, &overrides)
            .get(flag.as_str())
            .copied()
            .unwrap_or(false))
    }

    /// A user of the tenant.
    ///
    /// # Errors
    /// Database errors.
    pub async fn user(&self, user_id: &str) -> Result<Option<User>, sqlx::Error> {
        let row = sqlx::query(&format!(
            "SELECT {USER_COLUMNS} FROM users WHERE tenant_id = ? AND id = ?"
        ))
        .bind(self.tenant_id)
        .bind(user_id)
        .fetch_optional(&self.db.pool)
        .await?;
        Ok(row.as_ref().map(user_of))
    }

    /// The tenant's users, by email.
    ///
    /// # Errors
    /// Database errors.
    pub async fn users(&self) -> Result<Vec<User>, sqlx::Error> {
        let rows = sqlx::query(&format!(
            "SELECT {USER_COLUMNS} FROM users WHERE tenant_id = ? ORDER BY email"
        ))
        .bind(self.tenant_id)
        .fetch_all(&self.db.pool)
        .await?;
        Ok(rows.iter().map(user_of).collect())
    }

    /// Adds a user; false when the email is taken.
    ///
    /// # Errors
    /// Database errors.
    pub async fn add_user(
        &self,
        id: &str,
        email: &str,
        password_hash: &str,
        role: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, sqlx::Error> {
        let r = sqlx::query(
            "INSERT INTO users (id, tenant_id, email, password_hash, role, created_at) \
             VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (email) DO NOTHING",
        )
        .bind(id)
        .bind(self.tenant_id)
        .bind(email)
        .bind(password_hash)
        .bind(role)
        .bind(ts(now))
        .execute(&self.db.pool)
        .await?;
        Ok(r.rows_affected() == 1)
    }

    /// Records a login outcome: a success clears the failure count, a failure
    /// counts and may lock the user until `lock_until`.
    ///
    /// # Errors
    /// Database errors.
    pub async fn record_login(
        &self,
        user_id: &str,
        success: bool,
        lock_until: Option<DateTime<Utc>>,
    ) -> Result<(), sqlx::Error> {
        let q = if success {
            sqlx::query("UPDATE users SET failed_logins = 0, locked_until = NULL WHERE tenant_id = ? AND id = ?")
                .bind(self.tenant_id)
                .bind(user_id)
        } else {
            sqlx::query(
                "UPDATE users SET failed_logins = failed_logins + 1, locked_until = COALESCE(?, locked_until) \
                 WHERE tenant_id = ? AND id = ?",
            )
            .bind(lock_until.map(ts))
            .bind(self.tenant_id)
            .bind(user_id)
        };
        q.execute(&self.db.pool).await?;
        Ok(())
    }

    /// Sets a user's password and makes their earlier tokens invalid.
    ///
    /// # Errors
    /// Database errors.
    pub async fn set_password(
        &self,
        user_id: &str,
        hash: &str,
        now: DateTime<Utc>,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE users SET password_hash = ?, tokens_valid_after = ?, failed_logins = 0, locked_until = NULL \
             WHERE tenant_id = ? AND id = ?",
        )
        .bind(hash)
        .bind(ts(now))
        .bind(self.tenant_id)
        .bind(user_id)
        .execute(&self.db.pool)
        .await?;
        self.revoke_user_tokens(user_id, now).await
    }

    /// Revokes every refresh token of a user and invalidates their access tokens.
    ///
    /// # Errors
    /// Database errors.
    pub async fn revoke_user_tokens(
        &self,
        user_id: &str,
        now: DateTime<Utc>,
    ) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE users SET tokens_valid_after = ? WHERE tenant_id = ? AND id = ?")
            .bind(ts(now))
            .bind(self.tenant_id)
            .bind(user_id)
            .execute(&self.db.pool)
            .await?;
        sqlx::query(
            "UPDATE refresh_tokens SET revoked_at = ? WHERE tenant_id = ? AND user_id = ? AND revoked_at IS NULL",
        )
        .bind(ts(now))
        .bind(self.tenant_id)
        .bind(user_id)
        .execute(&self.db.pool)
        .await?;
        Ok(())
    }

    /// Stores a new TOTP secret (not yet required at login).
    ///
    /// # Errors
    /// Database errors.
    pub async fn set_totp_secret(&self, user_id: &str, secret: &[u8]) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE users SET totp_secret = ?, totp_enabled = 0 WHERE tenant_id = ? AND id = ?",
        )
        .bind(base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            secret,
        ))
        .bind(self.tenant_id)
        .bind(user_id)
        .execute(&self.db.pool)
        .await?;
        Ok(())
    }

    /// Requires TOTP at login and replaces the backup codes (their hashes).
    ///
    /// # Errors
    /// Database errors.
    pub async fn enable_totp(
        &self,
        user_id: &str,
        code_hashes: &[(String, String)],
    ) -> Result<(), sqlx::Error> {
        let mut tx = self.db.pool.begin().await?;
        sqlx::query("UPDATE users SET totp_enabled = 1 WHERE tenant_id = ? AND id = ?")
            .bind(self.tenant_id)
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM backup_codes WHERE tenant_id = ? AND user_id = ?")
            .bind(self.tenant_id)
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        for (id, hash) in code_hashes {
            sqlx::query(
                "INSERT INTO backup_codes (id, tenant_id, user_id, code_hash) VALUES (?, ?, ?, ?)",
            )
            .bind(id)
            .bind(self.tenant_id)
            .bind(user_id)
            .bind(hash)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await
    }

    /// Uses a backup code (single use); true when it was live.
    ///
    /// # Errors
    /// Database errors.
    pub async fn use_backup_code(
        &self,
        user_id: &str,
        code_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, sqlx::Error> {
        let r = sqlx::query(
            "UPDATE backup_codes SET used_at = ? \
             WHERE tenant_id = ? AND user_id = ? AND code_hash = ? AND used_at IS NULL",
        )
        .bind(ts(now))
        .bind(self.tenant_id)
        .bind(user_id)
        .bind(code_hash)
        .execute(&self.db.pool)
        .await?;
        Ok(r.rows_affected() == 1)
    }

    /// Stores a refresh token of `family`.
    ///
    /// # Errors
    /// Database errors.
    pub async fn add_refresh_token(
        &self,
        user_id: &str,
        family_id: &str,
        token_hash: &str,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO refresh_tokens (id, tenant_id, user_id, family_id, token_hash, expires_at, created_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(secrets::new_id().map_err(|e| sqlx::Error::Protocol(e.to_string()))?)
        .bind(self.tenant_id)
        .bind(user_id)
        .bind(family_id)
        .bind(token_hash)
        .bind(ts(expires_at))
        .bind(ts(now))
        .execute(&self.db.pool)
        .await?;
        Ok(())
    }

    /// Marks a refresh token exchanged; false when it already was (a reuse).
    ///
    /// # Errors
    /// Database errors.
    pub async fn use_refresh_token(
        &self,
        id: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, sqlx::Error> {
        let r = sqlx::query(
            "UPDATE refresh_tokens SET used_at = ? WHERE tenant_id = ? AND id = ? AND used_at IS NULL",
        )
        .bind(ts(now))
        .bind(self.tenant_id)
        .bind(id)
        .execute(&self.db.pool)
        .await?;
        Ok(r.rows_affected() == 1)
    }

    /// Revokes a refresh-token family.
    ///
    /// # Errors
    /// Database errors.
    pub async fn revoke_family(
        &self,
        family_id: &str,
        now: DateTime<Utc>,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE refresh_tokens SET revoked_at = ? WHERE tenant_id = ? AND family_id = ? AND revoked_at IS NULL",
        )
        .bind(ts(now))
        .bind(self.tenant_id)
        .bind(family_id)
        .execute(&self.db.pool)
        .await?;
        Ok(())
    }

    /// Stores a password-reset token for a user of the tenant.
    ///
    /// # Errors
    /// Database errors.
    pub async fn add_password_reset(
        &self,
        user_id: &str,
        token_hash: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO password_resets (id, tenant_id, user_id, token_hash, expires_at) VALUES (?, ?, ?, ?, ?)",
        )
        .bind(secrets::new_id().map_err(|e| sqlx::Error::Protocol(e.to_string()))?)
        .bind(self.tenant_id)
        .bind(user_id)
        .bind(token_hash)
        .bind(ts(expires_at))
        .execute(&self.db.pool)
        .await?;
        Ok(())
    }

    /// The tenant's keys, newest first.
    ///
    /// # Errors
    /// Database errors.
    pub async fn keys(&self) -> Result<Vec<KeyInfo>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT id, kind, prefix, created_at, revoked_at FROM keys WHERE tenant_id = ? ORDER BY created_at DESC, id",
        )
        .bind(self.tenant_id)
        .fetch_all(&self.db.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| KeyInfo {
                id: r.get(0),
                kind: r.get(1),
                prefix: r.get(2),
                created_at: r.get(3),
                revoked_at: r.get(4),
            })
            .collect())
    }

    /// Creates a key; returns its id and the key (shown once).
    ///
    /// # Errors
    /// Database errors; the OS random source failing.
    pub async fn add_key(
        &self,
        kind: KeyKind,
        now: DateTime<Utc>,
    ) -> Result<(String, String), sqlx::Error> {
        let rnd = |e: secrets::RandomError| sqlx::Error::Protocol(e.to_string());
        let id = secrets::new_id().map_err(rnd)?;
        let key = secrets::new_key(kind).map_err(rnd)?;
        sqlx::query(
            "INSERT INTO keys (id, tenant_id, kind, key_hash, prefix, created_at) VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(&id)
        .bind(self.tenant_id)
        .bind(kind.as_str())
        .bind(secrets::key_hash(&key))
        .bind(secrets::display_prefix(&key))
        .bind(ts(now))
        .execute(&self.db.pool)
        .await?;
        Ok((id, key))
    }

    /// Revokes a key of the tenant; false when the tenant has no such live key.
    ///
    /// # Errors
    /// Database errors.
    pub async fn revoke_key(&self, key_id: &str, now: DateTime<Utc>) -> Result<bool, sqlx::Error> {
        let r = sqlx::query(
            "UPDATE keys SET revoked_at = ? WHERE tenant_id = ? AND id = ? AND revoked_at IS NULL",
        )
        .bind(ts(now))
        .bind(self.tenant_id)
        .bind(key_id)
        .execute(&self.db.pool)
        .await?;
        Ok(r.rows_affected() == 1)
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
