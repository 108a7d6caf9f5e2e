package authz

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/atrium-sso/atrium/internal/apierr"
	"github.com/atrium-sso/atrium/internal/awsproto"
	"github.com/atrium-sso/atrium/internal/principal"
	"github.com/atrium-sso/atrium/internal/store"
	"github.com/atrium-sso/atrium/internal/store/sqlite"
)

const (
	mgmt   = "111111111111"
	member = "222222222222"
)

var ctx = context.Background()

type fixture struct {
	t     *testing.T
	db    store.Store
	a     *Authorizer
	clock time.Time
}

func newFixture(t *testing.T) *fixture {
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "atrium.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx, nil); err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, db: db, a: New(db, mgmt), clock: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)}
	f.a.now = func() time.Time { return f.clock }
	return f
}

func (f *fixture) putRole(r store.IAMRole) {
	f.t.Helper()
	if r.Path == "" {
		r.Path = "/"
	}
	if r.AssumeRolePolicy == "" {
		r.AssumeRolePolicy = trustRoot(mgmt)
	}
	if err := f.db.Write(ctx, func(tx store.Tx) error { return tx.PutRole(ctx, r) }); err != nil {
		f.t.Fatal(err)
	}
}

func trustRoot(account string) string {
	return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + account + `:root"},"Action":"sts:AssumeRole"}]}`
}

