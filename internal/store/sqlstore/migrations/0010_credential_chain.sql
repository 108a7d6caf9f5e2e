-- A role session assumed from another (role chaining) remembers where its
-- chain began: the assumed-role ARN of the Identity Center role session
-- the first hop came from, '' for none. Whatever revokes that session's
-- role (its assignment removed, its sign-in session ended) revokes every
-- hop after it.

ALTER TABLE session_credentials ADD COLUMN origin_arn TEXT NOT NULL DEFAULT '';
