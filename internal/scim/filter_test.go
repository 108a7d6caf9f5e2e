package scim

import (
	"errors"
	"testing"
)

func TestFilterParsesAndRendersCanonically(t *testing.T) {
	for in, want := range map[string]string{
		`userName eq "bjensen"`:                                                            `userName eq "bjensen"`,
		`USERNAME EQ "x" AND externalId Eq "y"`:                                            `(userName eq "x" and externalId eq "y")`,
		`a pr or b pr and c pr`:                                                            `(a pr or (b pr and c pr))`,
		`not (emails[type eq "work" and value co "@x"])`:                                   `not (emails[(type eq "work" and value co "@x")])`,
		`meta.lastModified gt "2011-05-13T04:42:34Z"`:                                      `meta.lastModified gt "2011-05-13T04:42:34Z"`,
		`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "7"`: `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "7"`,
		`urn:ietf:params:scim:schemas:core:2.0:User:name.givenName sw "B"`:                 `name.givenName sw "B"`,
		`active eq TRUE`:     `active eq true`,
		`x eq -1.5e3`:        `x eq -1.5e3`,
		`title eq null`:      `title eq null`,
		`userName eq "a\"b"`: `userName eq "a\"b"`,
	} {
		f, err := parseFilter(userResource, in)
		if err != nil {
			t.Errorf("%s: %v", in, err)
			continue
		}
		if f.String() != want {
			t.Errorf("%s: rendered %s, want %s", in, f, want)
		}
	}
}

func TestFilterErrorsAreInvalidFilter(t *testing.T) {
	for _, in := range []string{``, `userName`, `userName eq`, `userName xx "a"`, `(userName pr`, `userName pr)`, `"a" eq "b"`,
		`emails[type eq "w"`, `emails[type eq "w"[value pr]]`, `a.b.c eq "x"`, `urn:x:y:z eq "a"`, `userName eq 'a'`, `active lt true`,
		`userName eq "a" and`, `not userName eq "a"`, `userName eq "unterminated`} {
		_, err := parseFilter(userResource, in)
		var e *Error
		if !errors.As(err, &e) || e.Status != 400 || e.ScimType != invalidFilter {
			t.Errorf("%q: %v, want 400 invalidFilter", in, err)
		}
	}
}

func TestFilterNestingIsBounded(t *testing.T) {
	deep := ""
	for range 100 {
		deep += "("
	}
	deep += `userName pr`
	for range 100 {
		deep += ")"
	}
	if _, err := parseFilter(userResource, deep); err == nil {
		t.Fatal("a filter nested 100 deep was accepted")
	}
}

func FuzzFilter(f *testing.F) {
	for _, s := range []string{`userName eq "bjensen"`, `name.familyName co "O'Malley"`, `userName sw "J"`, `title pr and userType eq "Employee"`,
		`emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]`, `not (active eq false)`,
		`meta.lastModified ge "2011-05-13T04:42:34Z"`, `members eq "a" and id eq "b"`, `x eq 1.5e10`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, res := range []*resource{userResource, groupResource} {
			flt, err := parseFilter(res, s)
			if err != nil {
				var e *Error
				if !errors.As(err, &e) || e.ScimType != invalidFilter {
					t.Fatalf("%q: error %v is not invalidFilter", s, err)
				}
				continue
			}
			// What was parsed renders to a filter that parses to the same.
			again, err := parseFilter(res, flt.String())
			if err != nil || again.String() != flt.String() {
				t.Fatalf("%q rendered %q, which parses to %v, %v", s, flt, again, err)
			}
			flt.match(map[string]any{"userName": "bjensen", "emails": []any{map[string]any{"value": "b@example.com", "type": "work"}},
				"name": map[string]any{"familyName": "Jensen"}, "active": true, "members": []any{map[string]any{"value": "a"}}})
		}
	})
}
