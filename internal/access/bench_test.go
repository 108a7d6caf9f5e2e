package access_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/atrium-sso/atrium/internal/access"
	"github.com/atrium-sso/atrium/internal/awsproto"
	"github.com/atrium-sso/atrium/internal/config"
	"github.com/atrium-sso/atrium/internal/iam"
	"github.com/atrium-sso/atrium/internal/jobs"
	"github.com/atrium-sso/atrium/internal/server"
	"github.com/atrium-sso/atrium/internal/store"
)

// These benchmarks run the sso-admin operations in process on SQLite, as
// the server composes them, without HTTP and SigV4 (BenchmarkServer in
// cmd/atrium-load measures those). The fixtures go into the store directly;
// what is timed goes through the operations' handlers and, for provisioning,
// the job runner. Profile with
//
//	go test ./internal/access -run '^$' -bench ProvisionPermissionSet -cpuprofile /tmp/cpu.out
//	go tool pprof -top -cum internal/access/access.test /tmp/cpu.out

// bench is an Atrium store with its organization and instance, and the
// sso-admin service over it with a running job runner.
type bench struct {
	ctx      context.Context
	store    store.Store
	ops      map[string]awsproto.Handler
	org      *store.Organization
	instance store.Instance
}

func newBench(b *testing.B) *bench {
	b.Helper()
	cfg, err := config.Load([]string{"--data", b.TempDir()}, func(string) string { return "" })
	if err != nil {
		b.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := server.Open(ctx, cfg, func(string) string { return "" }, log)
	if err != nil {
		cancel()
		b.Fatal(err)
	}
	db := srv.Store()
	// The service of the server is not reachable without HTTP: this one is
	// made the same way, with its own runner (the server's is not started).
	runner := jobs.NewRunner(db, log)
	runner.Workers = 16 // as the server runs them on SQLite
	svc := access.New(db, runner, awsproto.NewPager([]byte("bench")), iam.Roles{})
	done := make(chan struct{})
	go func() { runner.Run(ctx); close(done) }()
	b.Cleanup(func() { cancel(); <-done; db.Close() })
	t := &bench{ctx: context.Background(), store: db, ops: svc.API().Ops}
	err = db.Read(t.ctx, func(tx store.Tx) error {
		if t.org, err = tx.GetOrganization(t.ctx); err != nil {
			return err
		}
		ins, err := tx.ListInstances(t.ctx)
		if err == nil && len(ins) > 0 {
			t.instance = ins[0]
		}
		return err
	})
	if err != nil || t.instance.ARN == "" {
		b.Fatalf("instance: %v", err)
	}
	return t
}

// call runs an operation's handler and returns its output as JSON values.
func (t *bench) call(b *testing.B, op string, in map[string]any) map[string]any {
	out, err := t.ops[op](t.ctx, &awsproto.Input{Value: in})
	if err != nil {
		b.Fatalf("%s: %v", op, err)
	}
	j, _ := json.Marshal(out)
	var m map[string]any
	json.Unmarshal(j, &m)
	return m
}

func (t *bench) write(b *testing.B, fn func(store.Tx) error) {
	if err := t.store.Write(t.ctx, fn); err != nil {
		b.Fatal(err)
	}
}

// accounts adds n member accounts and returns their ids.
func (t *bench) accounts(b *testing.B, n int) []string {
	ids := make([]string, n)
	now := time.Now().UTC()
	t.write(b, func(tx store.Tx) error {
		for i := range ids {
			ids[i] = fmt.Sprintf("5%011d", i+1)
			err := tx.InsertAccount(t.ctx, store.Account{ID: ids[i], Name: fmt.Sprintf("bench-%d", i+1), Email: fmt.Sprintf("bench-%d@example.com", i+1),
				ParentID: t.org.RootID, Status: "ACTIVE", State: "ACTIVE", JoinedMethod: "CREATED", JoinedAt: now})
			if err != nil {
				return err
			}
		}
		return nil
	})
	return ids
}

func (t *bench) permissionSet(b *testing.B, name string) string {
	out := t.call(b, "CreatePermissionSet", map[string]any{"InstanceArn": t.instance.ARN, "Name": name})
	return out["PermissionSet"].(map[string]any)["PermissionSetArn"].(string)
}

// drain waits until no request of kind is IN_PROGRESS.
func (t *bench) drain(b *testing.B, kind string) {
	for {
		var pending []store.AccessRequest
		err := t.store.Read(t.ctx, func(tx store.Tx) error {
			var err error
			pending, err = tx.ListAccessRequests(t.ctx, t.instance.ARN, kind, store.StatusInProgress, "", 1)
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
		if len(pending) == 0 {
			return
		}
		time.Sleep(100 * time.Microsecond)
	}
}

// settle waits until an access request is no longer IN_PROGRESS.
func (t *bench) settle(b *testing.B, kind, id string) {
	for {
		var r *store.AccessRequest
		err := t.store.Read(t.ctx, func(tx store.Tx) error {
			var err error
			r, err = tx.GetAccessRequest(t.ctx, t.instance.ARN, kind, id)
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
		if r.Status == store.StatusSucceeded {
			return
		}
		if r.Status != store.StatusInProgress {
			b.Fatalf("request %s: %s %s", id, r.Status, r.FailureReason)
		}
		time.Sleep(100 * time.Microsecond)
	}
}

// BenchmarkProvisionPermissionSet pushes a change of a permission set that
// is provisioned to 1,000 accounts to all of them: ProvisionPermissionSet
// ALL_PROVISIONED_ACCOUNTS until its request is SUCCEEDED. Each round first
// changes the inline policy (untimed), so every role is rewritten.
func BenchmarkProvisionPermissionSet(b *testing.B) {
	for _, n := range []int{100, 1000} {
		b.Run(fmt.Sprintf("accounts=%d", n), func(b *testing.B) {
			t := newBench(b)
			accounts := t.accounts(b, n)
			ps := t.permissionSet(b, "Wide")
			t.call(b, "AttachManagedPolicyToPermissionSet", map[string]any{"InstanceArn": t.instance.ARN, "PermissionSetArn": ps,
				"ManagedPolicyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess"})
			// Provisioned once to every account (as their first assignments would), roles made here.
			for _, a := range accounts {
				out := t.call(b, "ProvisionPermissionSet", map[string]any{"InstanceArn": t.instance.ARN, "PermissionSetArn": ps,
					"TargetType": "AWS_ACCOUNT", "TargetId": a})
				t.settle(b, store.RequestProvisioning, out["PermissionSetProvisioningStatus"].(map[string]any)["RequestId"].(string))
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				policy := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Sid":"Round%d","Effect":"Allow","Action":"s3:ListAllMyBuckets","Resource":"*"}]}`, i)
				t.call(b, "PutInlinePolicyToPermissionSet", map[string]any{"InstanceArn": t.instance.ARN, "PermissionSetArn": ps, "InlinePolicy": policy})
				b.StartTimer()
				out := t.call(b, "ProvisionPermissionSet", map[string]any{"InstanceArn": t.instance.ARN, "PermissionSetArn": ps,
					"TargetType": "ALL_PROVISIONED_ACCOUNTS"})
				t.settle(b, store.RequestProvisioning, out["PermissionSetProvisioningStatus"].(map[string]any)["RequestId"].(string))
			}
			b.StopTimer()
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/float64(n), "µs/account")
			outdated := t.call(b, "ListAccountsForProvisionedPermissionSet", map[string]any{"InstanceArn": t.instance.ARN, "PermissionSetArn": ps,
				"ProvisioningStatus": "LATEST_PERMISSION_SET_NOT_PROVISIONED"})
			if ids := outdated["AccountIds"].([]any); len(ids) != 0 {
				b.Fatalf("%d accounts left outdated", len(ids))
			}
		})
	}
}

// BenchmarkListAccountAssignmentsForPrincipal asks for the assignments of a
// user in 50 groups: 1,000 in all (19 for each group, 50 its own), among
// 4,000 of 200 other groups, over 1,000 accounts and 20 permission sets.
// "page" is one call (the first 100); "all" is the 10 calls of a full listing.
func BenchmarkListAccountAssignmentsForPrincipal(b *testing.B) {
	const accountsN, setsN, groupsN, othersN = 1000, 20, 50, 200
	t := newBench(b)
	accounts := t.accounts(b, accountsN)
	sets := make([]string, setsN)
	for i := range sets {
		sets[i] = t.permissionSet(b, fmt.Sprintf("ps-%02d", i))
	}
	storeID := t.instance.IdentityStoreID
	id := func(i int) string { return fmt.Sprintf("%s-%08x-0000-4000-8000-000000000000", storeID[2:], i) }
	me := id(0)
	now := time.Now().UTC()
	var mine int
	t.write(b, func(tx store.Tx) error {
		if err := tx.InsertUser(t.ctx, store.User{IdentityStoreID: storeID, ID: me, UserName: "me", DisplayName: "Me", Status: "ENABLED", CreatedAt: now, UpdatedAt: now}); err != nil {
			return err
		}
		k := 0 // spreads the assignments over (account, permission set) pairs
		assign := func(typ, principal string, n int) error {
			for range n {
				k++
				a := store.AccountAssignment{InstanceARN: t.instance.ARN, AccountID: accounts[k*7919%accountsN], PermissionSetARN: sets[k%setsN],
					PrincipalType: typ, PrincipalID: principal, CreatedAt: now}
				if err := tx.InsertAssignment(t.ctx, a); err != nil {
					return err
				}
			}
			return nil
		}
		for g := 1; g <= groupsN+othersN; g++ {
			err := tx.InsertGroup(t.ctx, store.Group{IdentityStoreID: storeID, ID: id(g), DisplayName: fmt.Sprintf("group-%d", g), CreatedAt: now, UpdatedAt: now})
			if err != nil {
				return err
			}
			n := 20
			if g <= groupsN {
				n = 19
				mine += n
				err = tx.InsertGroupMembership(t.ctx, store.GroupMembership{IdentityStoreID: storeID, ID: id(100000 + g), GroupID: id(g), UserID: me,
					CreatedAt: now, UpdatedAt: now})
				if err != nil {
					return err
				}
			}
			if err := assign(store.PrincipalGroup, id(g), n); err != nil {
				return err
			}
		}
		mine += 50
		return assign(store.PrincipalUser, me, 50)
	})
	in := func(token any) map[string]any {
		m := map[string]any{"InstanceArn": t.instance.ARN, "PrincipalId": me, "PrincipalType": store.PrincipalUser, "MaxResults": 100}
		if token != nil {
			m["NextToken"] = token
		}
		return m
	}
	b.Run("page", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			out := t.call(b, "ListAccountAssignmentsForPrincipal", in(nil))
			if n := len(out["AccountAssignments"].([]any)); n != 100 {
				b.Fatalf("%d assignments on the first page", n)
			}
		}
	})
	b.Run("all", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var token any
			n := 0
			for {
				out := t.call(b, "ListAccountAssignmentsForPrincipal", in(token))
				n += len(out["AccountAssignments"].([]any))
				if token = out["NextToken"]; token == nil {
					break
				}
			}
			if n != mine {
				b.Fatalf("%d assignments listed, want %d", n, mine)
			}
		}
		b.ReportMetric(float64(mine), "assignments/op")
	})
}

