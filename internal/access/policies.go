package access

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/atrium-sso/atrium/internal/awsproto"
	"github.com/atrium-sso/atrium/internal/policy"
	"github.com/atrium-sso/atrium/internal/store"
)

// What a permission set grants: AWS managed policies, references to customer
// managed policies (expected in every account it is provisioned to), one
// inline policy and a permissions boundary. Each change grows its version.

func (s *Service) policyOps() map[string]awsproto.Handler {
	return map[string]awsproto.Handler{
		"AttachManagedPolicyToPermissionSet":                    awsproto.Op(s.attachManagedPolicy),
		"DetachManagedPolicyFromPermissionSet":                  awsproto.Op(s.detachManagedPolicy),
		"ListManagedPoliciesInPermissionSet":                    awsproto.Op(s.listManagedPolicies),
		"AttachCustomerManagedPolicyReferenceToPermissionSet":   awsproto.Op(s.attachCustomerPolicy),
		"DetachCustomerManagedPolicyReferenceFromPermissionSet": awsproto.Op(s.detachCustomerPolicy),
		"ListCustomerManagedPolicyReferencesInPermissionSet":    awsproto.Op(s.listCustomerPolicies),
		"PutInlinePolicyToPermissionSet":                        awsproto.Op(s.putInlinePolicy),
		"GetInlinePolicyForPermissionSet":                       awsproto.Op(s.getInlinePolicy),
		"DeleteInlinePolicyFromPermissionSet":                   awsproto.Op(s.deleteInlinePolicy),
		"PutPermissionsBoundaryToPermissionSet":                 awsproto.Op(s.putPermissionsBoundary),
		"GetPermissionsBoundaryForPermissionSet":                awsproto.Op(s.getPermissionsBoundary),
		"DeletePermissionsBoundaryFromPermissionSet":            awsproto.Op(s.deletePermissionsBoundary),
	}
}

// maxAttachedPolicies is AWS's quota of managed and customer managed
// policies together on one permission set.
const maxAttachedPolicies = 20

func checkRoomForPolicy(ps *store.PermissionSet) error {
	if len(ps.ManagedPolicies)+len(ps.CustomerPolicies) >= maxAttachedPolicies {
		return quota("Permission set %s already has %d managed and customer managed policies, the most it can have.",
			permissionSetID(ps.ARN), maxAttachedPolicies)
	}
	return nil
}

// managedPolicy finds an AWS managed policy in the catalogue.
func managedPolicy(arn string) (store.ManagedPolicy, error) {
	p, ok := policy.Managed(arn)
	if !ok {
		return store.ManagedPolicy{}, notFound("The AWS managed policy %s does not exist.", arn)
	}
	return store.ManagedPolicy{ARN: p.ARN, Name: p.Name}, nil
}

// pageOf lists one page of a permission set's short list (at most 20
// policies), ordered by key so that a cursor stays valid across changes.
func pageOf[T any](s *Service, scope string, items []T, key func(T) string, max *int, token *string) ([]T, *string, error) {
	sorted := slices.Clone(items)
	slices.SortFunc(sorted, func(a, b T) int { return strings.Compare(key(a), key(b)) })
	return awsproto.Page(s.pager, scope, token, pageLimit(max, 100), errBadToken, func(after string, limit int) ([]T, error) {
		var page []T
		for _, it := range sorted {
			if key(it) > after && len(page) < limit {
				page = append(page, it)
			}
		}
		return page, nil
	}, key)
}

// --- AWS managed policies

type managedPolicyIn struct {
	InstanceArn      string
	PermissionSetArn string
	ManagedPolicyArn string
}

func (s *Service) attachManagedPolicy(ctx context.Context, in *managedPolicyIn) (*struct{}, error) {
	mp, err := managedPolicy(in.ManagedPolicyArn)
	if err != nil {
		return nil, err
	}
	return nil, s.changePermissionSet(ctx, in.InstanceArn, in.PermissionSetArn, func(ps *store.PermissionSet) (bool, error) {
		if slices.ContainsFunc(ps.ManagedPolicies, func(p store.ManagedPolicy) bool { return p.ARN == mp.ARN }) {
			// AWS's words, spelling included: clients match on them.
			return false, conflict("Permission set with id %s already has a typed link attachment to a manged policy with %s",
				permissionSetID(ps.ARN), mp.ARN)
		}
		if err := checkRoomForPolicy(ps); err != nil {
			return false, err
		}
		ps.ManagedPolicies = append(ps.ManagedPolicies, mp)
		return true, nil
	})
}

func (s *Service) detachManagedPolicy(ctx context.Context, in *managedPolicyIn) (*struct{}, error) {
	return nil, s.changePermissionSet(ctx, in.InstanceArn, in.PermissionSetArn, func(ps *store.PermissionSet) (bool, error) {
		i := slices.IndexFunc(ps.ManagedPolicies, func(p store.ManagedPolicy) bool { return p.ARN == in.ManagedPolicyArn })
		if i < 0 {
			return false, notFound("Could not find ManagedPolicy with arn %s attached to PermissionSet %s.", in.ManagedPolicyArn,
				permissionSetID(ps.ARN))
		}
		ps.ManagedPolicies = slices.Delete(ps.ManagedPolicies, i, i+1)
		return true, nil
	})
}

