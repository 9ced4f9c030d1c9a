-- Teams, their people and sign-in state. Times are Unix milliseconds; ids are
-- random text, so the same rows move between SQLite and PostgreSQL unchanged.
CREATE TABLE teams (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE users (
    id TEXT PRIMARY KEY,
    team_id TEXT NOT NULL REFERENCES teams(id),
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
    password_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    disabled_at BIGINT
);

-- One row per sign-in: the refresh token rotates inside it; `generation` counts
-- rotations, so a replayed older token is recognised and the session revoked.
CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id),
    refresh_hash TEXT NOT NULL UNIQUE,
    generation BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT
);

-- Superseded refresh tokens, kept to detect their replay (theft).
CREATE TABLE spent_refresh_tokens (
    refresh_hash TEXT PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES sessions(id)
);

CREATE TABLE access_tokens (
    token_hash TEXT PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES sessions(id),
    expires_at BIGINT NOT NULL
);

-- Failed sign-ins per email, in fixed windows: shared by every replica.
CREATE TABLE login_failures (
    email TEXT PRIMARY KEY,
    window_start BIGINT NOT NULL,
    failures BIGINT NOT NULL
);
