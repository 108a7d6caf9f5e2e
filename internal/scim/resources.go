package scim

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/atrium-sso/atrium/internal/ids"
	"github.com/atrium-sso/atrium/internal/store"
)

// maxScan bounds the resources a filter no index answers may read.
var maxScan atomic.Int64

func init() { maxScan.Store(200_000) }

var errDuplicate = func(res *resource) *Error {
	if res == groupResource {
		return errorf(http.StatusConflict, uniqueness, "a group with this displayName or externalId already exists")
	}
	return errorf(http.StatusConflict, uniqueness, "a user with this userName or externalId already exists")
}

// storeErr maps the store's errors for a resource id.
// ownUser refuses to change a user of another identity source: an IdP's
// token manages its own users, never, say, a break-glass admin of the
// built-in directory (it still sees them, to tell its admin why).
func ownUser(c *call, u *store.User) error {
	if u.SourceID != c.token.SourceID {
		return errorf(http.StatusForbidden, "", "User %s belongs to another identity source; this token cannot change it", u.ID)
	}
	return nil
}

func storeErr(err error, res *resource, id string) error {
	switch {
	case errors.Is(err, store.ErrConflict):
		return errDuplicate(res)
	case errors.Is(err, store.ErrNotFound):
		return notFound(res.Name, id)
	}
	return err
}

