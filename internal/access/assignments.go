package access

import (
	"context"
	"errors"
	"time"

	"github.com/atrium-sso/atrium/internal/awsproto"
	"github.com/atrium-sso/atrium/internal/ids"
	"github.com/atrium-sso/atrium/internal/store"
)

func (s *Service) assignmentOps() map[string]awsproto.Handler {
	return map[string]awsproto.Handler{
		"CreateAccountAssignment":                 awsproto.Op(s.createAccountAssignment),
		"DeleteAccountAssignment":                 awsproto.Op(s.deleteAccountAssignment),
		"DescribeAccountAssignmentCreationStatus": awsproto.Op(s.describeAccountAssignmentCreationStatus),
		"DescribeAccountAssignmentDeletionStatus": awsproto.Op(s.describeAccountAssignmentDeletionStatus),
		"ListAccountAssignmentCreationStatus":     awsproto.Op(s.listAccountAssignmentCreationStatus),
		"ListAccountAssignmentDeletionStatus":     awsproto.Op(s.listAccountAssignmentDeletionStatus),
		"ListAccountAssignments":                  awsproto.Op(s.listAccountAssignments),
		"ListAccountAssignmentsForPrincipal":      awsproto.Op(s.listAccountAssignmentsForPrincipal),
	}
}

type assignmentIn struct {
	InstanceArn      string
	TargetId         string
	TargetType       string
	PermissionSetArn string
	PrincipalType    string
	PrincipalId      string
}

type operationStatusOut struct {
	Status           string
	RequestId        string
	FailureReason    string `json:",omitempty"`
	TargetId         string `json:",omitempty"`
	TargetType       string `json:",omitempty"`
	PermissionSetArn string `json:",omitempty"`
	PrincipalType    string `json:",omitempty"`
	PrincipalId      string `json:",omitempty"`
	CreatedDate      *awsproto.Timestamp
}

func toOperationStatus(r *store.AccessRequest) *operationStatusOut {
	return &operationStatusOut{Status: r.Status, RequestId: r.ID, FailureReason: r.FailureReason, TargetId: r.TargetID,
		TargetType: r.TargetType, PermissionSetArn: r.PermissionSetARN, PrincipalType: r.PrincipalType,
		PrincipalId: r.PrincipalID, CreatedDate: awsproto.TimestampOf(r.CreatedAt)}
}

type createAssignmentOut struct{ AccountAssignmentCreationStatus *operationStatusOut }
type deleteAssignmentOut struct{ AccountAssignmentDeletionStatus *operationStatusOut }

func (s *Service) createAccountAssignment(ctx context.Context, in *assignmentIn) (*createAssignmentOut, error) {
	r, err := s.requestAssignmentChange(ctx, in, store.RequestAssignmentCreation)
	if err != nil {
		return nil, err
	}
	return &createAssignmentOut{toOperationStatus(r)}, nil
}

func (s *Service) deleteAccountAssignment(ctx context.Context, in *assignmentIn) (*deleteAssignmentOut, error) {
	r, err := s.requestAssignmentChange(ctx, in, store.RequestAssignmentDeletion)
	if err != nil {
		return nil, err
	}
	return &deleteAssignmentOut{toOperationStatus(r)}, nil
}

