package model

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/atrium-sso/atrium/internal/apierr"
)

// Validate checks a generic value (map[string]any, []any, string,
// json.Number, bool, nil) against the shape. A wrong type is a
// SerializationException; broken constraints are collected into one
// ValidationException worded as AWS words it. v is not modified.
func (s *Shape) Validate(v any) error {
	if s == nil {
		return nil
	}
	if v == nil && s.Type == "structure" {
		v = map[string]any{}
	}
	w := walker{}
	if _, err := w.walk(s, v, nil); err != nil {
		return err
	}
	return w.err()
}

// walker validates one value. With fix set it also normalizes the value in
// place (the decoders own it): nulls and unknown members are dropped,
// integers get their canonical spelling, timestamps become epoch seconds.
type walker struct {
	fix  bool
	errs []string
}

// path locates a value for messages, AWS style: members by their name with
// the first letter lowercased, list items as "name.N.member" (1-based), map
// values as "name.KEY.member". It is only rendered when something fails.
type path struct {
	parent *path
	name   string // member name or map key
	index  int    // list item number, 0 otherwise
	entry  bool   // map value
}

func (p *path) String() string {
	if p == nil {
		return ""
	}
	var parts []string
	for ; p != nil; p = p.parent {
		switch {
		case p.index > 0:
			parts = append(parts, "member", strconv.Itoa(p.index))
		case p.entry:
			parts = append(parts, "member", p.name)
		default:
			parts = append(parts, p.name)
		}
	}
	slices.Reverse(parts)
	return strings.Join(parts, ".")
}

func at(p *path) string {
	if p == nil {
		return ""
	}
	return " at '" + p.String() + "'"
}

const notNull = "Member must not be null"

func (w *walker) violation(p *path, s *Shape, v any, constraint string) {
	var b strings.Builder
	switch {
	case v == nil:
		b.WriteString("Value null")
	case s.hidden:
		b.WriteString("Value") // AWS leaves sensitive values out entirely
	default:
		b.WriteString("Value '")
		render(&b, v)
		b.WriteString("'")
	}
	b.WriteString(" at '" + p.String() + "' failed to satisfy constraint: " + constraint)
	w.errs = append(w.errs, b.String())
}

func (w *walker) err() error {
	switch len(w.errs) {
	case 0:
		return nil
	case 1:
		return apierr.Validation("1 validation error detected: %s", w.errs[0])
	}
	return apierr.Validation("%d validation errors detected: %s", len(w.errs), strings.Join(w.errs, "; "))
}

// render prints a value the way Java's toString does in AWS messages.
func render(b *strings.Builder, v any) {
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case string:
		b.WriteString(x)
	case []any:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteString(", ")
			}
			render(b, e)
		}
		b.WriteByte(']')
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(k + "=")
			render(b, x[k])
		}
		b.WriteByte('}')
	default:
		fmt.Fprint(b, x)
	}
}

func (w *walker) walk(s *Shape, v any, p *path) (any, error) {
	switch s.Type {
	case "structure":
		m, ok := v.(map[string]any)
		if !ok {
			return nil, typeError(v, "a Structure", p)
		}
		return w.structure(s, m, p)
	case "list":
		l, ok := v.([]any)
		if !ok {
			return nil, typeError(v, "a List", p)
		}
		for _, c := range s.violations(l) {
			w.violation(p, s, l, c)
		}
		for i, e := range l {
			ip := &path{parent: p, index: i + 1}
			if e == nil {
				w.violation(ip, s.Member, nil, notNull)
				continue
			}
			ne, err := w.walk(s.Member, e, ip)
			if err != nil {
				return nil, err
			}
			if w.fix {
				l[i] = ne
			}
		}
		return l, nil
	case "map":
		m, ok := v.(map[string]any)
		if !ok {
			return nil, typeError(v, "a Map", p)
		}
		return w.mapValue(s, m, p)
	case "document":
		return v, nil
	}
	nv, err := scalar(s, v, p)
	if err != nil {
		return nil, err
	}
	for _, c := range s.violations(nv) {
		w.violation(p, s, nv, c)
	}
	return nv, nil
}

func (w *walker) structure(s *Shape, m map[string]any, p *path) (any, error) {
	set := 0
	for _, name := range s.MemberOrder {
		mem := s.Members[name]
		v, present := m[name]
		if v == nil {
			if s.required[name] {
				w.violation(&path{parent: p, name: mem.path}, mem.Shape, nil, notNull)
			}
			if present && w.fix {
				delete(m, name)
			}
			continue
		}
		set++
		nv, err := w.walk(mem.Shape, v, &path{parent: p, name: mem.path})
		if err != nil {
			return nil, err
		}
		if w.fix {
			m[name] = nv
		}
	}
	if w.fix && len(m) != set {
		for k := range m {
			if s.Members[k] == nil {
				delete(m, k) // AWS ignores members it does not model
			}
		}
	}
	if s.Union && set != 1 {
		return nil, apierr.Serialization("Union value%s must have exactly one member set, found %d", at(p), set)
	}
	return m, nil
}

