package accounts

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/atrium-sso/atrium/internal/apierr"
	"github.com/atrium-sso/atrium/internal/awsproto"
	"github.com/atrium-sso/atrium/internal/awsproto/model"
	"github.com/atrium-sso/atrium/internal/iam"
	"github.com/atrium-sso/atrium/internal/ids"
	"github.com/atrium-sso/atrium/internal/store"
)

// API is the Organizations service as Atrium serves it.
func (s *Service) API() *awsproto.Service {
	return &awsproto.Service{
		Model:       model.MustLoad("organizations"),
		EventSource: "organizations.amazonaws.com",
		Resources:   s.resources(),
		Ops: map[string]awsproto.Handler{
			"DescribeOrganization":             awsproto.Op(s.describeOrganization),
			"ListRoots":                        awsproto.Op(s.listRoots),
			"DescribeAccount":                  awsproto.Op(s.describeAccount),
			"ListAccounts":                     awsproto.Op(s.listAccounts),
			"ListAccountsForParent":            awsproto.Op(s.listAccountsForParent),
			"CreateAccount":                    awsproto.Op(s.createAccount),
			"DescribeCreateAccountStatus":      awsproto.Op(s.describeCreateAccountStatus),
			"ListCreateAccountStatus":          awsproto.Op(s.listCreateAccountStatus),
			"CloseAccount":                     awsproto.Op(s.closeAccount),
			"MoveAccount":                      awsproto.Op(s.moveAccount),
			"CreateOrganizationalUnit":         awsproto.Op(s.createOrganizationalUnit),
			"DescribeOrganizationalUnit":       awsproto.Op(s.describeOrganizationalUnit),
			"UpdateOrganizationalUnit":         awsproto.Op(s.updateOrganizationalUnit),
			"DeleteOrganizationalUnit":         awsproto.Op(s.deleteOrganizationalUnit),
			"ListOrganizationalUnitsForParent": awsproto.Op(s.listOrganizationalUnitsForParent),
			"ListChildren":                     awsproto.Op(s.listChildren),
			"ListParents":                      awsproto.Op(s.listParents),
			"TagResource":                      awsproto.Op(s.tagResource),
			"UntagResource":                    awsproto.Op(s.untagResource),
			"ListTagsForResource":              awsproto.Op(s.listTagsForResource),
		},
	}
}

type empty struct{}

// --- organization and root

type describeOrganizationOut struct {
	Organization struct {
		Id                   string
		Arn                  string
		FeatureSet           string
		MasterAccountArn     string
		MasterAccountId      string
		MasterAccountEmail   string
		AvailablePolicyTypes []any
	}
}

func (s *Service) describeOrganization(ctx context.Context, _ *empty) (*describeOrganizationOut, error) {
	var out describeOrganizationOut
	return &out, s.read(ctx, func(tx store.Tx, org *store.Organization) error {
		o := &out.Organization
		o.Id, o.Arn, o.FeatureSet = org.ID, org.ARN, org.FeatureSet
		o.MasterAccountArn, o.MasterAccountId, o.MasterAccountEmail = accountARN(org, org.ManagementAccountID), org.ManagementAccountID, org.ManagementAccountEmail
		o.AvailablePolicyTypes = []any{}
		return nil
	})
}

type listIn struct {
	NextToken  *string
	MaxResults *int
}

type rootOut struct {
	Id          string
	Arn         string
	Name        string
	PolicyTypes []any
}

type listRootsOut struct {
	Roots     []rootOut
	NextToken *string `json:",omitempty"`
}

func (s *Service) listRoots(ctx context.Context, in *listIn) (*listRootsOut, error) {
	if err := s.checkToken("ListRoots", in.NextToken); err != nil {
		return nil, err
	}
	var out listRootsOut
	return &out, s.read(ctx, func(tx store.Tx, org *store.Organization) error {
		out.Roots = []rootOut{{Id: org.RootID, Arn: rootARN(org), Name: "Root", PolicyTypes: []any{}}}
		return nil
	})
}

// --- accounts

type accountIn struct{ AccountId string }

type describeAccountOut struct{ Account accountOut }

func (s *Service) describeAccount(ctx context.Context, in *accountIn) (*describeAccountOut, error) {
	var out describeAccountOut
	return &out, s.read(ctx, func(tx store.Tx, org *store.Organization) error {
		a, err := tx.GetAccount(ctx, in.AccountId)
		if errors.Is(err, store.ErrNotFound) {
			return errAccountNotFound
		}
		if err != nil {
			return err
		}
		out.Account = toAccount(org, *a)
		return nil
	})
}

