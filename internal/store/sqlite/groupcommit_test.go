package sqlite_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/atrium-sso/atrium/internal/store"
	"github.com/atrium-sso/atrium/internal/store/sqlite"
)

func openMigrated(t *testing.T) store.Store {
	t.Helper()
	db, _ := openMigratedFile(t)
	return db
}

// holdWriter occupies the writer until release is called, so that the
// writes queued meanwhile are committed together in the next batch.
func holdWriter(t *testing.T, db store.Store) (release func()) {
	t.Helper()
	entered, gate := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- db.Write(context.Background(), func(store.Tx) error {
			close(entered)
			<-gate
			return nil
		})
	}()
	<-entered
	return func() {
		close(gate)
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}

// waitQueued gives the writes started in goroutines time to reach the queue.
func waitQueued() { time.Sleep(50 * time.Millisecond) }

func metaSet(t *testing.T, db store.Store, key string) bool {
	t.Helper()
	var v string
	err := db.Read(context.Background(), func(tx store.Tx) error {
		var err error
		v, err = tx.GetMeta(context.Background(), key)
		return err
	})
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		t.Fatal(err)
	}
	return v != ""
}

// A call that fails in a batch leaves no trace, and the calls batched with
// it commit: each call is committed only if its own function succeeds.
func TestGroupCommitFailedCallRollsBackAlone(t *testing.T) {
	ctx := context.Background()
	db := openMigrated(t)
	if err := db.Write(ctx, func(tx store.Tx) error {
		return tx.InsertGroup(ctx, store.Group{IdentityStoreID: "d-1", ID: "g-taken", DisplayName: "Taken"})
	}); err != nil {
		t.Fatal(err)
	}
	release := holdWriter(t, db)
	const n = 30
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			errs[i] = db.Write(ctx, func(tx store.Tx) error {
				if _, err := tx.PutMetaIfAbsent(ctx, fmt.Sprintf("k%d", i), "v"); err != nil {
					return err
				}
				switch i % 3 {
				case 1: // fails after writing
					return fmt.Errorf("call %d refused", i)
				case 2: // breaks a uniqueness rule after writing
					return tx.InsertGroup(ctx, store.Group{IdentityStoreID: "d-1", ID: fmt.Sprintf("g%d", i), DisplayName: "TAKEN"})
				}
				return nil
			})
		})
	}
	waitQueued()
	release()
	wg.Wait()
	for i := range n {
		switch i % 3 {
		case 0:
			if errs[i] != nil || !metaSet(t, db, fmt.Sprintf("k%d", i)) {
				t.Errorf("call %d: err %v, committed %v; want committed", i, errs[i], metaSet(t, db, fmt.Sprintf("k%d", i)))
			}
		case 1:
			if errs[i] == nil || errs[i].Error() != fmt.Sprintf("call %d refused", i) {
				t.Errorf("call %d: err %v, want its own error", i, errs[i])
			}
		case 2:
			if !errors.Is(errs[i], store.ErrConflict) {
				t.Errorf("call %d: err %v, want ErrConflict", i, errs[i])
			}
		}
		if i%3 != 0 && metaSet(t, db, fmt.Sprintf("k%d", i)) {
			t.Errorf("call %d failed but its write was committed", i)
		}
	}
}

// A panic in one call's function reaches that caller, as without batching,
// and the others in its batch commit.
func TestGroupCommitPanicReachesItsCaller(t *testing.T) {
	ctx := context.Background()
	db := openMigrated(t)
	release := holdWriter(t, db)
	var wg sync.WaitGroup
	var recovered any
	var otherErr error
	wg.Go(func() {
		defer func() { recovered = recover() }()
		db.Write(ctx, func(tx store.Tx) error {
			tx.PutMetaIfAbsent(ctx, "panicked", "v")
			panic("boom")
		})
	})
	wg.Go(func() {
		otherErr = db.Write(ctx, func(tx store.Tx) error {
			_, err := tx.PutMetaIfAbsent(ctx, "other", "v")
			return err
		})
	})
	waitQueued()
	release()
	wg.Wait()
	if recovered != "boom" {
		t.Errorf("recovered %v, want the caller's panic", recovered)
	}
	if otherErr != nil || !metaSet(t, db, "other") {
		t.Errorf("the other call: %v, committed %v", otherErr, metaSet(t, db, "other"))
	}
	if metaSet(t, db, "panicked") {
		t.Error("the panicking call's write was committed")
	}
}

// A caller that gives up while queued gets its context's error, and its
// function never runs.
func TestGroupCommitCancelledWhileQueuedNeverRuns(t *testing.T) {
	db := openMigrated(t)
	release := holdWriter(t, db)
	ctx, cancel := context.WithCancel(context.Background())
	ran := false
	errc := make(chan error, 1)
	go func() {
		errc <- db.Write(ctx, func(tx store.Tx) error { ran = true; return nil })
	}()
	waitQueued()
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Errorf("err %v, want context.Canceled", err)
	}
	release()
	// A write after the released batch proves the cancelled one was passed over.
	if err := db.Write(context.Background(), func(tx store.Tx) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if ran {
		t.Error("the cancelled call's function ran")
	}
}