// requestAssignmentChange records the request and queues its job in one
// transaction. As on AWS, only the permission set is checked now; whether
// the account and principal exist is the job's answer (a FAILED status),
// checked again in the transaction that makes the change.
func (s *Service) requestAssignmentChange(ctx context.Context, in *assignmentIn, kind string) (*store.AccessRequest, error) {
	if in.TargetType != "AWS_ACCOUNT" {
		return nil, invalid("TargetType must be AWS_ACCOUNT.")
	}
	r := store.AccessRequest{InstanceARN: in.InstanceArn, Kind: kind, ID: ids.TimeUUID(), Status: store.StatusInProgress,
		TargetID: in.TargetId, TargetType: in.TargetType, PermissionSetARN: in.PermissionSetArn,
		PrincipalType: in.PrincipalType, PrincipalID: in.PrincipalId, CreatedAt: time.Now().UTC()}
	err := s.write(ctx, in.InstanceArn, func(tx store.Tx) error {
		if _, err := permissionSet(ctx, tx, in.InstanceArn, in.PermissionSetArn); err != nil {
			return err
		}
		if err := tx.InsertAccessRequest(ctx, r); err != nil {
			return err
		}
		return s.runner.Enqueue(ctx, tx, jobAssignment, requestRef{InstanceARN: r.InstanceARN, Kind: kind, ID: r.ID})
	})
	if err != nil {
		return nil, err
	}
	return &r, nil
}

// changeAssignment is the job behind Create/DeleteAccountAssignment. The
// permission set itself is read only when its role is to be made or removed.
func (s *Service) changeAssignment(ctx context.Context, tx store.Tx, r *store.AccessRequest) (reason string, err error) {
	const psMissing = "Received a 404 status error: Permission set not found."
	a := store.AccountAssignment{InstanceARN: r.InstanceARN, AccountID: r.TargetID, PermissionSetARN: r.PermissionSetARN,
		PrincipalType: r.PrincipalType, PrincipalID: r.PrincipalID, CreatedAt: time.Now().UTC()}
	if r.Kind == store.RequestAssignmentDeletion {
		if err := tx.DeleteAssignment(ctx, a); errors.Is(err, store.ErrNotFound) {
			return "Received a 404 status error: Assignment not found.", nil
		} else if err != nil {
			return "", err
		}
		// The role goes when the last assignment of its permission set in the account goes.
		n, err := tx.CountAssignments(ctx, r.InstanceARN, r.TargetID, r.PermissionSetARN)
		if err != nil || n > 0 {
			return "", err
		}
		ps, err := tx.GetPermissionSet(ctx, r.InstanceARN, r.PermissionSetARN)
		if errors.Is(err, store.ErrNotFound) {
			return "", nil // gone, and its roles with it
		} else if err != nil {
			return "", err
		}
		return "", s.deprovision(ctx, tx, ps, r.TargetID)
	}

	acct, err := tx.GetAccount(ctx, r.TargetID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && acct.Status != "ACTIVE") {
		return "Received a 404 status error: The AWS account " + r.TargetID + " is not an active account of the organization.", nil
	}
	if err != nil {
		return "", err
	}
	// The insert checks, with the rows locked, that the principal and the
	// permission set exist, so a delete cannot race it.
	switch err := tx.InsertAssignment(ctx, a); {
	case errors.Is(err, store.ErrConflict):
		return "", nil // a repeated assignment succeeds and changes nothing, as on AWS
	case errors.Is(err, store.ErrUserMissing), errors.Is(err, store.ErrGroupMissing):
		in, err := Instance(ctx, tx, r.InstanceARN)
		if err != nil {
			return "", err
		}
		return "Received a 404 status error: " + r.PrincipalType + " " + r.PrincipalID + " not found in identity store " + in.IdentityStoreID + ".", nil
	case errors.Is(err, store.ErrNotFound):
		return psMissing, nil
	case err != nil:
		return "", err
	}
	// The first assignment provisions the permission set; later ones leave
	// an outdated role as it is until ProvisionPermissionSet, as on AWS.
	if _, err := tx.GetProvisioned(ctx, r.InstanceARN, r.TargetID, r.PermissionSetARN); !errors.Is(err, store.ErrNotFound) {
		return "", err
	}
	ps, err := tx.GetPermissionSet(ctx, r.InstanceARN, r.PermissionSetARN)
	switch {
	case errors.Is(err, store.ErrNotFound):
		reason, err = psMissing, nil
	case err == nil:
		reason, err = s.provision(ctx, tx, ps, r.TargetID)
	}
	if reason != "" && err == nil {
		// The request fails whole: no assignment without its role.
		err = tx.DeleteAssignment(ctx, a)
	}
	return reason, err
}

