package oauth_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sso"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"
	ssoadmintypes "github.com/aws/aws-sdk-go-v2/service/ssoadmin/types"
	"github.com/aws/aws-sdk-go-v2/service/ssooidc"

	"github.com/atrium-sso/atrium/internal/server"
	"github.com/atrium-sso/atrium/internal/store"
	"github.com/atrium-sso/atrium/internal/testenv"
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

// runClients measures calls made by clients goroutines at once, each call
// do(client index), in two ways: "handler" calls the node's handler in
// process; "http" sends them over loopback TCP to its listening server,
// on one kept-alive connection per client, so the client's work shares the
// two cores as a real caller's would. Each reports calls/s and the 99th
// percentile latency.
func runClients(b *testing.B, f *fixture, do func(i int) *http.Request, check func(i int, w *httptest.ResponseRecorder)) {
	defer debug.SetGCPercent(debug.SetGCPercent(server.GCPercent)) // as the binary runs
	h := f.srv.Handler()
	b.Run("handler", func(b *testing.B) {
		measureClients(b, func(i int) {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, do(i))
			check(i, w)
		})
	})
	target, err := url.Parse(f.url)
	if err != nil {
		b.Fatal(err)
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients}}
	defer client.CloseIdleConnections()
	b.Run("http", func(b *testing.B) {
		measureClients(b, func(i int) {
			r := do(i)
			r.URL.Scheme, r.URL.Host, r.Host, r.RequestURI = target.Scheme, target.Host, target.Host, ""
			resp, err := client.Do(r)
			if err != nil {
				b.Fatal(err)
			}
			w := httptest.NewRecorder()
			w.Code = resp.StatusCode
			_, err = io.Copy(w.Body, resp.Body)
			resp.Body.Close()
			if err != nil {
				b.Fatal(err)
			}
			check(i, w)
		})
	})
}

// measureClients runs b.N calls of call spread over clients goroutines.
func measureClients(b *testing.B, call func(i int)) {
	var next atomic.Int64
	lat := make([][]time.Duration, clients)
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for c := 0; c < clients; c++ {
		wg.Go(func() {
			for next.Add(1) <= int64(b.N) {
				t0 := time.Now()
				call(c)
				lat[c] = append(lat[c], time.Since(t0))
			}
		})
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

// BenchmarkListAccounts1000 is what `aws configure sso` does first for a
// person assigned to 1,000 accounts: list them all, page by page at the
// server's default page size, with the access token from the login. On
// AWS people get HTTP 429 here; the issue asks for under 2 s. ns/op is one
// whole listing through the Go SDK's paginator over loopback HTTP; with an
// AWS CLI v2 on the machine (testenv.FindAWSCLIv2), "aws-cli-s" is one run
// of `aws sso list-accounts` (process start included), which pages the same
// way.
func BenchmarkListAccounts1000(b *testing.B) {
	const accountsN = 1000
	f := newFixture(b)
	var org *store.Organization
	now := time.Now().UTC()
	err := f.srv.Store().Write(f.ctx, func(tx store.Tx) error {
		var err error
		if org, err = tx.GetOrganization(f.ctx); err != nil {
			return err
		}
		for i := 1; i < accountsN; i++ { // the fixture's Staging is the first
			err := tx.InsertAccount(f.ctx, store.Account{ID: fmt.Sprintf("6%011d", i), Name: fmt.Sprintf("bench-%d", i),
				Email: fmt.Sprintf("bench-%d@example.com", i), ParentID: org.RootID, Status: "ACTIVE", State: "ACTIVE",
				JoinedMethod: "CREATED", JoinedAt: now})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	// Alice's group gets the permission set in every account, through the API.
	admin := ssoadmin.NewFromConfig(f.admin)
	var wg sync.WaitGroup
	work := make(chan int)
	for range 16 {
		wg.Go(func() {
			for i := range work {
				acct := fmt.Sprintf("6%011d", i)
				_, err := admin.CreateAccountAssignment(f.ctx, &ssoadmin.CreateAccountAssignmentInput{InstanceArn: &f.inst, TargetId: &acct,
					TargetType: ssoadmintypes.TargetTypeAwsAccount, PermissionSetArn: &f.ps, PrincipalType: ssoadmintypes.PrincipalTypeGroup,
					PrincipalId: &f.group})
				if err != nil {
					b.Error(err)
				}
			}
		})
	}
	for i := 1; i < accountsN; i++ {
		work <- i
	}
	close(work)
	wg.Wait()
	tok := f.deviceLogin(f.registerDevice("bench"), f.signIn(f.alice))
	list := func() int {
		n := 0
		p := sso.NewListAccountsPaginator(f.portalAPI(), &sso.ListAccountsInput{AccessToken: tok.AccessToken})
		for p.HasMorePages() {
			page, err := p.NextPage(f.ctx)
			if err != nil {
				b.Fatal(err)
			}
			n += len(page.AccountList)
		}
		return n
	}
	// The assignments' jobs finish in the background: wait for all of them.
	for deadline := time.Now().Add(time.Minute); list() < accountsN; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			b.Fatalf("alice sees %d accounts, want %d", list(), accountsN)
		}
	}
	var cliTime time.Duration
	if cli := testenv.FindAWSCLIv2(); cli != "" {
		cmd := exec.Command(cli, "sso", "list-accounts", "--access-token", *tok.AccessToken, "--region", "us-east-1",
			"--endpoint-url", f.url, "--output", "json", "--query", "length(accountList)")
		cmd.Env = append(os.Environ(), "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
		start := time.Now()
		out, err := cmd.CombinedOutput()
		if err != nil || strings.TrimSpace(string(out)) != fmt.Sprint(accountsN) {
			b.Fatalf("aws sso list-accounts: %v %s", err, out)
		}
		cliTime = time.Since(start)
	}
	for b.Loop() {
		if n := list(); n != accountsN {
			b.Fatalf("listed %d accounts", n)
		}
	}
	if cliTime > 0 {
		b.ReportMetric(cliTime.Seconds(), "aws-cli-s")
	}
}
