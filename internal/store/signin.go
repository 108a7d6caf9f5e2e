package store

import (
	"context"
	"errors"
	"time"
)

// ErrLimitReached: an insert would take a count past the limit it was given.
var ErrLimitReached = errors.New("store: limit reached")

// SigninTx is sign-in's part of a transaction: users' passwords and MFA
// devices, the counters that throttle failed sign-ins, and the instance's
// settings. Rows of a user go with the user (DeleteUser).
type SigninTx interface {
	// GetPassword returns a user's password; ErrNotFound when none is set.
	GetPassword(ctx context.Context, identityStoreID, userID string) (*Password, error)
	// PutPassword sets a user's password, replacing any before it;
	// ErrUserMissing when the user is not in the store.
	PutPassword(ctx context.Context, p Password) error

	// ListMFADevices lists a user's MFA devices, oldest first.
	ListMFADevices(ctx context.Context, identityStoreID, userID string) ([]MFADevice, error)
	// InsertMFADevice adds a device unless the user already has limit devices
	// of its type (ErrLimitReached; checked with the user locked, so racing
	// inserts cannot pass it together). ErrUserMissing when the user is not
	// in the store, ErrConflict when the credential id is registered already.
	InsertMFADevice(ctx context.Context, d MFADevice, limit int) error
	// UpdateMFADevice runs fn on the locked device and stores its Name,
	// LastStep, Credential and LastUsedAt.
	UpdateMFADevice(ctx context.Context, identityStoreID, userID, id string, fn func(*MFADevice) error) (*MFADevice, error)
	DeleteMFADevice(ctx context.Context, identityStoreID, userID, id string) error

	// GetThrottle returns the failure counter under key; ErrNotFound when none.
	GetThrottle(ctx context.Context, key string) (*Throttle, error)
	// UpdateThrottle runs fn on the locked counter under key (a zero one when
	// there is none yet) and stores what it leaves.
	UpdateThrottle(ctx context.Context, key string, fn func(*Throttle) error) (*Throttle, error)
	// DeleteThrottlesBefore deletes counters last changed before t.
	DeleteThrottlesBefore(ctx context.Context, t time.Time) (int, error)

	// ListSettings returns the instance settings that were set, by key.
	ListSettings(ctx context.Context) (map[string]string, error)
	PutSetting(ctx context.Context, key, value string) error
}

// Password is a user's sign-in password.
type Password struct {
	IdentityStoreID string
	UserID          string
	Hash            string   // PHC string ($argon2id$v=19$m=…,t=…,p=…$salt$hash)
	Previous        []string // the hashes before it, newest first, for reuse checks
	MustChange      bool     // a one-time password: change before anything else
	UpdatedAt       time.Time
}

// MFA device types.
const (
	MFATOTP     = "TOTP"
	MFAWebAuthn = "WEBAUTHN"
)

// MFADevice is a user's authenticator app (TOTP) or WebAuthn credential.
type MFADevice struct {
	ID              string
	IdentityStoreID string
	UserID          string
	Type            string // MFATOTP | MFAWebAuthn
	Name            string
	Secret          []byte // TOTP: the shared secret, sealed by the sign-in service
	LastStep        int64  // TOTP: the last time step a code was accepted for
	CredentialID    []byte // WebAuthn: unique across the instance
	Credential      []byte // WebAuthn: the credential record (public key, sign count, flags), JSON
	CreatedAt       time.Time
	LastUsedAt      time.Time // zero until first used
}

// Throttle counts failed sign-ins under one key (a user name, a source address).
type Throttle struct {
	Key         string
	Failures    int       // in the window that started at WindowStart
	WindowStart time.Time //
	LockedUntil time.Time // no attempt is checked before this
	Lockouts    int       // locks so far, for the growing delay
	UpdatedAt   time.Time
}
