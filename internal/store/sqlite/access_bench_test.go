package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/atrium-sso/atrium/internal/store/sqlite"
	"github.com/atrium-sso/atrium/internal/store/storetest"
)

func BenchmarkAssignmentsForPrincipals(b *testing.B) {
	db, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "atrium.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(context.Background(), nil); err != nil {
		b.Fatal(err)
	}
	storetest.BenchAssignmentsForPrincipals(b, db)
}
