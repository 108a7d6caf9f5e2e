package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"regexp"
	"runtime"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// Bounds on what one seed-access may create.
const (
	maxSeedAccounts        = 10_000
	maxSeedPermSets        = 1_000 // AWS allows 2,000 per instance; the load runs add their own
	maxSeedAccessUsers     = 100_000
	maxSeedAccessGroups    = 10_000
	maxSeedHeavy           = 1_000
	maxSeedAssignments     = 1_000_000
	maxSeedHeavyAssignment = 10_000
)

// The access prefix is shorter than seed's: permission set names are at
// most 32 characters.
var accessPrefixPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,15}$`)

// seedAccessOptions is the parsed command line of atrium-load seed-access.
type seedAccessOptions struct {
	endpoint         string
	cred             credFlags
	accounts         int
	permSets         int
	users            int
	groups           int
	groupsPerUser    int
	heavyUsers       int
	heavyGroups      int
	heavyAssignments int
	assignments      int
	concurrency      int
	ids              string
	prefix           string
	seed             uint64
	json             bool
	timeout          time.Duration
	progress         time.Duration
}

func parseSeedAccessFlags(args []string, stderr io.Writer) (*seedAccessOptions, error) {
	o := &seedAccessOptions{}
	fs := flag.NewFlagSet("atrium-load seed-access", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: atrium-load seed-access --ids FILE [flags]")
		fmt.Fprintln(stderr, "Creates, through the APIs (Organizations, identitystore, sso-admin), member accounts, permission sets, users, groups,")
		fmt.Fprintln(stderr, "memberships and account assignments, waiting for each asynchronous request to settle; writes their ids to FILE for")
		fmt.Fprintln(stderr, "the sso-admin ops and measure-provision. What it makes:")
		fmt.Fprintln(stderr, "  - PREFIX-ps-wide assigned to the group PREFIX-group-wide in every account (so provisioned to all of them);")
		fmt.Fprintln(stderr, "  - heavy users, each in the same --heavy-groups groups, seeing --heavy-assignments assignments in all:")
		fmt.Fprintln(stderr, "    95% through their groups (shared), the rest their own;")
		fmt.Fprintln(stderr, "  - ordinary users in --groups-per-user of the ordinary groups, and --assignments at random among them.")
		fmt.Fprintln(stderr, "Re-running with the same flags finds what exists (by name) and creates the rest.")
		fs.PrintDefaults()
	}
	fs.StringVar(&o.endpoint, "endpoint", "http://127.0.0.1:8080", "base URL of the server (must resolve to a loopback address)")
	o.cred.register(fs)
	fs.IntVar(&o.accounts, "accounts", 1000, fmt.Sprintf("member accounts (1..%d)", maxSeedAccounts))
	fs.IntVar(&o.permSets, "permission-sets", 20, fmt.Sprintf("permission sets besides PREFIX-ps-wide (1..%d)", maxSeedPermSets))
	fs.IntVar(&o.users, "users", 200, fmt.Sprintf("ordinary users (at most %d)", maxSeedAccessUsers))
	fs.IntVar(&o.groups, "groups", 100, fmt.Sprintf("ordinary groups (at most %d)", maxSeedAccessGroups))
	fs.IntVar(&o.groupsPerUser, "groups-per-user", 3, "ordinary groups each ordinary user is in")
	fs.IntVar(&o.heavyUsers, "heavy-users", 10, fmt.Sprintf("users that list-account-assignments-for-principal asks about (at most %d)", maxSeedHeavy))
	fs.IntVar(&o.heavyGroups, "heavy-groups", 50, fmt.Sprintf("groups every heavy user is in (at most %d)", maxSeedHeavy))
	fs.IntVar(&o.heavyAssignments, "heavy-assignments", 1000, fmt.Sprintf("assignments each heavy user sees, its own and its groups' (at most %d)", maxSeedHeavyAssignment))
	fs.IntVar(&o.assignments, "assignments", 2000, fmt.Sprintf("assignments among the ordinary users and groups (at most %d)", maxSeedAssignments))
	fs.IntVar(&o.concurrency, "concurrency", 16, fmt.Sprintf("concurrent clients (1..%d)", maxConcurrency))
	fs.StringVar(&o.ids, "ids", "", "write the ids to this file, JSON lines, for --ids of the sso-admin ops (required)")
	fs.StringVar(&o.prefix, "prefix", "load", "names start with PREFIX- (at most 16 characters)")
	fs.Uint64Var(&o.seed, "seed", 1, "seed of the random choices (the same seed makes the same plan)")
	fs.BoolVar(&o.json, "json", false, "print the result as JSON")
	fs.DurationVar(&o.timeout, "timeout", 30*time.Second, "per-request timeout")
	fs.DurationVar(&o.progress, "progress", 10*time.Second, "report progress on stderr this often (0: never)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	return o, o.validate()
}

// heavySplit is how a heavy user's assignments divide: perGroup for each of
// its groups (shared by all heavy users), direct of its own.
func (o *seedAccessOptions) heavySplit() (perGroup, direct int) {
	if o.heavyGroups > 0 {
		perGroup = o.heavyAssignments * 19 / 20 / o.heavyGroups
	}
	return perGroup, o.heavyAssignments - perGroup*o.heavyGroups
}

func (o *seedAccessOptions) validate() error {
	pairs := int64(o.accounts) * int64(o.permSets) // (account, permission set) pairs a principal can be given
	perGroup, direct := o.heavySplit()
	switch {
	case o.ids == "":
		return errors.New("--ids FILE is required: the ops read what was made from it")
	case o.accounts < 1 || o.accounts > maxSeedAccounts:
		return fmt.Errorf("--accounts must be between 1 and %d", maxSeedAccounts)
	case o.permSets < 1 || o.permSets > maxSeedPermSets:
		return fmt.Errorf("--permission-sets must be between 1 and %d", maxSeedPermSets)
	case o.users < 0 || o.users > maxSeedAccessUsers:
		return fmt.Errorf("--users must be between 0 and %d", maxSeedAccessUsers)
	case o.groups < 0 || o.groups > maxSeedAccessGroups:
		return fmt.Errorf("--groups must be between 0 and %d", maxSeedAccessGroups)
	case o.groupsPerUser < 0 || o.groupsPerUser > o.groups:
		return fmt.Errorf("--groups-per-user must be between 0 and --groups (%d)", o.groups)
	case o.heavyUsers < 0 || o.heavyUsers > maxSeedHeavy:
		return fmt.Errorf("--heavy-users must be between 0 and %d", maxSeedHeavy)
	case o.heavyGroups < 0 || o.heavyGroups > maxSeedHeavy:
		return fmt.Errorf("--heavy-groups must be between 0 and %d", maxSeedHeavy)
	case o.heavyAssignments < 0 || o.heavyAssignments > maxSeedHeavyAssignment:
		return fmt.Errorf("--heavy-assignments must be between 0 and %d", maxSeedHeavyAssignment)
	case o.heavyUsers > 0 && (int64(perGroup) > pairs || int64(direct) > pairs):
		return fmt.Errorf("--heavy-assignments %d: a principal can have at most --accounts × --permission-sets = %d", o.heavyAssignments, pairs)
	case o.assignments < 0 || o.assignments > maxSeedAssignments:
		return fmt.Errorf("--assignments must be between 0 and %d", maxSeedAssignments)
	case int64(o.assignments) > int64(o.users+o.groups)*pairs:
		return fmt.Errorf("--assignments %d: at most (--users + --groups) × --accounts × --permission-sets = %d", o.assignments, int64(o.users+o.groups)*pairs)
	case o.concurrency < 1 || o.concurrency > maxConcurrency:
		return fmt.Errorf("--concurrency must be between 1 and %d", maxConcurrency)
	case !accessPrefixPattern.MatchString(o.prefix):
		return fmt.Errorf("--prefix must match %s", accessPrefixPattern)
	case o.timeout <= 0 || o.timeout > time.Minute:
		return fmt.Errorf("--timeout must be positive and at most 1m")
	case o.progress < 0:
		return fmt.Errorf("--progress must not be negative")
	}
	return o.cred.validate()
}

// accessPlan is what seed-access makes, by index: groups are the ordinary
// ones, then the heavy ones, then the wide group; users the ordinary ones,
// then the heavy ones; permission sets the ordinary ones, then the wide one.
type accessPlan struct {
	accountNames []string
	permSetNames []string
	groupNames   []string
	userNames    []string
	memberships  []pair // user, group
	assignments  []plannedAssignment
	heavyUsers   []int32 // user indices
}

type plannedAssignment struct {
	account, permSet int32
	group            bool  // a group's, else a user's
	principal        int32 // its index among groups or users
}

func planAccess(o *seedAccessOptions) *accessPlan {
	p := &accessPlan{}
	rng := rand.New(rand.NewPCG(o.seed, 0x61636365))
	for i := range o.accounts {
		p.accountNames = append(p.accountNames, fmt.Sprintf("%s-acct-%05d", o.prefix, i+1))
	}
	for i := range o.permSets {
		p.permSetNames = append(p.permSetNames, fmt.Sprintf("%s-ps-%03d", o.prefix, i+1))
	}
	wide := int32(o.permSets)
	p.permSetNames = append(p.permSetNames, o.prefix+"-ps-wide")
	for i := range o.groups {
		p.groupNames = append(p.groupNames, seedGroupName(o.prefix, i))
	}
	for i := range o.heavyGroups {
		p.groupNames = append(p.groupNames, fmt.Sprintf("%s-hgroup-%03d", o.prefix, i+1))
	}
	wideGroup := int32(len(p.groupNames))
	p.groupNames = append(p.groupNames, o.prefix+"-group-wide")
	for i := range o.users {
		p.userNames = append(p.userNames, seedUserName(o.prefix, i))
	}
	for i := range o.heavyUsers {
		p.heavyUsers = append(p.heavyUsers, int32(len(p.userNames)))
		p.userNames = append(p.userNames, fmt.Sprintf("%s-heavy-%04d", o.prefix, i+1))
	}

	p.memberships = planMemberships(o.users, o.groups, o.users*o.groupsPerUser, o.seed)
	for _, u := range p.heavyUsers {
		for g := range o.heavyGroups {
			p.memberships = append(p.memberships, pair{u, int32(o.groups + g)})
		}
	}

	for a := range o.accounts {
		p.assignments = append(p.assignments, plannedAssignment{account: int32(a), permSet: wide, group: true, principal: wideGroup})
	}
	// (account, permission set) pairs numbered account × permission set.
	give := func(group bool, principal int32, n int) {
		for _, k := range distinct(rng, n, int64(o.accounts)*int64(o.permSets)) {
			p.assignments = append(p.assignments, plannedAssignment{account: int32(k / int64(o.permSets)), permSet: int32(k % int64(o.permSets)),
				group: group, principal: principal})
		}
	}
	if o.heavyUsers > 0 {
		perGroup, direct := o.heavySplit()
		for g := range o.heavyGroups {
			give(true, int32(o.groups+g), perGroup)
		}
		for _, u := range p.heavyUsers {
			give(false, u, direct)
		}
	}
	// The rest: (principal, account, permission set) among the ordinary principals, users first.
	pairs := int64(o.accounts) * int64(o.permSets)
	for _, k := range distinct(rng, o.assignments, int64(o.users+o.groups)*pairs) {
		pr, rest := int32(k/pairs), k%pairs
		a := plannedAssignment{account: int32(rest / int64(o.permSets)), permSet: int32(rest % int64(o.permSets)), principal: pr}
		if pr >= int32(o.users) {
			a.group, a.principal = true, pr-int32(o.users)
		}
		p.assignments = append(p.assignments, a)
	}
	return p
}

// distinct is n distinct numbers in [0, space), drawn from rng.
func distinct(rng *rand.Rand, n int, space int64) []int64 {
	if n <= 0 || space <= 0 {
		return nil
	}
	n = int(min(int64(n), space))
	out := make([]int64, 0, n)
	if int64(2*n) > space {
		for _, k := range rng.Perm(int(space))[:n] {
			out = append(out, int64(k))
		}
		return out
	}
	picked := make(map[int64]bool, n)
	for len(out) < n {
		k := rng.Int64N(space)
		if !picked[k] {
			picked[k] = true
			out = append(out, k)
		}
	}
	return out
}

// seedAccessResult is the outcome of atrium-load seed-access.
type seedAccessResult struct {
	Endpoint         string        `json:"endpoint"`
	InstanceARN      string        `json:"instance_arn"`
	IdentityStoreID  string        `json:"identity_store_id"`
	Concurrency      int           `json:"concurrency"`
	Phases           []*seedPhase  `json:"phases"`
	TotalSeconds     float64       `json:"total_s"`
	Errors           int64         `json:"errors"`
	ClientCPUSeconds float64       `json:"client_cpu_s"`
	Machine          *machineStats `json:"machine,omitempty"`
	IDsFile          string        `json:"ids_file"`
	IDs              string        `json:"ids"`
	Interrupted      bool          `json:"interrupted,omitempty"`
}

func runSeedAccess(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	o, err := parseSeedAccessFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "atrium-load seed-access:", err)
		return 2
	}
	tgt, err := newTarget(ctx, o.endpoint, net.DefaultResolver, o.concurrency, o.timeout)
	if err != nil {
		fmt.Fprintln(stderr, "atrium-load seed-access:", err)
		return 2
	}
	defer tgt.close()
	creds, err := o.cred.load(ctx, getenv)
	if err != nil {
		fmt.Fprintln(stderr, "atrium-load seed-access:", err)
		return 2
	}
	res, err := seedAccess(ctx, o, tgt, creds, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "atrium-load seed-access:", err)
		return 1
	}
	if o.json {
		writeJSON(stdout, res)
	} else {
		res.print(stdout)
	}
	if res.Errors > 0 || res.Interrupted {
		return 1
	}
	return 0
}

// postAs posts one signed awsJson1.1 call of another service than sso-admin;
// errors are keyed by the operation.
func postAs(ctx context.Context, c *caller, signingName, targetPrefix, op string, body []byte) ([]byte, *callError) {
	b, cerr := c.post(ctx, signingName, targetPrefix+op, body)
	if cerr != nil {
		cerr.key = op + ": " + cerr.key
	}
	return b, cerr
}

func seedAccess(ctx context.Context, o *seedAccessOptions, tgt *target, creds aws.Credentials, stderr io.Writer) (*seedAccessResult, error) {
	plan := planAccess(o)
	c := newRawCaller(tgt, creds)
	b, cerr := ssoCall(ctx, c, "ListInstances", []byte(`{}`))
	if cerr != nil {
		return nil, fmt.Errorf("sso-admin ListInstances: %v", cerr)
	}
	instanceARN, storeID, err := parseInstance(b)
	if err != nil {
		return nil, err
	}
	if err := ensureOrganization(ctx, c); err != nil {
		return nil, err
	}
	res := &seedAccessResult{Endpoint: tgt.url.String(), InstanceARN: instanceARN, IdentityStoreID: storeID, Concurrency: o.concurrency, IDsFile: o.ids}
	mk := func() *caller { return newRawCaller(tgt, creds) }
	pr := &progress{w: stderr, interval: o.progress}
	client0 := selfCPU()
	machine0, _ := readMachineCPU()
	load0 := loadAvg()
	t0 := time.Now()

	// Accounts: CreateAccount is asynchronous; requests first, then their outcome.
	byEmail, err := listAccounts(ctx, c)
	if err != nil {
		return nil, err
	}
	accountIDs := make([]string, o.accounts)
	requests := make([]string, o.accounts) // CreateAccount request ids still IN_PROGRESS
	res.Phases = append(res.Phases, runPhase(ctx, "accounts", o.accounts, o.concurrency, pr, mk, func(ctx context.Context, c *caller, i int) (outcome, *callError) {
		name := plan.accountNames[i]
		if id, ok := byEmail[name+"@example.com"]; ok {
			accountIDs[i] = id
			return existing, nil
		}
		b, cerr := postAs(ctx, c, "organizations", orgTargetPrefix, "CreateAccount", mustJSON(createAccountIn{Email: name + "@example.com", AccountName: name}))
		if cerr != nil {
			return failed, cerr
		}
		st, err := parseCreateAccountStatus(b)
		if err != nil {
			return failed, badBody("CreateAccount", err)
		}
		switch st.state {
		case statusSucceeded:
			accountIDs[i] = st.accountID
		case statusFailed:
			return failed, &callError{key: "CreateAccount: FAILED", msg: st.reason}
		default:
			requests[i] = st.id
		}
		return created, nil
	}))
	var waiting []int
	for i, r := range requests {
		if r != "" {
			waiting = append(waiting, i)
		}
	}
	res.Phases = append(res.Phases, runPhase(ctx, "accounts settled", len(waiting), o.concurrency, pr, mk, func(ctx context.Context, c *caller, k int) (outcome, *callError) {
		i := waiting[k]
		st, cerr := waitCreateAccount(ctx, c, requests[i])
		if cerr != nil {
			return failed, cerr
		}
		if st.state != statusSucceeded {
			return failed, &callError{key: "DescribeCreateAccountStatus: " + st.state, msg: st.reason}
		}
		accountIDs[i] = st.accountID
		return created, nil
	}))

	// Permission sets, found by name first.
	names, err := listPermissionSetNames(ctx, c, instanceARN)
	if err != nil {
		return nil, err
	}
	permSetARNs := make([]string, len(plan.permSetNames))
	res.Phases = append(res.Phases, runPhase(ctx, "permission sets", len(plan.permSetNames), o.concurrency, pr, mk, func(ctx context.Context, c *caller, i int) (outcome, *callError) {
		name := plan.permSetNames[i]
		if arn, ok := names[name]; ok {
			permSetARNs[i] = arn
			return existing, nil
		}
		b, cerr := ssoCall(ctx, c, "CreatePermissionSet", createPermissionSetBody(instanceARN, name, "atrium-load seed-access"))
		if cerr != nil {
			return failed, cerr
		}
		arn, err := parseCreatePermissionSet(b, name)
		if err != nil {
			return failed, badBody("CreatePermissionSet", err)
		}
		permSetARNs[i] = arn
		return created, nil
	}))

	// Groups, users and memberships, as atrium-load seed makes them.
	groupIDs := make([]string, len(plan.groupNames))
	res.Phases = append(res.Phases, runPhase(ctx, "groups", len(plan.groupNames), o.concurrency, pr, mk, func(ctx context.Context, c *caller, i int) (outcome, *callError) {
		name := plan.groupNames[i]
		id, out, cerr := createOrFind(ctx, c, storeID, "Group", name, mustJSON(createGroupIn{IdentityStoreId: storeID, DisplayName: name}))
		groupIDs[i] = id
		return out, cerr
	}))
	userIDs := make([]string, len(plan.userNames))
	res.Phases = append(res.Phases, runPhase(ctx, "users", len(plan.userNames), o.concurrency, pr, mk, func(ctx context.Context, c *caller, i int) (outcome, *callError) {
		name := plan.userNames[i]
		id, out, cerr := createOrFind(ctx, c, storeID, "User", name, createUserBody(storeID, name, "Load", fmt.Sprintf("User %d", i+1)))
		userIDs[i] = id
		return out, cerr
	}))
	memberMade := make([]bool, len(plan.memberships))
	res.Phases = append(res.Phases, runPhase(ctx, "memberships", len(plan.memberships), o.concurrency, pr, mk, func(ctx context.Context, c *caller, i int) (outcome, *callError) {
		m := plan.memberships[i]
		if userIDs[m.user] == "" || groupIDs[m.group] == "" {
			return failed, &callError{key: "skipped: its user or group failed", msg: plan.userNames[m.user] + " in " + plan.groupNames[m.group]}
		}
		b, cerr := c.post(ctx, idsSigningName, idsTargetPrefix+"CreateGroupMembership", mustJSON(createMembershipIn{
			IdentityStoreId: storeID, GroupId: groupIDs[m.group], MemberId: memberID{userIDs[m.user]}}))
		switch {
		case cerr == nil:
			if _, err := checkCreated(b, "MembershipId"); err != nil {
				return failed, badBody("CreateGroupMembership", err)
			}
			memberMade[i] = true
			return created, nil
		case cerr.code == "ConflictException":
			memberMade[i] = true
			return existing, nil
		}
		cerr.key = "CreateGroupMembership: " + cerr.key
		return failed, cerr
	}))

	// Assignments: CreateAccountAssignment is asynchronous too.
	assignMade := make([]bool, len(plan.assignments))
	assignRequests := make([]string, len(plan.assignments))
	res.Phases = append(res.Phases, runPhase(ctx, "assignments", len(plan.assignments), o.concurrency, pr, mk, func(ctx context.Context, c *caller, i int) (outcome, *callError) {
		want, ok := plannedRequest(plan.assignments[i], accountIDs, permSetARNs, groupIDs, userIDs)
		if !ok {
			return failed, &callError{key: "skipped: its account, permission set or principal failed", msg: fmt.Sprint(plan.assignments[i])}
		}
		b, cerr := ssoCall(ctx, c, "CreateAccountAssignment", createAssignmentBody(instanceARN, want))
		if cerr != nil {
			return failed, cerr
		}
		st, err := parseAssignmentStatus(b, "AccountAssignmentCreationStatus", want)
		if err != nil {
			return failed, badBody("CreateAccountAssignment", err)
		}
		switch st.status {
		case statusSucceeded:
			assignMade[i] = true
		case statusFailed:
			return failed, &callError{key: "CreateAccountAssignment: FAILED", msg: st.reason}
		default:
			assignRequests[i] = st.requestID
		}
		return created, nil
	}))
	waiting = waiting[:0]
	for i, r := range assignRequests {
		if r != "" {
			waiting = append(waiting, i)
		}
	}
	res.Phases = append(res.Phases, runPhase(ctx, "assignments settled", len(waiting), min(o.concurrency, settleWorkers), pr, mk, func(ctx context.Context, c *caller, k int) (outcome, *callError) {
		i := waiting[k]
		st, _, err := waitRequest(ctx, c, instanceARN, assignRequests[i])
		if err != nil {
			return failed, &callError{key: "DescribeAccountAssignmentCreationStatus", msg: err.Error()}
		}
		if st.status != statusSucceeded {
			return failed, &callError{key: "DescribeAccountAssignmentCreationStatus: " + st.status, msg: st.reason}
		}
		assignMade[i] = true
		return created, nil
	}))

	res.TotalSeconds = time.Since(t0).Seconds()
	for _, p := range res.Phases {
		res.Errors += p.Errors
	}
	res.ClientCPUSeconds = (selfCPU() - client0).Seconds()
	if machine1, err := readMachineCPU(); err == nil && machine0.busy > 0 {
		res.Machine = &machineStats{LoadAvg1: load0,
			BusyCores:  (machine1.busy - machine0.busy).Seconds() / res.TotalSeconds,
			StealCores: (machine1.steal - machine0.steal).Seconds() / res.TotalSeconds}
		res.Machine.OtherCores = max(0, res.Machine.BusyCores-res.ClientCPUSeconds/res.TotalSeconds)
	}
	res.Interrupted = ctx.Err() != nil

	f := accessFixtureOf(plan, instanceARN, storeID, accountIDs, permSetARNs, groupIDs, userIDs, memberMade, assignMade)
	if err := saveAccessIDs(o.ids, f); err != nil {
		return nil, fmt.Errorf("--ids %s: %w", o.ids, err)
	}
	res.IDs = f.String()
	return res, nil
}

// plannedRequest is the request for a planned assignment; false when one of
// its parts was not made.
func plannedRequest(a plannedAssignment, accountIDs, permSetARNs, groupIDs, userIDs []string) (assignmentRequest, bool) {
	r := assignmentRequest{account: accountIDs[a.account], permSet: permSetARNs[a.permSet], principal: principal{"USER", ""}}
	if a.group {
		r.principal = principal{"GROUP", groupIDs[a.principal]}
	} else {
		r.principal.id = userIDs[a.principal]
	}
	return r, r.account != "" && r.permSet != "" && r.principal.id != ""
}

// accessFixtureOf is what seeding made: the parts that have ids, the
// memberships made, and for each user how many assignments it sees, its
// own and its groups'.
func accessFixtureOf(plan *accessPlan, instanceARN, storeID string, accountIDs, permSetARNs, groupIDs, userIDs []string, memberMade, assignMade []bool) *accessFixture {
	f := &accessFixture{instanceARN: instanceARN, storeID: storeID}
	for _, id := range accountIDs {
		if id != "" {
			f.accounts = append(f.accounts, id)
		}
	}
	for i, arn := range permSetARNs {
		if arn != "" {
			f.permSets = append(f.permSets, fixturePermSet{arn: arn, name: plan.permSetNames[i], wide: i == len(permSetARNs)-1})
		}
	}
	gIndex := make([]int32, len(groupIDs))
	for i, id := range groupIDs {
		gIndex[i] = -1
		if id != "" {
			gIndex[i] = int32(len(f.groups))
			f.groups = append(f.groups, dirGroup{id: id, name: plan.groupNames[i]})
		}
	}
	groupAssignments := make([]int, len(groupIDs))
	userAssignments := make([]int, len(userIDs))
	for i, a := range plan.assignments {
		if !assignMade[i] {
			continue
		}
		if a.group {
			groupAssignments[a.principal]++
		} else {
			userAssignments[a.principal]++
		}
	}
	uIndex := make([]int32, len(userIDs))
	for i, id := range userIDs {
		uIndex[i] = -1
		if id != "" {
			uIndex[i] = int32(len(f.users))
			f.users = append(f.users, fixtureUser{id: id, name: plan.userNames[i], assignments: userAssignments[i]})
		}
	}
	for i, m := range plan.memberships {
		if memberMade[i] && uIndex[m.user] >= 0 && gIndex[m.group] >= 0 {
			u := &f.users[uIndex[m.user]]
			u.groups = append(u.groups, gIndex[m.group])
			u.assignments += groupAssignments[m.group]
		}
	}
	for _, u := range plan.heavyUsers {
		if uIndex[u] >= 0 {
			f.heavy = append(f.heavy, uIndex[u])
		}
	}
	return f
}

// ensureOrganization creates the organization when there is none (an
// emulator starts without one; Atrium bootstraps its own).
func ensureOrganization(ctx context.Context, c *caller) error {
	_, cerr := postAs(ctx, c, "organizations", orgTargetPrefix, "DescribeOrganization", []byte(`{}`))
	if cerr == nil {
		return nil
	}
	if cerr.code != "AWSOrganizationsNotInUseException" {
		return fmt.Errorf("organizations: %v", cerr)
	}
	if _, cerr := postAs(ctx, c, "organizations", orgTargetPrefix, "CreateOrganization", []byte(`{"FeatureSet":"ALL"}`)); cerr != nil {
		return fmt.Errorf("organizations: %v", cerr)
	}
	return nil
}

// listAccounts maps the organization's accounts by email.
func listAccounts(ctx context.Context, c *caller) (map[string]string, error) {
	out := map[string]string{}
	token := ""
	for {
		b, cerr := postAs(ctx, c, "organizations", orgTargetPrefix, "ListAccounts", mustJSON(listAccountsIn{MaxResults: 20, NextToken: token}))
		if cerr != nil {
			return nil, fmt.Errorf("organizations: %v", cerr)
		}
		page, next, err := parseListAccountsPage(b)
		if err != nil {
			return nil, fmt.Errorf("ListAccounts: %v", err)
		}
		for _, a := range page {
			out[a.email] = a.id
		}
		if token = next; token == "" {
			return out, nil
		}
	}
}

// waitCreateAccount polls a CreateAccount request, backing off from 5ms to
// 100ms, until it is no longer IN_PROGRESS.
func waitCreateAccount(ctx context.Context, c *caller, id string) (*createAccountStatus, *callError) {
	delay := 5 * time.Millisecond
	for {
		b, cerr := postAs(ctx, c, "organizations", orgTargetPrefix, "DescribeCreateAccountStatus", mustJSON(createAccountStatusIn{CreateAccountRequestId: id}))
		if cerr != nil {
			return nil, cerr
		}
		st, err := parseCreateAccountStatus(b)
		if err != nil {
			return nil, badBody("DescribeCreateAccountStatus", err)
		}
		if st.state != statusInProgress {
			return st, nil
		}
		select {
		case <-time.After(delay):
		case <-ctx.Done():
			return nil, &callError{key: "transport: cancelled", msg: ctx.Err().Error()}
		}
		delay = min(2*delay, 100*time.Millisecond)
	}
}

// listPermissionSetNames maps the instance's permission sets by name.
func listPermissionSetNames(ctx context.Context, c *caller, instanceARN string) (map[string]string, error) {
	var arns []string
	token := ""
	for {
		b, cerr := ssoCall(ctx, c, "ListPermissionSets", mustJSON(listPermissionSetsIn{InstanceArn: instanceARN, MaxResults: 100, NextToken: token}))
		if cerr != nil {
			return nil, fmt.Errorf("sso-admin: %v", cerr)
		}
		page, next, err := parsePermissionSetsPage(b)
		if err != nil {
			return nil, fmt.Errorf("ListPermissionSets: %v", err)
		}
		arns = append(arns, page...)
		if token = next; token == "" {
			break
		}
	}
	out := make(map[string]string, len(arns))
	for _, arn := range arns {
		b, cerr := ssoCall(ctx, c, "DescribePermissionSet", describePermissionSetBody(instanceARN, arn))
		if cerr != nil {
			return nil, fmt.Errorf("sso-admin: %v", cerr)
		}
		var d struct{ PermissionSet *struct{ Name string } }
		if err := unmarshal(b, &d); err != nil || d.PermissionSet == nil {
			return nil, fmt.Errorf("DescribePermissionSet %s: no PermissionSet", arn)
		}
		out[d.PermissionSet.Name] = arn
	}
	return out, nil
}

func (r *seedAccessResult) print(w io.Writer) {
	fmt.Fprintf(w, "atrium-load seed-access: instance %s (identity store %s) at %s, %d workers (GOMAXPROCS %d, sharing the machine with the server)\n",
		r.InstanceARN, r.IdentityStoreID, r.Endpoint, r.Concurrency, runtime.GOMAXPROCS(0))
	if r.Interrupted {
		fmt.Fprintln(w, "interrupted: partial results")
	}
	for _, p := range r.Phases {
		if p.Planned == 0 {
			continue
		}
		fmt.Fprintf(w, "%-20s %7d planned: %d created, %d already there, %d errors in %.2fs = %.0f/s  (p50 %.2fms p99 %.2fms max %.2fms)\n",
			p.Kind, p.Planned, p.Created, p.Existing, p.Errors, p.ElapsedSeconds, p.PerSecond, p.Latency.P50, p.Latency.P99, p.Latency.Max)
		for _, e := range p.ErrorKinds {
			fmt.Fprintf(w, "  error              %-50s %d  (e.g. %q)\n", e.Kind, e.Count, e.Example)
		}
	}
	fmt.Fprintf(w, "total                %.2fs, %d errors; client CPU %.1fs\n", r.TotalSeconds, r.Errors, r.ClientCPUSeconds)
	fmt.Fprintln(w, "settled              a phase's latency is from its first status request to the outcome; asynchronous work queued before it started counts")
	if m := r.Machine; m != nil {
		fmt.Fprintf(w, "machine              %.2f cores busy on average, %.2f of them not the client (steal %.2f); load average %.2f at the start\n",
			m.BusyCores, m.OtherCores, m.StealCores, m.LoadAvg1)
	}
	fmt.Fprintf(w, "ids                  %s: %s\n", r.IDsFile, r.IDs)
}
