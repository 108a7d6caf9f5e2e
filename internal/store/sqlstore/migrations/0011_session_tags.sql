-- Session tags (aws:PrincipalTag/<key>): the access-control attributes an
-- identity provider asserted at sign-in, kept with the sign-in session, and
-- the tags role credentials carry. JSON objects of key to value.

ALTER TABLE portal_sessions ADD COLUMN tags TEXT NOT NULL DEFAULT '{}';
ALTER TABLE session_credentials ADD COLUMN tags TEXT NOT NULL DEFAULT '{}';
