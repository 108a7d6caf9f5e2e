package oidc_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/atrium-sso/atrium/internal/store"
)

// What a person reads on each refusal (package oidc's messages).
const (
	saysStartAgain = "This sign-in has expired or was started in another browser or tab."
	saysUsed       = "This sign-in was already completed."
	saysRefused    = "The identity provider did not complete the sign-in."
	saysUnverified = "The identity provider's answer could not be verified."
	saysNoEmail    = "The identity provider did not say which email address is yours."
	saysEmailNotOK = "Your email address is not verified at the identity provider."
	saysUnknown    = "This identity provider is not available."
)

func TestSignInThroughOIDCStartsASession(t *testing.T) {
	backends(t, signInStartsASession)
}

func signInStartsASession(t *testing.T, a *atrium) {
	b := newBrowser(t)
	authorize := a.start(b, "corp", "/start")

	q := mustQuery(t, authorize)
	if q.Get("response_type") != "code" || q.Get("code_challenge_method") != "S256" || len(q.Get("code_challenge")) != 43 ||
		q.Get("state") == "" || q.Get("nonce") == "" || q.Get("client_id") != a.op.clientID ||
		q.Get("redirect_uri") != a.url+"/oidc/corp/callback" || q.Get("scope") != "openid email profile" {
		t.Fatalf("authorization request %v", q)
	}
	c := b.cookie(a.url, "__Host-atrium-oidc")
	if c == nil || !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Domain != "" || c.MaxAge != 600 {
		t.Fatalf("flow cookie %+v", c)
	}
	if strings.Contains(c.Value, q.Get("state")) || strings.Contains(c.Value, q.Get("nonce")) {
		t.Fatal("the flow cookie shows its state or nonce in the clear")
	}
	a.signedIn(b.get(a.atIdP(b, authorize)), "/start")
	if b.cookie(a.url, "__Host-atrium-oidc") != nil {
		t.Fatal("the flow cookie outlived the sign-in")
	}
	if p := b.get(a.url + "/start"); p.Status != http.StatusOK || !strings.Contains(p.Body, "AWS access portal") {
		t.Fatalf("the portal answered %d: %.300s", p.Status, p.Body)
	}
}

// The IdP answers at userinfo what the ID token leaves out (Entra ID does).
func TestEmailFromUserInfoWhenTheIDTokenHasNone(t *testing.T) {
	a := newAtrium(t)
	a.op.set(func(op *testOP) {
		op.forge = func(c map[string]any) { delete(c, "email"); delete(c, "email_verified") }
	})
	b := newBrowser(t)
	a.signedIn(b.get(a.atIdP(b, a.start(b, "corp", "/start"))), "/start")
}

// A user's email configured in another claim (EmailClaim) is the one matched.
func TestEmailClaimSettingNamesTheClaimMatched(t *testing.T) {
	a := newAtrium(t)
	a.addSource("upn", a.op, func(cfg map[string]any) { cfg["EmailClaim"] = "upn" })
	src := a.sourceNamed("upn")
	a.addUser("grace@corp.example", "grace@elsewhere.example", src.ID)
	a.op.set(func(op *testOP) {
		op.user = map[string]any{"sub": "sub-grace", "upn": "grace@corp.example", "email": "ada@example.com"}
	})
	b := newBrowser(t)
	a.signedIn(b.get(a.atIdP(b, a.start(b, "upn", "/start"))), "/start")
}

func (a *atrium) sourceNamed(name string) *store.IdentitySource {
	a.t.Helper()
	ctx := context.Background()
	var src *store.IdentitySource
	err := a.db.Read(ctx, func(tx store.Tx) error {
		var err error
		src, err = tx.GetIdentitySourceByName(ctx, a.storeID, name)
		return err
	})
	if err != nil {
		a.t.Fatal(err)
	}
	return src
}

func mustQuery(t *testing.T, raw string) url.Values {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query()
}

// Login CSRF / fixation: an attacker signs in at the IdP as themselves and
// sends the victim the callback URL; the victim's browser holds no flow
// with that state (or another one), so Atrium refuses it.
func TestCallbackWithForeignStateIsRejected(t *testing.T) {
	a := newAtrium(t)
	attacker, victim := newBrowser(t), newBrowser(t)
	planted := a.atIdP(attacker, a.start(attacker, "corp", "/start"))

	a.refused(victim.get(planted), http.StatusBadRequest, saysStartAgain)

	// A victim with a sign-in of their own in progress: still refused, and
	// their own flow is left alone.
	mine := a.atIdP(victim, a.start(victim, "corp", "/start"))
	a.refused(victim.get(planted), http.StatusBadRequest, saysStartAgain)
	a.signedIn(victim.get(mine), "/start")

	// The state alone, without the attacker's cookie, is worth nothing either.
	u, _ := url.Parse(planted)
	q := u.Query()
	q.Set("state", "forged")
	u.RawQuery = q.Encode()
	a.refused(attacker.get(u.String()), http.StatusBadRequest, saysStartAgain)
}

