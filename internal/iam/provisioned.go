package iam

import (
	"context"
	"errors"
	"time"

	"github.com/atrium-sso/atrium/internal/access"
	"github.com/atrium-sso/atrium/internal/ids"
	"github.com/atrium-sso/atrium/internal/store"
)

// ManagedBySSO marks the roles Identity Center provisions: IAM protects them.
const ManagedBySSO = "sso.amazonaws.com"

// InlinePolicyName is the name a permission set's inline policy has on its roles.
const InlinePolicyName = "AwsSSOInlinePolicy"

// Roles keeps provisioned roles in the organization's own IAM, in the store
// (access.Roles).
type Roles struct{}

var _ access.Roles = Roles{}

// PutRole resolves every policy the spec names in the target account, then
// writes the role; a policy the account lacks fails the provisioning.
func (Roles) PutRole(ctx context.Context, tx store.Tx, spec access.RoleSpec) error {
	arns := make([]string, 0, len(spec.ManagedPolicies)+len(spec.CustomerPolicies))
	for _, mp := range spec.ManagedPolicies {
		if awsManaged(mp.ARN) == nil {
			return notAttachable(mp.ARN)
		}
		arns = append(arns, mp.ARN)
	}
	for _, ref := range spec.CustomerPolicies {
		arn, err := customerPolicy(ctx, tx, spec.AccountID, ref)
		if err != nil {
			return err
		}
		arns = append(arns, arn)
	}
	boundary := ""
	if b := spec.Boundary; b != nil && b.CustomerPolicy != nil {
		arn, err := customerPolicy(ctx, tx, spec.AccountID, *b.CustomerPolicy)
		if err != nil {
			return err
		}
		boundary = arn
	} else if b != nil && b.ManagedPolicyARN != "" {
		if awsManaged(b.ManagedPolicyARN) == nil {
			return notAttachable(b.ManagedPolicyARN)
		}
		boundary = b.ManagedPolicyARN
	}
	var inline []store.InlinePolicy
	if spec.InlinePolicy != "" {
		inline = []store.InlinePolicy{{Name: InlinePolicyName, Document: spec.InlinePolicy}}
	}
	now := time.Now().UTC()
	// A role provisioned before keeps its id and creation date (the store sees to it).
	return tx.PutRole(ctx, store.IAMRole{AccountID: spec.AccountID, Name: spec.Name, Path: spec.Path, RoleID: ids.RoleID(),
		AssumeRolePolicy: spec.TrustPolicy, Description: spec.Description, MaxSessionDuration: spec.MaxSessionSecs, BoundaryARN: boundary,
		ManagedPolicyARNs: arns, InlinePolicies: inline, ManagedBy: ManagedBySSO, CreatedAt: now, UpdatedAt: now})
}

// DeleteRole removes a provisioned role; one already gone is not an error.
func (Roles) DeleteRole(ctx context.Context, tx store.Tx, accountID, name string) error {
	if err := tx.DeleteRole(ctx, accountID, name); err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	return nil
}

// customerPolicy finds the customer managed policy a reference names in the account.
func customerPolicy(ctx context.Context, tx store.Tx, accountID string, ref store.CustomerPolicyRef) (string, error) {
	path := ref.Path
	if path == "" {
		path = "/"
	}
	p, err := tx.GetPolicyByName(ctx, accountID, path, ref.Name)
	if errors.Is(err, store.ErrNotFound) {
		return "", notAttachable("arn:aws:iam::" + accountID + ":policy" + path + ref.Name)
	}
	if err != nil {
		return "", err
	}
	return p.ARN, nil
}

// notAttachable is IAM's answer for attaching a policy the account lacks, as
// the failure of a provisioning.
func notAttachable(arn string) *access.ProvisioningError {
	return &access.ProvisioningError{Reason: "Received a 404 status error: Policy " + arn + " does not exist or is not attachable."}
}
