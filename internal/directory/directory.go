// Package directory is the identity store: users, groups and group
// memberships of each Identity Center instance, with AWS's rules, served
// as the identitystore API.
package directory

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/atrium-sso/atrium/internal/apierr"
	"github.com/atrium-sso/atrium/internal/awsproto"
	"github.com/atrium-sso/atrium/internal/awsproto/model"
	"github.com/atrium-sso/atrium/internal/principal"
	"github.com/atrium-sso/atrium/internal/store"
)

// Service is the identity store's domain logic.
type Service struct {
	store store.Store
	pager *awsproto.Pager
	model *model.Service
	// Identity stores seen to exist, to the account that owns each.
	// Instances are never deleted, so a store once found stays valid; only
	// unknown ids go back to the database.
	known sync.Map
}

// New builds the service over s (the audited store: mutations are audited
// in their own transaction).
func New(s store.Store, pager *awsproto.Pager) *Service {
	return &Service{store: s, pager: pager, model: model.MustLoad("identitystore")}
}

// API is the identitystore service as Atrium serves it.
func (s *Service) API() *awsproto.Service {
	ops := map[string]awsproto.Handler{
		"CreateUser":   awsproto.Op(s.createUser),
		"DescribeUser": awsproto.Op(s.describeUser),
		"UpdateUser":   awsproto.Op(s.updateUser),
		"DeleteUser":   awsproto.Op(s.deleteUser),
		"ListUsers":    awsproto.Op(s.listUsers),
		"GetUserId":    awsproto.Op(s.getUserID),

		"CreateGroup":   awsproto.Op(s.createGroup),
		"DescribeGroup": awsproto.Op(s.describeGroup),
		"UpdateGroup":   awsproto.Op(s.updateGroup),
		"DeleteGroup":   awsproto.Op(s.deleteGroup),
		"ListGroups":    awsproto.Op(s.listGroups),
		"GetGroupId":    awsproto.Op(s.getGroupID),

		"CreateGroupMembership":         awsproto.Op(s.createGroupMembership),
		"DescribeGroupMembership":       awsproto.Op(s.describeGroupMembership),
		"DeleteGroupMembership":         awsproto.Op(s.deleteGroupMembership),
		"GetGroupMembershipId":          awsproto.Op(s.getGroupMembershipID),
		"ListGroupMemberships":          awsproto.Op(s.listGroupMemberships),
		"ListGroupMembershipsForMember": awsproto.Op(s.listGroupMembershipsForMember),
		"IsMemberInGroups":              awsproto.Op(s.isMemberInGroups),
	}
	return &awsproto.Service{Model: s.model, EventSource: "identitystore.amazonaws.com", Ops: ops, Resources: s.resources()}
}

// --- what the admin API and CLI need

// SetUserStatus enables or disables a user (AWS does this in its console only).
func (s *Service) SetUserStatus(ctx context.Context, identityStoreID, userID string, enabled bool) error {
	status := store.UserDisabled
	if enabled {
		status = store.UserEnabled
	}
	return s.write(ctx, identityStoreID, func(tx store.Tx) error {
		_, err := tx.UpdateUser(ctx, identityStoreID, userID, func(u *store.User) error {
			if u.Status != status {
				u.Status = status
				stamp(ctx, &u.UpdatedAt, &u.UpdatedBy)
			}
			return nil
		})
		return notFoundAs(err, userNotFound(userID))
	})
}

