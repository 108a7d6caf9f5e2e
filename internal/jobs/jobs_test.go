package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/atrium-sso/atrium/internal/store"
	"github.com/atrium-sso/atrium/internal/store/sqlite"
)

func openStore(t *testing.T, path string) store.Store {
	t.Helper()
	db, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Migrate(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// A job enqueued before a restart runs after it, once; its effect commits
// with its removal.
func TestJobSurvivesRestartAndRunsOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "atrium.db")
	ctx := context.Background()
	s := openStore(t, path)
	r := NewRunner(s, quiet)
	r.Handle("tag", func(context.Context, store.Tx, *store.Job) error { return nil })
	if err := s.Write(ctx, func(tx store.Tx) error { return r.Enqueue(ctx, tx, "tag", map[string]string{"resource": "r1"}) }); err != nil {
		t.Fatal(err)
	}
	s.(io.Closer).Close()

	s2 := openStore(t, path)
	r2 := NewRunner(s2, quiet)
	var mu sync.Mutex
	runs := 0
	r2.Handle("tag", func(ctx context.Context, tx store.Tx, job *store.Job) error {
		mu.Lock()
		runs++
		mu.Unlock()
		return tx.PutTags(ctx, "r1", []store.Tag{{Key: "done", Value: string(job.Payload)}})
	})
	for r2.runOne(ctx) {
	}
	if runs != 1 {
		t.Fatalf("job ran %d times", runs)
	}
	var tags []store.Tag
	s2.Read(ctx, func(tx store.Tx) error { tags, _ = tx.ListTags(ctx, "r1"); return nil })
	if len(tags) != 1 || tags[0].Value != `{"resource":"r1"}` {
		t.Fatalf("job effect = %+v", tags)
	}
}

// A failing job leaves no partial effect and is retried later.
func TestFailedJobRollsBackAndRetries(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, filepath.Join(t.TempDir(), "atrium.db"))
	r := NewRunner(s, quiet)
	fail := true
	r.Handle("k", func(ctx context.Context, tx store.Tx, job *store.Job) error {
		if err := tx.PutTags(ctx, "half", []store.Tag{{Key: "k", Value: "v"}}); err != nil {
			return err
		}
		if fail {
			return errors.New("downstream unavailable")
		}
		return nil
	})
	s.Write(ctx, func(tx store.Tx) error { return r.Enqueue(ctx, tx, "k", nil) })
	if !r.runOne(ctx) {
		t.Fatal("no job ran")
	}
	var tags []store.Tag
	s.Read(ctx, func(tx store.Tx) error { tags, _ = tx.ListTags(ctx, "half"); return nil })
	if len(tags) != 0 {
		t.Fatalf("a failed job left its half-done work: %v", tags)
	}
	if r.runOne(ctx) {
		t.Fatal("retried at once; it must back off")
	}
	// Let the backoff pass by claiming as if later.
	fail = false
	var job *store.Job
	err := s.Write(ctx, func(tx store.Tx) error {
		var err error
		job, err = tx.ClaimJob(ctx, []string{"k"}, r.worker, time.Now().Add(time.Hour), time.Now().Add(2*time.Hour))
		return err
	})
	if err != nil || job.LastError != "downstream unavailable" || job.Attempts != 2 {
		t.Fatalf("retried job = %+v, %v", job, err)
	}
}

// overlapStore counts the Writes in flight at once.
type overlapStore struct {
	store.Store
	mu             sync.Mutex
	inFlight, most int
}

func (s *overlapStore) Write(ctx context.Context, fn func(store.Tx) error) error {
	s.mu.Lock()
	s.inFlight++
	s.most = max(s.most, s.inFlight)
	s.mu.Unlock()
	defer func() { s.mu.Lock(); s.inFlight--; s.mu.Unlock() }()
	// Long enough that a woken worker's claim meets this one.
	time.Sleep(time.Millisecond)
	return s.Store.Write(ctx, fn)
}

// With several workers a burst of jobs is worked several at a time (on
// SQLite in shared group commits), each exactly once, in the order queued.
func TestWorkersRunABurstTogetherInOrder(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := &overlapStore{Store: openStore(t, filepath.Join(t.TempDir(), "atrium.db"))}
	r := NewRunner(s, quiet)
	r.Workers = 8
	const n = 200
	var mu sync.Mutex
	var order []int
	done := make(chan struct{})
	r.Handle("n", func(ctx context.Context, tx store.Tx, job *store.Job) error {
		var i int
		if err := json.Unmarshal(job.Payload, &i); err != nil {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		order = append(order, i)
		if len(order) == n {
			close(done)
		}
		return nil
	})
	for i := range n {
		if err := s.Store.Write(ctx, func(tx store.Tx) error { return r.Enqueue(ctx, tx, "n", i) }); err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Microsecond) // distinct creation times
	}
	go r.Run(ctx)
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatalf("%d of %d jobs ran", len(order), n)
	}
	cancel()
	mu.Lock()
	defer mu.Unlock()
	for i, v := range order {
		if v != i {
			t.Fatalf("job %d ran as the %dth", v, i)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.most < 2 {
		t.Fatalf("at most %d write at a time: the workers ran one job at a time", s.most)
	}
}
