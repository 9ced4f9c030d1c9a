-- App preferences (not secret): one JSON document, readable while the vault is locked
-- so the lock screen knows the theme and the auto-lock delay.
CREATE TABLE settings (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    document   TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);
