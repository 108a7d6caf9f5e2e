package scim

import (
	"strings"
)

// Schema URNs (RFC 7643 sections 4 and 8.7, RFC 7644 section 3.5.2).
const (
	userSchema       = "urn:ietf:params:scim:schemas:core:2.0:User"
	groupSchema      = "urn:ietf:params:scim:schemas:core:2.0:Group"
	enterpriseSchema = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	listSchema       = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
	patchSchema      = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
	searchSchema     = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"
	spcSchema        = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
	rtSchema         = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
	schemaSchema     = "urn:ietf:params:scim:schemas:core:2.0:Schema"
)

// attr describes one attribute as RFC 7643 section 7 does. Only the
// attributes Identity Center keeps are listed: the schema is the contract.
type attr struct {
	Name        string
	Type        string // string | boolean | complex | reference | dateTime
	Multi       bool
	Required    bool
	CaseExact   bool
	Mutability  string // readWrite (default) | readOnly | immutable
	Returned    string // default (default) | always
	Uniqueness  string // none (default) | server
	Description string
	RefTypes    []string
	Sub         []*attr
}

func (a *attr) readOnly() bool { return a.Mutability == "readOnly" }

// sub finds a sub-attribute by name, ignoring case.
func (a *attr) sub(name string) *attr { return find(a.Sub, name) }

func find(attrs []*attr, name string) *attr {
	for _, a := range attrs {
		if strings.EqualFold(a.Name, name) {
			return a
		}
	}
	return nil
}

func str(name, desc string) *attr { return &attr{Name: name, Type: "string", Description: desc} }

func multi(name, desc string, sub ...*attr) *attr {
	return &attr{Name: name, Type: "complex", Multi: true, Description: desc, Sub: sub}
}

func primary() *attr {
	return &attr{Name: "primary", Type: "boolean", Description: "Whether this is the primary value."}
}

// schema is one resource schema or extension.
type schema struct {
	ID, Name, Description string
	Attrs                 []*attr
}

// Attributes every resource has (RFC 7643 section 3.1); not part of a
// schema's own list.
var (
	idAttr = &attr{Name: "id", Type: "string", CaseExact: true, Mutability: "readOnly", Returned: "always", Uniqueness: "server",
		Description: "Unique identifier of the resource, given by Atrium."}
	externalIDAttr = &attr{Name: "externalId", Type: "string", CaseExact: true, Description: "Identifier given by the provisioning client."}
	metaAttr       = &attr{Name: "meta", Type: "complex", Mutability: "readOnly", Description: "Resource metadata.", Sub: []*attr{
		{Name: "resourceType", Type: "string", CaseExact: true, Mutability: "readOnly"},
		{Name: "created", Type: "dateTime", Mutability: "readOnly"},
		{Name: "lastModified", Type: "dateTime", Mutability: "readOnly"},
		{Name: "location", Type: "reference", Mutability: "readOnly", RefTypes: []string{"uri"}},
	}}
	commonAttrs = []*attr{idAttr, externalIDAttr, metaAttr}
)

var userSchemaDef = &schema{ID: userSchema, Name: "User", Description: "User Account", Attrs: []*attr{
	{Name: "userName", Type: "string", Required: true, Uniqueness: "server", Description: "Unique identifier for the user, ignoring case."},
	{Name: "name", Type: "complex", Description: "The components of the user's name.", Sub: []*attr{
		str("formatted", "The full name."), str("familyName", "The family name."), str("givenName", "The given name."),
		str("middleName", "The middle name."), str("honorificPrefix", "The honorific prefix."), str("honorificSuffix", "The honorific suffix."),
	}},
	str("displayName", "The name of the user, suitable for display."),
	str("nickName", "The casual way to address the user."),
	{Name: "profileUrl", Type: "reference", RefTypes: []string{"external"}, Description: "A URI of the user's online profile."},
	str("title", "The user's title."),
	str("userType", "The relationship between the organization and the user."),
	str("preferredLanguage", "The user's preferred written or spoken language."),
	str("locale", "The user's default location."),
	str("timezone", "The user's time zone (IANA)."),
	{Name: "active", Type: "boolean", Description: "Whether the user may sign in; false disables the user."},
	multi("emails", "Email addresses (at most one).", str("value", "The email address."), str("type", "work, home or other."), primary()),
	multi("phoneNumbers", "Phone numbers (at most one).", str("value", "The phone number."), str("type", "work, home, mobile, ..."), primary()),
	multi("addresses", "Physical mailing addresses (at most one).", str("formatted", "The full address."), str("streetAddress", "Street."),
		str("locality", "City."), str("region", "State or region."), str("postalCode", "Postal code."), str("country", "Country."),
		str("type", "work, home or other."), primary()),
	multi("photos", "URLs of photos of the user (at most three).", &attr{Name: "value", Type: "reference", RefTypes: []string{"external"}},
		str("type", "photo or thumbnail."), str("display", "A label."), primary()),
	multi("roles", "Roles of the user (at most one).", str("value", "The role."), str("type", "A label."), primary()),
	{Name: "groups", Type: "complex", Multi: true, Mutability: "readOnly", Description: "The groups the user is a direct member of.", Sub: []*attr{
		{Name: "value", Type: "string", CaseExact: true, Mutability: "readOnly"},
		{Name: "$ref", Type: "reference", Mutability: "readOnly", RefTypes: []string{"Group"}},
		{Name: "display", Type: "string", Mutability: "readOnly"},
		{Name: "type", Type: "string", Mutability: "readOnly"},
	}},
}}

