package directory

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/atrium-sso/atrium/internal/apierr"
	"github.com/atrium-sso/atrium/internal/awsproto"
	"github.com/atrium-sso/atrium/internal/ids"
	"github.com/atrium-sso/atrium/internal/store"
)

type groupOut struct {
	GroupId         string
	DisplayName     string              `json:",omitempty"`
	ExternalIds     []externalID        `json:",omitempty"`
	Description     string              `json:",omitempty"`
	CreatedAt       *awsproto.Timestamp `json:",omitempty"`
	UpdatedAt       *awsproto.Timestamp `json:",omitempty"`
	CreatedBy       string              `json:",omitempty"`
	UpdatedBy       string              `json:",omitempty"`
	IdentityStoreId string
}

func toGroup(g *store.Group) groupOut {
	return groupOut{GroupId: g.ID, DisplayName: g.DisplayName, ExternalIds: toExternalIDs(g.ExternalIDs), Description: g.Description,
		CreatedAt: awsproto.TimestampOf(g.CreatedAt), UpdatedAt: awsproto.TimestampOf(g.UpdatedAt), CreatedBy: g.CreatedBy,
		UpdatedBy: g.UpdatedBy, IdentityStoreId: g.IdentityStoreID}
}

var errDuplicateGroup = conflict("Duplicate GroupDisplayName")

type createGroupIn struct {
	IdentityStoreId string
	DisplayName     string
	Description     string
}

type groupIDOut struct {
	GroupId         string
	IdentityStoreId string
}

