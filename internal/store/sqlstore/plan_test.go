package sqlstore

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	_ "modernc.org/sqlite"
)

// A user's memberships are read from one index, never row by row from the
// table: on a directory of 500,000 memberships each table lookup is a page
// read of its own. A column added to membershipCols but not to the index
// fails here.
func TestMemberMembershipsAreReadFromTheIndexAlone(t *testing.T) {
	ctx := context.Background()
	pool, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "plan.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	db := New(Dialect{Name: "sqlite"}, pool, nil)
	if err := db.Migrate(ctx, nil); err != nil {
		t.Fatal(err)
	}
	rows, err := pool.QueryContext(ctx, "EXPLAIN QUERY PLAN "+memberMembershipsQuery, "u", "", "d", 100)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	got := strings.Join(plan, "; ")
	if !strings.Contains(got, "USING COVERING INDEX directory_memberships_by_member") || strings.Contains(got, "TEMP B-TREE") {
		t.Fatalf("plan: %s", got)
	}
}