var enterpriseSchemaDef = &schema{ID: enterpriseSchema, Name: "EnterpriseUser", Description: "Enterprise User", Attrs: []*attr{
	str("employeeNumber", "Numeric or alphanumeric identifier assigned to a person."),
	str("costCenter", "Name of a cost center."),
	str("organization", "Name of an organization."),
	str("division", "Name of a division."),
	str("department", "Name of a department."),
	{Name: "manager", Type: "complex", Description: "The user's manager.", Sub: []*attr{
		{Name: "value", Type: "string", CaseExact: true, Description: "The id of the manager."},
		{Name: "$ref", Type: "reference", RefTypes: []string{"User"}, Description: "The URI of the manager."},
	}},
}}

var groupSchemaDef = &schema{ID: groupSchema, Name: "Group", Description: "Group", Attrs: []*attr{
	{Name: "displayName", Type: "string", Required: true, Uniqueness: "server", Description: "A name for the group, unique ignoring case."},
	{Name: "members", Type: "complex", Multi: true, Description: "The users in the group.", Sub: []*attr{
		{Name: "value", Type: "string", CaseExact: true, Mutability: "immutable", Description: "The id of a user."},
		{Name: "$ref", Type: "reference", Mutability: "immutable", RefTypes: []string{"User"}},
		{Name: "display", Type: "string", Mutability: "readOnly"},
		{Name: "type", Type: "string", Mutability: "immutable", Description: "User (groups cannot be members)."},
	}},
}}

// resource is one resource type: its schema, extensions, and endpoint.
type resource struct {
	Name     string // User | Group
	Endpoint string // /Users
	Schema   *schema
	Exts     []*schema
}

var (
	userResource  = &resource{Name: "User", Endpoint: "/Users", Schema: userSchemaDef, Exts: []*schema{enterpriseSchemaDef}}
	groupResource = &resource{Name: "Group", Endpoint: "/Groups", Schema: groupSchemaDef}
	allSchemas    = []*schema{userSchemaDef, enterpriseSchemaDef, groupSchemaDef}
)

// ext finds an extension of the resource by URN, ignoring case.
func (r *resource) ext(urn string) *schema {
	for _, s := range r.Exts {
		if strings.EqualFold(s.ID, urn) {
			return s
		}
	}
	return nil
}

// attr finds a top-level attribute (a schema's or a common one), ignoring case.
func (r *resource) attr(name string) *attr {
	if a := find(r.Schema.Attrs, name); a != nil {
		return a
	}
	return find(commonAttrs, name)
}

// splitURN splits a path that starts with one of the resource's schema
// URNs into the schema and the rest ("" when the path is the URN alone);
// ok is false when it starts with none.
func (r *resource) splitURN(path string) (s *schema, rest string, ok bool) {
	for _, c := range append([]*schema{r.Schema}, r.Exts...) {
		if len(path) >= len(c.ID) && strings.EqualFold(path[:len(c.ID)], c.ID) {
			rest = path[len(c.ID):]
			if rest == "" {
				return c, "", true
			}
			if rest[0] == ':' {
				return c, rest[1:], true
			}
		}
	}
	return nil, "", false
}
