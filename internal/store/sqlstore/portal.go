package sqlstore

import (
	"context"
	"database/sql"
	"time"

	"github.com/atrium-sso/atrium/internal/store"
)

// --- sign-in sessions

const signInSessionCols = `id, token_hash, identity_store_id, user_id, user_name, methods, source_ip, user_agent, created_at, expires_at, revoked_at, tags`

func scanSignInSession(r scanner) (store.SignInSession, error) {
	var s store.SignInSession
	var methods, tags string
	var created, expires, revoked int64
	err := r.Scan(&s.ID, &s.TokenHash, &s.IdentityStoreID, &s.UserID, &s.UserName, &methods, &s.SourceIP, &s.UserAgent,
		&created, &expires, &revoked, &tags)
	if err != nil {
		return s, err
	}
	s.CreatedAt, s.ExpiresAt, s.RevokedAt = fromMS(created), fromMS(expires), fromMS(revoked)
	if s.Methods, err = decodeList[string](methods); err != nil {
		return s, err
	}
	s.Tags, err = decodeTags(tags)
	return s, err
}

func (t *tx) InsertSignInSession(ctx context.Context, s store.SignInSession) error {
	_, err := t.exec(ctx, `INSERT INTO portal_sessions (`+signInSessionCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		s.ID, s.TokenHash, s.IdentityStoreID, s.UserID, s.UserName, encodeList(s.Methods), s.SourceIP, s.UserAgent,
		ms(s.CreatedAt), ms(s.ExpiresAt), ms(s.RevokedAt), encodeTags(s.Tags))
	return err
}

func (t *tx) GetSignInSession(ctx context.Context, id string) (*store.SignInSession, error) {
	s, err := scanSignInSession(t.row(ctx, `SELECT `+signInSessionCols+` FROM portal_sessions WHERE id = ?`, id))
	if err != nil {
		return nil, notFound(err)
	}
	return &s, nil
}

func (t *tx) GetSignInSessionByToken(ctx context.Context, tokenHash string) (*store.SignInSession, error) {
	s, err := scanSignInSession(t.row(ctx, `SELECT `+signInSessionCols+` FROM portal_sessions WHERE token_hash = ?`, tokenHash))
	if err != nil {
		return nil, notFound(err)
	}
	return &s, nil
}

func (t *tx) ListSignInSessions(ctx context.Context, identityStoreID, userID string, now time.Time, after string, limit int) ([]store.SignInSession, error) {
	q := `SELECT ` + signInSessionCols + ` FROM portal_sessions WHERE identity_store_id = ? AND revoked_at = 0 AND expires_at > ? AND id > ?`
	args := []any{identityStoreID, ms(now), after}
	if userID != "" {
		q += ` AND user_id = ?`
		args = append(args, userID)
	}
	q += ` ORDER BY id LIMIT ?`
	args = append(args, limit)
	rows, err := t.rows(ctx, q, args...)
	return collect(rows, err, func(r *sql.Rows) (store.SignInSession, error) { return scanSignInSession(r) })
}

func (t *tx) RevokeSignInSession(ctx context.Context, id string, at time.Time) error {
	var revoked int64
	if err := t.row(ctx, `SELECT revoked_at FROM portal_sessions WHERE id = ?`+t.db.dialect.ForUpdate, id).Scan(&revoked); err != nil {
		return notFound(err)
	}
	if revoked != 0 {
		return nil
	}
	_, err := t.exec(ctx, `UPDATE portal_sessions SET revoked_at = ? WHERE id = ?`, ms(at), id)
	return err
}

