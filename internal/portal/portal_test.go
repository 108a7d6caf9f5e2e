package portal_test

import (
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/atrium-sso/atrium/internal/access"
	"github.com/atrium-sso/atrium/internal/creds"
	"github.com/atrium-sso/atrium/internal/ids"
	"github.com/atrium-sso/atrium/internal/portal"
	"github.com/atrium-sso/atrium/internal/store"
	"github.com/atrium-sso/atrium/internal/store/sqlite"
)

var ctx = context.Background()

// clock is a time that tests move by hand, past the caches' second.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// world is an instance with its directory and access written straight to
// a store, and the portal over it.
type world struct {
	t      *testing.T
	db     store.Store
	clock  *clock
	portal *portal.Service
	inst   store.Instance
}

const management = "111111111111"

func newWorld(t *testing.T) *world {
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "atrium.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx, nil); err != nil {
		t.Fatal(err)
	}
	w := &world{t: t, db: db, clock: &clock{t: time.Now().UTC().Truncate(time.Second)},
		inst: store.Instance{ARN: "arn:aws:sso:::instance/ssoins-1111111111111111", IdentityStoreID: "d-1111111111", OwnerAccountID: management,
			Name: "atrium", Status: "ACTIVE", CreatedAt: time.Now()}}
	w.portal = portal.New(db, portal.Config{Clock: w.clock.Now})
	w.write(func(tx store.Tx) error { return tx.InsertInstance(ctx, w.inst) })
	return w
}

func (w *world) write(fn func(tx store.Tx) error) {
	w.t.Helper()
	if err := w.db.Write(ctx, fn); err != nil {
		w.t.Fatal(err)
	}
}

func (w *world) user(name string) *store.User {
	u := store.User{IdentityStoreID: w.inst.IdentityStoreID, ID: ids.UUID(), UserName: name, DisplayName: name, Status: store.UserEnabled,
		CreatedAt: time.Now(), UpdatedAt: time.Now()}
	w.write(func(tx store.Tx) error { return tx.InsertUser(ctx, u) })
	return &u
}

func (w *world) group(name string, members ...*store.User) (string, []string) {
	g := store.Group{IdentityStoreID: w.inst.IdentityStoreID, ID: ids.UUID(), DisplayName: name, CreatedAt: time.Now(), UpdatedAt: time.Now()}
	var memberships []string
	w.write(func(tx store.Tx) error {
		if err := tx.InsertGroup(ctx, g); err != nil {
			return err
		}
		for _, u := range members {
			m := store.GroupMembership{IdentityStoreID: w.inst.IdentityStoreID, ID: ids.UUID(), GroupID: g.ID, UserID: u.ID}
			if err := tx.InsertGroupMembership(ctx, m); err != nil {
				return err
			}
			memberships = append(memberships, m.ID)
		}
		return nil
	})
	return g.ID, memberships
}

func (w *world) account(id, name string) {
	w.write(func(tx store.Tx) error {
		return tx.InsertAccount(ctx, store.Account{ID: id, Name: name, Email: strings.ToLower(name) + "@example.com", ParentID: "r-abcd",
			Status: "ACTIVE", State: "ACTIVE", JoinedMethod: "CREATED", JoinedAt: time.Now()})
	})
}

func (w *world) permissionSet(name, duration string) *store.PermissionSet {
	ps := store.PermissionSet{InstanceARN: w.inst.ARN, ARN: w.inst.ARN[:len("arn:aws:sso:::")] + "permissionSet/ssoins-1111111111111111/ps-" + ids.Hex(8),
		Name: name, SessionDuration: duration, Version: 1, CreatedAt: time.Now(), UpdatedAt: time.Now()}
	w.write(func(tx store.Tx) error { return tx.InsertPermissionSet(ctx, ps) })
	return &ps
}

