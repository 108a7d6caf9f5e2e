package postgres_test

import (
	"context"
	"testing"

	"github.com/atrium-sso/atrium/internal/store/postgres"
	"github.com/atrium-sso/atrium/internal/store/storetest"
	"github.com/atrium-sso/atrium/internal/testenv"
)

func BenchmarkAssignmentsForPrincipals(b *testing.B) {
	db, err := postgres.Open(context.Background(), testenv.PostgresDatabase(b))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(context.Background(), nil); err != nil {
		b.Fatal(err)
	}
	storetest.BenchAssignmentsForPrincipals(b, db)
}
