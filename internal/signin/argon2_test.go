package signin

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestArgon2idAtOWASPParameters(t *testing.T) {
	h := newHasher(owasp, 2)
	enc, err := h.hash(ctx, good)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(enc, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("PHC string %s", enc)
	}
	p, salt, key, err := parsePHC(enc)
	if err != nil || p != owasp || len(salt) != saltLen || len(key) != keyLen {
		t.Fatalf("parsePHC = %+v, %d-byte salt, %d-byte hash, %v", p, len(salt), len(key), err)
	}
	if ok, stale, err := h.verify(ctx, enc, good); !ok || stale || err != nil {
		t.Fatalf("verify the right password = %v %v %v", ok, stale, err)
	}
	if ok, _, _ := h.verify(ctx, enc, good+" "); ok {
		t.Fatal("a different password verified")
	}
	if again, _ := h.hash(ctx, good); again == enc {
		t.Fatal("two hashes of one password are equal: the salt is not random")
	}
	// A hash made at other parameters still verifies, and asks to be redone.
	weak, _ := newHasher(cheap, 1).hash(ctx, good)
	if ok, stale, err := h.verify(ctx, weak, good); !ok || !stale || err != nil {
		t.Fatalf("an older hash = %v %v %v; want ok and stale", ok, stale, err)
	}
}

// A hash made by the reference implementation (argon2-cffi: password
// "password", salt "some salt", t=16, m=32 MiB, p=2) verifies: the PHC
// string is read with each parameter in its place.
func TestArgon2idReadsReferencePHC(t *testing.T) {
	key, _ := hex.DecodeString("157f21dd3fdf7bafb76d2923ccaffa0b7be7cbae394709474d2bc66ee7b09d3e")
	enc := "$argon2id$v=19$m=32768,t=16,p=2$" + base64.RawStdEncoding.EncodeToString([]byte("some salt")) + "$" + base64.RawStdEncoding.EncodeToString(key)
	ok, stale, err := newHasher(owasp, 1).verify(ctx, enc, "password")
	if !ok || !stale || err != nil {
		t.Fatalf("reference hash: ok=%v stale=%v %v", ok, stale, err)
	}
}

func TestParsePHCRefusesDamagedHashes(t *testing.T) {
	salt, key := base64.RawStdEncoding.EncodeToString(make([]byte, 16)), base64.RawStdEncoding.EncodeToString(make([]byte, 32))
	for _, s := range []string{
		"",
		"$argon2i$v=19$m=19456,t=2,p=1$" + salt + "$" + key,  // another variant
		"$argon2id$v=16$m=19456,t=2,p=1$" + salt + "$" + key, // another version
		"$argon2id$v=19$m=19456,t=2$" + salt + "$" + key,     // missing p
		"$argon2id$v=19$m=19456,t=2,p=1,x=1$" + salt + "$" + key,
		"$argon2id$v=19$m=4194304,t=2,p=1$" + salt + "$" + key, // 4 GiB
		"$argon2id$v=19$m=19456,t=1000,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=19456,t=0,p=1$" + salt + "$" + key,
		"$argon2id$v=19$m=19456,t=2,p=0$" + salt + "$" + key,
		"$argon2id$v=19$m=19456,t=2,p=256$" + salt + "$" + key,
		"$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$" + key[:10],
		"$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$" + key, // 4-byte salt
		"$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$!!!",
		"$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$" + key + "$",
	} {
		if _, _, _, err := parsePHC(s); err == nil {
			t.Errorf("parsePHC accepted %q", s)
		}
	}
}

// The pool bounds how many hashes run at once: with every slot taken, a
// sign-in waits (here until its context ends) instead of adding memory.
func TestHashPoolBoundsConcurrentHashes(t *testing.T) {
	h := newHasher(cheap, 2)
	h.slots <- struct{}{}
	h.slots <- struct{}{}
	waitCtx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, err := h.hash(waitCtx, good); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a hash ran with every slot taken: %v", err)
	}
	if h.computed.Load() != 0 {
		t.Fatal("a hash was computed")
	}
	done := make(chan error)
	go func() { _, err := h.hash(ctx, good); done <- err }()
	select {
	case err := <-done:
		t.Fatalf("a hash finished with every slot taken: %v", err)
	case <-time.After(20 * time.Millisecond):
	}
	<-h.slots // one slot frees up
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
