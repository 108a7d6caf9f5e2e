package sigv4

import (
	"context"
	"net/http"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
	"testing"

	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

const fuzzTarget = "AWSOrganizationsV20161128.DescribeOrganization"

// fuzzRequest builds the request the server would see for the fuzzed parts.
func fuzzRequest(auth, rawQuery string, body []byte, date, target string) *http.Request {
	r := &http.Request{
		Method:        "POST",
		URL:           &url.URL{Path: "/", RawQuery: rawQuery},
		Host:          "example.com",
		Header:        http.Header{},
		ContentLength: int64(len(body)),
	}
	if auth != "" {
		r.Header["Authorization"] = []string{auth}
	}
	r.Header["X-Amz-Date"] = []string{date}
	r.Header["X-Amz-Target"] = []string{target}
	r.Header["Content-Length"] = []string{strconv.Itoa(len(body))}
	return r
}

// sdkSignedParts signs a request with the SDK and returns the fuzz inputs
// that reproduce it.
func sdkSignedParts(t testing.TB, rawQuery string, body []byte) (auth, query, date string) {
	req := fuzzRequest("", rawQuery, body, "", fuzzTarget)
	req.Header.Del("X-Amz-Date")
	req.Header.Del("Content-Length")
	req.URL.Scheme = "https"
	sdkSign(t, req, body, testCreds, "organizations", t0, "")
	return req.Header.Get("Authorization"), req.URL.RawQuery, req.Header.Get("X-Amz-Date")
}

func sdkPresignedQuery(t testing.TB, rawQuery string) string {
	req := &http.Request{Method: "POST", URL: &url.URL{Scheme: "https", Host: "example.com", Path: "/", RawQuery: rawQuery},
		Host: "example.com", Header: http.Header{}}
	signed, _, err := v4.NewSigner().PresignHTTP(context.Background(), testCreds, req, hashOf(nil), "sts", testRegion, t0)
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(signed)
	if err != nil {
		t.Fatal(err)
	}
	return u.RawQuery
}

type fuzzSeed struct {
	auth, query string
	body        []byte
	date        string
	target      string
	valid       bool // a real SDK signature that must verify
}

func fuzzSeeds(tb testing.TB) []fuzzSeed {
	var seeds []fuzzSeed
	body := []byte(`{"MaxResults":10}`)
	for _, q := range []string{"", "a=1&b=x+y&c=%2B&d=%E2%82%AC&d=&e"} {
		auth, query, date := sdkSignedParts(tb, q, body)
		seeds = append(seeds,
			fuzzSeed{auth, query, body, date, fuzzTarget, true},
			fuzzSeed{strings.ReplaceAll(auth, ", ", ","), query, body, date, fuzzTarget, true})
	}
	for _, q := range []string{"X-Amz-Expires=60&Action=GetCallerIdentity&Version=2011-06-15", ""} {
		seeds = append(seeds, fuzzSeed{"", sdkPresignedQuery(tb, q), []byte{}, "", "", true})
	}
	return append(seeds,
		fuzzSeed{"AWS4-HMAC-SHA256 Credential=/////, SignedHeaders=;;, Signature=", "X-Amz-Algorithm=AWS4-HMAC-SHA256", []byte("x"), "20260102T030405Z", "", false},
		fuzzSeed{"AWS4-HMAC-SHA256", "%", nil, "", "", false})
}

// TestFuzzSeedsVerify keeps the fuzz corpus honest: the SDK seeds verify and
// the SDK oracle agrees with them.
func TestFuzzSeedsVerify(t *testing.T) {
	v := newVerifier(t0)
	for i, s := range fuzzSeeds(t) {
		r := fuzzRequest(s.auth, s.query, s.body, s.date, s.target)
		res, err := v.Verify(context.Background(), r, s.body)
		if (err == nil) != s.valid {
			t.Fatalf("seed %d: err=%v, want valid=%v", i, err, s.valid)
		}
		if err == nil && providedSignature(r) != sdkSignature(t, r, s.body, res) {
			t.Fatalf("seed %d: oracle disagrees", i)
		}
	}
}

// FuzzVerify feeds arbitrary Authorization headers, query strings, bodies and
// dates. Verify must never panic, and whenever it accepts a request the
// signature must be exactly what the SDK's own signer computes for it.
func FuzzVerify(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s.auth, s.query, s.body, s.date, s.target)
	}
	v := newVerifier(t0)
	f.Fuzz(func(t *testing.T, auth, rawQuery string, body []byte, date, target string) {
		r := fuzzRequest(auth, rawQuery, body, date, target)
		Peek(r)
		res, err := v.Verify(context.Background(), r, body)
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("non-*Error from Verify: %v", err)
			}
			return
		}
		got, want := providedSignature(r), sdkSignature(t, r, body, res)
		if got != want {
			t.Fatalf("accepted signature %q, but the SDK computes %q", got, want)
		}
	})
}

func providedSignature(r *http.Request) string {
	if h := r.Header.Get("Authorization"); h != "" {
		p, _ := parseAuthHeader(h)
		return p.signature
	}
	return r.URL.Query().Get("X-Amz-Signature")
}

// sdkSignature re-signs an accepted request with the SDK: same method, path,
// query, signed headers, time, scope and payload, and returns its signature.
func sdkSignature(t testing.TB, r *http.Request, body []byte, res *Result) string {
	var signedList string
	q := r.URL.Query()
	if res.Presigned {
		signedList = q.Get("X-Amz-SignedHeaders")
		q.Del("X-Amz-Signature")
	} else {
		p, _ := parseAuthHeader(r.Header.Get("Authorization"))
		signedList = p.signedHeaders
	}
	clone := &http.Request{
		Method: r.Method,
		URL:    &url.URL{Scheme: "https", Host: r.Host, Path: r.URL.Path, RawPath: r.URL.RawPath, RawQuery: q.Encode()},
		Host:   r.Host,
		Header: http.Header{},
	}
	for _, name := range strings.Split(signedList, ";") {
		switch name {
		case "host", "x-amz-date":
		case "content-length":
			clone.ContentLength = int64(len(body))
		default:
			k := textproto.CanonicalMIMEHeaderKey(name)
			clone.Header[k] = r.Header.Values(k)
		}
	}
	creds := testCreds
	hash := hashOf(body)
	if res.Presigned {
		signed, _, err := v4.NewSigner().PresignHTTP(context.Background(), creds, clone, hash, res.Service, res.Region, res.SignedAt)
		if err != nil {
			t.Fatal(err)
		}
		u, _ := url.Parse(signed)
		return u.Query().Get("X-Amz-Signature")
	}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, clone, hash, res.Service, res.Region, res.SignedAt); err != nil {
		t.Fatal(err)
	}
	p, _ := parseAuthHeader(clone.Header.Get("Authorization"))
	return p.signature
}
