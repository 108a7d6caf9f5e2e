package store

import (
	"context"
	"time"
)

// AccessTx is the sso-admin part of a transaction: permission sets, account
// assignments, what is provisioned where, the asynchronous requests that
// change them, and the instance's access-control attributes. Everything is
// scoped to one instance ARN; a permission set of another instance is not
// found.
type AccessTx interface {
	// UpdateInstance runs fn on the locked instance and stores what it leaves (ARN, store id and creation are kept).
	UpdateInstance(ctx context.Context, arn string, fn func(*Instance) error) (*Instance, error)

	// InsertPermissionSet adds a permission set; ErrConflict when its name is taken in the instance.
	InsertPermissionSet(ctx context.Context, ps PermissionSet) error
	GetPermissionSet(ctx context.Context, instanceARN, arn string) (*PermissionSet, error)
	// ListPermissionSets lists the instance's permission sets with ARN > after, by ARN.
	ListPermissionSets(ctx context.Context, instanceARN, after string, limit int) ([]PermissionSet, error)
	// UpdatePermissionSet runs fn on the locked permission set and stores what
	// it leaves (ARN, instance and creation kept); ErrConflict as Insert.
	UpdatePermissionSet(ctx context.Context, instanceARN, arn string, fn func(*PermissionSet) error) (*PermissionSet, error)
	// DeletePermissionSet deletes it with its tags; ErrConflict while it has
	// assignments or is provisioned to an account.
	DeletePermissionSet(ctx context.Context, instanceARN, arn string) error

	// InsertAssignment adds an account assignment; ErrConflict when it exists,
	// ErrUserMissing or ErrGroupMissing when the principal is not in the
	// instance's identity store, ErrNotFound when the permission set is not
	// in the instance. Both are locked (shared) against a concurrent delete,
	// so an assignment never outlives either.
	InsertAssignment(ctx context.Context, a AccountAssignment) error
	DeleteAssignment(ctx context.Context, a AccountAssignment) error // ErrNotFound when absent
	// ListAssignments lists the assignments of one permission set in one
	// account with Key() > after, by Key().
	ListAssignments(ctx context.Context, instanceARN, accountID, permissionSetARN, after string, limit int) ([]AccountAssignment, error)
	// ListAssignmentsForPrincipals lists the assignments of any of principals
	// (in accountID only, unless it is "") with Key() > after, by Key().
	// Principals may repeat; none lists nothing.
	ListAssignmentsForPrincipals(ctx context.Context, instanceARN string, principals []PrincipalRef, accountID, after string, limit int) ([]AccountAssignment, error)
	// CountAssignments counts the assignments of a permission set in an account.
	CountAssignments(ctx context.Context, instanceARN, accountID, permissionSetARN string) (int, error)

	// PutProvisioned records that a permission set's version is provisioned to
	// an account (insert or replace); ErrNotFound when the permission set is
	// not in the instance (it is locked against a concurrent delete).
	PutProvisioned(ctx context.Context, p Provisioned) error
	GetProvisioned(ctx context.Context, instanceARN, accountID, permissionSetARN string) (*Provisioned, error)
	DeleteProvisioned(ctx context.Context, instanceARN, accountID, permissionSetARN string) error // ErrNotFound when absent
	// ListProvisionedAccounts lists where a permission set is provisioned,
	// by account id > after. outdated nil = all; true = only where the
	// provisioned version is older than the permission set's; false = only current.
	ListProvisionedAccounts(ctx context.Context, instanceARN, permissionSetARN string, outdated *bool, after string, limit int) ([]Provisioned, error)
	// ListProvisionedPermissionSets lists what is provisioned to an account, by permission set ARN > after.
	ListProvisionedPermissionSets(ctx context.Context, instanceARN, accountID string, outdated *bool, after string, limit int) ([]Provisioned, error)
	// DeleteAccountAccess removes an account's assignments and provisioning records (the account is closed).
	DeleteAccountAccess(ctx context.Context, accountID string) error

	InsertAccessRequest(ctx context.Context, r AccessRequest) error
	GetAccessRequest(ctx context.Context, instanceARN, kind, id string) (*AccessRequest, error)
	// ListAccessRequests lists one kind of request, status "" = any, by id > after.
	ListAccessRequests(ctx context.Context, instanceARN, kind, status, after string, limit int) ([]AccessRequest, error)
	// SettleAccessRequest runs fn on the locked request and stores the
	// outcome it leaves: Status, FailureReason and CompletedAt. The rest
	// was fixed when the request was made.
	SettleAccessRequest(ctx context.Context, instanceARN, kind, id string, fn func(*AccessRequest) error) (*AccessRequest, error)

	// GetAccessControlAttributes returns the instance's ABAC configuration; ErrNotFound when none.
	GetAccessControlAttributes(ctx context.Context, instanceARN string) (*AccessControlAttributes, error)
	// PutAccessControlAttributes inserts or replaces it.
	PutAccessControlAttributes(ctx context.Context, c AccessControlAttributes) error
	DeleteAccessControlAttributes(ctx context.Context, instanceARN string) error // ErrNotFound when none
}

