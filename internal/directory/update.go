package directory

import (
	"bytes"
	"encoding/json"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/atrium-sso/atrium/internal/apierr"
	"github.com/atrium-sso/atrium/internal/awsproto/model"
	"github.com/atrium-sso/atrium/internal/store"
)

// UpdateUser and UpdateGroup take operations {AttributePath, AttributeValue}:
// the path names an attribute or a sub-attribute (name.givenName) in the
// model's member names with a lower-case first letter, matched ignoring
// case as SCIM does; a value replaces the attribute, no value removes it.
// Multi-valued attributes (emails, addresses, ...) are replaced whole, and
// an extension (aws:identitystore:enterprise) is addressed by its name,
// whole or by attribute. The operations are applied in order to the
// entity in its model form, then the result is validated against the
// model's shape as a whole: one invalid operation fails them all.

// entity is what an update may change of a User or a Group.
type entity struct {
	shape    *model.Shape
	readOnly map[string]bool // member names no operation may change
}

func (s *Service) userEntity() entity {
	return entity{shape: s.model.Shapes["User"], readOnly: setOf("IdentityStoreId", "UserId", "UserName", "UserStatus",
		"CreatedAt", "CreatedBy", "UpdatedAt", "UpdatedBy")}
}

func (s *Service) groupEntity() entity {
	return entity{shape: s.model.Shapes["Group"], readOnly: setOf("IdentityStoreId", "GroupId", "CreatedAt", "CreatedBy", "UpdatedAt", "UpdatedBy")}
}

