// Package channelstest builds the real gateway for carriers' and
// channels' tests: the catalogue's flows, the system messages, a fixed
// clock, and a back-end that answers the turnos services as the sample
// institution does. It is for tests only.
package channelstest

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/ventanilla-gob/ventanilla/interop/flowcall"

	"github.com/ventanilla-gob/ventanilla/channels/ussd"
	"github.com/ventanilla-gob/ventanilla/flows"
	"github.com/ventanilla-gob/ventanilla/flows/catalogue"
	"github.com/ventanilla-gob/ventanilla/i18n"
	"github.com/ventanilla-gob/ventanilla/internal/gateway"
	"github.com/ventanilla-gob/ventanilla/interop"
	"github.com/ventanilla-gob/ventanilla/sessions"
)

// Now is the gateway's clock in tests: 2026-11-23 09:00 UTC.
func Now() time.Time { return time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC) }

// Backend answers the turnos services with what the sample back-end
// (interop/sample) returns, and every other service as unavailable.
type Backend struct{}

// Call implements flowcall.Backend.
func (Backend) Call(_ context.Context, service string, _ map[string]any) interop.Response {
	body := map[string]string{
		"turnos.offices": `[{"id":"quito-norte","name":"Quito Norte","city":"Quito"},{"id":"cuenca","name":"Cuenca","city":"Cuenca"}]`,
		"turnos.slots":   `[{"id":"2026-11-24T09:00","date":"2026-11-24","time":"09:00"},{"id":"2026-11-24T09:30","date":"2026-11-24","time":"09:30"}]`,
		"turnos.book":    `{"code":"T-4F7K2","office":"quito-norte","office_name":"Quito Norte","date":"2026-11-24","time":"09:00","status":"active"}`,
	}[service]
	if body == "" {
		return interop.Response{Outcome: interop.Unavailable}
	}
	return interop.Response{Outcome: interop.OK, Status: http.StatusOK, Body: []byte(body)}
}

// Gateway is the real gateway with the real catalogue on store (a fresh
// memory store when nil), calling caller (Backend when nil).
func Gateway(t testing.TB, store sessions.Store, caller flowcall.Backend) *gateway.Gateway {
	t.Helper()
	msgs, err := i18n.Load()
	if err != nil {
		t.Fatal(err)
	}
	measure := func(s *flows.Screen) int { return len([]rune(ussd.Paginate(s, 1<<20)[0])) }
	reg, ps := flows.Load(catalogue.Sources(), flows.Env{Messages: msgs, Measure: measure})
	if ps.HasErrors() {
		t.Fatal(ps)
	}
	if store == nil {
		store = sessions.NewMemory(sessions.MemoryOptions{})
	}
	if caller == nil {
		caller = Backend{}
	}
	engine := &flows.Engine{
		Flows:    func() *flows.Registry { return reg },
		Messages: msgs,
		Caller:   flowcall.Caller(caller),
		Now:      Now,
		Nav:      flows.DefaultNav,
		Root:     "inicio",
	}
	return &gateway.Gateway{Engine: engine, Store: store, Now: Now}
}
