package e2e

import (
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/atrium-sso/atrium/internal/policy"
)

const iamTeamPolicy = `{
  "Version": "2012-10-17",
  "Statement": [
    {"Sid": "ReadTeamBuckets", "Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"],
     "Resource": ["arn:aws:s3:::team-*", "arn:aws:s3:::team-*/*"]}
  ]
}`

// iamWantError checks an IAM error's code and HTTP status as the SDK sees them.
func iamWantError(t *testing.T, what string, err error, code string, status int) {
	t.Helper()
	var re *smithyhttp.ResponseError
	if apiErrorCode(err) != code || !errors.As(err, &re) || re.HTTPStatusCode() != status {
		t.Fatalf("%s = %v, want %s (%d)", what, err, code, status)
	}
}

// iamDecoded undoes IAM's URL encoding of a policy document.
func iamDecoded(t *testing.T, doc *string) string {
	t.Helper()
	s, err := url.QueryUnescape(aws.ToString(doc))
	if err != nil {
		t.Fatalf("document %q is not URL-encoded: %v", aws.ToString(doc), err)
	}
	return s
}

func iamListPolicies(t *testing.T, c *iam.Client, in iam.ListPoliciesInput) []iamtypes.Policy {
	t.Helper()
	var all []iamtypes.Policy
	for p := iam.NewListPoliciesPaginator(c, &in); p.HasMorePages(); {
		page, err := p.NextPage(ctxT(t))
		if err != nil {
			t.Fatalf("ListPolicies: %v", err)
		}
		all = append(all, page.Policies...)
	}
	return all
}

// AWS managed policies and a customer managed policy's whole life, with
// the errors IAM answers, from the management account's root.
func TestIAMPoliciesGoSDK(t *testing.T) {
	backends(t, func(t *testing.T, o nodeOptions) {
		n := startNode(t, o)
		c := iam.NewFromConfig(n.admin())
		ctx := ctxT(t)

		managed := iamListPolicies(t, c, iam.ListPoliciesInput{Scope: iamtypes.PolicyScopeTypeAws})
		if len(managed) != len(policy.ManagedPolicies()) {
			t.Fatalf("Scope=AWS listed %d policies, want all %d AWS managed ones", len(managed), len(policy.ManagedPolicies()))
		}
		admin, err := c.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String("arn:aws:iam::aws:policy/AdministratorAccess")})
		if err != nil {
			t.Fatal(err)
		}
		if *admin.Policy.PolicyName != "AdministratorAccess" || *admin.Policy.AttachmentCount != 0 || !admin.Policy.IsAttachable {
			t.Fatalf("GetPolicy(AdministratorAccess) = %+v", admin.Policy)
		}
		v, err := c.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: admin.Policy.Arn, VersionId: admin.Policy.DefaultVersionId})
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Statement []struct{ Effect, Action, Resource string }
		}
		if err := json.Unmarshal([]byte(iamDecoded(t, v.PolicyVersion.Document)), &doc); err != nil || len(doc.Statement) != 1 ||
			doc.Statement[0].Action != "*" || doc.Statement[0].Resource != "*" {
			t.Fatalf("AdministratorAccess document = %+v, %v", doc, err)
		}

		before := time.Now().Add(-time.Second)
		created, err := c.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("TeamBuckets"), Path: aws.String("/teams/"),
			PolicyDocument: aws.String(iamTeamPolicy), Description: aws.String("team buckets, read only")})
		if err != nil {
			t.Fatal(err)
		}
		p := created.Policy
		mgmt := strings.Split(*p.Arn, ":")[4]
		if *p.Arn != "arn:aws:iam::"+mgmt+":policy/teams/TeamBuckets" || !strings.HasPrefix(*p.PolicyId, "ANPA") || len(*p.PolicyId) != 21 ||
			*p.DefaultVersionId != "v1" || p.CreateDate.Before(before) || p.CreateDate.After(time.Now().Add(time.Second)) {
			t.Fatalf("CreatePolicy = %+v", p)
		}
		got, err := c.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: p.Arn})
		if err != nil || *got.Policy.PolicyId != *p.PolicyId || aws.ToString(got.Policy.Description) != "team buckets, read only" {
			t.Fatalf("GetPolicy = %+v, %v", got, err)
		}
		version, err := c.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: p.Arn, VersionId: aws.String("v1")})
		if err != nil {
			t.Fatal(err)
		}
		if d := iamDecoded(t, version.PolicyVersion.Document); d != iamTeamPolicy || !version.PolicyVersion.IsDefaultVersion {
			t.Fatalf("GetPolicyVersion document = %q, want the input", d)
		}
		local := iamListPolicies(t, c, iam.ListPoliciesInput{Scope: iamtypes.PolicyScopeTypeLocal})
		if len(local) != 1 || *local[0].Arn != *p.Arn {
			t.Fatalf("Scope=Local = %+v", local)
		}

		_, err = c.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("teambuckets"), PolicyDocument: aws.String(iamTeamPolicy)})
		iamWantError(t, "CreatePolicy of a taken name", err, "EntityAlreadyExists", 409)
		_, err = c.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("Broken"), PolicyDocument: aws.String(`{"Statement": "nope"}`)})
		iamWantError(t, "CreatePolicy of a malformed document", err, "MalformedPolicyDocument", 400)
		_, err = c.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: p.Arn, VersionId: aws.String("v2")})
		iamWantError(t, "GetPolicyVersion of a version that does not exist", err, "NoSuchEntity", 404)
		_, err = c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("NoSuchRole")})
		iamWantError(t, "GetRole of a missing role", err, "NoSuchEntity", 404)

		if _, err := c.DeletePolicy(ctx, &iam.DeletePolicyInput{PolicyArn: p.Arn}); err != nil {
			t.Fatal(err)
		}
		_, err = c.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: p.Arn})
		iamWantError(t, "GetPolicy after DeletePolicy", err, "NoSuchEntity", 404)
	})
}

