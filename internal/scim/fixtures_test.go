package scim_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/identitystore"
)

// fixture is a recorded conversation of one identity provider: the
// requests its public documentation shows, in order, with what they must
// answer. testdata/README.md lists where each comes from.
type fixture struct {
	Client, Source, Note string
	Steps                []struct {
		Name          string
		Method, Path  string
		Body          json.RawMessage
		Status        int
		Save          string
		Expect        json.RawMessage
		Members       *int // members' count in the answer; -1: no members attribute
		Identitystore string
		ID            string
		Extensions    bool
	}
}

func TestRecordedClientRequests(t *testing.T) {
	files, err := filepath.Glob("testdata/*.json")
	if err != nil || len(files) < 3 {
		t.Fatalf("fixtures: %v, %v", files, err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".json"), func(t *testing.T) {
			raw, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var f fixture
			if err := json.Unmarshal(raw, &f); err != nil {
				t.Fatal(err)
			}
			if f.Source == "" || f.Client == "" {
				t.Fatalf("%s: a fixture names its client and its source", file)
			}
			backends(t, func(t *testing.T, n *node) { runFixture(t, n, &f) })
		})
	}
}

func runFixture(t *testing.T, n *node, f *fixture) {
	saved := map[string]string{}
	fill := func(s string) string {
		for k, v := range saved {
			s = strings.ReplaceAll(s, "{{"+k+"}}", v)
		}
		return s
	}
	ids := identitystore.NewFromConfig(n.aws)
	for i, st := range f.Steps {
		if st.Identitystore != "" {
			var out any
			var err error
			id := fill(st.ID)
			if st.Identitystore == "user" {
				in := &identitystore.DescribeUserInput{IdentityStoreId: &n.storeID, UserId: &id}
				if st.Extensions {
					in.Extensions = []string{"aws:identitystore:enterprise"}
				}
				var o *identitystore.DescribeUserOutput
				o, err = ids.DescribeUser(context.Background(), in)
				if err == nil {
					m := toMap(t, o)
					if len(o.Extensions) > 0 {
						exts := map[string]any{}
						for k, d := range o.Extensions {
							var v any
							d.UnmarshalSmithyDocument(&v)
							exts[k] = v
						}
						m["Extensions"] = exts
					}
					out = m
				}
			} else {
				var o *identitystore.DescribeGroupOutput
				o, err = ids.DescribeGroup(context.Background(), &identitystore.DescribeGroupInput{IdentityStoreId: &n.storeID, GroupId: &id})
				out = toMap(t, o)
			}
			if err != nil {
				t.Fatalf("step %d: identitystore %s %s: %v", i, st.Identitystore, id, err)
			}
			var want any
			json.Unmarshal([]byte(fill(string(st.Expect))), &want)
			if path, ok := subset(want, out); !ok {
				t.Fatalf("step %d: identitystore %s differs at %s: %v", i, st.Identitystore, path, out)
			}
			continue
		}
		var body any
		if len(st.Body) > 0 {
			body = fill(string(st.Body))
		}
		r := n.do(st.Method, fill(st.Path), body)
		if r.status != st.Status {
			t.Fatalf("step %d (%s) %s %s: status %d, want %d: %s", i, st.Name, st.Method, fill(st.Path), r.status, st.Status, r.raw)
		}
		if st.Save != "" {
			saved[st.Save] = r.str("id")
		}
		if len(st.Expect) > 0 {
			var want any
			json.Unmarshal([]byte(fill(string(st.Expect))), &want)
			if path, ok := subset(want, any(r.body)); !ok {
				t.Fatalf("step %d (%s): answer differs at %s: %s", i, st.Name, path, r.raw)
			}
		}
		if st.Members != nil {
			m, has := r.body["members"].([]any)
			if *st.Members < 0 && has || *st.Members >= 0 && len(m) != *st.Members {
				t.Fatalf("step %d (%s): members %s, want %d", i, st.Name, r.str("members"), *st.Members)
			}
		}
	}
}

func toMap(t *testing.T, v any) map[string]any {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	json.Unmarshal(b, &m)
	return m
}

// subset reports whether have holds everything in want: objects by key,
// lists element by element in any order (every wanted element matches one
// present), anything else by equality.
func subset(want, have any) (string, bool) {
	switch w := want.(type) {
	case map[string]any:
		h, ok := have.(map[string]any)
		if !ok {
			return "", false
		}
		for k, v := range w {
			if p, ok := subset(v, h[k]); !ok {
				return k + "." + p, false
			}
		}
		return "", true
	case []any:
		h, ok := have.([]any)
		if !ok {
			if len(w) == 0 && have == nil {
				return "", true
			}
			return "", false
		}
		if len(w) == 0 && len(h) != 0 {
			return "(empty)", false
		}
		for i, x := range w {
			found := false
			for _, y := range h {
				if _, ok := subset(x, y); ok {
					found = true
					break
				}
			}
			if !found {
				return "[" + itoa(i) + "]", false
			}
		}
		return "", true
	}
	return "", reflect.DeepEqual(want, have)
}
