package e2e

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/sso"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// An IdP deactivating a person over SCIM (active: false) ends what they
// hold at once: their access token and their role credentials fail within
// a second, as when an admin disables them.
func TestSCIMDeactivationEndsSessionsAndCredentials(t *testing.T) {
	backends(t, func(t *testing.T, o nodeOptions) {
		n := startNode(t, o)
		env := cliEnv("ATRIUM_ENDPOINT_URL="+n.URL, "AWS_ACCESS_KEY_ID="+n.KeyID, "AWS_SECRET_ACCESS_KEY="+n.Secret, "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
		lines := strings.Split(strings.TrimSpace(mustAtrium(t, env, "scim", "token", "create")), "\n")
		token := lines[len(lines)-1]
		scim := func(method, path string, body any) map[string]any {
			t.Helper()
			b, _ := json.Marshal(body)
			req, _ := http.NewRequestWithContext(ctxT(t), method, n.URL+"/scim/v2"+path, bytes.NewReader(b))
			req.Header.Set("Authorization", "Bearer "+token)
			req.Header.Set("Content-Type", "application/scim+json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var m map[string]any
			json.NewDecoder(resp.Body).Decode(&m)
			if resp.StatusCode >= 300 {
				t.Fatalf("%s %s: %d %v", method, path, resp.StatusCode, m)
			}
			return m
		}
		u := scim("POST", "/Users", map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:User"},
			"userName": "leaver@example.com", "displayName": "Leaver", "name": map[string]any{"givenName": "Lee", "familyName": "Ver"}})
		userID := u["id"].(string)

		f := newAccessFixture(t, n)
		staging := f.account("Staging")
		ps := f.permissionSet("Developer", "PT1H")
		f.assign(staging, ps, types.PrincipalTypeUser, userID)
		desk := openDesk(t, n, o)
		tok := deviceLogin(t, n, desk, desk.signIn(f.storeID, userID))
		rc, _ := roleCredentials(t, n, *tok.AccessToken, staging, "Developer")
		client := stsOf(n, rc)
		if _, err := client.GetCallerIdentity(ctxT(t), &sts.GetCallerIdentityInput{}); err != nil {
			t.Fatal(err)
		}

		scim("PATCH", "/Users/"+userID, map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"},
			"Operations": []any{map[string]any{"op": "Replace", "path": "active", "value": "False"}}})
		refusedWithin(t, "role credentials of a deactivated user", func() error {
			_, err := client.GetCallerIdentity(ctxT(t), &sts.GetCallerIdentityInput{})
			return err
		}, "InvalidClientTokenId")
		refusedWithin(t, "access token of a deactivated user", func() error {
			_, err := sso.NewFromConfig(unsignedConfig(n)).ListAccounts(ctxT(t), &sso.ListAccountsInput{AccessToken: tok.AccessToken})
			return err
		}, "UnauthorizedException")
	})
}
