package access

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/atrium-sso/atrium/internal/store"
)

// AssertedTagPrefix names the attributes an external IdP asserts as
// session tags: the rest of the name is the tag's key.
const AssertedTagPrefix = "https://aws.amazon.com/SAML/Attributes/AccessControl:"

// Session tag limits, as STS sets them.
const (
	maxSessionTags = 50
	maxTagKey      = 128
	maxTagValue    = 256
)

// SessionTags are the session tags role credentials minted for u carry
// (the aws:PrincipalTag/<key> condition keys): what the user's identity
// provider asserted for access control, overridden by the instance's
// configured attributes (AWS's rule when both name a key), each read from
// the user by its ${path:…} source. An attribute the user lacks is left
// out, as is a value too long to be a tag.
func SessionTags(ctx context.Context, tx store.Tx, instanceARN string, u *store.User, asserted map[string]string) (map[string]string, error) {
	tags := map[string]string{}
	cfg, err := tx.GetAccessControlAttributes(ctx, instanceARN)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	taken := map[string]bool{} // tag keys are case-insensitive
	if cfg != nil {
		for _, a := range cfg.Attributes {
			for _, src := range a.Sources {
				if v, ok := userAttribute(u, src); ok && validTag(a.Key, v) {
					tags[a.Key], taken[strings.ToLower(a.Key)] = v, true
					break
				}
			}
		}
	}
	// Asserted tags fill the rest, in key order, up to STS's limit: past
	// it some are dropped rather than the sign-in failing.
	keys := slices.Sorted(maps.Keys(asserted))
	for _, k := range keys {
		if v := asserted[k]; validTag(k, v) && !taken[strings.ToLower(k)] && len(tags) < maxSessionTags {
			tags[k], taken[strings.ToLower(k)] = v, true
		}
	}
	return tags, nil
}

func validTag(k, v string) bool {
	return k != "" && len(k) <= maxTagKey && v != "" && len(v) <= maxTagValue
}

// AssertedTags picks the access-control attributes out of what an IdP
// asserted (the first value of each).
func AssertedTags(attributes map[string][]string) map[string]string {
	out := map[string]string{}
	for name, values := range attributes {
		if key, ok := strings.CutPrefix(name, AssertedTagPrefix); ok && len(values) > 0 {
			out[key] = values[0]
		}
	}
	return out
}

var pathSource = regexp.MustCompile(`^\$\{path:([A-Za-z.]+(?:\[primary eq true\])?(?:\.[A-Za-z]+)?)\}$`)

// userAttribute reads the attribute a ${path:…} source names from u, as
// Identity Center's attribute paths name them (SCIM's, with the enterprise
// extension under "enterprise.").
func userAttribute(u *store.User, source string) (string, bool) {
	m := pathSource.FindStringSubmatch(strings.TrimSpace(source))
	if m == nil {
		return "", false
	}
	path := strings.ToLower(strings.ReplaceAll(m[1], "[primary eq true]", ""))
	p := &u.Profile
	name := func(f func(*store.PersonName) string) string {
		if p.Name == nil {
			return ""
		}
		return f(p.Name)
	}
	var v string
	switch path {
	case "username":
		v = u.UserName
	case "displayname":
		v = u.DisplayName
	case "nickname":
		v = p.NickName
	case "title":
		v = p.Title
	case "usertype":
		v = p.UserType
	case "preferredlanguage":
		v = p.PreferredLanguage
	case "locale":
		v = p.Locale
	case "timezone":
		v = p.Timezone
	case "profileurl":
		v = p.ProfileUrl
	case "name.givenname":
		v = name(func(n *store.PersonName) string { return n.GivenName })
	case "name.familyname":
		v = name(func(n *store.PersonName) string { return n.FamilyName })
	case "name.middlename":
		v = name(func(n *store.PersonName) string { return n.MiddleName })
	case "name.formatted":
		v = name(func(n *store.PersonName) string { return n.Formatted })
	case "name.honorificprefix":
		v = name(func(n *store.PersonName) string { return n.HonorificPrefix })
	case "name.honorificsuffix":
		v = name(func(n *store.PersonName) string { return n.HonorificSuffix })
	case "emails.value", "emails":
		v = u.Email()
	case "phonenumbers.value", "phonenumbers":
		if len(p.PhoneNumbers) > 0 {
			v = p.PhoneNumbers[0].Value
		}
	case "addresses.streetaddress", "addresses.locality", "addresses.region", "addresses.postalcode", "addresses.country", "addresses.formatted":
		if len(p.Addresses) > 0 {
			a := p.Addresses[0]
			v = map[string]string{"streetaddress": a.StreetAddress, "locality": a.Locality, "region": a.Region,
				"postalcode": a.PostalCode, "country": a.Country, "formatted": a.Formatted}[strings.TrimPrefix(path, "addresses.")]
		}
	default:
		attr, ok := strings.CutPrefix(path, "enterprise.")
		if !ok {
			return "", false
		}
		v = enterpriseAttribute(p.Extensions["aws:identitystore:enterprise"], attr)
	}
	return v, v != ""
}

// enterpriseAttribute reads one attribute (manager: its value) of the
// enterprise extension's document.
func enterpriseAttribute(doc json.RawMessage, attr string) string {
	if doc == nil {
		return ""
	}
	var ext map[string]any
	if json.Unmarshal(doc, &ext) != nil {
		return ""
	}
	attr = strings.TrimSuffix(attr, ".value")
	for k, v := range ext {
		if !strings.EqualFold(k, attr) {
			continue
		}
		switch v := v.(type) {
		case string:
			return v
		case map[string]any:
			s, _ := v["value"].(string)
			return s
		}
	}
	return ""
}
