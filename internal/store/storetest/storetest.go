// Package storetest is the conformance suite every store backend must pass.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/atrium-sso/atrium/internal/store"
)

type namedTest struct {
	name string
	fn   func(t *testing.T, s store.Store)
}

// Run runs the suite; open returns a new, empty, migrated store per call.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []namedTest{
		{"Meta", testMeta},
		{"Organization", testOrganization},
		{"Accounts", testAccounts},
		{"AccountEmailUniqueIgnoringCase", testAccountEmailUnique},
		{"AccountPagination", testAccountPagination},
		{"OrganizationalUnits", testOrganizationalUnits},
		{"CreateAccountRequests", testCreateAccountRequests},
		{"Tags", testTags},
		{"AccessKeys", testAccessKeys},
		{"Audit", testAudit},
		{"Jobs", testJobs},
		{"RollbackLeavesNoTrace", testRollback},
		{"ParallelWritersLoseNothing", testParallelWriters},
		{"UniquenessHoldsUnderRace", testUniquenessRace},
		{"MetaFirstWriterWinsUnderRace", testMetaRace},
		{"ConcurrentClaimsRunEachJobOnce", testConcurrentClaims},
	}
	tests = append(tests, directoryTests...)
	tests = append(tests, accessTests...)
	tests = append(tests, iamTests...)
	tests = append(tests, sessionTests...)
	tests = append(tests, signinTests...)
	tests = append(tests, portalTests...)
	tests = append(tests, scimTests...)
	tests = append(tests, federationTests...)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(t, open(t))
		})
	}
}

var ctx = context.Background()

func write(t *testing.T, s store.Store, fn func(store.Tx) error) {
	t.Helper()
	if err := s.Write(ctx, fn); err != nil {
		t.Fatal(err)
	}
}

func read(t *testing.T, s store.Store, fn func(store.Tx) error) {
	t.Helper()
	if err := s.Read(ctx, fn); err != nil {
		t.Fatal(err)
	}
}

func now() time.Time { return time.Now().UTC().Truncate(time.Millisecond) }

func account(id, email string) store.Account {
	return store.Account{ID: id, Name: "acct " + id, Email: email, ParentID: "r-abcd", Status: "ACTIVE", State: "ACTIVE",
		JoinedMethod: "CREATED", JoinedAt: now()}
}

func testMeta(t *testing.T, s store.Store) {
	write(t, s, func(tx store.Tx) error {
		if _, err := tx.GetMeta(ctx, "k"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("GetMeta of unset key: %v", err)
		}
		if ok, err := tx.PutMetaIfAbsent(ctx, "k", "one"); err != nil || !ok {
			t.Fatalf("first put: %v %v", ok, err)
		}
		if ok, err := tx.PutMetaIfAbsent(ctx, "k", "two"); err != nil || ok {
			t.Fatalf("second put must not take: %v %v", ok, err)
		}
		v, err := tx.GetMeta(ctx, "k")
		if err != nil || v != "one" {
			t.Fatalf("GetMeta = %q %v", v, err)
		}
		return nil
	})
}

func testOrganization(t *testing.T, s store.Store) {
	read(t, s, func(tx store.Tx) error {
		if _, err := tx.GetOrganization(ctx); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("empty store has an organization: %v", err)
		}
		return nil
	})
	org := store.Organization{ID: "o-abcdefghij", ARN: "arn:aws:organizations::111111111111:organization/o-abcdefghij", FeatureSet: "ALL",
		ManagementAccountID: "111111111111", ManagementAccountEmail: "root@example.com", RootID: "r-abcd", CreatedAt: now()}
	in := store.Instance{ARN: "arn:aws:sso:::instance/ssoins-0123456789abcdef", IdentityStoreID: "d-0123456789", OwnerAccountID: "111111111111",
		Name: "atrium", Status: "ACTIVE", CreatedAt: now()}
	write(t, s, func(tx store.Tx) error {
		if err := tx.InsertOrganization(ctx, org); err != nil {
			return err
		}
		return tx.InsertInstance(ctx, in)
	})
	read(t, s, func(tx store.Tx) error {
		got, err := tx.GetOrganization(ctx)
		if err != nil || *got != org {
			t.Fatalf("GetOrganization = %+v, %v; want %+v", got, err, org)
		}
		ins, err := tx.ListInstances(ctx)
		if err != nil || len(ins) != 1 || ins[0] != in {
			t.Fatalf("ListInstances = %+v, %v", ins, err)
		}
		return nil
	})
}

