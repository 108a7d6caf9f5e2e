// Command atrium-load drives a local Atrium server with concurrent, SigV4
// signed API calls and reports throughput, latency percentiles and errors.
// It also measures the server's start-to-healthy time (--measure-start).
//
// It only ever talks to loopback addresses: it is a tool for measuring a
// server on the same machine, not for loading anything else.
//
//	go run ./cmd/atrium-load --credentials DIR/bootstrap-credentials --endpoint http://127.0.0.1:8080
//	go run ./cmd/atrium-load --measure-start /tmp/atrium --data DIR --endpoint http://127.0.0.1:18080
//
// The identitystore ops (describe-user, get-user-id, is-member-in-groups,
// list-group-memberships-for-member, create-user) pick random existing users
// and groups from an ids file that the seed subcommand writes while it fills
// the directory through the API:
//
//	go run ./cmd/atrium-load seed --credentials DIR/bootstrap-credentials --users 100000 --groups 10000 --memberships 500000 --ids /tmp/ids.jsonl
//	go run ./cmd/atrium-load --credentials DIR/bootstrap-credentials --op describe-user --ids /tmp/ids.jsonl
//
// With --identity-store-id (which skips sso-admin ListInstances) and
// --access-key/--secret-key the same ops run against an emulator such as moto.
//
// The sso-admin ops (describe-permission-set, create-account-assignment,
// create-account-assignment-wait, list-account-assignments-for-principal)
// read the fixture that seed-access makes through the APIs; measure-provision
// times pushing a permission set change to every account it is in:
//
//	go run ./cmd/atrium-load seed-access --credentials DIR/bootstrap-credentials --ids /tmp/access.jsonl
//	go run ./cmd/atrium-load --credentials DIR/bootstrap-credentials --op create-account-assignment-wait --ids /tmp/access.jsonl
//	go run ./cmd/atrium-load measure-provision --credentials DIR/bootstrap-credentials --ids /tmp/access.jsonl
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// Bounds on what one invocation may do.
const (
	maxDuration    = 10 * time.Minute
	maxWarmup      = time.Minute
	maxConcurrency = 1024
	maxStartRuns   = 50
	maxRuns        = 20
)

// options is the parsed command line.
type options struct {
	endpoint    string
	cred        credFlags
	concurrency int
	duration    time.Duration
	warmup      time.Duration
	op          string
	accountID   string
	json        bool
	timeout     time.Duration
	serverPID   int
	ids         string        // identitystore and sso-admin ops: what to pick from
	storeID     string        // identitystore ops: the identity store, instead of ListInstances
	poll        time.Duration // create-account-assignment-wait: how often to ask for the status
	spread      string        // the create-account-assignment ops: how the pairs are walked
	runs        int           // measured windows, each after its own warm-up, with their medians

	measureStart string // server binary: measure start-to-healthy instead of load
	data         string // its data folder
	startRuns    int
}

var accountIDPattern = regexp.MustCompile(`^\d{12}$`)

