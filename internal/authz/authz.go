// Package authz decides whether an authenticated caller may take an action,
// as IAM does: the management account's root may do anything, an account's
// root anything in its account, and a role session what its role's identity
// policies allow within its permissions boundary. The organization's admin
// APIs are for the management account's principals only.
package authz

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/atrium-sso/atrium/internal/awsproto"
	"github.com/atrium-sso/atrium/internal/policy"
	"github.com/atrium-sso/atrium/internal/principal"
	"github.com/atrium-sso/atrium/internal/store"
	"github.com/atrium-sso/atrium/internal/ttlcache"
)

// policyTTL bounds how long a role's policies are used after they change:
// a call made more than policyTTL after a policy change sees it.
const policyTTL = time.Second

// Authorizer evaluates policies from the store.
type Authorizer struct {
	store               store.Store
	managementAccountID string
	now                 func() time.Time
	roles               ttlcache.Cache[string, *roleSet]
}

// New authorizes against the roles and policies in s.
func New(s store.Store, managementAccountID string) *Authorizer {
	a := &Authorizer{store: s, managementAccountID: managementAccountID, now: time.Now}
	a.roles = ttlcache.Cache[string, *roleSet]{TTL: policyTTL, Now: func() time.Time { return a.now() }}
	return a
}

// roleSet is a role's parsed identity policies and boundary. A role that
// no longer exists, or was deleted and created again (another RoleID),
// has none: sessions issued for the old one may do nothing.
type roleSet struct {
	roleID   string
	identity []*policy.Document
	boundary *policy.Document // nil: none
}

// Authorize allows the action or answers AccessDenied.
func (a *Authorizer) Authorize(ctx context.Context, c awsproto.Access) error {
	p := c.Principal
	if p == nil {
		return awsproto.AccessDenied(c)
	}
	if p.Admin {
		return nil
	}
	if c.ManagementOnly && p.AccountID != a.managementAccountID {
		return awsproto.AccessDenied(c)
	}
	switch {
	case p.Role != nil:
		allowed, err := a.roleAllows(ctx, p, c)
		if err != nil || allowed {
			return err
		}
	case p.IsRoot():
		return nil
	}
	return awsproto.AccessDenied(c)
}

// AuthorizeAssumeRole decides sts:AssumeRole of role: the caller's own
// policies must allow the action on the role, and the role's trust policy
// must allow the caller. extra adds the request's sts: condition keys
// (sts:ExternalId, sts:RoleSessionName).
func (a *Authorizer) AuthorizeAssumeRole(ctx context.Context, c awsproto.Access, role *store.IAMRole, extra map[string][]string) error {
	if err := a.Authorize(ctx, c); err != nil {
		return err
	}
	trust, err := policy.Parse(role.AssumeRolePolicy, policy.Resource)
	if err != nil {
		return fmt.Errorf("trust policy of %s: %w", role.ARN(), err)
	}
	req := a.request(c)
	for k, v := range extra {
		req.Context[k] = v
	}
	// A role session is matched as its session and, by package policy, as its role.
	req.Principal = &policy.Principal{AWS: c.Principal.ARN, Account: c.Principal.AccountID}
	if trust.Evaluate(req) != policy.Allow {
		return awsproto.AccessDenied(c)
	}
	return nil
}

// roleAllows evaluates the session's role policies for the access.
func (a *Authorizer) roleAllows(ctx context.Context, p *principal.Principal, c awsproto.Access) (bool, error) {
	set, err := a.roleSet(ctx, p.AccountID, p.Role)
	if err != nil {
		return false, err
	}
	if set.roleID != p.Role.RoleID {
		return false, nil
	}
	return policy.Evaluate(a.request(c), set.identity, set.boundary) == policy.Allow, nil
}

// request is the policy question for an access, with the condition keys
// AWS sets for the principal and the request.
func (a *Authorizer) request(c awsproto.Access) *policy.Request {
	p, now := c.Principal, a.now().UTC()
	keys := map[string][]string{
		"aws:PrincipalAccount": {p.AccountID},
		"aws:PrincipalArn":     {p.ARN},
		"aws:userid":           {p.UserID},
		"aws:CurrentTime":      {now.Format(time.RFC3339)},
		"aws:EpochTime":        {strconv.FormatInt(now.Unix(), 10)},
		"aws:SecureTransport":  {strconv.FormatBool(c.SecureTransport)},
	}
	if c.SourceIP != "" {
		keys["aws:SourceIp"] = []string{c.SourceIP}
	}
	switch {
	case p.Role != nil:
		// For a role session aws:PrincipalArn is the role's ARN, aws:userid
		// is "<role id>:<session name>", and there is no aws:username.
		keys["aws:PrincipalArn"] = []string{p.Role.RoleARN}
		keys["aws:PrincipalType"] = []string{"AssumedRole"}
		keys["aws:TokenIssueTime"] = []string{p.Role.IssuedAt.UTC().Format(time.RFC3339)}
		for k, v := range p.Role.Tags {
			keys["aws:PrincipalTag/"+k] = []string{v}
		}
	case p.IsRoot():
		keys["aws:PrincipalType"] = []string{"Account"}
	}
	return &policy.Request{Action: c.Action, Resource: cmpOr(c.Resource, "*"), Context: keys}
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// roleSet returns a role's policies, read and parsed at most once per policyTTL.
func (a *Authorizer) roleSet(ctx context.Context, accountID string, s *principal.RoleSession) (*roleSet, error) {
	if set, ok := a.roles.Get(s.RoleARN); ok {
		return set, nil
	}
	set := &roleSet{}
	err := a.store.Read(ctx, func(tx store.Tx) error {
		role, err := tx.GetRole(ctx, accountID, s.RoleName())
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if role.ARN() != s.RoleARN {
			return nil // same name, another path: not the role the session was issued for
		}
		set.roleID = role.RoleID
		for _, arn := range role.ManagedPolicyARNs {
			d, err := managedDocument(ctx, tx, arn)
			if err != nil {
				return err
			}
			if d != nil {
				set.identity = append(set.identity, d)
			}
		}
		for _, in := range role.InlinePolicies {
			d, err := policy.Parse(in.Document, policy.Identity)
			if err != nil {
				return fmt.Errorf("inline policy %s of %s: %w", in.Name, role.ARN(), err)
			}
			set.identity = append(set.identity, d)
		}
		if role.BoundaryARN != "" {
			if set.boundary, err = managedDocument(ctx, tx, role.BoundaryARN); err != nil {
				return err
			}
			if set.boundary == nil {
				set.boundary = &policy.Document{} // a boundary that cannot be read allows nothing
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	a.roles.Put(s.RoleARN, set)
	return set, nil
}

// managedDocument parses a managed policy: AWS's from the catalogue, the
// account's own from the store; nil when it no longer exists.
func managedDocument(ctx context.Context, tx store.Tx, arn string) (*policy.Document, error) {
	doc := ""
	if m, ok := policy.Managed(arn); ok {
		doc = m.Document
	} else {
		p, err := tx.GetPolicy(ctx, arn)
		if errors.Is(err, store.ErrNotFound) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		doc = p.Document
	}
	d, err := policy.Parse(doc, policy.Identity)
	if err != nil {
		return nil, fmt.Errorf("managed policy %s: %w", arn, err)
	}
	return d, nil
}
