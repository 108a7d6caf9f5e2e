package main

import (
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strings"
	"time"
)

// percentile is the nearest-rank p-th percentile (0 < p <= 100) of sorted
// samples: the smallest sample that at least p% of the samples do not exceed.
// It is exact; 0 for no samples.
func percentile(sorted []time.Duration, p float64) time.Duration {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(n)))
	rank = min(max(rank, 1), n)
	return sorted[rank-1]
}

// latency summarises the latencies of the measured requests, in milliseconds.
type latency struct {
	P50  float64 `json:"p50_ms"`
	P90  float64 `json:"p90_ms"`
	P99  float64 `json:"p99_ms"`
	Max  float64 `json:"max_ms"`
	Mean float64 `json:"mean_ms"`
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// summarize sorts samples in place and summarises them.
func summarize(samples []time.Duration) latency {
	if len(samples) == 0 {
		return latency{}
	}
	slices.Sort(samples)
	var sum time.Duration
	for _, d := range samples {
		sum += d
	}
	return latency{
		P50:  ms(percentile(samples, 50)),
		P90:  ms(percentile(samples, 90)),
		P99:  ms(percentile(samples, 99)),
		Max:  ms(samples[len(samples)-1]),
		Mean: ms(sum / time.Duration(len(samples))),
	}
}

// median of xs (the mean of the middle two for an even count); 0 for none.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// errorCount is one kind of failure and how often it happened.
type errorCount struct {
	Kind    string `json:"kind"`
	Count   int64  `json:"count"`
	Example string `json:"example"`
}

// errorTally counts failures by kind, keeping one example message of each.
type errorTally struct {
	counts   map[string]int64
	examples map[string]string
}

func (t *errorTally) add(e *callError, n int64) {
	if t.counts == nil {
		t.counts, t.examples = map[string]int64{}, map[string]string{}
	}
	t.counts[e.key] += n
	if _, ok := t.examples[e.key]; !ok {
		t.examples[e.key] = e.msg
	}
}

func (t *errorTally) merge(o *errorTally) {
	for k, n := range o.counts {
		t.add(&callError{key: k, msg: o.examples[k]}, n)
	}
}

func (t *errorTally) total() int64 {
	var n int64
	for _, c := range t.counts {
		n += c
	}
	return n
}

// list is the tally, most frequent first.
func (t *errorTally) list() []errorCount {
	out := make([]errorCount, 0, len(t.counts))
	for k, n := range t.counts {
		out = append(out, errorCount{Kind: k, Count: n, Example: t.examples[k]})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Kind < out[j].Kind
	})
	return out
}

// serverStats is what /proc says about the server around the measured window.
type serverStats struct {
	PID                 int     `json:"pid"`
	RSSBeforeMiB        float64 `json:"rss_before_mib"`
	RSSAfterMiB         float64 `json:"rss_after_mib"`
	PeakRSSMiB          float64 `json:"peak_rss_mib"`       // VmHWM: the peak since the server started
	AnonRSSAfterMiB     float64 `json:"anon_rss_after_mib"` // RssAnon: heap and stacks
	FileRSSAfterMiB     float64 `json:"file_rss_after_mib"` // RssFile: mapped files (the binary, SQLite's mmap of the database)
	PSSAfterMiB         float64 `json:"pss_after_mib"`      // RSS with shared pages divided among their mappings
	CPUSeconds          float64 `json:"cpu_seconds"`
	CPUCores            float64 `json:"cpu_cores"`
	CPUPerRequestMicros float64 `json:"cpu_per_request_us"`
}

func (s *serverStats) rssParts() string {
	return fmt.Sprintf("anon %.1f, file-backed %.1f; PSS %.1f", s.AnonRSSAfterMiB, s.FileRSSAfterMiB, s.PSSAfterMiB)
}

