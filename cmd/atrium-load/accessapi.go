package main

import (
	"errors"
	"fmt"
	"strings"
)

// Request bodies and answer parsers of the sso-admin and Organizations calls
// that the access ops, seed-access and measure-provision make, in the shapes
// the AWS SDKs send and receive.

// Request statuses of sso-admin's asynchronous operations (StatusValues).
const (
	statusInProgress = "IN_PROGRESS"
	statusSucceeded  = "SUCCEEDED"
	statusFailed     = "FAILED"
)

type (
	instancePermSetIn struct {
		InstanceArn      string
		PermissionSetArn string
	}
	createPermissionSetIn struct {
		InstanceArn     string
		Name            string
		Description     string
		SessionDuration string
	}
	assignmentIn struct {
		InstanceArn      string
		TargetId         string
		TargetType       string
		PermissionSetArn string
		PrincipalType    string
		PrincipalId      string
	}
	creationStatusIn struct {
		InstanceArn                        string
		AccountAssignmentCreationRequestId string
	}
	listCreationStatusIn struct {
		InstanceArn string
		MaxResults  int
		NextToken   string `json:",omitempty"`
		Filter      struct{ Status string }
	}
	listForPrincipalIn struct {
		InstanceArn   string
		PrincipalId   string
		PrincipalType string
		MaxResults    int
		NextToken     string `json:",omitempty"`
	}
	listPermissionSetsIn struct {
		InstanceArn string
		MaxResults  int
		NextToken   string `json:",omitempty"`
	}
	provisionIn struct {
		InstanceArn      string
		PermissionSetArn string
		TargetType       string
	}
	provisioningStatusIn struct {
		InstanceArn                     string
		ProvisionPermissionSetRequestId string
	}
	listProvisionedAccountsIn struct {
		InstanceArn        string
		PermissionSetArn   string
		ProvisioningStatus string `json:",omitempty"`
		MaxResults         int
		NextToken          string `json:",omitempty"`
	}
	putInlinePolicyIn struct {
		InstanceArn      string
		PermissionSetArn string
		InlinePolicy     string
	}
	createAccountIn struct {
		Email       string
		AccountName string
	}
	createAccountStatusIn struct {
		CreateAccountRequestId string
	}
	listAccountsIn struct {
		MaxResults int
		NextToken  string `json:",omitempty"`
	}
)

// errNoStatus is an answer without its status structure.
var errNoStatus = errors.New("no status in the body")

// assignmentRequest is one assignment asked for; zero when the answer is
// not to be compared with a request.
type assignmentRequest struct {
	account, permSet string
	principal        principal
}

func describePermissionSetBody(instanceARN, psARN string) []byte {
	return mustJSON(instancePermSetIn{InstanceArn: instanceARN, PermissionSetArn: psARN})
}

func createPermissionSetBody(instanceARN, name, description string) []byte {
	return mustJSON(createPermissionSetIn{InstanceArn: instanceARN, Name: name, Description: description, SessionDuration: "PT4H"})
}

func createAssignmentBody(instanceARN string, a assignmentRequest) []byte {
	return mustJSON(assignmentIn{InstanceArn: instanceARN, TargetId: a.account, TargetType: "AWS_ACCOUNT", PermissionSetArn: a.permSet,
		PrincipalType: a.principal.typ, PrincipalId: a.principal.id})
}

func describeCreationStatusBody(instanceARN, requestID string) []byte {
	return mustJSON(creationStatusIn{InstanceArn: instanceARN, AccountAssignmentCreationRequestId: requestID})
}

// listInProgressBody asks for a page of the creation requests still IN_PROGRESS.
func listInProgressBody(instanceARN, token string) []byte {
	in := listCreationStatusIn{InstanceArn: instanceARN, MaxResults: 100, NextToken: token}
	in.Filter.Status = statusInProgress
	return mustJSON(in)
}

// parseStatusList reads a page of ListAccountAssignmentCreationStatus: the
// request ids and the next token.
func parseStatusList(b []byte) ([]string, string, error) {
	var out struct {
		AccountAssignmentsCreationStatus []struct{ Status, RequestId string }
		NextToken                        string
	}
	if err := unmarshal(b, &out); err != nil {
		return nil, "", err
	}
	ids := make([]string, 0, len(out.AccountAssignmentsCreationStatus))
	for _, r := range out.AccountAssignmentsCreationStatus {
		if r.Status != statusInProgress {
			return nil, "", fmt.Errorf("request %s is %s in a list of those IN_PROGRESS", r.RequestId, r.Status)
		}
		ids = append(ids, r.RequestId)
	}
	return ids, out.NextToken, nil
}

