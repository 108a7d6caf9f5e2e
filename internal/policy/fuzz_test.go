package policy

import (
	"encoding/json"
	"testing"
)

// fuzzRequests are evaluated against every document the fuzzer gets past Parse.
var fuzzRequests = []Request{
	{Action: "s3:GetObject", Resource: "arn:aws:s3:::bucket/key"},
	{Action: "iam:CreateUser", Resource: "*", Context: ctx("aws:username", "ana", "aws:SourceIp", "203.0.113.9", "aws:CurrentTime", "2024-05-01T00:00:00Z", "aws:MultiFactorAuthPresent", "true")},
	{Action: "sts:AssumeRole", Principal: deploySess, Context: ctx("aws:PrincipalTag/team", "red", "aws:TagKeys", "a", "aws:TagKeys", "b", "s3:max-keys", "5")},
	{Action: "sts:AssumeRoleWithSAML", Principal: samlProvider, Context: ctx("SAML:aud", "https://signin.aws.amazon.com/saml")},
	{Action: "ec2:RunInstances", Resource: "arn:aws:ec2:us-east-1:111122223333:instance/*", Principal: ssoService},
	{Action: "*", Resource: "${aws:username}"},
}

// FuzzParse: Parse never panics; what it accepts evaluates without panic,
// decides the same when parsed again, and decides the same when rebuilt from
// its exported fields (so those fields say all that the policy means).
func FuzzParse(f *testing.F) {
	for _, c := range validDocuments {
		f.Add(c.doc)
	}
	for _, c := range parseErrorCases {
		f.Add(c.doc)
	}
	f.Add(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::b-${aws:PrincipalTag/team, 'x'}/${*}?"}}`)
	f.Fuzz(func(t *testing.T, doc string) {
		for _, kind := range []Kind{Identity, Resource} {
			d, err := Parse(doc, kind)
			if err != nil {
				if _, ok := err.(*Error); !ok {
					t.Fatalf("Parse error %T %v is not *Error", err, err)
				}
				continue
			}
			again, err := Parse(doc, kind)
			if err != nil {
				t.Fatalf("second Parse failed: %v", err)
			}
			rebuilt, err := Parse(render(t, d), kind)
			if err != nil {
				t.Fatalf("rebuilt document refused: %v\n%s", err, render(t, d))
			}
			for i := range fuzzRequests {
				r := &fuzzRequests[i]
				want := d.Evaluate(r)
				if got := again.Evaluate(r); got != want {
					t.Fatalf("request %d: %v, then %v on re-parse", i, want, got)
				}
				if got := rebuilt.Evaluate(r); got != want {
					t.Fatalf("request %d: %v, but %v once rebuilt from fields", i, want, got)
				}
			}
		}
	})
}

// render writes a document back from its exported fields (test only: Atrium
// stores policies as the caller wrote them).
func render(t *testing.T, d *Document) string {
	t.Helper()
	doc := map[string]any{}
	if d.Version != "" {
		doc["Version"] = d.Version
	}
	if d.ID != "" {
		doc["Id"] = d.ID
	}
	var stmts []any
	for _, s := range d.Statements {
		m := map[string]any{"Effect": s.Effect}
		if s.Sid != "" {
			m["Sid"] = s.Sid
		}
		set := func(name string, v []string) {
			if v != nil {
				m[name] = v
			}
		}
		set("Action", s.Action)
		set("NotAction", s.NotAction)
		set("Resource", s.Resource)
		set("NotResource", s.NotResource)
		if s.Principal != nil {
			m["Principal"] = s.Principal
		}
		if s.NotPrincipal != nil {
			m["NotPrincipal"] = s.NotPrincipal
		}
		if s.Condition != nil {
			cond := map[string]map[string][]string{}
			for _, c := range s.Condition {
				if cond[c.Operator] == nil {
					cond[c.Operator] = map[string][]string{}
				}
				cond[c.Operator][c.Key] = c.Values
			}
			m["Condition"] = cond
		}
		stmts = append(stmts, m)
	}
	doc["Statement"] = stmts
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
