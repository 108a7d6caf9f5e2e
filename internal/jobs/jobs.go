// Package jobs runs the durable queue of asynchronous work (account
// creation now, provisioning later). A job's effect and its removal from the
// queue commit in one transaction, and a worker may commit only while it
// still holds the job's lease: so across restarts and nodes no job is lost
// and none takes effect twice.
package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/atrium-sso/atrium/internal/ids"
	"github.com/atrium-sso/atrium/internal/store"
)

// Handler does a job's work inside the transaction that finishes it.
type Handler func(ctx context.Context, tx store.Tx, job *store.Job) error

// Runner takes (or claims) and runs jobs.
type Runner struct {
	Store store.Store
	Log   *slog.Logger
	Lease time.Duration // how long a claim lasts; 0 = 15 seconds
	Poll  time.Duration // how often to look for work from other nodes; 0 = 250ms
	// Workers is how many jobs run at once; 0 = 1. More than one keeps jobs
	// in order only where writes are serial (SQLite's single writer runs
	// each take, work and finish before the next take): there their
	// transactions share group commits, and a burst of assignments settles
	// many times sooner.
	Workers  int
	worker   string
	handlers map[string]Handler
	wake     chan struct{}
}

// NewRunner makes a runner with a unique worker id.
func NewRunner(s store.Store, log *slog.Logger) *Runner {
	return &Runner{Store: s, Log: log, worker: "worker-" + ids.Hex(8), handlers: map[string]Handler{}, wake: make(chan struct{}, 1)}
}

// Handle registers the handler of a job kind.
func (r *Runner) Handle(kind string, h Handler) { r.handlers[kind] = h }

// Enqueue adds a job in tx (so it exists exactly when the change that asks
// for it commits) and wakes this node's runner.
func (r *Runner) Enqueue(ctx context.Context, tx store.Tx, kind string, payload any) error {
	b, err := json.Marshal(payload)
	if err != nil {
		return err
	}
	now := time.Now().UTC()
	if err := tx.EnqueueJob(ctx, store.Job{ID: ids.TimeUUID(), Kind: kind, Payload: b, RunAfter: now, CreatedAt: now}); err != nil {
		return err
	}
	r.signal()
	return nil
}

// signal wakes one idle worker, if any is waiting.
func (r *Runner) signal() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Run works until ctx ends. One worker polls for jobs that other nodes
// queued or that come due; the rest wait to be woken, by Enqueue or by a
// worker that found a job (so more may be due): idle, only the poll costs.
func (r *Runner) Run(ctx context.Context) {
	poll := r.Poll
	if poll == 0 {
		poll = 250 * time.Millisecond
	}
	var wg sync.WaitGroup
	for i := range max(1, r.Workers) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var tick <-chan time.Time
			if i == 0 {
				t := time.NewTicker(poll)
				defer t.Stop()
				tick = t.C
			}
			r.work(ctx, tick)
		}()
	}
	wg.Wait()
}

func (r *Runner) work(ctx context.Context, tick <-chan time.Time) {
	for {
		for r.runOne(ctx) {
			r.signal()
		}
		select {
		case <-ctx.Done():
			return
		case <-tick:
		case <-r.wake:
		}
	}
}

// runOne takes and runs one due job; it reports whether there was one.
func (r *Runner) runOne(ctx context.Context) bool {
	if ctx.Err() != nil {
		return false
	}
	kinds := make([]string, 0, len(r.handlers))
	for k := range r.handlers {
		kinds = append(kinds, k)
	}
	lease := r.Lease
	if lease == 0 {
		// Short, so a job held by a node that died runs again soon after;
		// every job here is one transaction that takes well under this.
		lease = 15 * time.Second
	}
	// Take, work and finish in one transaction: it commits all or
	// nothing, so a node that dies midway leaves the job as it was, and no
	// other node sees it meanwhile (its row is locked on PostgreSQL; SQLite
	// has one writer). One transaction instead of two per job, and no lease
	// to write, since none outlives the transaction; taking the job removes it.
	var job *store.Job
	err := r.Store.Write(ctx, func(tx store.Tx) error {
		var err error
		if job, err = tx.TakeJob(ctx, kinds, time.Now().UTC()); err != nil {
			return err
		}
		return r.handlers[job.Kind](ctx, tx, job)
	})
	switch {
	case err == nil:
		return true
	case job == nil && errors.Is(err, store.ErrNotFound):
		return false // nothing due
	case ctx.Err() != nil:
		return false
	}
	// The work failed and rolled back with its take: claim the oldest due job
	// again on its own, so that its attempt counts and it backs off.
	return r.runApart(ctx, kinds, lease)
}

// runApart claims a job in one transaction and works it in another; a
// failure releases it to run again later, after a backoff that grows with
// its attempts.
func (r *Runner) runApart(ctx context.Context, kinds []string, lease time.Duration) bool {
	var job *store.Job
	err := r.Store.Write(ctx, func(tx store.Tx) error {
		now := time.Now().UTC()
		var err error
		job, err = tx.ClaimJob(ctx, kinds, r.worker, now, now.Add(lease))
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return false
	}
	if err != nil {
		if ctx.Err() == nil {
			r.Log.Error("claim job", "error", err)
		}
		return false
	}
	err = r.Store.Write(ctx, func(tx store.Tx) error {
		if err := r.handlers[job.Kind](ctx, tx, job); err != nil {
			return err
		}
		return tx.FinishJob(ctx, job.ID, r.worker)
	})
	if err != nil && !errors.Is(err, store.ErrLeaseLost) {
		backoff := time.Duration(min(job.Attempts*job.Attempts, 60)) * time.Second
		r.Log.Warn("job failed; will retry", "job", job.ID, "kind", job.Kind, "attempt", job.Attempts, "error", err)
		rerr := r.Store.Write(context.WithoutCancel(ctx), func(tx store.Tx) error {
			return tx.RetryJob(ctx, job.ID, r.worker, time.Now().Add(backoff), fmt.Sprint(err))
		})
		if rerr != nil && !errors.Is(rerr, store.ErrLeaseLost) {
			r.Log.Error("release job", "job", job.ID, "error", rerr)
		}
	}
	return true
}
