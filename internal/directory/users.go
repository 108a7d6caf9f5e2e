package directory

import (
	"context"
	"encoding/json"
	"errors"
	"strings"

	"github.com/atrium-sso/atrium/internal/apierr"
	"github.com/atrium-sso/atrium/internal/awsproto"
	"github.com/atrium-sso/atrium/internal/ids"
	"github.com/atrium-sso/atrium/internal/store"
)

// userOut is the model's User: the stored profile's fields carry the
// model's names, so it is embedded as it is.
type userOut struct {
	IdentityStoreId string
	UserId          string
	UserName        string       `json:",omitempty"`
	ExternalIds     []externalID `json:",omitempty"`
	DisplayName     string       `json:",omitempty"`
	store.UserProfile
	UserStatus string
	CreatedAt  *awsproto.Timestamp `json:",omitempty"`
	CreatedBy  string              `json:",omitempty"`
	UpdatedAt  *awsproto.Timestamp `json:",omitempty"`
	UpdatedBy  string              `json:",omitempty"`
}

// toUser renders u with only the extensions asked for: AWS returns
// extensions on request only.
func toUser(u *store.User, extensions []string) userOut {
	out := userOut{IdentityStoreId: u.IdentityStoreID, UserId: u.ID, UserName: u.UserName, ExternalIds: toExternalIDs(u.ExternalIDs),
		DisplayName: u.DisplayName, UserProfile: u.Profile, UserStatus: u.Status, CreatedAt: awsproto.TimestampOf(u.CreatedAt),
		CreatedBy: u.CreatedBy, UpdatedAt: awsproto.TimestampOf(u.UpdatedAt), UpdatedBy: u.UpdatedBy}
	out.Extensions = nil
	for _, name := range extensions {
		if doc, ok := u.Profile.Extensions[name]; ok {
			if out.Extensions == nil {
				out.Extensions = map[string]json.RawMessage{}
			}
			out.Extensions[name] = doc
		}
	}
	return out
}

// checkExtensionNames refuses extension names AWS does not know.
func checkExtensionNames(names []string) error {
	for _, n := range names {
		if extensionSchemas[n] == nil {
			return apierr.Validation("Extension %s is not supported; %s is the only supported extension", n, enterpriseExtension)
		}
	}
	return nil
}

type createUserIn struct {
	IdentityStoreId string
	UserName        string
	DisplayName     string
	store.UserProfile
}

type userIDOut struct {
	IdentityStoreId string
	UserId          string
}