// BenchmarkCreateAccountAssignment assigns a user a permission set in one
// of 1,000 accounts, a new (user, account) pair each time: "request" is the
// API call alone (its job runs meanwhile, as on a server), "succeeded" is
// the call and its job, until the request is SUCCEEDED. The first
// assignment of the permission set in an account also provisions its role.
func BenchmarkCreateAccountAssignment(b *testing.B) {
	const accountsN, usersN = 1000, 200
	t := newBench(b)
	accounts := t.accounts(b, accountsN)
	storeID := t.instance.IdentityStoreID
	users := make([]string, usersN)
	now := time.Now().UTC()
	t.write(b, func(tx store.Tx) error {
		for i := range users {
			users[i] = fmt.Sprintf("%s-%08x-0000-4000-8000-000000000001", storeID[2:], i)
			err := tx.InsertUser(t.ctx, store.User{IdentityStoreID: storeID, ID: users[i], UserName: fmt.Sprintf("user-%d", i), DisplayName: "U",
				Status: "ENABLED", CreatedAt: now, UpdatedAt: now})
			if err != nil {
				return err
			}
		}
		return nil
	})
	var next atomic.Int64 // the next (account, user) pair of the burst
	burst := t.permissionSet(b, "Assign-burst")
	b.Run("burst", func(b *testing.B) {
		// 16 callers at once, as many as the server's job workers on
		// SQLite; ns/op is the wall time per assignment done: until no
		// request is IN_PROGRESS. Each outcome is read after, untimed,
		// since reading them one by one is not the server's work.
		ps := burst
		var mu sync.Mutex
		var requests []string
		b.SetParallelism(8)
		b.RunParallel(func(pb *testing.PB) {
			var mine []string
			for pb.Next() {
				i := int(next.Add(1) - 1)
				if i >= accountsN*usersN {
					panic("no new pairs left")
				}
				out, err := t.ops["CreateAccountAssignment"](t.ctx, &awsproto.Input{Value: map[string]any{"InstanceArn": t.instance.ARN,
					"TargetId": accounts[i%accountsN], "TargetType": "AWS_ACCOUNT", "PermissionSetArn": ps, "PrincipalType": store.PrincipalUser,
					"PrincipalId": users[i/accountsN]}})
				if err != nil {
					panic(err)
				}
				j, _ := json.Marshal(out)
				var m struct{ AccountAssignmentCreationStatus struct{ RequestId string } }
				json.Unmarshal(j, &m)
				mine = append(mine, m.AccountAssignmentCreationStatus.RequestId)
			}
			mu.Lock()
			requests = append(requests, mine...)
			mu.Unlock()
		})
		t.drain(b, store.RequestAssignmentCreation)
		b.StopTimer()
		for _, id := range requests {
			t.settle(b, store.RequestAssignmentCreation, id)
		}
	})
	for _, mode := range []string{"request", "succeeded"} {
		b.Run(mode, func(b *testing.B) {
			ps := t.permissionSet(b, "Assign-"+mode)
			var last string
			i := 0
			b.ReportAllocs()
			for b.Loop() {
				if i >= accountsN*usersN {
					b.Fatal("no new pairs left")
				}
				out := t.call(b, "CreateAccountAssignment", map[string]any{"InstanceArn": t.instance.ARN, "TargetId": accounts[i%accountsN],
					"TargetType": "AWS_ACCOUNT", "PermissionSetArn": ps, "PrincipalType": store.PrincipalUser, "PrincipalId": users[i/accountsN]})
				last = out["AccountAssignmentCreationStatus"].(map[string]any)["RequestId"].(string)
				if mode == "succeeded" {
					t.settle(b, store.RequestAssignmentCreation, last)
				}
				i++
			}
			b.StopTimer()
			t.settle(b, store.RequestAssignmentCreation, last) // the queue drained before the next
		})
	}
}
