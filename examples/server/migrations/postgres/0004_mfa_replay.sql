-- MFA: a new TOTP secret waits, unconfirmed, beside the active one until a code
-- of it is verified (enrolling again never turns MFA off); and the last time step
-- whose code was accepted, so each code is accepted once (RFC 6238 section 5.2).

ALTER TABLE users ADD COLUMN totp_pending_secret TEXT;
ALTER TABLE users ADD COLUMN totp_last_step BIGINT NOT NULL DEFAULT 0;

-- A secret enrolled but never verified is a pending one (every tenant's rows:
-- the scope holds for this migration's transaction only).
SELECT set_config('stratum.scope', 'all', true);
UPDATE users SET totp_pending_secret = totp_secret, totp_secret = NULL
WHERE totp_enabled = 0 AND totp_secret IS NOT NULL;
