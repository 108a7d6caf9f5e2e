package iam_test

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkiam "github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/atrium-sso/atrium/internal/access"
	"github.com/atrium-sso/atrium/internal/iam"
	"github.com/atrium-sso/atrium/internal/policy"
	"github.com/atrium-sso/atrium/internal/store"
)

const readBuckets = `{
  "Version": "2012-10-17",
  "Statement": [{"Sid": "Read", "Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"],
    "Resource": ["arn:aws:s3:::team-*", "arn:aws:s3:::team-*/*"], "Condition": {"StringEquals": {"aws:RequestedRegion": "eu-west-1"}}}]
}`

func listAllPolicies(t *testing.T, c *sdkiam.Client, in sdkiam.ListPoliciesInput) []iamtypes.Policy {
	t.Helper()
	var all []iamtypes.Policy
	p := sdkiam.NewListPoliciesPaginator(c, &in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("ListPolicies: %v", err)
		}
		all = append(all, page.Policies...)
	}
	return all
}

func TestAWSManagedPoliciesAreListedAndReadable(t *testing.T) {
	w := newWorld(t)
	catalogue := policy.ManagedPolicies()
	listed := listAllPolicies(t, w.member, sdkiam.ListPoliciesInput{Scope: iamtypes.PolicyScopeTypeAws, MaxItems: aws.Int32(400)})
	if len(listed) != len(catalogue) {
		t.Fatalf("Scope=AWS listed %d policies; the catalogue has %d", len(listed), len(catalogue))
	}
	seen := map[string]bool{}
	for i, p := range listed {
		if seen[*p.Arn] {
			t.Fatalf("%s listed twice", *p.Arn)
		}
		seen[*p.Arn] = true
		if i > 0 && strings.ToLower(*listed[i-1].PolicyName) > strings.ToLower(*p.PolicyName) {
			t.Fatalf("listing out of order at %s", *p.PolicyName)
		}
	}
	jobFunction := listAllPolicies(t, w.member, sdkiam.ListPoliciesInput{Scope: iamtypes.PolicyScopeTypeAws, PathPrefix: aws.String("/job-function/")})
	if len(jobFunction) == 0 {
		t.Fatal("no job-function policies")
	}
	for _, p := range jobFunction {
		if *p.Path != "/job-function/" || !strings.HasPrefix(*p.Arn, "arn:aws:iam::aws:policy/job-function/") {
			t.Fatalf("PathPrefix /job-function/ listed %s at %s", *p.Arn, *p.Path)
		}
	}

	got, err := w.member.GetPolicy(ctx, &sdkiam.GetPolicyInput{PolicyArn: aws.String(iam.AdministratorAccessARN)})
	if err != nil {
		t.Fatal(err)
	}
	admin, _ := policy.Managed(iam.AdministratorAccessARN)
	p := got.Policy
	if *p.PolicyName != "AdministratorAccess" || *p.Path != "/" || *p.DefaultVersionId != admin.DefaultVersionID || !p.IsAttachable ||
		!p.CreateDate.Equal(admin.CreateDate) || !p.UpdateDate.Equal(admin.UpdateDate) || len(*p.PolicyId) != 21 || !strings.HasPrefix(*p.PolicyId, "ANPA") {
		t.Fatalf("GetPolicy(AdministratorAccess) = %+v", p)
	}
	// OrganizationAccountAccessRole has it attached in the member account, not in the management account.
	if *p.AttachmentCount != 1 {
		t.Fatalf("AttachmentCount in the member account = %d, want 1", *p.AttachmentCount)
	}
	again, _ := w.mgmt.GetPolicy(ctx, &sdkiam.GetPolicyInput{PolicyArn: aws.String(iam.AdministratorAccessARN)})
	if *again.Policy.AttachmentCount != 0 || *again.Policy.PolicyId != *p.PolicyId {
		t.Fatalf("from the management account: %d attachments, id %s (member saw %s)", *again.Policy.AttachmentCount, *again.Policy.PolicyId, *p.PolicyId)
	}

	v, err := w.member.GetPolicyVersion(ctx, &sdkiam.GetPolicyVersionInput{PolicyArn: aws.String(iam.AdministratorAccessARN), VersionId: aws.String(admin.DefaultVersionID)})
	if err != nil {
		t.Fatal(err)
	}
	if decoded(t, v.PolicyVersion.Document) != admin.Document || !v.PolicyVersion.IsDefaultVersion || *v.PolicyVersion.VersionId != admin.DefaultVersionID {
		t.Fatalf("GetPolicyVersion = %+v", v.PolicyVersion)
	}
	_, err = w.member.GetPolicyVersion(ctx, &sdkiam.GetPolicyVersionInput{PolicyArn: aws.String(iam.AdministratorAccessARN), VersionId: aws.String("v99")})
	wantError(t, "GetPolicyVersion of a version that does not exist", err, "NoSuchEntity", 404,
		"Policy arn:aws:iam::aws:policy/AdministratorAccess version v99 does not exist or is not attachable.")
	_, err = w.member.GetPolicy(ctx, &sdkiam.GetPolicyInput{PolicyArn: aws.String("arn:aws:iam::aws:policy/NoSuchPolicy")})
	wantError(t, "GetPolicy of an unknown AWS policy", err, "NoSuchEntity", 404, "Policy arn:aws:iam::aws:policy/NoSuchPolicy was not found.")
}

