package scim

import (
	"encoding/json"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Filters (RFC 7644 section 3.4.2.2), also used inside PATCH paths:
//
//	FILTER    = attrExp / logExp / valuePath / ["not"] "(" FILTER ")"
//	valuePath = attrPath "[" valFilter "]"
//	attrExp   = attrPath "pr" / attrPath compareOp compValue
//	logExp    = FILTER ("and" / "or") FILTER      ; "and" binds tighter
//	attrPath  = [URI ":"] ATTRNAME ["." subAttr]
//
// A tokenizer feeds a recursive-descent parser; the result is a tree that
// matches resources in their JSON form (map[string]any with canonical names).

const (
	maxFilterLen   = 8192
	maxFilterDepth = 32
)

type tokenKind int

const (
	tokEOF tokenKind = iota
	tokWord
	tokString
	tokNumber
	tokLParen
	tokRParen
	tokLBracket
	tokRBracket
)

type token struct {
	kind tokenKind
	text string // the word, the decoded string, or the number as written
	pos  int
}

// tokenize splits a filter into tokens.
func tokenize(s string) ([]token, error) {
	var out []token
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '(':
			out = append(out, token{tokLParen, "(", i})
			i++
		case c == ')':
			out = append(out, token{tokRParen, ")", i})
			i++
		case c == '[':
			out = append(out, token{tokLBracket, "[", i})
			i++
		case c == ']':
			out = append(out, token{tokRBracket, "]", i})
			i++
		case c == '"':
			j, esc := i+1, false
			for ; j < len(s); j++ {
				if esc {
					esc = false
				} else if s[j] == '\\' {
					esc = true
				} else if s[j] == '"' {
					break
				}
			}
			if j >= len(s) {
				return nil, fmt.Errorf("unterminated string at %d", i)
			}
			var v string
			if err := json.Unmarshal([]byte(s[i:j+1]), &v); err != nil {
				return nil, fmt.Errorf("invalid string at %d", i)
			}
			out = append(out, token{tokString, v, i})
			i = j + 1
		case c == '-' || (c >= '0' && c <= '9'):
			j := i + 1
			for j < len(s) && strings.IndexByte("0123456789.eE+-", s[j]) >= 0 {
				j++
			}
			if !json.Valid([]byte(s[i:j])) {
				return nil, fmt.Errorf("invalid number %q at %d", s[i:j], i)
			}
			out = append(out, token{tokNumber, s[i:j], i})
			i = j
		case isWordByte(c):
			j := i + 1
			for j < len(s) && isWordByte(s[j]) {
				j++
			}
			out = append(out, token{tokWord, s[i:j], i})
			i = j
		default:
			r, _ := utf8.DecodeRuneInString(s[i:])
			return nil, fmt.Errorf("unexpected character %q at %d", r, i)
		}
	}
	return append(out, token{tokEOF, "", len(s)}), nil
}

// isWordByte: attribute names, URNs (with ':' and '.'), keywords.
func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '$' || c == '.' || c == ':'
}

// attrPath names an attribute: in an extension (URN), a top-level one, and
// optionally one of its sub-attributes.
type attrPath struct {
	URN  string // canonical URN of an extension, "" for the core schema
	Attr string
	Sub  string
	def  *attr // the attribute's definition, nil when unknown
	sdef *attr // the sub-attribute's, nil when unknown or none
}

func (p attrPath) String() string {
	s := p.Attr
	if p.URN != "" {
		s = p.URN + ":" + s
	}
	if p.Sub != "" {
		s += "." + p.Sub
	}
	return s
}

// caseExact reports how strings of the path compare.
func (p attrPath) caseExact() bool {
	if p.sdef != nil {
		return p.sdef.CaseExact
	}
	return p.Sub == "" && p.def != nil && (p.def.CaseExact || p.def.Multi && p.def.sub("value") != nil && p.def.sub("value").CaseExact)
}

// scope resolves attribute names: a resource's, or a multi-valued
// attribute's sub-attributes inside a value filter.
type scope struct {
	res    *resource
	parent *attr
}

