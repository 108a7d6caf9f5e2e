package iam

import (
	"context"
	"slices"
	"strconv"
	"strings"

	"github.com/atrium-sso/atrium/internal/awsproto"
	"github.com/atrium-sso/atrium/internal/store"
)

type roleOut struct {
	Path                     string
	RoleName                 string
	RoleId                   string
	Arn                      string
	CreateDate               awsproto.Timestamp
	AssumeRolePolicyDocument string `xml:",omitempty"`
	Description              string `xml:",omitempty"`
	MaxSessionDuration       int
	PermissionsBoundary      *boundaryOut
}

type boundaryOut struct {
	PermissionsBoundaryType string
	PermissionsBoundaryArn  string
}

// toRole is a role as GetRole shows it; ListRoles leaves the boundary out, as IAM does.
func toRole(r *store.IAMRole, withBoundary bool) roleOut {
	out := roleOut{Path: r.Path, RoleName: r.Name, RoleId: r.RoleID, Arn: r.ARN(), CreateDate: awsproto.Timestamp(r.CreatedAt),
		AssumeRolePolicyDocument: urlEncode(r.AssumeRolePolicy), Description: r.Description, MaxSessionDuration: r.MaxSessionDuration}
	if withBoundary && r.BoundaryARN != "" {
		out.PermissionsBoundary = &boundaryOut{PermissionsBoundaryType: "PermissionsBoundaryPolicy", PermissionsBoundaryArn: r.BoundaryARN}
	}
	return out
}

// role loads a role of the caller's account or answers NoSuchEntity.
func role(ctx context.Context, tx store.Tx, name string) (*store.IAMRole, error) {
	r, err := tx.GetRole(ctx, account(ctx), name)
	return r, notFoundAs(err, noSuchEntity("The role with name %s cannot be found.", name))
}

type getRoleIn struct{ RoleName string }

type getRoleOut struct{ Role roleOut }

func (s *Service) getRole(ctx context.Context, in *getRoleIn) (*getRoleOut, error) {
	var out getRoleOut
	return &out, s.store.Read(ctx, func(tx store.Tx) error {
		r, err := role(ctx, tx, in.RoleName)
		if err != nil {
			return err
		}
		out.Role = toRole(r, true)
		return nil
	})
}

type listRolesIn struct {
	PathPrefix *string
	Marker     *string
	MaxItems   *int
}

type listRolesOut struct {
	Roles members[roleOut]
	page
}

func (s *Service) listRoles(ctx context.Context, in *listRolesIn) (*listRolesOut, error) {
	prefix := deref(in.PathPrefix)
	acct := account(ctx)
	out := listRolesOut{Roles: members[roleOut]{}}
	return &out, s.store.Read(ctx, func(tx store.Tx) error {
		roles, next, err := awsproto.Page(s.pager, "ListRoles\x00"+acct+"\x00"+prefix, in.Marker, pageSize(in.MaxItems), errBadMarker,
			func(after string, limit int) ([]store.IAMRole, error) {
				return tx.ListRoles(ctx, acct, prefix, after, limit)
			},
			func(r store.IAMRole) string { return store.NameKey(r.Name) })
		if err != nil {
			return err
		}
		for i := range roles {
			out.Roles = append(out.Roles, toRole(&roles[i], false))
		}
		out.page = pageOf(next)
		return nil
	})
}

type attachedPolicyOut struct {
	PolicyName string
	PolicyArn  string
}

type listAttachedRolePoliciesIn struct {
	RoleName   string
	PathPrefix *string
	Marker     *string
	MaxItems   *int
}

type listAttachedRolePoliciesOut struct {
	AttachedPolicies members[attachedPolicyOut]
	page
}

