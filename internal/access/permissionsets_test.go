package access

import (
	"encoding/json"
	"regexp"
	"testing"
	"time"

	"github.com/atrium-sso/atrium/internal/apierr"
	"github.com/atrium-sso/atrium/internal/awsproto/model"
)

func TestParseSessionDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"PT1H":        time.Hour,
		"PT12H":       12 * time.Hour,
		"PT60M":       time.Hour,
		"PT3600S":     time.Hour,
		"PT4H30M":     4*time.Hour + 30*time.Minute,
		"PT11H59M60S": 12 * time.Hour,
		"PT3600.5S":   time.Hour + 500*time.Millisecond,
		"P0DT2H":      2 * time.Hour,
		"PT0H90M":     90 * time.Minute,
	} {
		got, err := ParseSessionDuration(in)
		if err != nil || got != want {
			t.Errorf("ParseSessionDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for in, why := range map[string]string{
		"":          "empty",
		"P":         "no part",
		"PT":        "no part after T",
		"1H":        "no P",
		"PT1h":      "lower-case unit",
		"pt1h":      "lower-case designators",
		"PT1.5H":    "fraction of hours",
		"PT59M":     "under an hour",
		"PT3599.9S": "just under an hour",
		"PT12H0.1S": "just over twelve hours",
		"PT13H":     "over twelve hours",
		"P1D":       "a day",
		"P1W":       "a week",
		"P1M":       "a month",
		"P1Y":       "a year",
		"-PT2H":     "negative",
		"PT1H ":     "trailing space",
		" PT1H":     "leading space",
		"PT1H1H":    "a unit twice",
		"PT30M1H":   "units out of order",
		"3600":      "a bare number",
		"1h":        "Go syntax",
		"PT" + "9999999999999999999999999999999999999999999999999999999H": "huge",
	} {
		if _, err := ParseSessionDuration(in); err == nil {
			t.Errorf("ParseSessionDuration(%q) accepted (%s)", in, why)
		} else if e, ok := apierr.As(err); !ok || e.Code != "ValidationException" {
			t.Errorf("ParseSessionDuration(%q) = %v, want a ValidationException", in, err)
		}
	}
}

// A permission set name is 1-32 of letters, digits and _+=,.@- (the model's
// rule, checked before the domain sees a request); it becomes part of the
// role name AWSReservedSSO_<name>_<16 hex>, which IAM caps at 64 characters.
func TestPermissionSetNameRule(t *testing.T) {
	shape := model.MustLoad("sso-admin").Operations["CreatePermissionSet"].Input
	instance := "arn:aws:sso:::instance/ssoins-0123456789abcdef"
	check := func(name string) error {
		body, _ := json.Marshal(map[string]string{"InstanceArn": instance, "Name": name})
		_, err := shape.DecodeJSON(body)
		return err
	}
	for _, ok := range []string{"A", "AdministratorAccess", "Read_Only-2", "a+b=c,d.e@f", "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"} {
		if err := check(ok); err != nil {
			t.Errorf("name %q refused: %v", ok, err)
		}
		if role := "AWSReservedSSO_" + ok + "_0123456789abcdef"; len(role) > 64 {
			t.Errorf("role name %s is longer than IAM allows", role)
		}
	}
	for _, bad := range []string{"", "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456", "has space", "slash/name", "colon:name", "star*", "émigré"} {
		err := check(bad)
		if e, ok := apierr.As(err); !ok || e.Code != "ValidationException" {
			t.Errorf("name %q: %v, want a ValidationException", bad, err)
		}
	}
}

func TestPermissionSetARN(t *testing.T) {
	instance := "arn:aws:sso:::instance/ssoins-0123456789abcdef"
	pattern := regexp.MustCompile(`^arn:aws:sso:::permissionSet/ssoins-0123456789abcdef/ps-[0-9a-f]{16}$`)
	seen := map[string]bool{}
	for range 100 {
		arn := permissionSetARN(instance)
		if !pattern.MatchString(arn) {
			t.Fatalf("permission set ARN %s", arn)
		}
		if got, ok := instanceOfPermissionSet(arn); !ok || got != instance {
			t.Fatalf("instanceOfPermissionSet(%s) = %s, %v", arn, got, ok)
		}
		if id := permissionSetID(arn); len(id) != 19 || id[:3] != "ps-" {
			t.Fatalf("permissionSetID(%s) = %s", arn, id)
		}
		seen[arn] = true
	}
	if len(seen) != 100 {
		t.Fatalf("%d distinct ARNs in 100", len(seen))
	}
	if _, ok := instanceOfPermissionSet(instance); ok {
		t.Fatal("an instance ARN read as a permission set's")
	}
}

func TestCheckTags(t *testing.T) {
	if err := checkTags([]tag{{"team", "a"}, {"Team", "b"}, {"cost-center", ""}}); err != nil {
		t.Fatalf("distinct keys refused: %v", err)
	}
	for name, tags := range map[string][]tag{
		"duplicate key": {{"team", "a"}, {"team", "b"}},
		"aws: prefix":   {{"aws:createdBy", "x"}},
		"AWS: prefix":   {{"AWS:foo", "x"}},
	} {
		if e, ok := apierr.As(checkTags(tags)); !ok || e.Code != "ValidationException" {
			t.Errorf("%s: %v, want a ValidationException", name, e)
		}
	}
}

// FuzzParseSessionDuration: whatever a client sends, the parser answers a
// duration within one to twelve hours or a ValidationException, never a panic.
func FuzzParseSessionDuration(f *testing.F) {
	for _, s := range []string{"PT1H", "PT12H", "PT90M", "PT3600.5S", "P0DT2H", "P1W", "-PT2H", "PT", "P", "PT1H1H", "PT99999999999999999999H"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseSessionDuration(s)
		if err != nil {
			if e, ok := apierr.As(err); !ok || e.Code != "ValidationException" {
				t.Fatalf("ParseSessionDuration(%q) = %v", s, err)
			}
			return
		}
		if d < time.Hour || d > 12*time.Hour || s[0] != 'P' {
			t.Fatalf("ParseSessionDuration(%q) accepted %v", s, d)
		}
	})
}
