package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

const (
	maxProvisionRuns = 50
	provisionLimit   = 10 * time.Minute
)

// provisionOptions is the parsed command line of atrium-load measure-provision.
type provisionOptions struct {
	endpoint  string
	cred      credFlags
	ids       string
	runs      int
	poll      time.Duration
	timeout   time.Duration
	serverPID int
	json      bool
}

func parseProvisionFlags(args []string, stderr io.Writer) (*provisionOptions, error) {
	o := &provisionOptions{}
	fs := flag.NewFlagSet("atrium-load measure-provision", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: atrium-load measure-provision --ids FILE [flags]")
		fmt.Fprintln(stderr, "Times pushing a change of the fixture's wide permission set (provisioned to every account) to all its accounts:")
		fmt.Fprintln(stderr, "each run changes its inline policy, then measures from sending ProvisionPermissionSet ALL_PROVISIONED_ACCOUNTS")
		fmt.Fprintln(stderr, "until DescribePermissionSetProvisioningStatus first answers SUCCEEDED, and checks that no account is left outdated.")
		fs.PrintDefaults()
	}
	fs.StringVar(&o.endpoint, "endpoint", "http://127.0.0.1:8080", "base URL of the server (must resolve to a loopback address)")
	o.cred.register(fs)
	fs.StringVar(&o.ids, "ids", "", "the fixture written by atrium-load seed-access --ids (required)")
	fs.IntVar(&o.runs, "runs", 5, fmt.Sprintf("changes pushed and timed (1..%d)", maxProvisionRuns))
	fs.DurationVar(&o.poll, "poll", 5*time.Millisecond, "poll DescribePermissionSetProvisioningStatus this often")
	fs.DurationVar(&o.timeout, "timeout", 30*time.Second, "per-request timeout")
	fs.IntVar(&o.serverPID, "measure-server", 0, "PID of the server: report its CPU time (from /proc) for each push")
	fs.BoolVar(&o.json, "json", false, "print the result as JSON")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	switch {
	case o.ids == "":
		return nil, errors.New("--ids FILE is required")
	case o.runs < 1 || o.runs > maxProvisionRuns:
		return nil, fmt.Errorf("--runs must be between 1 and %d", maxProvisionRuns)
	case o.poll <= 0 || o.poll > time.Second:
		return nil, errors.New("--poll must be positive and at most 1s")
	case o.timeout <= 0 || o.timeout > time.Minute:
		return nil, errors.New("--timeout must be positive and at most 1m")
	case o.serverPID < 0:
		return nil, errors.New("--measure-server must be a process id")
	}
	return o, o.cred.validate()
}

// provisionRun is one change pushed to every account.
type provisionRun struct {
	Accounts       int     `json:"accounts"`        // provisioned before the push
	OutdatedBefore int     `json:"outdated_before"` // LATEST_PERMISSION_SET_NOT_PROVISIONED after the change
	Seconds        float64 `json:"seconds"`         // ProvisionPermissionSet sent → SUCCEEDED seen
	Polls          int     `json:"polls"`
	OutdatedAfter  int     `json:"outdated_after"`
	LoadAvg1       float64 `json:"loadavg_1m"`
	ServerCPU      float64 `json:"server_cpu_s,omitempty"`
}

type provisionResult struct {
	Endpoint      string          `json:"endpoint"`
	PermissionSet string          `json:"permission_set"`
	PollMs        float64         `json:"poll_ms"`
	Runs          []*provisionRun `json:"runs"`
	MedianSeconds float64         `json:"median_seconds"`
}

func runMeasureProvision(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	o, err := parseProvisionFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "atrium-load measure-provision:", err)
		return 2
	}
	tgt, err := newTarget(ctx, o.endpoint, net.DefaultResolver, 1, o.timeout)
	if err != nil {
		fmt.Fprintln(stderr, "atrium-load measure-provision:", err)
		return 2
	}
	defer tgt.close()
	creds, err := o.cred.load(ctx, getenv)
	if err != nil {
		fmt.Fprintln(stderr, "atrium-load measure-provision:", err)
		return 2
	}
	res, err := measureProvision(ctx, o, tgt, creds)
	if res != nil {
		if o.json {
			writeJSON(stdout, res)
		} else {
			res.print(stdout)
		}
	}
	if err != nil {
		fmt.Fprintln(stderr, "atrium-load measure-provision:", err)
		return 1
	}
	return 0
}

