package saml

import (
	"bytes"
	"compress/flate"
	"encoding/base64"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/crewjam/saml"
)

// FuzzDecodeResponse feeds the ACS's SAMLResponse form value, in both
// bindings, through decoding and the whole validation. Nothing the fuzzer
// makes can carry the IdP's signature, so the only person it may ever sign
// in is the one the seed responses were signed for.
func FuzzDecodeResponse(f *testing.F) {
	h := newHarness(f, false, nil)
	plain := h.respond(h.idpInitiated(""), "alice@example.com", nil)
	h.plain = false // the IdP now sees the SP's encryption key
	encrypted := h.respond(h.idpInitiated(""), "alice@example.com", nil)
	var deflated bytes.Buffer
	fw, _ := flate.NewWriter(&deflated, flate.DefaultCompression)
	fw.Write(plain)
	fw.Close()
	f.Add(base64.StdEncoding.EncodeToString(plain), false)
	f.Add(base64.StdEncoding.EncodeToString(encrypted), false)
	f.Add(base64.StdEncoding.EncodeToString(deflated.Bytes()), true)
	f.Add("PHNhbWxwOlJlc3BvbnNlLz4=", false) // <samlp:Response/>
	f.Add("", false)
	f.Add("%%%", true)
	cfg, err := parseStoredConfig(h.src.Config)
	if err != nil {
		f.Fatal(err)
	}
	// In memory: the store's marks are tested elsewhere, and fuzzing is
	// about the bytes.
	replays := &memoryReplays{seen: map[string]bool{}}
	f.Fuzz(func(t *testing.T, value string, isDeflated bool) {
		b, err := decodeResponse(value, isDeflated)
		if err != nil {
			return
		}
		if len(b) > maxResponseXML {
			t.Fatalf("decoded %d bytes, over the cap", len(b))
		}
		id, err := h.sp.validate(h.src, cfg, b, nil, replays)
		if err == nil && id.Email != "alice@example.com" {
			t.Fatalf("signed in %+v from an unsigned response", id)
		}
	})
}

// BenchmarkValidateResponse is the ACS's server time for one signed
// response: decoding, signature (and decryption), conditions, the replay
// mark in SQLite, and federation finding the user; "checks only" is the
// SAML checks alone.
func BenchmarkValidateResponse(b *testing.B) {
	b.Run("checks only", func(b *testing.B) {
		h := newHarness(b, false, nil)
		cfg, err := parseStoredConfig(h.src.Config)
		if err != nil {
			b.Fatal(err)
		}
		replays := &memoryReplays{seen: map[string]bool{}}
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			resp := h.respond(h.idpInitiated(""), "alice@example.com", nil)
			b.StartTimer()
			if _, err := h.sp.validate(h.src, cfg, resp, nil, replays); err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, encrypted := range []bool{false, true} {
		name := "plain"
		if encrypted {
			name = "encrypted"
		}
		b.Run(name, func(b *testing.B) {
			h := newHarness(b, encrypted, nil)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				h.fed.done = nil
				resp := h.respond(h.idpInitiated(""), "alice@example.com", nil)
				b.StartTimer()
				rec := h.post(resp, "", nil)
				if rec.Code != http.StatusFound {
					b.Fatalf("ACS answered %d %s", rec.Code, rec.Body)
				}
			}
		})
	}
}

type memoryReplays struct {
	mu   sync.Mutex
	seen map[string]bool
}

func (m *memoryReplays) Consume(id string, _ time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.seen[id] {
		return saml.ErrAssertionReplayed
	}
	m.seen[id] = true
	return nil
}