// parsePath parses an attribute path word.
func (sc scope) parsePath(word string) (attrPath, error) {
	var p attrPath
	rest := word
	if sc.parent == nil && strings.Contains(word, ":") {
		s, r, ok := sc.res.splitURN(word)
		if !ok || r == "" {
			return p, fmt.Errorf("unknown schema in %q", word)
		}
		if s != sc.res.Schema {
			p.URN = s.ID
		}
		rest = r
	}
	name, sub, hasSub := strings.Cut(rest, ".")
	if !validName(name) || hasSub && !validName(sub) {
		return p, fmt.Errorf("invalid attribute path %q", word)
	}
	p.Attr, p.Sub = name, sub
	switch {
	case sc.parent != nil:
		if hasSub {
			return p, fmt.Errorf("invalid attribute path %q", word)
		}
		p.def = sc.parent.sub(name)
	case p.URN != "":
		p.def = find(sc.res.ext(p.URN).Attrs, name)
	default:
		p.def = sc.res.attr(name)
		if p.def == nil {
			// An extension's attribute named without its URN (AWS's
			// "manager"), when no core attribute has the name.
			for _, ext := range sc.res.Exts {
				if d := find(ext.Attrs, name); d != nil {
					p.URN, p.def = ext.ID, d
					break
				}
			}
		}
	}
	if p.def != nil {
		p.Attr = p.def.Name
		if hasSub {
			p.sdef = p.def.sub(sub)
			if p.sdef != nil {
				p.Sub = p.sdef.Name
			}
		}
	}
	return p, nil
}

func validName(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c == '$' || i > 0 && (c >= '0' && c <= '9' || c == '-')) {
			return false
		}
	}
	return true
}

// filter is a parsed filter.
type filter interface {
	match(node map[string]any) bool
	String() string
}

type (
	compare struct {
		path  attrPath
		op    string // eq ne co sw ew gt lt ge le
		value any    // string, bool, json.Number, nil
	}
	present struct{ path attrPath }
	logical struct {
		op   string
		l, r filter
	} // and | or
	negation  struct{ f filter }
	valueExpr struct {
		path attrPath // a multi-valued attribute
		f    filter   // over its values
	}
)

var compareOps = map[string]bool{"eq": true, "ne": true, "co": true, "sw": true, "ew": true, "gt": true, "lt": true, "ge": true, "le": true}

// parseFilter parses a filter over resource res.
func parseFilter(res *resource, s string) (filter, error) {
	if len(s) > maxFilterLen {
		return nil, badRequest(invalidFilter, "the filter is longer than %d characters", maxFilterLen)
	}
	toks, err := tokenize(s)
	if err != nil {
		return nil, badRequest(invalidFilter, "%v", err)
	}
	p := &parser{toks: toks}
	f, err := p.or(scope{res: res}, 0)
	if err == nil && p.peek().kind != tokEOF {
		err = fmt.Errorf("unexpected %q at %d", p.peek().text, p.peek().pos)
	}
	if err != nil {
		return nil, badRequest(invalidFilter, "%v", err)
	}
	return f, nil
}

type parser struct {
	toks []token
	i    int
}

func (p *parser) peek() token { return p.toks[p.i] }

func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tokEOF {
		p.i++
	}
	return t
}

func (p *parser) keyword(k string) bool {
	t := p.peek()
	return t.kind == tokWord && strings.EqualFold(t.text, k)
}

func (p *parser) or(sc scope, depth int) (filter, error) {
	l, err := p.and(sc, depth)
	for err == nil && p.keyword("or") {
		p.next()
		var r filter
		if r, err = p.and(sc, depth); err == nil {
			l = &logical{op: "or", l: l, r: r}
		}
	}
	return l, err
}

func (p *parser) and(sc scope, depth int) (filter, error) {
	l, err := p.unary(sc, depth)
	for err == nil && p.keyword("and") {
		p.next()
		var r filter
		if r, err = p.unary(sc, depth); err == nil {
			l = &logical{op: "and", l: l, r: r}
		}
	}
	return l, err
}

