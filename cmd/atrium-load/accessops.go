package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// The sso-admin ops. They read the fixture that atrium-load seed-access
// wrote (--ids) and need no discovery.
//
//   - describe-permission-set: a random permission set of the fixture.
//   - create-account-assignment: each call assigns a new permission set,
//     made for the run, to a (principal, account) pair not used before in
//     the run, so every call is a new assignment; the latency is the API's
//     answer (IN_PROGRESS on Atrium, SUCCEEDED on moto). After the window
//     every request left IN_PROGRESS is polled until it settles.
//   - create-account-assignment-wait: the same, but a call lasts from
//     sending CreateAccountAssignment until DescribeAccountAssignmentCreationStatus
//     first answers SUCCEEDED, polled every --poll.
//   - list-account-assignments-for-principal: a heavy user (in many groups);
//     each call fetches the next page (MaxResults 100) of its assignments,
//     its own and its groups', and the last page checks the total.
const (
	defaultPoll      = 2 * time.Millisecond
	settleWorkers    = 8
	settleLimit      = 5 * time.Minute
	assignmentsPage  = 100 // MaxResults of ListAccountAssignmentsForPrincipal (its maximum)
	runPermSetPrefix = "load-run-"
)

// How the create ops walk the (account, principal) pairs.
const (
	spreadAccounts   = "accounts"   // the next account each call: the first pass provisions a role in every account
	spreadPrincipals = "principals" // the next principal each call: only each account's first call provisions
)

func accessOp(prepare func(context.Context, *options, *target, aws.Credentials) (*prepared, error)) *operation {
	return &operation{signingName: ssoSigningName, contentType: jsonContentType, prepare: prepare}
}

func init() {
	operations["describe-permission-set"] = accessOp(prepareDescribePermissionSet)
	operations["create-account-assignment"] = accessOp(func(ctx context.Context, o *options, tgt *target, creds aws.Credentials) (*prepared, error) {
		return prepareCreateAssignment(ctx, o, tgt, creds, false)
	})
	operations["create-account-assignment-wait"] = accessOp(func(ctx context.Context, o *options, tgt *target, creds aws.Credentials) (*prepared, error) {
		return prepareCreateAssignment(ctx, o, tgt, creds, true)
	})
	operations["list-account-assignments-for-principal"] = accessOp(prepareListForPrincipal)
}

// accessCaller is a caller whose every call is made by call, with the
// worker's own state captured in it.
func accessCaller(tgt *target, creds aws.Credentials, call func(ctx context.Context, c *caller) ([]byte, *callError)) *caller {
	c := newRawCaller(tgt, creds)
	c.op = &operation{signingName: ssoSigningName, contentType: jsonContentType, call: call}
	return c
}

func workerRand(worker int) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), uint64(genSeq.Add(1))<<16|uint64(worker)&0xffff))
}

// ssoCall posts one sso-admin call; errors are keyed by the operation.
func ssoCall(ctx context.Context, c *caller, op string, body []byte) ([]byte, *callError) {
	b, cerr := c.post(ctx, ssoSigningName, ssoTargetPrefix+op, body)
	if cerr != nil {
		cerr.key = op + ": " + cerr.key
	}
	return b, cerr
}

func badBody(op string, err error) *callError {
	return &callError{key: op + ": HTTP 200 bad body", msg: err.Error()}
}

// --- describe-permission-set

func prepareDescribePermissionSet(_ context.Context, o *options, tgt *target, creds aws.Credentials) (*prepared, error) {
	f, err := readAccessIDs(o.ids)
	if err != nil {
		return nil, err
	}
	if len(f.permSets) == 0 {
		return nil, fmt.Errorf("--ids %s: no permission sets", o.ids)
	}
	return &prepared{
		about: f.String(),
		newCaller: func(worker int) *caller {
			rng := workerRand(worker)
			return accessCaller(tgt, creds, func(ctx context.Context, c *caller) ([]byte, *callError) {
				ps := f.permSets[rng.IntN(len(f.permSets))]
				b, cerr := ssoCall(ctx, c, "DescribePermissionSet", describePermissionSetBody(f.instanceARN, ps.arn))
				if cerr != nil {
					return nil, cerr
				}
				if err := checkDescribePermissionSet(b, ps.arn, ps.name); err != nil {
					return nil, badBody("DescribePermissionSet", err)
				}
				return b, nil
			})
		},
	}, nil
}

// --- create-account-assignment(-wait)

// principal is a user or a group as sso-admin names one.
type principal struct{ typ, id string }

