package sqlstore

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	"github.com/atrium-sso/atrium/internal/store"
	_ "modernc.org/sqlite"
)

// A user's memberships are read from one index, never row by row from the
// table: on a directory of 500,000 memberships each table lookup is a page
// read of its own. A column added to membershipCols but not to the index
// fails here.
func TestMemberMembershipsAreReadFromTheIndexAlone(t *testing.T) {
	got := queryPlan(t, memberMembershipsQuery, "u", "", "d", 100)
	if !strings.Contains(got, "USING COVERING INDEX directory_memberships_by_member") || strings.Contains(got, "TEMP B-TREE") {
		t.Fatalf("plan: %s", got)
	}
}

// Assignments are keyed by account (migration 0014): a page of one
// account's assignments of a permission set is a range of the key from the
// cursor on, never a sort; and "is this permission set assigned anywhere"
// is a lookup in its own index, not a scan of the instance's assignments.
func TestAssignmentQueriesReadTheirIndexes(t *testing.T) {
	got := queryPlan(t, listAssignmentsQuery, "i", "a", "p", "USER", "u", 100)
	if !strings.Contains(got, "USING INDEX sqlite_autoindex_account_assignments_1 (instance_arn=? AND account_id=? AND permission_set_arn=? AND (principal_type,principal_id)>(?,?))") ||
		strings.Contains(got, "TEMP B-TREE") {
		t.Fatalf("ListAssignments plan: %s", got)
	}
	principals := []store.PrincipalRef{{Type: "USER", ID: "u"}, {Type: "GROUP", ID: "g1"}, {Type: "GROUP", ID: "g2"}}
	q, args, err := principalsQuery("i", principals, "", "a p USER u", 100)
	if err != nil {
		t.Fatal(err)
	}
	got = queryPlan(t, q, args...)
	if strings.Count(got, "USING INDEX account_assignments_principal (instance_arn=? AND principal_type=? AND principal_id=? AND account_id>?)") != 4 ||
		strings.Contains(got, "TEMP B-TREE") {
		t.Fatalf("ListAssignmentsForPrincipals plan: %s", got)
	}
	got = queryPlan(t, permissionSetUsesQuery, "i", "p", "i", "p")
	if !strings.Contains(got, "account_assignments USING COVERING INDEX account_assignments_permission_set (instance_arn=? AND permission_set_arn=?)") {
		t.Fatalf("permission set uses plan: %s", got)
	}
}

// queryPlan is SQLite's plan for q on a migrated database, its steps joined by "; ".
func queryPlan(t *testing.T, q string, args ...any) string {
	t.Helper()
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
	rows, err := pool.QueryContext(ctx, "EXPLAIN QUERY PLAN "+q, args...)
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
	return strings.Join(plan, "; ")
}
