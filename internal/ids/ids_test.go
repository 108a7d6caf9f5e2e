package ids

import (
	"regexp"
	"strings"
	"testing"
	"time"
)

// Every id matches the pattern of AWS's API models, so clients that validate
// ids (Terraform, the SDKs' own checks) accept what Atrium hands out.
func TestFormatsMatchAWSPatterns(t *testing.T) {
	for name, tc := range map[string]struct {
		make    func() string
		pattern string
	}{
		"account":       {AccountID, `^\d{12}$`},
		"organization":  {OrganizationID, `^o-[a-z0-9]{10,32}$`},
		"root":          {RootID, `^r-[0-9a-z]{4,32}$`},
		"ou":            {func() string { return OrganizationalUnitID("r-ab12") }, `^ou-ab12-[0-9a-z]{8,32}$`},
		"car":           {CreateAccountRequestID, `^car-[a-z0-9]{8,32}$`},
		"instance":      {InstanceID, `^ssoins-[0-9a-f]{16}$`},
		"identitystore": {IdentityStoreID, `^d-[0-9a-f]{10}$`},
		"accesskey":     {AccessKeyID, `^AKIA[A-Z2-7]{16}$`},
		"temporarykey":  {TemporaryAccessKeyID, `^ASIA[A-Z2-7]{16}$`},
		"secret":        {SecretAccessKey, `^[A-Za-z0-9+/]{40}$`},
		"role":          {RoleID, `^AROA[A-Z2-7]{17}$`},
		"policy":        {PolicyID, `^ANPA[A-Z2-7]{17}$`},
		"policyof":      {func() string { return PolicyIDOf(UUID()) }, `^ANPA[A-Z2-7]{17}$`},
		"uuid":          {UUID, `^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`},
	} {
		re := regexp.MustCompile(tc.pattern)
		seen := map[string]bool{}
		for i := 0; i < 200; i++ {
			id := tc.make()
			if !re.MatchString(id) {
				t.Fatalf("%s: %q does not match %s", name, id, tc.pattern)
			}
			seen[id] = true
		}
		if len(seen) < 190 {
			t.Fatalf("%s: only %d distinct ids in 200", name, len(seen))
		}
	}
	for i := 0; i < 200; i++ {
		if AccountID()[0] == '0' {
			t.Fatal("an account id starts with 0")
		}
	}
}

func TestTimeUUIDSortsByCreation(t *testing.T) {
	a := TimeUUID()
	time.Sleep(2 * time.Millisecond)
	b := TimeUUID()
	if !(a < b) {
		t.Fatalf("%s made before %s sorts after it", a, b)
	}
	if len(a) != 36 || a[14] != '7' {
		t.Fatalf("%s is not a version 7 UUID", a)
	}
}

// Directory ids keep AWS's form and sort by creation, so inserts append to
// the indexes keyed by them.
func TestDirectoryResourceIDSortsByCreation(t *testing.T) {
	a := DirectoryResourceID("d-9067549d82")
	time.Sleep(2 * time.Millisecond)
	b := DirectoryResourceID("d-9067549d82")
	if !(a < b) {
		t.Fatalf("%s made before %s sorts after it", a, b)
	}
	if !strings.HasPrefix(a, "9067549d82-") || len(a) != 47 {
		t.Fatalf("%s is not <store hex>-<uuid>", a)
	}
}