// A flow begun for one IdP cannot be finished at another's callback.
func TestFlowOfAnotherSourceIsRejected(t *testing.T) {
	a := newAtrium(t)
	a.addSource("other", a.op, nil)
	b := newBrowser(t)
	callback := a.atIdP(b, a.start(b, "corp", "/start"))
	a.refused(b.get(strings.Replace(callback, "/oidc/corp/", "/oidc/other/", 1)), http.StatusBadRequest, saysStartAgain)
}

// The same callback (URL and cookie) presented twice: the state is spent.
func TestReplayedCallbackIsRejected(t *testing.T) {
	backends(t, replayedCallbackIsRejected)
}

func replayedCallbackIsRejected(t *testing.T, a *atrium) {
	b := newBrowser(t)
	callback := a.atIdP(b, a.start(b, "corp", "/start"))
	flow := *b.cookie(a.url, "__Host-atrium-oidc")
	a.signedIn(b.get(callback), "/start")

	thief := newBrowser(t)
	thief.setCookie(a.url, &flow)
	a.refused(thief.get(callback), http.StatusBadRequest, saysUsed)
}

// An ID token the IdP issued for an earlier sign-in, replayed into a new
// one (through a token endpoint an attacker controls or a mix-up): its
// nonce is the old flow's, not this browser's.
func TestReplayedIDTokenNonceIsRejected(t *testing.T) {
	a := newAtrium(t)
	first := newBrowser(t)
	a.signedIn(first.get(a.atIdP(first, a.start(first, "corp", "/start"))), "/start")
	a.op.set(func(op *testOP) { op.replay = op.issued[0] })

	b := newBrowser(t)
	a.refused(b.get(a.atIdP(b, a.start(b, "corp", "/start"))), http.StatusForbidden, saysUnverified)
	a.logged("nonce is not this flow's")
}

// Code injection: an attacker's authorization code (bound to the attacker's
// PKCE challenge and nonce) pasted into the victim's callback, with the
// victim's state and cookie. The IdP refuses the victim's verifier; and an
// IdP that forgets PKCE still hands back a token with the attacker's nonce.
func TestCodeInjectionFromAnotherSessionIsRejected(t *testing.T) {
	a := newAtrium(t)
	inject := func(victim, attacker *browser) page {
		stolen := mustQuery(t, a.atIdP(attacker, a.start(attacker, "corp", "/start"))).Get("code")
		u, _ := url.Parse(a.atIdP(victim, a.start(victim, "corp", "/start")))
		q := u.Query()
		q.Set("code", stolen)
		u.RawQuery = q.Encode()
		return victim.get(u.String())
	}
	a.refused(inject(newBrowser(t), newBrowser(t)), http.StatusBadRequest, saysStartAgain)
	a.logged("the IdP refused the code")

	a.op.set(func(op *testOP) { op.ignorePKCE = true })
	a.refused(inject(newBrowser(t), newBrowser(t)), http.StatusForbidden, saysUnverified)
	a.logged("nonce is not this flow's")
}

// forgedTokenIsRejected signs in through an IdP set to hand out a bad ID
// token: it reaches Atrium through the real token endpoint, so only the
// verification stands in the way.
func forgedTokenIsRejected(t *testing.T, because string, set func(op *testOP)) {
	t.Helper()
	a := newAtrium(t)
	a.op.set(set)
	b := newBrowser(t)
	a.refused(b.get(a.atIdP(b, a.start(b, "corp", "/start"))), http.StatusForbidden, saysUnverified)
	a.logged(because)
}

// logged checks the server log says why (and so that the refusal was for
// the reason the test means).
func (a *atrium) logged(reason string) {
	a.t.Helper()
	if !strings.Contains(a.log.String(), reason) {
		a.t.Fatalf("the server log does not say %q:\n%s", reason, a.log)
	}
}

func TestIDTokenSignedByAnotherKeyIsRejected(t *testing.T) {
	forgedTokenIsRejected(t, "failed to verify id token signature", func(op *testOP) { op.signWith = "other" })
}

