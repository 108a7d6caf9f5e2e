package iam

import (
	"cmp"
	"context"
	"errors"

	"github.com/atrium-sso/atrium/internal/awsproto"
	"github.com/atrium-sso/atrium/internal/store"
)

// resources names the role or policy each operation acts on, as the
// Service Authorization Reference lists IAM's resource types; ListRoles
// and ListPolicies act on "*". A role's ARN holds its path, which only the
// store knows: a role that does not exist is named without one.
func (s *Service) resources() map[string]awsproto.ResourceFunc {
	roleNamed := func(ctx context.Context, in *awsproto.Input) ([]string, error) {
		name := in.String("RoleName")
		arn := "arn:aws:iam::" + account(ctx) + ":role/" + name
		err := s.store.Read(ctx, func(tx store.Tx) error {
			r, err := tx.GetRole(ctx, account(ctx), name)
			if err == nil {
				arn = r.ARN()
			}
			return err
		})
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
		return []string{arn}, nil
	}
	policyNamed := func(_ context.Context, in *awsproto.Input) ([]string, error) {
		return []string{in.String("PolicyArn")}, nil
	}
	return map[string]awsproto.ResourceFunc{
		"GetRole":                  roleNamed,
		"ListAttachedRolePolicies": roleNamed,
		"ListRolePolicies":         roleNamed,
		"GetRolePolicy":            roleNamed,
		"CreatePolicy": func(ctx context.Context, in *awsproto.Input) ([]string, error) {
			return []string{"arn:aws:iam::" + account(ctx) + ":policy" + cmp.Or(in.String("Path"), "/") + in.String("PolicyName")}, nil
		},
		"GetPolicy":        policyNamed,
		"GetPolicyVersion": policyNamed,
		"DeletePolicy":     policyNamed,
	}
}