func TestCustomerManagedPolicyLifecycle(t *testing.T) {
	w := newWorld(t)
	created, err := w.member.CreatePolicy(ctx, &sdkiam.CreatePolicyInput{PolicyName: aws.String("ReadTeamBuckets"), Path: aws.String("/team/"),
		PolicyDocument: aws.String(readBuckets), Description: aws.String("read the team's buckets"),
		Tags: []iamtypes.Tag{{Key: aws.String("owner"), Value: aws.String("platform")}}})
	if err != nil {
		t.Fatal(err)
	}
	p := created.Policy
	wantARN := "arn:aws:iam::" + memberAcct + ":policy/team/ReadTeamBuckets"
	if *p.Arn != wantARN || *p.Path != "/team/" || *p.DefaultVersionId != "v1" || *p.AttachmentCount != 0 || len(*p.PolicyId) != 21 ||
		!strings.HasPrefix(*p.PolicyId, "ANPA") || time.Since(*p.CreateDate) > time.Minute || len(p.Tags) != 1 {
		t.Fatalf("CreatePolicy = %+v", p)
	}
	got, err := w.member.GetPolicy(ctx, &sdkiam.GetPolicyInput{PolicyArn: p.Arn})
	if err != nil {
		t.Fatal(err)
	}
	if *got.Policy.PolicyId != *p.PolicyId || aws.ToString(got.Policy.Description) != "read the team's buckets" ||
		len(got.Policy.Tags) != 1 || *got.Policy.Tags[0].Value != "platform" {
		t.Fatalf("GetPolicy = %+v", got.Policy)
	}
	v, err := w.member.GetPolicyVersion(ctx, &sdkiam.GetPolicyVersionInput{PolicyArn: p.Arn, VersionId: aws.String("v1")})
	if err != nil {
		t.Fatal(err)
	}
	if doc := decoded(t, v.PolicyVersion.Document); doc != readBuckets {
		t.Fatalf("document decoded = %q, want the input as written", doc)
	}
	local := listAllPolicies(t, w.member, sdkiam.ListPoliciesInput{Scope: iamtypes.PolicyScopeTypeLocal})
	if len(local) != 1 || *local[0].Arn != wantARN || local[0].Description != nil || local[0].Tags != nil {
		t.Fatalf("Scope=Local = %+v (ListPolicies leaves description and tags out)", local)
	}
	all := listAllPolicies(t, w.member, sdkiam.ListPoliciesInput{MaxItems: aws.Int32(1000)})
	if len(all) != len(policy.ManagedPolicies())+1 || *all[len(all)-1].Arn != wantARN {
		t.Fatalf("Scope=All listed %d, the account's own last: %s", len(all), *all[len(all)-1].Arn)
	}
	if other := listAllPolicies(t, w.mgmt, sdkiam.ListPoliciesInput{Scope: iamtypes.PolicyScopeTypeLocal}); len(other) != 0 {
		t.Fatalf("another account lists %+v", other)
	}
	_, err = w.mgmt.GetPolicy(ctx, &sdkiam.GetPolicyInput{PolicyArn: p.Arn})
	wantError(t, "GetPolicy of another account's policy", err, "AccessDenied", 403, "")

	if _, err := w.member.DeletePolicy(ctx, &sdkiam.DeletePolicyInput{PolicyArn: p.Arn}); err != nil {
		t.Fatal(err)
	}
	_, err = w.member.GetPolicy(ctx, &sdkiam.GetPolicyInput{PolicyArn: p.Arn})
	wantError(t, "GetPolicy after delete", err, "NoSuchEntity", 404, "Policy "+wantARN+" was not found.")
	_, err = w.member.DeletePolicy(ctx, &sdkiam.DeletePolicyInput{PolicyArn: p.Arn})
	wantError(t, "second DeletePolicy", err, "NoSuchEntity", 404, "")
	// Name and tags went with it: the name is free, the new policy has no tags.
	again, err := w.member.CreatePolicy(ctx, &sdkiam.CreatePolicyInput{PolicyName: aws.String("ReadTeamBuckets"), PolicyDocument: aws.String(readBuckets)})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := w.member.GetPolicy(ctx, &sdkiam.GetPolicyInput{PolicyArn: again.Policy.Arn}); len(got.Policy.Tags) != 0 || *got.Policy.Path != "/" {
		t.Fatalf("recreated policy = %+v", got.Policy)
	}
}

