package signin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/atrium-sso/atrium/internal/audit"
	"github.com/atrium-sso/atrium/internal/awsproto/model"
	"github.com/atrium-sso/atrium/internal/ids"
	"github.com/atrium-sso/atrium/internal/store"
	"github.com/atrium-sso/atrium/internal/store/sqlite"
)

const storeID = "d-1234567890"

var ctx = context.Background()

// clock is a settable clock shared by the services of a test.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type fixture struct {
	t     testing.TB
	store store.Store
	clock *clock
	svc   *Service
}

// cheap argon2id parameters for tests about anything but the hash cost;
// the hashing path is the same.
var cheap = argonParams{Memory: 64, Time: 1, Threads: 1}

// newFixture opens a fresh SQLite store and a Service on it at a fixed
// time. fast swaps OWASP's cost for cheap parameters.
func newFixture(t testing.TB, fast bool) *fixture {
	t.Helper()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "atrium.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx, nil); err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, store: audit.Wrap(db), clock: &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}}
	f.svc = f.node(fast)
	return f
}

// node is another Service on the fixture's store: another Atrium node.
func (f *fixture) node(fast bool) *Service {
	f.t.Helper()
	svc, err := New(ctx, f.store, Options{URL: "https://sso.example.com", Now: f.clock.Now})
	if err != nil {
		f.t.Fatal(err)
	}
	if fast {
		svc.hasher = newHasher(cheap, 2)
		if svc.dummy, err = svc.hasher.hash(ctx, "dummy"); err != nil {
			f.t.Fatal(err)
		}
	}
	return svc
}

// user adds an enabled user, with password when it is not "".
func (f *fixture) user(name, password string) *store.User {
	f.t.Helper()
	now := f.clock.Now()
	u := store.User{IdentityStoreID: storeID, ID: ids.UserID(storeID), UserName: name, DisplayName: name, Status: store.UserEnabled,
		CreatedAt: now, UpdatedAt: now}
	if err := f.store.Write(ctx, func(tx store.Tx) error { return tx.InsertUser(ctx, u) }); err != nil {
		f.t.Fatal(err)
	}
	if password != "" {
		if err := f.svc.SetPassword(ctx, storeID, u.ID, password, false); err != nil {
			f.t.Fatal(err)
		}
	}
	return &u
}

func (f *fixture) setStatus(u *store.User, status string) {
	f.t.Helper()
	err := f.store.Write(ctx, func(tx store.Tx) error {
		_, err := tx.UpdateUser(ctx, storeID, u.ID, func(x *store.User) error { x.Status = status; return nil })
		return err
	})
	if err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) set(key, value string) {
	f.t.Helper()
	if _, err := f.svc.UpdateSetting(ctx, key, value); err != nil {
		f.t.Fatal(err)
	}
}

// audit returns the audit events, oldest first.
func (f *fixture) audit() []store.AuditEvent {
	f.t.Helper()
	var list []store.AuditEvent
	err := f.store.Read(ctx, func(tx store.Tx) error {
		var err error
		list, err = tx.ListAudit(ctx, store.AuditCursor{}, 1000)
		return err
	})
	if err != nil {
		f.t.Fatal(err)
	}
	for i, j := 0, len(list)-1; i < j; i, j = i+1, j-1 {
		list[i], list[j] = list[j], list[i]
	}
	return list
}

const good = "Correct-Horse-9"

