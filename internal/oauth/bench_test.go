package oauth_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssooidc"

	"github.com/atrium-sso/atrium/internal/server"
)

// clients is how many clients call at once, as in the figures.
const clients = 64

// benchLogins logs alice's CLI in clients times: as many token families.
func benchLogins(b *testing.B, f *fixture) ([]*ssooidc.RegisterClientOutput, []*ssooidc.CreateTokenOutput) {
	regs := make([]*ssooidc.RegisterClientOutput, clients)
	toks := make([]*ssooidc.CreateTokenOutput, clients)
	sess := f.signIn(f.alice)
	// Sixteen registrations, four logins each: within the rate limits.
	for i := range regs {
		if i < 16 {
			regs[i] = f.registerDevice("bench")
		} else {
			regs[i] = regs[i%16]
		}
		toks[i] = f.deviceLogin(regs[i], sess)
	}
	return regs, toks
}

// runClients runs b.N calls spread over clients goroutines, each call made
// by do(client index) through the node's handler, and reports calls/s and
// the 99th percentile latency.
func runClients(b *testing.B, f *fixture, do func(i int) *http.Request, check func(i int, w *httptest.ResponseRecorder)) {
	defer debug.SetGCPercent(debug.SetGCPercent(server.GCPercent)) // as the binary runs
	h := f.srv.Handler()
	var next atomic.Int64
	lat := make([][]time.Duration, clients)
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			for next.Add(1) <= int64(b.N) {
				r := do(c)
				w := httptest.NewRecorder()
				t0 := time.Now()
				h.ServeHTTP(w, r)
				lat[c] = append(lat[c], time.Since(t0))
				check(c, w)
			}
		}(c)
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	all := slices.Concat(lat...)
	slices.Sort(all)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "calls/s")
	b.ReportMetric(float64(b.N)/elapsed.Seconds()/float64(runtime.GOMAXPROCS(0)), "calls/s/core")
	if len(all) > 0 {
		b.ReportMetric(float64(all[len(all)*99/100].Microseconds())/1000, "p99-ms")
	}
}

// BenchmarkGetRoleCredentials is the portal API's credential issue through
// the whole handler on SQLite, 64 clients at once: bearer token check,
// entitlement check, minting, and its audit record.
func BenchmarkGetRoleCredentials(b *testing.B) {
	f := newFixture(b)
	_, toks := benchLogins(b, f)
	q := url.Values{"role_name": {"Admin"}, "account_id": {f.account}}.Encode()
	runClients(b, f, func(i int) *http.Request {
		r := httptest.NewRequest(http.MethodGet, "/federation/credentials?"+q, nil)
		r.Header.Set("x-amz-sso_bearer_token", *toks[i].AccessToken)
		return r
	}, func(i int, w *httptest.ResponseRecorder) {
		if w.Code != 200 {
			b.Fatalf("GetRoleCredentials: %d %s", w.Code, w.Body)
		}
	})
}

// BenchmarkRefreshToken is CreateToken with the refresh_token grant, 64
// clients at once, each rotating its own refresh token.
func BenchmarkRefreshToken(b *testing.B) {
	f := newFixture(b)
	regs, toks := benchLogins(b, f)
	current := make([]string, clients)
	for i, t := range toks {
		current[i] = *t.RefreshToken
	}
	runClients(b, f, func(i int) *http.Request {
		body, _ := json.Marshal(map[string]string{"clientId": aws.ToString(regs[i].ClientId), "clientSecret": aws.ToString(regs[i].ClientSecret),
			"grantType": "refresh_token", "refreshToken": current[i]})
		r := httptest.NewRequest(http.MethodPost, "/token", strings.NewReader(string(body)))
		r.Header.Set("Content-Type", "application/json")
		return r
	}, func(i int, w *httptest.ResponseRecorder) {
		var out struct{ RefreshToken string }
		if w.Code != 200 || json.Unmarshal(w.Body.Bytes(), &out) != nil || out.RefreshToken == "" {
			b.Fatalf("refresh: %d %s", w.Code, w.Body)
		}
		current[i] = out.RefreshToken
	})
}
