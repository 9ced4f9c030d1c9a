-- Offboarding: API tokens expire and show when they were last used; a sink knows
-- which admin added it, so disabling that admin can hold its delivery until
-- another admin looks at it.
ALTER TABLE api_tokens ADD COLUMN expires_at BIGINT;
ALTER TABLE api_tokens ADD COLUMN last_used_at BIGINT;
ALTER TABLE siem_sinks ADD COLUMN created_by TEXT REFERENCES users(id);
ALTER TABLE siem_sinks ADD COLUMN held_at BIGINT;
CREATE INDEX api_tokens_by_creator ON api_tokens (created_by);