func allow(action string) string {
	return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"` + action + `","Resource":"*"}]}`
}

// session is a principal of a session of r, as the Authenticator makes it.
func session(r store.IAMRole) *principal.Principal {
	if r.Path == "" {
		r.Path = "/"
	}
	return &principal.Principal{AccountID: r.AccountID, ARN: "arn:aws:sts::" + r.AccountID + ":assumed-role/" + r.Name + "/alice",
		UserID: r.RoleID + ":alice", AccessKeyID: "ASIATESTTESTTEST0001",
		Role: &principal.RoleSession{RoleARN: r.ARN(), RoleID: r.RoleID, SessionName: "alice", IssuedAt: time.Date(2030, 1, 2, 3, 0, 0, 0, time.UTC)}}
}

func (f *fixture) decide(a awsproto.Access) error {
	f.t.Helper()
	if a.Resource == "" {
		a.Resource = "*"
	}
	return f.a.Authorize(ctx, a)
}

func isDenied(t *testing.T, err error, what string) {
	t.Helper()
	e, ok := apierr.As(err)
	if !ok || e.Code != "AccessDeniedException" {
		t.Fatalf("%s: %v; want AccessDeniedException", what, err)
	}
}

func TestAdminRootMayDoAnything(t *testing.T) {
	f := newFixture(t)
	root := &principal.Principal{AccountID: mgmt, ARN: "arn:aws:iam::" + mgmt + ":root", Admin: true}
	for _, a := range []string{"organizations:CreateAccount", "sso:DeleteInstance", "iam:DeleteRole"} {
		if err := f.decide(awsproto.Access{Principal: root, Action: a, ManagementOnly: true}); err != nil {
			t.Fatalf("%s: %v", a, err)
		}
	}
}

func TestMemberAccountCannotCallOrganizationAdminAPIs(t *testing.T) {
	f := newFixture(t)
	admin := store.IAMRole{AccountID: member, Name: "OrganizationAccountAccessRole", RoleID: "AROAMEMBERADMIN00001",
		ManagedPolicyARNs: []string{"arn:aws:iam::aws:policy/AdministratorAccess"}}
	f.putRole(admin)
	p := session(admin)
	isDenied(t, f.decide(awsproto.Access{Principal: p, Action: "organizations:ListAccounts", ManagementOnly: true}), "member role, organizations")
	isDenied(t, f.decide(awsproto.Access{Principal: p, Action: "sso:ListInstances", ManagementOnly: true}), "member role, sso-admin")
	// In its own account AdministratorAccess is everything.
	if err := f.decide(awsproto.Access{Principal: p, Action: "iam:GetRole"}); err != nil {
		t.Fatalf("member role in its own account: %v", err)
	}
	memberRoot := &principal.Principal{AccountID: member, ARN: "arn:aws:iam::" + member + ":root"}
	isDenied(t, f.decide(awsproto.Access{Principal: memberRoot, Action: "organizations:ListAccounts", ManagementOnly: true}), "member root")
	if err := f.decide(awsproto.Access{Principal: memberRoot, Action: "iam:CreateRole"}); err != nil {
		t.Fatalf("member root in its own account: %v", err)
	}
}

func TestRoleSessionCannotCallAdminAPIOutsideItsPolicy(t *testing.T) {
	f := newFixture(t)
	r := store.IAMRole{AccountID: mgmt, Name: "WhoAmI", RoleID: "AROAWHOAMI0000000001",
		InlinePolicies: []store.InlinePolicy{{Name: "only", Document: allow("sts:GetCallerIdentity")}}}
	f.putRole(r)
	p := session(r)
	err := f.decide(awsproto.Access{Principal: p, Action: "organizations:ListAccounts", ManagementOnly: true})
	isDenied(t, err, "ListAccounts")
	if e, _ := apierr.As(err); e.Message != "User: "+p.ARN+" is not authorized to perform: organizations:ListAccounts" {
		t.Fatalf("message %q", e.Message)
	}
	if err := f.decide(awsproto.Access{Principal: p, Action: "sts:GetCallerIdentity"}); err != nil {
		t.Fatal(err)
	}
}

func TestRolePoliciesAllKinds(t *testing.T) {
	f := newFixture(t)
	cust := store.IAMPolicy{AccountID: mgmt, ARN: "arn:aws:iam::" + mgmt + ":policy/ReadOrg", Name: "ReadOrg", Path: "/", PolicyID: "ANPAREADORG000000001",
		Document: allow("organizations:Describe*")}
	bound := store.IAMPolicy{AccountID: mgmt, ARN: "arn:aws:iam::" + mgmt + ":policy/Bound", Name: "Bound", Path: "/", PolicyID: "ANPABOUND00000000001",
		Document: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["organizations:*","sso:*"],"Resource":"*"}]}`}
	if err := f.db.Write(ctx, func(tx store.Tx) error {
		if err := tx.InsertPolicy(ctx, cust); err != nil {
			return err
		}
		return tx.InsertPolicy(ctx, bound)
	}); err != nil {
		t.Fatal(err)
	}
	r := store.IAMRole{AccountID: mgmt, Name: "Mixed", Path: "/team/", RoleID: "AROAMIXED00000000001",
		ManagedPolicyARNs: []string{"arn:aws:iam::aws:policy/job-function/ViewOnlyAccess", cust.ARN},
		InlinePolicies: []store.InlinePolicy{
			{Name: "sso", Document: allow("sso:*")},
			{Name: "no-delete", Document: `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"sso:Delete*","Resource":"*"}]}`},
		},
		BoundaryARN: bound.ARN}
	f.putRole(r)
	p := session(r)
	for _, tc := range []struct {
		action string
		ok     bool
	}{
		{"organizations:DescribeOrganization", true}, // customer managed
		{"sso:CreatePermissionSet", true},            // inline
		{"sso:DeletePermissionSet", false},           // inline explicit deny
		{"organizations:ListAccounts", true},         // AWS managed ViewOnlyAccess, within the boundary
		{"identitystore:ListUsers", false},           // ViewOnlyAccess allows it, the boundary does not
		{"organizations:CreateAccount", false},       // nothing allows it
	} {
		err := f.decide(awsproto.Access{Principal: p, Action: tc.action, ManagementOnly: true})
		if tc.ok && err != nil {
			t.Errorf("%s: %v", tc.action, err)
		}
		if !tc.ok && err == nil {
			t.Errorf("%s allowed", tc.action)
		}
	}
}

