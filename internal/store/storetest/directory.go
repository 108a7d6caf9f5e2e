package storetest

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/atrium-sso/atrium/internal/store"
)

// directoryTests are the conformance tests of store.DirectoryTx.
var directoryTests = []namedTest{
	{"DirectoryUsers", testDirectoryUsers},
	{"DirectoryUserUpdateClosure", testDirectoryUserUpdate},
	{"DirectoryUserNameUniqueIgnoringCaseUnderRace", testDirectoryUserNameRace},
	{"DirectoryGroups", testDirectoryGroups},
	{"DirectoryGroupNameUniqueIgnoringCaseUnderRace", testDirectoryGroupNameRace},
	{"DirectoryExternalIDsUnique", testDirectoryExternalIDs},
	{"DirectoryMemberships", testDirectoryMemberships},
	{"DirectoryDeleteCascades", testDirectoryCascade},
	{"DirectoryMembershipRacingDeleteLeavesNoOrphan", testDirectoryMembershipDeleteRace},
	{"DirectoryPaginationUnderConcurrentInserts", testDirectoryPagination},
	{"DirectoryConcurrentUpdatesLoseNothing", testDirectoryConcurrentUpdates},
}

const (
	storeA = "d-1111111111"
	storeB = "d-2222222222"
)

func dirID(n int) string { return fmt.Sprintf("1111111111-00000000-0000-4000-8000-%012d", n) }

func user(n int, userName string) store.User {
	t := now()
	return store.User{IdentityStoreID: storeA, ID: dirID(n), UserName: userName, DisplayName: "User " + userName, Status: store.UserEnabled,
		Profile:   store.UserProfile{Name: &store.PersonName{GivenName: "Given", FamilyName: "Family"}},
		CreatedAt: t, CreatedBy: "arn:aws:iam::111111111111:root", UpdatedAt: t, UpdatedBy: "arn:aws:iam::111111111111:root"}
}

func group(n int, name string) store.Group {
	t := now()
	return store.Group{IdentityStoreID: storeA, ID: dirID(n), DisplayName: name, Description: "about " + name,
		CreatedAt: t, CreatedBy: "arn:aws:iam::111111111111:root", UpdatedAt: t, UpdatedBy: "arn:aws:iam::111111111111:root"}
}

func membership(n int, groupID, userID string) store.GroupMembership {
	t := now()
	return store.GroupMembership{IdentityStoreID: storeA, ID: dirID(n), GroupID: groupID, UserID: userID,
		CreatedAt: t, CreatedBy: "arn:aws:iam::111111111111:root", UpdatedAt: t, UpdatedBy: "arn:aws:iam::111111111111:root"}
}

func isNotFound(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("%s = %v, want ErrNotFound", what, err)
	}
}

