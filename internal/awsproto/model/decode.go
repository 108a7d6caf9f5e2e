package model

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/atrium-sso/atrium/internal/apierr"
)

// DecodeJSON reads an awsJson1.1 / restJson1 request body as the shape and
// validates it. An empty body is {}. The result holds only modelled
// members, with json.Number for numbers and epoch seconds for timestamps.
// Members bound to headers, query string or URI are not read from the body
// (see DecodeREST). A nil shape (operation without input) accepts any object.
func (s *Shape) DecodeJSON(body []byte) (map[string]any, error) {
	m, err := decodeObject(body)
	if err != nil {
		return nil, err
	}
	s.dropBound(m)
	return s.finish(m)
}

// DecodeREST builds a restJson1 input from the body plus the members the
// model binds to headers, query parameters and URI labels (labels as the
// router extracted them), then validates it.
func (s *Shape) DecodeREST(body []byte, header http.Header, query url.Values, labels map[string]string) (map[string]any, error) {
	m, err := decodeObject(body)
	if err != nil {
		return nil, err
	}
	s.dropBound(m)
	for _, name := range s.memberOrder() {
		mem := s.Members[name]
		p := &path{name: mem.path}
		var v any
		switch mem.Location {
		case "header":
			if vals := header.Values(mem.LocationName); len(vals) > 0 {
				v, err = fromText(mem.Shape, strings.Join(vals, ","), true, p)
			}
		case "headers":
			hm := map[string]any{}
			for k, vals := range header {
				if len(k) >= len(mem.LocationName) && strings.EqualFold(k[:len(mem.LocationName)], mem.LocationName) {
					hm[k[len(mem.LocationName):]] = strings.Join(vals, ",")
				}
			}
			if len(hm) > 0 {
				v = hm
			}
		case "querystring":
			if vals, ok := query[mem.LocationName]; ok && len(vals) > 0 {
				if mem.Shape.Type == "list" {
					l := make([]any, len(vals))
					for i, x := range vals {
						if l[i], err = fromText(mem.Shape.Member, x, false, &path{parent: p, index: i + 1}); err != nil {
							break
						}
					}
					v = l
				} else {
					v, err = fromText(mem.Shape, vals[0], false, p)
				}
			}
		case "uri":
			if x, ok := labels[mem.LocationName]; ok {
				v, err = fromText(mem.Shape, x, false, p)
			}
		default:
			continue
		}
		if err != nil {
			return nil, err
		}
		if v != nil {
			m[name] = v
		}
	}
	return s.finish(m)
}

// finish validates a decoded value, normalizing it in place.
func (s *Shape) finish(m map[string]any) (map[string]any, error) {
	if s == nil {
		clear(m) // the operation takes no input; AWS ignores what was sent
		return m, nil
	}
	w := walker{fix: true}
	if _, err := w.walk(s, m, nil); err != nil {
		return nil, err
	}
	return m, w.err()
}

// dropBound removes body keys that name members carried outside the body.
func (s *Shape) dropBound(m map[string]any) {
	if s == nil {
		return
	}
	for name, mem := range s.Members {
		if mem.Location != "" {
			delete(m, name)
		}
	}
}

func decodeObject(body []byte) (map[string]any, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return map[string]any{}, nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, apierr.Serialization("The request body is not valid JSON")
	}
	if len(bytes.TrimSpace(body[dec.InputOffset():])) != 0 {
		return nil, apierr.Serialization("Unexpected content after the JSON object in the request body")
	}
	m, ok := v.(map[string]any)
	if !ok {
		if v == nil {
			return nil, apierr.Serialization("The request body must be a JSON object, not null")
		}
		return nil, typeError(v, "a Structure", nil)
	}
	return m, nil
}