type listAccountsOut struct {
	Accounts  []accountOut
	NextToken *string `json:",omitempty"`
}

func (s *Service) listAccounts(ctx context.Context, in *listIn) (*listAccountsOut, error) {
	return s.accountsPage(ctx, "ListAccounts", "", in)
}

type listForParentIn struct {
	ParentId   string
	NextToken  *string
	MaxResults *int
}

func (s *Service) listAccountsForParent(ctx context.Context, in *listForParentIn) (*listAccountsOut, error) {
	return s.accountsPage(ctx, "ListAccountsForParent/"+in.ParentId, in.ParentId, &listIn{NextToken: in.NextToken, MaxResults: in.MaxResults})
}

func (s *Service) accountsPage(ctx context.Context, scope, parent string, in *listIn) (*listAccountsOut, error) {
	out := listAccountsOut{Accounts: []accountOut{}}
	return &out, s.read(ctx, func(tx store.Tx, org *store.Organization) error {
		if parent != "" {
			if _, err := isParent(ctx, tx, org, parent); err != nil {
				return err
			}
		}
		list, next, err := page(s, scope, in.NextToken, in.MaxResults, func(after string, limit int) ([]store.Account, error) {
			return tx.ListAccounts(ctx, parent, after, limit)
		}, func(a store.Account) string { return a.ID })
		for _, a := range list {
			out.Accounts = append(out.Accounts, toAccount(org, a))
		}
		out.NextToken = next
		return err
	})
}

type createAccountIn struct {
	Email                  string
	AccountName            string
	RoleName               string
	IamUserAccessToBilling string
	Tags                   []tag
}

type createAccountOut struct {
	CreateAccountStatus createAccountStatusOut
}

// createAccountJob is what the asynchronous half of CreateAccount needs.
type createAccountJob struct {
	RequestID string
	Tags      []tag
}

func (s *Service) createAccount(ctx context.Context, in *createAccountIn) (*createAccountOut, error) {
	if err := checkTags(in.Tags); err != nil {
		return nil, err
	}
	req := store.CreateAccountRequest{ID: ids.CreateAccountRequestID(), AccountName: in.AccountName, Email: in.Email,
		State: "IN_PROGRESS", RequestedAt: time.Now().UTC()}
	err := s.write(ctx, func(tx store.Tx, _ *store.Organization) error {
		if err := tx.InsertCreateAccountRequest(ctx, req); err != nil {
			return err
		}
		return s.jobs.Enqueue(ctx, tx, jobCreateAccount, createAccountJob{RequestID: req.ID, Tags: in.Tags})
	})
	if err != nil {
		return nil, err
	}
	return &createAccountOut{CreateAccountStatus: toStatus(req)}, nil
}

