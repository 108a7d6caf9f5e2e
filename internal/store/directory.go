package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// DirectoryTx is the identity store's part of a transaction: users, groups
// and group memberships. Every lookup is scoped to one identity store; ids
// from another store are not found.
type DirectoryTx interface {
	// InsertUser adds a user; ErrConflict when its user name (ignoring case)
	// or one of its external ids is taken in the store, or its id is.
	InsertUser(ctx context.Context, u User) error
	GetUser(ctx context.Context, identityStoreID, id string) (*User, error)
	// GetUserByName finds a user by user name, ignoring case.
	GetUserByName(ctx context.Context, identityStoreID, userName string) (*User, error)
	// GetUserByEmail finds the user whose email value is email, ignoring
	// case; of several, the one with the smallest id.
	GetUserByEmail(ctx context.Context, identityStoreID, email string) (*User, error)
	GetUserByExternalID(ctx context.Context, identityStoreID string, ext ExternalID) (*User, error)
	// ListUsers lists the store's users with id > after, by id.
	ListUsers(ctx context.Context, identityStoreID, after string, limit int) ([]User, error)
	// UpdateUser runs fn on the locked user and stores what it leaves
	// (id, store and creation are kept); ErrConflict as InsertUser.
	UpdateUser(ctx context.Context, identityStoreID, id string, fn func(*User) error) (*User, error)
	// DeleteUser deletes the user and everything that refers to it (its
	// group memberships and its account assignments).
	DeleteUser(ctx context.Context, identityStoreID, id string) error

	// InsertGroup adds a group; ErrConflict when its display name (ignoring
	// case) or one of its external ids is taken in the store.
	InsertGroup(ctx context.Context, g Group) error
	GetGroup(ctx context.Context, identityStoreID, id string) (*Group, error)
	// GetGroupByDisplayName finds a group by display name, ignoring case.
	GetGroupByDisplayName(ctx context.Context, identityStoreID, displayName string) (*Group, error)
	GetGroupByExternalID(ctx context.Context, identityStoreID string, ext ExternalID) (*Group, error)
	ListGroups(ctx context.Context, identityStoreID, after string, limit int) ([]Group, error)
	UpdateGroup(ctx context.Context, identityStoreID, id string, fn func(*Group) error) (*Group, error)
	// DeleteGroup deletes the group and everything that refers to it.
	DeleteGroup(ctx context.Context, identityStoreID, id string) error

	// InsertGroupMembership adds a user to a group: ErrUserMissing or
	// ErrGroupMissing when one is not in the store (checked in that order,
	// with both rows locked against a concurrent delete), ErrConflict when
	// the user is already a member.
	InsertGroupMembership(ctx context.Context, m GroupMembership) error
	GetGroupMembership(ctx context.Context, identityStoreID, id string) (*GroupMembership, error)
	// GetGroupMembershipOf finds the membership of a user in a group.
	GetGroupMembershipOf(ctx context.Context, identityStoreID, groupID, userID string) (*GroupMembership, error)
	// ListGroupMemberships lists a group's memberships with id > after, by id.
	ListGroupMemberships(ctx context.Context, identityStoreID, groupID, after string, limit int) ([]GroupMembership, error)
	// ListGroupMembershipsForMember lists a user's memberships with id > after, by id.
	ListGroupMembershipsForMember(ctx context.Context, identityStoreID, userID, after string, limit int) ([]GroupMembership, error)
	// GroupsWithMember lists which of groupIDs have the user as a member,
	// in no particular order; ErrUserMissing when the user is not in the store.
	GroupsWithMember(ctx context.Context, identityStoreID, userID string, groupIDs []string) ([]string, error)
	DeleteGroupMembership(ctx context.Context, identityStoreID, id string) error

	// PrincipalExists reports whether the store has the user or group
	// (principalType PrincipalUser or PrincipalGroup) with id.
	PrincipalExists(ctx context.Context, identityStoreID, principalType, id string) (bool, error)
}

// Principal types, as sso-admin names them.
const (
	PrincipalUser  = "USER"
	PrincipalGroup = "GROUP"
)

// User statuses.
const (
	UserEnabled  = "ENABLED"
	UserDisabled = "DISABLED"
)

var (
	// ErrUserMissing: a write refers to a user that does not exist (errors.Is ErrNotFound).
	ErrUserMissing = fmt.Errorf("%w: user", ErrNotFound)
	// ErrGroupMissing: a write refers to a group that does not exist (errors.Is ErrNotFound).
	ErrGroupMissing = fmt.Errorf("%w: group", ErrNotFound)
)

