package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math/bits"
	"slices"
	"strings"

	"github.com/atrium-sso/atrium/internal/store"
)

// --- instance

func (t *tx) UpdateInstance(ctx context.Context, arn string, fn func(*store.Instance) error) (*store.Instance, error) {
	old, err := scanInstance(t.row(ctx, `SELECT `+instanceCols+` FROM instances WHERE arn = ?`+t.db.dialect.ForUpdate, arn))
	if err != nil {
		return nil, notFound(err)
	}
	in := old
	if err := fn(&in); err != nil {
		return nil, err
	}
	in.ARN, in.IdentityStoreID, in.CreatedAt = old.ARN, old.IdentityStoreID, old.CreatedAt
	_, err = t.exec(ctx, `UPDATE instances SET owner_account_id = ?, name = ?, status = ?, encryption_key_type = ?, kms_key_arn = ? WHERE arn = ?`,
		in.OwnerAccountID, in.Name, in.Status, in.EncryptionKeyType, in.KMSKeyARN, arn)
	if err != nil {
		return nil, err
	}
	return &in, nil
}

// --- permission sets

const permissionSetCols = `instance_arn, arn, name, description, session_duration, relay_state, managed_policies, customer_policies,
	inline_policy, boundary, version, created_at, updated_at`

// encodeList stores a list as a JSON array, [] when empty.
func encodeList[T any](list []T) string {
	if len(list) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(list)
	return string(b)
}

// decodeList reads what encodeList stored; an empty list reads as nil.
func decodeList[T any](s string) ([]T, error) {
	var list []T
	if err := json.Unmarshal([]byte(s), &list); err != nil || len(list) == 0 {
		return nil, err
	}
	return list, nil
}

func encodeBoundary(b *store.PermissionsBoundary) string {
	if b == nil {
		return ""
	}
	j, _ := json.Marshal(b)
	return string(j)
}

func scanPermissionSet(r scanner) (store.PermissionSet, error) {
	var ps store.PermissionSet
	var managed, customer, boundary string
	var created, updated int64
	err := r.Scan(&ps.InstanceARN, &ps.ARN, &ps.Name, &ps.Description, &ps.SessionDuration, &ps.RelayState, &managed, &customer,
		&ps.InlinePolicy, &boundary, &ps.Version, &created, &updated)
	if err != nil {
		return ps, err
	}
	ps.CreatedAt, ps.UpdatedAt = fromMS(created), fromMS(updated)
	if ps.ManagedPolicies, err = decodeList[store.ManagedPolicy](managed); err != nil {
		return ps, err
	}
	if ps.CustomerPolicies, err = decodeList[store.CustomerPolicyRef](customer); err != nil {
		return ps, err
	}
	if boundary != "" {
		ps.Boundary = new(store.PermissionsBoundary)
		err = json.Unmarshal([]byte(boundary), ps.Boundary)
	}
	return ps, err
}

func (t *tx) InsertPermissionSet(ctx context.Context, ps store.PermissionSet) error {
	_, err := t.exec(ctx, `INSERT INTO permission_sets (`+permissionSetCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		ps.InstanceARN, ps.ARN, ps.Name, ps.Description, ps.SessionDuration, ps.RelayState, encodeList(ps.ManagedPolicies),
		encodeList(ps.CustomerPolicies), ps.InlinePolicy, encodeBoundary(ps.Boundary), ps.Version, ms(ps.CreatedAt), ms(ps.UpdatedAt))
	return err
}

func (t *tx) permissionSet(ctx context.Context, lock string, instanceARN, arn string) (*store.PermissionSet, error) {
	ps, err := scanPermissionSet(t.row(ctx, `SELECT `+permissionSetCols+` FROM permission_sets WHERE instance_arn = ? AND arn = ?`+lock, instanceARN, arn))
	if err != nil {
		return nil, notFound(err)
	}
	return &ps, nil
}

func (t *tx) GetPermissionSet(ctx context.Context, instanceARN, arn string) (*store.PermissionSet, error) {
	return t.permissionSet(ctx, "", instanceARN, arn)
}

func (t *tx) ListPermissionSets(ctx context.Context, instanceARN, after string, limit int) ([]store.PermissionSet, error) {
	rows, err := t.rows(ctx, `SELECT `+permissionSetCols+` FROM permission_sets WHERE instance_arn = ? AND arn > ? ORDER BY arn LIMIT ?`,
		instanceARN, after, limit)
	return collect(rows, err, func(r *sql.Rows) (store.PermissionSet, error) { return scanPermissionSet(r) })
}