func listForPrincipalBody(instanceARN, userID, token string) []byte {
	return mustJSON(listForPrincipalIn{InstanceArn: instanceARN, PrincipalId: userID, PrincipalType: "USER", MaxResults: assignmentsPage, NextToken: token})
}

// checkDescribePermissionSet wants the permission set asked for.
func checkDescribePermissionSet(b []byte, arn, name string) error {
	var out struct {
		PermissionSet *struct{ Name, PermissionSetArn string }
	}
	if err := unmarshal(b, &out); err != nil {
		return err
	}
	switch {
	case out.PermissionSet == nil:
		return errors.New("no PermissionSet in the body")
	case out.PermissionSet.PermissionSetArn != arn:
		return fmt.Errorf("PermissionSetArn %q, want %q", out.PermissionSet.PermissionSetArn, arn)
	case name != "" && out.PermissionSet.Name != name:
		return fmt.Errorf("Name %q, want %q", out.PermissionSet.Name, name)
	}
	return nil
}

// parseCreatePermissionSet reads the new permission set's ARN.
func parseCreatePermissionSet(b []byte, name string) (string, error) {
	var out struct {
		PermissionSet *struct{ Name, PermissionSetArn string }
	}
	if err := unmarshal(b, &out); err != nil {
		return "", err
	}
	if out.PermissionSet == nil || !strings.HasPrefix(out.PermissionSet.PermissionSetArn, "arn:") {
		return "", errors.New("no PermissionSet.PermissionSetArn in the body")
	}
	if out.PermissionSet.Name != name {
		return "", fmt.Errorf("Name %q, want %q", out.PermissionSet.Name, name)
	}
	return out.PermissionSet.PermissionSetArn, nil
}

// assignmentStatus is an AccountAssignmentOperationStatus.
type assignmentStatus struct {
	status, requestID, reason string
}

// parseAssignmentStatus reads the status under wrapper (AccountAssignmentCreationStatus)
// and, when want names an assignment, checks that the answer is about it.
func parseAssignmentStatus(b []byte, wrapper string, want assignmentRequest) (*assignmentStatus, error) {
	var out map[string]*struct {
		Status, RequestId, FailureReason                       string
		TargetId, PermissionSetArn, PrincipalType, PrincipalId string
	}
	if err := unmarshal(b, &out); err != nil {
		return nil, err
	}
	s := out[wrapper]
	if s == nil {
		return nil, fmt.Errorf("%w: no %s", errNoStatus, wrapper)
	}
	switch s.Status {
	case statusInProgress, statusSucceeded, statusFailed:
	default:
		return nil, fmt.Errorf("Status %q", s.Status)
	}
	if s.RequestId == "" {
		return nil, errors.New("no RequestId")
	}
	if want.account != "" {
		switch {
		case s.TargetId != want.account:
			return nil, fmt.Errorf("TargetId %q, want %q", s.TargetId, want.account)
		case s.PermissionSetArn != want.permSet:
			return nil, fmt.Errorf("PermissionSetArn %q, want %q", s.PermissionSetArn, want.permSet)
		case s.PrincipalType != want.principal.typ || s.PrincipalId != want.principal.id:
			return nil, fmt.Errorf("principal %s %s, want %s %s", s.PrincipalType, s.PrincipalId, want.principal.typ, want.principal.id)
		}
	}
	return &assignmentStatus{status: s.Status, requestID: s.RequestId, reason: s.FailureReason}, nil
}

// checkAssignmentsPage reads a page of ListAccountAssignmentsForPrincipal:
// every assignment must be of one of the principals in acts ("USER id",
// "GROUP id"). It returns how many there were and the next token.
func checkAssignmentsPage(b []byte, acts map[string]bool) (int, string, error) {
	var out struct {
		AccountAssignments *[]struct{ AccountId, PermissionSetArn, PrincipalType, PrincipalId string }
		NextToken          string
	}
	if err := unmarshal(b, &out); err != nil {
		return 0, "", err
	}
	if out.AccountAssignments == nil {
		return 0, "", errors.New("no AccountAssignments in the body")
	}
	for _, a := range *out.AccountAssignments {
		if !acts[a.PrincipalType+" "+a.PrincipalId] {
			return 0, "", fmt.Errorf("an assignment of %s %s, neither the user nor one of its groups", a.PrincipalType, a.PrincipalId)
		}
		if !accountIDPattern.MatchString(a.AccountId) || a.PermissionSetArn == "" {
			return 0, "", fmt.Errorf("an assignment with AccountId %q, PermissionSetArn %q", a.AccountId, a.PermissionSetArn)
		}
	}
	return len(*out.AccountAssignments), out.NextToken, nil
}

