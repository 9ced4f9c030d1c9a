-- Kaito vault schema v1. Seeds are stored only sealed (AES-256-GCM); everything
-- else is plain metadata the list and search need without the key.

CREATE TABLE vault_meta (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    -- HMAC of a fixed label under the vault key: tells "wrong key" from "damaged row".
    key_check       BLOB    NOT NULL,
    -- Random per-vault id that audit events carry (one vault = one device).
    device_id       TEXT    NOT NULL,
    created_at      INTEGER NOT NULL
);

-- Present only while an app-lock passphrase is set: the vault key wrapped under an
-- Argon2id-derived key. The keychain entry is removed while this row exists.
CREATE TABLE passphrase_lock (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    memory_kib      INTEGER NOT NULL,
    passes          INTEGER NOT NULL,
    lanes           INTEGER NOT NULL,
    salt            BLOB    NOT NULL,
    nonce           BLOB    NOT NULL,
    wrapped_key     BLOB    NOT NULL,
    created_at      INTEGER NOT NULL
);

CREATE TABLE groups (
    name            TEXT PRIMARY KEY NOT NULL
);

CREATE TABLE tokens (
    id              TEXT    PRIMARY KEY NOT NULL,
    issuer          TEXT    NOT NULL,
    account         TEXT    NOT NULL,
    kind            TEXT    NOT NULL CHECK (kind IN ('totp', 'hotp', 'steam')),
    algorithm       TEXT    NOT NULL CHECK (algorithm IN ('SHA1', 'SHA256', 'SHA512')),
    digits          INTEGER NOT NULL,
    period          INTEGER,
    counter         INTEGER,
    service_domain  TEXT,
    icon            TEXT,
    group_name      TEXT REFERENCES groups (name) ON UPDATE CASCADE ON DELETE SET NULL,
    favorite        INTEGER NOT NULL DEFAULT 0,
    sort_order      INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    deleted_at      INTEGER,
    seal_version    INTEGER NOT NULL,
    seed_nonce      BLOB    NOT NULL,
    seed_sealed     BLOB    NOT NULL,
    -- HMAC-SHA256 of the seed under a vault-key subkey, for duplicate detection.
    fingerprint     BLOB    NOT NULL,
    CHECK ((kind = 'hotp') = (counter IS NOT NULL)),
    CHECK ((kind = 'hotp') = (period IS NULL))
);

CREATE INDEX tokens_order ON tokens (deleted_at, favorite DESC, sort_order);
CREATE INDEX tokens_fingerprint ON tokens (fingerprint);

CREATE TABLE audit_outbox (
    id              TEXT    PRIMARY KEY NOT NULL,
    sequence        INTEGER NOT NULL UNIQUE,
    device_id       TEXT    NOT NULL,
    occurred_at     INTEGER NOT NULL,
    action          TEXT    NOT NULL,
    token_id        TEXT,
    detail          TEXT,
    prev_hash       BLOB    NOT NULL,
    hash            BLOB    NOT NULL,
    acknowledged    INTEGER NOT NULL DEFAULT 0
);

CREATE INDEX audit_pending ON audit_outbox (acknowledged, sequence);

-- Chain state: the newest event ever written, and the last event deleted after
-- acknowledgement (the anchor the remaining chain links to).
CREATE TABLE audit_head (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    last_sequence   INTEGER NOT NULL,
    last_hash       BLOB    NOT NULL,
    anchor_sequence INTEGER NOT NULL,
    anchor_hash     BLOB    NOT NULL
);

INSERT INTO audit_head (id, last_sequence, last_hash, anchor_sequence, anchor_hash)
VALUES (1, 0, zeroblob(32), 0, zeroblob(32));
