package store

import (
	"context"
	"time"
)

// IAMTx is the part of a transaction that holds what lives inside the
// organization's accounts as IAM would: roles with their policies, customer
// managed policies, and the temporary credentials STS issues for roles.
type IAMTx interface {
	// PutRole inserts a role or replaces the one of the same name in the
	// account (names compare ignoring case, as in IAM); a replacement keeps
	// the stored RoleID and CreatedAt.
	PutRole(ctx context.Context, r IAMRole) error
	// GetRole finds a role by name, ignoring case.
	GetRole(ctx context.Context, accountID, name string) (*IAMRole, error)
	// ListRoles lists an account's roles whose path starts with pathPrefix
	// ("" or "/" = all), by lower-cased name > after.
	ListRoles(ctx context.Context, accountID, pathPrefix, after string, limit int) ([]IAMRole, error)
	DeleteRole(ctx context.Context, accountID, name string) error // ErrNotFound when absent
	// CountPolicyAttachments counts the roles of the account a managed policy is attached to.
	CountPolicyAttachments(ctx context.Context, accountID, policyARN string) (int, error)

	// InsertPolicy adds a customer managed policy; ErrConflict when its name is taken in the account.
	InsertPolicy(ctx context.Context, p IAMPolicy) error
	GetPolicy(ctx context.Context, arn string) (*IAMPolicy, error)
	// GetPolicyByName finds a customer managed policy by name and path.
	GetPolicyByName(ctx context.Context, accountID, path, name string) (*IAMPolicy, error)
	// ListPolicies lists an account's customer managed policies whose path
	// starts with pathPrefix, by lower-cased name > after.
	ListPolicies(ctx context.Context, accountID, pathPrefix, after string, limit int) ([]IAMPolicy, error)
	DeletePolicy(ctx context.Context, arn string) error // ErrNotFound when absent

	InsertSessionCredential(ctx context.Context, c SessionCredential) error
	GetSessionCredential(ctx context.Context, accessKeyID string) (*SessionCredential, error)
	// DeleteExpiredSessionCredentials removes credentials that expired before t.
	DeleteExpiredSessionCredentials(ctx context.Context, before time.Time) (int, error)
}

// IAMRole is an IAM role in an account of the organization.
type IAMRole struct {
	AccountID          string
	Name               string
	Path               string // "/" or /…/
	RoleID             string // AROA…
	AssumeRolePolicy   string // the trust policy document, JSON
	Description        string
	MaxSessionDuration int // seconds
	BoundaryARN        string
	ManagedPolicyARNs  []string       // attached managed policies (AWS or customer)
	InlinePolicies     []InlinePolicy // by name
	// ManagedBy names the service that owns a protected role
	// ("sso.amazonaws.com" for AWSReservedSSO_ roles); "" = the account's own.
	ManagedBy string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// ARN is the role's ARN.
func (r *IAMRole) ARN() string { return "arn:aws:iam::" + r.AccountID + ":role" + r.Path + r.Name }

// InlinePolicy is a policy embedded in a role.
type InlinePolicy struct {
	Name     string
	Document string
}

// IAMPolicy is a customer managed IAM policy. Only its first version exists
// (CreatePolicyVersion is not served).
type IAMPolicy struct {
	AccountID   string
	ARN         string // arn:aws:iam::<acct>:policy<path><name>
	Name        string
	Path        string
	PolicyID    string // ANPA…
	Description string
	Document    string
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// SessionCredential is a temporary credential STS issued for a role: the
// ASIA… key, its secret, and a hash of its session token.
type SessionCredential struct {
	AccessKeyID      string // ASIA…
	Secret           string
	SessionTokenHash string // hex SHA-256 of the session token; the token itself is never stored
	AccountID        string
	RoleARN          string
	AssumedRoleARN   string // arn:aws:sts::<acct>:assumed-role/<role>/<session>
	AssumedRoleID    string // AROA…:<session>
	SessionName      string
	SourceARN        string // who asked for it
	// SessionID ties the credential to a sign-in session ("" for a plain
	// AssumeRole by a long-term key): revoking the session revokes it.
	SessionID string
	// OriginARN is, for a role session assumed from another (role
	// chaining), the assumed-role ARN the chain began with; "" otherwise.
	OriginARN string
	// Tags are the session's tags (aws:PrincipalTag/<key>).
	Tags      map[string]string
	ExpiresAt time.Time
	CreatedAt time.Time
}
