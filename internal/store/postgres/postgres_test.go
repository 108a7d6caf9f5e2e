package postgres_test

import (
	"context"
	"testing"

	"github.com/atrium-sso/atrium/internal/store"
	"github.com/atrium-sso/atrium/internal/store/postgres"
	"github.com/atrium-sso/atrium/internal/store/storetest"
	"github.com/atrium-sso/atrium/internal/testenv"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		dsn := testenv.PostgresDatabase(t)
		db, err := postgres.Open(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		if err := db.Migrate(context.Background(), nil); err != nil {
			t.Fatal(err)
		}
		return db
	})
}
