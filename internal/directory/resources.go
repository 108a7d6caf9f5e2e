package directory

import (
	"context"
	"errors"

	"github.com/atrium-sso/atrium/internal/apierr"
	"github.com/atrium-sso/atrium/internal/awsproto"
	"github.com/atrium-sso/atrium/internal/principal"
	"github.com/atrium-sso/atrium/internal/store"
)

// The resources of identitystore's IAM actions, as the Service
// Authorization Reference names them: users, groups and memberships have
// ARNs without account, the identity store one with its owner's.
const (
	allUsers       = "arn:aws:identitystore:::user/*"
	allGroups      = "arn:aws:identitystore:::group/*"
	allMemberships = "arn:aws:identitystore:::membership/*"
)

func groupARN(id string) string      { return "arn:aws:identitystore:::group/" + id }
func membershipARN(id string) string { return "arn:aws:identitystore:::membership/" + id }

// resources names, for each operation, the identity store and the users,
// groups and memberships it acts on: every resource type the reference
// marks required for the action. A lookup by attribute (GetUserId,
// GetGroupId, GetGroupMembershipId) acts on all of its kind, for the
// caller may not learn which one matched before it is allowed to.
func (s *Service) resources() map[string]awsproto.ResourceFunc {
	with := func(extra func(in *awsproto.Input) []string) awsproto.ResourceFunc {
		return func(ctx context.Context, in *awsproto.Input) ([]string, error) {
			arn, err := s.storeARN(ctx, in.String("IdentityStoreId"))
			if err != nil {
				return nil, err
			}
			return append([]string{arn}, extra(in)...), nil
		}
	}
	user := with(func(in *awsproto.Input) []string { return []string{store.UserARN(in.String("UserId"))} })
	group := with(func(in *awsproto.Input) []string { return []string{groupARN(in.String("GroupId"))} })
	return map[string]awsproto.ResourceFunc{
		"CreateUser":   with(func(*awsproto.Input) []string { return nil }),
		"DescribeUser": user,
		"UpdateUser":   user,
		"DeleteUser":   user,
		"ListUsers":    with(func(*awsproto.Input) []string { return []string{allUsers} }),
		"GetUserId":    with(func(*awsproto.Input) []string { return []string{allUsers} }),

		"CreateGroup":   with(func(*awsproto.Input) []string { return nil }),
		"DescribeGroup": group,
		"UpdateGroup":   group,
		"DeleteGroup":   group,
		"ListGroups":    with(func(*awsproto.Input) []string { return []string{allGroups} }),
		"GetGroupId":    with(func(*awsproto.Input) []string { return []string{allGroups} }),

		"CreateGroupMembership": with(func(in *awsproto.Input) []string {
			return []string{groupARN(in.String("GroupId")), store.UserARN(in.String("MemberId", "UserId"))}
		}),
		"DescribeGroupMembership": s.membershipResources,
		"DeleteGroupMembership":   s.membershipResources,
		"GetGroupMembershipId": with(func(in *awsproto.Input) []string {
			return []string{groupARN(in.String("GroupId")), store.UserARN(in.String("MemberId", "UserId")), allMemberships}
		}),
		"ListGroupMemberships": with(func(in *awsproto.Input) []string {
			return []string{groupARN(in.String("GroupId")), allMemberships}
		}),
		"ListGroupMembershipsForMember": with(func(in *awsproto.Input) []string {
			return []string{store.UserARN(in.String("MemberId", "UserId")), allMemberships}
		}),
		"IsMemberInGroups": with(func(in *awsproto.Input) []string {
			out := []string{store.UserARN(in.String("MemberId", "UserId")), allMemberships}
			for _, g := range in.Strings("GroupIds") {
				out = append(out, groupARN(g))
			}
			return out
		}),
	}
}

// membershipResources are a membership named by id: the reference requires
// its group and user too, which only the store knows. A membership that
// does not exist is judged by its id alone; the call then finds nothing.
func (s *Service) membershipResources(ctx context.Context, in *awsproto.Input) ([]string, error) {
	storeID, id := in.String("IdentityStoreId"), in.String("MembershipId")
	arn, err := s.storeARN(ctx, storeID)
	if err != nil {
		return nil, err
	}
	out := []string{arn, membershipARN(id)}
	err = s.store.Read(ctx, func(tx store.Tx) error {
		m, err := tx.GetGroupMembership(ctx, storeID, id)
		if err != nil {
			return err
		}
		out = append(out, groupARN(m.GroupID), store.UserARN(m.UserID))
		return nil
	})
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	return out, nil
}

// storeARN is the identity store's ARN. One no instance has is named in
// the caller's account: it is judged like any other, then not found.
func (s *Service) storeARN(ctx context.Context, id string) (string, error) {
	var owner string
	err := s.store.Read(ctx, func(tx store.Tx) error {
		var err error
		owner, err = s.storeOwner(ctx, tx, id)
		return err
	})
	if _, ok := apierr.As(err); ok {
		if p := principal.From(ctx); p != nil {
			owner, err = p.AccountID, nil
		}
	}
	if err != nil {
		return "", err
	}
	return "arn:aws:identitystore::" + owner + ":identitystore/" + id, nil
}
