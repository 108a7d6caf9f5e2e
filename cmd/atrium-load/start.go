package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

const (
	healthyTimeout  = 30 * time.Second
	stopTimeout     = 30 * time.Second
	pollInterval    = time.Millisecond
	idleRequests    = 20
	idleSettle      = 2 * time.Second
	bootstrapCreds  = "bootstrap-credentials" // written by the server's first start
	databaseFile    = "atrium.db"
	serverLogTailSz = 4096
)

// startResult is what --measure-start found.
type startResult struct {
	Binary    string `json:"binary"`
	Data      string `json:"data"`
	Listen    string `json:"listen"`
	Bootstrap *struct {
		HealthyMs float64 `json:"healthy_ms"`
	} `json:"bootstrap,omitempty"` // the first start, when --data held no database; not in the figures below
	StartMs          []float64 `json:"start_to_healthy_ms"`
	MedianStartMs    float64   `json:"median_start_to_healthy_ms"`
	StopMs           []float64 `json:"stop_ms"` // SIGTERM to exit
	IdleRSSMiB       []float64 `json:"idle_rss_mib,omitempty"`
	MedianIdleRSSMiB float64   `json:"median_idle_rss_mib,omitempty"`
	IdleNote         string    `json:"idle_note"`
}

func (r *startResult) print(w io.Writer) {
	fmt.Fprintf(w, "atrium-load: start-to-healthy of %s serve --data %s --listen %s\n", r.Binary, r.Data, r.Listen)
	if r.Bootstrap != nil {
		fmt.Fprintf(w, "first start (bootstrap, not counted)  %.1f ms\n", r.Bootstrap.HealthyMs)
	}
	fmt.Fprintf(w, "start to healthy  median %.1f ms  all %s\n", r.MedianStartMs, fmtList(r.StartMs, "%.1f"))
	fmt.Fprintf(w, "SIGTERM to exit   median %.1f ms  all %s\n", median(r.StopMs), fmtList(r.StopMs, "%.1f"))
	if len(r.IdleRSSMiB) > 0 {
		fmt.Fprintf(w, "idle RSS          median %.1f MiB  all %s\n", r.MedianIdleRSSMiB, fmtList(r.IdleRSSMiB, "%.1f"))
	}
	fmt.Fprintf(w, "idle RSS measured %s\n", r.IdleNote)
}

func fmtList(xs []float64, f string) string {
	s := "["
	for i, x := range xs {
		if i > 0 {
			s += " "
		}
		s += fmt.Sprintf(f, x)
	}
	return s + "]"
}

// measureStart starts the server binary o.startRuns times on the existing
// database in o.data (bootstrapping it first if there is none) and times
// each start from exec to the first 200 from /healthz. After each start it
// makes a few signed calls, lets the server idle, and reads its VmRSS.
func measureStart(ctx context.Context, o *options, tgt *target, getenv func(string) string, stderr io.Writer) (*startResult, error) {
	defer tgt.close()
	bin, err := filepath.Abs(o.measureStart)
	if err != nil {
		return nil, err
	}
	if st, err := os.Stat(bin); err != nil || st.IsDir() {
		return nil, fmt.Errorf("--measure-start %s: not a binary", o.measureStart)
	}
	data, err := filepath.Abs(o.data)
	if err != nil {
		return nil, err
	}
	listen := tgt.listenAddr()
	if c, err := net.DialTimeout("tcp", listen, time.Second); err == nil {
		c.Close()
		return nil, fmt.Errorf("something already listens on %s: stop it or pick another --endpoint port", listen)
	}
	res := &startResult{Binary: bin, Data: data, Listen: listen}

	if _, err := os.Stat(filepath.Join(data, databaseFile)); errors.Is(err, os.ErrNotExist) {
		fmt.Fprintf(stderr, "atrium-load: %s holds no database: a first start bootstraps it (not counted)\n", data)
		s, err := startServer(ctx, bin, data, listen, tgt)
		if err != nil {
			return nil, fmt.Errorf("bootstrap start: %w", err)
		}
		res.Bootstrap = &struct {
			HealthyMs float64 `json:"healthy_ms"`
		}{ms(s.healthyAfter)}
		if _, err := s.stop(tgt); err != nil {
			return nil, err
		}
	} else if err != nil {
		return nil, err
	}

	creds, credsFrom := idleCredentials(ctx, o, data, getenv)
	for i := 0; i < o.startRuns; i++ {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		s, err := startServer(ctx, bin, data, listen, tgt)
		if err != nil {
			return nil, fmt.Errorf("start %d: %w", i+1, err)
		}
		res.StartMs = append(res.StartMs, ms(s.healthyAfter))
		rss, rerr := s.idleRSS(ctx, tgt, creds)
		stopped, serr := s.stop(tgt)
		if rerr != nil {
			return nil, fmt.Errorf("start %d: %w", i+1, rerr)
		}
		if serr != nil {
			return nil, serr
		}
		res.StopMs = append(res.StopMs, ms(stopped))
		res.IdleRSSMiB = append(res.IdleRSSMiB, float64(rss)/mib)
	}
	res.MedianStartMs = median(res.StartMs)
	res.MedianIdleRSSMiB = median(res.IdleRSSMiB)
	if creds.HasKeys() {
		res.IdleNote = fmt.Sprintf("%s after %d signed calls (DescribeOrganization, DescribeAccount; key from %s) and %s idle", "VmRSS", idleRequests, credsFrom, idleSettle)
	} else {
		res.IdleNote = fmt.Sprintf("VmRSS after %s idle, with no API calls (no credentials: pass --credentials)", idleSettle)
	}
	return res, nil
}

