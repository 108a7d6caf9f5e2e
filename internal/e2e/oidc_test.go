package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/identitystore"
	istypes "github.com/aws/aws-sdk-go-v2/service/identitystore/types"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin/types"
)

// The OpenID Connect stories: a company IdP (testdata/oidc-op, a real
// OpenID provider built from its own module with go-jose) signs people
// into Atrium, set up with the admin CLI as an administrator would.

var (
	opBuildOnce sync.Once
	opBinary    string
	opBuildErr  error
)

// oidcProviderBinary builds testdata/oidc-op once per test run.
func oidcProviderBinary(t *testing.T) string {
	t.Helper()
	opBuildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "atrium-e2e-oidc-op")
		if err != nil {
			opBuildErr = err
			return
		}
		opBinary = filepath.Join(dir, "oidc-op")
		cmd := exec.Command("go", "build", "-o", opBinary, ".")
		cmd.Dir = filepath.Join("testdata", "oidc-op")
		if out, err := cmd.CombinedOutput(); err != nil {
			opBuildErr = fmt.Errorf("building the OpenID provider (testdata/oidc-op, its own module): %v\n%s", err, out)
		}
	})
	if opBuildErr != nil {
		t.Fatal(opBuildErr)
	}
	return opBinary
}

// startOIDCProvider runs the provider for one client and returns its issuer URL.
func startOIDCProvider(t *testing.T, clientID, secret, redirectURI string, users ...string) string {
	t.Helper()
	args := []string{"-listen", "127.0.0.1:0", "-client-id", clientID, "-client-secret", secret, "-redirect-uri", redirectURI}
	for _, u := range users {
		args = append(args, "-user", u)
	}
	cmd := exec.Command(oidcProviderBinary(t), args...)
	stderr := &syncBuffer{}
	cmd.Stderr = stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	issuer := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), "issuer="); ok {
				issuer <- v
			}
		}
	}()
	select {
	case v := <-issuer:
		return v
	case <-time.After(15 * time.Second):
		t.Fatalf("the OpenID provider did not start:\n%s", stderr)
	}
	return ""
}

const oidcSecret = "corp-idp-client-secret-1"

// oidcScene is a node with the OIDC source "corp" created with the CLI,
// the provider behind it, and ada (in corp) holding ReadOnly in Dev.
type oidcScene struct {
	n      *node
	web    string
	env    []string
	issuer string
	dev    string
	source map[string]string
}

