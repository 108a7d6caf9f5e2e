package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sso"
	ssotypes "github.com/aws/aws-sdk-go-v2/service/sso/types"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin/types"
	"github.com/aws/aws-sdk-go-v2/service/ssooidc"
	oidctypes "github.com/aws/aws-sdk-go-v2/service/ssooidc/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/atrium-sso/atrium/internal/oauth"
	"github.com/atrium-sso/atrium/internal/portal"
	"github.com/atrium-sso/atrium/internal/store"
	"github.com/atrium-sso/atrium/internal/store/postgres"
	"github.com/atrium-sso/atrium/internal/store/sqlite"
	"github.com/atrium-sso/atrium/internal/testenv"
)

// signInDesk does, over the nodes' database, what the sign-in and approval
// pages do once a person has proved who they are: start their session and
// approve a device code with it. (The pages themselves are tested with a
// browser; here the protocol is what is under test.)
type signInDesk struct {
	t      *testing.T
	db     store.Store
	portal *portal.Service
	oauth  *oauth.Service
}

func openDesk(t *testing.T, n *node, o nodeOptions) *signInDesk {
	t.Helper()
	var db store.Store
	var err error
	if o.database != "" {
		db, err = postgres.Open(context.Background(), o.database)
	} else {
		db, err = sqlite.Open(context.Background(), filepath.Join(n.Data, "atrium.db"))
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	p := portal.New(db, portal.Config{})
	return &signInDesk{t: t, db: db, portal: p, oauth: oauth.New(db, p, oauth.Config{URL: n.URL})}
}

func (d *signInDesk) signIn(storeID, userID string) *portal.Session {
	d.t.Helper()
	var u *store.User
	if err := d.db.Read(ctxT(d.t), func(tx store.Tx) error {
		var err error
		u, err = tx.GetUser(ctxT(d.t), storeID, userID)
		return err
	}); err != nil {
		d.t.Fatal(err)
	}
	_, sess, err := d.portal.StartSession(ctxT(d.t), u, []string{"pwd", "totp"}, "127.0.0.1", "e2e", nil)
	if err != nil {
		d.t.Fatal(err)
	}
	return sess
}

func unsignedConfig(n *node) aws.Config {
	return aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(n.URL), RetryMaxAttempts: 1}
}