// opNames lists the --op values.
func opNames() string {
	names := make([]string, 0, len(operations))
	for n := range operations {
		names = append(names, n)
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

// credFlags are the flags that say which key signs the requests.
type credFlags struct {
	file, profile        string
	accessKey, secretKey string
}

func (c *credFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&c.file, "credentials", "", "AWS shared-credentials file (default: env AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY)")
	fs.StringVar(&c.profile, "profile", "atrium-admin", "profile in --credentials")
	fs.StringVar(&c.accessKey, "access-key", "", "access key id, with --secret-key: for emulators such as moto that take any key (a command line is visible to other local users: keep real keys in --credentials)")
	fs.StringVar(&c.secretKey, "secret-key", "", "secret access key, with --access-key")
}

func (c *credFlags) validate() error {
	switch {
	case c.profile == "":
		return fmt.Errorf("--profile must not be empty")
	case (c.accessKey == "") != (c.secretKey == ""):
		return errors.New("--access-key and --secret-key go together")
	case c.accessKey != "" && c.file != "":
		return errors.New("--access-key/--secret-key or --credentials, not both")
	}
	return nil
}

func (c *credFlags) load(ctx context.Context, getenv func(string) string) (aws.Credentials, error) {
	if c.accessKey != "" {
		return aws.Credentials{AccessKeyID: c.accessKey, SecretAccessKey: c.secretKey}, nil
	}
	return loadCredentials(ctx, c.file, c.profile, getenv)
}

func parseFlags(args []string, stderr io.Writer) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("atrium-load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.endpoint, "endpoint", "http://127.0.0.1:8080", "Atrium base URL (must resolve to a loopback address)")
	o.cred.register(fs)
	fs.IntVar(&o.concurrency, "concurrency", 64, fmt.Sprintf("concurrent clients, each on its own keep-alive connection (1..%d)", maxConcurrency))
	fs.DurationVar(&o.duration, "duration", 10*time.Second, fmt.Sprintf("measured duration (at most %s)", maxDuration))
	fs.DurationVar(&o.warmup, "warmup", 2*time.Second, fmt.Sprintf("warm-up before measuring, not counted (at most %s)", maxWarmup))
	fs.StringVar(&o.op, "op", "describe-account", "operation: "+opNames())
	fs.StringVar(&o.ids, "ids", "", "identitystore ops: users and groups to pick from, as written by atrium-load seed --ids (default: up to 1000 users found with ListUsers); sso-admin ops (required): the fixture written by atrium-load seed-access --ids")
	fs.StringVar(&o.storeID, "identity-store-id", "", "identitystore ops: the identity store (default: from the --ids file, else sso-admin ListInstances)")
	fs.StringVar(&o.accountID, "account-id", "", "account for describe-account (default: the management account, from DescribeOrganization)")
	fs.DurationVar(&o.poll, "poll", 0, fmt.Sprintf("create-account-assignment-wait: poll DescribeAccountAssignmentCreationStatus this often (default %s)", defaultPoll))
	fs.StringVar(&o.spread, "assign-spread", "", "the create-account-assignment ops: "+spreadAccounts+" (default: each call in the next account, so the first pass provisions a role in every account) or "+spreadPrincipals+" (the next principal in the same account)")
	fs.BoolVar(&o.json, "json", false, "print the result as JSON")
	fs.DurationVar(&o.timeout, "timeout", 10*time.Second, "per-request timeout (create-account-assignment-wait: for the whole wait)")
	fs.IntVar(&o.serverPID, "measure-server", 0, "PID of the server: report its RSS and CPU time (from /proc) around the run")
	fs.IntVar(&o.runs, "runs", 1, fmt.Sprintf("windows to measure one after another, each with its warm-up, then their medians (1..%d): one window's p99 is noisy on a shared machine", maxRuns))
	fs.StringVar(&o.measureStart, "measure-start", "", "server binary: measure exec-to-healthy on the existing database in --data instead of running load")
	fs.StringVar(&o.data, "data", "", "data folder for --measure-start (bootstrapped first if it holds no database)")
	fs.IntVar(&o.startRuns, "start-runs", 5, "starts measured by --measure-start")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: atrium-load [flags]          signed load of one operation")
		fmt.Fprintln(stderr, "       atrium-load seed [flags]     fill the identity store (atrium-load seed -h)")
		fmt.Fprintln(stderr, "       atrium-load seed-access [flags]        accounts, permission sets, principals and assignments (atrium-load seed-access -h)")
		fmt.Fprintln(stderr, "       atrium-load measure-provision [flags]  time ProvisionPermissionSet to every account (atrium-load measure-provision -h)")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	return o, o.validate()
}

func (o *options) validate() error {
	switch {
	case o.concurrency < 1 || o.concurrency > maxConcurrency:
		return fmt.Errorf("--concurrency must be between 1 and %d", maxConcurrency)
	case o.duration <= 0 || o.duration > maxDuration:
		return fmt.Errorf("--duration must be positive and at most %s", maxDuration)
	case o.warmup < 0 || o.warmup > maxWarmup:
		return fmt.Errorf("--warmup must be between 0 and %s", maxWarmup)
	case o.timeout <= 0 || o.timeout > time.Minute:
		return fmt.Errorf("--timeout must be positive and at most 1m")
	case o.accountID != "" && !accountIDPattern.MatchString(o.accountID):
		return fmt.Errorf("--account-id must be 12 digits")
	case o.serverPID < 0:
		return fmt.Errorf("--measure-server must be a process id")
	case o.runs < 1 || o.runs > maxRuns:
		return fmt.Errorf("--runs must be between 1 and %d", maxRuns)
	}
	if err := o.cred.validate(); err != nil {
		return err
	}
	op, ok := operations[o.op]
	if !ok {
		return fmt.Errorf("--op %q: want one of %s", o.op, opNames())
	}
	switch {
	case op.next == nil && o.storeID != "":
		return fmt.Errorf("--identity-store-id only applies to the identitystore ops")
	case op.next == nil && op.prepare == nil && o.ids != "":
		return fmt.Errorf("--ids only applies to the identitystore and sso-admin ops")
	case op.prepare != nil && o.ids == "":
		return fmt.Errorf("--op %s needs --ids FILE, as written by atrium-load seed-access --ids", o.op)
	case o.poll < 0 || o.poll > time.Second:
		return fmt.Errorf("--poll must not be negative and at most 1s")
	case o.poll != 0 && o.op != "create-account-assignment-wait":
		return fmt.Errorf("--poll only applies to --op create-account-assignment-wait")
	case o.spread != "" && o.spread != spreadAccounts && o.spread != spreadPrincipals:
		return fmt.Errorf("--assign-spread must be %s or %s", spreadAccounts, spreadPrincipals)
	case o.spread != "" && o.op != "create-account-assignment" && o.op != "create-account-assignment-wait":
		return fmt.Errorf("--assign-spread only applies to the create-account-assignment ops")
	}
	if o.storeID != "" && !identityStoreIDPattern.MatchString(o.storeID) {
		return fmt.Errorf("--identity-store-id %q is not an identity store id (d-0123456789 or a UUID)", o.storeID)
	}
	if o.accountID != "" && o.op != "describe-account" {
		return fmt.Errorf("--account-id only applies to --op describe-account")
	}
	if o.measureStart != "" {
		if o.data == "" {
			return errors.New("--measure-start needs --data")
		}
		if o.startRuns < 1 || o.startRuns > maxStartRuns {
			return fmt.Errorf("--start-runs must be between 1 and %d", maxStartRuns)
		}
	} else if o.data != "" {
		return errors.New("--data only applies to --measure-start")
	}
	return nil
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	if len(args) > 0 {
		switch args[0] {
		case "seed":
			return runSeed(ctx, args[1:], stdout, stderr, getenv)
		case "scim-seed":
			return runScimSeed(ctx, args[1:], stdout, stderr, getenv)
		case "seed-access":
			return runSeedAccess(ctx, args[1:], stdout, stderr, getenv)
		case "measure-provision":
			return runMeasureProvision(ctx, args[1:], stdout, stderr, getenv)
		}
	}
	o, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "atrium-load:", err)
		return 2
	}
	tgt, err := newTarget(ctx, o.endpoint, net.DefaultResolver, o.concurrency, o.timeout)
	if err != nil {
		fmt.Fprintln(stderr, "atrium-load:", err)
		return 2
	}
	if o.measureStart != "" {
		res, err := measureStart(ctx, o, tgt, getenv, stderr)
		if err != nil {
			fmt.Fprintln(stderr, "atrium-load:", err)
			return 1
		}
		if o.json {
			writeJSON(stdout, res)
		} else {
			res.print(stdout)
		}
		return 0
	}

	creds, err := o.cred.load(ctx, getenv)
	if err != nil {
		fmt.Fprintln(stderr, "atrium-load:", err)
		return 2
	}
	var results []*loadResult
	failed := false
	for i := range o.runs {
		if i > 0 { // runLoad closes its target
			if tgt, err = newTarget(ctx, o.endpoint, net.DefaultResolver, o.concurrency, o.timeout); err != nil {
				fmt.Fprintln(stderr, "atrium-load:", err)
				return 1
			}
		}
		res, err := runLoad(ctx, o, tgt, creds)
		if err != nil {
			fmt.Fprintln(stderr, "atrium-load:", err)
			return 1
		}
		if !o.json {
			if o.runs > 1 {
				fmt.Fprintf(stdout, "== run %d of %d\n", i+1, o.runs)
			}
			res.print(stdout)
		}
		results = append(results, res)
		failed = failed || res.Errors > 0 || res.WarmupErrors > 0 || res.AfterErrors > 0 || res.Interrupted
		if res.Interrupted {
			break
		}
	}
	switch {
	case o.json && o.runs == 1:
		writeJSON(stdout, results[0])
	case o.json:
		writeJSON(stdout, medianOf(results))
	default:
		if o.runs > 1 {
			medianOf(results).print(stdout)
		}
	}
	if failed {
		return 1
	}
	return 0
}

func writeJSON(w io.Writer, v any) {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}
