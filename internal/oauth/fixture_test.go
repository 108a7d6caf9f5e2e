package oauth_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/identitystore"
	idtypes "github.com/aws/aws-sdk-go-v2/service/identitystore/types"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/aws/aws-sdk-go-v2/service/sso"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"
	ssoadmintypes "github.com/aws/aws-sdk-go-v2/service/ssoadmin/types"
	"github.com/aws/aws-sdk-go-v2/service/ssooidc"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/atrium-sso/atrium/internal/config"
	"github.com/atrium-sso/atrium/internal/oauth"
	"github.com/atrium-sso/atrium/internal/portal"
	"github.com/atrium-sso/atrium/internal/server"
	"github.com/atrium-sso/atrium/internal/store"
)

const (
	adminKey    = "AKIAOAUTHTESTKEY0001"
	adminSecret = "oauthtestsecretoauthtestsecretoauthtest0"
	startURL    = "https://atrium-test.awsapps.com/start"
)

// fixture is a whole Atrium node in process, with a person (alice, in
// group Developers, which holds permission set Admin in account Staging),
// and the portal and oauth services of a second node over the same store:
// what the web pages would call to sign alice in and approve.
type fixture struct {
	t       testing.TB
	ctx     context.Context
	srv     *server.Server
	url     string
	admin   aws.Config
	portal  *portal.Service
	oauth   *oauth.Service
	storeID string
	inst    string
	account string
	alice   string // user id
	group   string
	member  string // alice's membership of the group
	ps      string // permission set ARN
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	ts := httptest.NewUnstartedServer(nil)
	url := "http://" + ts.Listener.Addr().String()
	env := map[string]string{"ATRIUM_BOOTSTRAP_ACCESS_KEY_ID": adminKey, "ATRIUM_BOOTSTRAP_SECRET_ACCESS_KEY": adminSecret}
	getenv := func(k string) string { return env[k] }
	cfg, err := config.Load([]string{"--data", t.TempDir(), "--url", url}, getenv)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.Open(ctx, cfg, getenv, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Store().Close() })
	srv.Start(ctx)
	ts.Config.Handler = srv.Handler()
	ts.Start()
	t.Cleanup(ts.Close)

	f := &fixture{t: t, ctx: ctx, srv: srv, url: url,
		admin: aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(url), RetryMaxAttempts: 1,
			Credentials: credentials.NewStaticCredentialsProvider(adminKey, adminSecret, "")}}
	f.portal = portal.New(srv.Store(), portal.Config{})
	f.oauth = oauth.New(srv.Store(), f.portal, oauth.Config{URL: url})

	admin := ssoadmin.NewFromConfig(f.admin)
	inst, err := admin.ListInstances(ctx, &ssoadmin.ListInstancesInput{})
	if err != nil {
		t.Fatal(err)
	}
	f.inst, f.storeID = *inst.Instances[0].InstanceArn, *inst.Instances[0].IdentityStoreId
	f.account = f.createAccount("Staging")
	f.alice = f.createUser("alice")
	ids := identitystore.NewFromConfig(f.admin)
	g, err := ids.CreateGroup(ctx, &identitystore.CreateGroupInput{IdentityStoreId: &f.storeID, DisplayName: aws.String("Developers")})
	if err != nil {
		t.Fatal(err)
	}
	f.group = *g.GroupId
	m, err := ids.CreateGroupMembership(ctx, &identitystore.CreateGroupMembershipInput{IdentityStoreId: &f.storeID, GroupId: g.GroupId,
		MemberId: &idtypes.MemberIdMemberUserId{Value: f.alice}})
	if err != nil {
		t.Fatal(err)
	}
	f.member = *m.MembershipId
	f.ps = f.permissionSet("Admin", "PT2H")
	f.assign(f.account, f.ps, ssoadmintypes.PrincipalTypeGroup, f.group)
	return f
}

func (f *fixture) createAccount(name string) string {
	c := organizations.NewFromConfig(f.admin)
	out, err := c.CreateAccount(f.ctx, &organizations.CreateAccountInput{AccountName: aws.String(name), Email: aws.String(strings.ToLower(name) + "@example.com")})
	if err != nil {
		f.t.Fatal(err)
	}
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		st, err := c.DescribeCreateAccountStatus(f.ctx, &organizations.DescribeCreateAccountStatusInput{CreateAccountRequestId: out.CreateAccountStatus.Id})
		if err != nil {
			f.t.Fatal(err)
		}
		if st.CreateAccountStatus.State == orgtypes.CreateAccountStateSucceeded {
			return *st.CreateAccountStatus.AccountId
		}
	}
	f.t.Fatalf("account %s never created", name)
	return ""
}

