package web

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/atrium-sso/atrium/internal/portal"
	"github.com/atrium-sso/atrium/internal/signin"
	"github.com/atrium-sso/atrium/internal/store"
)

// The first sign-in of a user with a one-time password: change it, register
// an authenticator app, land on the portal, get credentials, sign out.
func TestFirstSignInThroughPortalAndSignOut(t *testing.T) {
	f := newFixture(t)
	f.setting("mfa.mode", signin.MFARequired)
	b := f.browser()

	p := b.get("/start")
	if p.status != http.StatusSeeOther || p.location() != "/signin?next=%2Fstart" {
		t.Fatalf("GET /start without a session = %d %q", p.status, p.location())
	}
	p = b.follow(p)
	p = b.follow(b.post("/signin", url.Values{"csrf": {p.csrf(t)}, "username": {"alice"}}))
	p.want(t, 200, "Signing in as <strong>alice</strong>", `<button type="submit">Sign in</button>`)
	p = b.post("/signin/password", url.Values{"csrf": {p.csrf(t)}, "password": {alicePassword}})
	if p.location() != "/signin/new-password" {
		t.Fatalf("after a one-time password: %d %q", p.status, p.location())
	}
	p = b.follow(p)
	p.want(t, 200, `for="new_password">New password</label>`, `for="confirm_password">Confirm new password</label>`)

	p = b.post("/signin/new-password", url.Values{"csrf": {p.csrf(t)}, "new_password": {aliceNewPassword}, "confirm_password": {aliceNewPassword + "x"}})
	p.want(t, 400, "The two passwords are not the same.", `role="alert"`)
	p = b.post("/signin/new-password", url.Values{"csrf": {p.csrf(t)}, "new_password": {"short"}, "confirm_password": {"short"}})
	p.want(t, 400, "The password must be 8 to 64 characters long.")
	p = b.post("/signin/new-password", url.Values{"csrf": {p.csrf(t)}, "new_password": {aliceNewPassword}, "confirm_password": {aliceNewPassword}})
	if p.location() != "/signin/mfa/enroll" {
		t.Fatalf("after the new password: %d %q", p.status, p.location())
	}
	p = b.follow(p)
	p.want(t, 200, `for="code">Authenticator code</label>`, `src="/static/webauthn.js"`, "Register security key")
	secret := totpSecret(t, p)
	qr := b.get("/signin/mfa/enroll/qr.png")
	if qr.status != 200 || qr.header.Get("Content-Type") != "image/png" || !strings.HasPrefix(qr.body, "\x89PNG") {
		t.Fatalf("QR code = %d %s", qr.status, qr.header.Get("Content-Type"))
	}
	good := f.code(secret)
	again := b.post("/signin/mfa/enroll/totp", url.Values{"csrf": {p.csrf(t)}, "code": {wrong(good)}})
	again.want(t, 401, badCode)
	if totpSecret(t, again) != secret {
		t.Fatal("a wrong code changed the key being registered")
	}
	p = b.post("/signin/mfa/enroll/totp", url.Values{"csrf": {again.csrf(t)}, "code": {good}})
	if p.location() != "/start" || b.cookies[sessionCookie] == nil || b.cookies[flowCookie] != nil {
		t.Fatalf("after enrolling: %d %q, cookies %v", p.status, p.location(), b.cookies)
	}

	p = b.follow(p)
	p.want(t, 200, "Signed in as <strong>alice</strong>", "Development", "333333333333", "dev@example.com", "Production", "prod@example.com")
	if strings.Index(p.body, "Development") > strings.Index(p.body, "Production") {
		t.Fatal("accounts are not sorted by name")
	}
	creds := b.post("/start/credentials", url.Values{"csrf": {p.csrf(t)}, "account_id": {"333333333333"}, "role_name": {"Admin"}})
	creds.want(t, 200, `export AWS_ACCESS_KEY_ID="ASIAFAKEFAKEFAKEFAKE"`, `export AWS_SECRET_ACCESS_KEY="secret/Admin"`,
		"[333333333333_Admin]", "aws_session_token = token-")
	if creds.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("credentials page Cache-Control = %q", creds.header.Get("Cache-Control"))
	}
	denied := b.post("/start/credentials", url.Values{"csrf": {p.csrf(t)}, "account_id": {"222222222222"}, "role_name": {"Admin"}})
	denied.want(t, 403, "No access")

	out := b.post("/signout", url.Values{"csrf": {p.csrf(t)}})
	out.want(t, 200, "You have signed out")
	if b.cookies[sessionCookie] != nil || len(f.portal.sessions) != 0 {
		t.Fatal("signing out left the session")
	}
	if p := b.get("/start"); p.status != http.StatusSeeOther {
		t.Fatalf("GET /start after signing out = %d", p.status)
	}
}

