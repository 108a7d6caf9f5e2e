package oauth_test

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/identitystore"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/sso"
	ssotypes "github.com/aws/aws-sdk-go-v2/service/sso/types"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"
	ssoadmintypes "github.com/aws/aws-sdk-go-v2/service/ssoadmin/types"
	"github.com/aws/aws-sdk-go-v2/service/ssooidc"
	"github.com/aws/aws-sdk-go-v2/service/ssooidc/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/atrium-sso/atrium/internal/oauth"
	"github.com/atrium-sso/atrium/internal/store"
)

var userCodePattern = regexp.MustCompile(`^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$`)

// The whole device flow with the Go SDK, as `aws sso login
// --use-device-code` runs it, down to STS answering for the role session.
func TestDeviceAuthorizationToCallerIdentity(t *testing.T) {
	f := newFixture(t)
	before := time.Now()
	client := f.registerDevice("botocore-client-dev")
	if aws.ToString(client.ClientId) == "" || aws.ToString(client.ClientSecret) == "" ||
		time.Unix(client.ClientSecretExpiresAt, 0).Sub(before) < 89*24*time.Hour || time.Unix(client.ClientSecretExpiresAt, 0).Sub(before) > 91*24*time.Hour ||
		client.ClientIdIssuedAt < before.Unix()-1 {
		t.Fatalf("RegisterClient = %+v", client)
	}
	start, err := f.oidc().StartDeviceAuthorization(f.ctx, &ssooidc.StartDeviceAuthorizationInput{ClientId: client.ClientId,
		ClientSecret: client.ClientSecret, StartUrl: aws.String(startURL)})
	if err != nil {
		t.Fatal(err)
	}
	code := aws.ToString(start.UserCode)
	if !userCodePattern.MatchString(code) || aws.ToString(start.VerificationUri) != f.url+"/device" ||
		aws.ToString(start.VerificationUriComplete) != f.url+"/device?user_code="+code || start.ExpiresIn != 600 || start.Interval != 1 ||
		len(aws.ToString(start.DeviceCode)) < 32 {
		t.Fatalf("StartDeviceAuthorization = %+v", start)
	}
	poll := func() (*ssooidc.CreateTokenOutput, error) {
		return f.oidc().CreateToken(f.ctx, &ssooidc.CreateTokenInput{ClientId: client.ClientId, ClientSecret: client.ClientSecret,
			GrantType: aws.String(oauth.GrantDeviceCode), DeviceCode: start.DeviceCode})
	}
	if _, err := poll(); !isErr[*types.AuthorizationPendingException](err) {
		t.Fatalf("poll before approval: %v", err)
	}

	sess := f.signIn(f.alice)
	// The approval page finds the request by the code as a person types it.
	grant, err := f.oauth.DeviceGrant(f.ctx, " "+strings.ToLower(strings.ReplaceAll(code, "-", ""))+" ")
	if err != nil || grant.ClientName != "botocore-client-dev" || grant.UserCode != code || !reflect.DeepEqual(grant.Scopes, []string{oauth.ScopeAccountAccess}) ||
		grant.StartURL != startURL {
		t.Fatalf("DeviceGrant = %+v, %v", grant, err)
	}
	if err := f.oauth.ApproveDevice(f.ctx, code, sess); err != nil {
		t.Fatal(err)
	}
	if err := f.oauth.ApproveDevice(f.ctx, code, sess); !errors.Is(err, oauth.ErrNotFound) {
		t.Fatalf("approving twice: %v", err)
	}
	tok, err := poll()
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(tok.AccessToken) == "" || aws.ToString(tok.RefreshToken) == "" || aws.ToString(tok.TokenType) != "Bearer" ||
		tok.ExpiresIn < 3590 || tok.ExpiresIn > 3600 {
		t.Fatalf("CreateToken = %+v", tok)
	}

	api := f.portalAPI()
	accts, err := api.ListAccounts(f.ctx, &sso.ListAccountsInput{AccessToken: tok.AccessToken})
	if err != nil || len(accts.AccountList) != 1 || aws.ToString(accts.AccountList[0].AccountId) != f.account ||
		aws.ToString(accts.AccountList[0].AccountName) != "Staging" || aws.ToString(accts.AccountList[0].EmailAddress) != "staging@example.com" {
		t.Fatalf("ListAccounts = %+v, %v", accts, err)
	}
	roles, err := api.ListAccountRoles(f.ctx, &sso.ListAccountRolesInput{AccessToken: tok.AccessToken, AccountId: &f.account})
	if err != nil || len(roles.RoleList) != 1 || aws.ToString(roles.RoleList[0].RoleName) != "Admin" || aws.ToString(roles.RoleList[0].AccountId) != f.account {
		t.Fatalf("ListAccountRoles = %+v, %v", roles, err)
	}
	issued := time.Now()
	out, err := api.GetRoleCredentials(f.ctx, &sso.GetRoleCredentialsInput{AccessToken: tok.AccessToken, AccountId: &f.account, RoleName: aws.String("Admin")})
	if err != nil {
		t.Fatal(err)
	}
	rc := out.RoleCredentials
	expires := time.UnixMilli(rc.Expiration)
	if !strings.HasPrefix(aws.ToString(rc.AccessKeyId), "ASIA") || expires.Sub(issued) < 2*time.Hour-5*time.Second || expires.Sub(issued) > 2*time.Hour+5*time.Second {
		t.Fatalf("GetRoleCredentials = %+v (expires %v)", rc, expires)
	}
	who, err := f.stsAs(&ssoRoleCredentials{*rc.AccessKeyId, *rc.SecretAccessKey, *rc.SessionToken}).GetCallerIdentity(f.ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	arn := regexp.MustCompile(`^arn:aws:sts::` + f.account + `:assumed-role/AWSReservedSSO_Admin_[0-9a-f]{16}/alice$`)
	if !arn.MatchString(aws.ToString(who.Arn)) || aws.ToString(who.Account) != f.account {
		t.Fatalf("GetCallerIdentity = %s %s", aws.ToString(who.Account), aws.ToString(who.Arn))
	}

	// A device code is used once; presenting it again revokes its tokens.
	if _, err := poll(); !isErr[*types.InvalidGrantException](err) {
		t.Fatalf("device code redeemed twice: %v", err)
	}
	within(t, 1250*time.Millisecond, "tokens of a replayed device code", func() bool {
		_, err := api.ListAccounts(f.ctx, &sso.ListAccountsInput{AccessToken: tok.AccessToken})
		return isErr[*ssotypes.UnauthorizedException](err)
	})
}

// sso-oidc errors are OAuth's JSON, with the exception in x-amzn-ErrorType,
// as AWS sends them (and as botocore and the SDKs parse them).
func TestCreateTokenErrorsAreOAuthShaped(t *testing.T) {
	f := newFixture(t)
	client := f.registerDevice("raw")
	start, err := f.oidc().StartDeviceAuthorization(f.ctx, &ssooidc.StartDeviceAuthorizationInput{ClientId: client.ClientId,
		ClientSecret: client.ClientSecret, StartUrl: aws.String(startURL)})
	if err != nil {
		t.Fatal(err)
	}
	post := func(body string) (int, string, map[string]any) {
		resp, err := http.Post(f.url+"/token", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatalf("error body is not JSON: %s", raw)
		}
		return resp.StatusCode, resp.Header.Get("x-amzn-ErrorType"), m
	}
	body, _ := json.Marshal(map[string]string{"clientId": *client.ClientId, "clientSecret": *client.ClientSecret,
		"grantType": oauth.GrantDeviceCode, "deviceCode": *start.DeviceCode})
	for _, tc := range []struct {
		body   string
		status int
		kind   string
		want   map[string]any
	}{
		{string(body), 400, "AuthorizationPendingException", map[string]any{"error": "authorization_pending", "error_description": "Authorization is still pending"}},
		{`{"clientId":"nope","clientSecret":"nope","grantType":"refresh_token","refreshToken":"x"}`, 401, "InvalidClientException",
			map[string]any{"error": "invalid_client", "error_description": "Invalid client provided"}},
		{`{"clientId":"a","clientSecret":"b","grantType":"password"}`, 400, "UnsupportedGrantTypeException",
			map[string]any{"error": "unsupported_grant_type", "error_description": "Unsupported grant type: password"}},
		{`{"clientId":`, 400, "InvalidRequestException", nil},
	} {
		status, kind, got := post(tc.body)
		if status != tc.status || kind != tc.kind || (tc.want != nil && !reflect.DeepEqual(got, tc.want)) || got["error"] == nil {
			t.Errorf("POST /token %s = %d %s %v; want %d %s %v", tc.body, status, kind, got, tc.status, tc.kind, tc.want)
		}
	}
}

func TestRegisterClientValidation(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		name string
		in   ssooidc.RegisterClientInput
		ok   func(error) bool
	}{
		{"confidential client", ssooidc.RegisterClientInput{ClientType: aws.String("confidential")}, isErr[*types.InvalidClientMetadataException]},
		{"unknown scope", ssooidc.RegisterClientInput{Scopes: []string{"sso:account:access", "admin:everything"}}, isErr[*types.InvalidScopeException]},
		{"unknown grant", ssooidc.RegisterClientInput{GrantTypes: []string{"password"}}, isErr[*types.UnsupportedGrantTypeException]},
		{"plain http redirect", ssooidc.RegisterClientInput{GrantTypes: []string{"authorization_code"}, RedirectUris: []string{"http://app.example.com/cb"}},
			isErr[*types.InvalidRedirectUriException]},
		{"fragment in redirect", ssooidc.RegisterClientInput{GrantTypes: []string{"authorization_code"}, RedirectUris: []string{"https://app.example.com/cb#x"}},
			isErr[*types.InvalidRedirectUriException]},
		{"code grant without redirect", ssooidc.RegisterClientInput{GrantTypes: []string{"authorization_code"}}, isErr[*types.InvalidRedirectUriException]},
		{"issuer not a URL", ssooidc.RegisterClientInput{IssuerUrl: aws.String("not a url")}, isErr[*types.InvalidRequestException]},
	} {
		in := tc.in
		in.ClientName = aws.String("c")
		if in.ClientType == nil {
			in.ClientType = aws.String("public")
		}
		if _, err := f.oidc().RegisterClient(f.ctx, &in); !tc.ok(err) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
	pkce := f.registerPKCE()
	if aws.ToString(pkce.AuthorizationEndpoint) != f.url+"/authorize" || aws.ToString(pkce.TokenEndpoint) != f.url+"/token" {
		t.Fatalf("PKCE registration endpoints = %+v", pkce)
	}
	// A client registered for the code grant cannot run the device flow, and a client's secret is checked.
	if _, err := f.oidc().StartDeviceAuthorization(f.ctx, &ssooidc.StartDeviceAuthorizationInput{ClientId: pkce.ClientId,
		ClientSecret: pkce.ClientSecret, StartUrl: aws.String(startURL)}); !isErr[*types.UnauthorizedClientException](err) {
		t.Fatalf("device flow for a code client: %v", err)
	}
	dev := f.registerDevice("d")
	if _, err := f.oidc().StartDeviceAuthorization(f.ctx, &ssooidc.StartDeviceAuthorizationInput{ClientId: dev.ClientId,
		ClientSecret: pkce.ClientSecret, StartUrl: aws.String(startURL)}); !isErr[*types.InvalidClientException](err) {
		t.Fatalf("another client's secret: %v", err)
	}
}

// The code + PKCE flow as AWS CLI ≥ 2.22 runs it: the approval page
// validates /authorize, the code comes back on the loopback redirect, and
// CreateToken redeems it with the verifier.
func TestAuthorizationCodeFlow(t *testing.T) {
	f := newFixture(t)
	client := f.registerPKCE()
	verifier, challenge := pkce("a1B2-c3D4.e5F6_g7H8~")
	q := url.Values{"response_type": {"code"}, "client_id": {*client.ClientId}, "redirect_uri": {"http://127.0.0.1:43210/oauth/callback"},
		"state": {"7f1c2c9e-1b5e-4f6a-9d61-3c9d4b8f0a11"}, "code_challenge_method": {"S256"}, "scopes": {"sso:account:access"}, "code_challenge": {challenge}}
	req, err := f.oauth.ParseAuthorize(f.ctx, q)
	if err != nil || req.ClientName != "botocore-client-dev" || !reflect.DeepEqual(req.Scopes, []string{"sso:account:access"}) {
		t.Fatalf("ParseAuthorize = %+v, %v", req, err)
	}
	sess := f.signIn(f.alice)
	redirect, err := f.oauth.IssueCode(f.ctx, req, sess)
	if err != nil {
		t.Fatal(err)
	}
	back, err := url.Parse(redirect)
	if err != nil || back.Scheme+"://"+back.Host+back.Path != "http://127.0.0.1:43210/oauth/callback" || back.Query().Get("state") != q.Get("state") ||
		back.Query().Get("code") == "" {
		t.Fatalf("redirect = %s", redirect)
	}
	tok, err := f.oidc().CreateToken(f.ctx, &ssooidc.CreateTokenInput{ClientId: client.ClientId, ClientSecret: client.ClientSecret,
		GrantType: aws.String("authorization_code"), Code: aws.String(back.Query().Get("code")), RedirectUri: aws.String(q.Get("redirect_uri")),
		CodeVerifier: aws.String(verifier)})
	if err != nil || aws.ToString(tok.RefreshToken) == "" {
		t.Fatalf("CreateToken = %+v, %v", tok, err)
	}
	if _, err := f.roleCredentials(*tok.AccessToken, f.account, "Admin"); err != nil {
		t.Fatal(err)
	}
	denied, err := url.Parse(f.oauth.DenyAuthorize(req))
	if err != nil || denied.Query().Get("error") != "access_denied" || denied.Query().Get("state") != q.Get("state") || denied.Query().Get("code") != "" {
		t.Fatalf("DenyAuthorize = %v, %v", denied, err)
	}
}

// The portal API pages accounts and roles, and answers as AWS does for a
// bad token, a bad page token and a role the user does not hold.
func TestPortalAPI(t *testing.T) {
	f := newFixture(t)
	prod, sandbox := f.createAccount("Prod"), f.createAccount("Sandbox")
	read := f.permissionSet("ReadOnly", "PT1H")
	f.assign(prod, f.ps, ssoadmintypes.PrincipalTypeUser, f.alice)
	f.assign(prod, read, ssoadmintypes.PrincipalTypeGroup, f.group)
	f.assign(sandbox, read, ssoadmintypes.PrincipalTypeUser, f.alice)
	other := f.createUser("bob")
	f.assign(f.createAccount("Bobs"), read, ssoadmintypes.PrincipalTypeUser, other)
	tok := f.deviceLogin(f.registerDevice("pages"), f.signIn(f.alice))
	api := f.portalAPI()

	var accounts []string
	p := sso.NewListAccountsPaginator(api, &sso.ListAccountsInput{AccessToken: tok.AccessToken, MaxResults: aws.Int32(1)})
	for p.HasMorePages() {
		page, err := p.NextPage(f.ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(page.AccountList) > 1 {
			t.Fatalf("page of %d with max_result 1", len(page.AccountList))
		}
		for _, a := range page.AccountList {
			accounts = append(accounts, *a.AccountId)
		}
	}
	want := []string{f.account, prod, sandbox}
	slices.Sort(want)
	if !reflect.DeepEqual(accounts, want) {
		t.Fatalf("ListAccounts pages = %v; want %v", accounts, want)
	}
	var roles []string
	rp := sso.NewListAccountRolesPaginator(api, &sso.ListAccountRolesInput{AccessToken: tok.AccessToken, AccountId: &prod, MaxResults: aws.Int32(1)})
	for rp.HasMorePages() {
		page, err := rp.NextPage(f.ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range page.RoleList {
			roles = append(roles, *r.RoleName)
		}
	}
	if !reflect.DeepEqual(roles, []string{"Admin", "ReadOnly"}) {
		t.Fatalf("ListAccountRoles pages = %v", roles)
	}

	_, err := f.roleCredentials(*tok.AccessToken, sandbox, "Admin")
	var ae smithy.APIError
	var re *awshttp.ResponseError
	if !errors.As(err, &ae) || ae.ErrorCode() != "ForbiddenException" || ae.ErrorMessage() != "No access" || !errors.As(err, &re) || re.HTTPStatusCode() != 403 {
		t.Fatalf("a role not held: %v", err)
	}
	if _, err := f.roleCredentials("not-a-token", f.account, "Admin"); !isErr[*ssotypes.UnauthorizedException](err) {
		t.Fatalf("a bad token: %v", err)
	}
	_, err = api.ListAccounts(f.ctx, &sso.ListAccountsInput{AccessToken: tok.AccessToken, NextToken: aws.String("forged")})
	if !isErr[*ssotypes.InvalidRequestException](err) {
		t.Fatalf("a forged next token: %v", err)
	}
	roleList, err := api.ListAccountRoles(f.ctx, &sso.ListAccountRolesInput{AccessToken: tok.AccessToken, AccountId: aws.String("999999999999")})
	if err != nil || len(roleList.RoleList) != 0 {
		t.Fatalf("roles in an account not assigned: %+v, %v", roleList, err)
	}
}

// Token grants and credential issues are audit events naming the person;
// secrets stay out of them, and refused polls are recorded as refused.
func TestGrantsAndCredentialIssuesAreAudited(t *testing.T) {
	f := newFixture(t)
	client := f.registerDevice("audited")
	start, err := f.oidc().StartDeviceAuthorization(f.ctx, &ssooidc.StartDeviceAuthorizationInput{ClientId: client.ClientId,
		ClientSecret: client.ClientSecret, StartUrl: aws.String(startURL)})
	if err != nil {
		t.Fatal(err)
	}
	in := &ssooidc.CreateTokenInput{ClientId: client.ClientId, ClientSecret: client.ClientSecret, GrantType: aws.String(oauth.GrantDeviceCode), DeviceCode: start.DeviceCode}
	if _, err := f.oidc().CreateToken(f.ctx, in); !isErr[*types.AuthorizationPendingException](err) {
		t.Fatal(err)
	}
	if err := f.oauth.ApproveDevice(f.ctx, *start.UserCode, f.signIn(f.alice)); err != nil {
		t.Fatal(err)
	}
	tok, err := f.oidc().CreateToken(f.ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	rc, err := f.roleCredentials(*tok.AccessToken, f.account, "Admin")
	if err != nil {
		t.Fatal(err)
	}
	// Credentials taken on the portal's pages are recorded too.
	sess := f.signIn(f.alice)
	if _, err := f.portal.RoleCredentials(f.ctx, sess, f.account, "Admin"); err != nil {
		t.Fatal(err)
	}
	var events []store.AuditEvent
	f.srv.Store().Read(f.ctx, func(tx store.Tx) error {
		events, err = tx.ListAudit(f.ctx, store.AuditCursor{}, 100)
		return err
	})
	person := "arn:aws:identitystore:::user/" + f.alice
	var granted, pending, approved bool
	issued := 0
	for _, e := range events {
		for _, secret := range []string{*client.ClientSecret, *tok.AccessToken, *tok.RefreshToken, rc.secret, rc.token} {
			if strings.Contains(e.RequestParams, secret) {
				t.Fatalf("a secret in the audit record of %s: %s", e.EventName, e.RequestParams)
			}
		}
		switch {
		case e.EventName == "CreateToken" && e.ErrorCode == "":
			granted = e.PrincipalARN == person && e.AccountID != "" && e.Source == "sso.amazonaws.com"
		case e.EventName == "CreateToken" && e.ErrorCode == "AuthorizationPendingException":
			pending = true
		case e.EventName == "GetRoleCredentials":
			if e.PrincipalARN == person && e.ErrorCode == "" && strings.Contains(e.RequestParams, f.account) && strings.Contains(e.RequestParams, "Admin") {
				issued++
			}
		case e.EventName == "ApproveDeviceAuthorization":
			approved = e.PrincipalARN == person && strings.Contains(e.RequestParams, *start.UserCode)
		}
	}
	if !granted || !pending || issued != 2 || !approved {
		t.Fatalf("audit: grant %v, pending poll %v, credential issues %d (want 2), approval %v in %+v", granted, pending, issued, approved, events)
	}
}

// Disabling or deleting the user, removing the group membership or the
// assignment, Logout, and an administrator ending the session each make
// what was issued from the session fail within a second.
func TestRevocationWithinASecond(t *testing.T) {
	f := newFixture(t)
	credentialsFail := func(t *testing.T, rc *ssoRoleCredentials) {
		t.Helper()
		within(t, 1250*time.Millisecond, "role credentials refused", func() bool {
			_, err := f.stsAs(rc).GetCallerIdentity(f.ctx, &sts.GetCallerIdentityInput{})
			var ae smithy.APIError
			return errors.As(err, &ae) && ae.ErrorCode() == "InvalidClientTokenId"
		})
	}
	tokenFails := func(t *testing.T, tok *ssooidc.CreateTokenOutput) {
		t.Helper()
		within(t, 1250*time.Millisecond, "access token refused", func() bool {
			_, err := f.portalAPI().ListAccounts(f.ctx, &sso.ListAccountsInput{AccessToken: tok.AccessToken})
			return isErr[*ssotypes.UnauthorizedException](err)
		})
		_, err := f.oidc().CreateToken(f.ctx, &ssooidc.CreateTokenInput{ClientId: aws.String("x"), ClientSecret: aws.String("y"),
			GrantType: aws.String("refresh_token"), RefreshToken: tok.RefreshToken})
		if err == nil {
			t.Fatal("refresh after revocation worked")
		}
	}
	// login signs a user in, logs the CLI in and takes role credentials that work.
	login := func(t *testing.T, user string) (*ssooidc.CreateTokenOutput, *ssoRoleCredentials) {
		t.Helper()
		tok := f.deviceLogin(f.registerDevice("revocation"), f.signIn(user))
		rc, err := f.roleCredentials(*tok.AccessToken, f.account, "Admin")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.stsAs(rc).GetCallerIdentity(f.ctx, &sts.GetCallerIdentityInput{}); err != nil {
			t.Fatal(err)
		}
		return tok, rc
	}
	person := func(name string) string {
		id := f.createUser(name)
		f.assign(f.account, f.ps, ssoadmintypes.PrincipalTypeUser, id)
		return id
	}

	t.Run("user disabled", func(t *testing.T) {
		u := person("disabled")
		tok, rc := login(t, u)
		f.adminCall("SetUserStatus", `{"IdentityStoreId":"`+f.storeID+`","UserId":"`+u+`","UserStatus":"DISABLED"}`)
		credentialsFail(t, rc)
		tokenFails(t, tok)
	})
	t.Run("user deleted", func(t *testing.T) {
		u := person("deleted")
		tok, rc := login(t, u)
		if _, err := identitystore.NewFromConfig(f.admin).DeleteUser(f.ctx, &identitystore.DeleteUserInput{IdentityStoreId: &f.storeID, UserId: &u}); err != nil {
			t.Fatal(err)
		}
		credentialsFail(t, rc)
		tokenFails(t, tok)
	})
	t.Run("group membership removed", func(t *testing.T) {
		tok, rc := login(t, f.alice)
		if _, err := identitystore.NewFromConfig(f.admin).DeleteGroupMembership(f.ctx, &identitystore.DeleteGroupMembershipInput{
			IdentityStoreId: &f.storeID, MembershipId: &f.member}); err != nil {
			t.Fatal(err)
		}
		credentialsFail(t, rc)
		// The token is the person's, not the role's: it still works, and lists nothing.
		accts, err := f.portalAPI().ListAccounts(f.ctx, &sso.ListAccountsInput{AccessToken: tok.AccessToken})
		if err != nil || len(accts.AccountList) != 0 {
			t.Fatalf("ListAccounts after losing the group = %+v, %v", accts, err)
		}
		if _, err := f.roleCredentials(*tok.AccessToken, f.account, "Admin"); err == nil {
			t.Fatal("new credentials for a role no longer held")
		}
	})
	t.Run("assignment removed", func(t *testing.T) {
		u := person("unassigned")
		_, rc := login(t, u)
		f.unassign(f.account, f.ps, ssoadmintypes.PrincipalTypeUser, u)
		credentialsFail(t, rc)
	})
	t.Run("logout", func(t *testing.T) {
		u := person("logout")
		tok, rc := login(t, u)
		if _, err := f.portalAPI().Logout(f.ctx, &sso.LogoutInput{AccessToken: tok.AccessToken}); err != nil {
			t.Fatal(err)
		}
		credentialsFail(t, rc)
		tokenFails(t, tok)
	})
	t.Run("administrator revokes the user's sessions", func(t *testing.T) {
		u := person("revoked")
		tok, rc := login(t, u)
		f.adminCall("RevokeUserSessions", `{"IdentityStoreId":"`+f.storeID+`","UserId":"`+u+`"}`)
		credentialsFail(t, rc)
		tokenFails(t, tok)
	})
	t.Run("administrator revokes one session", func(t *testing.T) {
		u := person("one")
		tok, rc := login(t, u)
		list, _, err := f.portal.ListSessions(f.ctx, f.storeID, u, 10, nil)
		if err != nil || len(list) != 1 {
			t.Fatalf("ListSessions = %+v, %v", list, err)
		}
		f.adminCall("RevokeSession", `{"IdentityStoreId":"`+f.storeID+`","SessionId":"`+list[0].ID+`"}`)
		credentialsFail(t, rc)
		tokenFails(t, tok)
	})
}

// Credentials taken through the portal are authorised by their role's
// policies — a person whose permission set allows identitystore:ListUsers
// in the management account may call it, and nothing else — and may assume
// a role whose trust allows them; the chained session dies with the
// sign-in session and with the assignment it came from.
func TestRoleCredentialsAreAuthorisedAndChain(t *testing.T) {
	f := newFixture(t)
	org, err := organizations.NewFromConfig(f.admin).DescribeOrganization(f.ctx, &organizations.DescribeOrganizationInput{})
	if err != nil {
		t.Fatal(err)
	}
	management := *org.Organization.MasterAccountId
	readers := f.permissionSet("UserReader", "PT1H")
	if _, err := ssoadmin.NewFromConfig(f.admin).PutInlinePolicyToPermissionSet(f.ctx, &ssoadmin.PutInlinePolicyToPermissionSetInput{
		InstanceArn: &f.inst, PermissionSetArn: &readers,
		InlinePolicy: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["identitystore:ListUsers","sts:AssumeRole"],"Resource":"*"}]}`)}); err != nil {
		t.Fatal(err)
	}
	f.assign(management, readers, ssoadmintypes.PrincipalTypeUser, f.alice)
	tok := f.deviceLogin(f.registerDevice("admin"), f.signIn(f.alice))
	rc, err := f.roleCredentials(*tok.AccessToken, management, "UserReader")
	if err != nil {
		t.Fatal(err)
	}
	cfg := f.admin.Copy()
	cfg.Credentials = credentials.NewStaticCredentialsProvider(rc.key, rc.secret, rc.token)
	ids := identitystore.NewFromConfig(cfg)
	if _, err := ids.ListUsers(f.ctx, &identitystore.ListUsersInput{IdentityStoreId: &f.storeID}); err != nil {
		t.Fatalf("ListUsers allowed by the permission set: %v", err)
	}
	_, err = ids.ListGroups(f.ctx, &identitystore.ListGroupsInput{IdentityStoreId: &f.storeID})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "AccessDeniedException" {
		t.Fatalf("ListGroups not allowed: %v", err)
	}

	// The member account's OrganizationAccountAccessRole trusts the management account.
	chained, err := sts.NewFromConfig(cfg).AssumeRole(f.ctx, &sts.AssumeRoleInput{
		RoleArn: aws.String("arn:aws:iam::" + f.account + ":role/OrganizationAccountAccessRole"), RoleSessionName: aws.String("alice-ops")})
	if err != nil {
		t.Fatal(err)
	}
	cc := &ssoRoleCredentials{*chained.Credentials.AccessKeyId, *chained.Credentials.SecretAccessKey, *chained.Credentials.SessionToken}
	who, err := f.stsAs(cc).GetCallerIdentity(f.ctx, &sts.GetCallerIdentityInput{})
	if err != nil || *who.Arn != "arn:aws:sts::"+f.account+":assumed-role/OrganizationAccountAccessRole/alice-ops" {
		t.Fatalf("chained GetCallerIdentity = %v, %v", who, err)
	}
	f.unassign(management, readers, ssoadmintypes.PrincipalTypeUser, f.alice)
	within(t, 1250*time.Millisecond, "a chained session after its assignment went", func() bool {
		_, err := f.stsAs(cc).GetCallerIdentity(f.ctx, &sts.GetCallerIdentityInput{})
		return err != nil
	})
}
