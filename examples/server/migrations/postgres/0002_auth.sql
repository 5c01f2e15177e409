-- Logins: refresh-token families (rotation and reuse detection), TOTP MFA with
-- single-use backup codes and lockout, password-reset tokens, and the time before
-- which a user's tokens no longer count (logout, password change).

ALTER TABLE users ADD COLUMN totp_secret TEXT;
ALTER TABLE users ADD COLUMN totp_enabled BIGINT NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN failed_logins BIGINT NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN locked_until TEXT;
ALTER TABLE users ADD COLUMN tokens_valid_after TEXT;

CREATE TABLE refresh_tokens (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants (id),
    user_id     TEXT NOT NULL REFERENCES users (id),
    family_id   TEXT NOT NULL,
    token_hash  TEXT NOT NULL UNIQUE,
    expires_at  TEXT NOT NULL,
    used_at     TEXT,
    revoked_at  TEXT,
    created_at  TEXT NOT NULL
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);

CREATE TABLE backup_codes (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants (id),
    user_id     TEXT NOT NULL REFERENCES users (id),
    code_hash   TEXT NOT NULL UNIQUE,
    used_at     TEXT
);
CREATE INDEX backup_codes_user ON backup_codes (user_id);

CREATE TABLE password_resets (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants (id),
    user_id     TEXT NOT NULL REFERENCES users (id),
    token_hash  TEXT NOT NULL UNIQUE,
    expires_at  TEXT NOT NULL,
    used_at     TEXT
);

SELECT stratum_scope_to_tenant('refresh_tokens', 'tenant_id');
SELECT stratum_scope_to_tenant('backup_codes', 'tenant_id');
SELECT stratum_scope_to_tenant('password_resets', 'tenant_id');