func testDirectoryUsers(t *testing.T, s store.Store) {
	yes, no := true, false
	u := user(1, "Alice.Smith")
	u.ExternalIDs = []store.ExternalID{{Issuer: "https://idp.example.com", ID: "a-1"}, {Issuer: "other", ID: "A-1"}}
	u.Profile = store.UserProfile{
		Name:     &store.PersonName{Formatted: "Dr Alice B. Smith Jr", FamilyName: "Smith", GivenName: "Alice", MiddleName: "B", HonorificPrefix: "Dr", HonorificSuffix: "Jr"},
		NickName: "Al", ProfileUrl: "https://example.com/alice",
		Emails:       []store.Email{{Value: "Alice@Example.com", Type: "work", Primary: &yes}},
		Addresses:    []store.Address{{StreetAddress: "1 Main St", Locality: "Town", Region: "CA", PostalCode: "90210", Country: "US", Formatted: "1 Main St, Town", Type: "home", Primary: &no}},
		PhoneNumbers: []store.PhoneNumber{{Value: "+1 555 0100", Type: "mobile"}},
		UserType:     "Employee", Title: "Engineer", PreferredLanguage: "en-US", Locale: "en_US", Timezone: "America/Los_Angeles",
		Photos:     []store.Photo{{Value: "https://example.com/a.png", Type: "photo", Display: "Alice", Primary: &yes}, {Value: "https://example.com/b.png"}},
		Website:    "https://alice.example.com",
		Birthdate:  "1990-01-02",
		Roles:      []store.Role{{Value: "admin", Type: "job", Primary: &no}},
		Extensions: map[string]json.RawMessage{"aws:identitystore:enterprise": json.RawMessage(`{"costCenter":"42","manager":{"value":"x"}}`)},
	}
	write(t, s, func(tx store.Tx) error { return tx.InsertUser(ctx, u) })
	other := user(2, "bob")
	other.IdentityStoreID = storeB
	write(t, s, func(tx store.Tx) error { return tx.InsertUser(ctx, other) })
	read(t, s, func(tx store.Tx) error {
		got, err := tx.GetUser(ctx, storeA, u.ID)
		if err != nil || !reflect.DeepEqual(*got, u) {
			t.Fatalf("GetUser = %+v, %v\nwant %+v", got, err, u)
		}
		for _, lookup := range []func() (*store.User, error){
			func() (*store.User, error) { return tx.GetUserByName(ctx, storeA, "alice.SMITH") },
			func() (*store.User, error) { return tx.GetUserByEmail(ctx, storeA, "alice@example.COM") },
			func() (*store.User, error) {
				return tx.GetUserByExternalID(ctx, storeA, store.ExternalID{Issuer: "other", ID: "A-1"})
			},
		} {
			if got, err := lookup(); err != nil || got.ID != u.ID {
				t.Fatalf("lookup = %+v, %v", got, err)
			}
		}
		_, err = tx.GetUserByExternalID(ctx, storeA, store.ExternalID{Issuer: "other", ID: "a-1"})
		isNotFound(t, "external ids match exactly", err)
		_, err = tx.GetUser(ctx, storeB, u.ID)
		isNotFound(t, "a user seen through another store", err)
		_, err = tx.GetUserByName(ctx, storeA, "bob")
		isNotFound(t, "a name from another store", err)
		_, err = tx.GetUserByEmail(ctx, storeA, "")
		isNotFound(t, "empty email", err)
		list, err := tx.ListUsers(ctx, storeA, "", 10)
		if err != nil || len(list) != 1 || list[0].ID != u.ID {
			t.Fatalf("ListUsers(storeA) = %+v, %v", list, err)
		}
		return nil
	})
	// The same name in another store is another user.
	b := user(3, "ALICE.smith")
	b.IdentityStoreID = storeB
	write(t, s, func(tx store.Tx) error { return tx.InsertUser(ctx, b) })

	write(t, s, func(tx store.Tx) error { return tx.DeleteUser(ctx, storeA, u.ID) })
	read(t, s, func(tx store.Tx) error {
		_, err := tx.GetUser(ctx, storeA, u.ID)
		isNotFound(t, "deleted user", err)
		_, err = tx.GetUserByExternalID(ctx, storeA, store.ExternalID{Issuer: "other", ID: "A-1"})
		isNotFound(t, "external id of a deleted user", err)
		return nil
	})
	isNotFound(t, "second delete", s.Write(ctx, func(tx store.Tx) error { return tx.DeleteUser(ctx, storeA, u.ID) }))
	isNotFound(t, "delete through another store", s.Write(ctx, func(tx store.Tx) error { return tx.DeleteUser(ctx, storeA, b.ID) }))
	// The name and the external ids are free again.
	again := user(4, "alice.smith")
	again.ExternalIDs = u.ExternalIDs
	write(t, s, func(tx store.Tx) error { return tx.InsertUser(ctx, again) })
}

