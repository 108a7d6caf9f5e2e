// Package creds owns credentials: who an access key belongs to, verifying
// the SigV4 signatures made with it, and the STS API that answers for them.
package creds

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/atrium-sso/atrium/internal/awsproto/sigv4"
	"github.com/atrium-sso/atrium/internal/principal"
	"github.com/atrium-sso/atrium/internal/store"
)

// Authenticator verifies SigV4 requests against the access keys in the store.
type Authenticator struct {
	store    store.Store
	verifier *sigv4.Verifier
	adminARN string

	// Long-term keys are re-read from the store at most every keyTTL: the
	// read was a third of a signed call's cost. A key changed on another
	// node takes effect here within keyTTL (AWS documents seconds for IAM
	// key changes); session credentials will not go through this cache.
	mu   sync.Mutex
	keys map[string]cachedKey
	now  func() time.Time
}

// keyTTL bounds how stale a cached access key may be.
const keyTTL = time.Second

type cachedKey struct {
	key *store.AccessKey
	at  time.Time
}

// NewAuthenticator verifies against s; the root of the management account is the admin.
func NewAuthenticator(s store.Store, managementAccountID string) *Authenticator {
	a := &Authenticator{store: s, adminARN: "arn:aws:iam::" + managementAccountID + ":root", now: time.Now}
	a.verifier = &sigv4.Verifier{Lookup: a.lookup}
	return a
}

// keySlot carries the key record from the verifier's lookup back to
// Authenticate, so one read serves both the secret and the principal.
type keySlot struct{ key *store.AccessKey }

type slotKey struct{}

func (a *Authenticator) lookup(ctx context.Context, id string) (string, error) {
	k, err := a.accessKey(ctx, id)
	if err != nil {
		return "", err
	}
	if slot, ok := ctx.Value(slotKey{}).(*keySlot); ok {
		slot.key = k
	}
	return k.Secret, nil
}

// accessKey returns an active key, from the cache while it is fresh.
func (a *Authenticator) accessKey(ctx context.Context, id string) (*store.AccessKey, error) {
	now := a.now()
	a.mu.Lock()
	c, ok := a.keys[id]
	a.mu.Unlock()
	if ok && now.Sub(c.at) < keyTTL {
		return c.key, nil
	}
	var k *store.AccessKey
	err := a.store.Read(ctx, func(tx store.Tx) error {
		var err error
		k, err = tx.GetAccessKey(ctx, id)
		return err
	})
	if errors.Is(err, store.ErrNotFound) || (err == nil && k.Status != "Active") {
		a.forget(id)
		return nil, sigv4.ErrUnknownKey
	}
	if err != nil {
		return nil, err
	}
	a.mu.Lock()
	if a.keys == nil || len(a.keys) >= 10000 {
		a.keys = map[string]cachedKey{} // bounded: unknown ids are never cached, so only real keys fill it
	}
	a.keys[id] = cachedKey{key: k, at: now}
	a.mu.Unlock()
	return k, nil
}

func (a *Authenticator) forget(id string) {
	a.mu.Lock()
	delete(a.keys, id)
	a.mu.Unlock()
}

// Authenticate returns the principal that signed r.
func (a *Authenticator) Authenticate(ctx context.Context, r *http.Request, body []byte) (*principal.Principal, error) {
	slot := &keySlot{}
	res, err := a.verifier.Verify(context.WithValue(ctx, slotKey{}, slot), r, body)
	if err != nil {
		return nil, err
	}
	k := slot.key
	if k == nil { // the verifier answered from its cache of derived keys: read the record
		if _, err := a.lookup(context.WithValue(ctx, slotKey{}, slot), res.AccessKeyID); err != nil {
			return nil, err
		}
		k = slot.key
	}
	if res.SessionToken != "" {
		// Long-term keys carry no session token; one that does is forged or misused.
		return nil, &sigv4.Error{Kind: sigv4.UnknownKey, Msg: "The security token included in the request is invalid."}
	}
	return &principal.Principal{
		AccountID:   k.AccountID,
		ARN:         k.PrincipalARN,
		UserID:      k.UserID,
		AccessKeyID: k.ID,
		Admin:       k.PrincipalARN == a.adminARN,
	}, nil
}