func TestSignInWithTOTPAndWithSecurityKey(t *testing.T) {
	f := newFixture(t)
	b := f.browser()
	p := b.get("/signin")
	p = b.follow(b.post("/signin", url.Values{"csrf": {p.csrf(t)}, "username": {"bob"}}))
	p = b.follow(b.post("/signin/password", url.Values{"csrf": {p.csrf(t)}, "password": {bobPassword}}))
	p.want(t, 200, `for="code">Authenticator code</label>`, `autocomplete="one-time-code"`)
	if strings.Contains(p.body, "Use security key") || strings.Contains(p.body, "trusted device") {
		t.Fatal("bob has no security key and the instance prompts always")
	}
	good := f.code(f.bobSecret)
	bad := b.post("/signin/mfa", url.Values{"csrf": {p.csrf(t)}, "code": {wrong(good)}})
	bad.want(t, 401, badCode, `aria-invalid="true"`)
	if p := b.post("/signin/mfa", url.Values{"csrf": {bad.csrf(t)}, "code": {good}}); p.location() != "/start" {
		t.Fatalf("after the code: %d %q", p.status, p.location())
	}
	if m := f.portal.methods[onlySession(t, f).ID]; !slices.Equal(m, []string{"pwd", "totp"}) {
		t.Fatalf("session methods = %v", m)
	}

	c := f.browser()
	p = c.get("/signin")
	p = c.follow(c.post("/signin", url.Values{"csrf": {p.csrf(t)}, "username": {"carol"}}))
	p = c.follow(c.post("/signin/password", url.Values{"csrf": {p.csrf(t)}, "password": {carolPassword}}))
	p.want(t, 200, "Use security key", `data-webauthn="get"`)
	if strings.Contains(p.body, "Authenticator code") {
		t.Fatal("carol has no authenticator app")
	}
	stranger := newSoftKey("localhost", "http://localhost")
	stranger.user = f.carolKey.user
	bad = c.post("/signin/mfa/webauthn", url.Values{"csrf": {p.csrf(t)}, "credential": {stranger.get(t, webAuthnOptions(t, p))}})
	bad.want(t, 401, badWebAuthn)
	if p := c.post("/signin/mfa/webauthn", url.Values{"csrf": {bad.csrf(t)}, "credential": {f.carolKey.get(t, webAuthnOptions(t, bad))}}); p.location() != "/start" {
		t.Fatalf("after the key: %d %q\n%s", p.status, p.location(), p.body)
	}
}

func onlySession(t *testing.T, f *fixture) *portal.Session {
	t.Helper()
	if len(f.portal.sessions) != 1 {
		t.Fatalf("%d sessions", len(f.portal.sessions))
	}
	for _, s := range f.portal.sessions {
		return s
	}
	return nil
}

// Unknown user, wrong password and throttling all read the same.
func TestBadCredentialsAreIndistinguishable(t *testing.T) {
	f := newFixture(t)
	var bodies []string
	for _, c := range []struct{ user, password string }{{"bob", "wrong"}, {"nobody", "whatever"}, {"throttled", "x"}} {
		b := f.browser()
		p := b.get("/signin")
		p = b.follow(b.post("/signin", url.Values{"csrf": {p.csrf(t)}, "username": {c.user}}))
		p = b.post("/signin/password", url.Values{"csrf": {p.csrf(t)}, "password": {c.password}})
		p.want(t, 401, badCredentials)
		bodies = append(bodies, strings.ReplaceAll(csrfField.ReplaceAllString(p.body, ""), c.user, "USER"))
	}
	if bodies[0] != bodies[1] || bodies[1] != bodies[2] {
		t.Fatalf("answers differ:\n%s\n---\n%s\n---\n%s", bodies[0], bodies[1], bodies[2])
	}
}

