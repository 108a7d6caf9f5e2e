package iam

import (
	"net/url"
	"strings"
	"testing"

	"github.com/atrium-sso/atrium/internal/awsproto"
)

// Documents come back percent-encoded as IAM encodes them: every byte but
// RFC 3986's unreserved characters, so a client's decoder gets the exact text.
func TestPolicyDocumentsAreEncodedAsIAMEncodesThem(t *testing.T) {
	for in, want := range map[string]string{
		`{"Action":"s3:Get*"}`:  "%7B%22Action%22%3A%22s3%3AGet%2A%22%7D",
		"a b+c\n\t~_.-":         "a%20b%2Bc%0A%09~_.-",
		"/path/?q=1&x=%41":      "%2Fpath%2F%3Fq%3D1%26x%3D%2541",
		"caf\u00e9 \u2603":      "caf%C3%A9%20%E2%98%83",
		"AZaz09":                "AZaz09",
		"":                      "",
		"arn:aws:iam::1:root,@": "arn%3Aaws%3Aiam%3A%3A1%3Aroot%2C%40",
	} {
		got := urlEncode(in)
		if got != want {
			t.Errorf("urlEncode(%q) = %q, want %q", in, got, want)
		}
		if back, err := url.PathUnescape(got); err != nil || back != in {
			t.Errorf("%q does not decode back to %q: %q, %v", got, in, back, err)
		}
	}
}

func TestSplitPolicyARN(t *testing.T) {
	for arn, want := range map[string][3]string{
		"arn:aws:iam::aws:policy/AdministratorAccess":         {"aws", "/", "AdministratorAccess"},
		"arn:aws:iam::aws:policy/job-function/ViewOnlyAccess": {"aws", "/job-function/", "ViewOnlyAccess"},
		"arn:aws:iam::123456789012:policy/a/b/c/Name":         {"123456789012", "/a/b/c/", "Name"},
	} {
		acct, path, name, ok := splitPolicyARN(arn)
		if !ok || [3]string{acct, path, name} != want {
			t.Errorf("splitPolicyARN(%q) = %q %q %q %v, want %v", arn, acct, path, name, ok, want)
		}
	}
	for _, bad := range []string{"", "arn:aws:iam::123456789012:role/R", "arn:aws:iam::123456789012:policy/", "arn:aws:iam::123456789012:policy/a/",
		"arn:aws:iam:::policy/P", "arn:aws:s3:::policy/P", "arn:aws-cn:iam::123456789012:policy/P", "arn:aws:iam::123456789012:policy"} {
		if _, _, _, ok := splitPolicyARN(bad); ok {
			t.Errorf("splitPolicyARN(%q) accepted it", bad)
		}
	}
}

// The ARN comes from the request: whatever it is, it is taken apart
// without panicking, and what is accepted is exactly what it names.
func FuzzSplitPolicyARN(f *testing.F) {
	for _, s := range []string{"arn:aws:iam::aws:policy/job-function/ViewOnlyAccess", "arn:aws:iam::1:policy//", "arn:aws:iam::", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, arn string) {
		acct, path, name, ok := splitPolicyARN(arn)
		if ok && "arn:aws:iam::"+acct+":policy"+path+name != arn {
			t.Fatalf("%q taken apart as %q %q %q", arn, acct, path, name)
		}
	})
}

// Listing pages AWS's policies by name: names must be unique ignoring
// case, and every marker must fit the model's 320 characters.
func TestCatalogueKeysAreUniqueAndMarkersFit(t *testing.T) {
	pager := awsproto.NewPager([]byte("k"))
	seen := map[string]bool{}
	for _, p := range catalogue() {
		k := catalogueKey(p)
		if seen[k] {
			t.Fatalf("two AWS managed policies are named %q ignoring case", k)
		}
		seen[k] = true
		if m := pager.Token("ListPolicies", "A"+k); len(m) > 320 {
			t.Fatalf("marker after %s is %d characters", p.Name, len(m))
		}
	}
	if m := pager.Token("ListPolicies", "L"+strings.Repeat("x", 128)); len(m) > 320 {
		t.Fatalf("marker after a 128-character policy name is %d characters", len(m))
	}
}
