package storetest

import (
	"database/sql"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/atrium-sso/atrium/internal/store"
)

// AssignmentsKeyedByAccount runs migration 0014 on assignments made under
// the table it replaces and checks that every one is kept and found by the
// queries that read the new key. s is a store migrated to the latest
// version, raw a second pool on the same database (statements without
// parameters, so either dialect runs them), and migrate runs s's migrations.
func AssignmentsKeyedByAccount(t *testing.T, s store.Store, raw *sql.DB, migrate func() error) {
	t.Helper()
	accessInstances(t, s)
	ps := permissionSet(instanceA, 0, "ps-0")
	write(t, s, func(tx store.Tx) error { return tx.InsertPermissionSet(ctx, ps) })
	// The table as migration 0003 made it, holding three assignments.
	at := now()
	var want []store.AccountAssignment
	for _, a := range []struct{ account, typ, id string }{
		{"111111111111", store.PrincipalUser, "u-2"}, {"111111111112", store.PrincipalGroup, "g-1"}, {"111111111111", store.PrincipalUser, "u-1"},
	} {
		want = append(want, store.AccountAssignment{InstanceARN: instanceA, AccountID: a.account,
			PermissionSetARN: ps.ARN, PrincipalType: a.typ, PrincipalID: a.id, CreatedAt: at})
	}
	old := []string{
		`DROP TABLE account_assignments`,
		`CREATE TABLE account_assignments (instance_arn TEXT NOT NULL, permission_set_arn TEXT NOT NULL, account_id TEXT NOT NULL,
			principal_type TEXT NOT NULL, principal_id TEXT NOT NULL, sort_key TEXT NOT NULL, created_at BIGINT NOT NULL,
			PRIMARY KEY (instance_arn, permission_set_arn, account_id, principal_type, principal_id))`,
		`CREATE INDEX account_assignments_account ON account_assignments (instance_arn, account_id, permission_set_arn, sort_key)`,
		`CREATE INDEX account_assignments_principal ON account_assignments (instance_arn, principal_type, principal_id, account_id, sort_key)`,
		`DELETE FROM schema_migrations WHERE version = 14`,
	}
	for _, a := range want {
		old = append(old, `INSERT INTO account_assignments VALUES ('`+a.InstanceARN+`', '`+a.PermissionSetARN+`', '`+a.AccountID+`', '`+
			a.PrincipalType+`', '`+a.PrincipalID+`', '`+a.Key()+`', `+strconv.FormatInt(a.CreatedAt.UnixMilli(), 10)+`)`)
	}
	for _, q := range old {
		if _, err := raw.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := migrate(); err != nil {
		t.Fatalf("migration 0014 over assignments: %v", err)
	}
	slices.SortFunc(want, func(a, b store.AccountAssignment) int { return strings.Compare(a.Key(), b.Key()) })
	read(t, s, func(tx store.Tx) error {
		var got []store.AccountAssignment
		for _, acct := range []string{"111111111111", "111111111112"} {
			list, err := tx.ListAssignments(ctx, instanceA, acct, ps.ARN, "", 10)
			if err != nil {
				return err
			}
			got = append(got, list...)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("assignments after the migration = %+v\nwant %+v", got, want)
		}
		list, err := tx.ListAssignmentsForPrincipals(ctx, instanceA, []store.PrincipalRef{{Type: store.PrincipalUser, ID: "u-1"}}, "", "", 10)
		if err != nil || len(list) != 1 || list[0] != want[0] { // 111111111111 … USER u-1 sorts first
			t.Fatalf("u-1's assignments after the migration = %+v, %v", list, err)
		}
		return nil
	})
	if err := s.Write(ctx, func(tx store.Tx) error { return tx.DeletePermissionSet(ctx, instanceA, ps.ARN) }); err == nil {
		t.Fatal("a permission set assigned before the migration was deleted")
	}
	var n int
	if err := raw.QueryRowContext(ctx, `SELECT COUNT(*) FROM account_assignments`).Scan(&n); err != nil || n != len(want) {
		t.Fatalf("%d rows after the migration, %v", n, err)
	}
}