// NameKey is how user names and group display names are compared: ignoring case.
func NameKey(name string) string { return strings.ToLower(name) }

// ExternalID is an identifier an external identity provider gave a user or group.
type ExternalID struct {
	Issuer string
	ID     string
}

// UserARN names a user as IAM policies and audit records do
// (identitystore's User resource type: no region, no account).
func UserARN(id string) string { return "arn:aws:identitystore:::user/" + id }

// User is a person in an identity store.
type User struct {
	IdentityStoreID string
	ID              string
	UserName        string // unique in the store, ignoring case
	DisplayName     string
	Status          string // ENABLED | DISABLED
	ExternalIDs     []ExternalID
	Profile         UserProfile
	CreatedAt       time.Time
	CreatedBy       string
	UpdatedAt       time.Time
	UpdatedBy       string
	// SourceID is the identity source the user signs in through: "" for the
	// built-in directory (a password), else an external IdP's id.
	SourceID string
}

// Email is the user's email value ("" when none): the one the model allows.
func (u *User) Email() string {
	if len(u.Profile.Emails) == 0 {
		return ""
	}
	return u.Profile.Emails[0].Value
}

// UserProfile is the rest of a user's attributes, stored as one JSON
// document. Names (Go and JSON) are the identitystore model's members, so a
// profile converts to and from the API's shapes without a mapping table.
type UserProfile struct {
	Name              *PersonName                `json:",omitempty"`
	NickName          string                     `json:",omitempty"`
	ProfileUrl        string                     `json:",omitempty"`
	Emails            []Email                    `json:",omitempty"`
	Addresses         []Address                  `json:",omitempty"`
	PhoneNumbers      []PhoneNumber              `json:",omitempty"`
	UserType          string                     `json:",omitempty"`
	Title             string                     `json:",omitempty"`
	PreferredLanguage string                     `json:",omitempty"`
	Locale            string                     `json:",omitempty"`
	Timezone          string                     `json:",omitempty"`
	Photos            []Photo                    `json:",omitempty"`
	Website           string                     `json:",omitempty"`
	Birthdate         string                     `json:",omitempty"`
	Roles             []Role                     `json:",omitempty"`
	Extensions        map[string]json.RawMessage `json:",omitempty"` // by extension name, the document as sent
}

// PersonName is a user's name in its parts.
type PersonName struct {
	Formatted       string `json:",omitempty"`
	FamilyName      string `json:",omitempty"`
	GivenName       string `json:",omitempty"`
	MiddleName      string `json:",omitempty"`
	HonorificPrefix string `json:",omitempty"`
	HonorificSuffix string `json:",omitempty"`
}

// Email is one email address of a user. Primary is a pointer so that an
// explicit false survives a round trip.
type Email struct {
	Value   string `json:",omitempty"`
	Type    string `json:",omitempty"`
	Primary *bool  `json:",omitempty"`
}

// Address is one postal address of a user.
type Address struct {
	StreetAddress string `json:",omitempty"`
	Locality      string `json:",omitempty"`
	Region        string `json:",omitempty"`
	PostalCode    string `json:",omitempty"`
	Country       string `json:",omitempty"`
	Formatted     string `json:",omitempty"`
	Type          string `json:",omitempty"`
	Primary       *bool  `json:",omitempty"`
}

// PhoneNumber is one phone number of a user.
type PhoneNumber struct {
	Value   string `json:",omitempty"`
	Type    string `json:",omitempty"`
	Primary *bool  `json:",omitempty"`
}

// Photo is one photo URL of a user.
type Photo struct {
	Value   string `json:",omitempty"`
	Type    string `json:",omitempty"`
	Display string `json:",omitempty"`
	Primary *bool  `json:",omitempty"`
}

// Role is one role of a user.
type Role struct {
	Value   string `json:",omitempty"`
	Type    string `json:",omitempty"`
	Primary *bool  `json:",omitempty"`
}

// Group is a set of users in an identity store.
type Group struct {
	IdentityStoreID string
	ID              string
	DisplayName     string // unique in the store, ignoring case
	Description     string
	ExternalIDs     []ExternalID
	CreatedAt       time.Time
	CreatedBy       string
	UpdatedAt       time.Time
	UpdatedBy       string
}

// GroupMembership puts one user in one group.
type GroupMembership struct {
	IdentityStoreID string
	ID              string
	GroupID         string
	UserID          string
	CreatedAt       time.Time
	CreatedBy       string
	UpdatedAt       time.Time
	UpdatedBy       string
}
