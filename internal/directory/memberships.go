package directory

import (
	"cmp"
	"context"
	"errors"
	"slices"

	"github.com/atrium-sso/atrium/internal/awsproto"
	"github.com/atrium-sso/atrium/internal/ids"
	"github.com/atrium-sso/atrium/internal/store"
)

type membershipOut struct {
	IdentityStoreId string
	MembershipId    string
	GroupId         string
	MemberId        memberID
	CreatedAt       *awsproto.Timestamp `json:",omitempty"`
	UpdatedAt       *awsproto.Timestamp `json:",omitempty"`
	CreatedBy       string              `json:",omitempty"`
	UpdatedBy       string              `json:",omitempty"`
}

func toMembership(m *store.GroupMembership) membershipOut {
	return membershipOut{IdentityStoreId: m.IdentityStoreID, MembershipId: m.ID, GroupId: m.GroupID, MemberId: memberID{UserId: m.UserID},
		CreatedAt: awsproto.TimestampOf(m.CreatedAt), UpdatedAt: awsproto.TimestampOf(m.UpdatedAt), CreatedBy: m.CreatedBy, UpdatedBy: m.UpdatedBy}
}

type membershipIn struct {
	IdentityStoreId string
	GroupId         string
	MemberId        memberID
}

type membershipIDOut struct {
	MembershipId    string
	IdentityStoreId string
}

