package scim

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"unicode/utf8"

	"github.com/atrium-sso/atrium/internal/apierr"
	"github.com/atrium-sso/atrium/internal/directory"
	"github.com/atrium-sso/atrium/internal/store"
)

// enterpriseExtension is where the identity store keeps the enterprise
// attributes (identitystore's Extensions["aws:identitystore:enterprise"]),
// under the same names SCIM gives them.
const enterpriseExtension = "aws:identitystore:enterprise"

// issuer is the ExternalIds issuer under which a SCIM client's externalId
// is kept: one per identity source, so two IdPs' ids never collide.
func issuer(sourceID string) string {
	if sourceID == "" {
		return "SCIM"
	}
	return "SCIM:" + sourceID
}

func externalIDOf(ext []store.ExternalID, iss string) string {
	for _, e := range ext {
		if e.Issuer == iss {
			return e.ID
		}
	}
	return ""
}

func withExternalID(ext []store.ExternalID, iss, id string) []store.ExternalID {
	out := slices.DeleteFunc(slices.Clone(ext), func(e store.ExternalID) bool { return e.Issuer == iss })
	if id != "" {
		out = append(out, store.ExternalID{Issuer: iss, ID: id})
	}
	return out
}

// userDoc is a user as SCIM shows it.
func (s *Service) userDoc(u *store.User, iss string) map[string]any {
	d := map[string]any{"schemas": []any{userSchema}, "id": u.ID, "userName": u.UserName, "active": u.Status != store.UserDisabled}
	put := func(m map[string]any, k, v string) {
		if v != "" {
			m[k] = v
		}
	}
	put(d, "externalId", externalIDOf(u.ExternalIDs, iss))
	put(d, "displayName", u.DisplayName)
	p := &u.Profile
	put(d, "nickName", p.NickName)
	put(d, "profileUrl", p.ProfileUrl)
	put(d, "title", p.Title)
	put(d, "userType", p.UserType)
	put(d, "preferredLanguage", p.PreferredLanguage)
	put(d, "locale", p.Locale)
	put(d, "timezone", p.Timezone)
	if n := p.Name; n != nil {
		m := map[string]any{}
		put(m, "formatted", n.Formatted)
		put(m, "familyName", n.FamilyName)
		put(m, "givenName", n.GivenName)
		put(m, "middleName", n.MiddleName)
		put(m, "honorificPrefix", n.HonorificPrefix)
		put(m, "honorificSuffix", n.HonorificSuffix)
		if len(m) > 0 {
			d["name"] = m
		}
	}
	value := func(v, typ string, primary *bool, extra ...string) map[string]any {
		m := map[string]any{}
		put(m, "value", v)
		put(m, "type", typ)
		if primary != nil {
			m["primary"] = *primary
		}
		for i := 0; i+1 < len(extra); i += 2 {
			put(m, extra[i], extra[i+1])
		}
		return m
	}
	var list []any
	for _, e := range p.Emails {
		list = append(list, value(e.Value, e.Type, e.Primary))
	}
	setOrDelete(d, "emails", list)
	list = nil
	for _, e := range p.PhoneNumbers {
		list = append(list, value(e.Value, e.Type, e.Primary))
	}
	setOrDelete(d, "phoneNumbers", list)
	list = nil
	for _, a := range p.Addresses {
		list = append(list, value("", a.Type, a.Primary, "formatted", a.Formatted, "streetAddress", a.StreetAddress, "locality", a.Locality,
			"region", a.Region, "postalCode", a.PostalCode, "country", a.Country))
	}
	setOrDelete(d, "addresses", list)
	list = nil
	for _, ph := range p.Photos {
		list = append(list, value(ph.Value, ph.Type, ph.Primary, "display", ph.Display))
	}
	setOrDelete(d, "photos", list)
	list = nil
	for _, r := range p.Roles {
		list = append(list, value(r.Value, r.Type, r.Primary))
	}
	setOrDelete(d, "roles", list)
	if raw, ok := p.Extensions[enterpriseExtension]; ok {
		if ext := decodeDoc(raw); len(ext) > 0 {
			if m := mapOf(ext, "manager"); m != nil && strOf(m, "value") != "" {
				m["$ref"] = s.location(userResource, strOf(m, "value"))
			}
			d[enterpriseSchema] = ext
			d["schemas"] = []any{userSchema, enterpriseSchema}
		}
	}
	d["meta"] = s.meta(userResource, u.ID, u.CreatedAt, u.UpdatedAt)
	return d
}