func testAccounts(t *testing.T, s store.Store) {
	a := account("123456789012", "Dev@Example.com")
	write(t, s, func(tx store.Tx) error { return tx.InsertAccount(ctx, a) })
	read(t, s, func(tx store.Tx) error {
		got, err := tx.GetAccount(ctx, a.ID)
		if err != nil || *got != a {
			t.Fatalf("GetAccount = %+v, %v", got, err)
		}
		got, err = tx.GetAccountByEmail(ctx, "dev@example.COM")
		if err != nil || got.ID != a.ID {
			t.Fatalf("GetAccountByEmail ignores case: %+v, %v", got, err)
		}
		if _, err := tx.GetAccount(ctx, "000000000000"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("missing account: %v", err)
		}
		return nil
	})
	write(t, s, func(tx store.Tx) error {
		_, err := tx.UpdateAccount(ctx, a.ID, func(acc *store.Account) error {
			acc.ParentID = "ou-abcd-12345678"
			acc.Status = "SUSPENDED"
			return nil
		})
		return err
	})
	read(t, s, func(tx store.Tx) error {
		got, _ := tx.GetAccount(ctx, a.ID)
		if got.ParentID != "ou-abcd-12345678" || got.Status != "SUSPENDED" || got.Name != a.Name {
			t.Fatalf("update not applied as asked: %+v", got)
		}
		list, err := tx.ListAccounts(ctx, "ou-abcd-12345678", "", 10)
		if err != nil || len(list) != 1 {
			t.Fatalf("ListAccounts by parent = %v, %v", list, err)
		}
		list, _ = tx.ListAccounts(ctx, "r-abcd", "", 10)
		if len(list) != 0 {
			t.Fatalf("moved account still listed under old parent: %v", list)
		}
		return nil
	})
	// An update whose closure fails changes nothing.
	boom := errors.New("boom")
	err := s.Write(ctx, func(tx store.Tx) error {
		_, err := tx.UpdateAccount(ctx, a.ID, func(acc *store.Account) error { acc.Name = "changed"; return boom })
		return err
	})
	if !errors.Is(err, boom) {
		t.Fatalf("closure error not returned: %v", err)
	}
	err = s.Write(ctx, func(tx store.Tx) error {
		_, err := tx.UpdateAccount(ctx, "000000000000", func(*store.Account) error { return nil })
		return err
	})
	if !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("update of missing account: %v", err)
	}
}

func testAccountEmailUnique(t *testing.T, s store.Store) {
	write(t, s, func(tx store.Tx) error { return tx.InsertAccount(ctx, account("111111111111", "a@example.com")) })
	err := s.Write(ctx, func(tx store.Tx) error { return tx.InsertAccount(ctx, account("222222222222", "A@EXAMPLE.com")) })
	if !errors.Is(err, store.ErrConflict) {
		t.Fatalf("duplicate email (other case) = %v, want ErrConflict", err)
	}
	err = s.Write(ctx, func(tx store.Tx) error { return tx.InsertAccount(ctx, account("111111111111", "b@example.com")) })
	if !errors.Is(err, store.ErrConflict) {
		t.Fatalf("duplicate id = %v, want ErrConflict", err)
	}
}

func testAccountPagination(t *testing.T, s store.Store) {
	const n = 25
	write(t, s, func(tx store.Tx) error {
		for i := 0; i < n; i++ {
			if err := tx.InsertAccount(ctx, account(fmt.Sprintf("1000000000%02d", i), fmt.Sprintf("p%d@example.com", i))); err != nil {
				return err
			}
		}
		return nil
	})
	seen := map[string]bool{}
	after := ""
	for pages := 0; ; pages++ {
		var page []store.Account
		read(t, s, func(tx store.Tx) error {
			var err error
			page, err = tx.ListAccounts(ctx, "", after, 7)
			return err
		})
		// A write between pages must not make the walk repeat or skip.
		write(t, s, func(tx store.Tx) error {
			return tx.InsertAccount(ctx, account(fmt.Sprintf("0000000000%02d", pages), fmt.Sprintf("late%d@example.com", pages)))
		})
		for _, a := range page {
			if seen[a.ID] {
				t.Fatalf("account %s listed twice", a.ID)
			}
			seen[a.ID] = true
		}
		if len(page) < 7 {
			break
		}
		after = page[len(page)-1].ID
	}
	for i := 0; i < n; i++ {
		if !seen[fmt.Sprintf("1000000000%02d", i)] {
			t.Fatalf("account %d missed by the walk", i)
		}
	}
}