// A created account's OrganizationAccountAccessRole, read through IAM with
// the credentials of that role itself: IAM answers for the caller's account.
func TestIAMInACreatedAccount(t *testing.T) {
	backends(t, func(t *testing.T, o nodeOptions) {
		n := startNode(t, o)
		st := createAccount(t, n.organizations(), "Sandbox", "sandbox@example.com")
		if st.State != "SUCCEEDED" {
			t.Fatalf("CreateAccount ended %s (%s)", st.State, st.FailureReason)
		}
		acct := *st.AccountId
		ctx := ctxT(t)
		org, err := n.sts().GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if err != nil {
			t.Fatal(err)
		}
		mgmt := *org.Account
		roleARN := "arn:aws:iam::" + acct + ":role/OrganizationAccountAccessRole"
		assumed, err := n.sts().AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String("iam-e2e")})
		if err != nil {
			t.Fatalf("AssumeRole into the new account: %v", err)
		}
		cfg := n.admin()
		k := assumed.Credentials
		cfg.Credentials = credentials.NewStaticCredentialsProvider(*k.AccessKeyId, *k.SecretAccessKey, *k.SessionToken)
		member := iam.NewFromConfig(cfg)

		got, err := member.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("OrganizationAccountAccessRole")})
		if err != nil {
			t.Fatal(err)
		}
		r := got.Role
		var trust struct {
			Statement []struct {
				Effect    string
				Principal struct{ AWS string }
				Action    string
			}
		}
		if err := json.Unmarshal([]byte(iamDecoded(t, r.AssumeRolePolicyDocument)), &trust); err != nil {
			t.Fatal(err)
		}
		if *r.Arn != roleARN || *r.Path != "/" || *r.MaxSessionDuration != 3600 || len(trust.Statement) != 1 ||
			trust.Statement[0].Principal.AWS != "arn:aws:iam::"+mgmt+":root" || trust.Statement[0].Action != "sts:AssumeRole" {
			t.Fatalf("GetRole = %+v, trust %+v", r, trust)
		}
		roles, err := member.ListRoles(ctx, &iam.ListRolesInput{PathPrefix: aws.String("/")})
		if err != nil || len(roles.Roles) != 1 || *roles.Roles[0].RoleName != "OrganizationAccountAccessRole" || roles.IsTruncated {
			t.Fatalf("ListRoles(/) = %+v, %v", roles, err)
		}
		reserved, err := member.ListRoles(ctx, &iam.ListRolesInput{PathPrefix: aws.String("/aws-reserved/")})
		if err != nil || len(reserved.Roles) != 0 {
			t.Fatalf("ListRoles(/aws-reserved/) before any provisioning = %+v, %v", reserved, err)
		}
		attached, err := member.ListAttachedRolePolicies(ctx, &iam.ListAttachedRolePoliciesInput{RoleName: r.RoleName})
		if err != nil || len(attached.AttachedPolicies) != 1 || *attached.AttachedPolicies[0].PolicyArn != "arn:aws:iam::aws:policy/AdministratorAccess" {
			t.Fatalf("ListAttachedRolePolicies = %+v, %v", attached, err)
		}
		inline, err := member.ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: r.RoleName})
		if err != nil || len(inline.PolicyNames) != 0 {
			t.Fatalf("ListRolePolicies = %+v, %v", inline, err)
		}
		_, err = member.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: r.RoleName, PolicyName: aws.String("AdministratorAccess")})
		iamWantError(t, "GetRolePolicy of an inline policy the role lacks", err, "NoSuchEntity", 404)
		inUse := iamListPolicies(t, member, iam.ListPoliciesInput{OnlyAttached: true})
		if len(inUse) != 1 || *inUse[0].PolicyName != "AdministratorAccess" || *inUse[0].AttachmentCount != 1 {
			t.Fatalf("OnlyAttached in the new account = %+v", inUse)
		}

		// A policy made in the new account is that account's, not the management account's.
		mine, err := member.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("SandboxBuckets"), PolicyDocument: aws.String(iamTeamPolicy)})
		if err != nil {
			t.Fatal(err)
		}
		if *mine.Policy.Arn != "arn:aws:iam::"+acct+":policy/SandboxBuckets" {
			t.Fatalf("policy made in the new account: %s", *mine.Policy.Arn)
		}
		admin := iam.NewFromConfig(n.admin())
		if list := iamListPolicies(t, admin, iam.ListPoliciesInput{Scope: iamtypes.PolicyScopeTypeLocal}); len(list) != 0 {
			t.Fatalf("the management account lists %+v", list)
		}
		_, err = admin.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("OrganizationAccountAccessRole")})
		iamWantError(t, "GetRole of the member's role from the management account", err, "NoSuchEntity", 404)
		_, err = admin.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: mine.Policy.Arn})
		iamWantError(t, "GetPolicy of the member's policy from the management account", err, "AccessDenied", 403)
	})
}
