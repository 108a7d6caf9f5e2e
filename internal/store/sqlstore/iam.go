package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"unicode/utf8"

	"github.com/atrium-sso/atrium/internal/store"
)

// --- roles

const roleCols = `account_id, name, path, role_id, assume_role_policy, description, max_session_duration, boundary_arn, inline_policies, managed_by, created_at, updated_at`

func scanRole(r scanner) (store.IAMRole, error) {
	var ro store.IAMRole
	var inline string
	var created, updated int64
	err := r.Scan(&ro.AccountID, &ro.Name, &ro.Path, &ro.RoleID, &ro.AssumeRolePolicy, &ro.Description, &ro.MaxSessionDuration,
		&ro.BoundaryARN, &inline, &ro.ManagedBy, &created, &updated)
	if err != nil {
		return ro, err
	}
	ro.CreatedAt, ro.UpdatedAt = fromMS(created), fromMS(updated)
	if err := json.Unmarshal([]byte(inline), &ro.InlinePolicies); err != nil {
		return ro, err
	}
	if len(ro.InlinePolicies) == 0 {
		ro.InlinePolicies = nil
	}
	return ro, nil
}

func (t *tx) PutRole(ctx context.Context, r store.IAMRole) error {
	inline := []byte("[]")
	if len(r.InlinePolicies) > 0 {
		var err error
		if inline, err = json.Marshal(r.InlinePolicies); err != nil {
			return err
		}
	}
	key := store.NameKey(r.Name)
	// One statement whether the role exists or not, so two provisionings of
	// one role cannot both insert; the existing row keeps its id and creation.
	_, err := t.exec(ctx, `INSERT INTO iam_roles (`+roleCols+`, name_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (account_id, name_key) DO UPDATE SET name = excluded.name, path = excluded.path,
		assume_role_policy = excluded.assume_role_policy, description = excluded.description,
		max_session_duration = excluded.max_session_duration, boundary_arn = excluded.boundary_arn,
		inline_policies = excluded.inline_policies, managed_by = excluded.managed_by, updated_at = excluded.updated_at`,
		r.AccountID, r.Name, r.Path, r.RoleID, r.AssumeRolePolicy, r.Description, r.MaxSessionDuration, r.BoundaryARN, string(inline),
		r.ManagedBy, ms(r.CreatedAt), ms(r.UpdatedAt), key)
	if err != nil {
		return err
	}
	if _, err := t.exec(ctx, `DELETE FROM iam_role_policy_attachments WHERE account_id = ? AND role_name_key = ?`, r.AccountID, key); err != nil {
		return err
	}
	for i, arn := range r.ManagedPolicyARNs {
		_, err := t.exec(ctx, `INSERT INTO iam_role_policy_attachments (account_id, role_name_key, position, policy_arn) VALUES (?, ?, ?, ?)
			ON CONFLICT (account_id, role_name_key, policy_arn) DO NOTHING`, r.AccountID, key, i, arn)
		if err != nil {
			return err
		}
	}
	return nil
}

func (t *tx) GetRole(ctx context.Context, accountID, name string) (*store.IAMRole, error) {
	key := store.NameKey(name)
	r, err := scanRole(t.row(ctx, `SELECT `+roleCols+` FROM iam_roles WHERE account_id = ? AND name_key = ?`, accountID, key))
	if err != nil {
		return nil, notFound(err)
	}
	rows, err := t.rows(ctx, `SELECT policy_arn FROM iam_role_policy_attachments WHERE account_id = ? AND role_name_key = ? ORDER BY position`,
		accountID, key)
	r.ManagedPolicyARNs, err = collect(rows, err, func(r *sql.Rows) (string, error) {
		var arn string
		return arn, r.Scan(&arn)
	})
	if err != nil {
		return nil, err
	}
	return &r, nil
}

func (t *tx) ListRoles(ctx context.Context, accountID, pathPrefix, after string, limit int) ([]store.IAMRole, error) {
	where, args := `account_id = ? AND name_key > ?`, []any{accountID, after}
	if pathPrefix != "" && pathPrefix != "/" {
		where, args = where+` AND `+hasPrefix("path"), append(args, utf8.RuneCountInString(pathPrefix), pathPrefix)
	}
	rows, err := t.rows(ctx, `SELECT `+roleCols+` FROM iam_roles WHERE `+where+` ORDER BY name_key LIMIT ?`, append(args, limit)...)
	roles, err := collect(rows, err, func(r *sql.Rows) (store.IAMRole, error) { return scanRole(r) })
	if err != nil || len(roles) == 0 {
		return roles, err
	}
	// The page's attachments in one query: every role keyed after `after`
	// up to the page's last one (roles the path filter dropped are ignored).
	byKey := make(map[string]*store.IAMRole, len(roles))
	for i := range roles {
		byKey[store.NameKey(roles[i].Name)] = &roles[i]
	}
	type attachment struct{ key, arn string }
	rows, err = t.rows(ctx, `SELECT role_name_key, policy_arn FROM iam_role_policy_attachments
		WHERE account_id = ? AND role_name_key > ? AND role_name_key <= ? ORDER BY role_name_key, position`,
		accountID, after, store.NameKey(roles[len(roles)-1].Name))
	atts, err := collect(rows, err, func(r *sql.Rows) (attachment, error) {
		var a attachment
		return a, r.Scan(&a.key, &a.arn)
	})
	if err != nil {
		return nil, err
	}
	for _, a := range atts {
		if r := byKey[a.key]; r != nil {
			r.ManagedPolicyARNs = append(r.ManagedPolicyARNs, a.arn)
		}
	}
	return roles, nil
}

