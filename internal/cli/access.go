package cli

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/identitystore"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin/types"
)

// awsManagedPolicyPrefix turns a bare AWS managed policy name (with its
// path, as in job-function/ViewOnlyAccess) into its ARN.
const awsManagedPolicyPrefix = "arn:aws:iam::aws:policy/"

// waitLimit bounds how long a command waits for an asynchronous request.
const waitLimit = 10 * time.Minute

var accountIDPattern = regexp.MustCompile(`^\d{12}$`)

func (c *command) ssoadmin() *ssoadmin.Client           { return ssoadmin.NewFromConfig(c.aws) }
func (c *command) organizations() *organizations.Client { return organizations.NewFromConfig(c.aws) }

// names resolves the names people type to the ids the APIs take, and back
// for display, remembering what it has looked up during one command.
type names struct {
	c          *command
	accounts   []orgtypes.Account              // nil until loaded
	sets       map[string]*types.PermissionSet // by ARN
	allSets    bool                            // sets holds every permission set of the instance
	principals map[string]string               // "USER/<id>" or "GROUP/<id>" → user name or group display name
}

func newNames(c *command) *names {
	return &names{c: c, sets: map[string]*types.PermissionSet{}, principals: map[string]string{}}
}

func (n *names) loadAccounts(ctx context.Context) error {
	if n.accounts != nil {
		return nil
	}
	all := []orgtypes.Account{}
	p := organizations.NewListAccountsPaginator(n.c.organizations(), &organizations.ListAccountsInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("listing the organization's accounts: %s", describe(err))
		}
		all = append(all, page.Accounts...)
	}
	n.accounts = all
	return nil
}

// account resolves a 12-digit account id or an account name. Account names
// need not be unique in an organization, so a shared name is refused.
func (n *names) account(ctx context.Context, arg string) (string, error) {
	if err := n.loadAccounts(ctx); err != nil {
		return "", err
	}
	var found []string
	for _, a := range n.accounts {
		if aws.ToString(a.Id) == arg {
			return arg, nil
		}
		if aws.ToString(a.Name) == arg {
			found = append(found, aws.ToString(a.Id))
		}
	}
	switch {
	case accountIDPattern.MatchString(arg):
		return "", fmt.Errorf("account %s is not in the organization", arg)
	case len(found) == 0:
		return "", fmt.Errorf("no account named %q in the organization", arg)
	case len(found) > 1:
		return "", fmt.Errorf("%d accounts are named %q (%s): give the account id", len(found), arg, strings.Join(found, ", "))
	}
	return found[0], nil
}

func (n *names) accountName(ctx context.Context, id string) string {
	if n.loadAccounts(ctx) != nil {
		return ""
	}
	for _, a := range n.accounts {
		if aws.ToString(a.Id) == id {
			return aws.ToString(a.Name)
		}
	}
	return ""
}

// loadSets describes every permission set of the instance: sso-admin lists
// only ARNs, and names are what people know them by.
func (n *names) loadSets(ctx context.Context) error {
	if n.allSets {
		return nil
	}
	p := ssoadmin.NewListPermissionSetsPaginator(n.c.ssoadmin(), &ssoadmin.ListPermissionSetsInput{InstanceArn: &n.c.instance})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("listing permission sets: %s", describe(err))
		}
		for _, arn := range page.PermissionSets {
			if _, err := n.set(ctx, arn); err != nil {
				return err
			}
		}
	}
	n.allSets = true
	return nil
}

func (n *names) set(ctx context.Context, arn string) (*types.PermissionSet, error) {
	if ps, ok := n.sets[arn]; ok {
		return ps, nil
	}
	out, err := n.c.ssoadmin().DescribePermissionSet(ctx, &ssoadmin.DescribePermissionSetInput{InstanceArn: &n.c.instance, PermissionSetArn: &arn})
	if err != nil {
		return nil, fmt.Errorf("permission set %s: %s", arn, describe(err))
	}
	n.sets[arn] = out.PermissionSet
	return out.PermissionSet, nil
}

