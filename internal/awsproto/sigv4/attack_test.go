package sigv4

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// jsonRequest is an SDK-signed awsJson1.1 POST to srv, signed at `at`.
func jsonRequest(t *testing.T, srv *verifyServer, body []byte, creds aws.Credentials, at time.Time) *http.Request {
	t.Helper()
	req := newRequest(t, "POST", srv.URL+"/?list=a&list=b", body)
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "AWSOrganizationsV20161128.DescribeOrganization")
	sdkSign(t, req, body, creds, "organizations", at, "")
	return req
}

func TestWrongSecretIsBadSignature(t *testing.T) {
	srv := newVerifyServer(t, newVerifier(t0))
	creds := aws.Credentials{AccessKeyID: testAKID, SecretAccessKey: testSecret + "x"}
	wantKind(t, srv.send(t, jsonRequest(t, srv, []byte("{}"), creds, t0)).err, BadSignature)
}

func TestUnknownKeyIsUnknownKey(t *testing.T) {
	srv := newVerifyServer(t, newVerifier(t0))
	creds := aws.Credentials{AccessKeyID: "AKIDUNKNOWN", SecretAccessKey: testSecret}
	wantKind(t, srv.send(t, jsonRequest(t, srv, []byte("{}"), creds, t0)).err, UnknownKey)
}

func TestDateThirtyMinutesOldIsExpired(t *testing.T) {
	srv := newVerifyServer(t, newVerifier(t0))
	for _, at := range []time.Time{t0.Add(-30 * time.Minute), t0.Add(30 * time.Minute)} {
		wantKind(t, srv.send(t, jsonRequest(t, srv, []byte("{}"), testCreds, at)).err, Expired)
	}
	// Just inside the window on both sides still verifies.
	for _, at := range []time.Time{t0.Add(-14 * time.Minute), t0.Add(14 * time.Minute)} {
		wantOK(t, srv.send(t, jsonRequest(t, srv, []byte("{}"), testCreds, at)))
	}
}

func TestTamperedBodyIsBadSignature(t *testing.T) {
	srv := newVerifyServer(t, newVerifier(t0))
	req := jsonRequest(t, srv, []byte(`{"MaxResults":1}`), testCreds, t0)
	evil := []byte(`{"MaxResults":9}`)
	req.Body = io.NopCloser(bytes.NewReader(evil))
	req.ContentLength = int64(len(evil))
	wantKind(t, srv.send(t, req).err, BadSignature)
}

func TestTamperedQueryIsBadSignature(t *testing.T) {
	srv := newVerifyServer(t, newVerifier(t0))
	for _, q := range []string{"list=a&list=c", "list=a", "list=a&list=b&x=1", "list=a+&list=b", "list=b&list=a&list=a"} {
		req := jsonRequest(t, srv, []byte("{}"), testCreds, t0)
		req.URL.RawQuery = q
		wantKind(t, srv.send(t, req).err, BadSignature)
	}
	// Reordering alone is not tampering: the canonical query is sorted.
	req := jsonRequest(t, srv, []byte("{}"), testCreds, t0)
	req.URL.RawQuery = "list=b&list=a"
	wantOK(t, srv.send(t, req))
}

func TestTamperedSignedHeaderIsBadSignature(t *testing.T) {
	srv := newVerifyServer(t, newVerifier(t0))
	tamper := []func(r *http.Request){
		func(r *http.Request) { r.Header.Set("X-Amz-Target", "AWSOrganizationsV20161128.DeleteOrganization") },
		func(r *http.Request) { r.Header.Set("Content-Type", "application/json") },
		func(r *http.Request) { r.Header.Add("X-Amz-Target", "extra") },
		func(r *http.Request) { r.Header.Del("X-Amz-Target") },
		func(r *http.Request) { r.Host = "evil.example.com" },
		func(r *http.Request) { r.Header.Set("X-Amz-Date", t0.Add(time.Second).Format(timeFormat)) },
	}
	for _, f := range tamper {
		req := jsonRequest(t, srv, []byte("{}"), testCreds, t0)
		f(req)
		wantKind(t, srv.send(t, req).err, BadSignature)
	}
	// Headers that were not signed may change freely.
	req := jsonRequest(t, srv, []byte("{}"), testCreds, t0)
	req.Header.Set("X-Forwarded-For", "10.0.0.1")
	wantOK(t, srv.send(t, req))
}