func TestCheckPasswordSignsIn(t *testing.T) {
	f := newFixture(t, true)
	u := f.user("alice", good)
	a, err := f.svc.CheckPassword(ctx, storeID, "ALICE", good, "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	if a.User.ID != u.ID || a.MustChangePassword || a.MFA != MFAEnroll || a.HasTOTP || a.HasWebAuthn {
		t.Fatalf("attempt = %+v; want alice, no change, MFA enrolment (required by default, no device)", a)
	}
	if _, err := f.svc.CheckPassword(ctx, storeID, "alice", strings.ToLower(good), "192.0.2.1"); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("passwords are case-sensitive: %v", err)
	}
	events := f.audit()
	var outcomes []string
	for _, e := range events {
		if e.Source != SigninEventSource || e.EventName == "CredentialChallenge" {
			continue
		}
		var p map[string]string
		json.Unmarshal([]byte(e.RequestParams), &p)
		if e.EventName != "CredentialVerification" || p["CredentialType"] != "PASSWORD" || p["UserName"] != "alice" && p["UserName"] != "ALICE" ||
			p["UserId"] != u.ID || e.SourceIP != "192.0.2.1" {
			t.Fatalf("sign-in event %+v", e)
		}
		outcomes = append(outcomes, e.ErrorCode)
	}
	slices.Sort(outcomes)
	if !slices.Equal(outcomes, []string{"", "AuthenticationFailed"}) {
		t.Fatalf("sign-in outcomes audited: %q; want a success and a failure", outcomes)
	}
	for _, e := range events {
		if strings.Contains(e.RequestParams+e.ErrorMessage, strings.ToLower(good)) || strings.Contains(e.RequestParams, good) {
			t.Fatalf("a password is in the audit record %+v", e)
		}
	}
}

// Every way a sign-in can fail on the password answers the same error
// after one argon2id computation (the dummy hash when there is no real
// one), so neither the answer nor its time tells which users exist. The
// count is the exact check; the timing ratio is a loose one.
func TestUserEnumerationByTimingPrevented(t *testing.T) {
	f := newFixture(t, false)
	const rounds = 6
	known := make([]*store.User, rounds)
	for i := range known {
		known[i] = f.user(fmt.Sprintf("known%d", i), good)
	}
	disabled := f.user("disabled", good)
	f.setStatus(disabled, store.UserDisabled)
	f.user("nopassword", "")

	attempt := func(name, password string, n int) time.Duration {
		t.Helper()
		before := f.svc.hasher.computed.Load()
		start := time.Now()
		_, err := f.svc.CheckPassword(ctx, storeID, name, password, fmt.Sprintf("198.51.100.%d", n))
		took := time.Since(start)
		if err != ErrBadCredentials {
			t.Fatalf("%s: %v; want exactly ErrBadCredentials", name, err)
		}
		if got := f.svc.hasher.computed.Load() - before; got != 1 {
			t.Fatalf("%s: %d argon2id computations; want 1", name, got)
		}
		return took
	}
	attempt("disabled", good, 200)
	attempt("nopassword", good, 201)
	var unknown, wrong []time.Duration
	for i := 0; i < rounds; i++ {
		unknown = append(unknown, attempt(fmt.Sprintf("nobody%d", i), good, i))
		wrong = append(wrong, attempt(known[i].UserName, "Wrong-Horse-9", 100+i))
	}
	mu, mw := median(unknown), median(wrong)
	if ratio := float64(mu) / float64(mw); ratio < 0.5 || ratio > 2 {
		t.Fatalf("unknown user takes %v, wrong password %v (medians): ratio %.2f", mu, mw, ratio)
	}
	// The audit trail does not keep names that do not exist: people type passwords there.
	for _, e := range f.audit() {
		if strings.Contains(e.RequestParams, "nobody") {
			t.Fatalf("an unknown user name is in the audit record %+v", e)
		}
	}
}

func median(ds []time.Duration) time.Duration {
	s := append([]time.Duration(nil), ds...)
	for i := range s {
		for j := i + 1; j < len(s); j++ {
			if s[j] < s[i] {
				s[i], s[j] = s[j], s[i]
			}
		}
	}
	return s[len(s)/2]
}

