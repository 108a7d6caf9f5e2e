package e2e

import (
	"encoding/json"
	"errors"
	"os/exec"
	"strings"
	"testing"

	"github.com/atrium-sso/atrium/internal/signin"
	"github.com/atrium-sso/atrium/internal/store"
)

// atriumIn runs an admin command with stdin and returns stdout, stderr and the exit code.
func atriumIn(t *testing.T, env []string, stdin string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(atriumBinary(t), args...)
	cmd.Env = env
	cmd.Stdin = strings.NewReader(stdin)
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

// `atrium user set-password` sets a password that then signs in, through
// the admin API: read from stdin, made temporary, or generated; the
// password is never in the server's log or its audit records.
func TestCLISetPasswordSignsIn(t *testing.T) {
	backends(t, func(t *testing.T, o nodeOptions) {
		n := startNode(t, o)
		env := cliEnv("ATRIUM_ENDPOINT_URL="+n.URL, "AWS_ACCESS_KEY_ID="+n.KeyID, "AWS_SECRET_ACCESS_KEY="+n.Secret, "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
		mustAtrium(t, env, "user", "create", "alice", "--given-name", "Alice", "--family-name", "Liddell")
		db := nodeStore(t, n, o)
		// Another node on the same database checks the passwords the server set.
		sign, err := signin.New(ctxT(t), db, signin.Options{URL: n.URL})
		if err != nil {
			t.Fatal(err)
		}
		var storeID string
		db.Read(ctxT(t), func(tx store.Tx) error {
			in, err := tx.ListInstances(ctxT(t))
			if err == nil {
				storeID = in[0].IdentityStoreID
			}
			return err
		})
		check := func(password string) *signin.Attempt {
			t.Helper()
			a, err := sign.CheckPassword(ctxT(t), storeID, "alice", password, "192.0.2.1")
			if err != nil {
				t.Fatalf("sign-in with %q: %v", password, err)
			}
			return a
		}
		const first, second = "Looking-Glass-1", "Through-The-2"
		var secrets []string

		// A password that breaks the policy is refused with the policy's words.
		_, stderr, code := atriumIn(t, env, "short\n", "user", "set-password", "alice")
		if code != 1 || !strings.Contains(stderr, "ValidationException") || !strings.Contains(stderr, "8 to 64 characters") {
			t.Fatalf("a short password: exit %d\n%s", code, stderr)
		}
		out, stderr, code := atriumIn(t, env, first+"\n", "user", "set-password", "alice")
		if code != 0 || !strings.Contains(out, "MustChangePassword:  false") {
			t.Fatalf("set-password: exit %d\n%s%s", code, out, stderr)
		}
		secrets = append(secrets, first)
		if a := check(first); a.MustChangePassword {
			t.Fatal("a password set without --temporary must be changed")
		}
		if _, err := sign.CheckPassword(ctxT(t), storeID, "alice", first+"\n", "192.0.2.1"); !errors.Is(err, signin.ErrBadCredentials) {
			t.Fatalf("the line ending became part of the password: %v", err)
		}

		// --temporary: a one-time password, changed at the next sign-in.
		if _, stderr, code := atriumIn(t, env, second+"\r\n", "user", "set-password", "alice", "--temporary"); code != 0 {
			t.Fatalf("set-password --temporary: exit %d\n%s", code, stderr)
		}
		secrets = append(secrets, second)
		if a := check(second); !a.MustChangePassword {
			t.Fatal("a --temporary password need not be changed")
		}
		// Reusing one of the last three is refused.
		_, stderr, code = atriumIn(t, env, first+"\n", "user", "set-password", "alice")
		if code != 1 || !strings.Contains(stderr, "last 3 passwords") {
			t.Fatalf("reusing a password: exit %d\n%s", code, stderr)
		}

		// --generate prints a one-time password (and reads nothing).
		out, stderr, code = atriumIn(t, env, "", "user", "set-password", "alice", "--generate", "--output", "json")
		var gen map[string]string
		if code != 0 || json.Unmarshal([]byte(out), &gen) != nil || gen["OneTimePassword"] == "" || gen["MustChangePassword"] != "true" {
			t.Fatalf("set-password --generate: exit %d\n%s%s", code, out, stderr)
		}
		secrets = append(secrets, gen["OneTimePassword"])
		if a := check(gen["OneTimePassword"]); !a.MustChangePassword {
			t.Fatal("a generated password need not be changed")
		}

		if _, stderr, code := atriumIn(t, env, "", "user", "set-password", "alice"); code != 1 || !strings.Contains(stderr, "no password on stdin") {
			t.Fatalf("nothing on stdin: exit %d\n%s", code, stderr)
		}
		if _, stderr, code := atriumIn(t, env, first+"\n", "user", "set-password", "nobody"); code != 1 || !strings.Contains(stderr, "nobody") {
			t.Fatalf("unknown user: exit %d\n%s", code, stderr)
		}

		var events []store.AuditEvent
		db.Read(ctxT(t), func(tx store.Tx) error {
			var err error
			events, err = tx.ListAudit(ctxT(t), store.AuditCursor{}, 1000)
			return err
		})
		var sets, resets int
		for _, e := range events {
			for _, s := range secrets {
				if strings.Contains(e.RequestParams+e.ErrorMessage, s) {
					t.Fatalf("a password is in the audit record %+v", e)
				}
			}
			switch e.EventName {
			case "SetUserPassword":
				sets++
				if !strings.Contains(e.RequestParams, `"Password":"HIDDEN_DUE_TO_SECURITY_REASONS"`) {
					t.Fatalf("SetUserPassword recorded as %s", e.RequestParams)
				}
			case "ResetUserPassword":
				resets++
			}
		}
		// Four calls reached the API (short, first, second, the reuse), one reset.
		if sets != 4 || resets != 1 {
			t.Fatalf("audited %d SetUserPassword, %d ResetUserPassword", sets, resets)
		}
		log := n.Log()
		for _, s := range append(secrets, "short") {
			if strings.Contains(log, s) {
				t.Fatalf("a password is in the server log:\n%s", log)
			}
		}
	})
}

// `atrium settings get|set` reads and changes the sign-in settings, and
// refuses values out of range with a ValidationException that says why.
func TestCLISettings(t *testing.T) {
	backends(t, func(t *testing.T, o nodeOptions) {
		n := startNode(t, o)
		env := cliEnv("ATRIUM_ENDPOINT_URL="+n.URL, "AWS_ACCESS_KEY_ID="+n.KeyID, "AWS_SECRET_ACCESS_KEY="+n.Secret, "AWS_SHARED_CREDENTIALS_FILE=/dev/null")

		var list []map[string]string
		json.Unmarshal([]byte(mustAtrium(t, env, "settings", "get", "--output", "json")), &list)
		got := map[string]string{}
		for _, s := range list {
			got[s["Key"]] = s["Value"]
		}
		for k, v := range map[string]string{"mfa.mode": "required", "mfa.prompt": "always", "portal.session-duration": "PT8H", "password.min-length": "8",
			"password.reuse-prevention": "3"} {
			if got[k] != v {
				t.Fatalf("default %s = %q; want %q (all: %v)", k, got[k], v, got)
			}
		}
		if v := mustAtrium(t, env, "settings", "get", "mfa.mode"); v != "required\n" {
			t.Fatalf("settings get mfa.mode = %q", v)
		}
		mustAtrium(t, env, "settings", "set", "mfa.mode", "optional")
		mustAtrium(t, env, "settings", "set", "portal.session-duration", "P7D")
		if v := mustAtrium(t, env, "settings", "get", "mfa.mode"); v != "optional\n" {
			t.Fatalf("after set: %q", v)
		}
		table := mustAtrium(t, env, "settings", "get")
		if !strings.Contains(table, "KEY") || !strings.Contains(table, "P7D") {
			t.Fatalf("settings table:\n%s", table)
		}
		for _, tc := range []struct {
			args []string
			msg  string
		}{
			{[]string{"set", "portal.session-duration", "PT10M"}, "ValidationException: portal.session-duration must be from PT15M"},
			{[]string{"set", "portal.session-duration", "P91D"}, "to P90D (90 days)"},
			{[]string{"set", "mfa.mode", "sometimes"}, "ValidationException: mfa.mode must be required, optional or off"},
			{[]string{"set", "mfa.prompt", "never"}, "mfa.prompt must be always or new-context"},
			{[]string{"set", "password.min-length", "4"}, "password.min-length must be a whole number from 8 to 64"},
			{[]string{"set", "no.such", "1"}, `ValidationException: Unknown setting "no.such"`},
			{[]string{"get", "no.such"}, `ValidationException: Unknown setting "no.such"`},
		} {
			_, stderr, code := atrium(t, env, append([]string{"settings"}, tc.args...)...)
			if code != 1 || !strings.Contains(stderr, tc.msg) {
				t.Errorf("settings %s: exit %d\n%s", strings.Join(tc.args, " "), code, stderr)
			}
		}
		// A stricter minimum applies to the next password at once.
		mustAtrium(t, env, "settings", "set", "password.min-length", "16")
		mustAtrium(t, env, "user", "create", "bob", "--given-name", "Bob", "--family-name", "B")
		if _, stderr, code := atriumIn(t, env, "Looking-Glass-1\n", "user", "set-password", "bob"); code != 1 || !strings.Contains(stderr, "16 to 64 characters") {
			t.Fatalf("a 15-character password under min-length 16: exit %d\n%s", code, stderr)
		}
	})
}
