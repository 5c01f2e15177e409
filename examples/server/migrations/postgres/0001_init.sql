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

ALTER TABLE tenants ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenants FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_scope ON tenants
    USING (current_setting('stratum.scope', true) = 'all'
           OR id = current_setting('stratum.tenant', true))
    WITH CHECK (current_setting('stratum.scope', true) = 'all'
                OR id = current_setting('stratum.tenant', true));

ALTER TABLE users ENABLE ROW LEVEL SECURITY;
ALTER TABLE users FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_scope ON users
    USING (current_setting('stratum.scope', true) = 'all'
           OR tenant_id = current_setting('stratum.tenant', true))
    WITH CHECK (current_setting('stratum.scope', true) = 'all'
                OR tenant_id = current_setting('stratum.tenant', true));

ALTER TABLE keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE keys FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_scope ON keys
    USING (current_setting('stratum.scope', true) = 'all'
           OR tenant_id = current_setting('stratum.tenant', true))
    WITH CHECK (current_setting('stratum.scope', true) = 'all'
                OR tenant_id = current_setting('stratum.tenant', true));

ALTER TABLE events ENABLE ROW LEVEL SECURITY;
ALTER TABLE events FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_scope ON events
    USING (current_setting('stratum.scope', true) = 'all'
           OR tenant_id = current_setting('stratum.tenant', true))
    WITH CHECK (current_setting('stratum.scope', true) = 'all'
                OR tenant_id = current_setting('stratum.tenant', true));