func TestContextAwareMFASkipsATrustedBrowser(t *testing.T) {
	f := newFixture(t)
	f.setting("mfa.prompt", signin.PromptNewContext)
	b := f.browser()
	p := b.get("/signin")
	p = b.follow(b.post("/signin", url.Values{"csrf": {p.csrf(t)}, "username": {"bob"}}))
	p = b.follow(b.post("/signin/password", url.Values{"csrf": {p.csrf(t)}, "password": {bobPassword}}))
	p.want(t, 200, `name="trust"`)
	if p := b.post("/signin/mfa", url.Values{"csrf": {p.csrf(t)}, "code": {f.code(f.bobSecret)}, "trust": {"1"}}); p.location() != "/start" {
		t.Fatalf("after the code: %d %q", p.status, p.location())
	}
	delete(b.cookies, sessionCookie)
	if p := b.signIn("/start", "bob", bobPassword); p.location() != "/start" {
		t.Fatalf("second sign-in: %d %q", p.status, p.location())
	}
	// The mark is bob's: another user in the same browser is asked.
	delete(b.cookies, sessionCookie)
	p = b.get("/signin")
	p = b.follow(b.post("/signin", url.Values{"csrf": {p.csrf(t)}, "username": {"carol"}}))
	if p := b.post("/signin/password", url.Values{"csrf": {p.csrf(t)}, "password": {carolPassword}}); p.location() != "/signin/mfa" {
		t.Fatalf("carol in bob's browser: %d %q", p.status, p.location())
	}
	// Prompting every time ignores the mark.
	f.setting("mfa.prompt", signin.PromptAlways)
	p = b.get("/signin")
	p = b.follow(b.post("/signin", url.Values{"csrf": {p.csrf(t)}, "username": {"bob"}}))
	if p := b.post("/signin/password", url.Values{"csrf": {p.csrf(t)}, "password": {bobPassword}}); p.location() != "/signin/mfa" {
		t.Fatalf("prompt always: %d %q", p.status, p.location())
	}
}

func TestDisabledUserGetsNoSession(t *testing.T) {
	f := newFixture(t)
	b := f.browser()
	p := b.get("/signin")
	p = b.follow(b.post("/signin", url.Values{"csrf": {p.csrf(t)}, "username": {"bob"}}))
	p = b.follow(b.post("/signin/password", url.Values{"csrf": {p.csrf(t)}, "password": {bobPassword}}))
	disableUser(t, f, "u-bob")
	p = b.post("/signin/mfa", url.Values{"csrf": {p.csrf(t)}, "code": {f.code(f.bobSecret)}})
	p.want(t, 403, "This user cannot sign in.")
	if b.cookies[sessionCookie] != nil || b.cookies[flowCookie] != nil || len(f.portal.sessions) != 0 {
		t.Fatal("a disabled user got a session")
	}

	a := f.browser()
	p = a.get("/signin")
	p = a.follow(a.post("/signin", url.Values{"csrf": {p.csrf(t)}, "username": {"alice"}}))
	p = a.follow(a.post("/signin/password", url.Values{"csrf": {p.csrf(t)}, "password": {alicePassword}}))
	disableUser(t, f, "u-alice")
	p = a.post("/signin/new-password", url.Values{"csrf": {p.csrf(t)}, "new_password": {aliceNewPassword}, "confirm_password": {aliceNewPassword}})
	p.want(t, 403, "This user cannot sign in.")
}

func TestDeviceApprovalAfterSignIn(t *testing.T) {
	f := newFixture(t)
	b := f.browser()
	p := b.get("/device?user_code=WXYZ-KLMN")
	if p.status != http.StatusSeeOther || p.location() != "/signin?next=%2Fdevice%3Fuser_code%3DWXYZ-KLMN" {
		t.Fatalf("device page without a session = %d %q", p.status, p.location())
	}
	p = b.signIn("/device?user_code=WXYZ-KLMN", "dave", davePassword)
	if p.location() != "/device?user_code=WXYZ-KLMN" {
		t.Fatalf("after sign-in: %d %q", p.status, p.location())
	}
	p = b.follow(p)
	p.want(t, 200, "botocore-client-dev", `id="user-code">WXYZ-KLMN<`, `>Allow</button>`, `value="deny"`)

	unknown := b.get("/device?user_code=AAAA-BBBB")
	unknown.want(t, 404, "not valid, has expired", `value="AAAA-BBBB"`)
	blank := b.get("/device")
	blank.want(t, 200, `for="user_code">Code</label>`)

	done := b.post("/device", url.Values{"csrf": {p.csrf(t)}, "user_code": {"WXYZ-KLMN"}, "decision": {"allow"}})
	done.want(t, 200, "You allowed access")
	if f.oauth.approved["WXYZ-KLMN"] != onlySession(t, f).ID {
		t.Fatalf("approved = %v", f.oauth.approved)
	}
	denied := b.post("/device", url.Values{"csrf": {p.csrf(t)}, "user_code": {"WXYZ-KLMN"}, "decision": {"deny"}})
	denied.want(t, 200, "You denied access")
	if !f.oauth.denied["WXYZ-KLMN"] {
		t.Fatal("deny did not reach the grant")
	}
}

