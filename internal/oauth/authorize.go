package oauth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/atrium-sso/atrium/internal/audit"
	"github.com/atrium-sso/atrium/internal/creds"
	"github.com/atrium-sso/atrium/internal/ids"
	"github.com/atrium-sso/atrium/internal/portal"
	"github.com/atrium-sso/atrium/internal/store"
)

// AuthorizeRequest is a validated GET /authorize: what the approval page
// shows and what IssueCode binds the code to.
type AuthorizeRequest struct {
	ClientID      string
	ClientName    string
	RedirectURI   string // as the request named it (a loopback port included)
	State         string
	CodeChallenge string // S256
	Scopes        []string
}

// AuthorizeError is a refused authorization request. When the client and
// its redirect URI are trusted, RedirectURL sends the error back to the
// client (RFC 6749 §4.1.2.1); otherwise it is "" and the error must be
// shown on a page — never redirected to an unverified address.
type AuthorizeError struct {
	Code        string // invalid_request, unauthorized_client, invalid_scope, unsupported_response_type, …
	Description string
	RedirectURL string
}

func (e *AuthorizeError) Error() string { return e.Code + ": " + e.Description }

// The PKCE parameters' alphabets (RFC 7636 §4.1, §4.2): a verifier is
// 43–128 unreserved characters; an S256 challenge is 32 bytes in base64url.
var (
	codeVerifier  = regexp.MustCompile(`^[A-Za-z0-9._~-]{43,128}$`)
	codeChallenge = regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)
)

// ParseAuthorize validates GET /authorize's query as the AWS CLI builds it
// (response_type=code, client_id, redirect_uri, state,
// code_challenge_method=S256, code_challenge, scopes). PKCE is required and
// S256 only: a request without a challenge, or with the plain method, is
// refused.
func (s *Service) ParseAuthorize(ctx context.Context, q url.Values) (*AuthorizeRequest, error) {
	for _, k := range []string{"response_type", "client_id", "redirect_uri", "state", "code_challenge", "code_challenge_method", "scopes"} {
		if len(q[k]) > 1 {
			return nil, &AuthorizeError{Code: "invalid_request", Description: k + " is repeated"}
		}
	}
	clientID, redirect := q.Get("client_id"), q.Get("redirect_uri")
	var c *store.OAuthClient
	if clientID != "" {
		err := s.store.Read(ctx, func(tx store.Tx) error {
			var err error
			c, err = tx.GetOAuthClient(ctx, clientID)
			return err
		})
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
	}
	if c == nil || !s.now().Before(c.SecretExpiresAt) {
		return nil, &AuthorizeError{Code: "invalid_client", Description: "The client is unknown or its registration has expired."}
	}
	if redirect == "" || !redirectMatches(c.RedirectURIs, redirect) {
		return nil, &AuthorizeError{Code: "invalid_request", Description: "The redirect URI is not one the client registered."}
	}
	req := &AuthorizeRequest{ClientID: c.ID, ClientName: c.Name, RedirectURI: redirect, State: q.Get("state"),
		CodeChallenge: q.Get("code_challenge"), Scopes: strings.Fields(q.Get("scopes"))}
	refuse := func(code, description string) error {
		return &AuthorizeError{Code: code, Description: description, RedirectURL: withParams(redirect, url.Values{
			"error": {code}, "error_description": {description}}, req.State)}
	}
	switch {
	case q.Get("response_type") != "code":
		return nil, refuse("unsupported_response_type", "Only the authorization code flow is supported.")
	case !allows(c, GrantAuthorizationCode):
		return nil, refuse("unauthorized_client", "The client is not registered for the authorization code grant.")
	case req.CodeChallenge == "":
		return nil, refuse("invalid_request", "PKCE is required: code_challenge is missing.")
	case q.Get("code_challenge_method") != "S256":
		return nil, refuse("invalid_request", "Only the S256 code challenge method is supported.")
	case !codeChallenge.MatchString(req.CodeChallenge):
		return nil, refuse("invalid_request", "The code challenge is malformed.")
	}
	for _, sc := range req.Scopes {
		if !slices.Contains(c.Scopes, sc) && sc != ScopeAccountAccess {
			return nil, refuse("invalid_scope", "The scope "+sc+" is not allowed for this client.")
		}
	}
	return req, nil
}

// IssueCode approves an authorization request on behalf of the session's
// user: it mints a single-use code, bound to the client, the redirect URI,
// the PKCE challenge and the session, valid for codeLifetime, and returns
// the redirect that hands it to the client.
func (s *Service) IssueCode(ctx context.Context, req *AuthorizeRequest, sess *portal.Session) (string, error) {
	if _, err := s.portal.Session(ctx, sess.ID); err != nil {
		return "", err
	}
	now := s.now().UTC()
	code := ids.Hex(32)
	err := s.store.Write(audit.Unrecorded(ctx), func(tx store.Tx) error {
		err := tx.InsertAuthorizationCode(ctx, store.AuthorizationCode{CodeHash: creds.TokenHash(code), ClientID: req.ClientID,
			RedirectURI: req.RedirectURI, CodeChallenge: req.CodeChallenge, SessionID: sess.ID, ExpiresAt: now.Add(codeLifetime), CreatedAt: now})
		if err != nil {
			return err
		}
		return tx.AppendAudit(ctx, s.portal.AuditEvent(ctx, sess, "ApproveAuthorizationRequest",
			map[string]string{"clientId": req.ClientID, "redirectUri": req.RedirectURI}))
	})
	if err != nil {
		return "", err
	}
	return withParams(req.RedirectURI, url.Values{"code": {code}}, req.State), nil
}

