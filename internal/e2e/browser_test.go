package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// The browser tests drive Debian's Chromium with playwright-core: a person
// signs in, registers MFA, reads the portal, takes credentials, approves
// logins. testdata/browser/driver.mjs is the person; these tests set the
// scene with the SDK and the admin CLI and check the outcome with the SDK.

// requireBrowser finds Chromium, node and the installed playwright-core,
// or skips saying what is missing (.ci/run installs all three).
func requireBrowser(t *testing.T) string {
	t.Helper()
	chromium := os.Getenv("ATRIUM_TEST_CHROMIUM")
	if chromium == "" {
		for _, name := range []string{"chromium", "chromium-browser"} {
			if p, err := exec.LookPath(name); err == nil {
				chromium = p
				break
			}
		}
	}
	if chromium == "" {
		t.Skip("browser tests skipped: no Chromium (apt-get install chromium, or set ATRIUM_TEST_CHROMIUM); .ci/run installs it")
	}
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("browser tests skipped: node is not on PATH")
	}
	if _, err := os.Stat(filepath.Join("testdata", "browser", "node_modules", "playwright-core", "package.json")); err != nil {
		t.Skip("browser tests skipped: playwright-core is not installed (npm ci in internal/e2e/testdata/browser); .ci/run does it")
	}
	return chromium
}

// startWebNode runs a node whose public URL is http://localhost:<port>:
// browsers accept a host name, not an IP address, as a WebAuthn relying
// party. n.URL stays the 127.0.0.1 address, for the SDK; the second
// --listen wins over the one launch gives.
func startWebNode(t *testing.T, o nodeOptions) (*node, string) {
	t.Helper()
	addr := freePort(t)
	_, port, _ := net.SplitHostPort(addr)
	web := "http://localhost:" + port
	o.args = append(o.args, "--listen", addr, "--url", web)
	n := launch(t, o)
	n.URL = "http://" + addr
	if err := n.waitHealthy(15 * time.Second); err != nil {
		t.Fatalf("node never became healthy: %v\n%s", err, n.Log())
	}
	n.loadCredentials(o)
	return n, web
}

