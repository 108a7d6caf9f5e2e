// Package audit records every state-changing API call, CloudTrail-like, in
// the same transaction as the change it describes: a call whose change
// commits has its record committed with it, and a call that fails is
// recorded on its own with its error code.
package audit

import (
	"context"
	"sync"

	"github.com/atrium-sso/atrium/internal/store"
)

// pending is the record of the call in progress.
type pending struct {
	mu      sync.Mutex
	event   store.AuditEvent
	written bool
	// who the call acted for, when a handler learns it (Identify); its own
	// lock, since a handler may learn it inside the write that records it.
	whoMu        sync.Mutex
	principalARN string
	accountID    string
}

// record is the event as it is written: with who it acted for, if known.
func (p *pending) record() store.AuditEvent {
	e := p.event
	p.whoMu.Lock()
	if p.principalARN != "" {
		e.PrincipalARN, e.AccountID = p.principalARN, p.accountID
	}
	p.whoMu.Unlock()
	return e
}

type key struct{}

// Begin attaches the record of a state-changing call to ctx.
func Begin(ctx context.Context, e store.AuditEvent) context.Context {
	return context.WithValue(ctx, key{}, &pending{event: e})
}

// Store wraps a store so that the first write transaction committed during a
// call also commits that call's audit record.
type Store struct {
	store.Store
}

// Wrap makes s record audit events for calls begun with Begin.
func Wrap(s store.Store) *Store { return &Store{Store: s} }

func (s *Store) Write(ctx context.Context, fn func(store.Tx) error) error {
	p, _ := ctx.Value(key{}).(*pending)
	if p == nil {
		return s.Store.Write(ctx, fn)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.written {
		return s.Store.Write(ctx, fn)
	}
	err := s.Store.Write(ctx, func(tx store.Tx) error {
		if err := fn(tx); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, p.record())
	})
	if err == nil {
		p.written = true
	}
	return err
}

// Finish records a call that committed nothing (it failed, or changed
// nothing), with the error code it answered.
func (s *Store) Finish(ctx context.Context, errorCode, errorMessage string) error {
	p, _ := ctx.Value(key{}).(*pending)
	if p == nil {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.written {
		return nil
	}
	p.event.ErrorCode, p.event.ErrorMessage = errorCode, errorMessage
	// The call's own context may be cancelled; the record must still land.
	err := s.Store.Write(context.WithoutCancel(ctx), func(tx store.Tx) error { return tx.AppendAudit(ctx, p.record()) })
	if err == nil {
		p.written = true
	}
	return err
}

// Identify names who the call in ctx acted for, when the edge could not
// tell from a signature: an unsigned call that carries a bearer token or
// redeems a grant (the portal API, sso-oidc CreateToken). It may be called
// inside the write that records the call.
func Identify(ctx context.Context, principalARN, accountID string) {
	p, _ := ctx.Value(key{}).(*pending)
	if p == nil {
		return
	}
	p.whoMu.Lock()
	p.principalARN, p.accountID = principalARN, accountID
	p.whoMu.Unlock()
}

// Unrecorded returns ctx for a write that is bookkeeping of a call rather
// than its change (a device poll's time, a revocation after a refused
// grant): it commits without the call's record, which then records the
// call's outcome — usually the error it answered.
func Unrecorded(ctx context.Context) context.Context {
	return context.WithValue(ctx, key{}, (*pending)(nil))
}

// Recording reports whether ctx belongs to a call that is being recorded.
// Domain code that is reached from elsewhere too (the web pages) records
// its own event when it is not.
func Recording(ctx context.Context) bool {
	p, _ := ctx.Value(key{}).(*pending)
	return p != nil
}