func TestDisabledUserCannotSignIn(t *testing.T) {
	f := newFixture(t, true)
	u := f.user("dave", good)
	secret := f.enrollTOTP(u, "phone")
	f.setStatus(u, store.UserDisabled)
	if _, err := f.svc.CheckPassword(ctx, storeID, "dave", good, "192.0.2.1"); err != ErrBadCredentials {
		t.Fatalf("disabled user with the right password: %v; want ErrBadCredentials", err)
	}
	// Disabled between the password and MFA: the second factor fails too.
	f.clock.Advance(totpPeriod * time.Second)
	if err := f.svc.VerifyTOTP(ctx, storeID, u.ID, code(t, secret, f.clock.Now())); err != ErrBadCredentials {
		t.Fatalf("a disabled user's TOTP code: %v; want ErrBadCredentials", err)
	}
	if err := f.svc.ChangePassword(ctx, storeID, u.ID, "Another-Horse-7"); err != ErrBadCredentials {
		t.Fatalf("a disabled user changed their password: %v", err)
	}
	f.setStatus(u, store.UserEnabled)
	if _, err := f.svc.CheckPassword(ctx, storeID, "dave", good, "192.0.2.1"); err != nil {
		t.Fatalf("enabled again: %v", err)
	}
}

func TestBruteForceThrottledPerUser(t *testing.T) {
	f := newFixture(t, true)
	f.user("alice", good)
	fail := func(n int) {
		t.Helper()
		for i := 0; i < n; i++ {
			// Each guess from another address: the per-user limit holds alone.
			if _, err := f.svc.CheckPassword(ctx, storeID, "alice", fmt.Sprintf("Guess-%d-x", i), fmt.Sprintf("203.0.113.%d", i)); err != ErrBadCredentials {
				t.Fatalf("guess %d: %v", i, err)
			}
		}
	}
	fail(perUser.Limit)
	before := f.svc.hasher.computed.Load()
	if _, err := f.svc.CheckPassword(ctx, storeID, "alice", good, "192.0.2.99"); err != ErrThrottled {
		t.Fatalf("right password after %d failures: %v; want ErrThrottled", perUser.Limit, err)
	}
	if f.svc.hasher.computed.Load() != before {
		t.Fatal("a throttled attempt computed a hash")
	}
	// Every node sees the lock: it is in the database.
	if _, err := f.node(true).CheckPassword(ctx, storeID, "alice", good, "192.0.2.99"); err != ErrThrottled {
		t.Fatalf("another node: %v; want ErrThrottled", err)
	}
	f.clock.Advance(perUser.Base)
	if _, err := f.svc.CheckPassword(ctx, storeID, "alice", good, "192.0.2.99"); err != nil {
		t.Fatalf("after the lock: %v", err)
	}
	// Success forgets the failures but not the locks: the next one is longer.
	fail(perUser.Limit)
	f.clock.Advance(perUser.Base)
	if _, err := f.svc.CheckPassword(ctx, storeID, "alice", good, "192.0.2.99"); err != ErrThrottled {
		t.Fatalf("the second lock is longer than the first: %v", err)
	}
	f.clock.Advance(perUser.Base)
	if _, err := f.svc.CheckPassword(ctx, storeID, "alice", good, "192.0.2.99"); err != nil {
		t.Fatalf("after the second lock: %v", err)
	}
	// A name that does not exist locks the same way: locking tells nothing.
	for i := 0; i < perUser.Limit; i++ {
		f.svc.CheckPassword(ctx, storeID, "nobody", "x", fmt.Sprintf("203.0.113.%d", 50+i))
	}
	if _, err := f.svc.CheckPassword(ctx, storeID, "NOBODY", "x", "192.0.2.99"); err != ErrThrottled {
		t.Fatalf("unknown name: %v; want ErrThrottled", err)
	}
}