func (p *parser) unary(sc scope, depth int) (filter, error) {
	if depth > maxFilterDepth {
		return nil, fmt.Errorf("the filter nests deeper than %d", maxFilterDepth)
	}
	if p.keyword("not") && p.toks[p.i+1].kind == tokLParen {
		p.next()
		f, err := p.group(sc, depth)
		if err != nil {
			return nil, err
		}
		return &negation{f: f}, nil
	}
	if p.peek().kind == tokLParen {
		return p.group(sc, depth)
	}
	t := p.next()
	if t.kind != tokWord {
		return nil, fmt.Errorf("expected an attribute at %d", t.pos)
	}
	path, err := sc.parsePath(t.text)
	if err != nil {
		return nil, err
	}
	if p.peek().kind == tokLBracket {
		if sc.parent != nil || path.Sub != "" {
			return nil, fmt.Errorf("a value filter cannot be nested (at %d)", p.peek().pos)
		}
		p.next()
		inner, err := p.or(scope{res: sc.res, parent: path.def}, depth+1)
		if err != nil {
			return nil, err
		}
		if t := p.next(); t.kind != tokRBracket {
			return nil, fmt.Errorf("expected ] at %d", t.pos)
		}
		return &valueExpr{path: path, f: inner}, nil
	}
	op := p.next()
	if op.kind != tokWord {
		return nil, fmt.Errorf("expected an operator after %s at %d", t.text, op.pos)
	}
	o := strings.ToLower(op.text)
	if o == "pr" {
		return &present{path: path}, nil
	}
	if !compareOps[o] {
		return nil, fmt.Errorf("unknown operator %q at %d", op.text, op.pos)
	}
	v := p.next()
	var value any
	switch {
	case v.kind == tokString:
		value = v.text
	case v.kind == tokNumber:
		value = json.Number(v.text)
	case v.kind == tokWord && strings.EqualFold(v.text, "true"):
		value = true
	case v.kind == tokWord && strings.EqualFold(v.text, "false"):
		value = false
	case v.kind == tokWord && strings.EqualFold(v.text, "null"):
		value = nil
	default:
		return nil, fmt.Errorf("expected a value after %s at %d", op.text, v.pos)
	}
	if _, isBool := value.(bool); (isBool || value == nil) && o != "eq" && o != "ne" {
		return nil, fmt.Errorf("%s cannot compare with %v", o, value)
	}
	return &compare{path: path, op: o, value: value}, nil
}

func (p *parser) group(sc scope, depth int) (filter, error) {
	p.next() // (
	f, err := p.or(sc, depth+1)
	if err != nil {
		return nil, err
	}
	if t := p.next(); t.kind != tokRParen {
		return nil, fmt.Errorf("expected ) at %d", t.pos)
	}
	return f, nil
}

// --- rendering (canonical, re-parseable)

func (c *compare) String() string {
	v, _ := json.Marshal(c.value)
	if n, ok := c.value.(json.Number); ok {
		v = []byte(n.String())
	}
	return c.path.String() + " " + c.op + " " + string(v)
}
func (c *present) String() string   { return c.path.String() + " pr" }
func (c *logical) String() string   { return "(" + c.l.String() + " " + c.op + " " + c.r.String() + ")" }
func (c *negation) String() string  { return "not (" + c.f.String() + ")" }
func (c *valueExpr) String() string { return c.path.String() + "[" + c.f.String() + "]" }

// --- matching

// get finds key in m ignoring case.
func get(m map[string]any, key string) (any, bool) {
	if v, ok := m[key]; ok {
		return v, true
	}
	for k, v := range m {
		if strings.EqualFold(k, key) {
			return v, true
		}
	}
	return nil, false
}

// values lists the values path names in node: several for a multi-valued
// attribute (its "value" sub-attribute when no sub-attribute is named).
func (p attrPath) values(node map[string]any) []any {
	base := node
	if p.URN != "" {
		ext, _ := get(node, p.URN)
		if base, _ = ext.(map[string]any); base == nil {
			return nil
		}
	}
	v, ok := get(base, p.Attr)
	if !ok || v == nil {
		return nil
	}
	subOf := func(x any) (any, bool) {
		m, ok := x.(map[string]any)
		if !ok {
			return nil, false
		}
		return get(m, p.Sub)
	}
	if list, ok := v.([]any); ok {
		var out []any
		for _, x := range list {
			if p.Sub == "" {
				if m, ok := x.(map[string]any); ok {
					x, _ = get(m, "value")
				}
				out = append(out, x)
			} else if s, ok := subOf(x); ok {
				out = append(out, s)
			}
		}
		return out
	}
	if p.Sub == "" {
		if m, ok := v.(map[string]any); ok { // a complex attribute stands for its value (manager eq "…")
			x, _ := get(m, "value")
			return []any{x}
		}
		return []any{v}
	}
	if s, ok := subOf(v); ok {
		return []any{s}
	}
	return nil
}

func (c *present) match(node map[string]any) bool {
	for _, v := range c.path.values(node) {
		switch x := v.(type) {
		case nil:
		case string:
			if x != "" {
				return true
			}
		case []any:
			if len(x) > 0 {
				return true
			}
		case map[string]any:
			if len(x) > 0 {
				return true
			}
		default:
			return true
		}
	}
	return false
}

