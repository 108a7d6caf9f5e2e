-- No API lists requests by permission set (sso-admin's status lists filter
-- by status alone), and the index cost a B-tree write on every request made.
DROP INDEX access_requests_permission_set;