func TestThrottleRuleGrowsAndForgets(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var th store.Throttle
	for lock := 0; lock < 10; lock++ {
		for i := 1; i < perUser.Limit; i++ {
			if perUser.fail(&th, now) {
				t.Fatalf("locked after %d failures", i)
			}
		}
		if !perUser.fail(&th, now) {
			t.Fatal("not locked at the limit")
		}
		want := min(perUser.Base<<lock, perUser.Max)
		if got := th.LockedUntil.Sub(now); got != want {
			t.Fatalf("lock %d lasts %v; want %v", lock+1, got, want)
		}
		now = th.LockedUntil
	}
	// Failures spread wider than the window never lock.
	th = store.Throttle{}
	for i := 0; i < 3*perUser.Limit; i++ {
		if perUser.fail(&th, now) {
			t.Fatalf("locked by failures %v apart", perUser.Window)
		}
		now = now.Add(perUser.Window/time.Duration(perUser.Limit-1) + time.Second)
	}
	// A quiet day forgets earlier locks.
	th = store.Throttle{Lockouts: 5, UpdatedAt: now}
	now = now.Add(forgetLocksAfter)
	for i := 0; i < perUser.Limit; i++ {
		perUser.fail(&th, now)
	}
	if got := th.LockedUntil.Sub(now); got != perUser.Base {
		t.Fatalf("after a quiet day the lock lasts %v; want %v", got, perUser.Base)
	}
}

func TestPasswordSprayingThrottledPerSource(t *testing.T) {
	f := newFixture(t, true)
	victims := make([]*store.User, perSource.Limit+1)
	for i := range victims {
		victims[i] = f.user(fmt.Sprintf("user%d", i), good)
	}
	// One common password tried once on each user, all from one address:
	// no user reaches its own limit.
	const attacker = "203.0.113.7"
	for i := 0; i < perSource.Limit; i++ {
		if _, err := f.svc.CheckPassword(ctx, storeID, victims[i].UserName, "Summer2026!", attacker); err != ErrBadCredentials {
			t.Fatalf("spray %d: %v", i, err)
		}
	}
	last := victims[perSource.Limit].UserName
	if _, err := f.svc.CheckPassword(ctx, storeID, last, good, attacker); err != ErrThrottled {
		t.Fatalf("from the spraying address, even the right password: %v; want ErrThrottled", err)
	}
	if _, err := f.svc.CheckPassword(ctx, storeID, last, good, "192.0.2.10"); err != nil {
		t.Fatalf("the same user from elsewhere: %v", err)
	}
	// IPv6: one /64 is one source.
	for i := 0; i < perSource.Limit; i++ {
		f.svc.CheckPassword(ctx, storeID, victims[i].UserName, "Summer2026!", fmt.Sprintf("2001:db8:1:2::%x", i+1))
	}
	if _, err := f.svc.CheckPassword(ctx, storeID, last, good, "2001:db8:1:2:ffff::1"); err != ErrThrottled {
		t.Fatalf("another address of the spraying /64: %v; want ErrThrottled", err)
	}
	if _, err := f.svc.CheckPassword(ctx, storeID, last, good, "2001:db8:1:3::1"); err != nil {
		t.Fatalf("another /64: %v", err)
	}
	f.clock.Advance(perSource.Base)
	if _, err := f.svc.CheckPassword(ctx, storeID, last, good, attacker); err != nil {
		t.Fatalf("after the source's lock: %v", err)
	}
}

func TestSourceThrottleKey(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.1":          "source:192.0.2.1",
		"::ffff:192.0.2.1":   "source:192.0.2.1",
		"2001:db8::1":        "source:2001:db8::/64",
		"2001:db8:0:0:ab::9": "source:2001:db8::/64",
		"":                   "",
		"not an address":     "",
	} {
		if got := sourceThrottleKey(in); got != want {
			t.Errorf("sourceThrottleKey(%q) = %q; want %q", in, got, want)
		}
	}
}