// PermissionSet is a reusable bundle of policies, as sso-admin shows it.
type PermissionSet struct {
	InstanceARN      string
	ARN              string // arn:aws:sso:::permissionSet/ssoins-…/ps-<16 hex>
	Name             string // unique in the instance
	Description      string
	SessionDuration  string // ISO-8601, e.g. PT1H
	RelayState       string
	ManagedPolicies  []ManagedPolicy     // AWS managed policies, in attach order
	CustomerPolicies []CustomerPolicyRef // customer managed policy references, in attach order
	InlinePolicy     string              // "" = none
	Boundary         *PermissionsBoundary
	// Version grows with every change that a provisioned role must follow;
	// a Provisioned record with an older version is outdated.
	Version   int64
	CreatedAt time.Time
	UpdatedAt time.Time
}

// ManagedPolicy is an AWS managed policy attached to a permission set.
type ManagedPolicy struct {
	ARN  string // arn:aws:iam::aws:policy/…
	Name string
}

// CustomerPolicyRef names a customer managed policy expected in each target account.
type CustomerPolicyRef struct {
	Name string
	Path string // "/" when unset
}

// PermissionsBoundary is exactly one of a customer managed reference or an AWS managed policy ARN.
type PermissionsBoundary struct {
	CustomerPolicy   *CustomerPolicyRef `json:",omitempty"`
	ManagedPolicyARN string             `json:",omitempty"`
}

// PrincipalRef is a user or group of the identity store.
type PrincipalRef struct {
	Type string // USER | GROUP
	ID   string
}

// AccountAssignment gives a principal a permission set in an account.
type AccountAssignment struct {
	InstanceARN      string
	AccountID        string
	PermissionSetARN string
	PrincipalType    string // USER | GROUP
	PrincipalID      string
	CreatedAt        time.Time
}

// Key orders assignments for pagination: account, permission set, principal.
func (a AccountAssignment) Key() string {
	return a.AccountID + " " + a.PermissionSetARN + " " + a.PrincipalType + " " + a.PrincipalID
}

// Provisioned records a permission set provisioned to an account as a role.
type Provisioned struct {
	InstanceARN      string
	AccountID        string
	PermissionSetARN string
	RoleName         string // AWSReservedSSO_<name>_<16 hex>
	Version          int64  // the permission set's Version when last provisioned
	Outdated         bool   // filled on read: Version < the permission set's
	ProvisionedAt    time.Time
}

// Access request kinds.
const (
	RequestAssignmentCreation = "ASSIGNMENT_CREATION"
	RequestAssignmentDeletion = "ASSIGNMENT_DELETION"
	RequestProvisioning       = "PROVISIONING"
)

// Access request statuses, as sso-admin names them.
const (
	StatusInProgress = "IN_PROGRESS"
	StatusSucceeded  = "SUCCEEDED"
	StatusFailed     = "FAILED"
)

// AccessRequest tracks one asynchronous assignment or provisioning call.
type AccessRequest struct {
	InstanceARN      string
	Kind             string // Request*
	ID               string // UUID, the RequestId clients poll with
	Status           string
	FailureReason    string
	TargetID         string // account id; "" for ALL_PROVISIONED_ACCOUNTS
	TargetType       string // AWS_ACCOUNT | ALL_PROVISIONED_ACCOUNTS
	PermissionSetARN string
	PrincipalType    string // assignments only
	PrincipalID      string
	CreatedAt        time.Time
	CompletedAt      time.Time // zero while in progress
}

// AccessControlAttributes is an instance's ABAC configuration.
type AccessControlAttributes struct {
	InstanceARN  string
	Attributes   []AccessControlAttribute
	Status       string // ENABLED
	StatusReason string
	UpdatedAt    time.Time
}

// AccessControlAttribute maps a session tag key to where its value comes from.
type AccessControlAttribute struct {
	Key     string
	Sources []string // e.g. ${path:enterprise.department}
}
