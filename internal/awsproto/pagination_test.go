package awsproto

import (
	"strings"
	"testing"
)

func TestPagerRoundTrip(t *testing.T) {
	p := NewPager([]byte("0123456789abcdef0123456789abcdef"))
	tok := p.Token("ListAccounts", "123456789012")
	if strings.Contains(tok, "123456789012") {
		t.Fatalf("token shows its cursor: %s", tok)
	}
	c, ok := p.Cursor("ListAccounts", tok)
	if !ok || c != "123456789012" {
		t.Fatalf("Cursor = %q, %v", c, ok)
	}
}

func TestForgedOrMovedTokensAreRefused(t *testing.T) {
	p := NewPager([]byte("0123456789abcdef0123456789abcdef"))
	other := NewPager([]byte("another key, another deployment"))
	tok := p.Token("ListAccounts", "123456789012")
	// A middle character, changed to another: every bit of it is payload
	// (the last one may carry padding bits that decoding ignores).
	mid := len(tok) / 2
	edited := tok[:mid] + map[bool]string{true: "B", false: "A"}[tok[mid] == 'A'] + tok[mid+1:]
	for name, bad := range map[string]struct{ scope, token string }{
		"other operation": {"ListChildren/r-abcd/ACCOUNT", tok},
		"other key":       {"ListAccounts", other.Token("ListAccounts", "123456789012")},
		"edited":          {"ListAccounts", edited},
		"truncated":       {"ListAccounts", tok[:10]},
		"not base64":      {"ListAccounts", "!!!"},
		"empty":           {"ListAccounts", ""},
	} {
		if c, ok := p.Cursor(bad.scope, bad.token); ok {
			t.Errorf("%s: accepted, cursor %q", name, c)
		}
	}
}

func FuzzPagerCursor(f *testing.F) {
	p := NewPager([]byte("0123456789abcdef0123456789abcdef"))
	f.Add(p.Token("ListAccounts", "123456789012"))
	f.Add("")
	f.Add("AAAA")
	f.Fuzz(func(t *testing.T, token string) {
		// Only tokens the pager sealed open; the fuzzer cannot forge one.
		if c, ok := p.Cursor("ListAccounts", token); ok && c != "123456789012" {
			t.Fatalf("accepted a token it did not make: %q -> %q", token, c)
		}
	})
}
