package web

import (
	"context"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/atrium-sso/atrium/internal/ids"
	"github.com/atrium-sso/atrium/internal/oauth"
	"github.com/atrium-sso/atrium/internal/portal"
	"github.com/atrium-sso/atrium/internal/store"
)

// Stand-ins for portal and oauth while those packages are written; the
// tests of the pages' own rules (cookies, tokens, redirects, headers) do
// not depend on how those services decide.

type fakePortal struct {
	mu       sync.Mutex
	sessions map[string]*portal.Session // by token
	methods  map[string][]string        // by session id
	access   []portal.AccountAccess
}

func (p *fakePortal) StartSession(ctx context.Context, user *store.User, methods []string, sourceIP, userAgent string, tags map[string]string) (string, *portal.Session, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	token := ids.Hex(32)
	s := &portal.Session{ID: ids.Hex(8), IdentityStoreID: user.IdentityStoreID, UserID: user.ID, UserName: user.UserName, CreatedAt: time.Now(),
		ExpiresAt: time.Now().Add(time.Hour), AssertedTags: tags}
	p.sessions[token] = s
	p.methods[s.ID] = methods
	return token, s, nil
}

func (p *fakePortal) SessionByToken(ctx context.Context, token string) (*portal.Session, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if s := p.sessions[token]; s != nil {
		return s, nil
	}
	return nil, portal.ErrNoSession
}

func (p *fakePortal) EndSession(ctx context.Context, sessionID string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for t, s := range p.sessions {
		if s.ID == sessionID {
			delete(p.sessions, t)
		}
	}
	return nil
}

func (p *fakePortal) Entitlements(ctx context.Context, sess *portal.Session) ([]portal.AccountAccess, error) {
	return p.access, nil
}

func (p *fakePortal) RoleCredentials(ctx context.Context, sess *portal.Session, accountID, roleName string) (*portal.Credentials, error) {
	for _, a := range p.access {
		if a.AccountID == accountID && strings.Contains(","+strings.Join(a.Roles, ",")+",", ","+roleName+",") {
			return &portal.Credentials{AccessKeyID: "ASIAFAKEFAKEFAKEFAKE", SecretAccessKey: "secret/" + roleName, SessionToken: "token-" + sess.ID,
				Expiration: time.Now().Add(time.Hour)}, nil
		}
	}
	return nil, portal.ErrNoAccess
}

type fakeOAuth struct {
	mu       sync.Mutex
	grants   map[string]*oauth.DeviceGrant
	approved map[string]string // user code → session id
	denied   map[string]bool
}

func (o *fakeOAuth) DeviceGrant(ctx context.Context, userCode string) (*oauth.DeviceGrant, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if g := o.grants[userCode]; g != nil {
		return g, nil
	}
	return nil, oauth.ErrNotFound
}

func (o *fakeOAuth) ApproveDevice(ctx context.Context, userCode string, sess *portal.Session) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.grants[userCode] == nil {
		return oauth.ErrNotFound
	}
	o.approved[userCode] = sess.ID
	return nil
}

func (o *fakeOAuth) DenyDevice(ctx context.Context, userCode string) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.grants[userCode] == nil {
		return oauth.ErrNotFound
	}
	o.denied[userCode] = true
	return nil
}

func (o *fakeOAuth) ParseAuthorize(ctx context.Context, q url.Values) (*oauth.AuthorizeRequest, error) {
	if q.Get("client_id") != "registered-client" {
		return nil, &oauth.AuthorizeError{Code: "unauthorized_client", Description: "Unknown client."}
	}
	u, err := url.Parse(q.Get("redirect_uri"))
	if err != nil || u.Scheme != "http" || u.Hostname() != "127.0.0.1" || u.Path != "/oauth/callback" {
		return nil, &oauth.AuthorizeError{Code: "invalid_request", Description: "The redirect URI is not registered."}
	}
	if q.Get("code_challenge_method") != "S256" {
		return nil, &oauth.AuthorizeError{Code: "invalid_request", Description: "PKCE S256 is required.",
			RedirectURL: u.String() + "?error=invalid_request&state=" + url.QueryEscape(q.Get("state"))}
	}
	return &oauth.AuthorizeRequest{ClientID: "registered-client", ClientName: "botocore-client-test", RedirectURI: u.String(),
		State: q.Get("state"), Scopes: strings.Fields(q.Get("scopes"))}, nil
}

func (o *fakeOAuth) IssueCode(ctx context.Context, req *oauth.AuthorizeRequest, sess *portal.Session) (string, error) {
	return req.RedirectURI + "?code=code-for-" + sess.ID + "&state=" + url.QueryEscape(req.State), nil
}

func (o *fakeOAuth) DenyAuthorize(req *oauth.AuthorizeRequest) string {
	return req.RedirectURI + "?error=access_denied&state=" + url.QueryEscape(req.State)
}
