//! Storage: SQLite (one file, WAL, every commit synced) or PostgreSQL, the
//! versioned migrations applied at start-up, and the queries of the server.
//!
//! Tenant-scoped data is reached through [`Db::tenant`], which returns a
//! [`TenantDb`] bound to one tenant: its queries take the tenant id from the handle,
//! so a query that forgets the scope cannot be written with it. The few queries
//! that are not scoped by design (finding a key's tenant, the pipeline reading the
//! log of every tenant in order) are the methods of [`Db`] itself.
//!
//! On PostgreSQL, row-level security is a second wall: every tenant-scoped table
//! admits only the rows of the tenant a transaction names (`stratum.scope` and
//! `stratum.tenant`, set by [`TenantDb::begin`]), and a connection that names no
//! scope sees no row at all. The policies bind the table owner too; they do not
//! bind a superuser or a role with `BYPASSRLS`, so the server should connect as an
//! ordinary role (it warns at start-up when it does not).

use std::fmt::Write as _;
use std::path::Path;
use std::str::FromStr as _;

use chrono::{DateTime, SecondsFormat, Utc};
use sqlx::any::{AnyArguments, AnyConnectOptions, AnyPoolOptions, AnyQueryResult, AnyRow};
use sqlx::query::Query;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{Any, AnyPool, ConnectOptions as _, Row as _, Transaction};

use crate::secrets::{self, KeyKind};

/// The SQLite migrations, embedded in the binary.
pub static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
/// The PostgreSQL migrations (the same versions, in PostgreSQL's dialect, with
/// row-level security), embedded in the binary.
pub static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// Rows per `INSERT` (SQLite allows 32,766 bound values; 7 per row of the log).
const ROWS_PER_INSERT: usize = 1_000;

/// The key of the PostgreSQL advisory lock that orders appends to the log: log
/// positions are then handed out in commit order, so a reader that has seen
/// position `n` has seen every position before it, whichever process wrote it.
const LOG_LOCK: i64 = 0x5354_5241_5455_4d01;
/// The key of the PostgreSQL advisory lock under which the first tenant is created.
const FIRST_TENANT_LOCK: i64 = 0x5354_5241_5455_4d02;

/// Set on every SQLite connection: WAL; every commit reaches the disk before it
/// is acknowledged; foreign keys enforced; writers wait for each other instead
/// of failing.
const SQLITE_PRAGMAS: [&str; 4] = [
    "PRAGMA journal_mode = WAL",
    "PRAGMA synchronous = FULL",
    "PRAGMA foreign_keys = ON",
    "PRAGMA busy_timeout = 5000",
];

/// Which database the server runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite, one file.
    Sqlite,
    /// PostgreSQL, shared by any number of server processes.
    Postgres,
}

/// The database.
#[derive(Debug, Clone)]
pub struct Db {
    pool: AnyPool,
    backend: Backend,
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

/// A block to append to the log (`crate::log::Block`, duplicates left out).
#[derive(Debug, Clone, Copy)]
pub struct NewBlock<'a> {
    /// The tenant.
    pub tenant_id: &'a str,
    /// When the server received the request.
    pub received_at: DateTime<Utc>,
    /// How many messages it holds (at least one).
    pub count: i64,
    /// Their `messageId`s, as a JSON array.
    pub ids: &'a str,
    /// Their bodies, sealed together.
    pub body: &'a str,
}

/// One row of the log, as the pipeline reads it (`crate::log::open` opens it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedBlock {
    /// The position of its first message.
    pub first_seq: i64,
    /// The position of its last message.
    pub last_seq: i64,
    /// The tenant.
    pub tenant_id: String,
    /// [`crate::log::FORMAT_EVENT`] or [`crate::log::FORMAT_BLOCK`].
    pub format: i64,
    /// The `messageId`s, as a JSON array.
    pub ids: String,
    /// The sealed bodies.
    pub body: String,
}

/// One message of the log: its position, tenant and `messageId`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedEvent {
    /// Its position in the log.
    pub seq: i64,
    /// The tenant.
    pub tenant_id: String,
    /// The client's `messageId`.
    pub message_id: String,
}

/// The ids of one row of the log, for the writer's duplicate filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedIds {
    /// The position of its last message.
    pub last_seq: i64,
    /// The tenant.
    pub tenant_id: String,
    /// The `messageId`s, as a JSON array.
    pub ids: String,
    /// When the server received them (RFC 3339).
    pub received_at: String,
}

/// The columns [`logged_ids`] reads, in its order.
const LOGGED_IDS: &str = "last_seq, tenant_id, ids, received_at";

fn logged_ids(r: &AnyRow) -> Result<LoggedIds, sqlx::Error> {
    Ok(LoggedIds {
        last_seq: r.try_get(0)?,
        tenant_id: r.try_get(1)?,
        ids: r.try_get(2)?,
        received_at: r.try_get(3)?,
    })
}

fn logged_block(r: &AnyRow) -> Result<LoggedBlock, sqlx::Error> {
    Ok(LoggedBlock {
        first_seq: r.try_get(0)?,
        last_seq: r.try_get(1)?,
        tenant_id: r.try_get(2)?,
        format: r.try_get(3)?,
        ids: r.try_get(4)?,
        body: r.try_get(5)?,
    })
}

