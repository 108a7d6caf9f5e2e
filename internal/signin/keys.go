package signin

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"

	"github.com/atrium-sso/atrium/internal/store"
)

// metaKey names the sign-in master key in the store's meta table: 32 random
// bytes made by the first node that needs them (first writer wins), so every
// node shares them and nothing but the database holds them.
const metaKey = "signin-key"

// keys are the purpose-bound keys derived from the master key with HKDF.
type keys struct {
	totp     cipher.AEAD // TOTP secrets at rest
	ceremony cipher.AEAD // WebAuthn ceremony state held by the caller
	device   []byte      // HMAC key of remembered-device tokens
}

func loadKeys(ctx context.Context, s store.Store) (*keys, error) {
	secret, err := store.Secret(ctx, s, metaKey)
	if err != nil {
		return nil, fmt.Errorf("sign-in: %w", err)
	}
	derive := func(purpose string) []byte {
		k, err := hkdf.Key(sha256.New, secret, nil, "atrium signin "+purpose, 32)
		if err != nil {
			panic(err) // only for lengths HKDF cannot give
		}
		return k
	}
	k := &keys{device: derive("remembered device")}
	if k.totp, err = newAEAD(derive("totp secret")); err != nil {
		return nil, err
	}
	if k.ceremony, err = newAEAD(derive("webauthn ceremony")); err != nil {
		return nil, err
	}
	return k, nil
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

var errSealed = errors.New("signin: sealed value does not open")

// seal encrypts plain; context is authenticated with it, so a sealed value
// opens only where it was sealed for (a device id, a user).
func seal(a cipher.AEAD, plain []byte, context string) []byte {
	nonce := make([]byte, a.NonceSize(), a.NonceSize()+len(plain)+a.Overhead())
	rand.Read(nonce)
	return a.Seal(nonce, nonce, plain, []byte(context))
}

func open(a cipher.AEAD, sealed []byte, context string) ([]byte, error) {
	if len(sealed) < a.NonceSize() {
		return nil, errSealed
	}
	plain, err := a.Open(nil, sealed[:a.NonceSize()], sealed[a.NonceSize():], []byte(context))
	if err != nil {
		return nil, errSealed
	}
	return plain, nil
}

func mac(key []byte, parts ...string) []byte {
	m := hmac.New(sha256.New, key)
	for _, p := range parts {
		m.Write([]byte(p))
		m.Write([]byte{0})
	}
	return m.Sum(nil)
}
