package metrics

import (
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ventanilla-gob/ventanilla/internal/indicators"
)

var metricName = regexp.MustCompile(`ventanilla_[a-z_]+`)

// The Grafana dashboard shipped in docs/ is valid JSON and queries only
// metrics the gateway exports (the outbound queue's own gauge included).
func TestDashboardQueriesExportedMetrics(t *testing.T) {
	data, err := os.ReadFile("../../docs/grafana-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Templating struct {
			List []struct{ Name, Query string }
		}
		Panels []struct {
			Title   string
			Targets []struct{ Expr string }
		}
	}
	if err := json.Unmarshal(data, &dash); err != nil {
		t.Fatal(err)
	}
	m := New()
	m.SetOwners(Owners{Flows: map[string]string{"f": "i"}, Services: map[string]string{"svc": "i"}, Institutions: []string{"i"}})
	m.Hop("c", "f", "continue", time.Millisecond)
	m.StepReached("f", "s")
	m.Call("svc", "ok", time.Millisecond)
	m.Breaker("svc", 0)
	m.Notification("i", "accepted")
	m.Gauge("sessions_stored", "x", func() float64 { return 0 })
	m.Gauge("outbound_queue_depth", "x", func() float64 { return 0 })
	m.Gauge("audit_dropped_total", "x", func() float64 { return 0 })
	m.StoreBreaker("sessions", 0)
	m.NewSessions(func() []Admitted { return []Admitted{{Origin: "c"}} }, 1)
	// The indicators' counters go to the same registry, as serve has it.
	c := indicators.NewCounter(indicators.NewMemory(), indicators.Options{Registerer: m.Registry, Interval: time.Hour})
	defer c.Close()
	d := indicators.Dims{Flow: "f", Institution: "i", Channel: "ussd", Carrier: "c", Locale: "es"}
	c.Started(d)
	c.Ended(d, indicators.End{Completed: true, Hops: 3})
	c.Rated(d, 5)
	c.Reminder(d, indicators.ReminderSent)
	families, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{}
	// perInstitution: the metrics that carry the institution label.
	perInstitution := map[string]bool{}
	for _, f := range families {
		known[f.GetName()] = true
		for _, mt := range f.GetMetric() {
			for _, l := range mt.GetLabel() {
				if l.GetName() == "institution" {
					perInstitution[f.GetName()] = true
				}
			}
		}
	}
	if len(perInstitution) == 0 {
		t.Fatal("no metric carries the institution label")
	}
	selector := false
	for _, v := range dash.Templating.List {
		if v.Name == "institution" {
			selector = strings.Contains(v.Query, "institution)")
			for _, name := range metricName.FindAllString(v.Query, -1) {
				if !perInstitution[name] {
					t.Errorf("the institution selector reads %s, which has no institution label", name)
				}
			}
		}
	}
	if !selector {
		t.Error("the dashboard has no institution selector listing the label's values")
	}
	if len(dash.Panels) == 0 {
		t.Fatal("no panels")
	}
	for _, p := range dash.Panels {
		for _, tg := range p.Targets {
			for _, name := range metricName.FindAllString(tg.Expr, -1) {
				name = strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(name, "_bucket"), "_count"), "_sum")
				if !known[name] {
					t.Errorf("panel %q queries %s, which the gateway does not export", p.Title, name)
				}
				if perInstitution[name] && !filtered(tg.Expr, name) {
					t.Errorf("panel %q queries %s without filtering on $institution: %s", p.Title, name, tg.Expr)
				}
			}
		}
	}
}

// filtered reports whether every use of metric in expr (its suffixed
// series included) selects institution=~"$institution".
func filtered(expr, metric string) bool {
	uses := regexp.MustCompile(regexp.QuoteMeta(metric)+`(_bucket|_count|_sum)?(\{[^}]*\})?`).FindAllStringSubmatch(expr, -1)
	for _, u := range uses {
		if !strings.Contains(u[2], `institution=~"$institution"`) {
			return false
		}
	}
	return len(uses) > 0
}
