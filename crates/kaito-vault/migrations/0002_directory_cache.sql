-- The 2FA directory (public data, not sealed): the last body that parsed, so the
-- app works offline. One row; a refresh replaces it only after the new body parsed.
CREATE TABLE directory_cache (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    body        BLOB NOT NULL,
    source_url  TEXT NOT NULL,
    fetched_at  INTEGER NOT NULL,  -- unix millis of the download
    data_date   INTEGER,           -- unix millis of the server's Last-Modified, if sent
    etag        TEXT
);