func (s *Service) listAttachedRolePolicies(ctx context.Context, in *listAttachedRolePoliciesIn) (*listAttachedRolePoliciesOut, error) {
	prefix := deref(in.PathPrefix)
	out := listAttachedRolePoliciesOut{AttachedPolicies: members[attachedPolicyOut]{}}
	return &out, s.store.Read(ctx, func(tx store.Tx) error {
		r, err := role(ctx, tx, in.RoleName)
		if err != nil {
			return err
		}
		// In attach order; the cursor is the position of the last one shown.
		var attached []attachedPolicyOut
		var positions []int
		for i, arn := range r.ManagedPolicyARNs {
			if _, path, name, ok := splitPolicyARN(arn); ok && strings.HasPrefix(path, prefix) {
				attached = append(attached, attachedPolicyOut{PolicyName: name, PolicyArn: arn})
				positions = append(positions, i)
			}
		}
		list, next, err := awsproto.Page(s.pager, "ListAttachedRolePolicies\x00"+r.ARN()+"\x00"+prefix, in.Marker, pageSize(in.MaxItems), errBadMarker,
			func(after string, limit int) ([]int, error) { return positionsAfter(positions, after, limit) },
			strconv.Itoa)
		if err != nil {
			return err
		}
		for _, pos := range list {
			out.AttachedPolicies = append(out.AttachedPolicies, attached[slices.Index(positions, pos)])
		}
		out.page = pageOf(next)
		return nil
	})
}

// positionsAfter pages through ascending positions by the last one seen ("" = none).
func positionsAfter(positions []int, after string, limit int) ([]int, error) {
	start := 0
	if after != "" {
		last, err := strconv.Atoi(after)
		if err != nil {
			return nil, errBadMarker
		}
		start, _ = slices.BinarySearch(positions, last+1)
	}
	return positions[start:min(len(positions), start+limit)], nil
}

type listRolePoliciesIn struct {
	RoleName string
	Marker   *string
	MaxItems *int
}

type listRolePoliciesOut struct {
	PolicyNames members[string]
	page
}

func (s *Service) listRolePolicies(ctx context.Context, in *listRolePoliciesIn) (*listRolePoliciesOut, error) {
	out := listRolePoliciesOut{PolicyNames: members[string]{}}
	return &out, s.store.Read(ctx, func(tx store.Tx) error {
		r, err := role(ctx, tx, in.RoleName)
		if err != nil {
			return err
		}
		names := make([]string, 0, len(r.InlinePolicies))
		for _, p := range r.InlinePolicies {
			names = append(names, p.Name)
		}
		slices.SortFunc(names, func(a, b string) int { return strings.Compare(store.NameKey(a), store.NameKey(b)) })
		list, next, err := awsproto.Page(s.pager, "ListRolePolicies\x00"+r.ARN(), in.Marker, pageSize(in.MaxItems), errBadMarker,
			func(after string, limit int) ([]string, error) {
				start := 0
				if after != "" {
					start, _ = slices.BinarySearchFunc(names, after, func(n, key string) int {
						if store.NameKey(n) <= key {
							return -1
						}
						return 1
					})
				}
				return names[start:min(len(names), start+limit)], nil
			}, store.NameKey)
		if err != nil {
			return err
		}
		out.PolicyNames = append(out.PolicyNames, list...)
		out.page = pageOf(next)
		return nil
	})
}

type getRolePolicyIn struct {
	RoleName   string
	PolicyName string
}

type getRolePolicyOut struct {
	RoleName       string
	PolicyName     string
	PolicyDocument string
}

func (s *Service) getRolePolicy(ctx context.Context, in *getRolePolicyIn) (*getRolePolicyOut, error) {
	var out getRolePolicyOut
	return &out, s.store.Read(ctx, func(tx store.Tx) error {
		r, err := role(ctx, tx, in.RoleName)
		if err != nil {
			return err
		}
		for _, p := range r.InlinePolicies {
			if store.NameKey(p.Name) == store.NameKey(in.PolicyName) {
				out = getRolePolicyOut{RoleName: r.Name, PolicyName: p.Name, PolicyDocument: urlEncode(p.Document)}
				return nil
			}
		}
		return noSuchEntity("The role policy with name %s cannot be found.", in.PolicyName)
	})
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
