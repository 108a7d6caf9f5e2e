package web

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/atrium-sso/atrium/internal/signin"
)

// signedIn is a browser with dave (no MFA) signed in, on the portal page.
func signedIn(t *testing.T, f *fixture) (*browser, *page) {
	t.Helper()
	b := f.browser()
	p := b.follow(b.signIn("/start", "dave", davePassword))
	p.want(t, 200, "Signed in as <strong>dave</strong>")
	return b, p
}

// A page of another site cannot make a signed-in browser act: not with the
// fetch metadata browsers send, not with only an Origin (older browsers),
// not without the form token or with another session's token.
func TestCSRFRejected(t *testing.T) {
	f := newFixture(t)
	b, portal := signedIn(t, f)
	token := portal.csrf(t)
	other, otherPortal := signedIn(t, f)

	cases := []struct {
		name         string
		origin, site string
		form         url.Values
	}{
		{"cross-site fetch metadata", "https://evil.example", "cross-site", url.Values{"csrf": {token}}},
		{"same-site but cross-origin", "http://sub.127.0.0.1", "same-site", url.Values{"csrf": {token}}},
		{"foreign Origin only", "https://evil.example", "", url.Values{"csrf": {token}}},
		{"no token", f.srv.URL, "same-origin", url.Values{}},
		{"another session's token", f.srv.URL, "same-origin", url.Values{"csrf": {otherPortal.csrf(t)}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, path := range []string{"/signout", "/start/credentials", "/device", "/authorize"} {
				form := url.Values{"account_id": {"333333333333"}, "role_name": {"Admin"}, "user_code": {"WXYZ-KLMN"}, "decision": {"allow"},
					"request": {"client_id=registered-client&redirect_uri=http://127.0.0.1:1/oauth/callback"}}
				for k, v := range c.form {
					form[k] = v
				}
				p := b.postFrom(c.origin, c.site, path, form)
				if p.status != http.StatusForbidden || strings.Contains(p.body, "ASIA") || p.location() != "" {
					t.Fatalf("POST %s = %d %q\n%s", path, p.status, p.location(), p.body)
				}
			}
		})
	}
	if len(f.portal.sessions) != 2 || len(f.oauth.approved) != 0 {
		t.Fatalf("a forged request acted: sessions %d, approved %v", len(f.portal.sessions), f.oauth.approved)
	}
	// Login CSRF: another site cannot sign a browser in as someone else.
	victim := f.browser()
	p := victim.postFrom("https://evil.example", "cross-site", "/signin", url.Values{"username": {"mallory"}})
	if p.status != http.StatusForbidden {
		t.Fatalf("cross-site sign-in = %d", p.status)
	}
	p = victim.postFrom(f.srv.URL, "same-origin", "/signin/password", url.Values{"password": {"x"}})
	if p.status != http.StatusForbidden {
		t.Fatalf("sign-in form without a flow = %d", p.status)
	}
	if p := other.post("/signout", url.Values{"csrf": {otherPortal.csrf(t)}}); p.status != 200 {
		t.Fatalf("the real form = %d", p.status)
	}
}

func TestOpenRedirectRejected(t *testing.T) {
	for next, want := range map[string]string{
		"/start":                        "/start",
		"/device?user_code=ABCD-EFGH":   "/device?user_code=ABCD-EFGH",
		"/authorize?client_id=x&state=": "/authorize?client_id=x&state=",
		"https://evil.example/start":    "/start",
		"//evil.example/start":          "/start",
		"/\\evil.example/start":         "/start",
		"\\\\evil.example":              "/start",
		"/%2F%2Fevil.example":           "/start",
		"javascript:alert(1)":           "/start",
		"http:/evil.example":            "/start",
		" /start":                       "/start",
		"/start\r\nSet-Cookie: x=y":     "/start",
		"/signout":                      "/start",
		"/static/../start":              "/start",
		"":                              "/start",
	} {
		if got := localNext(next); got != want {
			t.Errorf("localNext(%q) = %q, want %q", next, got, want)
		}
	}

	f := newFixture(t)
	b := f.browser()
	if p := b.signIn("https://evil.example/", "dave", davePassword); p.location() != "/start" {
		t.Fatalf("sign-in with an outside next went to %q", p.location())
	}
	for name, q := range map[string]url.Values{
		"unregistered redirect": {"response_type": {"code"}, "client_id": {"registered-client"}, "redirect_uri": {"https://evil.example/oauth/callback"}, "state": {"s"}},
		"unknown client":        {"response_type": {"code"}, "client_id": {"nobody"}, "redirect_uri": {"http://127.0.0.1:5000/oauth/callback"}, "state": {"s"}},
	} {
		for _, p := range []*page{b.get("/authorize?" + q.Encode()),
			b.post("/authorize", url.Values{"csrf": {b.get("/start").csrf(t)}, "request": {q.Encode()}, "decision": {"allow"}})} {
			if p.status != http.StatusBadRequest || p.location() != "" || strings.Contains(p.body, "evil.example") {
				t.Fatalf("%s: %d %q\n%s", name, p.status, p.location(), p.body)
			}
		}
	}
	// A refusal oauth can vouch for goes back to the registered loopback.
	q := url.Values{"response_type": {"code"}, "client_id": {"registered-client"}, "redirect_uri": {"http://127.0.0.1:5000/oauth/callback"},
		"state": {"s"}, "code_challenge_method": {"plain"}}
	if p := b.get("/authorize?" + q.Encode()); p.status != http.StatusSeeOther || p.location() != "http://127.0.0.1:5000/oauth/callback?error=invalid_request&state=s" {
		t.Fatalf("refused request from a registered client = %d %q", p.status, p.location())
	}
}

