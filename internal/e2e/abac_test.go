package e2e

import (
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/identitystore"
	"github.com/aws/aws-sdk-go-v2/service/identitystore/document"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin/types"
	"github.com/aws/smithy-go"
)

// Attribute-based access control, end to end: the instance maps a user
// attribute to a session tag; a permission set's policy allows an action
// only for one tag value; of two people holding it, only the one whose
// attribute matches may act, with the role credentials the portal API
// minted for them.
func TestSessionTagsCarryAccessControlAttributes(t *testing.T) {
	backends(t, func(t *testing.T, o nodeOptions) {
		n := startNode(t, o)
		f := newAccessFixture(t, n)
		mgmt := managementAccount(t, n)
		withCostCenter := func(name, cc string) string {
			in := minimalUserInput(f.storeID, name)
			in.Extensions = map[string]document.Interface{"aws:identitystore:enterprise": lazyDoc(map[string]any{"costCenter": cc})}
			return mustCreateUser(t, f.ids, in)
		}
		ann, bob := withCostCenter("ann", "CC-7"), withCostCenter("bob", "CC-8")
		ps := f.permissionSet("CostCenter7", "PT1H")
		doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"identitystore:ListUsers","Resource":"*",
			"Condition":{"StringEquals":{"aws:PrincipalTag/CostCenter":"CC-7"}}}]}`
		if _, err := f.sso.PutInlinePolicyToPermissionSet(ctxT(t), &ssoadmin.PutInlinePolicyToPermissionSetInput{InstanceArn: &f.instance,
			PermissionSetArn: &ps, InlinePolicy: &doc}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.sso.CreateInstanceAccessControlAttributeConfiguration(ctxT(t), &ssoadmin.CreateInstanceAccessControlAttributeConfigurationInput{
			InstanceArn: &f.instance, InstanceAccessControlAttributeConfiguration: &types.InstanceAccessControlAttributeConfiguration{
				AccessControlAttributes: []types.AccessControlAttribute{{Key: aws.String("CostCenter"),
					Value: &types.AccessControlAttributeValue{Source: []string{"${path:enterprise.costCenter}"}}}}}}); err != nil {
			t.Fatal(err)
		}
		f.assign(mgmt, ps, types.PrincipalTypeUser, ann)
		f.assign(mgmt, ps, types.PrincipalTypeUser, bob)
		desk := openDesk(t, n, o)
		listUsers := func(userID string) error {
			tok := deviceLogin(t, n, desk, desk.signIn(f.storeID, userID))
			rc, _ := roleCredentials(t, n, *tok.AccessToken, mgmt, "CostCenter7")
			cfg := unsignedConfig(n)
			cfg.Credentials = credentials.StaticCredentialsProvider{Value: rc}
			_, err := identitystore.NewFromConfig(cfg).ListUsers(ctxT(t), &identitystore.ListUsersInput{IdentityStoreId: &f.storeID})
			return err
		}
		if err := listUsers(ann); err != nil {
			t.Fatalf("ann (CC-7): %v", err)
		}
		var ae smithy.APIError
		if err := listUsers(bob); !errors.As(err, &ae) || ae.ErrorCode() != "AccessDeniedException" {
			t.Fatalf("bob (CC-8): %v; want AccessDeniedException", err)
		}
	})
}
