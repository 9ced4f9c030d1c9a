-- One-time set-password links: an admin resets a member's password without ever
-- knowing the new one. Only the token's hash is stored; a link works once, for a
-- day, and a newer link for the same member replaces it.
CREATE TABLE password_links (
    id TEXT PRIMARY KEY,
    team_id TEXT NOT NULL REFERENCES teams(id),
    user_id TEXT NOT NULL REFERENCES users(id),
    token_hash TEXT NOT NULL UNIQUE,
    created_by TEXT NOT NULL REFERENCES users(id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT,
    revoked_at BIGINT
);

CREATE INDEX password_links_user ON password_links (user_id);