/// An open append to the log: one transaction, which on PostgreSQL holds the
/// log's advisory lock (positions are handed out in commit order across
/// processes) and on SQLite the database's write lock from its first statement.
#[derive(Debug)]
pub struct Append {
    tx: Transaction<'static, Any>,
    backend: Backend,
}

impl Append {
    /// The last position of the log, as this transaction sees it (0 when
    /// empty): under the lock, no other writer moves it.
    ///
    /// # Errors
    /// Database errors.
    pub async fn head(&mut self) -> Result<i64, sqlx::Error> {
        sqlx::query("SELECT COALESCE(MAX(last_seq), 0) FROM event_blocks")
            .fetch_one(&mut *self.tx)
            .await?
            .try_get(0)
    }

    /// The ids of the rows holding positions after `after`, in log order
    /// (what other processes appended since a writer last looked).
    ///
    /// # Errors
    /// Database errors.
    pub async fn ids_after(&mut self, after: i64) -> Result<Vec<LoggedIds>, sqlx::Error> {
        let sql =
            format!("SELECT {LOGGED_IDS} FROM event_blocks WHERE last_seq > $1 ORDER BY last_seq");
        let rows = sqlx::query(&sql)
            .bind(after)
            .fetch_all(&mut *self.tx)
            .await?;
        rows.iter().map(logged_ids).collect()
    }

