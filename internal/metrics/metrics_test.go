package metrics

import (
	"io"
	"maps"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestExposition(t *testing.T) {
	m := New()
	m.SetOwners(Owners{Flows: map[string]string{"turnos": "ventanilla"}, Services: map[string]string{"turnos.offices": "ventanilla"}})
	m.Hop("africastalking", "turnos", "continue", 2*time.Millisecond)
	m.StepReached("turnos", "menu")
	m.StepCompleted("turnos", "menu")
	m.Abandoned("turnos", "book_cedula")
	m.Call("turnos.offices", "ok", 30*time.Millisecond)
	m.Breaker("turnos.offices", 2)
	m.StoreBreaker("sessions", 2)
	m.Gauge("sessions_active", "Conversations in the store.", func() float64 { return 7 })
	m.NewSessions(func() []Admitted {
		return []Admitted{{Origin: "africastalking", New: 40, Evicted: 3}}
	}, 100)

	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	out := string(body)
	for _, want := range []string{
		`ventanilla_hops_total{carrier="africastalking",flow="turnos",institution="ventanilla",outcome="continue"} 1`,
		`ventanilla_hop_duration_seconds_bucket{carrier="africastalking",institution="ventanilla",le="0.0025"} 1`,
		`ventanilla_flow_steps_total{event="reached",flow="turnos",institution="ventanilla",step="menu"} 1`,
		`ventanilla_flow_steps_total{event="abandoned",flow="turnos",institution="ventanilla",step="book_cedula"} 1`,
		`ventanilla_backend_calls_total{institution="ventanilla",outcome="ok",service="turnos.offices"} 1`,
		`ventanilla_backend_breaker_state{institution="ventanilla",service="turnos.offices"} 2`,
		`ventanilla_store_breaker_state{store="sessions"} 2`,
		`ventanilla_sessions_active 7`,
		`ventanilla_sessions_new{carrier="africastalking"} 40`,
		`ventanilla_sessions_new_limit{carrier="africastalking"} 100`,
		`ventanilla_sessions_new_evicted_total{carrier="africastalking"} 3`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("exposition lacks %s", want)
		}
	}
	for _, line := range strings.Split(out, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if !strings.HasPrefix(line, "ventanilla_") && !strings.HasPrefix(line, "go_") && !strings.HasPrefix(line, "process_") && !strings.HasPrefix(line, "promhttp_") {
			t.Errorf("metric without the ventanilla_ prefix: %s", line)
		}
	}
}

// A hop, a step and a call of an institution's flow count under that
// institution; the label's values are the loaded owners' and Unowned,
// whatever flow or service id reaches the observer (a flow id made up
// from a request's text included), and a reload's owners take over.
func TestInstitutionLabel(t *testing.T) {
	m := New()
	m.SetOwners(Owners{
		Flows:        map[string]string{"transito-multas": "transito", "inicio": "ventanilla"},
		Services:     map[string]string{"transito.multas": "transito"},
		Institutions: []string{"transito", "ventanilla"},
	})
	m.Notification("transito", "accepted")
	m.Notification("registro-civil", "refused") // a token's institution without a package
	m.Notification("", "unauthorized")
	m.Callback("transito", "attempted")
	m.Callback("transito", "delivered")
	m.Callback("registro-civil", "failed")
	m.Hop("africastalking", "transito-multas", "continue", time.Millisecond)
	m.StepCompleted("transito-multas", "placa")
	m.Call("transito.multas", "ok", time.Millisecond)
	// Ids no loaded package declares, shaped like an institution's.
	m.Hop("africastalking", "registro-civil", "failure", time.Millisecond)
	m.Hop("africastalking", "transito", "continue", time.Millisecond)
	m.StepReached(`x"} 1`, "s")
	m.Call("registro.cedula", "error", time.Millisecond)
	m.Breaker("otro.servicio", 2)

	out := scrape(t, m)
	for _, want := range []string{
		`ventanilla_hops_total{carrier="africastalking",flow="transito-multas",institution="transito",outcome="continue"} 1`,
		`ventanilla_hop_duration_seconds_count{carrier="africastalking",institution="transito"} 1`,
		`ventanilla_flow_steps_total{event="completed",flow="transito-multas",institution="transito",step="placa"} 1`,
		`ventanilla_backend_calls_total{institution="transito",outcome="ok",service="transito.multas"} 1`,
		`ventanilla_hops_total{carrier="africastalking",flow="registro-civil",institution="none",outcome="failure"} 1`,
		`ventanilla_hops_total{carrier="africastalking",flow="transito",institution="none",outcome="continue"} 1`,
		`ventanilla_backend_calls_total{institution="none",outcome="error",service="registro.cedula"} 1`,
		`ventanilla_backend_breaker_state{institution="none",service="otro.servicio"} 2`,
		`ventanilla_notifications_total{institution="transito",outcome="accepted"} 1`,
		`ventanilla_notifications_total{institution="none",outcome="refused"} 1`,
		`ventanilla_notifications_total{institution="none",outcome="unauthorized"} 1`,
		`ventanilla_callbacks_total{institution="transito",outcome="attempted"} 1`,
		`ventanilla_callbacks_total{institution="transito",outcome="delivered"} 1`,
		`ventanilla_callbacks_total{institution="none",outcome="failed"} 1`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("exposition lacks %s", want)
		}
	}
	if got := institutions(t, m); strings.Join(got, ",") != "none,transito" {
		t.Errorf("institution label values %v, want only the owners' and none", got)
	}

	// A reload that drops transito: its flows count as none from then on.
	m.SetOwners(Owners{Flows: map[string]string{"inicio": "ventanilla"}})
	m.Hop("africastalking", "transito-multas", "continue", time.Millisecond)
	if out := scrape(t, m); !strings.Contains(out, `ventanilla_hops_total{carrier="africastalking",flow="transito-multas",institution="none",outcome="continue"} 1`) {
		t.Errorf("after the reload the hop is not counted under none:\n%s", out)
	}
}

func scrape(t *testing.T, m *Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	return rec.Body.String()
}

// institutions lists the values the institution label takes, sorted.
func institutions(t *testing.T, m *Metrics) []string {
	t.Helper()
	families, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, f := range families {
		for _, mt := range f.GetMetric() {
			for _, l := range mt.GetLabel() {
				if l.GetName() == "institution" {
					seen[l.GetValue()] = true
				}
			}
		}
	}
	return slices.Sorted(maps.Keys(seen))
}

func BenchmarkHop(b *testing.B) {
	m := New()
	m.SetOwners(Owners{Flows: map[string]string{"turnos": "ventanilla"}})
	b.ReportAllocs()
	for range b.N {
		m.Hop("africastalking", "turnos", "continue", time.Millisecond)
		m.StepReached("turnos", "menu")
		m.StepCompleted("turnos", "menu")
	}
}
