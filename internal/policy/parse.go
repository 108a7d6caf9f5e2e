package policy

import (
	"fmt"
	"strings"
)

// IAM's MalformedPolicyDocument messages, word for word as the IAM API returns them.
const (
	msgSyntax              = "Syntax errors in policy."
	msgLegacy              = "The policy failed legacy parsing"
	msgPrincipalNotAllowed = "Policy document should not specify a principal."
	msgMissingPrincipal    = "Missing required field Principal"
	msgResourceProhibited  = "Has prohibited field Resource."
	msgSidFormat           = "Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular expression [0-9A-Za-z]*"
	msgSidUnique           = "Statement IDs (SID) in a single policy must be unique."
	msgNoActions           = "Policy statement must contain actions."
	msgNoResources         = "Policy statement must contain resources."
	msgVendor              = "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."
	msgOneColon            = "Actions/Condition can contain only one colon."
	msgVendorRegex         = "Resource vendor must be fully qualified and cannot contain regexes."
	msgManagedVersion      = "Policy document must be version 2012-10-17 or greater."
)

const (
	version2012 = "2012-10-17"
	version2008 = "2008-10-17"
)

var statementElements = map[string]bool{
	"Sid": true, "Effect": true, "Principal": true, "NotPrincipal": true, "Action": true,
	"NotAction": true, "Resource": true, "NotResource": true, "Condition": true,
}

// Parse parses and validates doc. Errors are *Error whose Message is the one
// IAM gives for the first problem, checked in IAM's order: JSON and element
// syntax, then legacy parsing (Effect's case, dates), Sids, actions,
// resources, and last what the kind of policy allows.
func Parse(doc string, kind Kind) (*Document, error) {
	d, msg := parse(doc, kind)
	if msg != "" {
		return nil, &Error{Message: msg}
	}
	return d, nil
}

// CheckManagedVersion is IAM's further rule for managed policies
// (CreatePolicy, CreatePolicyVersion): the document must say Version 2012-10-17.
func (d *Document) CheckManagedVersion() error {
	if d.Version != version2012 {
		return &Error{Message: msgManagedVersion}
	}
	return nil
}

func parse(doc string, kind Kind) (*Document, string) {
	root, err := decodeJSON(doc)
	if err != nil || root.kind != jsonObject {
		return nil, msgSyntax
	}
	d := &Document{}
	var stmts []*jsonValue
	for i := range root.members {
		m := &root.members[i]
		switch m.key {
		case "Version":
			if m.value.kind != jsonString || (m.value.str != version2012 && m.value.str != version2008) {
				return nil, msgSyntax
			}
			d.Version = m.value.str
		case "Id":
			if m.value.kind != jsonString {
				return nil, msgSyntax
			}
			d.ID = m.value.str
		case "Statement":
			switch m.value.kind {
			case jsonObject:
				stmts = []*jsonValue{&m.value}
			case jsonArray:
				for j := range m.value.items {
					stmts = append(stmts, &m.value.items[j])
				}
			default:
				return nil, msgSyntax
			}
		default:
			return nil, msgSyntax
		}
	}
	if len(stmts) == 0 {
		return nil, msgSyntax
	}
	d.Statements = make([]Statement, len(stmts))
	for i, v := range stmts {
		if !readStatement(v, &d.Statements[i]) {
			return nil, msgSyntax
		}
	}
	variables := d.Version == version2012
	if msg := d.validate(kind, variables); msg != "" {
		return nil, msg
	}
	return d, ""
}

// readStatement checks one statement's element syntax and copies it into s.
func readStatement(v *jsonValue, s *Statement) bool {
	if v.kind != jsonObject {
		return false
	}
	for i := range v.members {
		m := &v.members[i]
		if !statementElements[m.key] {
			return false
		}
		var ok bool
		switch m.key {
		case "Sid":
			s.Sid, ok = m.value.str, m.value.kind == jsonString
		case "Effect":
			// Any case passes the syntax check; anything but Allow or Deny
			// exactly then fails legacy parsing.
			s.Effect, ok = m.value.str, m.value.kind == jsonString && (strings.EqualFold(m.value.str, "Allow") || strings.EqualFold(m.value.str, "Deny"))
		case "Action":
			s.Action, ok = stringList(&m.value)
		case "NotAction":
			s.NotAction, ok = stringList(&m.value)
		case "Resource":
			s.Resource, ok = stringList(&m.value)
		case "NotResource":
			s.NotResource, ok = stringList(&m.value)
		case "Principal":
			s.Principal, ok = principalMap(&m.value)
		case "NotPrincipal":
			s.NotPrincipal, ok = principalMap(&m.value)
		case "Condition":
			s.Condition, ok = conditionList(&m.value)
		}
		if !ok {
			return false
		}
	}
	if s.Effect == "" {
		return false
	}
	return !(s.Action != nil && s.NotAction != nil) &&
		!(s.Resource != nil && s.NotResource != nil) &&
		!(s.Principal != nil && s.NotPrincipal != nil)
}