func (t *tx) UpdatePermissionSet(ctx context.Context, instanceARN, arn string, fn func(*store.PermissionSet) error) (*store.PermissionSet, error) {
	old, err := t.permissionSet(ctx, t.db.dialect.ForUpdate, instanceARN, arn)
	if err != nil {
		return nil, err
	}
	ps := *old
	ps.ManagedPolicies, ps.CustomerPolicies = slices.Clone(old.ManagedPolicies), slices.Clone(old.CustomerPolicies)
	if old.Boundary != nil {
		b := *old.Boundary
		ps.Boundary = &b
	}
	if err := fn(&ps); err != nil {
		return nil, err
	}
	ps.InstanceARN, ps.ARN, ps.CreatedAt = old.InstanceARN, old.ARN, old.CreatedAt
	_, err = t.exec(ctx, `UPDATE permission_sets SET name = ?, description = ?, session_duration = ?, relay_state = ?, managed_policies = ?,
		customer_policies = ?, inline_policy = ?, boundary = ?, version = ?, updated_at = ? WHERE instance_arn = ? AND arn = ?`,
		ps.Name, ps.Description, ps.SessionDuration, ps.RelayState, encodeList(ps.ManagedPolicies), encodeList(ps.CustomerPolicies),
		ps.InlinePolicy, encodeBoundary(ps.Boundary), ps.Version, ms(ps.UpdatedAt), instanceARN, arn)
	if err != nil {
		return nil, err
	}
	return &ps, nil
}

// permissionSetUsesQuery counts what holds a permission set: assignments
// (through their by-permission-set index) and provisioned roles.
const permissionSetUsesQuery = `SELECT COUNT(*) FROM (
	SELECT 1 FROM account_assignments WHERE instance_arn = ? AND permission_set_arn = ?
	UNION ALL
	SELECT 1 FROM provisioned_permission_sets WHERE instance_arn = ? AND permission_set_arn = ?) AS uses`

func (t *tx) DeletePermissionSet(ctx context.Context, instanceARN, arn string) error {
	// Locked first: assignments and provisioning lock it too (shared)
	// before they refer to it, so none can appear between the check and the delete.
	if err := t.lockPermissionSet(ctx, t.db.dialect.ForUpdate, instanceARN, arn); err != nil {
		return err
	}
	var used int
	err := t.row(ctx, permissionSetUsesQuery, instanceARN, arn, instanceARN, arn).Scan(&used)
	if err != nil {
		return err
	}
	if used > 0 {
		return store.ErrConflict
	}
	if _, err := t.exec(ctx, `DELETE FROM permission_sets WHERE instance_arn = ? AND arn = ?`, instanceARN, arn); err != nil {
		return err
	}
	_, err = t.exec(ctx, `DELETE FROM tags WHERE resource_id = ?`, arn)
	return err
}

// lockPermissionSet locks the permission set (PostgreSQL; SQLite has one
// writer); ErrNotFound when it is not in the instance.
func (t *tx) lockPermissionSet(ctx context.Context, lock, instanceARN, arn string) error {
	var found string
	err := t.row(ctx, `SELECT arn FROM permission_sets WHERE instance_arn = ? AND arn = ?`+lock, instanceARN, arn).Scan(&found)
	return notFound(err)
}

// --- account assignments

const assignmentCols = `instance_arn, account_id, permission_set_arn, principal_type, principal_id, created_at`

func scanAssignment(r scanner) (store.AccountAssignment, error) {
	var a store.AccountAssignment
	var created int64
	err := r.Scan(&a.InstanceARN, &a.AccountID, &a.PermissionSetARN, &a.PrincipalType, &a.PrincipalID, &created)
	a.CreatedAt = fromMS(created)
	return a, err
}

