package web

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/atrium-sso/atrium/internal/access"
	"github.com/atrium-sso/atrium/internal/awsproto"
	"github.com/atrium-sso/atrium/internal/directory"
	"github.com/atrium-sso/atrium/internal/federation"
	"github.com/atrium-sso/atrium/internal/signin"
	"github.com/atrium-sso/atrium/internal/store"
)

// testIdP is an identity provider protocol that vouches for whoever the
// browser names (?as=): what a real protocol hands federation once its
// checks pass, so these tests are about what happens after them.
type testIdP struct{ fed *federation.Service }

func (p *testIdP) Kind() string { return "test" }

func (p *testIdP) CheckConfig(_ context.Context, _ *federation.Source, raw json.RawMessage) (json.RawMessage, error) {
	return raw, nil
}

func (p *testIdP) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /testidp/{name}/start", func(rw http.ResponseWriter, r *http.Request) {
		src, err := p.fed.SourceByName(r.Context(), r.PathValue("name"))
		if err != nil {
			p.fed.Fail(rw, r, http.StatusNotFound, "no such identity provider")
			return
		}
		as := r.URL.Query().Get("as")
		attrs := map[string][]string{}
		if team := r.URL.Query().Get("team"); team != "" {
			attrs[access.AssertedTagPrefix+"Team"] = []string{team}
		}
		p.fed.Complete(rw, r, src, federation.Identity{Subject: "sub-" + as, Email: as, GivenName: "Erin", FamilyName: "Example",
			Attributes: attrs}, r.URL.Query().Get("next"))
	})
}

func (p *testIdP) StartPath(src *federation.Source, next string) string {
	return "/testidp/" + src.Name + "/start?next=" + url.QueryEscape(next)
}

// fedFixture is the pages' fixture with identity sources wired as the
// server wires them, and one source, "corp", for the corp.example domain.
type fedFixture struct {
	*fixture
	fed  *federation.Service
	corp *federation.Source
}

func newFedFixture(t *testing.T, corp federation.SourceInput) *fedFixture {
	f := newFixture(t)
	ctx := context.Background()
	dir := directory.New(f.db, awsproto.NewPager(make([]byte, 32)))
	fed := federation.New(federation.Options{Store: f.db, BaseURL: f.srv.URL, Directory: dir})
	mux := http.NewServeMux()
	f.web.Register(mux)
	fed.AddProtocol(&testIdP{fed: fed}, mux)
	fed.SetPages(f.web)
	f.web.SetFederation(fed)
	f.srv.Config.Handler = mux
	corp.Name, corp.Kind, corp.Config = "corp", "test", json.RawMessage(`{}`)
	if corp.EmailDomains == nil {
		corp.EmailDomains = &[]string{"corp.example"}
	}
	src, err := fed.CreateSource(ctx, corp)
	if err != nil {
		t.Fatal(err)
	}
	err = f.db.Write(ctx, func(tx store.Tx) error {
		return tx.InsertUser(ctx, store.User{IdentityStoreID: testStoreID, ID: "u-erin", UserName: "erin@corp.example", DisplayName: "Erin",
			Status: store.UserEnabled, SourceID: src.ID})
	})
	if err != nil {
		t.Fatal(err)
	}
	return &fedFixture{fixture: f, fed: fed, corp: src}
}

func (f *fedFixture) signedInAs(t *testing.T, b *browser) *store.User {
	t.Helper()
	c := b.cookies[sessionCookie]
	if c == nil {
		return nil
	}
	s, err := f.portal.SessionByToken(context.Background(), c.Value)
	if err != nil {
		t.Fatal(err)
	}
	return &store.User{ID: s.UserID, UserName: s.UserName}
}

func TestFederatedSignInStartsASession(t *testing.T) {
	f := newFedFixture(t, federation.SourceInput{})
	b := f.browser()
	p := b.get("/testidp/corp/start?as=Erin@Corp.example&next=" + url.QueryEscape("/device?user_code=WXYZ-KLMN"))
	if p.status != http.StatusSeeOther || p.location() != "/device?user_code=WXYZ-KLMN" {
		t.Fatalf("status %d to %q\n%s", p.status, p.location(), p.body)
	}
	u := f.signedInAs(t, b)
	if u == nil || u.ID != "u-erin" {
		t.Fatalf("signed in as %+v", u)
	}
	sess, _ := f.portal.SessionByToken(context.Background(), b.cookies[sessionCookie].Value)
	if m := f.portal.methods[sess.ID]; !slices.Equal(m, []string{"test"}) {
		t.Errorf("session methods %v", m)
	}
}