// Policy conditions see the keys AWS sets for an assumed role.
func TestConditionKeysOfARoleSession(t *testing.T) {
	f := newFixture(t)
	r := store.IAMRole{AccountID: mgmt, Name: "Cond", Path: "/p/", RoleID: "AROACOND000000000001"}
	doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sso:ListInstances","Resource":"*","Condition":{
		"StringEquals":{"aws:PrincipalArn":"` + r.ARN() + `","aws:userid":"AROACOND000000000001:alice","aws:PrincipalAccount":"` + mgmt + `","aws:PrincipalType":"AssumedRole"},
		"Null":{"aws:username":"true"},
		"IpAddress":{"aws:SourceIp":"10.0.0.0/8"},
		"Bool":{"aws:SecureTransport":"true"},
		"DateLessThan":{"aws:CurrentTime":"2030-06-01T00:00:00Z"}}}]}`
	r.InlinePolicies = []store.InlinePolicy{{Name: "cond", Document: doc}}
	f.putRole(r)
	p := session(r)
	ok := awsproto.Access{Principal: p, Action: "sso:ListInstances", SourceIP: "10.1.2.3", SecureTransport: true, ManagementOnly: true}
	if err := f.decide(ok); err != nil {
		t.Fatalf("every condition holds: %v", err)
	}
	other := ok
	other.SourceIP = "192.0.2.1"
	isDenied(t, f.decide(other), "another source address")
	plain := ok
	plain.SecureTransport = false
	isDenied(t, f.decide(plain), "plain HTTP")
	f.clock = time.Date(2030, 7, 1, 0, 0, 0, 0, time.UTC)
	isDenied(t, f.decide(ok), "after the date")
}

// ABAC: a policy that matches the session's tags against the resource's
// allows only the sessions whose tags say so.
func TestPrincipalTagsOfARoleSession(t *testing.T) {
	f := newFixture(t)
	r := store.IAMRole{AccountID: mgmt, Name: "Abac", Path: "/", RoleID: "AROAABAC000000000001"}
	doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sso:ListInstances","Resource":"*","Condition":{
		"StringEquals":{"aws:PrincipalTag/CostCenter":"CC-7"}}}]}`
	r.InlinePolicies = []store.InlinePolicy{{Name: "abac", Document: doc}}
	f.putRole(r)
	p := session(r)
	access := awsproto.Access{Principal: p, Action: "sso:ListInstances", ManagementOnly: true}
	isDenied(t, f.decide(access), "no tags")
	p.Role.Tags = map[string]string{"CostCenter": "CC-8"}
	isDenied(t, f.decide(access), "another cost center")
	p.Role.Tags = map[string]string{"CostCenter": "CC-7"}
	if err := f.decide(access); err != nil {
		t.Fatalf("tagged session: %v", err)
	}
}

// Sessions of a role deleted, or deleted and made again under its name, may
// do nothing: the new role is another role (another RoleID), as on AWS.
func TestSessionOfARecreatedRoleIsDenied(t *testing.T) {
	f := newFixture(t)
	old := store.IAMRole{AccountID: mgmt, Name: "Again", RoleID: "AROAAGAIN00000000001", InlinePolicies: []store.InlinePolicy{{Name: "a", Document: allow("*")}}}
	f.putRole(old)
	p := session(old)
	access := awsproto.Access{Principal: p, Action: "sso:ListInstances", ManagementOnly: true}
	if err := f.decide(access); err != nil {
		t.Fatal(err)
	}
	if err := f.db.Write(ctx, func(tx store.Tx) error { return tx.DeleteRole(ctx, mgmt, "Again") }); err != nil {
		t.Fatal(err)
	}
	f.clock = f.clock.Add(policyTTL)
	isDenied(t, f.decide(access), "role deleted")
	again := old
	again.RoleID = "AROAAGAIN00000000002"
	f.putRole(again)
	f.clock = f.clock.Add(policyTTL)
	isDenied(t, f.decide(access), "role made again")
	if err := f.decide(awsproto.Access{Principal: session(again), Action: "sso:ListInstances", ManagementOnly: true}); err != nil {
		t.Fatalf("a session of the new role: %v", err)
	}
}

// A policy change is seen within policyTTL, though role policies are cached.
func TestPolicyChangeTakesEffectWithinTTL(t *testing.T) {
	f := newFixture(t)
	r := store.IAMRole{AccountID: mgmt, Name: "Changing", RoleID: "AROACHANGING00000001", InlinePolicies: []store.InlinePolicy{{Name: "a", Document: allow("sso:*")}}}
	f.putRole(r)
	access := awsproto.Access{Principal: session(r), Action: "sso:ListInstances", ManagementOnly: true}
	if err := f.decide(access); err != nil {
		t.Fatal(err)
	}
	r.InlinePolicies = []store.InlinePolicy{{Name: "a", Document: allow("organizations:*")}}
	f.putRole(r)
	f.clock = f.clock.Add(policyTTL)
	isDenied(t, f.decide(access), "after the policy changed")
}

