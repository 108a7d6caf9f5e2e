// Package sqlstore implements store.Store once, in SQL that both SQLite and
// PostgreSQL accept; a Dialect carries the few places where they differ.
// The sqlite and postgres packages open the connections and supply the dialect.
package sqlstore

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/atrium-sso/atrium/internal/store"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Dialect is what differs between the SQL backends.
type Dialect struct {
	Name string
	// Numbered placeholders ($1) instead of ?.
	Numbered bool
	// ForUpdate is appended to a SELECT that precedes an UPDATE of the same row.
	ForUpdate string
	// ForShare is appended to a SELECT of a row that a write is about to
	// refer to: it keeps the row from being deleted until commit without
	// blocking other such writes (or deadlocking with them).
	ForShare string
	// SkipLocked is appended to the job-claim subquery so workers don't queue on each other.
	SkipLocked string
	// IsUnique reports whether err is a uniqueness violation.
	IsUnique func(error) bool
	// IsRetryable reports a transient conflict (serialisation failure, busy) worth a retry.
	IsRetryable func(error) bool
	// Lock serialises migrations and bootstrap across processes; nil when the
	// write connection already does (SQLite's single writer).
	Lock func(ctx context.Context, conn *sql.Conn) (unlock func(), err error)
	// GroupCommit commits concurrent writes together (groupcommit.go): for
	// a database with a single writer, where each commit's cost is shared.
	GroupCommit bool
	// Checkpoint, with GroupCommit, is run on a read connection after
	// writes, at most every checkpointEvery: it moves committed pages from
	// the write-ahead log into the database file beside the writer, which
	// would otherwise do it inside a commit while every caller waits.
	Checkpoint string
}

// DB is a store.Store over database/sql.
type DB struct {
	dialect Dialect
	write   *sql.DB
	read    *sql.DB // may equal write
	// Prepared statements, by pool and query text: preparing costs as much as
	// running a small query, and the query texts are a fixed set.
	stmts sync.Map // stmtKey -> *sql.Stmt
	// committer batches writes when the dialect asks for group commit.
	committer *committer
}

type stmtKey struct {
	pool  *sql.DB
	query string
}

// stmt returns the pool's prepared statement for query, preparing it once.
func (db *DB) stmt(ctx context.Context, pool *sql.DB, query string) (*sql.Stmt, error) {
	k := stmtKey{pool, query}
	if s, ok := db.stmts.Load(k); ok {
		return s.(*sql.Stmt), nil
	}
	s, err := pool.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if prev, loaded := db.stmts.LoadOrStore(k, s); loaded {
		s.Close()
		return prev.(*sql.Stmt), nil
	}
	return s, nil
}

// New wraps opened pools; call Migrate before use.
func New(d Dialect, write, read *sql.DB) *DB {
	if read == nil {
		read = write
	}
	db := &DB{dialect: d, write: write, read: read}
	if d.GroupCommit {
		db.committer = newCommitter(db)
	}
	return db
}

func (db *DB) Backend() string { return db.dialect.Name }

func (db *DB) Ping(ctx context.Context) error {
	if db.committer != nil {
		// The committer holds the write pool's one connection: an empty
		// write is the ping that shows writes go through.
		if err := db.committer.write(ctx, func(store.Tx) error { return nil }); err != nil {
			return err
		}
	} else if err := db.write.PingContext(ctx); err != nil {
		return err
	}
	return db.read.PingContext(ctx)
}

func (db *DB) Close() error {
	if db.committer != nil {
		db.committer.close()
	}
	db.stmts.Range(func(_, s any) bool { s.(*sql.Stmt).Close(); return true })
	err := db.write.Close()
	if db.read != db.write {
		err = errors.Join(err, db.read.Close())
	}
	return err
}

func (db *DB) PoolStats() []store.PoolStat {
	stat := func(name string, s sql.DBStats) store.PoolStat {
		return store.PoolStat{Name: name, Open: s.OpenConnections, InUse: s.InUse, Idle: s.Idle,
			WaitCount: s.WaitCount, WaitDuration: s.WaitDuration, MaxOpenConnections: s.MaxOpenConnections}
	}
	out := []store.PoolStat{stat("write", db.write.Stats())}
	if db.read != db.write {
		out = append(out, stat("read", db.read.Stats()))
	}
	return out
}

