-- Single sign-on with OpenID Connect, one identity provider per team. The client
-- secret is sealed with the server key. `email_domains`, `group_rules` and
-- `extra_scopes` are JSON arrays. `sso_domains` says which team an email domain
-- signs in to. A sign-in in flight is kept by the hash of its state, with its
-- nonce, redirect and PKCE challenge, for ten minutes and one use.
CREATE TABLE sso_settings (
    team_id TEXT PRIMARY KEY REFERENCES teams(id),
    issuer TEXT NOT NULL,
    client_id TEXT NOT NULL,
    wrapped_key BLOB NOT NULL,
    sealed_secret BLOB NOT NULL,
    email_domains TEXT NOT NULL,
    groups_claim TEXT,
    group_rules TEXT NOT NULL,
    extra_scopes TEXT NOT NULL,
    sso_only BIGINT NOT NULL DEFAULT 0,
    updated_at BIGINT NOT NULL
);

CREATE TABLE sso_domains (
    domain TEXT PRIMARY KEY,
    team_id TEXT NOT NULL REFERENCES teams(id)
);

CREATE TABLE sso_attempts (
    state_hash TEXT PRIMARY KEY,
    team_id TEXT NOT NULL REFERENCES teams(id),
    nonce TEXT NOT NULL,
    redirect_uri TEXT NOT NULL,
    code_challenge TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);
