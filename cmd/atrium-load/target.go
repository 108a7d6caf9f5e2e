package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"sync/atomic"
	"time"
)

// resolver is the part of *net.Resolver the loopback check uses.
type resolver interface {
	LookupIPAddr(ctx context.Context, host string) ([]net.IPAddr, error)
}

// checkEndpoint parses an endpoint URL and insists that its host is, or
// resolves only to, loopback addresses. It returns the URL and those
// addresses; connections are later pinned to them, so a name that resolves
// differently later cannot redirect the load elsewhere.
func checkEndpoint(ctx context.Context, raw string, r resolver) (*url.URL, []net.IP, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, nil, fmt.Errorf("--endpoint: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, nil, fmt.Errorf("--endpoint %q: scheme must be http or https", raw)
	}
	if u.Opaque != "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" || (u.Path != "" && u.Path != "/") {
		return nil, nil, fmt.Errorf("--endpoint %q: want scheme://host[:port] only", raw)
	}
	host := u.Hostname()
	if host == "" {
		return nil, nil, fmt.Errorf("--endpoint %q: no host", raw)
	}
	if p := u.Port(); p != "" {
		if n, err := net.LookupPort("tcp", p); err != nil || n == 0 {
			return nil, nil, fmt.Errorf("--endpoint %q: bad port", raw)
		}
	}
	var ips []net.IP
	if ip := net.ParseIP(host); ip != nil {
		ips = []net.IP{ip}
	} else {
		if r == nil {
			return nil, nil, errors.New("no resolver")
		}
		addrs, err := r.LookupIPAddr(ctx, host)
		if err != nil {
			return nil, nil, fmt.Errorf("--endpoint %q: %w", raw, err)
		}
		for _, a := range addrs {
			ips = append(ips, a.IP)
		}
	}
	if len(ips) == 0 {
		return nil, nil, fmt.Errorf("--endpoint %q: %s resolves to no address", raw, host)
	}
	for _, ip := range ips {
		if !ip.IsLoopback() {
			return nil, nil, fmt.Errorf("--endpoint %q: %s is not a loopback address; atrium-load only loads this machine", raw, ip)
		}
	}
	u.Path = ""
	return u, ips, nil
}

// port is the endpoint's port, explicit or the scheme's default.
func port(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	if u.Scheme == "https" {
		return "443"
	}
	return "80"
}

// target is a checked endpoint and the HTTP client that talks to it.
type target struct {
	url    *url.URL
	ips    []net.IP
	client *http.Client
	dials  atomic.Int64 // TCP connections opened; with keep-alive ≈ concurrency
}

func newTarget(ctx context.Context, endpoint string, r resolver, concurrency int, timeout time.Duration) (*target, error) {
	u, ips, err := checkEndpoint(ctx, endpoint, r)
	if err != nil {
		return nil, err
	}
	t := &target{url: u, ips: ips}
	dialer := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	p := port(u)
	tr := &http.Transport{
		Proxy: nil, // never through a proxy: the load must stay on this machine
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			var last error
			for _, ip := range t.ips {
				c, err := dialer.DialContext(ctx, network, net.JoinHostPort(ip.String(), p))
				if err != nil {
					last = err
					continue
				}
				if a, ok := c.RemoteAddr().(*net.TCPAddr); !ok || !a.IP.IsLoopback() {
					c.Close()
					return nil, fmt.Errorf("refusing non-loopback peer %v", c.RemoteAddr())
				}
				t.dials.Add(1)
				return c, nil
			}
			return nil, last
		},
		MaxIdleConns:          concurrency,
		MaxIdleConnsPerHost:   concurrency,
		MaxConnsPerHost:       concurrency,
		IdleConnTimeout:       90 * time.Second,
		DisableCompression:    true,
		ForceAttemptHTTP2:     false,
		ResponseHeaderTimeout: timeout,
		TLSHandshakeTimeout:   5 * time.Second,
	}
	t.client = &http.Client{
		Transport: tr,
		Timeout:   timeout,
		// A redirect could point anywhere: never follow one.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return t, nil
}

// listenAddr is the host:port a server under test should listen on.
func (t *target) listenAddr() string {
	return net.JoinHostPort(t.url.Hostname(), port(t.url))
}

func (t *target) close() {
	t.client.CloseIdleConnections()
}
