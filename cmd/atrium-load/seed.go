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
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// Bounds on what one seeding may create.
const (
	maxSeedUsers       = 2_000_000
	maxSeedGroups      = 1_000_000
	maxSeedMemberships = 20_000_000
)

var prefixPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,31}$`)

// seedPlan is what the two seeding commands (seed, scim-seed) share: what
// to create, how hard, and what to report.
type seedPlan struct {
	users       int
	groups      int
	memberships int
	concurrency int
	ids         string
	storeID     string
	prefix      string
	seed        uint64
	serverPID   int
	json        bool
	timeout     time.Duration
	progress    time.Duration
}

// register adds the plan's flags; storeHelp says where the identity store
// comes from when --identity-store-id is not given.
func (p *seedPlan) register(fs *flag.FlagSet, concurrency int, prefix, storeHelp string) {
	fs.StringVar(&p.storeID, "identity-store-id", "", "identity store to fill (default: "+storeHelp+")")
	fs.IntVar(&p.users, "users", 0, fmt.Sprintf("users to create (at most %d)", maxSeedUsers))
	fs.IntVar(&p.groups, "groups", 0, fmt.Sprintf("groups to create (at most %d)", maxSeedGroups))
	fs.IntVar(&p.memberships, "memberships", 0, fmt.Sprintf("user→group memberships, spread evenly over the users, each in distinct random groups (at most %d)", maxSeedMemberships))
	fs.IntVar(&p.concurrency, "concurrency", concurrency, fmt.Sprintf("concurrent clients (1..%d)", maxConcurrency))
	fs.StringVar(&p.ids, "ids", "", "write the ids of the users and groups (and who is in which) to this file, JSON lines, for --ids of the load")
	fs.StringVar(&p.prefix, "prefix", prefix, "names are PREFIX-user-0000001, PREFIX-group-000001")
	fs.Uint64Var(&p.seed, "seed", 1, "seed of the membership spread (the same seed makes the same pairs)")
	fs.IntVar(&p.serverPID, "measure-server", 0, "PID of the server: report its RSS and CPU time (from /proc) around the seeding")
	fs.BoolVar(&p.json, "json", false, "print the result as JSON")
	fs.DurationVar(&p.timeout, "timeout", 30*time.Second, "per-request timeout")
	fs.DurationVar(&p.progress, "progress", 10*time.Second, "report progress on stderr this often (0: never)")
}

func (p *seedPlan) validate() error {
	switch {
	case p.users < 0 || p.users > maxSeedUsers:
		return fmt.Errorf("--users must be between 0 and %d", maxSeedUsers)
	case p.groups < 0 || p.groups > maxSeedGroups:
		return fmt.Errorf("--groups must be between 0 and %d", maxSeedGroups)
	case p.memberships < 0 || p.memberships > maxSeedMemberships:
		return fmt.Errorf("--memberships must be between 0 and %d", maxSeedMemberships)
	case p.users+p.groups == 0:
		return errors.New("nothing to create: give --users and/or --groups")
	case p.memberships > 0 && int64(p.memberships) > int64(p.users)*int64(p.groups):
		return fmt.Errorf("--memberships %d: at most --users × --groups = %d distinct pairs", p.memberships, int64(p.users)*int64(p.groups))
	case p.concurrency < 1 || p.concurrency > maxConcurrency:
		return fmt.Errorf("--concurrency must be between 1 and %d", maxConcurrency)
	case !prefixPattern.MatchString(p.prefix):
		return fmt.Errorf("--prefix must match %s", prefixPattern)
	case p.storeID != "" && !identityStoreIDPattern.MatchString(p.storeID):
		return fmt.Errorf("--identity-store-id %q is not an identity store id (d-0123456789 or a UUID)", p.storeID)
	case p.serverPID < 0:
		return fmt.Errorf("--measure-server must be a process id")
	case p.timeout <= 0 || p.timeout > time.Minute:
		return fmt.Errorf("--timeout must be positive and at most 1m")
	case p.progress < 0:
		return fmt.Errorf("--progress must not be negative")
	}
	return nil
}

// seedMeter measures one seeding: its time, the client's and the machine's
// CPU, and the server's CPU and memory with --measure-server.
type seedMeter struct {
	pid      int
	server0  serverSample
	client0  time.Duration
	machine0 machineCPU
	load0    float64
	t0       time.Time
}

func (p *seedPlan) startMeter() (*seedMeter, error) {
	m := &seedMeter{pid: p.serverPID}
	if m.pid != 0 {
		var err error
		if m.server0, err = sampleServer(m.pid); err != nil {
			return nil, fmt.Errorf("--measure-server %d: %w", m.pid, err)
		}
	}
	m.client0 = selfCPU()
	m.machine0, _ = readMachineCPU()
	m.load0 = loadAvg()
	m.t0 = time.Now()
	return m, nil
}

// seedFigures is what a seedMeter measured.
type seedFigures struct {
	seconds   float64
	clientCPU float64
	machine   *machineStats // nil when /proc/stat cannot be read
	server    *serverStats  // nil without --measure-server
}

// stop ends the measurement; items are what the server was asked to make.
func (m *seedMeter) stop(items int64) (*seedFigures, error) {
	f := &seedFigures{seconds: time.Since(m.t0).Seconds(), clientCPU: (selfCPU() - m.client0).Seconds()}
	if machine1, err := readMachineCPU(); err == nil && m.machine0.busy > 0 {
		f.machine = &machineStats{LoadAvg1: m.load0,
			BusyCores:  (machine1.busy - m.machine0.busy).Seconds() / f.seconds,
			StealCores: (machine1.steal - m.machine0.steal).Seconds() / f.seconds}
		f.machine.OtherCores = max(0, f.machine.BusyCores-f.clientCPU/f.seconds)
	}
	if m.pid != 0 {
		s1, err := sampleServer(m.pid)
		if err != nil {
			return nil, fmt.Errorf("--measure-server %d after seeding: %w", m.pid, err)
		}
		f.server = newServerStats(m.pid, m.server0, m.server0, s1, f.seconds, items)
		if f.machine != nil {
			f.machine.OtherCores = max(0, f.machine.OtherCores-f.server.CPUCores)
		}
	}
	return f, nil
}

// saveDirectory writes what seeding made to the --ids file, if one was
// asked for, and says what it holds.
func (p *seedPlan) saveDirectory(storeID string, userIDs, groupIDs []string, pairs []pair, made []bool) (string, error) {
	if p.ids == "" {
		return "", nil
	}
	d := seededDirectory(storeID, p.prefix, userIDs, groupIDs, pairs, made)
	if err := saveIDs(p.ids, d); err != nil {
		return "", fmt.Errorf("--ids %s: %w", p.ids, err)
	}
	return d.String(), nil
}

// seedOptions is the parsed command line of atrium-load seed.
type seedOptions struct {
	endpoint string
	cred     credFlags
	seedPlan
}

func parseSeedFlags(args []string, stderr io.Writer) (*seedOptions, error) {
	o := &seedOptions{}
	fs := flag.NewFlagSet("atrium-load seed", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: atrium-load seed --users N --groups N --memberships N [--ids FILE] [flags]")
		fmt.Fprintln(stderr, "Creates users, groups and user→group memberships through the identitystore API, concurrently; reports the time and rate of each kind.")
		fs.PrintDefaults()
	}
	fs.StringVar(&o.endpoint, "endpoint", "http://127.0.0.1:8080", "base URL of the server (must resolve to a loopback address)")
	o.cred.register(fs)
	o.register(fs, 32, "load", "from sso-admin ListInstances")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if err := o.seedPlan.validate(); err != nil {
		return nil, err
	}
	return o, o.cred.validate()
}

func seedUserName(prefix string, i int) string  { return fmt.Sprintf("%s-user-%07d", prefix, i+1) }
func seedGroupName(prefix string, i int) string { return fmt.Sprintf("%s-group-%06d", prefix, i+1) }

// pair is one planned membership: indices of a user and a group.
type pair struct{ user, group int32 }

// planMemberships spreads m memberships over users users and groups groups:
// user i gets m/users of them (the first m%users users one more), each in
// distinct groups drawn at random, reproducibly from seed. The order is
// shuffled, so the creations do not go user by user.
func planMemberships(users, groups, m int, seed uint64) []pair {
	if users == 0 || groups == 0 || m == 0 {
		return nil
	}
	out := make([]pair, 0, m)
	rng := rand.New(rand.NewPCG(seed, 0x6d656d62))
	picked := map[int32]bool{}
	for u := range users {
		k := m / users
		if u < m%users {
			k++
		}
		k = min(k, groups)
		if 2*k > groups {
			for _, g := range rng.Perm(groups)[:k] {
				out = append(out, pair{int32(u), int32(g)})
			}
			continue
		}
		clear(picked)
		for len(picked) < k {
			g := int32(rng.IntN(groups))
			if !picked[g] {
				picked[g] = true
				out = append(out, pair{int32(u), g})
			}
		}
	}
	rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

// seedPhase is the outcome of creating one kind of thing.
type seedPhase struct {
	Kind           string       `json:"kind"`
	Planned        int          `json:"planned"`
	Skipped        int          `json:"skipped,omitempty"` // memberships whose user or group failed
	Created        int64        `json:"created"`
	Existing       int64        `json:"already_there"` // ConflictException: the name (or pair) exists
	Errors         int64        `json:"errors"`
	ErrorKinds     []errorCount `json:"error_kinds,omitempty"`
	ElapsedSeconds float64      `json:"elapsed_s"`
	PerSecond      float64      `json:"per_second"` // (created + already there) / elapsed
	Latency        latency      `json:"latency"`
}

// seedResult is the outcome of atrium-load seed.
type seedResult struct {
	Endpoint         string        `json:"endpoint"`
	IdentityStoreID  string        `json:"identity_store_id"`
	Concurrency      int           `json:"concurrency"`
	Phases           []*seedPhase  `json:"phases"`
	TotalSeconds     float64       `json:"total_s"`
	TotalPerSecond   float64       `json:"total_per_second"`
	Errors           int64         `json:"errors"`
	ExistingNote     string        `json:"already_there_note"`
	ClientCPUSeconds float64       `json:"client_cpu_s"`
	Server           *serverStats  `json:"server,omitempty"`
	Machine          *machineStats `json:"machine,omitempty"`
	IDsFile          string        `json:"ids_file,omitempty"`
	IDs              string        `json:"ids,omitempty"`
	Interrupted      bool          `json:"interrupted,omitempty"`
}

const existingNote = "a CreateUser/CreateGroup/CreateGroupMembership answered ConflictException (the name or the pair exists, e.g. a re-run): counted as already there, not as created; users' and groups' ids then looked up with GetUserId/GetGroupId"

type outcome int

const (
	failed outcome = iota
	created
	existing
)

// seedWorker is one worker's tally in a phase.
type seedWorker struct {
	latencies         []time.Duration
	created, existing int64
	errors            errorTally
}

// runPhase calls do for 0..n-1 on concurrency workers, each with its own
// caller, and tallies the outcomes. Nothing is retried.
func runPhase(ctx context.Context, kind string, n, concurrency int, progress *progress, mk func() *caller, do func(ctx context.Context, c *caller, i int) (outcome, *callError)) *seedPhase {
	p := &seedPhase{Kind: kind, Planned: n}
	if n == 0 {
		return p
	}
	var next, done, failures atomic.Int64
	stop := progress.start(kind, n, &done, &failures)
	defer stop()
	workers := make([]*seedWorker, min(concurrency, n))
	var wg sync.WaitGroup
	t0 := time.Now()
	for w := range workers {
		sw := &seedWorker{latencies: make([]time.Duration, 0, n/len(workers)+1)}
		workers[w] = sw
		c := mk()
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				start := time.Now()
				o, cerr := do(ctx, c, i)
				if cerr != nil && ctx.Err() != nil {
					return // interrupted: not a failure of the call
				}
				sw.latencies = append(sw.latencies, time.Since(start))
				done.Add(1)
				switch o {
				case created:
					sw.created++
				case existing:
					sw.existing++
				default:
					failures.Add(1)
					sw.errors.add(cerr, 1)
				}
			}
		})
	}
	wg.Wait()
	p.ElapsedSeconds = time.Since(t0).Seconds()
	var all []time.Duration
	var errs errorTally
	for _, sw := range workers {
		all = append(all, sw.latencies...)
		p.Created += sw.created
		p.Existing += sw.existing
		errs.merge(&sw.errors)
	}
	p.Errors, p.ErrorKinds = errs.total(), errs.list()
	p.PerSecond = float64(p.Created+p.Existing) / p.ElapsedSeconds
	p.Latency = summarize(all)
	return p
}

// progress reports a phase's progress on a writer every interval.
type progress struct {
	w        io.Writer
	interval time.Duration
}

// start reports until the returned function is called.
func (pr *progress) start(kind string, n int, done, failures *atomic.Int64) func() {
	if pr == nil || pr.interval <= 0 {
		return func() {}
	}
	quit := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(pr.interval)
		defer t.Stop()
		t0, last, lastT := time.Now(), int64(0), time.Now()
		for {
			select {
			case <-quit:
				return
			case now := <-t.C:
				d := done.Load()
				fmt.Fprintf(pr.w, "atrium-load seed: %s %d/%d after %.0fs, %.0f/s over the last %.0fs, %d errors\n",
					kind, d, n, now.Sub(t0).Seconds(), float64(d-last)/now.Sub(lastT).Seconds(), now.Sub(lastT).Seconds(), failures.Load())
				last, lastT = d, now
			}
		}
	})
	return func() { close(quit); wg.Wait() }
}

// createOrFind creates a user or group; on ConflictException it looks up
// the existing one's id by name.
func createOrFind(ctx context.Context, c *caller, storeID, kind, name string, body []byte) (string, outcome, *callError) {
	b, cerr := c.post(ctx, idsSigningName, idsTargetPrefix+"Create"+kind, body)
	if cerr == nil {
		id, err := checkCreated(b, kind+"Id")
		if err != nil {
			return "", failed, &callError{key: "Create" + kind + ": HTTP 200 bad body", msg: err.Error()}
		}
		return id, created, nil
	}
	if cerr.code != "ConflictException" {
		cerr.key = "Create" + kind + ": " + cerr.key
		return "", failed, cerr
	}
	path := "userName"
	if kind == "Group" {
		path = "displayName"
	}
	b, cerr = c.post(ctx, idsSigningName, idsTargetPrefix+"Get"+kind+"Id", mustJSON(getIDIn{IdentityStoreId: storeID,
		AlternateIdentifier: alternateIdentifier{UniqueAttribute: uniqueAttribute{AttributePath: path, AttributeValue: name}}}))
	if cerr != nil {
		cerr.key = "Get" + kind + "Id after ConflictException: " + cerr.key
		return "", failed, cerr
	}
	id, err := checkCreated(b, kind+"Id")
	if err != nil {
		return "", failed, &callError{key: "Get" + kind + "Id: HTTP 200 bad body", msg: err.Error()}
	}
	return id, existing, nil
}

func runSeed(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	o, err := parseSeedFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "atrium-load seed:", err)
		return 2
	}
	tgt, err := newTarget(ctx, o.endpoint, net.DefaultResolver, o.concurrency, o.timeout)
	if err != nil {
		fmt.Fprintln(stderr, "atrium-load seed:", err)
		return 2
	}
	defer tgt.close()
	creds, err := o.cred.load(ctx, getenv)
	if err != nil {
		fmt.Fprintln(stderr, "atrium-load seed:", err)
		return 2
	}
	res, err := seed(ctx, o, tgt, creds, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "atrium-load seed:", err)
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

func seed(ctx context.Context, o *seedOptions, tgt *target, creds aws.Credentials, stderr io.Writer) (*seedResult, error) {
	storeID := o.storeID
	if storeID == "" {
		var err error
		if storeID, err = listInstances(ctx, tgt, creds); err != nil {
			return nil, err
		}
	}
	meter, err := o.startMeter()
	if err != nil {
		return nil, err
	}
	res := &seedResult{Endpoint: tgt.url.String(), IdentityStoreID: storeID, Concurrency: o.concurrency, ExistingNote: existingNote}
	mk := func() *caller { return newRawCaller(tgt, creds) }
	pr := &progress{w: stderr, interval: o.progress}

	groupIDs := make([]string, o.groups)
	res.Phases = append(res.Phases, runPhase(ctx, "groups", o.groups, o.concurrency, pr, mk, func(ctx context.Context, c *caller, i int) (outcome, *callError) {
		name := seedGroupName(o.prefix, i)
		id, out, cerr := createOrFind(ctx, c, storeID, "Group", name, mustJSON(createGroupIn{IdentityStoreId: storeID, DisplayName: name}))
		groupIDs[i] = id
		return out, cerr
	}))
	userIDs := make([]string, o.users)
	res.Phases = append(res.Phases, runPhase(ctx, "users", o.users, o.concurrency, pr, mk, func(ctx context.Context, c *caller, i int) (outcome, *callError) {
		name := seedUserName(o.prefix, i)
		body := createUserBody(storeID, name, "Load", fmt.Sprintf("User %07d", i+1))
		id, out, cerr := createOrFind(ctx, c, storeID, "User", name, body)
		userIDs[i] = id
		return out, cerr
	}))

	// Memberships only between the users and groups that exist.
	var pairs []pair
	skipped := 0
	for _, p := range planMemberships(o.users, o.groups, o.memberships, o.seed) {
		if userIDs[p.user] == "" || groupIDs[p.group] == "" {
			skipped++
			continue
		}
		pairs = append(pairs, p)
	}
	made := make([]bool, len(pairs))
	mp := runPhase(ctx, "memberships", len(pairs), o.concurrency, pr, mk, func(ctx context.Context, c *caller, i int) (outcome, *callError) {
		p := pairs[i]
		b, cerr := c.post(ctx, idsSigningName, idsTargetPrefix+"CreateGroupMembership", mustJSON(createMembershipIn{
			IdentityStoreId: storeID, GroupId: groupIDs[p.group], MemberId: memberID{userIDs[p.user]}}))
		switch {
		case cerr == nil:
			if _, err := checkCreated(b, "MembershipId"); err != nil {
				return failed, &callError{key: "CreateGroupMembership: HTTP 200 bad body", msg: err.Error()}
			}
			made[i] = true
			return created, nil
		case cerr.code == "ConflictException":
			made[i] = true
			return existing, nil
		}
		cerr.key = "CreateGroupMembership: " + cerr.key
		return failed, cerr
	})
	mp.Planned, mp.Skipped = o.memberships, skipped
	res.Phases = append(res.Phases, mp)

	var n int64
	for _, p := range res.Phases {
		n += p.Created + p.Existing
		res.Errors += p.Errors
	}
	fig, err := meter.stop(n)
	if err != nil {
		return nil, err
	}
	res.TotalSeconds, res.ClientCPUSeconds, res.Machine, res.Server = fig.seconds, fig.clientCPU, fig.machine, fig.server
	res.TotalPerSecond = float64(n) / res.TotalSeconds
	res.Interrupted = ctx.Err() != nil
	if res.IDs, err = o.saveDirectory(storeID, userIDs, groupIDs, pairs, made); err != nil {
		return nil, err
	}
	if res.IDs != "" {
		res.IDsFile = o.ids
	}
	return res, nil
}

// seededDirectory is what seeding made: the users and groups that have an
// id, and the memberships that were made (or were there).
func seededDirectory(storeID, prefix string, userIDs, groupIDs []string, pairs []pair, made []bool) *directory {
	d := &directory{storeID: storeID}
	gIndex := make([]int32, len(groupIDs))
	for i, id := range groupIDs {
		gIndex[i] = -1
		if id != "" {
			gIndex[i] = int32(len(d.groups))
			d.groups = append(d.groups, dirGroup{id: id, name: seedGroupName(prefix, i)})
		}
	}
	uIndex := make([]int32, len(userIDs))
	for i, id := range userIDs {
		uIndex[i] = -1
		if id != "" {
			uIndex[i] = int32(len(d.users))
			d.users = append(d.users, dirUser{id: id, name: seedUserName(prefix, i)})
		}
	}
	for i, p := range pairs {
		if made[i] && uIndex[p.user] >= 0 && gIndex[p.group] >= 0 {
			u := &d.users[uIndex[p.user]]
			u.groups = append(u.groups, gIndex[p.group])
		}
	}
	d.index()
	return d
}

func (r *seedResult) print(w io.Writer) {
	fmt.Fprintf(w, "atrium-load seed: identity store %s at %s, %d workers (GOMAXPROCS %d, sharing the machine with the server)\n",
		r.IdentityStoreID, r.Endpoint, r.Concurrency, runtime.GOMAXPROCS(0))
	if r.Interrupted {
		fmt.Fprintln(w, "interrupted: partial results")
	}
	var existing int64
	for _, p := range r.Phases {
		if p.Planned == 0 {
			continue
		}
		skipped := ""
		if p.Skipped > 0 {
			skipped = fmt.Sprintf(" (%d skipped: their user or group failed)", p.Skipped)
		}
		fmt.Fprintf(w, "%-12s %7d planned%s: %d created, %d already there, %d errors in %.2fs = %.0f/s  (p50 %.2fms p99 %.2fms max %.2fms)\n",
			p.Kind, p.Planned, skipped, p.Created, p.Existing, p.Errors, p.ElapsedSeconds, p.PerSecond, p.Latency.P50, p.Latency.P99, p.Latency.Max)
		existing += p.Existing
		for _, e := range p.ErrorKinds {
			fmt.Fprintf(w, "  error      %-50s %d  (e.g. %q)\n", e.Kind, e.Count, e.Example)
		}
	}
	fmt.Fprintf(w, "total        %.2fs = %.0f/s, %d errors; client CPU %.1fs\n", r.TotalSeconds, r.TotalPerSecond, r.Errors, r.ClientCPUSeconds)
	if existing > 0 {
		fmt.Fprintf(w, "already there: %s\n", r.ExistingNote)
	}
	if s := r.Server; s != nil {
		fmt.Fprintf(w, "server       RSS %.1f MiB before, %.1f MiB after (%s), peak %.1f MiB; CPU %.1fs (%.2f cores, %.0fµs per item), pid %d\n",
			s.RSSBeforeMiB, s.RSSAfterMiB, s.rssParts(), s.PeakRSSMiB, s.CPUSeconds, s.CPUCores, s.CPUPerRequestMicros, s.PID)
	}
	if m := r.Machine; m != nil {
		who := "the client"
		if r.Server != nil {
			who = "client and server"
		}
		fmt.Fprintf(w, "machine      %.2f cores busy on average, %.2f of them not %s (steal %.2f); load average %.2f at the start\n",
			m.BusyCores, m.OtherCores, who, m.StealCores, m.LoadAvg1)
	}
	if r.IDsFile != "" {
		fmt.Fprintf(w, "ids          %s: %s\n", r.IDsFile, r.IDs)
	}
}
