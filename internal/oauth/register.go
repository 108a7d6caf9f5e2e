package oauth

import (
	"context"
	"net"
	"net/url"
	"slices"
	"time"

	"github.com/atrium-sso/atrium/internal/creds"
	"github.com/atrium-sso/atrium/internal/ids"
	"github.com/atrium-sso/atrium/internal/store"
)

type registerClientIn struct {
	ClientName             string   `json:"clientName"`
	ClientType             string   `json:"clientType"`
	Scopes                 []string `json:"scopes"`
	RedirectURIs           []string `json:"redirectUris"`
	GrantTypes             []string `json:"grantTypes"`
	IssuerURL              string   `json:"issuerUrl"`
	EntitledApplicationARN string   `json:"entitledApplicationArn"`
}

type registerClientOut struct {
	ClientID              string `json:"clientId"`
	ClientSecret          string `json:"clientSecret"`
	ClientIDIssuedAt      int64  `json:"clientIdIssuedAt"`
	ClientSecretExpiresAt int64  `json:"clientSecretExpiresAt"`
	AuthorizationEndpoint string `json:"authorizationEndpoint,omitempty"`
	TokenEndpoint         string `json:"tokenEndpoint,omitempty"`
}

// registerClient registers a public client. Its secret is random, given
// out once and kept as a hash; it expires after 90 days, as AWS's do.
func (s *Service) registerClient(ctx context.Context, in *registerClientIn) (*registerClientOut, error) {
	if in.ClientType != "public" {
		return nil, invalidClientMetadata("Invalid client type: only public clients are supported")
	}
	if in.ClientName == "" || len(in.ClientName) > 256 {
		return nil, invalidClientMetadata("Invalid client name")
	}
	if in.EntitledApplicationARN != "" {
		return nil, invalidRequest("Applications are not supported")
	}
	for _, sc := range in.Scopes {
		if sc != ScopeAccountAccess {
			return nil, invalidScope("Invalid scope requested: %s", sc)
		}
	}
	for _, g := range in.GrantTypes {
		if g != GrantAuthorizationCode && g != GrantRefreshToken && g != GrantDeviceCode {
			return nil, unsupportedGrantType("Unsupported grant type: %s", g)
		}
	}
	for _, u := range in.RedirectURIs {
		if !validRedirectURI(u) {
			return nil, invalidRedirectURI("Invalid redirect URI: %s", u)
		}
	}
	codeGrant := slices.Contains(in.GrantTypes, GrantAuthorizationCode)
	if codeGrant && len(in.RedirectURIs) == 0 {
		return nil, invalidRedirectURI("The authorization_code grant needs redirect URIs")
	}
	if in.IssuerURL != "" && !absoluteHTTP(in.IssuerURL) {
		return nil, invalidRequest("Invalid issuer URL")
	}
	issuer := in.IssuerURL
	if issuer != "" {
		issuer, _ = s.StartURL(issuer)
	}
	now := s.now().UTC().Truncate(time.Second)
	secret := ids.Hex(32)
	c := store.OAuthClient{ID: ids.Hex(16), SecretHash: creds.TokenHash(secret), Name: in.ClientName, Type: in.ClientType,
		Scopes: in.Scopes, RedirectURIs: in.RedirectURIs, GrantTypes: in.GrantTypes, IssuerURL: issuer,
		CreatedAt: now, SecretExpiresAt: now.Add(clientSecretLifetime)}
	err := s.store.Write(ctx, func(tx store.Tx) error {
		ok, err := spend(ctx, tx, "oauth-register:"+sourceOf(ctx), registrationsPerSource, now)
		if err != nil {
			return err
		}
		if !ok {
			return slowDown("Too many clients registered from this address; try again later")
		}
		return tx.InsertOAuthClient(ctx, c)
	})
	if err != nil {
		return nil, err
	}
	out := &registerClientOut{ClientID: c.ID, ClientSecret: secret, ClientIDIssuedAt: now.Unix(), ClientSecretExpiresAt: c.SecretExpiresAt.Unix()}
	if codeGrant {
		out.AuthorizationEndpoint, out.TokenEndpoint = s.url+"/authorize", s.url+"/token"
	}
	return out, nil
}

// absoluteHTTP reports whether u is an absolute http(s) URL.
func absoluteHTTP(u string) bool {
	p, err := url.Parse(u)
	return err == nil && (p.Scheme == "https" || p.Scheme == "http") && p.Host != "" && p.User == nil
}

// validRedirectURI accepts https URLs and plain http to a loopback address
// (the CLI's http://127.0.0.1/oauth/callback); never a fragment or userinfo.
func validRedirectURI(u string) bool {
	p, err := url.Parse(u)
	if err != nil || p.Host == "" || p.User != nil || p.Fragment != "" || p.Opaque != "" {
		return false
	}
	switch p.Scheme {
	case "https":
		return true
	case "http":
		return loopback(p.Hostname())
	}
	return false
}

// loopback reports whether host is a loopback IP literal (RFC 8252 §7.3)
// or localhost.
func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
