package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/identitystore"
	idtypes "github.com/aws/aws-sdk-go-v2/service/identitystore/types"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"
)

// The scale: 10,000 users and 1,000 groups (each with ten members)
// pushed over SCIM by 8 concurrent clients, as an IdP's first sync does,
// are then all visible through identitystore with the AWS SDK.
func TestSCIMPushOfTenThousandUsersIsVisibleThroughIdentitystore(t *testing.T) {
	if testing.Short() {
		t.Skip("pushes 11,000 resources")
	}
	const users, groups, perGroup, clients = 10000, 1000, 10, 8
	n := startNode(t, nodeOptions{})
	env := cliEnv("ATRIUM_ENDPOINT_URL="+n.URL, "AWS_ACCESS_KEY_ID="+n.KeyID, "AWS_SECRET_ACCESS_KEY="+n.Secret, "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
	lines := strings.Split(strings.TrimSpace(mustAtrium(t, env, "scim", "token", "create")), "\n")
	token := lines[len(lines)-1]
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
	post := func(method, path string, body any) (map[string]any, error) {
		b, _ := json.Marshal(body)
		req, _ := http.NewRequestWithContext(ctxT(t), method, n.URL+"/scim/v2"+path, bytes.NewReader(b))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/scim+json")
		resp, err := client.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		var m map[string]any
		json.NewDecoder(resp.Body).Decode(&m)
		if resp.StatusCode >= 300 {
			return nil, fmt.Errorf("%s %s: %d %v", method, path, resp.StatusCode, m)
		}
		return m, nil
	}
	// each runs do(i) for i in [0, count) on the clients; the first error stops the test.
	each := func(count int, do func(i int) error) {
		var next atomic.Int64
		var wg sync.WaitGroup
		var failed atomic.Pointer[error]
		for range clients {
			wg.Go(func() {
				for i := int(next.Add(1)) - 1; i < count && failed.Load() == nil; i = int(next.Add(1)) - 1 {
					if err := do(i); err != nil {
						failed.CompareAndSwap(nil, &err)
					}
				}
			})
		}
		wg.Wait()
		if err := failed.Load(); err != nil {
			t.Fatal(*err)
		}
	}
	userIDs := make([]string, users)
	each(users, func(i int) error {
		name := fmt.Sprintf("scale%05d@example.com", i)
		u, err := post("POST", "/Users", map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:User"},
			"userName": name, "displayName": name, "externalId": fmt.Sprint("ext-", i),
			"name": map[string]any{"givenName": "Scale", "familyName": fmt.Sprint(i)}})
		if err == nil {
			userIDs[i] = u["id"].(string)
		}
		return err
	})
	groupIDs := make([]string, groups)
	each(groups, func(i int) error {
		members := make([]any, perGroup)
		for j := range members {
			members[j] = map[string]any{"value": userIDs[(i*perGroup+j)%users]}
		}
		g, err := post("POST", "/Groups", map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:Group"},
			"displayName": fmt.Sprintf("scale-group-%04d", i), "members": members})
		if err == nil {
			groupIDs[i] = g["id"].(string)
		}
		return err
	})

	ids := identitystore.NewFromConfig(n.admin())
	inst, err := ssoadmin.NewFromConfig(n.admin()).ListInstances(ctxT(t), &ssoadmin.ListInstancesInput{})
	if err != nil {
		t.Fatal(err)
	}
	storeID := *inst.Instances[0].IdentityStoreId
	seen := map[string]bool{}
	for p := identitystore.NewListUsersPaginator(ids, &identitystore.ListUsersInput{IdentityStoreId: &storeID}); p.HasMorePages(); {
		page, err := p.NextPage(ctxT(t))
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range page.Users {
			seen[*u.UserId] = true
		}
	}
	for _, id := range userIDs {
		if !seen[id] {
			t.Fatalf("user %s pushed over SCIM is not listed by identitystore (%d listed)", id, len(seen))
		}
	}
	groupCount := 0
	for p := identitystore.NewListGroupsPaginator(ids, &identitystore.ListGroupsInput{IdentityStoreId: &storeID}); p.HasMorePages(); {
		page, err := p.NextPage(ctxT(t))
		if err != nil {
			t.Fatal(err)
		}
		groupCount += len(page.Groups)
	}
	if groupCount != groups {
		t.Fatalf("identitystore lists %d groups, want %d", groupCount, groups)
	}
	for _, i := range []int{0, 499, 999} {
		in, err := ids.IsMemberInGroups(ctxT(t), &identitystore.IsMemberInGroupsInput{IdentityStoreId: &storeID, GroupIds: []string{groupIDs[i]},
			MemberId: &idtypes.MemberIdMemberUserId{Value: userIDs[i*perGroup+perGroup-1]}})
		if err != nil || !in.Results[0].MembershipExists {
			t.Fatalf("membership in group %d: %+v, %v", i, in, err)
		}
	}
}