func TestOneTimePasswordMustBeChanged(t *testing.T) {
	f := newFixture(t, true)
	u := f.user("alice", "")
	if err := f.svc.SetPassword(ctx, storeID, u.ID, "Temporary-Pass-1", true); err != nil {
		t.Fatal(err)
	}
	a, err := f.svc.CheckPassword(ctx, storeID, "alice", "Temporary-Pass-1", "192.0.2.1")
	if err != nil || !a.MustChangePassword {
		t.Fatalf("one-time password: %+v, %v; want MustChangePassword", a, err)
	}
	var perr *PolicyError
	if err := f.svc.ChangePassword(ctx, storeID, u.ID, "Temporary-Pass-1"); !errors.As(err, &perr) {
		t.Fatalf("keeping the one-time password: %v; want a PolicyError", err)
	}
	if err := f.svc.ChangePassword(ctx, storeID, u.ID, good); err != nil {
		t.Fatal(err)
	}
	if a, err = f.svc.CheckPassword(ctx, storeID, "alice", good, "192.0.2.1"); err != nil || a.MustChangePassword {
		t.Fatalf("after the change: %+v, %v", a, err)
	}
	if _, err := f.svc.CheckPassword(ctx, storeID, "alice", "Temporary-Pass-1", "192.0.2.1"); err != ErrBadCredentials {
		t.Fatalf("the one-time password still works: %v", err)
	}
	// An admin's reset: a generated one-time password that meets the policy.
	f.set("password.min-length", "20")
	otp, err := f.svc.ResetPassword(ctx, storeID, u.ID)
	if err != nil || checkPolicy(otp, 20) != nil {
		t.Fatalf("ResetPassword = %q, %v", otp, err)
	}
	if a, err = f.svc.CheckPassword(ctx, storeID, "alice", otp, "192.0.2.1"); err != nil || !a.MustChangePassword {
		t.Fatalf("generated one-time password: %+v, %v", a, err)
	}
	if err := f.svc.SetPassword(ctx, storeID, ids.UserID(storeID), good, false); err != ErrUserNotFound {
		t.Fatalf("password for an unknown user: %v", err)
	}
	// The user's own change is audited, without the password.
	var changes int
	for _, e := range f.audit() {
		if e.EventName == "UpdatePassword" && e.Source == DirectoryEventSource && strings.Contains(e.RequestParams, u.ID) {
			changes++
		}
	}
	if changes != 1 {
		t.Fatalf("%d UpdatePassword events; want 1", changes)
	}
}

func TestPasswordReuseOfTheLastThreeRefused(t *testing.T) {
	f := newFixture(t, true)
	u := f.user("alice", "First-Pass-1")
	for _, p := range []string{"Second-Pass-2", "Third-Pass-3"} {
		if err := f.svc.ChangePassword(ctx, storeID, u.ID, p); err != nil {
			t.Fatal(err)
		}
	}
	var perr *PolicyError
	for _, p := range []string{"First-Pass-1", "Second-Pass-2", "Third-Pass-3"} {
		if err := f.svc.ChangePassword(ctx, storeID, u.ID, p); !errors.As(err, &perr) || !strings.Contains(perr.Message, "last 3") {
			t.Fatalf("reusing %s: %v", p, err)
		}
	}
	if err := f.svc.ChangePassword(ctx, storeID, u.ID, "Fourth-Pass-4"); err != nil {
		t.Fatal(err)
	}
	// The first is now the fourth-latest: allowed again.
	if err := f.svc.ChangePassword(ctx, storeID, u.ID, "First-Pass-1"); err != nil {
		t.Fatalf("the fourth-latest password: %v", err)
	}
	f.set("password.reuse-prevention", "5")
	if err := f.svc.ChangePassword(ctx, storeID, u.ID, "Second-Pass-2"); !errors.As(err, &perr) {
		t.Fatalf("with reuse-prevention 5, the fifth-latest: %v", err)
	}
	f.set("password.reuse-prevention", "1")
	if err := f.svc.ChangePassword(ctx, storeID, u.ID, "Fourth-Pass-4"); err != nil {
		t.Fatalf("with reuse-prevention 1, an older password: %v", err)
	}
	if err := f.svc.ChangePassword(ctx, storeID, u.ID, "Fourth-Pass-4"); !errors.As(err, &perr) {
		t.Fatalf("with reuse-prevention 1, the current password: %v", err)
	}
}