// permissionSet resolves a permission set name to its ARN.
func (n *names) permissionSet(ctx context.Context, name string) (string, error) {
	if err := n.loadSets(ctx); err != nil {
		return "", err
	}
	var found []string
	for arn, ps := range n.sets {
		if aws.ToString(ps.Name) == name {
			found = append(found, arn)
		}
	}
	switch len(found) {
	case 0:
		return "", fmt.Errorf("no permission set named %q", name)
	case 1:
		return found[0], nil
	}
	slices.Sort(found)
	return "", fmt.Errorf("%d permission sets are named %q (%s)", len(found), name, strings.Join(found, ", "))
}

func (n *names) setName(ctx context.Context, arn string) string {
	if ps, err := n.set(ctx, arn); err == nil {
		return aws.ToString(ps.Name)
	}
	return arn
}

// principal resolves --user or --group, exactly one of which is required
// when required is set; with neither it answers "".
func (n *names) principal(ctx context.Context, required bool) (types.PrincipalType, string, error) {
	user, group := n.c.opt("user"), n.c.opt("group")
	switch {
	case user != "" && group != "":
		return "", "", errors.New("give --user or --group, not both")
	case user != "":
		id, err := n.c.userID(ctx, user)
		if err != nil {
			return "", "", err
		}
		n.principals["USER/"+id] = user
		return types.PrincipalTypeUser, id, nil
	case group != "":
		id, err := n.c.groupID(ctx, group)
		if err != nil {
			return "", "", err
		}
		n.principals["GROUP/"+id] = group
		return types.PrincipalTypeGroup, id, nil
	case required:
		return "", "", errors.New("--user or --group is required")
	}
	return "", "", nil
}

func (n *names) principalName(ctx context.Context, t types.PrincipalType, id string) string {
	key := string(t) + "/" + id
	if name, ok := n.principals[key]; ok {
		return name
	}
	name := id // a principal deleted from the directory keeps its assignments; show what is known
	if t == types.PrincipalTypeUser {
		if u, err := n.c.identitystore().DescribeUser(ctx, &identitystore.DescribeUserInput{IdentityStoreId: &n.c.storeID, UserId: &id}); err == nil {
			name = aws.ToString(u.UserName)
		}
	} else if g, err := n.c.identitystore().DescribeGroup(ctx, &identitystore.DescribeGroupInput{IdentityStoreId: &n.c.storeID, GroupId: &id}); err == nil {
		name = aws.ToString(g.DisplayName)
	}
	n.principals[key] = name
	return name
}

// await polls an asynchronous sso-admin request until it leaves IN_PROGRESS;
// a FAILED request is an error carrying AWS's FailureReason.
func await(ctx context.Context, what string, status types.StatusValues, reason string, poll func(context.Context) (types.StatusValues, string, error)) error {
	ctx, cancel := context.WithTimeout(ctx, waitLimit)
	defer cancel()
	delay := 100 * time.Millisecond
	for status == types.StatusValuesInProgress {
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: still IN_PROGRESS after %s", what, waitLimit)
		case <-time.After(delay):
		}
		delay = min(delay*2, 2*time.Second)
		var err error
		if status, reason, err = poll(ctx); err != nil {
			return err
		}
	}
	if status != types.StatusValuesSucceeded {
		return fmt.Errorf("%s %s: %s", what, status, reason)
	}
	return nil
}

func createPermissionSet(ctx context.Context, c *command) error {
	in := &ssoadmin.CreatePermissionSetInput{InstanceArn: &c.instance, Name: &c.args[0]}
	if v := c.opt("description"); v != "" {
		in.Description = &v
	}
	if v := c.opt("session-duration"); v != "" {
		in.SessionDuration = &v
	}
	if v := c.opt("relay-state"); v != "" {
		in.RelayState = &v
	}
	out, err := c.ssoadmin().CreatePermissionSet(ctx, in)
	if err != nil {
		return err
	}
	ps := out.PermissionSet
	return c.printOne(map[string]string{"Name": aws.ToString(ps.Name), "PermissionSetArn": aws.ToString(ps.PermissionSetArn),
		"SessionDuration": aws.ToString(ps.SessionDuration)}, []string{"Name", "PermissionSetArn", "SessionDuration"})
}

