package directory

import (
	"slices"
	"testing"

	"github.com/atrium-sso/atrium/internal/awsproto"
	"github.com/atrium-sso/atrium/internal/store"
)

// Every identitystore action requires the identity store and the users,
// groups or memberships it names (Service Authorization Reference): an
// operation served without its resources would be judged against "*" and
// slip past a Deny written for one user.
func TestEveryOperationNamesItsResources(t *testing.T) {
	api := New(nil, nil).API()
	for op := range api.Ops {
		if api.Resources[op] == nil {
			t.Errorf("%s has no resources", op)
		}
	}
	s, _ := newService(t) // its instance's account is 111111111111
	in := &awsproto.Input{Value: map[string]any{"IdentityStoreId": testStore,
		"MemberId": map[string]any{"UserId": "u1"}, "GroupIds": []any{"g1", "g2"}}}
	got, err := s.resources()["IsMemberInGroups"](t.Context(), in)
	want := []string{"arn:aws:identitystore::111111111111:identitystore/" + testStore, store.UserARN("u1"), allMemberships, groupARN("g1"), groupARN("g2")}
	if err != nil || !slices.Equal(got, want) {
		t.Fatalf("IsMemberInGroups resources = %q, %v; want %q", got, err, want)
	}
}
