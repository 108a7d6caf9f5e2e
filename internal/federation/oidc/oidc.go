// Package oidc signs people in at an OpenID Connect identity provider
// (Google Workspace, Entra ID, Keycloak, Dex, ...): a relying party with
// discovery, JWKS, the authorization code flow with PKCE (S256), state and
// nonce. It only translates: package federation decides who the person is
// in Atrium (federation.Service.Complete).
package oidc

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
	"golang.org/x/sync/singleflight"

	"github.com/atrium-sso/atrium/internal/federation"
	"github.com/atrium-sso/atrium/internal/store"
	"github.com/atrium-sso/atrium/internal/ttlcache"
)

// Federation is what the protocol needs of package federation.
type Federation = federation.Host

// Options are what New composes.
type Options struct {
	// Client reaches the IdPs (discovery, JWKS, token, userinfo); nil: a
	// client with a 10 s timeout and 1 MiB answers.
	Client *http.Client
	Log    *slog.Logger
	Now    func() time.Time // nil = time.Now
}

var (
	_ federation.Protocol  = (*Protocol)(nil)
	_ federation.Describer = (*Protocol)(nil)
)

// Protocol is the OIDC kind of identity source.
type Protocol struct {
	fed    Federation
	client *http.Client
	log    *slog.Logger
	now    func() time.Time
	seal   *sealer
	// parties are discovered providers, by source and settings: discovery
	// once an hour per node, JWKS refreshed by go-oidc when a key is unknown.
	parties ttlcache.Cache[string, *relyingParty]
	// failed are discoveries that failed, kept for failedDiscoveryTTL, and
	// discovering joins the sign-ins that wait for one: an IdP that is down
	// or slow is asked once per node meanwhile, not once per sign-in click,
	// and a burst of clicks holds one discovery's timeout, not one each.
	failed      ttlcache.Cache[string, error]
	discovering singleflight.Group
}

// failedDiscoveryTTL is how long a failed discovery is answered from memory.
const failedDiscoveryTTL = 15 * time.Second

// relyingParty is one source's discovered provider and our client at it.
type relyingParty struct {
	cfg      *Config
	provider *gooidc.Provider
	oauth    oauth2.Config
	verifier *gooidc.IDTokenVerifier
}

// New builds the protocol on the store's shared cookie key (created on first use).
func New(ctx context.Context, fed Federation, o Options) (*Protocol, error) {
	secret, err := store.Secret(ctx, fed.Store(), metaCookieKey)
	if err != nil {
		return nil, err
	}
	s, err := newSealer(secret)
	if err != nil {
		return nil, err
	}
	p := &Protocol{fed: fed, client: o.Client, log: o.Log, now: o.Now, seal: s}
	if p.client == nil {
		p.client = &http.Client{Timeout: 10 * time.Second, Transport: limitedTransport{http.DefaultTransport}}
	}
	if p.log == nil {
		p.log = slog.Default()
	}
	if p.now == nil {
		p.now = time.Now
	}
	p.parties.TTL, p.parties.Max = time.Hour, 1000
	p.failed.TTL, p.failed.Max, p.failed.Now = failedDiscoveryTTL, 1000, p.now
	return p, nil
}

// maxAnswer bounds what an IdP may send us in one answer.
const maxAnswer = 1 << 20

type limitedTransport struct{ next http.RoundTripper }

func (t limitedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	resp.Body = struct {
		io.Reader
		io.Closer
	}{io.LimitReader(resp.Body, maxAnswer), resp.Body}
	return resp, nil
}

// Kind is federation.KindOIDC.
func (p *Protocol) Kind() string { return federation.KindOIDC }

// CheckConfig validates a source's settings, runs discovery (with a
// timeout) and refuses a provider whose discovery fails or names another
// issuer; it returns the settings with their defaults filled in.
func (p *Protocol) CheckConfig(ctx context.Context, src *federation.Source, raw json.RawMessage) (json.RawMessage, error) {
	c, err := parseConfig(raw)
	if err != nil {
		return nil, err
	}
	if err := c.normalise(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, discoveryTimeout)
	defer cancel()
	if _, err := p.discover(ctx, c); err != nil {
		return nil, err
	}
	return json.Marshal(c)
}

// Register adds the sign-in routes.
func (p *Protocol) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /oidc/{name}/start", p.start)
	mux.HandleFunc("GET /oidc/{name}/callback", p.callback)
}

// StartPath is where a browser begins a sign-in at src.
func (p *Protocol) StartPath(src *federation.Source, next string) string {
	return "/oidc/" + url.PathEscape(src.Name) + "/start?next=" + url.QueryEscape(federation.LocalNext(next))
}

// Endpoints are what the IdP's administrator registers for Atrium's client.
func (p *Protocol) Endpoints(src *federation.Source) map[string]string {
	return map[string]string{"RedirectUri": p.redirectURL(src)}
}

func (p *Protocol) redirectURL(src *federation.Source) string {
	return p.fed.BaseURL() + "/oidc/" + url.PathEscape(src.Name) + "/callback"
}

// relyingParty is src's provider, discovered now unless a discovery of the
// same settings is fresh.
func (p *Protocol) relyingParty(ctx context.Context, src *federation.Source) (*relyingParty, error) {
	sum := sha256.Sum256(append([]byte(src.ID+"\x00"+src.Name+"\x00"), src.Config...))
	key := hex.EncodeToString(sum[:])
	if rp, ok := p.parties.Get(key); ok {
		return rp, nil
	}
	if err, ok := p.failed.Get(key); ok {
		return nil, err
	}
	// Detached from the first caller, whose going away must not fail the others.
	v, err, _ := p.discovering.Do(key, func() (any, error) {
		rp, err := p.discoverParty(context.WithoutCancel(ctx), src)
		if err != nil {
			p.failed.Put(key, err)
			return nil, err
		}
		p.parties.Put(key, rp)
		return rp, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*relyingParty), nil
}

// discoverParty runs discovery for src's settings and builds our client at it.
func (p *Protocol) discoverParty(ctx context.Context, src *federation.Source) (*relyingParty, error) {
	c, err := parseConfig(src.Config)
	if err != nil {
		return nil, err
	}
	if err := c.normalise(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, discoveryTimeout)
	defer cancel()
	provider, err := p.discover(ctx, c)
	if err != nil {
		return nil, err
	}
	endpoint := provider.Endpoint()
	if c.ClientSecret == "" {
		endpoint.AuthStyle = oauth2.AuthStyleInParams // a public client sends its id alone
	}
	rp := &relyingParty{
		cfg:      c,
		provider: provider,
		oauth:    oauth2.Config{ClientID: c.ClientID, ClientSecret: c.ClientSecret, Endpoint: endpoint, RedirectURL: p.redirectURL(src), Scopes: c.Scopes},
		// The verifier checks signature (JWKS), issuer, audience and expiry;
		// the algorithms are the provider's, never "none".
		verifier: provider.Verifier(&gooidc.Config{ClientID: c.ClientID, Now: p.now}),
	}
	return rp, nil
}

func (p *Protocol) clientContext(ctx context.Context) context.Context {
	return gooidc.ClientContext(ctx, p.client)
}
