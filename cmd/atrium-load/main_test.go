package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/atrium-sso/atrium/internal/config"
	"github.com/atrium-sso/atrium/internal/server"
	"github.com/atrium-sso/atrium/internal/store"
)

func durations(ms ...int) []time.Duration {
	out := make([]time.Duration, len(ms))
	for i, m := range ms {
		out[i] = time.Duration(m) * time.Millisecond
	}
	return out
}

func TestPercentile(t *testing.T) {
	hundred := make([]time.Duration, 100)
	for i := range hundred {
		hundred[i] = time.Duration(i+1) * time.Millisecond
	}
	tests := []struct {
		name    string
		samples []time.Duration
		p       float64
		want    time.Duration
	}{
		{"empty", nil, 50, 0},
		{"one", durations(7), 50, 7 * time.Millisecond},
		{"one p99", durations(7), 99, 7 * time.Millisecond},
		{"p50 of 1..100", hundred, 50, 50 * time.Millisecond},
		{"p90 of 1..100", hundred, 90, 90 * time.Millisecond},
		{"p99 of 1..100", hundred, 99, 99 * time.Millisecond},
		{"p100 of 1..100", hundred, 100, 100 * time.Millisecond},
		{"tiny p is the minimum", hundred, 0.001, 1 * time.Millisecond},
		{"p50 of 4 is the 2nd", durations(1, 2, 3, 4), 50, 2 * time.Millisecond},
		{"p51 of 4 is the 3rd", durations(1, 2, 3, 4), 51, 3 * time.Millisecond},
		{"p99 of 10: the max", durations(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 99, 10 * time.Millisecond},
		{"p90 of 10", durations(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 90, 9 * time.Millisecond},
	}
	for _, tt := range tests {
		if got := percentile(tt.samples, tt.p); got != tt.want {
			t.Errorf("%s: percentile(p%v) = %v, want %v", tt.name, tt.p, got, tt.want)
		}
	}
}

func TestSummarize(t *testing.T) {
	// Unsorted in, with one outlier: p99 of 200 samples is the 198th.
	var s []time.Duration
	for i := 200; i >= 1; i-- {
		s = append(s, time.Duration(i)*time.Millisecond)
	}
	s[0] = time.Second // replaces 200ms
	l := summarize(s)
	if l.P50 != 100 || l.P90 != 180 || l.P99 != 198 || l.Max != 1000 {
		t.Errorf("summarize = %+v", l)
	}
	if want := (float64(199*200/2) + 1000) / 200; l.Mean != want {
		t.Errorf("mean %v, want %v", l.Mean, want)
	}
	if (summarize(nil) != latency{}) {
		t.Error("summarize(nil) is not zero")
	}
}

func TestMedian(t *testing.T) {
	for _, tt := range []struct {
		in   []float64
		want float64
	}{{nil, 0}, {[]float64{3}, 3}, {[]float64{5, 1, 3}, 3}, {[]float64{4, 1, 3, 2}, 2.5}} {
		in := append([]float64(nil), tt.in...)
		if got := median(tt.in); got != tt.want {
			t.Errorf("median(%v) = %v, want %v", tt.in, got, tt.want)
		}
		if fmt.Sprint(in) != fmt.Sprint(tt.in) {
			t.Errorf("median reordered its input: %v", tt.in)
		}
	}
}

func TestErrorTally(t *testing.T) {
	var a, b errorTally
	a.add(&callError{key: "HTTP 500 InternalFailure", msg: "first"}, 1)
	a.add(&callError{key: "HTTP 500 InternalFailure", msg: "second"}, 1)
	b.add(&callError{key: "transport: timeout", msg: "t"}, 5)
	b.add(&callError{key: "HTTP 500 InternalFailure", msg: "third"}, 1)
	a.merge(&b)
	if a.total() != 8 {
		t.Errorf("total %d, want 8", a.total())
	}
	l := a.list()
	if len(l) != 2 || l[0].Kind != "transport: timeout" || l[0].Count != 5 || l[1].Count != 3 || l[1].Example != "first" {
		t.Errorf("list = %+v", l)
	}
}

func TestFlagValidation(t *testing.T) {
	ok := [][]string{
		nil,
		{"--concurrency", "1", "--duration", "10m", "--warmup", "0s"},
		{"--op", "get-caller-identity"},
		{"--op", "list-accounts", "--json"},
		{"--account-id", "123456789012"},
		{"--measure-start", "/bin/true", "--data", "/tmp/x", "--start-runs", "5"},
		{"--measure-server", "1234"},
		{"--runs", "20"},
	}
	for _, args := range ok {
		if _, err := parseFlags(args, io.Discard); err != nil {
			t.Errorf("%q: %v", args, err)
		}
	}
	bad := map[string][]string{
		"concurrency":   {"--concurrency", "0"},
		"concurrency ":  {"--concurrency", "100000"},
		"duration":      {"--duration", "0s"},
		"duration cap":  {"--duration", "11m"},
		"warmup":        {"--warmup", "-1s"},
		"warmup cap":    {"--warmup", "2m"},
		"op":            {"--op", "delete-everything"},
		"account":       {"--account-id", "12345"},
		"account op":    {"--op", "list-accounts", "--account-id", "123456789012"},
		"data alone":    {"--data", "/tmp/x"},
		"start no data": {"--measure-start", "/bin/true"},
		"start runs":    {"--measure-start", "/bin/true", "--data", "/tmp/x", "--start-runs", "0"},
		"pid":           {"--measure-server", "-3"},
		"runs":          {"--runs", "0"},
		"runs cap":      {"--runs", "21"},
		"timeout":       {"--timeout", "0s"},
		"profile":       {"--profile", ""},
		"stray arg":     {"extra"},
		"unknown flag":  {"--rate", "5"},
	}
	for name, args := range bad {
		if _, err := parseFlags(args, io.Discard); err == nil {
			t.Errorf("%s: %q accepted", name, args)
		}
	}
	o, err := parseFlags(nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if o.endpoint != "http://127.0.0.1:8080" || o.concurrency != 64 || o.duration != 10*time.Second || o.warmup != 2*time.Second ||
		o.op != "describe-account" || o.cred.profile != "atrium-admin" {
		t.Errorf("defaults: %+v", o)
	}
}

type fakeResolver map[string][]string

func (f fakeResolver) LookupIPAddr(_ context.Context, host string) ([]net.IPAddr, error) {
	ips, ok := f[host]
	if !ok {
		return nil, errors.New("no such host")
	}
	var out []net.IPAddr
	for _, s := range ips {
		out = append(out, net.IPAddr{IP: net.ParseIP(s)})
	}
	return out, nil
}

func TestLoopbackCheck(t *testing.T) {
	r := fakeResolver{
		"localhost":      {"127.0.0.1", "::1"},
		"loop.example":   {"127.0.0.53"},
		"mixed.example":  {"127.0.0.1", "10.0.0.7"},
		"remote.example": {"93.184.215.14"},
		"empty.example":  {},
	}
	ok := []string{
		"http://127.0.0.1:8080", "http://127.0.0.1:8080/", "https://127.0.0.1", "http://[::1]:8080",
		"http://localhost:8080", "http://loop.example:1", "http://127.1.2.3:80",
	}
	for _, e := range ok {
		if _, _, err := checkEndpoint(context.Background(), e, r); err != nil {
			t.Errorf("%s refused: %v", e, err)
		}
	}
	bad := []string{
		"http://10.0.0.1:8080", "http://0.0.0.0:8080", "http://[::]:8080", "http://192.168.1.1",
		"http://remote.example", "http://mixed.example:8080", "http://empty.example", "http://unknown.example",
		"ftp://127.0.0.1", "127.0.0.1:8080", "http://", "http://127.0.0.1:8080/api", "http://127.0.0.1:8080/?a=b",
		"http://user:pw@127.0.0.1:8080", "http://127.0.0.1:99999", "http://[::ffff:10.0.0.1]:80",
	}
	for _, e := range bad {
		if _, _, err := checkEndpoint(context.Background(), e, r); err == nil {
			t.Errorf("%s accepted", e)
		}
	}
	tgt, err := newTarget(context.Background(), "http://localhost:8123", r, 4, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if got := tgt.listenAddr(); got != "localhost:8123" {
		t.Errorf("listenAddr %q", got)
	}
}

func TestParseProc(t *testing.T) {
	status := []byte("Name:\tatrium\nVmPeak:\t 1300000 kB\nVmHWM:\t   40000 kB\nVmRSS:\t   30000 kB\nThreads:\t7\n")
	rss, peak, err := parseStatus(status)
	if err != nil || rss != 30000*1024 || peak != 40000*1024 {
		t.Errorf("parseStatus = %d, %d, %v", rss, peak, err)
	}
	if _, _, err := parseStatus([]byte("Name:\tkthreadd\n")); err == nil {
		t.Error("a status without VmRSS parsed")
	}
	// The command may contain spaces and parentheses.
	stat := []byte("4242 (a) b (c)) S 1 4242 4242 0 -1 4194560 1000 0 0 0 250 75 0 0 20 0 7 0 100 1000000 5000 18446744073709551615")
	cpu, err := parseStatCPU(stat)
	if err != nil || cpu != 3250*time.Millisecond {
		t.Errorf("parseStatCPU = %v, %v", cpu, err)
	}
	m, err := parseProcStat([]byte("cpu  100 5 50 1000 20 3 2 10 0 0\ncpu0 1 2 3 4 5 6 7 8 9 10\n"))
	if err != nil || m.busy != 1700*time.Millisecond || m.steal != 100*time.Millisecond {
		t.Errorf("parseProcStat = %+v, %v", m, err)
	}
}

func TestErrorCode(t *testing.T) {
	for _, tt := range []struct{ body, code string }{
		{`{"__type":"com.amazonaws.organizations#AccountNotFoundException","message":"no"}`, "AccountNotFoundException"},
		{`{"__type":"UnrecognizedClientException","message":"bad"}`, "UnrecognizedClientException"},
		{`<ErrorResponse><Error><Type>Sender</Type><Code>InvalidClientTokenId</Code><Message>m</Message></Error></ErrorResponse>`, "InvalidClientTokenId"},
		{`not found`, "-"},
	} {
		if code, _ := errorCode([]byte(tt.body)); code != tt.code {
			t.Errorf("errorCode(%s) = %q, want %q", tt.body, code, tt.code)
		}
	}
}

func TestChecks(t *testing.T) {
	if err := checkDescribeAccount([]byte(`{"Account":{"Id":"123456789012"}}`), "123456789012"); err != nil {
		t.Error(err)
	}
	for _, b := range []string{`{"Account":{"Id":"999999999999"}}`, `{}`, `nope`} {
		if checkDescribeAccount([]byte(b), "123456789012") == nil {
			t.Errorf("DescribeAccount body %s passed", b)
		}
	}
	if err := checkListAccounts([]byte(`{"Accounts":[{"Id":"123456789012"}]}`), ""); err != nil {
		t.Error(err)
	}
	if checkListAccounts([]byte(`{"Accounts":[]}`), "") == nil {
		t.Error("an empty ListAccounts passed")
	}
	gci := `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult><UserId>1</UserId><Account>123456789012</Account><Arn>arn:aws:iam::123456789012:root</Arn></GetCallerIdentityResult></GetCallerIdentityResponse>`
	if err := checkGetCallerIdentity([]byte(gci), ""); err != nil {
		t.Error(err)
	}
	if checkGetCallerIdentity([]byte(`<ErrorResponse/>`), "") == nil {
		t.Error("an ErrorResponse passed as GetCallerIdentity")
	}
}

func TestLoadCredentials(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "creds")
	os.WriteFile(file, []byte("[other]\naws_access_key_id = A\naws_secret_access_key = B\n[atrium-admin]\naws_access_key_id = AKIDEXAMPLE\naws_secret_access_key = s3cr3t\n"), 0o600)
	env := func(string) string { return "" }
	c, err := loadCredentials(context.Background(), file, "atrium-admin", env)
	if err != nil || c.AccessKeyID != "AKIDEXAMPLE" || c.SecretAccessKey != "s3cr3t" {
		t.Errorf("file: %+v, %v", c, err)
	}
	if _, err := loadCredentials(context.Background(), file, "missing", env); err == nil {
		t.Error("a missing profile loaded")
	}
	if _, err := loadCredentials(context.Background(), "", "atrium-admin", env); err == nil {
		t.Error("no credentials at all loaded")
	}
	c, err = loadCredentials(context.Background(), "", "atrium-admin", func(k string) string {
		return map[string]string{"AWS_ACCESS_KEY_ID": "E", "AWS_SECRET_ACCESS_KEY": "F"}[k]
	})
	if err != nil || c.AccessKeyID != "E" {
		t.Errorf("env: %+v, %v", c, err)
	}
}

// --- against a real server in this process

const (
	benchKey    = "AKIAATRIUMLOADTEST01"
	benchSecret = "atrium-load-test-secret-atrium-load-test"
)

// openServer opens a real Atrium (SQLite, bootstrapped) in a temp folder.
func openServer(tb testing.TB) *server.Server {
	tb.Helper()
	env := map[string]string{"ATRIUM_BOOTSTRAP_ACCESS_KEY_ID": benchKey, "ATRIUM_BOOTSTRAP_SECRET_ACCESS_KEY": benchSecret}
	getenv := func(k string) string { return env[k] }
	cfg, err := config.Load([]string{"--data", tb.TempDir(), "--listen", "127.0.0.1:0"}, getenv)
	if err != nil {
		tb.Fatal(err)
	}
	// Text logs to nowhere: the formatting cost stays, as in production.
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ctx, cancel := context.WithCancel(context.Background())
	s, err := server.Open(ctx, cfg, getenv, log)
	if err != nil {
		cancel()
		tb.Fatal(err)
	}
	s.Start(ctx) // the job runner; stopped before the store closes
	tb.Cleanup(func() { cancel(); s.Store().Close() })
	return s
}

func benchCreds() aws.Credentials {
	return aws.Credentials{AccessKeyID: benchKey, SecretAccessKey: benchSecret}
}

// TestRunLoad runs the whole load loop for a moment against a real server.
func TestRunLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server")
	}
	s := openServer(t)
	hs := httptest.NewServer(s.Handler())
	defer hs.Close()
	for _, op := range []string{"describe-account", "list-accounts", "get-caller-identity"} {
		var stdout, stderr bytes.Buffer
		env := map[string]string{"AWS_ACCESS_KEY_ID": benchKey, "AWS_SECRET_ACCESS_KEY": benchSecret}
		code := run(context.Background(), []string{"--endpoint", hs.URL, "--op", op, "--concurrency", "4", "--duration", "300ms", "--warmup", "100ms",
			"--measure-server", fmt.Sprint(os.Getpid()), "--json"}, &stdout, &stderr, func(k string) string { return env[k] })
		if code != 0 {
			t.Fatalf("%s: exit %d\n%s%s", op, code, stdout.String(), stderr.String())
		}
		// Kept-alive connections: one per worker, plus the first call's if
		// no worker happened to pick it up.
		var lr loadResult
		json.Unmarshal(stdout.Bytes(), &lr)
		if lr.Errors != 0 || lr.Requests == 0 || lr.Connections < 4 || lr.Connections > 5 {
			t.Errorf("%s: %s", op, stdout.String())
		}
	}
	// Three windows: each reported, then their medians (JSON: the runs and the medians).
	env := map[string]string{"AWS_ACCESS_KEY_ID": benchKey, "AWS_SECRET_ACCESS_KEY": benchSecret}
	args := []string{"--endpoint", hs.URL, "--op", "describe-account", "--concurrency", "2", "--duration", "200ms", "--warmup", "50ms", "--runs", "3"}
	var out, errOut bytes.Buffer
	if code := run(context.Background(), args, &out, &errOut, func(k string) string { return env[k] }); code != 0 ||
		strings.Count(out.String(), "== run ") != 3 || !strings.Contains(out.String(), "== median of 3 runs: throughput ") {
		t.Errorf("--runs 3: exit %d\n%s%s", code, out.String(), errOut.String())
	}
	out.Reset()
	if code := run(context.Background(), append(args, "--json"), &out, &errOut, func(k string) string { return env[k] }); code != 0 {
		t.Fatalf("--runs 3 --json: exit %d\n%s", code, errOut.String())
	}
	var rr runsResult
	if err := json.Unmarshal(out.Bytes(), &rr); err != nil || len(rr.Runs) != 3 || rr.MedianThroughputRPS <= 0 || rr.MedianP99 <= 0 {
		t.Errorf("--runs 3 --json: %v %s", err, out.String())
	}
	ps := []float64{rr.Runs[0].Latency.P99, rr.Runs[1].Latency.P99, rr.Runs[2].Latency.P99}
	slices.Sort(ps)
	if rr.MedianP99 != ps[1] {
		t.Errorf("median p99 %v of %v", rr.MedianP99, ps)
	}

	// A wrong key: the first call fails and the exit status says so.
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"--endpoint", hs.URL, "--duration", "100ms"}, &stdout, &stderr, func(k string) string {
		return map[string]string{"AWS_ACCESS_KEY_ID": benchKey, "AWS_SECRET_ACCESS_KEY": "wrong"}[k]
	})
	if code == 0 || !strings.Contains(stderr.String(), "InvalidSignatureException") && !strings.Contains(stderr.String(), "SignatureDoesNotMatch") {
		t.Errorf("wrong key: exit %d, %s", code, stderr.String())
	}
}

