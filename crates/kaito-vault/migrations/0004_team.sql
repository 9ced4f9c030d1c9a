-- Team mode: the link to a team server (who signed in, where, as which device) and
-- the last list of shared tokens, kept so they show (marked stale) while offline.
-- Nothing here is secret: the refresh token and the device key are in the OS
-- keychain, and code-only tokens have no seed on this device at all.
CREATE TABLE team_link (
    id        INTEGER PRIMARY KEY CHECK (id = 1),
    document  TEXT NOT NULL,
    linked_at INTEGER NOT NULL
);

CREATE TABLE team_token_cache (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    document   TEXT NOT NULL,
    fetched_at INTEGER NOT NULL
);
