// Package policy is the IAM policy language: it parses and validates policy
// documents with IAM's own error messages and evaluates them for a request,
// following the IAM User Guide's "Policy evaluation logic" and element reference.
package policy

// Kind says which elements a document may have.
type Kind int

const (
	// Identity is an identity-based policy, a permissions boundary or a session
	// policy: no Principal or NotPrincipal, and Resource or NotResource required.
	Identity Kind = iota
	// Resource is a resource-based policy as IAM stores it for a role: the role
	// trust policy. Every statement names a Principal or NotPrincipal and, as IAM
	// answers for trust policies, none may have Resource or NotResource.
	Resource
)

// Error is a policy IAM would refuse; Message is IAM's MalformedPolicyDocument text.
type Error struct{ Message string }

func (e *Error) Error() string { return e.Message }

// Document is a parsed, validated IAM policy.
type Document struct {
	Version    string // "2012-10-17" or "2008-10-17"; "" when the element is absent
	ID         string
	Statements []Statement
}

// Statement is one statement as written. Exactly one of Action and NotAction
// is set; at most one of Resource and NotResource, of Principal and NotPrincipal.
// Evaluate uses the form compiled by Parse: changing these fields afterwards
// does not change its decisions.
type Statement struct {
	Sid          string
	Effect       string // "Allow" or "Deny"
	Action       []string
	NotAction    []string
	Resource     []string
	NotResource  []string
	Principal    map[string][]string // by principal type ("AWS", "Service", "Federated"); "Principal": "*" is {"AWS": ["*"]}
	NotPrincipal map[string][]string
	Condition    []Condition

	deny        bool
	actions     []actionPattern
	notAction   bool
	resources   []arnPattern
	notResource bool
	anyResource bool // no Resource element: a trust policy statement covers its role
	principals  *principalSet
	notPrinc    bool
	conditions  []condition
}

// Condition is one operator, key and its values as written.
type Condition struct {
	Operator string // e.g. "StringEquals", "ForAnyValue:StringLike", "DateLessThanIfExists"
	Key      string
	Values   []string
}

// Request is one authorization question.
type Request struct {
	Action    string              // "service:Operation", e.g. "iam:GetRole" (matched case-insensitively, as AWS does)
	Resource  string              // ARN, or "*"
	Principal *Principal          // the caller; used by Resource documents' Principal/NotPrincipal
	Context   map[string][]string // condition keys, e.g. "aws:PrincipalAccount", "aws:username", "aws:CurrentTime", "aws:SourceIp"
}

// Principal is who calls.
type Principal struct {
	AWS       string // the caller's ARN, e.g. arn:aws:iam::111122223333:root or arn:aws:sts::111122223333:assumed-role/R/s
	Account   string // 12 digits
	Service   string // for service principals, e.g. "sso.amazonaws.com" (AWS and Account empty then)
	Federated string // for AssumeRoleWithSAML/WebIdentity callers: the identity provider's ARN or name
}

// Decision is the outcome of evaluating policies for a request.
type Decision int

const (
	ImplicitDeny Decision = iota
	Allow
	ExplicitDeny
)

func (d Decision) String() string {
	switch d {
	case Allow:
		return "Allow"
	case ExplicitDeny:
		return "ExplicitDeny"
	default:
		return "ImplicitDeny"
	}
}

// Evaluate decides r against this document alone: ExplicitDeny if a Deny
// statement applies, else Allow if an Allow statement applies, else ImplicitDeny.
func (d *Document) Evaluate(r *Request) Decision {
	if d == nil || r == nil {
		return ImplicitDeny
	}
	var ev evalState
	ev.init(r)
	allowed := false
	for i := range d.Statements {
		s := &d.Statements[i]
		if allowed && !s.deny {
			continue // only a deny can still change the answer
		}
		if s.applies(&ev) {
			if s.deny {
				return ExplicitDeny
			}
			allowed = true
		}
	}
	if allowed {
		return Allow
	}
	return ImplicitDeny
}

// Evaluate is the identity-side decision: explicit deny in any document wins; otherwise the
// identity documents must allow; and if boundary is non-nil it must allow too (boundaries intersect).
func Evaluate(r *Request, identity []*Document, boundary *Document) Decision {
	allowed := false
	for _, d := range identity {
		switch d.Evaluate(r) {
		case ExplicitDeny:
			return ExplicitDeny
		case Allow:
			allowed = true
		}
	}
	if boundary != nil {
		switch boundary.Evaluate(r) {
		case ExplicitDeny:
			return ExplicitDeny
		case ImplicitDeny:
			return ImplicitDeny
		}
	}
	if allowed {
		return Allow
	}
	return ImplicitDeny
}

// applies reports whether the statement covers the request: action, resource,
// principal and every condition.
func (s *Statement) applies(ev *evalState) bool {
	if s.matchAction(ev) == s.notAction {
		return false
	}
	if !s.anyResource && s.matchResource(ev) == s.notResource {
		return false
	}
	if s.principals != nil && s.principals.match(ev.r.Principal) == s.notPrinc {
		return false
	}
	for i := range s.conditions {
		if !s.conditions[i].eval(ev) {
			return false
		}
	}
	return true
}

func (s *Statement) matchAction(ev *evalState) bool {
	for i := range s.actions {
		if s.actions[i].match(ev) {
			return true
		}
	}
	return false
}

func (s *Statement) matchResource(ev *evalState) bool {
	for i := range s.resources {
		if s.resources[i].match(ev.r.Resource, &ev.resource, ev) {
			return true
		}
	}
	return false
}
