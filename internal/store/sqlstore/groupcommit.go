package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/atrium-sso/atrium/internal/store"
)

// Group commit, for a database with one writer (SQLite): a committer
// goroutine takes the Write calls waiting at that moment, runs each in its
// own savepoint of one transaction and commits once for all of them. A
// call's changes are kept only if its function returns nil (ROLLBACK TO its
// savepoint otherwise), and it returns once the batch is committed, so
// Write's contract is unchanged; the batch shares the commit's page writes
// and WAL work instead of paying them once per call.

// maxBatch bounds the calls committed together: a batch holds the write
// lock, and every call in it waits for the last.
const maxBatch = 64

// errClosed answers a Write made after (or left waiting at) Close.
var errClosed = errors.New("sqlstore: database is closed")

// Request states: a call waiting in the queue is taken by the committer or
// abandoned by its caller (context done), never both.
const (
	queued int32 = iota
	taken
	abandoned
)

type writeReq struct {
	ctx   context.Context
	fn    func(store.Tx) error
	state atomic.Int32
	done  chan error // buffered: the committer never waits for the caller
}

// panicked carries a panic in a caller's function back to the caller's
// goroutine, where it is raised again as it would have been without batching.
type panicked struct{ value any }

func (p *panicked) Error() string { return fmt.Sprintf("panic in write transaction: %v", p.value) }

type committer struct {
	db      *DB
	queue   chan *writeReq
	quit    chan struct{} // closed by Close
	stopped chan struct{} // closed when the committer has exited
	once    sync.Once
	// wrote wakes the checkpointer after a commit; nil without one.
	wrote              chan struct{}
	checkpointerExited chan struct{}
	// unprepared are statements batches ran without a prepared one, to be
	// prepared once the write connection is free again.
	unprepared map[string]bool
}

func newCommitter(db *DB) *committer {
	c := &committer{db: db, queue: make(chan *writeReq, maxBatch), quit: make(chan struct{}), stopped: make(chan struct{}),
		unprepared: map[string]bool{}}
	if db.dialect.Checkpoint != "" {
		c.wrote, c.checkpointerExited = make(chan struct{}, 1), make(chan struct{})
		go c.checkpointer()
	}
	go c.run()
	return c
}

// checkpointEvery spaces checkpoints: each copies the pages written since
// the last, so under steady writes a page changed many times is copied once.
// Longer gaps copy less in all but make each copy a burst that holds up
// callers on a small machine: at 100 ms the 64-client refresh benchmark's
// p99 was 23-31 ms, at 25 ms 18-19 ms, for 3% less throughput.
const checkpointEvery = 25 * time.Millisecond

// checkpointer runs the dialect's checkpoint after writes. SQLite would
// otherwise checkpoint inside the commit that fills its log, and every call
// in that batch would wait for it; here it runs beside the writer.
func (c *committer) checkpointer() {
	defer close(c.checkpointerExited)
	for {
		select {
		case <-c.wrote:
		case <-c.quit:
			return
		}
		// A failed checkpoint (a reader holding old pages, say) is retried
		// after the next write; the log is only longer meanwhile.
		_, _ = c.db.read.ExecContext(context.Background(), c.db.dialect.Checkpoint)
		select {
		case <-time.After(checkpointEvery):
		case <-c.quit:
			return
		}
	}
}

// write queues fn and waits for its outcome.
func (c *committer) write(ctx context.Context, fn func(store.Tx) error) error {
	r := &writeReq{ctx: ctx, fn: fn, done: make(chan error, 1)}
	select {
	case c.queue <- r:
	case <-ctx.Done():
		return ctx.Err()
	case <-c.quit:
		return errClosed
	}
	var err error
	select {
	case err = <-r.done:
	case <-ctx.Done():
		if r.state.CompareAndSwap(queued, abandoned) {
			return ctx.Err()
		}
		err = <-r.done // already running: its outcome decides
	case <-c.stopped:
		if r.state.CompareAndSwap(queued, abandoned) {
			return errClosed
		}
		err = <-r.done
	}
	if p, ok := err.(*panicked); ok {
		panic(p.value)
	}
	return err
}

// close stops the committer after the batch in progress.
func (c *committer) close() {
	c.once.Do(func() { close(c.quit) })
	<-c.stopped
	if c.checkpointerExited != nil {
		<-c.checkpointerExited
	}
}

