package policy

import (
	"strings"
	"unicode/utf8"
)

// evalState is what one evaluation derives from the request once, so that
// statements need not split the action or the resource ARN again.
type evalState struct {
	r             *Request
	actionService string
	actionName    string
	actionOK      bool // the action has the service:name form
	resource      arnParts
}

func (ev *evalState) init(r *Request) {
	ev.r = r
	if i := strings.IndexByte(r.Action, ':'); i >= 0 {
		ev.actionService, ev.actionName, ev.actionOK = r.Action[:i], r.Action[i+1:], true
	}
	ev.resource = splitARN(r.Resource)
}

// lookup finds a condition key in the request context. Key names are
// case-insensitive in IAM ("aws:SourceIP" is "AWS:SourceIp"); an exact hit is
// the fast path, callers using AWS's spelling.
func (ev *evalState) lookup(key string) ([]string, bool) {
	if v, ok := ev.r.Context[key]; ok {
		return v, true
	}
	for k, v := range ev.r.Context {
		if strings.EqualFold(k, key) {
			return v, true
		}
	}
	return nil, false
}

// arnParts are the six colon-separated parts of an ARN; the last keeps any
// further colons (arn:aws:logs:r:a:log-group:g:log-stream:s).
type arnParts struct {
	parts [6]string
	ok    bool
}

func splitARN(s string) arnParts {
	var p arnParts
	rest := s
	for i := 0; i < 5; i++ {
		j := strings.IndexByte(rest, ':')
		if j < 0 {
			return arnParts{}
		}
		p.parts[i] = rest[:j]
		rest = rest[j+1:]
	}
	p.parts[5] = rest
	p.ok = true
	return p
}

// splitARNPattern is splitARN for a policy value, where a colon inside a
// policy variable (${aws:username}) does not separate parts.
func splitARNPattern(s string, variables bool) ([6]string, bool) {
	var parts [6]string
	n, start := 0, 0
	closed := variables // whether a later '}' may still close a variable
	for i := 0; i < len(s) && n < 5; i++ {
		if closed && s[i] == '$' && i+1 < len(s) && s[i+1] == '{' {
			if j := strings.IndexByte(s[i:], '}'); j > 0 {
				i += j
				continue
			}
			closed = false // no '}' ahead: stop looking, or a hostile value costs quadratic time
		}
		if s[i] == ':' {
			parts[n] = s[start:i]
			n++
			start = i + 1
		}
	}
	if n < 5 {
		return parts, false
	}
	parts[5] = s[start:]
	return parts, true
}

type partKind uint8

const (
	partLit  partKind = iota // literal text
	partStar                 // * : any run of characters
	partOne                  // ? : exactly one character
	partVar                  // ${key} or ${key, 'default'}
)

type patPart struct {
	kind   partKind
	text   string // literal text, or the variable's key
	def    string // the variable's default
	hasDef bool
}

// pattern is a compiled policy string: a Resource part, an action name or a
// condition value. A pattern with no wildcard and no variable is a plain literal.
type pattern struct {
	raw    string    // the text to compare when parts is nil
	parts  []patPart // nil for a plain literal
	hasVar bool
}

