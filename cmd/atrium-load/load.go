package main

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// workerStats is what one worker saw; merged after the run.
type workerStats struct {
	latencies  []time.Duration // measured requests, failed ones included
	errors     errorTally
	warmupReqs int64
	warmupErrs errorTally
}

// runLoad runs the load described by o against tgt and summarises it.
func runLoad(ctx context.Context, o *options, tgt *target, creds aws.Credentials) (*loadResult, error) {
	defer tgt.close()
	op := operations[o.op]
	accountID := o.accountID
	if op.needsAccount && accountID == "" {
		b, cerr := newCaller(tgt, describeOrganization, creds, "").do(ctx)
		if cerr != nil {
			return nil, fmt.Errorf("DescribeOrganization (to find the management account): %v", cerr)
		}
		accountID, _ = managementAccount(b) // checked by do
	}
	var dir *directory
	if op.next != nil {
		var err error
		if dir, err = loadDirectory(ctx, o, tgt, creds, op.needs); err != nil {
			return nil, err
		}
	}
	var prep *prepared
	if op.prepare != nil {
		var err error
		if prep, err = op.prepare(ctx, o, tgt, creds); err != nil {
			return nil, err
		}
	}
	mkCaller := func(worker int) *caller {
		if prep != nil {
			return prep.newCaller(worker)
		}
		if dir != nil {
			return newDirCaller(tgt, op, creds, dir, worker)
		}
		return newCaller(tgt, op, creds, accountID)
	}
	// One call first: a wrong key or account fails here, clearly, not 64 × N times.
	if _, cerr := mkCaller(-1).do(ctx); cerr != nil {
		return nil, fmt.Errorf("first %s call failed: %v", o.op, cerr)
	}
	var server0 serverSample
	if o.serverPID != 0 {
		var err error
		if server0, err = sampleServer(o.serverPID); err != nil {
			return nil, fmt.Errorf("--measure-server %d: %w", o.serverPID, err)
		}
	}

	begin := time.Now()
	measureFrom := begin.Add(o.warmup)
	end := measureFrom.Add(o.duration)
	stats := make([]*workerStats, o.concurrency)
	// Pre-size for a generous per-worker rate so appends rarely reallocate mid-run.
	perWorker := int(min(o.duration, 30*time.Second).Seconds()*20000)/o.concurrency + 16
	var wg sync.WaitGroup
	for i := range stats {
		ws := &workerStats{latencies: make([]time.Duration, 0, perWorker)}
		stats[i] = ws
		c := mkCaller(i)
		wg.Go(func() { work(ctx, c, measureFrom, end, ws) })
	}

	// Sample both processes' CPU when the measured window opens.
	select {
	case <-time.After(time.Until(measureFrom)):
	case <-ctx.Done():
	}
	client0 := selfCPU()
	machine0, _ := readMachineCPU()
	load1 := loadAvg()
	server1 := server0
	if o.serverPID != 0 {
		if s, err := sampleServer(o.serverPID); err == nil {
			server1 = s
		}
	}
	wg.Wait()
	done := time.Now()
	client1 := selfCPU()
	machine1, merr := readMachineCPU()

	res := &loadResult{
		Endpoint: tgt.url.String(), Op: o.op, AccountID: accountID, Concurrency: o.concurrency,
		DurationSeconds: o.duration.Seconds(), WarmupSeconds: o.warmup.Seconds(),
		ElapsedSeconds: done.Sub(measureFrom).Seconds(), Connections: tgt.dials.Load(),
		ClientGOMAXPROCS: runtime.GOMAXPROCS(0), NumCPU: runtime.NumCPU(), Interrupted: ctx.Err() != nil,
	}
	if dir != nil {
		res.Directory = dir.String()
	}
	if prep != nil {
		res.Directory = prep.about
	}
	if res.ElapsedSeconds <= 0 { // interrupted during the warm-up
		res.ElapsedSeconds = done.Sub(begin).Seconds()
	}
	var all []time.Duration
	var errs, warmErrs errorTally
	for _, ws := range stats {
		all = append(all, ws.latencies...)
		errs.merge(&ws.errors)
		warmErrs.merge(&ws.warmupErrs)
		res.WarmupRequests += ws.warmupReqs
	}
	res.Requests = int64(len(all))
	res.Errors, res.ErrorKinds = errs.total(), errs.list()
	res.WarmupErrors, res.WarmupErrorKinds = warmErrs.total(), warmErrs.list()
	res.ThroughputRPS = float64(res.Requests) / res.ElapsedSeconds
	res.SuccessRPS = float64(res.Requests-res.Errors) / res.ElapsedSeconds
	res.Latency = summarize(all)
	res.ClientCPUSeconds = (client1 - client0).Seconds()
	if res.Requests > 0 {
		res.ClientCPUPerReq = (client1 - client0).Seconds() * 1e6 / float64(res.Requests)
	}
	if merr == nil && machine0.busy > 0 {
		res.Machine = &machineStats{
			LoadAvg1:   load1,
			BusyCores:  (machine1.busy - machine0.busy).Seconds() / res.ElapsedSeconds,
			StealCores: (machine1.steal - machine0.steal).Seconds() / res.ElapsedSeconds,
		}
		res.Machine.OtherCores = max(0, res.Machine.BusyCores-res.ClientCPUSeconds/res.ElapsedSeconds)
	}
	if o.serverPID != 0 {
		s2, err := sampleServer(o.serverPID)
		if err != nil {
			return nil, fmt.Errorf("--measure-server %d after the run: %w", o.serverPID, err)
		}
		res.Server = newServerStats(o.serverPID, server0, server1, s2, res.ElapsedSeconds, res.Requests)
		if res.Machine != nil {
			res.Machine.OtherCores = max(0, res.Machine.OtherCores-res.Server.CPUCores)
		}
	}
	if prep != nil && prep.finish != nil {
		res.After, res.AfterErrors = prep.finish(ctx)
	}
	return res, nil
}

