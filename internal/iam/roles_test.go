package iam_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkiam "github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/atrium-sso/atrium/internal/access"
	"github.com/atrium-sso/atrium/internal/iam"
	"github.com/atrium-sso/atrium/internal/store"
)

const s3Inline = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListAllMyBuckets","Resource":"*"}]}`

// Organizations' role in a created account, as its own root reads it.
func TestOrganizationAccountAccessRoleIsReadInItsAccount(t *testing.T) {
	w := newWorld(t)
	got, err := w.member.GetRole(ctx, &sdkiam.GetRoleInput{RoleName: aws.String("organizationaccountaccessrole")})
	if err != nil {
		t.Fatal(err)
	}
	r := got.Role
	if *r.RoleName != iam.OrganizationAccountAccessRoleName || *r.Path != "/" || *r.Arn != "arn:aws:iam::"+memberAcct+":role/OrganizationAccountAccessRole" ||
		len(*r.RoleId) != 21 || !strings.HasPrefix(*r.RoleId, "AROA") || *r.MaxSessionDuration != 3600 || r.PermissionsBoundary != nil ||
		time.Since(*r.CreateDate) > time.Minute || r.Description != nil {
		t.Fatalf("GetRole = %+v", r)
	}
	var trust struct {
		Statement []struct {
			Effect    string
			Principal struct{ AWS string }
			Action    string
		}
	}
	if err := json.Unmarshal([]byte(decoded(t, r.AssumeRolePolicyDocument)), &trust); err != nil {
		t.Fatal(err)
	}
	if len(trust.Statement) != 1 || trust.Statement[0].Principal.AWS != "arn:aws:iam::"+mgmtAcct+":root" || trust.Statement[0].Action != "sts:AssumeRole" {
		t.Fatalf("trust policy = %+v", trust)
	}
	attached, err := w.member.ListAttachedRolePolicies(ctx, &sdkiam.ListAttachedRolePoliciesInput{RoleName: r.RoleName})
	if err != nil {
		t.Fatal(err)
	}
	if len(attached.AttachedPolicies) != 1 || *attached.AttachedPolicies[0].PolicyArn != iam.AdministratorAccessARN ||
		*attached.AttachedPolicies[0].PolicyName != "AdministratorAccess" || attached.IsTruncated {
		t.Fatalf("ListAttachedRolePolicies = %+v", attached)
	}
	inline, err := w.member.ListRolePolicies(ctx, &sdkiam.ListRolePoliciesInput{RoleName: r.RoleName})
	if err != nil || len(inline.PolicyNames) != 0 || inline.IsTruncated {
		t.Fatalf("ListRolePolicies = %+v, %v", inline, err)
	}
	// IAM acts in the caller's account: the management account has no such role.
	_, err = w.mgmt.GetRole(ctx, &sdkiam.GetRoleInput{RoleName: r.RoleName})
	wantError(t, "GetRole from the management account", err, "NoSuchEntity", 404, "The role with name OrganizationAccountAccessRole cannot be found.")
	_, err = w.member.ListAttachedRolePolicies(ctx, &sdkiam.ListAttachedRolePoliciesInput{RoleName: aws.String("Nobody")})
	wantError(t, "ListAttachedRolePolicies of a missing role", err, "NoSuchEntity", 404, "The role with name Nobody cannot be found.")
	_, err = w.member.GetRolePolicy(ctx, &sdkiam.GetRolePolicyInput{RoleName: r.RoleName, PolicyName: aws.String("AwsSSOInlinePolicy")})
	wantError(t, "GetRolePolicy of a missing inline policy", err, "NoSuchEntity", 404, "The role policy with name AwsSSOInlinePolicy cannot be found.")
}

