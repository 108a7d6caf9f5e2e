package scim

import (
	"encoding/json"
	"slices"
	"strings"
)

// coerce checks v against a and returns it in canonical form: sub-attribute
// names as the schema spells them, booleans sent as "True"/"False" strings
// (Entra ID does) as booleans, one value of a multi-valued attribute as a
// list of one. Unknown sub-attributes are refused when strict (a PATCH names
// what it changes) and dropped otherwise (clients send attributes Identity
// Center does not keep). nil means "no value".
func coerce(a *attr, v any, path string, strict bool) (any, error) {
	if v == nil {
		return nil, nil
	}
	if a.Multi {
		list, ok := v.([]any)
		if !ok {
			list = []any{v}
		}
		out := make([]any, 0, len(list))
		for _, x := range list {
			cx, err := coerceOne(a, x, path, strict)
			if err != nil {
				return nil, err
			}
			if cx != nil {
				out = append(out, cx)
			}
		}
		if len(out) == 0 {
			return nil, nil
		}
		return out, nil
	}
	return coerceOne(a, v, path, strict)
}

func coerceOne(a *attr, v any, path string, strict bool) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch a.Type {
	case "complex":
		m, ok := v.(map[string]any)
		if !ok {
			// A bare value stands for the "value" sub-attribute (Entra ID
			// sends the manager's id alone).
			if s, isString := v.(string); isString && a.sub("value") != nil {
				m = map[string]any{"value": s}
			} else {
				return nil, badRequest(invalidValue, "%s must be an object", path)
			}
		}
		out := make(map[string]any, len(m))
		for k, x := range m {
			sub := a.sub(k)
			if sub == nil {
				if strict {
					return nil, badRequest(invalidPath, "%s has no sub-attribute %s", path, k)
				}
				continue
			}
			if sub.readOnly() && !strict {
				continue
			}
			cx, err := coerceOne(sub, x, path+"."+sub.Name, strict)
			if err != nil {
				return nil, err
			}
			if cx != nil {
				out[sub.Name] = cx
			}
		}
		if len(out) == 0 {
			return nil, nil
		}
		return out, nil
	case "boolean":
		b, ok := asBool(v)
		if !ok {
			return nil, badRequest(invalidValue, "%s must be a boolean", path)
		}
		return b, nil
	default: // string, reference, dateTime
		switch x := v.(type) {
		case string:
			if x == "" {
				return nil, nil
			}
			return x, nil
		case json.Number: // an employee number sent as a number
			return x.String(), nil
		}
		return nil, badRequest(invalidValue, "%s must be a string", path)
	}
}

// normalize turns a request body into a resource document in canonical
// form. Read-only attributes (id, meta, groups) are ignored, as RFC 7644
// section 3.3 says; so are unknown ones unless strict.
func normalize(res *resource, body map[string]any, strict bool) (map[string]any, error) {
	doc := map[string]any{}
	for _, k := range sortedKeys(body) {
		v := body[k]
		if strings.EqualFold(k, "schemas") {
			continue
		}
		if ext := res.ext(k); ext != nil {
			m, ok := v.(map[string]any)
			if v == nil {
				continue
			}
			if !ok {
				return nil, badRequest(invalidValue, "%s must be an object", ext.ID)
			}
			em := map[string]any{}
			for _, ek := range sortedKeys(m) {
				a := find(ext.Attrs, ek)
				if a == nil {
					if strict {
						return nil, badRequest(invalidPath, "%s has no attribute %s", ext.ID, ek)
					}
					continue
				}
				cv, err := coerce(a, m[ek], a.Name, strict)
				if err != nil {
					return nil, err
				}
				if cv != nil {
					em[a.Name] = cv
				}
			}
			if len(em) > 0 {
				doc[ext.ID] = em
			}
			continue
		}
		a := res.attr(k)
		if a == nil {
			if strict {
				return nil, badRequest(invalidPath, "%s is not an attribute of %s", k, res.Name)
			}
			continue
		}
		if a.readOnly() {
			continue
		}
		cv, err := coerce(a, v, a.Name, strict)
		if err != nil {
			return nil, err
		}
		if cv != nil {
			doc[a.Name] = cv
		}
	}
	return doc, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// strOf reads a string attribute of a document ("" when absent).
func strOf(m map[string]any, key string) string {
	s, _ := m[key].(string)
	return s
}

func mapOf(m map[string]any, key string) map[string]any {
	x, _ := m[key].(map[string]any)
	return x
}

func listOf(m map[string]any, key string) []map[string]any {
	l, _ := m[key].([]any)
	out := make([]map[string]any, 0, len(l))
	for _, x := range l {
		if e, ok := x.(map[string]any); ok {
			out = append(out, e)
		}
	}
	return out
}

func boolPtrOf(m map[string]any, key string) *bool {
	b, ok := m[key].(bool)
	if !ok {
		return nil
	}
	return &b
}

// toDoc is v's JSON as a document, numbers kept as written.
func toDoc(v any) map[string]any {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only our own types, which always marshal
	}
	return decodeDoc(b)
}

func decodeDoc(b []byte) map[string]any {
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.UseNumber()
	var m map[string]any
	if dec.Decode(&m) != nil {
		return nil
	}
	return m
}