type listPoliciesIn struct {
	InstanceArn      string
	PermissionSetArn string
	MaxResults       *int
	NextToken        *string
}

type attachedManagedPolicy struct {
	Name string
	Arn  string
}

type listManagedPoliciesOut struct {
	AttachedManagedPolicies []attachedManagedPolicy
	NextToken               *string `json:",omitempty"`
}

func (s *Service) listManagedPolicies(ctx context.Context, in *listPoliciesIn) (*listManagedPoliciesOut, error) {
	out := listManagedPoliciesOut{AttachedManagedPolicies: []attachedManagedPolicy{}}
	return &out, s.read(ctx, in.InstanceArn, func(tx store.Tx, _ *store.Instance) error {
		ps, err := permissionSet(ctx, tx, in.InstanceArn, in.PermissionSetArn)
		if err != nil {
			return err
		}
		list, next, err := pageOf(s, "ListManagedPoliciesInPermissionSet/"+ps.ARN, ps.ManagedPolicies,
			func(p store.ManagedPolicy) string { return p.ARN }, in.MaxResults, in.NextToken)
		for _, p := range list {
			out.AttachedManagedPolicies = append(out.AttachedManagedPolicies, attachedManagedPolicy{Name: p.Name, Arn: p.ARN})
		}
		out.NextToken = next
		return err
	})
}

// --- customer managed policy references

type customerPolicyRef struct {
	Name string
	Path string `json:",omitempty"`
}

// ref is the reference as stored: the path defaults to "/".
func (r customerPolicyRef) ref() store.CustomerPolicyRef {
	if r.Path == "" {
		r.Path = "/"
	}
	return store.CustomerPolicyRef{Name: r.Name, Path: r.Path}
}

func customerPolicyKey(r store.CustomerPolicyRef) string { return r.Path + r.Name }

type customerPolicyIn struct {
	InstanceArn                    string
	PermissionSetArn               string
	CustomerManagedPolicyReference customerPolicyRef
}

func (s *Service) attachCustomerPolicy(ctx context.Context, in *customerPolicyIn) (*struct{}, error) {
	ref := in.CustomerManagedPolicyReference.ref()
	return nil, s.changePermissionSet(ctx, in.InstanceArn, in.PermissionSetArn, func(ps *store.PermissionSet) (bool, error) {
		if slices.Contains(ps.CustomerPolicies, ref) {
			return false, conflict("Permission set with id %s already has a customer managed policy reference with name %s and path %s",
				permissionSetID(ps.ARN), ref.Name, ref.Path)
		}
		if err := checkRoomForPolicy(ps); err != nil {
			return false, err
		}
		ps.CustomerPolicies = append(ps.CustomerPolicies, ref)
		return true, nil
	})
}

func (s *Service) detachCustomerPolicy(ctx context.Context, in *customerPolicyIn) (*struct{}, error) {
	ref := in.CustomerManagedPolicyReference.ref()
	return nil, s.changePermissionSet(ctx, in.InstanceArn, in.PermissionSetArn, func(ps *store.PermissionSet) (bool, error) {
		i := slices.Index(ps.CustomerPolicies, ref)
		if i < 0 {
			return false, notFound("Could not find customer managed policy reference with name %s and path %s in PermissionSet %s.",
				ref.Name, ref.Path, permissionSetID(ps.ARN))
		}
		ps.CustomerPolicies = slices.Delete(ps.CustomerPolicies, i, i+1)
		return true, nil
	})
}

type listCustomerPoliciesOut struct {
	CustomerManagedPolicyReferences []customerPolicyRef
	NextToken                       *string `json:",omitempty"`
}

func (s *Service) listCustomerPolicies(ctx context.Context, in *listPoliciesIn) (*listCustomerPoliciesOut, error) {
	out := listCustomerPoliciesOut{CustomerManagedPolicyReferences: []customerPolicyRef{}}
	return &out, s.read(ctx, in.InstanceArn, func(tx store.Tx, _ *store.Instance) error {
		ps, err := permissionSet(ctx, tx, in.InstanceArn, in.PermissionSetArn)
		if err != nil {
			return err
		}
		list, next, err := pageOf(s, "ListCustomerManagedPolicyReferencesInPermissionSet/"+ps.ARN, ps.CustomerPolicies,
			customerPolicyKey, in.MaxResults, in.NextToken)
		for _, r := range list {
			out.CustomerManagedPolicyReferences = append(out.CustomerManagedPolicyReferences, customerPolicyRef{Name: r.Name, Path: r.Path})
		}
		out.NextToken = next
		return err
	})
}

// --- the inline policy

type putInlinePolicyIn struct {
	InstanceArn      string
	PermissionSetArn string
	InlinePolicy     string
}

