package scim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
)

// PATCH (RFC 7644 section 3.5.2) as identity providers send it: ops in
// any case ("Add", "Replace"), with or without a path, value maps whose
// keys are themselves paths ("name.givenName", `emails[type eq "work"].value`),
// filtered paths on multi-valued attributes and the enterprise extension's
// URN-prefixed paths. Operations apply in order to the resource in its
// document form; the result is then checked as a whole, so one bad
// operation fails the request and nothing is stored.

const maxPatchOps = 1000

type patchOp struct {
	Op    string
	Path  string
	Value any
}

// parsePatch reads a PatchOp request body.
func parsePatch(body map[string]any) ([]patchOp, error) {
	if err := requireSchema(body, patchSchema); err != nil {
		return nil, err
	}
	raw, ok := get(body, "Operations")
	list, isList := raw.([]any)
	if !ok || !isList || len(list) == 0 {
		return nil, badRequest(invalidValue, "Operations must be a non-empty list")
	}
	if len(list) > maxPatchOps {
		return nil, badRequest(invalidValue, "at most %d operations per request", maxPatchOps)
	}
	ops := make([]patchOp, len(list))
	for i, x := range list {
		m, ok := x.(map[string]any)
		if !ok {
			return nil, badRequest(invalidSyntax, "Operations[%d] must be an object", i)
		}
		op, _ := get(m, "op")
		opName, _ := op.(string)
		switch strings.ToLower(opName) {
		case "add", "replace", "remove":
		default:
			return nil, badRequest(invalidSyntax, "Operations[%d].op must be add, replace or remove, not %q", i, opName)
		}
		path, _ := get(m, "path")
		p, isString := path.(string)
		if path != nil && !isString {
			return nil, badRequest(invalidPath, "Operations[%d].path must be a string", i)
		}
		v, _ := get(m, "value")
		ops[i] = patchOp{Op: strings.ToLower(opName), Path: strings.TrimSpace(p), Value: v}
	}
	return ops, nil
}

// patchPath is a parsed PATCH path: an attribute, optionally a filter on
// its values, optionally a sub-attribute.
type patchPath struct {
	attr   attrPath // Sub set for "name.givenName" and emails[...].value alike
	filter filter
	extRef *schema // the path is an extension's URN alone
}

func parsePatchPath(res *resource, s string) (patchPath, error) {
	var pp patchPath
	if len(s) > maxFilterLen {
		return pp, badRequest(invalidPath, "the path is too long")
	}
	if ext, rest, ok := res.splitURN(s); ok && rest == "" {
		if ext == res.Schema {
			return pp, badRequest(invalidPath, "the path %q names no attribute", s)
		}
		pp.extRef = ext
		return pp, nil
	}
	toks, err := tokenize(s)
	if err != nil || toks[0].kind != tokWord {
		return pp, badRequest(invalidPath, "invalid path %q", s)
	}
	sc := scope{res: res}
	if pp.attr, err = sc.parsePath(toks[0].text); err != nil {
		return pp, badRequest(invalidPath, "%v", err)
	}
	rest := toks[1:]
	if rest[0].kind == tokLBracket {
		if pp.attr.Sub != "" {
			return pp, badRequest(invalidPath, "invalid path %q", s)
		}
		// The filter is the text between the brackets: find the closing one.
		end := -1
		for i, t := range rest {
			if t.kind == tokRBracket {
				end = i
			}
		}
		if end < 0 {
			return pp, badRequest(invalidPath, "invalid path %q: no ]", s)
		}
		inner := s[rest[0].pos+1 : rest[end].pos]
		if pp.attr.def == nil || !pp.attr.def.Multi {
			return pp, badRequest(invalidPath, "%s is not a multi-valued attribute", pp.attr.Attr)
		}
		f, ferr := parseValueFilter(res, pp.attr.def, inner)
		if ferr != nil {
			return pp, badRequest(invalidPath, "invalid filter in path %q: %v", s, ferr.(*Error).Detail)
		}
		pp.filter = f
		rest = rest[end+1:]
		if rest[0].kind == tokWord && strings.HasPrefix(rest[0].text, ".") {
			sub := rest[0].text[1:]
			if !validName(sub) {
				return pp, badRequest(invalidPath, "invalid path %q", s)
			}
			pp.attr.Sub = sub
			if sd := pp.attr.def.sub(sub); sd != nil {
				pp.attr.Sub, pp.attr.sdef = sd.Name, sd
			}
			rest = rest[1:]
		}
	}
	if rest[0].kind != tokEOF {
		return pp, badRequest(invalidPath, "invalid path %q", s)
	}
	if pp.attr.def == nil || pp.attr.Sub != "" && pp.attr.sdef == nil {
		return pp, badRequest(invalidPath, "%q is not an attribute of %s", s, res.Name)
	}
	return pp, nil
}

