package access_test

import (
	"context"
	"encoding/json"
	"maps"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/atrium-sso/atrium/internal/access"
	"github.com/atrium-sso/atrium/internal/store"
	"github.com/atrium-sso/atrium/internal/store/sqlite"
)

func TestSessionTagsFromAttributesAndAssertions(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "atrium.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(ctx, nil); err != nil {
		t.Fatal(err)
	}
	const instance = "arn:aws:sso:::instance/ssoins-0123456789abcdef"
	u := &store.User{UserName: "ann@example.com", DisplayName: "Ann", Profile: store.UserProfile{
		Name:       &store.PersonName{GivenName: "Ann", FamilyName: "Lee"},
		Emails:     []store.Email{{Value: "ann@example.com"}},
		Extensions: map[string]json.RawMessage{"aws:identitystore:enterprise": json.RawMessage(`{"costCenter":"CC-7","manager":{"value":"m-1"}}`)},
	}}
	asserted := access.AssertedTags(map[string][]string{
		access.AssertedTagPrefix + "Team":             {"blue"},
		access.AssertedTagPrefix + "costcenter":       {"from-idp"},
		access.AssertedTagPrefix + "Empty":            {""},
		"https://aws.amazon.com/SAML/Attributes/Role": {"ignored"},
	})
	var got map[string]string
	read := func() {
		t.Helper()
		if err := db.Read(ctx, func(tx store.Tx) error {
			var err error
			got, err = access.SessionTags(ctx, tx, instance, u, asserted)
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	// Without a configuration only what the IdP asserted is carried.
	read()
	if !maps.Equal(got, map[string]string{"Team": "blue", "costcenter": "from-idp"}) {
		t.Fatalf("asserted only: %v", got)
	}
	err = db.Write(ctx, func(tx store.Tx) error {
		return tx.PutAccessControlAttributes(ctx, store.AccessControlAttributes{InstanceARN: instance, Status: "ENABLED", UpdatedAt: time.Now(),
			Attributes: []store.AccessControlAttribute{
				{Key: "CostCenter", Sources: []string{"${path:enterprise.costCenter}"}},
				{Key: "Given", Sources: []string{"${path:name.givenName}"}},
				{Key: "Email", Sources: []string{"${path:emails[primary eq true].value}"}},
				{Key: "Manager", Sources: []string{"${path:enterprise.manager.value}"}},
				{Key: "Title", Sources: []string{"${path:title}"}},      // the user has none
				{Key: "Bogus", Sources: []string{"${user:email}"}},      // not a path source
				{Key: "Long", Sources: []string{"${path:displayName}"}}, // too long, below
			}})
	})
	if err != nil {
		t.Fatal(err)
	}
	u.DisplayName = strings.Repeat("x", 257)
	read()
	// The identity store's values override the IdP's for the same key, ignoring case.
	want := map[string]string{"Team": "blue", "CostCenter": "CC-7", "Given": "Ann", "Email": "ann@example.com", "Manager": "m-1"}
	if !maps.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}
