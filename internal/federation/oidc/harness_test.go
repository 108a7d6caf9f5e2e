package oidc_test

import (
	"bytes"
	"context"
	"encoding/json"
	"html"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/atrium-sso/atrium/internal/config"
	"github.com/atrium-sso/atrium/internal/ids"
	"github.com/atrium-sso/atrium/internal/server"
	"github.com/atrium-sso/atrium/internal/store"
	"github.com/atrium-sso/atrium/internal/testenv"
)

// atrium is a whole Atrium server (the real composition, SQLite) on a real
// listener, with an OIDC source "corp" at a testOP and the user ada in it.
type atrium struct {
	t       *testing.T
	url     string
	db      store.Store
	storeID string
	source  *store.IdentitySource
	op      *testOP
	log     *syncBuffer
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

func newAtrium(t *testing.T) *atrium { return newAtriumOn(t, "") }

// backends runs fn on SQLite and on PostgreSQL (skipped without one): the
// replay cache must hold on both.
func backends(t *testing.T, fn func(t *testing.T, a *atrium)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, newAtriumOn(t, "")) })
	t.Run("postgres", func(t *testing.T) { fn(t, newAtriumOn(t, testenv.PostgresDatabase(t))) })
}

// newAtriumOn serves Atrium on SQLite, or on the PostgreSQL database given.
func newAtriumOn(t *testing.T, database string) *atrium {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	a := &atrium{t: t, url: "http://" + ln.Addr().String(), log: &syncBuffer{}}
	args := []string{"--data", t.TempDir(), "--url", a.url}
	if database != "" {
		args = append(args, "--database", database)
	}
	cfg, err := config.Load(args, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"ATRIUM_BOOTSTRAP_ACCESS_KEY_ID": "AKIAOIDCTESTS0000001", "ATRIUM_BOOTSTRAP_SECRET_ACCESS_KEY": strings.Repeat("k", 40)}
	srv, err := server.Open(ctx, cfg, func(k string) string { return env[k] }, slog.New(slog.NewTextHandler(a.log, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Store().Close() })
	srv.Start(ctx)
	hs := httptest.NewUnstartedServer(srv.Handler())
	hs.Listener.Close()
	hs.Listener = ln
	hs.Start()
	t.Cleanup(hs.Close)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server log:\n%s", a.log)
		}
	})
	a.db = srv.Store()
	err = a.db.Read(ctx, func(tx store.Tx) error {
		list, err := tx.ListInstances(ctx)
		if err == nil {
			a.storeID = list[0].IdentityStoreID
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	a.op = newTestOP(t)
	a.source = a.addSource("corp", a.op, nil)
	a.addUser("ada", "ada@example.com", a.source.ID)
	return a
}

// addSource stores an OIDC source for op as CheckConfig leaves settings.
func (a *atrium) addSource(name string, op *testOP, edit func(cfg map[string]any)) *store.IdentitySource {
	a.t.Helper()
	cfg := map[string]any{"Issuer": op.issuer(), "ClientID": op.clientID, "ClientSecret": op.secret,
		"Scopes": []string{"openid", "email", "profile"}, "EmailClaim": "email"}
	if edit != nil {
		edit(cfg)
	}
	raw, _ := json.Marshal(cfg)
	now := time.Now().UTC()
	src := store.IdentitySource{IdentityStoreID: a.storeID, ID: "idp-" + ids.Hex(8), Name: name, Kind: "oidc", Enabled: true,
		MFA: "trust", Config: raw, CreatedAt: now, UpdatedAt: now}
	ctx := context.Background()
	if err := a.db.Write(ctx, func(tx store.Tx) error { return tx.InsertIdentitySource(ctx, src) }); err != nil {
		a.t.Fatal(err)
	}
	return &src
}

func (a *atrium) addUser(userName, email, sourceID string) string {
	a.t.Helper()
	ctx := context.Background()
	u := store.User{IdentityStoreID: a.storeID, ID: ids.UserID(a.storeID), UserName: userName, DisplayName: userName,
		Status: store.UserEnabled, SourceID: sourceID, CreatedAt: time.Now(), UpdatedAt: time.Now(),
		Profile: store.UserProfile{Emails: []store.Email{{Value: email}}}}
	if err := a.db.Write(ctx, func(tx store.Tx) error { return tx.InsertUser(ctx, u) }); err != nil {
		a.t.Fatal(err)
	}
	return u.ID
}

// browser is a person's browser: it keeps cookies per host (Secure ones
// too, as browsers do on loopback) and follows no redirect by itself.
type browser struct {
	t       *testing.T
	client  *http.Client
	cookies map[string]map[string]*http.Cookie
}

func newBrowser(t *testing.T) *browser {
	return &browser{t: t, cookies: map[string]map[string]*http.Cookie{}, client: &http.Client{
		Timeout:       20 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

type page struct {
	Status   int
	Location string
	Body     string
	Cookies  []*http.Cookie // as set by this answer
}

func (b *browser) get(raw string) page {
	b.t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		b.t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodGet, raw, nil)
	for _, c := range b.cookies[u.Host] {
		req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	resp, err := b.client.Do(req)
	if err != nil {
		b.t.Fatalf("GET %s: %v", raw, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	p := page{Status: resp.StatusCode, Body: string(body), Cookies: resp.Cookies()}
	if loc := resp.Header.Get("Location"); loc != "" {
		l, err := u.Parse(loc)
		if err != nil {
			b.t.Fatalf("Location %q: %v", loc, err)
		}
		p.Location = l.String()
	}
	jar := b.cookies[u.Host]
	if jar == nil {
		jar = map[string]*http.Cookie{}
		b.cookies[u.Host] = jar
	}
	for _, c := range p.Cookies {
		if c.MaxAge < 0 || c.Value == "" {
			delete(jar, c.Name)
		} else {
			jar[c.Name] = c
		}
	}
	return p
}

func (b *browser) cookie(rawURL, name string) *http.Cookie {
	u, _ := url.Parse(rawURL)
	return b.cookies[u.Host][name]
}

func (b *browser) setCookie(rawURL string, c *http.Cookie) {
	u, _ := url.Parse(rawURL)
	if b.cookies[u.Host] == nil {
		b.cookies[u.Host] = map[string]*http.Cookie{}
	}
	b.cookies[u.Host][c.Name] = c
}

// start opens the source's start URL and returns where Atrium sends the
// browser (the IdP's authorization endpoint).
func (a *atrium) start(b *browser, source, next string) string {
	a.t.Helper()
	p := b.get(a.url + "/oidc/" + source + "/start?next=" + url.QueryEscape(next))
	if p.Status != http.StatusFound || !strings.HasPrefix(p.Location, a.op.issuer()+"/authorize?") {
		a.t.Fatalf("start answered %d to %q: %s", p.Status, p.Location, p.Body)
	}
	return p.Location
}

// atIdP signs in at the IdP and returns the callback URL it sends the browser to.
func (a *atrium) atIdP(b *browser, authorize string) string {
	a.t.Helper()
	p := b.get(authorize)
	if p.Status != http.StatusFound || !strings.HasPrefix(p.Location, a.url+"/oidc/") {
		a.t.Fatalf("the IdP answered %d to %q: %s", p.Status, p.Location, p.Body)
	}
	return p.Location
}

const sessionCookie = "__Host-atrium-session"

// signedIn checks that p is the end of a successful sign-in, going to next.
func (a *atrium) signedIn(p page, next string) {
	a.t.Helper()
	if p.Status != http.StatusSeeOther || p.Location != a.url+next {
		a.t.Fatalf("callback answered %d to %q, want 303 to %s: %s", p.Status, p.Location, next, p.Body)
	}
	for _, c := range p.Cookies {
		if c.Name == sessionCookie && c.Value != "" {
			return
		}
	}
	a.t.Fatalf("no session cookie after the sign-in: %v", p.Cookies)
}

// refused checks that p is a refusal with status, saying want, and no session.
func (a *atrium) refused(p page, status int, want string) {
	a.t.Helper()
	if p.Status != status || !strings.Contains(p.Body, html.EscapeString(want)) {
		a.t.Fatalf("answered %d (want %d) with %q (want %q)", p.Status, status, p.Body, want)
	}
	for _, c := range p.Cookies {
		if c.Name == sessionCookie && c.Value != "" {
			a.t.Fatal("a refused sign-in started a session")
		}
	}
}