// parseValueFilter parses the filter inside brackets, over the values of a.
func parseValueFilter(res *resource, a *attr, s string) (filter, error) {
	toks, err := tokenize(s)
	if err != nil {
		return nil, badRequest(invalidFilter, "%v", err)
	}
	p := &parser{toks: toks}
	f, err := p.or(scope{res: res, parent: a}, 1)
	if err == nil && p.peek().kind != tokEOF {
		err = fmt.Errorf("unexpected %q", p.peek().text)
	}
	if err != nil {
		return nil, badRequest(invalidFilter, "%v", err)
	}
	return f, nil
}

// applyPatch runs one operation on doc.
func applyPatch(res *resource, doc map[string]any, op patchOp) error {
	if op.Path == "" {
		if op.Op == "remove" {
			return badRequest(noTarget, "remove needs a path")
		}
		m, ok := op.Value.(map[string]any)
		if !ok {
			return badRequest(invalidValue, "%s without a path needs an object value", op.Op)
		}
		for _, k := range sortedKeys(m) {
			// Okta repeats the id in a value map; read-only attributes are
			// ignored there, as in a PUT (RFC 7644 section 3.5.1).
			if a := res.attr(k); a != nil && a.readOnly() {
				continue
			}
			if err := applyPatch(res, doc, patchOp{Op: op.Op, Path: k, Value: m[k]}); err != nil {
				return err
			}
		}
		return nil
	}
	pp, err := parsePatchPath(res, op.Path)
	if err != nil {
		return err
	}
	if pp.extRef != nil { // the extension as a whole
		if op.Op == "remove" {
			delete(doc, pp.extRef.ID)
			return nil
		}
		m, ok := op.Value.(map[string]any)
		if !ok {
			return badRequest(invalidValue, "%s needs an object value", pp.extRef.ID)
		}
		for _, k := range sortedKeys(m) {
			if err := applyPatch(res, doc, patchOp{Op: op.Op, Path: pp.extRef.ID + ":" + k, Value: m[k]}); err != nil {
				return err
			}
		}
		return nil
	}
	def := pp.attr.def
	if def.readOnly() || pp.attr.sdef != nil && pp.attr.sdef.readOnly() {
		return badRequest(mutability, "%s is read-only", op.Path)
	}
	if def.Name == "userName" && op.Op == "remove" || def.Name == "active" && op.Op == "remove" {
		return badRequest(mutability, "%s cannot be removed", def.Name)
	}
	container := doc
	if pp.attr.URN != "" {
		container = mapOf(doc, pp.attr.URN)
		if container == nil {
			if op.Op == "remove" {
				return nil
			}
			container = map[string]any{}
			doc[pp.attr.URN] = container
		}
		defer func() {
			if len(container) == 0 {
				delete(doc, pp.attr.URN)
			}
		}()
	}
	name := def.Name
	var value any
	if op.Op != "remove" || op.Value != nil {
		target, tpath := def, name
		if pp.attr.sdef != nil {
			target, tpath = pp.attr.sdef, name+"."+pp.attr.sdef.Name
		} else if pp.filter != nil {
			target = &attr{Name: def.Name, Type: def.Type, Sub: def.Sub} // one value of the list
		}
		if value, err = coerce(target, op.Value, tpath, true); err != nil {
			return err
		}
		if value == nil && op.Op != "remove" {
			// Adding or replacing with nothing (an empty string or list)
			// clears the attribute, as Entra ID and Okta mean it.
			op.Op, op.Value = "remove", nil
		}
	}
	switch {
	case pp.filter == nil && pp.attr.Sub == "":
		return patchWhole(container, def, op.Op, value)
	case pp.filter == nil:
		return patchSub(container, def, pp.attr.sdef, op.Op, value)
	default:
		return patchFiltered(container, def, pp, op.Op, value)
	}
}

// patchWhole changes an attribute as a whole.
func patchWhole(container map[string]any, def *attr, op string, value any) error {
	name := def.Name
	switch {
	case op == "remove" && def.Multi && value != nil:
		// Entra ID removes members by listing them: drop the values that match.
		drop := value.([]any)
		var keep []any
		for _, x := range anyList(container[name]) {
			if !containsValue(drop, x) {
				keep = append(keep, x)
			}
		}
		setOrDelete(container, name, keep)
	case op == "remove":
		delete(container, name)
	case def.Multi && op == "add":
		list := anyList(container[name])
		for _, x := range value.([]any) {
			if !containsValue(list, x) {
				list = append(list, x)
			}
		}
		container[name] = list
	case def.Type == "complex" && !def.Multi:
		// Sub-attributes not given are left as they are (section 3.5.2.3).
		m := mapOf(container, name)
		if m == nil {
			m = map[string]any{}
		}
		for k, v := range value.(map[string]any) {
			m[k] = v
		}
		container[name] = m
	default:
		container[name] = value
	}
	return nil
}