// assign gives a principal a permission set in an account and, unless
// provisioned is false, puts its role there as provisioning would.
func (w *world) assign(account string, ps *store.PermissionSet, principalType, principalID string, provisioned bool) store.AccountAssignment {
	a := store.AccountAssignment{InstanceARN: w.inst.ARN, AccountID: account, PermissionSetARN: ps.ARN, PrincipalType: principalType,
		PrincipalID: principalID, CreatedAt: time.Now()}
	w.write(func(tx store.Tx) error {
		if err := tx.InsertAssignment(ctx, a); err != nil {
			return err
		}
		if !provisioned {
			return nil
		}
		name := access.RoleName(ps, account)
		if err := tx.PutRole(ctx, store.IAMRole{AccountID: account, Name: name, Path: access.RolePath, RoleID: "AROA" + strings.ToUpper(ids.Hex(9))[:17],
			AssumeRolePolicy: "{}", MaxSessionDuration: 12 * 3600, ManagedBy: "sso.amazonaws.com"}); err != nil {
			return err
		}
		return tx.PutProvisioned(ctx, store.Provisioned{InstanceARN: w.inst.ARN, AccountID: account, PermissionSetARN: ps.ARN, RoleName: name,
			Version: ps.Version, ProvisionedAt: time.Now()})
	})
	return a
}

func (w *world) signIn(u *store.User) (string, *portal.Session) {
	w.t.Helper()
	token, sess, err := w.portal.StartSession(ctx, u, []string{"pwd", "totp"}, "192.0.2.10", "test-agent", nil)
	if err != nil {
		w.t.Fatal(err)
	}
	return token, sess
}