func (f *fixture) createUser(name string) string {
	out, err := identitystore.NewFromConfig(f.admin).CreateUser(f.ctx, &identitystore.CreateUserInput{IdentityStoreId: &f.storeID,
		UserName: aws.String(name), DisplayName: aws.String(name), Name: &idtypes.Name{GivenName: aws.String(name), FamilyName: aws.String("Test")}})
	if err != nil {
		f.t.Fatal(err)
	}
	return *out.UserId
}

func (f *fixture) permissionSet(name, duration string) string {
	out, err := ssoadmin.NewFromConfig(f.admin).CreatePermissionSet(f.ctx, &ssoadmin.CreatePermissionSetInput{InstanceArn: &f.inst,
		Name: aws.String(name), SessionDuration: aws.String(duration)})
	if err != nil {
		f.t.Fatal(err)
	}
	return *out.PermissionSet.PermissionSetArn
}

func (f *fixture) assign(account, ps string, pt ssoadmintypes.PrincipalType, principal string) {
	c := ssoadmin.NewFromConfig(f.admin)
	out, err := c.CreateAccountAssignment(f.ctx, &ssoadmin.CreateAccountAssignmentInput{InstanceArn: &f.inst, TargetId: &account,
		TargetType: ssoadmintypes.TargetTypeAwsAccount, PermissionSetArn: &ps, PrincipalType: pt, PrincipalId: &principal})
	if err != nil {
		f.t.Fatal(err)
	}
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		st, err := c.DescribeAccountAssignmentCreationStatus(f.ctx, &ssoadmin.DescribeAccountAssignmentCreationStatusInput{InstanceArn: &f.inst,
			AccountAssignmentCreationRequestId: out.AccountAssignmentCreationStatus.RequestId})
		if err != nil {
			f.t.Fatal(err)
		}
		switch st.AccountAssignmentCreationStatus.Status {
		case ssoadmintypes.StatusValuesSucceeded:
			return
		case ssoadmintypes.StatusValuesFailed:
			f.t.Fatalf("assignment failed: %s", aws.ToString(st.AccountAssignmentCreationStatus.FailureReason))
		}
	}
	f.t.Fatal("assignment never finished")
}

func (f *fixture) unassign(account, ps string, pt ssoadmintypes.PrincipalType, principal string) {
	c := ssoadmin.NewFromConfig(f.admin)
	out, err := c.DeleteAccountAssignment(f.ctx, &ssoadmin.DeleteAccountAssignmentInput{InstanceArn: &f.inst, TargetId: &account,
		TargetType: ssoadmintypes.TargetTypeAwsAccount, PermissionSetArn: &ps, PrincipalType: pt, PrincipalId: &principal})
	if err != nil {
		f.t.Fatal(err)
	}
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		st, err := c.DescribeAccountAssignmentDeletionStatus(f.ctx, &ssoadmin.DescribeAccountAssignmentDeletionStatusInput{InstanceArn: &f.inst,
			AccountAssignmentDeletionRequestId: out.AccountAssignmentDeletionStatus.RequestId})
		if err != nil {
			f.t.Fatal(err)
		}
		if st.AccountAssignmentDeletionStatus.Status == ssoadmintypes.StatusValuesSucceeded {
			return
		}
	}
	f.t.Fatal("unassignment never finished")
}

func (f *fixture) user(id string) *store.User {
	var u *store.User
	err := f.srv.Store().Read(f.ctx, func(tx store.Tx) error {
		var err error
		u, err = tx.GetUser(f.ctx, f.storeID, id)
		return err
	})
	if err != nil {
		f.t.Fatal(err)
	}
	return u
}

// signIn is what the web pages do once a person has proved who they are.
func (f *fixture) signIn(userID string) *portal.Session {
	_, sess, err := f.portal.StartSession(f.ctx, f.user(userID), []string{"pwd", "totp"}, "127.0.0.1", "test", nil)
	if err != nil {
		f.t.Fatal(err)
	}
	return sess
}

func (f *fixture) oidc() *ssooidc.Client {
	return ssooidc.New(ssooidc.Options{Region: "us-east-1", BaseEndpoint: aws.String(f.url), RetryMaxAttempts: 1})
}

