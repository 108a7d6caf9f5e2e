package sqlite_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/atrium-sso/atrium/internal/store"
	"github.com/atrium-sso/atrium/internal/store/sqlite"
	"github.com/atrium-sso/atrium/internal/store/sqlstore"
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

// Checkpoints run beside the writer, yet the write-ahead log must still
// start over: SQLite restarts it only from a writer that began on a fully
// checkpointed log. Otherwise it grows by every page ever written, and every
// read searches it. (The writer's threshold is lowered so that a short test
// passes it many times over.)
func TestWriteAheadLogStaysShortUnderSteadyWrites(t *testing.T) {
	defer sqlite.SetWriterCheckpointPages(1000)()
	db, path := openMigratedFile(t)
	const writes = 10000
	putValues(t, db, writes, 16000) // five pages a write, with its overflow
	fi, err := os.Stat(path + "-wal")
	if err != nil {
		t.Fatal(err)
	}
	// Unchecked, the log would hold all 10,000 writes' pages (some 200 MiB);
	// started over, it holds the 1,000 pages (4 MiB) before the writer's
	// threshold and what is written while a restart waits for a reader.
	if fi.Size() > 32<<20 {
		t.Fatalf("after %d writes the log is %d MiB", writes, fi.Size()>>20)
	}
}

// Committed pages reach the database file soon after a write, long before
// the writer's own checkpoint would copy them (at 64,000 pages of log): the
// store's checkpointer does it beside the writer.
func TestCommittedPagesReachTheFileBesideTheWriter(t *testing.T) {
	db, path := openMigratedFile(t)
	size := func() int64 {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	before := size()
	putValues(t, db, 100, 3000) // about 100 pages: far below the writer's threshold
	for deadline := time.Now().Add(5 * time.Second); size() < before+100*3000; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the database file is %d bytes, %d before 100 writes of 3,000 bytes: nothing was checkpointed", size(), before)
		}
	}
}

// openMigratedFile opens a new migrated store and names its file.
func openMigratedFile(t *testing.T) (*sqlstore.DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "atrium.db")
	db, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	return db, path
}

// putValues makes n writes, one after another, each of a value of size bytes.
func putValues(t *testing.T, db store.Store, n, size int) {
	t.Helper()
	ctx := context.Background()
	value := strings.Repeat("x", size)
	for i := range n {
		err := db.Write(ctx, func(tx store.Tx) error {
			_, err := tx.PutMetaIfAbsent(ctx, fmt.Sprintf("k%06d", i), value)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// Migration 0014 rebuilds account_assignments around a new key; the
// assignments made before it must all come through.
func TestMigrationKeysAssignmentsByAccount(t *testing.T) {
	ctx := context.Background()
	db, path := openMigratedFile(t)
	raw, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	storetest.AssignmentsKeyedByAccount(t, db, raw, func() error { return db.Migrate(ctx, nil) })
}
