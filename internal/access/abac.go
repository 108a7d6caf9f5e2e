package access

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/atrium-sso/atrium/internal/awsproto"
	"github.com/atrium-sso/atrium/internal/store"
)

// The instance's attributes for access control (ABAC): session tags that
// carry a user's attributes into the roles they take.

func (s *Service) abacOps() map[string]awsproto.Handler {
	return map[string]awsproto.Handler{
		"CreateInstanceAccessControlAttributeConfiguration":   awsproto.Op(s.createAccessControlAttributes),
		"DescribeInstanceAccessControlAttributeConfiguration": awsproto.Op(s.describeAccessControlAttributes),
		"UpdateInstanceAccessControlAttributeConfiguration":   awsproto.Op(s.updateAccessControlAttributes),
		"DeleteInstanceAccessControlAttributeConfiguration":   awsproto.Op(s.deleteAccessControlAttributes),
	}
}

type accessControlAttribute struct {
	Key   string
	Value struct{ Source []string }
}

type accessControlConfig struct {
	AccessControlAttributes []accessControlAttribute
}

type accessControlIn struct {
	InstanceArn                                 string
	InstanceAccessControlAttributeConfiguration accessControlConfig
}

var errNoAccessControl = notFound("The instance has no access control attribute configuration.")

// attributes checks a configuration and turns it into the store's form. A
// key may appear once: session tag keys are case-insensitive.
func (c accessControlConfig) attributes() ([]store.AccessControlAttribute, error) {
	seen := map[string]bool{}
	out := make([]store.AccessControlAttribute, 0, len(c.AccessControlAttributes))
	for _, a := range c.AccessControlAttributes {
		k := strings.ToLower(a.Key)
		if seen[k] {
			return nil, invalid("The access control attribute key %s appears more than once.", a.Key)
		}
		seen[k] = true
		out = append(out, store.AccessControlAttribute{Key: a.Key, Sources: a.Value.Source})
	}
	return out, nil
}

// putAccessControlAttributes stores the configuration; exists says whether
// one must already be there (Update) or must not (Create).
func (s *Service) putAccessControlAttributes(ctx context.Context, in *accessControlIn, exists bool) error {
	attrs, err := in.InstanceAccessControlAttributeConfiguration.attributes()
	if err != nil {
		return err
	}
	return s.write(ctx, in.InstanceArn, func(tx store.Tx) error {
		_, err := tx.GetAccessControlAttributes(ctx, in.InstanceArn)
		switch {
		case err != nil && !errors.Is(err, store.ErrNotFound):
			return err
		case err == nil && !exists:
			return conflict("The instance already has an access control attribute configuration.")
		case err != nil && exists:
			return errNoAccessControl
		}
		return tx.PutAccessControlAttributes(ctx, store.AccessControlAttributes{InstanceARN: in.InstanceArn, Attributes: attrs,
			Status: "ENABLED", UpdatedAt: time.Now().UTC()})
	})
}

func (s *Service) createAccessControlAttributes(ctx context.Context, in *accessControlIn) (*struct{}, error) {
	return nil, s.putAccessControlAttributes(ctx, in, false)
}

func (s *Service) updateAccessControlAttributes(ctx context.Context, in *accessControlIn) (*struct{}, error) {
	return nil, s.putAccessControlAttributes(ctx, in, true)
}

type describeAccessControlOut struct {
	Status                                      string
	StatusReason                                string `json:",omitempty"`
	InstanceAccessControlAttributeConfiguration accessControlConfig
}

func (s *Service) describeAccessControlAttributes(ctx context.Context, in *instanceIn) (*describeAccessControlOut, error) {
	var out describeAccessControlOut
	return &out, s.read(ctx, in.InstanceArn, func(tx store.Tx, _ *store.Instance) error {
		c, err := tx.GetAccessControlAttributes(ctx, in.InstanceArn)
		if err != nil {
			return notFoundAs(err, errNoAccessControl)
		}
		out.Status, out.StatusReason = c.Status, c.StatusReason
		out.InstanceAccessControlAttributeConfiguration.AccessControlAttributes = make([]accessControlAttribute, len(c.Attributes))
		for i, a := range c.Attributes {
			attr := &out.InstanceAccessControlAttributeConfiguration.AccessControlAttributes[i]
			attr.Key, attr.Value.Source = a.Key, a.Sources
		}
		return nil
	})
}

func (s *Service) deleteAccessControlAttributes(ctx context.Context, in *instanceIn) (*struct{}, error) {
	return nil, s.write(ctx, in.InstanceArn, func(tx store.Tx) error {
		return notFoundAs(tx.DeleteAccessControlAttributes(ctx, in.InstanceArn), errNoAccessControl)
	})
}
