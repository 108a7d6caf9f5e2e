package awsproto

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strings"
)

// Pager makes opaque, tamper-evident NextTokens: the cursor and the
// operation it belongs to, with an HMAC under a key every node shares, so a
// client cannot forge a cursor or carry one to another operation.
type Pager struct {
	key []byte
}

// NewPager uses key (from the store, the same on every node).
func NewPager(key []byte) *Pager { return &Pager{key: key} }

func (p *Pager) mac(scope string, cursor []byte) []byte {
	m := hmac.New(sha256.New, p.key)
	m.Write([]byte(scope))
	m.Write([]byte{0})
	m.Write(cursor)
	return m.Sum(nil)[:16]
}

// Token wraps cursor for the given scope (operation and any filter it depends on).
func (p *Pager) Token(scope, cursor string) string {
	c := []byte(cursor)
	return base64.RawURLEncoding.EncodeToString(append(p.mac(scope, c), c...))
}

// Cursor unwraps a token made by Token for the same scope; ok is false for
// anything else.
func (p *Pager) Cursor(scope, token string) (cursor string, ok bool) {
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimSpace(token))
	if err != nil || len(raw) < 16 {
		return "", false
	}
	sum, c := raw[:16], raw[16:]
	if !hmac.Equal(sum, p.mac(scope, c)) {
		return "", false
	}
	return string(c), true
}
