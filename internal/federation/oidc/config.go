package oidc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"

	"github.com/atrium-sso/atrium/internal/apierr"
)

// Config is an OIDC source's settings (federation.Source.Config), as the
// CLI sends them and as they are stored.
type Config struct {
	Issuer       string
	ClientID     string
	ClientSecret string `json:",omitempty"` // empty: a public client, PKCE alone
	Scopes       []string
	EmailClaim   string // the claim matched to a user: "email" unless told
}

var defaultScopes = []string{gooidc.ScopeOpenID, "email", "profile"}

// discoveryTimeout bounds the discovery run when a source is created.
const discoveryTimeout = 10 * time.Second

// parseConfig reads stored or submitted settings strictly: an unknown field
// is a typo that would otherwise be silently ignored.
func parseConfig(raw []byte) (*Config, error) {
	var c Config
	d := json.NewDecoder(bytes.NewReader(raw))
	d.DisallowUnknownFields()
	if err := d.Decode(&c); err != nil {
		return nil, apierr.Validation("OIDC settings are not valid JSON of the expected shape: %s", jsonProblem(err))
	}
	if d.More() {
		return nil, apierr.Validation("OIDC settings hold more than one JSON value")
	}
	return &c, nil
}

// jsonProblem says what was wrong without echoing the input (it may hold the secret).
func jsonProblem(err error) string {
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.As(err, &typeErr):
		return "field " + typeErr.Field + " has the wrong type"
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return strings.TrimPrefix(err.Error(), "json: ")
	}
	return "malformed JSON"
}

// normalise checks the settings and fills in the defaults.
func (c *Config) normalise() error {
	c.Issuer = strings.TrimSpace(c.Issuer)
	if err := checkEndpoint("Issuer", c.Issuer); err != nil {
		return err
	}
	if u, _ := url.Parse(c.Issuer); u.RawQuery != "" || u.Fragment != "" {
		return apierr.Validation("Issuer must have no query or fragment (OpenID Connect Discovery §2)")
	}
	c.ClientID = strings.TrimSpace(c.ClientID)
	if c.ClientID == "" || len(c.ClientID) > 255 || !printable(c.ClientID) {
		return apierr.Validation("ClientID is required: 1 to 255 printable characters")
	}
	if len(c.ClientSecret) > 1024 || !printable(c.ClientSecret) {
		return apierr.Validation("ClientSecret must be at most 1024 printable characters")
	}
	if len(c.Scopes) == 0 {
		c.Scopes = slices.Clone(defaultScopes)
	}
	if len(c.Scopes) > 20 {
		return apierr.Validation("Scopes: at most 20")
	}
	for _, s := range c.Scopes {
		if !scopeToken(s) {
			return apierr.Validation("Scopes: %q is not a scope token (RFC 6749 §3.3)", s)
		}
	}
	if !slices.Contains(c.Scopes, gooidc.ScopeOpenID) {
		return apierr.Validation(`Scopes must include "openid"`)
	}
	c.EmailClaim = strings.TrimSpace(c.EmailClaim)
	if c.EmailClaim == "" {
		c.EmailClaim = "email"
	}
	if len(c.EmailClaim) > 128 || !printable(c.EmailClaim) || strings.ContainsRune(c.EmailClaim, ' ') {
		return apierr.Validation("EmailClaim must be a claim name (at most 128 printable characters, no spaces)")
	}
	return nil
}

// checkEndpoint allows https, and plain http only to a loopback address
// (an IdP on the same machine, as in tests and local development).
func checkEndpoint(what, raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil || u.Opaque != "" {
		return apierr.Validation("%s must be an absolute https URL", what)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if loopback(u.Hostname()) {
			return nil
		}
		return apierr.Validation("%s must use https (plain http is allowed only on a loopback address)", what)
	}
	return apierr.Validation("%s must be an absolute https URL", what)
}

func loopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func printable(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return false
		}
	}
	return true
}

// scopeToken is RFC 6749 §3.3: 1*( %x21 / %x23-5B / %x5D-7E ).
func scopeToken(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		b := s[i]
		if b < 0x21 || b > 0x7e || b == '"' || b == '\\' {
			return false
		}
	}
	return true
}

// discover runs OpenID Connect Discovery for c: the document must name
// exactly the configured issuer, and its endpoints must be https (or
// loopback http) like the issuer.
func (p *Protocol) discover(ctx context.Context, c *Config) (*gooidc.Provider, error) {
	provider, err := gooidc.NewProvider(gooidc.ClientContext(ctx, p.client), c.Issuer)
	if err != nil {
		var mismatch *gooidc.IssuerMismatchError
		if errors.As(err, &mismatch) {
			return nil, apierr.Validation("OIDC discovery at %s names the issuer %q, not %q: refused (OpenID Connect Discovery §4.3)",
				c.Issuer, mismatch.Discovered, c.Issuer)
		}
		return nil, apierr.Validation("OIDC discovery at %s failed: %s", c.Issuer, discoveryProblem(err))
	}
	var meta struct {
		AuthURL    string   `json:"authorization_endpoint"`
		TokenURL   string   `json:"token_endpoint"`
		JWKSURL    string   `json:"jwks_uri"`
		UserInfo   string   `json:"userinfo_endpoint"`
		Challenges []string `json:"code_challenge_methods_supported"`
		Responses  []string `json:"response_types_supported"`
	}
	if err := provider.Claims(&meta); err != nil {
		return nil, apierr.Validation("OIDC discovery at %s: the document is not valid JSON", c.Issuer)
	}
	for _, e := range []struct{ name, url string }{
		{"authorization_endpoint", meta.AuthURL}, {"token_endpoint", meta.TokenURL}, {"jwks_uri", meta.JWKSURL},
	} {
		if e.url == "" {
			return nil, apierr.Validation("OIDC discovery at %s: the document has no %s", c.Issuer, e.name)
		}
		if err := checkEndpoint(e.name, e.url); err != nil {
			return nil, apierr.Validation("OIDC discovery at %s: %s", c.Issuer, err.(*apierr.Error).Message)
		}
	}
	if meta.UserInfo != "" {
		if err := checkEndpoint("userinfo_endpoint", meta.UserInfo); err != nil {
			return nil, apierr.Validation("OIDC discovery at %s: %s", c.Issuer, err.(*apierr.Error).Message)
		}
	}
	// Many providers do not advertise PKCE yet support it; one that lists
	// methods without S256 would refuse ours.
	if len(meta.Challenges) > 0 && !slices.Contains(meta.Challenges, "S256") {
		return nil, apierr.Validation("OIDC discovery at %s: the provider does not support PKCE with S256", c.Issuer)
	}
	if len(meta.Responses) > 0 && !slices.Contains(meta.Responses, "code") {
		return nil, apierr.Validation("OIDC discovery at %s: the provider does not support the authorization code flow", c.Issuer)
	}
	return provider, nil
}

// discoveryProblem is the cause, short: go-oidc's errors may carry a whole
// response body.
func discoveryProblem(err error) string {
	var netErr net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &netErr) && netErr.Timeout()):
		return "no answer in time"
	case errors.As(err, new(*net.OpError)) || errors.As(err, new(*net.DNSError)):
		return "cannot connect"
	}
	msg := err.Error()
	if status, _, ok := strings.Cut(msg, ": "); ok && len(status) >= 3 && status[0] >= '1' && status[0] <= '5' {
		return "HTTP " + status
	}
	if strings.Contains(msg, "failed to decode provider discovery object") {
		return "the answer is not an OpenID Connect discovery document"
	}
	if len(msg) > 200 {
		msg = msg[:200]
	}
	return fmt.Sprint(msg)
}