func testOrganizationalUnits(t *testing.T, s store.Store) {
	ou := store.OrganizationalUnit{ID: "ou-abcd-11111111", Name: "Eng", ParentID: "r-abcd", CreatedAt: now()}
	write(t, s, func(tx store.Tx) error { return tx.InsertOrganizationalUnit(ctx, ou) })
	err := s.Write(ctx, func(tx store.Tx) error {
		return tx.InsertOrganizationalUnit(ctx, store.OrganizationalUnit{ID: "ou-abcd-22222222", Name: "Eng", ParentID: "r-abcd", CreatedAt: now()})
	})
	if !errors.Is(err, store.ErrConflict) {
		t.Fatalf("same name under same parent = %v, want ErrConflict", err)
	}
	write(t, s, func(tx store.Tx) error {
		return tx.InsertOrganizationalUnit(ctx, store.OrganizationalUnit{ID: "ou-abcd-33333333", Name: "Eng", ParentID: ou.ID, CreatedAt: now()})
	})
	write(t, s, func(tx store.Tx) error {
		_, err := tx.UpdateOrganizationalUnit(ctx, ou.ID, func(o *store.OrganizationalUnit) error { o.Name = "Engineering"; return nil })
		return err
	})
	read(t, s, func(tx store.Tx) error {
		got, err := tx.GetOrganizationalUnit(ctx, ou.ID)
		if err != nil || got.Name != "Engineering" {
			t.Fatalf("renamed OU = %+v, %v", got, err)
		}
		kids, err := tx.ListOrganizationalUnits(ctx, ou.ID, "", 10)
		if err != nil || len(kids) != 1 || kids[0].ID != "ou-abcd-33333333" {
			t.Fatalf("children = %+v, %v", kids, err)
		}
		return nil
	})
	write(t, s, func(tx store.Tx) error { return tx.DeleteOrganizationalUnit(ctx, "ou-abcd-33333333") })
	err = s.Write(ctx, func(tx store.Tx) error { return tx.DeleteOrganizationalUnit(ctx, "ou-abcd-33333333") })
	if !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("second delete = %v, want ErrNotFound", err)
	}
}

func testCreateAccountRequests(t *testing.T, s store.Store) {
	for i, state := range []string{"IN_PROGRESS", "SUCCEEDED", "FAILED"} {
		r := store.CreateAccountRequest{ID: fmt.Sprintf("car-%08d", i), AccountName: "n", Email: "e@example.com", State: state, RequestedAt: now()}
		write(t, s, func(tx store.Tx) error { return tx.InsertCreateAccountRequest(ctx, r) })
	}
	done := now()
	write(t, s, func(tx store.Tx) error {
		_, err := tx.UpdateCreateAccountRequest(ctx, "car-00000000", func(r *store.CreateAccountRequest) error {
			r.State, r.AccountID, r.CompletedAt = "SUCCEEDED", "123456789012", done
			return nil
		})
		return err
	})
	read(t, s, func(tx store.Tx) error {
		got, err := tx.GetCreateAccountRequest(ctx, "car-00000000")
		if err != nil || got.State != "SUCCEEDED" || got.AccountID != "123456789012" || !got.CompletedAt.Equal(done) {
			t.Fatalf("updated request = %+v, %v", got, err)
		}
		list, err := tx.ListCreateAccountRequests(ctx, []string{"SUCCEEDED"}, "", 10)
		if err != nil || len(list) != 2 {
			t.Fatalf("SUCCEEDED filter = %+v, %v", list, err)
		}
		all, _ := tx.ListCreateAccountRequests(ctx, nil, "", 10)
		if len(all) != 3 {
			t.Fatalf("unfiltered = %d", len(all))
		}
		return nil
	})
}

