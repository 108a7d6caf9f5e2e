package signin

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/atrium-sso/atrium/internal/store"
)

// epoch is the state of a user's credentials as CheckPassword sees it.
func (f *fixture) epoch(userID string) string {
	f.t.Helper()
	var pw *store.Password
	var devices []store.MFADevice
	err := f.store.Read(ctx, func(tx store.Tx) error {
		var err error
		if pw, err = tx.GetPassword(ctx, storeID, userID); errors.Is(err, store.ErrNotFound) {
			pw, err = nil, nil
		}
		if err != nil {
			return err
		}
		devices, err = tx.ListMFADevices(ctx, storeID, userID)
		return err
	})
	if err != nil {
		f.t.Fatal(err)
	}
	return credentialEpoch(pw, devices)
}

// A browser remembered for "prompt only in a new context" is asked for MFA
// again once the user's password or devices change: whoever holds a
// browser from before a reset (a stolen laptop, a shared machine) loses
// the shortcut with it.
func TestRememberedDeviceIsForgottenWhenCredentialsChange(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(f *fixture, u *store.User, phone, key string)
	}{
		{"the user changes the password", func(f *fixture, u *store.User, _, _ string) {
			if err := f.svc.ChangePassword(ctx, storeID, u.ID, "Another-Horse-10"); err != nil {
				t.Fatal(err)
			}
		}},
		{"an administrator sets the password", func(f *fixture, u *store.User, _, _ string) {
			if err := f.svc.SetPassword(ctx, storeID, u.ID, "Another-Horse-10", false); err != nil {
				t.Fatal(err)
			}
		}},
		{"an administrator resets the password", func(f *fixture, u *store.User, _, _ string) {
			if _, err := f.svc.ResetPassword(ctx, storeID, u.ID); err != nil {
				t.Fatal(err)
			}
		}},
		{"a device is removed", func(f *fixture, u *store.User, phone, _ string) {
			if err := f.svc.DeleteMFADevice(ctx, storeID, u.ID, phone); err != nil {
				t.Fatal(err)
			}
		}},
		{"every device is reset", func(f *fixture, u *store.User, _, _ string) {
			if _, err := f.svc.ResetMFA(ctx, storeID, u.ID); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, true)
			f.set("mfa.prompt", PromptNewContext)
			u := f.user("alice", good)
			f.enrollTOTP(u, "phone")
			f.enrollTOTP(u, "spare phone")
			devices, err := f.svc.MFADevices(ctx, storeID, u.ID)
			if err != nil || len(devices) != 2 {
				t.Fatalf("devices %+v, %v", devices, err)
			}
			token, _, err := f.svc.RememberDevice(ctx, storeID, u.ID)
			if err != nil {
				t.Fatal(err)
			}
			if a, err := f.svc.CheckPassword(ctx, storeID, "alice", good, "192.0.2.1", FromDevice(token)); err != nil || a.MFA != MFANone {
				t.Fatalf("before the change the browser is remembered: %+v, %v", a, err)
			}
			tc.change(f, u, devices[0].ID, devices[1].ID)
			password := good
			if strings.Contains(tc.name, "password") {
				// Whatever the new password, the old browser must not skip MFA with it.
				if err := f.svc.SetPassword(ctx, storeID, u.ID, "Third-Horse-11!", false); err != nil {
					t.Fatal(err)
				}
				password = "Third-Horse-11!"
			}
			a, err := f.svc.CheckPassword(ctx, storeID, "alice", password, "192.0.2.1", FromDevice(token))
			if err != nil {
				t.Fatal(err)
			}
			if a.MFA == MFANone {
				t.Fatalf("after %s the remembered browser still skips MFA", tc.name)
			}
		})
	}
}