func newOIDCScene(t *testing.T) *oidcScene {
	t.Helper()
	n, web := startWebNode(t, nodeOptions{})
	s := &oidcScene{n: n, web: web}
	s.env = cliEnv("ATRIUM_ENDPOINT_URL="+n.URL, "AWS_ACCESS_KEY_ID="+n.KeyID, "AWS_SECRET_ACCESS_KEY="+n.Secret, "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
	s.issuer = startOIDCProvider(t, "atrium", oidcSecret, web+"/oidc/corp/callback",
		"ada:Ada-Corp-Passw0rd:ada@example.com:Ada:Lovelace",
		"mallory:Mallory-Passw0rd:root@example.com:Mallory:Mallet")

	out, errOut, code := atriumIn(t, s.env, oidcSecret+"\n", "idp", "create", "corp", "--type", "oidc", "--issuer", s.issuer,
		"--client-id", "atrium", "--client-secret-stdin", "--output", "json")
	if code != 0 {
		t.Fatalf("atrium idp create: exit %d\n%s%s\nserver log:\n%s", code, out, errOut, n.Log())
	}
	if err := json.Unmarshal([]byte(out), &s.source); err != nil {
		t.Fatalf("idp create output %q: %v", out, err)
	}

	f := newAccessFixture(t, n)
	s.dev = f.account("Dev")
	readOnly := f.permissionSet("ReadOnly", "PT2H", "arn:aws:iam::aws:policy/ReadOnlyAccess")
	ada := mustCreateUser(t, f.ids, &identitystore.CreateUserInput{IdentityStoreId: aws.String(f.storeID), UserName: aws.String("ada"),
		DisplayName: aws.String("Ada Lovelace"), Name: &istypes.Name{GivenName: aws.String("Ada"), FamilyName: aws.String("Lovelace")},
		Emails: []istypes.Email{{Value: aws.String("ada@example.com"), Primary: true}}})
	mustAtrium(t, s.env, "user", "set-source", "ada", "--idp", "corp")
	// root@example.com is a built-in directory user (a break-glass admin):
	// the IdP's mallory carries that email and must not become them.
	root := mustCreateUser(t, f.ids, &identitystore.CreateUserInput{IdentityStoreId: aws.String(f.storeID), UserName: aws.String("root"),
		DisplayName: aws.String("Break glass"), Name: &istypes.Name{GivenName: aws.String("Break"), FamilyName: aws.String("Glass")},
		Emails: []istypes.Email{{Value: aws.String("root@example.com"), Primary: true}}})
	for _, u := range []string{ada, root} {
		if st := f.assign(s.dev, readOnly, types.PrincipalTypeUser, u); st.Status != types.StatusValuesSucceeded {
			t.Fatalf("assignment: %+v", st)
		}
	}
	return s
}

// The administrator's side: the CLI creates the source after discovery,
// shows the redirect URI to register at the IdP, never shows the secret,
// and refuses an IdP whose discovery names another issuer.
func TestOIDCIdentityProviderCreatedWithTheCLI(t *testing.T) {
	s := newOIDCScene(t)
	if got := s.source["RedirectUri"]; got != s.web+"/oidc/corp/callback" {
		t.Fatalf("RedirectUri = %q (output %v)", got, s.source)
	}
	var cfg map[string]any
	if err := json.Unmarshal([]byte(s.source["Configuration"]), &cfg); err != nil || cfg["Issuer"] != s.issuer || cfg["EmailClaim"] != "email" {
		t.Fatalf("Configuration %q: %v", s.source["Configuration"], err)
	}
	show := mustAtrium(t, s.env, "idp", "show", "corp", "--output", "json")
	if strings.Contains(show, oidcSecret) || strings.Contains(s.source["Configuration"], oidcSecret) || strings.Contains(s.n.Log(), oidcSecret) {
		t.Fatalf("the client secret is shown or logged: %s", show)
	}

	for name, args := range map[string][]string{
		"issuer mismatch (a trailing slash)": {"--issuer", s.issuer + "/"},
		"plain http off loopback":            {"--issuer", "http://idp.example.com"},
		"scopes without openid":              {"--issuer", s.issuer, "--scopes", "email,profile"},
	} {
		out, errOut, code := atriumIn(t, s.env, "", append([]string{"idp", "create", "bad", "--type", "oidc", "--client-id", "atrium"}, args...)...)
		if code == 0 || !strings.Contains(errOut, "ValidationException") {
			t.Errorf("%s: exit %d\n%s%s", name, code, out, errOut)
		}
	}
}

// A person signs in through the company IdP in Chromium, from the sign-in
// page's button, and the portal shows their accounts.
func TestOIDCSignInThroughChromiumShowsThePortal(t *testing.T) {
	chromium := requireBrowser(t)
	s := newOIDCScene(t)
	p := newPersonWith(t, chromium, "oidc-driver.mjs")
	want := []portalAccount{{"Dev", s.dev, "dev@example.com", []string{"ReadOnly"}}}
	samePortal := func(got []portalAccount) bool {
		return slices.EqualFunc(got, want, func(a, b portalAccount) bool {
			return a.Name == b.Name && a.ID == b.ID && a.Email == b.Email && slices.Equal(a.Roles, b.Roles)
		})
	}

	if at := p.step("open", map[string]any{"url": s.web + "/start"}); at.Heading != "Sign in" {
		t.Fatalf("/start without a session showed %q at %s", at.Heading, at.URL)
	}
	if at := p.step("press", map[string]any{"name": "Sign in with corp"}); at.Heading != "Example Corp sign-in" || !strings.HasPrefix(at.URL, s.issuer+"/authorize?") {
		t.Fatalf("the IdP button led to %q at %s", at.Heading, at.URL)
	}
	back := p.step("idpSignIn", map[string]any{"user": "ada", "password": "Ada-Corp-Passw0rd"})
	if back.URL != s.web+"/start" || back.Heading != "AWS access portal" || !slices.ContainsFunc(back.Visited, func(u string) bool {
		return strings.HasPrefix(u, s.web+"/oidc/corp/callback?")
	}) {
		t.Fatalf("after the IdP: %q at %s, through %v\n%s", back.Heading, back.URL, back.Visited, back.Text)
	}
	var portal struct{ Accounts []portalAccount }
	p.do("portal", nil, &portal)
	if !samePortal(portal.Accounts) {
		t.Fatalf("portal shows %+v, want %+v", portal.Accounts, want)
	}
	var jar struct{ Cookies []browserCookie }
	p.do("cookies", nil, &jar)
	names := map[string]browserCookie{}
	for _, c := range jar.Cookies {
		names[c.Name] = c
	}
	if sc, ok := names["__Host-atrium-session"]; !ok || !sc.Secure || !sc.HTTPOnly {
		t.Fatalf("session cookie: %+v (all: %v)", sc, names)
	}
	if _, left := names["__Host-atrium-oidc"]; left {
		t.Fatal("the OIDC flow cookie outlived the sign-in")
	}
	// Signed out, the portal asks again; the IdP's button starts over.
	if at := p.step("signOut", nil); at.Heading == "AWS access portal" {
		t.Fatalf("sign out stayed on the portal at %s", at.URL)
	}
	if at := p.step("open", map[string]any{"url": s.web + "/start"}); at.Heading != "Sign in" {
		t.Fatalf("/start after signing out showed %q", at.Heading)
	}
	// A user name in the IdP's email domain goes straight to the IdP.
	mustAtrium(t, s.env, "idp", "update", "corp", "--email-domains", "example.com")
	if at := p.step("username", map[string]any{"user": "ada@example.com", "until": s.issuer + "/authorize?"}); at.Heading != "Example Corp sign-in" {
		t.Fatalf("a user name in the IdP's domain led to %q at %s", at.Heading, at.URL)
	}
	var problems struct{ Problems []string }
	p.do("problems", nil, &problems)
	if len(problems.Problems) > 0 {
		t.Fatalf("the browser reported problems:\n%s", strings.Join(problems.Problems, "\n"))
	}
}

// An IdP user whose email is a built-in directory user's (a break-glass
// admin) is refused on a plain page, and a Cancel at the IdP ends on one too.
func TestOIDCSignInOfAnotherSourcesUserIsRefusedInChromium(t *testing.T) {
	chromium := requireBrowser(t)
	s := newOIDCScene(t)
	p := newPersonWith(t, chromium, "oidc-driver.mjs")

	p.step("open", map[string]any{"url": s.web + "/oidc/corp/start"})
	back := p.step("idpSignIn", map[string]any{"user": "mallory", "password": "Mallory-Passw0rd"})
	if back.Heading != "Sign-in failed" || !strings.HasPrefix(back.URL, s.web+"/oidc/corp/callback?") || !strings.Contains(back.Text, "no Atrium user for you") {
		t.Fatalf("mallory ended on %q at %s:\n%s", back.Heading, back.URL, back.Text)
	}
	var jar struct{ Cookies []browserCookie }
	p.do("cookies", nil, &jar)
	for _, c := range jar.Cookies {
		if c.Name == "__Host-atrium-session" {
			t.Fatal("a refused sign-in left a session cookie")
		}
	}

	p.step("open", map[string]any{"url": s.web + "/oidc/corp/start"})
	back = p.step("idpSignIn", map[string]any{"user": "", "password": "", "action": "Cancel"})
	if back.Heading != "Sign-in failed" || !strings.Contains(back.Text, "did not complete the sign-in") {
		t.Fatalf("cancel at the IdP ended on %q at %s:\n%s", back.Heading, back.URL, back.Text)
	}
}
