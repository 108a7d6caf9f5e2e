package access

import (
	"context"

	"github.com/atrium-sso/atrium/internal/store"
)

// Roles is where provisioned roles live. Here it is the organization's own
// IAM in the store (package iam); a backend for real AWS accounts would call
// their IAM APIs instead, so nothing in this package touches roles directly.
type Roles interface {
	// PutRole creates or replaces the role described by spec, inside tx. A
	// *ProvisioningError says why the account cannot take it (a customer
	// managed policy missing there, say); other errors are faults to retry.
	PutRole(ctx context.Context, tx store.Tx, spec RoleSpec) error
	// DeleteRole removes the role; a role already gone is not an error.
	DeleteRole(ctx context.Context, tx store.Tx, accountID, name string) error
}

// RoleSpec is everything a provisioned role is made of.
type RoleSpec struct {
	AccountID        string
	Name             string // AWSReservedSSO_<permission set>_<16 hex>
	Path             string // /aws-reserved/sso.amazonaws.com/
	TrustPolicy      string
	Description      string
	MaxSessionSecs   int
	ManagedPolicies  []store.ManagedPolicy
	CustomerPolicies []store.CustomerPolicyRef
	InlinePolicy     string // "" = none
	Boundary         *store.PermissionsBoundary
}

// ProvisioningError is a failure that retrying will not fix; its message
// is the FailureReason clients see.
type ProvisioningError struct{ Reason string }

func (e *ProvisioningError) Error() string { return e.Reason }
