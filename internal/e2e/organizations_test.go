package e2e

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
)

// createAccount runs CreateAccount and waits for it to finish, as clients poll on AWS.
func createAccount(t *testing.T, c *organizations.Client, name, email string) *orgtypes.CreateAccountStatus {
	t.Helper()
	ctx := ctxT(t)
	out, err := c.CreateAccount(ctx, &organizations.CreateAccountInput{AccountName: aws.String(name), Email: aws.String(email)})
	if err != nil {
		t.Fatalf("CreateAccount: %v", err)
	}
	if out.CreateAccountStatus.State != orgtypes.CreateAccountStateInProgress {
		t.Fatalf("CreateAccount answered %s; AWS answers IN_PROGRESS and finishes later", out.CreateAccountStatus.State)
	}
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		st, err := c.DescribeCreateAccountStatus(ctx, &organizations.DescribeCreateAccountStatusInput{CreateAccountRequestId: out.CreateAccountStatus.Id})
		if err != nil {
			t.Fatalf("DescribeCreateAccountStatus: %v", err)
		}
		if st.CreateAccountStatus.State != orgtypes.CreateAccountStateInProgress {
			return st.CreateAccountStatus
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("CreateAccount %s never finished", *out.CreateAccountStatus.Id)
	return nil
}

func listAllAccounts(t *testing.T, c *organizations.Client) []orgtypes.Account {
	t.Helper()
	var all []orgtypes.Account
	p := organizations.NewListAccountsPaginator(c, &organizations.ListAccountsInput{MaxResults: aws.Int32(1)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctxT(t))
		if err != nil {
			t.Fatalf("ListAccounts: %v", err)
		}
		all = append(all, page.Accounts...)
	}
	return all
}

func apiErrorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// The acceptance story with the Go SDK: who am I, the organization, a new
// account created asynchronously, listed, and still there after a restart.
func TestOrganizationsStoryGoSDK(t *testing.T) {
	backends(t, func(t *testing.T, o nodeOptions) {
		n := startNode(t, o)
		ctx := ctxT(t)
		who, err := n.sts().GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if err != nil {
			t.Fatal(err)
		}
		org, err := n.organizations().DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
		if err != nil {
			t.Fatal(err)
		}
		mgmt := *org.Organization.MasterAccountId
		if *who.Account != mgmt || *who.Arn != "arn:aws:iam::"+mgmt+":root" || len(mgmt) != 12 {
			t.Fatalf("GetCallerIdentity = %s %s; management account %s", *who.Account, *who.Arn, mgmt)
		}
		if !strings.HasPrefix(*org.Organization.Id, "o-") || org.Organization.FeatureSet != "ALL" {
			t.Fatalf("organization = %+v", org.Organization)
		}

		st := createAccount(t, n.organizations(), "Dev", "dev@example.com")
		if st.State != orgtypes.CreateAccountStateSucceeded || len(*st.AccountId) != 12 {
			t.Fatalf("CreateAccount ended %s (%s)", st.State, st.FailureReason)
		}
		dup := createAccount(t, n.organizations(), "Dup", "DEV@example.com")
		if dup.State != orgtypes.CreateAccountStateFailed || dup.FailureReason != orgtypes.CreateAccountFailureReasonEmailAlreadyExists {
			t.Fatalf("duplicate email ended %s / %s; want FAILED / EMAIL_ALREADY_EXISTS", dup.State, dup.FailureReason)
		}
		failed, err := n.organizations().ListCreateAccountStatus(ctx, &organizations.ListCreateAccountStatusInput{States: []orgtypes.CreateAccountState{"FAILED"}})
		if err != nil || len(failed.CreateAccountStatuses) != 1 || *failed.CreateAccountStatuses[0].Id != *dup.Id {
			t.Fatalf("ListCreateAccountStatus FAILED = %+v, %v", failed, err)
		}

		accts := listAllAccounts(t, n.organizations())
		ids := map[string]int{}
		for _, a := range accts {
			ids[*a.Id]++
		}
		if len(accts) != 2 || ids[mgmt] != 1 || ids[*st.AccountId] != 1 {
			t.Fatalf("ListAccounts walked %v; want the management and the new account once each", ids)
		}
		got, err := n.organizations().DescribeAccount(ctx, &organizations.DescribeAccountInput{AccountId: st.AccountId})
		if err != nil || *got.Account.Email != "dev@example.com" || *got.Account.Name != "Dev" || got.Account.Status != orgtypes.AccountStatusActive {
			t.Fatalf("DescribeAccount = %+v, %v", got, err)
		}

		// Restart on the same database: the account is still there.
		if err := n.stop(); err != nil {
			t.Fatalf("SIGTERM exit: %v\n%s", err, n.Log())
		}
		o.data = n.Data
		n2 := startNode(t, o)
		n2.KeyID, n2.Secret = n.KeyID, n.Secret
		again, err := n2.organizations().DescribeAccount(ctxT(t), &organizations.DescribeAccountInput{AccountId: st.AccountId})
		if err != nil || *again.Account.Email != "dev@example.com" {
			t.Fatalf("after restart DescribeAccount = %+v, %v", again, err)
		}
		org2, err := n2.organizations().DescribeOrganization(ctxT(t), &organizations.DescribeOrganizationInput{})
		if err != nil || *org2.Organization.Id != *org.Organization.Id {
			t.Fatalf("restart made a new organization: %v", err)
		}
	})
}

// The OU tree, moves, tags and closing, with the errors AWS gives.
func TestOrganizationalUnitsAndTags(t *testing.T) {
	n := startNode(t, nodeOptions{})
	c := n.organizations()
	ctx := ctxT(t)
	roots, err := c.ListRoots(ctx, &organizations.ListRootsInput{})
	if err != nil || len(roots.Roots) != 1 {
		t.Fatalf("ListRoots = %+v, %v", roots, err)
	}
	root := *roots.Roots[0].Id
	acct := *createAccount(t, c, "Team", "team@example.com").AccountId

	ou, err := c.CreateOrganizationalUnit(ctx, &organizations.CreateOrganizationalUnitInput{ParentId: &root, Name: aws.String("Eng"),
		Tags: []orgtypes.Tag{{Key: aws.String("cost-center"), Value: aws.String("42")}}})
	if err != nil {
		t.Fatal(err)
	}
	ouID := *ou.OrganizationalUnit.Id
	if !strings.HasPrefix(ouID, "ou-"+strings.TrimPrefix(root, "r-")+"-") {
		t.Fatalf("OU id %s does not carry its root", ouID)
	}
	_, err = c.CreateOrganizationalUnit(ctx, &organizations.CreateOrganizationalUnitInput{ParentId: &root, Name: aws.String("Eng")})
	if apiErrorCode(err) != "DuplicateOrganizationalUnitException" {
		t.Fatalf("duplicate OU name: %v", err)
	}
	_, err = c.CreateOrganizationalUnit(ctx, &organizations.CreateOrganizationalUnitInput{ParentId: aws.String("ou-zzzz-zzzzzzzz"), Name: aws.String("X")})
	if apiErrorCode(err) != "ParentNotFoundException" {
		t.Fatalf("OU under a missing parent: %v", err)
	}

	if _, err := c.MoveAccount(ctx, &organizations.MoveAccountInput{AccountId: &acct, SourceParentId: &root, DestinationParentId: &ouID}); err != nil {
		t.Fatal(err)
	}
	_, err = c.MoveAccount(ctx, &organizations.MoveAccountInput{AccountId: &acct, SourceParentId: &ouID, DestinationParentId: &ouID})
	if apiErrorCode(err) != "DuplicateAccountException" {
		t.Fatalf("move into the parent it is in: %v", err)
	}
	kids, err := c.ListChildren(ctx, &organizations.ListChildrenInput{ParentId: &ouID, ChildType: orgtypes.ChildTypeAccount})
	if err != nil || len(kids.Children) != 1 || *kids.Children[0].Id != acct {
		t.Fatalf("ListChildren = %+v, %v", kids, err)
	}
	parents, err := c.ListParents(ctx, &organizations.ListParentsInput{ChildId: &acct})
	if err != nil || *parents.Parents[0].Id != ouID || parents.Parents[0].Type != orgtypes.ParentTypeOrganizationalUnit {
		t.Fatalf("ListParents = %+v, %v", parents, err)
	}
	ouKids, err := c.ListOrganizationalUnitsForParent(ctx, &organizations.ListOrganizationalUnitsForParentInput{ParentId: &root})
	if err != nil || len(ouKids.OrganizationalUnits) != 1 {
		t.Fatalf("ListOrganizationalUnitsForParent = %+v, %v", ouKids, err)
	}
	inOU, err := c.ListAccountsForParent(ctx, &organizations.ListAccountsForParentInput{ParentId: &ouID})
	if err != nil || len(inOU.Accounts) != 1 {
		t.Fatalf("ListAccountsForParent = %+v, %v", inOU, err)
	}
	_, err = c.DeleteOrganizationalUnit(ctx, &organizations.DeleteOrganizationalUnitInput{OrganizationalUnitId: &ouID})
	if apiErrorCode(err) != "OrganizationalUnitNotEmptyException" {
		t.Fatalf("delete of a non-empty OU: %v", err)
	}
	renamed, err := c.UpdateOrganizationalUnit(ctx, &organizations.UpdateOrganizationalUnitInput{OrganizationalUnitId: &ouID, Name: aws.String("Engineering")})
	if err != nil || *renamed.OrganizationalUnit.Name != "Engineering" {
		t.Fatalf("UpdateOrganizationalUnit = %+v, %v", renamed, err)
	}

	if _, err := c.TagResource(ctx, &organizations.TagResourceInput{ResourceId: &acct, Tags: []orgtypes.Tag{
		{Key: aws.String("env"), Value: aws.String("dev")}, {Key: aws.String("team"), Value: aws.String("core")}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.UntagResource(ctx, &organizations.UntagResourceInput{ResourceId: &acct, TagKeys: []string{"team"}}); err != nil {
		t.Fatal(err)
	}
	tags, err := c.ListTagsForResource(ctx, &organizations.ListTagsForResourceInput{ResourceId: &acct})
	if err != nil || len(tags.Tags) != 1 || *tags.Tags[0].Key != "env" {
		t.Fatalf("tags = %+v, %v", tags, err)
	}
	ouTags, err := c.ListTagsForResource(ctx, &organizations.ListTagsForResourceInput{ResourceId: &ouID})
	if err != nil || len(ouTags.Tags) != 1 || *ouTags.Tags[0].Value != "42" {
		t.Fatalf("OU tags from CreateOrganizationalUnit = %+v, %v", ouTags, err)
	}
	_, err = c.TagResource(ctx, &organizations.TagResourceInput{ResourceId: aws.String("111111111111"), Tags: []orgtypes.Tag{{Key: aws.String("a"), Value: aws.String("b")}}})
	if apiErrorCode(err) != "TargetNotFoundException" {
		t.Fatalf("tagging a missing account: %v", err)
	}

	if _, err := c.MoveAccount(ctx, &organizations.MoveAccountInput{AccountId: &acct, SourceParentId: &ouID, DestinationParentId: &root}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteOrganizationalUnit(ctx, &organizations.DeleteOrganizationalUnitInput{OrganizationalUnitId: &ouID}); err != nil {
		t.Fatal(err)
	}
	_, err = c.DescribeOrganizationalUnit(ctx, &organizations.DescribeOrganizationalUnitInput{OrganizationalUnitId: &ouID})
	if apiErrorCode(err) != "OrganizationalUnitNotFoundException" {
		t.Fatalf("deleted OU still described: %v", err)
	}

	if _, err := c.CloseAccount(ctx, &organizations.CloseAccountInput{AccountId: &acct}); err != nil {
		t.Fatal(err)
	}
	closed, _ := c.DescribeAccount(ctx, &organizations.DescribeAccountInput{AccountId: &acct})
	if closed.Account.Status != orgtypes.AccountStatusSuspended {
		t.Fatalf("closed account status = %s", closed.Account.Status)
	}
	_, err = c.CloseAccount(ctx, &organizations.CloseAccountInput{AccountId: &acct})
	if apiErrorCode(err) != "AccountAlreadyClosedException" {
		t.Fatalf("second close: %v", err)
	}
	org, _ := c.DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
	_, err = c.CloseAccount(ctx, &organizations.CloseAccountInput{AccountId: org.Organization.MasterAccountId})
	var cv *orgtypes.ConstraintViolationException
	if !errors.As(err, &cv) || cv.Reason != orgtypes.ConstraintViolationExceptionReasonCannotCloseManagementAccount {
		t.Fatalf("closing the management account: %v", err)
	}
}

// Pagination tokens are opaque and tamper-evident: a forged or edited one is refused.
func TestForgedNextTokenIsRefused(t *testing.T) {
	n := startNode(t, nodeOptions{})
	c := n.organizations()
	createAccount(t, c, "A", "a@example.com")
	page, err := c.ListAccounts(ctxT(t), &organizations.ListAccountsInput{MaxResults: aws.Int32(1)})
	if err != nil || page.NextToken == nil {
		t.Fatalf("first page = %+v, %v", page, err)
	}
	for _, tok := range []string{"999999999999", *page.NextToken + "A", "x" + (*page.NextToken)[1:]} {
		_, err = c.ListAccounts(ctxT(t), &organizations.ListAccountsInput{NextToken: aws.String(tok)})
		var ie *orgtypes.InvalidInputException
		if !errors.As(err, &ie) || ie.Reason != orgtypes.InvalidInputExceptionReasonInvalidPaginationToken {
			t.Fatalf("forged token %q: %v", tok, err)
		}
	}
	// A token from one list is no good for another.
	_, err = c.ListCreateAccountStatus(ctxT(t), &organizations.ListCreateAccountStatusInput{NextToken: page.NextToken})
	if apiErrorCode(err) != "InvalidInputException" {
		t.Fatalf("token carried to another operation: %v", err)
	}
}
