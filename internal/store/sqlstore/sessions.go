package sqlstore

import (
	"context"
	"time"

	"github.com/atrium-sso/atrium/internal/store"
)

// --- session credentials

const sessionCredentialCols = `access_key_id, secret, session_token_hash, account_id, role_arn, assumed_role_arn, assumed_role_id,
	session_name, source_arn, session_id, expires_at, created_at`

func (t *tx) InsertSessionCredential(ctx context.Context, c store.SessionCredential) error {
	_, err := t.exec(ctx, `INSERT INTO session_credentials (`+sessionCredentialCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.AccessKeyID, c.Secret, c.SessionTokenHash, c.AccountID, c.RoleARN, c.AssumedRoleARN, c.AssumedRoleID,
		c.SessionName, c.SourceARN, c.SessionID, ms(c.ExpiresAt), ms(c.CreatedAt))
	return err
}

func (t *tx) GetSessionCredential(ctx context.Context, accessKeyID string) (*store.SessionCredential, error) {
	var c store.SessionCredential
	var expires, created int64
	err := t.row(ctx, `SELECT `+sessionCredentialCols+` FROM session_credentials WHERE access_key_id = ?`, accessKeyID).
		Scan(&c.AccessKeyID, &c.Secret, &c.SessionTokenHash, &c.AccountID, &c.RoleARN, &c.AssumedRoleARN, &c.AssumedRoleID,
			&c.SessionName, &c.SourceARN, &c.SessionID, &expires, &created)
	if err != nil {
		return nil, notFound(err)
	}
	c.ExpiresAt, c.CreatedAt = fromMS(expires), fromMS(created)
	return &c, nil
}

func (t *tx) DeleteExpiredSessionCredentials(ctx context.Context, before time.Time) (int, error) {
	res, err := t.exec(ctx, `DELETE FROM session_credentials WHERE expires_at < ?`, ms(before))
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
}
