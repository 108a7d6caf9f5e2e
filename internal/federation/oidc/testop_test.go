package oidc_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// testOP is an OpenID provider in the test process, honest by default (the
// code flow with PKCE, RS256 tokens, JWKS, userinfo), whose knobs make it
// play each attack: a token signed by another key, for another audience, a
// replayed token, an IdP that forgets PKCE... The end-to-end tests use a
// separately built provider (internal/e2e/testdata/oidc-op).
type testOP struct {
	t        *testing.T
	srv      *httptest.Server
	key      *rsa.PrivateKey
	otherKey *rsa.PrivateKey // not in the JWKS
	kid      string
	clientID string
	secret   string

	mu sync.Mutex
	// user is who signs in at the next authorization request.
	user map[string]any
	// forge changes the ID token's claims before it is signed.
	forge func(claims map[string]any)
	// signWith is "" (the published key), "other" (an unpublished key with
	// the same kid) or "none" (alg none, unsigned).
	signWith string
	// ignorePKCE makes the token endpoint skip the code_verifier check (a lax IdP).
	ignorePKCE bool
	// replay answers the next token request with this ID token instead.
	replay string
	// discoveryIssuer, when set, is the issuer the discovery document claims.
	discoveryIssuer string
	// discoveryDown makes discovery answer 503 after discoveryDelay;
	// discoveries counts the discovery requests.
	discoveryDown  bool
	discoveryDelay time.Duration
	discoveries    int
	codes          map[string]opGrant
	access         map[string]map[string]any
	// issued are the ID tokens handed out, in order.
	issued []string
	// lastAuthorize is the last authorization request's query.
	lastAuthorize url.Values
	// tokenRequests are the token endpoint's requests, in order.
	tokenRequests []tokenRequest
}

type tokenRequest struct {
	basic bool // the client authenticated with HTTP Basic
	form  url.Values
}

type opGrant struct {
	redirectURI, challenge, nonce string
	user                          map[string]any
}

func newTestOP(t *testing.T) *testOP {
	t.Helper()
	op := &testOP{t: t, kid: "k1", clientID: "atrium-client", secret: "op-client-secret",
		codes: map[string]opGrant{}, access: map[string]map[string]any{}}
	var err error
	if op.key, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		t.Fatal(err)
	}
	if op.otherKey, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		t.Fatal(err)
	}
	op.user = map[string]any{"sub": "sub-ada", "email": "ada@example.com", "email_verified": true,
		"name": "Ada Lovelace", "given_name": "Ada", "family_name": "Lovelace", "groups": []string{"eng", "ops"}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", op.discovery)
	mux.HandleFunc("GET /jwks", op.jwks)
	mux.HandleFunc("GET /authorize", op.authorize)
	mux.HandleFunc("POST /token", op.token)
	mux.HandleFunc("GET /userinfo", op.userinfo)
	op.srv = httptest.NewServer(mux)
	t.Cleanup(op.srv.Close)
	return op
}

func (op *testOP) issuer() string { return op.srv.URL }

func (op *testOP) set(fn func(op *testOP)) {
	op.mu.Lock()
	defer op.mu.Unlock()
	fn(op)
}

func opJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func (op *testOP) discovery(w http.ResponseWriter, r *http.Request) {
	op.mu.Lock()
	iss, down, delay := op.discoveryIssuer, op.discoveryDown, op.discoveryDelay
	op.discoveries++
	op.mu.Unlock()
	time.Sleep(delay)
	if down {
		http.Error(w, "upstream unavailable", http.StatusServiceUnavailable)
		return
	}
	if iss == "" {
		iss = op.issuer()
	}
	opJSON(w, 200, map[string]any{
		"issuer": iss, "authorization_endpoint": op.issuer() + "/authorize", "token_endpoint": op.issuer() + "/token",
		"jwks_uri": op.issuer() + "/jwks", "userinfo_endpoint": op.issuer() + "/userinfo",
		"response_types_supported": []string{"code"}, "id_token_signing_alg_values_supported": []string{"RS256"},
		"code_challenge_methods_supported": []string{"S256"}, "subject_types_supported": []string{"public"},
	})
}