func testDirectoryUserUpdate(t *testing.T, s store.Store) {
	u, taken := user(1, "carol"), user(2, "dave")
	write(t, s, func(tx store.Tx) error {
		if err := tx.InsertUser(ctx, u); err != nil {
			return err
		}
		return tx.InsertUser(ctx, taken)
	})
	later := u.CreatedAt.Add(time.Second)
	write(t, s, func(tx store.Tx) error {
		got, err := tx.UpdateUser(ctx, storeA, u.ID, func(x *store.User) error {
			x.ID, x.CreatedBy = "ignored", "ignored" // identity and creation cannot be rewritten
			x.DisplayName, x.Status, x.UpdatedAt, x.UpdatedBy = "Carol C", store.UserDisabled, later, "arn:aws:iam::111111111111:user/x"
			x.Profile.Emails = []store.Email{{Value: "carol@example.com"}}
			x.ExternalIDs = []store.ExternalID{{Issuer: "i", ID: "c"}}
			return nil
		})
		if err != nil || got.ID != u.ID || got.CreatedBy != u.CreatedBy {
			t.Fatalf("UpdateUser = %+v, %v", got, err)
		}
		return nil
	})
	read(t, s, func(tx store.Tx) error {
		got, err := tx.GetUser(ctx, storeA, u.ID)
		if err != nil || got.DisplayName != "Carol C" || got.Status != store.UserDisabled || !got.UpdatedAt.Equal(later) ||
			got.CreatedBy != u.CreatedBy || got.Email() != "carol@example.com" || len(got.ExternalIDs) != 1 {
			t.Fatalf("after update: %+v, %v", got, err)
		}
		if byMail, err := tx.GetUserByEmail(ctx, storeA, "CAROL@example.com"); err != nil || byMail.ID != u.ID {
			t.Fatalf("email lookup follows the update: %+v, %v", byMail, err)
		}
		if byExt, err := tx.GetUserByExternalID(ctx, storeA, store.ExternalID{Issuer: "i", ID: "c"}); err != nil || byExt.ID != u.ID {
			t.Fatalf("external id lookup follows the update: %+v, %v", byExt, err)
		}
		return nil
	})
	// A failing closure, a taken name and a failure later in the same
	// transaction all leave the user as it was.
	boom := errors.New("boom")
	err := s.Write(ctx, func(tx store.Tx) error {
		_, err := tx.UpdateUser(ctx, storeA, u.ID, func(x *store.User) error { x.DisplayName = "changed"; return boom })
		return err
	})
	if !errors.Is(err, boom) {
		t.Fatalf("closure error = %v", err)
	}
	err = s.Write(ctx, func(tx store.Tx) error {
		_, err := tx.UpdateUser(ctx, storeA, u.ID, func(x *store.User) error { x.UserName, x.DisplayName = "DAVE", "changed"; return nil })
		return err
	})
	if !errors.Is(err, store.ErrConflict) {
		t.Fatalf("rename onto a taken name (other case) = %v, want ErrConflict", err)
	}
	err = s.Write(ctx, func(tx store.Tx) error {
		if _, err := tx.UpdateUser(ctx, storeA, u.ID, func(x *store.User) error { x.DisplayName = "changed"; x.ExternalIDs = nil; return nil }); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Write = %v", err)
	}
	read(t, s, func(tx store.Tx) error {
		got, _ := tx.GetUser(ctx, storeA, u.ID)
		if got.DisplayName != "Carol C" || got.UserName != "carol" || len(got.ExternalIDs) != 1 {
			t.Fatalf("a failed update left traces: %+v", got)
		}
		if _, err := tx.GetUserByExternalID(ctx, storeA, store.ExternalID{Issuer: "i", ID: "c"}); err != nil {
			t.Fatalf("a rolled-back update dropped an external id: %v", err)
		}
		return nil
	})
	err = s.Write(ctx, func(tx store.Tx) error {
		_, err := tx.UpdateUser(ctx, storeB, u.ID, func(*store.User) error { return nil })
		return err
	})
	isNotFound(t, "update through another store", err)
}

// raceInserts runs n inserts at once and reports how many succeeded and conflicted.
func raceInserts(t *testing.T, s store.Store, n int, insert func(tx store.Tx, i int) error) (ok, conflict int32) {
	var okN, conflictN atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			<-start
			err := s.Write(ctx, func(tx store.Tx) error { return insert(tx, i) })
			switch {
			case err == nil:
				okN.Add(1)
			case errors.Is(err, store.ErrConflict):
				conflictN.Add(1)
			default:
				t.Error(err)
			}
		}(i)
	}
	close(start)
	wg.Wait()
	return okN.Load(), conflictN.Load()
}