// deviceLogin runs `aws sso login --use-device-code` with the Go SDK
// against n, the person approving at the desk as sess.
func deviceLogin(t *testing.T, n *node, d *signInDesk, sess *portal.Session) *ssooidc.CreateTokenOutput {
	t.Helper()
	c := ssooidc.NewFromConfig(unsignedConfig(n))
	reg, err := c.RegisterClient(ctxT(t), &ssooidc.RegisterClientInput{ClientName: aws.String("botocore-client-e2e"), ClientType: aws.String("public"),
		Scopes: []string{"sso:account:access"}})
	if err != nil {
		t.Fatal(err)
	}
	start, err := c.StartDeviceAuthorization(ctxT(t), &ssooidc.StartDeviceAuthorizationInput{ClientId: reg.ClientId, ClientSecret: reg.ClientSecret,
		StartUrl: aws.String("https://e2e.awsapps.com/start")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(start.VerificationUriComplete) != n.URL+"/device?user_code="+aws.ToString(start.UserCode) {
		t.Fatalf("StartDeviceAuthorization = %+v", start)
	}
	in := &ssooidc.CreateTokenInput{ClientId: reg.ClientId, ClientSecret: reg.ClientSecret, GrantType: aws.String(oauth.GrantDeviceCode), DeviceCode: start.DeviceCode}
	_, err = c.CreateToken(ctxT(t), in)
	var pending *oidctypes.AuthorizationPendingException
	if !errors.As(err, &pending) {
		t.Fatalf("first poll: %v", err)
	}
	if err := d.oauth.ApproveDevice(ctxT(t), *start.UserCode, sess); err != nil {
		t.Fatal(err)
	}
	tok, err := c.CreateToken(ctxT(t), in)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// roleCredentials takes role credentials through the portal API of n.
func roleCredentials(t *testing.T, n *node, accessToken, account, role string) (aws.Credentials, time.Time) {
	t.Helper()
	out, err := sso.NewFromConfig(unsignedConfig(n)).GetRoleCredentials(ctxT(t), &sso.GetRoleCredentialsInput{AccessToken: &accessToken,
		AccountId: &account, RoleName: &role})
	if err != nil {
		t.Fatal(err)
	}
	rc := out.RoleCredentials
	return aws.Credentials{AccessKeyID: *rc.AccessKeyId, SecretAccessKey: *rc.SecretAccessKey, SessionToken: *rc.SessionToken}, time.UnixMilli(rc.Expiration)
}

// stsOf is an STS client of n signing with c.
func stsOf(n *node, c aws.Credentials) *sts.Client {
	cfg := unsignedConfig(n)
	cfg.Credentials = credentials.StaticCredentialsProvider{Value: c}
	return stsWith(cfg)
}

// refusedWithin waits up to a second (and a little for scheduling) for
// call to fail with one of codes.
func refusedWithin(t *testing.T, what string, call func() error, codes ...string) {
	t.Helper()
	deadline := time.Now().Add(1250 * time.Millisecond)
	for {
		err := call()
		var ae smithy.APIError
		if errors.As(err, &ae) {
			for _, c := range codes {
				if ae.ErrorCode() == c {
					return
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s still answered %v after a second", what, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// The seed's story from the person's side, on the real binary and both
// stores: a device login with the Go SDK, the accounts and roles assigned
// through a group, credentials for the provisioned role, STS naming the
// person; then `atrium session list` shows the session and `atrium session
// revoke` ends it, with its token and credentials.
func TestPortalDeviceLoginToCredentials(t *testing.T) {
	backends(t, func(t *testing.T, o nodeOptions) {
		n := startNode(t, o)
		f := newAccessFixture(t, n)
		staging := f.account("Staging")
		alice := f.user("alice")
		devs := f.group("Developers", alice)
		ps := f.permissionSet("Developer", "PT4H", "arn:aws:iam::aws:policy/ReadOnlyAccess")
		f.assign(staging, ps, types.PrincipalTypeGroup, devs)
		desk := openDesk(t, n, o)

		tok := deviceLogin(t, n, desk, desk.signIn(f.storeID, alice))
		api := sso.NewFromConfig(unsignedConfig(n))
		accts, err := api.ListAccounts(ctxT(t), &sso.ListAccountsInput{AccessToken: tok.AccessToken})
		if err != nil || len(accts.AccountList) != 1 || *accts.AccountList[0].AccountId != staging || *accts.AccountList[0].AccountName != "Staging" {
			t.Fatalf("ListAccounts = %+v, %v", accts, err)
		}
		roles, err := api.ListAccountRoles(ctxT(t), &sso.ListAccountRolesInput{AccessToken: tok.AccessToken, AccountId: &staging})
		if err != nil || len(roles.RoleList) != 1 || *roles.RoleList[0].RoleName != "Developer" {
			t.Fatalf("ListAccountRoles = %+v, %v", roles, err)
		}
		rc, expires := roleCredentials(t, n, *tok.AccessToken, staging, "Developer")
		client := stsOf(n, rc)
		if d := time.Until(expires); d < 4*time.Hour-time.Minute || d > 4*time.Hour {
			t.Fatalf("credentials expire in %v; the permission set says PT4H", d)
		}
		who, err := client.GetCallerIdentity(ctxT(t), &sts.GetCallerIdentityInput{})
		if err != nil {
			t.Fatal(err)
		}
		if !regexp.MustCompile(`^arn:aws:sts::` + staging + `:assumed-role/AWSReservedSSO_Developer_[0-9a-f]{16}/alice$`).MatchString(*who.Arn) {
			t.Fatalf("GetCallerIdentity = %s", *who.Arn)
		}

		env := cliEnv("ATRIUM_ENDPOINT_URL="+n.URL, "AWS_ACCESS_KEY_ID="+n.KeyID, "AWS_SECRET_ACCESS_KEY="+n.Secret, "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
		var listed []map[string]string
		if err := json.Unmarshal([]byte(mustAtrium(t, env, "session", "list", "--user", "alice", "--output", "json")), &listed); err != nil {
			t.Fatal(err)
		}
		if len(listed) != 1 || listed[0]["User"] != "alice" || listed[0]["Methods"] != "pwd,totp" || listed[0]["SessionId"] == "" {
			t.Fatalf("atrium session list = %+v", listed)
		}
		if out := mustAtrium(t, env, "session", "revoke", listed[0]["SessionId"]); !strings.Contains(out, "true") {
			t.Fatalf("atrium session revoke = %s", out)
		}
		refusedWithin(t, "role credentials of a revoked session", func() error {
			_, err := client.GetCallerIdentity(ctxT(t), &sts.GetCallerIdentityInput{})
			return err
		}, "InvalidClientTokenId")
		refusedWithin(t, "access token of a revoked session", func() error {
			_, err := api.ListAccounts(ctxT(t), &sso.ListAccountsInput{AccessToken: tok.AccessToken})
			return err
		}, "UnauthorizedException")
		if out := mustAtrium(t, env, "session", "list"); strings.Contains(out, listed[0]["SessionId"]) {
			t.Fatalf("a revoked session is still listed:\n%s", out)
		}
		if _, errOut, code := atrium(t, env, "session", "revoke", listed[0]["SessionId"], "--user", "alice"); code == 0 {
			t.Fatalf("revoke with both an id and --user: %s", errOut)
		}
	})
}

// Two nodes on one PostgreSQL database: whatever one node is told —
// disable the user, remove the assignment, log out, end the sessions — the
// other refuses the tokens and credentials within a second. Nodes share
// nothing but the database.
func TestRevocationAcrossTwoNodes(t *testing.T) {
	o := nodeOptions{database: testenv.PostgresDatabase(t)}
	a := startNode(t, o)
	b := launch(t, o)
	if err := b.waitHealthy(20 * time.Second); err != nil {
		t.Fatal(err)
	}
	b.KeyID, b.Secret = a.KeyID, a.Secret
	f := newAccessFixture(t, a)
	staging := f.account("Staging")
	ps := f.permissionSet("Admin", "PT1H")
	desk := openDesk(t, a, o)
	envB := cliEnv("ATRIUM_ENDPOINT_URL="+b.URL, "AWS_ACCESS_KEY_ID="+b.KeyID, "AWS_SECRET_ACCESS_KEY="+b.Secret, "AWS_SHARED_CREDENTIALS_FILE=/dev/null")

	// login signs a new user in on node A; the token and the role
	// credentials work on both nodes.
	users := map[string]string{}
	login := func(t *testing.T, name string) (*ssooidc.CreateTokenOutput, *sts.Client, *sts.Client) {
		t.Helper()
		users[name] = f.user(name)
		f.assign(staging, ps, types.PrincipalTypeUser, users[name])
		tok := deviceLogin(t, a, desk, desk.signIn(f.storeID, users[name]))
		if _, err := sso.NewFromConfig(unsignedConfig(b)).ListAccounts(ctxT(t), &sso.ListAccountsInput{AccessToken: tok.AccessToken}); err != nil {
			t.Fatalf("the token on the other node: %v", err)
		}
		rc, _ := roleCredentials(t, b, *tok.AccessToken, staging, "Admin")
		onA, onB := stsOf(a, rc), stsOf(b, rc)
		for _, c := range []*sts.Client{onA, onB} {
			if _, err := c.GetCallerIdentity(ctxT(t), &sts.GetCallerIdentityInput{}); err != nil {
				t.Fatal(err)
			}
		}
		return tok, onA, onB
	}
	refused := func(t *testing.T, tok *ssooidc.CreateTokenOutput, onA, onB *sts.Client, tokenToo bool) {
		for _, c := range []*sts.Client{onA, onB} {
			refusedWithin(t, "role credentials", func() error {
				_, err := c.GetCallerIdentity(ctxT(t), &sts.GetCallerIdentityInput{})
				return err
			}, "InvalidClientTokenId")
		}
		if !tokenToo {
			return
		}
		for _, n := range []*node{a, b} {
			refusedWithin(t, "access token", func() error {
				_, err := sso.NewFromConfig(unsignedConfig(n)).ListAccounts(ctxT(t), &sso.ListAccountsInput{AccessToken: tok.AccessToken})
				return err
			}, "UnauthorizedException")
		}
	}

	t.Run("user disabled on the other node", func(t *testing.T) {
		tok, onA, onB := login(t, "disabled")
		mustAtrium(t, envB, "user", "disable", "disabled")
		refused(t, tok, onA, onB, true)
	})
	t.Run("assignment removed on the other node", func(t *testing.T) {
		tok, onA, onB := login(t, "unassigned")
		newAccessFixture(t, b).unassign(staging, ps, types.PrincipalTypeUser, users["unassigned"])
		refused(t, tok, onA, onB, false)
	})
	t.Run("logout on the other node", func(t *testing.T) {
		tok, onA, onB := login(t, "leaving")
		if _, err := sso.NewFromConfig(unsignedConfig(b)).Logout(ctxT(t), &sso.LogoutInput{AccessToken: tok.AccessToken}); err != nil {
			t.Fatal(err)
		}
		refused(t, tok, onA, onB, true)
	})
	t.Run("sessions revoked on the other node", func(t *testing.T) {
		tok, onA, onB := login(t, "revoked")
		mustAtrium(t, envB, "session", "revoke", "--user", "revoked")
		refused(t, tok, onA, onB, true)
		var unauthorized *ssotypes.UnauthorizedException
		_, err := sso.NewFromConfig(unsignedConfig(a)).ListAccountRoles(ctxT(t), &sso.ListAccountRolesInput{AccessToken: tok.AccessToken, AccountId: &staging})
		if !errors.As(err, &unauthorized) {
			t.Fatalf("ListAccountRoles after revocation: %v", err)
		}
	})
}
