package policy

import (
	"bytes"
	"encoding/base64"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

type opKind uint8

const (
	opStringEquals opKind = iota
	opStringEqualsIgnoreCase
	opStringLike
	opNumericEquals
	opNumericLessThan
	opNumericLessThanEquals
	opNumericGreaterThan
	opNumericGreaterThanEquals
	opDateEquals
	opDateLessThan
	opDateLessThanEquals
	opDateGreaterThan
	opDateGreaterThanEquals
	opBool
	opBinaryEquals
	opIPAddress
	opARN
	opNull
)

// operators lists IAM's condition operators by name; a negated one is true
// when no value matches (NOR over the values, as the IAM User Guide's
// "Conditions with multiple context keys or values" describes).
var operators = map[string]struct {
	kind    opKind
	negated bool
}{
	"StringEquals":              {opStringEquals, false},
	"StringNotEquals":           {opStringEquals, true},
	"StringEqualsIgnoreCase":    {opStringEqualsIgnoreCase, false},
	"StringNotEqualsIgnoreCase": {opStringEqualsIgnoreCase, true},
	"StringLike":                {opStringLike, false},
	"StringNotLike":             {opStringLike, true},
	"NumericEquals":             {opNumericEquals, false},
	"NumericNotEquals":          {opNumericEquals, true},
	"NumericLessThan":           {opNumericLessThan, false},
	"NumericLessThanEquals":     {opNumericLessThanEquals, false},
	"NumericGreaterThan":        {opNumericGreaterThan, false},
	"NumericGreaterThanEquals":  {opNumericGreaterThanEquals, false},
	"DateEquals":                {opDateEquals, false},
	"DateNotEquals":             {opDateEquals, true},
	"DateLessThan":              {opDateLessThan, false},
	"DateLessThanEquals":        {opDateLessThanEquals, false},
	"DateGreaterThan":           {opDateGreaterThan, false},
	"DateGreaterThanEquals":     {opDateGreaterThanEquals, false},
	"Bool":                      {opBool, false},
	"BinaryEquals":              {opBinaryEquals, false},
	"IpAddress":                 {opIPAddress, false},
	"NotIpAddress":              {opIPAddress, true},
	"ArnEquals":                 {opARN, false},
	"ArnLike":                   {opARN, false},
	"ArnNotEquals":              {opARN, true},
	"ArnNotLike":                {opARN, true},
	"Null":                      {opNull, false},
}

type setQualifier uint8

const (
	setNone setQualifier = iota
	setAnyValue
	setAllValues
)

// condition is one operator and key of a Condition element, compiled.
type condition struct {
	kind     opKind
	negated  bool
	ifExists bool
	set      setQualifier
	key      string

	patterns []pattern      // String*, Bool
	arns     []arnPattern   // Arn*
	numbers  []float64      // Numeric*
	times    []time.Time    // Date*
	binaries [][]byte       // BinaryEquals
	prefixes []netip.Prefix // IpAddress, NotIpAddress
	nulls    []string       // Null: "true" or "false"
}

// parseOperator splits "ForAnyValue:StringLikeIfExists" into its parts.
func parseOperator(name string) (c condition, ok bool) {
	rest := name
	if r, found := strings.CutPrefix(rest, "ForAnyValue:"); found {
		c.set, rest = setAnyValue, r
	} else if r, found := strings.CutPrefix(rest, "ForAllValues:"); found {
		c.set, rest = setAllValues, r
	}
	if r, found := strings.CutSuffix(rest, "IfExists"); found {
		c.ifExists, rest = true, r
	}
	op, known := operators[rest]
	if !known || (op.kind == opNull && c.ifExists) {
		return condition{}, false
	}
	c.kind, c.negated = op.kind, op.negated
	return c, true
}

// compileValues reads the values of one key. Policy variables are resolved
// only for the string, ARN and Bool operators. It reports the message IAM
// gives for a value the operator cannot take.
func (c *condition) compileValues(values []string, variables bool) string {
	for _, v := range values {
		switch c.kind {
		case opStringEquals, opStringEqualsIgnoreCase, opBool:
			c.patterns = append(c.patterns, compilePattern(v, false, variables))
		case opStringLike:
			c.patterns = append(c.patterns, compilePattern(v, true, variables))
		case opARN:
			c.arns = append(c.arns, compileARN(v, variables))
		case opNumericEquals, opNumericLessThan, opNumericLessThanEquals, opNumericGreaterThan, opNumericGreaterThanEquals:
			n, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return msgSyntax
			}
			c.numbers = append(c.numbers, n)
		case opDateEquals, opDateLessThan, opDateLessThanEquals, opDateGreaterThan, opDateGreaterThanEquals:
			t, ok := parseDate(v)
			if !ok {
				return msgLegacy
			}
			c.times = append(c.times, t)
		case opBinaryEquals:
			b, err := base64.StdEncoding.DecodeString(v)
			if err != nil {
				return msgSyntax
			}
			c.binaries = append(c.binaries, b)
		case opIPAddress:
			p, ok := parseCIDR(v)
			if !ok {
				return msgSyntax
			}
			c.prefixes = append(c.prefixes, p)
		case opNull:
			c.nulls = append(c.nulls, strings.ToLower(v))
		}
	}
	return ""
}

