package signin

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-webauthn/webauthn/protocol/webauthncbor"
	"github.com/go-webauthn/webauthn/protocol/webauthncose"

	"github.com/atrium-sso/atrium/internal/store"
)

// softKey is a software security key: what a browser and authenticator
// answer to navigator.credentials.create and .get, made by hand (ES256,
// "none" attestation, a signature counter).
type softKey struct {
	t       *testing.T
	priv    *ecdsa.PrivateKey
	id      []byte
	counter uint32
	origin  string // the page the browser says the ceremony ran on
}

func newSoftKey(t *testing.T) *softKey {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	id := make([]byte, 32)
	rand.Read(id)
	return &softKey{t: t, priv: priv, id: id, origin: "https://sso.example.com"}
}

var b64u = base64.RawURLEncoding

// options reads what the browser takes from the server's options.
func (k *softKey) options(optionsJSON []byte) (challenge, rpID string, userID []byte) {
	var o struct {
		PublicKey struct {
			Challenge string `json:"challenge"`
			RPID      string `json:"rpId"`
			RP        struct {
				ID string `json:"id"`
			} `json:"rp"`
			User struct {
				ID string `json:"id"`
			} `json:"user"`
		} `json:"publicKey"`
	}
	if err := json.Unmarshal(optionsJSON, &o); err != nil {
		k.t.Fatal(err)
	}
	rpID = o.PublicKey.RP.ID + o.PublicKey.RPID
	userID, _ = b64u.DecodeString(o.PublicKey.User.ID)
	return o.PublicKey.Challenge, rpID, userID
}

func (k *softKey) clientData(typ, challenge string) []byte {
	b, _ := json.Marshal(map[string]any{"type": typ, "challenge": challenge, "origin": k.origin, "crossOrigin": false})
	return b
}

func (k *softKey) authData(rpID string, flags byte, attested []byte) []byte {
	h := sha256.Sum256([]byte(rpID))
	b := append(h[:], flags)
	b = binary.BigEndian.AppendUint32(b, k.counter)
	return append(b, attested...)
}

// create answers a registration ceremony.
func (k *softKey) create(optionsJSON []byte) []byte {
	challenge, rpID, _ := k.options(optionsJSON)
	x, y := make([]byte, 32), make([]byte, 32)
	k.priv.PublicKey.X.FillBytes(x)
	k.priv.PublicKey.Y.FillBytes(y)
	cose, err := webauthncbor.Marshal(webauthncose.EC2PublicKeyData{
		PublicKeyData: webauthncose.PublicKeyData{KeyType: int64(webauthncose.EllipticKey), Algorithm: int64(webauthncose.AlgES256)},
		Curve:         1, XCoord: x, YCoord: y})
	if err != nil {
		k.t.Fatal(err)
	}
	attested := make([]byte, 16) // AAGUID: none
	attested = binary.BigEndian.AppendUint16(attested, uint16(len(k.id)))
	attested = append(append(attested, k.id...), cose...)
	obj, err := webauthncbor.Marshal(struct {
		Fmt      string         `cbor:"fmt"`
		AttStmt  map[string]any `cbor:"attStmt"`
		AuthData []byte         `cbor:"authData"`
	}{"none", map[string]any{}, k.authData(rpID, 0x41, attested)}) // user present, attested credential data
	if err != nil {
		k.t.Fatal(err)
	}
	b, _ := json.Marshal(map[string]any{
		"id": b64u.EncodeToString(k.id), "rawId": b64u.EncodeToString(k.id), "type": "public-key", "clientExtensionResults": map[string]any{},
		"response": map[string]any{
			"clientDataJSON":    b64u.EncodeToString(k.clientData("webauthn.create", challenge)),
			"attestationObject": b64u.EncodeToString(obj),
			"transports":        []string{"usb"},
		},
	})
	return b
}

// get answers a login ceremony, counting one more use.
func (k *softKey) get(optionsJSON []byte, userID string) []byte {
	challenge, rpID, _ := k.options(optionsJSON)
	k.counter++
	auth := k.authData(rpID, 0x01, nil) // user present
	cd := k.clientData("webauthn.get", challenge)
	cdHash := sha256.Sum256(cd)
	digest := sha256.Sum256(append(append([]byte{}, auth...), cdHash[:]...))
	sig, err := ecdsa.SignASN1(rand.Reader, k.priv, digest[:])
	if err != nil {
		k.t.Fatal(err)
	}
	b, _ := json.Marshal(map[string]any{
		"id": b64u.EncodeToString(k.id), "rawId": b64u.EncodeToString(k.id), "type": "public-key", "clientExtensionResults": map[string]any{},
		"response": map[string]any{
			"clientDataJSON":    b64u.EncodeToString(cd),
			"authenticatorData": b64u.EncodeToString(auth),
			"signature":         b64u.EncodeToString(sig),
			"userHandle":        b64u.EncodeToString([]byte(userID)),
		},
	})
	return b
}