// newServerStats is the server's figures from two samples over elapsed;
// requests are what it served meanwhile.
func newServerStats(pid int, before, cpuFrom, after serverSample, elapsed float64, requests int64) *serverStats {
	cpu := after.cpu - cpuFrom.cpu
	s := &serverStats{
		PID: pid, RSSBeforeMiB: float64(before.rss) / mib, RSSAfterMiB: float64(after.rss) / mib, PeakRSSMiB: float64(after.peak) / mib,
		AnonRSSAfterMiB: float64(after.anon) / mib, FileRSSAfterMiB: float64(after.file) / mib, PSSAfterMiB: float64(after.pss) / mib,
		CPUSeconds: cpu.Seconds(), CPUCores: cpu.Seconds() / elapsed,
	}
	if requests > 0 {
		s.CPUPerRequestMicros = cpu.Seconds() * 1e6 / float64(requests)
	}
	return s
}

// machineStats is the whole machine's CPU use over the measured window: how
// much of it went to other processes tells how noisy the figures are.
type machineStats struct {
	LoadAvg1   float64 `json:"loadavg_1m"`  // when the window opened
	BusyCores  float64 `json:"busy_cores"`  // all processes
	OtherCores float64 `json:"other_cores"` // busy minus this client (and the server with --measure-server)
	StealCores float64 `json:"steal_cores"` // taken by the hypervisor
}

// loadResult is the outcome of one load run.
type loadResult struct {
	Endpoint         string        `json:"endpoint"`
	Op               string        `json:"op"`
	AccountID        string        `json:"account_id,omitempty"`
	Directory        string        `json:"directory,omitempty"` // the identitystore ops: what they picked from
	Concurrency      int           `json:"concurrency"`
	DurationSeconds  float64       `json:"duration_s"`
	WarmupSeconds    float64       `json:"warmup_s"`
	ElapsedSeconds   float64       `json:"elapsed_s"` // measured window, until the last request answered
	Requests         int64         `json:"requests"`
	Errors           int64         `json:"errors"`
	ErrorKinds       []errorCount  `json:"error_kinds,omitempty"`
	WarmupRequests   int64         `json:"warmup_requests"`
	WarmupErrors     int64         `json:"warmup_errors"`
	WarmupErrorKinds []errorCount  `json:"warmup_error_kinds,omitempty"`
	ThroughputRPS    float64       `json:"throughput_rps"` // all measured requests, failed ones included
	SuccessRPS       float64       `json:"success_rps"`    // the successful ones only
	Latency          latency       `json:"latency"`
	Connections      int64         `json:"connections"` // TCP connections opened during the whole run
	ClientCPUSeconds float64       `json:"client_cpu_s"`
	ClientCPUPerReq  float64       `json:"client_cpu_per_request_us"`
	ClientGOMAXPROCS int           `json:"client_gomaxprocs"`
	NumCPU           int           `json:"num_cpu"`
	Server           *serverStats  `json:"server,omitempty"`
	Machine          *machineStats `json:"machine,omitempty"`
	After            string        `json:"after,omitempty"`        // what the op's finish saw: queued work settling
	AfterErrors      int64         `json:"after_errors,omitempty"` // of that work, what failed
	Interrupted      bool          `json:"interrupted,omitempty"`
}