// eval applies the IAM rules for a key missing from the request, the
// ...IfExists suffix and the ForAnyValue/ForAllValues set qualifiers.
func (c *condition) eval(ev *evalState) bool {
	vals, present := ev.lookup(c.key)
	if len(vals) == 0 {
		present = false // an empty set is no value
	}
	if c.kind == opNull {
		for _, want := range c.nulls {
			if (want == "true" && !present) || (want == "false" && present) {
				return true
			}
		}
		return false
	}
	if !present {
		switch {
		case c.ifExists:
			return true
		case c.set == setAllValues:
			return true // vacuously: every one of no values matches
		case c.set == setAnyValue:
			return false
		}
		return c.negated
	}
	switch c.set {
	case setAllValues:
		for _, v := range vals {
			if c.matchesAny(ev, v) == c.negated {
				return false
			}
		}
		return true
	case setAnyValue:
		for _, v := range vals {
			if c.matchesAny(ev, v) != c.negated {
				return true
			}
		}
		return false
	}
	for _, v := range vals {
		if c.matchesAny(ev, v) {
			return !c.negated
		}
	}
	return c.negated
}

// matchesAny reports whether the request value v matches one of the policy
// values under the operator's positive form.
func (c *condition) matchesAny(ev *evalState, v string) bool {
	switch c.kind {
	case opStringEquals:
		for i := range c.patterns {
			if t, ok := c.patterns[i].text(ev); ok && t == v {
				return true
			}
		}
	case opStringEqualsIgnoreCase, opBool:
		for i := range c.patterns {
			if t, ok := c.patterns[i].text(ev); ok && strings.EqualFold(t, v) {
				return true
			}
		}
	case opStringLike:
		for i := range c.patterns {
			if c.patterns[i].match(v, false, ev) {
				return true
			}
		}
	case opARN:
		sp := splitARN(v)
		for i := range c.arns {
			if c.arns[i].match(v, &sp, ev) {
				return true
			}
		}
	case opNumericEquals, opNumericLessThan, opNumericLessThanEquals, opNumericGreaterThan, opNumericGreaterThanEquals:
		x, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return false
		}
		for _, n := range c.numbers {
			if compareOrdered(c.kind-opNumericEquals, x, n) {
				return true
			}
		}
	case opDateEquals, opDateLessThan, opDateLessThanEquals, opDateGreaterThan, opDateGreaterThanEquals:
		t, ok := parseDate(v)
		if !ok {
			return false
		}
		for _, p := range c.times {
			if compareOrdered(c.kind-opDateEquals, t.Compare(p), 0) {
				return true
			}
		}
	case opBinaryEquals:
		b, err := base64.StdEncoding.DecodeString(v)
		if err != nil {
			return false
		}
		for _, p := range c.binaries {
			if bytes.Equal(b, p) {
				return true
			}
		}
	case opIPAddress:
		a, err := netip.ParseAddr(v)
		if err != nil {
			return false
		}
		a = a.Unmap()
		for _, p := range c.prefixes {
			if p.Contains(a) {
				return true
			}
		}
	}
	return false
}

// compareOrdered applies Equals, LessThan, LessThanEquals, GreaterThan or
// GreaterThanEquals (in that order, as rel 0..4) to request value x and policy value y.
func compareOrdered[T int | float64](rel opKind, x, y T) bool {
	switch rel {
	case 0:
		return x == y
	case 1:
		return x < y
	case 2:
		return x <= y
	case 3:
		return x > y
	default:
		return x >= y
	}
}

// dateLayouts are the W3C profile of ISO 8601 that IAM accepts for dates.
var dateLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04Z07:00",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02T15:04",
	"2006-01-02",
	"2006-01",
	"2006",
}

// parseDate reads an ISO 8601 date or a number of seconds since the epoch
// (the form of aws:EpochTime). A time without a zone is UTC.
func parseDate(s string) (time.Time, bool) {
	if s == "" {
		return time.Time{}, false
	}
	if isDigits(s) && len(s) != 4 { // four digits is a year
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return time.Time{}, false
		}
		return time.Unix(n, 0).UTC(), true
	}
	for _, layout := range dateLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// parseCIDR reads "203.0.113.0/24", "2001:DB8::/32", or a bare address,
// which IAM takes as /32 (or /128).
func parseCIDR(s string) (netip.Prefix, bool) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, false
		}
		return p.Masked(), true
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, false
	}
	return netip.PrefixFrom(a, a.BitLen()), true
}