func testDirectoryUserNameRace(t *testing.T, s store.Store) {
	const racers = 10
	names := []string{"race", "RACE", "Race", "rAcE"}
	ok, conflict := raceInserts(t, s, racers, func(tx store.Tx, i int) error {
		return tx.InsertUser(ctx, user(100+i, names[i%len(names)]))
	})
	if ok != 1 || conflict != racers-1 {
		t.Fatalf("racing creates of one user name in several cases: %d succeeded, %d conflicted", ok, conflict)
	}
	read(t, s, func(tx store.Tx) error {
		list, _ := tx.ListUsers(ctx, storeA, "", 100)
		if len(list) != 1 {
			t.Fatalf("%d users after the race", len(list))
		}
		return nil
	})
}

func testDirectoryGroups(t *testing.T, s store.Store) {
	g := group(1, "Engineers")
	g.ExternalIDs = []store.ExternalID{{Issuer: "scim", ID: "g1"}}
	write(t, s, func(tx store.Tx) error { return tx.InsertGroup(ctx, g) })
	err := s.Write(ctx, func(tx store.Tx) error { return tx.InsertGroup(ctx, group(2, "ENGINEERS")) })
	if !errors.Is(err, store.ErrConflict) {
		t.Fatalf("same display name in another case = %v, want ErrConflict", err)
	}
	other := group(3, "engineers")
	other.IdentityStoreID = storeB
	write(t, s, func(tx store.Tx) error { return tx.InsertGroup(ctx, other) })
	write(t, s, func(tx store.Tx) error { return tx.InsertGroup(ctx, group(4, "Admins")) })
	read(t, s, func(tx store.Tx) error {
		got, err := tx.GetGroup(ctx, storeA, g.ID)
		if err != nil || !reflect.DeepEqual(*got, g) {
			t.Fatalf("GetGroup = %+v, %v\nwant %+v", got, err, g)
		}
		if got, err := tx.GetGroupByDisplayName(ctx, storeA, "engineers"); err != nil || got.ID != g.ID {
			t.Fatalf("GetGroupByDisplayName = %+v, %v", got, err)
		}
		if got, err := tx.GetGroupByExternalID(ctx, storeA, store.ExternalID{Issuer: "scim", ID: "g1"}); err != nil || got.ID != g.ID {
			t.Fatalf("GetGroupByExternalID = %+v, %v", got, err)
		}
		_, err = tx.GetGroup(ctx, storeB, g.ID)
		isNotFound(t, "a group seen through another store", err)
		list, err := tx.ListGroups(ctx, storeA, "", 10)
		if err != nil || len(list) != 2 || list[0].ID != g.ID || list[1].ID != dirID(4) {
			t.Fatalf("ListGroups = %+v, %v", list, err)
		}
		return nil
	})
	err = s.Write(ctx, func(tx store.Tx) error {
		_, err := tx.UpdateGroup(ctx, storeA, g.ID, func(x *store.Group) error { x.DisplayName = "admins"; return nil })
		return err
	})
	if !errors.Is(err, store.ErrConflict) {
		t.Fatalf("rename onto a taken display name = %v, want ErrConflict", err)
	}
	write(t, s, func(tx store.Tx) error {
		_, err := tx.UpdateGroup(ctx, storeA, g.ID, func(x *store.Group) error {
			x.DisplayName, x.Description, x.ExternalIDs = "Engineering", "", nil
			return nil
		})
		return err
	})
	read(t, s, func(tx store.Tx) error {
		got, err := tx.GetGroupByDisplayName(ctx, storeA, "ENGINEERING")
		if err != nil || got.ID != g.ID || got.Description != "" || got.ExternalIDs != nil {
			t.Fatalf("renamed group = %+v, %v", got, err)
		}
		_, err = tx.GetGroupByDisplayName(ctx, storeA, "Engineers")
		isNotFound(t, "old display name", err)
		_, err = tx.GetGroupByExternalID(ctx, storeA, store.ExternalID{Issuer: "scim", ID: "g1"})
		isNotFound(t, "removed external id", err)
		return nil
	})
	write(t, s, func(tx store.Tx) error { return tx.DeleteGroup(ctx, storeA, g.ID) })
	isNotFound(t, "second group delete", s.Write(ctx, func(tx store.Tx) error { return tx.DeleteGroup(ctx, storeA, g.ID) }))
	write(t, s, func(tx store.Tx) error { return tx.InsertGroup(ctx, group(5, "engineering")) })
}