// stringList reads a string or an array of strings; IAM skips null entries.
// A present but empty array is a non-nil empty slice.
func stringList(v *jsonValue) ([]string, bool) {
	switch v.kind {
	case jsonString:
		return []string{v.str}, true
	case jsonArray:
		out := make([]string, 0, len(v.items))
		for i := range v.items {
			switch v.items[i].kind {
			case jsonString:
				out = append(out, v.items[i].str)
			case jsonNull:
			default:
				return nil, false
			}
		}
		return out, true
	}
	return nil, false
}

func principalMap(v *jsonValue) (map[string][]string, bool) {
	if v.kind == jsonString {
		if v.str != "*" {
			return nil, false
		}
		// "Principal": "*" and {"AWS": "*"} are the same (IAM User Guide, Principal element).
		return map[string][]string{"AWS": {"*"}}, true
	}
	if v.kind != jsonObject || len(v.members) == 0 {
		return nil, false
	}
	m := make(map[string][]string, len(v.members))
	for i := range v.members {
		switch v.members[i].key {
		case "AWS", "Service", "Federated", "CanonicalUser":
		default:
			return nil, false
		}
		vals, ok := stringList(&v.members[i].value)
		if !ok || len(vals) == 0 {
			return nil, false
		}
		m[v.members[i].key] = vals
	}
	return m, true
}

// conditionList reads {"operator": {"key": value or [values]}} in document order.
func conditionList(v *jsonValue) ([]Condition, bool) {
	if v.kind != jsonObject {
		return nil, false
	}
	out := []Condition{}
	for i := range v.members {
		op := &v.members[i]
		if _, ok := parseOperator(op.key); !ok || op.value.kind != jsonObject {
			return nil, false
		}
		for j := range op.value.members {
			kv := &op.value.members[j]
			values, ok := conditionValues(&kv.value)
			if !ok {
				return nil, false
			}
			out = append(out, Condition{Operator: op.key, Key: kv.key, Values: values})
		}
	}
	return out, true
}

// conditionValues reads a condition value or array of them; numbers and
// booleans may be written without quotes.
func conditionValues(v *jsonValue) ([]string, bool) {
	scalar := func(v *jsonValue) (string, bool) {
		switch v.kind {
		case jsonString, jsonNumber:
			return v.str, true
		case jsonBool:
			if v.boolean {
				return "true", true
			}
			return "false", true
		}
		return "", false
	}
	if v.kind != jsonArray {
		s, ok := scalar(v)
		return []string{s}, ok
	}
	out := make([]string, 0, len(v.items))
	for i := range v.items {
		s, ok := scalar(&v.items[i])
		if !ok {
			return nil, false
		}
		out = append(out, s)
	}
	return out, true
}

