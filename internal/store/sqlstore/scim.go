package sqlstore

import (
	"context"
	"database/sql"
	"time"

	"github.com/atrium-sso/atrium/internal/store"
)

const scimTokenCols = `id, identity_store_id, source_id, token_hash, created_at, created_by, expires_at, revoked_at`

func scanScimToken(r scanner) (store.ScimToken, error) {
	var t store.ScimToken
	var created, expires, revoked int64
	err := r.Scan(&t.ID, &t.IdentityStoreID, &t.SourceID, &t.TokenHash, &created, &t.CreatedBy, &expires, &revoked)
	t.CreatedAt, t.ExpiresAt, t.RevokedAt = fromMS(created), fromMS(expires), fromMS(revoked)
	return t, err
}

func (t *tx) InsertScimToken(ctx context.Context, tok store.ScimToken, maxLive int) error {
	// Expired tokens give their slot back before one is picked.
	if _, err := t.exec(ctx, `UPDATE scim_tokens SET slot = NULL WHERE identity_store_id = ? AND slot IS NOT NULL AND expires_at <= ?`,
		tok.IdentityStoreID, ms(tok.CreatedAt)); err != nil {
		return err
	}
	rows, err := t.rows(ctx, `SELECT slot FROM scim_tokens WHERE identity_store_id = ? AND slot IS NOT NULL`, tok.IdentityStoreID)
	held, err := collect(rows, err, func(r *sql.Rows) (int, error) {
		var n int
		return n, r.Scan(&n)
	})
	if err != nil {
		return err
	}
	slot := 0
	for s := 1; s <= maxLive && slot == 0; s++ {
		free := true
		for _, h := range held {
			free = free && h != s
		}
		if free {
			slot = s
		}
	}
	if slot == 0 {
		return store.ErrConflict
	}
	// A concurrent insert that picked the same slot fails on UNIQUE (store, slot).
	_, err = t.exec(ctx, `INSERT INTO scim_tokens (`+scimTokenCols+`, slot) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		tok.ID, tok.IdentityStoreID, tok.SourceID, tok.TokenHash, ms(tok.CreatedAt), tok.CreatedBy, ms(tok.ExpiresAt), ms(tok.RevokedAt), slot)
	return err
}

func (t *tx) GetScimTokenByHash(ctx context.Context, tokenHash string) (*store.ScimToken, error) {
	tok, err := scanScimToken(t.row(ctx, `SELECT `+scimTokenCols+` FROM scim_tokens WHERE token_hash = ?`, tokenHash))
	if err != nil {
		return nil, notFound(err)
	}
	return &tok, nil
}

func (t *tx) ListScimTokens(ctx context.Context, identityStoreID string) ([]store.ScimToken, error) {
	rows, err := t.rows(ctx, `SELECT `+scimTokenCols+` FROM scim_tokens WHERE identity_store_id = ? ORDER BY id`, identityStoreID)
	return collect(rows, err, func(r *sql.Rows) (store.ScimToken, error) { return scanScimToken(r) })
}

func (t *tx) RevokeScimToken(ctx context.Context, identityStoreID, id string, at time.Time) error {
	var revoked int64
	err := t.row(ctx, `SELECT revoked_at FROM scim_tokens WHERE identity_store_id = ? AND id = ?`+t.db.dialect.ForUpdate, identityStoreID, id).Scan(&revoked)
	if err != nil {
		return notFound(err)
	}
	if revoked == 0 {
		revoked = ms(at)
	}
	return mustAffect(t.exec(ctx, `UPDATE scim_tokens SET revoked_at = ?, slot = NULL WHERE identity_store_id = ? AND id = ?`, revoked, identityStoreID, id))
}

func (t *tx) CountUsers(ctx context.Context, identityStoreID string) (int, error) {
	var n int
	err := t.row(ctx, `SELECT COUNT(*) FROM directory_users WHERE identity_store_id = ?`, identityStoreID).Scan(&n)
	return n, err
}

func (t *tx) ListUsersAt(ctx context.Context, identityStoreID string, offset, limit int) ([]store.User, error) {
	rows, err := t.rows(ctx, `SELECT `+userCols+` FROM directory_users WHERE identity_store_id = ? ORDER BY id LIMIT ? OFFSET ?`, identityStoreID, limit, offset)
	return collect(rows, err, func(r *sql.Rows) (store.User, error) { return scanUser(r) })
}

func (t *tx) CountGroups(ctx context.Context, identityStoreID string) (int, error) {
	var n int
	err := t.row(ctx, `SELECT COUNT(*) FROM directory_groups WHERE identity_store_id = ?`, identityStoreID).Scan(&n)
	return n, err
}

func (t *tx) ListGroupsAt(ctx context.Context, identityStoreID string, offset, limit int) ([]store.Group, error) {
	rows, err := t.rows(ctx, `SELECT `+groupCols+` FROM directory_groups WHERE identity_store_id = ? ORDER BY id LIMIT ? OFFSET ?`, identityStoreID, limit, offset)
	return collect(rows, err, func(r *sql.Rows) (store.Group, error) { return scanGroup(r) })
}