func testDirectoryGroupNameRace(t *testing.T, s store.Store) {
	const racers = 10
	ok, conflict := raceInserts(t, s, racers, func(tx store.Tx, i int) error {
		name := "Ops"
		if i%2 == 1 {
			name = "OPS"
		}
		return tx.InsertGroup(ctx, group(100+i, name))
	})
	if ok != 1 || conflict != racers-1 {
		t.Fatalf("racing creates of one group name: %d succeeded, %d conflicted", ok, conflict)
	}
}

func testDirectoryExternalIDs(t *testing.T, s store.Store) {
	ext := []store.ExternalID{{Issuer: "okta", ID: "00u1"}}
	a := user(1, "a")
	a.ExternalIDs = ext
	write(t, s, func(tx store.Tx) error { return tx.InsertUser(ctx, a) })
	b := user(2, "b")
	b.ExternalIDs = ext
	if err := s.Write(ctx, func(tx store.Tx) error { return tx.InsertUser(ctx, b) }); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("a second user with the same external id = %v, want ErrConflict", err)
	}
	read(t, s, func(tx store.Tx) error {
		_, err := tx.GetUser(ctx, storeA, b.ID)
		isNotFound(t, "the user whose insert conflicted", err)
		return nil
	})
	// A group may carry the same pair as a user; another store may too.
	g := group(3, "g")
	g.ExternalIDs = ext
	write(t, s, func(tx store.Tx) error { return tx.InsertGroup(ctx, g) })
	b.IdentityStoreID = storeB
	write(t, s, func(tx store.Tx) error { return tx.InsertUser(ctx, b) })
	c := user(4, "c")
	write(t, s, func(tx store.Tx) error { return tx.InsertUser(ctx, c) })
	err := s.Write(ctx, func(tx store.Tx) error {
		_, err := tx.UpdateUser(ctx, storeA, c.ID, func(x *store.User) error { x.ExternalIDs = ext; return nil })
		return err
	})
	if !errors.Is(err, store.ErrConflict) {
		t.Fatalf("update onto a taken external id = %v, want ErrConflict", err)
	}
}

