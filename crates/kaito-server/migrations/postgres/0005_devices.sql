-- Devices enrolled by members: each signs what it sends with its Ed25519 key, and
-- numbers its audit events so the server can tell when some went missing.
CREATE TABLE devices (
    id TEXT PRIMARY KEY,
    team_id TEXT NOT NULL REFERENCES teams(id),
    user_id TEXT NOT NULL REFERENCES users(id),
    name TEXT NOT NULL,
    public_key TEXT NOT NULL UNIQUE,
    last_seq BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);
