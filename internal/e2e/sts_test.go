package e2e

import (
	"crypto/rand"
	"encoding/base64"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"

	"github.com/atrium-sso/atrium/internal/store"
	"github.com/atrium-sso/atrium/internal/testenv"
)

func managementAccount(t *testing.T, n *node) string {
	t.Helper()
	org, err := n.organizations().DescribeOrganization(ctxT(t), &organizations.DescribeOrganizationInput{})
	if err != nil {
		t.Fatal(err)
	}
	return *org.Organization.MasterAccountId
}

// putRole writes a role straight into the node's database.
func putRole(t *testing.T, db store.Store, r store.IAMRole) string {
	t.Helper()
	if r.Path == "" {
		r.Path = "/"
	}
	now := time.Now().UTC()
	r.CreatedAt, r.UpdatedAt = now, now
	if err := db.Write(ctxT(t), func(tx store.Tx) error { return tx.PutRole(ctxT(t), r) }); err != nil {
		t.Fatal(err)
	}
	return r.ARN()
}

func trustAccount(account string) string {
	return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + account + `:root"},"Action":"sts:AssumeRole"}]}`
}

func allowOnly(action string) string {
	return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"` + action + `","Resource":"*"}]}`
}

func noRetrySTS(o *sts.Options)            { o.RetryMaxAttempts = 1 }
func noRetryOrgs(o *organizations.Options) { o.RetryMaxAttempts = 1 }
func stsWith(cfg aws.Config) *sts.Client   { return sts.NewFromConfig(cfg, noRetrySTS) }
func orgsWith(cfg aws.Config) *organizations.Client {
	return organizations.NewFromConfig(cfg, noRetryOrgs)
}

// assume runs AssumeRole with cfg and answers the credentials it returned.
func assume(t *testing.T, c *sts.Client, roleARN, session string) *sts.AssumeRoleOutput {
	t.Helper()
	out, err := c.AssumeRole(ctxT(t), &sts.AssumeRoleInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String(session)})
	if err != nil {
		t.Fatalf("AssumeRole %s: %v", roleARN, err)
	}
	return out
}

// withCreds is the node's config signing with temporary credentials.
func withCreds(n *node, c *ststypes.Credentials) aws.Config {
	cfg := n.admin()
	cfg.Credentials = credentials.NewStaticCredentialsProvider(*c.AccessKeyId, *c.SecretAccessKey, *c.SessionToken)
	return cfg
}

func forgedToken() string {
	b := make([]byte, 64)
	rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

var temporaryKeyID = regexp.MustCompile(`^ASIA[A-Z2-7]{16}$`)

// The story of the brief: a new account, its OrganizationAccountAccessRole
// assumed by the management root with the SDK's sts client, and those
// credentials answering for the assumed role in the new account.
func TestAssumeRoleIntoNewAccount(t *testing.T) {
	backends(t, func(t *testing.T, o nodeOptions) {
		n := startNode(t, o)
		st := createAccount(t, n.organizations(), "Dev", "dev@example.com")
		if st.State != "SUCCEEDED" {
			t.Fatalf("CreateAccount ended %s (%s)", st.State, st.FailureReason)
		}
		acct := *st.AccountId
		roleARN := "arn:aws:iam::" + acct + ":role/OrganizationAccountAccessRole"
		before := time.Now()
		out := assume(t, n.sts(), roleARN, "e2e-session")
		c := out.Credentials
		if !temporaryKeyID.MatchString(*c.AccessKeyId) || len(*c.SecretAccessKey) != 40 || len(*c.SessionToken) < 32 {
			t.Fatalf("credentials %q / %d-char secret / %d-char token", *c.AccessKeyId, len(*c.SecretAccessKey), len(*c.SessionToken))
		}
		if d := c.Expiration.Sub(before); d < time.Hour-time.Minute || d > time.Hour+time.Minute {
			t.Fatalf("expires in %s; AssumeRole's default is an hour", d)
		}
		wantARN := "arn:aws:sts::" + acct + ":assumed-role/OrganizationAccountAccessRole/e2e-session"
		u := out.AssumedRoleUser
		if *u.Arn != wantARN || !regexp.MustCompile(`^AROA[A-Z0-9]{17}:e2e-session$`).MatchString(*u.AssumedRoleId) {
			t.Fatalf("AssumedRoleUser = %s %s", *u.Arn, *u.AssumedRoleId)
		}

		role := withCreds(n, c)
		who, err := stsWith(role).GetCallerIdentity(ctxT(t), &sts.GetCallerIdentityInput{})
		if err != nil {
			t.Fatal(err)
		}
		if *who.Arn != wantARN || *who.Account != acct || *who.UserId != *u.AssumedRoleId {
			t.Fatalf("GetCallerIdentity = %s %s %s", *who.Arn, *who.Account, *who.UserId)
		}

		// IAM acts in the caller's own account: the new one.
		got, err := iam.NewFromConfig(role).GetRole(ctxT(t), &iam.GetRoleInput{RoleName: aws.String("OrganizationAccountAccessRole")})
		if err != nil {
			t.Fatalf("iam GetRole with the role's credentials: %v", err)
		}
		if *got.Role.Arn != roleARN || !strings.HasPrefix(*u.AssumedRoleId, *got.Role.RoleId+":") {
			t.Fatalf("GetRole = %s %s; want %s, the id in %s", *got.Role.Arn, *got.Role.RoleId, roleARN, *u.AssumedRoleId)
		}

		// What STS refuses.
		_, err = n.sts().AssumeRole(ctxT(t), &sts.AssumeRoleInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String("long"), DurationSeconds: aws.Int32(7200)})
		if got := failureOf(t, err); got != (failure{"ValidationError", 400}) {
			t.Fatalf("longer than MaxSessionDuration: %+v (%v)", got, err)
		}
		_, err = n.sts().AssumeRole(ctxT(t), &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::" + acct + ":user/OrganizationAccountAccessRole"), RoleSessionName: aws.String("s1")})
		if got := failureOf(t, err); got != (failure{"ValidationError", 400}) {
			t.Fatalf("not a role ARN: %+v (%v)", got, err)
		}
		_, err = n.sts().AssumeRole(ctxT(t), &sts.AssumeRoleInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String("bad name!")})
		if got := failureOf(t, err); got != (failure{"ValidationError", 400}) {
			t.Fatalf("session name outside [\\w+=,.@-]: %+v (%v)", got, err)
		}
		_, err = n.sts().AssumeRole(ctxT(t), &sts.AssumeRoleInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String("tagged"),
			Tags: []ststypes.Tag{{Key: aws.String("team"), Value: aws.String("a")}}})
		if got := failureOf(t, err); got != (failure{"ValidationError", 400}) {
			t.Fatalf("session tags (not honoured, so refused): %+v (%v)", got, err)
		}
		missing := "arn:aws:iam::" + acct + ":role/NoSuchRole"
		_, err = n.sts().AssumeRole(ctxT(t), &sts.AssumeRoleInput{RoleArn: aws.String(missing), RoleSessionName: aws.String("s1")})
		if got := failureOf(t, err); got != (failure{"AccessDenied", 403}) || !strings.Contains(err.Error(), "is not authorized to perform: sts:AssumeRole on resource: "+missing) {
			t.Fatalf("a role that does not exist: %+v (%v)", got, err)
		}
	})
}

// Role chaining: a role session may assume a role its policies allow and
// whose trust policy names its account, for at most an hour.
func TestRoleChaining(t *testing.T) {
	n := startNode(t, nodeOptions{})
	mgmt := managementAccount(t, n)
	st := createAccount(t, n.organizations(), "Chain", "chain@example.com")
	db := nodeStore(t, n, nodeOptions{})
	admin := putRole(t, db, store.IAMRole{AccountID: mgmt, Name: "Operator", RoleID: "AROAOPERATOR000000001", AssumeRolePolicy: trustAccount(mgmt),
		ManagedPolicyARNs: []string{"arn:aws:iam::aws:policy/AdministratorAccess"}, MaxSessionDuration: 3600})
	first := assume(t, n.sts(), admin, "first")
	chained := stsWith(withCreds(n, first.Credentials))
	target := "arn:aws:iam::" + *st.AccountId + ":role/OrganizationAccountAccessRole"
	_, err := chained.AssumeRole(ctxT(t), &sts.AssumeRoleInput{RoleArn: aws.String(target), RoleSessionName: aws.String("second"), DurationSeconds: aws.Int32(3601)})
	if got := failureOf(t, err); got != (failure{"ValidationError", 400}) || !strings.Contains(err.Error(), "role chaining") {
		t.Fatalf("a chained session over an hour: %+v (%v)", got, err)
	}
	second := assume(t, chained, target, "second")
	who, err := stsWith(withCreds(n, second.Credentials)).GetCallerIdentity(ctxT(t), &sts.GetCallerIdentityInput{})
	if err != nil || *who.Arn != "arn:aws:sts::"+*st.AccountId+":assumed-role/OrganizationAccountAccessRole/second" {
		t.Fatalf("chained GetCallerIdentity = %v, %v", who, err)
	}
}

// Credentials issued through one node are verified by another on the same
// database, with nothing shared but the database.
func TestRoleCredentialsVerifiedByAnotherNode(t *testing.T) {
	dsn := testenv.PostgresDatabase(t)
	a := startNode(t, nodeOptions{database: dsn})
	b := startNode(t, nodeOptions{database: dsn})
	b.KeyID, b.Secret = a.KeyID, a.Secret
	st := createAccount(t, a.organizations(), "B", "b@example.com")
	roleARN := "arn:aws:iam::" + *st.AccountId + ":role/OrganizationAccountAccessRole"
	for _, pair := range [][2]*node{{a, b}, {b, a}} {
		issuer, verifier := pair[0], pair[1]
		out := assume(t, issuer.sts(), roleARN, "cross-node")
		who, err := stsWith(withCreds(verifier, out.Credentials)).GetCallerIdentity(ctxT(t), &sts.GetCallerIdentityInput{})
		if err != nil {
			t.Fatalf("credentials from %s at %s: %v", issuer.URL, verifier.URL, err)
		}
		if *who.Account != *st.AccountId || *who.Arn != *out.AssumedRoleUser.Arn {
			t.Fatalf("GetCallerIdentity at the other node = %s %s", *who.Account, *who.Arn)
		}
	}
}

// assumeAdmin assumes the new account's OrganizationAccountAccessRole.
func assumeAdmin(t *testing.T, n *node, name string) (*sts.AssumeRoleOutput, string) {
	t.Helper()
	st := createAccount(t, n.organizations(), name, strings.ToLower(name)+"@example.com")
	if st.State != "SUCCEEDED" {
		t.Fatalf("CreateAccount ended %s (%s)", st.State, st.FailureReason)
	}
	return assume(t, n.sts(), "arn:aws:iam::"+*st.AccountId+":role/OrganizationAccountAccessRole", "attacker"), *st.AccountId
}

// wantRejected checks that cfg's credentials are refused by both wire styles
// with the codes each SDK expects.
func wantRejected(t *testing.T, n *node, cfg aws.Config, wantSTS, wantOrgs failure) {
	t.Helper()
	_, err := stsWith(cfg).GetCallerIdentity(ctxT(t), &sts.GetCallerIdentityInput{})
	if got := failureOf(t, err); got != wantSTS {
		t.Errorf("sts: %+v, want %+v (%v)", got, wantSTS, err)
	}
	_, err = orgsWith(cfg).DescribeOrganization(ctxT(t), &organizations.DescribeOrganizationInput{})
	if got := failureOf(t, err); got != wantOrgs {
		t.Errorf("organizations: %+v, want %+v (%v)", got, wantOrgs, err)
	}
}

var (
	invalidToken = [2]failure{{"InvalidClientTokenId", 403}, {"UnrecognizedClientException", 400}}
	expiredToken = [2]failure{{"ExpiredToken", 403}, {"ExpiredTokenException", 400}}
)

func TestForgedSessionTokenRejected(t *testing.T) {
	backends(t, func(t *testing.T, o nodeOptions) {
		n := startNode(t, o)
		out, _ := assumeAdmin(t, n, "Forged")
		c := *out.Credentials
		c.SessionToken = aws.String(forgedToken())
		wantRejected(t, n, withCreds(n, &c), invalidToken[0], invalidToken[1])
		// Nor may the token be left out: an ASIA key is nothing without it.
		cfg := n.awsConfig(*c.AccessKeyId, *c.SecretAccessKey)
		wantRejected(t, n, cfg, invalidToken[0], invalidToken[1])
	})
}

func TestSessionTokenOfAnotherKeyRejected(t *testing.T) {
	backends(t, func(t *testing.T, o nodeOptions) {
		n := startNode(t, o)
		first, acct := assumeAdmin(t, n, "Swap")
		second := assume(t, n.sts(), "arn:aws:iam::"+acct+":role/OrganizationAccountAccessRole", "other")
		c := *first.Credentials
		c.SessionToken = second.Credentials.SessionToken
		wantRejected(t, n, withCreds(n, &c), invalidToken[0], invalidToken[1])
	})
}

func TestLongTermKeyWithSessionTokenRejected(t *testing.T) {
	backends(t, func(t *testing.T, o nodeOptions) {
		n := startNode(t, o)
		out, _ := assumeAdmin(t, n, "LongTerm")
		cfg := n.admin()
		// The admin key with a real session token of someone else's session.
		cfg.Credentials = credentials.NewStaticCredentialsProvider(n.KeyID, n.Secret, *out.Credentials.SessionToken)
		wantRejected(t, n, cfg, invalidToken[0], invalidToken[1])
	})
}

// Expired credentials are refused with ExpiredToken, so SDKs know to
// refresh. Minimum session is 15 minutes, so the expired credential is
// written into the database as it would be found there later.
func TestExpiredRoleCredentialsRejected(t *testing.T) {
	backends(t, func(t *testing.T, o nodeOptions) {
		n := startNode(t, o)
		out, _ := assumeAdmin(t, n, "Expired")
		db := nodeStore(t, n, o)
		var real *store.SessionCredential
		if err := db.Read(ctxT(t), func(tx store.Tx) error {
			var err error
			real, err = tx.GetSessionCredential(ctxT(t), *out.Credentials.AccessKeyId)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if real.Secret != *out.Credentials.SecretAccessKey || strings.Contains(real.SessionTokenHash, *out.Credentials.SessionToken) {
			t.Fatal("the stored credential is not the issued one, or keeps its token")
		}
		// Two copies of it under new key ids: one live (the control), one expired.
		copyOf := func(id string, expires time.Time) {
			c := *real
			c.AccessKeyID, c.ExpiresAt = id, expires
			if err := db.Write(ctxT(t), func(tx store.Tx) error { return tx.InsertSessionCredential(ctxT(t), c) }); err != nil {
				t.Fatal(err)
			}
		}
		copyOf("ASIAEXPIREDCONTROL01", time.Now().Add(time.Hour))
		copyOf("ASIAEXPIREDEXPIRED01", time.Now().Add(-time.Second))
		live := ststypes.Credentials{AccessKeyId: aws.String("ASIAEXPIREDCONTROL01"), SecretAccessKey: out.Credentials.SecretAccessKey, SessionToken: out.Credentials.SessionToken}
		if _, err := stsWith(withCreds(n, &live)).GetCallerIdentity(ctxT(t), &sts.GetCallerIdentityInput{}); err != nil {
			t.Fatalf("the live copy: %v", err)
		}
		expired := live
		expired.AccessKeyId = aws.String("ASIAEXPIREDEXPIRED01")
		wantRejected(t, n, withCreds(n, &expired), expiredToken[0], expiredToken[1])
	})
}

func TestAssumeRoleDeniedByTrustPolicy(t *testing.T) {
	backends(t, func(t *testing.T, o nodeOptions) {
		n := startNode(t, o)
		mgmt := managementAccount(t, n)
		db := nodeStore(t, n, o)
		other := putRole(t, db, store.IAMRole{AccountID: mgmt, Name: "TrustsAnother", RoleID: "AROATRUSTSANOTHER0001",
			AssumeRolePolicy: trustAccount("333333333333"), ManagedPolicyARNs: []string{"arn:aws:iam::aws:policy/AdministratorAccess"}})
		_, err := n.sts().AssumeRole(ctxT(t), &sts.AssumeRoleInput{RoleArn: aws.String(other), RoleSessionName: aws.String("intruder")})
		if got := failureOf(t, err); got != (failure{"AccessDenied", 403}) {
			t.Fatalf("AssumeRole of a role that trusts another account: %+v (%v)", got, err)
		}
		want := "User: arn:aws:iam::" + mgmt + ":root is not authorized to perform: sts:AssumeRole on resource: " + other
		if !strings.Contains(err.Error(), want) {
			t.Fatalf("message: %v; want %q", err, want)
		}
	})
}

func TestRoleSessionCannotCallAdminAPIOutsideItsPolicy(t *testing.T) {
	backends(t, func(t *testing.T, o nodeOptions) {
		n := startNode(t, o)
		mgmt := managementAccount(t, n)
		db := nodeStore(t, n, o)
		narrow := putRole(t, db, store.IAMRole{AccountID: mgmt, Name: "WhoAmIOnly", RoleID: "AROAWHOAMIONLY0000001", AssumeRolePolicy: trustAccount(mgmt),
			InlinePolicies: []store.InlinePolicy{{Name: "whoami", Document: allowOnly("sts:GetCallerIdentity")}}})
		broad := putRole(t, db, store.IAMRole{AccountID: mgmt, Name: "OrgReader", RoleID: "AROAORGREADER00000001", AssumeRolePolicy: trustAccount(mgmt),
			InlinePolicies: []store.InlinePolicy{{Name: "read", Document: allowOnly("organizations:List*")}}})

		out := assume(t, n.sts(), narrow, "narrow")
		cfg := withCreds(n, out.Credentials)
		if _, err := stsWith(cfg).GetCallerIdentity(ctxT(t), &sts.GetCallerIdentityInput{}); err != nil {
			t.Fatalf("GetCallerIdentity, which its policy allows: %v", err)
		}
		_, err := orgsWith(cfg).ListAccounts(ctxT(t), &organizations.ListAccountsInput{})
		if got := failureOf(t, err); got != (failure{"AccessDeniedException", 400}) {
			t.Fatalf("ListAccounts outside its policy: %+v (%v)", got, err)
		}
		want := "User: " + *out.AssumedRoleUser.Arn + " is not authorized to perform: organizations:ListAccounts"
		if !strings.Contains(err.Error(), want) {
			t.Fatalf("message: %v; want %q", err, want)
		}
		// IAM, in its own account, answers the awsQuery way.
		_, err = iam.NewFromConfig(cfg, func(o *iam.Options) { o.RetryMaxAttempts = 1 }).GetRole(ctxT(t), &iam.GetRoleInput{RoleName: aws.String("WhoAmIOnly")})
		if got := failureOf(t, err); got != (failure{"AccessDenied", 403}) {
			t.Fatalf("iam GetRole outside its policy: %+v (%v)", got, err)
		}
		// Nor may it assume roles its policy does not name, though they trust its account.
		_, err = stsWith(cfg).AssumeRole(ctxT(t), &sts.AssumeRoleInput{RoleArn: aws.String(broad), RoleSessionName: aws.String("escalate")})
		if got := failureOf(t, err); got != (failure{"AccessDenied", 403}) {
			t.Fatalf("AssumeRole outside its policy: %+v (%v)", got, err)
		}

		// The control: a role whose policy allows it lists the accounts, and no more.
		reader := withCreds(n, assume(t, n.sts(), broad, "reader").Credentials)
		if _, err := orgsWith(reader).ListAccounts(ctxT(t), &organizations.ListAccountsInput{}); err != nil {
			t.Fatalf("ListAccounts by a role allowed organizations:List*: %v", err)
		}
		_, err = orgsWith(reader).CreateAccount(ctxT(t), &organizations.CreateAccountInput{AccountName: aws.String("X"), Email: aws.String("x@example.com")})
		if got := failureOf(t, err); got != (failure{"AccessDeniedException", 400}) {
			t.Fatalf("CreateAccount by a reader: %+v (%v)", got, err)
		}
	})
}

// A member account's administrator role may not administer the organization,
// as on AWS where those APIs answer only the management account.
func TestMemberAccountCannotCallOrganizationAdminAPIs(t *testing.T) {
	backends(t, func(t *testing.T, o nodeOptions) {
		n := startNode(t, o)
		out, _ := assumeAdmin(t, n, "Member")
		cfg := withCreds(n, out.Credentials)
		_, err := orgsWith(cfg).ListAccounts(ctxT(t), &organizations.ListAccountsInput{})
		if got := failureOf(t, err); got != (failure{"AccessDeniedException", 400}) {
			t.Fatalf("organizations ListAccounts from a member account: %+v (%v)", got, err)
		}
		_, err = ssoadmin.NewFromConfig(cfg, func(o *ssoadmin.Options) { o.RetryMaxAttempts = 1 }).ListInstances(ctxT(t), &ssoadmin.ListInstancesInput{})
		if got := failureOf(t, err); got != (failure{"AccessDeniedException", 400}) {
			t.Fatalf("sso-admin ListInstances from a member account: %+v (%v)", got, err)
		}
		// The same role in the management account may (AdministratorAccess).
		mgmt := managementAccount(t, n)
		db := nodeStore(t, n, o)
		admin := putRole(t, db, store.IAMRole{AccountID: mgmt, Name: "MgmtAdmin", RoleID: "AROAMGMTADMIN00000001", AssumeRolePolicy: trustAccount(mgmt),
			ManagedPolicyARNs: []string{"arn:aws:iam::aws:policy/AdministratorAccess"}})
		if _, err := orgsWith(withCreds(n, assume(t, n.sts(), admin, "mgmt").Credentials)).ListAccounts(ctxT(t), &organizations.ListAccountsInput{}); err != nil {
			t.Fatalf("ListAccounts by an administrator of the management account: %v", err)
		}
	})
}