func (op *testOP) jwks(w http.ResponseWriter, r *http.Request) {
	opJSON(w, 200, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &op.key.PublicKey, KeyID: op.kid, Algorithm: "RS256", Use: "sig"}}})
}

// authorize signs op.user in at once and sends the browser back with a code.
func (op *testOP) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	op.mu.Lock()
	defer op.mu.Unlock()
	op.lastAuthorize = q
	if q.Get("client_id") != op.clientID || q.Get("response_type") != "code" || q.Get("code_challenge_method") != "S256" {
		http.Error(w, "bad authorization request", 400)
		return
	}
	code := randomString()
	op.codes[code] = opGrant{redirectURI: q.Get("redirect_uri"), challenge: q.Get("code_challenge"), nonce: q.Get("nonce"), user: op.user}
	http.Redirect(w, r, q.Get("redirect_uri")+"?"+url.Values{"code": {code}, "state": {q.Get("state")}}.Encode(), http.StatusFound)
}

func (op *testOP) token(w http.ResponseWriter, r *http.Request) {
	op.mu.Lock()
	defer op.mu.Unlock()
	id, secret, basic := r.BasicAuth()
	if basic {
		id, _ = url.QueryUnescape(id)
		secret, _ = url.QueryUnescape(secret)
	} else {
		id, secret = r.PostFormValue("client_id"), r.PostFormValue("client_secret")
	}
	op.tokenRequests = append(op.tokenRequests, tokenRequest{basic: basic, form: r.PostForm})
	if id != op.clientID || secret != op.secret {
		opJSON(w, 401, map[string]string{"error": "invalid_client"})
		return
	}
	code := r.PostFormValue("code")
	g, ok := op.codes[code]
	delete(op.codes, code)
	if !ok || g.redirectURI != r.PostFormValue("redirect_uri") {
		opJSON(w, 400, map[string]string{"error": "invalid_grant"})
		return
	}
	sum := sha256.Sum256([]byte(r.PostFormValue("code_verifier")))
	if !op.ignorePKCE && base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge {
		opJSON(w, 400, map[string]string{"error": "invalid_grant", "error_description": "PKCE verification failed"})
		return
	}
	access := randomString()
	op.access[access] = g.user
	claims := map[string]any{"iss": op.issuer(), "aud": op.clientID, "iat": time.Now().Unix(), "exp": time.Now().Add(5 * time.Minute).Unix()}
	for k, v := range g.user {
		claims[k] = v
	}
	if g.nonce != "" {
		claims["nonce"] = g.nonce
	}
	if op.forge != nil {
		op.forge(claims)
	}
	idToken := op.sign(claims)
	if op.replay != "" {
		idToken, op.replay = op.replay, ""
	}
	op.issued = append(op.issued, idToken)
	opJSON(w, 200, map[string]any{"access_token": access, "token_type": "Bearer", "expires_in": 300, "id_token": idToken})
}

func (op *testOP) sign(claims map[string]any) string {
	payload, err := json.Marshal(claims)
	if err != nil {
		op.t.Fatal(err)
	}
	if op.signWith == "none" {
		head := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`))
		return head + "." + base64.RawURLEncoding.EncodeToString(payload) + "."
	}
	key := op.key
	if op.signWith == "other" {
		key = op.otherKey
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key, KeyID: op.kid}}, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		op.t.Fatal(err)
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		op.t.Fatal(err)
	}
	s, err := jws.CompactSerialize()
	if err != nil {
		op.t.Fatal(err)
	}
	return s
}

func (op *testOP) userinfo(w http.ResponseWriter, r *http.Request) {
	op.mu.Lock()
	defer op.mu.Unlock()
	user, ok := op.access[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")]
	if !ok {
		opJSON(w, 401, map[string]string{"error": "invalid_token"})
		return
	}
	opJSON(w, 200, user)
}

func randomString() string {
	b := make([]byte, 24)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