func listPermissionSets(ctx context.Context, c *command) error {
	n := newNames(c)
	if err := n.loadSets(ctx); err != nil {
		return err
	}
	var rows [][]string
	for _, ps := range n.sets {
		rows = append(rows, []string{aws.ToString(ps.Name), aws.ToString(ps.PermissionSetArn), aws.ToString(ps.SessionDuration)})
	}
	slices.SortFunc(rows, func(a, b []string) int { return strings.Compare(a[0], b[0]) })
	return c.print([]string{"Name", "PermissionSetArn", "SessionDuration"}, rows)
}

// permissionSetDetail is what `permission-set show` tells about one permission set.
type permissionSetDetail struct {
	Name                    string
	PermissionSetArn        string
	Description             string
	SessionDuration         string
	RelayState              string
	ManagedPolicies         []string // ARNs
	CustomerManagedPolicies []string // path + name
	InlinePolicy            bool
	PermissionsBoundary     string // an AWS managed policy ARN or a customer managed path + name; "" = none
	Accounts                []provisionedAccount
}

type provisionedAccount struct {
	AccountId          string
	AccountName        string
	ProvisioningStatus types.ProvisioningStatus
}

func showPermissionSet(ctx context.Context, c *command) error {
	n := newNames(c)
	arn, err := n.permissionSet(ctx, c.args[0])
	if err != nil {
		return err
	}
	ps := n.sets[arn]
	d := permissionSetDetail{Name: aws.ToString(ps.Name), PermissionSetArn: arn, Description: aws.ToString(ps.Description),
		SessionDuration: aws.ToString(ps.SessionDuration), RelayState: aws.ToString(ps.RelayState),
		ManagedPolicies: []string{}, CustomerManagedPolicies: []string{}, Accounts: []provisionedAccount{}}
	sa := c.ssoadmin()
	managed := ssoadmin.NewListManagedPoliciesInPermissionSetPaginator(sa, &ssoadmin.ListManagedPoliciesInPermissionSetInput{InstanceArn: &c.instance, PermissionSetArn: &arn})
	for managed.HasMorePages() {
		page, err := managed.NextPage(ctx)
		if err != nil {
			return err
		}
		for _, p := range page.AttachedManagedPolicies {
			d.ManagedPolicies = append(d.ManagedPolicies, aws.ToString(p.Arn))
		}
	}
	customer := ssoadmin.NewListCustomerManagedPolicyReferencesInPermissionSetPaginator(sa, &ssoadmin.ListCustomerManagedPolicyReferencesInPermissionSetInput{InstanceArn: &c.instance, PermissionSetArn: &arn})
	for customer.HasMorePages() {
		page, err := customer.NextPage(ctx)
		if err != nil {
			return err
		}
		for _, r := range page.CustomerManagedPolicyReferences {
			d.CustomerManagedPolicies = append(d.CustomerManagedPolicies, customerPolicyPath(&r))
		}
	}
	policy, err := sa.GetInlinePolicyForPermissionSet(ctx, &ssoadmin.GetInlinePolicyForPermissionSetInput{InstanceArn: &c.instance, PermissionSetArn: &arn})
	if err != nil {
		return err
	}
	d.InlinePolicy = aws.ToString(policy.InlinePolicy) != ""
	boundary, err := sa.GetPermissionsBoundaryForPermissionSet(ctx, &ssoadmin.GetPermissionsBoundaryForPermissionSetInput{InstanceArn: &c.instance, PermissionSetArn: &arn})
	var notFound *types.ResourceNotFoundException
	switch {
	case errors.As(err, &notFound): // AWS's answer when no boundary is set
	case err != nil:
		return err
	case boundary.PermissionsBoundary != nil:
		d.PermissionsBoundary = aws.ToString(boundary.PermissionsBoundary.ManagedPolicyArn)
		if r := boundary.PermissionsBoundary.CustomerManagedPolicyReference; r != nil {
			d.PermissionsBoundary = customerPolicyPath(r)
		}
	}
	for _, status := range []types.ProvisioningStatus{types.ProvisioningStatusLatestPermissionSetProvisioned, types.ProvisioningStatusLatestPermissionSetNotProvisioned} {
		accounts, err := provisionedAccounts(ctx, c, arn, status)
		if err != nil {
			return err
		}
		for _, id := range accounts {
			d.Accounts = append(d.Accounts, provisionedAccount{AccountId: id, AccountName: n.accountName(ctx, id), ProvisioningStatus: status})
		}
	}
	slices.SortFunc(d.Accounts, func(a, b provisionedAccount) int { return strings.Compare(a.AccountId, b.AccountId) })

	if *c.output == "json" {
		enc := json.NewEncoder(c.env.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(d)
	}
	tw := tabwriter.NewWriter(c.env.Stdout, 0, 4, 2, ' ', 0)
	for _, kv := range [][2]string{{"Name", d.Name}, {"PermissionSetArn", d.PermissionSetArn}, {"Description", d.Description},
		{"SessionDuration", d.SessionDuration}, {"RelayState", d.RelayState}} {
		fmt.Fprintf(tw, "%s:\t%s\n", kv[0], kv[1])
	}
	writeList(tw, "ManagedPolicies", d.ManagedPolicies)
	writeList(tw, "CustomerManagedPolicies", d.CustomerManagedPolicies)
	inline := "none"
	if d.InlinePolicy {
		inline = "set"
	}
	fmt.Fprintf(tw, "InlinePolicy:\t%s\n", inline)
	fmt.Fprintf(tw, "PermissionsBoundary:\t%s\n", cmp.Or(d.PermissionsBoundary, "none"))
	accounts := make([]string, len(d.Accounts))
	for i, a := range d.Accounts {
		accounts[i] = a.AccountId + "\t" + a.AccountName + "\t" + string(a.ProvisioningStatus)
	}
	writeList(tw, "Accounts", accounts)
	return tw.Flush()
}

// writeList writes a key with one value per line, or "none".
func writeList(w io.Writer, key string, values []string) {
	if len(values) == 0 {
		values = []string{"none"}
	}
	for i, v := range values {
		if i == 0 {
			fmt.Fprintf(w, "%s:\t%s\n", key, v)
		} else {
			fmt.Fprintf(w, "\t%s\n", v)
		}
	}
}

func customerPolicyPath(r *types.CustomerManagedPolicyReference) string {
	return cmp.Or(aws.ToString(r.Path), "/") + aws.ToString(r.Name)
}

func provisionedAccounts(ctx context.Context, c *command, arn string, status types.ProvisioningStatus) ([]string, error) {
	var ids []string
	p := ssoadmin.NewListAccountsForProvisionedPermissionSetPaginator(c.ssoadmin(), &ssoadmin.ListAccountsForProvisionedPermissionSetInput{
		InstanceArn: &c.instance, PermissionSetArn: &arn, ProvisioningStatus: status})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		ids = append(ids, page.AccountIds...)
	}
	return ids, nil
}

