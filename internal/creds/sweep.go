package creds

import (
	"context"
	"log/slog"
	"time"

	"github.com/atrium-sso/atrium/internal/store"
)

const (
	// sweepEvery is how often expired session credentials are deleted.
	sweepEvery = 5 * time.Minute
	// expiredKept is how long an expired credential stays, so that its
	// holder is told ExpiredToken (and refreshes) rather than that it is invalid.
	expiredKept = time.Hour
)

// SweepExpired deletes long-expired session credentials now and every
// sweepEvery until ctx ends. Every node runs it; the deletes are idempotent.
func SweepExpired(ctx context.Context, s store.Store, log *slog.Logger) {
	t := time.NewTicker(sweepEvery)
	defer t.Stop()
	for {
		var n int
		err := s.Write(ctx, func(tx store.Tx) error {
			var err error
			n, err = tx.DeleteExpiredSessionCredentials(ctx, time.Now().Add(-expiredKept))
			return err
		})
		switch {
		case err != nil && ctx.Err() == nil:
			log.Warn("sweep expired session credentials", "error", err)
		case n > 0:
			log.Debug("swept expired session credentials", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
