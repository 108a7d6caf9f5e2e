package e2e

import (
	"encoding/json"
	"os/exec"
	"reflect"
	"strings"
	"testing"

	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin/types"
)

// atriumWithInput runs an admin command with stdin and returns stdout, stderr and the exit code.
func atriumWithInput(t *testing.T, env []string, stdin string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(atriumBinary(t), args...)
	cmd.Env, cmd.Stdin = env, strings.NewReader(stdin)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return out.String(), errb.String(), ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), 0
}

// shownPermissionSet is `atrium permission-set show --output json`.
type shownPermissionSet struct {
	Name, PermissionSetArn, Description, SessionDuration, PermissionsBoundary string
	ManagedPolicies, CustomerManagedPolicies                                  []string
	InlinePolicy                                                              bool
	Accounts                                                                  []struct{ AccountId, AccountName, ProvisioningStatus string }
}

// The whole permission-set story through the admin CLI, by name: a
// permission set with policies, a group assigned to an account, what a user
// gets through the group, re-provisioning after a change, a provisioning
// failure reported with AWS's reason, and removal.
func TestAdminCLIAccess(t *testing.T) {
	n := startNode(t, nodeOptions{})
	env := cliEnv("ATRIUM_ENDPOINT_URL="+n.URL, "AWS_ACCESS_KEY_ID="+n.KeyID, "AWS_SECRET_ACCESS_KEY="+n.Secret, "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
	sso := ssoadmin.NewFromConfig(n.admin())
	inst, err := sso.ListInstances(ctxT(t), &ssoadmin.ListInstancesInput{})
	if err != nil {
		t.Fatal(err)
	}
	instance := inst.Instances[0].InstanceArn

	mustAtrium(t, env, "user", "create", "alice", "--given-name", "Alice", "--family-name", "Liddell")
	mustAtrium(t, env, "group", "create", "Developers")
	mustAtrium(t, env, "group", "add-member", "Developers", "alice")
	st := createAccount(t, n.organizations(), "Dev", "dev@example.com")
	if st.State != orgtypes.CreateAccountStateSucceeded {
		t.Fatalf("CreateAccount ended %s (%s)", st.State, st.FailureReason)
	}
	dev := *st.AccountId

	var created map[string]string
	json.Unmarshal([]byte(mustAtrium(t, env, "permission-set", "create", "ReadOnly", "--description", "look, do not touch",
		"--session-duration", "PT4H", "--output", "json")), &created)
	psARN := created["PermissionSetArn"]
	if !strings.HasPrefix(psARN, "arn:aws:sso:::permissionSet/") || created["SessionDuration"] != "PT4H" {
		t.Fatalf("permission-set create = %+v", created)
	}
	var sets []map[string]string
	json.Unmarshal([]byte(mustAtrium(t, env, "permission-set", "list", "--output", "json")), &sets)
	if len(sets) != 1 || sets[0]["Name"] != "ReadOnly" || sets[0]["PermissionSetArn"] != psARN || sets[0]["SessionDuration"] != "PT4H" {
		t.Fatalf("permission-set list = %+v", sets)
	}

	mustAtrium(t, env, "permission-set", "attach-policy", "ReadOnly", "ReadOnlyAccess")
	const inline = `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:GetObject","Resource":"arn:aws:s3:::secrets/*"}]}`
	if out, errOut, code := atriumWithInput(t, env, inline, "permission-set", "put-inline-policy", "ReadOnly", "-"); code != 0 {
		t.Fatalf("put-inline-policy from stdin: exit %d\n%s%s", code, out, errOut)
	}
	got, err := sso.GetInlinePolicyForPermissionSet(ctxT(t), &ssoadmin.GetInlinePolicyForPermissionSetInput{InstanceArn: instance, PermissionSetArn: &psARN})
	if err != nil || !sameJSON(t, *got.InlinePolicy, inline) {
		t.Fatalf("GetInlinePolicyForPermissionSet after put-inline-policy = %+v, %v", got, err)
	}

	mustAtrium(t, env, "assignment", "create", "--account", "Dev", "--permission-set", "ReadOnly", "--group", "Developers")
	viaSDK, err := sso.ListAccountAssignments(ctxT(t), &ssoadmin.ListAccountAssignmentsInput{InstanceArn: instance, AccountId: &dev, PermissionSetArn: &psARN})
	if err != nil || len(viaSDK.AccountAssignments) != 1 || viaSDK.AccountAssignments[0].PrincipalType != types.PrincipalTypeGroup {
		t.Fatalf("ListAccountAssignments after assignment create = %+v, %v", viaSDK, err)
	}
	want := []map[string]string{{"AccountId": dev, "AccountName": "Dev", "PermissionSet": "ReadOnly", "PrincipalType": "GROUP", "PrincipalName": "Developers"}}
	for _, args := range [][]string{
		{"--user", "alice"}, // through the group
		{"--group", "Developers"},
		{"--account", "Dev"},
		{"--permission-set", "ReadOnly"},
		{"--account", dev, "--permission-set", "ReadOnly"},
		{},
	} {
		var rows []map[string]string
		json.Unmarshal([]byte(mustAtrium(t, env, append([]string{"assignment", "list", "--output", "json"}, args...)...)), &rows)
		if !reflect.DeepEqual(rows, want) {
			t.Fatalf("assignment list %v = %+v; want %+v", args, rows, want)
		}
	}

	show := func() shownPermissionSet {
		t.Helper()
		var s shownPermissionSet
		if err := json.Unmarshal([]byte(mustAtrium(t, env, "permission-set", "show", "ReadOnly", "--output", "json")), &s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	s := show()
	if s.SessionDuration != "PT4H" || s.Description != "look, do not touch" || !s.InlinePolicy || s.PermissionsBoundary != "" ||
		!reflect.DeepEqual(s.ManagedPolicies, []string{"arn:aws:iam::aws:policy/ReadOnlyAccess"}) || len(s.CustomerManagedPolicies) != 0 {
		t.Fatalf("permission-set show = %+v", s)
	}
	if len(s.Accounts) != 1 || s.Accounts[0].AccountId != dev || s.Accounts[0].AccountName != "Dev" ||
		s.Accounts[0].ProvisioningStatus != "LATEST_PERMISSION_SET_PROVISIONED" {
		t.Fatalf("after the assignment, show lists accounts %+v", s.Accounts)
	}

	_, note, code := atrium(t, env, "permission-set", "attach-policy", "ReadOnly", "arn:aws:iam::aws:policy/job-function/ViewOnlyAccess")
	if code != 0 || !strings.Contains(note, "permission-set provision ReadOnly") {
		t.Fatalf("attach-policy to a provisioned permission set: exit %d, stderr %q (should say to provision)", code, note)
	}
	if s := show(); len(s.Accounts) != 1 || s.Accounts[0].ProvisioningStatus != "LATEST_PERMISSION_SET_NOT_PROVISIONED" || len(s.ManagedPolicies) != 2 {
		t.Fatalf("after a change, show = %+v", s)
	}
	if table := mustAtrium(t, env, "permission-set", "show", "ReadOnly"); !strings.Contains(table, "LATEST_PERMISSION_SET_NOT_PROVISIONED") ||
		!strings.Contains(table, "job-function/ViewOnlyAccess") {
		t.Fatalf("permission-set show table:\n%s", table)
	}
	mustAtrium(t, env, "permission-set", "provision", "ReadOnly")
	if s := show(); len(s.Accounts) != 1 || s.Accounts[0].ProvisioningStatus != "LATEST_PERMISSION_SET_PROVISIONED" {
		t.Fatalf("after provision, show lists accounts %+v", s.Accounts)
	}

	// A customer managed policy that does not exist in the account fails provisioning, with AWS's reason.
	mustAtrium(t, env, "permission-set", "attach-policy", "ReadOnly", "--customer-managed", "TeamPolicy:/team/")
	if s := show(); !reflect.DeepEqual(s.CustomerManagedPolicies, []string{"/team/TeamPolicy"}) {
		t.Fatalf("customer managed references = %v", s.CustomerManagedPolicies)
	}
	_, errOut, code := atrium(t, env, "permission-set", "provision", "ReadOnly", "--account", "Dev")
	if code != 1 || !strings.Contains(errOut, "FAILED") || !strings.Contains(errOut, "TeamPolicy") {
		t.Fatalf("provision without the customer managed policy in the account: exit %d, %s", code, errOut)
	}

	mustAtrium(t, env, "assignment", "delete", "--account", dev, "--permission-set", "ReadOnly", "--group", "Developers")
	var rows []map[string]string
	json.Unmarshal([]byte(mustAtrium(t, env, "assignment", "list", "--user", "alice", "--output", "json")), &rows)
	if len(rows) != 0 {
		t.Fatalf("after assignment delete: %+v", rows)
	}

	createAccount(t, n.organizations(), "Dev", "dev2@example.com") // account names need not be unique
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"permission-set", "show", "Nope"}, 1, `no permission set named "Nope"`},
		{[]string{"assignment", "create", "--account", "Nowhere", "--permission-set", "ReadOnly", "--group", "Developers"}, 1, `no account named "Nowhere"`},
		{[]string{"assignment", "create", "--account", "999999999999", "--permission-set", "ReadOnly", "--group", "Developers"}, 1, "999999999999 is not in the organization"},
		{[]string{"assignment", "create", "--account", "Dev", "--permission-set", "ReadOnly", "--group", "Developers"}, 1, `2 accounts are named "Dev"`},
		{[]string{"assignment", "create", "--account", dev, "--permission-set", "Nope", "--group", "Developers"}, 1, `no permission set named "Nope"`},
		{[]string{"assignment", "create", "--account", dev, "--permission-set", "ReadOnly", "--user", "nobody"}, 1, "ResourceNotFoundException"},
		{[]string{"assignment", "create", "--account", dev, "--permission-set", "ReadOnly"}, 1, "--user or --group is required"},
		{[]string{"assignment", "list", "--user", "alice", "--group", "Developers"}, 1, "not both"},
		{[]string{"permission-set", "attach-policy", "ReadOnly", "ReadOnlyAccess", "--customer-managed", "X"}, 1, "one of them"},
		{[]string{"permission-set", "create", "ReadOnly"}, 1, "ConflictException"},
		{[]string{"permission-set", "show"}, 2, "usage: atrium permission-set show NAME"},
	} {
		_, errOut, code := atrium(t, env, tc.args...)
		if code != tc.code || !strings.Contains(errOut, tc.want) {
			t.Errorf("atrium %s: exit %d, stderr %q; want exit %d and %q", strings.Join(tc.args, " "), code, errOut, tc.code, tc.want)
		}
	}
}

func sameJSON(t *testing.T, a, b string) bool {
	t.Helper()
	var x, y any
	if json.Unmarshal([]byte(a), &x) != nil || json.Unmarshal([]byte(b), &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}