func (s *Service) createUser(ctx context.Context, in *createUserIn) (*userIDOut, error) {
	if in.UserName == "" {
		return nil, apierr.Validation("userName is a required attribute")
	}
	if err := checkReserved("userName", in.UserName); err != nil {
		return nil, err
	}
	if err := requireUserAttributes(in.DisplayName, in.Name); err != nil {
		return nil, err
	}
	for name, doc := range in.Extensions {
		normalized, err := checkExtension(name, doc)
		if err != nil {
			return nil, err
		}
		in.Extensions[name] = normalized
	}
	u := store.User{IdentityStoreID: in.IdentityStoreId, ID: ids.UserID(in.IdentityStoreId), UserName: in.UserName,
		DisplayName: in.DisplayName, Status: store.UserEnabled, Profile: in.UserProfile}
	stamp(ctx, &u.CreatedAt, &u.CreatedBy)
	u.UpdatedAt, u.UpdatedBy = u.CreatedAt, u.CreatedBy
	err := s.write(ctx, in.IdentityStoreId, func(tx store.Tx) error {
		err := tx.InsertUser(ctx, u)
		if errors.Is(err, store.ErrConflict) {
			return conflict("Duplicate UserName")
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return &userIDOut{IdentityStoreId: u.IdentityStoreID, UserId: u.ID}, nil
}

// requireUserAttributes enforces what Identity Center requires of every
// user beyond the model: a display name and a name with given and family
// names (as its console and SCIM provisioning do).
func requireUserAttributes(displayName string, name *store.PersonName) error {
	var missing []string
	if displayName == "" {
		missing = append(missing, "displayName")
	}
	if name == nil {
		missing = append(missing, "name")
	} else {
		if name.GivenName == "" {
			missing = append(missing, "name.givenName")
		}
		if name.FamilyName == "" {
			missing = append(missing, "name.familyName")
		}
	}
	if len(missing) == 0 {
		return nil
	}
	msgs := make([]string, len(missing))
	for i, m := range missing {
		msgs[i] = m + ": The attribute " + m + " is required"
	}
	return apierr.Validation("%s", strings.Join(msgs, ", "))
}

type describeUserIn struct {
	IdentityStoreId string
	UserId          string
	Extensions      []string
}

func (s *Service) describeUser(ctx context.Context, in *describeUserIn) (*userOut, error) {
	if err := checkExtensionNames(in.Extensions); err != nil {
		return nil, err
	}
	var out userOut
	return &out, s.read(ctx, in.IdentityStoreId, func(tx store.Tx) error {
		u, err := tx.GetUser(ctx, in.IdentityStoreId, in.UserId)
		if err != nil {
			return notFoundAs(err, userNotFound(in.UserId))
		}
		out = toUser(u, in.Extensions)
		return nil
	})
}

type attributeOperation struct {
	AttributePath  string
	AttributeValue json.RawMessage // absent or null: remove the attribute
}

type updateUserIn struct {
	IdentityStoreId string
	UserId          string
	Operations      []attributeOperation
}

func (s *Service) updateUser(ctx context.Context, in *updateUserIn) (*struct{}, error) {
	return nil, s.write(ctx, in.IdentityStoreId, func(tx store.Tx) error {
		_, err := tx.UpdateUser(ctx, in.IdentityStoreId, in.UserId, func(u *store.User) error {
			if err := s.applyUserOperations(u, in.Operations); err != nil {
				return err
			}
			stamp(ctx, &u.UpdatedAt, &u.UpdatedBy)
			return nil
		})
		switch {
		case errors.Is(err, store.ErrNotFound):
			return userNotFound(in.UserId)
		case errors.Is(err, store.ErrConflict): // user names cannot change: an external id is taken
			return conflict("Duplicate ExternalId")
		}
		return err
	})
}

type userIn struct {
	IdentityStoreId string
	UserId          string
}

func (s *Service) deleteUser(ctx context.Context, in *userIn) (*struct{}, error) {
	return nil, s.write(ctx, in.IdentityStoreId, func(tx store.Tx) error {
		return notFoundAs(tx.DeleteUser(ctx, in.IdentityStoreId, in.UserId), userNotFound(in.UserId))
	})
}

type filter struct {
	AttributePath  string
	AttributeValue string
}

type listUsersIn struct {
	IdentityStoreId string
	Extensions      []string
	MaxResults      *int
	NextToken       *string
	Filters         []filter
}

type listUsersOut struct {
	Users     []userOut
	NextToken *string `json:",omitempty"`
}

func (s *Service) listUsers(ctx context.Context, in *listUsersIn) (*listUsersOut, error) {
	if err := checkExtensionNames(in.Extensions); err != nil {
		return nil, err
	}
	out := listUsersOut{Users: []userOut{}}
	scope := "ListUsers/" + in.IdentityStoreId
	if len(in.Filters) > 0 {
		// The deprecated filter: one user name at most, so one page.
		f := in.Filters[0]
		if !strings.EqualFold(f.AttributePath, "UserName") {
			return nil, apierr.Validation("Filtering on %s is not supported; use UserName", f.AttributePath)
		}
		if err := s.checkToken(scope+"/UserName="+f.AttributeValue, in.NextToken); err != nil {
			return nil, err
		}
		return &out, s.read(ctx, in.IdentityStoreId, func(tx store.Tx) error {
			u, err := tx.GetUserByName(ctx, in.IdentityStoreId, f.AttributeValue)
			if errors.Is(err, store.ErrNotFound) {
				return nil
			}
			if err == nil {
				out.Users = append(out.Users, toUser(u, in.Extensions))
			}
			return err
		})
	}
	return &out, s.read(ctx, in.IdentityStoreId, func(tx store.Tx) error {
		users, next, err := page(s, scope, in.NextToken, in.MaxResults, func(after string, limit int) ([]store.User, error) {
			return tx.ListUsers(ctx, in.IdentityStoreId, after, limit)
		}, func(u store.User) string { return u.ID })
		for i := range users {
			out.Users = append(out.Users, toUser(&users[i], in.Extensions))
		}
		out.NextToken = next
		return err
	})
}

type uniqueAttribute struct {
	AttributePath  string
	AttributeValue json.RawMessage
}

type alternateIdentifier struct {
	ExternalId      *externalID
	UniqueAttribute *uniqueAttribute
}

type getUserIDIn struct {
	IdentityStoreId     string
	AlternateIdentifier alternateIdentifier
}

func (s *Service) getUserID(ctx context.Context, in *getUserIDIn) (*userIDOut, error) {
	alt := in.AlternateIdentifier
	var find func(tx store.Tx) (*store.User, error)
	switch {
	case alt.ExternalId != nil:
		ext := store.ExternalID{Issuer: alt.ExternalId.Issuer, ID: alt.ExternalId.Id}
		find = func(tx store.Tx) (*store.User, error) { return tx.GetUserByExternalID(ctx, in.IdentityStoreId, ext) }
	case alt.UniqueAttribute != nil:
		value, err := uniqueValue(alt.UniqueAttribute)
		if err != nil {
			return nil, err
		}
		// AWS documents userName and emails.value; clients also send UserName.
		switch strings.ToLower(alt.UniqueAttribute.AttributePath) {
		case "username":
			find = func(tx store.Tx) (*store.User, error) { return tx.GetUserByName(ctx, in.IdentityStoreId, value) }
		case "emails.value":
			find = func(tx store.Tx) (*store.User, error) { return tx.GetUserByEmail(ctx, in.IdentityStoreId, value) }
		default:
			return nil, notUnique(alt.UniqueAttribute.AttributePath)
		}
	default:
		return nil, apierr.Validation("AlternateIdentifier needs ExternalId or UniqueAttribute")
	}
	var out userIDOut
	return &out, s.read(ctx, in.IdentityStoreId, func(tx store.Tx) error {
		u, err := find(tx)
		if err != nil {
			return notFoundAs(err, notFound("USER", "", "USER not found."))
		}
		out = userIDOut{IdentityStoreId: u.IdentityStoreID, UserId: u.ID}
		return nil
	})
}

// uniqueValue reads a UniqueAttribute's value: a string document.
func uniqueValue(a *uniqueAttribute) (string, error) {
	var v string
	if err := json.Unmarshal(a.AttributeValue, &v); err != nil || v == "" {
		return "", apierr.Validation("The attribute value for %s must be a non-empty string", a.AttributePath)
	}
	return v, nil
}

func notUnique(path string) error {
	return apierr.Validation("The attribute %s is not a unique attribute", path)
}
