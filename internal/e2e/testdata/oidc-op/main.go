// Command oidc-op is an OpenID provider for Atrium's end-to-end tests: the
// authorization code flow with PKCE (S256 only), a login form, discovery,
// JWKS, RS256 ID tokens signed with go-jose, and userinfo. It plays the
// company IdP (Keycloak, Dex, Entra ID) the way a browser meets one.
//
//	oidc-op -listen 127.0.0.1:0 -client-id atrium -client-secret s3cret \
//	        -redirect-uri http://localhost:8080/oidc/corp/callback \
//	        -user 'ada:Ada-Passw0rd:ada@example.com:Ada:Lovelace'
//
// It prints "issuer=<URL>" on standard output once it listens.
package main

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"html/template"
	"log"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

type user struct {
	Name, Password, Email, Given, Family string
}

type users []user

func (u *users) String() string { return fmt.Sprint(len(*u), " users") }
func (u *users) Set(v string) error {
	f := strings.Split(v, ":")
	if len(f) != 5 {
		return fmt.Errorf("want name:password:email:given:family, got %q", v)
	}
	*u = append(*u, user{f[0], f[1], f[2], f[3], f[4]})
	return nil
}

// request is an authorization request waiting for the person to sign in.
type request struct {
	RedirectURI, State, Nonce, Challenge, Scope string
	Expires                                     time.Time
}

// grant is an issued authorization code, or an access token.
type grant struct {
	request
	User user
}

type provider struct {
	issuer       string
	clientID     string
	clientSecret string
	redirectURIs []string
	users        []user
	key          *rsa.PrivateKey
	kid          string
	signer       jose.Signer

	mu       sync.Mutex
	pending  map[string]request
	codes    map[string]grant
	accesses map[string]grant
}

func main() {
	var p provider
	var us users
	var redirects multi
	listen := flag.String("listen", "127.0.0.1:0", "address to listen on")
	flag.StringVar(&p.clientID, "client-id", "atrium", "the one registered client")
	flag.StringVar(&p.clientSecret, "client-secret", "", "its secret (empty: a public client, PKCE alone)")
	flag.Var(&redirects, "redirect-uri", "a registered redirect URI (repeatable)")
	flag.Var(&us, "user", "name:password:email:given:family (repeatable)")
	flag.Parse()
	p.users, p.redirectURIs = us, redirects

	var err error
	if p.key, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		log.Fatal(err)
	}
	p.kid = random(8)
	p.signer, err = jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: p.key, KeyID: p.kid}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		log.Fatal(err)
	}
	p.pending, p.codes, p.accesses = map[string]request{}, map[string]grant{}, map[string]grant{}

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatal(err)
	}
	p.issuer = "http://" + ln.Addr().String()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", p.discovery)
	mux.HandleFunc("GET /jwks", p.jwks)
	mux.HandleFunc("GET /authorize", p.authorize)
	mux.HandleFunc("POST /authorize", p.login)
	mux.HandleFunc("POST /token", p.token)
	mux.HandleFunc("GET /userinfo", p.userinfo)
	// Browsers ask every host for one; a 404 would be a console error.
	mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	fmt.Printf("issuer=%s\n", p.issuer)
	os.Stdout.Sync()
	log.Fatal(http.Serve(ln, mux))
}

type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(v string) error { *m = append(*m, v); return nil }

func random(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func (p *provider) discovery(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, 200, map[string]any{
		"issuer":                                p.issuer,
		"authorization_endpoint":                p.issuer + "/authorize",
		"token_endpoint":                        p.issuer + "/token",
		"userinfo_endpoint":                     p.issuer + "/userinfo",
		"jwks_uri":                              p.issuer + "/jwks",
		"response_types_supported":              []string{"code"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"scopes_supported":                      []string{"openid", "email", "profile"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post", "none"},
		"code_challenge_methods_supported":      []string{"S256"},
		"claims_supported":                      []string{"sub", "email", "email_verified", "name", "given_name", "family_name"},
	})
}

func (p *provider) jwks(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, 200, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &p.key.PublicKey, KeyID: p.kid, Algorithm: "RS256", Use: "sig"}}})
}

// authorize checks the request as RFC 6749 §4.1 and OIDC Core §3.1.2 say,
// then shows the login form. Errors before the redirect URI is known to be
// registered are shown here, never sent to it.
func (p *provider) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("client_id") != p.clientID {
		http.Error(w, "unknown client_id", http.StatusBadRequest)
		return
	}
	redirect := q.Get("redirect_uri")
	if !slices.Contains(p.redirectURIs, redirect) {
		http.Error(w, "redirect_uri is not registered", http.StatusBadRequest)
		return
	}
	fail := func(code string) {
		p.redirectBack(w, r, redirect, url.Values{"error": {code}, "state": {q.Get("state")}})
	}
	switch {
	case q.Get("response_type") != "code":
		fail("unsupported_response_type")
	case !slices.Contains(strings.Fields(q.Get("scope")), "openid"):
		fail("invalid_scope")
	case q.Get("code_challenge_method") != "S256" || len(q.Get("code_challenge")) != 43:
		fail("invalid_request")
	default:
		id := random(16)
		p.mu.Lock()
		p.pending[id] = request{RedirectURI: redirect, State: q.Get("state"), Nonce: q.Get("nonce"),
			Challenge: q.Get("code_challenge"), Scope: q.Get("scope"), Expires: time.Now().Add(10 * time.Minute)}
		p.mu.Unlock()
		loginPage(w, id, "")
	}
}

