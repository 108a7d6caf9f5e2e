package oidc

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"time"
)

// flowCookie holds the sealed state of one sign-in at an OIDC provider.
// __Host-: Secure, Path=/, no Domain, so no sibling host can plant one.
// Lax: the IdP sends the browser back with a top-level GET from its origin.
const flowCookie = "__Host-atrium-oidc"

// flowLifetime is how long a person may take at the IdP.
const flowLifetime = 10 * time.Minute

// metaCookieKey names the store's secret behind the flow cookie: every node
// reads the same one, so the callback may reach another node than the start.
const metaCookieKey = "federation-oidc-cookie-key"

// flow is what the start leaves for the callback; only this browser holds it.
type flow struct {
	Source   string // the source's id: a flow started for one IdP is refused by another
	State    string
	Nonce    string
	Verifier string // PKCE code verifier
	Next     string // local path to come back to
	Expires  int64  // unix seconds
}

// sealer seals flows with AES-GCM; the cookie's name is the associated data.
type sealer struct{ aead cipher.AEAD }

func newSealer(secret []byte) (*sealer, error) {
	if len(secret) < 32 {
		return nil, errors.New("oidc: cookie key too short")
	}
	key, err := hkdf.Key(sha256.New, secret, nil, "atrium federation oidc: flow cookie", 32)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &sealer{aead: aead}, nil
}

func (s *sealer) seal(f *flow) string {
	plain, _ := json.Marshal(f)
	nonce := make([]byte, s.aead.NonceSize())
	rand.Read(nonce)
	return base64.RawURLEncoding.EncodeToString(s.aead.Seal(nonce, nonce, plain, []byte(flowCookie)))
}

var errNoFlow = errors.New("oidc: no valid sign-in flow cookie")

// open returns the flow sealed in value, if it is ours, whole and unexpired.
func (s *sealer) open(value string, now time.Time) (*flow, error) {
	if value == "" || len(value) > 4096 {
		return nil, errNoFlow
	}
	raw, err := base64.RawURLEncoding.DecodeString(value)
	n := s.aead.NonceSize()
	if err != nil || len(raw) < n+s.aead.Overhead() {
		return nil, errNoFlow
	}
	plain, err := s.aead.Open(nil, raw[:n], raw[n:], []byte(flowCookie))
	if err != nil {
		return nil, errNoFlow
	}
	var f flow
	if err := json.Unmarshal(plain, &f); err != nil || f.State == "" || f.Nonce == "" || f.Verifier == "" || f.Source == "" {
		return nil, errNoFlow
	}
	if now.Unix() >= f.Expires {
		return nil, errNoFlow
	}
	return &f, nil
}

func setFlowCookie(rw http.ResponseWriter, value string, expires time.Time) {
	http.SetCookie(rw, &http.Cookie{Name: flowCookie, Value: value, Path: "/", Secure: true, HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Expires: expires, MaxAge: int(flowLifetime.Seconds())})
}

func clearFlowCookie(rw http.ResponseWriter) {
	http.SetCookie(rw, &http.Cookie{Name: flowCookie, Value: "", Path: "/", Secure: true, HttpOnly: true,
		SameSite: http.SameSiteLaxMode, MaxAge: -1})
}
