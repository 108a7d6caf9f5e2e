package access

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/atrium-sso/atrium/internal/awsproto"
	"github.com/atrium-sso/atrium/internal/ids"
	"github.com/atrium-sso/atrium/internal/store"
)

// Job kinds of the provisioning engine. Each job carries a request id; the
// request's status is settled in the transaction that makes the change, so a
// job retried after a crash finds its request done and does nothing twice.
const (
	jobAssignment = "access.assignment"
	jobProvision  = "access.provision"
)

type requestRef struct {
	InstanceARN string
	Kind        string
	ID          string
}

func (s *Service) registerJobs() {
	s.runner.Handle(jobAssignment, s.runRequest)
	s.runner.Handle(jobProvision, s.runRequest)
}

// runRequest settles one access request: SUCCEEDED, or FAILED with the
// reason when the change cannot be made. Faults (a database error) return an
// error, roll the change back and leave the job to be retried. The request
// is read once, locked, and settled in the same transaction as the change.
func (s *Service) runRequest(ctx context.Context, tx store.Tx, job *store.Job) error {
	var ref requestRef
	if err := json.Unmarshal(job.Payload, &ref); err != nil {
		return fmt.Errorf("access job %s: %w", job.ID, err)
	}
	_, err := tx.SettleAccessRequest(ctx, ref.InstanceARN, ref.Kind, ref.ID, func(r *store.AccessRequest) error {
		if r.Status != store.StatusInProgress {
			return errSettled
		}
		var reason string
		var err error
		if r.Kind == store.RequestProvisioning {
			reason, err = s.provisionRequest(ctx, tx, r)
		} else {
			reason, err = s.changeAssignment(ctx, tx, r)
		}
		if err != nil {
			return err
		}
		r.Status, r.FailureReason, r.CompletedAt = store.StatusSucceeded, reason, time.Now().UTC()
		if reason != "" {
			r.Status = store.StatusFailed
		}
		return nil
	})
	if errors.Is(err, errSettled) || errors.Is(err, store.ErrNotFound) {
		return nil // nothing left to do
	}
	return err
}

// errSettled stops the settling of a request that is settled already.
var errSettled = errors.New("access: request already settled")

// provisionRequest provisions a permission set to one account or to every
// account it is provisioned to. Accounts that cannot take it are skipped and
// the first reason is reported; the others are provisioned.
func (s *Service) provisionRequest(ctx context.Context, tx store.Tx, r *store.AccessRequest) (string, error) {
	ps, err := tx.GetPermissionSet(ctx, r.InstanceARN, r.PermissionSetARN)
	if errors.Is(err, store.ErrNotFound) {
		return "Received a 404 status error: Permission set not found.", nil
	}
	if err != nil {
		return "", err
	}
	if r.TargetType == "AWS_ACCOUNT" {
		acct, err := tx.GetAccount(ctx, r.TargetID)
		if errors.Is(err, store.ErrNotFound) || (err == nil && acct.Status != "ACTIVE") {
			return "Received a 404 status error: The AWS account " + r.TargetID + " is not an active account of the organization.", nil
		}
		if err != nil {
			return "", err
		}
		return s.provision(ctx, tx, ps, r.TargetID)
	}
	var accounts []string
	for after := ""; ; {
		page, err := tx.ListProvisionedAccounts(ctx, r.InstanceARN, ps.ARN, nil, after, 500)
		if err != nil {
			return "", err
		}
		for _, p := range page {
			accounts = append(accounts, p.AccountID)
		}
		if len(page) < 500 {
			break
		}
		after = page[len(page)-1].AccountID
	}
	first := ""
	for _, acct := range accounts {
		reason, err := s.provision(ctx, tx, ps, acct)
		if err != nil {
			return "", err
		}
		if first == "" {
			first = reason
		}
	}
	return first, nil
}

// provision writes the permission set's current version as its role in the
// account and records it; a reason comes back when the account cannot take it.
func (s *Service) provision(ctx context.Context, tx store.Tx, ps *store.PermissionSet, accountID string) (string, error) {
	name := RoleName(ps, accountID)
	err := s.roles.PutRole(ctx, tx, RoleSpec{
		AccountID: accountID, Name: name, Path: RolePath, TrustPolicy: trustPolicy(ps.InstanceARN, accountID),
		MaxSessionSecs: 12 * 3600, ManagedPolicies: ps.ManagedPolicies, CustomerPolicies: ps.CustomerPolicies,
		InlinePolicy: ps.InlinePolicy, Boundary: ps.Boundary,
	})
	var pe *ProvisioningError
	if errors.As(err, &pe) {
		return pe.Reason, nil
	}
	if err != nil {
		return "", err
	}
	return "", tx.PutProvisioned(ctx, store.Provisioned{InstanceARN: ps.InstanceARN, AccountID: accountID,
		PermissionSetARN: ps.ARN, RoleName: name, Version: ps.Version, ProvisionedAt: time.Now().UTC()})
}

