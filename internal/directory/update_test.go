package directory

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/atrium-sso/atrium/internal/apierr"
	"github.com/atrium-sso/atrium/internal/store"
)

func ops(pairs ...string) []attributeOperation {
	var out []attributeOperation
	for i := 0; i < len(pairs); i += 2 {
		o := attributeOperation{AttributePath: pairs[i]}
		if pairs[i+1] != "" {
			o.AttributeValue = json.RawMessage(pairs[i+1])
		}
		out = append(out, o)
	}
	return out
}

func testUser() store.User {
	yes := true
	return store.User{IdentityStoreID: "d-1234567890", ID: "1234567890-00000000-0000-4000-8000-000000000001", UserName: "alice", DisplayName: "Alice",
		Status: store.UserEnabled, Profile: store.UserProfile{
			Name:       &store.PersonName{GivenName: "Alice", FamilyName: "Liddell", MiddleName: "P"},
			Emails:     []store.Email{{Value: "alice@example.com", Primary: &yes}},
			Title:      "Explorer",
			Extensions: map[string]json.RawMessage{enterpriseExtension: json.RawMessage(`{"costCenter":"1","department":"Tea"}`)},
		}}
}

// The update engine: paths and documents in the spellings clients send,
// and what it makes of them.
func TestIdentityStoreUserOperations(t *testing.T) {
	s := New(nil, nil)
	no := false
	for _, tc := range []struct {
		name string
		ops  []attributeOperation
		want func(u *store.User)
	}{
		{"replace a sub-attribute", ops("name.givenName", `"Ally"`), func(u *store.User) { u.Profile.Name.GivenName = "Ally" }},
		{"paths ignore case", ops("NAME.GIVENNAME", `"Ally"`, "DisplayName", `"A"`), func(u *store.User) { u.Profile.Name.GivenName, u.DisplayName = "Ally", "A" }},
		{"remove a sub-attribute", ops("name.middleName", ""), func(u *store.User) { u.Profile.Name.MiddleName = "" }},
		{"remove an absent attribute", ops("nickName", ""), func(*store.User) {}},
		{"explicit null removes", ops("title", "null"), func(u *store.User) { u.Profile.Title = "" }},
		{"replace a list, lower camel keys", ops("emails", `[{"value":"a@x","type":"home","primary":false}]`),
			func(u *store.User) { u.Profile.Emails = []store.Email{{Value: "a@x", Type: "home", Primary: &no}} }},
		{"model spelling of keys too", ops("phoneNumbers", `[{"Value":"+1","Type":"work"}]`),
			func(u *store.User) { u.Profile.PhoneNumbers = []store.PhoneNumber{{Value: "+1", Type: "work"}} }},
		{"nulls inside a document are absent", ops("addresses", `[{"locality":"Oxford","region":null}]`),
			func(u *store.User) { u.Profile.Addresses = []store.Address{{Locality: "Oxford"}} }},
		{"replace the whole name", ops("name", `{"givenName":"B","familyName":"C"}`),
			func(u *store.User) { u.Profile.Name = &store.PersonName{GivenName: "B", FamilyName: "C"} }},
		{"later operations see earlier ones", ops("title", `"A"`, "title", "", "title", `"B"`), func(u *store.User) { u.Profile.Title = "B" }},
		{"extension attribute", ops("aws:identitystore:enterprise.costCenter", `"2"`), func(u *store.User) {
			u.Profile.Extensions[enterpriseExtension] = json.RawMessage(`{"costCenter":"2","department":"Tea"}`)
		}},
		{"extension attribute, other case, nested", ops("aws:identitystore:enterprise.Manager.Value", `"bob"`), func(u *store.User) {
			u.Profile.Extensions[enterpriseExtension] = json.RawMessage(`{"costCenter":"1","department":"Tea","manager":{"value":"bob"}}`)
		}},
		{"remove an extension attribute", ops("aws:identitystore:enterprise.department", ""), func(u *store.User) {
			u.Profile.Extensions[enterpriseExtension] = json.RawMessage(`{"costCenter":"1"}`)
		}},
		{"removing its last attribute removes the extension", ops("aws:identitystore:enterprise.department", "", "aws:identitystore:enterprise.costCenter", ""),
			func(u *store.User) { u.Profile.Extensions = nil }},
		{"replace the extension", ops("aws:identitystore:enterprise", `{"Division":"X"}`), func(u *store.User) {
			u.Profile.Extensions[enterpriseExtension] = json.RawMessage(`{"division":"X"}`)
		}},
		{"external ids", ops("externalIds", `[{"issuer":"i","id":"1"},{"issuer":"i","id":"2"}]`), func(u *store.User) {
			u.ExternalIDs = []store.ExternalID{{Issuer: "i", ID: "1"}, {Issuer: "i", ID: "2"}}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, want := testUser(), testUser()
			tc.want(&want)
			if err := s.applyUserOperations(&got, tc.ops); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(normalized(t, got), normalized(t, want)) {
				t.Fatalf("got  %s\nwant %s", normalized(t, got), normalized(t, want))
			}
		})
	}
}

