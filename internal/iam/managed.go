package iam

import (
	"slices"
	"strings"
	"sync"

	"github.com/atrium-sso/atrium/internal/ids"
	"github.com/atrium-sso/atrium/internal/policy"
	"github.com/atrium-sso/atrium/internal/store"
)

// catalogue is AWS's managed policies as IAM shows them, ordered by
// catalogueKey for listing.
var catalogue = sync.OnceValue(func() []*managedPolicy {
	all := policy.ManagedPolicies()
	out := make([]*managedPolicy, len(all))
	for i := range all {
		out[i] = fromCatalogue(&all[i])
	}
	slices.SortFunc(out, func(a, b *managedPolicy) int { return strings.Compare(catalogueKey(a), catalogueKey(b)) })
	return out
})

// catalogueKey orders AWS managed policies as the account's own are
// ordered: by name ignoring case (AWS's names are unique so).
func catalogueKey(p *managedPolicy) string { return store.NameKey(p.Name) }

func fromCatalogue(p *policy.ManagedPolicy) *managedPolicy {
	return &managedPolicy{ARN: p.ARN, Name: p.Name, Path: p.Path, ID: ids.PolicyIDOf(p.ARN), Document: p.Document,
		VersionID: p.DefaultVersionID, CreatedAt: p.CreateDate, UpdatedAt: p.UpdateDate}
}

// awsManaged finds an AWS managed policy by ARN, or nil.
func awsManaged(arn string) *managedPolicy {
	p, ok := policy.Managed(arn)
	if !ok {
		return nil
	}
	return fromCatalogue(p)
}
