package scim

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/atrium-sso/atrium/internal/creds"
	"github.com/atrium-sso/atrium/internal/ids"
	"github.com/atrium-sso/atrium/internal/principal"
	"github.com/atrium-sso/atrium/internal/store"
)

// Token rules: AWS gives a SCIM token one year and an instance two at most
// (so one can be rotated without a gap).
const (
	MaxLiveTokens    = 2
	DefaultTokenLife = 365 * 24 * time.Hour
	maxTokenLife     = DefaultTokenLife
	tokenPrefix      = "atrium-scim-"
	tokenRandomBytes = 32
)

var (
	// ErrTooManyTokens: the identity store already has MaxLiveTokens live tokens.
	ErrTooManyTokens = errors.New("scim: the identity store already has 2 live SCIM tokens; revoke one first")
	// ErrNoToken: no such token in the identity store.
	ErrNoToken = errors.New("scim: no such token")
	// ErrNoSource: the identity source named is not known.
	ErrNoSource = errors.New("scim: no such identity source")
	// ErrNoStore: the identity store is not known.
	ErrNoStore = errors.New("scim: no such identity store")
)

// LifeError is a token lifetime out of bounds.
type LifeError struct{ Life time.Duration }

func (e *LifeError) Error() string {
	return fmt.Sprintf("a SCIM token lives between 1 second and %s, not %s", maxTokenLife, e.Life)
}

// Token is a SCIM token as admins see it (never the secret).
type Token struct {
	ID         string
	SourceID   string
	SourceName string // "" for the built-in directory
	CreatedAt  time.Time
	CreatedBy  string
	ExpiresAt  time.Time
	RevokedAt  time.Time
	Status     string // ACTIVE | EXPIRED | REVOKED
}

func (s *Service) tokenOf(ctx context.Context, tx store.Tx, t store.ScimToken) (Token, error) {
	out := Token{ID: t.ID, SourceID: t.SourceID, CreatedAt: t.CreatedAt, CreatedBy: t.CreatedBy, ExpiresAt: t.ExpiresAt, RevokedAt: t.RevokedAt}
	switch {
	case !t.RevokedAt.IsZero():
		out.Status = "REVOKED"
	case !s.now().Before(t.ExpiresAt):
		out.Status = "EXPIRED"
	default:
		out.Status = "ACTIVE"
	}
	if t.SourceID != "" {
		src, err := tx.GetIdentitySource(ctx, t.IdentityStoreID, t.SourceID)
		switch {
		case err == nil:
			out.SourceName = src.Name
		case !errors.Is(err, store.ErrNotFound):
			return out, err
		}
	}
	return out, nil
}

func checkStore(ctx context.Context, tx store.Tx, identityStoreID string) error {
	instances, err := tx.ListInstances(ctx)
	if err != nil {
		return err
	}
	if !slices.ContainsFunc(instances, func(in store.Instance) bool { return in.IdentityStoreID == identityStoreID }) {
		return ErrNoStore
	}
	return nil
}

// CreateToken makes a token for the identity store, whose users will
// belong to the identity source named sourceName ("" = the built-in
// directory), living life (0 = a year). The token is returned this once.
func (s *Service) CreateToken(ctx context.Context, identityStoreID, sourceName string, life time.Duration) (string, Token, error) {
	if life == 0 {
		life = DefaultTokenLife
	}
	if life < time.Second || life > maxTokenLife {
		return "", Token{}, &LifeError{Life: life}
	}
	secret := tokenPrefix + ids.Hex(tokenRandomBytes)
	now := s.now().UTC().Truncate(time.Millisecond)
	t := store.ScimToken{ID: ids.TimeUUID(), IdentityStoreID: identityStoreID, TokenHash: creds.TokenHash(secret), CreatedAt: now,
		ExpiresAt: now.Add(life)}
	if p := principal.From(ctx); p != nil {
		t.CreatedBy = p.ARN
	}
	var out Token
	err := s.store.Write(ctx, func(tx store.Tx) error {
		if err := checkStore(ctx, tx, identityStoreID); err != nil {
			return err
		}
		if sourceName != "" {
			src, err := tx.GetIdentitySourceByName(ctx, identityStoreID, sourceName)
			if errors.Is(err, store.ErrNotFound) {
				return ErrNoSource
			}
			if err != nil {
				return err
			}
			t.SourceID = src.ID
		}
		if err := tx.InsertScimToken(ctx, t, MaxLiveTokens); err != nil {
			if errors.Is(err, store.ErrConflict) {
				return ErrTooManyTokens
			}
			return err
		}
		var err error
		out, err = s.tokenOf(ctx, tx, t)
		return err
	})
	if err != nil {
		return "", Token{}, err
	}
	return secret, out, nil
}

// ListTokens lists the identity store's tokens, revoked and expired ones too.
func (s *Service) ListTokens(ctx context.Context, identityStoreID string) ([]Token, error) {
	var out []Token
	err := s.store.Read(ctx, func(tx store.Tx) error {
		if err := checkStore(ctx, tx, identityStoreID); err != nil {
			return err
		}
		list, err := tx.ListScimTokens(ctx, identityStoreID)
		if err != nil {
			return err
		}
		for _, t := range list {
			tok, err := s.tokenOf(ctx, tx, t)
			if err != nil {
				return err
			}
			out = append(out, tok)
		}
		return nil
	})
	return out, err
}

// RevokeToken revokes a token: every node refuses it within a second.
func (s *Service) RevokeToken(ctx context.Context, identityStoreID, id string) error {
	err := s.store.Write(ctx, func(tx store.Tx) error {
		if err := checkStore(ctx, tx, identityStoreID); err != nil {
			return err
		}
		return tx.RevokeScimToken(ctx, identityStoreID, id, s.now().UTC())
	})
	if errors.Is(err, store.ErrNotFound) {
		return ErrNoToken
	}
	return err
}

// Endpoint is the SCIM base URL to give identity providers (no trailing
// slash: IdPs' guides warn that one breaks the connection).
func (s *Service) Endpoint() string { return s.url + Prefix }
