package model_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/identitystore"
	idstypes "github.com/aws/aws-sdk-go-v2/service/identitystore/types"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/aws/aws-sdk-go-v2/service/sso"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"
	admintypes "github.com/aws/aws-sdk-go-v2/service/ssoadmin/types"
	"github.com/aws/aws-sdk-go-v2/service/ssooidc"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"

	"github.com/atrium-sso/atrium/internal/awsproto/model"
)

// captured is one request as a real SDK client sent it.
type captured struct {
	op     string // from X-Amz-Target or the Action form field; empty for restJson
	body   []byte
	header http.Header
	query  url.Values
}

// recorder is an httptest server that keeps the last request and answers
// with an empty success; the SDK may fail to parse that, which is fine:
// only the request matters here.
type recorder struct {
	*httptest.Server
	mu   sync.Mutex
	last captured
}

func newRecorder(t testing.TB) *recorder {
	r := &recorder{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		c := captured{body: body, header: req.Header.Clone(), query: req.URL.Query()}
		if tgt := req.Header.Get("X-Amz-Target"); tgt != "" {
			c.op = tgt[strings.LastIndexByte(tgt, '.')+1:]
		} else if form, err := url.ParseQuery(string(body)); err == nil {
			c.op = form.Get("Action")
		}
		r.mu.Lock()
		r.last = c
		r.mu.Unlock()
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.Write([]byte("{}"))
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *recorder) take() captured {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.last
	r.last = captured{}
	return c
}

var (
	ctx   = context.Background()
	creds = credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", "")
)

// check decodes the captured request with the model and compares the result.
func check(t *testing.T, svc, op string, c captured, want map[string]any) {
	t.Helper()
	s := model.MustLoad(svc)
	if c.op != "" && c.op != op {
		t.Fatalf("SDK sent operation %q, want %q", c.op, op)
	}
	in := s.Operation(op).Input
	var got map[string]any
	var err error
	switch s.Protocol {
	case "json":
		got, err = in.DecodeJSON(c.body)
	case "query":
		form, perr := url.ParseQuery(string(c.body))
		if perr != nil {
			t.Fatal(perr)
		}
		if form.Get("Version") != s.APIVersion {
			t.Errorf("Version = %q, want %q", form.Get("Version"), s.APIVersion)
		}
		got, err = in.DecodeQuery(form)
	case "rest-json":
		got, err = in.DecodeREST(c.body, c.header, c.query, nil)
	}
	if err != nil {
		t.Fatalf("%s.%s: %v\nbody: %s", svc, op, err, c.body)
	}
	if !reflect.DeepEqual(got, want) {
		g, _ := json.Marshal(got)
		w, _ := json.Marshal(want)
		t.Fatalf("%s.%s decoded\n  %s\nwant\n  %s\nbody: %s", svc, op, g, w, c.body)
	}
}

func TestSDKOrganizations(t *testing.T) {
	rec := newRecorder(t)
	c := organizations.New(organizations.Options{Region: "us-east-1", Credentials: creds,
		BaseEndpoint: aws.String(rec.URL), Retryer: aws.NopRetryer{}})

	c.CreateAccount(ctx, &organizations.CreateAccountInput{
		Email: aws.String("dev@example.com"), AccountName: aws.String("Dev Account"), RoleName: aws.String("OrgAdmin"),
		IamUserAccessToBilling: orgtypes.IAMUserAccessToBillingAllow,
		Tags:                   []orgtypes.Tag{{Key: aws.String("team"), Value: aws.String("blue")}, {Key: aws.String("empty"), Value: aws.String("")}},
	})
	check(t, "organizations", "CreateAccount", rec.take(), map[string]any{
		"Email": "dev@example.com", "AccountName": "Dev Account", "RoleName": "OrgAdmin", "IamUserAccessToBilling": "ALLOW",
		"Tags": []any{map[string]any{"Key": "team", "Value": "blue"}, map[string]any{"Key": "empty", "Value": ""}},
	})

	c.ListAccounts(ctx, &organizations.ListAccountsInput{MaxResults: aws.Int32(20), NextToken: aws.String("tok")})
	check(t, "organizations", "ListAccounts", rec.take(), map[string]any{"MaxResults": json.Number("20"), "NextToken": "tok"})

	c.DescribeAccount(ctx, &organizations.DescribeAccountInput{AccountId: aws.String("123456789012")})
	check(t, "organizations", "DescribeAccount", rec.take(), map[string]any{"AccountId": "123456789012"})

	// Timestamps travel as epoch seconds, fractions included.
	c.InviteOrganizationToTransferResponsibility(ctx, &organizations.InviteOrganizationToTransferResponsibilityInput{
		Type: orgtypes.ResponsibilityTransferTypeBilling, SourceName: aws.String("payer"),
		StartTimestamp: aws.Time(time.Date(2024, 1, 2, 3, 4, 5, 250e6, time.UTC)),
		Target:         &orgtypes.HandshakeParty{Id: aws.String("123456789012"), Type: orgtypes.HandshakePartyTypeAccount},
	})
	check(t, "organizations", "InviteOrganizationToTransferResponsibility", rec.take(), map[string]any{
		"Type": "BILLING", "SourceName": "payer", "StartTimestamp": json.Number("1704164645.25"),
		"Target": map[string]any{"Id": "123456789012", "Type": "ACCOUNT"},
	})

	c.DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
	check(t, "organizations", "DescribeOrganization", rec.take(), map[string]any{})
}

func TestSDKIdentityStoreAndSSOAdmin(t *testing.T) {
	rec := newRecorder(t)
	ids := identitystore.New(identitystore.Options{Region: "us-east-1", Credentials: creds,
		BaseEndpoint: aws.String(rec.URL), Retryer: aws.NopRetryer{}})
	ids.CreateUser(ctx, &identitystore.CreateUserInput{
		IdentityStoreId: aws.String("d-1234567890"), UserName: aws.String("jdoe"), DisplayName: aws.String("Jane Doe"),
		Name:   &idstypes.Name{GivenName: aws.String("Jane"), FamilyName: aws.String("Doe")},
		Emails: []idstypes.Email{{Value: aws.String("jane@example.com"), Type: aws.String("work"), Primary: true}},
	})
	check(t, "identitystore", "CreateUser", rec.take(), map[string]any{
		"IdentityStoreId": "d-1234567890", "UserName": "jdoe", "DisplayName": "Jane Doe",
		"Name":   map[string]any{"GivenName": "Jane", "FamilyName": "Doe"},
		"Emails": []any{map[string]any{"Value": "jane@example.com", "Type": "work", "Primary": true}},
	})

	uid := "a1b2c3d4-1111-2222-3333-444455556666"
	ids.CreateGroupMembership(ctx, &identitystore.CreateGroupMembershipInput{
		IdentityStoreId: aws.String("d-1234567890"), GroupId: aws.String(uid), MemberId: &idstypes.MemberIdMemberUserId{Value: uid},
	})
	check(t, "identitystore", "CreateGroupMembership", rec.take(), map[string]any{
		"IdentityStoreId": "d-1234567890", "GroupId": uid, "MemberId": map[string]any{"UserId": uid},
	})

	admin := ssoadmin.New(ssoadmin.Options{Region: "us-east-1", Credentials: creds,
		BaseEndpoint: aws.String(rec.URL), Retryer: aws.NopRetryer{}})
	inst := "arn:aws:sso:::instance/ssoins-1234567890abcdef"
	admin.CreatePermissionSet(ctx, &ssoadmin.CreatePermissionSetInput{
		Name: aws.String("Admin"), InstanceArn: aws.String(inst), SessionDuration: aws.String("PT8H"),
		Tags: []admintypes.Tag{{Key: aws.String("team"), Value: aws.String("blue")}},
	})
	check(t, "sso-admin", "CreatePermissionSet", rec.take(), map[string]any{
		"Name": "Admin", "InstanceArn": inst, "SessionDuration": "PT8H",
		"Tags": []any{map[string]any{"Key": "team", "Value": "blue"}},
	})
	admin.ListAccountAssignments(ctx, &ssoadmin.ListAccountAssignmentsInput{InstanceArn: aws.String(inst),
		AccountId: aws.String("123456789012"), PermissionSetArn: aws.String("arn:aws:sso:::permissionSet/ssoins-1234567890abcdef/ps-1234567890abcdef"),
		MaxResults: aws.Int32(100)})
	check(t, "sso-admin", "ListAccountAssignments", rec.take(), map[string]any{"InstanceArn": inst, "AccountId": "123456789012",
		"PermissionSetArn": "arn:aws:sso:::permissionSet/ssoins-1234567890abcdef/ps-1234567890abcdef", "MaxResults": json.Number("100")})
}

func TestSDKSTS(t *testing.T) {
	rec := newRecorder(t)
	c := sts.New(sts.Options{Region: "us-east-1", Credentials: creds, BaseEndpoint: aws.String(rec.URL), Retryer: aws.NopRetryer{}})
	role := "arn:aws:iam::123456789012:role/dev"

	c.AssumeRole(ctx, &sts.AssumeRoleInput{
		RoleArn: aws.String(role), RoleSessionName: aws.String("me@example.com"), DurationSeconds: aws.Int32(3600),
		PolicyArns:        []ststypes.PolicyDescriptorType{{Arn: aws.String("arn:aws:iam::aws:policy/ReadOnlyAccess")}, {Arn: aws.String("arn:aws:iam::aws:policy/job-function/ViewOnlyAccess")}},
		Tags:              []ststypes.Tag{{Key: aws.String("team"), Value: aws.String("blue")}, {Key: aws.String("cost center"), Value: aws.String("a+b=c/d:e@f")}},
		TransitiveTagKeys: []string{"team"}, ExternalId: aws.String("ext-1"), Policy: aws.String(`{"Version":"2012-10-17","Statement":[]}`),
		ProvidedContexts: []ststypes.ProvidedContext{{ProviderArn: aws.String("arn:aws:iam::aws:contextProvider/IdentityCenter"), ContextAssertion: aws.String("abcd")}},
	})
	check(t, "sts", "AssumeRole", rec.take(), map[string]any{
		"RoleArn": role, "RoleSessionName": "me@example.com", "DurationSeconds": json.Number("3600"),
		"PolicyArns":        []any{map[string]any{"arn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}, map[string]any{"arn": "arn:aws:iam::aws:policy/job-function/ViewOnlyAccess"}},
		"Tags":              []any{map[string]any{"Key": "team", "Value": "blue"}, map[string]any{"Key": "cost center", "Value": "a+b=c/d:e@f"}},
		"TransitiveTagKeys": []any{"team"}, "ExternalId": "ext-1", "Policy": `{"Version":"2012-10-17","Statement":[]}`,
		"ProvidedContexts": []any{map[string]any{"ProviderArn": "arn:aws:iam::aws:contextProvider/IdentityCenter", "ContextAssertion": "abcd"}},
	})

	// An empty list goes on the wire as "Tags=".
	c.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(role), RoleSessionName: aws.String("s1"), Tags: []ststypes.Tag{}})
	check(t, "sts", "AssumeRole", rec.take(), map[string]any{"RoleArn": role, "RoleSessionName": "s1", "Tags": []any{}})

	c.AssumeRoleWithWebIdentity(ctx, &sts.AssumeRoleWithWebIdentityInput{RoleArn: aws.String(role),
		RoleSessionName: aws.String("web"), WebIdentityToken: aws.String("eyJhbGciOi.x.y")})
	check(t, "sts", "AssumeRoleWithWebIdentity", rec.take(), map[string]any{"RoleArn": role, "RoleSessionName": "web", "WebIdentityToken": "eyJhbGciOi.x.y"})

	c.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	check(t, "sts", "GetCallerIdentity", rec.take(), map[string]any{})
}

func TestSDKIAM(t *testing.T) {
	rec := newRecorder(t)
	c := iam.New(iam.Options{Region: "us-east-1", Credentials: creds, BaseEndpoint: aws.String(rec.URL), Retryer: aws.NopRetryer{}})

	c.ListRoles(ctx, &iam.ListRolesInput{PathPrefix: aws.String("/aws-reserved/sso.amazonaws.com/"), MaxItems: aws.Int32(100), Marker: aws.String("m")})
	check(t, "iam", "ListRoles", rec.take(), map[string]any{"PathPrefix": "/aws-reserved/sso.amazonaws.com/", "MaxItems": json.Number("100"), "Marker": "m"})

	c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("AWSReservedSSO_Admin_0123456789abcdef"),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17"}`), Path: aws.String("/aws-reserved/sso.amazonaws.com/"),
		MaxSessionDuration: aws.Int32(43200), Tags: []iamtypes.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})
	check(t, "iam", "CreateRole", rec.take(), map[string]any{"RoleName": "AWSReservedSSO_Admin_0123456789abcdef",
		"AssumeRolePolicyDocument": `{"Version":"2012-10-17"}`, "Path": "/aws-reserved/sso.amazonaws.com/",
		"MaxSessionDuration": json.Number("43200"), "Tags": []any{map[string]any{"Key": "k", "Value": "v"}}})

	c.SimulatePrincipalPolicy(ctx, &iam.SimulatePrincipalPolicyInput{PolicySourceArn: aws.String("arn:aws:iam::123456789012:user/bob"),
		ActionNames: []string{"s3:GetObject", "s3:PutObject"},
		ContextEntries: []iamtypes.ContextEntry{{ContextKeyName: aws.String("aws:CurrentTime"),
			ContextKeyType: iamtypes.ContextKeyTypeEnumDate, ContextKeyValues: []string{"2024-01-02T03:04:05Z"}}},
		MaxItems: aws.Int32(10)})
	check(t, "iam", "SimulatePrincipalPolicy", rec.take(), map[string]any{"PolicySourceArn": "arn:aws:iam::123456789012:user/bob",
		"ActionNames": []any{"s3:GetObject", "s3:PutObject"},
		"ContextEntries": []any{map[string]any{"ContextKeyName": "aws:CurrentTime", "ContextKeyType": "date",
			"ContextKeyValues": []any{"2024-01-02T03:04:05Z"}}},
		"MaxItems": json.Number("10")})

	c.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{UserName: aws.String("bob"), Password: aws.String("p@ss word"), PasswordResetRequired: true})
	check(t, "iam", "CreateLoginProfile", rec.take(), map[string]any{"UserName": "bob", "Password": "p@ss word", "PasswordResetRequired": true})
}

