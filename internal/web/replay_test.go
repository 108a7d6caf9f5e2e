package web

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/atrium-sso/atrium/internal/signin"
	"github.com/atrium-sso/atrium/internal/store"
)

// replay puts a captured flow cookie into a browser, as whoever copied it
// (from a shared machine, a proxy log, a backup) would.
func (b *browser) replay(cookie *http.Cookie) {
	b.cookies[flowCookie] = &http.Cookie{Name: flowCookie, Value: cookie.Value}
}

// A flow cookie captured after the password (at the new-password step) is
// worth nothing once its owner has set the new password: replayed, it
// cannot set another password, nor sign anyone in.
func TestReplayedSignInFlowCookieIsRejectedAtNewPassword(t *testing.T) {
	f := newFixture(t)
	b := f.browser()
	p := b.get("/signin")
	p = b.follow(b.post("/signin", url.Values{"csrf": {p.csrf(t)}, "username": {"alice"}}))
	p = b.follow(b.post("/signin/password", url.Values{"csrf": {p.csrf(t)}, "password": {alicePassword}}))
	p.want(t, 200, "New password")
	captured, token := b.cookies[flowCookie], p.csrf(t)

	if p := b.post("/signin/new-password", url.Values{"csrf": {token}, "new_password": {aliceNewPassword}, "confirm_password": {aliceNewPassword}}); p.location() != "/start" {
		t.Fatalf("the owner's new password: %d %q", p.status, p.location())
	}
	sessions := len(f.portal.sessions)

	attacker := f.browser()
	attacker.replay(captured)
	p = attacker.post("/signin/new-password", url.Values{"csrf": {token}, "new_password": {"Attackers-Pass-3!"}, "confirm_password": {"Attackers-Pass-3!"}})
	p.want(t, http.StatusForbidden, "Sign-in already used")
	if attacker.cookies[sessionCookie] != nil || len(f.portal.sessions) != sessions {
		t.Fatal("the replayed cookie got a session")
	}
	if _, err := f.signin.CheckPassword(context.Background(), testStoreID, "alice", "Attackers-Pass-3!", "192.0.2.1"); err == nil {
		t.Fatal("the replayed cookie set alice's password")
	}
	if _, err := f.signin.CheckPassword(context.Background(), testStoreID, "alice", aliceNewPassword, "192.0.2.1"); err != nil {
		t.Fatalf("alice's own password: %v", err)
	}
}

// Two requests racing with the same new-password cookie: one sets the
// password, the other is refused.
func TestReplayedSignInFlowCookieIsRejectedWhenRaced(t *testing.T) {
	f := newFixture(t)
	b := f.browser()
	p := b.get("/signin")
	p = b.follow(b.post("/signin", url.Values{"csrf": {p.csrf(t)}, "username": {"alice"}}))
	p = b.follow(b.post("/signin/password", url.Values{"csrf": {p.csrf(t)}, "password": {alicePassword}}))
	captured, token := b.cookies[flowCookie], p.csrf(t)
	results := make(chan int, 2)
	for _, pw := range []string{aliceNewPassword, "Attackers-Pass-3!"} {
		go func() {
			c := f.browser()
			c.replay(captured)
			results <- c.post("/signin/new-password", url.Values{"csrf": {token}, "new_password": {pw}, "confirm_password": {pw}}).status
		}()
	}
	a, c := <-results, <-results
	if (a == http.StatusSeeOther) == (c == http.StatusSeeOther) || (a != http.StatusForbidden && c != http.StatusForbidden) {
		t.Fatalf("racing replays answered %d and %d; want one 303 and one 403", a, c)
	}
}