// noteOutdated says on stderr when a change left accounts running an older
// version: sso-admin does not push changes, ProvisionPermissionSet does.
func noteOutdated(ctx context.Context, c *command, name, arn string) error {
	stale, err := provisionedAccounts(ctx, c, arn, types.ProvisioningStatusLatestPermissionSetNotProvisioned)
	if err != nil || len(stale) == 0 {
		return err
	}
	fmt.Fprintf(c.env.Stderr, "atrium: %d account(s) run an older version of %s; `atrium permission-set provision %s` updates them\n", len(stale), name, name)
	return nil
}

func attachPolicy(ctx context.Context, c *command) error {
	customer := c.opt("customer-managed")
	if (len(c.args) == 2) == (customer != "") {
		return errors.New("give an AWS managed POLICY (name or ARN) or --customer-managed NAME[:PATH], one of them")
	}
	arn, err := newNames(c).permissionSet(ctx, c.args[0])
	if err != nil {
		return err
	}
	if customer != "" {
		name, path, _ := strings.Cut(customer, ":")
		ref := &types.CustomerManagedPolicyReference{Name: &name}
		if path != "" {
			ref.Path = &path
		}
		_, err = c.ssoadmin().AttachCustomerManagedPolicyReferenceToPermissionSet(ctx, &ssoadmin.AttachCustomerManagedPolicyReferenceToPermissionSetInput{
			InstanceArn: &c.instance, PermissionSetArn: &arn, CustomerManagedPolicyReference: ref})
	} else {
		policy := c.args[1]
		if !strings.HasPrefix(policy, "arn:") {
			policy = awsManagedPolicyPrefix + policy
		}
		_, err = c.ssoadmin().AttachManagedPolicyToPermissionSet(ctx, &ssoadmin.AttachManagedPolicyToPermissionSetInput{
			InstanceArn: &c.instance, PermissionSetArn: &arn, ManagedPolicyArn: &policy})
	}
	if err != nil {
		return err
	}
	return noteOutdated(ctx, c, c.args[0], arn)
}

