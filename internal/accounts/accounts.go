// Package accounts owns the organization: its management and member
// accounts, organizational units and their tags, served as the subset of the
// Organizations API that Identity Center needs.
package accounts

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync/atomic"
	"time"

	"github.com/atrium-sso/atrium/internal/apierr"
	"github.com/atrium-sso/atrium/internal/awsproto"
	"github.com/atrium-sso/atrium/internal/ids"
	"github.com/atrium-sso/atrium/internal/jobs"
	"github.com/atrium-sso/atrium/internal/store"
)

// jobCreateAccount finishes a CreateAccount request asynchronously, as AWS does.
const jobCreateAccount = "organizations.create-account"

// Service is the organization's domain logic.
type Service struct {
	store store.Store
	jobs  *jobs.Runner
	pager *awsproto.Pager
	// The organization never changes once bootstrapped: read it once.
	orgCache atomic.Pointer[store.Organization]
}

// New builds the service and registers its asynchronous work with runner.
func New(s store.Store, runner *jobs.Runner, pager *awsproto.Pager) *Service {
	svc := &Service{store: s, jobs: runner, pager: pager}
	runner.Handle(jobCreateAccount, svc.finishCreateAccount)
	return svc
}

// Bootstrap creates the organization and its management account if the
// store has none. It runs once per database, under the migration lock.
func Bootstrap(ctx context.Context, tx store.Tx, managementAccountID, managementEmail string) (*store.Organization, error) {
	if org, err := tx.GetOrganization(ctx); err == nil {
		return org, nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	if managementAccountID == "" {
		managementAccountID = ids.AccountID()
	}
	now := time.Now().UTC()
	orgID := ids.OrganizationID()
	org := store.Organization{
		ID: orgID, ARN: "arn:aws:organizations::" + managementAccountID + ":organization/" + orgID, FeatureSet: "ALL",
		ManagementAccountID: managementAccountID, ManagementAccountEmail: managementEmail, RootID: ids.RootID(), CreatedAt: now,
	}
	if err := tx.InsertOrganization(ctx, org); err != nil {
		return nil, err
	}
	err := tx.InsertAccount(ctx, store.Account{ID: managementAccountID, Name: "Management", Email: managementEmail, ParentID: org.RootID,
		Status: "ACTIVE", State: "ACTIVE", JoinedMethod: "CREATED", JoinedAt: now})
	return &org, err
}

// --- errors, named as the Organizations API names them

func notFound(code, what string) *apierr.Error {
	return apierr.New(400, code, "You specified %s that doesn't exist.", what)
}

var (
	errAccountNotFound = notFound("AccountNotFoundException", "an account")
	errOUNotFound      = notFound("OrganizationalUnitNotFoundException", "an organizational unit")
	errParentNotFound  = notFound("ParentNotFoundException", "a parent")
	errChildNotFound   = notFound("ChildNotFoundException", "a child")
	errTargetNotFound  = notFound("TargetNotFoundException", "a target")
	errStatusNotFound  = notFound("CreateAccountStatusNotFoundException", "a create account request")
	errBadToken        = invalidInput("INVALID_NEXT_TOKEN", "You specified an invalid value for nextToken.")
)

func invalidInput(reason, msg string) *apierr.Error {
	return apierr.New(400, "InvalidInputException", "%s", msg).With("Reason", reason)
}

func constraint(reason, msg string) *apierr.Error {
	return apierr.New(400, "ConstraintViolationException", "%s", msg).With("Reason", reason)
}

// --- shapes

type accountOut struct {
	Id              string
	Arn             string
	Email           string
	Name            string
	Status          string
	State           string
	JoinedMethod    string
	JoinedTimestamp *awsproto.Timestamp
}

type organizationalUnitOut struct {
	Id   string
	Arn  string
	Name string
}

type createAccountStatusOut struct {
	Id                 string
	AccountName        string
	State              string
	RequestedTimestamp *awsproto.Timestamp
	CompletedTimestamp *awsproto.Timestamp `json:",omitempty"`
	AccountId          string              `json:",omitempty"`
	FailureReason      string              `json:",omitempty"`
}

type tag struct {
	Key   string
	Value string
}

type idRef struct {
	Id   string
	Type string
}

func (s *Service) org(ctx context.Context, tx store.Tx) (*store.Organization, error) {
	if org := s.orgCache.Load(); org != nil {
		return org, nil
	}
	org, err := tx.GetOrganization(ctx)
	if errors.Is(err, store.ErrNotFound) {
		return nil, apierr.New(400, "AWSOrganizationsNotInUseException", "Your account is not a member of an organization.")
	}
	if err != nil {
		return nil, err
	}
	s.orgCache.Store(org)
	return org, nil
}

// read runs fn on the read pool with the organization, which every
// Organizations call needs (and fails without).
func (s *Service) read(ctx context.Context, fn func(store.Tx, *store.Organization) error) error {
	return s.store.Read(ctx, func(tx store.Tx) error {
		org, err := s.org(ctx, tx)
		if err != nil {
			return err
		}
		return fn(tx, org)
	})
}

// write is read's counterpart in a write transaction.
func (s *Service) write(ctx context.Context, fn func(store.Tx, *store.Organization) error) error {
	return s.store.Write(ctx, func(tx store.Tx) error {
		org, err := s.org(ctx, tx)
		if err != nil {
			return err
		}
		return fn(tx, org)
	})
}

func accountARN(org *store.Organization, id string) string {
	return "arn:aws:organizations::" + org.ManagementAccountID + ":account/" + org.ID + "/" + id
}

func ouARN(org *store.Organization, id string) string {
	return "arn:aws:organizations::" + org.ManagementAccountID + ":ou/" + org.ID + "/" + id
}

func rootARN(org *store.Organization) string {
	return "arn:aws:organizations::" + org.ManagementAccountID + ":root/" + org.ID + "/" + org.RootID
}

func toAccount(org *store.Organization, a store.Account) accountOut {
	return accountOut{Id: a.ID, Arn: accountARN(org, a.ID), Email: a.Email, Name: a.Name, Status: a.Status, State: a.State,
		JoinedMethod: a.JoinedMethod, JoinedTimestamp: awsproto.TimestampOf(a.JoinedAt)}
}

func toOU(org *store.Organization, ou store.OrganizationalUnit) organizationalUnitOut {
	return organizationalUnitOut{Id: ou.ID, Arn: ouARN(org, ou.ID), Name: ou.Name}
}

func toStatus(r store.CreateAccountRequest) createAccountStatusOut {
	return createAccountStatusOut{Id: r.ID, AccountName: r.AccountName, State: r.State, RequestedTimestamp: awsproto.TimestampOf(r.RequestedAt),
		CompletedTimestamp: awsproto.TimestampOf(r.CompletedAt), AccountId: r.AccountID, FailureReason: r.FailureReason}
}

// --- pagination: every list walks by id, the cursor is the last id returned

const defaultPage = 20

// page is awsproto.Page with Organizations' page size and bad-token error.
func page[T any](s *Service, scope string, token *string, max *int, list func(after string, limit int) ([]T, error), id func(T) string) ([]T, *string, error) {
	limit := defaultPage
	if max != nil {
		limit = *max
	}
	return awsproto.Page(s.pager, scope, token, limit, errBadToken, list, id)
}

// checkToken refuses a token not made for scope, for lists that fit one page.
func (s *Service) checkToken(scope string, token *string) error {
	_, _, err := page(s, scope, token, nil, func(string, int) ([]struct{}, error) { return nil, nil }, nil)
	return err
}

// isParent resolves a parent id (the root or an OU) and returns its type.
func isParent(ctx context.Context, tx store.Tx, org *store.Organization, id string) (string, error) {
	if id == org.RootID {
		return "ROOT", nil
	}
	if strings.HasPrefix(id, "ou-") {
		if _, err := tx.GetOrganizationalUnit(ctx, id); err == nil {
			return "ORGANIZATIONAL_UNIT", nil
		} else if !errors.Is(err, store.ErrNotFound) {
			return "", err
		}
	}
	return "", errParentNotFound
}

// payload decodes a job's payload.
func payload[T any](job *store.Job) (T, error) {
	var v T
	err := json.Unmarshal(job.Payload, &v)
	return v, err
}