// A cookie value someone had before a sign-in is worth nothing after it:
// the session is new, and the sign-in flow's id (which binds its forms)
// changes with every proof.
func TestSessionFixationPrevented(t *testing.T) {
	f := newFixture(t)
	attacker := f.browser()
	p := attacker.get("/signin")
	planted, plantedToken := attacker.cookies[flowCookie].Value, p.csrf(t)

	victim := f.browser()
	victim.cookies[flowCookie] = &http.Cookie{Name: flowCookie, Value: planted}
	victim.cookies[sessionCookie] = &http.Cookie{Name: sessionCookie, Value: "attacker-chosen"}
	p = victim.follow(victim.post("/signin", url.Values{"csrf": {plantedToken}, "username": {"bob"}}))
	p = victim.post("/signin/password", url.Values{"csrf": {p.csrf(t)}, "password": {bobPassword}})
	if p.location() != "/signin/mfa" {
		t.Fatalf("password = %d %q", p.status, p.location())
	}
	p = victim.get("/signin/mfa")
	if p.csrf(t) == plantedToken || victim.cookies[flowCookie].Value == planted {
		t.Fatal("the flow kept its id across the password")
	}
	// The planted value is still only a sign-in at the username.
	attacker.cookies[flowCookie] = &http.Cookie{Name: flowCookie, Value: planted}
	if p := attacker.post("/signin/mfa", url.Values{"csrf": {plantedToken}, "code": {f.code(f.bobSecret)}}); p.location() != "/signin" {
		t.Fatalf("planted flow at MFA = %d %q", p.status, p.location())
	}
	p = victim.post("/signin/mfa", url.Values{"csrf": {p.csrf(t)}, "code": {f.code(f.bobSecret)}})
	if p.location() != "/start" {
		t.Fatalf("MFA = %d %q", p.status, p.location())
	}
	got := victim.cookies[sessionCookie].Value
	if got == "attacker-chosen" || got == planted {
		t.Fatal("the session cookie is the one set before sign-in")
	}
	if _, err := f.portal.SessionByToken(t.Context(), "attacker-chosen"); err == nil {
		t.Fatal("the planted value became a session")
	}

	// After a password change too.
	c := f.browser()
	p = c.get("/signin")
	p = c.follow(c.post("/signin", url.Values{"csrf": {p.csrf(t)}, "username": {"alice"}}))
	p = c.follow(c.post("/signin/password", url.Values{"csrf": {p.csrf(t)}, "password": {alicePassword}}))
	before := p.csrf(t)
	p = c.follow(c.post("/signin/new-password", url.Values{"csrf": {before}, "new_password": {aliceNewPassword}, "confirm_password": {aliceNewPassword}}))
	if p.csrf(t) == before {
		t.Fatal("the flow kept its id across the password change")
	}
}

var cspDirective = regexp.MustCompile(`\s*;\s*`)

func policy(t *testing.T, p *page) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, d := range cspDirective.Split(p.header.Get("Content-Security-Policy"), -1) {
		name, value, _ := strings.Cut(strings.TrimSpace(d), " ")
		out[name] = value
	}
	return out
}