func putInlinePolicy(ctx context.Context, c *command) error {
	var doc []byte
	var err error
	if c.args[1] == "-" {
		doc, err = io.ReadAll(c.env.Stdin)
	} else {
		doc, err = os.ReadFile(c.args[1])
	}
	if err != nil {
		return err
	}
	arn, err := newNames(c).permissionSet(ctx, c.args[0])
	if err != nil {
		return err
	}
	policy := string(doc)
	if _, err := c.ssoadmin().PutInlinePolicyToPermissionSet(ctx, &ssoadmin.PutInlinePolicyToPermissionSetInput{
		InstanceArn: &c.instance, PermissionSetArn: &arn, InlinePolicy: &policy}); err != nil {
		return err
	}
	return noteOutdated(ctx, c, c.args[0], arn)
}

func provisionPermissionSet(ctx context.Context, c *command) error {
	n := newNames(c)
	arn, err := n.permissionSet(ctx, c.args[0])
	if err != nil {
		return err
	}
	in := &ssoadmin.ProvisionPermissionSetInput{InstanceArn: &c.instance, PermissionSetArn: &arn, TargetType: types.ProvisionTargetTypeAllProvisionedAccounts}
	target := "all provisioned accounts"
	if a := c.opt("account"); a != "" {
		id, err := n.account(ctx, a)
		if err != nil {
			return err
		}
		in.TargetType, in.TargetId, target = types.ProvisionTargetTypeAwsAccount, &id, id
	}
	out, err := c.ssoadmin().ProvisionPermissionSet(ctx, in)
	if err != nil {
		return err
	}
	st := out.PermissionSetProvisioningStatus
	err = await(ctx, "provisioning "+c.args[0]+" to "+target, st.Status, aws.ToString(st.FailureReason), func(ctx context.Context) (types.StatusValues, string, error) {
		out, err := c.ssoadmin().DescribePermissionSetProvisioningStatus(ctx, &ssoadmin.DescribePermissionSetProvisioningStatusInput{
			InstanceArn: &c.instance, ProvisionPermissionSetRequestId: st.RequestId})
		if err != nil {
			return "", "", err
		}
		return out.PermissionSetProvisioningStatus.Status, aws.ToString(out.PermissionSetProvisioningStatus.FailureReason), nil
	})
	if err != nil {
		return err
	}
	return c.printOne(map[string]string{"PermissionSet": c.args[0], "Target": target, "Status": string(types.StatusValuesSucceeded)},
		[]string{"PermissionSet", "Target", "Status"})
}

