package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// userHZ is the unit of utime/stime in /proc/PID/stat. Linux fixes USER_HZ
// at 100 for user space on every architecture Go supports.
const userHZ = 100

const mib = 1 << 20

// procMemory reads VmRSS and VmHWM (peak RSS) from /proc/PID/status, in bytes.
func procMemory(pid int) (rss, peak uint64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	return parseStatus(b)
}

func parseStatus(b []byte) (rss, peak uint64, err error) {
	found := 0
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), ":")
		if !ok || (name != "VmRSS" && name != "VmHWM") {
			continue
		}
		f := strings.Fields(value)
		if len(f) != 2 || f[1] != "kB" {
			return 0, 0, fmt.Errorf("/proc status: odd %s line %q", name, sc.Text())
		}
		kb, err := strconv.ParseUint(f[0], 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("/proc status: %s: %w", name, err)
		}
		if name == "VmRSS" {
			rss = kb * 1024
		} else {
			peak = kb * 1024
		}
		found++
	}
	if found != 2 {
		return 0, 0, fmt.Errorf("/proc status: no VmRSS/VmHWM (a kernel thread or a zombie?)")
	}
	return rss, peak, nil
}

// rssParts reads RssAnon (heap, stacks) and RssFile (mapped files: the
// binary and, with SQLite's mmap, the database pages) from /proc/PID/status,
// in bytes; zeros when the kernel does not report them.
func rssParts(pid int) (anon, file uint64) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0
	}
	return parseRSSParts(b)
}

func parseRSSParts(b []byte) (anon, file uint64) {
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), ":")
		if !ok || (name != "RssAnon" && name != "RssFile") {
			continue
		}
		f := strings.Fields(value)
		if len(f) != 2 || f[1] != "kB" {
			continue
		}
		kb, err := strconv.ParseUint(f[0], 10, 64)
		if err != nil {
			continue
		}
		if name == "RssAnon" {
			anon = kb * 1024
		} else {
			file = kb * 1024
		}
	}
	return anon, file
}

// procPSS is the proportional set size from /proc/PID/smaps_rollup, in
// bytes: RSS with each shared page divided among its mappings. SQLite maps
// the database once per connection, so RssFile counts the same pages once
// per connection and PSS is the closer figure for the memory used; 0 when
// the kernel has no smaps_rollup (before 4.14).
func procPSS(pid int) uint64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps_rollup", pid))
	if err != nil {
		return 0
	}
	return parsePSS(b)
}

func parsePSS(b []byte) uint64 {
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), ":")
		if !ok || name != "Pss" {
			continue
		}
		f := strings.Fields(value)
		if len(f) != 2 || f[1] != "kB" {
			return 0
		}
		kb, err := strconv.ParseUint(f[0], 10, 64)
		if err != nil {
			return 0
		}
		return kb * 1024
	}
	return 0
}

// procCPU is the user+system CPU time of process pid (all its threads) from /proc/PID/stat.
func procCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	return parseStatCPU(b)
}

func parseStatCPU(b []byte) (time.Duration, error) {
	// The command name (field 2) is in parentheses and may hold anything: start after the last ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc stat: no command field")
	}
	f := strings.Fields(string(b[i+1:]))
	// f[0] is field 3 (state); utime and stime are fields 14 and 15.
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc stat: %d fields", len(f)+2)
	}
	var ticks uint64
	for _, s := range f[11:13] {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc stat: %w", err)
		}
		ticks += n
	}
	return time.Duration(ticks) * (time.Second / userHZ), nil
}

// selfCPU is this process's user+system CPU time.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// serverSample is one reading of the server's /proc counters.
type serverSample struct {
	cpu        time.Duration
	rss, peak  uint64
	anon, file uint64 // the parts of rss
	pss        uint64
}

func sampleServer(pid int) (serverSample, error) {
	cpu, err := procCPU(pid)
	if err != nil {
		return serverSample{}, err
	}
	rss, peak, err := procMemory(pid)
	if err != nil {
		return serverSample{}, err
	}
	anon, file := rssParts(pid)
	return serverSample{cpu: cpu, rss: rss, peak: peak, anon: anon, file: file, pss: procPSS(pid)}, nil
}

// machineCPU is the whole machine's busy and steal time from /proc/stat
// (all CPUs summed): the load from other processes is what stays when the
// client's and the server's own CPU time are taken out.
type machineCPU struct {
	busy, steal time.Duration
}

func readMachineCPU() (machineCPU, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return machineCPU{}, err
	}
	return parseProcStat(b)
}

func parseProcStat(b []byte) (machineCPU, error) {
	line, _, _ := bytes.Cut(b, []byte("\n"))
	f := strings.Fields(string(line))
	if len(f) < 9 || f[0] != "cpu" {
		return machineCPU{}, fmt.Errorf("/proc/stat: odd first line %q", line)
	}
	var v [8]uint64 // user nice system idle iowait irq softirq steal
	for i := range v {
		n, err := strconv.ParseUint(f[i+1], 10, 64)
		if err != nil {
			return machineCPU{}, fmt.Errorf("/proc/stat: %w", err)
		}
		v[i] = n
	}
	tick := time.Second / userHZ
	busy := v[0] + v[1] + v[2] + v[5] + v[6] + v[7]
	return machineCPU{busy: time.Duration(busy) * tick, steal: time.Duration(v[7]) * tick}, nil
}

// loadAvg is the 1-minute load average, or -1.
func loadAvg() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return -1
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return -1
	}
	v, err := strconv.ParseFloat(f[0], 64)
	if err != nil {
		return -1
	}
	return v
}