func (s *Service) create(ctx context.Context, c *call, res *resource) error {
	in, err := body(c.r)
	if err != nil {
		return err
	}
	if err := requireSchema(in, res.Schema.ID); err != nil {
		return err
	}
	doc, err := normalize(res, in, false)
	if err != nil {
		return err
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	iss := issuer(c.token.SourceID)
	var out map[string]any
	if res == userResource {
		u := store.User{IdentityStoreID: c.store, ID: ids.UserID(c.store), Status: store.UserEnabled, SourceID: c.token.SourceID,
			CreatedAt: now, CreatedBy: c.actor, UpdatedAt: now, UpdatedBy: c.actor}
		fromUserDoc(doc, &u, iss)
		if err := s.checkUser(&u); err != nil {
			return err
		}
		err = s.store.Write(ctx, func(tx store.Tx) error { return tx.InsertUser(ctx, u) })
		out = s.userDoc(&u, iss)
	} else {
		g := store.Group{IdentityStoreID: c.store, ID: ids.GroupID(c.store), CreatedAt: now, CreatedBy: c.actor, UpdatedAt: now, UpdatedBy: c.actor}
		if err := fromGroupDoc(doc, &g, iss); err != nil {
			return err
		}
		members, merr := memberIDs(doc)
		if merr != nil {
			return merr
		}
		err = s.store.Write(ctx, func(tx store.Tx) error {
			if err := tx.InsertGroup(ctx, g); err != nil {
				return err
			}
			_, err := s.addMembers(ctx, tx, c, g.ID, members)
			return err
		})
		out = s.groupDoc(&g, iss, members)
	}
	if err != nil {
		return storeErr(err, res, "")
	}
	c.w.Header().Set("Location", s.location(res, strOf(out, "id")))
	return s.answer(c, http.StatusCreated, res, out)
}

func (s *Service) get(ctx context.Context, c *call, res *resource, id string) error {
	var out map[string]any
	proj, err := projectionOf(c.r.URL.Query().Get("attributes"), c.r.URL.Query().Get("excludedAttributes"))
	if err != nil {
		return err
	}
	err = s.store.Read(ctx, func(tx store.Tx) error {
		var err error
		out, err = s.load(ctx, tx, c, res, id, proj)
		return err
	})
	if err != nil {
		return storeErr(err, res, id)
	}
	return s.answer(c, http.StatusOK, res, out)
}

// load reads one resource as SCIM shows it on its own (a user with its
// groups, a group with its members unless they are excluded).
func (s *Service) load(ctx context.Context, tx store.Tx, c *call, res *resource, id string, proj projection) (map[string]any, error) {
	iss := issuer(c.token.SourceID)
	if res == userResource {
		u, err := tx.GetUser(ctx, c.store, id)
		if err != nil {
			return nil, err
		}
		d := s.userDoc(u, iss)
		if proj.wants("groups") {
			groups, err := s.userGroups(ctx, tx, c.store, id)
			if err != nil {
				return nil, err
			}
			setOrDelete(d, "groups", groups)
		}
		return d, nil
	}
	g, err := tx.GetGroup(ctx, c.store, id)
	if err != nil {
		return nil, err
	}
	var members []string
	if proj.wants("members") {
		if members, err = membersOf(ctx, tx, c.store, id); err != nil {
			return nil, err
		}
	}
	return s.groupDoc(g, iss, members), nil
}

func (s *Service) replace(ctx context.Context, c *call, res *resource, id string) error {
	in, err := body(c.r)
	if err != nil {
		return err
	}
	if err := requireSchema(in, res.Schema.ID); err != nil {
		return err
	}
	doc, err := normalize(res, in, false)
	if err != nil {
		return err
	}
	iss := issuer(c.token.SourceID)
	now := s.now().UTC().Truncate(time.Millisecond)
	var out map[string]any
	err = s.store.Write(ctx, func(tx store.Tx) error {
		if res == userResource {
			u, err := tx.UpdateUser(ctx, c.store, id, func(u *store.User) error {
				if err := ownUser(c, u); err != nil {
					return err
				}
				fromUserDoc(doc, u, iss)
				u.UpdatedAt, u.UpdatedBy = now, c.actor
				return s.checkUser(u)
			})
			if err != nil {
				return err
			}
			out = s.userDoc(u, iss)
			return nil
		}
		g, err := tx.UpdateGroup(ctx, c.store, id, func(g *store.Group) error {
			g.UpdatedAt, g.UpdatedBy = now, c.actor
			return fromGroupDoc(doc, g, iss)
		})
		if err != nil {
			return err
		}
		// Members left out are left as they are (RFC 7644 section 3.5.1 allows it).
		if _, given := doc["members"]; given || hasKey(in, "members") {
			want, err := memberIDs(doc)
			if err != nil {
				return err
			}
			if err := s.setMembers(ctx, tx, c, id, want); err != nil {
				return err
			}
		}
		members, err := membersOf(ctx, tx, c.store, id)
		out = s.groupDoc(g, iss, members)
		return err
	})
	if err != nil {
		return storeErr(err, res, id)
	}
	return s.answer(c, http.StatusOK, res, out)
}

func hasKey(m map[string]any, key string) bool {
	_, ok := get(m, key)
	return ok
}

func (s *Service) patch(ctx context.Context, c *call, res *resource, id string) error {
	in, err := body(c.r)
	if err != nil {
		return err
	}
	ops, err := parsePatch(in)
	if err != nil {
		return err
	}
	iss := issuer(c.token.SourceID)
	now := s.now().UTC().Truncate(time.Millisecond)
	var out map[string]any
	err = s.store.Write(ctx, func(tx store.Tx) error {
		if res == userResource {
			u, err := tx.UpdateUser(ctx, c.store, id, func(u *store.User) error {
				if err := ownUser(c, u); err != nil {
					return err
				}
				doc := s.userDoc(u, iss)
				for _, op := range ops {
					if err := applyPatch(userResource, doc, op); err != nil {
						return err
					}
				}
				fromUserDoc(doc, u, iss)
				u.UpdatedAt, u.UpdatedBy = now, c.actor
				return s.checkUser(u)
			})
			if err != nil {
				return err
			}
			out = s.userDoc(u, iss)
			groups, err := s.userGroups(ctx, tx, c.store, id)
			setOrDelete(out, "groups", groups)
			return err
		}
		return s.patchGroup(ctx, tx, c, id, ops, now)
	})
	if err != nil {
		return storeErr(err, res, id)
	}
	if res == groupResource {
		// The group and its members are not read back: 204 is what Okta
		// and Entra ID expect, and saves reading large groups.
		c.w.WriteHeader(http.StatusNoContent)
		return nil
	}
	return s.answer(c, http.StatusOK, res, out)
}

func (s *Service) delete(ctx context.Context, c *call, res *resource, id string) error {
	err := s.store.Write(ctx, func(tx store.Tx) error {
		if res == userResource {
			u, err := tx.GetUser(ctx, c.store, id)
			if err != nil {
				return err
			}
			if err := ownUser(c, u); err != nil {
				return err
			}
			return tx.DeleteUser(ctx, c.store, id) // with its memberships and assignments
		}
		return tx.DeleteGroup(ctx, c.store, id)
	})
	if err != nil {
		return storeErr(err, res, id)
	}
	c.w.WriteHeader(http.StatusNoContent)
	return nil
}

// answer writes one resource, with the attributes asked for.
func (s *Service) answer(c *call, status int, res *resource, doc map[string]any) error {
	proj, err := projectionOf(c.r.URL.Query().Get("attributes"), c.r.URL.Query().Get("excludedAttributes"))
	if err != nil {
		return err
	}
	writeJSON(c.w, status, proj.apply(res, doc))
	return nil
}

// --- attributes and excludedAttributes (RFC 7644 section 3.9)

// projection is the top-level attributes asked for or excluded, lower-cased;
// sub-attributes stand for their attribute.
type projection struct {
	only, except map[string]bool
}

func projectionOf(attributes, excluded string) (projection, error) {
	parse := func(s string) (map[string]bool, error) {
		if strings.TrimSpace(s) == "" {
			return nil, nil
		}
		m := map[string]bool{}
		for _, a := range strings.Split(s, ",") {
			a = strings.TrimSpace(a)
			if a == "" || len(a) > 256 {
				return nil, badRequest(invalidValue, "invalid attribute list %q", s)
			}
			// urn:…:User:name.givenName → name; urn:…:enterprise:2.0:User:department → the extension.
			if ext := userResource.ext(a); ext != nil {
				m[strings.ToLower(ext.ID)] = true
				continue
			}
			for _, sc := range allSchemas {
				if len(a) > len(sc.ID) && strings.EqualFold(a[:len(sc.ID)+1], sc.ID+":") {
					if sc == enterpriseSchemaDef {
						a = sc.ID
					} else {
						a = a[len(sc.ID)+1:]
					}
				}
			}
			top, _, _ := strings.Cut(a, ".")
			m[strings.ToLower(top)] = true
		}
		return m, nil
	}
	only, err := parse(attributes)
	if err != nil {
		return projection{}, err
	}
	except, err := parse(excluded)
	return projection{only: only, except: except}, err
}

// wants reports whether the attribute (canonical name) is returned.
func (p projection) wants(name string) bool {
	n := strings.ToLower(name)
	if p.only != nil {
		return p.only[n]
	}
	return !p.except[n]
}

func (p projection) apply(res *resource, doc map[string]any) map[string]any {
	if p.only == nil && p.except == nil {
		return doc
	}
	out := make(map[string]any, len(doc))
	for k, v := range doc {
		if k == "id" || k == "schemas" || p.wants(k) {
			out[k] = v
		}
	}
	return out
}

// --- lists (RFC 7644 section 3.4.2) and searches (section 3.4.3)

type listParams struct {
	filter       filter
	start, count int
	proj         projection
}

func (s *Service) listParams(c *call, res *resource, search bool) (listParams, error) {
	lp := listParams{start: 1, count: defaultCount}
	var filterText, startText, countText, attrs, excluded string
	if search {
		in, err := body(c.r)
		if err != nil {
			return lp, err
		}
		if err := requireSchema(in, searchSchema); err != nil {
			return lp, err
		}
		text := func(k string) (string, error) {
			v, ok := get(in, k)
			switch x := v.(type) {
			case nil:
				return "", nil
			case string:
				return x, nil
			case []any:
				parts := make([]string, 0, len(x))
				for _, e := range x {
					if s, ok := e.(string); ok {
						parts = append(parts, s)
					}
				}
				return strings.Join(parts, ","), nil
			default:
				if ok {
					if n, isNum := v.(interface{ String() string }); isNum {
						return n.String(), nil
					}
				}
			}
			return "", badRequest(invalidValue, "%s has the wrong type", k)
		}
		var err1, err2, err3, err4, err5 error
		filterText, err1 = text("filter")
		startText, err2 = text("startIndex")
		countText, err3 = text("count")
		attrs, err4 = text("attributes")
		excluded, err5 = text("excludedAttributes")
		if err := errors.Join(err1, err2, err3, err4, err5); err != nil {
			return lp, err
		}
	} else {
		q := c.r.URL.Query()
		filterText, startText, countText = q.Get("filter"), q.Get("startIndex"), q.Get("count")
		attrs, excluded = q.Get("attributes"), q.Get("excludedAttributes")
		if q.Has("sortBy") {
			return lp, badRequest(invalidValue, "sorting is not supported")
		}
	}
	if startText != "" {
		n, err := strconv.Atoi(startText)
		if err != nil {
			return lp, badRequest(invalidValue, "startIndex must be an integer")
		}
		lp.start = max(n, 1) // below 1 is read as 1
	}
	if countText != "" {
		n, err := strconv.Atoi(countText)
		if err != nil {
			return lp, badRequest(invalidValue, "count must be an integer")
		}
		lp.count = min(max(n, 0), maxCount) // negative is read as 0
	}
	if strings.TrimSpace(filterText) != "" {
		f, err := parseFilter(res, filterText)
		if err != nil {
			return lp, err
		}
		lp.filter = f
	}
	var err error
	lp.proj, err = projectionOf(attrs, excluded)
	return lp, err
}

func (s *Service) list(ctx context.Context, c *call, res *resource, search bool) error {
	lp, err := s.listParams(c, res, search)
	if err != nil {
		return err
	}
	var total int
	var docs []map[string]any
	err = s.store.Read(ctx, func(tx store.Tx) error {
		var err error
		total, docs, err = s.find(ctx, tx, c, res, lp)
		return err
	})
	if err != nil {
		return err
	}
	items := make([]any, len(docs))
	for i, d := range docs {
		items[i] = lp.proj.apply(res, d)
	}
	writeJSON(c.w, http.StatusOK, map[string]any{"schemas": []string{listSchema}, "totalResults": total, "startIndex": lp.start,
		"itemsPerPage": len(items), "Resources": items})
	return nil
}

// find answers a list: the number of matches and the page of them asked for.
func (s *Service) find(ctx context.Context, tx store.Tx, c *call, res *resource, lp listParams) (int, []map[string]any, error) {
	iss := issuer(c.token.SourceID)
	members := res == groupResource && lp.proj.wants("members")
	docOf := func(u *store.User, g *store.Group) (map[string]any, error) {
		if u != nil {
			d := s.userDoc(u, iss)
			if lp.filter != nil && mentions(lp.filter, "groups") {
				groups, err := s.userGroups(ctx, tx, c.store, u.ID)
				if err != nil {
					return nil, err
				}
				setOrDelete(d, "groups", groups)
			}
			return d, nil
		}
		var m []string
		if members || lp.filter != nil && mentions(lp.filter, "members") {
			var err error
			if m, err = membersOf(ctx, tx, c.store, g.ID); err != nil {
				return nil, err
			}
		}
		return s.groupDoc(g, iss, m), nil
	}
	if lp.filter == nil {
		// Unfiltered: the store counts and pages by position.
		var total int
		var page []map[string]any
		var err error
		if res == userResource {
			if total, err = tx.CountUsers(ctx, c.store); err != nil {
				return 0, nil, err
			}
			users, err := tx.ListUsersAt(ctx, c.store, lp.start-1, lp.count)
			if err != nil {
				return 0, nil, err
			}
			for i := range users {
				d, _ := docOf(&users[i], nil)
				page = append(page, d)
			}
			return total, page, nil
		}
		if total, err = tx.CountGroups(ctx, c.store); err != nil {
			return 0, nil, err
		}
		groups, err := tx.ListGroupsAt(ctx, c.store, lp.start-1, lp.count)
		if err != nil {
			return 0, nil, err
		}
		for i := range groups {
			d, err := docOf(nil, &groups[i])
			if err != nil {
				return 0, nil, err
			}
			page = append(page, d)
		}
		return total, page, nil
	}
	var total int
	var page []map[string]any
	consider := func(d map[string]any) {
		if !lp.filter.match(d) {
			return
		}
		total++
		if total >= lp.start && len(page) < lp.count {
			page = append(page, d)
		}
	}
	// An equality on a unique attribute is answered by an index.
	if name, value, ok := equality(lp.filter, "id", "userName", "externalId", "displayName"); ok && (res == groupResource || name != "displayName") {
		var u *store.User
		var g *store.Group
		var err error
		switch {
		case res == userResource && name == "id":
			u, err = tx.GetUser(ctx, c.store, value)
		case res == userResource && name == "userName":
			u, err = tx.GetUserByName(ctx, c.store, value)
		case res == userResource:
			u, err = tx.GetUserByExternalID(ctx, c.store, store.ExternalID{Issuer: iss, ID: value})
		case name == "id":
			g, err = tx.GetGroup(ctx, c.store, value)
		case name == "displayName":
			g, err = tx.GetGroupByDisplayName(ctx, c.store, value)
		default:
			g, err = tx.GetGroupByExternalID(ctx, c.store, store.ExternalID{Issuer: iss, ID: value})
		}
		if errors.Is(err, store.ErrNotFound) {
			return 0, nil, nil
		}
		if err != nil {
			return 0, nil, err
		}
		d, err := docOf(u, g)
		if err != nil {
			return 0, nil, err
		}
		consider(d)
		return total, page, nil
	}
	// Users of a group (AWS's groups.value filter): the group's memberships.
	if _, gid, ok := equality(lp.filter, "groups.value"); ok && res == userResource {
		members, err := membersOf(ctx, tx, c.store, gid)
		if err != nil {
			return 0, nil, err
		}
		slices.Sort(members) // the order of a full scan: by id
		for _, id := range members {
			u, err := tx.GetUser(ctx, c.store, id)
			if err != nil {
				return 0, nil, err
			}
			d, err := docOf(u, nil)
			if err != nil {
				return 0, nil, err
			}
			consider(d)
		}
		return total, page, nil
	}
	// Anything else: every resource of the store, checked in turn, up to a bound.
	var n int
	var err error
	if res == userResource {
		n, err = tx.CountUsers(ctx, c.store)
	} else {
		n, err = tx.CountGroups(ctx, c.store)
	}
	if err != nil {
		return 0, nil, err
	}
	if int64(n) > maxScan.Load() {
		return 0, nil, badRequest(tooMany, "this filter would read all %d %ss; filter with eq on id, userName, externalId or displayName", n, strings.ToLower(res.Name))
	}
	const batch = 1000
	after := ""
	for {
		var n int
		if res == userResource {
			users, err := tx.ListUsers(ctx, c.store, after, batch)
			if err != nil {
				return 0, nil, err
			}
			for i := range users {
				d, _ := docOf(&users[i], nil)
				consider(d)
			}
			if n = len(users); n > 0 {
				after = users[n-1].ID
			}
		} else {
			groups, err := tx.ListGroups(ctx, c.store, after, batch)
			if err != nil {
				return 0, nil, err
			}
			for i := range groups {
				d, err := docOf(nil, &groups[i])
				if err != nil {
					return 0, nil, err
				}
				consider(d)
			}
			if n = len(groups); n > 0 {
				after = groups[n-1].ID
			}
		}
		if n < batch {
			return total, page, nil
		}
	}
}
