-- Team tokens' audit outbox: every view or copy of a shared token's code, numbered
-- 1, 2, 3… for this device (the server detects gaps), written when it happens and
-- sent later in signed batches. Rows stay after sending so numbering never restarts
-- while the device link lasts; a new sign-in is a new device and starts again.
CREATE TABLE team_outbox (
    seq      INTEGER PRIMARY KEY,
    event_id TEXT NOT NULL UNIQUE,
    at       INTEGER NOT NULL,
    kind     TEXT NOT NULL,
    token_id TEXT NOT NULL,
    details  TEXT NOT NULL,
    sent_at  INTEGER
);

CREATE INDEX team_outbox_unsent ON team_outbox (seq) WHERE sent_at IS NULL;