func testDirectoryMemberships(t *testing.T, s store.Store) {
	u1, u2 := user(1, "u1"), user(2, "u2")
	g1, g2 := group(3, "g1"), group(4, "g2")
	write(t, s, func(tx store.Tx) error {
		for _, u := range []store.User{u1, u2} {
			if err := tx.InsertUser(ctx, u); err != nil {
				return err
			}
		}
		for _, g := range []store.Group{g1, g2} {
			if err := tx.InsertGroup(ctx, g); err != nil {
				return err
			}
		}
		return nil
	})
	m := membership(10, g1.ID, u1.ID)
	write(t, s, func(tx store.Tx) error { return tx.InsertGroupMembership(ctx, m) })
	write(t, s, func(tx store.Tx) error { return tx.InsertGroupMembership(ctx, membership(11, g1.ID, u2.ID)) })
	write(t, s, func(tx store.Tx) error { return tx.InsertGroupMembership(ctx, membership(12, g2.ID, u1.ID)) })
	for name, tc := range map[string]struct {
		m    store.GroupMembership
		want error
	}{
		"duplicate":       {membership(13, g1.ID, u1.ID), store.ErrConflict},
		"missing user":    {membership(14, g1.ID, dirID(99)), store.ErrUserMissing},
		"missing group":   {membership(15, dirID(99), u1.ID), store.ErrGroupMissing},
		"both missing":    {membership(16, dirID(98), dirID(99)), store.ErrUserMissing},
		"other store's":   {func() store.GroupMembership { x := membership(17, g1.ID, u1.ID); x.IdentityStoreID = storeB; return x }(), store.ErrUserMissing},
		"reused id":       {membership(10, g2.ID, u2.ID), store.ErrConflict},
		"group as member": {membership(18, g1.ID, g2.ID), store.ErrUserMissing},
	} {
		err := s.Write(ctx, func(tx store.Tx) error { return tx.InsertGroupMembership(ctx, tc.m) })
		if !errors.Is(err, tc.want) {
			t.Fatalf("%s: InsertGroupMembership = %v, want %v", name, err, tc.want)
		}
		if tc.want != store.ErrConflict && !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("%s: a missing principal must also be ErrNotFound", name)
		}
	}
	read(t, s, func(tx store.Tx) error {
		got, err := tx.GetGroupMembership(ctx, storeA, m.ID)
		if err != nil || *got != m {
			t.Fatalf("GetGroupMembership = %+v, %v", got, err)
		}
		if got, err := tx.GetGroupMembershipOf(ctx, storeA, g1.ID, u1.ID); err != nil || got.ID != m.ID {
			t.Fatalf("GetGroupMembershipOf = %+v, %v", got, err)
		}
		_, err = tx.GetGroupMembershipOf(ctx, storeA, g2.ID, u2.ID)
		isNotFound(t, "membership that does not exist", err)
		_, err = tx.GetGroupMembership(ctx, storeB, m.ID)
		isNotFound(t, "membership through another store", err)
		if list, err := tx.ListGroupMemberships(ctx, storeA, g1.ID, "", 10); err != nil || len(list) != 2 || list[0].ID != dirID(10) || list[1].ID != dirID(11) {
			t.Fatalf("ListGroupMemberships = %+v, %v", list, err)
		}
		if list, err := tx.ListGroupMemberships(ctx, storeA, g1.ID, dirID(10), 10); err != nil || len(list) != 1 || list[0].UserID != u2.ID {
			t.Fatalf("ListGroupMemberships after a cursor = %+v, %v", list, err)
		}
		if list, err := tx.ListGroupMembershipsForMember(ctx, storeA, u1.ID, "", 10); err != nil || len(list) != 2 || list[0].GroupID != g1.ID || list[1].GroupID != g2.ID {
			t.Fatalf("ListGroupMembershipsForMember = %+v, %v", list, err)
		}
		in, err := tx.GroupsWithMember(ctx, storeA, u2.ID, []string{g2.ID, g1.ID, dirID(99)})
		if err != nil || len(in) != 1 || in[0] != g1.ID {
			t.Fatalf("GroupsWithMember = %+v, %v", in, err)
		}
		if in, err := tx.GroupsWithMember(ctx, storeA, u2.ID, []string{g2.ID}); err != nil || len(in) != 0 {
			t.Fatalf("GroupsWithMember of no group = %+v, %v", in, err)
		}
		for _, user := range []string{dirID(99), g1.ID} {
			if _, err := tx.GroupsWithMember(ctx, storeA, user, []string{g1.ID}); !errors.Is(err, store.ErrUserMissing) {
				t.Fatalf("GroupsWithMember of %s, not a user = %v, want ErrUserMissing", user, err)
			}
		}
		if _, err := tx.GroupsWithMember(ctx, storeB, u2.ID, []string{g1.ID}); !errors.Is(err, store.ErrUserMissing) {
			t.Fatalf("GroupsWithMember through another store = %v, want ErrUserMissing", err)
		}
		for _, c := range []struct {
			typ, id, store string
			want           bool
		}{
			{store.PrincipalUser, u1.ID, storeA, true}, {store.PrincipalGroup, g1.ID, storeA, true},
			{store.PrincipalUser, g1.ID, storeA, false}, {store.PrincipalGroup, u1.ID, storeA, false},
			{store.PrincipalUser, u1.ID, storeB, false}, {store.PrincipalGroup, dirID(99), storeA, false},
		} {
			if ok, err := tx.PrincipalExists(ctx, c.store, c.typ, c.id); err != nil || ok != c.want {
				t.Fatalf("PrincipalExists(%s, %s %s) = %v, %v; want %v", c.store, c.typ, c.id, ok, err, c.want)
			}
		}
		return nil
	})
	write(t, s, func(tx store.Tx) error { return tx.DeleteGroupMembership(ctx, storeA, m.ID) })
	isNotFound(t, "second membership delete", s.Write(ctx, func(tx store.Tx) error { return tx.DeleteGroupMembership(ctx, storeA, m.ID) }))
	// The pair is free again.
	write(t, s, func(tx store.Tx) error { return tx.InsertGroupMembership(ctx, membership(19, g1.ID, u1.ID)) })
}

