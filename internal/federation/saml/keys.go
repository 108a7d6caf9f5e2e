package saml

import (
	"context"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"strings"
	"time"

	"github.com/atrium-sso/atrium/internal/ids"
	"github.com/atrium-sso/atrium/internal/store"
)

// Meta keys: made once per instance, the same on every node.
const (
	metaSPKeyPair   = "saml.sp.keypair"     // PEM private key + PEM certificate
	metaRequestKey  = "saml.request.key"    // hex; MACs the request cookies
	requestLifetime = 10 * time.Minute      // from our redirect to the IdP's answer
	requestCookie   = "__Host-atrium-saml-" // + RelayState
)

type keys struct {
	spKey  *rsa.PrivateKey
	spCert *x509.Certificate
	mac    []byte
}

func loadKeys(ctx context.Context, db store.Store) (*keys, error) {
	var pair, secret string
	err := db.Read(ctx, func(tx store.Tx) error {
		var err error
		pair, err = tx.GetMeta(ctx, metaSPKeyPair)
		return err
	})
	var fresh string
	if errors.Is(err, store.ErrNotFound) {
		// Made outside the transaction (RSA takes a while); the first node to
		// store one wins and everyone reads that.
		if fresh, err = newKeyPair(); err != nil {
			return nil, fmt.Errorf("saml: SP key pair: %w", err)
		}
	} else if err != nil {
		return nil, fmt.Errorf("saml: keys: %w", err)
	}
	err = db.Write(ctx, func(tx store.Tx) error {
		var err error
		if fresh != "" {
			if _, err := tx.PutMetaIfAbsent(ctx, metaSPKeyPair, fresh); err != nil {
				return err
			}
			if pair, err = tx.GetMeta(ctx, metaSPKeyPair); err != nil {
				return err
			}
		}
		if _, err := tx.PutMetaIfAbsent(ctx, metaRequestKey, ids.Hex(32)); err != nil {
			return err
		}
		secret, err = tx.GetMeta(ctx, metaRequestKey)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("saml: keys: %w", err)
	}
	k := &keys{}
	if k.spKey, k.spCert, err = parseKeyPair(pair); err != nil {
		return nil, fmt.Errorf("saml: stored SP key pair: %w", err)
	}
	raw, err := hex.DecodeString(secret)
	if err != nil || len(raw) < 32 {
		return nil, errors.New("saml: stored request key is not 32 hex bytes")
	}
	if k.mac, err = hkdf.Key(sha256.New, raw, nil, "atrium saml: request cookies", 32); err != nil {
		return nil, err
	}
	return k, nil
}

// newKeyPair is the SP's signing and encryption key: RSA (XML encryption
// needs it), in a self-signed certificate, as IdPs expect in SP metadata.
func newKeyPair() (string, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return "", err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return "", err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "Atrium SAML service provider"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.AddDate(20, 0, 0), // a container for the key: IdPs do not check it
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return "", err
	}
	pk, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return "", err
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pk})) +
		string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})), nil
}

func parseKeyPair(s string) (*rsa.PrivateKey, *x509.Certificate, error) {
	var key *rsa.PrivateKey
	var cert *x509.Certificate
	rest := []byte(s)
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		switch b.Type {
		case "PRIVATE KEY":
			k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
			if err != nil {
				return nil, nil, err
			}
			rk, ok := k.(*rsa.PrivateKey)
			if !ok {
				return nil, nil, errors.New("not an RSA key")
			}
			key = rk
		case "CERTIFICATE":
			c, err := x509.ParseCertificate(b.Bytes)
			if err != nil {
				return nil, nil, err
			}
			cert = c
		}
	}
	if key == nil || cert == nil {
		return nil, nil, errors.New("missing key or certificate")
	}
	return key, cert, nil
}

// trackedRequest is an AuthnRequest we sent, kept in the browser that went
// to the IdP with it: only that browser can complete it, and no node needs
// to remember it.
type trackedRequest struct {
	Source    string `json:"s"`
	RequestID string `json:"r"`
	Next      string `json:"n"`
	Expires   int64  `json:"e"`
}

// track returns the RelayState for t (a random handle) and the cookie value:
// t, MACed together with the handle so a cookie cannot be moved to another.
func (k *keys) track(t trackedRequest) (relay, value string, err error) {
	b, err := json.Marshal(t)
	if err != nil {
		return "", "", err
	}
	relay = ids.Hex(12)
	payload := base64.RawURLEncoding.EncodeToString(b)
	return relay, payload + "." + k.sign(relay, payload), nil
}

func (k *keys) sign(relay, payload string) string {
	m := hmac.New(sha256.New, k.mac)
	m.Write([]byte(relay + "\x00" + payload))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// tracked finds the request RelayState names, if this browser holds its
// untampered, unexpired cookie.
func (k *keys) tracked(r *http.Request, relay string, now time.Time) (trackedRequest, bool) {
	var t trackedRequest
	if !validRelay(relay) {
		return t, false
	}
	c, err := r.Cookie(requestCookie + relay)
	if err != nil {
		return t, false
	}
	payload, mac, ok := strings.Cut(c.Value, ".")
	if !ok || !hmac.Equal([]byte(mac), []byte(k.sign(relay, payload))) {
		return t, false
	}
	b, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil || json.Unmarshal(b, &t) != nil || now.Unix() >= t.Expires {
		return trackedRequest{}, false
	}
	return t, true
}

// validRelay: our handles are 24 hex digits; anything else is not ours
// (an IdP-initiated RelayState, or junk) and never names a cookie.
func validRelay(s string) bool {
	if len(s) != 24 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

// The cookie goes to the IdP's site and comes back on its cross-site POST:
// SameSite=None (Secure, and __Host- so no other host can plant one).
func setRequestCookie(rw http.ResponseWriter, relay, value string, expires time.Time) {
	http.SetCookie(rw, &http.Cookie{Name: requestCookie + relay, Value: value, Path: "/", Secure: true, HttpOnly: true,
		SameSite: http.SameSiteNoneMode, Expires: expires, MaxAge: int(requestLifetime.Seconds())})
}

func clearRequestCookie(rw http.ResponseWriter, relay string) {
	http.SetCookie(rw, &http.Cookie{Name: requestCookie + relay, Value: "", Path: "/", Secure: true, HttpOnly: true,
		SameSite: http.SameSiteNoneMode, MaxAge: -1})
}
