package signin

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"

	"golang.org/x/crypto/argon2"
)

// argonParams are argon2id's cost parameters.
type argonParams struct {
	Memory  uint32 // KiB
	Time    uint32 // passes
	Threads uint8
}

// OWASP's Password Storage Cheat Sheet, first argon2id configuration:
// m=19 MiB, t=2, p=1 (its alternatives trade memory for passes at equal cost).
var owasp = argonParams{Memory: 19 * 1024, Time: 2, Threads: 1}

const (
	saltLen = 16
	keyLen  = 32
)

// hasher computes argon2id behind a pool of slots: at most len(slots)
// hashes run at once, so memory stays at slots × Memory however many
// sign-ins arrive together (the rest wait their turn, or their context).
type hasher struct {
	params argonParams
	slots  chan struct{}
	// computed counts argon2id computations: the equal-work tests read it.
	computed atomic.Int64
}

func newHasher(p argonParams, workers int) *hasher {
	return &hasher{params: p, slots: make(chan struct{}, workers)}
}

// acquire takes a slot (waiting for one, or for ctx to end); release gives it back.
func (h *hasher) acquire(ctx context.Context) (release func(), err error) {
	select {
	case h.slots <- struct{}{}:
		return func() { <-h.slots }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// compute runs argon2id; the caller holds a slot.
func (h *hasher) compute(password string, salt []byte, p argonParams, n uint32) []byte {
	h.computed.Add(1)
	return argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, n)
}

// hashHeld returns password's PHC string at the hasher's parameters; the
// caller holds a slot.
func (h *hasher) hashHeld(password string) string {
	salt := make([]byte, saltLen)
	rand.Read(salt)
	return encodePHC(h.params, salt, h.compute(password, salt, h.params, keyLen))
}

// verifyHeld reports whether password matches the PHC string encoded, and
// whether encoded should be replaced because its parameters are not the
// hasher's; the caller holds a slot.
func (h *hasher) verifyHeld(encoded, password string) (ok, stale bool, err error) {
	p, salt, want, err := parsePHC(encoded)
	if err != nil {
		return false, false, err
	}
	got := h.compute(password, salt, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, p != h.params, nil
}

// hash is hashHeld in a slot of its own.
func (h *hasher) hash(ctx context.Context, password string) (string, error) {
	release, err := h.acquire(ctx)
	if err != nil {
		return "", err
	}
	defer release()
	return h.hashHeld(password), nil
}

// verify is verifyHeld in a slot of its own.
func (h *hasher) verify(ctx context.Context, encoded, password string) (ok, stale bool, err error) {
	release, err := h.acquire(ctx)
	if err != nil {
		return false, false, err
	}
	defer release()
	return h.verifyHeld(encoded, password)
}

var b64 = base64.RawStdEncoding

func encodePHC(p argonParams, salt, key []byte) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

var errPHC = errors.New("signin: malformed password hash")

// parsePHC reads an argon2id PHC string. The bounds keep a damaged row
// from asking for unbounded memory or time.
func parsePHC(s string) (argonParams, []byte, []byte, error) {
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" || parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return argonParams{}, nil, nil, errPHC
	}
	var p argonParams
	for _, kv := range strings.Split(parts[3], ",") {
		k, v, _ := strings.Cut(kv, "=")
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return argonParams{}, nil, nil, errPHC
		}
		switch k {
		case "m":
			p.Memory = uint32(n)
		case "t":
			p.Time = uint32(n)
		case "p":
			if n > 255 {
				return argonParams{}, nil, nil, errPHC
			}
			p.Threads = uint8(n)
		default:
			return argonParams{}, nil, nil, errPHC
		}
	}
	salt, err1 := b64.DecodeString(parts[4])
	key, err2 := b64.DecodeString(parts[5])
	switch {
	case err1 != nil || err2 != nil,
		p.Threads < 1 || p.Threads > 16, p.Time < 1 || p.Time > 16,
		p.Memory < 8*uint32(p.Threads) || p.Memory > 1<<20,
		len(salt) < 8 || len(salt) > 64, len(key) < 16 || len(key) > 64:
		return argonParams{}, nil, nil, errPHC
	}
	return p, salt, key, nil
}