// What the IdP asserts for access control reaches the sign-in session,
// whose role credentials carry it as session tags — through Atrium's own
// MFA step too, where the sign-in waits in its cookie.
func TestAssertedSessionTagsReachTheSession(t *testing.T) {
	for _, mfa := range []string{federation.MFATrust, federation.MFAAtrium} {
		f := newFedFixture(t, federation.SourceInput{MFA: new(mfa)})
		ctx := context.Background()
		var secret string
		if mfa == federation.MFAAtrium {
			f.setting("mfa.mode", signin.MFARequired)
			e, err := f.signin.BeginTOTPEnrollment(ctx, testStoreID, "u-erin", "Atrium")
			if err != nil {
				t.Fatal(err)
			}
			if err := f.signin.FinishTOTPEnrollment(ctx, testStoreID, "u-erin", e, f.code(e.Secret), ""); err != nil {
				t.Fatal(err)
			}
			secret = e.Secret
		}
		b := f.browser()
		p := b.get("/testidp/corp/start?as=erin@corp.example&team=blue")
		if mfa == federation.MFAAtrium {
			p = b.get("/signin/mfa")
			p = b.post("/signin/mfa", url.Values{"csrf": {p.csrf(t)}, "code": {f.code(secret)}})
		}
		c := b.cookies[sessionCookie]
		if c == nil {
			t.Fatalf("%s: not signed in (status %d)\n%s", mfa, p.status, p.body)
		}
		sess, _ := f.portal.SessionByToken(ctx, c.Value)
		if sess.AssertedTags["Team"] != "blue" {
			t.Fatalf("%s: session tags %v", mfa, sess.AssertedTags)
		}
	}
}

// An IdP (compromised, or merely misconfigured) must not sign in a user of
// another source: above all not a break-glass admin of the built-in directory.
func TestIdPCannotSignInAnotherSourcesUser(t *testing.T) {
	f := newFedFixture(t, federation.SourceInput{JIT: new(true)})
	b := f.browser()
	p := b.get("/testidp/corp/start?as=dave")
	p.want(t, http.StatusForbidden, "no Atrium user for you here")
	if f.signedInAs(t, b) != nil {
		t.Fatal("a built-in user was signed in by an IdP")
	}
}

func TestFederatedSignInRefusesDisabledUsersAndSources(t *testing.T) {
	f := newFedFixture(t, federation.SourceInput{})
	ctx := context.Background()
	f.db.Write(ctx, func(tx store.Tx) error {
		_, err := tx.UpdateUser(ctx, testStoreID, "u-erin", func(u *store.User) error { u.Status = store.UserDisabled; return nil })
		return err
	})
	b := f.browser()
	b.get("/testidp/corp/start?as=erin@corp.example").want(t, http.StatusForbidden)
	if f.signedInAs(t, b) != nil {
		t.Fatal("a disabled user signed in")
	}
	f.db.Write(ctx, func(tx store.Tx) error {
		_, err := tx.UpdateUser(ctx, testStoreID, "u-erin", func(u *store.User) error { u.Status = store.UserEnabled; return nil })
		return err
	})
	if _, err := f.fed.UpdateSource(ctx, federation.SourceInput{Name: "corp", Enabled: new(false)}); err != nil {
		t.Fatal(err)
	}
	b.get("/testidp/corp/start?as=erin@corp.example").want(t, http.StatusForbidden, "not available")
	if f.signedInAs(t, b) != nil {
		t.Fatal("a disabled source signed someone in")
	}
	// A disabled source is not offered, nor routed to.
	p := b.get("/signin")
	if strings.Contains(p.body, "Sign in with corp") {
		t.Error("the sign-in page offers a disabled source")
	}
}

