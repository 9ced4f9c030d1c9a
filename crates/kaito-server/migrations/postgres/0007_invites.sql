-- Invite links: an admin invites an email address with a role; whoever opens the
-- link before it expires chooses a name and password and joins. Only the token's
-- hash is stored; a link works once.
CREATE TABLE invites (
    id TEXT PRIMARY KEY,
    team_id TEXT NOT NULL REFERENCES teams(id),
    email TEXT NOT NULL,
    role TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_by TEXT NOT NULL REFERENCES users(id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    accepted_at BIGINT,
    accepted_user_id TEXT REFERENCES users(id),
    revoked_at BIGINT
);

CREATE INDEX invites_team ON invites (team_id);
