package sigv4

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// TestSDKSignedRequestsVerify signs many request shapes with the SDK signer
// and verifies them as received by a real net/http server.
func TestSDKSignedRequestsVerify(t *testing.T) {
	const oddQuery = "b=x%20y&a=1+2&c=%2B&d=a%2Fb&d=a/b&e=%E2%82%AC&e=&f&a=0&%C3%A9=%F0%9F%98%80&g=%21%27%28%29%2A"
	cases := []struct {
		name    string
		method  string
		path    string // appended to the server URL; may carry a query
		body    []byte
		headers http.Header
		token   string
		hash    string // payload hash to sign; "" = hash of body
		// rawQuery, if set, replaces the query after signing: the SDK rewrites
		// URL.RawQuery into canonical form while signing, other clients send
		// their own encoding (e.g. '+' for spaces).
		rawQuery string
		service  string
	}{
		{name: "GET root", method: "GET", path: "/"},
		{name: "GET no path", method: "GET", path: ""},
		{name: "POST awsQuery form", method: "POST", path: "/",
			body:    []byte("Action=GetCallerIdentity&Version=2011-06-15"),
			headers: http.Header{"Content-Type": {"application/x-www-form-urlencoded; charset=utf-8"}}, service: "sts"},
		{name: "POST awsJson1.1", method: "POST", path: "/",
			body: []byte(`{"InstanceArn":"arn:aws:sso:::instance/ssoins-1234","MaxResults":10}`),
			headers: http.Header{"Content-Type": {"application/x-amz-json-1.1"},
				"X-Amz-Target": {"SWBExternalService.ListPermissionSets"}}, service: "sso"},
		{name: "query as SDK sends it", method: "GET", path: "/?" + oddQuery},
		{name: "query with raw plus and spaces", method: "GET", path: "/?" + oddQuery, rawQuery: oddQuery},
		{name: "query plus means space", method: "GET", path: "/?q=a+b", rawQuery: "q=a+b"},
		{name: "query empty key and trailing amp", method: "GET", path: "/?=v&k=&", rawQuery: "=v&k=&"},
		{name: "path with space and unicode", method: "GET", path: "/a%20b/%E2%82%AC/c"},
		{name: "path with encoded slash", method: "GET", path: "/users/a%2Fb/x"},
		{name: "path with reserved chars", method: "GET", path: "/x/a:b@c!$&'()*+,;=/"},
		{name: "session token", method: "POST", path: "/", body: []byte("{}"), token: testToken,
			headers: http.Header{"Content-Type": {"application/x-amz-json-1.1"}}},
		{name: "unsigned payload", method: "POST", path: "/", body: []byte("anything"), hash: unsignedPayload,
			headers: http.Header{"X-Amz-Content-Sha256": {unsignedPayload}}},
		{name: "explicit content sha256", method: "PUT", path: "/obj", body: []byte("payload"),
			headers: http.Header{"X-Amz-Content-Sha256": {hashOf([]byte("payload"))}}},
		{name: "multi-valued header with excess spaces", method: "GET", path: "/",
			headers: http.Header{"X-Custom": {"  a   b  ", "c", "d\t e"}, "X-Empty": {""}}},
		{name: "DELETE with query", method: "DELETE", path: "/thing/1?force=true"},
	}
	v := newVerifier(t0)
	srv := newVerifyServer(t, v)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := newRequest(t, tc.method, srv.URL+tc.path, tc.body)
			for k, vs := range tc.headers {
				req.Header[k] = vs
			}
			creds := testCreds
			creds.SessionToken = tc.token
			service := tc.service
			if service == "" {
				service = "identitystore"
			}
			sdkSign(t, req, tc.body, creds, service, t0, tc.hash)
			if tc.rawQuery != "" {
				req.URL.RawQuery = tc.rawQuery
			}
			res := wantOK(t, srv.send(t, req))
			if res.AccessKeyID != testAKID || res.Region != testRegion || res.Service != service ||
				!res.SignedAt.Equal(t0) || res.Presigned || res.SessionToken != tc.token ||
				res.UnsignedPayload != (tc.hash == unsignedPayload) {
				t.Fatalf("unexpected result %+v", res)
			}
		})
	}
}

// TestChunkedBody covers a body sent without Content-Length: the SDK does not
// sign content-length then, and the server sees Transfer-Encoding: chunked.
func TestChunkedBody(t *testing.T) {
	srv := newVerifyServer(t, newVerifier(t0))
	body := []byte(`{"a":1}`)
	// A reader net/http cannot size: ContentLength stays 0 and the body goes chunked.
	req, err := http.NewRequest("POST", srv.URL+"/", io.NopCloser(bytes.NewReader(body)))
	if err != nil {
		t.Fatal(err)
	}
	sdkSign(t, req, body, testCreds, "sso", t0, "")
	res := wantOK(t, srv.send(t, req))
	if res.Service != "sso" {
		t.Fatalf("service %q", res.Service)
	}
}

