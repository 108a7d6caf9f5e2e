package oauth

import (
	"net/url"
	"regexp"
	"testing"
)

// A redirect URI a request names matches a registered one only exactly,
// or as http to the same loopback IP, path and query with another port.
func FuzzRedirectMatches(f *testing.F) {
	registered := []string{"http://127.0.0.1/oauth/callback", "https://app.example.com/cb"}
	for _, seed := range []string{"http://127.0.0.1:4242/oauth/callback", "http://127.0.0.1:4242/oauth/callback/..", "http://127.0.0.1@evil/oauth/callback",
		"http://[::1]:80/oauth/callback", "https://app.example.com/cb", "http://127.0.0.1:1/oauth/callback?x", "HTTP://127.0.0.1/oauth/callback"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, requested string) {
		if !redirectMatches(registered, requested) || requested == registered[0] || requested == registered[1] {
			return
		}
		u, err := url.Parse(requested)
		if err != nil || u.Scheme != "http" || u.Hostname() != "127.0.0.1" || u.EscapedPath() != "/oauth/callback" || u.RawQuery != "" ||
			u.User != nil || u.Fragment != "" {
			t.Fatalf("%q matched %v", requested, registered)
		}
	})
}

var userCodeShape = regexp.MustCompile(`^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$`)

// Whatever a person types becomes a well-formed code or nothing.
func FuzzNormalizeUserCode(f *testing.F) {
	for _, seed := range []string{"BCDF-GHJK", "bcdfghjk", " bcdf ghjk ", "BCDF--GHJK", "ÄÖÜ-ßßßß", ""} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, typed string) {
		if c := normalizeUserCode(typed); c != "" && !userCodeShape.MatchString(c) {
			t.Fatalf("%q became %q", typed, c)
		}
	})
}
