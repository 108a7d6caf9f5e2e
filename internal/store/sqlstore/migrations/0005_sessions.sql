-- Temporary credentials STS issues for roles. The secret is kept because
-- verifying a SigV4 signature needs it; the session token only as its hex
-- SHA-256, compared on every call. Rows are deleted some time after they
-- expire.

CREATE TABLE session_credentials (
    access_key_id      TEXT PRIMARY KEY,
    secret             TEXT NOT NULL,
    session_token_hash TEXT NOT NULL,
    account_id         TEXT NOT NULL,
    role_arn           TEXT NOT NULL,
    assumed_role_arn   TEXT NOT NULL,
    assumed_role_id    TEXT NOT NULL,
    session_name       TEXT NOT NULL,
    source_arn         TEXT NOT NULL,
    session_id         TEXT NOT NULL, -- sign-in session, '' for a plain AssumeRole
    expires_at         BIGINT NOT NULL,
    created_at         BIGINT NOT NULL
);
CREATE INDEX session_credentials_expiry ON session_credentials (expires_at);
CREATE INDEX session_credentials_session ON session_credentials (session_id);
