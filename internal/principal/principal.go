// Package principal is who is calling: the identity a verified request speaks for.
package principal

import (
	"context"
	"time"
)

// Principal is an authenticated caller.
type Principal struct {
	AccountID   string
	ARN         string // arn:aws:iam::<acct>:root, or an assumed-role ARN
	UserID      string // GetCallerIdentity's UserId
	AccessKeyID string
	// Admin principals may call every administrative API (the bootstrap root key).
	Admin bool
	// Role is the role session temporary credentials speak for; nil for long-term keys.
	Role *RoleSession
}

// RoleSession is an assumed role as its temporary credentials carry it.
type RoleSession struct {
	RoleARN     string // arn:aws:iam::<acct>:role<path><name>
	RoleID      string // AROA…: the role the credentials were issued for, not a later one of the same name
	SessionName string
	// SessionID is the sign-in session behind the credentials ("" for a plain AssumeRole).
	SessionID string
	IssuedAt  time.Time
	ExpiresAt time.Time
	// Tags are the session's tags (aws:PrincipalTag/<key>): the user's
	// attributes for access control, for credentials from a sign-in.
	Tags map[string]string
}

// RoleName is the role's name: the last segment of its ARN.
func (r *RoleSession) RoleName() string {
	for i := len(r.RoleARN) - 1; i >= 0; i-- {
		if r.RoleARN[i] == '/' {
			return r.RoleARN[i+1:]
		}
	}
	return ""
}

// IsRoot reports whether p is the root user of its account.
func (p *Principal) IsRoot() bool {
	return p.Role == nil && p.ARN == "arn:aws:iam::"+p.AccountID+":root"
}

type key struct{}

// With returns ctx carrying p.
func With(ctx context.Context, p *Principal) context.Context { return context.WithValue(ctx, key{}, p) }

// From returns the caller in ctx, or nil for an anonymous request.
func From(ctx context.Context) *Principal {
	p, _ := ctx.Value(key{}).(*Principal)
	return p
}
