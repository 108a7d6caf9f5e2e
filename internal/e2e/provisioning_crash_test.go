package e2e

import (
	"fmt"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin/types"

	"github.com/atrium-sso/atrium/internal/store"
)

// Killing the server while assignments are being provisioned loses none and
// doubles none: after a restart every request settles, each account holds
// exactly one role per permission set, and every assignment exists once.
func TestKilledMidProvisioningRecovers(t *testing.T) {
	backends(t, func(t *testing.T, o nodeOptions) {
		if o.data == "" {
			o.data = t.TempDir()
		}
		n := startNode(t, o)
		f := newAccessFixture(t, n)
		const nAccounts, nSets, nUsers = 3, 4, 12
		var accounts, sets, users []string
		for i := range nAccounts {
			accounts = append(accounts, f.account(fmt.Sprintf("Crash%d", i)))
		}
		for i := range nSets {
			sets = append(sets, f.permissionSet(fmt.Sprintf("Crash%d", i), "", "arn:aws:iam::aws:policy/ReadOnlyAccess"))
		}
		for i := range nUsers {
			users = append(users, f.user(fmt.Sprintf("crash%d", i)))
		}

		var work [][3]string
		for _, a := range accounts {
			for _, ps := range sets {
				for _, u := range users {
					work = append(work, [3]string{a, ps, u})
				}
			}
		}
		create := func(f *accessFixture, round [][3]string) {
			var wg sync.WaitGroup
			for _, w := range round {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if _, err := f.sso.CreateAccountAssignment(ctxT(t), &ssoadmin.CreateAccountAssignmentInput{InstanceArn: &f.instance,
						TargetId: &w[0], TargetType: types.TargetTypeAwsAccount, PermissionSetArn: &w[1],
						PrincipalType: types.PrincipalTypeUser, PrincipalId: &w[2]}); err != nil {
						t.Errorf("CreateAccountAssignment: %v", err)
					}
				}()
			}
			wg.Wait()
		}
		// The jobs keep up with the calls, so the kill is timed: after each
		// round of calls the node is frozen (SIGSTOP) and its database read,
		// and it is killed the first time a request is caught in progress.
		db := nodeStore(t, n, o)
		inProgress := func() int {
			var rs []store.AccessRequest
			err := db.Read(ctxT(t), func(tx store.Tx) error {
				var err error
				rs, err = tx.ListAccessRequests(ctxT(t), f.instance, store.RequestAssignmentCreation, store.StatusInProgress, "", len(work))
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			return len(rs)
		}
		sent, pending := 0, 0
		for sent < len(work) && pending == 0 {
			round := work[sent:min(sent+8, len(work))]
			create(f, round)
			sent += len(round)
			n.cmd.Process.Signal(syscall.SIGSTOP)
			if pending = inProgress(); pending == 0 {
				n.cmd.Process.Signal(syscall.SIGCONT)
			}
		}
		n.cmd.Process.Kill()
		<-n.exited
		if pending == 0 {
			t.Fatal("every request finished before the kill; the test proves nothing")
		}
		t.Logf("killed with %d of %d requests in progress", pending, sent)

		f = newAccessFixture(t, startNode(t, o))
		create(f, work[sent:])
		deadline := time.Now().Add(60 * time.Second)
		for f.creationStatuses(types.StatusValuesInProgress) > 0 {
			if time.Now().After(deadline) {
				t.Fatal("requests still in progress a minute after the restart")
			}
			time.Sleep(50 * time.Millisecond)
		}
		if failed := f.creationStatuses(types.StatusValuesFailed); failed > 0 {
			t.Fatalf("%d requests failed", failed)
		}
		if done := f.creationStatuses(types.StatusValuesSucceeded); done != nAccounts*nSets*nUsers {
			t.Fatalf("%d requests succeeded, want %d", done, nAccounts*nSets*nUsers)
		}
		for _, a := range accounts {
			if roles := ssoRoles(t, f.memberIAM(a)); len(roles) != nSets {
				t.Fatalf("account %s has %d roles, want %d: %v", a, len(roles), nSets, roles)
			}
			for _, ps := range sets {
				list, err := f.sso.ListAccountAssignments(ctxT(t), &ssoadmin.ListAccountAssignmentsInput{
					InstanceArn: &f.instance, AccountId: aws.String(a), PermissionSetArn: aws.String(ps)})
				if err != nil || len(list.AccountAssignments) != nUsers {
					t.Fatalf("assignments in %s of %s = %d, %v", a, ps, len(list.AccountAssignments), err)
				}
			}
		}
	})
}

// creationStatuses counts assignment creation requests in a status.
func (f *accessFixture) creationStatuses(status types.StatusValues) int {
	count := 0
	p := ssoadmin.NewListAccountAssignmentCreationStatusPaginator(f.sso, &ssoadmin.ListAccountAssignmentCreationStatusInput{
		InstanceArn: &f.instance, Filter: &types.OperationStatusFilter{Status: status}})
	for p.HasMorePages() {
		page, err := p.NextPage(ctxT(f.t))
		if err != nil {
			f.t.Fatalf("ListAccountAssignmentCreationStatus: %v", err)
		}
		count += len(page.AccountAssignmentsCreationStatus)
	}
	return count
}
