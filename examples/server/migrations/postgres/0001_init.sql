-- Tenants, their users and keys, and the durable event log that ingest appends to
-- and the pipeline reads in order. Every tenant-scoped table has `tenant_id`, and
-- row-level security admits only the rows of the transaction's scope: the tenant
-- named by `stratum.tenant`, or every tenant when `stratum.scope` is `all` (the
-- server's queries that are unscoped by design). A connection that names no scope
-- sees and writes no tenant-scoped row. FORCE makes the table owner obey it too.

CREATE TABLE tenants (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    tier        TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('active', 'suspended')),
    created_at  TEXT NOT NULL
);

CREATE TABLE users (
    id             TEXT PRIMARY KEY,
    tenant_id      TEXT NOT NULL REFERENCES tenants (id),
    email          TEXT NOT NULL,
    password_hash  TEXT NOT NULL,
    role           TEXT NOT NULL CHECK (role IN ('superadmin', 'admin', 'media_buyer', 'viewer')),
    created_at     TEXT NOT NULL,
    UNIQUE (email)
);
CREATE INDEX users_tenant ON users (tenant_id);

-- Write keys (ingest) and API keys: only a SHA-256 of the key is stored.
CREATE TABLE keys (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants (id),
    kind        TEXT NOT NULL CHECK (kind IN ('write', 'api')),
    key_hash    TEXT NOT NULL UNIQUE,
    prefix      TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    revoked_at  TEXT
);
CREATE INDEX keys_tenant ON keys (tenant_id);

-- The event log: one row per accepted message, in commit order (`seq`; appends
-- hold an advisory lock, so positions are handed out in commit order).
CREATE TABLE events (
    seq          BIGSERIAL PRIMARY KEY,
    tenant_id    TEXT NOT NULL REFERENCES tenants (id),
    message_id   TEXT NOT NULL,
    kind         TEXT NOT NULL,
    received_at  TEXT NOT NULL,
    body         TEXT NOT NULL,
    UNIQUE (tenant_id, message_id)
);

-- How far each consumer of the log has processed it.
CREATE TABLE offsets (
    consumer  TEXT PRIMARY KEY,
    seq       BIGINT NOT NULL
);

-- Row-level security on one tenant-scoped table: the policy every such table
-- gets (`column` names its tenant: `id` for `tenants`, `tenant_id` elsewhere).
CREATE FUNCTION stratum_scope_to_tenant(tbl regclass, col name) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', tbl);
    EXECUTE format('ALTER TABLE %s FORCE ROW LEVEL SECURITY', tbl);
    EXECUTE format(
        'CREATE POLICY tenant_scope ON %s '
        'USING (current_setting(''stratum.scope'', true) = ''all'' '
        'OR %I = current_setting(''stratum.tenant'', true)) '
        'WITH CHECK (current_setting(''stratum.scope'', true) = ''all'' '
        'OR %I = current_setting(''stratum.tenant'', true))',
        tbl, col, col);
END;
$$;

SELECT stratum_scope_to_tenant('tenants', 'id');
SELECT stratum_scope_to_tenant('users', 'tenant_id');
SELECT stratum_scope_to_tenant('keys', 'tenant_id');
SELECT stratum_scope_to_tenant('events', 'tenant_id');
