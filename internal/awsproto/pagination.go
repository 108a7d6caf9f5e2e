package awsproto

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"strings"
)

// Pager makes NextTokens that are opaque and tamper-evident: the cursor is
// sealed with AES-GCM under a key every node shares, with the operation (and
// any filter it depends on) as associated data, so a client can neither
// read a cursor, forge one, nor carry one to another operation.
type Pager struct {
	aead cipher.AEAD
}

// NewPager derives the sealing key from secret (from the store, the same on every node).
func NewPager(secret []byte) *Pager {
	key := sha256.Sum256(append([]byte("atrium pagination v1\x00"), secret...))
	block, err := aes.NewCipher(key[:])
	if err != nil {
		panic(err) // a 32-byte key is always valid
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		panic(err)
	}
	return &Pager{aead: aead}
}

// Token seals cursor for the given scope.
func (p *Pager) Token(scope, cursor string) string {
	nonce := make([]byte, p.aead.NonceSize())
	rand.Read(nonce)
	return base64.RawURLEncoding.EncodeToString(p.aead.Seal(nonce, nonce, []byte(cursor), []byte(scope)))
}

// Cursor opens a token made by Token for the same scope; ok is false for anything else.
func (p *Pager) Cursor(scope, token string) (cursor string, ok bool) {
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimSpace(token))
	n := p.aead.NonceSize()
	if err != nil || len(raw) < n+p.aead.Overhead() {
		return "", false
	}
	plain, err := p.aead.Open(nil, raw[:n], raw[n:], []byte(scope))
	if err != nil {
		return "", false
	}
	return string(plain), true
}

// Page lists one page after the token's cursor (list gets the cursor and
// the page size) and makes the token of the next page: nil after the last.
// A token not made for scope is answered with invalid, the service's own error.
func Page[T any](p *Pager, scope string, token *string, limit int, invalid error,
	list func(after string, limit int) ([]T, error), id func(T) string) ([]T, *string, error) {
	after := ""
	if token != nil && *token != "" {
		c, ok := p.Cursor(scope, *token)
		if !ok {
			return nil, nil, invalid
		}
		after = c
	}
	items, err := list(after, limit)
	if err != nil || len(items) < limit {
		return items, nil, err
	}
	next := p.Token(scope, id(items[len(items)-1]))
	return items, &next, nil
}
