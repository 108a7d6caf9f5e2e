package access

import (
	"cmp"
	"context"
	"strings"

	"github.com/atrium-sso/atrium/internal/awsproto"
)

// The parts of sso-admin's IAM resources an operation names, as the
// Service Authorization Reference requires them of its action.
type resourcePart int

const (
	onInstance      resourcePart = iota // InstanceArn
	onPermissionSet                     // PermissionSetArn; a new one: all of the instance's
	onAccount                           // the target account; none named: all accounts
	onTagged                            // ResourceArn: the instance or permission set tagged
)

// resourceParts lists them per operation. ListInstances acts on "*".
var resourceParts = map[string][]resourcePart{
	"DescribeInstance": {onInstance},
	"UpdateInstance":   {onInstance},
	"CreateInstance":   {onInstance},
	"DeleteInstance":   {onInstance},

	"CreatePermissionSet":   {onInstance, onPermissionSet},
	"DescribePermissionSet": {onInstance, onPermissionSet},
	"UpdatePermissionSet":   {onInstance, onPermissionSet},
	"DeletePermissionSet":   {onInstance, onPermissionSet},
	"ListPermissionSets":    {onInstance},

	"AttachManagedPolicyToPermissionSet":                    {onInstance, onPermissionSet},
	"DetachManagedPolicyFromPermissionSet":                  {onInstance, onPermissionSet},
	"ListManagedPoliciesInPermissionSet":                    {onInstance, onPermissionSet},
	"AttachCustomerManagedPolicyReferenceToPermissionSet":   {onInstance, onPermissionSet},
	"DetachCustomerManagedPolicyReferenceFromPermissionSet": {onInstance, onPermissionSet},
	"ListCustomerManagedPolicyReferencesInPermissionSet":    {onInstance, onPermissionSet},
	"PutInlinePolicyToPermissionSet":                        {onInstance, onPermissionSet},
	"GetInlinePolicyForPermissionSet":                       {onInstance, onPermissionSet},
	"DeleteInlinePolicyFromPermissionSet":                   {onInstance, onPermissionSet},
	"PutPermissionsBoundaryToPermissionSet":                 {onInstance, onPermissionSet},
	"GetPermissionsBoundaryForPermissionSet":                {onInstance, onPermissionSet},
	"DeletePermissionsBoundaryFromPermissionSet":            {onInstance, onPermissionSet},

	"ProvisionPermissionSet":                  {onInstance, onPermissionSet, onAccount},
	"DescribePermissionSetProvisioningStatus": {onInstance},
	"ListPermissionSetProvisioningStatus":     {onInstance},
	"ListAccountsForProvisionedPermissionSet": {onInstance, onPermissionSet},
	"ListPermissionSetsProvisionedToAccount":  {onInstance, onAccount},

	"CreateAccountAssignment":                 {onInstance, onPermissionSet, onAccount},
	"DeleteAccountAssignment":                 {onInstance, onPermissionSet, onAccount},
	"DescribeAccountAssignmentCreationStatus": {onInstance},
	"DescribeAccountAssignmentDeletionStatus": {onInstance},
	"ListAccountAssignmentCreationStatus":     {onInstance},
	"ListAccountAssignmentDeletionStatus":     {onInstance},
	"ListAccountAssignments":                  {onInstance, onPermissionSet, onAccount},
	"ListAccountAssignmentsForPrincipal":      {onInstance},

	"CreateInstanceAccessControlAttributeConfiguration":   {onInstance},
	"DescribeInstanceAccessControlAttributeConfiguration": {onInstance},
	"UpdateInstanceAccessControlAttributeConfiguration":   {onInstance},
	"DeleteInstanceAccessControlAttributeConfiguration":   {onInstance},

	"TagResource":         {onInstance, onTagged},
	"UntagResource":       {onInstance, onTagged},
	"ListTagsForResource": {onInstance, onTagged},
}

// resources turns resourceParts into each operation's ARNs, all from its input.
func resources() map[string]awsproto.ResourceFunc {
	out := make(map[string]awsproto.ResourceFunc, len(resourceParts))
	for op, parts := range resourceParts {
		out[op] = func(_ context.Context, in *awsproto.Input) ([]string, error) {
			return resourceARNs(in, parts), nil
		}
	}
	return out
}

func resourceARNs(in *awsproto.Input, parts []resourcePart) []string {
	instance := cmp.Or(in.String("InstanceArn"), "arn:aws:sso:::instance/*")
	arns := make([]string, 0, len(parts))
	for _, p := range parts {
		switch p {
		case onInstance:
			arns = append(arns, instance)
		case onPermissionSet:
			_, id, _ := strings.Cut(instance, ":instance/")
			arns = append(arns, cmp.Or(in.String("PermissionSetArn"), "arn:aws:sso:::permissionSet/"+id+"/*"))
		case onAccount:
			arns = append(arns, "arn:aws:sso:::account/"+cmp.Or(in.String("TargetId"), in.String("AccountId"), "*"))
		case onTagged:
			if r := in.String("ResourceArn"); r != "" && r != instance {
				arns = append(arns, r)
			}
		}
	}
	return arns
}
