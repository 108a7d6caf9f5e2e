package web

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/atrium-sso/atrium/internal/signin"
)

var ceremonyAttr = regexp.MustCompile(`data-webauthn="(get|create)" data-options="([^"]+)"`)

// ceremony is the WebAuthn options of kind ("get" or "create") on a page.
func ceremony(t *testing.T, p *page, kind string) []byte {
	t.Helper()
	for _, m := range ceremonyAttr.FindAllStringSubmatch(p.body, -1) {
		if m[1] == kind {
			return []byte(html.UnescapeString(m[2]))
		}
	}
	t.Fatalf("no %q WebAuthn options on %s", kind, p.url)
	return nil
}

var deviceRadio = regexp.MustCompile(`name="device" value="([^"]+)" required> <label for="device-\d+">([^(]+) \(`)

// deviceIDs are the devices a page offers to remove, by name.
func deviceIDs(p *page) map[string]string {
	out := map[string]string{}
	for _, m := range deviceRadio.FindAllStringSubmatch(p.body, -1) {
		out[strings.TrimSpace(html.UnescapeString(m[2]))] = m[1]
	}
	return out
}

func (f *fixture) devices(userID string) int {
	f.t.Helper()
	list, err := f.signin.MFADevices(context.Background(), testStoreID, userID)
	if err != nil {
		f.t.Fatal(err)
	}
	return len(list)
}

// From the portal a person reaches their MFA devices, adds an app (up to
// two) and removes one after entering their password.
func TestMFADevicesPageAddsAndRemovesApps(t *testing.T) {
	f := newFixture(t)
	b := f.browser()
	p := b.follow(b.signIn("/start", "bob", bobPassword))
	p.want(t, 200, `href="/start/mfa"`)
	p = b.get("/start/mfa")
	p.want(t, 200, "<h1>MFA devices</h1>", `<th scope="row">Authenticator app</th>`, "Last used", `for="code">Authenticator code</label>`,
		`for="app-name">Device name</label>`, `for="remove-password">Password</label>`, "<legend>Device to remove</legend>", "Register security key")
	secret := totpSecret(t, p)
	if qr := b.get("/start/mfa/qr.png"); qr.status != 200 || !strings.HasPrefix(qr.body, "\x89PNG") {
		t.Fatalf("QR code = %d", qr.status)
	}
	good := f.code(secret)
	bad := b.post("/start/mfa/totp", url.Values{"csrf": {p.csrf(t)}, "code": {wrong(good)}, "name": {"Work phone"}})
	bad.want(t, 401, badCode)
	if totpSecret(t, bad) != secret {
		t.Fatal("a wrong code changed the key being registered")
	}
	p = b.post("/start/mfa/totp", url.Values{"csrf": {bad.csrf(t)}, "code": {good}, "name": {"Work phone"}})
	if p.location() != "/start/mfa?done=added" {
		t.Fatalf("adding the app: %d %q\n%s", p.status, p.location(), p.body)
	}
	p = b.follow(p)
	p.want(t, 200, "The device was registered.", `<th scope="row">Work phone</th>`, "You have the most authenticator apps allowed (2).")
	if strings.Contains(p.body, `action="/start/mfa/totp"`) {
		t.Fatal("a third app is offered")
	}

	ids := deviceIDs(p)
	if len(ids) != 2 || ids["Work phone"] == "" {
		t.Fatalf("devices offered for removal: %v", ids)
	}
	refused := b.post("/start/mfa/remove", url.Values{"csrf": {p.csrf(t)}, "device": {ids["Work phone"]}, "password": {"Not-Bobs-Pass-1!"}})
	refused.want(t, 401, badProof)
	p = b.post("/start/mfa/remove", url.Values{"csrf": {refused.csrf(t)}, "device": {ids["Work phone"]}, "password": {bobPassword}})
	if p.location() != "/start/mfa?done=removed" {
		t.Fatalf("removing with the password: %d %q\n%s", p.status, p.location(), p.body)
	}
	p = b.follow(p)
	p.want(t, 200, "The device was removed.")
	if strings.Contains(p.body, "Work phone") || f.devices("u-bob") != 1 {
		t.Fatal("the app was not removed")
	}
}