type describeAssignmentStatusIn struct {
	InstanceArn                        string
	AccountAssignmentCreationRequestId string
	AccountAssignmentDeletionRequestId string
}

func (s *Service) describeRequest(ctx context.Context, instanceARN, kind, id string) (*store.AccessRequest, error) {
	var r *store.AccessRequest
	err := s.read(ctx, instanceARN, func(tx store.Tx, _ *store.Instance) error {
		var err error
		r, err = tx.GetAccessRequest(ctx, instanceARN, kind, id)
		return notFoundAs(err, notFound("Could not find request with RequestId %s.", id))
	})
	return r, err
}

func (s *Service) describeAccountAssignmentCreationStatus(ctx context.Context, in *describeAssignmentStatusIn) (*createAssignmentOut, error) {
	r, err := s.describeRequest(ctx, in.InstanceArn, store.RequestAssignmentCreation, in.AccountAssignmentCreationRequestId)
	if err != nil {
		return nil, err
	}
	return &createAssignmentOut{toOperationStatus(r)}, nil
}

func (s *Service) describeAccountAssignmentDeletionStatus(ctx context.Context, in *describeAssignmentStatusIn) (*deleteAssignmentOut, error) {
	r, err := s.describeRequest(ctx, in.InstanceArn, store.RequestAssignmentDeletion, in.AccountAssignmentDeletionRequestId)
	if err != nil {
		return nil, err
	}
	return &deleteAssignmentOut{toOperationStatus(r)}, nil
}

type listStatusIn struct {
	InstanceArn string
	MaxResults  *int
	NextToken   *string
	Filter      *struct{ Status string }
}

type statusMetadata struct {
	Status      string
	RequestId   string
	CreatedDate *awsproto.Timestamp
}

// listRequests pages through one kind of request, oldest first.
func (s *Service) listRequests(ctx context.Context, in *listStatusIn, kind string) ([]statusMetadata, *string, error) {
	status := ""
	if in.Filter != nil {
		status = in.Filter.Status
	}
	out := []statusMetadata{}
	var next *string
	err := s.read(ctx, in.InstanceArn, func(tx store.Tx, _ *store.Instance) error {
		list, token, err := awsproto.Page(s.pager, "requests/"+kind+"/"+status, in.NextToken, pageLimit(in.MaxResults, 100), errBadToken,
			func(after string, limit int) ([]store.AccessRequest, error) {
				return tx.ListAccessRequests(ctx, in.InstanceArn, kind, status, after, limit)
			}, func(r store.AccessRequest) string { return r.ID })
		for _, r := range list {
			out = append(out, statusMetadata{Status: r.Status, RequestId: r.ID, CreatedDate: awsproto.TimestampOf(r.CreatedAt)})
		}
		next = token
		return err
	})
	return out, next, err
}

type listCreationStatusOut struct {
	AccountAssignmentsCreationStatus []statusMetadata
	NextToken                        *string `json:",omitempty"`
}

type listDeletionStatusOut struct {
	AccountAssignmentsDeletionStatus []statusMetadata
	NextToken                        *string `json:",omitempty"`
}

func (s *Service) listAccountAssignmentCreationStatus(ctx context.Context, in *listStatusIn) (*listCreationStatusOut, error) {
	list, next, err := s.listRequests(ctx, in, store.RequestAssignmentCreation)
	if err != nil {
		return nil, err
	}
	return &listCreationStatusOut{list, next}, nil
}

func (s *Service) listAccountAssignmentDeletionStatus(ctx context.Context, in *listStatusIn) (*listDeletionStatusOut, error) {
	list, next, err := s.listRequests(ctx, in, store.RequestAssignmentDeletion)
	if err != nil {
		return nil, err
	}
	return &listDeletionStatusOut{list, next}, nil
}

type assignmentOut struct {
	AccountId        string
	PermissionSetArn string
	PrincipalType    string
	PrincipalId      string
}

