package access

import (
	"context"
	"slices"
	"strings"

	"github.com/atrium-sso/atrium/internal/awsproto"
	"github.com/atrium-sso/atrium/internal/store"
)

func (s *Service) tagOps() map[string]awsproto.Handler {
	return map[string]awsproto.Handler{
		"TagResource":         awsproto.Op(s.tagResource),
		"UntagResource":       awsproto.Op(s.untagResource),
		"ListTagsForResource": awsproto.Op(s.listTagsForResource),
	}
}

// maxTags is how many tags one resource may carry (AWS's tagging limit).
const maxTags = 50

type tag struct {
	Key   string
	Value string
}

// checkTags refuses what no request may set: a key twice, or a key in the
// aws: namespace, which AWS keeps for itself.
func checkTags(tags []tag) error {
	seen := map[string]bool{}
	for _, t := range tags {
		if seen[t.Key] {
			return invalid("The tag key %s appears more than once.", t.Key)
		}
		seen[t.Key] = true
		if reservedTagKey(t.Key) {
			return invalid("The aws: prefix is reserved for AWS use; the tag key %s can't use it.", t.Key)
		}
	}
	return nil
}

func reservedTagKey(key string) bool { return strings.HasPrefix(strings.ToLower(key), "aws:") }

var errTooManyTags = quota("A resource can have at most %d tags.", maxTags)

// putTags adds or replaces tags on a resource, within its limit.
func putTags(ctx context.Context, tx store.Tx, resource string, tags []tag) error {
	if len(tags) == 0 {
		return nil
	}
	list := make([]store.Tag, len(tags))
	for i, t := range tags {
		list[i] = store.Tag{Key: t.Key, Value: t.Value}
	}
	if err := tx.PutTags(ctx, resource, list); err != nil {
		return err
	}
	all, err := tx.ListTags(ctx, resource)
	if err != nil {
		return err
	}
	if len(all) > maxTags {
		return errTooManyTags // rolls the transaction back
	}
	return nil
}

// taggable checks that resource is the instance or one of its permission
// sets. InstanceArn is optional in tag calls; when given, the resource must
// belong to it. Atrium serves no applications or trusted token issuers.
func taggable(ctx context.Context, tx store.Tx, instanceARN *string, resource string) error {
	owner, isPermissionSet := instanceOfPermissionSet(resource)
	if !isPermissionSet {
		if !strings.Contains(resource, ":instance/") {
			return notFound("Could not find resource %s.", resource)
		}
		owner = resource
	}
	if instanceARN != nil && *instanceARN != owner {
		if _, err := Instance(ctx, tx, *instanceARN); err != nil {
			return err
		}
		return notFound("Could not find resource %s in instance %s.", resource, *instanceARN)
	}
	if _, err := Instance(ctx, tx, owner); err != nil || !isPermissionSet {
		return err
	}
	_, err := permissionSet(ctx, tx, owner, resource)
	return err
}

type tagResourceIn struct {
	InstanceArn *string
	ResourceArn string
	Tags        []tag
}

func (s *Service) tagResource(ctx context.Context, in *tagResourceIn) (*struct{}, error) {
	if err := checkTags(in.Tags); err != nil {
		return nil, err
	}
	return nil, s.store.Write(ctx, func(tx store.Tx) error {
		if err := taggable(ctx, tx, in.InstanceArn, in.ResourceArn); err != nil {
			return err
		}
		return putTags(ctx, tx, in.ResourceArn, in.Tags)
	})
}

type untagResourceIn struct {
	InstanceArn *string
	ResourceArn string
	TagKeys     []string
}

func (s *Service) untagResource(ctx context.Context, in *untagResourceIn) (*struct{}, error) {
	if i := slices.IndexFunc(in.TagKeys, reservedTagKey); i >= 0 {
		return nil, invalid("The aws: prefix is reserved for AWS use; the tag key %s can't be removed.", in.TagKeys[i])
	}
	return nil, s.store.Write(ctx, func(tx store.Tx) error {
		if err := taggable(ctx, tx, in.InstanceArn, in.ResourceArn); err != nil {
			return err
		}
		return tx.DeleteTags(ctx, in.ResourceArn, in.TagKeys)
	})
}

type listTagsIn struct {
	InstanceArn *string
	ResourceArn string
	NextToken   *string
}

type listTagsOut struct {
	Tags      []tag
	NextToken *string `json:",omitempty"`
}

func (s *Service) listTagsForResource(ctx context.Context, in *listTagsIn) (*listTagsOut, error) {
	out := listTagsOut{Tags: []tag{}}
	return &out, s.store.Read(ctx, func(tx store.Tx) error {
		if err := taggable(ctx, tx, in.InstanceArn, in.ResourceArn); err != nil {
			return err
		}
		all, err := tx.ListTags(ctx, in.ResourceArn)
		if err != nil {
			return err
		}
		slices.SortFunc(all, func(a, b store.Tag) int { return strings.Compare(a.Key, b.Key) })
		// Every tag fits one page (the limit is 50); the token is still checked.
		list, next, err := awsproto.Page(s.pager, "ListTagsForResource/"+in.ResourceArn, in.NextToken, maxTags+1, errBadToken,
			func(after string, limit int) ([]store.Tag, error) {
				var page []store.Tag
				for _, t := range all {
					if t.Key > after && len(page) < limit {
						page = append(page, t)
					}
				}
				return page, nil
			}, func(t store.Tag) string { return t.Key })
		for _, t := range list {
			out.Tags = append(out.Tags, tag{Key: t.Key, Value: t.Value})
		}
		out.NextToken = next
		return err
	})
}
