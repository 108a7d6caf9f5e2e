// Package creds owns credentials: who an access key belongs to, verifying
// the SigV4 signatures made with it, issuing temporary credentials for
// roles, and the STS API that answers for them.
package creds

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/atrium-sso/atrium/internal/awsproto/sigv4"
	"github.com/atrium-sso/atrium/internal/principal"
	"github.com/atrium-sso/atrium/internal/store"
	"github.com/atrium-sso/atrium/internal/ttlcache"
)

// Authenticator verifies SigV4 requests against the access keys and the
// session credentials in the store.
type Authenticator struct {
	store    store.Store
	verifier *sigv4.Verifier
	adminARN string

	// Keys are re-read from the store at most every keyTTL: the read was a
	// third of a signed call's cost. A key changed or a session credential
	// revoked on another node takes effect here within keyTTL (AWS documents
	// seconds for IAM key changes).
	keys     ttlcache.Cache[string, *store.AccessKey]
	sessions ttlcache.Cache[string, *store.SessionCredential]
	now      func() time.Time

	// Revocation decides, at every call, whether credentials issued from a
	// sign-in session may still be used. Without one they may not.
	Revocation SessionValidator
}

// SessionValidator decides whether temporary credentials tied to a sign-in
// session are still valid (package portal): ErrRevoked when they are not.
type SessionValidator interface {
	ValidateSessionCredential(ctx context.Context, c *store.SessionCredential) error
}

// ErrRevoked: the credentials' sign-in session ended, its user was
// disabled or deleted, or the user no longer holds the role they are for.
var ErrRevoked = errors.New("creds: credentials revoked")

// keyTTL bounds how stale a cached access key or session credential may be.
const keyTTL = time.Second

// NewAuthenticator verifies against s; the root of the management account is the admin.
func NewAuthenticator(s store.Store, managementAccountID string) *Authenticator {
	a := &Authenticator{store: s, adminARN: "arn:aws:iam::" + managementAccountID + ":root", now: time.Now}
	clock := func() time.Time { return a.now() }
	a.keys = ttlcache.Cache[string, *store.AccessKey]{TTL: keyTTL, Now: clock}
	a.sessions = ttlcache.Cache[string, *store.SessionCredential]{TTL: keyTTL, Now: clock}
	a.verifier = &sigv4.Verifier{Lookup: a.lookup}
	return a
}

// isTemporary reports whether an access key id is of temporary credentials
// (ASIA…), which live in the session credential table, not with the keys.
func isTemporary(id string) bool { return strings.HasPrefix(id, "ASIA") }

// keySlot carries the record from the verifier's lookup back to
// Authenticate, so one read serves both the secret and the principal.
type keySlot struct {
	key     *store.AccessKey
	session *store.SessionCredential
}

type slotKey struct{}

func (a *Authenticator) lookup(ctx context.Context, id string) (string, error) {
	slot, _ := ctx.Value(slotKey{}).(*keySlot)
	if slot == nil {
		slot = &keySlot{}
	}
	if isTemporary(id) {
		c, err := a.sessionCredential(ctx, id)
		if err != nil {
			return "", err
		}
		slot.session = c
		return c.Secret, nil
	}
	k, err := a.accessKey(ctx, id)
	if err != nil {
		return "", err
	}
	slot.key = k
	return k.Secret, nil
}

// accessKey returns an active key, from the cache while it is fresh.
func (a *Authenticator) accessKey(ctx context.Context, id string) (*store.AccessKey, error) {
	if k, ok := a.keys.Get(id); ok {
		return k, nil
	}
	var k *store.AccessKey
	err := a.store.Read(ctx, func(tx store.Tx) error {
		var err error
		k, err = tx.GetAccessKey(ctx, id)
		return err
	})
	if errors.Is(err, store.ErrNotFound) || (err == nil && k.Status != "Active") {
		a.keys.Delete(id)
		return nil, sigv4.ErrUnknownKey
	}
	if err != nil {
		return nil, err
	}
	a.keys.Put(id, k)
	return k, nil
}

// sessionCredential returns a session credential, expired or not (the
// caller answers ExpiredToken for those), from the cache while it is fresh.
func (a *Authenticator) sessionCredential(ctx context.Context, id string) (*store.SessionCredential, error) {
	if c, ok := a.sessions.Get(id); ok {
		return c, nil
	}
	var c *store.SessionCredential
	err := a.store.Read(ctx, func(tx store.Tx) error {
		var err error
		c, err = tx.GetSessionCredential(ctx, id)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		a.sessions.Delete(id)
		return nil, sigv4.ErrUnknownKey
	}
	if err != nil {
		return nil, err
	}
	a.sessions.Put(id, c)
	return c, nil
}

// errInvalidToken is AWS's answer to a session token that is missing,
// forged, or sent with a key it does not belong to.
var errInvalidToken = &sigv4.Error{Kind: sigv4.UnknownKey, Msg: "The security token included in the request is invalid."}

// Authenticate returns the principal that signed r.
func (a *Authenticator) Authenticate(ctx context.Context, r *http.Request, body []byte) (*principal.Principal, error) {
	slot := &keySlot{}
	ctx = context.WithValue(ctx, slotKey{}, slot)
	res, err := a.verifier.Verify(ctx, r, body)
	if err != nil {
		return nil, err
	}
	if slot.key == nil && slot.session == nil { // Verify always looks the key up; be sure of it
		if _, err := a.lookup(ctx, res.AccessKeyID); err != nil {
			return nil, err
		}
	}
	if c := slot.session; c != nil {
		p, err := a.rolePrincipal(c, res.SessionToken)
		if err != nil || c.SessionID == "" {
			return p, err
		}
		if a.Revocation == nil {
			return nil, errInvalidToken
		}
		if err := a.Revocation.ValidateSessionCredential(ctx, c); err != nil {
			if errors.Is(err, ErrRevoked) {
				return nil, errInvalidToken
			}
			return nil, err
		}
		return p, nil
	}
	k := slot.key
	if res.SessionToken != "" {
		// Long-term keys carry no session token; one that does is forged or misused.
		return nil, errInvalidToken
	}
	return &principal.Principal{
		AccountID:   k.AccountID,
		ARN:         k.PrincipalARN,
		UserID:      k.UserID,
		AccessKeyID: k.ID,
		Admin:       k.PrincipalARN == a.adminARN,
	}, nil
}

// rolePrincipal checks the session token that must come with temporary
// credentials and says which role session they speak for.
func (a *Authenticator) rolePrincipal(c *store.SessionCredential, token string) (*principal.Principal, error) {
	if token == "" || subtle.ConstantTimeCompare([]byte(TokenHash(token)), []byte(c.SessionTokenHash)) != 1 {
		return nil, errInvalidToken
	}
	if !a.now().Before(c.ExpiresAt) {
		return nil, &sigv4.Error{Kind: sigv4.ExpiredToken, Msg: "The security token included in the request is expired"}
	}
	roleID, _, _ := strings.Cut(c.AssumedRoleID, ":")
	return &principal.Principal{
		AccountID:   c.AccountID,
		ARN:         c.AssumedRoleARN,
		UserID:      c.AssumedRoleID,
		AccessKeyID: c.AccessKeyID,
		Role: &principal.RoleSession{RoleARN: c.RoleARN, RoleID: roleID, SessionName: c.SessionName, SessionID: c.SessionID,
			IssuedAt: c.CreatedAt, ExpiresAt: c.ExpiresAt, Tags: c.Tags},
	}, nil
}

// TokenHash is how a session token is kept: its hex SHA-256.
func TokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}
