package access

import (
	"slices"
	"testing"

	"github.com/atrium-sso/atrium/internal/awsproto"
)

// Every sso-admin action but ListInstances requires the instance, and most
// the permission set or account they name (Service Authorization Reference).
func TestEveryOperationNamesItsResources(t *testing.T) {
	api := (&Service{}).API()
	for op := range api.Ops {
		if api.Resources[op] == nil && op != "ListInstances" {
			t.Errorf("%s has no resources", op)
		}
	}
	const instance, ps = "arn:aws:sso:::instance/ssoins-1111111111111111", "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-2222222222222222"
	for _, c := range []struct {
		op   string
		in   map[string]any
		want []string
	}{
		{"CreateAccountAssignment", map[string]any{"InstanceArn": instance, "PermissionSetArn": ps, "TargetId": "123456789012"},
			[]string{instance, ps, "arn:aws:sso:::account/123456789012"}},
		{"CreatePermissionSet", map[string]any{"InstanceArn": instance},
			[]string{instance, "arn:aws:sso:::permissionSet/ssoins-1111111111111111/*"}},
		{"ProvisionPermissionSet", map[string]any{"InstanceArn": instance, "PermissionSetArn": ps},
			[]string{instance, ps, "arn:aws:sso:::account/*"}},
		{"TagResource", map[string]any{"InstanceArn": instance, "ResourceArn": ps}, []string{instance, ps}},
	} {
		got, err := api.Resources[c.op](t.Context(), &awsproto.Input{Value: c.in})
		if err != nil || !slices.Equal(got, c.want) {
			t.Errorf("%s resources = %q, %v; want %q", c.op, got, err, c.want)
		}
	}
}
