package web

import (
	"context"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/atrium-sso/atrium/internal/oauth"
	"github.com/atrium-sso/atrium/internal/portal"
	"github.com/atrium-sso/atrium/internal/signin"
	"github.com/atrium-sso/atrium/internal/store"
	"github.com/atrium-sso/atrium/internal/store/sqlite"
)

const testStoreID = "d-1234567890"

// Passwords of the fixture's users (alice's is a one-time password).
const (
	alicePassword    = "Temp-Pass-1a"
	aliceNewPassword = "Alices-Own-Pass-2!"
	bobPassword      = "Bobs-Pass-1!"
	carolPassword    = "Carols-Pass-1!"
	davePassword     = "Daves-Pass-1!"
)

type fixture struct {
	t      *testing.T
	srv    *httptest.Server
	web    *Web
	db     store.Store
	signin *signin.Service
	clock  *clock
	portal *fakePortal
	oauth  *fakeOAuth
	// bob's authenticator app and carol's security key
	bobSecret string
	carolKey  *softKey
}

// clock is the sign-in service's time: TOTP codes are single-use per time
// step, so tests move it on rather than wait.
type clock struct{ now atomic.Int64 }

func (c *clock) Now() time.Time          { return time.Unix(0, c.now.Load()) }
func (c *clock) advance(d time.Duration) { c.now.Add(int64(d)) }