// A session's cookie token is random and only its hash is kept; the
// session ends with sign-out, and a disabled or deleted user has none.
func TestSessionLifecycle(t *testing.T) {
	w := newWorld(t)
	alice := w.user("alice")
	token, sess := w.signIn(alice)
	if len(token) < 64 || sess.UserName != "alice" || !sess.ExpiresAt.Equal(w.clock.Now().Add(portal.DefaultSessionDuration)) {
		t.Fatalf("StartSession = %q, %+v", token, sess)
	}
	w.db.Read(ctx, func(tx store.Tx) error {
		row, err := tx.GetSignInSession(ctx, sess.ID)
		if err != nil || row.TokenHash != creds.TokenHash(token) || strings.Contains(row.TokenHash, token) {
			t.Fatalf("stored session = %+v, %v", row, err)
		}
		return nil
	})
	got, err := w.portal.SessionByToken(ctx, token)
	if err != nil || got.ID != sess.ID || !reflect.DeepEqual(got.Methods, []string{"pwd", "totp"}) {
		t.Fatalf("SessionByToken = %+v, %v", got, err)
	}
	for _, bad := range []string{"", token[:len(token)-1], strings.ToUpper(token)} {
		if _, err := w.portal.SessionByToken(ctx, bad); !errors.Is(err, portal.ErrNoSession) {
			t.Fatalf("SessionByToken(%q) = %v", bad, err)
		}
	}
	if err := w.portal.EndSession(ctx, sess.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := w.portal.SessionByToken(ctx, token); !errors.Is(err, portal.ErrNoSession) {
		t.Fatalf("after sign-out: %v", err)
	}
	if err := w.portal.EndSession(ctx, "no-such-session"); !errors.Is(err, portal.ErrNoSession) {
		t.Fatalf("ending an unknown session: %v", err)
	}

	// A session expires.
	_, sess = w.signIn(alice)
	w.clock.Advance(portal.DefaultSessionDuration)
	if _, err := w.portal.Session(ctx, sess.ID); !errors.Is(err, portal.ErrNoSession) {
		t.Fatalf("expired session: %v", err)
	}

	// Disabled users cannot start one, and theirs stop within a second.
	_, sess = w.signIn(alice)
	w.setStatus(alice, store.UserDisabled)
	if _, _, err := w.portal.StartSession(ctx, alice, []string{"pwd"}, "", "", nil); !errors.Is(err, portal.ErrNoSession) {
		t.Fatalf("a disabled user started a session: %v", err)
	}
	w.clock.Advance(time.Second)
	if _, err := w.portal.Session(ctx, sess.ID); !errors.Is(err, portal.ErrNoSession) {
		t.Fatalf("session of a disabled user: %v", err)
	}
	w.setStatus(alice, store.UserEnabled)
	w.clock.Advance(time.Second)
	if _, err := w.portal.Session(ctx, sess.ID); err != nil {
		t.Fatalf("re-enabled user's session: %v", err)
	}
	w.write(func(tx store.Tx) error { return tx.DeleteUser(ctx, alice.IdentityStoreID, alice.ID) })
	w.clock.Advance(time.Second)
	if _, err := w.portal.Session(ctx, sess.ID); !errors.Is(err, portal.ErrNoSession) {
		t.Fatalf("session of a deleted user: %v", err)
	}
}

func (w *world) setStatus(u *store.User, status string) {
	w.write(func(tx store.Tx) error {
		_, err := tx.UpdateUser(ctx, u.IdentityStoreID, u.ID, func(x *store.User) error { x.Status = status; return nil })
		return err
	})
}

// A person sees the accounts and permission sets assigned to them or to
// their groups, provisioned — nothing else.
func TestEntitlementsDirectAndThroughGroups(t *testing.T) {
	w := newWorld(t)
	alice, bob := w.user("alice"), w.user("bob")
	devs, _ := w.group("Developers", alice)
	w.account("222222222222", "Staging")
	w.account("333333333333", "Prod")
	w.account("444444444444", "Sandbox")
	admin, read, dev, pending := w.permissionSet("Admin", "PT2H"), w.permissionSet("ReadOnly", ""), w.permissionSet("Developer", "PT4H"),
		w.permissionSet("NotYet", "")
	w.assign("222222222222", admin, store.PrincipalUser, alice.ID, true)
	w.assign("222222222222", dev, store.PrincipalGroup, devs, true)
	w.assign("222222222222", dev, store.PrincipalUser, alice.ID, true) // held twice: listed once
	w.assign("333333333333", read, store.PrincipalGroup, devs, true)
	w.assign("333333333333", pending, store.PrincipalUser, alice.ID, false)
	w.assign("444444444444", pending, store.PrincipalUser, alice.ID, false) // nothing provisioned: not listed
	w.assign("444444444444", admin, store.PrincipalUser, bob.ID, true)

	_, sess := w.signIn(alice)
	got, err := w.portal.Entitlements(ctx, sess)
	want := []portal.AccountAccess{
		{AccountID: "222222222222", AccountName: "Staging", Email: "staging@example.com", Roles: []string{"Admin", "Developer"}},
		{AccountID: "333333333333", AccountName: "Prod", Email: "prod@example.com", Roles: []string{"ReadOnly"}},
	}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("Entitlements = %+v, %v\nwant %+v", got, err, want)
	}
	_, bobs := w.signIn(bob)
	got, err = w.portal.Entitlements(ctx, bobs)
	if err != nil || len(got) != 1 || got[0].AccountID != "444444444444" || !reflect.DeepEqual(got[0].Roles, []string{"Admin"}) {
		t.Fatalf("bob's entitlements = %+v, %v", got, err)
	}
}