// everyPage visits each page once, in a full sign-in and its approvals.
func everyPage(t *testing.T, f *fixture) []*page {
	f.setting("mfa.mode", signin.MFARequired)
	b := f.browser()
	var pages []*page
	add := func(p *page) *page { pages = append(pages, p); return p }
	add(b.get("/start"))
	p := add(b.get("/signin"))
	p = add(b.follow(b.post("/signin", url.Values{"csrf": {p.csrf(t)}, "username": {"alice"}})))
	add(b.post("/signin/password", url.Values{"csrf": {p.csrf(t)}, "password": {"wrong"}}))
	p = add(b.follow(b.post("/signin/password", url.Values{"csrf": {p.csrf(t)}, "password": {alicePassword}})))
	p = add(b.follow(b.post("/signin/new-password", url.Values{"csrf": {p.csrf(t)}, "new_password": {aliceNewPassword}, "confirm_password": {aliceNewPassword}})))
	add(b.get("/signin/mfa/enroll/qr.png"))
	p = add(b.follow(b.post("/signin/mfa/enroll/totp", url.Values{"csrf": {p.csrf(t)}, "code": {f.code(totpSecret(t, p))}})))
	add(b.post("/start/credentials", url.Values{"csrf": {p.csrf(t)}, "account_id": {"222222222222"}, "role_name": {"ReadOnly"}}))
	devices := add(b.get("/start/mfa"))
	add(b.get("/start/mfa/qr.png"))
	add(b.post("/start/mfa/remove", url.Values{"csrf": {devices.csrf(t)}, "device": {"x"}, "password": {"wrong"}}))
	add(b.get("/device"))
	add(b.get("/device?user_code=WXYZ-KLMN"))
	add(b.get("/authorize?client_id=registered-client&redirect_uri=http://127.0.0.1:4000/oauth/callback&state=s&code_challenge_method=S256"))
	add(b.get("/authorize?client_id=nobody"))
	add(b.postFrom("https://evil.example", "cross-site", "/signout", url.Values{}))
	add(b.post("/signout", url.Values{"csrf": {p.csrf(t)}}))

	m := f.browser()
	p = m.get("/signin")
	p = m.follow(m.post("/signin", url.Values{"csrf": {p.csrf(t)}, "username": {"carol"}}))
	add(m.follow(m.post("/signin/password", url.Values{"csrf": {p.csrf(t)}, "password": {carolPassword}})))

	o := f.browser()
	p = o.get("/signin")
	p = o.follow(o.post("/signin", url.Values{"csrf": {p.csrf(t)}, "username": {"bob"}}))
	p = add(o.follow(o.post("/signin/password", url.Values{"csrf": {p.csrf(t)}, "password": {bobPassword}})))
	add(o.post("/signin/mfa", url.Values{"csrf": {p.csrf(t)}, "code": {"1"}}))
	return pages
}

func TestCSPHeaderStrict(t *testing.T) {
	f := newFixture(t)
	script := regexp.MustCompile(`(?is)<script([^>]*)>(.*?)</script>`)
	inline := regexp.MustCompile(`(?i)\son[a-z]+\s*=|\sstyle\s*=|<style|javascript:`)
	for _, p := range everyPage(t, f) {
		c := policy(t, p)
		want := map[string]string{"default-src": "'none'", "script-src": "'self'", "style-src": "'self'", "img-src": "'self'",
			"frame-ancestors": "'none'", "base-uri": "'none'", "form-action": "'self'"}
		if strings.HasPrefix(p.url, f.srv.URL+"/authorize?client_id=registered-client") {
			want["form-action"] = "'self' http://127.0.0.1:4000"
		}
		for k, v := range want {
			if c[k] != v {
				t.Errorf("%s: %s %q, want %q (policy %q)", p.url, k, c[k], v, p.header.Get("Content-Security-Policy"))
			}
		}
		if len(c) != len(want) {
			t.Errorf("%s: policy has more than expected: %q", p.url, p.header.Get("Content-Security-Policy"))
		}
		if !strings.HasPrefix(p.header.Get("Content-Type"), "text/html") {
			continue
		}
		if m := inline.FindString(p.body); m != "" {
			t.Errorf("%s: inline handler or style %q", p.url, m)
		}
		for _, m := range script.FindAllStringSubmatch(p.body, -1) {
			if !strings.Contains(m[1], `src="/static/`) || strings.TrimSpace(m[2]) != "" {
				t.Errorf("%s: inline script %q", p.url, m[0])
			}
		}
		if p.header.Get("Cache-Control") != "no-store" || p.header.Get("X-Content-Type-Options") != "nosniff" || p.header.Get("Referrer-Policy") != "no-referrer" {
			t.Errorf("%s: headers %v", p.url, p.header)
		}
	}
	js := f.browser().get("/static/webauthn.js")
	if js.status != 200 || !strings.Contains(js.header.Get("Content-Type"), "javascript") {
		t.Fatalf("script = %d %q", js.status, js.header.Get("Content-Type"))
	}
}

