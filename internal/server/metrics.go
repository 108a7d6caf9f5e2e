package server

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/atrium-sso/atrium/internal/awsproto"
	"github.com/atrium-sso/atrium/internal/store"
)

// metrics are what /metrics exposes.
type metrics struct {
	registry *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

func newMetrics(s store.Store) *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "atrium_api_requests_total", Help: "AWS API calls by service, operation and outcome (HTTP status and error code).",
		}, []string{"service", "operation", "status", "error_code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "atrium_api_request_duration_seconds", Help: "AWS API call latency.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"service", "operation"}),
	}
	m.registry.MustRegister(m.requests, m.latency, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.registry.MustRegister(&poolCollector{store: s})
	return m
}

func (m *metrics) observe(o awsproto.Outcome) {
	m.requests.WithLabelValues(o.Service, o.Operation, awsproto.StatusText(o.Status), o.ErrorCode).Inc()
	m.latency.WithLabelValues(o.Service, o.Operation).Observe(o.Duration.Seconds())
}

// poolCollector reads the database pools at scrape time.
type poolCollector struct{ store store.Store }

var (
	poolOpen  = prometheus.NewDesc("atrium_db_connections_open", "Open database connections.", []string{"pool"}, nil)
	poolInUse = prometheus.NewDesc("atrium_db_connections_in_use", "Database connections in use.", []string{"pool"}, nil)
	poolIdle  = prometheus.NewDesc("atrium_db_connections_idle", "Idle database connections.", []string{"pool"}, nil)
	poolMax   = prometheus.NewDesc("atrium_db_connections_max", "Most connections the pool opens.", []string{"pool"}, nil)
	poolWaits = prometheus.NewDesc("atrium_db_connection_waits_total", "Times a caller waited for a connection.", []string{"pool"}, nil)
	poolWait  = prometheus.NewDesc("atrium_db_connection_wait_seconds_total", "Time spent waiting for connections.", []string{"pool"}, nil)
)

func (c *poolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{poolOpen, poolInUse, poolIdle, poolMax, poolWaits, poolWait} {
		ch <- d
	}
}

func (c *poolCollector) Collect(ch chan<- prometheus.Metric) {
	for _, p := range c.store.PoolStats() {
		ch <- prometheus.MustNewConstMetric(poolOpen, prometheus.GaugeValue, float64(p.Open), p.Name)
		ch <- prometheus.MustNewConstMetric(poolInUse, prometheus.GaugeValue, float64(p.InUse), p.Name)
		ch <- prometheus.MustNewConstMetric(poolIdle, prometheus.GaugeValue, float64(p.Idle), p.Name)
		ch <- prometheus.MustNewConstMetric(poolMax, prometheus.GaugeValue, float64(p.MaxOpenConnections), p.Name)
		ch <- prometheus.MustNewConstMetric(poolWaits, prometheus.CounterValue, float64(p.WaitCount), p.Name)
		ch <- prometheus.MustNewConstMetric(poolWait, prometheus.CounterValue, p.WaitDuration.Seconds(), p.Name)
	}
}