func post(body []byte) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "https://sso.example.com/signin/webauthn", bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	return r
}

// register runs a registration ceremony for u with k.
func (f *fixture) register(u *store.User, k *softKey, name string) error {
	opts, state, err := f.svc.BeginWebAuthnRegistration(ctx, storeID, u.ID)
	if err != nil {
		return err
	}
	return f.svc.FinishWebAuthnRegistration(ctx, storeID, u.ID, state, post(k.create(opts)), name)
}

// login runs a login ceremony for u with k.
func (f *fixture) login(u *store.User, k *softKey) error {
	opts, state, err := f.svc.BeginWebAuthnLogin(ctx, storeID, u.ID)
	if err != nil {
		return err
	}
	return f.svc.FinishWebAuthnLogin(ctx, storeID, u.ID, state, post(k.get(opts, u.ID)))
}

func TestWebAuthnRegistrationAndLogin(t *testing.T) {
	f := newFixture(t, true)
	u := f.user("alice", good)
	if _, _, err := f.svc.BeginWebAuthnLogin(ctx, storeID, u.ID); err != ErrNoDevice {
		t.Fatalf("login without a key: %v; want ErrNoDevice", err)
	}
	opts, state, err := f.svc.BeginWebAuthnRegistration(ctx, storeID, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	key := newSoftKey(t)
	if _, rpID, userID := key.options(opts); rpID != "sso.example.com" || string(userID) != u.ID {
		t.Fatalf("options name relying party %q and user %q", rpID, userID)
	}
	if err := f.svc.FinishWebAuthnRegistration(ctx, storeID, u.ID, state, post(key.create(opts)), "YubiKey"); err != nil {
		t.Fatal(err)
	}
	a, err := f.svc.CheckPassword(ctx, storeID, "alice", good, "192.0.2.1")
	if err != nil || !a.HasWebAuthn || a.HasTOTP || a.MFA != MFAVerify {
		t.Fatalf("after registering: %+v, %v", a, err)
	}
	// A key already registered is excluded from the next registration.
	opts, _, err = f.svc.BeginWebAuthnRegistration(ctx, storeID, u.ID)
	if err != nil || !strings.Contains(string(opts), b64u.EncodeToString(key.id)) {
		t.Fatalf("the next registration does not exclude the key: %s, %v", opts, err)
	}
	for i := 0; i < 3; i++ {
		if err := f.login(u, key); err != nil {
			t.Fatalf("login %d: %v", i, err)
		}
	}
	var registered, verified int
	for _, ev := range f.audit() {
		if ev.EventName == "CompleteWebAuthnDeviceRegistration" && strings.Contains(ev.RequestParams, "YubiKey") {
			registered++
		}
		if ev.EventName == "CredentialVerification" && strings.Contains(ev.RequestParams, `"WEBAUTHN"`) && ev.ErrorCode == "" {
			verified++
		}
	}
	if registered != 1 || verified != 3 {
		t.Fatalf("audited %d registrations, %d verifications", registered, verified)
	}
}

// An assertion captured on the way (or a cloned key whose counter lags)
// does not sign in again.
func TestWebAuthnAssertionReplayRejected(t *testing.T) {
	f := newFixture(t, true)
	u := f.user("alice", good)
	key := newSoftKey(t)
	if err := f.register(u, key, "key"); err != nil {
		t.Fatal(err)
	}
	opts, state, err := f.svc.BeginWebAuthnLogin(ctx, storeID, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	assertion := key.get(opts, u.ID)
	if err := f.svc.FinishWebAuthnLogin(ctx, storeID, u.ID, state, post(assertion)); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.FinishWebAuthnLogin(ctx, storeID, u.ID, state, post(assertion)); err != ErrBadCode {
		t.Fatalf("the same assertion again: %v; want ErrBadCode", err)
	}
	// A clone: same key, counter behind the real one's.
	clone := *key
	clone.counter = 0
	if err := f.login(u, &clone); err != ErrBadCode {
		t.Fatalf("a cloned key: %v; want ErrBadCode", err)
	}
	if err := f.login(u, key); err != nil {
		t.Fatalf("the real key afterwards: %v", err)
	}
}

// A look-alike site relaying the ceremony gets an answer bound to its own
// origin, which the server refuses.
func TestWebAuthnPhishingOriginRejected(t *testing.T) {
	f := newFixture(t, true)
	u := f.user("alice", good)
	key := newSoftKey(t)
	if err := f.register(u, key, "key"); err != nil {
		t.Fatal(err)
	}
	key.origin = "https://sso.example.com.evil.test"
	if err := f.login(u, key); err != ErrBadCode {
		t.Fatalf("an assertion made on another origin: %v; want ErrBadCode", err)
	}
	other := newSoftKey(t)
	other.origin = "https://evil.test"
	if err := f.register(u, other, "phished"); err != ErrBadCode {
		t.Fatalf("a registration made on another origin: %v; want ErrBadCode", err)
	}
}

// The ceremony state the caller holds opens only for the ceremony and the
// user it was made for, and cannot be altered.
func TestWebAuthnCeremonyStateBoundToUserAndCeremony(t *testing.T) {
	f := newFixture(t, true)
	alice, bob := f.user("alice", good), f.user("bob", good)
	aliceKey, bobKey := newSoftKey(t), newSoftKey(t)
	if err := f.register(alice, aliceKey, "key"); err != nil {
		t.Fatal(err)
	}
	if err := f.register(bob, bobKey, "key"); err != nil {
		t.Fatal(err)
	}
	opts, aliceState, _ := f.svc.BeginWebAuthnLogin(ctx, storeID, alice.ID)
	if err := f.svc.FinishWebAuthnLogin(ctx, storeID, bob.ID, aliceState, post(bobKey.get(opts, bob.ID))); err != ErrBadCode {
		t.Fatalf("alice's state for bob: %v", err)
	}
	regOpts, regState, _ := f.svc.BeginWebAuthnRegistration(ctx, storeID, alice.ID)
	if err := f.svc.FinishWebAuthnLogin(ctx, storeID, alice.ID, regState, post(aliceKey.get(regOpts, alice.ID))); err != ErrBadCode {
		t.Fatalf("a registration state for a login: %v", err)
	}
	tampered := append([]byte{}, aliceState...)
	tampered[len(tampered)-1] ^= 1
	if err := f.svc.FinishWebAuthnLogin(ctx, storeID, alice.ID, tampered, post(aliceKey.get(opts, alice.ID))); err != ErrBadCode {
		t.Fatalf("a tampered state: %v", err)
	}
	// Bob's key cannot answer for alice even with alice's own state.
	if err := f.svc.FinishWebAuthnLogin(ctx, storeID, alice.ID, aliceState, post(bobKey.get(opts, alice.ID))); err != ErrBadCode {
		t.Fatalf("bob's key for alice: %v", err)
	}
}

func TestWebAuthnSixKeysAtMost(t *testing.T) {
	f := newFixture(t, true)
	u := f.user("alice", good)
	for i := 0; i < MaxWebAuthnDevices; i++ {
		if err := f.register(u, newSoftKey(t), "key"); err != nil {
			t.Fatalf("key %d: %v", i+1, err)
		}
	}
	if _, _, err := f.svc.BeginWebAuthnRegistration(ctx, storeID, u.ID); err != ErrDeviceLimit {
		t.Fatalf("a seventh key: %v; want ErrDeviceLimit", err)
	}
	// Security keys and authenticator apps have separate limits.
	f.enrollTOTP(u, "phone")
}

func TestWebAuthnNeedsAHostName(t *testing.T) {
	f := newFixture(t, true)
	u := f.user("alice", good)
	svc, err := New(ctx, f.store, Options{URL: "http://127.0.0.1:8080"})
	if err != nil {
		t.Fatal(err)
	}
	if svc.WebAuthnAvailable() {
		t.Fatal("WebAuthn offered on an IP address")
	}
	if _, _, err := svc.BeginWebAuthnRegistration(ctx, storeID, u.ID); err != ErrWebAuthnUnavailable {
		t.Fatalf("registration on an IP address: %v", err)
	}
	local, err := New(ctx, f.store, Options{URL: "http://localhost:8080"})
	if err != nil || !local.WebAuthnAvailable() {
		t.Fatalf("localhost: %v", err)
	}
	if _, err := New(ctx, f.store, Options{URL: "not a url"}); err == nil {
		t.Fatal("a service on a URL that is not one")
	}
}