// newFixture serves the pages, with the real sign-in service, on a real
// SQLite store with one instance and the users alice (a one-time password,
// no device), bob (an authenticator app), carol (a security key) and dave
// (password only); MFA is optional, so dave and alice need none.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "atrium.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx, nil); err != nil {
		t.Fatal(err)
	}
	users := map[string]string{"alice": "u-alice", "bob": "u-bob", "carol": "u-carol", "dave": "u-dave"}
	err = db.Write(ctx, func(tx store.Tx) error {
		if err := tx.InsertInstance(ctx, store.Instance{ARN: "arn:aws:sso:::instance/ssoins-0123456789abcdef", IdentityStoreID: testStoreID,
			OwnerAccountID: "111111111111", Name: "atrium", Status: "ACTIVE", CreatedAt: time.Now()}); err != nil {
			return err
		}
		for name, id := range users {
			if err := tx.InsertUser(ctx, store.User{IdentityStoreID: testStoreID, ID: id, UserName: name, DisplayName: name,
				Status: store.UserEnabled, CreatedAt: time.Now(), UpdatedAt: time.Now()}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, db: db, clock: &clock{},
		portal: &fakePortal{sessions: map[string]*portal.Session{}, methods: map[string][]string{}, access: []portal.AccountAccess{
			{AccountID: "222222222222", AccountName: "Production", Email: "prod@example.com", Roles: []string{"ReadOnly"}},
			{AccountID: "333333333333", AccountName: "Development", Email: "dev@example.com", Roles: []string{"Admin", "ReadOnly"}},
		}},
		oauth: &fakeOAuth{grants: map[string]*oauth.DeviceGrant{"WXYZ-KLMN": {ClientName: "botocore-client-dev", UserCode: "WXYZ-KLMN",
			Scopes: []string{"sso:account:access"}, ExpiresAt: time.Now().Add(10 * time.Minute)}},
			approved: map[string]string{}, denied: map[string]bool{}},
	}
	f.clock.now.Store(time.Now().UnixNano())
	// WebAuthn needs a host name: the pages' origin as the key signs it.
	if f.signin, err = signin.New(ctx, db, signin.Options{URL: "http://localhost", Now: f.clock.Now, Workers: 2}); err != nil {
		t.Fatal(err)
	}
	f.setting("mfa.mode", signin.MFAOptional)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(f.signin.SetPassword(ctx, testStoreID, "u-alice", alicePassword, true))
	must(f.signin.SetPassword(ctx, testStoreID, "u-bob", bobPassword, false))
	must(f.signin.SetPassword(ctx, testStoreID, "u-carol", carolPassword, false))
	must(f.signin.SetPassword(ctx, testStoreID, "u-dave", davePassword, false))
	e, err := f.signin.BeginTOTPEnrollment(ctx, testStoreID, "u-bob", "Atrium")
	must(err)
	f.bobSecret = e.Secret
	must(f.signin.FinishTOTPEnrollment(ctx, testStoreID, "u-bob", e, f.code(e.Secret), ""))
	f.carolKey = newSoftKey("localhost", "http://localhost")
	options, state, err := f.signin.BeginWebAuthnRegistration(ctx, testStoreID, "u-carol")
	must(err)
	reg, _ := http.NewRequest(http.MethodPost, "/", strings.NewReader(f.carolKey.create(t, options)))
	must(f.signin.FinishWebAuthnRegistration(ctx, testStoreID, "u-carol", state, reg, ""))

	w, err := New(ctx, Options{Store: db, SignIn: f.signin, Portal: f.portal, OAuth: f.oauth, URL: "http://localhost"})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	w.Register(mux)
	f.web = w
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fixture) setting(key, value string) {
	f.t.Helper()
	if _, err := f.signin.UpdateSetting(context.Background(), key, value); err != nil {
		f.t.Fatal(err)
	}
}

// code is the TOTP code for secret in the next time step (each code is
// accepted once, so every use moves the clock on).
func (f *fixture) code(secret string) string {
	f.t.Helper()
	f.clock.advance(30 * time.Second)
	c, err := totp.GenerateCode(secret, f.clock.Now())
	if err != nil {
		f.t.Fatal(err)
	}
	return c
}

// browser is a client that keeps cookies the way a browser does on a
// secure origin, sends the fetch metadata a browser sends, and lets the
// test see every redirect.
type browser struct {
	f       *fixture
	cookies map[string]*http.Cookie
	client  *http.Client
}

func (f *fixture) browser() *browser {
	return &browser{f: f, cookies: map[string]*http.Cookie{},
		client: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

type page struct {
	status int
	header http.Header
	body   string
	url    string
}

func (p *page) location() string { return p.header.Get("Location") }

func (b *browser) do(req *http.Request) *page {
	b.f.t.Helper()
	for _, c := range b.cookies {
		req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	resp, err := b.client.Do(req)
	if err != nil {
		b.f.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, c := range resp.Cookies() {
		if c.MaxAge < 0 || c.Value == "" {
			delete(b.cookies, c.Name)
		} else {
			b.cookies[c.Name] = c
		}
	}
	return &page{status: resp.StatusCode, header: resp.Header, body: string(body), url: req.URL.String()}
}

func (b *browser) get(path string) *page {
	b.f.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, b.f.srv.URL+path, nil)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	return b.do(req)
}

// post sends a form as a page of this origin does.
func (b *browser) post(path string, form url.Values) *page {
	b.f.t.Helper()
	return b.postFrom(b.f.srv.URL, "same-origin", path, form)
}

// postFrom sends a form as a page of origin does, with its fetch metadata.
func (b *browser) postFrom(origin, site, path string, form url.Values) *page {
	b.f.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, b.f.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", origin)
	if site != "" {
		req.Header.Set("Sec-Fetch-Site", site)
	}
	return b.do(req)
}

// follow GETs redirects until a page.
func (b *browser) follow(p *page) *page {
	b.f.t.Helper()
	for i := 0; p.status == http.StatusSeeOther; i++ {
		if i > 10 {
			b.f.t.Fatalf("redirect loop at %s", p.location())
		}
		loc := p.location()
		if !strings.HasPrefix(loc, "/") {
			return p
		}
		p = b.get(loc)
	}
	return p
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (p *page) csrf(t *testing.T) string {
	t.Helper()
	m := csrfField.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("no form token on %s:\n%s", p.url, p.body)
	}
	return m[1]
}

func (p *page) want(t *testing.T, status int, texts ...string) {
	t.Helper()
	if p.status != status {
		t.Fatalf("%s: status %d, want %d\n%s", p.url, p.status, status, p.body)
	}
	for _, s := range texts {
		if !strings.Contains(p.body, s) && !strings.Contains(html.UnescapeString(p.body), s) {
			t.Fatalf("%s: page lacks %q:\n%s", p.url, s, p.body)
		}
	}
}

// signIn runs the sign-in from /signin?next=next with a password and, when
// asked for one, a code of bob's app; it returns the page it ends on.
func (b *browser) signIn(next, user, password string) *page {
	t := b.f.t
	t.Helper()
	p := b.get("/signin?next=" + url.QueryEscape(next))
	p.want(t, 200, `for="username">Username</label>`)
	p = b.follow(b.post("/signin", url.Values{"csrf": {p.csrf(t)}, "username": {user}}))
	p.want(t, 200, `for="password">Password</label>`)
	p = b.post("/signin/password", url.Values{"csrf": {p.csrf(t)}, "password": {password}})
	if p.location() == "/signin/mfa" {
		p = b.get("/signin/mfa")
		p = b.post("/signin/mfa", url.Values{"csrf": {p.csrf(t)}, "code": {b.f.code(b.f.bobSecret)}})
	}
	return p
}
