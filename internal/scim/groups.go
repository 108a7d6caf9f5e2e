package scim

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/atrium-sso/atrium/internal/directory"
	"github.com/atrium-sso/atrium/internal/ids"
	"github.com/atrium-sso/atrium/internal/store"
)

// groupDoc is a group as SCIM shows it; members nil leaves them out.
func (s *Service) groupDoc(g *store.Group, iss string, members []string) map[string]any {
	d := map[string]any{"schemas": []any{groupSchema}, "id": g.ID, "displayName": g.DisplayName,
		"meta": s.meta(groupResource, g.ID, g.CreatedAt, g.UpdatedAt)}
	if ext := externalIDOf(g.ExternalIDs, iss); ext != "" {
		d["externalId"] = ext
	}
	if members != nil {
		list := make([]any, len(members))
		for i, id := range members {
			list[i] = map[string]any{"value": id, "$ref": s.location(userResource, id), "type": "User"}
		}
		d["members"] = list
	}
	return d
}

// fromGroupDoc sets g's SCIM attributes (not its members) from doc.
func fromGroupDoc(doc map[string]any, g *store.Group, iss string) error {
	g.DisplayName = strOf(doc, "displayName")
	g.ExternalIDs = withExternalID(g.ExternalIDs, iss, strOf(doc, "externalId"))
	switch {
	case g.DisplayName == "":
		return badRequest(invalidValue, "displayName is required")
	case len(g.DisplayName) > 1024:
		return badRequest(invalidValue, "displayName is longer than 1024 characters")
	case directory.Reserved(g.DisplayName):
		return badRequest(invalidValue, "displayName %s is reserved", g.DisplayName)
	}
	return nil
}

// memberIDs reads the user ids of a document's members.
func memberIDs(doc map[string]any) ([]string, error) {
	return valueIDs(doc["members"])
}

