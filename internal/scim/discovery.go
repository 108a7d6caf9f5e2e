package scim

import (
	"context"
	"net/http"
	"strings"
)

// serviceProviderConfig answers what this server supports (RFC 7643 section 5).
func (s *Service) serviceProviderConfig(ctx context.Context, c *call) error {
	writeJSON(c.w, http.StatusOK, map[string]any{
		"schemas":          []string{spcSchema},
		"documentationUri": "https://github.com/atrium-sso/atrium#scim",
		"patch":            map[string]any{"supported": true},
		"bulk":             map[string]any{"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
		"filter":           map[string]any{"supported": true, "maxResults": maxCount},
		"changePassword":   map[string]any{"supported": false},
		"sort":             map[string]any{"supported": false},
		"etag":             map[string]any{"supported": false},
		"authenticationSchemes": []any{map[string]any{
			"type": "oauthbearertoken", "name": "OAuth Bearer Token", "primary": true,
			"description": "A bearer token made with `atrium scim token create`, sent as Authorization: Bearer <token>.",
			"specUri":     "https://www.rfc-editor.org/info/rfc6750",
		}},
		"meta": map[string]any{"resourceType": "ServiceProviderConfig", "location": s.url + Prefix + "/ServiceProviderConfig"},
	})
	return nil
}

func attrDoc(a *attr) map[string]any {
	d := map[string]any{"name": a.Name, "type": a.Type, "multiValued": a.Multi, "description": a.Description, "required": a.Required,
		"caseExact": a.CaseExact, "mutability": or(a.Mutability, "readWrite"), "returned": or(a.Returned, "default"),
		"uniqueness": or(a.Uniqueness, "none")}
	if len(a.RefTypes) > 0 {
		d["referenceTypes"] = a.RefTypes
	}
	if len(a.Sub) > 0 {
		subs := make([]any, len(a.Sub))
		for i, sa := range a.Sub {
			subs[i] = attrDoc(sa)
		}
		d["subAttributes"] = subs
	}
	return d
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func (s *Service) schemaDoc(sc *schema) map[string]any {
	attrs := make([]any, len(sc.Attrs))
	for i, a := range sc.Attrs {
		attrs[i] = attrDoc(a)
	}
	return map[string]any{"schemas": []string{schemaSchema}, "id": sc.ID, "name": sc.Name, "description": sc.Description, "attributes": attrs,
		"meta": map[string]any{"resourceType": "Schema", "location": s.url + Prefix + "/Schemas/" + sc.ID}}
}

// schemas lists the schemas (RFC 7644 section 4), or shows one.
func (s *Service) schemas(c *call, id string) error {
	if id != "" {
		for _, sc := range allSchemas {
			if strings.EqualFold(sc.ID, id) {
				writeJSON(c.w, http.StatusOK, s.schemaDoc(sc))
				return nil
			}
		}
		return notFound("Schema", id)
	}
	list := make([]any, len(allSchemas))
	for i, sc := range allSchemas {
		list[i] = s.schemaDoc(sc)
	}
	writeJSON(c.w, http.StatusOK, listOfResources(list))
	return nil
}

func (s *Service) resourceTypeDoc(r *resource) map[string]any {
	exts := []any{}
	for _, e := range r.Exts {
		exts = append(exts, map[string]any{"schema": e.ID, "required": false})
	}
	return map[string]any{"schemas": []string{rtSchema}, "id": r.Name, "name": r.Name, "endpoint": r.Endpoint,
		"description": r.Schema.Description, "schema": r.Schema.ID, "schemaExtensions": exts,
		"meta": map[string]any{"resourceType": "ResourceType", "location": s.url + Prefix + "/ResourceTypes/" + r.Name}}
}

// resourceTypes lists the resource types (RFC 7644 section 4), or shows one.
func (s *Service) resourceTypes(c *call, id string) error {
	all := []*resource{userResource, groupResource}
	if id != "" {
		for _, r := range all {
			if strings.EqualFold(r.Name, id) {
				writeJSON(c.w, http.StatusOK, s.resourceTypeDoc(r))
				return nil
			}
		}
		return notFound("ResourceType", id)
	}
	list := make([]any, len(all))
	for i, r := range all {
		list[i] = s.resourceTypeDoc(r)
	}
	writeJSON(c.w, http.StatusOK, listOfResources(list))
	return nil
}

func listOfResources(list []any) map[string]any {
	return map[string]any{"schemas": []string{listSchema}, "totalResults": len(list), "startIndex": 1, "itemsPerPage": len(list), "Resources": list}
}
