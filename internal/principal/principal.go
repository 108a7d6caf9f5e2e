// Package principal is who is calling: the identity a verified request speaks for.
package principal

import "context"

// Principal is an authenticated caller.
type Principal struct {
	AccountID   string
	ARN         string // arn:aws:iam::<acct>:root, or an assumed-role ARN
	UserID      string // GetCallerIdentity's UserId
	AccessKeyID string
	// Admin principals may call every administrative API (the bootstrap root key).
	Admin bool
}

type key struct{}

// With returns ctx carrying p.
func With(ctx context.Context, p *Principal) context.Context { return context.WithValue(ctx, key{}, p) }

// From returns the caller in ctx, or nil for an anonymous request.
func From(ctx context.Context) *Principal {
	p, _ := ctx.Value(key{}).(*Principal)
	return p
}
