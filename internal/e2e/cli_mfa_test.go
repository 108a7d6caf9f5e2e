package e2e

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/atrium-sso/atrium/internal/signin"
	"github.com/atrium-sso/atrium/internal/store"
)

// An administrator helps a person who lost their phone: `atrium user mfa
// list` shows the devices, `atrium user mfa delete NAME ID` removes one,
// `--all` every one. A browser remembered with the lost device is asked
// for MFA again, and with no device left (mfa.mode required) the person
// registers a new one at sign-in.
func TestCLIUserMfaListAndDelete(t *testing.T) {
	backends(t, func(t *testing.T, o nodeOptions) {
		n := startNode(t, o)
		env := cliEnv("ATRIUM_ENDPOINT_URL="+n.URL, "AWS_ACCESS_KEY_ID="+n.KeyID, "AWS_SECRET_ACCESS_KEY="+n.Secret, "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
		mustAtrium(t, env, "user", "create", "alice", "--given-name", "Alice", "--family-name", "Liddell")
		mustAtrium(t, env, "settings", "set", "mfa.prompt", "new-context")
		const password = "Looking-Glass-1"
		if _, stderr, code := atriumIn(t, env, password+"\n", "user", "set-password", "alice"); code != 0 {
			t.Fatal(stderr)
		}
		db := nodeStore(t, n, o)
		sign, err := signin.New(ctxT(t), db, signin.Options{URL: n.URL})
		if err != nil {
			t.Fatal(err)
		}
		var storeID, userID string
		db.Read(ctxT(t), func(tx store.Tx) error {
			in, err := tx.ListInstances(ctxT(t))
			if err != nil {
				return err
			}
			storeID = in[0].IdentityStoreID
			u, err := tx.GetUserByName(ctxT(t), storeID, "alice")
			if err == nil {
				userID = u.ID
			}
			return err
		})
		for _, name := range []string{"phone", "tablet"} {
			e, err := sign.BeginTOTPEnrollment(ctxT(t), storeID, userID, "Atrium")
			if err != nil {
				t.Fatal(err)
			}
			code, _ := totp.GenerateCode(e.Secret, time.Now()) // each app has its own key: no code is reused

			if err := sign.FinishTOTPEnrollment(ctxT(t), storeID, userID, e, code, name); err != nil {
				t.Fatal(err)
			}
		}
		remembered, _, err := sign.RememberDevice(ctxT(t), storeID, userID)
		if err != nil {
			t.Fatal(err)
		}
		mfaStep := func() signin.MFAStep {
			t.Helper()
			a, err := sign.CheckPassword(ctxT(t), storeID, "alice", password, "192.0.2.1", signin.FromDevice(remembered))
			if err != nil {
				t.Fatal(err)
			}
			return a.MFA
		}
		if got := mfaStep(); got != signin.MFANone {
			t.Fatalf("the remembered browser before any change: %v", got)
		}

		var listed []map[string]string
		if err := json.Unmarshal([]byte(mustAtrium(t, env, "user", "mfa", "list", "alice", "--output", "json")), &listed); err != nil {
			t.Fatal(err)
		}
		if len(listed) != 2 || listed[0]["Name"] != "phone" || listed[0]["Type"] != "TOTP" || listed[1]["Name"] != "tablet" || listed[0]["LastUsed"] != "never" {
			t.Fatalf("atrium user mfa list = %+v", listed)
		}
		out := mustAtrium(t, env, "user", "mfa", "delete", "alice", listed[0]["DeviceId"])
		if !strings.Contains(out, "true") {
			t.Fatalf("atrium user mfa delete = %s", out)
		}
		if table := mustAtrium(t, env, "user", "mfa", "list", "alice"); strings.Contains(table, "phone") || !strings.Contains(table, "tablet") {
			t.Fatalf("after deleting the phone:\n%s", table)
		}
		if got := mfaStep(); got != signin.MFAVerify {
			t.Fatalf("the browser remembered with the lost phone still skips MFA: %v", got)
		}

		// Errors are the API's, clearly shaped.
		for _, tc := range []struct {
			args []string
			want string
		}{
			{[]string{"user", "mfa", "delete", "alice", listed[0]["DeviceId"]}, "ResourceNotFoundException"},
			{[]string{"user", "mfa", "delete", "alice", "not-an-id"}, "ValidationException"},
			{[]string{"user", "mfa", "delete", "alice"}, "give a device id or --all"},
			{[]string{"user", "mfa", "delete", "alice", listed[1]["DeviceId"], "--all"}, "give a device id or --all"},
			{[]string{"user", "mfa", "list", "nobody"}, "nobody"},
		} {
			_, stderr, code := atrium(t, env, tc.args...)
			if code == 0 || !strings.Contains(stderr, tc.want) {
				t.Errorf("atrium %s: exit %d, %q; want %q", strings.Join(tc.args, " "), code, stderr, tc.want)
			}
		}

		if out := mustAtrium(t, env, "user", "mfa", "delete", "alice", "--all"); !strings.Contains(out, "1") {
			t.Fatalf("atrium user mfa delete --all = %s", out)
		}
		if table := mustAtrium(t, env, "user", "mfa", "list", "alice", "--output", "json"); strings.TrimSpace(table) != "[]" {
			t.Fatalf("devices after --all: %s", table)
		}
		if got := mfaStep(); got != signin.MFAEnroll {
			t.Fatalf("with every device gone and MFA required: %v; want registration", got)
		}
	})
}