// person is the browser driver: one JSON command per line in, one answer out.
type person struct {
	t      *testing.T
	cmd    *exec.Cmd
	in     io.WriteCloser
	out    *bufio.Scanner
	stderr *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func newPerson(t *testing.T, chromium string) *person {
	return newPersonWith(t, chromium, "driver.mjs")
}

// browserPage is where a driver command left the browser (oidc-driver.mjs
// and saml-driver.mjs answer with it).
type browserPage struct {
	URL, Heading, Text string
	Visited            []string
}

func (p *person) step(op string, args map[string]any) browserPage {
	p.t.Helper()
	var out browserPage
	p.do(op, args, &out)
	return out
}

// newPersonWith is a browser person driven by the named script in testdata/browser.
func newPersonWith(t *testing.T, chromium, script string) *person {
	t.Helper()
	cmd := exec.Command("node", script)
	cmd.Dir = filepath.Join("testdata", "browser")
	cmd.Env = append(os.Environ(), "CHROMIUM="+chromium)
	p := &person{t: t, cmd: cmd, stderr: &syncBuffer{}}
	cmd.Stderr = p.stderr
	var err error
	if p.in, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p.out = bufio.NewScanner(stdout)
	p.out.Buffer(make([]byte, 1<<20), 4<<20)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		fmt.Fprintln(p.in, `{"op":"close"}`)
		p.in.Close()
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	return p
}

// do sends one command and decodes its answer into out; a refused command
// fails the test with the driver's error and log.
func (p *person) do(op string, args map[string]any, out any) {
	p.t.Helper()
	cmd := map[string]any{"op": op}
	for k, v := range args {
		cmd[k] = v
	}
	b, _ := json.Marshal(cmd)
	if _, err := p.in.Write(append(b, '\n')); err != nil {
		p.t.Fatalf("browser driver gone: %v\n%s", err, p.stderr)
	}
	if !p.out.Scan() {
		p.t.Fatalf("browser driver said nothing to %s: %v\n%s", op, p.out.Err(), p.stderr)
	}
	var status struct {
		OK    bool
		Error string
		URL   string
	}
	line := p.out.Bytes()
	if err := json.Unmarshal(line, &status); err != nil {
		p.t.Fatalf("browser driver answered %s with %q", op, line)
	}
	if !status.OK {
		p.t.Fatalf("browser: %s failed at %s: %s\n%s", op, status.URL, status.Error, p.stderr)
	}
	if out != nil {
		if err := json.Unmarshal(line, out); err != nil {
			p.t.Fatalf("browser: %s answer %q: %v", op, line, err)
		}
	}
}

type signedInAs struct {
	Seen    []string
	Secret  string
	URL     string
	Heading string
}

// signIn answers the sign-in pages from wherever the browser stands.
func (p *person) signIn(user, password, newPassword, secret, mfa string) signedInAs {
	p.t.Helper()
	var out signedInAs
	p.do("signIn", map[string]any{"user": user, "password": password, "newPassword": newPassword, "secret": secret, "mfa": mfa}, &out)
	return out
}

func (p *person) open(url string) (heading, at string) {
	p.t.Helper()
	var out struct{ URL, Heading string }
	p.do("open", map[string]any{"url": url}, &out)
	return out.Heading, out.URL
}

type portalAccount struct {
	Name, ID, Email string
	Roles           []string
}

func (p *person) portal() []portalAccount {
	p.t.Helper()
	var out struct {
		Heading  string
		Accounts []portalAccount
	}
	p.do("portal", nil, &out)
	if out.Heading != "AWS access portal" {
		p.t.Fatalf("portal heading %q", out.Heading)
	}
	return out.Accounts
}

type copiedCredentials struct{ Exports, File, Selected string }

func (p *person) credentials(account, role string) copiedCredentials {
	p.t.Helper()
	var out copiedCredentials
	p.do("credentials", map[string]any{"account": account, "role": role}, &out)
	return out
}

func (p *person) signOut() string {
	p.t.Helper()
	var out struct{ Heading, Text string }
	p.do("signOut", nil, &out)
	return out.Text
}

// noProblems fails on any console error the pages caused (a CSP violation,
// a script error).
func (p *person) noProblems() {
	p.t.Helper()
	var out struct{ Problems []string }
	p.do("problems", nil, &out)
	if len(out.Problems) > 0 {
		p.t.Fatalf("the browser reported problems:\n%s", strings.Join(out.Problems, "\n"))
	}
}

type browserCookie struct {
	Name, Value, Path, SameSite string
	Secure                      bool
	HTTPOnly                    bool `json:"httpOnly"`
}

func (p *person) cookies() map[string]browserCookie {
	p.t.Helper()
	var out struct{ Cookies []browserCookie }
	p.do("cookies", nil, &out)
	m := map[string]browserCookie{}
	for _, c := range out.Cookies {
		m[c.Name] = c
	}
	return m
}

// oneTimePassword has the admin CLI generate a one-time password for user.
func oneTimePassword(t *testing.T, n *node, user string) string {
	t.Helper()
	env := cliEnv("ATRIUM_ENDPOINT_URL="+n.URL, "AWS_ACCESS_KEY_ID="+n.KeyID, "AWS_SECRET_ACCESS_KEY="+n.Secret, "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
	var out struct{ OneTimePassword string }
	if err := json.Unmarshal([]byte(mustAtrium(t, env, "user", "set-password", user, "--generate", "--output", "json")), &out); err != nil || out.OneTimePassword == "" {
		t.Fatalf("set-password --generate: %+v, %v", out, err)
	}
	return out.OneTimePassword
}

// parseExports reads the portal's `export NAME="value"` lines.
func parseExports(t *testing.T, text string) aws.Credentials {
	t.Helper()
	v := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(text), "\n") {
		k, val, ok := strings.Cut(strings.TrimPrefix(line, "export "), "=")
		if !ok {
			t.Fatalf("not an export: %q", line)
		}
		v[k] = strings.Trim(val, `"`)
	}
	c := aws.Credentials{AccessKeyID: v["AWS_ACCESS_KEY_ID"], SecretAccessKey: v["AWS_SECRET_ACCESS_KEY"], SessionToken: v["AWS_SESSION_TOKEN"]}
	if !strings.HasPrefix(c.AccessKeyID, "ASIA") || len(c.AccessKeyID) != 20 || len(c.SecretAccessKey) != 40 || c.SessionToken == "" {
		t.Fatalf("exports %q", text)
	}
	return c
}

// callerWith is STS GetCallerIdentity with the given credentials.
func callerWith(t *testing.T, n *node, c aws.Credentials) (string, error) {
	t.Helper()
	cfg := n.admin()
	cfg.Credentials = credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, c.SessionToken)
	out, err := stsWith(cfg).GetCallerIdentity(ctxT(t), &sts.GetCallerIdentityInput{})
	if err != nil {
		return "", err
	}
	return aws.ToString(out.Arn), nil
}

