// Package oauth is sso-oidc: the OAuth 2.0 authorization server the AWS
// CLI and SDKs log in with. It registers public clients, runs the device
// authorization grant (RFC 8628), the authorization code grant with PKCE
// S256 (RFC 7636) and refresh-token rotation, and issues opaque access
// tokens that the portal API accepts for as long as the sign-in session
// they came from is live.
package oauth

import (
	"context"
	"crypto/subtle"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/atrium-sso/atrium/internal/apierr"
	"github.com/atrium-sso/atrium/internal/awsproto"
	"github.com/atrium-sso/atrium/internal/awsproto/model"
	"github.com/atrium-sso/atrium/internal/creds"
	"github.com/atrium-sso/atrium/internal/portal"
	"github.com/atrium-sso/atrium/internal/store"
	"github.com/atrium-sso/atrium/internal/ttlcache"
)

// Grant types, as CreateToken and RegisterClient name them.
const (
	GrantAuthorizationCode = "authorization_code"
	GrantRefreshToken      = "refresh_token"
	GrantDeviceCode        = "urn:ietf:params:oauth:grant-type:device_code"
)

// ScopeAccountAccess is the scope of the portal API: accounts, roles, credentials.
const ScopeAccountAccess = "sso:account:access"

// Lifetimes.
const (
	clientSecretLifetime = 90 * 24 * time.Hour
	deviceCodeLifetime   = 10 * time.Minute
	pollInterval         = 1 // seconds between device polls, as AWS's
	slowDownStep         = 5 // seconds added to the interval at each slow_down (RFC 8628 §3.5)
	codeLifetime         = 5 * time.Minute
	// accessTokenLifetime is that of a refreshable access token; a client
	// without refresh gets one that lasts as long as legacyTokenLifetime
	// (AWS's fixed 8 hours). Neither outlives its sign-in session.
	accessTokenLifetime = time.Hour
	legacyTokenLifetime = 8 * time.Hour
	// cacheTTL bounds how stale a cached token or client may be.
	cacheTTL = time.Second
)

// Rate limits.
const (
	// deviceStartsPerClient bounds StartDeviceAuthorization per client per
	// window: a login needs one, and pending codes are what a guesser hits.
	deviceStartsPerClient = 10
	// registrationsPerSource bounds RegisterClient per source address.
	registrationsPerSource = 100
	// userCodeMissesPerSource bounds user codes that match nothing, per
	// source address: with 20^8 codes, guessing one takes ages at this rate.
	userCodeMissesPerSource = 10
	limitWindow             = 10 * time.Minute
)

// Config is what the service needs besides the store and the portal.
type Config struct {
	// URL is the server's public base URL: the device page is URL/device,
	// the authorization endpoint URL/authorize, the token endpoint URL/token.
	URL string
	// StartURLAliases are other start URLs of this instance (see
	// StartURL); its own is URL/start.
	StartURLAliases []string
	// Clock is the time; nil means time.Now.
	Clock func() time.Time
}

// Service is the sso-oidc domain.
type Service struct {
	store  store.Store
	portal *portal.Service
	url    string
	now    func() time.Time
	// startURLs are the start URLs naming this instance, normalized.
	startURLs map[string]bool

	tokens  ttlcache.Cache[string, *store.OAuthToken]  // by hash
	clients ttlcache.Cache[string, *store.OAuthClient] // by id
}

// New builds the service over s (the audited store); sessions are the portal's.
func New(s store.Store, p *portal.Service, cfg Config) *Service {
	svc := &Service{store: s, portal: p, url: strings.TrimSuffix(cfg.URL, "/"), now: cfg.Clock, startURLs: map[string]bool{}}
	if svc.now == nil {
		svc.now = time.Now
	}
	for _, u := range append([]string{svc.url + "/start"}, cfg.StartURLAliases...) {
		svc.startURLs[normalizeStartURL(u)] = true
	}
	clock := func() time.Time { return svc.now() }
	svc.tokens = ttlcache.Cache[string, *store.OAuthToken]{TTL: cacheTTL, Now: clock}
	svc.clients = ttlcache.Cache[string, *store.OAuthClient]{TTL: cacheTTL, Now: clock}
	return svc
}

