-- Account assignments keyed by account first, (instance, account, permission
-- set, principal): the key is then also what ListAccountAssignments,
-- CountAssignments and closing an account read, and the separate by-account
-- index, the widest of the table's B-trees (it repeated sort_key) and the
-- one written at a random place by every assignment, goes. A narrow index
-- by permission set answers DeletePermissionSet's "assigned anywhere?".
-- The by-principal index orders by the columns themselves: sort_key, their
-- order spelled out in ~150 bytes a row, goes. (It leaves created_at out:
-- holding every column, it would win the by-account listing from the key.)
-- The table is rebuilt: neither SQLite nor a portable ALTER changes a key.
CREATE TABLE account_assignments_by_account (
    instance_arn       TEXT NOT NULL,
    account_id         TEXT NOT NULL,
    permission_set_arn TEXT NOT NULL,
    principal_type     TEXT NOT NULL,
    principal_id       TEXT NOT NULL,
    created_at         BIGINT NOT NULL,
    PRIMARY KEY (instance_arn, account_id, permission_set_arn, principal_type, principal_id)
);
INSERT INTO account_assignments_by_account (instance_arn, account_id, permission_set_arn, principal_type, principal_id, created_at)
    SELECT instance_arn, account_id, permission_set_arn, principal_type, principal_id, created_at FROM account_assignments;
DROP TABLE account_assignments;
ALTER TABLE account_assignments_by_account RENAME TO account_assignments;
CREATE INDEX account_assignments_principal ON account_assignments (instance_arn, principal_type, principal_id, account_id, permission_set_arn);
CREATE INDEX account_assignments_permission_set ON account_assignments (instance_arn, permission_set_arn);
