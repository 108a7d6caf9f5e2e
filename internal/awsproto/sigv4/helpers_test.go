package sigv4

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

const (
	testAKID   = "AKIDEXAMPLE"
	testSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
	testToken  = "IQoJb3JpZ2luX2VjEXAMPLE/token+with=specials"
	testRegion = "us-east-1"
)

// t0 is the signing time of most tests; verifiers built by newVerifier say it is now.
var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

var testCreds = aws.Credentials{AccessKeyID: testAKID, SecretAccessKey: testSecret}

func testLookup(_ context.Context, id string) (string, error) {
	if id == testAKID {
		return testSecret, nil
	}
	return "", ErrUnknownKey
}

func newVerifier(now time.Time) *Verifier {
	return &Verifier{Lookup: testLookup, Now: func() time.Time { return now }}
}

func hashOf(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// outcome is what the server-side handler saw.
type outcome struct {
	res  *Result
	err  error
	body []byte
}

// verifyServer is a real httptest.Server whose handler reads the body and
// calls Verify, so the request shape verified is net/http's server-side one.
type verifyServer struct {
	*httptest.Server
	mu   sync.Mutex
	last []outcome
	// respond writes the reply after a successful Verify (default: 200, empty).
	respond func(w http.ResponseWriter, r *http.Request)
}

func newVerifyServer(t testing.TB, v *Verifier) *verifyServer {
	t.Helper()
	s := &verifyServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		res, err := v.Verify(r.Context(), r, body)
		s.mu.Lock()
		s.last = append(s.last, outcome{res, err, body})
		respond := s.respond
		s.mu.Unlock()
		if err != nil {
			http.Error(w, err.Error(), http.StatusForbidden)
			return
		}
		if respond != nil {
			respond(w, r)
		}
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *verifyServer) setRespond(f func(w http.ResponseWriter, r *http.Request)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.respond = f
}

// outcomes returns and clears what the handler recorded.
func (s *verifyServer) outcomes() []outcome {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.last
	s.last = nil
	return o
}

// send performs req and returns the single server-side outcome.
func (s *verifyServer) send(t testing.TB, req *http.Request) outcome {
	t.Helper()
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatalf("request failed: %v", err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	o := s.outcomes()
	if len(o) != 1 {
		t.Fatalf("server saw %d requests, want 1", len(o))
	}
	return o[0]
}

func newRequest(t testing.TB, method, url string, body []byte) *http.Request {
	t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// sdkSign signs req with the Go SDK's own signer, hashing body unless hash is given.
func sdkSign(t testing.TB, req *http.Request, body []byte, creds aws.Credentials, service string, at time.Time, hash string) {
	t.Helper()
	if hash == "" {
		hash = hashOf(body)
	}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hash, service, testRegion, at); err != nil {
		t.Fatal(err)
	}
}

func wantOK(t testing.TB, o outcome) *Result {
	t.Helper()
	if o.err != nil {
		t.Fatalf("Verify failed: %v", o.err)
	}
	return o.res
}

func wantKind(t testing.TB, err error, k Kind) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("got error %v, want *Error of kind %v", err, k)
	}
	if e.Kind != k {
		t.Fatalf("got kind %v (%s), want %v", e.Kind, e.Msg, k)
	}
}