func TestPasswordPolicy(t *testing.T) {
	for _, tc := range []struct {
		password string
		min      int
		ok       bool
	}{
		{"Abcdef1!", 8, true},
		{"Abcde1!", 8, false},                            // 7
		{"Abcdef1!" + strings.Repeat("x", 56), 8, true},  // 64
		{"Abcdef1!" + strings.Repeat("x", 57), 8, false}, // 65
		{"abcdef1!", 8, false},                           // no upper
		{"ABCDEF1!", 8, false},                           // no lower
		{"Abcdefg!", 8, false},                           // no digit
		{"Abcdefg1", 8, false},                           // no symbol
		{"Abcdef1 ", 8, false},                           // a space is not one of the symbols
		{"Abcdef1€", 8, false},                           // nor is €
		{"Äbcdéf1€~", 8, true},                           // other characters are allowed beside them
		{"Abc`def1", 8, true},
		{"Abc\tdef1!", 8, false}, // control character
		{"Abcdef1!xy", 10, true},
		{"Abcdef1!x", 10, false},
		{"Abcdef1!\xff", 8, false}, // not UTF-8
	} {
		err := checkPolicy(tc.password, tc.min)
		if (err == nil) != tc.ok {
			t.Errorf("checkPolicy(%q, %d) = %v; want ok=%v", tc.password, tc.min, err, tc.ok)
		}
	}
	if err := checkPolicy("abcdefgh", 8); err == nil || !strings.Contains(err.Message, "an upper-case letter, a digit and one of") {
		t.Fatalf("the message names what is missing: %v", err)
	}
	for i := 0; i < 200; i++ {
		if p := generatePassword(8); checkPolicy(p, 8) != nil || len(p) != genLength {
			t.Fatalf("generated %q", p)
		}
	}
}

