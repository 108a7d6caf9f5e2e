package oidc

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"
	"time"
)

func testSealer(t testing.TB, secret byte) *sealer {
	t.Helper()
	s, err := newSealer(bytes.Repeat([]byte{secret}, 32))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func testFlow() *flow {
	return &flow{Source: "idp-0123456789abcdef", State: "state", Nonce: "nonce", Verifier: "verifier", Next: "/start",
		Expires: time.Now().Add(flowLifetime).Unix()}
}

func TestFlowCookieRoundTrips(t *testing.T) {
	s := testSealer(t, 1)
	f := testFlow()
	got, err := s.open(s.seal(f), time.Now())
	if err != nil || *got != *f {
		t.Fatalf("open(seal(f)) = %+v, %v", got, err)
	}
}

// A flow cookie sealed by another installation, altered by a bit, cut
// short, or past its ten minutes is no flow.
func TestTamperedOrForeignFlowCookieIsRejected(t *testing.T) {
	s := testSealer(t, 1)
	value := s.seal(testFlow())
	raw, _ := base64.RawURLEncoding.DecodeString(value)
	flipped := bytes.Clone(raw)
	flipped[len(flipped)/2] ^= 1
	expired := testFlow()
	expired.Expires = time.Now().Add(-time.Second).Unix()
	for name, v := range map[string]string{
		"another key": testSealer(t, 2).seal(testFlow()),
		"bit flipped": base64.RawURLEncoding.EncodeToString(flipped),
		"truncated":   value[:len(value)-4],
		"empty":       "",
		"not base64":  "!!!",
		"expired":     s.seal(expired),
		"oversized":   strings.Repeat("A", 5000),
	} {
		if f, err := s.open(v, time.Now()); err == nil {
			t.Errorf("%s: opened %+v", name, f)
		}
	}
}

func TestCookieKeyMustBeLongEnough(t *testing.T) {
	if _, err := newSealer(make([]byte, 16)); err == nil {
		t.Fatal("a 16-byte cookie key was accepted")
	}
}

// FuzzFlowCookie feeds the flow cookie decoder what a browser (or an
// attacker) may send: it never panics, and only what we sealed opens.
func FuzzFlowCookie(f *testing.F) {
	s := testSealer(f, 7)
	f.Add(s.seal(testFlow()))
	f.Add("")
	f.Add("AAAA")
	f.Add(strings.Repeat("_", 60))
	f.Fuzz(func(t *testing.T, value string) {
		got, err := s.open(value, time.Now())
		if err != nil {
			return
		}
		// It opened: it must be a whole flow that round-trips.
		if got.State == "" || got.Nonce == "" || got.Verifier == "" || got.Source == "" {
			t.Fatalf("opened an incomplete flow %+v", got)
		}
		again, err := s.open(s.seal(got), time.Now())
		if err != nil || *again != *got {
			t.Fatalf("re-sealed flow does not round-trip: %+v, %v", again, err)
		}
	})
}