    /// Appends `blocks` in order from position `first` (the head plus one):
    /// each block takes `count` consecutive positions.
    ///
    /// # Errors
    /// Database errors.
    pub async fn insert(&mut self, first: i64, blocks: &[NewBlock<'_>]) -> Result<(), sqlx::Error> {
        let mut next = first;
        let mut sql = String::new();
        for chunk in blocks.chunks(ROWS_PER_INSERT) {
            sql.clear();
            sql.push_str(
                "INSERT INTO event_blocks \
                 (last_seq, first_seq, tenant_id, received_at, format, ids, body) VALUES ",
            );
            for i in 0..chunk.len() {
                if i > 0 {
                    sql.push_str(", ");
                }
                match self.backend {
                    // Positional: SQLite looks a numbered parameter up by name,
                    // linearly, which makes thousands of them quadratic.
                    Backend::Sqlite => sql.push_str("(?, ?, ?, ?, ?, ?, ?)"),
                    Backend::Postgres => {
                        let p = i * 7;
                        let _ = write!(
                            sql,
                            "(${}, ${}, ${}, ${}, ${}, ${}, ${})",
                            p + 1,
                            p + 2,
                            p + 3,
                            p + 4,
                            p + 5,
                            p + 6,
                            p + 7
                        );
                    }
                }
            }
            let mut q = sqlx::query(&sql);
            for b in chunk {
                let last = next + b.count.max(1) - 1;
                q = q
                    .bind(last)
                    .bind(next)
                    .bind(b.tenant_id)
                    .bind(ts(b.received_at))
                    .bind(crate::log::FORMAT_BLOCK)
                    .bind(b.ids)
                    .bind(b.body);
                next = last + 1;
            }
            q.execute(&mut *self.tx).await?;
        }
        Ok(())
    }

    /// Commits (synced to disk before this returns).
    ///
    /// # Errors
    /// Database errors (then nothing was written).
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        self.tx.commit().await
    }
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

/// What the first start of a server on an empty database created.
#[derive(Debug, Clone)]
pub struct FirstTenant {
    /// The tenant, its admin and its keys.
    pub created: CreatedTenant,
    /// The superadmin's login.
    pub superadmin_email: String,
    /// The superadmin's password.
    pub superadmin_password: String,
}

/// Why a tenant could not be created.
#[derive(Debug, thiserror::Error)]
pub enum CreateError {
    /// The admin's email already has a login (logins are global); nothing was
    /// created. Choose another email.
    #[error("this email already has a login")]
    EmailTaken,
    /// The database failed, or the OS random source did (as
    /// `sqlx::Error::Protocol`); nothing was created.
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// A new login's first password and its Argon2 hash, computed through
/// [`secrets::run_argon2`] before any transaction opens.
struct NewPassword {
    password: String,
    hash: String,
}

impl NewPassword {
    async fn generate() -> Result<Self, sqlx::Error> {
        let password = secrets::new_password().map_err(|e| sqlx::Error::Protocol(e.to_string()))?;
        let hash = secrets::hash_password_bounded(password.clone())
            .await
            .map_err(|e| sqlx::Error::Protocol(e.to_string()))?;
        Ok(Self { password, hash })
    }
}

/// Inserts a tenant with an admin, a write key and an API key; with
/// `only_if_first`, only when the database holds no tenant (`None` otherwise).
/// An admin email that already has a login is [`CreateError::EmailTaken`]: the
/// caller drops the transaction, so no tenant is left without its admin.
async fn insert_tenant(
    tx: &mut Transaction<'static, Any>,
    name: &str,
    tier: &str,
    admin_email: &str,
    admin: NewPassword,
    now: DateTime<Utc>,
    only_if_first: bool,
) -> Result<Option<CreatedTenant>, CreateError> {
    let rnd = |e: secrets::RandomError| sqlx::Error::Protocol(e.to_string());
    let tenant = Tenant {
        id: secrets::new_id().map_err(rnd)?,
        name: name.to_owned(),
        tier: tier.to_owned(),
        status: "active".to_owned(),
    };
    let sql = if only_if_first {
        "INSERT INTO tenants (id, name, tier, status, created_at) \
         SELECT $1, $2, $3, $4, $5 WHERE NOT EXISTS (SELECT 1 FROM tenants)"
    } else {
        "INSERT INTO tenants (id, name, tier, status, created_at) VALUES ($1, $2, $3, $4, $5)"
    };
    let inserted = sqlx::query(sql)
        .bind(&tenant.id)
        .bind(&tenant.name)
        .bind(&tenant.tier)
        .bind(&tenant.status)
        .bind(ts(now))
        .execute(&mut **tx)
        .await?
        .rows_affected();
    if inserted == 0 {
        return Ok(None);
    }
    let admin_id = secrets::new_id().map_err(rnd)?;
    if !insert_user(
        tx,
        &admin_id,
        &tenant.id,
        admin_email,
        &admin.hash,
        "admin",
        now,
    )
    .await?
    {
        return Err(CreateError::EmailTaken);
    }
    let write_key = secrets::new_key(KeyKind::Write).map_err(rnd)?;
    let api_key = secrets::new_key(KeyKind::Api).map_err(rnd)?;
    for (kind, key) in [(KeyKind::Write, &write_key), (KeyKind::Api, &api_key)] {
        insert_key(tx, &tenant.id, kind, key, now).await?;
    }
    Ok(Some(CreatedTenant {
        tenant,
        admin_email: admin_email.to_owned(),
        admin_password: admin.password,
        write_key,
        api_key,
    }))
}

/// Inserts a user; false when the email is taken.
async fn insert_user(
    tx: &mut Transaction<'static, Any>,
    id: &str,
    tenant_id: &str,
    email: &str,
    password_hash: &str,
    role: &str,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let r = sqlx::query(
        "INSERT INTO users (id, tenant_id, email, password_hash, role, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (email) DO NOTHING",
    )
    .bind(id)
    .bind(tenant_id)
    .bind(email)
    .bind(password_hash)
    .bind(role)
    .bind(ts(now))
    .execute(&mut **tx)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Inserts a key (its hash and display prefix); returns its id.
async fn insert_key(
    tx: &mut Transaction<'static, Any>,
    tenant_id: &str,
    kind: KeyKind,
    key: &str,
    now: DateTime<Utc>,
) -> Result<String, sqlx::Error> {
    let id = secrets::new_id().map_err(|e| sqlx::Error::Protocol(e.to_string()))?;
    sqlx::query(
        "INSERT INTO keys (id, tenant_id, kind, key_hash, prefix, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&id)
    .bind(tenant_id)
    .bind(kind.as_str())
    .bind(secrets::key_hash(key))
    .bind(secrets::display_prefix(key))
    .bind(ts(now))
    .execute(&mut **tx)
    .await?;
    Ok(id)
}

/// The stored form of an instant (RFC 3339, microseconds, `Z`).
pub(crate) fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// Whose rows a statement may see (PostgreSQL row-level security).
#[derive(Debug, Clone, Copy)]
enum Scope<'a> {
    /// Every tenant's: the queries that are not scoped by design.
    All,
    /// One tenant's.
    Tenant(&'a str),
}

/// One statement run in a scope: straight on the pool on SQLite, in a
/// transaction that sets the scope first on PostgreSQL.
trait InScope: Sized {
    async fn all(self, db: &Db, scope: Scope<'_>) -> Result<Vec<AnyRow>, sqlx::Error>;
    async fn optional(self, db: &Db, scope: Scope<'_>) -> Result<Option<AnyRow>, sqlx::Error>;
    async fn one(self, db: &Db, scope: Scope<'_>) -> Result<AnyRow, sqlx::Error>;
    async fn run(self, db: &Db, scope: Scope<'_>) -> Result<AnyQueryResult, sqlx::Error>;
}

/// Runs `$q.$method` on the pool (SQLite) or in a scoped transaction.
macro_rules! in_scope {
    ($q:expr, $db:expr, $scope:expr, $method:ident) => {
        match $db.backend {
            Backend::Sqlite => $q.$method(&$db.pool).await,
            Backend::Postgres => {
                let mut tx = $db.begin($scope).await?;
                let out = $q.$method(&mut *tx).await?;
                tx.commit().await?;
                Ok(out)
            }
        }
    };
}

impl<'q> InScope for Query<'q, Any, AnyArguments<'q>> {
    async fn all(self, db: &Db, scope: Scope<'_>) -> Result<Vec<AnyRow>, sqlx::Error> {
        in_scope!(self, db, scope, fetch_all)
    }
    async fn optional(self, db: &Db, scope: Scope<'_>) -> Result<Option<AnyRow>, sqlx::Error> {
        in_scope!(self, db, scope, fetch_optional)
    }
    async fn one(self, db: &Db, scope: Scope<'_>) -> Result<AnyRow, sqlx::Error> {
        in_scope!(self, db, scope, fetch_one)
    }
    async fn run(self, db: &Db, scope: Scope<'_>) -> Result<AnyQueryResult, sqlx::Error> {
        in_scope!(self, db, scope, execute)
    }
}

impl Db {
    /// Opens (creating if needed) the SQLite database at `path` and applies the
    /// migrations.
    ///
    /// # Errors
    /// When the file cannot be opened or a migration fails.
    pub async fn open_file(path: &Path) -> Result<Self, sqlx::Error> {
        let url = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .to_url_lossy();
        Self::open(AnyConnectOptions::from_url(&url)?, Backend::Sqlite).await
    }

    /// Opens the database a URL names (`sqlite:` or `postgres:`/`postgresql:`)
    /// and applies the migrations. A SQLite file is created when missing.
    ///
    /// # Errors
    /// For a malformed or unsupported URL, or as [`Db::open_file`].
    pub async fn open_url(url: &str) -> Result<Self, sqlx::Error> {
        if url.starts_with("sqlite:") {
            let url = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .to_url_lossy();
            Self::open(AnyConnectOptions::from_url(&url)?, Backend::Sqlite).await
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Self::open(AnyConnectOptions::from_str(url)?, Backend::Postgres).await
        } else {
            Err(sqlx::Error::Configuration(
                "DATABASE_URL must start with sqlite:, postgres: or postgresql:".into(),
            ))
        }
    }

    async fn open(options: AnyConnectOptions, backend: Backend) -> Result<Self, sqlx::Error> {
        sqlx::any::install_default_drivers();
        let pool = AnyPoolOptions::new()
            .max_connections(match backend {
                Backend::Sqlite => 8,
                Backend::Postgres => 16,
            })
            .acquire_timeout(std::time::Duration::from_secs(5))
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        for pragma in SQLITE_PRAGMAS {
                            sqlx::Executor::execute(&mut *conn, pragma).await?;
                        }
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await?;
        let db = Self { pool, backend };
        db.migrator().run(&db.pool).await?;
        if backend == Backend::Postgres && db.bypasses_row_security().await? {
            tracing::warn!(
                "the database role is a superuser or has BYPASSRLS: row-level security \
                 does not apply to it; connect as an ordinary role"
            );
        }
        Ok(db)
    }

    fn migrator(&self) -> &'static sqlx::migrate::Migrator {
        match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        }
    }

    /// Which database this is.
    #[must_use]
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Whether the connected role escapes row-level security (PostgreSQL).
    ///
    /// # Errors
    /// Database errors.
    pub async fn bypasses_row_security(&self) -> Result<bool, sqlx::Error> {
        if self.backend != Backend::Postgres {
            return Ok(false);
        }
        let row = sqlx::query(
            "SELECT CASE WHEN rolsuper OR rolbypassrls THEN 1 ELSE 0 END \
             FROM pg_roles WHERE rolname = current_user",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(row.try_get::<i64, _>(0)? != 0)
    }

    /// The connection pool (for its statistics, and for queries outside any
    /// tenant scope: on PostgreSQL these see no tenant-scoped row).
    #[must_use]
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// A transaction in `scope` (on PostgreSQL, the row-level-security scope is
    /// set for this transaction only).
    async fn begin(&self, scope: Scope<'_>) -> Result<Transaction<'static, Any>, sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        if self.backend == Backend::Postgres {
            let (kind, tenant) = match scope {
                Scope::All => ("all", ""),
                Scope::Tenant(t) => ("tenant", t),
            };
            sqlx::query(
                "SELECT set_config('stratum.scope', $1, true), set_config('stratum.tenant', $2, true)",
            )
            .bind(kind)
            .bind(tenant)
            .execute(&mut *tx)
            .await?;
        }
        Ok(tx)
    }

    /// Whether the database answers and every migration of this build is applied.
    pub async fn ready(&self) -> bool {
        let applied = sqlx::query("SELECT COUNT(*) FROM _sqlx_migrations WHERE success")
            .fetch_one(&self.pool)
            .await
            .and_then(|r| r.try_get::<i64, _>(0));
        applied.is_ok_and(|n| usize::try_from(n).is_ok_and(|n| n >= self.migrator().iter().count()))
    }

    /// On a database without tenants, creates the first one, with an admin, a
    /// write key, an API key and a superadmin login; returns the secrets (shown
    /// once), or `None` when a tenant exists already. Server processes starting
    /// together on one database create one first tenant between them.
    ///
    /// # Errors
    /// Database errors; the OS random source failing (as `sqlx::Error::Protocol`).
    pub async fn create_first_tenant(
        &self,
        name: &str,
        tier: &str,
        admin_email: &str,
        superadmin_email: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<FirstTenant>, sqlx::Error> {
        let admin = NewPassword::generate().await?;
        let superadmin = NewPassword::generate().await?;
        let taken = || sqlx::Error::Protocol("the superadmin and the admin need two emails".into());
        let mut tx = self.begin(Scope::All).await?;
        if self.backend == Backend::Postgres {
            sqlx::query("SELECT pg_advisory_xact_lock($1)")
                .bind(FIRST_TENANT_LOCK)
                .execute(&mut *tx)
                .await?;
        }
        // The check is part of the first write (so, on SQLite, made under the
        // write lock): it cannot interleave with another process's.
        let created = match insert_tenant(&mut tx, name, tier, admin_email, admin, now, true).await
        {
            Ok(Some(created)) => created,
            Ok(None) => return Ok(None),
            Err(CreateError::EmailTaken) => return Err(taken()),
            Err(CreateError::Db(e)) => return Err(e),
        };
        let rnd = |e: secrets::RandomError| sqlx::Error::Protocol(e.to_string());
        if !insert_user(
            &mut tx,
            &secrets::new_id().map_err(rnd)?,
            &created.tenant.id,
            superadmin_email,
            &superadmin.hash,
            "superadmin",
            now,
        )
        .await?
        {
            return Err(taken());
        }
        tx.commit().await?;
        Ok(Some(FirstTenant {
            created,
            superadmin_email: superadmin_email.to_owned(),
            superadmin_password: superadmin.password,
        }))
    }

    /// Creates a tenant with an admin, a write key and an API key, in one
    /// transaction; returns the secrets (shown once). When the admin's email
    /// already has a login, nothing is created.
    ///
    /// # Errors
    /// [`CreateError::EmailTaken`]; database errors; the OS random source failing
    /// (as `sqlx::Error::Protocol`).
    pub async fn create_tenant(
        &self,
        name: &str,
        tier: &str,
        admin_email: &str,
        now: DateTime<Utc>,
    ) -> Result<CreatedTenant, CreateError> {
        let admin = NewPassword::generate().await?;
        let mut tx = self.begin(Scope::All).await?;
        let created = insert_tenant(&mut tx, name, tier, admin_email, admin, now, false)
            .await?
            .ok_or_else(|| sqlx::Error::Protocol("the tenant was not created".into()))?;
        tx.commit().await?;
        Ok(created)
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
             WHERE k.key_hash = $1 AND k.kind = $2 AND k.revoked_at IS NULL",
        )
        .bind(&hash)
        .bind(kind.as_str())
        .optional(self, Scope::All)
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

    /// Starts an append to the log ([`Append`]).
    ///
    /// # Errors
    /// Database errors.
    pub async fn begin_append(&self) -> Result<Append, sqlx::Error> {
        let tx = match self.backend {
            // The write lock first: the head read next is then the head the
            // rows are appended after, whatever else writes to the file.
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => {
                let mut tx = self.begin(Scope::All).await?;
                sqlx::query("SELECT pg_advisory_xact_lock($1)")
                    .bind(LOG_LOCK)
                    .execute(&mut *tx)
                    .await?;
                tx
            }
        };
        Ok(Append {
            tx,
            backend: self.backend,
        })
    }

    /// The rows of the log holding positions after `after` and before
    /// `before`, at most `limit` rows, in log order (every tenant's). A row
    /// may also hold positions at or below `after`.
    ///
    /// # Errors
    /// Database errors.
    pub async fn blocks_between(
        &self,
        after: i64,
        before: i64,
        limit: i64,
    ) -> Result<Vec<LoggedBlock>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT first_seq, last_seq, tenant_id, format, ids, body FROM event_blocks \
             WHERE last_seq > $1 AND first_seq < $2 ORDER BY last_seq LIMIT $3",
        )
        .bind(after)
        .bind(before)
        .bind(limit)
        .all(self, Scope::All)
        .await?;
        rows.iter().map(logged_block).collect()
    }

    /// The messages of the log after position `after`, in log order (every
    /// tenant's): positions and `messageId`s, bodies left sealed.
    ///
    /// # Errors
    /// Database errors, or a row whose id list does not parse.
    pub async fn events_after(&self, after: i64) -> Result<Vec<LoggedEvent>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT first_seq, tenant_id, ids FROM event_blocks \
             WHERE last_seq > $1 ORDER BY last_seq",
        )
        .bind(after)
        .all(self, Scope::All)
        .await?;
        let mut out = Vec::new();
        for r in &rows {
            let first: i64 = r.try_get(0)?;
            let tenant_id: String = r.try_get(1)?;
            let ids = crate::log::parse_ids(&r.try_get::<String, _>(2)?)
                .map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
            for (seq, message_id) in (first..).zip(ids) {
                if seq > after {
                    out.push(LoggedEvent {
                        seq,
                        tenant_id: tenant_id.clone(),
                        message_id,
                    });
                }
            }
        }
        Ok(out)
    }

    /// The last position of the log (0 when empty).
    ///
    /// # Errors
    /// Database errors.
    pub async fn head(&self) -> Result<i64, sqlx::Error> {
        sqlx::query("SELECT COALESCE(MAX(last_seq), 0) FROM event_blocks")
            .one(self, Scope::All)
            .await?
            .try_get(0)
    }

    /// The ids of at most `limit` rows ending below position `below`, newest
    /// first (to rebuild the writer's duplicate filter at start).
    ///
    /// # Errors
    /// Database errors.
    pub async fn recent_ids(&self, below: i64, limit: i64) -> Result<Vec<LoggedIds>, sqlx::Error> {
        let sql = format!(
            "SELECT {LOGGED_IDS} FROM event_blocks \
             WHERE last_seq < $1 ORDER BY last_seq DESC LIMIT $2"
        );
        let rows = sqlx::query(&sql)
            .bind(below)
            .bind(limit)
            .all(self, Scope::All)
            .await?;
        rows.iter().map(logged_ids).collect()
    }

    /// How far `consumer` has processed the log (0 when never).
    ///
    /// # Errors
    /// Database errors.
    pub async fn offset(&self, consumer: &str) -> Result<i64, sqlx::Error> {
        let row = sqlx::query("SELECT seq FROM offsets WHERE consumer = $1")
            .bind(consumer)
            .optional(self, Scope::All)
            .await?;
        row.map_or(Ok(0), |r| r.try_get(0))
    }

    /// Records how far `consumer` has processed the log.
    ///
    /// # Errors
    /// Database errors.
    pub async fn set_offset(&self, consumer: &str, seq: i64) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO offsets (consumer, seq) VALUES ($1, $2) \
             ON CONFLICT (consumer) DO UPDATE SET seq = excluded.seq",
        )
        .bind(consumer)
        .bind(seq)
        .run(self, Scope::All)
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
    /// The active TOTP secret (required at login when `totp_enabled`).
    pub totp_secret: Option<Vec<u8>>,
    /// A TOTP secret enrolled but not yet verified: it replaces the active one
    /// only once a code of it is verified.
    pub totp_pending_secret: Option<Vec<u8>>,
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
     failed_logins, locked_until, tokens_valid_after, totp_pending_secret";

/// The stored form of a TOTP secret (base64).
fn secret_text(secret: &[u8]) -> String {
    base64::Engine::encode(&base64::engine::general_purpose::STANDARD, secret)
}

fn secret_bytes(text: Option<String>) -> Option<Vec<u8>> {
    text.and_then(|s| base64::Engine::decode(&base64::engine::general_purpose::STANDARD, s).ok())
}

fn user_of(r: &AnyRow) -> User {
    User {
        id: r.get(0),
        tenant_id: r.get(1),
        email: r.get(2),
        password_hash: r.get(3),
        role: r.get(4),
        totp_secret: secret_bytes(r.get(5)),
        totp_pending_secret: secret_bytes(r.get(10)),
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
        let row = sqlx::query(&format!(
            "SELECT {USER_COLUMNS} FROM users WHERE email = $1"
        ))
        .bind(email)
        .optional(self, Scope::All)
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
             FROM refresh_tokens WHERE token_hash = $1",
        )
        .bind(token_hash)
        .optional(self, Scope::All)
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
            "UPDATE password_resets SET used_at = $1 \
             WHERE token_hash = $2 AND used_at IS NULL AND expires_at > $3 \
             RETURNING tenant_id, user_id",
        )
        .bind(ts(now))
        .bind(token_hash)
        .bind(ts(now))
        .optional(self, Scope::All)
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
                .all(self, Scope::All)
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
    fn scope(&self) -> Scope<'_> {
        Scope::Tenant(self.tenant_id)
    }

