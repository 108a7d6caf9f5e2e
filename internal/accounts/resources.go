package accounts

import (
	"context"
	"strings"

	"github.com/atrium-sso/atrium/internal/awsproto"
	"github.com/atrium-sso/atrium/internal/store"
)

// resources names, per operation, the accounts, organizational units and
// root it acts on, as the Service Authorization Reference lists the
// resource types of Organizations' actions. Those that list none
// (DescribeOrganization, ListAccounts, CreateAccount, …) act on "*".
func (s *Service) resources() map[string]awsproto.ResourceFunc {
	named := func(members ...string) awsproto.ResourceFunc {
		return func(ctx context.Context, in *awsproto.Input) ([]string, error) {
			var arns []string
			err := s.read(ctx, func(_ store.Tx, org *store.Organization) error {
				for _, m := range members {
					if id := in.String(m); id != "" {
						arns = append(arns, idARN(org, id))
					}
				}
				return nil
			})
			return arns, err
		}
	}
	return map[string]awsproto.ResourceFunc{
		"DescribeAccount":                  named("AccountId"),
		"CloseAccount":                     named("AccountId"),
		"MoveAccount":                      named("AccountId", "SourceParentId", "DestinationParentId"),
		"ListAccountsForParent":            named("ParentId"),
		"CreateOrganizationalUnit":         named("ParentId"),
		"DescribeOrganizationalUnit":       named("OrganizationalUnitId"),
		"UpdateOrganizationalUnit":         named("OrganizationalUnitId"),
		"DeleteOrganizationalUnit":         named("OrganizationalUnitId"),
		"ListOrganizationalUnitsForParent": named("ParentId"),
		"ListChildren":                     named("ParentId"),
		"ListParents":                      named("ChildId"),
		"TagResource":                      named("ResourceId"),
		"UntagResource":                    named("ResourceId"),
		"ListTagsForResource":              named("ResourceId"),
	}
}

// idARN is the ARN of an account, root or organizational unit id.
func idARN(org *store.Organization, id string) string {
	switch {
	case strings.HasPrefix(id, "r-"):
		return "arn:aws:organizations::" + org.ManagementAccountID + ":root/" + org.ID + "/" + id
	case strings.HasPrefix(id, "ou-"):
		return ouARN(org, id)
	}
	return accountARN(org, id)
}