// Role credentials are ASIA keys of the permission set's role in the
// account, named after the user, lasting its session duration, tied to the
// session; a role the user does not hold gets none.
func TestRoleCredentials(t *testing.T) {
	w := newWorld(t)
	alice, bob := w.user("alice"), w.user("bob")
	w.account("222222222222", "Staging")
	admin, later := w.permissionSet("Admin", "PT2H"), w.permissionSet("Later", "")
	w.assign("222222222222", admin, store.PrincipalUser, alice.ID, true)
	w.assign("222222222222", later, store.PrincipalUser, alice.ID, false)
	_, sess := w.signIn(alice)

	c, err := w.portal.RoleCredentials(ctx, sess, "222222222222", "Admin")
	if err != nil {
		t.Fatal(err)
	}
	role := access.RoleName(admin, "222222222222")
	if !strings.HasPrefix(c.AccessKeyID, "ASIA") || len(c.AccessKeyID) != 20 || len(c.SecretAccessKey) != 40 || c.SessionToken == "" ||
		!c.Expiration.Equal(w.clock.Now().Add(2*time.Hour)) || c.AssumedRoleARN != "arn:aws:sts::222222222222:assumed-role/"+role+"/alice" {
		t.Fatalf("RoleCredentials = %+v", c)
	}
	w.db.Read(ctx, func(tx store.Tx) error {
		row, err := tx.GetSessionCredential(ctx, c.AccessKeyID)
		if err != nil || row.SessionID != sess.ID || row.SessionName != "alice" || row.RoleARN != "arn:aws:iam::222222222222:role"+access.RolePath+role ||
			row.SourceARN != sess.PrincipalARN() || row.SessionTokenHash == c.SessionToken {
			t.Fatalf("stored credential = %+v, %v", row, err)
		}
		return nil
	})
	for _, tc := range []struct{ account, role string }{
		{"222222222222", "Later"},    // assigned, not provisioned
		{"222222222222", "ReadOnly"}, // no such permission set
		{"333333333333", "Admin"},    // not assigned in that account
		{"222222222222", "admin"},    // names are exact
	} {
		if _, err := w.portal.RoleCredentials(ctx, sess, tc.account, tc.role); !errors.Is(err, portal.ErrNoAccess) {
			t.Fatalf("RoleCredentials(%s, %s) = %v; want ErrNoAccess", tc.account, tc.role, err)
		}
	}
	_, bobs := w.signIn(bob)
	if _, err := w.portal.RoleCredentials(ctx, bobs, "222222222222", "Admin"); !errors.Is(err, portal.ErrNoAccess) {
		t.Fatalf("bob took alice's role: %v", err)
	}

	// Credentials never outlive the sign-in session they die with.
	w.clock.Advance(portal.DefaultSessionDuration - 30*time.Minute)
	c, err = w.portal.RoleCredentials(ctx, sess, "222222222222", "Admin")
	if err != nil || !c.Expiration.Equal(sess.ExpiresAt) {
		t.Fatalf("near the session's end: %+v, %v; want expiry %v", c, err, sess.ExpiresAt)
	}
}