// DecodeQuery turns an awsQuery form into the value DecodeJSON would return
// for the same input, then validates it. Keys follow botocore's
// QuerySerializer: "Prefix.Member", lists "Name.member.N" (flattened
// "Name.N"), maps "Name.entry.N.key"/".value" (flattened "Name.N.key"),
// with the model's locationName replacing a name where given; "Name=" is an
// empty list. Unknown keys (Action, Version, ...) are ignored.
func (s *Shape) DecodeQuery(form url.Values) (map[string]any, error) {
	if s == nil {
		return map[string]any{}, nil
	}
	root := &qnode{}
	for k, vals := range form {
		n := root
		for part := range strings.SplitSeq(k, ".") {
			n = n.child(part)
		}
		if len(vals) > 0 {
			n.val, n.set = vals[0], true
		}
	}
	v, err := fromQuery(s, root, false, nil)
	if err != nil {
		return nil, err
	}
	m, _ := v.(map[string]any)
	if m == nil {
		m = map[string]any{}
	}
	return s.finish(m)
}

// qnode is one dotted segment of the form's keys.
type qnode struct {
	val  string
	set  bool
	kids map[string]*qnode
}

func (n *qnode) child(name string) *qnode {
	if n.kids == nil {
		n.kids = map[string]*qnode{}
	}
	c := n.kids[name]
	if c == nil {
		c = &qnode{}
		n.kids[name] = c
	}
	return c
}

// items returns the numbered children of n in index order (1-based; gaps
// are closed up, non-numeric segments ignored).
func (n *qnode) items() []*qnode {
	idx := make([]int, 0, len(n.kids))
	for k := range n.kids {
		if i, err := strconv.Atoi(k); err == nil && i > 0 && strconv.Itoa(i) == k {
			idx = append(idx, i)
		}
	}
	slices.Sort(idx)
	out := make([]*qnode, len(idx))
	for j, i := range idx {
		out[j] = n.kids[strconv.Itoa(i)]
	}
	return out
}

// queryName is the form key of a structure member.
func (m *Member) queryName() string {
	if (m.Flattened || m.Shape.Flattened) && m.Shape.Type == "list" && m.Shape.MemberLocationName != "" {
		return m.Shape.MemberLocationName // a flattened list takes its element's name
	}
	if m.LocationName != "" {
		return m.LocationName
	}
	return m.Name
}

