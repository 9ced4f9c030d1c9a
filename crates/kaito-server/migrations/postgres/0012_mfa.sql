-- A second factor for Kaito accounts. The authenticator secret is sealed with the
-- server key like a shared token's seed; `last_step` is the newest TOTP step
-- accepted, so a used code cannot be played again. Recovery codes and login
-- challenges are kept only as hashes.
CREATE TABLE mfa_totp (
    user_id TEXT PRIMARY KEY REFERENCES users(id),
    wrapped_key BYTEA NOT NULL,
    sealed_secret BYTEA NOT NULL,
    created_at BIGINT NOT NULL,
    confirmed_at BIGINT,
    last_step BIGINT
);

CREATE TABLE mfa_recovery_codes (
    code_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id),
    created_at BIGINT NOT NULL,
    used_at BIGINT
);

CREATE INDEX mfa_recovery_codes_user ON mfa_recovery_codes (user_id);

CREATE TABLE mfa_challenges (
    token_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);