// A cookie captured at the MFA registration step cannot register the
// attacker's own authenticator app once the owner has registered theirs —
// and with the owner's wrong code on the first try, the retry form works
// while the captured cookie still does not.
func TestReplayedSignInFlowCookieIsRejectedAtMFAEnroll(t *testing.T) {
	f := newFixture(t)
	f.setting("mfa.mode", signin.MFARequired)
	b := f.browser()
	p := b.get("/signin")
	p = b.follow(b.post("/signin", url.Values{"csrf": {p.csrf(t)}, "username": {"dave"}}))
	p = b.follow(b.post("/signin/password", url.Values{"csrf": {p.csrf(t)}, "password": {davePassword}}))
	p.want(t, 200, "Register authenticator app")
	captured, token, secret := b.cookies[flowCookie], p.csrf(t), totpSecret(t, p)

	good := f.code(secret)
	again := b.post("/signin/mfa/enroll/totp", url.Values{"csrf": {token}, "code": {wrong(good)}})
	again.want(t, 401, badCode)
	if p := b.post("/signin/mfa/enroll/totp", url.Values{"csrf": {again.csrf(t)}, "code": {good}}); p.location() != "/start" {
		t.Fatalf("the owner's registration: %d %q", p.status, p.location())
	}
	sessions := len(f.portal.sessions)

	attacker := f.browser()
	attacker.replay(captured)
	p = attacker.post("/signin/mfa/enroll/totp", url.Values{"csrf": {token}, "code": {f.code(secret)}})
	p.want(t, http.StatusForbidden, "Sign-in already used")
	if attacker.cookies[sessionCookie] != nil || len(f.portal.sessions) != sessions {
		t.Fatal("the replayed cookie got a session")
	}
	devices, err := f.signin.MFADevices(context.Background(), testStoreID, "u-dave")
	if err != nil || len(devices) != 1 {
		t.Fatalf("dave's devices after the replay: %+v, %v", devices, err)
	}
}

// Finishing a sign-in kills its flow for good: the browser that finished
// (or anyone with a copy of its cookie) cannot finish it again, even with
// another valid code.
func TestReplayedSignInFlowCookieIsRejectedAfterFinishing(t *testing.T) {
	f := newFixture(t)
	b := f.browser()
	p := b.get("/signin")
	p = b.follow(b.post("/signin", url.Values{"csrf": {p.csrf(t)}, "username": {"bob"}}))
	p = b.follow(b.post("/signin/password", url.Values{"csrf": {p.csrf(t)}, "password": {bobPassword}}))
	captured, token := b.cookies[flowCookie], p.csrf(t)
	if p := b.post("/signin/mfa", url.Values{"csrf": {token}, "code": {f.code(f.bobSecret)}}); p.location() != "/start" {
		t.Fatalf("bob's sign-in: %d %q", p.status, p.location())
	}
	sessions := len(f.portal.sessions)
	b.replay(captured)
	p = b.post("/signin/mfa", url.Values{"csrf": {token}, "code": {f.code(f.bobSecret)}})
	p.want(t, http.StatusForbidden, "Sign-in already used")
	if len(f.portal.sessions) != sessions {
		t.Fatal("a finished flow made a second session")
	}
}

