//! PostgreSQL only: row-level security as a second wall behind the tenant-scoped
//! queries. Ignored unless asked for: `scripts/test` runs them with
//! `--include-ignored` against the PostgreSQL server it starts
//! (`STRATUM_TEST_POSTGRES`); the rest of the suite runs against both databases.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use stratum_server::db::Backend;

mod common;

async fn count(tx: &mut sqlx::Transaction<'static, sqlx::Any>, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(&mut **tx).await.unwrap()
}

#[tokio::test]
#[ignore = "needs a PostgreSQL server (STRATUM_TEST_POSTGRES)"]
async fn a_query_that_forgets_the_tenant_sees_only_its_tenant() {
    assert!(
        std::env::var("STRATUM_TEST_POSTGRES").is_ok_and(|u| !u.is_empty()),
        "STRATUM_TEST_POSTGRES names no server"
    );
    let store = common::Store::new();
    let db = store.open().await;
    assert_eq!(db.backend(), Backend::Postgres);
    assert!(
        !db.bypasses_row_security().await.unwrap(),
        "the test role must be subject to row-level security"
    );
    let (a, b) = common::two_tenants(&db, "pro").await;
    db.tenant(&b.tenant.id)
        .set_flag("import", Some(true))
        .await
        .unwrap();

    // In A's scope, statements without any `WHERE tenant_id` see A's rows only.
    let mut tx = db.tenant(&a.tenant.id).begin().await.unwrap();
    assert_eq!(count(&mut tx, "SELECT COUNT(*) FROM tenants").await, 1);
    assert_eq!(count(&mut tx, "SELECT COUNT(*) FROM users").await, 1);
    assert_eq!(count(&mut tx, "SELECT COUNT(*) FROM keys").await, 2);
    assert_eq!(count(&mut tx, "SELECT COUNT(*) FROM tenant_flags").await, 0);
    let name: String = sqlx::query_scalar("SELECT name FROM tenants")
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    assert_eq!(name, "A");
    // Updates and deletes that forget the tenant touch nothing of B's.
    let changed = sqlx::query("UPDATE keys SET revoked_at = 'x'")
        .execute(&mut *tx)
        .await
        .unwrap()
        .rows_affected();
    assert_eq!(changed, 2);
    let deleted = sqlx::query("DELETE FROM tenant_flags")
        .execute(&mut *tx)
        .await
        .unwrap()
        .rows_affected();
    assert_eq!(deleted, 0);
    tx.rollback().await.unwrap();

    // Writing a row for B from A's scope is refused.
    let mut tx = db.tenant(&a.tenant.id).begin().await.unwrap();
    let refused =
        sqlx::query("INSERT INTO tenant_flags (tenant_id, flag, enabled) VALUES ($1, 'import', 1)")
            .bind(&b.tenant.id)
            .execute(&mut *tx)
            .await
            .unwrap_err();
    assert!(
        refused.to_string().contains("row-level security"),
        "{refused}"
    );
    drop(tx);

    // A connection that names no scope sees no tenant-scoped row at all.
    let mut conn = db.pool().acquire().await.unwrap();
    for table in [
        "tenants",
        "users",
        "keys",
        "event_blocks",
        "tenant_flags",
        "refresh_tokens",
    ] {
        let n: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}"))
            .fetch_one(&mut *conn)
            .await
            .unwrap();
        assert_eq!(n, 0, "{table} is visible without a scope");
    }
    drop(conn);

    // Every table with a `tenant_id` (and `tenants`) has forced row-level security
    // and the policy: a table added without it would fail here.
    let unguarded: Vec<String> = sqlx::query_scalar(
        "SELECT c.relname::text FROM pg_class c \
         JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = current_schema() \
         WHERE c.relkind = 'r' \
           AND (c.relname = 'tenants' OR EXISTS (SELECT 1 FROM pg_attribute a \
                WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped)) \
           AND NOT (c.relrowsecurity AND c.relforcerowsecurity \
                AND EXISTS (SELECT 1 FROM pg_policies p \
                    WHERE p.tablename = c.relname AND p.policyname = 'tenant_scope'))",
    )
    .fetch_all(db.pool())
    .await
    .unwrap();
    assert!(
        unguarded.is_empty(),
        "tables without the tenant policy: {unguarded:?}"
    );
    let guarded: i64 = sqlx::query_scalar(
        "SELECT COUNT(DISTINCT tablename) FROM pg_policies \
         WHERE policyname = 'tenant_scope' AND schemaname = current_schema()",
    )
    .fetch_one(db.pool())
    .await
    .unwrap();
    assert_eq!(
        guarded, 8,
        "tenants, users, keys, the log and the four login and flag tables"
    );

    // B's data is intact, and the server's own scoped queries still work.
    let flags = db.tenant(&b.tenant.id).flag_overrides().await.unwrap();
    assert_eq!(flags, vec![("import".to_owned(), true)]);
    let keys = db.tenant(&b.tenant.id).keys().await.unwrap();
    assert!(keys.iter().all(|k| k.revoked_at.is_none()));
    assert_eq!(db.tenant(&a.tenant.id).keys().await.unwrap().len(), 2);
    db.close().await;
}