func (s *Service) putInlinePolicy(ctx context.Context, in *putInlinePolicyIn) (*struct{}, error) {
	if _, err := policy.Parse(in.InlinePolicy, policy.Identity); err != nil {
		var pe *policy.Error
		if errors.As(err, &pe) {
			return nil, invalid("Invalid PermissionsPolicy Document: %s", pe.Message)
		}
		return nil, err
	}
	return nil, s.changePermissionSet(ctx, in.InstanceArn, in.PermissionSetArn, func(ps *store.PermissionSet) (bool, error) {
		changed := ps.InlinePolicy != in.InlinePolicy
		ps.InlinePolicy = in.InlinePolicy
		return changed, nil
	})
}

type inlinePolicyOut struct {
	InlinePolicy string `json:",omitempty"`
}

// getInlinePolicy answers no InlinePolicy when there is none, as AWS does.
func (s *Service) getInlinePolicy(ctx context.Context, in *permissionSetIn) (*inlinePolicyOut, error) {
	var out inlinePolicyOut
	return &out, s.read(ctx, in.InstanceArn, func(tx store.Tx, _ *store.Instance) error {
		ps, err := permissionSet(ctx, tx, in.InstanceArn, in.PermissionSetArn)
		if err == nil {
			out.InlinePolicy = ps.InlinePolicy
		}
		return err
	})
}

// deleteInlinePolicy is idempotent: deleting what is not there changes nothing.
func (s *Service) deleteInlinePolicy(ctx context.Context, in *permissionSetIn) (*struct{}, error) {
	return nil, s.changePermissionSet(ctx, in.InstanceArn, in.PermissionSetArn, func(ps *store.PermissionSet) (bool, error) {
		changed := ps.InlinePolicy != ""
		ps.InlinePolicy = ""
		return changed, nil
	})
}

// --- the permissions boundary

type permissionsBoundary struct {
	CustomerManagedPolicyReference *customerPolicyRef `json:",omitempty"`
	ManagedPolicyArn               string             `json:",omitempty"`
}

type putBoundaryIn struct {
	InstanceArn         string
	PermissionSetArn    string
	PermissionsBoundary permissionsBoundary
}

func (s *Service) putPermissionsBoundary(ctx context.Context, in *putBoundaryIn) (*struct{}, error) {
	b := in.PermissionsBoundary
	var boundary store.PermissionsBoundary
	switch {
	case (b.CustomerManagedPolicyReference == nil) == (b.ManagedPolicyArn == ""):
		return nil, invalid("A PermissionsBoundary is either a CustomerManagedPolicyReference or a ManagedPolicyArn, exactly one of them.")
	case b.CustomerManagedPolicyReference != nil:
		ref := b.CustomerManagedPolicyReference.ref()
		boundary.CustomerPolicy = &ref
	default:
		mp, err := managedPolicy(b.ManagedPolicyArn)
		if err != nil {
			return nil, err
		}
		boundary.ManagedPolicyARN = mp.ARN
	}
	return nil, s.changePermissionSet(ctx, in.InstanceArn, in.PermissionSetArn, func(ps *store.PermissionSet) (bool, error) {
		changed := ps.Boundary == nil || !sameBoundary(*ps.Boundary, boundary)
		ps.Boundary = &boundary
		return changed, nil
	})
}

func sameBoundary(a, b store.PermissionsBoundary) bool {
	if (a.CustomerPolicy == nil) != (b.CustomerPolicy == nil) {
		return false
	}
	return a.ManagedPolicyARN == b.ManagedPolicyARN && (a.CustomerPolicy == nil || *a.CustomerPolicy == *b.CustomerPolicy)
}

type boundaryOut struct {
	PermissionsBoundary permissionsBoundary
}

// getPermissionsBoundary answers ResourceNotFoundException when there is
// none, as AWS does (clients rely on it to see that none is set).
func (s *Service) getPermissionsBoundary(ctx context.Context, in *permissionSetIn) (*boundaryOut, error) {
	var out boundaryOut
	return &out, s.read(ctx, in.InstanceArn, func(tx store.Tx, _ *store.Instance) error {
		ps, err := permissionSet(ctx, tx, in.InstanceArn, in.PermissionSetArn)
		if err != nil {
			return err
		}
		if ps.Boundary == nil {
			return notFound("Could not find a permissions boundary for PermissionSet %s.", permissionSetID(ps.ARN))
		}
		out.PermissionsBoundary.ManagedPolicyArn = ps.Boundary.ManagedPolicyARN
		if c := ps.Boundary.CustomerPolicy; c != nil {
			out.PermissionsBoundary.CustomerManagedPolicyReference = &customerPolicyRef{Name: c.Name, Path: c.Path}
		}
		return nil
	})
}

// deletePermissionsBoundary is idempotent, like deleteInlinePolicy.
func (s *Service) deletePermissionsBoundary(ctx context.Context, in *permissionSetIn) (*struct{}, error) {
	return nil, s.changePermissionSet(ctx, in.InstanceArn, in.PermissionSetArn, func(ps *store.PermissionSet) (bool, error) {
		changed := ps.Boundary != nil
		ps.Boundary = nil
		return changed, nil
	})
}