// mapValue checks a map. As AWS does, constraints of keys and of scalar
// values are reported once for the whole map ("Map keys must satisfy
// constraint: [...]"), listing every constraint of the key/value shape.
func (w *walker) mapValue(s *Shape, m map[string]any, p *path) (any, error) {
	for _, c := range s.violations(m) {
		w.violation(p, s, m, c)
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys) // deterministic messages
	badKey, badValue, nullValue := false, false, false
	scalarValues := s.Value.Type != "structure" && s.Value.Type != "list" && s.Value.Type != "map" && s.Value.Type != "document"
	for _, k := range keys {
		if len(s.Key.violations(k)) > 0 {
			badKey = true
		}
		v := m[k]
		if v == nil {
			nullValue = true
			continue
		}
		kp := &path{parent: p, name: k, entry: true}
		var nv any
		var err error
		if scalarValues {
			nv, err = scalar(s.Value, v, kp)
			badValue = badValue || err == nil && len(s.Value.violations(nv)) > 0
		} else {
			nv, err = w.walk(s.Value, v, kp)
		}
		if err != nil {
			return nil, err
		}
		if w.fix {
			m[k] = nv
		}
	}
	if badKey {
		w.violation(p, s, m, "Map keys must satisfy constraint: ["+strings.Join(s.Key.constraints(), ", ")+"]")
	}
	if badValue || nullValue {
		cs := s.Value.constraints()
		if nullValue {
			cs = append(cs, notNull)
		}
		w.violation(p, s, m, "Map value must satisfy constraint: ["+strings.Join(cs, ", ")+"]")
	}
	return m, nil
}

// violations lists the constraints of s that v (already of the right Go
// type) breaks, in the order AWS reports them.
func (s *Shape) violations(v any) []string {
	var out []string
	if s.numeric() {
		n, ok := v.(json.Number)
		f, err := n.Float64()
		if !ok || err != nil {
			return nil // NaN and infinities are spelled as strings
		}
		if s.Max != nil && f > *s.Max {
			out = append(out, "Member must have value less than or equal to "+s.bound(*s.Max))
		}
		if s.Min != nil && f < *s.Min {
			out = append(out, "Member must have value greater than or equal to "+s.bound(*s.Min))
		}
		return out
	}
	var n int
	str, isStr := v.(string)
	switch x := v.(type) {
	case string:
		if s.Type == "blob" {
			n = base64.StdEncoding.DecodedLen(len(x)) - strings.Count(x[max(0, len(x)-2):], "=")
		} else {
			n = utf8.RuneCountInString(x) // AWS counts characters, not bytes
		}
	case []any:
		n = len(x)
	case map[string]any:
		n = len(x)
	default:
		return nil
	}
	if s.Max != nil && float64(n) > *s.Max {
		out = append(out, "Member must have length less than or equal to "+s.bound(*s.Max))
	}
	if s.Min != nil && float64(n) < *s.Min {
		out = append(out, "Member must have length greater than or equal to "+s.bound(*s.Min))
	}
	if isStr && s.Type == "string" {
		if s.Pattern != nil && !s.Pattern.MatchString(str) {
			out = append(out, "Member must satisfy regular expression pattern: "+s.PatternText)
		}
		if len(s.Enum) > 0 && !slices.Contains(s.Enum, str) {
			out = append(out, s.enumText())
		}
	}
	return out
}

// constraints lists every constraint of s, as quoted in map messages.
func (s *Shape) constraints() []string {
	var out []string
	kind := "length"
	if s.numeric() {
		kind = "value"
	}
	if s.Max != nil {
		out = append(out, "Member must have "+kind+" less than or equal to "+s.bound(*s.Max))
	}
	if s.Min != nil {
		out = append(out, "Member must have "+kind+" greater than or equal to "+s.bound(*s.Min))
	}
	if s.PatternText != "" {
		out = append(out, "Member must satisfy regular expression pattern: "+s.PatternText)
	}
	if len(s.Enum) > 0 {
		out = append(out, s.enumText())
	}
	return out
}

func (s *Shape) enumText() string {
	return "Member must satisfy enum value set: [" + strings.Join(s.Enum, ", ") + "]"
}

func (s *Shape) numeric() bool {
	switch s.Type {
	case "integer", "long", "float", "double", "byte", "short", "bigInteger", "bigDecimal":
		return true
	}
	return false
}

