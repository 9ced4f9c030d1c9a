-- Things a member must act on, such as a seed they hold a copy of being rotated.
CREATE TABLE notifications (
    id TEXT PRIMARY KEY,
    team_id TEXT NOT NULL REFERENCES teams(id),
    user_id TEXT NOT NULL REFERENCES users(id),
    kind TEXT NOT NULL,
    subject TEXT,
    message TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    read_at BIGINT
);

CREATE INDEX notifications_by_user ON notifications (user_id, created_at);
