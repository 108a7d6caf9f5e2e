package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"slices"
	"strings"

	"github.com/atrium-sso/atrium/internal/store"
)

// --- users

const userCols = `identity_store_id, id, user_name, display_name, status, external_ids, profile, created_at, created_by, updated_at, updated_by, source_id`

func scanUser(r scanner) (store.User, error) {
	var u store.User
	var ext, profile string
	var created, updated int64
	err := r.Scan(&u.IdentityStoreID, &u.ID, &u.UserName, &u.DisplayName, &u.Status, &ext, &profile, &created, &u.CreatedBy, &updated, &u.UpdatedBy, &u.SourceID)
	if err != nil {
		return u, err
	}
	u.CreatedAt, u.UpdatedAt = fromMS(created), fromMS(updated)
	if u.ExternalIDs, err = decodeExternalIDs(ext); err != nil {
		return u, err
	}
	err = json.Unmarshal([]byte(profile), &u.Profile)
	return u, err
}

func encodeExternalIDs(ext []store.ExternalID) string {
	if len(ext) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(ext)
	return string(b)
}

func decodeExternalIDs(s string) ([]store.ExternalID, error) {
	if s == "[]" { // most principals have none: skip the decoder
		return nil, nil
	}
	var ext []store.ExternalID
	if err := json.Unmarshal([]byte(s), &ext); err != nil || len(ext) == 0 {
		return nil, err
	}
	return ext, nil
}