// assignmentTarget resolves the account, permission set and principal of an
// assignment to create or delete; all are required.
func assignmentTarget(ctx context.Context, c *command) (acct, ps string, pt types.PrincipalType, pid string, err error) {
	if c.opt("account") == "" || c.opt("permission-set") == "" {
		return "", "", "", "", errors.New("--account and --permission-set are required")
	}
	n := newNames(c)
	if pt, pid, err = n.principal(ctx, true); err != nil {
		return
	}
	if acct, err = n.account(ctx, c.opt("account")); err != nil {
		return
	}
	ps, err = n.permissionSet(ctx, c.opt("permission-set"))
	return
}

func createAssignment(ctx context.Context, c *command) error {
	acct, ps, pt, pid, err := assignmentTarget(ctx, c)
	if err != nil {
		return err
	}
	out, err := c.ssoadmin().CreateAccountAssignment(ctx, &ssoadmin.CreateAccountAssignmentInput{InstanceArn: &c.instance,
		TargetId: &acct, TargetType: types.TargetTypeAwsAccount, PermissionSetArn: &ps, PrincipalType: pt, PrincipalId: &pid})
	if err != nil {
		return err
	}
	st := out.AccountAssignmentCreationStatus
	err = await(ctx, "creating the assignment", st.Status, aws.ToString(st.FailureReason), func(ctx context.Context) (types.StatusValues, string, error) {
		out, err := c.ssoadmin().DescribeAccountAssignmentCreationStatus(ctx, &ssoadmin.DescribeAccountAssignmentCreationStatusInput{
			InstanceArn: &c.instance, AccountAssignmentCreationRequestId: st.RequestId})
		if err != nil {
			return "", "", err
		}
		return out.AccountAssignmentCreationStatus.Status, aws.ToString(out.AccountAssignmentCreationStatus.FailureReason), nil
	})
	if err != nil {
		return err
	}
	return printAssignmentDone(c, acct, pt)
}

func deleteAssignment(ctx context.Context, c *command) error {
	acct, ps, pt, pid, err := assignmentTarget(ctx, c)
	if err != nil {
		return err
	}
	out, err := c.ssoadmin().DeleteAccountAssignment(ctx, &ssoadmin.DeleteAccountAssignmentInput{InstanceArn: &c.instance,
		TargetId: &acct, TargetType: types.TargetTypeAwsAccount, PermissionSetArn: &ps, PrincipalType: pt, PrincipalId: &pid})
	if err != nil {
		return err
	}
	st := out.AccountAssignmentDeletionStatus
	err = await(ctx, "deleting the assignment", st.Status, aws.ToString(st.FailureReason), func(ctx context.Context) (types.StatusValues, string, error) {
		out, err := c.ssoadmin().DescribeAccountAssignmentDeletionStatus(ctx, &ssoadmin.DescribeAccountAssignmentDeletionStatusInput{
			InstanceArn: &c.instance, AccountAssignmentDeletionRequestId: st.RequestId})
		if err != nil {
			return "", "", err
		}
		return out.AccountAssignmentDeletionStatus.Status, aws.ToString(out.AccountAssignmentDeletionStatus.FailureReason), nil
	})
	if err != nil {
		return err
	}
	return printAssignmentDone(c, acct, pt)
}

func printAssignmentDone(c *command, acct string, pt types.PrincipalType) error {
	principal := c.opt("user")
	if pt == types.PrincipalTypeGroup {
		principal = c.opt("group")
	}
	return c.printOne(map[string]string{"AccountId": acct, "PermissionSet": c.opt("permission-set"), "PrincipalType": string(pt),
		"PrincipalName": principal, "Status": string(types.StatusValuesSucceeded)},
		[]string{"AccountId", "PermissionSet", "PrincipalType", "PrincipalName", "Status"})
}