// deprovision removes the permission set's role from the account.
func (s *Service) deprovision(ctx context.Context, tx store.Tx, ps *store.PermissionSet, accountID string) error {
	p, err := tx.GetProvisioned(ctx, ps.InstanceARN, accountID, ps.ARN)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := s.roles.DeleteRole(ctx, tx, accountID, p.RoleName); err != nil {
		return err
	}
	return tx.DeleteProvisioned(ctx, ps.InstanceARN, accountID, ps.ARN)
}

// RolePath is where Identity Center's roles live in every account.
const RolePath = "/aws-reserved/sso.amazonaws.com/"

// RoleName is AWSReservedSSO_<permission set>_<16 hex>. AWS does not say how
// the suffix is made, only that it differs per account; here it is a hash of
// the instance, account and permission set, so every node and every retry
// names the same role.
func RoleName(ps *store.PermissionSet, accountID string) string {
	return "AWSReservedSSO_" + ps.Name + "_" + digest(ps.InstanceARN, accountID, ps.ARN)
}

func digest(parts ...string) string {
	h := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(h[:8])
}

// trustPolicy lets the instance's SAML provider in the account federate into
// the role, as the roles Identity Center provisions do.
func trustPolicy(instanceARN, accountID string) string {
	provider := "arn:aws:iam::" + accountID + ":saml-provider/AWSSSO_" + digest(instanceARN) + "_DO_NOT_DELETE"
	return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"` + provider +
		`"},"Action":["sts:AssumeRoleWithSAML","sts:TagSession"],"Condition":{"StringEquals":{"SAML:aud":"https://signin.aws.amazon.com/saml"}}}]}`
}

func (s *Service) provisioningOps() map[string]awsproto.Handler {
	return map[string]awsproto.Handler{
		"ProvisionPermissionSet":                  awsproto.Op(s.provisionPermissionSet),
		"DescribePermissionSetProvisioningStatus": awsproto.Op(s.describePermissionSetProvisioningStatus),
		"ListPermissionSetProvisioningStatus":     awsproto.Op(s.listPermissionSetProvisioningStatus),
		"ListAccountsForProvisionedPermissionSet": awsproto.Op(s.listAccountsForProvisionedPermissionSet),
		"ListPermissionSetsProvisionedToAccount":  awsproto.Op(s.listPermissionSetsProvisionedToAccount),
	}
}

type provisionIn struct {
	InstanceArn      string
	PermissionSetArn string
	TargetId         string
	TargetType       string
}

type provisioningStatusOut struct {
	Status           string
	RequestId        string
	AccountId        string `json:",omitempty"`
	PermissionSetArn string
	FailureReason    string `json:",omitempty"`
	CreatedDate      *awsproto.Timestamp
}

type provisioningStatusWrap struct {
	PermissionSetProvisioningStatus provisioningStatusOut
}

func toProvisioningStatus(r *store.AccessRequest) provisioningStatusWrap {
	return provisioningStatusWrap{provisioningStatusOut{Status: r.Status, RequestId: r.ID, AccountId: r.TargetID,
		PermissionSetArn: r.PermissionSetARN, FailureReason: r.FailureReason, CreatedDate: awsproto.TimestampOf(r.CreatedAt)}}
}

func (s *Service) provisionPermissionSet(ctx context.Context, in *provisionIn) (*provisioningStatusWrap, error) {
	switch {
	case in.TargetType == "AWS_ACCOUNT" && in.TargetId == "":
		return nil, invalid("TargetId is required when TargetType is AWS_ACCOUNT.")
	case in.TargetType == "ALL_PROVISIONED_ACCOUNTS" && in.TargetId != "":
		return nil, invalid("TargetId must not be given when TargetType is ALL_PROVISIONED_ACCOUNTS.")
	}
	r := store.AccessRequest{InstanceARN: in.InstanceArn, Kind: store.RequestProvisioning, ID: ids.TimeUUID(),
		Status: store.StatusInProgress, TargetID: in.TargetId, TargetType: in.TargetType,
		PermissionSetARN: in.PermissionSetArn, CreatedAt: time.Now().UTC()}
	err := s.write(ctx, in.InstanceArn, func(tx store.Tx) error {
		if _, err := permissionSet(ctx, tx, in.InstanceArn, in.PermissionSetArn); err != nil {
			return err
		}
		if err := tx.InsertAccessRequest(ctx, r); err != nil {
			return err
		}
		return s.runner.Enqueue(ctx, tx, jobProvision, requestRef{InstanceARN: r.InstanceARN, Kind: r.Kind, ID: r.ID})
	})
	if err != nil {
		return nil, err
	}
	out := toProvisioningStatus(&r)
	return &out, nil
}