// Every sign-in attempt is recorded as AWS records sign-ins: what was
// asked for (CredentialChallenge), what passed or failed
// (CredentialVerification), and the finished sign-in (UserAuthentication),
// with the source address and the sign-in they belong to, never a secret.
func TestSignInAttemptsAreAudited(t *testing.T) {
	f := newFixture(t, true)
	u := f.user("alice", good)
	secret := f.enrollTOTP(u, "phone")
	opts := []CheckOption{FromSource("198.51.100.7"), InWorkflow("wf-1")}
	if _, err := f.svc.CheckPassword(ctx, storeID, "alice", "Wrong-Horse-9", "198.51.100.7", InWorkflow("wf-1")); !errors.Is(err, ErrBadCredentials) {
		t.Fatal(err)
	}
	if _, err := f.svc.CheckPassword(ctx, storeID, "alice", good, "198.51.100.7", InWorkflow("wf-1")); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Challenge(ctx, storeID, u.ID, []string{CredentialTOTP}, false, opts...); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.VerifyTOTP(ctx, storeID, u.ID, "000000", opts...); !errors.Is(err, ErrBadCode) {
		t.Fatal(err)
	}
	f.clock.Advance(30 * time.Second)
	if err := f.svc.VerifyTOTP(ctx, storeID, u.ID, code(t, secret, f.clock.Now()), opts...); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Authenticated(ctx, storeID, u.ID, []string{CredentialPassword, CredentialTOTP}, "/start", opts...); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range f.audit() {
		if strings.Contains(e.RequestParams+e.ErrorMessage, good) || strings.Contains(e.RequestParams, "Wrong-Horse-9") {
			t.Fatalf("a password is in the audit record %+v", e)
		}
		if e.Source != SigninEventSource {
			continue
		}
		var p map[string]string
		if err := json.Unmarshal([]byte(e.RequestParams), &p); err != nil {
			t.Fatal(err)
		}
		if e.SourceIP != "198.51.100.7" || p["AuthWorkflowID"] != "wf-1" || p["UserId"] != u.ID || e.PrincipalARN != "arn:aws:identitystore:::user/"+u.ID {
			t.Fatalf("sign-in event without its source, sign-in or user: %+v", e)
		}
		outcome := "ok"
		if e.ErrorCode != "" {
			outcome = "failed"
		}
		got = append(got, e.EventName+" "+p["CredentialType"]+" "+outcome)
	}
	want := []string{
		"CredentialChallenge PASSWORD ok", "CredentialVerification PASSWORD failed",
		"CredentialChallenge PASSWORD ok", "CredentialVerification PASSWORD ok",
		"CredentialChallenge TOTP ok", "CredentialVerification TOTP failed", "CredentialVerification TOTP ok",
		"UserAuthentication PASSWORD,TOTP ok",
	}
	// Records of the same instant have no order among them.
	slices.Sort(got)
	slices.Sort(want)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("sign-in events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// A user removing their own devices keeps at least one while MFA is
// required, even when two removals race; an administrator's reset may
// take them all.
func TestUserCannotRemoveTheLastDeviceWhenRequired(t *testing.T) {
	f := newFixture(t, true)
	u := f.user("alice", good)
	f.enrollTOTP(u, "phone")
	f.enrollTOTP(u, "tablet")
	devices, _ := f.svc.MFADevices(ctx, storeID, u.ID)
	errs := make(chan error, 2)
	for _, d := range devices {
		go func() { errs <- f.svc.DeleteOwnMFADevice(ctx, storeID, u.ID, d.ID) }()
	}
	a, b := <-errs, <-errs
	if (a == nil) == (b == nil) || !errors.Is(errors.Join(a, b), ErrLastDevice) {
		t.Fatalf("racing removals: %v, %v; want one removed and one ErrLastDevice", a, b)
	}
	left, _ := f.svc.MFADevices(ctx, storeID, u.ID)
	if len(left) != 1 {
		t.Fatalf("%d devices left", len(left))
	}
	if err := f.svc.DeleteOwnMFADevice(ctx, storeID, u.ID, "no-such-device"); !errors.Is(err, ErrNoDevice) {
		t.Fatalf("an unknown device: %v", err)
	}
	f.set("mfa.mode", MFAOptional)
	if err := f.svc.DeleteOwnMFADevice(ctx, storeID, u.ID, left[0].ID); err != nil {
		t.Fatalf("the last device with MFA optional: %v", err)
	}
	f.set("mfa.mode", MFARequired)
	f.enrollTOTP(u, "new phone")
	if n, err := f.svc.ResetMFA(ctx, storeID, u.ID); err != nil || n != 1 {
		t.Fatalf("an administrator's reset: %d, %v", n, err)
	}
}
