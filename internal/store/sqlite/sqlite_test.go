package sqlite_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/atrium-sso/atrium/internal/store"
	"github.com/atrium-sso/atrium/internal/store/sqlite"
	"github.com/atrium-sso/atrium/internal/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "atrium.db"))
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

// Reopening an existing file applies nothing twice and keeps the data.
func TestReopenKeepsDataAndMigratesOnce(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "atrium.db")
	for i := 0; i < 2; i++ {
		db, err := sqlite.Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		if err := db.Migrate(ctx, nil); err != nil {
			t.Fatal(err)
		}
		err = db.Write(ctx, func(tx store.Tx) error {
			_, err := tx.PutMetaIfAbsent(ctx, "first-open", "yes")
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		var v string
		db.Read(ctx, func(tx store.Tx) error { v, err = tx.GetMeta(ctx, "first-open"); return err })
		if v != "yes" {
			t.Fatalf("open %d: meta = %q, %v", i, v, err)
		}
		db.Close()
	}
}

// The database file holds secrets: only its owner may read it.
func TestDatabaseFileIsPrivate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "atrium.db")
	db, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{path, path + "-wal"} {
		fi, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm()&0o077 != 0 {
			t.Fatalf("%s has mode %v", f, fi.Mode().Perm())
		}
	}
}
