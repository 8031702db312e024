package metrics

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestExposition(t *testing.T) {
	m := New()
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
		`ventanilla_hops_total{carrier="africastalking",flow="turnos",outcome="continue"} 1`,
		`ventanilla_hop_duration_seconds_bucket{carrier="africastalking",le="0.0025"} 1`,
		`ventanilla_flow_steps_total{event="reached",flow="turnos",step="menu"} 1`,
		`ventanilla_flow_steps_total{event="abandoned",flow="turnos",step="book_cedula"} 1`,
		`ventanilla_backend_calls_total{outcome="ok",service="turnos.offices"} 1`,
		`ventanilla_backend_breaker_state{service="turnos.offices"} 2`,
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

func BenchmarkHop(b *testing.B) {
	m := New()
	b.ReportAllocs()
	for range b.N {
		m.Hop("africastalking", "turnos", "continue", time.Millisecond)
		m.StepReached("turnos", "menu")
		m.StepCompleted("turnos", "menu")
	}
}