func (t *tx) InsertUser(ctx context.Context, u store.User) error {
	profile, err := json.Marshal(u.Profile)
	if err != nil {
		return err
	}
	_, err = t.exec(ctx, `INSERT INTO directory_users (`+userCols+`, user_name_key, email_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		u.IdentityStoreID, u.ID, u.UserName, u.DisplayName, u.Status, encodeExternalIDs(u.ExternalIDs), string(profile),
		ms(u.CreatedAt), u.CreatedBy, ms(u.UpdatedAt), u.UpdatedBy, u.SourceID, store.NameKey(u.UserName), strings.ToLower(u.Email()))
	if err != nil {
		return err
	}
	return t.putExternalIDs(ctx, u.IdentityStoreID, store.PrincipalUser, u.ID, nil, u.ExternalIDs)
}

func (t *tx) userWhere(ctx context.Context, where string, args ...any) (*store.User, error) {
	u, err := scanUser(t.row(ctx, `SELECT `+userCols+` FROM directory_users WHERE `+where, args...))
	if err != nil {
		return nil, notFound(err)
	}
	return &u, nil
}

func (t *tx) GetUser(ctx context.Context, identityStoreID, id string) (*store.User, error) {
	return t.userWhere(ctx, `identity_store_id = ? AND id = ?`, identityStoreID, id)
}

func (t *tx) GetUserByName(ctx context.Context, identityStoreID, userName string) (*store.User, error) {
	return t.userWhere(ctx, `identity_store_id = ? AND user_name_key = ?`, identityStoreID, store.NameKey(userName))
}

func (t *tx) GetUserByEmail(ctx context.Context, identityStoreID, email string) (*store.User, error) {
	if email == "" {
		return nil, store.ErrNotFound
	}
	return t.userWhere(ctx, `identity_store_id = ? AND email_key = ? ORDER BY id LIMIT 1`, identityStoreID, strings.ToLower(email))
}

func (t *tx) GetUserByExternalID(ctx context.Context, identityStoreID string, ext store.ExternalID) (*store.User, error) {
	id, err := t.principalByExternalID(ctx, identityStoreID, store.PrincipalUser, ext)
	if err != nil {
		return nil, err
	}
	return t.GetUser(ctx, identityStoreID, id)
}

func (t *tx) ListUsers(ctx context.Context, identityStoreID, after string, limit int) ([]store.User, error) {
	rows, err := t.rows(ctx, `SELECT `+userCols+` FROM directory_users WHERE identity_store_id = ? AND id > ? ORDER BY id LIMIT ?`, identityStoreID, after, limit)
	return collect(rows, err, func(r *sql.Rows) (store.User, error) { return scanUser(r) })
}

func (t *tx) UpdateUser(ctx context.Context, identityStoreID, id string, fn func(*store.User) error) (*store.User, error) {
	old, err := t.userWhere(ctx, `identity_store_id = ? AND id = ?`+t.db.dialect.ForUpdate, identityStoreID, id)
	if err != nil {
		return nil, err
	}
	u := *old
	u.ExternalIDs = slices.Clone(old.ExternalIDs)
	if err := fn(&u); err != nil {
		return nil, err
	}
	u.IdentityStoreID, u.ID, u.CreatedAt, u.CreatedBy = old.IdentityStoreID, old.ID, old.CreatedAt, old.CreatedBy
	profile, err := json.Marshal(u.Profile)
	if err != nil {
		return nil, err
	}
	_, err = t.exec(ctx, `UPDATE directory_users SET user_name = ?, user_name_key = ?, display_name = ?, email_key = ?, status = ?, external_ids = ?,
		profile = ?, updated_at = ?, updated_by = ?, source_id = ? WHERE identity_store_id = ? AND id = ?`,
		u.UserName, store.NameKey(u.UserName), u.DisplayName, strings.ToLower(u.Email()), u.Status, encodeExternalIDs(u.ExternalIDs),
		string(profile), ms(u.UpdatedAt), u.UpdatedBy, u.SourceID, identityStoreID, id)
	if err != nil {
		return nil, err
	}
	if err := t.putExternalIDs(ctx, identityStoreID, store.PrincipalUser, id, old.ExternalIDs, u.ExternalIDs); err != nil {
		return nil, err
	}
	return &u, nil
}

func (t *tx) DeleteUser(ctx context.Context, identityStoreID, id string) error {
	// The row goes first: deleting it locks it, so a membership being
	// created for this user concurrently either commits before (and is
	// deleted below) or finds the user gone.
	if err := mustAffect(t.exec(ctx, `DELETE FROM directory_users WHERE identity_store_id = ? AND id = ?`, identityStoreID, id)); err != nil {
		return err
	}
	return t.deletePrincipalReferences(ctx, identityStoreID, store.PrincipalUser, id)
}

// deletePrincipalReferences deletes everything that refers to a user or a
// group being deleted, in its transaction: memberships, external ids,
// account assignments, a user's password, MFA devices and sign-in
// sessions. Whatever else comes to refer to principals is deleted here too.
func (t *tx) deletePrincipalReferences(ctx context.Context, identityStoreID, principalType, id string) error {
	col := "user_id"
	if principalType == store.PrincipalGroup {
		col = "group_id"
	}
	if _, err := t.exec(ctx, `DELETE FROM directory_memberships WHERE identity_store_id = ? AND `+col+` = ?`, identityStoreID, id); err != nil {
		return err
	}
	if principalType == store.PrincipalUser {
		if err := t.deleteSigninReferences(ctx, identityStoreID, id); err != nil {
			return err
		}
		if err := t.deletePortalReferences(ctx, identityStoreID, id); err != nil {
			return err
		}
	}
	_, err := t.exec(ctx, `DELETE FROM directory_external_ids WHERE identity_store_id = ? AND principal_type = ? AND principal_id = ?`,
		identityStoreID, principalType, id)
	if err != nil {
		return err
	}
	return t.deletePrincipalAssignments(ctx, identityStoreID, principalType, id)
}

// --- external ids

// putExternalIDs replaces a principal's external ids (old) with ext; a pair
// another principal of the same type holds is ErrConflict.
func (t *tx) putExternalIDs(ctx context.Context, identityStoreID, principalType, id string, old, ext []store.ExternalID) error {
	if slices.Equal(old, ext) {
		return nil
	}
	if len(old) > 0 {
		_, err := t.exec(ctx, `DELETE FROM directory_external_ids WHERE identity_store_id = ? AND principal_type = ? AND principal_id = ?`,
			identityStoreID, principalType, id)
		if err != nil {
			return err
		}
	}
	for _, e := range ext {
		_, err := t.exec(ctx, `INSERT INTO directory_external_ids (identity_store_id, principal_type, issuer, external_id, principal_id) VALUES (?, ?, ?, ?, ?)`,
			identityStoreID, principalType, e.Issuer, e.ID, id)
		if err != nil {
			return err
		}
	}
	return nil
}

func (t *tx) principalByExternalID(ctx context.Context, identityStoreID, principalType string, ext store.ExternalID) (string, error) {
	var id string
	err := t.row(ctx, `SELECT principal_id FROM directory_external_ids WHERE identity_store_id = ? AND principal_type = ? AND issuer = ? AND external_id = ?`,
		identityStoreID, principalType, ext.Issuer, ext.ID).Scan(&id)
	return id, notFound(err)
}

// --- groups

const groupCols = `identity_store_id, id, display_name, description, external_ids, created_at, created_by, updated_at, updated_by`

func scanGroup(r scanner) (store.Group, error) {
	var g store.Group
	var ext string
	var created, updated int64
	err := r.Scan(&g.IdentityStoreID, &g.ID, &g.DisplayName, &g.Description, &ext, &created, &g.CreatedBy, &updated, &g.UpdatedBy)
	if err != nil {
		return g, err
	}
	g.CreatedAt, g.UpdatedAt = fromMS(created), fromMS(updated)
	g.ExternalIDs, err = decodeExternalIDs(ext)
	return g, err
}

func (t *tx) InsertGroup(ctx context.Context, g store.Group) error {
	_, err := t.exec(ctx, `INSERT INTO directory_groups (`+groupCols+`, display_name_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		g.IdentityStoreID, g.ID, g.DisplayName, g.Description, encodeExternalIDs(g.ExternalIDs), ms(g.CreatedAt), g.CreatedBy,
		ms(g.UpdatedAt), g.UpdatedBy, store.NameKey(g.DisplayName))
	if err != nil {
		return err
	}
	return t.putExternalIDs(ctx, g.IdentityStoreID, store.PrincipalGroup, g.ID, nil, g.ExternalIDs)
}

func (t *tx) groupWhere(ctx context.Context, where string, args ...any) (*store.Group, error) {
	g, err := scanGroup(t.row(ctx, `SELECT `+groupCols+` FROM directory_groups WHERE `+where, args...))
	if err != nil {
		return nil, notFound(err)
	}
	return &g, nil
}

func (t *tx) GetGroup(ctx context.Context, identityStoreID, id string) (*store.Group, error) {
	return t.groupWhere(ctx, `identity_store_id = ? AND id = ?`, identityStoreID, id)
}

func (t *tx) GetGroupByDisplayName(ctx context.Context, identityStoreID, displayName string) (*store.Group, error) {
	return t.groupWhere(ctx, `identity_store_id = ? AND display_name_key = ?`, identityStoreID, store.NameKey(displayName))
}

func (t *tx) GetGroupByExternalID(ctx context.Context, identityStoreID string, ext store.ExternalID) (*store.Group, error) {
	id, err := t.principalByExternalID(ctx, identityStoreID, store.PrincipalGroup, ext)
	if err != nil {
		return nil, err
	}
	return t.GetGroup(ctx, identityStoreID, id)
}

func (t *tx) ListGroups(ctx context.Context, identityStoreID, after string, limit int) ([]store.Group, error) {
	rows, err := t.rows(ctx, `SELECT `+groupCols+` FROM directory_groups WHERE identity_store_id = ? AND id > ? ORDER BY id LIMIT ?`, identityStoreID, after, limit)
	return collect(rows, err, func(r *sql.Rows) (store.Group, error) { return scanGroup(r) })
}

func (t *tx) UpdateGroup(ctx context.Context, identityStoreID, id string, fn func(*store.Group) error) (*store.Group, error) {
	old, err := t.groupWhere(ctx, `identity_store_id = ? AND id = ?`+t.db.dialect.ForUpdate, identityStoreID, id)
	if err != nil {
		return nil, err
	}
	g := *old
	g.ExternalIDs = slices.Clone(old.ExternalIDs)
	if err := fn(&g); err != nil {
		return nil, err
	}
	g.IdentityStoreID, g.ID, g.CreatedAt, g.CreatedBy = old.IdentityStoreID, old.ID, old.CreatedAt, old.CreatedBy
	_, err = t.exec(ctx, `UPDATE directory_groups SET display_name = ?, display_name_key = ?, description = ?, external_ids = ?, updated_at = ?, updated_by = ?
		WHERE identity_store_id = ? AND id = ?`,
		g.DisplayName, store.NameKey(g.DisplayName), g.Description, encodeExternalIDs(g.ExternalIDs), ms(g.UpdatedAt), g.UpdatedBy, identityStoreID, id)
	if err != nil {
		return nil, err
	}
	if err := t.putExternalIDs(ctx, identityStoreID, store.PrincipalGroup, id, old.ExternalIDs, g.ExternalIDs); err != nil {
		return nil, err
	}
	return &g, nil
}

func (t *tx) DeleteGroup(ctx context.Context, identityStoreID, id string) error {
	if err := mustAffect(t.exec(ctx, `DELETE FROM directory_groups WHERE identity_store_id = ? AND id = ?`, identityStoreID, id)); err != nil {
		return err
	}
	return t.deletePrincipalReferences(ctx, identityStoreID, store.PrincipalGroup, id)
}

// --- memberships

const membershipCols = `identity_store_id, id, group_id, user_id, created_at, created_by, updated_at, updated_by`

func scanMembership(r scanner) (store.GroupMembership, error) {
	var m store.GroupMembership
	var created, updated int64
	err := r.Scan(&m.IdentityStoreID, &m.ID, &m.GroupID, &m.UserID, &created, &m.CreatedBy, &updated, &m.UpdatedBy)
	m.CreatedAt, m.UpdatedAt = fromMS(created), fromMS(updated)
	return m, err
}

func (t *tx) InsertGroupMembership(ctx context.Context, m store.GroupMembership) error {
	// Both rows are locked (PostgreSQL; SQLite has one writer) so neither
	// can be deleted before this commits: see DeleteUser.
	var id string
	err := t.row(ctx, `SELECT id FROM directory_users WHERE identity_store_id = ? AND id = ?`+t.db.dialect.ForUpdate, m.IdentityStoreID, m.UserID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return store.ErrUserMissing
	} else if err != nil {
		return err
	}
	err = t.row(ctx, `SELECT id FROM directory_groups WHERE identity_store_id = ? AND id = ?`+t.db.dialect.ForUpdate, m.IdentityStoreID, m.GroupID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return store.ErrGroupMissing
	} else if err != nil {
		return err
	}
	_, err = t.exec(ctx, `INSERT INTO directory_memberships (`+membershipCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		m.IdentityStoreID, m.ID, m.GroupID, m.UserID, ms(m.CreatedAt), m.CreatedBy, ms(m.UpdatedAt), m.UpdatedBy)
	return err
}

func (t *tx) membershipWhere(ctx context.Context, where string, args ...any) (*store.GroupMembership, error) {
	m, err := scanMembership(t.row(ctx, `SELECT `+membershipCols+` FROM directory_memberships WHERE `+where, args...))
	if err != nil {
		return nil, notFound(err)
	}
	return &m, nil
}

func (t *tx) GetGroupMembership(ctx context.Context, identityStoreID, id string) (*store.GroupMembership, error) {
	return t.membershipWhere(ctx, `identity_store_id = ? AND id = ?`, identityStoreID, id)
}

func (t *tx) GetGroupMembershipOf(ctx context.Context, identityStoreID, groupID, userID string) (*store.GroupMembership, error) {
	return t.membershipWhere(ctx, `group_id = ? AND user_id = ? AND identity_store_id = ?`, groupID, userID, identityStoreID)
}

func (t *tx) ListGroupMemberships(ctx context.Context, identityStoreID, groupID, after string, limit int) ([]store.GroupMembership, error) {
	rows, err := t.rows(ctx, `SELECT `+membershipCols+` FROM directory_memberships WHERE group_id = ? AND id > ? AND identity_store_id = ? ORDER BY id LIMIT ?`,
		groupID, after, identityStoreID, limit)
	return collect(rows, err, func(r *sql.Rows) (store.GroupMembership, error) { return scanMembership(r) })
}

// memberMembershipsQuery is answered from the directory_memberships_by_member
// index alone (plan_test.go holds it to that).
const memberMembershipsQuery = `SELECT ` + membershipCols + ` FROM directory_memberships WHERE user_id = ? AND id > ? AND identity_store_id = ? ORDER BY id LIMIT ?`

func (t *tx) ListGroupMembershipsForMember(ctx context.Context, identityStoreID, userID, after string, limit int) ([]store.GroupMembership, error) {
	rows, err := t.rows(ctx, memberMembershipsQuery, userID, after, identityStoreID, limit)
	return collect(rows, err, func(r *sql.Rows) (store.GroupMembership, error) { return scanMembership(r) })
}

// GroupsWithMember is one query read from indexes alone: the user's row,
// whose absence is ErrUserMissing, joined to its memberships in groupIDs. A
// membership's user fixes its store: memberships join principals of one store.
func (t *tx) GroupsWithMember(ctx context.Context, identityStoreID, userID string, groupIDs []string) ([]string, error) {
	if len(groupIDs) == 0 {
		if ok, err := t.PrincipalExists(ctx, identityStoreID, store.PrincipalUser, userID); err != nil || !ok {
			return nil, cmp.Or(err, store.ErrUserMissing)
		}
		return nil, nil
	}
	args := make([]any, 0, len(groupIDs)+2)
	for _, g := range groupIDs {
		args = append(args, g)
	}
	args = append(args, identityStoreID, userID)
	rows, err := t.rows(ctx, `SELECT m.group_id FROM directory_users u LEFT JOIN directory_memberships m ON m.user_id = u.id AND m.group_id IN (?`+
		strings.Repeat(", ?", len(groupIDs)-1)+`) WHERE u.identity_store_id = ? AND u.id = ?`, args...)
	found, err := collect(rows, err, func(r *sql.Rows) (sql.NullString, error) {
		var g sql.NullString
		return g, r.Scan(&g)
	})
	if err != nil {
		return nil, err
	}
	if len(found) == 0 {
		return nil, store.ErrUserMissing
	}
	var out []string
	for _, g := range found {
		if g.Valid {
			out = append(out, g.String)
		}
	}
	return out, nil
}

func (t *tx) PrincipalExists(ctx context.Context, identityStoreID, principalType, id string) (bool, error) {
	table := "directory_users"
	if principalType == store.PrincipalGroup {
		table = "directory_groups"
	}
	var one int
	err := t.row(ctx, `SELECT 1 FROM `+table+` WHERE identity_store_id = ? AND id = ?`, identityStoreID, id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

func (t *tx) DeleteGroupMembership(ctx context.Context, identityStoreID, id string) error {
	return mustAffect(t.exec(ctx, `DELETE FROM directory_memberships WHERE identity_store_id = ? AND id = ?`, identityStoreID, id))
}