func TestPresignedGET(t *testing.T) {
	srv := newVerifyServer(t, newVerifier(t0.Add(4*time.Minute)))
	for _, token := range []string{"", testToken} {
		req := newRequest(t, "GET", srv.URL+"/federation/thing?a=b+c&z=%2F", nil)
		q := req.URL.Query()
		q.Set("X-Amz-Expires", "300")
		req.URL.RawQuery = q.Encode()
		creds := testCreds
		creds.SessionToken = token
		signed, hdr, err := v4.NewSigner().PresignHTTP(context.Background(), creds, req,
			hashOf(nil), "sts", testRegion, t0)
		if err != nil {
			t.Fatal(err)
		}
		get := newRequest(t, "GET", signed, nil)
		for k, vs := range hdr {
			if k != "Host" {
				get.Header[k] = vs
			}
		}
		res := wantOK(t, srv.send(t, get))
		if !res.Presigned || res.SessionToken != token || res.Service != "sts" {
			t.Fatalf("unexpected result %+v", res)
		}
	}
}

// TestPresignedWithoutExpires: PresignHTTP does not add X-Amz-Expires; such a
// URL is then good for MaxSkew only.
func TestPresignedWithoutExpires(t *testing.T) {
	presign := func(srvURL string) *http.Request {
		req := newRequest(t, "GET", srvURL+"/", nil)
		signed, _, err := v4.NewSigner().PresignHTTP(context.Background(), testCreds, req, hashOf(nil), "sts", testRegion, t0)
		if err != nil {
			t.Fatal(err)
		}
		return newRequest(t, "GET", signed, nil)
	}
	srv := newVerifyServer(t, newVerifier(t0.Add(10*time.Minute)))
	wantOK(t, srv.send(t, presign(srv.URL)))
	srv = newVerifyServer(t, newVerifier(t0.Add(20*time.Minute)))
	wantKind(t, srv.send(t, presign(srv.URL)).err, Expired)
}

func TestPresignedUnsignedPayloadQuery(t *testing.T) {
	srv := newVerifyServer(t, newVerifier(t0))
	req := newRequest(t, "PUT", srv.URL+"/bucket/key?X-Amz-Expires=60&X-Amz-Content-Sha256=UNSIGNED-PAYLOAD", nil)
	signed, _, err := v4.NewSigner().PresignHTTP(context.Background(), testCreds, req, unsignedPayload, "s3", testRegion, t0)
	if err != nil {
		t.Fatal(err)
	}
	put := newRequest(t, "PUT", signed, []byte("not covered by the signature"))
	res := wantOK(t, srv.send(t, put))
	if !res.UnsignedPayload || !res.Presigned {
		t.Fatalf("unexpected result %+v", res)
	}
}

// TestDateHeaderFallback: with no X-Amz-Date, the Date header dates the
// request (HTTP-date form accepted; the string to sign uses ISO-8601 basic).
func TestDateHeaderFallback(t *testing.T) {
	// The SDK always writes X-Amz-Date, so this only checks the parse path.
	for _, d := range []string{t0.Format(http.TimeFormat), t0.Format(timeFormat)} {
		r := newRequest(t, "GET", "http://example.com/", nil)
		r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+testAKID+"/20260102/us-east-1/sts/aws4_request, SignedHeaders=date;host, Signature="+strings.Repeat("0", 64))
		r.Header.Set("Date", d)
		a, e := parseRequest(r)
		if e != nil {
			t.Fatal(e)
		}
		if !a.signedAt.Equal(t0) {
			t.Fatalf("signedAt %v", a.signedAt)
		}
		_, err := newVerifier(t0).Verify(context.Background(), r, nil)
		wantKind(t, err, BadSignature)
	}
}

func TestLookupErrorIsPassedThrough(t *testing.T) {
	outage := errors.New("connection refused")
	v := &Verifier{Now: func() time.Time { return t0 },
		Lookup: func(context.Context, string) (string, error) { return "", outage }}
	srv := newVerifyServer(t, v)
	req := newRequest(t, "GET", srv.URL+"/", nil)
	sdkSign(t, req, nil, testCreds, "sts", t0, "")
	err := srv.send(t, req).err
	if err == nil {
		t.Fatal("verified despite lookup failure")
	}
	var e *Error
	if errors.As(err, &e) {
		t.Fatalf("lookup failure returned as *Error: %v", err)
	}
	if !errors.Is(err, outage) {
		t.Fatalf("lookup error not wrapped: %v", err)
	}
}