func TestCreatePolicyRefusesWhatIAMRefuses(t *testing.T) {
	w := newWorld(t)
	create := func(name, doc string, tags ...iamtypes.Tag) error {
		_, err := w.member.CreatePolicy(ctx, &sdkiam.CreatePolicyInput{PolicyName: aws.String(name), PolicyDocument: aws.String(doc), Tags: tags})
		return err
	}
	if err := create("Taken", readBuckets); err != nil {
		t.Fatal(err)
	}
	tag := iamtypes.Tag{Key: aws.String("Team"), Value: aws.String("a")}
	for _, tc := range []struct {
		what, name, doc string
		tags            []iamtypes.Tag
		code            string
		status          int
		message         string
	}{
		{"a taken name in another case", "TAKEN", readBuckets, nil, "EntityAlreadyExists", 409,
			"A policy called TAKEN already exists. Duplicate names are not allowed."},
		{"JSON that is not a policy", "Broken", `{"Version": "2012-10-17", "Statement": [`, nil, "MalformedPolicyDocument", 400, "Syntax errors in policy."},
		{"a principal in an identity policy", "Trust",
			`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"s3:*","Resource":"*"}]}`, nil,
			"MalformedPolicyDocument", 400, "Policy document should not specify a principal."},
		{"a managed policy of version 2008-10-17", "Old",
			`{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`, nil,
			"MalformedPolicyDocument", 400, "Policy document must be version 2012-10-17 or greater."},
		{"a document over 6144 characters", "Huge", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":["` +
			strings.Repeat("a", 6200) + `"]}]}`, nil, "LimitExceeded", 409, "Cannot exceed quota for PolicySize: 6144"},
		{"tag keys equal ignoring case", "Tagged", readBuckets, []iamtypes.Tag{tag, {Key: aws.String("team"), Value: aws.String("b")}},
			"InvalidInput", 400, "Duplicate tag keys found. Please note that Tag keys are case insensitive."},
		{"a name outside the model's pattern", "has space", readBuckets, nil, "ValidationError", 400, ""},
	} {
		wantError(t, tc.what, create(tc.name, tc.doc, tc.tags...), tc.code, tc.status, tc.message)
	}
	// Whitespace does not count toward the size quota.
	spaced := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}` + strings.Repeat(" \n\t", 3000)
	if err := create("Spacious", spaced); err != nil {
		t.Fatalf("a small policy with much whitespace: %v", err)
	}
}

func TestMalformedPolicyARNIsInvalidInput(t *testing.T) {
	w := newWorld(t)
	for _, arn := range []string{"arn:aws:s3:::a-bucket-of-mine", "arn:aws:iam::" + memberAcct + ":role/Something", "arn:aws:iam::" + memberAcct + ":policy/path/"} {
		_, err := w.member.GetPolicy(ctx, &sdkiam.GetPolicyInput{PolicyArn: aws.String(arn)})
		wantError(t, "GetPolicy("+arn+")", err, "InvalidInput", 400, "ARN "+arn+" is not valid.")
		_, err = w.member.DeletePolicy(ctx, &sdkiam.DeletePolicyInput{PolicyArn: aws.String(arn)})
		wantError(t, "DeletePolicy("+arn+")", err, "InvalidInput", 400, "ARN "+arn+" is not valid.")
	}
	_, err := w.member.DeletePolicy(ctx, &sdkiam.DeletePolicyInput{PolicyArn: aws.String(iam.AdministratorAccessARN)})
	wantError(t, "DeletePolicy of an AWS managed policy", err, "AccessDenied", 403, "")
}

// A policy a role uses cannot be deleted, whether attached or as its
// permissions boundary; once the role is gone it can.
func TestDeletePolicyInUseIsDeleteConflict(t *testing.T) {
	w := newWorld(t)
	var arns []string
	for _, name := range []string{"Attached", "Boundary"} {
		out, err := w.member.CreatePolicy(ctx, &sdkiam.CreatePolicyInput{PolicyName: aws.String(name), PolicyDocument: aws.String(readBuckets)})
		if err != nil {
			t.Fatal(err)
		}
		arns = append(arns, *out.Policy.Arn)
	}
	spec := ssoRole("Dev")
	spec.CustomerPolicies = []store.CustomerPolicyRef{{Name: "attached", Path: "/"}}
	spec.Boundary = &store.PermissionsBoundary{CustomerPolicy: &store.CustomerPolicyRef{Name: "Boundary"}}
	write(t, w.db, func(tx store.Tx) error { return iam.Roles{}.PutRole(ctx, tx, spec) })

	for _, arn := range arns {
		_, err := w.member.DeletePolicy(ctx, &sdkiam.DeletePolicyInput{PolicyArn: aws.String(arn)})
		wantError(t, "DeletePolicy of "+arn, err, "DeleteConflict", 409, "Cannot delete a policy attached to entities.")
	}
	attached, _ := w.member.GetPolicy(ctx, &sdkiam.GetPolicyInput{PolicyArn: aws.String(arns[0])})
	boundary, _ := w.member.GetPolicy(ctx, &sdkiam.GetPolicyInput{PolicyArn: aws.String(arns[1])})
	if *attached.Policy.AttachmentCount != 1 || *attached.Policy.PermissionsBoundaryUsageCount != 0 ||
		*boundary.Policy.AttachmentCount != 0 || *boundary.Policy.PermissionsBoundaryUsageCount != 1 {
		t.Fatalf("usage counts: attached %+v, boundary %+v", attached.Policy, boundary.Policy)
	}
	onlyAttached := listAllPolicies(t, w.member, sdkiam.ListPoliciesInput{OnlyAttached: true})
	var names []string
	for _, p := range onlyAttached {
		names = append(names, *p.PolicyName)
	}
	if strings.Join(names, ",") != "AdministratorAccess,Attached,Boundary" {
		t.Fatalf("OnlyAttached = %v", names)
	}
	bounds := listAllPolicies(t, w.member, sdkiam.ListPoliciesInput{OnlyAttached: true, PolicyUsageFilter: iamtypes.PolicyUsageTypePermissionsBoundary})
	if len(bounds) != 1 || *bounds[0].PolicyName != "Boundary" {
		t.Fatalf("OnlyAttached as boundary = %+v", bounds)
	}

	write(t, w.db, func(tx store.Tx) error { return iam.Roles{}.DeleteRole(ctx, tx, memberAcct, spec.Name) })
	for _, arn := range arns {
		if _, err := w.member.DeletePolicy(ctx, &sdkiam.DeletePolicyInput{PolicyArn: aws.String(arn)}); err != nil {
			t.Fatalf("DeletePolicy once unused: %v", err)
		}
	}
}

func TestListPoliciesPagesWithoutRepeatsAcrossScopes(t *testing.T) {
	w := newWorld(t)
	for _, name := range []string{"b-local", "A-local", "c-local"} {
		if _, err := w.member.CreatePolicy(ctx, &sdkiam.CreatePolicyInput{PolicyName: aws.String(name), PolicyDocument: aws.String(readBuckets)}); err != nil {
			t.Fatal(err)
		}
	}
	for _, size := range []int32{1, 7} {
		local := listAllPolicies(t, w.member, sdkiam.ListPoliciesInput{Scope: iamtypes.PolicyScopeTypeLocal, MaxItems: aws.Int32(size)})
		var names []string
		for _, p := range local {
			names = append(names, *p.PolicyName)
		}
		if strings.Join(names, ",") != "A-local,b-local,c-local" {
			t.Fatalf("Local in pages of %d = %v", size, names)
		}
	}
	// A page boundary between AWS's policies and the account's own.
	var marker *string
	for left := len(policy.ManagedPolicies()) - 1; left > 0; {
		page, err := w.member.ListPolicies(ctx, &sdkiam.ListPoliciesInput{Marker: marker, MaxItems: aws.Int32(int32(min(left, 1000)))})
		if err != nil {
			t.Fatal(err)
		}
		if !page.IsTruncated {
			t.Fatal("the listing ended before the account's own policies")
		}
		left -= len(page.Policies)
		marker = page.Marker
	}
	straddling, err := w.member.ListPolicies(ctx, &sdkiam.ListPoliciesInput{Marker: marker, MaxItems: aws.Int32(3)})
	if err != nil {
		t.Fatal(err)
	}
	if len(straddling.Policies) != 3 || !strings.HasPrefix(*straddling.Policies[0].Arn, "arn:aws:iam::aws:") ||
		*straddling.Policies[1].PolicyName != "A-local" || *straddling.Policies[2].PolicyName != "b-local" || !straddling.IsTruncated {
		t.Fatalf("page across the AWS and local policies = %+v, truncated %v", straddling.Policies, straddling.IsTruncated)
	}
	last, err := w.member.ListPolicies(ctx, &sdkiam.ListPoliciesInput{Marker: straddling.Marker})
	if err != nil || len(last.Policies) != 1 || *last.Policies[0].PolicyName != "c-local" || last.IsTruncated {
		t.Fatalf("last page = %+v, %v", last, err)
	}
	first := straddling
	// A marker belongs to its listing.
	_, err = w.member.ListPolicies(ctx, &sdkiam.ListPoliciesInput{Scope: iamtypes.PolicyScopeTypeLocal, Marker: first.Marker})
	wantError(t, "a marker of another listing", err, "ValidationError", 400, "Invalid Marker.")
	_, err = w.member.ListRoles(ctx, &sdkiam.ListRolesInput{Marker: first.Marker})
	wantError(t, "a ListPolicies marker given to ListRoles", err, "ValidationError", 400, "Invalid Marker.")
}

// ssoRole is a permission set's role in the member account, as access asks for it.
func ssoRole(ps string) access.RoleSpec {
	return access.RoleSpec{AccountID: memberAcct, Name: "AWSReservedSSO_" + ps + "_0123456789abcdef", Path: "/aws-reserved/sso.amazonaws.com/",
		TrustPolicy:    `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::` + memberAcct + `:saml-provider/AWSSSO_0123456789abcdef_DO_NOT_DELETE"},"Action":["sts:AssumeRoleWithSAML","sts:TagSession"],"Condition":{"StringEquals":{"SAML:aud":"https://signin.aws.amazon.com/saml"}}}]}`,
		MaxSessionSecs: 43200}
}
