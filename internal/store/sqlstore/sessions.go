package sqlstore

import (
	"context"
	"encoding/json"
	"time"

	"github.com/atrium-sso/atrium/internal/store"
)

// --- session credentials

const sessionCredentialCols = `access_key_id, secret, session_token_hash, account_id, role_arn, assumed_role_arn, assumed_role_id,
	session_name, source_arn, session_id, expires_at, created_at, origin_arn, tags`

func (t *tx) InsertSessionCredential(ctx context.Context, c store.SessionCredential) error {
	_, err := t.exec(ctx, `INSERT INTO session_credentials (`+sessionCredentialCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.AccessKeyID, c.Secret, c.SessionTokenHash, c.AccountID, c.RoleARN, c.AssumedRoleARN, c.AssumedRoleID,
		c.SessionName, c.SourceARN, c.SessionID, ms(c.ExpiresAt), ms(c.CreatedAt), c.OriginARN, encodeTags(c.Tags))
	return err
}

func (t *tx) GetSessionCredential(ctx context.Context, accessKeyID string) (*store.SessionCredential, error) {
	var c store.SessionCredential
	var expires, created int64
	var tags string
	err := t.row(ctx, `SELECT `+sessionCredentialCols+` FROM session_credentials WHERE access_key_id = ?`, accessKeyID).
		Scan(&c.AccessKeyID, &c.Secret, &c.SessionTokenHash, &c.AccountID, &c.RoleARN, &c.AssumedRoleARN, &c.AssumedRoleID,
			&c.SessionName, &c.SourceARN, &c.SessionID, &expires, &created, &c.OriginARN, &tags)
	if err != nil {
		return nil, notFound(err)
	}
	c.ExpiresAt, c.CreatedAt = fromMS(expires), fromMS(created)
	c.Tags, err = decodeTags(tags)
	return &c, err
}

func (t *tx) DeleteExpiredSessionCredentials(ctx context.Context, before time.Time) (int, error) {
	res, err := t.exec(ctx, `DELETE FROM session_credentials WHERE expires_at < ?`, ms(before))
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// encodeTags and decodeTags keep session tags as a JSON object.
func encodeTags(tags map[string]string) string {
	if len(tags) == 0 {
		return "{}"
	}
	b, _ := json.Marshal(tags)
	return string(b)
}

func decodeTags(s string) (map[string]string, error) {
	if s == "{}" || s == "" {
		return nil, nil
	}
	var tags map[string]string
	return tags, json.Unmarshal([]byte(s), &tags)
}