func (c *committer) run() {
	defer close(c.stopped)
	batch := make([]*writeReq, 0, maxBatch)
	for {
		select {
		case r := <-c.queue:
			batch = append(batch[:0], r)
		case <-c.quit:
			for {
				select {
				case r := <-c.queue:
					if r.state.CompareAndSwap(queued, taken) {
						r.done <- errClosed
					}
				default:
					return
				}
			}
		}
	more:
		for len(batch) < maxBatch {
			select {
			case r := <-c.queue:
				batch = append(batch, r)
			default:
				break more
			}
		}
		live := batch[:0]
		for _, r := range batch {
			if r.state.CompareAndSwap(queued, taken) {
				live = append(live, r)
			}
		}
		c.commit(live)
		if c.wrote != nil {
			select {
			case c.wrote <- struct{}{}:
			default: // already due
			}
		}
		clear(batch[:cap(batch)])
		c.prepare()
	}
}

// batchStmts are the statements of one batch's transaction: each query
// is prepared once on the write connection and bound to the transactions
// that run it after, since parsing a small write costs about as much as
// running it.
type batchStmts struct {
	c     *committer
	sqlTx *sql.Tx
	mu    sync.Mutex // a caller's function may share its tx between goroutines
	bound map[string]*sql.Stmt
}

// stmt is q's statement bound to the transaction, nil if q is not prepared yet.
func (b *batchStmts) stmt(ctx context.Context, q string) *sql.Stmt {
	b.mu.Lock()
	defer b.mu.Unlock()
	if s := b.bound[q]; s != nil {
		return s
	}
	shared, ok := b.c.db.stmts.Load(stmtKey{b.c.db.write, q})
	if !ok {
		b.c.unprepared[q] = true
		return nil
	}
	s := b.sqlTx.StmtContext(ctx, shared.(*sql.Stmt))
	b.bound[q] = s
	return s
}

// prepare prepares the statements the last batch ran unprepared, now that
// the write connection is free; one that fails is run unprepared again.
func (c *committer) prepare() {
	for q := range c.unprepared {
		_, _ = c.db.stmt(context.Background(), c.db.write, q)
		delete(c.unprepared, q)
	}
}

// commit runs the batch in one transaction and answers every call in it.
func (c *committer) commit(batch []*writeReq) {
	if len(batch) == 0 {
		return
	}
	// Statements run detached from the callers' contexts: SQLite answers an
	// interrupted write by rolling back the whole transaction, and one
	// caller going away must not undo the others.
	ctx := context.Background()
	sqlTx, err := c.db.write.BeginTx(ctx, nil)
	if err != nil {
		for _, r := range batch {
			r.done <- err
		}
		return
	}
	t := &tx{db: c.db, pool: c.db.write, sqlTx: sqlTx, detached: true,
		batch: &batchStmts{c: c, sqlTx: sqlTx, bound: map[string]*sql.Stmt{}}}
	if len(batch) == 1 {
		// Alone, a call needs no savepoint: its error rolls back the transaction.
		r := batch[0]
		if err := run(r, t); err != nil {
			_ = sqlTx.Rollback()
			r.done <- err
			return
		}
		r.done <- sqlTx.Commit()
		return
	}
	pending := make([]*writeReq, 0, len(batch)) // calls whose changes wait for the commit
	for i, r := range batch {
		if _, err := t.exec(ctx, `SAVEPOINT call`); err != nil {
			c.abort(sqlTx, append(pending, batch[i:]...), err)
			return
		}
		if err := run(r, t); err != nil {
			// Undo this call alone; if that fails the transaction is gone
			// (SQLite rolls back all of it on some errors), and with it the
			// calls before this one.
			if _, rerr := t.exec(ctx, `ROLLBACK TO call`); rerr != nil {
				r.done <- err
				c.abort(sqlTx, append(pending, batch[i+1:]...), rerr)
				return
			}
			r.done <- err // answered now: nothing of it waits for the commit
		} else {
			pending = append(pending, r)
		}
		if _, err := t.exec(ctx, `RELEASE call`); err != nil {
			c.abort(sqlTx, append(pending, batch[i+1:]...), err)
			return
		}
	}
	err = sqlTx.Commit()
	for _, r := range pending {
		r.done <- err
	}
}

// abort rolls the batch back and answers the calls not yet answered.
func (c *committer) abort(sqlTx interface{ Rollback() error }, unanswered []*writeReq, err error) {
	_ = sqlTx.Rollback()
	err = fmt.Errorf("write batch rolled back: %w", err)
	for _, r := range unanswered {
		r.done <- err
	}
}

// run calls the caller's function, unless the caller has gone already.
func run(r *writeReq, t *tx) (err error) {
	if err := r.ctx.Err(); err != nil {
		return err
	}
	returned := false
	defer func() {
		if v := recover(); v != nil {
			err = &panicked{v}
		} else if !returned {
			// runtime.Goexit would end the committer and strand every writer.
			panic("sqlstore: a function passed to Write called runtime.Goexit (t.FailNow?): it runs on the committer's goroutine")
		}
	}()
	err = r.fn(t)
	returned = true
	return err
}