// listAssignments asks sso-admin the narrowest question the flags allow: a
// principal's assignments (a user's include those of its groups), or the
// assignments of each provisioned (account, permission set) pair in scope.
func listAssignments(ctx context.Context, c *command) error {
	n := newNames(c)
	pt, pid, err := n.principal(ctx, false)
	if err != nil {
		return err
	}
	var acct, ps string
	if a := c.opt("account"); a != "" {
		if acct, err = n.account(ctx, a); err != nil {
			return err
		}
	}
	if name := c.opt("permission-set"); name != "" {
		if ps, err = n.permissionSet(ctx, name); err != nil {
			return err
		}
	}
	var found []types.AccountAssignment
	if pid != "" {
		in := &ssoadmin.ListAccountAssignmentsForPrincipalInput{InstanceArn: &c.instance, PrincipalType: pt, PrincipalId: &pid}
		if acct != "" {
			in.Filter = &types.ListAccountAssignmentsFilter{AccountId: &acct}
		}
		p := ssoadmin.NewListAccountAssignmentsForPrincipalPaginator(c.ssoadmin(), in)
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return err
			}
			for _, a := range page.AccountAssignments {
				if ps == "" || aws.ToString(a.PermissionSetArn) == ps {
					found = append(found, types.AccountAssignment{AccountId: a.AccountId, PermissionSetArn: a.PermissionSetArn,
						PrincipalType: a.PrincipalType, PrincipalId: a.PrincipalId})
				}
			}
		}
	} else {
		pairs, err := provisionedPairs(ctx, c, n, acct, ps)
		if err != nil {
			return err
		}
		for _, pair := range pairs {
			p := ssoadmin.NewListAccountAssignmentsPaginator(c.ssoadmin(), &ssoadmin.ListAccountAssignmentsInput{
				InstanceArn: &c.instance, AccountId: &pair[0], PermissionSetArn: &pair[1]})
			for p.HasMorePages() {
				page, err := p.NextPage(ctx)
				if err != nil {
					return err
				}
				found = append(found, page.AccountAssignments...)
			}
		}
	}
	rows := make([][]string, 0, len(found))
	for _, a := range found {
		id := aws.ToString(a.AccountId)
		rows = append(rows, []string{id, n.accountName(ctx, id), n.setName(ctx, aws.ToString(a.PermissionSetArn)),
			string(a.PrincipalType), n.principalName(ctx, a.PrincipalType, aws.ToString(a.PrincipalId))})
	}
	slices.SortFunc(rows, func(a, b []string) int { return slices.Compare(a, b) })
	return c.print([]string{"AccountId", "AccountName", "PermissionSet", "PrincipalType", "PrincipalName"}, rows)
}

// provisionedPairs lists the (account id, permission set ARN) pairs that can
// hold assignments within the given account and permission set ("" = any):
// an assignment always provisions its permission set to its account.
func provisionedPairs(ctx context.Context, c *command, n *names, acct, ps string) ([][2]string, error) {
	switch {
	case acct != "" && ps != "":
		return [][2]string{{acct, ps}}, nil
	case ps != "":
		ids, err := provisionedAccounts(ctx, c, ps, "")
		pairs := make([][2]string, len(ids))
		for i, id := range ids {
			pairs[i] = [2]string{id, ps}
		}
		return pairs, err
	}
	accounts := []string{acct}
	if acct == "" {
		if err := n.loadAccounts(ctx); err != nil {
			return nil, err
		}
		accounts = accounts[:0]
		for _, a := range n.accounts {
			accounts = append(accounts, aws.ToString(a.Id))
		}
	}
	var pairs [][2]string
	for _, id := range accounts {
		p := ssoadmin.NewListPermissionSetsProvisionedToAccountPaginator(c.ssoadmin(), &ssoadmin.ListPermissionSetsProvisionedToAccountInput{
			InstanceArn: &c.instance, AccountId: &id})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return nil, err
			}
			for _, arn := range page.PermissionSets {
				pairs = append(pairs, [2]string{id, arn})
			}
		}
	}
	return pairs, nil
}