// validate applies IAM's rules after syntax, in IAM's order, and compiles
// each statement for evaluation.
func (d *Document) validate(kind Kind, variables bool) string {
	// Legacy parsing: Effect's exact case and condition dates.
	for i := range d.Statements {
		s := &d.Statements[i]
		if s.Effect != "Allow" && s.Effect != "Deny" {
			return msgLegacy
		}
		s.deny = s.Effect == "Deny"
		for _, c := range s.Condition {
			cond, _ := parseOperator(c.Operator)
			cond.key = c.Key
			if msg := cond.compileValues(c.Values, variables); msg != "" {
				return msg
			}
			s.conditions = append(s.conditions, cond)
		}
	}
	sids := map[string]bool{}
	for i := range d.Statements {
		sid := d.Statements[i].Sid
		if kind == Identity && !isAlphanumeric(sid) {
			return msgSidFormat
		}
		if sid != "" {
			if sids[sid] {
				return msgSidUnique
			}
			sids[sid] = true
		}
	}
	for i := range d.Statements {
		s := &d.Statements[i]
		if len(s.Action) == 0 && len(s.NotAction) == 0 {
			return msgNoActions
		}
	}
	for i := range d.Statements {
		s := &d.Statements[i]
		for _, r := range s.resourceList() {
			if msg := resourceError(r); msg != "" {
				return msg
			}
		}
	}
	for i := range d.Statements {
		s := &d.Statements[i]
		for _, a := range s.actionList() {
			if msg := actionError(a); msg != "" {
				return msg
			}
		}
	}
	for i := range d.Statements {
		if msg := d.Statements[i].checkKind(kind); msg != "" {
			return msg
		}
	}
	for i := range d.Statements {
		if msg := d.Statements[i].compile(variables); msg != "" {
			return msg
		}
	}
	return ""
}

func (s *Statement) checkKind(kind Kind) string {
	hasPrincipal := s.Principal != nil || s.NotPrincipal != nil
	hasResource := s.Resource != nil || s.NotResource != nil
	if kind == Identity {
		if hasPrincipal {
			return msgPrincipalNotAllowed
		}
		if len(s.Resource) == 0 && len(s.NotResource) == 0 {
			return msgNoResources
		}
		return ""
	}
	if !hasPrincipal {
		return msgMissingPrincipal
	}
	if hasResource {
		return msgResourceProhibited
	}
	return ""
}

func (s *Statement) compile(variables bool) string {
	s.notAction = s.NotAction != nil
	for _, a := range s.actionList() {
		s.actions = append(s.actions, compileAction(a))
	}
	s.notResource = s.NotResource != nil
	s.anyResource = s.Resource == nil && s.NotResource == nil
	for _, r := range s.resourceList() {
		s.resources = append(s.resources, compileARN(r, variables))
	}
	if m := s.Principal; m != nil || s.NotPrincipal != nil {
		if m == nil {
			m, s.notPrinc = s.NotPrincipal, true
		}
		ps, msg := compilePrincipal(m)
		if msg != "" {
			return msg
		}
		s.principals = ps
	}
	return ""
}

// actionList is the Action or the NotAction element, whichever is set.
func (s *Statement) actionList() []string {
	if s.NotAction != nil {
		return s.NotAction
	}
	return s.Action
}

// resourceList is the Resource or the NotResource element, whichever is set.
func (s *Statement) resourceList() []string {
	if s.NotResource != nil {
		return s.NotResource
	}
	return s.Resource
}

func isAlphanumeric(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// actionError checks "*" or "vendor:action", the vendor made of letters,
// digits, hyphens and dots (or "*").
func actionError(a string) string {
	if a == "*" {
		return ""
	}
	vendor, name, ok := strings.Cut(a, ":")
	if !ok {
		return msgVendor
	}
	if strings.Contains(name, ":") {
		return msgOneColon
	}
	if vendor == "*" {
		return ""
	}
	if vendor == "" {
		return fmt.Sprintf("Vendor %s is not valid", vendor)
	}
	for i := 0; i < len(vendor); i++ {
		c := vendor[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
			return fmt.Sprintf("Vendor %s is not valid", vendor)
		}
	}
	return ""
}

// resourceError checks that a resource is "*" or an ARN with a known
// partition and a service part.
func resourceError(r string) string {
	if r == "*" {
		return ""
	}
	_, rest, ok := strings.Cut(r, ":")
	if !ok {
		return fmt.Sprintf("Resource %s must be in ARN format or \"*\".", r)
	}
	partition, rest, hasService := strings.Cut(rest, ":")
	if partition != "*" && !isPartition(partition) {
		// IAM shows the ARN it read, with * for the parts that are missing.
		f := strings.SplitN(rest, ":", 4)
		for len(f) < 4 {
			f = append(f, "*")
		}
		if !hasService {
			f[0] = "*"
		}
		return fmt.Sprintf("Partition \"%s\" is not valid for resource \"arn:%s:%s:%s:%s:%s\".", partition, partition, f[0], f[1], f[2], f[3])
	}
	if !hasService {
		return msgVendorRegex
	}
	return ""
}
