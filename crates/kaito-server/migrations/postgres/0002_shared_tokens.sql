-- Shared tokens and who may use them, and the per-team hash-chained audit log.

-- Settings of the server itself; 'key_check' tells whether the server key in use is
-- the one that sealed this database's seeds.
CREATE TABLE server_meta (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE groups (
    id TEXT PRIMARY KEY,
    team_id TEXT NOT NULL REFERENCES teams(id),
    name TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (team_id, name)
);

CREATE TABLE group_members (
    group_id TEXT NOT NULL REFERENCES groups(id),
    user_id TEXT NOT NULL REFERENCES users(id),
    PRIMARY KEY (group_id, user_id)
);

-- The seed (as its otpauth URI) is sealed under a key of its own, which is sealed
-- under the server key: the database alone never reveals a seed.
CREATE TABLE shared_tokens (
    id TEXT PRIMARY KEY,
    team_id TEXT NOT NULL REFERENCES teams(id),
    issuer TEXT NOT NULL,
    account TEXT NOT NULL,
    kind TEXT NOT NULL,
    wrapped_key BYTEA NOT NULL,
    sealed_uri BYTEA NOT NULL,
    created_by TEXT NOT NULL REFERENCES users(id),
    created_at BIGINT NOT NULL,
    rotated_at BIGINT
);

-- A grant gives a user or a group either codes only ('code') or the seed ('seed').
CREATE TABLE grants (
    id TEXT PRIMARY KEY,
    token_id TEXT NOT NULL REFERENCES shared_tokens(id),
    user_id TEXT REFERENCES users(id),
    group_id TEXT REFERENCES groups(id),
    mode TEXT NOT NULL CHECK (mode IN ('code', 'seed')),
    expires_at BIGINT,
    created_by TEXT NOT NULL REFERENCES users(id),
    created_at BIGINT NOT NULL,
    CHECK ((user_id IS NULL) <> (group_id IS NULL))
);
CREATE INDEX grants_by_token ON grants (token_id);

-- The newest event of each team's chain; appending updates it first, which
-- serialises appenders of one team on every backend.
CREATE TABLE audit_heads (
    team_id TEXT PRIMARY KEY REFERENCES teams(id),
    seq BIGINT NOT NULL,
    head_hash TEXT NOT NULL
);

-- Append-only. hash = SHA-256(prev_hash || canonical event), hex.
CREATE TABLE audit_events (
    team_id TEXT NOT NULL REFERENCES teams(id),
    seq BIGINT NOT NULL,
    event_id TEXT NOT NULL UNIQUE,
    at BIGINT NOT NULL,
    actor TEXT,
    kind TEXT NOT NULL,
    subject TEXT,
    details TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL,
    PRIMARY KEY (team_id, seq)
);