// A caller whose context ends while its function runs does not undo the
// calls batched with it.
func TestGroupCommitCancelledCallerKeepsOthers(t *testing.T) {
	db := openMigrated(t)
	release := holdWriter(t, db)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var firstErr, otherErr error
	wg.Go(func() {
		firstErr = db.Write(ctx, func(tx store.Tx) error {
			cancel()
			_, err := tx.PutMetaIfAbsent(ctx, "cancelled", "v")
			return err
		})
	})
	waitQueued()
	wg.Go(func() {
		otherErr = db.Write(context.Background(), func(tx store.Tx) error {
			_, err := tx.PutMetaIfAbsent(context.Background(), "other", "v")
			return err
		})
	})
	waitQueued()
	release()
	wg.Wait()
	if otherErr != nil || !metaSet(t, db, "other") {
		t.Errorf("the other call: %v, committed %v", otherErr, metaSet(t, db, "other"))
	}
	if (firstErr == nil) != metaSet(t, db, "cancelled") {
		t.Errorf("the cancelled call answered %v but committed %v", firstErr, metaSet(t, db, "cancelled"))
	}
}

func TestGroupCommitWriteAfterClose(t *testing.T) {
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "atrium.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Migrate(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	db.Close()
	ran := false
	if err := db.Write(context.Background(), func(store.Tx) error { ran = true; return nil }); err == nil || ran {
		t.Errorf("write after close: err %v, ran %v", err, ran)
	}
}

// The committer holds the write pool's one connection between batches, so
// Ping and a later Migrate must not wait for it: each would hang forever.
func TestGroupCommitPingAndMigrateAfterWrites(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	db, _ := openMigratedFile(t)
	if err := db.Write(ctx, func(tx store.Tx) error { _, err := tx.PutMetaIfAbsent(ctx, "k", "v"); return err }); err != nil {
		t.Fatal(err)
	}
	if err := db.Ping(ctx); err != nil {
		t.Fatalf("ping after a write: %v", err)
	}
	if err := db.Migrate(ctx, nil); err != nil {
		t.Fatalf("migrate after a write: %v", err)
	}
	if err := db.Write(ctx, func(tx store.Tx) error { _, err := tx.PutMetaIfAbsent(ctx, "k2", "v"); return err }); err != nil || !metaSet(t, db, "k2") {
		t.Fatalf("write after migrate: %v", err)
	}
}

// A query in a group commit's transaction starts no goroutine: a
// database/sql Tx would start one per query to watch its context, and the
// single writer, which every write waits for, would pay for each.
func TestGroupCommitQueriesStartNoGoroutine(t *testing.T) {
	ctx := context.Background()
	db := openMigrated(t)
	const queries = 200
	created := []metrics.Sample{{Name: "/sched/goroutines-created:goroutines"}}
	var started uint64
	err := db.Write(ctx, func(tx store.Tx) error {
		metrics.Read(created)
		before := created[0].Value.Uint64()
		for range queries {
			if _, err := tx.GetMeta(ctx, "absent"); !errors.Is(err, store.ErrNotFound) {
				return err
			}
		}
		metrics.Read(created)
		started = created[0].Value.Uint64() - before
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if started > queries/10 {
		t.Errorf("%d queries in one write started %d goroutines", queries, started)
	}
}

// BenchmarkConcurrentMemberships is the store's share of seeding a
// directory through the API: 32 writers, each adding a user to a group
// with the call's audit record, every one its own Write.
func BenchmarkConcurrentMemberships(b *testing.B) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "atrium.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(ctx, nil); err != nil {
		b.Fatal(err)
	}
	const users, groups = 2000, 200
	err = db.Write(ctx, func(tx store.Tx) error {
		for i := range users {
			if err := tx.InsertUser(ctx, store.User{IdentityStoreID: "d-1", ID: fmt.Sprintf("u%05d", i), UserName: fmt.Sprintf("u%05d", i)}); err != nil {
				return err
			}
		}
		for i := range groups {
			if err := tx.InsertGroup(ctx, store.Group{IdentityStoreID: "d-1", ID: fmt.Sprintf("g%04d", i), DisplayName: fmt.Sprintf("g%04d", i)}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	var next atomic.Int64
	b.SetParallelism(16)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := next.Add(1)
			// Distinct pairs: user i%users with group (i/users)%groups.
			m := store.GroupMembership{IdentityStoreID: "d-1", ID: fmt.Sprintf("m%08d", i),
				UserID: fmt.Sprintf("u%05d", i%users), GroupID: fmt.Sprintf("g%04d", (i/users)%groups)}
			ev := store.AuditEvent{ID: fmt.Sprintf("e%08d", i), Time: time.Now(), Source: "identitystore.amazonaws.com",
				EventName: "CreateGroupMembership", RequestParams: `{"GroupId":"` + m.GroupID + `"}`}
			err := db.Write(ctx, func(tx store.Tx) error {
				if err := tx.InsertGroupMembership(ctx, m); err != nil {
					return err
				}
				return tx.AppendAudit(ctx, ev)
			})
			if err != nil {
				b.Error(err)
				return
			}
		}
	})
}
