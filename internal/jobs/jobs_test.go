package jobs

import (
	"context"
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
