package portal

import (
	"testing"

	"github.com/atrium-sso/atrium/internal/store"
)

// A chained role session answers for the Identity Center role its chain
// began with, however many hops deep, so that role's revocation reaches it.
func TestOriginRoleOfChainedSessions(t *testing.T) {
	const sso = "arn:aws:sts::222222222222:assumed-role/AWSReservedSSO_Admin_0123456789abcdef/alice"
	for _, tc := range []struct {
		name       string
		c          store.SessionCredential
		acct, role string
		ok         bool
	}{
		{"portal credentials", store.SessionCredential{AccountID: "222222222222",
			RoleARN:   "arn:aws:iam::222222222222:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Admin_0123456789abcdef",
			SourceARN: "arn:aws:identitystore:::user/u-1"}, "222222222222", "AWSReservedSSO_Admin_0123456789abcdef", true},
		{"first hop", store.SessionCredential{AccountID: "333333333333", RoleARN: "arn:aws:iam::333333333333:role/Hop1",
			SourceARN: sso, OriginARN: sso}, "222222222222", "AWSReservedSSO_Admin_0123456789abcdef", true},
		{"second hop", store.SessionCredential{AccountID: "333333333333", RoleARN: "arn:aws:iam::333333333333:role/Hop2",
			SourceARN: "arn:aws:sts::333333333333:assumed-role/Hop1/alice-1", OriginARN: sso}, "222222222222", "AWSReservedSSO_Admin_0123456789abcdef", true},
		{"first hop stored before chains were recorded", store.SessionCredential{AccountID: "333333333333", RoleARN: "arn:aws:iam::333333333333:role/Hop1",
			SourceARN: sso}, "222222222222", "AWSReservedSSO_Admin_0123456789abcdef", true},
		{"a chain that began with an account's own role", store.SessionCredential{AccountID: "333333333333", RoleARN: "arn:aws:iam::333333333333:role/Hop2",
			SourceARN: "arn:aws:sts::333333333333:assumed-role/Hop1/x", OriginARN: "arn:aws:sts::333333333333:assumed-role/Ops/x"}, "", "", false},
	} {
		acct, role, ok := originRole(&tc.c)
		if acct != tc.acct || role != tc.role || ok != tc.ok {
			t.Errorf("%s: %q %q %v; want %q %q %v", tc.name, acct, role, ok, tc.acct, tc.role, tc.ok)
		}
	}
}
