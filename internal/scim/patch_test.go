package scim

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/atrium-sso/atrium/internal/store"
)

func doc(t testing.TB, s string) map[string]any {
	m := decodeDoc([]byte(s))
	if m == nil {
		t.Fatalf("bad test document %s", s)
	}
	return m
}

func TestPatchShapes(t *testing.T) {
	base := `{"userName":"b","name":{"givenName":"B","familyName":"J"},"emails":[{"value":"b@x","type":"work","primary":true}],"active":true}`
	for _, c := range []struct{ ops, want string }{
		{`[{"op":"Replace","path":"name.givenName","value":"Barbara"}]`, `{"userName":"b","name":{"givenName":"Barbara","familyName":"J"},"emails":[{"value":"b@x","type":"work","primary":true}],"active":true}`},
		{`[{"op":"replace","value":{"active":"False","title":"Boss"}}]`, `{"userName":"b","name":{"givenName":"B","familyName":"J"},"emails":[{"value":"b@x","type":"work","primary":true}],"active":false,"title":"Boss"}`},
		{`[{"op":"Replace","path":"emails[type eq \"work\"].value","value":"new@x"}]`, `{"userName":"b","name":{"givenName":"B","familyName":"J"},"emails":[{"value":"new@x","type":"work","primary":true}],"active":true}`},
		{`[{"op":"Add","path":"phoneNumbers[type eq \"mobile\"].value","value":"+1"}]`, `{"userName":"b","name":{"givenName":"B","familyName":"J"},"emails":[{"value":"b@x","type":"work","primary":true}],"active":true,"phoneNumbers":[{"type":"mobile","value":"+1"}]}`},
		{`[{"op":"remove","path":"emails[type eq \"work\"]"}]`, `{"userName":"b","name":{"givenName":"B","familyName":"J"},"active":true}`},
		{`[{"op":"add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":"m1"}]`, `{"userName":"b","name":{"givenName":"B","familyName":"J"},"emails":[{"value":"b@x","type":"work","primary":true}],"active":true,"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"manager":{"value":"m1"}}}`},
		{`[{"op":"add","value":{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"D"}}}]`, `{"userName":"b","name":{"givenName":"B","familyName":"J"},"emails":[{"value":"b@x","type":"work","primary":true}],"active":true,"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"D"}}`},
		{`[{"op":"replace","path":"emails","value":[{"value":"c@x"}]}]`, `{"userName":"b","name":{"givenName":"B","familyName":"J"},"emails":[{"value":"c@x"}],"active":true}`},
		{`[{"op":"add","path":"name","value":{"middleName":"M"}}]`, `{"userName":"b","name":{"givenName":"B","familyName":"J","middleName":"M"},"emails":[{"value":"b@x","type":"work","primary":true}],"active":true}`},
		{`[{"op":"replace","path":"title","value":""}]`, base},
	} {
		d := doc(t, base)
		var ops []map[string]any
		json.Unmarshal([]byte(c.ops), &ops)
		body := map[string]any{"schemas": []any{patchSchema}, "Operations": toAnyList(ops)}
		parsed, err := parsePatch(decodeDoc(mustJSON(body)))
		if err != nil {
			t.Fatalf("%s: %v", c.ops, err)
		}
		for _, op := range parsed {
			if err := applyPatch(userResource, d, op); err != nil {
				t.Fatalf("%s: %v", c.ops, err)
			}
		}
		if got, want := string(mustJSON(d)), string(mustJSON(doc(t, c.want))); got != want {
			t.Errorf("%s:\n got %s\nwant %s", c.ops, got, want)
		}
	}
}

func toAnyList(l []map[string]any) []any {
	out := make([]any, len(l))
	for i, m := range l {
		out[i] = m
	}
	return out
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

func FuzzPatch(f *testing.F) {
	for _, s := range []string{
		`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"emails[type eq \"work\"].value","value":"x@y"}]}`,
		`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","value":{"active":"False","name.givenName":"G"}}]}`,
		`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"remove","path":"members[value eq \"u1\"]"}]}`,
		`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":"m"}]}`,
		`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"members","value":[{"value":"u2"}]},{"op":"remove","path":"members","value":[{"value":"u1"}]}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		body, err := parseBody(b)
		if err != nil {
			return
		}
		ops, err := parsePatch(body)
		if err != nil {
			checkErr(t, err)
			return
		}
		for _, res := range []*resource{userResource, groupResource} {
			d := doc(t, `{"userName":"b","displayName":"B","name":{"givenName":"B","familyName":"J"},"emails":[{"value":"b@x","type":"work"}],"active":true,"members":[{"value":"u1"}]}`)
			for _, op := range ops {
				if err := applyPatch(res, d, op); err != nil {
					checkErr(t, err)
					break
				}
			}
			// Whatever a PATCH leaves is a document the store can take.
			if _, err := json.Marshal(d); err != nil {
				t.Fatal(err)
			}
			again, err := normalize(res, d, false)
			if err != nil {
				checkErr(t, err)
				continue
			}
			if res == userResource {
				var u1, u2 = userFromDoc(again), userFromDoc(again)
				if !reflect.DeepEqual(u1, u2) {
					t.Fatal("conversion is not deterministic")
				}
			}
		}
	})
}

func checkErr(t *testing.T, err error) {
	var e *Error
	if !errors.As(err, &e) || e.Status != 400 {
		t.Fatalf("error %v is not a 400 SCIM error", err)
	}
}

func userFromDoc(d map[string]any) store.User {
	var u store.User
	fromUserDoc(d, &u, "SCIM")
	return u
}