func (c *compare) match(node map[string]any) bool {
	vals := c.path.values(node)
	if c.value == nil {
		// eq null: no value; ne null: some value.
		return (len(vals) == 0) == (c.op == "eq")
	}
	if c.op == "ne" {
		for _, v := range vals {
			if compareValue(v, "eq", c.value, c.path.caseExact()) {
				return false
			}
		}
		return true
	}
	for _, v := range vals {
		if compareValue(v, c.op, c.value, c.path.caseExact()) {
			return true
		}
	}
	return false
}

func compareValue(have any, op string, want any, caseExact bool) bool {
	switch w := want.(type) {
	case bool:
		h, ok := asBool(have)
		return ok && h == w
	case json.Number:
		h, ok1 := asNumber(have)
		x, ok2 := new(big.Float).SetString(w.String())
		if !ok1 || !ok2 {
			return false
		}
		return ordered(op, h.Cmp(x))
	case string:
		h, ok := have.(string)
		if !ok {
			if b, isBool := have.(bool); isBool {
				h = strconv.FormatBool(b)
			} else if n, isNum := have.(json.Number); isNum {
				h = n.String()
			} else {
				return false
			}
		}
		if !caseExact {
			h, w = strings.ToLower(h), strings.ToLower(w)
		}
		switch op {
		case "eq":
			return h == w
		case "co":
			return strings.Contains(h, w)
		case "sw":
			return strings.HasPrefix(h, w)
		case "ew":
			return strings.HasSuffix(h, w)
		}
		return ordered(op, strings.Compare(h, w))
	}
	return false
}

func ordered(op string, c int) bool {
	switch op {
	case "eq":
		return c == 0
	case "gt":
		return c > 0
	case "ge":
		return c >= 0
	case "lt":
		return c < 0
	case "le":
		return c <= 0
	}
	return false
}

func asBool(v any) (bool, bool) {
	switch x := v.(type) {
	case bool:
		return x, true
	case string:
		b, err := strconv.ParseBool(x)
		return b, err == nil
	}
	return false, false
}

func asNumber(v any) (*big.Float, bool) {
	var s string
	switch x := v.(type) {
	case json.Number:
		s = x.String()
	case string:
		s = x
	case float64:
		return big.NewFloat(x), true
	default:
		return nil, false
	}
	f, ok := new(big.Float).SetString(s)
	return f, ok
}

func (c *logical) match(node map[string]any) bool {
	if c.op == "and" {
		return c.l.match(node) && c.r.match(node)
	}
	return c.l.match(node) || c.r.match(node)
}

func (c *negation) match(node map[string]any) bool { return !c.f.match(node) }

func (c *valueExpr) match(node map[string]any) bool {
	base := node
	if c.path.URN != "" {
		ext, _ := get(node, c.path.URN)
		if base, _ = ext.(map[string]any); base == nil {
			return false
		}
	}
	v, _ := get(base, c.path.Attr)
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			if m, ok := e.(map[string]any); ok && c.f.match(m) {
				return true
			}
		}
	case map[string]any:
		return c.f.match(x)
	}
	return false
}

// --- what an index can answer

// equality finds, in f or an "and" chain of it, an eq test of a string on
// one of names (canonical attribute names): a lookup an index can answer,
// leaving the whole filter to be checked on what it finds.
func equality(f filter, names ...string) (name, value string, ok bool) {
	switch x := f.(type) {
	case *compare:
		s, isString := x.value.(string)
		if x.op == "eq" && isString && x.path.URN == "" && x.path.def != nil {
			full := x.path.Attr
			if x.path.Sub != "" {
				full += "." + x.path.Sub
			}
			for _, n := range names {
				if n == full {
					return n, s, true
				}
			}
		}
	case *logical:
		if x.op == "and" {
			if n, v, ok := equality(x.l, names...); ok {
				return n, v, true
			}
			return equality(x.r, names...)
		}
	}
	return "", "", false
}

// mentions reports whether f tests the attribute name (canonical).
func mentions(f filter, name string) bool {
	switch x := f.(type) {
	case *compare:
		return x.path.URN == "" && x.path.Attr == name
	case *present:
		return x.path.URN == "" && x.path.Attr == name
	case *valueExpr:
		return x.path.URN == "" && x.path.Attr == name
	case *logical:
		return mentions(x.l, name) || mentions(x.r, name)
	case *negation:
		return mentions(x.f, name)
	}
	return false
}
