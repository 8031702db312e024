// Package metrics exposes the gateway's Prometheus metrics, every name
// prefixed ventanilla_. It listens to the gateway, the engine and the
// back-end client through their small Observer interfaces, so none of them
// imports Prometheus; it imports none of them either (a leaf), and its
// tests check that it satisfies their interfaces.
package metrics

import (
	"net/http"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics holds the collectors and the registry they are served from.
type Metrics struct {
	Registry *prometheus.Registry

	hops        *prometheus.CounterVec
	hopSeconds  *prometheus.HistogramVec
	funnel      *prometheus.CounterVec
	calls       *prometheus.CounterVec
	callSeconds *prometheus.HistogramVec
	breaker     *prometheus.GaugeVec
	stores      *prometheus.GaugeVec
	notices     *prometheus.CounterVec
	callbacks   *prometheus.CounterVec

	owners atomic.Pointer[Owners]
}

// Unowned is the institution label of a flow or service no loaded
// package declares (flows given with --flows, a hop before any flow).
const Unowned = "none"

// Owners maps the flows and the back-end services of the loaded packages
// to their institution. The institution label comes from here only: a
// flow or service id that is not a key (whatever a request carried) is
// counted under Unowned, so the label's values are the loaded
// institutions' ids and nothing else.
type Owners struct {
	Flows    map[string]string // flow id → institution
	Services map[string]string // service id → institution
	// Institutions are the loaded packages' ids (those without flows or
	// services included).
	Institutions []string

	known map[string]bool
}

// SetOwners puts the owners of a loaded set in use (at start and on each
// reload). The maps must not change afterwards.
func (m *Metrics) SetOwners(o Owners) {
	o.known = map[string]bool{}
	for _, inst := range o.Flows {
		o.known[inst] = true
	}
	for _, inst := range o.Services {
		o.known[inst] = true
	}
	for _, inst := range o.Institutions {
		o.known[inst] = true
	}
	m.owners.Store(&o)
}

func (m *Metrics) flowOwner(flow string) string {
	if o := m.owners.Load(); o != nil {
		if inst, ok := o.Flows[flow]; ok && inst != "" {
			return inst
		}
	}
	return Unowned
}

func (m *Metrics) serviceOwner(service string) string {
	if o := m.owners.Load(); o != nil {
		if inst, ok := o.Services[service]; ok && inst != "" {
			return inst
		}
	}
	return Unowned
}

// hopBuckets are sized for a hop on a carrier's clock: most well under a
// millisecond, back-end calls in the tens or hundreds of milliseconds,
// anything near the budget (seconds) is trouble.
var hopBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// New registers the collectors in a fresh registry, with the Go runtime's
// and the process's own.
func New() *Metrics {
	m := &Metrics{Registry: prometheus.NewRegistry()}
	m.hops = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ventanilla_hops_total",
		Help: "Hops served, by carrier, institution, flow and outcome (continue, end, retry, resume, closed, failure, budget, unavailable).",
	}, []string{"carrier", "institution", "flow", "outcome"})
	m.hopSeconds = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "ventanilla_hop_duration_seconds",
		Help:    "Time to answer a hop, from the carrier's request to the reply, by carrier and institution.",
		Buckets: hopBuckets,
	}, []string{"carrier", "institution"})
	m.funnel = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ventanilla_flow_steps_total",
		Help: "The per-step funnel of each flow, by institution: how often a step was reached, completed, or where a conversation was abandoned.",
	}, []string{"institution", "flow", "step", "event"})
	m.calls = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ventanilla_backend_calls_total",
		Help: "Calls to institutions' back-end services, by institution (the service's owner), service and outcome.",
	}, []string{"institution", "service", "outcome"})
	m.callSeconds = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "ventanilla_backend_call_duration_seconds",
		Help:    "Duration of back-end calls, by institution and service.",
		Buckets: hopBuckets,
	}, []string{"institution", "service"})
	m.breaker = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "ventanilla_backend_breaker_state",
		Help: "Circuit breaker state per service (with its institution): 0 closed, 1 half-open, 2 open.",
	}, []string{"institution", "service"})
	m.stores = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "ventanilla_store_breaker_state",
		Help: "Circuit breaker state per store (sessions, outbound queue): 0 closed, 1 half-open, 2 open. Open: hops answer \"service unavailable\" at once.",
	}, []string{"store"})
	m.notices = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ventanilla_notifications_total",
		Help: "Requests to send a notification, by institution (whose token asked) and outcome (accepted, refused, unauthorized, unavailable).",
	}, []string{"institution", "outcome"})
	m.callbacks = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "ventanilla_callbacks_total",
		Help: "Callbacks to institutions (delivery receipts, replies), by institution and outcome: attempted (each attempt), delivered (answered 2xx), failed (given up).",
	}, []string{"institution", "outcome"})
	m.Registry.MustRegister(m.hops, m.hopSeconds, m.funnel, m.calls, m.callSeconds, m.breaker, m.stores, m.notices, m.callbacks,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{Registry: m.Registry})
}

// Gauge registers a gauge read when scraped: active sessions, queue depth.
func (m *Metrics) Gauge(name, help string, read func() float64) {
	m.Registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "ventanilla_" + name, Help: help}, read))
}

// Hop implements gateway.Observer.
func (m *Metrics) Hop(carrier, flow, outcome string, d time.Duration) {
	inst := m.flowOwner(flow)
	m.hops.WithLabelValues(carrier, inst, flow, outcome).Inc()
	m.hopSeconds.WithLabelValues(carrier, inst).Observe(d.Seconds())
}

// Abandoned implements gateway.Observer.
func (m *Metrics) Abandoned(flow, step string) {
	m.funnel.WithLabelValues(m.flowOwner(flow), flow, step, "abandoned").Inc()
}

// StepReached implements flows.Observer.
func (m *Metrics) StepReached(flow, step string) {
	m.funnel.WithLabelValues(m.flowOwner(flow), flow, step, "reached").Inc()
}

// StepCompleted implements flows.Observer.
func (m *Metrics) StepCompleted(flow, step string) {
	m.funnel.WithLabelValues(m.flowOwner(flow), flow, step, "completed").Inc()
}

// Notification implements notify.Observer. The institution is the one
// whose token asked; an id no loaded package has counts as Unowned.
func (m *Metrics) Notification(institution, outcome string) {
	inst := Unowned
	if o := m.owners.Load(); o != nil && o.known[institution] {
		inst = institution
	}
	m.notices.WithLabelValues(inst, outcome).Inc()
}

// Callback implements callbacks.Observer. The institution comes from
// the loaded packages' manifests; one no loaded package has counts as
// Unowned.
func (m *Metrics) Callback(institution, outcome string) {
	inst := Unowned
	if o := m.owners.Load(); o != nil && o.known[institution] {
		inst = institution
	}
	m.callbacks.WithLabelValues(inst, outcome).Inc()
}

// Call records one back-end call.
func (m *Metrics) Call(service, outcome string, d time.Duration) {
	inst := m.serviceOwner(service)
	m.calls.WithLabelValues(inst, service, outcome).Inc()
	m.callSeconds.WithLabelValues(inst, service).Observe(d.Seconds())
}

// Breaker records a service's circuit breaker state (0 closed, 1
// half-open, 2 open).
func (m *Metrics) Breaker(service string, state int) {
	m.breaker.WithLabelValues(m.serviceOwner(service), service).Set(float64(state))
}

// StoreBreaker records a store's circuit breaker state (0 closed, 1
// half-open, 2 open).
func (m *Metrics) StoreBreaker(store string, state int) {
	m.stores.WithLabelValues(store).Set(float64(state))
}