// assignablePrincipals is every user and group of the fixture, users
// first, but the heavy users and their groups: what the list op checks
// must not grow under it.
func assignablePrincipals(f *accessFixture) []principal {
	listed := map[int32]bool{}
	heavyGroups := map[int32]bool{}
	for _, u := range f.heavy {
		listed[u] = true
		for _, g := range f.users[u].groups {
			heavyGroups[g] = true
		}
	}
	out := make([]principal, 0, len(f.users)+len(f.groups))
	for i, u := range f.users {
		if !listed[int32(i)] {
			out = append(out, principal{"USER", u.id})
		}
	}
	for i, g := range f.groups {
		if !heavyGroups[int32(i)] {
			out = append(out, principal{"GROUP", g.id})
		}
	}
	return out
}

// pairAt is the i-th (account, principal) pair of a walk over accounts ×
// principals; false when the walk is over.
func pairAt(i int64, accounts, principals int, spread string) (account, principal int, ok bool) {
	if i < 0 || i >= int64(accounts)*int64(principals) {
		return 0, 0, false
	}
	if spread == spreadPrincipals {
		return int(i / int64(principals)), int(i % int64(principals)), true
	}
	return int(i % int64(accounts)), int(i / int64(accounts)), true
}

// pendingRequests collects the creation requests the calls left IN_PROGRESS.
type pendingRequests struct {
	mu    sync.Mutex
	ids   []string
	first time.Time // when the first of them was answered
}

func (p *pendingRequests) add(id string) {
	p.mu.Lock()
	if len(p.ids) == 0 {
		p.first = time.Now()
	}
	p.ids = append(p.ids, id)
	p.mu.Unlock()
}

func prepareCreateAssignment(ctx context.Context, o *options, tgt *target, creds aws.Credentials, wait bool) (*prepared, error) {
	f, err := readAccessIDs(o.ids)
	if err != nil {
		return nil, err
	}
	principals := assignablePrincipals(f)
	if len(f.accounts) == 0 || len(principals) == 0 {
		return nil, fmt.Errorf("--ids %s: no accounts or no principals to assign", o.ids)
	}
	spread := o.spread
	if spread == "" {
		spread = spreadAccounts
	}
	poll := o.poll
	if poll == 0 {
		poll = defaultPoll
	}
	// A permission set of the run's own: none of its pairs is assigned yet.
	name := fmt.Sprintf("%s%s-%d", runPermSetPrefix, runNonce, genSeq.Add(1))
	b, cerr := ssoCall(ctx, newRawCaller(tgt, creds), "CreatePermissionSet", createPermissionSetBody(f.instanceARN, name,
		"atrium-load create-account-assignment run"))
	if cerr != nil {
		return nil, fmt.Errorf("a permission set for the run: %v", cerr)
	}
	psARN, err := parseCreatePermissionSet(b, name)
	if err != nil {
		return nil, fmt.Errorf("CreatePermissionSet: %v", err)
	}
	var next atomic.Int64
	pending := &pendingRequests{}
	walk := "next account each call"
	if spread == spreadPrincipals {
		walk = "next principal each call"
	}
	about := fmt.Sprintf("%s; new permission set %s, pairs of %d accounts × %d principals, %s", f, name, len(f.accounts), len(principals), walk)
	if wait {
		about += fmt.Sprintf("; each call polls DescribeAccountAssignmentCreationStatus every %s until SUCCEEDED", poll)
	}
	return &prepared{
		about: about,
		newCaller: func(int) *caller {
			return accessCaller(tgt, creds, func(ctx context.Context, c *caller) ([]byte, *callError) {
				i := next.Add(1) - 1
				ai, pi, ok := pairAt(i, len(f.accounts), len(principals), spread)
				if !ok {
					// Not a spin of failures to the window's end.
					select {
					case <-time.After(100 * time.Millisecond):
					case <-ctx.Done():
					}
					return nil, &callError{key: "client: no new pairs left", msg: fmt.Sprintf("all %d pairs used: seed more accounts or principals", i)}
				}
				want := assignmentRequest{account: f.accounts[ai], permSet: psARN, principal: principals[pi]}
				start := time.Now()
				b, cerr := ssoCall(ctx, c, "CreateAccountAssignment", createAssignmentBody(f.instanceARN, want))
				if cerr != nil {
					return nil, cerr
				}
				st, err := parseAssignmentStatus(b, "AccountAssignmentCreationStatus", want)
				if err != nil {
					return nil, badBody("CreateAccountAssignment", err)
				}
				for {
					switch st.status {
					case statusSucceeded:
						return b, nil
					case statusFailed:
						return nil, &callError{key: "CreateAccountAssignment: FAILED", msg: st.reason}
					}
					if !wait {
						pending.add(st.requestID)
						return b, nil
					}
					if time.Since(start) > o.timeout {
						pending.add(st.requestID)
						return nil, &callError{key: "client: still IN_PROGRESS after --timeout", msg: st.requestID}
					}
					select {
					case <-time.After(poll):
					case <-ctx.Done():
						pending.add(st.requestID)
						return nil, &callError{key: "transport: cancelled", msg: ctx.Err().Error()}
					}
					if b, cerr = ssoCall(ctx, c, "DescribeAccountAssignmentCreationStatus", describeCreationStatusBody(f.instanceARN, st.requestID)); cerr != nil {
						return nil, cerr
					}
					if st, err = parseAssignmentStatus(b, "AccountAssignmentCreationStatus", want); err != nil {
						return nil, badBody("DescribeAccountAssignmentCreationStatus", err)
					}
				}
			})
		},
		finish: func(ctx context.Context) (string, int64) {
			return settleRequests(ctx, tgt, creds, f.instanceARN, pending.ids, pending.first, min(o.concurrency, settleWorkers))
		},
	}, nil
}

