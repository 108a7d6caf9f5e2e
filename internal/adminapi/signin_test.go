package adminapi

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/atrium-sso/atrium/internal/apierr"
	"github.com/atrium-sso/atrium/internal/awsproto/model"
	"github.com/atrium-sso/atrium/internal/signin"
)

const userID = "0123456789-12345678-1234-1234-1234-123456789012"

// The password travels only in the request body and is hidden wherever
// the input is recorded or quoted.
func TestPasswordIsSensitive(t *testing.T) {
	for _, op := range []string{"SetUserPassword"} {
		in := Model().Operations[op].Input
		body := fmt.Sprintf(`{"IdentityStoreId":"d-0123456789","UserId":%q,"Password":"Secret-Pass-1","Temporary":true}`, userID)
		v, err := in.DecodeJSON([]byte(body))
		if err != nil {
			t.Fatalf("%s: valid input refused: %v", op, err)
		}
		b, _ := json.Marshal(in.Redact(v))
		if strings.Contains(string(b), "Secret-Pass-1") || !strings.Contains(string(b), model.Hidden) || !strings.Contains(string(b), userID) {
			t.Fatalf("%s redacted as %s", op, b)
		}
		_, err = in.DecodeJSON([]byte(fmt.Sprintf(`{"IdentityStoreId":"d-0123456789","UserId":%q,"Password":%q}`, userID, strings.Repeat("x", 2000))))
		if err == nil || strings.Contains(err.Error(), "xxxx") {
			t.Fatalf("%s: an overlong password: %v (its value must not be quoted)", op, err)
		}
	}
	out := Model().Operations["ResetUserPassword"].Output
	if !out.Members["OneTimePassword"].Shape.Sensitive {
		t.Fatal("the generated one-time password is not sensitive")
	}
}

func TestSettingsOperationsValidateInput(t *testing.T) {
	up := Model().Operations["UpdateSetting"].Input
	if _, err := up.DecodeJSON([]byte(`{"Key":"mfa.mode","Value":"off"}`)); err != nil {
		t.Fatalf("valid input refused: %v", err)
	}
	for _, bad := range []string{`{"Key":"mfa.mode"}`, `{"Value":"off"}`, `{"Key":"","Value":"off"}`} {
		if _, err := up.DecodeJSON([]byte(bad)); err == nil {
			t.Errorf("UpdateSetting accepted %s", bad)
		}
	}
	if _, err := Model().Operations["GetSettings"].Input.DecodeJSON([]byte(`{}`)); err != nil {
		t.Fatalf("GetSettings without a key: %v", err)
	}
}

// Sign-in's errors reach the caller as the API's exceptions.
func TestSigninErrorsTranslated(t *testing.T) {
	for _, tc := range []struct {
		err  error
		code string
		msg  string
	}{
		{signin.ErrUserNotFound, "ResourceNotFoundException", "USER not found."},
		{&signin.PolicyError{Message: "The password must be 8 to 64 characters long."}, "ValidationException", "The password must be 8 to 64 characters long."},
		{&signin.SettingError{Message: "mfa.mode must be required, optional or off."}, "ValidationException", "mfa.mode must be required, optional or off."},
	} {
		e, ok := apierr.As(signinError(tc.err, userID))
		if !ok || e.Code != tc.code || e.Message != tc.msg {
			t.Errorf("%v became %+v", tc.err, e)
		}
	}
	if e, _ := apierr.As(signinError(signin.ErrUserNotFound, userID)); e.Fields["ResourceId"] != userID || e.Fields["ResourceType"] != "USER" {
		t.Fatalf("ResourceNotFoundException fields %v", e.Fields)
	}
}
