-- Portable SQL: runs unchanged on SQLite and PostgreSQL. Times are unix
-- milliseconds (BIGINT) so both backends order and compare them alike.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE organizations (
    id                       TEXT PRIMARY KEY,
    arn                      TEXT NOT NULL,
    feature_set              TEXT NOT NULL,
    management_account_id    TEXT NOT NULL,
    management_account_email TEXT NOT NULL,
    root_id                  TEXT NOT NULL,
    created_at               BIGINT NOT NULL
);

CREATE TABLE instances (
    arn               TEXT PRIMARY KEY,
    identity_store_id TEXT NOT NULL UNIQUE,
    owner_account_id  TEXT NOT NULL,
    name              TEXT NOT NULL,
    status            TEXT NOT NULL,
    created_at        BIGINT NOT NULL
);

CREATE TABLE accounts (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    email         TEXT NOT NULL,
    email_key     TEXT NOT NULL UNIQUE, -- lower-cased: AWS treats emails case-insensitively
    parent_id     TEXT NOT NULL,
    status        TEXT NOT NULL,
    state         TEXT NOT NULL,
    joined_method TEXT NOT NULL,
    joined_at     BIGINT NOT NULL
);
CREATE INDEX accounts_parent ON accounts (parent_id, id);

CREATE TABLE organizational_units (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    parent_id  TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (parent_id, name)
);

CREATE TABLE create_account_requests (
    id             TEXT PRIMARY KEY,
    account_name   TEXT NOT NULL,
    email          TEXT NOT NULL,
    state          TEXT NOT NULL,
    failure_reason TEXT NOT NULL,
    account_id     TEXT NOT NULL,
    requested_at   BIGINT NOT NULL,
    completed_at   BIGINT NOT NULL
);

CREATE TABLE tags (
    resource_id TEXT NOT NULL,
    key         TEXT NOT NULL,
    value       TEXT NOT NULL,
    PRIMARY KEY (resource_id, key)
);

CREATE TABLE access_keys (
    id            TEXT PRIMARY KEY,
    secret        TEXT NOT NULL,
    account_id    TEXT NOT NULL,
    principal_arn TEXT NOT NULL,
    user_id       TEXT NOT NULL,
    status        TEXT NOT NULL,
    created_at    BIGINT NOT NULL
);

CREATE TABLE audit_events (
    id             TEXT PRIMARY KEY,
    time           BIGINT NOT NULL,
    source         TEXT NOT NULL,
    event_name     TEXT NOT NULL,
    read_only      BOOLEAN NOT NULL,
    principal_arn  TEXT NOT NULL,
    account_id     TEXT NOT NULL,
    access_key_id  TEXT NOT NULL,
    source_ip      TEXT NOT NULL,
    user_agent     TEXT NOT NULL,
    request_id     TEXT NOT NULL,
    request_params TEXT NOT NULL,
    error_code     TEXT NOT NULL,
    error_message  TEXT NOT NULL
);
CREATE INDEX audit_events_time ON audit_events (time, id);

CREATE TABLE jobs (
    id           TEXT PRIMARY KEY,
    kind         TEXT NOT NULL,
    payload      TEXT NOT NULL,
    run_after    BIGINT NOT NULL,
    locked_by    TEXT NOT NULL,
    locked_until BIGINT NOT NULL,
    attempts     INTEGER NOT NULL,
    last_error   TEXT NOT NULL,
    created_at   BIGINT NOT NULL
);
CREATE INDEX jobs_due ON jobs (run_after, created_at);