// TestErrorsCounted: a server that starts failing mid-run makes errors, counted by kind, and a non-zero exit.
func TestErrorsCounted(t *testing.T) {
	s := openServer(t)
	var calls atomic.Int64
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n := calls.Add(1); n > 20 && n%3 == 0 {
			w.Header().Set("Content-Type", "application/x-amz-json-1.1")
			w.WriteHeader(http.StatusServiceUnavailable)
			w.Write([]byte(`{"__type":"ThrottlingException","message":"slow down"}`))
			return
		}
		s.Handler().ServeHTTP(w, r)
	}))
	defer hs.Close()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"--endpoint", hs.URL, "--concurrency", "2", "--duration", "200ms", "--warmup", "0s"}, &stdout, &stderr, func(k string) string {
		return map[string]string{"AWS_ACCESS_KEY_ID": benchKey, "AWS_SECRET_ACCESS_KEY": benchSecret}[k]
	})
	if code != 1 || !strings.Contains(stdout.String(), "HTTP 503 ThrottlingException") {
		t.Errorf("exit %d\n%s%s", code, stdout.String(), stderr.String())
	}
}

// TestStalledWarmupStillMeasured: when every warm-up call stalls past the
// end of the window, each worker still measures one call, so a stall on a
// busy machine shows as latency rather than as an empty result.
func TestStalledWarmupStillMeasured(t *testing.T) {
	s := openServer(t)
	var calls atomic.Int64
	var stallFrom atomic.Int64
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The first call checks the key; every call in the next 100 ms
		// (the workers' warm-up calls) stalls well past the window.
		if n := calls.Add(1); n == 2 {
			stallFrom.Store(time.Now().UnixNano())
		}
		if from := stallFrom.Load(); from != 0 && time.Since(time.Unix(0, from)) < 100*time.Millisecond {
			time.Sleep(400 * time.Millisecond)
		}
		s.Handler().ServeHTTP(w, r)
	}))
	defer hs.Close()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"--endpoint", hs.URL, "--op", "get-caller-identity", "--concurrency", "2", "--duration", "100ms", "--warmup", "50ms", "--json"}, &stdout, &stderr, func(k string) string {
		return map[string]string{"AWS_ACCESS_KEY_ID": benchKey, "AWS_SECRET_ACCESS_KEY": benchSecret}[k]
	})
	var lr loadResult
	json.Unmarshal(stdout.Bytes(), &lr)
	if code != 0 || lr.Requests != 2 || lr.WarmupRequests != 2 || lr.ElapsedSeconds < 0.3 {
		t.Errorf("exit %d\n%s%s", code, stdout.String(), stderr.String())
	}
}