// settleRequests waits for the creation requests the calls left
// IN_PROGRESS, and says how they ended and at what rate they were done from
// the first call's answer (since): the rate of the calls alone counts work
// the server has only queued. The work is done when a list of the requests
// still IN_PROGRESS holds none of them (polled every listPoll); only then is
// each one's outcome read. Reading them one by one takes longer than the work
// itself did (11,000 requests over 8 connections: about 2.5 s), so it is not
// timed, unless the list fails or a request it left out was still
// IN_PROGRESS: then the rate runs to the last outcome read, and says so.
// What failed or never settled is counted.
func settleRequests(ctx context.Context, tgt *target, creds aws.Credentials, instanceARN string, ids []string, since time.Time, workers int) (string, int64) {
	if len(ids) == 0 {
		return "", 0
	}
	t0 := time.Now()
	ctx, cancel := context.WithTimeout(ctx, settleLimit)
	defer cancel()
	doneAt, listErr := waitNoneInProgress(ctx, newRawCaller(tgt, creds), instanceARN, ids)
	var next, succeeded, failed, unknown, late atomic.Int64
	var mu sync.Mutex
	example := ""
	note := func(s string) {
		mu.Lock()
		if example == "" {
			example = s
		}
		mu.Unlock()
	}
	var wg sync.WaitGroup
	for range workers {
		c := newRawCaller(tgt, creds)
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(ids) {
					return
				}
				st, polls, err := waitRequest(ctx, c, instanceARN, ids[i])
				if polls > 1 {
					late.Add(1)
				}
				switch {
				case err != nil:
					unknown.Add(1)
					note(err.Error())
				case st.status == statusSucceeded:
					succeeded.Add(1)
				default:
					failed.Add(1)
					note(st.reason)
				}
			}
		})
	}
	wg.Wait()
	timing := ""
	switch {
	case listErr != nil:
		doneAt, timing = time.Now(), fmt.Sprintf(" (timed to the last outcome read: the list of requests IN_PROGRESS failed: %v)", listErr)
	case late.Load() > 0:
		doneAt, timing = time.Now(), fmt.Sprintf(" (timed to the last outcome read: %d requests were still IN_PROGRESS after the list showed none)", late.Load())
	}
	s := fmt.Sprintf("%d requests left IN_PROGRESS by the calls: %d SUCCEEDED, %d FAILED, %d unsettled; all done %.2fs after the window closed",
		len(ids), succeeded.Load(), failed.Load(), unknown.Load(), doneAt.Sub(t0).Seconds())
	if span := doneAt.Sub(since).Seconds(); span > 0 {
		s += fmt.Sprintf("; done %.0f/s from the first call's answer, warm-up included", float64(succeeded.Load()+failed.Load())/span)
	}
	s += timing
	if example != "" {
		s += fmt.Sprintf(" (e.g. %q)", example)
	}
	return s, failed.Load() + unknown.Load()
}

// listPoll spaces the polls of the list of requests IN_PROGRESS: the time
// the work took is known to within it.
const listPoll = 5 * time.Millisecond

