package policy

import (
	"fmt"
	"strings"
)

// principalSet is a compiled Principal or NotPrincipal element.
type principalSet struct {
	anyone    bool
	accounts  []string // "123456789012" or its arn:…:iam::123456789012:root
	roles     []roleRef
	arns      []string // users, sessions, federated users: matched exactly
	services  []string
	federated []string
}

// roleRef is a role named in a policy; it also matches that role's sessions
// (arn:aws:sts::ACCOUNT:assumed-role/NAME/SESSION).
type roleRef struct {
	arn, partition, account, name string
}

// compilePrincipal checks the values IAM accepts and compiles them. It
// returns IAM's message for the first it refuses.
func compilePrincipal(m map[string][]string) (*principalSet, string) {
	ps := &principalSet{}
	// Map order is random; check the types in a fixed order so the message is stable.
	for _, typ := range []string{"AWS", "CanonicalUser", "Federated", "Service"} {
		for _, v := range m[typ] {
			if msg := ps.add(typ, v); msg != "" {
				return nil, msg
			}
		}
	}
	return ps, ""
}

func invalidPrincipal(typ, v string) string {
	return fmt.Sprintf("Invalid principal in policy: %q:%q", typ, v)
}

func (ps *principalSet) add(typ, v string) string {
	switch typ {
	case "AWS":
		if v == "*" {
			ps.anyone = true
			return ""
		}
		if isAccountID(v) {
			ps.accounts = append(ps.accounts, v)
			return ""
		}
		a, ok := parsePrincipalARN(v)
		if !ok {
			return invalidPrincipal(typ, v)
		}
		switch {
		case a.service == "iam" && a.resource == "root":
			ps.accounts = append(ps.accounts, a.account)
		case a.service == "iam" && strings.HasPrefix(a.resource, "role/"):
			name := a.resource[strings.LastIndexByte(a.resource, '/')+1:]
			ps.roles = append(ps.roles, roleRef{arn: v, partition: a.partition, account: a.account, name: name})
		default:
			ps.arns = append(ps.arns, v)
		}
	case "Service":
		if v == "*" {
			ps.anyone = true
			return ""
		}
		if !isHostName(v) {
			return invalidPrincipal(typ, v)
		}
		ps.services = append(ps.services, v)
	case "Federated":
		if a, ok := parsePrincipalARN(v); ok {
			if a.service != "iam" || !(strings.HasPrefix(a.resource, "saml-provider/") || strings.HasPrefix(a.resource, "oidc-provider/")) {
				return invalidPrincipal(typ, v)
			}
		} else if !isHostName(v) { // a web identity provider: accounts.google.com, cognito-identity.amazonaws.com
			return invalidPrincipal(typ, v)
		}
		ps.federated = append(ps.federated, v)
	default:
		// CanonicalUser names S3 owners; a role cannot trust one.
		return invalidPrincipal(typ, v)
	}
	return ""
}

type principalARN struct {
	partition, service, account, resource string
}

// parsePrincipalARN accepts the ARN forms a principal may take: an account
// root, a user, a role, a role session, a federated user or an identity
// provider. Wildcards are not allowed in principals.
func parsePrincipalARN(v string) (principalARN, bool) {
	if strings.ContainsAny(v, "*? \t") {
		return principalARN{}, false
	}
	p := splitARN(v)
	if !p.ok || p.parts[0] != "arn" || !isPartition(p.parts[1]) || p.parts[3] != "" || !isAccountID(p.parts[4]) || p.parts[5] == "" {
		return principalARN{}, false
	}
	a := principalARN{partition: p.parts[1], service: p.parts[2], account: p.parts[4], resource: p.parts[5]}
	kind, rest, _ := strings.Cut(a.resource, "/")
	switch a.service {
	case "iam":
		switch kind {
		case "root":
			return a, rest == "" && a.resource == "root"
		case "user", "role", "saml-provider", "oidc-provider":
			return a, rest != "" && !strings.HasSuffix(rest, "/")
		}
	case "sts":
		switch kind {
		case "assumed-role":
			role, session, ok := strings.Cut(rest, "/")
			return a, ok && role != "" && session != ""
		case "federated-user":
			return a, rest != ""
		}
	}
	return principalARN{}, false
}

func isAccountID(s string) bool { return len(s) == 12 && isDigits(s) }

func isPartition(s string) bool {
	switch s {
	case "aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b", "aws-iso-e", "aws-iso-f", "aws-eusc":
		return true
	}
	return false
}

// isHostName accepts service principals (sso.amazonaws.com) and web identity
// providers (accounts.google.com): dotted names of letters, digits and hyphens.
func isHostName(s string) bool {
	if !strings.Contains(s, ".") || strings.HasPrefix(s, ".") || strings.HasSuffix(s, ".") {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

// match reports whether the caller is one of the set's principals.
func (ps *principalSet) match(p *Principal) bool {
	if ps.anyone {
		return true
	}
	if p == nil {
		return false
	}
	if p.Service != "" {
		for _, s := range ps.services {
			if strings.EqualFold(s, p.Service) {
				return true
			}
		}
	}
	if p.Federated != "" {
		for _, f := range ps.federated {
			if f == p.Federated {
				return true
			}
		}
	}
	if p.AWS == "" && p.Account == "" {
		return false
	}
	account := p.Account
	caller := splitARN(p.AWS)
	if account == "" && caller.ok {
		account = caller.parts[4]
	}
	for _, a := range ps.accounts {
		if a == account {
			return true
		}
	}
	for _, a := range ps.arns {
		if a == p.AWS {
			return true
		}
	}
	for _, r := range ps.roles {
		if r.arn == p.AWS || r.matchesSession(&caller) {
			return true
		}
	}
	return false
}

// matchesSession: role names are case-insensitive in IAM, and a session ARN
// carries the name without the role's path.
func (r *roleRef) matchesSession(caller *arnParts) bool {
	if !caller.ok || caller.parts[0] != "arn" || caller.parts[1] != r.partition || caller.parts[2] != "sts" || caller.parts[4] != r.account {
		return false
	}
	rest, ok := strings.CutPrefix(caller.parts[5], "assumed-role/")
	if !ok {
		return false
	}
	name, _, ok := strings.Cut(rest, "/")
	return ok && strings.EqualFold(name, r.name)
}