// normalized renders a user with its extension documents re-encoded, so
// that documents equal as JSON compare equal.
func normalized(t *testing.T, u store.User) string {
	for k, v := range u.Profile.Extensions {
		var x any
		if err := json.Unmarshal(v, &x); err != nil {
			t.Fatal(err)
		}
		u.Profile.Extensions[k], _ = json.Marshal(x)
	}
	b, _ := json.Marshal(u)
	return string(b)
}

func TestIdentityStoreUserOperationsRefused(t *testing.T) {
	s := New(nil, nil)
	for name, tc := range map[string]struct {
		ops  []attributeOperation
		want string // in the message
	}{
		"unknown attribute":              {ops("shoeSize", `"9"`), "shoeSize"},
		"read-only":                      {ops("userStatus", `"DISABLED"`), "read-only"},
		"user name":                      {ops("UserName", `"bob"`), "read-only"},
		"extensions by the member name":  {ops("extensions", `{}`), "extensions"},
		"sub-attribute of a list":        {ops("emails.value", `"x"`), "multi-value attribute emails"},
		"unknown sub-attribute":          {ops("name.title", `"x"`), "name.title"},
		"unknown document key":           {ops("emails", `[{"value":"a","display":"A"}]`), "display"},
		"a key given twice":              {ops("name", `{"givenName":"a","GivenName":"b","familyName":"c"}`), "twice"},
		"too many":                       {ops("roles", `[{"value":"a"},{"value":"b"}]`), "roles"},
		"wrong type":                     {ops("title", `5`), "title"},
		"wrong type inside":              {ops("emails", `[{"primary":"yes"}]`), "primary"},
		"empty string":                   {ops("title", `""`), "title"},
		"required removed":               {ops("displayName", ""), "displayName"},
		"required sub-attribute removed": {ops("name.givenName", ""), "name.givenName"},
		"a photo needs a value":          {ops("photos", `[{"type":"x"}]`), "value"},
		"unknown extension":              {ops("aws:identitystore:other", `{"a":"b"}`), "aws:identitystore:other"},
		"unknown extension attribute":    {ops("aws:identitystore:enterprise.shoeSize", `"9"`), "shoeSize"},
		"extension attribute not string": {ops("aws:identitystore:enterprise.costCenter", `5`), "costCenter"},
		"extension not an object":        {ops("aws:identitystore:enterprise", `"x"`), "object"},
		"duplicate external ids":         {ops("externalIds", `[{"issuer":"i","id":"1"},{"issuer":"i","id":"1"}]`), "twice"},
		"external id without issuer":     {ops("externalIds", `[{"id":"1"}]`), "issuer"},
		"valid then invalid":             {ops("title", `"ok"`, "shoeSize", `"9"`), "shoeSize"},
	} {
		u := testUser()
		err := s.applyUserOperations(&u, tc.ops)
		e, ok := apierr.As(err)
		if !ok || e.Code != "ValidationException" || !strings.Contains(e.Message, tc.want) {
			t.Errorf("%s: %v, want a ValidationException mentioning %q", name, err, tc.want)
		}
	}
}

func TestIdentityStoreGroupOperations(t *testing.T) {
	s := New(nil, nil)
	g := store.Group{IdentityStoreID: "d-1234567890", ID: "1234567890-00000000-0000-4000-8000-000000000002", DisplayName: "Devs", Description: "d"}
	if err := s.applyGroupOperations(&g, ops("DISPLAYNAME", `"Engineers"`, "description", "")); err != nil {
		t.Fatal(err)
	}
	if g.DisplayName != "Engineers" || g.Description != "" {
		t.Fatalf("group = %+v", g)
	}
	for name, o := range map[string][]attributeOperation{
		"read-only":        ops("groupId", `"y"`),
		"required removed": ops("displayName", ""),
		"reserved":         ops("displayName", `"Administrator"`),
		"unknown":          ops("members", `[]`),
		"extensions":       ops("aws:identitystore:enterprise", `{}`),
	} {
		if e, ok := apierr.As(s.applyGroupOperations(&g, o)); !ok || e.Code != "ValidationException" {
			t.Errorf("%s: %v", name, e)
		}
	}
}

func TestIdentityStoreExtensionsAreNormalized(t *testing.T) {
	got, err := checkExtension(enterpriseExtension, json.RawMessage(`{"CostCenter":"1","MANAGER":{"Value":"m"}}`))
	if err != nil || string(got) != `{"costCenter":"1","manager":{"value":"m"}}` {
		t.Fatalf("checkExtension = %s, %v", got, err)
	}
	if _, err := checkExtension("aws:identitystore:other", json.RawMessage(`{}`)); err == nil {
		t.Fatal("an unknown extension was accepted")
	}
}
