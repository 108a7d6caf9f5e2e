package signin

import (
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"
)

// A browser's remembered-device cookie is untrusted: nothing but a token
// the service made for that user, still live, passes.
func FuzzRememberedDevice(f *testing.F) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	s := &Service{keys: &keys{device: []byte("0123456789abcdef0123456789abcdef")}, now: func() time.Time { return now }}
	const epoch = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA\x00device-1"
	made, _ := s.rememberDevice(storeID, "user-1", epoch)
	f.Add(made)
	f.Add("")
	f.Add(made[:len(made)-1] + "A")
	f.Fuzz(func(t *testing.T, token string) {
		if s.rememberedDevice(token, storeID, "user-1", epoch, now) && token != made {
			t.Fatalf("a token the service did not make passed: %q", token)
		}
		if s.rememberedDevice(token, storeID, "user-2", epoch, now) {
			t.Fatalf("user-1's token passed for user-2: %q", token)
		}
		if s.rememberedDevice(token, storeID, "user-1", epoch+"\x00device-2", now) {
			t.Fatalf("a token passed after the user's credentials changed: %q", token)
		}
	})
}

// Codes come from a form: only six ASCII digits can match.
func FuzzMatchTOTP(f *testing.F) {
	const secret = "JBSWY3DPEHPK3PXP"
	now := time.Unix(1_700_000_000, 0)
	f.Add("123456")
	f.Add("")
	f.Add("١٢٣٤٥٦")
	f.Fuzz(func(t *testing.T, c string) {
		if _, ok := matchTOTP(secret, c, now); ok && (len(c) != 6 || strings.Trim(c, "0123456789") != "") {
			t.Fatalf("%q matched", c)
		}
	})
}

// Passwords come from a form; whatever the policy accepts has what it requires.
func FuzzCheckPolicy(f *testing.F) {
	f.Add("Abcdef1!", 8)
	f.Add("\xff\xfe", 8)
	f.Add("Äbcdéf1€~", 8)
	f.Fuzz(func(t *testing.T, p string, min int) {
		min = policyMinLength + abs(min)%(policyMaxLength-policyMinLength+1)
		if checkPolicy(p, min) != nil {
			return
		}
		n := utf8.RuneCountInString(p)
		if !utf8.ValidString(p) || n < min || n > policyMaxLength || !strings.ContainsAny(p, policySymbols) ||
			!strings.ContainsAny(p, "0123456789") || !strings.ContainsFunc(p, unicode.IsLower) || !strings.ContainsFunc(p, unicode.IsUpper) {
			t.Fatalf("accepted %q (min %d)", p, min)
		}
	})
}

func abs(n int) int {
	if n < 0 {
		return -(n + 1)
	}
	return n
}

// Stored hashes are read back; a damaged one is refused, never a panic, and
// one that reads back writes out the same.
func FuzzParsePHC(f *testing.F) {
	f.Add("$argon2id$v=19$m=19456,t=2,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
	f.Add("$argon2id$v=19$m=,t=,p=$$")
	f.Fuzz(func(t *testing.T, s string) {
		p, salt, key, err := parsePHC(s)
		if err != nil {
			return
		}
		if p.Memory > 1<<20 || p.Time > 16 || p.Threads > 16 {
			t.Fatalf("%q reads as %+v", s, p)
		}
		if again, _, _, err := parsePHC(encodePHC(p, salt, key)); err != nil || again != p {
			t.Fatalf("%q does not round-trip: %+v %v", s, again, err)
		}
	})
}

// Durations come from the admin; whatever parses is a whole, bounded,
// non-negative duration.
func FuzzParseISODuration(f *testing.F) {
	for _, s := range []string{"PT8H", "P90D", "P1DT2H3M4S", "P2W", "PT", "P", "P1M", "P36500DT876000H52560000M"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, ok := parseISODuration(s)
		if ok && (d < 0 || d > 100*365*24*time.Hour || !strings.HasPrefix(s, "P")) {
			t.Fatalf("%q parsed as %v", s, d)
		}
	})
}