// BenchmarkServer measures the server's own cost per call, in process and
// without the network: SigV4 verification, dispatch, the store reads and
// the response. Each operation's request is signed once, by atrium-load's
// own code, and replayed (the server has no replay check within the clock
// skew), so the client's signing stays out of the figures. Profile it with
//
//	go test ./cmd/atrium-load -run '^$' -bench BenchmarkServer/describe-account -cpuprofile /tmp/cpu.out
//	go tool pprof -top -cum cmd/atrium-load.test /tmp/cpu.out
func BenchmarkServer(b *testing.B) {
	s := openServer(b)
	h := s.Handler()
	var acct string
	if err := s.Store().Read(context.Background(), func(tx store.Tx) error {
		org, err := tx.GetOrganization(context.Background())
		if org != nil {
			acct = org.ManagementAccountID
		}
		return err
	}); err != nil {
		b.Fatal(err)
	}
	u, _, err := checkEndpoint(context.Background(), "http://127.0.0.1:8080", nil)
	if err != nil {
		b.Fatal(err)
	}
	for _, name := range []string{"describe-account", "get-caller-identity", "list-accounts"} {
		b.Run(name, func(b *testing.B) {
			tgt := &target{url: u}
			c := newCaller(tgt, operations[name], benchCreds(), acct)
			signed, err := c.request(context.Background())
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					req := httptest.NewRequest(http.MethodPost, c.url, bytes.NewReader(c.body))
					req.Header = signed.Header.Clone()
					w := httptest.NewRecorder()
					h.ServeHTTP(w, req)
					if w.Code != http.StatusOK {
						b.Fatalf("%d %s", w.Code, w.Body)
					}
				}
			})
		})
	}
}
