package oauth

import (
	"strings"
	"testing"
)

func TestStartURLAliasesNameThisInstance(t *testing.T) {
	s := New(nil, nil, Config{URL: "https://sso.example.com/", StartURLAliases: []string{"https://acme.awsapps.com/start"}})
	for u, want := range map[string]bool{
		"https://sso.example.com/start":       true,
		"https://SSO.example.com:443/start/":  true,
		"https://acme.awsapps.com/start":      true,
		"https://acme.awsapps.com/start#/":    true,
		"HTTPS://Acme.AwsApps.com/start":      true,
		"https://acme.awsapps.com/Start":      false, // paths are case-sensitive
		"https://acme.awsapps.com/start/x":    false,
		"https://other.awsapps.com/start":     false,
		"http://acme.awsapps.com/start":       false,
		"https://acme.awsapps.com.evil/start": false,
		"":                                    false,
	} {
		got, ours := s.StartURL(u)
		if ours != want {
			t.Errorf("StartURL(%q) ours = %v, want %v", u, ours, want)
		}
		if ours && got != "https://sso.example.com/start" || !ours && got != u {
			t.Errorf("StartURL(%q) recorded as %q", u, got)
		}
	}
}

// Start URLs come from unauthenticated clients: whatever they send, only
// a URL that names this instance's host is taken for it.
func FuzzStartURL(f *testing.F) {
	s := New(nil, nil, Config{URL: "https://sso.example.com", StartURLAliases: []string{"https://acme.awsapps.com/start"}})
	for _, seed := range []string{"https://acme.awsapps.com/start", "https://sso.example.com/start/", "https://acme.awsapps.com%2F@evil/start", "//acme.awsapps.com/start", ""} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, u string) {
		got, ours := s.StartURL(u)
		if !ours {
			if got != u {
				t.Fatalf("an unknown start URL %q was rewritten to %q", u, got)
			}
			return
		}
		lower := strings.ToLower(u)
		if !strings.Contains(lower, "acme.awsapps.com") && !strings.Contains(lower, "sso.example.com") {
			t.Fatalf("%q was taken for this instance", u)
		}
	})
}