// bound prints a limit as Java would: lengths and integers plainly,
// floating-point limits with a decimal point (1.0).
func (s *Shape) bound(f float64) string {
	if (s.Type == "float" || s.Type == "double") && f == math.Trunc(f) && math.Abs(f) < 1e7 {
		return strconv.FormatFloat(f, 'f', 1, 64)
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

// typeError is the SerializationException for a value of the wrong JSON
// type, in Coral's wording plus the member's path.
func typeError(v any, want string, p *path) error {
	var tok string
	switch x := v.(type) {
	case map[string]any:
		return apierr.Serialization("Start of structure or map found where not expected%s", at(p))
	case []any:
		return apierr.Serialization("Start of list found where not expected%s", at(p))
	case string:
		tok = "STRING_VALUE"
	case bool:
		tok = "FALSE_VALUE"
		if x {
			tok = "TRUE_VALUE"
		}
	default:
		tok = "NUMBER_VALUE"
	}
	return apierr.Serialization("%s can not be converted to %s%s", tok, want, at(p))
}

var typeNames = map[string]string{
	"string": "a String", "integer": "an Integer", "long": "a Long", "float": "a Float", "double": "a Double",
	"boolean": "a Boolean", "timestamp": "a Timestamp", "blob": "a Blob", "byte": "a Byte", "short": "a Short",
	"bigInteger": "a BigInteger", "bigDecimal": "a BigDecimal",
}

// scalar checks the JSON type of a scalar and returns its normalized form.
func scalar(s *Shape, v any, p *path) (any, error) {
	want := typeNames[s.Type]
	if want == "" {
		want = "a " + s.Type
	}
	switch s.Type {
	case "string":
		if _, ok := v.(string); !ok {
			return nil, typeError(v, want, p)
		}
		return v, nil
	case "boolean":
		if _, ok := v.(bool); !ok {
			return nil, typeError(v, want, p)
		}
		return v, nil
	case "blob":
		str, ok := v.(string)
		if !ok {
			return nil, typeError(v, want, p)
		}
		if _, err := base64.StdEncoding.DecodeString(str); err != nil {
			return nil, apierr.Serialization("Invalid Base64 value%s", at(p))
		}
		return v, nil
	case "integer", "long", "byte", "short", "bigInteger":
		n, ok := toNumber(v)
		if !ok {
			return nil, typeError(v, want, p)
		}
		i, tok := integer(n, s.Type)
		if tok != "" {
			return nil, apierr.Serialization("%s can not be converted to %s%s", tok, want, at(p))
		}
		return i, nil
	case "float", "double", "bigDecimal":
		if str, ok := v.(string); ok && (str == "NaN" || str == "Infinity" || str == "-Infinity") {
			return v, nil // the JSON protocols spell non-finite numbers as strings
		}
		n, ok := toNumber(v)
		if !ok {
			return nil, typeError(v, want, p)
		}
		return n, nil
	case "timestamp":
		if str, ok := v.(string); ok && s.TimestampFormat != "" && s.TimestampFormat != "unixTimestamp" {
			t, err := parseTime(str)
			if err != nil {
				return nil, typeError(v, want, p)
			}
			return epoch(t), nil
		}
		n, ok := toNumber(v) // JSON protocols send epoch seconds
		if !ok {
			return nil, typeError(v, want, p)
		}
		return n, nil
	}
	return v, nil
}

// toNumber accepts json.Number (what the decoders produce) and Go numbers,
// so Validate also works on values built in code.
func toNumber(v any) (json.Number, bool) {
	switch x := v.(type) {
	case json.Number:
		if _, err := x.Float64(); err != nil {
			return "", false
		}
		return x, true
	case float64:
		return json.Number(strconv.FormatFloat(x, 'f', -1, 64)), !math.IsNaN(x) && !math.IsInf(x, 0)
	case int:
		return json.Number(strconv.Itoa(x)), true
	case int64:
		return json.Number(strconv.FormatInt(x, 10)), true
	case int32:
		return json.Number(strconv.FormatInt(int64(x), 10)), true
	}
	return "", false
}

var intBits = map[string]int{"byte": 8, "short": 16, "integer": 32, "long": 64}

// integer canonicalizes an integral number (1, 1.0, 1e2) so it decodes
// into a Go int. On failure it returns the token kind for the message.
func integer(n json.Number, typ string) (json.Number, string) {
	bits := intBits[typ]
	if bits == 0 { // bigInteger: anything that fits the Go side
		bits = 64
	}
	if i, err := strconv.ParseInt(string(n), 10, bits); err == nil {
		return json.Number(strconv.FormatInt(i, 10)), ""
	}
	f, err := n.Float64()
	switch {
	case err != nil || f != math.Trunc(f):
		return "", "DECIMAL_VALUE"
	case f < -math.Ldexp(1, bits-1) || f >= math.Ldexp(1, bits-1):
		return "", "NUMBER_VALUE" // out of range
	}
	return json.Number(strconv.FormatInt(int64(f), 10)), ""
}

// parseTime reads the timestamp spellings AWS protocols use: ISO 8601
// (awsQuery, restJson query strings), HTTP dates (headers), epoch seconds.
func parseTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", time.RFC1123, time.RFC1123Z} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return time.Time{}, fmt.Errorf("bad timestamp %q", s)
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)).UTC(), nil
}

// epoch is t as epoch seconds, the form JSON protocols carry timestamps in.
func epoch(t time.Time) json.Number {
	sec, ns := t.Unix(), t.Nanosecond()
	if ns == 0 {
		return json.Number(strconv.FormatInt(sec, 10))
	}
	sign := ""
	if sec < 0 { // -5.5s is Unix() -6 plus 0.5s
		sign, sec, ns = "-", -(sec + 1), 1e9-ns
	}
	frac := strings.TrimRight(fmt.Sprintf("%09d", ns), "0")
	return json.Number(fmt.Sprintf("%s%d.%s", sign, sec, frac))
}