// API is sso-oidc as Atrium serves it: unsigned, errors in OAuth's shape.
func (s *Service) API() *awsproto.Service {
	ops := map[string]awsproto.Handler{
		"RegisterClient":           awsproto.Op(s.registerClient),
		"StartDeviceAuthorization": awsproto.Op(s.startDeviceAuthorization),
		"CreateToken":              awsproto.Op(s.createToken),
	}
	unsigned := map[string]bool{}
	for op := range ops {
		unsigned[op] = true
	}
	return &awsproto.Service{Model: model.MustLoad("sso-oidc"), EventSource: "sso.amazonaws.com", Ops: ops, Unsigned: unsigned, OAuthErrors: true}
}

// --- errors: sso-oidc's exceptions, each with its OAuth error code

func oauthError(status int, exception, code, format string, args ...any) *apierr.Error {
	return apierr.New(status, exception, format, args...).With("error", code)
}

func invalidRequest(format string, args ...any) *apierr.Error {
	return oauthError(http.StatusBadRequest, "InvalidRequestException", "invalid_request", format, args...)
}

func invalidClient(format string, args ...any) *apierr.Error {
	return oauthError(http.StatusUnauthorized, "InvalidClientException", "invalid_client", format, args...)
}

func invalidGrant(format string, args ...any) *apierr.Error {
	return oauthError(http.StatusBadRequest, "InvalidGrantException", "invalid_grant", format, args...)
}

func unauthorizedClient(format string, args ...any) *apierr.Error {
	return oauthError(http.StatusBadRequest, "UnauthorizedClientException", "unauthorized_client", format, args...)
}

func unsupportedGrantType(format string, args ...any) *apierr.Error {
	return oauthError(http.StatusBadRequest, "UnsupportedGrantTypeException", "unsupported_grant_type", format, args...)
}

func invalidScope(format string, args ...any) *apierr.Error {
	return oauthError(http.StatusBadRequest, "InvalidScopeException", "invalid_scope", format, args...)
}

func invalidClientMetadata(format string, args ...any) *apierr.Error {
	return oauthError(http.StatusBadRequest, "InvalidClientMetadataException", "invalid_client_metadata", format, args...)
}

func invalidRedirectURI(format string, args ...any) *apierr.Error {
	return oauthError(http.StatusBadRequest, "InvalidRedirectUriException", "invalid_redirect_uri", format, args...)
}

func slowDown(format string, args ...any) *apierr.Error {
	return oauthError(http.StatusBadRequest, "SlowDownException", "slow_down", format, args...)
}

var (
	errPending      = oauthError(http.StatusBadRequest, "AuthorizationPendingException", "authorization_pending", "Authorization is still pending")
	errSlowDown     = slowDown("Client is polling too quickly")
	errAccessDenied = oauthError(http.StatusBadRequest, "AccessDeniedException", "access_denied", "Access denied")
	errExpiredToken = oauthError(http.StatusBadRequest, "ExpiredTokenException", "expired_token", "Device code has expired")
)

// --- clients

// allows reports whether a client may use a grant: the grant types it
// registered, or without any (the device flow's registration) the device
// code grant and refresh.
func allows(c *store.OAuthClient, grant string) bool {
	if len(c.GrantTypes) == 0 {
		return grant == GrantDeviceCode || grant == GrantRefreshToken
	}
	for _, g := range c.GrantTypes {
		if g == grant {
			return true
		}
	}
	return false
}

// refreshable reports whether tokens issued to c come with a refresh
// token: clients registered with scopes (an sso-session) get one, legacy
// ones a longer access token instead, as on AWS.
func refreshable(c *store.OAuthClient) bool { return len(c.Scopes) > 0 && allows(c, GrantRefreshToken) }

