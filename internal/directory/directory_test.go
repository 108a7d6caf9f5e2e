package directory

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/atrium-sso/atrium/internal/apierr"
	"github.com/atrium-sso/atrium/internal/awsproto"
	"github.com/atrium-sso/atrium/internal/principal"
	"github.com/atrium-sso/atrium/internal/store"
	"github.com/atrium-sso/atrium/internal/store/sqlite"
)

const testStore = "d-1234567890"

func newService(t *testing.T) (*Service, store.Store) {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "atrium.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx, nil); err != nil {
		t.Fatal(err)
	}
	err = db.Write(ctx, func(tx store.Tx) error {
		return tx.InsertInstance(ctx, store.Instance{ARN: "arn:aws:sso:::instance/ssoins-0123456789abcdef", IdentityStoreID: testStore,
			OwnerAccountID: "111111111111", Name: "atrium", Status: "ACTIVE", CreatedAt: time.Now()})
	})
	if err != nil {
		t.Fatal(err)
	}
	return New(db, awsproto.NewPager([]byte("k"))), db
}

func wantNotFoundType(t *testing.T, what string, err error, resourceType string) {
	t.Helper()
	if e, ok := apierr.As(err); !ok || e.Code != "ResourceNotFoundException" || e.Fields["ResourceType"] != resourceType {
		t.Fatalf("%s = %v, want ResourceNotFoundException %s", what, err, resourceType)
	}
}

// What the admin API and CLI use: disable and enable, find by name.
func TestIdentityStoreSetUserStatusAndUserByName(t *testing.T) {
	s, _ := newService(t)
	admin := principal.With(context.Background(), &principal.Principal{ARN: "arn:aws:iam::111111111111:root", Admin: true})
	created, err := s.createUser(admin, &createUserIn{IdentityStoreId: testStore, UserName: "Alice", DisplayName: "Alice L",
		UserProfile: store.UserProfile{Name: &store.PersonName{GivenName: "Alice", FamilyName: "L"}}})
	if err != nil {
		t.Fatal(err)
	}
	u, err := s.UserByName(admin, testStore, "ALICE")
	if err != nil || u.ID != created.UserId || u.Status != store.UserEnabled {
		t.Fatalf("UserByName = %+v, %v", u, err)
	}
	operator := principal.With(context.Background(), &principal.Principal{ARN: "arn:aws:iam::111111111111:user/operator", Admin: true})
	if err := s.SetUserStatus(operator, testStore, u.ID, false); err != nil {
		t.Fatal(err)
	}
	after, _ := s.UserByName(admin, testStore, "alice")
	if after.Status != store.UserDisabled || after.UpdatedBy != "arn:aws:iam::111111111111:user/operator" || after.UpdatedAt.Before(u.UpdatedAt) {
		t.Fatalf("after disable: %+v", after)
	}
	if err := s.SetUserStatus(admin, testStore, u.ID, true); err != nil {
		t.Fatal(err)
	}
	if again, _ := s.UserByName(admin, testStore, "alice"); again.Status != store.UserEnabled {
		t.Fatalf("after enable: %+v", again)
	}
	_, err = s.UserByName(admin, testStore, "nobody")
	wantNotFoundType(t, "UserByName of nobody", err, "USER")
	wantNotFoundType(t, "SetUserStatus of a missing user", s.SetUserStatus(admin, testStore, "1234567890-00000000-0000-4000-8000-000000000000", true), "USER")
	wantNotFoundType(t, "SetUserStatus in a missing store", s.SetUserStatus(admin, "d-0000000000", u.ID, true), "IDENTITY_STORE")
	_, err = s.UserByName(admin, "d-0000000000", "alice")
	wantNotFoundType(t, "UserByName in a missing store", err, "IDENTITY_STORE")
}
