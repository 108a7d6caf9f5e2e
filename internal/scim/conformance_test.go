package scim_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/identitystore"
	idtypes "github.com/aws/aws-sdk-go-v2/service/identitystore/types"

	"github.com/atrium-sso/atrium/internal/scim"
	"github.com/atrium-sso/atrium/internal/store"
)

// The conformance suite walks RFC 7644 section 3 over a real server: every
// endpoint, and every error a client can provoke, on SQLite and PostgreSQL.

func TestForgedAndMissingTokensAreRefused(t *testing.T) {
	backends(t, func(t *testing.T, n *node) {
		r := n.doWith("", "GET", "/Users", nil).want(t, 401, "")
		if !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("401 without a Bearer challenge: %v", r.header)
		}
		n.doWith("atrium-scim-"+strings.Repeat("0", 64), "GET", "/Users", nil).want(t, 401, "")
		n.doWith(n.token+"x", "GET", "/ServiceProviderConfig", nil).want(t, 401, "")
		n.do("GET", "/Users", nil).want(t, 200, "")
	})
}

func TestRevokedTokenStopsWithinASecond(t *testing.T) {
	n := newNode(t, "")
	n.do("GET", "/Users", nil).want(t, 200, "")
	var list struct {
		ScimTokens []struct{ TokenId, Status string }
	}
	n.admin("ListScimTokens", map[string]any{"IdentityStoreId": n.storeID}, &list)
	if len(list.ScimTokens) != 1 || list.ScimTokens[0].Status != "ACTIVE" {
		t.Fatalf("ListScimTokens = %+v", list)
	}
	if code := n.admin("RevokeScimToken", map[string]any{"IdentityStoreId": n.storeID, "TokenId": list.ScimTokens[0].TokenId}, nil); code != "" {
		t.Fatal(code)
	}
	revoked := time.Now()
	for n.do("GET", "/Users", nil).status == 200 {
		if time.Since(revoked) > 1500*time.Millisecond {
			t.Fatal("the revoked token still works after 1.5 s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	n.do("GET", "/Users", nil).want(t, 401, "")
	if code := n.admin("RevokeScimToken", map[string]any{"IdentityStoreId": n.storeID, "TokenId": "00000000-0000-7000-8000-000000000000"}, nil); code != "ResourceNotFoundException" {
		t.Fatalf("revoking an unknown token: %q", code)
	}
}

func TestExpiredTokenIsRefused(t *testing.T) {
	n := newNode(t, "")
	var out struct{ Token string }
	if code := n.admin("CreateScimToken", map[string]any{"IdentityStoreId": n.storeID, "ExpiresInSeconds": 1}, &out); code != "" {
		t.Fatal(code)
	}
	n.doWith(out.Token, "GET", "/Users", nil).want(t, 200, "")
	time.Sleep(1100 * time.Millisecond)
	n.doWith(out.Token, "GET", "/Users", nil).want(t, 401, "")
}

func TestAtMostTwoLiveTokens(t *testing.T) {
	n := newNode(t, "")
	var out struct{ Token string }
	if code := n.admin("CreateScimToken", map[string]any{"IdentityStoreId": n.storeID}, &out); code != "" {
		t.Fatal(code)
	}
	if code := n.admin("CreateScimToken", map[string]any{"IdentityStoreId": n.storeID}, nil); code != "ConflictException" {
		t.Fatalf("third token: %q, want ConflictException", code)
	}
	if code := n.admin("CreateScimToken", map[string]any{"IdentityStoreId": n.storeID, "Source": "no-such-idp"}, nil); code != "ResourceNotFoundException" && code != "ConflictException" {
		t.Fatalf("unknown source: %q", code)
	}
	if code := n.admin("CreateScimToken", map[string]any{"IdentityStoreId": n.storeID, "ExpiresInSeconds": 40000000}, nil); code != "ValidationException" {
		t.Fatalf("token for more than a year: %q", code)
	}
}

func TestDiscoveryEndpoints(t *testing.T) {
	backends(t, func(t *testing.T, n *node) {
		spc := n.do("GET", "/ServiceProviderConfig", nil).want(t, 200, "")
		if spc.str("patch.supported") != "true" || spc.str("bulk.supported") != "false" || spc.str("filter.supported") != "true" ||
			!strings.Contains(spc.raw, "oauthbearertoken") {
			t.Errorf("ServiceProviderConfig = %s", spc.raw)
		}
		schemas := n.do("GET", "/Schemas", nil).want(t, 200, "")
		if schemas.str("totalResults") != "3" {
			t.Errorf("Schemas = %s", schemas.raw)
		}
		for _, id := range []string{"urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", "urn:ietf:params:scim:schemas:core:2.0:Group"} {
			s := n.do("GET", "/Schemas/"+id, nil).want(t, 200, "")
			if s.str("id") != id || !strings.Contains(s.raw, `"attributes"`) {
				t.Errorf("Schemas/%s = %s", id, s.raw)
			}
		}
		n.do("GET", "/Schemas/urn:nope", nil).want(t, 404, "")
		rts := n.do("GET", "/ResourceTypes", nil).want(t, 200, "")
		if rts.str("totalResults") != "2" || !strings.Contains(rts.raw, `"endpoint":"/Users"`) {
			t.Errorf("ResourceTypes = %s", rts.raw)
		}
		if u := n.do("GET", "/ResourceTypes/User", nil).want(t, 200, ""); !strings.Contains(u.raw, "enterprise:2.0:User") {
			t.Errorf("ResourceTypes/User = %s", u.raw)
		}
		n.do("GET", "/ResourceTypes/Printer", nil).want(t, 404, "")
		n.do("POST", "/Bulk", map[string]any{}).want(t, 501, "")
		n.do("GET", "/Me", nil).want(t, 501, "")
		n.do("GET", "/Printers", nil).want(t, 404, "")
		n.do("DELETE", "/Users", nil).want(t, 405, "")
		n.do("POST", "/ServiceProviderConfig", map[string]any{}).want(t, 405, "")
	})
}

func TestUserLifecycle(t *testing.T) {
	backends(t, func(t *testing.T, n *node) {
		ctx := context.Background()
		created := n.do("POST", "/Users", user("alice", map[string]any{
			"externalId": "00u1abcd",
			"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": map[string]any{"employeeNumber": "701984", "department": "Tour Operations",
				"manager": map[string]any{"value": "26118915-6090-4610-87e4-49d8ca9f808d"}},
		})).want(t, 201, "")
		id := created.str("id")
		if created.header.Get("Location") != n.url+"/scim/v2/Users/"+id || created.str("meta.location") != created.header.Get("Location") ||
			created.str("meta.resourceType") != "User" || created.str("meta.created") == "" {
			t.Fatalf("POST answer: %s, Location %q", created.raw, created.header.Get("Location"))
		}
		// §3.3: a second user with the same userName, ignoring case, is a uniqueness conflict.
		n.do("POST", "/Users", user("ALICE", nil)).want(t, 409, "uniqueness")
		n.do("POST", "/Users", user("alice2", map[string]any{"externalId": "00u1abcd"})).want(t, 409, "uniqueness")

		got := n.do("GET", "/Users/"+id, nil).want(t, 200, "")
		if got.str("userName") != "alice" || got.str("externalId") != "00u1abcd" || got.str("active") != "true" ||
			got.body["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"].(map[string]any)["department"] != "Tour Operations" {
			t.Fatalf("GET = %s", got.raw)
		}
		n.do("GET", "/Users/0000000000-00000000-0000-4000-8000-000000000000", nil).want(t, 404, "")

		// The same user through identitystore, extension included.
		ids := identitystore.NewFromConfig(n.aws)
		du, err := ids.DescribeUser(ctx, &identitystore.DescribeUserInput{IdentityStoreId: &n.storeID, UserId: &id, Extensions: []string{"aws:identitystore:enterprise"}})
		if err != nil {
			t.Fatal(err)
		}
		if aws.ToString(du.UserName) != "alice" || aws.ToString(du.DisplayName) != "User alice" || du.UserStatus != idtypes.UserStatusEnabled ||
			aws.ToString(du.Name.GivenName) != "Givenalice" || aws.ToString(du.Emails[0].Value) != "alice@example.com" {
			t.Fatalf("DescribeUser = %+v", du)
		}
		if ext, ok := du.Extensions["aws:identitystore:enterprise"]; !ok {
			t.Fatalf("DescribeUser has no enterprise extension: %+v", du.Extensions)
		} else {
			var m map[string]any
			if err := ext.UnmarshalSmithyDocument(&m); err != nil || m["department"] != "Tour Operations" || m["employeeNumber"] != "701984" {
				t.Fatalf("enterprise extension = %v, %v", m, err)
			}
		}

		// PUT replaces: what is left out goes (except active).
		put := user("alice.liddell", map[string]any{"title": "Explorer"})
		delete(put, "emails")
		delete(put, "active")
		r := n.do("PUT", "/Users/"+id, put).want(t, 200, "")
		if r.str("userName") != "alice.liddell" || r.str("title") != "Explorer" || r.str("emails") != "" || r.str("externalId") != "" || r.str("active") != "true" {
			t.Fatalf("PUT = %s", r.raw)
		}
		n.do("PUT", "/Users/0000000000-00000000-0000-4000-8000-000000000000", put).want(t, 404, "")

		// active false disables (identitystore's UserStatus).
		n.do("PATCH", "/Users/"+id, patch(map[string]any{"op": "Replace", "value": map[string]any{"active": "False"}})).want(t, 200, "")
		du, err = ids.DescribeUser(ctx, &identitystore.DescribeUserInput{IdentityStoreId: &n.storeID, UserId: &id})
		if err != nil || du.UserStatus != idtypes.UserStatusDisabled {
			t.Fatalf("after active false: %v, %v", du.UserStatus, err)
		}

		n.do("DELETE", "/Users/"+id, nil).want(t, 204, "")
		n.do("GET", "/Users/"+id, nil).want(t, 404, "")
		n.do("DELETE", "/Users/"+id, nil).want(t, 404, "")
	})
}

func TestUserValidation(t *testing.T) {
	n := newNode(t, "")
	noName := user("bob", nil)
	delete(noName, "name")
	n.do("POST", "/Users", noName).want(t, 400, "invalidValue")
	noDisplay := user("bob", nil)
	delete(noDisplay, "displayName")
	n.do("POST", "/Users", noDisplay).want(t, 400, "invalidValue")
	noSchemas := user("bob", nil)
	delete(noSchemas, "schemas")
	n.do("POST", "/Users", noSchemas).want(t, 400, "invalidSyntax")
	n.do("POST", "/Users", `{"userName": `).want(t, 400, "invalidSyntax")
	n.do("POST", "/Users", `[1,2]`).want(t, 400, "invalidSyntax")
	two := user("bob", map[string]any{"emails": []any{map[string]any{"value": "a@example.com"}, map[string]any{"value": "b@example.com"}}})
	n.do("POST", "/Users", two).want(t, 400, "invalidValue")
	n.do("POST", "/Users", user("bob", map[string]any{"active": "maybe"})).want(t, 400, "invalidValue")
	n.do("POST", "/Users", user("Administrator", nil)).want(t, 400, "invalidValue")
	n.do("POST", "/Users", user(strings.Repeat("x", 129), nil)).want(t, 400, "invalidValue")
	n.do("POST", "/Users", strings.Repeat(" ", 1<<20+10)).want(t, 413, "")
	// Read-only attributes are ignored, unknown ones dropped, "False" read as false.
	r := n.do("POST", "/Users", user("bob", map[string]any{"id": "mine", "meta": map[string]any{"created": "x"}, "shoeSize": 44, "active": "False"})).want(t, 201, "")
	if r.str("id") == "mine" || r.str("active") != "false" || strings.Contains(r.raw, "shoeSize") {
		t.Fatalf("POST = %s", r.raw)
	}
}

func TestFiltersAndPagination(t *testing.T) {
	backends(t, func(t *testing.T, n *node) {
		for _, name := range []string{"ann", "bea", "cyd", "dee", "eve"} {
			n.do("POST", "/Users", user(name, map[string]any{"externalId": "ext-" + name, "title": strings.ToUpper(name[:1])})).want(t, 201, "")
		}
		count := func(filter string) string {
			t.Helper()
			return n.do("GET", "/Users?filter="+url.QueryEscape(filter), nil).want(t, 200, "").str("totalResults")
		}
		for filter, want := range map[string]string{
			`userName eq "ANN"`:                                            "1",
			`userName eq "ann" and externalId eq "ext-ann"`:                "1",
			`userName eq "ann" and externalId eq "ext-bea"`:                "0",
			`externalId eq "EXT-ANN"`:                                      "0", // externalId is case-exact
			`emails.value eq "bea@example.com"`:                            "1",
			`emails[type eq "work" and value co "cyd"]`:                    "1",
			`displayName eq "User dee"`:                                    "1",
			`userName eq "ann" or userName eq "eve"`:                       "2",
			`userName co "e"`:                                              "3",
			`userName sw "d"`:                                              "1",
			`userName ew "e"`:                                              "2",
			`title pr`:                                                     "5",
			`nickName pr`:                                                  "0",
			`not (userName eq "ann")`:                                      "4",
			`(userName eq "ann" or userName eq "bea") and title eq "B"`:    "1",
			`urn:ietf:params:scim:schemas:core:2.0:User:userName eq "cyd"`: "1",
			`active eq true`:                                               "5",
			`meta.created gt "2000-01-01T00:00:00Z"`:                       "5",
			`userName gt "c"`:                                              "3",
		} {
			if got := count(filter); got != want {
				t.Errorf("filter %s: %s results, want %s", filter, got, want)
			}
		}
		for _, bad := range []string{`userName eq`, `userName zz "a"`, `(userName eq "a"`, `userName eq "a" and`, `"a" eq userName`, `userName eq 'a'`, `active gt true`} {
			n.do("GET", "/Users?filter="+url.QueryEscape(bad), nil).want(t, 400, "invalidFilter")
		}
		restore := scim.SetMaxScan(4)
		n.do("GET", "/Users?filter="+url.QueryEscape(`title pr`), nil).want(t, 400, "tooMany")
		n.do("GET", "/Users?filter="+url.QueryEscape(`userName eq "ann"`), nil).want(t, 200, "") // an index answers it
		restore()
		n.do("GET", "/Users?sortBy=userName", nil).want(t, 400, "invalidValue")
		n.do("GET", "/Users?count=abc", nil).want(t, 400, "invalidValue")

		// §3.4.2.4: 1-based startIndex, count, totalResults.
		page := n.do("GET", "/Users?startIndex=2&count=2", nil).want(t, 200, "")
		if page.str("totalResults") != "5" || page.str("startIndex") != "2" || page.str("itemsPerPage") != "2" {
			t.Fatalf("page = %s", page.raw)
		}
		seen := map[string]bool{}
		for start := 1; start <= 5; start += 2 {
			p := n.do("GET", "/Users?startIndex="+itoa(start)+"&count=2", nil).want(t, 200, "")
			for _, r := range p.body["Resources"].([]any) {
				seen[r.(map[string]any)["userName"].(string)] = true
			}
		}
		if len(seen) != 5 {
			t.Fatalf("paging saw %v", seen)
		}
		if p := n.do("GET", "/Users?count=0", nil).want(t, 200, ""); p.str("totalResults") != "5" || p.str("itemsPerPage") != "0" {
			t.Fatalf("count=0: %s", p.raw)
		}
		if p := n.do("GET", "/Users?startIndex=-4&count=1&filter="+url.QueryEscape(`userName co "e"`), nil).want(t, 200, ""); p.str("startIndex") != "1" || p.str("itemsPerPage") != "1" || p.str("totalResults") != "3" {
			t.Fatalf("startIndex below 1: %s", p.raw)
		}
		// attributes and excludedAttributes (§3.9).
		p := n.do("GET", "/Users?attributes=userName&filter="+url.QueryEscape(`userName eq "ann"`), nil).want(t, 200, "")
		r := p.body["Resources"].([]any)[0].(map[string]any)
		if r["userName"] != "ann" || r["id"] == nil || r["emails"] != nil {
			t.Fatalf("attributes=userName: %v", r)
		}
		// POST /.search (§3.4.3).
		s := n.do("POST", "/Users/.search", map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:SearchRequest"},
			"filter": `userName sw "b"`, "startIndex": 1, "count": 10}).want(t, 200, "")
		if s.str("totalResults") != "1" {
			t.Fatalf(".search = %s", s.raw)
		}
		n.do("POST", "/Users/.search", map[string]any{"filter": `userName sw "b"`}).want(t, 400, "invalidSyntax")
	})
}

func TestGroupsAndMemberships(t *testing.T) {
	backends(t, func(t *testing.T, n *node) {
		ctx := context.Background()
		var users []string
		for _, name := range []string{"ann", "bea", "cyd"} {
			users = append(users, n.do("POST", "/Users", user(name, nil)).want(t, 201, "").str("id"))
		}
		g := n.do("POST", "/Groups", group("Developers", users[0], users[1])).want(t, 201, "")
		gid := g.str("id")
		if !strings.Contains(g.raw, users[0]) || g.header.Get("Location") == "" {
			t.Fatalf("POST group = %s", g.raw)
		}
		n.do("POST", "/Groups", group("developers")).want(t, 409, "uniqueness")
		n.do("POST", "/Groups", group("Ghosts", "0000000000-00000000-0000-4000-8000-000000000000")).want(t, 400, "invalidValue")
		n.do("POST", "/Groups", map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:Group"}}).want(t, 400, "invalidValue")

		members := func() string {
			t.Helper()
			got := n.do("GET", "/Groups/"+gid, nil).want(t, 200, "")
			var ids []string
			for _, m := range got.body["members"].([]any) {
				ids = append(ids, m.(map[string]any)["value"].(string))
			}
			out := ""
			for i, u := range users {
				for _, id := range ids {
					if id == u {
						out += string(rune('a' + i))
					}
				}
			}
			return out
		}
		if m := members(); m != "ab" {
			t.Fatalf("members = %s", m)
		}
		if ex := n.do("GET", "/Groups/"+gid+"?excludedAttributes=members", nil).want(t, 200, ""); strings.Contains(ex.raw, "members") {
			t.Fatalf("excludedAttributes=members: %s", ex.raw)
		}
		// Okta: add, then remove with a value filter.
		n.do("PATCH", "/Groups/"+gid, patch(map[string]any{"op": "add", "path": "members", "value": []any{map[string]any{"value": users[2], "display": "cyd"}}})).want(t, 204, "")
		if m := members(); m != "abc" {
			t.Fatalf("after add: %s", m)
		}
		n.do("PATCH", "/Groups/"+gid, patch(map[string]any{"op": "remove", "path": `members[value eq "` + users[0] + `"]`})).want(t, 204, "")
		if m := members(); m != "bc" {
			t.Fatalf("after filtered remove: %s", m)
		}
		// Entra ID: Remove with a value list.
		n.do("PATCH", "/Groups/"+gid, patch(map[string]any{"op": "Remove", "path": "members", "value": []any{map[string]any{"value": users[1]}}})).want(t, 204, "")
		if m := members(); m != "c" {
			t.Fatalf("after Remove by value: %s", m)
		}
		// Replace all, rename, in one request.
		n.do("PATCH", "/Groups/"+gid, patch(map[string]any{"op": "replace", "path": "members", "value": []any{map[string]any{"value": users[0]}, map[string]any{"value": users[1]}}},
			map[string]any{"op": "replace", "value": map[string]any{"displayName": "Engineers", "externalId": "grp-1"}})).want(t, 204, "")
		if m := members(); m != "ab" {
			t.Fatalf("after replace: %s", m)
		}
		if f := n.do("GET", "/Groups?filter="+url.QueryEscape(`displayName eq "engineers"`), nil).want(t, 200, ""); f.str("totalResults") != "1" {
			t.Fatalf("group by name: %s", f.raw)
		}
		if f := n.do("GET", "/Groups?filter="+url.QueryEscape(`externalId eq "grp-1" and members eq "`+users[1]+`"`), nil).want(t, 200, ""); f.str("totalResults") != "1" {
			t.Fatalf("group by member: %s", f.raw)
		}
		// AWS's user filters: groups.value, and id with manager (an extension attribute without its URN).
		if f := n.do("GET", "/Users?filter="+url.QueryEscape(`groups.value eq "`+gid+`"`), nil).want(t, 200, ""); f.str("totalResults") != "2" {
			t.Fatalf("users by group: %s", f.raw)
		}
		n.do("PATCH", "/Users/"+users[1], patch(map[string]any{"op": "add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager",
			"value": map[string]any{"value": users[0]}})).want(t, 200, "")
		if f := n.do("GET", "/Users?filter="+url.QueryEscape(`id eq "`+users[1]+`" and manager eq "`+users[0]+`"`), nil).want(t, 200, ""); f.str("totalResults") != "1" {
			t.Fatalf("users by id and manager: %s", f.raw)
		}
		// The user shows its groups.
		if u := n.do("GET", "/Users/"+users[0], nil).want(t, 200, ""); !strings.Contains(u.str("groups"), gid) {
			t.Fatalf("user's groups: %s", u.raw)
		}
		// identitystore sees the memberships.
		ids := identitystore.NewFromConfig(n.aws)
		lm, err := ids.ListGroupMemberships(ctx, &identitystore.ListGroupMembershipsInput{IdentityStoreId: &n.storeID, GroupId: &gid})
		if err != nil || len(lm.GroupMemberships) != 2 {
			t.Fatalf("ListGroupMemberships = %v, %v", lm, err)
		}
		// PUT replaces the members given.
		n.do("PUT", "/Groups/"+gid, group("Engineers", users[2])).want(t, 200, "")
		if m := members(); m != "c" {
			t.Fatalf("after PUT: %s", m)
		}
		// Deleting a user takes it out of its groups.
		n.do("DELETE", "/Users/"+users[2], nil).want(t, 204, "")
		if m := members(); m != "" {
			t.Fatalf("after deleting the member: %s", m)
		}
		n.do("DELETE", "/Groups/"+gid, nil).want(t, 204, "")
		n.do("GET", "/Groups/"+gid, nil).want(t, 404, "")
		if l := n.do("GET", "/Groups", nil).want(t, 200, ""); l.str("totalResults") != "0" {
			t.Fatalf("groups after delete: %s", l.raw)
		}
	})
}

func TestPatchErrorsAndAtomicity(t *testing.T) {
	backends(t, func(t *testing.T, n *node) {
		id := n.do("POST", "/Users", user("ann", nil)).want(t, 201, "").str("id")
		gid := n.do("POST", "/Groups", group("Team")).want(t, 201, "").str("id")
		for _, c := range []struct {
			body     any
			scimType string
		}{
			{patch(map[string]any{"op": "frobnicate", "path": "title", "value": "x"}), "invalidSyntax"},
			{patch(map[string]any{"op": "replace", "path": "shoeSize", "value": "44"}), "invalidPath"},
			{patch(map[string]any{"op": "replace", "path": "emails[type eq", "value": "x"}), "invalidPath"},
			{patch(map[string]any{"op": "replace", "path": "id", "value": "x"}), "mutability"},
			{patch(map[string]any{"op": "remove", "path": "userName"}), "mutability"},
			{patch(map[string]any{"op": "remove"}), "noTarget"},
			{patch(map[string]any{"op": "replace", "path": `emails[type eq "home"]`, "value": map[string]any{"value": "x@example.com"}}), "noTarget"},
			{patch(map[string]any{"op": "replace", "path": "active", "value": "perhaps"}), "invalidValue"},
			{patch(map[string]any{"op": "replace", "path": "name.givenName", "value": ""}), "invalidValue"},
			{map[string]any{"Operations": []any{map[string]any{"op": "add", "path": "title", "value": "x"}}}, "invalidSyntax"},
			{patch(), "invalidValue"},
		} {
			n.do("PATCH", "/Users/"+id, c.body).want(t, 400, c.scimType)
		}
		// One bad operation: nothing of the request is kept.
		n.do("PATCH", "/Users/"+id, patch(map[string]any{"op": "replace", "path": "title", "value": "Changed"},
			map[string]any{"op": "replace", "path": "id", "value": "x"})).want(t, 400, "mutability")
		if got := n.do("GET", "/Users/"+id, nil).str("title"); got != "" {
			t.Fatalf("a failed PATCH left title %q", got)
		}
		n.do("PATCH", "/Groups/"+gid, patch(map[string]any{"op": "add", "path": "members", "value": []any{map[string]any{"value": id}}},
			map[string]any{"op": "add", "path": "members", "value": []any{map[string]any{"value": "0000000000-00000000-0000-4000-8000-000000000000"}}})).want(t, 400, "invalidValue")
		if got := n.do("GET", "/Groups/"+gid, nil).str("members"); got != "[]" && got != "" {
			t.Fatalf("a failed group PATCH left members %s", got)
		}
		n.do("PATCH", "/Groups/"+gid, patch(map[string]any{"op": "replace", "path": `members[value eq "x"]`, "value": map[string]any{"value": id}})).want(t, 400, "invalidPath")
		n.do("PATCH", "/Users/0000000000-00000000-0000-4000-8000-000000000000", patch(map[string]any{"op": "add", "path": "title", "value": "x"})).want(t, 404, "")
		// Renaming into another's name is a conflict.
		n.do("POST", "/Users", user("bea", nil)).want(t, 201, "")
		n.do("PATCH", "/Users/"+id, patch(map[string]any{"op": "replace", "path": "userName", "value": "BEA"})).want(t, 409, "uniqueness")
	})
}

func TestWritesAreAudited(t *testing.T) {
	n := newNode(t, "")
	id := n.do("POST", "/Users", user("ann", nil)).want(t, 201, "").str("id")
	n.do("POST", "/Users", user("ann", nil)).want(t, 409, "uniqueness")
	n.do("GET", "/Users/"+id, nil).want(t, 200, "")
	n.do("DELETE", "/Users/"+id, nil).want(t, 204, "")
	var events []store.AuditEvent
	if err := n.store.Read(context.Background(), func(tx store.Tx) error {
		var err error
		events, err = tx.ListAudit(context.Background(), store.AuditCursor{}, 20)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range events {
		if e.Source == "scim.identitystore.amazonaws.com" {
			if !strings.HasPrefix(e.PrincipalARN, "scim/") || e.SourceIP == "" {
				t.Errorf("event %+v: who and where are missing", e)
			}
			got = append(got, e.EventName+":"+e.ErrorCode)
		}
	}
	// Reads are not recorded. (Calls in one millisecond have no order.)
	want := []string{"CreateUser:", "CreateUser:scim:409:uniqueness", "DeleteUser:"}
	slices.Sort(got)
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("audit = %v, want %v", got, want)
	}
}

func TestTokenOfASourceProvisionsItsUsers(t *testing.T) {
	n := newNode(t, "")
	ctx := context.Background()
	now := time.Now().UTC()
	src := store.IdentitySource{IdentityStoreID: n.storeID, ID: "idp-0123456789abcdef", Name: "Okta", Kind: "saml", Enabled: true,
		EmailDomains: []string{"example.com"}, MFA: "trust", Config: []byte(`{}`), CreatedAt: now, UpdatedAt: now}
	if err := n.store.Write(ctx, func(tx store.Tx) error { return tx.InsertIdentitySource(ctx, src) }); err != nil {
		t.Fatal(err)
	}
	var out struct {
		Token     string
		ScimToken struct{ Source, SourceId string }
	}
	if code := n.admin("CreateScimToken", map[string]any{"IdentityStoreId": n.storeID, "Source": "okta"}, &out); code != "" {
		t.Fatal(code)
	}
	if out.ScimToken.Source != "Okta" || out.ScimToken.SourceId != src.ID {
		t.Fatalf("token = %+v", out.ScimToken)
	}
	id := n.doWith(out.Token, "POST", "/Users", user("fed", map[string]any{"externalId": "okta-1"})).want(t, 201, "").str("id")
	var u *store.User
	if err := n.store.Read(ctx, func(tx store.Tx) (err error) { u, err = tx.GetUser(ctx, n.storeID, id); return }); err != nil {
		t.Fatal(err)
	}
	if u.SourceID != src.ID || len(u.ExternalIDs) != 1 || u.ExternalIDs[0] != (store.ExternalID{Issuer: "SCIM:" + src.ID, ID: "okta-1"}) {
		t.Fatalf("user provisioned by the source's token: source %q, external ids %+v", u.SourceID, u.ExternalIDs)
	}
	// The built-in directory's token sees the user, but not the other source's externalId.
	if r := n.do("GET", "/Users/"+id, nil).want(t, 200, ""); r.str("externalId") != "" {
		t.Fatalf("another source's externalId shown: %s", r.raw)
	}
}

// An IdP's SCIM token manages its own users only: it cannot disable,
// rename or delete a user of another source (a break-glass admin of the
// built-in directory above all), nor can the built-in token touch the IdP's.
func TestSourceTokenCannotChangeAnotherSourcesUsers(t *testing.T) {
	n := newNode(t, "")
	ctx := context.Background()
	now := time.Now().UTC()
	src := store.IdentitySource{IdentityStoreID: n.storeID, ID: "idp-0123456789abcdef", Name: "Okta", Kind: "saml", Enabled: true,
		MFA: "trust", Config: []byte(`{}`), CreatedAt: now, UpdatedAt: now}
	if err := n.store.Write(ctx, func(tx store.Tx) error { return tx.InsertIdentitySource(ctx, src) }); err != nil {
		t.Fatal(err)
	}
	var out struct{ Token string }
	if code := n.admin("CreateScimToken", map[string]any{"IdentityStoreId": n.storeID, "Source": "okta"}, &out); code != "" {
		t.Fatal(code)
	}
	breakGlass := n.do("POST", "/Users", user("breakglass", nil)).want(t, 201, "").str("id")
	fed := n.doWith(out.Token, "POST", "/Users", user("fed", nil)).want(t, 201, "").str("id")
	deactivate := map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"},
		"Operations": []any{map[string]any{"op": "replace", "path": "active", "value": false}}}
	n.doWith(out.Token, "PATCH", "/Users/"+breakGlass, deactivate).want(t, 403, "")
	n.doWith(out.Token, "PUT", "/Users/"+breakGlass, user("breakglass", map[string]any{"active": false})).want(t, 403, "")
	n.doWith(out.Token, "DELETE", "/Users/"+breakGlass, nil).want(t, 403, "")
	n.do("PATCH", "/Users/"+fed, deactivate).want(t, 403, "")
	var u *store.User
	if err := n.store.Read(ctx, func(tx store.Tx) (err error) { u, err = tx.GetUser(ctx, n.storeID, breakGlass); return }); err != nil {
		t.Fatal(err)
	}
	if u.Status != store.UserEnabled {
		t.Fatal("another source's token disabled the break-glass user")
	}
	n.doWith(out.Token, "PATCH", "/Users/"+fed, deactivate).want(t, 200, "")
}

func TestTokensAreStoredOnlyAsTheirHash(t *testing.T) {
	n := newNode(t, "")
	ctx := context.Background()
	var toks []store.ScimToken
	if err := n.store.Read(ctx, func(tx store.Tx) (err error) { toks, err = tx.ListScimTokens(ctx, n.storeID); return }); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(n.token))
	if len(toks) != 1 || toks[0].TokenHash != hex.EncodeToString(sum[:]) || strings.Contains(fmt.Sprintf("%+v", toks[0]), n.token) {
		t.Fatalf("stored token: %+v", toks)
	}
	if len(n.token) < len("atrium-scim-")+64 {
		t.Fatalf("token %q is short", n.token)
	}
}