var page = template.Must(template.New("login").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Example Corp sign-in</title></head>
<body><main><h1>Example Corp sign-in</h1>
{{if .Error}}<p role="alert">{{.Error}}</p>{{end}}
<form method="post" action="/authorize">
<input type="hidden" name="request" value="{{.Request}}">
<label for="username">Corporate username</label> <input id="username" name="username" autocomplete="username">
<label for="password">Corporate password</label> <input id="password" name="password" type="password" autocomplete="current-password">
<button type="submit" name="action" value="login">Continue</button>
<button type="submit" name="action" value="cancel">Cancel</button>
</form></main></body></html>`))

func loginPage(w http.ResponseWriter, id, msg string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if msg != "" {
		w.WriteHeader(http.StatusUnauthorized)
	}
	page.Execute(w, map[string]string{"Request": id, "Error": msg})
}

func (p *provider) redirectBack(w http.ResponseWriter, r *http.Request, redirect string, v url.Values) {
	v.Set("iss", p.issuer)
	sep := "?"
	if strings.Contains(redirect, "?") {
		sep = "&"
	}
	http.Redirect(w, r, redirect+sep+v.Encode(), http.StatusFound)
}

func (p *provider) login(w http.ResponseWriter, r *http.Request) {
	id := r.PostFormValue("request")
	p.mu.Lock()
	req, ok := p.pending[id]
	p.mu.Unlock()
	if !ok || time.Now().After(req.Expires) {
		http.Error(w, "this sign-in has expired; start again", http.StatusBadRequest)
		return
	}
	if r.PostFormValue("action") == "cancel" {
		p.mu.Lock()
		delete(p.pending, id)
		p.mu.Unlock()
		p.redirectBack(w, r, req.RedirectURI, url.Values{"error": {"access_denied"}, "state": {req.State}})
		return
	}
	var who *user
	for i, u := range p.users {
		if u.Name == r.PostFormValue("username") && subtle.ConstantTimeCompare([]byte(u.Password), []byte(r.PostFormValue("password"))) == 1 {
			who = &p.users[i]
		}
	}
	if who == nil {
		loginPage(w, id, "Wrong username or password.")
		return
	}
	code := random(24)
	p.mu.Lock()
	delete(p.pending, id)
	req.Expires = time.Now().Add(time.Minute)
	p.codes[code] = grant{request: req, User: *who}
	p.mu.Unlock()
	p.redirectBack(w, r, req.RedirectURI, url.Values{"code": {code}, "state": {req.State}})
}

func tokenError(w http.ResponseWriter, status int, code string) {
	writeJSON(w, status, map[string]string{"error": code})
}

// token redeems a code once, for the registered client, with the PKCE
// verifier whose S256 hash was the challenge (RFC 7636 §4.6).
func (p *provider) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		tokenError(w, 400, "invalid_request")
		return
	}
	id, secret, basic := r.BasicAuth()
	if basic {
		id, _ = url.QueryUnescape(id)
		secret, _ = url.QueryUnescape(secret)
	} else {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if id != p.clientID || subtle.ConstantTimeCompare([]byte(secret), []byte(p.clientSecret)) != 1 {
		w.Header().Set("WWW-Authenticate", `Basic realm="token"`)
		tokenError(w, 401, "invalid_client")
		return
	}
	if r.PostForm.Get("grant_type") != "authorization_code" {
		tokenError(w, 400, "unsupported_grant_type")
		return
	}
	code := r.PostForm.Get("code")
	p.mu.Lock()
	g, ok := p.codes[code]
	delete(p.codes, code)
	p.mu.Unlock()
	if !ok || time.Now().After(g.Expires) || g.RedirectURI != r.PostForm.Get("redirect_uri") {
		tokenError(w, 400, "invalid_grant")
		return
	}
	sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
	if base64.RawURLEncoding.EncodeToString(sum[:]) != g.Challenge {
		tokenError(w, 400, "invalid_grant")
		return
	}
	access := random(32)
	g.Expires = time.Now().Add(5 * time.Minute)
	p.mu.Lock()
	p.accesses[access] = g
	p.mu.Unlock()

	now := time.Now()
	atHash := sha256.Sum256([]byte(access))
	claims := p.claims(g)
	claims["iss"], claims["aud"], claims["iat"], claims["exp"], claims["auth_time"] = p.issuer, p.clientID, now.Unix(), now.Add(5*time.Minute).Unix(), now.Unix()
	claims["at_hash"] = base64.RawURLEncoding.EncodeToString(atHash[:16])
	if g.Nonce != "" {
		claims["nonce"] = g.Nonce
	}
	payload, _ := json.Marshal(claims)
	jws, err := p.signer.Sign(payload)
	if err != nil {
		tokenError(w, 500, "server_error")
		return
	}
	idToken, _ := jws.CompactSerialize()
	writeJSON(w, 200, map[string]any{"access_token": access, "token_type": "Bearer", "expires_in": 300, "id_token": idToken, "scope": g.Scope})
}

// claims are what the granted scopes release about the user.
func (p *provider) claims(g grant) map[string]any {
	sub := sha256.Sum256([]byte("sub:" + g.User.Name))
	c := map[string]any{"sub": base64.RawURLEncoding.EncodeToString(sub[:12])}
	scopes := strings.Fields(g.Scope)
	if slices.Contains(scopes, "email") {
		c["email"], c["email_verified"] = g.User.Email, true
	}
	if slices.Contains(scopes, "profile") {
		c["name"], c["given_name"], c["family_name"] = g.User.Given+" "+g.User.Family, g.User.Given, g.User.Family
		c["preferred_username"] = g.User.Name
	}
	return c
}

func (p *provider) userinfo(w http.ResponseWriter, r *http.Request) {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	p.mu.Lock()
	g, found := p.accesses[token]
	p.mu.Unlock()
	if !ok || !found || time.Now().After(g.Expires) {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		tokenError(w, 401, "invalid_token")
		return
	}
	writeJSON(w, 200, p.claims(g))
}