// Whoever holds a signed-in browser (or its stolen session cookie) cannot
// remove an MFA device without proving again who they are: no proof, a
// wrong code, a replayed code and a wrong password are all refused; and
// no other site's page can post the form.
func TestMFADeviceRemovalWithoutReauthenticationIsRefused(t *testing.T) {
	f := newFixture(t)
	b := f.browser()
	used := f.code(f.bobSecret)
	b.follow(b.signIn("/start", "bob", bobPassword)) // takes the next code
	p := b.get("/start/mfa")
	id := deviceIDs(p)["Authenticator app"]
	for name, form := range map[string]url.Values{
		"no proof":         {"device": {id}},
		"a wrong code":     {"device": {id}, "code": {wrong(used)}},
		"a code used once": {"device": {id}, "code": {used}},
		"a wrong password": {"device": {id}, "password": {davePassword}},
	} {
		form.Set("csrf", p.csrf(t))
		p = b.post("/start/mfa/remove", form)
		if p.status != http.StatusUnauthorized {
			t.Fatalf("%s: %d %q", name, p.status, p.location())
		}
	}
	if p := b.post("/start/mfa/remove", url.Values{"device": {id}, "password": {bobPassword}}); p.status != http.StatusForbidden {
		t.Fatalf("without the form token: %d", p.status)
	}
	if p := b.postFrom("https://evil.example", "cross-site", "/start/mfa/remove", url.Values{"csrf": {p.csrf(t)}, "device": {id}, "password": {bobPassword}}); p.status != http.StatusForbidden {
		t.Fatalf("from another site: %d", p.status)
	}
	if f.devices("u-bob") != 1 {
		t.Fatal("a device was removed")
	}
	// With a current code it goes (MFA is optional in the fixture).
	p = b.post("/start/mfa/remove", url.Values{"csrf": {p.csrf(t)}, "device": {id}, "code": {f.code(f.bobSecret)}})
	if p.location() != "/start/mfa?done=removed" || f.devices("u-bob") != 0 {
		t.Fatalf("with a current code: %d %q\n%s", p.status, p.location(), p.body)
	}
	// Without a session, the page sends the browser to sign in.
	delete(b.cookies, sessionCookie)
	if p := b.get("/start/mfa"); p.status != http.StatusSeeOther || !strings.HasPrefix(p.location(), "/signin?next=") {
		t.Fatalf("signed out: %d %q", p.status, p.location())
	}
}

// While MFA is required, the last device stays until another is added.
func TestLastMFADeviceCannotBeRemovedWhenRequired(t *testing.T) {
	f := newFixture(t)
	f.setting("mfa.mode", signin.MFARequired)
	b := f.browser()
	p := b.follow(b.signIn("/start", "bob", bobPassword))
	p = b.get("/start/mfa")
	p.want(t, 200, "your only device cannot be removed")
	id := deviceIDs(p)["Authenticator app"]
	p = b.post("/start/mfa/remove", url.Values{"csrf": {p.csrf(t)}, "device": {id}, "password": {bobPassword}})
	p.want(t, http.StatusConflict, "register another device before removing your only one")
	if f.devices("u-bob") != 1 {
		t.Fatal("the last device was removed")
	}
	p = b.post("/start/mfa/totp", url.Values{"csrf": {p.csrf(t)}, "code": {f.code(totpSecret(t, p))}, "name": {"New phone"}})
	p = b.follow(p)
	p = b.post("/start/mfa/remove", url.Values{"csrf": {p.csrf(t)}, "device": {id}, "password": {bobPassword}})
	if p.location() != "/start/mfa?done=removed" || f.devices("u-bob") != 1 {
		t.Fatalf("removing the old phone once a new one is there: %d %q", p.status, p.location())
	}
}

// Security keys: carol registers a second one and removes the first,
// confirming with a key; a key's assertion of another ceremony or another
// user does not confirm anything.
func TestMFADevicesPageAddsAndRemovesSecurityKeys(t *testing.T) {
	f := newFixture(t)
	b := f.browser()
	p := b.get("/signin")
	p = b.follow(b.post("/signin", url.Values{"csrf": {p.csrf(t)}, "username": {"carol"}}))
	p = b.follow(b.post("/signin/password", url.Values{"csrf": {p.csrf(t)}, "password": {carolPassword}}))
	if p := b.post("/signin/mfa/webauthn", url.Values{"csrf": {p.csrf(t)}, "credential": {f.carolKey.get(t, webAuthnOptions(t, p))}}); p.location() != "/start" {
		t.Fatalf("carol's sign-in: %d %q", p.status, p.location())
	}
	p = b.get("/start/mfa")
	p.want(t, 200, `<th scope="row">Security key</th>`, "Confirm with security key and remove")
	spare := newSoftKey("localhost", "http://localhost")
	p = b.post("/start/mfa/webauthn", url.Values{"csrf": {p.csrf(t)}, "name": {"Spare key"}, "credential": {spare.create(t, ceremony(t, p, "create"))}})
	if p.location() != "/start/mfa?done=added" {
		t.Fatalf("adding a key: %d %q\n%s", p.status, p.location(), p.body)
	}
	p = b.follow(p)
	ids := deviceIDs(p)
	if ids["Spare key"] == "" || ids["Security key"] == "" {
		t.Fatalf("keys: %v", ids)
	}
	stranger := newSoftKey("localhost", "http://localhost")
	stranger.user = f.carolKey.user
	bad := b.post("/start/mfa/remove", url.Values{"csrf": {p.csrf(t)}, "device": {ids["Security key"]}, "credential": {stranger.get(t, ceremony(t, p, "get"))}})
	bad.want(t, 401, badProof)
	p = b.post("/start/mfa/remove", url.Values{"csrf": {bad.csrf(t)}, "device": {ids["Security key"]}, "credential": {spare.get(t, ceremony(t, bad, "get"))}})
	if p.location() != "/start/mfa?done=removed" {
		t.Fatalf("removing with the spare key: %d %q\n%s", p.status, p.location(), p.body)
	}
	if list, _ := f.signin.MFADevices(context.Background(), testStoreID, "u-carol"); len(list) != 1 || list[0].Name != "Spare key" {
		t.Fatalf("carol's devices: %+v", list)
	}
}

