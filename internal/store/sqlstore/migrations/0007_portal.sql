-- The access portal and sso-oidc: sign-in sessions, OAuth clients, device
-- authorizations, authorization codes and tokens. Secrets are kept only as
-- their hex SHA-256 (the *_hash columns). Times are unix milliseconds; 0
-- means "not yet" (revoked_at, used_at, next_poll_at). Lists (methods,
-- scopes, URIs, grant types) are JSON arrays. Rows go some time after they
-- expire (DeletePortalExpired); a user's sessions go with the user.

CREATE TABLE portal_sessions (
    id                TEXT PRIMARY KEY,
    token_hash        TEXT NOT NULL UNIQUE,
    identity_store_id TEXT NOT NULL,
    user_id           TEXT NOT NULL,
    user_name         TEXT NOT NULL,
    methods           TEXT NOT NULL,
    source_ip         TEXT NOT NULL,
    user_agent        TEXT NOT NULL,
    created_at        BIGINT NOT NULL,
    expires_at        BIGINT NOT NULL,
    revoked_at        BIGINT NOT NULL
);
CREATE INDEX portal_sessions_user ON portal_sessions (identity_store_id, user_id, id);
CREATE INDEX portal_sessions_expiry ON portal_sessions (expires_at);

CREATE TABLE oauth_clients (
    id                TEXT PRIMARY KEY,
    secret_hash       TEXT NOT NULL,
    name              TEXT NOT NULL,
    client_type       TEXT NOT NULL,
    scopes            TEXT NOT NULL,
    redirect_uris     TEXT NOT NULL,
    grant_types       TEXT NOT NULL,
    issuer_url        TEXT NOT NULL,
    created_at        BIGINT NOT NULL,
    secret_expires_at BIGINT NOT NULL
);
CREATE INDEX oauth_clients_expiry ON oauth_clients (secret_expires_at);

CREATE TABLE oauth_device_authorizations (
    device_code_hash TEXT PRIMARY KEY,
    user_code        TEXT NOT NULL UNIQUE,
    client_id        TEXT NOT NULL,
    start_url        TEXT NOT NULL,
    status           TEXT NOT NULL, -- PENDING | APPROVED | DENIED | REDEEMED
    session_id       TEXT NOT NULL,
    family_id        TEXT NOT NULL,
    interval_seconds INTEGER NOT NULL,
    next_poll_at   BIGINT NOT NULL,
    expires_at       BIGINT NOT NULL,
    created_at       BIGINT NOT NULL
);
CREATE INDEX oauth_device_authorizations_expiry ON oauth_device_authorizations (expires_at);

CREATE TABLE oauth_authorization_codes (
    code_hash      TEXT PRIMARY KEY,
    client_id      TEXT NOT NULL,
    redirect_uri   TEXT NOT NULL,
    code_challenge TEXT NOT NULL,
    session_id     TEXT NOT NULL,
    family_id      TEXT NOT NULL,
    expires_at     BIGINT NOT NULL,
    created_at     BIGINT NOT NULL,
    used_at        BIGINT NOT NULL
);
CREATE INDEX oauth_authorization_codes_expiry ON oauth_authorization_codes (expires_at);

CREATE TABLE oauth_tokens (
    token_hash TEXT PRIMARY KEY,
    kind       TEXT NOT NULL, -- access | refresh
    client_id  TEXT NOT NULL,
    session_id TEXT NOT NULL,
    family_id  TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    used_at    BIGINT NOT NULL,
    revoked_at BIGINT NOT NULL
);
CREATE INDEX oauth_tokens_family ON oauth_tokens (family_id);
CREATE INDEX oauth_tokens_expiry ON oauth_tokens (expires_at);