func TestSettings(t *testing.T) {
	f := newFixture(t, true)
	set, err := f.svc.Settings(ctx)
	want := Settings{MFAMode: MFARequired, MFAPrompt: PromptAlways, PortalSessionDuration: 8 * time.Hour, PasswordMinLength: 8, PasswordReusePrevention: 3}
	if err != nil || set != want {
		t.Fatalf("defaults = %+v, %v; want %+v", set, err, want)
	}
	for _, tc := range []struct{ key, value, stored string }{
		{"mfa.mode", "OPTIONAL", "optional"},
		{"mfa.prompt", "new-context", "new-context"},
		{"portal.session-duration", "pt15m", "PT15M"},
		{"portal.session-duration", "P90D", "P90D"},
		{"portal.session-duration", "P1DT12H", "P1DT12H"},
		{"portal.session-duration", "P2W", "P2W"},
		{"password.min-length", "12", "12"},
		{"password.reuse-prevention", "24", "24"},
	} {
		got, err := f.svc.UpdateSetting(ctx, tc.key, tc.value)
		if err != nil || got.Value != tc.stored {
			t.Fatalf("UpdateSetting(%s, %s) = %+v, %v", tc.key, tc.value, got, err)
		}
	}
	set, _ = f.svc.Settings(ctx)
	want = Settings{MFAMode: MFAOptional, MFAPrompt: PromptNewContext, PortalSessionDuration: 14 * 24 * time.Hour, PasswordMinLength: 12, PasswordReusePrevention: 24}
	if set != want {
		t.Fatalf("after updates = %+v; want %+v", set, want)
	}
	for _, tc := range []struct{ key, value, msg string }{
		{"mfa.mode", "sometimes", "mfa.mode must be required, optional or off"},
		{"mfa.prompt", "never", "mfa.prompt must be always or new-context"},
		{"portal.session-duration", "PT14M", "from PT15M (15 minutes) to P90D (90 days)"},
		{"portal.session-duration", "P91D", "from PT15M"},
		{"portal.session-duration", "8h", "not an ISO-8601 duration"},
		{"portal.session-duration", "P1M", "not an ISO-8601 duration"},
		{"portal.session-duration", "PT", "not an ISO-8601 duration"},
		{"portal.session-duration", "P99999999999999999999D", "not an ISO-8601 duration"},
		{"password.min-length", "7", "from 8 to 64"},
		{"password.min-length", "65", "from 8 to 64"},
		{"password.reuse-prevention", "0", "from 1 to 24"},
		{"no.such.key", "1", `Unknown setting "no.such.key"`},
	} {
		_, err := f.svc.UpdateSetting(ctx, tc.key, tc.value)
		var serr *SettingError
		if !errors.As(err, &serr) || !strings.Contains(serr.Message, tc.msg) {
			t.Errorf("UpdateSetting(%s, %s) = %v; want a SettingError saying %q", tc.key, tc.value, err, tc.msg)
		}
	}
	if list, err := f.svc.SettingValues(ctx, ""); err != nil || len(list) != len(settingKeys) || list[0].Key != "mfa.mode" || list[0].Default {
		t.Fatalf("SettingValues = %+v, %v", list, err)
	}
	// A stored value that no longer parses counts as unset.
	f.store.Write(ctx, func(tx store.Tx) error { return tx.PutSetting(ctx, "mfa.mode", "bogus") })
	if list, err := f.svc.SettingValues(ctx, "mfa.mode"); err != nil || len(list) != 1 || list[0].Value != MFARequired || !list[0].Default {
		t.Fatalf("a damaged value = %+v, %v", list, err)
	}
}

func TestMFAStep(t *testing.T) {
	f := newFixture(t, true)
	u := f.user("alice", good)
	other := f.user("bob", good)
	token, expires, err := f.svc.RememberDevice(ctx, storeID, u.ID)
	if err != nil || !expires.Equal(f.clock.Now().Add(RememberedDeviceLifetime)) {
		t.Fatalf("remembered until %v, %v", expires, err)
	}
	otherToken, _, err := f.svc.RememberDevice(ctx, storeID, other.ID)
	if err != nil {
		t.Fatal(err)
	}
	epoch := f.epoch(u.ID)
	for _, tc := range []struct {
		mode, prompt string
		device       bool
		token        string
		want         MFAStep
	}{
		{MFARequired, PromptAlways, false, "", MFAEnroll},
		{MFARequired, PromptAlways, true, "", MFAVerify},
		{MFARequired, PromptAlways, true, token, MFAVerify},
		{MFARequired, PromptNewContext, true, token, MFANone},
		{MFARequired, PromptNewContext, true, otherToken, MFAVerify}, // another user's browser
		{MFARequired, PromptNewContext, true, token + "x", MFAVerify},
		{MFARequired, PromptNewContext, true, "", MFAVerify},
		{MFARequired, PromptNewContext, false, token, MFAEnroll},
		{MFAOptional, PromptAlways, false, "", MFANone},
		{MFAOptional, PromptAlways, true, "", MFAVerify},
		{MFAOff, PromptAlways, true, "", MFANone},
		{MFAOff, PromptAlways, false, "", MFANone},
	} {
		set := Settings{MFAMode: tc.mode, MFAPrompt: tc.prompt}
		if got := f.svc.mfaStep(set, u, tc.device, tc.token, epoch, f.clock.Now()); got != tc.want {
			t.Errorf("%s/%s device=%v token=%q: %v; want %v", tc.mode, tc.prompt, tc.device, tc.token, got, tc.want)
		}
	}
	if f.svc.rememberedDevice(token, storeID, u.ID, epoch, expires) {
		t.Fatal("a remembered device outlived its token")
	}
	// Through CheckPassword: the settings and the device it is given.
	f.set("mfa.prompt", "new-context")
	f.enrollTOTP(u, "phone")
	a, err := f.svc.CheckPassword(ctx, storeID, "alice", good, "192.0.2.1")
	if err != nil || a.MFA != MFAVerify || !a.HasTOTP {
		t.Fatalf("new browser: %+v, %v", a, err)
	}
	// The token was made before the app was added: enrolling forgot it.
	a, err = f.svc.CheckPassword(ctx, storeID, "alice", good, "192.0.2.1", FromDevice(token))
	if err != nil || a.MFA != MFAVerify {
		t.Fatalf("a browser remembered before a device was added: %+v, %v", a, err)
	}
	if token, _, err = f.svc.RememberDevice(ctx, storeID, u.ID); err != nil {
		t.Fatal(err)
	}
	a, err = f.svc.CheckPassword(ctx, storeID, "alice", good, "192.0.2.1", FromDevice(token))
	if err != nil || a.MFA != MFANone {
		t.Fatalf("remembered browser: %+v, %v", a, err)
	}
}

