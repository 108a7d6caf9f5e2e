package e2e

import (
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/identitystore"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"

	"github.com/atrium-sso/atrium/internal/store"
)

// A role session is judged on the resources a call names, as IAM judges
// it: a Deny on one user, group or permission set holds although the same
// policy allows the action on "*", and an Allow scoped to some resources
// opens those and no others. Judging every call against "*" instead would
// let a session past a Deny written for one resource (and refuse every
// Allow that names resources).
func TestResourceScopedDenyHoldsAgainstRoleSession(t *testing.T) {
	backends(t, func(t *testing.T, o nodeOptions) {
		n := startNode(t, o)
		f := newAccessFixture(t, n)
		mgmt := managementAccount(t, n)
		protected, other := f.user("protected"), f.user("ordinary")
		admins := f.group("Admins", protected, other)
		allowed, hidden := f.permissionSet("Allowed", "PT1H"), f.permissionSet("Hidden", "PT1H")
		membership := func(user string) *string {
			out, err := f.ids.GetGroupMembershipId(ctxT(t), &identitystore.GetGroupMembershipIdInput{
				IdentityStoreId: &f.storeID, GroupId: &admins, MemberId: userMember(user)})
			if err != nil {
				t.Fatal(err)
			}
			return out.MembershipId
		}

		doc := `{"Version":"2012-10-17","Statement":[
			{"Effect":"Allow","Action":"identitystore:*","Resource":"*"},
			{"Effect":"Allow","Action":"atrium:*","Resource":"*"},
			{"Effect":"Deny","Action":["identitystore:DeleteUser","identitystore:UpdateUser","atrium:SetUserPassword"],"Resource":"arn:aws:identitystore:::user/` + protected + `"},
			{"Effect":"Deny","Action":"identitystore:DeleteGroupMembership","Resource":"arn:aws:identitystore:::user/` + protected + `"},
			{"Effect":"Allow","Action":"sso:DescribePermissionSet","Resource":["` + f.instance + `","` + allowed + `"]},
			{"Effect":"Allow","Action":"iam:GetRole","Resource":"arn:aws:iam::` + mgmt + `:role/desk/*"},
			{"Effect":"Allow","Action":"organizations:DescribeAccount","Resource":"arn:aws:organizations::` + mgmt + `:account/*/` + mgmt + `"}]}`
		db := nodeStore(t, n, o)
		desk := putRole(t, db, store.IAMRole{AccountID: mgmt, Path: "/desk/", Name: "HelpDesk", RoleID: "AROAHELPDESK000000001",
			AssumeRolePolicy: trustAccount(mgmt), InlinePolicies: []store.InlinePolicy{{Name: "desk", Document: doc}}})
		putRole(t, db, store.IAMRole{AccountID: mgmt, Name: "Elsewhere", RoleID: "AROAELSEWHERE00000001", AssumeRolePolicy: trustAccount(mgmt)})
		cfg := withCreds(n, assume(t, n.sts(), desk, "desk").Credentials)
		ids := identitystore.NewFromConfig(cfg, func(o *identitystore.Options) { o.RetryMaxAttempts = 1 })
		sso := ssoadmin.NewFromConfig(cfg, func(o *ssoadmin.Options) { o.RetryMaxAttempts = 1 })
		denied := func(what string, err error, resource string) {
			t.Helper()
			if got := failureOf(t, err); got.code != "AccessDeniedException" && got.code != "AccessDenied" {
				t.Fatalf("%s: %+v (%v), want access denied", what, got, err)
			}
			if !strings.Contains(err.Error(), "on resource: "+resource) {
				t.Fatalf("%s: %v; want the denied resource %s named", what, err, resource)
			}
		}

		// The directory: everything but the protected user.
		if _, err := ids.DescribeUser(ctxT(t), &identitystore.DescribeUserInput{IdentityStoreId: &f.storeID, UserId: &protected}); err != nil {
			t.Fatalf("DescribeUser, which the policy allows on every user: %v", err)
		}
		_, err := ids.DeleteUser(ctxT(t), &identitystore.DeleteUserInput{IdentityStoreId: &f.storeID, UserId: &protected})
		denied("DeleteUser of the protected user", err, "arn:aws:identitystore:::user/"+protected)
		// Its membership is denied through the user the store finds behind the id.
		_, err = ids.DeleteGroupMembership(ctxT(t), &identitystore.DeleteGroupMembershipInput{IdentityStoreId: &f.storeID, MembershipId: membership(protected)})
		denied("DeleteGroupMembership of the protected user", err, "arn:aws:identitystore:::user/"+protected)
		// Atrium's own API names the same user: no password set for them either.
		creds, err := cfg.Credentials.Retrieve(ctxT(t))
		if err != nil {
			t.Fatal(err)
		}
		setPassword := func(user string) (int, map[string]any) {
			status, out, _ := signedPostAs(t, n, creds, "atrium", "AtriumAdmin.SetUserPassword",
				`{"IdentityStoreId":"`+f.storeID+`","UserId":"`+user+`","Password":"Fresh-Passw0rd-4-Them!"}`)
			return status, out
		}
		if status, out := setPassword(protected); status != 400 || !strings.Contains(fmt.Sprint(out), "AccessDeniedException") ||
			!strings.Contains(fmt.Sprint(out), "user/"+protected) {
			t.Fatalf("SetUserPassword of the protected user: %d %v", status, out)
		}
		if status, out := setPassword(other); status != 200 {
			t.Fatalf("SetUserPassword of another user: %d %v", status, out)
		}
		if _, err := ids.DeleteGroupMembership(ctxT(t), &identitystore.DeleteGroupMembershipInput{IdentityStoreId: &f.storeID, MembershipId: membership(other)}); err != nil {
			t.Fatalf("DeleteGroupMembership of another user: %v", err)
		}
		if _, err := ids.DeleteUser(ctxT(t), &identitystore.DeleteUserInput{IdentityStoreId: &f.storeID, UserId: &other}); err != nil {
			t.Fatalf("DeleteUser of another user: %v", err)
		}
		if _, err := f.ids.DescribeUser(ctxT(t), &identitystore.DescribeUserInput{IdentityStoreId: &f.storeID, UserId: &protected}); err != nil {
			t.Fatalf("the protected user is gone: %v", err)
		}

		// Permission sets: the one the Allow names, not its neighbour.
		if _, err := sso.DescribePermissionSet(ctxT(t), &ssoadmin.DescribePermissionSetInput{InstanceArn: &f.instance, PermissionSetArn: &allowed}); err != nil {
			t.Fatalf("DescribePermissionSet of the allowed set: %v", err)
		}
		_, err = sso.DescribePermissionSet(ctxT(t), &ssoadmin.DescribePermissionSetInput{InstanceArn: &f.instance, PermissionSetArn: &hidden})
		denied("DescribePermissionSet of another set", err, hidden)

		// IAM: roles under the allowed path, by the path the store knows.
		iamc := iam.NewFromConfig(cfg, func(o *iam.Options) { o.RetryMaxAttempts = 1 })
		if _, err := iamc.GetRole(ctxT(t), &iam.GetRoleInput{RoleName: aws.String("HelpDesk")}); err != nil {
			t.Fatalf("GetRole of a role under /desk/: %v", err)
		}
		_, err = iamc.GetRole(ctxT(t), &iam.GetRoleInput{RoleName: aws.String("Elsewhere")})
		denied("GetRole of a role elsewhere", err, "arn:aws:iam::"+mgmt+":role/Elsewhere")

		// Organizations: the management account, not another.
		if _, err := orgsWith(cfg).DescribeAccount(ctxT(t), &organizations.DescribeAccountInput{AccountId: &mgmt}); err != nil {
			t.Fatalf("DescribeAccount of the allowed account: %v", err)
		}
		member := f.account("Member")
		_, err = orgsWith(cfg).DescribeAccount(ctxT(t), &organizations.DescribeAccountInput{AccountId: &member})
		org, err2 := n.organizations().DescribeOrganization(ctxT(t), &organizations.DescribeOrganizationInput{})
		if err2 != nil {
			t.Fatal(err2)
		}
		denied("DescribeAccount of another account", err, "arn:aws:organizations::"+mgmt+":account/"+*org.Organization.Id+"/"+member)
	})
}