// Credentials from a session are valid only while the session is live,
// its user enabled, and the user holds the role — directly or through a
// group; each change is seen within a second.
func TestCredentialRevocation(t *testing.T) {
	w := newWorld(t)
	w.account("222222222222", "Staging")
	ps := w.permissionSet("Admin", "")
	check := func(t *testing.T, c *store.SessionCredential, want error, what string) {
		t.Helper()
		w.clock.Advance(time.Second) // past every cached answer
		if err := w.portal.ValidateSessionCredential(ctx, c); !errors.Is(err, want) && !(want == nil && err == nil) {
			t.Fatalf("%s: ValidateSessionCredential = %v; want %v", what, err, want)
		}
	}
	issue := func(t *testing.T, sess *portal.Session) *store.SessionCredential {
		c, err := w.portal.RoleCredentials(ctx, sess, "222222222222", "Admin")
		if err != nil {
			t.Fatal(err)
		}
		var row *store.SessionCredential
		w.db.Read(ctx, func(tx store.Tx) error { row, err = tx.GetSessionCredential(ctx, c.AccessKeyID); return err })
		return row
	}

	t.Run("group membership", func(t *testing.T) {
		u := w.user("through-group")
		g, memberships := w.group("G1", u)
		a := w.assign("222222222222", ps, store.PrincipalGroup, g, true)
		_, sess := w.signIn(u)
		c := issue(t, sess)
		check(t, c, nil, "held through a group")
		// A chained session is held to the role it came from.
		chained := *c
		chained.RoleARN, chained.SourceARN = "arn:aws:iam::222222222222:role/OrganizationAccountAccessRole", c.AssumedRoleARN
		check(t, &chained, nil, "chained")
		w.write(func(tx store.Tx) error { return tx.DeleteGroupMembership(ctx, u.IdentityStoreID, memberships[0]) })
		check(t, c, creds.ErrRevoked, "membership removed")
		check(t, &chained, creds.ErrRevoked, "chained, membership removed")
		w.write(func(tx store.Tx) error { return tx.DeleteAssignment(ctx, a) })
	})
	t.Run("assignment", func(t *testing.T) {
		u := w.user("direct")
		a := w.assign("222222222222", ps, store.PrincipalUser, u.ID, true)
		_, sess := w.signIn(u)
		c := issue(t, sess)
		check(t, c, nil, "assigned")
		w.write(func(tx store.Tx) error { return tx.DeleteAssignment(ctx, a) })
		check(t, c, creds.ErrRevoked, "assignment removed")
	})
	t.Run("user and session", func(t *testing.T) {
		u := w.user("person")
		w.assign("222222222222", ps, store.PrincipalUser, u.ID, true)
		_, sess := w.signIn(u)
		c := issue(t, sess)
		w.setStatus(u, store.UserDisabled)
		check(t, c, creds.ErrRevoked, "user disabled")
		w.setStatus(u, store.UserEnabled)
		check(t, c, nil, "user enabled again")
		if err := w.portal.EndSession(ctx, sess.ID); err != nil {
			t.Fatal(err)
		}
		// Sign-out on this node takes effect at once.
		if err := w.portal.ValidateSessionCredential(ctx, c); !errors.Is(err, creds.ErrRevoked) {
			t.Fatalf("after sign-out: %v", err)
		}
		_, sess = w.signIn(u)
		c = issue(t, sess)
		if n, err := w.portal.RevokeUserSessions(ctx, u.IdentityStoreID, u.ID); err != nil || n != 1 {
			t.Fatalf("RevokeUserSessions = %d, %v", n, err)
		}
		check(t, c, creds.ErrRevoked, "sessions revoked by an administrator")
	})
}

// Administrators list live sessions (a disabled user's are not) and end them.
func TestListAndRevokeSessions(t *testing.T) {
	w := newWorld(t)
	alice, bob := w.user("alice"), w.user("bob")
	_, a1 := w.signIn(alice)
	_, a2 := w.signIn(alice)
	_, b1 := w.signIn(bob)
	ids := func(list []portal.Session) map[string]bool {
		m := map[string]bool{}
		for _, s := range list {
			m[s.ID] = true
		}
		return m
	}
	all, next, err := w.portal.ListSessions(ctx, w.inst.IdentityStoreID, "", 100, nil)
	if err == nil && next == nil && !reflect.DeepEqual(ids(all), map[string]bool{a1.ID: true, a2.ID: true, b1.ID: true}) {
		err = errors.New("wrong sessions")
	}
	if err != nil {
		t.Fatalf("ListSessions = %+v, %v", all, err)
	}
	w.setStatus(bob, store.UserDisabled)
	mine, _, err := w.portal.ListSessions(ctx, w.inst.IdentityStoreID, alice.ID, 100, nil)
	if err != nil || !reflect.DeepEqual(ids(mine), map[string]bool{a1.ID: true, a2.ID: true}) {
		t.Fatalf("alice's sessions = %+v, %v", mine, err)
	}
	if err := w.portal.RevokeSession(ctx, "d-9999999999", a1.ID); !errors.Is(err, portal.ErrNoSession) {
		t.Fatalf("revoking across identity stores: %v", err)
	}
	if err := w.portal.RevokeSession(ctx, w.inst.IdentityStoreID, a1.ID); err != nil {
		t.Fatal(err)
	}
	all, _, err = w.portal.ListSessions(ctx, w.inst.IdentityStoreID, "", 100, nil)
	if err != nil || !reflect.DeepEqual(ids(all), map[string]bool{a2.ID: true}) {
		t.Fatalf("after revoking one = %+v, %v", all, err)
	}
}
