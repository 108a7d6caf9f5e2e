package storetest

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/atrium-sso/atrium/internal/store"
)

// accessTests are the conformance tests of store.AccessTx.
var accessTests = []namedTest{
	{"AccessUpdateInstanceKeepsIdentity", testAccessUpdateInstance},
	{"AccessPermissionSets", testAccessPermissionSets},
	{"AccessPermissionSetNameUniqueUnderRace", testAccessPermissionSetNameRace},
	{"AccessPermissionSetDeleteConflictsWhileUsed", testAccessPermissionSetDeleteInUse},
	{"AccessPermissionSetDeleteRacingUseLeavesNoOrphan", testAccessPermissionSetDeleteRace},
	{"AccessAssignments", testAccessAssignments},
	{"AccessAssignmentsGoWithTheirPrincipals", testAccessAssignmentCascade},
	{"AccessAssignmentRacingPrincipalDeleteLeavesNoOrphan", testAccessAssignmentPrincipalDeleteRace},
	{"AccessAssignmentsForManyPrincipals", testAccessAssignmentsForPrincipals},
	{"AccessAssignmentPaginationUnderConcurrentInserts", testAccessAssignmentPagination},
	{"AccessProvisionedOutdatedFilter", testAccessProvisioned},
	{"AccessDeleteAccountAccess", testAccessDeleteAccountAccess},
	{"AccessRequests", testAccessRequests},
	{"AccessRequestConcurrentUpdatesLoseNothing", testAccessRequestConcurrentUpdates},
	{"AccessControlAttributes", testAccessControlAttributes},
}

const (
	instanceA = "arn:aws:sso:::instance/ssoins-1111111111111111"
	instanceB = "arn:aws:sso:::instance/ssoins-2222222222222222"
)

// accessInstances inserts instance A over identity store A and B over B.
func accessInstances(t testing.TB, s store.Store) {
	t.Helper()
	insertAll(t, s, func(tx store.Tx) error {
		for _, in := range []store.Instance{
			{ARN: instanceA, IdentityStoreID: storeA, OwnerAccountID: "111111111111", Name: "a", Status: "ACTIVE", CreatedAt: now()},
			{ARN: instanceB, IdentityStoreID: storeB, OwnerAccountID: "111111111111", Name: "b", Status: "ACTIVE", CreatedAt: now()},
		} {
			if err := tx.InsertInstance(ctx, in); err != nil {
				return err
			}
		}
		return nil
	})
}

func psARN(instanceARN string, n int) string {
	return fmt.Sprintf("arn:aws:sso:::permissionSet/%s/ps-%016x", instanceARN[len("arn:aws:sso:::instance/"):], n)
}

func permissionSet(instanceARN string, n int, name string) store.PermissionSet {
	t := now()
	return store.PermissionSet{InstanceARN: instanceARN, ARN: psARN(instanceARN, n), Name: name, Description: "about " + name,
		SessionDuration: "PT1H", Version: 1, CreatedAt: t, UpdatedAt: t}
}

func assignment(instanceARN, accountID, permissionSetARN, principalType, principalID string) store.AccountAssignment {
	return store.AccountAssignment{InstanceARN: instanceARN, AccountID: accountID, PermissionSetARN: permissionSetARN,
		PrincipalType: principalType, PrincipalID: principalID, CreatedAt: now()}
}

func acct(n int) string { return fmt.Sprintf("%012d", 100000000000+n) }

