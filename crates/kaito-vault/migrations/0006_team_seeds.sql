-- Team mode: seeds of shared tokens this member holds a full-seed grant for and
-- chose to keep on the device, sealed under the vault key like personal seeds
-- (the AAD binds each to its own seal id). Removed when the grant ends or on
-- sign-out; refetched when the server's rotated_at for the token differs from the
-- one recorded with the copy (server times only: the device clock may be off).
CREATE TABLE team_seeds (
    token_id     TEXT PRIMARY KEY,
    seal_id      TEXT NOT NULL,
    seal_version INTEGER NOT NULL,
    nonce        BLOB NOT NULL,
    sealed       BLOB NOT NULL,
    fetched_at   INTEGER NOT NULL,
    rotated_at   INTEGER
);