func TestEmptySecretIsUnknownKey(t *testing.T) {
	v := &Verifier{Now: func() time.Time { return t0 },
		Lookup: func(context.Context, string) (string, error) { return "", nil }}
	srv := newVerifyServer(t, v)
	req := newRequest(t, "GET", srv.URL+"/", nil)
	sdkSign(t, req, nil, aws.Credentials{AccessKeyID: testAKID, SecretAccessKey: ""}, "sts", t0, "")
	wantKind(t, srv.send(t, req).err, UnknownKey)
}

func TestPeek(t *testing.T) {
	req := newRequest(t, "POST", "http://example.com/", []byte("Action=GetCallerIdentity"))
	sdkSign(t, req, []byte("Action=GetCallerIdentity"), testCreds, "sts", t0, "")
	if s, r, ok := Peek(req); !ok || s != "sts" || r != testRegion {
		t.Fatalf("Peek = %q %q %v", s, r, ok)
	}

	pre := newRequest(t, "GET", "http://example.com/", nil)
	signed, _, err := v4.NewSigner().PresignHTTP(context.Background(), testCreds, pre, hashOf(nil), "iam", "us-west-2", t0)
	if err != nil {
		t.Fatal(err)
	}
	if s, r, ok := Peek(newRequest(t, "GET", signed, nil)); !ok || s != "iam" || r != "us-west-2" {
		t.Fatalf("Peek presigned = %q %q %v", s, r, ok)
	}

	for _, h := range []string{"", "Bearer abc", "AWS4-HMAC-SHA256 Credential=AK/2026/us-east-1/sts, SignedHeaders=host, Signature=00",
		"AWS4-HMAC-SHA256 Credential=AK/20260102/US EAST/sts/aws4_request, SignedHeaders=host, Signature=00"} {
		r := newRequest(t, "GET", "http://example.com/", nil)
		if h != "" {
			r.Header.Set("Authorization", h)
		}
		if _, _, ok := Peek(r); ok {
			t.Fatalf("Peek(%q) ok", h)
		}
	}
}

