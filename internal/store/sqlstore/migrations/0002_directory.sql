-- The identity store: users, groups, group memberships. Names are unique
-- per store ignoring case through their lower-cased *_key columns (made in
-- Go, not with SQL LOWER, so both backends agree). The attributes the API
-- only returns live in one JSON document (profile); external ids are kept
-- twice: as JSON in the row, for reading, and in directory_external_ids,
-- for uniqueness and lookups.

CREATE TABLE directory_users (
    id                TEXT PRIMARY KEY,
    identity_store_id TEXT NOT NULL,
    user_name         TEXT NOT NULL,
    user_name_key     TEXT NOT NULL,
    display_name      TEXT NOT NULL,
    email_key         TEXT NOT NULL, -- lower-cased email value, '' when none
    status            TEXT NOT NULL,
    external_ids      TEXT NOT NULL, -- JSON array of {Issuer, ID}
    profile           TEXT NOT NULL, -- JSON, store.UserProfile
    created_at        BIGINT NOT NULL,
    created_by        TEXT NOT NULL,
    updated_at        BIGINT NOT NULL,
    updated_by        TEXT NOT NULL,
    UNIQUE (identity_store_id, user_name_key)
);
CREATE INDEX directory_users_store ON directory_users (identity_store_id, id);
CREATE INDEX directory_users_email ON directory_users (identity_store_id, email_key, id);

CREATE TABLE directory_groups (
    id                TEXT PRIMARY KEY,
    identity_store_id TEXT NOT NULL,
    display_name      TEXT NOT NULL,
    display_name_key  TEXT NOT NULL,
    description       TEXT NOT NULL,
    external_ids      TEXT NOT NULL,
    created_at        BIGINT NOT NULL,
    created_by        TEXT NOT NULL,
    updated_at        BIGINT NOT NULL,
    updated_by        TEXT NOT NULL,
    UNIQUE (identity_store_id, display_name_key)
);
CREATE INDEX directory_groups_store ON directory_groups (identity_store_id, id);

CREATE TABLE directory_external_ids (
    identity_store_id TEXT NOT NULL,
    principal_type    TEXT NOT NULL, -- USER | GROUP
    issuer            TEXT NOT NULL,
    external_id       TEXT NOT NULL,
    principal_id      TEXT NOT NULL,
    PRIMARY KEY (identity_store_id, principal_type, issuer, external_id)
);
CREATE INDEX directory_external_ids_principal ON directory_external_ids (principal_id);

CREATE TABLE directory_memberships (
    id                TEXT PRIMARY KEY,
    identity_store_id TEXT NOT NULL,
    group_id          TEXT NOT NULL,
    user_id           TEXT NOT NULL,
    created_at        BIGINT NOT NULL,
    created_by        TEXT NOT NULL,
    updated_at        BIGINT NOT NULL,
    updated_by        TEXT NOT NULL,
    UNIQUE (group_id, user_id)
);
CREATE INDEX directory_memberships_group ON directory_memberships (group_id, id);
CREATE INDEX directory_memberships_user ON directory_memberships (user_id, id);
