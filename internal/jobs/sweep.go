package jobs

import (
	"context"
	"log/slog"
	"time"

	"github.com/atrium-sso/atrium/internal/store"
)

// Sweep runs del in a write transaction now and every interval until ctx
// ends, logging what it removed: the periodic clean-up of rows that expire
// (session credentials, sign-in sessions and tokens, throttles). Every node
// runs its sweeps; del must be idempotent.
func Sweep(ctx context.Context, s store.Store, log *slog.Logger, what string, every time.Duration,
	del func(ctx context.Context, tx store.Tx) (int, error)) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		var n int
		err := s.Write(ctx, func(tx store.Tx) error {
			var err error
			n, err = del(ctx, tx)
			return err
		})
		switch {
		case err != nil && ctx.Err() == nil:
			log.Warn("sweep "+what, "error", err)
		case n > 0:
			log.Debug("swept "+what, "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
