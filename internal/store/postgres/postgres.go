// Package postgres opens the shared store for several Atrium nodes: one
// PostgreSQL database through pgx, nothing shared between nodes but it.
package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver

	"github.com/atrium-sso/atrium/internal/store/sqlstore"
)

// lockKey is the advisory lock that serialises migrations and bootstrap.
const lockKey = 0x41747269756d // "Atrium"

// Open connects to dsn; the caller migrates (under the advisory lock, so
// concurrent nodes migrate and bootstrap once).
func Open(ctx context.Context, dsn string) (*sqlstore.DB, error) {
	pool, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, err
	}
	pool.SetMaxOpenConns(32)
	pool.SetMaxIdleConns(16)
	db := sqlstore.New(Dialect(), pool, nil)
	if err := db.Ping(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("postgres: %w", err)
	}
	return db, nil
}

func pgCode(err error) string {
	var e *pgconn.PgError
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// Dialect is PostgreSQL's flavour of the shared SQL.
func Dialect() sqlstore.Dialect {
	return sqlstore.Dialect{
		Name:        "postgres",
		Numbered:    true,
		ForUpdate:   " FOR UPDATE",
		ForShare:    " FOR KEY SHARE",
		SkipLocked:  " FOR UPDATE SKIP LOCKED",
		IsUnique:    func(err error) bool { return pgCode(err) == "23505" },
		IsRetryable: func(err error) bool { c := pgCode(err); return c == "40001" || c == "40P01" },
		Lock: func(ctx context.Context, conn *sql.Conn) (func(), error) {
			if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, int64(lockKey)); err != nil {
				return nil, err
			}
			return func() {
				_, _ = conn.ExecContext(context.Background(), `SELECT pg_advisory_unlock($1)`, int64(lockKey))
			}, nil
		},
	}
}
