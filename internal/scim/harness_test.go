package scim_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"

	"github.com/atrium-sso/atrium/internal/adminapi"
	"github.com/atrium-sso/atrium/internal/config"
	"github.com/atrium-sso/atrium/internal/server"
	"github.com/atrium-sso/atrium/internal/store"
	"github.com/atrium-sso/atrium/internal/testenv"
)

const (
	adminKey    = "AKIASCIMTESTKEY00001"
	adminSecret = "scimtestsecretscimtestsecretscimtestse0"
)

// node is a whole Atrium server in process, on SQLite or PostgreSQL.
type node struct {
	t       *testing.T
	url     string
	aws     aws.Config
	storeID string
	token   string // a live SCIM token
	store   store.Store
}

// backends runs fn on SQLite, and on PostgreSQL when ATRIUM_TEST_POSTGRES_DSN is set.
func backends(t *testing.T, fn func(t *testing.T, n *node)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, newNode(t, "")) })
	t.Run("postgres", func(t *testing.T) { fn(t, newNode(t, testenv.PostgresDatabase(t))) })
}

func newNode(t *testing.T, database string) *node {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	ts := httptest.NewUnstartedServer(nil)
	url := "http://" + ts.Listener.Addr().String()
	env := map[string]string{"ATRIUM_BOOTSTRAP_ACCESS_KEY_ID": adminKey, "ATRIUM_BOOTSTRAP_SECRET_ACCESS_KEY": adminSecret}
	getenv := func(k string) string { return env[k] }
	args := []string{"--data", t.TempDir(), "--url", url}
	if database != "" {
		args = append(args, "--database", database)
	}
	cfg, err := config.Load(args, getenv)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.Open(ctx, cfg, getenv, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Store().Close() })
	srv.Start(ctx)
	ts.Config.Handler = srv.Handler()
	ts.Start()
	t.Cleanup(ts.Close)
	n := &node{t: t, url: url, store: srv.Store(), aws: aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(url), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider(adminKey, adminSecret, "")}}
	inst, err := ssoadmin.NewFromConfig(n.aws).ListInstances(ctx, &ssoadmin.ListInstancesInput{})
	if err != nil {
		t.Fatal(err)
	}
	n.storeID = *inst.Instances[0].IdentityStoreId
	var out struct{ Token string }
	if code := n.admin("CreateScimToken", map[string]any{"IdentityStoreId": n.storeID}, &out); code != "" {
		t.Fatalf("CreateScimToken: %s", code)
	}
	n.token = out.Token
	return n
}

// admin calls the admin API, signed; it returns the error code, "" on success.
func (n *node) admin(op string, in, out any) string {
	n.t.Helper()
	body, _ := json.Marshal(in)
	req, _ := http.NewRequest(http.MethodPost, n.url+"/", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", adminapi.TargetPrefix+"."+op)
	sum := sha256.Sum256(body)
	creds, _ := n.aws.Credentials.Retrieve(context.Background())
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), adminapi.SigningName, "us-east-1", time.Now()); err != nil {
		n.t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		n.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		var e struct {
			Type string `json:"__type"`
		}
		json.Unmarshal(raw, &e)
		return e.Type
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			n.t.Fatal(err)
		}
	}
	return ""
}

// response is a SCIM answer.
type response struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

// do sends a SCIM request with the node's token.
func (n *node) do(method, path string, body any) response {
	n.t.Helper()
	return n.doWith(n.token, method, path, body)
}

func (n *node) doWith(token, method, path string, body any) response {
	n.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, _ := json.Marshal(b)
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, n.url+"/scim/v2"+path, rd)
	if err != nil {
		n.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/scim+json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		n.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := response{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &r.body); err != nil {
			n.t.Fatalf("%s %s: answer is not a JSON object: %s", method, path, raw)
		}
		if ct := resp.Header.Get("Content-Type"); ct != "application/scim+json" {
			n.t.Errorf("%s %s: Content-Type %q", method, path, ct)
		}
	}
	return r
}

// want checks the status, and for errors the SCIM error schema and scimType.
func (r response) want(t *testing.T, status int, scimType string) response {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.raw)
	}
	if status >= 400 {
		schemas, _ := r.body["schemas"].([]any)
		if len(schemas) != 1 || schemas[0] != "urn:ietf:params:scim:api:messages:2.0:Error" || r.body["status"] != itoa(status) {
			t.Fatalf("not a SCIM error: %s", r.raw)
		}
		if got, _ := r.body["scimType"].(string); got != scimType {
			t.Fatalf("scimType %q, want %q: %s", got, scimType, r.raw)
		}
	}
	return r
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

// str reads a dotted path of the body.
func (r response) str(path string) string {
	var v any = r.body
	for _, k := range strings.Split(path, ".") {
		m, _ := v.(map[string]any)
		v = m[k]
	}
	switch x := v.(type) {
	case string:
		return x
	case nil:
		return ""
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func user(name string, extra map[string]any) map[string]any {
	u := map[string]any{
		"schemas":     []string{"urn:ietf:params:scim:schemas:core:2.0:User"},
		"userName":    name,
		"displayName": "User " + name,
		"name":        map[string]any{"givenName": "Given" + name, "familyName": "Family"},
		"emails":      []any{map[string]any{"value": name + "@example.com", "type": "work", "primary": true}},
		"active":      true,
	}
	for k, v := range extra {
		u[k] = v
	}
	return u
}

func group(name string, members ...string) map[string]any {
	g := map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:Group"}, "displayName": name}
	if members != nil {
		list := []any{}
		for _, m := range members {
			list = append(list, map[string]any{"value": m})
		}
		g["members"] = list
	}
	return g
}

func patch(ops ...map[string]any) map[string]any {
	return map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"}, "Operations": ops}
}
