package main

// atrium-load scim-seed pushes users, groups and memberships through SCIM
// 2.0, as an identity provider would, with concurrent clients:
//
//	go run ./cmd/atrium-load scim-seed --token-file TOKEN --users 10000 --groups 1000 --memberships 50000 --concurrency 8 --json
//
// The token is a SCIM bearer token (`atrium scim token create`), read from
// --token-file or ATRIUM_SCIM_TOKEN, never the command line. Memberships
// go as group PATCHes adding up to --batch members each, which is how Okta
// and Entra ID push them. It shares the identitystore seed's plan
// (planMemberships), names, phase runner and --ids file: a directory built
// this way (into the built-in directory, with a token of it) is loaded with
// the same directory ops as one built by seed, many times faster.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
)

type scimSeedOptions struct {
	endpoint  string
	tokenFile string
	batch     int
	seedPlan
}

func parseScimSeedFlags(args []string, stderr io.Writer) (*scimSeedOptions, error) {
	o := &scimSeedOptions{}
	fs := flag.NewFlagSet("atrium-load scim-seed", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: atrium-load scim-seed --users N --groups N --memberships N [--token-file FILE] [flags]")
		fmt.Fprintln(stderr, "Creates users, groups and memberships through SCIM 2.0 (/scim/v2), concurrently; reports the time and rate of each kind.")
		fs.PrintDefaults()
	}
	fs.StringVar(&o.endpoint, "endpoint", "http://127.0.0.1:8080", "base URL of the server (must resolve to a loopback address)")
	fs.StringVar(&o.tokenFile, "token-file", "", "file holding the SCIM bearer token (default: env ATRIUM_SCIM_TOKEN)")
	fs.IntVar(&o.batch, "batch", 100, "members added per group PATCH (1..1000; AWS takes at most 100)")
	o.register(fs, 8, "scim", "read from the users' ids, which begin with its hex digits; for --ids")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if err := o.seedPlan.validate(); err != nil {
		return nil, err
	}
	if o.batch < 1 || o.batch > 1000 {
		return nil, errors.New("--batch must be between 1 and 1000")
	}
	return o, nil
}

func (o *scimSeedOptions) token(getenv func(string) string) (string, error) {
	if o.tokenFile == "" {
		if t := strings.TrimSpace(getenv("ATRIUM_SCIM_TOKEN")); t != "" {
			return t, nil
		}
		return "", errors.New("give the SCIM token in --token-file or ATRIUM_SCIM_TOKEN")
	}
	b, err := os.ReadFile(o.tokenFile)
	if err != nil {
		return "", fmt.Errorf("--token-file: %w", err)
	}
	// `atrium scim token create > FILE` prints the token as its last line.
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return strings.TrimSpace(lines[len(lines)-1]), nil
}

// scimSeedResult is the outcome of atrium-load scim-seed.
type scimSeedResult struct {
	Endpoint             string        `json:"endpoint"`
	Concurrency          int           `json:"concurrency"`
	Batch                int           `json:"members_per_patch"`
	Phases               []*seedPhase  `json:"phases"`
	Memberships          int           `json:"memberships"`
	MembershipsPerSecond float64       `json:"memberships_per_second"`
	TotalSeconds         float64       `json:"total_s"`
	Errors               int64         `json:"errors"`
	ClientCPUSeconds     float64       `json:"client_cpu_s"`
	Server               *serverStats  `json:"server,omitempty"`
	Machine              *machineStats `json:"machine,omitempty"`
	IDsFile              string        `json:"ids_file,omitempty"`
	IDs                  string        `json:"ids,omitempty"`
	Interrupted          bool          `json:"interrupted,omitempty"`
}

func runScimSeed(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	o, err := parseScimSeedFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "atrium-load scim-seed:", err)
		return 2
	}
	token, err := o.token(getenv)
	if err != nil {
		fmt.Fprintln(stderr, "atrium-load scim-seed:", err)
		return 2
	}
	tgt, err := newTarget(ctx, o.endpoint, net.DefaultResolver, o.concurrency, o.timeout)
	if err != nil {
		fmt.Fprintln(stderr, "atrium-load scim-seed:", err)
		return 2
	}
	defer tgt.close()
	res, err := scimSeed(ctx, o, tgt, token, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "atrium-load scim-seed:", err)
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