func TestMalformed(t *testing.T) {
	const date = "20260102T030405Z"
	const cred = testAKID + "/20260102/us-east-1/sts/aws4_request"
	const sig = "0000000000000000000000000000000000000000000000000000000000000000"
	hdr := func(a string) http.Header { return http.Header{"Authorization": {a}, "X-Amz-Date": {date}} }
	good := "AWS4-HMAC-SHA256 Credential=" + cred + ", SignedHeaders=host;x-amz-date, Signature=" + sig
	cases := []struct {
		name  string
		h     http.Header
		query string
		kind  Kind
	}{
		{"control: bad signature", hdr(good), "", BadSignature},
		{"control: no spaces after commas", hdr("AWS4-HMAC-SHA256 Credential=" + cred + ",SignedHeaders=host;x-amz-date,Signature=" + sig), "", BadSignature},
		{"other algorithm", hdr("AWS4-ECDSA-P256-SHA256 Credential=" + cred + ", SignedHeaders=host, Signature=" + sig), "", Malformed},
		{"sigv2", hdr("AWS " + testAKID + ":abc"), "", Malformed},
		{"no credential", hdr("AWS4-HMAC-SHA256 SignedHeaders=host, Signature=" + sig), "", Malformed},
		{"repeated component", hdr(good + ", Signature=" + sig), "", Malformed},
		{"unknown component", hdr(good + ", Foo=bar"), "", Malformed},
		{"scope with 4 parts", hdr("AWS4-HMAC-SHA256 Credential=" + testAKID + "/20260102/us-east-1/sts, SignedHeaders=host, Signature=" + sig), "", Malformed},
		{"scope bad terminator", hdr("AWS4-HMAC-SHA256 Credential=" + testAKID + "/20260102/us-east-1/sts/aws3_request, SignedHeaders=host, Signature=" + sig), "", ScopeMismatch},
		{"signed headers without host", hdr("AWS4-HMAC-SHA256 Credential=" + cred + ", SignedHeaders=x-amz-date, Signature=" + sig), "", Malformed},
		{"signed headers unsorted", hdr("AWS4-HMAC-SHA256 Credential=" + cred + ", SignedHeaders=x-amz-date;host, Signature=" + sig), "", Malformed},
		{"signed headers uppercase", hdr("AWS4-HMAC-SHA256 Credential=" + cred + ", SignedHeaders=Host;x-amz-date, Signature=" + sig), "", Malformed},
		{"short signature", hdr("AWS4-HMAC-SHA256 Credential=" + cred + ", SignedHeaders=host, Signature=abc"), "", Malformed},
		{"missing date", http.Header{"Authorization": {good}}, "", Malformed},
		{"bad date", http.Header{"Authorization": {good}, "X-Amz-Date": {"2026-01-02T03:04:05Z"}}, "", Malformed},
		{"fractional date", http.Header{"Authorization": {good}, "X-Amz-Date": {"20260102T030405.5Z"}}, "", Malformed},
		{"two authorization headers", http.Header{"Authorization": {good, good}, "X-Amz-Date": {date}}, "", Malformed},
		{"header and query auth", hdr(good), "X-Amz-Algorithm=AWS4-HMAC-SHA256", Malformed},
		{"unsigned session token header", http.Header{"Authorization": {good}, "X-Amz-Date": {date}, "X-Amz-Security-Token": {"t"}}, "", Malformed},
		{"bad query escape", hdr(good), "a=%zz", Malformed},
		{"semicolon in query", hdr(good), "a=1;b=2", Malformed},
		{"presigned missing signature", nil, "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=" + url.QueryEscape(cred) + "&X-Amz-Date=" + date + "&X-Amz-SignedHeaders=host", Malformed},
		{"presigned bad algorithm", nil, "X-Amz-Algorithm=HMAC&X-Amz-Credential=" + url.QueryEscape(cred) + "&X-Amz-Date=" + date + "&X-Amz-SignedHeaders=host&X-Amz-Signature=" + sig, Malformed},
		{"presigned expires too long", nil, "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=" + url.QueryEscape(cred) + "&X-Amz-Date=" + date + "&X-Amz-Expires=604801&X-Amz-SignedHeaders=host&X-Amz-Signature=" + sig, Malformed},
		{"presigned expires negative", nil, "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=" + url.QueryEscape(cred) + "&X-Amz-Date=" + date + "&X-Amz-Expires=-1&X-Amz-SignedHeaders=host&X-Amz-Signature=" + sig, Malformed},
		{"presigned duplicate credential", nil, "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=" + url.QueryEscape(cred) + "&X-Amz-Credential=x&X-Amz-Date=" + date + "&X-Amz-SignedHeaders=host&X-Amz-Signature=" + sig, Malformed},
		{"presigned expires 7 days ok", nil, "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=" + url.QueryEscape(cred) + "&X-Amz-Date=" + date + "&X-Amz-Expires=604800&X-Amz-SignedHeaders=host&X-Amz-Signature=" + sig, BadSignature},
		{"no auth at all", nil, "Action=GetCallerIdentity", Missing},
		{"no auth, garbage query", nil, "a=%zz", Missing},
	}
	v := newVerifier(t0)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := newRequest(t, "GET", "http://example.com/?"+tc.query, nil)
			for k, vs := range tc.h {
				r.Header[k] = vs
			}
			_, err := v.Verify(context.Background(), r, nil)
			wantKind(t, err, tc.kind)
		})
	}
}

func TestKeyCacheBounded(t *testing.T) {
	v := newVerifier(t0)
	req := newRequest(t, "GET", "http://example.com/", nil)
	for i := 0; i < maxCachedKeys+50; i++ {
		r := req.Clone(context.Background())
		svc := "svc" + strconv.Itoa(i)
		sdkSign(t, r, nil, testCreds, svc, t0, "")
		if _, err := v.Verify(context.Background(), r, nil); err != nil {
			t.Fatal(err)
		}
	}
	if n := v.keys.len(); n != maxCachedKeys {
		t.Fatalf("cache holds %d keys, want %d", n, maxCachedKeys)
	}
	// A wrong secret must not be cached (nor hit the cached key).
	r := req.Clone(context.Background())
	sdkSign(t, r, nil, aws.Credentials{AccessKeyID: testAKID, SecretAccessKey: "wrong"}, "fresh", t0, "")
	before := v.keys.len()
	_, err := v.Verify(context.Background(), r, nil)
	wantKind(t, err, BadSignature)
	if v.keys.len() != before {
		t.Fatal("a failed verification changed the cache")
	}
}

// TestConcurrentVerify exercises the key cache from many goroutines (run with -race).
func TestConcurrentVerify(t *testing.T) {
	v := newVerifier(t0)
	body := []byte(`{}`)
	reqs := make([]*http.Request, 8)
	for i := range reqs {
		reqs[i] = newRequest(t, "POST", "http://example.com/", body)
		sdkSign(t, reqs[i], body, testCreds, "svc"+strconv.Itoa(i%3), t0, "")
	}
	done := make(chan error)
	for i := 0; i < 16; i++ {
		go func(i int) {
			var err error
			for j := 0; j < 50 && err == nil; j++ {
				_, err = v.Verify(context.Background(), reqs[(i+j)%len(reqs)], body)
			}
			done <- err
		}(i)
	}
	for i := 0; i < 16; i++ {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}