// patchSub changes a sub-attribute: name.givenName, or emails.value on
// every email (creating one when there is none).
func patchSub(container map[string]any, def, sub *attr, op string, value any) error {
	if def.Multi {
		list := listOf(container, def.Name)
		if op == "remove" {
			for _, e := range list {
				delete(e, sub.Name)
			}
		} else if len(list) == 0 {
			list = append(list, map[string]any{sub.Name: value})
		} else {
			for _, e := range list {
				e[sub.Name] = value
			}
		}
		setOrDelete(container, def.Name, mapsToAny(list))
		return nil
	}
	m := mapOf(container, def.Name)
	if m == nil {
		if op == "remove" {
			return nil
		}
		m = map[string]any{}
	}
	if op == "remove" {
		delete(m, sub.Name)
	} else {
		m[sub.Name] = value
	}
	if len(m) == 0 {
		delete(container, def.Name)
	} else {
		container[def.Name] = m
	}
	return nil
}

// patchFiltered changes the values of a multi-valued attribute that match
// the path's filter, or one of their sub-attributes.
func patchFiltered(container map[string]any, def *attr, pp patchPath, op string, value any) error {
	list := listOf(container, def.Name)
	var matched []map[string]any
	var keep []map[string]any
	for _, e := range list {
		if pp.filter.match(e) {
			matched = append(matched, e)
		} else {
			keep = append(keep, e)
		}
	}
	sub := pp.attr.sdef
	switch {
	case op == "remove" && sub == nil:
		setOrDelete(container, def.Name, mapsToAny(keep)) // removing what is not there is done already
		return nil
	case op == "remove":
		for _, e := range matched {
			delete(e, sub.Name)
		}
	case len(matched) == 0 && sub != nil:
		// emails[type eq "work"].value on a user with no work email: Entra
		// ID means "set it", so the value is made from the filter's tests.
		e, ok := equalities(pp.filter)
		if !ok {
			return badRequest(noTarget, "no value of %s matches %s", def.Name, pp.filter)
		}
		e[sub.Name] = value
		list = append(list, e)
	case len(matched) == 0:
		return badRequest(noTarget, "no value of %s matches %s", def.Name, pp.filter)
	case sub != nil:
		for _, e := range matched {
			e[sub.Name] = value
		}
	default:
		m, ok := value.(map[string]any)
		if !ok {
			return badRequest(invalidValue, "%s needs an object value", def.Name)
		}
		for _, e := range matched {
			for k, v := range m {
				e[k] = v
			}
		}
	}
	setOrDelete(container, def.Name, mapsToAny(list))
	return nil
}

// equalities turns a filter made only of "x eq v" joined by "and" into the
// value it describes.
func equalities(f filter) (map[string]any, bool) {
	switch x := f.(type) {
	case *compare:
		if x.op != "eq" || x.value == nil || x.path.def == nil {
			return nil, false
		}
		v, err := coerceOne(x.path.def, x.value, x.path.Attr, true)
		if err != nil {
			return nil, false
		}
		return map[string]any{x.path.def.Name: v}, true
	case *logical:
		if x.op != "and" {
			return nil, false
		}
		l, ok1 := equalities(x.l)
		r, ok2 := equalities(x.r)
		if !ok1 || !ok2 {
			return nil, false
		}
		for k, v := range r {
			l[k] = v
		}
		return l, true
	}
	return nil, false
}

func anyList(v any) []any {
	l, _ := v.([]any)
	return l
}

func mapsToAny(l []map[string]any) []any {
	out := make([]any, len(l))
	for i, m := range l {
		out[i] = m
	}
	return out
}

func setOrDelete(m map[string]any, key string, list []any) {
	if len(list) == 0 {
		delete(m, key)
	} else {
		m[key] = list
	}
}

// containsValue: values of multi-valued attributes are the same when their
// "value" sub-attributes are (or, lacking one, when they are equal).
func containsValue(list []any, x any) bool {
	xv, xok := valueOf(x)
	for _, e := range list {
		if ev, ok := valueOf(e); ok && xok {
			if ev == xv {
				return true
			}
		} else if reflect.DeepEqual(e, x) {
			return true
		}
	}
	return false
}

func valueOf(x any) (string, bool) {
	m, ok := x.(map[string]any)
	if !ok {
		return "", false
	}
	v, ok := m["value"].(string)
	return v, ok
}

// requireSchema refuses a body whose schemas do not include want.
func requireSchema(body map[string]any, want string) error {
	raw, _ := get(body, "schemas")
	list, _ := raw.([]any)
	for _, x := range list {
		if s, ok := x.(string); ok && strings.EqualFold(s, want) {
			return nil
		}
	}
	return badRequest(invalidSyntax, "schemas must include %s", want)
}

// parseBody reads a JSON object, numbers kept as written.
func parseBody(b []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, badRequest(invalidSyntax, "the body is not valid JSON")
	}
	if dec.More() {
		return nil, badRequest(invalidSyntax, "the body holds more than one JSON value")
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, badRequest(invalidSyntax, "the body must be a JSON object")
	}
	return m, nil
}