// fromQuery converts the form subtree n to the shape's generic value; nil
// means absent.
func fromQuery(s *Shape, n *qnode, flat bool, p *path) (any, error) {
	switch s.Type {
	case "structure":
		if n.kids == nil {
			if n.val != "" {
				return nil, typeError(n.val, "a Structure", p)
			}
			return map[string]any{}, nil
		}
		m := map[string]any{}
		for _, name := range s.MemberOrder {
			mem := s.Members[name]
			c := n.kids[mem.queryName()]
			if c == nil {
				continue
			}
			v, err := fromQuery(mem.Shape, c, mem.Flattened || mem.Shape.Flattened, &path{parent: p, name: mem.path})
			if err != nil {
				return nil, err
			}
			if v != nil {
				m[name] = v
			}
		}
		return m, nil
	case "list":
		if n.kids == nil {
			if n.val != "" {
				return nil, typeError(n.val, "a List", p)
			}
			return []any{}, nil // "Name=" is how awsQuery sends an empty list
		}
		if !flat {
			name := s.MemberLocationName
			if name == "" {
				name = "member"
			}
			if n = n.kids[name]; n == nil {
				return nil, nil
			}
		}
		items := n.items()
		l := make([]any, 0, len(items))
		for i, c := range items {
			v, err := fromQuery(s.Member, c, s.Member.Flattened, &path{parent: p, index: i + 1})
			if err != nil {
				return nil, err
			}
			l = append(l, v)
		}
		return l, nil
	case "map":
		if n.kids == nil {
			if n.val != "" {
				return nil, typeError(n.val, "a Map", p)
			}
			return map[string]any{}, nil
		}
		if !flat {
			if n = n.kids["entry"]; n == nil {
				return nil, nil
			}
		}
		kn, vn := cmpOr(s.KeyLocationName, "key"), cmpOr(s.ValueLocationName, "value")
		m := map[string]any{}
		for _, e := range n.items() {
			k := e.kids[kn]
			if k == nil || !k.set {
				return nil, apierr.Serialization("Map entry without a key%s", at(p))
			}
			if !utf8.ValidString(k.val) {
				return nil, apierr.Serialization("Invalid UTF-8 in map key%s", at(p))
			}
			var v any
			if c := e.kids[vn]; c != nil {
				var err error
				if v, err = fromQuery(s.Value, c, s.Value.Flattened, &path{parent: p, name: k.val, entry: true}); err != nil {
					return nil, err
				}
			}
			m[k.val] = v
		}
		return m, nil
	}
	if !n.set {
		if n.kids != nil {
			return nil, apierr.Serialization("Start of structure or map found where not expected%s", at(p))
		}
		return nil, nil
	}
	return fromText(s, n.val, false, p)
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// fromText converts a scalar sent as text (awsQuery values, restJson
// headers, query parameters and labels) to the generic value.
func fromText(s *Shape, text string, header bool, p *path) (any, error) {
	if !utf8.ValidString(text) {
		return nil, apierr.Serialization("Invalid UTF-8%s", at(p))
	}
	want := typeNames[s.Type]
	switch s.Type {
	case "string", "blob":
		return scalar(s, text, p)
	case "boolean":
		switch strings.ToLower(text) {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
	case "integer", "long", "byte", "short", "bigInteger":
		bits := intBits[s.Type]
		if bits == 0 {
			bits = 64
		}
		if i, err := strconv.ParseInt(text, 10, bits); err == nil { // as strict as Java's parseInt
			return json.Number(strconv.FormatInt(i, 10)), nil
		}
	case "float", "double", "bigDecimal":
		if text == "NaN" || text == "Infinity" || text == "-Infinity" {
			return text, nil
		}
		if text != "" && (text[0] == '-' || text[0] >= '0' && text[0] <= '9') && json.Valid([]byte(text)) {
			if f, err := strconv.ParseFloat(text, 64); err == nil {
				return json.Number(strconv.FormatFloat(f, 'f', -1, 64)), nil
			}
		}
	case "timestamp":
		if t, err := parseTime(text); err == nil {
			return epoch(t), nil
		}
	case "list":
		if header { // a header list is comma-separated
			var l []any
			for part := range strings.SplitSeq(text, ",") {
				v, err := fromText(s.Member, strings.TrimSpace(part), true, &path{parent: p, index: len(l) + 1})
				if err != nil {
					return nil, err
				}
				l = append(l, v)
			}
			return l, nil
		}
		want = "a List"
	default:
		want = "a " + s.Type
	}
	return nil, apierr.Serialization("STRING_VALUE can not be converted to %s%s", want, at(p))
}

// Hidden is what Redact puts in place of sensitive values (CloudTrail's text).
const Hidden = "HIDDEN_DUE_TO_SECURITY_REASONS"

// Redact returns a deep copy of v with every value of a sensitive shape
// replaced by Hidden, for audit records. Values that do not fit the shape
// are copied as they are.
func (s *Shape) Redact(v any) any {
	switch {
	case v == nil:
		return nil
	case s == nil || !s.hidden:
		return deepCopy(v)
	case s.Sensitive:
		return Hidden
	}
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			switch {
			case s.Type == "map" && s.Key.Sensitive:
				return Hidden // keys cannot be hidden one by one
			case s.Type == "map":
				out[k] = s.Value.Redact(e)
			case s.Members[k] != nil:
				out[k] = s.Members[k].Shape.Redact(e)
			default:
				out[k] = deepCopy(e)
			}
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = s.Member.Redact(e)
		}
		return out
	}
	return v
}

func deepCopy(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = deepCopy(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = deepCopy(e)
		}
		return out
	}
	return v
}