func (t *tx) RevokeUserSignInSessions(ctx context.Context, identityStoreID, userID string, at time.Time) (int, error) {
	res, err := t.exec(ctx, `UPDATE portal_sessions SET revoked_at = ? WHERE identity_store_id = ? AND user_id = ? AND revoked_at = 0`,
		ms(at), identityStoreID, userID)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// deletePortalReferences deletes a deleted user's sign-in sessions; the
// tokens and credentials issued from them fail with them.
func (t *tx) deletePortalReferences(ctx context.Context, identityStoreID, userID string) error {
	_, err := t.exec(ctx, `DELETE FROM portal_sessions WHERE identity_store_id = ? AND user_id = ?`, identityStoreID, userID)
	return err
}

// --- OAuth clients

const oauthClientCols = `id, secret_hash, name, client_type, scopes, redirect_uris, grant_types, issuer_url, created_at, secret_expires_at`

func (t *tx) InsertOAuthClient(ctx context.Context, c store.OAuthClient) error {
	_, err := t.exec(ctx, `INSERT INTO oauth_clients (`+oauthClientCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.ID, c.SecretHash, c.Name, c.Type, encodeList(c.Scopes), encodeList(c.RedirectURIs), encodeList(c.GrantTypes), c.IssuerURL,
		ms(c.CreatedAt), ms(c.SecretExpiresAt))
	return err
}

func (t *tx) GetOAuthClient(ctx context.Context, id string) (*store.OAuthClient, error) {
	var c store.OAuthClient
	var scopes, uris, grants string
	var created, expires int64
	err := t.row(ctx, `SELECT `+oauthClientCols+` FROM oauth_clients WHERE id = ?`, id).Scan(&c.ID, &c.SecretHash, &c.Name, &c.Type,
		&scopes, &uris, &grants, &c.IssuerURL, &created, &expires)
	if err != nil {
		return nil, notFound(err)
	}
	c.CreatedAt, c.SecretExpiresAt = fromMS(created), fromMS(expires)
	if c.Scopes, err = decodeList[string](scopes); err != nil {
		return nil, err
	}
	if c.RedirectURIs, err = decodeList[string](uris); err != nil {
		return nil, err
	}
	if c.GrantTypes, err = decodeList[string](grants); err != nil {
		return nil, err
	}
	return &c, nil
}

// --- device authorizations

const deviceAuthorizationCols = `device_code_hash, user_code, client_id, start_url, status, session_id, family_id, interval_seconds,
	next_poll_at, expires_at, created_at`

func scanDeviceAuthorization(r scanner) (store.DeviceAuthorization, error) {
	var d store.DeviceAuthorization
	var polled, expires, created int64
	err := r.Scan(&d.DeviceCodeHash, &d.UserCode, &d.ClientID, &d.StartURL, &d.Status, &d.SessionID, &d.FamilyID, &d.Interval,
		&polled, &expires, &created)
	d.NextPollAt, d.ExpiresAt, d.CreatedAt = fromMS(polled), fromMS(expires), fromMS(created)
	return d, err
}

func (t *tx) InsertDeviceAuthorization(ctx context.Context, d store.DeviceAuthorization) error {
	_, err := t.exec(ctx, `INSERT INTO oauth_device_authorizations (`+deviceAuthorizationCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		d.DeviceCodeHash, d.UserCode, d.ClientID, d.StartURL, d.Status, d.SessionID, d.FamilyID, d.Interval,
		ms(d.NextPollAt), ms(d.ExpiresAt), ms(d.CreatedAt))
	return err
}

func (t *tx) GetDeviceAuthorizationByUserCode(ctx context.Context, userCode string) (*store.DeviceAuthorization, error) {
	d, err := scanDeviceAuthorization(t.row(ctx, `SELECT `+deviceAuthorizationCols+` FROM oauth_device_authorizations WHERE user_code = ?`, userCode))
	if err != nil {
		return nil, notFound(err)
	}
	return &d, nil
}

func (t *tx) UpdateDeviceAuthorization(ctx context.Context, deviceCodeHash string, fn func(*store.DeviceAuthorization) error) (*store.DeviceAuthorization, error) {
	d, err := scanDeviceAuthorization(t.row(ctx, `SELECT `+deviceAuthorizationCols+` FROM oauth_device_authorizations WHERE device_code_hash = ?`+
		t.db.dialect.ForUpdate, deviceCodeHash))
	if err != nil {
		return nil, notFound(err)
	}
	if err := fn(&d); err != nil {
		return nil, err
	}
	_, err = t.exec(ctx, `UPDATE oauth_device_authorizations SET status = ?, session_id = ?, family_id = ?, interval_seconds = ?, next_poll_at = ?
		WHERE device_code_hash = ?`, d.Status, d.SessionID, d.FamilyID, d.Interval, ms(d.NextPollAt), deviceCodeHash)
	if err != nil {
		return nil, err
	}
	d.DeviceCodeHash = deviceCodeHash
	return &d, nil
}

// --- authorization codes

const authorizationCodeCols = `code_hash, client_id, redirect_uri, code_challenge, session_id, family_id, expires_at, created_at, used_at`

func (t *tx) InsertAuthorizationCode(ctx context.Context, c store.AuthorizationCode) error {
	_, err := t.exec(ctx, `INSERT INTO oauth_authorization_codes (`+authorizationCodeCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.CodeHash, c.ClientID, c.RedirectURI, c.CodeChallenge, c.SessionID, c.FamilyID, ms(c.ExpiresAt), ms(c.CreatedAt), ms(c.UsedAt))
	return err
}

func (t *tx) UpdateAuthorizationCode(ctx context.Context, codeHash string, fn func(*store.AuthorizationCode) error) (*store.AuthorizationCode, error) {
	var c store.AuthorizationCode
	var expires, created, used int64
	err := t.row(ctx, `SELECT `+authorizationCodeCols+` FROM oauth_authorization_codes WHERE code_hash = ?`+t.db.dialect.ForUpdate, codeHash).
		Scan(&c.CodeHash, &c.ClientID, &c.RedirectURI, &c.CodeChallenge, &c.SessionID, &c.FamilyID, &expires, &created, &used)
	if err != nil {
		return nil, notFound(err)
	}
	c.ExpiresAt, c.CreatedAt, c.UsedAt = fromMS(expires), fromMS(created), fromMS(used)
	if err := fn(&c); err != nil {
		return nil, err
	}
	_, err = t.exec(ctx, `UPDATE oauth_authorization_codes SET family_id = ?, used_at = ? WHERE code_hash = ?`, c.FamilyID, ms(c.UsedAt), codeHash)
	if err != nil {
		return nil, err
	}
	c.CodeHash = codeHash
	return &c, nil
}

// --- tokens

const oauthTokenCols = `token_hash, kind, client_id, session_id, family_id, expires_at, created_at, used_at, revoked_at`

func scanOAuthToken(r scanner) (store.OAuthToken, error) {
	var o store.OAuthToken
	var expires, created, used, revoked int64
	err := r.Scan(&o.Hash, &o.Kind, &o.ClientID, &o.SessionID, &o.FamilyID, &expires, &created, &used, &revoked)
	o.ExpiresAt, o.CreatedAt, o.UsedAt, o.RevokedAt = fromMS(expires), fromMS(created), fromMS(used), fromMS(revoked)
	return o, err
}

func (t *tx) InsertOAuthToken(ctx context.Context, o store.OAuthToken) error {
	_, err := t.exec(ctx, `INSERT INTO oauth_tokens (`+oauthTokenCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		o.Hash, o.Kind, o.ClientID, o.SessionID, o.FamilyID, ms(o.ExpiresAt), ms(o.CreatedAt), ms(o.UsedAt), ms(o.RevokedAt))
	return err
}

func (t *tx) GetOAuthToken(ctx context.Context, tokenHash string) (*store.OAuthToken, error) {
	o, err := scanOAuthToken(t.row(ctx, `SELECT `+oauthTokenCols+` FROM oauth_tokens WHERE token_hash = ?`, tokenHash))
	if err != nil {
		return nil, notFound(err)
	}
	return &o, nil
}

func (t *tx) UpdateOAuthToken(ctx context.Context, tokenHash string, fn func(*store.OAuthToken) error) (*store.OAuthToken, error) {
	o, err := scanOAuthToken(t.row(ctx, `SELECT `+oauthTokenCols+` FROM oauth_tokens WHERE token_hash = ?`+t.db.dialect.ForUpdate, tokenHash))
	if err != nil {
		return nil, notFound(err)
	}
	if err := fn(&o); err != nil {
		return nil, err
	}
	if _, err := t.exec(ctx, `UPDATE oauth_tokens SET used_at = ?, revoked_at = ? WHERE token_hash = ?`, ms(o.UsedAt), ms(o.RevokedAt), tokenHash); err != nil {
		return nil, err
	}
	o.Hash = tokenHash
	return &o, nil
}

func (t *tx) RevokeOAuthTokenFamily(ctx context.Context, familyID string, at time.Time) (int, error) {
	res, err := t.exec(ctx, `UPDATE oauth_tokens SET revoked_at = ? WHERE family_id = ? AND revoked_at = 0`, ms(at), familyID)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// --- expiry

func (t *tx) DeletePortalExpired(ctx context.Context, before time.Time) (int, error) {
	total := 0
	for _, q := range []string{
		`DELETE FROM portal_sessions WHERE expires_at < ?`,
		`DELETE FROM oauth_clients WHERE secret_expires_at < ?`,
		`DELETE FROM oauth_device_authorizations WHERE expires_at < ?`,
		`DELETE FROM oauth_authorization_codes WHERE expires_at < ?`,
		`DELETE FROM oauth_tokens WHERE expires_at < ?`,
	} {
		res, err := t.exec(ctx, q, ms(before))
		if err != nil {
			return total, err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return total, err
		}
		total += int(n)
	}
	return total, nil
}
