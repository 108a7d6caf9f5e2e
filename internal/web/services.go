package web

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/atrium-sso/atrium/internal/oauth"
	"github.com/atrium-sso/atrium/internal/portal"
	"github.com/atrium-sso/atrium/internal/signin"

	"github.com/atrium-sso/atrium/internal/store"
)

// SignIn is what the pages need of package signin: passwords, MFA
// ceremonies and the instance settings.
type SignIn interface {
	CheckPassword(ctx context.Context, identityStoreID, userName, password, sourceIP string, opts ...signin.CheckOption) (*signin.Attempt, error)
	ChangePassword(ctx context.Context, identityStoreID, userID, newPassword string) error
	VerifyTOTP(ctx context.Context, identityStoreID, userID, code string, opts ...signin.CheckOption) error
	BeginTOTPEnrollment(ctx context.Context, identityStoreID, userID, issuer string) (*signin.TOTPEnrollment, error)
	FinishTOTPEnrollment(ctx context.Context, identityStoreID, userID string, e *signin.TOTPEnrollment, code, name string) error
	BeginWebAuthnRegistration(ctx context.Context, identityStoreID, userID string) (optionsJSON []byte, state []byte, err error)
	FinishWebAuthnRegistration(ctx context.Context, identityStoreID, userID string, state []byte, r *http.Request, name string) error
	BeginWebAuthnLogin(ctx context.Context, identityStoreID, userID string) (optionsJSON []byte, state []byte, err error)
	FinishWebAuthnLogin(ctx context.Context, identityStoreID, userID string, state []byte, r *http.Request, opts ...signin.CheckOption) error
	Settings(ctx context.Context) (signin.Settings, error)
	MFADevices(ctx context.Context, identityStoreID, userID string) ([]signin.MFADevice, error)
	DeleteOwnMFADevice(ctx context.Context, identityStoreID, userID, deviceID string) error
	WebAuthnAvailable() bool
	RememberDevice(ctx context.Context, identityStoreID, userID string) (token string, expires time.Time, err error)
	Challenge(ctx context.Context, identityStoreID, userID string, credentials []string, enrollment bool, opts ...signin.CheckOption) error
	Authenticated(ctx context.Context, identityStoreID, userID string, credentials []string, loginTo string, opts ...signin.CheckOption) error
	AfterIdentityProvider(ctx context.Context, identityStoreID, userID string, atriumMFA bool, opts ...signin.CheckOption) (*signin.Attempt, error)
}

// Portal is what the pages need of package portal: sign-in sessions, the
// user's entitlements and credentials for a role.
type Portal interface {
	StartSession(ctx context.Context, user *store.User, methods []string, sourceIP, userAgent string, assertedTags map[string]string) (token string, sess *portal.Session, err error)
	SessionByToken(ctx context.Context, token string) (*portal.Session, error)
	EndSession(ctx context.Context, sessionID string) error
	Entitlements(ctx context.Context, sess *portal.Session) ([]portal.AccountAccess, error)
	RoleCredentials(ctx context.Context, sess *portal.Session, accountID, roleName string) (*portal.Credentials, error)
}

// OAuth is what the approval pages need of package oauth: device grants
// and authorization requests.
type OAuth interface {
	DeviceGrant(ctx context.Context, userCode string) (*oauth.DeviceGrant, error)
	ApproveDevice(ctx context.Context, userCode string, sess *portal.Session) error
	DenyDevice(ctx context.Context, userCode string) error
	ParseAuthorize(ctx context.Context, q url.Values) (*oauth.AuthorizeRequest, error)
	IssueCode(ctx context.Context, req *oauth.AuthorizeRequest, sess *portal.Session) (redirectURL string, err error)
	DenyAuthorize(req *oauth.AuthorizeRequest) (redirectURL string)
}