type describeProvisioningIn struct {
	InstanceArn                     string
	ProvisionPermissionSetRequestId string
}

func (s *Service) describePermissionSetProvisioningStatus(ctx context.Context, in *describeProvisioningIn) (*provisioningStatusWrap, error) {
	r, err := s.describeRequest(ctx, in.InstanceArn, store.RequestProvisioning, in.ProvisionPermissionSetRequestId)
	if err != nil {
		return nil, err
	}
	out := toProvisioningStatus(r)
	return &out, nil
}

type listProvisioningStatusOut struct {
	PermissionSetsProvisioningStatus []statusMetadata
	NextToken                        *string `json:",omitempty"`
}

func (s *Service) listPermissionSetProvisioningStatus(ctx context.Context, in *listStatusIn) (*listProvisioningStatusOut, error) {
	list, next, err := s.listRequests(ctx, in, store.RequestProvisioning)
	if err != nil {
		return nil, err
	}
	return &listProvisioningStatusOut{list, next}, nil
}

// outdatedFilter maps a ProvisioningStatus filter to the store's.
func outdatedFilter(status string) *bool {
	switch status {
	case "LATEST_PERMISSION_SET_PROVISIONED":
		f := false
		return &f
	case "LATEST_PERMISSION_SET_NOT_PROVISIONED":
		t := true
		return &t
	}
	return nil
}

type listAccountsForProvisionedIn struct {
	InstanceArn        string
	PermissionSetArn   string
	ProvisioningStatus string
	MaxResults         *int
	NextToken          *string
}

type listAccountsForProvisionedOut struct {
	AccountIds []string
	NextToken  *string `json:",omitempty"`
}

func (s *Service) listAccountsForProvisionedPermissionSet(ctx context.Context, in *listAccountsForProvisionedIn) (*listAccountsForProvisionedOut, error) {
	out := listAccountsForProvisionedOut{AccountIds: []string{}}
	return &out, s.read(ctx, in.InstanceArn, func(tx store.Tx, _ *store.Instance) error {
		if _, err := permissionSet(ctx, tx, in.InstanceArn, in.PermissionSetArn); err != nil {
			return err
		}
		list, next, err := awsproto.Page(s.pager, "provisioned-accounts/"+in.PermissionSetArn+"/"+in.ProvisioningStatus, in.NextToken,
			pageLimit(in.MaxResults, 100), errBadToken,
			func(after string, limit int) ([]store.Provisioned, error) {
				return tx.ListProvisionedAccounts(ctx, in.InstanceArn, in.PermissionSetArn, outdatedFilter(in.ProvisioningStatus), after, limit)
			}, func(p store.Provisioned) string { return p.AccountID })
		for _, p := range list {
			out.AccountIds = append(out.AccountIds, p.AccountID)
		}
		out.NextToken = next
		return err
	})
}

type listProvisionedToAccountIn struct {
	InstanceArn        string
	AccountId          string
	ProvisioningStatus string
	MaxResults         *int
	NextToken          *string
}

type listProvisionedToAccountOut struct {
	PermissionSets []string
	NextToken      *string `json:",omitempty"`
}

func (s *Service) listPermissionSetsProvisionedToAccount(ctx context.Context, in *listProvisionedToAccountIn) (*listProvisionedToAccountOut, error) {
	out := listProvisionedToAccountOut{PermissionSets: []string{}}
	return &out, s.read(ctx, in.InstanceArn, func(tx store.Tx, _ *store.Instance) error {
		list, next, err := awsproto.Page(s.pager, "provisioned-to/"+in.AccountId+"/"+in.ProvisioningStatus, in.NextToken,
			pageLimit(in.MaxResults, 100), errBadToken,
			func(after string, limit int) ([]store.Provisioned, error) {
				return tx.ListProvisionedPermissionSets(ctx, in.InstanceArn, in.AccountId, outdatedFilter(in.ProvisioningStatus), after, limit)
			}, func(p store.Provisioned) string { return p.PermissionSetARN })
		for _, p := range list {
			out.PermissionSets = append(out.PermissionSets, p.PermissionSetARN)
		}
		out.NextToken = next
		return err
	})
}
