-- The shared SMS inbox: the team's phone numbers, who may read each, and the
-- messages received on them (one row per provider message, however often the
-- provider retries its webhook).
CREATE TABLE sms_numbers (
    id TEXT PRIMARY KEY,
    team_id TEXT NOT NULL REFERENCES teams(id),
    phone_number TEXT NOT NULL UNIQUE,
    label TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE sms_number_grants (
    id TEXT PRIMARY KEY,
    number_id TEXT NOT NULL REFERENCES sms_numbers(id),
    user_id TEXT REFERENCES users(id),
    group_id TEXT REFERENCES groups(id),
    created_by TEXT NOT NULL REFERENCES users(id),
    created_at BIGINT NOT NULL,
    CHECK ((user_id IS NULL) <> (group_id IS NULL))
);

-- seq orders messages across the server; clients resume a live stream after the
-- last seq they saw (SSE Last-Event-ID).
CREATE TABLE sms_messages (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    team_id TEXT NOT NULL REFERENCES teams(id),
    number_id TEXT NOT NULL REFERENCES sms_numbers(id),
    provider TEXT NOT NULL,
    provider_message_id TEXT NOT NULL,
    from_number TEXT NOT NULL,
    body TEXT NOT NULL,
    code TEXT,
    received_at BIGINT NOT NULL,
    UNIQUE (provider, provider_message_id)
);