func TestIDTokenWithAlgNoneIsRejected(t *testing.T) {
	forgedTokenIsRejected(t, "malformed jwt: unexpected signature algorithm", func(op *testOP) { op.signWith = "none" })
}

func TestIDTokenForAnotherAudienceIsRejected(t *testing.T) {
	forgedTokenIsRejected(t, "expected audience", func(op *testOP) { op.forge = func(c map[string]any) { c["aud"] = "another-client" } })
}

func TestIDTokenFromAnotherIssuerIsRejected(t *testing.T) {
	forgedTokenIsRejected(t, "issued by a different provider", func(op *testOP) { op.forge = func(c map[string]any) { c["iss"] = "https://evil.example" } })
}

func TestExpiredIDTokenIsRejected(t *testing.T) {
	forgedTokenIsRejected(t, "token is expired", func(op *testOP) {
		op.forge = func(c map[string]any) { c["exp"] = time.Now().Add(-time.Minute).Unix() }
	})
}

func TestNotYetValidIDTokenIsRejected(t *testing.T) {
	forgedTokenIsRejected(t, "before the nbf", func(op *testOP) {
		op.forge = func(c map[string]any) { c["nbf"] = time.Now().Add(time.Hour).Unix() }
	})
}

func TestIDTokenWithoutNonceIsRejected(t *testing.T) {
	forgedTokenIsRejected(t, "nonce is not this flow's", func(op *testOP) { op.forge = func(c map[string]any) { delete(c, "nonce") } })
}

// An access token swapped in beside a genuine ID token: at_hash no longer matches.
func TestIDTokenWithAnotherAccessTokensHashIsRejected(t *testing.T) {
	forgedTokenIsRejected(t, "access token hash does not match", func(op *testOP) { op.forge = func(c map[string]any) { c["at_hash"] = "AAAAAAAAAAAAAAAAAAAAAA" } })
}

func TestUnverifiedEmailIsRejected(t *testing.T) {
	a := newAtrium(t)
	for _, v := range []any{false, "false"} {
		a.op.set(func(op *testOP) { op.forge = func(c map[string]any) { c["email_verified"] = v } })
		b := newBrowser(t)
		a.refused(b.get(a.atIdP(b, a.start(b, "corp", "/start"))), http.StatusForbidden, saysEmailNotOK)
	}
	// Cognito's string "true" is a yes.
	a.op.set(func(op *testOP) { op.forge = func(c map[string]any) { c["email_verified"] = "true" } })
	b := newBrowser(t)
	a.signedIn(b.get(a.atIdP(b, a.start(b, "corp", "/start"))), "/start")
}

func TestIDTokenWithoutEmailIsRejected(t *testing.T) {
	a := newAtrium(t)
	// Neither the ID token nor userinfo names an email.
	a.op.set(func(op *testOP) { op.user = map[string]any{"sub": "sub-nobody", "name": "Nobody"} })
	b := newBrowser(t)
	a.refused(b.get(a.atIdP(b, a.start(b, "corp", "/start"))), http.StatusForbidden, saysNoEmail)
}

// Open redirect: whatever next says, the browser ends up on Atrium.
func TestOpenRedirectViaNextIsRejected(t *testing.T) {
	a := newAtrium(t)
	for _, next := range []string{"https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)",
		"http:evil.example", "\t//evil.example", "/%0d%0aSet-Cookie:x=y"} {
		b := newBrowser(t)
		p := b.get(a.atIdP(b, a.start(b, "corp", next)))
		if p.Status != http.StatusSeeOther || !strings.HasPrefix(p.Location, a.url+"/") {
			t.Fatalf("next %q: the sign-in ended with %d to %q", next, p.Status, p.Location)
		}
	}
	b := newBrowser(t)
	a.signedIn(b.get(a.atIdP(b, a.start(b, "corp", "/start?x=1"))), "/start?x=1")
}

// The IdP says no (the person pressed Cancel): a plain refusal page that
// repeats nothing the IdP (or whoever forged the URL) wrote.
func TestIdPErrorIsRefusedWithoutEchoingIt(t *testing.T) {
	a := newAtrium(t)
	b := newBrowser(t)
	q := mustQuery(t, a.start(b, "corp", "/start"))
	p := b.get(a.url + "/oidc/corp/callback?" + url.Values{"state": {q.Get("state")},
		"error": {"access_denied"}, "error_description": {"<script>alert(1)</script> call +1 555 0100"}}.Encode())
	a.refused(p, http.StatusForbidden, saysRefused)
	if strings.Contains(p.Body, "555 0100") || strings.Contains(p.Body, "access_denied") {
		t.Fatalf("the refusal repeats the IdP's words: %s", p.Body)
	}
}