func testTags(t *testing.T, s store.Store) {
	write(t, s, func(tx store.Tx) error {
		return tx.PutTags(ctx, "123456789012", []store.Tag{{Key: "b", Value: "2"}, {Key: "a", Value: "1"}})
	})
	write(t, s, func(tx store.Tx) error {
		if err := tx.PutTags(ctx, "123456789012", []store.Tag{{Key: "a", Value: "one"}}); err != nil {
			return err
		}
		return tx.PutTags(ctx, "other", []store.Tag{{Key: "a", Value: "x"}})
	})
	read(t, s, func(tx store.Tx) error {
		tags, err := tx.ListTags(ctx, "123456789012")
		if err != nil || len(tags) != 2 || tags[0] != (store.Tag{Key: "a", Value: "one"}) || tags[1] != (store.Tag{Key: "b", Value: "2"}) {
			t.Fatalf("tags = %+v, %v", tags, err)
		}
		return nil
	})
	write(t, s, func(tx store.Tx) error { return tx.DeleteTags(ctx, "123456789012", []string{"a", "missing"}) })
	read(t, s, func(tx store.Tx) error {
		tags, _ := tx.ListTags(ctx, "123456789012")
		if len(tags) != 1 || tags[0].Key != "b" {
			t.Fatalf("after delete = %+v", tags)
		}
		return nil
	})
}

func testAccessKeys(t *testing.T, s store.Store) {
	k := store.AccessKey{ID: "AKIAEXAMPLE000000001", Secret: "s1", AccountID: "111111111111", PrincipalARN: "arn:aws:iam::111111111111:root",
		UserID: "111111111111", Status: "Active", CreatedAt: now()}
	write(t, s, func(tx store.Tx) error { return tx.PutAccessKey(ctx, k) })
	k.Secret = "s2"
	write(t, s, func(tx store.Tx) error { return tx.PutAccessKey(ctx, k) })
	read(t, s, func(tx store.Tx) error {
		got, err := tx.GetAccessKey(ctx, k.ID)
		if err != nil || *got != k {
			t.Fatalf("GetAccessKey = %+v, %v", got, err)
		}
		if _, err := tx.GetAccessKey(ctx, "AKIANOPE"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("unknown key: %v", err)
		}
		return nil
	})
}

func testAudit(t *testing.T, s store.Store) {
	base := now()
	for i := 0; i < 5; i++ {
		e := store.AuditEvent{ID: fmt.Sprintf("ev-%d", i), Time: base.Add(time.Duration(i/2) * time.Second), Source: "organizations.amazonaws.com",
			EventName: "CreateAccount", RequestParams: `{"Email":"HIDDEN_DUE_TO_SECURITY_REASONS"}`, ErrorCode: ""}
		write(t, s, func(tx store.Tx) error { return tx.AppendAudit(ctx, e) })
	}
	var got []string
	cursor := store.AuditCursor{}
	for {
		var page []store.AuditEvent
		read(t, s, func(tx store.Tx) error {
			var err error
			page, err = tx.ListAudit(ctx, cursor, 2)
			return err
		})
		for _, e := range page {
			got = append(got, e.ID)
		}
		if len(page) < 2 {
			break
		}
		last := page[len(page)-1]
		cursor = store.AuditCursor{Time: last.Time, ID: last.ID}
	}
	want := []string{"ev-4", "ev-3", "ev-2", "ev-1", "ev-0"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("audit walk = %v, want %v", got, want)
	}
}

