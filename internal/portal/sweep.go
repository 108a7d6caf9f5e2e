package portal

import (
	"context"
	"log/slog"
	"time"

	"github.com/atrium-sso/atrium/internal/jobs"
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
	jobs.Sweep(ctx, s, log, "expired sign-in sessions and tokens", sweepEvery, func(ctx context.Context, tx store.Tx) (int, error) {
		return tx.DeletePortalExpired(ctx, time.Now().Add(-expiredKept))
	})
}