// fromUserDoc sets u's SCIM attributes from doc: what doc lacks is
// cleared, except active (kept: a client cannot remove it) and what SCIM
// does not show (other issuers' external ids, other extensions, website
// and birthdate).
func fromUserDoc(doc map[string]any, u *store.User, iss string) {
	u.UserName = strOf(doc, "userName")
	u.DisplayName = strOf(doc, "displayName")
	if b := boolPtrOf(doc, "active"); b != nil {
		u.Status = store.UserDisabled
		if *b {
			u.Status = store.UserEnabled
		}
	}
	u.ExternalIDs = withExternalID(u.ExternalIDs, iss, strOf(doc, "externalId"))
	p := &u.Profile
	p.NickName, p.ProfileUrl, p.Title = strOf(doc, "nickName"), strOf(doc, "profileUrl"), strOf(doc, "title")
	p.UserType, p.PreferredLanguage = strOf(doc, "userType"), strOf(doc, "preferredLanguage")
	p.Locale, p.Timezone = strOf(doc, "locale"), strOf(doc, "timezone")
	p.Name = nil
	if n := mapOf(doc, "name"); len(n) > 0 {
		p.Name = &store.PersonName{Formatted: strOf(n, "formatted"), FamilyName: strOf(n, "familyName"), GivenName: strOf(n, "givenName"),
			MiddleName: strOf(n, "middleName"), HonorificPrefix: strOf(n, "honorificPrefix"), HonorificSuffix: strOf(n, "honorificSuffix")}
	}
	p.Emails, p.PhoneNumbers, p.Addresses, p.Photos, p.Roles = nil, nil, nil, nil, nil
	for _, e := range listOf(doc, "emails") {
		p.Emails = append(p.Emails, store.Email{Value: strOf(e, "value"), Type: strOf(e, "type"), Primary: boolPtrOf(e, "primary")})
	}
	for _, e := range listOf(doc, "phoneNumbers") {
		p.PhoneNumbers = append(p.PhoneNumbers, store.PhoneNumber{Value: strOf(e, "value"), Type: strOf(e, "type"), Primary: boolPtrOf(e, "primary")})
	}
	for _, a := range listOf(doc, "addresses") {
		p.Addresses = append(p.Addresses, store.Address{StreetAddress: strOf(a, "streetAddress"), Locality: strOf(a, "locality"),
			Region: strOf(a, "region"), PostalCode: strOf(a, "postalCode"), Country: strOf(a, "country"), Formatted: strOf(a, "formatted"),
			Type: strOf(a, "type"), Primary: boolPtrOf(a, "primary")})
	}
	for _, e := range listOf(doc, "photos") {
		p.Photos = append(p.Photos, store.Photo{Value: strOf(e, "value"), Type: strOf(e, "type"), Display: strOf(e, "display"), Primary: boolPtrOf(e, "primary")})
	}
	for _, e := range listOf(doc, "roles") {
		p.Roles = append(p.Roles, store.Role{Value: strOf(e, "value"), Type: strOf(e, "type"), Primary: boolPtrOf(e, "primary")})
	}
	ext := map[string]any{}
	for k, v := range mapOf(doc, enterpriseSchema) {
		if k == "manager" {
			m := mapOf(mapOf(doc, enterpriseSchema), "manager")
			if strOf(m, "value") == "" {
				continue
			}
			v = map[string]any{"value": strOf(m, "value")} // the $ref is derived, not kept
		}
		ext[k] = v
	}
	if len(ext) == 0 {
		delete(p.Extensions, enterpriseExtension)
		if len(p.Extensions) == 0 {
			p.Extensions = nil
		}
	} else {
		b, _ := json.Marshal(ext)
		if p.Extensions == nil {
			p.Extensions = map[string]json.RawMessage{}
		}
		p.Extensions[enterpriseExtension] = b
	}
}

// checkUser enforces what the identity store enforces of every user: its
// model's constraints (one email, address and phone number at most, string
// lengths...), a user name, a display name, a given and a family name.
func (s *Service) checkUser(u *store.User) error {
	switch {
	case u.UserName == "":
		return badRequest(invalidValue, "userName is required")
	case utf8.RuneCountInString(u.UserName) > 128:
		return badRequest(invalidValue, "userName is longer than 128 characters")
	case directory.Reserved(u.UserName):
		return badRequest(invalidValue, "userName %s is reserved", u.UserName)
	case u.DisplayName == "":
		return badRequest(invalidValue, "displayName is required")
	case u.Profile.Name == nil || u.Profile.Name.GivenName == "":
		return badRequest(invalidValue, "name.givenName is required")
	case u.Profile.Name.FamilyName == "":
		return badRequest(invalidValue, "name.familyName is required")
	}
	type externalID struct{ Issuer, Id string }
	ext := make([]externalID, len(u.ExternalIDs))
	for i, e := range u.ExternalIDs {
		ext[i] = externalID{e.Issuer, e.ID}
	}
	doc := toDoc(struct {
		IdentityStoreId, UserId, UserName, DisplayName string
		ExternalIds                                    []externalID `json:",omitempty"`
		store.UserProfile
	}{u.IdentityStoreID, u.ID, u.UserName, u.DisplayName, ext, u.Profile})
	if err := s.model.Shapes["User"].Validate(doc); err != nil {
		msg := err.Error()
		if ae, ok := apierr.As(err); ok {
			msg = ae.Message
		}
		return badRequest(invalidValue, "%s", msg)
	}
	if raw, ok := u.Profile.Extensions[enterpriseExtension]; ok {
		for k, v := range decodeDoc(raw) {
			if sv, isString := v.(string); isString && utf8.RuneCountInString(sv) > 1024 {
				return badRequest(invalidValue, "%s:%s is longer than 1024 characters", enterpriseSchema, k)
			}
		}
	}
	return nil
}

// userGroups lists the groups a user is in, as the user's groups attribute.
func (s *Service) userGroups(ctx context.Context, tx store.Tx, storeID, userID string) ([]any, error) {
	var out []any
	after := ""
	for {
		ms, err := tx.ListGroupMembershipsForMember(ctx, storeID, userID, after, 1000)
		if err != nil {
			return nil, err
		}
		for _, m := range ms {
			ref := map[string]any{"value": m.GroupID, "$ref": s.location(groupResource, m.GroupID), "type": "direct"}
			if g, err := tx.GetGroup(ctx, storeID, m.GroupID); err == nil {
				ref["display"] = g.DisplayName
			} else if !errors.Is(err, store.ErrNotFound) {
				return nil, err
			}
			out = append(out, ref)
		}
		if len(ms) < 1000 {
			return out, nil
		}
		after = ms[len(ms)-1].ID
	}
}
