-- SCIM bearer tokens: what an identity provider presents to provision users
-- and groups. Only the token's hex SHA-256 is kept. A token that is live
-- (neither revoked nor expired at its last check) holds one of the store's
-- two slots (1 or 2); revoking, or finding it expired, frees its slot
-- (NULL), so the UNIQUE constraint keeps at most two live tokens per store
-- even when two nodes create one at the same time.

CREATE TABLE scim_tokens (
    id                TEXT PRIMARY KEY,
    identity_store_id TEXT NOT NULL,
    source_id         TEXT NOT NULL, -- '' for the built-in directory
    token_hash        TEXT NOT NULL UNIQUE,
    slot              INTEGER,
    created_at        BIGINT NOT NULL,
    created_by        TEXT NOT NULL,
    expires_at        BIGINT NOT NULL,
    revoked_at        BIGINT NOT NULL,
    UNIQUE (identity_store_id, slot)
);
CREATE INDEX scim_tokens_store ON scim_tokens (identity_store_id, id);
