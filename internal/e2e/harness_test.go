// Package e2e drives the real `atrium` binary over real HTTP with real AWS
// clients (the Go SDK v2, boto3, the AWS CLI), on SQLite and on PostgreSQL.
package e2e

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/atrium-sso/atrium/internal/testenv"
)

var (
	buildOnce sync.Once
	binary    string
	buildErr  error
)

// atriumBinary builds cmd/atrium once per test run.
func atriumBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "atrium-e2e-bin")
		if err != nil {
			buildErr = err
			return
		}
		binary = filepath.Join(dir, "atrium")
		out, err := exec.Command("go", "build", "-o", binary, "github.com/atrium-sso/atrium/cmd/atrium").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binary
}

// node is one running `atrium serve` process.
type node struct {
	t       *testing.T
	URL     string
	Data    string
	KeyID   string
	Secret  string
	cmd     *exec.Cmd
	logMu   sync.Mutex
	log     strings.Builder
	exited  chan struct{}
	exitErr error
}

type nodeOptions struct {
	data     string   // data folder; a new temp dir when ""
	database string   // postgres DSN, or "" for SQLite
	env      []string // extra environment
	args     []string // extra flags
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startNode runs `atrium serve` and waits until /healthz answers 200.
func startNode(t *testing.T, o nodeOptions) *node {
	t.Helper()
	n := launch(t, o)
	if err := n.waitHealthy(15 * time.Second); err != nil {
		t.Fatalf("node never became healthy: %v\n%s", err, n.Log())
	}
	n.loadCredentials(o)
	return n
}

func launch(t *testing.T, o nodeOptions) *node {
	t.Helper()
	if o.data == "" {
		o.data = t.TempDir()
	}
	addr := freePort(t)
	args := append([]string{"serve", "--listen", addr, "--data", o.data}, o.args...)
	if o.database != "" {
		args = append(args, "--database", o.database)
	}
	cmd := exec.Command(atriumBinary(t), args...)
	cmd.Env = append(os.Environ(), o.env...)
	n := &node{t: t, URL: "http://" + addr, Data: o.data, cmd: cmd, exited: make(chan struct{})}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			n.logMu.Lock()
			n.log.WriteString(sc.Text() + "\n")
			n.logMu.Unlock()
		}
		n.exitErr = cmd.Wait()
		close(n.exited)
	}()
	t.Cleanup(func() { n.stop() })
	return n
}

func (n *node) Log() string {
	n.logMu.Lock()
	defer n.logMu.Unlock()
	return n.log.String()
}

func (n *node) waitHealthy(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	var last error
	for time.Now().Before(deadline) {
		select {
		case <-n.exited:
			return fmt.Errorf("exited: %v", n.exitErr)
		default:
		}
		resp, err := http.Get(n.URL + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return nil
			}
			last = fmt.Errorf("status %d", resp.StatusCode)
		} else {
			last = err
		}
		time.Sleep(20 * time.Millisecond)
	}
	return last
}

// loadCredentials reads the bootstrap key: from the environment the node was
// given, or from the credentials file it wrote.
func (n *node) loadCredentials(o nodeOptions) {
	for _, kv := range o.env {
		if v, ok := strings.CutPrefix(kv, "ATRIUM_BOOTSTRAP_ACCESS_KEY_ID="); ok {
			n.KeyID = v
		}
		if v, ok := strings.CutPrefix(kv, "ATRIUM_BOOTSTRAP_SECRET_ACCESS_KEY="); ok {
			n.Secret = v
		}
	}
	if n.KeyID != "" {
		return
	}
	b, err := os.ReadFile(filepath.Join(n.Data, "bootstrap-credentials"))
	if err != nil {
		return // another node bootstrapped the database
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		switch strings.TrimSpace(k) {
		case "aws_access_key_id":
			n.KeyID = strings.TrimSpace(v)
		case "aws_secret_access_key":
			n.Secret = strings.TrimSpace(v)
		}
	}
}

// stop sends SIGTERM and waits for a clean exit.
func (n *node) stop() error {
	select {
	case <-n.exited:
		return n.exitErr
	default:
	}
	n.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-n.exited:
		return n.exitErr
	case <-time.After(30 * time.Second):
		n.cmd.Process.Kill()
		<-n.exited
		return fmt.Errorf("did not stop within 30s")
	}
}

// awsConfig is a Go SDK config pointed at the node with the given key.
func (n *node) awsConfig(keyID, secret string) aws.Config {
	return aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider(keyID, secret, ""),
		BaseEndpoint: aws.String(n.URL),
	}
}

func (n *node) admin() aws.Config { return n.awsConfig(n.KeyID, n.Secret) }

func (n *node) organizations() *organizations.Client { return organizations.NewFromConfig(n.admin()) }
func (n *node) sts() *sts.Client                     { return sts.NewFromConfig(n.admin()) }

// backends runs fn once on SQLite and once on PostgreSQL (skipped without one).
func backends(t *testing.T, fn func(t *testing.T, o nodeOptions)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, nodeOptions{}) })
	t.Run("postgres", func(t *testing.T) { fn(t, nodeOptions{database: testenv.PostgresDatabase(t)}) })
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}
