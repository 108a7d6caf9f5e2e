package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/identitystore"
	"github.com/aws/aws-sdk-go-v2/service/identitystore/document"
	"github.com/aws/aws-sdk-go-v2/service/identitystore/types"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"

	"github.com/atrium-sso/atrium/internal/store"
	"github.com/atrium-sso/atrium/internal/store/sqlite"
)

// directoryIDPattern is AWS's form, the identity store's hex, a dash, a UUID;
// Atrium's UUIDs are version 7, time-ordered (ids.DirectoryResourceID).
var directoryIDPattern = regexp.MustCompile(`^[0-9a-f]{10}-[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// identityStore is the node's identity store id, found as clients find it.
func discoverIdentityStore(t *testing.T, n *node) string {
	t.Helper()
	out, err := ssoadmin.NewFromConfig(n.admin()).ListInstances(ctxT(t), &ssoadmin.ListInstancesInput{})
	if err != nil || len(out.Instances) != 1 {
		t.Fatalf("ListInstances = %+v, %v", out, err)
	}
	return aws.ToString(out.Instances[0].IdentityStoreId)
}

// wantErr checks that err is the API error T and returns it.
func wantErr[T error](t *testing.T, what string, err error) T {
	t.Helper()
	var e T
	if !errors.As(err, &e) {
		t.Fatalf("%s: got %v, want %T", what, err, e)
	}
	return e
}

func wantNotFound(t *testing.T, what string, err error, resourceType types.ResourceType, resourceID string) {
	t.Helper()
	e := wantErr[*types.ResourceNotFoundException](t, what, err)
	if e.ResourceType != resourceType || aws.ToString(e.ResourceId) != resourceID || aws.ToString(e.Message) == "" || aws.ToString(e.RequestId) == "" {
		t.Fatalf("%s: ResourceNotFoundException{Type %q, Id %q, Message %q, RequestId %q}, want type %s id %q", what, e.ResourceType,
			aws.ToString(e.ResourceId), aws.ToString(e.Message), aws.ToString(e.RequestId), resourceType, resourceID)
	}
}

func wantConflict(t *testing.T, what string, err error) {
	t.Helper()
	e := wantErr[*types.ConflictException](t, what, err)
	if e.Reason != types.ConflictExceptionReasonUniquenessConstraintViolation || aws.ToString(e.Message) == "" {
		t.Fatalf("%s: ConflictException{Reason %q, Message %q}", what, e.Reason, aws.ToString(e.Message))
	}
}

func wantValidation(t *testing.T, what string, err error) {
	t.Helper()
	if e := wantErr[*types.ValidationException](t, what, err); aws.ToString(e.Message) == "" {
		t.Fatalf("%s: ValidationException without a message", what)
	}
}

func lazyDoc(v any) document.Interface { return document.NewLazyDocument(v) }

func attrOp(path string, value any) types.AttributeOperation {
	o := types.AttributeOperation{AttributePath: aws.String(path)}
	if value != nil {
		o.AttributeValue = lazyDoc(value)
	}
	return o
}

func byUserName(name string) types.AlternateIdentifier {
	return byAttribute("userName", name)
}

func byAttribute(path, value string) types.AlternateIdentifier {
	return &types.AlternateIdentifierMemberUniqueAttribute{Value: types.UniqueAttribute{AttributePath: aws.String(path), AttributeValue: lazyDoc(value)}}
}

func userMember(userID string) types.MemberId { return &types.MemberIdMemberUserId{Value: userID} }

// decodeDoc turns an object document into plain Go values. (It goes through
// MarshalSmithyDocument: the SDK's UnmarshalSmithyDocument fails on the
// documents its own deserializer makes, "unsupported json type".)
func decodeDoc(t *testing.T, d document.Interface) map[string]any {
	t.Helper()
	b, err := d.MarshalSmithyDocument()
	if err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func minimalUserInput(storeID, name string) *identitystore.CreateUserInput {
	return &identitystore.CreateUserInput{IdentityStoreId: aws.String(storeID), UserName: aws.String(name), DisplayName: aws.String("User " + name),
		Name: &types.Name{GivenName: aws.String("Given"), FamilyName: aws.String("Family")}}
}

func mustCreateUser(t *testing.T, c *identitystore.Client, in *identitystore.CreateUserInput) string {
	t.Helper()
	out, err := c.CreateUser(ctxT(t), in)
	if err != nil {
		t.Fatalf("CreateUser %s: %v", aws.ToString(in.UserName), err)
	}
	if !directoryIDPattern.MatchString(aws.ToString(out.UserId)) || aws.ToString(out.IdentityStoreId) != aws.ToString(in.IdentityStoreId) {
		t.Fatalf("CreateUser = %+v", out)
	}
	return aws.ToString(out.UserId)
}

// Every user operation with the SDK, the whole User shape, and each error as AWS gives it.
func TestIdentityStoreUsers(t *testing.T) {
	backends(t, func(t *testing.T, o nodeOptions) {
		n := startNode(t, o)
		c := identitystore.NewFromConfig(n.admin())
		ctx := ctxT(t)
		storeID := discoverIdentityStore(t, n)
		sid := aws.String(storeID)
		caller := principalARN(t, n)

		// A user with every attribute the model has comes back equal.
		full := &identitystore.CreateUserInput{IdentityStoreId: sid, UserName: aws.String("Alice.Liddell"),
			Name: &types.Name{Formatted: aws.String("Dr Alice P. Liddell Jr"), FamilyName: aws.String("Liddell"), GivenName: aws.String("Alice"),
				MiddleName: aws.String("Pleasance"), HonorificPrefix: aws.String("Dr"), HonorificSuffix: aws.String("Jr")},
			DisplayName: aws.String("Alice Liddell"), NickName: aws.String("Ally"), ProfileUrl: aws.String("https://example.com/alice"),
			Emails: []types.Email{{Value: aws.String("Alice@Example.com"), Type: aws.String("work"), Primary: true}},
			Addresses: []types.Address{{StreetAddress: aws.String("1 Rabbit Hole"), Locality: aws.String("Oxford"), Region: aws.String("Oxon"),
				PostalCode: aws.String("OX1 1AA"), Country: aws.String("GB"), Formatted: aws.String("1 Rabbit Hole, Oxford"), Type: aws.String("home"), Primary: true}},
			PhoneNumbers: []types.PhoneNumber{{Value: aws.String("+44 1865 000000"), Type: aws.String("work"), Primary: true}},
			UserType:     aws.String("Employee"), Title: aws.String("Explorer"), PreferredLanguage: aws.String("en-GB"), Locale: aws.String("en_GB"),
			Timezone: aws.String("Europe/London"),
			Photos: []types.Photo{{Value: aws.String("https://example.com/a.png"), Type: aws.String("photo"), Display: aws.String("Alice"), Primary: true},
				{Value: aws.String("https://example.com/b.png")}},
			Website: aws.String("https://alice.example.com"), Birthdate: aws.String("1852-05-04"),
			Roles: []types.Role{{Value: aws.String("curious"), Type: aws.String("trait"), Primary: true}},
			Extensions: map[string]document.Interface{"aws:identitystore:enterprise": lazyDoc(map[string]any{
				"employeeNumber": "42", "costCenter": "CC-1", "organization": "Wonderland", "division": "Tea", "department": "Hatters",
				"manager": map[string]any{"value": "the-hatter"}})},
		}
		before := time.Now().Add(-time.Second)
		aliceID := mustCreateUser(t, c, full)
		got, err := c.DescribeUser(ctx, &identitystore.DescribeUserInput{IdentityStoreId: sid, UserId: &aliceID, Extensions: []string{"aws:identitystore:enterprise"}})
		if err != nil {
			t.Fatal(err)
		}
		eq := func(field string, got, want any) {
			t.Helper()
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("DescribeUser %s = %#v, want %#v", field, got, want)
			}
		}
		eq("IdentityStoreId", aws.ToString(got.IdentityStoreId), storeID)
		eq("UserId", aws.ToString(got.UserId), aliceID)
		eq("UserName", got.UserName, full.UserName)
		eq("Name", got.Name, full.Name)
		eq("DisplayName", got.DisplayName, full.DisplayName)
		eq("NickName", got.NickName, full.NickName)
		eq("ProfileUrl", got.ProfileUrl, full.ProfileUrl)
		eq("Emails", got.Emails, full.Emails)
		eq("Addresses", got.Addresses, full.Addresses)
		eq("PhoneNumbers", got.PhoneNumbers, full.PhoneNumbers)
		eq("UserType", got.UserType, full.UserType)
		eq("Title", got.Title, full.Title)
		eq("PreferredLanguage", got.PreferredLanguage, full.PreferredLanguage)
		eq("Locale", got.Locale, full.Locale)
		eq("Timezone", got.Timezone, full.Timezone)
		eq("Photos", got.Photos, full.Photos)
		eq("Website", got.Website, full.Website)
		eq("Birthdate", got.Birthdate, full.Birthdate)
		eq("Roles", got.Roles, full.Roles)
		eq("UserStatus", got.UserStatus, types.UserStatusEnabled)
		eq("ExternalIds", len(got.ExternalIds), 0)
		eq("CreatedBy", aws.ToString(got.CreatedBy), caller)
		eq("UpdatedBy", aws.ToString(got.UpdatedBy), caller)
		if got.CreatedAt == nil || got.CreatedAt.Before(before) || got.CreatedAt.After(time.Now().Add(time.Second)) || !got.UpdatedAt.Equal(*got.CreatedAt) {
			t.Fatalf("CreatedAt %v, UpdatedAt %v", got.CreatedAt, got.UpdatedAt)
		}
		if len(got.Extensions) != 1 {
			t.Fatalf("Extensions = %v", got.Extensions)
		}
		eq("Extensions", decodeDoc(t, got.Extensions["aws:identitystore:enterprise"]), decodeDoc(t, full.Extensions["aws:identitystore:enterprise"]))
		// Extensions come back only when asked for.
		plain, err := c.DescribeUser(ctx, &identitystore.DescribeUserInput{IdentityStoreId: sid, UserId: &aliceID})
		if err != nil || plain.Extensions != nil || aws.ToString(plain.Title) != "Explorer" {
			t.Fatalf("DescribeUser without Extensions = %+v, %v", plain, err)
		}

		// What Identity Center requires, and what the model forbids.
		for name, in := range map[string]*identitystore.CreateUserInput{
			"no display name": {IdentityStoreId: sid, UserName: aws.String("x1"), Name: &types.Name{GivenName: aws.String("G"), FamilyName: aws.String("F")}},
			"no name":         {IdentityStoreId: sid, UserName: aws.String("x2"), DisplayName: aws.String("X")},
			"no family name":  {IdentityStoreId: sid, UserName: aws.String("x3"), DisplayName: aws.String("X"), Name: &types.Name{GivenName: aws.String("G")}},
			"no user name":    {IdentityStoreId: sid, DisplayName: aws.String("X"), Name: &types.Name{GivenName: aws.String("G"), FamilyName: aws.String("F")}},
			"reserved name":   minimalUserInput(storeID, "Administrator"),
			"two emails": func() *identitystore.CreateUserInput {
				in := minimalUserInput(storeID, "x4")
				in.Emails = []types.Email{{Value: aws.String("a@x")}, {Value: aws.String("b@x")}}
				return in
			}(),
			"two phone numbers": func() *identitystore.CreateUserInput {
				in := minimalUserInput(storeID, "x5")
				in.PhoneNumbers = make([]types.PhoneNumber, 2)
				return in
			}(),
			"unknown extension": func() *identitystore.CreateUserInput {
				in := minimalUserInput(storeID, "x6")
				in.Extensions = map[string]document.Interface{"aws:identitystore:other": lazyDoc(map[string]any{"a": "b"})}
				return in
			}(),
			"unknown enterprise attribute": func() *identitystore.CreateUserInput {
				in := minimalUserInput(storeID, "x7")
				in.Extensions = map[string]document.Interface{"aws:identitystore:enterprise": lazyDoc(map[string]any{"shoeSize": "9"})}
				return in
			}(),
		} {
			_, err := c.CreateUser(ctx, in)
			wantValidation(t, name, err)
		}
		_, err = c.CreateUser(ctx, minimalUserInput(storeID, "ALICE.liddell"))
		wantConflict(t, "CreateUser with a taken user name in another case", err)

		// GetUserId: by user name in any case and either path spelling, by email, by external id.
		for _, alt := range []types.AlternateIdentifier{byUserName("alice.LIDDELL"), byAttribute("UserName", "Alice.Liddell"), byAttribute("emails.value", "alice@example.COM")} {
			out, err := c.GetUserId(ctx, &identitystore.GetUserIdInput{IdentityStoreId: sid, AlternateIdentifier: alt})
			if err != nil || aws.ToString(out.UserId) != aliceID || aws.ToString(out.IdentityStoreId) != storeID {
				t.Fatalf("GetUserId(%#v) = %+v, %v", alt, out, err)
			}
		}
		_, err = c.GetUserId(ctx, &identitystore.GetUserIdInput{IdentityStoreId: sid, AlternateIdentifier: byUserName("nobody")})
		wantNotFound(t, "GetUserId of nobody", err, types.ResourceTypeUser, "")
		_, err = c.GetUserId(ctx, &identitystore.GetUserIdInput{IdentityStoreId: sid, AlternateIdentifier: byAttribute("displayName", "Alice Liddell")})
		wantValidation(t, "GetUserId by a non-unique attribute", err)

		// UpdateUser: replace, add and remove, sub-attributes, whole multi-valued attributes, extensions.
		bobID := mustCreateUser(t, c, minimalUserInput(storeID, "bob"))
		time.Sleep(5 * time.Millisecond) // UpdatedAt must move
		_, err = c.UpdateUser(ctx, &identitystore.UpdateUserInput{IdentityStoreId: sid, UserId: &bobID, Operations: []types.AttributeOperation{
			attrOp("name.givenName", "Robert"),
			attrOp("displayName", "Robert Family"),
			attrOp("nickName", "Bob"),
			attrOp("emails", []any{map[string]any{"value": "bob@example.com", "type": "work", "primary": true}}),
			attrOp("Title", "Builder"), // paths ignore case, as SCIM's do
			attrOp("addresses", []any{map[string]any{"streetAddress": "2 Lane", "postalCode": "12345"}}),
			attrOp("aws:identitystore:enterprise.costCenter", "CC-7"),
			attrOp("externalIds", []any{map[string]any{"issuer": "https://idp.example.com", "id": "bob-1"}}),
		}})
		if err != nil {
			t.Fatal(err)
		}
		bob, err := c.DescribeUser(ctx, &identitystore.DescribeUserInput{IdentityStoreId: sid, UserId: &bobID, Extensions: []string{"aws:identitystore:enterprise"}})
		if err != nil {
			t.Fatal(err)
		}
		if aws.ToString(bob.Name.GivenName) != "Robert" || aws.ToString(bob.Name.FamilyName) != "Family" || aws.ToString(bob.DisplayName) != "Robert Family" ||
			aws.ToString(bob.NickName) != "Bob" || aws.ToString(bob.Title) != "Builder" || len(bob.Emails) != 1 ||
			!reflect.DeepEqual(bob.Emails[0], types.Email{Value: aws.String("bob@example.com"), Type: aws.String("work"), Primary: true}) ||
			aws.ToString(bob.Addresses[0].PostalCode) != "12345" || aws.ToString(bob.UserName) != "bob" ||
			len(bob.ExternalIds) != 1 || aws.ToString(bob.ExternalIds[0].Id) != "bob-1" {
			t.Fatalf("after UpdateUser: %+v", bob)
		}
		eq("extension after update", decodeDoc(t, bob.Extensions["aws:identitystore:enterprise"]), map[string]any{"costCenter": "CC-7"})
		if !bob.UpdatedAt.After(*bob.CreatedAt) || aws.ToString(bob.UpdatedBy) != caller {
			t.Fatalf("UpdatedAt %v (created %v), UpdatedBy %q", bob.UpdatedAt, bob.CreatedAt, aws.ToString(bob.UpdatedBy))
		}
		out, err := c.GetUserId(ctx, &identitystore.GetUserIdInput{IdentityStoreId: sid,
			AlternateIdentifier: &types.AlternateIdentifierMemberExternalId{Value: types.ExternalId{Issuer: aws.String("https://idp.example.com"), Id: aws.String("bob-1")}}})
		if err != nil || aws.ToString(out.UserId) != bobID {
			t.Fatalf("GetUserId by external id = %+v, %v", out, err)
		}
		_, err = c.GetUserId(ctx, &identitystore.GetUserIdInput{IdentityStoreId: sid,
			AlternateIdentifier: &types.AlternateIdentifierMemberExternalId{Value: types.ExternalId{Issuer: aws.String("https://idp.example.com"), Id: aws.String("BOB-1")}}})
		wantNotFound(t, "GetUserId by an external id in another case", err, types.ResourceTypeUser, "")
		_, err = c.UpdateUser(ctx, &identitystore.UpdateUserInput{IdentityStoreId: sid, UserId: &aliceID, Operations: []types.AttributeOperation{
			attrOp("externalIds", []any{map[string]any{"Issuer": "https://idp.example.com", "Id": "bob-1"}})}})
		wantConflict(t, "an external id another user holds", err)

		// Removing: an operation without a value.
		_, err = c.UpdateUser(ctx, &identitystore.UpdateUserInput{IdentityStoreId: sid, UserId: &bobID, Operations: []types.AttributeOperation{
			attrOp("nickName", nil), attrOp("emails", nil), attrOp("aws:identitystore:enterprise", nil), attrOp("name.middleName", nil)}})
		if err != nil {
			t.Fatal(err)
		}
		bob, _ = c.DescribeUser(ctx, &identitystore.DescribeUserInput{IdentityStoreId: sid, UserId: &bobID, Extensions: []string{"aws:identitystore:enterprise"}})
		if bob.NickName != nil || bob.Emails != nil || bob.Extensions != nil || aws.ToString(bob.Title) != "Builder" {
			t.Fatalf("after removals: %+v", bob)
		}
		_, err = c.GetUserId(ctx, &identitystore.GetUserIdInput{IdentityStoreId: sid, AlternateIdentifier: byAttribute("emails.value", "bob@example.com")})
		wantNotFound(t, "GetUserId by a removed email", err, types.ResourceTypeUser, "")

		// Refused operations; each refusal leaves the user as it was, even the valid operations before it.
		for name, ops := range map[string][]types.AttributeOperation{
			"unknown path":              {attrOp("shoeSize", "9")},
			"read-only userStatus":      {attrOp("userStatus", "DISABLED")},
			"read-only id":              {attrOp("userId", "x")},
			"read-only createdAt":       {attrOp("createdAt", 5)},
			"read-only userName":        {attrOp("userName", "robert")},
			"sub-attribute of a list":   {attrOp("emails.value", "x@example.com")},
			"unknown sub-attribute":     {attrOp("name.nickName", "x")},
			"sub-attribute of a string": {attrOp("title.value", "x")},
			"removing displayName":      {attrOp("displayName", nil)},
			"removing name.familyName":  {attrOp("name.familyName", nil)},
			"removing the name":         {attrOp("name", nil)},
			"wrong type":                {attrOp("displayName", 5)},
			"empty string":              {attrOp("title", "")},
			"two emails":                {attrOp("emails", []any{map[string]any{"value": "a@x"}, map[string]any{"value": "b@x"}})},
			"unknown email attribute":   {attrOp("emails", []any{map[string]any{"value": "a@x", "display": "A"}})},
			"unknown extension":         {attrOp("aws:identitystore:other", map[string]any{"a": "b"})},
			"valid then invalid":        {attrOp("title", "Changed"), attrOp("displayName", "Changed"), attrOp("shoeSize", "9")},
		} {
			_, err := c.UpdateUser(ctx, &identitystore.UpdateUserInput{IdentityStoreId: sid, UserId: &bobID, Operations: ops})
			wantValidation(t, "UpdateUser "+name, err)
		}
		after, _ := c.DescribeUser(ctx, &identitystore.DescribeUserInput{IdentityStoreId: sid, UserId: &bobID})
		if aws.ToString(after.Title) != "Builder" || aws.ToString(after.DisplayName) != "Robert Family" || !after.UpdatedAt.Equal(*bob.UpdatedAt) {
			t.Fatalf("a refused update changed the user: %+v", after)
		}

		// Unknown ids and stores.
		missing := storeID[2:] + "-00000000-0000-4000-8000-000000000000"
		_, err = c.DescribeUser(ctx, &identitystore.DescribeUserInput{IdentityStoreId: sid, UserId: &missing})
		wantNotFound(t, "DescribeUser of a missing user", err, types.ResourceTypeUser, missing)
		_, err = c.UpdateUser(ctx, &identitystore.UpdateUserInput{IdentityStoreId: sid, UserId: &missing, Operations: []types.AttributeOperation{attrOp("title", "x")}})
		wantNotFound(t, "UpdateUser of a missing user", err, types.ResourceTypeUser, missing)
		_, err = c.DescribeUser(ctx, &identitystore.DescribeUserInput{IdentityStoreId: aws.String("d-0000000000"), UserId: &aliceID})
		wantNotFound(t, "an unknown identity store", err, types.ResourceTypeIdentityStore, "d-0000000000")
		_, err = c.CreateUser(ctx, minimalUserInput("d-0000000000", "carol"))
		wantNotFound(t, "CreateUser in an unknown identity store", err, types.ResourceTypeIdentityStore, "d-0000000000")
		_, err = c.ListUsers(ctx, &identitystore.ListUsersInput{IdentityStoreId: aws.String("d-0000000000")})
		wantNotFound(t, "ListUsers of an unknown identity store", err, types.ResourceTypeIdentityStore, "d-0000000000")
		_, err = c.DescribeUser(ctx, &identitystore.DescribeUserInput{IdentityStoreId: sid, UserId: aws.String("not-an-id")})
		wantValidation(t, "a malformed user id", err)

		// ListUsers: pages of one walk every user once; the deprecated filter still works.
		want := map[string]bool{aliceID: true, bobID: true}
		for i := 0; i < 4; i++ {
			want[mustCreateUser(t, c, minimalUserInput(storeID, fmt.Sprintf("walker%d", i)))] = true
		}
		seen := map[string]bool{}
		pages := 0
		p := identitystore.NewListUsersPaginator(c, &identitystore.ListUsersInput{IdentityStoreId: sid, MaxResults: aws.Int32(1)})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			pages++
			if len(page.Users) > 1 {
				t.Fatalf("a page of %d users with MaxResults 1", len(page.Users))
			}
			for _, u := range page.Users {
				if seen[aws.ToString(u.UserId)] {
					t.Fatalf("user %s listed twice", aws.ToString(u.UserId))
				}
				seen[aws.ToString(u.UserId)] = true
				if u.UserStatus != types.UserStatusEnabled || u.Extensions != nil || aws.ToString(u.IdentityStoreId) != storeID {
					t.Fatalf("listed user %+v", u)
				}
			}
		}
		if !reflect.DeepEqual(seen, want) || pages < len(want) {
			t.Fatalf("the walk saw %d users in %d pages, want %d", len(seen), pages, len(want))
		}
		filtered, err := c.ListUsers(ctx, &identitystore.ListUsersInput{IdentityStoreId: sid, Extensions: []string{"aws:identitystore:enterprise"},
			Filters: []types.Filter{{AttributePath: aws.String("UserName"), AttributeValue: aws.String("alice.liddell")}}})
		if err != nil || len(filtered.Users) != 1 || aws.ToString(filtered.Users[0].UserId) != aliceID || filtered.Users[0].Extensions == nil || filtered.NextToken != nil {
			t.Fatalf("ListUsers filtered by UserName = %+v, %v", filtered, err)
		}
		_, err = c.ListUsers(ctx, &identitystore.ListUsersInput{IdentityStoreId: sid, MaxResults: aws.Int32(101)})
		wantValidation(t, "MaxResults 101", err)
		_, err = c.ListUsers(ctx, &identitystore.ListUsersInput{IdentityStoreId: sid, NextToken: aws.String("forged")})
		wantValidation(t, "a forged NextToken", err)

		// DeleteUser: gone, and a second delete is not found.
		if _, err := c.DeleteUser(ctx, &identitystore.DeleteUserInput{IdentityStoreId: sid, UserId: &aliceID}); err != nil {
			t.Fatal(err)
		}
		_, err = c.DescribeUser(ctx, &identitystore.DescribeUserInput{IdentityStoreId: sid, UserId: &aliceID})
		wantNotFound(t, "DescribeUser of a deleted user", err, types.ResourceTypeUser, aliceID)
		_, err = c.DeleteUser(ctx, &identitystore.DeleteUserInput{IdentityStoreId: sid, UserId: &aliceID})
		wantNotFound(t, "a second DeleteUser", err, types.ResourceTypeUser, aliceID)
		// Its name is free again.
		mustCreateUser(t, c, minimalUserInput(storeID, "alice.liddell"))
	})
}

// Groups and memberships with the SDK: uniqueness, lookups, paging, the
// membership checks and the cascades of deleting users and groups.
func TestIdentityStoreGroupsAndMemberships(t *testing.T) {
	backends(t, func(t *testing.T, o nodeOptions) {
		n := startNode(t, o)
		c := identitystore.NewFromConfig(n.admin())
		ctx := ctxT(t)
		storeID := discoverIdentityStore(t, n)
		sid := aws.String(storeID)
		caller := principalARN(t, n)

		createGroup := func(name, description string) string {
			t.Helper()
			in := &identitystore.CreateGroupInput{IdentityStoreId: sid, DisplayName: aws.String(name)}
			if description != "" {
				in.Description = aws.String(description)
			}
			out, err := c.CreateGroup(ctx, in)
			if err != nil {
				t.Fatalf("CreateGroup %s: %v", name, err)
			}
			if !directoryIDPattern.MatchString(aws.ToString(out.GroupId)) {
				t.Fatalf("GroupId %q", aws.ToString(out.GroupId))
			}
			return aws.ToString(out.GroupId)
		}
		devs := createGroup("Developers", "people who ship")
		ops := createGroup("Operators", "people who run")
		_, err := c.CreateGroup(ctx, &identitystore.CreateGroupInput{IdentityStoreId: sid, DisplayName: aws.String("DEVELOPERS")})
		wantConflict(t, "CreateGroup with a taken display name in another case", err)
		_, err = c.CreateGroup(ctx, &identitystore.CreateGroupInput{IdentityStoreId: sid})
		wantValidation(t, "CreateGroup without a display name", err)
		_, err = c.CreateGroup(ctx, &identitystore.CreateGroupInput{IdentityStoreId: sid, DisplayName: aws.String("AWSAdministrators")})
		wantValidation(t, "CreateGroup with a reserved name", err)

		g, err := c.DescribeGroup(ctx, &identitystore.DescribeGroupInput{IdentityStoreId: sid, GroupId: &devs})
		if err != nil || aws.ToString(g.DisplayName) != "Developers" || aws.ToString(g.Description) != "people who ship" || aws.ToString(g.CreatedBy) != caller ||
			g.CreatedAt == nil || aws.ToString(g.IdentityStoreId) != storeID {
			t.Fatalf("DescribeGroup = %+v, %v", g, err)
		}
		got, err := c.GetGroupId(ctx, &identitystore.GetGroupIdInput{IdentityStoreId: sid, AlternateIdentifier: byAttribute("DisplayName", "developers")})
		if err != nil || aws.ToString(got.GroupId) != devs {
			t.Fatalf("GetGroupId by display name = %+v, %v", got, err)
		}
		_, err = c.GetGroupId(ctx, &identitystore.GetGroupIdInput{IdentityStoreId: sid, AlternateIdentifier: byAttribute("displayName", "Nobody")})
		wantNotFound(t, "GetGroupId of a missing group", err, types.ResourceTypeGroup, "")

		// UpdateGroup: rename, describe, external ids; a taken name and read-only paths are refused.
		time.Sleep(5 * time.Millisecond)
		_, err = c.UpdateGroup(ctx, &identitystore.UpdateGroupInput{IdentityStoreId: sid, GroupId: &devs, Operations: []types.AttributeOperation{
			attrOp("displayName", "Engineers"), attrOp("description", nil), attrOp("externalIds", []any{map[string]any{"issuer": "scim", "id": "g-1"}})}})
		if err != nil {
			t.Fatal(err)
		}
		g, _ = c.DescribeGroup(ctx, &identitystore.DescribeGroupInput{IdentityStoreId: sid, GroupId: &devs})
		if aws.ToString(g.DisplayName) != "Engineers" || g.Description != nil || len(g.ExternalIds) != 1 || !g.UpdatedAt.After(*g.CreatedAt) {
			t.Fatalf("after UpdateGroup: %+v", g)
		}
		got, err = c.GetGroupId(ctx, &identitystore.GetGroupIdInput{IdentityStoreId: sid,
			AlternateIdentifier: &types.AlternateIdentifierMemberExternalId{Value: types.ExternalId{Issuer: aws.String("scim"), Id: aws.String("g-1")}}})
		if err != nil || aws.ToString(got.GroupId) != devs {
			t.Fatalf("GetGroupId by external id = %+v, %v", got, err)
		}
		_, err = c.UpdateGroup(ctx, &identitystore.UpdateGroupInput{IdentityStoreId: sid, GroupId: &ops, Operations: []types.AttributeOperation{attrOp("displayName", "ENGINEERS")}})
		wantConflict(t, "renaming onto a taken display name", err)
		for name, o := range map[string]types.AttributeOperation{
			"read-only groupId": attrOp("groupId", "x"), "unknown path": attrOp("members", "x"), "removing displayName": attrOp("displayName", nil),
		} {
			_, err = c.UpdateGroup(ctx, &identitystore.UpdateGroupInput{IdentityStoreId: sid, GroupId: &ops, Operations: []types.AttributeOperation{o}})
			wantValidation(t, "UpdateGroup "+name, err)
		}

		// Memberships.
		alice := mustCreateUser(t, c, minimalUserInput(storeID, "alice"))
		bob := mustCreateUser(t, c, minimalUserInput(storeID, "bob"))
		join := func(group, user string) string {
			t.Helper()
			out, err := c.CreateGroupMembership(ctx, &identitystore.CreateGroupMembershipInput{IdentityStoreId: sid, GroupId: &group, MemberId: userMember(user)})
			if err != nil {
				t.Fatalf("CreateGroupMembership: %v", err)
			}
			if !directoryIDPattern.MatchString(aws.ToString(out.MembershipId)) || aws.ToString(out.IdentityStoreId) != storeID {
				t.Fatalf("CreateGroupMembership = %+v", out)
			}
			return aws.ToString(out.MembershipId)
		}
		aliceDevs := join(devs, alice)
		aliceOps := join(ops, alice)
		bobDevs := join(devs, bob)
		bobOps := join(ops, bob)
		_, err = c.CreateGroupMembership(ctx, &identitystore.CreateGroupMembershipInput{IdentityStoreId: sid, GroupId: &devs, MemberId: userMember(alice)})
		wantConflict(t, "a second membership of the same user in the same group", err)
		missing := storeID[2:] + "-00000000-0000-4000-8000-000000000000"
		_, err = c.CreateGroupMembership(ctx, &identitystore.CreateGroupMembershipInput{IdentityStoreId: sid, GroupId: &devs, MemberId: userMember(missing)})
		wantNotFound(t, "a membership of a missing user", err, types.ResourceTypeUser, missing)
		_, err = c.CreateGroupMembership(ctx, &identitystore.CreateGroupMembershipInput{IdentityStoreId: sid, GroupId: &missing, MemberId: userMember(alice)})
		wantNotFound(t, "a membership in a missing group", err, types.ResourceTypeGroup, missing)

		m, err := c.DescribeGroupMembership(ctx, &identitystore.DescribeGroupMembershipInput{IdentityStoreId: sid, MembershipId: &aliceDevs})
		if err != nil || aws.ToString(m.GroupId) != devs || m.MemberId.(*types.MemberIdMemberUserId).Value != alice || aws.ToString(m.CreatedBy) != caller || m.CreatedAt == nil {
			t.Fatalf("DescribeGroupMembership = %+v, %v", m, err)
		}
		_, err = c.DescribeGroupMembership(ctx, &identitystore.DescribeGroupMembershipInput{IdentityStoreId: sid, MembershipId: &missing})
		wantNotFound(t, "DescribeGroupMembership of a missing membership", err, types.ResourceTypeGroupMembership, missing)
		id, err := c.GetGroupMembershipId(ctx, &identitystore.GetGroupMembershipIdInput{IdentityStoreId: sid, GroupId: &ops, MemberId: userMember(bob)})
		if err != nil || aws.ToString(id.MembershipId) != bobOps {
			t.Fatalf("GetGroupMembershipId = %+v, %v", id, err)
		}
		_, err = c.GetGroupMembershipId(ctx, &identitystore.GetGroupMembershipIdInput{IdentityStoreId: sid, GroupId: &missing, MemberId: userMember(bob)})
		wantNotFound(t, "GetGroupMembershipId in a missing group", err, types.ResourceTypeGroup, missing)

		// Listing a group's memberships a page of one at a time.
		var listed []string
		lp := identitystore.NewListGroupMembershipsPaginator(c, &identitystore.ListGroupMembershipsInput{IdentityStoreId: sid, GroupId: &devs, MaxResults: aws.Int32(1)})
		for lp.HasMorePages() {
			page, err := lp.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range page.GroupMemberships {
				listed = append(listed, aws.ToString(m.MembershipId))
			}
		}
		if len(listed) != 2 || !sameStrings(listed, []string{aliceDevs, bobDevs}) {
			t.Fatalf("ListGroupMemberships walked %v", listed)
		}
		_, err = c.ListGroupMemberships(ctx, &identitystore.ListGroupMembershipsInput{IdentityStoreId: sid, GroupId: &missing})
		wantNotFound(t, "ListGroupMemberships of a missing group", err, types.ResourceTypeGroup, missing)
		forAlice := membershipsOf(t, c, storeID, alice)
		if !sameStrings(forAlice, []string{aliceDevs, aliceOps}) {
			t.Fatalf("ListGroupMembershipsForMember(alice) = %v", forAlice)
		}

		// IsMemberInGroups answers each group asked, in order.
		in, err := c.IsMemberInGroups(ctx, &identitystore.IsMemberInGroupsInput{IdentityStoreId: sid, MemberId: userMember(bob), GroupIds: []string{ops, missing, devs}})
		if err != nil || len(in.Results) != 3 {
			t.Fatalf("IsMemberInGroups = %+v, %v", in, err)
		}
		for i, want := range []struct {
			group  string
			exists bool
		}{{ops, true}, {missing, false}, {devs, true}} {
			r := in.Results[i]
			if aws.ToString(r.GroupId) != want.group || r.MembershipExists != want.exists || r.MemberId.(*types.MemberIdMemberUserId).Value != bob {
				t.Fatalf("IsMemberInGroups result %d = %+v, want %+v", i, r, want)
			}
		}
		_, err = c.IsMemberInGroups(ctx, &identitystore.IsMemberInGroupsInput{IdentityStoreId: sid, MemberId: userMember(bob), GroupIds: []string{}})
		wantValidation(t, "IsMemberInGroups without groups", err)

		// DeleteGroupMembership.
		if _, err := c.DeleteGroupMembership(ctx, &identitystore.DeleteGroupMembershipInput{IdentityStoreId: sid, MembershipId: &bobOps}); err != nil {
			t.Fatal(err)
		}
		_, err = c.DeleteGroupMembership(ctx, &identitystore.DeleteGroupMembershipInput{IdentityStoreId: sid, MembershipId: &bobOps})
		wantNotFound(t, "a second DeleteGroupMembership", err, types.ResourceTypeGroupMembership, bobOps)
		_, err = c.GetGroupMembershipId(ctx, &identitystore.GetGroupMembershipIdInput{IdentityStoreId: sid, GroupId: &ops, MemberId: userMember(bob)})
		wantNotFound(t, "GetGroupMembershipId of a deleted membership", err, types.ResourceTypeGroupMembership, "")

		// Deleting a user deletes its memberships; deleting a group deletes its own.
		if _, err := c.DeleteUser(ctx, &identitystore.DeleteUserInput{IdentityStoreId: sid, UserId: &alice}); err != nil {
			t.Fatal(err)
		}
		for _, m := range []string{aliceDevs, aliceOps} {
			_, err = c.DescribeGroupMembership(ctx, &identitystore.DescribeGroupMembershipInput{IdentityStoreId: sid, MembershipId: &m})
			wantNotFound(t, "a membership of a deleted user", err, types.ResourceTypeGroupMembership, m)
		}
		if left := membershipsOfGroup(t, c, storeID, devs); !sameStrings(left, []string{bobDevs}) {
			t.Fatalf("Developers after deleting alice: %v", left)
		}
		_, err = c.ListGroupMembershipsForMember(ctx, &identitystore.ListGroupMembershipsForMemberInput{IdentityStoreId: sid, MemberId: userMember(alice)})
		wantNotFound(t, "memberships of a deleted user", err, types.ResourceTypeUser, alice)
		if _, err := c.DeleteGroup(ctx, &identitystore.DeleteGroupInput{IdentityStoreId: sid, GroupId: &devs}); err != nil {
			t.Fatal(err)
		}
		if left := membershipsOf(t, c, storeID, bob); len(left) != 0 {
			t.Fatalf("bob's memberships after deleting the group: %v", left)
		}
		_, err = c.DescribeGroup(ctx, &identitystore.DescribeGroupInput{IdentityStoreId: sid, GroupId: &devs})
		wantNotFound(t, "DescribeGroup of a deleted group", err, types.ResourceTypeGroup, devs)
		_, err = c.DeleteGroup(ctx, &identitystore.DeleteGroupInput{IdentityStoreId: sid, GroupId: &devs})
		wantNotFound(t, "a second DeleteGroup", err, types.ResourceTypeGroup, devs)

		// ListGroups pages and filter.
		for i := 0; i < 3; i++ {
			createGroup(fmt.Sprintf("team-%d", i), "")
		}
		var names []string
		gp := identitystore.NewListGroupsPaginator(c, &identitystore.ListGroupsInput{IdentityStoreId: sid, MaxResults: aws.Int32(1)})
		for gp.HasMorePages() {
			page, err := gp.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, g := range page.Groups {
				names = append(names, aws.ToString(g.DisplayName))
			}
		}
		if !sameStrings(names, []string{"Operators", "team-0", "team-1", "team-2"}) {
			t.Fatalf("ListGroups walked %v", names)
		}
		filtered, err := c.ListGroups(ctx, &identitystore.ListGroupsInput{IdentityStoreId: sid,
			Filters: []types.Filter{{AttributePath: aws.String("DisplayName"), AttributeValue: aws.String("TEAM-1")}}})
		if err != nil || len(filtered.Groups) != 1 || aws.ToString(filtered.Groups[0].DisplayName) != "team-1" {
			t.Fatalf("ListGroups filtered = %+v, %v", filtered, err)
		}
		_, err = c.ListGroups(ctx, &identitystore.ListGroupsInput{IdentityStoreId: sid,
			Filters: []types.Filter{{AttributePath: aws.String("Description"), AttributeValue: aws.String("x")}}})
		wantValidation(t, "ListGroups filtered on another attribute", err)
		_, err = c.CreateGroup(ctx, &identitystore.CreateGroupInput{IdentityStoreId: aws.String("d-0000000000"), DisplayName: aws.String("x")})
		wantNotFound(t, "CreateGroup in an unknown identity store", err, types.ResourceTypeIdentityStore, "d-0000000000")
	})
}

func sameStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	seen := map[string]int{}
	for _, x := range a {
		seen[x]++
	}
	for _, x := range b {
		seen[x]--
	}
	for _, v := range seen {
		if v != 0 {
			return false
		}
	}
	return true
}

func membershipsOf(t *testing.T, c *identitystore.Client, storeID, userID string) []string {
	t.Helper()
	var ids []string
	p := identitystore.NewListGroupMembershipsForMemberPaginator(c, &identitystore.ListGroupMembershipsForMemberInput{IdentityStoreId: &storeID,
		MemberId: userMember(userID), MaxResults: aws.Int32(1)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctxT(t))
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range page.GroupMemberships {
			ids = append(ids, aws.ToString(m.MembershipId))
		}
	}
	return ids
}

func membershipsOfGroup(t *testing.T, c *identitystore.Client, storeID, groupID string) []string {
	t.Helper()
	out, err := c.ListGroupMemberships(ctxT(t), &identitystore.ListGroupMembershipsInput{IdentityStoreId: &storeID, GroupId: &groupID})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, m := range out.GroupMemberships {
		ids = append(ids, aws.ToString(m.MembershipId))
	}
	return ids
}

// callerARN is the admin's principal ARN, as CreatedBy records it.
func principalARN(t *testing.T, n *node) string {
	t.Helper()
	id, err := n.sts().GetCallerIdentity(ctxT(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(id.Arn)
}

// Directory changes are audited with their parameters' secrets hidden, and
// only admin principals may call the API.
func TestIdentityStoreAuditAndAccess(t *testing.T) {
	n := startNode(t, nodeOptions{})
	c := identitystore.NewFromConfig(n.admin())
	storeID := discoverIdentityStore(t, n)
	userID := mustCreateUser(t, c, minimalUserInput(storeID, "audited.user"))
	c.DeleteGroup(ctxT(t), &identitystore.DeleteGroupInput{IdentityStoreId: &storeID, GroupId: aws.String(storeID[2:] + "-00000000-0000-4000-8000-000000000000")})
	c.DescribeUser(ctxT(t), &identitystore.DescribeUserInput{IdentityStoreId: &storeID, UserId: &userID})
	if err := n.stop(); err != nil {
		t.Fatal(err)
	}
	db, err := sqlite.Open(ctxT(t), filepath.Join(n.Data, "atrium.db"))
	if err != nil {
		t.Fatal(err)
	}
	var events []store.AuditEvent
	err = db.Write(ctxT(t), func(tx store.Tx) error {
		if events, err = tx.ListAudit(ctxT(t), store.AuditCursor{}, 100); err != nil {
			return err
		}
		// A principal that is not an admin, for the second half.
		return tx.PutAccessKey(context.Background(), store.AccessKey{ID: "AKIAEXAMPLENOTADMIN1", Secret: "not-an-admin-secret-not-an-admin-secret0",
			AccountID: "123456789012", PrincipalARN: "arn:aws:iam::123456789012:user/visitor", UserID: "AIDAEXAMPLE", Status: "Active", CreatedAt: time.Now()})
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]store.AuditEvent{}
	for _, e := range events {
		byName[e.EventName] = e
	}
	create, ok := byName["CreateUser"]
	if !ok || create.Source != "identitystore.amazonaws.com" || create.ErrorCode != "" || strings.Contains(create.RequestParams, "audited.user") ||
		!strings.Contains(create.RequestParams, storeID) {
		t.Fatalf("CreateUser record = %+v", create)
	}
	if del, ok := byName["DeleteGroup"]; !ok || del.ErrorCode != "ResourceNotFoundException" {
		t.Fatalf("failed DeleteGroup record = %+v", del)
	}
	if _, ok := byName["DescribeUser"]; ok {
		t.Fatal("a read was audited as a change")
	}

	n2 := startNode(t, nodeOptions{data: n.Data})
	visitor := identitystore.NewFromConfig(n2.awsConfig("AKIAEXAMPLENOTADMIN1", "not-an-admin-secret-not-an-admin-secret0"))
	_, err = visitor.ListUsers(ctxT(t), &identitystore.ListUsersInput{IdentityStoreId: &storeID})
	if e := wantErr[*types.AccessDeniedException](t, "ListUsers by a non-admin", err); !strings.Contains(aws.ToString(e.Message), "identitystore:ListUsers") {
		t.Fatalf("AccessDeniedException message %q", aws.ToString(e.Message))
	}
	if _, err := identitystore.NewFromConfig(n2.admin()).DescribeUser(ctxT(t), &identitystore.DescribeUserInput{IdentityStoreId: &storeID, UserId: &userID}); err != nil {
		t.Fatalf("the user survived a restart: %v", err)
	}
}