func testDirectoryCascade(t *testing.T, s store.Store) {
	u1, u2 := user(1, "u1"), user(2, "u2")
	g1, g2 := group(3, "g1"), group(4, "g2")
	write(t, s, func(tx store.Tx) error {
		for _, u := range []store.User{u1, u2} {
			if err := tx.InsertUser(ctx, u); err != nil {
				return err
			}
		}
		for _, g := range []store.Group{g1, g2} {
			if err := tx.InsertGroup(ctx, g); err != nil {
				return err
			}
		}
		for i, m := range [][2]string{{g1.ID, u1.ID}, {g2.ID, u1.ID}, {g1.ID, u2.ID}, {g2.ID, u2.ID}} {
			if err := tx.InsertGroupMembership(ctx, membership(10+i, m[0], m[1])); err != nil {
				return err
			}
		}
		return nil
	})
	write(t, s, func(tx store.Tx) error { return tx.DeleteUser(ctx, storeA, u1.ID) })
	read(t, s, func(tx store.Tx) error {
		if list, _ := tx.ListGroupMembershipsForMember(ctx, storeA, u1.ID, "", 10); len(list) != 0 {
			t.Fatalf("memberships of a deleted user remain: %+v", list)
		}
		for _, g := range []string{g1.ID, g2.ID} {
			list, _ := tx.ListGroupMemberships(ctx, storeA, g, "", 10)
			if len(list) != 1 || list[0].UserID != u2.ID {
				t.Fatalf("group %s after deleting u1: %+v", g, list)
			}
		}
		return nil
	})
	write(t, s, func(tx store.Tx) error { return tx.DeleteGroup(ctx, storeA, g1.ID) })
	read(t, s, func(tx store.Tx) error {
		list, _ := tx.ListGroupMembershipsForMember(ctx, storeA, u2.ID, "", 10)
		if len(list) != 1 || list[0].GroupID != g2.ID {
			t.Fatalf("u2's memberships after deleting g1: %+v", list)
		}
		_, err := tx.GetGroupMembershipOf(ctx, storeA, g1.ID, u2.ID)
		isNotFound(t, "membership in a deleted group", err)
		return nil
	})
	// A delete that fails later in its transaction takes nothing with it.
	boom := errors.New("boom")
	err := s.Write(ctx, func(tx store.Tx) error {
		if err := tx.DeleteUser(ctx, storeA, u2.ID); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Write = %v", err)
	}
	read(t, s, func(tx store.Tx) error {
		if list, _ := tx.ListGroupMembershipsForMember(ctx, storeA, u2.ID, "", 10); len(list) != 1 {
			t.Fatalf("a rolled-back delete removed memberships: %+v", list)
		}
		return nil
	})
}

// Memberships created while their user is being deleted either are deleted
// with it or fail: none outlives its user.
func testDirectoryMembershipDeleteRace(t *testing.T, s store.Store) {
	const users = 15
	g := group(1, "g")
	write(t, s, func(tx store.Tx) error {
		if err := tx.InsertGroup(ctx, g); err != nil {
			return err
		}
		for i := 0; i < users; i++ {
			if err := tx.InsertUser(ctx, user(100+i, "racer"+strconv.Itoa(i))); err != nil {
				return err
			}
		}
		return nil
	})
	var wg sync.WaitGroup
	for i := 0; i < users; i++ {
		wg.Add(2)
		go func(i int) {
			defer wg.Done()
			err := s.Write(ctx, func(tx store.Tx) error { return tx.InsertGroupMembership(ctx, membership(200+i, g.ID, dirID(100+i))) })
			if err != nil && !errors.Is(err, store.ErrUserMissing) {
				t.Error(err)
			}
		}(i)
		go func(i int) {
			defer wg.Done()
			if err := s.Write(ctx, func(tx store.Tx) error { return tx.DeleteUser(ctx, storeA, dirID(100+i)) }); err != nil {
				t.Error(err)
			}
		}(i)
	}
	wg.Wait()
	read(t, s, func(tx store.Tx) error {
		if list, _ := tx.ListGroupMemberships(ctx, storeA, g.ID, "", 100); len(list) != 0 {
			t.Fatalf("%d memberships outlived their users: %+v", len(list), list)
		}
		return nil
	})
}

func testDirectoryPagination(t *testing.T, s store.Store) {
	const n, pageSize, spacing = 40, 7, 1000
	base := 100000
	write(t, s, func(tx store.Tx) error {
		for i := 0; i < n; i++ {
			if err := tx.InsertUser(ctx, user(base+i*spacing, fmt.Sprintf("page%02d", i))); err != nil {
				return err
			}
		}
		return nil
	})
	// Users keep arriving, with ids before, between and after the listed ones.
	stop := make(chan struct{})
	inserted := make(chan int, 1)
	go func() {
		k := 0
		defer func() { inserted <- k }()
		for ; k < 2900; k++ { // ids stay clear of the ones inserted between pages
			select {
			case <-stop:
				return
			default:
			}
			id := []int{1 + k, base + (k%n)*spacing + 1 + k/3, 10*base + k}[k%3]
			if err := s.Write(ctx, func(tx store.Tx) error { return tx.InsertUser(ctx, user(id, fmt.Sprintf("late%d", k))) }); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	seen := map[string]bool{}
	after, pages := "", 0
	for {
		var page []store.User
		read(t, s, func(tx store.Tx) error {
			var err error
			page, err = tx.ListUsers(ctx, storeA, after, pageSize)
			return err
		})
		for _, u := range page {
			if seen[u.ID] {
				t.Fatalf("user %s listed twice", u.ID)
			}
			if u.ID <= after {
				t.Fatalf("user %s listed after cursor %s", u.ID, after)
			}
			seen[u.ID] = true
		}
		if len(page) < pageSize {
			break
		}
		after = page[len(page)-1].ID
		// And some arrive right between two pages: before the cursor, just after it, at the end.
		pages++
		write(t, s, func(tx store.Tx) error {
			for j, id := range []int{50000 + pages, base + (len(seen)/pageSize)*spacing + 999, 20*base + pages} {
				if err := tx.InsertUser(ctx, user(id, fmt.Sprintf("between%d-%d", pages, j))); err != nil {
					return err
				}
			}
			return nil
		})
	}
	close(stop)
	t.Logf("%d users inserted during the walk", <-inserted)
	for i := 0; i < n; i++ {
		if !seen[dirID(base+i*spacing)] {
			t.Fatalf("user %d missed by the walk", i)
		}
	}
}

// Concurrent update closures on one user each see the previous one's
// result: none is lost.
func testDirectoryConcurrentUpdates(t *testing.T, s store.Store) {
	const writers, each = 6, 10
	u := user(1, "counter")
	u.Profile.NickName = "0"
	write(t, s, func(tx store.Tx) error { return tx.InsertUser(ctx, u) })
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				err := s.Write(ctx, func(tx store.Tx) error {
					_, err := tx.UpdateUser(ctx, storeA, u.ID, func(x *store.User) error {
						n, err := strconv.Atoi(x.Profile.NickName)
						x.Profile.NickName = strconv.Itoa(n + 1)
						return err
					})
					return err
				})
				if err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	read(t, s, func(tx store.Tx) error {
		got, err := tx.GetUser(ctx, storeA, u.ID)
		if err != nil || got.Profile.NickName != strconv.Itoa(writers*each) {
			t.Fatalf("counter after %d updates = %+v, %v", writers*each, got.Profile.NickName, err)
		}
		return nil
	})
}