func (s *Service) createGroup(ctx context.Context, in *createGroupIn) (*groupIDOut, error) {
	// The model leaves DisplayName optional; Identity Center names every
	// group (its console, SCIM and GetGroupId all rely on it).
	if in.DisplayName == "" {
		return nil, apierr.Validation("displayName: The attribute displayName is required")
	}
	if err := checkReserved("displayName", in.DisplayName); err != nil {
		return nil, err
	}
	g := store.Group{IdentityStoreID: in.IdentityStoreId, ID: ids.GroupID(in.IdentityStoreId), DisplayName: in.DisplayName, Description: in.Description}
	stamp(ctx, &g.CreatedAt, &g.CreatedBy)
	g.UpdatedAt, g.UpdatedBy = g.CreatedAt, g.CreatedBy
	err := s.write(ctx, in.IdentityStoreId, func(tx store.Tx) error {
		err := tx.InsertGroup(ctx, g)
		if errors.Is(err, store.ErrConflict) {
			return errDuplicateGroup
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return &groupIDOut{GroupId: g.ID, IdentityStoreId: g.IdentityStoreID}, nil
}

type groupIn struct {
	IdentityStoreId string
	GroupId         string
}

func (s *Service) describeGroup(ctx context.Context, in *groupIn) (*groupOut, error) {
	var out groupOut
	return &out, s.read(ctx, in.IdentityStoreId, func(tx store.Tx) error {
		g, err := tx.GetGroup(ctx, in.IdentityStoreId, in.GroupId)
		if err != nil {
			return notFoundAs(err, groupNotFound(in.GroupId))
		}
		out = toGroup(g)
		return nil
	})
}

type updateGroupIn struct {
	IdentityStoreId string
	GroupId         string
	Operations      []attributeOperation
}

func (s *Service) updateGroup(ctx context.Context, in *updateGroupIn) (*struct{}, error) {
	return nil, s.write(ctx, in.IdentityStoreId, func(tx store.Tx) error {
		externalIDsChanged := false
		_, err := tx.UpdateGroup(ctx, in.IdentityStoreId, in.GroupId, func(g *store.Group) error {
			old := *g
			if err := s.applyGroupOperations(g, in.Operations); err != nil {
				return err
			}
			externalIDsChanged = !slices.Equal(old.ExternalIDs, g.ExternalIDs)
			if store.NameKey(old.DisplayName) != store.NameKey(g.DisplayName) {
				// Looked up first to name the conflict; the unique index still decides races.
				if other, err := tx.GetGroupByDisplayName(ctx, in.IdentityStoreId, g.DisplayName); err == nil && other.ID != g.ID {
					return errDuplicateGroup
				} else if err != nil && !errors.Is(err, store.ErrNotFound) {
					return err
				}
			}
			stamp(ctx, &g.UpdatedAt, &g.UpdatedBy)
			return nil
		})
		switch {
		case errors.Is(err, store.ErrNotFound):
			return groupNotFound(in.GroupId)
		case errors.Is(err, store.ErrConflict) && externalIDsChanged:
			return conflict("Duplicate ExternalId")
		case errors.Is(err, store.ErrConflict):
			return errDuplicateGroup
		}
		return err
	})
}

func (s *Service) deleteGroup(ctx context.Context, in *groupIn) (*struct{}, error) {
	return nil, s.write(ctx, in.IdentityStoreId, func(tx store.Tx) error {
		return notFoundAs(tx.DeleteGroup(ctx, in.IdentityStoreId, in.GroupId), groupNotFound(in.GroupId))
	})
}

type listGroupsIn struct {
	IdentityStoreId string
	MaxResults      *int
	NextToken       *string
	Filters         []filter
}

type listGroupsOut struct {
	Groups    []groupOut
	NextToken *string `json:",omitempty"`
}

func (s *Service) listGroups(ctx context.Context, in *listGroupsIn) (*listGroupsOut, error) {
	out := listGroupsOut{Groups: []groupOut{}}
	scope := "ListGroups/" + in.IdentityStoreId
	if len(in.Filters) > 0 {
		f := in.Filters[0]
		if !strings.EqualFold(f.AttributePath, "DisplayName") {
			return nil, apierr.Validation("Filtering on %s is not supported; use DisplayName", f.AttributePath)
		}
		if err := s.checkToken(scope+"/DisplayName="+f.AttributeValue, in.NextToken); err != nil {
			return nil, err
		}
		return &out, s.read(ctx, in.IdentityStoreId, func(tx store.Tx) error {
			g, err := tx.GetGroupByDisplayName(ctx, in.IdentityStoreId, f.AttributeValue)
			if errors.Is(err, store.ErrNotFound) {
				return nil
			}
			if err == nil {
				out.Groups = append(out.Groups, toGroup(g))
			}
			return err
		})
	}
	return &out, s.read(ctx, in.IdentityStoreId, func(tx store.Tx) error {
		groups, next, err := page(s, scope, in.NextToken, in.MaxResults, func(after string, limit int) ([]store.Group, error) {
			return tx.ListGroups(ctx, in.IdentityStoreId, after, limit)
		}, func(g store.Group) string { return g.ID })
		for i := range groups {
			out.Groups = append(out.Groups, toGroup(&groups[i]))
		}
		out.NextToken = next
		return err
	})
}

type getGroupIDIn struct {
	IdentityStoreId     string
	AlternateIdentifier alternateIdentifier
}

func (s *Service) getGroupID(ctx context.Context, in *getGroupIDIn) (*groupIDOut, error) {
	alt := in.AlternateIdentifier
	var find func(tx store.Tx) (*store.Group, error)
	switch {
	case alt.ExternalId != nil:
		ext := store.ExternalID{Issuer: alt.ExternalId.Issuer, ID: alt.ExternalId.Id}
		find = func(tx store.Tx) (*store.Group, error) { return tx.GetGroupByExternalID(ctx, in.IdentityStoreId, ext) }
	case alt.UniqueAttribute != nil:
		value, err := uniqueValue(alt.UniqueAttribute)
		if err != nil {
			return nil, err
		}
		if !strings.EqualFold(alt.UniqueAttribute.AttributePath, "displayName") {
			return nil, notUnique(alt.UniqueAttribute.AttributePath)
		}
		find = func(tx store.Tx) (*store.Group, error) {
			return tx.GetGroupByDisplayName(ctx, in.IdentityStoreId, value)
		}
	default:
		return nil, apierr.Validation("AlternateIdentifier needs ExternalId or UniqueAttribute")
	}
	var out groupIDOut
	return &out, s.read(ctx, in.IdentityStoreId, func(tx store.Tx) error {
		g, err := find(tx)
		if err != nil {
			return notFoundAs(err, notFound("GROUP", "", "GROUP not found."))
		}
		out = groupIDOut{GroupId: g.ID, IdentityStoreId: g.IdentityStoreID}
		return nil
	})
}
