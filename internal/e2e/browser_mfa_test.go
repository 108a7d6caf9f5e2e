package e2e

import (
	"database/sql"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

type mfaDevicesPage struct {
	Heading, Notice, Alert string
	Devices                []struct{ Name, Kind, Added, LastUsed string }
	CanAdd                 bool // an authenticator app can be registered
	MustConfirm            bool // adding a device asks to confirm who it is first
}

// refusedAs drains the browser's console after a page answered with an
// expected error status: the only problem may be that status.
func (p *person) refusedAs(status string) {
	p.t.Helper()
	var out struct{ Problems []string }
	p.do("problems", nil, &out)
	for _, msg := range out.Problems {
		if !strings.Contains(msg, "status of "+status) {
			p.t.Fatalf("the browser reported a problem: %s", msg)
		}
	}
}

func (m mfaDevicesPage) names() []string {
	var out []string
	for _, d := range m.Devices {
		out = append(out, d.Name+" ("+d.Kind+")")
	}
	return out
}

// After signing in, a person manages their MFA devices in Chromium: from
// the portal to the devices page, a security key added with the virtual
// authenticator, the authenticator app removed by confirming with that
// key, and the last device kept while MFA is required. The page's only
// script is the WebAuthn one, under the strict CSP: no console errors.
func TestBrowserManagesMFADevices(t *testing.T) {
	chromium := requireBrowser(t)
	s := newPortalScene(t)
	p := newPerson(t, chromium)
	otp := oneTimePassword(t, s.n, "ada")
	p.do("addSecurityKey", nil, nil)

	p.open(s.web + "/start")
	first := p.signIn("ada", otp, "Ada-Own-Passw0rd!", "", "totp")
	var page mfaDevicesPage
	p.do("mfaDevices", nil, &page)
	if page.Heading != "MFA devices" || !slices.Equal(page.names(), []string{"Authenticator app (Authenticator app)"}) || page.Devices[0].LastUsed != "Never" {
		t.Fatalf("devices page: %+v", page)
	}
	p.do("addKeyOnDevicesPage", map[string]any{"name": "Desk key"}, &page)
	if page.Notice != "The device was registered." || !slices.Equal(page.names(), []string{"Authenticator app (Authenticator app)", "Desk key (Security key)"}) {
		t.Fatalf("after adding a key: %+v", page)
	}
	if !page.CanAdd || page.MustConfirm {
		t.Fatalf("right after signing in, adding a device needs no confirmation: %+v", page)
	}
	// An hour later the same browser must confirm it is still her before
	// it is offered another device: with the key just added, and then it is.
	ageSignIns(t, s.n)
	p.do("reloadDevicesPage", nil, &page)
	if page.CanAdd || !page.MustConfirm {
		t.Fatalf("an hour after signing in, adding is offered without confirming: %+v", page)
	}
	p.do("confirmOnDevicesPage", map[string]any{"proof": "webauthn"}, &page)
	if !strings.HasPrefix(page.Notice, "Confirmed.") || !page.CanAdd || page.MustConfirm {
		t.Fatalf("confirming with the security key: %+v", page)
	}
	p.do("removeDevice", map[string]any{"name": "Authenticator app", "proof": "password", "password": "not-her-password"}, &page)
	if !strings.Contains(page.Alert, "did not confirm it is you") || len(page.Devices) != 2 {
		t.Fatalf("a wrong password removed a device: %+v", page)
	}
	p.refusedAs("401")
	p.do("removeDevice", map[string]any{"name": "Authenticator app", "proof": "webauthn"}, &page)
	if page.Notice != "The device was removed." || !slices.Equal(page.names(), []string{"Desk key (Security key)"}) {
		t.Fatalf("after removing the app with the key: %+v", page)
	}
	p.do("removeDevice", map[string]any{"name": "Desk key", "proof": "password", "password": "Ada-Own-Passw0rd!"}, &page)
	if !strings.Contains(page.Alert, "register another device before removing your only one") || len(page.Devices) != 1 {
		t.Fatalf("the last device with MFA required: %+v", page)
	}
	p.refusedAs("409")
	p.signOut()
	p.open(s.web + "/start")
	again := p.signIn("ada", "Ada-Own-Passw0rd!", "", first.Secret, "webauthn")
	if want := []string{"/signin", "/signin/password", "/signin/mfa"}; !slices.Equal(again.Seen, want) || again.Heading != "AWS access portal" {
		t.Fatalf("signing in with the key that is left went through %v to %q", again.Seen, again.Heading)
	}
	p.noProblems()
}

// ageSignIns makes every portal session of the node (on SQLite) look
// signed in an hour ago, and waits out the portal's session cache.
func ageSignIns(t *testing.T, n *node) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(n.Data, "atrium.db")+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctxT(t), `UPDATE portal_sessions SET created_at = ?`, time.Now().Add(-time.Hour).UnixMilli()); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond)
}