    /// A transaction in the tenant's scope, for queries of your own: on
    /// PostgreSQL, row-level security limits every statement of it to the
    /// tenant's rows, even one that forgets its `WHERE tenant_id`. (SQLite has
    /// no row-level security: there, the scope is what [`TenantDb`]'s own
    /// queries bind.)
    ///
    /// # Errors
    /// Database errors.
    pub async fn begin(&self) -> Result<Transaction<'static, Any>, sqlx::Error> {
        self.db.begin(self.scope()).await
    }

    /// The tenant (`None` when it does not exist).
    ///
    /// # Errors
    /// Database errors.
    pub async fn get(&self) -> Result<Option<Tenant>, sqlx::Error> {
        let row = sqlx::query("SELECT id, name, tier, status FROM tenants WHERE id = $1")
            .bind(self.tenant_id)
            .optional(self.db, self.scope())
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
        let r = sqlx::query("UPDATE tenants SET status = $1 WHERE id = $2")
            .bind(status)
            .bind(self.tenant_id)
            .run(self.db, self.scope())
            .await?;
        Ok(r.rows_affected() == 1)
    }

    /// The tenant's flag overrides.
    ///
    /// # Errors
    /// Database errors.
    pub async fn flag_overrides(&self) -> Result<Vec<(String, bool)>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT flag, enabled FROM tenant_flags WHERE tenant_id = $1 ORDER BY flag",
        )
        .bind(self.tenant_id)
        .all(self.db, self.scope())
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
                    "INSERT INTO tenant_flags (tenant_id, flag, enabled) VALUES ($1, $2, $3) \
                     ON CONFLICT (tenant_id, flag) DO UPDATE SET enabled = excluded.enabled",
                )
                .bind(self.tenant_id)
                .bind(flag)
                .bind(i64::from(on))
                .run(self.db, self.scope())
                .await?;
            }
            None => {
                sqlx::query("DELETE FROM tenant_flags WHERE tenant_id = $1 AND flag = $2")
                    .bind(self.tenant_id)
                    .bind(flag)
                    .run(self.db, self.scope())
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
        let row = sqlx::query(
            "SELECT t.tier, f.enabled FROM tenants t \
             LEFT JOIN tenant_flags f ON f.tenant_id = t.id AND f.flag = $2 \
             WHERE t.id = $1",
        )
        .bind(self.tenant_id)
        .bind(flag.as_str())
        .optional(self.db, self.scope())
        .await?;
        let Some(row) = row else {
            return Ok(false);
        };
        let tier: String = row.try_get(0)?;
        let enabled: Option<i64> = row.try_get(1)?;
        Ok(enabled.map_or_else(|| flag.default_for(&tier), |e| e != 0))
    }

    /// A user of the tenant.
    ///
    /// # Errors
    /// Database errors.
    pub async fn user(&self, user_id: &str) -> Result<Option<User>, sqlx::Error> {
        let row = sqlx::query(&format!(
            "SELECT {USER_COLUMNS} FROM users WHERE tenant_id = $1 AND id = $2"
        ))
        .bind(self.tenant_id)
        .bind(user_id)
        .optional(self.db, self.scope())
        .await?;
        Ok(row.as_ref().map(user_of))
    }

    /// The tenant's users, by email.
    ///
    /// # Errors
    /// Database errors.
    pub async fn users(&self) -> Result<Vec<User>, sqlx::Error> {
        let rows = sqlx::query(&format!(
            "SELECT {USER_COLUMNS} FROM users WHERE tenant_id = $1 ORDER BY email"
        ))
        .bind(self.tenant_id)
        .all(self.db, self.scope())
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
        let mut tx = self.db.begin(self.scope()).await?;
        let added =
            insert_user(&mut tx, id, self.tenant_id, email, password_hash, role, now).await?;
        tx.commit().await?;
        Ok(added)
    }

    /// Reserves one login attempt of a user before its credentials are checked:
    /// in one statement, counts it as a failure and, when that makes `max`
    /// failures in a row, locks the user until `lock_until`. Concurrent attempts
    /// each get their own count, so no more than `max` are ever checked between
    /// two lockouts. Returns the new count, or `None` when the user is locked
    /// (the attempt must then not be checked).
    ///
    /// # Errors
    /// Database errors.
    pub async fn reserve_login_attempt(
        &self,
        user_id: &str,
        max: i64,
        now: DateTime<Utc>,
        lock_until: DateTime<Utc>,
    ) -> Result<Option<i64>, sqlx::Error> {
        let row = sqlx::query(
            "UPDATE users SET failed_logins = failed_logins + 1, \
             locked_until = CASE WHEN failed_logins + 1 >= $1 THEN $2 ELSE locked_until END \
             WHERE tenant_id = $3 AND id = $4 AND (locked_until IS NULL OR locked_until <= $5) \
             RETURNING failed_logins",
        )
        .bind(max)
        .bind(ts(lock_until))
        .bind(self.tenant_id)
        .bind(user_id)
        .bind(ts(now))
        .optional(self.db, self.scope())
        .await?;
        row.map(|r| r.try_get(0)).transpose()
    }

    /// Clears a user's failure count and lockout (the credentials were right).
    ///
    /// # Errors
    /// Database errors.
    pub async fn clear_login_failures(&self, user_id: &str) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE users SET failed_logins = 0, locked_until = NULL WHERE tenant_id = $1 AND id = $2",
        )
        .bind(self.tenant_id)
        .bind(user_id)
        .run(self.db, self.scope())
        .await?;
        Ok(())
    }

    /// Accepts a TOTP time step for a user when it is later than the last one
    /// accepted (each code counts once, RFC 6238 section 5.2); false otherwise.
    ///
    /// # Errors
    /// Database errors.
    pub async fn accept_totp_step(&self, user_id: &str, step: i64) -> Result<bool, sqlx::Error> {
        let r = sqlx::query(
            "UPDATE users SET totp_last_step = $1 \
             WHERE tenant_id = $2 AND id = $3 AND totp_last_step < $1",
        )
        .bind(step)
        .bind(self.tenant_id)
        .bind(user_id)
        .run(self.db, self.scope())
        .await?;
        Ok(r.rows_affected() == 1)
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
            "UPDATE users SET password_hash = $1, tokens_valid_after = $2, failed_logins = 0, locked_until = NULL \
             WHERE tenant_id = $3 AND id = $4",
        )
        .bind(hash)
        .bind(ts(now))
        .bind(self.tenant_id)
        .bind(user_id)
        .run(self.db, self.scope())
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
        sqlx::query("UPDATE users SET tokens_valid_after = $1 WHERE tenant_id = $2 AND id = $3")
            .bind(ts(now))
            .bind(self.tenant_id)
            .bind(user_id)
            .run(self.db, self.scope())
            .await?;
        sqlx::query(
            "UPDATE refresh_tokens SET revoked_at = $1 WHERE tenant_id = $2 AND user_id = $3 AND revoked_at IS NULL",
        )
        .bind(ts(now))
        .bind(self.tenant_id)
        .bind(user_id)
        .run(self.db, self.scope())
        .await?;
        Ok(())
    }

    /// Stores a new TOTP secret as pending: the active secret, and whether MFA
    /// is on, do not change until [`TenantDb::enable_totp`] confirms it.
    ///
    /// # Errors
    /// Database errors.
    pub async fn set_pending_totp_secret(
        &self,
        user_id: &str,
        secret: &[u8],
    ) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE users SET totp_pending_secret = $1 WHERE tenant_id = $2 AND id = $3")
            .bind(secret_text(secret))
            .bind(self.tenant_id)
            .bind(user_id)
            .run(self.db, self.scope())
            .await?;
        Ok(())
    }

    /// Makes the pending secret `secret` the active one and requires TOTP at
    /// login, records `step` (the step of the code that confirmed it) as used,
    /// and replaces the backup codes (their hashes); false, changing nothing,
    /// when `secret` is no longer the pending secret (enrolled again meanwhile)
    /// or `step` was used already.
    ///
    /// # Errors
    /// Database errors.
    pub async fn enable_totp(
        &self,
        user_id: &str,
        secret: &[u8],
        step: i64,
        code_hashes: &[(String, String)],
    ) -> Result<bool, sqlx::Error> {
        let mut tx = self.db.begin(self.scope()).await?;
        let switched = sqlx::query(
            "UPDATE users SET totp_secret = totp_pending_secret, totp_pending_secret = NULL, \
             totp_enabled = 1, totp_last_step = $1 \
             WHERE tenant_id = $2 AND id = $3 AND totp_pending_secret = $4 AND totp_last_step < $1",
        )
        .bind(step)
        .bind(self.tenant_id)
        .bind(user_id)
        .bind(secret_text(secret))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if switched != 1 {
            return Ok(false);
        }
        sqlx::query("DELETE FROM backup_codes WHERE tenant_id = $1 AND user_id = $2")
            .bind(self.tenant_id)
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        for (id, hash) in code_hashes {
            sqlx::query(
                "INSERT INTO backup_codes (id, tenant_id, user_id, code_hash) VALUES ($1, $2, $3, $4)",
            )
            .bind(id)
            .bind(self.tenant_id)
            .bind(user_id)
            .bind(hash)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(true)
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
            "UPDATE backup_codes SET used_at = $1 \
             WHERE tenant_id = $2 AND user_id = $3 AND code_hash = $4 AND used_at IS NULL",
        )
        .bind(ts(now))
        .bind(self.tenant_id)
        .bind(user_id)
        .bind(code_hash)
        .run(self.db, self.scope())
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
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(secrets::new_id().map_err(|e| sqlx::Error::Protocol(e.to_string()))?)
        .bind(self.tenant_id)
        .bind(user_id)
        .bind(family_id)
        .bind(token_hash)
        .bind(ts(expires_at))
        .bind(ts(now))
        .run(self.db, self.scope())
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
            "UPDATE refresh_tokens SET used_at = $1 WHERE tenant_id = $2 AND id = $3 AND used_at IS NULL",
        )
        .bind(ts(now))
        .bind(self.tenant_id)
        .bind(id)
        .run(self.db, self.scope())
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
            "UPDATE refresh_tokens SET revoked_at = $1 WHERE tenant_id = $2 AND family_id = $3 AND revoked_at IS NULL",
        )
        .bind(ts(now))
        .bind(self.tenant_id)
        .bind(family_id)
        .run(self.db, self.scope())
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
            "INSERT INTO password_resets (id, tenant_id, user_id, token_hash, expires_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(secrets::new_id().map_err(|e| sqlx::Error::Protocol(e.to_string()))?)
        .bind(self.tenant_id)
        .bind(user_id)
        .bind(token_hash)
        .bind(ts(expires_at))
        .run(self.db, self.scope())
        .await?;
        Ok(())
    }

    /// The tenant's keys, newest first.
    ///
    /// # Errors
    /// Database errors.
    pub async fn keys(&self) -> Result<Vec<KeyInfo>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT id, kind, prefix, created_at, revoked_at FROM keys WHERE tenant_id = $1 ORDER BY created_at DESC, id",
        )
        .bind(self.tenant_id)
        .all(self.db, self.scope())
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
        let key = secrets::new_key(kind).map_err(rnd)?;
        let mut tx = self.db.begin(self.scope()).await?;
        let id = insert_key(&mut tx, self.tenant_id, kind, &key, now).await?;
        tx.commit().await?;
        Ok((id, key))
    }

    /// Revokes a key of the tenant; false when the tenant has no such live key.
    ///
    /// # Errors
    /// Database errors.
    pub async fn revoke_key(&self, key_id: &str, now: DateTime<Utc>) -> Result<bool, sqlx::Error> {
        let r = sqlx::query(
            "UPDATE keys SET revoked_at = $1 WHERE tenant_id = $2 AND id = $3 AND revoked_at IS NULL",
        )
        .bind(ts(now))
        .bind(self.tenant_id)
        .bind(key_id)
        .run(self.db, self.scope())
        .await?;
        Ok(r.rows_affected() == 1)
    }

    /// How many events the tenant's log holds.
    ///
    /// # Errors
    /// Database errors.
    pub async fn event_count(&self) -> Result<i64, sqlx::Error> {
        sqlx::query(
            "SELECT CAST(COALESCE(SUM(last_seq - first_seq + 1), 0) AS BIGINT) \
             FROM event_blocks WHERE tenant_id = $1",
        )
        .bind(self.tenant_id)
        .one(self.db, self.scope())
        .await?
        .try_get(0)
    }
}