// failsWithin waits for call to fail, up to d (revocation may be cached for a second).
func failsWithin(t *testing.T, d time.Duration, call func() error) {
	t.Helper()
	deadline := time.Now().Add(d)
	for call() == nil {
		if time.Now().After(deadline) {
			t.Fatalf("still works after %s", d)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// portalScene is an organization where ada holds ReadOnly in Dev through
// her group and Admin and ReadOnly in Prod directly, and bert (not her)
// holds ReadOnly in Other.
type portalScene struct {
	n                *node
	web              string
	dev, prod, other string
	want             []portalAccount
}

func newPortalScene(t *testing.T) *portalScene {
	n, web := startWebNode(t, nodeOptions{})
	f := newAccessFixture(t, n)
	s := &portalScene{n: n, web: web, dev: f.account("Dev"), prod: f.account("Prod"), other: f.account("Other")}
	readOnly := f.permissionSet("ReadOnly", "PT2H", "arn:aws:iam::aws:policy/ReadOnlyAccess")
	admin := f.permissionSet("Admin", "", "arn:aws:iam::aws:policy/AdministratorAccess")
	ada, bert := f.user("ada"), f.user("bert")
	f.user("wen")
	engineers := f.group("Engineers", ada)
	for _, a := range []struct {
		account, ps string
		pt          types.PrincipalType
		principal   string
	}{{s.dev, readOnly, types.PrincipalTypeGroup, engineers}, {s.prod, admin, types.PrincipalTypeUser, ada},
		{s.prod, readOnly, types.PrincipalTypeUser, ada}, {s.other, readOnly, types.PrincipalTypeUser, bert}} {
		if st := f.assign(a.account, a.ps, a.pt, a.principal); st.Status != types.StatusValuesSucceeded {
			t.Fatalf("assignment: %+v", st)
		}
	}
	s.want = []portalAccount{{"Dev", s.dev, "dev@example.com", []string{"ReadOnly"}}, {"Prod", s.prod, "prod@example.com", []string{"Admin", "ReadOnly"}}}
	return s
}

// The whole first day of a person: a one-time password, a new password, an
// authenticator app, the portal with exactly what they were given,
// credentials that work until they sign out, and a second sign-in with a code.
func TestBrowserSignInWithTOTPPortalAndSignOut(t *testing.T) {
	chromium := requireBrowser(t)
	s := newPortalScene(t)
	p := newPerson(t, chromium)
	otp := oneTimePassword(t, s.n, "ada")

	if heading, at := p.open(s.web + "/start"); heading != "Sign in" || !strings.HasPrefix(at, s.web+"/signin?next=") {
		t.Fatalf("/start without a session showed %q at %s", heading, at)
	}
	first := p.signIn("ada", otp, "Ada-Own-Passw0rd!", "", "totp")
	if want := []string{"/signin", "/signin/password", "/signin/new-password", "/signin/mfa/enroll"}; !slices.Equal(first.Seen, want) || first.Secret == "" {
		t.Fatalf("first sign-in went through %v (secret %q), want %v", first.Seen, first.Secret, want)
	}
	if got := p.portal(); !slices.EqualFunc(got, s.want, func(a, b portalAccount) bool {
		return a.Name == b.Name && a.ID == b.ID && a.Email == b.Email && slices.Equal(a.Roles, b.Roles)
	}) {
		t.Fatalf("portal shows %+v, want %+v", got, s.want)
	}
	c := p.credentials("Prod", "Admin")
	if strings.TrimSpace(c.Selected) != strings.TrimSpace(c.Exports) || !strings.Contains(c.File, "["+s.prod+"_Admin]") {
		t.Fatalf("copied %q from exports %q; file %q", c.Selected, c.Exports, c.File)
	}
	keys := parseExports(t, c.Exports)
	arn, err := callerWith(t, s.n, keys)
	if err != nil || !strings.HasPrefix(arn, "arn:aws:sts::"+s.prod+":assumed-role/AWSReservedSSO_Admin_") || !strings.HasSuffix(arn, "/ada") {
		t.Fatalf("GetCallerIdentity with the portal's credentials = %q, %v", arn, err)
	}
	cookies := p.cookies()
	if sc, ok := cookies["__Host-atrium-session"]; !ok || !sc.Secure || !sc.HTTPOnly || sc.SameSite != "Lax" || sc.Path != "/" {
		t.Fatalf("session cookie in Chromium: %+v (all: %v)", sc, cookies)
	}
	if _, left := cookies["__Host-atrium-signin"]; left {
		t.Fatal("the sign-in flow cookie outlived the sign-in")
	}

	if text := p.signOut(); !strings.Contains(text, "You have signed out") {
		t.Fatalf("sign out showed %q", text)
	}
	failsWithin(t, 2*time.Second, func() error { _, err := callerWith(t, s.n, keys); return err })
	if heading, _ := p.open(s.web + "/start"); heading != "Sign in" {
		t.Fatalf("/start after signing out showed %q", heading)
	}
	again := p.signIn("ada", "Ada-Own-Passw0rd!", "", first.Secret, "totp")
	if want := []string{"/signin", "/signin/password", "/signin/mfa"}; !slices.Equal(again.Seen, want) || again.Heading != "AWS access portal" {
		t.Fatalf("second sign-in went through %v to %q, want %v", again.Seen, again.Heading, want)
	}
	p.noProblems()
}

// A security key, registered at first sign-in and used at the next, with
// Chromium's virtual authenticator.
func TestBrowserWebAuthnRegisterAndSignIn(t *testing.T) {
	chromium := requireBrowser(t)
	s := newPortalScene(t)
	p := newPerson(t, chromium)
	otp := oneTimePassword(t, s.n, "wen")
	p.do("addSecurityKey", nil, nil)

	p.open(s.web + "/start")
	first := p.signIn("wen", otp, "Wens-Own-Passw0rd!", "", "webauthn")
	if want := []string{"/signin", "/signin/password", "/signin/new-password", "/signin/mfa/enroll"}; !slices.Equal(first.Seen, want) || first.Heading != "AWS access portal" {
		t.Fatalf("first sign-in went through %v to %q, want %v", first.Seen, first.Heading, want)
	}
	var keys struct{ Count int }
	p.do("securityKeyCredentials", nil, &keys)
	if keys.Count != 1 {
		t.Fatalf("the authenticator holds %d credentials", keys.Count)
	}
	if got := p.portal(); len(got) != 0 {
		t.Fatalf("wen has no assignments, the portal shows %+v", got)
	}
	p.signOut()
	p.open(s.web + "/start")
	again := p.signIn("wen", "Wens-Own-Passw0rd!", "", "", "webauthn")
	if want := []string{"/signin", "/signin/password", "/signin/mfa"}; !slices.Equal(again.Seen, want) || again.Heading != "AWS access portal" {
		t.Fatalf("second sign-in went through %v to %q, want %v", again.Seen, again.Heading, want)
	}
	p.noProblems()
}

// `atrium serve` answers at http://127.0.0.1:8080 by default: Chromium
// must keep the Secure, __Host- cookies there too (a loopback address is a
// secure context for cookies).
func TestBrowserSignInOnLoopbackAddress(t *testing.T) {
	chromium := requireBrowser(t)
	n := startNode(t, nodeOptions{})
	f := newAccessFixture(t, n)
	f.user("ada")
	p := newPerson(t, chromium)
	otp := oneTimePassword(t, n, "ada")

	p.open(n.URL + "/start")
	first := p.signIn("ada", otp, "Ada-Own-Passw0rd!", "", "totp")
	if first.Heading != "AWS access portal" || first.Secret == "" {
		t.Fatalf("sign-in at %s ended on %q", n.URL, first.Heading)
	}
	if sc, ok := p.cookies()["__Host-atrium-session"]; !ok || !sc.Secure || !sc.HTTPOnly {
		t.Fatalf("session cookie at %s: %+v", n.URL, sc)
	}
	if got := p.portal(); len(got) != 0 {
		t.Fatalf("ada has no assignments, the portal shows %+v", got)
	}
	p.noProblems()
}
