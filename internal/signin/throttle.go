package signin

import (
	"context"
	"errors"
	"log/slog"
	"net/netip"
	"time"

	"github.com/atrium-sso/atrium/internal/jobs"
	"github.com/atrium-sso/atrium/internal/store"
)

// throttleRule limits failed sign-ins under one key: Limit failures within
// Window lock the key for Base, doubling with each further lock up to Max.
// A quiet day forgets earlier locks.
type throttleRule struct {
	Limit     int
	Window    time.Duration
	Base, Max time.Duration
}

var (
	// Per user name (known or not, so that locking tells nothing about who
	// exists): guessing one person's password.
	perUser = throttleRule{Limit: 5, Window: 15 * time.Minute, Base: time.Minute, Max: time.Hour}
	// Per source address: one address trying a few passwords on many
	// users (password spraying).
	perSource = throttleRule{Limit: 50, Window: 15 * time.Minute, Base: 15 * time.Minute, Max: time.Hour}
)

const forgetLocksAfter = 24 * time.Hour

// fail counts one failure at now; it reports whether the key is now locked.
func (r throttleRule) fail(th *store.Throttle, now time.Time) bool {
	if now.Sub(th.UpdatedAt) >= forgetLocksAfter {
		th.Lockouts = 0
	}
	if now.Sub(th.WindowStart) >= r.Window {
		th.Failures, th.WindowStart = 0, now
	}
	th.Failures++
	th.UpdatedAt = now
	if th.Failures < r.Limit {
		return false
	}
	delay := r.Base << min(th.Lockouts, 20)
	th.Lockouts++
	th.LockedUntil = now.Add(min(delay, r.Max))
	th.Failures, th.WindowStart = 0, now
	return true
}

// ErrThrottled: too many failed sign-ins for this user name or from this
// address; nothing was checked. Try again later.
var ErrThrottled = errors.New("signin: too many failed attempts, try again later")

func userThrottleKey(identityStoreID, userName string) string {
	return "user:" + identityStoreID + "/" + store.NameKey(userName)
}

// sourceThrottleKey is the address, or its /64 for IPv6 (one subscriber
// usually holds a whole /64); "" when there is no address to key on.
func sourceThrottleKey(sourceIP string) string {
	addr, err := netip.ParseAddr(sourceIP)
	if err != nil {
		return ""
	}
	addr = addr.Unmap()
	if addr.Is6() {
		p, _ := addr.Prefix(64)
		return "source:" + p.String()
	}
	return "source:" + addr.String()
}

// throttled reports whether any of keys is locked at now.
func throttled(ctx context.Context, tx store.Tx, now time.Time, keys ...string) (bool, error) {
	for _, k := range keys {
		if k == "" {
			continue
		}
		th, err := tx.GetThrottle(ctx, k)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return false, err
		}
		if th.LockedUntil.After(now) {
			return true, nil
		}
	}
	return false, nil
}

// countFailure counts a failure under the user's key and the source's;
// it reports whether one of them is now locked.
func countFailure(ctx context.Context, tx store.Tx, now time.Time, userKey, sourceKey string) (bool, error) {
	locked := false
	// Always user then source: racing transactions lock rows in one order.
	for _, k := range []struct {
		key  string
		rule throttleRule
	}{{userKey, perUser}, {sourceKey, perSource}} {
		if k.key == "" {
			continue
		}
		_, err := tx.UpdateThrottle(ctx, k.key, func(th *store.Throttle) error {
			locked = k.rule.fail(th, now) || locked
			return nil
		})
		if err != nil {
			return false, err
		}
	}
	return locked, nil
}

// clearFailures forgets a user's failures after a successful sign-in;
// the lock count stays (until a quiet day), so an attacker whose guesses
// straddle the user's sign-ins still meets growing locks. The source's
// failures stay too: a sprayer who guesses one password must not get a
// fresh allowance for the rest.
func clearFailures(ctx context.Context, tx store.Tx, now time.Time, userKey string) error {
	th, err := tx.GetThrottle(ctx, userKey)
	if errors.Is(err, store.ErrNotFound) || (err == nil && th.Failures == 0) {
		return nil
	}
	if err != nil {
		return err
	}
	_, err = tx.UpdateThrottle(ctx, userKey, func(th *store.Throttle) error {
		th.Failures, th.WindowStart, th.UpdatedAt = 0, time.Time{}, now
		return nil
	})
	return err
}

// SweepThrottles deletes counters quiet for a day (their locks long over)
// now and every hour until ctx ends. Every node runs it; the deletes are
// idempotent.
func (s *Service) SweepThrottles(ctx context.Context, log *slog.Logger) {
	jobs.Sweep(ctx, s.store, log, "sign-in throttles", time.Hour, func(ctx context.Context, tx store.Tx) (int, error) {
		return tx.DeleteThrottlesBefore(ctx, s.now().Add(-forgetLocksAfter))
	})
}