func testJobs(t *testing.T, s store.Store) {
	t0 := now()
	write(t, s, func(tx store.Tx) error {
		if err := tx.EnqueueJob(ctx, store.Job{ID: "j1", Kind: "a", Payload: []byte(`{"x":1}`), RunAfter: t0, CreatedAt: t0}); err != nil {
			return err
		}
		return tx.EnqueueJob(ctx, store.Job{ID: "j2", Kind: "a", RunAfter: t0.Add(time.Hour), CreatedAt: t0})
	})
	claim := func(worker string, at time.Time) (*store.Job, error) {
		var j *store.Job
		err := s.Write(ctx, func(tx store.Tx) error {
			var err error
			j, err = tx.ClaimJob(ctx, []string{"a"}, worker, at, at.Add(time.Minute))
			return err
		})
		return j, err
	}
	j, err := claim("w1", t0)
	if err != nil || j.ID != "j1" || string(j.Payload) != `{"x":1}` || j.Attempts != 1 {
		t.Fatalf("claim = %+v, %v", j, err)
	}
	if _, err := claim("w2", t0); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("leased and future jobs must not be claimed: %v", err)
	}
	// The lease runs out: another worker takes it, and the first loses it.
	j, err = claim("w2", t0.Add(2*time.Minute))
	if err != nil || j.ID != "j1" || j.Attempts != 2 {
		t.Fatalf("expired lease reclaim = %+v, %v", j, err)
	}
	if err := s.Write(ctx, func(tx store.Tx) error { return tx.FinishJob(ctx, "j1", "w1") }); !errors.Is(err, store.ErrLeaseLost) {
		t.Fatalf("finish by a worker that lost the lease = %v", err)
	}
	write(t, s, func(tx store.Tx) error { return tx.RetryJob(ctx, "j1", "w2", t0.Add(3*time.Minute), "transient") })
	if _, err := claim("w3", t0.Add(2*time.Minute)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("retried job ran before its time: %v", err)
	}
	j, err = claim("w3", t0.Add(4*time.Minute))
	if err != nil || j.ID != "j1" || j.LastError != "transient" {
		t.Fatalf("retried job = %+v, %v", j, err)
	}
	write(t, s, func(tx store.Tx) error { return tx.FinishJob(ctx, "j1", "w3") })
	j, err = claim("w3", t0.Add(2*time.Hour))
	if err != nil || j.ID != "j2" {
		t.Fatalf("next due job = %+v, %v", j, err)
	}

	// A job taken is run in the taking transaction, which removes it,
	// without a lease: if that transaction fails, the job is as it was.
	write(t, s, func(tx store.Tx) error {
		return tx.EnqueueJob(ctx, store.Job{ID: "j3", Kind: "b", Payload: []byte(`{}`), RunAfter: t0, CreatedAt: t0})
	})
	take := func(at time.Time, finish bool) (*store.Job, error) {
		var j *store.Job
		err := s.Write(ctx, func(tx store.Tx) error {
			var err error
			if j, err = tx.TakeJob(ctx, []string{"b"}, at); err != nil || !finish {
				return cmpOr(err, errRolledBack)
			}
			return nil
		})
		return j, err
	}
	if j, err := take(t0, false); !errors.Is(err, errRolledBack) || j.ID != "j3" || j.Attempts != 0 || j.Holder != "" {
		t.Fatalf("take = %+v, %v", j, err)
	}
	if j, err := claim("w4", t0); err == nil {
		t.Fatalf("a job of another kind was claimed: %+v", j)
	}
	var leased *store.Job
	write(t, s, func(tx store.Tx) error {
		var err error
		leased, err = tx.ClaimJob(ctx, []string{"b"}, "w5", t0, t0.Add(time.Minute))
		return err
	})
	if leased.ID != "j3" || leased.Attempts != 1 || leased.Holder != "w5" {
		t.Fatalf("claim after a rolled-back take = %+v", leased)
	}
	if _, err := take(t0, true); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a leased job was taken: %v", err)
	}
	// Its lease runs out: taken and finished in one go, the holder then loses it.
	if j, err := take(t0.Add(2*time.Minute), true); err != nil || j.ID != "j3" || j.Holder != "w5" {
		t.Fatalf("take of an expired lease = %+v, %v", j, err)
	}
	if j, err := take(t0.Add(time.Hour), true); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a job taken by a committed transaction was taken again: %+v, %v", j, err)
	}
	if err := s.Write(ctx, func(tx store.Tx) error { return tx.FinishJob(ctx, "j3", "w5") }); !errors.Is(err, store.ErrLeaseLost) {
		t.Fatalf("finish by the worker whose lease ran out = %v", err)
	}
}

var errRolledBack = errors.New("storetest: rolled back on purpose")

func cmpOr(err, def error) error {
	if err != nil {
		return err
	}
	return def
}

