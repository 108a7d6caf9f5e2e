package e2e

import (
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/identitystore"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// accessFixture is a node with its instance discovered.
type accessFixture struct {
	t        *testing.T
	n        *node
	sso      *ssoadmin.Client
	ids      *identitystore.Client
	instance string
	storeID  string
}

func newAccessFixture(t *testing.T, n *node) *accessFixture {
	c := ssoadmin.NewFromConfig(n.admin())
	list, err := c.ListInstances(ctxT(t), &ssoadmin.ListInstancesInput{})
	if err != nil || len(list.Instances) != 1 {
		t.Fatalf("ListInstances = %+v, %v", list, err)
	}
	return &accessFixture{t: t, n: n, sso: c, ids: identitystore.NewFromConfig(n.admin()),
		instance: *list.Instances[0].InstanceArn, storeID: *list.Instances[0].IdentityStoreId}
}

func (f *accessFixture) account(name string) string {
	return *createAccount(f.t, f.n.organizations(), name, strings.ToLower(name)+"@example.com").AccountId
}

func (f *accessFixture) user(name string) string {
	return mustCreateUser(f.t, f.ids, minimalUserInput(f.storeID, name))
}

func (f *accessFixture) group(name string, members ...string) string {
	g, err := f.ids.CreateGroup(ctxT(f.t), &identitystore.CreateGroupInput{IdentityStoreId: &f.storeID, DisplayName: &name})
	if err != nil {
		f.t.Fatalf("CreateGroup %s: %v", name, err)
	}
	for _, m := range members {
		if _, err := f.ids.CreateGroupMembership(ctxT(f.t), &identitystore.CreateGroupMembershipInput{
			IdentityStoreId: &f.storeID, GroupId: g.GroupId, MemberId: userMember(m)}); err != nil {
			f.t.Fatalf("CreateGroupMembership: %v", err)
		}
	}
	return *g.GroupId
}

func (f *accessFixture) permissionSet(name, duration string, managed ...string) string {
	in := &ssoadmin.CreatePermissionSetInput{InstanceArn: &f.instance, Name: &name}
	if duration != "" {
		in.SessionDuration = &duration
	}
	out, err := f.sso.CreatePermissionSet(ctxT(f.t), in)
	if err != nil {
		f.t.Fatalf("CreatePermissionSet %s: %v", name, err)
	}
	for _, arn := range managed {
		f.attach(*out.PermissionSet.PermissionSetArn, arn)
	}
	return *out.PermissionSet.PermissionSetArn
}

func (f *accessFixture) attach(ps, managedARN string) {
	if _, err := f.sso.AttachManagedPolicyToPermissionSet(ctxT(f.t), &ssoadmin.AttachManagedPolicyToPermissionSetInput{
		InstanceArn: &f.instance, PermissionSetArn: &ps, ManagedPolicyArn: &managedARN}); err != nil {
		f.t.Fatalf("AttachManagedPolicyToPermissionSet %s: %v", managedARN, err)
	}
}

// assign asks for an assignment and waits for its outcome.
func (f *accessFixture) assign(account, ps string, pt types.PrincipalType, principal string) *types.AccountAssignmentOperationStatus {
	out, err := f.sso.CreateAccountAssignment(ctxT(f.t), &ssoadmin.CreateAccountAssignmentInput{InstanceArn: &f.instance,
		TargetId: &account, TargetType: types.TargetTypeAwsAccount, PermissionSetArn: &ps, PrincipalType: pt, PrincipalId: &principal})
	if err != nil {
		f.t.Fatalf("CreateAccountAssignment: %v", err)
	}
	if s := out.AccountAssignmentCreationStatus; s.Status != types.StatusValuesInProgress || s.RequestId == nil || s.CreatedDate == nil {
		f.t.Fatalf("CreateAccountAssignment status = %+v", s)
	}
	return f.waitCreation(*out.AccountAssignmentCreationStatus.RequestId)
}

func (f *accessFixture) waitCreation(id string) *types.AccountAssignmentOperationStatus {
	return poll(f.t, func() (*types.AccountAssignmentOperationStatus, types.StatusValues) {
		d, err := f.sso.DescribeAccountAssignmentCreationStatus(ctxT(f.t), &ssoadmin.DescribeAccountAssignmentCreationStatusInput{
			InstanceArn: &f.instance, AccountAssignmentCreationRequestId: &id})
		if err != nil {
			f.t.Fatalf("DescribeAccountAssignmentCreationStatus: %v", err)
		}
		return d.AccountAssignmentCreationStatus, d.AccountAssignmentCreationStatus.Status
	})
}

func (f *accessFixture) unassign(account, ps string, pt types.PrincipalType, principal string) *types.AccountAssignmentOperationStatus {
	out, err := f.sso.DeleteAccountAssignment(ctxT(f.t), &ssoadmin.DeleteAccountAssignmentInput{InstanceArn: &f.instance,
		TargetId: &account, TargetType: types.TargetTypeAwsAccount, PermissionSetArn: &ps, PrincipalType: pt, PrincipalId: &principal})
	if err != nil {
		f.t.Fatalf("DeleteAccountAssignment: %v", err)
	}
	id := *out.AccountAssignmentDeletionStatus.RequestId
	return poll(f.t, func() (*types.AccountAssignmentOperationStatus, types.StatusValues) {
		d, err := f.sso.DescribeAccountAssignmentDeletionStatus(ctxT(f.t), &ssoadmin.DescribeAccountAssignmentDeletionStatusInput{
			InstanceArn: &f.instance, AccountAssignmentDeletionRequestId: &id})
		if err != nil {
			f.t.Fatalf("DescribeAccountAssignmentDeletionStatus: %v", err)
		}
		return d.AccountAssignmentDeletionStatus, d.AccountAssignmentDeletionStatus.Status
	})
}

func (f *accessFixture) provision(ps string, target string) *types.PermissionSetProvisioningStatus {
	in := &ssoadmin.ProvisionPermissionSetInput{InstanceArn: &f.instance, PermissionSetArn: &ps, TargetType: types.ProvisionTargetTypeAllProvisionedAccounts}
	if target != "" {
		in.TargetType, in.TargetId = types.ProvisionTargetTypeAwsAccount, &target
	}
	out, err := f.sso.ProvisionPermissionSet(ctxT(f.t), in)
	if err != nil {
		f.t.Fatalf("ProvisionPermissionSet: %v", err)
	}
	id := *out.PermissionSetProvisioningStatus.RequestId
	return poll(f.t, func() (*types.PermissionSetProvisioningStatus, types.StatusValues) {
		d, err := f.sso.DescribePermissionSetProvisioningStatus(ctxT(f.t), &ssoadmin.DescribePermissionSetProvisioningStatusInput{
			InstanceArn: &f.instance, ProvisionPermissionSetRequestId: &id})
		if err != nil {
			f.t.Fatalf("DescribePermissionSetProvisioningStatus: %v", err)
		}
		return d.PermissionSetProvisioningStatus, d.PermissionSetProvisioningStatus.Status
	})
}

// provisionedAccounts lists where ps is provisioned, in the given state.
func (f *accessFixture) provisionedAccounts(ps string, status types.ProvisioningStatus) []string {
	var all []string
	p := ssoadmin.NewListAccountsForProvisionedPermissionSetPaginator(f.sso, &ssoadmin.ListAccountsForProvisionedPermissionSetInput{
		InstanceArn: &f.instance, PermissionSetArn: &ps, ProvisioningStatus: status, MaxResults: aws.Int32(2)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctxT(f.t))
		if err != nil {
			f.t.Fatalf("ListAccountsForProvisionedPermissionSet: %v", err)
		}
		all = append(all, page.AccountIds...)
	}
	return all
}

// poll waits until a status leaves IN_PROGRESS.
func poll[T any](t *testing.T, get func() (T, types.StatusValues)) T {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		v, s := get()
		if s != types.StatusValuesInProgress {
			return v
		}
		if time.Now().After(deadline) {
			t.Fatalf("still IN_PROGRESS after 30s: %+v", v)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// memberIAM is an IAM client acting in account through its OrganizationAccountAccessRole.
func (f *accessFixture) memberIAM(account string) *iam.Client {
	out, err := f.n.sts().AssumeRole(ctxT(f.t), &sts.AssumeRoleInput{
		RoleArn: aws.String("arn:aws:iam::" + account + ":role/OrganizationAccountAccessRole"), RoleSessionName: aws.String("e2e")})
	if err != nil {
		f.t.Fatalf("AssumeRole into %s: %v", account, err)
	}
	cfg := f.n.admin()
	c := out.Credentials
	cfg.Credentials = credentials.NewStaticCredentialsProvider(*c.AccessKeyId, *c.SecretAccessKey, *c.SessionToken)
	return iam.NewFromConfig(cfg)
}

// ssoRoles lists the Identity Center roles in an account.
func ssoRoles(t *testing.T, c *iam.Client) map[string]bool {
	out, err := c.ListRoles(ctxT(t), &iam.ListRolesInput{PathPrefix: aws.String("/aws-reserved/sso.amazonaws.com/")})
	if err != nil {
		t.Fatalf("ListRoles: %v", err)
	}
	roles := map[string]bool{}
	for _, r := range out.Roles {
		roles[*r.RoleName] = true
	}
	return roles
}

// attachedPolicies lists the managed policy ARNs of a role.
func attachedPolicies(t *testing.T, c *iam.Client, role string) []string {
	out, err := c.ListAttachedRolePolicies(ctxT(t), &iam.ListAttachedRolePoliciesInput{RoleName: &role})
	if err != nil {
		t.Fatalf("ListAttachedRolePolicies %s: %v", role, err)
	}
	var arns []string
	for _, p := range out.AttachedPolicies {
		arns = append(arns, *p.PolicyArn)
	}
	slices.Sort(arns)
	return arns
}

// The seed's story: group Developers gets DeveloperAccess (4 h) in Staging;
// the role appears in Staging with the set's policies; the set changes, the
// account reports it outdated until it is provisioned again, and the role
// follows.
func TestSeedStoryPermissionSetToRole(t *testing.T) {
	backends(t, func(t *testing.T, o nodeOptions) {
		f := newAccessFixture(t, startNode(t, o))
		staging := f.account("Staging")
		alice := f.user("alice")
		developers := f.group("Developers", alice)
		ps := f.permissionSet("DeveloperAccess", "PT4H", "arn:aws:iam::aws:policy/PowerUserAccess")
		inline := `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"iam:*","Resource":"*"}]}`
		if _, err := f.sso.PutInlinePolicyToPermissionSet(ctxT(t), &ssoadmin.PutInlinePolicyToPermissionSetInput{
			InstanceArn: &f.instance, PermissionSetArn: &ps, InlinePolicy: &inline}); err != nil {
			t.Fatal(err)
		}

		st := f.assign(staging, ps, types.PrincipalTypeGroup, developers)
		if st.Status != types.StatusValuesSucceeded || *st.TargetId != staging || *st.PrincipalId != developers || *st.PermissionSetArn != ps {
			t.Fatalf("assignment = %+v (%s)", st, aws.ToString(st.FailureReason))
		}

		stagingIAM := f.memberIAM(staging)
		roles := ssoRoles(t, stagingIAM)
		if len(roles) != 1 {
			t.Fatalf("roles in Staging = %v", roles)
		}
		var role string
		for r := range roles {
			role = r
		}
		if !strings.HasPrefix(role, "AWSReservedSSO_DeveloperAccess_") || len(role) != len("AWSReservedSSO_DeveloperAccess_")+16 {
			t.Fatalf("role name %q", role)
		}
		got, err := stagingIAM.GetRole(ctxT(t), &iam.GetRoleInput{RoleName: &role})
		if err != nil || *got.Role.Path != "/aws-reserved/sso.amazonaws.com/" || *got.Role.Arn != "arn:aws:iam::"+staging+":role/aws-reserved/sso.amazonaws.com/"+role {
			t.Fatalf("GetRole = %+v, %v", got, err)
		}
		trust, _ := url.QueryUnescape(*got.Role.AssumeRolePolicyDocument)
		if !strings.Contains(trust, "saml-provider/AWSSSO_") || !strings.Contains(trust, "sts:AssumeRoleWithSAML") {
			t.Fatalf("trust policy = %s", trust)
		}
		if p := attachedPolicies(t, stagingIAM, role); !slices.Equal(p, []string{"arn:aws:iam::aws:policy/PowerUserAccess"}) {
			t.Fatalf("attached = %v", p)
		}
		rp, err := stagingIAM.GetRolePolicy(ctxT(t), &iam.GetRolePolicyInput{RoleName: &role, PolicyName: aws.String("AwsSSOInlinePolicy")})
		if err != nil {
			t.Fatalf("GetRolePolicy: %v", err)
		}
		if doc, _ := url.QueryUnescape(*rp.PolicyDocument); doc != inline {
			t.Fatalf("inline policy = %s", doc)
		}
		if got := f.provisionedAccounts(ps, types.ProvisioningStatusLatestPermissionSetProvisioned); !slices.Equal(got, []string{staging}) {
			t.Fatalf("provisioned = %v", got)
		}

		// The permission set changes: Staging is outdated until provisioned again.
		f.attach(ps, "arn:aws:iam::aws:policy/ReadOnlyAccess")
		if got := f.provisionedAccounts(ps, types.ProvisioningStatusLatestPermissionSetNotProvisioned); !slices.Equal(got, []string{staging}) {
			t.Fatalf("not provisioned = %v", got)
		}
		if got := f.provisionedAccounts(ps, types.ProvisioningStatusLatestPermissionSetProvisioned); len(got) != 0 {
			t.Fatalf("provisioned while outdated = %v", got)
		}
		if p := attachedPolicies(t, stagingIAM, role); len(p) != 1 {
			t.Fatalf("the role changed before provisioning: %v", p)
		}
		if st := f.provision(ps, ""); st.Status != types.StatusValuesSucceeded || st.AccountId != nil {
			t.Fatalf("provision = %+v (%s)", st, aws.ToString(st.FailureReason))
		}
		if got := f.provisionedAccounts(ps, types.ProvisioningStatusLatestPermissionSetProvisioned); !slices.Equal(got, []string{staging}) {
			t.Fatalf("provisioned after provisioning = %v", got)
		}
		if p := attachedPolicies(t, stagingIAM, role); !slices.Equal(p, []string{"arn:aws:iam::aws:policy/PowerUserAccess", "arn:aws:iam::aws:policy/ReadOnlyAccess"}) {
			t.Fatalf("attached after provisioning = %v", p)
		}
		if roles := ssoRoles(t, stagingIAM); len(roles) != 1 || !roles[role] {
			t.Fatalf("provisioning again made another role: %v", roles)
		}
	})
}

func TestAccountAssignments(t *testing.T) {
	backends(t, func(t *testing.T, o nodeOptions) {
		f := newAccessFixture(t, startNode(t, o))
		dev, prod := f.account("Dev"), f.account("Prod")
		bob := f.user("bob")
		carol := f.user("carol")
		ops := f.group("Ops", bob)
		ps := f.permissionSet("ReadOnly", "", "arn:aws:iam::aws:policy/ReadOnlyAccess")
		admin := f.permissionSet("Admin", "PT12H", "arn:aws:iam::aws:policy/AdministratorAccess")

		for _, a := range []struct {
			account, ps string
			pt          types.PrincipalType
			id          string
		}{{dev, ps, types.PrincipalTypeUser, bob}, {prod, ps, types.PrincipalTypeGroup, ops}, {prod, admin, types.PrincipalTypeUser, carol}} {
			if st := f.assign(a.account, a.ps, a.pt, a.id); st.Status != types.StatusValuesSucceeded {
				t.Fatalf("assign %+v: %s", a, aws.ToString(st.FailureReason))
			}
		}
		// A repeated assignment succeeds and changes nothing, as on AWS.
		if st := f.assign(dev, ps, types.PrincipalTypeUser, bob); st.Status != types.StatusValuesSucceeded {
			t.Fatalf("repeated assignment: %s", aws.ToString(st.FailureReason))
		}
		list, err := f.sso.ListAccountAssignments(ctxT(t), &ssoadmin.ListAccountAssignmentsInput{InstanceArn: &f.instance, AccountId: &dev, PermissionSetArn: &ps})
		if err != nil || len(list.AccountAssignments) != 1 || *list.AccountAssignments[0].PrincipalId != bob {
			t.Fatalf("ListAccountAssignments = %+v, %v", list, err)
		}

		// A user's access includes its groups'.
		forBob := func(filter *types.ListAccountAssignmentsFilter) []string {
			var got []string
			p := ssoadmin.NewListAccountAssignmentsForPrincipalPaginator(f.sso, &ssoadmin.ListAccountAssignmentsForPrincipalInput{
				InstanceArn: &f.instance, PrincipalId: &bob, PrincipalType: types.PrincipalTypeUser, Filter: filter, MaxResults: aws.Int32(1)})
			for p.HasMorePages() {
				page, err := p.NextPage(ctxT(t))
				if err != nil {
					t.Fatalf("ListAccountAssignmentsForPrincipal: %v", err)
				}
				for _, a := range page.AccountAssignments {
					got = append(got, *a.AccountId+"/"+string(a.PrincipalType))
				}
			}
			slices.Sort(got)
			return got
		}
		want := []string{dev + "/USER", prod + "/GROUP"}
		slices.Sort(want)
		if got := forBob(nil); !slices.Equal(got, want) {
			t.Fatalf("for bob = %v, want %v", got, want)
		}
		if got := forBob(&types.ListAccountAssignmentsFilter{AccountId: &prod}); !slices.Equal(got, []string{prod + "/GROUP"}) {
			t.Fatalf("for bob in prod = %v", got)
		}
		toAccount, err := f.sso.ListPermissionSetsProvisionedToAccount(ctxT(t), &ssoadmin.ListPermissionSetsProvisionedToAccountInput{InstanceArn: &f.instance, AccountId: &prod})
		if err != nil || len(toAccount.PermissionSets) != 2 {
			t.Fatalf("ListPermissionSetsProvisionedToAccount = %+v, %v", toAccount, err)
		}

		// What cannot be assigned fails asynchronously with a reason.
		if st := f.assign(dev, ps, types.PrincipalTypeUser, "1234567890-00000000-0000-4000-8000-000000000000"); st.Status != types.StatusValuesFailed || aws.ToString(st.FailureReason) == "" {
			t.Fatalf("unknown user: %+v", st)
		}
		if st := f.assign("999999999999", ps, types.PrincipalTypeUser, bob); st.Status != types.StatusValuesFailed || aws.ToString(st.FailureReason) == "" {
			t.Fatalf("unknown account: %+v", st)
		}
		_, err = f.sso.CreateAccountAssignment(ctxT(t), &ssoadmin.CreateAccountAssignmentInput{InstanceArn: &f.instance, TargetId: &dev,
			TargetType: types.TargetTypeAwsAccount, PermissionSetArn: aws.String(strings.Replace(ps, "/ps-", "/ps-0", 1)[:len(ps)]),
			PrincipalType: types.PrincipalTypeUser, PrincipalId: &bob})
		wantErr[*types.ResourceNotFoundException](t, "unknown permission set", err)
		_, err = f.sso.DescribeAccountAssignmentCreationStatus(ctxT(t), &ssoadmin.DescribeAccountAssignmentCreationStatusInput{
			InstanceArn: &f.instance, AccountAssignmentCreationRequestId: aws.String("00000000-0000-4000-8000-000000000000")})
		wantErr[*types.ResourceNotFoundException](t, "unknown request", err)
		failed, err := f.sso.ListAccountAssignmentCreationStatus(ctxT(t), &ssoadmin.ListAccountAssignmentCreationStatusInput{
			InstanceArn: &f.instance, Filter: &types.OperationStatusFilter{Status: types.StatusValuesFailed}})
		if err != nil || len(failed.AccountAssignmentsCreationStatus) != 2 {
			t.Fatalf("failed creations = %+v, %v", failed, err)
		}

		// A permission set in use cannot be deleted.
		_, err = f.sso.DeletePermissionSet(ctxT(t), &ssoadmin.DeletePermissionSetInput{InstanceArn: &f.instance, PermissionSetArn: &ps})
		wantErr[*types.ConflictException](t, "delete an assigned permission set", err)

		// The role stays while an assignment needs it and goes with the last one.
		prodIAM := f.memberIAM(prod)
		if n := len(ssoRoles(t, prodIAM)); n != 2 {
			t.Fatalf("roles in prod = %d", n)
		}
		if st := f.unassign(prod, admin, types.PrincipalTypeUser, carol); st.Status != types.StatusValuesSucceeded {
			t.Fatalf("unassign: %s", aws.ToString(st.FailureReason))
		}
		if n := len(ssoRoles(t, prodIAM)); n != 1 {
			t.Fatalf("roles in prod after the last admin assignment went = %d", n)
		}
		if st := f.unassign(prod, admin, types.PrincipalTypeUser, carol); st.Status != types.StatusValuesFailed {
			t.Fatalf("deleting a missing assignment: %+v", st)
		}
		if _, err := f.sso.DeletePermissionSet(ctxT(t), &ssoadmin.DeletePermissionSetInput{InstanceArn: &f.instance, PermissionSetArn: &admin}); err != nil {
			t.Fatalf("deleting a permission set no longer used: %v", err)
		}

		// Deleting a user removes its assignments in the same transaction.
		if _, err := f.ids.DeleteUser(ctxT(t), &identitystore.DeleteUserInput{IdentityStoreId: &f.storeID, UserId: &bob}); err != nil {
			t.Fatal(err)
		}
		list, err = f.sso.ListAccountAssignments(ctxT(t), &ssoadmin.ListAccountAssignmentsInput{InstanceArn: &f.instance, AccountId: &dev, PermissionSetArn: &ps})
		if err != nil || len(list.AccountAssignments) != 0 {
			t.Fatalf("assignments of a deleted user = %+v, %v", list, err)
		}

		// Closing an account removes what was assigned and provisioned there.
		if _, err := f.n.organizations().CloseAccount(ctxT(t), &organizations.CloseAccountInput{AccountId: &prod}); err != nil {
			t.Fatal(err)
		}
		list, err = f.sso.ListAccountAssignments(ctxT(t), &ssoadmin.ListAccountAssignmentsInput{InstanceArn: &f.instance, AccountId: &prod, PermissionSetArn: &ps})
		if err != nil || len(list.AccountAssignments) != 0 {
			t.Fatalf("assignments in a closed account = %+v, %v", list, err)
		}
		toAccount, err = f.sso.ListPermissionSetsProvisionedToAccount(ctxT(t), &ssoadmin.ListPermissionSetsProvisionedToAccountInput{InstanceArn: &f.instance, AccountId: &prod})
		if err != nil || len(toAccount.PermissionSets) != 0 {
			t.Fatalf("provisioned to a closed account = %+v, %v", toAccount, err)
		}
	})
}

// A customer managed policy reference needs the policy in each account, as on AWS.
func TestProvisioningNeedsCustomerManagedPolicyInAccount(t *testing.T) {
	backends(t, func(t *testing.T, o nodeOptions) {
		f := newAccessFixture(t, startNode(t, o))
		acct := f.account("Sandbox")
		dana := f.user("dana")
		ps := f.permissionSet("Custom", "")
		if _, err := f.sso.AttachCustomerManagedPolicyReferenceToPermissionSet(ctxT(t), &ssoadmin.AttachCustomerManagedPolicyReferenceToPermissionSetInput{
			InstanceArn: &f.instance, PermissionSetArn: &ps, CustomerManagedPolicyReference: &types.CustomerManagedPolicyReference{Name: aws.String("TeamPolicy")}}); err != nil {
			t.Fatal(err)
		}
		st := f.assign(acct, ps, types.PrincipalTypeUser, dana)
		if st.Status != types.StatusValuesFailed || !strings.Contains(aws.ToString(st.FailureReason), "TeamPolicy") {
			t.Fatalf("assignment without the policy in the account = %+v (%s)", st, aws.ToString(st.FailureReason))
		}
		member := f.memberIAM(acct)
		if _, err := member.CreatePolicy(ctxT(t), &iam.CreatePolicyInput{PolicyName: aws.String("TeamPolicy"),
			PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListAllMyBuckets","Resource":"*"}]}`)}); err != nil {
			t.Fatal(err)
		}
		if st := f.assign(acct, ps, types.PrincipalTypeUser, dana); st.Status != types.StatusValuesSucceeded {
			t.Fatalf("assignment with the policy in the account: %s", aws.ToString(st.FailureReason))
		}
		var role string
		for r := range ssoRoles(t, member) {
			role = r
		}
		if p := attachedPolicies(t, member, role); !slices.Equal(p, []string{"arn:aws:iam::" + acct + ":policy/TeamPolicy"}) {
			t.Fatalf("attached = %v", p)
		}
		_, err := f.sso.ProvisionPermissionSet(ctxT(t), &ssoadmin.ProvisionPermissionSetInput{InstanceArn: &f.instance, PermissionSetArn: &ps, TargetType: types.ProvisionTargetTypeAwsAccount})
		wantErr[*types.ValidationException](t, "AWS_ACCOUNT without TargetId", err)
	})
}