func TestAuthorizeApprovalRedirectsToTheLoopback(t *testing.T) {
	f := newFixture(t)
	b := f.browser()
	q := url.Values{"response_type": {"code"}, "client_id": {"registered-client"}, "redirect_uri": {"http://127.0.0.1:49152/oauth/callback"},
		"state": {"st-1"}, "code_challenge_method": {"S256"}, "code_challenge": {"abc"}, "scopes": {"sso:account:access"}}
	p := b.get("/authorize?" + q.Encode())
	if p.status != http.StatusSeeOther || !strings.HasPrefix(p.location(), "/signin?next=%2Fauthorize%3F") {
		t.Fatalf("authorize without a session = %d %q", p.status, p.location())
	}
	p = b.follow(b.signIn(mustUnescape(t, strings.TrimPrefix(p.location(), "/signin?next=")), "dave", davePassword))
	p.want(t, 200, "botocore-client-test", "sso:account:access", `value="allow">Allow</button>`)
	if got := p.header.Get("Content-Security-Policy"); !strings.Contains(got, "form-action 'self' http://127.0.0.1:49152;") {
		t.Fatalf("approval page CSP = %q", got)
	}
	allow := b.post("/authorize", url.Values{"csrf": {p.csrf(t)}, "request": {q.Encode()}, "decision": {"allow"}})
	if allow.status != http.StatusSeeOther || allow.location() != "http://127.0.0.1:49152/oauth/callback?code=code-for-"+onlySession(t, f).ID+"&state=st-1" {
		t.Fatalf("allow = %d %q", allow.status, allow.location())
	}
	deny := b.post("/authorize", url.Values{"csrf": {p.csrf(t)}, "request": {q.Encode()}, "decision": {"deny"}})
	if deny.location() != "http://127.0.0.1:49152/oauth/callback?error=access_denied&state=st-1" {
		t.Fatalf("deny = %d %q", deny.status, deny.location())
	}
}

func mustUnescape(t *testing.T, s string) string {
	u, err := url.QueryUnescape(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// Pages must work for people using a keyboard or a screen reader: every
// visible field has a label, errors are announced, the page has a language
// and a main landmark.
func TestPagesAreLabelled(t *testing.T) {
	f := newFixture(t)
	f.setting("mfa.prompt", signin.PromptNewContext)
	pages := everyPage(t, f)
	input := regexp.MustCompile(`<input [^>]*>`)
	id := regexp.MustCompile(`\bid="([^"]+)"`)
	for _, p := range pages {
		if !strings.HasPrefix(p.header.Get("Content-Type"), "text/html") || p.status == http.StatusSeeOther {
			continue
		}
		if !strings.Contains(p.body, `<html lang="en">`) || !strings.Contains(p.body, `<main id="main"`) || !strings.Contains(p.body, "<h1>") {
			t.Errorf("%s: no language, main landmark or heading", p.url)
		}
		if strings.Contains(p.body, `class="error"`) && !strings.Contains(p.body, `role="alert"`) {
			t.Errorf("%s: an error that is not announced", p.url)
		}
		for _, in := range input.FindAllString(p.body, -1) {
			if strings.Contains(in, `type="hidden"`) || strings.Contains(in, `type="checkbox"`) {
				continue
			}
			m := id.FindStringSubmatch(in)
			if m == nil || !strings.Contains(p.body, `<label for="`+m[1]+`">`) {
				t.Errorf("%s: field without a label: %s", p.url, in)
			}
		}
	}
}

func disableUser(t *testing.T, f *fixture, id string) {
	t.Helper()
	err := f.db.Write(t.Context(), func(tx store.Tx) error {
		_, err := tx.UpdateUser(t.Context(), testStoreID, id, func(u *store.User) error { u.Status = store.UserDisabled; return nil })
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

var secretText = regexp.MustCompile(`id="totp-secret">([^<]+)<`)

// totpSecret is the key the enrollment page shows, as an app reads it.
func totpSecret(t *testing.T, p *page) string {
	t.Helper()
	m := secretText.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("no key on %s", p.url)
	}
	return strings.ReplaceAll(m[1], " ", "")
}

// wrong is a code that is not code.
func wrong(code string) string {
	return string('0'+(code[0]-'0'+1)%10) + code[1:]
}

var optionsAttr = regexp.MustCompile(`data-options="([^"]+)"`)

// webAuthnOptions are the ceremony options a page gives its script.
func webAuthnOptions(t *testing.T, p *page) []byte {
	t.Helper()
	m := optionsAttr.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("no WebAuthn options on %s", p.url)
	}
	return []byte(html.UnescapeString(m[1]))
}