// A browser remembered for "prompt only in a new context" is asked for MFA
// again after the user's password is changed or an MFA device removed.
func TestRememberedBrowserIsAskedAgainAfterCredentialsChange(t *testing.T) {
	for name, change := range map[string]func(f *fixture){
		"password set by an administrator": func(f *fixture) {
			if err := f.signin.SetPassword(context.Background(), testStoreID, "u-bob", bobPassword+"x", false); err != nil {
				t.Fatal(err)
			}
		},
		"device removed": func(f *fixture) {
			ctx := context.Background()
			e, err := f.signin.BeginTOTPEnrollment(ctx, testStoreID, "u-bob", "Atrium")
			if err != nil {
				t.Fatal(err)
			}
			if err := f.signin.FinishTOTPEnrollment(ctx, testStoreID, "u-bob", e, f.code(e.Secret), "spare"); err != nil {
				t.Fatal(err)
			}
			// The app the browser was remembered with goes (a lost phone); a spare stays.
			devices, _ := f.signin.MFADevices(ctx, testStoreID, "u-bob")
			if err := f.signin.DeleteMFADevice(ctx, testStoreID, "u-bob", devices[0].ID); err != nil {
				t.Fatal(err)
			}
		},
	} {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			f.setting("mfa.prompt", signin.PromptNewContext)
			b := f.browser()
			p := b.get("/signin")
			p = b.follow(b.post("/signin", url.Values{"csrf": {p.csrf(t)}, "username": {"bob"}}))
			p = b.follow(b.post("/signin/password", url.Values{"csrf": {p.csrf(t)}, "password": {bobPassword}}))
			if p := b.post("/signin/mfa", url.Values{"csrf": {p.csrf(t)}, "code": {f.code(f.bobSecret)}, "trust": {"1"}}); p.location() != "/start" || b.cookies[deviceCookie] == nil {
				t.Fatalf("trusting the browser: %d %q", p.status, p.location())
			}
			delete(b.cookies, sessionCookie)
			change(f)
			password := bobPassword
			if strings.HasPrefix(name, "password") {
				password += "x"
			}
			p = b.get("/signin")
			p = b.follow(b.post("/signin", url.Values{"csrf": {p.csrf(t)}, "username": {"bob"}}))
			if p := b.post("/signin/password", url.Values{"csrf": {p.csrf(t)}, "password": {password}}); p.location() != "/signin/mfa" {
				t.Fatalf("after the %s the browser still skips MFA: %d %q", name, p.status, p.location())
			}
		})
	}
}

// A sign-in through the pages leaves its CloudTrail-style records: each
// credential asked for and checked, the finished sign-in, all with the
// browser's address and one workflow id, and never the password.
func TestSignInThroughPagesIsAudited(t *testing.T) {
	f := newFixture(t)
	b := f.browser()
	p := b.get("/signin")
	p = b.follow(b.post("/signin", url.Values{"csrf": {p.csrf(t)}, "username": {"bob"}}))
	bad := b.post("/signin/password", url.Values{"csrf": {p.csrf(t)}, "password": {"Not-Bobs-Pass-1!"}})
	bad.want(t, 401, badCredentials)
	p = b.follow(b.post("/signin/password", url.Values{"csrf": {bad.csrf(t)}, "password": {bobPassword}}))
	if p := b.post("/signin/mfa", url.Values{"csrf": {p.csrf(t)}, "code": {f.code(f.bobSecret)}}); p.location() != "/start" {
		t.Fatalf("sign-in: %d %q", p.status, p.location())
	}
	var events []store.AuditEvent
	f.db.Read(context.Background(), func(tx store.Tx) error {
		var err error
		events, err = tx.ListAudit(context.Background(), store.AuditCursor{}, 100)
		return err
	})
	count := map[string]int{}
	workflows := map[string]bool{}
	for _, e := range events {
		if strings.Contains(e.RequestParams+e.ErrorMessage, bobPassword) || strings.Contains(e.RequestParams, "Not-Bobs-Pass-1!") {
			t.Fatalf("a password is in the audit record %+v", e)
		}
		if e.Source != signin.SigninEventSource {
			continue
		}
		var params map[string]string
		json.Unmarshal([]byte(e.RequestParams), &params)
		if e.SourceIP != "127.0.0.1" || params["UserId"] != "u-bob" {
			t.Fatalf("sign-in record without its source or user: %+v", e)
		}
		workflows[params["AuthWorkflowID"]] = true
		key := e.EventName + " " + params["CredentialType"]
		if e.ErrorCode != "" {
			key += " failed"
		}
		count[key]++
	}
	want := map[string]int{"CredentialChallenge PASSWORD": 2, "CredentialVerification PASSWORD failed": 1, "CredentialVerification PASSWORD": 1,
		"CredentialChallenge TOTP": 1, "CredentialVerification TOTP": 1, "UserAuthentication PASSWORD,TOTP": 1}
	for k, n := range want {
		if count[k] != n {
			t.Errorf("%q recorded %d times, want %d (all: %v)", k, count[k], n, count)
		}
	}
	if len(workflows) != 1 || workflows[""] {
		t.Fatalf("the records name workflows %v; want one", workflows)
	}
}
