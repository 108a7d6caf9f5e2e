// Package access owns who may do what where: the Identity Center instance,
// permission sets, account assignments and their provisioning as IAM roles,
// served as the sso-admin API.
package access

import (
	"context"
	"errors"
	"net/http"
	"sync"

	"github.com/atrium-sso/atrium/internal/apierr"
	"github.com/atrium-sso/atrium/internal/awsproto"
	"github.com/atrium-sso/atrium/internal/awsproto/model"
	"github.com/atrium-sso/atrium/internal/jobs"
	"github.com/atrium-sso/atrium/internal/store"
)

// Service is the sso-admin domain.
type Service struct {
	store  store.Store
	pager  *awsproto.Pager
	runner *jobs.Runner
	roles  Roles
	// instances seen to exist (write)
	instances sync.Map
}

// New builds the service over s (the audited store); provisioning jobs run
// on runner and write roles through roles.
func New(s store.Store, runner *jobs.Runner, pager *awsproto.Pager, roles Roles) *Service {
	svc := &Service{store: s, pager: pager, runner: runner, roles: roles}
	svc.registerJobs()
	return svc
}

// API is sso-admin as Atrium serves it.
func (s *Service) API() *awsproto.Service {
	ops := map[string]awsproto.Handler{}
	for _, group := range []map[string]awsproto.Handler{
		s.instanceOps(),      // instance.go
		s.permissionSetOps(), // permissionsets.go, policies.go
		s.assignmentOps(),    // assignments.go
		s.provisioningOps(),  // provisioning.go
		s.abacOps(),          // abac.go
		s.tagOps(),           // tags.go
	} {
		for name, h := range group {
			ops[name] = h
		}
	}
	return &awsproto.Service{Model: model.MustLoad("sso-admin"), EventSource: "sso.amazonaws.com", Ops: ops, Resources: resources()}
}

// --- errors, as sso-admin names them

func notFound(format string, args ...any) *apierr.Error {
	return apierr.New(http.StatusBadRequest, "ResourceNotFoundException", format, args...)
}

func conflict(format string, args ...any) *apierr.Error {
	return apierr.New(http.StatusBadRequest, "ConflictException", format, args...)
}

func invalid(format string, args ...any) *apierr.Error {
	return apierr.Validation(format, args...)
}

func quota(format string, args ...any) *apierr.Error {
	return apierr.New(http.StatusBadRequest, "ServiceQuotaExceededException", format, args...)
}

var errBadToken = invalid("The NextToken is invalid.")

// notFoundAs turns store.ErrNotFound into e and passes other errors through.
func notFoundAs(err error, e *apierr.Error) error {
	if errors.Is(err, store.ErrNotFound) {
		return e
	}
	return err
}

// --- transactions scoped to an instance

func (s *Service) read(ctx context.Context, instanceARN string, fn func(store.Tx, *store.Instance) error) error {
	return s.store.Read(ctx, func(tx store.Tx) error {
		in, err := Instance(ctx, tx, instanceARN)
		if err != nil {
			return err
		}
		return fn(tx, in)
	})
}

// write runs fn in a write transaction on an instance that exists.
// Instances are never deleted: one found once is not looked up again,
// which spares the single writer a read in every change.
func (s *Service) write(ctx context.Context, instanceARN string, fn func(store.Tx) error) error {
	return s.store.Write(ctx, func(tx store.Tx) error {
		if _, known := s.instances.Load(instanceARN); !known {
			if _, err := Instance(ctx, tx, instanceARN); err != nil {
				return err
			}
			s.instances.Store(instanceARN, true)
		}
		return fn(tx)
	})
}

// permissionSet loads a permission set of the instance or answers ResourceNotFoundException.
func permissionSet(ctx context.Context, tx store.Tx, instanceARN, arn string) (*store.PermissionSet, error) {
	ps, err := tx.GetPermissionSet(ctx, instanceARN, arn)
	return ps, notFoundAs(err, notFound("Could not find PermissionSet with PermissionSetArn %s.", arn))
}

func pageLimit(max *int, def int) int {
	if max == nil || *max <= 0 {
		return def
	}
	return *max
}
