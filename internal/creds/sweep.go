package creds

import (
	"context"
	"log/slog"
	"time"

	"github.com/atrium-sso/atrium/internal/jobs"
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
	jobs.Sweep(ctx, s, log, "expired session credentials", sweepEvery, func(ctx context.Context, tx store.Tx) (int, error) {
		return tx.DeleteExpiredSessionCredentials(ctx, time.Now().Add(-expiredKept))
	})
}