func TestAssumeRoleDeniedByTrustPolicy(t *testing.T) {
	f := newFixture(t)
	root := &principal.Principal{AccountID: mgmt, ARN: "arn:aws:iam::" + mgmt + ":root", Admin: true}
	trustsOther := store.IAMRole{AccountID: member, Name: "TrustsOther", RoleID: "AROATRUSTSOTHER00001", Path: "/", AssumeRolePolicy: trustRoot("333333333333")}
	access := awsproto.Access{Principal: root, Action: "sts:AssumeRole", Resource: trustsOther.ARN()}
	err := f.a.AuthorizeAssumeRole(ctx, access, &trustsOther, nil)
	isDenied(t, err, "trust policy names another account")
	if e, _ := apierr.As(err); e.Message != "User: "+root.ARN+" is not authorized to perform: sts:AssumeRole on resource: "+trustsOther.ARN() {
		t.Fatalf("message %q", e.Message)
	}

	external := store.IAMRole{AccountID: member, Name: "External", RoleID: "AROAEXTERNAL00000001", Path: "/",
		AssumeRolePolicy: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + mgmt + `:root"},"Action":"sts:AssumeRole",
			"Condition":{"StringEquals":{"sts:ExternalId":"s3cret"}}}]}`}
	access.Resource = external.ARN()
	isDenied(t, f.a.AuthorizeAssumeRole(ctx, access, &external, nil), "no external id")
	isDenied(t, f.a.AuthorizeAssumeRole(ctx, access, &external, map[string][]string{"sts:ExternalId": {"guess"}}), "wrong external id")
	if err := f.a.AuthorizeAssumeRole(ctx, access, &external, map[string][]string{"sts:ExternalId": {"s3cret"}}); err != nil {
		t.Fatalf("right external id: %v", err)
	}
}

// Role chaining: the caller's own policies must allow sts:AssumeRole on the
// target, and the target's trust policy must name the caller (its role).
func TestRoleSessionAssumesOnlyWhatBothSidesAllow(t *testing.T) {
	f := newFixture(t)
	target := store.IAMRole{AccountID: member, Name: "Target", RoleID: "AROATARGET0000000001", Path: "/"}
	jumper := store.IAMRole{AccountID: mgmt, Name: "Jumper", Path: "/", RoleID: "AROAJUMPER0000000001",
		InlinePolicies: []store.InlinePolicy{{Name: "j", Document: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"` + target.ARN() + `"}]}`}}}
	idle := store.IAMRole{AccountID: mgmt, Name: "Idle", Path: "/", RoleID: "AROAIDLE000000000001"}
	f.putRole(jumper)
	f.putRole(idle)
	trustsJumper := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"` + jumper.ARN() + `"},"Action":"sts:AssumeRole"}]}`

	target.AssumeRolePolicy = trustsJumper
	if err := f.a.AuthorizeAssumeRole(ctx, awsproto.Access{Principal: session(jumper), Action: "sts:AssumeRole", Resource: target.ARN()}, &target, nil); err != nil {
		t.Fatalf("jumper into target: %v", err)
	}
	// Trusted by the account root, but its own policies allow nothing.
	target.AssumeRolePolicy = trustRoot(mgmt)
	isDenied(t, f.a.AuthorizeAssumeRole(ctx, awsproto.Access{Principal: session(idle), Action: "sts:AssumeRole", Resource: target.ARN()}, &target, nil), "idle role")
	// Allowed by its policies, but the trust policy names another role.
	target.AssumeRolePolicy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"` + idle.ARN() + `"},"Action":"sts:AssumeRole"}]}`
	isDenied(t, f.a.AuthorizeAssumeRole(ctx, awsproto.Access{Principal: session(jumper), Action: "sts:AssumeRole", Resource: target.ARN()}, &target, nil), "trust names another role")
}

func TestAnonymousIsDenied(t *testing.T) {
	f := newFixture(t)
	isDenied(t, f.decide(awsproto.Access{Action: "sts:GetCallerIdentity"}), "anonymous")
}
