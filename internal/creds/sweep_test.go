package creds

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/atrium-sso/atrium/internal/store"
)

// The sweep deletes credentials long expired, and keeps the recently
// expired ones that still earn their holder an ExpiredToken answer.
func TestSweepDeletesOnlyLongExpiredCredentials(t *testing.T) {
	db := openStore(t)
	now := time.Now()
	old := issued(t, db, now.Add(-expiredKept-2*time.Hour), time.Hour)
	recent := issued(t, db, now.Add(-90*time.Minute), time.Hour)
	live := issued(t, db, now, time.Hour)

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { SweepExpired(ctx, db, slog.New(slog.NewTextHandler(io.Discard, nil))); close(done) }()
	defer func() { cancel(); <-done }()

	exists := func(id string) bool {
		err := db.Read(context.Background(), func(tx store.Tx) error { _, err := tx.GetSessionCredential(context.Background(), id); return err })
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			t.Fatal(err)
		}
		return err == nil
	}
	for deadline := time.Now().Add(10 * time.Second); exists(old.AccessKeyID); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the first sweep did not delete a credential expired hours ago")
		}
	}
	if !exists(recent.AccessKeyID) || !exists(live.AccessKeyID) {
		t.Fatal("the sweep deleted a credential expired less than expiredKept ago, or a live one")
	}
}