// work repeats calls until end. Calls that start before measureFrom are the
// warm-up; a call that starts before end is waited for and counted. Each
// worker measures at least one call, even when a stalled warm-up call ran
// past end: a run with no samples says nothing, and the elapsed time (taken
// when the last worker stops) keeps the rates honest.
func work(ctx context.Context, c *caller, measureFrom, end time.Time, ws *workerStats) {
	for ctx.Err() == nil {
		start := time.Now()
		if !start.Before(end) && len(ws.latencies) > 0 {
			return
		}
		_, cerr := c.do(ctx)
		d := time.Since(start)
		if start.Before(measureFrom) {
			ws.warmupReqs++
			if cerr != nil {
				ws.warmupErrs.add(cerr, 1)
			}
			backOff(ctx, cerr)
			continue
		}
		if cerr != nil && ctx.Err() != nil {
			return // interrupted: the call did not fail on its own
		}
		ws.latencies = append(ws.latencies, d)
		if cerr != nil {
			ws.errors.add(cerr, 1)
		}
		backOff(ctx, cerr)
	}
}

// backOff pauses briefly after a transport failure: when the server is gone
// or refusing connections, the workers must not spin.
func backOff(ctx context.Context, cerr *callError) {
	if cerr == nil || !strings.HasPrefix(cerr.key, "transport:") {
		return
	}
	select {
	case <-time.After(10 * time.Millisecond):
	case <-ctx.Done():
	}
}

// loadDirectory finds what an identitystore op picks from: the --ids file,
// or, without one, the identity store (--identity-store-id or sso-admin
// ListInstances) and, when the op reads users, up to discoverUsers of them.
func loadDirectory(ctx context.Context, o *options, tgt *target, creds aws.Credentials, needs dirNeed) (*directory, error) {
	var d *directory
	switch {
	case o.ids != "":
		var err error
		if d, err = readIDs(o.ids); err != nil {
			return nil, err
		}
		if o.storeID != "" && o.storeID != d.storeID {
			return nil, fmt.Errorf("--identity-store-id %s, but --ids %s is of %s", o.storeID, o.ids, d.storeID)
		}
	default:
		storeID := o.storeID
		if storeID == "" {
			var err error
			if storeID, err = listInstances(ctx, tgt, creds); err != nil {
				return nil, err
			}
		}
		if needs == needStore {
			return &directory{storeID: storeID}, nil
		}
		var err error
		if d, err = discover(ctx, tgt, creds, storeID, needs == needMembers); err != nil {
			return nil, fmt.Errorf("finding users (no --ids): %w", err)
		}
	}
	switch {
	case needs >= needUsers && len(d.users) == 0:
		return nil, fmt.Errorf("%s: no users to pick from (fill it with atrium-load seed)", d)
	case needs >= needMembers && len(d.memberOf) == 0:
		return nil, fmt.Errorf("%s: no user in a group to pick (fill it with atrium-load seed --memberships)", d)
	}
	return d, nil
}