// waitNoneInProgress polls ListAccountAssignmentCreationStatus, filtered to
// IN_PROGRESS, until it holds none of ids, and says when it first did.
// Requests that are not ids (another run's) do not count.
func waitNoneInProgress(ctx context.Context, c *caller, instanceARN string, ids []string) (time.Time, error) {
	mine := make(map[string]bool, len(ids))
	for _, id := range ids {
		mine[id] = true
	}
	for {
		pending, err := anyInProgress(ctx, c, instanceARN, mine)
		if err != nil {
			return time.Time{}, err
		}
		if !pending {
			return time.Now(), nil
		}
		select {
		case <-time.After(listPoll):
		case <-ctx.Done():
			return time.Time{}, ctx.Err()
		}
	}
}

// anyInProgress pages through the requests IN_PROGRESS until one of mine.
func anyInProgress(ctx context.Context, c *caller, instanceARN string, mine map[string]bool) (bool, error) {
	for token := ""; ; {
		b, cerr := ssoCall(ctx, c, "ListAccountAssignmentCreationStatus", listInProgressBody(instanceARN, token))
		if cerr != nil {
			return false, cerr
		}
		ids, next, err := parseStatusList(b)
		if err != nil {
			return false, badBody("ListAccountAssignmentCreationStatus", err)
		}
		for _, id := range ids {
			if mine[id] {
				return true, nil
			}
		}
		if next == "" {
			return false, nil
		}
		token = next
	}
}

// waitRequest polls one creation request, backing off from 5ms to 100ms,
// until it is no longer IN_PROGRESS, and says how many reads that took.
func waitRequest(ctx context.Context, c *caller, instanceARN, id string) (*assignmentStatus, int, error) {
	delay := 5 * time.Millisecond
	for polls := 1; ; polls++ {
		b, cerr := ssoCall(ctx, c, "DescribeAccountAssignmentCreationStatus", describeCreationStatusBody(instanceARN, id))
		if cerr != nil {
			return nil, polls, cerr
		}
		st, err := parseAssignmentStatus(b, "AccountAssignmentCreationStatus", assignmentRequest{})
		if err != nil {
			return nil, polls, err
		}
		if st.requestID != id {
			return nil, polls, fmt.Errorf("RequestId %q, want %q", st.requestID, id)
		}
		if st.status != statusInProgress {
			return st, polls, nil
		}
		select {
		case <-time.After(delay):
		case <-ctx.Done():
			return nil, polls, fmt.Errorf("request %s: %w", id, ctx.Err())
		}
		delay = min(2*delay, 100*time.Millisecond)
	}
}

// --- list-account-assignments-for-principal

func prepareListForPrincipal(_ context.Context, o *options, tgt *target, creds aws.Credentials) (*prepared, error) {
	f, err := readAccessIDs(o.ids)
	if err != nil {
		return nil, err
	}
	if len(f.heavy) == 0 {
		return nil, fmt.Errorf("--ids %s: no heavy user to ask about (atrium-load seed-access --heavy-users)", o.ids)
	}
	// Who each heavy user acts as: itself and its groups.
	acts := make([]map[string]bool, len(f.heavy))
	groups, assignments := 0, 0
	for i, ui := range f.heavy {
		u := f.users[ui]
		acts[i] = map[string]bool{"USER " + u.id: true}
		for _, g := range u.groups {
			acts[i]["GROUP "+f.groups[g].id] = true
		}
		groups += len(u.groups)
		assignments += u.assignments
	}
	about := fmt.Sprintf("%s; heavy users in %.0f groups with %.0f assignments on average, %d a page",
		f, float64(groups)/float64(len(f.heavy)), float64(assignments)/float64(len(f.heavy)), assignmentsPage)
	return &prepared{
		about: about,
		newCaller: func(worker int) *caller {
			rng := workerRand(worker)
			cur, token, seen := -1, "", 0 // the user being listed, the next page, how many so far
			return accessCaller(tgt, creds, func(ctx context.Context, c *caller) ([]byte, *callError) {
				if cur < 0 {
					cur, token, seen = rng.IntN(len(f.heavy)), "", 0
				}
				u := f.users[f.heavy[cur]]
				b, cerr := ssoCall(ctx, c, "ListAccountAssignmentsForPrincipal", listForPrincipalBody(f.instanceARN, u.id, token))
				if cerr != nil {
					cur = -1
					return nil, cerr
				}
				n, next, err := checkAssignmentsPage(b, acts[cur])
				if err == nil && next == "" && seen+n != u.assignments {
					err = fmt.Errorf("%d assignments for %s over all pages, want %d", seen+n, u.name, u.assignments)
				}
				if err != nil {
					cur = -1
					return nil, badBody("ListAccountAssignmentsForPrincipal", err)
				}
				if next == "" {
					cur = -1
				}
				token, seen = next, seen+n
				return b, nil
			})
		},
	}, nil
}
