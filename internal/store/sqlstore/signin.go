package sqlstore

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"time"

	"github.com/atrium-sso/atrium/internal/store"
)

// --- passwords

func (t *tx) GetPassword(ctx context.Context, identityStoreID, userID string) (*store.Password, error) {
	p := store.Password{IdentityStoreID: identityStoreID, UserID: userID}
	var previous string
	var updated int64
	err := t.row(ctx, `SELECT hash, previous, must_change, updated_at FROM signin_passwords WHERE identity_store_id = ? AND user_id = ?`,
		identityStoreID, userID).Scan(&p.Hash, &previous, &p.MustChange, &updated)
	if err != nil {
		return nil, notFound(err)
	}
	p.UpdatedAt = fromMS(updated)
	if err := json.Unmarshal([]byte(previous), &p.Previous); err != nil {
		return nil, err
	}
	return &p, nil
}

func (t *tx) PutPassword(ctx context.Context, p store.Password) error {
	// The user row is held until commit, so a concurrent DeleteUser either
	// runs first (and the user is missing here) or deletes this row after.
	if err := t.lockUser(ctx, p.IdentityStoreID, p.UserID, t.db.dialect.ForShare); err != nil {
		return err
	}
	previous, err := json.Marshal(nonNil(p.Previous))
	if err != nil {
		return err
	}
	_, err = t.exec(ctx, `INSERT INTO signin_passwords (user_id, identity_store_id, hash, previous, must_change, updated_at) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (user_id) DO UPDATE SET hash = excluded.hash, previous = excluded.previous, must_change = excluded.must_change, updated_at = excluded.updated_at`,
		p.UserID, p.IdentityStoreID, p.Hash, string(previous), p.MustChange, ms(p.UpdatedAt))
	return err
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// lockUser checks that the user exists, locking its row with lock.
func (t *tx) lockUser(ctx context.Context, identityStoreID, userID, lock string) error {
	var id string
	err := t.row(ctx, `SELECT id FROM directory_users WHERE identity_store_id = ? AND id = ?`+lock, identityStoreID, userID).Scan(&id)
	if err != nil {
		if notFound(err) == store.ErrNotFound {
			return store.ErrUserMissing
		}
		return err
	}
	return nil
}

// --- MFA devices

const mfaDeviceCols = `id, identity_store_id, user_id, type, name, secret, last_step, credential_id, credential, created_at, last_used_at`

func scanMFADevice(r scanner) (store.MFADevice, error) {
	var d store.MFADevice
	var secret, credID string
	var created, used int64
	err := r.Scan(&d.ID, &d.IdentityStoreID, &d.UserID, &d.Type, &d.Name, &secret, &d.LastStep, &credID, &d.Credential, &created, &used)
	if err != nil {
		return d, err
	}
	d.CreatedAt, d.LastUsedAt = fromMS(created), fromMS(used)
	if d.Secret, err = decodeBytes(secret); err != nil {
		return d, err
	}
	if d.CredentialID, err = decodeBytes(credID); err != nil {
		return d, err
	}
	if len(d.Credential) == 0 {
		d.Credential = nil
	}
	return d, nil
}

func encodeBytes(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

func decodeBytes(s string) ([]byte, error) {
	if s == "" {
		return nil, nil
	}
	return base64.StdEncoding.DecodeString(s)
}

func (t *tx) ListMFADevices(ctx context.Context, identityStoreID, userID string) ([]store.MFADevice, error) {
	rows, err := t.rows(ctx, `SELECT `+mfaDeviceCols+` FROM signin_mfa_devices WHERE identity_store_id = ? AND user_id = ? ORDER BY created_at, id`,
		identityStoreID, userID)
	return collect(rows, err, func(r *sql.Rows) (store.MFADevice, error) { return scanMFADevice(r) })
}

func (t *tx) InsertMFADevice(ctx context.Context, d store.MFADevice, limit int) error {
	// Locking the user serialises this user's device inserts: the count below
	// cannot be passed by two racing inserts.
	if err := t.lockUser(ctx, d.IdentityStoreID, d.UserID, t.db.dialect.ForUpdate); err != nil {
		return err
	}
	var n int
	err := t.row(ctx, `SELECT COUNT(*) FROM signin_mfa_devices WHERE identity_store_id = ? AND user_id = ? AND type = ?`,
		d.IdentityStoreID, d.UserID, d.Type).Scan(&n)
	if err != nil {
		return err
	}
	if n >= limit {
		return store.ErrLimitReached
	}
	_, err = t.exec(ctx, `INSERT INTO signin_mfa_devices (`+mfaDeviceCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		d.ID, d.IdentityStoreID, d.UserID, d.Type, d.Name, encodeBytes(d.Secret), d.LastStep, encodeBytes(d.CredentialID), string(d.Credential),
		ms(d.CreatedAt), ms(d.LastUsedAt))
	return err
}

func (t *tx) UpdateMFADevice(ctx context.Context, identityStoreID, userID, id string, fn func(*store.MFADevice) error) (*store.MFADevice, error) {
	d, err := scanMFADevice(t.row(ctx, `SELECT `+mfaDeviceCols+` FROM signin_mfa_devices WHERE identity_store_id = ? AND user_id = ? AND id = ?`+t.db.dialect.ForUpdate,
		identityStoreID, userID, id))
	if err != nil {
		return nil, notFound(err)
	}
	old := d
	if err := fn(&d); err != nil {
		return nil, err
	}
	d.ID, d.IdentityStoreID, d.UserID, d.Type, d.Secret, d.CredentialID, d.CreatedAt = old.ID, old.IdentityStoreID, old.UserID, old.Type, old.Secret, old.CredentialID, old.CreatedAt
	_, err = t.exec(ctx, `UPDATE signin_mfa_devices SET name = ?, last_step = ?, credential = ?, last_used_at = ? WHERE id = ?`,
		d.Name, d.LastStep, string(d.Credential), ms(d.LastUsedAt), id)
	if err != nil {
		return nil, err
	}
	return &d, nil
}

func (t *tx) DeleteMFADevice(ctx context.Context, identityStoreID, userID, id string) error {
	return mustAffect(t.exec(ctx, `DELETE FROM signin_mfa_devices WHERE identity_store_id = ? AND user_id = ? AND id = ?`, identityStoreID, userID, id))
}

// deleteSigninReferences deletes a deleted user's password and devices.
func (t *tx) deleteSigninReferences(ctx context.Context, identityStoreID, userID string) error {
	if _, err := t.exec(ctx, `DELETE FROM signin_passwords WHERE identity_store_id = ? AND user_id = ?`, identityStoreID, userID); err != nil {
		return err
	}
	_, err := t.exec(ctx, `DELETE FROM signin_mfa_devices WHERE identity_store_id = ? AND user_id = ?`, identityStoreID, userID)
	return err
}

// --- throttles

const throttleCols = `key, failures, window_start, locked_until, lockouts, updated_at`

func scanThrottle(r scanner) (store.Throttle, error) {
	var th store.Throttle
	var start, locked, updated int64
	err := r.Scan(&th.Key, &th.Failures, &start, &locked, &th.Lockouts, &updated)
	th.WindowStart, th.LockedUntil, th.UpdatedAt = fromMS(start), fromMS(locked), fromMS(updated)
	return th, err
}

func (t *tx) GetThrottle(ctx context.Context, key string) (*store.Throttle, error) {
	th, err := scanThrottle(t.row(ctx, `SELECT `+throttleCols+` FROM signin_throttles WHERE key = ?`, key))
	if err != nil {
		return nil, notFound(err)
	}
	return &th, nil
}

func (t *tx) UpdateThrottle(ctx context.Context, key string, fn func(*store.Throttle) error) (*store.Throttle, error) {
	// Create the row first so that racing first failures lock the same row
	// instead of one of them failing on the primary key.
	_, err := t.exec(ctx, `INSERT INTO signin_throttles (`+throttleCols+`) VALUES (?, 0, 0, 0, 0, 0) ON CONFLICT (key) DO NOTHING`, key)
	if err != nil {
		return nil, err
	}
	th, err := scanThrottle(t.row(ctx, `SELECT `+throttleCols+` FROM signin_throttles WHERE key = ?`+t.db.dialect.ForUpdate, key))
	if err != nil {
		return nil, notFound(err)
	}
	if err := fn(&th); err != nil {
		return nil, err
	}
	th.Key = key
	_, err = t.exec(ctx, `UPDATE signin_throttles SET failures = ?, window_start = ?, locked_until = ?, lockouts = ?, updated_at = ? WHERE key = ?`,
		th.Failures, ms(th.WindowStart), ms(th.LockedUntil), th.Lockouts, ms(th.UpdatedAt), key)
	if err != nil {
		return nil, err
	}
	return &th, nil
}

func (t *tx) DeleteThrottlesBefore(ctx context.Context, before time.Time) (int, error) {
	res, err := t.exec(ctx, `DELETE FROM signin_throttles WHERE updated_at < ?`, ms(before))
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// --- settings

func (t *tx) ListSettings(ctx context.Context) (map[string]string, error) {
	rows, err := t.rows(ctx, `SELECT key, value FROM instance_settings`)
	kvs, err := collect(rows, err, func(r *sql.Rows) ([2]string, error) {
		var kv [2]string
		return kv, r.Scan(&kv[0], &kv[1])
	})
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(kvs))
	for _, kv := range kvs {
		out[kv[0]] = kv[1]
	}
	return out, nil
}

func (t *tx) PutSetting(ctx context.Context, key, value string) error {
	_, err := t.exec(ctx, `INSERT INTO instance_settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, value)
	return err
}
