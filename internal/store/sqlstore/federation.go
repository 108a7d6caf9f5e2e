package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"time"

	"github.com/atrium-sso/atrium/internal/store"
)

const sourceCols = `identity_store_id, id, name, kind, enabled, email_domains, mfa, jit, config, created_at, updated_at`

func scanSource(r scanner) (store.IdentitySource, error) {
	var s store.IdentitySource
	var domains, config string
	var created, updated int64
	err := r.Scan(&s.IdentityStoreID, &s.ID, &s.Name, &s.Kind, &s.Enabled, &domains, &s.MFA, &s.JIT, &config, &created, &updated)
	if err != nil {
		return s, err
	}
	s.Config, s.CreatedAt, s.UpdatedAt = []byte(config), fromMS(created), fromMS(updated)
	return s, json.Unmarshal([]byte(domains), &s.EmailDomains)
}

func encodeDomains(d []string) string {
	if len(d) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(d)
	return string(b)
}

func (t *tx) InsertIdentitySource(ctx context.Context, s store.IdentitySource) error {
	_, err := t.exec(ctx, `INSERT INTO identity_sources (`+sourceCols+`, name_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		s.IdentityStoreID, s.ID, s.Name, s.Kind, s.Enabled, encodeDomains(s.EmailDomains), s.MFA, s.JIT, string(s.Config),
		ms(s.CreatedAt), ms(s.UpdatedAt), store.NameKey(s.Name))
	return err
}

func (t *tx) sourceWhere(ctx context.Context, where string, args ...any) (*store.IdentitySource, error) {
	s, err := scanSource(t.row(ctx, `SELECT `+sourceCols+` FROM identity_sources WHERE `+where, args...))
	if err != nil {
		return nil, notFound(err)
	}
	return &s, nil
}

func (t *tx) GetIdentitySource(ctx context.Context, identityStoreID, id string) (*store.IdentitySource, error) {
	return t.sourceWhere(ctx, `identity_store_id = ? AND id = ?`, identityStoreID, id)
}

func (t *tx) GetIdentitySourceByName(ctx context.Context, identityStoreID, name string) (*store.IdentitySource, error) {
	return t.sourceWhere(ctx, `identity_store_id = ? AND name_key = ?`, identityStoreID, store.NameKey(name))
}

func (t *tx) ListIdentitySources(ctx context.Context, identityStoreID string) ([]store.IdentitySource, error) {
	rows, err := t.rows(ctx, `SELECT `+sourceCols+` FROM identity_sources WHERE identity_store_id = ? ORDER BY name_key`, identityStoreID)
	return collect(rows, err, func(r *sql.Rows) (store.IdentitySource, error) { return scanSource(r) })
}

func (t *tx) UpdateIdentitySource(ctx context.Context, identityStoreID, id string, fn func(*store.IdentitySource) error) (*store.IdentitySource, error) {
	old, err := t.sourceWhere(ctx, `identity_store_id = ? AND id = ?`+t.db.dialect.ForUpdate, identityStoreID, id)
	if err != nil {
		return nil, err
	}
	s := *old
	if err := fn(&s); err != nil {
		return nil, err
	}
	s.IdentityStoreID, s.ID, s.CreatedAt = old.IdentityStoreID, old.ID, old.CreatedAt
	_, err = t.exec(ctx, `UPDATE identity_sources SET name = ?, name_key = ?, kind = ?, enabled = ?, email_domains = ?, mfa = ?, jit = ?, config = ?,
		updated_at = ? WHERE identity_store_id = ? AND id = ?`,
		s.Name, store.NameKey(s.Name), s.Kind, s.Enabled, encodeDomains(s.EmailDomains), s.MFA, s.JIT, string(s.Config), ms(s.UpdatedAt),
		identityStoreID, id)
	if err != nil {
		return nil, err
	}
	return &s, nil
}

func (t *tx) DeleteIdentitySource(ctx context.Context, identityStoreID, id string) error {
	return mustAffect(t.exec(ctx, `DELETE FROM identity_sources WHERE identity_store_id = ? AND id = ?`, identityStoreID, id))
}

func (t *tx) CountSourceUsers(ctx context.Context, identityStoreID, sourceID string) (int, error) {
	var n int
	err := t.row(ctx, `SELECT COUNT(*) FROM directory_users WHERE identity_store_id = ? AND source_id = ?`, identityStoreID, sourceID).Scan(&n)
	return n, err
}

func (t *tx) UseOnce(ctx context.Context, key string, expires time.Time) (bool, error) {
	// An expired mark may be taken again; a live one is left alone (no row affected).
	res, err := t.exec(ctx, `INSERT INTO single_use (key, expires_at) VALUES (?, ?)
		ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at WHERE single_use.expires_at <= ?`,
		key, ms(expires), ms(time.Now()))
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

func (t *tx) DeleteUsedBefore(ctx context.Context, before time.Time) (int, error) {
	res, err := t.exec(ctx, `DELETE FROM single_use WHERE expires_at < ?`, ms(before))
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
}