// scimCall sends one SCIM request with the bearer token; a 2xx answer's
// body is returned, anything else is a callError keyed by status and scimType.
func (c *caller) scimCall(ctx context.Context, token, method, path string, body any) ([]byte, *callError) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, &callError{key: "client: request", msg: err.Error()}
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.tgt.url.String()+"/scim/v2"+path, rd)
	if err != nil {
		return nil, &callError{key: "client: request", msg: err.Error()}
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/scim+json")
	req.Header.Set("User-Agent", userAgent)
	resp, err := c.tgt.client.Do(req)
	if err != nil {
		return nil, &callError{key: transportKey(err), msg: err.Error()}
	}
	c.buf.Reset()
	_, err = io.Copy(&c.buf, io.LimitReader(resp.Body, maxResponse+1))
	resp.Body.Close()
	if err != nil {
		return nil, &callError{key: "transport: reading the body", msg: err.Error()}
	}
	if resp.StatusCode/100 == 2 {
		return c.buf.Bytes(), nil
	}
	var e struct{ ScimType, Detail string }
	json.Unmarshal(c.buf.Bytes(), &e)
	return nil, &callError{key: fmt.Sprintf("%s %s: HTTP %d %s", method, strings.SplitN(path, "/", 3)[1], resp.StatusCode, e.ScimType), msg: e.Detail, code: e.ScimType}
}

// scimCreate creates a resource; if it exists (409 uniqueness) it finds its id by filter.
func scimCreate(ctx context.Context, c *caller, token, endpoint, attr, name string, body map[string]any) (string, outcome, *callError) {
	b, cerr := c.scimCall(ctx, token, http.MethodPost, endpoint, body)
	var out struct {
		ID        string `json:"id"`
		Resources []struct {
			ID string `json:"id"`
		}
	}
	if cerr == nil {
		if json.Unmarshal(b, &out) != nil || out.ID == "" {
			return "", failed, &callError{key: "POST " + endpoint + ": bad body", msg: string(b)}
		}
		return out.ID, created, nil
	}
	if cerr.code != "uniqueness" {
		return "", failed, cerr
	}
	b, cerr = c.scimCall(ctx, token, http.MethodGet, endpoint+"?filter="+url.QueryEscape(attr+` eq "`+name+`"`), nil)
	if cerr != nil {
		return "", failed, cerr
	}
	if json.Unmarshal(b, &out) != nil || len(out.Resources) != 1 {
		return "", failed, &callError{key: "GET " + endpoint + " after 409: bad body", msg: string(b)}
	}
	return out.Resources[0].ID, existing, nil
}

func scimSeed(ctx context.Context, o *scimSeedOptions, tgt *target, token string, stderr io.Writer) (*scimSeedResult, error) {
	res := &scimSeedResult{Endpoint: tgt.url.String(), Concurrency: o.concurrency, Batch: o.batch}
	mk := func() *caller { return newRawCaller(tgt, aws.Credentials{}) }
	pr := &progress{w: stderr, interval: o.progress}
	meter, err := o.startMeter()
	if err != nil {
		return nil, err
	}

	groupIDs := make([]string, o.groups)
	res.Phases = append(res.Phases, runPhase(ctx, "groups", o.groups, o.concurrency, pr, mk, func(ctx context.Context, c *caller, i int) (outcome, *callError) {
		name := seedGroupName(o.prefix, i)
		id, out, cerr := scimCreate(ctx, c, token, "/Groups", "displayName", name, map[string]any{
			"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:Group"}, "displayName": name, "externalId": "ext-" + name})
		groupIDs[i] = id
		return out, cerr
	}))
	userIDs := make([]string, o.users)
	res.Phases = append(res.Phases, runPhase(ctx, "users", o.users, o.concurrency, pr, mk, func(ctx context.Context, c *caller, i int) (outcome, *callError) {
		name := seedUserName(o.prefix, i)
		id, out, cerr := scimCreate(ctx, c, token, "/Users", "userName", name, map[string]any{
			"schemas":  []string{"urn:ietf:params:scim:schemas:core:2.0:User"},
			"userName": name, "externalId": "ext-" + name, "displayName": fmt.Sprintf("Load User %07d", i+1), "active": true,
			"name":   map[string]any{"givenName": "Load", "familyName": fmt.Sprintf("User %07d", i+1)},
			"emails": []any{map[string]any{"value": name + "@example.com", "type": "work", "primary": true}},
		})
		userIDs[i] = id
		return out, cerr
	}))

	// The identitystore seed's plan, as group PATCHes of up to batch members
	// (by their index in the plan).
	pairs := planMemberships(o.users, o.groups, o.memberships, o.seed)
	made := make([]bool, len(pairs))
	byGroup := make([][]int, o.groups)
	for i, p := range pairs {
		if userIDs[p.user] != "" && groupIDs[p.group] != "" {
			byGroup[p.group] = append(byGroup[p.group], i)
			res.Memberships++
		}
	}
	type patchBatch struct {
		group int
		pairs []int
	}
	var batches []patchBatch
	for g, members := range byGroup {
		for len(members) > 0 {
			n := min(o.batch, len(members))
			batches = append(batches, patchBatch{g, members[:n]})
			members = members[n:]
		}
	}
	mp := runPhase(ctx, "membership PATCHes", len(batches), o.concurrency, pr, mk, func(ctx context.Context, c *caller, i int) (outcome, *callError) {
		b := batches[i]
		values := make([]any, len(b.pairs))
		for j, p := range b.pairs {
			values[j] = map[string]any{"value": userIDs[pairs[p].user]}
		}
		_, cerr := c.scimCall(ctx, token, http.MethodPatch, "/Groups/"+groupIDs[b.group], map[string]any{
			"schemas":    []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"},
			"Operations": []any{map[string]any{"op": "add", "path": "members", "value": values}}})
		if cerr != nil {
			return failed, cerr
		}
		for _, p := range b.pairs {
			made[p] = true
		}
		return created, nil
	})
	res.Phases = append(res.Phases, mp)
	if mp.ElapsedSeconds > 0 {
		res.MembershipsPerSecond = float64(res.Memberships) / mp.ElapsedSeconds
	}

	var items int64
	for _, p := range res.Phases {
		res.Errors += p.Errors
		items += int64(p.Planned)
	}
	fig, err := meter.stop(items)
	if err != nil {
		return nil, err
	}
	res.TotalSeconds, res.ClientCPUSeconds, res.Machine, res.Server = fig.seconds, fig.clientCPU, fig.machine, fig.server
	res.Interrupted = ctx.Err() != nil
	storeID := o.storeID
	if storeID == "" && o.ids != "" {
		if storeID = storeOfIDs(userIDs); storeID == "" {
			return nil, errors.New("--ids: no identity store: give --identity-store-id (the users' ids do not begin with its hex digits)")
		}
	}
	if res.IDs, err = o.saveDirectory(storeID, userIDs, groupIDs, pairs, made); err != nil {
		return nil, err
	}
	if res.IDs != "" {
		res.IDsFile = o.ids
	}
	return res, nil
}