func valueIDs(v any) ([]string, error) {
	list := anyList(v)
	if m, ok := v.(map[string]any); ok {
		list = []any{m}
	}
	out := make([]string, 0, len(list))
	for _, x := range list {
		id, ok := valueOf(x)
		if !ok || id == "" {
			return nil, badRequest(invalidValue, "every member needs a value: a user id")
		}
		if t := strOf(x.(map[string]any), "type"); t != "" && !strings.EqualFold(t, "User") {
			return nil, badRequest(invalidValue, "members are users; a %s cannot be a member", t)
		}
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out, nil
}

// membersOf lists a group's members' user ids.
func membersOf(ctx context.Context, tx store.Tx, storeID, groupID string) ([]string, error) {
	out := []string{}
	after := ""
	for {
		ms, err := tx.ListGroupMemberships(ctx, storeID, groupID, after, 1000)
		if err != nil {
			return nil, err
		}
		for _, m := range ms {
			out = append(out, m.UserID)
		}
		if len(ms) < 1000 {
			return out, nil
		}
		after = ms[len(ms)-1].ID
	}
}

// addMembers puts users in a group; members already there are fine.
func (s *Service) addMembers(ctx context.Context, tx store.Tx, c *call, groupID string, userIDs []string) (int, error) {
	now := s.now().UTC().Truncate(time.Millisecond)
	added := 0
	for _, uid := range userIDs {
		err := tx.InsertGroupMembership(ctx, store.GroupMembership{IdentityStoreID: c.store, ID: ids.GroupMembershipID(c.store),
			GroupID: groupID, UserID: uid, CreatedAt: now, CreatedBy: c.actor, UpdatedAt: now, UpdatedBy: c.actor})
		switch {
		case errors.Is(err, store.ErrConflict):
		case errors.Is(err, store.ErrUserMissing):
			return 0, badRequest(invalidValue, "member %s is not a user of this identity store", uid)
		case errors.Is(err, store.ErrGroupMissing):
			return 0, notFound("Group", groupID)
		case err != nil:
			return 0, err
		default:
			added++
		}
	}
	return added, nil
}

// removeMembers takes users out of a group; users not in it are fine.
func removeMembers(ctx context.Context, tx store.Tx, storeID, groupID string, userIDs []string) error {
	for _, uid := range userIDs {
		m, err := tx.GetGroupMembershipOf(ctx, storeID, groupID, uid)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		if err := tx.DeleteGroupMembership(ctx, storeID, m.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
	}
	return nil
}

// setMembers makes want the group's members.
func (s *Service) setMembers(ctx context.Context, tx store.Tx, c *call, groupID string, want []string) error {
	have, err := membersOf(ctx, tx, c.store, groupID)
	if err != nil {
		return err
	}
	var drop, add []string
	for _, id := range have {
		if !slices.Contains(want, id) {
			drop = append(drop, id)
		}
	}
	for _, id := range want {
		if !slices.Contains(have, id) {
			add = append(add, id)
		}
	}
	if err := removeMembers(ctx, tx, c.store, groupID, drop); err != nil {
		return err
	}
	_, err = s.addMembers(ctx, tx, c, groupID, add)
	return err
}

// patchGroup applies a PATCH to a group. Membership changes go straight
// to the memberships (a group may have many members: they are only all
// read when an operation needs them all); the rest applies to the group's
// document. All of it in the caller's one transaction.
func (s *Service) patchGroup(ctx context.Context, tx store.Tx, c *call, id string, ops []patchOp, now time.Time) error {
	iss := issuer(c.token.SourceID)
	g, err := tx.GetGroup(ctx, c.store, id)
	if err != nil {
		return err
	}
	doc := s.groupDoc(g, iss, nil)
	changed := false
	for _, op := range ops {
		// A value map without a path may hold members among other attributes.
		if m, ok := op.Value.(map[string]any); ok && op.Path == "" {
			rest := map[string]any{}
			for k, v := range m {
				if strings.EqualFold(k, "members") {
					if err := s.patchMembers(ctx, tx, c, id, patchOp{Op: op.Op, Path: "members", Value: v}); err != nil {
						return err
					}
				} else {
					rest[k] = v
				}
			}
			if len(rest) == 0 {
				continue
			}
			op.Value = rest
		}
		if isMembersPath(op.Path) {
			if err := s.patchMembers(ctx, tx, c, id, op); err != nil {
				return err
			}
			continue
		}
		if err := applyPatch(groupResource, doc, op); err != nil {
			return err
		}
		changed = true
	}
	if !changed {
		return nil
	}
	_, err = tx.UpdateGroup(ctx, c.store, id, func(g *store.Group) error {
		g.UpdatedAt, g.UpdatedBy = now, c.actor
		return fromGroupDoc(doc, g, iss)
	})
	return err
}

func isMembersPath(path string) bool {
	p := path
	if _, rest, ok := groupResource.splitURN(path); ok {
		p = rest
	}
	return len(p) >= 7 && strings.EqualFold(p[:7], "members") && (len(p) == 7 || p[7] == '[' || p[7] == '.' || p[7] == ' ')
}

// patchMembers runs one operation on a group's members.
func (s *Service) patchMembers(ctx context.Context, tx store.Tx, c *call, groupID string, op patchOp) error {
	pp, err := parsePatchPath(groupResource, op.Path)
	if err != nil {
		return err
	}
	if pp.attr.Sub != "" {
		return badRequest(mutability, "members' %s cannot be changed; add or remove the member", pp.attr.Sub)
	}
	var values []string
	if op.Value != nil {
		if values, err = valueIDs(op.Value); err != nil {
			return err
		}
	}
	if pp.filter != nil {
		if op.Op != "remove" {
			return badRequest(invalidPath, "members are added by value; a filter only selects members to remove")
		}
		// members[value eq "…"] (or several joined by or): no need to read them all.
		if ids, ok := valueEqualities(pp.filter); ok {
			return removeMembers(ctx, tx, c.store, groupID, ids)
		}
		all, err := membersOf(ctx, tx, c.store, groupID)
		if err != nil {
			return err
		}
		var drop []string
		for _, id := range all {
			if pp.filter.match(map[string]any{"value": id, "type": "User"}) {
				drop = append(drop, id)
			}
		}
		return removeMembers(ctx, tx, c.store, groupID, drop)
	}
	switch op.Op {
	case "add":
		_, err := s.addMembers(ctx, tx, c, groupID, values)
		return err
	case "replace":
		return s.setMembers(ctx, tx, c, groupID, values)
	}
	if op.Value == nil { // remove every member
		all, err := membersOf(ctx, tx, c.store, groupID)
		if err != nil {
			return err
		}
		return removeMembers(ctx, tx, c.store, groupID, all)
	}
	return removeMembers(ctx, tx, c.store, groupID, values)
}

// valueEqualities reads `value eq "a" or value eq "b"` as [a b].
func valueEqualities(f filter) ([]string, bool) {
	switch x := f.(type) {
	case *compare:
		s, ok := x.value.(string)
		if x.op == "eq" && ok && x.path.Attr == "value" && x.path.Sub == "" {
			return []string{s}, true
		}
	case *logical:
		if x.op == "or" {
			l, ok1 := valueEqualities(x.l)
			r, ok2 := valueEqualities(x.r)
			return append(l, r...), ok1 && ok2
		}
	}
	return nil, false
}