func (t *tx) InsertAssignment(ctx context.Context, a store.AccountAssignment) error {
	// The principal and the permission set are locked (shared) so that
	// neither can be deleted before this commits: see DeleteUser and
	// DeletePermissionSet.
	table, missing := "directory_users", store.ErrUserMissing
	switch a.PrincipalType {
	case store.PrincipalUser:
	case store.PrincipalGroup:
		table, missing = "directory_groups", store.ErrGroupMissing
	default:
		return store.ErrNotFound
	}
	var id string
	err := t.row(ctx, `SELECT id FROM `+table+` WHERE identity_store_id = (SELECT identity_store_id FROM instances WHERE arn = ?) AND id = ?`+
		t.db.dialect.ForShare, a.InstanceARN, a.PrincipalID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return missing
	} else if err != nil {
		return err
	}
	if err := t.lockPermissionSet(ctx, t.db.dialect.ForShare, a.InstanceARN, a.PermissionSetARN); err != nil {
		return err
	}
	// DO NOTHING rather than a unique violation, which would abort the
	// whole transaction on PostgreSQL: a repeat is the caller's to answer.
	res, err := t.exec(ctx, `INSERT INTO account_assignments (`+assignmentCols+`) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		a.InstanceARN, a.AccountID, a.PermissionSetARN, a.PrincipalType, a.PrincipalID, ms(a.CreatedAt))
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return store.ErrConflict
	}
	return nil
}

const assignmentKeyWhere = `instance_arn = ? AND permission_set_arn = ? AND account_id = ? AND principal_type = ? AND principal_id = ?`

func (t *tx) DeleteAssignment(ctx context.Context, a store.AccountAssignment) error {
	return mustAffect(t.exec(ctx, `DELETE FROM account_assignments WHERE `+assignmentKeyWhere,
		a.InstanceARN, a.PermissionSetARN, a.AccountID, a.PrincipalType, a.PrincipalID))
}

// Assignments are listed in store.AccountAssignment.Key() order, which is
// the order of (account_id, permission_set_arn, principal_type, principal_id):
// account ids and permission set ARNs each have one length, and the types,
// GROUP and USER, are not prefixes of each other. A page's cursor is the last
// Key(), split back into those columns (cursorOf).

// listAssignmentsQuery walks the key from the cursor's principal on.
const listAssignmentsQuery = `SELECT ` + assignmentCols + ` FROM account_assignments
	WHERE instance_arn = ? AND account_id = ? AND permission_set_arn = ? AND (principal_type, principal_id) > (?, ?)
	ORDER BY principal_type, principal_id LIMIT ?`

func (t *tx) ListAssignments(ctx context.Context, instanceARN, accountID, permissionSetARN, after string, limit int) ([]store.AccountAssignment, error) {
	c, err := cursorOf(after)
	if err != nil {
		return nil, err
	}
	rows, err := t.rows(ctx, listAssignmentsQuery, instanceARN, accountID, permissionSetARN, c[2], c[3], limit)
	return collect(rows, err, func(r *sql.Rows) (store.AccountAssignment, error) { return scanAssignment(r) })
}

// cursorOf splits a Key() into account, permission set, principal type and
// id; "" is before every assignment.
func cursorOf(after string) ([4]string, error) {
	var c [4]string
	if after == "" {
		return c, nil
	}
	parts := strings.SplitN(after, " ", 4)
	if len(parts) != 4 {
		return c, fmt.Errorf("assignment cursor %q is not a key", after)
	}
	copy(c[:], parts)
	return c, nil
}

// principalsPerQuery bounds the branches of one query (SQLite allows 500
// terms in a compound SELECT); more principals take more queries.
const principalsPerQuery = 128

func (t *tx) ListAssignmentsForPrincipals(ctx context.Context, instanceARN string, principals []store.PrincipalRef, accountID, after string, limit int) ([]store.AccountAssignment, error) {
	refs := slices.Clone(principals)
	slices.SortFunc(refs, func(a, b store.PrincipalRef) int {
		return cmp.Or(strings.Compare(a.Type, b.Type), strings.Compare(a.ID, b.ID))
	})
	refs = slices.Compact(refs)
	var out []store.AccountAssignment
	for chunk := range slices.Chunk(refs, principalsPerQuery) {
		list, err := t.assignmentsOfPrincipals(ctx, instanceARN, chunk, accountID, after, limit)
		if err != nil {
			return nil, err
		}
		out = append(out, list...)
	}
	if len(refs) > principalsPerQuery { // each query's answer is in order, not all of them together
		slices.SortFunc(out, func(a, b store.AccountAssignment) int { return strings.Compare(a.Key(), b.Key()) })
		out = out[:min(limit, len(out))]
	}
	return out, nil
}

// assignmentsOfPrincipals is one branch per principal, each an equality
// lookup on the principal index, so no planner estimate (PostgreSQL's
// generic plans, tables not yet analyzed) can turn it into a scan of the
// instance's assignments, as an IN list can. Branches are padded to a power
// of two with a principal that matches nothing, so that the statements
// come in a few lengths and so do their prepared statements.
//
// The order is Key()'s, and within a branch (one principal) the principal
// index's: each branch reads its index from the page's first account on, in
// order, and the merge stops at the limit, instead of every branch sorting
// all its principal's assignments on every page. The limit is bound first,
// in a CTE: SQLite re-prepares a statement at every run when its LIMIT is a
// parameter numbered above 31 (those share one re-prepare-on-bind bit), and
// here that costs more than the query.
func (t *tx) assignmentsOfPrincipals(ctx context.Context, instanceARN string, principals []store.PrincipalRef, accountID, after string, limit int) ([]store.AccountAssignment, error) {
	q, args, err := principalsQuery(instanceARN, principals, accountID, after, limit)
	if err != nil {
		return nil, err
	}
	rows, err := t.rows(ctx, q, args...)
	return collect(rows, err, func(r *sql.Rows) (store.AccountAssignment, error) { return scanAssignment(r) })
}

// principalsQuery is assignmentsOfPrincipals' statement and its arguments.
func principalsQuery(instanceARN string, principals []store.PrincipalRef, accountID, after string, limit int) (string, []any, error) {
	c, err := cursorOf(after)
	if err != nil {
		return "", nil, err
	}
	branch := `SELECT ` + assignmentCols + ` FROM account_assignments WHERE instance_arn = ? AND principal_type = ? AND principal_id = ?`
	fromAccount := accountID
	if accountID != "" {
		branch += ` AND account_id = ?`
	} else {
		branch += ` AND account_id >= ?`
		fromAccount = c[0]
	}
	if after != "" { // the first page, the common one (the portal's), compares nothing
		branch += ` AND (account_id, permission_set_arn, principal_type, principal_id) > (?, ?, ?, ?)`
	}
	n := 1 << bits.Len(uint(len(principals)-1))
	var q strings.Builder
	args := []any{limit}
	q.WriteString(`WITH page (size) AS (SELECT CAST(? AS INTEGER)) `)
	for i := range n {
		var p store.PrincipalRef // none has an empty type
		if i < len(principals) {
			p = principals[i]
		}
		if i > 0 {
			q.WriteString(` UNION ALL `)
		}
		q.WriteString(branch)
		args = append(args, instanceARN, p.Type, p.ID, fromAccount)
		if after != "" {
			args = append(args, c[0], c[1], c[2], c[3])
		}
	}
	q.WriteString(` ORDER BY account_id, permission_set_arn, principal_type, principal_id LIMIT (SELECT size FROM page)`)
	return q.String(), args, nil
}

func (t *tx) CountAssignments(ctx context.Context, instanceARN, accountID, permissionSetARN string) (int, error) {
	var n int
	err := t.row(ctx, `SELECT COUNT(*) FROM account_assignments WHERE instance_arn = ? AND account_id = ? AND permission_set_arn = ?`,
		instanceARN, accountID, permissionSetARN).Scan(&n)
	return n, err
}

// deletePrincipalAssignments deletes a deleted principal's assignments in
// every instance over its identity store.
func (t *tx) deletePrincipalAssignments(ctx context.Context, identityStoreID, principalType, id string) error {
	_, err := t.exec(ctx, `DELETE FROM account_assignments WHERE instance_arn IN (SELECT arn FROM instances WHERE identity_store_id = ?)
		AND principal_type = ? AND principal_id = ?`, identityStoreID, principalType, id)
	return err
}

// --- provisioning

// provisionedFrom joins the permission set so that Outdated is computed,
// and filtered on, by the database.
const provisionedFrom = `SELECT p.instance_arn, p.account_id, p.permission_set_arn, p.role_name, p.version, p.version < ps.version, p.provisioned_at
	FROM provisioned_permission_sets p JOIN permission_sets ps ON ps.instance_arn = p.instance_arn AND ps.arn = p.permission_set_arn`

func scanProvisioned(r scanner) (store.Provisioned, error) {
	var p store.Provisioned
	var at int64
	err := r.Scan(&p.InstanceARN, &p.AccountID, &p.PermissionSetARN, &p.RoleName, &p.Version, &p.Outdated, &at)
	p.ProvisionedAt = fromMS(at)
	return p, err
}

func (t *tx) PutProvisioned(ctx context.Context, p store.Provisioned) error {
	if err := t.lockPermissionSet(ctx, t.db.dialect.ForShare, p.InstanceARN, p.PermissionSetARN); err != nil {
		return err
	}
	_, err := t.exec(ctx, `INSERT INTO provisioned_permission_sets (instance_arn, permission_set_arn, account_id, role_name, version, provisioned_at)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (instance_arn, permission_set_arn, account_id)
		DO UPDATE SET role_name = excluded.role_name, version = excluded.version, provisioned_at = excluded.provisioned_at`,
		p.InstanceARN, p.PermissionSetARN, p.AccountID, p.RoleName, p.Version, ms(p.ProvisionedAt))
	return err
}

func (t *tx) GetProvisioned(ctx context.Context, instanceARN, accountID, permissionSetARN string) (*store.Provisioned, error) {
	p, err := scanProvisioned(t.row(ctx, provisionedFrom+` WHERE p.instance_arn = ? AND p.permission_set_arn = ? AND p.account_id = ?`,
		instanceARN, permissionSetARN, accountID))
	if err != nil {
		return nil, notFound(err)
	}
	return &p, nil
}

func (t *tx) DeleteProvisioned(ctx context.Context, instanceARN, accountID, permissionSetARN string) error {
	return mustAffect(t.exec(ctx, `DELETE FROM provisioned_permission_sets WHERE instance_arn = ? AND permission_set_arn = ? AND account_id = ?`,
		instanceARN, permissionSetARN, accountID))
}

// outdatedFilter is the SQL condition for ListProvisioned*'s outdated argument.
func outdatedFilter(outdated *bool) string {
	switch {
	case outdated == nil:
		return ``
	case *outdated:
		return ` AND p.version < ps.version`
	default:
		return ` AND p.version >= ps.version`
	}
}

func (t *tx) ListProvisionedAccounts(ctx context.Context, instanceARN, permissionSetARN string, outdated *bool, after string, limit int) ([]store.Provisioned, error) {
	rows, err := t.rows(ctx, provisionedFrom+` WHERE p.instance_arn = ? AND p.permission_set_arn = ? AND p.account_id > ?`+outdatedFilter(outdated)+
		` ORDER BY p.account_id LIMIT ?`, instanceARN, permissionSetARN, after, limit)
	return collect(rows, err, func(r *sql.Rows) (store.Provisioned, error) { return scanProvisioned(r) })
}

func (t *tx) ListProvisionedPermissionSets(ctx context.Context, instanceARN, accountID string, outdated *bool, after string, limit int) ([]store.Provisioned, error) {
	rows, err := t.rows(ctx, provisionedFrom+` WHERE p.instance_arn = ? AND p.account_id = ? AND p.permission_set_arn > ?`+outdatedFilter(outdated)+
		` ORDER BY p.permission_set_arn LIMIT ?`, instanceARN, accountID, after, limit)
	return collect(rows, err, func(r *sql.Rows) (store.Provisioned, error) { return scanProvisioned(r) })
}

func (t *tx) DeleteAccountAccess(ctx context.Context, accountID string) error {
	// instance_arn IN (…) lets both deletes use their by-account index.
	for _, table := range []string{"account_assignments", "provisioned_permission_sets"} {
		_, err := t.exec(ctx, `DELETE FROM `+table+` WHERE instance_arn IN (SELECT arn FROM instances) AND account_id = ?`, accountID)
		if err != nil {
			return err
		}
	}
	return nil
}

// --- access requests

const accessRequestCols = `instance_arn, kind, id, status, failure_reason, target_id, target_type, permission_set_arn, principal_type,
	principal_id, created_at, completed_at`

func scanAccessRequest(r scanner) (store.AccessRequest, error) {
	var a store.AccessRequest
	var created, completed int64
	err := r.Scan(&a.InstanceARN, &a.Kind, &a.ID, &a.Status, &a.FailureReason, &a.TargetID, &a.TargetType, &a.PermissionSetARN,
		&a.PrincipalType, &a.PrincipalID, &created, &completed)
	a.CreatedAt, a.CompletedAt = fromMS(created), fromMS(completed)
	return a, err
}

func (t *tx) InsertAccessRequest(ctx context.Context, r store.AccessRequest) error {
	_, err := t.exec(ctx, `INSERT INTO access_requests (`+accessRequestCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.InstanceARN, r.Kind, r.ID, r.Status, r.FailureReason, r.TargetID, r.TargetType, r.PermissionSetARN, r.PrincipalType, r.PrincipalID,
		ms(r.CreatedAt), ms(r.CompletedAt))
	return err
}

func (t *tx) accessRequest(ctx context.Context, lock, instanceARN, kind, id string) (*store.AccessRequest, error) {
	r, err := scanAccessRequest(t.row(ctx, `SELECT `+accessRequestCols+` FROM access_requests WHERE instance_arn = ? AND kind = ? AND id = ?`+lock,
		instanceARN, kind, id))
	if err != nil {
		return nil, notFound(err)
	}
	return &r, nil
}

func (t *tx) GetAccessRequest(ctx context.Context, instanceARN, kind, id string) (*store.AccessRequest, error) {
	return t.accessRequest(ctx, "", instanceARN, kind, id)
}

func (t *tx) ListAccessRequests(ctx context.Context, instanceARN, kind, status, after string, limit int) ([]store.AccessRequest, error) {
	q := `SELECT ` + accessRequestCols + ` FROM access_requests WHERE instance_arn = ? AND kind = ? AND id > ?`
	args := []any{instanceARN, kind, after}
	if status != "" {
		q += ` AND status = ?`
		args = append(args, status)
	}
	q += ` ORDER BY id LIMIT ?`
	args = append(args, limit)
	rows, err := t.rows(ctx, q, args...)
	return collect(rows, err, func(r *sql.Rows) (store.AccessRequest, error) { return scanAccessRequest(r) })
}

func (t *tx) SettleAccessRequest(ctx context.Context, instanceARN, kind, id string, fn func(*store.AccessRequest) error) (*store.AccessRequest, error) {
	r, err := t.accessRequest(ctx, t.db.dialect.ForUpdate, instanceARN, kind, id)
	if err != nil {
		return nil, err
	}
	outcome := *r
	if err := fn(&outcome); err != nil {
		return nil, err
	}
	r.Status, r.FailureReason, r.CompletedAt = outcome.Status, outcome.FailureReason, outcome.CompletedAt
	// Only the outcome's columns: an index on the others is left alone.
	_, err = t.exec(ctx, `UPDATE access_requests SET status = ?, failure_reason = ?, completed_at = ? WHERE instance_arn = ? AND kind = ? AND id = ?`,
		r.Status, r.FailureReason, ms(r.CompletedAt), instanceARN, kind, id)
	if err != nil {
		return nil, err
	}
	return r, nil
}

// --- attributes for access control

func (t *tx) GetAccessControlAttributes(ctx context.Context, instanceARN string) (*store.AccessControlAttributes, error) {
	c := store.AccessControlAttributes{InstanceARN: instanceARN}
	var attrs string
	var updated int64
	err := t.row(ctx, `SELECT attributes, status, status_reason, updated_at FROM access_control_attributes WHERE instance_arn = ?`, instanceARN).
		Scan(&attrs, &c.Status, &c.StatusReason, &updated)
	if err != nil {
		return nil, notFound(err)
	}
	c.UpdatedAt = fromMS(updated)
	if c.Attributes, err = decodeList[store.AccessControlAttribute](attrs); err != nil {
		return nil, err
	}
	return &c, nil
}

func (t *tx) PutAccessControlAttributes(ctx context.Context, c store.AccessControlAttributes) error {
	_, err := t.exec(ctx, `INSERT INTO access_control_attributes (instance_arn, attributes, status, status_reason, updated_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (instance_arn) DO UPDATE SET attributes = excluded.attributes, status = excluded.status,
		status_reason = excluded.status_reason, updated_at = excluded.updated_at`,
		c.InstanceARN, encodeList(c.Attributes), c.Status, c.StatusReason, ms(c.UpdatedAt))
	return err
}

func (t *tx) DeleteAccessControlAttributes(ctx context.Context, instanceARN string) error {
	return mustAffect(t.exec(ctx, `DELETE FROM access_control_attributes WHERE instance_arn = ?`, instanceARN))
}