func (t *tx) DeleteRole(ctx context.Context, accountID, name string) error {
	key := store.NameKey(name)
	if err := mustAffect(t.exec(ctx, `DELETE FROM iam_roles WHERE account_id = ? AND name_key = ?`, accountID, key)); err != nil {
		return err
	}
	_, err := t.exec(ctx, `DELETE FROM iam_role_policy_attachments WHERE account_id = ? AND role_name_key = ?`, accountID, key)
	return err
}

func (t *tx) CountPolicyAttachments(ctx context.Context, accountID, policyARN string) (int, error) {
	var n int
	err := t.row(ctx, `SELECT COUNT(*) FROM iam_role_policy_attachments WHERE account_id = ? AND policy_arn = ?`, accountID, policyARN).Scan(&n)
	return n, err
}

// hasPrefix is a portable "col starts with ?" taking (length, prefix):
// LIKE ignores case in SQLite and not in PostgreSQL, and paths may hold % and _.
func hasPrefix(col string) string { return `substr(` + col + `, 1, ?) = ?` }

// --- customer managed policies

const policyCols = `account_id, arn, name, path, policy_id, description, document, created_at, updated_at`

func scanPolicy(r scanner) (store.IAMPolicy, error) {
	var p store.IAMPolicy
	var created, updated int64
	err := r.Scan(&p.AccountID, &p.ARN, &p.Name, &p.Path, &p.PolicyID, &p.Description, &p.Document, &created, &updated)
	p.CreatedAt, p.UpdatedAt = fromMS(created), fromMS(updated)
	return p, err
}

func (t *tx) InsertPolicy(ctx context.Context, p store.IAMPolicy) error {
	_, err := t.exec(ctx, `INSERT INTO iam_policies (`+policyCols+`, name_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		p.AccountID, p.ARN, p.Name, p.Path, p.PolicyID, p.Description, p.Document, ms(p.CreatedAt), ms(p.UpdatedAt), store.NameKey(p.Name))
	return err
}

func (t *tx) policyWhere(ctx context.Context, where string, args ...any) (*store.IAMPolicy, error) {
	p, err := scanPolicy(t.row(ctx, `SELECT `+policyCols+` FROM iam_policies WHERE `+where, args...))
	if err != nil {
		return nil, notFound(err)
	}
	return &p, nil
}

func (t *tx) GetPolicy(ctx context.Context, arn string) (*store.IAMPolicy, error) {
	return t.policyWhere(ctx, `arn = ?`, arn)
}

// GetPolicyByName locks the policy in a write transaction: a role that
// attaches it then commits before a concurrent DeletePolicy can remove it.
func (t *tx) GetPolicyByName(ctx context.Context, accountID, path, name string) (*store.IAMPolicy, error) {
	lock := ""
	if t.writing() {
		lock = t.db.dialect.ForUpdate
	}
	return t.policyWhere(ctx, `account_id = ? AND name_key = ? AND path = ?`+lock, accountID, store.NameKey(name), path)
}

func (t *tx) ListPolicies(ctx context.Context, accountID, pathPrefix, after string, limit int) ([]store.IAMPolicy, error) {
	where, args := `account_id = ? AND name_key > ?`, []any{accountID, after}
	if pathPrefix != "" && pathPrefix != "/" {
		where, args = where+` AND `+hasPrefix("path"), append(args, utf8.RuneCountInString(pathPrefix), pathPrefix)
	}
	rows, err := t.rows(ctx, `SELECT `+policyCols+` FROM iam_policies WHERE `+where+` ORDER BY name_key LIMIT ?`, append(args, limit)...)
	return collect(rows, err, func(r *sql.Rows) (store.IAMPolicy, error) { return scanPolicy(r) })
}

func (t *tx) DeletePolicy(ctx context.Context, arn string) error {
	return mustAffect(t.exec(ctx, `DELETE FROM iam_policies WHERE arn = ?`, arn))
}