func measureProvision(ctx context.Context, o *provisionOptions, tgt *target, creds aws.Credentials) (*provisionResult, error) {
	f, err := readAccessIDs(o.ids)
	if err != nil {
		return nil, err
	}
	ps := f.widePermissionSet()
	if ps == nil {
		return nil, fmt.Errorf("--ids %s: no wide permission set", o.ids)
	}
	c := newRawCaller(tgt, creds)
	res := &provisionResult{Endpoint: tgt.url.String(), PermissionSet: ps.name + " " + ps.arn, PollMs: ms(o.poll)}
	for i := range o.runs {
		r := &provisionRun{}
		res.Runs = append(res.Runs, r)
		if r.Accounts, err = countProvisioned(ctx, c, f.instanceARN, ps.arn, ""); err != nil {
			return res, err
		}
		// A new statement id each run: the policy changes, so the version does.
		policy := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Sid":"AtriumLoad%sRun%d","Effect":"Allow","Action":"s3:ListAllMyBuckets","Resource":"*"}]}`,
			runNonce, i+1)
		if _, cerr := ssoCall(ctx, c, "PutInlinePolicyToPermissionSet", mustJSON(putInlinePolicyIn{InstanceArn: f.instanceARN,
			PermissionSetArn: ps.arn, InlinePolicy: policy})); cerr != nil {
			return res, cerr
		}
		if r.OutdatedBefore, err = countProvisioned(ctx, c, f.instanceARN, ps.arn, "LATEST_PERMISSION_SET_NOT_PROVISIONED"); err != nil {
			return res, err
		}
		r.LoadAvg1 = loadAvg()
		var cpu0 time.Duration
		if o.serverPID != 0 {
			if cpu0, err = procCPU(o.serverPID); err != nil {
				return res, fmt.Errorf("--measure-server %d: %w", o.serverPID, err)
			}
		}
		t0 := time.Now()
		b, cerr := ssoCall(ctx, c, "ProvisionPermissionSet", mustJSON(provisionIn{InstanceArn: f.instanceARN, PermissionSetArn: ps.arn,
			TargetType: "ALL_PROVISIONED_ACCOUNTS"}))
		if cerr != nil {
			return res, cerr
		}
		st, err := parseProvisioningStatus(b, ps.arn)
		if err != nil {
			return res, fmt.Errorf("ProvisionPermissionSet: %v", err)
		}
		for st.status == statusInProgress {
			if time.Since(t0) > provisionLimit {
				return res, fmt.Errorf("request %s still IN_PROGRESS after %s", st.requestID, provisionLimit)
			}
			select {
			case <-time.After(o.poll):
			case <-ctx.Done():
				return res, ctx.Err()
			}
			r.Polls++
			b, cerr := ssoCall(ctx, c, "DescribePermissionSetProvisioningStatus", mustJSON(provisioningStatusIn{InstanceArn: f.instanceARN,
				ProvisionPermissionSetRequestId: st.requestID}))
			if cerr != nil {
				return res, cerr
			}
			if st, err = parseProvisioningStatus(b, ps.arn); err != nil {
				return res, fmt.Errorf("DescribePermissionSetProvisioningStatus: %v", err)
			}
		}
		r.Seconds = time.Since(t0).Seconds()
		if o.serverPID != 0 {
			if cpu1, err := procCPU(o.serverPID); err == nil {
				r.ServerCPU = (cpu1 - cpu0).Seconds()
			}
		}
		if st.status == statusFailed {
			return res, fmt.Errorf("request %s FAILED: %s", st.requestID, st.reason)
		}
		if r.OutdatedAfter, err = countProvisioned(ctx, c, f.instanceARN, ps.arn, "LATEST_PERMISSION_SET_NOT_PROVISIONED"); err != nil {
			return res, err
		}
		if r.OutdatedAfter != 0 {
			return res, fmt.Errorf("run %d: SUCCEEDED, but %d accounts still have an outdated role", i+1, r.OutdatedAfter)
		}
	}
	var secs []float64
	for _, r := range res.Runs {
		secs = append(secs, r.Seconds)
	}
	res.MedianSeconds = median(secs)
	return res, nil
}

// countProvisioned counts the accounts a permission set is provisioned to,
// in the given ProvisioningStatus ("" for all).
func countProvisioned(ctx context.Context, c *caller, instanceARN, psARN, status string) (int, error) {
	n, token := 0, ""
	for {
		b, cerr := ssoCall(ctx, c, "ListAccountsForProvisionedPermissionSet", mustJSON(listProvisionedAccountsIn{InstanceArn: instanceARN,
			PermissionSetArn: psARN, ProvisioningStatus: status, MaxResults: 100, NextToken: token}))
		if cerr != nil {
			return 0, cerr
		}
		ids, next, err := parseAccountIDsPage(b)
		if err != nil {
			return 0, fmt.Errorf("ListAccountsForProvisionedPermissionSet: %v", err)
		}
		n += len(ids)
		if token = next; token == "" {
			return n, nil
		}
	}
}

func (r *provisionResult) print(w io.Writer) {
	fmt.Fprintf(w, "atrium-load measure-provision: %s at %s; ProvisionPermissionSet ALL_PROVISIONED_ACCOUNTS → SUCCEEDED, polled every %.0fms\n",
		r.PermissionSet, r.Endpoint, r.PollMs)
	for i, run := range r.Runs {
		cpu := ""
		if run.ServerCPU > 0 {
			cpu = fmt.Sprintf(", server CPU %.2fs", run.ServerCPU)
		}
		fmt.Fprintf(w, "run %-2d  %d accounts, %d outdated → %d after: %.3fs (%d polls%s; load average %.2f)\n",
			i+1, run.Accounts, run.OutdatedBefore, run.OutdatedAfter, run.Seconds, run.Polls, cpu, run.LoadAvg1)
	}
	fmt.Fprintf(w, "median  %.3fs\n", r.MedianSeconds)
}
