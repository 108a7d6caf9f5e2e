package store

import (
	"context"
	"time"
)

// FederationTx is the identity sources' part of a transaction, and the
// single-use marks that replay caches keep.
type FederationTx interface {
	// InsertIdentitySource adds a source; ErrConflict when its name
	// (ignoring case) is taken in the identity store.
	InsertIdentitySource(ctx context.Context, s IdentitySource) error
	GetIdentitySource(ctx context.Context, identityStoreID, id string) (*IdentitySource, error)
	// GetIdentitySourceByName finds a source by name, ignoring case.
	GetIdentitySourceByName(ctx context.Context, identityStoreID, name string) (*IdentitySource, error)
	// ListIdentitySources lists the store's sources by name.
	ListIdentitySources(ctx context.Context, identityStoreID string) ([]IdentitySource, error)
	// UpdateIdentitySource runs fn on the locked source and stores what it
	// leaves (id, store and creation kept); ErrConflict as Insert.
	UpdateIdentitySource(ctx context.Context, identityStoreID, id string, fn func(*IdentitySource) error) (*IdentitySource, error)
	DeleteIdentitySource(ctx context.Context, identityStoreID, id string) error
	// CountSourceUsers counts the users that belong to a source.
	CountSourceUsers(ctx context.Context, identityStoreID, sourceID string) (int, error)

	// UseOnce records key as used until expires: false when it is already
	// used and not yet expired. Concurrent callers with one key: one wins.
	UseOnce(ctx context.Context, key string, expires time.Time) (bool, error)
	// DeleteUsedBefore forgets marks that expired before t; it reports how many.
	DeleteUsedBefore(ctx context.Context, t time.Time) (int, error)
}

// IdentitySource is an external identity provider of an identity store.
type IdentitySource struct {
	IdentityStoreID string
	ID              string
	Name            string // unique in the store, ignoring case
	Kind            string // "saml" | "oidc"
	Enabled         bool
	EmailDomains    []string // lower case
	MFA             string   // "trust" | "atrium"
	JIT             bool
	Config          []byte // the protocol's settings, JSON
	CreatedAt       time.Time
	UpdatedAt       time.Time
}
