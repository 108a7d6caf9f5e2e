// Package access owns who may do what where: the Identity Center instance
// and, as they come, permission sets, account assignments and provisioning,
// served as the sso-admin API.
package access

import (
	"context"
	"net/http"

	"github.com/atrium-sso/atrium/internal/apierr"
	"github.com/atrium-sso/atrium/internal/awsproto"
	"github.com/atrium-sso/atrium/internal/awsproto/model"
	"github.com/atrium-sso/atrium/internal/store"
)

// Service is the sso-admin domain.
type Service struct {
	store store.Store
	pager *awsproto.Pager
}

// New builds the service.
func New(s store.Store, pager *awsproto.Pager) *Service { return &Service{store: s, pager: pager} }

// API is sso-admin as Atrium serves it.
func (s *Service) API() *awsproto.Service {
	return &awsproto.Service{
		Model:       model.MustLoad("sso-admin"),
		EventSource: "sso.amazonaws.com",
		Ops: map[string]awsproto.Handler{
			"ListInstances":    awsproto.Op(s.listInstances),
			"DescribeInstance": awsproto.Op(s.describeInstance),
		},
	}
}

type instanceOut struct {
	InstanceArn     string
	IdentityStoreId string
	OwnerAccountId  string
	Name            string
	CreatedDate     *awsproto.Timestamp
	Status          string
}

func toInstance(in store.Instance) instanceOut {
	return instanceOut{InstanceArn: in.ARN, IdentityStoreId: in.IdentityStoreID, OwnerAccountId: in.OwnerAccountID, Name: in.Name,
		CreatedDate: awsproto.TimestampOf(in.CreatedAt), Status: in.Status}
}

type listInstancesIn struct {
	MaxResults *int
	NextToken  *string
}

type listInstancesOut struct {
	Instances []instanceOut
	NextToken *string `json:",omitempty"`
}

var errBadToken = apierr.New(http.StatusBadRequest, "ValidationException", "The NextToken is invalid.")

func (s *Service) listInstances(ctx context.Context, in *listInstancesIn) (*listInstancesOut, error) {
	limit := 10 // AWS lists at most 10 instances
	if in.MaxResults != nil && *in.MaxResults < limit {
		limit = *in.MaxResults
	}
	out := listInstancesOut{Instances: []instanceOut{}}
	return &out, s.store.Read(ctx, func(tx store.Tx) error {
		all, err := tx.ListInstances(ctx)
		if err != nil {
			return err
		}
		list, next, err := awsproto.Page(s.pager, "ListInstances", in.NextToken, limit, errBadToken,
			func(after string, limit int) ([]store.Instance, error) {
				var page []store.Instance
				for _, i := range all {
					if i.ARN > after && len(page) < limit {
						page = append(page, i)
					}
				}
				return page, nil
			}, func(i store.Instance) string { return i.ARN })
		for _, i := range list {
			out.Instances = append(out.Instances, toInstance(i))
		}
		out.NextToken = next
		return err
	})
}

type describeInstanceIn struct{ InstanceArn string }

// Instance finds an instance by ARN (other packages use it to check theirs).
func Instance(ctx context.Context, tx store.Tx, arn string) (*store.Instance, error) {
	all, err := tx.ListInstances(ctx)
	if err != nil {
		return nil, err
	}
	for _, i := range all {
		if i.ARN == arn {
			return &i, nil
		}
	}
	return nil, apierr.New(http.StatusBadRequest, "ResourceNotFoundException", "Instance %s doesn't exist.", arn)
}

func (s *Service) describeInstance(ctx context.Context, in *describeInstanceIn) (*instanceOut, error) {
	var out instanceOut
	return &out, s.store.Read(ctx, func(tx store.Tx) error {
		i, err := Instance(ctx, tx, in.InstanceArn)
		if err != nil {
			return err
		}
		out = toInstance(*i)
		return nil
	})
}