func TestUnknownUserIsCreatedJustInTimeInTheSource(t *testing.T) {
	f := newFedFixture(t, federation.SourceInput{})
	b := f.browser()
	b.get("/testidp/corp/start?as=frank@corp.example").want(t, http.StatusForbidden)
	if _, err := f.fed.UpdateSource(context.Background(), federation.SourceInput{Name: "corp", JIT: new(true)}); err != nil {
		t.Fatal(err)
	}
	p := b.get("/testidp/corp/start?as=frank@corp.example")
	if p.status != http.StatusSeeOther || p.location() != "/start" {
		t.Fatalf("status %d to %q\n%s", p.status, p.location(), p.body)
	}
	var u *store.User
	f.db.Read(context.Background(), func(tx store.Tx) error {
		var err error
		u, err = tx.GetUserByName(context.Background(), testStoreID, "frank@corp.example")
		return err
	})
	if u == nil || u.SourceID != f.corp.ID || u.DisplayName != "Erin Example" || u.Email() != "frank@corp.example" ||
		len(u.ExternalIDs) != 1 || u.ExternalIDs[0].ID != "sub-frank@corp.example" {
		t.Fatalf("created %+v", u)
	}
	if s := f.signedInAs(t, b); s == nil || s.ID != u.ID {
		t.Fatalf("signed in as %+v", s)
	}
}

func TestAtriumMFAAfterTheIdPWhenTheSourceAsks(t *testing.T) {
	f := newFedFixture(t, federation.SourceInput{MFA: new(federation.MFAAtrium)})
	f.setting("mfa.mode", signin.MFARequired)
	b := f.browser()
	// The IdP's response arrives cross-site: a page of ours leads on, so
	// the strict flow cookie is sent.
	p := b.get("/testidp/corp/start?as=erin@corp.example")
	p.want(t, http.StatusOK, `http-equiv="refresh"`, `href="/signin/mfa/enroll"`)
	if f.signedInAs(t, b) != nil {
		t.Fatal("signed in before MFA")
	}
	b.get("/signin/mfa/enroll").want(t, http.StatusOK, "Authenticator")

	// A source that trusts its IdP's MFA asks nothing more.
	if _, err := f.fed.UpdateSource(context.Background(), federation.SourceInput{Name: "corp", MFA: new(federation.MFATrust)}); err != nil {
		t.Fatal(err)
	}
	b = f.browser()
	if p := b.get("/testidp/corp/start?as=erin@corp.example"); p.status != http.StatusSeeOther || f.signedInAs(t, b) == nil {
		t.Fatalf("trusted IdP: status %d\n%s", p.status, p.body)
	}
}

func TestUserNameInAnIdPDomainGoesToTheIdP(t *testing.T) {
	f := newFedFixture(t, federation.SourceInput{})
	b := f.browser()
	p := b.get("/signin?next=" + url.QueryEscape("/start?x=1"))
	p.want(t, http.StatusOK, "Sign in with corp", `href="/testidp/corp/start?next=%2Fstart%3Fx%3D1"`)
	// Any name in the domain goes to the IdP, whether or not it exists.
	for _, name := range []string{"erin@corp.example", "nobody@CORP.example"} {
		sent := b.post("/signin", url.Values{"csrf": {p.csrf(t)}, "username": {name}})
		sent.want(t, http.StatusOK, `http-equiv="refresh"`, `href="/testidp/corp/start?next=`)
		p = b.get("/signin")
	}
	// Other names go on to the password page.
	p = b.get("/signin")
	p = b.post("/signin", url.Values{"csrf": {p.csrf(t)}, "username": {"dave"}})
	if p.location() != "/signin/password" {
		t.Fatalf("dave went to %q", p.location())
	}
}

// An IdP's user holds no password here: even one an admin set by mistake
// does not sign them in around their IdP.
func TestIdPUserCannotSignInWithAPassword(t *testing.T) {
	f := newFedFixture(t, federation.SourceInput{EmailDomains: &[]string{}})
	if err := f.signin.SetPassword(context.Background(), testStoreID, "u-erin", "Erins-Pass-1!", false); err != nil {
		t.Fatal(err)
	}
	b := f.browser()
	p := b.signIn("/start", "erin@corp.example", "Erins-Pass-1!")
	p.want(t, http.StatusUnauthorized, badCredentials)
}

// The place a federated sign-in returns to is ours, whatever the IdP's
// round trip carried.
func TestFederatedSignInIsNoOpenRedirect(t *testing.T) {
	f := newFedFixture(t, federation.SourceInput{})
	for _, next := range []string{"https://evil.example/", "//evil.example", "/\\evil.example", "javascript:alert(1)"} {
		b := f.browser()
		p := b.get("/testidp/corp/start?as=erin@corp.example&next=" + url.QueryEscape(next))
		if p.status != http.StatusSeeOther || p.location() != "/start" {
			t.Errorf("next %q: status %d to %q", next, p.status, p.location())
		}
	}
}
