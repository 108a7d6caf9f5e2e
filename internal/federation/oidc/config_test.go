package oidc

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/atrium-sso/atrium/internal/apierr"
	"github.com/atrium-sso/atrium/internal/federation"
)

// discoveryServer serves an OpenID Connect discovery document, changed by edit.
func discoveryServer(t *testing.T, edit func(doc map[string]any, self string)) *httptest.Server {
	t.Helper()
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/.well-known/openid-configuration" {
			http.NotFound(w, r)
			return
		}
		doc := map[string]any{"issuer": srv.URL, "authorization_endpoint": srv.URL + "/authorize", "token_endpoint": srv.URL + "/token",
			"jwks_uri": srv.URL + "/jwks", "response_types_supported": []string{"code"}, "code_challenge_methods_supported": []string{"S256"}}
		if edit != nil {
			edit(doc, srv.URL)
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(doc)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func testProtocol() *Protocol {
	return &Protocol{client: &http.Client{Timeout: 5 * time.Second, Transport: limitedTransport{http.DefaultTransport}}, now: time.Now}
}

func checkConfig(t *testing.T, raw string) (*Config, error) {
	t.Helper()
	out, err := testProtocol().CheckConfig(context.Background(), &federation.Source{Name: "corp"}, json.RawMessage(raw))
	if err != nil {
		if _, ok := apierr.As(err); !ok {
			t.Fatalf("CheckConfig error is not an API error: %v", err)
		}
		return nil, err
	}
	var c Config
	if err := json.Unmarshal(out, &c); err != nil {
		t.Fatal(err)
	}
	return &c, nil
}

func TestCheckConfigRunsDiscoveryAndFillsDefaults(t *testing.T) {
	srv := discoveryServer(t, nil)
	c, err := checkConfig(t, `{"Issuer":"`+srv.URL+`","ClientID":"atrium"}`)
	if err != nil {
		t.Fatal(err)
	}
	if c.Issuer != srv.URL || c.ClientID != "atrium" || c.ClientSecret != "" || !slices.Equal(c.Scopes, []string{"openid", "email", "profile"}) || c.EmailClaim != "email" {
		t.Fatalf("normalised to %+v", c)
	}
	c, err = checkConfig(t, `{"Issuer":"`+srv.URL+`","ClientID":"atrium","ClientSecret":"s","Scopes":["openid","groups"],"EmailClaim":"upn"}`)
	if err != nil || c.ClientSecret != "s" || !slices.Equal(c.Scopes, []string{"openid", "groups"}) || c.EmailClaim != "upn" {
		t.Fatalf("normalised to %+v, %v", c, err)
	}
}

// A discovery document naming another issuer is how an attacker who can
// answer at one URL would make Atrium trust tokens from another (OpenID
// Connect Discovery §4.3): refused at creation.
func TestCheckConfigRefusesIssuerMismatch(t *testing.T) {
	srv := discoveryServer(t, func(doc map[string]any, _ string) { doc["issuer"] = "https://accounts.evil.example" })
	_, err := checkConfig(t, `{"Issuer":"`+srv.URL+`","ClientID":"atrium"}`)
	if err == nil || !strings.Contains(err.Error(), "accounts.evil.example") {
		t.Fatalf("CheckConfig = %v", err)
	}
	// A trailing slash is another issuer too.
	srv = discoveryServer(t, nil)
	if _, err := checkConfig(t, `{"Issuer":"`+srv.URL+`/","ClientID":"atrium"}`); err == nil {
		t.Fatal("an issuer differing by a slash was accepted")
	}
}

func TestCheckConfigRefusesBadSettings(t *testing.T) {
	srv := discoveryServer(t, nil)
	cases := map[string]string{
		"plain http off loopback": `{"Issuer":"http://idp.example.com","ClientID":"atrium"}`,
		"not a URL":               `{"Issuer":"idp.example.com","ClientID":"atrium"}`,
		"javascript URL":          `{"Issuer":"javascript:alert(1)","ClientID":"atrium"}`,
		"query in issuer":         `{"Issuer":"` + srv.URL + `?a=b","ClientID":"atrium"}`,
		"no client id":            `{"Issuer":"` + srv.URL + `"}`,
		"scopes without openid":   `{"Issuer":"` + srv.URL + `","ClientID":"atrium","Scopes":["email"]}`,
		"scope with a space":      `{"Issuer":"` + srv.URL + `","ClientID":"atrium","Scopes":["openid","a b"]}`,
		"unknown field":           `{"Issuer":"` + srv.URL + `","ClientID":"atrium","ClientSecert":"typo"}`,
		"wrong type":              `{"Issuer":"` + srv.URL + `","ClientID":"atrium","Scopes":"openid"}`,
		"not JSON":                `Issuer=x`,
		"unreachable":             `{"Issuer":"http://127.0.0.1:1","ClientID":"atrium"}`,
		"no discovery there":      `{"Issuer":"` + srv.URL + `/nothing","ClientID":"atrium"}`,
	}
	for name, raw := range cases {
		if _, err := checkConfig(t, raw); err == nil {
			t.Errorf("%s: accepted %s", name, raw)
		}
	}
}

func TestCheckConfigRefusesProvidersWeCannotUseSafely(t *testing.T) {
	for name, edit := range map[string]func(doc map[string]any, self string){
		"plain PKCE only":          func(doc map[string]any, _ string) { doc["code_challenge_methods_supported"] = []string{"plain"} },
		"no code flow":             func(doc map[string]any, _ string) { doc["response_types_supported"] = []string{"id_token"} },
		"no JWKS":                  func(doc map[string]any, _ string) { delete(doc, "jwks_uri") },
		"token endpoint over http": func(doc map[string]any, _ string) { doc["token_endpoint"] = "http://idp.example.com/token" },
	} {
		srv := discoveryServer(t, edit)
		if _, err := checkConfig(t, `{"Issuer":"`+srv.URL+`","ClientID":"atrium"}`); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// The answer a slow IdP never finishes does not hold the admin API.
func TestCheckConfigDiscoveryTimesOut(t *testing.T) {
	block := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-block }))
	defer srv.Close()
	defer close(block)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := testProtocol().CheckConfig(ctx, &federation.Source{}, json.RawMessage(`{"Issuer":"`+srv.URL+`","ClientID":"atrium"}`))
	if err == nil || !strings.Contains(err.Error(), "no answer in time") || time.Since(start) > 5*time.Second {
		t.Fatalf("CheckConfig = %v after %s", err, time.Since(start))
	}
}

// The secret never appears in an error, whatever is wrong.
func TestCheckConfigErrorsDoNotEchoTheSecret(t *testing.T) {
	srv := discoveryServer(t, func(doc map[string]any, _ string) { doc["issuer"] = "https://other.example" })
	for _, raw := range []string{
		`{"Issuer":"` + srv.URL + `","ClientID":"atrium","ClientSecret":"hunter2-secret"}`,
		`{"Issuer":"` + srv.URL + `","ClientID":"atrium","ClientSecret":"hunter2-secret","Scopes":7}`,
		`{"Issuer":"` + srv.URL + `","ClientID":"atrium","ClientSecret":"hunter2-secret",}`,
	} {
		_, err := checkConfig(t, raw)
		if err == nil || strings.Contains(err.Error(), "hunter2") {
			t.Fatalf("CheckConfig(%s) = %v", raw, err)
		}
	}
}
