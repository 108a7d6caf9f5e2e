package store

import (
	"context"
	"time"
)

// PortalTx is the part of a transaction behind the access portal and the
// sso-oidc API: sign-in sessions and what hangs off them — OAuth clients,
// device authorizations, authorization codes and tokens. Every secret
// (session cookie, client secret, device code, code, token) is kept only as
// its hex SHA-256, and looked up by it.
type PortalTx interface {
	// InsertSignInSession adds a session; ErrConflict when its id or token hash is taken.
	InsertSignInSession(ctx context.Context, s SignInSession) error
	GetSignInSession(ctx context.Context, id string) (*SignInSession, error)
	GetSignInSessionByToken(ctx context.Context, tokenHash string) (*SignInSession, error)
	// ListSignInSessions lists the store's sessions that are neither revoked
	// nor expired at now — of one user when userID is not "" — by id > after.
	ListSignInSessions(ctx context.Context, identityStoreID, userID string, now time.Time, after string, limit int) ([]SignInSession, error)
	// RevokeSignInSession marks a session revoked at at; a session revoked
	// before keeps its first time. ErrNotFound when there is none.
	RevokeSignInSession(ctx context.Context, id string, at time.Time) error
	// RevokeUserSignInSessions revokes a user's sessions that are not
	// revoked yet and reports how many it revoked.
	RevokeUserSignInSessions(ctx context.Context, identityStoreID, userID string, at time.Time) (int, error)

	// InsertOAuthClient registers a client; ErrConflict when its id is taken.
	InsertOAuthClient(ctx context.Context, c OAuthClient) error
	GetOAuthClient(ctx context.Context, id string) (*OAuthClient, error)

	// InsertDeviceAuthorization adds one; ErrConflict when its user code
	// (or device code) is in use.
	InsertDeviceAuthorization(ctx context.Context, d DeviceAuthorization) error
	// GetDeviceAuthorizationByUserCode finds one by its user code as stored (XXXX-XXXX).
	GetDeviceAuthorizationByUserCode(ctx context.Context, userCode string) (*DeviceAuthorization, error)
	// UpdateDeviceAuthorization runs fn on the locked authorization and
	// stores its Status, SessionID, FamilyID, Interval and NextPollAt.
	UpdateDeviceAuthorization(ctx context.Context, deviceCodeHash string, fn func(*DeviceAuthorization) error) (*DeviceAuthorization, error)

	InsertAuthorizationCode(ctx context.Context, c AuthorizationCode) error
	// UpdateAuthorizationCode runs fn on the locked code and stores its
	// FamilyID and UsedAt: how a code is consumed once.
	UpdateAuthorizationCode(ctx context.Context, codeHash string, fn func(*AuthorizationCode) error) (*AuthorizationCode, error)

	// InsertOAuthToken adds an access or refresh token; ErrConflict when its hash is taken.
	InsertOAuthToken(ctx context.Context, t OAuthToken) error
	GetOAuthToken(ctx context.Context, tokenHash string) (*OAuthToken, error)
	// UpdateOAuthToken runs fn on the locked token and stores its UsedAt
	// and RevokedAt: how a refresh token is rotated once.
	UpdateOAuthToken(ctx context.Context, tokenHash string, fn func(*OAuthToken) error) (*OAuthToken, error)
	// RevokeOAuthTokenFamily revokes every token of a family not revoked yet; it reports how many.
	RevokeOAuthTokenFamily(ctx context.Context, familyID string, at time.Time) (int, error)

	// DeletePortalExpired deletes sessions, clients, device authorizations,
	// codes and tokens that expired before t, and reports how many rows went.
	DeletePortalExpired(ctx context.Context, before time.Time) (int, error)
}

// SignInSession is a person's session after sign-in: the portal's cookie
// names it, and every token and credential issued from it dies with it.
type SignInSession struct {
	ID              string // public: listed and revoked by it
	TokenHash       string // hex SHA-256 of the cookie value
	IdentityStoreID string
	UserID          string
	UserName        string   // as at sign-in, for listings
	Methods         []string // how the person proved who they are: "pwd", "totp", "webauthn", …
	SourceIP        string
	UserAgent       string
	CreatedAt       time.Time
	ExpiresAt       time.Time
	RevokedAt       time.Time // zero while not revoked
	// Tags are the session tags the user's identity provider asserted at
	// sign-in (access-control attributes); nil for other sign-ins.
	Tags map[string]string
}

// OAuthClient is a client registered with sso-oidc RegisterClient.
type OAuthClient struct {
	ID              string
	SecretHash      string // hex SHA-256 of the client secret
	Name            string
	Type            string // public
	Scopes          []string
	RedirectURIs    []string
	GrantTypes      []string // as registered; none = the device code grant (and refresh, with scopes)
	IssuerURL       string
	CreatedAt       time.Time
	SecretExpiresAt time.Time
}

// Device authorization statuses.
const (
	DevicePending  = "PENDING"
	DeviceApproved = "APPROVED"
	DeviceDenied   = "DENIED"
	DeviceRedeemed = "REDEEMED"
)

// DeviceAuthorization is one RFC 8628 device authorization request.
type DeviceAuthorization struct {
	DeviceCodeHash string // hex SHA-256 of the device code
	UserCode       string // XXXX-XXXX, what the person types
	ClientID       string
	StartURL       string
	Status         string // Device*
	SessionID      string // the sign-in session that approved it
	FamilyID       string // the tokens it was redeemed for ("" before)
	Interval       int    // seconds the client must wait between polls
	// NextPollAt is when the polls counted so far are paid for, at one per
	// Interval: a client may run ahead of it by one poll, not more.
	NextPollAt time.Time
	ExpiresAt  time.Time
	CreatedAt  time.Time
}

// AuthorizationCode is an OAuth authorization code with its PKCE challenge.
type AuthorizationCode struct {
	CodeHash      string // hex SHA-256 of the code
	ClientID      string
	RedirectURI   string // as the authorization request named it
	CodeChallenge string // S256
	SessionID     string
	FamilyID      string // the tokens it was redeemed for ("" before)
	ExpiresAt     time.Time
	CreatedAt     time.Time
	UsedAt        time.Time // zero until presented
}

// OAuth token kinds.
const (
	TokenAccess  = "access"
	TokenRefresh = "refresh"
)

// OAuthToken is an access or refresh token issued by sso-oidc CreateToken.
// Tokens issued from one grant, and every rotation of its refresh token,
// share a family.
type OAuthToken struct {
	Hash      string // hex SHA-256 of the token
	Kind      string // TokenAccess | TokenRefresh
	ClientID  string
	SessionID string
	FamilyID  string
	ExpiresAt time.Time
	CreatedAt time.Time
	UsedAt    time.Time // refresh tokens: when rotated (zero until then)
	RevokedAt time.Time // zero while not revoked
}