func testRollback(t *testing.T, s store.Store) {
	boom := errors.New("boom")
	err := s.Write(ctx, func(tx store.Tx) error {
		if err := tx.InsertAccount(ctx, account("999999999999", "gone@example.com")); err != nil {
			return err
		}
		if err := tx.PutTags(ctx, "999999999999", []store.Tag{{Key: "k", Value: "v"}}); err != nil {
			return err
		}
		if err := tx.AppendAudit(ctx, store.AuditEvent{ID: "ev-gone", Time: now()}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Write = %v", err)
	}
	read(t, s, func(tx store.Tx) error {
		if _, err := tx.GetAccount(ctx, "999999999999"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("rolled-back account exists: %v", err)
		}
		if tags, _ := tx.ListTags(ctx, "999999999999"); len(tags) != 0 {
			t.Fatalf("rolled-back tags exist: %v", tags)
		}
		if evs, _ := tx.ListAudit(ctx, store.AuditCursor{}, 10); len(evs) != 0 {
			t.Fatalf("rolled-back audit exists: %v", evs)
		}
		return nil
	})
	// The email is free again.
	write(t, s, func(tx store.Tx) error { return tx.InsertAccount(ctx, account("999999999999", "gone@example.com")) })
}

func testParallelWriters(t *testing.T, s store.Store) {
	const writers, each = 8, 25
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < each; i++ {
				id := fmt.Sprintf("5%02d%09d", w, i)
				err := s.Write(ctx, func(tx store.Tx) error {
					if err := tx.InsertAccount(ctx, account(id, id+"@example.com")); err != nil {
						return err
					}
					// A read-modify-write on a shared row: every increment must count.
					_, err := tx.PutMetaIfAbsent(ctx, "counter", "0")
					if err != nil {
						return err
					}
					return tx.PutTags(ctx, "counter", []store.Tag{{Key: id, Value: "1"}})
				})
				if err != nil {
					errs <- err
					return
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	read(t, s, func(tx store.Tx) error {
		list, err := tx.ListAccounts(ctx, "", "", 1000)
		if err != nil || len(list) != writers*each {
			t.Fatalf("accounts after parallel writes = %d, %v; want %d", len(list), err, writers*each)
		}
		tags, _ := tx.ListTags(ctx, "counter")
		if len(tags) != writers*each {
			t.Fatalf("tags after parallel writes = %d", len(tags))
		}
		return nil
	})
}

func testUniquenessRace(t *testing.T, s store.Store) {
	const racers = 10
	var ok, conflict atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := 0; i < racers; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			<-start
			err := s.Write(ctx, func(tx store.Tx) error {
				return tx.InsertAccount(ctx, account(fmt.Sprintf("7000000000%02d", i), "Same@example.com"))
			})
			switch {
			case err == nil:
				ok.Add(1)
			case errors.Is(err, store.ErrConflict):
				conflict.Add(1)
			default:
				t.Error(err)
			}
		}(i)
	}
	close(start)
	wg.Wait()
	if ok.Load() != 1 || conflict.Load() != racers-1 {
		t.Fatalf("racing inserts of one email: %d succeeded, %d conflicted", ok.Load(), conflict.Load())
	}
}

func testMetaRace(t *testing.T, s store.Store) {
	const racers = 10
	var won atomic.Int32
	var wg sync.WaitGroup
	for i := 0; i < racers; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			err := s.Write(ctx, func(tx store.Tx) error {
				ok, err := tx.PutMetaIfAbsent(ctx, "bootstrap", fmt.Sprint(i))
				if ok {
					won.Add(1)
				}
				return err
			})
			if err != nil {
				t.Error(err)
			}
		}(i)
	}
	wg.Wait()
	if won.Load() != 1 {
		t.Fatalf("%d writers won the same meta key", won.Load())
	}
}

func testConcurrentClaims(t *testing.T, s store.Store) {
	const jobs, workers = 40, 6
	t0 := now()
	write(t, s, func(tx store.Tx) error {
		for i := 0; i < jobs; i++ {
			if err := tx.EnqueueJob(ctx, store.Job{ID: fmt.Sprintf("job-%03d", i), Kind: "k", RunAfter: t0, CreatedAt: t0}); err != nil {
				return err
			}
		}
		return nil
	})
	var mu sync.Mutex
	ran := map[string]int{}
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(worker string) {
			defer wg.Done()
			for {
				// Claim (or take) and finish in one transaction: the job's
				// effect and its removal commit together. Half the workers
				// take, as the runner does, half claim, as it does apart.
				var id string
				err := s.Write(ctx, func(tx store.Tx) error {
					var j *store.Job
					var err error
					if worker[len(worker)-1]%2 == 0 {
						if j, err = tx.TakeJob(ctx, []string{"k"}, t0); err == nil {
							id = j.ID
						}
						return err
					}
					if j, err = tx.ClaimJob(ctx, []string{"k"}, worker, t0, t0.Add(time.Minute)); err != nil {
						return err
					}
					id = j.ID
					return tx.FinishJob(ctx, j.ID, j.Holder)
				})
				if errors.Is(err, store.ErrNotFound) {
					return
				}
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				ran[id]++
				mu.Unlock()
			}
		}(fmt.Sprintf("w%d", w))
	}
	wg.Wait()
	if len(ran) != jobs {
		t.Fatalf("%d of %d jobs ran", len(ran), jobs)
	}
	for id, n := range ran {
		if n != 1 {
			t.Fatalf("job %s ran %d times", id, n)
		}
	}
}
