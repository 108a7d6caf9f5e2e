package adminapi

import "testing"

func TestModelValidatesInput(t *testing.T) {
	op := Model().Operations["SetUserStatus"]
	if op == nil {
		t.Fatal("no SetUserStatus in the model")
	}
	if _, err := op.Input.DecodeJSON([]byte(`{"IdentityStoreId":"d-0123456789","UserId":"0123456789-12345678-1234-1234-1234-123456789012","UserStatus":"DISABLED"}`)); err != nil {
		t.Fatalf("valid input refused: %v", err)
	}
	for _, bad := range []string{
		`{"IdentityStoreId":"d-0123456789","UserId":"0123456789-12345678-1234-1234-1234-123456789012","UserStatus":"LOCKED"}`,
		`{"IdentityStoreId":"nope","UserId":"0123456789-12345678-1234-1234-1234-123456789012","UserStatus":"ENABLED"}`,
		`{"IdentityStoreId":"d-0123456789","UserStatus":"ENABLED"}`,
	} {
		if _, err := op.Input.DecodeJSON([]byte(bad)); err == nil {
			t.Errorf("accepted %s", bad)
		}
	}
}
