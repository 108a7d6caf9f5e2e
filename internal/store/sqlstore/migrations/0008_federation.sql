-- Identity sources: the external identity providers (SAML, OIDC) people
-- may sign in through besides the built-in directory. A user belongs to one
-- source (directory_users.source_id, '' for the built-in directory). Each
-- protocol's own settings are one JSON document (config), opaque here.
-- single_use records one-time values (SAML assertion ids, OIDC states,
-- sign-in flow steps) until they expire, so a replay fails on every node.

CREATE TABLE identity_sources (
    id                TEXT PRIMARY KEY,
    identity_store_id TEXT NOT NULL,
    name              TEXT NOT NULL,
    name_key          TEXT NOT NULL,
    kind              TEXT NOT NULL,
    enabled           BOOLEAN NOT NULL,
    email_domains     TEXT NOT NULL, -- JSON array of lower-case domains
    mfa               TEXT NOT NULL,
    jit               BOOLEAN NOT NULL,
    config            TEXT NOT NULL,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL,
    UNIQUE (identity_store_id, name_key)
);

ALTER TABLE directory_users ADD COLUMN source_id TEXT NOT NULL DEFAULT '';
CREATE INDEX directory_users_source ON directory_users (identity_store_id, source_id, id);

CREATE TABLE single_use (
    key        TEXT PRIMARY KEY,
    expires_at BIGINT NOT NULL
);
CREATE INDEX single_use_expiry ON single_use (expires_at);
