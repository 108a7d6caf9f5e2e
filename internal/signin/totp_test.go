package signin

import (
	"bytes"
	"encoding/base32"
	"errors"
	"fmt"
	"image/png"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/atrium-sso/atrium/internal/store"
)

// code is the authenticator app's code for secret at t.
func code(t testing.TB, secret string, at time.Time) string {
	t.Helper()
	c, err := totp.GenerateCodeCustom(secret, at, totpOpts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// enrollTOTP registers an authenticator app for u and returns its secret.
func (f *fixture) enrollTOTP(u *store.User, name string) string {
	f.t.Helper()
	e, err := f.svc.BeginTOTPEnrollment(ctx, storeID, u.ID, "Atrium")
	if err != nil {
		f.t.Fatal(err)
	}
	if err := f.svc.FinishTOTPEnrollment(ctx, storeID, u.ID, e, code(f.t, e.Secret, f.clock.Now()), name); err != nil {
		f.t.Fatal(err)
	}
	return e.Secret
}

func TestTOTPEnrollment(t *testing.T) {
	f := newFixture(t, true)
	u := f.user("alice", good)
	e, err := f.svc.BeginTOTPEnrollment(ctx, storeID, u.ID, "Atrium")
	if err != nil {
		t.Fatal(err)
	}
	raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(e.Secret)
	if err != nil || len(raw) != 20 {
		t.Fatalf("secret %q: %d bytes, %v; want 160 bits", e.Secret, len(raw), err)
	}
	link, err := url.Parse(e.URL)
	if err != nil || link.Scheme != "otpauth" || link.Host != "totp" || link.Query().Get("secret") != e.Secret ||
		link.Query().Get("issuer") != "Atrium" || !strings.Contains(link.Path, "alice") {
		t.Fatalf("otpauth URL %s", e.URL)
	}
	if img, err := png.Decode(bytes.NewReader(e.QRPNG)); err != nil || img.Bounds().Dx() != 256 {
		t.Fatalf("QR code: %v", err)
	}
	now := f.clock.Now()
	if err := f.svc.FinishTOTPEnrollment(ctx, storeID, u.ID, e, code(t, e.Secret, now.Add(-2*totpPeriod*time.Second)), "phone"); err != ErrBadCode {
		t.Fatalf("a stale code registered the app: %v", err)
	}
	if err := f.svc.FinishTOTPEnrollment(ctx, storeID, u.ID, e, code(t, e.Secret, now), "  my phone  "); err != nil {
		t.Fatal(err)
	}
	var devices []store.MFADevice
	f.store.Read(ctx, func(tx store.Tx) error { devices, _ = tx.ListMFADevices(ctx, storeID, u.ID); return nil })
	if len(devices) != 1 || devices[0].Name != "my phone" || devices[0].Type != store.MFATOTP {
		t.Fatalf("devices = %+v", devices)
	}
	// The secret is not stored in clear, and opens only for its own device.
	d := devices[0]
	if bytes.Contains(d.Secret, raw) || bytes.Contains(d.Secret, []byte(e.Secret)) {
		t.Fatal("the TOTP secret is stored in clear")
	}
	if _, err := open(f.svc.keys.totp, d.Secret, "another-device"); err == nil {
		t.Fatal("a sealed secret opened for another device")
	}
	if plain, err := open(f.node(true).keys.totp, d.Secret, d.ID); err != nil || string(plain) != e.Secret {
		t.Fatalf("another node cannot open the secret: %v", err)
	}
	// Audited as a registration, with no secret.
	var registered bool
	for _, ev := range f.audit() {
		if strings.Contains(ev.RequestParams, e.Secret) {
			t.Fatalf("the secret is in the audit record %+v", ev)
		}
		registered = registered || ev.EventName == "CompleteVirtualMfaDeviceRegistration" && strings.Contains(ev.RequestParams, d.ID)
	}
	if !registered {
		t.Fatal("the registration was not audited")
	}
}

// A code is usable once, on any node, even while it is still in its
// window; so is every earlier code of the same app.
func TestTOTPReplayRejected(t *testing.T) {
	f := newFixture(t, true)
	u := f.user("alice", good)
	secret := f.enrollTOTP(u, "phone")
	enrolCode := code(t, secret, f.clock.Now())
	if err := f.svc.VerifyTOTP(ctx, storeID, u.ID, enrolCode); err != ErrBadCode {
		t.Fatalf("the code that registered the app signed in: %v", err)
	}
	f.clock.Advance(totpPeriod * time.Second)
	fresh := code(t, secret, f.clock.Now())
	if err := f.svc.VerifyTOTP(ctx, storeID, u.ID, fresh); err != nil {
		t.Fatalf("a fresh code: %v", err)
	}
	if err := f.svc.VerifyTOTP(ctx, storeID, u.ID, fresh); err != ErrBadCode {
		t.Fatalf("the same code again: %v; want ErrBadCode", err)
	}
	if err := f.node(true).VerifyTOTP(ctx, storeID, u.ID, fresh); err != ErrBadCode {
		t.Fatalf("the same code on another node: %v; want ErrBadCode", err)
	}
	// The previous step's code is still inside the skew window, but older than the one used.
	if err := f.svc.VerifyTOTP(ctx, storeID, u.ID, enrolCode); err != ErrBadCode {
		t.Fatalf("an older code after a newer one: %v", err)
	}
	// Racing logins with one fresh code, on two nodes: exactly one passes.
	f.clock.Advance(totpPeriod * time.Second)
	fresh = code(t, secret, f.clock.Now())
	nodes := []*Service{f.svc, f.node(true)}
	var ok, bad atomic.Int32
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			switch err := nodes[i%2].VerifyTOTP(ctx, storeID, u.ID, fresh); err {
			case nil:
				ok.Add(1)
			case ErrBadCode, ErrThrottled: // the replays' failures add up to a lock
				bad.Add(1)
			default:
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if ok.Load() != 1 || bad.Load() != 7 {
		t.Fatalf("racing replays: %d passed, %d refused", ok.Load(), bad.Load())
	}
}

func TestTOTPAcceptsOneStepOfDrift(t *testing.T) {
	f := newFixture(t, true)
	u := f.user("alice", good)
	secret := f.enrollTOTP(u, "phone")
	step := totpPeriod * time.Second
	for _, tc := range []struct {
		offset time.Duration // of the app's clock
		ok     bool
	}{
		{-2 * step, false},
		{-step, true},
		{0, true},
		{step, true},
		{2 * step, false},
	} {
		f.clock.Advance(5 * step) // a fresh step each time, after the last one used
		c := code(t, secret, f.clock.Now().Add(tc.offset))
		if err := f.svc.VerifyTOTP(ctx, storeID, u.ID, c); (err == nil) != tc.ok {
			t.Errorf("app clock off by %v: %v; want ok=%v", tc.offset, err, tc.ok)
		}
	}
	now := f.clock.Now()
	right := code(t, secret, now)
	if _, ok := matchTOTP(secret, right, now); !ok {
		t.Fatal("the right code does not match")
	}
	for _, bad := range []string{"", right[:5], right + "0", right[:5] + "a", " " + right, right[:5] + "\u0660"} {
		if _, ok := matchTOTP(secret, bad, now); ok {
			t.Errorf("code %q matched", bad)
		}
	}
}

func TestTOTPSecondAppAndLimit(t *testing.T) {
	f := newFixture(t, true)
	u := f.user("alice", good)
	first := f.enrollTOTP(u, "phone")
	second := f.enrollTOTP(u, "tablet")
	if _, err := f.svc.BeginTOTPEnrollment(ctx, storeID, u.ID, "Atrium"); err != ErrDeviceLimit {
		t.Fatalf("a third app: %v; want ErrDeviceLimit", err)
	}
	// Either app's code signs in; each app keeps its own last step.
	f.clock.Advance(totpPeriod * time.Second)
	for _, s := range []string{first, second} {
		if err := f.svc.VerifyTOTP(ctx, storeID, u.ID, code(t, s, f.clock.Now())); err != nil {
			t.Fatalf("an app's code: %v", err)
		}
	}
	if _, err := f.svc.BeginTOTPEnrollment(ctx, storeID, "1234567890-00000000-0000-4000-8000-000000000000", "Atrium"); err != ErrUserNotFound {
		t.Fatalf("unknown user: %v", err)
	}
}

// Guessing codes counts against the user like guessing passwords.
func TestTOTPGuessingThrottled(t *testing.T) {
	f := newFixture(t, true)
	u := f.user("alice", good)
	secret := f.enrollTOTP(u, "phone")
	f.clock.Advance(totpPeriod * time.Second)
	right := code(t, secret, f.clock.Now())
	wrong := "000000"
	if wrong == right {
		wrong = "111111"
	}
	for i := 0; i < perUser.Limit; i++ {
		if err := f.svc.VerifyTOTP(ctx, storeID, u.ID, wrong); err != ErrBadCode {
			t.Fatalf("guess %d: %v", i, err)
		}
	}
	if err := f.svc.VerifyTOTP(ctx, storeID, u.ID, right); !errors.Is(err, ErrThrottled) {
		t.Fatalf("the right code while locked: %v; want ErrThrottled", err)
	}
	if _, err := f.svc.CheckPassword(ctx, storeID, "alice", good, "192.0.2.1"); err != ErrThrottled {
		t.Fatalf("the password while locked: %v; want ErrThrottled", err)
	}
	var failures int
	for _, ev := range f.audit() {
		if ev.EventName == "CredentialVerification" && strings.Contains(ev.RequestParams, `"TOTP"`) && ev.ErrorCode != "" {
			failures++
		}
	}
	if failures != perUser.Limit {
		t.Fatalf("%d failed TOTP verifications audited; want %d", failures, perUser.Limit)
	}
}

// A burst of concurrent code guesses is decided one at a time: exactly the
// limit's worth are checked, the rest refused.
func TestTOTPGuessBurstThrottledExactly(t *testing.T) {
	f := newFixture(t, true)
	u := f.user("alice", good)
	secret := f.enrollTOTP(u, "phone")
	f.clock.Advance(totpPeriod * time.Second)
	right := code(t, secret, f.clock.Now())
	const burst = 30
	var wg sync.WaitGroup
	var bad, throttledN atomic.Int32
	for i := 0; i < burst; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			guess := fmt.Sprintf("%06d", 100000+i)
			if guess == right {
				guess = "999999"
			}
			switch err := f.svc.VerifyTOTP(ctx, storeID, u.ID, guess); err {
			case ErrBadCode:
				bad.Add(1)
			case ErrThrottled:
				throttledN.Add(1)
			default:
				t.Error(err)
			}
		}(i)
	}
	wg.Wait()
	if bad.Load() != int32(perUser.Limit) || throttledN.Load() != burst-int32(perUser.Limit) {
		t.Fatalf("a burst of %d guesses: %d checked, %d refused; want %d checked", burst, bad.Load(), throttledN.Load(), perUser.Limit)
	}
}

func TestMFADevicesListedAndDeleted(t *testing.T) {
	f := newFixture(t, true)
	u, other := f.user("alice", good), f.user("bob", good)
	secret := f.enrollTOTP(u, "phone")
	f.clock.Advance(time.Second)
	if err := f.register(u, newSoftKey(t), "key"); err != nil {
		t.Fatal(err)
	}
	list, err := f.svc.MFADevices(ctx, storeID, u.ID)
	if err != nil || len(list) != 2 || list[0].Type != store.MFATOTP || list[0].Name != "phone" || list[1].Type != store.MFAWebAuthn {
		t.Fatalf("MFADevices = %+v, %v", list, err)
	}
	if err := f.svc.DeleteMFADevice(ctx, storeID, other.ID, list[0].ID); err != ErrNoDevice {
		t.Fatalf("deleting another user's device: %v", err)
	}
	if err := f.svc.DeleteMFADevice(ctx, storeID, u.ID, list[0].ID); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(totpPeriod * time.Second)
	if err := f.svc.VerifyTOTP(ctx, storeID, u.ID, code(t, secret, f.clock.Now())); err != ErrBadCode {
		t.Fatalf("a deleted app's code: %v", err)
	}
	if list, _ := f.svc.MFADevices(ctx, storeID, u.ID); len(list) != 1 {
		t.Fatalf("after delete: %+v", list)
	}
	var audited bool
	for _, e := range f.audit() {
		audited = audited || e.EventName == "DeleteMfaDeviceForUser" && strings.Contains(e.RequestParams, u.ID)
	}
	if !audited {
		t.Fatal("the deletion was not audited")
	}
}