// idleCredentials picks the key for the calls made before the idle reading:
// --credentials, else the data folder's bootstrap key, else the environment.
func idleCredentials(ctx context.Context, o *options, data string, getenv func(string) string) (aws.Credentials, string) {
	if o.cred.file != "" {
		if c, err := loadCredentials(ctx, o.cred.file, o.cred.profile, getenv); err == nil {
			return c, o.cred.file
		}
	}
	file := filepath.Join(data, bootstrapCreds)
	if c, err := loadCredentials(ctx, file, o.cred.profile, getenv); err == nil {
		return c, file
	}
	if c, err := loadCredentials(ctx, "", o.cred.profile, getenv); err == nil {
		return c, "the environment"
	}
	return aws.Credentials{}, ""
}

// tail keeps the last bytes written to it: the server's log, for errors.
type tail struct {
	mu  sync.Mutex
	buf []byte
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > serverLogTailSz {
		t.buf = append([]byte(nil), t.buf[len(t.buf)-serverLogTailSz:]...)
	}
	return len(p), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}

// runningServer is one started server process.
type runningServer struct {
	cmd          *exec.Cmd
	log          *tail
	exited       chan struct{}
	healthyAfter time.Duration
}

func startServer(ctx context.Context, bin, data, listen string, tgt *target) (*runningServer, error) {
	s := &runningServer{log: &tail{}, exited: make(chan struct{})}
	s.cmd = exec.Command(bin, "serve", "--data", data, "--listen", listen)
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	t0 := time.Now()
	if err := s.cmd.Start(); err != nil {
		return nil, err
	}
	go func() { s.cmd.Wait(); close(s.exited) }()
	healthz := tgt.url.String() + "/healthz"
	deadline := time.NewTimer(healthyTimeout)
	defer deadline.Stop()
	for {
		if healthy(ctx, tgt.client, healthz) {
			s.healthyAfter = time.Since(t0)
			return s, nil
		}
		select {
		case <-s.exited:
			return nil, fmt.Errorf("the server exited before it was healthy (%v); its log:\n%s", s.cmd.ProcessState, s.log)
		case <-deadline.C:
			s.stop(tgt)
			return nil, fmt.Errorf("not healthy after %s; its log:\n%s", healthyTimeout, s.log)
		case <-ctx.Done():
			s.stop(tgt)
			return nil, ctx.Err()
		case <-time.After(pollInterval):
		}
	}
}

func healthy(ctx context.Context, c *http.Client, url string) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return false
	}
	resp, err := c.Do(req)
	if err != nil {
		return false
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<10))
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// idleRSS makes a few signed calls (when there is a key), lets the server
// idle, and reads its VmRSS.
func (s *runningServer) idleRSS(ctx context.Context, tgt *target, creds aws.Credentials) (uint64, error) {
	if creds.HasKeys() {
		b, cerr := newCaller(tgt, describeOrganization, creds, "").do(ctx)
		if cerr != nil {
			return 0, fmt.Errorf("DescribeOrganization: %v", cerr)
		}
		acct, _ := managementAccount(b)
		c := newCaller(tgt, operations["describe-account"], creds, acct)
		for i := 1; i < idleRequests; i++ {
			if _, cerr := c.do(ctx); cerr != nil {
				return 0, fmt.Errorf("DescribeAccount: %v", cerr)
			}
		}
	}
	select {
	case <-time.After(idleSettle):
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	rss, _, err := procMemory(s.cmd.Process.Pid)
	return rss, err
}

// stop sends SIGTERM and waits for the exit (SIGKILL after stopTimeout).
func (s *runningServer) stop(tgt *target) (time.Duration, error) {
	defer tgt.close() // its keep-alive connections died with it
	t0 := time.Now()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return 0, err
	}
	select {
	case <-s.exited:
	case <-time.After(stopTimeout):
		s.cmd.Process.Kill()
		<-s.exited
		return 0, fmt.Errorf("the server did not stop within %s of SIGTERM; killed", stopTimeout)
	}
	d := time.Since(t0)
	if !s.cmd.ProcessState.Success() {
		return d, fmt.Errorf("the server exited with %v; its log:\n%s", s.cmd.ProcessState, s.log)
	}
	return d, nil
}