func setOf(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

// userAttrs is a user in its model form, as far as updates see it.
type userAttrs struct {
	IdentityStoreId string       `json:",omitempty"`
	UserId          string       `json:",omitempty"`
	UserName        string       `json:",omitempty"`
	DisplayName     string       `json:",omitempty"`
	ExternalIds     []externalID `json:",omitempty"`
	store.UserProfile
}

type groupAttrs struct {
	IdentityStoreId string       `json:",omitempty"`
	GroupId         string       `json:",omitempty"`
	DisplayName     string       `json:",omitempty"`
	Description     string       `json:",omitempty"`
	ExternalIds     []externalID `json:",omitempty"`
}

func (s *Service) applyUserOperations(u *store.User, ops []attributeOperation) error {
	doc, err := toDoc(userAttrs{IdentityStoreId: u.IdentityStoreID, UserId: u.ID, UserName: u.UserName, DisplayName: u.DisplayName,
		ExternalIds: toExternalIDs(u.ExternalIDs), UserProfile: u.Profile})
	if err != nil {
		return err
	}
	e := s.userEntity()
	for _, op := range ops {
		if err := e.apply(doc, op); err != nil {
			return err
		}
	}
	if err := asValidation(e.shape.Validate(doc)); err != nil {
		return err
	}
	if exts, ok := doc["Extensions"].(map[string]any); ok {
		for name, v := range exts {
			if exts[name], err = normalizeExtension(name, v); err != nil {
				return err
			}
		}
	}
	var a userAttrs
	if err := fromDoc(doc, &a); err != nil {
		return err
	}
	if err := requireUserAttributes(a.DisplayName, a.Name); err != nil {
		return err
	}
	ext, err := fromExternalIDs(a.ExternalIds)
	if err != nil {
		return err
	}
	u.DisplayName, u.Profile, u.ExternalIDs = a.DisplayName, a.UserProfile, ext
	return nil
}

func (s *Service) applyGroupOperations(g *store.Group, ops []attributeOperation) error {
	doc, err := toDoc(groupAttrs{IdentityStoreId: g.IdentityStoreID, GroupId: g.ID, DisplayName: g.DisplayName, Description: g.Description,
		ExternalIds: toExternalIDs(g.ExternalIDs)})
	if err != nil {
		return err
	}
	e := s.groupEntity()
	for _, op := range ops {
		if err := e.apply(doc, op); err != nil {
			return err
		}
	}
	if err := asValidation(e.shape.Validate(doc)); err != nil {
		return err
	}
	var a groupAttrs
	if err := fromDoc(doc, &a); err != nil {
		return err
	}
	if a.DisplayName == "" {
		return apierr.Validation("displayName: The attribute displayName is required")
	}
	if err := checkReserved("displayName", a.DisplayName); err != nil {
		return err
	}
	ext, err := fromExternalIDs(a.ExternalIds)
	if err != nil {
		return err
	}
	g.DisplayName, g.Description, g.ExternalIDs = a.DisplayName, a.Description, ext
	return nil
}

// apply runs one operation on doc, the entity in its model form.
func (e entity) apply(doc map[string]any, op attributeOperation) error {
	var value any
	set := len(op.AttributeValue) > 0 && !bytes.Equal(bytes.TrimSpace(op.AttributeValue), []byte("null"))
	if set {
		dec := json.NewDecoder(bytes.NewReader(op.AttributeValue))
		dec.UseNumber()
		if err := dec.Decode(&value); err != nil {
			return apierr.Validation("The value of %s is not valid JSON", op.AttributePath)
		}
	}
	path := op.AttributePath
	if strings.Contains(path, ":") {
		if e.shape.Members["Extensions"] == nil {
			return invalidPath(path)
		}
		return applyExtension(doc, path, value, set)
	}
	segs := strings.Split(path, ".")
	top := memberNamed(e.shape, segs[0])
	if top == nil || top.Name == "Extensions" {
		return invalidPath(path)
	}
	if e.readOnly[top.Name] {
		return apierr.Validation("%s: The attribute %s is read-only and can't be updated", lowerFirst(top.Name), lowerFirst(top.Name))
	}
	parent, key, shape := doc, top.Name, top.Shape
	for _, seg := range segs[1:] {
		if shape.Type == "list" {
			return apierr.Validation("Unsupported update operation on multi-value attribute %s, please provide full replacement of Multi-Value attribute types", lowerFirst(top.Name))
		}
		m := (*model.Member)(nil)
		if shape.Type == "structure" {
			m = memberNamed(shape, seg)
		}
		if m == nil {
			return invalidPath(path)
		}
		child, _ := parent[key].(map[string]any)
		if child == nil {
			if !set {
				return nil // nothing there to remove
			}
			child = map[string]any{}
			parent[key] = child
		}
		parent, key, shape = child, m.Name, m.Shape
	}
	if !set {
		delete(parent, key)
		return nil
	}
	v, err := fromDocument(shape, value, path)
	if err != nil {
		return err
	}
	parent[key] = v
	return nil
}

func invalidPath(path string) error {
	return apierr.Validation("Invalid attribute path %s: no such attribute can be updated", path)
}

// memberNamed finds the member of s called name, ignoring case.
func memberNamed(s *model.Shape, name string) *model.Member {
	for _, n := range s.MemberOrder {
		if strings.EqualFold(n, name) {
			return s.Members[n]
		}
	}
	return nil
}

// fromDocument turns a document value into the model form of shape s: the
// keys of objects become the members they name, ignoring case (documents
// spell them in lower camel case: {"value": …, "primary": true}). An
// unknown key is refused; types and constraints are left to Validate.
func fromDocument(s *model.Shape, v any, path string) (any, error) {
	switch s.Type {
	case "structure":
		m, ok := v.(map[string]any)
		if !ok {
			return v, nil
		}
		out := make(map[string]any, len(m))
		for k, x := range m {
			mem := memberNamed(s, k)
			if mem == nil {
				return nil, apierr.Validation("%s: %s is not an attribute of %s", path, k, path)
			}
			if _, dup := out[mem.Name]; dup {
				return nil, apierr.Validation("%s: the attribute %s is given twice", path, lowerFirst(mem.Name))
			}
			if x == nil {
				continue
			}
			cx, err := fromDocument(mem.Shape, x, path+"."+lowerFirst(mem.Name))
			if err != nil {
				return nil, err
			}
			out[mem.Name] = cx
		}
		return out, nil
	case "list":
		l, ok := v.([]any)
		if !ok {
			return v, nil
		}
		out := make([]any, len(l))
		for i, x := range l {
			cx, err := fromDocument(s.Member, x, path)
			if err != nil {
				return nil, err
			}
			out[i] = cx
		}
		return out, nil
	}
	return v, nil
}

// asValidation reports a value of the wrong type as AWS reports any invalid
// attribute value: a ValidationException.
func asValidation(err error) error {
	if e, ok := apierr.As(err); ok && e.Code == "SerializationException" {
		c := *e
		c.Code = "ValidationException"
		return &c
	}
	return err
}

func toDoc(v any) (map[string]any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var doc map[string]any
	return doc, dec.Decode(&doc)
}

func fromDoc(doc map[string]any, v any) error {
	b, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

func lowerFirst(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToLower(r)) + s[n:]
}

// --- extensions

const enterpriseExtension = "aws:identitystore:enterprise"

// extAttr is the schema of an extension attribute: a string, or an object
// of named attributes.
type extAttr struct {
	attrs map[string]*extAttr // nil for a string
}

// extensionSchemas are the extensions AWS supports: the enterprise one, SCIM's
// enterprise user (RFC 7643 section 4.3; the manager's displayName is not
// supported by Identity Center).
var extensionSchemas = map[string]*extAttr{
	enterpriseExtension: {attrs: map[string]*extAttr{
		"employeeNumber": {}, "costCenter": {}, "organization": {}, "division": {}, "department": {},
		"manager": {attrs: map[string]*extAttr{"value": {}}},
	}},
}

// lookup finds a sub-attribute by name, ignoring case, with its canonical name.
func (a *extAttr) lookup(name string) (*extAttr, string) {
	for n, sub := range a.attrs {
		if strings.EqualFold(n, name) {
			return sub, n
		}
	}
	return nil, ""
}

// normalize checks v against the schema and returns it with canonical names.
func (a *extAttr) normalize(v any, path string) (any, error) {
	if a.attrs == nil {
		s, ok := v.(string)
		if !ok || s == "" || utf8.RuneCountInString(s) > 1024 {
			return nil, apierr.Validation("%s must be a string of 1 to 1024 characters", path)
		}
		return s, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, apierr.Validation("%s must be an object", path)
	}
	out := make(map[string]any, len(m))
	for k, x := range m {
		sub, name := a.lookup(k)
		if sub == nil {
			return nil, apierr.Validation("%s: %s is not a supported attribute", path, k)
		}
		if _, dup := out[name]; dup {
			return nil, apierr.Validation("%s: the attribute %s is given twice", path, name)
		}
		if x == nil {
			continue
		}
		nx, err := sub.normalize(x, path+"."+name)
		if err != nil {
			return nil, err
		}
		out[name] = nx
	}
	return out, nil
}

func normalizeExtension(name string, v any) (any, error) {
	schema := extensionSchemas[name]
	if schema == nil {
		return nil, apierr.Validation("Extension %s is not supported; %s is the only supported extension", name, enterpriseExtension)
	}
	return schema.normalize(v, name)
}

// checkExtension validates an extension document as sent and returns it
// with canonical attribute names.
func checkExtension(name string, doc json.RawMessage) (json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, apierr.Validation("%s is not valid JSON", name)
	}
	nv, err := normalizeExtension(name, v)
	if err != nil {
		return nil, err
	}
	return json.Marshal(nv)
}