// What provisioning a permission set leaves in the account, read back through IAM.
func TestProvisionedRoleAsIAMShowsIt(t *testing.T) {
	w := newWorld(t)
	if _, err := w.member.CreatePolicy(ctx, &sdkiam.CreatePolicyInput{PolicyName: aws.String("TeamBoundary"), Path: aws.String("/team/"),
		PolicyDocument: aws.String(readBuckets)}); err != nil {
		t.Fatal(err)
	}
	spec := ssoRole("Dev")
	spec.ManagedPolicies = []store.ManagedPolicy{{ARN: "arn:aws:iam::aws:policy/job-function/ViewOnlyAccess", Name: "ViewOnlyAccess"},
		{ARN: "arn:aws:iam::aws:policy/ReadOnlyAccess", Name: "ReadOnlyAccess"}}
	spec.InlinePolicy = s3Inline
	spec.Boundary = &store.PermissionsBoundary{CustomerPolicy: &store.CustomerPolicyRef{Name: "TeamBoundary", Path: "/team/"}}
	write(t, w.db, func(tx store.Tx) error { return iam.Roles{}.PutRole(ctx, tx, spec) })

	got, err := w.member.GetRole(ctx, &sdkiam.GetRoleInput{RoleName: aws.String(spec.Name)})
	if err != nil {
		t.Fatal(err)
	}
	r := got.Role
	if *r.Path != spec.Path || *r.MaxSessionDuration != 43200 || decoded(t, r.AssumeRolePolicyDocument) != spec.TrustPolicy ||
		r.PermissionsBoundary == nil || *r.PermissionsBoundary.PermissionsBoundaryArn != "arn:aws:iam::"+memberAcct+":policy/team/TeamBoundary" ||
		r.PermissionsBoundary.PermissionsBoundaryType != "PermissionsBoundaryPolicy" {
		t.Fatalf("GetRole = %+v", r)
	}
	attached, err := w.member.ListAttachedRolePolicies(ctx, &sdkiam.ListAttachedRolePoliciesInput{RoleName: r.RoleName, MaxItems: aws.Int32(1)})
	if err != nil || len(attached.AttachedPolicies) != 1 || *attached.AttachedPolicies[0].PolicyName != "ViewOnlyAccess" || !attached.IsTruncated {
		t.Fatalf("first page of attached = %+v, %v", attached, err)
	}
	rest, err := w.member.ListAttachedRolePolicies(ctx, &sdkiam.ListAttachedRolePoliciesInput{RoleName: r.RoleName, Marker: attached.Marker})
	if err != nil || len(rest.AttachedPolicies) != 1 || *rest.AttachedPolicies[0].PolicyName != "ReadOnlyAccess" || rest.IsTruncated {
		t.Fatalf("second page of attached = %+v, %v", rest, err)
	}
	jobs, err := w.member.ListAttachedRolePolicies(ctx, &sdkiam.ListAttachedRolePoliciesInput{RoleName: r.RoleName, PathPrefix: aws.String("/job-function/")})
	if err != nil || len(jobs.AttachedPolicies) != 1 || *jobs.AttachedPolicies[0].PolicyName != "ViewOnlyAccess" {
		t.Fatalf("attached under /job-function/ = %+v, %v", jobs, err)
	}
	names, err := w.member.ListRolePolicies(ctx, &sdkiam.ListRolePoliciesInput{RoleName: r.RoleName})
	if err != nil || len(names.PolicyNames) != 1 || names.PolicyNames[0] != iam.InlinePolicyName {
		t.Fatalf("ListRolePolicies = %+v, %v", names, err)
	}
	inline, err := w.member.GetRolePolicy(ctx, &sdkiam.GetRolePolicyInput{RoleName: r.RoleName, PolicyName: aws.String("awsssoinlinepolicy")})
	if err != nil || *inline.PolicyName != iam.InlinePolicyName || *inline.RoleName != spec.Name || decoded(t, inline.PolicyDocument) != s3Inline {
		t.Fatalf("GetRolePolicy = %+v, %v", inline, err)
	}

	// ListRoles by path, one page at a time, leaves the boundary out as IAM does.
	var listed []string
	in := &sdkiam.ListRolesInput{PathPrefix: aws.String("/aws-reserved/"), MaxItems: aws.Int32(1)}
	for p := sdkiam.NewListRolesPaginator(w.member, in); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range page.Roles {
			if r.PermissionsBoundary != nil || decoded(t, r.AssumeRolePolicyDocument) != spec.TrustPolicy {
				t.Fatalf("listed %+v", r)
			}
			listed = append(listed, *r.RoleName)
		}
	}
	if strings.Join(listed, ",") != spec.Name {
		t.Fatalf("ListRoles(/aws-reserved/) = %v", listed)
	}
	all, err := w.member.ListRoles(ctx, &sdkiam.ListRolesInput{})
	if err != nil || len(all.Roles) != 2 || all.IsTruncated {
		t.Fatalf("ListRoles = %+v, %v", all, err)
	}
}

func TestReprovisioningKeepsTheRoleIdentity(t *testing.T) {
	w := newWorld(t)
	spec := ssoRole("Ops")
	spec.ManagedPolicies = []store.ManagedPolicy{{ARN: "arn:aws:iam::aws:policy/ReadOnlyAccess"}}
	spec.InlinePolicy = s3Inline
	write(t, w.db, func(tx store.Tx) error { return iam.Roles{}.PutRole(ctx, tx, spec) })
	first, _ := w.member.GetRole(ctx, &sdkiam.GetRoleInput{RoleName: aws.String(spec.Name)})

	spec.ManagedPolicies = []store.ManagedPolicy{{ARN: iam.AdministratorAccessARN}}
	spec.InlinePolicy, spec.MaxSessionSecs = "", 3600
	write(t, w.db, func(tx store.Tx) error { return iam.Roles{}.PutRole(ctx, tx, spec) })
	second, err := w.member.GetRole(ctx, &sdkiam.GetRoleInput{RoleName: aws.String(spec.Name)})
	if err != nil {
		t.Fatal(err)
	}
	if *second.Role.RoleId != *first.Role.RoleId || !second.Role.CreateDate.Equal(*first.Role.CreateDate) || *second.Role.MaxSessionDuration != 3600 {
		t.Fatalf("re-provisioned role = %+v, was %+v", second.Role, first.Role)
	}
	attached, _ := w.member.ListAttachedRolePolicies(ctx, &sdkiam.ListAttachedRolePoliciesInput{RoleName: aws.String(spec.Name)})
	inline, _ := w.member.ListRolePolicies(ctx, &sdkiam.ListRolePoliciesInput{RoleName: aws.String(spec.Name)})
	if len(attached.AttachedPolicies) != 1 || *attached.AttachedPolicies[0].PolicyArn != iam.AdministratorAccessARN || len(inline.PolicyNames) != 0 {
		t.Fatalf("policies after re-provisioning: %+v, inline %v", attached.AttachedPolicies, inline.PolicyNames)
	}
	var stored *store.IAMRole
	if err := w.db.Read(ctx, func(tx store.Tx) error { stored, err = tx.GetRole(ctx, memberAcct, spec.Name); return err }); err != nil {
		t.Fatal(err)
	}
	if stored.ManagedBy != iam.ManagedBySSO {
		t.Fatalf("provisioned role is not protected: ManagedBy %q", stored.ManagedBy)
	}
	// Deleting is idempotent.
	for i := 0; i < 2; i++ {
		write(t, w.db, func(tx store.Tx) error { return iam.Roles{}.DeleteRole(ctx, tx, memberAcct, spec.Name) })
	}
	_, err = w.member.GetRole(ctx, &sdkiam.GetRoleInput{RoleName: aws.String(spec.Name)})
	wantError(t, "GetRole after DeleteRole", err, "NoSuchEntity", 404, "")
}