func (s *Service) createGroupMembership(ctx context.Context, in *membershipIn) (*membershipIDOut, error) {
	m := store.GroupMembership{IdentityStoreID: in.IdentityStoreId, ID: ids.GroupMembershipID(in.IdentityStoreId), GroupID: in.GroupId, UserID: in.MemberId.UserId}
	stamp(ctx, &m.CreatedAt, &m.CreatedBy)
	m.UpdatedAt, m.UpdatedBy = m.CreatedAt, m.CreatedBy
	err := s.write(ctx, in.IdentityStoreId, func(tx store.Tx) error {
		err := tx.InsertGroupMembership(ctx, m)
		switch {
		case errors.Is(err, store.ErrUserMissing):
			return userNotFound(m.UserID)
		case errors.Is(err, store.ErrGroupMissing):
			return groupNotFound(m.GroupID)
		case errors.Is(err, store.ErrConflict):
			return conflict("Duplicate GroupMembership: the member is already in the group")
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return &membershipIDOut{MembershipId: m.ID, IdentityStoreId: m.IdentityStoreID}, nil
}

type membershipIDIn struct {
	IdentityStoreId string
	MembershipId    string
}

func (s *Service) describeGroupMembership(ctx context.Context, in *membershipIDIn) (*membershipOut, error) {
	var out membershipOut
	return &out, s.read(ctx, in.IdentityStoreId, func(tx store.Tx) error {
		m, err := tx.GetGroupMembership(ctx, in.IdentityStoreId, in.MembershipId)
		if err != nil {
			return notFoundAs(err, membershipNotFound(in.MembershipId))
		}
		out = toMembership(m)
		return nil
	})
}

func (s *Service) deleteGroupMembership(ctx context.Context, in *membershipIDIn) (*struct{}, error) {
	return nil, s.write(ctx, in.IdentityStoreId, func(tx store.Tx) error {
		return notFoundAs(tx.DeleteGroupMembership(ctx, in.IdentityStoreId, in.MembershipId), membershipNotFound(in.MembershipId))
	})
}

// principalsExist reports a missing group or user as ResourceNotFound of that type.
func principalsExist(ctx context.Context, tx store.Tx, identityStoreID, groupID, userID string) error {
	if groupID != "" {
		if ok, err := tx.PrincipalExists(ctx, identityStoreID, store.PrincipalGroup, groupID); err != nil || !ok {
			return cmp.Or(err, error(groupNotFound(groupID)))
		}
	}
	if userID != "" {
		if ok, err := tx.PrincipalExists(ctx, identityStoreID, store.PrincipalUser, userID); err != nil || !ok {
			return cmp.Or(err, error(userNotFound(userID)))
		}
	}
	return nil
}

func (s *Service) getGroupMembershipID(ctx context.Context, in *membershipIn) (*membershipIDOut, error) {
	var out membershipIDOut
	return &out, s.read(ctx, in.IdentityStoreId, func(tx store.Tx) error {
		m, err := tx.GetGroupMembershipOf(ctx, in.IdentityStoreId, in.GroupId, in.MemberId.UserId)
		if errors.Is(err, store.ErrNotFound) {
			// Say which of the three is missing.
			if err := principalsExist(ctx, tx, in.IdentityStoreId, in.GroupId, in.MemberId.UserId); err != nil {
				return err
			}
			return notFound("GROUP_MEMBERSHIP", "", "GROUP_MEMBERSHIP not found: the member is not in the group")
		}
		if err != nil {
			return err
		}
		out = membershipIDOut{MembershipId: m.ID, IdentityStoreId: m.IdentityStoreID}
		return nil
	})
}

type listGroupMembershipsIn struct {
	IdentityStoreId string
	GroupId         string
	MaxResults      *int
	NextToken       *string
}

type listGroupMembershipsOut struct {
	GroupMemberships []membershipOut
	NextToken        *string `json:",omitempty"`
}

func (s *Service) listGroupMemberships(ctx context.Context, in *listGroupMembershipsIn) (*listGroupMembershipsOut, error) {
	out := listGroupMembershipsOut{GroupMemberships: []membershipOut{}}
	return &out, s.read(ctx, in.IdentityStoreId, func(tx store.Tx) error {
		list, next, err := page(s, "ListGroupMemberships/"+in.IdentityStoreId+"/"+in.GroupId, in.NextToken, in.MaxResults,
			func(after string, limit int) ([]store.GroupMembership, error) {
				return tx.ListGroupMemberships(ctx, in.IdentityStoreId, in.GroupId, after, limit)
			}, func(m store.GroupMembership) string { return m.ID })
		// Memberships are deleted with their group: only an empty page (or
		// none) leaves the group's existence to check.
		if err != nil || len(list) == 0 {
			if err := principalsExist(ctx, tx, in.IdentityStoreId, in.GroupId, ""); err != nil {
				return err
			}
		}
		if err != nil {
			return err
		}
		for i := range list {
			out.GroupMemberships = append(out.GroupMemberships, toMembership(&list[i]))
		}
		out.NextToken = next
		return nil
	})
}

type listForMemberIn struct {
	IdentityStoreId string
	MemberId        memberID
	MaxResults      *int
	NextToken       *string
}

func (s *Service) listGroupMembershipsForMember(ctx context.Context, in *listForMemberIn) (*listGroupMembershipsOut, error) {
	out := listGroupMembershipsOut{GroupMemberships: []membershipOut{}}
	userID := in.MemberId.UserId
	return &out, s.read(ctx, in.IdentityStoreId, func(tx store.Tx) error {
		list, next, err := page(s, "ListGroupMembershipsForMember/"+in.IdentityStoreId+"/"+userID, in.NextToken, in.MaxResults,
			func(after string, limit int) ([]store.GroupMembership, error) {
				return tx.ListGroupMembershipsForMember(ctx, in.IdentityStoreId, userID, after, limit)
			}, func(m store.GroupMembership) string { return m.ID })
		// Memberships are deleted with their user: only an empty page (or
		// none) leaves the user's existence to check.
		if err != nil || len(list) == 0 {
			if err := principalsExist(ctx, tx, in.IdentityStoreId, "", userID); err != nil {
				return err
			}
		}
		if err != nil {
			return err
		}
		for i := range list {
			out.GroupMemberships = append(out.GroupMemberships, toMembership(&list[i]))
		}
		out.NextToken = next
		return nil
	})
}

type isMemberInGroupsIn struct {
	IdentityStoreId string
	MemberId        memberID
	GroupIds        []string
}

type membershipExists struct {
	GroupId          string
	MemberId         memberID
	MembershipExists bool
}

type isMemberInGroupsOut struct {
	Results []membershipExists
}

// isMemberInGroups answers for each group asked, in the order asked; a
// group that does not exist has no members.
func (s *Service) isMemberInGroups(ctx context.Context, in *isMemberInGroupsIn) (*isMemberInGroupsOut, error) {
	out := isMemberInGroupsOut{Results: []membershipExists{}}
	return &out, s.read(ctx, in.IdentityStoreId, func(tx store.Tx) error {
		groups, err := tx.GroupsWithMember(ctx, in.IdentityStoreId, in.MemberId.UserId, in.GroupIds)
		if err != nil {
			return notFoundAs(err, userNotFound(in.MemberId.UserId))
		}
		for _, g := range in.GroupIds {
			out.Results = append(out.Results, membershipExists{GroupId: g, MemberId: in.MemberId, MembershipExists: slices.Contains(groups, g)})
		}
		return nil
	})
}