func TestSweepThrottles(t *testing.T) {
	f := newFixture(t, true)
	f.svc.CheckPassword(ctx, storeID, "alice", "x", "192.0.2.1")
	f.clock.Advance(forgetLocksAfter + time.Minute)
	sweepCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { f.svc.SweepThrottles(sweepCtx, discardLog()); close(done) }()
	deadline := time.Now().Add(5 * time.Second)
	for {
		var err error
		f.store.Read(ctx, func(tx store.Tx) error { _, err = tx.GetThrottle(ctx, userThrottleKey(storeID, "alice")); return nil })
		if errors.Is(err, store.ErrNotFound) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the sweep left a day-old throttle")
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
}

// A failed sign-in under a name that does not exist keeps the name out of
// the audit record: people type their password into the name field.
func TestUnknownUserNameHiddenInAudit(t *testing.T) {
	f := newFixture(t, true)
	f.svc.CheckPassword(ctx, storeID, "Hunter2-Password!", "x", "192.0.2.1")
	events := f.audit()
	if len(events) != 2 { // the challenge and the failed verification
		t.Fatalf("%d events", len(events))
	}
	for _, e := range events {
		if strings.Contains(e.RequestParams, "Hunter2") || !strings.Contains(e.RequestParams, model.Hidden) {
			t.Fatalf("recorded as %s", e.RequestParams)
		}
	}
}

func discardLog() *slog.Logger { return slog.New(slog.DiscardHandler) }

// A burst of concurrent guesses cannot all pass the throttle check before
// the first failures are counted: past the limit, at most one guess per
// other hash slot is checked.
func TestBruteForceBurstCannotOutrunTheThrottle(t *testing.T) {
	f := newFixture(t, true)
	f.user("alice", good)
	const burst = 40
	before := f.svc.hasher.computed.Load()
	var wg sync.WaitGroup
	var bad, throttledN atomic.Int32
	for i := 0; i < burst; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			switch _, err := f.svc.CheckPassword(ctx, storeID, "alice", fmt.Sprintf("Guess-%d-x", i), fmt.Sprintf("203.0.113.%d", i)); err {
			case ErrBadCredentials:
				bad.Add(1)
			case ErrThrottled:
				throttledN.Add(1)
			default:
				t.Error(err)
			}
		}(i)
	}
	wg.Wait()
	checked := int(f.svc.hasher.computed.Load() - before)
	slots := cap(f.svc.hasher.slots)
	if checked > perUser.Limit+slots-1 || int(bad.Load()) != checked || int(throttledN.Load()) != burst-checked {
		t.Fatalf("a burst of %d guesses: %d checked (limit %d, %d slots), %d refused", burst, checked, perUser.Limit, slots, throttledN.Load())
	}
}