// parseInstance reads the first instance of a ListInstances answer.
func parseInstance(b []byte) (instanceARN, storeID string, err error) {
	var out struct {
		Instances []struct{ InstanceArn, IdentityStoreId string }
	}
	if err := unmarshal(b, &out); err != nil {
		return "", "", err
	}
	if len(out.Instances) == 0 {
		return "", "", errors.New("ListInstances: no Identity Center instance")
	}
	in := out.Instances[0]
	if !instanceARNPattern.MatchString(in.InstanceArn) || !instanceStoreIDPattern.MatchString(in.IdentityStoreId) {
		return "", "", fmt.Errorf("ListInstances: InstanceArn %q, IdentityStoreId %q", in.InstanceArn, in.IdentityStoreId)
	}
	return in.InstanceArn, in.IdentityStoreId, nil
}

// provisioningStatus is a PermissionSetProvisioningStatus.
type provisioningStatus struct {
	status, requestID, reason string
}

func parseProvisioningStatus(b []byte, psARN string) (*provisioningStatus, error) {
	var out struct {
		PermissionSetProvisioningStatus *struct{ Status, RequestId, FailureReason, PermissionSetArn string }
	}
	if err := unmarshal(b, &out); err != nil {
		return nil, err
	}
	s := out.PermissionSetProvisioningStatus
	switch {
	case s == nil:
		return nil, fmt.Errorf("%w: no PermissionSetProvisioningStatus", errNoStatus)
	case s.Status != statusInProgress && s.Status != statusSucceeded && s.Status != statusFailed:
		return nil, fmt.Errorf("Status %q", s.Status)
	case s.RequestId == "":
		return nil, errors.New("no RequestId")
	case s.PermissionSetArn != psARN:
		return nil, fmt.Errorf("PermissionSetArn %q, want %q", s.PermissionSetArn, psARN)
	}
	return &provisioningStatus{status: s.Status, requestID: s.RequestId, reason: s.FailureReason}, nil
}

// parseAccountIDsPage reads a page of ListAccountsForProvisionedPermissionSet.
func parseAccountIDsPage(b []byte) ([]string, string, error) {
	var out struct {
		AccountIds *[]string
		NextToken  string
	}
	if err := unmarshal(b, &out); err != nil {
		return nil, "", err
	}
	if out.AccountIds == nil {
		return nil, "", errors.New("no AccountIds in the body")
	}
	for _, id := range *out.AccountIds {
		if !accountIDPattern.MatchString(id) {
			return nil, "", fmt.Errorf("AccountId %q", id)
		}
	}
	return *out.AccountIds, out.NextToken, nil
}

// createAccountStatus is an Organizations CreateAccountStatus.
type createAccountStatus struct {
	id, state, accountID, reason string
}

func parseCreateAccountStatus(b []byte) (*createAccountStatus, error) {
	var out struct {
		CreateAccountStatus *struct{ Id, State, AccountId, FailureReason string }
	}
	if err := unmarshal(b, &out); err != nil {
		return nil, err
	}
	s := out.CreateAccountStatus
	switch {
	case s == nil:
		return nil, errors.New("no CreateAccountStatus in the body")
	case s.Id == "":
		return nil, errors.New("CreateAccountStatus without Id")
	case s.State == statusSucceeded && !accountIDPattern.MatchString(s.AccountId):
		return nil, fmt.Errorf("SUCCEEDED with AccountId %q", s.AccountId)
	case s.State != statusInProgress && s.State != statusSucceeded && s.State != statusFailed:
		return nil, fmt.Errorf("State %q", s.State)
	}
	return &createAccountStatus{id: s.Id, state: s.State, accountID: s.AccountId, reason: s.FailureReason}, nil
}

// orgAccount is one account of a ListAccounts page.
type orgAccount struct{ id, name, email string }

func parseListAccountsPage(b []byte) ([]orgAccount, string, error) {
	var out struct {
		Accounts  *[]struct{ Id, Name, Email string }
		NextToken string
	}
	if err := unmarshal(b, &out); err != nil {
		return nil, "", err
	}
	if out.Accounts == nil {
		return nil, "", errors.New("no Accounts in the body")
	}
	list := make([]orgAccount, 0, len(*out.Accounts))
	for _, a := range *out.Accounts {
		if !accountIDPattern.MatchString(a.Id) {
			return nil, "", fmt.Errorf("account Id %q", a.Id)
		}
		list = append(list, orgAccount{a.Id, a.Name, a.Email})
	}
	return list, out.NextToken, nil
}

// parsePermissionSetsPage reads a page of ListPermissionSets.
func parsePermissionSetsPage(b []byte) ([]string, string, error) {
	var out struct {
		PermissionSets *[]string
		NextToken      string
	}
	if err := unmarshal(b, &out); err != nil {
		return nil, "", err
	}
	if out.PermissionSets == nil {
		return nil, "", errors.New("no PermissionSets in the body")
	}
	return *out.PermissionSets, out.NextToken, nil
}
