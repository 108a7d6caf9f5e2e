package portal

import (
	"context"
	"log/slog"
	"time"

	"github.com/atrium-sso/atrium/internal/store"
)

const (
	// sweepEvery is how often ended sessions, clients, codes and tokens are deleted.
	sweepEvery = 5 * time.Minute
	// expiredKept is how long they stay after they expire, so that a client
	// is told its token expired rather than that it never existed.
	expiredKept = time.Hour
)

// SweepExpired deletes what expired more than expiredKept ago, now and
// every sweepEvery until ctx ends. Every node runs it; the deletes are idempotent.
func SweepExpired(ctx context.Context, s store.Store, log *slog.Logger) {
	t := time.NewTicker(sweepEvery)
	defer t.Stop()
	for {
		var n int
		err := s.Write(ctx, func(tx store.Tx) error {
			var err error
			n, err = tx.DeletePortalExpired(ctx, time.Now().Add(-expiredKept))
			return err
		})
		switch {
		case err != nil && ctx.Err() == nil:
			log.Warn("sweep expired sign-in sessions and tokens", "error", err)
		case n > 0:
			log.Debug("swept expired sign-in sessions and tokens", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
