-- Per-tenant feature flags: a superadmin's overrides of the tier defaults.
CREATE TABLE tenant_flags (
    tenant_id  TEXT NOT NULL REFERENCES tenants (id),
    flag       TEXT NOT NULL,
    enabled    BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, flag)
);

SELECT stratum_scope_to_tenant('tenant_flags', 'tenant_id');