// client authenticates a client by its id and secret.
func (s *Service) client(ctx context.Context, id, secret string) (*store.OAuthClient, error) {
	c, ok := s.clients.Get(id)
	if !ok {
		err := s.store.Read(ctx, func(tx store.Tx) error {
			var err error
			c, err = tx.GetOAuthClient(ctx, id)
			return err
		})
		if errors.Is(err, store.ErrNotFound) {
			return nil, invalidClient("Invalid client provided")
		}
		if err != nil {
			return nil, err
		}
		s.clients.Put(id, c)
	}
	if subtle.ConstantTimeCompare([]byte(creds.TokenHash(secret)), []byte(c.SecretHash)) != 1 {
		return nil, invalidClient("Invalid client provided")
	}
	if !s.now().Before(c.SecretExpiresAt) {
		return nil, invalidClient("Client secret has expired")
	}
	return c, nil
}

// --- rate limits, counted in the store so that every node counts together

// spend counts one event under key in a fixed window; false when limit
// events were counted in the window already (the refused one is not).
func spend(ctx context.Context, tx store.Tx, key string, limit int, now time.Time) (bool, error) {
	allowed := false
	_, err := tx.UpdateThrottle(ctx, key, func(t *store.Throttle) error {
		if now.Sub(t.WindowStart) >= limitWindow {
			t.WindowStart, t.Failures = now, 0
		}
		if t.Failures < limit {
			t.Failures++
			allowed = true
		}
		t.UpdatedAt = now
		return nil
	})
	return allowed, err
}

// exhausted reports whether limit events were counted under key in the
// current window, without counting one.
func exhausted(ctx context.Context, tx store.Tx, key string, limit int, now time.Time) (bool, error) {
	t, err := tx.GetThrottle(ctx, key)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return now.Sub(t.WindowStart) < limitWindow && t.Failures >= limit, nil
}

// sourceOf is the address a request came from, as the edge saw it ("" when unknown).
func sourceOf(ctx context.Context) string { return awsproto.AccessOf(ctx, "", "").SourceIP }

// --- tokens, as the portal API checks them

// AccessTokenSession returns the live sign-in session an access token was
// issued from: portal.ErrNoSession when the token is unknown, expired or
// revoked, or its session is no longer live. The answer may be up to
// cacheTTL old.
func (s *Service) AccessTokenSession(ctx context.Context, token string) (*portal.Session, error) {
	if token == "" {
		return nil, portal.ErrNoSession
	}
	hash := creds.TokenHash(token)
	t, ok := s.tokens.Get(hash)
	if !ok {
		err := s.store.Read(ctx, func(tx store.Tx) error {
			var err error
			t, err = tx.GetOAuthToken(ctx, hash)
			return err
		})
		if errors.Is(err, store.ErrNotFound) {
			return nil, portal.ErrNoSession
		}
		if err != nil {
			return nil, err
		}
		s.tokens.Put(hash, t)
	}
	if t.Kind != store.TokenAccess || !t.RevokedAt.IsZero() || !s.now().Before(t.ExpiresAt) {
		return nil, portal.ErrNoSession
	}
	return s.portal.Session(ctx, t.SessionID)
}

// StartURL is the start URL a client sent (StartDeviceAuthorization's
// startUrl, RegisterClient's issuerUrl) as this instance records it: its
// own URL/start when u is that or one of the configured aliases (AWS CLI
// ≥ 2.35.13 only accepts an AWS-owned start URL, which it then never
// contacts, so an instance is known by such an alias too), else u as sent.
// ours says which.
func (s *Service) StartURL(u string) (recorded string, ours bool) {
	if s.startURLs[normalizeStartURL(u)] {
		return s.url + "/start", true
	}
	return u, false
}

// normalizeStartURL is u as start URLs compare: scheme and host in lower
// case, without a trailing slash, fragment or default port.
func normalizeStartURL(u string) string {
	p, err := url.Parse(strings.TrimSpace(u))
	if err != nil || p.Host == "" {
		return u
	}
	host := strings.ToLower(p.Host)
	scheme := strings.ToLower(p.Scheme)
	host = strings.TrimSuffix(host, map[string]string{"https": ":443", "http": ":80"}[scheme])
	return scheme + "://" + host + strings.TrimRight(p.EscapedPath(), "/")
}
