package iam

import (
	"context"
	"time"

	"github.com/atrium-sso/atrium/internal/ids"
	"github.com/atrium-sso/atrium/internal/store"
)

// OrganizationAccountAccessRoleName is the role Organizations creates in
// every account it creates, for the management account to administer it.
const OrganizationAccountAccessRoleName = "OrganizationAccountAccessRole"

// AdministratorAccessARN is the AWS managed policy that role carries.
const AdministratorAccessARN = "arn:aws:iam::aws:policy/AdministratorAccess"

// CreateOrganizationAccountAccessRole puts OrganizationAccountAccessRole in
// a new account, inside tx: full administrator, assumable by the management
// account, as CreateAccount leaves it on AWS.
func CreateOrganizationAccountAccessRole(ctx context.Context, tx store.Tx, accountID, managementAccountID string) error {
	now := time.Now().UTC()
	return tx.PutRole(ctx, store.IAMRole{AccountID: accountID, Name: OrganizationAccountAccessRoleName, Path: "/", RoleID: ids.RoleID(),
		AssumeRolePolicy: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + managementAccountID +
			`:root"},"Action":"sts:AssumeRole"}]}`,
		MaxSessionDuration: 3600, ManagedPolicyARNs: []string{AdministratorAccessARN}, CreatedAt: now, UpdatedAt: now})
}