func (f *fixture) portalAPI() *sso.Client {
	return sso.New(sso.Options{Region: "us-east-1", BaseEndpoint: aws.String(f.url), RetryMaxAttempts: 1})
}

// stsAs is an STS client signing with role credentials.
func (f *fixture) stsAs(c *ssoRoleCredentials) *sts.Client {
	cfg := f.admin.Copy()
	cfg.Credentials = credentials.NewStaticCredentialsProvider(c.key, c.secret, c.token)
	return sts.NewFromConfig(cfg)
}

type ssoRoleCredentials struct{ key, secret, token string }

func (f *fixture) roleCredentials(accessToken, account, role string) (*ssoRoleCredentials, error) {
	out, err := f.portalAPI().GetRoleCredentials(f.ctx, &sso.GetRoleCredentialsInput{AccessToken: &accessToken, AccountId: &account, RoleName: &role})
	if err != nil {
		return nil, err
	}
	c := out.RoleCredentials
	return &ssoRoleCredentials{*c.AccessKeyId, *c.SecretAccessKey, *c.SessionToken}, nil
}

// registerDevice registers a client as `aws sso login --use-device-code`
// with an sso-session does (scopes, so it refreshes).
func (f *fixture) registerDevice(name string) *ssooidc.RegisterClientOutput {
	out, err := f.oidc().RegisterClient(f.ctx, &ssooidc.RegisterClientInput{ClientName: aws.String(name), ClientType: aws.String("public"),
		Scopes: []string{oauth.ScopeAccountAccess}})
	if err != nil {
		f.t.Fatal(err)
	}
	return out
}

// registerPKCE registers a client as `aws sso login` (CLI ≥ 2.22) does.
func (f *fixture) registerPKCE() *ssooidc.RegisterClientOutput {
	out, err := f.oidc().RegisterClient(f.ctx, &ssooidc.RegisterClientInput{ClientName: aws.String("botocore-client-dev"),
		ClientType: aws.String("public"), Scopes: []string{oauth.ScopeAccountAccess},
		GrantTypes: []string{"authorization_code", "refresh_token"}, RedirectUris: []string{"http://127.0.0.1/oauth/callback"}, IssuerUrl: aws.String(startURL)})
	if err != nil {
		f.t.Fatal(err)
	}
	return out
}

// deviceLogin runs the device flow to its end, approved by sess.
func (f *fixture) deviceLogin(client *ssooidc.RegisterClientOutput, sess *portal.Session) *ssooidc.CreateTokenOutput {
	f.t.Helper()
	start, err := f.oidc().StartDeviceAuthorization(f.ctx, &ssooidc.StartDeviceAuthorizationInput{ClientId: client.ClientId,
		ClientSecret: client.ClientSecret, StartUrl: aws.String(startURL)})
	if err != nil {
		f.t.Fatal(err)
	}
	if err := f.oauth.ApproveDevice(f.ctx, *start.UserCode, sess); err != nil {
		f.t.Fatal(err)
	}
	tok, err := f.oidc().CreateToken(f.ctx, &ssooidc.CreateTokenInput{ClientId: client.ClientId, ClientSecret: client.ClientSecret,
		GrantType: aws.String(oauth.GrantDeviceCode), DeviceCode: start.DeviceCode})
	if err != nil {
		f.t.Fatal(err)
	}
	return tok
}

// pkce makes a verifier and its S256 challenge, as the CLI does.
func pkce(seed string) (verifier, challenge string) {
	verifier = strings.Repeat(seed, 64)[:64]
	sum := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(sum[:])
}

// adminCall calls Atrium's admin API signed with the bootstrap key.
func (f *fixture) adminCall(op, body string) {
	f.t.Helper()
	req, _ := http.NewRequestWithContext(f.ctx, http.MethodPost, f.url+"/", bytes.NewReader([]byte(body)))
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "AtriumAdmin."+op)
	sum := sha256.Sum256([]byte(body))
	creds, _ := f.admin.Credentials.Retrieve(f.ctx)
	if err := v4.NewSigner().SignHTTP(f.ctx, creds, req, hex.EncodeToString(sum[:]), "atrium", "us-east-1", time.Now()); err != nil {
		f.t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		f.t.Fatalf("%s: %d %s", op, resp.StatusCode, b)
	}
}

// within fails the test unless ok becomes true within d.
func within(t *testing.T, d time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, d)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func isErr[T error](err error) bool {
	var target T
	return errors.As(err, &target)
}