type listAssignmentsIn struct {
	InstanceArn      string
	AccountId        string
	PermissionSetArn string
	MaxResults       *int
	NextToken        *string
}

type listAssignmentsOut struct {
	AccountAssignments []assignmentOut
	NextToken          *string `json:",omitempty"`
}

func (s *Service) listAccountAssignments(ctx context.Context, in *listAssignmentsIn) (*listAssignmentsOut, error) {
	out := listAssignmentsOut{AccountAssignments: []assignmentOut{}}
	return &out, s.read(ctx, in.InstanceArn, func(tx store.Tx, _ *store.Instance) error {
		if _, err := permissionSet(ctx, tx, in.InstanceArn, in.PermissionSetArn); err != nil {
			return err
		}
		list, next, err := awsproto.Page(s.pager, "assignments/"+in.AccountId+"/"+in.PermissionSetArn, in.NextToken,
			pageLimit(in.MaxResults, 100), errBadToken,
			func(after string, limit int) ([]store.AccountAssignment, error) {
				return tx.ListAssignments(ctx, in.InstanceArn, in.AccountId, in.PermissionSetArn, after, limit)
			}, store.AccountAssignment.Key)
		for _, a := range list {
			out.AccountAssignments = append(out.AccountAssignments, toAssignment(a))
		}
		out.NextToken = next
		return err
	})
}

func toAssignment(a store.AccountAssignment) assignmentOut {
	return assignmentOut{AccountId: a.AccountID, PermissionSetArn: a.PermissionSetARN, PrincipalType: a.PrincipalType, PrincipalId: a.PrincipalID}
}

type listForPrincipalIn struct {
	InstanceArn   string
	PrincipalId   string
	PrincipalType string
	Filter        *struct{ AccountId string }
	MaxResults    *int
	NextToken     *string
}

func (s *Service) listAccountAssignmentsForPrincipal(ctx context.Context, in *listForPrincipalIn) (*listAssignmentsOut, error) {
	account := ""
	if in.Filter != nil {
		account = in.Filter.AccountId
	}
	out := listAssignmentsOut{AccountAssignments: []assignmentOut{}}
	return &out, s.read(ctx, in.InstanceArn, func(tx store.Tx, inst *store.Instance) error {
		principals, err := PrincipalsOf(ctx, tx, inst.IdentityStoreID, store.PrincipalRef{Type: in.PrincipalType, ID: in.PrincipalId})
		if err != nil {
			return err
		}
		list, next, err := awsproto.Page(s.pager, "principal/"+in.PrincipalType+"/"+in.PrincipalId+"/"+account, in.NextToken,
			pageLimit(in.MaxResults, 100), errBadToken,
			func(after string, limit int) ([]store.AccountAssignment, error) {
				return tx.ListAssignmentsForPrincipals(ctx, in.InstanceArn, principals, account, after, limit)
			}, store.AccountAssignment.Key)
		for _, a := range list {
			out.AccountAssignments = append(out.AccountAssignments, toAssignment(a))
		}
		out.NextToken = next
		return err
	})
}

// PrincipalsOf is who p acts as: a group is itself; a user is itself and
// every group it belongs to, so its access includes what its groups are given.
func PrincipalsOf(ctx context.Context, tx store.Tx, identityStoreID string, p store.PrincipalRef) ([]store.PrincipalRef, error) {
	principals := []store.PrincipalRef{p}
	if p.Type != store.PrincipalUser {
		return principals, nil
	}
	after := ""
	for {
		ms, err := tx.ListGroupMembershipsForMember(ctx, identityStoreID, p.ID, after, 1000)
		if err != nil {
			return nil, err
		}
		for _, m := range ms {
			principals = append(principals, store.PrincipalRef{Type: store.PrincipalGroup, ID: m.GroupID})
		}
		if len(ms) < 1000 {
			return principals, nil
		}
		after = ms[len(ms)-1].ID
	}
}