// insertAll runs each insert in one transaction (tests and benchmarks).
func insertAll(t testing.TB, s store.Store, inserts ...func(tx store.Tx) error) {
	t.Helper()
	err := s.Write(ctx, func(tx store.Tx) error {
		for _, insert := range inserts {
			if err := insert(tx); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func insertPS(ps ...store.PermissionSet) func(store.Tx) error {
	return func(tx store.Tx) error {
		for _, p := range ps {
			if err := tx.InsertPermissionSet(ctx, p); err != nil {
				return err
			}
		}
		return nil
	}
}

func insertUsers(us ...store.User) func(store.Tx) error {
	return func(tx store.Tx) error {
		for _, u := range us {
			if err := tx.InsertUser(ctx, u); err != nil {
				return err
			}
		}
		return nil
	}
}

func insertGroups(gs ...store.Group) func(store.Tx) error {
	return func(tx store.Tx) error {
		for _, g := range gs {
			if err := tx.InsertGroup(ctx, g); err != nil {
				return err
			}
		}
		return nil
	}
}

func insertAssignments(as ...store.AccountAssignment) func(store.Tx) error {
	return func(tx store.Tx) error {
		for _, a := range as {
			if err := tx.InsertAssignment(ctx, a); err != nil {
				return fmt.Errorf("%s: %w", a.Key(), err)
			}
		}
		return nil
	}
}

func keys(as []store.AccountAssignment) []string {
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = a.Key()
	}
	return out
}

func testAccessUpdateInstance(t *testing.T, s store.Store) {
	accessInstances(t, s)
	var created time.Time
	read(t, s, func(tx store.Tx) error {
		ins, err := tx.ListInstances(ctx)
		if err != nil || len(ins) != 2 || ins[0].EncryptionKeyType != "" || ins[0].KMSKeyARN != "" {
			t.Fatalf("new instances = %+v, %v", ins, err)
		}
		created = ins[0].CreatedAt
		return nil
	})
	const key = "arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	write(t, s, func(tx store.Tx) error {
		got, err := tx.UpdateInstance(ctx, instanceA, func(in *store.Instance) error {
			in.ARN, in.IdentityStoreID, in.CreatedAt = instanceB, "d-9999999999", time.Time{} // identity cannot be rewritten
			in.Name, in.EncryptionKeyType, in.KMSKeyARN = "renamed", "CUSTOMER_MANAGED_KEY", key
			return nil
		})
		if err != nil || got.ARN != instanceA || got.IdentityStoreID != storeA || got.Name != "renamed" {
			t.Fatalf("UpdateInstance = %+v, %v", got, err)
		}
		return nil
	})
	boom := errors.New("boom")
	err := s.Write(ctx, func(tx store.Tx) error {
		_, err := tx.UpdateInstance(ctx, instanceA, func(in *store.Instance) error { in.Name = "changed"; return boom })
		return err
	})
	if !errors.Is(err, boom) {
		t.Fatalf("closure error = %v", err)
	}
	read(t, s, func(tx store.Tx) error {
		ins, err := tx.ListInstances(ctx)
		if err != nil || len(ins) != 2 {
			t.Fatalf("ListInstances = %+v, %v", ins, err)
		}
		byARN := map[string]store.Instance{}
		for _, in := range ins {
			byARN[in.ARN] = in
		}
		a := byARN[instanceA]
		want := store.Instance{ARN: instanceA, IdentityStoreID: storeA, OwnerAccountID: "111111111111", Name: "renamed", Status: "ACTIVE",
			EncryptionKeyType: "CUSTOMER_MANAGED_KEY", KMSKeyARN: key, CreatedAt: created}
		if a != want {
			t.Fatalf("updated instance = %+v\nwant %+v", a, want)
		}
		if b := byARN[instanceB]; b.IdentityStoreID != storeB || b.Name != "b" || b.KMSKeyARN != "" {
			t.Fatalf("the other instance changed: %+v", b)
		}
		return nil
	})
	err = s.Write(ctx, func(tx store.Tx) error {
		_, err := tx.UpdateInstance(ctx, "arn:aws:sso:::instance/ssoins-3333333333333333", func(*store.Instance) error { return nil })
		return err
	})
	isNotFound(t, "update of a missing instance", err)
}

func testAccessPermissionSets(t *testing.T, s store.Store) {
	accessInstances(t, s)
	full := permissionSet(instanceA, 2, "Admin")
	full.RelayState = "https://console.aws.amazon.com/ec2"
	full.ManagedPolicies = []store.ManagedPolicy{
		{ARN: "arn:aws:iam::aws:policy/ReadOnlyAccess", Name: "ReadOnlyAccess"},
		{ARN: "arn:aws:iam::aws:policy/job-function/ViewOnlyAccess", Name: "ViewOnlyAccess"},
	}
	full.CustomerPolicies = []store.CustomerPolicyRef{{Name: "Boundary", Path: "/"}, {Name: "Extra", Path: "/team/"}}
	full.InlinePolicy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`
	full.Boundary = &store.PermissionsBoundary{CustomerPolicy: &store.CustomerPolicyRef{Name: "Limit", Path: "/"}}
	full.Version = 3
	bare := permissionSet(instanceA, 1, "ReadOnly")
	otherInstance := permissionSet(instanceB, 1, "Admin") // the same name in another instance is another set
	insertAll(t, s, insertPS(full, bare, otherInstance))
	for name, ps := range map[string]store.PermissionSet{
		"taken name":  permissionSet(instanceA, 3, "Admin"),
		"reused ARN":  permissionSet(instanceA, 1, "Other"),
		"taken again": permissionSet(instanceB, 4, "Admin"),
	} {
		if err := s.Write(ctx, func(tx store.Tx) error { return tx.InsertPermissionSet(ctx, ps) }); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("%s: InsertPermissionSet = %v, want ErrConflict", name, err)
		}
	}
	read(t, s, func(tx store.Tx) error {
		for _, want := range []store.PermissionSet{full, bare, otherInstance} {
			got, err := tx.GetPermissionSet(ctx, want.InstanceARN, want.ARN)
			if err != nil || !reflect.DeepEqual(*got, want) {
				t.Fatalf("GetPermissionSet = %+v, %v\nwant %+v", got, err, want)
			}
		}
		_, err := tx.GetPermissionSet(ctx, instanceB, full.ARN)
		isNotFound(t, "a permission set seen through another instance", err)
		list, err := tx.ListPermissionSets(ctx, instanceA, "", 10)
		if err != nil || len(list) != 2 || list[0].ARN != bare.ARN || !reflect.DeepEqual(list[1], full) {
			t.Fatalf("ListPermissionSets = %+v, %v", list, err)
		}
		list, err = tx.ListPermissionSets(ctx, instanceA, bare.ARN, 10)
		if err != nil || len(list) != 1 || list[0].ARN != full.ARN {
			t.Fatalf("ListPermissionSets after a cursor = %+v, %v", list, err)
		}
		return nil
	})

	later := full.UpdatedAt.Add(time.Second)
	write(t, s, func(tx store.Tx) error {
		got, err := tx.UpdatePermissionSet(ctx, instanceA, full.ARN, func(ps *store.PermissionSet) error {
			ps.InstanceARN, ps.ARN, ps.CreatedAt = instanceB, "ignored", time.Time{} // identity and creation cannot be rewritten
			ps.Name, ps.SessionDuration, ps.Version, ps.UpdatedAt = "Administrators", "PT12H", 4, later
			ps.ManagedPolicies = ps.ManagedPolicies[1:]
			ps.CustomerPolicies = nil
			ps.Boundary = &store.PermissionsBoundary{ManagedPolicyARN: "arn:aws:iam::aws:policy/PowerUserAccess"}
			return nil
		})
		if err != nil || got.ARN != full.ARN || got.InstanceARN != instanceA || !got.CreatedAt.Equal(full.CreatedAt) {
			t.Fatalf("UpdatePermissionSet = %+v, %v", got, err)
		}
		return nil
	})
	want := full
	want.Name, want.SessionDuration, want.Version, want.UpdatedAt = "Administrators", "PT12H", 4, later
	want.ManagedPolicies, want.CustomerPolicies = full.ManagedPolicies[1:], nil
	want.Boundary = &store.PermissionsBoundary{ManagedPolicyARN: "arn:aws:iam::aws:policy/PowerUserAccess"}
	read(t, s, func(tx store.Tx) error {
		got, err := tx.GetPermissionSet(ctx, instanceA, full.ARN)
		if err != nil || !reflect.DeepEqual(*got, want) {
			t.Fatalf("after update = %+v, %v\nwant %+v", got, err, want)
		}
		return nil
	})
	// A taken name, a failing closure and a failure later in the
	// transaction all leave the set as it was; another instance cannot reach it.
	err := s.Write(ctx, func(tx store.Tx) error {
		_, err := tx.UpdatePermissionSet(ctx, instanceA, full.ARN, func(ps *store.PermissionSet) error { ps.Name = "ReadOnly"; return nil })
		return err
	})
	if !errors.Is(err, store.ErrConflict) {
		t.Fatalf("rename onto a taken name = %v, want ErrConflict", err)
	}
	boom := errors.New("boom")
	err = s.Write(ctx, func(tx store.Tx) error {
		_, err := tx.UpdatePermissionSet(ctx, instanceA, full.ARN, func(ps *store.PermissionSet) error { ps.Boundary = nil; return boom })
		return err
	})
	if !errors.Is(err, boom) {
		t.Fatalf("closure error = %v", err)
	}
	err = s.Write(ctx, func(tx store.Tx) error {
		if _, err := tx.UpdatePermissionSet(ctx, instanceA, full.ARN, func(ps *store.PermissionSet) error { ps.Version = 99; return nil }); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Write = %v", err)
	}
	err = s.Write(ctx, func(tx store.Tx) error {
		_, err := tx.UpdatePermissionSet(ctx, instanceB, full.ARN, func(*store.PermissionSet) error { return nil })
		return err
	})
	isNotFound(t, "update through another instance", err)
	read(t, s, func(tx store.Tx) error {
		got, err := tx.GetPermissionSet(ctx, instanceA, full.ARN)
		if err != nil || !reflect.DeepEqual(*got, want) {
			t.Fatalf("a failed update left traces: %+v, %v", got, err)
		}
		return nil
	})
	write(t, s, func(tx store.Tx) error {
		_, err := tx.UpdatePermissionSet(ctx, instanceA, full.ARN, func(ps *store.PermissionSet) error { ps.Boundary = nil; return nil })
		return err
	})
	read(t, s, func(tx store.Tx) error {
		if got, err := tx.GetPermissionSet(ctx, instanceA, full.ARN); err != nil || got.Boundary != nil {
			t.Fatalf("boundary removed = %+v, %v", got, err)
		}
		return nil
	})

	// Deleting takes the set's tags, and nothing else's.
	write(t, s, func(tx store.Tx) error {
		if err := tx.PutTags(ctx, full.ARN, []store.Tag{{Key: "team", Value: "ops"}}); err != nil {
			return err
		}
		return tx.PutTags(ctx, bare.ARN, []store.Tag{{Key: "team", Value: "dev"}})
	})
	isNotFound(t, "delete through another instance", s.Write(ctx, func(tx store.Tx) error { return tx.DeletePermissionSet(ctx, instanceB, full.ARN) }))
	write(t, s, func(tx store.Tx) error { return tx.DeletePermissionSet(ctx, instanceA, full.ARN) })
	read(t, s, func(tx store.Tx) error {
		_, err := tx.GetPermissionSet(ctx, instanceA, full.ARN)
		isNotFound(t, "deleted permission set", err)
		if tags, _ := tx.ListTags(ctx, full.ARN); len(tags) != 0 {
			t.Fatalf("tags of a deleted permission set remain: %+v", tags)
		}
		if tags, _ := tx.ListTags(ctx, bare.ARN); len(tags) != 1 {
			t.Fatalf("another set's tags went with it: %+v", tags)
		}
		return nil
	})
	isNotFound(t, "second delete", s.Write(ctx, func(tx store.Tx) error { return tx.DeletePermissionSet(ctx, instanceA, full.ARN) }))
	// The name is free again.
	insertAll(t, s, insertPS(permissionSet(instanceA, 5, "Administrators")))
}

func testAccessPermissionSetNameRace(t *testing.T, s store.Store) {
	accessInstances(t, s)
	const racers = 10
	ok, conflict := raceInserts(t, s, racers, func(tx store.Tx, i int) error {
		return tx.InsertPermissionSet(ctx, permissionSet(instanceA, 100+i, "Racing"))
	})
	if ok != 1 || conflict != racers-1 {
		t.Fatalf("racing creates of one permission set name: %d succeeded, %d conflicted", ok, conflict)
	}
	read(t, s, func(tx store.Tx) error {
		if list, _ := tx.ListPermissionSets(ctx, instanceA, "", 100); len(list) != 1 {
			t.Fatalf("%d permission sets after the race", len(list))
		}
		return nil
	})
}

func testAccessPermissionSetDeleteInUse(t *testing.T, s store.Store) {
	accessInstances(t, s)
	ps := permissionSet(instanceA, 1, "Used")
	u := user(1, "u")
	a := assignment(instanceA, acct(1), ps.ARN, store.PrincipalUser, u.ID)
	p := store.Provisioned{InstanceARN: instanceA, AccountID: acct(2), PermissionSetARN: ps.ARN, RoleName: "AWSReservedSSO_Used_0123456789abcdef",
		Version: 1, ProvisionedAt: now()}
	insertAll(t, s, insertPS(ps), insertUsers(u), insertAssignments(a), func(tx store.Tx) error {
		if err := tx.PutProvisioned(ctx, p); err != nil {
			return err
		}
		return tx.PutTags(ctx, ps.ARN, []store.Tag{{Key: "k", Value: "v"}})
	})
	stillThere := func(what string) {
		t.Helper()
		err := s.Write(ctx, func(tx store.Tx) error { return tx.DeletePermissionSet(ctx, instanceA, ps.ARN) })
		if !errors.Is(err, store.ErrConflict) {
			t.Fatalf("delete while %s = %v, want ErrConflict", what, err)
		}
		read(t, s, func(tx store.Tx) error {
			if _, err := tx.GetPermissionSet(ctx, instanceA, ps.ARN); err != nil {
				t.Fatalf("a refused delete removed the set: %v", err)
			}
			if tags, _ := tx.ListTags(ctx, ps.ARN); len(tags) != 1 {
				t.Fatalf("a refused delete removed the tags: %+v", tags)
			}
			return nil
		})
	}
	stillThere("assigned and provisioned")
	write(t, s, func(tx store.Tx) error { return tx.DeleteAssignment(ctx, a) })
	stillThere("provisioned")
	write(t, s, func(tx store.Tx) error {
		if err := tx.InsertAssignment(ctx, a); err != nil {
			return err
		}
		return tx.DeleteProvisioned(ctx, instanceA, p.AccountID, ps.ARN)
	})
	stillThere("assigned")
	write(t, s, func(tx store.Tx) error { return tx.DeleteAssignment(ctx, a) })
	write(t, s, func(tx store.Tx) error { return tx.DeletePermissionSet(ctx, instanceA, ps.ARN) })
}

// Assignments and provisioning records made while their permission set is
// being deleted either stop the delete or fail: none outlives its set.
func testAccessPermissionSetDeleteRace(t *testing.T, s store.Store) {
	accessInstances(t, s)
	const sets = 15
	u := user(1, "u")
	insertAll(t, s, insertUsers(u), func(tx store.Tx) error {
		for i := 0; i < sets; i++ {
			if err := tx.InsertPermissionSet(ctx, permissionSet(instanceA, i, "racer"+strconv.Itoa(i))); err != nil {
				return err
			}
		}
		return nil
	})
	var wg sync.WaitGroup
	for i := 0; i < sets; i++ {
		arn := psARN(instanceA, i)
		wg.Add(3)
		go func() {
			defer wg.Done()
			err := s.Write(ctx, func(tx store.Tx) error {
				return tx.InsertAssignment(ctx, assignment(instanceA, acct(1), arn, store.PrincipalUser, u.ID))
			})
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				t.Error(err)
			}
		}()
		go func() {
			defer wg.Done()
			err := s.Write(ctx, func(tx store.Tx) error {
				return tx.PutProvisioned(ctx, store.Provisioned{InstanceARN: instanceA, AccountID: acct(2), PermissionSetARN: arn, RoleName: "r", Version: 1})
			})
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				t.Error(err)
			}
		}()
		go func() {
			defer wg.Done()
			err := s.Write(ctx, func(tx store.Tx) error { return tx.DeletePermissionSet(ctx, instanceA, arn) })
			if err != nil && !errors.Is(err, store.ErrConflict) {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	// Provisioning records are read through their set, so an orphan shows
	// only to a delete; the deletes are rolled back.
	errDone := errors.New("done")
	err := s.Write(ctx, func(tx store.Tx) error {
		for i := 0; i < sets; i++ {
			arn := psARN(instanceA, i)
			if _, err := tx.GetPermissionSet(ctx, instanceA, arn); err == nil {
				continue
			}
			if n, _ := tx.CountAssignments(ctx, instanceA, acct(1), arn); n != 0 {
				t.Errorf("an assignment outlived permission set %d", i)
			}
			if err := tx.DeleteProvisioned(ctx, instanceA, acct(2), arn); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("a provisioning record outlived permission set %d: %v", i, err)
			}
		}
		return errDone
	})
	if !errors.Is(err, errDone) {
		t.Fatal(err)
	}
}

func testAccessAssignments(t *testing.T, s store.Store) {
	accessInstances(t, s)
	ps1, ps2 := permissionSet(instanceA, 1, "one"), permissionSet(instanceA, 2, "two")
	u1, u2 := user(1, "u1"), user(2, "u2")
	g := group(3, "g")
	otherUser := user(4, "elsewhere")
	otherUser.IdentityStoreID = storeB
	insertAll(t, s, insertPS(ps1, ps2), insertUsers(u1, u2, otherUser), insertGroups(g))
	a := assignment(instanceA, acct(1), ps1.ARN, store.PrincipalUser, u1.ID)
	same := []store.AccountAssignment{ // one account and permission set, listed by principal
		a,
		assignment(instanceA, acct(1), ps1.ARN, store.PrincipalUser, u2.ID),
		assignment(instanceA, acct(1), ps1.ARN, store.PrincipalGroup, g.ID),
	}
	insertAll(t, s, insertAssignments(same...), insertAssignments(
		assignment(instanceA, acct(1), ps2.ARN, store.PrincipalUser, u1.ID),
		assignment(instanceA, acct(2), ps1.ARN, store.PrincipalUser, u1.ID),
	))
	for name, tc := range map[string]struct {
		a    store.AccountAssignment
		want error
	}{
		"duplicate":             {a, store.ErrConflict},
		"missing user":          {assignment(instanceA, acct(1), ps1.ARN, store.PrincipalUser, dirID(99)), store.ErrUserMissing},
		"missing group":         {assignment(instanceA, acct(1), ps1.ARN, store.PrincipalGroup, dirID(99)), store.ErrGroupMissing},
		"user as group":         {assignment(instanceA, acct(1), ps1.ARN, store.PrincipalGroup, u1.ID), store.ErrGroupMissing},
		"other store's user":    {assignment(instanceA, acct(1), ps1.ARN, store.PrincipalUser, otherUser.ID), store.ErrUserMissing},
		"missing set":           {assignment(instanceA, acct(1), psARN(instanceA, 9), store.PrincipalUser, u2.ID), store.ErrNotFound},
		"other instance's set":  {assignment(instanceB, acct(1), ps1.ARN, store.PrincipalUser, otherUser.ID), store.ErrNotFound},
		"unknown instance user": {assignment("arn:aws:sso:::instance/ssoins-3333333333333333", acct(1), ps1.ARN, store.PrincipalUser, u1.ID), store.ErrUserMissing},
	} {
		err := s.Write(ctx, func(tx store.Tx) error { return tx.InsertAssignment(ctx, tc.a) })
		if !errors.Is(err, tc.want) {
			t.Fatalf("%s: InsertAssignment = %v, want %v", name, err, tc.want)
		}
	}
	// A repeat is answered without breaking the transaction it is in (a
	// unique violation aborts the whole transaction on PostgreSQL): the
	// provisioning job goes on to record its request as succeeded.
	err := s.Write(ctx, func(tx store.Tx) error {
		if err := tx.InsertAssignment(ctx, a); !errors.Is(err, store.ErrConflict) {
			return fmt.Errorf("repeat: %v, want ErrConflict", err)
		}
		_, err := tx.ListAssignments(ctx, instanceA, a.AccountID, a.PermissionSetARN, "", 10)
		return err
	})
	if err != nil {
		t.Fatalf("the transaction after a repeated InsertAssignment: %v", err)
	}
	slices.SortFunc(same, func(x, y store.AccountAssignment) int { return strings.Compare(x.Key(), y.Key()) })
	read(t, s, func(tx store.Tx) error {
		list, err := tx.ListAssignments(ctx, instanceA, acct(1), ps1.ARN, "", 10)
		if err != nil || !reflect.DeepEqual(list, same) {
			t.Fatalf("ListAssignments = %+v, %v\nwant %+v", list, err, same)
		}
		list, err = tx.ListAssignments(ctx, instanceA, acct(1), ps1.ARN, same[0].Key(), 1)
		if err != nil || len(list) != 1 || list[0] != same[1] {
			t.Fatalf("ListAssignments after a cursor = %+v, %v", list, err)
		}
		if list, _ := tx.ListAssignments(ctx, instanceB, acct(1), ps1.ARN, "", 10); len(list) != 0 {
			t.Fatalf("ListAssignments through another instance = %+v", list)
		}
		for _, c := range []struct {
			account, ps string
			want        int
		}{{acct(1), ps1.ARN, 3}, {acct(1), ps2.ARN, 1}, {acct(2), ps1.ARN, 1}, {acct(2), ps2.ARN, 0}} {
			if n, err := tx.CountAssignments(ctx, instanceA, c.account, c.ps); err != nil || n != c.want {
				t.Fatalf("CountAssignments(%s, %s) = %d, %v; want %d", c.account, c.ps, n, err, c.want)
			}
		}
		return nil
	})
	write(t, s, func(tx store.Tx) error { return tx.DeleteAssignment(ctx, a) })
	isNotFound(t, "second assignment delete", s.Write(ctx, func(tx store.Tx) error { return tx.DeleteAssignment(ctx, a) }))
	read(t, s, func(tx store.Tx) error {
		if list, err := tx.ListAssignments(ctx, instanceA, acct(1), ps1.ARN, "", 10); err != nil || slices.Contains(list, a) {
			t.Fatalf("ListAssignments after the delete = %+v, %v", list, err)
		}
		if n, _ := tx.CountAssignments(ctx, instanceA, acct(1), ps1.ARN); n != 2 {
			t.Fatalf("count after delete = %d", n)
		}
		return nil
	})
	insertAll(t, s, insertAssignments(a)) // free again
}

func testAccessAssignmentCascade(t *testing.T, s store.Store) {
	accessInstances(t, s)
	ps := permissionSet(instanceA, 1, "ps")
	u1, u2 := user(1, "u1"), user(2, "u2")
	g1, g2 := group(3, "g1"), group(4, "g2")
	insertAll(t, s, insertPS(ps), insertUsers(u1, u2), insertGroups(g1, g2), func(tx store.Tx) error {
		for _, account := range []string{acct(1), acct(2)} {
			for _, p := range []store.PrincipalRef{{Type: store.PrincipalUser, ID: u1.ID}, {Type: store.PrincipalUser, ID: u2.ID}, {Type: store.PrincipalGroup, ID: g1.ID}, {Type: store.PrincipalGroup, ID: g2.ID}} {
				if err := tx.InsertAssignment(ctx, assignment(instanceA, account, ps.ARN, p.Type, p.ID)); err != nil {
					return err
				}
			}
		}
		return nil
	})
	principalsLeft := func() []string {
		var list []store.AccountAssignment
		read(t, s, func(tx store.Tx) error {
			var err error
			list, err = tx.ListAssignments(ctx, instanceA, acct(1), ps.ARN, "", 100)
			more, _ := tx.ListAssignments(ctx, instanceA, acct(2), ps.ARN, "", 100)
			list = append(list, more...)
			return err
		})
		var out []string
		for _, a := range list {
			out = append(out, a.AccountID[len(a.AccountID)-1:]+" "+a.PrincipalType+" "+a.PrincipalID[len(a.PrincipalID)-1:])
		}
		return out
	}
	write(t, s, func(tx store.Tx) error { return tx.DeleteUser(ctx, storeA, u1.ID) })
	write(t, s, func(tx store.Tx) error { return tx.DeleteGroup(ctx, storeA, g1.ID) })
	want := []string{"1 GROUP 4", "1 USER 2", "2 GROUP 4", "2 USER 2"}
	if got := principalsLeft(); !slices.Equal(got, want) {
		t.Fatalf("assignments after deleting u1 and g1 = %v, want %v", got, want)
	}
	// A delete that fails later in its transaction takes nothing with it.
	boom := errors.New("boom")
	err := s.Write(ctx, func(tx store.Tx) error {
		if err := tx.DeleteGroup(ctx, storeA, g2.ID); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Write = %v", err)
	}
	if got := principalsLeft(); !slices.Equal(got, want) {
		t.Fatalf("a rolled-back delete removed assignments: %v", got)
	}
}

// Assignments created while their principal is being deleted either are
// deleted with it or fail: none outlives its principal.
func testAccessAssignmentPrincipalDeleteRace(t *testing.T, s store.Store) {
	accessInstances(t, s)
	const principals = 16
	ps := permissionSet(instanceA, 1, "ps")
	insertAll(t, s, insertPS(ps), func(tx store.Tx) error {
		for i := 0; i < principals; i++ {
			if i%2 == 0 {
				if err := tx.InsertUser(ctx, user(100+i, "racer"+strconv.Itoa(i))); err != nil {
					return err
				}
			} else if err := tx.InsertGroup(ctx, group(100+i, "racer"+strconv.Itoa(i))); err != nil {
				return err
			}
		}
		return nil
	})
	var wg sync.WaitGroup
	for i := 0; i < principals; i++ {
		typ := []string{store.PrincipalUser, store.PrincipalGroup}[i%2]
		wg.Add(2)
		go func() {
			defer wg.Done()
			err := s.Write(ctx, func(tx store.Tx) error {
				return tx.InsertAssignment(ctx, assignment(instanceA, acct(1), ps.ARN, typ, dirID(100+i)))
			})
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				t.Error(err)
			}
		}()
		go func() {
			defer wg.Done()
			err := s.Write(ctx, func(tx store.Tx) error {
				if typ == store.PrincipalUser {
					return tx.DeleteUser(ctx, storeA, dirID(100+i))
				}
				return tx.DeleteGroup(ctx, storeA, dirID(100+i))
			})
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	read(t, s, func(tx store.Tx) error {
		if list, _ := tx.ListAssignments(ctx, instanceA, acct(1), ps.ARN, "", 100); len(list) != 0 {
			t.Fatalf("%d assignments outlived their principals: %+v", len(list), list)
		}
		return nil
	})
}

// A user in 50 groups sees the assignments of all 51 principals and of no
// one else, in Key order, a page at a time, in every account or in one.
func testAccessAssignmentsForPrincipals(t *testing.T, s store.Store) {
	accessInstances(t, s)
	const groups, accounts, sets = 60, 4, 3
	me := user(1, "me")
	other := user(2, "other")
	var gs []store.Group
	for i := 0; i < groups; i++ {
		gs = append(gs, group(1000+i, "g"+strconv.Itoa(i)))
	}
	var pss []store.PermissionSet
	for i := 0; i < sets; i++ {
		pss = append(pss, permissionSet(instanceA, i, "ps"+strconv.Itoa(i)))
	}
	// Mine: me and the first 50 groups (in shuffled order, with a repeat).
	mine := []store.PrincipalRef{{Type: store.PrincipalUser, ID: me.ID}}
	for i := 49; i >= 0; i-- {
		mine = append(mine, store.PrincipalRef{Type: store.PrincipalGroup, ID: gs[i].ID})
	}
	mine = append(mine, mine[3])
	var all []store.AccountAssignment
	for a := 0; a < accounts; a++ {
		for p, ps := range pss {
			if (a+p)%2 == 0 {
				all = append(all, assignment(instanceA, acct(a), ps.ARN, store.PrincipalUser, me.ID))
			}
			all = append(all, assignment(instanceA, acct(a), ps.ARN, store.PrincipalUser, other.ID))
			for i, g := range gs {
				if (i+a+p)%3 != 0 {
					all = append(all, assignment(instanceA, acct(a), ps.ARN, store.PrincipalGroup, g.ID))
				}
			}
		}
	}
	insertAll(t, s, insertPS(pss...), insertUsers(me, other), insertGroups(gs...), insertAssignments(all...))
	want := func(principals []store.PrincipalRef, account string) []string {
		of := map[store.PrincipalRef]bool{}
		for _, p := range principals {
			of[p] = true
		}
		var out []string
		for _, a := range all {
			if of[store.PrincipalRef{Type: a.PrincipalType, ID: a.PrincipalID}] && (account == "" || a.AccountID == account) {
				out = append(out, a.Key())
			}
		}
		slices.Sort(out)
		return out
	}
	walk := func(principals []store.PrincipalRef, account string, pageSize int) []string {
		var got []string
		after := ""
		for {
			var page []store.AccountAssignment
			read(t, s, func(tx store.Tx) error {
				var err error
				page, err = tx.ListAssignmentsForPrincipals(ctx, instanceA, principals, account, after, pageSize)
				return err
			})
			got = append(got, keys(page)...)
			if len(page) < pageSize || len(got) > len(all) {
				return got
			}
			after = page[len(page)-1].Key()
		}
	}
	// More principals than one query takes: every group, and many that
	// have nothing (or do not exist).
	many := []store.PrincipalRef{{Type: store.PrincipalUser, ID: me.ID}}
	for _, g := range gs {
		many = append(many, store.PrincipalRef{Type: store.PrincipalGroup, ID: g.ID})
	}
	for i := 0; i < 200; i++ {
		many = append(many, store.PrincipalRef{Type: []string{store.PrincipalUser, store.PrincipalGroup}[i%2], ID: dirID(5000 + i)})
	}
	for _, principals := range [][]store.PrincipalRef{mine, many} {
		for _, account := range []string{"", acct(2)} {
			w := want(principals, account)
			if len(w) == 0 {
				t.Fatal("the fixture assigns nothing to these principals")
			}
			for _, pageSize := range []int{7, 1000} {
				if got := walk(principals, account, pageSize); !slices.Equal(got, w) {
					t.Fatalf("%d principals, account %q, pages of %d: %d assignments\n%v\nwant %d\n%v",
						len(principals), account, pageSize, len(got), got, len(w), w)
				}
			}
		}
	}
	read(t, s, func(tx store.Tx) error {
		list, err := tx.ListAssignmentsForPrincipals(ctx, instanceA, mine, "", "", 1)
		if err != nil || len(list) != 1 || list[0].InstanceARN != instanceA || list[0].CreatedAt.IsZero() {
			t.Fatalf("first assignment = %+v, %v", list, err)
		}
		if list, err := tx.ListAssignmentsForPrincipals(ctx, instanceA, nil, "", "", 10); err != nil || len(list) != 0 {
			t.Fatalf("no principals = %+v, %v", list, err)
		}
		if list, _ := tx.ListAssignmentsForPrincipals(ctx, instanceB, mine, "", "", 10); len(list) != 0 {
			t.Fatalf("another instance's assignments = %+v", list)
		}
		// The same principal ids under another type never match.
		swapped := []store.PrincipalRef{{Type: store.PrincipalGroup, ID: me.ID}, {Type: store.PrincipalUser, ID: gs[0].ID}}
		if list, _ := tx.ListAssignmentsForPrincipals(ctx, instanceA, swapped, "", "", 10); len(list) != 0 {
			t.Fatalf("principal ids matched under the wrong type: %+v", list)
		}
		return nil
	})
}

func testAccessAssignmentPagination(t *testing.T, s store.Store) {
	accessInstances(t, s)
	const n, pageSize = 40, 7
	// The walk's own inserts go to between, so they never collide with the
	// concurrent ones (a conflict would end a PostgreSQL transaction).
	ps, between := permissionSet(instanceA, 1, "ps"), permissionSet(instanceA, 2, "between")
	me := user(1, "me")
	var gs []store.Group
	for i := 0; i < 3; i++ {
		gs = append(gs, group(10+i, "g"+strconv.Itoa(i)))
	}
	principals := []store.PrincipalRef{{Type: store.PrincipalUser, ID: me.ID}}
	for _, g := range gs {
		principals = append(principals, store.PrincipalRef{Type: store.PrincipalGroup, ID: g.ID})
	}
	// Accounts 100, 200, … : later ones land before, between and after them.
	listed := map[string]bool{}
	var first []store.AccountAssignment
	for i := 0; i < n; i++ {
		p := principals[i%len(principals)]
		a := assignment(instanceA, acct(100*(1+i/len(principals))), ps.ARN, p.Type, p.ID)
		first = append(first, a)
		listed[a.Key()] = true
	}
	insertAll(t, s, insertPS(ps, between), insertUsers(me), insertGroups(gs...), insertAssignments(first...))
	stop, started := make(chan struct{}), make(chan struct{})
	inserted := make(chan int, 1)
	var startOnce sync.Once
	go func() {
		k := 0
		defer func() { startOnce.Do(func() { close(started) }); inserted <- k }()
		for ; k < 3000; k++ {
			select {
			case <-stop:
				return
			default:
			}
			if k == 20 {
				startOnce.Do(func() { close(started) }) // the walk starts once inserts are flowing
			}
			p := principals[k%len(principals)]
			account := []int{1 + k, 100*(1+k%10) + 1 + k/4, 100000 + k}[k%3]
			err := s.Write(ctx, func(tx store.Tx) error {
				return tx.InsertAssignment(ctx, assignment(instanceA, acct(account), ps.ARN, p.Type, p.ID))
			})
			if err != nil && !errors.Is(err, store.ErrConflict) {
				t.Error(err)
				return
			}
		}
	}()
	<-started
	seen := map[string]bool{}
	after, pages := "", 0
	for {
		var page []store.AccountAssignment
		read(t, s, func(tx store.Tx) error {
			var err error
			page, err = tx.ListAssignmentsForPrincipals(ctx, instanceA, principals, "", after, pageSize)
			return err
		})
		for _, a := range page {
			k := a.Key()
			if seen[k] {
				t.Fatalf("assignment %s listed twice", k)
			}
			if k <= after {
				t.Fatalf("assignment %s listed after cursor %s", k, after)
			}
			seen[k] = true
		}
		if len(page) < pageSize {
			break
		}
		after = page[len(page)-1].Key()
		if pages++; pages > 1000 {
			t.Fatalf("the walk does not end: after %q", after)
		}
		// And some arrive right between two pages: before the cursor, just after it, at the end.
		write(t, s, func(tx store.Tx) error {
			for j, account := range []int{50 + pages, 100*(1+len(seen)/pageSize) + 99, 900000 + pages} {
				p := principals[j]
				if err := tx.InsertAssignment(ctx, assignment(instanceA, acct(account), between.ARN, p.Type, p.ID)); err != nil {
					return err
				}
			}
			return nil
		})
	}
	close(stop)
	t.Logf("%d assignments inserted during the walk of %d pages", <-inserted, pages)
	for k := range listed {
		if !seen[k] {
			t.Fatalf("assignment %s missed by the walk", k)
		}
	}
}

func testAccessProvisioned(t *testing.T, s store.Store) {
	accessInstances(t, s)
	ps1, ps2 := permissionSet(instanceA, 1, "one"), permissionSet(instanceA, 2, "two")
	insertAll(t, s, insertPS(ps1, ps2))
	prov := func(account string, ps store.PermissionSet) store.Provisioned {
		return store.Provisioned{InstanceARN: instanceA, AccountID: account, PermissionSetARN: ps.ARN,
			RoleName: "AWSReservedSSO_" + ps.Name + "_0123456789abcdef", Version: ps.Version, ProvisionedAt: now()}
	}
	p := prov(acct(1), ps1)
	write(t, s, func(tx store.Tx) error {
		for _, x := range []store.Provisioned{p, prov(acct(2), ps1), prov(acct(3), ps1), prov(acct(1), ps2)} {
			if err := tx.PutProvisioned(ctx, x); err != nil {
				return err
			}
		}
		return nil
	})
	isNotFound(t, "provisioning a missing set", s.Write(ctx, func(tx store.Tx) error {
		return tx.PutProvisioned(ctx, prov(acct(1), permissionSet(instanceA, 9, "x")))
	}))
	isNotFound(t, "provisioning another instance's set", s.Write(ctx, func(tx store.Tx) error {
		x := prov(acct(1), ps1)
		x.InstanceARN = instanceB
		return tx.PutProvisioned(ctx, x)
	}))
	read(t, s, func(tx store.Tx) error {
		got, err := tx.GetProvisioned(ctx, instanceA, acct(1), ps1.ARN)
		if err != nil || *got != p {
			t.Fatalf("GetProvisioned = %+v, %v; want %+v", got, err, p)
		}
		_, err = tx.GetProvisioned(ctx, instanceB, acct(1), ps1.ARN)
		isNotFound(t, "provisioning seen through another instance", err)
		_, err = tx.GetProvisioned(ctx, instanceA, acct(4), ps1.ARN)
		isNotFound(t, "not provisioned there", err)
		return nil
	})
	// ps1 changes: every account it is provisioned to is outdated until
	// provisioned again; ps2 stays current.
	write(t, s, func(tx store.Tx) error {
		_, err := tx.UpdatePermissionSet(ctx, instanceA, ps1.ARN, func(ps *store.PermissionSet) error { ps.Version++; return nil })
		return err
	})
	ps1.Version++
	write(t, s, func(tx store.Tx) error { return tx.PutProvisioned(ctx, prov(acct(2), ps1)) })
	yes, no := true, false
	accounts := func(ps string, outdated *bool, after string, limit int) string {
		var list []store.Provisioned
		read(t, s, func(tx store.Tx) error {
			var err error
			list, err = tx.ListProvisionedAccounts(ctx, instanceA, ps, outdated, after, limit)
			return err
		})
		var out []string
		for _, x := range list {
			out = append(out, fmt.Sprintf("%s:v%d:%v", x.AccountID[len(x.AccountID)-1:], x.Version, x.Outdated))
		}
		return fmt.Sprint(out)
	}
	for _, c := range []struct {
		ps       string
		outdated *bool
		after    string
		limit    int
		want     string
	}{
		{ps1.ARN, nil, "", 10, "[1:v1:true 2:v2:false 3:v1:true]"},
		{ps1.ARN, &yes, "", 10, "[1:v1:true 3:v1:true]"},
		{ps1.ARN, &no, "", 10, "[2:v2:false]"},
		{ps1.ARN, &yes, acct(1), 10, "[3:v1:true]"},
		{ps1.ARN, nil, acct(1), 1, "[2:v2:false]"},
		{ps1.ARN, &yes, "", 1, "[1:v1:true]"},
		{ps2.ARN, &yes, "", 10, "[]"},
		{ps2.ARN, &no, "", 10, "[1:v1:false]"},
	} {
		if got := accounts(c.ps, c.outdated, c.after, c.limit); got != c.want {
			t.Fatalf("ListProvisionedAccounts(%s, outdated %v, after %q) = %s, want %s", c.ps[len(c.ps)-2:], c.outdated, c.after, got, c.want)
		}
	}
	sets := func(account string, outdated *bool, after string) []string {
		var list []store.Provisioned
		read(t, s, func(tx store.Tx) error {
			var err error
			list, err = tx.ListProvisionedPermissionSets(ctx, instanceA, account, outdated, after, 10)
			return err
		})
		var out []string
		for _, x := range list {
			out = append(out, x.PermissionSetARN)
		}
		return out
	}
	for _, c := range []struct {
		account  string
		outdated *bool
		after    string
		want     []string
	}{
		{acct(1), nil, "", []string{ps1.ARN, ps2.ARN}},
		{acct(1), &yes, "", []string{ps1.ARN}},
		{acct(1), &no, "", []string{ps2.ARN}},
		{acct(1), nil, ps1.ARN, []string{ps2.ARN}},
		{acct(2), &no, "", []string{ps1.ARN}},
		{acct(4), nil, "", nil},
	} {
		if got := sets(c.account, c.outdated, c.after); !slices.Equal(got, c.want) {
			t.Fatalf("ListProvisionedPermissionSets(%s, outdated %v, after %q) = %v, want %v", c.account, c.outdated, c.after, got, c.want)
		}
	}
	// Provisioning again replaces the record.
	again := prov(acct(1), ps1)
	again.RoleName = "AWSReservedSSO_one_fedcba9876543210"
	write(t, s, func(tx store.Tx) error { return tx.PutProvisioned(ctx, again) })
	read(t, s, func(tx store.Tx) error {
		got, err := tx.GetProvisioned(ctx, instanceA, acct(1), ps1.ARN)
		if err != nil || *got != again {
			t.Fatalf("replaced record = %+v, %v; want %+v", got, err, again)
		}
		return nil
	})
	if got := accounts(ps1.ARN, &yes, "", 10); got != "[3:v1:true]" {
		t.Fatalf("outdated after provisioning again = %s", got)
	}
	write(t, s, func(tx store.Tx) error { return tx.DeleteProvisioned(ctx, instanceA, acct(1), ps1.ARN) })
	isNotFound(t, "second DeleteProvisioned", s.Write(ctx, func(tx store.Tx) error { return tx.DeleteProvisioned(ctx, instanceA, acct(1), ps1.ARN) }))
	isNotFound(t, "DeleteProvisioned through another instance", s.Write(ctx, func(tx store.Tx) error {
		return tx.DeleteProvisioned(ctx, instanceB, acct(2), ps1.ARN)
	}))
}

func testAccessDeleteAccountAccess(t *testing.T, s store.Store) {
	accessInstances(t, s)
	psA, psB := permissionSet(instanceA, 1, "a"), permissionSet(instanceB, 1, "b")
	ua := user(1, "ua")
	ub := user(2, "ub")
	ub.IdentityStoreID = storeB
	closing, staying := acct(1), acct(2)
	insertAll(t, s, insertPS(psA, psB), insertUsers(ua, ub), func(tx store.Tx) error {
		for _, account := range []string{closing, staying} {
			for _, x := range []struct {
				instance, ps, user string
			}{{instanceA, psA.ARN, ua.ID}, {instanceB, psB.ARN, ub.ID}} {
				if err := tx.InsertAssignment(ctx, assignment(x.instance, account, x.ps, store.PrincipalUser, x.user)); err != nil {
					return err
				}
				err := tx.PutProvisioned(ctx, store.Provisioned{InstanceARN: x.instance, AccountID: account, PermissionSetARN: x.ps, RoleName: "r", Version: 1})
				if err != nil {
					return err
				}
			}
		}
		return nil
	})
	write(t, s, func(tx store.Tx) error { return tx.DeleteAccountAccess(ctx, closing) })
	write(t, s, func(tx store.Tx) error { return tx.DeleteAccountAccess(ctx, acct(3)) }) // nothing there: no error
	read(t, s, func(tx store.Tx) error {
		for _, x := range []struct{ instance, ps string }{{instanceA, psA.ARN}, {instanceB, psB.ARN}} {
			if n, _ := tx.CountAssignments(ctx, x.instance, closing, x.ps); n != 0 {
				t.Fatalf("%d assignments remain in the closed account", n)
			}
			if list, _ := tx.ListProvisionedPermissionSets(ctx, x.instance, closing, nil, "", 10); len(list) != 0 {
				t.Fatalf("provisioning remains in the closed account: %+v", list)
			}
			if n, _ := tx.CountAssignments(ctx, x.instance, staying, x.ps); n != 1 {
				t.Fatalf("another account lost its assignments: %d", n)
			}
			if list, _ := tx.ListProvisionedAccounts(ctx, x.instance, x.ps, nil, "", 10); len(list) != 1 || list[0].AccountID != staying {
				t.Fatalf("provisioned accounts = %+v", list)
			}
		}
		return nil
	})
}

func accessRequest(instanceARN, kind string, n int, status string) store.AccessRequest {
	return store.AccessRequest{InstanceARN: instanceARN, Kind: kind, ID: fmt.Sprintf("00000000-0000-4000-8000-%012d", n), Status: status,
		TargetID: acct(1), TargetType: "AWS_ACCOUNT", PermissionSetARN: psARN(instanceARN, n%2), PrincipalType: store.PrincipalUser,
		PrincipalID: dirID(n), CreatedAt: now()}
}

func testAccessRequests(t *testing.T, s store.Store) {
	accessInstances(t, s)
	var all []store.AccessRequest
	for i, status := range []string{store.StatusInProgress, store.StatusSucceeded, store.StatusFailed, store.StatusInProgress, store.StatusInProgress} {
		all = append(all, accessRequest(instanceA, store.RequestAssignmentCreation, i, status))
	}
	failed := &all[2]
	failed.FailureReason, failed.CompletedAt = "Received a 404 status error: Assignment not found", now()
	prov := accessRequest(instanceA, store.RequestProvisioning, 0, store.StatusInProgress) // same id, another kind
	prov.TargetID, prov.TargetType, prov.PrincipalType, prov.PrincipalID = "", "ALL_PROVISIONED_ACCOUNTS", "", ""
	elsewhere := accessRequest(instanceB, store.RequestAssignmentCreation, 0, store.StatusInProgress)
	write(t, s, func(tx store.Tx) error {
		for _, r := range append(all, prov, elsewhere) {
			if err := tx.InsertAccessRequest(ctx, r); err != nil {
				return err
			}
		}
		return nil
	})
	if err := s.Write(ctx, func(tx store.Tx) error { return tx.InsertAccessRequest(ctx, all[0]) }); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("reused request id = %v, want ErrConflict", err)
	}
	ids := func(list []store.AccessRequest) []string {
		var out []string
		for _, r := range list {
			out = append(out, r.ID[len(r.ID)-1:])
		}
		return out
	}
	read(t, s, func(tx store.Tx) error {
		for _, want := range []store.AccessRequest{all[0], all[2], prov, elsewhere} {
			got, err := tx.GetAccessRequest(ctx, want.InstanceARN, want.Kind, want.ID)
			if err != nil || *got != want {
				t.Fatalf("GetAccessRequest = %+v, %v; want %+v", got, err, want)
			}
		}
		_, err := tx.GetAccessRequest(ctx, instanceA, store.RequestAssignmentDeletion, all[0].ID)
		isNotFound(t, "a request under another kind", err)
		_, err = tx.GetAccessRequest(ctx, instanceB, store.RequestAssignmentCreation, all[1].ID)
		isNotFound(t, "a request through another instance", err)
		for _, c := range []struct {
			status, after string
			limit         int
			want          []string
		}{
			{"", "", 10, []string{"0", "1", "2", "3", "4"}},
			{"", all[1].ID, 2, []string{"2", "3"}},
			{store.StatusInProgress, "", 10, []string{"0", "3", "4"}},
			{store.StatusInProgress, all[0].ID, 10, []string{"3", "4"}},
			{store.StatusSucceeded, "", 10, []string{"1"}},
		} {
			list, err := tx.ListAccessRequests(ctx, instanceA, store.RequestAssignmentCreation, c.status, c.after, c.limit)
			if err != nil || !slices.Equal(ids(list), c.want) {
				t.Fatalf("ListAccessRequests(%q, after %q) = %v, %v; want %v", c.status, c.after, ids(list), err, c.want)
			}
		}
		list, err := tx.ListAccessRequests(ctx, instanceA, store.RequestProvisioning, "", "", 10)
		if err != nil || len(list) != 1 || list[0] != prov {
			t.Fatalf("provisioning requests = %+v, %v", list, err)
		}
		return nil
	})

	done := now().Add(time.Second)
	write(t, s, func(tx store.Tx) error {
		got, err := tx.SettleAccessRequest(ctx, instanceA, store.RequestAssignmentCreation, all[0].ID, func(r *store.AccessRequest) error {
			if r.Status != store.StatusInProgress {
				return fmt.Errorf("closure saw status %s", r.Status)
			}
			// Only the outcome is stored: what was asked for stays as asked.
			r.InstanceARN, r.Kind, r.ID, r.CreatedAt = instanceB, store.RequestProvisioning, "ignored", time.Time{}
			r.TargetID, r.TargetType, r.PermissionSetARN, r.PrincipalType, r.PrincipalID = "999999999999", "ignored", "ignored", "GROUP", "ignored"
			r.Status, r.FailureReason, r.CompletedAt = store.StatusSucceeded, "", done
			return nil
		})
		if err != nil || got.ID != all[0].ID || got.Kind != store.RequestAssignmentCreation || got.Status != store.StatusSucceeded {
			t.Fatalf("SettleAccessRequest = %+v, %v", got, err)
		}
		return nil
	})
	want := all[0]
	want.Status, want.CompletedAt = store.StatusSucceeded, done
	boom := errors.New("boom")
	err := s.Write(ctx, func(tx store.Tx) error {
		_, err := tx.SettleAccessRequest(ctx, instanceA, store.RequestAssignmentCreation, all[0].ID, func(r *store.AccessRequest) error {
			r.Status = store.StatusFailed
			return boom
		})
		return err
	})
	if !errors.Is(err, boom) {
		t.Fatalf("closure error = %v", err)
	}
	read(t, s, func(tx store.Tx) error {
		got, err := tx.GetAccessRequest(ctx, instanceA, store.RequestAssignmentCreation, all[0].ID)
		if err != nil || *got != want {
			t.Fatalf("after updates = %+v, %v; want %+v", got, err, want)
		}
		if got, _ := tx.GetAccessRequest(ctx, instanceA, store.RequestProvisioning, all[0].ID); *got != prov {
			t.Fatalf("the same id of another kind changed: %+v", got)
		}
		return nil
	})
	for name, key := range map[string][3]string{
		"missing id":       {instanceA, store.RequestAssignmentCreation, "00000000-0000-4000-8000-999999999999"},
		"another kind":     {instanceA, store.RequestAssignmentDeletion, all[1].ID},
		"another instance": {instanceB, store.RequestAssignmentCreation, all[1].ID},
	} {
		err := s.Write(ctx, func(tx store.Tx) error {
			_, err := tx.SettleAccessRequest(ctx, key[0], key[1], key[2], func(*store.AccessRequest) error { return nil })
			return err
		})
		isNotFound(t, "SettleAccessRequest of a "+name, err)
	}
}

// Workers finishing parts of one request each see the previous one's
// result: none is lost.
func testAccessRequestConcurrentUpdates(t *testing.T, s store.Store) {
	const writers, each = 6, 10
	accessInstances(t, s)
	r := accessRequest(instanceA, store.RequestProvisioning, 1, store.StatusInProgress)
	r.FailureReason = "0"
	write(t, s, func(tx store.Tx) error { return tx.InsertAccessRequest(ctx, r) })
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				err := s.Write(ctx, func(tx store.Tx) error {
					_, err := tx.SettleAccessRequest(ctx, instanceA, r.Kind, r.ID, func(x *store.AccessRequest) error {
						n, err := strconv.Atoi(x.FailureReason)
						x.FailureReason = strconv.Itoa(n + 1)
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
		got, err := tx.GetAccessRequest(ctx, instanceA, r.Kind, r.ID)
		if err != nil || got.FailureReason != strconv.Itoa(writers*each) {
			t.Fatalf("counter after %d updates = %+v, %v", writers*each, got, err)
		}
		return nil
	})
}

func testAccessControlAttributes(t *testing.T, s store.Store) {
	accessInstances(t, s)
	read(t, s, func(tx store.Tx) error {
		_, err := tx.GetAccessControlAttributes(ctx, instanceA)
		isNotFound(t, "attributes never set", err)
		return nil
	})
	c := store.AccessControlAttributes{InstanceARN: instanceA, Status: "ENABLED", UpdatedAt: now(), Attributes: []store.AccessControlAttribute{
		{Key: "CostCenter", Sources: []string{"${path:enterprise.costCenter}"}},
		{Key: "Department", Sources: []string{"${path:enterprise.department}"}},
	}}
	write(t, s, func(tx store.Tx) error { return tx.PutAccessControlAttributes(ctx, c) })
	read(t, s, func(tx store.Tx) error {
		got, err := tx.GetAccessControlAttributes(ctx, instanceA)
		if err != nil || !reflect.DeepEqual(*got, c) {
			t.Fatalf("GetAccessControlAttributes = %+v, %v; want %+v", got, err, c)
		}
		_, err = tx.GetAccessControlAttributes(ctx, instanceB)
		isNotFound(t, "another instance's attributes", err)
		return nil
	})
	replaced := store.AccessControlAttributes{InstanceARN: instanceA, Status: "ENABLED", StatusReason: "why", UpdatedAt: now().Add(time.Second),
		Attributes: []store.AccessControlAttribute{{Key: "Team", Sources: []string{"${path:enterprise.division}"}}}}
	write(t, s, func(tx store.Tx) error { return tx.PutAccessControlAttributes(ctx, replaced) })
	read(t, s, func(tx store.Tx) error {
		got, err := tx.GetAccessControlAttributes(ctx, instanceA)
		if err != nil || !reflect.DeepEqual(*got, replaced) {
			t.Fatalf("replaced attributes = %+v, %v; want %+v", got, err, replaced)
		}
		return nil
	})
	isNotFound(t, "delete of unset attributes", s.Write(ctx, func(tx store.Tx) error { return tx.DeleteAccessControlAttributes(ctx, instanceB) }))
	write(t, s, func(tx store.Tx) error { return tx.DeleteAccessControlAttributes(ctx, instanceA) })
	read(t, s, func(tx store.Tx) error {
		_, err := tx.GetAccessControlAttributes(ctx, instanceA)
		isNotFound(t, "deleted attributes", err)
		return nil
	})
	isNotFound(t, "second delete", s.Write(ctx, func(tx store.Tx) error { return tx.DeleteAccessControlAttributes(ctx, instanceA) }))
}

// BenchAssignmentsForPrincipals measures what the portal asks for a
// signed-in user: the assignments of the user and its 50 groups (1,000 of
// them) among 10,000 of other principals, in one call. s is empty and migrated.
func BenchAssignmentsForPrincipals(b *testing.B, s store.Store) {
	const groups, others, accounts, sets = 50, 500, 50, 20
	accessInstances(b, s)
	me := user(1, "me")
	var gs []store.Group
	for i := 0; i < groups+others; i++ {
		gs = append(gs, group(1000+i, "g"+strconv.Itoa(i)))
	}
	var pss []store.PermissionSet
	for i := 0; i < sets; i++ {
		pss = append(pss, permissionSet(instanceA, i, "ps"+strconv.Itoa(i)))
	}
	var all []store.AccountAssignment
	// Each of my 51 principals has about 20 assignments; each other group 20.
	for i := 0; i < (groups+1+others)*20; i++ {
		p := i % (groups + 1 + others)
		typ, id := store.PrincipalGroup, dirID(1000+p-1)
		if p == 0 {
			typ, id = store.PrincipalUser, me.ID
		}
		all = append(all, assignment(instanceA, acct(i/7%accounts), pss[i/3%sets].ARN, typ, id))
	}
	insertAll(b, s, insertPS(pss...), insertUsers(me), insertGroups(gs...), func(tx store.Tx) error {
		seen := map[string]bool{}
		for _, a := range all {
			if !seen[a.Key()] {
				seen[a.Key()] = true
				if err := tx.InsertAssignment(ctx, a); err != nil {
					return err
				}
			}
		}
		return nil
	})
	principals := []store.PrincipalRef{{Type: store.PrincipalUser, ID: me.ID}}
	for _, g := range gs[:groups] {
		principals = append(principals, store.PrincipalRef{Type: store.PrincipalGroup, ID: g.ID})
	}
	for _, account := range []string{"", acct(7)} {
		name := "all-accounts"
		if account != "" {
			name = "one-account"
		}
		b.Run(name, func(b *testing.B) {
			var n int
			for b.Loop() {
				err := s.Read(ctx, func(tx store.Tx) error {
					list, err := tx.ListAssignmentsForPrincipals(ctx, instanceA, principals, account, "", 2000)
					n = len(list)
					return err
				})
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n), "assignments/op")
		})
	}
}