func TestTamperedMethodOrPathIsBadSignature(t *testing.T) {
	srv := newVerifyServer(t, newVerifier(t0))
	req := jsonRequest(t, srv, []byte("{}"), testCreds, t0)
	req.Method = "PUT"
	wantKind(t, srv.send(t, req).err, BadSignature)
	for _, p := range []string{"/x", "//", "/%2F", "/./"} {
		req = jsonRequest(t, srv, []byte("{}"), testCreds, t0)
		req.URL.Opaque = "//" + req.URL.Host + p
		wantKind(t, srv.send(t, req).err, BadSignature)
	}
}

func TestMissingAuthorizationIsMissing(t *testing.T) {
	srv := newVerifyServer(t, newVerifier(t0))
	req := jsonRequest(t, srv, []byte("{}"), testCreds, t0)
	req.Header.Del("Authorization")
	wantKind(t, srv.send(t, req).err, Missing)
}

func TestPresignedPastExpiryIsExpired(t *testing.T) {
	presign := func(url string, at time.Time) *http.Request {
		req := newRequest(t, "GET", url+"/?X-Amz-Expires=300", nil)
		signed, _, err := v4.NewSigner().PresignHTTP(context.Background(), testCreds, req, hashOf(nil), "sts", testRegion, at)
		if err != nil {
			t.Fatal(err)
		}
		return newRequest(t, "GET", signed, nil)
	}
	srv := newVerifyServer(t, newVerifier(t0))
	wantKind(t, srv.send(t, presign(srv.URL, t0.Add(-301*time.Second))).err, Expired)
	wantOK(t, srv.send(t, presign(srv.URL, t0.Add(-299*time.Second))))
	// Signed in the future beyond the skew: not yet valid.
	wantKind(t, srv.send(t, presign(srv.URL, t0.Add(20*time.Minute))).err, Expired)

	// Raising X-Amz-Expires after signing is tampering.
	req := presign(srv.URL, t0.Add(-301*time.Second))
	req.URL.RawQuery = strings.Replace(req.URL.RawQuery, "X-Amz-Expires=300", "X-Amz-Expires=3000", 1)
	wantKind(t, srv.send(t, req).err, BadSignature)
}

func TestScopeDateMismatch(t *testing.T) {
	// Signed at 23:59:50, presented with an X-Amz-Date of the next day: both
	// within the skew window, but the scope names the previous day.
	late := time.Date(2026, 1, 1, 23, 59, 50, 0, time.UTC)
	srv := newVerifyServer(t, newVerifier(late.Add(20*time.Second)))
	req := jsonRequest(t, srv, []byte("{}"), testCreds, late)
	req.Header.Set("X-Amz-Date", "20260102T000005Z")
	wantKind(t, srv.send(t, req).err, ScopeMismatch)

	// Rewriting the scope's date instead.
	req = jsonRequest(t, srv, []byte("{}"), testCreds, late)
	req.Header.Set("Authorization", strings.Replace(req.Header.Get("Authorization"), "/20260101/", "/20260102/", 1))
	wantKind(t, srv.send(t, req).err, ScopeMismatch)
}

func TestPayloadHashHeaderLies(t *testing.T) {
	srv := newVerifyServer(t, newVerifier(t0))
	body := []byte(`{"real":true}`)
	claimed := hashOf([]byte(`{"real":false}`))
	req := newRequest(t, "POST", srv.URL+"/", body)
	req.Header.Set("X-Amz-Content-Sha256", claimed)
	sdkSign(t, req, body, testCreds, "organizations", t0, claimed) // a valid signature over the lie
	wantKind(t, srv.send(t, req).err, BadSignature)

	// Swapping a real hash for UNSIGNED-PAYLOAD after signing breaks the signature.
	req = newRequest(t, "POST", srv.URL+"/", body)
	req.Header.Set("X-Amz-Content-Sha256", hashOf(body))
	sdkSign(t, req, body, testCreds, "organizations", t0, "")
	req.Header.Set("X-Amz-Content-Sha256", unsignedPayload)
	wantKind(t, srv.send(t, req).err, BadSignature)
}

func TestSessionTokenSwapIsBadSignature(t *testing.T) {
	srv := newVerifyServer(t, newVerifier(t0))
	creds := testCreds
	creds.SessionToken = testToken
	req := jsonRequest(t, srv, []byte("{}"), creds, t0)
	req.Header.Set("X-Amz-Security-Token", "another-token")
	wantKind(t, srv.send(t, req).err, BadSignature)
}
