package storetest

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/atrium-sso/atrium/internal/store"
)

// iamTests are the conformance tests of the roles and policies of store.IAMTx.
var iamTests = []namedTest{
	{"IAMRoles", testIAMRoles},
	{"IAMRoleReplacementKeepsIdentity", testIAMRoleReplacement},
	{"IAMRoleListingByPathPrefix", testIAMRoleListing},
	{"IAMPolicyAttachmentsCounted", testIAMPolicyAttachments},
	{"IAMPolicies", testIAMPolicies},
	{"IAMRoleRacingPutsLeaveOneRole", testIAMRolePutRace},
	{"IAMPolicyNameUniqueIgnoringCaseUnderRace", testIAMPolicyNameRace},
	{"IAMPolicyDeleteRacingAttachLeavesNoDanglingAttachment", testIAMPolicyDeleteRace},
}

const (
	iamAcct  = "222222222222"
	iamOther = "333333333333"
)

func iamRole(account, name, path string, n int) store.IAMRole {
	t := now()
	return store.IAMRole{AccountID: account, Name: name, Path: path, RoleID: fmt.Sprintf("AROATESTTESTTEST%05d", n),
		AssumeRolePolicy:   `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:root"},"Action":"sts:AssumeRole"}]}`,
		MaxSessionDuration: 3600, CreatedAt: t, UpdatedAt: t}
}

