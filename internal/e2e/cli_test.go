package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/identitystore"
	"github.com/aws/aws-sdk-go-v2/service/identitystore/types"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"
)

// cliEnv is a clean environment for `atrium` admin commands: nothing from
// this machine's AWS configuration leaks in.
func cliEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") && !strings.HasPrefix(kv, "ATRIUM_") {
			env = append(env, kv)
		}
	}
	return append(env, append([]string{"AWS_CONFIG_FILE=/dev/null", "AWS_EC2_METADATA_DISABLED=true"}, extra...)...)
}

// atrium runs an admin command and returns stdout, stderr and the exit code.
func atrium(t *testing.T, env []string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(atriumBinary(t), args...)
	cmd.Env = env
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

func mustAtrium(t *testing.T, env []string, args ...string) string {
	t.Helper()
	out, errOut, code := atrium(t, env, args...)
	if code != 0 {
		t.Fatalf("atrium %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

// The admin CLI manages users and groups by name, and disable/enable flip
// UserStatus as the identitystore API shows it.
func TestAdminCLI(t *testing.T) {
	backends(t, func(t *testing.T, o nodeOptions) {
		n := startNode(t, o)
		env := cliEnv("ATRIUM_ENDPOINT_URL="+n.URL, "AWS_ACCESS_KEY_ID="+n.KeyID, "AWS_SECRET_ACCESS_KEY="+n.Secret, "AWS_SHARED_CREDENTIALS_FILE=/dev/null")

		mustAtrium(t, env, "user", "create", "alice", "--given-name", "Alice", "--family-name", "Liddell", "--email", "alice@example.com")
		var users []map[string]string
		json.Unmarshal([]byte(mustAtrium(t, env, "user", "list", "--output", "json")), &users)
		if len(users) != 1 || users[0]["UserName"] != "alice" || users[0]["Email"] != "alice@example.com" || users[0]["Status"] != "ENABLED" {
			t.Fatalf("user list = %+v", users)
		}
		if table := mustAtrium(t, env, "user", "list"); !strings.Contains(table, "USERNAME") || !strings.Contains(table, "alice") {
			t.Fatalf("user list table:\n%s", table)
		}

		ids := identitystore.NewFromConfig(n.admin())
		inst, err := ssoadmin.NewFromConfig(n.admin()).ListInstances(ctxT(t), &ssoadmin.ListInstancesInput{})
		if err != nil {
			t.Fatal(err)
		}
		storeID := inst.Instances[0].IdentityStoreId
		status := func() types.UserStatus {
			u, err := ids.DescribeUser(ctxT(t), &identitystore.DescribeUserInput{IdentityStoreId: storeID, UserId: aws.String(users[0]["UserId"])})
			if err != nil {
				t.Fatal(err)
			}
			return u.UserStatus
		}
		mustAtrium(t, env, "user", "disable", "alice")
		if s := status(); s != types.UserStatusDisabled {
			t.Fatalf("after disable, DescribeUser says %s", s)
		}
		var shown map[string]string
		json.Unmarshal([]byte(mustAtrium(t, env, "user", "show", "alice", "--output", "json")), &shown)
		if shown["Status"] != "DISABLED" || shown["GivenName"] != "Alice" {
			t.Fatalf("user show = %+v", shown)
		}
		mustAtrium(t, env, "user", "enable", "alice")
		if s := status(); s != types.UserStatusEnabled {
			t.Fatalf("after enable, DescribeUser says %s", s)
		}

		mustAtrium(t, env, "group", "create", "Developers", "--description", "people who ship")
		mustAtrium(t, env, "group", "add-member", "Developers", "alice")
		var groups []map[string]string
		json.Unmarshal([]byte(mustAtrium(t, env, "group", "list", "--output", "json")), &groups)
		if len(groups) != 1 || groups[0]["DisplayName"] != "Developers" {
			t.Fatalf("group list = %+v", groups)
		}
		in, err := ids.IsMemberInGroups(ctxT(t), &identitystore.IsMemberInGroupsInput{IdentityStoreId: storeID,
			MemberId: &types.MemberIdMemberUserId{Value: users[0]["UserId"]}, GroupIds: []string{groups[0]["GroupId"]}})
		if err != nil || len(in.Results) != 1 || !in.Results[0].MembershipExists {
			t.Fatalf("IsMemberInGroups after add-member = %+v, %v", in, err)
		}
		mustAtrium(t, env, "group", "remove-member", "Developers", "alice")
		in, _ = ids.IsMemberInGroups(ctxT(t), &identitystore.IsMemberInGroupsInput{IdentityStoreId: storeID,
			MemberId: &types.MemberIdMemberUserId{Value: users[0]["UserId"]}, GroupIds: []string{groups[0]["GroupId"]}})
		if in.Results[0].MembershipExists {
			t.Fatal("still a member after remove-member")
		}

		_, errOut, code := atrium(t, env, "user", "show", "nobody")
		if code != 1 || !strings.Contains(errOut, "ResourceNotFoundException") {
			t.Fatalf("show of a missing user: exit %d, %s", code, errOut)
		}
		_, errOut, code = atrium(t, env, "user", "create", "alice", "--given-name", "A", "--family-name", "L")
		if code != 1 || !strings.Contains(errOut, "ConflictException") {
			t.Fatalf("duplicate user: exit %d, %s", code, errOut)
		}
		mustAtrium(t, env, "user", "delete", "alice")
		json.Unmarshal([]byte(mustAtrium(t, env, "user", "list", "--output", "json")), &users)
		if len(users) != 0 {
			t.Fatalf("after delete: %+v", users)
		}
	})
}

// Credentials come from the standard chain: here a profile in a shared credentials file.
func TestAdminCLIUsesAProfile(t *testing.T) {
	n := startNode(t, nodeOptions{})
	creds := filepath.Join(n.Data, "bootstrap-credentials")
	env := cliEnv("AWS_SHARED_CREDENTIALS_FILE=" + creds)
	mustAtrium(t, env, "group", "create", "Ops", "--profile", "atrium-admin", "--endpoint-url", n.URL)
	_, errOut, code := atrium(t, env, "group", "list", "--endpoint-url", n.URL)
	if code == 0 {
		t.Fatalf("without a profile or keys the CLI must fail; stderr %s", errOut)
	}
}