func (r *loadResult) print(w io.Writer) {
	acct := ""
	if r.AccountID != "" {
		acct = " account " + r.AccountID
	}
	fmt.Fprintf(w, "atrium-load: %s%s at %s, %d workers, %.0fs measured after %.0fs warm-up\n",
		r.Op, acct, r.Endpoint, r.Concurrency, r.DurationSeconds, r.WarmupSeconds)
	if r.Interrupted {
		fmt.Fprintln(w, "interrupted: partial results")
	}
	if r.Directory != "" {
		fmt.Fprintf(w, "directory    %s\n", r.Directory)
	}
	fmt.Fprintf(w, "requests     %d in %.2fs (%d errors; warm-up %d requests, %d errors)\n", r.Requests, r.ElapsedSeconds, r.Errors, r.WarmupRequests, r.WarmupErrors)
	if r.Errors > 0 {
		fmt.Fprintf(w, "throughput   %.0f req/s, of which %.0f/s succeeded\n", r.ThroughputRPS, r.SuccessRPS)
	} else {
		fmt.Fprintf(w, "throughput   %.0f req/s\n", r.ThroughputRPS)
	}
	l := r.Latency
	fmt.Fprintf(w, "latency      p50 %.2fms  p90 %.2fms  p99 %.2fms  max %.2fms  mean %.2fms\n", l.P50, l.P90, l.P99, l.Max, l.Mean)
	fmt.Fprintf(w, "connections  %d opened\n", r.Connections)
	fmt.Fprintf(w, "client CPU   %.2fs (%.2f cores, %.0fµs/request; GOMAXPROCS %d of %d CPUs, shared with the server)\n",
		r.ClientCPUSeconds, r.ClientCPUSeconds/r.ElapsedSeconds, r.ClientCPUPerReq, r.ClientGOMAXPROCS, r.NumCPU)
	if s := r.Server; s != nil {
		fmt.Fprintf(w, "server CPU   %.2fs (%.2f cores, %.0fµs/request), pid %d\n", s.CPUSeconds, s.CPUCores, s.CPUPerRequestMicros, s.PID)
		fmt.Fprintf(w, "server RSS   %.1f MiB before, %.1f MiB after (%s), peak %.1f MiB\n", s.RSSBeforeMiB, s.RSSAfterMiB, s.rssParts(), s.PeakRSSMiB)
	}
	if m := r.Machine; m != nil {
		who := "the client"
		if r.Server != nil {
			who = "client and server"
		}
		fmt.Fprintf(w, "machine      %.2f of %d cores busy, %.2f of them not %s (steal %.2f); load average %.2f\n",
			m.BusyCores, r.NumCPU, m.OtherCores, who, m.StealCores, m.LoadAvg1)
	}
	if r.After != "" {
		fmt.Fprintf(w, "after        %s\n", r.After)
	}
	for _, e := range r.ErrorKinds {
		fmt.Fprintf(w, "error        %-40s %d  (e.g. %q)\n", e.Kind, e.Count, e.Example)
	}
	for _, e := range r.WarmupErrorKinds {
		fmt.Fprintf(w, "warm-up err  %-40s %d  (e.g. %q)\n", e.Kind, e.Count, e.Example)
	}
}

// runsResult is several measured windows of one load and their medians.
type runsResult struct {
	Runs []*loadResult `json:"runs"`
	// Medians over the runs, each figure on its own.
	MedianThroughputRPS float64 `json:"median_throughput_rps"`
	MedianP50           float64 `json:"median_p50_ms"`
	MedianP99           float64 `json:"median_p99_ms"`
}

func medianOf(runs []*loadResult) *runsResult {
	med := func(f func(*loadResult) float64) float64 {
		v := make([]float64, len(runs))
		for i, r := range runs {
			v[i] = f(r)
		}
		return median(v)
	}
	return &runsResult{Runs: runs,
		MedianThroughputRPS: med(func(r *loadResult) float64 { return r.ThroughputRPS }),
		MedianP50:           med(func(r *loadResult) float64 { return r.Latency.P50 }),
		MedianP99:           med(func(r *loadResult) float64 { return r.Latency.P99 }),
	}
}

func (r *runsResult) print(w io.Writer) {
	p99 := make([]string, len(r.Runs))
	for i, run := range r.Runs {
		p99[i] = fmt.Sprintf("%.2f", run.Latency.P99)
	}
	fmt.Fprintf(w, "== median of %d runs: throughput %.0f req/s, p50 %.2fms, p99 %.2fms (p99 of each run: %s ms)\n",
		len(r.Runs), r.MedianThroughputRPS, r.MedianP50, r.MedianP99, strings.Join(p99, ", "))
}
