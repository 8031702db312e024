package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Admitted is one carrier's first hops in the memory store: the records
// held now and those dropped so far. sessions.Admitted converts to it.
type Admitted struct {
	Origin  string
	New     int    // new records held now
	Evicted uint64 // new records dropped to make room, so far
}

// admission exports, per carrier, the memory store's new conversations —
// started and not yet answered — against the cap on them, read when
// scraped.
type admission struct {
	read                 func() []Admitted
	limit                float64
	held, capped, evicts *prometheus.Desc
}

// NewSessions exports the admission control of the memory store: per
// carrier, the conversations not yet past their first screen
// (ventanilla_sessions_new), the cap on them (ventanilla_sessions_new_limit)
// and how many were dropped, oldest first, to keep within it or to make
// room in a full store (ventanilla_sessions_new_evicted_total).
func (m *Metrics) NewSessions(read func() []Admitted, limit int) {
	m.Registry.MustRegister(&admission{
		read:  read,
		limit: float64(limit),
		held: prometheus.NewDesc("ventanilla_sessions_new",
			"Records per carrier written by first hops not answered yet (conversations at their first screen; on SMS and chat, the channel each number wrote on), in the memory store.", []string{"carrier"}, nil),
		capped: prometheus.NewDesc("ventanilla_sessions_new_limit",
			"Most of those records a carrier may hold; beyond it the oldest is dropped (--new-sessions-per-carrier).", []string{"carrier"}, nil),
		evicts: prometheus.NewDesc("ventanilla_sessions_new_evicted_total",
			"Records of first hops never answered that were dropped, oldest first, to keep the carrier within its limit or to make room in a full store.", []string{"carrier"}, nil),
	})
}

func (a *admission) Describe(ch chan<- *prometheus.Desc) {
	ch <- a.held
	ch <- a.capped
	ch <- a.evicts
}

func (a *admission) Collect(ch chan<- prometheus.Metric) {
	for _, o := range a.read() {
		ch <- prometheus.MustNewConstMetric(a.held, prometheus.GaugeValue, float64(o.New), o.Origin)
		ch <- prometheus.MustNewConstMetric(a.capped, prometheus.GaugeValue, a.limit, o.Origin)
		ch <- prometheus.MustNewConstMetric(a.evicts, prometheus.CounterValue, float64(o.Evicted), o.Origin)
	}
}
