package web

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"testing"
)

// softKey is a WebAuthn authenticator in software (ES256, "none"
// attestation), so tests can register and use a security key without a
// browser. The browser tests use Chromium's virtual authenticator instead.
type softKey struct {
	key    *ecdsa.PrivateKey
	id     []byte
	rpID   string
	origin string
	user   []byte
	count  uint32
}

func newSoftKey(rpID, origin string) *softKey {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	id := make([]byte, 16)
	rand.Read(id)
	return &softKey{key: key, id: id, rpID: rpID, origin: origin}
}

var b64 = base64.RawURLEncoding

type ceremonyOptions struct {
	PublicKey struct {
		Challenge string `json:"challenge"`
		User      struct {
			ID string `json:"id"`
		} `json:"user"`
	} `json:"publicKey"`
}

func (k *softKey) clientData(t *testing.T, kind string, optionsJSON []byte) ([]byte, ceremonyOptions) {
	t.Helper()
	var o ceremonyOptions
	if err := json.Unmarshal(optionsJSON, &o); err != nil || o.PublicKey.Challenge == "" {
		t.Fatalf("ceremony options %s: %v", optionsJSON, err)
	}
	cd, _ := json.Marshal(map[string]any{"type": kind, "challenge": o.PublicKey.Challenge, "origin": k.origin, "crossOrigin": false})
	return cd, o
}

// authData is the authenticator data: RP id hash, flags (user present and
// verified, plus attested data when cred is given), counter, credential.
func (k *softKey) authData(cred []byte) []byte {
	h := sha256.Sum256([]byte(k.rpID))
	flags := byte(0x01 | 0x04)
	if cred != nil {
		flags |= 0x40
	}
	k.count++
	out := append(h[:], flags)
	out = binary.BigEndian.AppendUint32(out, k.count)
	return append(out, cred...)
}

// create answers navigator.credentials.create, as the JSON a page posts.
func (k *softKey) create(t *testing.T, optionsJSON []byte) string {
	t.Helper()
	cd, o := k.clientData(t, "webauthn.create", optionsJSON)
	k.user, _ = b64.DecodeString(o.PublicKey.User.ID)
	x, y := k.key.PublicKey.X.FillBytes(make([]byte, 32)), k.key.PublicKey.Y.FillBytes(make([]byte, 32))
	var cose cbor
	cose.mapHead(5)
	cose.int(1).int(2)  // kty: EC2
	cose.int(3).int(-7) // alg: ES256
	cose.int(-1).int(1) // crv: P-256
	cose.int(-2).bytes(x)
	cose.int(-3).bytes(y)
	cred := make([]byte, 16) // AAGUID: none
	cred = binary.BigEndian.AppendUint16(cred, uint16(len(k.id)))
	cred = append(append(cred, k.id...), cose...)
	var att cbor
	att.mapHead(3)
	att.text("fmt").text("none")
	att.text("attStmt").mapHead(0)
	att.text("authData").bytes(k.authData(cred))
	out, _ := json.Marshal(map[string]any{"id": b64.EncodeToString(k.id), "rawId": b64.EncodeToString(k.id), "type": "public-key",
		"clientExtensionResults": map[string]any{},
		"response":               map[string]any{"clientDataJSON": b64.EncodeToString(cd), "attestationObject": b64.EncodeToString(att)}})
	return string(out)
}

// get answers navigator.credentials.get.
func (k *softKey) get(t *testing.T, optionsJSON []byte) string {
	t.Helper()
	cd, _ := k.clientData(t, "webauthn.get", optionsJSON)
	ad := k.authData(nil)
	h := sha256.Sum256(cd)
	digest := sha256.Sum256(append(append([]byte{}, ad...), h[:]...))
	sig, err := ecdsa.SignASN1(rand.Reader, k.key, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	out, _ := json.Marshal(map[string]any{"id": b64.EncodeToString(k.id), "rawId": b64.EncodeToString(k.id), "type": "public-key",
		"clientExtensionResults": map[string]any{},
		"response": map[string]any{"clientDataJSON": b64.EncodeToString(cd), "authenticatorData": b64.EncodeToString(ad),
			"signature": b64.EncodeToString(sig), "userHandle": b64.EncodeToString(k.user)}})
	return string(out)
}

// cbor writes the little CBOR (RFC 8949) an attestation needs.
type cbor []byte

func (c *cbor) head(major byte, n uint64) *cbor {
	switch {
	case n < 24:
		*c = append(*c, major<<5|byte(n))
	case n < 1<<8:
		*c = append(*c, major<<5|24, byte(n))
	default:
		*c = binary.BigEndian.AppendUint16(append(*c, major<<5|25), uint16(n))
	}
	return c
}

func (c *cbor) int(v int) *cbor {
	if v < 0 {
		return c.head(1, uint64(-1-v))
	}
	return c.head(0, uint64(v))
}

func (c *cbor) bytes(b []byte) *cbor { c.head(2, uint64(len(b))); *c = append(*c, b...); return c }
func (c *cbor) text(s string) *cbor  { c.head(3, uint64(len(s))); *c = append(*c, s...); return c }
func (c *cbor) mapHead(n int) *cbor  { return c.head(5, uint64(n)) }
