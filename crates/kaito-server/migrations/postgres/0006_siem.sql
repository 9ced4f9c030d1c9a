-- SIEM sinks: where each team's audit events are pushed, and how far each sink has
-- received them (its delivery cursor: events up to delivered_seq arrived at least
-- once). A replica delivering to a sink holds its lease so two do not send at once.
CREATE TABLE siem_sinks (
    id TEXT PRIMARY KEY,
    team_id TEXT NOT NULL REFERENCES teams(id),
    name TEXT NOT NULL,
    -- The destination as JSON (kind, host or URL, format); never a secret.
    target TEXT NOT NULL,
    -- The Splunk HEC token or the webhook's HMAC key, sealed under the server key.
    wrapped_key BYTEA,
    sealed_secret BYTEA,
    delivered_seq BIGINT NOT NULL,
    last_delivered_at BIGINT,
    last_error TEXT,
    failures BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL DEFAULT 0,
    lease_owner TEXT,
    lease_until BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);

CREATE INDEX siem_sinks_team ON siem_sinks (team_id);

-- How long a team keeps its audit events, and where its chain now starts: events
-- up to anchor_seq were removed by retention, and anchor_hash was the last one's
-- hash, so verification goes on from there.
CREATE TABLE audit_retention (
    team_id TEXT PRIMARY KEY REFERENCES teams(id),
    keep_days BIGINT,
    anchor_seq BIGINT NOT NULL DEFAULT 0,
    anchor_hash TEXT NOT NULL
);
