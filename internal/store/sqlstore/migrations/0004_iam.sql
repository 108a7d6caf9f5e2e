-- IAM inside the organization's accounts: roles and customer managed
-- policies. Role and policy names are unique per account ignoring case
-- through name_key (lower-cased in Go). A role's inline policies are read
-- and written with the role, as JSON; its attached managed policies are
-- rows of their own so that attachments of a policy can be counted.

CREATE TABLE iam_roles (
    account_id           TEXT NOT NULL,
    name_key             TEXT NOT NULL,
    name                 TEXT NOT NULL,
    path                 TEXT NOT NULL,
    role_id              TEXT NOT NULL UNIQUE,
    assume_role_policy   TEXT NOT NULL,
    description          TEXT NOT NULL,
    max_session_duration INTEGER NOT NULL,
    boundary_arn         TEXT NOT NULL,
    inline_policies      TEXT NOT NULL, -- JSON array of {Name, Document}
    managed_by           TEXT NOT NULL, -- '' or the owning service, e.g. sso.amazonaws.com
    created_at           BIGINT NOT NULL,
    updated_at           BIGINT NOT NULL,
    PRIMARY KEY (account_id, name_key)
);

CREATE TABLE iam_role_policy_attachments (
    account_id    TEXT NOT NULL,
    role_name_key TEXT NOT NULL,
    position      INTEGER NOT NULL, -- attach order
    policy_arn    TEXT NOT NULL,
    PRIMARY KEY (account_id, role_name_key, policy_arn)
);
CREATE INDEX iam_role_policy_attachments_policy ON iam_role_policy_attachments (account_id, policy_arn);

CREATE TABLE iam_policies (
    arn         TEXT PRIMARY KEY,
    account_id  TEXT NOT NULL,
    name_key    TEXT NOT NULL,
    name        TEXT NOT NULL,
    path        TEXT NOT NULL,
    policy_id   TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL,
    document    TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    UNIQUE (account_id, name_key)
);