func iamPolicy(account, name, path string, n int) store.IAMPolicy {
	t := now()
	return store.IAMPolicy{AccountID: account, ARN: "arn:aws:iam::" + account + ":policy" + path + name, Name: name, Path: path,
		PolicyID: fmt.Sprintf("ANPATESTTESTTEST%05d", n), Description: "about " + name,
		Document: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`, CreatedAt: t, UpdatedAt: t}
}

func getRole(t *testing.T, s store.Store, account, name string) *store.IAMRole {
	t.Helper()
	var r *store.IAMRole
	read(t, s, func(tx store.Tx) error {
		var err error
		r, err = tx.GetRole(ctx, account, name)
		return err
	})
	return r
}

func testIAMRoles(t *testing.T, s store.Store) {
	r := iamRole(iamAcct, "AWSReservedSSO_Admin_0123456789abcdef", "/aws-reserved/sso.amazonaws.com/", 1)
	r.Description, r.BoundaryARN, r.ManagedBy = "provisioned", "arn:aws:iam::aws:policy/PowerUserAccess", "sso.amazonaws.com"
	r.ManagedPolicyARNs = []string{"arn:aws:iam::aws:policy/ReadOnlyAccess", "arn:aws:iam::aws:policy/AdministratorAccess",
		"arn:aws:iam::" + iamAcct + ":policy/team/Mine"}
	r.InlinePolicies = []store.InlinePolicy{{Name: "AwsSSOInlinePolicy", Document: `{"Version":"2012-10-17","Statement":[]}`}}
	write(t, s, func(tx store.Tx) error { return tx.PutRole(ctx, r) })
	read(t, s, func(tx store.Tx) error {
		got, err := tx.GetRole(ctx, iamAcct, "awsreservedsso_ADMIN_0123456789ABCDEF")
		if err != nil || !reflect.DeepEqual(*got, r) {
			t.Fatalf("GetRole ignoring case = %+v, %v\nwant %+v", got, err, r)
		}
		if got.ARN() != "arn:aws:iam::"+iamAcct+":role/aws-reserved/sso.amazonaws.com/"+r.Name {
			t.Fatalf("ARN = %s", got.ARN())
		}
		_, err = tx.GetRole(ctx, iamOther, r.Name)
		isNotFound(t, "a role seen from another account", err)
		return nil
	})
	// A plain role has neither policies nor inline policies.
	plain := iamRole(iamAcct, "Plain", "/", 2)
	write(t, s, func(tx store.Tx) error { return tx.PutRole(ctx, plain) })
	if got := getRole(t, s, iamAcct, "plain"); !reflect.DeepEqual(*got, plain) {
		t.Fatalf("plain role = %+v, want %+v", got, plain)
	}
	isNotFound(t, "delete from another account", s.Write(ctx, func(tx store.Tx) error { return tx.DeleteRole(ctx, iamOther, r.Name) }))
	write(t, s, func(tx store.Tx) error { return tx.DeleteRole(ctx, iamAcct, "AWSRESERVEDSSO_admin_0123456789abcdef") })
	read(t, s, func(tx store.Tx) error {
		_, err := tx.GetRole(ctx, iamAcct, r.Name)
		isNotFound(t, "deleted role", err)
		n, err := tx.CountPolicyAttachments(ctx, iamAcct, "arn:aws:iam::aws:policy/ReadOnlyAccess")
		if err != nil || n != 0 {
			t.Fatalf("attachments of a deleted role still counted: %d, %v", n, err)
		}
		return nil
	})
	isNotFound(t, "second delete", s.Write(ctx, func(tx store.Tx) error { return tx.DeleteRole(ctx, iamAcct, r.Name) }))
	// The name is free again, for a role with a new id.
	again := iamRole(iamAcct, r.Name, r.Path, 3)
	write(t, s, func(tx store.Tx) error { return tx.PutRole(ctx, again) })
	if got := getRole(t, s, iamAcct, r.Name); got.RoleID != again.RoleID || len(got.ManagedPolicyARNs) != 0 {
		t.Fatalf("role recreated after delete = %+v", got)
	}
}

func testIAMRoleReplacement(t *testing.T, s store.Store) {
	first := iamRole(iamAcct, "AWSReservedSSO_Dev_00000000000000aa", "/aws-reserved/sso.amazonaws.com/", 1)
	first.ManagedPolicyARNs = []string{"arn:aws:iam::aws:policy/A", "arn:aws:iam::aws:policy/B"}
	first.InlinePolicies = []store.InlinePolicy{{Name: "AwsSSOInlinePolicy", Document: "{}"}}
	write(t, s, func(tx store.Tx) error { return tx.PutRole(ctx, first) })

	second := iamRole(iamAcct, "awsreservedsso_dev_00000000000000AA", "/aws-reserved/sso.amazonaws.com/", 2)
	second.CreatedAt = first.CreatedAt.Add(time.Hour)
	second.UpdatedAt = first.UpdatedAt.Add(time.Hour)
	second.MaxSessionDuration, second.Description = 43200, "changed"
	second.ManagedPolicyARNs = []string{"arn:aws:iam::aws:policy/C", "arn:aws:iam::aws:policy/A"}
	write(t, s, func(tx store.Tx) error { return tx.PutRole(ctx, second) })

	got := getRole(t, s, iamAcct, first.Name)
	want := second
	want.RoleID, want.CreatedAt = first.RoleID, first.CreatedAt
	if !reflect.DeepEqual(*got, want) {
		t.Fatalf("replaced role = %+v\nwant %+v", got, want)
	}
	read(t, s, func(tx store.Tx) error {
		for arn, n := range map[string]int{"arn:aws:iam::aws:policy/A": 1, "arn:aws:iam::aws:policy/B": 0, "arn:aws:iam::aws:policy/C": 1} {
			if c, err := tx.CountPolicyAttachments(ctx, iamAcct, arn); err != nil || c != n {
				t.Fatalf("attachments of %s after replacement = %d, %v; want %d", arn, c, err, n)
			}
		}
		list, err := tx.ListRoles(ctx, iamAcct, "", "", 10)
		if err != nil || len(list) != 1 {
			t.Fatalf("a replaced role is listed once: %+v, %v", list, err)
		}
		return nil
	})
}

func testIAMRoleListing(t *testing.T, s store.Store) {
	type spec struct{ name, path string }
	specs := []spec{
		{"Alpha", "/"},
		{"beta", "/team_a/"},
		{"Charlie", "/teamXa/"}, // would match /team_a/ under LIKE
		{"delta", "/team%/"},
		{"Echo", "/Team_a/"},
		{"AWSReservedSSO_Admin_00000000000000aa", "/aws-reserved/sso.amazonaws.com/"},
		{"AWSReservedSSO_Dev_00000000000000bb", "/aws-reserved/sso.amazonaws.com/"},
	}
	write(t, s, func(tx store.Tx) error {
		for i, sp := range specs {
			r := iamRole(iamAcct, sp.name, sp.path, i)
			r.ManagedPolicyARNs = []string{"arn:aws:iam::aws:policy/" + sp.name + "-1", "arn:aws:iam::aws:policy/" + sp.name + "-2"}
			if err := tx.PutRole(ctx, r); err != nil {
				return err
			}
		}
		return tx.PutRole(ctx, iamRole(iamOther, "Other", "/", 99))
	})
	walk := func(prefix string, pageSize int) []string {
		var names []string
		after := ""
		for {
			var page []store.IAMRole
			read(t, s, func(tx store.Tx) error {
				var err error
				page, err = tx.ListRoles(ctx, iamAcct, prefix, after, pageSize)
				return err
			})
			for _, r := range page {
				want := []string{"arn:aws:iam::aws:policy/" + r.Name + "-1", "arn:aws:iam::aws:policy/" + r.Name + "-2"}
				if !slices.Equal(r.ManagedPolicyARNs, want) {
					t.Fatalf("listed %s with attachments %v, want %v", r.Name, r.ManagedPolicyARNs, want)
				}
				names = append(names, r.Name)
			}
			if len(page) < pageSize {
				return names
			}
			after = store.NameKey(page[len(page)-1].Name)
		}
	}
	for _, tc := range []struct {
		prefix string
		want   []string
	}{
		{"", []string{"Alpha", "AWSReservedSSO_Admin_00000000000000aa", "AWSReservedSSO_Dev_00000000000000bb", "beta", "Charlie", "delta", "Echo"}},
		{"/", []string{"Alpha", "AWSReservedSSO_Admin_00000000000000aa", "AWSReservedSSO_Dev_00000000000000bb", "beta", "Charlie", "delta", "Echo"}},
		{"/aws-reserved/", []string{"AWSReservedSSO_Admin_00000000000000aa", "AWSReservedSSO_Dev_00000000000000bb"}},
		{"/AWS-reserved/", nil}, // paths compare exactly
		{"/team_", []string{"beta"}},
		{"/team%", []string{"delta"}},
		{"/team_a/x", nil},
	} {
		for _, size := range []int{1, 2, 100} {
			if got := walk(tc.prefix, size); !slices.Equal(got, tc.want) {
				t.Fatalf("ListRoles(%q) in pages of %d = %v, want %v", tc.prefix, size, got, tc.want)
			}
		}
	}
}

func testIAMPolicyAttachments(t *testing.T, s store.Store) {
	const arn = "arn:aws:iam::aws:policy/ReadOnlyAccess"
	write(t, s, func(tx store.Tx) error {
		for i, acct := range []string{iamAcct, iamAcct, iamOther} {
			r := iamRole(acct, fmt.Sprintf("role-%d", i), "/", i)
			r.ManagedPolicyARNs = []string{arn}
			if err := tx.PutRole(ctx, r); err != nil {
				return err
			}
		}
		return nil
	})
	read(t, s, func(tx store.Tx) error {
		for acct, want := range map[string]int{iamAcct: 2, iamOther: 1, "444444444444": 0} {
			if n, err := tx.CountPolicyAttachments(ctx, acct, arn); err != nil || n != want {
				t.Fatalf("attachments in %s = %d, %v; want %d", acct, n, err, want)
			}
		}
		if n, err := tx.CountPolicyAttachments(ctx, iamAcct, "arn:aws:iam::aws:policy/readonlyaccess"); err != nil || n != 0 {
			t.Fatalf("policy ARNs compare exactly: %d, %v", n, err)
		}
		return nil
	})
}

func testIAMPolicies(t *testing.T, s store.Store) {
	p := iamPolicy(iamAcct, "TeamBoundary", "/team/", 1)
	write(t, s, func(tx store.Tx) error { return tx.InsertPolicy(ctx, p) })
	for _, dup := range []store.IAMPolicy{iamPolicy(iamAcct, "teamboundary", "/other/", 2), iamPolicy(iamAcct, "Unique", "/", 1)} {
		err := s.Write(ctx, func(tx store.Tx) error { return tx.InsertPolicy(ctx, dup) })
		if !errors.Is(err, store.ErrConflict) {
			t.Fatalf("InsertPolicy(%s, id %s) = %v, want ErrConflict", dup.ARN, dup.PolicyID, err)
		}
	}
	write(t, s, func(tx store.Tx) error {
		for i, q := range []store.IAMPolicy{iamPolicy(iamOther, "TeamBoundary", "/team/", 3), iamPolicy(iamAcct, "alpha_b", "/x_y/", 4),
			iamPolicy(iamAcct, "AXB", "/xzy/", 5), iamPolicy(iamAcct, "Zed", "/", 6)} {
			if err := tx.InsertPolicy(ctx, q); err != nil {
				return fmt.Errorf("policy %d: %w", i, err)
			}
		}
		return nil
	})
	read(t, s, func(tx store.Tx) error {
		got, err := tx.GetPolicy(ctx, p.ARN)
		if err != nil || *got != p {
			t.Fatalf("GetPolicy = %+v, %v\nwant %+v", got, err, p)
		}
		got, err = tx.GetPolicyByName(ctx, iamAcct, "/team/", "TEAMBOUNDARY")
		if err != nil || got.ARN != p.ARN {
			t.Fatalf("GetPolicyByName ignoring case = %+v, %v", got, err)
		}
		_, err = tx.GetPolicyByName(ctx, iamAcct, "/", "TeamBoundary")
		isNotFound(t, "a policy by name in another path", err)
		_, err = tx.GetPolicy(ctx, "arn:aws:iam::"+iamAcct+":policy/team/Missing")
		isNotFound(t, "a missing policy", err)
		names := func(prefix, after string, limit int) []string {
			list, err := tx.ListPolicies(ctx, iamAcct, prefix, after, limit)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, q := range list {
				if q.AccountID != iamAcct {
					t.Fatalf("policy of %s listed in %s", q.AccountID, iamAcct)
				}
				out = append(out, q.Name)
			}
			return out
		}
		for _, tc := range []struct {
			prefix, after string
			limit         int
			want          []string
		}{
			{"", "", 10, []string{"alpha_b", "AXB", "TeamBoundary", "Zed"}},
			{"/", "", 2, []string{"alpha_b", "AXB"}},
			{"/", "axb", 2, []string{"TeamBoundary", "Zed"}},
			{"/x_y/", "", 10, []string{"alpha_b"}},
			{"/team/", "", 10, []string{"TeamBoundary"}},
			{"/Team/", "", 10, nil},
		} {
			if got := names(tc.prefix, tc.after, tc.limit); !slices.Equal(got, tc.want) {
				t.Fatalf("ListPolicies(%q, after %q) = %v, want %v", tc.prefix, tc.after, got, tc.want)
			}
		}
		return nil
	})
	write(t, s, func(tx store.Tx) error { return tx.DeletePolicy(ctx, p.ARN) })
	isNotFound(t, "second delete", s.Write(ctx, func(tx store.Tx) error { return tx.DeletePolicy(ctx, p.ARN) }))
	read(t, s, func(tx store.Tx) error {
		_, err := tx.GetPolicyByName(ctx, iamAcct, "/team/", "TeamBoundary")
		isNotFound(t, "deleted policy by name", err)
		if _, err := tx.GetPolicy(ctx, "arn:aws:iam::"+iamOther+":policy/team/TeamBoundary"); err != nil {
			t.Fatalf("the other account's policy of the same name: %v", err)
		}
		return nil
	})
	// The name is free again.
	write(t, s, func(tx store.Tx) error { return tx.InsertPolicy(ctx, iamPolicy(iamAcct, "TEAMBOUNDARY", "/", 7)) })
}

func testIAMRolePutRace(t *testing.T, s store.Store) {
	const racers = 8
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := 0; i < racers; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			<-start
			r := iamRole(iamAcct, "AWSReservedSSO_Race_00000000000000aa", "/aws-reserved/sso.amazonaws.com/", i)
			r.ManagedPolicyARNs = []string{fmt.Sprintf("arn:aws:iam::aws:policy/P%d", i), fmt.Sprintf("arn:aws:iam::aws:policy/Q%d", i)}
			if err := s.Write(ctx, func(tx store.Tx) error { return tx.PutRole(ctx, r) }); err != nil {
				t.Error(err)
			}
		}(i)
	}
	close(start)
	wg.Wait()
	read(t, s, func(tx store.Tx) error {
		list, err := tx.ListRoles(ctx, iamAcct, "", "", 100)
		if err != nil || len(list) != 1 {
			t.Fatalf("racing puts of one role left %d roles, %v", len(list), err)
		}
		r := list[0]
		var n int
		if _, err := fmt.Sscanf(r.ManagedPolicyARNs[0], "arn:aws:iam::aws:policy/P%d", &n); err != nil || len(r.ManagedPolicyARNs) != 2 ||
			r.ManagedPolicyARNs[1] != fmt.Sprintf("arn:aws:iam::aws:policy/Q%d", n) {
			t.Fatalf("racing puts mixed their attachments: %v", r.ManagedPolicyARNs)
		}
		return nil
	})
}

func testIAMPolicyNameRace(t *testing.T, s store.Store) {
	const racers = 10
	var ok, conflict atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := 0; i < racers; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			<-start
			name := "Shared"
			if i%2 == 1 {
				name = "SHARED"
			}
			err := s.Write(ctx, func(tx store.Tx) error {
				return tx.InsertPolicy(ctx, iamPolicy(iamAcct, name, fmt.Sprintf("/p%d/", i), i))
			})
			switch {
			case err == nil:
				ok.Add(1)
			case errors.Is(err, store.ErrConflict):
				conflict.Add(1)
			default:
				t.Error(err)
			}
		}(i)
	}
	close(start)
	wg.Wait()
	if ok.Load() != 1 || conflict.Load() != racers-1 {
		t.Fatalf("racing inserts of one policy name: %d succeeded, %d conflicted", ok.Load(), conflict.Load())
	}
}

// A role that attaches a customer managed policy (found by name in its
// transaction) and a DeletePolicy that refuses while the policy is attached
// must not interleave into an attachment to a deleted policy.
func testIAMPolicyDeleteRace(t *testing.T, s store.Store) {
	p := iamPolicy(iamAcct, "Shared", "/", 1)
	write(t, s, func(tx store.Tx) error { return tx.InsertPolicy(ctx, p) })
	errAttached := errors.New("attached")
	found := make(chan struct{})
	deleted := make(chan error, 1)
	go func() {
		<-found
		deleted <- s.Write(ctx, func(tx store.Tx) error {
			if err := tx.DeletePolicy(ctx, p.ARN); err != nil {
				return err
			}
			if n, err := tx.CountPolicyAttachments(ctx, iamAcct, p.ARN); err != nil || n > 0 {
				return errors.Join(err, errAttached)
			}
			return nil
		})
	}()
	attachErr := s.Write(ctx, func(tx store.Tx) error {
		q, err := tx.GetPolicyByName(ctx, iamAcct, "/", "Shared")
		if err != nil {
			return err
		}
		close(found)
		time.Sleep(50 * time.Millisecond) // let the delete reach the policy first, if it can
		r := iamRole(iamAcct, "Attacher", "/", 1)
		r.ManagedPolicyARNs = []string{q.ARN}
		return tx.PutRole(ctx, r)
	})
	if attachErr != nil {
		t.Fatal(attachErr)
	}
	if err := <-deleted; !errors.Is(err, errAttached) {
		t.Fatalf("DeletePolicy racing an attachment = %v, want it to see the attachment", err)
	}
	read(t, s, func(tx store.Tx) error {
		if _, err := tx.GetPolicy(ctx, p.ARN); err != nil {
			t.Fatalf("attached policy was deleted: %v", err)
		}
		return nil
	})
}