// applyExtension runs an operation on an extension path: the extension's
// name, then optionally the path of one of its attributes.
func applyExtension(doc map[string]any, path string, value any, set bool) error {
	name, rest, _ := strings.Cut(path, ".")
	schema := extensionSchemas[name]
	if schema == nil {
		return apierr.Validation("Extension %s is not supported; %s is the only supported extension", name, enterpriseExtension)
	}
	exts, _ := doc["Extensions"].(map[string]any)
	if exts == nil {
		if !set {
			return nil
		}
		exts = map[string]any{}
		doc["Extensions"] = exts
	}
	defer func() {
		if d, ok := exts[name].(map[string]any); ok && len(d) == 0 {
			delete(exts, name)
		}
		if len(exts) == 0 {
			delete(doc, "Extensions")
		}
	}()
	parent, key, attr := exts, name, schema
	if rest != "" {
		for _, seg := range strings.Split(rest, ".") {
			sub, canonical := attr.lookup(seg)
			if attr.attrs == nil || sub == nil {
				return invalidPath(path)
			}
			child, ok := parent[key].(map[string]any)
			if !ok {
				if !set {
					return nil
				}
				child = map[string]any{} // replaces whatever else was there
				parent[key] = child
			}
			parent, key, attr = child, canonical, sub
		}
	}
	if !set {
		delete(parent, key)
		return nil
	}
	parent[key] = value // checked with the whole extension once all operations ran
	return nil
}
