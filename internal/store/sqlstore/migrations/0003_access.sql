-- sso-admin: permission sets, account assignments, what is provisioned
-- where, the asynchronous requests that change them, and ABAC settings.
-- Everything is keyed by its instance ARN first. Lists that the domain
-- bounds (policies of a permission set, ABAC attributes) are JSON columns.

ALTER TABLE instances ADD COLUMN encryption_key_type TEXT NOT NULL DEFAULT '';
ALTER TABLE instances ADD COLUMN kms_key_arn TEXT NOT NULL DEFAULT '';

CREATE TABLE permission_sets (
    instance_arn      TEXT NOT NULL,
    arn               TEXT NOT NULL,
    name              TEXT NOT NULL,
    description       TEXT NOT NULL,
    session_duration  TEXT NOT NULL,
    relay_state       TEXT NOT NULL,
    managed_policies  TEXT NOT NULL, -- JSON array of {ARN, Name}
    customer_policies TEXT NOT NULL, -- JSON array of {Name, Path}
    inline_policy     TEXT NOT NULL,
    boundary          TEXT NOT NULL, -- JSON store.PermissionsBoundary, '' when none
    version           BIGINT NOT NULL,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL,
    PRIMARY KEY (instance_arn, arn),
    UNIQUE (instance_arn, name)
);

-- sort_key is store.AccountAssignment.Key(), made in Go: every list walks it.
-- The primary key also answers "is this permission set assigned anywhere".
CREATE TABLE account_assignments (
    instance_arn       TEXT NOT NULL,
    permission_set_arn TEXT NOT NULL,
    account_id         TEXT NOT NULL,
    principal_type     TEXT NOT NULL, -- USER | GROUP
    principal_id       TEXT NOT NULL,
    sort_key           TEXT NOT NULL,
    created_at         BIGINT NOT NULL,
    PRIMARY KEY (instance_arn, permission_set_arn, account_id, principal_type, principal_id)
);
CREATE INDEX account_assignments_account ON account_assignments (instance_arn, account_id, permission_set_arn, sort_key);
CREATE INDEX account_assignments_principal ON account_assignments (instance_arn, principal_type, principal_id, account_id, sort_key);

-- Outdated is not stored: it is version < the permission set's version.
CREATE TABLE provisioned_permission_sets (
    instance_arn       TEXT NOT NULL,
    permission_set_arn TEXT NOT NULL,
    account_id         TEXT NOT NULL,
    role_name          TEXT NOT NULL,
    version            BIGINT NOT NULL,
    provisioned_at     BIGINT NOT NULL,
    PRIMARY KEY (instance_arn, permission_set_arn, account_id)
);
CREATE INDEX provisioned_permission_sets_account ON provisioned_permission_sets (instance_arn, account_id, permission_set_arn);

CREATE TABLE access_requests (
    instance_arn       TEXT NOT NULL,
    kind               TEXT NOT NULL, -- ASSIGNMENT_CREATION | ASSIGNMENT_DELETION | PROVISIONING
    id                 TEXT NOT NULL,
    status             TEXT NOT NULL,
    failure_reason     TEXT NOT NULL,
    target_id          TEXT NOT NULL,
    target_type        TEXT NOT NULL,
    permission_set_arn TEXT NOT NULL,
    principal_type     TEXT NOT NULL,
    principal_id       TEXT NOT NULL,
    created_at         BIGINT NOT NULL,
    completed_at       BIGINT NOT NULL,
    PRIMARY KEY (instance_arn, kind, id)
);
CREATE INDEX access_requests_status ON access_requests (instance_arn, kind, status, id);
CREATE INDEX access_requests_permission_set ON access_requests (instance_arn, kind, permission_set_arn, id);

CREATE TABLE access_control_attributes (
    instance_arn  TEXT PRIMARY KEY,
    attributes    TEXT NOT NULL, -- JSON array of {Key, Sources}
    status        TEXT NOT NULL,
    status_reason TEXT NOT NULL,
    updated_at    BIGINT NOT NULL
);
