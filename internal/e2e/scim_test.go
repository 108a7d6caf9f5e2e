package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/identitystore"
	idtypes "github.com/aws/aws-sdk-go-v2/service/identitystore/types"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"
)

// An identity provider provisions over SCIM with a token made by the real
// CLI; what it pushed is what identitystore shows, through the AWS SDK.
func TestSCIMProvisioningReachesIdentitystore(t *testing.T) {
	backends(t, func(t *testing.T, o nodeOptions) {
		n := startNode(t, o)
		ctx := ctxT(t)
		env := cliEnv("ATRIUM_ENDPOINT_URL="+n.URL, "AWS_ACCESS_KEY_ID="+n.KeyID, "AWS_SECRET_ACCESS_KEY="+n.Secret, "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
		out := mustAtrium(t, env, "scim", "token", "create", "--expires-in", "90d")
		lines := strings.Split(strings.TrimSpace(out), "\n")
		token := lines[len(lines)-1]
		if !strings.HasPrefix(token, "atrium-scim-") || !strings.Contains(out, n.URL+"/scim/v2") {
			t.Fatalf("scim token create printed:\n%s", out)
		}
		scim := func(method, path string, body any) (int, map[string]any) {
			t.Helper()
			var rd io.Reader
			if body != nil {
				b, _ := json.Marshal(body)
				rd = bytes.NewReader(b)
			}
			req, _ := http.NewRequestWithContext(ctx, method, n.URL+"/scim/v2"+path, rd)
			req.Header.Set("Authorization", "Bearer "+token)
			req.Header.Set("Content-Type", "application/scim+json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var m map[string]any
			json.NewDecoder(resp.Body).Decode(&m)
			return resp.StatusCode, m
		}
		var userIDs []string
		for i := range 5 {
			status, u := scim("POST", "/Users", map[string]any{
				"schemas":  []string{"urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"},
				"userName": fmt.Sprintf("person%d@example.com", i), "displayName": fmt.Sprintf("Person %d", i), "externalId": fmt.Sprintf("ext-%d", i),
				"name":   map[string]any{"givenName": "Person", "familyName": fmt.Sprint(i)},
				"emails": []any{map[string]any{"value": fmt.Sprintf("person%d@example.com", i), "type": "work", "primary": true}},
				"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": map[string]any{"department": "Dept " + fmt.Sprint(i)},
			})
			if status != 201 {
				t.Fatalf("POST /Users: %d %v", status, u)
			}
			userIDs = append(userIDs, u["id"].(string))
		}
		status, g := scim("POST", "/Groups", map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:Group"}, "displayName": "Engineering"})
		if status != 201 {
			t.Fatalf("POST /Groups: %d %v", status, g)
		}
		gid := g["id"].(string)
		var members []any
		for _, id := range userIDs[:3] {
			members = append(members, map[string]any{"value": id})
		}
		if status, m := scim("PATCH", "/Groups/"+gid, map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"},
			"Operations": []any{map[string]any{"op": "Add", "path": "members", "value": members}}}); status != 204 {
			t.Fatalf("PATCH members: %d %v", status, m)
		}
		if status, m := scim("PATCH", "/Users/"+userIDs[4], map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"},
			"Operations": []any{map[string]any{"op": "Replace", "path": "active", "value": "False"}}}); status != 200 {
			t.Fatalf("PATCH active: %d %v", status, m)
		}

		ids := identitystore.NewFromConfig(n.admin())
		inst, err := ssoadmin.NewFromConfig(n.admin()).ListInstances(ctx, &ssoadmin.ListInstancesInput{})
		if err != nil {
			t.Fatal(err)
		}
		storeID := *inst.Instances[0].IdentityStoreId
		lu, err := ids.ListUsers(ctx, &identitystore.ListUsersInput{IdentityStoreId: &storeID})
		if err != nil {
			t.Fatal(err)
		}
		if len(lu.Users) != 5 {
			t.Fatalf("identitystore ListUsers: %d users", len(lu.Users))
		}
		uid, err := ids.GetUserId(ctx, &identitystore.GetUserIdInput{IdentityStoreId: &storeID, AlternateIdentifier: &idtypes.AlternateIdentifierMemberUniqueAttribute{
			Value: idtypes.UniqueAttribute{AttributePath: aws.String("userName"), AttributeValue: lazyDoc("person1@example.com")}}})
		if err != nil || *uid.UserId != userIDs[1] {
			t.Fatalf("GetUserId = %v, %v", uid, err)
		}
		du, err := ids.DescribeUser(ctx, &identitystore.DescribeUserInput{IdentityStoreId: &storeID, UserId: &userIDs[1], Extensions: []string{"aws:identitystore:enterprise"}})
		if err != nil || aws.ToString(du.DisplayName) != "Person 1" || du.UserStatus != idtypes.UserStatusEnabled || du.Extensions["aws:identitystore:enterprise"] == nil {
			t.Fatalf("DescribeUser = %+v, %v", du, err)
		}
		disabled, err := ids.DescribeUser(ctx, &identitystore.DescribeUserInput{IdentityStoreId: &storeID, UserId: &userIDs[4]})
		if err != nil || disabled.UserStatus != idtypes.UserStatusDisabled {
			t.Fatalf("the user set active false: %+v, %v", disabled, err)
		}
		lm, err := ids.ListGroupMemberships(ctx, &identitystore.ListGroupMembershipsInput{IdentityStoreId: &storeID, GroupId: &gid})
		if err != nil || len(lm.GroupMemberships) != 3 {
			t.Fatalf("ListGroupMemberships = %+v, %v", lm, err)
		}
		in, err := ids.IsMemberInGroups(ctx, &identitystore.IsMemberInGroupsInput{IdentityStoreId: &storeID, GroupIds: []string{gid},
			MemberId: &idtypes.MemberIdMemberUserId{Value: userIDs[0]}})
		if err != nil || !in.Results[0].MembershipExists {
			t.Fatalf("IsMemberInGroups = %+v, %v", in, err)
		}

		// list shows it; revoke stops it within a second.
		list := mustAtrium(t, env, "scim", "token", "list")
		if !strings.Contains(list, "ACTIVE") {
			t.Fatalf("scim token list:\n%s", list)
		}
		tokenID := strings.Fields(strings.Split(strings.TrimSpace(list), "\n")[1])[0]
		mustAtrium(t, env, "scim", "token", "revoke", tokenID)
		deadline := time.Now().Add(1500 * time.Millisecond)
		for {
			status, _ := scim("GET", "/Users", nil)
			if status == 401 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("a revoked token still works after 1.5 s")
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
}