// compilePattern reads raw with * and ? as wildcards (when wildcards is set)
// and ${...} as policy variables (when variables is set). ${*}, ${?} and ${$}
// stand for the literal characters.
func compilePattern(raw string, wildcards, variables bool) pattern {
	p := pattern{raw: raw}
	if !(wildcards && strings.ContainsAny(raw, "*?")) && !(variables && strings.Contains(raw, "${")) {
		return p
	}
	var lit strings.Builder
	closed := true // whether a later '}' may still close a variable
	flush := func() {
		if lit.Len() > 0 {
			p.parts = append(p.parts, patPart{kind: partLit, text: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch {
		case wildcards && c == '*':
			flush()
			if n := len(p.parts); n == 0 || p.parts[n-1].kind != partStar {
				p.parts = append(p.parts, patPart{kind: partStar})
			}
		case wildcards && c == '?':
			flush()
			p.parts = append(p.parts, patPart{kind: partOne})
		case variables && closed && c == '$' && i+1 < len(raw) && raw[i+1] == '{':
			end := strings.IndexByte(raw[i:], '}')
			if end < 0 {
				closed = false // no '}' ahead: the rest is literal
				lit.WriteByte(c)
				continue
			}
			inner := raw[i+2 : i+end]
			i += end
			switch inner {
			case "*", "?", "$":
				lit.WriteString(inner)
				continue
			}
			flush()
			v := patPart{kind: partVar, text: strings.TrimSpace(inner)}
			if key, def, ok := strings.Cut(inner, ","); ok {
				def = strings.TrimSpace(def)
				if len(def) >= 2 && def[0] == '\'' && def[len(def)-1] == '\'' {
					v.text, v.def, v.hasDef = strings.TrimSpace(key), def[1:len(def)-1], true
				}
			}
			p.parts = append(p.parts, v)
			p.hasVar = true
		default:
			lit.WriteByte(c)
		}
	}
	flush()
	// Only literal text left (say "${*}" alone): match it as a plain literal.
	literal := true
	for _, part := range p.parts {
		literal = literal && part.kind == partLit
	}
	if literal {
		var b strings.Builder
		for _, part := range p.parts {
			b.WriteString(part.text)
		}
		return pattern{raw: b.String()}
	}
	return p
}

// resolve replaces variables by their request values, into buf. It reports
// false when a variable has no value and no default: such a policy value
// matches nothing (IAM: "Policy variables with no value").
func (p *pattern) resolve(ev *evalState, buf []patPart) ([]patPart, bool) {
	if !p.hasVar {
		return p.parts, true
	}
	out := buf[:0]
	for _, part := range p.parts {
		if part.kind != partVar {
			out = append(out, part)
			continue
		}
		vals, ok := ev.lookup(part.text)
		switch {
		case ok && len(vals) == 1:
			// A substituted value is literal text: a tag value holding * must
			// not become a wildcard.
			out = append(out, patPart{kind: partLit, text: vals[0]})
		case part.hasDef:
			out = append(out, patPart{kind: partLit, text: part.def})
		default:
			// Absent, or multivalued (IAM allows only single-valued keys as variables).
			return nil, false
		}
	}
	return out, true
}

// match reports whether s matches the pattern; fold makes ASCII letters
// match regardless of case (action names).
func (p *pattern) match(s string, fold bool, ev *evalState) bool {
	if p.parts == nil {
		if fold {
			return equalFoldASCII(p.raw, s)
		}
		return p.raw == s
	}
	var buf [16]patPart
	parts, ok := p.resolve(ev, buf[:])
	if !ok {
		return false
	}
	return globMatch(parts, s, fold)
}

// text returns the pattern with variables substituted, for operators that
// compare whole values (StringEquals and its kin).
func (p *pattern) text(ev *evalState) (string, bool) {
	if !p.hasVar {
		return p.raw, true
	}
	var buf [16]patPart
	parts, ok := p.resolve(ev, buf[:])
	if !ok {
		return "", false
	}
	if len(parts) == 1 {
		return parts[0].text, true
	}
	var b strings.Builder
	for _, part := range parts {
		b.WriteString(part.text)
	}
	return b.String(), true
}

// globMatch matches s against literal, * and ? parts. It walks the pattern
// once, returning to the last * on a mismatch: linear in practice and never
// exponential.
func globMatch(parts []patPart, s string, fold bool) bool {
	pi, po, si := 0, 0, 0   // pattern part, offset in a literal part, subject offset
	starPi, starSi := -1, 0 // the part after the last * seen, and where it resumed in s
	for {
		// Step over a literal part that is fully matched.
		if pi < len(parts) && parts[pi].kind == partLit && po == len(parts[pi].text) {
			pi, po = pi+1, 0
			continue
		}
		if pi < len(parts) && parts[pi].kind == partStar {
			pi, po = pi+1, 0
			if pi == len(parts) {
				return true // a trailing * takes the rest
			}
			starPi, starSi = pi, si
			continue
		}
		if si == len(s) {
			if pi == len(parts) {
				return true
			}
		} else if pi < len(parts) {
			part := &parts[pi]
			if part.kind == partOne {
				_, size := utf8.DecodeRuneInString(s[si:])
				si += size
				pi++
				continue
			}
			if byteEqual(part.text[po], s[si], fold) {
				po++
				si++
				continue
			}
		}
		// Mismatch: let the last * swallow one more character.
		if starPi < 0 || starSi >= len(s) {
			return false
		}
		_, size := utf8.DecodeRuneInString(s[starSi:])
		starSi += size
		pi, po, si = starPi, 0, starSi
	}
}

func byteEqual(a, b byte, fold bool) bool {
	if a == b {
		return true
	}
	if !fold {
		return false
	}
	return lowerASCII(a) == lowerASCII(b)
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func equalFoldASCII(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		if lowerASCII(a[i]) != lowerASCII(b[i]) {
			return false
		}
	}
	return true
}

// actionPattern is one Action or NotAction entry.
type actionPattern struct {
	all        bool   // "*"
	anyService bool   // "*:Get*"
	service    string // the service prefix, matched regardless of case
	name       pattern
}

func compileAction(raw string) actionPattern {
	if raw == "*" {
		return actionPattern{all: true}
	}
	service, name, _ := strings.Cut(raw, ":")
	return actionPattern{anyService: service == "*", service: service, name: compilePattern(name, true, false)}
}

func (a *actionPattern) match(ev *evalState) bool {
	if a.all {
		return true
	}
	if !ev.actionOK || !(a.anyService || equalFoldASCII(a.service, ev.actionService)) {
		return false
	}
	return a.name.match(ev.actionName, true, ev)
}

// arnPattern is a Resource or NotResource entry, or an ArnLike value. A
// wildcard stays within its colon-separated part of the ARN, except in the
// last part, which holds the rest of the ARN.
type arnPattern struct {
	all   bool       // "*"
	split bool       // compiled per part; otherwise matched as one string
	parts [6]pattern // when split
	whole pattern    // when not split
}

func compileARN(raw string, variables bool) arnPattern {
	if raw == "*" {
		return arnPattern{all: true}
	}
	texts, ok := splitARNPattern(raw, variables)
	if !ok {
		return arnPattern{whole: compilePattern(raw, true, variables)}
	}
	a := arnPattern{split: true}
	for i, t := range texts {
		a.parts[i] = compilePattern(t, true, variables)
	}
	return a
}

// match matches s, whose parts are sp when s is an ARN.
func (a *arnPattern) match(s string, sp *arnParts, ev *evalState) bool {
	if a.all {
		return true
	}
	if !a.split {
		return a.whole.match(s, false, ev)
	}
	if !sp.ok {
		return false
	}
	for i := range a.parts {
		if !a.parts[i].match(sp.parts[i], false, ev) {
			return false
		}
	}
	return true
}