// Write runs fn in a transaction, retrying a few times on transient conflicts.
func (db *DB) Write(ctx context.Context, fn func(store.Tx) error) error {
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		err = db.writeOnce(ctx, fn)
		if err == nil || db.dialect.IsRetryable == nil || !db.dialect.IsRetryable(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-time.After(time.Duration(attempt+1) * 5 * time.Millisecond):
		}
	}
	return err
}

func (db *DB) writeOnce(ctx context.Context, fn func(store.Tx) error) error {
	if db.committer != nil {
		return db.committer.write(ctx, fn)
	}
	sqlTx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(&tx{db: db, pool: db.write, sqlTx: sqlTx}); err != nil {
		_ = sqlTx.Rollback()
		return err
	}
	return sqlTx.Commit()
}

func (db *DB) Read(ctx context.Context, fn func(store.Tx) error) error {
	return fn(&tx{db: db, pool: db.read, detached: true})
}

// Migrate applies the embedded migrations not yet applied, then runs after
// (bootstrap) under the same cross-process lock, so concurrent nodes neither
// migrate nor bootstrap twice.
func (db *DB) Migrate(ctx context.Context, after func(ctx context.Context) error) error {
	if db.committer != nil {
		if err := db.committer.release(ctx); err != nil {
			return err
		}
	}
	conn, err := db.write.Conn(ctx)
	if err != nil {
		return err
	}
	unlock := func() {}
	if db.dialect.Lock != nil {
		if unlock, err = db.dialect.Lock(ctx, conn); err != nil {
			conn.Close()
			return fmt.Errorf("migration lock: %w", err)
		}
	}
	err = db.migrate(ctx, conn)
	// SQLite's writer pool has one connection: give it back before bootstrap writes.
	if db.dialect.Lock == nil {
		conn.Close()
	}
	if err == nil && after != nil {
		err = after(ctx)
	}
	unlock()
	if db.dialect.Lock != nil {
		conn.Close()
	}
	return err
}

func (db *DB) migrate(ctx context.Context, conn *sql.Conn) error {
	if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)`); err != nil {
		return err
	}
	files, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(files)
	for _, f := range files {
		name := strings.TrimPrefix(f, "migrations/")
		version, err := strconv.Atoi(strings.SplitN(name, "_", 2)[0])
		if err != nil {
			return fmt.Errorf("migration %s: name must start with its number", name)
		}
		body, err := migrations.ReadFile(f)
		if err != nil {
			return err
		}
		t, err := conn.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		// Checked inside the transaction: another process may have just applied it.
		var seen int
		err = t.QueryRowContext(ctx, rebind(&db.dialect, `SELECT COUNT(*) FROM schema_migrations WHERE version = ?`), version).Scan(&seen)
		if err != nil || seen > 0 {
			t.Rollback()
			if err != nil {
				return err
			}
			continue
		}
		for _, stmt := range splitStatements(string(body)) {
			if _, err := t.ExecContext(ctx, stmt); err != nil {
				t.Rollback()
				return fmt.Errorf("migration %s: %w", name, err)
			}
		}
		q := `INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`
		if _, err := t.ExecContext(ctx, rebind(&db.dialect, q), version, time.Now().UnixMilli()); err != nil {
			t.Rollback()
			return err
		}
		if err := t.Commit(); err != nil {
			return fmt.Errorf("migration %s: %w", name, err)
		}
	}
	return nil
}

// splitStatements splits a migration on semicolons at line ends, dropping comments.
func splitStatements(sqlText string) []string {
	var out []string
	var cur strings.Builder
	for _, line := range strings.Split(sqlText, "\n") {
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "--") || trimmed == "" {
			continue
		}
		if i := strings.Index(line, "--"); i >= 0 {
			line = line[:i]
		}
		cur.WriteString(line)
		cur.WriteByte('\n')
		if strings.HasSuffix(strings.TrimSpace(line), ";") {
			out = append(out, strings.TrimSpace(cur.String()))
			cur.Reset()
		}
	}
	if s := strings.TrimSpace(cur.String()); s != "" {
		out = append(out, s)
	}
	return out
}

// rebind turns ? placeholders into $n for dialects that number them.
func rebind(d *Dialect, q string) string {
	if !d.Numbered {
		return q
	}
	var b strings.Builder
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(q[i])
	}
	return b.String()
}
