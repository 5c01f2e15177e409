-- Per-tenant feature flags: a superadmin's overrides of the tier defaults.
CREATE TABLE tenant_flags (
    tenant_id  TEXT NOT NULL REFERENCES tenants (id),
    flag       TEXT NOT NULL,
    enabled    BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, flag)
);

ALTER TABLE tenant_flags ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenant_flags FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_scope ON tenant_flags
    USING (current_setting('stratum.scope', true) = 'all'
           OR tenant_id = current_setting('stratum.tenant', true))
    WITH CHECK (current_setting('stratum.scope', true) = 'all'
                OR tenant_id = current_setting('stratum.tenant', true));
