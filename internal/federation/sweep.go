package federation

import (
	"context"
	"log/slog"
	"time"

	"github.com/atrium-sso/atrium/internal/jobs"
	"github.com/atrium-sso/atrium/internal/store"
)

// SweepUsed forgets single-use marks (assertion ids, states, sign-in
// steps) once they have expired, now and every five minutes until ctx
// ends: past its expiry a value is refused for its own age anyway.
func SweepUsed(ctx context.Context, s store.Store, log *slog.Logger) {
	jobs.Sweep(ctx, s, log, "expired single-use marks", 5*time.Minute, func(ctx context.Context, tx store.Tx) (int, error) {
		return tx.DeleteUsedBefore(ctx, time.Now())
	})
}