func TestSDKRestJSON(t *testing.T) {
	rec := newRecorder(t)
	portal := sso.New(sso.Options{Region: "us-east-1", BaseEndpoint: aws.String(rec.URL), Retryer: aws.NopRetryer{}})
	portal.GetRoleCredentials(ctx, &sso.GetRoleCredentialsInput{AccessToken: aws.String("tok"), AccountId: aws.String("123456789012"), RoleName: aws.String("Admin")})
	check(t, "sso", "GetRoleCredentials", rec.take(), map[string]any{"accessToken": "tok", "accountId": "123456789012", "roleName": "Admin"})

	portal.ListAccounts(ctx, &sso.ListAccountsInput{AccessToken: aws.String("tok"), MaxResults: aws.Int32(50), NextToken: aws.String("n")})
	check(t, "sso", "ListAccounts", rec.take(), map[string]any{"accessToken": "tok", "maxResults": json.Number("50"), "nextToken": "n"})

	oidc := ssooidc.New(ssooidc.Options{Region: "us-east-1", BaseEndpoint: aws.String(rec.URL), Retryer: aws.NopRetryer{}})
	oidc.CreateToken(ctx, &ssooidc.CreateTokenInput{ClientId: aws.String("cid"), ClientSecret: aws.String("sec"),
		GrantType: aws.String("urn:ietf:params:oauth:grant-type:device_code"), DeviceCode: aws.String("dev")})
	check(t, "sso-oidc", "CreateToken", rec.take(), map[string]any{"clientId": "cid", "clientSecret": "sec",
		"grantType": "urn:ietf:params:oauth:grant-type:device_code", "deviceCode": "dev"})

	oidc.RegisterClient(ctx, &ssooidc.RegisterClientInput{ClientName: aws.String("botocore-client-x"), ClientType: aws.String("public"),
		Scopes: []string{"sso:account:access"}})
	check(t, "sso-oidc", "RegisterClient", rec.take(), map[string]any{"clientName": "botocore-client-x", "clientType": "public",
		"scopes": []any{"sso:account:access"}})
}