// DenyAuthorize is the redirect that tells the client the person refused.
func (s *Service) DenyAuthorize(req *AuthorizeRequest) string {
	return withParams(req.RedirectURI, url.Values{"error": {"access_denied"}, "error_description": {"The request was denied."}}, req.State)
}

// withParams adds params (and state, when there is one) to a redirect
// URI's query, keeping what it had.
func withParams(redirect string, params url.Values, state string) string {
	u, err := url.Parse(redirect)
	if err != nil {
		return ""
	}
	q := u.Query()
	for k, v := range params {
		q[k] = v
	}
	if state != "" {
		q.Set("state", state)
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// redirectMatches reports whether a request's redirect URI is one the
// client registered: exactly, or — for http to a loopback IP literal —
// with any port, since a native app listens on whatever port it gets (RFC
// 8252 §7.3; the CLI registers http://127.0.0.1/oauth/callback).
func redirectMatches(registered []string, requested string) bool {
	if slices.Contains(registered, requested) {
		return true
	}
	req, err := url.Parse(requested)
	if err != nil || req.Scheme != "http" || req.User != nil || req.Fragment != "" || !loopbackIP(req.Hostname()) {
		return false
	}
	for _, r := range registered {
		reg, err := url.Parse(r)
		if err == nil && reg.Scheme == "http" && reg.Hostname() == req.Hostname() && reg.EscapedPath() == req.EscapedPath() &&
			reg.RawQuery == req.RawQuery && reg.User == nil {
			return true
		}
	}
	return false
}

func loopbackIP(host string) bool {
	return host != "localhost" && loopback(host)
}

// pkceMatches checks a code verifier against an S256 challenge.
func pkceMatches(challenge, verifier string) bool {
	if !codeVerifier.MatchString(verifier) {
		return false
	}
	sum := sha256.Sum256([]byte(verifier))
	return subtle.ConstantTimeCompare([]byte(base64.RawURLEncoding.EncodeToString(sum[:])), []byte(challenge)) == 1
}

// --- the authorization code grant

// errCodeRefused stops a redemption that must not issue tokens; the code
// is then burnt (or, if it was used before, its tokens revoked) apart.
var errCodeRefused = errors.New("oauth: authorization code refused")

func (s *Service) redeemCode(ctx context.Context, c *store.OAuthClient, in *createTokenIn) (*createTokenOut, error) {
	switch {
	case in.Code == "":
		return nil, invalidRequest("code is required")
	case in.RedirectURI == "":
		return nil, invalidRequest("redirectUri is required")
	case in.CodeVerifier == "":
		return nil, invalidRequest("codeVerifier is required: PKCE is mandatory")
	}
	hash := creds.TokenHash(in.Code)
	now := s.now().UTC()
	var out *createTokenOut
	err := s.store.Write(ctx, func(tx store.Tx) error {
		var sess *portal.Session
		code, err := tx.UpdateAuthorizationCode(ctx, hash, func(code *store.AuthorizationCode) error {
			if !code.UsedAt.IsZero() || code.ClientID != c.ID || !now.Before(code.ExpiresAt) || code.RedirectURI != in.RedirectURI ||
				!pkceMatches(code.CodeChallenge, in.CodeVerifier) {
				return errCodeRefused
			}
			var err error
			if sess, err = s.portal.Session(ctx, code.SessionID); err != nil {
				return errCodeRefused
			}
			code.UsedAt, code.FamilyID = now, ids.UUID()
			return nil
		})
		if err != nil {
			return err
		}
		audit.Identify(ctx, sess.PrincipalARN(), s.portal.AuditAccount(ctx, sess))
		out, err = s.issue(ctx, tx, c, sess, code.FamilyID, now)
		return err
	})
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, invalidGrant("Invalid authorization code provided")
	case errors.Is(err, errCodeRefused):
		// Any presentation uses a code up; presenting it again means it
		// leaked, and the tokens it was exchanged for are revoked.
		err = s.store.Write(audit.Unrecorded(ctx), func(tx store.Tx) error {
			replayed := ""
			_, err := tx.UpdateAuthorizationCode(ctx, hash, func(code *store.AuthorizationCode) error {
				if code.UsedAt.IsZero() {
					code.UsedAt = now
				} else {
					replayed = code.FamilyID
				}
				return nil
			})
			if err != nil || replayed == "" {
				return err
			}
			_, err = tx.RevokeOAuthTokenFamily(ctx, replayed, now)
			return err
		})
		if err != nil {
			return nil, err
		}
		return nil, invalidGrant("Invalid authorization code provided")
	}
	return out, err
}
