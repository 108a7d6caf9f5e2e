package store

import (
	"context"
	"time"
)

// ScimTx is SCIM provisioning's part of a transaction: the bearer tokens
// identity providers present.
type ScimTx interface {
	// InsertScimToken adds a live token in one of the store's maxLive
	// slots, freeing first the slots of tokens expired at t.CreatedAt;
	// ErrConflict when every slot is held (or its hash or id is taken).
	InsertScimToken(ctx context.Context, t ScimToken, maxLive int) error
	// GetScimTokenByHash finds a token, live or not, by its hash.
	GetScimTokenByHash(ctx context.Context, tokenHash string) (*ScimToken, error)
	// ListScimTokens lists a store's tokens, revoked and expired ones too, by id.
	ListScimTokens(ctx context.Context, identityStoreID string) ([]ScimToken, error)
	// RevokeScimToken revokes a token at t (a revoked one stays as it was)
	// and frees its slot; ErrNotFound when the store has no such token.
	RevokeScimToken(ctx context.Context, identityStoreID, id string, at time.Time) error

	// SCIM pages lists by position (startIndex) and tells the total.
	CountUsers(ctx context.Context, identityStoreID string) (int, error)
	// ListUsersAt lists the store's users by id, skipping the first offset.
	ListUsersAt(ctx context.Context, identityStoreID string, offset, limit int) ([]User, error)
	CountGroups(ctx context.Context, identityStoreID string) (int, error)
	// ListGroupsAt lists the store's groups by id, skipping the first offset.
	ListGroupsAt(ctx context.Context, identityStoreID string, offset, limit int) ([]Group, error)
}

// ScimToken is a SCIM bearer token, kept as its hash.
type ScimToken struct {
	ID              string
	IdentityStoreID string
	SourceID        string // the identity source its users belong to; "" = the built-in directory
	TokenHash       string // hex SHA-256 of the token
	CreatedAt       time.Time
	CreatedBy       string
	ExpiresAt       time.Time
	RevokedAt       time.Time // zero while not revoked
}

// Live reports whether the token is accepted at now.
func (t *ScimToken) Live(now time.Time) bool {
	return t.RevokedAt.IsZero() && now.Before(t.ExpiresAt)
}