// UserByName finds a user by user name, ignoring case.
func (s *Service) UserByName(ctx context.Context, identityStoreID, userName string) (*store.User, error) {
	var u *store.User
	err := s.read(ctx, identityStoreID, func(tx store.Tx) error {
		var err error
		u, err = tx.GetUserByName(ctx, identityStoreID, userName)
		return notFoundAs(err, notFound("USER", "", "USER not found."))
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}

// --- errors, as the identitystore API names them

func notFound(resourceType, id, msg string) *apierr.Error {
	e := apierr.New(400, "ResourceNotFoundException", "%s", msg).With("ResourceType", resourceType)
	if id != "" {
		e = e.With("ResourceId", id)
	}
	return e
}

func userNotFound(id string) *apierr.Error {
	return notFound("USER", id, fmt.Sprintf("USER not found: %s", id))
}

func groupNotFound(id string) *apierr.Error {
	return notFound("GROUP", id, fmt.Sprintf("GROUP not found: %s", id))
}

func membershipNotFound(id string) *apierr.Error {
	return notFound("GROUP_MEMBERSHIP", id, fmt.Sprintf("GROUP_MEMBERSHIP not found: %s", id))
}

func conflict(msg string) *apierr.Error {
	return apierr.New(400, "ConflictException", "%s", msg).With("Reason", "UNIQUENESS_CONSTRAINT_VIOLATION")
}

var errBadToken = apierr.Validation("The NextToken is not valid for this request.")

// notFoundAs turns the store's ErrNotFound into the API's error.
func notFoundAs(err error, nf *apierr.Error) error {
	if errors.Is(err, store.ErrNotFound) {
		return nf
	}
	return err
}

// --- the identity store every call names

// checkStore refuses an identity store no instance has.
func (s *Service) checkStore(ctx context.Context, tx store.Tx, identityStoreID string) error {
	_, err := s.storeOwner(ctx, tx, identityStoreID)
	return err
}

// storeOwner is the account of the instance whose identity store this is.
func (s *Service) storeOwner(ctx context.Context, tx store.Tx, identityStoreID string) (string, error) {
	if owner, ok := s.known.Load(identityStoreID); ok {
		return owner.(string), nil
	}
	instances, err := tx.ListInstances(ctx)
	if err != nil {
		return "", err
	}
	i := slices.IndexFunc(instances, func(in store.Instance) bool { return in.IdentityStoreID == identityStoreID })
	if i < 0 {
		return "", notFound("IDENTITY_STORE", identityStoreID, fmt.Sprintf("IDENTITY_STORE not found: %s", identityStoreID))
	}
	s.known.Store(identityStoreID, instances[i].OwnerAccountID)
	return instances[i].OwnerAccountID, nil
}

func (s *Service) read(ctx context.Context, identityStoreID string, fn func(store.Tx) error) error {
	return s.store.Read(ctx, func(tx store.Tx) error {
		if err := s.checkStore(ctx, tx, identityStoreID); err != nil {
			return err
		}
		return fn(tx)
	})
}

func (s *Service) write(ctx context.Context, identityStoreID string, fn func(store.Tx) error) error {
	return s.store.Write(ctx, func(tx store.Tx) error {
		if err := s.checkStore(ctx, tx, identityStoreID); err != nil {
			return err
		}
		return fn(tx)
	})
}

// stamp records now and the caller as the time and author of a change.
func stamp(ctx context.Context, at *time.Time, by *string) {
	*at = time.Now().UTC()
	if p := principal.From(ctx); p != nil {
		*by = p.ARN
	}
}

// --- pagination: every list walks by id

// defaultMaxResults is the page size when MaxResults is not given; AWS does
// not document its own, 100 is the model's maximum.
const defaultMaxResults = 100

func page[T any](s *Service, scope string, token *string, max *int, list func(after string, limit int) ([]T, error), id func(T) string) ([]T, *string, error) {
	limit := defaultMaxResults
	if max != nil {
		limit = *max
	}
	return awsproto.Page(s.pager, scope, token, limit, errBadToken, list, id)
}

// checkToken refuses a token not made for scope, for lists that fit one page.
func (s *Service) checkToken(scope string, token *string) error {
	_, _, err := page(s, scope, token, nil, func(string, int) ([]struct{}, error) { return nil, nil }, nil)
	return err
}

// --- values shared by users and groups

type externalID struct {
	Issuer string
	Id     string
}

func toExternalIDs(ext []store.ExternalID) []externalID {
	if len(ext) == 0 {
		return nil
	}
	out := make([]externalID, len(ext))
	for i, e := range ext {
		out[i] = externalID{Issuer: e.Issuer, Id: e.ID}
	}
	return out
}

func fromExternalIDs(ext []externalID) ([]store.ExternalID, error) {
	if len(ext) == 0 {
		return nil, nil
	}
	out := make([]store.ExternalID, len(ext))
	seen := map[store.ExternalID]bool{}
	for i, e := range ext {
		out[i] = store.ExternalID{Issuer: e.Issuer, ID: e.Id}
		if seen[out[i]] {
			return nil, apierr.Validation("externalIds: the same external id appears twice")
		}
		seen[out[i]] = true
	}
	return out, nil
}

type memberID struct {
	UserId string
}

// reservedNames can name neither a user nor a group (AWS's CreateUser and
// CreateGroup documentation).
var reservedNames = []string{"administrator", "awsadministrators"}

// Reserved reports whether name may name neither a user nor a group
// (ignoring case), however they are created (identitystore, SCIM).
func Reserved(name string) bool { return slices.Contains(reservedNames, strings.ToLower(name)) }

func checkReserved(attr, name string) error {
	if Reserved(name) {
		return apierr.Validation("%s: %s is a reserved name and can't be used for users or groups", attr, name)
	}
	return nil
}
