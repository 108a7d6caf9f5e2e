-- A user's memberships (ListGroupMembershipsForMember, and the groups that
-- assignments and the portal look up for a user) are read from this index alone: with every column
-- here, a page of them is one contiguous range instead of one table lookup
-- per membership, each usually a page read of its own. It replaces the
-- (user_id, id) index it extends.
CREATE INDEX directory_memberships_by_member ON directory_memberships (user_id, id, group_id, identity_store_id, created_at, created_by, updated_at, updated_by);
DROP INDEX directory_memberships_user;