func TestClickjackingPrevented(t *testing.T) {
	f := newFixture(t)
	for _, p := range everyPage(t, f) {
		if p.header.Get("X-Frame-Options") != "DENY" || policy(t, p)["frame-ancestors"] != "'none'" {
			t.Errorf("%s (%d) can be framed: X-Frame-Options %q, CSP %q", p.url, p.status, p.header.Get("X-Frame-Options"), p.header.Get("Content-Security-Policy"))
		}
	}
}

func TestCookiesAreHostOnlySecureHttpOnly(t *testing.T) {
	f := newFixture(t)
	b := f.browser()
	p := b.get("/signin")
	p = b.follow(b.post("/signin", url.Values{"csrf": {p.csrf(t)}, "username": {"dave"}}))
	req, _ := http.NewRequest(http.MethodPost, f.srv.URL+"/signin/password", strings.NewReader(url.Values{"csrf": {p.csrf(t)}, "password": {davePassword}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(b.cookies[flowCookie])
	resp, err := b.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	seen := map[string]bool{}
	for _, line := range resp.Header.Values("Set-Cookie") {
		name, _, _ := strings.Cut(line, "=")
		seen[name] = true
		if !strings.HasPrefix(name, "__Host-") || !strings.Contains(line, "; Path=/") || strings.Contains(line, "Domain=") ||
			!strings.Contains(line, "; HttpOnly") || !strings.Contains(line, "; Secure") {
			t.Errorf("cookie %q", line)
		}
		if name == sessionCookie && !strings.Contains(line, "SameSite=Lax") {
			t.Errorf("session cookie %q", line)
		}
	}
	if !seen[sessionCookie] || !seen[flowCookie] {
		t.Fatalf("Set-Cookie = %v", resp.Header.Values("Set-Cookie"))
	}
}

// Sealed cookies are ours and for one purpose: a changed value, a value
// sealed for another cookie, and an expired flow all count as none.
func TestForgedOrExpiredFlowIsRefused(t *testing.T) {
	f := newFixture(t)
	b := f.browser()
	p := b.get("/signin")
	token := p.csrf(t)
	good := b.cookies[flowCookie].Value

	tampered := []byte(good)
	tampered[len(tampered)/2] ^= 1
	var fl flow
	if err := f.web.keys.open(flowCookie, good, &fl); err != nil {
		t.Fatal(err)
	}
	asDevice, _ := f.web.keys.seal(deviceCookie, fl)
	fl.Expires = time.Now().Add(-time.Second).Unix()
	expired, _ := f.web.keys.seal(flowCookie, fl)
	for name, v := range map[string]string{"tampered": string(tampered), "other cookie's": asDevice, "expired": expired} {
		b.cookies[flowCookie] = &http.Cookie{Name: flowCookie, Value: v}
		if p := b.post("/signin", url.Values{"csrf": {token}, "username": {"dave"}}); p.status != http.StatusForbidden {
			t.Errorf("%s flow = %d %q", name, p.status, p.location())
		}
	}
}

// Nodes share nothing but the database: a sign-in begun on one node goes on
// on another, because the key that seals its cookie lives in the store.
func TestSignInCrossesNodes(t *testing.T) {
	f := newFixture(t)
	second, err := New(t.Context(), Options{Store: f.db, SignIn: f.signin, Portal: f.portal, OAuth: f.oauth, URL: "http://localhost"})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	second.Register(mux)
	other := httptest.NewServer(mux)
	t.Cleanup(other.Close)

	b := f.browser()
	p := b.get("/signin")
	p = b.follow(b.post("/signin", url.Values{"csrf": {p.csrf(t)}, "username": {"bob"}}))
	b.f.srv = other // the load balancer sends the rest elsewhere
	p = b.follow(b.post("/signin/password", url.Values{"csrf": {p.csrf(t)}, "password": {bobPassword}}))
	p.want(t, 200, "Authenticator code")
	if p := b.post("/signin/mfa", url.Values{"csrf": {p.csrf(t)}, "code": {f.code(f.bobSecret)}}); p.location() != "/start" {
		t.Fatalf("MFA on the second node = %d %q", p.status, p.location())
	}
}