// finishCreateAccount is the asynchronous half of CreateAccount: it creates
// the account under the root, or fails the request as AWS would.
func (s *Service) finishCreateAccount(ctx context.Context, tx store.Tx, job *store.Job) error {
	p, err := payload[createAccountJob](job)
	if err != nil {
		return err
	}
	req, err := tx.GetCreateAccountRequest(ctx, p.RequestID)
	if err != nil {
		return err
	}
	if req.State != "IN_PROGRESS" {
		return nil
	}
	org, err := s.org(ctx, tx)
	if err != nil {
		return err
	}
	now := time.Now().UTC()
	fail := func(reason string) error {
		_, err := tx.UpdateCreateAccountRequest(ctx, req.ID, func(r *store.CreateAccountRequest) error {
			r.State, r.FailureReason, r.CompletedAt = "FAILED", reason, now
			return nil
		})
		return err
	}
	if _, err := tx.GetAccountByEmail(ctx, req.Email); err == nil {
		return fail("EMAIL_ALREADY_EXISTS")
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	// Account ids are random; a collision is retried with another.
	var acct store.Account
	for attempt := 0; ; attempt++ {
		acct = store.Account{ID: ids.AccountID(), Name: req.AccountName, Email: req.Email, ParentID: org.RootID,
			Status: "ACTIVE", State: "ACTIVE", JoinedMethod: "CREATED", JoinedAt: now}
		if _, err := tx.GetAccount(ctx, acct.ID); errors.Is(err, store.ErrNotFound) {
			break
		} else if err != nil {
			return err
		}
		if attempt > 10 {
			return fail("INTERNAL_FAILURE")
		}
	}
	if err := tx.InsertAccount(ctx, acct); err != nil {
		return err
	}
	if err := tx.PutTags(ctx, acct.ID, storeTags(p.Tags)); err != nil {
		return err
	}
	if err := iam.CreateOrganizationAccountAccessRole(ctx, tx, acct.ID, org.ManagementAccountID); err != nil {
		return err
	}
	_, err = tx.UpdateCreateAccountRequest(ctx, req.ID, func(r *store.CreateAccountRequest) error {
		r.State, r.AccountID, r.CompletedAt = "SUCCEEDED", acct.ID, now
		return nil
	})
	return err
}

type createAccountRequestIn struct{ CreateAccountRequestId string }

func (s *Service) describeCreateAccountStatus(ctx context.Context, in *createAccountRequestIn) (*createAccountOut, error) {
	var out createAccountOut
	return &out, s.read(ctx, func(tx store.Tx, _ *store.Organization) error {
		r, err := tx.GetCreateAccountRequest(ctx, in.CreateAccountRequestId)
		if errors.Is(err, store.ErrNotFound) {
			return errStatusNotFound
		}
		if err != nil {
			return err
		}
		out.CreateAccountStatus = toStatus(*r)
		return nil
	})
}

type listCreateAccountStatusIn struct {
	States     []string
	NextToken  *string
	MaxResults *int
}

type listCreateAccountStatusOut struct {
	CreateAccountStatuses []createAccountStatusOut
	NextToken             *string `json:",omitempty"`
}

func (s *Service) listCreateAccountStatus(ctx context.Context, in *listCreateAccountStatusIn) (*listCreateAccountStatusOut, error) {
	scope := "ListCreateAccountStatus/" + strings.Join(in.States, ",")
	out := listCreateAccountStatusOut{CreateAccountStatuses: []createAccountStatusOut{}}
	return &out, s.read(ctx, func(tx store.Tx, _ *store.Organization) error {
		list, next, err := page(s, scope, in.NextToken, in.MaxResults, func(after string, limit int) ([]store.CreateAccountRequest, error) {
			return tx.ListCreateAccountRequests(ctx, in.States, after, limit)
		}, func(r store.CreateAccountRequest) string { return r.ID })
		for _, r := range list {
			out.CreateAccountStatuses = append(out.CreateAccountStatuses, toStatus(r))
		}
		out.NextToken = next
		return err
	})
}

func (s *Service) closeAccount(ctx context.Context, in *accountIn) (*empty, error) {
	return nil, s.write(ctx, func(tx store.Tx, org *store.Organization) error {
		if in.AccountId == org.ManagementAccountID {
			return constraint("CANNOT_CLOSE_MANAGEMENT_ACCOUNT", "You can't close the management account with CloseAccount.")
		}
		_, err := tx.UpdateAccount(ctx, in.AccountId, func(a *store.Account) error {
			if a.State == "CLOSED" || a.Status == "SUSPENDED" {
				return apierr.New(400, "AccountAlreadyClosedException", "You attempted to close an account that is already closed.")
			}
			a.Status, a.State = "SUSPENDED", "CLOSED"
			return nil
		})
		if errors.Is(err, store.ErrNotFound) {
			return errAccountNotFound
		}
		if err != nil {
			return err
		}
		// A closed account is gone for Identity Center: its assignments go with it.
		return tx.DeleteAccountAccess(ctx, in.AccountId)
	})
}

type moveAccountIn struct {
	AccountId           string
	SourceParentId      string
	DestinationParentId string
}

func (s *Service) moveAccount(ctx context.Context, in *moveAccountIn) (*empty, error) {
	return nil, s.write(ctx, func(tx store.Tx, org *store.Organization) error {
		if _, err := isParent(ctx, tx, org, in.SourceParentId); err != nil {
			return notFoundAs(err, "SourceParentNotFoundException", "a source parent")
		}
		if _, err := isParent(ctx, tx, org, in.DestinationParentId); err != nil {
			return notFoundAs(err, "DestinationParentNotFoundException", "a destination parent")
		}
		_, err := tx.UpdateAccount(ctx, in.AccountId, func(a *store.Account) error {
			if a.ParentID != in.SourceParentId {
				return notFound("SourceParentNotFoundException", "a source parent")
			}
			if a.ParentID == in.DestinationParentId {
				return apierr.New(400, "DuplicateAccountException", "That account is already present in the specified destination.")
			}
			a.ParentID = in.DestinationParentId
			return nil
		})
		if errors.Is(err, store.ErrNotFound) {
			return errAccountNotFound
		}
		return err
	})
}

// notFoundAs re-labels a parent-not-found error for operations that name the parent's role.
func notFoundAs(err error, code, what string) error {
	if err == errParentNotFound {
		return notFound(code, what)
	}
	return err
}

// --- organizational units

type createOUIn struct {
	ParentId string
	Name     string
	Tags     []tag
}

type ouOut struct{ OrganizationalUnit organizationalUnitOut }

func (s *Service) createOrganizationalUnit(ctx context.Context, in *createOUIn) (*ouOut, error) {
	if err := checkTags(in.Tags); err != nil {
		return nil, err
	}
	var out ouOut
	return &out, s.write(ctx, func(tx store.Tx, org *store.Organization) error {
		if _, err := isParent(ctx, tx, org, in.ParentId); err != nil {
			return err
		}
		if depth, err := ouDepth(ctx, tx, org, in.ParentId); err != nil {
			return err
		} else if depth >= 5 {
			return constraint("OU_DEPTH_LIMIT_EXCEEDED", "You attempted to create an OU tree that is too many levels deep.")
		}
		ou := store.OrganizationalUnit{ID: ids.OrganizationalUnitID(org.RootID), Name: in.Name, ParentID: in.ParentId, CreatedAt: time.Now().UTC()}
		if err := tx.InsertOrganizationalUnit(ctx, ou); errors.Is(err, store.ErrConflict) {
			return apierr.New(400, "DuplicateOrganizationalUnitException", "An OU with the same name already exists.")
		} else if err != nil {
			return err
		}
		if err := tx.PutTags(ctx, ou.ID, storeTags(in.Tags)); err != nil {
			return err
		}
		out.OrganizationalUnit = toOU(org, ou)
		return nil
	})
}

// ouDepth counts the OUs from the root down to id (the root itself is 0).
func ouDepth(ctx context.Context, tx store.Tx, org *store.Organization, id string) (int, error) {
	depth := 0
	for id != org.RootID {
		ou, err := tx.GetOrganizationalUnit(ctx, id)
		if err != nil {
			return 0, err
		}
		depth++
		id = ou.ParentID
	}
	return depth, nil
}

type ouIn struct{ OrganizationalUnitId string }

func (s *Service) describeOrganizationalUnit(ctx context.Context, in *ouIn) (*ouOut, error) {
	var out ouOut
	return &out, s.read(ctx, func(tx store.Tx, org *store.Organization) error {
		ou, err := tx.GetOrganizationalUnit(ctx, in.OrganizationalUnitId)
		if errors.Is(err, store.ErrNotFound) {
			return errOUNotFound
		}
		if err != nil {
			return err
		}
		out.OrganizationalUnit = toOU(org, *ou)
		return nil
	})
}

type updateOUIn struct {
	OrganizationalUnitId string
	Name                 *string
}

func (s *Service) updateOrganizationalUnit(ctx context.Context, in *updateOUIn) (*ouOut, error) {
	var out ouOut
	return &out, s.write(ctx, func(tx store.Tx, org *store.Organization) error {
		ou, err := tx.UpdateOrganizationalUnit(ctx, in.OrganizationalUnitId, func(ou *store.OrganizationalUnit) error {
			if in.Name != nil {
				ou.Name = *in.Name
			}
			return nil
		})
		switch {
		case errors.Is(err, store.ErrNotFound):
			return errOUNotFound
		case errors.Is(err, store.ErrConflict):
			return apierr.New(400, "DuplicateOrganizationalUnitException", "An OU with the same name already exists.")
		case err != nil:
			return err
		}
		out.OrganizationalUnit = toOU(org, *ou)
		return nil
	})
}

func (s *Service) deleteOrganizationalUnit(ctx context.Context, in *ouIn) (*empty, error) {
	return nil, s.write(ctx, func(tx store.Tx, _ *store.Organization) error {
		if _, err := tx.GetOrganizationalUnit(ctx, in.OrganizationalUnitId); errors.Is(err, store.ErrNotFound) {
			return errOUNotFound
		} else if err != nil {
			return err
		}
		accts, err := tx.ListAccounts(ctx, in.OrganizationalUnitId, "", 1)
		if err != nil {
			return err
		}
		ous, err := tx.ListOrganizationalUnits(ctx, in.OrganizationalUnitId, "", 1)
		if err != nil {
			return err
		}
		if len(accts)+len(ous) > 0 {
			return apierr.New(400, "OrganizationalUnitNotEmptyException", "The specified OU is not empty. Move all accounts to another root or to other OUs, remove all child OUs, and try the operation again.")
		}
		if err := tx.DeleteTags(ctx, in.OrganizationalUnitId, tagKeys(ctx, tx, in.OrganizationalUnitId)); err != nil {
			return err
		}
		return tx.DeleteOrganizationalUnit(ctx, in.OrganizationalUnitId)
	})
}

func tagKeys(ctx context.Context, tx store.Tx, resource string) []string {
	tags, _ := tx.ListTags(ctx, resource)
	keys := make([]string, len(tags))
	for i, t := range tags {
		keys[i] = t.Key
	}
	return keys
}

type listOUsOut struct {
	OrganizationalUnits []organizationalUnitOut
	NextToken           *string `json:",omitempty"`
}

func (s *Service) listOrganizationalUnitsForParent(ctx context.Context, in *listForParentIn) (*listOUsOut, error) {
	out := listOUsOut{OrganizationalUnits: []organizationalUnitOut{}}
	return &out, s.read(ctx, func(tx store.Tx, org *store.Organization) error {
		if _, err := isParent(ctx, tx, org, in.ParentId); err != nil {
			return err
		}
		list, next, err := page(s, "ListOrganizationalUnitsForParent/"+in.ParentId, in.NextToken, in.MaxResults,
			func(after string, limit int) ([]store.OrganizationalUnit, error) {
				return tx.ListOrganizationalUnits(ctx, in.ParentId, after, limit)
			}, func(ou store.OrganizationalUnit) string { return ou.ID })
		for _, ou := range list {
			out.OrganizationalUnits = append(out.OrganizationalUnits, toOU(org, ou))
		}
		out.NextToken = next
		return err
	})
}

type listChildrenIn struct {
	ParentId   string
	ChildType  string
	NextToken  *string
	MaxResults *int
}

type listChildrenOut struct {
	Children  []idRef
	NextToken *string `json:",omitempty"`
}

func (s *Service) listChildren(ctx context.Context, in *listChildrenIn) (*listChildrenOut, error) {
	scope := "ListChildren/" + in.ParentId + "/" + in.ChildType
	out := listChildrenOut{Children: []idRef{}}
	return &out, s.read(ctx, func(tx store.Tx, org *store.Organization) error {
		if _, err := isParent(ctx, tx, org, in.ParentId); err != nil {
			return err
		}
		list := func(after string, limit int) ([]idRef, error) {
			var refs []idRef
			if in.ChildType == "ACCOUNT" {
				accts, err := tx.ListAccounts(ctx, in.ParentId, after, limit)
				for _, a := range accts {
					refs = append(refs, idRef{Id: a.ID, Type: "ACCOUNT"})
				}
				return refs, err
			}
			ous, err := tx.ListOrganizationalUnits(ctx, in.ParentId, after, limit)
			for _, ou := range ous {
				refs = append(refs, idRef{Id: ou.ID, Type: "ORGANIZATIONAL_UNIT"})
			}
			return refs, err
		}
		refs, next, err := page(s, scope, in.NextToken, in.MaxResults, list, func(r idRef) string { return r.Id })
		out.Children = append(out.Children, refs...)
		out.NextToken = next
		return err
	})
}

type listParentsIn struct {
	ChildId    string
	NextToken  *string
	MaxResults *int
}

type listParentsOut struct {
	Parents   []idRef
	NextToken *string `json:",omitempty"`
}

func (s *Service) listParents(ctx context.Context, in *listParentsIn) (*listParentsOut, error) {
	if err := s.checkToken("ListParents/"+in.ChildId, in.NextToken); err != nil {
		return nil, err
	}
	var out listParentsOut
	return &out, s.read(ctx, func(tx store.Tx, org *store.Organization) error {
		var parent string
		if strings.HasPrefix(in.ChildId, "ou-") {
			ou, err := tx.GetOrganizationalUnit(ctx, in.ChildId)
			if err != nil {
				return notFoundOr(err, errChildNotFound)
			}
			parent = ou.ParentID
		} else {
			a, err := tx.GetAccount(ctx, in.ChildId)
			if err != nil {
				return notFoundOr(err, errChildNotFound)
			}
			parent = a.ParentID
		}
		kind, err := isParent(ctx, tx, org, parent)
		if err != nil {
			return err
		}
		out.Parents = []idRef{{Id: parent, Type: kind}}
		return nil
	})
}

func notFoundOr(err error, nf *apierr.Error) error {
	if errors.Is(err, store.ErrNotFound) {
		return nf
	}
	return err
}

// --- tags

const maxTags = 50

func checkTags(tags []tag) error {
	seen := map[string]bool{}
	for _, t := range tags {
		if seen[t.Key] {
			return invalidInput("DUPLICATE_TAG_KEY", "You specified the same tag key more than once.")
		}
		seen[t.Key] = true
		if strings.HasPrefix(strings.ToLower(t.Key), "aws:") {
			return invalidInput("INVALID_SYSTEM_TAGS_PARAMETER", "You can't use the aws: prefix in a tag key.")
		}
	}
	if len(tags) > maxTags {
		return constraint("MAX_TAG_LIMIT_EXCEEDED", "You have exceeded the maximum number of tags allowed on this resource.")
	}
	return nil
}

func storeTags(tags []tag) []store.Tag {
	out := make([]store.Tag, len(tags))
	for i, t := range tags {
		out[i] = store.Tag{Key: t.Key, Value: t.Value}
	}
	return out
}

// taggable checks that a tag target exists: an account, an OU or the root.
func taggable(ctx context.Context, tx store.Tx, org *store.Organization, id string) error {
	var err error
	switch {
	case id == org.RootID:
		return nil
	case strings.HasPrefix(id, "ou-"):
		_, err = tx.GetOrganizationalUnit(ctx, id)
	default:
		_, err = tx.GetAccount(ctx, id)
	}
	return notFoundOr(err, errTargetNotFound)
}

type tagResourceIn struct {
	ResourceId string
	Tags       []tag
}

func (s *Service) tagResource(ctx context.Context, in *tagResourceIn) (*empty, error) {
	if err := checkTags(in.Tags); err != nil {
		return nil, err
	}
	return nil, s.write(ctx, func(tx store.Tx, org *store.Organization) error {
		if err := taggable(ctx, tx, org, in.ResourceId); err != nil {
			return err
		}
		if err := tx.PutTags(ctx, in.ResourceId, storeTags(in.Tags)); err != nil {
			return err
		}
		if all, err := tx.ListTags(ctx, in.ResourceId); err != nil {
			return err
		} else if len(all) > maxTags {
			return constraint("MAX_TAG_LIMIT_EXCEEDED", "You have exceeded the maximum number of tags allowed on this resource.")
		}
		return nil
	})
}

type untagResourceIn struct {
	ResourceId string
	TagKeys    []string
}

func (s *Service) untagResource(ctx context.Context, in *untagResourceIn) (*empty, error) {
	return nil, s.write(ctx, func(tx store.Tx, org *store.Organization) error {
		if err := taggable(ctx, tx, org, in.ResourceId); err != nil {
			return err
		}
		return tx.DeleteTags(ctx, in.ResourceId, in.TagKeys)
	})
}

type listTagsIn struct {
	ResourceId string
	NextToken  *string
}

type listTagsOut struct {
	Tags      []tag
	NextToken *string `json:",omitempty"`
}

func (s *Service) listTagsForResource(ctx context.Context, in *listTagsIn) (*listTagsOut, error) {
	if err := s.checkToken("ListTagsForResource/"+in.ResourceId, in.NextToken); err != nil {
		return nil, err
	}
	out := listTagsOut{Tags: []tag{}}
	return &out, s.read(ctx, func(tx store.Tx, org *store.Organization) error {
		if err := taggable(ctx, tx, org, in.ResourceId); err != nil {
			return err
		}
		tags, err := tx.ListTags(ctx, in.ResourceId)
		for _, t := range tags {
			out.Tags = append(out.Tags, tag{Key: t.Key, Value: t.Value})
		}
		return err
	})
}
