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
	fn    func(store.Tx) error // nil: release the connection (committer.release)
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
	bc                 *batchConn // the write connection, from the first batch on
}

func newCommitter(db *DB) *committer {
	c := &committer{db: db, queue: make(chan *writeReq, maxBatch), quit: make(chan struct{}), stopped: make(chan struct{})}
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

// release gives the write connection back to its pool after the batch in
// progress, for a caller that needs the connection itself (Migrate); the
// next batch takes it again.
func (c *committer) release(ctx context.Context) error { return c.write(ctx, nil) }

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
	defer c.disconnect()
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
		var releases []*writeReq
		for _, r := range batch {
			switch {
			case !r.state.CompareAndSwap(queued, taken):
			case r.fn == nil:
				releases = append(releases, r)
			default:
				live = append(live, r)
			}
		}
		c.commit(live)
		if len(releases) > 0 {
			c.disconnect()
			for _, r := range releases {
				r.done <- nil
			}
		}
		// Only after a commit: a release comes before Migrate, and a
		// checkpoint then would open a connection to a database file that
		// Migrate's is still turning to WAL mode (SQLITE_BUSY at once).
		if c.wrote != nil && len(live) > 0 {
			select {
			case c.wrote <- struct{}{}:
			default: // already due
			}
		}
		clear(batch[:cap(batch)])
	}
}

// batchConn is the write connection as the committer holds it, from its
// first batch until close, with its own prepared statements. Transactions
// on it are BEGIN IMMEDIATE and COMMIT statements rather than a
// database/sql Tx: a Tx gives every query it runs a goroutine that watches
// the Tx's context (about seven per assignment request and its job), which
// the single writer, the bottleneck of every write, would pay for.
type batchConn struct {
	conn  *sql.Conn
	mu    sync.Mutex // a caller's function may share its tx between goroutines
	stmts map[string]*sql.Stmt
}

// stmt is q's statement on the connection, prepared on first use.
func (b *batchConn) stmt(ctx context.Context, q string) (*sql.Stmt, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if s := b.stmts[q]; s != nil {
		return s, nil
	}
	s, err := b.conn.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	b.stmts[q] = s
	return s, nil
}

func (b *batchConn) exec(ctx context.Context, q string) error {
	s, err := b.stmt(ctx, q)
	if err == nil {
		_, err = s.ExecContext(ctx)
	}
	return err
}

// connect takes the write connection for the committer, if it has none.
func (c *committer) connect(ctx context.Context) error {
	if c.bc != nil {
		return nil
	}
	conn, err := c.db.write.Conn(ctx)
	if err != nil {
		return err
	}
	c.bc = &batchConn{conn: conn, stmts: map[string]*sql.Stmt{}}
	return nil
}

// disconnect gives the write connection back, with its statements; the
// next batch takes it again (after a failed BEGIN, say, or at close).
func (c *committer) disconnect() {
	if c.bc == nil {
		return
	}
	for _, s := range c.bc.stmts {
		s.Close()
	}
	c.bc.conn.Close()
	c.bc = nil
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
	err := c.connect(ctx)
	if err == nil {
		if err = c.bc.exec(ctx, `BEGIN IMMEDIATE`); err != nil {
			c.disconnect()
		}
	}
	if err != nil {
		for _, r := range batch {
			r.done <- err
		}
		return
	}
	bc := c.bc
	t := &tx{db: c.db, batch: bc, detached: true}
	if len(batch) == 1 {
		// Alone, a call needs no savepoint: its error rolls back the transaction.
		r := batch[0]
		if err := run(r, t); err != nil {
			c.abort(nil, err)
			r.done <- err
			return
		}
		r.done <- c.end(ctx, `COMMIT`)
		return
	}
	pending := make([]*writeReq, 0, len(batch)) // calls whose changes wait for the commit
	for i, r := range batch {
		if err := bc.exec(ctx, `SAVEPOINT call`); err != nil {
			c.abort(append(pending, batch[i:]...), err)
			return
		}
		if err := run(r, t); err != nil {
			// Undo this call alone; if that fails the transaction is gone
			// (SQLite rolls back all of it on some errors), and with it the
			// calls before this one.
			if rerr := bc.exec(ctx, `ROLLBACK TO call`); rerr != nil {
				r.done <- err
				c.abort(append(pending, batch[i+1:]...), rerr)
				return
			}
			r.done <- err // answered now: nothing of it waits for the commit
		} else {
			pending = append(pending, r)
		}
		if err := bc.exec(ctx, `RELEASE call`); err != nil {
			c.abort(append(pending, batch[i+1:]...), err)
			return
		}
	}
	err = c.end(ctx, `COMMIT`)
	for _, r := range pending {
		r.done <- err
	}
}

// end ends the transaction with COMMIT or ROLLBACK. A COMMIT that fails
// leaves the transaction open (SQLITE_BUSY, say): it is rolled back, so
// the next batch begins on a clean connection.
func (c *committer) end(ctx context.Context, q string) error {
	err := c.bc.exec(ctx, q)
	if err != nil && q == `COMMIT` {
		_ = c.bc.exec(ctx, `ROLLBACK`)
	}
	return err
}

// abort rolls the batch back and answers the calls not yet answered.
func (c *committer) abort(unanswered []*writeReq, err error) {
	// SQLite has rolled back already after some errors; ROLLBACK then
	// fails harmlessly.
	_ = c.bc.exec(context.Background(), `ROLLBACK`)
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