// A policy the permission set names but the account lacks fails the
// provisioning with a reason, and writes nothing.
func TestProvisioningFailsOnAPolicyTheAccountLacks(t *testing.T) {
	w := newWorld(t)
	if _, err := w.member.CreatePolicy(ctx, &sdkiam.CreatePolicyInput{PolicyName: aws.String("Present"), Path: aws.String("/a/"),
		PolicyDocument: aws.String(readBuckets)}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		what   string
		change func(*access.RoleSpec)
		reason string
	}{
		{"a customer managed policy of that name elsewhere in the path tree", func(s *access.RoleSpec) {
			s.CustomerPolicies = []store.CustomerPolicyRef{{Name: "Present", Path: "/b/"}}
		}, "Received a 404 status error: Policy arn:aws:iam::" + memberAcct + ":policy/b/Present does not exist or is not attachable."},
		{"a customer managed policy absent from the account", func(s *access.RoleSpec) {
			s.CustomerPolicies = []store.CustomerPolicyRef{{Name: "Present", Path: "/a/"}, {Name: "Missing"}}
		}, "Received a 404 status error: Policy arn:aws:iam::" + memberAcct + ":policy/Missing does not exist or is not attachable."},
		{"an AWS managed policy AWS does not have", func(s *access.RoleSpec) {
			s.ManagedPolicies = []store.ManagedPolicy{{ARN: "arn:aws:iam::aws:policy/NotAPolicy"}}
		}, "Received a 404 status error: Policy arn:aws:iam::aws:policy/NotAPolicy does not exist or is not attachable."},
		{"a customer managed boundary absent from the account", func(s *access.RoleSpec) {
			s.Boundary = &store.PermissionsBoundary{CustomerPolicy: &store.CustomerPolicyRef{Name: "Gone", Path: "/"}}
		}, "Received a 404 status error: Policy arn:aws:iam::" + memberAcct + ":policy/Gone does not exist or is not attachable."},
		{"an AWS managed boundary AWS does not have", func(s *access.RoleSpec) {
			s.Boundary = &store.PermissionsBoundary{ManagedPolicyARN: "arn:aws:iam::aws:policy/NotABoundary"}
		}, "Received a 404 status error: Policy arn:aws:iam::aws:policy/NotABoundary does not exist or is not attachable."},
	} {
		spec := ssoRole("Broken")
		tc.change(&spec)
		err := w.db.Write(ctx, func(tx store.Tx) error { return iam.Roles{}.PutRole(ctx, tx, spec) })
		var pe *access.ProvisioningError
		if !errors.As(err, &pe) || pe.Reason != tc.reason {
			t.Fatalf("%s: PutRole = %v, want reason %q", tc.what, err, tc.reason)
		}
		_, err = w.member.GetRole(ctx, &sdkiam.GetRoleInput{RoleName: aws.String(spec.Name)})
		wantError(t, tc.what+": the role", err, "NoSuchEntity", 404, "")
	}
}

// A fault in the store is IAM's ServiceFailure, not a detail of the cause.
func TestStoreFailureIsServiceFailure(t *testing.T) {
	w := newWorld(t)
	// One call first: the caller's key is then cached, and the fault is met in IAM's handler.
	if _, err := w.member.ListRoles(ctx, &sdkiam.ListRolesInput{}); err != nil {
		t.Fatal(err)
	}
	if err := w.db.Close(); err != nil {
		t.Fatal(err)
	}
	once := sdkiam.New(w.member.Options(), func(o *sdkiam.Options) { o.RetryMaxAttempts = 1 })
	_, err := once.GetRole(ctx, &sdkiam.GetRoleInput{RoleName: aws.String("OrganizationAccountAccessRole")})
	wantError(t, "GetRole on a closed store", err, "ServiceFailure", 500,
		"Request processing has failed due to some unknown error, exception or failure.")
}
