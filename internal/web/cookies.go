package web

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"time"
)

// Cookies. The __Host- prefix makes the browser insist on Secure, Path=/
// and no Domain, so no other host (a sibling subdomain) can set or shadow
// them. Browsers count http://localhost and http://127.0.0.1 as secure, so
// this holds on a laptop too.
const (
	// sessionCookie holds the portal session token (only its hash is stored).
	// Lax: a link from elsewhere to /start or /device finds the person signed in.
	sessionCookie = "__Host-atrium-session"
	// flowCookie holds the sealed state of a sign-in in progress.
	flowCookie = "__Host-atrium-signin"
	// deviceCookie holds signin's remembered-device token: a browser where
	// MFA was passed, for the "only when the sign-in context changes" prompt.
	deviceCookie = "__Host-atrium-device"
)

// keys seal cookie values (AES-GCM, the cookie's name as associated data,
// so one cookie's value is refused as another's) and derive form tokens.
type keys struct {
	aead cipher.AEAD
	mac  []byte
}

func newKeys(secret []byte) (*keys, error) {
	if len(secret) < 32 {
		return nil, errors.New("web: cookie key too short")
	}
	enc, err := hkdf.Key(sha256.New, secret, nil, "atrium web: sealed cookies", 32)
	if err != nil {
		return nil, err
	}
	mac, err := hkdf.Key(sha256.New, secret, nil, "atrium web: form tokens", 32)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(enc)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &keys{aead: aead, mac: mac}, nil
}

func (k *keys) seal(name string, v any) (string, error) {
	plain, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	nonce := make([]byte, k.aead.NonceSize())
	rand.Read(nonce)
	return base64.RawURLEncoding.EncodeToString(k.aead.Seal(nonce, nonce, plain, []byte(name))), nil
}

var errBadSeal = errors.New("web: cookie value not sealed by us")

func (k *keys) open(name, value string, v any) error {
	raw, err := base64.RawURLEncoding.DecodeString(value)
	if err != nil || len(raw) < k.aead.NonceSize() {
		return errBadSeal
	}
	n := k.aead.NonceSize()
	plain, err := k.aead.Open(nil, raw[:n], raw[n:], []byte(name))
	if err != nil {
		return errBadSeal
	}
	return json.Unmarshal(plain, v)
}

// formToken is the anti-forgery token of forms shown to the holder of
// binding (a sign-in flow id or a session id): a page from another origin
// cannot read it, and it changes whenever the binding does.
func (k *keys) formToken(binding string) string {
	m := hmac.New(sha256.New, k.mac)
	m.Write([]byte("form\x00" + binding))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func (k *keys) checkFormToken(binding, token string) bool {
	return binding != "" && hmac.Equal([]byte(k.formToken(binding)), []byte(token))
}

func setCookie(rw http.ResponseWriter, name, value string, expires time.Time, sameSite http.SameSite) {
	c := &http.Cookie{Name: name, Value: value, Path: "/", Secure: true, HttpOnly: true, SameSite: sameSite}
	if !expires.IsZero() {
		c.Expires = expires
		c.MaxAge = max(1, int(time.Until(expires).Seconds()))
	}
	http.SetCookie(rw, c)
}

func clearCookie(rw http.ResponseWriter, name string) {
	http.SetCookie(rw, &http.Cookie{Name: name, Value: "", Path: "/", Secure: true, HttpOnly: true, MaxAge: -1})
}

func cookieValue(r *http.Request, name string) string {
	c, err := r.Cookie(name)
	if err != nil {
		return ""
	}
	return c.Value
}
