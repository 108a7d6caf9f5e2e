package postgres_test

import (
	"context"
	"database/sql"
	"testing"

	"github.com/atrium-sso/atrium/internal/store"
	"github.com/atrium-sso/atrium/internal/store/postgres"
	"github.com/atrium-sso/atrium/internal/store/sqlstore"
	"github.com/atrium-sso/atrium/internal/store/storetest"
	"github.com/atrium-sso/atrium/internal/testenv"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		db, _ := openMigrated(t)
		return db
	})
}

// openMigrated opens a migrated store on a database of its own, and names it.
func openMigrated(t *testing.T) (*sqlstore.DB, string) {
	t.Helper()
	dsn := testenv.PostgresDatabase(t)
	db, err := postgres.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	return db, dsn
}

// Migration 0014 rebuilds account_assignments around a new key; the
// assignments made before it must all come through.
func TestMigrationKeysAssignmentsByAccount(t *testing.T) {
	ctx := context.Background()
	db, dsn := openMigrated(t)
	raw, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	storetest.AssignmentsKeyedByAccount(t, db, raw, func() error { return db.Migrate(ctx, nil) })
}