// storeOfIDs is the identity store of directory ids of the form
// <10 hex>-<uuid>, which carry its d-<10 hex> id; "" when they don't agree
// on one or are not of that form.
func storeOfIDs(ids []string) string {
	store := ""
	for _, id := range ids {
		if id == "" {
			continue
		}
		prefix, rest, ok := strings.Cut(id, "-")
		if !ok || len(prefix) != 10 || len(rest) != 36 || strings.Trim(prefix, "0123456789abcdef") != "" || (store != "" && store != "d-"+prefix) {
			return ""
		}
		store = "d-" + prefix
	}
	return store
}

func (r *scimSeedResult) print(w io.Writer) {
	fmt.Fprintf(w, "atrium-load scim-seed: %s, %d clients, %d members per PATCH (GOMAXPROCS %d)\n", r.Endpoint, r.Concurrency, r.Batch, runtime.GOMAXPROCS(0))
	if r.Interrupted {
		fmt.Fprintln(w, "interrupted: partial results")
	}
	for _, p := range r.Phases {
		if p.Planned == 0 {
			continue
		}
		fmt.Fprintf(w, "%-19s %7d planned: %d created, %d already there, %d errors in %.2fs = %.0f/s  (p50 %.2fms p99 %.2fms)\n",
			p.Kind, p.Planned, p.Created, p.Existing, p.Errors, p.ElapsedSeconds, p.PerSecond, p.Latency.P50, p.Latency.P99)
		for _, e := range p.ErrorKinds {
			fmt.Fprintf(w, "  error             %-50s %d  (e.g. %q)\n", e.Kind, e.Count, e.Example)
		}
	}
	fmt.Fprintf(w, "memberships         %d = %.0f/s\n", r.Memberships, r.MembershipsPerSecond)
	fmt.Fprintf(w, "total               %.2fs, %d errors; client CPU %.1fs\n", r.TotalSeconds, r.Errors, r.ClientCPUSeconds)
	if s := r.Server; s != nil {
		fmt.Fprintf(w, "server              RSS %.1f MiB before, %.1f MiB after (%s), peak %.1f MiB; CPU %.1fs (%.2f cores, %.0fµs per request), pid %d\n",
			s.RSSBeforeMiB, s.RSSAfterMiB, s.rssParts(), s.PeakRSSMiB, s.CPUSeconds, s.CPUCores, s.CPUPerRequestMicros, s.PID)
	}
	if m := r.Machine; m != nil {
		fmt.Fprintf(w, "machine             %.2f cores busy on average, %.2f of them not client or server (steal %.2f); load average %.2f at the start\n",
			m.BusyCores, m.OtherCores, m.StealCores, m.LoadAvg1)
	}
	if r.IDsFile != "" {
		fmt.Fprintf(w, "ids                 %s: %s\n", r.IDsFile, r.IDs)
	}
}