// RFC 9207: a callback naming another issuer (an IdP mix-up) is refused.
func TestCallbackFromAnotherIssuerIsRejected(t *testing.T) {
	a := newAtrium(t)
	b := newBrowser(t)
	u, _ := url.Parse(a.atIdP(b, a.start(b, "corp", "/start")))
	q := u.Query()
	q.Set("iss", "https://evil.example")
	u.RawQuery = q.Encode()
	a.refused(b.get(u.String()), http.StatusBadRequest, saysUnverified)
}

// An IdP may not sign in a user of the built-in directory (a break-glass
// admin) or of another source, even with the right email.
func TestUserOfAnotherSourceIsRejected(t *testing.T) {
	a := newAtrium(t)
	a.addUser("root-admin", "boss@example.com", "")
	a.op.set(func(op *testOP) {
		op.user = map[string]any{"sub": "sub-boss", "email": "boss@example.com", "email_verified": true}
	})
	b := newBrowser(t)
	p := b.get(a.atIdP(b, a.start(b, "corp", "/start")))
	if p.Status != http.StatusForbidden {
		t.Fatalf("a directory user signed in through the IdP: %d %q", p.Status, p.Location)
	}
}

func TestUnknownOrDisabledSourceIsRefused(t *testing.T) {
	a := newAtrium(t)
	b := newBrowser(t)
	a.refused(b.get(a.url+"/oidc/nosuch/start"), http.StatusNotFound, saysUnknown)
	a.refused(b.get(a.url+"/oidc/nosuch/callback?code=x&state=y"), http.StatusNotFound, saysUnknown)

	callback := a.atIdP(b, a.start(b, "corp", "/start"))
	ctx := context.Background()
	err := a.db.Write(ctx, func(tx store.Tx) error {
		_, err := tx.UpdateIdentitySource(ctx, a.storeID, a.source.ID, func(s *store.IdentitySource) error { s.Enabled = false; return nil })
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond) // federation caches sources for a second
	a.refused(b.get(a.url+"/oidc/corp/start"), http.StatusNotFound, saysUnknown)
	a.refused(b.get(callback), http.StatusNotFound, saysUnknown)
}

// The IdP cannot be reached: a clear page, no details, no 500.
func TestUnreachableIdPIsAClearRefusal(t *testing.T) {
	a := newAtrium(t)
	a.addSource("gone", a.op, func(cfg map[string]any) { cfg["Issuer"] = "http://127.0.0.1:1" })
	b := newBrowser(t)
	p := b.get(a.url + "/oidc/gone/start")
	a.refused(p, http.StatusBadGateway, "cannot be reached")
	if strings.Contains(p.Body, "127.0.0.1:1") || strings.Contains(p.Body, "connection refused") {
		t.Fatalf("the page tells the cause: %s", p.Body)
	}
}

// Two people signing in at once in one server: each finishes their own flow.
func TestConcurrentSignInsStayApart(t *testing.T) {
	a := newAtrium(t)
	a.addUser("grace", "grace@example.com", a.source.ID)
	ada, grace := newBrowser(t), newBrowser(t)
	adaAuth := a.start(ada, "corp", "/start")
	graceAuth := a.start(grace, "corp", "/start")
	adaBack := a.atIdP(ada, adaAuth)
	a.op.set(func(op *testOP) {
		op.user = map[string]any{"sub": "sub-grace", "email": "grace@example.com", "email_verified": true}
	})
	graceBack := a.atIdP(grace, graceAuth)
	// Crossed over, each callback is refused; in its own browser each works.
	a.refused(ada.get(graceBack), http.StatusBadRequest, saysStartAgain)
	a.signedIn(grace.get(graceBack), "/start")
	a.signedIn(ada.get(adaBack), "/start")
}

// MFA per source: with "atrium", the IdP's word is not the end; Atrium's
// own MFA comes next (the instance requires it by default), before any session.
func TestAtriumMFAFollowsTheIdPWhenTheSourceAsks(t *testing.T) {
	a := newAtrium(t)
	ctx := context.Background()
	err := a.db.Write(ctx, func(tx store.Tx) error {
		_, err := tx.UpdateIdentitySource(ctx, a.storeID, a.source.ID, func(s *store.IdentitySource) error { s.MFA = "atrium"; return nil })
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond) // federation caches sources for a second
	b := newBrowser(t)
	p := b.get(a.atIdP(b, a.start(b, "corp", "/start")))
	if p.Status != http.StatusOK || !strings.Contains(p.Body, "MFA") {
		t.Fatalf("callback answered %d to %q: %.500s", p.Status, p.Location, p.Body)
	}
	for _, c := range p.Cookies {
		if c.Name == sessionCookie && c.Value != "" {
			t.Fatal("a session started before Atrium's MFA")
		}
	}
}

// A public client (no secret, as Google and Entra ID allow for native
// apps, and Keycloak for public clients) proves itself with PKCE alone.
func TestPublicClientSignsInWithPKCEAlone(t *testing.T) {
	a := newAtrium(t)
	a.op.set(func(op *testOP) { op.secret = "" })
	a.addSource("public", a.op, func(cfg map[string]any) { delete(cfg, "ClientSecret") })
	a.addUser("grace", "grace@example.com", a.sourceNamed("public").ID)
	a.op.set(func(op *testOP) {
		op.user = map[string]any{"sub": "sub-grace", "email": "grace@example.com", "email_verified": true}
	})
	b := newBrowser(t)
	a.signedIn(b.get(a.atIdP(b, a.start(b, "public", "/start"))), "/start")
	a.op.set(func(op *testOP) {
		last := op.tokenRequests[len(op.tokenRequests)-1]
		if last.basic || last.form.Get("client_id") != op.clientID || last.form.Has("client_secret") || len(last.form.Get("code_verifier")) != 43 {
			t.Fatalf("token request of a public client: basic=%v %v", last.basic, last.form)
		}
	})
}

// Just-in-time creation gets the person's names from the ID token's claims.
func TestJustInTimeUserGetsTheIdPsNames(t *testing.T) {
	a := newAtrium(t)
	ctx := context.Background()
	err := a.db.Write(ctx, func(tx store.Tx) error {
		_, err := tx.UpdateIdentitySource(ctx, a.storeID, a.source.ID, func(s *store.IdentitySource) error { s.JIT = true; return nil })
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond) // federation caches sources for a second
	a.op.set(func(op *testOP) {
		op.user = map[string]any{"sub": "sub-nora", "email": "nora@example.com", "email_verified": true,
			"name": "Nora Newcomer", "given_name": "Nora", "family_name": "Newcomer"}
	})
	b := newBrowser(t)
	a.signedIn(b.get(a.atIdP(b, a.start(b, "corp", "/start"))), "/start")
	var u *store.User
	err = a.db.Read(ctx, func(tx store.Tx) error {
		var err error
		u, err = tx.GetUserByName(ctx, a.storeID, "nora@example.com")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if u.SourceID != a.source.ID || u.DisplayName != "Nora Newcomer" || u.Profile.Name == nil ||
		u.Profile.Name.GivenName != "Nora" || u.Profile.Name.FamilyName != "Newcomer" || u.Email() != "nora@example.com" {
		t.Fatalf("created %+v (name %+v)", u, u.Profile.Name)
	}
}

// An IdP that is down is not asked again at every sign-in click: a burst of
// clicks waits on one discovery, and its failure is answered from memory
// for a while, so a crowd (or an attacker) at the sign-in page cannot pin
// a goroutine per click on a slow IdP or hammer a failing one.
func TestDiscoveryOfADownIdPIsNotRepeatedPerClick(t *testing.T) {
	a := newAtrium(t)
	a.op.set(func(op *testOP) { op.discoveryDown, op.discoveryDelay, op.discoveries = true, 300*time.Millisecond, 0 })
	var wg sync.WaitGroup
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if p := newBrowser(t).get(a.url + "/oidc/corp/start"); p.Status != http.StatusBadGateway {
				t.Errorf("start with the IdP down answered %d", p.Status)
			}
		}()
	}
	wg.Wait()
	// Up again, but its failure is still fresh: refused without asking.
	a.op.set(func(op *testOP) { op.discoveryDown, op.discoveryDelay = false, 0 })
	if p := newBrowser(t).get(a.url + "/oidc/corp/start"); p.Status != http.StatusBadGateway {
		t.Errorf("start right after the failure answered %d", p.Status)
	}
	a.op.set(func(op *testOP) {
		if op.discoveries != 1 {
			t.Errorf("11 sign-in clicks made %d discovery requests, want 1", op.discoveries)
		}
	})
}
