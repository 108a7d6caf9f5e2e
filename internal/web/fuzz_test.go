package web

import (
	"net/url"
	"strings"
	"testing"
)

// Whatever a next parameter holds, a sign-in leads only to one of our own
// pages: a path browsers cannot read as another host.
func FuzzLocalNext(f *testing.F) {
	for _, s := range []string{"/start", "/device?user_code=ABCD-EFGH", "//evil.example", "/\\evil", "https://evil.example/start",
		"/authorize?redirect_uri=http://127.0.0.1/x", "/%2F%2Fevil", "/start?\x00", "javascript:alert(1)"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, next string) {
		got := localNext(next)
		u, err := url.Parse(got)
		if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || !strings.HasPrefix(got, "/") ||
			strings.HasPrefix(got, "//") || strings.ContainsAny(got, "\\\r\n\t ") {
			t.Fatalf("localNext(%q) = %q", next, got)
		}
		if u.Path != "/start" && u.Path != "/device" && u.Path != "/authorize" {
			t.Fatalf("localNext(%q) leads to %q", next, got)
		}
		if localNext(got) != got {
			t.Fatalf("localNext(%q) = %q is not stable", next, got)
		}
	})
}

// Cookie values are untrusted input: opening any of them must not panic; a
// value opens only under the name it was sealed for, and no changed value
// of one that opens opens too.
func FuzzSealedCookie(f *testing.F) {
	k, err := newKeys([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		f.Fatal(err)
	}
	good, _ := k.seal(flowCookie, flow{ID: "x", Step: stepPassword, Expires: 1})
	f.Add(good, 3)
	f.Add("", 0)
	f.Add("not base64 !", 1)
	f.Fuzz(func(t *testing.T, value string, at int) {
		var fl flow
		if k.open(deviceCookie, value, &fl) == nil {
			t.Fatalf("opened as the device cookie: %q", value)
		}
		if k.open(flowCookie, value, &fl) != nil || len(value) == 0 {
			return
		}
		b := []byte(value)
		i := (at%len(b) + len(b)) % len(b)
		b[i] ^= 0x01
		if k.open(flowCookie, string(b), &fl) == nil && !base64Same(value, string(b)) {
			t.Fatalf("a changed value opened: %q", b)
		}
	})
}

// base64Same reports whether two base64url texts decode to the same bytes
// (the last character's unused bits may differ).
func base64Same(a, b string) bool {
	x, errA := b64.DecodeString(a)
	y, errB := b64.DecodeString(b)
	return errA == nil && errB == nil && string(x) == string(y)
}