// ageSessions makes every open session look signed in an hour ago.
func (f *fixture) ageSessions() {
	f.portal.mu.Lock()
	defer f.portal.mu.Unlock()
	for _, s := range f.portal.sessions {
		s.CreatedAt = time.Now().Add(-time.Hour)
	}
}

// Whoever finds a browser left signed in, or holds a stolen session
// cookie, cannot register an authenticator of their own (a lasting second
// factor) without proving again who the person is: the page asks for a
// confirmation first, adding is refused without one, and a wrong password
// does not count. The person, confirming, may add devices for a while.
func TestStaleSessionCannotAddMFADeviceWithoutReauthentication(t *testing.T) {
	f := newFixture(t)
	b := f.browser()
	b.follow(b.signIn("/start", "dave", davePassword))
	fresh := b.get("/start/mfa")
	secret := totpSecret(t, fresh) // the key offered while the sign-in was recent
	f.ageSessions()

	p := b.get("/start/mfa")
	p.want(t, 200, "Confirm it is you to add a device", `action="/start/mfa/confirm"`, `for="confirm-password">Password</label>`)
	if strings.Contains(p.body, `action="/start/mfa/totp"`) || strings.Contains(p.body, "totp-secret") {
		t.Fatal("an old session is offered a new authenticator without confirming")
	}
	refused := b.post("/start/mfa/totp", url.Values{"csrf": {p.csrf(t)}, "code": {f.code(secret)}, "name": {"Intruder"}})
	refused.want(t, http.StatusForbidden, confirmFirst)
	refused = b.post("/start/mfa/webauthn", url.Values{"csrf": {refused.csrf(t)}, "credential": {"{}"}, "name": {"Intruder"}})
	refused.want(t, http.StatusForbidden, confirmFirst)
	refused = b.post("/start/mfa/confirm", url.Values{"csrf": {refused.csrf(t)}, "password": {bobPassword}})
	refused.want(t, http.StatusUnauthorized, badProof)
	if f.devices("u-dave") != 0 {
		t.Fatal("a device was added")
	}

	p = b.post("/start/mfa/confirm", url.Values{"csrf": {refused.csrf(t)}, "password": {davePassword}})
	if p.location() != "/start/mfa?done=confirmed" {
		t.Fatalf("confirming with the password: %d %q\n%s", p.status, p.location(), p.body)
	}
	p = b.follow(p)
	p.want(t, 200, "Confirmed. You can add devices", `action="/start/mfa/totp"`)
	secret = totpSecret(t, p)
	p = b.post("/start/mfa/totp", url.Values{"csrf": {p.csrf(t)}, "code": {f.code(secret)}, "name": {"Dave's phone"}})
	if p.location() != "/start/mfa?done=added" || f.devices("u-dave") != 1 {
		t.Fatalf("adding after confirming: %d %q\n%s", p.status, p.location(), p.body)
	}
}

// A confirmation lasts its whole window although the page's state, which
// holds it, was made long before: the state lives on from the confirmation.
func TestConfirmationOutlivesAnOldDevicesState(t *testing.T) {
	now := time.Now()
	st := &devicesState{Expires: now.Add(time.Minute).Unix()} // made 14 minutes ago
	st.confirm(now)
	if time.Unix(st.Expires, 0).Before(now.Add(reauthWindow)) {
		t.Fatalf("the state expires at %v, before the confirmation made at %v runs out", time.Unix(st.Expires, 0), now)
	}
}
